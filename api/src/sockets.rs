//! GraphQL over WebSocket under the rules of HTTP (docs/security.md,
//! "WebSockets"): a socket must authenticate in `connection_init` within a
//! short time or it is closed; its operations count against the caller's
//! rate limit, as HTTP requests do; it carries at most so many operations at
//! once; an account and an address hold at most so many sockets; and a
//! socket whose account is kicked (踢出), disabled or given another role, or
//! whose token expires, is closed within the recheck interval.
//!
//! async-graphql's own driver cannot time out an unauthenticated socket or
//! close one from outside, so the protocol engine
//! (`async_graphql::http::WebSocket`) is driven here, beside those timers.

use domain::message::{message, Message as Said};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::futures_util::{future, SinkExt, StreamExt};
use async_graphql::http::{WebSocketProtocols, WsMessage};
use async_graphql::Data;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use axum::http::HeaderMap;

use crate::error::ApiError;
use crate::messages::{render, Language};
use crate::request::RequestContext;
use crate::schema::BoundedSchema;
use crate::state::AppState;
use domain::error::ErrorCode;

/// The bounds of GraphQL WebSockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketLimits {
    /// How long a socket may take to authenticate in `connection_init`.
    pub init_timeout: Duration,
    /// Operations (subscriptions, and queries or mutations while they run) on one socket.
    pub max_subscriptions: usize,
    /// Open sockets of one account (token subject and role), on one instance.
    pub max_per_account: usize,
    /// Open sockets from one address, authenticated or not, on one instance.
    pub max_per_address: usize,
    /// Open sockets in all on one instance: they hold HTTP connections the
    /// listener cannot evict, so they get at most half of its cap.
    pub max_total: usize,
    /// Sockets not yet authenticated, in all, on one instance.
    pub max_unauthenticated: usize,
    /// Sockets not yet authenticated from one address: a few addresses must
    /// not take every waiting place.
    pub max_unauthenticated_per_address: usize,
    /// How often an open socket's token and account are checked again.
    pub recheck_interval: Duration,
    /// Messages a socket may send in one second once authenticated, pings
    /// included (operations also spend the caller's rate limit).
    pub messages_per_second: u32,
}

impl Default for SocketLimits {
    fn default() -> Self {
        Self {
            init_timeout: Duration::from_secs(5),
            max_subscriptions: 20,
            max_per_account: 8,
            max_per_address: 64,
            max_total: 2_048,
            max_unauthenticated: 256,
            max_unauthenticated_per_address: 8,
            recheck_interval: Duration::from_secs(1),
            messages_per_second: 100,
        }
    }
}

/// Close codes of the GraphQL-over-WebSocket protocol (graphql-transport-ws).
pub mod close {
    /// The server is stopping.
    pub const GOING_AWAY: u16 = 1001;
    /// The token is refused, expired, or its account kicked, disabled or changed.
    pub const FORBIDDEN: u16 = 4403;
    /// `connection_init` did not come in time.
    pub const INIT_TIMEOUT: u16 = 4408;
    /// Too many sockets for the account.
    pub const TOO_MANY: u16 = 4429;
}

/// Open sockets per address and per account on this instance.
#[derive(Default)]
pub struct SocketRegistry {
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    by_address: HashMap<IpAddr, usize>,
    by_account: HashMap<String, usize>,
    total: usize,
    unauthenticated: usize,
    unauthenticated_by_address: HashMap<IpAddr, usize>,
}

/// A socket's place under a cap, given back when dropped.
pub struct Place {
    registry: Arc<SocketRegistry>,
    key: PlaceKey,
}

enum PlaceKey {
    Address(IpAddr),
    Account(String),
    Total,
    Unauthenticated(IpAddr),
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut counts = self
            .registry
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match &self.key {
            PlaceKey::Address(address) => release(&mut counts.by_address, address),
            PlaceKey::Account(account) => release(&mut counts.by_account, account),
            PlaceKey::Total => counts.total -= 1,
            PlaceKey::Unauthenticated(address) => {
                counts.unauthenticated -= 1;
                release(&mut counts.unauthenticated_by_address, address);
            }
        }
    }
}

fn release<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = counts.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(key);
        }
    }
}

fn take<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: K, max: usize) -> bool {
    let n = counts.entry(key).or_default();
    if *n >= max {
        return false;
    }
    *n += 1;
    true
}

