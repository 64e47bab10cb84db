use crate::message::message;
use std::collections::BTreeMap;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::commands::ScriptCommand;
use super::error::ScriptError;
use super::events::ScriptEvent;
use crate::services::DomainServices;

/// Aggregate type name in the event log.
pub const AGGREGATE_TYPE: &str = "script-catalog";

/// Id of the deployment's catalog.
pub const CATALOG_ID: &str = "default";

/// One script: the elements 001 2.4.7.1 lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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

/// The catalog's write-side state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScriptCatalog {
    scripts: BTreeMap<String, Script>,
    default_code: Option<String>,
}

fn validate_code(code: &str) -> Result<String, ScriptError> {
    let code = code.trim();
    if code.is_empty() || code.len() > 32 {
        return Err(ScriptError::Invalid(message!(
            "code must be 1 to 32 characters"
        )));
    }
    Ok(code.to_string())
}

fn validate(mut script: Script) -> Result<Script, ScriptError> {
    script.channel_code = script.channel_code.trim().to_string();
    script.product_code = script.product_code.trim().to_string();
    if script.content.trim().is_empty() || script.content.chars().count() > 10_000 {
        return Err(ScriptError::Invalid(message!(
            "content must be 1 to 10000 characters"
        )));
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
mod tests;
