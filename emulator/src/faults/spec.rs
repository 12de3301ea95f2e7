//! The fault-spec grammar shared by `--fault` and the control API.
//!
//! ```text
//! SPEC  = ROUTE "=" FAULT [":" TIMES]
//! ROUTE = "token" | "devapi" | "devapi:" ACTION | "metadata" | "openapi" | "sts"
//!       | "credentials-uri" | "any"
//! FAULT = "latency/" MS | "status/" CODE ["/" RETRY_AFTER_SECS] | "reset" | "reset-mid-body"
//!       | "truncate" | "non-json" | "json-without/" FIELD | "expires-at-past"
//!       | "huge-body/" BYTES | "no-content" | "redirect/" URL | "down"
//! ```
//! A trailing `:DIGITS` is always read as TIMES (write a redirect URL ending in a port with a
//! trailing `/`).

use crate::{Fault, FaultRule, Route};
use std::time::Duration;

/// Parses a route name (`token`, `devapi`, `devapi:ACTION`, `metadata`, `openapi`, `sts`,
/// `credentials-uri`, `any`).
pub fn parse_route(s: &str) -> Result<Route, String> {
    let s = s.trim();
    if let Some(a) = s.strip_prefix("devapi:") {
        if a.is_empty() {
            return Err("route devapi: needs an action name".into());
        }
        return Ok(Route::DeveloperApiAction(a.to_string()));
    }
    match s.to_ascii_lowercase().as_str() {
        "token" => Ok(Route::Token),
        "devapi" | "developer-api" | "developerapi" => Ok(Route::DeveloperApi),
        "metadata" => Ok(Route::Metadata),
        "openapi" => Ok(Route::OpenApi),
        "sts" => Ok(Route::Sts),
        "credentials-uri" => Ok(Route::CredentialsUri),
        "any" | "*" => Ok(Route::Any),
        other => Err(format!(
            "unknown route {other:?} (expected token, devapi, devapi:ACTION, metadata, openapi, sts, credentials-uri or any)"
        )),
    }
}

fn num<T: std::str::FromStr>(s: Option<&str>, what: &str) -> Result<T, String> {
    s.ok_or_else(|| format!("{what} is missing"))?
        .trim()
        .parse()
        .map_err(|_| format!("{what} is not a valid number"))
}

/// Parses a fault (`status/503`, `latency/250`, `reset`, ...).
pub fn parse_fault(s: &str) -> Result<Fault, String> {
    let s = s.trim();
    let (kind, arg) = match s.split_once('/') {
        Some((k, a)) => (k, Some(a)),
        None => (s, None),
    };
    let no_arg = |f: Fault| {
        if arg.is_some() {
            Err(format!("fault {kind} takes no argument"))
        } else {
            Ok(f)
        }
    };
    match kind.to_ascii_lowercase().as_str() {
        "latency" => Ok(Fault::Latency(Duration::from_millis(num(arg, "latency milliseconds")?))),
        "status" => {
            let a = arg.ok_or("status needs a code, e.g. status/503")?;
            let (code, ra) = match a.split_once('/') {
                Some((c, r)) => (c, Some(r)),
                None => (a, None),
            };
            let status: u16 = num(Some(code), "status code")?;
            if !(100..=599).contains(&status) {
                return Err(format!("status code {status} is out of range"));
            }
            let retry_after = match ra {
                Some(r) => Some(num(Some(r), "retry-after seconds")?),
                None => None,
            };
            Ok(Fault::Status {
                status,
                retry_after,
                body: None,
            })
        }
        "reset" => no_arg(Fault::Reset),
        "reset-mid-body" => no_arg(Fault::ResetMidBody),
        "truncate" => no_arg(Fault::Truncate),
        "non-json" => no_arg(Fault::NonJson),
        "json-without" => match arg {
            Some(f) if !f.is_empty() => Ok(Fault::JsonWithout(f.to_string())),
            _ => Err("json-without needs a field name, e.g. json-without/access_token".into()),
        },
        "expires-at-past" => no_arg(Fault::ExpiresAtPast),
        "huge-body" => Ok(Fault::HugeBody(num(arg, "huge-body size in bytes")?)),
        "no-content" => no_arg(Fault::NoContent),
        "redirect" => match arg {
            Some(u) if !u.is_empty() => Ok(Fault::Redirect(u.to_string())),
            _ => Err("redirect needs a URL, e.g. redirect/https://example.invalid/".into()),
        },
        "down" => no_arg(Fault::Down),
        other => Err(format!(
            "unknown fault {other:?} (expected latency, status, reset, reset-mid-body, truncate, non-json, json-without, expires-at-past, huge-body, no-content, redirect or down)"
        )),
    }
}

/// Parses `ROUTE=FAULT[:TIMES]` (see the module docs and `emulator/README.md`).
pub fn parse_fault_spec(s: &str) -> Result<FaultRule, String> {
    let (route, rest) = s
        .split_once('=')
        .ok_or_else(|| format!("fault {s:?}: expected ROUTE=FAULT[:TIMES]"))?;
    let route = parse_route(route).map_err(|e| format!("fault {s:?}: {e}"))?;
    let (fault_txt, times) = match rest.rsplit_once(':') {
        Some((f, t)) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u32 = t
                .parse()
                .map_err(|_| format!("fault {s:?}: TIMES is too large"))?;
            if n == 0 {
                return Err(format!("fault {s:?}: TIMES must be at least 1"));
            }
            (f, Some(n))
        }
        _ => (rest, None),
    };
    let fault = parse_fault(fault_txt).map_err(|e| format!("fault {s:?}: {e}"))?;
    Ok(FaultRule {
        route,
        fault,
        times,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let r = parse_fault_spec("token=status/503/7:2").unwrap();
        assert_eq!(r.route, Route::Token);
        assert_eq!(
            r.fault,
            Fault::Status {
                status: 503,
                retry_after: Some(7),
                body: None
            }
        );
        assert_eq!(r.times, Some(2));
        let r = parse_fault_spec("devapi:ObtainCredential=reset").unwrap();
        assert_eq!(
            r.route,
            Route::DeveloperApiAction("ObtainCredential".into())
        );
        assert_eq!(r.times, None);
        let r = parse_fault_spec("any=redirect/http://h:80/x").unwrap();
        assert_eq!(r.fault, Fault::Redirect("http://h:80/x".into()));
        assert_eq!(
            parse_fault_spec("openapi=status/500").unwrap().route,
            Route::OpenApi
        );
        assert_eq!(parse_fault_spec("sts=reset").unwrap().route, Route::Sts);
        assert_eq!(
            parse_fault_spec("credentials-uri=down:1").unwrap().route,
            Route::CredentialsUri
        );
        assert!(parse_fault_spec("token=bogus").is_err());
        assert!(parse_fault_spec("nowhere=reset").is_err());
        assert!(parse_fault_spec("token").is_err());
        assert!(parse_fault_spec("token=status/99").is_err());
    }
}
