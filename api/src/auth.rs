//! Bearer tokens: HS256 JWTs carrying the caller's id (`sub`) and role.

use std::time::{SystemTime, UNIX_EPOCH};

use domain::role::Role;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The claims facesign reads from a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The caller's stable id: staff no, customer ID number, partner or system code.
    pub sub: String,
    /// The role the token grants (one per token).
    pub role: String,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
}

/// Why a bearer token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Signature, expiry or format is wrong.
    #[error("the bearer token is invalid or expired")]
    Invalid,
    /// The token names a role facesign does not know.
    #[error("the bearer token names an unknown role")]
    UnknownRole,
}

/// Signing and verification keys derived from the shared secret. The secret
/// itself stays in a `SecretString` and is never printed.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(..)")
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl JwtKeys {
    /// Keys for `secret` (HS256).
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
        }
    }

    /// Mints a token for `sub` in `role`, valid for `ttl_seconds`.
    pub fn mint(&self, sub: &str, role: Role, ttl_seconds: u64) -> String {
        let iat = now();
        let claims = Claims {
            sub: sub.to_string(),
            role: role.as_str().to_string(),
            iat,
            exp: iat + ttl_seconds,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding of plain claims cannot fail")
    }

    /// Verifies a token and returns its subject and role.
    pub fn verify(&self, token: &str) -> Result<(String, Role), TokenError> {
        self.verify_issued(token).map(|(sub, role, _)| (sub, role))
    }

    /// Verifies a token and returns its subject, role and issue time (seconds).
    pub fn verify_issued(&self, token: &str) -> Result<(String, Role, u64), TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 30;
        let data = decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?;
        let role = Role::parse(&data.claims.role).ok_or(TokenError::UnknownRole)?;
        if data.claims.sub.trim().is_empty() || data.claims.sub.len() > 64 {
            return Err(TokenError::Invalid);
        }
        Ok((data.claims.sub, role, data.claims.iat))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> JwtKeys {
        JwtKeys::new(&SecretString::from(secret.to_string()))
    }

    #[test]
    fn a_minted_token_verifies() {
        let keys = keys("test-secret-of-sufficient-length");
        let token = keys.mint("S001", Role::Seat, 60);
        assert_eq!(keys.verify(&token), Ok(("S001".to_string(), Role::Seat)));
    }

    #[test]
    fn another_secret_or_garbage_is_refused() {
        let token = keys("one-secret-of-sufficient-length").mint("S001", Role::Seat, 60);
        assert_eq!(
            keys("another-secret-of-sufficient-len").verify(&token),
            Err(TokenError::Invalid)
        );
        assert_eq!(keys("x").verify("not.a.token"), Err(TokenError::Invalid));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = keys("test-secret-of-sufficient-length");
        let iat = now() - 3600;
        let claims = Claims {
            sub: "S001".into(),
            role: "SEAT".into(),
            iat,
            exp: iat + 60,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert_eq!(keys.verify(&token), Err(TokenError::Invalid));
    }
}
