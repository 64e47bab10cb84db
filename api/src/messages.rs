//! Every error message in Chinese and English (issue 23 item 6, issue 33
//! item 2). An error carries its message as data where it is made
//! ([`domain::message::Message`]: a catalog key and the values it names); it
//! is rendered here, at the edge, in the caller's language from
//! `Accept-Language` — Chinese unless the caller prefers English, as the
//! console — from the Fluent catalogs `api/messages/zh.ftl` and `en.ftl`.
//! `extensions.code` never changes: clients decide on the code, and people
//! read the message. Nothing parses rendered text.
//!
//! A value named as a word (an action, a reason) is itself looked up in the
//! catalog; a nested error is rendered in the same language; anything else
//! is carried as written. A test scans the source for every template written
//! and fails for one without both translations.

use axum::http::{header, HeaderMap};
use domain::message::{Arg, Message};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;

/// The languages the engine answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// 中文, the default.
    Chinese,
    /// English.
    English,
}

impl Language {
    /// The caller's preference from `Accept-Language`: English only when an
    /// English tag outranks every Chinese one; Chinese otherwise.
    pub fn of(headers: &HeaderMap) -> Self {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Language::Chinese, Self::parse)
    }

    /// Reads an `Accept-Language` value, e.g. `en-US,en;q=0.9,zh;q=0.8`.
    pub fn parse(accept: &str) -> Self {
        let mut best: Option<(f32, Language)> = None;
        for item in accept.split(',').take(32) {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let language = if tag == "en" || tag.starts_with("en-") {
                Language::English
            } else if tag == "zh" || tag.starts_with("zh-") {
                Language::Chinese
            } else {
                continue;
            };
            if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, language));
            }
        }
        best.map_or(Language::Chinese, |(_, language)| language)
    }

    /// The `Content-Language` of an answer in it.
    pub fn tag(self) -> &'static str {
        match self {
            Language::Chinese => "zh-CN",
            Language::English => "en",
        }
    }
}

/// Middleware: says which language a JSON answer's messages are in
/// (`Content-Language`, `Vary: Accept-Language`); the handlers render them.
pub async fn content_language(
    request: axum::http::Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let language = Language::of(request.headers());
    let mut response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.contains("graphql-response+json"));
    if is_json {
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_LANGUAGE,
            axum::http::HeaderValue::from_static(language.tag()),
        );
        headers.append(
            header::VARY,
            axum::http::HeaderValue::from_static("accept-language"),
        );
    }
    response
}

/// The English catalog.
pub const ENGLISH: &str = include_str!("../messages/en.ftl");
/// The Chinese catalog.
pub const CHINESE: &str = include_str!("../messages/zh.ftl");

/// A catalog, parsed once.
fn bundle(language: Language) -> &'static FluentBundle<FluentResource> {
    static CHINESE_BUNDLE: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    static ENGLISH_BUNDLE: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    let (cell, text, tag) = match language {
        Language::Chinese => (&CHINESE_BUNDLE, CHINESE, "zh-CN"),
        Language::English => (&ENGLISH_BUNDLE, ENGLISH, "en"),
    };
    cell.get_or_init(|| {
        // The catalogs are compiled in and checked by the tests; a syntax
        // error there is a build defect, reported once at start-up.
        let resource =
            FluentResource::try_new(text.to_string()).unwrap_or_else(|(resource, errors)| {
                tracing::error!(?errors, "the {tag} message catalog has syntax errors");
                resource
            });
        let id: unic_langid::LanguageIdentifier = tag.parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // Values are shown as written: no bidi isolation marks around them.
        bundle.set_use_isolating(false);
        if let Err(errors) = bundle.add_resource(resource) {
            tracing::error!(?errors, "the {tag} message catalog repeats keys");
        }
        bundle
    })
}

/// The catalog's text of `key` with `args`, when the catalog has it.
fn lookup(key: &str, args: Option<&FluentArgs<'_>>, language: Language) -> Option<String> {
    let bundle = bundle(language);
    let pattern = bundle.get_message(key)?.value()?;
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, args, &mut errors);
    if !errors.is_empty() {
        tracing::warn!(
            key,
            ?errors,
            "a message's values do not match its catalog entry"
        );
    }
    Some(text.into_owned())
}

/// `message` in `language`. A key the catalog lacks (a test keeps that from
/// happening) falls back to the English template filled in.
pub fn render(message: &Message, language: Language) -> String {
    if message.key.is_empty() {
        if let Some(Arg::Value(text)) = message.arg("text") {
            return recorded(text, language);
        }
        return message.fill(message.template, |arg| render_arg(arg, language));
    }
    let mut args = FluentArgs::new();
    for (name, arg) in &message.args {
        args.set(*name, FluentValue::from(render_arg(arg, language)));
    }
    lookup(message.key, Some(&args), language)
        .unwrap_or_else(|| message.fill(message.template, |arg| render_arg(arg, language)))
}

fn render_arg(arg: &Arg, language: Language) -> String {
    match arg {
        Arg::Value(text) => text.clone(),
        Arg::Word(word) => {
            lookup(&domain::message::key_of(word), None, language).unwrap_or_else(|| word.clone())
        }
        Arg::Message(message) => render(message, language),
        Arg::List(items) => {
            let separator = match language {
                Language::Chinese => "、",
                Language::English => ", ",
            };
            items
                .iter()
                .map(|item| render(item, language))
                .collect::<Vec<_>>()
                .join(separator)
        }
    }
}

/// Text carried verbatim (a refusal's reason as an event recorded it): shown
/// in `language` when it is, whole, one of the catalog's messages without
/// values, else as written. A lookup by key, checked against the English.
fn recorded(text: &str, language: Language) -> String {
    let key = domain::message::key_of(text);
    match lookup(&key, None, Language::English) {
        Some(english) if english == text => lookup(&key, None, language).unwrap_or(english),
        _ => text.to_string(),
    }
}

/// Puts every error of a GraphQL response that carries its message (all the
/// engine's own) in `language`. The schema's own validation messages come
/// from async-graphql, in English, and stay so.
pub fn localize_response(
    mut response: async_graphql::Response,
    language: Language,
) -> async_graphql::Response {
    for error in response.errors.iter_mut() {
        if let Some(message) = error.source::<Message>() {
            error.message = render(message, language);
        }
    }
    response
}

#[cfg(test)]
mod tests;
