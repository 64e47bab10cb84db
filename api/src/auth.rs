//! Bearer tokens. With an identity provider configured (FACESIGN_OIDC_ISSUER)
//! they are its access tokens (`crate::identity`); without one, for `--demo`
//! and development only, HS256 JWTs signed with one shared secret carry the
//! caller's id (`sub`) and role.

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
    /// How the caller authenticated; [`DEVELOPMENT_MFA_ACR`] stands for
    /// multi-factor authentication in development tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

/// The `acr` of a development token that counts as multi-factor (what
/// `facesign token` mints unless told otherwise).
pub const DEVELOPMENT_MFA_ACR: &str = "urn:facesign:mfa";

/// Why a bearer token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, domain::message::Localized)]
pub enum TokenError {
    /// Signature, expiry or format is wrong.
    #[error("the bearer token is invalid or expired")]
    Invalid,
    /// The token names a role facesign does not know.
    #[error("the bearer token names an unknown role")]
    UnknownRole,
    /// `exp − iat` is over the accepted maximum lifetime.
    #[error("the bearer token lives longer than the accepted maximum of {max_seconds} s (FACESIGN_TOKEN_MAX_LIFETIME_MINUTES)")]
    TooLong {
        /// The maximum, in seconds.
        max_seconds: u64,
    },
    /// `iat` lies in the future beyond the accepted clock skew.
    #[error("the bearer token was issued in the future")]
    IssuedInFuture,
    /// Signed with a key the identity provider does not publish (even after
    /// reading its keys again).
    #[error("the bearer token is signed with a key the identity provider does not publish")]
    UnknownKey,
    /// The token grants several roles and the request chose none of them.
    #[error("the bearer token grants several roles ({roles}); choose one with the X-Facesign-Role header")]
    SeveralRoles {
        /// The roles granted.
        roles: String,
    },
    /// The role chosen with X-Facesign-Role is not one the token grants.
    #[error("the bearer token does not grant the role chosen in X-Facesign-Role")]
    RoleNotGranted,
}

/// The clock difference accepted between the token issuer and facesign, in seconds.
pub const CLOCK_SKEW_SECONDS: u64 = 30;

/// The longest token lifetime (`exp − iat`) accepted unless configured otherwise: 12 hours.
pub const DEFAULT_MAX_LIFETIME_SECONDS: u64 = 12 * 3600;

/// Signing and verification keys derived from the shared secret. The secret
/// itself stays in a `SecretString` and is never printed.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    max_lifetime_seconds: u64,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(..)")
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
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
            max_lifetime_seconds: DEFAULT_MAX_LIFETIME_SECONDS,
        }
    }

    /// The same keys accepting tokens that live at most `seconds` (`exp − iat`).
    pub fn with_max_lifetime(mut self, seconds: u64) -> Self {
        self.max_lifetime_seconds = seconds.max(60);
        self
    }

    /// The longest lifetime accepted, in seconds.
    pub fn max_lifetime_seconds(&self) -> u64 {
        self.max_lifetime_seconds
    }

    /// Mints a token for `sub` in `role`, valid for `ttl_seconds`, standing
    /// for a multi-factor login.
    pub fn mint(&self, sub: &str, role: Role, ttl_seconds: u64) -> String {
        let iat = now();
        self.sign(&Claims {
            sub: sub.to_string(),
            role: role.as_str().to_string(),
            iat,
            exp: iat + ttl_seconds,
            acr: Some(DEVELOPMENT_MFA_ACR.to_string()),
        })
    }

    /// Signs `claims` as they are (an identity provider's view; tests use it
    /// for tokens the server must refuse).
    pub fn sign(&self, claims: &Claims) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 encoding of plain claims cannot fail")
    }

    /// Verifies a token and returns its subject and role.
    pub fn verify(&self, token: &str) -> Result<(String, Role), TokenError> {
        let verified = self.verify_issued(token)?;
        let role = verified.role(None)?;
        Ok((verified.sub, role))
    }

    /// Verifies a token and returns its subject, role, issue and expiry times.
    pub fn verify_issued(&self, token: &str) -> Result<Verified, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = CLOCK_SKEW_SECONDS;
        let data = decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?;
        let claims = &data.claims;
        if claims.iat > now() + CLOCK_SKEW_SECONDS {
            return Err(TokenError::IssuedInFuture);
        }
        if claims.exp.saturating_sub(claims.iat) > self.max_lifetime_seconds {
            return Err(TokenError::TooLong {
                max_seconds: self.max_lifetime_seconds,
            });
        }
        let role = Role::parse(&data.claims.role).ok_or(TokenError::UnknownRole)?;
        if data.claims.sub.trim().is_empty() || data.claims.sub.len() > 64 {
            return Err(TokenError::Invalid);
        }
        Ok(Verified {
            multi_factor: data.claims.acr.as_deref() == Some(DEVELOPMENT_MFA_ACR),
            sub: data.claims.sub,
            roles: vec![role],
            issued_at: data.claims.iat,
            expires_at: data.claims.exp,
        })
    }
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The caller's id (for a bank system, its client id).
    pub sub: String,
    /// The roles the token grants (a person may hold several).
    pub roles: Vec<Role>,
    /// `iat`, seconds since the epoch.
    pub issued_at: u64,
    /// `exp`, seconds since the epoch.
    pub expires_at: u64,
    /// Whether the login was multi-factor (`acr`/`amr`), as step-up needs.
    pub multi_factor: bool,
}

