//! The Alibaba Cloud default credential chain (alibaba-plugin.md §2): six sources asked in order,
//! the first that yields a key wins.
//!
//! | # | source | `x-acs-credentials-provider` | in the chain when |
//! |---|---|---|---|
//! | 1 | environment variables | `default/env` | always |
//! | 2 | OIDC role (RRSA): token file → STS `AssumeRoleWithOIDC` | `default/oidc_role_arn` | the role ARN, provider ARN and token file variables are all set |
//! | 3 | aliyun CLI profile `<home>/.aliyun/config.json` | `default/cli_profile/<inner>` | always (fails when `ALIBABA_CLOUD_CLI_PROFILE_DISABLED` is `true`) |
//! | 4 | INI file `ALIBABA_CLOUD_CREDENTIALS_FILE` or `<home>/.alibabacloud/credentials.ini` | `default/profile/<inner>` | always |
//! | 5 | ECS RAM role from the instance metadata service | `default/ecs_ram_role` | unless `ALIBABA_CLOUD_ECS_METADATA_DISABLED` is `true` |
//! | 6 | credentials URI | `default/credential_uri` | a URI is configured |
//!
//! The chain is built once per client from a snapshot of the environment ([`ChainEnv`]); the
//! resolved key is cached by the plugin (see `mod.rs`). When a refresh is due, the source that won
//! last time is asked first; only if it fails is the whole chain walked again (so a credentials
//! URI behind a disabled-in-practice metadata service does not pay the metadata timeouts on every
//! refresh). When every source fails, the error lists each source with the reason — which variable
//! is missing, which file could not be read, what a service answered — and never a value.

use super::env::ChainEnv;
use super::profile::{self, OidcRoleSpec, ProfileSpec};
use super::remote::{self, Metadata, OidcRequest, TempCredential};
use crate::clock::SharedClock;
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::secret::SecretString;
use crate::server_text::{self, TextRule};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The code of the error when no source of the chain yields a key.
pub(crate) const NO_CREDENTIALS: &str = "AlibabaCloudCredentialsNotFound";
/// Default ECS metadata service.
pub(crate) const DEFAULT_METADATA_ENDPOINT: &str = "http://100.100.100.200";

/// An Alibaba Cloud key, as the OpenAPI signer needs it.
#[derive(Clone)]
pub(crate) struct AlibabaCredential {
    pub access_key_id: String,
    pub access_key_secret: SecretString,
    /// The STS security token of temporary credentials.
    pub security_token: Option<SecretString>,
    /// Expiry of temporary credentials (epoch seconds); `None` for a key without one.
    pub expiration: Option<u64>,
    /// The `x-acs-credentials-provider` value: the source that produced it.
    pub provider: String,
}

impl std::fmt::Debug for AlibabaCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlibabaCredential")
            .field("provider", &self.provider)
            .field("expiration", &self.expiration)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "** redacted **"),
            )
            .finish_non_exhaustive()
    }
}

impl AlibabaCredential {
    fn from_temp(t: TempCredential, provider: String) -> AlibabaCredential {
        AlibabaCredential {
            access_key_id: t.access_key_id,
            access_key_secret: t.access_key_secret,
            security_token: Some(t.security_token),
            expiration: Some(t.expiration),
            provider,
        }
    }
}

/// One source of the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Source {
    Env,
    OidcRole,
    CliProfile,
    ProfileFile,
    EcsRamRole,
    CredentialsUri,
}

impl Source {
    /// Its `x-acs-credentials-provider` name (profiles append their inner provider).
    pub fn name(self) -> &'static str {
        match self {
            Source::Env => "default/env",
            Source::OidcRole => "default/oidc_role_arn",
            Source::CliProfile => "default/cli_profile",
            Source::ProfileFile => "default/profile",
            Source::EcsRamRole => "default/ecs_ram_role",
            Source::CredentialsUri => "default/credential_uri",
        }
    }

    /// What it is, for people.
    pub fn label(self) -> &'static str {
        match self {
            Source::Env => "environment variables",
            Source::OidcRole => "OIDC role",
            Source::CliProfile => "aliyun CLI profile",
            Source::ProfileFile => "credentials file",
            Source::EcsRamRole => "ECS RAM role",
            Source::CredentialsUri => "credentials URI",
        }
    }
}