/// The places a new socket holds until it closes; `unauthenticated` is
/// given back as soon as it authenticates.
pub struct Opened {
    _address: Place,
    _total: Place,
    unauthenticated: Option<Place>,
}

impl SocketRegistry {
    /// Places for one more socket from `address` (keyed as the caps key
    /// addresses, `crate::limits::address_key`): under the per-address, total
    /// and not-yet-authenticated caps; None over any.
    pub fn open(self: &Arc<Self>, address: IpAddr, limits: &SocketLimits) -> Option<Opened> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let waiting_here = counts
            .unauthenticated_by_address
            .get(&address)
            .copied()
            .unwrap_or(0);
        let here = counts.by_address.get(&address).copied().unwrap_or(0);
        if counts.total >= limits.max_total
            || counts.unauthenticated >= limits.max_unauthenticated
            || waiting_here >= limits.max_unauthenticated_per_address
            || here >= limits.max_per_address
        {
            return None;
        }
        take(&mut counts.by_address, address, usize::MAX);
        take(&mut counts.unauthenticated_by_address, address, usize::MAX);
        counts.total += 1;
        counts.unauthenticated += 1;
        let place = |key| Place {
            registry: self.clone(),
            key,
        };
        Some(Opened {
            _address: place(PlaceKey::Address(address)),
            _total: place(PlaceKey::Total),
            unauthenticated: Some(place(PlaceKey::Unauthenticated(address))),
        })
    }

    /// A place for one more socket of `account`; None over `max`.
    pub fn enter_account(self: &Arc<Self>, account: &str, max: usize) -> Option<Place> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        take(&mut counts.by_account, account.to_string(), max).then(|| Place {
            registry: self.clone(),
            key: PlaceKey::Account(account.to_string()),
        })
    }
}

/// What a socket's operations count against: the caller's rate limit and the
/// socket's cap on operations at once. In the session data of every socket.
pub struct SocketSession {
    /// The rate-limit key of the caller (the same as over HTTP).
    client: String,
    running: Arc<AtomicUsize>,
    max_running: usize,
}

/// An operation's place on its socket, given back when its stream ends.
pub struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl SocketSession {
    /// Admits one more operation: within the caller's rate and the socket's cap.
    pub fn admit(&self, doors: &crate::doors::Doors) -> Result<Running, ApiError> {
        if !doors.graphql_rate.allow(&self.client) {
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                crate::limits::rate_limited_message(),
            ));
        }
        let before = self.running.fetch_add(1, Ordering::SeqCst);
        let running = Running(self.running.clone());
        if before >= self.max_running {
            return Err(ApiError::new(ErrorCode::RateLimited, message!(
                    "this socket already runs {max} operations, the most allowed (FACESIGN_WS_MAX_SUBSCRIPTIONS); complete one first",
                    max = self.max_running
                )));
        }
        Ok(running)
    }
}

/// The rate-limit key of an authenticated caller (HTTP and sockets share it).
pub fn client_key(role: &str, sub: &str) -> String {
    format!("sub:{role}:{sub}")
}

/// How `connection_init` ended.
enum Init {
    /// Not yet; the place among the sockets waiting to authenticate, given
    /// back (dropped) the moment it ends either way.
    Waiting {
        _place: Option<Place>,
    },
    Accepted {
        context: Box<RequestContext>,
        _account: Place,
    },
    Refused {
        code: u16,
        reason: Said,
    },
}

/// The close frame of `code` with `reason` in the socket's language, cut to
/// the 123 bytes a close frame may carry.
fn closing(code: u16, reason: &Said, language: Language) -> Message {
    let reason = render(reason, language);
    let mut end = reason.len().min(120);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(reason[..end].to_string()),
    }))
}

/// Why an accepted socket may no longer stay open, if it may not.
async fn still_allowed(state: &AppState, context: &RequestContext) -> Result<(), Said> {
    if context.expires_at.is_some_and(crate::auth::expired) {
        return Err(message!("the bearer token has expired"));
    }
    // A console session ended elsewhere (logout, a step-up) closes its sockets.
    if let Some(session) = &context.console_session {
        if !crate::sign_in::session_open(state, session).await {
            return Err(message!("the console session has ended; sign in again"));
        }
    }
    // Only staff have accounts to kick or disable: a customer's or a
    // system's socket costs no account read (the cache would re-read their
    // absence every few seconds per socket).
    let staff = context
        .role()
        .is_some_and(|role| !role.is_system() && role != domain::role::Role::Customer);
    if !staff {
        return Ok(());
    }
    let checked = context
        .clone()
        .check_account(&state.accounts, state.database.read_models())
        .await;
    match checked.actor {
        Some(_) => Ok(()),
        None => Err(checked
            .auth_error
            .unwrap_or_else(|| message!("the bearer token is invalid or expired"))),
    }
}

