//! Configuration: file lookup, JSON parsing, validation and normalisation (core.md §2).
//!
//! # Lookup (§2.1)
//! [`Config::load`] takes the first of: the explicit path, the environment variable
//! `CLOUD_IDAAS_CONFIG_PATH` (ignored when unset or blank), `~/.cloud_idaas/client-config.json`.
//! A leading `~` is expanded in every path; relative paths are relative to the working directory.
//!
//! # Parsing decisions
//! * **Decision D-1**: keys are accepted in the canonical lowerCamelCase *and* as snake_case
//!   aliases (every key is converted with the reference's camel→snake rule before lookup, so styles
//!   may be mixed; when both spellings of one key appear the later one wins, as in Python). A value
//!   of the wrong JSON type is rejected with an error naming the key, the expected and the actual
//!   type. `null` counts as absent.
//! * **Decision D-3**: unknown enum values (`identityType`, `authnMethod`,
//!   `clientDeployEnvironment`, `clientSecretBasicEncoding`, `clientAssertionAudience`) are rejected,
//!   naming the key and listing the allowed values.
//! * **Extensions for servers that follow the RFCs strictly** (both default to the reference's
//!   behaviour, so the bytes on the wire only change when a key is set):
//!   `authnConfiguration.clientSecretBasicEncoding` (`raw` | `form`, see [`BasicEncoding`]) says how
//!   `CLIENT_SECRET_BASIC` builds the `Authorization` header: `raw` is the reference's base64 of the
//!   unencoded `id:secret`, `form` form-encodes id and secret first as RFC 6749 §2.3.1 requires
//!   (secrets with `+`, `%`, `:` or spaces otherwise fail at such servers);
//!   `authnConfiguration.clientAssertionAudience` (`tokenEndpoint` | `issuer`, see
//!   [`AssertionAudience`]) chooses the `aud` claim of the client assertions of `CLIENT_SECRET_JWT`,
//!   `PRIVATE_KEY_JWT` and `PCA`: the token endpoint URL (the reference's choice) or the `issuer`,
//!   which servers in a strict profile (FAPI 2.0, the update of RFC 7523) require. Other methods
//!   ignore both keys.
//! * **Decision D-2**: the default scope is `urn:cloud:idaas:pam|.all` (see [`crate::scope`]).
//! * Required strings (`idaasInstanceId`, `clientId`, `issuer`, `tokenEndpoint`, the per-method keys
//!   of §2.7 step 8) must be present **and non-blank**: the reference only checks "not null", but an
//!   empty value can never work, so it is reported at load time with the same catalogue code.
//! * **Decision D-4**: `connectTimeout` / `readTimeout` (2000..=60000 ms) are applied to the HTTP
//!   client (see [`Config::http_options`]): one attempt lasts at most their sum. The extension
//!   `callTimeout` (2000..=600000 ms, default `2 × (connectTimeout + readTimeout)`) bounds a whole
//!   call, retries and back-offs included (decision D-33).
//! * **Decision D-5**: `unsafeIgnoreSslCert: true` is **rejected** (code `UnsafeIgnoreSslCertNotSupported`):
//!   neither reference ever honoured it, and silently turning off TLS verification for a credential
//!   flow is not something a library should offer. Use `httpConfiguration.caCertificatePath` to trust a
//!   private CA instead.
//! * **Extension (D-20)**: `httpConfiguration.caCertificatePath` (alias `ca_certificate_path`) names a
//!   PEM file of extra trusted CA certificates, added to the system roots (which already honour
//!   `SSL_CERT_FILE`). The file is read by [`Config::http_options`], i.e. when a client is built.
//! * **Decision D-6**: endpoint normalisation (§2.7 step 10) keeps `http://` URLs whose host is a
//!   loopback address (127.0.0.0/8, `::1`, `localhost`) unchanged, so the local emulator can be used
//!   over plain HTTP; every other `http://` prefix becomes `https://` and a URL without a scheme gets
//!   `https://` prepended, exactly as the references do.
//! * **Decision D-16**: unsupported `authnMethod` / `clientDeployEnvironment` combinations are rejected
//!   at load time (`UnsupportedClientDeployEnvironment`): only `PKCS7` + `ALIBABA_CLOUD_ECS` and
//!   `OIDC` + `KUBERNETES` do anything (`PKCS7` + `AWS_EC2` is not implemented by the references either).
//! * `PLUGIN` requires `pluginName` (Java rule); `openApiEndpoint` is not required because the plugin
//!   is an application callback (decision D-17), not the Alibaba Cloud OpenAPI plugin.
//! * `identityType: HUMAN` is validated as in §2.7 step 6, but the device flow is not implemented
//!   (core.md §12 is informative): building a provider for it fails with `UnsupportedAuthenticationMethod`.
//!
//! # File permissions
//! The file names environment variables, never secrets, so it need not be private; but whoever can
//! write it can point the token endpoint (and the client secret sent to it) elsewhere. On Unix a
//! warning is logged when the file is writable by group or others (mode & 0o022); nothing is
//! refused.
//!
//! # Secrets (§2.6)
//! `clientSecretEnvVarName` / `privateKeyEnvVarName` name environment variables. The client secret is
//! read at every token request (rotation takes effect at the next refresh); the private key is read
//! once, when the client first needs it. Programmatic configs may supply both directly through
//! [`ConfigBuilder::client_secret_supplier`] / [`ConfigBuilder::private_key_pem`].

