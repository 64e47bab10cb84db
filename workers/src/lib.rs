//! The workers of facesign, each driven by the store's run loop: the one
//! executor of every flow, timers, SMS delivery, the Kafka relay and consumer,
//! partner callbacks, the daily loan review, the core-answer watch and the
//! contract mailer. What they read of the read models comes through
//! [`ReadModels`], which the binary wires to `projections`: workers and read
//! models stand side by side and neither depends on the other.

pub mod bank_calendar;
pub mod contract_mail;
pub mod flows;
pub mod kafka;
pub mod loan_review;
pub mod partners;
pub mod read_models;
pub mod secrets;
pub mod sms;
pub mod timers;

pub use read_models::ReadModels;

/// The client of every outbound HTTP call (partner callbacks, the SMS
/// gateway): a slow peer costs at most ten seconds per call.
pub(crate) fn outbound_http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("an HTTP client with default TLS")
}
