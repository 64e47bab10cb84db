//! Injected services: the only way time and identifiers reach an aggregate.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::schedule::SchedulingPolicy;

/// Tells the current time. Production reads the system clock; tests pin it.
pub trait Clock: Send + Sync {
    /// The current instant in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// Hands out new identifiers. Production uses UUID v7 (time-ordered).
pub trait IdGen: Send + Sync {
    /// A fresh, unique identifier.
    fn new_id(&self) -> Uuid;
}

/// The services every aggregate receives in `handle`.
#[derive(Clone)]
pub struct DomainServices {
    /// Source of "now" for business rules and event timestamps.
    pub clock: Arc<dyn Clock>,
    /// Source of new identifiers.
    pub ids: Arc<dyn IdGen>,
    /// Booking rules operators configure (horizon, reschedule limit).
    pub scheduling: SchedulingPolicy,
    /// Interview rules operators configure (face similarity threshold, QC sample rate).
    pub session: SessionPolicy,
    /// Loan rules operators configure (auto-approval limit, face-check cap).
    pub loans: LoanPolicy,
    /// Operations-centre rules (call-in margins, ring timeout).
    pub operations: OperationsPolicy,
    /// Which cases get a video interview (省内/省外).
    pub routing: InterviewRouting,
}

/// Which cases get a video interview (001 2.5–2.7: only 省外 ones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterviewRouting {
    /// The bank's own province (FACESIGN_HOME_PROVINCE): a case whose property
    /// lies there is 省内 and gets no interview task. None: every case does.
    pub home_province: Option<String>,
}

impl InterviewRouting {
    /// Whether a case with its property in `province` gets a video interview.
    pub fn interviews(&self, province: &str) -> bool {
        self.home_province
            .as_deref()
            .is_none_or(|home| !crate::interview_task::same_province(home, province))
    }
}

/// Operations-centre rules operators configure (001 2.6.1, 004 3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationsPolicy {
    /// How long before the booked window a customer may call in
    /// (FACESIGN_CALL_IN_EARLY_MINUTES).
    pub call_in_early: chrono::Duration,
    /// How long after the booked window a customer may still call in
    /// (FACESIGN_CALL_IN_LATE_MINUTES).
    pub call_in_late: chrono::Duration,
    /// How long an offered call rings at a seat before it goes to the next
    /// one (FACESIGN_RING_SECONDS; zero: it rings until answered).
    pub ring_timeout: chrono::Duration,
    /// Unanswered offers after which a call waits in the queue for a seat to
    /// take it instead of being offered again (FACESIGN_RING_ATTEMPTS).
    pub ring_attempts: u32,
    /// How long a participant who dropped out of an interview may rejoin the
    /// same call (FACESIGN_REJOIN_SECONDS; 001 2.2.1).
    pub rejoin_window: chrono::Duration,
}

impl Default for OperationsPolicy {
    fn default() -> Self {
        Self {
            call_in_early: chrono::Duration::minutes(10),
            call_in_late: chrono::Duration::zero(),
            ring_timeout: chrono::Duration::seconds(30),
            ring_attempts: 3,
            rejoin_window: chrono::Duration::seconds(120),
        }
    }
}

/// Loan rules operators configure (003).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoanPolicy {
    /// 30万以内秒批秒贷: at most this amount (CNY) goes to online auto-approval.
    pub auto_approval_limit: rust_decimal::Decimal,
    /// 当日人脸识别上限次数: failed face checks allowed per Asia/Shanghai day.
    pub face_check_daily_cap: u32,
    /// 罚息年利率 written into contracts signed from now on (0: 003 目前我行不进行罚息).
    pub penalty_annual_rate: rust_decimal::Decimal,
}

impl Default for LoanPolicy {
    fn default() -> Self {
        Self {
            auto_approval_limit: rust_decimal::Decimal::new(300_000, 0),
            face_check_daily_cap: 5,
            penalty_annual_rate: rust_decimal::Decimal::ZERO,
        }
    }
}

/// Interview rules operators configure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionPolicy {
    /// 000 客户核身: the face similarity score must be above this (0 to 1): 对比分数大于系统设定分数.
    pub similarity_threshold: f64,
    /// 001 质检管理: share of passes sampled into quality control, in per mille.
    pub qc_sample_per_mille: u32,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            similarity_threshold: 0.80,
            qc_sample_per_mille: 100,
        }
    }
}

impl DomainServices {
    /// Replaces the booking rules.
    pub fn with_scheduling(mut self, scheduling: SchedulingPolicy) -> Self {
        self.scheduling = scheduling;
        self
    }

    /// Replaces the loan rules.
    pub fn with_loans(mut self, loans: LoanPolicy) -> Self {
        self.loans = loans;
        self
    }

    /// Replaces the routing of cases to video interviews.
    pub fn with_routing(mut self, routing: InterviewRouting) -> Self {
        self.routing = routing;
        self
    }

    /// Replaces the operations-centre rules.
    pub fn with_operations(mut self, operations: OperationsPolicy) -> Self {
        self.operations = operations;
        self
    }

    /// Replaces the interview rules.
    pub fn with_session(mut self, session: SessionPolicy) -> Self {
        self.session = session;
        self
    }

    /// Services frozen at `now`, with ids counted from 1: for tests and
    /// deterministic replays.
    pub fn fixed_at(now: chrono::DateTime<chrono::Utc>) -> Self {
        Self::new(
            Arc::new(FixedClock(now)),
            Arc::new(SequentialIds::default()),
        )
    }

    /// Bundles a clock and an id generator with the default booking rules.
    pub fn new(clock: Arc<dyn Clock>, ids: Arc<dyn IdGen>) -> Self {
        Self {
            clock,
            ids,
            scheduling: SchedulingPolicy::default(),
            session: SessionPolicy::default(),
            loans: LoanPolicy::default(),
            operations: OperationsPolicy::default(),
            routing: InterviewRouting::default(),
        }
    }
}

/// A clock that always answers the same instant; for tests and deterministic replays.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Ids counted up from a seed; for tests that must assert exact identifiers.
#[derive(Debug, Default)]
pub struct SequentialIds(std::sync::atomic::AtomicU64);

impl IdGen for SequentialIds {
    fn new_id(&self) -> Uuid {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        Uuid::from_u128(n as u128)
    }
}

/// An id derived from several parts (SHA-256, shaped as a UUID), each written
/// as its byte length, `:`, then the part: no two different lists of parts share
/// an encoding, whatever characters the parts hold (a caller's subject may
/// contain the `:` that would otherwise separate it from a key).
pub fn derived_id_of_parts(parts: &[&str]) -> Uuid {
    let mut encoded = String::new();
    for part in parts {
        encoded.push_str(&part.len().to_string());
        encoded.push(':');
        encoded.push_str(part);
    }
    derived_id(&encoded)
}

/// An id derived from `name` alone (SHA-256, shaped as a UUID): process managers
/// use it so a redelivered event creates the same aggregate, not a second one.
pub fn derived_id(name: &str) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}
