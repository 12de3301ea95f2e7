//! Configuration: lookup, parsing, every validation rule of core.md §2.7 (one test each), aliases,
//! type errors, normalisation, and the decisions D-1 … D-6, D-16, D-20.

use idaas::AuthnMethod;
use idaas::Config;
use idaas::DeployEnvironment;
use idaas::ErrorKind;
use idaas::IdentityType;
use serde_json::{json, Value};
use std::path::PathBuf;

fn base() -> Value {
    json!({
        "idaasInstanceId": "idaas_abc",
        "clientId": "app_abc",
        "issuer": "https://abcd.example.com/api/v2/iauths_system/oauth2",
        "tokenEndpoint": "https://abcd.example.com/api/v2/iauths_system/oauth2/token",
        "scope": "api.example.com|read:file",
        "authnConfiguration": {
            "authnMethod": "CLIENT_SECRET_POST",
            "clientSecretEnvVarName": "MY_SECRET"
        }
    })
}

fn with(mut v: Value, path: &[&str], new: Option<Value>) -> Value {
    let mut cur = &mut v;
    for k in &path[..path.len() - 1] {
        if cur.get(*k).is_none() {
            cur[*k] = json!({});
        }
        cur = cur.get_mut(*k).unwrap();
    }
    let last = path[path.len() - 1];
    match new {
        Some(n) => {
            cur[last] = n;
        }
        None => {
            cur.as_object_mut().unwrap().remove(last);
        }
    }
    v
}

fn err(v: Value) -> idaas::Error {
    Config::from_json_str(&v.to_string()).expect_err("config should be rejected")
}

fn assert_err(v: Value, code: &str, field: &str) {
    let e = err(v);
    assert_eq!(e.code(), code, "{e}");
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(
        e.message().contains(field),
        "message should name {field}: {e}"
    );
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("idaas-core-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn minimal_config_defaults() {
    let v = with(base(), &["scope"], None);
    let c = Config::from_json_str(&v.to_string()).unwrap();
    assert_eq!(c.scope, "urn:cloud:idaas:pam|.all", "D-2 default scope");
    assert_eq!(c.http.connect_timeout_ms, 5000);
    assert_eq!(c.http.read_timeout_ms, 10000);
    assert!(!c.http.unsafe_ignore_ssl_cert);
    assert_eq!(c.authn.identity_type, IdentityType::Client);
    assert_eq!(c.authn.authn_method, AuthnMethod::ClientSecretPost);
    assert_eq!(c.developer_api_endpoint, None);
    assert_eq!(c.source, None);
}

#[test]
fn snake_case_aliases_and_mixing() {
    let v = json!({
        "idaas_instance_id": "idaas_abc",
        "clientId": "app_abc",
        "issuer": "https://i",
        "token_endpoint": "https://t/token",
        "open_api_endpoint": "eiam.cn-hangzhou.aliyuncs.com",
        "authn_configuration": {
            "authn_method": "CLIENT_SECRET_BASIC",
            "client_secret_env_var_name": "X"
        },
        "http_configuration": {"connect_timeout": 2000, "readTimeout": 60000, "unsafeIgnoreSSLCert": false}
    });
    let c = Config::from_json_str(&v.to_string()).unwrap();
    assert_eq!(c.idaas_instance_id, "idaas_abc");
    assert_eq!(c.token_endpoint, "https://t/token");
    assert_eq!(
        c.open_api_endpoint.as_deref(),
        Some("https://eiam.cn-hangzhou.aliyuncs.com")
    );
    assert_eq!(c.authn.authn_method, AuthnMethod::ClientSecretBasic);
    assert_eq!(c.authn.client_secret_env_var_name.as_deref(), Some("X"));
    assert_eq!(
        (c.http.connect_timeout_ms, c.http.read_timeout_ms),
        (2000, 60000)
    );
    // `openapiEndpoint` converts to `openapi_endpoint`: not recognised (reference behaviour).
    let v = with(base(), &["openapiEndpoint"], Some(json!("x")));
    assert_eq!(
        Config::from_json_str(&v.to_string())
            .unwrap()
            .open_api_endpoint,
        None
    );
}

#[test]
fn later_duplicate_wins() {
    let text = r#"{"idaasInstanceId":"a","idaas_instance_id":"b","clientId":"c","issuer":"i","tokenEndpoint":"t",
        "authnConfiguration":{"authnMethod":"CLIENT_SECRET_POST","clientSecretEnvVarName":"X"}}"#;
    assert_eq!(Config::from_json_str(text).unwrap().idaas_instance_id, "b");
}

