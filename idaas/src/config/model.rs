//! The configuration model: the validated [`Config`], its `authnConfiguration` and
//! `httpConfiguration` parts, the enums of the file and the timeout limits.
//!
//! # Extensions
//! The first two serve servers that follow the RFCs strictly. Both default to the reference's
//! behaviour, so the bytes on the wire only change when a key is set; methods other than those
//! named ignore them.
//! * `authnConfiguration.clientSecretBasicEncoding` (`raw` | `form`, see [`BasicEncoding`]) says
//!   how `CLIENT_SECRET_BASIC` builds the `Authorization` header: `raw` is the reference's base64
//!   of the unencoded `id:secret`, `form` form-encodes id and secret first as RFC 6749 §2.3.1
//!   requires (secrets with `+`, `%`, `:` or spaces otherwise fail at such servers).
//! * `authnConfiguration.clientAssertionAudience` (`tokenEndpoint` | `issuer`, see
//!   [`AssertionAudience`]) chooses the `aud` claim of the client assertions of
//!   `CLIENT_SECRET_JWT`, `PRIVATE_KEY_JWT` and `PCA`: the token endpoint URL (the reference's
//!   choice) or the `issuer`, which servers in a strict profile (FAPI 2.0, the update of RFC 7523)
//!   require.
//! * **Extension (D-20)**: `httpConfiguration.caCertificatePath` (alias `ca_certificate_path`)
//!   names a PEM file of extra trusted CA certificates, added to the system roots (which already
//!   honour `SSL_CERT_FILE`). The file is read by [`Config::http_options`], i.e. when a client is
//!   built.
//!
//! **Decision D-2**: the default scope is `urn:cloud:idaas:pam|.all` (see [`crate::scope`]).

use super::lookup::expand_tilde;
use crate::error::{Error, Result};
use crate::http::HttpOptions;
use crate::secret::SecretString;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Default connect timeout in ms.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5000;
/// Default read timeout in ms.
pub const DEFAULT_READ_TIMEOUT_MS: u64 = 10000;
/// Smallest allowed timeout in ms.
pub const MIN_TIMEOUT_MS: u64 = 2000;
/// Largest allowed timeout in ms.
pub const MAX_TIMEOUT_MS: u64 = 60000;
/// Largest allowed `callTimeout` in ms (the smallest is [`MIN_TIMEOUT_MS`]).
pub const MAX_CALL_TIMEOUT_MS: u64 = 600_000;

/// A timeout key of `httpConfiguration`: the parser (a number that is not a whole one) and the
/// validation (a value out of range) report it with the same catalogue code and message.
pub(super) struct TimeoutKey {
    /// The key, e.g. `connectTimeout`.
    pub(super) key: &'static str,
    /// The catalogue code of an invalid value.
    pub(super) code: &'static str,
    /// The catalogue message the error starts with.
    pub(super) text: &'static str,
    /// The largest allowed value in ms (the smallest is [`MIN_TIMEOUT_MS`]).
    pub(super) max: u64,
}

impl TimeoutKey {
    /// The error saying `what` is wrong with this key's value.
    pub(super) fn error(&self, file: &str, what: impl fmt::Display) -> Error {
        Error::config(
            self.code,
            format!("{} {file}httpConfiguration.{}: {what}", self.text, self.key),
        )
    }
}

/// `httpConfiguration.connectTimeout`.
pub(super) const CONNECT_TIMEOUT: TimeoutKey = TimeoutKey {
    key: "connectTimeout",
    code: "ConnectTimeoutNotValid",
    text: "Connect Timeout not valid.",
    max: MAX_TIMEOUT_MS,
};
/// `httpConfiguration.readTimeout`.
pub(super) const READ_TIMEOUT: TimeoutKey = TimeoutKey {
    key: "readTimeout",
    code: "ReadTimeoutNotValid",
    text: "Read Timeout not valid.",
    max: MAX_TIMEOUT_MS,
};
/// `httpConfiguration.callTimeout`.
pub(super) const CALL_TIMEOUT: TimeoutKey = TimeoutKey {
    key: "callTimeout",
    code: "CallTimeoutNotValid",
    text: "Call Timeout not valid.",
    max: MAX_CALL_TIMEOUT_MS,
};

