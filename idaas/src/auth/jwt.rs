//! Client-assertion JWTs (core.md §4.3).
//!
//! * Decision D-9: the header is `{"alg":"<alg>","typ":"JWT"}` (the Python form), nothing else.
//! * Claims in this order, compact JSON: `aud` (a string: the token endpoint URL, or the issuer
//!   when `clientAssertionAudience` is `issuer`), `sub` and `iss`
//!   (client id), `jti` (random UUID v4), `iat` (now, epoch seconds), `exp` (`iat + 600`).
//! * Compact JWS, base64url without padding. A fresh assertion is built for every request.
//! * Decision D-8: HS256 (`CLIENT_SECRET_JWT`) accepts a secret of any length; secrets shorter than
//!   32 bytes are accepted silently (IDaaS secrets are long; warning would only add log noise).

use super::keys::PrivateKey;
use crate::error::Result;
use crate::secret::SecretString;
use base64::Engine;

/// Lifetime of a client assertion in seconds (`exp - iat`).
pub const ASSERTION_LIFETIME_SECS: u64 = 600;

/// base64url without padding.
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// The `header.payload` signing input of a client assertion.
pub fn signing_input(alg: &str, client_id: &str, aud: &str, iat: u64, jti: &str) -> String {
    let header = format!("{{\"alg\":{},\"typ\":\"JWT\"}}", json_str(alg));
    let id = json_str(client_id);
    let payload = format!(
        "{{\"aud\":{},\"sub\":{id},\"iss\":{id},\"jti\":{},\"iat\":{iat},\"exp\":{}}}",
        json_str(aud),
        json_str(jti),
        iat + ASSERTION_LIFETIME_SECS
    );
    format!(
        "{}.{}",
        b64url(header.as_bytes()),
        b64url(payload.as_bytes())
    )
}

fn new_jti() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// A client assertion signed with `key` (PRIVATE_KEY_JWT, PCA).
pub fn assertion_with_key(
    key: &PrivateKey,
    client_id: &str,
    aud: &str,
    now_secs: u64,
) -> Result<SecretString> {
    let input = signing_input(
        key.algorithm().as_str(),
        client_id,
        aud,
        now_secs,
        &new_jti(),
    );
    let sig = key.sign(input.as_bytes())?;
    Ok(SecretString::new(format!("{input}.{}", b64url(&sig))))
}

/// An HS256 client assertion keyed with the client secret's UTF-8 bytes (CLIENT_SECRET_JWT).
pub fn assertion_hs256(
    secret: &SecretString,
    client_id: &str,
    aud: &str,
    now_secs: u64,
) -> Result<SecretString> {
    let input = signing_input("HS256", client_id, aud, now_secs, &new_jti());
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.expose().as_bytes());
    let tag = ring::hmac::sign(&key, input.as_bytes());
    Ok(SecretString::new(format!(
        "{input}.{}",
        b64url(tag.as_ref())
    )))
}

/// Decode a JWT's payload without verifying anything (used to read `exp` of an OIDC token).
pub fn decode_payload_unverified(jwt: &str) -> Option<serde_json::Value> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_layout() {
        let input = signing_input(
            "ES256",
            "app_x",
            "https://h/t",
            1760000000,
            "0b8a7f0e-3c2d-4e51-9f6a-2b1c0d9e8f7a",
        );
        let (h, p) = input.split_once('.').unwrap();
        let dec = |s: &str| {
            String::from_utf8(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(s)
                    .unwrap(),
            )
            .unwrap()
        };
        assert_eq!(dec(h), r#"{"alg":"ES256","typ":"JWT"}"#);
        assert_eq!(
            dec(p),
            r#"{"aud":"https://h/t","sub":"app_x","iss":"app_x","jti":"0b8a7f0e-3c2d-4e51-9f6a-2b1c0d9e8f7a","iat":1760000000,"exp":1760000600}"#
        );
    }

    #[test]
    fn hs256_verifies() {
        let s = SecretString::new("k");
        let jwt = assertion_hs256(&s, "c", "a", 5).unwrap();
        let parts: Vec<&str> = jwt.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"k");
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap();
        ring::hmac::verify(&key, format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig).unwrap();
        let claims = decode_payload_unverified(jwt.expose()).unwrap();
        assert_eq!(claims["exp"], 605);
        assert_eq!(claims["jti"].as_str().unwrap().len(), 36);
    }
}