/// Where the chain's services are.
#[derive(Clone, Debug, Default)]
pub(crate) struct Endpoints {
    /// STS base URL (`https://host[:port]`); `None`: derived from the region variables.
    pub sts: Option<String>,
    /// ECS metadata base URL.
    pub metadata: String,
    /// The credentials URI, when configured.
    pub credentials_uri: Option<String>,
}

/// The chain (module docs).
pub(crate) struct Chain {
    env: ChainEnv,
    endpoints: Endpoints,
    http: HttpClient,
    clock: SharedClock,
    sources: Vec<Source>,
    /// Sources left out, with the reason (for the "nothing found" error).
    skipped: Vec<(Source, String)>,
    /// Index in `sources` of the last winner (`usize::MAX`: none yet).
    winner: AtomicUsize,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("sources", &self.sources)
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

const OIDC_VARS: [&str; 3] = [
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
];

/// A problem of one source, as the "nothing found" error lists it.
type Miss = (Source, String);

/// `label (name): why`, the line of one source in the "nothing found" error.
fn miss(s: Source, why: &str) -> Miss {
    (s, format!("{} ({}): {why}", s.label(), s.name()))
}

/// The text of a source's failure: its message for the chain's own failures, the whole error
/// (code, status, request id) for a service's.
fn why(e: &Error) -> String {
    if e.code() == NO_CREDENTIALS {
        e.message().to_string()
    } else {
        e.to_string()
    }
}

impl Chain {
    /// The chain for `env` (sources chosen as the module docs say).
    pub fn new(env: ChainEnv, endpoints: Endpoints, http: HttpClient, clock: SharedClock) -> Chain {
        let mut sources = vec![Source::Env];
        let mut skipped = Vec::new();
        let unset: Vec<&str> = OIDC_VARS
            .iter()
            .copied()
            .filter(|v| env.get(v).is_none())
            .collect();
        if unset.is_empty() {
            sources.push(Source::OidcRole);
        } else {
            skipped.push(miss(
                Source::OidcRole,
                &format!("not configured ({} not set)", unset.join(", ")),
            ));
        }
        sources.push(Source::CliProfile);
        sources.push(Source::ProfileFile);
        if env.is_true("ALIBABA_CLOUD_ECS_METADATA_DISABLED") {
            skipped.push(miss(
                Source::EcsRamRole,
                "disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED",
            ));
        } else {
            sources.push(Source::EcsRamRole);
        }
        if endpoints.credentials_uri.is_some() {
            sources.push(Source::CredentialsUri);
        } else {
            skipped.push(miss(
                Source::CredentialsUri,
                "not configured (ALIBABA_CLOUD_CREDENTIALS_URI not set)",
            ));
        }
        Chain {
            env,
            endpoints,
            http,
            clock,
            sources,
            skipped,
            winner: AtomicUsize::new(usize::MAX),
        }
    }

    /// The sources in the chain, in order.
    #[cfg(test)]
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// A key from the first source that has one (module docs).
    pub fn resolve(&self) -> Result<AlibabaCredential> {
        let last = self.winner.load(Ordering::Relaxed);
        let mut last_error = None;
        if let Some(&s) = self.sources.get(last) {
            match self.ask(s) {
                Ok(c) => return Ok(c),
                Err(e) => {
                    crate::diag::event!(
                        Info,
                        "Alibaba Cloud credentials: {} ({}) no longer yields a key ({e}); walking the chain again",
                        s.label(),
                        s.name()
                    );
                    last_error = Some(e);
                }
            }
        }
        let mut misses: Vec<Miss> = Vec::new();
        for (i, &s) in self.sources.iter().enumerate() {
            // The last winner was just asked: its answer stands.
            let answer = match (i == last, last_error.take()) {
                (true, Some(e)) => Err(e),
                (_, kept) => {
                    last_error = kept;
                    self.ask(s)
                }
            };
            match answer {
                Ok(c) => {
                    if self.winner.swap(i, Ordering::Relaxed) != i {
                        crate::diag::event!(
                            Info,
                            "Alibaba Cloud credentials from {} ({})",
                            s.label(),
                            c.provider
                        );
                    }
                    return Ok(c);
                }
                Err(e) => {
                    crate::diag::event!(
                        Debug,
                        "Alibaba Cloud credentials: {} ({}): {e}",
                        s.label(),
                        s.name()
                    );
                    misses.push(miss(s, &why(&e)));
                }
            }
        }
        misses.extend(self.skipped.iter().cloned());
        // In chain order, the sources left out among them.
        misses.sort_by_key(|(s, _)| *s);
        let lines: Vec<String> = misses.into_iter().map(|(_, m)| m).collect();
        Err(Error::credential(
            NO_CREDENTIALS,
            format!(
                "no Alibaba Cloud credentials for PLUGIN {}; the chain's sources, in order: [{}]",
                super::PLUGIN_NAME,
                lines.join("; ")
            ),
        ))
    }

