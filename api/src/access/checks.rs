//! Where the ownership rules meet requests: the facts a rule needs are read
//! here (the aggregate for commands, the read model for queries) and a refusal
//! becomes the API's error.

use async_graphql::Context;
use domain::interview_task::{InterviewTask, TaskAction, TaskStatus};
use domain::loan_application::LoanApplication;
use domain::message::message;
use domain::role::Role;
use projections::task_board::TaskBoardRow;
use projections::CallQueue;
use store::Denied;

use super::ownership::{self, Caller, Intent, LoanFacts, TaskFacts, WorkOrderFacts};
use crate::context::{request, state};
use crate::error::ApiError;

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        ApiError::new(denied.code, denied.message)
    }
}

/// The authenticated caller (the role rule already made sure there is one).
pub(crate) fn caller<'a>(ctx: &Context<'a>) -> Result<Caller<'a>, ApiError> {
    let context = request(ctx);
    match (context.role(), context.actor.as_ref()) {
        (Some(role), Some(actor)) => Ok(Caller {
            role,
            id: actor.id.as_str(),
        }),
        _ => Err(ApiError::new(
            domain::ErrorCode::Unauthenticated,
            message!("a bearer token is required"),
        )),
    }
}

/// Seats a call for `record_id` reached, when the caller is a seat (the only
/// role whose rule looks at them); batched over the rows of a list.
async fn called_seats(ctx: &Context<'_>, record_id: &str) -> Result<Vec<String>, ApiError> {
    if caller(ctx)?.role != Role::Seat {
        return Ok(Vec::new());
    }
    crate::loaders::seats_called_for(ctx, record_id).await
}

/// The guard a task command runs under: the caller must reach the task as
/// loaded for the command.
pub(crate) async fn task_guard(
    ctx: &Context<'_>,
    task_id: &str,
) -> Result<impl Fn(&InterviewTask) -> Result<(), Denied> + Send + Sync, ApiError> {
    let caller = caller(ctx)?;
    let (role, id) = (caller.role, caller.id.to_string());
    let seats = called_seats(ctx, task_id).await?;
    Ok(move |task: &InterviewTask| {
        let facts = TaskFacts::of_task(task, seats.clone());
        ownership::task(Caller { role, id: &id }, &facts, Intent::Act)
    })
}

/// Whether the caller may read this task row (FORBIDDEN / NOT_FOUND otherwise).
pub(crate) async fn read_task(ctx: &Context<'_>, row: &TaskBoardRow) -> Result<(), ApiError> {
    let caller = caller(ctx)?;
    let facts = TaskFacts::of_row(row, called_seats(ctx, &row.task_id).await?);
    ownership::task(caller, &facts, Intent::Read).map_err(ApiError::from)
}

/// Whether the caller may act on this task row (for checks made before a
/// command to another aggregate, e.g. joining the queue for it).
pub(crate) async fn act_on_task(ctx: &Context<'_>, row: &TaskBoardRow) -> Result<(), ApiError> {
    let caller = caller(ctx)?;
    let facts = TaskFacts::of_row(row, called_seats(ctx, &row.task_id).await?);
    ownership::task(caller, &facts, Intent::Act).map_err(ApiError::from)
}

/// The guard a loan command runs under.
pub(crate) fn loan_guard(
    ctx: &Context<'_>,
) -> Result<impl Fn(&LoanApplication) -> Result<(), Denied> + Send + Sync, ApiError> {
    let caller = caller(ctx)?;
    let (role, id) = (caller.role, caller.id.to_string());
    Ok(move |loan: &LoanApplication| {
        ownership::loan(Caller { role, id: &id }, &LoanFacts::of_loan(loan))
    })
}

