//! Seats, their bookings and free slots (001 2.4.6 坐席管理; 2.6.2 改约 shows the
//! seat's timetable with booked slots greyed out).

use chrono::{DateTime, Duration, NaiveTime, Utc};
use domain::log::StoredEvent;
use domain::schedule::{shanghai, Slot, WeeklyHours};
use domain::seat::{Presence, SeatEvent, AGGREGATE_TYPE};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::runner::Projection;
use domain::log::rfc3339;
use store::worker::{bad_event, decode, WorkerError};

/// Projection name in checkpoints and `facesign replay --projection`.
pub const NAME: &str = "seat_calendar";

/// The seat calendar projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeatCalendar;

/// One seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct SeatRow {
    /// Seat no.
    pub seat_no: String,
    /// Agent's display name.
    pub name: String,
    /// 1 when bookable.
    pub enabled: i64,
    /// JSON array of seat groups.
    pub seat_groups: String,
    /// JSON array of skills.
    pub skills: String,
    /// JSON of the weekly working hours.
    pub working_hours: String,
    /// Global position of the registration.
    pub created_position: i64,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
    /// 1 when on duty (签入).
    pub signed_in: i64,
    /// IDLE, PAUSED, BUSY or AFTER_CALL.
    pub presence: String,
    /// The call offered to the seat and not yet answered.
    pub offered_call: Option<String>,
}

impl SeatRow {
    /// Weekly working hours.
    pub fn hours(&self) -> WeeklyHours {
        serde_json::from_str(&self.working_hours).unwrap_or_default()
    }

    /// Skills as a list.
    pub fn skill_list(&self) -> Vec<String> {
        serde_json::from_str(&self.skills).unwrap_or_default()
    }
}

/// One booking on a seat's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct SeatBookingRow {
    /// Booking id.
    pub booking_id: String,
    /// Seat no.
    pub seat_no: String,
    /// Task id.
    pub task_id: String,
    /// RFC 3339 start.
    pub start_at: String,
    /// RFC 3339 end.
    pub end_at: String,
}

/// A bookable slot of one seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreeSlot {
    /// Seat no.
    pub seat_no: String,
    /// The slot.
    pub slot: Slot,
}

fn json<T: Serialize>(event: &StoredEvent, value: &T) -> Result<String, WorkerError> {
    serde_json::to_string(value).map_err(|e| bad_event(event, e))
}

impl Projection for SeatCalendar {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn snapshot(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
        let (seats, bookings) = Self::all_rows(pool).await?;
        let mut lines = crate::runner::lines(seats);
        lines.extend(crate::runner::lines(bookings));
        Ok(lines)
    }

