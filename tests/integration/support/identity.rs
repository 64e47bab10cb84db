//! A real OpenID Connect provider for the identity tests (issue 34): panva's
//! oidc-provider from npm (`tests/idp`, installed by `scripts/test`), run with
//! Node as its own process. Fails, never skips, without it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use api::identity::OidcSettings;
use base64::Engine;
use serde_json::Value;
use sha2::Digest;

/// The settings a bank would give: its issuer, facesign's audience, its
/// systems' client ids, the `acr` of a multi-factor login.
pub fn bank_oidc(issuer: &str) -> OidcSettings {
    let mut oidc = OidcSettings::new(issuer, "facesign");
    oidc.clients = OidcSettings::parse_roles(
        "credit-system=CREDIT_SYSTEM,verification=VERIFICATION_SERVICE,partner-backoffice=PARTNER",
    )
    .unwrap();
    oidc.mfa_acr = vec!["urn:facesign:mfa".into()];
    // Short, so the rotation test need not wait; the default is 10 s.
    oidc.min_key_refetch = std::time::Duration::from_millis(200);
    oidc
}

/// Settings of a facesign on `port` whose console signs in through the
/// provider at `issuer` as the confidential client `facesign-console`
/// (issue 34 item 3); four eyes off, so one admin's change is made.
pub fn console_settings(url: &str, issuer: &str, port: u16) -> facesign::Settings {
    let mut settings = super::settings(url);
    settings.bind = format!("127.0.0.1:{port}");
    settings.oidc = Some(bank_oidc(issuer));
    settings.four_eyes = Some(false);
    let mut sign_in = api::sign_in::SignInSettings::new(&format!("http://127.0.0.1:{port}"));
    sign_in.client_secret = Some(secrecy::SecretString::from(CONSOLE_SECRET.to_string()));
    sign_in.scopes = "openid facesign".into();
    settings.console_sign_in = Some(sign_in);
    settings
}

/// The console client's secret at the test provider.
pub const CONSOLE_SECRET: &str = "facesign-console-secret";

/// A free port on this machine, for a server the provider must know before it starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running provider and its issuer.
pub struct IdentityProvider {
    child: Child,
    /// Its issuer, `http://127.0.0.1:<port>`.
    pub issuer: String,
    http: reqwest::Client,
    /// The console client's (first) redirect URI.
    redirect: String,
    /// Its secret, when it is a confidential client.
    console_secret: Option<String>,
}

/// Where the provider's script and its node_modules are.
fn idp_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/idp")
}

/// An HTTP client as a browser goes through the provider's pages: it keeps
/// cookies and sees each redirect.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

impl IdentityProvider {
    /// Starts the provider on a free port; `users` adds logins and their roles
    /// (`{"name": ["ROLE"]}`) to its built-in ones.
    pub fn start(users: Value) -> Self {
        Self::start_with(
            users,
            &[("IDP_REDIRECT_URIS", "http://127.0.0.1:1/callback")],
        )
    }

    /// A provider whose console client sends the browser back to a facesign
    /// at `base` (`http://127.0.0.1:<port>`), as the confidential client
    /// `facesign-console` with secret [`CONSOLE_SECRET`]; access tokens live
    /// `token_seconds`.
    pub fn start_for_console(users: Value, base: &str, token_seconds: u64) -> Self {
        Self::start_with(
            users,
            &[
                ("IDP_REDIRECT_URIS", &format!("{base}/auth/callback")),
                ("IDP_POST_LOGOUT_REDIRECT_URIS", &format!("{base}/console/")),
                ("IDP_CONSOLE_SECRET", CONSOLE_SECRET),
                ("IDP_AT_TTL", &token_seconds.to_string()),
                // As strict as providers get: a refresh token spent twice
                // revokes the whole grant.
                ("IDP_ROTATE_REFRESH", "1"),
            ],
        )
    }

