//! The task board: one row per interview task, for seats, supervisors and admins.

use cqrs_es::DomainEvent as _;
use domain::interview_task::{InterviewOutcome, InterviewTaskEvent, TaskStatus, AGGREGATE_TYPE};
use domain::log::StoredEvent;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::runner::Projection;
use domain::log::rfc3339;
use store::worker::{bad_event, WorkerError};

/// Projection name in checkpoints and `facesign replay --projection`.
pub const NAME: &str = "task_board";

/// The task board projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct TaskBoard;

/// One row of the board, unmasked; the API masks personal data per role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct TaskBoardRow {
    /// Task id.
    pub task_id: String,
    /// Loan contract number.
    pub contract_no: String,
    /// Task kind (stored name).
    pub kind: String,
    /// Status (stored name).
    pub status: String,
    /// Product code.
    pub product_code: String,
    /// Channel code.
    pub channel_code: String,
    /// Account manager staff no.
    pub manager_id: String,
    /// Main borrower's name.
    pub borrower_name: String,
    /// Main borrower's ID number.
    pub borrower_id_number: String,
    /// Main borrower's phone.
    pub borrower_phone: String,
    /// Participants as JSON (`[Participant]`).
    pub participants: String,
    /// Required steps as JSON (`[TaskStep]`).
    pub required_steps: String,
    /// Why it was cancelled, if it was.
    pub cancel_reason: Option<String>,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 time of the last event.
    pub updated_at: String,
    /// Global position of the creating event: the board's stable sort key and cursor.
    pub created_position: i64,
    /// Sequence of the last event applied.
    pub last_sequence: i64,
    /// Seat of the current appointment.
    pub seat_no: Option<String>,
    /// RFC 3339 start of the current appointment.
    pub appointment_start: Option<String>,
    /// RFC 3339 end of the current appointment.
    pub appointment_end: Option<String>,
    /// Reschedules used.
    pub reschedule_count: i64,
    /// Id of the latest appointment request.
    pub booking_id: Option<String>,
    /// REQUESTED, CONFIRMED or REFUSED.
    pub booking_status: Option<String>,
    /// Error code of a refused request.
    pub booking_error_code: Option<String>,
    /// Why a request was refused.
    pub booking_error: Option<String>,
    /// The seat that connected the interview (000: it holds the task while in
    /// progress); cleared when it puts the task back.
    pub interview_seat: Option<String>,
    /// 房屋属地: province.
    pub property_province: Option<String>,
    /// City.
    pub property_city: Option<String>,
    /// District.
    pub property_district: Option<String>,
    /// 详细地址.
    pub property_address: Option<String>,
}

const COLUMNS: &str = "task_id, contract_no, kind, status, product_code, channel_code, manager_id,
    borrower_name, borrower_id_number, borrower_phone, participants, required_steps,
    cancel_reason, created_at, updated_at, created_position, last_sequence, seat_no,
    appointment_start, appointment_end, reschedule_count, booking_id, booking_status,
    booking_error_code, booking_error, interview_seat, property_province, property_city,
    property_district, property_address";

