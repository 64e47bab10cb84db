//! The console signs in through the bank's identity provider (issue 34 item
//! 3): the server runs the authorization code flow with PKCE, keeps the
//! provider's tokens itself, and gives the browser nothing but a random
//! HttpOnly, SameSite=Strict cookie (Secure whenever the console is served
//! over HTTPS). Every request that cookie authenticates must also carry the
//! session's CSRF token (`X-Facesign-Csrf`, or `csrf` in a socket's
//! `connection_init`), which a page of another origin cannot read. Logout ends
//! the session here and at the provider (RP-initiated logout).
//!
//! Sessions live in the database, so any instance serves any session. A row
//! is found by a hash of the cookie and its tokens are sealed with a key
//! derived from the cookie: the table alone signs nobody in.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::message::{message, Message};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::Row;
use store::operation_log::{Operation, OperationKind};

use crate::auth::now;
use crate::identity::IdentityProvider;
use crate::messages::{render, Language};
use crate::schema::FacesignSchema;
use crate::state::AppState;

/// The header a cookie-authenticated request carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-facesign-csrf";

/// How long a sign-in may take from the console to the provider and back.
const SIGN_IN_SECONDS: u64 = 600;

/// A session whose access token expires within this many seconds refreshes it first.
const REFRESH_AHEAD_SECONDS: u64 = 30;

/// How long one request holds a session's refresh: others meanwhile use the
/// token they have (still valid for the refresh window) rather than spend
/// the same refresh token, which a provider that rotates them would take as
/// theft and revoke.
const REFRESH_LEASE_SECONDS: u64 = 15;

/// The largest token response read from the provider, in bytes.
const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// How the console signs in (FACESIGN_OIDC_CONSOLE_*, FACESIGN_PUBLIC_URL).
#[derive(Debug, Clone)]
pub struct SignInSettings {
    /// The console's client id at the provider (FACESIGN_OIDC_CONSOLE_CLIENT_ID).
    pub client_id: String,
    /// Its secret (FACESIGN_OIDC_CONSOLE_CLIENT_SECRET); None: a public client,
    /// which PKCE alone protects.
    pub client_secret: Option<SecretString>,
    /// Where browsers reach facesign (FACESIGN_PUBLIC_URL): the redirect URI
    /// is `<public url>/auth/callback`, and HTTPS makes the cookie Secure.
    pub public_url: String,
    /// The scopes asked for (FACESIGN_OIDC_CONSOLE_SCOPES).
    pub scopes: String,
    /// The longest a console session lasts, however often its tokens are
    /// refreshed (FACESIGN_CONSOLE_SESSION_HOURS).
    pub session_lifetime: Duration,
}

impl SignInSettings {
    /// Settings for a console reached at `public_url`, with the defaults.
    pub fn new(public_url: &str) -> Self {
        Self {
            client_id: "facesign-console".into(),
            client_secret: None,
            public_url: public_url.trim_end_matches('/').to_string(),
            scopes: "openid".into(),
            session_lifetime: Duration::from_secs(12 * 3600),
        }
    }
}

/// The console's sign-in through the provider, ready to serve.
#[derive(Debug)]
pub struct ConsoleSignIn {
    provider: IdentityProvider,
    settings: SignInSettings,
    /// Seals a sign-in under way into its browser's cookie; the same on
    /// every instance (kept in `console_keys`).
    sign_in_key: SealingKey,
    authorization_endpoint: String,
    token_endpoint: String,
    redirect_uri: String,
    secure: bool,
}

