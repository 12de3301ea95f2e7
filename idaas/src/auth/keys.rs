//! Private keys for client assertions (core.md §4.1, §4.2; decision D-7).
//!
//! Accepted PEM encodings (the label of the first `-----BEGIN …-----` line decides):
//! * `PRIVATE KEY` — PKCS#8: RSA (2048..=8192 bits), EC P-256, EC P-384;
//! * `RSA PRIVATE KEY` — PKCS#1 RSA (parsed by ring's `RsaKeyPair::from_der`);
//! * `EC PRIVATE KEY` — SEC1 EC (parsed with the `sec1` crate, then
//!   `EcdsaKeyPair::from_private_key_and_public_key`; a PKCS#8 body under this label is accepted too,
//!   as the Python reference does). The SEC1 structure must carry its public key (OpenSSL always
//!   writes it).
//! * `ENCRYPTED PRIVATE KEY` and `Proc-Type: 4,ENCRYPTED` keys are refused with a clear message: decrypt
//!   the key first (`openssl pkcs8 -in enc.pem -out key.pem`).
//! * Literal two-character `\n` escapes (a PEM pasted into a one-line env var) are turned into newlines
//!   before parsing (D-7 "MAY").
//!
//! **P-521 (ES512) is not supported**: `ring` cannot sign with P-521 and no small, maintained, pure-Rust
//! alternative fits our dependency budget; such keys fail with `NotSupportedWebKey` naming the curve.
//! DSA, Ed25519 and other key types fail the same way.
//!
//! Algorithm selection (§4.2): RSA ≤ 2048 bits → RS256, ≤ 3072 → RS384, larger → RS512 (PKCS#1 v1.5);
//! P-256 → ES256, P-384 → ES384, signatures in JOSE `R‖S` form (ring's `*_FIXED_SIGNING`).

use crate::error::{Error, ErrorKind, Result};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use std::fmt;

/// Error code for key parsing failures (ErrorKind::Credential).
pub const KEY_PARSE_FAILED: &str = "PrivateKeyParseFailed";
/// Error code for key types we cannot sign with.
pub const NOT_SUPPORTED_WEB_KEY: &str = "NotSupportedWebKey";

/// JWS algorithm of an asymmetric key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
}

impl KeyAlgorithm {
    /// The JWS `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::RS256 => "RS256",
            KeyAlgorithm::RS384 => "RS384",
            KeyAlgorithm::RS512 => "RS512",
            KeyAlgorithm::ES256 => "ES256",
            KeyAlgorithm::ES384 => "ES384",
        }
    }
}

enum Inner {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A parsed private key, able to sign client assertions. `Debug` shows only the algorithm.
pub struct PrivateKey {
    inner: Inner,
    alg: KeyAlgorithm,
    rng: SystemRandom,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn parse_err(detail: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::Credential,
        KEY_PARSE_FAILED,
        format!("Failed to parse private key: {detail}"),
    )
}

fn unsupported(detail: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::Credential,
        NOT_SUPPORTED_WEB_KEY,
        detail.to_string(),
    )
}

// DER encodings of the named-curve OIDs, as they appear inside PKCS#8 / SEC1.
const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_RSA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

