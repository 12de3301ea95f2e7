//! The two profile files of the credential chain (alibaba-plugin.md §2.4, §2.5): the aliyun CLI's
//! `config.json` and the INI `credentials.ini`. Parsing only; reading the file and asking the
//! network is the chain's job.
//!
//! Secret values go straight into [`SecretString`]s, and errors name files, profiles and fields,
//! never values (a JSON syntax error is reported by line and column only).

use crate::secret::{secret_serde, SecretString};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

/// What a profile asks for, once parsed.
#[derive(Debug)]
pub(crate) enum ProfileSpec {
    /// A long-term AccessKey (CLI mode `AK`, INI type `access_key`).
    AccessKey { id: String, secret: SecretString },
    /// A temporary key given with its token (CLI mode `StsToken`); no expiry is known.
    StsToken {
        id: String,
        secret: SecretString,
        token: SecretString,
    },
    /// The ECS RAM role of the instance (CLI `EcsRamRole`, INI `ecs_ram_role`); `None`: ask the
    /// metadata service which role is attached.
    EcsRamRole { role_name: Option<String> },
    /// STS `AssumeRoleWithOIDC` (CLI `OIDC`, INI `oidc_role_arn`).
    OidcRole(OidcRoleSpec),
}

/// The parameters of an OIDC role.
#[derive(Debug, Clone)]
pub(crate) struct OidcRoleSpec {
    pub role_arn: String,
    pub provider_arn: String,
    pub token_file: PathBuf,
    pub session_name: Option<String>,
    pub policy: Option<String>,
    /// `DurationSeconds` (default 3600).
    pub duration_secs: Option<u64>,
    /// `sts_region` / `enable_vpc` of a CLI profile (the STS endpoint to use).
    pub sts_region: Option<String>,
    pub vpc: bool,
}

impl ProfileSpec {
    /// The inner provider's name, appended to `default/cli_profile/` or `default/profile/` in
    /// `x-acs-credentials-provider`.
    pub fn inner_name(&self) -> &'static str {
        match self {
            ProfileSpec::AccessKey { .. } => "static_ak",
            ProfileSpec::StsToken { .. } => "static_sts",
            ProfileSpec::EcsRamRole { .. } => "ecs_ram_role",
            ProfileSpec::OidcRole(_) => "oidc_role_arn",
        }
    }
}

#[derive(Deserialize)]
struct CliFile {
    #[serde(default)]
    current: Option<Value>,
    #[serde(default)]
    profiles: Option<Vec<CliProfile>>,
}

#[derive(Deserialize)]
struct CliProfile {
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    mode: Option<Value>,
    #[serde(default, with = "secret_serde::option")]
    access_key_id: Option<SecretString>,
    #[serde(default, with = "secret_serde::option")]
    access_key_secret: Option<SecretString>,
    #[serde(default, with = "secret_serde::option")]
    sts_token: Option<SecretString>,
    #[serde(default)]
    ram_role_name: Option<Value>,
    #[serde(default)]
    ram_role_arn: Option<Value>,
    #[serde(default)]
    oidc_provider_arn: Option<Value>,
    #[serde(default)]
    oidc_token_file: Option<Value>,
    #[serde(default)]
    role_session_name: Option<Value>,
    #[serde(default)]
    ram_session_name: Option<Value>,
    #[serde(default)]
    policy: Option<Value>,
    #[serde(default)]
    expired_seconds: Option<Value>,
    #[serde(default)]
    sts_region: Option<Value>,
    #[serde(default)]
    enable_vpc: Option<Value>,
}