/// Why the console cannot sign in through the provider as configured.
#[derive(Debug, thiserror::Error)]
pub enum SignInSetupError {
    /// The discovery document lacks an endpoint the flow needs.
    #[error("the identity provider's discovery document names no {0}")]
    MissingEndpoint(&'static str),
    /// FACESIGN_PUBLIC_URL is not an http(s) URL.
    #[error("FACESIGN_PUBLIC_URL `{0}` is not an http:// or https:// URL")]
    PublicUrl(String),
    /// A plain-HTTP public URL other than this machine's.
    #[error("FACESIGN_PUBLIC_URL `{0}` is plain HTTP: the session cookie would cross the network unprotected; serve the console over HTTPS")]
    PlainHttp(String),
    /// A public URL with a path: the console and `/auth` are served at the root.
    #[error("FACESIGN_PUBLIC_URL `{0}` has a path; give the origin only (the console is served at /console, the sign-in at /auth)")]
    WithPath(String),
    /// The key that seals sign-ins could not be read or stored.
    #[error("the console's sign-in key cannot be read from the database: {0}")]
    Key(String),
}

impl ConsoleSignIn {
    /// The sign-in of a console reached at the settings' public URL, its
    /// sealing key read from (or first stored in) `pool`.
    pub async fn new(
        provider: IdentityProvider,
        settings: SignInSettings,
        pool: &sqlx::AnyPool,
    ) -> Result<Self, SignInSetupError> {
        let endpoints = provider.endpoints().clone();
        let authorization_endpoint = endpoints
            .authorization
            .ok_or(SignInSetupError::MissingEndpoint("authorization_endpoint"))?;
        let token_endpoint = endpoints
            .token
            .ok_or(SignInSetupError::MissingEndpoint("token_endpoint"))?;
        let url = reqwest::Url::parse(&settings.public_url)
            .map_err(|_| SignInSetupError::PublicUrl(settings.public_url.clone()))?;
        let secure = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(SignInSetupError::PublicUrl(settings.public_url.clone())),
        };
        let loopback = match url.host() {
            Some(url::Host::Domain(name)) => name == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        if !secure && !loopback {
            return Err(SignInSetupError::PlainHttp(settings.public_url.clone()));
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err(SignInSetupError::WithPath(settings.public_url.clone()));
        }
        let sign_in_key = sign_in_key(pool)
            .await
            .map_err(|e| SignInSetupError::Key(e.to_string()))?;
        Ok(Self {
            sign_in_key,
            redirect_uri: format!("{}/auth/callback", settings.public_url),
            provider,
            settings,
            authorization_endpoint,
            token_endpoint,
            secure,
        })
    }

    /// The session cookie's name: `__Host-` over HTTPS, which browsers keep
    /// to this host, path `/` and Secure.
    fn cookie_name(&self) -> &'static str {
        if self.secure {
            "__Host-facesign-session"
        } else {
            "facesign-session"
        }
    }

    fn sign_in_cookie_name(&self) -> &'static str {
        if self.secure {
            "__Host-facesign-sign-in"
        } else {
            "facesign-sign-in"
        }
    }

    /// A cookie for this host only (no Domain), path `/`, HttpOnly, Secure
    /// over HTTPS.
    fn cookie(&self, name: &str, value: &str, same_site: &str, max_age: u64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}")
    }
}

/// The console's sign-in routes: `/auth/login`, `/auth/callback`,
/// `/auth/session` and `/auth/logout`.
pub fn routes() -> Router<(AppState, FacesignSchema)> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/session", get(session))
        .route("/auth/logout", post(logout))
}

/// 32 random bytes, URL-safe.
fn random_text() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn digest(label: &str, text: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(label.as_bytes());
    hash.update([0]);
    hash.update(text.as_bytes());
    hash.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without stopping at the first difference, so the time taken
/// does not tell how much of a guessed token was right.
fn same(a: &str, b: &str) -> bool {
    domain::partner_order::signature::same_secret(a.as_bytes(), b.as_bytes())
}

/// A ChaCha20-Poly1305 key, sealing JSON with a fresh nonce each time.
struct SealingKey(LessSafeKey);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

impl SealingKey {
    fn new(key: &[u8; 32]) -> Self {
        Self(LessSafeKey::new(
            UnboundKey::new(&CHACHA20_POLY1305, key).expect("a 32-byte key"),
        ))
    }

    /// `value` sealed: a fresh nonce, then the ciphertext, URL-safe.
    fn seal<T: Serialize>(&self, value: &T) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system's random source works");
        let mut sealed = serde_json::to_vec(value).expect("the value serializes");
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut sealed,
            )
            .expect("sealing cannot fail for this size");
        let mut stored = nonce.to_vec();
        stored.extend(sealed);
        URL_SAFE_NO_PAD.encode(stored)
    }

    fn open<T: serde::de::DeserializeOwned>(&self, stored: &str) -> Option<T> {
        let mut bytes = URL_SAFE_NO_PAD.decode(stored).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let mut sealed = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).ok()?;
        let opened = self
            .0
            .open_in_place(nonce, Aad::empty(), &mut sealed)
            .ok()?;
        serde_json::from_slice(opened).ok()
    }
}

