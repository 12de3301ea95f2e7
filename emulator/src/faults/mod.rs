//! Fault injection: which rule applies to a request — decided on the router's classification of
//! the request — and what the fault makes of the response. The spec grammar is in [`spec`]; the
//! rules themselves are `state::FaultRules`.

pub(crate) mod spec;

pub use spec::parse_fault_spec;

use crate::http::{Ctx, Response};
use crate::router::{self, Target};
use crate::state::State;
use crate::{Fault, Route};
use serde_json::Value;

/// What to do with the connection after handling a request.
pub(crate) enum Outcome {
    /// Write this response.
    Respond(Response),
    /// Close with a TCP RST before answering.
    Reset,
    /// Send the head and half the body, then RST.
    ResetMidBody(Response),
    /// Announce more body than is sent, send half of it, then close.
    Truncate(Response),
    /// 200 with this many bytes of body.
    Huge(usize),
    /// Close without any response.
    Down,
}

/// Whether a rule's route covers a request. A Developer API action is the one the request
/// names in `x-acs-action` (the documented meaning of `devapi:ACTION`), whatever its path.
fn covers(route: &Route, target: &Target) -> bool {
    match (route, target) {
        (_, Target::Control(_)) => false,
        (Route::Any, _) => true,
        (Route::Token, Target::Token) => true,
        (Route::DeveloperApi, Target::DeveloperApi(_)) => true,
        (Route::DeveloperApiAction(a), Target::DeveloperApi(d)) => {
            d.declared_action.as_deref() == Some(a.as_str())
        }
        (Route::Metadata, Target::Metadata(_)) => true,
        (Route::OpenApi, Target::Alibaba(a)) => a.is_openapi(),
        (Route::Sts, Target::Alibaba(a)) => {
            *a == crate::handlers::alibaba::Action::AssumeRoleWithOidc
        }
        (Route::CredentialsUri, Target::Alibaba(a)) => {
            *a == crate::handlers::alibaba::Action::CredentialsUri
        }
        _ => false,
    }
}

/// Takes the fault of the first rule covering the request (consuming one use).
pub(crate) fn take(st: &State, target: &Target) -> Option<Fault> {
    st.faults.take(|route| covers(route, target))
}

/// The outcome of a request under `fault`; `normal` computes the handler's response (not
/// called for faults that replace it).
pub(crate) fn apply(
    st: &State,
    fault: Option<Fault>,
    target: &Target,
    ctx: &Ctx,
    normal: impl FnOnce() -> Response,
) -> Outcome {
    let Some(fault) = fault else {
        return Outcome::Respond(normal());
    };
    match fault {
        Fault::Latency(d) => {
            std::thread::sleep(d);
            Outcome::Respond(normal())
        }
        Fault::Status {
            status,
            retry_after,
            body,
        } => {
            let mut resp = match body {
                Some(b) => {
                    let ct = if b.trim_start().starts_with('{') {
                        "application/json"
                    } else {
                        "text/plain; charset=utf-8"
                    };
                    Response::with_type(status, ct, b.into_bytes())
                }
                None => {
                    let (code, desc) = match status {
                        429 => ("Throttling", "too many requests (injected fault)"),
                        500..=599 => ("server_error", "injected server error"),
                        _ => ("invalid_request", "injected error"),
                    };
                    router::error_response(st, target, status, code, desc, ctx.rid)
                }
            };
            if let Some(s) = retry_after {
                resp.headers.push(("Retry-After".into(), s.to_string()));
                resp.headers
                    .push(("x-acs-retry-after".into(), s.to_string()));
            }
            Outcome::Respond(resp)
        }
        Fault::Reset => Outcome::Reset,
        Fault::Down => Outcome::Down,
        Fault::ResetMidBody => Outcome::ResetMidBody(normal()),
        Fault::Truncate => Outcome::Truncate(normal()),
        Fault::NonJson => Outcome::Respond(Response::with_type(
            200,
            "text/html; charset=utf-8",
            b"<html><head><title>Gateway</title></head><body><h1>Welcome</h1></body></html>"
                .to_vec(),
        )),
        Fault::JsonWithout(field) => {
            let mut resp = normal();
            if let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(&resp.body) {
                m.remove(&field);
                resp.body = Value::Object(m).to_string().into_bytes();
            }
            Outcome::Respond(resp)
        }
        Fault::ExpiresAtPast => {
            let mut resp = normal();
            if let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(&resp.body) {
                let past = crate::util::now_secs().saturating_sub(3600);
                if m.contains_key("access_token") || m.contains_key("expires_at") {
                    m.insert("expires_at".into(), Value::from(past));
                    resp.body = Value::Object(m).to_string().into_bytes();
                } else if let Some(Value::Object(tr)) = m.get_mut("TokenResponse") {
                    // GenerateOauthToken: the token's ExpiresAt.
                    tr.insert("ExpiresAt".into(), Value::from(past));
                    resp.body = Value::Object(m).to_string().into_bytes();
                }
            }
            Outcome::Respond(resp)
        }
        Fault::HugeBody(n) => Outcome::Huge(n),
        Fault::NoContent => Outcome::Respond(Response {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        }),
        Fault::Redirect(loc) => Outcome::Respond(Response {
            status: 302,
            headers: vec![
                ("Location".into(), loc),
                ("Content-Type".into(), "text/plain; charset=utf-8".into()),
            ],
            body: b"Found".to_vec(),
        }),
    }
}
