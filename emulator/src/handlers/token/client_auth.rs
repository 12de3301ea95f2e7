//! Client authentication at the token endpoint: Basic, `client_secret_post`, JWT assertions
//! (`client_secret_jwt`, `private_key_jwt`) and the federated methods (OIDC, PKCS7, PCA).

use super::{bad, unauthorized, Form, E};
use crate::fixtures::{ClientFixture, FederatedCredential, FederatedKind};
use crate::http::Request;
use crate::jwt::{Jwt, PublicKeyInfo};
use crate::state::State;
use crate::util::{now_secs, percent_decode, B64STD_LENIENT};
use crate::{ISSUER_PATH, TOKEN_PATH};
use base64::Engine;
use serde_json::Value;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const X509_BEARER: &str = "urn:cloud:idaas:params:oauth:client-assertion-type:x509-jwt-bearer";
const PKCS7_BEARER: &str = "urn:cloud:idaas:params:oauth:client-assertion-type:pkcs7-bearer";
const OIDC_BEARER: &str = "urn:cloud:idaas:params:oauth:client-assertion-type:id-token-bearer";
/// Clock skew tolerated on `exp`/`iat`/`nbf`.
const SKEW: i64 = 60;
/// Maximum lifetime of a client assertion (`exp - now`).
const MAX_ASSERTION_LIFETIME: i64 = 3600;

fn find_client<'a>(st: &'a State, id: &str) -> Result<&'a ClientFixture, E> {
    st.fixtures
        .clients
        .iter()
        .find(|c| c.client_id == id)
        .ok_or_else(|| unauthorized(format!("unknown client {id}")))
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A byte that a form encoder (RFC 6749 appendix B; Python's `quote_plus`, Java's `URLEncoder`)
/// may leave in its output: unreserved characters, `*`, `+` (a space) and `%` (an escape).
fn form_encoded_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'*' | b'+' | b'%')
}

pub(super) fn authenticate<'a>(
    st: &'a State,
    req: &Request,
    form: &Form,
) -> Result<&'a ClientFixture, E> {
    let basic = req.header("authorization").and_then(|h| {
        let h = h.trim();
        match (h.get(..6), h.get(6..)) {
            (Some(scheme), Some(rest)) if scheme.eq_ignore_ascii_case("basic ") => {
                Some(rest.trim().to_string())
            }
            _ => None,
        }
    });
    let body_id = form.get("client_id").filter(|s| !s.is_empty());
    let assertion_type = form.get("client_assertion_type");
    if let Some(b64) = basic {
        if form.get("client_secret").is_some() || assertion_type.is_some() {
            return Err(bad("more than one client authentication method"));
        }
        let raw = B64STD_LENIENT
            .decode(b64.as_bytes())
            .map_err(|_| unauthorized("Basic credentials are not valid base64"))?;
        let raw =
            String::from_utf8(raw).map_err(|_| unauthorized("Basic credentials are not UTF-8"))?;
        let (id, secret) = raw
            .split_once(':')
            .ok_or_else(|| unauthorized("Basic credentials lack a ':'"))?;
        let decode = |s: &str| percent_decode(s, true);
        let candidates = if st.token.strict_basic_encoding {
            // RFC 6749 §2.3.1, read strictly: id and secret are form-encoded, so each must be
            // in the alphabet of that encoding and is decoded before comparison. A raw secret
            // with `+` or `%` then decodes to something else (or is a bad escape), and one with
            // `:` or a space is not form-encoded at all.
            let strict = |part: &str| {
                if !part.bytes().all(form_encoded_byte) {
                    return Err(unauthorized(
                        "Basic credentials are not form-encoded (RFC 6749 section 2.3.1): a character other than A-Z a-z 0-9 - . _ ~ * + % was sent as is",
                    ));
                }
                decode(part).map_err(|e| {
                    unauthorized(format!(
                        "Basic credentials are not form-encoded (RFC 6749 section 2.3.1): {e}"
                    ))
                })
            };
            vec![(strict(id)?, strict(secret)?)]
        } else {
            // D-10: accept raw and form-url-encoded credentials.
            vec![
                (id.to_string(), secret.to_string()),
                (
                    decode(id).unwrap_or_default(),
                    decode(secret).unwrap_or_default(),
                ),
            ]
        };
        for (cid, sec) in &candidates {
            if let Some(c) = st.fixtures.clients.iter().find(|c| &c.client_id == cid) {
                if let Some(bid) = body_id {
                    if bid != c.client_id {
                        return Err(unauthorized(
                            "client_id in the body does not match the Basic credentials",
                        ));
                    }
                }
                match &c.client_secret {
                    Some(s) if ct_eq(s.as_bytes(), sec.as_bytes()) => return Ok(c),
                    _ => {}
                }
            }
        }
        return Err(unauthorized("client authentication failed"));
    }
    if let Some(at) = assertion_type {
        if form.get("client_secret").is_some() {
            return Err(bad("more than one client authentication method"));
        }
        let assertion = form.req("client_assertion")?;
        let kind = match at {
            JWT_BEARER => return auth_jwt_bearer(st, body_id, assertion),
            X509_BEARER => FederatedKind::Pca,
            PKCS7_BEARER => FederatedKind::Pkcs7,
            OIDC_BEARER => FederatedKind::Oidc,
            other => {
                return Err(unauthorized(format!(
                    "unsupported client_assertion_type {other}"
                )))
            }
        };
        let (c, fed) = federated_client(st, form, body_id, kind)?;
        match kind {
            FederatedKind::Oidc => verify_oidc(st, fed, assertion)?,
            FederatedKind::Pkcs7 => {
                crate::handlers::metadata::verify_document(st, assertion).map_err(unauthorized)?
            }
            FederatedKind::Pca => verify_pca(st, form, c, fed, assertion)?,
        }
        return Ok(c);
    }
    if let Some(secret) = form.get("client_secret") {
        let id = body_id.ok_or_else(|| bad("missing required parameter client_id"))?;
        let c = find_client(st, id)?;
        return match &c.client_secret {
            Some(s) if ct_eq(s.as_bytes(), secret.as_bytes()) => Ok(c),
            _ => Err(unauthorized("client authentication failed")),
        };
    }
    Err(unauthorized(
        "no client authentication (Basic, client_secret or client_assertion) was given",
    ))
}

