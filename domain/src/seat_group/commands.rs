//! What a `SeatGroup` is asked to do.

use serde::{Deserialize, Serialize};

use super::aggregate::SeatGroupSettings;

/// Commands of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum SeatGroupCommand {
    /// 新建.
    Create(SeatGroupSettings),
    /// 编辑.
    Edit(SeatGroupSettings),
    /// 删除.
    Delete,
}
