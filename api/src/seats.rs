//! Seats in GraphQL: registration, working hours, enable/disable, the seat
//! calendar and free slots (001 2.4.6 坐席管理).

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use domain::message::message;
use domain::schedule::{WeeklyHours, WorkingPeriod};
use domain::seat::{Seat, SeatCommand};
use projections::seat_calendar::{SeatCalendar, SeatRow};

use crate::access::checks;
use crate::command;
use crate::context::state;
use crate::error::ApiError;

/// Day of the week.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "chrono::Weekday")]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

/// Presence a seat sets by hand (004 3.1); 忙碌 is the system's.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum SeatPresence {
    /// 空闲.
    Idle,
    /// 暂放.
    Paused,
    /// 话后处理.
    AfterCall,
}

impl From<SeatPresence> for domain::seat::Presence {
    fn from(p: SeatPresence) -> Self {
        match p {
            SeatPresence::Idle => Self::Idle,
            SeatPresence::Paused => Self::Paused,
            SeatPresence::AfterCall => Self::AfterCall,
        }
    }
}

/// One working period, in Asia/Shanghai local time.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "WorkingPeriodInput")]
pub struct WorkingPeriodView {
    /// Day of the week.
    pub weekday: Weekday,
    /// Local start (HH:MM:SS).
    pub start: NaiveTime,
    /// Local end, exclusive.
    pub end: NaiveTime,
}

/// Input of `registerSeat`.
#[derive(InputObject)]
pub struct RegisterSeatInput {
    /// Seat no (工号), the seat's id.
    pub seat_no: String,
    /// Agent's display name.
    pub name: String,
    /// Seat groups (客服组).
    #[graphql(default)]
    pub groups: Vec<String>,
    /// Product and channel codes the seat serves.
    #[graphql(default)]
    pub skills: Vec<String>,
}

/// A seat.
pub struct SeatView(SeatRow);

#[Object(name = "Seat")]
impl SeatView {
    /// Seat no.
    async fn seat_no(&self) -> &str {
        &self.0.seat_no
    }
    /// Agent's display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Whether the seat can be booked (启用).
    async fn enabled(&self) -> bool {
        self.0.enabled != 0
    }
    /// Seat groups.
    async fn groups(&self) -> Vec<String> {
        serde_json::from_str(&self.0.seat_groups).unwrap_or_default()
    }
    /// Skills.
    async fn skills(&self) -> Vec<String> {
        self.0.skill_list()
    }
    /// On duty (签入).
    async fn signed_in(&self) -> bool {
        self.0.signed_in != 0
    }
    /// 空闲 IDLE, 暂放 PAUSED, 忙碌 BUSY or 话后处理 AFTER_CALL.
    async fn presence(&self) -> &str {
        &self.0.presence
    }
    /// Weekly working hours.
    async fn working_hours(&self) -> Vec<WorkingPeriodView> {
        self.0
            .hours()
            .0
            .into_iter()
            .map(|p| WorkingPeriodView {
                weekday: p.weekday.into(),
                start: p.start,
                end: p.end,
            })
            .collect()
    }
}

/// One booking on a seat's calendar.
#[derive(SimpleObject)]
pub struct CalendarBooking {
    /// The task booked.
    pub task_id: ID,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
}

/// A bookable slot.
#[derive(SimpleObject)]
pub struct FreeSlot {
    /// Seat no.
    pub seat_no: String,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
}

/// Result of a seat command.
#[derive(SimpleObject)]
pub struct SeatPayload {
    /// Seat no.
    pub seat_no: String,
    /// The seat after the command; null only if the calendar did not catch up in time.
    pub seat: Option<SeatView>,
    /// Whether `seat` reflects the command.
    pub projected: bool,
}

fn parse(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|e| ApiError::internal(format!("stored time {text}: {e}")).into())
}

fn check_range(from: DateTime<Utc>, to: DateTime<Utc>, max_days: i64) -> Result<()> {
    if to <= from || to - from > Duration::days(max_days) {
        return Err(ApiError::validation(message!(
            "`to` must be after `from` and at most {max_days} days later"
        ))
        .into());
    }
    Ok(())
}

/// Seat queries.
#[derive(Default)]
pub struct SeatQuery;