/// URLs accepted as `aud` of client assertions: the token endpoint URL, or the issuer in strict
/// audience mode (each under every loopback name of this port, over https and http).
fn accepted_audiences(st: &State) -> Vec<String> {
    let path = if st.token.strict_assertion_audience {
        ISSUER_PATH
    } else {
        TOKEN_PATH
    };
    let mut v = Vec::new();
    for scheme in ["https", "http"] {
        for host in ["127.0.0.1", "localhost", "[::1]"] {
            v.push(format!("{scheme}://{host}:{}{path}", st.site.port));
        }
    }
    v.push(format!("{}{path}", st.site.https_base));
    v.push(format!("{}{path}", st.site.http_base));
    v
}

/// Checks iss/sub/aud/exp/iat/nbf/jti of a client assertion.
fn check_assertion_claims(st: &State, jwt: &Jwt, client_id: &str) -> Result<(), E> {
    if jwt.str_claim("iss") != Some(client_id) {
        return Err(unauthorized("client assertion iss must equal client_id"));
    }
    if jwt.str_claim("sub") != Some(client_id) {
        return Err(unauthorized("client assertion sub must equal client_id"));
    }
    let auds = accepted_audiences(st);
    let aud_ok = match jwt.claims.get("aud") {
        Some(Value::String(s)) => auds.contains(s),
        Some(Value::Array(a)) => a.iter().any(|v| {
            v.as_str()
                .map(|s| auds.iter().any(|x| x == s))
                .unwrap_or(false)
        }),
        _ => false,
    };
    if !aud_ok {
        return Err(unauthorized(if st.token.strict_assertion_audience {
            "client assertion aud must be the issuer (strict audience mode)"
        } else {
            "client assertion aud must be this token endpoint URL"
        }));
    }
    let now = now_secs() as i64;
    let exp = jwt
        .num_claim("exp")
        .ok_or_else(|| unauthorized("client assertion has no exp"))?;
    if exp <= now - SKEW {
        return Err(unauthorized("client assertion is expired"));
    }
    if exp > now + MAX_ASSERTION_LIFETIME + SKEW {
        return Err(unauthorized(
            "client assertion exp is more than one hour ahead",
        ));
    }
    if let Some(iat) = jwt.num_claim("iat") {
        if iat > now + SKEW {
            return Err(unauthorized("client assertion iat is in the future"));
        }
    }
    if let Some(nbf) = jwt.num_claim("nbf") {
        if nbf > now + SKEW {
            return Err(unauthorized("client assertion is not yet valid (nbf)"));
        }
    }
    let jti = match jwt.str_claim("jti") {
        Some(j) if !j.is_empty() => j,
        _ => return Err(unauthorized("client assertion has no jti")),
    };
    if !st.token.first_use_of_jti(client_id, jti, exp, now, SKEW) {
        return Err(unauthorized("jti already used"));
    }
    Ok(())
}