#[test]
fn missing_idaas_instance_id() {
    assert_err(
        with(base(), &["idaasInstanceId"], None),
        "IDaaSInstanceIdNotFound",
        "idaasInstanceId",
    );
}

#[test]
fn blank_idaas_instance_id() {
    assert_err(
        with(base(), &["idaasInstanceId"], Some(json!("  "))),
        "IDaaSInstanceIdNotFound",
        "idaasInstanceId",
    );
}

#[test]
fn missing_client_id() {
    assert_err(
        with(base(), &["clientId"], None),
        "ClientIdNotFound",
        "clientId",
    );
}

#[test]
fn missing_issuer() {
    assert_err(
        with(base(), &["issuer"], None),
        "IssuerEndpointNotFound",
        "issuer",
    );
}

#[test]
fn missing_token_endpoint() {
    assert_err(
        with(base(), &["tokenEndpoint"], None),
        "TokenEndpointNotFound",
        "tokenEndpoint",
    );
}

#[test]
fn invalid_scope() {
    assert_err(
        with(base(), &["scope"], Some(json!("read write"))),
        "InvalidScope",
        "scope",
    );
    let e = err(with(base(), &["scope"], Some(json!("read write"))));
    assert!(e.message().contains("Invalid scope: read"), "{e}");
}

#[test]
fn empty_scope() {
    let e = err(with(base(), &["scope"], Some(json!(" "))));
    assert_eq!(e.code(), "InvalidScope");
    assert!(e.message().contains("Scope is empty"));
}

#[test]
fn multiple_audiences() {
    assert_err(
        with(base(), &["scope"], Some(json!("a|b c|d"))),
        "MultipleAudienceNotSupported",
        "scope",
    );
}

#[test]
fn human_requires_device_authorization_endpoint() {
    let v = with(
        base(),
        &["authnConfiguration", "identityType"],
        Some(json!("HUMAN")),
    );
    assert_err(
        v.clone(),
        "DeviceAuthorizationEndpointNotFound",
        "deviceAuthorizationEndpoint",
    );
    let v = with(
        v,
        &["deviceAuthorizationEndpoint"],
        Some(json!("h.example/device")),
    );
    let c = Config::from_json_str(&v.to_string()).unwrap();
    assert_eq!(
        c.device_authorization_endpoint.as_deref(),
        Some("https://h.example/device")
    );
}

#[test]
fn human_blank_client_id() {
    let v = with(
        base(),
        &["authnConfiguration", "identityType"],
        Some(json!("HUMAN")),
    );
    let v = with(
        v,
        &["deviceAuthorizationEndpoint"],
        Some(json!("https://d")),
    );
    let v = with(
        v,
        &["authnConfiguration", "humanAuthenticateClientId"],
        Some(json!("")),
    );
    assert_err(
        v,
        "HumanAuthenticateClientIdNotFound",
        "authnConfiguration.humanAuthenticateClientId",
    );
}

#[test]
fn missing_authn_configuration() {
    assert_err(
        with(base(), &["authnConfiguration"], None),
        "AuthnConfigurationNotFound",
        "authnConfiguration",
    );
}

#[test]
fn client_secret_env_var_name_required_for_secret_methods() {
    for m in [
        "CLIENT_SECRET_BASIC",
        "CLIENT_SECRET_POST",
        "CLIENT_SECRET_JWT",
    ] {
        let v = json!({"idaasInstanceId":"i","clientId":"c","issuer":"i","tokenEndpoint":"t",
            "authnConfiguration":{"authnMethod": m}});
        assert_err(
            v,
            "ClientSecretEnvVarNameNotFound",
            "authnConfiguration.clientSecretEnvVarName",
        );
    }
}

#[test]
fn private_key_env_var_name_required() {
    let v = with(
        base(),
        &["authnConfiguration"],
        Some(json!({"authnMethod":"PRIVATE_KEY_JWT"})),
    );
    assert_err(
        v,
        "PrivateKeyEnvVarNameNotFound",
        "authnConfiguration.privateKeyEnvVarName",
    );
}

#[test]
fn federated_credential_name_required() {
    for m in ["PKCS7", "OIDC", "PCA"] {
        let v = with(
            base(),
            &["authnConfiguration"],
            Some(json!({"authnMethod": m, "clientDeployEnvironment": "KUBERNETES"})),
        );
        assert_err(
            v,
            "ApplicationFederatedCredentialNameNotFound",
            "authnConfiguration.applicationFederatedCredentialName",
        );
    }
}

