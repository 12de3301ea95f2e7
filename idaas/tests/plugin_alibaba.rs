//! The built-in PLUGIN `alibabacloudPluginCredentialProvider` against the emulator: every source
//! of the credential chain, the request on the wire, every error class, refresh across the expiry
//! of temporary credentials, and 64 threads at once.
//!
//! The chain's variables are handed over with `AlibabaCloudOptions::environment` (never the
//! process environment, which is global: tests/plugin_alibaba_env.rs covers reading it), and the
//! emulator plays STS and the metadata service through the builder options.

mod common;

use idaas::pam::PamClient;
use idaas::{
    AlibabaCloudOptions, CachePolicy, Client, Config, Credential, ErrorKind, LogSink,
    ALIBABA_CLOUD_PLUGIN_NAME,
};
use idaas_emulator::{AuthMethod, Emulator, EmulatorOptions, RecordedRequest};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

/// A private temporary directory, removed on drop (the HOME of a test).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("idaas-alibaba-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ak(emu: &Emulator) -> (String, String) {
    let k = &emu.alibaba_cloud().access_keys[0];
    (k.access_key_id.clone(), k.access_key_secret.clone())
}

fn plugin_config(emu: &Emulator, tweak: impl FnOnce(&mut Value)) -> Config {
    let mut v = emu.client_config(AuthMethod::Plugin);
    tweak(&mut v);
    Config::from_json_value(&v).unwrap()
}

/// Options pointing the chain at the emulator, with exactly `vars` as its environment.
fn options(emu: &Emulator, vars: &[(&str, &str)]) -> AlibabaCloudOptions {
    AlibabaCloudOptions::new()
        .sts_endpoint(emu.alibaba_endpoint())
        .ecs_metadata_endpoint(emu.metadata_base_url())
        .environment(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

fn builder(emu: &Emulator, vars: &[(&str, &str)]) -> idaas::ClientBuilder {
    Client::builder(plugin_config(emu, |_| {}))
        .alibaba_cloud(options(emu, vars))
        .retry_policy(common::fast_token_retry())
}

fn client(emu: &Emulator, vars: &[(&str, &str)]) -> Client {
    builder(emu, vars).build().unwrap()
}

fn openapi_requests(emu: &Emulator) -> Vec<RecordedRequest> {
    emu.requests()
        .into_iter()
        .filter(|r| r.header("x-acs-action") == Some("GenerateOauthToken"))
        .collect()
}

fn provider_of(r: &RecordedRequest) -> &str {
    r.header("x-acs-credentials-provider").unwrap_or("")
}

fn signed_headers(r: &RecordedRequest) -> String {
    let a = r.header("authorization").unwrap();
    a.split("SignedHeaders=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string()
}

/// The provider of the one OpenAPI request a fresh client made for its first token.
fn first_token_provider(emu: &Emulator, c: &Client) -> String {
    emu.clear_requests();
    c.bearer_token().unwrap_or_else(|e| panic!("{e}"));
    let reqs = openapi_requests(emu);
    assert_eq!(reqs.len(), 1);
    provider_of(&reqs[0]).to_string()
}

#[test]
fn environment_access_key_gives_the_reference_request() {
    let emu = Emulator::start_default();
    let (id, secret) = ak(&emu);
    let c = client(
        &emu,
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", &id),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &secret),
        ],
    );
    let token = c.bearer_token().unwrap();
    let reqs = openapi_requests(&emu);
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/"));
    assert_eq!(
        r.query.as_deref(),
        Some(format!("ApplicationId=app_plugin&Audience=urn%3Acloud%3Aidaas%3Apam&InstanceId={}&ScopeValues.1=.all", emu.instance_id()).as_str())
    );
    // The reference's header order (the HTTP stack adds content-length where it likes).
    let names: Vec<&str> = r
        .headers
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| *k != "content-length")
        .collect();
    assert_eq!(
        names[..10],
        [
            "host",
            "x-acs-version",
            "x-acs-action",
            "user-agent",
            "x-acs-date",
            "x-acs-signature-nonce",
            "accept",
            "x-acs-content-sha256",
            "x-acs-credentials-provider",
            "authorization"
        ]
    );
    assert_eq!(
        r.header("host"),
        Some(emu.developer_api_endpoint().as_str())
    );
    assert_eq!(r.header("x-acs-version"), Some("2021-12-01"));
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(r.header("content-length"), Some("0"));
    assert_eq!(r.header("content-type"), None);
    assert_eq!(r.header("x-acs-security-token"), None);
    assert!(r.header("user-agent").unwrap().starts_with("IDaaS core/"));
    assert_eq!(provider_of(r), "default/env");
    let nonce = r.header("x-acs-signature-nonce").unwrap();
    assert!(
        nonce.len() == 32
            && nonce
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(r.header("x-acs-date").unwrap().len(), 20);
    assert_eq!(
        signed_headers(r),
        "accept;host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version"
    );
    assert!(r
        .header("authorization")
        .unwrap()
        .starts_with(&format!("ACS3-HMAC-SHA256 Credential={id},SignedHeaders=")));
    // Cached: no second request; and the token is a Developer API bearer.
    assert_eq!(c.bearer_token().unwrap(), token);
    let cred = c.credential().unwrap();
    assert_eq!(
        (cred.token_type.as_str(), cred.expires_in),
        ("Bearer", 1200)
    );
    let pam = PamClient::from_client(&c).unwrap();
    assert!(pam.get_api_key("openai_prod_key").unwrap().is_some());
    assert_eq!(openapi_requests(&emu).len(), 1);
}

#[test]
fn environment_sts_token() {
    let emu = Emulator::start_default();
    let k = emu.alibaba_cloud().access_keys[1].clone();
    let token = k.security_token.clone().unwrap();
    let c = client(
        &emu,
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", &k.access_key_id),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &k.access_key_secret),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", &token),
        ],
    );
    c.bearer_token().unwrap();
    let r = &openapi_requests(&emu)[0];
    assert_eq!(provider_of(r), "default/env");
    assert_eq!(
        r.header("x-acs-accesskey-id"),
        Some(k.access_key_id.as_str())
    );
    assert_eq!(r.header("x-acs-security-token"), Some(token.as_str()));
    assert_eq!(
        signed_headers(r),
        "accept;host;user-agent;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version"
    );
}