use crate::error::{Error, ErrorKind, Result};
use crate::http::HttpOptions;
use crate::secret::SecretString;
use serde_json::{Map, Value};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Environment variable naming the config file (§2.1 rule 3).
pub const CONFIG_PATH_ENV: &str = "CLOUD_IDAAS_CONFIG_PATH";
/// Default config file, relative to the home directory (§2.1 rule 4).
pub const DEFAULT_CONFIG_RELATIVE: &str = ".cloud_idaas/client-config.json";
/// The default file's spelling in the PAM SDK's README (with an underscore), which no SDK reads;
/// [`Config::load`] names it in its error when it exists.
const MISSPELLED_CONFIG_RELATIVE: &str = ".cloud_idaas/client_config.json";
/// Environment variable used for the client secret when a programmatic config names no source
/// (§2.6, both references).
pub const FALLBACK_CLIENT_SECRET_ENV: &str = "ALIBABA_CLOUD_EIAM_APP_CLIENT_SECRET";
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

/// `authnConfiguration.identityType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IdentityType {
    /// A machine (M2M) client: the default and the only functional one.
    #[default]
    Client,
    /// A human using the device flow (not implemented, core.md §12).
    Human,
}

/// `authnConfiguration.authnMethod`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AuthnMethod {
    /// No method configured; building a provider fails with `UnsupportedAuthenticationMethod`.
    #[default]
    None,
    /// HTTP Basic client credentials (`Authorization: Basic`).
    ClientSecretBasic,
    /// `client_secret` in the form body.
    ClientSecretPost,
    /// HS256 client assertion keyed with the client secret.
    ClientSecretJwt,
    /// RS*/ES* client assertion signed with a private key.
    PrivateKeyJwt,
    /// ECS PKCS7 attested document as the assertion.
    Pkcs7,
    /// Private CA: certificate + chain + an assertion signed with the certificate's key.
    Pca,
    /// An OIDC token (e.g. Kubernetes service-account token) as the assertion.
    Oidc,
    /// An application-registered token plugin (decision D-17).
    Plugin,
}

