//! STS `AssumeRoleWithOIDC` (version `2015-04-01`), unsigned: the OIDC token is the proof.
//! Parameters from the query (`GET`) or a form body (`POST`).
//!
//! Checks: `Version` (400 `InvalidVersion`), `RoleArn` a fixtures role (404
//! `EntityNotExist.Role`), `OIDCProviderArn` the fixtures provider (404
//! `EntityNotExist.OIDCProvider`), `OIDCToken` an unexpired token of the emulator's trusted OIDC
//! issuer (400 `AuthenticationFail.OIDCToken.Invalid` / `…Expired`), `RoleSessionName` present
//! (400 `MissingRoleSessionName`), `DurationSeconds` 900..=43200 when given (400
//! `InvalidParameter.DurationSeconds`). The key issued lives `min(DurationSeconds, the STS
//! lifetime)` (default 3600 s, `Emulator::set_alibaba_sts_lifetime`).

use super::{error, format_utc};
use crate::http::{Ctx, Request, Response};
use crate::jwt::Jwt;
use crate::state::State;
use crate::util::{now_secs, parse_form};
use serde_json::json;

/// The STS API version served.
pub(crate) const VERSION: &str = "2015-04-01";

/// Answers `AssumeRoleWithOIDC`.
pub(crate) fn handle(st: &State, req: &Request, ctx: &Ctx) -> Response {
    let mut params = match parse_form(req.query.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(e) => {
            return error(
                400,
                "InvalidParameter",
                &format!("malformed query: {e}"),
                ctx.rid,
            )
        }
    };
    if req.method == "POST" && !req.body.is_empty() {
        match std::str::from_utf8(&req.body)
            .map_err(|e| e.to_string())
            .and_then(parse_form)
        {
            Ok(p) => params.extend(p),
            Err(e) => {
                return error(
                    400,
                    "InvalidParameter",
                    &format!("malformed body: {e}"),
                    ctx.rid,
                )
            }
        }
    }
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let rid = ctx.rid;
    if get("Version") != Some(VERSION) {
        return error(
            400,
            "InvalidVersion",
            &format!("Version must be {VERSION}"),
            rid,
        );
    }
    let ali = &st.fixtures.alibaba_cloud;
    let Some(role_arn) = get("RoleArn") else {
        return error(
            400,
            "MissingRoleArn",
            "RoleArn is mandatory for this action.",
            rid,
        );
    };
    let Some(role) = ali.ram_roles.iter().find(|r| r.role_arn == role_arn) else {
        return error(
            404,
            "EntityNotExist.Role",
            &format!("the role {role_arn} does not exist"),
            rid,
        );
    };
    match get("OIDCProviderArn") {
        None => {
            return error(
                400,
                "MissingOIDCProviderArn",
                "OIDCProviderArn is mandatory for this action.",
                rid,
            )
        }
        Some(p) if p != ali.oidc_provider_arn => {
            return error(
                404,
                "EntityNotExist.OIDCProvider",
                &format!("the OIDC provider {p} does not exist"),
                rid,
            )
        }
        Some(_) => {}
    }
    let Some(token) = get("OIDCToken") else {
        return error(
            400,
            "MissingOIDCToken",
            "OIDCToken is mandatory for this action.",
            rid,
        );
    };
    let now = now_secs();
    let jwt = match Jwt::decode(token) {
        Ok(j)
            if st.keys.oidc.verify(&j)
                && j.str_claim("iss") == Some(st.site.oidc_issuer().as_str()) =>
        {
            j
        }
        _ => {
            return error(
                400,
                "AuthenticationFail.OIDCToken.Invalid",
                "the OIDC token is not a token of the trusted OIDC issuer",
                rid,
            )
        }
    };
    if jwt.num_claim("exp").is_none_or(|e| e <= now as i64) {
        return error(
            400,
            "AuthenticationFail.OIDCToken.Expired",
            "the OIDC token has expired",
            rid,
        );
    }
    let Some(session) = get("RoleSessionName") else {
        return error(
            400,
            "MissingRoleSessionName",
            "RoleSessionName is mandatory for this action.",
            rid,
        );
    };
    let duration = match get("DurationSeconds").map(str::parse::<u64>) {
        None => None,
        Some(Ok(d)) if (900..=43_200).contains(&d) => Some(d),
        Some(_) => {
            return error(
                400,
                "InvalidParameter.DurationSeconds",
                "DurationSeconds must be an integer in 900..=43200",
                rid,
            )
        }
    };
    let k = st.alibaba.issue(now, duration);
    Response::json(
        200,
        &json!({
            "RequestId": rid,
            "AssumedRoleUser": {
                "Arn": format!("{}/{session}", role.role_arn),
                "AssumedRoleId": format!("{}:{session}", role.role_name),
            },
            "Credentials": {
                "AccessKeyId": k.id,
                "AccessKeySecret": k.secret,
                "SecurityToken": k.token,
                "Expiration": format_utc(k.expires_at),
            },
        }),
    )
}
