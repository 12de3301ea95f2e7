//! OAuth access tokens of credential providers: FetchOAuthAuthenticationToken (2LO at once,
//! 3LO through an authorisation session) and GetOAuthAuthorizationSession.

use super::auth::Caller;
use super::input::{opt_bool, opt_str, req_str};
use super::tokens::token_json;
use super::{err, invalid, provider, reply, Call, Reply, Res};
use crate::fixtures::ProviderKind;
use crate::state::devapi::{Session, SESSION_LIFETIME_MS, SESSION_URI_PREFIX};
use crate::state::State;
use crate::util::{now_ms, percent_encode, random_id};
use serde_json::{json, Map, Value};

/// Longest `scope` a caller may ask for.
const MAX_SCOPE_LEN: usize = 256;

/// `FetchOAuthAuthenticationToken`. A 2LO provider answers a token at once (reusing an
/// unexpired one unless `forceAuthentication`); a 3LO provider needs a user-bound caller and,
/// without consent or with `forceAuthentication`, opens a pending session whose authorisation
/// URL is the control API's `/_emulator/authorize`.
pub(super) fn fetch(call: &mut Call, c: &Caller) -> Res<Reply> {
    let input = call.input;
    let ident = req_str(input, "credentialProviderIdentifier")?;
    let scope = opt_str(input, "scope")?;
    if scope.as_ref().is_some_and(|s| s.len() > MAX_SCOPE_LEN) {
        return Err(invalid("scope must be at most 256 characters"));
    }
    let force = opt_bool(input, "forceAuthentication")?.unwrap_or(false);
    let custom = match input.get("customParameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => {
            if m.values().any(|v| !v.is_string()) {
                return Err(invalid("customParameters values must be strings"));
            }
            m.clone()
        }
        Some(_) => return Err(invalid("customParameters must be an object")),
    };
    let store = &mut *call.store;
    let p = provider(store, &ident)?;
    if p.kind != ProviderKind::OAuth {
        return Err(invalid(format!(
            "credential provider {ident} is not an OAuth provider"
        )));
    }
    let now = now_ms();
    let needs_user = p.user_federation;
    if needs_user && !c.user_bound {
        return Err(err(
            403,
            "Forbidden.UserBoundTokenRequired",
            format!("credential provider {ident} uses user federation (3LO): the bearer token must be user-bound (token exchange)"),
        ));
    }
    let consented = !needs_user
        || store
            .consents
            .contains(&(c.consumer_id.clone(), ident.clone()));
    if consented && !force {
        let existing = store.tokens.iter().find(|t| {
            t.provider == ident
                && t.consumer_id == c.consumer_id
                && t.kind == "oauth_access_token"
                && !t.revoked
                && t.exp_ms > now
                && scope.as_ref().map(|s| *s == t.scope).unwrap_or(true)
        });
        if let Some(t) = existing {
            return reply(&token_json(call.st, t, true));
        }
    }
    if (consented && !force) || !needs_user {
        // 2LO (also with forceAuthentication), or 3LO with consent: a fresh token.
        let t = store.issue_oauth_token(&p, c.consumer_type, &c.consumer_id, &c.client_id, scope);
        return reply(&token_json(call.st, t, true));
    }
    let id = random_id("oas_");
    let mut url = format!(
        "{}/_emulator/authorize?session={id}&provider={}&response_type=code&client_id=emulator-oauth-client&state={}",
        call.st.site.public_base(),
        percent_encode(&ident),
        uuid::Uuid::new_v4().simple()
    );
    for (k, v) in &custom {
        url.push_str(&format!(
            "&{}={}",
            percent_encode(k),
            percent_encode(v.as_str().unwrap_or(""))
        ));
    }
    store.sessions.push(Session {
        id: id.clone(),
        provider: ident.clone(),
        consumer_type: c.consumer_type.to_string(),
        consumer_id: c.consumer_id.clone(),
        creator_id: c.client_id.clone(),
        status: "pending".into(),
        exp_ms: now + SESSION_LIFETIME_MS,
        token_id: None,
        scope,
        auth_url: url.clone(),
        error_code: None,
        error_desc: None,
    });
    reply(&json!({
        "instanceId": call.st.site.instance_id,
        "credentialProviderId": store.provider_id(&ident),
        "oauthAuthorizationSession": {
            "sessionId": id,
            "sessionUri": format!("{SESSION_URI_PREFIX}{id}"),
            "authorizationUrl": url,
            "sessionStatus": "pending",
        }
    }))
}

/// `GetOAuthAuthorizationSession`: only the session's consumer sees it (else 404).
pub(super) fn get_session(call: &mut Call, c: &Caller) -> Res<Reply> {
    let uri = req_str(call.input, "sessionUri")?;
    let not_found = || {
        err(
            404,
            "oauth_session_not_found",
            format!("OAuth authorization session {uri} does not exist"),
        )
    };
    let s = call.store.session_mut(&uri).ok_or_else(not_found)?;
    if s.consumer_id != c.consumer_id {
        return Err(not_found());
    }
    reply(&session_json(call.st, s))
}

fn session_json(st: &State, s: &Session) -> Value {
    let mut v = json!({
        "instanceId": st.site.instance_id,
        "sessionId": s.id,
        "sessionUri": format!("{SESSION_URI_PREFIX}{}", s.id),
        "sessionStatus": s.status,
        "credentialProviderIdentifier": s.provider,
        "consumerType": s.consumer_type,
        "consumerId": s.consumer_id,
        "creatorType": "application",
        "creatorId": s.creator_id,
        "expirationTime": s.exp_ms,
    });
    if s.status == "pending" || s.status == "callback_received" {
        v["authorizationUrl"] = json!(s.auth_url);
    }
    if let Some(t) = &s.token_id {
        v["authenticationTokenId"] = json!(t);
    }
    if let Some(c) = &s.error_code {
        v["errorCode"] = json!(c);
    }
    if let Some(d) = &s.error_desc {
        v["errorDescription"] = json!(d);
    }
    v
}