#[test]
fn oidc_role_from_a_token_file() {
    let emu = Emulator::start_default();
    let home = TempDir::new();
    let oidc = emu.mint_oidc_token("workload", 3600);
    let file = home.write("token", &format!("{oidc}\n"));
    let role = emu.alibaba_cloud().ram_roles[1].role_arn.clone();
    let provider = emu.alibaba_cloud().oidc_provider_arn.clone();
    let vars = [
        ("ALIBABA_CLOUD_ROLE_ARN", role.as_str()),
        ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", provider.as_str()),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", file.to_str().unwrap()),
        ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
    ];
    let c = client(&emu, &vars);
    assert_eq!(first_token_provider(&emu, &c), "default/oidc_role_arn");
    let sts: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| {
            r.query
                .as_deref()
                .is_some_and(|q| q.starts_with("Action=AssumeRoleWithOIDC"))
        })
        .collect();
    assert_eq!(sts.len(), 1);
    let q = sts[0].query.clone().unwrap();
    let names: Vec<&str> = q.split('&').map(|p| p.split('=').next().unwrap()).collect();
    assert_eq!(names, ["Action", "Format", "Version", "Timestamp"]);
    assert!(q.starts_with("Action=AssumeRoleWithOIDC&Format=JSON&Version=2015-04-01&Timestamp="));
    // The token travels in the body, never in the URL; as in the file, minus the newline.
    assert_eq!(sts[0].method, "POST");
    assert_eq!(
        sts[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let names: Vec<&str> = sts[0].form.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "RoleArn",
            "OIDCProviderArn",
            "OIDCToken",
            "RoleSessionName",
            "DurationSeconds"
        ]
    );
    assert_eq!(sts[0].form_param("OIDCToken"), Some(oidc.as_str()));
    assert_eq!(sts[0].form_param("DurationSeconds"), Some("3600"));
    assert!(sts[0]
        .form_param("RoleSessionName")
        .unwrap()
        .starts_with("idaas-"));
    assert!(openapi_requests(&emu)[0]
        .header("x-acs-accesskey-id")
        .unwrap()
        .starts_with("STS."));
    // A session name from the environment.
    let mut v = vars.to_vec();
    v.push(("ALIBABA_CLOUD_ROLE_SESSION_NAME", "my-session"));
    emu.clear_requests();
    client(&emu, &v).bearer_token().unwrap();
    assert!(emu
        .requests()
        .iter()
        .any(|r| r.form_param("RoleSessionName") == Some("my-session")));
}

