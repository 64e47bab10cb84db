//! What a `Channel` is asked to do.

use serde::{Deserialize, Serialize};

use super::aggregate::ChannelSettings;

/// Commands a `Channel` accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ChannelCommand {
    /// 添加: a new channel, disabled until enabled (默认停用).
    Create(ChannelSettings),
    /// 编辑.
    Edit(ChannelSettings),
    /// 启用.
    Enable,
    /// 停用.
    Disable,
    /// 删除: only a disabled channel.
    Delete,
}