#[test]
fn deploy_environment_required() {
    for m in ["PKCS7", "OIDC"] {
        let v = with(
            base(),
            &["authnConfiguration"],
            Some(json!({"authnMethod": m, "applicationFederatedCredentialName": "f"})),
        );
        assert_err(
            v,
            "ClientDeployEnvironmentNotFound",
            "authnConfiguration.clientDeployEnvironment",
        );
    }
}

#[test]
fn unsupported_deploy_environment_rejected_at_load() {
    // D-16
    for (m, env) in [
        ("PKCS7", "KUBERNETES"),
        ("PKCS7", "AWS_EC2"),
        ("OIDC", "ALIBABA_CLOUD_ECS"),
        ("OIDC", "COMPUTER"),
    ] {
        let v = with(
            base(),
            &["authnConfiguration"],
            Some(
                json!({"authnMethod": m, "applicationFederatedCredentialName": "f", "clientDeployEnvironment": env}),
            ),
        );
        let e = err(v);
        assert_eq!(e.code(), "UnsupportedClientDeployEnvironment");
        assert!(e.message().contains(env), "{e}");
    }
    for (m, env) in [("PKCS7", "ALIBABA_CLOUD_ECS"), ("OIDC", "KUBERNETES")] {
        let v = with(
            base(),
            &["authnConfiguration"],
            Some(
                json!({"authnMethod": m, "applicationFederatedCredentialName": "f", "clientDeployEnvironment": env}),
            ),
        );
        let c = Config::from_json_str(&v.to_string()).unwrap();
        assert!(c.authn.client_deploy_environment.is_some());
        let _ = DeployEnvironment::parse(env).unwrap();
    }
}

fn pca() -> Value {
    json!({"authnMethod":"PCA","applicationFederatedCredentialName":"f","clientX509Certificate":"-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----","x509CertChains":"-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----","privateKeyEnvVarName":"K"})
}

#[test]
fn pca_requires_certificate() {
    let v = with(
        base(),
        &["authnConfiguration"],
        Some(with(pca(), &["clientX509Certificate"], None)),
    );
    assert_err(
        v,
        "ClientX509CertificateNotFound",
        "authnConfiguration.clientX509Certificate",
    );
}

#[test]
fn pca_requires_chain() {
    let v = with(
        base(),
        &["authnConfiguration"],
        Some(with(pca(), &["x509CertChains"], None)),
    );
    assert_err(
        v,
        "X509CertChainsNotFound",
        "authnConfiguration.x509CertChains",
    );
}

#[test]
fn pca_requires_private_key_env_var() {
    let v = with(
        base(),
        &["authnConfiguration"],
        Some(with(pca(), &["privateKeyEnvVarName"], None)),
    );
    assert_err(
        v,
        "PrivateKeyEnvVarNameNotFound",
        "authnConfiguration.privateKeyEnvVarName",
    );
    let ok = with(base(), &["authnConfiguration"], Some(pca()));
    assert!(Config::from_json_str(&ok.to_string()).is_ok());
}

#[test]
fn plugin_requires_name() {
    let v = with(
        base(),
        &["authnConfiguration"],
        Some(json!({"authnMethod":"PLUGIN"})),
    );
    assert_err(v, "PluginNameNotFound", "authnConfiguration.pluginName");
}

#[test]
fn connect_timeout_range() {
    for bad in [1999, 60001, 0] {
        let v = with(
            base(),
            &["httpConfiguration", "connectTimeout"],
            Some(json!(bad)),
        );
        assert_err(
            v,
            "ConnectTimeoutNotValid",
            "httpConfiguration.connectTimeout",
        );
    }
    let v = with(
        base(),
        &["httpConfiguration", "connectTimeout"],
        Some(json!(-5)),
    );
    assert_err(
        v,
        "ConnectTimeoutNotValid",
        "httpConfiguration.connectTimeout",
    );
}

#[test]
fn read_timeout_range() {
    let v = with(
        base(),
        &["httpConfiguration", "readTimeout"],
        Some(json!(70000)),
    );
    assert_err(v, "ReadTimeoutNotValid", "httpConfiguration.readTimeout");
    // connect is checked first
    let v = with(
        with(
            base(),
            &["httpConfiguration", "readTimeout"],
            Some(json!(1)),
        ),
        &["httpConfiguration", "connectTimeout"],
        Some(json!(1)),
    );
    assert_eq!(err(v).code(), "ConnectTimeoutNotValid");
}

