//! The bank's working-day calendar as stored: an admin loads a year's
//! 法定节假日 and 调休 at once (replacing that year's), and every load is kept
//! with who made it, so the calendar any rule used can be read back.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::calendar::{BankCalendar, CalendarDayKind};
use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, FromRow};

/// One day the calendar sets apart from the weekend rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    /// The day.
    pub day: NaiveDate,
    /// Holiday or worked weekend day.
    pub kind: CalendarDayKind,
    /// E.g. 国庆节.
    pub name: Option<String>,
}

/// A stored day.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CalendarDayRow {
    /// YYYY-MM-DD.
    pub day: String,
    /// HOLIDAY or WORKING_DAY.
    pub kind: String,
    /// Its name.
    pub name: Option<String>,
}

/// A load of a year, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CalendarLoadRow {
    /// Increasing.
    pub load_id: i64,
    /// The year loaded.
    pub year: i64,
    /// Who.
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
    /// The request.
    pub request_id: String,
    /// When (RFC 3339).
    pub loaded_at: String,
}

/// Who loads a calendar.
#[derive(Debug, Clone)]
pub struct Loader<'a> {
    /// Who.
    pub actor_id: &'a str,
    /// In which role.
    pub actor_role: &'a str,
    /// The request.
    pub request_id: &'a str,
}

/// Why a year's days cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, domain::message::Localized)]
pub enum CalendarError {
    /// A day outside the year loaded.
    #[error("{day} is not in {year}")]
    OutsideYear {
        /// The day.
        day: NaiveDate,
        /// The year.
        year: i32,
    },
    /// The same day twice.
    #[error("{0} is listed twice")]
    Duplicate(NaiveDate),
    /// 调休 is a weekend day worked: a weekday is a working day already.
    #[error("{0} is a weekday: only a weekend day is marked as worked (调休)")]
    WeekdayWorked(NaiveDate),
    /// A year the engine does not keep.
    #[error("the year must be between 2000 and 2100")]
    BadYear,
    /// Another load of the same moment won.
    #[error("another calendar load was stored at the same time; load again")]
    Concurrent,
    /// The database failed.
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for CalendarError {
    fn from(e: sqlx::Error) -> Self {
        CalendarError::Database(e.to_string())
    }
}

/// Checks a year's days: all in the year, each once, 调休 only on weekends.
pub fn check_year(year: i32, days: &[CalendarDay]) -> Result<(), CalendarError> {
    if !(2000..=2100).contains(&year) {
        return Err(CalendarError::BadYear);
    }
    let mut seen = std::collections::BTreeSet::new();
    for d in days {
        if d.day.year() != year {
            return Err(CalendarError::OutsideYear { day: d.day, year });
        }
        if !seen.insert(d.day) {
            return Err(CalendarError::Duplicate(d.day));
        }
        let weekend = matches!(d.day.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
        if d.kind == CalendarDayKind::WorkingDay && !weekend {
            return Err(CalendarError::WeekdayWorked(d.day));
        }
    }
    Ok(())
}

/// Replaces `year`'s days with `days` and records the load; returns its id.
pub async fn load_year(
    pool: &AnyPool,
    year: i32,
    days: &[CalendarDay],
    loader: &Loader<'_>,
    now: DateTime<Utc>,
) -> Result<i64, CalendarError> {
    check_year(year, days)?;
    let mut tx = pool.begin().await?;
    let (load_id,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(load_id), 0) + 1 FROM bank_calendar_loads")
            .fetch_one(&mut *tx)
            .await?;
    let inserted = sqlx::query(
        "INSERT INTO bank_calendar_loads (load_id, year, days, actor_id, actor_role, request_id, loaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(load_id)
    .bind(i64::from(year))
    .bind(serde_json::to_string(days).expect("calendar days serialise"))
    .bind(loader.actor_id)
    .bind(loader.actor_role)
    .bind(loader.request_id)
    .bind(domain::log::rfc3339(now))
    .execute(&mut *tx)
    .await;
    if let Err(e) = inserted {
        return Err(match e.as_database_error() {
            Some(db) if db.is_unique_violation() => CalendarError::Concurrent,
            _ => e.into(),
        });
    }
    sqlx::query("DELETE FROM bank_calendar WHERE year = $1")
        .bind(i64::from(year))
        .execute(&mut *tx)
        .await?;
    for d in days {
        sqlx::query(
            "INSERT INTO bank_calendar (day, year, kind, name, load_id) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(d.day.to_string())
        .bind(i64::from(year))
        .bind(domain::wire_name(&d.kind))
        .bind(d.name.clone())
        .bind(load_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(load_id)
}

/// The days of `year` that differ from the weekend rule, in order.
pub async fn year(pool: &AnyPool, year: i32) -> Result<Vec<CalendarDayRow>, sqlx::Error> {
    sqlx::query_as("SELECT day, kind, name FROM bank_calendar WHERE year = $1 ORDER BY day")
        .bind(i64::from(year))
        .fetch_all(pool)
        .await
}

/// The loads of `year`, latest first.
pub async fn loads(pool: &AnyPool, year: i32) -> Result<Vec<CalendarLoadRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT load_id, year, actor_id, actor_role, request_id, loaded_at
           FROM bank_calendar_loads WHERE year = $1 ORDER BY load_id DESC",
    )
    .bind(i64::from(year))
    .fetch_all(pool)
    .await
}

/// The calendar from `from` for about a year: what a working-day rule reads.
pub async fn calendar_from(pool: &AnyPool, from: NaiveDate) -> Result<BankCalendar, sqlx::Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT day, kind FROM bank_calendar WHERE year >= $1 AND year <= $2")
            .bind(i64::from(from.year()))
            .bind(i64::from(from.year() + 1))
            .fetch_all(pool)
            .await?;
    Ok(BankCalendar::new(rows.into_iter().filter_map(
        |(day, kind)| {
            let day = day.parse().ok()?;
            let kind = match kind.as_str() {
                "HOLIDAY" => CalendarDayKind::Holiday,
                "WORKING_DAY" => CalendarDayKind::WorkingDay,
                _ => return None,
            };
            Some((day, kind))
        },
    )))
}
