//! The router: classifies each request once into its API area and the action within it
//! ([`Target`]), then hands it to that area's handler. Fault selection (`crate::faults`) reads
//! the same classification.
//!
//! Areas by path: `/_emulator` and `/_emulator/…` the control API; the token endpoint path;
//! `/v2/…` the Developer API; `/latest/…` the ECS metadata stand-in; `/` naming an action
//! (`x-acs-action` header or `Action` query parameter) and `/alibabacloud/credentials` the Alibaba
//! Cloud stand-ins (EIAM OpenAPI, STS, credentials URI); everything else discovery, JWKS, health
//! or 404. Each area's action table lives with its handler.

use crate::handlers::{alibaba, control, devapi, discovery, metadata, token};
use crate::http::{Ctx, Request, Response};
use crate::state::State;
use crate::TOKEN_PATH;

/// A request's area and action.
pub(crate) enum Target {
    Control(control::Action),
    Token,
    DeveloperApi(devapi::DevApiTarget),
    Metadata(metadata::Action),
    Alibaba(alibaba::Action),
    Discovery(discovery::Action),
}

impl Target {
    /// Control-API requests are neither faulted nor logged.
    pub fn is_control(&self) -> bool {
        matches!(self, Target::Control(_))
    }
}

/// Classifies a request.
pub(crate) fn classify(req: &Request) -> Target {
    let p = req.path.as_str();
    if p.starts_with("/_emulator/") || p == "/_emulator" {
        Target::Control(control::route(&req.method, p))
    } else if p == TOKEN_PATH {
        Target::Token
    } else if let Some(rest) = p.strip_prefix("/v2/") {
        Target::DeveloperApi(devapi::route(req, rest))
    } else if p.starts_with("/latest/") {
        Target::Metadata(metadata::route(&req.method, p))
    } else if p == alibaba::CREDENTIALS_URI_PATH {
        Target::Alibaba(alibaba::Action::CredentialsUri)
    } else if let Some(a) = (p == "/").then(|| alibaba::route_root(req)).flatten() {
        Target::Alibaba(a)
    } else {
        Target::Discovery(discovery::route(&req.method, p))
    }
}

/// The handler's response to a classified request.
pub(crate) fn handle(st: &State, req: &Request, target: &Target, ctx: &Ctx) -> Response {
    match target {
        Target::Control(a) => control::handle(st, req, a, ctx),
        Target::Token => token::handle(st, req, ctx),
        Target::DeveloperApi(t) => devapi::handle(st, req, t, ctx),
        Target::Metadata(a) => metadata::handle(st, req, a, ctx),
        Target::Alibaba(a) => alibaba::handle(st, req, a, ctx),
        Target::Discovery(a) => discovery::handle(st, req, a, ctx),
    }
}

/// An error reply in the area's style: the Developer API's current error style, Alibaba Cloud
/// style for the Alibaba Cloud stand-ins, OAuth elsewhere.
pub(crate) fn error_response(
    st: &State,
    target: &Target,
    status: u16,
    code: &str,
    desc: &str,
    rid: &str,
) -> Response {
    match target {
        Target::DeveloperApi(_) => devapi::error_response(st, status, code, desc, rid),
        Target::Alibaba(_) => alibaba::error(status, code, desc, rid),
        _ => token::oauth_error(status, code, desc, rid),
    }
}
