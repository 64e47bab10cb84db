//! Partner platforms (百融 / 榕树, 002): their secrets and callback addresses,
//! and the store of request nonces that makes a signed request single-use.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use sqlx::AnyPool;

/// One partner's configuration.
#[derive(Clone)]
pub struct Partner {
    /// Partner code (RONGSHU).
    pub code: String,
    /// Shared secret of the MD5 signature, rotated with an overlap
    /// (crate::secrets); never logged.
    pub secret: crate::secrets::RotatingSecret,
    /// Where callbacks to this partner are POSTed.
    pub callback_url: String,
    /// The partner's product settings (002 item 25).
    pub settings: PartnerSettings,
}

/// A partner's product settings (002 item 25: 产品基础数据配置、准入规则配置、新网开户页配置、
/// 授信&审核被拒后的可借日期配置、短信签名配置), read from the JSON file named by
/// `FACESIGN_PARTNER_SETTINGS` under the partner's code; what a file leaves out
/// keeps its default.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct PartnerSettings {
    /// The bank's product code of the partner's loans.
    pub product_code: String,
    /// The product's name.
    pub product_name: String,
    /// 新网开户页: the account-opening page; `{orderNo}` is replaced.
    pub account_open_url: String,
    /// 可借日期: days after a refusal (授信 or 审核) before the person may borrow again.
    pub reborrow_days: u32,
    /// 短信签名, e.g. 【XX银行】.
    pub sms_signature: String,
    /// 准入规则.
    pub admission: Admission,
    /// 支持银行卡列表 (item 10): the banks whose cards may be bound.
    pub banks: Vec<SupportedBank>,
    /// 协议列表 (item 3): the agreements the customer signs; `{orderNo}` is replaced in URLs.
    pub agreements: Vec<Agreement>,
}

/// 准入规则: who may apply (checked by user-filter).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Admission {
    /// Youngest age admitted (from the ID number's birth date).
    pub min_age: u32,
    /// Oldest age admitted.
    pub max_age: u32,
}

/// A bank whose cards may be bound.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SupportedBank {
    /// Bank code (ICBC).
    pub bank_code: String,
    /// Bank name.
    pub bank_name: String,
    /// Largest single debit (decimal text), if the bank limits it.
    #[serde(default)]
    pub single_limit: Option<String>,
    /// Largest daily debit (decimal text), if the bank limits it.
    #[serde(default)]
    pub daily_limit: Option<String>,
}

/// An agreement the customer signs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Agreement {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Where it is read; `{orderNo}` is replaced.
    pub url: String,
}

impl Default for Admission {
    fn default() -> Self {
        Self {
            min_age: 18,
            max_age: 65,
        }
    }
}

impl Default for PartnerSettings {
    fn default() -> Self {
        let bank = |code: &str, name: &str| SupportedBank {
            bank_code: code.into(),
            bank_name: name.into(),
            single_limit: None,
            daily_limit: None,
        };
        let agreement = |code: &str, name: &str| Agreement {
            code: code.into(),
            name: name.into(),
            url: format!("/agreements/{}?orderNo={{orderNo}}", code.to_lowercase()),
        };
        Self {
            product_code: "PARTNER-LOAN".into(),
            product_name: "大额授信".into(),
            account_open_url: "/xinwang/open-account?orderNo={orderNo}".into(),
            reborrow_days: 0,
            sms_signature: String::new(),
            admission: Admission::default(),
            banks: vec![
                bank("ICBC", "中国工商银行"),
                bank("ABC", "中国农业银行"),
                bank("BOC", "中国银行"),
                bank("CCB", "中国建设银行"),
                bank("BOCOM", "交通银行"),
                bank("CMB", "招商银行"),
                bank("PSBC", "中国邮政储蓄银行"),
                bank("CIB", "兴业银行"),
                bank("SPDB", "浦发银行"),
                bank("CMBC", "中国民生银行"),
                bank("CITIC", "中信银行"),
                bank("CEB", "中国光大银行"),
            ],
            agreements: vec![
                agreement("LOAN_CONTRACT", "借款合同"),
                agreement("CREDIT_AUTH", "征信查询授权书"),
                agreement("DEBIT_AUTH", "委托扣款授权书"),
            ],
        }
    }
}