/// The key sealing sign-ins under way, the same on every instance: read
/// from `console_keys`, stored there by the first instance that needed it.
async fn sign_in_key(pool: &sqlx::AnyPool) -> Result<SealingKey, sqlx::Error> {
    sqlx::query(
        "INSERT INTO console_keys (name, sealing_key, created_at) VALUES ('sign-in', $1, $2) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(random_text())
    .bind(as_i64(now()))
    .execute(pool)
    .await?;
    let stored: String =
        sqlx::query_scalar("SELECT sealing_key FROM console_keys WHERE name = 'sign-in'")
            .fetch_one(pool)
            .await?;
    Ok(SealingKey::new(&digest("facesign sign-in key", &stored)))
}

/// A session cookie's value and what it derives.
struct SessionSecret(String);

impl SessionSecret {
    fn id_hash(&self) -> String {
        hex(&digest("facesign console session id", &self.0))
    }

    fn csrf(&self) -> String {
        URL_SAFE_NO_PAD.encode(digest("facesign console csrf", &self.0))
    }

    /// Whether `sent` is this session's CSRF token.
    fn csrf_holds(&self, sent: Option<&str>) -> bool {
        sent.is_some_and(|sent| same(sent, &self.csrf()))
    }

    /// The key the session's tokens are sealed with in the table.
    fn key(&self) -> SealingKey {
        SealingKey::new(&digest("facesign console session key", &self.0))
    }

    fn seal(&self, tokens: &ProviderTokens) -> String {
        self.key().seal(tokens)
    }

    fn open(&self, stored: &str) -> Option<ProviderTokens> {
        self.key().open(stored)
    }
}

fn csrf_missing() -> Message {
    message!("a console request must carry its session's CSRF token (X-Facesign-Csrf)")
}

/// What the provider gave a session.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ProviderTokens {
    access: String,
    refresh: Option<String>,
    id: String,
}

/// The value of cookie `name`, if the request sent one of sane length.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    cookie_of_length(headers, name, 128)
}

fn cookie_of_length(headers: &HeaderMap, name: &str, max_len: usize) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty() && value.len() <= max_len)
}

/// Which console session a request is, as far as the API cares.
#[derive(Debug, Clone)]
pub struct SessionBearer {
    /// The session's current access token, refreshed when it was about to expire.
    pub access_token: String,
    /// When the person signed in (seconds since the epoch): a 踢出 after it
    /// ends the session, however fresh its access token.
    pub started_at: u64,
    /// When the session ends, whatever its tokens (seconds since the epoch).
    pub expires_at: u64,
    /// The session's row (the hash of its cookie), for a socket to check
    /// that it was not ended meanwhile.
    pub id_hash: String,
}

fn session_ended() -> Message {
    message!("the console session has ended; sign in again")
}

/// The session a request's cookie names, when the console signs in through
/// a provider and the request sent the cookie: its bearer, or why it does
/// not count (no such session, expired, no CSRF token).
pub async fn session_bearer(
    state: &AppState,
    headers: &HeaderMap,
    csrf: Option<&str>,
) -> Option<Result<SessionBearer, Message>> {
    let sign_in = state.sign_in.as_ref()?;
    let secret = SessionSecret(cookie_value(headers, sign_in.cookie_name())?);
    if !secret.csrf_holds(csrf) {
        return Some(Err(csrf_missing()));
    }
    Some(bearer_of(state, sign_in, &secret).await)
}

/// Whether the session whose row is `id_hash` is still open (a socket asks
/// while it stays open: a logout elsewhere closes it).
pub async fn session_open(state: &AppState, id_hash: &str) -> bool {
    matches!(
        read_session(state.database.read_models(), id_hash).await,
        Ok(Some(row)) if row.expires_at > now()
    )
}

/// A stored session.
struct SessionRow {
    subject: String,
    sealed_tokens: String,
    access_expires_at: u64,
    started_at: u64,
    expires_at: u64,
}

async fn read_session(
    pool: &sqlx::AnyPool,
    id_hash: &str,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT subject, sealed_tokens, access_expires_at, started_at, expires_at \
         FROM console_sessions WHERE id_hash = $1",
    )
    .bind(id_hash)
    .fetch_optional(pool)
    .await?;
    let seconds = |row: &sqlx::any::AnyRow, column: &str| -> Result<u64, sqlx::Error> {
        Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
    };
    row.map(|row| {
        Ok(SessionRow {
            subject: row.try_get("subject")?,
            sealed_tokens: row.try_get("sealed_tokens")?,
            access_expires_at: seconds(&row, "access_expires_at")?,
            started_at: seconds(&row, "started_at")?,
            expires_at: seconds(&row, "expires_at")?,
        })
    })
    .transpose()
}

async fn delete_session(pool: &sqlx::AnyPool, id_hash: &str) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

