//! Identities from the bank's OpenID Connect provider (issue 34 items 1–2):
//! facesign is a resource server. It reads the provider's discovery document
//! and keys (JWKS), and accepts RS256 or ES256 access tokens whose `iss`,
//! `aud`, `exp`, `nbf` and `iat` hold, with the algorithm taken from the key,
//! never from the token. People's roles come from a claim (mapped when the
//! bank names them otherwise); a bank system's role comes from its client id
//! alone, so no person's token can carry a system's figures (a credit
//! decision, a verdict) into the engine.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::role::Role;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::auth::{now, TokenError, Verified, CLOCK_SKEW_SECONDS};

/// How the engine trusts the bank's identity provider (FACESIGN_OIDC_*).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// The issuer (FACESIGN_OIDC_ISSUER); discovery at
    /// `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// The audience facesign's tokens name (FACESIGN_OIDC_AUDIENCE).
    pub audience: String,
    /// The claim holding a person's roles (FACESIGN_OIDC_ROLES_CLAIM, default `roles`).
    pub roles_claim: String,
    /// The bank's role names → facesign's (FACESIGN_OIDC_ROLE_MAP,
    /// `bank-name=ROLE,…`); a name facesign knows needs no entry.
    pub role_map: HashMap<String, Role>,
    /// Client ids of the bank's systems → their role (FACESIGN_OIDC_CLIENTS,
    /// `client-id=ROLE,…`); only these ever act as a system.
    pub clients: HashMap<String, Role>,
    /// `acr` values that show multi-factor authentication (FACESIGN_OIDC_MFA_ACR).
    pub mfa_acr: Vec<String>,
    /// `amr` values that show it (FACESIGN_OIDC_MFA_AMR, default `otp,hwk,mfa`).
    pub mfa_amr: Vec<String>,
    /// The longest token lifetime accepted (`exp − iat`), in seconds.
    pub max_lifetime_seconds: u64,
    /// The least time between two reads of the provider's keys: a flood of
    /// tokens naming unknown keys costs the provider one request per period.
    pub min_key_refetch: Duration,
}

impl OidcSettings {
    /// Settings for `issuer` and `audience` with every other value its default.
    pub fn new(issuer: &str, audience: &str) -> Self {
        Self {
            issuer: issuer.trim_end_matches('/').to_string(),
            audience: audience.to_string(),
            roles_claim: "roles".into(),
            role_map: HashMap::new(),
            clients: HashMap::new(),
            mfa_acr: Vec::new(),
            mfa_amr: ["otp", "hwk", "mfa"].map(String::from).to_vec(),
            max_lifetime_seconds: crate::auth::DEFAULT_MAX_LIFETIME_SECONDS,
            min_key_refetch: Duration::from_secs(10),
        }
    }

    /// Reads `name=ROLE,…` (a role map or the clients), refusing an unknown role.
    pub fn parse_roles(text: &str) -> Result<HashMap<String, Role>, String> {
        let mut map = HashMap::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, role) = entry
                .split_once('=')
                .ok_or_else(|| format!("`{entry}` is not name=ROLE"))?;
            let role = Role::parse(role.trim())
                .ok_or_else(|| format!("`{}` in `{entry}` is not a facesign role", role.trim()))?;
            map.insert(name.trim().to_string(), role);
        }
        Ok(map)
    }
}

/// How long keys are trusted without a fetch: a key the provider withdrew
/// stops verifying within this time.
const KEYS_MAX_AGE: Duration = Duration::from_secs(600);

/// The largest discovery document or key set read, in bytes.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// A verification key and the one algorithm it verifies.
#[derive(Clone)]
struct Key {
    decoding: DecodingKey,
    algorithm: Algorithm,
}

/// The provider's keys, by `kid`, and when they were read.
struct Keys {
    by_id: HashMap<String, Key>,
    fetched: Option<Instant>,
}

/// The bank's identity provider, as a resource server sees it.
#[derive(Clone)]
pub struct IdentityProvider {
    settings: Arc<OidcSettings>,
    jwks_uri: String,
    endpoints: Arc<Endpoints>,
    http: reqwest::Client,
    keys: Arc<tokio::sync::RwLock<Keys>>,
    /// Held by the one fetch in flight; others wait and read its result.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for IdentityProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("issuer", &self.settings.issuer)
            .finish_non_exhaustive()
    }
}

/// Where a browser signs in and out, and where codes become tokens, as the
/// discovery document names them (absent ones: the console cannot sign in).
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// `authorization_endpoint`.
    pub authorization: Option<String>,
    /// `token_endpoint`.
    pub token: Option<String>,
    /// `end_session_endpoint` (RP-initiated logout), when the provider has one.
    pub end_session: Option<String>,
}

