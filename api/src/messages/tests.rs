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

#[test]
fn a_message_is_given_in_either_language() {
    let english = "a reject needs at least one reason";
    assert_eq!(localize(english, Language::Chinese), "拒绝至少需要一个原因");
    assert_eq!(localize(english, Language::English), english);
    assert_eq!(localize("拒绝至少需要一个原因", Language::English), english);
}

#[test]
fn values_are_carried_over_and_words_among_them_translated() {
    assert_eq!(
        localize("cannot cancel a task that is Passed", Language::Chinese),
        "不能撤销状态为 Passed 的任务"
    );
    assert_eq!(
        localize(
            "remark must be non-empty and not too long",
            Language::Chinese
        ),
        "remark 不能为空且不能过长"
    );
    assert_eq!(
        localize(
            "seat has 2 future booking(s); reassign them first: task T1 at 2026-12-01 10:00 Beijing time, task T2 at 2026-12-02 11:30 Beijing time",
            Language::Chinese
        ),
        "该坐席尚有 2 个未来预约，请先改派：任务 T1（北京时间 2026-12-01 10:00）、任务 T2（北京时间 2026-12-02 11:30）"
    );
    assert_eq!(
        localize(
            "HT-1 already has an open interview task: 0190-abc",
            Language::Chinese
        ),
        "HT-1 已有未结束的面谈任务：0190-abc"
    );
    assert_eq!(
        localize(
            "seat S1 may act only as itself, not as seat S2",
            Language::Chinese
        ),
        "坐席 S1 只能以自己的身份操作，不能代坐席 S2"
    );
}

#[test]
fn the_schema_s_own_refusals_are_translated_too() {
    assert_eq!(
        localize(
            r#"Unknown field "nope" on type "QueryRoot"."#,
            Language::Chinese
        ),
        r#"类型 "QueryRoot" 上没有字段 "nope"。"#
    );
}

#[test]
fn a_hostile_message_costs_little_and_stays_as_written() {
    let soup = format!("Unknown field \"{}\" on type \"Q\".", "a, b ".repeat(5_000));
    assert_eq!(localize(&soup, Language::Chinese), soup);
    // Many places a value could end: the match still ends, with the first.
    let nested = "seat S1 may act only as itself, not as seat ".repeat(20);
    assert!(localize(&nested, Language::Chinese).starts_with("坐席 S1 只能以自己的身份操作"));
}

#[test]
fn an_unknown_message_is_left_as_written() {
    for message in ["something nobody wrote down", "two words"] {
        assert_eq!(localize(message, Language::Chinese), message);
    }
}

#[test]
fn error_bodies_are_localized_and_codes_kept() {
    let mut body = serde_json::json!({ "errors": [
        { "message": "seat not found", "extensions": { "code": "NOT_FOUND" } }
    ] });
    assert!(localize_body(&mut body, Language::Chinese));
    assert_eq!(body["errors"][0]["message"], "坐席不存在");
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    assert!(!localize_body(&mut body, Language::Chinese));
}

/// Every entry names the same values in both languages, and never two values
/// side by side (they could not be told apart).
#[test]
fn every_entry_is_well_formed() {
    let names = |pieces: &[Piece]| {
        let mut names: Vec<String> = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Value(name) => Some(name.clone()),
                Piece::Text(_) => None,
            })
            .collect();
        names.sort();
        names
    };
    for (english, chinese) in MESSAGES {
        let (en, zh) = (parse(english), parse(chinese));
        assert_eq!(names(&en), names(&zh), "{english} / {chinese}");
        for pieces in [&en, &zh] {
            assert!(
                !pieces
                    .windows(2)
                    .any(|w| matches!(w, [Piece::Value(_), Piece::Value(_)])),
                "{english}: two values side by side"
            );
        }
        let worded = english
            .chars()
            .any(|c| c.is_ascii_alphabetic() && !"{}".contains(c))
            && shape(english).chars().any(char::is_alphabetic);
        assert!(
            !worded
                || chinese
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{english}: the Chinese is not Chinese"
        );
    }
}

/// The source's error messages, as written where errors are made: the first
/// string literal after each of `MARKERS` (tests excluded).
fn written_messages() -> Vec<(String, String)> {
    const MARKERS: [&str; 16] = [
        "invalid(",
        "#[error(",
        "validation(",
        "not_found(",
        "Invalid(",
        "Refused(",
        "BorrowRefused(",
        "PrepaymentOpen(",
        "DuplicateScope(",
        "Malformed(",
        "transition(",
        "reason: ",
        "action: ",
        "message: ",
        "refusal_body(",
        "write!(f, ",
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
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
            } else if name.ends_with(".rs") && name != "tests.rs" {
                files.push(path);
            }
        }
    }
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for marker in MARKERS {
            for (at, _) in text.match_indices(marker) {
                let mut rest = &text[at + marker.len()..];
                if marker == "refusal_body(" {
                    // refusal_body(code, "message")
                    rest = rest.split_once(',').map_or("", |(_, after)| after);
                }
                if marker == "invalid(" {
                    // invalid(field, "reason") or invalid("message"): the last
                    // literal of the call.
                    let call = rest.split(')').next().unwrap_or_default();
                    let quotes: Vec<usize> = call.match_indices('"').map(|(i, _)| i).collect();
                    rest = match quotes.len() {
                        n if n >= 2 && n % 2 == 0 => &call[quotes[n - 2]..],
                        _ => "",
                    };
                }
                rest = rest.trim_start();
                for prefix in ["&format!(", "format!("] {
                    if let Some(after) = rest.strip_prefix(prefix) {
                        rest = after.trim_start();
                    }
                }
                let Some(literal) = rest.strip_prefix('"') else {
                    continue;
                };
                let mut message = String::new();
                let mut chars = literal.chars();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => message.extend(chars.next()),
                        c => message.push(c),
                    }
                }
                found.push((message, file.display().to_string()));
            }
        }
    }
    found
}

/// A template with every value as `{}`, to compare templates whatever their
/// values are called.
fn shape(template: &str) -> String {
    parse(template)
        .into_iter()
        .map(|p| match p {
            Piece::Text(text) => text,
            Piece::Value(_) => "{}".to_string(),
        })
        .collect()
}

#[test]
fn every_written_error_message_is_in_the_catalog() {
    let known: std::collections::HashSet<String> = MESSAGES
        .iter()
        .flat_map(|(english, chinese)| [shape(english), shape(chinese)])
        .collect();
    let written = written_messages();
    assert!(
        written.len() > 150,
        "the scan finds the messages: {}",
        written.len()
    );
    let missing: Vec<String> = written
        .into_iter()
        // Pass-through wrappers (`{0}`, `{}`) and lone values are no messages.
        .filter(|(message, _)| message.chars().any(char::is_alphabetic))
        .filter(|(message, _)| !message.starts_with('{') || message.contains(' '))
        .filter(|(message, _)| !known.contains(&shape(message)))
        .map(|(message, file)| format!("{message:?} ({file})"))
        .collect();
    assert!(
        missing.is_empty(),
        "error messages without a Chinese and English entry in api/src/messages.rs:\n{}",
        missing.join("\n")
    );
}
