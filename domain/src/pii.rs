//! Masking of personal data (004: names shown like 邓*闲), decided in one place.

/// Masks a name: keeps the first and last character, hides the middle
/// (邓小闲 → 邓*闲); a two-character name keeps its first (王力 → 王*).
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_string(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// Masks an ID number: keeps the first 6 (region) and last 4 characters.
pub fn mask_id_number(id: &str) -> String {
    keep_ends(id, 6, 4)
}

/// Whether `phone` is an 11-digit mainland mobile number.
pub fn valid_phone(phone: &str) -> bool {
    phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit())
}

/// Masks a mobile number: keeps the first 3 and last 4 digits (156****3093).
pub fn mask_phone(phone: &str) -> String {
    keep_ends(phone, 3, 4)
}

/// Masks a bank card number: keeps the first 6 (the bank's BIN) and last 4 digits.
pub fn mask_card(card_no: &str) -> String {
    keep_ends(card_no, 6, 4)
}

fn keep_ends(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() - head - tail;
    chars[..head]
        .iter()
        .chain(std::iter::repeat_n(&'*', hidden))
        .chain(&chars[chars.len() - tail..])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 004_448cd5ace309d8b2.txt 3.4: the task list shows 邓小闲 as 邓*闲.
    #[test]
    fn names_are_masked_like_the_platform_manual() {
        assert_eq!(mask_name("邓小闲"), "邓*闲");
        assert_eq!(mask_name("王力"), "王*");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
    }

    #[test]
    fn numbers_keep_only_their_ends() {
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(mask_phone("15618293093"), "156****3093");
        assert_eq!(mask_phone("123"), "***");
    }
}
