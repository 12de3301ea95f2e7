//! The JSON shapes of results that cross a language boundary — the C ABI and the bindings on it,
//! the CLI's `--output json`, the host agent — defined once, here.
//!
//! * a credential (token endpoint, token exchange, plugin): [`CredentialJson`];
//! * Developer API results: the types of [`crate::pam`], serialized with their wire (camelCase)
//!   field names.
//!
//! Every shape holds secrets, so the text is produced as a [`SecretString`] (zeroed when dropped).
//! The JSON Schema of all of them is generated from these Rust types (the `json-schema` feature,
//! [`schema`]); the Go structs, Java records and TypeScript types of the bindings are generated from
//! that schema (`scripts/gen-contract.py`) and checked against it in CI.

use crate::error::{Error, Result};
use crate::provider::Credential;
use crate::secret::SecretString;
use serde::Serialize;

/// A credential as JSON: `{"access_token", "token_type", "expires_in", "expires_at",
/// "issued_token_type"?, "scope"?}` — the token reply's field names. `expires_at` is in seconds
/// since the epoch (0: unknown); optional members are absent, never `null`.
#[derive(Serialize, Debug)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "json-schema", schemars(rename = "Credential"))]
pub struct CredentialJson<'a> {
    /// The access token (a secret).
    #[cfg_attr(feature = "json-schema", schemars(extend("x-secret" = true)))]
    pub access_token: &'a str,
    /// The token type, e.g. `Bearer`.
    pub token_type: &'a str,
    /// Lifetime in seconds as the server sent it (0: unknown).
    pub expires_in: u64,
    /// Absolute expiry in seconds since the epoch (0: unknown).
    pub expires_at: u64,
    /// The RFC 8693 `issued_token_type` of a token exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'a str>,
    /// The scope granted, when the server said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'a str>,
}

impl<'a> From<&'a Credential> for CredentialJson<'a> {
    fn from(c: &'a Credential) -> Self {
        CredentialJson {
            access_token: c.access_token.expose(),
            token_type: &c.token_type,
            expires_in: c.expires_in,
            expires_at: c.expires_at,
            issued_token_type: c.issued_token_type.as_deref(),
            scope: c.scope.as_deref(),
        }
    }
}

/// `value` as compact JSON text, held as a secret (results carry tokens and keys).
pub fn to_secret_json<T: Serialize + ?Sized>(value: &T) -> Result<SecretString> {
    // Serialize into a buffer sized up front, so that growing it never leaves an unzeroed copy.
    let mut buf = Vec::with_capacity(1024);
    let mut probe = serde_json::Serializer::new(CountingWriter(0));
    value
        .serialize(&mut probe)
        .map_err(|e| Error::internal(format!("cannot encode a result as JSON: {e}")))?;
    let needed = probe.into_inner().0;
    if needed > buf.capacity() {
        buf = Vec::with_capacity(needed);
    }
    serde_json::to_writer(&mut buf, value)
        .map_err(|e| Error::internal(format!("cannot encode a result as JSON: {e}")))?;
    match String::from_utf8(buf) {
        Ok(s) => Ok(SecretString::new(s)),
        Err(e) => {
            crate::secret::wipe_bytes(e.into_bytes());
            Err(Error::internal("a result encoded as JSON is not UTF-8"))
        }
    }
}

/// A credential's JSON ([`CredentialJson`]).
pub fn credential_json(c: &Credential) -> Result<SecretString> {
    to_secret_json(&CredentialJson::from(c))
}

