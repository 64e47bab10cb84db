//! Idempotency keys: the same key from the same caller gets the first outcome
//! and never runs a command twice, across restarts and instances.
//!
//! Two tables hold it. `idempotency_keys` has one row per caller and key: held
//! `IN_FLIGHT` by the request running it (until `locked_until`, so a crashed
//! instance's claim lapses) and `DONE` with the answer once answered.
//! `idempotent_commands` has one row per command the keyed request committed,
//! written by the command bus in the command's own transaction: a retry whose
//! first attempt committed but never answered (a lost connection, a crash, a
//! deadline) is handed the stored receipt instead of running the command again,
//! and the ids it generates are derived from the key, so it addresses the same
//! aggregates as the first attempt.

use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use chrono::{DateTime, Duration, Utc};
use domain::log::rfc3339;
use sqlx::AnyPool;
use uuid::Uuid;

/// A keyed request in progress: who sent it, its key, and its counters of
/// commands sent and ids drawn, which make a retry retrace the first attempt.
#[derive(Debug)]
pub struct IdempotentRequest {
    /// The caller's id (token subject).
    pub actor_id: String,
    /// The caller's role.
    pub actor_role: String,
    /// The `Idempotency-Key` as sent.
    pub key: String,
    steps: AtomicU32,
    ids: AtomicU32,
    id_scheme: AtomicU8,
}

/// How ids are derived from a key. A key keeps the scheme it was first claimed
/// under (`idempotency_keys.id_scheme`), so a retry that straddles an upgrade
/// still addresses what its first attempt created.
pub const ID_SCHEME_JOINED: u8 = 1;
/// Parts length-prefixed (issue 31): a subject holding `:` cannot collide with
/// another caller's key. Every key claimed since is derived this way.
pub const ID_SCHEME_LENGTH_PREFIXED: u8 = 2;

impl IdempotentRequest {
    /// A request keyed `key` by the caller `actor_id` in `actor_role`.
    pub fn new(actor_id: &str, actor_role: &str, key: &str) -> Self {
        Self {
            actor_id: actor_id.to_string(),
            actor_role: actor_role.to_string(),
            key: key.to_string(),
            steps: AtomicU32::new(0),
            ids: AtomicU32::new(0),
            id_scheme: AtomicU8::new(ID_SCHEME_LENGTH_PREFIXED),
        }
    }

    /// Derives ids the way the key's first claim did.
    fn use_id_scheme(&self, scheme: u8) {
        self.id_scheme.store(scheme, Ordering::SeqCst);
    }

    /// The number of the next command this request sends (0, 1, …).
    pub fn next_step(&self) -> u32 {
        self.steps.fetch_add(1, Ordering::SeqCst)
    }

    /// The next new id this request needs, the same on every attempt.
    pub fn next_id(&self) -> Uuid {
        let n = self.ids.fetch_add(1, Ordering::SeqCst);
        if self.id_scheme.load(Ordering::SeqCst) == ID_SCHEME_JOINED {
            return domain::services::derived_id(&format!(
                "idempotency:{}:{}:{}:{n}",
                self.actor_role, self.actor_id, self.key
            ));
        }
        domain::services::derived_id_of_parts(&[
            "idempotency",
            &self.actor_role,
            &self.actor_id,
            &self.key,
            &n.to_string(),
        ])
    }
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's now: run it (committed steps are replayed).
    Granted,
    /// The key was answered before: here is the answer, as sent.
    Answered {
        /// HTTP status of the first answer.
        status: u16,
        /// Its body.
        body: String,
    },
    /// Another request with this key is running.
    InFlight,
    /// The key was used with a different request.
    Mismatch,
}

/// The `idempotency_keys` table, through the read-model pool.
#[derive(Debug, Clone)]
pub struct IdempotencyStore {
    pool: AnyPool,
    retention: Duration,
}

const CLAIM_NEW: &str = "
INSERT INTO idempotency_keys (actor_id, actor_role, idempotency_key, request_hash, state,
                              locked_until, created_at, expires_at, id_scheme)
VALUES ($1, $2, $3, $4, 'IN_FLIGHT', $5, $6, $7, 2)
ON CONFLICT (actor_id, actor_role, idempotency_key) DO NOTHING";

/// Takes over a claim whose request died (crash, cancellation) before answering.
const CLAIM_LAPSED: &str = "
UPDATE idempotency_keys SET locked_until = $5
 WHERE actor_id = $1 AND actor_role = $2 AND idempotency_key = $3 AND request_hash = $4
   AND state = 'IN_FLIGHT' AND locked_until <= $6 AND expires_at > $6";

/// Starts afresh on a key whose retention is over.
const CLAIM_EXPIRED: &str = "
UPDATE idempotency_keys
   SET request_hash = $4, state = 'IN_FLIGHT', locked_until = $5, http_status = NULL,
       response = NULL, created_at = $6, expires_at = $7, id_scheme = 2
 WHERE actor_id = $1 AND actor_role = $2 AND idempotency_key = $3 AND expires_at <= $6";

impl IdempotencyStore {
    /// A store keeping answers for `retention`.
    pub fn new(pool: AnyPool, retention: Duration) -> Self {
        Self { pool, retention }
    }