#[test]
fn aliyun_cli_profile_modes() {
    let emu = Emulator::start_default();
    let (id, secret) = ak(&emu);
    let sts = emu.alibaba_cloud().access_keys[1].clone();
    let home = TempDir::new();
    let oidc_file = home.write("oidc-token", &emu.mint_oidc_token("w", 3600));
    let cfg = serde_json::json!({
        "current": "ak",
        "profiles": [
            {"name": "ak", "mode": "AK", "access_key_id": id, "access_key_secret": secret, "region_id": "cn-hangzhou"},
            {"name": "sts", "mode": "StsToken", "access_key_id": sts.access_key_id, "access_key_secret": sts.access_key_secret, "sts_token": sts.security_token},
            {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "EmulatorEcsRole"},
            {"name": "oidc", "mode": "OIDC", "ram_role_arn": emu.alibaba_cloud().ram_roles[1].role_arn, "oidc_provider_arn": emu.alibaba_cloud().oidc_provider_arn, "oidc_token_file": oidc_file, "expired_seconds": 900}
        ]
    });
    home.write(".aliyun/config.json", &cfg.to_string());
    for (profile, expected) in [
        (None, "default/cli_profile/static_ak"),
        (Some("sts"), "default/cli_profile/static_sts"),
        (Some("ecs"), "default/cli_profile/ecs_ram_role"),
        (Some("oidc"), "default/cli_profile/oidc_role_arn"),
    ] {
        let mut vars = vec![("HOME", home.path())];
        if let Some(p) = profile {
            vars.push(("ALIBABA_CLOUD_PROFILE", p));
        }
        let c = client(&emu, &vars);
        assert_eq!(first_token_provider(&emu, &c), expected);
    }
    // The OIDC profile's expired_seconds is the STS DurationSeconds.
    assert!(emu
        .requests()
        .iter()
        .any(|r| r.form_param("DurationSeconds") == Some("900")));
    // Disabled: the chain goes on (here to the metadata service).
    let c = client(
        &emu,
        &[
            ("HOME", home.path()),
            ("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "TRUE"),
        ],
    );
    assert_eq!(first_token_provider(&emu, &c), "default/ecs_ram_role");
}

#[test]
fn credentials_file_sections() {
    let emu = Emulator::start_default();
    let (id, secret) = ak(&emu);
    let home = TempDir::new();
    home.write(
        ".alibabacloud/credentials.ini",
        &format!("[default]\ntype = access_key  # a comment\naccess_key_id = {id}\naccess_key_secret = {secret}\n"),
    );
    let other = home.write(
        "elsewhere/creds.ini",
        "[default]\ntype = ecs_ram_role\nrole_name = EmulatorEcsRole\n[bad]\ntype = rsa_key_pair\n",
    );
    let c = client(
        &emu,
        &[
            ("HOME", home.path()),
            ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ],
    );
    assert_eq!(first_token_provider(&emu, &c), "default/profile/static_ak");
    let c = client(
        &emu,
        &[
            ("HOME", home.path()),
            ("ALIBABA_CLOUD_CREDENTIALS_FILE", other.to_str().unwrap()),
        ],
    );
    assert_eq!(
        first_token_provider(&emu, &c),
        "default/profile/ecs_ram_role"
    );
    let c = client(
        &emu,
        &[
            ("HOME", home.path()),
            ("ALIBABA_CLOUD_CREDENTIALS_FILE", other.to_str().unwrap()),
            ("ALIBABA_CLOUD_PROFILE", "bad"),
            ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ],
    );
    let e = c.bearer_token().unwrap_err();
    assert!(
        e.message().contains("type rsa_key_pair is not supported"),
        "{e}"
    );
}

fn metadata_requests(emu: &Emulator) -> Vec<RecordedRequest> {
    emu.requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/latest/"))
        .collect()
}

#[test]
fn ecs_ram_role_through_the_metadata_service() {
    let emu = Emulator::start_default();
    let c = client(&emu, &[]);
    assert_eq!(first_token_provider(&emu, &c), "default/ecs_ram_role");
    let md = metadata_requests(&emu);
    let steps: Vec<(String, String)> = md
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert_eq!(
        steps,
        [
            ("PUT".to_string(), "/latest/api/token".to_string()),
            (
                "GET".into(),
                "/latest/meta-data/ram/security-credentials/".into()
            ),
            (
                "GET".into(),
                "/latest/meta-data/ram/security-credentials/EmulatorEcsRole".into()
            ),
        ]
    );
    assert_eq!(
        md[0].header("x-aliyun-ecs-metadata-token-ttl-seconds"),
        Some("21600")
    );
    assert!(md[1..]
        .iter()
        .all(|r| r.header("x-aliyun-ecs-metadata-token").is_some()));
    assert!(md.iter().all(|r| !r.tls));
    // The role named by ALIBABA_CLOUD_ECS_METADATA: no lookup of the name.
    let c = client(&emu, &[("ALIBABA_CLOUD_ECS_METADATA", "EmulatorEcsRole")]);
    assert_eq!(first_token_provider(&emu, &c), "default/ecs_ram_role");
    assert_eq!(metadata_requests(&emu).len(), 2);
}

#[test]
fn ecs_session_token_failure_falls_back_to_imdsv1_unless_disabled() {
    let emu = Emulator::start_default();
    emu.set_fault(idaas_emulator::parse_fault_spec("metadata=status/403:1").unwrap());
    let c = client(&emu, &[]);
    assert_eq!(first_token_provider(&emu, &c), "default/ecs_ram_role");
    let md = metadata_requests(&emu);
    assert_eq!(md.len(), 3);
    assert_eq!(md[0].status, 403);
    assert!(md[1..]
        .iter()
        .all(|r| r.header("x-aliyun-ecs-metadata-token").is_none()));
    emu.set_fault(idaas_emulator::parse_fault_spec("metadata=status/403:1").unwrap());
    let c = client(&emu, &[("ALIBABA_CLOUD_IMDSV1_DISABLED", "true")]);
    emu.clear_requests();
    let e = c.bearer_token().unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Credential, "AlibabaCloudCredentialsNotFound")
    );
    assert!(
        e.message()
            .contains("ECS RAM role (default/ecs_ram_role): invalid_request"),
        "{e}"
    );
    assert!(e.message().contains("(HTTP 403)"), "{e}");
    assert!(e.message().contains("ALIBABA_CLOUD_IMDSV1_DISABLED"), "{e}");
    assert_eq!(metadata_requests(&emu).len(), 1);
    assert!(openapi_requests(&emu).is_empty());
}

