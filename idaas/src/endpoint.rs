//! Endpoint URLs: parsing, and the rule for plain `http://` (decision D-6).
//!
//! Every URL the client connects to, and every endpoint of a configuration, is parsed with
//! `http::Uri` — the parser `ureq` itself uses to decide where to connect. The host checked here
//! is therefore, by construction, the host of the connection: there is no second parser that could
//! read the same text differently (a URL such as `http://localhost:x@evil.example/` has the host
//! `evil.example` for both).
//!
//! # Rules
//! 1. The scheme is `http` or `https` (in any letter case); anything else is refused.
//! 2. A URL carrying user information (`user[:password]@host`) is refused, whatever the scheme: it
//!    is never needed by this protocol and it is the classic way to disguise the real host.
//! 3. `https://` may name any host: TLS authenticates the host the connection reaches.
//! 4. `http://` is accepted only for a loopback host spelled literally: an IPv4 address of
//!    `127.0.0.0/8` in dotted-decimal form, the IPv6 address `[::1]`, or the name `localhost` (any
//!    letter case). Every other spelling is *not* loopback and is refused: decimal or hexadecimal
//!    IPv4 (`2130706433`, `0x7f000001`), IPv4-mapped IPv6 (`[::ffff:127.0.0.1]`), `0.0.0.0`,
//!    `localhost.` or `127.0.0.1.example`, percent-encoded names. One spelling per address keeps the
//!    rule auditable; the emulator and local test servers need nothing else.
//! 5. At connect time the HTTP layer checks the addresses a plain-http *name* (`localhost`) resolves
//!    to and connects only to loopback ones (see `http.rs`), so a resolver that maps `localhost`
//!    elsewhere cannot receive a secret in clear text either.
//!
//! Messages never echo user information or a query string (either could hold a secret).

use std::net::{Ipv4Addr, Ipv6Addr};

/// The scheme of a checked URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `http://` (only ever connected to for loopback hosts, or the ECS metadata service).
    Http,
    /// `https://`.
    Https,
}

/// What the rules above need to know about one URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UrlFacts {
    /// The scheme.
    pub scheme: Scheme,
    /// The host is a loopback host spelled literally (rule 4).
    pub loopback: bool,
}

/// Parse `url` and check rules 1 and 2. The error is a reason without the URL itself (callers add
/// [`display_url`] and, for configurations, the field name).
pub(crate) fn inspect(url: &str) -> Result<UrlFacts, &'static str> {
    let uri: ureq::http::Uri = url.parse().map_err(|_| "not a valid URL")?;
    let scheme = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => Scheme::Https,
        Some(s) if s.eq_ignore_ascii_case("http") => Scheme::Http,
        Some(_) => return Err("unsupported scheme (expected https://)"),
        None => return Err("no scheme (expected https://)"),
    };
    let authority = uri.authority().ok_or("no host")?;
    if authority.as_str().contains('@') {
        return Err("user information (user:password@) is not allowed in a URL");
    }
    let host = authority.host();
    if host.is_empty() {
        return Err("no host");
    }
    Ok(UrlFacts {
        scheme,
        loopback: is_loopback_host(host),
    })
}

/// True when `host` (as `http::uri::Authority::host` returns it: IPv6 in brackets) is a loopback
/// host spelled literally (rule 4).
pub(crate) fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>() == Ok(Ipv6Addr::LOCALHOST);
    }
    // `Ipv4Addr::from_str` accepts only the four-part dotted-decimal form (no octal, hex or
    // shortened forms), which is exactly the literal spelling rule 4 asks for.
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// True when `url` parses, carries no user information and names a loopback host (rule 4).
pub(crate) fn is_loopback_url(url: &str) -> bool {
    inspect(url).is_ok_and(|f| f.loopback)
}

/// Split a leading `http://` or `https://` (any letter case) off `url`.
pub(crate) fn split_scheme(url: &str) -> Option<(Scheme, &str)> {
    let lower_starts = |p: &str| {
        url.as_bytes()
            .get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p.as_bytes()))
    };
    if lower_starts("https://") {
        Some((Scheme::Https, &url[8..]))
    } else if lower_starts("http://") {
        Some((Scheme::Http, &url[7..]))
    } else {
        None
    }
}

/// `url` for a message: without query, fragment and user information.
pub(crate) fn display_url(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or("");
    let (prefix, rest) = match no_query.find("://") {
        Some(i) => no_query.split_at(i + 3),
        None => ("", no_query),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rfind('@') {
        Some(i) => format!("{prefix}***@{}{path}", &authority[i + 1..]),
        None => format!("{prefix}{authority}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_loopback_spellings_only() {
        for h in [
            "127.0.0.1",
            "127.255.0.9",
            "localhost",
            "LocalHost",
            "[::1]",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "2130706433",
            "0x7f000001",
            "0177.0.0.1",
            "127.1",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]",
            "0.0.0.0",
            "[::]",
            "localhost.",
            "127.0.0.1.evil.invalid",
            "%6cocalhost",
            "evil.invalid",
            "",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn inspect_rules() {
        let ok = |u: &str| inspect(u).unwrap_or_else(|e| panic!("{u}: {e}"));
        assert_eq!(
            ok("https://a.example/x"),
            UrlFacts {
                scheme: Scheme::Https,
                loopback: false
            }
        );
        assert!(ok("HTTP://127.0.0.1:8/t").loopback);
        assert_eq!(ok("HTTP://127.0.0.1:8/t").scheme, Scheme::Http);
        assert!(ok("http://[::1]:8/t").loopback);
        for bad in [
            "http://localhost:x@evil.invalid/token",
            "http://[::1]@evil.invalid:8080/token",
            "http://127.0.0.1:@evil.invalid/token",
            "https://user:pw@a.example/",
            "http://@127.0.0.1/",
        ] {
            assert_eq!(
                inspect(bad),
                Err("user information (user:password@) is not allowed in a URL"),
                "{bad}"
            );
        }
        assert!(inspect("ftp://127.0.0.1/").is_err());
        assert!(inspect("127.0.0.1/x").is_err());
        assert!(inspect("http:///x").is_err());
        assert!(inspect("http://exa mple/").is_err());
    }

    #[test]
    fn display_hides_userinfo_and_query() {
        assert_eq!(
            display_url("http://u:secret@evil.invalid/t?x=secret#f"),
            "http://***@evil.invalid/t"
        );
        assert_eq!(display_url("https://a/b?c"), "https://a/b");
        assert_eq!(display_url("a@b"), "***@b");
    }

    #[test]
    fn scheme_split_ignores_case() {
        assert_eq!(split_scheme("HTTPS://a"), Some((Scheme::Https, "a")));
        assert_eq!(split_scheme("Http://a"), Some((Scheme::Http, "a")));
        assert_eq!(split_scheme("a.example"), None);
        // A multi-byte character across the prefix length is not a char boundary: no panic.
        assert_eq!(split_scheme("htt\u{e9}://x"), None);
        assert_eq!(split_scheme("\u{1F600}\u{1F600}"), None);
    }
}
