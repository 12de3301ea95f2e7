//! The input of an operation — query parameters (GET) or a JSON object body (POST) — and typed
//! access to its fields.

use super::{err, invalid, Res};
use crate::http::Request;
use serde_json::{Map, Value};

/// The input of a request for an operation with `method`: the query of a GET (every value a
/// string), the JSON object body otherwise (an empty body is `{}`).
pub(super) fn read(req: &Request, method: &str) -> Res<Map<String, Value>> {
    if method == "GET" {
        let params = req
            .query_params()
            .map_err(|e| invalid(format!("malformed query string: {e}")))?;
        return Ok(params
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect());
    }
    let body = std::str::from_utf8(&req.body).map_err(|_| invalid("body is not UTF-8"))?;
    if body.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(invalid("body must be a JSON object")),
        Err(e) => Err(invalid(format!("body is not valid JSON: {e}"))),
    }
}

/// A required non-empty string.
pub(super) fn req_str(m: &Map<String, Value>, k: &str) -> Res<String> {
    match m.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(err(
            400,
            &format!("MissingParameter.{k}"),
            format!("{k} is required"),
        )),
        Some(_) => Err(invalid(format!("{k} must be a string"))),
    }
}

/// An optional string.
pub(super) fn opt_str(m: &Map<String, Value>, k: &str) -> Res<Option<String>> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{k} must be a string"))),
    }
}

/// A boolean from JSON or from the query (`true`/`false`, any case).
pub(super) fn opt_bool(m: &Map<String, Value>, k: &str) -> Res<Option<bool>> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(invalid(format!("{k} must be true or false"))),
        },
        Some(_) => Err(invalid(format!("{k} must be a boolean"))),
    }
}

/// A non-negative integer from JSON or from the query.
pub(super) fn opt_u64(m: &Map<String, Value>, k: &str) -> Res<Option<u64>> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid(format!("{k} must be a non-negative integer"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| invalid(format!("{k} must be a non-negative integer"))),
        Some(_) => Err(invalid(format!("{k} must be an integer"))),
    }
}
