//! The roles callers act in (DESIGN.md, API).

use serde::{Deserialize, Serialize};

/// A role a token grants.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// A borrower or other participant, through 原银在线.
    Customer,
    /// 客户经理: owns the case, books interviews (移动营销).
    AccountManager,
    /// 视频坐席: conducts interviews.
    Seat,
    /// 复核岗: quality control.
    QcReviewer,
    /// 坐席主管: manages seats and reassigns bookings.
    Supervisor,
    /// 系统管理员: accounts, channels, scripts, media.
    Admin,
    /// Reads history and replays state; changes nothing.
    Auditor,
    /// A partner platform (百融, 榕树).
    Partner,
    /// The bank's credit system (信贷系统): creates tasks, sends decisions.
    CreditSystem,
    /// The identity verification service (人脸核身 / 活体检测, 003, 004 3.9):
    /// the only source of face-check, liveness and similarity verdicts.
    VerificationService,
}

impl Role {
    /// Whether the role is a system rather than a person (no staff account).
    pub fn is_system(self) -> bool {
        matches!(
            self,
            Role::Partner | Role::CreditSystem | Role::VerificationService
        )
    }

    /// Every role.
    pub const ALL: [Role; 10] = [
        Role::Customer,
        Role::AccountManager,
        Role::Seat,
        Role::QcReviewer,
        Role::Supervisor,
        Role::Admin,
        Role::Auditor,
        Role::Partner,
        Role::CreditSystem,
        Role::VerificationService,
    ];

    /// The wire name, e.g. `QC_REVIEWER`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "CUSTOMER",
            Role::AccountManager => "ACCOUNT_MANAGER",
            Role::Seat => "SEAT",
            Role::QcReviewer => "QC_REVIEWER",
            Role::Supervisor => "SUPERVISOR",
            Role::Admin => "ADMIN",
            Role::Auditor => "AUDITOR",
            Role::Partner => "PARTNER",
            Role::CreditSystem => "CREDIT_SYSTEM",
            Role::VerificationService => "VERIFICATION_SERVICE",
        }
    }

    /// Parses the wire name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
