//! Participants of an interview task (requirement 001, 2.7.3 rule 5): one person
//! may hold several roles on a contract, so participants are de-duplicated by ID
//! number with their roles merged, and exactly one of them is the main borrower.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::InterviewTaskError;

/// The role a person holds on the loan contract (主借人/共借人/共有人/配偶/保证人).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ParticipantRole {
    /// 主借人: the main borrower; exactly one per task.
    Borrower,
    /// 共借人.
    CoBorrower,
    /// 共有人 (co-owner of the property).
    CoOwner,
    /// 配偶.
    Spouse,
    /// 保证人.
    Guarantor,
}

impl ParticipantRole {
    /// The Chinese name used in requirement 001.
    pub fn label_zh(self) -> &'static str {
        match self {
            ParticipantRole::Borrower => "主借人",
            ParticipantRole::CoBorrower => "共借人",
            ParticipantRole::CoOwner => "共有人",
            ParticipantRole::Spouse => "配偶",
            ParticipantRole::Guarantor => "保证人",
        }
    }
}

/// The kind of identity document (证件类型).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IdType {
    /// 居民身份证: 18 characters with a GB 11643 check digit.
    #[default]
    IdCard,
    /// Passport or other document: checked for length only.
    Other,
}

/// A participant as submitted by the credit system, before de-duplication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantInput {
    /// Full name.
    pub name: String,
    /// Kind of identity document.
    pub id_type: IdType,
    /// Identity document number.
    pub id_number: String,
    /// Registered mobile number (注册手机号码).
    pub phone: String,
    /// Roles this entry holds; the same person may appear again with other roles.
    pub roles: Vec<ParticipantRole>,
}

/// A de-duplicated participant of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Full name.
    pub name: String,
    /// Kind of identity document.
    pub id_type: IdType,
    /// Normalised identity document number (trimmed, upper case).
    pub id_number: String,
    /// Registered mobile number.
    pub phone: String,
    /// Every role this person holds on the contract, merged and sorted.
    pub roles: BTreeSet<ParticipantRole>,
}

impl Participant {
    /// Whether this person is the main borrower (主借人).
    pub fn is_main_borrower(&self) -> bool {
        self.roles.contains(&ParticipantRole::Borrower)
    }
}

/// Validates the inputs and merges entries with the same ID number, keeping the
/// order of first appearance. Fails unless exactly one person is the main borrower.
pub fn merge_participants(
    inputs: &[ParticipantInput],
) -> Result<Vec<Participant>, InterviewTaskError> {
    if inputs.is_empty() {
        return Err(InterviewTaskError::NoParticipants);
    }
    let mut merged: Vec<Participant> = Vec::new();
    for input in inputs {
        let candidate = validate(input)?;
        match merged
            .iter_mut()
            .find(|p| p.id_number == candidate.id_number)
        {
            Some(existing) => {
                if existing.name != candidate.name {
                    return Err(InterviewTaskError::ConflictingParticipant {
                        id_number: candidate.id_number,
                    });
                }
                existing.roles.extend(candidate.roles);
            }
            None => merged.push(candidate),
        }
    }
    match merged.iter().filter(|p| p.is_main_borrower()).count() {
        0 => Err(InterviewTaskError::NoMainBorrower),
        1 => Ok(merged),
        n => Err(InterviewTaskError::SeveralMainBorrowers { count: n }),
    }
}