impl PrivateKey {
    /// Parse a PEM private key (see the module docs for what is accepted).
    pub fn from_pem(pem: &str) -> Result<PrivateKey> {
        let owned;
        let mut text = pem.trim();
        if text.contains("\\n") {
            owned = text.replace("\\r\\n", "\n").replace("\\n", "\n");
            text = owned.trim();
        }
        let begin = text.find("-----BEGIN ").ok_or_else(|| {
            parse_err("Unsupported private key PEM content: no \"-----BEGIN ...-----\" line found")
        })?;
        let after = &text[begin + "-----BEGIN ".len()..];
        // The label must end with "-----" on the same line and look like a PEM label; otherwise the
        // header is damaged and nothing of it is quoted (it could run into the key body).
        let line = after.split(['\n', '\r']).next().unwrap_or("");
        let label_end = line
            .find("-----")
            .ok_or_else(|| parse_err("malformed PEM BEGIN line (it must end with \"-----\")"))?;
        let label = &line[..label_end];
        if label.is_empty()
            || label.len() > 40
            || !label
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ')
        {
            return Err(parse_err(
                "malformed PEM BEGIN line (expected e.g. -----BEGIN PRIVATE KEY-----)",
            ));
        }
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let body_end = body_start
            .find(&end_marker)
            .ok_or_else(|| parse_err(format!("missing \"{end_marker}\" line")))?;
        let body = &body_start[..body_end];
        if label.contains("ENCRYPTED") || body.contains("Proc-Type: 4,ENCRYPTED") {
            return Err(parse_err(
                "the key is encrypted (password-protected); decrypt it first, e.g. `openssl pkcs8 -in encrypted.pem -out key.pem`",
            ));
        }
        let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = zeroize::Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map_err(|e| parse_err(format!("invalid base64 in the PEM body: {e}")))?,
        );
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "RSA PRIVATE KEY" => {
                let kp = RsaKeyPair::from_der(&der)
                    .map_err(|e| parse_err(format!("invalid PKCS#1 RSA key: {e}")))?;
                Ok(Self::rsa(kp))
            }
            "EC PRIVATE KEY" => Self::from_sec1_der(&der).or_else(|e| {
                Self::from_pkcs8_der(&der).map_err(|_| e)
            }),
            "DSA PRIVATE KEY" => Err(unsupported("DSA keys are not supported; use an RSA or EC (P-256/P-384) key")),
            other => Err(parse_err(format!(
                "Unsupported private key PEM content: \"{other}\"; expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY"
            ))),
        }
    }

    fn rsa(kp: RsaKeyPair) -> PrivateKey {
        let bits = kp.public().modulus_len() * 8;
        let alg = if bits <= 2048 {
            KeyAlgorithm::RS256
        } else if bits <= 3072 {
            KeyAlgorithm::RS384
        } else {
            KeyAlgorithm::RS512
        };
        PrivateKey {
            inner: Inner::Rsa(kp),
            alg,
            rng: SystemRandom::new(),
        }
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey> {
        let rng = SystemRandom::new();
        if contains(der, OID_RSA) {
            let kp = RsaKeyPair::from_pkcs8(der)
                .map_err(|e| parse_err(format!("invalid PKCS#8 RSA key: {e}")))?;
            return Ok(Self::rsa(kp));
        }
        if contains(der, OID_EC_PUBLIC_KEY) {
            let (alg, ring_alg) = if contains(der, OID_P256) {
                (
                    KeyAlgorithm::ES256,
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                )
            } else if contains(der, OID_P384) {
                (
                    KeyAlgorithm::ES384,
                    &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                )
            } else if contains(der, OID_P521) {
                return Err(p521());
            } else {
                return Err(unsupported(
                    "EC key on an unsupported curve; use P-256 or P-384",
                ));
            };
            let kp = EcdsaKeyPair::from_pkcs8(ring_alg, der, &rng)
                .map_err(|e| parse_err(format!("invalid PKCS#8 EC key: {e}")))?;
            return Ok(PrivateKey {
                inner: Inner::Ec(kp),
                alg,
                rng,
            });
        }
        Err(unsupported(
            "unsupported PKCS#8 key type (not RSA or EC); use an RSA or EC (P-256/P-384) key",
        ))
    }

    fn from_sec1_der(der: &[u8]) -> Result<PrivateKey> {
        use sec1::der::Decode;
        let key = sec1::EcPrivateKey::from_der(der)
            .map_err(|e| parse_err(format!("invalid SEC1 EC key: {e}")))?;
        let curve = key
            .parameters
            .and_then(|p| p.named_curve())
            .map(|oid| oid.to_string());
        let curve = match curve.as_deref() {
            Some("1.2.840.10045.3.1.7") => "P-256",
            Some("1.3.132.0.34") => "P-384",
            Some("1.3.132.0.35") => return Err(p521()),
            Some(other) => {
                return Err(unsupported(format!(
                    "EC key on unsupported curve {other}; use P-256 or P-384"
                )))
            }
            None => match key.private_key.len() {
                32 => "P-256",
                48 => "P-384",
                66 => return Err(p521()),
                _ => return Err(parse_err("SEC1 EC key without curve parameters")),
            },
        };
        let public = key.public_key.ok_or_else(|| {
            parse_err("SEC1 EC key without its public key; re-export it with OpenSSL (`openssl ec -in key.pem -out fixed.pem`)")
        })?;
        let (alg, ring_alg) = if curve == "P-256" {
            (
                KeyAlgorithm::ES256,
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            )
        } else {
            (
                KeyAlgorithm::ES384,
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            )
        };
        let rng = SystemRandom::new();
        let kp =
            EcdsaKeyPair::from_private_key_and_public_key(ring_alg, key.private_key, public, &rng)
                .map_err(|e| parse_err(format!("invalid SEC1 EC key: {e}")))?;
        Ok(PrivateKey {
            inner: Inner::Ec(kp),
            alg,
            rng,
        })
    }

    /// The JWS algorithm chosen for this key (§4.2).
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.alg
    }

    /// The public key bytes (RSA: PKCS#1 `RSAPublicKey` DER; EC: uncompressed point).
    pub fn public_key_bytes(&self) -> Vec<u8> {
        match &self.inner {
            Inner::Rsa(k) => k.public().as_ref().to_vec(),
            Inner::Ec(k) => k.public_key().as_ref().to_vec(),
        }
    }

    /// Sign `msg` (JWS signing input) and return the raw JWS signature bytes.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        match &self.inner {
            Inner::Rsa(k) => {
                let padding: &'static dyn signature::RsaEncoding = match self.alg {
                    KeyAlgorithm::RS256 => &signature::RSA_PKCS1_SHA256,
                    KeyAlgorithm::RS384 => &signature::RSA_PKCS1_SHA384,
                    _ => &signature::RSA_PKCS1_SHA512,
                };
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(padding, &self.rng, msg, &mut sig).map_err(|_| {
                    Error::credential("SigningFailed", "Failed to sign the client assertion (RSA)")
                })?;
                Ok(sig)
            }
            Inner::Ec(k) => k
                .sign(&self.rng, msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| {
                    Error::credential(
                        "SigningFailed",
                        "Failed to sign the client assertion (ECDSA)",
                    )
                }),
        }
    }
}

