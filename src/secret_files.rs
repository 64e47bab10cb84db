//! Secrets from mounted files (issue 34 item 6). Every secret setting also
//! accepts `<NAME>_FILE`, the path of a file holding it (a Kubernetes or
//! Docker secret). The partners' shared secrets and the SMS gateway's token
//! given that way are read again while the server runs: a changed file
//! rotates the secret, and the old one is still accepted from callers for
//! FACESIGN_SECRET_OVERLAP_MINUTES, so the other side can switch in its own
//! time.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use workers::partners::PartnerDirectory;
use workers::secrets::{read_secret_file, RotatingSecret};

/// The settings that hold a secret, each of which may come from `<NAME>_FILE`.
pub const SECRET_SETTINGS: &[&str] = &[
    "FACESIGN_DATABASE_URL",
    "FACESIGN_JWT_SECRET",
    "FACESIGN_PARTNERS",
    "FACESIGN_SMS_GATEWAY_TOKEN",
    "FACESIGN_OIDC_CONSOLE_CLIENT_SECRET",
    "FACESIGN_KAFKA_PROPERTIES",
    "FACESIGN_LOG_SIGNING_KEY",
];

/// The value of every secret setting given as `<NAME>_FILE`, read from its
/// file, by name; `env` reads the environment. Fails when a setting is given
/// both ways or its file cannot be read.
pub fn from_files(env: impl Fn(&str) -> Option<String>) -> Result<Vec<(String, String)>, String> {
    let mut values = Vec::new();
    for name in SECRET_SETTINGS {
        let file_setting = format!("{name}_FILE");
        let Some(path) = env(&file_setting).filter(|p| !p.trim().is_empty()) else {
            continue;
        };
        if env(name).is_some() {
            return Err(format!("set {name} or {file_setting}, not both"));
        }
        let value = read_secret_file(std::path::Path::new(path.trim()))
            .map_err(|e| format!("{file_setting}: {e}"))?;
        values.push((name.to_string(), value));
    }
    Ok(values)
}

/// The secret files read again while the server runs.
#[derive(Debug, Clone, Default)]
pub struct RotatedFiles {
    /// FACESIGN_PARTNERS_FILE: the partners' shared secrets.
    pub partners: Option<PathBuf>,
    /// FACESIGN_SMS_GATEWAY_TOKEN_FILE: the SMS gateway's token.
    pub sms_gateway_token: Option<PathBuf>,
    /// How long an old secret is still accepted after a rotation
    /// (FACESIGN_SECRET_OVERLAP_MINUTES).
    pub overlap: Duration,
    /// How often the files are read.
    pub interval: Duration,
}

impl RotatedFiles {
    /// No files; an overlap of a day, read every 10 s.
    pub fn none() -> Self {
        Self {
            partners: None,
            sms_gateway_token: None,
            overlap: Duration::from_secs(24 * 3600),
            interval: Duration::from_secs(10),
        }
    }
}

/// Reads the files every `interval` until `shutdown`, rotating what changed.
/// A file that cannot be read or no longer parses keeps the secrets in force
/// (and is said so in the log).
pub fn watch(
    files: RotatedFiles,
    partners: PartnerDirectory,
    sms_gateway_token: Option<RotatingSecret>,
    mut shutdown: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    if files.partners.is_none() && files.sms_gateway_token.is_none() {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(files.interval) => {}
                _ = shutdown.changed() => return,
            }
            if let Some(path) = &files.partners {
                match read_secret_file(path) {
                    Ok(spec) => match partners.rotate_secrets(&spec, files.overlap) {
                        Ok(rotated) if !rotated.is_empty() => tracing::info!(
                            partners = ?rotated,
                            overlap_minutes = files.overlap.as_secs() / 60,
                            "partner secrets rotated; the old ones are accepted until the overlap ends"
                        ),
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(%error, "FACESIGN_PARTNERS_FILE does not parse; the secrets in force are kept")
                        }
                    },
                    Err(error) => {
                        tracing::warn!(%error, "FACESIGN_PARTNERS_FILE cannot be read; the secrets in force are kept")
                    }
                }
            }
            if let (Some(path), Some(token)) = (&files.sms_gateway_token, &sms_gateway_token) {
                match read_secret_file(path).map(|text| workers::secrets::gateway_token(&text)) {
                    Ok(Some(new)) => {
                        if token.rotate(new, files.overlap) {
                            tracing::info!(
                                overlap_minutes = files.overlap.as_secs() / 60,
                                "the SMS gateway token rotated; the old one is accepted until the overlap ends"
                            );
                        }
                    }
                    Ok(None) => tracing::warn!("FACESIGN_SMS_GATEWAY_TOKEN_FILE holds fewer than 16 characters; the token in force is kept"),
                    Err(error) => tracing::warn!(%error, "FACESIGN_SMS_GATEWAY_TOKEN_FILE cannot be read; the token in force is kept"),
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_comes_from_its_file_but_not_from_both() {
        let dir = std::env::temp_dir().join(format!("facesign-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("jwt");
        std::fs::write(&file, "a-secret-from-a-mounted-file\n").unwrap();
        let path = file.display().to_string();
        let only_file = |name: &str| (name == "FACESIGN_JWT_SECRET_FILE").then(|| path.clone());
        assert_eq!(
            from_files(only_file).unwrap(),
            vec![(
                "FACESIGN_JWT_SECRET".to_string(),
                "a-secret-from-a-mounted-file".to_string()
            )]
        );
        let both = |name: &str| {
            name.starts_with("FACESIGN_JWT_SECRET")
                .then(|| path.clone())
        };
        assert_eq!(
            from_files(both).unwrap_err(),
            "set FACESIGN_JWT_SECRET or FACESIGN_JWT_SECRET_FILE, not both"
        );
        let missing =
            |name: &str| (name == "FACESIGN_PARTNERS_FILE").then(|| "/nonexistent/p".to_string());
        assert!(from_files(missing)
            .unwrap_err()
            .starts_with("FACESIGN_PARTNERS_FILE: cannot read"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