/// A non-blank string value.
fn text(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

fn secret_text(v: &Option<SecretString>) -> Option<SecretString> {
    v.as_ref()
        .filter(|s| !s.expose().trim().is_empty())
        .cloned()
}

fn truthy(v: &Option<Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn positive(v: &Option<Value>) -> Option<u64> {
    match v {
        Some(Value::Number(n)) => n.as_u64().filter(|n| *n > 0),
        Some(Value::String(s)) => s.trim().parse().ok().filter(|n| *n > 0),
        _ => None,
    }
}

/// The profile `wanted` (else the file's `current`) of an aliyun CLI `config.json`.
pub(crate) fn cli_profile(bytes: &[u8], wanted: Option<&str>) -> Result<ProfileSpec, String> {
    let file: CliFile = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "not a valid aliyun CLI configuration (JSON error at line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let name = match wanted {
        Some(w) => w.to_string(),
        None => text(&file.current).ok_or(
            "no profile selected: ALIBABA_CLOUD_PROFILE is not set and the file has no \"current\"",
        )?,
    };
    let profile = file
        .profiles
        .unwrap_or_default()
        .into_iter()
        .find(|p| text(&p.name).as_deref() == Some(name.as_str()))
        .ok_or_else(|| format!("no profile named {name:?}"))?;
    let mode = text(&profile.mode).unwrap_or_default();
    let field = |f: &str| format!("profile {name:?} (mode {mode}): {f} is missing or empty");
    let ak = |p: &CliProfile| -> Result<(String, SecretString), String> {
        let id = secret_text(&p.access_key_id).ok_or_else(|| field("access_key_id"))?;
        let secret = secret_text(&p.access_key_secret).ok_or_else(|| field("access_key_secret"))?;
        Ok((id.expose().trim().to_string(), secret))
    };
    match mode.as_str() {
        "AK" => {
            let (id, secret) = ak(&profile)?;
            Ok(ProfileSpec::AccessKey { id, secret })
        }
        "StsToken" => {
            let (id, secret) = ak(&profile)?;
            let token = secret_text(&profile.sts_token).ok_or_else(|| field("sts_token"))?;
            Ok(ProfileSpec::StsToken { id, secret, token })
        }
        "EcsRamRole" => Ok(ProfileSpec::EcsRamRole {
            role_name: text(&profile.ram_role_name),
        }),
        "OIDC" => Ok(ProfileSpec::OidcRole(OidcRoleSpec {
            role_arn: text(&profile.ram_role_arn).ok_or_else(|| field("ram_role_arn"))?,
            provider_arn: text(&profile.oidc_provider_arn)
                .ok_or_else(|| field("oidc_provider_arn"))?,
            token_file: PathBuf::from(
                text(&profile.oidc_token_file).ok_or_else(|| field("oidc_token_file"))?,
            ),
            session_name: text(&profile.role_session_name).or_else(|| text(&profile.ram_session_name)),
            policy: text(&profile.policy),
            duration_secs: positive(&profile.expired_seconds),
            sts_region: text(&profile.sts_region),
            vpc: truthy(&profile.enable_vpc),
        })),
        "" => Err(format!("profile {name:?} has no mode")),
        other => Err(format!(
            "profile {name:?}: mode {other} is not supported by this client (supported: AK, StsToken, EcsRamRole, OIDC)"
        )),
    }
}

/// The section `section` of an INI credentials file, as name → value. Blank lines and lines
/// starting with `#` or `;` are skipped; in a `name = value` line everything after a `#` is dropped
/// and both sides are trimmed.
fn ini_section(text: &str, section: &str) -> Option<HashMap<String, SecretString>> {
    let mut current: Option<&str> = None;
    let mut found = false;
    let mut values = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest.split(']').next().unwrap_or("").trim();
            current = Some(name);
            found |= name == section;
            continue;
        }
        if current != Some(section) {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.split('#').next().unwrap_or("").trim();
            values.insert(k.trim().to_string(), SecretString::new(v));
        }
    }
    found.then_some(values)
}

