//! `PartnerOrder`: a third-party platform's large-credit order (百融 / 榕树 大额,
//! 002): pushed, pulled, parsed, credit applied for, decided, confirmed as a
//! borrow (or deferred until the 新网 account is opened), audited, disbursed.
//! Also the partner API's request signature (MD5, 002 item 1).

mod aggregate;
mod commands;
mod error;
mod events;
pub mod signature;

pub use aggregate::{
    AuditResultCode, BorrowRequest, BorrowStatus, BoundCard, LoanResultCode, OrderDetails,
    PartnerOrder, PartnerOrderStatus,
};
pub use commands::PartnerOrderCommand;
pub use error::PartnerOrderError;
pub use events::PartnerOrderEvent;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "partner-order";

/// The aggregate id of a partner's order: `<PARTNER>:<orderNo>`.
pub fn order_id(partner: &str, order_no: &str) -> String {
    format!("{}:{}", partner.trim().to_uppercase(), order_no.trim())
}
