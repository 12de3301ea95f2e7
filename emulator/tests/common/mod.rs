//! Shared helpers: an HTTP client that trusts the emulator CA, form/JSON helpers, JWT signing
//! with ring and the key fixtures.
#![allow(dead_code)]

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use idaas_emulator::Emulator;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use ureq::tls::{Certificate, RootCerts, TlsConfig};

pub const PAM: &str = "urn:cloud:idaas:pam|.all";

pub fn agent(emu: &Emulator) -> ureq::Agent {
    let cert = Certificate::from_pem(emu.ca_cert_pem().as_bytes()).expect("CA PEM");
    ureq::Agent::config_builder()
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::Specific(Arc::new(vec![cert])))
                .build(),
        )
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// Percent-encodes a form value the Python way.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(c as char);
        } else if c == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A reply: status, headers (lower-case), body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, n: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    }
}

fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let r = r.expect("request failed");
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = r.into_body().read_to_string().unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

pub fn post_form(agent: &ureq::Agent, url: &str, body: &str, basic: Option<&str>) -> Reply {
    let mut req = agent
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded");
    if let Some(b) = basic {
        req = req.header("Authorization", &format!("Basic {b}"));
    }
    reply(req.send(body))
}

pub fn try_post_form(agent: &ureq::Agent, url: &str, body: &str) -> Result<Reply, ureq::Error> {
    let r = agent
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(body)?;
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = r.into_body().read_to_string()?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// A Developer API call: method, path after /v2/{instance}, action, optional bearer, body.
pub fn dev(
    emu: &Emulator,
    agent: &ureq::Agent,
    method: &str,
    path: &str,
    action: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let url = format!(
        "https://{}/v2/{}{}",
        emu.developer_api_endpoint(),
        emu.instance_id(),
        path
    );
    dev_url(agent, method, &url, action, bearer, body)
}

pub fn dev_url(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    action: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let auth = bearer.map(|b| format!("Bearer {b}"));
    if method == "GET" {
        let mut req = agent
            .get(url)
            .header("x-acs-version", "2022-02-25")
            .header("x-acs-action", action)
            .header("accept", "application/json");
        if let Some(a) = &auth {
            req = req.header("Authorization", a);
        }
        reply(req.call())
    } else {
        let mut req = agent
            .post(url)
            .header("x-acs-version", "2022-02-25")
            .header("x-acs-action", action)
            .header("accept", "application/json")
            .header("content-type", "application/json; charset=utf-8");
        if let Some(a) = &auth {
            req = req.header("Authorization", a);
        }
        let text = body.map(|b| b.to_string()).unwrap_or_else(|| "{}".into());
        reply(req.send(text))
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn b64url(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

pub fn basic(id: &str, secret: &str) -> String {
    STANDARD.encode(format!("{id}:{secret}"))
}

/// Standard client-assertion claims (core.md §4.3).
pub fn assertion_claims(client_id: &str, aud: &str) -> Value {
    let now = now();
    json!({"aud": aud, "sub": client_id, "iss": client_id, "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 600})
}

pub fn sign_hs256(secret: &str, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64url(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64url(claims.to_string().as_bytes())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64url(tag.as_ref()))
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("");
    STANDARD.decode(body).expect("PEM base64")
}

pub fn key_fixture(name: &str) -> String {
    let p = format!("{}/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// Signs with a PKCS#8 PEM key: RSA (`RS256/384/512`) or EC (`ES256/ES384`).
pub fn sign_pkcs8(pem: &str, alg: &str, claims: &Value) -> String {
    let der = pem_der(pem);
    let header = json!({"alg": alg, "typ": "JWT"});
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let rng = ring::rand::SystemRandom::new();
    use ring::signature::*;
    let sig = match alg {
        "RS256" | "RS384" | "RS512" => {
            let kp = RsaKeyPair::from_pkcs8(&der).expect("RSA PKCS#8");
            let enc: &'static dyn RsaEncoding = match alg {
                "RS256" => &RSA_PKCS1_SHA256,
                "RS384" => &RSA_PKCS1_SHA384,
                _ => &RSA_PKCS1_SHA512,
            };
            let mut sig = vec![0u8; kp.public().modulus_len()];
            kp.sign(enc, &rng, input.as_bytes(), &mut sig)
                .expect("sign");
            sig
        }
        "ES256" | "ES384" => {
            let a = if alg == "ES256" {
                &ECDSA_P256_SHA256_FIXED_SIGNING
            } else {
                &ECDSA_P384_SHA384_FIXED_SIGNING
            };
            let kp = EcdsaKeyPair::from_pkcs8(a, &der, &rng).expect("EC PKCS#8");
            kp.sign(&rng, input.as_bytes())
                .expect("sign")
                .as_ref()
                .to_vec()
        }
        _ => panic!("alg {alg}"),
    };
    format!("{input}.{}", b64url(&sig))
}

/// Decodes a JWT payload without verification.
pub fn jwt_claims(t: &str) -> Value {
    let p = t.split('.').nth(1).expect("JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).expect("b64")).expect("JSON")
}

/// A client-credentials token for the secret client with `scope`.
pub fn token_for(emu: &Emulator, agent: &ureq::Agent, scope: &str) -> String {
    let cid = emu.client_id(idaas_emulator::AuthMethod::ClientSecretPost);
    let r = post_form(
        agent,
        &emu.token_endpoint(),
        &form(&[
            ("client_id", &cid),
            ("client_secret", emu.client_secret()),
            ("grant_type", "client_credentials"),
            ("scope", scope),
        ]),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["access_token"].as_str().unwrap().to_string()
}

/// Whether `token` carries a valid ES256 signature by a key of the issuer's JWKS with the
/// token's `kid`.
pub fn verifies_with_issuer_jwks(emu: &Emulator, agent: &ureq::Agent, token: &str) -> bool {
    let jwks: Value = agent
        .get(&format!("{}/jwks", emu.issuer()))
        .call()
        .expect("JWKS")
        .into_body()
        .read_to_string()
        .map(|t| serde_json::from_str(&t).expect("JWKS JSON"))
        .expect("JWKS body");
    let (input, sig) = token.rsplit_once('.').expect("JWT");
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(input.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("header JSON");
    let Some(key) = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == header["kid"])
    else {
        return false;
    };
    let coord = |n: &str| URL_SAFE_NO_PAD.decode(key[n].as_str().expect("coordinate"));
    let mut point = vec![4u8];
    point.extend(coord("x").expect("x"));
    point.extend(coord("y").expect("y"));
    let sig = URL_SAFE_NO_PAD.decode(sig).expect("signature");
    header["alg"] == "ES256"
        && ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, point)
            .verify(input.as_bytes(), &sig)
            .is_ok()
}
