//! The PAM Developer API (pam.md §4), version 2022-02-25, with in-memory state.

use crate::bearer::BearerError;
use crate::fixtures::{Fixtures, ProviderFixture, ProviderKind};
use crate::http::{Ctx, Request, Response};
use crate::util::{now_ms, now_secs, percent_decode, random_id};
use crate::{lock, ErrorStyle, Inner};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

const VERSION: &str = "2022-02-25";
const SESSION_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
const SESSION_LIFETIME_MS: u64 = 10 * 60 * 1000;
const PAM_AUDIENCE: &str = "urn:cloud:idaas:pam";

/// An error body in the current style.
pub(crate) fn error_response(
    inner: &Inner,
    status: u16,
    code: &str,
    desc: &str,
    rid: &str,
) -> Response {
    let body = match inner.error_style() {
        ErrorStyle::OAuth => json!({"error": code, "error_description": desc, "request_id": rid}),
        ErrorStyle::Pop => json!({"Code": code, "Message": desc, "RequestId": rid}),
    };
    let mut r = Response::json(status, &body);
    if status == 401 {
        r = r.with_header(
            "WWW-Authenticate",
            &format!(
                "Bearer error=\"{code}\", error_description=\"{}\"",
                desc.replace('"', "'")
            ),
        );
    }
    r
}

/// An API error: status, code, message.
pub(crate) struct ApiErr(u16, String, String);

fn err(status: u16, code: &str, msg: impl Into<String>) -> ApiErr {
    ApiErr(status, code.to_string(), msg.into())
}

fn invalid(msg: impl Into<String>) -> ApiErr {
    err(400, "InvalidParameter", msg)
}

type Res<T> = Result<T, ApiErr>;

/// A token issued by the Developer API (JWT or OAuth access token).
#[derive(Clone, Debug)]
pub(crate) struct AuthToken {
    id: String,
    provider: String,
    provider_id: String,
    kind: &'static str,
    consumer_type: String,
    consumer_id: String,
    creator_id: String,
    jwt: Option<String>,
    dst: Option<String>,
    access_token: Option<String>,
    scope: String,
    revoked: bool,
    create_ms: u64,
    update_ms: u64,
    exp_ms: u64,
}

/// A 3LO authorisation session.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    id: String,
    provider: String,
    consumer_type: String,
    consumer_id: String,
    creator_id: String,
    status: String,
    exp_ms: u64,
    token_id: Option<String>,
    scope: Option<String>,
    auth_url: String,
    error_code: Option<String>,
    error_desc: Option<String>,
}

/// State of the Developer API.
pub(crate) struct DevState {
    providers: Vec<ProviderFixture>,
    provider_ids: HashMap<String, String>,
    credential_ids: HashMap<String, String>,
    tokens: Vec<AuthToken>,
    sessions: Vec<Session>,
    consents: HashSet<(String, String)>,
    created_ms: u64,
}

impl DevState {
    /// Initial state from the fixtures.
    pub fn new(f: &Fixtures) -> DevState {
        DevState {
            providers: f.credential_providers.clone(),
            provider_ids: f
                .credential_providers
                .iter()
                .map(|p| (p.identifier.clone(), random_id("atp_")))
                .collect(),
            credential_ids: f
                .credentials
                .iter()
                .map(|c| (c.identifier.clone(), random_id("cred_")))
                .collect(),
            tokens: Vec::new(),
            sessions: Vec::new(),
            consents: HashSet::new(),
            created_ms: now_ms(),
        }
    }

    fn session_mut(&mut self, id_or_uri: &str) -> Option<&mut Session> {
        let id = id_or_uri
            .strip_prefix(SESSION_URI_PREFIX)
            .unwrap_or(id_or_uri);
        let now = now_ms();
        let s = self.sessions.iter_mut().find(|s| s.id == id)?;
        if s.status == "pending" && now > s.exp_ms {
            s.status = "expired".into();
        }
        Some(s)
    }