async fn set_status(
    conn: &mut AnyConnection,
    event: &StoredEvent,
    status: TaskStatus,
    updated_at: &str,
) -> Result<(), WorkerError> {
    sqlx::query(
        "UPDATE task_board SET status = $1, updated_at = $2, last_sequence = $3 WHERE task_id = $4",
    )
    .bind(status.as_str())
    .bind(updated_at)
    .bind(event.sequence)
    .bind(&event.aggregate_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn set_interview_seat(
    conn: &mut AnyConnection,
    event: &StoredEvent,
    seat_no: Option<&str>,
) -> Result<(), WorkerError> {
    sqlx::query("UPDATE task_board SET interview_seat = $1 WHERE task_id = $2")
        .bind(seat_no)
        .bind(&event.aggregate_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Projection for TaskBoard {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn snapshot(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        Ok(crate::runner::lines(Self::all_rows(pool).await?))
    }

    fn tables(&self) -> &'static [&'static str] {
        &["task_board", "task_participants"]
    }

    fn reads(&self, event: &StoredEvent) -> bool {
        [AGGREGATE_TYPE].contains(&event.aggregate_type.as_str())
    }

    /// Runs of creations (most of a rebuild, and of a busy day) go in one
    /// multi-row INSERT; everything else is applied in order between them.
    async fn apply_batch(
        &self,
        conn: &mut AnyConnection,
        events: &[&StoredEvent],
    ) -> Result<(), WorkerError> {
        let mut created = Vec::new();
        for event in events {
            if event.event_type == "InterviewTaskCreated" && event.aggregate_type == AGGREGATE_TYPE
            {
                let decoded: InterviewTaskEvent = serde_json::from_value(event.payload.clone())
                    .map_err(|e| bad_event(event, e))?;
                if let InterviewTaskEvent::InterviewTaskCreated(task) = decoded {
                    created.push(created_row(event, &task)?);
                    continue;
                }
                return Err(bad_event(event, "payload does not match its event_type"));
            }
            for rows in created.chunks(INSERT_ROWS) {
                insert_created(conn, rows).await?;
            }
            created.clear();
            self.apply(conn, event).await?;
        }
        for rows in created.chunks(INSERT_ROWS) {
            insert_created(conn, rows).await?;
        }
        Ok(())
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), WorkerError> {
        if event.aggregate_type != AGGREGATE_TYPE {
            return Ok(());
        }
        let decoded: InterviewTaskEvent =
            serde_json::from_value(event.payload.clone()).map_err(|e| bad_event(event, e))?;
        if decoded.event_type() != event.event_type {
            return Err(bad_event(event, "payload does not match its event_type"));
        }
        let updated_at = rfc3339(event.metadata.recorded_at);
        match decoded {
            InterviewTaskEvent::InterviewTaskCreated(created) => {
                insert_created(conn, &[created_row(event, &created)?]).await?;
            }
            InterviewTaskEvent::InterviewTaskCancelled(cancelled) => {
                sqlx::query(
                    "UPDATE task_board SET status = $1, cancel_reason = $2, updated_at = $3, last_sequence = $4
                      WHERE task_id = $5",
                )
                .bind(TaskStatus::Cancelled.as_str())
                .bind(&cancelled.reason)
                .bind(&updated_at)
                .bind(event.sequence)
                .bind(&event.aggregate_id)
                .execute(&mut *conn)
                .await?;
            }
            InterviewTaskEvent::AppointmentRequested(requested) => {
                sqlx::query(
                    "UPDATE task_board SET booking_id = $1, booking_status = 'REQUESTED',
                            booking_error_code = NULL, booking_error = NULL, updated_at = $2, last_sequence = $3
                      WHERE task_id = $4",
                )
                .bind(requested.booking_id.to_string())
                .bind(&updated_at)
                .bind(event.sequence)
                .bind(&event.aggregate_id)
                .execute(&mut *conn)
                .await?;
            }
            InterviewTaskEvent::AppointmentConfirmed(confirmed) => {
                sqlx::query(
                    "UPDATE task_board SET status = $1, seat_no = $2, appointment_start = $3,
                            appointment_end = $4, reschedule_count = $5, booking_status = 'CONFIRMED',
                            updated_at = $6, last_sequence = $7
                      WHERE task_id = $8",
                )
                .bind(TaskStatus::Pending.as_str())
                .bind(&confirmed.seat_no)
                .bind(rfc3339(confirmed.slot.start))
                .bind(rfc3339(confirmed.slot.end))
                .bind(i64::from(confirmed.reschedule_count))
                .bind(&updated_at)
                .bind(event.sequence)
                .bind(&event.aggregate_id)
                .execute(&mut *conn)
                .await?;
            }
            InterviewTaskEvent::AppointmentRefused(refused) => {
                sqlx::query(
                    "UPDATE task_board SET booking_status = 'REFUSED', booking_error_code = $1,
                            booking_error = $2, updated_at = $3, last_sequence = $4
                      WHERE task_id = $5",
                )
                .bind(refused.code.as_str())
                .bind(&refused.reason)
                .bind(&updated_at)
                .bind(event.sequence)
                .bind(&event.aggregate_id)
                .execute(&mut *conn)
                .await?;
            }
            InterviewTaskEvent::AppointmentExpired { .. } => {
                set_status(conn, event, TaskStatus::Expired, &updated_at).await?;
            }
            InterviewTaskEvent::InterviewStarted { seat_no, .. } => {
                set_status(conn, event, TaskStatus::InProgress, &updated_at).await?;
                set_interview_seat(conn, event, Some(&seat_no)).await?;
            }
            InterviewTaskEvent::InterviewPutBack { .. } => {
                set_status(conn, event, TaskStatus::Pending, &updated_at).await?;
                set_interview_seat(conn, event, None).await?;
            }
            InterviewTaskEvent::InterviewConcluded { outcome, .. } => {
                let status = match outcome {
                    InterviewOutcome::Pass => TaskStatus::Passed,
                    InterviewOutcome::Doubtful => TaskStatus::PendingQc,
                };
                set_status(conn, event, status, &updated_at).await?;
            }
            InterviewTaskEvent::QcPassed { .. } => {
                set_status(conn, event, TaskStatus::Passed, &updated_at).await?;
            }
            InterviewTaskEvent::InterviewTaskSuperseded { .. } => {
                set_status(conn, event, TaskStatus::Superseded, &updated_at).await?;
            }
            InterviewTaskEvent::QcRejected { .. } => {
                set_status(conn, event, TaskStatus::Rejected, &updated_at).await?;
            }
            InterviewTaskEvent::Session(_) => {
                sqlx::query(
                    "UPDATE task_board SET updated_at = $1, last_sequence = $2 WHERE task_id = $3",
                )
                .bind(&updated_at)
                .bind(event.sequence)
                .bind(&event.aggregate_id)
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(())
    }
}

/// Filters of the board query.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Only tasks in this status.
    pub status: Option<TaskStatus>,
    /// Only tasks of this contract.
    pub contract_no: Option<String>,
    /// Only tasks booked with this seat.
    pub seat_no: Option<String>,
    /// Only tasks of this product.
    pub product_code: Option<String>,
    /// Only tasks of this channel.
    pub channel_code: Option<String>,
    /// Only appointments starting at or after this RFC 3339 instant.
    pub from: Option<String>,
    /// Only appointments starting before this RFC 3339 instant.
    pub to: Option<String>,
    /// Only tasks this account manager manages (000 J010).
    pub manager_id: Option<String>,
    /// Only tasks this seat reaches: booked on it, connected by it, or with a
    /// call offered to or answered by it.
    pub seat_reach: Option<String>,
    /// Only tasks this person (ID number) is a participant of: a customer's own.
    pub participant: Option<String>,
    /// Only tasks whose main borrower has this name (客户姓名).
    pub borrower_name: Option<String>,
    /// Only properties in this province (房屋属地省).
    pub province: Option<String>,
    /// … this city.
    pub city: Option<String>,
    /// … this district.
    pub district: Option<String>,
}

/// Rows per INSERT of created tasks (17 values each, far under either
/// backend's limit on bound parameters).
const INSERT_ROWS: usize = 200;

/// A created task's row: its text columns in the order of
/// [`CREATED_COLUMNS`], then its position and sequence.
struct CreatedRow {
    texts: [Option<String>; 19],
    participant_ids: Vec<String>,
    created_position: i64,
    last_sequence: i64,
}

const CREATED_COLUMNS: &str = "task_id, contract_no, kind, status, product_code, channel_code,
    manager_id, borrower_name, borrower_id_number, borrower_phone, participants, required_steps,
    cancel_reason, created_at, updated_at, property_province, property_city, property_district,
    property_address, created_position, last_sequence";

fn created_row(
    event: &StoredEvent,
    created: &domain::interview_task::InterviewTaskCreated,
) -> Result<CreatedRow, WorkerError> {
    let borrower = created
        .participants
        .iter()
        .find(|p| p.is_main_borrower())
        .ok_or_else(|| bad_event(event, "no main borrower"))?;
    let place = created.property_location.as_deref();
    Ok(CreatedRow {
        texts: [
            Some(event.aggregate_id.clone()),
            Some(created.contract_no.clone()),
            Some(domain::wire_name(&created.kind)),
            Some(TaskStatus::Pending.as_str().to_string()),
            Some(created.product_code.clone()),
            Some(created.channel_code.clone()),
            Some(created.manager_id.clone()),
            Some(borrower.name.clone()),
            Some(borrower.id_number.clone()),
            Some(borrower.phone.clone()),
            Some(serde_json::to_string(&created.participants).map_err(|e| bad_event(event, e))?),
            Some(serde_json::to_string(&created.required_steps).map_err(|e| bad_event(event, e))?),
            None,
            Some(rfc3339(created.created_at)),
            Some(rfc3339(event.metadata.recorded_at)),
            place.map(|p| p.province.clone()),
            place.map(|p| p.city.clone()),
            place.map(|p| p.district.clone()),
            place.and_then(|p| p.address.clone()),
        ],
        participant_ids: created
            .participants
            .iter()
            .map(|p| p.id_number.clone())
            .collect(),
        created_position: event.position.global_position,
        last_sequence: event.sequence,
    })
}

async fn insert_created(conn: &mut AnyConnection, rows: &[CreatedRow]) -> Result<(), sqlx::Error> {
    const WIDTH: usize = 21;
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO task_board ({CREATED_COLUMNS}) VALUES {}",
        crate::runner::values_list(rows.len(), WIDTH)
    );
    let mut query = sqlx::query(&sql);
    for row in rows {
        for value in &row.texts {
            query = query.bind(value.clone());
        }
        query = query.bind(row.created_position).bind(row.last_sequence);
    }
    query.execute(&mut *conn).await?;
    let people: Vec<(&str, &str)> = rows
        .iter()
        .flat_map(|row| {
            let task_id = row.texts[0].as_deref().unwrap_or_default();
            row.participant_ids
                .iter()
                .map(move |id| (id.as_str(), task_id))
        })
        .collect();
    for chunk in people.chunks(INSERT_ROWS) {
        let sql = format!(
            "INSERT INTO task_participants (id_number, task_id) VALUES {} ON CONFLICT DO NOTHING",
            crate::runner::values_list(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (id, task) in chunk {
            query = query.bind(*id).bind(*task);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A value bound to a search.
enum Bind {
    Text(String),
    Number(i64),
}

/// The search of `filter`: its SQL, newest first, at most `limit` rows
/// created before `before_position`, and what it binds, in order.
fn search(filter: &TaskFilter, before_position: Option<i64>, limit: i64) -> (String, Vec<Bind>) {
    // Placeholders are numbered in the order they appear: SQLite binds `$n`
    // by order of appearance, Postgres by number, and this keeps both right.
    let mut sql = format!("SELECT {COLUMNS} FROM task_board WHERE 1 = 1");
    let mut binds = Vec::new();
    let mut bind = |sql: &mut String, template: &str, value: Bind| {
        binds.push(value);
        sql.push_str(&template.replace("$?", &format!("${}", binds.len())));
    };
    let conditions: [(&str, Option<String>); 13] = [
        (
            " AND status = $?",
            filter.status.map(|s| s.as_str().to_string()),
        ),
        (" AND contract_no = $?", filter.contract_no.clone()),
        (" AND seat_no = $?", filter.seat_no.clone()),
        (" AND product_code = $?", filter.product_code.clone()),
        (" AND channel_code = $?", filter.channel_code.clone()),
        (" AND appointment_start >= $?", filter.from.clone()),
        (" AND appointment_start < $?", filter.to.clone()),
        (" AND manager_id = $?", filter.manager_id.clone()),
        (
            " AND task_id IN (SELECT task_id FROM task_participants WHERE id_number = $?)",
            filter.participant.clone(),
        ),
        (" AND borrower_name = $?", filter.borrower_name.clone()),
        (" AND property_province = $?", filter.province.clone()),
        (" AND property_city = $?", filter.city.clone()),
        (" AND property_district = $?", filter.district.clone()),
    ];
    for (condition, value) in conditions {
        if let Some(value) = value {
            bind(&mut sql, condition, Bind::Text(value));
        }
    }
    if let Some(seat) = &filter.seat_reach {
        // A union rather than ORs, so that each way of reaching a task is
        // looked up by its own index.
        bind(
            &mut sql,
            " AND task_id IN (SELECT task_id FROM task_board WHERE seat_no = $?",
            Bind::Text(seat.clone()),
        );
        bind(
            &mut sql,
            " UNION SELECT task_id FROM task_board WHERE interview_seat = $?",
            Bind::Text(seat.clone()),
        );
        bind(
            &mut sql,
            " UNION SELECT task_id FROM inbound_calls WHERE seat_no = $?
                 AND status IN ('DISPATCHED', 'ANSWERED', 'ENDED'))",
            Bind::Text(seat.clone()),
        );
    }
    if let Some(before) = before_position {
        bind(&mut sql, " AND created_position < $?", Bind::Number(before));
    }
    bind(
        &mut sql,
        " ORDER BY created_position DESC LIMIT $?",
        Bind::Number(limit),
    );
    (sql, binds)
}

/// One page of the board, newest first.
#[derive(Debug, Clone)]
pub struct TaskPage {
    /// Rows of this page.
    pub rows: Vec<TaskBoardRow>,
    /// Whether older rows follow.
    pub has_next_page: bool,
}

impl TaskBoard {
    /// One task by id.
    pub async fn get(pool: &AnyPool, task_id: &str) -> Result<Option<TaskBoardRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM task_board WHERE task_id = $1"
        ))
        .bind(task_id)
        .fetch_optional(pool)
        .await
    }

    /// Up to `first` tasks created before the cursor `before_position`, newest first.
    pub async fn page(
        pool: &AnyPool,
        filter: &TaskFilter,
        before_position: Option<i64>,
        first: i64,
    ) -> Result<TaskPage, sqlx::Error> {
        let (sql, binds) = search(filter, before_position, first + 1);
        let mut query = sqlx::query_as::<_, TaskBoardRow>(&sql);
        for value in binds {
            query = match value {
                Bind::Text(text) => query.bind(text),
                Bind::Number(number) => query.bind(number),
            };
        }
        let mut rows = query.fetch_all(pool).await?;
        let has_next_page = rows.len() as i64 > first;
        rows.truncate(first.max(0) as usize);
        Ok(TaskPage {
            rows,
            has_next_page,
        })
    }

    /// The database's plan for the first page of `filter` (`EXPLAIN`, one line
    /// per row), so benchmarks and tests can check that an index serves it.
    pub async fn plan(
        conn: &mut sqlx::AnyConnection,
        filter: &TaskFilter,
    ) -> Result<String, sqlx::Error> {
        let (sql, binds) = search(filter, None, 21);
        let explain = if conn.backend_name() == "PostgreSQL" {
            format!("EXPLAIN {sql}")
        } else {
            format!("EXPLAIN QUERY PLAN {sql}")
        };
        let mut query = sqlx::query(&explain);
        for value in binds {
            query = match value {
                Bind::Text(text) => query.bind(text),
                Bind::Number(number) => query.bind(number),
            };
        }
        let rows = query.fetch_all(&mut *conn).await?;
        // Postgres answers one text column; SQLite (id, parent, notused, detail).
        Ok(rows
            .iter()
            .map(|row| {
                use sqlx::Row;
                let last = row.len().saturating_sub(1);
                row.try_get::<String, _>(last).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n"))
    }

    /// Every row ordered by task id: what a rebuild must reproduce exactly.
    pub async fn all_rows(pool: &AnyPool) -> Result<Vec<TaskBoardRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM task_board ORDER BY task_id"
        ))
        .fetch_all(pool)
        .await
    }
}