fn as_i64(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

async fn bearer_of(
    state: &AppState,
    sign_in: &ConsoleSignIn,
    secret: &SessionSecret,
) -> Result<SessionBearer, Message> {
    let pool = state.database.read_models();
    let id_hash = secret.id_hash();
    let row = read_session(pool, &id_hash)
        .await
        .map_err(unreadable)?
        .ok_or_else(session_ended)?;
    if row.expires_at <= now() {
        delete_session(pool, &id_hash).await.map_err(unreadable)?;
        return Err(session_ended());
    }
    let tokens = secret.open(&row.sealed_tokens).ok_or_else(session_ended)?;
    let access_token = if row.access_expires_at > now() + REFRESH_AHEAD_SECONDS {
        tokens.access
    } else {
        refresh(state, sign_in, secret, &row, tokens).await?
    };
    Ok(SessionBearer {
        access_token,
        started_at: row.started_at,
        expires_at: row.expires_at,
        id_hash,
    })
}

fn unreadable(error: sqlx::Error) -> Message {
    tracing::error!(%error, "cannot read or write a console session");
    message!("the console session could not be read; try again")
}

/// A fresh access token for a session whose token is about to expire,
/// through its refresh token. One request at a time refreshes a session
/// (a lease in its row, across instances); the others use the token they
/// have while it is valid, or wait for the refreshed one.
async fn refresh(
    state: &AppState,
    sign_in: &ConsoleSignIn,
    secret: &SessionSecret,
    row: &SessionRow,
    tokens: ProviderTokens,
) -> Result<String, Message> {
    let pool = state.database.read_models();
    let id_hash = secret.id_hash();
    let claimed = sqlx::query(
        "UPDATE console_sessions SET refreshing_until = $1 \
         WHERE id_hash = $2 AND sealed_tokens = $3 \
         AND (refreshing_until IS NULL OR refreshing_until < $4)",
    )
    .bind(as_i64(now() + REFRESH_LEASE_SECONDS))
    .bind(&id_hash)
    .bind(&row.sealed_tokens)
    .bind(as_i64(now()))
    .execute(pool)
    .await
    .map_err(unreadable)?
    .rows_affected();
    if claimed != 1 {
        return refreshed_elsewhere(pool, secret, row, tokens).await;
    }
    let fresh = refreshed_tokens(sign_in, &row.subject, &tokens).await;
    let Some((fresh, expires_at)) = fresh else {
        if row.access_expires_at > now() {
            // The token in hand still counts; the next request tries again.
            let _ = sqlx::query(
                "UPDATE console_sessions SET refreshing_until = NULL WHERE id_hash = $1",
            )
            .bind(&id_hash)
            .execute(pool)
            .await;
            return Ok(tokens.access);
        }
        delete_session(pool, &id_hash).await.map_err(unreadable)?;
        return Err(session_ended());
    };
    let stored = sqlx::query(
        "UPDATE console_sessions \
         SET sealed_tokens = $1, access_expires_at = $2, refreshing_until = NULL \
         WHERE id_hash = $3",
    )
    .bind(secret.seal(&fresh))
    .bind(as_i64(expires_at))
    .bind(&id_hash)
    .execute(pool)
    .await
    .map_err(unreadable)?
    .rows_affected();
    // Logged out while the refresh was under way: the session stays ended.
    if stored != 1 {
        return Err(session_ended());
    }
    Ok(fresh.access)
}

/// The tokens a refresh gives a session of `subject`, and when the new
/// access token expires; None when the provider refuses or the new token
/// does not verify or names someone else.
async fn refreshed_tokens(
    sign_in: &ConsoleSignIn,
    subject: &str,
    tokens: &ProviderTokens,
) -> Option<(ProviderTokens, u64)> {
    let refresh_token = tokens.refresh.as_deref()?;
    let answer = sign_in
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
        .map_err(|error| tracing::info!(%error, %subject, "a console session's refresh failed"))
        .ok()?;
    let access = answer.access?;
    let verified = sign_in
        .provider
        .verify(&access)
        .await
        .map_err(|error| tracing::warn!(%error, "a refreshed access token does not verify"))
        .ok()?;
    if verified.sub != subject {
        tracing::warn!(%subject, "a refreshed access token names another person");
        return None;
    }
    Some((
        ProviderTokens {
            access,
            refresh: answer.refresh.or_else(|| tokens.refresh.clone()),
            id: answer.id.unwrap_or_else(|| tokens.id.clone()),
        },
        verified.expires_at,
    ))
}

/// Another request holds the refresh: the token in hand while it is valid,
/// else the refreshed one once it is stored (waiting up to the lease).
async fn refreshed_elsewhere(
    pool: &sqlx::AnyPool,
    secret: &SessionSecret,
    row: &SessionRow,
    tokens: ProviderTokens,
) -> Result<String, Message> {
    if row.access_expires_at > now() {
        return Ok(tokens.access);
    }
    for _ in 0..(REFRESH_LEASE_SECONDS * 4) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let stored = read_session(pool, &secret.id_hash())
            .await
            .map_err(unreadable)?
            .ok_or_else(session_ended)?;
        if stored.sealed_tokens != row.sealed_tokens && stored.access_expires_at > now() {
            return secret
                .open(&stored.sealed_tokens)
                .map(|tokens| tokens.access)
                .ok_or_else(session_ended);
        }
    }
    Err(message!("the console session could not be read; try again"))
}

