//! Server-controlled text: what we accept, what we keep, what we hide (SECURITY.md "Server text").
//!
//! A server (or a man in the middle of a misconfigured deployment, or a hostile test double) chooses
//! every byte of its replies. Three rules keep those bytes from doing harm:
//!
//! 1. **Character sets, checked when a reply is parsed.** A secret we hand to the caller is refused
//!    ([`crate::ErrorKind::UnexpectedResponse`], code [`INVALID_RESPONSE_VALUE`]) when it is outside
//!    its set, with a message that names the field and the reason and never the value:
//!
//!    | field | rule |
//!    |---|---|
//!    | token endpoint / token exchange `access_token`, Developer API `accessTokenValue` | [`TextRule::B64Token`] (RFC 6750 §2.1: sent as `Authorization: Bearer`) |
//!    | Developer API `jwtValue`, token endpoint `id_token` | [`TextRule::Jwt`] (three non-empty base64url segments) |
//!    | Developer API `apiKey`, `derivedShortToken`; a plugin's access token | [`TextRule::Visible`] (visible ASCII `!`..`~`) |
//!    | `refresh_token` | [`TextRule::VsChar`] (RFC 6749 Appendix A.17: ASCII `0x20`..`0x7E`) |
//!    | `token_type`, `scope`, `issued_token_type` | [`TextRule::NoControl`] |
//!
//!    Empty optional values are treated as absent. A plugin is application code, not a server: its
//!    token only has to be header- and terminal-safe (visible ASCII), so plugins that wrap
//!    non-OAuth credentials keep working.
//! 2. **Control characters are escaped** in every piece of text an [`crate::Error`] keeps (code,
//!    message, request id): the error's constructors run [`escape_controls`], so server text (an
//!    `error_description` with a terminal escape sequence, a `Location` header, a body snippet) can
//!    never reach a terminal or a log line raw. C0, DEL, C1, the Unicode bidirectional and line
//!    separator controls become visible Rust-style escapes (`\n`, `\u{1b}`).
//! 3. **The request's secrets are redacted** from server text before it enters an error: every
//!    request carries a [`Redactor`] listing the secrets it sent (client secret, the `Basic`
//!    credential, client assertion, subject and actor tokens, bearer token, the token passed to
//!    validate/revoke/reinstate, a derived short token), and the error mapping of the token endpoint
//!    ([`crate::token::error_from_response`]) and of the Developer API replaces each of them — raw,
//!    form-encoded, percent-encoded (either hex case) and JSON-escaped — by [`REDACTED`]. Secrets
//!    shorter than 4 bytes are not searched for (they would mangle every message
//!    and are guessable anyway). Only whole occurrences are found: a server that echoes a secret in
//!    pieces, or transformed in another way, is not covered.

use crate::error::{Error, ErrorKind, Result};
use crate::secret::SecretString;
use std::borrow::Cow;
use std::fmt;

/// The code of an error for a reply value outside its character set.
pub const INVALID_RESPONSE_VALUE: &str = "InvalidResponseValue";

/// What replaces a secret found in server text.
pub const REDACTED: &str = "** redacted **";

/// Secrets shorter than this (in bytes) are not redacted (module docs). Not `pub`: cbindgen would
/// export a public integer constant to the C header.
const MIN_REDACTED_LEN: usize = 4;

/// True for characters that must never reach a terminal raw: C0, DEL and C1 controls (`Cc`), the
/// bidirectional formatting controls (which reorder what a terminal shows) and the Unicode line and
/// paragraph separators. All are in the Basic Multilingual Plane.
pub fn is_terminal_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// `s` with every control character (see the module docs) replaced by its visible Rust escape
/// (`\n`, `\t`, `\u{1b}` ...). Borrowed when there is nothing to escape. Backslashes are kept as
/// they are: the result is for people, not for parsing back.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_terminal_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_terminal_control(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`escape_controls`] on an owned string, reusing it when nothing changes.
pub(crate) fn escape_controls_owned(s: String) -> String {
    match escape_controls(&s) {
        Cow::Borrowed(_) => s,
        Cow::Owned(o) => o,
    }
}

