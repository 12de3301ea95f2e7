//! ObtainCredential: a credential of the fixtures with its secret content.

use super::auth::Caller;
use super::input::req_str;
use super::{err, Call, Reply, Res};

/// The reply, serialised straight from borrowed fields (field order and bytes as the
/// `serde_json::Value` of the other replies would give: see `bytes_match_a_json_value`).
/// ObtainCredential is what a PAM client calls most.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CredentialReply<'a> {
    instance_id: &'a str,
    credential_id: &'a str,
    credential_identifier: &'a str,
    credential_name: &'a str,
    credential_type: &'a str,
    credential_scenario_label: &'a str,
    credential_creation_type: &'a str,
    credential_subject_type: &'a str,
    credential_subject_id: &'a str,
    credential_sharing_scope: &'a str,
    status: &'a str,
    description: &'a str,
    create_time: u64,
    update_time: u64,
    credential_content: CredentialContent<'a>,
}

#[derive(serde::Serialize)]
enum CredentialContent<'a> {
    #[serde(rename = "apiKeyContent")]
    ApiKey {
        #[serde(rename = "apiKey")]
        api_key: Option<&'a str>,
    },
    #[serde(rename = "oauthClientContent")]
    OAuthClient {
        #[serde(rename = "clientId")]
        client_id: Option<&'a str>,
        #[serde(rename = "clientSecret")]
        client_secret: Option<&'a str>,
    },
}

/// `ObtainCredential`.
pub(super) fn obtain(call: &mut Call, _caller: &Caller) -> Res<Reply> {
    let ident = req_str(call.input, "credentialIdentifier")?;
    let c = call
        .st
        .fixtures
        .credentials
        .iter()
        .find(|c| c.identifier == ident)
        .ok_or_else(|| {
            err(
                404,
                "EntityNotExists.Credential",
                format!("credential {ident} does not exist"),
            )
        })?;
    if c.status != "enabled" {
        return Err(err(
            403,
            "Forbidden.CredentialDisabled",
            format!("credential {ident} is disabled"),
        ));
    }
    let content = if c.kind == "api_key" {
        CredentialContent::ApiKey {
            api_key: c.api_key.as_deref(),
        }
    } else {
        CredentialContent::OAuthClient {
            client_id: c.oauth_client_id.as_deref(),
            client_secret: c.oauth_client_secret.as_deref(),
        }
    };
    let store = &*call.store;
    let reply = CredentialReply {
        instance_id: &call.st.site.instance_id,
        credential_id: store
            .credential_ids
            .get(&ident)
            .map(String::as_str)
            .unwrap_or_default(),
        credential_identifier: &c.identifier,
        credential_name: &c.name,
        credential_type: &c.kind,
        credential_scenario_label: &c.scenario_label,
        credential_creation_type: "user_custom",
        credential_subject_type: "authentication_token_provider",
        credential_subject_id: "apt_emulator0000000000",
        credential_sharing_scope: "instance",
        status: &c.status,
        description: &c.description,
        create_time: store.created_ms,
        update_time: store.created_ms,
        credential_content: content,
    };
    serde_json::to_vec(&reply).map_err(|e| err(500, "InternalError", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::CredentialFixture;
    use crate::util::lock;
    use serde_json::{json, Map, Value};
    use std::collections::HashSet;

    /// The reply built as a `serde_json::Value`, the way the other operations build theirs.
    fn as_value(call: &Call, c: &CredentialFixture) -> Value {
        let content = if c.kind == "api_key" {
            json!({"apiKeyContent": {"apiKey": c.api_key}})
        } else {
            json!({"oauthClientContent": {"clientId": c.oauth_client_id, "clientSecret": c.oauth_client_secret}})
        };
        json!({
            "instanceId": call.st.site.instance_id,
            "credentialId": call.store.credential_ids.get(&c.identifier).cloned().unwrap_or_default(),
            "credentialIdentifier": c.identifier,
            "credentialName": c.name,
            "credentialType": c.kind,
            "credentialScenarioLabel": c.scenario_label,
            "credentialCreationType": "user_custom",
            "credentialSubjectType": "authentication_token_provider",
            "credentialSubjectId": "apt_emulator0000000000",
            "credentialSharingScope": "instance",
            "status": c.status,
            "description": c.description,
            "createTime": call.store.created_ms,
            "updateTime": call.store.created_ms,
            "credentialContent": content,
        })
    }

    #[test]
    fn bytes_match_a_json_value() {
        let emu = crate::Emulator::start_default();
        let st = &emu.state;
        let mut store = lock(&st.devapi.store);
        let caller = Caller {
            client_id: "app_secret".into(),
            consumer_id: "app_secret".into(),
            consumer_type: "application",
            user_bound: false,
        };
        let mut kinds = HashSet::new();
        for c in &st.fixtures.credentials {
            if c.status != "enabled" {
                continue;
            }
            kinds.insert(c.kind.clone());
            let mut input = Map::new();
            input.insert("credentialIdentifier".into(), json!(c.identifier));
            let mut call = Call {
                st,
                store: &mut store,
                input: &input,
            };
            let bytes = obtain(&mut call, &caller).ok().unwrap();
            let expected = as_value(&call, c).to_string();
            assert_eq!(String::from_utf8(bytes).unwrap(), expected);
        }
        assert!(kinds.contains("api_key") && kinds.contains("oauth_client"));
        // Absent optional values are `null`, as in a Value.
        let v = serde_json::to_value(CredentialContent::ApiKey { api_key: None }).unwrap();
        assert_eq!(v, json!({"apiKeyContent": {"apiKey": null}}));
    }
}
