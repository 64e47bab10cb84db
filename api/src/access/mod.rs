//! Who may do what, decided in one place: the role rule of every GraphQL
//! operation (deny by default), and which roles see personal data unmasked.

use domain::message::message;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ServerResult, Value};
use domain::error::ErrorCode;
use domain::role::Role;

use crate::error::ApiError;
use crate::request::RequestContext;

pub(crate) mod checks;
mod masking;
pub mod ownership;
pub(crate) mod record;

pub use masking::{actor_id, id_number, json, name, phone, reveals, Showing};

use Role::*;

const STAFF_READERS: &[Role] = &[AccountManager, Seat, QcReviewer, Supervisor, Admin, Auditor];
const AUDITORS: &[Role] = &[Auditor, Admin];
const SEAT_MANAGERS: &[Role] = &[Supervisor, Admin];

/// Changes of the bank's configuration (issue 34 item 4): whoever makes
/// them logs in with a second factor.
pub const CONFIGURATION_CHANGES: &[&str] = &[
    "Mutation.createChannel",
    "Mutation.editChannel",
    "Mutation.enableChannel",
    "Mutation.disableChannel",
    "Mutation.deleteChannel",
    "Mutation.configureDispatchRule",
    "Mutation.addScript",
    "Mutation.editScript",
    "Mutation.removeScript",
    "Mutation.makeDefaultScript",
    "Mutation.createMedia",
    "Mutation.editMedia",
    "Mutation.enableMedia",
    "Mutation.disableMedia",
    "Mutation.deleteMedia",
    "Mutation.createSeatGroup",
    "Mutation.editSeatGroup",
    "Mutation.deleteSeatGroup",
    "Mutation.createAccount",
    "Mutation.editAccount",
    "Mutation.disableAccount",
    "Mutation.enableAccount",
    "Mutation.deleteAccount",
    "Mutation.kickAccount",
    "Mutation.registerSeat",
    "Mutation.setWorkingHours",
    "Mutation.enableSeat",
    "Mutation.disableSeat",
    "Mutation.loadBankCalendar",
    "Mutation.retryCallback",
];

/// Reads that show people's data: unmasked to the roles that see it in
/// clear (`masking::reveals`), which therefore log in with a second factor.
const PERSONAL_DATA_READS: &[&str] = &[
    "Query.task",
    "Query.tasks",
    "Query.taskDetail",
    "Query.taskLineage",
    "Query.smsMessages",
    "Query.interviewRoom",
    "Query.qcCases",
    "Query.qcCase",
    "Query.callRecords",
    "Query.loanApplication",
    "Query.loanLedger",
    "Query.loans",
    "Query.loanRepaymentPlan",
    "Query.loanTransactions",
    "Query.contractDownloads",
    "Query.manualCases",
    "Query.inboundCall",
    "Query.callQueue",
    "Query.workOrders",
    "Query.partnerOrder",
    "Subscription.taskChanged",
];

/// The steps of four eyes (`crate::change_proposals`), as weighty as the
/// changes they make.
const CHANGE_STEPS: &[&str] = &[
    "Mutation.proposeChange",
    "Mutation.approveChange",
    "Mutation.withdrawChange",
];

/// Whether `role` needs a multi-factor login for `operation`.
pub fn needs_multi_factor(operation: &str, role: Role) -> bool {
    CONFIGURATION_CHANGES.contains(&operation)
        || CHANGE_STEPS.contains(&operation)
        || (PERSONAL_DATA_READS.contains(&operation) && reveals(Some(role), Showing::Serving))
}

