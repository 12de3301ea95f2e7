//! The fixtures file: instance id, clients, Developer API credentials and credential providers.

use crate::jwt::PublicKeyInfo;
use serde_json::{Map, Value};
use std::path::Path;

/// The built-in fixtures (`emulator/fixtures/default.json`).
const DEFAULT_JSON: &str = include_str!("../fixtures/default.json");

/// Public keys added to the built-in client `app_pkjwt`.
const DEFAULT_PUBLIC_KEYS: [&str; 5] = [
    include_str!("../fixtures/keys/rsa2048_pub.pem"),
    include_str!("../fixtures/keys/rsa3072_pub.pem"),
    include_str!("../fixtures/keys/rsa4096_pub.pem"),
    include_str!("../fixtures/keys/ec256_pub.pem"),
    include_str!("../fixtures/keys/ec384_pub.pem"),
];

/// Everything the emulator knows at start: see `emulator/README.md` for the JSON format.
#[derive(Clone, Debug, PartialEq)]
pub struct Fixtures {
    /// The IDaaS instance id (path segment of the Developer API, PKCS7 audience).
    pub instance_id: String,
    /// Registered M2M client applications.
    pub clients: Vec<ClientFixture>,
    /// Developer API credentials (API keys, OAuth clients).
    pub credentials: Vec<CredentialFixture>,
    /// Developer API credential providers (JWT, OAuth 2LO/3LO).
    pub credential_providers: Vec<ProviderFixture>,
    /// Alibaba Cloud: AccessKeys, RAM roles and the OIDC provider of the PLUGIN
    /// `alibabacloudPluginCredentialProvider` (default: the built-in ones).
    pub alibaba_cloud: AlibabaCloudFixture,
}

/// The Alibaba Cloud side of the emulator: keys that may sign OpenAPI requests, the RAM roles STS
/// and the metadata service hand out keys for, the trusted OIDC provider.
#[derive(Clone, Debug, PartialEq)]
pub struct AlibabaCloudFixture {
    /// `accessKeys`: long-term AccessKeys and STS keys with their security token.
    pub access_keys: Vec<AccessKeyFixture>,
    /// `ramRoles`.
    pub ram_roles: Vec<RamRoleFixture>,
    /// `oidcProviderArn`: the one OIDC provider STS `AssumeRoleWithOIDC` accepts (tokens of the
    /// emulator's trusted OIDC issuer).
    pub oidc_provider_arn: String,
    /// `ecsRoleName`: the RAM role attached to the emulated ECS instance (`None`: none).
    pub ecs_role_name: Option<String>,
}

/// An AccessKey known to the OpenAPI stand-in.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessKeyFixture {
    /// `accessKeyId`.
    pub access_key_id: String,
    /// `accessKeySecret`.
    pub access_key_secret: String,
    /// `securityToken`: set for an STS key (it must then come with this token).
    pub security_token: Option<String>,
}

/// A RAM role.
#[derive(Clone, Debug, PartialEq)]
pub struct RamRoleFixture {
    /// `roleName` (the metadata service's name for it).
    pub role_name: String,
    /// `roleArn` (what `AssumeRoleWithOIDC` names).
    pub role_arn: String,
}

/// One M2M client application.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientFixture {
    /// `clientId`.
    pub client_id: String,
    /// `clientSecret` (CLIENT_SECRET_BASIC / POST / JWT).
    pub client_secret: Option<String>,
    /// `publicKeys`: PEM SubjectPublicKeyInfo texts (PRIVATE_KEY_JWT).
    pub public_keys: Vec<String>,
    /// `federatedCredentials` (OIDC / PKCS7 / PCA).
    pub federated_credentials: Vec<FederatedCredential>,
    /// `grantedScopes`: `audience|value` items.
    pub granted_scopes: Vec<String>,
}