/// The provider's answer at its token endpoint.
struct TokenAnswer {
    access: Option<String>,
    refresh: Option<String>,
    id: Option<String>,
}

impl ConsoleSignIn {
    /// Posts `form` to the token endpoint as the console's client and reads
    /// the answer (bounded).
    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenAnswer, String> {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        let mut request = self.provider.http().post(&self.token_endpoint);
        match &self.settings.client_secret {
            Some(secret) => {
                request = request.basic_auth(
                    form_encode(&self.settings.client_id),
                    Some(form_encode(secret.expose_secret())),
                );
            }
            None => fields.push(("client_id", self.settings.client_id.as_str())),
        }
        let response = request
            .form(&fields)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = crate::identity::bounded_body(response, MAX_TOKEN_RESPONSE_BYTES).await?;
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("HTTP {status}: {}", body["error"]));
        }
        let text = |field: &str| body[field].as_str().map(str::to_string);
        Ok(TokenAnswer {
            access: text("access_token"),
            refresh: text("refresh_token"),
            id: text("id_token"),
        })
    }
}

/// RFC 6749 §2.3.1: client credentials in Basic are form-encoded first.
fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The console page a sign-in returns to: a `#/…` address of the console,
/// nothing else (no open redirect).
fn return_address(asked: Option<&str>) -> String {
    asked
        .filter(|hash| {
            hash.starts_with("#/")
                && hash.len() <= 200
                && hash
                    .chars()
                    .all(|c| c.is_ascii_graphic() && c != '"' && c != '<' && c != '>' && c != '\\')
        })
        .unwrap_or("#/")
        .to_string()
}