fn assertion_client_id<'a>(jwt: &'a Jwt, body_id: Option<&'a str>) -> Result<&'a str, E> {
    match (body_id, jwt.str_claim("iss")) {
        (Some(b), _) => Ok(b),
        (None, Some(i)) => Ok(i),
        (None, None) => Err(bad("missing required parameter client_id")),
    }
}

fn auth_jwt_bearer<'a>(
    st: &'a State,
    body_id: Option<&str>,
    assertion: &str,
) -> Result<&'a ClientFixture, E> {
    let jwt = decode_assertion(assertion)?;
    let id = assertion_client_id(&jwt, body_id)?;
    let c = find_client(st, id)?;
    let alg = jwt.alg().unwrap_or("");
    if alg.starts_with("HS") {
        let secret = c
            .client_secret
            .as_ref()
            .ok_or_else(|| unauthorized("client has no secret for an HMAC assertion"))?;
        jwt.verify_hmac(secret.as_bytes()).map_err(unauthorized)?;
    } else {
        if c.public_keys.is_empty() {
            return Err(unauthorized("client has no registered public key"));
        }
        let ok = c.public_keys.iter().any(|pem| {
            PublicKeyInfo::from_pem(pem)
                .map(|k| jwt.verify_with(&k).is_ok())
                .unwrap_or(false)
        });
        if !ok {
            return Err(unauthorized(format!(
                "client assertion signature ({alg}) does not verify with any registered key"
            )));
        }
    }
    check_assertion_claims(st, &jwt, &c.client_id)?;
    Ok(c)
}

/// The client of a federated method and its credential of `kind` named by
/// `application_federated_credential_name`.
fn federated_client<'a>(
    st: &'a State,
    form: &Form,
    body_id: Option<&str>,
    kind: FederatedKind,
) -> Result<(&'a ClientFixture, &'a FederatedCredential), E> {
    let id = body_id.ok_or_else(|| bad("missing required parameter client_id"))?;
    let c = find_client(st, id)?;
    let name = form.req("application_federated_credential_name")?;
    let fed = c
        .federated_credentials
        .iter()
        .find(|f| f.name == name && f.kind == kind)
        .ok_or_else(|| {
            unauthorized(format!(
                "client {} has no {kind:?} federated credential named {name}",
                c.client_id
            ))
        })?;
    Ok((c, fed))
}

fn decode_assertion(assertion: &str) -> Result<Jwt, E> {
    Jwt::decode(assertion).map_err(|e| unauthorized(format!("client_assertion: {e}")))
}

/// `id-token-bearer`: a token of the trusted OIDC issuer, unexpired, with the credential's
/// subject when it names one.
fn verify_oidc(st: &State, fed: &FederatedCredential, assertion: &str) -> Result<(), E> {
    let jwt = decode_assertion(assertion)?;
    if !st.keys.oidc.verify(&jwt) {
        return Err(unauthorized(
            "OIDC token is not signed by the trusted issuer",
        ));
    }
    if jwt.str_claim("iss") != Some(st.site.oidc_issuer().as_str()) {
        return Err(unauthorized("OIDC token iss is not the trusted issuer"));
    }
    let exp = jwt
        .num_claim("exp")
        .ok_or_else(|| unauthorized("OIDC token has no exp"))?;
    if exp <= now_secs() as i64 {
        return Err(unauthorized("OIDC token is expired"));
    }
    if let Some(s) = &fed.subject {
        if jwt.str_claim("sub") != Some(s.as_str()) {
            return Err(unauthorized(
                "OIDC token sub does not match the federated credential",
            ));
        }
    }
    Ok(())
}

/// `x509-jwt-bearer`: a certificate chaining to the PCA root (with the credential's CN when it
/// names one) and a client assertion signed by its key.
fn verify_pca(
    st: &State,
    form: &Form,
    c: &ClientFixture,
    fed: &FederatedCredential,
    assertion: &str,
) -> Result<(), E> {
    let leaf = form.req("client_x509")?;
    let chain = form.get("client_x509_chain").unwrap_or("");
    let (key, cn) = st
        .keys
        .pca
        .verify_chain(leaf, chain)
        .map_err(unauthorized)?;
    if let Some(s) = &fed.subject {
        if &cn != s {
            return Err(unauthorized(
                "client certificate CN does not match the federated credential",
            ));
        }
    }
    let jwt = decode_assertion(assertion)?;
    jwt.verify_with(&key).map_err(|e| {
        unauthorized(format!(
            "client assertion: {e} (must be signed by the certificate's key)"
        ))
    })?;
    check_assertion_claims(st, &jwt, &c.client_id)?;
    Ok(())
}
