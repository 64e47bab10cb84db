//! What a `MediaAsset` is asked to do.

use serde::{Deserialize, Serialize};

use super::aggregate::MediaSettings;

/// Commands of a clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum MediaCommand {
    /// 增: a new clip, disabled until enabled.
    Create(MediaSettings),
    /// 改.
    Edit(MediaSettings),
    /// 启用.
    Enable,
    /// 停用.
    Disable,
    /// 删.
    Delete,
}
