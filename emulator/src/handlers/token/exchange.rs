//! RFC 8693 token exchange: the exchange parameters, the subject token, and the ID tokens an
//! exchange can ask for.
//!
//! The subject token must be an unexpired token signed by the emulator's token key (an access
//! token, an exchanged ID token) or by its trusted OIDC issuer. The requested type decides what
//! is issued: an access token or JWT (a user-bound access token: `sub` = the subject's `sub`,
//! `act` = the client), or an ID token (`sub` = the subject's `sub`, `aud` = the client).

use super::{bad, Form, E};
use crate::fixtures::ClientFixture;
use crate::jwt::Jwt;
use crate::state::State;
use crate::util::now_secs;
use serde_json::json;

const TT_ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const TT_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const TT_ID: &str = "urn:ietf:params:oauth:token-type:id_token";

/// The token type an exchange asks for (`requested_token_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Requested {
    AccessToken,
    Jwt,
    IdToken,
}

impl Requested {
    /// The requested type; an absent or empty parameter asks for an access token.
    fn parse(form: &Form) -> Result<Requested, E> {
        match form.get("requested_token_type") {
            None | Some("") | Some(TT_ACCESS) => Ok(Requested::AccessToken),
            Some(TT_JWT) => Ok(Requested::Jwt),
            Some(TT_ID) => Ok(Requested::IdToken),
            Some(other) => Err(bad(format!("unsupported requested_token_type {other}"))),
        }
    }

    /// The type URN (`issued_token_type` of the reply).
    pub(super) fn urn(self) -> &'static str {
        match self {
            Requested::AccessToken => TT_ACCESS,
            Requested::Jwt => TT_JWT,
            Requested::IdToken => TT_ID,
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

/// An ID token for `subject`, issued to `client`: signed by the token key like every token of
/// the issuer (verifiable with its JWKS), `aud` = the client id.
pub(super) fn id_token(
    st: &State,
    client: &ClientFixture,
    subject: &str,
    now: u64,
    lifetime: u64,
) -> String {
    st.keys.token.sign(
        "JWT",
        &json!({
            "iss": st.site.issuer,
            "sub": subject,
            "aud": client.client_id,
            "iat": now,
            "exp": now + lifetime,
        }),
    )
}
