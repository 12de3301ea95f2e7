//! Developer API (placeholder).
use crate::http::{Ctx, Request, Response};
use crate::Inner;
pub(crate) struct DevState;
impl DevState {
    pub fn new(_f: &crate::Fixtures) -> DevState {
        DevState
    }
    pub fn set_session_status(&mut self, _id: &str, _s: &str) -> Result<(), String> {
        Err("unknown session".into())
    }
    pub fn session_ids(&self) -> Vec<String> {
        Vec::new()
    }
}
pub(crate) fn error_response(
    inner: &Inner,
    status: u16,
    code: &str,
    desc: &str,
    rid: &str,
) -> Response {
    match inner.error_style() {
        crate::ErrorStyle::OAuth => Response::json(
            status,
            &serde_json::json!({"error": code, "error_description": desc, "request_id": rid}),
        ),
        crate::ErrorStyle::Pop => Response::json(
            status,
            &serde_json::json!({"Code": code, "Message": desc, "RequestId": rid}),
        ),
    }
}
pub(crate) fn handle(inner: &Inner, _req: &Request, ctx: &Ctx) -> Response {
    error_response(inner, 404, "NotFound", "not yet", ctx.rid)
}
