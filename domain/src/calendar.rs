//! The bank's working days: weekends are rest days and weekdays working days,
//! except what the bank's calendar says — 法定节假日 (holidays on weekdays) and
//! 调休 (weekend days worked). The calendar is data an admin loads each year;
//! every "working day" rule (003: 提前3个工作日提示) reads it from here.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// What the calendar says of a day, against the weekend rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum CalendarDayKind {
    /// 法定节假日: no work, even on a weekday.
    Holiday,
    /// 调休: a weekend day worked.
    WorkingDay,
}

/// The bank's calendar: the days that differ from the weekend rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankCalendar {
    days: BTreeMap<NaiveDate, CalendarDayKind>,
}

/// 003 提前还款: 提前3个工作日提示客户提前还款扣款日将自动扣款.
pub const PREPAYMENT_NOTICE_WORKING_DAYS: u32 = 3;

/// How far a working-day count may look (a bound against an empty calendar of
/// holidays, which cannot occur, and a loop that never ends).
const SEARCH_DAYS: u32 = 366;

impl BankCalendar {
    /// The calendar of `days`.
    pub fn new(days: impl IntoIterator<Item = (NaiveDate, CalendarDayKind)>) -> Self {
        Self {
            days: days.into_iter().collect(),
        }
    }

    /// Whether `day` is a working day.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        match self.days.get(&day) {
            Some(CalendarDayKind::Holiday) => false,
            Some(CalendarDayKind::WorkingDay) => true,
            None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The `n`th working day after `day` (`day` itself not counted).
    pub fn working_days_after(&self, day: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut found = 0;
        let mut current = day;
        for _ in 0..SEARCH_DAYS.saturating_add(n) {
            current = current.succ_opt()?;
            if self.is_working_day(current) {
                found += 1;
                if found >= n {
                    return Some(current);
                }
            }
        }
        None
    }

    /// The working day `n` working days before `day` (003 提前3个工作日: the
    /// day a notice of a debit on `day` goes out).
    pub fn working_days_before(&self, day: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut found = 0;
        let mut current = day;
        for _ in 0..SEARCH_DAYS.saturating_add(n) {
            current = current.pred_opt()?;
            if self.is_working_day(current) {
                found += 1;
                if found >= n {
                    return Some(current);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, m, day).unwrap()
    }

    /// 2027's 国庆: 10-01 (Fri) to 10-07 (Thu) off, 10-09 (Sat) worked.
    fn national_day() -> BankCalendar {
        BankCalendar::new(
            (1..=7)
                .map(|day| (d(10, day), CalendarDayKind::Holiday))
                .chain([(d(10, 9), CalendarDayKind::WorkingDay)]),
        )
    }

    #[test]
    fn weekends_rest_unless_the_calendar_says_otherwise() {
        let calendar = national_day();
        assert!(calendar.is_working_day(d(9, 30)), "Thursday");
        assert!(
            !calendar.is_working_day(d(10, 4)),
            "a Monday in the holiday"
        );
        assert!(calendar.is_working_day(d(10, 9)), "调休 Saturday");
        assert!(!calendar.is_working_day(d(10, 10)), "Sunday");
    }

    /// 003: 提前3个工作日提示 — over a weekend, and over a holiday with its 调休.
    #[test]
    fn three_working_days_before_skips_rest_days() {
        let plain = BankCalendar::default();
        // Wednesday 2027-03-10: Tue, Mon, then Friday 03-05.
        assert_eq!(plain.working_days_before(d(3, 10), 3), Some(d(3, 5)));
        assert_eq!(plain.working_days_after(d(3, 5), 3), Some(d(3, 10)));
        assert_eq!(
            plain.working_days_after(d(3, 6), 3),
            Some(d(3, 10)),
            "from a Saturday"
        );
        let calendar = national_day();
        // Monday 10-11: 10-09 (调休 Saturday), 10-08 (Fri), then 09-30 (Thu).
        assert_eq!(calendar.working_days_before(d(10, 11), 3), Some(d(9, 30)));
        assert_eq!(calendar.working_days_after(d(9, 30), 3), Some(d(10, 11)));
        assert_eq!(calendar.working_days_after(d(9, 29), 3), Some(d(10, 9)));
    }
}
