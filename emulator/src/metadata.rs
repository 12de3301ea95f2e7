//! ECS instance-metadata stand-in (core.md §6.2), plain HTTP or HTTPS on the same port.
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
use crate::util::{now_secs, percent_decode};
use crate::{lock, Inner};
use serde_json::{json, Value};

/// The emulated ECS instance id.
pub(crate) const ECS_INSTANCE_ID: &str = "i-emulator000000000000";

fn meta_error(status: u16, msg: &str) -> Response {
    Response::text(status, msg)
}

/// Handles `/latest/...`.
pub(crate) fn handle(inner: &Inner, req: &Request, _ctx: &Ctx) -> Response {
    match (req.method.as_str(), req.path.as_str()) {
        ("PUT", "/latest/api/token") => {
            let ttl =
                match req
                    .header("x-aliyun-ecs-metadata-token-ttl-seconds")
                    .map(|v| v.trim().parse::<u64>())
                {
                    Some(Ok(t)) if (1..=21600).contains(&t) => t,
                    Some(_) => return meta_error(
                        400,
                        "X-aliyun-ecs-metadata-token-ttl-seconds must be an integer in 1..=21600",
                    ),
                    None => {
                        return meta_error(
                            400,
                            "missing header X-aliyun-ecs-metadata-token-ttl-seconds",
                        )
                    }
                };
            let token = format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            let now = now_secs();
            let mut toks = lock(&inner.metadata_tokens);
            toks.retain(|_, (exp, _)| *exp > now);
            toks.insert(token.clone(), (now + ttl, ttl));
            Response::text(200, &token)
        }
        ("GET", "/latest/dynamic/instance-identity/pkcs7") => {
            let now = now_secs();
            let ttl = match req.header("x-aliyun-ecs-metadata-token") {
                None => return meta_error(401, "missing header X-aliyun-ecs-metadata-token"),
                Some(t) => match lock(&inner.metadata_tokens).get(t.trim()) {
                    Some((exp, ttl)) if *exp > now => *ttl,
                    Some(_) => return meta_error(401, "metadata token expired"),
                    None => return meta_error(401, "unknown metadata token"),
                },
            };
            let aud_raw = req.query.as_deref().and_then(|q| {
                q.split('&')
                    .find_map(|p| p.strip_prefix("audience="))
                    .map(str::to_string)
            });
            let Some(aud_raw) = aud_raw else {
                return meta_error(400, "missing query parameter audience");
            };
            let Ok(aud_txt) = percent_decode(&aud_raw, true) else {
                return meta_error(400, "audience is not valid percent-encoding");
            };
            let Ok(Value::Object(aud)) = serde_json::from_str::<Value>(&aud_txt) else {
                return meta_error(400, "audience is not a JSON object");
            };
            let (Some(a), Some(st)) = (
                aud.get("aud").and_then(Value::as_str),
                aud.get("signingTime").and_then(Value::as_i64),
            ) else {
                return meta_error(
                    400,
                    "audience JSON needs aud (string) and signingTime (integer)",
                );
            };
            let doc = inner.metadata_key.sign(
                "ecs-attested-document",
                &json!({"aud": a, "signingTime": st, "instanceId": ECS_INSTANCE_ID, "ttl": ttl, "issuedAt": now}),
            );
            Response::text(200, &doc)
        }
        _ => meta_error(404, "not found"),
    }
}

/// Verifies an attested document for the token endpoint.
pub(crate) fn verify_document(inner: &Inner, doc: &str) -> Result<(), String> {
    let jwt = Jwt::decode(doc).map_err(|e| format!("attested document: {e}"))?;
    if !inner.metadata_key.verify(&jwt) {
        return Err("attested document signature is invalid".into());
    }
    if jwt.str_claim("aud") != Some(inner.instance_id.as_str()) {
        return Err("attested document aud is not this IDaaS instance id".into());
    }
    let st = jwt
        .num_claim("signingTime")
        .ok_or("attested document has no signingTime")?;
    let ttl = jwt.num_claim("ttl").unwrap_or(3600).max(3600);
    let now = now_secs() as i64;
    if st > now + 300 {
        return Err("attested document signingTime is in the future".into());
    }
    if now > st + ttl {
        return Err("attested document is too old".into());
    }
    Ok(())
}