impl PartnerSettings {
    /// The account-opening page of `order_no`.
    pub fn account_open_url(&self, order_no: &str) -> String {
        self.account_open_url.replace("{orderNo}", order_no)
    }

    /// Whether cards of `bank_code` may be bound.
    pub fn supports_bank(&self, bank_code: &str) -> bool {
        self.banks
            .iter()
            .any(|b| b.bank_code.eq_ignore_ascii_case(bank_code.trim()))
    }
}

impl std::fmt::Debug for Partner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Partner")
            .field("code", &self.code)
            .field("callback_url", &self.callback_url)
            .finish_non_exhaustive()
    }
}

/// Every configured partner, by code.
#[derive(Debug, Clone, Default)]
pub struct PartnerDirectory {
    partners: BTreeMap<String, Partner>,
}

impl PartnerDirectory {
    /// Parses `CODE=secret@callback-url;CODE2=…` (FACESIGN_PARTNERS).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut partners = BTreeMap::new();
        for entry in spec.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (code, rest) = entry.split_once('=').ok_or_else(|| {
                format!(
                    "partner entry without '=': {}",
                    entry.split('=').next().unwrap_or("")
                )
            })?;
            let (secret, url) = rest
                .split_once('@')
                .ok_or_else(|| format!("partner {code}: expected secret@callback-url"))?;
            if secret.len() < 16 {
                return Err(format!(
                    "partner {code}: the secret must be at least 16 characters"
                ));
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!("partner {code}: the callback URL must be http(s)"));
            }
            let code = code.trim().to_uppercase();
            partners.insert(
                code.clone(),
                Partner {
                    code,
                    secret: SecretString::from(secret.to_string()).into(),
                    callback_url: url.trim().to_string(),
                    settings: PartnerSettings::default(),
                },
            );
        }
        Ok(Self { partners })
    }

    /// Applies the settings file (`FACESIGN_PARTNER_SETTINGS`): a JSON object
    /// of partner code → settings; a code not in the directory is an error.
    pub fn with_settings(mut self, json: &str) -> Result<Self, String> {
        let by_code: BTreeMap<String, PartnerSettings> =
            serde_json::from_str(json).map_err(|e| format!("not the settings JSON: {e}"))?;
        for (code, settings) in by_code {
            let partner = self
                .partners
                .get_mut(&code.trim().to_uppercase())
                .ok_or_else(|| {
                    format!("settings for {code}, which FACESIGN_PARTNERS does not list")
                })?;
            if settings.admission.min_age > settings.admission.max_age {
                return Err(format!("{code}: admission.minAge is above maxAge"));
            }
            partner.settings = settings;
        }
        Ok(self)
    }

    /// A directory of the given partners.
    pub fn with(partners: impl IntoIterator<Item = Partner>) -> Self {
        Self {
            partners: partners.into_iter().map(|p| (p.code.clone(), p)).collect(),
        }
    }

    /// Each partner's callback address, by (upper-case) code.
    pub fn callback_urls(&self) -> std::collections::HashMap<String, String> {
        self.partners
            .values()
            .map(|p| (p.code.clone(), p.callback_url.clone()))
            .collect()
    }

    /// Each partner's 短信签名, by code (empty when it has none).
    pub fn signatures(&self) -> Vec<(String, String)> {
        self.partners
            .values()
            .map(|p| (p.code.clone(), p.settings.sms_signature.clone()))
            .collect()
    }

    /// The partner with this code.
    pub fn get(&self, code: &str) -> Option<&Partner> {
        self.partners.get(&code.trim().to_uppercase())
    }

    /// Signs `params` with the partner's secret.
    pub fn sign<'a>(
        &self,
        code: &str,
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Option<String> {
        self.get(code).map(|p| {
            domain::partner_order::signature::sign(params, p.secret.current().expose_secret())
        })
    }

    /// Rotates each partner's secret to the one `spec` (the FACESIGN_PARTNERS
    /// form) gives it; the old one is still accepted for `overlap`. Returns
    /// the codes rotated; a partner `spec` adds or drops, or a changed
    /// callback address, waits for a restart (and is said so).
    pub fn rotate_secrets(
        &self,
        spec: &str,
        overlap: std::time::Duration,
    ) -> Result<Vec<String>, String> {
        let given = Self::parse(spec)?;
        let mut rotated = Vec::new();
        for (code, partner) in &given.partners {
            match self.partners.get(code) {
                Some(held) => {
                    if held.secret.rotate(partner.secret.current(), overlap) {
                        rotated.push(code.clone());
                    }
                    if held.callback_url != partner.callback_url {
                        tracing::warn!(partner = %code, "a partner's callback address changed in FACESIGN_PARTNERS; it takes effect at the next restart");
                    }
                }
                None => {
                    tracing::warn!(partner = %code, "a partner added to FACESIGN_PARTNERS takes effect at the next restart")
                }
            }
        }
        for code in self
            .partners
            .keys()
            .filter(|code| !given.partners.contains_key(*code))
        {
            tracing::warn!(partner = %code, "a partner dropped from FACESIGN_PARTNERS stays until the next restart");
        }
        Ok(rotated)
    }
}