/// The rule of every operation, `Type.field` → roles allowed. An operation
/// missing here is refused for everybody; a test walks the schema to keep this
/// table complete.
pub const RULES: &[(&str, &[Role])] = &[
    // Task board.
    (
        "Query.task",
        &[
            AccountManager,
            Seat,
            QcReviewer,
            Supervisor,
            Admin,
            Auditor,
            Customer,
        ],
    ),
    // A customer lists the tasks they are on (004 4.2 我的工单).
    (
        "Query.tasks",
        &[
            AccountManager,
            Seat,
            QcReviewer,
            Supervisor,
            Admin,
            Auditor,
            Customer,
        ],
    ),
    (
        "Query.interviewRoute",
        &[AccountManager, Supervisor, Admin, CreditSystem],
    ),
    (
        "Query.smsMessages",
        &[AccountManager, Seat, Supervisor, Admin, Auditor],
    ),
    // Seats.
    ("Query.seats", STAFF_READERS),
    ("Query.seat", STAFF_READERS),
    ("Query.seatCalendar", STAFF_READERS),
    (
        "Query.freeSlots",
        &[AccountManager, Seat, Supervisor, Admin, Customer],
    ),
    // Auditors.
    ("Query.auditTrail", AUDITORS),
    ("Query.actorTrail", AUDITORS),
    ("Query.events", AUDITORS),
    ("Query.aggregateAt", AUDITORS),
    // 操作留痕: who was refused, who saw personal data.
    ("Query.operationLog", &[Auditor]),
    // Task commands.
    (
        "Mutation.createInterviewTask",
        &[CreditSystem, AccountManager, Admin],
    ),
    (
        "Mutation.cancelInterviewTask",
        &[CreditSystem, AccountManager, Supervisor, Admin],
    ),
    (
        "Mutation.bookAppointment",
        &[AccountManager, Supervisor, CreditSystem],
    ),
    (
        "Mutation.rescheduleAppointment",
        &[Customer, AccountManager, Seat, Supervisor],
    ),
    ("Mutation.reassignAppointment", SEAT_MANAGERS),
    (
        "Mutation.requestSecondInterview",
        &[Customer, AccountManager, Supervisor],
    ),
    ("Mutation.startInterview", &[Seat]),
    ("Mutation.concludeInterview", &[Seat]),
    ("Mutation.releaseTask", &[Seat, Supervisor]),
    // The interview session (seat workstation; 展业APP for the field investigation).
    ("Mutation.recordFieldInvestigation", &[AccountManager, Seat]),
    // Verdicts come from the verification service, never from a person's client.
    ("Mutation.recordIdentityCheck", &[VerificationService]),
    ("Mutation.recordVideoWitness", &[Seat]),
    ("Mutation.recordInfoEntry", &[Seat]),
    ("Mutation.captureSnapshot", &[Seat]),
    ("Mutation.pushDocument", &[Seat]),
    ("Mutation.signDocument", &[Customer, Seat]),
    ("Mutation.sendChatMessage", &[Customer, Seat]),
    ("Mutation.addRemark", &[Seat, AccountManager, Supervisor]),
    ("Mutation.editLoanInfo", &[Seat]),
    ("Mutation.confirmLoanInfo", &[Seat]),
    ("Mutation.endCall", &[Seat]),
    ("Mutation.joinInterview", &[Customer]),
    ("Mutation.tagVideo", &[Seat]),
    ("Mutation.leaveInterview", &[Customer, Seat]),
    ("Query.interviewRoom", &[Seat, Supervisor, Admin, Auditor]),
    // Quality control.
    ("Query.qcCases", &[QcReviewer, Supervisor, Admin, Auditor]),
    ("Query.qcCase", &[QcReviewer, Supervisor, Admin, Auditor]),
    ("Mutation.claimQcCase", &[QcReviewer]),
    ("Mutation.releaseQcCase", &[QcReviewer]),
    ("Mutation.decideQcCase", &[QcReviewer]),
    // Records.
    ("Query.taskDetail", STAFF_READERS),
    ("Query.callRecords", &[Seat, Supervisor, Admin, Auditor]),
    ("Query.statistics", &[Supervisor, Admin, Auditor]),
    ("Query.loanInfoChanges", &[CreditSystem, Admin, Auditor]),
    // Loans and lineage.
    // A customer reads their own application (the terms they sign); the
    // credit system every one.
    (
        "Query.loanApplication",
        &[
            Customer,
            AccountManager,
            Seat,
            QcReviewer,
            Supervisor,
            Admin,
            Auditor,
            CreditSystem,
        ],
    ),
    ("Query.taskLineage", STAFF_READERS),
    (
        "Query.repaymentSchedule",
        &[Customer, AccountManager, Supervisor, Admin, CreditSystem],
    ),
    (
        "Query.prepaymentPlan",
        &[Customer, AccountManager, Supervisor, Admin, CreditSystem],
    ),
    (
        "Mutation.submitLoanApplication",
        &[CreditSystem, AccountManager],
    ),
    (
        "Mutation.advanceLoanApplication",
        &[CreditSystem, AccountManager, Supervisor],
    ),
    (
        "Mutation.rollBackLoanApplication",
        &[CreditSystem, AccountManager, Supervisor],
    ),
    ("Mutation.recordWhitelistResult", &[CreditSystem]),
    (
        "Mutation.recordLoanFaceCheck",
        &[VerificationService, CreditSystem],
    ),
    ("Mutation.submitForApproval", &[Customer, AccountManager]),
    (
        "Mutation.approveLoanApplication",
        &[CreditSystem, AccountManager, Supervisor],
    ),
    (
        "Mutation.declineLoanApplication",
        &[CreditSystem, AccountManager, Supervisor],
    ),
    (
        "Mutation.resubmitLoanApplication",
        &[Customer, AccountManager],
    ),
    ("Mutation.signLoanContract", &[Customer]),
    ("Mutation.acceptLoanDocument", &[Customer]),
    ("Mutation.recordLoanVerification", &[VerificationService]),
    ("Mutation.chooseLoanAmount", &[Customer]),
    ("Mutation.setSigningRate", &[CreditSystem]),
    ("Mutation.confirmDisbursement", &[Customer]),
    // The loan after the money (issue 21).
    (
        "Query.loanLedger",
        &[
            Customer,
            AccountManager,
            Supervisor,
            Admin,
            Auditor,
            CreditSystem,
        ],
    ),
    ("Query.loanStatistics", &[Supervisor, Admin, Auditor]),
    ("Mutation.requestPrepayment", &[Customer, AccountManager]),
    ("Mutation.decidePrepayment", &[AccountManager, Supervisor]),
    ("Mutation.recordDisbursementResult", &[CreditSystem]),
    ("Mutation.recordLoanRepayment", &[CreditSystem]),
    // The bank's working-day calendar (003 提前3个工作日).
    (
        "Query.bankCalendar",
        &[AccountManager, Supervisor, Admin, Auditor],
    ),
    ("Mutation.loadBankCalendar", &[Admin]),
    // The back office (003 内管) and the customer's paged queries.
    ("Query.loans", &[Supervisor, Admin, Auditor]),
    ("Query.loanOperationsReport", &[Supervisor, Admin, Auditor]),
    (
        "Query.loanFailedTransactions",
        &[Supervisor, Admin, Auditor],
    ),
    (
        "Query.loanRepaymentPlan",
        &[
            Customer,
            AccountManager,
            Supervisor,
            Admin,
            Auditor,
            CreditSystem,
        ],
    ),
    (
        "Query.loanTransactions",
        &[
            Customer,
            AccountManager,
            Supervisor,
            Admin,
            Auditor,
            CreditSystem,
        ],
    ),
    // 合同下载 (003 我的贷款).
    ("Mutation.requestContractDownload", &[Customer]),
    (
        "Query.contractDownloads",
        &[Customer, AccountManager, Supervisor, Admin, Auditor],
    ),
    // 人工落地: requests the core did not answer in time.
    ("Query.manualCases", &[Supervisor, Admin, Auditor]),
    ("Mutation.resolveManualCase", &[Supervisor]),
    // Channels (001 2.4.9).
    ("Query.channels", &[Admin, Supervisor, Auditor]),
    ("Query.channelAdmission", &[Customer, Seat]),
    ("Mutation.createChannel", &[Admin]),
    ("Mutation.editChannel", &[Admin]),
    ("Mutation.enableChannel", &[Admin]),
    ("Mutation.disableChannel", &[Admin]),
    ("Mutation.deleteChannel", &[Admin]),
    // Queue and dispatch (001 2.4.4, 004 3.6).
    ("Query.callQueue", &[Seat, Supervisor, Admin]),
    (
        "Query.inboundCall",
        &[Customer, Seat, Supervisor, Admin, Auditor],
    ),
    ("Query.dispatchRule", SEAT_MANAGERS),
    ("Query.dispatchUngroupedSeatsAnswer", SEAT_MANAGERS),
    ("Mutation.joinQueue", &[Customer]),
    ("Mutation.cancelQueuedCall", &[Customer, Seat, Supervisor]),
    ("Mutation.answerCall", &[Seat]),
    ("Mutation.endInboundCall", &[Seat, Supervisor]),
    ("Mutation.transferCall", &[Seat, Supervisor]),
    ("Mutation.takeQueuedCall", &[Seat, Supervisor]),
    ("Mutation.configureDispatchRule", SEAT_MANAGERS),
    (
        "Subscription.queueTicket",
        &[Customer, Seat, Supervisor, Admin],
    ),
    // Scripts (001 2.4.7), media (001 2.4.8), seat groups (004 3.18), accounts (004 3.17).
    ("Query.scripts", &[Seat, Supervisor, Admin, Auditor]),
    ("Query.scriptFor", &[Seat, Supervisor, Admin]),
    ("Query.mediaAssets", &[Seat, Supervisor, Admin, Auditor]),
    ("Query.seatGroups", &[Supervisor, Admin, Auditor]),
    ("Query.accounts", AUDITORS),
    ("Mutation.addScript", &[Admin]),
    ("Mutation.editScript", &[Admin]),
    ("Mutation.removeScript", &[Admin]),
    ("Mutation.makeDefaultScript", &[Admin]),
    ("Mutation.createMedia", &[Admin]),
    ("Mutation.editMedia", &[Admin]),
    ("Mutation.enableMedia", &[Admin]),
    ("Mutation.disableMedia", &[Admin]),
    ("Mutation.deleteMedia", &[Admin]),
    ("Mutation.createSeatGroup", &[Admin]),
    ("Mutation.editSeatGroup", &[Admin]),
    ("Mutation.deleteSeatGroup", &[Admin]),
    ("Mutation.createAccount", &[Admin]),
    ("Mutation.editAccount", &[Admin]),
    ("Mutation.disableAccount", &[Admin]),
    ("Mutation.enableAccount", &[Admin]),
    ("Mutation.deleteAccount", &[Admin]),
    ("Mutation.kickAccount", &[Admin]),
    // Work orders (004 3.3).
    (
        "Query.workOrders",
        &[Seat, Supervisor, Admin, Auditor, Customer],
    ),
    ("Query.workOrderCounts", &[Seat, Supervisor, Admin, Auditor]),
    ("Mutation.createWorkOrder", &[Seat, Supervisor]),
    ("Mutation.editWorkOrder", &[Seat, Supervisor]),
    ("Mutation.completeWorkOrder", &[Seat, Supervisor]),
    ("Mutation.cancelWorkOrder", &[Seat, Supervisor]),
    ("Mutation.resendWorkOrderSms", &[Seat, Supervisor]),
    ("Mutation.remarkWorkOrder", &[Seat, Supervisor]),
    // Partner orders and callbacks (002; the Kafka issue).
    (
        "Query.partnerOrder",
        &[Supervisor, Admin, Auditor, CreditSystem],
    ),
    ("Query.callbacks", &[Supervisor, Admin, Auditor]),
    ("Query.parkedEvents", &[Supervisor, Admin, Auditor]),
    ("Mutation.advancePartnerOrder", &[CreditSystem]),
    ("Mutation.recordPartnerAccountOpened", &[CreditSystem]),
    ("Mutation.recordPartnerOrderAudit", &[CreditSystem]),
    ("Mutation.recordPartnerDisbursement", &[CreditSystem]),
    ("Mutation.retryCallback", &[Admin]),
    // Seat commands.
    ("Mutation.registerSeat", SEAT_MANAGERS),
    ("Mutation.signIn", &[Seat, Supervisor]),
    ("Mutation.signOut", &[Seat, Supervisor]),
    ("Mutation.setPresence", &[Seat, Supervisor]),
    ("Mutation.setWorkingHours", SEAT_MANAGERS),
    ("Mutation.enableSeat", SEAT_MANAGERS),
    ("Mutation.disableSeat", SEAT_MANAGERS),
    // Four eyes on the configuration (issue 34 item 5).
    ("Query.changeProposals", &[Supervisor, Admin, Auditor]),
    ("Query.changeProposal", &[Supervisor, Admin, Auditor]),
    ("Mutation.proposeChange", SEAT_MANAGERS),
    ("Mutation.approveChange", SEAT_MANAGERS),
    ("Mutation.withdrawChange", SEAT_MANAGERS),
    // Subscriptions.
    (
        "Subscription.taskChanged",
        &[AccountManager, Seat, QcReviewer, Supervisor, Admin],
    ),
];

