//! ECS instance-metadata stand-in (core.md §6.2, alibaba-plugin.md §2.6), plain HTTP or HTTPS on
//! the same port.
//!
//! RAM role (the PLUGIN's credential chain): `GET /latest/meta-data/ram/security-credentials/`
//! answers the name of the role attached to the emulated instance (fixtures `ecsRoleName`; 404
//! without one) and `GET …/security-credentials/<role>` a credentials document with a newly
//! issued temporary key (404 for another role). A session token in
//! `X-aliyun-ecs-metadata-token` must be live (401 otherwise); without one the request is
//! answered too (IMDSv1), and the request log shows which it was.
//!
//! `PUT /latest/api/token` (header `X-aliyun-ecs-metadata-token-ttl-seconds`, 1..=21600) returns
//! a random session token. `GET /latest/dynamic/instance-identity/pkcs7?audience=<enc JSON>`
//! (header `X-aliyun-ecs-metadata-token`) returns the "attested document". It is **not**
//! PKCS#7: it is a compact JWS (ES256, `typ` `ecs-attested-document`) signed by an emulator
//! key, whose payload carries `aud`, `signingTime` (both from the audience JSON),
//! `instanceId` (the emulated ECS instance), `ttl` (the metadata-token TTL) and `issuedAt`.
//! The token endpoint's `pkcs7-bearer` verifies the signature, `aud` = the IDaaS instance id and
//! recency: `signingTime` at most 5 minutes in the future and
//! `now <= signingTime + max(ttl, 3600)`.

use crate::http::{Ctx, Request, Response};
use crate::jwt::Jwt;
use crate::state::metadata::TokenRefusal;
use crate::state::State;
use crate::util::{now_secs, percent_decode};
use serde_json::{json, Value};

/// The emulated ECS instance id.
pub(crate) const ECS_INSTANCE_ID: &str = "i-emulator000000000000";
/// Largest session-token TTL the metadata service grants (6 hours).
const MAX_TTL: u64 = 21600;
/// A document is accepted for at least this long after its `signingTime`.
const MIN_DOCUMENT_AGE: i64 = 3600;
/// How far in the future a `signingTime` may be.
const MAX_CLOCK_AHEAD: i64 = 300;

/// What a `/latest/...` request asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    SessionToken,
    AttestedDocument,
    RamRoleName,
    /// The credentials of this role (percent-decoded).
    RamRoleCredentials(String),
    NotFound,
}

/// Where the RAM role routes are.
const ROLE_PREFIX: &str = "/latest/meta-data/ram/security-credentials/";

/// Routes `/latest/...`.
pub(crate) fn route(method: &str, path: &str) -> Action {
    match (method, path) {
        ("PUT", "/latest/api/token") => Action::SessionToken,
        ("GET", "/latest/dynamic/instance-identity/pkcs7") => Action::AttestedDocument,
        ("GET", ROLE_PREFIX) => Action::RamRoleName,
        ("GET", p) if p.starts_with(ROLE_PREFIX) => Action::RamRoleCredentials(
            percent_decode(&p[ROLE_PREFIX.len()..], false).unwrap_or_default(),
        ),
        _ => Action::NotFound,
    }
}

/// Answers a routed request.
pub(crate) fn handle(st: &State, req: &Request, action: &Action, _ctx: &Ctx) -> Response {
    match action {
        Action::SessionToken => session_token(st, req),
        Action::AttestedDocument => attested_document(st, req),
        Action::RamRoleName | Action::RamRoleCredentials(_) => {
            if let Some(t) = req.header("x-aliyun-ecs-metadata-token") {
                match st.metadata.ttl_of(t.trim(), now_secs()) {
                    Ok(_) => {}
                    Err(TokenRefusal::Expired) => {
                        return Response::text(401, "metadata token expired")
                    }
                    Err(TokenRefusal::Unknown) => {
                        return Response::text(401, "unknown metadata token")
                    }
                }
            }
            let attached = st.fixtures.alibaba_cloud.ecs_role_name.as_deref();
            match (action, attached) {
                (_, None) => Response::text(404, "no RAM role is attached to this instance"),
                (Action::RamRoleName, Some(name)) => Response::text(200, name),
                (Action::RamRoleCredentials(r), Some(name)) if r == name => Response::json(
                    200,
                    &super::alibaba::role_document(&st.alibaba.issue(now_secs(), None)),
                ),
                _ => Response::text(404, "not found"),
            }
        }
        Action::NotFound => Response::text(404, "not found"),
    }
}

