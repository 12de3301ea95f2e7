//! Client authentication: private keys, client-assertion JWTs, federated sources (core.md §4, §6).
//!
//! [`ClientAuth`] is the authentication of one [`crate::Client`], built once from the configuration:
//! it reads the private key (PRIVATE_KEY_JWT, PCA) **once**, at creation (§2.6), and creates the
//! federated sources (OIDC file, ECS document cache). [`ClientAuth::apply`] appends the
//! authentication fields of §5.2 / §7.2 to a request; it is called for every request, so the client
//! secret is re-read from its environment variable each time (rotation takes effect at the next
//! refresh) and a fresh assertion (new `jti`, `iat`) is signed each time.

pub mod ecs;
pub mod jwt;
pub mod keys;
pub mod oidc;

use crate::cache::CachePolicy;
use crate::clock::SharedClock;
use crate::config::{AuthnMethod, Config, IdentityType, SecretSupplier};
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::secret::SecretString;
use crate::token::{
    TokenRequest, ASSERTION_TYPE_ID_TOKEN, ASSERTION_TYPE_JWT_BEARER, ASSERTION_TYPE_PKCS7,
    ASSERTION_TYPE_X509_JWT,
};
use base64::Engine;
use std::fmt;
use std::sync::Arc;

pub use ecs::EcsDocumentSource;
pub use keys::{KeyAlgorithm, PrivateKey};
pub use oidc::OidcFileSource;

/// Where the client secret comes from (read at every request).
#[derive(Clone)]
pub enum SecretSource {
    /// An environment variable, named by the configuration key `field`.
    Env {
        /// The configuration key that named the variable (for error messages).
        field: &'static str,
        /// The variable name.
        name: String,
    },
    /// An application supplier.
    Supplier(SecretSupplier),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env { name, .. } => f.debug_tuple("Env").field(name).finish(),
            SecretSource::Supplier(_) => f.write_str("Supplier(..)"),
        }
    }
}

impl SecretSource {
    /// Read the secret now. Empty secrets are refused.
    pub fn read(&self) -> Result<SecretString> {
        let s = match self {
            SecretSource::Env { field, name } => crate::config::read_secret_env(field, name)?,
            SecretSource::Supplier(f) => f()?,
        };
        if s.is_empty() {
            return Err(Error::credential(
                "ClientSecretEmpty",
                "clientSecret is blank: the client secret supplier returned an empty secret",
            ));
        }
        Ok(s)
    }
}

/// The client authentication of one client (module docs). `Debug` never shows secrets.
#[derive(Clone, Debug)]
pub enum ClientAuth {
    /// `CLIENT_SECRET_BASIC`.
    SecretBasic(SecretSource),
    /// `CLIENT_SECRET_POST`.
    SecretPost(SecretSource),
    /// `CLIENT_SECRET_JWT` (HS256 assertion).
    SecretJwt(SecretSource),
    /// `PRIVATE_KEY_JWT`.
    PrivateKeyJwt(Arc<PrivateKey>),
    /// `PCA`.
    Pca {
        /// Signing key of the certificate.
        key: Arc<PrivateKey>,
        /// `applicationFederatedCredentialName`.
        federated_credential_name: String,
        /// Leaf certificate PEM.
        certificate: String,
        /// Intermediate certificates PEM.
        chain: String,
    },
    /// `PKCS7` on ECS.
    Pkcs7 {
        /// `applicationFederatedCredentialName`.
        federated_credential_name: String,
        /// The document source.
        source: Arc<EcsDocumentSource>,
    },
    /// `OIDC` on Kubernetes.
    Oidc {
        /// `applicationFederatedCredentialName`.
        federated_credential_name: String,
        /// The token file source.
        source: Arc<OidcFileSource>,
    },
}