/// A credential from its JSON ([`CredentialJson`]'s shape): `access_token` required and checked
/// like a token-endpoint reply's (RFC 6750 characters, never echoed in an error); `token_type`
/// defaults to `Bearer`; the other members are optional; unknown members are ignored. The way a
/// token obtained elsewhere (e.g. a token exchange's result) becomes a
/// [`crate::StaticProvider`]. Errors: [`crate::ErrorKind::InvalidArgument`].
pub fn parse_credential(json: &str) -> Result<Credential> {
    #[derive(serde::Deserialize)]
    struct In {
        #[serde(default)]
        token_type: Option<String>,
        #[serde(default)]
        expires_in: Option<u64>,
        #[serde(default)]
        expires_at: Option<u64>,
        #[serde(default)]
        issued_token_type: Option<String>,
        #[serde(default)]
        scope: Option<String>,
    }
    let bad = |what: String| Error::invalid_argument(format!("credential JSON: {what}"));
    // serde_json's messages name the position and the expectation, and for a wrong type the value,
    // so the secret member is taken out by hand and only the error category is reported.
    let mut value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
        bad(format!(
            "not JSON ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let obj = value
        .as_object_mut()
        .ok_or_else(|| bad("not a JSON object".into()))?;
    let access_token = match obj.remove("access_token") {
        Some(serde_json::Value::String(s)) => SecretString::new(s),
        Some(serde_json::Value::Null) | None => return Err(bad("access_token is missing".into())),
        Some(_) => return Err(bad("access_token is not a string".into())),
    };
    let c: In = serde_json::from_value(value).map_err(|e| {
        bad(format!(
            "a member has the wrong type ({:?} error)",
            e.classify()
        ))
    })?;
    let mut credential = Credential::from_access_token(access_token)?;
    if let Some(t) = c.token_type {
        credential.token_type = t;
    }
    credential.expires_in = c.expires_in.unwrap_or(0);
    credential.expires_at = c.expires_at.unwrap_or(0);
    credential.issued_token_type = c.issued_token_type;
    credential.scope = c.scope;
    Ok(credential)
}

/// The JSON Schema (draft-07) of every result shape, one `definitions` entry per type: the source
/// the bindings' types are generated from (`contract/results.schema.json`, kept current by
/// `scripts/gen-contract.py`).
#[cfg(feature = "json-schema")]
pub fn schema() -> serde_json::Value {
    use crate::pam;
    let mut g = schemars::generate::SchemaSettings::draft07()
        .for_serialize()
        .into_generator();
    g.subschema_for::<CredentialJson<'static>>();
    g.subschema_for::<pam::JwtContent>();
    g.subschema_for::<pam::JwtTokenResponse>();
    g.subschema_for::<pam::AuthenticationToken>();
    g.subschema_for::<pam::NextTokenPageableResponse<pam::AuthenticationToken>>();
    g.subschema_for::<pam::OAuthAccessTokenContent>();
    g.subschema_for::<pam::OAuthAuthorizationSession>();
    g.subschema_for::<pam::OAuthAuthenticationTokenResponse>();
    g.subschema_for::<pam::OAuthAuthorizationSessionResponse>();
    serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "idaas results",
        "description": "The JSON shapes of the results of the C ABI, the bindings, the CLI and the agent. Generated from the Rust types of idaas (idaas/src/json.rs): do not edit.",
        "definitions": g.take_definitions(true),
    })
}

/// Counts the bytes written, keeps none.
struct CountingWriter(usize);

impl std::io::Write for CountingWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len();
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_shape() {
        let c = Credential {
            access_token: SecretString::new("at.x"),
            token_type: "Bearer".into(),
            expires_in: 60,
            expires_at: 1_760_000_060,
            ..Default::default()
        };
        assert_eq!(
            credential_json(&c).unwrap().expose(),
            r#"{"access_token":"at.x","token_type":"Bearer","expires_in":60,"expires_at":1760000060}"#
        );
        let c = Credential {
            issued_token_type: Some("urn:x".into()),
            scope: Some("a|b".into()),
            ..c
        };
        assert_eq!(
            credential_json(&c).unwrap().expose(),
            r#"{"access_token":"at.x","token_type":"Bearer","expires_in":60,"expires_at":1760000060,"issued_token_type":"urn:x","scope":"a|b"}"#
        );
        // And back.
        let back = parse_credential(credential_json(&c).unwrap().expose()).unwrap();
        assert_eq!(back.access_token.expose(), "at.x");
        assert_eq!(back.scope.as_deref(), Some("a|b"));
        assert_eq!(back.expires_at, 1_760_000_060);
    }

    #[test]
    fn parse_refuses_bad_tokens_without_echoing_them() {
        for bad in [
            r#"{"access_token":"  "}"#,
            r#"{"token_type":"Bearer"}"#,
            r#"{"access_token":"bad\u0000token-secret"}"#,
            r#"{"access_token":"line\nbreak-secret"}"#,
            r#"[1]"#,
            "not json-secret",
        ] {
            let e = parse_credential(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{bad}");
            assert!(!e.to_string().contains("secret"), "{e}");
        }
        let c = parse_credential(r#"{"access_token":"a.b","expires_in":5,"x":1}"#).unwrap();
        assert_eq!(c.token_type, "Bearer");
        assert_eq!(c.expires_in, 5);
    }
}