/// Defines an enum whose values are spelled by fixed names in the file, with `ALL`, `as_str`,
/// `parse` and `Display`. The name table is written once, so `ALL` cannot miss a variant and the
/// "allowed values" of the parser's errors cannot drift from what `parse` accepts.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
        all_doc = $all_doc:literal;
        as_str_doc = $as_str_doc:literal;
    ) => {
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            #[doc = $all_doc]
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            #[doc = $as_str_doc]
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// Parse a config name (exact, case-sensitive).
            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.into_iter().find(|v| v.as_str() == s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// `authnConfiguration.identityType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IdentityType {
    /// A machine (M2M) client: the default and the only functional one.
    #[default]
    Client,
    /// A human using the device flow (not implemented, core.md §12).
    Human,
}

named_enum! {
    /// `authnConfiguration.authnMethod`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub enum AuthnMethod {
        /// No method configured; building a provider fails with `UnsupportedAuthenticationMethod`.
        #[default]
        None = "NONE",
        /// HTTP Basic client credentials (`Authorization: Basic`).
        ClientSecretBasic = "CLIENT_SECRET_BASIC",
        /// `client_secret` in the form body.
        ClientSecretPost = "CLIENT_SECRET_POST",
        /// HS256 client assertion keyed with the client secret.
        ClientSecretJwt = "CLIENT_SECRET_JWT",
        /// RS*/ES* client assertion signed with a private key.
        PrivateKeyJwt = "PRIVATE_KEY_JWT",
        /// ECS PKCS7 attested document as the assertion.
        Pkcs7 = "PKCS7",
        /// Private CA: certificate + chain + an assertion signed with the certificate's key.
        Pca = "PCA",
        /// An OIDC token (e.g. Kubernetes service-account token) as the assertion.
        Oidc = "OIDC",
        /// An application-registered token plugin (decision D-17).
        Plugin = "PLUGIN",
    }
    all_doc = "Every value, in the order of the spec.";
    as_str_doc = "The wire/config name, e.g. `CLIENT_SECRET_BASIC`.";
}

impl AuthnMethod {
    /// True for the methods that read a client secret.
    pub fn uses_client_secret(self) -> bool {
        matches!(
            self,
            AuthnMethod::ClientSecretBasic
                | AuthnMethod::ClientSecretPost
                | AuthnMethod::ClientSecretJwt
        )
    }
}

named_enum! {
    /// `authnConfiguration.clientDeployEnvironment`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum DeployEnvironment {
        /// `COMMON`
        Common = "COMMON",
        /// `COMPUTER`
        Computer = "COMPUTER",
        /// `KUBERNETES`
        Kubernetes = "KUBERNETES",
        /// `ALIBABA_CLOUD_ECS`
        AlibabaCloudEcs = "ALIBABA_CLOUD_ECS",
        /// `ALIBABA_CLOUD_ECI`
        AlibabaCloudEci = "ALIBABA_CLOUD_ECI",
        /// `ALIBABA_CLOUD_ACK`
        AlibabaCloudAck = "ALIBABA_CLOUD_ACK",
        /// `AWS_EC2`
        AwsEc2 = "AWS_EC2",
        /// `AWS_ESK`
        AwsEsk = "AWS_ESK",
        /// `GOOGLE_VM`
        GoogleVm = "GOOGLE_VM",
        /// `HUAWEI_CLOUD_ECS`
        HuaweiCloudEcs = "HUAWEI_CLOUD_ECS",
        /// `CUSTOM`
        Custom = "CUSTOM",
    }
    all_doc = "Every value.";
    as_str_doc = "The config name, e.g. `ALIBABA_CLOUD_ECS`.";
}

named_enum! {
    /// `authnConfiguration.clientSecretBasicEncoding`: how `CLIENT_SECRET_BASIC` encodes the
    /// credentials before base64 (module docs).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub enum BasicEncoding {
        /// `raw` (default): base64 of `id:secret` as is, as the reference SDKs send it.
        #[default]
        Raw = "raw",
        /// `form`: RFC 6749 §2.3.1, base64 of `form(id):form(secret)` (the form encoding of the body).
        Form = "form",
    }
    all_doc = "Every value.";
    as_str_doc = "The config name, e.g. `raw`.";
}

named_enum! {
    /// `authnConfiguration.clientAssertionAudience`: the `aud` claim of client assertions
    /// (`CLIENT_SECRET_JWT`, `PRIVATE_KEY_JWT`, `PCA`; module docs).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub enum AssertionAudience {
        /// `tokenEndpoint` (default): the normalised `tokenEndpoint` URL, as the reference SDKs do.
        #[default]
        TokenEndpoint = "tokenEndpoint",
        /// `issuer`: the normalised `issuer`, required by servers in a strict profile.
        Issuer = "issuer",
    }
    all_doc = "Every value.";
    as_str_doc = "The config name, e.g. `tokenEndpoint`.";
}

