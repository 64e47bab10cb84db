//! `WorkOrder`: a video task a seat opens by hand (新建工单) for a customer
//! outside the loan flows; creating it texts the customer the guide link
//! (004 3.3–3.5, 3.13).

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{
    guide_sms, WorkOrder, WorkOrderDetails, WorkOrderStatus, AGGREGATE_TYPE, GUIDE_SMS,
};
pub use commands::WorkOrderCommand;
pub use error::WorkOrderError;
pub use events::WorkOrderEvent;
