use super::*;

#[test]
fn the_language_is_chinese_unless_english_is_preferred() {
    assert_eq!(Language::parse(""), Language::Chinese);
    assert_eq!(Language::parse("fr-FR"), Language::Chinese);
    assert_eq!(
        Language::parse("zh-CN,zh;q=0.9,en;q=0.8"),
        Language::Chinese
    );
    assert_eq!(Language::parse("en-US,en;q=0.9"), Language::English);
    assert_eq!(Language::parse("en"), Language::English);
    assert_eq!(Language::parse("en;q=0.5, zh;q=0.6"), Language::Chinese);
    assert_eq!(Language::parse("fr, en;q=0.4"), Language::English);
    assert_eq!(Language::parse("en;q=0"), Language::Chinese);
    assert_eq!(Language::parse("english"), Language::Chinese);
    assert_eq!(Language::of(&HeaderMap::new()), Language::Chinese);
}

use domain::interview_task::{InterviewTaskError, TaskStatus};
use domain::message::{message, Localized};
use domain::qc_case::QcCaseError;

#[test]
fn a_message_is_given_in_either_language() {
    let error = QcCaseError::NoReason.message();
    assert_eq!(render(&error, Language::Chinese), "拒绝至少需要一个原因");
    assert_eq!(
        render(&error, Language::English),
        "a reject needs at least one reason"
    );
}

#[test]
fn values_are_carried_over_and_words_among_them_translated() {
    let transition = InterviewTaskError::InvalidTransition {
        action: "cancel",
        from: TaskStatus::Passed,
    }
    .message();
    assert_eq!(
        render(&transition, Language::Chinese),
        "不能撤销状态为 Passed 的任务"
    );
    assert_eq!(
        render(&transition, Language::English),
        "cannot cancel a task that is Passed"
    );
    let field = InterviewTaskError::InvalidField {
        field: "remark",
        reason: "must be non-empty and not too long",
    }
    .message();
    assert_eq!(
        render(&field, Language::Chinese),
        "remark 不能为空且不能过长"
    );
    let taken = store::CommandError::<std::convert::Infallible>::Taken {
        what: "an open interview task",
        key: "HT-1".into(),
        holder: "0190-abc".into(),
    }
    .message();
    assert_eq!(
        render(&taken, Language::Chinese),
        "HT-1 已有未结束的面谈任务：0190-abc"
    );
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-01T02:00:00Z")
        .unwrap()
        .to_utc();
    let bookings = domain::seat::SeatError::FutureBookingsExist {
        bookings: vec![("T1".into(), start), ("T2".into(), start)],
    }
    .message();
    assert_eq!(
        render(&bookings, Language::Chinese),
        "该坐席尚有 2 个未来预约，请先改派：任务 T1（北京时间 2026-12-01 10:00）、任务 T2（北京时间 2026-12-01 10:00）"
    );
    assert_eq!(
        render(&bookings, Language::English),
        "seat has 2 future booking(s); reassign them first: task T1 at 2026-12-01 10:00 Beijing time, task T2 at 2026-12-01 10:00 Beijing time"
    );
}

#[test]
fn a_wrapped_error_is_rendered_in_the_same_language() {
    let wrapped =
        InterviewTaskError::InvalidSlot(domain::schedule::ScheduleError::EmptySlot).message();
    assert_eq!(
        render(&wrapped, Language::Chinese),
        "时段的结束时间须晚于开始时间"
    );
    let refusal = crate::query_limits::Refusal::Malformed(message!(
        "fragment {child} spreads itself (a cycle)",
        child = "F"
    ))
    .message();
    assert_eq!(
        render(&refusal, Language::Chinese),
        "查询不是有效的 GraphQL：片段 F 引用了自身（循环）"
    );
}

#[test]
fn verbatim_text_is_shown_as_written_unless_it_is_a_whole_message_of_the_catalog() {
    let recorded = domain::message::Message::verbatim("seat is already booked at that time");
    assert_eq!(render(&recorded, Language::Chinese), "该坐席此时段已被预约");
    for text in ["something nobody wrote down", "seat is already booked"] {
        let verbatim = domain::message::Message::verbatim(text);
        assert_eq!(render(&verbatim, Language::Chinese), text);
    }
}

