//! The PAM Developer API (pam.md §4), version 2022-02-25, with in-memory state
//! (`state::devapi`).
//!
//! The router resolves a `/v2/{instanceId}/…` request once, to the operation of [`ops::OPS`]
//! at its method and path ([`DevApiTarget`]). [`handle`] then checks, in this order: the
//! instance id, that the path and method name an operation, `x-acs-version`, that `x-acs-action`
//! names that operation, the bearer token and the operation's scope ([`auth`]), and the input
//! (query or JSON body, [`input`]); then it runs the operation's function from the table.

mod auth;
mod credentials;
mod input;
mod jwts;
mod oauth;
mod ops;
mod tokens;

use crate::http::{Ctx, Request, Response};
use crate::state::devapi::DevStore;
use crate::state::State;
use crate::util::lock;
use crate::util::percent_decode;
use crate::ErrorStyle;
use ops::{Op, Run};
use serde_json::{json, Map, Value};

/// The API version this emulator implements (`x-acs-version`).
const VERSION: &str = "2022-02-25";

/// A Developer API request as the router resolved it.
pub(crate) struct DevApiTarget {
    /// `x-acs-action` as sent: what `devapi:ACTION` fault rules select on.
    pub declared_action: Option<String>,
    /// The instance id path segment, percent-decoded (empty when it is not valid).
    instance: String,
    /// The operation at the request's path and method.
    op: Lookup,
}

/// The operation at a path and method.
enum Lookup {
    Found(&'static Op),
    /// No operation has this path.
    NoPath,
    /// Operations have this path, none this method.
    WrongMethod,
}

/// Resolves `/v2/{rest}`.
pub(crate) fn route(req: &Request, rest: &str) -> DevApiTarget {
    let (inst_raw, sub) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let sub = sub.trim_end_matches('/');
    let mut at_path = ops::OPS.iter().filter(|o| o.path == sub).peekable();
    let op = if at_path.peek().is_none() {
        Lookup::NoPath
    } else {
        match at_path.find(|o| o.method == req.method) {
            Some(op) => Lookup::Found(op),
            None => Lookup::WrongMethod,
        }
    };
    DevApiTarget {
        declared_action: req.header("x-acs-action").map(str::to_string),
        instance: percent_decode(inst_raw, false).unwrap_or_default(),
        op,
    }
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

/// A successful reply: serialised JSON.
type Reply = Vec<u8>;

/// The bytes of a JSON reply.
fn reply(v: &Value) -> Res<Reply> {
    Ok(serde_json::to_vec(v).unwrap_or_default())
}

/// What an operation works on: the state, the locked store and the request's input.
struct Call<'a> {
    st: &'a State,
    store: &'a mut DevStore,
    input: &'a Map<String, Value>,
}

/// An error body in the current style.
pub(crate) fn error_response(
    st: &State,
    status: u16,
    code: &str,
    desc: &str,
    rid: &str,
) -> Response {
    let body = match st.devapi.error_style() {
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

/// Answers a routed request.
pub(crate) fn handle(st: &State, req: &Request, target: &DevApiTarget, ctx: &Ctx) -> Response {
    match run(st, req, target) {
        Ok(body) => Response::json_bytes(200, body),
        Err(ApiErr(status, code, msg)) => error_response(st, status, &code, &msg, ctx.rid),
    }
}

fn run(st: &State, req: &Request, target: &DevApiTarget) -> Res<Reply> {
    if target.instance != st.site.instance_id {
        return Err(err(
            404,
            "EntityNotExists.Instance",
            format!("instance {} does not exist", target.instance),
        ));
    }
    let op = match target.op {
        Lookup::Found(op) => op,
        Lookup::NoPath => {
            return Err(err(
                404,
                "NotFound",
                format!("no Developer API operation at {} {}", req.method, req.path),
            ))
        }
        Lookup::WrongMethod => {
            return Err(err(
                405,
                "MethodNotAllowed",
                format!("{} is not allowed on {}", req.method, req.path),
            ))
        }
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
    match target.declared_action.as_deref() {
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
    match op.run {
        Run::Bearer(scope, f) => {
            let caller = auth::authorize(st, req, scope)?;
            with_input(st, req, op, |call| f(call, &caller))
        }
        Run::Open(f) => with_input(st, req, op, f),
    }
}

/// Reads the input and runs `f` with the store locked.
fn with_input(
    st: &State,
    req: &Request,
    op: &Op,
    f: impl FnOnce(&mut Call) -> Res<Reply>,
) -> Res<Reply> {
    let input = input::read(req, op.method)?;
    let mut store = lock(&st.devapi.store);
    f(&mut Call {
        st,
        store: &mut store,
        input: &input,
    })
}

/// A credential provider of the fixtures, or 404.
fn provider(store: &DevStore, identifier: &str) -> Res<crate::fixtures::ProviderFixture> {
    store.provider(identifier).ok_or_else(|| {
        err(
            404,
            "EntityNotExists.CredentialProvider",
            format!("credential provider {identifier} does not exist"),
        )
    })
}

fn token_not_found(what: &str) -> ApiErr {
    err(
        404,
        "EntityNotExists.AuthenticationToken",
        format!("authentication token {what} does not exist"),
    )
}
