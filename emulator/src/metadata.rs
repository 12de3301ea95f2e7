//! ECS metadata (placeholder).
use crate::http::{Ctx, Request, Response};
use crate::Inner;
pub(crate) fn handle(_inner: &Inner, _req: &Request, _ctx: &Ctx) -> Response {
    Response::text(404, "not found")
}
pub(crate) fn verify_document(_inner: &Inner, _d: &str) -> Result<(), String> {
    Err("not yet".into())
}