fn read_private_key(cfg: &Config) -> Result<Arc<PrivateKey>> {
    let a = &cfg.authn;
    let pem = match &a.private_key_pem {
        Some(p) => p.clone(),
        None => {
            let name = a.private_key_env_var_name.as_deref().unwrap_or_default();
            crate::config::read_secret_env("authnConfiguration.privateKeyEnvVarName", name)?
        }
    };
    PrivateKey::from_pem(pem.expose())
        .map(Arc::new)
        .map_err(|e| {
            let code = e.code().to_string();
            let from = match &a.private_key_env_var_name {
                Some(n) if a.private_key_pem.is_none() => {
                    format!(" (authnConfiguration.privateKeyEnvVarName: environment variable {n})")
                }
                _ => String::new(),
            };
            Error::credential(code, format!("{}{from}", e.message()))
        })
}

fn unsupported(m: impl fmt::Display) -> Error {
    Error::config(
        "UnsupportedAuthenticationMethod",
        format!("Unsupported authentication method: {m}"),
    )
}

impl ClientAuth {
    /// Build the authentication of `cfg` (reads the private key now). `NONE`, `PLUGIN` and
    /// `identityType: HUMAN` have no client authentication and fail with
    /// `UnsupportedAuthenticationMethod`.
    ///
    /// `ecs_metadata_base` overrides the ECS metadata base URL for `PKCS7` (else the environment
    /// variable `IDAAS_ECS_METADATA_ENDPOINT`, else `http://100.100.100.200`).
    pub fn from_config(
        cfg: &Config,
        http: &HttpClient,
        clock: &SharedClock,
        policy: &CachePolicy,
        ecs_metadata_base: Option<&str>,
    ) -> Result<ClientAuth> {
        let a = &cfg.authn;
        if a.identity_type == IdentityType::Human {
            return Err(unsupported(
                "identityType HUMAN (the device flow is not implemented)",
            ));
        }
        let secret = || match &a.client_secret_supplier {
            Some(s) => SecretSource::Supplier(s.clone()),
            None => SecretSource::Env {
                field: "authnConfiguration.clientSecretEnvVarName",
                name: a.client_secret_env_var_name.clone().unwrap_or_default(),
            },
        };
        let fcn = || {
            a.application_federated_credential_name
                .clone()
                .unwrap_or_default()
        };
        Ok(match a.authn_method {
            AuthnMethod::None => return Err(unsupported("NONE")),
            AuthnMethod::Plugin => return Err(unsupported("PLUGIN has no client authentication")),
            AuthnMethod::ClientSecretBasic => ClientAuth::SecretBasic(secret()),
            AuthnMethod::ClientSecretPost => ClientAuth::SecretPost(secret()),
            AuthnMethod::ClientSecretJwt => ClientAuth::SecretJwt(secret()),
            AuthnMethod::PrivateKeyJwt => ClientAuth::PrivateKeyJwt(read_private_key(cfg)?),
            AuthnMethod::Pca => ClientAuth::Pca {
                key: read_private_key(cfg)?,
                federated_credential_name: fcn(),
                certificate: a.client_x509_certificate.clone().unwrap_or_default(),
                chain: a.x509_cert_chains.clone().unwrap_or_default(),
            },
            AuthnMethod::Pkcs7 => {
                let policy = CachePolicy {
                    async_refresh: false,
                    ..policy.clone()
                };
                let source = match ecs_metadata_base {
                    Some(base) => EcsDocumentSource::with_base(
                        http.clone(),
                        &cfg.idaas_instance_id,
                        clock.clone(),
                        policy,
                        base,
                    ),
                    None => EcsDocumentSource::new(
                        http.clone(),
                        &cfg.idaas_instance_id,
                        clock.clone(),
                        policy,
                    ),
                };
                ClientAuth::Pkcs7 {
                    federated_credential_name: fcn(),
                    source: Arc::new(source),
                }
            }
            AuthnMethod::Oidc => ClientAuth::Oidc {
                federated_credential_name: fcn(),
                source: Arc::new(OidcFileSource::from_config(a, clock.clone())),
            },
        })
    }

    /// The method this authentication implements.
    pub fn method(&self) -> AuthnMethod {
        match self {
            ClientAuth::SecretBasic(_) => AuthnMethod::ClientSecretBasic,
            ClientAuth::SecretPost(_) => AuthnMethod::ClientSecretPost,
            ClientAuth::SecretJwt(_) => AuthnMethod::ClientSecretJwt,
            ClientAuth::PrivateKeyJwt(_) => AuthnMethod::PrivateKeyJwt,
            ClientAuth::Pca { .. } => AuthnMethod::Pca,
            ClientAuth::Pkcs7 { .. } => AuthnMethod::Pkcs7,
            ClientAuth::Oidc { .. } => AuthnMethod::Oidc,
        }
    }