/// Why the provider could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The discovery document or the key set could not be read.
    #[error("cannot read {url}: {cause}")]
    Unreachable {
        /// What was read.
        url: String,
        /// Why not.
        cause: String,
    },
    /// The discovery document names another issuer or no key set.
    #[error("the discovery document at {url} {problem}")]
    Discovery {
        /// The document's address.
        url: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl IdentityProvider {
    /// Reads the provider's discovery document and keys; fails when either
    /// cannot be read or the document names another issuer.
    pub async fn discover(settings: OidcSettings) -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| ProviderError::Unreachable {
                url: settings.issuer.clone(),
                cause: e.to_string(),
            })?;
        let url = format!("{}/.well-known/openid-configuration", settings.issuer);
        let document = fetch_json(&http, &url).await?;
        if document["issuer"].as_str() != Some(settings.issuer.as_str()) {
            return Err(ProviderError::Discovery {
                url,
                problem: format!(
                    "names the issuer {}, not {}",
                    document["issuer"], settings.issuer
                ),
            });
        }
        let jwks_uri = document["jwks_uri"]
            .as_str()
            .ok_or_else(|| ProviderError::Discovery {
                url: url.clone(),
                problem: "names no jwks_uri".into(),
            })?
            .to_string();
        let named = |field: &str| document[field].as_str().map(str::to_string);
        let endpoints = Endpoints {
            authorization: named("authorization_endpoint"),
            token: named("token_endpoint"),
            end_session: named("end_session_endpoint"),
        };
        let provider = Self {
            settings: Arc::new(settings),
            jwks_uri,
            endpoints: Arc::new(endpoints),
            http,
            keys: Arc::new(tokio::sync::RwLock::new(Keys {
                by_id: HashMap::new(),
                fetched: None,
            })),
            fetching: Arc::new(tokio::sync::Mutex::new(())),
        };
        provider.refetch(true).await?;
        Ok(provider)
    }

    /// The settings it was made with.
    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// The browser-facing endpoints of its discovery document.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The HTTP client it reads the provider with (bounded by a timeout).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Verifies an ID token issued to `client_id` for the sign-in that sent
    /// `nonce`, and returns its claims: the signature by a key the provider
    /// publishes (algorithm from the key), `iss`, `aud`, `exp` and the nonce.
    pub async fn verify_id_token(
        &self,
        token: &str,
        client_id: &str,
        nonce: &str,
    ) -> Result<Value, TokenError> {
        let claims = self.signed_claims(token, client_id).await?;
        if claims["nonce"].as_str() != Some(nonce) {
            return Err(TokenError::Invalid);
        }
        // OIDC Core 3.1.3.7: with several audiences, `azp` names the client.
        let several = claims["aud"].as_array().is_some_and(|aud| aud.len() > 1);
        if several && claims["azp"].as_str() != Some(client_id) {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }

    /// The claims of a JWT signed by a key the provider publishes, in that
    /// key's algorithm (never the token's), issued by the provider for
    /// `audience`, within `exp` and `nbf` (with the clock skew).
    async fn signed_claims(&self, token: &str, audience: &str) -> Result<Value, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Invalid)?;
        let kid = header.kid.as_deref().ok_or(TokenError::Invalid)?;
        if kid.len() > 256 {
            return Err(TokenError::Invalid);
        }
        let key = self.key(kid).await.ok_or(TokenError::UnknownKey)?;
        // The key decides the algorithm; a token claiming another is refused.
        if header.alg != key.algorithm {
            return Err(TokenError::Invalid);
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = CLOCK_SKEW_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[self.settings.issuer.as_str()]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        decode::<Value>(token, &key.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|_| TokenError::Invalid)
    }

    /// Reads the key set again unless it was read within the settings'
    /// `min_key_refetch` (or `force`), replacing the keys held.
    async fn refetch(&self, force: bool) -> Result<(), ProviderError> {
        let _one = self.fetching.lock().await;
        let recent = self
            .keys
            .read()
            .await
            .fetched
            .is_some_and(|at| at.elapsed() < self.settings.min_key_refetch);
        if recent && !force {
            return Ok(());
        }
        let set = fetch_json(&self.http, &self.jwks_uri).await;
        let mut keys = self.keys.write().await;
        // A failed read also counts: the provider is not asked again at once.
        keys.fetched = Some(Instant::now());
        let set: JwkSet = serde_json::from_value(set?).map_err(|e| ProviderError::Discovery {
            url: self.jwks_uri.clone(),
            problem: format!("is not a key set: {e}"),
        })?;
        keys.by_id =
            set.keys
                .iter()
                .filter_map(|jwk| {
                    let id = jwk.common.key_id.clone()?;
                    let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
                        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => {
                            Algorithm::RS256
                        }
                        (
                            AlgorithmParameters::EllipticCurve(ec),
                            None | Some(KeyAlgorithm::ES256),
                        ) if ec.curve == EllipticCurve::P256 => Algorithm::ES256,
                        // Any other kind of key verifies nothing here.
                        _ => return None,
                    };
                    let decoding = DecodingKey::from_jwk(jwk).ok()?;
                    Some((
                        id,
                        Key {
                            decoding,
                            algorithm,
                        },
                    ))
                })
                .collect();
        tracing::info!(keys = keys.by_id.len(), uri = %self.jwks_uri, "read the identity provider's keys");
        Ok(())
    }

    /// The key named `kid`: from the keys held while they are fresh, else
    /// after one (rate-limited) fetch, so a rotated key needs no restart.
    async fn key(&self, kid: &str) -> Option<Key> {
        if kid.len() > 256 {
            return None;
        }
        {
            let keys = self.keys.read().await;
            let fresh = keys.fetched.is_some_and(|at| at.elapsed() < KEYS_MAX_AGE);
            if let (Some(key), true) = (keys.by_id.get(kid), fresh) {
                return Some(key.clone());
            }
        }
        if let Err(error) = self.refetch(false).await {
            tracing::warn!(%error, "cannot read the identity provider's keys");
        }
        self.keys.read().await.by_id.get(kid).cloned()
    }

    /// Verifies an access token and reads who it names.
    pub async fn verify(&self, token: &str) -> Result<Verified, TokenError> {
        let settings = &self.settings;
        let claims = self.signed_claims(token, &settings.audience).await?;
        let issued_at = claims["iat"].as_u64().ok_or(TokenError::Invalid)?;
        let expires_at = claims["exp"].as_u64().ok_or(TokenError::Invalid)?;
        if issued_at > now() + CLOCK_SKEW_SECONDS {
            return Err(TokenError::IssuedInFuture);
        }
        if expires_at.saturating_sub(issued_at) > settings.max_lifetime_seconds {
            return Err(TokenError::TooLong {
                max_seconds: settings.max_lifetime_seconds,
            });
        }
        let sub = claims["sub"].as_str().unwrap_or_default();
        let client = claims["client_id"].as_str();
        // A bank system: its own client, acting for no person.
        let system = client
            .filter(|client| *client == sub)
            .and_then(|client| settings.clients.get(client).map(|role| (client, *role)));
        let (sub, roles) = match system {
            Some((client, role)) => (client.to_string(), vec![role]),
            None => (sub.to_string(), self.person_roles(&claims)),
        };
        if sub.trim().is_empty() || sub.len() > 64 {
            return Err(TokenError::Invalid);
        }
        if roles.is_empty() {
            return Err(TokenError::UnknownRole);
        }
        Ok(Verified {
            sub,
            roles,
            issued_at,
            expires_at,
            multi_factor: self.multi_factor(&claims),
        })
    }

    /// The facesign roles a person's token grants; system roles never come
    /// from a person's claims.
    fn person_roles(&self, claims: &Value) -> Vec<Role> {
        let named: Vec<&str> = match &claims[self.settings.roles_claim.as_str()] {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).take(64).collect(),
            _ => Vec::new(),
        };
        let mut roles: Vec<Role> = named
            .into_iter()
            .filter_map(|name| {
                self.settings
                    .role_map
                    .get(name)
                    .copied()
                    .or_else(|| Role::parse(name))
            })
            .filter(|role| !role.is_system())
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }

    /// Whether the token shows multi-factor authentication (`acr` or `amr`).
    fn multi_factor(&self, claims: &Value) -> bool {
        let settings = &self.settings;
        let acr = claims["acr"]
            .as_str()
            .is_some_and(|acr| settings.mfa_acr.iter().any(|a| a == acr));
        let amr = claims["amr"].as_array().is_some_and(|methods| {
            methods
                .iter()
                .filter_map(Value::as_str)
                .any(|m| settings.mfa_amr.iter().any(|a| a == m))
        });
        acr || amr
    }
}

/// A JSON document at `url`, at most [`MAX_DOCUMENT_BYTES`].
async fn fetch_json(http: &reqwest::Client, url: &str) -> Result<Value, ProviderError> {
    let unreachable = |cause: String| ProviderError::Unreachable {
        url: url.to_string(),
        cause,
    };
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if !response.status().is_success() {
        return Err(unreachable(format!("HTTP {}", response.status())));
    }
    let bytes = bounded_body(response, MAX_DOCUMENT_BYTES)
        .await
        .map_err(unreachable)?;
    serde_json::from_slice(&bytes).map_err(|e| unreachable(format!("not JSON: {e}")))
}

/// The body of `response`, read chunk by chunk and given up on past `max`
/// bytes, whatever length it announced (or did not).
pub(crate) async fn bounded_body(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(format!("the answer is larger than {max} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > max {
            return Err(format!("the answer is larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
