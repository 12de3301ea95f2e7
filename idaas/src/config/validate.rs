//! Validation and normalisation (§2.7): the checks a parsed file and a built config both pass.
//!
//! * Required strings (`idaasInstanceId`, `clientId`, `issuer`, `tokenEndpoint`, the per-method keys
//!   of §2.7 step 8) must be present **and non-blank**: the reference only checks "not null", but an
//!   empty value can never work, so it is reported at load time with the same catalogue code.
//! * **Decision D-4**: `connectTimeout` / `readTimeout` (2000..=60000 ms) are applied to the HTTP
//!   client (see [`Config::http_options`]): one attempt lasts at most their sum. The extension
//!   `callTimeout` (2000..=600000 ms, default `2 × (connectTimeout + readTimeout)`) bounds a whole
//!   call, retries and back-offs included (decision D-33).
//! * **Decision D-5**: `unsafeIgnoreSslCert: true` is **rejected** (code
//!   `UnsafeIgnoreSslCertNotSupported`): neither reference ever honoured it, and silently turning
//!   off TLS verification for a credential flow is not something a library should offer. Use
//!   `httpConfiguration.caCertificatePath` to trust a private CA instead.
//! * **Decision D-6**: endpoint normalisation (§2.7 step 10) keeps `http://` URLs whose host is a
//!   loopback address (127.0.0.0/8, `::1`, `localhost`) unchanged, so the local emulator can be
//!   used over plain HTTP; every other `http://` prefix becomes `https://` and a URL without a
//!   scheme gets `https://` prepended, exactly as the references do.
//! * **Decision D-16**: unsupported `authnMethod` / `clientDeployEnvironment` combinations are
//!   rejected at load time (`UnsupportedClientDeployEnvironment`): only `PKCS7` +
//!   `ALIBABA_CLOUD_ECS` and `OIDC` + `KUBERNETES` do anything (`PKCS7` + `AWS_EC2` is not
//!   implemented by the references either).
//! * `PLUGIN` requires `pluginName` (Java rule). `openApiEndpoint` is checked when a client is
//!   built, and only for the built-in Alibaba Cloud plugin (an application's plugin needs none,
//!   decision D-17; the built-in one, D-44).
//! * `identityType: HUMAN` is validated as in §2.7 step 6, but the device flow is not implemented
//!   (core.md §12 is informative): building a provider for it fails with
//!   `UnsupportedAuthenticationMethod`.

use super::file_prefix;
use super::model::{
    AuthnMethod, Config, DeployEnvironment, IdentityType, CALL_TIMEOUT, CONNECT_TIMEOUT,
    MIN_TIMEOUT_MS, READ_TIMEOUT,
};
use crate::error::{Error, Result};
use std::path::Path;

impl Config {
    /// Re-run the validation and normalisation of §2.7 (used by the builder; idempotent).
    pub fn validate(mut self) -> Result<Config> {
        let src = self.source.clone();
        validate_and_normalise(&mut self, src.as_deref())?;
        Ok(self)
    }
}

/// Validate and normalise what the parser read; `authn_present`: the file had an
/// `authnConfiguration` object (step 7).
pub(super) fn validate_parsed(cfg: Config, authn_present: bool) -> Result<Config> {
    // Agent mode (core.md §2.9, D-71): the agent authenticates; the object is optional.
    if !authn_present && !cfg.is_agent_mode() {
        // Step 7 is reported only after steps 1-6 have had their say (the order of §2.7).
        let path = cfg.source.as_deref();
        validate_steps_1_to_6(&cfg, path)?;
        return Err(Error::config(
            "AuthnConfigurationNotFound",
            format!(
                "{}authnConfiguration: Authn Configuration not found. Add an \"authnConfiguration\" object with at least \"authnMethod\"",
                file_prefix(path)
            ),
        ));
    }
    cfg.validate()
}

fn blank(v: &Option<String>) -> bool {
    v.as_deref().is_none_or(|s| s.trim().is_empty())
}

fn missing(file: &str, code: &str, field: &str, text: &str, fix: &str) -> Error {
    Error::config(code, format!("{file}{field}: {text} {fix}"))
}