#[test]
fn credentials_uri_https_or_loopback_only() {
    let emu = Emulator::start_default();
    let vars = [("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")];
    let c = Client::builder(plugin_config(&emu, |_| {}))
        .alibaba_cloud(options(&emu, &vars).credentials_uri(emu.alibaba_credentials_uri()))
        .build()
        .unwrap();
    assert_eq!(first_token_provider(&emu, &c), "default/credential_uri");
    // From the chain's environment too.
    let uri = emu.alibaba_credentials_uri();
    let c = client(&emu, &[vars[0], ("ALIBABA_CLOUD_CREDENTIALS_URI", &uri)]);
    assert_eq!(first_token_provider(&emu, &c), "default/credential_uri");
    // Plain http to another host is refused before any connection (the document holds secrets).
    let c = client(
        &emu,
        &[
            vars[0],
            (
                "ALIBABA_CLOUD_CREDENTIALS_URI",
                "http://creds.evil.invalid/x",
            ),
        ],
    );
    let e = c.bearer_token().unwrap_err();
    assert!(
        e.message()
            .contains("credentials URI (default/credential_uri): PlainHttpNotLoopback"),
        "{e}"
    );
}

#[test]
fn chain_order_and_fall_through() {
    let emu = Emulator::start_default();
    let (id, secret) = ak(&emu);
    let sts = emu.alibaba_cloud().access_keys[1].clone();
    let home = TempDir::new();
    home.write(
        ".aliyun/config.json",
        &serde_json::json!({"current": "p", "profiles": [{"name": "p", "mode": "StsToken", "access_key_id": sts.access_key_id, "access_key_secret": sts.access_key_secret, "sts_token": sts.security_token}]}).to_string(),
    );
    // Environment first.
    let c = client(
        &emu,
        &[
            ("HOME", home.path()),
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", &id),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &secret),
        ],
    );
    assert_eq!(first_token_provider(&emu, &c), "default/env");
    // Incomplete environment: on to the CLI profile.
    let c = client(
        &emu,
        &[("HOME", home.path()), ("ALIBABA_CLOUD_ACCESS_KEY_ID", &id)],
    );
    assert_eq!(
        first_token_provider(&emu, &c),
        "default/cli_profile/static_sts"
    );
    // Nothing anywhere: which sources were tried and why, no request, no value.
    let empty = TempDir::new();
    let c = client(
        &emu,
        &[
            ("HOME", empty.path()),
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", &id),
            ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ],
    );
    emu.clear_requests();
    let e = c.bearer_token().unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Credential, "AlibabaCloudCredentialsNotFound")
    );
    let m = e.message();
    let order = [
        "environment variables",
        "OIDC role",
        "aliyun CLI profile",
        "credentials file",
        "ECS RAM role",
        "credentials URI",
    ];
    let pos: Vec<usize> = order
        .iter()
        .map(|s| m.find(s).unwrap_or_else(|| panic!("{s} in {m}")))
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{m}");
    assert!(
        m.contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET is not set"),
        "{m}"
    );
    assert!(!m.contains(&secret));
    assert!(emu.requests().is_empty());
}

