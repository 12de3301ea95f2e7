//! JWT authentication tokens: GenerateJwt, and obtaining a JWT by id or by its derived short
//! token.

use super::auth::Caller;
use super::input::{opt_bool, opt_str, opt_u64, req_str};
use super::tokens::token_json;
use super::{err, invalid, provider, reply, token_not_found, Call, Reply, Res};
use crate::fixtures::ProviderKind;
use crate::state::devapi::AuthToken;
use crate::util::{now_secs, random_id};
use serde_json::{json, Map, Value};

/// Longest JWT lifetime a caller may ask for (31 days).
const MAX_EXPIRATION: u64 = 31 * 86_400;
/// Claims `customClaims` cannot set.
const RESERVED: [&str; 7] = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"];

/// `GenerateJwtAuthenticationToken`: an ES256 JWT signed by the token key (verifiable with the
/// issuer's JWKS), `jti` = the token id.
pub(super) fn generate(call: &mut Call, c: &Caller) -> Res<Reply> {
    let input = call.input;
    let ident = req_str(input, "credentialProviderIdentifier")?;
    let subject = req_str(input, "subject")?;
    let audiences: Vec<String> = match input.get("audiences") {
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|v| {
                v.as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .ok_or_else(|| invalid("audiences must be non-empty strings"))
            })
            .collect::<Res<_>>()?,
        None | Some(Value::Null) => {
            return Err(err(
                400,
                "MissingParameter.audiences",
                "audiences is required",
            ))
        }
        Some(_) => return Err(invalid("audiences must be a non-empty array of strings")),
    };
    if let Some(a) = audiences.iter().find(|a| a.starts_with("urn:cloud:idaas")) {
        return Err(invalid(format!(
            "audience {a} is reserved (urn:cloud:idaas...)"
        )));
    }
    let p = provider(call.store, &ident)?;
    if p.kind != ProviderKind::Jwt {
        return Err(invalid(format!(
            "credential provider {ident} is not a JWT provider"
        )));
    }
    let expiration = opt_u64(input, "expiration")?.unwrap_or(p.default_expiration_secs);
    if expiration == 0 || expiration > MAX_EXPIRATION {
        return Err(invalid("expiration must be between 1 and 2678400 seconds"));
    }
    let include_dst = opt_bool(input, "includeDerivedShortToken")?.unwrap_or(false);
    let issuer = opt_str(input, "issuer")?.unwrap_or_else(|| call.st.site.issuer.clone());
    if !p.issuer_whitelist.is_empty() && !p.issuer_whitelist.contains(&issuer) {
        return Err(invalid(format!(
            "issuer {issuer} is not in the provider's whitelist"
        )));
    }
    let custom = match input.get("customClaims") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(invalid("customClaims must be an object")),
    };
    if let Some(k) = custom.keys().find(|k| RESERVED.contains(&k.as_str())) {
        return Err(invalid(format!(
            "customClaims must not set the registered claim {k}"
        )));
    }
    let now = now_secs();
    let id = random_id("atntkn_");
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("sub".into(), json!(subject));
    claims.insert(
        "aud".into(),
        if audiences.len() == 1 {
            json!(audiences[0])
        } else {
            json!(audiences)
        },
    );
    claims.insert("iat".into(), json!(now));
    claims.insert("nbf".into(), json!(now));
    claims.insert("exp".into(), json!(now + expiration));
    claims.insert("jti".into(), json!(id));
    for (k, v) in custom {
        claims.insert(k, v);
    }
    let jwt = call.st.keys.token.sign("JWT", &Value::Object(claims));
    let now_ms = now * 1000;
    let t = AuthToken {
        id,
        provider: ident.clone(),
        provider_id: call.store.provider_id(&ident),
        kind: "jwt",
        consumer_type: c.consumer_type.to_string(),
        consumer_id: c.consumer_id.clone(),
        creator_id: c.client_id.clone(),
        jwt: Some(jwt),
        dst: include_dst.then(|| format!("dst_{}", uuid::Uuid::new_v4().simple())),
        access_token: None,
        scope: String::new(),
        revoked: false,
        create_ms: now_ms,
        update_ms: now_ms,
        exp_ms: now_ms + expiration * 1000,
    };
    reply(&token_json(call.st, call.store.push_token(t), true))
}

/// `ObtainJwtAuthenticationToken`: a JWT by id, for its consumer.
pub(super) fn obtain(call: &mut Call, _caller: &Caller) -> Res<Reply> {
    let id = req_str(call.input, "authenticationTokenId")?;
    let consumer = req_str(call.input, "consumerId")?;
    let t = call
        .store
        .tokens
        .iter()
        .find(|t| t.id == id && t.consumer_id == consumer && t.kind == "jwt")
        .ok_or_else(|| token_not_found(&id))?;
    reply(&token_json(call.st, t, true))
}

/// `ObtainJwtAuthenticationTokenByDerivedShortToken`: the short token is the credential, so no
/// bearer token is needed.
pub(super) fn obtain_by_short_token(call: &mut Call) -> Res<Reply> {
    let dst = req_str(call.input, "derivedShortToken")?;
    let t = call
        .store
        .tokens
        .iter()
        .find(|t| t.dst.as_deref() == Some(dst.as_str()))
        .ok_or_else(|| token_not_found("(derived short token)"))?;
    reply(&token_json(call.st, t, true))
}
