//! The EIAM OpenAPI call that turns an Alibaba Cloud key into an IDaaS token:
//! `GenerateOauthToken`, version `2021-12-01`, signed with ACS3-HMAC-SHA256
//! (alibaba-plugin.md §3, §4, §6, §7).
//!
//! The request is the reference's byte for byte — query, header set and order, signature — except
//! the `user-agent`, which is the core's (D-21); its value is signed like every other header.
//! Each attempt gets a fresh `x-acs-date` and `x-acs-signature-nonce`. Transport failures, 429 and
//! 5xx are retried like token-endpoint requests (within the call budget); 4xx other than 429 are
//! not.

use super::chain::AlibabaCredential;
use super::sign;
use crate::clock::SharedClock;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{HttpClient, HttpRequest, HttpResponse, Method};
use crate::provider::Credential;
use crate::retry::RetryPolicy;
use crate::secret::SecretString;
use crate::server_text::Redactor;
use crate::token::error_from_response;
use ring::rand::SecureRandom;
use serde_json::Value;
use std::collections::BTreeSet;

/// The EIAM API version.
pub(crate) const API_VERSION: &str = "2021-12-01";
/// The action.
pub(crate) const ACTION: &str = "GenerateOauthToken";
/// Names the service in messages.
const WHAT: &str = "Alibaba Cloud OpenAPI GenerateOauthToken";

/// The parsed `openApiEndpoint`: base URL (scheme and authority) and the `host` header value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub base: String,
    pub host: String,
}

/// Parse the normalised `openApiEndpoint` (`https://host[:port]`, or `http://` for a loopback
/// host, core.md §2.7): a host and an optional port, nothing else. The reference takes whatever
/// follows the scheme as the host, so a path would end up in the `host` header; it is refused.
pub(crate) fn parse_endpoint(normalised: &str) -> Result<Endpoint> {
    let bad = |why: &str| {
        Error::config(
            "InvalidConfigValue",
            format!("openApiEndpoint: {why}; expected a host name and optional port, e.g. eiam.cn-hangzhou.aliyuncs.com"),
        )
    };
    crate::http::check_url(normalised).map_err(|e| bad(e.message()))?;
    let uri: ureq::http::Uri = normalised.parse().map_err(|_| bad("not a valid URL"))?;
    if uri
        .path_and_query()
        .is_some_and(|p| p.as_str() != "/" && !p.as_str().is_empty())
    {
        return Err(bad("a path or query is not allowed"));
    }
    let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
    let host = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .ok_or_else(|| bad("no host"))?;
    Ok(Endpoint {
        base: format!("{scheme}://{host}"),
        host,
    })
}

/// The audience and the sorted, de-duplicated values of a (validated) scope, as
/// alibaba-plugin.md §3 says: `a|x a|y a|x` → (`a`, [`x`, `y`]).
pub(crate) fn scope_params(scope: &str) -> Result<(String, Vec<String>)> {
    let mut audiences = BTreeSet::new();
    let mut values = BTreeSet::new();
    for item in scope.split_whitespace() {
        match item.split_once('|') {
            Some((a, v)) if !a.is_empty() && !v.is_empty() && !v.contains('|') => {
                audiences.insert(a);
                values.insert(v.to_string());
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    crate::scope::INVALID_SCOPE,
                    format!("Invalid scope: {item}"),
                ))
            }
        }
    }
    if audiences.len() != 1 {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            if audiences.is_empty() {
                crate::scope::INVALID_SCOPE
            } else {
                crate::scope::MULTIPLE_AUDIENCE
            },
            if audiences.is_empty() {
                "Scope is empty"
            } else {
                "Multiple audiences are not supported"
            },
        ));
    }
    let audience = audiences.into_iter().next().unwrap_or_default().to_string();
    Ok((audience, values.into_iter().collect()))
}

/// What varies per request: the time and the nonce.
pub(crate) struct Stamp<'a> {
    pub date: &'a str,
    pub nonce: &'a str,
    pub user_agent: &'a str,
}

