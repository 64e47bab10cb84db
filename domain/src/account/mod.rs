//! `Account`: a staff login of the console (坐席, 管理员…) with its role;
//! admins create, edit, disable, delete and kick (踢出) them (004 3.17, 001
//! 2.4.5). Tokens of a disabled or deleted account, or issued before a kick,
//! are refused by the API.

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{Account, AccountProfile, AccountStatus, AGGREGATE_TYPE};
pub use commands::AccountCommand;
pub use error::AccountError;
pub use events::AccountEvent;
