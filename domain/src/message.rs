//! Error messages as data (issue 33 item 2). Where an error is made it knows
//! what went wrong and with which values; it carries them as a [`Message`]: a
//! catalog key and those values. The API renders the message in the caller's
//! language from its Fluent catalog (`api/messages/*.ftl`); the log and the
//! CLI read the English template filled in (`Display`). Nothing parses
//! rendered text.
//!
//! Messages come from `#[derive(Localized)]` on an error type (its
//! `#[error("…")]` templates) or from `message!("…")` where one is written
//! inline.

use std::fmt;

use serde::Serialize;

pub use facesign_message_macros::{message, Localized};

/// A message: its catalog key, its English template and the values it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Message {
    /// The catalog key, the template's slug; empty for text carried verbatim.
    pub key: &'static str,
    /// The English template, every value named (`{reviewer}`).
    pub template: &'static str,
    /// The values, by name.
    pub args: Vec<(&'static str, Arg)>,
}

/// A value in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum Arg {
    /// Data carried as written (an id, a number, a field name).
    Value(String),
    /// A word the catalog translates when it knows it (an action, a reason).
    Word(String),
    /// A message of its own (a wrapped error).
    Message(Box<Message>),
    /// Messages listed (joined by the language's separator).
    List(Vec<Message>),
}

impl Message {
    /// A message of `key` with `template` and `args`; `message!` and the derive write these.
    pub fn new(key: &'static str, template: &'static str, args: Vec<(&'static str, Arg)>) -> Self {
        Self {
            key,
            template,
            args,
        }
    }

    /// Text that has no catalog entry (a library's own complaint): shown as
    /// written in every language.
    pub fn verbatim(text: impl Into<String>) -> Self {
        Self {
            key: "",
            template: "{text}",
            args: vec![("text", Arg::Value(text.into()))],
        }
    }

    /// Messages listed as one (a list of bookings in a refusal).
    pub fn list(items: Vec<Message>) -> Self {
        Arg::List(items).into_message()
    }

    /// The value named `name`.
    pub fn arg(&self, name: &str) -> Option<&Arg> {
        self.args.iter().find(|(n, _)| *n == name).map(|(_, a)| a)
    }

    /// Fills a template in: each `{name}` by `value(arg)`, `{{`/`}}` as braces.
    pub fn fill(&self, template: &str, mut value: impl FnMut(&Arg) -> String) -> String {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(at) = rest.find(['{', '}']) {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                out.push_str(&tail[..1]);
                rest = &tail[2..];
            } else if let (true, Some(close)) = (tail.starts_with('{'), tail.find('}')) {
                if let Some(arg) = self.arg(&tail[1..close]) {
                    out.push_str(&value(arg));
                }
                rest = &tail[close + 1..];
            } else {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
        out
    }
}

impl fmt::Display for Message {
    /// The English, as the log and the CLI read it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fill(self.template, |arg| arg.to_string()))
    }
}

impl std::error::Error for Message {}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Value(text) | Arg::Word(text) => f.write_str(text),
            Arg::Message(message) => message.fmt(f),
            Arg::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    item.fmt(f)?;
                }
                Ok(())
            }
        }
    }
}

impl Arg {
    /// The same value as a word the catalog may translate.
    pub fn into_word(self) -> Arg {
        match self {
            Arg::Value(text) => Arg::Word(text),
            other => other,
        }
    }

    /// The value as a message of its own (a wrapped error).
    pub fn into_message(self) -> Message {
        match self {
            Arg::Message(message) => *message,
            Arg::Value(text) | Arg::Word(text) => Message::verbatim(text),
            list @ Arg::List(_) => Message {
                key: "",
                template: "{text}",
                args: vec![("text", list)],
            },
        }
    }
}

/// The catalog key of a template: lower-case ASCII words joined by `-`,
/// placeholders by their names, starting with a letter. The macros compute
/// the same at compile time.
pub fn key_of(template: &str) -> String {
    let mut key = String::new();
    for c in template.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.ends_with('-') && !key.is_empty() {
            key.push('-');
        }
    }
    let key = key.trim_end_matches('-').to_string();
    if key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        key
    } else {
        format!("m-{key}")
    }
}

/// Implemented by every error a caller can read: the message it carries.
pub trait Localized {
    /// What went wrong, as a catalog key and values.
    fn message(&self) -> Message;
}

impl Localized for Message {
    fn message(&self) -> Message {
        self.clone()
    }
}

