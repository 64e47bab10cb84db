//! Time slots and weekly working hours. Times are stored in UTC; business rules
//! (working hours, "within one month") are evaluated in Asia/Shanghai.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Asia/Shanghai: UTC+8 all year (China has kept no daylight saving time since 1991).
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// The Asia/Shanghai calendar day `at` falls on.
pub fn shanghai_date(at: DateTime<Utc>) -> chrono::NaiveDate {
    at.with_timezone(&shanghai()).date_naive()
}

/// Midnight (Asia/Shanghai) of the day `at` falls on, in UTC.
pub fn shanghai_day_start(at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    let midnight = shanghai_date(at).and_time(chrono::NaiveTime::MIN);
    (midnight - chrono::Duration::hours(8)).and_utc()
}

/// Rules of booking that operators configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SchedulingPolicy {
    /// How far ahead an appointment may be booked (001 2.5.3: one month).
    pub horizon_days: i64,
    /// How many times the main borrower may reschedule (001 2.6.1: at most 2).
    pub max_reschedules: u32,
    /// Longest allowed appointment.
    pub max_slot_minutes: i64,
}

impl Default for SchedulingPolicy {
    fn default() -> Self {
        Self {
            horizon_days: 30,
            max_reschedules: 2,
            max_slot_minutes: 240,
        }
    }
}

/// A half-open interval `[start, end)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Slot {
    /// First instant of the slot.
    pub start: DateTime<Utc>,
    /// First instant after the slot.
    pub end: DateTime<Utc>,
}

/// Why a slot or working-hours definition is malformed.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    thiserror::Error,
    schemars::JsonSchema,
    crate::message::Localized,
)]
pub enum ScheduleError {
    /// `end` is not after `start`.
    #[error("a slot must end after it starts")]
    EmptySlot,
    /// The slot is longer than the policy allows.
    #[error("a slot may last at most {max_minutes} minutes")]
    TooLong {
        /// The limit.
        max_minutes: i64,
    },
    /// A working period ends before it starts.
    #[error("working period on {weekday} ends before it starts")]
    BadPeriod {
        /// The day of the bad period.
        weekday: String,
    },
    /// Two working periods on one day overlap.
    #[error("working periods on {weekday} overlap")]
    OverlappingPeriods {
        /// The day of the overlap.
        weekday: String,
    },
}

impl Slot {
    /// A slot, validated against the policy's maximum length.
    pub fn new(
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        policy: &SchedulingPolicy,
    ) -> Result<Self, ScheduleError> {
        if end <= start {
            return Err(ScheduleError::EmptySlot);
        }
        if end - start > Duration::minutes(policy.max_slot_minutes) {
            return Err(ScheduleError::TooLong {
                max_minutes: policy.max_slot_minutes,
            });
        }
        Ok(Self { start, end })
    }

    /// Whether two slots share any instant.
    pub fn overlaps(&self, other: &Slot) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether the slot starts after `now` and within `horizon_days` of it.
    pub fn within_horizon(&self, now: DateTime<Utc>, horizon_days: i64) -> bool {
        self.start > now && self.start <= now + Duration::days(horizon_days)
    }
}

/// One working period of a weekday, in Shanghai local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorkingPeriod {
    /// Day of the week.
    pub weekday: Weekday,
    /// Local start time.
    pub start: NaiveTime,
    /// Local end time (exclusive).
    pub end: NaiveTime,
}

/// A seat's weekly working hours (001 2.4.6: 工作时间维护).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WeeklyHours(pub Vec<WorkingPeriod>);