/// The character set a reply value must stay within (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextRule {
    /// RFC 6750 `b64token`: one or more of `A-Z a-z 0-9 - . _ ~ + /`, then any number of `=`.
    B64Token,
    /// A compact JWS: three non-empty segments of base64url characters (`A-Z a-z 0-9 - _`)
    /// separated by `.`.
    Jwt,
    /// Visible ASCII, `!` (0x21) to `~` (0x7E): no space, no control, nothing outside ASCII.
    Visible,
    /// RFC 6749 `VSCHAR`: ASCII 0x20 to 0x7E (visible characters and the space).
    VsChar,
    /// Any text without control characters (see [`escape_controls`]).
    NoControl,
}

/// Why `value` breaks `rule`, or `None` when it does not. The reason never quotes the value.
pub fn violation(value: &str, rule: TextRule) -> Option<&'static str> {
    if value.chars().any(is_terminal_control) {
        return Some("contains a control character");
    }
    if rule == TextRule::NoControl {
        return None;
    }
    if !value.is_ascii() {
        return Some("contains a non-ASCII character");
    }
    if rule == TextRule::VsChar {
        return None;
    }
    if value.contains(' ') {
        return Some("contains a space");
    }
    match rule {
        TextRule::B64Token => {
            let body = value.trim_end_matches('=');
            if body.is_empty() {
                return Some("is not an RFC 6750 b64token (no characters before the '=' padding)");
            }
            if !body.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
            }) {
                return Some(
                    "contains a character outside the RFC 6750 b64token set (A-Z a-z 0-9 - . _ ~ + / and trailing =)",
                );
            }
            None
        }
        TextRule::Jwt => {
            let segments: Vec<&str> = value.split('.').collect();
            let ok = segments.len() == 3
                && segments.iter().all(|s| {
                    !s.is_empty()
                        && s.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                });
            (!ok).then_some(
                "is not a compact JWT (three non-empty base64url segments separated by '.')",
            )
        }
        // Control, non-ASCII and space were refused above.
        TextRule::Visible | TextRule::VsChar | TextRule::NoControl => None,
    }
}

/// Check the reply value `field` of `what` (e.g. `"token endpoint reply"`) against `rule`: an
/// [`ErrorKind::UnexpectedResponse`] error with code [`INVALID_RESPONSE_VALUE`] naming the field and
/// the reason (never the value) when it breaks it.
pub fn check(what: &str, field: &str, value: &str, rule: TextRule) -> Result<()> {
    match violation(value, rule) {
        None => Ok(()),
        Some(reason) => Err(Error::new(
            ErrorKind::UnexpectedResponse,
            INVALID_RESPONSE_VALUE,
            format!("{what}: {field} {reason}; the value is not shown"),
        )),
    }
}

/// [`check`] for an optional value; `None` and the empty string count as absent.
pub fn check_opt(what: &str, field: &str, value: Option<&str>, rule: TextRule) -> Result<()> {
    match value {
        Some(v) if !v.is_empty() => check(what, field, v, rule),
        _ => Ok(()),
    }
}

/// The secrets one request sent, to be redacted from the server's reply to it (module docs).
///
/// Cheap to clone (the secrets are shared, not copied); `Debug` shows only how many it holds.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<SecretString>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

fn percent_encode_into(out: &mut String, s: &str, space_plus: bool, lower: bool) {
    let hex: &[u8; 16] = if lower {
        b"0123456789abcdef"
    } else {
        b"0123456789ABCDEF"
    };
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' if space_plus => out.push('+'),
            _ => {
                out.push('%');
                out.push(hex[(b >> 4) as usize] as char);
                out.push(hex[(b & 15) as usize] as char);
            }
        }
    }
}

