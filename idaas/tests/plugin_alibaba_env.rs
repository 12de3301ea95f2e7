//! The built-in PLUGIN `alibabacloudPluginCredentialProvider` reading the process environment:
//! the `ALIBABA_CLOUD_*` variables of the chain, `HOME`, and the endpoint overrides
//! `IDAAS_ALIBABA_CLOUD_STS_ENDPOINT` / `IDAAS_ALIBABA_CLOUD_ECS_METADATA_ENDPOINT`.
//!
//! The process environment is global, so this binary has exactly one test, which runs its
//! scenarios in order and cleans up after each.

mod common;

use idaas::{AlibabaCloudOptions, Client, Config, ErrorKind};
use idaas_emulator::{AuthMethod, Emulator};

const VARS: [&str; 12] = [
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
    "ALIBABA_CLOUD_ECS_METADATA_DISABLED",
    "ALIBABA_CLOUD_CREDENTIALS_URI",
    "ALIBABA_CLOUD_PROFILE",
    "ALIBABA_CLOUD_CREDENTIALS_FILE",
    idaas::ALIBABA_CLOUD_STS_ENDPOINT_ENV,
    idaas::ALIBABA_CLOUD_ECS_METADATA_ENDPOINT_ENV,
];

fn clear() {
    for v in VARS {
        std::env::remove_var(v);
    }
}

fn config(emu: &Emulator) -> Config {
    Config::from_json_value(&emu.client_config(AuthMethod::Plugin)).unwrap()
}

/// The `x-acs-credentials-provider` of the last OpenAPI request.
fn last_provider(emu: &Emulator) -> String {
    emu.requests()
        .iter()
        .rev()
        .find(|r| r.header("x-acs-action") == Some("GenerateOauthToken"))
        .and_then(|r| r.header("x-acs-credentials-provider").map(str::to_string))
        .unwrap_or_default()
}

#[test]
fn the_chain_reads_the_process_environment_when_the_client_is_built() {
    let emu = Emulator::start_default();
    let home = std::env::temp_dir().join(format!("idaas-alibaba-env-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let saved_home = std::env::var_os("HOME");
    // No profile files unless a scenario writes them.
    std::env::set_var("HOME", &home);
    clear();

    // 1. What the emulator prints for PLUGIN works as is: AccessKey and endpoints from the
    //    environment, no builder option.
    for (k, v) in emu.alibaba_cloud_env() {
        std::env::set_var(k, v);
    }
    let a = Client::new(config(&emu)).unwrap();
    a.bearer_token().unwrap();
    assert_eq!(last_provider(&emu), "default/env");

    // 2. A snapshot: a later change is not seen by an existing client, only by a new one.
    std::env::set_var(
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "rotated-to-a-wrong-secret",
    );
    a.bearer_token_for_scope("api.example.com|read:file")
        .unwrap();
    let e = Client::new(config(&emu))
        .unwrap()
        .bearer_token()
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Auth, "SignatureDoesNotMatch")
    );

    // 3. The ECS RAM role through IDAAS_ALIBABA_CLOUD_ECS_METADATA_ENDPOINT.
    std::env::remove_var("ALIBABA_CLOUD_ACCESS_KEY_ID");
    std::env::remove_var("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    emu.clear_requests();
    Client::new(config(&emu)).unwrap().bearer_token().unwrap();
    assert_eq!(last_provider(&emu), "default/ecs_ram_role");
    assert_eq!(emu.count_requests("/latest/"), 3);

    // 4. The builder option wins over the variable.
    std::env::set_var(
        idaas::ALIBABA_CLOUD_ECS_METADATA_ENDPOINT_ENV,
        format!("http://127.0.0.1:{}", common::closed_port()),
    );
    let c = Client::builder(config(&emu))
        .alibaba_cloud(AlibabaCloudOptions::new().ecs_metadata_endpoint(emu.metadata_base_url()))
        .build()
        .unwrap();
    c.bearer_token().unwrap();
    let e = Client::new(config(&emu))
        .unwrap()
        .bearer_token()
        .unwrap_err();
    assert!(e.message().contains("ConnectionRefused"), "{e}");
    std::env::set_var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");

    // 5. The OIDC role through IDAAS_ALIBABA_CLOUD_STS_ENDPOINT.
    let token_file = home.join("oidc-token");
    std::fs::write(&token_file, emu.mint_oidc_token("workload", 3600)).unwrap();
    std::env::set_var(
        "ALIBABA_CLOUD_ROLE_ARN",
        &emu.alibaba_cloud().ram_roles[1].role_arn,
    );
    std::env::set_var(
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
        &emu.alibaba_cloud().oidc_provider_arn,
    );
    std::env::set_var("ALIBABA_CLOUD_OIDC_TOKEN_FILE", &token_file);
    emu.clear_requests();
    Client::new(config(&emu)).unwrap().bearer_token().unwrap();
    assert_eq!(last_provider(&emu), "default/oidc_role_arn");
    assert_eq!(emu.count_alibaba_action("AssumeRoleWithOIDC"), 1);
    std::env::remove_var(idaas::ALIBABA_CLOUD_STS_ENDPOINT_ENV);
    std::env::remove_var("ALIBABA_CLOUD_ROLE_ARN");

    // 6. The aliyun CLI profile under $HOME.
    let k = &emu.alibaba_cloud().access_keys[0];
    std::fs::create_dir_all(home.join(".aliyun")).unwrap();
    std::fs::write(
        home.join(".aliyun/config.json"),
        serde_json::json!({"current": "default", "profiles": [{"name": "default", "mode": "AK", "access_key_id": k.access_key_id, "access_key_secret": k.access_key_secret}]}).to_string(),
    )
    .unwrap();
    Client::new(config(&emu)).unwrap().bearer_token().unwrap();
    assert_eq!(last_provider(&emu), "default/cli_profile/static_ak");

    clear();
    match saved_home {
        Some(h) => std::env::set_var("HOME", h),
        None => std::env::remove_var("HOME"),
    }
    let _ = std::fs::remove_dir_all(&home);
}
