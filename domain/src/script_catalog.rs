//! `ScriptCatalog`: the standard scripts (标准话术) shown on the seat
//! workstation, by channel and product, with exactly one default (001 2.4.7).
//! One catalog per deployment (id [`CATALOG_ID`]) so "exactly one default" is
//! an invariant of one aggregate rather than a race between many.

use std::collections::BTreeMap;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ErrorCode};
use crate::services::DomainServices;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "script-catalog";

/// Id of the deployment's catalog.
pub const CATALOG_ID: &str = "default";

/// One script: the elements 001 2.4.7.1 lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    /// 渠道代码; empty for every channel.
    pub channel_code: String,
    /// 渠道名称.
    pub channel_name: String,
    /// 产品代码; empty for every product.
    pub product_code: String,
    /// 产品名称.
    pub product_name: String,
    /// 业务种类.
    pub business_kind: String,
    /// 话术内容.
    pub content: String,
}

/// Commands of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Facts of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
        match self {
            ScriptEvent::ScriptAdded { .. } => "ScriptAdded",
            ScriptEvent::ScriptEdited { .. } => "ScriptEdited",
            ScriptEvent::ScriptRemoved { .. } => "ScriptRemoved",
            ScriptEvent::DefaultScriptChosen { .. } => "DefaultScriptChosen",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a script command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum ScriptError {
    /// No script under this code.
    #[error("script not found")]
    NotFound,
    /// The code is taken.
    #[error("a script with this code exists")]
    AlreadyExists,
    /// Another script already covers this channel and product.
    #[error("script {0} already covers this channel and product")]
    DuplicateScope(String),
    /// The default goes only when it is the last script; choose another first.
    #[error("the default script cannot be removed while other scripts exist; make another the default first")]
    DefaultRemoval,
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
}

impl DomainError for ScriptError {
    fn code(&self) -> ErrorCode {
        match self {
            ScriptError::NotFound => ErrorCode::NotFound,
            ScriptError::AlreadyExists | ScriptError::DuplicateScope(_) => ErrorCode::Conflict,
            ScriptError::DefaultRemoval => ErrorCode::InvalidTransition,
            ScriptError::Invalid(_) => ErrorCode::Validation,
        }
    }
}

/// The catalog's write-side state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScriptCatalog {
    scripts: BTreeMap<String, Script>,
    default_code: Option<String>,
}

fn validate_code(code: &str) -> Result<String, ScriptError> {
    let code = code.trim();
    if code.is_empty() || code.len() > 32 {
        return Err(ScriptError::Invalid(
            "code must be 1 to 32 characters".into(),
        ));
    }
    Ok(code.to_string())
}

fn validate(mut script: Script) -> Result<Script, ScriptError> {
    script.channel_code = script.channel_code.trim().to_string();
    script.product_code = script.product_code.trim().to_string();
    if script.content.trim().is_empty() || script.content.chars().count() > 10_000 {
        return Err(ScriptError::Invalid(
            "content must be 1 to 10000 characters".into(),
        ));
    }
    Ok(script)
}

impl ScriptCatalog {
    /// The code of the default script; Some whenever a script exists.
    pub fn default_code(&self) -> Option<&str> {
        self.default_code.as_deref()
    }

    /// 001 2.4.7.2: the script for a channel and product — the one for both,
    /// else the one for the product on every channel, else the default (None
    /// when the catalog is empty: the workstation shows nothing).
    pub fn script_for(&self, channel_code: &str, product_code: &str) -> Option<(&str, &Script)> {
        let find = |channel: &str| {
            self.scripts
                .iter()
                .find(|(_, s)| s.product_code == product_code && s.channel_code == channel)
        };
        find(channel_code)
            .or_else(|| find(""))
            .or_else(|| {
                self.default_code
                    .as_ref()
                    .and_then(|c| self.scripts.get_key_value(c))
            })
            .map(|(c, s)| (c.as_str(), s))
    }

    fn scope_taken_by(&self, code: &str, script: &Script) -> Option<String> {
        if script.product_code.is_empty() {
            return None;
        }
        self.scripts
            .iter()
            .find(|(c, s)| {
                c.as_str() != code
                    && s.channel_code == script.channel_code
                    && s.product_code == script.product_code
            })
            .map(|(c, _)| c.clone())
    }
}