#[test]
fn responses_carry_their_messages_to_the_edge() {
    let error: async_graphql::Error = crate::ApiError::of(&QcCaseError::AlreadyDecided).into();
    let response = || {
        async_graphql::Response::from_errors(vec![
            error
                .clone()
                .into_server_error(async_graphql::Pos::default()),
            // The schema's own complaints carry no message of ours: left as written.
            async_graphql::ServerError::new("Unknown field \"x\"", None),
        ])
    };
    let english = localize_response(response(), Language::English);
    assert_eq!(english.errors[0].message, "the case is already decided");
    let chinese = localize_response(response(), Language::Chinese);
    assert_eq!(chinese.errors[0].message, "该案件已有结论");
    assert_eq!(chinese.errors[1].message, "Unknown field \"x\"");
}

/// A catalog's entries: key → (text, the variables it names).
fn catalog(text: &str) -> std::collections::BTreeMap<String, (String, Vec<String>)> {
    let resource = FluentResource::try_new(text.to_string())
        .unwrap_or_else(|(_, errors)| panic!("the catalog does not parse: {errors:?}"));
    let mut entries = std::collections::BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (key, value) = line
            .split_once(" = ")
            .unwrap_or_else(|| panic!("one line per entry: {line}"));
        let mut names: Vec<String> = value
            .split("{ $")
            .skip(1)
            .map(|rest| rest.split(' ').next().unwrap_or_default().to_string())
            .collect();
        names.sort();
        let previous = entries.insert(key.to_string(), (value.to_string(), names));
        assert!(previous.is_none(), "{key} is in the catalog twice");
    }
    assert_eq!(
        resource.entries().count(),
        entries.len(),
        "one entry per line"
    );
    entries
}

/// A template as the macros normalize it: `{}` → `{a0}`, `{0}` → `{v0}`,
/// format specs dropped.
fn normalize(template: &str) -> String {
    let mut out = String::new();
    let (mut next, mut rest) = (0, template);
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        if rest[open..].starts_with("{{") {
            out.push_str("{{");
            rest = &rest[open + 2..];
            continue;
        }
        let close = open + rest[open..].find('}').expect("a closed placeholder");
        let name = rest[open + 1..close]
            .split(':')
            .next()
            .unwrap_or_default()
            .trim();
        let name = if name.is_empty() {
            next += 1;
            format!("a{}", next - 1)
        } else if name.chars().all(|c| c.is_ascii_digit()) {
            format!("v{name}")
        } else {
            name.to_string()
        };
        out.push_str(&format!("{{{name}}}"));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The catalog form of a normalized template (`{x}` → `{ $x }`).
fn in_fluent(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push_str("{\"{\"}");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push_str("{\"}\"}");
            rest = after;
        } else {
            let close = tail.find('}').expect("closed");
            out.push_str(&format!("{{ ${} }}", &tail[1..close]));
            rest = &tail[close + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// The string literal at the start of `rest` (after blanks), unescaped.
fn literal(rest: &str) -> Option<String> {
    let body = rest.trim_start().strip_prefix('"')?;
    let mut text = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(text),
            '\\' => match chars.next() {
                Some('\n') => {
                    while chars.clone().next().is_some_and(char::is_whitespace) {
                        chars.next();
                    }
                }
                Some('n') => text.push('\n'),
                Some(other) => text.push(other),
                None => return None,
            },
            c => text.push(c),
        }
    }
    None
}

/// Every source file of the crates whose errors reach a caller (tests aside).
fn sources() -> Vec<(std::path::PathBuf, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut pending: Vec<std::path::PathBuf> = [
        "domain/src",
        "api/src",
        "store/src",
        "workers/src",
        "projections/src",
    ]
    .iter()
    .map(|dir| root.join(dir))
    .collect();
    let mut files = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("source dir").flatten() {
            let path = entry.path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            if path.is_dir() {
                if name != "tests" {
                    pending.push(path);
                }
            } else if name.ends_with(".rs") && name != "tests.rs" && name != "message.rs" {
                let text = std::fs::read_to_string(&path).expect("source");
                let text = text
                    .split("#[cfg(test)]")
                    .next()
                    .unwrap_or_default()
                    .to_string();
                files.push((path, text));
            }
        }
    }
    files
}