#[test]
fn unsafe_ignore_ssl_cert_rejected() {
    // D-5
    let v = with(
        base(),
        &["httpConfiguration", "unsafeIgnoreSslCert"],
        Some(json!(true)),
    );
    assert_err(
        v,
        "UnsafeIgnoreSslCertNotSupported",
        "httpConfiguration.unsafeIgnoreSslCert",
    );
    let v = with(
        base(),
        &["httpConfiguration", "unsafeIgnoreSSLCert"],
        Some(json!(true)),
    );
    assert_eq!(err(v).code(), "UnsafeIgnoreSslCertNotSupported");
}

#[test]
fn wrong_json_types_rejected_precisely() {
    // D-1
    let cases: Vec<(Vec<&str>, Value, &str)> =
        vec![
        (vec!["clientId"], json!(5), "clientId: expected a string, got a number"),
        (vec!["scope"], json!(["a|b"]), "scope: expected a string, got an array"),
        (vec!["authnConfiguration"], json!("x"), "authnConfiguration: expected a JSON object"),
        (
            vec!["httpConfiguration", "connectTimeout"],
            json!("5000"),
            "httpConfiguration.connectTimeout: expected an integer (milliseconds), got a string",
        ),
        (
            vec!["httpConfiguration", "unsafeIgnoreSslCert"],
            json!("false"),
            "httpConfiguration.unsafeIgnoreSslCert: expected a boolean",
        ),
        (
            vec!["authnConfiguration", "clientSecretEnvVarName"],
            json!(true),
            "authnConfiguration.clientSecretEnvVarName: expected a string, got a boolean",
        ),
    ];
    for (path, val, text) in cases {
        let e = err(with(base(), &path, Some(val)));
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains(text), "{e} should contain {text}");
    }
    // null counts as absent
    let v = with(base(), &["httpConfiguration"], Some(Value::Null));
    assert!(Config::from_json_str(&v.to_string()).is_ok());
    // not an object / not JSON
    assert_eq!(
        Config::from_json_str("[1]").unwrap_err().code(),
        "LoadConfigFileFailed"
    );
    assert_eq!(
        Config::from_json_str("{").unwrap_err().code(),
        "LoadConfigFileFailed"
    );
}

#[test]
fn unknown_enum_values_rejected() {
    // D-3
    for (key, bad) in [
        ("authnMethod", "CLIENT_SECRET"),
        ("identityType", "ROBOT"),
        ("clientDeployEnvironment", "kubernetes"),
    ] {
        let e = err(with(base(), &["authnConfiguration", key], Some(json!(bad))));
        assert_eq!(e.code(), "InvalidConfigValue");
        assert!(
            e.message().contains(&format!("authnConfiguration.{key}")),
            "{e}"
        );
        assert!(e.message().contains(bad), "{e}");
    }
}

#[test]
fn endpoint_normalisation() {
    let v = with(base(), &["issuer"], Some(json!("http://idp.example.com/x")));
    let v = with(v, &["tokenEndpoint"], Some(json!("idp.example.com/token")));
    let v = with(
        v,
        &["developerApiEndpoint"],
        Some(json!("eiam-developerapi.cn-hangzhou.aliyuncs.com")),
    );
    let c = Config::from_json_str(&v.to_string()).unwrap();
    assert_eq!(c.issuer, "https://idp.example.com/x");
    assert_eq!(c.token_endpoint, "https://idp.example.com/token");
    assert_eq!(
        c.developer_api_endpoint.as_deref(),
        Some("https://eiam-developerapi.cn-hangzhou.aliyuncs.com")
    );
    // D-6: loopback http stays
    let v = with(
        base(),
        &["tokenEndpoint"],
        Some(json!("http://127.0.0.1:8080/token")),
    );
    let c = Config::from_json_str(&v.to_string()).unwrap();
    assert_eq!(c.token_endpoint, "http://127.0.0.1:8080/token");
}