impl AuthnMethod {
    /// Every value, in the order of the spec.
    pub const ALL: [AuthnMethod; 9] = [
        AuthnMethod::None,
        AuthnMethod::ClientSecretBasic,
        AuthnMethod::ClientSecretPost,
        AuthnMethod::ClientSecretJwt,
        AuthnMethod::PrivateKeyJwt,
        AuthnMethod::Pkcs7,
        AuthnMethod::Pca,
        AuthnMethod::Oidc,
        AuthnMethod::Plugin,
    ];

    /// The wire/config name, e.g. `CLIENT_SECRET_BASIC`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthnMethod::None => "NONE",
            AuthnMethod::ClientSecretBasic => "CLIENT_SECRET_BASIC",
            AuthnMethod::ClientSecretPost => "CLIENT_SECRET_POST",
            AuthnMethod::ClientSecretJwt => "CLIENT_SECRET_JWT",
            AuthnMethod::PrivateKeyJwt => "PRIVATE_KEY_JWT",
            AuthnMethod::Pkcs7 => "PKCS7",
            AuthnMethod::Pca => "PCA",
            AuthnMethod::Oidc => "OIDC",
            AuthnMethod::Plugin => "PLUGIN",
        }
    }

    /// Parse a config name (exact, case-sensitive).
    pub fn parse(s: &str) -> Option<AuthnMethod> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

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

impl fmt::Display for AuthnMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `authnConfiguration.clientDeployEnvironment`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeployEnvironment {
    /// `COMMON`
    Common,
    /// `COMPUTER`
    Computer,
    /// `KUBERNETES`
    Kubernetes,
    /// `ALIBABA_CLOUD_ECS`
    AlibabaCloudEcs,
    /// `ALIBABA_CLOUD_ECI`
    AlibabaCloudEci,
    /// `ALIBABA_CLOUD_ACK`
    AlibabaCloudAck,
    /// `AWS_EC2`
    AwsEc2,
    /// `AWS_ESK`
    AwsEsk,
    /// `GOOGLE_VM`
    GoogleVm,
    /// `HUAWEI_CLOUD_ECS`
    HuaweiCloudEcs,
    /// `CUSTOM`
    Custom,
}

impl DeployEnvironment {
    /// Every value.
    pub const ALL: [DeployEnvironment; 11] = [
        DeployEnvironment::Common,
        DeployEnvironment::Computer,
        DeployEnvironment::Kubernetes,
        DeployEnvironment::AlibabaCloudEcs,
        DeployEnvironment::AlibabaCloudEci,
        DeployEnvironment::AlibabaCloudAck,
        DeployEnvironment::AwsEc2,
        DeployEnvironment::AwsEsk,
        DeployEnvironment::GoogleVm,
        DeployEnvironment::HuaweiCloudEcs,
        DeployEnvironment::Custom,
    ];

    /// The config name, e.g. `ALIBABA_CLOUD_ECS`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeployEnvironment::Common => "COMMON",
            DeployEnvironment::Computer => "COMPUTER",
            DeployEnvironment::Kubernetes => "KUBERNETES",
            DeployEnvironment::AlibabaCloudEcs => "ALIBABA_CLOUD_ECS",
            DeployEnvironment::AlibabaCloudEci => "ALIBABA_CLOUD_ECI",
            DeployEnvironment::AlibabaCloudAck => "ALIBABA_CLOUD_ACK",
            DeployEnvironment::AwsEc2 => "AWS_EC2",
            DeployEnvironment::AwsEsk => "AWS_ESK",
            DeployEnvironment::GoogleVm => "GOOGLE_VM",
            DeployEnvironment::HuaweiCloudEcs => "HUAWEI_CLOUD_ECS",
            DeployEnvironment::Custom => "CUSTOM",
        }
    }

    /// Parse a config name (exact, case-sensitive).
    pub fn parse(s: &str) -> Option<DeployEnvironment> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl fmt::Display for DeployEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `authnConfiguration.clientSecretBasicEncoding`: how `CLIENT_SECRET_BASIC` encodes the