    /// Sets a session's status (control API / library).
    pub fn set_session_status(&mut self, id_or_uri: &str, status: &str) -> Result<(), String> {
        if ![
            "pending",
            "callback_received",
            "completed",
            "failed",
            "expired",
        ]
        .contains(&status)
        {
            return Err(format!(
                "unknown status {status:?} (expected pending, callback_received, completed, failed or expired)"
            ));
        }
        let s = self
            .session_mut(id_or_uri)
            .ok_or_else(|| format!("unknown session {id_or_uri}"))?;
        s.status = status.to_string();
        let (consumer_type, consumer, creator, provider, scope) = (
            s.consumer_type.clone(),
            s.consumer_id.clone(),
            s.creator_id.clone(),
            s.provider.clone(),
            s.scope.clone(),
        );
        match status {
            "completed" => {
                self.consents.insert((consumer.clone(), provider.clone()));
                let p = self
                    .providers
                    .iter()
                    .find(|p| p.identifier == provider)
                    .cloned()
                    .ok_or("session provider vanished")?;
                let t = self.new_oauth_token(&p, &consumer_type, &consumer, &creator, scope);
                let id = t.id.clone();
                self.tokens.push(t);
                if let Some(s) = self.session_mut(id_or_uri) {
                    s.token_id = Some(id);
                    s.error_code = None;
                    s.error_desc = None;
                }
            }
            "failed" => {
                self.consents.remove(&(consumer, provider));
                if let Some(s) = self.session_mut(id_or_uri) {
                    s.error_code = Some("access_denied".into());
                    s.error_desc = Some("the user denied the authorization request".into());
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// All session ids.
    pub fn session_ids(&self) -> Vec<String> {
        self.sessions.iter().map(|s| s.id.clone()).collect()
    }

    fn provider(&self, identifier: &str) -> Res<ProviderFixture> {
        self.providers
            .iter()
            .find(|p| p.identifier == identifier)
            .cloned()
            .ok_or_else(|| {
                err(
                    404,
                    "EntityNotExists.CredentialProvider",
                    format!("credential provider {identifier} does not exist"),
                )
            })
    }

    fn provider_id(&self, identifier: &str) -> String {
        self.provider_ids
            .get(identifier)
            .cloned()
            .unwrap_or_default()
    }

    fn new_oauth_token(
        &self,
        p: &ProviderFixture,
        consumer_type: &str,
        consumer: &str,
        creator: &str,
        scope: Option<String>,
    ) -> AuthToken {
        let now = now_ms();
        AuthToken {
            id: random_id("atntkn_"),
            provider: p.identifier.clone(),
            provider_id: self.provider_id(&p.identifier),
            kind: "oauth_access_token",
            consumer_type: consumer_type.to_string(),
            consumer_id: consumer.to_string(),
            creator_id: creator.to_string(),
            jwt: None,
            dst: None,
            access_token: Some(format!("emu_oauth_{}", uuid::Uuid::new_v4().simple())),
            scope: scope.unwrap_or_else(|| p.scope.clone()),
            revoked: false,
            create_ms: now,
            update_ms: now,
            exp_ms: now + p.token_lifetime_secs * 1000,
        }
    }

    fn find_token(&mut self, token: &str) -> Option<&mut AuthToken> {
        self.tokens.iter_mut().find(|t| {
            t.jwt.as_deref() == Some(token)
                || t.dst.as_deref() == Some(token)
                || t.access_token.as_deref() == Some(token)
        })
    }
}

/// Who is calling (from the bearer token).
struct Caller {
    client_id: String,
    consumer_id: String,
    consumer_type: &'static str,
    user_bound: bool,
}

struct Op {
    method: &'static str,
    path: &'static str,
    action: &'static str,
    scope: Option<&'static str>,
}

const OPS: &[Op] = &[
    Op {
        method: "GET",
        path: "/credentials/_/actions/obtain",
        action: "ObtainCredential",
        scope: Some("credential:obtain"),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/fetchOAuthAccessToken",
        action: "FetchOAuthAuthenticationToken",
        scope: Some("authentication_token:obtain"),
    },
    Op {
        method: "POST",
        path: "/oauthAuthorizationSessions/_/actions/get",
        action: "GetOAuthAuthorizationSession",
        scope: Some("authentication_token:obtain"),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/generateJwt",
        action: "GenerateJwtAuthenticationToken",
        scope: Some("authentication_token:obtain"),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/obtainJwt",
        action: "ObtainJwtAuthenticationToken",
        scope: Some("authentication_token:obtain"),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/obtainJwtByDerivedShortToken",
        action: "ObtainJwtAuthenticationTokenByDerivedShortToken",
        scope: None,
    },
    Op {
        method: "GET",
        path: "/authenticationTokens",
        action: "ListAuthenticationTokens",
        scope: Some("authentication_token:read"),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/validate",
        action: "ValidateAuthenticationToken",
        scope: None,
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/revoke",
        action: "RevokeAuthenticationToken",
        scope: Some("authentication_token:manage"),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/revokeByConsumer",
        action: "RevokeAuthenticationTokenByConsumer",
        scope: Some("authentication_token:manage"),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/reinstate",
        action: "ReinstateAuthenticationToken",
        scope: Some("authentication_token:manage"),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/reinstateByConsumer",
        action: "ReinstateAuthenticationTokenByConsumer",
        scope: Some("authentication_token:manage"),
    },
];

/// Handles `/v2/...`.
pub(crate) fn handle(inner: &Inner, req: &Request, ctx: &Ctx) -> Response {
    match route(inner, req) {
        Ok(Reply::Value(v)) => Response::json(200, &v),
        Ok(Reply::Json(body)) => Response::json_bytes(200, body),
        Err(ApiErr(status, code, msg)) => error_response(inner, status, &code, &msg, ctx.rid),
    }
}

/// A successful reply: a JSON value, or JSON already serialised (the hot ObtainCredential).
enum Reply {
    Value(Value),
    Json(Vec<u8>),
}

fn route(inner: &Inner, req: &Request) -> Res<Reply> {
    let rest = req.path.strip_prefix("/v2/").unwrap_or("");
    let (inst_raw, sub) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let inst = percent_decode(inst_raw, false).unwrap_or_default();
    if inst != inner.instance_id {
        return Err(err(
            404,
            "EntityNotExists.Instance",
            format!("instance {inst} does not exist"),
        ));
    }
    let sub = sub.trim_end_matches('/');
    let candidates: Vec<&Op> = OPS.iter().filter(|o| o.path == sub).collect();
    if candidates.is_empty() {
        return Err(err(
            404,
            "NotFound",
            format!("no Developer API operation at {} {}", req.method, req.path),
        ));
    }
    let Some(op) = candidates.into_iter().find(|o| o.method == req.method) else {
        return Err(err(
            405,
            "MethodNotAllowed",
            format!("{} is not allowed on {}", req.method, req.path),
        ));
    };
    match req.header("x-acs-version") {
        Some(VERSION) => {}
        Some(v) => {
            return Err(err(
                400,
                "InvalidVersion",
                format!("x-acs-version {v} is not supported (expected {VERSION})"),
            ))
        }
        None => {
            return Err(err(
                400,
                "MissingVersion",
                "x-acs-version header is required",
            ))
        }
    }
    match req.header("x-acs-action") {
        Some(a) if a == op.action => {}
        Some(a) => {
            return Err(err(
                400,
                "InvalidAction",
                format!("x-acs-action {a} does not match {} {}", op.method, op.path),
            ))
        }
        None => return Err(err(400, "MissingAction", "x-acs-action header is required")),
    }
    let caller = match op.scope {
        Some(scope) => Some(authorize(inner, req, scope)?),
        None => None,
    };
    let input: Map<String, Value> = if op.method == "GET" {
        let params = req
            .query_params()
            .map_err(|e| invalid(format!("malformed query string: {e}")))?;
        params
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()
    } else {
        let body = std::str::from_utf8(&req.body).map_err(|_| invalid("body is not UTF-8"))?;
        if body.trim().is_empty() {
            Map::new()
        } else {
            match serde_json::from_str::<Value>(body) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err(invalid("body must be a JSON object")),
                Err(e) => return Err(invalid(format!("body is not valid JSON: {e}"))),
            }
        }
    };
    let mut st = lock(&inner.dev);
    if op.action == "ObtainCredential" {
        return obtain_credential(inner, &st, &input).map(Reply::Json);
    }
    let c = caller.as_ref();
    let v = match op.action {
        "FetchOAuthAuthenticationToken" => fetch_oauth(inner, &mut st, c, &input),
        "GetOAuthAuthorizationSession" => get_session(inner, &mut st, c, &input),
        "GenerateJwtAuthenticationToken" => generate_jwt(inner, &mut st, c, &input),
        "ObtainJwtAuthenticationToken" => {
            let id = req_str(&input, "authenticationTokenId")?;
            let consumer = req_str(&input, "consumerId")?;
            let t = st
                .tokens
                .iter()
                .find(|t| t.id == id && t.consumer_id == consumer && t.kind == "jwt")
                .ok_or_else(|| token_not_found(&id))?;
            Ok(token_json(inner, t, true))
        }
        "ObtainJwtAuthenticationTokenByDerivedShortToken" => {
            let dst = req_str(&input, "derivedShortToken")?;
            let t = st
                .tokens
                .iter()
                .find(|t| t.dst.as_deref() == Some(dst.as_str()))
                .ok_or_else(|| token_not_found("(derived short token)"))?;
            Ok(token_json(inner, t, true))
        }
        "ListAuthenticationTokens" => list(inner, &st, &input),
        "ValidateAuthenticationToken" => {
            let token = req_str(&input, "token")?;
            opt_str(&input, "token_type_hint")?;
            let now = now_ms();
            let active = st
                .find_token(&token)
                .map(|t| !t.revoked && t.exp_ms > now)
                .unwrap_or(false);
            Ok(json!({"active": active}))
        }
        "RevokeAuthenticationToken" | "ReinstateAuthenticationToken" => {
            let token = req_str(&input, "token")?;
            opt_str(&input, "token_type_hint")?;
            let revoke = op.action.starts_with("Revoke");
            let t = st
                .find_token(&token)
                .ok_or_else(|| token_not_found("(given token)"))?;
            t.revoked = revoke;
            t.update_ms = now_ms();
            Ok(json!({}))
        }
        "RevokeAuthenticationTokenByConsumer" | "ReinstateAuthenticationTokenByConsumer" => {
            let consumer = req_str(&input, "consumerId")?;
            let provider = req_str(&input, "credentialProviderIdentifier")?;
            st.provider(&provider)?;
            let revoke = op.action.starts_with("Revoke");
            let now = now_ms();
            for t in st
                .tokens
                .iter_mut()
                .filter(|t| t.consumer_id == consumer && t.provider == provider)
            {
                t.revoked = revoke;
                t.update_ms = now;
            }
            Ok(json!({}))
        }
        _ => Err(err(404, "NotFound", "unknown operation")),
    };
    v.map(Reply::Value)
}

fn token_not_found(what: &str) -> ApiErr {
    err(
        404,
        "EntityNotExists.AuthenticationToken",
        format!("authentication token {what} does not exist"),
    )
}

/// Verifies the bearer token and the operation's scope.
fn authorize(inner: &Inner, req: &Request, op_scope: &str) -> Res<Caller> {
    let unauth = |m: &str| err(401, "invalid_token", m);
    let h = req
        .header("authorization")
        .ok_or_else(|| unauth("missing Authorization: Bearer token"))?
        .trim();
    let tok = match (h.get(..7), h.get(7..)) {
        (Some(scheme), Some(rest)) if scheme.eq_ignore_ascii_case("bearer ") => rest.trim(),
        _ => return Err(unauth("Authorization must use the Bearer scheme")),
    };
    authorize_token(inner, tok, op_scope, now_secs() as i64)
}

/// Checks a bearer token for an operation at time `now` (epoch seconds). The signature is
/// verified once per token (`Inner::bearer`); `iss`, `exp`, the access-token claims and the scope
/// are checked on every call.
fn authorize_token(inner: &Inner, tok: &str, op_scope: &str, now: i64) -> Res<Caller> {
    let unauth = |m: &str| err(401, "invalid_token", m);
    let jwt = inner
        .bearer
        .verify(&inner.token_key, tok, now)
        .map_err(|e| match e {
            BearerError::Malformed => unauth("bearer token is malformed"),
            BearerError::BadSignature => unauth("bearer token signature is invalid"),
        })?;
    if jwt.iss.as_deref() != Some(inner.issuer_url.as_str()) {
        return Err(unauth("bearer token was not issued by this emulator"));
    }
    if jwt.exp <= now {
        return Err(unauth("bearer token expired"));
    }
    let (Some(client_id), Some(scope)) = (jwt.client_id.as_deref(), jwt.scope.as_deref()) else {
        return Err(unauth("bearer token is not an access token"));
    };
    // Each item must be `PAM_AUDIENCE|op_scope` or `PAM_AUDIENCE|.all`.
    let grants = |s: &str| {
        s.strip_prefix(PAM_AUDIENCE)
            .and_then(|r| r.strip_prefix('|'))
            .is_some_and(|r| r == op_scope || r == ".all")
    };
    if !scope.split_whitespace().any(grants) {
        let needed = format!("{PAM_AUDIENCE}|{op_scope}");
        let all = format!("{PAM_AUDIENCE}|.all");
        return Err(err(
            403,
            "insufficient_scope",
            format!("the bearer token needs scope {needed} or {all}"),
        ));
    }
    let user_bound = jwt.user_bound;
    let sub = jwt.sub.as_deref().unwrap_or(client_id).to_string();
    Ok(Caller {
        client_id: client_id.to_string(),
        consumer_id: if user_bound {
            sub
        } else {
            client_id.to_string()
        },
        consumer_type: if user_bound { "user" } else { "application" },
        user_bound,
    })
}

fn req_str(m: &Map<String, Value>, k: &str) -> Res<String> {
    match m.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(err(
            400,
            &format!("MissingParameter.{k}"),
            format!("{k} is required"),
        )),
        Some(_) => Err(invalid(format!("{k} must be a string"))),
    }
}

fn opt_str(m: &Map<String, Value>, k: &str) -> Res<Option<String>> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{k} must be a string"))),
    }
}

