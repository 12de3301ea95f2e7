//! Authentication tokens: their JSON, listing, validation, revocation and reinstatement.

use super::auth::Caller;
use super::input::{opt_bool, opt_str, opt_u64, req_str};
use super::{err, invalid, provider, reply, token_not_found, Call, Reply, Res};
use crate::state::devapi::AuthToken;
use crate::state::State;
use crate::util::now_ms;
use serde_json::{json, Value};

/// Page size of ListAuthenticationTokens when `maxResults` is not given.
const DEFAULT_MAX_RESULTS: u64 = 20;

/// A token as the API shows it; `with_content` adds the token material.
pub(super) fn token_json(st: &State, t: &AuthToken, with_content: bool) -> Value {
    let mut v = json!({
        "instanceId": st.site.instance_id,
        "authenticationTokenId": t.id,
        "credentialProviderId": t.provider_id,
        "authenticationTokenType": t.kind,
        "revoked": t.revoked,
        "creatorType": "application",
        "creatorId": t.creator_id,
        "consumerType": t.consumer_type,
        "consumerId": t.consumer_id,
        "createTime": t.create_ms,
        "updateTime": t.update_ms,
        "expirationTime": t.exp_ms,
    });
    if with_content {
        if let Some(j) = &t.jwt {
            let mut c = json!({"jwtValue": j});
            if let Some(d) = &t.dst {
                c["derivedShortToken"] = json!(d);
            }
            v["jwtContent"] = c;
        }
        if let Some(a) = &t.access_token {
            v["oauthAccessTokenContent"] =
                json!({"accessTokenValue": a, "tokenType": "Bearer", "scope": t.scope});
        }
    }
    v
}

/// `ListAuthenticationTokens`: a consumer's tokens of a provider, paginated with
/// `nextToken` = `nt_<offset>`.
pub(super) fn list(call: &mut Call, _caller: &Caller) -> Res<Reply> {
    let input = call.input;
    let consumer = req_str(input, "consumerId")?;
    let provider_ident = req_str(input, "credentialProviderIdentifier")?;
    provider(call.store, &provider_ident)?;
    let revoked = opt_bool(input, "revoked")?;
    let expired = opt_bool(input, "expired")?;
    let max = opt_u64(input, "maxResults")?.unwrap_or(DEFAULT_MAX_RESULTS);
    if !(1..=100).contains(&max) {
        return Err(invalid("maxResults must be between 1 and 100"));
    }
    let start = match opt_str(input, "nextToken")?.as_deref() {
        None | Some("") => 0usize,
        Some(t) => t
            .strip_prefix("nt_")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| err(400, "InvalidParameter.NextToken", "nextToken is not valid"))?,
    };
    let now = now_ms();
    let matching: Vec<&AuthToken> = call
        .store
        .tokens
        .iter()
        .filter(|t| t.consumer_id == consumer && t.provider == provider_ident)
        .filter(|t| revoked.map(|r| t.revoked == r).unwrap_or(true))
        .filter(|t| expired.map(|e| (t.exp_ms <= now) == e).unwrap_or(true))
        .collect();
    let total = matching.len();
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(max as usize)
        .map(|t| token_json(call.st, t, false))
        .collect();
    let end = start + page.len();
    let next = if end < total {
        format!("nt_{end}")
    } else {
        String::new()
    };
    reply(&json!({"entities": page, "totalCount": total, "maxResults": max, "nextToken": next}))
}

/// `ValidateAuthenticationToken`: active iff known, not revoked and not expired.
pub(super) fn validate(call: &mut Call) -> Res<Reply> {
    let token = req_str(call.input, "token")?;
    opt_str(call.input, "token_type_hint")?;
    let now = now_ms();
    let active = call
        .store
        .token_by_value(&token)
        .map(|t| !t.revoked && t.exp_ms > now)
        .unwrap_or(false);
    reply(&json!({"active": active}))
}

/// `RevokeAuthenticationToken`.
pub(super) fn revoke(call: &mut Call, _caller: &Caller) -> Res<Reply> {
    set_revoked(call, true)
}

/// `ReinstateAuthenticationToken`.
pub(super) fn reinstate(call: &mut Call, _caller: &Caller) -> Res<Reply> {
    set_revoked(call, false)
}

/// Revokes or reinstates one token, given by value.
fn set_revoked(call: &mut Call, revoked: bool) -> Res<Reply> {
    let token = req_str(call.input, "token")?;
    opt_str(call.input, "token_type_hint")?;
    let t = call
        .store
        .token_by_value(&token)
        .ok_or_else(|| token_not_found("(given token)"))?;
    t.revoked = revoked;
    t.update_ms = now_ms();
    reply(&json!({}))
}

/// `RevokeAuthenticationTokenByConsumer`.
pub(super) fn revoke_by_consumer(call: &mut Call, _caller: &Caller) -> Res<Reply> {
    set_revoked_by_consumer(call, true)
}

/// `ReinstateAuthenticationTokenByConsumer`.
pub(super) fn reinstate_by_consumer(call: &mut Call, _caller: &Caller) -> Res<Reply> {
    set_revoked_by_consumer(call, false)
}

/// Revokes or reinstates every token of a consumer and provider (the provider must exist).
fn set_revoked_by_consumer(call: &mut Call, revoked: bool) -> Res<Reply> {
    let consumer = req_str(call.input, "consumerId")?;
    let provider_ident = req_str(call.input, "credentialProviderIdentifier")?;
    provider(call.store, &provider_ident)?;
    let now = now_ms();
    for t in call
        .store
        .tokens
        .iter_mut()
        .filter(|t| t.consumer_id == consumer && t.provider == provider_ident)
    {
        t.revoked = revoked;
        t.update_ms = now;
    }
    reply(&json!({}))
}