    fn ask(&self, s: Source) -> Result<AlibabaCredential> {
        match s {
            Source::Env => self.env_key(),
            Source::OidcRole => {
                let spec = OidcRoleSpec {
                    role_arn: self.var(OIDC_VARS[0])?.to_string(),
                    provider_arn: self.var(OIDC_VARS[1])?.to_string(),
                    token_file: PathBuf::from(self.var(OIDC_VARS[2])?),
                    session_name: self
                        .env
                        .get("ALIBABA_CLOUD_ROLE_SESSION_NAME")
                        .map(str::to_string),
                    policy: None,
                    duration_secs: None,
                    sts_region: None,
                    vpc: false,
                };
                self.oidc_role(&spec, s.name().to_string())
            }
            Source::CliProfile => {
                if self.env.is_true("ALIBABA_CLOUD_CLI_PROFILE_DISABLED") {
                    return Err(fail("disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED"));
                }
                let path = self.home_file(".aliyun/config.json")?;
                let bytes = read_file(&path, "aliyun CLI configuration")?;
                let parsed = profile::cli_profile(&bytes, self.env.get("ALIBABA_CLOUD_PROFILE"));
                crate::secret::wipe_bytes(bytes);
                let spec = parsed.map_err(|m| fail(format!("{}: {m}", path.display())))?;
                self.profile_key(spec, s.name())
            }
            Source::ProfileFile => {
                let path = match self.env.get("ALIBABA_CLOUD_CREDENTIALS_FILE") {
                    Some(p) => PathBuf::from(p),
                    None => self.home_file(".alibabacloud/credentials.ini")?,
                };
                let bytes = read_file(&path, "Alibaba Cloud credentials file")?;
                let text = String::from_utf8(bytes).map_err(|e| {
                    crate::secret::wipe_bytes(e.into_bytes());
                    fail(format!("{}: not UTF-8 text", path.display()))
                })?;
                let section = self.env.get("ALIBABA_CLOUD_PROFILE").unwrap_or("default");
                let parsed = profile::ini_profile(&text, section);
                crate::secret::wipe(text);
                let spec = parsed.map_err(|m| fail(format!("{}: {m}", path.display())))?;
                self.profile_key(spec, s.name())
            }
            Source::EcsRamRole => {
                let role = self
                    .env
                    .get("ALIBABA_CLOUD_ECS_METADATA")
                    .map(str::to_string);
                self.ecs_role(role.as_deref(), s.name().to_string())
            }
            Source::CredentialsUri => {
                let url = self
                    .endpoints
                    .credentials_uri
                    .as_deref()
                    .ok_or_else(|| fail("not configured"))?;
                let t = remote::credentials_uri(&self.http, url)?;
                self.temporary(t, s.name().to_string())
            }
        }
    }

    fn var(&self, name: &str) -> Result<&str> {
        self.env
            .get(name)
            .ok_or_else(|| fail(format!("{name} is not set")))
    }

    fn home_file(&self, relative: &str) -> Result<PathBuf> {
        self.env.home().map(|h| h.join(relative)).ok_or_else(|| {
            fail(format!(
                "the home directory is unknown (HOME is not set), so ~/{relative} cannot be found"
            ))
        })
    }