/// A boolean from JSON or from the query (`true`/`false`, any case).
fn opt_bool(m: &Map<String, Value>, k: &str) -> Res<Option<bool>> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(invalid(format!("{k} must be true or false"))),
        },
        Some(_) => Err(invalid(format!("{k} must be a boolean"))),
    }
}

fn opt_u64(m: &Map<String, Value>, k: &str) -> Res<Option<u64>> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid(format!("{k} must be a non-negative integer"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| invalid(format!("{k} must be a non-negative integer"))),
        Some(_) => Err(invalid(format!("{k} must be an integer"))),
    }
}

/// The ObtainCredential reply, serialised directly (same fields, order and bytes as the
/// `serde_json::Value` it used to be built as; see the test `obtain_credential_bytes_unchanged`).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CredentialReply<'a> {
    instance_id: &'a str,
    credential_id: &'a str,
    credential_identifier: &'a str,
    credential_name: &'a str,
    credential_type: &'a str,
    credential_scenario_label: &'a str,
    credential_creation_type: &'a str,
    credential_subject_type: &'a str,
    credential_subject_id: &'a str,
    credential_sharing_scope: &'a str,
    status: &'a str,
    description: &'a str,
    create_time: u64,
    update_time: u64,
    credential_content: CredentialContent<'a>,
}

