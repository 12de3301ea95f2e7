//! The services the credential chain asks for temporary credentials (alibaba-plugin.md §2.3,
//! §2.6, §2.7): STS `AssumeRoleWithOIDC`, the ECS instance-metadata service and a credentials URI.
//!
//! Each returns a [`TempCredential`] or an [`Error`] whose text never holds a secret: the OIDC
//! token and the metadata token a request carried are redacted from any server text quoted. The
//! OIDC token travels in a form body, never in a URL: URLs end up in log records (the HTTP library
//! logs request lines at `DEBUG`), proxies' and servers' access logs.

use super::time;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Deadline, HttpClient, HttpRequest, HttpResponse, Method};
use crate::secret::SecretString;
use crate::server_text::{self, Redactor, TextRule};
use crate::token::{error_from_response, Form, FORM_CONTENT_TYPE};
use serde::Deserialize;
use std::time::Duration;

/// The STS API version of `AssumeRoleWithOIDC`.
pub(crate) const STS_VERSION: &str = "2015-04-01";
/// `DurationSeconds` asked for when the profile names none.
pub(crate) const DEFAULT_DURATION_SECS: u64 = 3600;
/// TTL asked for a metadata session token (the service's maximum, six hours).
pub(crate) const METADATA_TOKEN_TTL_SECS: u64 = 21_600;
/// Bound of one metadata request. The service is link-local and answers at once where it exists;
/// elsewhere the chain must not wait out the client's connect timeout for it.
pub(crate) const METADATA_ATTEMPT: Duration = Duration::from_secs(2);
/// Path of the RAM role credentials under the metadata base URL.
pub(crate) const ROLE_PATH: &str = "/latest/meta-data/ram/security-credentials/";

/// Temporary credentials: a key, its token and its expiry.
#[derive(Clone)]
pub(crate) struct TempCredential {
    pub access_key_id: String,
    pub access_key_secret: SecretString,
    pub security_token: SecretString,
    /// Epoch seconds.
    pub expiration: u64,
}

impl std::fmt::Debug for TempCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TempCredential")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// The fields of a credentials document (STS `Credentials`, the metadata role document, the
/// credentials URI reply).
#[derive(Deserialize)]
struct Document {
    #[serde(rename = "Code", default)]
    code: Option<String>,
    #[serde(rename = "AccessKeyId", default)]
    access_key_id: Option<String>,
    #[serde(
        rename = "AccessKeySecret",
        default,
        with = "crate::secret::secret_serde::option"
    )]
    access_key_secret: Option<SecretString>,
    #[serde(
        rename = "SecurityToken",
        default,
        with = "crate::secret::secret_serde::option"
    )]
    security_token: Option<SecretString>,
    #[serde(rename = "Expiration", default)]
    expiration: Option<String>,
}

#[derive(Deserialize)]
struct StsReply {
    #[serde(rename = "Credentials", default)]
    credentials: Option<Document>,
}

fn bad_reply(what: &str, status: u16, why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::UnexpectedResponse,
        "InvalidResponse",
        format!("{what} reply: {why}"),
    )
    .with_status(status)
}

/// The credentials of a document, checked: every field present, values within the character sets
/// a request header allows, the expiry a valid UTC time.
fn credential_of(doc: Document, what: &str, status: u16) -> Result<TempCredential> {
    let missing = |f: &str| bad_reply(what, status, format!("{f} is missing"));
    let id = doc
        .access_key_id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("AccessKeyId"))?;
    let secret = doc
        .access_key_secret
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("AccessKeySecret"))?;
    let token = doc
        .security_token
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("SecurityToken"))?;
    let exp = doc.expiration.ok_or_else(|| missing("Expiration"))?;
    let w = format!("{what} reply");
    server_text::check(&w, "AccessKeyId", &id, TextRule::Visible)?;
    server_text::check(&w, "AccessKeySecret", secret.expose(), TextRule::Visible)?;
    server_text::check(&w, "SecurityToken", token.expose(), TextRule::Visible)?;
    let expiration = time::parse_utc(&exp).ok_or_else(|| {
        bad_reply(
            what,
            status,
            "Expiration is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ",
        )
    })?;
    Ok(TempCredential {
        access_key_id: id,
        access_key_secret: secret,
        security_token: token,
        expiration,
    })
}