/// credentials before base64 (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum BasicEncoding {
    /// `raw` (default): base64 of `id:secret` as is, as the reference SDKs send it.
    #[default]
    Raw,
    /// `form`: RFC 6749 §2.3.1, base64 of `form(id):form(secret)` (the form encoding of the body).
    Form,
}

impl BasicEncoding {
    /// Every value.
    pub const ALL: [BasicEncoding; 2] = [BasicEncoding::Raw, BasicEncoding::Form];

    /// The config name, e.g. `raw`.
    pub fn as_str(self) -> &'static str {
        match self {
            BasicEncoding::Raw => "raw",
            BasicEncoding::Form => "form",
        }
    }

    /// Parse a config name (exact, case-sensitive).
    pub fn parse(s: &str) -> Option<BasicEncoding> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl fmt::Display for BasicEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `authnConfiguration.clientAssertionAudience`: the `aud` claim of client assertions
/// (`CLIENT_SECRET_JWT`, `PRIVATE_KEY_JWT`, `PCA`; module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AssertionAudience {
    /// `tokenEndpoint` (default): the normalised `tokenEndpoint` URL, as the reference SDKs do.
    #[default]
    TokenEndpoint,
    /// `issuer`: the normalised `issuer`, required by servers in a strict profile.
    Issuer,
}

impl AssertionAudience {
    /// Every value.
    pub const ALL: [AssertionAudience; 2] =
        [AssertionAudience::TokenEndpoint, AssertionAudience::Issuer];

    /// The config name, e.g. `tokenEndpoint`.
    pub fn as_str(self) -> &'static str {
        match self {
            AssertionAudience::TokenEndpoint => "tokenEndpoint",
            AssertionAudience::Issuer => "issuer",
        }
    }

    /// Parse a config name (exact, case-sensitive).
    pub fn parse(s: &str) -> Option<AssertionAudience> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl fmt::Display for AssertionAudience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
    /// The file this configuration was read from (None for JSON text / builder).
    pub source: Option<PathBuf>,
    /// Warnings about the file, logged when it was read and again, once, to the log sink of a
    /// client built from it (which did not exist yet when the file was read).
    pub(crate) load_warnings: Vec<String>,
}