#[derive(serde::Serialize)]
enum CredentialContent<'a> {
    #[serde(rename = "apiKeyContent")]
    ApiKey {
        #[serde(rename = "apiKey")]
        api_key: Option<&'a str>,
    },
    #[serde(rename = "oauthClientContent")]
    OAuthClient {
        #[serde(rename = "clientId")]
        client_id: Option<&'a str>,
        #[serde(rename = "clientSecret")]
        client_secret: Option<&'a str>,
    },
}

fn obtain_credential(inner: &Inner, st: &DevState, input: &Map<String, Value>) -> Res<Vec<u8>> {
    let ident = req_str(input, "credentialIdentifier")?;
    let c = inner
        .fixtures
        .credentials
        .iter()
        .find(|c| c.identifier == ident)
        .ok_or_else(|| {
            err(
                404,
                "EntityNotExists.Credential",
                format!("credential {ident} does not exist"),
            )
        })?;
    if c.status != "enabled" {
        return Err(err(
            403,
            "Forbidden.CredentialDisabled",
            format!("credential {ident} is disabled"),
        ));
    }
    let content = if c.kind == "api_key" {
        CredentialContent::ApiKey {
            api_key: c.api_key.as_deref(),
        }
    } else {
        CredentialContent::OAuthClient {
            client_id: c.oauth_client_id.as_deref(),
            client_secret: c.oauth_client_secret.as_deref(),
        }
    };
    let reply = CredentialReply {
        instance_id: &inner.instance_id,
        credential_id: st
            .credential_ids
            .get(&ident)
            .map(String::as_str)
            .unwrap_or_default(),
        credential_identifier: &c.identifier,
        credential_name: &c.name,
        credential_type: &c.kind,
        credential_scenario_label: &c.scenario_label,
        credential_creation_type: "user_custom",
        credential_subject_type: "authentication_token_provider",
        credential_subject_id: "apt_emulator0000000000",
        credential_sharing_scope: "instance",
        status: &c.status,
        description: &c.description,
        create_time: st.created_ms,
        update_time: st.created_ms,
        credential_content: content,
    };
    serde_json::to_vec(&reply).map_err(|e| err(500, "InternalError", e.to_string()))
}

