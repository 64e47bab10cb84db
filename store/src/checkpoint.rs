//! Signed checkpoints of the log (issue 36 item 1, docs/evidence.md): on a
//! cadence and at a graceful stop, the heads (sequence and chained hash) of
//! every aggregate changed since the previous checkpoint are committed to by
//! a Merkle root, and a body naming that root, the log range and the previous
//! checkpoint is signed with the bank's Ed25519 key. `verify` then proves,
//! for everything a checkpoint covers, that no event was altered, inserted,
//! removed or reordered, and that no aggregate disappeared.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use domain::log::{EventLogReader as _, LogPosition};
use futures_util::TryStreamExt as _;
use ring::signature::{Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::chain::{hex, raw_event, RawEvent, RawRow, GENESIS};
use crate::database::{StoreError, StorePool};
use crate::global_log::GlobalLog;

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410).
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Events a checkpoint reads from the log at most; the next one goes on.
const MOST_EVENTS_PER_CHECKPOINT: usize = 200_000;

fn pem_der(pem: &str, label: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem
        .find(&begin)
        .ok_or_else(|| format!("not a PEM {label}"))?;
    let body = &pem[start + begin.len()..];
    let stop = body
        .find(&end)
        .ok_or_else(|| format!("the PEM {label} does not end"))?;
    let text: String = body[..stop].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("the PEM {label} is not base64: {e}"))
}

/// The key checkpoints are signed with (FACESIGN_LOG_SIGNING_KEY_FILE: an
/// Ed25519 private key, PKCS#8 PEM, as `openssl genpkey -algorithm ed25519`
/// writes it).
pub struct LogSigningKey {
    pair: Ed25519KeyPair,
}

impl LogSigningKey {
    /// Reads a PKCS#8 PEM private key.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let der = pem_der(pem, "PRIVATE KEY")?;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map_err(|e| format!("not an Ed25519 private key: {e}"))?;
        Ok(Self { pair })
    }

    /// The public half, to publish.
    pub fn public_key(&self) -> LogPublicKey {
        let mut key = [0; 32];
        key.copy_from_slice(self.pair.public_key().as_ref());
        LogPublicKey(key)
    }

    fn sign(&self, body: &[u8]) -> Vec<u8> {
        self.pair.sign(body).as_ref().to_vec()
    }
}

/// A public key checkpoints are verified with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPublicKey([u8; 32]);

impl LogPublicKey {
    /// Reads an SPKI PEM public key (`openssl pkey -pubout`, or `GET /log/public-key`).
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let der = pem_der(pem, "PUBLIC KEY")?;
        match der.strip_prefix(&SPKI_PREFIX[..]) {
            Some(key) if key.len() == 32 => {
                let mut bytes = [0; 32];
                bytes.copy_from_slice(key);
                Ok(Self(bytes))
            }
            _ => Err("not an Ed25519 public key".to_string()),
        }
    }

    /// The SPKI PEM text.
    pub fn to_pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.0);
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    }

    /// A short name of the key: the first 16 hex digits of its SHA-256.
    pub fn key_id(&self) -> String {
        hex(&Sha256::digest(self.0)[..8])
    }

    fn verifies(&self, body: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, self.0)
            .verify(body, signature)
            .is_ok()
    }
}

/// An aggregate's head as a checkpoint covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The aggregate's type.
    pub aggregate_type: String,
    /// The aggregate's id.
    pub aggregate_id: String,
    /// Its last event's sequence at the checkpoint.
    pub sequence: i64,
    /// That event's chained hash.
    pub hash: [u8; 32],
}

impl Head {
    fn leaf(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update([0u8]);
        for field in [self.aggregate_type.as_bytes(), self.aggregate_id.as_bytes()] {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field);
        }
        hasher.update(self.sequence.to_be_bytes());
        hasher.update(self.hash);
        hasher.finalize().into()
    }
}

/// The Merkle root over `heads` sorted by aggregate (leaves tagged 0, inner
/// nodes 1; an odd node is carried up as it is).
pub fn merkle_root(heads: &[Head]) -> [u8; 32] {
    let mut sorted: Vec<&Head> = heads.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.aggregate_type, &a.aggregate_id).cmp(&(&b.aggregate_type, &b.aggregate_id))
    });
    let mut level: Vec<[u8; 32]> = sorted.iter().map(|h| h.leaf()).collect();
    if level.is_empty() {
        return GENESIS;
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => {
                    let mut hasher = Sha256::new();
                    hasher.update([1u8]);
                    hasher.update(left);
                    hasher.update(right);
                    hasher.finalize().into()
                }
                [single] => *single,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    level[0]
}

