//! The HTTP listener: every connection is bounded before a request on it is
//! read. A connection must send a complete request head within the
//! header-read timeout of connecting, and its next one within the keep-alive
//! timeout of its last answer; otherwise it is closed. Connections are
//! capped in total — below the process's open-file limit, which the server
//! raises to its hard limit at start — and per peer address. At the total cap
//! a new connection takes the place of the one idle longest (no request in
//! flight), as nginx reuses connections when `worker_connections` run out, so
//! a flood of silent connections cannot lock out a health check or a user.
//!
//! WebSockets hold their connection's slot after the upgrade (the slot lives
//! with the socket's I/O) but are no longer evicted or timed here: the socket
//! layer bounds them (`api::sockets`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::IpAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tower::ServiceExt as _;

/// File descriptors kept back from the connection cap for everything else
/// the process opens (database pools, the SQLite file, Kafka, logs).
pub const RESERVED_FILES: u64 = 256;

/// The bounds of the listener (docs/security.md, "Connections").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections in all (FACESIGN_MAX_HTTP_CONNECTIONS), before the file limit.
    pub max_total: usize,
    /// Open connections from one peer address (FACESIGN_MAX_HTTP_CONNECTIONS_PER_ADDRESS; 0: no cap).
    pub max_per_address: usize,
    /// From connecting to a complete first request head (FACESIGN_HEADER_READ_TIMEOUT_MS).
    pub header_read_timeout: Duration,
    /// From an answer to the next complete request head (FACESIGN_KEEP_ALIVE_TIMEOUT_MS).
    pub keep_alive_timeout: Duration,
    /// The longest a request may hold its connection, writing its answer
    /// included: a client that never reads a large answer loses it then (the
    /// request deadline plus 30 s).
    pub in_flight_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_total: 4_096,
            max_per_address: 256,
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(30),
            in_flight_timeout: Duration::from_secs(40),
        }
    }
}

/// Raises the soft limit of open files to the hard limit (a service manager
/// often starts processes at 1,024) and returns the soft limit now in force.
pub fn raise_open_file_limit() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return Ok(raised.rlim_cur);
        }
        tracing::warn!(error = %io::Error::last_os_error(), soft = limit.rlim_cur, hard = limit.rlim_max, "cannot raise the open-file limit");
    }
    Ok(limit.rlim_cur)
}

/// The total cap in force: the setting, or less when the open-file limit
/// leaves less room after [`RESERVED_FILES`].
pub fn effective_total(setting: usize, open_files: u64) -> usize {
    let room = open_files.saturating_sub(RESERVED_FILES);
    setting
        .min(usize::try_from(room).unwrap_or(usize::MAX))
        .max(1)
}

/// One connection as the listener tracks it.
struct Connection {
    in_flight: AtomicUsize,
    /// Milliseconds after the listener's epoch when a request last began
    /// with nothing else in flight.
    busy_since_ms: AtomicU64,
    answered: AtomicU64,
    /// Milliseconds after the listener's epoch when it last had nothing in flight.
    idle_since_ms: AtomicU64,
    evicting: AtomicBool,
    evict: Notify,
    /// A request ended: the connection's allowance is counted afresh.
    settled: Notify,
}

#[derive(Default)]
struct Registry {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
    /// Connections still speaking HTTP (not upgraded), the eviction candidates.
    live: HashMap<u64, Arc<Connection>>,
    next_id: u64,
}

type Shared = Arc<Mutex<Registry>>;

fn lock(registry: &Shared) -> std::sync::MutexGuard<'_, Registry> {
    registry.lock().unwrap_or_else(|e| e.into_inner())
}

/// A connection's place under the caps, released when its I/O is dropped —
/// by hyper, or after a WebSocket upgrade by the socket that took it over.
struct Slot {
    registry: Shared,
    address: IpAddr,
    metrics: Arc<store::Metrics>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let open = {
            let mut registry = lock(&self.registry);
            registry.total -= 1;
            if let Some(n) = registry.per_address.get_mut(&self.address) {
                *n -= 1;
                if *n == 0 {
                    registry.per_address.remove(&self.address);
                }
            }
            registry.total
        };
        count_open(&self.metrics, open);
    }
}