fn token_json(inner: &Inner, t: &AuthToken, with_content: bool) -> Value {
    let mut v = json!({
        "instanceId": inner.instance_id,
        "authenticationTokenId": t.id,
        "credentialProviderId": t.provider_id,
        "authenticationTokenType": t.kind,
        "revoked": t.revoked,
        "creatorType": "application",
        "creatorId": t.creator_id,
        "consumerType": t.consumer_type,
        "consumerId": t.consumer_id,
        "createTime": t.create_ms,
        "updateTime": t.update_ms,
        "expirationTime": t.exp_ms,
    });
    if with_content {
        if let Some(j) = &t.jwt {
            let mut c = json!({"jwtValue": j});
            if let Some(d) = &t.dst {
                c["derivedShortToken"] = json!(d);
            }
            v["jwtContent"] = c;
        }
        if let Some(a) = &t.access_token {
            v["oauthAccessTokenContent"] =
                json!({"accessTokenValue": a, "tokenType": "Bearer", "scope": t.scope});
        }
    }
    v
}

fn session_json(inner: &Inner, s: &Session) -> Value {
    let mut v = json!({
        "instanceId": inner.instance_id,
        "sessionId": s.id,
        "sessionUri": format!("{SESSION_URI_PREFIX}{}", s.id),
        "sessionStatus": s.status,
        "credentialProviderIdentifier": s.provider,
        "consumerType": s.consumer_type,
        "consumerId": s.consumer_id,
        "creatorType": "application",
        "creatorId": s.creator_id,
        "expirationTime": s.exp_ms,
    });
    if s.status == "pending" || s.status == "callback_received" {
        v["authorizationUrl"] = json!(s.auth_url);
    }
    if let Some(t) = &s.token_id {
        v["authenticationTokenId"] = json!(t);
    }
    if let Some(c) = &s.error_code {
        v["errorCode"] = json!(c);
    }
    if let Some(d) = &s.error_desc {
        v["errorDescription"] = json!(d);
    }
    v
}

fn caller(c: Option<&Caller>) -> Res<&Caller> {
    c.ok_or_else(|| err(401, "invalid_token", "a bearer token is required"))
}

