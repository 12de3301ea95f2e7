//! Developer API: every operation, bearer checks, pagination, revoke/reinstate, 3LO.
mod common;
use common::*;
use idaas_emulator::{Emulator, ErrorStyle};
use serde_json::json;

const TE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

fn user_token(emu: &Emulator, a: &ureq::Agent, user: &str) -> String {
    let subject = emu.mint_oidc_token(user, 600);
    let r = post_form(
        a,
        &emu.token_endpoint(),
        &form(&[
            ("client_id", "app_secret"),
            ("client_secret", emu.client_secret()),
            ("grant_type", TE_GRANT),
            ("subject_token", &subject),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            ),
            ("scope", PAM),
        ]),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["access_token"].as_str().unwrap().to_string()
}

/// The emulator verifies a bearer token's signature once (a cache of verified tokens); expiry and
/// signature are still enforced on every request.
#[test]
fn bearer_verification_cache_keeps_expiry_and_signature_checks() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let path = "/credentials/_/actions/obtain?credentialIdentifier=openai_prod_key";
    let obtain = |tok: &str| dev(&emu, &a, "GET", path, "ObtainCredential", Some(tok), None);
    // A token used (so verified and cached) while valid is refused once it has expired.
    emu.set_token_lifetime(2);
    let short = token_for(&emu, &a, PAM);
    emu.set_token_lifetime(1200);
    let exp = jwt_claims(&short)["exp"].as_u64().unwrap();
    for _ in 0..3 {
        let r = obtain(&short);
        if now() < exp {
            assert_eq!(r.status, 200, "{}", r.body);
        }
    }
    while now() < exp {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for _ in 0..2 {
        let r = obtain(&short);
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(
            r.json()["error_description"],
            "bearer token expired",
            "{}",
            r.body
        );
    }
    // A token with the header and payload of a cached token and a tampered signature is refused,
    // every time, and the genuine token keeps working.
    let tok = token_for(&emu, &a, PAM);
    assert_eq!(obtain(&tok).status, 200);
    let (input, sig) = tok.rsplit_once('.').unwrap();
    let mut sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    sig[31] ^= 0x04;
    let forged = format!("{input}.{}", b64url(&sig));
    for _ in 0..2 {
        let r = obtain(&forged);
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(
            r.json()["error_description"],
            "bearer token signature is invalid"
        );
    }
    // The signature of another valid token grafted onto the cached token's header and payload.
    let other = token_for(&emu, &a, PAM);
    let grafted = format!("{input}.{}", other.rsplit_once('.').unwrap().1);
    assert_eq!(obtain(&grafted).status, 401);
    assert_eq!(obtain(&tok).status, 200);
}

#[test]
fn obtain_credential() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let tok = token_for(&emu, &a, PAM);
    let r = dev(
        &emu,
        &a,
        "GET",
        "/credentials/_/actions/obtain?credentialIdentifier=openai_prod_key",
        "ObtainCredential",
        Some(&tok),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(
        j["credentialContent"]["apiKeyContent"]["apiKey"],
        "sk-EXAMPLE0123456789abcdef"
    );
    assert_eq!(j["credentialIdentifier"], "openai_prod_key");
    assert_eq!(j["credentialType"], "api_key");
    assert!(j["createTime"].is_u64());
    let r = dev(
        &emu,
        &a,
        "GET",
        "/credentials/_/actions/obtain?credentialIdentifier=partner_oauth_client",
        "ObtainCredential",
        Some(&tok),
        None,
    );
    assert_eq!(r.status, 200);
    assert!(r.json()["credentialContent"]["apiKeyContent"].is_null());
    assert_eq!(r.json()["credentialType"], "oauth_client");
    let r = dev(
        &emu,
        &a,
        "GET",
        "/credentials/_/actions/obtain?credentialIdentifier=nope",
        "ObtainCredential",
        Some(&tok),
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "EntityNotExists.Credential");
    assert!(r.json()["request_id"].is_string());
    // POP style.
    emu.set_error_style(ErrorStyle::Pop);
    let r = dev(
        &emu,
        &a,
        "GET",
        "/credentials/_/actions/obtain?credentialIdentifier=nope",
        "ObtainCredential",
        Some(&tok),
        None,
    );
    assert_eq!(r.json()["Code"], "EntityNotExists.Credential");
    assert!(r.json()["RequestId"].is_string());
    emu.set_error_style(ErrorStyle::OAuth);
    // Narrow documented scope works; another audience's token does not.
    let narrow = token_for(&emu, &a, "urn:cloud:idaas:pam|credential:obtain");
    let r = dev(
        &emu,
        &a,
        "GET",
        "/credentials/_/actions/obtain?credentialIdentifier=openai_prod_key",
        "ObtainCredential",
        Some(&narrow),
        None,
    );
    assert_eq!(r.status, 200);
    let r = dev(
        &emu,
        &a,
        "POST",
        "/authenticationTokens/_/actions/validate",
        "ValidateAuthenticationToken",
        Some(&narrow),
        Some(&json!({"token": "x"})),
    );
    assert_eq!(r.status, 200, "validate needs no scope");
    let r = dev(
        &emu,
        &a,
        "POST",
        "/authenticationTokens/_/actions/revoke",
        "RevokeAuthenticationToken",
        Some(&narrow),
        Some(&json!({"token": "x"})),
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "insufficient_scope");
    let other = token_for(&emu, &a, "api.example.com|read:file");
    let r = dev(
        &emu,
        &a,
        "GET",
        "/credentials/_/actions/obtain?credentialIdentifier=openai_prod_key",
        "ObtainCredential",
        Some(&other),
        None,
    );
    assert_eq!(r.status, 403);
}