impl Config {
    /// Locate, read, parse, validate and normalise the configuration (§2.1): `explicit`, else
    /// `CLOUD_IDAAS_CONFIG_PATH`, else `~/.cloud_idaas/client-config.json`.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        if let Some(p) = explicit {
            if !p.as_os_str().is_empty() {
                return Self::from_path_with_hint(&expand_tilde(p), true);
            }
        }
        if let Ok(v) = std::env::var(CONFIG_PATH_ENV) {
            if !v.trim().is_empty() {
                return Self::from_path_with_hint(&expand_tilde(Path::new(&v)), true);
            }
        }
        let home = home_dir().ok_or_else(|| {
            Error::config(
                "LoadConfigFileFailed",
                format!(
                    "IDaaS config not specified: no explicit path, {CONFIG_PATH_ENV} is not set and the home directory is unknown"
                ),
            )
        })?;
        let path = home.join(DEFAULT_CONFIG_RELATIVE);
        if !path.exists() {
            let mut msg = format!(
                "IDaaS config not specified: {} does not exist; pass a path or set {CONFIG_PATH_ENV}",
                path.display()
            );
            // The PAM SDK's README spells the file with an underscore; the SDKs read the hyphen.
            let underscore = home.join(MISSPELLED_CONFIG_RELATIVE);
            if underscore.exists() {
                msg.push_str(&format!(
                    ". Found {} instead: the file must be named client-config.json (with a hyphen); rename it",
                    underscore.display()
                ));
            }
            return Err(Error::config("LoadConfigFileFailed", msg));
        }
        Self::from_path_with_hint(&path, false)
    }

    /// Read, parse, validate and normalise the file at `path`.
    pub fn from_path(path: &Path) -> Result<Config> {
        Self::from_path_with_hint(&expand_tilde(path), true)
    }

    fn from_path_with_hint(path: &Path, hint: bool) -> Result<Config> {
        // Regular files only, at most 1 MiB (src/fsread.rs): `/dev/zero` or a FIFO fails at once.
        let text = match crate::fsread::read_regular_file(path, "IDaaS config file") {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
                Error::config(
                    "LoadConfigFileFailed",
                    format!("IDaaS config file {} is not valid UTF-8", path.display()),
                )
            })?,
            Err(e) if e.is_not_found() => {
                let mut msg = format!("IDaaS config file not found at path: {}.", path.display());
                if hint {
                    msg.push_str(&format!(
                        " Please ensure the config file exists or set the environment variable {CONFIG_PATH_ENV} to specify the config path."
                    ));
                }
                return Err(Error::config("LoadConfigFileFailed", msg).with_source(e));
            }
            Err(e) => {
                return Err(Error::config("LoadConfigFileFailed", e.to_string()).with_source(e))
            }
        };
        let warning = writable_by_others_warning(path);
        let mut cfg = parse_json(&text, Some(path))?;
        cfg.source = Some(path.to_path_buf());
        if let Some(w) = warning {
            crate::diag::event!(Warn, "{w}");
            cfg.load_warnings.push(w);
        }
        Ok(cfg)
    }

    /// Parse, validate and normalise configuration JSON text.
    pub fn from_json_str(json: &str) -> Result<Config> {
        parse_json(json, None)
    }

    /// Parse, validate and normalise a configuration JSON value.
    pub fn from_json_value(value: &Value) -> Result<Config> {
        parse_value(value, None)
    }

    /// A programmatic builder; [`ConfigBuilder::build`] runs the same validation as the file path.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The HTTP options for this configuration: configured timeouts (D-4), the default User-Agent
    /// (D-21) and the contents of `caCertificatePath` (D-20), read now.
    pub fn http_options(&self) -> Result<HttpOptions> {
        let extra_ca_pem = match &self.http.ca_certificate_path {
            None => None,
            Some(p) => {
                let p = expand_tilde(p);
                let bytes =
                    crate::fsread::read_regular_file(&p, "httpConfiguration.caCertificatePath")
                        .map_err(|e| {
                            Error::config(
                                "InvalidCaCertificate",
                                format!(
                                    "{}{e}; fix the path or remove the key",
                                    self.file_prefix()
                                ),
                            )
                            .with_source(e)
                        })?;
                Some(String::from_utf8(bytes).map_err(|_| {
                    Error::config(
                        "InvalidCaCertificate",
                        format!(
                            "{}httpConfiguration.caCertificatePath: CA certificate file {} is not valid UTF-8 (expected PEM)",
                            self.file_prefix(),
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

    fn file_prefix(&self) -> String {
        match &self.source {
            Some(p) => format!("{}: ", p.display()),
            None => String::new(),
        }
    }

    /// Re-run the validation and normalisation of §2.7 (used by the builder; idempotent).
    pub fn validate(mut self) -> Result<Config> {
        let src = self.source.clone();
        validate_and_normalise(&mut self, src.as_deref())?;
        Ok(self)
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

    /// Validate and normalise (§2.7).
    ///
    /// A client-secret method without a supplier or env var name falls back to the environment
    /// variable `ALIBABA_CLOUD_EIAM_APP_CLIENT_SECRET` (§2.6, both references).
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
            source: None,
            load_warnings: Vec::new(),
        }
        .validate()
    }
}

// ---------------------------------------------------------------------------------------------
// JSON parsing

/// The reference's camelCase → snake_case key conversion (§2.2).
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

struct Obj<'a> {
    /// snake_case key → (original key, value); later duplicates win.
    entries: Vec<(String, &'a str, &'a Value)>,
    path: &'a str,
    file: String,
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
    fn new(map: &'a Map<String, Value>, path: &'a str, file: String) -> Self {
        let entries = map
            .iter()
            .map(|(k, v)| (to_snake_case(k), k.as_str(), v))
            .collect();
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
            .find(|(s, _, _)| *s == snake)
            .map(|(_, _, v)| *v)
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

    fn integer(&self, camel: &str, code: &str, msg: &str, max: u64) -> Result<Option<u64>> {
        match self.get(camel) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) => Ok(Some(v)),
                None => Err(Error::config(
                    code,
                    format!(
                        "{msg} {}{}: {n} is not a whole number of milliseconds between {MIN_TIMEOUT_MS} and {max}",
                        self.file,
                        self.field_name(camel)
                    ),
                )),
            },
            Some(v) => Err(self.type_error(camel, "integer (milliseconds)", v)),
        }
    }

    fn object(&self, camel: &str) -> Result<Option<&'a Map<String, Value>>> {
        match self.get(camel) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(v) => Err(self.type_error(camel, "JSON object", v)),
        }
    }

    fn enum_value<T: Copy>(
        &self,
        camel: &str,
        parse: impl Fn(&str) -> Option<T>,
        allowed: &[&str],
    ) -> Result<Option<T>> {
        match self.string(camel)? {
            None => Ok(None),
            Some(s) => parse(&s).map(Some).ok_or_else(|| {
                Error::config(
                    "InvalidConfigValue",
                    format!(
                        "{}{}: unknown value \"{s}\"; allowed values: {}",
                        self.file,
                        self.field_name(camel),
                        allowed.join(", ")
                    ),
                )
            }),
        }
    }
}

fn file_prefix(path: Option<&Path>) -> String {
    path.map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}

fn parse_json(text: &str, path: Option<&Path>) -> Result<Config> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Error::config(
            "LoadConfigFileFailed",
            format!(
                "{}the IDaaS config is not valid JSON: {e}",
                file_prefix(path)
            ),
        )
    })?;
    parse_value(&value, path)
}

