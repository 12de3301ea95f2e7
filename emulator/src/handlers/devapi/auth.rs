//! Authorisation of Developer API requests by their bearer token.
//!
//! The token's signature is verified once per token (`crate::bearer`); `iss`, `exp` against
//! the current time, the access-token claims and the operation's scope are checked on every
//! request.

use super::{err, Res};
use crate::bearer::BearerError;
use crate::http::Request;
use crate::state::State;
use crate::util::now_secs;

/// The audience of PAM scopes.
const PAM_AUDIENCE: &str = "urn:cloud:idaas:pam";

/// Who is calling (from the bearer token).
pub(crate) struct Caller {
    /// The client the token was issued to.
    pub client_id: String,
    /// The consumer: the client, or for a user-bound token its `sub`.
    pub consumer_id: String,
    /// `application` or `user`.
    pub consumer_type: &'static str,
    /// Whether the token came from a token exchange (it has an `act` claim).
    pub user_bound: bool,
}

/// Verifies the `Authorization: Bearer` token of `req` and the operation's scope.
pub(super) fn authorize(st: &State, req: &Request, op_scope: &str) -> Res<Caller> {
    let unauth = |m: &str| err(401, "invalid_token", m);
    let h = req
        .header("authorization")
        .ok_or_else(|| unauth("missing Authorization: Bearer token"))?
        .trim();
    let tok = match (h.get(..7), h.get(7..)) {
        (Some(scheme), Some(rest)) if scheme.eq_ignore_ascii_case("bearer ") => rest.trim(),
        _ => return Err(unauth("Authorization must use the Bearer scheme")),
    };
    authorize_token(st, tok, op_scope, now_secs() as i64)
}

/// Checks a bearer token for an operation at time `now` (epoch seconds).
fn authorize_token(st: &State, tok: &str, op_scope: &str, now: i64) -> Res<Caller> {
    let unauth = |m: &str| err(401, "invalid_token", m);
    let jwt = st
        .devapi
        .bearer
        .verify(&st.keys.token, tok, now)
        .map_err(|e| match e {
            BearerError::Malformed => unauth("bearer token is malformed"),
            BearerError::BadSignature => unauth("bearer token signature is invalid"),
        })?;
    if jwt.iss.as_deref() != Some(st.site.issuer.as_str()) {
        return Err(unauth("bearer token was not issued by this emulator"));
    }
    if jwt.exp <= now {
        return Err(unauth("bearer token expired"));
    }
    let (Some(client_id), Some(scope)) = (jwt.client_id.as_deref(), jwt.scope.as_deref()) else {
        return Err(unauth("bearer token is not an access token"));
    };
    // Each item must be `PAM_AUDIENCE|op_scope` or `PAM_AUDIENCE|.all`.
    let grants = |s: &str| {
        s.strip_prefix(PAM_AUDIENCE)
            .and_then(|r| r.strip_prefix('|'))
            .is_some_and(|r| r == op_scope || r == ".all")
    };
    if !scope.split_whitespace().any(grants) {
        let needed = format!("{PAM_AUDIENCE}|{op_scope}");
        let all = format!("{PAM_AUDIENCE}|.all");
        return Err(err(
            403,
            "insufficient_scope",
            format!("the bearer token needs scope {needed} or {all}"),
        ));
    }
    let user_bound = jwt.user_bound;
    let sub = jwt.sub.as_deref().unwrap_or(client_id).to_string();
    Ok(Caller {
        client_id: client_id.to_string(),
        consumer_id: if user_bound {
            sub
        } else {
            client_id.to_string()
        },
        consumer_type: if user_bound { "user" } else { "application" },
        user_bound,
    })
}

#[cfg(test)]
mod tests {
    use super::super::ApiErr;
    use super::*;
    use crate::util::random_id;
    use serde_json::json;

    /// An access token as the token endpoint issues it (`exp` = `now + life`).
    fn access_token(st: &State, now: i64, life: i64, scope: &str) -> String {
        st.keys.token.sign(
            "at+jwt",
            &json!({"iss": st.site.issuer, "sub": "app_secret", "aud": PAM_AUDIENCE, "scope": scope,
                    "client_id": "app_secret", "iat": now, "exp": now + life, "jti": random_id("t_")}),
        )
    }

    fn refusal(r: Res<Caller>) -> (u16, String, String) {
        match r {
            Ok(_) => panic!("accepted"),
            Err(ApiErr(s, c, m)) => (s, c, m),
        }
    }

    #[test]
    fn a_cached_bearer_token_is_refused_once_expired() {
        let emu = crate::Emulator::start_default();
        let st = &emu.state;
        let now = now_secs() as i64;
        let tok = access_token(st, now, 20, "urn:cloud:idaas:pam|.all");
        let c = authorize_token(st, &tok, "credential:obtain", now)
            .ok()
            .unwrap();
        assert_eq!(c.consumer_id, "app_secret");
        assert!(st.devapi.bearer.contains(&tok));
        assert!(authorize_token(st, &tok, "credential:obtain", now + 19).is_ok());
        for t in [now + 20, now + 21, now + 10_000] {
            assert_eq!(
                refusal(authorize_token(st, &tok, "credential:obtain", t)),
                (401, "invalid_token".into(), "bearer token expired".into())
            );
        }
        // Still cached: the refusal comes from the per-request exp check.
        assert!(st.devapi.bearer.contains(&tok));
    }

    #[test]
    fn scope_is_checked_per_operation_on_a_cached_token() {
        let emu = crate::Emulator::start_default();
        let st = &emu.state;
        let now = now_secs() as i64;
        let tok = access_token(st, now, 60, "urn:cloud:idaas:pam|credential:obtain");
        assert!(authorize_token(st, &tok, "credential:obtain", now).is_ok());
        assert!(st.devapi.bearer.contains(&tok));
        let (status, code, _) = refusal(authorize_token(
            st,
            &tok,
            "authentication_token:obtain",
            now,
        ));
        assert_eq!((status, code.as_str()), (403, "insufficient_scope"));
        assert!(authorize_token(st, &tok, "credential:obtain", now).is_ok());
    }

    #[test]
    fn a_tampered_signature_is_refused_although_the_token_is_cached() {
        use base64::Engine;
        let emu = crate::Emulator::start_default();
        let st = &emu.state;
        let now = now_secs() as i64;
        let tok = access_token(st, now, 60, "urn:cloud:idaas:pam|.all");
        assert!(authorize_token(st, &tok, "credential:obtain", now).is_ok());
        let (input, sig) = tok.rsplit_once('.').unwrap();
        let mut sig = crate::util::B64URL.decode(sig).unwrap();
        sig[0] ^= 0x80;
        let forged = format!("{input}.{}", crate::util::b64url(&sig));
        for _ in 0..2 {
            assert_eq!(
                refusal(authorize_token(st, &forged, "credential:obtain", now)),
                (
                    401,
                    "invalid_token".into(),
                    "bearer token signature is invalid".into()
                )
            );
        }
        assert!(!st.devapi.bearer.contains(&forged));
    }
}