/// Sets the gauge of open connections.
fn count_open(metrics: &store::Metrics, open: usize) {
    metrics.set(
        "facesign_http_connections_open",
        "Open HTTP connections (WebSockets included).",
        store::metrics::labels(&[]),
        i64::try_from(open).unwrap_or(i64::MAX),
    );
}

/// Keeps a connection among the eviction candidates while it speaks HTTP.
struct Live {
    registry: Shared,
    id: u64,
}

impl Drop for Live {
    fn drop(&mut self) {
        lock(&self.registry).live.remove(&self.id);
    }
}

/// The TCP stream, carrying its slot.
struct SlottedStream {
    tcp: TcpStream,
    _slot: Slot,
}

impl AsyncRead for SlottedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for SlottedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// A request in flight on a connection: until hyper drops its answer's body
/// (written out, or the connection died).
struct InFlight {
    connection: Arc<Connection>,
    epoch: Instant,
}

impl InFlight {
    fn start(connection: &Arc<Connection>, epoch: Instant) -> Self {
        if connection.in_flight.fetch_add(1, SeqCst) == 0 {
            let now = epoch.elapsed().as_millis() as u64;
            connection.busy_since_ms.store(now, SeqCst);
        }
        Self {
            connection: connection.clone(),
            epoch,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let now = self.epoch.elapsed().as_millis() as u64;
        self.connection.idle_since_ms.store(now, SeqCst);
        self.connection.answered.fetch_add(1, SeqCst);
        self.connection.in_flight.fetch_sub(1, SeqCst);
        self.connection.settled.notify_one();
    }
}

/// An answer's body that ends its request's time in flight when dropped.
struct TrackedBody {
    inner: Body,
    _in_flight: InFlight,
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    PerAddress,
    Full,
}

impl Refused {
    fn label(self) -> &'static str {
        match self {
            Refused::PerAddress => "per_address",
            Refused::Full => "full",
        }
    }
}

/// Admits a connection from `address`, evicting the longest-idle one when
/// the total cap is reached.
fn admit(
    registry: &Shared,
    address: IpAddr,
    limits: &ConnectionLimits,
    metrics: &Arc<store::Metrics>,
) -> Result<Slot, Refused> {
    let mut guard = lock(registry);
    let registry_now = &mut *guard;
    let from_address = registry_now.per_address.get(&address).copied().unwrap_or(0);
    if limits.max_per_address > 0 && from_address >= limits.max_per_address {
        return Err(Refused::PerAddress);
    }
    if registry_now.total >= limits.max_total {
        let victim = registry_now
            .live
            .values()
            .filter(|c| c.in_flight.load(SeqCst) == 0 && !c.evicting.load(SeqCst))
            .min_by_key(|c| c.idle_since_ms.load(SeqCst))
            .ok_or(Refused::Full)?;
        victim.evicting.store(true, SeqCst);
        // A stored permit: the victim closes as soon as its task runs.
        victim.evict.notify_one();
        metrics.increment(
            "facesign_http_connections_evicted_total",
            "Idle connections closed to make room for a new one at the connection cap.",
            store::metrics::labels(&[]),
            1,
        );
    }
    registry_now.total += 1;
    *registry_now.per_address.entry(address).or_default() += 1;
    count_open(metrics, registry_now.total);
    Ok(Slot {
        registry: registry.clone(),
        address,
        metrics: metrics.clone(),
    })
}

async fn stopped(signal: &mut watch::Receiver<bool>) {
    let _ = signal.wait_for(|stop| *stop).await;
}