#[test]
fn openapi_refusals_are_auth_errors_with_code_and_request_id() {
    let emu = Emulator::start_default();
    let (id, _) = ak(&emu);
    // Wrong secret: signature refused, not retried.
    let c = client(
        &emu,
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", &id),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "wrong-secret-value"),
        ],
    );
    let e = c.bearer_token().unwrap_err();
    assert_eq!(
        (e.kind(), e.code(), e.http_status()),
        (ErrorKind::Auth, "SignatureDoesNotMatch", Some(400))
    );
    assert!(e.request_id().is_some_and(|r| !r.is_empty()));
    assert!(!e.to_string().contains("wrong-secret-value"));
    assert_eq!(openapi_requests(&emu).len(), 1);
    // Unknown AccessKey.
    let c = client(
        &emu,
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAInobody"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s"),
        ],
    );
    let e = c.bearer_token().unwrap_err();
    assert_eq!(
        (e.kind(), e.code(), e.http_status()),
        (ErrorKind::Auth, "InvalidAccessKeyId.NotFound", Some(404))
    );
    // Unknown application, scope not granted.
    let (id, secret) = ak(&emu);
    let vars = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", id.as_str()),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret.as_str()),
    ];
    let c = Client::builder(plugin_config(&emu, |v| v["clientId"] = "app_nobody".into()))
        .alibaba_cloud(options(&emu, &vars))
        .build()
        .unwrap();
    assert_eq!(
        c.bearer_token().unwrap_err().code(),
        "EntityNotExists.Application"
    );
    let c = client(&emu, &vars);
    let e = c
        .bearer_token_for_scope("api.example.com|admin")
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.code(), e.http_status()),
        (ErrorKind::Auth, "Forbidden.ScopeNotGranted", Some(403))
    );
    // Throttling is a Client error (retried, then reported).
    emu.set_fault(idaas_emulator::parse_fault_spec("openapi=status/429").unwrap());
    emu.clear_requests();
    let e = client(&emu, &vars).bearer_token().unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Client, Some(429)));
    assert_eq!(openapi_requests(&emu).len(), 3);
}

#[test]
fn server_errors_are_retried_then_reported() {
    let emu = Emulator::start_default();
    let (id, secret) = ak(&emu);
    let vars = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", id.as_str()),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret.as_str()),
    ];
    emu.set_fault(idaas_emulator::parse_fault_spec("openapi=status/500:2").unwrap());
    client(&emu, &vars).bearer_token().unwrap();
    let reqs = openapi_requests(&emu);
    assert_eq!(reqs.len(), 3);
    // Each attempt is signed afresh.
    let nonces: std::collections::HashSet<_> = reqs
        .iter()
        .map(|r| r.header("x-acs-signature-nonce").unwrap().to_string())
        .collect();
    assert_eq!(nonces.len(), 3);
    emu.clear_requests();
    emu.set_fault(idaas_emulator::parse_fault_spec("openapi=status/503").unwrap());
    let e = client(&emu, &vars).bearer_token().unwrap_err();
    assert_eq!(
        (e.kind(), e.code(), e.http_status()),
        (ErrorKind::Server, "server_error", Some(503))
    );
    assert_eq!(openapi_requests(&emu).len(), 3);
    // A gateway's HTML 502 is a server error too.
    emu.clear_faults();
    emu.set_fault(idaas_emulator::FaultRule {
        route: idaas_emulator::Route::OpenApi,
        fault: idaas_emulator::Fault::Status {
            status: 502,
            retry_after: None,
            body: Some("<html>bad gateway</html>".into()),
        },
        times: None,
    });
    let e = client(&emu, &vars).bearer_token().unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::Server, "502"));
}

#[test]
fn anything_else_is_a_credential_error() {
    let emu = Emulator::start_default();
    let (id, secret) = ak(&emu);
    let vars = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", id.as_str()),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret.as_str()),
    ];
    for (spec, code) in [
        ("openapi=non-json", "InvalidResponse"),
        ("openapi=json-without/TokenResponse", "InvalidResponse"),
        ("openapi=reset", "ConnectionReset"),
        ("openapi=redirect/https://elsewhere.invalid/", "302"),
    ] {
        emu.clear_faults();
        emu.set_fault(idaas_emulator::parse_fault_spec(spec).unwrap());
        let e = client(&emu, &vars).bearer_token().unwrap_err();
        assert_eq!(
            (e.kind(), e.code()),
            (ErrorKind::Credential, code),
            "{spec}: {e}"
        );
    }
    // A closed port.
    emu.clear_faults();
    let port = common::closed_port();
    let c = Client::builder(plugin_config(&emu, |v| {
        v["openApiEndpoint"] = format!("https://127.0.0.1:{port}").into()
    }))
    .alibaba_cloud(options(&emu, &vars))
    .retry_policy(common::fast_token_retry())
    .build()
    .unwrap();
    let e = c.bearer_token().unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Credential, "ConnectionRefused"),
        "{e}"
    );
    // A reply without ExpiresAt: now + ExpiresIn.
    let emu = idaas_emulator::start(EmulatorOptions {
        omit_expires_at: true,
        ..EmulatorOptions::default()
    })
    .unwrap();
    let (id, secret) = ak(&emu);
    let c = client(
        &emu,
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", &id),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &secret),
        ],
    );
    let cred = c.credential().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        cred.expires_at >= now + 1190 && cred.expires_at <= now + 1201,
        "{}",
        cred.expires_at
    );
}