impl Aggregate for ScriptCatalog {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = ScriptCommand;
    type Event = ScriptEvent;
    type Error = ScriptError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: ScriptCommand,
        _: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), ScriptError> {
        let events = match command {
            ScriptCommand::Add { code, script } => {
                let code = validate_code(&code)?;
                if self.scripts.contains_key(&code) {
                    return Err(ScriptError::AlreadyExists);
                }
                let script = validate(script)?;
                if let Some(other) = self.scope_taken_by(&code, &script) {
                    return Err(ScriptError::DuplicateScope(other));
                }
                let mut events = vec![ScriptEvent::ScriptAdded {
                    code: code.clone(),
                    script,
                }];
                if self.default_code.is_none() {
                    events.push(ScriptEvent::DefaultScriptChosen { code });
                }
                events
            }
            ScriptCommand::Edit { code, script } => {
                let code = validate_code(&code)?;
                if !self.scripts.contains_key(&code) {
                    return Err(ScriptError::NotFound);
                }
                let script = validate(script)?;
                if let Some(other) = self.scope_taken_by(&code, &script) {
                    return Err(ScriptError::DuplicateScope(other));
                }
                vec![ScriptEvent::ScriptEdited { code, script }]
            }
            ScriptCommand::Remove { code } => {
                let code = validate_code(&code)?;
                if !self.scripts.contains_key(&code) {
                    return Err(ScriptError::NotFound);
                }
                if self.default_code.as_ref() == Some(&code) && self.scripts.len() > 1 {
                    return Err(ScriptError::DefaultRemoval);
                }
                vec![ScriptEvent::ScriptRemoved { code }]
            }
            ScriptCommand::MakeDefault { code } => {
                let code = validate_code(&code)?;
                if !self.scripts.contains_key(&code) {
                    return Err(ScriptError::NotFound);
                }
                if self.default_code.as_ref() == Some(&code) {
                    return Ok(());
                }
                vec![ScriptEvent::DefaultScriptChosen { code }]
            }
        };
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: ScriptEvent) {
        match event {
            ScriptEvent::ScriptAdded { code, script }
            | ScriptEvent::ScriptEdited { code, script } => {
                self.scripts.insert(code, script);
            }
            ScriptEvent::ScriptRemoved { code } => {
                self.scripts.remove(&code);
                if self.default_code.as_ref() == Some(&code) {
                    self.default_code = None;
                }
            }
            ScriptEvent::DefaultScriptChosen { code } => self.default_code = Some(code),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use cqrs_es::test::TestFramework;

    use super::*;

    fn services() -> DomainServices {
        DomainServices::fixed_at(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
    }

    fn script(channel: &str, product: &str, content: &str) -> Script {
        Script {
            channel_code: channel.into(),
            product_code: product.into(),
            content: content.into(),
            ..Script::default()
        }
    }

    fn catalog(events: Vec<ScriptEvent>) -> ScriptCatalog {
        let mut catalog = ScriptCatalog::default();
        for event in events {
            catalog.apply(event);
        }
        catalog
    }

    fn added(code: &str, script: Script) -> ScriptEvent {
        ScriptEvent::ScriptAdded {
            code: code.into(),
            script,
        }
    }

    /// 001_d165f826565a3102.txt 2.4.7: the first script is the default, so there is
    /// always exactly one while scripts exist; it goes only last.
    #[test]
    fn exactly_one_default() {
        TestFramework::<ScriptCatalog>::with(services())
            .given_no_previous_events()
            .when(ScriptCommand::Add {
                code: "D".into(),
                script: script("", "", "您好"),
            })
            .then_expect_events(vec![
                added("D", script("", "", "您好")),
                ScriptEvent::DefaultScriptChosen { code: "D".into() },
            ]);
        let two = vec![
            added("D", script("", "", "您好")),
            ScriptEvent::DefaultScriptChosen { code: "D".into() },
            added("P", script("", "YXD", "永续贷话术")),
        ];
        TestFramework::<ScriptCatalog>::with(services())
            .given(two.clone())
            .when(ScriptCommand::Remove { code: "D".into() })
            .then_expect_error(ScriptError::DefaultRemoval);
        let mut moved = two;
        moved.push(ScriptEvent::DefaultScriptChosen { code: "P".into() });
        let catalog = catalog(moved);
        assert_eq!(catalog.default_code(), Some("P"));
    }

    /// 001_d165f826565a3102.txt 2.4.7.2: 根据产品和渠道不同，调用已配置的标准话术…若产品未配置
    /// 标准话术，则坐席工作台话术区回显默认话术或 null.
    #[test]
    fn the_script_by_channel_and_product_else_the_default() {
        assert!(ScriptCatalog::default().script_for("YYZX", "YXD").is_none());
        let catalog = catalog(vec![
            added("D", script("", "", "默认话术")),
            ScriptEvent::DefaultScriptChosen { code: "D".into() },
            added("P", script("", "YXD", "永续贷话术")),
            added("PC", script("YYZX", "YXD", "原银在线永续贷话术")),
        ]);
        assert_eq!(catalog.script_for("YYZX", "YXD").unwrap().0, "PC");
        assert_eq!(catalog.script_for("YDYX", "YXD").unwrap().0, "P");
        assert_eq!(catalog.script_for("YYZX", "RXMD").unwrap().0, "D");
        TestFramework::<ScriptCatalog>::with(services())
            .given(vec![added("P", script("", "YXD", "x"))])
            .when(ScriptCommand::Add {
                code: "P2".into(),
                script: script("", "YXD", "y"),
            })
            .then_expect_error(ScriptError::DuplicateScope("P".into()));
    }
}
