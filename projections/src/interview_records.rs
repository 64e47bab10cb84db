//! Records of interviews: the QC queue, call records, daily statistics and the
//! task detail document (steps, snapshots, documents, chat, remarks, recordings,
//! loan information).

use chrono::{DateTime, Utc};
use domain::interview_task::session::SessionEvent;
use domain::interview_task::{InterviewOutcome, InterviewTaskEvent};
use domain::log::StoredEvent;
use domain::qc_case::QcCaseEvent;
use domain::schedule::shanghai;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::runner::Projection;
use domain::log::rfc3339;
use store::worker::{bad_event, WorkerError};

/// Projection name in checkpoints and `facesign replay --projection`.
pub const NAME: &str = "interview_records";

/// The interview records projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct InterviewRecords;

/// One QC case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct QcCaseRow {
    /// Case id.
    pub case_id: String,
    /// Task id.
    pub task_id: String,
    /// Loan contract.
    pub contract_no: String,
    /// Seat that concluded.
    pub seat_no: String,
    /// DOUBTFUL or SAMPLED_PASS.
    pub origin: String,
    /// OPEN, CLAIMED or DECIDED.
    pub status: String,
    /// Reviewer holding or having decided it.
    pub reviewer: Option<String>,
    /// 1 passed, 0 rejected, null undecided.
    pub passed: Option<i64>,
    /// JSON array of reason codes.
    pub reasons: String,
    /// Text of OTHER.
    pub other_text: Option<String>,
    /// Comment.
    pub comment: Option<String>,
    /// RFC 3339.
    pub opened_at: String,
    /// RFC 3339.
    pub decided_at: Option<String>,
    /// Queue order.
    pub opened_position: i64,
}

/// One call record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct CallRecordRow {
    /// Task id.
    pub task_id: String,
    /// Serial on the task.
    pub call_no: i64,
    /// Seat no.
    pub seat_no: String,
    /// NORMAL or ABNORMAL_*.
    pub end_kind: String,
    /// RFC 3339.
    pub queued_at: String,
    /// RFC 3339.
    pub answered_at: String,
    /// RFC 3339.
    pub ended_at: String,
    /// 排队时长.
    pub queue_seconds: i64,
    /// 通话时长.
    pub talk_seconds: i64,
}

/// Counters of one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct DailyRow {
    /// YYYY-MM-DD (Asia/Shanghai).
    pub day: String,
    /// Tasks created.
    pub tasks_created: i64,
    /// 通过 by the seat, plus QC passes of 存疑.
    pub passed: i64,
    /// 存疑 conclusions.
    pub doubtful: i64,
    /// QC rejects.
    pub rejected: i64,
    /// Calls ended.
    pub calls: i64,
    /// Sum of queue seconds.
    pub queue_seconds: i64,
    /// Sum of talk seconds.
    pub talk_seconds: i64,
}

#[derive(Default)]
struct Counts {
    created: i64,
    passed: i64,
    doubtful: i64,
    rejected: i64,
    calls: i64,
    queue: i64,
    talk: i64,
}

