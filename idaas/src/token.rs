//! The token endpoint protocol: requests per method, responses, errors (core.md §5).
//!
//! * Form encoding (§5.1): the Python form: `A-Z a-z 0-9 - . _ ~` kept, space → `+`, every other byte
//!   → `%XX` (upper-case hex). Parameters in the order of the §5.2 table.
//! * `Content-Type: application/x-www-form-urlencoded` without charset; `Authorization: Basic` only for
//!   `CLIENT_SECRET_BASIC`, built from the raw `client_id:secret` (decision D-10) unless
//!   `clientSecretBasicEncoding` is `form` (see [`crate::auth`]).
//! * Responses (§5.3): any 2xx with a JSON object body. Decision D-11: `expires_at` is used when
//!   present (> 0), else `now + expires_in`; with neither the credential has `expires_at = 0` and
//!   is not cached (the next call fetches again). A 2xx reply without `access_token`
//!   (`AccessTokenNotFound`) or with an `expires_at` already past and no `expires_in`
//!   (`TokenAlreadyExpired`) is an
//!   [`ErrorKind::UnexpectedResponse`] (see [`check_credential`]). The cache additionally never trusts a token longer
//!   than `now + expires_in` by the local clock (clock-skew protection, see
//!   [`crate::client::cache_expiry_ms`]).
//! * Errors (§5.4): 3xx → [`ErrorKind::UnexpectedResponse`] with code = status text and the
//!   `Location` in the message (redirects are never followed, D-12); 4xx → [`ErrorKind::Auth`] with the
//!   server's `error`/`Code`, `error_description`/`Message`, `request_id`/`RequestId` (or the
//!   `x-request-id` header), except 429 (throttling) → [`ErrorKind::Client`]; ≥ 500 → [`ErrorKind::Server`]; a non-JSON error body gives code = the status
//!   text (e.g. `"502"`) and message = a body snippet. Decision D-13: `authorization_pending` and
//!   `slow_down` are ordinary errors here (no device flow is implemented).
//! * Server text (SECURITY.md "Server text", [`crate::server_text`]): the reply's `access_token`
//!   must be an RFC 6750 `b64token` (and the other fields within their character sets, see
//!   [`check_credential`]), else `InvalidResponseValue`; the secrets a request sent
//!   ([`TokenRequest::secrets`]) are redacted from the server's error text, whose control characters
//!   are escaped by [`Error`].
//!
//! # Retries
//! The references never retry. We retry a token request (rebuilding the client authentication, so
//! a fresh assertion and `jti` are used) on transport errors, timeouts, HTTP 429 and 5xx: at most
//! [`RetryPolicy::max_attempts`] attempts (default 3), with capped, jittered exponential delays
//! (default 100 ms, 200 ms … capped at 2 s; a 429's `Retry-After` is honoured up to that cap), and
//! never beyond the configured read-timeout budget measured from the first attempt. 4xx other
//! than 429 are never retried.

use crate::error::{Error, ErrorKind, Result};
use crate::http::{Deadline, HttpClient, HttpRequest, HttpResponse, Method};
use crate::provider::Credential;
use crate::secret::SecretString;
use crate::server_text::{self, Redactor, TextRule};
use serde_json::Value;

/// `grant_type` for obtaining tokens.
pub const GRANT_CLIENT_CREDENTIALS: &str = "client_credentials";
/// `client_assertion_type` for `CLIENT_SECRET_JWT` / `PRIVATE_KEY_JWT`.
pub const ASSERTION_TYPE_JWT_BEARER: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// `client_assertion_type` for `PCA`.
pub const ASSERTION_TYPE_X509_JWT: &str =
    "urn:cloud:idaas:params:oauth:client-assertion-type:x509-jwt-bearer";
/// `client_assertion_type` for `PKCS7`.
pub const ASSERTION_TYPE_PKCS7: &str =
    "urn:cloud:idaas:params:oauth:client-assertion-type:pkcs7-bearer";
/// `client_assertion_type` for `OIDC`.
pub const ASSERTION_TYPE_ID_TOKEN: &str =
    "urn:cloud:idaas:params:oauth:client-assertion-type:id-token-bearer";
/// The form content type.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Append the Python-style form encoding of `s` to `out`.
pub fn form_encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

/// Form-encode one value.
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    form_encode_into(&mut out, s);
    out
}

/// An `application/x-www-form-urlencoded` body built in order. The text is zeroed on drop (it
/// usually holds a secret or an assertion); `Debug` shows only the parameter names.
#[derive(Default)]
pub struct Form {
    body: String,
    names: Vec<&'static str>,
}

impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Form").field("names", &self.names).finish()
    }
}

impl Drop for Form {
    fn drop(&mut self) {
        crate::secret::wipe(std::mem::take(&mut self.body));
    }
}

impl Form {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Make room for `additional` bytes without letting `String` reallocate in place: the buffer is
    /// moved to a larger allocation by hand and the old one wiped, so no unzeroed copy of a secret
    /// is left in freed memory.
    fn reserve_wiping(&mut self, additional: usize) {
        if self.body.capacity() - self.body.len() >= additional {
            return;
        }
        let cap = (self.body.len() + additional)
            .max(self.body.capacity() * 2)
            .max(256);
        let mut grown = String::with_capacity(cap);
        grown.push_str(&self.body);
        crate::secret::wipe(std::mem::replace(&mut self.body, grown));
    }

    /// Append `name=value`.
    pub fn push(&mut self, name: &'static str, value: &str) -> &mut Self {
        // Worst case: every byte percent-encoded, plus '&' and '='.
        self.reserve_wiping(3 * (name.len() + value.len()) + 2);
        if !self.body.is_empty() {
            self.body.push('&');
        }
        form_encode_into(&mut self.body, name);
        self.body.push('=');
        form_encode_into(&mut self.body, value);
        self.names.push(name);
        self
    }

    /// The encoded body.
    pub fn as_str(&self) -> &str {
        &self.body
    }

    /// The parameter names, in order.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }
}

pub use crate::retry::RetryPolicy;

/// A token request ready to send (headers beyond Content-Type, and the form).
#[derive(Debug, Default)]
pub struct TokenRequest {
    /// Extra headers (e.g. `Authorization`); values may be secret, never logged.
    pub headers: Vec<(&'static str, SecretString)>,
    /// The form body.
    pub form: Form,
    /// The secrets this request sends, redacted from the server's error reply
    /// ([`crate::server_text`]). Filled by [`TokenRequest::push_secret`] and by the client
    /// authentication.
    pub secrets: Redactor,
}

impl TokenRequest {
    /// Append the secret form field `name=value` (see [`Form::push`]) and remember `value` for
    /// redaction.
    pub fn push_secret(&mut self, name: &'static str, value: &SecretString) -> &mut Self {
        self.form.push(name, value.expose());
        self.secrets.add(value);
        self
    }
}

/// POST `build()` to `endpoint` with retries, and parse the reply. `build` is called once per attempt.
/// The whole call, retries and back-offs included, stays within the HTTP client's call budget
/// (a retry is started only when it fits, see [`HttpClient::fits`]).
pub fn post_with_retries(
    http: &HttpClient,
    endpoint: &str,
    retry: &RetryPolicy,
    now_secs: &dyn Fn() -> u64,
    build: &dyn Fn() -> Result<TokenRequest>,
) -> Result<Credential> {
    let deadline = http.deadline();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let req = build()?;
        // The request's secrets, for the error mapping (`post_once` consumes the request).
        let secrets = req.secrets.clone();
        let (result, retry_after) = match post_once(http, endpoint, req, deadline) {
            Ok(resp) => {
                let ra = if resp.status == 429 {
                    resp.header("retry-after")
                        .and_then(crate::retry::parse_retry_after)
                } else {
                    None
                };
                (
                    parse_token_response_redacting(&resp, now_secs(), &secrets),
                    ra,
                )
            }
            Err(e) => (Err(e), None),
        };
        let err = match result {
            Ok(c) => return Ok(c),
            Err(e) => e,
        };
        if attempt >= retry.max_attempts.max(1) || !err.is_retryable() {
            return Err(err);
        }
        let delay = retry.delay(attempt, retry_after);
        if !http.fits(deadline, delay) {
            return Err(err);
        }
        crate::diag::event!(
            Debug,
            "token request to {endpoint} failed ({err}); retry {attempt} in {delay:?}"
        );
        std::thread::sleep(delay);
    }
}

fn post_once(
    http: &HttpClient,
    endpoint: &str,
    req: TokenRequest,
    deadline: Deadline,
) -> Result<HttpResponse> {
    let mut headers: Vec<(&str, String)> = Vec::with_capacity(req.headers.len() + 1);
    headers.push(("Content-Type", FORM_CONTENT_TYPE.to_string()));
    for (k, v) in &req.headers {
        headers.push((k, v.expose().to_string()));
    }
    http.send_before(
        HttpRequest {
            method: Method::Post,
            url: endpoint,
            headers,
            body: Some(req.form.as_str().as_bytes().to_vec()),
        },
        deadline,
    )
}