#[test]
fn open_api_endpoint_is_checked_when_the_client_is_built() {
    let emu = Emulator::start_default();
    let e = Client::builder(plugin_config(&emu, |v| {
        v.as_object_mut().unwrap().remove("openApiEndpoint");
    }))
    .build()
    .unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Config, "OpenApiEndpointNotFound")
    );
    assert!(e.message().contains(ALIBABA_CLOUD_PLUGIN_NAME));
    let e = Client::builder(plugin_config(&emu, |v| {
        v["openApiEndpoint"] = "eiam.example.com/some/path".into()
    }))
    .build()
    .unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Config, "InvalidConfigValue"),
        "{e}"
    );
    // Another name still needs a registered plugin.
    let e = Client::builder(plugin_config(&emu, |v| {
        v["authnConfiguration"]["pluginName"] = "other".into()
    }))
    .build()
    .unwrap_err();
    assert_eq!(e.code(), "PluginNotFound");
    assert!(emu.requests().is_empty());
}

#[test]
fn a_registered_plugin_of_that_name_wins() {
    let emu = Emulator::start_default();
    let c = Client::builder(plugin_config(&emu, |_| {}))
        .plugin(
            ALIBABA_CLOUD_PLUGIN_NAME,
            Arc::new(|_scope: &str| {
                Ok(Credential {
                    access_token: "from-the-application".into(),
                    expires_in: 600,
                    ..Credential::default()
                })
            }),
        )
        .build()
        .unwrap();
    assert_eq!(c.bearer_token().unwrap().expose(), "from-the-application");
    assert!(emu.requests().is_empty());
}

#[test]
fn scopes_get_their_own_tokens_and_share_the_key() {
    let emu = Emulator::start_default();
    let c = client(&emu, &[]);
    let t1 = c
        .bearer_token_for_scope("api.example.com|write:file api.example.com|read:file")
        .unwrap();
    let t2 = c
        .bearer_token_for_scope("api.example.com|read:file")
        .unwrap();
    assert_ne!(t1, t2);
    let reqs = openapi_requests(&emu);
    assert_eq!(reqs.len(), 2);
    // Values sorted, duplicates gone.
    assert!(reqs[0]
        .query
        .as_deref()
        .unwrap()
        .ends_with("&ScopeValues.1=read%3Afile&ScopeValues.2=write%3Afile"));
    // One walk of the chain for both: the temporary key is cached.
    assert_eq!(metadata_requests(&emu).len(), 3);
    let e = c.bearer_token_for_scope("a|x b|y").unwrap_err();
    assert_eq!(e.code(), "MultipleAudienceNotSupported");
}

#[test]
fn a_refused_key_is_looked_up_again() {
    let emu = Emulator::start_default();
    let vars = [("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")];
    let c = Client::builder(plugin_config(&emu, |_| {}))
        .alibaba_cloud(options(&emu, &vars).credentials_uri(emu.alibaba_credentials_uri()))
        .cache_policy(CachePolicy {
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(2),
            ..CachePolicy::default()
        })
        .build()
        .unwrap();
    emu.set_fault(idaas_emulator::parse_fault_spec("openapi=status/403:1").unwrap());
    assert_eq!(c.bearer_token().unwrap_err().kind(), ErrorKind::Auth);
    std::thread::sleep(Duration::from_millis(10));
    c.bearer_token().unwrap();
    let uri = emu
        .requests()
        .into_iter()
        .filter(|r| r.path == idaas_emulator::ALIBABA_CREDENTIALS_URI_PATH)
        .count();
    assert_eq!(uri, 2, "the refused key is not reused");
    let keys: std::collections::HashSet<_> = openapi_requests(&emu)
        .iter()
        .map(|r| r.header("x-acs-accesskey-id").unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 2);
}