/// The roles allowed to run `operation` (`Type.field`), if it has a rule.
pub fn allowed_roles(operation: &str) -> Option<&'static [Role]> {
    RULES
        .iter()
        .find(|(name, _)| *name == operation)
        .map(|(_, roles)| *roles)
}

/// Checks the caller may run `operation`: UNAUTHENTICATED without a valid
/// token, FORBIDDEN for a role the rule does not list (or an operation with no rule).
pub fn authorize(caller: Option<&RequestContext>, operation: &str) -> Result<Role, ApiError> {
    let Some(role) = caller.and_then(RequestContext::role) else {
        return Err(unauthenticated(caller));
    };
    match allowed_roles(operation) {
        Some(roles) if roles.contains(&role) => {
            if needs_multi_factor(operation, role) && !caller.is_some_and(|c| c.multi_factor) {
                return Err(ApiError::step_up(operation));
            }
            Ok(role)
        }
        _ => Err(ApiError::new(
            ErrorCode::Forbidden,
            message!("role {role} may not run {operation}"),
        )),
    }
}

/// UNAUTHENTICATED, saying why the token that was sent (if any) was refused.
fn unauthenticated(caller: Option<&RequestContext>) -> ApiError {
    let why = caller
        .and_then(|c| c.auth_error.clone())
        .unwrap_or_else(|| message!("a bearer token is required"));
    ApiError::new(ErrorCode::Unauthenticated, why)
}

