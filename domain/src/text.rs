//! What text a command may carry. Control characters have no place in a
//! name, a number or a reason: Postgres cannot store NUL at all (the same
//! input was stored on SQLite and refused on Postgres), and the rest hide
//! text from the people who read it later. Free text may hold tab and line
//! breaks; no other control character (C0, DEL, C1) nor a bidirectional
//! override is accepted anywhere.

/// Field names whose values are free text (remarks, reasons, chat, notes):
/// tab, line feed and carriage return are allowed in them.
pub const FREE_TEXT_FIELDS: [&str; 10] = [
    "content",
    "information",
    "note",
    "otherText",
    "reason",
    "text",
    "detail",
    "remark",
    "comment",
    "description",
];

/// Whether a field of this name is free text (its last path segment).
pub fn is_free_text(field: &str) -> bool {
    FREE_TEXT_FIELDS.contains(&field)
}

/// The first control character in `text` that a field of its kind may not
/// hold: any C0 or C1 control character or DEL, and the bidirectional
/// overrides and isolates that make text read other than it is stored;
/// tab and line breaks are allowed in free text.
pub fn forbidden_control(text: &str, free_text: bool) -> Option<char> {
    text.chars().find(|&c| {
        let control =
            c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        control && !(free_text && matches!(c, '\t' | '\n' | '\r'))
    })
}

/// The refusal's wording: which field and which character (as U+XXXX).
pub fn control_refusal(field: &str, c: char) -> crate::message::Message {
    let character = format!("U+{:04X}", u32::from(c));
    crate::message::message!(
        "{field} contains the control character {character}; only tab and line breaks are allowed, and only in free text"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_other_c0_are_refused_and_free_text_keeps_its_line_breaks() {
        assert_eq!(forbidden_control("HT-2026\u{0}1", false), Some('\u{0}'));
        assert_eq!(forbidden_control("邓小闲\u{1b}[2J", false), Some('\u{1b}'));
        assert_eq!(forbidden_control("a\u{7f}", true), Some('\u{7f}'));
        assert_eq!(forbidden_control("第一行\n第二行\t", true), None);
        assert_eq!(forbidden_control("第一行\n第二行", false), Some('\n'));
        assert_eq!(forbidden_control("邓小闲 HT-2026-0100", false), None);
        assert_eq!(forbidden_control("a\u{9b}2J", true), Some('\u{9b}'));
        assert_eq!(
            forbidden_control("HT-\u{202E}0010", false),
            Some('\u{202E}')
        );
        assert!(is_free_text("reason") && !is_free_text("contractNo"));
        assert_eq!(
            control_refusal("input.contractNo", '\u{0}').to_string(),
            "input.contractNo contains the control character U+0000; only tab and line breaks are allowed, and only in free text"
        );
    }
}