fn session_token(st: &State, req: &Request) -> Response {
    let ttl = match req
        .header("x-aliyun-ecs-metadata-token-ttl-seconds")
        .map(|v| v.trim().parse::<u64>())
    {
        Some(Ok(t)) if (1..=MAX_TTL).contains(&t) => t,
        Some(_) => {
            return Response::text(
                400,
                "X-aliyun-ecs-metadata-token-ttl-seconds must be an integer in 1..=21600",
            )
        }
        None => {
            return Response::text(
                400,
                "missing header X-aliyun-ecs-metadata-token-ttl-seconds",
            )
        }
    };
    Response::text(200, &st.metadata.issue(ttl, now_secs()))
}

fn attested_document(st: &State, req: &Request) -> Response {
    let now = now_secs();
    let ttl = match req.header("x-aliyun-ecs-metadata-token") {
        None => return Response::text(401, "missing header X-aliyun-ecs-metadata-token"),
        Some(t) => match st.metadata.ttl_of(t.trim(), now) {
            Ok(ttl) => ttl,
            Err(TokenRefusal::Expired) => return Response::text(401, "metadata token expired"),
            Err(TokenRefusal::Unknown) => return Response::text(401, "unknown metadata token"),
        },
    };
    let aud_raw = req.query.as_deref().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("audience="))
            .map(str::to_string)
    });
    let Some(aud_raw) = aud_raw else {
        return Response::text(400, "missing query parameter audience");
    };
    let Ok(aud_txt) = percent_decode(&aud_raw, true) else {
        return Response::text(400, "audience is not valid percent-encoding");
    };
    let Ok(Value::Object(aud)) = serde_json::from_str::<Value>(&aud_txt) else {
        return Response::text(400, "audience is not a JSON object");
    };
    let (Some(a), Some(signing_time)) = (
        aud.get("aud").and_then(Value::as_str),
        aud.get("signingTime").and_then(Value::as_i64),
    ) else {
        return Response::text(
            400,
            "audience JSON needs aud (string) and signingTime (integer)",
        );
    };
    let doc = st.keys.metadata.sign(
        "ecs-attested-document",
        &json!({"aud": a, "signingTime": signing_time, "instanceId": ECS_INSTANCE_ID, "ttl": ttl, "issuedAt": now}),
    );
    Response::text(200, &doc)
}

/// Verifies an attested document for the token endpoint (`pkcs7-bearer`).
pub(crate) fn verify_document(st: &State, doc: &str) -> Result<(), String> {
    let jwt = Jwt::decode(doc).map_err(|e| format!("attested document: {e}"))?;
    if !st.keys.metadata.verify(&jwt) {
        return Err("attested document signature is invalid".into());
    }
    if jwt.str_claim("aud") != Some(st.site.instance_id.as_str()) {
        return Err("attested document aud is not this IDaaS instance id".into());
    }
    let signing_time = jwt
        .num_claim("signingTime")
        .ok_or("attested document has no signingTime")?;
    let ttl = jwt
        .num_claim("ttl")
        .unwrap_or(MIN_DOCUMENT_AGE)
        .max(MIN_DOCUMENT_AGE);
    let now = now_secs() as i64;
    if signing_time > now + MAX_CLOCK_AHEAD {
        return Err("attested document signingTime is in the future".into());
    }
    if now > signing_time + ttl {
        return Err("attested document is too old".into());
    }
    Ok(())
}
