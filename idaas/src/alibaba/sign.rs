//! The ACS3-HMAC-SHA256 signature of Alibaba Cloud OpenAPI requests (alibaba-plugin.md §5).
//!
//! Pure functions, no I/O: the canonical query, the canonical headers, the canonical request, the
//! string to sign, the signature and the `Authorization` value. The test vectors of
//! alibaba-plugin.md §5.4 are checked below.
//!
//! Two percent-encodings are involved and must not be confused:
//! * on the wire the query is form-encoded (space → `+`, [`crate::token::form_encode`]);
//! * in the canonical query every byte outside `A-Z a-z 0-9 - _ . ~` is `%XX` with upper-case hex,
//!   space included (`%20`) — [`canonical_encode`]. Names are encoded too (the reference leaves
//!   them raw; for the names it sends both are the same).
//!
//! Repeated query names are allowed: the pairs are sorted by encoded name, then by encoded value,
//! so the result does not depend on the order they were given in. Repeated header names (in any
//! letter case) are merged: their trimmed values sorted and joined with `,`.

use ring::{digest, hmac};

/// The signature algorithm name, first word of the `Authorization` header.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Lower-case hex SHA-256 of the empty body (`x-acs-content-sha256` of a request without a body).
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Append `bytes` as lower-case hex.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

/// The canonical percent-encoding (module docs): unreserved bytes kept, every other byte of the
/// UTF-8 text `%XX` with upper-case hex (space → `%20`, `*` → `%2A`, `+` → `%2B`, `|` → `%7C`).
pub fn canonical_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    out
}

/// The query as sent on the wire: form-encoded `name=value` pairs joined with `&`, in the order
/// given.
pub fn wire_query(params: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        crate::token::form_encode_into(&mut out, k);
        out.push('=');
        crate::token::form_encode_into(&mut out, v);
    }
    out
}

/// The canonical query (module docs): encoded pairs sorted by name, then value, joined with `&`;
/// empty without parameters.
pub fn canonical_query(params: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (canonical_encode(k), canonical_encode(v)))
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// `(canonical headers, signed headers)` of `headers` (module docs): names lower-cased and sorted,
/// values trimmed, repeated names merged. The canonical headers end with `\n`.
pub fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut named: Vec<(String, &str)> = headers
        .iter()
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim()))
        .collect();
    // Sorting the pairs orders the names and, within one name, the values.
    named.sort();
    let mut canonical = String::new();
    let mut signed = String::new();
    let mut i = 0;
    while i < named.len() {
        let name = &named[i].0;
        let mut j = i;
        let mut values: Vec<&str> = Vec::new();
        while j < named.len() && named[j].0 == *name {
            values.push(named[j].1);
            j += 1;
        }
        if !signed.is_empty() {
            signed.push(';');
        }
        signed.push_str(name);
        canonical.push_str(name);
        canonical.push(':');
        canonical.push_str(&values.join(","));
        canonical.push('\n');
        i = j;
    }
    (canonical, signed)
}

/// The canonical request of alibaba-plugin.md §5.2 step 7 and its signed-header list. `path` is the
/// canonical URI (`/` for RPC-style APIs), `hashed_payload` the `x-acs-content-sha256` value.
pub fn canonical_request(
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    headers: &[(&str, &str)],
    hashed_payload: &str,
) -> (String, String) {
    let (canonical_headers, signed) = canonical_headers(headers);
    let query = canonical_query(params);
    let text =
        format!("{method}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{hashed_payload}");
    (text, signed)
}

/// `ACS3-HMAC-SHA256 \n <hex SHA-256 of the canonical request>`.
pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// Lower-case hex HMAC-SHA256 of `string_to_sign` keyed with the AccessKey secret (its UTF-8 bytes,
/// nothing appended).
pub fn signature(access_key_secret: &str, string_to_sign: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, access_key_secret.as_bytes());
    hex(hmac::sign(&key, string_to_sign.as_bytes()).as_ref())
}

