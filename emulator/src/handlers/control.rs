//! The control API under `/_emulator/` (JSON in/out; documented in `emulator/README.md`).
//! Its requests are never faulted and never logged.

use super::discovery::mint_oidc_token;
use crate::client_config;
use crate::faults::spec::{parse_fault, parse_fault_spec, parse_route};
use crate::http::{Ctx, Request, Response};
use crate::state::State;
use crate::util::percent_decode;
use crate::{ErrorStyle, Fault, FaultRule};
use serde_json::{json, Map, Value};

/// What a control request asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Info,
    ListFaults,
    AddFault,
    ClearFaults,
    ListRequests,
    ClearRequests,
    MintOidcToken,
    IssuePcaCredentials,
    /// The authorisation URL of 3LO sessions: opening it plays the user.
    Authorize,
    ListSessions,
    /// Sets the status of this session (id or URI, percent-decoded).
    SetSessionStatus(String),
    SetTokenLifetime,
    SetAlibabaStsLifetime,
    SetErrorStyle,
    NotFound,
}

const SESSIONS_PREFIX: &str = "/_emulator/sessions/";

/// Routes `/_emulator/...` (a trailing `/` is ignored).
pub(crate) fn route(method: &str, path: &str) -> Action {
    let path = path.trim_end_matches('/');
    match (method, path) {
        ("GET", "/_emulator/info") => Action::Info,
        ("GET", "/_emulator/faults") => Action::ListFaults,
        ("POST", "/_emulator/faults") => Action::AddFault,
        ("DELETE", "/_emulator/faults") => Action::ClearFaults,
        ("GET", "/_emulator/requests") => Action::ListRequests,
        ("DELETE", "/_emulator/requests") => Action::ClearRequests,
        ("POST", "/_emulator/oidc-token") => Action::MintOidcToken,
        ("POST", "/_emulator/pca-credentials") => Action::IssuePcaCredentials,
        ("GET", "/_emulator/authorize") => Action::Authorize,
        ("GET", "/_emulator/sessions") => Action::ListSessions,
        ("POST", p) if p.starts_with(SESSIONS_PREFIX) => Action::SetSessionStatus(
            percent_decode(&p[SESSIONS_PREFIX.len()..], false).unwrap_or_default(),
        ),
        ("POST", "/_emulator/token-lifetime") => Action::SetTokenLifetime,
        ("POST", "/_emulator/alibaba-sts-lifetime") => Action::SetAlibabaStsLifetime,
        ("POST", "/_emulator/error-style") => Action::SetErrorStyle,
        _ => Action::NotFound,
    }
}

fn bad(msg: impl Into<String>) -> Response {
    Response::json(
        400,
        &json!({"error": "invalid_request", "error_description": msg.into()}),
    )
}

fn not_found(msg: impl Into<String>) -> Response {
    Response::json(
        404,
        &json!({"error": "not_found", "error_description": msg.into()}),
    )
}

fn ok() -> Response {
    Response::json(200, &json!({}))
}

/// The body as a JSON object (an empty body is `{}`).
fn body_obj(req: &Request) -> Result<Map<String, Value>, Response> {
    let t = String::from_utf8_lossy(&req.body);
    if t.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(&t) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad("body must be a JSON object")),
    }
}

fn fault_rule_json(r: &FaultRule) -> Value {
    json!({"route": format!("{:?}", r.route), "fault": format!("{:?}", r.fault), "times": r.times})
}

