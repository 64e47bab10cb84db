//! What a `ScriptCatalog` is asked to do.

use serde::{Deserialize, Serialize};

use super::aggregate::Script;

/// Commands of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ScriptCommand {
    /// Add a script; the first one becomes the default.
    Add {
        /// Script code.
        code: String,
        /// The script.
        script: Script,
    },
    /// Replace a script.
    Edit {
        /// Script code.
        code: String,
        /// The script.
        script: Script,
    },
    /// Remove a script; the default only when it is the last one.
    Remove {
        /// Script code.
        code: String,
    },
    /// Make a script the default (the previous default stops being one).
    MakeDefault {
        /// Script code.
        code: String,
    },
}
