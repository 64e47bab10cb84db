//! The partner API's signature (002 item 1 "使用 MD5 方式做校验"): the
//! parameters other than `sign`, with empty values left out, sorted by name,
//! joined as `k=v&k=v`, then `&key=<secret>`; the lowercase hex MD5 of that.

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
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_known_vector() {
        // md5("a=1&b=2&key=k"), computed with Python's hashlib.
        assert_eq!(
            sign([("b", "2"), ("a", "1")], "k"),
            "f8f06afa2e241a36469b9dac959b3474"
        );
    }
}
