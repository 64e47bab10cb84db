//! What an `Account` is asked to do.

use serde::{Deserialize, Serialize};

use super::aggregate::AccountProfile;

/// Commands of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum AccountCommand {
    /// 创建账号.
    Create(AccountProfile),
    /// 编辑.
    Edit(AccountProfile),
    /// 禁用.
    Disable,
    /// 启用.
    Enable,
    /// 删除.
    Delete,
    /// 踢出: end every session signed in now.
    Kick,
}
