//! HTTP/1.1 plumbing: [`message`] (request/response types, no dependencies on the rest),
//! [`read`] (parsing a request off a connection) and [`server`] (accept and connection loops).
//! Handlers use only `message`; the server hands each request to `crate::router`.

pub(crate) mod message;
pub(crate) mod read;
pub(crate) mod server;

pub(crate) use message::{Ctx, Request, Response};
