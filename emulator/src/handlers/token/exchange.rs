//! RFC 8693 token exchange: the exchange parameters and the subject token.
//!
//! The subject token must be an unexpired token signed by the emulator's token key (an access
//! token) or by its trusted OIDC issuer. An access token or JWT may be requested; either is a
//! user-bound access token: `sub` = the subject's `sub`, `act` = the client.

use super::{bad, Form, E};
use crate::jwt::Jwt;
use crate::state::State;
use crate::util::now_secs;

const TT_ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const TT_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const TT_ID: &str = "urn:ietf:params:oauth:token-type:id_token";

/// The token type an exchange asks for (`requested_token_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Requested {
    AccessToken,
    Jwt,
}

impl Requested {
    /// The requested type; an absent or empty parameter asks for an access token.
    fn parse(form: &Form) -> Result<Requested, E> {
        match form.get("requested_token_type") {
            None | Some("") | Some(TT_ACCESS) => Ok(Requested::AccessToken),
            Some(TT_JWT) => Ok(Requested::Jwt),
            Some(other) => Err(bad(format!("unsupported requested_token_type {other}"))),
        }
    }

    /// The type URN (`issued_token_type` of the reply).
    pub(super) fn urn(self) -> &'static str {
        match self {
            Requested::AccessToken => TT_ACCESS,
            Requested::Jwt => TT_JWT,
        }
    }
}

/// A valid exchange request.
pub(super) struct Exchange {
    /// `sub` of the subject token.
    pub subject: String,
    pub requested: Requested,
}

/// Checks the exchange parameters and the subject token.
pub(super) fn exchange(st: &State, form: &Form) -> Result<Exchange, E> {
    let subject_token = form.req("subject_token")?;
    let stt = form.req("subject_token_type")?;
    if ![TT_ACCESS, TT_JWT, TT_ID].contains(&stt) {
        return Err(bad(format!("unsupported subject_token_type {stt}")));
    }
    let requested = Requested::parse(form)?;
    if form.get("actor_token").is_some() != form.get("actor_token_type").is_some() {
        return Err(bad("actor_token and actor_token_type go together"));
    }
    let subject = verify_subject_token(st, subject_token)
        .map_err(|e| E(400, "invalid_grant", format!("subject_token: {e}")))?;
    Ok(Exchange { subject, requested })
}

/// Verifies a subject token and returns its `sub`.
fn verify_subject_token(st: &State, t: &str) -> Result<String, String> {
    let jwt = Jwt::decode(t)?;
    let ok = st.keys.token.verify(&jwt) || st.keys.oidc.verify(&jwt);
    if !ok {
        return Err("signature is not from the emulator or its trusted OIDC issuer".into());
    }
    let exp = jwt.num_claim("exp").ok_or("no exp claim")?;
    if exp <= now_secs() as i64 {
        return Err("token is expired".into());
    }
    jwt.str_claim("sub")
        .map(str::to_string)
        .ok_or_else(|| "no sub claim".into())
}
