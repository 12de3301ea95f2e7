//! Compact JWS: ES256 signing with the emulator's keys, verification of HS*/RS*/ES* signatures.

use crate::util::{b64url, B64URL};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};
use serde_json::{Map, Value};

/// An ECDSA P-256 signing key generated at start, with its key id.
pub(crate) struct EcSigner {
    pub kid: String,
    key: EcdsaKeyPair,
    rng: SystemRandom,
}

impl EcSigner {
    /// Generates a fresh P-256 key.
    pub fn generate(kid: &str) -> Result<EcSigner, String> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| "cannot generate an ECDSA P-256 key".to_string())?;
        let key = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8.as_ref(),
            &rng,
        )
        .map_err(|_| "cannot load the generated ECDSA key".to_string())?;
        Ok(EcSigner {
            kid: kid.to_string(),
            key,
            rng,
        })
    }

    /// The uncompressed public point (65 bytes).
    pub fn public_point(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        let p = self.public_point();
        serde_json::json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
            "x": b64url(&p[1..33]), "y": b64url(&p[33..65]),
        })
    }

    /// Signs `claims` as an ES256 JWT with `typ` and this key's `kid`.
    pub fn sign(&self, typ: &str, claims: &Value) -> String {
        let header = serde_json::json!({"alg": "ES256", "typ": typ, "kid": self.kid});
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        // Signing with a valid key and the system RNG cannot fail in practice; an empty
        // signature would simply not verify.
        let sig = self
            .key
            .sign(&self.rng, input.as_bytes())
            .map(|s| s.as_ref().to_vec())
            .unwrap_or_default();
        format!("{input}.{}", b64url(&sig))
    }

    /// Verifies an ES256 signature made by this key.
    pub fn verify(&self, jwt: &Jwt) -> bool {
        jwt.alg() == Some("ES256")
            && UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, self.public_point())
                .verify(jwt.signing_input.as_bytes(), &jwt.signature)
                .is_ok()
    }
}

/// A decoded (not yet verified) compact JWT.
pub(crate) struct Jwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

impl Jwt {
    /// Splits and decodes a compact JWS whose header and payload are JSON objects.
    pub fn decode(token: &str) -> Result<Jwt, String> {
        let token = token.trim();
        let mut parts = token.split('.');
        let (h, p, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(h), Some(p), Some(s), None) => (h, p, s),
            _ => return Err("not a compact JWT (expected three dot-separated parts)".into()),
        };
        let header = decode_obj(h).map_err(|e| format!("JWT header: {e}"))?;
        let claims = decode_obj(p).map_err(|e| format!("JWT payload: {e}"))?;
        let signature = B64URL
            .decode(s.as_bytes())
            .map_err(|_| "JWT signature is not base64url".to_string())?;
        Ok(Jwt {
            header,
            claims,
            signing_input: format!("{h}.{p}"),
            signature,
        })
    }

    /// The `alg` header.
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// A string claim.
    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A numeric claim as integer seconds (floats are truncated).
    pub fn num_claim(&self, name: &str) -> Option<i64> {
        let v = self.claims.get(name)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
    }

    /// Verifies an HMAC signature (HS256/384/512) with `secret`.
    pub fn verify_hmac(&self, secret: &[u8]) -> Result<(), String> {
        let alg = match self.alg() {
            Some("HS256") => ring::hmac::HMAC_SHA256,
            Some("HS384") => ring::hmac::HMAC_SHA384,
            Some("HS512") => ring::hmac::HMAC_SHA512,
            other => return Err(format!("unsupported alg {other:?} for a client secret")),
        };
        let key = ring::hmac::Key::new(alg, secret);
        ring::hmac::verify(&key, self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| "client assertion signature is invalid".to_string())
    }

    /// Verifies an RS*/ES* signature against one public key.
    pub fn verify_with(&self, key: &PublicKeyInfo) -> Result<(), String> {
        let alg: &'static dyn signature::VerificationAlgorithm = match (self.alg(), key) {
            (Some("RS256"), PublicKeyInfo::Rsa(_)) => &signature::RSA_PKCS1_2048_8192_SHA256,
            (Some("RS384"), PublicKeyInfo::Rsa(_)) => &signature::RSA_PKCS1_2048_8192_SHA384,
            (Some("RS512"), PublicKeyInfo::Rsa(_)) => &signature::RSA_PKCS1_2048_8192_SHA512,
            (Some("PS256"), PublicKeyInfo::Rsa(_)) => &signature::RSA_PSS_2048_8192_SHA256,
            (Some("PS384"), PublicKeyInfo::Rsa(_)) => &signature::RSA_PSS_2048_8192_SHA384,
            (Some("PS512"), PublicKeyInfo::Rsa(_)) => &signature::RSA_PSS_2048_8192_SHA512,
            (Some("ES256"), PublicKeyInfo::P256(_)) => &signature::ECDSA_P256_SHA256_FIXED,
            (Some("ES384"), PublicKeyInfo::P384(_)) => &signature::ECDSA_P384_SHA384_FIXED,
            (alg, _) => return Err(format!("alg {alg:?} does not match the key type")),
        };
        UnparsedPublicKey::new(alg, key.bytes())
            .verify(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| "signature is invalid".to_string())
    }
}