fn validate_steps_1_to_6(cfg: &Config, path: Option<&Path>) -> Result<()> {
    let file = file_prefix(path);
    // Agent mode (core.md §2.9, D-71): the identity keys are the agent's; present ones are still
    // normalised and checked (step 10).
    let required: &[_] = if cfg.is_agent_mode() {
        &[]
    } else {
        &[
            (
                &cfg.idaas_instance_id,
                "IDaaSInstanceIdNotFound",
                "idaasInstanceId",
                "IDaaS Instance ID not found.",
                "Set it to the EIAM instance id (idaas_...).",
            ),
            (
                &cfg.client_id,
                "ClientIdNotFound",
                "clientId",
                "Client ID not found.",
                "Set it to the M2M application's client id (app_...).",
            ),
            (
                &cfg.issuer,
                "IssuerEndpointNotFound",
                "issuer",
                "Issuer Endpoint not found.",
                "Set it to the instance's issuer URL.",
            ),
            (
                &cfg.token_endpoint,
                "TokenEndpointNotFound",
                "tokenEndpoint",
                "Token Endpoint not found.",
                "Set it to the instance's OAuth2 token endpoint URL.",
            ),
        ]
    };
    for &(value, code, field, text, fix) in required {
        if value.trim().is_empty() {
            return Err(missing(&file, code, field, text, fix));
        }
    }
    check_agent_socket(cfg, &file)?;
    crate::scope::validate(&cfg.scope).map_err(|e| {
        Error::config(
            e.code().to_string(),
            format!("{file}scope: {}", e.message()),
        )
    })?;
    if cfg.is_agent_mode() {
        return Ok(());
    }
    if cfg.authn.identity_type == IdentityType::Human {
        if cfg
            .authn
            .human_authenticate_client_id
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            return Err(missing(
                &file,
                "HumanAuthenticateClientIdNotFound",
                "authnConfiguration.humanAuthenticateClientId",
                "Human Authenticate Client ID not found.",
                "Remove the key to use the default or set a client id.",
            ));
        }
        if blank(&cfg.device_authorization_endpoint) {
            return Err(missing(
                &file,
                "DeviceAuthorizationEndpointNotFound",
                "deviceAuthorizationEndpoint",
                "Device Authorization Endpoint not found.",
                "It is required for identityType HUMAN.",
            ));
        }
    }
    Ok(())
}

/// `agentSocket` / `IDAAS_AGENT_SOCKET` must name an absolute path (core.md §2.9): a relative
/// one would depend on each process's working directory.
fn check_agent_socket(cfg: &Config, file: &str) -> Result<()> {
    match &cfg.agent_socket {
        Some(p) if !p.is_absolute() => Err(Error::config(
            "InvalidAgentSocket",
            format!(
                "{file}agentSocket (or the environment variable {}): {} is not an absolute path; name the host agent's Unix socket by its absolute path",
                crate::agent::AGENT_SOCKET_ENV,
                p.display()
            ),
        )),
        _ => Ok(()),
    }
}