/// A short page for a browser that cannot go on, in the caller's language.
fn page(status: StatusCode, message: &Message, language: Language) -> Response {
    let text = render(message, language)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let again = match language {
        Language::English => "Back to the console",
        _ => "返回控制台",
    };
    let body = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>facesign</title></head>\
         <body><p id=\"sign-in-error\">{text}</p><p><a href=\"/console/\">{again}</a></p></body></html>"
    );
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn not_configured(language: Language) -> Response {
    page(
        StatusCode::NOT_FOUND,
        &message!("this server signs the console in with a pasted token, not through an identity provider"),
        language,
    )
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Records a sign-in, a sign-out or a refused sign-in in the operation log.
fn record(
    state: &AppState,
    headers: &HeaderMap,
    kind: OperationKind,
    actor: (&str, &str),
    operation: &str,
    code: Option<&str>,
    detail: String,
) {
    state.operation_log.record(Operation {
        at: state.bus.services().clock.now(),
        kind,
        actor_id: actor.0.to_string(),
        actor_role: actor.1.to_string(),
        operation: operation.to_string(),
        target: String::new(),
        code: code.map(str::to_string),
        detail,
        request_id: request_id(headers),
    });
}

/// `?step_up=1` asks the provider for a new, multi-factor login; `return`
/// is the console page to come back to.
#[derive(Debug, Deserialize)]
struct LoginQuery {
    step_up: Option<String>,
    #[serde(rename = "return")]
    return_to: Option<String>,
}

/// Starts a sign-in: remembers its state, PKCE verifier and nonce, binds it
/// to this browser with a short-lived cookie and sends the browser to the
/// provider.
async fn login(
    State((state, _)): State<(AppState, FacesignSchema)>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let language = Language::of(&headers);
    let Some(sign_in) = state.sign_in.clone() else {
        return not_configured(language);
    };
    let pending = PendingSignIn {
        state: random_text(),
        verifier: random_text(),
        nonce: random_text(),
        return_to: return_address(query.return_to.as_deref()),
        started_at: now(),
        // This request is same-site, so the session cookie came: a new
        // sign-in (a step-up) replaces that session.
        replaces: cookie_value(&headers, sign_in.cookie_name())
            .map(|cookie| SessionSecret(cookie).id_hash()),
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
    let mut params = vec![
        ("response_type", "code".to_string()),
        ("client_id", sign_in.settings.client_id.clone()),
        ("redirect_uri", sign_in.redirect_uri.clone()),
        ("scope", sign_in.settings.scopes.clone()),
        ("state", pending.state.clone()),
        ("nonce", pending.nonce.clone()),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256".to_string()),
    ];
    if query.step_up.is_some() {
        // A new login with a second factor, whatever session the provider holds.
        params.push(("prompt", "login".to_string()));
        let acr = &sign_in.provider.settings().mfa_acr;
        if !acr.is_empty() {
            params.push(("acr_values", acr.join(" ")));
        }
    }
    let Ok(url) = reqwest::Url::parse_with_params(&sign_in.authorization_endpoint, &params) else {
        return page(
            StatusCode::INTERNAL_SERVER_ERROR,
            &message!("the sign-in could not be started; try again"),
            language,
        );
    };
    // The sign-in is kept nowhere but in this browser, sealed: nothing an
    // anonymous caller starts takes room on the server.
    let cookie = sign_in.cookie(
        sign_in.sign_in_cookie_name(),
        &sign_in.sign_in_key.seal(&pending),
        // Lax: the provider sends the browser back by a top-level navigation
        // from its own site.
        "Lax",
        SIGN_IN_SECONDS,
    );
    redirect(url.as_str(), &[cookie])
}

/// 303 to `location`, setting `cookies`, never cached.
fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What the provider sends the browser back with.
#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// A sign-in under way, sealed into its browser's cookie.
#[derive(Debug, Serialize, Deserialize)]
struct PendingSignIn {
    state: String,
    verifier: String,
    nonce: String,
    return_to: String,
    started_at: u64,
    /// The session this sign-in replaces (its row), when it is a step-up.
    replaces: Option<String>,
}

/// The provider sends the browser back here: the code is exchanged (with
/// the PKCE verifier and the client's credentials), the ID token's nonce and
/// the access token are verified, and a session begins.
async fn callback(
    State((state, _)): State<(AppState, FacesignSchema)>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let language = Language::of(&headers);
    let Some(sign_in) = state.sign_in.clone() else {
        return not_configured(language);
    };
    let refuse = |status: StatusCode, reason: Message| {
        state.operation_log.record_unverified(
            store::operation_log::UnverifiedRefusal {
                operation: "console/sign-in".into(),
                claimed: String::new(),
                code: domain::ErrorCode::Unauthenticated.as_str().into(),
                reason: render(&reason, Language::English),
            },
            Some(peer.ip()),
            state.bus.services().clock.now(),
        );
        page(status, &reason, language)
    };
    let pending: Option<PendingSignIn> =
        cookie_of_length(&headers, sign_in.sign_in_cookie_name(), 2048)
            .and_then(|sealed| sign_in.sign_in_key.open(&sealed));
    let Some(pending) = pending.filter(|pending| {
        query
            .state
            .as_deref()
            .is_some_and(|sent| same(sent, &pending.state))
    }) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            message!(
                "this sign-in was not started in this browser; start it again from the console"
            ),
        );
    };
    if pending.started_at + SIGN_IN_SECONDS < now() {
        return refuse(
            StatusCode::BAD_REQUEST,
            message!(
                "this sign-in has expired or was already used; start it again from the console"
            ),
        );
    }
    let pool = state.database.read_models();
    // The sign-in is spent whatever happens next (the provider takes each
    // code once as well).
    let clear = sign_in.cookie(sign_in.sign_in_cookie_name(), "", "Lax", 0);
    let refuse = |status: StatusCode, reason: Message| with_cookie(refuse(status, reason), &clear);
    if let Some(error) = query.error.as_deref() {
        // An OAuth error code is [a-z_]; nothing else of it is shown.
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return refuse(
            StatusCode::FORBIDDEN,
            message!("the identity provider did not sign you in ({error})"),
        );
    }
    let Some(code) = query.code.as_deref().filter(|c| c.len() <= 2048) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            message!("the identity provider sent no authorization code"),
        );
    };
    let answer = sign_in
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", sign_in.redirect_uri.as_str()),
            ("code_verifier", pending.verifier.as_str()),
        ])
        .await;
    let (access, id_token, refresh_token) = match answer {
        Ok(TokenAnswer {
            access: Some(access),
            id: Some(id),
            refresh,
        }) => (access, id, refresh),
        Ok(_) => {
            return refuse(
                StatusCode::BAD_GATEWAY,
                message!("the identity provider's answer lacks an access or ID token"),
            )
        }
        Err(error) => {
            tracing::warn!(%error, "the identity provider did not exchange a console sign-in's code");
            return refuse(
                StatusCode::BAD_GATEWAY,
                message!(
                    "the identity provider did not exchange the authorization code; start again"
                ),
            );
        }
    };
    let id_claims = match sign_in
        .provider
        .verify_id_token(&id_token, &sign_in.settings.client_id, &pending.nonce)
        .await
    {
        Ok(claims) => claims,
        Err(_) => {
            return refuse(
                StatusCode::FORBIDDEN,
                message!("the identity provider's ID token does not verify"),
            )
        }
    };
    let verified = match sign_in.provider.verify(&access).await {
        Ok(verified) if id_claims["sub"].as_str() == Some(verified.sub.as_str()) => verified,
        Ok(_) => {
            return refuse(
                StatusCode::FORBIDDEN,
                message!("the ID token and the access token name different people"),
            )
        }
        Err(error) => {
            return refuse(
                StatusCode::FORBIDDEN,
                domain::message::Localized::message(&error),
            )
        }
    };
    let secret = SessionSecret(random_text());
    let started_at = now();
    let expires_at = started_at + sign_in.settings.session_lifetime.as_secs();
    let tokens = ProviderTokens {
        access,
        refresh: refresh_token,
        id: id_token,
    };
    // A step-up signs in again in the same browser: the session it replaces ends.
    let stored = async {
        sqlx::query("DELETE FROM console_sessions WHERE expires_at < $1")
            .bind(as_i64(started_at))
            .execute(pool)
            .await?;
        // A step-up signs in again in the same browser: the session it replaces ends.
        if let Some(replaced) = &pending.replaces {
            delete_session(pool, replaced).await?;
        }
        sqlx::query(
            "INSERT INTO console_sessions \
             (id_hash, subject, sealed_tokens, access_expires_at, started_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(secret.id_hash())
        .bind(&verified.sub)
        .bind(secret.seal(&tokens))
        .bind(as_i64(verified.expires_at))
        .bind(as_i64(started_at))
        .bind(as_i64(expires_at))
        .execute(pool)
        .await
    }
    .await;
    if let Err(error) = stored {
        tracing::error!(%error, "cannot store a console session");
        let failed = page(
            StatusCode::SERVICE_UNAVAILABLE,
            &message!("the sign-in could not be completed; try again"),
            language,
        );
        return with_cookie(failed, &clear);
    }
    let roles: Vec<&str> = verified.roles.iter().map(|r| r.as_str()).collect();
    record(
        &state,
        &headers,
        OperationKind::SignIn,
        (&verified.sub, &roles.join(",")),
        "console/sign-in",
        None,
        if verified.multi_factor {
            "multi-factor".into()
        } else {
            "single factor".into()
        },
    );
    let cookie = sign_in.cookie(
        sign_in.cookie_name(),
        &secret.0,
        "Strict",
        sign_in.settings.session_lifetime.as_secs(),
    );
    redirect(&format!("/console/{}", pending.return_to), &[cookie, clear])
}