impl Localized for std::convert::Infallible {
    fn message(&self) -> Message {
        match *self {}
    }
}

/// A value on its way into a message; see [`ViaLocalized`].
pub struct ArgOf<'a, T: ?Sized>(pub &'a T);

/// A value that is itself localized becomes a nested message. Chosen over
/// [`ViaDisplay`] by method resolution (`(&ArgOf(x)).to_arg()`), so the
/// macros need not know a value's type.
pub trait ViaLocalized {
    /// The value as an argument.
    fn to_arg(&self) -> Arg;
}

/// Any other value is carried as its `Display`.
pub trait ViaDisplay {
    /// The value as an argument.
    fn to_arg(&self) -> Arg;
}

impl<T: Localized + ?Sized> ViaLocalized for ArgOf<'_, T> {
    fn to_arg(&self) -> Arg {
        Arg::Message(Box::new(self.0.message()))
    }
}

impl<T: fmt::Display + ?Sized> ViaDisplay for &ArgOf<'_, T> {
    fn to_arg(&self) -> Arg {
        Arg::Value(self.0.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error, Localized)]
    enum Sample {
        #[error("the case is claimed by {reviewer}")]
        Claimed { reviewer: String },
        #[error("cannot {action} a task that is {from:?}")]
        Transition {
            action: &'static str,
            from: Option<u8>,
        },
        #[error(transparent)]
        Inner(#[from] Inner),
        #[error("{0} is listed twice")]
        Twice(String),
        #[error("ends at {} Beijing time", until + 8)]
        Until { until: u32 },
        #[error("braces {{ stay }}")]
        Braces,
    }

    #[derive(Debug, thiserror::Error, Localized)]
    #[error("page size must be between 1 and {max}")]
    struct Inner {
        max: usize,
    }

    #[test]
    fn the_derive_carries_key_template_and_values() {
        let claimed = Sample::Claimed {
            reviewer: "R1".into(),
        }
        .message();
        assert_eq!(claimed.key, "the-case-is-claimed-by-reviewer");
        assert_eq!(claimed.template, "the case is claimed by {reviewer}");
        assert_eq!(claimed.arg("reviewer"), Some(&Arg::Value("R1".into())));
        let transition = Sample::Transition {
            action: "cancel",
            from: Some(3),
        }
        .message();
        assert_eq!(transition.key, "cannot-action-a-task-that-is-from");
        assert_eq!(transition.arg("action"), Some(&Arg::Word("cancel".into())));
        assert_eq!(transition.arg("from"), Some(&Arg::Value("Some(3)".into())));
        let inner = Sample::Inner(Inner { max: 50 }).message();
        assert_eq!(inner.key, "page-size-must-be-between-1-and-max");
        let twice = Sample::Twice("2026-01-01".into()).message();
        assert_eq!(twice.key, "v0-is-listed-twice");
        assert_eq!(twice.template, "{v0} is listed twice");
        assert_eq!(
            Sample::Until { until: 2 }.message().to_string(),
            "ends at 10 Beijing time"
        );
        assert_eq!(Sample::Braces.message().to_string(), "braces { stay }");
        for message in [claimed, transition, inner, twice] {
            assert_eq!(
                message.key,
                key_of(message.template),
                "the macros and key_of agree"
            );
        }
    }

    #[test]
    fn the_english_is_what_thiserror_writes() {
        for sample in [
            Sample::Claimed {
                reviewer: "R1".into(),
            },
            Sample::Transition {
                action: "cancel",
                from: None,
            },
            Sample::Inner(Inner { max: 50 }),
            Sample::Twice("x".into()),
            Sample::Until { until: 1 },
            Sample::Braces,
        ] {
            assert_eq!(sample.message().to_string(), sample.to_string());
        }
    }

    #[test]
    fn an_inline_message_takes_its_values_from_scope_or_by_name() {
        let max = 200;
        let inline = message!("first must be between 1 and {max}");
        assert_eq!(inline.key, "first-must-be-between-1-and-max");
        assert_eq!(inline.to_string(), "first must be between 1 and 200");
        let named = message!("{what} not found", what = "interview task");
        assert_eq!(named.arg("what"), Some(&Arg::Word("interview task".into())));
        let nested = message!("event log: {cause}", cause = Inner { max: 5 });
        assert!(matches!(nested.arg("cause"), Some(Arg::Message(_))));
        assert_eq!(
            nested.to_string(),
            "event log: page size must be between 1 and 5"
        );
    }
}