/// A programmatic source of the client secret, called at every token request.
pub type SecretSupplier = Arc<dyn Fn() -> Result<SecretString> + Send + Sync>;

/// `authnConfiguration` (§2.4).
#[derive(Clone, Default)]
pub struct AuthnConfig {
    /// `identityType` (default `CLIENT`).
    pub identity_type: IdentityType,
    /// `authnMethod` (default `NONE`).
    pub authn_method: AuthnMethod,
    /// `clientSecretEnvVarName`: name of the env var holding the client secret.
    pub client_secret_env_var_name: Option<String>,
    /// `privateKeyEnvVarName`: name of the env var holding the PEM private key.
    pub private_key_env_var_name: Option<String>,
    /// `applicationFederatedCredentialName`.
    pub application_federated_credential_name: Option<String>,
    /// `clientDeployEnvironment`.
    pub client_deploy_environment: Option<DeployEnvironment>,
    /// `oidcTokenFilePath`.
    pub oidc_token_file_path: Option<String>,
    /// `oidcTokenFilePathEnvVarName`.
    pub oidc_token_file_path_env_var_name: Option<String>,
    /// `clientX509Certificate` (PEM, sent as `client_x509`).
    pub client_x509_certificate: Option<String>,
    /// `x509CertChains` (PEMs, sent as `client_x509_chain`).
    pub x509_cert_chains: Option<String>,
    /// `pluginName`.
    pub plugin_name: Option<String>,
    /// `humanAuthenticateClientId` (default `iap_developer`).
    pub human_authenticate_client_id: Option<String>,
    /// `clientSecretBasicEncoding` (default `raw`).
    pub client_secret_basic_encoding: BasicEncoding,
    /// `clientAssertionAudience` (default `tokenEndpoint`).
    pub client_assertion_audience: AssertionAudience,
    /// Programmatic only: the client secret supplier (takes precedence over the env var name).
    pub client_secret_supplier: Option<SecretSupplier>,
    /// Programmatic only: the PEM private key (takes precedence over the env var name).
    pub private_key_pem: Option<SecretString>,
}

impl fmt::Debug for AuthnConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthnConfig")
            .field("identity_type", &self.identity_type)
            .field("authn_method", &self.authn_method)
            .field(
                "client_secret_env_var_name",
                &self.client_secret_env_var_name,
            )
            .field("private_key_env_var_name", &self.private_key_env_var_name)
            .field(
                "application_federated_credential_name",
                &self.application_federated_credential_name,
            )
            .field("client_deploy_environment", &self.client_deploy_environment)
            .field("oidc_token_file_path", &self.oidc_token_file_path)
            .field(
                "oidc_token_file_path_env_var_name",
                &self.oidc_token_file_path_env_var_name,
            )
            .field(
                "client_x509_certificate",
                &self.client_x509_certificate.as_ref().map(|_| "<pem>"),
            )
            .field(
                "x509_cert_chains",
                &self.x509_cert_chains.as_ref().map(|_| "<pem>"),
            )
            .field("plugin_name", &self.plugin_name)
            .field(
                "human_authenticate_client_id",
                &self.human_authenticate_client_id,
            )
            .field(
                "client_secret_basic_encoding",
                &self.client_secret_basic_encoding,
            )
            .field("client_assertion_audience", &self.client_assertion_audience)
            .field(
                "client_secret_supplier",
                &self.client_secret_supplier.as_ref().map(|_| "<supplier>"),
            )
            .field("private_key_pem", &self.private_key_pem)
            .finish()
    }
}

/// `httpConfiguration` (§2.5, plus the `caCertificatePath` extension).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    /// `connectTimeout` in ms (default 5000, 2000..=60000).
    pub connect_timeout_ms: u64,
    /// `readTimeout` in ms (default 10000, 2000..=60000): once connected, the time to send the
    /// request and receive the whole response.
    pub read_timeout_ms: u64,
    /// `callTimeout` in ms (extension, 2000..=600000): the budget of one call, all attempts and
    /// back-offs included. `None`: `2 × (connectTimeout + readTimeout)`.
    pub call_timeout_ms: Option<u64>,
    /// `unsafeIgnoreSslCert`: parsed, but `true` is rejected (decision D-5).
    pub unsafe_ignore_ssl_cert: bool,
    /// `caCertificatePath`: extra trusted CA PEM file (extension, decision D-20).
    pub ca_certificate_path: Option<PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            read_timeout_ms: DEFAULT_READ_TIMEOUT_MS,
            call_timeout_ms: None,
            unsafe_ignore_ssl_cert: false,
            ca_certificate_path: None,
        }
    }
}