/// What a checkpoint signs (its JSON text, as stored, is what is signed).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CheckpointBody {
    /// 1, 2, … without gaps.
    pub number: i64,
    /// SHA-256 (hex) of the previous checkpoint's body; empty for the first.
    pub previous: String,
    /// The log position it starts after (`tx:position`).
    pub from: String,
    /// The last log position it covers.
    pub to: String,
    /// How many aggregates it covers.
    pub aggregates: usize,
    /// The Merkle root (hex) over their heads.
    pub root: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// The signing key's id ([`LogPublicKey::key_id`]).
    pub key_id: String,
}

/// A stored checkpoint.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// Its number.
    pub number: i64,
    /// The signed JSON text.
    pub body: String,
    /// The Ed25519 signature over `body`.
    pub signature: Vec<u8>,
}

/// The chain head of an aggregate at `sequence`, from the stored hash or,
/// for events stored before hashing began, recomputed from the start.
async fn head_hash(
    pool: &StorePool,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: i64,
) -> Result<[u8; 32], StoreError> {
    const STORED: &str = "SELECT hash FROM events
                           WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3";
    let stored: Option<Option<Vec<u8>>> = match pool {
        StorePool::Postgres(pool) => {
            sqlx::query_scalar(STORED)
                .bind(aggregate_type)
                .bind(aggregate_id)
                .bind(sequence)
                .fetch_optional(pool)
                .await?
        }
        StorePool::Sqlite(pool) => {
            sqlx::query_scalar(STORED)
                .bind(aggregate_type)
                .bind(aggregate_id)
                .bind(sequence)
                .fetch_optional(pool)
                .await?
        }
    };
    if let Some(hash) = stored.flatten().and_then(|h| <[u8; 32]>::try_from(h).ok()) {
        return Ok(hash);
    }
    let mut previous = GENESIS;
    let mut rows = raw_events(pool, Some((aggregate_type, aggregate_id)));
    while let Some(row) = rows.try_next().await? {
        if row.sequence > sequence {
            break;
        }
        previous = row.next_in_chain(&previous);
        if row.sequence == sequence {
            return Ok(previous);
        }
    }
    Err(StoreError::Corrupt {
        aggregate_type: aggregate_type.to_string(),
        aggregate_id: aggregate_id.to_string(),
        sequence,
        reason: "the event a checkpoint is to cover is not in the log".to_string(),
    })
}

/// Every event (or one aggregate's) in aggregate and sequence order, streamed.
pub fn raw_events<'a>(
    pool: &'a StorePool,
    aggregate: Option<(&'a str, &'a str)>,
) -> futures_util::stream::BoxStream<'a, Result<RawEvent, StoreError>> {
    use futures_util::StreamExt as _;
    macro_rules! select {
        ($payload:literal, $filter:literal) => {
            concat!(
                "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, ",
                $payload,
                ", hash FROM events",
                $filter,
                " ORDER BY aggregate_type, aggregate_id, sequence"
            )
        };
    }
    let rows = match (pool, aggregate) {
        (StorePool::Postgres(pool), None) => {
            sqlx::query_as::<_, RawRow>(select!("payload::text, metadata::text", "")).fetch(pool)
        }
        (StorePool::Postgres(pool), Some((t, i))) => sqlx::query_as::<_, RawRow>(select!(
            "payload::text, metadata::text",
            " WHERE aggregate_type = $1 AND aggregate_id = $2"
        ))
        .bind(t)
        .bind(i)
        .fetch(pool),
        (StorePool::Sqlite(pool), None) => {
            sqlx::query_as::<_, RawRow>(select!("payload, metadata", "")).fetch(pool)
        }
        (StorePool::Sqlite(pool), Some((t, i))) => sqlx::query_as::<_, RawRow>(select!(
            "payload, metadata",
            " WHERE aggregate_type = $1 AND aggregate_id = $2"
        ))
        .bind(t)
        .bind(i)
        .fetch(pool),
    };
    rows.map(|row| row.map_err(StoreError::Database).and_then(raw_event))
        .boxed()
}

/// The newest stored checkpoint, if any.
async fn latest(pool: &StorePool) -> Result<Option<Checkpoint>, StoreError> {
    const SQL: &str =
        "SELECT number, body, signature FROM log_checkpoints ORDER BY number DESC LIMIT 1";
    let row: Option<(i64, String, Vec<u8>)> = match pool {
        StorePool::Postgres(pool) => sqlx::query_as(SQL).fetch_optional(pool).await?,
        StorePool::Sqlite(pool) => sqlx::query_as(SQL).fetch_optional(pool).await?,
    };
    Ok(row.map(|(number, body, signature)| Checkpoint {
        number,
        body,
        signature,
    }))
}

