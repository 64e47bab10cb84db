//! Participants of an interview task (requirement 001, 2.7.3 rule 5): one person
//! may hold several roles on a contract, so participants are de-duplicated by ID
//! number with their roles merged, and exactly one of them is the main borrower.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::InterviewTaskError;

/// The role a person holds on the loan contract (主借人/共借人/共有人/配偶/保证人).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
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
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum IdType {
    /// 居民身份证: 18 characters with a GB 11643 check digit.
    #[default]
    IdCard,
    /// Passport or other document: checked for length only.
    Other,
}

/// 婚姻状况 (001 2.3.1 客户基本信息).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum MaritalStatus {
    /// 未婚.
    Unmarried,
    /// 已婚.
    Married,
    /// 离异.
    Divorced,
    /// 丧偶.
    Widowed,
}

/// 房产位置 (001 2.3.1; 房屋属地 decides 省内/省外, 001 2.5–2.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PropertyLocation {
    /// 省 (e.g. 河南省).
    pub province: String,
    /// 市.
    pub city: String,
    /// 区县.
    pub district: String,
    /// 详细地址.
    #[serde(default)]
    pub address: Option<String>,
}

impl PropertyLocation {
    /// Trimmed and checked: province, city and district 1 to 32 characters,
    /// the address at most 200.
    pub fn validated(&self) -> Result<Self, InterviewTaskError> {
        let part = |value: &str, field: &'static str| {
            let value = value.trim();
            if value.is_empty() || value.chars().count() > 32 {
                return Err(InterviewTaskError::InvalidField {
                    field,
                    reason: "must be 1 to 32 characters",
                });
            }
            Ok(value.to_string())
        };
        let address = self
            .address
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty());
        if address.is_some_and(|a| a.chars().count() > 200) {
            return Err(InterviewTaskError::InvalidField {
                field: "propertyLocation.address",
                reason: "must be at most 200 characters",
            });
        }
        Ok(Self {
            province: part(&self.province, "propertyLocation.province")?,
            city: part(&self.city, "propertyLocation.city")?,
            district: part(&self.district, "propertyLocation.district")?,
            address: address.map(str::to_string),
        })
    }

    /// [`validated`](Self::validated), and refused when the property lies in
    /// the bank's own province: 001 2.5.1 省内流程不做改动 — only 省外 cases
    /// are interviewed. The task and the loan that would open it both ask this.
    pub fn admitted(
        &self,
        routing: &crate::services::InterviewRouting,
    ) -> Result<Self, InterviewTaskError> {
        let location = self.validated()?;
        if !routing.interviews(&location.province) {
            return Err(InterviewTaskError::InProvince {
                province: location.province,
            });
        }
        Ok(location)
    }
}

/// Whether a province is the bank's own: 省内 cases keep their old flow
/// without a video interview; only 省外 cases get one (001 2.5.1: 通过客户房屋属地,
/// 判断客户个案省内/省外归属。省内流程不做改动). Names compare without the
/// 省 / 市 / 自治区 suffix, so 河南 and 河南省 are one province.
pub fn same_province(a: &str, b: &str) -> bool {
    fn core(name: &str) -> &str {
        let name = name.trim();
        [
            "省",
            "市",
            "壮族自治区",
            "回族自治区",
            "维吾尔自治区",
            "自治区",
            "特别行政区",
        ]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
    }
    !a.trim().is_empty() && core(a) == core(b)
}

/// A participant as submitted by the credit system, before de-duplication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// 婚姻状况, when the credit system sends it.
    #[serde(default)]
    pub marital_status: Option<MaritalStatus>,
    /// 与借款人关系 (e.g. 配偶, 父母, 朋友) of anyone but the main borrower.
    #[serde(default)]
    pub relation_to_borrower: Option<String>,
}

/// A de-duplicated participant of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// 婚姻状况.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marital_status: Option<MaritalStatus>,
    /// 与借款人关系 (never for the main borrower).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation_to_borrower: Option<String>,
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
                existing.marital_status = existing.marital_status.or(candidate.marital_status);
                existing.relation_to_borrower = existing
                    .relation_to_borrower
                    .take()
                    .or(candidate.relation_to_borrower);
            }
            None => merged.push(candidate),
        }
    }
    match merged.iter().filter(|p| p.is_main_borrower()).count() {
        0 => Err(InterviewTaskError::NoMainBorrower),
        1 => {
            for person in merged.iter_mut().filter(|p| p.is_main_borrower()) {
                person.relation_to_borrower = None; // the borrower is the reference
            }
            Ok(merged)
        }
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
    let relation_to_borrower = input
        .relation_to_borrower
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if relation_to_borrower.is_some_and(|r| r.chars().count() > 16) {
        return Err(invalid(
            "relationToBorrower",
            "must be at most 16 characters",
        ));
    }
    Ok(Participant {
        name,
        id_type: input.id_type,
        id_number,
        phone,
        roles: input.roles.iter().copied().collect(),
        marital_status: input.marital_status,
        relation_to_borrower: relation_to_borrower.map(str::to_string),
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
            marital_status: None,
            relation_to_borrower: None,
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