    fn env_key(&self) -> Result<AlibabaCredential> {
        let id = self.var("ALIBABA_CLOUD_ACCESS_KEY_ID")?;
        let secret = self
            .env
            .secret("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            .ok_or_else(|| fail("ALIBABA_CLOUD_ACCESS_KEY_SECRET is not set"))?;
        let token = self.env.secret("ALIBABA_CLOUD_SECURITY_TOKEN");
        static_key(
            id,
            secret,
            token,
            Source::Env.name().to_string(),
            (
                "ALIBABA_CLOUD_ACCESS_KEY_ID",
                "ALIBABA_CLOUD_SECURITY_TOKEN",
            ),
        )
    }

    fn profile_key(&self, spec: ProfileSpec, base: &str) -> Result<AlibabaCredential> {
        let name = format!("{base}/{}", spec.inner_name());
        match spec {
            ProfileSpec::AccessKey { id, secret } => {
                static_key(&id, secret, None, name, ("access_key_id", "sts_token"))
            }
            ProfileSpec::StsToken { id, secret, token } => static_key(
                &id,
                secret,
                Some(token),
                name,
                ("access_key_id", "sts_token"),
            ),
            ProfileSpec::EcsRamRole { role_name } => {
                if self.env.is_true("ALIBABA_CLOUD_ECS_METADATA_DISABLED") {
                    return Err(fail(
                        "the profile asks for the ECS RAM role, but ALIBABA_CLOUD_ECS_METADATA_DISABLED is true",
                    ));
                }
                self.ecs_role(role_name.as_deref(), name)
            }
            ProfileSpec::OidcRole(o) => self.oidc_role(&o, name),
        }
    }

    fn temporary(&self, t: TempCredential, provider: String) -> Result<AlibabaCredential> {
        let now = self.clock.now_secs();
        if t.expiration <= now {
            return Err(fail(format!(
                "the temporary credentials it returned expired at {} (now {}); check the system clock",
                super::time::format_utc(t.expiration),
                super::time::format_utc(now)
            )));
        }
        Ok(AlibabaCredential::from_temp(t, provider))
    }

    fn ecs_role(&self, role: Option<&str>, provider: String) -> Result<AlibabaCredential> {
        let md = Metadata {
            http: &self.http,
            base: &self.endpoints.metadata,
            imdsv1_disabled: self.env.is_true("ALIBABA_CLOUD_IMDSV1_DISABLED"),
        };
        let (_, t) = md.role_credentials(role)?;
        self.temporary(t, provider)
    }

    /// The STS base URL: the configured one, else from the region (`sts.<region>.aliyuncs.com`,
    /// `sts-vpc.<region>.aliyuncs.com` with the VPC switch), else `sts.aliyuncs.com`.
    fn sts_base(&self, spec: &OidcRoleSpec) -> Result<String> {
        if let Some(s) = &self.endpoints.sts {
            return Ok(s.clone());
        }
        let region = spec
            .sts_region
            .as_deref()
            .or_else(|| self.env.get("ALIBABA_CLOUD_STS_REGION"))
            .map(str::trim);
        let vpc = spec.vpc || self.env.is_true("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED");
        match region {
            None => Ok("https://sts.aliyuncs.com".to_string()),
            // A region id becomes part of a host name: letters, digits and '-' only, so that no
            // value can point the OIDC token at another host.
            Some(r) if !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
                Ok(format!(
                    "https://sts{}.{}.aliyuncs.com",
                    if vpc { "-vpc" } else { "" },
                    r.to_ascii_lowercase()
                ))
            }
            Some(_) => Err(fail(
                "the STS region (ALIBABA_CLOUD_STS_REGION or the profile's sts_region) is not a region id (letters, digits and '-')",
            )),
        }
    }