fn parse_value(value: &Value, path: Option<&Path>) -> Result<Config> {
    let file = file_prefix(path);
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
    let top = Obj::new(map, "", file.clone());
    let mut authn = AuthnConfig::default();
    let authn_map = top.object("authnConfiguration")?;
    if let Some(m) = authn_map {
        let a = Obj::new(m, "authnConfiguration", file.clone());
        let methods: Vec<&str> = AuthnMethod::ALL.iter().map(|m| m.as_str()).collect();
        let envs: Vec<&str> = DeployEnvironment::ALL.iter().map(|m| m.as_str()).collect();
        authn.identity_type = a
            .enum_value(
                "identityType",
                |s| match s {
                    "CLIENT" => Some(IdentityType::Client),
                    "HUMAN" => Some(IdentityType::Human),
                    _ => None,
                },
                &["CLIENT", "HUMAN"],
            )?
            .unwrap_or_default();
        authn.authn_method = a
            .enum_value("authnMethod", AuthnMethod::parse, &methods)?
            .unwrap_or_default();
        authn.client_secret_env_var_name = a.string("clientSecretEnvVarName")?;
        authn.private_key_env_var_name = a.string("privateKeyEnvVarName")?;
        authn.application_federated_credential_name =
            a.string("applicationFederatedCredentialName")?;
        authn.client_deploy_environment =
            a.enum_value("clientDeployEnvironment", DeployEnvironment::parse, &envs)?;
        authn.oidc_token_file_path = a.string("oidcTokenFilePath")?;
        authn.oidc_token_file_path_env_var_name = a.string("oidcTokenFilePathEnvVarName")?;
        authn.client_x509_certificate = a.string("clientX509Certificate")?;
        authn.x509_cert_chains = a.string("x509CertChains")?;
        authn.plugin_name = a.string("pluginName")?;
        authn.human_authenticate_client_id = a.string("humanAuthenticateClientId")?;
        let encodings: Vec<&str> = BasicEncoding::ALL.iter().map(|e| e.as_str()).collect();
        authn.client_secret_basic_encoding = a
            .enum_value(
                "clientSecretBasicEncoding",
                BasicEncoding::parse,
                &encodings,
            )?
            .unwrap_or_default();
        let audiences: Vec<&str> = AssertionAudience::ALL.iter().map(|e| e.as_str()).collect();
        authn.client_assertion_audience = a
            .enum_value(
                "clientAssertionAudience",
                AssertionAudience::parse,
                &audiences,
            )?
            .unwrap_or_default();
    }
    let mut http = HttpConfig::default();
    if let Some(m) = top.object("httpConfiguration")? {
        let h = Obj::new(m, "httpConfiguration", file.clone());
        if let Some(v) = h.integer(
            "connectTimeout",
            "ConnectTimeoutNotValid",
            "Connect Timeout not valid.",
            MAX_TIMEOUT_MS,
        )? {
            http.connect_timeout_ms = v;
        }
        if let Some(v) = h.integer(
            "readTimeout",
            "ReadTimeoutNotValid",
            "Read Timeout not valid.",
            MAX_TIMEOUT_MS,
        )? {
            http.read_timeout_ms = v;
        }
        http.call_timeout_ms = h.integer(
            "callTimeout",
            "CallTimeoutNotValid",
            "Call Timeout not valid.",
            MAX_CALL_TIMEOUT_MS,
        )?;
        // `unsafeIgnoreSSLCert` (Java spelling) converts to `unsafe_ignore_ssl_cert` too.
        if let Some(v) = h.boolean("unsafeIgnoreSslCert")? {
            http.unsafe_ignore_ssl_cert = v;
        }
        if let Some(p) = h.string("caCertificatePath")? {
            if !p.trim().is_empty() {
                http.ca_certificate_path = Some(PathBuf::from(p));
            }
        }
    }
    let mut cfg = Config {
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
        source: path.map(Path::to_path_buf),
        load_warnings: Vec::new(),
    };
    if authn_map.is_none() {
        // Marker for step 7: remembered through an impossible combination is fragile, so check here
        // after steps 1-6 have had their say.
        validate_steps_1_to_6(&cfg, path)?;
        return Err(Error::config(
            "AuthnConfigurationNotFound",
            format!(
                "{file}authnConfiguration: Authn Configuration not found. Add an \"authnConfiguration\" object with at least \"authnMethod\""
            ),
        ));
    }
    validate_and_normalise(&mut cfg, path)?;
    Ok(cfg)
}