/// The section `section` of an INI `credentials.ini`.
pub(crate) fn ini_profile(text: &str, section: &str) -> Result<ProfileSpec, String> {
    let values = ini_section(text, section).ok_or_else(|| format!("no section [{section}]"))?;
    let get = |k: &str| values.get(k).filter(|v| !v.expose().is_empty()).cloned();
    let plain = |k: &str| get(k).map(|v| v.expose().to_string());
    let kind = plain("type").unwrap_or_default();
    let field = |f: &str| format!("section [{section}] (type {kind}): {f} is missing or empty");
    match kind.as_str() {
        "access_key" => Ok(ProfileSpec::AccessKey {
            id: plain("access_key_id").ok_or_else(|| field("access_key_id"))?,
            secret: get("access_key_secret").ok_or_else(|| field("access_key_secret"))?,
        }),
        "ecs_ram_role" => Ok(ProfileSpec::EcsRamRole {
            role_name: plain("role_name"),
        }),
        "oidc_role_arn" => Ok(ProfileSpec::OidcRole(OidcRoleSpec {
            role_arn: plain("role_arn").ok_or_else(|| field("role_arn"))?,
            provider_arn: plain("oidc_provider_arn").ok_or_else(|| field("oidc_provider_arn"))?,
            token_file: PathBuf::from(
                plain("oidc_token_file_path").ok_or_else(|| field("oidc_token_file_path"))?,
            ),
            session_name: plain("role_session_name"),
            policy: plain("policy"),
            duration_secs: None,
            sts_region: None,
            vpc: false,
        })),
        "" => Err(format!("section [{section}] has no type")),
        other => Err(format!(
            "section [{section}]: type {other} is not supported by this client (supported: access_key, ecs_ram_role, oidc_role_arn)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLI: &str = r#"{
      "current": "main",
      "profiles": [
        {"name": "main", "mode": "AK", "access_key_id": "LTAIcli", "access_key_secret": "cli-secret-value", "region_id": "cn-hangzhou", "retry_count": 3},
        {"name": "sts", "mode": "StsToken", "access_key_id": "STS.x", "access_key_secret": "s", "sts_token": "tok"},
        {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "MyRole"},
        {"name": "oidc", "mode": "OIDC", "ram_role_arn": "acs:ram::1:role/r", "oidc_provider_arn": "acs:ram::1:oidc-provider/p", "oidc_token_file": "/var/run/token", "expired_seconds": 900, "sts_region": "cn-shanghai", "enable_vpc": true},
        {"name": "arn", "mode": "RamRoleArn", "access_key_id": "a", "access_key_secret": "b", "ram_role_arn": "r"},
        {"name": "half", "mode": "AK", "access_key_id": "LTAIhalf"}
      ]
    }"#;

    #[test]
    fn cli_modes() {
        match cli_profile(CLI.as_bytes(), None).unwrap() {
            ProfileSpec::AccessKey { id, secret } => {
                assert_eq!(
                    (id.as_str(), secret.expose()),
                    ("LTAIcli", "cli-secret-value")
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            cli_profile(CLI.as_bytes(), Some("sts")).unwrap(),
            ProfileSpec::StsToken { .. }
        ));
        match cli_profile(CLI.as_bytes(), Some("ecs")).unwrap() {
            ProfileSpec::EcsRamRole { role_name } => {
                assert_eq!(role_name.as_deref(), Some("MyRole"))
            }
            other => panic!("{other:?}"),
        }
        match cli_profile(CLI.as_bytes(), Some("oidc")).unwrap() {
            ProfileSpec::OidcRole(o) => {
                assert_eq!(o.duration_secs, Some(900));
                assert_eq!(o.sts_region.as_deref(), Some("cn-shanghai"));
                assert!(o.vpc);
                assert_eq!(o.token_file, PathBuf::from("/var/run/token"));
            }
            other => panic!("{other:?}"),
        }
        let e = cli_profile(CLI.as_bytes(), Some("arn")).unwrap_err();
        assert!(e.contains("RamRoleArn is not supported"), "{e}");
        let e = cli_profile(CLI.as_bytes(), Some("half")).unwrap_err();
        assert!(e.contains("access_key_secret is missing"), "{e}");
        let e = cli_profile(CLI.as_bytes(), Some("nope")).unwrap_err();
        assert!(e.contains("no profile named \"nope\""), "{e}");
        let e = cli_profile(br#"{"profiles": []}"#, None).unwrap_err();
        assert!(e.contains("no \"current\""), "{e}");
        // A syntax error names the position, never the text around it.
        let e = cli_profile(
            br#"{"profiles": [{"access_key_secret": "leaked-secret" oops}]}"#,
            None,
        )
        .unwrap_err();
        assert!(e.contains("line 1") && !e.contains("leaked"), "{e}");
    }

    const INI: &str = "
# comment
[default]
type = access_key            # the kind
access_key_id = LTAIini
access_key_secret = ini-secret-value

[ecs]
type = ecs_ram_role
role_name = EcsRole
; another comment
[oidc]
type=oidc_role_arn
role_arn=acs:ram::1:role/r
oidc_provider_arn=acs:ram::1:oidc-provider/p
oidc_token_file_path=/t
[arn]
type = ram_role_arn
[empty]
type = access_key
access_key_id = LTAIempty
access_key_secret =
";

    #[test]
    fn ini_types() {
        match ini_profile(INI, "default").unwrap() {
            ProfileSpec::AccessKey { id, secret } => {
                assert_eq!(
                    (id.as_str(), secret.expose()),
                    ("LTAIini", "ini-secret-value")
                )
            }
            other => panic!("{other:?}"),
        }
        match ini_profile(INI, "ecs").unwrap() {
            ProfileSpec::EcsRamRole { role_name } => {
                assert_eq!(role_name.as_deref(), Some("EcsRole"))
            }
            other => panic!("{other:?}"),
        }
        match ini_profile(INI, "oidc").unwrap() {
            ProfileSpec::OidcRole(o) => assert_eq!(o.role_arn, "acs:ram::1:role/r"),
            other => panic!("{other:?}"),
        }
        assert!(ini_profile(INI, "arn")
            .unwrap_err()
            .contains("ram_role_arn is not supported"));
        assert!(ini_profile(INI, "empty")
            .unwrap_err()
            .contains("access_key_secret is missing"));
        assert_eq!(ini_profile(INI, "none").unwrap_err(), "no section [none]");
    }
}
