//! Token endpoint: client-secret methods, scopes, bad input, TLS and plain HTTP.
mod common;
use common::*;
use idaas_emulator::{AuthMethod, Emulator};

#[test]
fn basic_and_post_accept_right_secret_and_refuse_wrong_one() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let cid = emu.client_id(AuthMethod::ClientSecretBasic);
    let body = form(&[
        ("client_id", &cid),
        ("grant_type", "client_credentials"),
        ("scope", PAM),
    ]);
    let r = post_form(
        &a,
        &emu.token_endpoint(),
        &body,
        Some(&basic(&cid, emu.client_secret())),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["expires_in"], 1200);
    let exp_at = j["expires_at"].as_u64().unwrap();
    assert!(exp_at >= now() + 1190 && exp_at <= now() + 1210);
    assert!(r.header("x-request-id").is_some());
    let claims = jwt_claims(j["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], cid.as_str());
    assert_eq!(claims["aud"], "urn:cloud:idaas:pam");
    assert_eq!(claims["scope"], PAM);
    assert_eq!(claims["iss"], emu.issuer());

    let r = post_form(
        &a,
        &emu.token_endpoint(),
        &body,
        Some(&basic(&cid, "wrong")),
    );
    assert_eq!(r.status, 401);
    let j = r.json();
    assert_eq!(j["error"], "invalid_client");
    assert!(j["request_id"].as_str().is_some_and(|s| !s.is_empty()));

    // client_id in body must match Basic.
    let other = form(&[
        ("client_id", "app_limited"),
        ("grant_type", "client_credentials"),
        ("scope", PAM),
    ]);
    let r = post_form(
        &a,
        &emu.token_endpoint(),
        &other,
        Some(&basic(&cid, emu.client_secret())),
    );
    assert_eq!(r.status, 401);

    // POST, parameters in another order, %20 for space.
    let body = format!(
        "scope={}&grant_type=client_credentials&client_secret={}&client_id={}",
        "api.example.com%7Cread%3Afile%20api.example.com%7Cwrite%3Afile",
        enc(emu.client_secret()),
        cid
    );
    let r = post_form(&a, &emu.token_endpoint(), &body, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        jwt_claims(r.json()["access_token"].as_str().unwrap())["aud"],
        "api.example.com"
    );
    let body = form(&[
        ("client_id", &cid),
        ("client_secret", "nope"),
        ("grant_type", "client_credentials"),
        ("scope", PAM),
    ]);
    let r = post_form(&a, &emu.token_endpoint(), &body, None);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_client");
    // Unknown client.
    let body = form(&[
        ("client_id", "app_nope"),
        ("client_secret", "x"),
        ("grant_type", "client_credentials"),
        ("scope", PAM),
    ]);
    assert_eq!(
        post_form(&a, &emu.token_endpoint(), &body, None).status,
        401
    );

    // Request log.
    let log = emu.requests();
    assert_eq!(emu.count_requests("/oauth2/token"), log.len());
    assert_eq!(log[0].form_param("client_id"), Some(cid.as_str()));
    assert!(log[0]
        .header("authorization")
        .unwrap()
        .starts_with("Basic "));
    assert_eq!(log[0].status, 200);
    emu.clear_requests();
    assert!(emu.requests().is_empty());
}

#[test]
fn basic_accepts_form_encoded_credentials() {
    let fx = idaas_emulator::Fixtures::from_json_str(
        r#"{"clients":[{"clientId":"app_x","clientSecret":"s3cr3t:with/special+chars"}]}"#,
    )
    .unwrap();
    let emu = idaas_emulator::start(idaas_emulator::EmulatorOptions {
        fixtures: Some(fx),
        ..Default::default()
    })
    .unwrap();
    let a = agent(&emu);
    let body = form(&[
        ("client_id", "app_x"),
        ("grant_type", "client_credentials"),
        ("scope", PAM),
    ]);
    for cred in [
        basic("app_x", "s3cr3t:with/special+chars"),
        basic("app_x", "s3cr3t%3Awith%2Fspecial%2Bchars"),
    ] {
        let r = post_form(&a, &emu.token_endpoint(), &body, Some(&cred));
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

/// Secrets that a raw (unencoded) Basic header carries differently from the form-encoded one:
/// `+` (decodes to a space), `%` (a bad escape, or an escape of something else), `:` and a space
/// (never left as is by a form encoder).
const SPECIAL_SECRETS: [&str; 5] = ["p+q", "p%zz", "p%41q", "p:q", "p q"];

fn special_secret_emulator(strict: bool) -> Emulator {
    let clients: Vec<serde_json::Value> = SPECIAL_SECRETS
        .iter()
        .enumerate()
        .map(|(i, s)| serde_json::json!({"clientId": format!("app_{i}"), "clientSecret": s}))
        .collect();
    let fx = idaas_emulator::Fixtures::from_json_str(
        &serde_json::json!({ "clients": clients }).to_string(),
    )
    .unwrap();
    idaas_emulator::start(idaas_emulator::EmulatorOptions {
        fixtures: Some(fx),
        strict_basic_encoding: strict,
        ..Default::default()
    })
    .unwrap()
}

fn basic_status(emu: &Emulator, id: &str, cred: &str) -> Reply {
    let body = form(&[
        ("client_id", id),
        ("grant_type", "client_credentials"),
        ("scope", PAM),
    ]);
    post_form(&agent(emu), &emu.token_endpoint(), &body, Some(cred))
}

#[test]
fn strict_basic_encoding_requires_form_encoded_credentials() {
    let strict = special_secret_emulator(true);
    let lenient = special_secret_emulator(false);
    for (i, secret) in SPECIAL_SECRETS.iter().enumerate() {
        let id = format!("app_{i}");
        let raw = basic(&id, secret);
        let encoded = basic(&id, &enc(secret));
        let r = basic_status(&strict, &id, &raw);
        assert_eq!(r.status, 401, "strict, raw {secret:?}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_client");
        let r = basic_status(&strict, &id, &encoded);
        assert_eq!(r.status, 200, "strict, form {secret:?}: {}", r.body);
        // The default mode accepts both spellings (D-10).
        let r = basic_status(&lenient, &id, &raw);
        assert_eq!(r.status, 200, "default, raw {secret:?}: {}", r.body);
        let r = basic_status(&lenient, &id, &encoded);
        assert_eq!(r.status, 200, "default, form {secret:?}: {}", r.body);
    }
    // The id is decoded too, and a wrong secret still fails once decoded.
    let r = basic_status(&strict, "app_0", &basic("app%5F0", &enc("p+q")));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = basic_status(&strict, "app_0", &basic("app_0", &enc("p+r")));
    assert_eq!(r.status, 401, "{}", r.body);
    // The refusal names the rule, never the secret.
    let r = basic_status(&strict, "app_3", &basic("app_3", "p:q"));
    let desc = r.json()["error_description"].as_str().unwrap().to_string();
    assert!(desc.contains("not form-encoded"), "{desc}");
    assert!(!desc.contains("p:q"), "{desc}");
}

#[test]
fn scopes_granted_and_denied() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let go = |cid: &str, scope: Option<&str>| {
        let mut p = vec![
            ("client_id", cid),
            ("client_secret", emu.client_secret()),
            ("grant_type", "client_credentials"),
        ];
        if let Some(s) = scope {
            p.push(("scope", s));
        }
        post_form(&a, &emu.token_endpoint(), &form(&p), None)
    };
    assert_eq!(
        go("app_secret", Some("api.example.com|read:file")).status,
        200
    );
    assert_eq!(
        go("app_secret", Some("urn:cloud:idaas:pam|credential:obtain")).status,
        200,
        "covered by .all"
    );
    for (cid, scope) in [
        ("app_limited", Some(PAM)),
        ("app_limited", Some("api.example.com|write:file")),
        (
            "app_secret",
            Some("api.example.com|read:file urn:cloud:idaas:pam|.all"),
        ),
        ("app_secret", Some("read write")),
        ("app_secret", Some("a|b|c")),
        ("app_secret", None),
        ("app_secret", Some("other.example|read")),
    ] {
        let r = go(cid, scope);
        assert_eq!(r.status, 400, "{cid} {scope:?}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_scope");
    }
    assert_eq!(
        go("app_limited", Some("api.example.com|read:file")).status,
        200
    );
}

#[test]
fn bad_token_requests() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let te = emu.token_endpoint();
    let secret = emu.client_secret().to_string();
    let ok = |extra: &str| {
        format!(
            "client_id=app_secret&client_secret={}&scope={}{extra}",
            enc(&secret),
            enc(PAM)
        )
    };
    let cases: Vec<(String, u16, &str)> = vec![
        (ok("&grant_type=password"), 400, "unsupported_grant_type"),
        (ok(""), 400, "invalid_request"),
        (ok("&grant_type=client_credentials&grant_type=client_credentials"), 400, "invalid_request"),
        (ok("&grant_type=client_credentials&x=%zz"), 400, "invalid_request"),
        ("grant_type=client_credentials&scope=a%7Cb".into(), 401, "invalid_client"),
        (format!("grant_type=client_credentials&client_id=app_secret&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=garbage&scope={}", enc(PAM)), 401, "invalid_client"),
    ];
    for (body, status, code) in cases {
        let r = post_form(&a, &te, &body, None);
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert_eq!(r.json()["error"], code, "{body}");
        assert!(r.json()["request_id"].is_string());
    }
    // Wrong content type.
    let r = a
        .post(&te)
        .header("Content-Type", "application/json")
        .send("{}")
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // GET.
    let r = a.get(&te).call().unwrap();
    assert_eq!(r.status().as_u16(), 405);
}

#[test]
fn plain_http_and_https_on_one_port() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    assert!(emu.https_base_url().starts_with("https://127.0.0.1:"));
    assert_eq!(
        emu.http_base_url().replace("http://", ""),
        emu.https_base_url().replace("https://", "")
    );
    let body = form(&[
        ("client_id", "app_secret"),
        ("client_secret", emu.client_secret()),
        ("grant_type", "client_credentials"),
        ("scope", PAM),
    ]);
    let http_te = format!("{}/api/v2/iauths_system/oauth2/token", emu.http_base_url());
    assert_eq!(post_form(&a, &http_te, &body, None).status, 200);
    assert_eq!(
        post_form(&a, &emu.token_endpoint(), &body, None).status,
        200
    );
    let log = emu.requests();
    assert!(!log[0].tls && log[1].tls);
    // A client that does not trust the CA fails the handshake.
    let untrusting: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![])))
                .build(),
        )
        .build()
        .into();
    assert!(untrusting
        .get(&format!("{}/health", emu.https_base_url()))
        .call()
        .is_err());
    // CA file on disk equals the PEM.
    assert_eq!(
        std::fs::read_to_string(emu.ca_cert_path()).unwrap(),
        emu.ca_cert_pem()
    );
    // JWKS and discovery.
    let d: serde_json::Value = a
        .get(&format!(
            "{}/.well-known/openid-configuration",
            emu.issuer()
        ))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!(d["token_endpoint"], emu.token_endpoint());
    let jwks: serde_json::Value = a
        .get(d["jwks_uri"].as_str().unwrap())
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "EC");
}

#[test]
fn client_config_shape() {
    let emu = Emulator::start_default();
    for m in AuthMethod::ALL {
        let c = emu.client_config(m);
        assert_eq!(c["tokenEndpoint"], emu.token_endpoint());
        assert_eq!(c["scope"], PAM);
        assert_eq!(c["developerApiEndpoint"], emu.developer_api_endpoint());
        assert_eq!(c["authnConfiguration"]["authnMethod"], m.as_config_str());
        assert_eq!(c["clientId"], emu.client_id(m));
        assert_eq!(
            c["httpConfiguration"]["caCertificatePath"],
            emu.ca_cert_path().to_str().unwrap()
        );
    }
    assert_eq!(
        emu.client_config(AuthMethod::ClientSecretBasic)["authnConfiguration"]
            ["clientSecretEnvVarName"],
        "IDAAS_CLIENT_SECRET"
    );
}
