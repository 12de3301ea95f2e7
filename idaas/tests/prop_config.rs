//! Property tests (fuzzing in CI form) of configuration parsing: arbitrary bytes, arbitrary JSON
//! built from the real keys, and single-field mutations of a valid config must give `Ok` or a
//! typed `Config`/`InvalidArgument` error with a message — never a panic. A config that parses
//! must also build a client (no network) without panicking. Scope validation and the unverified
//! JWT decoder get arbitrary strings.

mod common;

use common::prop::{config, json, nasty_string};
use idaas::Config;
use idaas::{Client, ErrorKind};
use proptest::prelude::*;
use serde_json::{json, Value};

const VOCAB: &[&str] = &[
    "idaasInstanceId",
    "idaas_instance_id",
    "clientId",
    "client_id",
    "issuer",
    "tokenEndpoint",
    "token_endpoint",
    "scope",
    "developerApiEndpoint",
    "openApiEndpoint",
    "deviceAuthorizationEndpoint",
    "authnConfiguration",
    "authn_configuration",
    "identityType",
    "authnMethod",
    "authn_method",
    "clientSecretEnvVarName",
    "privateKeyEnvVarName",
    "applicationFederatedCredentialName",
    "clientDeployEnvironment",
    "oidcTokenFilePath",
    "oidcTokenFilePathEnvVarName",
    "clientX509Certificate",
    "x509CertChains",
    "pluginName",
    "humanAuthenticateClientId",
    "httpConfiguration",
    "http_configuration",
    "connectTimeout",
    "readTimeout",
    "unsafeIgnoreSslCert",
    "unsafeIgnoreSSLCert",
    "caCertificatePath",
    "CLIENT",
    "HUMAN",
    "CLIENT_SECRET_BASIC",
    "CLIENT_SECRET_POST",
    "CLIENT_SECRET_JWT",
    "PRIVATE_KEY_JWT",
    "PCA",
    "PKCS7",
    "OIDC",
    "PLUGIN",
    "NONE",
    "KUBERNETES",
    "ALIBABA_CLOUD_ECS",
    "AWS_EC2",
    "urn:cloud:idaas:pam|.all",
    "a|b c|d",
    "https://idaas.example.com/token",
    "http://127.0.0.1:1/t",
    "2000",
    "60000",
    "~/x",
    "PATH",
];

fn valid() -> Value {
    json!({
        "idaasInstanceId": "idaas_abc",
        "clientId": "app_abc",
        "issuer": "https://idaas.example.com/api/v2/iauths_system/oauth2",
        "tokenEndpoint": "https://idaas.example.com/api/v2/iauths_system/oauth2/token",
        "scope": "api.example.com|read:file",
        "developerApiEndpoint": "eiam-developerapi.cn-hangzhou.aliyuncs.com",
        "authnConfiguration": {
            "identityType": "CLIENT",
            "authnMethod": "CLIENT_SECRET_POST",
            "clientSecretEnvVarName": "IDAAS_PROP_SECRET_UNSET"
        },
        "httpConfiguration": {"connectTimeout": 5000, "readTimeout": 10000}
    })
}

/// The property every parse result must satisfy.
fn check(r: idaas::Result<Config>) -> Result<(), TestCaseError> {
    match r {
        Ok(cfg) => {
            // Normalised endpoints are URLs the HTTP layer accepts: https, or http only to literal
            // loopback hosts, never with user information (D-6).
            for ep in [&cfg.issuer, &cfg.token_endpoint] {
                prop_assert!(
                    ep.is_empty() || idaas::internals::check_url(ep).is_ok(),
                    "endpoint {ep:?} neither https nor loopback http"
                );
            }
            prop_assert!(
                !cfg.http.unsafe_ignore_ssl_cert,
                "TLS verification disabled"
            );
            // Building a client does no network I/O and must not panic.
            let _ = Client::new(cfg);
        }
        Err(e) => {
            prop_assert!(
                matches!(e.kind(), ErrorKind::Config | ErrorKind::InvalidArgument),
                "untyped error {e:?}"
            );
            prop_assert!(!e.message().is_empty() && !e.code().is_empty(), "{e:?}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config("prop_config", 3072))]

    #[test]
    fn arbitrary_text(s in prop_oneof![".*", "\\{[ -~]{0,80}\\}"]) {
        check(Config::from_json_str(&s))?;
    }

    #[test]
    fn arbitrary_json(v in json(VOCAB)) {
        check(Config::from_json_value(&v))?;
    }

    #[test]
    fn arbitrary_top_level_objects(
        fields in prop::collection::vec((proptest::sample::select(VOCAB), json(VOCAB)), 0..12)
    ) {
        let mut m = serde_json::Map::new();
        for (k, v) in fields { m.insert(k.to_string(), v); }
        check(Config::from_json_value(&Value::Object(m)))?;
    }

    /// One field of a valid config replaced, removed, or nested wrongly.
    #[test]
    fn mutated_valid_config(
        path in proptest::sample::select(vec![
            "/idaasInstanceId", "/clientId", "/issuer", "/tokenEndpoint", "/scope",
            "/developerApiEndpoint", "/authnConfiguration", "/authnConfiguration/identityType",
            "/authnConfiguration/authnMethod", "/authnConfiguration/clientSecretEnvVarName",
            "/httpConfiguration", "/httpConfiguration/connectTimeout",
            "/httpConfiguration/readTimeout", "/httpConfiguration/unsafeIgnoreSslCert",
        ]),
        replacement in prop_oneof![
            3 => json(VOCAB).prop_map(Some),
            1 => Just(None),
            2 => nasty_string().prop_map(|s| Some(Value::String(s))),
        ],
    ) {
        let mut v = valid();
        let (parent, key) = path.rsplit_once('/').unwrap();
        let obj = if parent.is_empty() { &mut v } else { v.pointer_mut(parent).unwrap() };
        let obj = obj.as_object_mut().unwrap();
        match replacement {
            Some(r) => { obj.insert(key.to_string(), r); }
            None => { obj.remove(key); }
        }
        check(Config::from_json_value(&v))?;
    }

    /// Arbitrary bytes through the file path (non-UTF-8 included).
    #[test]
    fn arbitrary_file_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let dir = std::env::temp_dir().join(format!("idaas-prop-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(format!("{:?}.json", std::thread::current().id()).replace(['(', ')'], ""));
        std::fs::write(&p, &bytes).unwrap();
        check(Config::from_path(&p))?;
    }

    #[test]
    fn scope_validation_never_panics(s in prop_oneof![".*", "([a-z.]{0,8}\\|[a-z:.]{0,8} ?){0,4}"]) {
        match idaas::validate_scope(&s) {
            Ok(audience) => {
                prop_assert!(!audience.is_empty() && !audience.contains(char::is_whitespace));
                let prefix = format!("{}|", audience);
                prop_assert!(s.split_whitespace().all(|i| i.starts_with(&prefix)));
                prop_assert!(!idaas::internals::scope::values(&s).is_empty());
            }
            Err(e) => prop_assert!(!e.message().is_empty()),
        }
    }

    #[test]
    fn unverified_jwt_decoder_never_panics(s in prop_oneof![
        ".*",
        "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_=-]{0,60}\\.[A-Za-z0-9_-]{0,20}",
    ]) {
        let _ = idaas::internals::auth::jwt::decode_payload_unverified(&s);
    }
}
