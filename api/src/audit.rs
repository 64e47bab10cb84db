//! The auditor API: an aggregate's whole trail, what one actor did, the global
//! event feed, and an aggregate's state as of a moment, rebuilt from the log.

use async_graphql::{Context, Json, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::log::StoredEvent;
use domain::message::message;
use projections::audit_log::{AuditLog, AuditRow};
use store::operation_log::{OperationFilter, OperationLog, OperationRow};

use crate::access;
use crate::context::{state, viewer};
use crate::error::ApiError;
use crate::log_page::read_log_page;

/// One event of the log with its envelope; personal data masked per role.
#[derive(SimpleObject)]
pub struct AuditEvent {
    /// Log position (`TX:POSITION`), usable as a feed cursor.
    pub position: String,
    /// Event id (UUID v7).
    pub event_id: ID,
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Sequence within the aggregate.
    pub sequence: i64,
    /// Event type.
    pub event_type: String,
    /// Payload version (after upcasting).
    pub event_version: String,
    /// Who caused it.
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
    /// The person the engine acted for, when a process manager wrote it.
    pub on_behalf_of_id: Option<String>,
    /// Their role.
    pub on_behalf_of_role: Option<String>,
    /// Business flow.
    pub correlation_id: String,
    /// What caused it.
    pub causation_id: String,
    /// The inbound request.
    pub request_id: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The event body.
    pub payload: Json<serde_json::Value>,
}

impl AuditEvent {
    fn new(event: StoredEvent, ctx: &Context<'_>) -> Self {
        let mut payload = event.payload;
        let reveal = access::reveals(viewer(ctx), access::Showing::Listed);
        access::json(reveal, &mut payload);
        let m = event.metadata;
        Self {
            position: event.position.to_string(),
            event_id: ID(m.event_id.to_string()),
            aggregate_type: event.aggregate_type,
            aggregate_id: event.aggregate_id,
            sequence: event.sequence,
            event_type: event.event_type,
            event_version: event.event_version,
            actor_id: access::actor_id(reveal, &m.actor_role, &m.actor_id),
            actor_role: m.actor_role,
            on_behalf_of_id: m
                .on_behalf_of
                .as_ref()
                .map(|a| access::actor_id(reveal, &a.role, &a.id)),
            on_behalf_of_role: m.on_behalf_of.map(|a| a.role),
            correlation_id: m.correlation_id,
            causation_id: m.causation_id,
            request_id: m.request_id,
            recorded_at: m.recorded_at,
            payload: Json(payload),
        }
    }
}

/// A page of the global feed.
#[derive(SimpleObject)]
pub struct EventPage {
    /// Events in log order.
    pub events: Vec<AuditEvent>,
    /// Pass as `after` for the next page; null when the page is empty.
    pub end_cursor: Option<String>,
}

/// What one actor did (from the audit projection).
#[derive(SimpleObject)]
pub struct ActorAction {
    /// Global position.
    pub global_position: i64,
    /// Event id.
    pub event_id: ID,
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Event type.
    pub event_type: String,
    /// Who wrote the event: the actor asked about, or the engine acting for them.
    pub actor_id: String,
    /// Role the actor acted in.
    pub actor_role: String,
    /// The person the engine acted for, when a process manager wrote it.
    pub on_behalf_of_id: Option<String>,
    /// Their role.
    pub on_behalf_of_role: Option<String>,
    /// Business flow.
    pub correlation_id: String,
    /// What caused it.
    pub causation_id: String,
    /// The inbound request.
    pub request_id: String,
    /// When.
    pub recorded_at: String,
}

impl From<AuditRow> for ActorAction {
    /// Only auditors and admins read trails, and they see a customer (who
    /// acts under their ID number) masked, here as in `events`.
    fn from(row: AuditRow) -> Self {
        let on_behalf_of_id = match (&row.on_behalf_of_id, &row.on_behalf_of_role) {
            (Some(id), Some(role)) => Some(access::actor_id(false, role, id)),
            (id, _) => id.clone(),
        };
        Self {
            global_position: row.global_position,
            event_id: ID(row.event_id),
            aggregate_type: row.aggregate_type,
            aggregate_id: row.aggregate_id,
            event_type: row.event_type,
            actor_id: access::actor_id(false, &row.actor_role, &row.actor_id),
            actor_role: row.actor_role,
            on_behalf_of_id,
            on_behalf_of_role: row.on_behalf_of_role,
            correlation_id: row.correlation_id,
            causation_id: row.causation_id,
            request_id: row.request_id,
            recorded_at: row.recorded_at,
        }
    }
}

/// What an operation-log entry records.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq)]
pub enum OperationKind {
    /// A command or an access to a record that was refused.
    Refused,
    /// Personal data shown unmasked.
    PersonalDataRead,
    /// An event a worker parked, retried or skipped.
    WorkerRepair,
    /// A step of a configuration change under four eyes.
    ConfigurationChange,
    /// A console sign-in through the identity provider, or a sign-out.
    SignIn,
}

impl From<OperationKind> for store::operation_log::OperationKind {
    fn from(kind: OperationKind) -> Self {
        match kind {
            OperationKind::Refused => Self::Refused,
            OperationKind::PersonalDataRead => Self::PersonalDataRead,
            OperationKind::WorkerRepair => Self::WorkerRepair,
            OperationKind::ConfigurationChange => Self::ConfigurationChange,
            OperationKind::SignIn => Self::SignIn,
        }
    }
}

/// Narrows `operationLog`.
#[derive(async_graphql::InputObject, Default)]
pub struct OperationLogFilter {
    /// Only this actor (token subject).
    pub actor_id: Option<String>,
    /// Only targets containing this text (an id, a contract no).
    pub target: Option<String>,
    /// Only this operation (`Mutation.cancelInterviewTask`, `task`, `partner/orders`).
    pub operation: Option<String>,
    /// Only refusals, or only reads of personal data.
    pub kind: Option<OperationKind>,
    /// At or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// One entry of the operation log (操作留痕).
#[derive(SimpleObject)]
pub struct OperationLogEntry {
    /// Entry id, increasing (a `before` cursor).
    pub entry_id: i64,
    /// When.
    pub recorded_at: String,
    /// REFUSED, PERSONAL_DATA_READ or WORKER_REPAIR.
    pub kind: String,
    /// Who (token subject), or `anonymous`.
    pub actor_id: String,
    /// In which role.
    pub actor_role: String,
    /// The operation.
    pub operation: String,
    /// The record it addressed (`taskId=…`, `interview-task:…`).
    pub target: String,
    /// The error code of a refusal.
    pub code: Option<String>,
    /// The refusal's message, or the personal-data fields shown.
    pub detail: String,
    /// The inbound request.
    pub request_id: String,
}

/// Auditors look up what a customer did by the customer's ID number, which
/// every view shows them masked. Such a search is allowed — it is their work —
/// and recorded in the operation log as a search by personal data (issue 31:
/// a filter on a masked field is refused or recorded; docs/security.md).
fn search_by_person(ctx: &Context<'_>, argument: &str, value: &str, substring: bool) {
    // Where the value is matched as a substring, a part of a number is a
    // search too: six digits in a row (more than a contract number's runs)
    // and it is recorded.
    let digits = value
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    if domain::pii::has_id_number_or_phone(value) || (substring && digits >= 6) {
        let searched = domain::pii::mask_text(value, &[]);
        crate::access::record::personal_data(ctx, format!("search:{searched}"), &[argument]);
    }
}

impl From<OperationRow> for OperationLogEntry {
    /// Only auditors read the log, and see people masked in it too: a
    /// customer's ID number as the actor, and ID numbers or phones quoted in
    /// a target or a refusal's message.
    fn from(row: OperationRow) -> Self {
        Self {
            entry_id: row.entry_id,
            recorded_at: row.recorded_at,
            kind: row.kind,
            actor_id: access::actor_id(false, &row.actor_role, &row.actor_id),
            actor_role: row.actor_role,
            operation: row.operation,
            target: domain::pii::mask_text(&row.target, &[]),
            code: row.code,
            detail: domain::pii::mask_text(&row.detail, &[]),
            request_id: row.request_id,
        }
    }
}

/// An aggregate's state as of a moment.
#[derive(SimpleObject)]
pub struct AggregateState {
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Sequence of the last event applied.
    pub sequence: i64,
    /// When that event was recorded.
    pub as_of: DateTime<Utc>,
    /// The state, as the write side holds it; personal data masked per role.
    pub state: Json<serde_json::Value>,
}

fn fold<A: Aggregate>(events: &[StoredEvent]) -> Result<serde_json::Value, ApiError> {
    let mut aggregate = A::default();
    for event in events {
        let decoded: A::Event = serde_json::from_value(event.payload.clone())
            .map_err(|e| ApiError::internal(format!("event {}: {e}", event.metadata.event_id)))?;
        aggregate.apply(decoded);
    }
    serde_json::to_value(&aggregate).map_err(ApiError::internal)
}

/// Names every aggregate `aggregateAt` can rebuild, once: the list the console
/// offers and the fold for each.
macro_rules! replayable_aggregates {
    ($($name:path => $aggregate:ty, $event:ty, [$($nested:literal),*];)*) => {
        fn fold_by_type(aggregate_type: &str, events: &[StoredEvent]) -> Result<serde_json::Value, ApiError> {
            $(if aggregate_type == $name {
                return fold::<$aggregate>(events);
            })*
            Err(ApiError::validation(message!("unknown aggregate type {aggregate_type}")))
        }
    };
}

domain::for_each_aggregate!(replayable_aggregates);

/// Auditor queries.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Every event of one aggregate, in order, with who caused it.
    async fn audit_trail(
        &self,
        ctx: &Context<'_>,
        aggregate_type: String,
        aggregate_id: String,
    ) -> Result<Vec<AuditEvent>> {
        let events = state(ctx)
            .log
            .stream(&aggregate_type, &aggregate_id)
            .await
            .map_err(ApiError::internal)?;
        Ok(events
            .into_iter()
            .map(|e| AuditEvent::new(e, ctx))
            .collect())
    }

    /// What one actor did, newest first (paged by `before`, a global position).
    async fn actor_trail(
        &self,
        ctx: &Context<'_>,
        actor_id: String,
        #[graphql(default = 50)] first: i32,
        before: Option<i64>,
    ) -> Result<Vec<ActorAction>> {
        if !(1..=500).contains(&first) {
            return Err(ApiError::validation(message!("first must be between 1 and 500")).into());
        }
        search_by_person(ctx, "actorTrail.actorId", &actor_id, false);
        let rows = AuditLog::by_actor(
            state(ctx).database.read_models(),
            &actor_id,
            before,
            i64::from(first),
        )
        .await
        .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// 操作留痕: refused operations and reads of unmasked personal data, newest
    /// first (paged by `before`, an entry id).
    async fn operation_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] filter: OperationLogFilter,
        #[graphql(default = 50)] first: i32,
        before: Option<i64>,
    ) -> Result<Vec<OperationLogEntry>> {
        if !(1..=500).contains(&first) {
            return Err(ApiError::validation(message!("first must be between 1 and 500")).into());
        }
        if let Some(actor) = &filter.actor_id {
            search_by_person(ctx, "operationLog.filter.actorId", actor, false);
        }
        if let Some(target) = &filter.target {
            search_by_person(ctx, "operationLog.filter.target", target, true);
        }
        let filter = OperationFilter {
            actor_id: filter.actor_id.filter(|a| !a.trim().is_empty()),
            target: filter.target.filter(|t| !t.trim().is_empty()),
            operation: filter.operation.filter(|o| !o.trim().is_empty()),
            kind: filter.kind.map(Into::into),
            from: filter.from,
            to: filter.to,
        };
        let rows = OperationLog::read(
            state(ctx).database.read_models(),
            &filter,
            before,
            i64::from(first),
        )
        .await
        .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The global feed: events strictly after `after` (`TX:POSITION`), in log order.
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        #[graphql(default = 100)] first: i32,
    ) -> Result<EventPage> {
        let (_, events) = read_log_page(ctx, after, first, 1000).await?;
        let end_cursor = events.last().map(|e| e.position.to_string());
        Ok(EventPage {
            events: events
                .into_iter()
                .map(|e| AuditEvent::new(e, ctx))
                .collect(),
            end_cursor,
        })
    }

    /// An aggregate rebuilt from its events up to `sequence`, or up to the
    /// instant `at` (exactly one of them), as the write side saw it then.
    async fn aggregate_at(
        &self,
        ctx: &Context<'_>,
        aggregate_type: String,
        aggregate_id: String,
        at: Option<DateTime<Utc>>,
        sequence: Option<i64>,
    ) -> Result<AggregateState> {
        if at.is_some() == sequence.is_some() {
            return Err(
                ApiError::validation(message!("give exactly one of `at` and `sequence`")).into(),
            );
        }
        let mut events = state(ctx)
            .log
            .stream(&aggregate_type, &aggregate_id)
            .await
            .map_err(ApiError::internal)?;
        events.retain(|e| match (at, sequence) {
            (Some(at), _) => e.metadata.recorded_at <= at,
            (_, Some(sequence)) => e.sequence <= sequence,
            _ => false,
        });
        let Some(last) = events.last() else {
            return Err(ApiError::not_found(message!("no event of that aggregate by then")).into());
        };
        let (sequence, as_of) = (last.sequence, last.metadata.recorded_at);
        let mut document = fold_by_type(&aggregate_type, &events)?;
        access::json(
            access::reveals(viewer(ctx), access::Showing::Listed),
            &mut document,
        );
        Ok(AggregateState {
            aggregate_type,
            aggregate_id,
            sequence,
            as_of,
            state: Json(document),
        })
    }
}