impl WeeklyHours {
    /// Checks every period ends after it starts and no two on one day overlap.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        for (i, period) in self.0.iter().enumerate() {
            if period.end <= period.start {
                return Err(ScheduleError::BadPeriod {
                    weekday: period.weekday.to_string(),
                });
            }
            let overlap = self.0[i + 1..].iter().any(|other| {
                other.weekday == period.weekday
                    && other.start < period.end
                    && period.start < other.end
            });
            if overlap {
                return Err(ScheduleError::OverlappingPeriods {
                    weekday: period.weekday.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Whether the slot lies wholly inside one working period (Shanghai time).
    pub fn contains(&self, slot: &Slot) -> bool {
        let start = slot.start.with_timezone(&shanghai());
        let end = slot.end.with_timezone(&shanghai());
        start.date_naive() == end.date_naive()
            && self.0.iter().any(|p| {
                p.weekday == start.weekday() && p.start <= start.time() && end.time() <= p.end
            })
    }
}

/// One held booking of a seat or a customer's agenda.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Booking {
    /// Booking id (one per appointment request of a task).
    pub booking_id: Uuid,
    /// The task the booking is for.
    pub task_id: String,
    /// The slot held.
    pub slot: Slot,
}

/// The bookings a calendar holds, with the rules both seats and agendas share.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Bookings(Vec<Booking>);

impl Bookings {
    /// The booking with this id, if held.
    pub fn get(&self, booking_id: Uuid) -> Option<&Booking> {
        self.0.iter().find(|b| b.booking_id == booking_id)
    }

    /// A booking of *another* task overlapping `slot`. A task's own bookings never
    /// collide: a move books the new slot before the old one is released.
    pub fn conflict(&self, task_id: &str, slot: &Slot) -> Option<&Booking> {
        self.0
            .iter()
            .find(|b| b.task_id != task_id && b.slot.overlaps(slot))
    }

    /// Bookings that have not ended at `now`.
    pub fn open_at(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Booking> {
        self.0.iter().filter(move |b| b.slot.end > now)
    }

    /// Every booking held.
    pub fn all(&self) -> &[Booking] {
        &self.0
    }

    /// Records a booking.
    pub fn insert(&mut self, booking: Booking) {
        self.0.push(booking);
    }

    /// Forgets a booking.
    pub fn remove(&mut self, booking_id: Uuid) {
        self.0.retain(|b| b.booking_id != booking_id);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        shanghai()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn weekdays_nine_to_six() -> WeeklyHours {
        use Weekday::*;
        WeeklyHours(
            [Mon, Tue, Wed, Thu, Fri]
                .into_iter()
                .map(|weekday| WorkingPeriod {
                    weekday,
                    start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                    end: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
                })
                .collect(),
        )
    }

    /// 001_d165f826565a3102.txt 2.4.6: working hours limit what can be booked,
    /// read in the bank's local time (Asia/Shanghai).
    #[test]
    fn working_hours_are_read_in_shanghai_time() {
        let hours = weekdays_nine_to_six();
        let policy = SchedulingPolicy::default();
        // Monday 2026-11-23 09:00-09:30 Shanghai is 01:00-01:30 UTC.
        let inside = Slot::new(at(2026, 11, 23, 9, 0), at(2026, 11, 23, 9, 30), &policy).unwrap();
        assert!(hours.contains(&inside));
        let early = Slot::new(at(2026, 11, 23, 8, 45), at(2026, 11, 23, 9, 15), &policy).unwrap();
        assert!(!hours.contains(&early));
        let late = Slot::new(at(2026, 11, 23, 17, 45), at(2026, 11, 23, 18, 15), &policy).unwrap();
        assert!(!hours.contains(&late));
        let saturday =
            Slot::new(at(2026, 11, 28, 10, 0), at(2026, 11, 28, 10, 30), &policy).unwrap();
        assert!(!hours.contains(&saturday));
    }

    /// 001_d165f826565a3102.txt 2.5.3: bookable only within one month from now.
    #[test]
    fn horizon_is_one_month_by_default() {
        let now = at(2026, 11, 23, 10, 0);
        let policy = SchedulingPolicy::default();
        let ok = Slot::new(at(2026, 12, 23, 9, 0), at(2026, 12, 23, 9, 30), &policy).unwrap();
        assert!(ok.within_horizon(now, policy.horizon_days));
        let too_far =
            Slot::new(at(2026, 12, 23, 10, 30), at(2026, 12, 23, 11, 0), &policy).unwrap();
        assert!(!too_far.within_horizon(now, policy.horizon_days));
        let past = Slot::new(at(2026, 11, 23, 9, 0), at(2026, 11, 23, 9, 30), &policy).unwrap();
        assert!(!past.within_horizon(now, policy.horizon_days));
    }

    #[test]
    fn slots_and_periods_are_validated() {
        let policy = SchedulingPolicy::default();
        let t = at(2026, 11, 23, 9, 0);
        assert_eq!(Slot::new(t, t, &policy), Err(ScheduleError::EmptySlot));
        assert!(matches!(
            Slot::new(t, t + Duration::hours(5), &policy),
            Err(ScheduleError::TooLong { .. })
        ));
        let mut hours = weekdays_nine_to_six();
        hours.0.push(WorkingPeriod {
            weekday: Weekday::Mon,
            start: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(19, 0, 0).unwrap(),
        });
        assert!(matches!(
            hours.validate(),
            Err(ScheduleError::OverlappingPeriods { .. })
        ));
    }

    #[test]
    fn half_open_slots_touching_do_not_overlap() {
        let policy = SchedulingPolicy::default();
        let a = Slot::new(at(2026, 11, 23, 9, 0), at(2026, 11, 23, 9, 30), &policy).unwrap();
        let b = Slot::new(at(2026, 11, 23, 9, 30), at(2026, 11, 23, 10, 0), &policy).unwrap();
        let c = Slot::new(at(2026, 11, 23, 9, 15), at(2026, 11, 23, 9, 45), &policy).unwrap();
        assert!(!a.overlaps(&b));
        assert!(a.overlaps(&c) && b.overlaps(&c));
    }
}
