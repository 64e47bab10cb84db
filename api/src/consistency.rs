//! Consistency tokens: read-your-writes across requests and instances without
//! waiting for the whole log. Every request whose commands wrote answers with
//! a token (header `Facesign-Consistency-Token`; also the response extension
//! `consistencyToken` when it carried no idempotency key, whose stored answer
//! is replayed as it was) naming the last event it caused; a request that sends
//! one back in the same header first waits, bounded by the read-your-writes
//! timeout, until every read model reflects it, on whichever instance answers.
//! A wait that runs out still answers, with the extension `projected: false`.

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use domain::log::LogPosition;
use domain::message::message;

use crate::error::ApiError;

/// The header that carries a token both ways.
pub const HEADER: &str = "facesign-consistency-token";

const PREFIX: &str = "c1.";

/// The opaque token of `position`.
pub fn token(position: LogPosition) -> String {
    format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(position.to_string())
    )
}

/// The position a token names; VALIDATION for anything this API did not issue.
pub fn parse(token: &str) -> Result<LogPosition, ApiError> {
    let invalid =
        || ApiError::validation(message!("the consistency token is not one this API issued"));
    let encoded = token.trim().strip_prefix(PREFIX).ok_or_else(invalid)?;
    if encoded.len() > 64 {
        return Err(invalid());
    }
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| invalid())?;
    String::from_utf8(text)
        .map_err(|_| invalid())?
        .parse()
        .map_err(|_| invalid())
}

/// The token a request sent, if any.
pub fn sent(headers: &HeaderMap) -> Result<Option<LogPosition>, ApiError> {
    match headers.get(HEADER) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map_err(|_| ApiError::validation(message!("the consistency token is not text")))
            .and_then(parse)
            .map(Some),
    }
}

/// The header value of `position`'s token.
pub fn header_value(position: LogPosition) -> HeaderValue {
    HeaderValue::from_str(&token(position)).expect("a token is ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_position_and_nothing_else_parses() {
        let position = LogPosition::new(7_340_032, 42);
        assert_eq!(parse(&token(position)).unwrap(), position);
        for bad in [
            "",
            "c1.",
            "42",
            "c1.!!",
            "c2.NzM0MDAzMjo0Mg",
            &"c1.A".repeat(40),
        ] {
            assert_eq!(
                parse(bad).unwrap_err().code,
                domain::ErrorCode::Validation,
                "{bad}"
            );
        }
    }
}
