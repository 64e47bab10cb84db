//! The queue of inbound calls and what dispatch reads: waiting calls in order,
//! seats' answered calls today, familiar seats and seat groups (001 2.4.4;
//! 004 3.6, 3.18). Admission refusals are kept too: 001 counts them.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use domain::flows::dispatch::{QueueSnapshot, SeatState, WaitingCall};
use domain::inbound_call::{InboundCallEvent, QueuedCall, AGGREGATE_TYPE as CALL};
use domain::log::StoredEvent;
use domain::schedule::shanghai_day_start;
use domain::seat_group::{SeatGroupEvent, AGGREGATE_TYPE as GROUP};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::runner::Projection;
use domain::log::rfc3339;
use store::worker::{decode, WorkerError};

/// Projection name in checkpoints and `facesign replay --projection`.
pub const NAME: &str = "call_queue";

/// The call queue projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct CallQueue;

/// One inbound call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct CallRow {
    /// Call id.
    pub call_id: String,
    /// Task or work order the call is for.
    pub task_id: String,
    /// Hash of the customer's ID number.
    pub customer_key: String,
    /// 渠道代码.
    pub channel_code: String,
    /// 产品代码.
    pub product_code: String,
    /// Region, when known.
    pub region: Option<String>,
    /// Seat the customer asked for.
    pub designated_seat: Option<String>,
    /// Seat booked for the appointment.
    pub preassigned_seat: Option<String>,
    /// REFUSED, QUEUED, DISPATCHED, ANSWERED, ENDED or CANCELLED.
    pub status: String,
    /// Seat it is given to or was answered by.
    pub seat_no: Option<String>,
    /// Why that seat (DESIGNATED, PREASSIGNED, FAMILIAR, RANDOM, LEAST_BUSY, TRANSFER).
    pub dispatch_reason: Option<String>,
    /// The text a refused customer saw.
    pub refusal: Option<String>,
    /// Order in the queue (the global position of the request).
    pub queue_order: i64,
    /// When the customer called.
    pub requested_at: String,
    /// When it was given to a seat.
    pub dispatched_at: Option<String>,
    /// When the seat answered.
    pub answered_at: Option<String>,
    /// Last change.
    pub updated_at: String,
    /// Offers that rang out unanswered (004 3.6).
    pub unanswered_offers: i64,
}

impl CallRow {
    /// The call as dispatch rules see it.
    pub fn queued_call(&self) -> QueuedCall {
        QueuedCall {
            task_id: self.task_id.clone(),
            customer_key: self.customer_key.clone(),
            channel_code: self.channel_code.clone(),
            product_code: self.product_code.clone(),
            region: self.region.clone(),
            designated_seat: self.designated_seat.clone(),
            preassigned_seat: self.preassigned_seat.clone(),
            ..QueuedCall::default()
        }
    }
}

/// One seat group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct SeatGroupRow {
    /// Group code.
    pub group_code: String,
    /// 客服组名称.
    pub name: String,
    /// JSON array of skills.
    pub skills: String,
    /// JSON array of seat numbers.
    pub seats: String,
}

impl SeatGroupRow {
    /// Skills as a list.
    pub fn skill_list(&self) -> Vec<String> {
        serde_json::from_str(&self.skills).unwrap_or_default()
    }

    /// Seats as a list.
    pub fn seat_list(&self) -> Vec<String> {
        serde_json::from_str(&self.seats).unwrap_or_default()
    }
}

/// Calls one seat answered since a moment.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SeatLoad {
    /// Seat no.
    pub seat_no: String,
    /// Calls answered.
    pub answered: i64,
    /// RFC 3339 time of the last answer.
    pub last_answered_at: String,
}