impl Redactor {
    /// No secrets: [`Redactor::redact`] returns its input.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remember `secret` (shared, not copied).
    pub fn add(&mut self, secret: &SecretString) -> &mut Self {
        if secret.len() >= MIN_REDACTED_LEN {
            self.secrets.push(secret.clone());
        }
        self
    }

    /// Remember a secret held as plain text (copied into a [`SecretString`], wiped on drop).
    pub fn add_str(&mut self, secret: &str) -> &mut Self {
        if secret.len() >= MIN_REDACTED_LEN {
            self.secrets.push(SecretString::new(secret));
        }
        self
    }

    /// This redactor plus `secret`.
    pub fn with(&self, secret: Option<&SecretString>) -> Redactor {
        let mut r = self.clone();
        if let Some(s) = secret {
            r.add(s);
        }
        r
    }

    /// True when there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The spellings of every secret a server may echo (module docs), longest first so that a
    /// secret containing another is replaced whole. Wiped on drop.
    fn variants(&self) -> Vec<SecretString> {
        let mut v: Vec<SecretString> = Vec::with_capacity(self.secrets.len() * 6);
        for s in &self.secrets {
            let s = s.expose();
            let mut push = |t: String| {
                if t.len() >= MIN_REDACTED_LEN && !v.iter().any(|x| x.expose() == t) {
                    v.push(SecretString::new(t));
                } else {
                    crate::secret::wipe(t);
                }
            };
            push(s.to_owned());
            for (space_plus, lower) in [(true, false), (true, true), (false, false), (false, true)]
            {
                let mut e = String::with_capacity(s.len() * 3);
                percent_encode_into(&mut e, s, space_plus, lower);
                push(e);
            }
            let json = serde_json::to_string(s).unwrap_or_default();
            let json = json
                .strip_prefix('"')
                .and_then(|j| j.strip_suffix('"'))
                .unwrap_or("");
            push(json.to_owned());
            // Some JSON writers (Java, PHP) also escape '/'.
            push(json.replace('/', "\\/"));
        }
        v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        v
    }

