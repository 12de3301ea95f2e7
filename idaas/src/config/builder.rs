//! [`ConfigBuilder`]: a configuration built in code rather than read from a file, validated by the
//! same rules as the file ([`Config::validate`]).

use super::env::FALLBACK_CLIENT_SECRET_ENV;
use super::model::{
    AssertionAudience, AuthnConfig, AuthnMethod, BasicEncoding, Config, DeployEnvironment,
    HttpConfig, IdentityType,
};
use crate::error::Result;
use crate::secret::SecretString;
use std::path::PathBuf;
use std::sync::Arc;

impl Config {
    /// A programmatic builder; [`ConfigBuilder::build`] runs the same validation as the file path.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }
}

/// Builder of a [`Config`] without a file.
#[derive(Clone, Debug, Default)]
pub struct ConfigBuilder {
    idaas_instance_id: Option<String>,
    client_id: Option<String>,
    issuer: Option<String>,
    token_endpoint: Option<String>,
    scope: Option<String>,
    device_authorization_endpoint: Option<String>,
    developer_api_endpoint: Option<String>,
    open_api_endpoint: Option<String>,
    authn: AuthnConfig,
    http: HttpConfig,
    agent_socket: Option<String>,
}

impl ConfigBuilder {
    /// `idaasInstanceId`.
    pub fn idaas_instance_id(mut self, v: impl Into<String>) -> Self {
        self.idaas_instance_id = Some(v.into());
        self
    }
    /// `clientId`.
    pub fn client_id(mut self, v: impl Into<String>) -> Self {
        self.client_id = Some(v.into());
        self
    }
    /// `issuer`.
    pub fn issuer(mut self, v: impl Into<String>) -> Self {
        self.issuer = Some(v.into());
        self
    }
    /// `tokenEndpoint`.
    pub fn token_endpoint(mut self, v: impl Into<String>) -> Self {
        self.token_endpoint = Some(v.into());
        self
    }
    /// `scope` (default D-2).
    pub fn scope(mut self, v: impl Into<String>) -> Self {
        self.scope = Some(v.into());
        self
    }
    /// `deviceAuthorizationEndpoint`.
    pub fn device_authorization_endpoint(mut self, v: impl Into<String>) -> Self {
        self.device_authorization_endpoint = Some(v.into());
        self
    }
    /// `developerApiEndpoint`.
    pub fn developer_api_endpoint(mut self, v: impl Into<String>) -> Self {
        self.developer_api_endpoint = Some(v.into());
        self
    }
    /// `openApiEndpoint`.
    pub fn open_api_endpoint(mut self, v: impl Into<String>) -> Self {
        self.open_api_endpoint = Some(v.into());
        self
    }
    /// `authnConfiguration.authnMethod`.
    pub fn authn_method(mut self, m: AuthnMethod) -> Self {
        self.authn.authn_method = m;
        self
    }
    /// `authnConfiguration.identityType`.
    pub fn identity_type(mut self, t: IdentityType) -> Self {
        self.authn.identity_type = t;
        self
    }
    /// `authnConfiguration.clientSecretEnvVarName`.
    pub fn client_secret_env_var_name(mut self, v: impl Into<String>) -> Self {
        self.authn.client_secret_env_var_name = Some(v.into());
        self
    }
    /// A client secret supplier, called at every token request (instead of an env var).
    pub fn client_secret_supplier(
        mut self,
        f: impl Fn() -> Result<SecretString> + Send + Sync + 'static,
    ) -> Self {
        self.authn.client_secret_supplier = Some(Arc::new(f));
        self
    }
    /// A fixed client secret (convenience over [`ConfigBuilder::client_secret_supplier`]).
    pub fn client_secret(self, secret: SecretString) -> Self {
        self.client_secret_supplier(move || Ok(secret.clone()))
    }
    /// `authnConfiguration.privateKeyEnvVarName`.
    pub fn private_key_env_var_name(mut self, v: impl Into<String>) -> Self {
        self.authn.private_key_env_var_name = Some(v.into());
        self
    }
    /// The PEM private key itself (instead of an env var).
    pub fn private_key_pem(mut self, pem: SecretString) -> Self {
        self.authn.private_key_pem = Some(pem);
        self
    }
    /// `authnConfiguration.applicationFederatedCredentialName`.
    pub fn application_federated_credential_name(mut self, v: impl Into<String>) -> Self {
        self.authn.application_federated_credential_name = Some(v.into());
        self
    }
    /// `authnConfiguration.clientDeployEnvironment`.
    pub fn client_deploy_environment(mut self, e: DeployEnvironment) -> Self {
        self.authn.client_deploy_environment = Some(e);
        self
    }
    /// `authnConfiguration.oidcTokenFilePath`.
    pub fn oidc_token_file_path(mut self, v: impl Into<String>) -> Self {
        self.authn.oidc_token_file_path = Some(v.into());
        self
    }
    /// `authnConfiguration.oidcTokenFilePathEnvVarName`.
    pub fn oidc_token_file_path_env_var_name(mut self, v: impl Into<String>) -> Self {
        self.authn.oidc_token_file_path_env_var_name = Some(v.into());
        self
    }
    /// `authnConfiguration.clientX509Certificate`.
    pub fn client_x509_certificate(mut self, v: impl Into<String>) -> Self {
        self.authn.client_x509_certificate = Some(v.into());
        self
    }
    /// `authnConfiguration.x509CertChains`.
    pub fn x509_cert_chains(mut self, v: impl Into<String>) -> Self {
        self.authn.x509_cert_chains = Some(v.into());
        self
    }
    /// `authnConfiguration.pluginName`.
    pub fn plugin_name(mut self, v: impl Into<String>) -> Self {
        self.authn.plugin_name = Some(v.into());
        self
    }
    /// `authnConfiguration.clientSecretBasicEncoding` (default [`BasicEncoding::Raw`]).
    pub fn client_secret_basic_encoding(mut self, e: BasicEncoding) -> Self {
        self.authn.client_secret_basic_encoding = e;
        self
    }
    /// `authnConfiguration.clientAssertionAudience` (default [`AssertionAudience::TokenEndpoint`]).
    pub fn client_assertion_audience(mut self, a: AssertionAudience) -> Self {
        self.authn.client_assertion_audience = a;
        self
    }
    /// `httpConfiguration.connectTimeout` in ms.
    pub fn connect_timeout_ms(mut self, v: u64) -> Self {
        self.http.connect_timeout_ms = v;
        self
    }
    /// `httpConfiguration.callTimeout` in ms: the budget of one call (all attempts).
    pub fn call_timeout_ms(mut self, v: u64) -> Self {
        self.http.call_timeout_ms = Some(v);
        self
    }

