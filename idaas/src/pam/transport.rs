//! Developer API transport (pam.md §2, §3): URL and query building, the header set, compact JSON
//! bodies, the success rules, the error mapping and the retry policy.
//!
//! Server text: the error mapping ([`map_error`]) redacts the secrets of the failed request — the
//! bearer token of the attempt and the secrets of the body ([`JsonWriter::secret`]: the token passed
//! to validate/revoke/reinstate, a derived short token) — from the server's `Code`, `Message`,
//! request id and body snippet (see [`crate::server_text`]).

use crate::clock::SharedClock;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{HttpClient, HttpRequest, HttpResponse, Method};
use crate::provider::SharedProvider;
use crate::secret::SecretString;
use crate::server_text::Redactor;
use serde::de::DeserializeOwned;
use std::fmt::Write as _;
use std::time::Duration;

/// `x-acs-version` of the Developer API.
pub const API_VERSION: &str = "2022-02-25";

/// Longest error-body excerpt kept in an error message.
const ERROR_SNIPPET_CHARS: usize = 300;

/// The Developer API operations (pam.md §4.15).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    ObtainCredential,
    FetchOAuthAuthenticationToken,
    GetOAuthAuthorizationSession,
    GenerateJwtAuthenticationToken,
    ObtainJwtAuthenticationToken,
    ObtainJwtAuthenticationTokenByDerivedShortToken,
    ListAuthenticationTokens,
    ValidateAuthenticationToken,
    RevokeAuthenticationToken,
    RevokeAuthenticationTokenByConsumer,
    ReinstateAuthenticationToken,
    ReinstateAuthenticationTokenByConsumer,
}