fn validate_and_normalise(cfg: &mut Config, path: Option<&Path>) -> Result<()> {
    validate_steps_1_to_6(cfg, path)?;
    let file = file_prefix(path);
    let a = &cfg.authn;
    // Agent mode (D-71): step 8's keys are the agent's business.
    let m = if cfg.is_agent_mode() {
        AuthnMethod::None
    } else {
        a.authn_method
    };
    // Step 8: per-method keys.
    if m.uses_client_secret()
        && a.client_secret_supplier.is_none()
        && blank(&a.client_secret_env_var_name)
    {
        return Err(missing(
            &file,
            "ClientSecretEnvVarNameNotFound",
            "authnConfiguration.clientSecretEnvVarName",
            "Client Secret Env Var Name not found.",
            &format!("Authentication method {m} needs the NAME of an environment variable that holds the client secret."),
        ));
    }
    if matches!(m, AuthnMethod::PrivateKeyJwt)
        && a.private_key_pem.is_none()
        && blank(&a.private_key_env_var_name)
    {
        return Err(missing(
            &file,
            "PrivateKeyEnvVarNameNotFound",
            "authnConfiguration.privateKeyEnvVarName",
            "Private Key Env Var Name not found.",
            "PRIVATE_KEY_JWT needs the NAME of an environment variable that holds the PEM private key.",
        ));
    }
    if matches!(m, AuthnMethod::Pkcs7 | AuthnMethod::Oidc | AuthnMethod::Pca)
        && blank(&a.application_federated_credential_name)
    {
        return Err(missing(
            &file,
            "ApplicationFederatedCredentialNameNotFound",
            "authnConfiguration.applicationFederatedCredentialName",
            "Application Federated Credential Name not found.",
            &format!("Authentication method {m} needs the name of the federated credential configured on the application."),
        ));
    }
    if matches!(m, AuthnMethod::Pkcs7 | AuthnMethod::Oidc) {
        let env = match a.client_deploy_environment {
            None => {
                return Err(missing(
                    &file,
                    "ClientDeployEnvironmentNotFound",
                    "authnConfiguration.clientDeployEnvironment",
                    "Client Deploy Environment not found.",
                    &format!(
                        "Authentication method {m} needs it ({}).",
                        if m == AuthnMethod::Pkcs7 {
                            "ALIBABA_CLOUD_ECS"
                        } else {
                            "KUBERNETES"
                        }
                    ),
                ))
            }
            Some(e) => e,
        };
        // Decision D-16: reject unsupported combinations now.
        let ok = matches!(
            (m, env),
            (AuthnMethod::Pkcs7, DeployEnvironment::AlibabaCloudEcs)
                | (AuthnMethod::Oidc, DeployEnvironment::Kubernetes)
        );
        if !ok {
            return Err(Error::config(
                "UnsupportedClientDeployEnvironment",
                format!(
                    "{file}authnConfiguration.clientDeployEnvironment: Unsupported client deploy environment: {env} for authentication method {m}. Supported: {}",
                    if m == AuthnMethod::Pkcs7 { "ALIBABA_CLOUD_ECS" } else { "KUBERNETES" }
                ),
            ));
        }
    }
    if m == AuthnMethod::Pca {
        if blank(&a.client_x509_certificate) {
            return Err(missing(
                &file,
                "ClientX509CertificateNotFound",
                "authnConfiguration.clientX509Certificate",
                "Client X509 Certificate not found.",
                "PCA needs the PEM text of the client certificate.",
            ));
        }
        if blank(&a.x509_cert_chains) {
            return Err(missing(
                &file,
                "X509CertChainsNotFound",
                "authnConfiguration.x509CertChains",
                "X509 Cert Chains not found.",
                "PCA needs the PEM text of the intermediate certificates.",
            ));
        }
        if a.private_key_pem.is_none() && blank(&a.private_key_env_var_name) {
            return Err(missing(
                &file,
                "PrivateKeyEnvVarNameNotFound",
                "authnConfiguration.privateKeyEnvVarName",
                "Private Key Env Var Name not found.",
                "PCA needs the NAME of an environment variable that holds the certificate's PEM private key.",
            ));
        }
    }
    if m == AuthnMethod::Plugin && blank(&a.plugin_name) {
        return Err(missing(
            &file,
            "PluginNameNotFound",
            "authnConfiguration.pluginName",
            "PluginName can not be empty.",
            "PLUGIN needs the name of its token plugin: alibabacloudPluginCredentialProvider (built in) or the name an application registered.",
        ));
    }
    // Step 9: http ranges.
    let h = &cfg.http;
    for (t, ms) in [
        (&CONNECT_TIMEOUT, Some(h.connect_timeout_ms)),
        (&READ_TIMEOUT, Some(h.read_timeout_ms)),
        (&CALL_TIMEOUT, h.call_timeout_ms),
    ] {
        if let Some(ms) = ms.filter(|ms| !(MIN_TIMEOUT_MS..=t.max).contains(ms)) {
            return Err(t.error(
                &file,
                format_args!("{ms} ms is outside {MIN_TIMEOUT_MS}..={}", t.max),
            ));
        }
    }
    if h.unsafe_ignore_ssl_cert {
        return Err(Error::config(
            "UnsafeIgnoreSslCertNotSupported",
            format!(
                "{file}httpConfiguration.unsafeIgnoreSslCert: disabling TLS certificate verification is not supported; remove the key and trust your CA with httpConfiguration.caCertificatePath instead"
            ),
        ));
    }
    // Step 10: normalisation.
    cfg.issuer = normalize_endpoint(&cfg.issuer);
    cfg.token_endpoint = normalize_endpoint(&cfg.token_endpoint);
    for v in [
        &mut cfg.device_authorization_endpoint,
        &mut cfg.developer_api_endpoint,
        &mut cfg.open_api_endpoint,
    ]
    .into_iter()
    .flatten()
    {
        *v = normalize_endpoint(v);
    }
    for (field, v) in [
        ("issuer", Some(&cfg.issuer)),
        ("tokenEndpoint", Some(&cfg.token_endpoint)),
        (
            "deviceAuthorizationEndpoint",
            cfg.device_authorization_endpoint.as_ref(),
        ),
        ("developerApiEndpoint", cfg.developer_api_endpoint.as_ref()),
        ("openApiEndpoint", cfg.open_api_endpoint.as_ref()),
    ] {
        if let Some(v) = v {
            check_endpoint(&file, field, v)?;
        }
    }
    Ok(())
}

