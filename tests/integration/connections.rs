//! The listener's bounds (issue 31, docs/security.md "Connections"): silent
//! and half-open connections are closed at the header-read timeout, idle
//! keep-alive ones at the keep-alive timeout, an address holds a bounded
//! number of connections, and at the total cap a new connection takes the
//! place of the longest idle one — so 1,100 idle connections never lock out a
//! health check or an authenticated query.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::support::{data, settings, token, Backend, TestApp, TestDb};

/// A connection from `source` (any 127.x.y.z: Linux routes all of 127/8 to loopback).
async fn connect_from(source: Ipv4Addr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    socket.connect(server).await
}

/// Whether the server closed `stream` (EOF or reset) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 512];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // An answer (a 408 or the like) before the close: keep reading.
            Ok(Ok(_)) => continue,
        }
    }
}

async fn app_with(limits: facesign::connections::ConnectionLimits) -> TestApp {
    TestApp::spawn_on(TestDb::new(Backend::Sqlite).await, move |url| {
        let mut settings = settings(url);
        settings.connections = limits;
        settings
    })
    .await
}

/// 1,100 connections that never send a byte, from nine addresses, against
/// a cap of 400 in all and 100 per address: the excess of each address is
/// closed at once, the total cap evicts the longest idle, `/healthz` and an
/// authenticated query still answer at once, and after the header-read
/// timeout every silent connection has been closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_never_lock_out_a_health_check_or_a_user() {
    let app = app_with(facesign::connections::ConnectionLimits {
        max_total: 400,
        max_per_address: 100,
        header_read_timeout: Duration::from_secs(3),
        keep_alive_timeout: Duration::from_secs(3),
        ..facesign::connections::ConnectionLimits::default()
    })
    .await;
    let server: SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let mut idle = Vec::new();
    for n in 0..1_100u32 {
        // 300 from one address (the per-address cap refuses 200 of them),
        // then 800 spread over eight (the total cap evicts the longest idle).
        let last = if n < 300 { 1 } else { 2 + (n % 8) as u8 };
        let source = Ipv4Addr::new(127, 0, 1, last);
        idle.push(
            connect_from(source, server)
                .await
                .expect("the kernel accepts"),
        );
    }
    // The listener has accepted, admitted or closed all of them.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    let query = app
        .graphql_with_token(
            Some(&token("SV1", "SUPERVISOR")),
            "{ tasks(first: 1) { edges { cursor } } }",
            json!({}),
        )
        .await;
    data(&query.1);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered while 1,100 connections are held, in {:?}",
        started.elapsed()
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("facesign_http_connections_refused_total{cause=\"per_address\"}"),
        "the per-address cap refused some: {metrics}"
    );
    assert!(
        metrics.contains("facesign_http_connections_evicted_total"),
        "the total cap evicted idle ones"
    );

    // Every one of the 1,100 is closed by the header-read timeout at the latest.
    let mut still_open = 0;
    for stream in idle.iter_mut() {
        if !closed_within(stream, Duration::from_secs(5)).await {
            still_open += 1;
        }
    }
    assert_eq!(still_open, 0, "silent connections left open");
    app.stop().await;
}

/// A half-open request (headers begun, never finished) is closed at the
/// header-read timeout; a keep-alive connection idle after an answer at the
/// keep-alive timeout; a connection in use is not closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_idle_keep_alive_are_closed() {
    let app = app_with(facesign::connections::ConnectionLimits {
        header_read_timeout: Duration::from_millis(800),
        keep_alive_timeout: Duration::from_millis(1_500),
        ..facesign::connections::ConnectionLimits::default()
    })
    .await;
    let server: SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();

    let mut slow = TcpStream::connect(server).await.unwrap();
    let started = Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // One more header line every 300 ms never completes the head in time.
    let mut closed = false;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if slow.write_all(b"X-Slow: 1\r\n").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 64];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(1), slow.read(&mut buf)).await
        {
            closed = true;
            break;
        }
    }
    assert!(closed, "a slowloris kept its connection");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    let mut kept = TcpStream::connect(server).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 1024];
    let n = kept.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    // Within the keep-alive timeout the connection serves a second request.
    tokio::time::sleep(Duration::from_millis(700)).await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let n = kept.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    let idle_since = Instant::now();
    assert!(closed_within(&mut kept, Duration::from_secs(4)).await);
    let idle = idle_since.elapsed();
    assert!(
        idle >= Duration::from_millis(1_300) && idle < Duration::from_secs(3),
        "closed after the keep-alive timeout, not at {idle:?}"
    );
    app.stop().await;
}