fn p521() -> Error {
    unsupported(
        "EC P-521 (ES512) keys are not supported by this implementation (the ring crypto library cannot sign with P-521); use a P-256, P-384 or RSA key",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/../emulator/fixtures/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn parses_every_fixture_with_the_right_alg() {
        for (f, alg) in [
            ("rsa2048_pkcs1.pem", KeyAlgorithm::RS256),
            ("rsa2048_pkcs8.pem", KeyAlgorithm::RS256),
            ("rsa3072_pkcs8.pem", KeyAlgorithm::RS384),
            ("rsa4096_pkcs8.pem", KeyAlgorithm::RS512),
            ("ec256_sec1.pem", KeyAlgorithm::ES256),
            ("ec256_pkcs8.pem", KeyAlgorithm::ES256),
            ("ec384_sec1.pem", KeyAlgorithm::ES384),
            ("ec384_pkcs8.pem", KeyAlgorithm::ES384),
        ] {
            let k = PrivateKey::from_pem(&fixture(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(k.algorithm(), alg, "{f}");
            let sig = k.sign(b"hello").unwrap();
            match alg {
                KeyAlgorithm::ES256 => assert_eq!(sig.len(), 64),
                KeyAlgorithm::ES384 => assert_eq!(sig.len(), 96),
                _ => assert!(sig.len() >= 256),
            }
        }
    }

    #[test]
    fn escaped_newlines_and_errors() {
        let pem = fixture("ec256_pkcs8.pem").replace('\n', "\\n");
        assert!(PrivateKey::from_pem(&pem).is_ok());
        let e = PrivateKey::from_pem(&fixture("rsa2048_encrypted.pem")).unwrap_err();
        assert!(e.message().contains("encrypted"), "{e}");
        assert_eq!(e.code(), KEY_PARSE_FAILED);
        let e = PrivateKey::from_pem(&fixture("rsa2048_pub.pem")).unwrap_err();
        assert!(e.message().contains("PUBLIC KEY"), "{e}");
        let e = PrivateKey::from_pem("garbage").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Credential);
        let e = PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----")
            .unwrap_err();
        assert!(e.message().contains("base64"));
    }

    #[test]
    fn damaged_header_never_quotes_the_body() {
        for f in ["ec384_sec1.pem", "rsa2048_pkcs8.pem"] {
            let pem = fixture(f);
            let body = pem.lines().nth(1).unwrap()[..16].to_string();
            for bad in [
                pem.replacen("KEY-----", "KEY\0----", 1),
                pem.replacen("KEY-----\n", "KEY----\n", 1),
                pem.replacen("-----BEGIN ", "-----BEGIN x", 1),
                pem.replacen("-----END", "-----NED", 1),
            ] {
                let e = PrivateKey::from_pem(&bad).unwrap_err();
                let text = format!("{e} {e:?}");
                assert!(!text.contains(&body), "{f}: key material in error: {text}");
            }
        }
    }

    #[test]
    fn mangled_input_never_panics() {
        for f in ["ec256_sec1.pem", "rsa2048_pkcs1.pem", "ec384_pkcs8.pem"] {
            let pem = fixture(f);
            let bytes = pem.as_bytes();
            for cut in (0..bytes.len()).step_by(7) {
                let _ = PrivateKey::from_pem(&String::from_utf8_lossy(&bytes[..cut]));
                let mut m = bytes.to_vec();
                m[cut] = if m[cut] == b'A' { b'B' } else { b'A' };
                let _ = PrivateKey::from_pem(&String::from_utf8_lossy(&m));
            }
        }
        for s in [
            "-----BEGIN ",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN -----\n-----END -----",
            "\\n",
        ] {
            assert!(PrivateKey::from_pem(s).is_err());
        }
    }

    // Throwaway keys generated with openssl for these tests only.
    const P521_SEC1: &str = "-----BEGIN EC PRIVATE KEY-----\nMIHcAgEBBEIArUPYnKJH7QjMht5Z93FFhdWFOg5JhNgNgt3jK3ohgDqshSyuRdep\nl+RihGR+4qxW6wGkiSSMuiyN3AEp9zwU6hKgBwYFK4EEACOhgYkDgYYABABsQT87\nRpyPair9cSJJarw4FpLEvoc0QZ6TdRSYtChBcQMehJqKQjctY26ee8K3htIEk1Pj\nAbrJ0bXAdAOTfYByHwGsLMB0rRHHyxQV8Ixt5nTIH/o+HsyFfuh5CkpD3eAeWMLr\n9sQsCcF0/LyIWBbgLiZC7WIJ4EGyYf/JRIxtYMT32g==\n-----END EC PRIVATE KEY-----\n";
    const P521_PKCS8: &str = "-----BEGIN PRIVATE KEY-----\nMIHuAgEAMBAGByqGSM49AgEGBSuBBAAjBIHWMIHTAgEBBEIArUPYnKJH7QjMht5Z\n93FFhdWFOg5JhNgNgt3jK3ohgDqshSyuRdepl+RihGR+4qxW6wGkiSSMuiyN3AEp\n9zwU6hKhgYkDgYYABABsQT87RpyPair9cSJJarw4FpLEvoc0QZ6TdRSYtChBcQMe\nhJqKQjctY26ee8K3htIEk1PjAbrJ0bXAdAOTfYByHwGsLMB0rRHHyxQV8Ixt5nTI\nH/o+HsyFfuh5CkpD3eAeWMLr9sQsCcF0/LyIWBbgLiZC7WIJ4EGyYf/JRIxtYMT3\n2g==\n-----END PRIVATE KEY-----\n";
    const ED25519_PKCS8: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEILK7tgwxNVl7gCySgNL9gQSKwlnd+yziK8RV7u9fsLED\n-----END PRIVATE KEY-----\n";

    #[test]
    fn unsupported_key_types_are_refused_clearly() {
        for pem in [P521_SEC1, P521_PKCS8] {
            let e = PrivateKey::from_pem(pem).unwrap_err();
            assert_eq!(e.code(), NOT_SUPPORTED_WEB_KEY, "{e}");
            assert!(e.message().contains("P-521"), "{e}");
        }
        let e = PrivateKey::from_pem(ED25519_PKCS8).unwrap_err();
        assert_eq!(e.code(), NOT_SUPPORTED_WEB_KEY, "{e}");
    }
}