/// A signed request: URL and headers (in the reference's order, `Authorization` last).
pub(crate) struct Signed {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
}

/// Build and sign the request (alibaba-plugin.md §4, §5).
pub(crate) fn build_request(
    endpoint: &Endpoint,
    application_id: &str,
    instance_id: &str,
    audience: &str,
    values: &[String],
    cred: &AlibabaCredential,
    stamp: &Stamp<'_>,
) -> Signed {
    let names: Vec<String> = (1..=values.len())
        .map(|i| format!("ScopeValues.{i}"))
        .collect();
    let mut params: Vec<(&str, &str)> = vec![
        ("ApplicationId", application_id),
        ("Audience", audience),
        ("InstanceId", instance_id),
    ];
    params.extend(
        names
            .iter()
            .map(String::as_str)
            .zip(values.iter().map(String::as_str)),
    );
    let mut headers: Vec<(&'static str, String)> = vec![
        ("host", endpoint.host.clone()),
        ("x-acs-version", API_VERSION.to_string()),
        ("x-acs-action", ACTION.to_string()),
        ("user-agent", stamp.user_agent.to_string()),
        ("x-acs-date", stamp.date.to_string()),
        ("x-acs-signature-nonce", stamp.nonce.to_string()),
        ("accept", "application/json".to_string()),
        ("x-acs-content-sha256", sign::EMPTY_BODY_SHA256.to_string()),
        ("x-acs-credentials-provider", cred.provider.clone()),
    ];
    if let Some(t) = &cred.security_token {
        headers.push(("x-acs-accesskey-id", cred.access_key_id.clone()));
        headers.push(("x-acs-security-token", t.expose().to_string()));
    }
    let to_sign: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let authorization = sign::sign(
        &cred.access_key_id,
        cred.access_key_secret.expose(),
        "POST",
        "/",
        &params,
        &to_sign,
        sign::EMPTY_BODY_SHA256,
    );
    headers.push(("Authorization", authorization));
    Signed {
        url: format!("{}/?{}", endpoint.base, sign::wire_query(&params)),
        headers,
    }
}

/// 32 lower-case hex characters from the system's random generator.
pub(crate) fn nonce() -> Result<String> {
    let mut b = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| Error::internal("the system random generator failed"))?;
    Ok(sign::hex(&b))
}

/// Where to send and for whom.
pub(crate) struct OpenApi {
    pub http: HttpClient,
    pub endpoint: Endpoint,
    pub application_id: String,
    pub instance_id: String,
    pub retry: RetryPolicy,
    pub clock: SharedClock,
}

impl std::fmt::Debug for OpenApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApi")
            .field("endpoint", &self.endpoint)
            .field("application_id", &self.application_id)
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

impl OpenApi {
    /// `GenerateOauthToken` for `audience` and `values` with `cred`, retried as the module docs
    /// say. Errors keep their kind here (the plugin maps them, see `mod.rs`).
    pub fn generate_oauth_token(
        &self,
        cred: &AlibabaCredential,
        audience: &str,
        values: &[String],
    ) -> Result<Credential> {
        let deadline = self.http.deadline();
        let secrets = Redactor::new().with(cred.security_token.as_ref());
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let now = self.clock.now_secs();
            let date = super::time::format_utc(now);
            let nonce = nonce()?;
            let signed = build_request(
                &self.endpoint,
                &self.application_id,
                &self.instance_id,
                audience,
                values,
                cred,
                &Stamp {
                    date: &date,
                    nonce: &nonce,
                    user_agent: &self.http.options().user_agent,
                },
            );
            let sent = self.http.send_before(
                HttpRequest {
                    method: Method::Post,
                    url: &signed.url,
                    headers: signed
                        .headers
                        .iter()
                        .map(|(k, v)| (*k, v.clone()))
                        .collect(),
                    body: Some(Vec::new()),
                },
                deadline,
            );
            let Signed { headers, .. } = signed;
            for (_, v) in headers {
                crate::secret::wipe(v);
            }
            let (result, retry_after) = match sent {
                Ok(resp) => {
                    let ra = retry_after(&resp);
                    let parsed = parse_reply(&resp, now, &secrets);
                    // The body held the token.
                    crate::secret::wipe_bytes(resp.body);
                    (parsed, ra)
                }
                Err(e) => (Err(e), None),
            };
            let err = match result {
                Ok(c) => return Ok(c),
                Err(e) => e,
            };
            if attempt >= self.retry.max_attempts.max(1) || !err.is_retryable() {
                return Err(err);
            }
            let delay = self.retry.delay(attempt, retry_after);
            if !self.http.fits(deadline, delay) {
                return Err(err);
            }
            crate::diag::event!(Debug, "{WHAT} failed ({err}); retry {attempt} in {delay:?}");
            std::thread::sleep(delay);
        }
    }
}