/// Whether a nonce was used before, without using it.
pub async fn nonce_used(pool: &AnyPool, partner: &str, nonce: &str) -> Result<bool, sqlx::Error> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM partner_nonces WHERE partner = $1 AND nonce = $2")
            .bind(partner)
            .bind(nonce)
            .fetch_one(pool)
            .await?;
    Ok(count > 0)
}

/// Records a nonce; false when it was used before (a replayed request).
pub async fn use_nonce(
    pool: &AnyPool,
    partner: &str,
    nonce: &str,
    at: &str,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO partner_nonces (partner, nonce, used_at) VALUES ($1, $2, $3)
         ON CONFLICT (partner, nonce) DO NOTHING",
    )
    .bind(partner)
    .bind(nonce)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partners_are_parsed_and_secrets_hidden() {
        let directory =
            PartnerDirectory::parse("rongshu=0123456789abcdef@http://127.0.0.1:9/cb; ").unwrap();
        let partner = directory.get("RONGSHU").unwrap();
        assert_eq!(partner.callback_url, "http://127.0.0.1:9/cb");
        assert!(!format!("{partner:?}").contains("0123456789abcdef"));
        assert!(PartnerDirectory::parse("x=short@http://a").is_err());
        assert!(PartnerDirectory::parse("x=0123456789abcdef@ftp://a").is_err());
    }

    /// 002 item 25: settings come from the file, the rest keeps its default;
    /// an unknown partner or field is refused.
    #[test]
    fn settings_are_read_per_partner() {
        let directory =
            PartnerDirectory::parse("RONGSHU=0123456789abcdef@http://127.0.0.1:9/cb").unwrap();
        let configured = directory
            .clone()
            .with_settings(r#"{ "RONGSHU": { "reborrowDays": 30, "accountOpenUrl": "https://xw/open?o={orderNo}", "banks": [{ "bankCode": "ICBC", "bankName": "工行" }] } }"#)
            .unwrap();
        let settings = &configured.get("RONGSHU").unwrap().settings;
        assert_eq!(settings.reborrow_days, 30);
        assert_eq!(settings.account_open_url("RS-1"), "https://xw/open?o=RS-1");
        assert!(settings.supports_bank("icbc") && !settings.supports_bank("CCB"));
        assert_eq!(settings.admission, Admission::default());
        assert!(directory
            .clone()
            .with_settings(r#"{ "OTHER": {} }"#)
            .is_err());
        assert!(directory
            .with_settings(r#"{ "RONGSHU": { "colour": 1 } }"#)
            .is_err());
    }
}