/// The `Authorization` header value (no spaces after the commas).
pub fn authorization(access_key_id: &str, signed_headers: &str, signature: &str) -> String {
    format!("{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}")
}

/// Sign a request: the `Authorization` value for `method path?params` with `headers` (all of them
/// are signed) and the hashed payload. The canonical request, which holds every header value
/// (the security token among them), is wiped once hashed.
pub fn sign(
    access_key_id: &str,
    access_key_secret: &str,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    headers: &[(&str, &str)],
    hashed_payload: &str,
) -> String {
    let (canonical, signed) = canonical_request(method, path, params, headers, hashed_payload);
    let sts = string_to_sign(&canonical);
    crate::secret::wipe(canonical);
    let sig = signature(access_key_secret, &sts);
    authorization(access_key_id, &signed, &sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UA: &str = "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2";
    const AK: &str = "LTAI5tConformanceTestAK01";
    const SK: &str = "conformance-ak-secret-0123456789abcdef";
    const STS_AK: &str = "STS.ConformanceTestSts01";
    const STS_SK: &str = "conformance-sts-secret-0123456789abcdef";
    const STS_TOKEN: &str = "conformance-sts-security-token-0123456789abcdef";

    /// The common headers of the test vectors, in the reference's order.
    fn headers<'a>(sts: Option<(&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
        let mut h = vec![
            ("host", "eiam.cn-hangzhou.aliyuncs.com"),
            ("x-acs-version", "2021-12-01"),
            ("x-acs-action", "GenerateOauthToken"),
            ("user-agent", UA),
            ("x-acs-date", "2026-01-01T00:00:00Z"),
            ("x-acs-signature-nonce", "0123456789abcdef0123456789abcdef"),
            ("accept", "application/json"),
            ("x-acs-content-sha256", EMPTY_BODY_SHA256),
            ("x-acs-credentials-provider", "default/env"),
        ];
        if let Some((ak, token)) = sts {
            h.push(("x-acs-accesskey-id", ak));
            h.push(("x-acs-security-token", token));
        }
        h
    }

    const V1_QUERY: [(&str, &str); 5] = [
        ("ApplicationId", "app_conformance_client"),
        ("Audience", "api.example.com"),
        ("InstanceId", "idaas_conformance_instance"),
        ("ScopeValues.1", "read"),
        ("ScopeValues.2", "write"),
    ];

    #[test]
    fn empty_body_hash() {
        assert_eq!(sha256_hex(b""), EMPTY_BODY_SHA256);
    }

    #[test]
    fn vector_v1_access_key() {
        let h = headers(None);
        let (canonical, signed) = canonical_request("POST", "/", &V1_QUERY, &h, EMPTY_BODY_SHA256);
        let expected = "POST\n/\nApplicationId=app_conformance_client&Audience=api.example.com&InstanceId=idaas_conformance_instance&ScopeValues.1=read&ScopeValues.2=write\naccept:application/json\nhost:eiam.cn-hangzhou.aliyuncs.com\nuser-agent:AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2\nx-acs-action:GenerateOauthToken\nx-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-acs-credentials-provider:default/env\nx-acs-date:2026-01-01T00:00:00Z\nx-acs-signature-nonce:0123456789abcdef0123456789abcdef\nx-acs-version:2021-12-01\n\naccept;host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(canonical, expected);
        let sts = string_to_sign(&canonical);
        assert_eq!(
            sts,
            "ACS3-HMAC-SHA256\naddf18ced8a764f135836ad600643e87ced7dcf971bc9fb8b8c2f04f96472d13"
        );
        let sig = signature(SK, &sts);
        assert_eq!(
            sig,
            "669ae0a1c58b2c4931887f708b34d61c8487155e16f7433f30a6483c023628d8"
        );
        assert_eq!(
            sign(AK, SK, "POST", "/", &V1_QUERY, &h, EMPTY_BODY_SHA256),
            format!("ACS3-HMAC-SHA256 Credential=LTAI5tConformanceTestAK01,SignedHeaders={signed},Signature={sig}")
        );
        assert_eq!(
            wire_query(&V1_QUERY),
            "ApplicationId=app_conformance_client&Audience=api.example.com&InstanceId=idaas_conformance_instance&ScopeValues.1=read&ScopeValues.2=write"
        );
    }

    #[test]
    fn vector_v2_sts_token() {
        let q = [
            ("ApplicationId", "app_conformance_client"),
            ("Audience", "https://api.example.com/v1"),
            ("InstanceId", "idaas_conformance_instance"),
            ("ScopeValues.1", "read:file"),
        ];
        assert_eq!(
            wire_query(&q),
            "ApplicationId=app_conformance_client&Audience=https%3A%2F%2Fapi.example.com%2Fv1&InstanceId=idaas_conformance_instance&ScopeValues.1=read%3Afile"
        );
        let h = headers(Some((STS_AK, STS_TOKEN)));
        let (canonical, signed) = canonical_request("POST", "/", &q, &h, EMPTY_BODY_SHA256);
        assert!(canonical.starts_with("POST\n/\nApplicationId=app_conformance_client&Audience=https%3A%2F%2Fapi.example.com%2Fv1&InstanceId=idaas_conformance_instance&ScopeValues.1=read%3Afile\naccept:application/json\n"));
        assert!(canonical.contains("\nx-acs-accesskey-id:STS.ConformanceTestSts01\nx-acs-action:"));
        assert!(canonical.contains("\nx-acs-date:2026-01-01T00:00:00Z\nx-acs-security-token:conformance-sts-security-token-0123456789abcdef\nx-acs-signature-nonce:"));
        assert_eq!(signed, "accept;host;user-agent;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version");
        let sts = string_to_sign(&canonical);
        assert_eq!(
            sts,
            "ACS3-HMAC-SHA256\n30d58b177c01d1387be5e5907acf31e1571a681ecdc967e870de6bc8e97cfa6b"
        );
        assert_eq!(
            sign(STS_AK, STS_SK, "POST", "/", &q, &h, EMPTY_BODY_SHA256),
            format!("ACS3-HMAC-SHA256 Credential=STS.ConformanceTestSts01,SignedHeaders={signed},Signature=92fa831a04c5233b24044e32a69d27d40b1ca175fcf65c0c614376e4b3248fed")
        );
        // The STS key with V1's query.
        let (canonical, _) = canonical_request("POST", "/", &V1_QUERY, &h, EMPTY_BODY_SHA256);
        let sts = string_to_sign(&canonical);
        assert_eq!(
            sts,
            "ACS3-HMAC-SHA256\n3816acccffd976c663a7c3c33623e9fcaa72f82c2a63068d1417524d029307b2"
        );
        assert_eq!(
            signature(STS_SK, &sts),
            "2dbde400e04ad32a906ccdc2405b0b61d93405edbde1c6287f07a5e5eb7ac696"
        );
    }

    #[test]
    fn vector_v3_percent_encoding() {
        let q = [
            ("ApplicationId", "app_conformance_client"),
            ("Audience", "urn:example:café ~*'()!"),
            ("InstanceId", "idaas_conformance_instance"),
            ("ScopeValues.1", "a+b/c=d&e"),
        ];
        assert_eq!(
            wire_query(&q),
            "ApplicationId=app_conformance_client&Audience=urn%3Aexample%3Acaf%C3%A9+~%2A%27%28%29%21&InstanceId=idaas_conformance_instance&ScopeValues.1=a%2Bb%2Fc%3Dd%26e"
        );
        assert_eq!(
            canonical_query(&q),
            "ApplicationId=app_conformance_client&Audience=urn%3Aexample%3Acaf%C3%A9%20~%2A%27%28%29%21&InstanceId=idaas_conformance_instance&ScopeValues.1=a%2Bb%2Fc%3Dd%26e"
        );
        let (canonical, _) = canonical_request("POST", "/", &q, &headers(None), EMPTY_BODY_SHA256);
        let sts = string_to_sign(&canonical);
        assert_eq!(
            sts,
            "ACS3-HMAC-SHA256\n09ca3f4cbc9defa4679b389801994462045d974fa57098bef1fdcfe0e9219679"
        );
        assert_eq!(
            signature(SK, &sts),
            "2f1151e827366903526a0741dd03e93877dee9a91e9225350273e2de8e11a296"
        );
    }

    #[test]
    fn canonical_encoding_edge_cases() {
        // `|` (the scope separator), spaces, non-ASCII, reserved and unreserved characters.
        assert_eq!(canonical_encode("aud|read"), "aud%7Cread");
        assert_eq!(canonical_encode("a b"), "a%20b");
        assert_eq!(canonical_encode("ü€😀"), "%C3%BC%E2%82%AC%F0%9F%98%80");
        assert_eq!(canonical_encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(
            canonical_encode("*+%/?#[]@!$&'(),;="),
            "%2A%2B%25%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2C%3B%3D"
        );
        assert_eq!(canonical_encode(""), "");
        // The wire form differs only for the space.
        assert_eq!(wire_query(&[("a b", "c d|e")]), "a+b=c+d%7Ce");
        assert_eq!(canonical_query(&[("a b", "c d|e")]), "a%20b=c%20d%7Ce");
    }

    #[test]
    fn canonical_query_sorting_and_repeated_names() {
        // Ten or more values: sorted as strings (1, 10, 2 …), whatever the order given.
        let values: Vec<String> = (1..=11).map(|i| format!("ScopeValues.{i}")).collect();
        let mut params: Vec<(&str, &str)> = values.iter().map(|k| (k.as_str(), "v")).collect();
        params.reverse();
        let q = canonical_query(&params);
        assert!(
            q.starts_with("ScopeValues.1=v&ScopeValues.10=v&ScopeValues.11=v&ScopeValues.2=v"),
            "{q}"
        );
        // A repeated name: ordered by value, independent of the given order.
        let a = canonical_query(&[("k", "b"), ("a", ""), ("k", "a")]);
        let b = canonical_query(&[("k", "a"), ("k", "b"), ("a", "")]);
        assert_eq!(a, "a=&k=a&k=b");
        assert_eq!(a, b);
        // Sorting is on the encoded names (byte order): `%` (0x25) sorts before letters.
        assert_eq!(canonical_query(&[("b", "1"), ("a b", "2")]), "a%20b=2&b=1");
        assert_eq!(canonical_query(&[]), "");
    }

    #[test]
    fn canonical_headers_merge_and_trim() {
        let (c, s) = canonical_headers(&[
            ("X-Acs-B", " two "),
            ("host", "h"),
            ("x-acs-b", "one"),
            ("X-ACS-A", "\tx\t"),
        ]);
        assert_eq!(c, "host:h\nx-acs-a:x\nx-acs-b:one,two\n");
        assert_eq!(s, "host;x-acs-a;x-acs-b");
        // The order the headers are given in does not matter.
        let (c2, s2) = canonical_headers(&[
            ("X-ACS-A", "x"),
            ("x-acs-b", "one"),
            ("host", "h"),
            ("X-Acs-B", "two"),
        ]);
        assert_eq!((c, s), (c2, s2));
    }

    #[test]
    fn a_changed_byte_changes_the_signature() {
        let h = headers(None);
        let base = sign(AK, SK, "POST", "/", &V1_QUERY, &h, EMPTY_BODY_SHA256);
        let mut q = V1_QUERY;
        q[4].1 = "admin";
        assert_ne!(base, sign(AK, SK, "POST", "/", &q, &h, EMPTY_BODY_SHA256));
        assert_ne!(
            base,
            sign(AK, "other", "POST", "/", &V1_QUERY, &h, EMPTY_BODY_SHA256)
        );
        assert_ne!(
            base,
            sign(AK, SK, "GET", "/", &V1_QUERY, &h, EMPTY_BODY_SHA256)
        );
    }
}
