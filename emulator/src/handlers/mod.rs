//! One handler module per API area. Handlers read and change `crate::state` and build
//! `crate::http` responses; they are reached only through `crate::router`.

pub(crate) mod alibaba;
pub(crate) mod control;
pub(crate) mod devapi;
pub(crate) mod discovery;
pub(crate) mod metadata;
pub(crate) mod token;