    /// `httpConfiguration.readTimeout` in ms.
    pub fn read_timeout_ms(mut self, v: u64) -> Self {
        self.http.read_timeout_ms = v;
        self
    }
    /// `httpConfiguration.caCertificatePath`.
    pub fn ca_certificate_path(mut self, p: impl Into<PathBuf>) -> Self {
        self.http.ca_certificate_path = Some(p.into());
        self
    }
    /// `httpConfiguration.unsafeIgnoreSslCert` (true is rejected, D-5).
    pub fn unsafe_ignore_ssl_cert(mut self, v: bool) -> Self {
        self.http.unsafe_ignore_ssl_cert = v;
        self
    }

    /// `agentSocket` (core.md §2.9, D-71): ask the host agent at this Unix socket. `""` turns
    /// agent mode off even when `IDAAS_AGENT_SOCKET` is set; not called: that variable decides.
    pub fn agent_socket(mut self, path: impl Into<String>) -> Self {
        self.agent_socket = Some(path.into());
        self
    }

    /// Validate and normalise (core.md §2.7).
    ///
    /// A client-secret method without a supplier or env var name falls back to the environment
    /// variable `ALIBABA_CLOUD_EIAM_APP_CLIENT_SECRET` (core.md §2.6, both references).
    pub fn build(mut self) -> Result<Config> {
        if self.authn.authn_method.uses_client_secret()
            && self.authn.client_secret_supplier.is_none()
            && self.authn.client_secret_env_var_name.is_none()
        {
            self.authn.client_secret_env_var_name = Some(FALLBACK_CLIENT_SECRET_ENV.to_string());
        }
        let missing = |v: Option<String>| v.unwrap_or_default();
        Config {
            idaas_instance_id: missing(self.idaas_instance_id),
            client_id: missing(self.client_id),
            issuer: missing(self.issuer),
            token_endpoint: missing(self.token_endpoint),
            scope: self
                .scope
                .unwrap_or_else(|| crate::scope::DEFAULT_SCOPE.to_string()),
            device_authorization_endpoint: self.device_authorization_endpoint,
            developer_api_endpoint: self.developer_api_endpoint,
            open_api_endpoint: self.open_api_endpoint,
            authn: self.authn,
            http: self.http,
            agent_socket: super::env::agent_socket(self.agent_socket),
            source: None,
            load_warnings: Vec::new(),
        }
        .validate()
    }
}