#[test]
fn file_errors_name_the_file() {
    let p = temp_file("bad.json", r#"{"clientId": 1}"#);
    let e = Config::from_path(&p).unwrap_err();
    assert!(e.message().contains(&p.display().to_string()), "{e}");
    let missing = p.with_file_name("does-not-exist.json");
    let e = Config::load(Some(&missing)).unwrap_err();
    assert_eq!(e.code(), "LoadConfigFileFailed");
    assert!(e.message().contains("not found at path"), "{e}");
    assert!(e.message().contains("CLOUD_IDAAS_CONFIG_PATH"), "{e}");
    // validation errors name the file too
    let p = temp_file("noid.json", &with(base(), &["clientId"], None).to_string());
    let e = Config::from_path(&p).unwrap_err();
    assert_eq!(e.code(), "ClientIdNotFound");
    assert!(e.message().contains("noid.json"), "{e}");
}

#[test]
fn load_order_explicit_then_env() {
    // The only test in this binary that touches CLOUD_IDAAS_CONFIG_PATH.
    let a = temp_file(
        "a.json",
        &with(base(), &["clientId"], Some(json!("from_a"))).to_string(),
    );
    let b = temp_file(
        "b.json",
        &with(base(), &["clientId"], Some(json!("from_env"))).to_string(),
    );
    std::env::set_var("CLOUD_IDAAS_CONFIG_PATH", &b);
    assert_eq!(Config::load(Some(&a)).unwrap().client_id, "from_a");
    let c = Config::load(None).unwrap();
    assert_eq!(c.client_id, "from_env");
    assert_eq!(c.source.as_deref(), Some(b.as_path()));
    std::env::set_var("CLOUD_IDAAS_CONFIG_PATH", "   ");
    // blank env → default path under $HOME (most likely absent here): error names the default path
    if let Err(e) = Config::load(None) {
        assert!(
            e.message().contains(".cloud_idaas/client-config.json"),
            "{e}"
        );
    }
    std::env::remove_var("CLOUD_IDAAS_CONFIG_PATH");
}

#[test]
fn ca_certificate_path_extension() {
    let v = with(
        base(),
        &["httpConfiguration", "caCertificatePath"],
        Some(json!("/nonexistent/ca.pem")),
    );
    let c = Config::from_json_str(&v.to_string()).unwrap();
    assert_eq!(
        c.http.ca_certificate_path.as_deref(),
        Some(std::path::Path::new("/nonexistent/ca.pem"))
    );
    let e = c.http_options().unwrap_err();
    assert!(
        e.message().contains("httpConfiguration.caCertificatePath"),
        "{e}"
    );
    let e = idaas::Client::new(c).unwrap_err();
    assert_eq!(e.code(), "InvalidCaCertificate");
}

#[test]
fn timeouts_applied_to_http_options() {
    // D-4
    let v = with(
        base(),
        &["httpConfiguration"],
        Some(json!({"connectTimeout": 2500, "readTimeout": 3500})),
    );
    let c = Config::from_json_str(&v.to_string()).unwrap();
    let o = c.http_options().unwrap();
    assert_eq!(o.connect_timeout.as_millis(), 2500);
    assert_eq!(o.read_timeout.as_millis(), 3500);
    assert!(o.user_agent.starts_with("IDaaS core/"));
}

#[test]
fn builder_validates_like_the_file() {
    let e = Config::builder()
        .idaas_instance_id("i")
        .issuer("https://i")
        .token_endpoint("https://t")
        .authn_method(AuthnMethod::ClientSecretPost)
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "ClientIdNotFound");
    let c = Config::builder()
        .idaas_instance_id("i")
        .client_id("c")
        .issuer("i.example")
        .token_endpoint("http://localhost:1/t")
        .authn_method(AuthnMethod::ClientSecretBasic)
        .build()
        .unwrap();
    assert_eq!(c.issuer, "https://i.example");
    assert_eq!(c.token_endpoint, "http://localhost:1/t");
    // §2.6 fallback env var for programmatic configs without a secret source
    assert_eq!(
        c.authn.client_secret_env_var_name.as_deref(),
        Some("ALIBABA_CLOUD_EIAM_APP_CLIENT_SECRET")
    );
}

#[test]
fn none_method_fails_when_provider_is_built() {
    let v = with(base(), &["authnConfiguration"], Some(json!({})));
    let c = Config::from_json_str(&v.to_string()).unwrap();
    assert_eq!(c.authn.authn_method, AuthnMethod::None);
    let client = idaas::Client::new(c).unwrap();
    let e = client.bearer_token().unwrap_err();
    assert_eq!(e.code(), "UnsupportedAuthenticationMethod");
    assert!(e.message().contains("NONE"));
}

#[test]
fn plugin_not_registered() {
    let v = with(
        base(),
        &["authnConfiguration"],
        Some(json!({"authnMethod":"PLUGIN","pluginName":"myPlugin"})),
    );
    let c = Config::from_json_str(&v.to_string()).unwrap();
    let e = idaas::Client::new(c).unwrap_err();
    assert_eq!(e.code(), "PluginNotFound");
    assert!(e.message().contains("myPlugin"));
}

#[cfg(unix)]
#[test]
fn world_writable_file_still_loads() {
    use std::os::unix::fs::PermissionsExt;
    let p = temp_file("perm.json", &base().to_string());
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert!(Config::from_path(&p).is_ok());
}
