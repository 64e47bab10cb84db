//! Secrets that rotate without a restart (issue 34 item 6): a partner's
//! shared secret and the SMS gateway's token. When a new value arrives (the
//! mounted secret file changed), the old one is still accepted from callers
//! for a stated overlap, so the other side can switch in its own time; what
//! facesign itself signs or sends uses the new one at once.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use domain::partner_order::signature::same_secret;
use secrecy::{ExposeSecret, SecretString};

/// The most replaced secrets still accepted at once: a second rotation
/// within the overlap (a typo mended) keeps the first one's too.
const MAX_PREVIOUS: usize = 3;

/// The longest overlap a rotation may give (30 days).
pub const MAX_OVERLAP: Duration = Duration::from_secs(30 * 24 * 3600);

/// A secret and, for a while after a rotation, the ones it replaced.
#[derive(Clone)]
pub struct RotatingSecret {
    state: Arc<RwLock<Generations>>,
}

struct Generations {
    current: SecretString,
    /// Replaced secrets, newest first, each accepted until its instant.
    previous: Vec<(SecretString, Instant)>,
}

impl std::fmt::Debug for RotatingSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RotatingSecret(..)")
    }
}

impl From<SecretString> for RotatingSecret {
    fn from(secret: SecretString) -> Self {
        Self {
            state: Arc::new(RwLock::new(Generations {
                current: secret,
                previous: Vec::new(),
            })),
        }
    }
}

impl RotatingSecret {
    /// The secret in force: what facesign signs and sends with.
    pub fn current(&self) -> SecretString {
        self.read().current.clone()
    }

    /// Every secret a caller may present now: the current one, and each
    /// replaced one until its overlap ends.
    pub fn accepted(&self) -> Vec<SecretString> {
        let state = self.read();
        let now = Instant::now();
        std::iter::once(state.current.clone())
            .chain(
                state
                    .previous
                    .iter()
                    .filter(|(_, until)| now < *until)
                    .map(|(secret, _)| secret.clone()),
            )
            .collect()
    }

    /// Whether `presented` is an accepted secret, compared without stopping
    /// at the first difference.
    pub fn accepts(&self, presented: &[u8]) -> bool {
        self.accepted().iter().fold(false, |found, secret| {
            same_secret(presented, secret.expose_secret().as_bytes()) | found
        })
    }

    /// Puts `new` in force; the one it replaces is accepted for `overlap`
    /// more (at most [`MAX_OVERLAP`]). The same value again changes nothing.
    /// Returns whether it rotated.
    pub fn rotate(&self, new: SecretString, overlap: Duration) -> bool {
        let now = Instant::now();
        let until = now.checked_add(overlap.min(MAX_OVERLAP)).unwrap_or(now);
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        if state.current.expose_secret() == new.expose_secret() {
            return false;
        }
        let old = std::mem::replace(&mut state.current, new);
        state.previous.retain(|(_, ends)| now < *ends);
        state.previous.insert(0, (old, until));
        state.previous.truncate(MAX_PREVIOUS);
        true
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Generations> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// The SMS gateway's token as given (setting or file): trimmed, and None
/// when shorter than 16 characters.
pub fn gateway_token(text: &str) -> Option<SecretString> {
    let text = text.trim();
    (text.len() >= 16).then(|| SecretString::from(text.to_string()))
}

/// Reads a mounted secret file: at most 64 KiB, one trailing line break
/// dropped (editors and `kubectl create secret` leave one).
pub fn read_secret_file(path: &std::path::Path) -> Result<String, String> {
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if metadata.len() > 64 * 1024 {
        return Err(format!("{} is larger than 64 KiB", path.display()));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_string())
    }

    #[test]
    fn the_old_secret_is_accepted_only_for_the_overlap() {
        let rotating = RotatingSecret::from(secret("old-secret"));
        assert!(rotating.accepts(b"old-secret"));
        assert!(rotating.rotate(secret("new-secret"), Duration::from_secs(60)));
        assert_eq!(rotating.current().expose_secret(), "new-secret");
        assert!(rotating.accepts(b"new-secret") && rotating.accepts(b"old-secret"));
        assert!(!rotating.accepts(b"other"));
        // The same value again is no rotation and keeps the overlap.
        assert!(!rotating.rotate(secret("new-secret"), Duration::ZERO));
        assert!(rotating.accepts(b"old-secret"));
        // A second rotation within the overlap keeps the first secret too.
        assert!(rotating.rotate(secret("newer-secret"), Duration::from_secs(60)));
        assert!(rotating.accepts(b"old-secret") && rotating.accepts(b"new-secret"));
        // No overlap: the one replaced is refused at once; an overlap no
        // clock can hold is bounded, not a panic.
        assert!(rotating.rotate(secret("newest-secret"), Duration::ZERO));
        assert!(!rotating.accepts(b"newer-secret"));
        assert!(rotating.accepts(b"newest-secret"));
        assert!(rotating.rotate(secret("last-secret"), Duration::MAX));
        assert!(rotating.accepts(b"newest-secret"));
    }

    #[test]
    fn a_secret_file_loses_its_trailing_line_break_only() {
        let dir = std::env::temp_dir().join(format!("facesign-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "s3cret \r\n").unwrap();
        assert_eq!(read_secret_file(&path).unwrap(), "s3cret ");
        std::fs::write(&path, "two\nlines\n").unwrap();
        assert_eq!(read_secret_file(&path).unwrap(), "two\nlines");
        assert!(read_secret_file(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
