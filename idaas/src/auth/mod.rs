//! Client authentication: private keys, client-assertion JWTs, federated sources (core.md §4, §6).
//!
//! [`ClientAuth`] is the authentication of one [`crate::Client`], built once from the configuration:
//! it reads the private key (PRIVATE_KEY_JWT, PCA) **once**, at creation (§2.6), and creates the
//! federated sources (OIDC file, ECS document cache). [`ClientAuth::apply`] appends the
//! authentication fields of §5.2 / §7.2 to a request; it is called for every request, so the client
//! secret is re-read from its environment variable each time (rotation takes effect at the next
//! refresh) and a fresh assertion (new `jti`, `iat`) is signed each time.
//!
//! `CLIENT_SECRET_BASIC` encodes the credentials as `authnConfiguration.clientSecretBasicEncoding`
//! says: `raw` (default, the reference's) is base64 of `id:secret` as is; `form` form-encodes id
//! and secret first (RFC 6749 §2.3.1), with the same encoding as the request body. The audience of
//! client assertions is chosen by the caller from the configuration
//! ([`crate::config::Config::client_assertion_audience`]).

pub mod ecs;
pub mod jwt;
pub mod keys;
pub mod oidc;

use crate::cache::CachePolicy;
use crate::clock::SharedClock;
use crate::config::{AuthnMethod, BasicEncoding, Config, IdentityType, SecretSupplier};
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
    /// `CLIENT_SECRET_BASIC`, with the encoding of the credentials (`clientSecretBasicEncoding`).
    SecretBasic(SecretSource, BasicEncoding),
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

/// The `Authorization` value `Basic base64(id ":" secret)`, the id and secret form-encoded first
/// for [`BasicEncoding::Form`]. Every buffer is allocated at its final size (no reallocation leaves
/// an unzeroed copy) and wiped on drop.
fn basic_authorization(
    client_id: &str,
    secret: &SecretString,
    encoding: BasicEncoding,
) -> (SecretString, SecretString) {
    let raw = match encoding {
        BasicEncoding::Raw => {
            let mut raw = String::with_capacity(client_id.len() + 1 + secret.len());
            raw.push_str(client_id);
            raw.push(':');
            raw.push_str(secret.expose());
            SecretString::new(raw)
        }
        BasicEncoding::Form => {
            // The form encoding turns one byte into at most three characters.
            let mut raw = String::with_capacity(3 * (client_id.len() + secret.len()) + 1);
            crate::token::form_encode_into(&mut raw, client_id);
            raw.push(':');
            crate::token::form_encode_into(&mut raw, secret.expose());
            SecretString::new(raw)
        }
    };
    let b64 = SecretString::new(
        base64::engine::general_purpose::STANDARD.encode(raw.expose().as_bytes()),
    );
    let mut header = String::with_capacity(6 + b64.len());
    header.push_str("Basic ");
    header.push_str(b64.expose());
    (SecretString::new(header), b64)
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
            AuthnMethod::ClientSecretBasic => {
                ClientAuth::SecretBasic(secret(), a.client_secret_basic_encoding)
            }
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
            ClientAuth::SecretBasic(..) => AuthnMethod::ClientSecretBasic,
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
    /// `req.secrets` for redaction. `aud` is the `aud` claim of client assertions
    /// ([`crate::config::Config::client_assertion_audience`]: the token endpoint URL by default).
    pub fn apply(
        &self,
        client_id: &str,
        aud: &str,
        now_secs: u64,
        req: &mut TokenRequest,
    ) -> Result<()> {
        match self {
            ClientAuth::SecretBasic(src, encoding) => {
                let secret = src.read()?;
                let (header, b64) = basic_authorization(client_id, &secret, *encoding);
                // A server may echo the header, the base64 credential, or decode it and echo the
                // secret.
                req.secrets.add(&secret).add(&b64);
                req.headers.push(("Authorization", header));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(header: &SecretString) -> String {
        let b64 = header.expose().strip_prefix("Basic ").unwrap();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn basic_raw_is_the_reference_form() {
        let s = SecretString::new("s3cr3t:with/special+chars");
        let (h, b64) = basic_authorization("app_abc", &s, BasicEncoding::Raw);
        // The example of core.md §5.2.
        assert_eq!(
            h.expose(),
            "Basic YXBwX2FiYzpzM2NyM3Q6d2l0aC9zcGVjaWFsK2NoYXJz"
        );
        assert_eq!(h.expose().strip_prefix("Basic "), Some(b64.expose()));
    }

    #[test]
    fn basic_form_encodes_id_and_secret_first() {
        let s = SecretString::new("a+b %c:d/é");
        let (h, _) = basic_authorization("app x:1", &s, BasicEncoding::Form);
        assert_eq!(decoded(&h), "app+x%3A1:a%2Bb+%25c%3Ad%2F%C3%A9");
        let (h, _) = basic_authorization("app x:1", &s, BasicEncoding::Raw);
        assert_eq!(decoded(&h), "app x:1:a+b %c:d/é");
    }
}