fn fetch_oauth(
    inner: &Inner,
    st: &mut DevState,
    c: Option<&Caller>,
    input: &Map<String, Value>,
) -> Res<Value> {
    let c = caller(c)?;
    let ident = req_str(input, "credentialProviderIdentifier")?;
    let scope = opt_str(input, "scope")?;
    if scope.as_ref().is_some_and(|s| s.len() > 256) {
        return Err(invalid("scope must be at most 256 characters"));
    }
    let force = opt_bool(input, "forceAuthentication")?.unwrap_or(false);
    let custom = match input.get("customParameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => {
            if m.values().any(|v| !v.is_string()) {
                return Err(invalid("customParameters values must be strings"));
            }
            m.clone()
        }
        Some(_) => return Err(invalid("customParameters must be an object")),
    };
    let p = st.provider(&ident)?;
    if p.kind != ProviderKind::OAuth {
        return Err(invalid(format!(
            "credential provider {ident} is not an OAuth provider"
        )));
    }
    let now = now_ms();
    let needs_user = p.user_federation;
    if needs_user && !c.user_bound {
        return Err(err(
            403,
            "Forbidden.UserBoundTokenRequired",
            format!("credential provider {ident} uses user federation (3LO): the bearer token must be user-bound (token exchange)"),
        ));
    }
    let consented = !needs_user
        || st
            .consents
            .contains(&(c.consumer_id.clone(), ident.clone()));
    if consented && !force {
        let existing = st.tokens.iter().find(|t| {
            t.provider == ident
                && t.consumer_id == c.consumer_id
                && t.kind == "oauth_access_token"
                && !t.revoked
                && t.exp_ms > now
                && scope.as_ref().map(|s| *s == t.scope).unwrap_or(true)
        });
        if let Some(t) = existing {
            return Ok(token_json(inner, t, true));
        }
        let t = st.new_oauth_token(&p, c.consumer_type, &c.consumer_id, &c.client_id, scope);
        let v = token_json(inner, &t, true);
        st.tokens.push(t);
        return Ok(v);
    }
    if !needs_user {
        // 2LO with forceAuthentication: a fresh token.
        let t = st.new_oauth_token(&p, c.consumer_type, &c.consumer_id, &c.client_id, scope);
        let v = token_json(inner, &t, true);
        st.tokens.push(t);
        return Ok(v);
    }
    let id = random_id("oas_");
    let mut url = format!(
        "{}/_emulator/authorize?session={id}&provider={}&response_type=code&client_id=emulator-oauth-client&state={}",
        inner.public_base(),
        crate::util::percent_encode(&ident),
        uuid::Uuid::new_v4().simple()
    );
    for (k, v) in &custom {
        url.push_str(&format!(
            "&{}={}",
            crate::util::percent_encode(k),
            crate::util::percent_encode(v.as_str().unwrap_or(""))
        ));
    }
    let s = Session {
        id: id.clone(),
        provider: ident.clone(),
        consumer_type: c.consumer_type.to_string(),
        consumer_id: c.consumer_id.clone(),
        creator_id: c.client_id.clone(),
        status: "pending".into(),
        exp_ms: now + SESSION_LIFETIME_MS,
        token_id: None,
        scope,
        auth_url: url.clone(),
        error_code: None,
        error_desc: None,
    };
    st.sessions.push(s);
    Ok(json!({
        "instanceId": inner.instance_id,
        "credentialProviderId": st.provider_id(&ident),
        "oauthAuthorizationSession": {
            "sessionId": id,
            "sessionUri": format!("{SESSION_URI_PREFIX}{id}"),
            "authorizationUrl": url,
            "sessionStatus": "pending",
        }
    }))
}

fn get_session(
    inner: &Inner,
    st: &mut DevState,
    c: Option<&Caller>,
    input: &Map<String, Value>,
) -> Res<Value> {
    let c = caller(c)?;
    let uri = req_str(input, "sessionUri")?;
    let not_found = || {
        err(
            404,
            "oauth_session_not_found",
            format!("OAuth authorization session {uri} does not exist"),
        )
    };
    let s = st.session_mut(&uri).ok_or_else(not_found)?;
    if s.consumer_id != c.consumer_id {
        return Err(not_found());
    }
    Ok(session_json(inner, s))
}