#[Object]
impl SeatQuery {
    /// Every seat, by seat no.
    async fn seats(&self, ctx: &Context<'_>) -> Result<Vec<SeatView>> {
        let rows = SeatCalendar::seats(state(ctx).database.read_models())
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(SeatView).collect())
    }

    /// One seat; null when unknown.
    async fn seat(&self, ctx: &Context<'_>, seat_no: String) -> Result<Option<SeatView>> {
        let row = SeatCalendar::seat(state(ctx).database.read_models(), &seat_no)
            .await
            .map_err(ApiError::from)?;
        Ok(row.map(SeatView))
    }

    /// A seat's bookings in `[from, to)` (at most 62 days), by start.
    async fn seat_calendar(
        &self,
        ctx: &Context<'_>,
        seat_no: String,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CalendarBooking>> {
        check_range(from, to, 62)?;
        let rows = SeatCalendar::bookings(state(ctx).database.read_models(), &seat_no, from, to)
            .await
            .map_err(ApiError::from)?;
        rows.into_iter()
            .map(|b| {
                Ok(CalendarBooking {
                    task_id: ID(b.task_id),
                    start: parse(&b.start_at)?,
                    end: parse(&b.end_at)?,
                })
            })
            .collect()
    }

    /// Bookable slots in `[from, to)` (at most 31 days) on enabled seats that
    /// serve the product and channel, within working hours and free; at most 500.
    async fn free_slots(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        product_code: Option<String>,
        channel_code: Option<String>,
        #[graphql(default = 30)] slot_minutes: i32,
    ) -> Result<Vec<FreeSlot>> {
        check_range(from, to, 31)?;
        if !(5..=240).contains(&slot_minutes) {
            return Err(
                ApiError::validation(message!("slotMinutes must be between 5 and 240")).into(),
            );
        }
        let skills: Vec<String> = product_code.into_iter().chain(channel_code).collect();
        let slots = SeatCalendar::free_slots(
            state(ctx).database.read_models(),
            from,
            to,
            &skills,
            i64::from(slot_minutes),
            500,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(slots
            .into_iter()
            .map(|f| FreeSlot {
                seat_no: f.seat_no,
                start: f.slot.start,
                end: f.slot.end,
            })
            .collect())
    }
}

/// Seat mutations.
#[derive(Default)]
pub struct SeatMutation;

impl SeatMutation {
    async fn send(
        &self,
        ctx: &Context<'_>,
        seat_no: &str,
        command: SeatCommand,
    ) -> Result<SeatPayload> {
        let state = state(ctx);
        let projected = command::send_unguarded::<Seat>(ctx, seat_no, command)
            .await?
            .projected;
        let seat = if projected {
            SeatCalendar::seat(state.database.read_models(), seat_no)
                .await
                .map_err(ApiError::from)?
                .map(SeatView)
        } else {
            None
        };
        Ok(SeatPayload {
            seat_no: seat_no.to_string(),
            seat,
            projected,
        })
    }
}

fn seat_no(value: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty()
        || value.len() > 32
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::validation(message!(
            "seatNo must be 1 to 32 letters, digits, - or _"
        ))
        .into());
    }
    Ok(value.to_string())
}

#[Object]
impl SeatMutation {
    /// Registers a seat (enabled on registration).
    async fn register_seat(
        &self,
        ctx: &Context<'_>,
        input: RegisterSeatInput,
    ) -> Result<SeatPayload> {
        let id = seat_no(&input.seat_no)?;
        self.send(
            ctx,
            &id,
            SeatCommand::Register {
                name: input.name,
                groups: input.groups,
                skills: input.skills,
            },
        )
        .await
    }

    /// Sets the weekly working hours of one or many seats (批量设置工作时间).
    /// Every seat must exist and the hours must be valid, or nothing changes.
    async fn set_working_hours(
        &self,
        ctx: &Context<'_>,
        seat_nos: Vec<String>,
        hours: Vec<WorkingPeriodView>,
    ) -> Result<Vec<SeatPayload>> {
        if seat_nos.is_empty() || seat_nos.len() > 500 {
            return Err(ApiError::validation(message!("seatNos must list 1 to 500 seats")).into());
        }
        let hours = WeeklyHours(
            hours
                .into_iter()
                .map(|p| WorkingPeriod {
                    weekday: p.weekday.into(),
                    start: p.start,
                    end: p.end,
                })
                .collect(),
        );
        hours
            .validate()
            .map_err(|e| ApiError::validation(domain::message::Localized::message(&e)))?;
        let state = state(ctx);
        let mut ids = Vec::with_capacity(seat_nos.len());
        let mut missing = Vec::new();
        for raw in &seat_nos {
            let id = seat_no(raw)?;
            let (_, version) = state
                .bus
                .load::<Seat>(&id)
                .await
                .map_err(ApiError::internal)?;
            if version == 0 {
                missing.push(id.clone());
            }
            ids.push(id);
        }
        if !missing.is_empty() {
            return Err(ApiError::not_found(message!(
                "unknown seats: {seats}",
                seats = missing.join(", ")
            ))
            .into());
        }
        let mut results = Vec::with_capacity(ids.len());
        for id in ids {
            results.push(
                self.send(
                    ctx,
                    &id,
                    SeatCommand::SetWorkingHours {
                        hours: hours.clone(),
                    },
                )
                .await?,
            );
        }
        Ok(results)
    }

    /// 签入: on duty, 空闲.
    async fn sign_in(&self, ctx: &Context<'_>, seat_no: String) -> Result<SeatPayload> {
        checks::own_seat(ctx, &seat_no)?;
        self.send(ctx, &seat_no, SeatCommand::SignIn).await
    }

    /// 签出: off duty; refused during a call.
    async fn sign_out(&self, ctx: &Context<'_>, seat_no: String) -> Result<SeatPayload> {
        checks::own_seat(ctx, &seat_no)?;
        self.send(ctx, &seat_no, SeatCommand::SignOut).await
    }

    /// Sets 空闲, 暂放 or 话后处理; refused during a call (忙碌).
    async fn set_presence(
        &self,
        ctx: &Context<'_>,
        seat_no: String,
        presence: SeatPresence,
    ) -> Result<SeatPayload> {
        checks::own_seat(ctx, &seat_no)?;
        let command = SeatCommand::SetPresence {
            presence: presence.into(),
            by_system: false,
        };
        self.send(ctx, &seat_no, command).await
    }

    /// Makes a seat bookable (启用).
    async fn enable_seat(&self, ctx: &Context<'_>, seat_no: String) -> Result<SeatPayload> {
        self.send(ctx, &seat_no, SeatCommand::Enable).await
    }

    /// Stops a seat taking bookings (停用); refused while it has future bookings,
    /// which the error lists.
    async fn disable_seat(&self, ctx: &Context<'_>, seat_no: String) -> Result<SeatPayload> {
        self.send(ctx, &seat_no, SeatCommand::Disable).await
    }
}
