//! The partner API's signature (002 item 1 "使用 MD5 方式做校验"): the
//! parameters other than `sign`, with empty values left out, sorted by name,
//! joined as `k=v&k=v`, then `&key=<secret>`; the lowercase hex MD5 of that.
//! A request signs its operation too — `method` and `path` among the
//! parameters — so a body signed for one operation cannot be posted to another
//! (issue 31); the old form without them is accepted only until a configured day.

use md5::{Digest, Md5};

/// The signature of `params` under `secret`.
pub fn sign<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>, secret: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(k, v)| *k != "sign" && !v.is_empty())
        .collect();
    pairs.sort();
    let mut text = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    text.push_str("&key=");
    text.push_str(secret);
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `signature` is the signature of `params` (constant time in its length).
pub fn verify<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    secret: &str,
    signature: &str,
) -> bool {
    let expected = sign(params, secret);
    let given = signature.trim().to_lowercase();
    same_secret(expected.as_bytes(), given.as_bytes())
}

/// Whether two secrets are equal, in a time that does not tell how much of a
/// guess was right (only whether its length was).
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A partner request as it arrives: a JSON object of five strings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedRequest {
    /// Partner code.
    pub partner: String,
    /// Milliseconds since the epoch, as sent.
    pub timestamp: String,
    /// Single-use nonce.
    pub nonce: String,
    /// The business JSON, as a string.
    pub biz_content: String,
    /// MD5 signature of the other four.
    pub sign: String,
}

/// Why a partner request body is not a signed request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, crate::message::Localized)]
pub enum EnvelopeError {
    /// A JSON object without a signature: unauthenticated, not malformed (docs/partners.md: 401).
    #[error("the request is not signed: sign is missing or empty")]
    Unsigned,
    /// Not the five-string envelope, or too large; never echoes secrets.
    #[error("{0}")]
    Malformed(String),
}

impl crate::error::DomainError for EnvelopeError {
    fn code(&self) -> crate::error::ErrorCode {
        match self {
            EnvelopeError::Unsigned => crate::error::ErrorCode::Unauthenticated,
            EnvelopeError::Malformed(_) => crate::error::ErrorCode::Validation,
        }
    }
}