    /// Claims `request`'s key for a run that may last until `locked_until`.
    pub async fn claim(
        &self,
        request: &IdempotentRequest,
        request_hash: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
    ) -> Result<Claim, sqlx::Error> {
        let (now_text, until) = (rfc3339(now), rfc3339(locked_until));
        let expires = rfc3339(now + self.retention);
        let bind = |sql| {
            sqlx::query(sql)
                .bind(request.actor_id.clone())
                .bind(request.actor_role.clone())
                .bind(request.key.clone())
                .bind(request_hash.to_string())
                .bind(until.clone())
                .bind(now_text.clone())
        };
        if bind(CLAIM_NEW)
            .bind(expires.clone())
            .execute(&self.pool)
            .await?
            .rows_affected()
            == 1
        {
            return Ok(Claim::Granted);
        }
        if bind(CLAIM_LAPSED)
            .execute(&self.pool)
            .await?
            .rows_affected()
            == 1
        {
            // The retry of a request that died: derive ids as its first attempt did.
            let (scheme,): (i64,) = sqlx::query_as(
                "SELECT id_scheme FROM idempotency_keys
                  WHERE actor_id = $1 AND actor_role = $2 AND idempotency_key = $3",
            )
            .bind(request.actor_id.clone())
            .bind(request.actor_role.clone())
            .bind(request.key.clone())
            .fetch_one(&self.pool)
            .await?;
            request.use_id_scheme(u8::try_from(scheme).unwrap_or(ID_SCHEME_LENGTH_PREFIXED));
            return Ok(Claim::Granted);
        }
        if bind(CLAIM_EXPIRED)
            .bind(expires)
            .execute(&self.pool)
            .await?
            .rows_affected()
            == 1
        {
            // The old request's receipts must not be replayed into this one.
            sqlx::query(
                "DELETE FROM idempotent_commands
                  WHERE actor_id = $1 AND actor_role = $2 AND idempotency_key = $3",
            )
            .bind(request.actor_id.clone())
            .bind(request.actor_role.clone())
            .bind(request.key.clone())
            .execute(&self.pool)
            .await?;
            return Ok(Claim::Granted);
        }
        let row: Option<(String, String, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT request_hash, state, http_status, response FROM idempotency_keys
              WHERE actor_id = $1 AND actor_role = $2 AND idempotency_key = $3",
        )
        .bind(request.actor_id.clone())
        .bind(request.actor_role.clone())
        .bind(request.key.clone())
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some((hash, _, _, _)) if hash != request_hash => Claim::Mismatch,
            Some((_, state, Some(status), Some(body))) if state == "DONE" => Claim::Answered {
                status: u16::try_from(status).unwrap_or(200),
                body,
            },
            // Held by a running request, or deleted by the purge just now.
            _ => Claim::InFlight,
        })
    }

    /// Records the answer: later requests with the key get it as it is.
    pub async fn answer(
        &self,
        request: &IdempotentRequest,
        status: u16,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE idempotency_keys
                SET state = 'DONE', http_status = $4, response = $5, locked_until = $6
              WHERE actor_id = $1 AND actor_role = $2 AND idempotency_key = $3
                AND state = 'IN_FLIGHT'",
        )
        .bind(request.actor_id.clone())
        .bind(request.actor_role.clone())
        .bind(request.key.clone())
        .bind(i64::from(status))
        .bind(body.to_string())
        .bind(rfc3339(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Lets the key go unanswered (the request failed on our side or was
    /// cancelled): a retry may claim it at once and replays what committed.
    pub async fn release(
        &self,
        request: &IdempotentRequest,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE idempotency_keys SET locked_until = $4
              WHERE actor_id = $1 AND actor_role = $2 AND idempotency_key = $3
                AND state = 'IN_FLIGHT'",
        )
        .bind(request.actor_id.clone())
        .bind(request.actor_role.clone())
        .bind(request.key.clone())
        .bind(rfc3339(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes keys and command receipts older than the retention; returns
    /// how many keys went.
    pub async fn purge(&self, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
        let now_text = rfc3339(now);
        let keys = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(now_text)
            .execute(&self.pool)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM idempotent_commands WHERE recorded_at <= $1")
            .bind(rfc3339(now - self.retention))
            .execute(&self.pool)
            .await?;
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_same_on_every_attempt_and_differ_by_key_and_caller() {
        let first = IdempotentRequest::new("M0001", "ACCOUNT_MANAGER", "k-1");
        let retry = IdempotentRequest::new("M0001", "ACCOUNT_MANAGER", "k-1");
        assert_eq!(
            (first.next_id(), first.next_id()),
            (retry.next_id(), retry.next_id())
        );
        let other_key = IdempotentRequest::new("M0001", "ACCOUNT_MANAGER", "k-2");
        let other_caller = IdempotentRequest::new("M0002", "ACCOUNT_MANAGER", "k-1");
        let id = IdempotentRequest::new("M0001", "ACCOUNT_MANAGER", "k-1").next_id();
        assert_ne!(id, other_key.next_id());
        assert_ne!(id, other_caller.next_id());
        assert_eq!((first.next_step(), first.next_step()), (0, 1));
    }

    /// Issue 31 item 8: `role:sub:key:n` joined by colons let the subject
    /// `a:b` with key `c` derive the ids of subject `a` with key `b:c`.
    #[test]
    fn a_colon_in_the_subject_or_key_cannot_make_two_callers_share_ids() {
        let one = IdempotentRequest::new("a:b", "CUSTOMER", "c");
        let other = IdempotentRequest::new("a", "CUSTOMER", "b:c");
        assert_ne!(one.next_id(), other.next_id());
        // The old scheme, kept for keys claimed before the upgrade, collides.
        let (one, other) = (
            IdempotentRequest::new("a:b", "CUSTOMER", "c"),
            IdempotentRequest::new("a", "CUSTOMER", "b:c"),
        );
        one.use_id_scheme(ID_SCHEME_JOINED);
        other.use_id_scheme(ID_SCHEME_JOINED);
        assert_eq!(one.next_id(), other.next_id());
    }
}