fn validate(input: &ParticipantInput) -> Result<Participant, InterviewTaskError> {
    let name = input.name.trim().to_string();
    let id_number = input.id_number.trim().to_uppercase();
    let phone = input.phone.trim().to_string();
    let invalid = |field: &'static str, reason: &str| InterviewTaskError::InvalidParticipant {
        field,
        reason: reason.to_string(),
    };
    if name.is_empty() || name.chars().count() > 64 {
        return Err(invalid("name", "must be 1 to 64 characters"));
    }
    match input.id_type {
        IdType::IdCard if !is_valid_resident_id(&id_number) => {
            return Err(invalid(
                "idNumber",
                "is not an 18-character resident ID number with a valid check digit",
            ))
        }
        IdType::Other if id_number.is_empty() || id_number.len() > 32 => {
            return Err(invalid("idNumber", "must be 1 to 32 characters"))
        }
        _ => {}
    }
    if !crate::pii::valid_phone(&phone) {
        return Err(invalid(
            "phone",
            "must be an 11-digit mainland mobile number",
        ));
    }
    if input.roles.is_empty() {
        return Err(invalid("roles", "must name at least one role"));
    }
    Ok(Participant {
        name,
        id_type: input.id_type,
        id_number,
        phone,
        roles: input.roles.iter().copied().collect(),
    })
}

/// GB 11643-1999: 17 digits and a check character computed from weighted sums.
pub fn is_valid_resident_id(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [u8; 11] = *b"10X98765432";
    let bytes = id.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = bytes[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] == bytes[17]
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn input(name: &str, id: &str, roles: &[ParticipantRole]) -> ParticipantInput {
        ParticipantInput {
            name: name.into(),
            id_type: IdType::IdCard,
            id_number: id.into(),
            phone: "13800138000".into(),
            roles: roles.to_vec(),
        }
    }

    #[test]
    fn resident_id_check_digit_is_verified() {
        assert!(is_valid_resident_id("11010519491231002X"));
        assert!(is_valid_resident_id("110101199003074477"));
        assert!(!is_valid_resident_id("110101199003074478"));
        assert!(!is_valid_resident_id("11010119900307447"));
    }

    /// 001_d165f826565a3102.txt, 2.7.3 rule 5: participants overlap in role
    /// (主借人、共借人、共有人、配偶、保证人) and are de-duplicated.
    #[test]
    fn same_id_number_merges_roles() {
        let merged = merge_participants(&[
            input("邓小闲", "11010519491231002x", &[ParticipantRole::Borrower]),
            input("邓小闲", "11010519491231002X", &[ParticipantRole::CoOwner]),
            input("王大力", "110101199003074477", &[ParticipantRole::Spouse]),
        ])
        .unwrap();
        assert_eq!(merged.len(), 2);
        assert_eq!(
            merged[0].roles,
            [ParticipantRole::Borrower, ParticipantRole::CoOwner].into()
        );
        assert!(merged[0].is_main_borrower());
        assert!(!merged[1].is_main_borrower());
    }

    #[test]
    fn exactly_one_main_borrower() {
        let none = merge_participants(&[input(
            "王大力",
            "110101199003074477",
            &[ParticipantRole::Guarantor],
        )]);
        assert_eq!(none, Err(InterviewTaskError::NoMainBorrower));
        let two = merge_participants(&[
            input("王大力", "110101199003074477", &[ParticipantRole::Borrower]),
            input("邓小闲", "11010519491231002X", &[ParticipantRole::Borrower]),
        ]);
        assert_eq!(
            two,
            Err(InterviewTaskError::SeveralMainBorrowers { count: 2 })
        );
    }

    #[test]
    fn one_id_number_with_two_names_is_refused() {
        let result = merge_participants(&[
            input("王大力", "110101199003074477", &[ParticipantRole::Borrower]),
            input("王小力", "110101199003074477", &[ParticipantRole::Spouse]),
        ]);
        assert!(matches!(
            result,
            Err(InterviewTaskError::ConflictingParticipant { .. })
        ));
    }

    #[test]
    fn bad_phone_is_refused() {
        let mut p = input("王大力", "110101199003074477", &[ParticipantRole::Borrower]);
        p.phone = "12345".into();
        assert!(matches!(
            merge_participants(&[p]),
            Err(InterviewTaskError::InvalidParticipant { field: "phone", .. })
        ));
    }
}
