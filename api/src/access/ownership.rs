//! Whose record it is: the ownership rule of every record type, beside the
//! role rules (docs/security.md, "Ownership"). The role rule says whether a
//! role may run an operation at all; these say whether this caller may touch
//! this record. Commands are checked on the aggregate as loaded for the command
//! (a guard of the command bus, so the check and the decision see the same
//! state); queries are checked on the row before it is returned, and lists are
//! filtered in SQL so counts and pages never reveal other people's records.
//!
//! A refusal is `NOT_FOUND` for customers (the public must not learn that
//! someone else's record exists) and `FORBIDDEN` for staff.

use domain::error::ErrorCode;
use domain::interview_task::{InterviewTask, TaskStatus};
use domain::loan_application::LoanApplication;
use domain::message::{message, Message};
use domain::role::Role;
use projections::task_board::TaskBoardRow;
use store::Denied;

/// Who asks, as the ownership rules see them: the verified role and subject
/// of the bearer token, never an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller<'a> {
    /// The role of the token.
    pub role: Role,
    /// The token's subject: a customer's ID number, a manager's staff no, a seat no.
    pub id: &'a str,
}

/// Whether the caller wants to read a record or act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// A query.
    Read,
    /// A command.
    Act,
}

/// What the rules look at on an interview task.
#[derive(Debug, Clone, Default)]
pub struct TaskFacts {
    /// Whether the task exists.
    pub exists: bool,
    /// The owning account manager.
    pub manager_id: String,
    /// ID numbers of everyone on the contract.
    pub participant_ids: Vec<String>,
    /// The seat of the current appointment.
    pub booked_seat: Option<String>,
    /// The seat that connected the interview.
    pub interview_seat: Option<String>,
    /// Whether the interview is in progress: the connecting seat holds the task.
    pub held: bool,
    /// Seats a call for the task was offered to or answered by.
    pub called_seats: Vec<String>,
}

impl TaskFacts {
    /// The facts of a task as the write side has it.
    pub fn of_task(task: &InterviewTask, called_seats: Vec<String>) -> Self {
        Self {
            exists: task.exists(),
            manager_id: task.manager_id().to_string(),
            participant_ids: task
                .participants()
                .iter()
                .map(|p| p.id_number.clone())
                .collect(),
            booked_seat: task.appointment().map(|a| a.seat_no.clone()),
            interview_seat: task.seat_no().map(str::to_string),
            held: task.holder().is_some(),
            called_seats,
        }
    }

    /// The facts of a task as the task board has it.
    pub fn of_row(row: &TaskBoardRow, called_seats: Vec<String>) -> Self {
        let participant_ids =
            serde_json::from_str::<Vec<domain::interview_task::Participant>>(&row.participants)
                .map(|people| people.into_iter().map(|p| p.id_number).collect())
                .unwrap_or_default();
        Self {
            exists: true,
            manager_id: row.manager_id.clone(),
            participant_ids,
            booked_seat: row.seat_no.clone(),
            interview_seat: row.interview_seat.clone(),
            held: row.status == TaskStatus::InProgress.as_str(),
            called_seats,
        }
    }
}

/// What the rules look at on a loan application.
#[derive(Debug, Clone, Default)]
pub struct LoanFacts {
    /// Whether the application exists.
    pub exists: bool,
    /// The owning account manager.
    pub manager_id: String,
    /// The applicant: the main borrower's ID number.
    pub applicant_id: Option<String>,
}

impl LoanFacts {
    /// The facts of an application as the write side has it.
    pub fn of_loan(loan: &LoanApplication) -> Self {
        let (_, _, manager) = loan.product_channel_manager();
        Self {
            exists: loan.node().is_some(),
            manager_id: manager.to_string(),
            applicant_id: loan
                .participants()
                .iter()
                .find(|p| p.is_main_borrower())
                .map(|p| p.id_number.clone()),
        }
    }
}