/// Writes the next checkpoint over what the log gained since the last one;
/// its number, or none when nothing was new (or another instance wrote that
/// number first).
pub async fn write_checkpoint(
    pool: &StorePool,
    log: &GlobalLog,
    key: &LogSigningKey,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<i64>, StoreError> {
    let previous = latest(pool).await?;
    let (number, previous_hash, from) = match &previous {
        None => (1, String::new(), LogPosition::START),
        Some(checkpoint) => {
            let body: CheckpointBody =
                serde_json::from_str(&checkpoint.body).map_err(|e| StoreError::Corrupt {
                    aggregate_type: "log_checkpoint".to_string(),
                    aggregate_id: checkpoint.number.to_string(),
                    sequence: 0,
                    reason: format!("body: {e}"),
                })?;
            let from = body.to.parse().map_err(|e| StoreError::Corrupt {
                aggregate_type: "log_checkpoint".to_string(),
                aggregate_id: checkpoint.number.to_string(),
                sequence: 0,
                reason: format!("to: {e}"),
            })?;
            (
                checkpoint.number + 1,
                hex(&Sha256::digest(checkpoint.body.as_bytes())),
                from,
            )
        }
    };
    // The log in commit order (below every open transaction), so no event
    // can later commit inside a signed range.
    let mut heads: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut to = from;
    let mut read = 0;
    while read < MOST_EVENTS_PER_CHECKPOINT {
        let events = log.read_after(to, 1000).await?;
        let Some(last) = events.last() else { break };
        to = last.position;
        read += events.len();
        for event in events {
            let sequence = heads
                .entry((event.aggregate_type.clone(), event.aggregate_id.clone()))
                .or_insert(0);
            *sequence = (*sequence).max(event.sequence);
        }
    }
    if heads.is_empty() {
        return Ok(None);
    }
    let mut covered = Vec::with_capacity(heads.len());
    for ((aggregate_type, aggregate_id), sequence) in heads {
        let hash = head_hash(pool, &aggregate_type, &aggregate_id, sequence).await?;
        covered.push(Head {
            aggregate_type,
            aggregate_id,
            sequence,
            hash,
        });
    }
    let body = CheckpointBody {
        number,
        previous: previous_hash,
        from: from.to_string(),
        to: to.to_string(),
        aggregates: covered.len(),
        root: hex(&merkle_root(&covered)),
        created_at: domain::log::rfc3339(now),
        key_id: key.public_key().key_id(),
    };
    let text = serde_json::to_string(&body).expect("a checkpoint body serializes");
    let signature = key.sign(text.as_bytes());
    let stored = match pool {
        StorePool::Postgres(pool) => insert_checkpoint!(pool, number, &text, &signature, &covered),
        StorePool::Sqlite(pool) => insert_checkpoint!(pool, number, &text, &signature, &covered),
    };
    Ok(stored.then_some(number))
}

/// Inserts a checkpoint and its heads in one transaction; false when that
/// number is taken (another instance wrote it).
macro_rules! insert_checkpoint {
    ($pool:expr, $number:expr, $body:expr, $signature:expr, $heads:expr) => {{
        let mut tx = $pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO log_checkpoints (number, body, signature) VALUES ($1, $2, $3)
             ON CONFLICT (number) DO NOTHING",
        )
        .bind($number)
        .bind($body)
        .bind($signature)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            for head in $heads {
                sqlx::query(
                    "INSERT INTO log_checkpoint_heads
                         (number, aggregate_type, aggregate_id, sequence, hash)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind($number)
                .bind(&head.aggregate_type)
                .bind(&head.aggregate_id)
                .bind(head.sequence)
                .bind(&head.hash[..])
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
        inserted
    }};
}
use insert_checkpoint;

/// Every head a checkpoint covers, by aggregate: (sequence, hash, checkpoint).
type Covered = HashMap<(String, String), Vec<(i64, [u8; 32], i64)>>;

/// What `verify` found.
#[derive(Debug, Default)]
pub struct Verification {
    /// Events read.
    pub events: u64,
    /// Aggregates read.
    pub aggregates: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Aggregate heads the checkpoints cover.
    pub covered: u64,
    /// Every failure, the first first.
    pub failures: Vec<String>,
}

/// Checks the checkpoints (signatures by one of `keys`, numbering, links,
/// roots) and every aggregate's chain against its stored hashes and against
/// every head a checkpoint covers; `progress` hears the events read so far.
pub async fn verify(
    pool: &StorePool,
    keys: &[LogPublicKey],
    mut progress: impl FnMut(u64),
) -> Result<Verification, StoreError> {
    let mut found = Verification::default();
    // The checkpoints, in order, and the heads each covers.
    let checkpoints: Vec<(i64, String, Vec<u8>)> = {
        const SQL: &str = "SELECT number, body, signature FROM log_checkpoints ORDER BY number";
        match pool {
            StorePool::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await?,
            StorePool::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await?,
        }
    };
    let stored_heads: Vec<(i64, String, String, i64, Vec<u8>)> = {
        const SQL: &str = "SELECT number, aggregate_type, aggregate_id, sequence, hash
                             FROM log_checkpoint_heads";
        match pool {
            StorePool::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await?,
            StorePool::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await?,
        }
    };
    let mut heads_of: HashMap<i64, Vec<Head>> = HashMap::new();
    for (number, aggregate_type, aggregate_id, sequence, hash) in stored_heads {
        let Ok(hash) = <[u8; 32]>::try_from(hash) else {
            found.failures.push(format!(
                "checkpoint {number}: the head of {aggregate_type}/{aggregate_id} is not a 32-byte hash"
            ));
            continue;
        };
        heads_of.entry(number).or_default().push(Head {
            aggregate_type,
            aggregate_id,
            sequence,
            hash,
        });
    }
    let mut previous: Option<(String, CheckpointBody)> = None;
    for (expected, (number, text, signature)) in (1..).zip(&checkpoints) {
        found.checkpoints += 1;
        let name = format!("checkpoint {number}");
        if *number != expected {
            found.failures.push(format!(
                "{name}: checkpoint {expected} is missing (numbers must run 1, 2, …)"
            ));
        }
        let Ok(body) = serde_json::from_str::<CheckpointBody>(text) else {
            found
                .failures
                .push(format!("{name}: the body is not a checkpoint"));
            continue;
        };
        match keys.iter().find(|k| k.key_id() == body.key_id) {
            None => found.failures.push(format!(
                "{name}: signed by key {}, which is not among the keys given",
                body.key_id
            )),
            Some(key) if !key.verifies(text.as_bytes(), signature) => found
                .failures
                .push(format!("{name}: the signature does not match its body")),
            Some(_) => {}
        }
        if body.number != *number {
            found
                .failures
                .push(format!("{name}: its body names number {}", body.number));
        }
        let (previous_hash, previous_to) = match &previous {
            None => (String::new(), LogPosition::START.to_string()),
            Some((text, body)) => (hex(&Sha256::digest(text.as_bytes())), body.to.clone()),
        };
        if body.previous != previous_hash || body.from != previous_to {
            found.failures.push(format!(
                "{name}: it does not follow the checkpoint before it (a checkpoint removed or replaced)"
            ));
        }
        let heads = heads_of.get(number).map(Vec::as_slice).unwrap_or_default();
        if heads.len() != body.aggregates || hex(&merkle_root(heads)) != body.root {
            found.failures.push(format!(
                "{name}: the heads stored with it do not match its signed root"
            ));
        }
        previous = Some((text.clone(), body));
    }
    // Every head a checkpoint covers, by aggregate: (sequence, hash, number).
    let mut covered: Covered = HashMap::new();
    for (number, heads) in heads_of {
        for head in heads {
            found.covered += 1;
            covered
                .entry((head.aggregate_type, head.aggregate_id))
                .or_default()
                .push((head.sequence, head.hash, number));
        }
    }
    for list in covered.values_mut() {
        list.sort();
    }

    // Every aggregate's chain, in one pass over the log.
    let mut rows = raw_events(pool, None);
    let mut current: Option<AggregateCheck> = None;
    while let Some(row) = rows.try_next().await? {
        found.events += 1;
        if found.events % 100_000 == 0 {
            progress(found.events);
        }
        let same = current.as_ref().is_some_and(|c| {
            c.aggregate_type == row.aggregate_type && c.aggregate_id == row.aggregate_id
        });
        if !same {
            if let Some(done) = current.take() {
                done.finish(&mut found.failures);
            }
            found.aggregates += 1;
            current = Some(AggregateCheck::new(&row, &mut covered));
        }
        current
            .as_mut()
            .expect("an aggregate under check")
            .next(&row, &mut found.failures);
    }
    if let Some(done) = current.take() {
        done.finish(&mut found.failures);
    }
    // Aggregates a checkpoint covers that the log no longer holds at all.
    let mut gone: Vec<_> = covered.into_iter().collect();
    gone.sort();
    for ((aggregate_type, aggregate_id), heads) in gone {
        if let Some((sequence, _, number)) = heads.last() {
            found.failures.push(format!(
                "{aggregate_type}/{aggregate_id}: removed from the log; checkpoint {number} covers it up to sequence {sequence}"
            ));
        }
    }
    Ok(found)
}

/// The walk along one aggregate's chain.
struct AggregateCheck {
    aggregate_type: String,
    aggregate_id: String,
    /// The heads checkpoints signed for it: (sequence, hash, checkpoint).
    signed: Vec<(i64, [u8; 32], i64)>,
    expected: i64,
    previous: [u8; 32],
    failed: bool,
}

impl AggregateCheck {
    /// The walk starting at `row`, taking the heads signed for its aggregate
    /// out of `covered` (what stays there was removed from the log).
    fn new(row: &RawEvent, covered: &mut Covered) -> Self {
        let key = (row.aggregate_type.clone(), row.aggregate_id.clone());
        let signed = covered.remove(&key).unwrap_or_default();
        let (aggregate_type, aggregate_id) = key;
        Self {
            aggregate_type,
            aggregate_id,
            signed,
            expected: 1,
            previous: GENESIS,
            failed: false,
        }
    }

    fn name(&self) -> String {
        format!("{}/{}", self.aggregate_type, self.aggregate_id)
    }

    fn fail(&mut self, failures: &mut Vec<String>, what: String) {
        // The first break of a chain names where it is; what follows it
        // breaks with it and would only repeat that.
        if !self.failed {
            failures.push(format!("{}: {what}", self.name()));
            self.failed = true;
        }
    }

    fn next(&mut self, row: &RawEvent, failures: &mut Vec<String>) {
        if row.sequence != self.expected {
            let what = if row.sequence > self.expected {
                format!(
                    "sequence {} is missing (the log goes on at {})",
                    self.expected, row.sequence
                )
            } else {
                format!("sequence {} appears out of order", row.sequence)
            };
            self.fail(failures, what);
        }
        let hash = row.chained().hash(&self.previous);
        if row.stored_hash.is_some_and(|stored| stored != hash) {
            self.fail(
                failures,
                format!(
                    "sequence {} was altered, inserted or moved (its hash does not match what was written)",
                    row.sequence
                ),
            );
        }
        let differs = self
            .signed
            .iter()
            .find(|(sequence, signed, _)| *sequence == row.sequence && *signed != hash)
            .map(|(sequence, _, number)| (*sequence, *number));
        if let Some((sequence, number)) = differs {
            self.fail(
                failures,
                format!(
                    "the events up to sequence {sequence} differ from what checkpoint {number} signed (altered, inserted, removed or reordered at or before it)"
                ),
            );
        }
        self.expected = row.sequence + 1;
        self.previous = hash;
    }

    fn finish(mut self, failures: &mut Vec<String>) {
        let last = self.expected - 1;
        let beyond = self
            .signed
            .iter()
            .rev()
            .find(|(s, _, _)| *s > last)
            .copied();
        if let Some((sequence, _, number)) = beyond {
            self.fail(
                failures,
                format!(
                    "sequence {} is missing: checkpoint {number} covers it up to {sequence}, the log ends at {last}",
                    last + 1
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(id: &str, sequence: i64) -> Head {
        Head {
            aggregate_type: "interview-task".to_string(),
            aggregate_id: id.to_string(),
            sequence,
            hash: [sequence as u8; 32],
        }
    }

    #[test]
    fn the_root_depends_on_every_head_and_not_on_their_order() {
        let heads = [head("A", 1), head("B", 2), head("C", 3)];
        let root = merkle_root(&heads);
        assert_eq!(
            root,
            merkle_root(&[head("C", 3), head("A", 1), head("B", 2)])
        );
        assert_ne!(root, merkle_root(&heads[..2]));
        assert_ne!(
            root,
            merkle_root(&[head("A", 1), head("B", 2), head("C", 4)])
        );
        assert_ne!(merkle_root(&[head("A", 1)]), GENESIS);
    }

    #[test]
    fn a_key_signs_and_only_its_public_key_verifies() {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref())
        );
        let key = LogSigningKey::from_pem(&pem).unwrap();
        let public = LogPublicKey::from_pem(&key.public_key().to_pem()).unwrap();
        assert_eq!(public, key.public_key());
        let signature = key.sign(b"body");
        assert!(public.verifies(b"body", &signature));
        assert!(!public.verifies(b"bodY", &signature));
        assert!(LogSigningKey::from_pem("not a key").is_err());
    }
}
