//! Scope strings: `audience|value` items (core.md §3).
//!
//! A scope is one or more whitespace-separated items `<audience>|<value>`, all with the same
//! audience. [`validate`] implements the algorithm of §3.2; the scope itself is always sent
//! **verbatim** (§3.3): the caller's text, order and spacing, never re-joined.
//!
//! Decision D-2: the default scope, when the configuration has none, is Java's
//! `urn:cloud:idaas:pam|.all` ([`DEFAULT_SCOPE`]); it matches what the PAM client uses for itself.

use crate::error::{Error, Result};

/// The default scope of a configuration without `scope` (decision D-2, the Java default).
pub const DEFAULT_SCOPE: &str = "urn:cloud:idaas:pam|.all";

/// Error code of a malformed or empty scope.
pub const INVALID_SCOPE: &str = "InvalidScope";
/// Error code of a scope with items of several audiences.
pub const MULTIPLE_AUDIENCE: &str = "MultipleAudienceNotSupported";

/// Validate a scope string (core.md §3.2) and return its single audience.
///
/// Errors ([`crate::ErrorKind::InvalidArgument`]): `InvalidScope` / `Scope is empty`,
/// `InvalidScope` / `Invalid scope: <item>` (not exactly one `|` with text on both sides),
/// `MultipleAudienceNotSupported` / `Multiple audiences are not supported`.
pub fn validate(scope: &str) -> Result<&str> {
    let mut audience: Option<&str> = None;
    let mut items = scope.split_whitespace().peekable();
    if items.peek().is_none() {
        return Err(Error::new(
            crate::ErrorKind::InvalidArgument,
            INVALID_SCOPE,
            "Scope is empty",
        ));
    }
    let mut multiple = false;
    for item in items {
        let (aud, value) = match item.split_once('|') {
            Some((a, v)) if !a.is_empty() && !v.is_empty() && !v.contains('|') => (a, v),
            _ => {
                return Err(Error::new(
                    crate::ErrorKind::InvalidArgument,
                    INVALID_SCOPE,
                    format!("Invalid scope: {item}"),
                ))
            }
        };
        let _ = value;
        match audience {
            None => audience = Some(aud),
            Some(a) if a != aud => multiple = true,
            Some(_) => {}
        }
    }
    // Syntax errors of any item are reported before the audience mismatch (the reference sorts the
    // items first; reporting every InvalidScope before MultipleAudience is the closest stable rule).
    if multiple {
        return Err(Error::new(
            crate::ErrorKind::InvalidArgument,
            MULTIPLE_AUDIENCE,
            "Multiple audiences are not supported",
        ));
    }
    Ok(audience.unwrap_or_default())
}

/// The values (text after `|`) of a valid scope, in the caller's order.
pub fn values(scope: &str) -> Vec<&str> {
    scope
        .split_whitespace()
        .filter_map(|i| i.split_once('|').map(|(_, v)| v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> String {
        validate(s).unwrap_err().code().to_string()
    }

    #[test]
    fn reference_examples() {
        assert_eq!(validate("a|b").unwrap(), "a");
        assert_eq!(validate("a|b a|c").unwrap(), "a");
        assert_eq!(validate("  a|b  ").unwrap(), "a");
        assert_eq!(validate(DEFAULT_SCOPE).unwrap(), "urn:cloud:idaas:pam");
        assert_eq!(code("a|b|c"), INVALID_SCOPE);
        let e = validate("read write").unwrap_err();
        assert_eq!(e.message(), "Invalid scope: read");
        let e = validate("api://svc|read write").unwrap_err();
        assert_eq!(e.message(), "Invalid scope: write");
        assert_eq!(code("a|b c|d"), MULTIPLE_AUDIENCE);
        assert_eq!(code("a|"), INVALID_SCOPE);
        assert_eq!(code("|b"), INVALID_SCOPE);
        let e = validate(" \t\n").unwrap_err();
        assert_eq!((e.code(), e.message()), (INVALID_SCOPE, "Scope is empty"));
        assert_eq!(values("a|x a|y"), vec!["x", "y"]);
    }
}