/// Authenticates a socket from its `connection_init` payload (or the upgrade
/// request's header) and gives it its session data.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    payload: &serde_json::Value,
) -> Result<(RequestContext, Place, Data), (u16, Said)> {
    // A console signed in through the provider sends its session's CSRF
    // token here; its cookie came with the upgrade.
    let csrf = payload.get("csrf").and_then(|v| v.as_str());
    let chosen_role = payload.get("role").and_then(|v| v.as_str());
    let header_context = RequestContext::from_credentials(headers, state, csrf, chosen_role).await;
    let token = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .or_else(|| payload.get("token"))
        .and_then(|v| v.as_str());
    let context = match token {
        Some(token) => {
            RequestContext::for_token(
                Some(token),
                chosen_role,
                &state.tokens,
                header_context.request_id.clone(),
                header_context.correlation_id.clone(),
            )
            .await
        }
        None => header_context,
    };
    let context = context
        .check_account(&state.accounts, state.database.read_models())
        .await;
    let Some(actor) = context.actor.clone() else {
        let reason = context
            .auth_error
            .clone()
            .unwrap_or_else(|| message!("a bearer token is required"));
        return Err((close::FORBIDDEN, reason));
    };
    let account = client_key(&actor.role, &actor.id);
    let place = state
        .doors
        .sockets
        .enter_account(&account, state.config.sockets.max_per_account)
        .ok_or_else(|| {
            let max = state.config.sockets.max_per_account;
            (
                close::TOO_MANY,
                message!("this account already has {max} open sockets, the most allowed (FACESIGN_WS_MAX_PER_ACCOUNT)"),
            )
        })?;
    let mut data = Data::default();
    data.insert(context.clone());
    data.insert(SocketSession {
        client: account,
        running: Arc::default(),
        max_running: state.config.sockets.max_subscriptions,
    });
    // A browser cannot set headers on a socket: the console names its language here.
    if let Some(accept) = payload.get("acceptLanguage").and_then(|v| v.as_str()) {
        data.insert(Language::parse(accept));
    }
    Ok((context, place, data))
}

async fn stopped(signal: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = signal.wait_for(|stop| *stop).await;
}

