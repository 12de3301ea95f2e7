//! What a client needs to talk to this emulator: the seeded client of each authentication
//! method, a ready-to-use client config per method (`Emulator::client_config`,
//! `--print-config`), and the whole instance description (`Emulator::info`, `--ready-file`,
//! `GET /_emulator/info`).

use crate::fixtures::{ClientFixture, FederatedKind};
use crate::state::State;
use crate::{
    AuthMethod, ALIBABA_CLOUD_PLUGIN_NAME, ALIBABA_CREDENTIALS_URI_PATH, CLIENT_SECRET_ENV,
    PAM_SCOPE, PRIVATE_KEY_ENV,
};
use serde_json::{json, Map, Value};
use std::sync::atomic::Ordering;

/// The client used for a method: the built-in one when the fixtures have it, else the first
/// client able to use the method.
pub(crate) fn client_for(st: &State, method: AuthMethod) -> Option<&ClientFixture> {
    let (preferred, usable): (&str, &dyn Fn(&ClientFixture) -> bool) = match method {
        AuthMethod::ClientSecretBasic
        | AuthMethod::ClientSecretPost
        | AuthMethod::ClientSecretJwt => ("app_secret", &|c| c.client_secret.is_some()),
        AuthMethod::PrivateKeyJwt => ("app_pkjwt", &|c| !c.public_keys.is_empty()),
        AuthMethod::Oidc => ("app_federated", &|c| has_federated(c, FederatedKind::Oidc)),
        AuthMethod::Pkcs7 => ("app_federated", &|c| has_federated(c, FederatedKind::Pkcs7)),
        AuthMethod::Pca => ("app_federated", &|c| has_federated(c, FederatedKind::Pca)),
        // Any application: GenerateOauthToken needs no client secret.
        AuthMethod::Plugin => ("app_plugin", &|_| true),
    };
    let cs = &st.fixtures.clients;
    cs.iter()
        .find(|c| c.client_id == preferred && usable(c))
        .or_else(|| cs.iter().find(|c| usable(c)))
}

fn has_federated(c: &ClientFixture, kind: FederatedKind) -> bool {
    c.federated_credentials.iter().any(|f| f.kind == kind)
}

/// The client config JSON (core.md §2 format) for a method.
pub(crate) fn client_config(st: &State, method: AuthMethod) -> Value {
    let client = client_for(st, method);
    let client_id = client.map(|c| c.client_id.clone()).unwrap_or_default();
    let fed_name = |kind: FederatedKind| {
        client
            .and_then(|c| c.federated_credentials.iter().find(|f| f.kind == kind))
            .map(|f| f.name.clone())
            .unwrap_or_default()
    };
    let setup = &st.setup;
    let mut authn = Map::new();
    authn.insert("identityType".into(), json!("CLIENT"));
    authn.insert("authnMethod".into(), json!(method.as_config_str()));
    match method {
        AuthMethod::ClientSecretBasic
        | AuthMethod::ClientSecretPost
        | AuthMethod::ClientSecretJwt => {
            authn.insert("clientSecretEnvVarName".into(), json!(CLIENT_SECRET_ENV));
        }
        AuthMethod::PrivateKeyJwt => {
            authn.insert("privateKeyEnvVarName".into(), json!(PRIVATE_KEY_ENV));
        }
        AuthMethod::Oidc => {
            authn.insert(
                "applicationFederatedCredentialName".into(),
                json!(fed_name(FederatedKind::Oidc)),
            );
            authn.insert("clientDeployEnvironment".into(), json!("KUBERNETES"));
            authn.insert(
                "oidcTokenFilePath".into(),
                json!(setup.oidc_token_path.to_string_lossy()),
            );
        }
        AuthMethod::Pkcs7 => {
            authn.insert(
                "applicationFederatedCredentialName".into(),
                json!(fed_name(FederatedKind::Pkcs7)),
            );
            authn.insert("clientDeployEnvironment".into(), json!("ALIBABA_CLOUD_ECS"));
        }
        AuthMethod::Pca => {
            authn.insert(
                "applicationFederatedCredentialName".into(),
                json!(fed_name(FederatedKind::Pca)),
            );
            authn.insert(
                "clientX509Certificate".into(),
                json!(setup.default_pca.cert_pem),
            );
            authn.insert("x509CertChains".into(), json!(setup.default_pca.chain_pem));
            authn.insert("privateKeyEnvVarName".into(), json!(PRIVATE_KEY_ENV));
        }
        AuthMethod::Plugin => {
            authn.insert("pluginName".into(), json!(ALIBABA_CLOUD_PLUGIN_NAME));
        }
    }
    let mut cfg = json!({
        "idaasInstanceId": st.site.instance_id,
        "clientId": client_id,
        "issuer": st.site.issuer,
        "tokenEndpoint": st.site.token_endpoint(),
        "scope": PAM_SCOPE,
        "developerApiEndpoint": st.site.devapi_endpoint(),
        "authnConfiguration": Value::Object(authn),
        "httpConfiguration": {"caCertificatePath": setup.ca_cert_path.to_string_lossy()},
    });
    if method == AuthMethod::Plugin {
        cfg["openApiEndpoint"] = json!(st.site.public_base());
    }
    cfg
}