impl Op {
    /// The `x-acs-action` value.
    pub(crate) fn action(self) -> &'static str {
        match self {
            Op::ObtainCredential => "ObtainCredential",
            Op::FetchOAuthAuthenticationToken => "FetchOAuthAuthenticationToken",
            Op::GetOAuthAuthorizationSession => "GetOAuthAuthorizationSession",
            Op::GenerateJwtAuthenticationToken => "GenerateJwtAuthenticationToken",
            Op::ObtainJwtAuthenticationToken => "ObtainJwtAuthenticationToken",
            Op::ObtainJwtAuthenticationTokenByDerivedShortToken => {
                "ObtainJwtAuthenticationTokenByDerivedShortToken"
            }
            Op::ListAuthenticationTokens => "ListAuthenticationTokens",
            Op::ValidateAuthenticationToken => "ValidateAuthenticationToken",
            Op::RevokeAuthenticationToken => "RevokeAuthenticationToken",
            Op::RevokeAuthenticationTokenByConsumer => "RevokeAuthenticationTokenByConsumer",
            Op::ReinstateAuthenticationToken => "ReinstateAuthenticationToken",
            Op::ReinstateAuthenticationTokenByConsumer => "ReinstateAuthenticationTokenByConsumer",
        }
    }

    /// The path after `/v2/{instanceId}`.
    fn path(self) -> &'static str {
        match self {
            Op::ObtainCredential => "/credentials/_/actions/obtain",
            Op::FetchOAuthAuthenticationToken => {
                "/authenticationTokens/_/actions/fetchOAuthAccessToken"
            }
            Op::GetOAuthAuthorizationSession => "/oauthAuthorizationSessions/_/actions/get",
            Op::GenerateJwtAuthenticationToken => "/authenticationTokens/_/actions/generateJwt",
            Op::ObtainJwtAuthenticationToken => "/authenticationTokens/_/actions/obtainJwt",
            Op::ObtainJwtAuthenticationTokenByDerivedShortToken => {
                "/authenticationTokens/_/actions/obtainJwtByDerivedShortToken"
            }
            Op::ListAuthenticationTokens => "/authenticationTokens",
            Op::ValidateAuthenticationToken => "/authenticationTokens/_/actions/validate",
            Op::RevokeAuthenticationToken => "/authenticationTokens/_/actions/revoke",
            Op::RevokeAuthenticationTokenByConsumer => {
                "/authenticationTokens/_/actions/revokeByConsumer"
            }
            Op::ReinstateAuthenticationToken => "/authenticationTokens/_/actions/reinstate",
            Op::ReinstateAuthenticationTokenByConsumer => {
                "/authenticationTokens/_/actions/reinstateByConsumer"
            }
        }
    }

    fn method(self) -> Method {
        match self {
            Op::ObtainCredential | Op::ListAuthenticationTokens => Method::Get,
            _ => Method::Post,
        }
    }

    /// Whether the request carries `Authorization: Bearer` (pam.md §4.15; D-30).
    pub(crate) fn sends_bearer(self) -> bool {
        !matches!(
            self,
            Op::ValidateAuthenticationToken | Op::ObtainJwtAuthenticationTokenByDerivedShortToken
        )
    }

    /// Whether transport errors, 429 and 5xx may be retried: only read-only / idempotent operations.
    pub(crate) fn is_safe_to_retry(self) -> bool {
        matches!(
            self,
            Op::ObtainCredential
                | Op::ListAuthenticationTokens
                | Op::ValidateAuthenticationToken
                | Op::GetOAuthAuthorizationSession
                | Op::ObtainJwtAuthenticationToken
                | Op::ObtainJwtAuthenticationTokenByDerivedShortToken
        )
    }

    /// Whether the operation has no result (any 2xx is success, D-26).
    fn is_void(self) -> bool {
        matches!(
            self,
            Op::RevokeAuthenticationToken
                | Op::RevokeAuthenticationTokenByConsumer
                | Op::ReinstateAuthenticationToken
                | Op::ReinstateAuthenticationTokenByConsumer
        )
    }

    /// The operation name used in `Failed to <name>, status code: N` (pam.md §2.5).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::ObtainCredential => "obtain credential",
            Op::FetchOAuthAuthenticationToken => "fetch OAuth authentication token",
            Op::GetOAuthAuthorizationSession => "get OAuth authorization session",
            Op::GenerateJwtAuthenticationToken => "generate JWT authentication token",
            Op::ObtainJwtAuthenticationToken => "obtain JWT authentication token",
            Op::ObtainJwtAuthenticationTokenByDerivedShortToken => {
                "obtain JWT authentication token by derived short token"
            }
            Op::ListAuthenticationTokens => "list authentication tokens",
            Op::ValidateAuthenticationToken => "validate authentication token",
            Op::RevokeAuthenticationToken => "revoke authentication token",
            Op::RevokeAuthenticationTokenByConsumer => "revoke authentication token by consumer",
            Op::ReinstateAuthenticationToken => "reinstate authentication token",
            Op::ReinstateAuthenticationTokenByConsumer => {
                "reinstate authentication token by consumer"
            }
        }
    }
}

pub use crate::retry::RetryPolicy;