    fn oidc_role(&self, spec: &OidcRoleSpec, provider: String) -> Result<AlibabaCredential> {
        let bytes = read_file(&spec.token_file, "OIDC token file")?;
        let text = String::from_utf8(bytes).map_err(|e| {
            crate::secret::wipe_bytes(e.into_bytes());
            fail(format!(
                "OIDC token file {}: not UTF-8 text",
                spec.token_file.display()
            ))
        })?;
        // Trailing whitespace (a newline written by an editor or `echo`) is not part of a JWT,
        // as for the OIDC method's token file (core.md §6.1).
        let token = SecretString::new(text.trim_end().to_string());
        crate::secret::wipe(text);
        if token.is_empty() {
            return Err(fail(format!(
                "OIDC token file {} is empty",
                spec.token_file.display()
            )));
        }
        let now = self.clock.now_secs();
        let session = spec
            .session_name
            .clone()
            .unwrap_or_else(|| format!("idaas-{now}"));
        let base = self.sts_base(spec)?;
        let t = remote::assume_role_with_oidc(
            &self.http,
            &base,
            &OidcRequest {
                role_arn: &spec.role_arn,
                provider_arn: &spec.provider_arn,
                oidc_token: &token,
                session_name: &session,
                policy: spec.policy.as_deref(),
                duration_secs: spec.duration_secs.unwrap_or(remote::DEFAULT_DURATION_SECS),
            },
            now,
        )?;
        self.temporary(t, provider)
    }
}

/// A source's failure (its message names no value).
fn fail(msg: impl Into<String>) -> Error {
    Error::credential(NO_CREDENTIALS, msg)
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    crate::fsread::read_regular_file(path, what).map_err(|e| {
        if e.is_not_found() {
            fail(format!("{what} {} does not exist", path.display()))
        } else {
            fail(e.to_string())
        }
    })
}

/// A long-term key (or an STS key given with its token and no expiry), checked: the id and the
/// token go into request headers, so they must be visible ASCII. `names` are the id's and the
/// token's variable or field names, for the message.
fn static_key(
    id: &str,
    secret: SecretString,
    token: Option<SecretString>,
    provider: String,
    names: (&str, &str),
) -> Result<AlibabaCredential> {
    let id = id.trim();
    if let Some(why) = server_text::violation(id, TextRule::Visible) {
        return Err(fail(format!("{} {why}", names.0)));
    }
    if let Some(t) = &token {
        if let Some(why) = server_text::violation(t.expose(), TextRule::Visible) {
            return Err(fail(format!("{} {why}", names.1)));
        }
    }
    Ok(AlibabaCredential {
        access_key_id: id.to_string(),
        access_key_secret: secret,
        security_token: token,
        expiration: None,
        provider,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chain over `vars` only; the ECS source is disabled unless `vars` says otherwise, so no
    /// test reaches a network service.
    fn chain(vars: &[(&str, &str)], endpoints: Endpoints) -> Chain {
        let mut all: Vec<(String, SecretString)> = vec![(
            "ALIBABA_CLOUD_ECS_METADATA_DISABLED".into(),
            SecretString::new("true"),
        )];
        all.extend(
            vars.iter()
                .map(|(k, v)| (k.to_string(), SecretString::new(*v))),
        );
        let http = HttpClient::new(crate::http::HttpOptions::default()).unwrap();
        Chain::new(
            ChainEnv::from_vars(all),
            endpoints,
            http,
            crate::clock::system_clock(),
        )
    }

    #[test]
    fn sources_present_by_configuration() {
        let c = chain(&[], Endpoints::default());
        assert_eq!(
            c.sources(),
            [Source::Env, Source::CliProfile, Source::ProfileFile]
        );
        let c = chain(
            &[
                ("ALIBABA_CLOUD_ROLE_ARN", "r"),
                ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "p"),
                ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/t"),
                ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "false"),
            ],
            Endpoints {
                credentials_uri: Some("https://creds.invalid/x".into()),
                ..Endpoints::default()
            },
        );
        // The later value of a repeated name wins (`from_vars` collects into a map).
        assert_eq!(
            c.sources(),
            [
                Source::Env,
                Source::OidcRole,
                Source::CliProfile,
                Source::ProfileFile,
                Source::EcsRamRole,
                Source::CredentialsUri
            ]
        );
        // Two of three OIDC variables: left out, and the error says which is missing.
        let c = chain(
            &[
                ("ALIBABA_CLOUD_ROLE_ARN", "r"),
                ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/t"),
            ],
            Endpoints::default(),
        );
        assert!(!c.sources().contains(&Source::OidcRole));
        let e = c.resolve().unwrap_err();
        assert!(
            e.message().contains("OIDC role (default/oidc_role_arn): not configured (ALIBABA_CLOUD_OIDC_PROVIDER_ARN not set)"),
            "{e}"
        );
    }

    #[test]
    fn environment_keys() {
        let c = chain(
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", " LTAIenv "),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret-value"),
            ],
            Endpoints::default(),
        );
        let k = c.resolve().unwrap();
        assert_eq!(
            (k.access_key_id.as_str(), k.provider.as_str()),
            ("LTAIenv", "default/env")
        );
        assert!(k.security_token.is_none() && k.expiration.is_none());
        let c = chain(
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.x"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s"),
                ("ALIBABA_CLOUD_SECURITY_TOKEN", "sts-token-value"),
            ],
            Endpoints::default(),
        );
        let k = c.resolve().unwrap();
        assert_eq!(k.security_token.unwrap().expose(), "sts-token-value");
        // A token that cannot go into a header is refused, naming the variable only.
        let c = chain(
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s"),
                ("ALIBABA_CLOUD_SECURITY_TOKEN", "bad\ntoken-value"),
            ],
            Endpoints::default(),
        );
        let e = c.resolve().unwrap_err();
        assert!(
            e.message()
                .contains("ALIBABA_CLOUD_SECURITY_TOKEN contains a control character"),
            "{e}"
        );
        assert!(!e.message().contains("token-value"), "{e}");
    }

    #[test]
    fn nothing_found_lists_every_source_and_no_value() {
        let dir = std::env::temp_dir().join(format!("idaas-chain-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join(".aliyun")).unwrap();
        // A CLI profile of an unsupported mode whose secret must not leak.
        std::fs::write(
            dir.join(".aliyun/config.json"),
            r#"{"current":"p","profiles":[{"name":"p","mode":"RamRoleArn","access_key_id":"LTAIx","access_key_secret":"profile-secret-value"}]}"#,
        )
        .unwrap();
        let c = chain(
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIonly"),
                ("HOME", dir.to_str().unwrap()),
            ],
            Endpoints::default(),
        );
        let e = c.resolve().unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            (e.kind(), e.code()),
            (crate::ErrorKind::Credential, NO_CREDENTIALS)
        );
        let m = e.message();
        for part in [
            "environment variables (default/env): ALIBABA_CLOUD_ACCESS_KEY_SECRET is not set",
            "aliyun CLI profile (default/cli_profile):",
            "mode RamRoleArn is not supported",
            "credentials file (default/profile): Alibaba Cloud credentials file",
            ".alibabacloud/credentials.ini does not exist",
            "ECS RAM role (default/ecs_ram_role): disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED",
            "credentials URI (default/credential_uri): not configured",
        ] {
            assert!(m.contains(part), "missing {part:?} in {m}");
        }
        assert!(!m.contains("profile-secret-value"), "{m}");
        // Without HOME the profile sources say so.
        let e = chain(&[], Endpoints::default()).resolve().unwrap_err();
        assert!(e.message().contains("the home directory is unknown"), "{e}");
    }

    #[test]
    fn sts_endpoint_from_region() {
        let spec = |region: Option<&str>, vpc: bool| OidcRoleSpec {
            role_arn: "r".into(),
            provider_arn: "p".into(),
            token_file: "/t".into(),
            session_name: None,
            policy: None,
            duration_secs: None,
            sts_region: region.map(str::to_string),
            vpc,
        };
        let c = chain(&[], Endpoints::default());
        assert_eq!(
            c.sts_base(&spec(None, true)).unwrap(),
            "https://sts.aliyuncs.com"
        );
        assert_eq!(
            c.sts_base(&spec(Some("cn-Hangzhou"), false)).unwrap(),
            "https://sts.cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            c.sts_base(&spec(Some("cn-hangzhou"), true)).unwrap(),
            "https://sts-vpc.cn-hangzhou.aliyuncs.com"
        );
        // A value that would move the host elsewhere is refused.
        for bad in ["evil.invalid/x#", "a b", "x.y"] {
            assert!(c.sts_base(&spec(Some(bad), false)).is_err(), "{bad}");
        }
        let c = chain(
            &[
                ("ALIBABA_CLOUD_STS_REGION", "ap-southeast-1"),
                ("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "TRUE"),
            ],
            Endpoints::default(),
        );
        assert_eq!(
            c.sts_base(&spec(None, false)).unwrap(),
            "https://sts-vpc.ap-southeast-1.aliyuncs.com"
        );
        let c = chain(
            &[("ALIBABA_CLOUD_STS_REGION", "cn-hangzhou")],
            Endpoints {
                sts: Some("https://127.0.0.1:9".into()),
                ..Endpoints::default()
            },
        );
        assert_eq!(
            c.sts_base(&spec(None, false)).unwrap(),
            "https://127.0.0.1:9"
        );
    }
}
