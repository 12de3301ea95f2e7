//! The control API under `/_emulator/` (JSON in/out; documented in `emulator/README.md`).

use crate::faults::{parse_fault, parse_fault_spec, parse_route};
use crate::http::{Ctx, Request, Response};
use crate::{lock, ErrorStyle, Fault, FaultRule, Inner};
use serde_json::{json, Map, Value};
use std::sync::atomic::Ordering;

fn bad(msg: impl Into<String>) -> Response {
    Response::json(
        400,
        &json!({"error": "invalid_request", "error_description": msg.into()}),
    )
}

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

/// Handles `/_emulator/...`.
pub(crate) fn handle(inner: &Inner, req: &Request, _ctx: &Ctx) -> Response {
    let path = req.path.trim_end_matches('/');
    let m = req.method.as_str();
    let body = match body_obj(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let n = |k: &str| body.get(k).and_then(Value::as_u64);
    match (m, path) {
        ("GET", "/_emulator/info") => Response::json(200, &inner.info()),
        ("GET", "/_emulator/faults") => {
            let f: Vec<Value> = lock(&inner.faults).iter().map(fault_rule_json).collect();
            Response::json(200, &json!({"faults": f}))
        }
        ("POST", "/_emulator/faults") => {
            let rule = if let Some(spec) = s("spec") {
                parse_fault_spec(&spec)
            } else {
                let (Some(route), Some(fault)) = (s("route"), s("fault")) else {
                    return bad("give either spec or route + fault");
                };
                parse_route(&route).and_then(|route| {
                    let mut fault = parse_fault(&fault)?;
                    if let (Fault::Status { body: b, .. }, Some(text)) = (&mut fault, s("body")) {
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
                })
            };
            match rule {
                Ok(r) => {
                    let v = fault_rule_json(&r);
                    lock(&inner.faults).push(r);
                    Response::json(200, &v)
                }
                Err(e) => bad(e),
            }
        }
        ("DELETE", "/_emulator/faults") => {
            lock(&inner.faults).clear();
            Response::json(200, &json!({}))
        }
        ("GET", "/_emulator/requests") => {
            let filter = req.query_params().ok().and_then(|q| {
                q.into_iter()
                    .find(|(k, _)| k == "path_contains")
                    .map(|(_, v)| v)
            });
            let items: Vec<crate::RecordedRequest> = lock(&inner.log)
                .iter()
                .filter(|r| {
                    filter
                        .as_ref()
                        .map(|f| r.path.contains(f.as_str()))
                        .unwrap_or(true)
                })
                .map(crate::reqlog::LogEntry::recorded)
                .collect();
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
                Response {
                    status: 200,
                    headers: vec![("Content-Type".into(), "application/x-ndjson".into())],
                    body: out.into_bytes(),
                }
            } else {
                Response::json(
                    200,
                    &json!({"count": items.len(), "requests": serde_json::to_value(&items).unwrap_or(Value::Null)}),
                )
            }
        }
        ("DELETE", "/_emulator/requests") => {
            lock(&inner.log).clear();
            Response::json(200, &json!({}))
        }
        ("POST", "/_emulator/oidc-token") => {
            let subject = s("subject").unwrap_or_else(|| "workload".into());
            let life = n("lifetimeSecs").unwrap_or(3600);
            Response::json(200, &json!({"token": inner.mint_oidc(&subject, life)}))
        }
        ("POST", "/_emulator/pca-credentials") => {
            let cn = s("commonName").unwrap_or_else(|| "app_federated".into());
            match inner.pca.issue(&cn) {
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
        ("GET", "/_emulator/authorize") => {
            // The authorizationUrl of 3LO sessions points here: opening it plays the user.
            let q = req.query_params().unwrap_or_default();
            let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let Some(id) = get("session") else {
                return bad("session is required");
            };
            let status = match get("decision").as_deref() {
                Some("deny") => "failed",
                _ => "completed",
            };
            match lock(&inner.dev).set_session_status(&id, status) {
                Ok(()) => Response {
                    status: 200,
                    headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
                    body: format!("<html><body><h1>idaas-emulator</h1><p>Session {id}: {status}. You can close this window.</p></body></html>").into_bytes(),
                },
                Err(e) => Response::json(404, &json!({"error": "not_found", "error_description": e})),
            }
        }
        ("GET", "/_emulator/sessions") => {
            Response::json(200, &json!({"sessions": lock(&inner.dev).session_ids()}))
        }
        ("POST", p) if p.starts_with("/_emulator/sessions/") => {
            let id = crate::util::percent_decode(&p["/_emulator/sessions/".len()..], false)
                .unwrap_or_default();
            let Some(status) = s("status") else {
                return bad("status is required");
            };
            match lock(&inner.dev).set_session_status(&id, &status) {
                Ok(()) => Response::json(200, &json!({})),
                Err(e) if e.starts_with("unknown session") => {
                    Response::json(404, &json!({"error": "not_found", "error_description": e}))
                }
                Err(e) => bad(e),
            }
        }
        ("POST", "/_emulator/token-lifetime") => match n("secs") {
            Some(v) if v > 0 => {
                inner.token_lifetime.store(v, Ordering::Relaxed);
                Response::json(200, &json!({}))
            }
            _ => bad("secs must be a positive integer"),
        },
        ("POST", "/_emulator/error-style") => {
            match s("style").as_deref().and_then(ErrorStyle::parse) {
                Some(st) => {
                    inner.set_error_style(st);
                    Response::json(200, &json!({}))
                }
                None => bad("style must be oauth or pop"),
            }
        }
        _ => Response::json(
            404,
            &json!({"error": "not_found", "error_description": format!("no control route {m} {path}")}),
        ),
    }
}