fn decode_obj(part: &str) -> Result<Map<String, Value>, String> {
    let bytes = B64URL
        .decode(part.as_bytes())
        .map_err(|_| "not base64url".to_string())?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("not a JSON object".into()),
        Err(_) => Err("not JSON".into()),
    }
}

/// A public key usable for JWT verification, extracted from an SPKI.
#[derive(Clone, Debug)]
pub(crate) enum PublicKeyInfo {
    /// PKCS#1 RSAPublicKey DER.
    Rsa(Vec<u8>),
    /// Uncompressed P-256 point.
    P256(Vec<u8>),
    /// Uncompressed P-384 point.
    P384(Vec<u8>),
}

impl PublicKeyInfo {
    fn bytes(&self) -> &[u8] {
        match self {
            PublicKeyInfo::Rsa(b) | PublicKeyInfo::P256(b) | PublicKeyInfo::P384(b) => b,
        }
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKeyInfo, String> {
        use x509_parser::prelude::FromDer;
        let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(der)
            .map_err(|e| format!("not a SubjectPublicKeyInfo: {e}"))?;
        Self::from_spki(&spki)
    }

    /// Reads a parsed SubjectPublicKeyInfo.
    pub fn from_spki(
        spki: &x509_parser::x509::SubjectPublicKeyInfo,
    ) -> Result<PublicKeyInfo, String> {
        let oid = spki.algorithm.algorithm.to_id_string();
        let bits = spki.subject_public_key.data.to_vec();
        match oid.as_str() {
            "1.2.840.113549.1.1.1" => Ok(PublicKeyInfo::Rsa(bits)),
            "1.2.840.10045.2.1" => match bits.len() {
                65 => Ok(PublicKeyInfo::P256(bits)),
                97 => Ok(PublicKeyInfo::P384(bits)),
                n => Err(format!(
                    "unsupported EC key ({n}-byte point; only P-256 and P-384 are supported)"
                )),
            },
            other => Err(format!("unsupported public key algorithm {other}")),
        }
    }

    /// Reads a PEM `PUBLIC KEY` (SPKI) or a `CERTIFICATE` (its SPKI).
    pub fn from_pem(pem: &str) -> Result<PublicKeyInfo, String> {
        let blocks = crate::util::parse_pem_blocks(pem)?;
        let b = &blocks[0];
        match b.label.as_str() {
            "PUBLIC KEY" => Self::from_spki_der(&b.der),
            "CERTIFICATE" => {
                let (_, cert) = x509_parser::parse_x509_certificate(&b.der)
                    .map_err(|e| format!("not a certificate: {e}"))?;
                Self::from_spki(cert.public_key())
            }
            other => Err(format!(
                "expected a PEM PUBLIC KEY (SubjectPublicKeyInfo), found {other}"
            )),
        }
    }
}