/// `Retry-After` or `x-acs-retry-after` of a 429 or 5xx reply.
fn retry_after(resp: &HttpResponse) -> Option<std::time::Duration> {
    if resp.status != 429 && resp.status < 500 {
        return None;
    }
    resp.header("retry-after")
        .or_else(|| resp.header("x-acs-retry-after"))
        .and_then(crate::retry::parse_retry_after)
}

fn bad_reply(status: u16, code: &str, why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::UnexpectedResponse,
        code,
        format!("{WHAT} reply: {why}"),
    )
    .with_status(status)
}

/// A non-negative integer (also given as a string).
fn int_field(obj: &serde_json::Map<String, Value>, key: &str) -> Option<u64> {
    match obj.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The reply (alibaba-plugin.md §6, §7): errors by status (4xx `Auth`, 429 `Client`, 5xx
/// `Server`, with `Code`, `Message` and `RequestId`); a 2xx must be JSON with
/// `TokenResponse.AccessToken` and `ExpiresAt` or `ExpiresIn`.
pub(crate) fn parse_reply(resp: &HttpResponse, now: u64, secrets: &Redactor) -> Result<Credential> {
    if !(200..300).contains(&resp.status) {
        return Err(error_from_response(resp, WHAT, secrets));
    }
    let v: Value = serde_json::from_slice(&resp.body).map_err(|e| {
        bad_reply(
            resp.status,
            "InvalidResponse",
            format!(
                "the body is not JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let rid = v
        .get("RequestId")
        .and_then(Value::as_str)
        .map(|r| secrets.redact(r).into_owned());
    let with_rid = |e: Error| match &rid {
        Some(r) => e.with_request_id(r.clone()),
        None => e,
    };
    let tr = v
        .get("TokenResponse")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            with_rid(bad_reply(
                resp.status,
                "InvalidResponse",
                "TokenResponse is missing",
            ))
        })?;
    let token = tr
        .get("AccessToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            with_rid(bad_reply(
                resp.status,
                "AccessTokenNotFound",
                "TokenResponse.AccessToken is missing",
            ))
        })?;
    let expires_in = int_field(tr, "ExpiresIn").unwrap_or(0);
    let expires_at = int_field(tr, "ExpiresAt").unwrap_or(0);
    if expires_in == 0 && expires_at == 0 {
        return Err(with_rid(bad_reply(
            resp.status,
            "InvalidResponse",
            "TokenResponse has neither ExpiresAt nor ExpiresIn, so the token's lifetime is unknown",
        )));
    }
    let c = Credential {
        access_token: SecretString::new(token.to_string()),
        token_type: tr
            .get("TokenType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        expires_in,
        expires_at: crate::token::effective_expires_at(expires_at, expires_in, now),
        ..Credential::default()
    };
    // The token is sent as `Authorization: Bearer` later: held to the token endpoint's rules.
    crate::token::check_server_credential(&c, WHAT)
        .and_then(|_| crate::token::check_credential(&c, now, WHAT))
        .map_err(|e| with_rid(e.with_status(resp.status)))?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cred(token: Option<&str>) -> AlibabaCredential {
        match token {
            None => AlibabaCredential {
                access_key_id: "LTAI5tConformanceTestAK01".into(),
                access_key_secret: SecretString::new("conformance-ak-secret-0123456789abcdef"),
                security_token: None,
                expiration: None,
                provider: "default/env".into(),
            },
            Some(t) => AlibabaCredential {
                access_key_id: "STS.ConformanceTestSts01".into(),
                access_key_secret: SecretString::new("conformance-sts-secret-0123456789abcdef"),
                security_token: Some(SecretString::new(t)),
                expiration: None,
                provider: "default/env".into(),
            },
        }
    }

    const STAMP: Stamp<'static> = Stamp {
        date: "2026-01-01T00:00:00Z",
        nonce: "0123456789abcdef0123456789abcdef",
        user_agent: "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2",
    };

    fn header<'a>(s: &'a Signed, name: &str) -> &'a str {
        s.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    #[test]
    fn full_pipeline_reproduces_the_test_vectors() {
        let ep = parse_endpoint("https://eiam.cn-hangzhou.aliyuncs.com").unwrap();
        let (aud, values) = scope_params("api.example.com|write api.example.com|read").unwrap();
        let s = build_request(
            &ep,
            "app_conformance_client",
            "idaas_conformance_instance",
            &aud,
            &values,
            &cred(None),
            &STAMP,
        );
        assert_eq!(s.url, "https://eiam.cn-hangzhou.aliyuncs.com/?ApplicationId=app_conformance_client&Audience=api.example.com&InstanceId=idaas_conformance_instance&ScopeValues.1=read&ScopeValues.2=write");
        assert_eq!(header(&s, "Authorization"), "ACS3-HMAC-SHA256 Credential=LTAI5tConformanceTestAK01,SignedHeaders=accept;host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=669ae0a1c58b2c4931887f708b34d61c8487155e16f7433f30a6483c023628d8");
        let names: Vec<&str> = s.headers.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "host",
                "x-acs-version",
                "x-acs-action",
                "user-agent",
                "x-acs-date",
                "x-acs-signature-nonce",
                "accept",
                "x-acs-content-sha256",
                "x-acs-credentials-provider",
                "Authorization"
            ]
        );
        // STS key, same scope: V2's second signature.
        let s = build_request(
            &ep,
            "app_conformance_client",
            "idaas_conformance_instance",
            &aud,
            &values,
            &cred(Some("conformance-sts-security-token-0123456789abcdef")),
            &STAMP,
        );
        assert!(header(&s, "Authorization").ends_with(
            ",Signature=2dbde400e04ad32a906ccdc2405b0b61d93405edbde1c6287f07a5e5eb7ac696"
        ));
        assert_eq!(header(&s, "x-acs-accesskey-id"), "STS.ConformanceTestSts01");
        // V2 proper.
        let (aud, values) = scope_params("https://api.example.com/v1|read:file").unwrap();
        let s = build_request(
            &ep,
            "app_conformance_client",
            "idaas_conformance_instance",
            &aud,
            &values,
            &cred(Some("conformance-sts-security-token-0123456789abcdef")),
            &STAMP,
        );
        assert!(header(&s, "Authorization").ends_with(
            ",Signature=92fa831a04c5233b24044e32a69d27d40b1ca175fcf65c0c614376e4b3248fed"
        ));
    }

    #[test]
    fn scope_values_are_a_sorted_set() {
        let (a, v) = scope_params("  aud|write aud|read\taud|write aud|admin ").unwrap();
        assert_eq!(
            (a.as_str(), v),
            (
                "aud",
                vec!["admin".to_string(), "read".into(), "write".into()]
            )
        );
        assert_eq!(
            scope_params("a|x b|y").unwrap_err().code(),
            "MultipleAudienceNotSupported"
        );
        assert_eq!(scope_params("a|x|y").unwrap_err().code(), "InvalidScope");
        assert_eq!(scope_params(" ").unwrap_err().code(), "InvalidScope");
    }

    #[test]
    fn endpoints() {
        let e = parse_endpoint("https://eiam.cn-hangzhou.aliyuncs.com/").unwrap();
        assert_eq!(
            (e.base.as_str(), e.host.as_str()),
            (
                "https://eiam.cn-hangzhou.aliyuncs.com",
                "eiam.cn-hangzhou.aliyuncs.com"
            )
        );
        let e = parse_endpoint("http://127.0.0.1:8443").unwrap();
        assert_eq!(
            (e.base.as_str(), e.host.as_str()),
            ("http://127.0.0.1:8443", "127.0.0.1:8443")
        );
        for bad in [
            "https://eiam.example/path",
            "https://eiam.example/?a=b",
            "http://eiam.example",
            "https://u:p@eiam.example",
        ] {
            let e = parse_endpoint(bad).unwrap_err();
            assert_eq!(
                (e.kind(), e.code()),
                (ErrorKind::Config, "InvalidConfigValue"),
                "{bad}"
            );
            assert!(e.message().starts_with("openApiEndpoint: "), "{e}");
        }
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn replies() {
        let none = Redactor::new();
        let c = parse_reply(&resp(200, r#"{"RequestId":"R","TokenResponse":{"AccessToken":"eyJ.a.b","ExpiresIn":1200,"ExpiresAt":2000001200,"TokenType":"Bearer"}}"#), 2_000_000_000, &none).unwrap();
        assert_eq!(
            (
                c.access_token.expose(),
                c.expires_in,
                c.expires_at,
                c.token_type.as_str()
            ),
            ("eyJ.a.b", 1200, 2_000_001_200, "Bearer")
        );
        // ExpiresAt missing: now + ExpiresIn.
        let c = parse_reply(
            &resp(
                200,
                r#"{"TokenResponse":{"AccessToken":"t","ExpiresIn":60}}"#,
            ),
            1000,
            &none,
        )
        .unwrap();
        assert_eq!(c.expires_at, 1060);
        let e = parse_reply(
            &resp(200, r#"{"TokenResponse":{"AccessToken":"t"}}"#),
            1000,
            &none,
        )
        .unwrap_err();
        assert!(
            e.message().contains("neither ExpiresAt nor ExpiresIn"),
            "{e}"
        );
        let e = parse_reply(&resp(200, r#"{"RequestId":"R9"}"#), 1000, &none).unwrap_err();
        assert_eq!((e.code(), e.request_id()), ("InvalidResponse", Some("R9")));
        let e = parse_reply(&resp(200, "<html>"), 1000, &none).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedResponse);
        let e = parse_reply(
            &resp(
                200,
                r#"{"TokenResponse":{"AccessToken":"bad token","ExpiresIn":60}}"#,
            ),
            1000,
            &none,
        )
        .unwrap_err();
        assert_eq!(e.code(), "InvalidResponseValue");
        // Errors by status, with the service's code and request id; secrets redacted.
        let mut secrets = Redactor::new();
        secrets.add_str("the-security-token");
        let e = parse_reply(&resp(400, r#"{"RequestId":"R1","HostId":"h","Code":"SignatureDoesNotMatch","Message":"bad the-security-token"}"#), 0, &secrets).unwrap_err();
        assert_eq!(
            (e.kind(), e.code(), e.request_id(), e.http_status()),
            (
                ErrorKind::Auth,
                "SignatureDoesNotMatch",
                Some("R1"),
                Some(400)
            )
        );
        assert!(!e.message().contains("the-security-token"), "{e}");
        let e = parse_reply(&resp(429, r#"{"Code":"Throttling"}"#), 0, &none).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Client);
        let e = parse_reply(
            &resp(503, r#"{"Code":"ServiceUnavailable","RequestId":"R2"}"#),
            0,
            &none,
        )
        .unwrap_err();
        assert_eq!(
            (e.kind(), e.code(), e.request_id()),
            (ErrorKind::Server, "ServiceUnavailable", Some("R2"))
        );
        assert!(e.is_retryable());
    }

    #[test]
    fn nonces_are_fresh_hex() {
        let a = nonce().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_ne!(a, nonce().unwrap());
    }
}