fn generate_jwt(
    inner: &Inner,
    st: &mut DevState,
    c: Option<&Caller>,
    input: &Map<String, Value>,
) -> Res<Value> {
    let c = caller(c)?;
    let ident = req_str(input, "credentialProviderIdentifier")?;
    let subject = req_str(input, "subject")?;
    let audiences: Vec<String> = match input.get("audiences") {
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|v| {
                v.as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .ok_or_else(|| invalid("audiences must be non-empty strings"))
            })
            .collect::<Res<_>>()?,
        None | Some(Value::Null) => {
            return Err(err(
                400,
                "MissingParameter.audiences",
                "audiences is required",
            ))
        }
        Some(_) => return Err(invalid("audiences must be a non-empty array of strings")),
    };
    if let Some(a) = audiences.iter().find(|a| a.starts_with("urn:cloud:idaas")) {
        return Err(invalid(format!(
            "audience {a} is reserved (urn:cloud:idaas...)"
        )));
    }
    let p = st.provider(&ident)?;
    if p.kind != ProviderKind::Jwt {
        return Err(invalid(format!(
            "credential provider {ident} is not a JWT provider"
        )));
    }
    let expiration = opt_u64(input, "expiration")?.unwrap_or(p.default_expiration_secs);
    if expiration == 0 || expiration > 31 * 86_400 {
        return Err(invalid("expiration must be between 1 and 2678400 seconds"));
    }
    let include_dst = opt_bool(input, "includeDerivedShortToken")?.unwrap_or(false);
    let issuer = opt_str(input, "issuer")?.unwrap_or_else(|| inner.issuer());
    if !p.issuer_whitelist.is_empty() && !p.issuer_whitelist.contains(&issuer) {
        return Err(invalid(format!(
            "issuer {issuer} is not in the provider's whitelist"
        )));
    }
    let custom = match input.get("customClaims") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(invalid("customClaims must be an object")),
    };
    const RESERVED: [&str; 7] = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"];
    if let Some(k) = custom.keys().find(|k| RESERVED.contains(&k.as_str())) {
        return Err(invalid(format!(
            "customClaims must not set the registered claim {k}"
        )));
    }
    let now = now_secs();
    let id = random_id("atntkn_");
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("sub".into(), json!(subject));
    claims.insert(
        "aud".into(),
        if audiences.len() == 1 {
            json!(audiences[0])
        } else {
            json!(audiences)
        },
    );
    claims.insert("iat".into(), json!(now));
    claims.insert("nbf".into(), json!(now));
    claims.insert("exp".into(), json!(now + expiration));
    claims.insert("jti".into(), json!(id));
    for (k, v) in custom {
        claims.insert(k, v);
    }
    let jwt = inner.token_key.sign("JWT", &Value::Object(claims));
    let now_ms = now * 1000;
    let t = AuthToken {
        id,
        provider: ident.clone(),
        provider_id: st.provider_id(&ident),
        kind: "jwt",
        consumer_type: c.consumer_type.to_string(),
        consumer_id: c.consumer_id.clone(),
        creator_id: c.client_id.clone(),
        jwt: Some(jwt),
        dst: include_dst.then(|| format!("dst_{}", uuid::Uuid::new_v4().simple())),
        access_token: None,
        scope: String::new(),
        revoked: false,
        create_ms: now_ms,
        update_ms: now_ms,
        exp_ms: now_ms + expiration * 1000,
    };
    let v = token_json(inner, &t, true);
    st.tokens.push(t);
    Ok(v)
}