/// Wipe a reply that held a secret (a key, a token) once it has been parsed.
fn wipe(resp: HttpResponse) {
    crate::secret::wipe_bytes(resp.body);
}

/// A 2xx reply's body as JSON `T`, else an error naming `what` (server text redacted).
fn json_reply<T: serde::de::DeserializeOwned>(
    resp: &HttpResponse,
    what: &str,
    secrets: &Redactor,
) -> Result<T> {
    if !(200..300).contains(&resp.status) {
        return Err(error_from_response(resp, what, secrets));
    }
    serde_json::from_slice(&resp.body).map_err(|e| {
        bad_reply(
            what,
            resp.status,
            format!(
                "not the expected JSON document (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

/// The parameters of one `AssumeRoleWithOIDC` call.
pub(crate) struct OidcRequest<'a> {
    pub role_arn: &'a str,
    pub provider_arn: &'a str,
    pub oidc_token: &'a SecretString,
    pub session_name: &'a str,
    pub policy: Option<&'a str>,
    pub duration_secs: u64,
}

/// STS `AssumeRoleWithOIDC`: unsigned (the OIDC token is the proof), `POST <base>/?Action=…`
/// with the action, format, version and timestamp in the query and the role, the token and the
/// session in a form body.
pub(crate) fn assume_role_with_oidc(
    http: &HttpClient,
    sts_base: &str,
    req: &OidcRequest<'_>,
    now_secs: u64,
) -> Result<TempCredential> {
    let timestamp = time::format_utc(now_secs);
    let url = format!(
        "{}/?{}",
        sts_base.trim_end_matches('/'),
        super::sign::wire_query(&[
            ("Action", "AssumeRoleWithOIDC"),
            ("Format", "JSON"),
            ("Version", STS_VERSION),
            ("Timestamp", &timestamp),
        ])
    );
    let mut form = Form::new();
    form.push("RoleArn", req.role_arn)
        .push("OIDCProviderArn", req.provider_arn)
        .push("OIDCToken", req.oidc_token.expose())
        .push("RoleSessionName", req.session_name)
        .push("DurationSeconds", &req.duration_secs.to_string());
    if let Some(p) = req.policy {
        form.push("Policy", p);
    }
    // The body is wiped once sent (HttpClient), the form when dropped.
    let resp = http.send(HttpRequest {
        method: Method::Post,
        url: &url,
        headers: vec![
            ("Content-Type", FORM_CONTENT_TYPE.to_string()),
            ("Accept", "application/json".to_string()),
        ],
        body: Some(form.as_str().as_bytes().to_vec()),
    })?;
    let mut secrets = Redactor::new();
    secrets.add(req.oidc_token);
    let what = "STS AssumeRoleWithOIDC";
    let status = resp.status;
    let reply: Result<StsReply> = json_reply(&resp, what, &secrets);
    wipe(resp);
    let doc = reply?
        .credentials
        .ok_or_else(|| bad_reply(what, status, "Credentials is missing"))?;
    credential_of(doc, what, status)
}

/// The ECS metadata service at `base`, asked as alibaba-plugin.md §2.6 says.
pub(crate) struct Metadata<'a> {
    pub http: &'a HttpClient,
    pub base: &'a str,
    pub imdsv1_disabled: bool,
}

impl Metadata<'_> {
    fn send(
        &self,
        method: Method,
        path: &str,
        headers: Vec<(&str, String)>,
    ) -> Result<HttpResponse> {
        let url = format!("{}{path}", self.base.trim_end_matches('/'));
        self.http.send_allow_plain_http_before(
            HttpRequest {
                method,
                url: &url,
                headers,
                body: None,
            },
            Deadline::after(METADATA_ATTEMPT),
        )
    }

    /// A session token (IMDSv2). `Ok(None)`: the service answered with an error status and IMDSv1
    /// is allowed, so go on without a token. A transport failure is final: the service is not
    /// reachable, and asking again without a token would only wait again.
    fn session_token(&self) -> Result<Option<SecretString>> {
        let resp = self.send(
            Method::Put,
            "/latest/api/token",
            vec![(
                "X-aliyun-ecs-metadata-token-ttl-seconds",
                METADATA_TOKEN_TTL_SECS.to_string(),
            )],
        )?;
        if resp.status == 200 {
            let token = SecretString::new(String::from_utf8_lossy(&resp.body).trim().to_string());
            wipe(resp);
            server_text::check(
                "ECS metadata service reply",
                "session token",
                token.expose(),
                TextRule::Visible,
            )?;
            return Ok(Some(token));
        }
        let err = error_from_response(
            &resp,
            "ECS metadata service (session token)",
            &Redactor::new(),
        );
        if self.imdsv1_disabled {
            return Err(Error::new(
                err.kind(),
                err.code().to_string(),
                format!(
                    "{} (the session-token step failed and ALIBABA_CLOUD_IMDSV1_DISABLED forbids going on without one)",
                    err.message()
                ),
            )
            .with_status(resp.status));
        }
        Ok(None)
    }

    /// `GET path` with the session token when there is one; when that fails and IMDSv1 is
    /// allowed, once more without it.
    fn get(&self, path: &str, token: Option<&SecretString>, what: &str) -> Result<HttpResponse> {
        let headers = |t: Option<&SecretString>| match t {
            Some(t) => vec![("X-aliyun-ecs-metadata-token", t.expose().to_string())],
            None => Vec::new(),
        };
        let secrets = Redactor::new().with(token);
        let first = self.send(Method::Get, path, headers(token)).and_then(|r| {
            if r.status == 200 {
                Ok(r)
            } else {
                Err(error_from_response(&r, what, &secrets))
            }
        });
        match first {
            Err(e) if token.is_some() && !self.imdsv1_disabled && e.http_status().is_some() => {
                let r = self.send(Method::Get, path, Vec::new())?;
                if r.status == 200 {
                    Ok(r)
                } else {
                    Err(error_from_response(&r, what, &Redactor::new()))
                }
            }
            other => other,
        }
    }

    /// The credentials of the instance's RAM role (`role`, else the role the service names).
    pub fn role_credentials(&self, role: Option<&str>) -> Result<(String, TempCredential)> {
        let token = self.session_token()?;
        let role = match role {
            Some(r) => r.to_string(),
            None => {
                let what = "ECS metadata service (RAM role name)";
                let r = self.get(ROLE_PATH, token.as_ref(), what)?;
                let name = String::from_utf8_lossy(&r.body).trim().to_string();
                if name.is_empty() {
                    return Err(bad_reply(
                        what,
                        r.status,
                        "no RAM role is attached to this instance",
                    ));
                }
                server_text::check(
                    &format!("{what} reply"),
                    "role name",
                    &name,
                    TextRule::Visible,
                )?;
                name
            }
        };
        let what = "ECS metadata service (RAM role credentials)";
        let path = format!("{ROLE_PATH}{}", super::sign::canonical_encode(&role));
        let r = self.get(&path, token.as_ref(), what)?;
        let status = r.status;
        let doc: Result<Document> = json_reply(&r, what, &Redactor::new().with(token.as_ref()));
        wipe(r);
        let doc = doc?;
        if doc.code.as_deref() != Some("Success") {
            return Err(bad_reply(
                what,
                status,
                format!(
                    "Code is {}, not Success",
                    doc.code
                        .as_deref()
                        .map_or("missing".to_string(), |c| format!("{c:?}"))
                ),
            ));
        }
        Ok((role, credential_of(doc, what, status)?))
    }
}

/// The credentials document at a credentials URI: `https://` to any host, plain `http://` only to
/// a loopback host (the rules of every other request; a sidecar on the same machine qualifies).
pub(crate) fn credentials_uri(http: &HttpClient, url: &str) -> Result<TempCredential> {
    let what = "credentials URI";
    let resp = http.send(HttpRequest {
        method: Method::Get,
        url,
        headers: vec![("Accept", "application/json".to_string())],
        body: None,
    })?;
    let status = resp.status;
    let doc: Result<Document> = json_reply(&resp, what, &Redactor::new());
    wipe(resp);
    let doc = doc?;
    if doc.code.as_deref() != Some("Success") {
        return Err(bad_reply(
            what,
            status,
            format!(
                "Code is {}, not Success",
                doc.code
                    .as_deref()
                    .map_or("missing".to_string(), |c| format!("{c:?}"))
            ),
        ));
    }
    credential_of(doc, what, status)
}