/// A validated and normalised configuration (core.md §2).
#[derive(Clone, Debug)]
pub struct Config {
    /// `idaasInstanceId`.
    pub idaas_instance_id: String,
    /// `clientId`.
    pub client_id: String,
    /// `issuer` (normalised; on the wire only as the client-assertion `aud` when
    /// `clientAssertionAudience` is `issuer`).
    pub issuer: String,
    /// `tokenEndpoint` (normalised; also the client-assertion `aud` by default, see
    /// [`Config::client_assertion_audience`]).
    pub token_endpoint: String,
    /// `scope` (default [`crate::scope::DEFAULT_SCOPE`]).
    pub scope: String,
    /// `deviceAuthorizationEndpoint` (normalised).
    pub device_authorization_endpoint: Option<String>,
    /// `developerApiEndpoint` (normalised; the PAM client strips the scheme again).
    pub developer_api_endpoint: Option<String>,
    /// `openApiEndpoint` (normalised).
    pub open_api_endpoint: Option<String>,
    /// `authnConfiguration`.
    pub authn: AuthnConfig,
    /// `httpConfiguration`.
    pub http: HttpConfig,
    /// `agentSocket`, else the environment variable `IDAAS_AGENT_SOCKET` (core.md §2.9, D-71):
    /// the host agent's Unix socket (`~` expanded). `Some`: agent mode — tokens and the served
    /// PAM operations come from the agent, and the authentication keys are not required.
    pub agent_socket: Option<PathBuf>,
    /// The file this configuration was read from (None for JSON text / builder).
    pub source: Option<PathBuf>,
    /// Warnings about the file, logged when it was read and again, once, to the log sink of a
    /// client built from it (which did not exist yet when the file was read).
    pub(crate) load_warnings: Vec<String>,
}

impl Config {
    /// The HTTP options for this configuration: configured timeouts (D-4), the default User-Agent
    /// (D-21) and the contents of `caCertificatePath` (D-20), read now.
    pub fn http_options(&self) -> Result<HttpOptions> {
        let file = || super::file_prefix(self.source.as_deref());
        let extra_ca_pem = match &self.http.ca_certificate_path {
            None => None,
            Some(p) => {
                let p = expand_tilde(p);
                let bytes =
                    crate::fsread::read_regular_file(&p, "httpConfiguration.caCertificatePath")
                        .map_err(|e| {
                            Error::config(
                                "InvalidCaCertificate",
                                format!("{}{e}; fix the path or remove the key", file()),
                            )
                            .with_source(e)
                        })?;
                Some(String::from_utf8(bytes).map_err(|_| {
                    Error::config(
                        "InvalidCaCertificate",
                        format!(
                            "{}httpConfiguration.caCertificatePath: CA certificate file {} is not valid UTF-8 (expected PEM)",
                            file(),
                            p.display()
                        ),
                    )
                })?)
            }
        };
        Ok(HttpOptions {
            connect_timeout: Duration::from_millis(self.http.connect_timeout_ms),
            read_timeout: Duration::from_millis(self.http.read_timeout_ms),
            call_timeout: self.http.call_timeout_ms.map(Duration::from_millis),
            extra_ca_pem,
            ..HttpOptions::default()
        })
    }

    /// True in agent mode ([`Config::agent_socket`] set).
    pub fn is_agent_mode(&self) -> bool {
        self.agent_socket.is_some()
    }

    /// The authentication method.
    pub fn authn_method(&self) -> AuthnMethod {
        self.authn.authn_method
    }

    /// The `aud` claim of client assertions: `tokenEndpoint` or `issuer`, as chosen by
    /// `authnConfiguration.clientAssertionAudience` (both normalised).
    pub fn client_assertion_audience(&self) -> &str {
        match self.authn.client_assertion_audience {
            AssertionAudience::TokenEndpoint => &self.token_endpoint,
            AssertionAudience::Issuer => &self.issuer,
        }
    }
}