async fn insert_call(
    conn: &mut AnyConnection,
    event: &StoredEvent,
    call: &QueuedCall,
    status: &str,
    refusal: Option<&str>,
) -> Result<(), sqlx::Error> {
    let at = rfc3339(event.metadata.recorded_at);
    sqlx::query(
        "INSERT INTO inbound_calls (call_id, task_id, customer_key, channel_code, product_code, region,
            designated_seat, preassigned_seat, status, refusal, queue_order, requested_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&event.aggregate_id)
    .bind(&call.task_id)
    .bind(&call.customer_key)
    .bind(&call.channel_code)
    .bind(&call.product_code)
    .bind(call.region.clone())
    .bind(call.designated_seat.clone())
    .bind(call.preassigned_seat.clone())
    .bind(status)
    .bind(refusal.map(str::to_string))
    .bind(event.position.global_position)
    .bind(&at)
    .bind(&at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Projection for CallQueue {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn snapshot(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        Ok(vec![format!("{:?}", Self::all_rows(pool).await?)])
    }

    fn tables(&self) -> &'static [&'static str] {
        &["inbound_calls", "seat_customers", "seat_groups"]
    }

    fn reads(&self, event: &StoredEvent) -> bool {
        [GROUP, CALL].contains(&event.aggregate_type.as_str())
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), WorkerError> {
        let at = rfc3339(event.metadata.recorded_at);
        let id = &event.aggregate_id;
        if event.aggregate_type == GROUP {
            match decode::<SeatGroupEvent>(event)? {
                SeatGroupEvent::SeatGroupCreated(s) | SeatGroupEvent::SeatGroupEdited(s) => {
                    sqlx::query(
                        "INSERT INTO seat_groups (group_code, name, skills, seats) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (group_code) DO UPDATE SET name = excluded.name,
                            skills = excluded.skills, seats = excluded.seats",
                    )
                    .bind(id)
                    .bind(&s.name)
                    .bind(serde_json::to_string(&s.skills).unwrap_or_default())
                    .bind(serde_json::to_string(&s.seats).unwrap_or_default())
                    .execute(&mut *conn)
                    .await?;
                }
                SeatGroupEvent::SeatGroupDeleted => {
                    sqlx::query("DELETE FROM seat_groups WHERE group_code = $1")
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                }
            }
            return Ok(());
        }
        if event.aggregate_type != CALL {
            return Ok(());
        }
        let update = |sql: &'static str| sqlx::query(sql);
        match decode::<InboundCallEvent>(event)? {
            InboundCallEvent::CallRefused { call, message } => {
                insert_call(conn, event, &call, "REFUSED", Some(&message)).await?;
            }
            InboundCallEvent::CallQueued(call) => {
                insert_call(conn, event, &call, "QUEUED", None).await?;
            }
            InboundCallEvent::CallDispatched {
                seat_no, reason, ..
            } => {
                update(
                    "UPDATE inbound_calls SET status = 'DISPATCHED', seat_no = $1, dispatch_reason = $2,
                        dispatched_at = $3, updated_at = $4 WHERE call_id = $5",
                )
                .bind(seat_no)
                .bind(domain::wire_name(&reason))
                .bind(&at)
                .bind(&at)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            InboundCallEvent::CallTransferred { to_seat, .. } => {
                update(
                    "UPDATE inbound_calls SET seat_no = $1, dispatch_reason = 'TRANSFER', dispatched_at = $2,
                        updated_at = $3 WHERE call_id = $4",
                )
                .bind(to_seat)
                .bind(&at)
                .bind(&at)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            InboundCallEvent::CallOfferUnanswered { unanswered, .. } => {
                update(
                    "UPDATE inbound_calls SET status = 'QUEUED', seat_no = NULL, dispatch_reason = NULL,
                        dispatched_at = NULL, unanswered_offers = $1, updated_at = $2 WHERE call_id = $3",
                )
                .bind(i64::from(unanswered))
                .bind(&at)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            InboundCallEvent::CallAnswered { seat_no } => {
                update(
                    "UPDATE inbound_calls SET status = 'ANSWERED', seat_no = $1, answered_at = $2,
                        updated_at = $3 WHERE call_id = $4",
                )
                .bind(&seat_no)
                .bind(&at)
                .bind(&at)
                .bind(id)
                .execute(&mut *conn)
                .await?;
                update(
                    "INSERT INTO seat_customers (seat_no, customer_key, last_served_at)
                     SELECT $1, customer_key, $2 FROM inbound_calls WHERE call_id = $3
                     ON CONFLICT (customer_key, seat_no) DO UPDATE SET last_served_at = excluded.last_served_at",
                )
                .bind(&seat_no)
                .bind(&at)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            InboundCallEvent::CallCancelled { .. } | InboundCallEvent::CallEnded { .. } => {
                let sql = if event.event_type == "CallEnded" {
                    "UPDATE inbound_calls SET status = 'ENDED', updated_at = $1 WHERE call_id = $2"
                } else {
                    "UPDATE inbound_calls SET status = 'CANCELLED', updated_at = $1 WHERE call_id = $2"
                };
                update(sql).bind(&at).bind(id).execute(&mut *conn).await?;
            }
        }
        Ok(())
    }
}

const CALL_COLUMNS: &str = "call_id, task_id, customer_key, channel_code, product_code, region,
    designated_seat, preassigned_seat, status, seat_no, dispatch_reason, refusal, queue_order,
    requested_at, dispatched_at, answered_at, updated_at, unanswered_offers";

/// How many waiting calls one dispatch round looks at.
const ROUND: i64 = 500;

impl CallQueue {
    /// The seats and waiting calls dispatch decides on under `rule` (004 3.6):
    /// who is idle and with which skills, each call's familiar seats.
    pub async fn dispatch_queue(
        pool: &AnyPool,
        now: DateTime<Utc>,
        rule: &domain::inbound_call::DispatchRule,
    ) -> anyhow::Result<QueueSnapshot> {
        let seats = crate::SeatCalendar::seats(pool).await?;
        let groups = Self::groups(pool).await?;
        let loads = Self::answered_since(pool, shanghai_day_start(now)).await?;
        let mut states = Vec::with_capacity(seats.len());
        for seat in &seats {
            let offer_live = match &seat.offered_call {
                None => false,
                Some(call_id) => Self::call(pool, call_id).await?.is_some_and(|c| {
                    c.status == "QUEUED"
                        || (c.status == "DISPATCHED" && c.seat_no.as_deref() == Some(&seat.seat_no))
                }),
            };
            let mut skills = seat.skill_list();
            let mut grouped = false;
            let seat_groups: Vec<String> =
                serde_json::from_str(&seat.seat_groups).unwrap_or_default();
            for group in &groups {
                if group.seat_list().contains(&seat.seat_no)
                    || seat_groups.contains(&group.group_code)
                {
                    skills.extend(group.skill_list());
                    grouped = true;
                }
            }
            let load = loads.iter().find(|l| l.seat_no == seat.seat_no);
            states.push(SeatState {
                seat_no: seat.seat_no.clone(),
                idle: seat.enabled == 1
                    && seat.signed_in == 1
                    && seat.presence == domain::wire_name(&domain::seat::Presence::Idle),
                offered_call: seat.offered_call.as_deref().and_then(|c| c.parse().ok()),
                offer_live,
                skills,
                answered_today: load.map_or(0, |l| l.answered as u32),
                last_answered_at: load
                    .and_then(|l| DateTime::parse_from_rfc3339(&l.last_answered_at).ok())
                    .map(|t| t.with_timezone(&Utc)),
                grouped,
            });
        }
        let mut waiting = Vec::new();
        let mut seen = HashSet::new();
        for call in Self::in_status(pool, "QUEUED", ROUND).await? {
            if !seen.insert(call.call_id.clone()) {
                continue;
            }
            let mut familiar_seats = Self::familiar_seats(pool, &call.customer_key).await?;
            // 004 3.6: 熟客优先…优先分配给创建/已处理过该任务的坐席 — the seat that
            // created the work order is familiar too.
            if let Some(order) = crate::AdminCatalog::work_order(pool, &call.task_id).await? {
                if !familiar_seats.contains(&order.created_by) {
                    familiar_seats.push(order.created_by);
                }
            }
            waiting.push(WaitingCall {
                call_id: call.call_id.parse()?,
                call: call.queued_call(),
                familiar_seats,
                unanswered: u32::try_from(call.unanswered_offers).unwrap_or(u32::MAX),
            });
        }
        Ok(QueueSnapshot {
            seats: states,
            waiting,
            rule: rule.idle_seat_rule(),
            groups_required: !groups.is_empty() && !rule.ungrouped_seats_answer(),
        })
    }

    /// One call.
    pub async fn call(pool: &AnyPool, call_id: &str) -> Result<Option<CallRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {CALL_COLUMNS} FROM inbound_calls WHERE call_id = $1"
        ))
        .bind(call_id)
        .fetch_optional(pool)
        .await
    }

    /// Calls in one status, in queue order (oldest first), at most `limit`.
    pub async fn in_status(
        pool: &AnyPool,
        status: &str,
        limit: i64,
    ) -> Result<Vec<CallRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {CALL_COLUMNS} FROM inbound_calls WHERE status = $1
              ORDER BY queue_order, call_id LIMIT $2"
        ))
        .bind(status)
        .bind(limit)
        .fetch_all(pool)
        .await
    }

    /// 1-based place of a waiting call in the queue; None when it is not waiting.
    pub async fn position(pool: &AnyPool, call: &CallRow) -> Result<Option<i64>, sqlx::Error> {
        if call.status != "QUEUED" {
            return Ok(None);
        }
        let (ahead,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM inbound_calls WHERE status = 'QUEUED'
               AND (queue_order < $1 OR (queue_order = $2 AND call_id < $3))",
        )
        .bind(call.queue_order)
        .bind(call.queue_order)
        .bind(&call.call_id)
        .fetch_one(pool)
        .await?;
        Ok(Some(ahead + 1))
    }

    /// The seats a call for `record_id` (a task or a work order) was offered
    /// to or answered by.
    pub async fn seats_called_for(
        pool: &AnyPool,
        record_id: &str,
    ) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT seat_no FROM inbound_calls
              WHERE task_id = $1 AND seat_no IS NOT NULL
                AND status IN ('DISPATCHED', 'ANSWERED', 'ENDED')",
        )
        .bind(record_id)
        .fetch_all(pool)
        .await?;
        Ok(rows.into_iter().map(|(seat,)| seat).collect())
    }

    /// [`Self::seats_called_for`] of many records in one query: `(record, seat)` pairs.
    pub async fn seats_called_for_many(
        pool: &AnyPool,
        record_ids: &[String],
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        if record_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=record_ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT DISTINCT task_id, seat_no FROM inbound_calls
              WHERE task_id IN ({}) AND seat_no IS NOT NULL
                AND status IN ('DISPATCHED', 'ANSWERED', 'ENDED')",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as(&sql);
        for id in record_ids {
            query = query.bind(id);
        }
        query.fetch_all(pool).await
    }

    /// The seats a call for `record_id` is ringing at or answered by now.
    pub async fn seats_serving(
        pool: &AnyPool,
        record_id: &str,
    ) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT seat_no FROM inbound_calls
              WHERE task_id = $1 AND seat_no IS NOT NULL AND status IN ('DISPATCHED', 'ANSWERED')",
        )
        .bind(record_id)
        .fetch_all(pool)
        .await?;
        Ok(rows.into_iter().map(|(seat,)| seat).collect())
    }

    /// Calls waiting now.
    pub async fn waiting_count(pool: &AnyPool) -> Result<i64, sqlx::Error> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM inbound_calls WHERE status = 'QUEUED'")
                .fetch_one(pool)
                .await?;
        Ok(n)
    }

    /// Calls each seat answered since `since`.
    pub async fn answered_since(
        pool: &AnyPool,
        since: DateTime<Utc>,
    ) -> Result<Vec<SeatLoad>, sqlx::Error> {
        sqlx::query_as(
            "SELECT seat_no, COUNT(*) AS answered, MAX(answered_at) AS last_answered_at
               FROM inbound_calls WHERE answered_at IS NOT NULL AND answered_at >= $1
              GROUP BY seat_no",
        )
        .bind(rfc3339(since))
        .fetch_all(pool)
        .await
    }

    /// Seats that served a customer before (熟客).
    pub async fn familiar_seats(
        pool: &AnyPool,
        customer_key: &str,
    ) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT seat_no FROM seat_customers WHERE customer_key = $1 ORDER BY seat_no",
        )
        .bind(customer_key)
        .fetch_all(pool)
        .await?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    /// Every seat group, by code.
    pub async fn groups(pool: &AnyPool) -> Result<Vec<SeatGroupRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT group_code, name, skills, seats FROM seat_groups ORDER BY group_code",
        )
        .fetch_all(pool)
        .await
    }

    /// One seat group.
    pub async fn group(pool: &AnyPool, code: &str) -> Result<Option<SeatGroupRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT group_code, name, skills, seats FROM seat_groups WHERE group_code = $1",
        )
        .bind(code)
        .fetch_optional(pool)
        .await
    }

    /// Average talk time of the last 50 calls, for the wait estimate.
    pub async fn average_talk_seconds(pool: &AnyPool) -> Result<Option<i64>, sqlx::Error> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT talk_seconds FROM call_records ORDER BY ended_at DESC LIMIT 50")
                .fetch_all(pool)
                .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            rows.iter().map(|(s,)| s).sum::<i64>() / rows.len() as i64,
        ))
    }

    /// Every call and group row: what a rebuild must reproduce.
    pub async fn all_rows(
        pool: &AnyPool,
    ) -> Result<
        (
            Vec<CallRow>,
            Vec<SeatGroupRow>,
            Vec<(String, String, String)>,
        ),
        sqlx::Error,
    > {
        let calls = sqlx::query_as(&format!(
            "SELECT {CALL_COLUMNS} FROM inbound_calls ORDER BY call_id"
        ))
        .fetch_all(pool)
        .await?;
        let familiar = sqlx::query_as(
            "SELECT seat_no, customer_key, last_served_at FROM seat_customers ORDER BY customer_key, seat_no",
        )
        .fetch_all(pool)
        .await?;
        Ok((calls, Self::groups(pool).await?, familiar))
    }
}