/// Endpoint normalisation of §2.7 step 10 with decision D-6: empty → unchanged; `https://…` →
/// unchanged; `http://<loopback>…` → unchanged; other `http://…` → `https://…`; anything else →
/// `https://` prepended. Schemes are matched in any letter case (the references match only the
/// lower-case prefix and turned `HTTP://host` into `https://HTTP://host`); loopback is decided by
/// the rules of `endpoint.rs` (a literal loopback host; user information never counts).
pub fn normalize_endpoint(url: &str) -> String {
    if url.is_empty() {
        return url.to_string();
    }
    match crate::endpoint::split_scheme(url) {
        Some((crate::endpoint::Scheme::Https, _)) => url.to_string(),
        Some((crate::endpoint::Scheme::Http, rest)) => {
            if crate::endpoint::is_loopback_url(url) {
                url.to_string()
            } else {
                format!("https://{rest}")
            }
        }
        None => format!("https://{url}"),
    }
}

/// Check one normalised endpoint of the configuration (decision D-6): it must parse as a URL and
/// carry no user information. A config error names the field.
fn check_endpoint(file: &str, field: &str, url: &str) -> Result<()> {
    if url.is_empty() {
        return Ok(());
    }
    crate::endpoint::inspect(url).map(|_| ()).map_err(|why| {
        Error::config(
            "InvalidEndpointUrl",
            format!(
                "{file}{field}: {why}: {}; fix the URL in the configuration",
                crate::endpoint::display_url(url)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(normalize_endpoint(""), "");
        assert_eq!(normalize_endpoint("https://a/b"), "https://a/b");
        assert_eq!(normalize_endpoint("http://a/b"), "https://a/b");
        assert_eq!(normalize_endpoint("a.example/b"), "https://a.example/b");
        assert_eq!(normalize_endpoint("HTTP://x"), "https://x");
        assert_eq!(normalize_endpoint("HTTPS://x/t"), "HTTPS://x/t");
        assert_eq!(
            normalize_endpoint("HTTP://127.0.0.1:9/t"),
            "HTTP://127.0.0.1:9/t"
        );
        // User information never makes a host loopback (the real host follows the `@`).
        assert_eq!(
            normalize_endpoint("http://localhost:x@evil.invalid/t"),
            "https://localhost:x@evil.invalid/t"
        );
        assert_eq!(
            normalize_endpoint("http://2130706433/t"),
            "https://2130706433/t"
        );
        assert_eq!(
            normalize_endpoint("http://127.0.0.1:9/t"),
            "http://127.0.0.1:9/t"
        );
        assert_eq!(
            normalize_endpoint("http://localhost/t"),
            "http://localhost/t"
        );
        assert_eq!(normalize_endpoint("http://[::1]:80/t"), "http://[::1]:80/t");
    }
}