impl Verified {
    /// The role the request acts in: the one granted, or the one `chosen`
    /// (X-Facesign-Role) among several.
    pub fn role(&self, chosen: Option<&str>) -> Result<Role, TokenError> {
        match (chosen, self.roles.as_slice()) {
            (Some(chosen), roles) => Role::parse(chosen.trim())
                .filter(|role| roles.contains(role))
                .ok_or(TokenError::RoleNotGranted),
            (None, [one]) => Ok(*one),
            (None, roles) => Err(TokenError::SeveralRoles {
                roles: roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

/// Who verifies bearer tokens: the bank's identity provider, or (for
/// `--demo` and development only) the shared secret.
#[derive(Debug, Clone)]
pub enum TokenVerifier {
    /// HS256 tokens signed with FACESIGN_JWT_SECRET.
    SharedSecret(JwtKeys),
    /// Access tokens of the OpenID Connect provider at FACESIGN_OIDC_ISSUER.
    Provider(crate::identity::IdentityProvider),
}

impl TokenVerifier {
    /// Verifies `token` (a bare JWT).
    pub async fn verify(&self, token: &str) -> Result<Verified, TokenError> {
        match self {
            TokenVerifier::SharedSecret(keys) => keys.verify_issued(token),
            TokenVerifier::Provider(provider) => provider.verify(token).await,
        }
    }
}

/// Whether a token expiring at `expires_at` (seconds) is past its expiry and
/// the accepted clock skew now.
pub fn expired(expires_at: u64) -> bool {
    now() > expires_at.saturating_add(CLOCK_SKEW_SECONDS)
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

    fn signed(keys: &JwtKeys, iat: u64, exp: u64) -> String {
        let claims = Claims {
            sub: "S001".into(),
            role: "SEAT".into(),
            iat,
            exp,
            acr: None,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap()
    }

    #[test]
    fn a_token_living_over_the_maximum_is_refused() {
        let keys = keys("test-secret-of-sufficient-length");
        let three_years = 3 * 365 * 24 * 3600;
        assert_eq!(
            keys.verify(&signed(&keys, now(), now() + three_years)),
            Err(TokenError::TooLong {
                max_seconds: DEFAULT_MAX_LIFETIME_SECONDS
            })
        );
        let twelve_hours = signed(&keys, now(), now() + DEFAULT_MAX_LIFETIME_SECONDS);
        assert!(keys.verify(&twelve_hours).is_ok());
        let keys = keys.with_max_lifetime(3600);
        assert!(keys.verify(&twelve_hours).is_err());
    }

    #[test]
    fn a_token_issued_in_the_future_is_refused() {
        let keys = keys("test-secret-of-sufficient-length");
        let later = now() + 600;
        assert_eq!(
            keys.verify(&signed(&keys, later, later + 60)),
            Err(TokenError::IssuedInFuture)
        );
        // Within the clock skew it passes.
        let skewed = now() + 10;
        assert!(keys.verify(&signed(&keys, skewed, skewed + 60)).is_ok());
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
            acr: None,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert_eq!(keys.verify(&token), Err(TokenError::Invalid));
    }
}