#[test]
fn the_last_winning_source_is_asked_first() {
    // The metadata service is there but has no role: the chain falls through to the credentials
    // URI. When the key expires, the URI is asked again — and the metadata service is not.
    let emu = idaas_emulator::start(EmulatorOptions {
        alibaba_sts_lifetime_secs: 120,
        ..EmulatorOptions::default()
    })
    .unwrap();
    emu.set_fault(idaas_emulator::parse_fault_spec("metadata=status/404").unwrap());
    let clock = idaas::ManualClock::starting_now();
    let c = Client::builder(plugin_config(&emu, |_| {}))
        .alibaba_cloud(options(&emu, &[]).credentials_uri(emu.alibaba_credentials_uri()))
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(first_token_provider(&emu, &c), "default/credential_uri");
    let uri = |emu: &Emulator| {
        emu.requests()
            .iter()
            .filter(|r| r.path == idaas_emulator::ALIBABA_CREDENTIALS_URI_PATH)
            .count()
    };
    assert!(!metadata_requests(&emu).is_empty());
    emu.clear_requests();
    // Into the key's stale window (it lives 120 s, stale at most 30 s before; the emulator's clock
    // does not move, so a new key is still valid by ours, and x-acs-date stays in its window).
    clock.advance_secs(100);
    c.bearer_token_for_scope("api.example.com|read:file")
        .unwrap();
    assert_eq!(uri(&emu), 1);
    assert!(
        metadata_requests(&emu).is_empty(),
        "the metadata service was asked again"
    );
    assert_eq!(openapi_requests(&emu).len(), 1);
}

#[test]
fn refresh_across_the_expiry_of_temporary_credentials() {
    // Real time: the emulator refuses an expired STS key, so every token below was signed with a
    // live one. Keys live 4 s, tokens 2 s.
    let emu = idaas_emulator::start(EmulatorOptions {
        alibaba_sts_lifetime_secs: 4,
        token_lifetime_secs: 2,
        ..EmulatorOptions::default()
    })
    .unwrap();
    let c = Client::builder(plugin_config(&emu, |_| {}))
        .alibaba_cloud(options(&emu, &[]))
        .async_refresh(false)
        .build()
        .unwrap();
    let start = Instant::now();
    let mut tokens = std::collections::HashSet::new();
    while start.elapsed() < Duration::from_secs(7) {
        tokens.insert(
            c.bearer_token()
                .unwrap_or_else(|e| panic!("{e}"))
                .expose()
                .to_string(),
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let reqs = openapi_requests(&emu);
    assert!(reqs.iter().all(|r| r.status == 200));
    assert_eq!(reqs.len(), tokens.len());
    let keys: std::collections::HashSet<_> = reqs
        .iter()
        .map(|r| r.header("x-acs-accesskey-id").unwrap().to_string())
        .collect();
    let role_docs = metadata_requests(&emu)
        .iter()
        .filter(|r| r.path.ends_with("/EmulatorEcsRole"))
        .count();
    assert!(keys.len() >= 2, "{} keys over 7 s of 4 s keys", keys.len());
    assert_eq!(keys.len(), role_docs);
    assert!(tokens.len() >= 4, "{} tokens", tokens.len());
}

#[test]
fn sixty_four_threads_one_openapi_call_per_refresh() {
    let emu = idaas_emulator::start(EmulatorOptions {
        token_lifetime_secs: 3,
        ..EmulatorOptions::default()
    })
    .unwrap();
    let c = client(&emu, &[]);
    let barrier = Arc::new(Barrier::new(64));
    let seen = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let first = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let threads: Vec<_> = (0..64)
        .map(|_| {
            let (c, barrier, seen, first) =
                (c.clone(), barrier.clone(), seen.clone(), first.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let t = c.bearer_token().unwrap().expose().to_string();
                first.lock().unwrap().insert(t);
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs(4) {
                    let t = c.bearer_token().unwrap().expose().to_string();
                    seen.lock().unwrap().insert(t);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // All 64 first calls shared one fetch: one chain walk, one OpenAPI call.
    assert_eq!(first.lock().unwrap().len(), 1);
    let reqs = openapi_requests(&emu);
    let mut all = seen.lock().unwrap().clone();
    all.extend(first.lock().unwrap().iter().cloned());
    assert!(reqs.len() >= 2, "the token was refreshed");
    assert_eq!(reqs.len(), all.len(), "one OpenAPI call per refresh");
    assert_eq!(
        metadata_requests(&emu).len(),
        3,
        "the temporary key is fetched once"
    );
}

/// Records every log line of a client.
#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl LogSink for Lines {
    fn log(&self, level: log::Level, target: &str, message: &str) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{level} {target} {message}"));
    }
}

#[test]
fn secrets_never_reach_logs_errors_or_debug() {
    let emu = Emulator::start_default();
    let home = TempDir::new();
    let oidc = emu.mint_oidc_token("workload", 3600);
    let file = home.write("token", &oidc);
    let role = emu.alibaba_cloud().ram_roles[1].role_arn.clone();
    let provider = emu.alibaba_cloud().oidc_provider_arn.clone();
    let sts = emu.alibaba_cloud().access_keys[1].clone();
    let sink = Arc::new(Lines::default());
    let vars = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", sts.access_key_id.as_str()),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "wrong-secret-value-0123"),
        (
            "ALIBABA_CLOUD_SECURITY_TOKEN",
            sts.security_token.as_deref().unwrap(),
        ),
        ("ALIBABA_CLOUD_ROLE_ARN", role.as_str()),
        ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", provider.as_str()),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", file.to_str().unwrap()),
    ];
    let opts = options(&emu, &vars);
    let c = Client::builder(plugin_config(&emu, |_| {}))
        .alibaba_cloud(opts.clone())
        .log_sink(sink.clone())
        .build()
        .unwrap();
    let e = c.bearer_token().unwrap_err();
    assert_eq!(e.code(), "SignatureDoesNotMatch");
    // Then a working OIDC chain (the environment key is incomplete).
    let c2 = Client::builder(plugin_config(&emu, |_| {}))
        .alibaba_cloud(options(&emu, &vars[3..]))
        .log_sink(sink.clone())
        .build()
        .unwrap();
    c2.bearer_token().unwrap();
    let issued: Vec<String> = openapi_requests(&emu)
        .iter()
        .filter_map(|r| r.header("x-acs-security-token").map(str::to_string))
        .collect();
    let mut secrets = vec![
        "wrong-secret-value-0123".to_string(),
        sts.security_token.clone().unwrap(),
        sts.access_key_secret.clone(),
        oidc.clone(),
    ];
    secrets.extend(issued);
    let text = format!(
        "{e} {e:?} {opts:?} {c:?} {c2:?} {:?}",
        sink.0.lock().unwrap()
    );
    assert!(!sink.0.lock().unwrap().is_empty());
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "a secret leaked: {text}");
    }
}

