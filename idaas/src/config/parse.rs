//! Parsing: configuration JSON → the fields of a [`Config`], with errors that name the field path
//! (`authnConfiguration.clientSecretEnvVarName`), the file, the expected and the actual type.
//!
//! serde_json reads the JSON; this file only gives the values their meaning. It is not a serde
//! `Deserialize` of the model because the rules below are not serde's: a key matches by the
//! reference's camel→snake conversion (any spelling that converts alike, not a fixed alias list),
//! a repeated key is not an error but overrides, an overridden value is never type-checked, and the
//! messages name the canonical camelCase path whatever spelling the file used.
//!
//! * **Decision D-1**: keys are accepted in the canonical lowerCamelCase *and* as snake_case
//!   aliases (every key is converted with the reference's camel→snake rule before lookup, so styles
//!   may be mixed; when both spellings of one key appear the later one in the file wins, as in
//!   Python). A value of the wrong JSON type is rejected with an error naming the key, the expected
//!   and the actual type. `null` counts as absent.
//! * **Decision D-3**: unknown enum values (`identityType`, `authnMethod`,
//!   `clientDeployEnvironment`, `clientSecretBasicEncoding`, `clientAssertionAudience`) are
//!   rejected, naming the key and listing the allowed values.
//! * Fields are read in a fixed order (the `authnConfiguration` object and its keys, then
//!   `httpConfiguration`, then the top-level strings), so a file with several faults always reports
//!   the same one. Unknown keys are ignored.
//!
//! # Key order
//! "Later in the file" needs the order of the text, which `serde_json::Map` does not keep: it
//! sorts its keys unless serde_json's `preserve_order` feature is on, and whether it is on depends
//! on which other crates share the build (the emulator turns it on; a library build alone does
//! not). So text is read by [`json_text`], which puts each key in its snake_case form in document
//! order while reading, and the result no longer depends on the map's order. A key repeated with
//! the very same spelling keeps the place of its first occurrence and the value of its last, as a
//! Python dict does. A [`Value`] given by the caller ([`Config::from_json_value`]) is read in its
//! map's iteration order.

use super::model::{
    AssertionAudience, AuthnConfig, AuthnMethod, BasicEncoding, Config, DeployEnvironment,
    HttpConfig, IdentityType, TimeoutKey, CALL_TIMEOUT, CONNECT_TIMEOUT, MIN_TIMEOUT_MS,
    READ_TIMEOUT,
};
use crate::error::{Error, Result};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The reference's camelCase → snake_case key conversion (core.md §2.2).
pub fn to_snake_case(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let mut out = String::with_capacity(key.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_digit()
                || prev.is_ascii_lowercase()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Parse configuration text into a [`Value`] whose object keys are in snake_case form, the later
/// spelling of a key winning in document order (module docs, "Key order"). Syntax errors are
/// serde_json's, as `serde_json::from_str` reports them.
pub(super) fn json_text(text: &str) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = InDocumentOrder::deserialize(&mut de)?.0;
    de.end()?;
    Ok(value)
}

/// A JSON value read with [`json_text`]'s key rule.
struct InDocumentOrder(Value);

impl<'de> Deserialize<'de> for InDocumentOrder {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(InDocumentOrder(Value::Null))
    }
}