/// The variables that make the PLUGIN config work against this emulator (an AccessKey from the
/// fixtures, the emulator as STS and metadata service).
pub(crate) fn alibaba_env(st: &State) -> Vec<(String, String)> {
    let mut env = Vec::new();
    if let Some(k) = st
        .fixtures
        .alibaba_cloud
        .access_keys
        .iter()
        .find(|k| k.security_token.is_none())
    {
        env.push((
            "ALIBABA_CLOUD_ACCESS_KEY_ID".to_string(),
            k.access_key_id.clone(),
        ));
        env.push((
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET".to_string(),
            k.access_key_secret.clone(),
        ));
    }
    env.push((
        "IDAAS_ALIBABA_CLOUD_STS_ENDPOINT".to_string(),
        st.site.public_base().to_string(),
    ));
    env.push((
        "IDAAS_ALIBABA_CLOUD_ECS_METADATA_ENDPOINT".to_string(),
        st.site.http_base.clone(),
    ));
    env
}

/// Everything a test suite needs to know about this instance.
pub(crate) fn info(st: &State) -> Value {
    let mut configs = Map::new();
    let mut clients = Map::new();
    for m in AuthMethod::ALL {
        configs.insert(m.as_config_str().into(), client_config(st, m));
        clients.insert(
            m.as_config_str().into(),
            json!(client_for(st, m).map(|c| c.client_id.clone())),
        );
    }
    let site = &st.site;
    let setup = &st.setup;
    json!({
        "httpsBaseUrl": site.https_base,
        "httpBaseUrl": site.http_base,
        "issuer": site.issuer,
        "tokenEndpoint": site.token_endpoint(),
        "jwksUri": format!("{}/jwks", site.issuer),
        "developerApiEndpoint": site.devapi_endpoint(),
        "metadataBaseUrl": site.http_base,
        "instanceId": site.instance_id,
        "caCertPath": setup.ca_cert_path.to_string_lossy(),
        "pcaRootCertPath": setup.pca_root_path.to_string_lossy(),
        "clientSecret": client_for(st, AuthMethod::ClientSecretBasic).and_then(|c| c.client_secret.clone()),
        "oidcTokenFilePath": setup.oidc_token_path.to_string_lossy(),
        "pcaCredentials": {
            "certPem": setup.default_pca.cert_pem,
            "chainPem": setup.default_pca.chain_pem,
            "keyPem": setup.default_pca.key_pem,
        },
        "clientIds": clients,
        "clientConfigs": configs,
        "alibabaCloud": {
            "openApiEndpoint": site.public_base(),
            "stsEndpoint": site.public_base(),
            "metadataEndpoint": site.http_base,
            "credentialsUri": format!("{}{ALIBABA_CREDENTIALS_URI_PATH}", site.public_base()),
            "accessKeys": st.fixtures.alibaba_cloud.access_keys.iter().map(|k| json!({
                "accessKeyId": k.access_key_id,
                "accessKeySecret": k.access_key_secret,
                "securityToken": k.security_token,
            })).collect::<Vec<_>>(),
            "ramRoles": st.fixtures.alibaba_cloud.ram_roles.iter().map(|r| json!({
                "roleName": r.role_name,
                "roleArn": r.role_arn,
            })).collect::<Vec<_>>(),
            "oidcProviderArn": st.fixtures.alibaba_cloud.oidc_provider_arn,
            "ecsRoleName": st.fixtures.alibaba_cloud.ecs_role_name,
            "environment": alibaba_env(st)
                .into_iter()
                .map(|(k, v)| (k, Value::from(v)))
                .collect::<Map<String, Value>>(),
        },
        "connectionsAccepted": st.server.accepted.load(Ordering::Relaxed),
    })
}
