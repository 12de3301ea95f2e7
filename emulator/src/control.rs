//! Control API (placeholder).
use crate::http::{Ctx, Request, Response};
use crate::Inner;
pub(crate) fn handle(inner: &Inner, _req: &Request, _ctx: &Ctx) -> Response {
    Response::json(200, &inner.info())
}