    fn tables(&self) -> &'static [&'static str] {
        &["seats", "seat_bookings"]
    }

    fn reads(&self, event: &StoredEvent) -> bool {
        [AGGREGATE_TYPE].contains(&event.aggregate_type.as_str())
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &StoredEvent,
    ) -> Result<(), WorkerError> {
        if event.aggregate_type != AGGREGATE_TYPE {
            return Ok(());
        }
        let decoded: SeatEvent = decode(event)?;
        let updated_at = rfc3339(event.metadata.recorded_at);
        let seat_no = &event.aggregate_id;
        match decoded {
            SeatEvent::SeatRegistered {
                name,
                groups,
                skills,
            } => {
                sqlx::query(
                    "INSERT INTO seats (seat_no, name, enabled, seat_groups, skills, working_hours,
                                        created_position, updated_at)
                     VALUES ($1, $2, 1, $3, $4, '[]', $5, $6)",
                )
                .bind(seat_no)
                .bind(name)
                .bind(json(event, &groups)?)
                .bind(json(event, &skills)?)
                .bind(event.position.global_position)
                .bind(&updated_at)
                .execute(&mut *conn)
                .await?;
            }
            SeatEvent::WorkingHoursSet { hours } => {
                sqlx::query(
                    "UPDATE seats SET working_hours = $1, updated_at = $2 WHERE seat_no = $3",
                )
                .bind(json(event, &hours)?)
                .bind(&updated_at)
                .bind(seat_no)
                .execute(&mut *conn)
                .await?;
            }
            SeatEvent::SeatEnabled | SeatEvent::SeatDisabled => {
                let enabled = i64::from(matches!(decoded, SeatEvent::SeatEnabled));
                sqlx::query("UPDATE seats SET enabled = $1, updated_at = $2 WHERE seat_no = $3")
                    .bind(enabled)
                    .bind(&updated_at)
                    .bind(seat_no)
                    .execute(&mut *conn)
                    .await?;
            }
            SeatEvent::SeatSignedIn
            | SeatEvent::SeatSignedOut
            | SeatEvent::PresenceChanged { .. } => {
                let (signed_in, presence) = match decoded {
                    SeatEvent::SeatSignedIn => (Some(1_i64), Presence::Idle),
                    SeatEvent::SeatSignedOut => (Some(0), Presence::Paused),
                    SeatEvent::PresenceChanged { presence } => (None, presence),
                    _ => unreachable!("matched above"),
                };
                sqlx::query(
                    "UPDATE seats SET signed_in = COALESCE($1, signed_in), presence = $2, updated_at = $3
                      WHERE seat_no = $4",
                )
                .bind(signed_in)
                .bind(domain::wire_name(&presence))
                .bind(&updated_at)
                .bind(seat_no)
                .execute(&mut *conn)
                .await?;
            }
            SeatEvent::CallOffered { call_id } => {
                sqlx::query(
                    "UPDATE seats SET offered_call = $1, updated_at = $2 WHERE seat_no = $3",
                )
                .bind(call_id.to_string())
                .bind(&updated_at)
                .bind(seat_no)
                .execute(&mut *conn)
                .await?;
            }
            SeatEvent::CallTaken { .. } | SeatEvent::CallOfferWithdrawn { .. } => {
                let presence = matches!(decoded, SeatEvent::CallTaken { .. })
                    .then(|| domain::wire_name(&Presence::Busy));
                sqlx::query(
                    "UPDATE seats SET offered_call = NULL, presence = COALESCE($1, presence), updated_at = $2
                      WHERE seat_no = $3",
                )
                .bind(presence)
                .bind(&updated_at)
                .bind(seat_no)
                .execute(&mut *conn)
                .await?;
            }
            SeatEvent::SlotBooked {
                booking_id,
                task_id,
                slot,
            } => {
                sqlx::query(
                    "INSERT INTO seat_bookings (booking_id, seat_no, task_id, start_at, end_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(booking_id.to_string())
                .bind(seat_no)
                .bind(task_id)
                .bind(rfc3339(slot.start))
                .bind(rfc3339(slot.end))
                .execute(&mut *conn)
                .await?;
            }
            SeatEvent::SlotReleased { booking_id, .. } => {
                sqlx::query("DELETE FROM seat_bookings WHERE booking_id = $1")
                    .bind(booking_id.to_string())
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Ok(())
    }
}

const SEAT_COLUMNS: &str = "seat_no, name, enabled, seat_groups, skills, working_hours,
    created_position, updated_at, signed_in, presence, offered_call";

impl SeatCalendar {
    /// Every seat, by seat no.
    pub async fn seats(pool: &AnyPool) -> Result<Vec<SeatRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {SEAT_COLUMNS} FROM seats ORDER BY seat_no"
        ))
        .fetch_all(pool)
        .await
    }

    /// One seat.
    pub async fn seat(pool: &AnyPool, seat_no: &str) -> Result<Option<SeatRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {SEAT_COLUMNS} FROM seats WHERE seat_no = $1"
        ))
        .bind(seat_no)
        .fetch_optional(pool)
        .await
    }

    /// Bookings of a seat overlapping `[from, to)`, by start.
    pub async fn bookings(
        pool: &AnyPool,
        seat_no: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SeatBookingRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT booking_id, seat_no, task_id, start_at, end_at FROM seat_bookings
              WHERE seat_no = $1 AND end_at > $2 AND start_at < $3 ORDER BY start_at",
        )
        .bind(seat_no)
        .bind(rfc3339(from))
        .bind(rfc3339(to))
        .fetch_all(pool)
        .await
    }

    /// Every row of both tables in a stable order: what a rebuild must reproduce.
    pub async fn all_rows(
        pool: &AnyPool,
    ) -> Result<(Vec<SeatRow>, Vec<SeatBookingRow>), sqlx::Error> {
        let bookings = sqlx::query_as(
            "SELECT booking_id, seat_no, task_id, start_at, end_at FROM seat_bookings ORDER BY booking_id",
        )
        .fetch_all(pool)
        .await?;
        Ok((Self::seats(pool).await?, bookings))
    }

    /// Slots of `minutes` length, aligned to the start of each working period,
    /// inside `[from, to)`, on enabled seats whose skills include every code in
    /// `required_skills`, not overlapping any booking. At most `limit` results.
    pub async fn free_slots(
        pool: &AnyPool,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        required_skills: &[String],
        minutes: i64,
        limit: usize,
    ) -> Result<Vec<FreeSlot>, sqlx::Error> {
        let mut free = Vec::new();
        for seat in Self::seats(pool).await? {
            let skills = seat.skill_list();
            if seat.enabled == 0 || !required_skills.iter().all(|s| skills.contains(s)) {
                continue;
            }
            let booked: Vec<Slot> = Self::bookings(pool, &seat.seat_no, from, to)
                .await?
                .iter()
                .filter_map(|b| {
                    Some(Slot {
                        start: DateTime::parse_from_rfc3339(&b.start_at).ok()?.to_utc(),
                        end: DateTime::parse_from_rfc3339(&b.end_at).ok()?.to_utc(),
                    })
                })
                .collect();
            for slot in candidate_slots(&seat.hours(), from, to, minutes) {
                if !booked.iter().any(|b| b.overlaps(&slot)) {
                    free.push(FreeSlot {
                        seat_no: seat.seat_no.clone(),
                        slot,
                    });
                }
            }
        }
        free.sort_by(|a, b| (a.slot.start, &a.seat_no).cmp(&(b.slot.start, &b.seat_no)));
        free.truncate(limit);
        Ok(free)
    }
}

/// Every slot of `minutes` inside the working hours and `[from, to)`.
fn candidate_slots(
    hours: &WeeklyHours,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    minutes: i64,
) -> Vec<Slot> {
    let step = Duration::minutes(minutes.max(1));
    let mut slots = Vec::new();
    let mut day = domain::schedule::shanghai_date(from);
    let last = domain::schedule::shanghai_date(to);
    while day <= last {
        for period in hours.0.iter().filter(|p| {
            use chrono::Datelike;
            p.weekday == day.weekday()
        }) {
            let local = |t: NaiveTime| {
                day.and_time(t)
                    .and_local_timezone(shanghai())
                    .single()
                    .map(|d| d.to_utc())
            };
            let (Some(mut start), Some(end)) = (local(period.start), local(period.end)) else {
                continue;
            };
            while start + step <= end {
                if start >= from && start + step <= to {
                    slots.push(Slot {
                        start,
                        end: start + step,
                    });
                }
                start += step;
            }
        }
        day = match day.succ_opt() {
            Some(next) => next,
            None => break,
        };
    }
    slots
}