/// Enforces `RULES` on every root query and mutation field before it resolves.
/// (Subscriptions call [`authorize`] themselves: their fields are not resolved
/// through this hook.)
pub struct AccessControl;

impl ExtensionFactory for AccessControl {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AccessControlExtension)
    }
}

struct AccessControlExtension;

#[async_trait::async_trait]
impl Extension for AccessControlExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root = info.path_node.parent.is_none();
        let caller = ctx.data_opt::<RequestContext>();
        if root && matches!(info.name, "__schema" | "__type") {
            // The schema is described to authenticated callers only.
            if caller.and_then(|c| c.actor.as_ref()).is_none() {
                let error: async_graphql::Error = unauthenticated(caller).into();
                return Err(error.into_server_error(info.field.name.pos));
            }
        }
        if !root || info.is_for_introspection || info.name.starts_with("__") {
            return next.run(ctx, info).await;
        }
        // Subscription roots are merged from parts (TaskSubscription, …);
        // their rules are listed under the merged root's name.
        let parent = if info.parent_type.ends_with("Subscription") {
            "Subscription"
        } else {
            info.parent_type
        };
        let operation = format!("{parent}.{}", info.name);
        let (field, pos) = (info.field, info.field.name.pos);
        let started = std::time::Instant::now();
        let approved = caller.is_some_and(|c| c.approved_change.is_some());
        let state = ctx.data_opt::<crate::state::AppState>();
        let outcome = match authorize(caller, &operation) {
            Ok(_) if crate::change_proposals::needs_four_eyes(state, approved, &operation) => {
                let error: async_graphql::Error = ApiError::four_eyes(&operation).into();
                Err(error.into_server_error(pos))
            }
            Ok(_) => next.run(ctx, info).await,
            Err(error) => {
                let error: async_graphql::Error = error.into();
                Err(error.into_server_error(pos))
            }
        };
        let code = outcome.as_ref().err().map(|error| {
            match error.extensions.as_ref().and_then(|e| e.get("code")) {
                Some(Value::String(code)) => code.clone(),
                _ => ErrorCode::Validation.as_str().to_string(),
            }
        });
        if let Some(state) = ctx.data_opt::<crate::state::AppState>() {
            // Root fields only, and only those of the schema: the label set
            // is bounded by the schema, whatever a client sends.
            state.metrics.observe(
                "facesign_graphql_operation_duration_seconds",
                "Time to resolve a root GraphQL field, by operation and outcome (OK or the error code).",
                store::metrics::labels(&[
                    ("operation", &operation),
                    ("outcome", code.as_deref().unwrap_or("OK")),
                ]),
                started.elapsed().as_secs_f64(),
            );
        }
        if let (Err(error), Some(code)) = (&outcome, code) {
            // 操作留痕: every refused command, and every refused access to a record.
            let access = code == ErrorCode::Forbidden.as_str()
                || code == ErrorCode::Unauthenticated.as_str();
            if parent == "Mutation" || access {
                if let Some(state) = ctx.data_opt::<crate::state::AppState>() {
                    let variables = ctx.data_opt::<record::RequestVariables>().map(|v| &v.0);
                    record::refusal(
                        state,
                        caller,
                        &operation,
                        record::target(field, variables),
                        &code,
                        &error.message,
                    );
                }
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_up_names_an_operation_with_a_rule() {
        for operation in CONFIGURATION_CHANGES.iter().chain(PERSONAL_DATA_READS) {
            assert!(
                allowed_roles(operation).is_some(),
                "{operation} has no rule"
            );
        }
        assert!(needs_multi_factor("Mutation.createChannel", Role::Admin));
        assert!(needs_multi_factor("Query.tasks", Role::AccountManager));
        assert!(!needs_multi_factor("Query.tasks", Role::Auditor));
        assert!(!needs_multi_factor("Query.seats", Role::Admin));
    }

    #[test]
    fn every_rule_is_listed_once() {
        let mut names: Vec<_> = RULES.iter().map(|(n, _)| *n).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }
}
