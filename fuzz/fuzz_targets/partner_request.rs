//! Fuzzes what the partner API does with a request body before it touches the
//! database: parse the envelope, verify the MD5 signature, parse bizContent.
//! Run with `cargo +nightly fuzz run partner_request` (docs/benchmarks.md).
#![no_main]

use domain::partner_order::signature::SignedRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(request) = SignedRequest::parse(body) {
        let verified = request.verify("fuzz-secret-0123456789");
        let signed =
            domain::partner_order::signature::sign(request.params(), "fuzz-secret-0123456789");
        assert_eq!(verified, request.sign.trim().eq_ignore_ascii_case(&signed));
        let _ = request.business();
    }
});