/// Answers a routed request. Every route reads the body first: a body that is not a JSON
/// object is refused whatever the route.
pub(crate) fn handle(st: &State, req: &Request, action: &Action, _ctx: &Ctx) -> Response {
    let body = match body_obj(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let n = |k: &str| body.get(k).and_then(Value::as_u64);
    match action {
        Action::Info => Response::json(200, &client_config::info(st)),
        Action::ListFaults => {
            let f: Vec<Value> = st.faults.list().iter().map(fault_rule_json).collect();
            Response::json(200, &json!({"faults": f}))
        }
        Action::AddFault => {
            let rule = if let Some(spec) = s("spec") {
                parse_fault_spec(&spec)
            } else {
                let (Some(route), Some(fault)) = (s("route"), s("fault")) else {
                    return bad("give either spec or route + fault");
                };
                fault_from_parts(&body, &route, &fault, s("body"))
            };
            match rule {
                Ok(r) => {
                    let v = fault_rule_json(&r);
                    st.faults.push(r);
                    Response::json(200, &v)
                }
                Err(e) => bad(e),
            }
        }
        Action::ClearFaults => {
            st.faults.clear();
            ok()
        }
        Action::ListRequests => list_requests(st, req),
        Action::ClearRequests => {
            st.log.clear();
            ok()
        }
        Action::MintOidcToken => {
            let subject = s("subject").unwrap_or_else(|| "workload".into());
            let life = n("lifetimeSecs").unwrap_or(3600);
            Response::json(200, &json!({"token": mint_oidc_token(st, &subject, life)}))
        }
        Action::IssuePcaCredentials => {
            let cn = s("commonName").unwrap_or_else(|| "app_federated".into());
            match st.keys.pca.issue(&cn) {
                Ok(c) => Response::json(
                    200,
                    &json!({"certPem": c.cert_pem, "chainPem": c.chain_pem, "keyPem": c.key_pem}),
                ),
                Err(e) => Response::json(
                    500,
                    &json!({"error": "server_error", "error_description": e}),
                ),
            }
        }
        Action::Authorize => authorize(st, req),
        Action::ListSessions => Response::json(200, &json!({"sessions": st.devapi.session_ids()})),
        Action::SetSessionStatus(id) => {
            let Some(status) = s("status") else {
                return bad("status is required");
            };
            match st.devapi.set_session_status(id, &status) {
                Ok(()) => ok(),
                Err(e) if e.starts_with("unknown session") => not_found(e),
                Err(e) => bad(e),
            }
        }
        Action::SetTokenLifetime => match n("secs") {
            Some(v) if v > 0 => {
                st.token.set_lifetime(v);
                ok()
            }
            _ => bad("secs must be a positive integer"),
        },
        Action::SetAlibabaStsLifetime => match n("secs") {
            Some(v) if v > 0 => {
                st.alibaba.set_sts_lifetime(v);
                ok()
            }
            _ => bad("secs must be a positive integer"),
        },
        Action::SetErrorStyle => match s("style").as_deref().and_then(ErrorStyle::parse) {
            Some(style) => {
                st.devapi.set_error_style(style);
                ok()
            }
            None => bad("style must be oauth or pop"),
        },
        Action::NotFound => not_found(format!(
            "no control route {} {}",
            req.method,
            req.path.trim_end_matches('/')
        )),
    }
}

/// A rule from `{"route", "fault", "times", "body"}` (`body`: the text of a `status` fault).
fn fault_from_parts(
    body: &Map<String, Value>,
    route: &str,
    fault: &str,
    text: Option<String>,
) -> Result<FaultRule, String> {
    let route = parse_route(route)?;
    let mut fault = parse_fault(fault)?;
    if let (Fault::Status { body: b, .. }, Some(text)) = (&mut fault, text) {
        *b = Some(text);
    }
    let times = match body.get("times") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(t) if t >= 1 && t <= u32::MAX as u64 => Some(t as u32),
            _ => return Err("times must be a positive integer".into()),
        },
    };
    Ok(FaultRule {
        route,
        fault,
        times,
    })
}

/// `GET /_emulator/requests[?path_contains=X][&format=jsonl]`.
fn list_requests(st: &State, req: &Request) -> Response {
    let filter = req.query_params().ok().and_then(|q| {
        q.into_iter()
            .find(|(k, _)| k == "path_contains")
            .map(|(_, v)| v)
    });
    let items = st.log.recorded(filter.as_deref());
    let jsonl = req
        .query
        .as_deref()
        .is_some_and(|q| q.contains("format=jsonl"));
    if jsonl {
        let mut out = String::new();
        for r in &items {
            out.push_str(&serde_json::to_string(r).unwrap_or_default());
            out.push('\n');
        }
        Response::with_type(200, "application/x-ndjson", out.into_bytes())
    } else {
        Response::json(
            200,
            &json!({"count": items.len(), "requests": serde_json::to_value(&items).unwrap_or(Value::Null)}),
        )
    }
}

/// `GET /_emulator/authorize?session=ID[&decision=deny]`: completes (or fails) the session.
fn authorize(st: &State, req: &Request) -> Response {
    let q = req.query_params().unwrap_or_default();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let Some(id) = get("session") else {
        return bad("session is required");
    };
    let status = match get("decision").as_deref() {
        Some("deny") => "failed",
        _ => "completed",
    };
    match st.devapi.set_session_status(&id, status) {
        Ok(()) => Response::with_type(
            200,
            "text/html; charset=utf-8",
            format!("<html><body><h1>idaas-emulator</h1><p>Session {id}: {status}. You can close this window.</p></body></html>").into_bytes(),
        ),
        Err(e) => not_found(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("GET", "/_emulator/info/"), Action::Info);
        assert_eq!(route("HEAD", "/_emulator/info"), Action::NotFound);
        assert_eq!(route("GET", "/_emulator"), Action::NotFound);
        assert_eq!(
            route("POST", "/_emulator/sessions/urn%3Ax%3Aoas_1"),
            Action::SetSessionStatus("urn:x:oas_1".into())
        );
    }
}