fn list(inner: &Inner, st: &DevState, input: &Map<String, Value>) -> Res<Value> {
    let consumer = req_str(input, "consumerId")?;
    let provider = req_str(input, "credentialProviderIdentifier")?;
    st.provider(&provider)?;
    let revoked = opt_bool(input, "revoked")?;
    let expired = opt_bool(input, "expired")?;
    let max = opt_u64(input, "maxResults")?.unwrap_or(20);
    if !(1..=100).contains(&max) {
        return Err(invalid("maxResults must be between 1 and 100"));
    }
    let start = match opt_str(input, "nextToken")?.as_deref() {
        None | Some("") => 0usize,
        Some(t) => t
            .strip_prefix("nt_")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| err(400, "InvalidParameter.NextToken", "nextToken is not valid"))?,
    };
    let now = now_ms();
    let matching: Vec<&AuthToken> = st
        .tokens
        .iter()
        .filter(|t| t.consumer_id == consumer && t.provider == provider)
        .filter(|t| revoked.map(|r| t.revoked == r).unwrap_or(true))
        .filter(|t| expired.map(|e| (t.exp_ms <= now) == e).unwrap_or(true))
        .collect();
    let total = matching.len();
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(max as usize)
        .map(|t| token_json(inner, t, false))
        .collect();
    let end = start + page.len();
    let next = if end < total {
        format!("nt_{end}")
    } else {
        String::new()
    };
    Ok(json!({"entities": page, "totalCount": total, "maxResults": max, "nextToken": next}))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An access token as the token endpoint issues it (`exp` = `now + life`).
    fn access_token(inner: &Inner, now: i64, life: i64, scope: &str) -> String {
        inner.token_key.sign(
            "at+jwt",
            &json!({"iss": inner.issuer(), "sub": "app_secret", "aud": PAM_AUDIENCE, "scope": scope,
                    "client_id": "app_secret", "iat": now, "exp": now + life, "jti": random_id("t_")}),
        )
    }

    fn refusal(r: Res<Caller>) -> (u16, String, String) {
        match r {
            Ok(_) => panic!("accepted"),
            Err(ApiErr(s, c, m)) => (s, c, m),
        }
    }

    /// ObtainCredential as it was built before it was serialised directly (a `Value`).
    fn obtain_credential_as_value(inner: &Inner, st: &DevState, ident: &str) -> Value {
        let c = inner
            .fixtures
            .credentials
            .iter()
            .find(|c| c.identifier == ident)
            .unwrap();
        let content = if c.kind == "api_key" {
            json!({"apiKeyContent": {"apiKey": c.api_key}})
        } else {
            json!({"oauthClientContent": {"clientId": c.oauth_client_id, "clientSecret": c.oauth_client_secret}})
        };
        json!({
            "instanceId": inner.instance_id,
            "credentialId": st.credential_ids.get(ident).cloned().unwrap_or_default(),
            "credentialIdentifier": c.identifier,
            "credentialName": c.name,
            "credentialType": c.kind,
            "credentialScenarioLabel": c.scenario_label,
            "credentialCreationType": "user_custom",
            "credentialSubjectType": "authentication_token_provider",
            "credentialSubjectId": "apt_emulator0000000000",
            "credentialSharingScope": "instance",
            "status": c.status,
            "description": c.description,
            "createTime": st.created_ms,
            "updateTime": st.created_ms,
            "credentialContent": content,
        })
    }

    #[test]
    fn obtain_credential_bytes_unchanged() {
        let emu = crate::Emulator::start_default();
        let inner = &emu.inner;
        let st = lock(&inner.dev);
        let mut kinds = HashSet::new();
        for c in &inner.fixtures.credentials {
            if c.status != "enabled" {
                continue;
            }
            kinds.insert(c.kind.clone());
            let mut input = Map::new();
            input.insert("credentialIdentifier".into(), json!(c.identifier));
            let bytes = obtain_credential(inner, &st, &input).ok().unwrap();
            let old = obtain_credential_as_value(inner, &st, &c.identifier).to_string();
            assert_eq!(String::from_utf8(bytes).unwrap(), old);
        }
        assert!(kinds.contains("api_key") && kinds.contains("oauth_client"));
        // Absent optional values are `null`, as before.
        let v = serde_json::to_value(CredentialContent::ApiKey { api_key: None }).unwrap();
        assert_eq!(v, json!({"apiKeyContent": {"apiKey": null}}));
    }

    #[test]
    fn a_cached_bearer_token_is_refused_once_expired() {
        let emu = crate::Emulator::start_default();
        let inner = &emu.inner;
        let now = now_secs() as i64;
        let tok = access_token(inner, now, 20, "urn:cloud:idaas:pam|.all");
        let c = authorize_token(inner, &tok, "credential:obtain", now)
            .ok()
            .unwrap();
        assert_eq!(c.consumer_id, "app_secret");
        assert!(inner.bearer.contains(&tok));
        assert!(authorize_token(inner, &tok, "credential:obtain", now + 19).is_ok());
        for t in [now + 20, now + 21, now + 10_000] {
            assert_eq!(
                refusal(authorize_token(inner, &tok, "credential:obtain", t)),
                (401, "invalid_token".into(), "bearer token expired".into())
            );
        }
        // Still cached: the refusal comes from the per-request exp check.
        assert!(inner.bearer.contains(&tok));
    }

    #[test]
    fn scope_is_checked_per_operation_on_a_cached_token() {
        let emu = crate::Emulator::start_default();
        let inner = &emu.inner;
        let now = now_secs() as i64;
        let tok = access_token(inner, now, 60, "urn:cloud:idaas:pam|credential:obtain");
        assert!(authorize_token(inner, &tok, "credential:obtain", now).is_ok());
        assert!(inner.bearer.contains(&tok));
        let (status, code, _) = refusal(authorize_token(
            inner,
            &tok,
            "authentication_token:obtain",
            now,
        ));
        assert_eq!((status, code.as_str()), (403, "insufficient_scope"));
        assert!(authorize_token(inner, &tok, "credential:obtain", now).is_ok());
    }

    #[test]
    fn a_tampered_signature_is_refused_although_the_token_is_cached() {
        use base64::Engine;
        let emu = crate::Emulator::start_default();
        let inner = &emu.inner;
        let now = now_secs() as i64;
        let tok = access_token(inner, now, 60, "urn:cloud:idaas:pam|.all");
        assert!(authorize_token(inner, &tok, "credential:obtain", now).is_ok());
        let (input, sig) = tok.rsplit_once('.').unwrap();
        let mut sig = crate::util::B64URL.decode(sig).unwrap();
        sig[0] ^= 0x80;
        let forged = format!("{input}.{}", crate::util::b64url(&sig));
        for _ in 0..2 {
            assert_eq!(
                refusal(authorize_token(inner, &forged, "credential:obtain", now)),
                (
                    401,
                    "invalid_token".into(),
                    "bearer token signature is invalid".into()
                )
            );
        }
        assert!(!inner.bearer.contains(&forged));
    }
}