/// The console asks who is signed in, how it signs in, and the CSRF token
/// its requests carry.
async fn session(
    State((state, _)): State<(AppState, FacesignSchema)>,
    headers: HeaderMap,
) -> Response {
    let Some(sign_in) = state.sign_in.clone() else {
        return no_store(Json(json!({ "mode": "token" })).into_response());
    };
    let signed_out =
        || no_store(Json(json!({ "mode": "provider", "signedIn": false })).into_response());
    let Some(secret) = cookie_value(&headers, sign_in.cookie_name()).map(SessionSecret) else {
        return signed_out();
    };
    let Ok(bearer) = bearer_of(&state, &sign_in, &secret).await else {
        return signed_out();
    };
    let Ok(verified) = sign_in.provider.verify(&bearer.access_token).await else {
        return signed_out();
    };
    // A person kicked out (踢出) or disabled since is not signed in, as the
    // API would refuse them.
    // The token was verified just above: the account check alone remains.
    let mut checked = crate::request::RequestContext::for_token(
        None,
        None,
        &state.tokens,
        request_id(&headers),
        request_id(&headers),
    )
    .await;
    checked.actor = verified.roles.first().map(|role| domain::log::Actor {
        id: verified.sub.clone(),
        role: role.as_str().to_string(),
    });
    checked.issued_at = Some(bearer.started_at);
    let checked = checked
        .check_account(&state.accounts, state.database.read_models())
        .await;
    if checked.actor.is_none() {
        return signed_out();
    }
    let expires_at = bearer.expires_at;
    let roles: Vec<&str> = verified.roles.iter().map(|r| r.as_str()).collect();
    no_store(
        Json(json!({
            "mode": "provider",
            "signedIn": true,
            "sub": verified.sub,
            "roles": roles,
            "multiFactor": verified.multi_factor,
            "csrf": secret.csrf(),
            "expiresAt": expires_at,
        }))
        .into_response(),
    )
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Ends the session here and answers where the browser goes to end it at
/// the provider (its `end_session_endpoint`, back to the console after).
async fn logout(
    State((state, _)): State<(AppState, FacesignSchema)>,
    headers: HeaderMap,
) -> Response {
    let language = Language::of(&headers);
    let Some(sign_in) = state.sign_in.clone() else {
        return not_configured(language);
    };
    let clear = sign_in.cookie(sign_in.cookie_name(), "", "Strict", 0);
    let console = format!("{}/console/", sign_in.settings.public_url);
    let Some(secret) = cookie_value(&headers, sign_in.cookie_name()).map(SessionSecret) else {
        return with_cookie(
            Json(json!({ "logoutUrl": console })).into_response(),
            &clear,
        );
    };
    if !secret.csrf_holds(headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())) {
        return (
            StatusCode::FORBIDDEN,
            Json(crate::error::refusal_body(
                domain::ErrorCode::Forbidden,
                &csrf_missing(),
                language,
            )),
        )
            .into_response();
    }
    let pool = state.database.read_models();
    let id_hash = secret.id_hash();
    let row = read_session(pool, &id_hash).await.ok().flatten();
    if let Err(error) = delete_session(pool, &id_hash).await {
        tracing::error!(%error, "cannot end a console session");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(crate::error::refusal_body(
                domain::ErrorCode::Internal,
                &message!("the session could not be ended; try again"),
                language,
            )),
        )
            .into_response();
    }
    let id_token = row
        .as_ref()
        .and_then(|row| secret.open(&row.sealed_tokens))
        .map(|t| t.id);
    if let Some(row) = &row {
        record(
            &state,
            &headers,
            OperationKind::SignIn,
            (&row.subject, ""),
            "console/sign-out",
            None,
            String::new(),
        );
    }
    let logout_url = match (&sign_in.provider.endpoints().end_session, id_token) {
        (Some(end_session), Some(id_token)) => reqwest::Url::parse_with_params(
            end_session,
            &[
                ("id_token_hint", id_token.as_str()),
                ("client_id", sign_in.settings.client_id.as_str()),
                ("post_logout_redirect_uri", console.as_str()),
            ],
        )
        .map(|url| url.to_string())
        .unwrap_or(console),
        _ => console,
    };
    with_cookie(
        Json(json!({ "logoutUrl": logout_url })).into_response(),
        &clear,
    )
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    no_store(response)
}