    /// Append the client-authentication fields (§5.2 without `grant_type`/`scope`) and headers
    /// to `req`, and add every secret sent (client secret, `Basic` credential, assertion) to
    /// `req.secrets` for redaction. `aud` is the token endpoint URL (assertion audience).
    pub fn apply(
        &self,
        client_id: &str,
        aud: &str,
        now_secs: u64,
        req: &mut TokenRequest,
    ) -> Result<()> {
        match self {
            ClientAuth::SecretBasic(src) => {
                let secret = src.read()?;
                // Exact-capacity buffers (no reallocation leaving unzeroed copies), wiped on drop.
                let mut raw = String::with_capacity(client_id.len() + 1 + secret.len());
                raw.push_str(client_id);
                raw.push(':');
                raw.push_str(secret.expose());
                let raw = SecretString::new(raw);
                let b64 = SecretString::new(
                    base64::engine::general_purpose::STANDARD.encode(raw.expose().as_bytes()),
                );
                let mut header = String::with_capacity(6 + b64.len());
                header.push_str("Basic ");
                header.push_str(b64.expose());
                // A server may echo the header, the base64 credential, or decode it and echo the
                // secret.
                req.secrets.add(&secret).add(&b64);
                req.headers
                    .push(("Authorization", SecretString::new(header)));
                req.form.push("client_id", client_id);
            }
            ClientAuth::SecretPost(src) => {
                let secret = src.read()?;
                req.form.push("client_id", client_id);
                req.push_secret("client_secret", &secret);
            }
            ClientAuth::SecretJwt(src) => {
                let secret = src.read().map_err(|e| {
                    Error::credential(
                        e.code().to_string(),
                        format!("Failed to generate client assertion: {}", e.message()),
                    )
                })?;
                let jwt = jwt::assertion_hs256(&secret, client_id, aud, now_secs)?;
                // The secret itself is not sent, but a server could quote it in a message.
                req.secrets.add(&secret);
                req.form
                    .push("client_id", client_id)
                    .push("client_assertion_type", ASSERTION_TYPE_JWT_BEARER);
                req.push_secret("client_assertion", &jwt);
            }
            ClientAuth::PrivateKeyJwt(key) => {
                let jwt = jwt::assertion_with_key(key, client_id, aud, now_secs)?;
                req.form
                    .push("client_id", client_id)
                    .push("client_assertion_type", ASSERTION_TYPE_JWT_BEARER);
                req.push_secret("client_assertion", &jwt);
            }
            ClientAuth::Pca {
                key,
                federated_credential_name,
                certificate,
                chain,
            } => {
                let jwt = jwt::assertion_with_key(key, client_id, aud, now_secs)?;
                req.form
                    .push("client_id", client_id)
                    .push(
                        "application_federated_credential_name",
                        federated_credential_name,
                    )
                    .push("client_assertion_type", ASSERTION_TYPE_X509_JWT);
                req.push_secret("client_assertion", &jwt);
                req.form
                    .push("client_x509", certificate)
                    .push("client_x509_chain", chain);
            }
            ClientAuth::Pkcs7 {
                federated_credential_name,
                source,
            } => {
                let doc = source.document()?;
                req.form
                    .push("client_id", client_id)
                    .push(
                        "application_federated_credential_name",
                        federated_credential_name,
                    )
                    .push("client_assertion_type", ASSERTION_TYPE_PKCS7);
                req.push_secret("client_assertion", &doc);
            }
            ClientAuth::Oidc {
                federated_credential_name,
                source,
            } => {
                let tok = source.token()?;
                req.form
                    .push("client_id", client_id)
                    .push(
                        "application_federated_credential_name",
                        federated_credential_name,
                    )
                    .push("client_assertion_type", ASSERTION_TYPE_ID_TOKEN);
                req.push_secret("client_assertion", &tok);
            }
        }
        Ok(())
    }
}