/// A federated credential of a client.
#[derive(Clone, Debug, PartialEq)]
pub struct FederatedCredential {
    /// `name`, sent as `application_federated_credential_name`.
    pub name: String,
    /// `type`.
    pub kind: FederatedKind,
    /// Optional `subject`: the OIDC `sub` or the PCA certificate CN that must match.
    pub subject: Option<String>,
}

/// Type of a federated credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FederatedKind {
    /// `oidc`: an id token from the emulator's trusted OIDC issuer.
    Oidc,
    /// `pkcs7`: an attested document from the emulated ECS metadata service.
    Pkcs7,
    /// `pca`: a client certificate chaining to the emulator's PCA root.
    Pca,
}

/// A Developer API credential (ObtainCredential).
#[derive(Clone, Debug, PartialEq)]
pub struct CredentialFixture {
    /// `identifier` (the `credentialIdentifier`).
    pub identifier: String,
    /// `type`: `api_key` or `oauth_client`.
    pub kind: String,
    /// `name`.
    pub name: String,
    /// `apiKey` (api_key credentials).
    pub api_key: Option<String>,
    /// `oauthClientId` (oauth_client credentials).
    pub oauth_client_id: Option<String>,
    /// `oauthClientSecret` (oauth_client credentials).
    pub oauth_client_secret: Option<String>,
    /// `scenarioLabel` (`llm`, `saas`).
    pub scenario_label: String,
    /// `description`.
    pub description: String,
    /// `status` (`enabled` / `disabled`; a disabled credential answers 403).
    pub status: String,
}

/// A Developer API credential provider.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderFixture {
    /// `identifier`.
    pub identifier: String,
    /// `type`: `jwt` or `oauth`.
    pub kind: ProviderKind,
    /// `authorizationFlow` for OAuth providers: `m2m` (2LO) or `user_federation` (3LO).
    pub user_federation: bool,
    /// `scope` of the issued OAuth tokens.
    pub scope: String,
    /// `defaultExpiration`: JWT lifetime in seconds when the request gives none.
    pub default_expiration_secs: u64,
    /// `tokenLifetime`: OAuth token lifetime in seconds.
    pub token_lifetime_secs: u64,
    /// `issuerWhitelist`: allowed `issuer` values for JWTs (empty = any).
    pub issuer_whitelist: Vec<String>,
}

/// Kind of credential provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// Issues JWT authentication tokens.
    Jwt,
    /// Holds OAuth access tokens (2LO or 3LO).
    OAuth,
}

impl Default for Fixtures {
    fn default() -> Self {
        Self::builtin()
    }
}

type R<T> = Result<T, String>;

fn obj<'a>(v: &'a Value, path: &str) -> R<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| format!("{path}: expected a JSON object"))
}

fn check_keys(m: &Map<String, Value>, path: &str, allowed: &[&str]) -> R<()> {
    for k in m.keys() {
        if k.starts_with('_') {
            continue;
        }
        if !allowed.contains(&k.as_str()) {
            return Err(format!(
                "{}: unknown field (allowed: {})",
                join(path, k),
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

fn req_str(m: &Map<String, Value>, path: &str, k: &str) -> R<String> {
    match m.get(k) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("{}: must not be empty", join(path, k))),
        Some(_) => Err(format!("{}: expected a string", join(path, k))),
        None => Err(format!("{}: missing required field", join(path, k))),
    }
}

fn opt_str(m: &Map<String, Value>, path: &str, k: &str) -> R<Option<String>> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{}: expected a string", join(path, k))),
    }
}

fn opt_u64(m: &Map<String, Value>, path: &str, k: &str, default: u64) -> R<u64> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => Ok(n),
            _ => Err(format!("{}: expected a positive integer", join(path, k))),
        },
    }
}

fn str_array(m: &Map<String, Value>, path: &str, k: &str) -> R<Vec<String>> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{}[{i}]: expected a string", join(path, k)))
            })
            .collect(),
        Some(_) => Err(format!("{}: expected an array of strings", join(path, k))),
    }
}