/// Request parameters: a query (GET) or a JSON body (POST).
pub(crate) enum Payload {
    /// Query parameters, already in alphabetical order by wire name (only non-null ones).
    Query(Vec<(&'static str, String)>),
    /// A compact JSON object body.
    Json(JsonBody),
}

impl Payload {
    /// The secrets the payload sends (for redaction); none for a query.
    fn secrets(&self) -> Option<&Redactor> {
        match self {
            Payload::Query(_) => None,
            Payload::Json(b) => Some(&b.secrets),
        }
    }
}

/// A JSON request body and the secrets written into it (see [`JsonWriter::secret`]).
pub(crate) struct JsonBody {
    pub(crate) bytes: Vec<u8>,
    pub(crate) secrets: Redactor,
}

/// The transport shared by all operations.
pub(crate) struct Transport {
    /// `https://host[:port]` or `http://loopback[:port]`.
    pub(crate) origin: String,
    /// The `host` header value (`host[:port]` as configured).
    pub(crate) host: String,
    /// `/v2/<percent-encoded instance id>`.
    pub(crate) path_prefix: String,
    pub(crate) provider: SharedProvider,
    pub(crate) http: HttpClient,
    pub(crate) clock: SharedClock,
    pub(crate) user_agent: String,
    pub(crate) retry: RetryPolicy,
    /// Where this client's log records go.
    pub(crate) diag: crate::diag::Diag,
    /// Agent mode: the operations that reach this transport are not served (agent.md §2.1).
    pub(crate) agent: Option<crate::agent::AgentClient>,
}

impl Transport {
    /// The full URL of `op` with its query.
    pub(crate) fn url(&self, op: Op, query: Option<&[(&'static str, String)]>) -> String {
        let mut url = String::with_capacity(128);
        url.push_str(&self.origin);
        url.push_str(&self.path_prefix);
        url.push_str(op.path());
        if let Some(q) = query {
            let mut first = true;
            for (k, v) in q {
                url.push(if first { '?' } else { '&' });
                first = false;
                form_encode_into(&mut url, k);
                url.push('=');
                form_encode_into(&mut url, v);
            }
        }
        url
    }

    /// The header set of pam.md §2.2, in order.
    pub(crate) fn headers(
        &self,
        op: Op,
        bearer: Option<&SecretString>,
    ) -> Vec<(&'static str, String)> {
        let now = std::time::UNIX_EPOCH + Duration::from_millis(self.clock.now_millis());
        let mut h: Vec<(&'static str, String)> = Vec::with_capacity(11);
        h.push(("date", httpdate::fmt_http_date(now)));
        h.push(("host", self.host.clone()));
        h.push(("accept", "application/json".into()));
        h.push((
            "x-acs-signature-nonce",
            uuid::Uuid::new_v4().simple().to_string(),
        ));
        h.push(("x-acs-signature-method", "HMAC-SHA1".into()));
        h.push(("x-acs-signature-version", "1.0".into()));
        h.push(("x-acs-version", API_VERSION.into()));
        h.push(("x-acs-action", op.action().into()));
        h.push(("user-agent", self.user_agent.clone()));
        if let Some(t) = bearer {
            h.push(("Authorization", format!("Bearer {}", t.expose())));
        }
        if op.method() == Method::Post {
            h.push(("content-type", "application/json; charset=utf-8".into()));
        }
        h
    }

    fn bearer(&self) -> Result<SecretString> {
        let t = self.provider.bearer_token()?;
        if t.is_empty() {
            return Err(Error::credential(
                "EmptyBearerToken",
                "the credential provider returned an empty bearer token",
            ));
        }
        Ok(t)
    }

    /// Send `op` with retries (see [`RetryPolicy`]) and the 401 refresh; returns a 2xx reply.
    pub(crate) fn execute(&self, op: Op, payload: &Payload) -> Result<HttpResponse> {
        if let Some(agent) = &self.agent {
            // The served operations went to the agent before they got here (ops.rs).
            return Err(agent.not_served(op.action()));
        }
        let _diag = self.diag.enter();
        let (url, body) = match payload {
            Payload::Query(q) => (self.url(op, Some(q)), None),
            Payload::Json(b) => (self.url(op, None), Some(&b.bytes)),
        };
        let max_attempts = if op.is_safe_to_retry() {
            self.retry.max_attempts.clamp(1, 3)
        } else {
            1
        };
        // One budget for the whole call: every attempt, the 401 refresh and every back-off.
        let deadline = self.http.deadline();
        let mut attempt = 0u32;
        let mut refreshed_after_401 = false;
        // The 401 reply and the token it rejected, while the one retry is pending.
        let mut rejected: Option<(SecretString, Error)> = None;
        loop {
            attempt += 1;
            let token = if op.sends_bearer() {
                Some(self.bearer()?)
            } else {
                None
            };
            // What the error mapping must redact: the body's secrets and this attempt's bearer.
            let secrets = payload
                .secrets()
                .cloned()
                .unwrap_or_default()
                .with(token.as_ref());
            if let Some((old, err)) = rejected.take() {
                if token.as_ref() == Some(&old) {
                    // The provider cannot refresh (e.g. a static token-exchange result): a retry
                    // would only be rejected again.
                    return Err(err);
                }
            }
            let req = HttpRequest {
                method: op.method(),
                url: &url,
                headers: self.headers(op, token.as_ref()),
                body: body.cloned(),
            };
            match self.http.send_before(req, deadline) {
                Err(e) => {
                    let d = self.retry.delay(attempt, None);
                    if attempt < max_attempts
                        && matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout)
                        && self.http.fits(deadline, d)
                    {
                        crate::diag::event!(
                            Debug,
                            "{}: {} (attempt {attempt}), retrying in {d:?}",
                            op.action(),
                            e.code()
                        );
                        std::thread::sleep(d);
                        continue;
                    }
                    return Err(e);
                }
                Ok(resp) => {
                    let status = resp.status;
                    crate::diag::event!(Debug, "{}: HTTP {status}", op.action());
                    if (200..300).contains(&status) {
                        return Ok(resp);
                    }
                    if status == 401
                        && !refreshed_after_401
                        && self.http.fits(deadline, Duration::ZERO)
                    {
                        if let Some(t) = &token {
                            // The server rejected our bearer token (invalid or expired): drop it
                            // from the provider's cache and retry once with a fresh one. A 401 means
                            // the request was not processed, so this is safe for every operation.
                            refreshed_after_401 = true;
                            attempt -= 1;
                            crate::diag::event!(
                                Info,
                                "{}: bearer token rejected (401); refreshing it and retrying once",
                                op.action()
                            );
                            self.provider.invalidate(t.expose());
                            rejected = Some((t.clone(), map_error(op, &resp, &secrets)));
                            continue;
                        }
                    }
                    let d = self.retry.delay(attempt, retry_after(&resp));
                    if (status == 429 || (500..600).contains(&status))
                        && attempt < max_attempts
                        && self.http.fits(deadline, d)
                    {
                        crate::diag::event!(
                            Debug,
                            "{}: HTTP {status} (attempt {attempt}), retrying in {d:?}",
                            op.action()
                        );
                        std::thread::sleep(d);
                        continue;
                    }
                    return Err(map_error(op, &resp, &secrets));
                }
            }
        }
    }

    /// Call an operation with a JSON result: status exactly 200 and a JSON object body (D-26).
    pub(crate) fn call_json<T: DeserializeOwned>(&self, op: Op, payload: &Payload) -> Result<T> {
        debug_assert!(!op.is_void());
        let resp = self.execute(op, payload)?;
        if resp.status != 200 {
            return Err(unexpected(op, resp.status, "UnexpectedStatus"));
        }
        // A JSON object only: serde's derived structs would also take an array, by position.
        if resp.body.trim_ascii_start().first() != Some(&b'{') {
            return Err(unexpected(op, resp.status, "InvalidResponseBody"));
        }
        // Parsed once, straight into the model (no intermediate `Value` holding a second copy of
        // the secrets).
        serde_json::from_slice(&resp.body).map_err(|e| {
            let err = unexpected(op, resp.status, "InvalidResponseBody");
            if e.is_syntax() || e.is_eof() {
                return err;
            }
            // serde's message may quote the offending value (which could be secret material in a
            // malformed reply), so only the error category is kept.
            err.with_source(StrError(format!(
                "reply does not match the expected schema ({:?} error)",
                e.classify()
            )))
        })
    }

    /// Call a void operation: any 2xx is success and the body is not read (D-26).
    pub(crate) fn call_void(&self, op: Op, payload: &Payload) -> Result<()> {
        debug_assert!(op.is_void());
        self.execute(op, payload).map(|_| ())
    }
}

#[derive(Debug)]
struct StrError(String);
impl std::fmt::Display for StrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for StrError {}

/// `Failed to <operation>, status code: N` as an [`ErrorKind::UnexpectedResponse`] error.
pub(crate) fn unexpected(op: Op, status: u16, code: &str) -> Error {
    Error::new(
        ErrorKind::UnexpectedResponse,
        code,
        format!("Failed to {}, status code: {status}", op.name()),
    )
    .with_status(status)
}

fn retry_after(resp: &HttpResponse) -> Option<Duration> {
    resp.header("x-acs-retry-after")
        .or_else(|| resp.header("retry-after"))
        .and_then(crate::retry::parse_retry_after)
}

/// Map a non-2xx reply to an [`Error`] (pam.md §3.4, decision D-28). `secrets` (the request's) are
/// redacted from every piece of server text kept; control characters are escaped by [`Error`].
pub(crate) fn map_error(op: Op, resp: &HttpResponse, secrets: &Redactor) -> Error {
    let status = resp.status;
    if !(400..600).contains(&status) {
        // 1xx/3xx (redirects are never followed, D-27) and anything else.
        let code = if (300..400).contains(&status) {
            "UnexpectedRedirect"
        } else {
            "UnexpectedStatus"
        };
        return unexpected(op, status, code);
    }
    let kind = match status {
        401 | 403 => ErrorKind::Auth,
        400..=499 => ErrorKind::Client,
        _ => ErrorKind::Server,
    };
    let header_rid = resp
        .header("x-acs-request-id")
        .or_else(|| resp.header("x-request-id"))
        .map(|r| secrets.redact(r).into_owned());
    let parsed = serde_json::from_slice::<serde_json::Value>(&resp.body)
        .ok()
        .filter(|v| v.is_object());
    let (code, message, rid) = match &parsed {
        Some(v) => {
            let pick = |keys: &[&str]| -> Option<String> {
                keys.iter().find_map(|k| match v.get(*k) {
                    Some(serde_json::Value::String(s)) if !s.is_empty() => {
                        Some(secrets.redact(s).into_owned())
                    }
                    Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                })
            };
            (
                pick(&["error", "Code", "code"]).unwrap_or_else(|| status.to_string()),
                pick(&["error_description", "Message", "message"])
                    .unwrap_or_else(|| format!("Failed to {}", op.name())),
                pick(&["request_id", "RequestId", "requestId", "requestid"]),
            )
        }
        None => {
            let snippet = secrets.body_snippet(&resp.body, ERROR_SNIPPET_CHARS);
            let message = if snippet.is_empty() {
                format!("Failed to {}, status code: {status}", op.name())
            } else {
                snippet
            };
            (status.to_string(), message, None)
        }
    };
    let mut err = Error::new(kind, code, message).with_status(status);
    if let Some(r) = rid.or(header_rid) {
        err = err.with_request_id(r);
    }
    err
}

/// Append `s` percent-encoded for a path segment (pam.md §2.1): `A-Za-z0-9-._~` kept, every other
/// byte `%XX` (upper-case hex).
pub(crate) fn path_encode_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Append `s` form-encoded (pam.md §2.3): unreserved kept, space → `+`, other bytes `%XX`.
pub(crate) fn form_encode_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// A compact JSON object writer with keys in the order written (pam.md §2.4).
///
/// Why not `serde_json::Map`: its key order depends on the `preserve_order` feature, which Cargo
/// unifies across the workspace (the emulator enables it), so the library's wire bytes would differ
/// between a test build and a production build. Writing the object by hand makes the order explicit:
/// top-level keys alphabetical by wire name, nested maps in the caller's order.
pub(crate) struct JsonWriter {
    buf: String,
    empty: bool,
    secrets: Redactor,
    #[cfg(debug_assertions)]
    last_key: Option<&'static str>,
}

impl JsonWriter {
    pub(crate) fn new() -> Self {
        JsonWriter {
            buf: String::from("{"),
            empty: true,
            secrets: Redactor::new(),
            #[cfg(debug_assertions)]
            last_key: None,
        }
    }

    fn key(&mut self, k: &'static str) {
        #[cfg(debug_assertions)]
        {
            if let Some(prev) = self.last_key {
                debug_assert!(prev < k, "JSON keys must be written in alphabetical order");
            }
            self.last_key = Some(k);
        }
        if !self.empty {
            self.buf.push(',');
        }
        self.empty = false;
        push_json_str(&mut self.buf, k);
        self.buf.push(':');
    }

    pub(crate) fn str(&mut self, k: &'static str, v: &str) -> &mut Self {
        self.key(k);
        push_json_str(&mut self.buf, v);
        self
    }

    /// A secret string member: written like [`JsonWriter::str`] and remembered for redaction.
    pub(crate) fn secret(&mut self, k: &'static str, v: &SecretString) -> &mut Self {
        self.secrets.add(v);
        self.str(k, v.expose())
    }

    pub(crate) fn opt_str(&mut self, k: &'static str, v: Option<&str>) -> &mut Self {
        if let Some(v) = v {
            self.str(k, v);
        }
        self
    }

    pub(crate) fn opt_bool(&mut self, k: &'static str, v: Option<bool>) -> &mut Self {
        if let Some(v) = v {
            self.key(k);
            self.buf.push_str(if v { "true" } else { "false" });
        }
        self
    }

    pub(crate) fn opt_u64(&mut self, k: &'static str, v: Option<u64>) -> &mut Self {
        if let Some(v) = v {
            self.key(k);
            let _ = write!(self.buf, "{v}");
        }
        self
    }

    pub(crate) fn str_array(&mut self, k: &'static str, v: &[String]) -> &mut Self {
        self.key(k);
        self.buf.push('[');
        for (i, s) in v.iter().enumerate() {
            if i > 0 {
                self.buf.push(',');
            }
            push_json_str(&mut self.buf, s);
        }
        self.buf.push(']');
        self
    }

    /// A nested object written in the given order; values are any JSON.
    pub(crate) fn opt_object<'a, I>(&mut self, k: &'static str, v: Option<I>) -> &mut Self
    where
        I: IntoIterator<Item = (&'a str, JsonValueRef<'a>)>,
    {
        if let Some(items) = v {
            self.key(k);
            self.buf.push('{');
            for (i, (ik, iv)) in items.into_iter().enumerate() {
                if i > 0 {
                    self.buf.push(',');
                }
                push_json_str(&mut self.buf, ik);
                self.buf.push(':');
                match iv {
                    JsonValueRef::Str(s) => push_json_str(&mut self.buf, s),
                    JsonValueRef::Value(v) => {
                        // serde_json writes compact JSON with raw (unescaped) non-ASCII text.
                        self.buf
                            .push_str(&serde_json::to_string(v).unwrap_or_else(|_| "null".into()))
                    }
                }
            }
            self.buf.push('}');
        }
        self
    }

    pub(crate) fn finish(&mut self) -> JsonBody {
        let mut s = std::mem::take(&mut self.buf);
        s.push('}');
        JsonBody {
            bytes: s.into_bytes(),
            secrets: std::mem::take(&mut self.secrets),
        }
    }
}

/// A value of a nested map written by [`JsonWriter::opt_object`].
pub(crate) enum JsonValueRef<'a> {
    Str(&'a str),
    Value(&'a serde_json::Value),
}

fn push_json_str(out: &mut String, s: &str) {
    // serde_json's string escaping: `"`, `\` and control characters; non-ASCII kept raw.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let mut s = String::new();
        path_encode_into(&mut s, "idaas_a b*ü/x~.-");
        assert_eq!(s, "idaas_a%20b%2A%C3%BC%2Fx~.-");
        let mut s = String::new();
        form_encode_into(&mut s, "cred/ident ü");
        assert_eq!(s, "cred%2Fident+%C3%BC");
    }

    #[test]
    fn json_writer_is_compact_ordered_and_raw_utf8() {
        let claims = [
            ("tenant".to_string(), serde_json::json!("acmé")),
            ("tier".to_string(), serde_json::json!(2)),
        ];
        let body = JsonWriter::new()
            .str_array("audiences", &["https://a".to_string()])
            .str("credentialProviderIdentifier", "p\"1")
            .opt_object(
                "customClaims",
                Some(
                    claims
                        .iter()
                        .map(|(k, v)| (k.as_str(), JsonValueRef::Value(v))),
                ),
            )
            .opt_u64("expiration", Some(900))
            .opt_bool("includeDerivedShortToken", Some(true))
            .opt_str("issuer", None)
            .str("subject", "s")
            .finish();
        assert_eq!(
            String::from_utf8(body.bytes).unwrap(),
            r#"{"audiences":["https://a"],"credentialProviderIdentifier":"p\"1","customClaims":{"tenant":"acmé","tier":2},"expiration":900,"includeDerivedShortToken":true,"subject":"s"}"#
        );
        assert_eq!(JsonWriter::new().finish().bytes, b"{}");
    }

    #[test]
    fn error_mapping() {
        let resp = |status: u16, body: &str, headers: Vec<(String, String)>| HttpResponse {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        };
        let op = Op::ObtainCredential;
        let e = map_error(
            op,
            &resp(
                401,
                r#"{"error":"invalid_token","error_description":"token expired","request_id":"r1"}"#,
                vec![],
            ),
            &Redactor::new(),
        );
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
                "invalid_token",
                "token expired",
                Some("r1"),
                Some(401)
            )
        );
        let e = map_error(
            op,
            &resp(
                404,
                r#"{"Code":"EntityNotExists.Credential","Message":"credential not found","RequestId":"r2"}"#,
                vec![],
            ),
            &Redactor::new(),
        );
        assert_eq!(
            (e.kind(), e.code(), e.message(), e.request_id()),
            (
                ErrorKind::Client,
                "EntityNotExists.Credential",
                "credential not found",
                Some("r2")
            )
        );
        let e = map_error(
            op,
            &resp(
                500,
                r#"{"code":"X","message":"m","requestid":"r3"}"#,
                vec![],
            ),
            &Redactor::new(),
        );
        assert_eq!(
            (e.kind(), e.code(), e.message(), e.request_id()),
            (ErrorKind::Server, "X", "m", Some("r3"))
        );
        let e = map_error(
            op,
            &resp(
                502,
                "<html>bad gateway</html>",
                vec![("x-acs-request-id".into(), "r4".into())],
            ),
            &Redactor::new(),
        );
        assert_eq!(
            (e.kind(), e.code(), e.message(), e.request_id()),
            (
                ErrorKind::Server,
                "502",
                "<html>bad gateway</html>",
                Some("r4")
            )
        );
        let e = map_error(op, &resp(302, "", vec![]), &Redactor::new());
        assert_eq!(
            (e.kind(), e.message()),
            (
                ErrorKind::UnexpectedResponse,
                "Failed to obtain credential, status code: 302"
            )
        );
        let e = map_error(op, &resp(403, "", vec![]), &Redactor::new());
        assert_eq!((e.kind(), e.code()), (ErrorKind::Auth, "403"));
    }

    /// A tiny deterministic PRNG (xorshift) for the round-trip checks below.
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    fn random_text(seed: &mut u64) -> String {
        const POOL: &[char] = &[
            'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\u{1}', '\u{7f}', 'é', 'ü', '中',
            '😀', '%', '+', '&', '=', '?', '#', '~', '.', '-', '_', '*', '\u{2028}',
        ];
        let len = (rng(seed) % 24) as usize;
        (0..len)
            .map(|_| POOL[(rng(seed) % POOL.len() as u64) as usize])
            .collect()
    }

    fn form_decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 2;
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn round_trips_on_random_text() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            let a = random_text(&mut seed);
            let b = random_text(&mut seed);
            let k = random_text(&mut seed);
            let claims = [(k.clone(), serde_json::Value::String(b.clone()))];
            let body = JsonWriter::new()
                .str("a", &a)
                .opt_object(
                    "c",
                    Some(
                        claims
                            .iter()
                            .map(|(k, v)| (k.as_str(), JsonValueRef::Value(v))),
                    ),
                )
                .finish();
            let text = String::from_utf8(body.bytes).unwrap();
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["a"], serde_json::Value::String(a.clone()));
            assert_eq!(v["c"][&k], serde_json::Value::String(b.clone()));
            let mut q = String::new();
            form_encode_into(&mut q, &a);
            assert!(q
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-._~+%".contains(&c)));
            assert_eq!(form_decode(&q), a);
            let mut p = String::new();
            path_encode_into(&mut p, &a);
            assert!(!p.contains('/') && !p.contains('+') && !p.contains(' '));
            // Error mapping never panics, whatever the body.
            for status in [400u16, 401, 404, 429, 500, 503, 302, 204] {
                let e = map_error(
                    Op::ListAuthenticationTokens,
                    &HttpResponse {
                        status,
                        headers: vec![],
                        body: a.as_bytes().to_vec(),
                    },
                    &Redactor::new(),
                );
                assert_eq!(e.http_status(), Some(status));
            }
        }
    }
}