async fn count(conn: &mut AnyConnection, at: DateTime<Utc>, c: Counts) -> Result<(), WorkerError> {
    let day = at.with_timezone(&shanghai()).format("%Y-%m-%d").to_string();
    sqlx::query(
        "INSERT INTO daily_statistics (day, tasks_created, passed, doubtful, rejected, calls, queue_seconds, talk_seconds)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (day) DO UPDATE SET
           tasks_created = daily_statistics.tasks_created + excluded.tasks_created,
           passed = daily_statistics.passed + excluded.passed,
           doubtful = daily_statistics.doubtful + excluded.doubtful,
           rejected = daily_statistics.rejected + excluded.rejected,
           calls = daily_statistics.calls + excluded.calls,
           queue_seconds = daily_statistics.queue_seconds + excluded.queue_seconds,
           talk_seconds = daily_statistics.talk_seconds + excluded.talk_seconds",
    )
    .bind(day)
    .bind(c.created)
    .bind(c.passed)
    .bind(c.doubtful)
    .bind(c.rejected)
    .bind(c.calls)
    .bind(c.queue)
    .bind(c.talk)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Appends `entry` to the list `key` of the task's detail document.
async fn detail(
    conn: &mut AnyConnection,
    task_id: &str,
    update: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> Result<(), WorkerError> {
    let current: Option<(String,)> =
        sqlx::query_as("SELECT document FROM task_details WHERE task_id = $1")
            .bind(task_id)
            .fetch_optional(&mut *conn)
            .await?;
    let mut document = current
        .and_then(|(text,)| serde_json::from_str::<Value>(&text).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    update(&mut document);
    sqlx::query(
        "INSERT INTO task_details (task_id, document) VALUES ($1, $2)
         ON CONFLICT (task_id) DO UPDATE SET document = excluded.document",
    )
    .bind(task_id)
    .bind(Value::Object(document).to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn push(document: &mut serde_json::Map<String, Value>, key: &str, entry: Value) {
    match document.entry(key).or_insert_with(|| json!([])) {
        Value::Array(items) => items.push(entry),
        other => *other = json!([entry]),
    }
}

impl InterviewRecords {
    async fn on_task(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), WorkerError> {
        let decoded: InterviewTaskEvent =
            serde_json::from_value(event.payload.clone()).map_err(|e| bad_event(event, e))?;
        let at = event.metadata.recorded_at;
        let when = rfc3339(at);
        let task_id = event.aggregate_id.as_str();
        match decoded {
            InterviewTaskEvent::InterviewTaskCreated(created) => {
                count(
                    conn,
                    at,
                    Counts {
                        created: 1,
                        ..Counts::default()
                    },
                )
                .await?;
                let steps = created.required_steps.clone();
                // The credit system's figures, shown to the seat (001 §2.3.1.1 item 14).
                let loan_info = created.loan_info.map(|info| json!(info));
                detail(conn, task_id, |d| {
                    d.insert("requiredSteps".into(), json!(steps));
                    if let Some(info) = loan_info {
                        d.insert("loanInfo".into(), info);
                    }
                })
                .await?;
            }
            InterviewTaskEvent::InterviewConcluded {
                outcome,
                sampled_for_qc,
                ..
            } => {
                let (passed, doubtful) = match outcome {
                    InterviewOutcome::Pass => (1, 0),
                    InterviewOutcome::Doubtful => (0, 1),
                };
                count(
                    conn,
                    at,
                    Counts {
                        passed,
                        doubtful,
                        ..Counts::default()
                    },
                )
                .await?;
                detail(conn, task_id, |d| {
                    d.insert(
                        "conclusion".into(),
                        json!({ "outcome": domain::wire_name(&outcome), "sampledForQc": sampled_for_qc, "at": when }),
                    );
                })
                .await?;
            }
            InterviewTaskEvent::QcPassed { was_doubtful, .. } => {
                let passed = i64::from(was_doubtful);
                count(
                    conn,
                    at,
                    Counts {
                        passed,
                        ..Counts::default()
                    },
                )
                .await?;
            }
            InterviewTaskEvent::QcRejected { .. } => {
                count(
                    conn,
                    at,
                    Counts {
                        rejected: 1,
                        ..Counts::default()
                    },
                )
                .await?;
            }
            InterviewTaskEvent::Session(session) => {
                self.on_session(conn, task_id, &when, at, session).await?
            }
            _ => {}
        }
        Ok(())
    }

    async fn on_session(
        &self,
        conn: &mut AnyConnection,
        task_id: &str,
        when: &str,
        at: DateTime<Utc>,
        event: SessionEvent,
    ) -> Result<(), WorkerError> {
        if let SessionEvent::CallEnded {
            call_no,
            seat_no,
            end,
            queued_at,
            answered_at,
            ended_at,
            queue_seconds,
            talk_seconds,
            ..
        } = &event
        {
            sqlx::query(
                "INSERT INTO call_records (task_id, call_no, seat_no, end_kind, queued_at, answered_at,
                                           ended_at, queue_seconds, talk_seconds)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(task_id)
            .bind(i64::from(*call_no))
            .bind(seat_no)
            .bind(domain::wire_name(end))
            .bind(rfc3339(*queued_at))
            .bind(rfc3339(*answered_at))
            .bind(rfc3339(*ended_at))
            .bind(*queue_seconds)
            .bind(*talk_seconds)
            .execute(&mut *conn)
            .await?;
            count(
                conn,
                at,
                Counts {
                    calls: 1,
                    queue: *queue_seconds,
                    talk: *talk_seconds,
                    ..Counts::default()
                },
            )
            .await?;
        }
        let kind = event.event_type();
        let mut entry = serde_json::to_value(&event)
            .ok()
            .and_then(|v| v.get(kind).cloned())
            .unwrap_or(Value::Null);
        if let Value::Object(map) = &mut entry {
            map.insert("at".into(), json!(when));
        }
        detail(conn, task_id, move |d| match kind {
            "FieldInvestigationRecorded" => {
                d.insert("fieldInvestigation".into(), entry);
            }
            "IdentityChecked" => push(d, "identityChecks", entry),
            "VideoWitnessRecorded" => push(d, "recordings", entry),
            "InfoEntryRecorded" => {
                d.insert("infoEntry".into(), entry);
            }
            "SnapshotCaptured" => push(d, "snapshots", entry),
            "DocumentPushed" => push(d, "documents", entry),
            "DocumentSigned" => {
                let id = entry["document_id"].clone();
                if let Some(Value::Array(documents)) = d.get_mut("documents") {
                    for document in documents.iter_mut().filter(|doc| doc["document_id"] == id) {
                        document["signed_ref"] = entry["signed_ref"].clone();
                        document["signed_at"] = entry["at"].clone();
                    }
                }
            }
            "ChatMessageSent" => push(d, "chat", entry),
            "VideoTagged" => push(d, "videoTags", entry),
            // Who is in the room is live state (interviewRoom); the legs are
            // recorded with the call when the seat ends it.
            "ParticipantJoined" | "ParticipantLeft" => {}
            "RemarkAdded" => push(d, "remarks", entry),
            "LoanInfoEdited" => {
                d.insert("loanInfo".into(), entry["after"].clone());
                push(d, "loanInfoEdits", entry);
            }
            "LoanInfoConfirmed" => push(d, "loanInfoConfirmations", entry),
            _ => push(d, "calls", entry),
        })
        .await
    }

    async fn on_qc_case(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), WorkerError> {
        let decoded: QcCaseEvent =
            serde_json::from_value(event.payload.clone()).map_err(|e| bad_event(event, e))?;
        let case_id = &event.aggregate_id;
        match decoded {
            QcCaseEvent::QcCaseOpened {
                task_id,
                contract_no,
                seat_no,
                origin,
                opened_at,
            } => {
                sqlx::query(
                    "INSERT INTO qc_cases (case_id, task_id, contract_no, seat_no, origin, status, reasons,
                                           opened_at, opened_position)
                     VALUES ($1, $2, $3, $4, $5, 'OPEN', '[]', $6, $7)",
                )
                .bind(case_id)
                .bind(task_id)
                .bind(contract_no)
                .bind(seat_no)
                .bind(domain::wire_name(&origin))
                .bind(rfc3339(opened_at))
                .bind(event.position.global_position)
                .execute(&mut *conn)
                .await?;
            }
            QcCaseEvent::QcCaseClaimed { reviewer } => {
                sqlx::query(
                    "UPDATE qc_cases SET status = 'CLAIMED', reviewer = $1 WHERE case_id = $2",
                )
                .bind(reviewer)
                .bind(case_id)
                .execute(&mut *conn)
                .await?;
            }
            QcCaseEvent::QcCaseReleased { .. } => {
                sqlx::query(
                    "UPDATE qc_cases SET status = 'OPEN', reviewer = NULL WHERE case_id = $1",
                )
                .bind(case_id)
                .execute(&mut *conn)
                .await?;
            }
            QcCaseEvent::QcCaseDecided {
                passed,
                reasons,
                other_text,
                comment,
                decided_at,
                ..
            } => {
                sqlx::query(
                    "UPDATE qc_cases SET status = 'DECIDED', passed = $1, reasons = $2, other_text = $3,
                            comment = $4, decided_at = $5
                      WHERE case_id = $6",
                )
                .bind(i64::from(passed))
                .bind(serde_json::to_string(&reasons).map_err(|e| bad_event(event, e))?)
                .bind(other_text)
                .bind(comment)
                .bind(rfc3339(decided_at))
                .bind(case_id)
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(())
    }
}

impl Projection for InterviewRecords {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn snapshot(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        Self::all_rows(pool).await
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "qc_cases",
            "call_records",
            "daily_statistics",
            "task_details",
        ]
    }

    fn reads(&self, event: &StoredEvent) -> bool {
        [
            domain::interview_task::AGGREGATE_TYPE,
            domain::qc_case::AGGREGATE_TYPE,
        ]
        .contains(&event.aggregate_type.as_str())
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), WorkerError> {
        match event.aggregate_type.as_str() {
            domain::interview_task::AGGREGATE_TYPE => self.on_task(conn, event).await,
            domain::qc_case::AGGREGATE_TYPE => self.on_qc_case(conn, event).await,
            _ => Ok(()),
        }
    }
}

const QC_COLUMNS: &str = "case_id, task_id, contract_no, seat_no, origin, status, reviewer, passed,
    reasons, other_text, comment, opened_at, decided_at, opened_position";
const CALL_COLUMNS: &str = "task_id, call_no, seat_no, end_kind, queued_at, answered_at, ended_at,
    queue_seconds, talk_seconds";

/// Filters of the QC queue.
#[derive(Debug, Clone, Default)]
pub struct QcFilter {
    /// OPEN, CLAIMED or DECIDED.
    pub status: Option<String>,
    /// DOUBTFUL or SAMPLED_PASS.
    pub origin: Option<String>,
    /// Held or decided by.
    pub reviewer: Option<String>,
    /// Of this task.
    pub task_id: Option<String>,
    /// Interviewed by this seat (面谈岗工号).
    pub seat_no: Option<String>,
    /// Opened at or after this RFC 3339 instant (面谈时间 from).
    pub from: Option<String>,
    /// Opened before this RFC 3339 instant.
    pub to: Option<String>,
    /// Of a task whose main borrower has this name (客户姓名).
    pub customer_name: Option<String>,
    /// Of a task this account manager manages (客户经理工号).
    pub manager_id: Option<String>,
    /// Of this product (贷款类型).
    pub product_code: Option<String>,
    /// Property in this province / city / district (房屋属地省/市/区县).
    pub province: Option<String>,
    /// … this city.
    pub city: Option<String>,
    /// … this district.
    pub district: Option<String>,
}

impl InterviewRecords {
    /// The QC queue, oldest first, after the queue position `after`.
    pub async fn qc_cases(
        pool: &AnyPool,
        filter: &QcFilter,
        after: Option<i64>,
        first: i64,
    ) -> Result<Vec<QcCaseRow>, sqlx::Error> {
        // 001 2.4.3 质检 lists with the filters of 2.4.2 视频管理; what the case
        // does not hold (customer, manager, product, property) is the task's,
        // on the task board beside it.
        let columns = QC_COLUMNS
            .split(',')
            .map(|c| format!("q.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sql = format!(
            "SELECT {columns} FROM qc_cases q LEFT JOIN task_board t ON t.task_id = q.task_id
              WHERE q.opened_position > $1"
        );
        let mut binds = Vec::new();
        for (condition, value) in [
            ("q.status =", &filter.status),
            ("q.origin =", &filter.origin),
            ("q.reviewer =", &filter.reviewer),
            ("q.task_id =", &filter.task_id),
            ("q.seat_no =", &filter.seat_no),
            ("q.opened_at >=", &filter.from),
            ("q.opened_at <", &filter.to),
            ("t.borrower_name =", &filter.customer_name),
            ("t.manager_id =", &filter.manager_id),
            ("t.product_code =", &filter.product_code),
            ("t.property_province =", &filter.province),
            ("t.property_city =", &filter.city),
            ("t.property_district =", &filter.district),
        ] {
            if let Some(value) = value {
                binds.push(value.clone());
                sql.push_str(&format!(" AND {condition} ${}", binds.len() + 1));
            }
        }
        sql.push_str(&format!(
            " ORDER BY q.opened_position LIMIT ${}",
            binds.len() + 2
        ));
        let mut query = sqlx::query_as(&sql).bind(after.unwrap_or(0));
        for value in binds {
            query = query.bind(value);
        }
        query.bind(first).fetch_all(pool).await
    }

    /// One QC case.
    pub async fn qc_case(pool: &AnyPool, case_id: &str) -> Result<Option<QcCaseRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {QC_COLUMNS} FROM qc_cases WHERE case_id = $1"
        ))
        .bind(case_id)
        .fetch_optional(pool)
        .await
    }

    /// Call records ended in `[from, to)`, optionally of one task or seat.
    pub async fn call_records(
        pool: &AnyPool,
        task_id: Option<&str>,
        seat_no: Option<&str>,
        from: &str,
        to: &str,
    ) -> Result<Vec<CallRecordRow>, sqlx::Error> {
        let mut sql = format!(
            "SELECT {CALL_COLUMNS} FROM call_records WHERE ended_at >= $1 AND ended_at < $2"
        );
        let mut binds = Vec::new();
        for (column, value) in [("task_id", task_id), ("seat_no", seat_no)] {
            if let Some(value) = value {
                binds.push(value.to_string());
                sql.push_str(&format!(" AND {column} = ${}", binds.len() + 2));
            }
        }
        sql.push_str(" ORDER BY ended_at, task_id, call_no LIMIT 1000");
        let mut query = sqlx::query_as(&sql).bind(from).bind(to);
        for value in binds {
            query = query.bind(value);
        }
        query.fetch_all(pool).await
    }

    /// Counters of the days `[from, to]` (YYYY-MM-DD), by day.
    pub async fn statistics(
        pool: &AnyPool,
        from: &str,
        to: &str,
    ) -> Result<Vec<DailyRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT day, tasks_created, passed, doubtful, rejected, calls, queue_seconds, talk_seconds
               FROM daily_statistics WHERE day >= $1 AND day <= $2 ORDER BY day",
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
    }

    /// The task's detail document.
    pub async fn task_detail(pool: &AnyPool, task_id: &str) -> Result<Option<Value>, sqlx::Error> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT document FROM task_details WHERE task_id = $1")
                .bind(task_id)
                .fetch_optional(pool)
                .await?;
        Ok(row.and_then(|(text,)| serde_json::from_str(&text).ok()))
    }

    /// Every row of every table, in a stable order: what a rebuild must reproduce.
    pub async fn all_rows(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        let cases: Vec<QcCaseRow> = sqlx::query_as(&format!(
            "SELECT {QC_COLUMNS} FROM qc_cases ORDER BY case_id"
        ))
        .fetch_all(pool)
        .await?;
        let calls: Vec<CallRecordRow> = sqlx::query_as(&format!(
            "SELECT {CALL_COLUMNS} FROM call_records ORDER BY task_id, call_no"
        ))
        .fetch_all(pool)
        .await?;
        let days = Self::statistics(pool, "0000-00-00", "9999-99-99").await?;
        let details: Vec<(String, String)> =
            sqlx::query_as("SELECT task_id, document FROM task_details ORDER BY task_id")
                .fetch_all(pool)
                .await?;
        Ok(cases
            .iter()
            .map(|r| format!("{r:?}"))
            .chain(calls.iter().map(|r| format!("{r:?}")))
            .chain(days.iter().map(|r| format!("{r:?}")))
            .chain(details.iter().map(|r| format!("{r:?}")))
            .collect())
    }
}