#[test]
fn failures_of_the_chain_services_are_named() {
    let emu = Emulator::start_default();
    let home = TempDir::new();
    let role = emu.alibaba_cloud().ram_roles[1].role_arn.clone();
    let provider = emu.alibaba_cloud().oidc_provider_arn.clone();
    // A token STS does not trust.
    let file = home.write("token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln");
    let oidc = [
        ("ALIBABA_CLOUD_ROLE_ARN", role.as_str()),
        ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", provider.as_str()),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", file.to_str().unwrap()),
        ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
    ];
    let e = client(&emu, &oidc).bearer_token().unwrap_err();
    assert!(
        e.message()
            .contains("OIDC role (default/oidc_role_arn): AuthenticationFail.OIDCToken.Invalid"),
        "{e}"
    );
    assert!(e.message().contains("(HTTP 400, request id "), "{e}");
    // STS down.
    home.write("token", &emu.mint_oidc_token("w", 600));
    emu.set_fault(idaas_emulator::parse_fault_spec("sts=status/503:1").unwrap());
    let e = client(&emu, &oidc).bearer_token().unwrap_err();
    assert!(
        e.message()
            .contains("OIDC role (default/oidc_role_arn): server_error"),
        "{e}"
    );
    // A missing token file.
    let gone = [
        oidc[0],
        oidc[1],
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/nonexistent/idaas/token"),
        oidc[3],
    ];
    let e = client(&emu, &gone).bearer_token().unwrap_err();
    assert!(
        e.message()
            .contains("OIDC token file /nonexistent/idaas/token does not exist"),
        "{e}"
    );
    // A metadata document without Code (the session-token PUT uses up the first of the two, its
    // text reply is left as is), a credentials URI answering HTML.
    emu.set_fault(idaas_emulator::parse_fault_spec("metadata=json-without/Code:2").unwrap());
    let e = client(&emu, &[("ALIBABA_CLOUD_ECS_METADATA", "EmulatorEcsRole")])
        .bearer_token()
        .unwrap_err();
    assert!(
        e.message()
            .contains("ECS RAM role (default/ecs_ram_role): InvalidResponse"),
        "{e}"
    );
    assert!(e.message().contains("Code is missing, not Success"), "{e}");
    emu.set_fault(idaas_emulator::parse_fault_spec("credentials-uri=non-json:1").unwrap());
    let uri = emu.alibaba_credentials_uri();
    let e = client(
        &emu,
        &[
            ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
            ("ALIBABA_CLOUD_CREDENTIALS_URI", &uri),
        ],
    )
    .bearer_token()
    .unwrap_err();
    assert!(e.message().contains("credentials URI (default/credential_uri): InvalidResponse: credentials URI reply: not the expected JSON document"), "{e}");
}

#[test]
fn a_clock_off_by_more_than_fifteen_minutes_is_refused() {
    let emu = Emulator::start_default();
    let (id, secret) = ak(&emu);
    let clock = idaas::ManualClock::starting_now();
    clock.advance_secs(16 * 60);
    let c = builder(
        &emu,
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", &id),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &secret),
        ],
    )
    .clock(clock)
    .build()
    .unwrap();
    let e = c.bearer_token().unwrap_err();
    assert_eq!(
        (e.kind(), e.code(), e.http_status()),
        (ErrorKind::Auth, "InvalidTimeStamp.Expired", Some(400))
    );
}