/// [`read_loan`] for a query that answers "none" for a loan the caller cannot
/// see: false when the loan looks absent to them (another customer's, or no
/// such loan); any other refusal is an error.
pub(crate) async fn loan_visible(ctx: &Context<'_>, loan_id: &str) -> Result<bool, ApiError> {
    match read_loan(ctx, loan_id).await {
        Ok(()) => Ok(true),
        Err(e) if e.code == domain::ErrorCode::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the caller may read a loan application (seats: when they reach its
/// interview task).
pub(crate) async fn read_loan(ctx: &Context<'_>, loan_id: &str) -> Result<(), ApiError> {
    let caller = caller(ctx)?;
    let state = state(ctx);
    let (loan, _) = state
        .bus
        .load::<LoanApplication>(loan_id)
        .await
        .map_err(ApiError::internal)?;
    let facts = LoanFacts::of_loan(&loan);
    ownership::loan(caller, &facts)?;
    if caller.role == Role::Seat && facts.exists {
        let row = match loan.interview_task() {
            Some(task) => projections::TaskBoard::get(state.database.read_models(), task).await?,
            None => None,
        };
        match row {
            Some(row) => read_task(ctx, &row).await?,
            None => {
                return Err(ApiError::new(
                    domain::ErrorCode::Forbidden,
                    message!(
                        "a seat reads a loan application through the interview task it serves"
                    ),
                ))
            }
        }
    }
    Ok(())
}

/// Whether the caller may touch work order `id` (read or act alike).
pub(crate) async fn work_order(ctx: &Context<'_>, id: &str) -> Result<(), ApiError> {
    let caller = caller(ctx)?;
    if !matches!(caller.role, Role::Seat | Role::Customer) {
        return Ok(());
    }
    let pool = state(ctx).database.read_models();
    let Some(row) = projections::AdminCatalog::work_order(pool, id).await? else {
        // The aggregate answers NOT_FOUND for everybody alike.
        return Ok(());
    };
    let facts = WorkOrderFacts {
        customer_id: row.id_number.clone(),
        created_by: row.created_by.clone(),
        seat_no: row.seat_no.clone(),
        called_seats: called_seats(ctx, id).await?,
    };
    ownership::work_order(caller, &facts).map_err(ApiError::from)
}

/// A filter on personal data the caller sees masked in the list it filters
/// would be an oracle: one query per guess tells what the mask hides (issue
/// 31: `tasks(filter: {borrowerName})` gave away 邓*闲's middle character).
/// Refused for such roles; a customer's lists hold only their own records,
/// which they may look up by their own data.
pub(crate) fn masked_filter(ctx: &Context<'_>, filter: &str) -> Result<(), ApiError> {
    let caller = caller(ctx)?;
    if caller.role == Role::Customer || super::reveals(Some(caller.role), super::Showing::Listed) {
        return Ok(());
    }
    Err(ApiError::new(
        domain::ErrorCode::Forbidden,
        message!(
            "role {role} sees {filter} masked and may not filter by it",
            role = caller.role
        ),
    ))
}

/// A seat-number argument must be the calling seat's own.
pub(crate) fn own_seat(ctx: &Context<'_>, seat_no: &str) -> Result<(), ApiError> {
    ownership::own_seat(caller(ctx)?, seat_no).map_err(ApiError::from)
}

/// Whether the caller may touch inbound call `call_id`: a customer when they
/// reach the task or work order it is for, a seat when it was given to it.
pub(crate) async fn call(ctx: &Context<'_>, call_id: &str) -> Result<(), ApiError> {
    let caller = caller(ctx)?;
    if !matches!(caller.role, Role::Seat | Role::Customer) {
        return Ok(());
    }
    let (call, _) = state(ctx)
        .bus
        .load::<domain::inbound_call::InboundCall>(call_id)
        .await
        .map_err(ApiError::internal)?;
    if call.status() == domain::inbound_call::CallStatus::New {
        return Ok(()); // unknown: answered NOT_FOUND alike for everybody
    }
    if caller.role == Role::Seat {
        return if call.seat_no() == Some(caller.id) {
            Ok(())
        } else {
            Err(ApiError::new(
                domain::ErrorCode::Forbidden,
                message!("the call was not given to seat {seat}", seat = caller.id),
            ))
        };
    }
    let record = call.call().task_id.clone();
    match projections::TaskBoard::get(state(ctx).database.read_models(), &record).await? {
        Some(row) => act_on_task(ctx, &row).await,
        None => {
            match projections::AdminCatalog::work_order(state(ctx).database.read_models(), &record)
                .await?
            {
                Some(_) => work_order(ctx, &record).await,
                None => Err(ApiError::not_found(message!("inbound call not found"))),
            }
        }
    }
}

/// How a record the caller reads on its own is shown, for the masking rule: a
/// seat serves a task it holds (in progress on it) or whose call is ringing
/// at or answered by it; a work order it connected likewise.
pub(crate) async fn showing(
    ctx: &Context<'_>,
    record_id: &str,
    held_by: Option<&str>,
) -> Result<super::Showing, ApiError> {
    let caller = caller(ctx)?;
    if caller.role != Role::Seat {
        return Ok(super::Showing::Alone);
    }
    if held_by == Some(caller.id) {
        return Ok(super::Showing::Serving);
    }
    let serving = CallQueue::seats_serving(state(ctx).database.read_models(), record_id).await?;
    Ok(if serving.iter().any(|s| s == caller.id) {
        super::Showing::Serving
    } else {
        super::Showing::Alone
    })
}

/// The steps the caller may take on the task of `row` now: those its state
/// opens (domain `TaskAction`), that the caller's role may run, on a task the
/// caller may act on (a seat: one it reaches and, while in progress, holds).
pub(crate) async fn task_actions(
    ctx: &Context<'_>,
    row: &TaskBoardRow,
) -> Result<Vec<TaskAction>, ApiError> {
    let Ok(caller) = caller(ctx) else {
        return Ok(Vec::new());
    };
    let status = TaskStatus::parse(&row.status)
        .ok_or_else(|| ApiError::internal(format!("unknown stored status {}", row.status)))?;
    let open = TaskAction::available(status, row.appointment_start.is_some());
    if open.is_empty() {
        return Ok(open);
    }
    let facts = TaskFacts::of_row(row, called_seats(ctx, &row.task_id).await?);
    if ownership::task(caller, &facts, Intent::Act).is_err() {
        return Ok(Vec::new());
    }
    Ok(open
        .into_iter()
        .filter(|action| {
            super::allowed_roles(&format!("Mutation.{}", action.operation()))
                .is_some_and(|roles| roles.contains(&caller.role))
        })
        .collect())
}