/// The templates written in the source, normalized: each `#[error("…")]` of a
/// type that derives `Localized`, and the first literal of each `message!(`.
fn written_templates() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (path, text) in sources() {
        let file = path.display().to_string();
        for (at, _) in text.match_indices("message!(") {
            if let Some(template) = literal(&text[at + "message!(".len()..]) {
                found.push((normalize(&template), file.clone()));
            }
        }
        for (at, _) in text.match_indices("#[derive(") {
            let derive = &text[at..];
            let end = derive.find(")]").unwrap_or(derive.len());
            if !derive[..end].contains("Localized") {
                continue;
            }
            // The item after the derive, to its closing brace at column 0.
            let item = &text[at..];
            let item = &item[..item.find("\n}").unwrap_or(item.len())];
            for (error, _) in item.match_indices("#[error(") {
                if let Some(template) = literal(&item[error + "#[error(".len()..]) {
                    found.push((normalize(&template), file.clone()));
                }
            }
        }
    }
    found
}

/// The words written for values the catalog translates (`action: "cancel"`).
fn written_words() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (path, text) in sources() {
        for marker in [
            "action: ",
            "reason: ",
            "reasons: ",
            "what: ",
            "kind: ",
            "what = ",
            "refusal(caller, ",
            "transition(",
            "invalid(",
        ] {
            for (at, _) in text.match_indices(marker) {
                let mut rest = &text[at + marker.len()..];
                if marker == "invalid(" {
                    // invalid(field, "reason"): the call's second literal.
                    let call = rest.split(')').next().unwrap_or_default();
                    let quotes: Vec<usize> = call.match_indices('"').map(|(i, _)| i).collect();
                    rest = if quotes.len() == 4 {
                        &call[quotes[2]..]
                    } else {
                        ""
                    };
                }
                if let Some(word) = literal(rest) {
                    // Codes (`DEBIT_FAILED`) are data, not words.
                    if word.chars().any(char::is_lowercase) {
                        found.push((word, path.display().to_string()));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn both_catalogs_hold_the_same_keys_with_the_same_values() {
    let (english, chinese) = (catalog(ENGLISH), catalog(CHINESE));
    let only = |a: &std::collections::BTreeMap<String, (String, Vec<String>)>,
                b: &std::collections::BTreeMap<String, (String, Vec<String>)>| {
        a.keys()
            .filter(|k| !b.contains_key(*k))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(
        only(&english, &chinese).is_empty(),
        "not in zh.ftl: {:?}",
        only(&english, &chinese)
    );
    assert!(
        only(&chinese, &english).is_empty(),
        "not in en.ftl: {:?}",
        only(&chinese, &english)
    );
    for (key, (text, names)) in &english {
        let (chinese_text, chinese_names) = &chinese[key];
        assert_eq!(names, chinese_names, "{key}: {text} / {chinese_text}");
        assert_eq!(
            *key,
            domain::message::key_of(text.replace("{ $", "{").replace(" }", "}").as_str()),
            "{key} is its English's key"
        );
        let shape: String = text
            .split("{ $")
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part
                } else {
                    part.split_once(" }").map_or("", |(_, after)| after)
                }
            })
            .collect();
        let worded = shape.chars().any(|c| c.is_ascii_alphabetic());
        assert!(
            !worded
                || chinese_text
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{key}: the Chinese is not Chinese: {chinese_text}"
        );
    }
}

#[test]
fn every_written_message_and_word_has_both_translations() {
    let english = catalog(ENGLISH);
    let templates = written_templates();
    assert!(
        templates.len() > 250,
        "the scan finds the templates: {}",
        templates.len()
    );
    let mut missing = std::collections::BTreeSet::new();
    let mut used = std::collections::BTreeSet::new();
    for (template, file) in &templates {
        // A template of one value passes that value's message on.
        if template.starts_with('{')
            && template.ends_with('}')
            && template.matches('{').count() == 1
        {
            continue;
        }
        let key = domain::message::key_of(template);
        match english.get(&key) {
            Some((text, _)) => {
                assert_eq!(
                    *text,
                    in_fluent(template),
                    "{key} in en.ftl is not the template written in {file}"
                );
                used.insert(key);
            }
            None => {
                missing.insert(format!("{key} = {}    ({file})", in_fluent(template)));
            }
        }
    }
    for (word, file) in written_words() {
        let key = domain::message::key_of(&word);
        if english.contains_key(&key) {
            used.insert(key);
        } else {
            missing.insert(format!("{key} = {word}    ({file}, a word)"));
        }
    }
    assert!(
        missing.is_empty(),
        "messages without an entry in api/messages/en.ftl and zh.ftl:\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
    let unused: Vec<&String> = english.keys().filter(|k| !used.contains(*k)).collect();
    assert!(unused.is_empty(), "entries no source writes: {unused:?}");
}