impl<'de> Visitor<'de> for InDocumentOrder {
    type Value = InDocumentOrder;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> std::result::Result<Self, E> {
        Ok(InDocumentOrder(Value::Null))
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<Self, E> {
        Ok(InDocumentOrder(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> std::result::Result<Self, E> {
        Ok(InDocumentOrder(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> std::result::Result<Self, E> {
        Ok(InDocumentOrder(Value::from(v)))
    }

    fn visit_f64<E>(self, v: f64) -> std::result::Result<Self, E> {
        Ok(InDocumentOrder(Value::from(v)))
    }

    fn visit_str<E>(self, v: &str) -> std::result::Result<Self, E> {
        Ok(InDocumentOrder(Value::String(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> std::result::Result<Self, E> {
        Ok(InDocumentOrder(Value::String(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Self, A::Error> {
        let mut items = Vec::new();
        while let Some(InDocumentOrder(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(InDocumentOrder(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self, A::Error> {
        // First the members as a Python dict holds them: a repeated spelling overwrites the value
        // in place. Then the snake_case forms in that order, the later one winning.
        let mut members: Vec<(String, Value)> = Vec::new();
        let mut place: HashMap<String, usize> = HashMap::new();
        while let Some((key, InDocumentOrder(value))) = map.next_entry::<String, _>()? {
            match place.get(&key) {
                Some(&i) => members[i].1 = value,
                None => {
                    place.insert(key.clone(), members.len());
                    members.push((key, value));
                }
            }
        }
        let mut object = Map::new();
        for (key, value) in members {
            object.insert(to_snake_case(&key), value);
        }
        Ok(InDocumentOrder(Value::Object(object)))
    }
}

/// One JSON object of the configuration, looked up by canonical key.
struct Obj<'a> {
    /// (snake_case key, value) in the map's order; the last match wins.
    entries: Vec<(String, &'a Value)>,
    /// Path of this object (`""` at the top, else e.g. `authnConfiguration`).
    path: &'a str,
    /// The file prefix of messages (`"<path>: "` or empty).
    file: &'a str,
}

fn with_article(noun: &str) -> String {
    let vowel = noun.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl<'a> Obj<'a> {
    fn new(map: &'a Map<String, Value>, path: &'a str, file: &'a str) -> Self {
        let entries = map.iter().map(|(k, v)| (to_snake_case(k), v)).collect();
        Obj {
            entries,
            path,
            file,
        }
    }

    fn field_name(&self, camel: &str) -> String {
        if self.path.is_empty() {
            camel.to_string()
        } else {
            format!("{}.{camel}", self.path)
        }
    }

    fn get(&self, camel: &str) -> Option<&'a Value> {
        let snake = to_snake_case(camel);
        self.entries
            .iter()
            .rev()
            .find(|(s, _)| *s == snake)
            .map(|(_, v)| *v)
            .filter(|v| !v.is_null())
    }

    fn type_error(&self, camel: &str, expected: &str, got: &Value) -> Error {
        Error::config(
            "InvalidConfigValue",
            format!(
                "{}{}: expected {}, got {}; fix the value in the configuration",
                self.file,
                self.field_name(camel),
                with_article(expected),
                with_article(json_type(got))
            ),
        )
    }

    fn string(&self, camel: &str) -> Result<Option<String>> {
        match self.get(camel) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.type_error(camel, "string", v)),
        }
    }

    fn boolean(&self, camel: &str) -> Result<Option<bool>> {
        match self.get(camel) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(self.type_error(camel, "boolean (true/false)", v)),
        }
    }

    /// A timeout in ms. A number that is not a whole non-negative one fails with the error of
    /// the timeout, as a whole number out of range does in validation.
    fn millis(&self, t: &TimeoutKey) -> Result<Option<u64>> {
        match self.get(t.key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
                t.error(
                    self.file,
                    format_args!(
                        "{n} is not a whole number of milliseconds between {MIN_TIMEOUT_MS} and {}",
                        t.max
                    ),
                )
            }),
            Some(v) => Err(self.type_error(t.key, "integer (milliseconds)", v)),
        }
    }

    fn object(&self, camel: &str) -> Result<Option<&'a Map<String, Value>>> {
        match self.get(camel) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(v) => Err(self.type_error(camel, "JSON object", v)),
        }
    }

    /// A value of a fixed set of names (D-3): `names` maps each allowed name to its value, in the
    /// order the error lists them.
    fn enum_value<T: Copy>(&self, camel: &str, names: &[(&str, T)]) -> Result<Option<T>> {
        let Some(s) = self.string(camel)? else {
            return Ok(None);
        };
        match names.iter().find(|(name, _)| *name == s) {
            Some(&(_, v)) => Ok(Some(v)),
            None => {
                let allowed: Vec<&str> = names.iter().map(|(name, _)| *name).collect();
                Err(Error::config(
                    "InvalidConfigValue",
                    format!(
                        "{}{}: unknown value \"{s}\"; allowed values: {}",
                        self.file,
                        self.field_name(camel),
                        allowed.join(", ")
                    ),
                ))
            }
        }
    }
}

/// The name table of an enum of the model (its `ALL` and `as_str`), for [`Obj::enum_value`].
fn names<T: Copy, const N: usize>(
    all: [T; N],
    as_str: fn(T) -> &'static str,
) -> Vec<(&'static str, T)> {
    all.into_iter().map(|v| (as_str(v), v)).collect()
}

/// The fields of `value` as a [`Config`] (not validated yet: required keys may be missing) and
/// whether `authnConfiguration` was present.
pub(super) fn read(value: &Value, path: Option<&Path>) -> Result<(Config, bool)> {
    let file = super::file_prefix(path);
    let map = match value {
        Value::Object(m) => m,
        other => {
            return Err(Error::config(
                "LoadConfigFileFailed",
                format!(
                    "{file}the IDaaS config must be a JSON object, got {}",
                    with_article(json_type(other))
                ),
            ))
        }
    };
    let top = Obj::new(map, "", &file);
    let authn_map = top.object("authnConfiguration")?;
    let authn = match authn_map {
        Some(m) => read_authn(&Obj::new(m, "authnConfiguration", &file))?,
        None => AuthnConfig::default(),
    };
    let http = match top.object("httpConfiguration")? {
        Some(m) => read_http(&Obj::new(m, "httpConfiguration", &file))?,
        None => HttpConfig::default(),
    };
    let cfg = Config {
        idaas_instance_id: top.string("idaasInstanceId")?.unwrap_or_default(),
        client_id: top.string("clientId")?.unwrap_or_default(),
        issuer: top.string("issuer")?.unwrap_or_default(),
        token_endpoint: top.string("tokenEndpoint")?.unwrap_or_default(),
        scope: top
            .string("scope")?
            .unwrap_or_else(|| crate::scope::DEFAULT_SCOPE.to_string()),
        device_authorization_endpoint: top.string("deviceAuthorizationEndpoint")?,
        developer_api_endpoint: top.string("developerApiEndpoint")?,
        open_api_endpoint: top.string("openApiEndpoint")?,
        authn,
        http,
        agent_socket: super::env::agent_socket(top.string("agentSocket")?),
        source: path.map(Path::to_path_buf),
        load_warnings: Vec::new(),
    };
    Ok((cfg, authn_map.is_some()))
}

fn read_authn(a: &Obj<'_>) -> Result<AuthnConfig> {
    let identity_types = [
        ("CLIENT", IdentityType::Client),
        ("HUMAN", IdentityType::Human),
    ];
    Ok(AuthnConfig {
        identity_type: a
            .enum_value("identityType", &identity_types)?
            .unwrap_or_default(),
        authn_method: a
            .enum_value("authnMethod", &names(AuthnMethod::ALL, AuthnMethod::as_str))?
            .unwrap_or_default(),
        client_secret_env_var_name: a.string("clientSecretEnvVarName")?,
        private_key_env_var_name: a.string("privateKeyEnvVarName")?,
        application_federated_credential_name: a.string("applicationFederatedCredentialName")?,
        client_deploy_environment: a.enum_value(
            "clientDeployEnvironment",
            &names(DeployEnvironment::ALL, DeployEnvironment::as_str),
        )?,
        oidc_token_file_path: a.string("oidcTokenFilePath")?,
        oidc_token_file_path_env_var_name: a.string("oidcTokenFilePathEnvVarName")?,
        client_x509_certificate: a.string("clientX509Certificate")?,
        x509_cert_chains: a.string("x509CertChains")?,
        plugin_name: a.string("pluginName")?,
        human_authenticate_client_id: a.string("humanAuthenticateClientId")?,
        client_secret_basic_encoding: a
            .enum_value(
                "clientSecretBasicEncoding",
                &names(BasicEncoding::ALL, BasicEncoding::as_str),
            )?
            .unwrap_or_default(),
        client_assertion_audience: a
            .enum_value(
                "clientAssertionAudience",
                &names(AssertionAudience::ALL, AssertionAudience::as_str),
            )?
            .unwrap_or_default(),
        client_secret_supplier: None,
        private_key_pem: None,
    })
}

fn read_http(h: &Obj<'_>) -> Result<HttpConfig> {
    let mut http = HttpConfig::default();
    if let Some(v) = h.millis(&CONNECT_TIMEOUT)? {
        http.connect_timeout_ms = v;
    }
    if let Some(v) = h.millis(&READ_TIMEOUT)? {
        http.read_timeout_ms = v;
    }
    http.call_timeout_ms = h.millis(&CALL_TIMEOUT)?;
    // `unsafeIgnoreSSLCert` (Java spelling) converts to `unsafe_ignore_ssl_cert` too.
    if let Some(v) = h.boolean("unsafeIgnoreSslCert")? {
        http.unsafe_ignore_ssl_cert = v;
    }
    if let Some(p) = h.string("caCertificatePath")? {
        if !p.trim().is_empty() {
            http.ca_certificate_path = Some(PathBuf::from(p));
        }
    }
    Ok(http)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_rule() {
        assert_eq!(to_snake_case("idaasInstanceId"), "idaas_instance_id");
        assert_eq!(to_snake_case("openApiEndpoint"), "open_api_endpoint");
        assert_eq!(to_snake_case("openapiEndpoint"), "openapi_endpoint");
        assert_eq!(
            to_snake_case("unsafeIgnoreSSLCert"),
            "unsafe_ignore_ssl_cert"
        );
        assert_eq!(
            to_snake_case("unsafeIgnoreSslCert"),
            "unsafe_ignore_ssl_cert"
        );
        assert_eq!(to_snake_case("x509CertChains"), "x509_cert_chains");
        assert_eq!(
            to_snake_case("clientX509Certificate"),
            "client_x509_certificate"
        );
        assert_eq!(to_snake_case("client_id"), "client_id");
    }

    fn client_id_of(text: &str) -> Result<String> {
        let text = format!(
            r#"{{{text}, "idaasInstanceId": "i", "issuer": "https://i.example", "tokenEndpoint": "https://i.example/t",
               "authnConfiguration": {{"authnMethod": "CLIENT_SECRET_POST", "clientSecretEnvVarName": "X"}}}}"#
        );
        Config::from_json_str(&text).map(|c| c.client_id)
    }

    /// D-1 "the later spelling wins" in the order of the text, in both directions. A sorted map
    /// (serde_json without `preserve_order`, the library built alone) put `clientId` before
    /// `client_id` whatever the text said.
    #[test]
    fn later_spelling_wins_in_document_order() {
        assert_eq!(
            client_id_of(r#""client_id": "a", "clientId": "b""#).unwrap(),
            "b"
        );
        assert_eq!(
            client_id_of(r#""clientId": "a", "client_id": "b""#).unwrap(),
            "b"
        );
        // An overridden value is never type-checked, a winning one is.
        assert_eq!(
            client_id_of(r#""client_id": 5, "clientId": "b""#).unwrap(),
            "b"
        );
        let e = client_id_of(r#""clientId": "a", "client_id": 5"#).unwrap_err();
        assert!(
            e.message()
                .starts_with("clientId: expected a string, got a number"),
            "{e}"
        );
        // A later null makes the key absent.
        let e = client_id_of(r#""client_id": "a", "clientId": null"#).unwrap_err();
        assert_eq!(e.code(), "ClientIdNotFound", "{e}");
        // Nested objects follow the same rule.
        let v = json_text(r#"{"h": {"read_timeout": 1, "readTimeout": 2}}"#).unwrap();
        assert_eq!(v["h"]["read_timeout"], 2);
    }

    /// A spelling repeated exactly keeps its first place with its last value, as a Python dict.
    #[test]
    fn exact_repeat_keeps_its_first_place() {
        let text = r#""clientId": "a", "client_id": "b", "clientId": "c""#;
        assert_eq!(client_id_of(text).unwrap(), "b");
        assert_eq!(
            client_id_of(r#""clientId": "a", "clientId": "c""#).unwrap(),
            "c"
        );
    }

    /// The text reader reports what `serde_json::from_str` reports, and reads everything but
    /// object keys the same.
    #[test]
    fn text_reader_matches_serde_json() {
        let deep = "[".repeat(200);
        for bad in [
            "",
            "{",
            "[1,",
            "{} x",
            "{\"a\" 1}",
            "1e400",
            "\"\\ud800x\"",
            &deep,
        ] {
            let ours = json_text(bad).unwrap_err().to_string();
            let theirs = serde_json::from_str::<Value>(bad).unwrap_err().to_string();
            assert_eq!(ours, theirs, "{bad:?}");
        }
        let text =
            r#"[1, -2, 2.5, 1e3, 18446744073709551616, "x\n", null, true, [], {"a": [{"bC": 1}]}]"#;
        let mut expected: Value = serde_json::from_str(text).unwrap();
        expected[9] = serde_json::json!({"a": [{"b_c": 1}]});
        assert_eq!(json_text(text).unwrap(), expected);
    }
}