/// Serves `router` on `listener` under `limits` until `shutdown`; then stops
/// accepting, lets every connection finish the request it is serving, and
/// returns when all have (upgraded WebSockets are closed by their own layer).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    metrics: Arc<store::Metrics>,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let registry = Shared::default();
    let epoch = Instant::now();
    let (done, all_done) = watch::channel(());
    let mut http = http1::Builder::new();
    // Timed by the connection task below, which tells a first request
    // (header-read timeout) from the next one (keep-alive timeout).
    http.header_read_timeout(None);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    if !matches!(e.kind(), io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionRefused) {
                        tracing::error!(error = %e, "accept error; pausing a second");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    continue;
                }
            },
            _ = stopped(&mut shutdown) => break,
        };
        let address = api::doors::address_key(peer.ip());
        let slot = match admit(&registry, address, &limits, &metrics) {
            Ok(slot) => slot,
            Err(refused) => {
                metrics.increment(
                    "facesign_http_connections_refused_total",
                    "Connections closed at once: over the per-address cap, or the total cap with none idle.",
                    store::metrics::labels(&[("cause", refused.label())]),
                    1,
                );
                tracing::debug!(%peer, cause = refused.label(), "connection refused");
                continue;
            }
        };
        let connection = Arc::new(Connection {
            in_flight: AtomicUsize::new(0),
            busy_since_ms: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(epoch.elapsed().as_millis() as u64),
            evicting: AtomicBool::new(false),
            evict: Notify::new(),
            settled: Notify::new(),
        });
        let live = {
            let mut registry_now = lock(&registry);
            let id = registry_now.next_id;
            registry_now.next_id += 1;
            registry_now.live.insert(id, connection.clone());
            Live {
                registry: registry.clone(),
                id,
            }
        };
        let _ = tcp.set_nodelay(true);
        let io = TokioIo::new(SlottedStream { tcp, _slot: slot });
        let service = {
            let (router, connection) = (router.clone(), connection.clone());
            service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                let in_flight = InFlight::start(&connection, epoch);
                let answer = router.clone().oneshot(request);
                async move {
                    let response = answer.await?;
                    Ok::<_, Infallible>(response.map(|inner| {
                        Body::new(TrackedBody {
                            inner,
                            _in_flight: in_flight,
                        })
                    }))
                }
            })
        };
        let (http, mut shutdown, all_done) = (http.clone(), shutdown.clone(), all_done.clone());
        tokio::spawn(async move {
            let _held = (live, all_done);
            let mut served = pin!(http.serve_connection(io, service).with_upgrades());
            let mut draining = false;
            // How long the connection has been idle, or busy, and how long it may be.
            let state = || {
                let now = epoch.elapsed().as_millis() as u64;
                if connection.in_flight.load(SeqCst) > 0 {
                    let busy = now.saturating_sub(connection.busy_since_ms.load(SeqCst));
                    (Duration::from_millis(busy), limits.in_flight_timeout)
                } else {
                    let idle = now.saturating_sub(connection.idle_since_ms.load(SeqCst));
                    let allowed = if connection.answered.load(SeqCst) == 0 {
                        limits.header_read_timeout
                    } else {
                        limits.keep_alive_timeout
                    };
                    (Duration::from_millis(idle), allowed)
                }
            };
            loop {
                let (spent, allowed) = state();
                let wait = allowed.saturating_sub(spent);
                tokio::select! {
                    ended = served.as_mut() => {
                        if let Err(e) = ended {
                            tracing::debug!(error = %e, "connection ended");
                        }
                        break;
                    }
                    _ = tokio::time::sleep(wait) => {
                        // Idle, or held by one request, for its whole
                        // allowance: close (dropping the connection closes
                        // the socket).
                        let (spent, allowed) = state();
                        if spent >= allowed {
                            break;
                        }
                    }
                    // Idle again: the keep-alive allowance starts now, not
                    // when the busy allowance would have run out.
                    _ = connection.settled.notified() => {}
                    _ = connection.evict.notified() => {
                        if connection.in_flight.load(SeqCst) == 0 {
                            break;
                        }
                        // A request began just before: spare it.
                        connection.evicting.store(false, SeqCst);
                    }
                    _ = stopped(&mut shutdown), if !draining => {
                        draining = true;
                        served.as_mut().graceful_shutdown();
                    }
                }
            }
        });
    }
    drop(listener);
    drop(all_done);
    done.closed().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_cap_stays_below_the_open_file_limit() {
        assert_eq!(effective_total(4_096, 1_024), 768);
        assert_eq!(effective_total(4_096, 1_048_576), 4_096);
        assert_eq!(effective_total(100, 1_024), 100);
        assert_eq!(effective_total(4_096, 10), 1);
    }

    #[test]
    fn the_soft_open_file_limit_is_raised_to_the_hard_one() {
        let soft = raise_open_file_limit().expect("getrlimit");
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: reads into the struct.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
            0
        );
        assert_eq!(soft, limit.rlim_cur);
        assert_eq!(limit.rlim_cur, limit.rlim_max);
    }
}