fn arr<'a>(m: &'a Map<String, Value>, path: &str, k: &str) -> R<&'a [Value]> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("{}: expected an array", join(path, k))),
    }
}

/// Checks an `audience|value` scope item.
pub(crate) fn valid_scope_item(s: &str) -> bool {
    let mut parts = s.split('|');
    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(v), None) if !a.is_empty() && !v.is_empty() && !s.chars().any(char::is_whitespace))
}

impl Fixtures {
    /// The built-in fixtures.
    pub fn builtin() -> Fixtures {
        let mut f = Fixtures::from_json_str(DEFAULT_JSON).expect("built-in fixtures are valid");
        if let Some(c) = f.clients.iter_mut().find(|c| c.client_id == "app_pkjwt") {
            c.public_keys
                .extend(DEFAULT_PUBLIC_KEYS.iter().map(|s| s.to_string()));
        }
        f
    }

    /// Reads fixtures from a JSON file; errors name the file and the field path.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Fixtures, crate::EmulatorError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| crate::EmulatorError::Fixtures {
            field: "<file>".into(),
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        Fixtures::from_json_str(&text).map_err(|e| match e {
            crate::EmulatorError::Fixtures { field, message } => crate::EmulatorError::Fixtures {
                field,
                message: format!("{message} (in {})", path.display()),
            },
            other => other,
        })
    }

    /// Parses fixtures from JSON text. Unknown fields, wrong types and invalid values are
    /// errors naming the field path (e.g. `clients[1].publicKeys[0]`).
    pub fn from_json_str(text: &str) -> Result<Fixtures, crate::EmulatorError> {
        Self::parse(text).map_err(|m| {
            let field = m.split(':').next().unwrap_or("").to_string();
            crate::EmulatorError::Fixtures { field, message: m }
        })
    }

    fn parse(text: &str) -> R<Fixtures> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| format!("<json>: not valid JSON: {e}"))?;
        let root = obj(&v, "<root>")?;
        check_keys(
            root,
            "",
            &[
                "instanceId",
                "clients",
                "credentials",
                "credentialProviders",
                "alibabaCloud",
            ],
        )?;
        let instance_id = match opt_str(root, "", "instanceId")? {
            Some(s) if s.is_empty() => return Err("instanceId: must not be empty".into()),
            Some(s) => s,
            None => "idaas_emulator00000000000000000".to_string(),
        };
        let mut clients: Vec<ClientFixture> = Vec::new();
        for (i, cv) in arr(root, "", "clients")?.iter().enumerate() {
            let p = format!("clients[{i}]");
            let c = obj(cv, &p)?;
            check_keys(
                c,
                &p,
                &[
                    "clientId",
                    "clientSecret",
                    "publicKeys",
                    "federatedCredentials",
                    "grantedScopes",
                ],
            )?;
            let client_id = req_str(c, &p, "clientId")?;
            if clients.iter().any(|o| o.client_id == client_id) {
                return Err(format!("{p}.clientId: duplicate client id {client_id}"));
            }
            let client_secret = opt_str(c, &p, "clientSecret")?;
            if client_secret.as_deref() == Some("") {
                return Err(format!("{p}.clientSecret: must not be empty"));
            }
            let public_keys = str_array(c, &p, "publicKeys")?;
            for (j, k) in public_keys.iter().enumerate() {
                PublicKeyInfo::from_pem(k).map_err(|e| format!("{p}.publicKeys[{j}]: {e}"))?;
            }
            let mut feds = Vec::new();
            for (j, fv) in arr(c, &p, "federatedCredentials")?.iter().enumerate() {
                let fp = format!("{p}.federatedCredentials[{j}]");
                let f = obj(fv, &fp)?;
                check_keys(f, &fp, &["name", "type", "subject"])?;
                let name = req_str(f, &fp, "name")?;
                let kind = match req_str(f, &fp, "type")?.as_str() {
                    "oidc" => FederatedKind::Oidc,
                    "pkcs7" => FederatedKind::Pkcs7,
                    "pca" => FederatedKind::Pca,
                    other => {
                        return Err(format!(
                            "{fp}.type: unknown type {other:?} (expected oidc, pkcs7 or pca)"
                        ))
                    }
                };
                feds.push(FederatedCredential {
                    name,
                    kind,
                    subject: opt_str(f, &fp, "subject")?,
                });
            }
            let granted_scopes = match c.get("grantedScopes") {
                None => vec![
                    "urn:cloud:idaas:pam|.all".to_string(),
                    "api.example.com|read:file".to_string(),
                    "api.example.com|write:file".to_string(),
                ],
                Some(_) => str_array(c, &p, "grantedScopes")?,
            };
            for (j, s) in granted_scopes.iter().enumerate() {
                if !valid_scope_item(s) {
                    return Err(format!(
                        "{p}.grantedScopes[{j}]: {s:?} is not an audience|value scope item"
                    ));
                }
            }
            clients.push(ClientFixture {
                client_id,
                client_secret,
                public_keys,
                federated_credentials: feds,
                granted_scopes,
            });
        }
        let mut credentials: Vec<CredentialFixture> = Vec::new();
        for (i, cv) in arr(root, "", "credentials")?.iter().enumerate() {
            let p = format!("credentials[{i}]");
            let c = obj(cv, &p)?;
            check_keys(
                c,
                &p,
                &[
                    "identifier",
                    "type",
                    "name",
                    "apiKey",
                    "oauthClientId",
                    "oauthClientSecret",
                    "scenarioLabel",
                    "description",
                    "status",
                ],
            )?;
            let identifier = req_str(c, &p, "identifier")?;
            if credentials.iter().any(|o| o.identifier == identifier) {
                return Err(format!("{p}.identifier: duplicate identifier {identifier}"));
            }
            let kind = req_str(c, &p, "type")?;
            if kind != "api_key" && kind != "oauth_client" {
                return Err(format!(
                    "{p}.type: unknown type {kind:?} (expected api_key or oauth_client)"
                ));
            }
            let api_key = opt_str(c, &p, "apiKey")?;
            if kind == "api_key" && api_key.is_none() {
                return Err(format!("{p}.apiKey: missing required field for an api_key"));
            }
            let status = opt_str(c, &p, "status")?.unwrap_or_else(|| "enabled".into());
            if status != "enabled" && status != "disabled" {
                return Err(format!("{p}.status: expected enabled or disabled"));
            }
            credentials.push(CredentialFixture {
                name: opt_str(c, &p, "name")?.unwrap_or_else(|| identifier.clone()),
                identifier,
                kind,
                api_key,
                oauth_client_id: opt_str(c, &p, "oauthClientId")?,
                oauth_client_secret: opt_str(c, &p, "oauthClientSecret")?,
                scenario_label: opt_str(c, &p, "scenarioLabel")?.unwrap_or_else(|| "llm".into()),
                description: opt_str(c, &p, "description")?.unwrap_or_default(),
                status,
            });
        }
        let mut providers: Vec<ProviderFixture> = Vec::new();
        for (i, pv) in arr(root, "", "credentialProviders")?.iter().enumerate() {
            let p = format!("credentialProviders[{i}]");
            let c = obj(pv, &p)?;
            check_keys(
                c,
                &p,
                &[
                    "identifier",
                    "type",
                    "authorizationFlow",
                    "scope",
                    "defaultExpiration",
                    "tokenLifetime",
                    "issuerWhitelist",
                ],
            )?;
            let identifier = req_str(c, &p, "identifier")?;
            if providers.iter().any(|o| o.identifier == identifier) {
                return Err(format!("{p}.identifier: duplicate identifier {identifier}"));
            }
            let kind = match req_str(c, &p, "type")?.as_str() {
                "jwt" => ProviderKind::Jwt,
                "oauth" => ProviderKind::OAuth,
                other => {
                    return Err(format!(
                        "{p}.type: unknown type {other:?} (expected jwt or oauth)"
                    ))
                }
            };
            let user_federation = match opt_str(c, &p, "authorizationFlow")?.as_deref() {
                None | Some("m2m") => false,
                Some("user_federation") => true,
                Some(other) => {
                    return Err(format!(
                        "{p}.authorizationFlow: unknown flow {other:?} (expected m2m or user_federation)"
                    ))
                }
            };
            providers.push(ProviderFixture {
                identifier,
                kind,
                user_federation,
                scope: opt_str(c, &p, "scope")?.unwrap_or_default(),
                default_expiration_secs: opt_u64(c, &p, "defaultExpiration", 3600)?,
                token_lifetime_secs: opt_u64(c, &p, "tokenLifetime", 3600)?,
                issuer_whitelist: str_array(c, &p, "issuerWhitelist")?,
            });
        }
        let alibaba_cloud = match root.get("alibabaCloud") {
            None | Some(Value::Null) => default_alibaba_cloud(),
            Some(v) => parse_alibaba_cloud(v)?,
        };
        Ok(Fixtures {
            instance_id,
            clients,
            credentials,
            credential_providers: providers,
            alibaba_cloud,
        })
    }
}