/// Serves one upgraded socket until the client leaves, the socket breaks a
/// rule, or the server stops. `opened` holds its places under the caps.
pub async fn serve(
    socket: WebSocket,
    protocol: WebSocketProtocols,
    executor: BoundedSchema,
    state: AppState,
    headers: HeaderMap,
    mut opened: Opened,
) {
    let limits = state.config.sockets;
    let language = Language::of(&headers);
    let init = Arc::new(Mutex::new(Init::Waiting {
        _place: opened.unauthenticated.take(),
    }));
    let (mut sink, stream) = socket.split();
    // What the client sends is bounded too: a few messages before it
    // authenticates, and a steady rate after (pings included); past either,
    // the input ends and the socket is closed.
    let flooded = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut pace = Pace::new(limits.messages_per_second);
    let input = {
        let (init, flooded) = (init.clone(), flooded.clone());
        stream
            .take_while(|message| future::ready(message.is_ok()))
            // Every frame counts, WebSocket pings included.
            .take_while(move |_| {
                let waiting = matches!(
                    *init.lock().unwrap_or_else(|e| e.into_inner()),
                    Init::Waiting { .. }
                );
                let within = pace.admit(waiting);
                if !within {
                    flooded.store(true, Ordering::SeqCst);
                }
                future::ready(within)
            })
            .filter_map(|message| {
                future::ready(match message {
                    Ok(message @ (Message::Text(_) | Message::Binary(_))) => {
                        Some(message.into_data())
                    }
                    _ => None,
                })
            })
    };
    let on_init = {
        let (state, init) = (state.clone(), init.clone());
        move |payload: serde_json::Value| async move {
            let outcome = authenticate(&state, &headers, &payload).await;
            let mut init = init.lock().unwrap_or_else(|e| e.into_inner());
            match outcome {
                Ok((context, place, data)) => {
                    *init = Init::Accepted {
                        context: Box::new(context),
                        _account: place,
                    };
                    Ok(data)
                }
                Err((code, reason)) => {
                    *init = Init::Refused {
                        code,
                        reason: reason.clone(),
                    };
                    Err(async_graphql::Error::new(render(&reason, language)))
                }
            }
        }
    };
    let engine =
        async_graphql::http::WebSocket::new(executor, input, protocol).on_connection_init(on_init);
    // Boxed, so that it can be dropped (ending every operation's stream)
    // before the close frame goes out.
    let mut engine = Box::pin(engine);
    let deadline = tokio::time::sleep(limits.init_timeout);
    tokio::pin!(deadline);
    let mut recheck = tokio::time::interval(limits.recheck_interval);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut draining = state.draining.clone();
    let accepted_context = || match &*init.lock().unwrap_or_else(|e| e.into_inner()) {
        Init::Accepted { context, .. } => Some(RequestContext::clone(context)),
        _ => None,
    };
    let refused = || match &*init.lock().unwrap_or_else(|e| e.into_inner()) {
        Init::Refused { code, reason } => Some((*code, reason.clone())),
        _ => None,
    };
    let last = loop {
        let accepted = accepted_context();
        tokio::select! {
            message = engine.next() => match message {
                Some(WsMessage::Text(text)) => {
                    // A client that stops reading is dropped, not waited for:
                    // nothing else of the socket's rules would run meanwhile.
                    let sent = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Text(text.into()))).await;
                    if !matches!(sent, Ok(Ok(()))) {
                        return;
                    }
                }
                _ if flooded.load(Ordering::SeqCst) => {
                    break closing(close::TOO_MANY, &message!("the socket sent too many messages"), language);
                }
                Some(WsMessage::Close(code, reason)) => {
                    let (code, reason) = refused().unwrap_or((code, Said::verbatim(reason)));
                    break closing(code, &reason, language);
                }
                None => match refused() {
                    Some((code, reason)) => break closing(code, &reason, language),
                    None => break Message::Close(None),
                },
            },
            _ = &mut deadline, if accepted.is_none() && refused().is_none() => {
                break closing(close::INIT_TIMEOUT, &message!("the socket did not authenticate in connection_init in time (FACESIGN_WS_INIT_TIMEOUT_MS)"), language);
            }
            _ = recheck.tick(), if accepted.is_some() => {
                if let Some(context) = &accepted {
                    if let Err(reason) = still_allowed(&state, context).await {
                        tracing::info!(actor = ?context.actor, %reason, "closing a socket whose caller may no longer use it");
                        break closing(close::FORBIDDEN, &reason, language);
                    }
                }
            }
            _ = stopped(&mut draining) => {
                break closing(close::GOING_AWAY, &message!("the server is stopping"), language);
            }
        }
    };
    // Dropping the engine ends every operation's stream on this socket.
    drop(engine);
    let _ = tokio::time::timeout(SEND_TIMEOUT, async {
        let _ = sink.send(last).await;
        let _ = sink.close().await;
    })
    .await;
}

/// How long a message may take to reach a client before the socket is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Messages a socket may send before `connection_init` is answered.
const MESSAGES_BEFORE_INIT: u32 = 8;

/// Counts what a socket sends, before authentication and per second after.
struct Pace {
    per_second: u32,
    early: u32,
    second: Option<std::time::Instant>,
    in_second: u32,
}

impl Pace {
    fn new(per_second: u32) -> Self {
        Self {
            per_second,
            early: 0,
            second: None,
            in_second: 0,
        }
    }

    /// Whether one more message is within the socket's allowance.
    fn admit(&mut self, waiting_for_init: bool) -> bool {
        if waiting_for_init {
            self.early += 1;
            return self.early <= MESSAGES_BEFORE_INIT;
        }
        let now = std::time::Instant::now();
        match self.second {
            Some(start) if now.duration_since(start) < Duration::from_secs(1) => {
                self.in_second += 1;
            }
            _ => {
                self.second = Some(now);
                self.in_second = 1;
            }
        }
        self.in_second <= self.per_second
    }
}
