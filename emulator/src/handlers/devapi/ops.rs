//! The operations of the Developer API: method, path, action name, authorisation and the
//! function that runs each. This table is the only place an operation is named.

use super::auth::Caller;
use super::{credentials, jwts, oauth, tokens, Call, Reply, Res};

/// One operation.
pub(crate) struct Op {
    pub method: &'static str,
    /// Path after `/v2/{instanceId}`.
    pub path: &'static str,
    /// The `x-acs-action` that must accompany it.
    pub action: &'static str,
    pub run: Run,
}

/// How an operation is authorised and run.
#[derive(Clone, Copy)]
pub(crate) enum Run {
    /// Needs a bearer token granting this PAM scope (or `.all`).
    Bearer(&'static str, fn(&mut Call, &Caller) -> Res<Reply>),
    /// A bearer token is neither needed nor checked (D-30).
    Open(fn(&mut Call) -> Res<Reply>),
}

const OBTAIN: &str = "authentication_token:obtain";
const MANAGE: &str = "authentication_token:manage";

/// Every operation (pam.md §4.15).
pub(crate) const OPS: &[Op] = &[
    Op {
        method: "GET",
        path: "/credentials/_/actions/obtain",
        action: "ObtainCredential",
        run: Run::Bearer("credential:obtain", credentials::obtain),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/fetchOAuthAccessToken",
        action: "FetchOAuthAuthenticationToken",
        run: Run::Bearer(OBTAIN, oauth::fetch),
    },
    Op {
        method: "POST",
        path: "/oauthAuthorizationSessions/_/actions/get",
        action: "GetOAuthAuthorizationSession",
        run: Run::Bearer(OBTAIN, oauth::get_session),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/generateJwt",
        action: "GenerateJwtAuthenticationToken",
        run: Run::Bearer(OBTAIN, jwts::generate),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/obtainJwt",
        action: "ObtainJwtAuthenticationToken",
        run: Run::Bearer(OBTAIN, jwts::obtain),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/obtainJwtByDerivedShortToken",
        action: "ObtainJwtAuthenticationTokenByDerivedShortToken",
        run: Run::Open(jwts::obtain_by_short_token),
    },
    Op {
        method: "GET",
        path: "/authenticationTokens",
        action: "ListAuthenticationTokens",
        run: Run::Bearer("authentication_token:read", tokens::list),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/validate",
        action: "ValidateAuthenticationToken",
        run: Run::Open(tokens::validate),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/revoke",
        action: "RevokeAuthenticationToken",
        run: Run::Bearer(MANAGE, tokens::revoke),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/revokeByConsumer",
        action: "RevokeAuthenticationTokenByConsumer",
        run: Run::Bearer(MANAGE, tokens::revoke_by_consumer),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/reinstate",
        action: "ReinstateAuthenticationToken",
        run: Run::Bearer(MANAGE, tokens::reinstate),
    },
    Op {
        method: "POST",
        path: "/authenticationTokens/_/actions/reinstateByConsumer",
        action: "ReinstateAuthenticationTokenByConsumer",
        run: Run::Bearer(MANAGE, tokens::reinstate_by_consumer),
    },
];