// ---------------------------------------------------------------------------------------------
// Validation (§2.7)

fn blank(v: &Option<String>) -> bool {
    v.as_deref().is_none_or(|s| s.trim().is_empty())
}

fn missing(file: &str, code: &str, field: &str, text: &str, fix: &str) -> Error {
    Error::config(code, format!("{file}{field}: {text} {fix}"))
}

fn validate_steps_1_to_6(cfg: &Config, path: Option<&Path>) -> Result<()> {
    let file = file_prefix(path);
    if cfg.idaas_instance_id.trim().is_empty() {
        return Err(missing(
            &file,
            "IDaaSInstanceIdNotFound",
            "idaasInstanceId",
            "IDaaS Instance ID not found.",
            "Set it to the EIAM instance id (idaas_...).",
        ));
    }
    if cfg.client_id.trim().is_empty() {
        return Err(missing(
            &file,
            "ClientIdNotFound",
            "clientId",
            "Client ID not found.",
            "Set it to the M2M application's client id (app_...).",
        ));
    }
    if cfg.issuer.trim().is_empty() {
        return Err(missing(
            &file,
            "IssuerEndpointNotFound",
            "issuer",
            "Issuer Endpoint not found.",
            "Set it to the instance's issuer URL.",
        ));
    }
    if cfg.token_endpoint.trim().is_empty() {
        return Err(missing(
            &file,
            "TokenEndpointNotFound",
            "tokenEndpoint",
            "Token Endpoint not found.",
            "Set it to the instance's OAuth2 token endpoint URL.",
        ));
    }
    crate::scope::validate(&cfg.scope).map_err(|e| {
        Error::config(
            e.code().to_string(),
            format!("{file}scope: {}", e.message()),
        )
    })?;
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

fn validate_and_normalise(cfg: &mut Config, path: Option<&Path>) -> Result<()> {
    validate_steps_1_to_6(cfg, path)?;
    let file = file_prefix(path);
    let a = &cfg.authn;
    let m = a.authn_method;
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
            "PLUGIN needs the name under which the application registers its token plugin.",
        ));
    }
    // Step 9: http ranges.
    let h = &cfg.http;
    if !(MIN_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(&h.connect_timeout_ms) {
        return Err(Error::config(
            "ConnectTimeoutNotValid",
            format!(
                "Connect Timeout not valid. {file}httpConfiguration.connectTimeout: {} ms is outside {MIN_TIMEOUT_MS}..={MAX_TIMEOUT_MS}",
                h.connect_timeout_ms
            ),
        ));
    }
    if !(MIN_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(&h.read_timeout_ms) {
        return Err(Error::config(
            "ReadTimeoutNotValid",
            format!(
                "Read Timeout not valid. {file}httpConfiguration.readTimeout: {} ms is outside {MIN_TIMEOUT_MS}..={MAX_TIMEOUT_MS}",
                h.read_timeout_ms
            ),
        ));
    }
    if let Some(ms) = h.call_timeout_ms {
        if !(MIN_TIMEOUT_MS..=MAX_CALL_TIMEOUT_MS).contains(&ms) {
            return Err(Error::config(
                "CallTimeoutNotValid",
                format!(
                    "Call Timeout not valid. {file}httpConfiguration.callTimeout: {ms} ms is outside {MIN_TIMEOUT_MS}..={MAX_CALL_TIMEOUT_MS}"
                ),
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

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Expand a leading `~` (alone or followed by `/`) to the home directory.
pub fn expand_tilde(p: &Path) -> PathBuf {
    let s = p.to_string_lossy();
    if s == "~" {
        return home_dir().unwrap_or_else(|| p.to_path_buf());
    }
    if let Some(rest) = s.strip_prefix("~/") {
        if let Some(h) = home_dir() {
            return h.join(rest);
        }
    }
    p.to_path_buf()
}

#[cfg(unix)]
fn writable_by_others_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o022 != 0).then(|| {
        format!(
            "IDaaS config file {} is writable by group or others (mode {:o}); anyone who can change it can redirect the token endpoint. Consider chmod 600.",
            path.display(),
            mode & 0o777
        )
    })
}

#[cfg(not(unix))]
fn writable_by_others_warning(_path: &Path) -> Option<String> {
    None
}

/// Read an environment variable named by the configuration key `field` (for error messages).
/// Unset, empty or non-UTF-8 → [`ErrorKind::Credential`] error `EnvironmentVariableNotSet`.
pub(crate) fn read_secret_env(field: &str, name: &str) -> Result<SecretString> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(SecretString::new(v)),
        Ok(_) => Err(Error::new(
            ErrorKind::Credential,
            "EnvironmentVariableNotSet",
            format!("{field}: environment variable {name} is empty; set it to the secret value"),
        )),
        Err(std::env::VarError::NotPresent) => Err(Error::new(
            ErrorKind::Credential,
            "EnvironmentVariableNotSet",
            format!("{field}: environment variable {name} is not set"),
        )),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::new(
            ErrorKind::Credential,
            "EnvironmentVariableNotSet",
            format!("{field}: environment variable {name} is not valid UTF-8"),
        )),
    }
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