#[test]
fn bearer_and_header_checks() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let path = "/credentials/_/actions/obtain?credentialIdentifier=openai_prod_key";
    let r = dev(&emu, &a, "GET", path, "ObtainCredential", None, None);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_token");
    let r = dev(
        &emu,
        &a,
        "GET",
        path,
        "ObtainCredential",
        Some("garbage"),
        None,
    );
    assert_eq!(r.status, 401);
    // Token from another emulator.
    let other = Emulator::start_default();
    let foreign = token_for(&other, &agent(&other), PAM);
    assert_eq!(
        dev(
            &emu,
            &a,
            "GET",
            path,
            "ObtainCredential",
            Some(&foreign),
            None
        )
        .status,
        401
    );
    // Expired token.
    emu.set_token_lifetime(1);
    let short = token_for(&emu, &a, PAM);
    emu.set_token_lifetime(1200);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let r = dev(
        &emu,
        &a,
        "GET",
        path,
        "ObtainCredential",
        Some(&short),
        None,
    );
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
    let tok = token_for(&emu, &a, PAM);
    // Action mismatch, bad version, unknown route, unknown instance, bad JSON.
    assert_eq!(
        dev(
            &emu,
            &a,
            "GET",
            path,
            "ListAuthenticationTokens",
            Some(&tok),
            None
        )
        .status,
        400
    );
    let url = format!(
        "https://{}/v2/{}{}",
        emu.developer_api_endpoint(),
        emu.instance_id(),
        path
    );
    let r = a
        .get(&url)
        .header("x-acs-version", "2019-01-01")
        .header("x-acs-action", "ObtainCredential")
        .header("Authorization", &format!("Bearer {tok}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = dev(&emu, &a, "POST", "/nothing/here", "X", Some(&tok), None);
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    let url = format!(
        "https://{}/v2/idaas_unknown{}",
        emu.developer_api_endpoint(),
        path
    );
    let r = dev_url(&a, "GET", &url, "ObtainCredential", Some(&tok), None);
    assert_eq!(r.status, 404);
    let url = format!(
        "https://{}/v2/{}/authenticationTokens/_/actions/generateJwt",
        emu.developer_api_endpoint(),
        emu.instance_id()
    );
    let r = a
        .post(&url)
        .header("x-acs-version", "2022-02-25")
        .header("x-acs-action", "GenerateJwtAuthenticationToken")
        .header("Authorization", &format!("Bearer {tok}"))
        .header("content-type", "application/json")
        .send("{not json")
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Missing query parameter.
    let r = dev(
        &emu,
        &a,
        "GET",
        "/credentials/_/actions/obtain",
        "ObtainCredential",
        Some(&tok),
        None,
    );
    assert_eq!(r.status, 400);
}

#[test]
fn jwt_tokens_lifecycle_and_pagination() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let tok = token_for(&emu, &a, PAM);
    let generate = |dst: bool| {
        dev(
            &emu,
            &a,
            "POST",
            "/authenticationTokens/_/actions/generateJwt",
            "GenerateJwtAuthenticationToken",
            Some(&tok),
            Some(
                &json!({"subject": "billing-agent", "credentialProviderIdentifier": "partner_jwt", "audiences": ["https://api.partner.example"], "customClaims": {"tenant": "acme", "tier": 2}, "expiration": 900, "includeDerivedShortToken": dst}),
            ),
        )
    };
    let r = generate(true);
    assert_eq!(r.status, 200, "{}", r.body);
    let g = r.json();
    assert_eq!(g["authenticationTokenType"], "jwt");
    assert_eq!(g["consumerId"], "app_secret");
    let jwt = g["jwtContent"]["jwtValue"].as_str().unwrap().to_string();
    let dst = g["jwtContent"]["derivedShortToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(dst.starts_with("dst_"));
    let claims = jwt_claims(&jwt);
    assert_eq!(claims["sub"], "billing-agent");
    assert_eq!(claims["aud"], "https://api.partner.example");
    assert_eq!(claims["tenant"], "acme");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        900
    );
    let id = g["authenticationTokenId"].as_str().unwrap().to_string();
    // Reserved audience refused; unknown provider 404; OAuth provider refused.
    let r = dev(
        &emu,
        &a,
        "POST",
        "/authenticationTokens/_/actions/generateJwt",
        "GenerateJwtAuthenticationToken",
        Some(&tok),
        Some(
            &json!({"subject": "s", "credentialProviderIdentifier": "partner_jwt", "audiences": ["urn:cloud:idaas:x"]}),
        ),
    );
    assert_eq!(r.status, 400);
    let r = dev(
        &emu,
        &a,
        "POST",
        "/authenticationTokens/_/actions/generateJwt",
        "GenerateJwtAuthenticationToken",
        Some(&tok),
        Some(&json!({"subject": "s", "credentialProviderIdentifier": "nope", "audiences": ["a"]})),
    );
    assert_eq!(r.status, 404);
    // Obtain / obtain by short token (no bearer).
    let r = dev(
        &emu,
        &a,
        "POST",
        "/authenticationTokens/_/actions/obtainJwt",
        "ObtainJwtAuthenticationToken",
        Some(&tok),
        Some(&json!({"authenticationTokenId": id, "consumerId": "app_secret"})),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["jwtContent"]["jwtValue"], jwt.as_str());
    let r = dev(
        &emu,
        &a,
        "POST",
        "/authenticationTokens/_/actions/obtainJwt",
        "ObtainJwtAuthenticationToken",
        Some(&tok),
        Some(&json!({"authenticationTokenId": id, "consumerId": "someone"})),
    );
    assert_eq!(r.status, 404);
    let r = dev(
        &emu,
        &a,
        "POST",
        "/authenticationTokens/_/actions/obtainJwtByDerivedShortToken",
        "ObtainJwtAuthenticationTokenByDerivedShortToken",
        None,
        Some(&json!({"derivedShortToken": dst})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["jwtContent"]["jwtValue"], jwt.as_str());
    // Validate (no bearer), revoke -> false -> reinstate -> true, by JWT and by short token.
    let validate = |t: &str| {
        let r = dev(
            &emu,
            &a,
            "POST",
            "/authenticationTokens/_/actions/validate",
            "ValidateAuthenticationToken",
            None,
            Some(&json!({"token": t})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["active"].as_bool().unwrap()
    };
    assert!(validate(&jwt) && validate(&dst));
    assert!(!validate("unknown"));
    let void = |action: &str, path: &str, body: serde_json::Value| {
        let r = dev(&emu, &a, "POST", path, action, Some(&tok), Some(&body));
        assert_eq!(r.status, 200, "{action}: {}", r.body);
        assert_eq!(r.json(), json!({}));
    };
    void(
        "RevokeAuthenticationToken",
        "/authenticationTokens/_/actions/revoke",
        json!({"token": jwt}),
    );
    assert!(!validate(&jwt) && !validate(&dst));
    void(
        "ReinstateAuthenticationToken",
        "/authenticationTokens/_/actions/reinstate",
        json!({"token": dst, "token_type_hint": "derived_short_token"}),
    );
    assert!(validate(&jwt) && validate(&dst));
    void(
        "RevokeAuthenticationTokenByConsumer",
        "/authenticationTokens/_/actions/revokeByConsumer",
        json!({"consumerId": "app_secret", "credentialProviderIdentifier": "partner_jwt"}),
    );
    assert!(!validate(&jwt));
    void(
        "ReinstateAuthenticationTokenByConsumer",
        "/authenticationTokens/_/actions/reinstateByConsumer",
        json!({"credentialProviderIdentifier": "partner_jwt", "consumerId": "app_secret"}),
    );
    assert!(validate(&jwt));
    let r = dev(
        &emu,
        &a,
        "POST",
        "/authenticationTokens/_/actions/revoke",
        "RevokeAuthenticationToken",
        Some(&tok),
        Some(&json!({"token": "unknown"})),
    );
    assert_eq!(r.status, 404);
    // Pagination over 5 tokens, 2 per page.
    for _ in 0..4 {
        assert_eq!(generate(false).status, 200);
    }
    void(
        "RevokeAuthenticationToken",
        "/authenticationTokens/_/actions/revoke",
        json!({"token": jwt}),
    );
    let mut next: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let mut q = "/authenticationTokens?consumerId=app_secret&credentialProviderIdentifier=partner_jwt&maxResults=2".to_string();
        if let Some(n) = &next {
            q.push_str(&format!("&nextToken={}", enc(n)));
        }
        let r = dev(
            &emu,
            &a,
            "GET",
            &q,
            "ListAuthenticationTokens",
            Some(&tok),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let j = r.json();
        assert_eq!(j["totalCount"], 5);
        assert_eq!(j["maxResults"], 2);
        for e in j["entities"].as_array().unwrap() {
            assert!(e.get("jwtContent").is_none());
            seen.push(e["authenticationTokenId"].as_str().unwrap().to_string());
        }
        match j["nextToken"].as_str() {
            Some(n) if !n.is_empty() => next = Some(n.to_string()),
            _ => break,
        }
    }
    assert_eq!(seen.len(), 5);
    assert!(seen.contains(&id));
    // Filters, Python-style booleans.
    let r = dev(&emu, &a, "GET", "/authenticationTokens?consumerId=app_secret&credentialProviderIdentifier=partner_jwt&revoked=True", "ListAuthenticationTokens", Some(&tok), None);
    assert_eq!(r.json()["totalCount"], 1);
    let r = dev(&emu, &a, "GET", "/authenticationTokens?consumerId=app_secret&credentialProviderIdentifier=partner_jwt&expired=false&revoked=FALSE", "ListAuthenticationTokens", Some(&tok), None);
    assert_eq!(r.json()["totalCount"], 4);
    assert_eq!(r.json()["maxResults"], 20);
    let r = dev(&emu, &a, "GET", "/authenticationTokens?consumerId=app_secret&credentialProviderIdentifier=partner_jwt&revoked=maybe", "ListAuthenticationTokens", Some(&tok), None);
    assert_eq!(r.status, 400);
}

#[test]
fn oauth_two_legged_and_three_legged() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let app = token_for(&emu, &a, PAM);
    let fetch = |bearer: &str, body: serde_json::Value| {
        dev(
            &emu,
            &a,
            "POST",
            "/authenticationTokens/_/actions/fetchOAuthAccessToken",
            "FetchOAuthAuthenticationToken",
            Some(bearer),
            Some(&body),
        )
    };
    // 2LO: token at once, reused.
    let r = fetch(
        &app,
        json!({"credentialProviderIdentifier": "google_drive_reader"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let t1 = r.json()["oauthAccessTokenContent"]["accessTokenValue"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(r.json()["authenticationTokenType"], "oauth_access_token");
    let r = fetch(
        &app,
        json!({"credentialProviderIdentifier": "google_drive_reader"}),
    );
    assert_eq!(
        r.json()["oauthAccessTokenContent"]["accessTokenValue"],
        t1.as_str()
    );
    // 3LO needs a user-bound token.
    let r = fetch(
        &app,
        json!({"credentialProviderIdentifier": "google_drive_user"}),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let user = user_token(&emu, &a, "alice");
    let r = fetch(
        &user,
        json!({"credentialProviderIdentifier": "google_drive_user", "customParameters": {"access_type": "offline", "prompt": "consent"}, "forceAuthentication": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let s = r.json()["oauthAuthorizationSession"].clone();
    assert!(r.json().get("oauthAccessTokenContent").is_none());
    assert_eq!(s["sessionStatus"], "pending");
    assert!(s["authorizationUrl"]
        .as_str()
        .unwrap()
        .contains("access_type=offline"));
    let uri = s["sessionUri"].as_str().unwrap().to_string();
    let sid = s["sessionId"].as_str().unwrap().to_string();
    assert_eq!(uri, format!("urn:ietf:params:oauth:request_uri:{sid}"));
    let get = |bearer: &str| {
        dev(
            &emu,
            &a,
            "POST",
            "/oauthAuthorizationSessions/_/actions/get",
            "GetOAuthAuthorizationSession",
            Some(bearer),
            Some(&json!({"sessionUri": uri})),
        )
    };
    assert_eq!(get(&user).json()["sessionStatus"], "pending");
    // Still pending -> another fetch gives another session, not a token.
    emu.set_session_status(&sid, "callback_received");
    assert_eq!(get(&user).json()["sessionStatus"], "callback_received");
    emu.set_session_status(&sid, "completed");
    let g = get(&user).json();
    assert_eq!(g["sessionStatus"], "completed");
    assert!(g["authenticationTokenId"].is_string());
    assert_eq!(g["credentialProviderIdentifier"], "google_drive_user");
    let r = fetch(
        &user,
        json!({"credentialProviderIdentifier": "google_drive_user"}),
    );
    assert_eq!(r.status, 200);
    assert!(
        r.json()["oauthAccessTokenContent"]["accessTokenValue"].is_string(),
        "{}",
        r.body
    );
    assert_eq!(r.json()["consumerId"], "alice");
    // Another user has no consent; failed and expired sessions; unknown session 404.
    let bob = user_token(&emu, &a, "bob");
    let r = fetch(
        &bob,
        json!({"credentialProviderIdentifier": "google_drive_user"}),
    );
    let bob_sid = r.json()["oauthAuthorizationSession"]["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    emu.set_session_status(&bob_sid, "failed");
    let r = dev(
        &emu,
        &a,
        "POST",
        "/oauthAuthorizationSessions/_/actions/get",
        "GetOAuthAuthorizationSession",
        Some(&bob),
        Some(&json!({"sessionUri": format!("urn:ietf:params:oauth:request_uri:{bob_sid}")})),
    );
    assert_eq!(r.json()["sessionStatus"], "failed");
    assert!(r.json()["errorCode"].is_string());
    emu.set_session_status(&bob_sid, "expired");
    let r = dev(
        &emu,
        &a,
        "POST",
        "/oauthAuthorizationSessions/_/actions/get",
        "GetOAuthAuthorizationSession",
        Some(&bob),
        Some(&json!({"sessionUri": bob_sid})),
    );
    assert_eq!(r.json()["sessionStatus"], "expired");
    let r = dev(
        &emu,
        &a,
        "POST",
        "/oauthAuthorizationSessions/_/actions/get",
        "GetOAuthAuthorizationSession",
        Some(&bob),
        Some(&json!({"sessionUri": "urn:ietf:params:oauth:request_uri:oas_nope"})),
    );
    assert_eq!(r.status, 404);
    assert!(emu.try_set_session_status("oas_nope", "completed").is_err());
    // Control route completes a session too.
    let r = fetch(
        &bob,
        json!({"credentialProviderIdentifier": "google_drive_user"}),
    );
    let sid2 = r.json()["oauthAuthorizationSession"]["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = a
        .post(&format!(
            "{}/_emulator/sessions/{sid2}",
            emu.http_base_url()
        ))
        .send(json!({"status": "completed"}).to_string())
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = fetch(
        &bob,
        json!({"credentialProviderIdentifier": "google_drive_user"}),
    );
    assert!(
        r.json()["oauthAccessTokenContent"].is_object(),
        "{}",
        r.body
    );
    // Opening the authorization URL plays the user approving.
    let carol = user_token(&emu, &a, "carol");
    let r = fetch(
        &carol,
        json!({"credentialProviderIdentifier": "google_drive_user"}),
    );
    let url = r.json()["oauthAuthorizationSession"]["authorizationUrl"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(a.get(&url).call().unwrap().status().as_u16(), 200);
    let r = fetch(
        &carol,
        json!({"credentialProviderIdentifier": "google_drive_user"}),
    );
    assert!(
        r.json()["oauthAccessTokenContent"].is_object(),
        "{}",
        r.body
    );
}