/// The `alibabaCloud` section of the built-in fixtures (also used when a fixtures file has none).
fn default_alibaba_cloud() -> AlibabaCloudFixture {
    let v: Value = serde_json::from_str(DEFAULT_JSON).expect("built-in fixtures are JSON");
    parse_alibaba_cloud(&v["alibabaCloud"]).expect("built-in alibabaCloud fixtures are valid")
}

fn parse_alibaba_cloud(v: &Value) -> R<AlibabaCloudFixture> {
    let p = "alibabaCloud";
    let m = obj(v, p)?;
    check_keys(
        m,
        p,
        &["accessKeys", "ramRoles", "oidcProviderArn", "ecsRoleName"],
    )?;
    let mut access_keys: Vec<AccessKeyFixture> = Vec::new();
    for (i, kv) in arr(m, p, "accessKeys")?.iter().enumerate() {
        let kp = format!("{p}.accessKeys[{i}]");
        let k = obj(kv, &kp)?;
        check_keys(k, &kp, &["accessKeyId", "accessKeySecret", "securityToken"])?;
        let id = req_str(k, &kp, "accessKeyId")?;
        if access_keys.iter().any(|o| o.access_key_id == id) {
            return Err(format!("{kp}.accessKeyId: duplicate AccessKey id {id}"));
        }
        access_keys.push(AccessKeyFixture {
            access_key_id: id,
            access_key_secret: req_str(k, &kp, "accessKeySecret")?,
            security_token: match opt_str(k, &kp, "securityToken")? {
                Some(t) if t.is_empty() => {
                    return Err(format!("{kp}.securityToken: must not be empty"))
                }
                t => t,
            },
        });
    }
    let mut ram_roles: Vec<RamRoleFixture> = Vec::new();
    for (i, rv) in arr(m, p, "ramRoles")?.iter().enumerate() {
        let rp = format!("{p}.ramRoles[{i}]");
        let r = obj(rv, &rp)?;
        check_keys(r, &rp, &["roleName", "roleArn"])?;
        let role_name = req_str(r, &rp, "roleName")?;
        if !role_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err(format!(
                "{rp}.roleName: letters, digits, '.', '-' and '_' only"
            ));
        }
        ram_roles.push(RamRoleFixture {
            role_name,
            role_arn: req_str(r, &rp, "roleArn")?,
        });
    }
    let ecs_role_name = opt_str(m, p, "ecsRoleName")?;
    if let Some(n) = &ecs_role_name {
        if !ram_roles.iter().any(|r| &r.role_name == n) {
            return Err(format!("{p}.ecsRoleName: no role named {n} in ramRoles"));
        }
    }
    Ok(AlibabaCloudFixture {
        access_keys,
        ram_roles,
        oidc_provider_arn: req_str(m, p, "oidcProviderArn")?,
        ecs_role_name,
    })
}
