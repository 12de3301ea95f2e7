//! The Alibaba Cloud stand-ins of the PLUGIN `alibabacloudPluginCredentialProvider`
//! (docs/protocol/alibaba-plugin.md): the EIAM OpenAPI `GenerateOauthToken` ([`openapi`]), STS
//! `AssumeRoleWithOIDC` ([`sts`]) and a credentials URI. The ECS RAM-role routes live with the
//! rest of the metadata service (`handlers/metadata.rs`).
//!
//! Both APIs are RPC style on `/`: the action comes from the `x-acs-action` header (OpenAPI) or
//! the `Action` query parameter (STS). A request to `/` naming neither is the health check. Errors
//! are Alibaba Cloud style: `{"RequestId","HostId","Code","Message"}`.

pub(crate) mod openapi;
pub(crate) mod sts;

use crate::http::{Ctx, Request, Response};
use crate::state::alibaba::IssuedKey;
use crate::state::State;
use crate::util::now_secs;
use serde_json::json;

/// Path of the credentials URI document.
pub(crate) const CREDENTIALS_URI_PATH: &str = "/alibabacloud/credentials";

/// What an Alibaba Cloud request asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// EIAM `GenerateOauthToken`.
    GenerateOauthToken,
    /// STS `AssumeRoleWithOIDC`.
    AssumeRoleWithOidc,
    /// Any other action (named by `x-acs-action` or `Action`).
    Unknown(String),
    /// The credentials URI document.
    CredentialsUri,
}

impl Action {
    /// True for the actions of the EIAM OpenAPI (fault route `openapi`).
    pub fn is_openapi(&self) -> bool {
        matches!(self, Action::GenerateOauthToken | Action::Unknown(_))
    }
}

/// The action of a request to `/`, or `None` when it names none (the health check).
pub(crate) fn route_root(req: &Request) -> Option<Action> {
    let named = req
        .header("x-acs-action")
        .map(|a| a.trim().to_string())
        .or_else(|| {
            req.query_params()
                .ok()?
                .into_iter()
                .find(|(k, _)| k == "Action")
                .map(|(_, v)| v)
        })?;
    Some(match named.as_str() {
        "GenerateOauthToken" => Action::GenerateOauthToken,
        "AssumeRoleWithOIDC" => Action::AssumeRoleWithOidc,
        _ => Action::Unknown(named),
    })
}

/// Answers a routed request.
pub(crate) fn handle(st: &State, req: &Request, action: &Action, ctx: &Ctx) -> Response {
    match action {
        Action::GenerateOauthToken => openapi::handle(st, req, ctx),
        Action::AssumeRoleWithOidc => sts::handle(st, req, ctx),
        Action::Unknown(a) => error(
            400,
            "InvalidAction.NotFound",
            &format!("the specified action {a} is not found"),
            ctx.rid,
        ),
        Action::CredentialsUri => {
            if req.method != "GET" {
                return error(405, "MethodNotAllowed", "use GET", ctx.rid);
            }
            Response::json(200, &role_document(&st.alibaba.issue(now_secs(), None)))
        }
    }
}

/// An Alibaba Cloud style error reply.
pub(crate) fn error(status: u16, code: &str, message: &str, rid: &str) -> Response {
    Response::json(
        status,
        &json!({"RequestId": rid, "HostId": "idaas-emulator", "Code": code, "Message": message}),
    )
}

/// The credentials document of the ECS metadata service and the credentials URI.
pub(crate) fn role_document(k: &IssuedKey) -> serde_json::Value {
    let now = now_secs();
    json!({
        "Code": "Success",
        "AccessKeyId": k.id,
        "AccessKeySecret": k.secret,
        "SecurityToken": k.token,
        "Expiration": format_utc(k.expires_at),
        "LastUpdated": format_utc(now),
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn parse_utc(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> Option<i64> {
        let p = s.get(r)?;
        p.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| p.parse().ok())?
    };
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, se) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + mi * 60 + se).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_round_trip() {
        assert_eq!(format_utc(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(parse_utc("2026-01-01T00:00:00Z"), Some(1_767_225_600));
        for t in [0, 951_782_400, 1_700_000_123, 4_107_542_399] {
            assert_eq!(parse_utc(&format_utc(t)), Some(t));
        }
        assert_eq!(parse_utc("2026-01-01T00:00:00"), None);
        assert_eq!(parse_utc("2026-1-01T00:00:00Z"), None);
    }
}
