//! What happened to a `ScriptCatalog`.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::aggregate::Script;

/// Facts of the catalog.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr,
)]
pub enum ScriptEvent {
    /// A script was added.
    ScriptAdded {
        /// Code.
        code: String,
        /// The script.
        script: Script,
    },
    /// A script was replaced.
    ScriptEdited {
        /// Code.
        code: String,
        /// The script.
        script: Script,
    },
    /// A script was removed.
    ScriptRemoved {
        /// Code.
        code: String,
    },
    /// The default changed.
    DefaultScriptChosen {
        /// Code of the new default.
        code: String,
    },
}

impl DomainEvent for ScriptEvent {
    fn event_type(&self) -> String {
        <&'static str>::from(self).to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
