//! Small helpers: encodings, time, identifiers, PEM, locks.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// Locks a mutex, ignoring poisoning (a panicking handler must not wedge the server).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// base64url, no padding on output, padding tolerated on input.
pub(crate) const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Standard base64, padding tolerated on input.
pub(crate) const B64STD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(crate) fn b64url(data: &[u8]) -> String {
    B64URL.encode(data)
}

/// Seconds since the epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// An upper-case random (version 4) UUID, the shape IDaaS uses for request ids.
///
/// Every request gets one, so the random bits come from a per-thread SplitMix64 generator seeded
/// once from the OS rather than from the OS for each request: request ids only need to be
/// unique, not unpredictable.
pub(crate) fn request_id() -> String {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(u64::from_le_bytes(
            uuid::Uuid::new_v4().as_bytes()[..8].try_into().unwrap_or([7; 8]),
        ) | 1);
    }
    let mut bytes = [0u8; 16];
    STATE.with(|s| {
        for half in bytes.chunks_mut(8) {
            // SplitMix64.
            let x = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
            s.set(x);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            half.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
    });
    let mut out = uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string();
    out.make_ascii_uppercase();
    out
}

/// A random lower-case identifier with a prefix, e.g. `atntkn_3f9a...`.
pub(crate) fn random_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `s`; `+` becomes a space when `plus_is_space`. Fails on a bad escape or on
/// bytes that are not UTF-8.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = b.get(i + 1).copied().and_then(hex_val);
                let lo = b.get(i + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h * 16 + l),
                    _ => return Err(format!("invalid percent-encoding at byte {i}")),
                }
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "percent-decoded text is not UTF-8".to_string())
}

/// Percent-encodes everything except the unreserved characters.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// Parses an `application/x-www-form-urlencoded` body (also used for query strings).
/// Empty pieces are skipped; a piece without `=` is a parameter with an empty value.
pub(crate) fn parse_form(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for piece in s.split('&') {
        if piece.is_empty() {
            continue;
        }
        let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
        let k = percent_decode(k, true)?;
        let v = percent_decode(v, true)?;
        out.push((k, v));
    }
    Ok(out)
}

/// One PEM block: its label and decoded DER.
pub(crate) struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

/// Parses every PEM block of `text`. Fails when there is none or one is malformed.
pub(crate) fn parse_pem_blocks(text: &str) -> Result<Vec<PemBlock>, String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after
            .find("-----")
            .ok_or_else(|| "PEM header not terminated".to_string())?;
        let label = after[..label_end].to_string();
        let body_start = &after[label_end + 5..];
        let footer = format!("-----END {label}-----");
        let end = body_start
            .find(&footer)
            .ok_or_else(|| format!("PEM block {label} has no END line"))?;
        let b64: String = body_start[..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = B64STD_LENIENT
            .decode(b64.as_bytes())
            .map_err(|e| format!("PEM block {label} is not valid base64: {e}"))?;
        blocks.push(PemBlock { label, der });
        rest = &body_start[end + footer.len()..];
    }
    if blocks.is_empty() {
        return Err("no PEM block found".into());
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_upper_case_v4_uuids_and_distinct() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| request_id()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(100) {
            let u = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(u.get_version_num(), 4);
            assert_eq!(*id, u.hyphenated().to_string().to_uppercase());
        }
        let other = std::thread::spawn(request_id).join().unwrap();
        assert!(!ids.contains(&other));
    }

    #[test]
    fn form_decoding() {
        let f = parse_form("a=b+c&d=e%20f&g=%7C%3A&h").unwrap();
        assert_eq!(f[0], ("a".into(), "b c".into()));
        assert_eq!(f[1], ("d".into(), "e f".into()));
        assert_eq!(f[2], ("g".into(), "|:".into()));
        assert_eq!(f[3], ("h".into(), "".into()));
        assert!(parse_form("a=%zz").is_err());
        assert!(parse_form("a=%ff").is_err());
    }
}
