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

/// Masks a detailed address entirely: the province, city and district are
/// shown in their own fields, the street and number never to those without need.
pub fn mask_address(address: &str) -> String {
    if address.is_empty() {
        String::new()
    } else {
        "***".to_string()
    }
}

/// Masks the personal data inside a text written to a person (an SMS, a
/// notice): the names given (those of the record's people), the name of a
/// salutation (尊敬的邓小闲 → 尊敬的邓*闲), and every run of digits shaped
/// like a mobile number (11 digits from 1) or an ID number (15, or 17 and a
/// check character), by the same rules as the fields.
pub fn mask_text(text: &str, names: &[&str]) -> String {
    let mut names: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.chars().count() >= 2)
        .collect();
    // Longest first, so 欧阳娜娜 is masked before a shorter name inside it.
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names.dedup();
    let mut masked = text.to_string();
    for name in names {
        masked = masked.replace(name, &mask_name(name));
    }
    masked = mask_salutation(&masked);
    mask_digit_runs(&masked)
}

/// Whether `text` holds a run of digits shaped like an ID number or a
/// mobile number (what [`mask_text`] masks).
pub fn has_id_number_or_phone(text: &str) -> bool {
    mask_digit_runs(text) != text
}

/// 尊敬的X, → 尊敬的 masked X.
fn mask_salutation(text: &str) -> String {
    const SALUTATION: &str = "尊敬的";
    let Some(at) = text.find(SALUTATION) else {
        return text.to_string();
    };
    let start = at + SALUTATION.len();
    let rest = &text[start..];
    let end = rest
        .char_indices()
        .find(|(_, c)| matches!(c, ',' | '，' | ' ' | '：' | ':'))
        .map_or(rest.len(), |(i, _)| i);
    let name = &rest[..end];
    if name.is_empty() || name.chars().count() > 12 || name.contains('*') {
        return text.to_string();
    }
    format!("{}{}{}", &text[..start], mask_name(name), &rest[end..])
}

fn mask_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        // An ID number may end in the check character X.
        if i - start == 17 && i < chars.len() && matches!(chars[i], 'X' | 'x') {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        out.push_str(&match run.len() {
            11 if run.starts_with('1') => mask_phone(&run),
            // A mobile number after the country code 86.
            13 if run.starts_with("861") => format!("86{}", mask_phone(&run[2..])),
            15 | 18 => mask_id_number(&run),
            // Bank card numbers.
            16 | 17 | 19 => mask_card(&run),
            _ => run,
        });
    }
    out
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

    /// Issue 31: `smsMessages` showed the text of an SMS in clear to those
    /// who see the phone masked. Texts are masked by the fields' rules.
    #[test]
    fn texts_are_masked_by_the_rules_of_the_fields() {
        let notice = "尊敬的邓小闲, 您于20261121 在我行申请的永续贷产品已进入面谈环节, 请于2026112409:00 至2026112409:30 期间登录【原银在线】APP 完成面谈任务或改约。";
        assert_eq!(
            mask_text(notice, &[]),
            notice.replacen("邓小闲", "邓*闲", 1)
        );
        let guide = "尊敬的李婉清，您的房贷业务（案件号AJ-1）需视频办理，请致电15618293093或凭410102198503121017办理。";
        assert_eq!(
            mask_text(guide, &["李婉清"]),
            "尊敬的李*清，您的房贷业务（案件号AJ-1）需视频办理，请致电156****3093或凭410102********1017办理。"
        );
        assert_eq!(
            mask_text("欧阳娜娜与邓小闲", &["邓小闲", "欧阳娜娜"]),
            "欧**娜与邓*闲"
        );
        assert_eq!(
            mask_text("请拨+8615618293093，卡号6222020200112233445", &[]),
            "请拨+86156****3093，卡号622202*********3445"
        );
        assert!(has_id_number_or_phone("410102198503121017"));
        assert!(!has_id_number_or_phone("M0001"));
        assert_eq!(mask_address("上海市浦东新区张江路100号"), "***");
    }

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
