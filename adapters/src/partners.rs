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
    /// Shared secret of the MD5 signature; never logged.
    pub secret: SecretString,
    /// Where callbacks to this partner are POSTed.
    pub callback_url: String,
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
                    secret: SecretString::from(secret.to_string()),
                    callback_url: url.trim().to_string(),
                },
            );
        }
        Ok(Self { partners })
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
        self.get(code)
            .map(|p| domain::partner_order::signature::sign(params, p.secret.expose_secret()))
    }
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
}