/// What the rules look at on a work order (004 3.3).
#[derive(Debug, Clone, Default)]
pub struct WorkOrderFacts {
    /// The customer's ID number, when the work order names one.
    pub customer_id: Option<String>,
    /// The seat (or supervisor) that created it.
    pub created_by: String,
    /// The seat that connected it.
    pub seat_no: Option<String>,
    /// Seats a call for it was offered to or answered by.
    pub called_seats: Vec<String>,
}

fn refusal(caller: Caller<'_>, what: &str, why: Option<Message>) -> Denied {
    if caller.role == Role::Customer {
        Denied {
            code: ErrorCode::NotFound,
            message: message!("{what} not found"),
        }
    } else {
        Denied {
            code: ErrorCode::Forbidden,
            message: why.unwrap_or_else(|| message!("{what} not found")),
        }
    }
}

fn is(value: Option<&String>, id: &str) -> bool {
    value.is_some_and(|v| v == id)
}

/// 000, 001: a customer reaches the tasks they are on; an account manager the
/// tasks they manage (000 J010); a seat the task booked on, offered to or
/// connected by it — and while a seat holds a task (in progress), only that
/// seat acts on it until it ends or puts the task back (000 放回).
pub fn task(caller: Caller<'_>, task: &TaskFacts, intent: Intent) -> Result<(), Denied> {
    if !task.exists {
        // The aggregate answers NOT_FOUND for everybody alike.
        return Ok(());
    }
    let id = caller.id;
    match caller.role {
        Role::Customer if task.participant_ids.iter().any(|p| p == id) => Ok(()),
        Role::Customer => Err(refusal(caller, "interview task", None)),
        Role::AccountManager if task.manager_id == id => Ok(()),
        // The refusal names no one: who manages or holds a task the caller
        // may not read is not the caller's to learn (issue 31).
        Role::AccountManager => Err(refusal(
            caller,
            "interview task",
            Some(message!("the task is not managed by account manager {id}")),
        )),
        Role::Seat => {
            let reaches = is(task.booked_seat.as_ref(), id)
                || is(task.interview_seat.as_ref(), id)
                || task.called_seats.iter().any(|s| s == id);
            if !reaches {
                return Err(refusal(
                    caller,
                    "interview task",
                    Some(message!(
                        "the task is not booked on, offered to or connected by seat {id}"
                    )),
                ));
            }
            if intent == Intent::Act && task.held && !is(task.interview_seat.as_ref(), id) {
                // A seat the task reaches may know which seat holds it.
                return Err(refusal(
                    caller,
                    "interview task",
                    Some(message!(
                        "seat {seat} holds the task until it ends the interview or puts the task back (放回)",
                        seat = task.interview_seat.as_deref().unwrap_or("?")
                    )),
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// 003: a customer reaches their own application (as its applicant, the main
/// borrower); an account manager the applications they manage.
pub fn loan(caller: Caller<'_>, loan: &LoanFacts) -> Result<(), Denied> {
    if !loan.exists {
        return Ok(());
    }
    let id = caller.id;
    match caller.role {
        Role::Customer if is(loan.applicant_id.as_ref(), id) => Ok(()),
        Role::Customer => Err(refusal(caller, "loan application", None)),
        Role::AccountManager if loan.manager_id == id => Ok(()),
        Role::AccountManager => Err(refusal(
            caller,
            "loan application",
            Some(message!(
                "the application is not managed by account manager {id}"
            )),
        )),
        _ => Ok(()),
    }
}

/// 004 3.3–3.4: a customer reaches the work orders that name them; a seat
/// those it created, connected, or had a call for offered to it.
pub fn work_order(caller: Caller<'_>, order: &WorkOrderFacts) -> Result<(), Denied> {
    let id = caller.id;
    match caller.role {
        Role::Customer if is(order.customer_id.as_ref(), id) => Ok(()),
        Role::Customer => Err(refusal(caller, "work order", None)),
        Role::Seat
            if order.created_by == id
                || is(order.seat_no.as_ref(), id)
                || order.called_seats.iter().any(|s| s == id) =>
        {
            Ok(())
        }
        Role::Seat => Err(refusal(
            caller,
            "work order",
            Some(message!(
                "the work order was neither created by, connected by nor offered to seat {id}"
            )),
        )),
        _ => Ok(()),
    }
}

/// A seat acts as itself: a seat number argument must be the caller's own.
pub fn own_seat(caller: Caller<'_>, seat_no: &str) -> Result<(), Denied> {
    if caller.role == Role::Seat && seat_no.trim() != caller.id {
        return Err(Denied {
            code: ErrorCode::Forbidden,
            message: message!(
                "seat {seat} may act only as itself, not as seat {seat_no}",
                seat = caller.id
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> TaskFacts {
        TaskFacts {
            exists: true,
            manager_id: "M1".into(),
            participant_ids: vec!["410102198503121017".into()],
            booked_seat: Some("S1".into()),
            interview_seat: None,
            held: false,
            called_seats: vec!["S3".into()],
        }
    }

    fn who(role: Role, id: &str) -> Caller<'_> {
        Caller { role, id }
    }

    /// 000 J010: a manager's list is the tasks whose manager is the logged-in user.
    #[test]
    fn managers_reach_their_own_tasks_customers_theirs_and_never_learn_of_others() {
        let task = facts();
        assert!(super::task(who(Role::AccountManager, "M1"), &task, Intent::Act).is_ok());
        let other = super::task(who(Role::AccountManager, "M2"), &task, Intent::Read).unwrap_err();
        assert_eq!(other.code, ErrorCode::Forbidden);
        assert!(super::task(
            who(Role::Customer, "410102198503121017"),
            &task,
            Intent::Act
        )
        .is_ok());
        let stranger = super::task(who(Role::Customer, "x"), &task, Intent::Read).unwrap_err();
        assert_eq!(stranger.code, ErrorCode::NotFound);
        for role in [
            Role::Supervisor,
            Role::QcReviewer,
            Role::Admin,
            Role::Auditor,
        ] {
            assert!(super::task(who(role, "anyone"), &task, Intent::Act).is_ok());
        }
    }

    /// 000: the seat that connects a task holds it; another seat may read it
    /// only if it reaches it otherwise, and acts on it only once it is put back.
    #[test]
    fn the_connecting_seat_holds_the_task() {
        let mut task = facts();
        assert!(
            super::task(who(Role::Seat, "S1"), &task, Intent::Act).is_ok(),
            "booked"
        );
        assert!(
            super::task(who(Role::Seat, "S3"), &task, Intent::Act).is_ok(),
            "offered"
        );
        assert!(super::task(who(Role::Seat, "S2"), &task, Intent::Read).is_err());
        task.held = true;
        task.interview_seat = Some("S3".into());
        assert!(super::task(who(Role::Seat, "S3"), &task, Intent::Act).is_ok());
        let booked = super::task(who(Role::Seat, "S1"), &task, Intent::Act).unwrap_err();
        assert!(
            booked
                .message
                .to_string()
                .contains("seat S3 holds the task"),
            "{}",
            booked.message
        );
        assert!(super::task(who(Role::Seat, "S1"), &task, Intent::Read).is_ok());
        task.held = false;
        task.interview_seat = None;
        assert!(
            super::task(who(Role::Seat, "S1"), &task, Intent::Act).is_ok(),
            "put back"
        );
    }

    #[test]
    fn a_seat_acts_only_as_itself() {
        assert!(own_seat(who(Role::Seat, "S1"), "S1").is_ok());
        assert_eq!(
            own_seat(who(Role::Seat, "S1"), "S2").unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert!(own_seat(who(Role::Supervisor, "SV"), "S2").is_ok());
    }
}
