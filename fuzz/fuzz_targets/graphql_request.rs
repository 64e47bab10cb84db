//! Fuzzes what `/graphql` does with a request body before it authenticates or
//! executes anything: decode the JSON request, then admit it against the
//! request limits (token scan, nesting, parse, alias/selection/directive
//! counts, fragment expansion). Whatever the bytes, this must return — no
//! panic, no stack overflow (it runs on a 256 KiB stack), no blow-up.
//! Run with `cargo +nightly fuzz run graphql_request` (docs/benchmarks.md).
#![no_main]

use api::query_limits::QueryLimits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let Ok(request) = serde_json::from_slice::<async_graphql::Request>(body) else {
        return;
    };
    let admitted = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut request = request;
            QueryLimits::default().admit(&mut request).is_ok()
        })
        .expect("a thread")
        .join();
    assert!(admitted.is_ok(), "admission panicked");
});