impl SignedRequest {
    /// Parses a request body; the error says what is wrong, never echoing secrets.
    pub fn parse(body: &[u8]) -> Result<Self, EnvelopeError> {
        if body.len() > 64 * 1024 {
            return Err(EnvelopeError::Malformed(
                "the request is larger than 64 KiB".into(),
            ));
        }
        match serde_json::from_slice::<Self>(body) {
            Ok(request) if request.sign.trim().is_empty() => Err(EnvelopeError::Unsigned),
            Ok(request) => Ok(request),
            Err(e) => {
                let unsigned = serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| {
                    v.is_object() && v["sign"].as_str().is_none_or(|sign| sign.trim().is_empty())
                });
                Err(if unsigned {
                    EnvelopeError::Unsigned
                } else {
                    EnvelopeError::Malformed(format!(
                        "the body must be a JSON object of partner, timestamp, nonce, bizContent and sign: {e}"
                    ))
                })
            }
        }
    }

    /// The signed parameters, by name.
    pub fn params(&self) -> [(&str, &str); 4] {
        [
            ("bizContent", self.biz_content.as_str()),
            ("nonce", self.nonce.as_str()),
            ("partner", self.partner.as_str()),
            ("timestamp", self.timestamp.as_str()),
        ]
    }

    /// The parameters a request to `path` with `method` signs: the envelope's
    /// four and its operation.
    pub fn operation_params<'a>(
        &'a self,
        method: &'a str,
        path: &'a str,
    ) -> [(&'a str, &'a str); 6] {
        [
            ("bizContent", self.biz_content.as_str()),
            ("method", method),
            ("nonce", self.nonce.as_str()),
            ("partner", self.partner.as_str()),
            ("path", path),
            ("timestamp", self.timestamp.as_str()),
        ]
    }

    /// Whether the signature is the partner's, under `secret`, for a request
    /// to `path` with `method`.
    pub fn verify_operation(&self, secret: &str, method: &str, path: &str) -> bool {
        verify(self.operation_params(method, path), secret, &self.sign)
    }

    /// Whether the signature is the partner's in the old form, which does not
    /// sign the operation (accepted only until the configured day).
    pub fn verify(&self, secret: &str) -> bool {
        verify(self.params(), secret, &self.sign)
    }

    /// The business content as JSON.
    pub fn business(&self) -> Result<serde_json::Value, String> {
        serde_json::from_str(&self.biz_content).map_err(|e| format!("bizContent is not JSON: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/partners.md: an unsigned request is unauthenticated (401), a
    /// malformed one invalid (400).
    #[test]
    fn unsigned_and_malformed_bodies_are_told_apart() {
        use crate::error::{DomainError, ErrorCode};
        let unsigned = br#"{"partner":"RONGSHU","timestamp":"1","nonce":"n","bizContent":"{}"}"#;
        assert_eq!(SignedRequest::parse(unsigned), Err(EnvelopeError::Unsigned));
        let empty =
            br#"{"partner":"RONGSHU","timestamp":"1","nonce":"n","bizContent":"{}","sign":" "}"#;
        assert_eq!(
            SignedRequest::parse(empty).unwrap_err().code(),
            ErrorCode::Unauthenticated
        );
        let broken = SignedRequest::parse(b"not json").unwrap_err();
        assert_eq!(broken.code(), ErrorCode::Validation);
    }

    /// 002_3f74b53a30b682f3.txt item 1: MD5 over the sorted parameters and the secret.
    #[test]
    fn the_signature_is_md5_of_the_sorted_parameters_and_the_key() {
        let params = [
            ("timestamp", "1763863200000"),
            ("partner", "RONGSHU"),
            ("nonce", "n1"),
            ("sign", "x"),
            ("empty", ""),
        ];
        // md5("nonce=n1&partner=RONGSHU&timestamp=1763863200000&key=secret")
        let expected = {
            let text = "nonce=n1&partner=RONGSHU&timestamp=1763863200000&key=secret";
            Md5::digest(text.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert_eq!(sign(params, "secret"), expected);
        assert!(verify(params, "secret", &expected.to_uppercase()));
        assert!(!verify(params, "other", &expected));
        let mut tampered = params;
        tampered[0].1 = "1763863200001";
        assert!(!verify(tampered, "secret", &expected));
    }

    /// docs/partners.md's worked example, computed with Python's hashlib:
    /// the operation is signed, so the same body posted to another path fails.
    #[test]
    fn the_operation_is_signed() {
        let request = SignedRequest {
            partner: "RONGSHU".into(),
            timestamp: "1764892800000".into(),
            nonce: "7f3c9a".into(),
            biz_content: r#"{"orderNo":"RS-1001"}"#.into(),
            sign: String::new(),
        };
        let secret = "rongshu-secret-0123456789";
        let signed = sign(
            request.operation_params("POST", "/partner/v1/audit-result"),
            secret,
        );
        let request = SignedRequest {
            sign: signed.clone(),
            ..request
        };
        assert_eq!(signed, WORKED_EXAMPLE_SIGN);
        assert!(request.verify_operation(secret, "POST", "/partner/v1/audit-result"));
        assert!(!request.verify_operation(secret, "POST", "/partner/v1/loan-result"));
        assert!(!request.verify(secret), "the old form signs no operation");
    }

    /// md5 of `bizContent={"orderNo":"RS-1001"}&method=POST&nonce=7f3c9a&partner=RONGSHU&path=/partner/v1/audit-result&timestamp=1764892800000&key=rongshu-secret-0123456789`.
    const WORKED_EXAMPLE_SIGN: &str = "78906f214adb9b9e46e3552e56024018";

    #[test]
    fn a_known_vector() {
        // md5("a=1&b=2&key=k"), computed with Python's hashlib.
        assert_eq!(
            sign([("b", "2"), ("a", "1")], "k"),
            "f8f06afa2e241a36469b9dac959b3474"
        );
    }

    use proptest::prelude::*;

    proptest! {
        /// Whatever arrives, parsing and verification answer without panicking,
        /// and a request signed with the secret verifies while any other
        /// secret or a changed parameter does not.
        #[test]
        fn any_body_is_parsed_or_refused(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(request) = SignedRequest::parse(&body) {
                let _ = request.verify("secret");
                let _ = request.business();
            }
        }

        #[test]
        fn signatures_bind_every_parameter(
            partner in "[A-Z]{1,8}", nonce in "[a-z0-9]{1,16}", timestamp in "[0-9]{13}",
            biz in "\\PC{0,40}", secret in "[a-z0-9]{16,32}", other in "[a-z0-9]{16,32}",
        ) {
            let mut request = SignedRequest { partner, timestamp, nonce, biz_content: biz, sign: String::new() };
            request.sign = sign(request.params(), &secret);
            prop_assert!(request.verify(&secret));
            prop_assert!(other == secret || !request.verify(&other));
            request.nonce.push('x');
            prop_assert!(!request.verify(&secret));
        }
    }
}