/// Builds the sign-in for `provider` when the console signs in through it.
pub async fn for_provider(
    provider: &IdentityProvider,
    settings: SignInSettings,
    pool: &sqlx::AnyPool,
) -> Result<Arc<ConsoleSignIn>, SignInSetupError> {
    ConsoleSignIn::new(provider.clone(), settings, pool)
        .await
        .map(Arc::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_tokens_open_only_with_their_cookie() {
        let secret = SessionSecret(random_text());
        let tokens = ProviderTokens {
            access: "a".into(),
            refresh: Some("r".into()),
            id: "i".into(),
        };
        let sealed = secret.seal(&tokens);
        assert_eq!(secret.open(&sealed).unwrap().refresh.as_deref(), Some("r"));
        assert!(SessionSecret(random_text()).open(&sealed).is_none());
        assert!(!sealed.contains("\"access\""));
    }

    #[test]
    fn a_sign_in_returns_only_to_a_console_page() {
        assert_eq!(
            return_address(Some("#/admin?tab=changes")),
            "#/admin?tab=changes"
        );
        for elsewhere in [
            "https://evil.example/",
            "//evil.example",
            "#/a\"onload",
            "javascript:x",
        ] {
            assert_eq!(return_address(Some(elsewhere)), "#/", "{elsewhere}");
        }
    }

    #[test]
    fn the_csrf_token_and_the_row_id_are_not_the_cookie() {
        let secret = SessionSecret("cookie".into());
        assert_ne!(secret.csrf(), "cookie");
        assert_ne!(secret.id_hash(), secret.csrf());
        assert!(same(&secret.csrf(), &SessionSecret("cookie".into()).csrf()));
        assert!(!same(
            &secret.csrf(),
            &SessionSecret("cookie2".into()).csrf()
        ));
    }
}