fn str_field<'a>(obj: &'a serde_json::Map<String, Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .filter_map(|k| obj.get(*k).and_then(Value::as_str))
        .find(|s| !s.is_empty())
}

fn int_field(obj: &serde_json::Map<String, Value>, key: &str) -> Option<u64> {
    match obj.get(key)? {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Turn a token-endpoint reply into a credential or an error (§5.3, §5.4), for a request that sent
/// no secret (see [`parse_token_response_redacting`]).
pub fn parse_token_response(resp: &HttpResponse, now_secs: u64) -> Result<Credential> {
    parse_token_response_redacting(resp, now_secs, &Redactor::new())
}

/// Turn a token-endpoint reply into a credential or an error (§5.3, §5.4). `secrets` are the
/// secrets of the request, redacted from the server's error text ([`crate::server_text`]). A
/// credential whose values are outside their character sets is refused
/// ([`check_server_credential`]).
pub fn parse_token_response_redacting(
    resp: &HttpResponse,
    now_secs: u64,
    secrets: &Redactor,
) -> Result<Credential> {
    if !(200..300).contains(&resp.status) {
        return Err(error_from_response(resp, "token endpoint", secrets));
    }
    let v: Value = serde_json::from_slice(&resp.body).map_err(|e| {
        Error::new(
            ErrorKind::UnexpectedResponse,
            "InvalidResponse",
            format!(
                "token endpoint replied HTTP {} with a body that is not JSON ({e})",
                resp.status
            ),
        )
        .with_status(resp.status)
    })?;
    let obj = v.as_object().ok_or_else(|| {
        Error::new(
            ErrorKind::UnexpectedResponse,
            "InvalidResponse",
            "token endpoint replied with JSON that is not an object",
        )
        .with_status(resp.status)
    })?;
    let c = credential_from_json(obj, now_secs);
    check_credential_from(&c, now_secs, "token endpoint", true)
        .map_err(|e| e.with_status(resp.status))?;
    Ok(c)
}

/// The stricter character sets of a credential sent by a server ([`crate::server_text`]): the
/// `access_token` must be an RFC 6750 `b64token` (it is sent as `Authorization: Bearer`) and an
/// `id_token` a compact JWT. [`ErrorKind::UnexpectedResponse`] (`InvalidResponseValue`) otherwise,
/// naming the field, never the value.
pub fn check_server_credential(c: &Credential, what: &str) -> Result<()> {
    let what = format!("{what} reply");
    server_text::check(
        &what,
        "access_token",
        c.access_token.expose(),
        TextRule::B64Token,
    )?;
    server_text::check_opt(
        &what,
        "id_token",
        c.id_token.as_ref().map(SecretString::expose),
        TextRule::Jwt,
    )
}

/// Refuse a credential that cannot be used: an empty `access_token` (`AccessTokenNotFound`; the
/// references accept it and later hand out a null token), values outside their character sets
/// (`InvalidResponseValue`: an `access_token` outside visible ASCII, a `refresh_token` or `id_token`
/// outside RFC 6749 `VSCHAR`, control characters in `token_type`, `scope` or `issued_token_type`;
/// see [`crate::server_text`]) or an `expires_at` that is already past by our clock with no
/// `expires_in` to fall back on (`TokenAlreadyExpired`; see [`effective_expires_at`]). All are
/// [`ErrorKind::UnexpectedResponse`]; the cache backs off before retrying. Applies to plugin tokens
/// too; replies of a server are also held to [`check_server_credential`].
pub fn check_credential(c: &Credential, now_secs: u64, what: &str) -> Result<()> {
    check_credential_from(c, now_secs, what, false)
}

/// [`check_credential`], plus [`check_server_credential`] when `server`: every character-set
/// check comes before the expiry check, so the error does not depend on the clock.
fn check_credential_from(c: &Credential, now_secs: u64, what: &str, server: bool) -> Result<()> {
    if c.access_token.is_empty() {
        return Err(Error::new(
            ErrorKind::UnexpectedResponse,
            "AccessTokenNotFound",
            format!("{what} reply has no access_token"),
        ));
    }
    {
        use server_text::{check, check_opt};
        let w = format!("{what} reply");
        check(
            &w,
            "access_token",
            c.access_token.expose(),
            TextRule::Visible,
        )?;
        check_opt(
            &w,
            "refresh_token",
            c.refresh_token.as_ref().map(SecretString::expose),
            TextRule::VsChar,
        )?;
        check_opt(
            &w,
            "id_token",
            c.id_token.as_ref().map(SecretString::expose),
            TextRule::VsChar,
        )?;
        check(&w, "token_type", &c.token_type, TextRule::NoControl)?;
        check_opt(&w, "scope", c.scope.as_deref(), TextRule::NoControl)?;
        check_opt(
            &w,
            "issued_token_type",
            c.issued_token_type.as_deref(),
            TextRule::NoControl,
        )?;
    }
    if server {
        check_server_credential(c, what)?;
    }
    if c.expires_at != 0 && c.expires_at <= now_secs {
        return Err(Error::new(
            ErrorKind::UnexpectedResponse,
            "TokenAlreadyExpired",
            format!(
                "{what} returned a token that is already expired (expires_at {} <= now {now_secs}); check the system clock",
                c.expires_at
            ),
        ));
    }
    Ok(())
}

/// The absolute expiry to record (D-11): the server's `expires_at` when present and in the future;
/// `now + expires_in` when `expires_at` is absent, or already past by our clock while `expires_in`
/// is positive (the clocks disagree: the relative lifetime is trusted and a warning logged); else
/// the server's value (0 = none; a past value is then refused by [`check_credential`]).
pub fn effective_expires_at(server_expires_at: u64, expires_in: u64, now_secs: u64) -> u64 {
    if expires_in == 0 {
        return server_expires_at;
    }
    if server_expires_at == 0 {
        return now_secs.saturating_add(expires_in);
    }
    if server_expires_at <= now_secs {
        crate::diag::event!(Warn, "token reply expires_at {server_expires_at} is already past by the local clock (now {now_secs}); using expires_in ({expires_in} s) instead; check the system clock"
        );
        return now_secs.saturating_add(expires_in);
    }
    server_expires_at
}

/// Build a credential from a token-reply JSON object (D-11 expiry rule).
pub fn credential_from_json(obj: &serde_json::Map<String, Value>, now_secs: u64) -> Credential {
    let s = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
    let expires_in = int_field(obj, "expires_in").unwrap_or(0);
    let expires_at = effective_expires_at(
        int_field(obj, "expires_at").unwrap_or(0),
        expires_in,
        now_secs,
    );
    Credential {
        access_token: SecretString::new(s("access_token").unwrap_or_default()),
        token_type: s("token_type").unwrap_or_default(),
        expires_in,
        expires_at,
        id_token: s("id_token").map(SecretString::new),
        refresh_token: s("refresh_token").map(SecretString::new),
        issued_token_type: s("issued_token_type"),
        scope: s("scope"),
    }
}

/// Map a non-2xx reply to an error (§5.4). `what` names the server in messages; `secrets` are the
/// secrets the request sent, replaced by `** redacted **` wherever the server echoes them (its
/// `error`, `error_description`, request id, `Location` or body). Control characters are escaped by
/// [`Error`] itself (see [`crate::server_text`]).
pub fn error_from_response(resp: &HttpResponse, what: &str, secrets: &Redactor) -> Error {
    let status = resp.status;
    let text = |s: &str| secrets.redact(s).into_owned();
    let header_rid = resp.header("x-request-id").map(text);
    if (300..400).contains(&status) {
        let loc = resp.header("location").unwrap_or("");
        let mut msg =
            format!("{what} replied with a redirect (HTTP {status}), which is not followed");
        if !loc.is_empty() {
            msg.push_str(&format!(
                "; Redirect to: {}",
                text(loc.split('?').next().unwrap_or(loc))
            ));
        }
        let snippet = secrets.body_snippet(&resp.body, 200);
        if !snippet.is_empty() {
            msg.push_str(&format!("; body: {snippet}"));
        }
        let mut e =
            Error::new(ErrorKind::UnexpectedResponse, status.to_string(), msg).with_status(status);
        if let Some(r) = header_rid {
            e = e.with_request_id(r);
        }
        return e;
    }
    let kind = if status >= 500 {
        ErrorKind::Server
    } else if status == 429 {
        // Throttling is not a refusal of our credentials (error.rs: 429 is a Client error).
        ErrorKind::Client
    } else if (400..500).contains(&status) {
        ErrorKind::Auth
    } else {
        ErrorKind::UnexpectedResponse
    };
    let parsed: Option<serde_json::Map<String, Value>> =
        serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            });
    let (code, message, rid) = match &parsed {
        Some(obj) => (
            str_field(obj, &["error", "Code"]).map(text),
            str_field(obj, &["error_description", "Message"]).map(text),
            str_field(obj, &["request_id", "RequestId"]).map(text),
        ),
        None => (None, None, None),
    };
    let code = code.unwrap_or_else(|| status.to_string());
    let message = message.unwrap_or_else(|| {
        let snippet = secrets.body_snippet(&resp.body, 200);
        if snippet.is_empty() {
            format!("{what} replied HTTP {status}")
        } else {
            snippet
        }
    });
    let mut e = Error::new(kind, code, message).with_status(status);
    if let Some(r) = rid.or(header_rid) {
        e = e.with_request_id(r);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str, headers: &[(&str, &str)]) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn form_matches_spec_example() {
        let mut f = Form::new();
        f.push("client_id", "app_abc")
            .push("client_secret", "s3cr3t:with/special+chars")
            .push("grant_type", GRANT_CLIENT_CREDENTIALS)
            .push(
                "scope",
                "api.example.com|read:file api.example.com|write:file",
            );
        assert_eq!(f.as_str(), "client_id=app_abc&client_secret=s3cr3t%3Awith%2Fspecial%2Bchars&grant_type=client_credentials&scope=api.example.com%7Cread%3Afile+api.example.com%7Cwrite%3Afile");
        assert_eq!(form_encode("a~b*\n="), "a~b%2A%0A%3D");
        assert!(!format!("{f:?}").contains("s3cr3t"));
    }

    #[test]
    fn responses() {
        let c = parse_token_response(&resp(200, r#"{"access_token":"t","token_type":"Bearer","expires_in":1200,"expires_at":1760001200}"#, &[]), 5).unwrap();
        assert_eq!(
            (c.access_token.expose(), c.expires_at, c.expires_in),
            ("t", 1760001200, 1200)
        );
        let c = parse_token_response(
            &resp(201, r#"{"access_token":"t","expires_in":60}"#, &[]),
            1000,
        )
        .unwrap();
        assert_eq!(c.expires_at, 1060);
        let c = parse_token_response(&resp(200, r#"{"access_token":"t"}"#, &[]), 1000).unwrap();
        assert_eq!(c.expires_at, 0);
        // absurd values never overflow
        let c = parse_token_response(
            &resp(
                200,
                r#"{"access_token":"t","expires_in":18446744073709551615,"expires_at":-5}"#,
                &[],
            ),
            1000,
        )
        .unwrap();
        assert_eq!(c.expires_at, u64::MAX);
        let c = parse_token_response(
            &resp(200, r#"{"access_token":"t","expires_in":1e300}"#, &[]),
            1,
        )
        .unwrap();
        assert_eq!(c.expires_in, u64::MAX);
        let e = parse_token_response(&resp(200, "nope", &[]), 0).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedResponse);
        let e = parse_token_response(
            &resp(
                401,
                r#"{"error":"invalid_client","error_description":"bad","request_id":"R1"}"#,
                &[],
            ),
            0,
        )
        .unwrap_err();
        assert_eq!(
            (
                e.kind(),
                e.code(),
                e.message(),
                e.request_id(),
                e.http_status()
            ),
            (
                ErrorKind::Auth,
                "invalid_client",
                "bad",
                Some("R1"),
                Some(401)
            )
        );
        let e = parse_token_response(
            &resp(
                400,
                r#"{"error":"","Code":"InvalidParameter","Message":"bad scope","RequestId":"R2"}"#,
                &[],
            ),
            0,
        )
        .unwrap_err();
        assert_eq!(
            (e.code(), e.message(), e.request_id()),
            ("InvalidParameter", "bad scope", Some("R2"))
        );
        let e = parse_token_response(
            &resp(502, "<html>bad gateway</html>", &[("x-request-id", "H1")]),
            0,
        )
        .unwrap_err();
        assert_eq!(
            (e.kind(), e.code(), e.message(), e.request_id()),
            (
                ErrorKind::Server,
                "502",
                "<html>bad gateway</html>",
                Some("H1")
            )
        );
        let e = parse_token_response(&resp(302, "", &[("location", "https://elsewhere/x")]), 0)
            .unwrap_err();
        assert_eq!((e.kind(), e.code()), (ErrorKind::UnexpectedResponse, "302"));
        assert!(e.message().contains("Redirect to: https://elsewhere/x"));
        let e = parse_token_response(&resp(400, r#"{"error":"authorization_pending"}"#, &[]), 0)
            .unwrap_err();
        assert_eq!(e.code(), "authorization_pending");
    }
}