    fn start_with(users: Value, env: &[(&str, &str)]) -> Self {
        let dir = idp_dir();
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "the test identity provider is not installed: run `npm ci --prefix tests/idp` (scripts/test does)"
        );
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .env("IDP_PORT", "0")
            .env("IDP_USERS", users.to_string())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start node ({e}); the identity tests need Node.js and `npm ci --prefix tests/idp` (scripts/test does)")
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the provider says it is ready");
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("the provider did not start: {line:?}"));
        let redirect = env
            .iter()
            .find(|(name, _)| *name == "IDP_REDIRECT_URIS")
            .map(|(_, uris)| uris.split(',').next().unwrap_or_default().to_string())
            .expect("a redirect URI");
        let console_secret = env
            .iter()
            .find(|(name, _)| *name == "IDP_CONSOLE_SECRET")
            .map(|(_, secret)| secret.to_string());
        Self {
            console_secret,
            child,
            issuer: ready["issuer"].as_str().expect("issuer").to_string(),
            http: browser(),
            redirect,
        }
    }

    /// A client-credentials access token of `client` (secret `<client>-secret`)
    /// for `resource` (`urn:facesign`, `urn:facesign:es256`, `urn:other`).
    pub async fn client_token(&self, client: &str, resource: &str) -> String {
        let response: Value = self
            .http
            .post(format!("{}/token", self.issuer))
            .basic_auth(client, Some(format!("{client}-secret")))
            .form(&[("grant_type", "client_credentials"), ("resource", resource)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        response["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token for {client}: {response}"))
            .to_string()
    }

    /// A person's access token, through the authorization code flow with
    /// PKCE and the provider's login page, as the console's browser goes;
    /// `login` ends in `+mfa` for a multi-factor login.
    pub async fn login(&self, login: &str) -> String {
        // A fresh cookie jar: one person per login.
        let http = browser();
        // PKCE: a verifier of 43 characters or more, never sent until the exchange.
        let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            sha2::Sha256::digest(format!("{login}-{:?}", std::time::SystemTime::now())),
        );
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        let redirect = self.redirect.as_str();
        let authorize = reqwest::Url::parse_with_params(
            &format!("{}/auth", self.issuer),
            &[
                ("client_id", "facesign-console"),
                ("response_type", "code"),
                ("scope", "openid"),
                ("redirect_uri", redirect),
                ("state", "s"),
                ("nonce", "n"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        )
        .unwrap();
        let interaction = location(&http.get(authorize).send().await.unwrap());
        let back = self.sign_in_at(&http, &interaction, login).await;
        let code = reqwest::Url::parse(&back)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.to_string())
            .unwrap_or_else(|| panic!("no code in {back}"));
        let mut exchange = http.post(format!("{}/token", self.issuer));
        if let Some(secret) = &self.console_secret {
            exchange = exchange.basic_auth("facesign-console", Some(secret));
        }
        let tokens: Value = exchange
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", "facesign-console"),
                ("code", code.as_str()),
                ("redirect_uri", redirect),
                ("code_verifier", verifier.as_str()),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token for {login}: {tokens}"))
            .to_string()
    }

    /// Signs `login` in on the provider's login page a sign-in sent the
    /// browser to (`interaction`, the provider's redirect), and returns where
    /// the provider sends the browser back.
    pub async fn sign_in_at(
        &self,
        http: &reqwest::Client,
        interaction: &str,
        login: &str,
    ) -> String {
        let at = |path: &str| {
            if path.starts_with("http") {
                path.to_string()
            } else {
                format!("{}{path}", self.origin())
            }
        };
        let page = http.get(at(interaction)).send().await.unwrap();
        assert!(page.status().is_success(), "no login page at {interaction}");
        let form = format!("{}/login", at(interaction).trim_end_matches('/'));
        let resume = location(
            &http
                .post(form)
                .form(&[("login", login), ("password", "password")])
                .send()
                .await
                .unwrap(),
        );
        location(&http.get(at(&resume)).send().await.unwrap())
    }

    /// `http://127.0.0.1:<port>` of the provider.
    pub fn origin(&self) -> String {
        let url = reqwest::Url::parse(&self.issuer).unwrap();
        format!("http://127.0.0.1:{}", url.port().unwrap())
    }

    /// Makes the provider sign with a new RS256 key and withdraw the old one.
    pub async fn rotate_keys(&self) {
        let port = reqwest::Url::parse(&self.issuer).unwrap().port().unwrap();
        let answer = self
            .http
            .post(format!(
                "http://127.0.0.1:{port}/test/rotate?alg=RS256&drop_old=1"
            ))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "rotation refused");
    }
}

/// Where a redirect sends the browser.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no redirect: HTTP {}", response.status()))
        .to_str()
        .unwrap()
        .to_string()
}

impl Drop for IdentityProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
