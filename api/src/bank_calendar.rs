//! The bank's working-day calendar in GraphQL: an admin loads a year's
//! 法定节假日 and 调休; staff read it with every load's author. Every
//! "working day" rule reads it (003 提前3个工作日, docs/loans.md).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::NaiveDate;
use domain::message::message;
use workers::bank_calendar::{self, CalendarDay, CalendarError, Loader};

use crate::context::{request, state};
use crate::error::ApiError;

pub use domain::calendar::CalendarDayKind;

/// A day of the calendar, as loaded.
#[derive(InputObject)]
pub struct CalendarDayInput {
    /// YYYY-MM-DD.
    pub day: String,
    /// Holiday or worked weekend day.
    pub kind: CalendarDayKind,
    /// E.g. 国庆节 (at most 40 characters).
    pub name: Option<String>,
}

/// A day that differs from the weekend rule.
#[derive(SimpleObject)]
pub struct CalendarDayView {
    /// YYYY-MM-DD.
    pub day: String,
    /// HOLIDAY or WORKING_DAY.
    pub kind: String,
    /// Its name.
    pub name: Option<String>,
}

/// One load of a year: who, when.
#[derive(SimpleObject)]
pub struct CalendarLoadView {
    /// Increasing.
    pub load_id: i64,
    /// Who.
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
    /// The request.
    pub request_id: String,
    /// When (RFC 3339).
    pub loaded_at: String,
}

/// A year of the bank's calendar.
#[derive(SimpleObject)]
pub struct BankCalendarYear {
    /// The year.
    pub year: i32,
    /// The days set apart (weekends rest and weekdays work otherwise).
    pub days: Vec<CalendarDayView>,
    /// Every load of the year, latest first (the first is in force).
    pub loads: Vec<CalendarLoadView>,
}

fn refusal(e: CalendarError) -> ApiError {
    match e {
        CalendarError::Database(cause) => ApiError::internal(cause),
        CalendarError::Concurrent => ApiError::new(
            domain::ErrorCode::Conflict,
            domain::message::Localized::message(&e),
        ),
        other => ApiError::validation(domain::message::Localized::message(&other)),
    }
}

async fn year_view(ctx: &Context<'_>, year: i32) -> Result<BankCalendarYear> {
    let pool = state(ctx).database.read_models();
    let days = bank_calendar::year(pool, year)
        .await
        .map_err(ApiError::from)?;
    let loads = bank_calendar::loads(pool, year)
        .await
        .map_err(ApiError::from)?;
    Ok(BankCalendarYear {
        year,
        days: days
            .into_iter()
            .map(|d| CalendarDayView {
                day: d.day,
                kind: d.kind,
                name: d.name,
            })
            .collect(),
        loads: loads
            .into_iter()
            .map(|l| CalendarLoadView {
                load_id: l.load_id,
                actor_id: l.actor_id,
                actor_role: l.actor_role,
                request_id: l.request_id,
                loaded_at: l.loaded_at,
            })
            .collect(),
    })
}

/// Calendar queries.
#[derive(Default)]
pub struct BankCalendarQuery;

#[Object]
impl BankCalendarQuery {
    /// The bank's calendar of `year`: its 法定节假日 and 调休, and who loaded it.
    async fn bank_calendar(&self, ctx: &Context<'_>, year: i32) -> Result<BankCalendarYear> {
        if !(2000..=2100).contains(&year) {
            return Err(refusal(CalendarError::BadYear).into());
        }
        year_view(ctx, year).await
    }
}

/// Calendar mutations.
#[derive(Default)]
pub struct BankCalendarMutation;

#[Object]
impl BankCalendarMutation {
    /// Loads `year`'s days (法定节假日 and 调休, at most 366), replacing that
    /// year's; every load is kept with who made it. Weekends rest and weekdays
    /// work unless listed.
    async fn load_bank_calendar(
        &self,
        ctx: &Context<'_>,
        year: i32,
        #[graphql(validator(max_items = 366))] days: Vec<CalendarDayInput>,
    ) -> Result<BankCalendarYear> {
        let command = request(ctx).command_context()?;
        let mut parsed = Vec::with_capacity(days.len());
        for d in days {
            let day = NaiveDate::parse_from_str(d.day.trim(), "%Y-%m-%d").map_err(|_| {
                ApiError::validation(message!("{} is not a date (YYYY-MM-DD)", d.day.trim()))
            })?;
            let name = d
                .name
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty());
            if name.as_ref().is_some_and(|n| n.chars().count() > 40) {
                return Err(
                    ApiError::validation(message!("name must be at most 40 characters")).into(),
                );
            }
            parsed.push(CalendarDay {
                day,
                kind: d.kind,
                name,
            });
        }
        let loader = Loader {
            actor_id: &command.actor.id,
            actor_role: &command.actor.role,
            request_id: &command.request_id,
        };
        let now = state(ctx).bus.services().clock.now();
        bank_calendar::load_year(
            state(ctx).database.read_models(),
            year,
            &parsed,
            &loader,
            now,
        )
        .await
        .map_err(refusal)?;
        year_view(ctx, year).await
    }
}