    /// `text` with every occurrence of every secret (in each spelling) replaced by [`REDACTED`].
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.secrets.is_empty() || text.len() < MIN_REDACTED_LEN {
            return Cow::Borrowed(text);
        }
        let mut out = Cow::Borrowed(text);
        for v in self.variants() {
            if out.contains(v.expose()) {
                let replaced = out.replace(v.expose(), REDACTED);
                if let Cow::Owned(old) = std::mem::replace(&mut out, Cow::Owned(replaced)) {
                    crate::secret::wipe(old);
                }
            }
        }
        out
    }

    /// [`Redactor::redact`] on an owned string.
    pub fn redact_owned(&self, text: String) -> String {
        match self.redact(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(o) => {
                crate::secret::wipe(text);
                o
            }
        }
    }

    /// An excerpt of a reply body for an error message: lossy UTF-8, trimmed, redacted **before**
    /// it is cut (a cut through a secret would leave a piece of it), control characters escaped
    /// (so that `max` bounds what is shown), then cut to `max` characters (with `…`).
    pub fn body_snippet(&self, body: &[u8], max: usize) -> String {
        let s = String::from_utf8_lossy(body);
        let s = self.redact(s.trim());
        let s = escape_controls(&s);
        if s.chars().count() > max {
            let mut cut: String = s.chars().take(max).collect();
            cut.push('…');
            cut
        } else {
            s.into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_only() {
        assert!(matches!(
            escape_controls("plain é 中 \\n"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            escape_controls("a\nb\tc\r\u{1b}[31mred\u{7f}\u{9b}2J\u{202e}x\u{2028}\0"),
            "a\\nb\\tc\\r\\u{1b}[31mred\\u{7f}\\u{9b}2J\\u{202e}x\\u{2028}\\0"
        );
    }

    #[test]
    fn character_sets() {
        use TextRule::*;
        for ok in ["abc", "a-b.c_d~e+f/g", "abc==", "eyJ0.eyJ1.c2ln"] {
            assert_eq!(violation(ok, B64Token), None, "{ok}");
        }
        for (bad, why) in [
            ("a b", "space"),
            ("a\nb", "control"),
            ("a\u{1b}b", "control"),
            ("aé", "non-ASCII"),
            ("a:b", "b64token set"),
            ("a=b", "b64token set"),
            ("==", "no characters"),
            ("", "no characters"),
        ] {
            let r = violation(bad, B64Token).unwrap_or_default();
            assert!(r.contains(why), "{bad:?}: {r}");
        }
        assert_eq!(violation("eyJh.eyJi.c2ln-_", Jwt), None);
        for bad in [
            "a.b",
            "a.b.c.d",
            "a..c",
            "a.b.c=",
            "a.b.c+",
            "a.b.c/",
            "a.b.\u{1b}",
        ] {
            assert!(violation(bad, Jwt).is_some(), "{bad:?}");
        }
        assert_eq!(
            violation("sk-!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", Visible),
            None
        );
        assert!(violation("a b", Visible).is_some());
        assert!(violation("a\u{7f}", Visible).is_some());
        assert_eq!(violation("a b", VsChar), None);
        assert!(violation("a\tb", VsChar).is_some());
        assert!(violation("aé", VsChar).is_some());
        assert_eq!(violation("read write é", NoControl), None);
        assert!(violation("read\u{85}", NoControl).is_some());
        let e = check(
            "token endpoint reply",
            "access_token",
            "TOPSECRET\nVALUE",
            B64Token,
        )
        .unwrap_err();
        assert_eq!(
            (e.kind(), e.code()),
            (ErrorKind::UnexpectedResponse, INVALID_RESPONSE_VALUE)
        );
        assert!(e
            .message()
            .contains("access_token contains a control character"));
        assert!(!format!("{e} {e:?}").contains("TOPSECRET"));
    }

    #[test]
    fn redacts_every_spelling() {
        let secret = "s3cr3t:with/special+chars é";
        let mut r = Redactor::new();
        r.add_str(secret).add_str("abc"); // too short: ignored
        assert_eq!(r.secrets.len(), 1);
        for spelled in [
            secret.to_string(),
            crate::token::form_encode(secret),
            crate::token::form_encode(secret).to_lowercase(),
            "s3cr3t%3Awith%2Fspecial%2Bchars%20%C3%A9".to_string(),
            "s3cr3t%3awith%2fspecial%2bchars%20%c3%a9".to_string(),
            serde_json::to_string(secret).unwrap(),
            serde_json::to_string(secret).unwrap().replace('/', "\\/"),
        ] {
            let text = format!("bad request: client_secret={spelled}&x=abc");
            let out = r.redact(&text);
            assert!(!out.contains("s3cr3t"), "{spelled}: {out}");
            assert!(out.contains(REDACTED) && out.contains("&x=abc"), "{out}");
        }
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
        assert!(matches!(Redactor::new().redact(secret), Cow::Borrowed(_)));
        assert!(!format!("{r:?}").contains("s3cr3t"));
    }

    #[test]
    fn snippet_is_redacted_before_the_cut() {
        let mut r = Redactor::new();
        r.add_str("0123456789SECRET");
        let body = format!("{}0123456789SECRET tail", "x".repeat(195));
        let s = r.body_snippet(body.as_bytes(), 200);
        assert!(!s.contains("01234"), "{s}");
        assert!(s.ends_with('…'));
        let s = r.body_snippet("\u{1b}".repeat(100).as_bytes(), 200);
        assert_eq!(s.chars().count(), 201, "bounded after escaping: {s}");
        assert!(s.starts_with("\\u{1b}\\u{1b}") && !s.contains('\u{1b}'));
    }
}
