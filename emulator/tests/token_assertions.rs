//! Token endpoint: JWT assertions, federated methods (OIDC, PKCS7, PCA) and token exchange.
mod common;
use common::*;
use idaas_emulator::{AuthMethod, Emulator, EmulatorOptions, Fixtures};
use serde_json::json;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn assertion_body(cid: &str, assertion: &str) -> String {
    form(&[
        ("client_id", cid),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
        ("grant_type", "client_credentials"),
        ("scope", PAM),
    ])
}

#[test]
fn client_secret_jwt_verified_and_replay_refused() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let te = emu.token_endpoint();
    let cid = emu.client_id(AuthMethod::ClientSecretJwt);
    let claims = assertion_claims(&cid, &te);
    let jwt = sign_hs256(emu.client_secret(), &claims);
    let r = post_form(&a, &te, &assertion_body(&cid, &jwt), None);
    assert_eq!(r.status, 200, "{}", r.body);
    // Replay of the same assertion (same jti).
    let r = post_form(&a, &te, &assertion_body(&cid, &jwt), None);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_client");
    assert!(r.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("jti already used"));
    // The http URL of the same port is accepted as aud.
    let http_te = format!("{}/api/v2/iauths_system/oauth2/token", emu.http_base_url());
    let jwt = sign_hs256(emu.client_secret(), &assertion_claims(&cid, &http_te));
    assert_eq!(
        post_form(&a, &te, &assertion_body(&cid, &jwt), None).status,
        200
    );
    // Refusals.
    let mut bad = Vec::new();
    bad.push(sign_hs256("wrong-secret", &assertion_claims(&cid, &te)));
    bad.push(sign_hs256(
        emu.client_secret(),
        &assertion_claims(&cid, "https://elsewhere.example/token"),
    ));
    let mut c = assertion_claims(&cid, &te);
    c["exp"] = json!(now() - 120);
    bad.push(sign_hs256(emu.client_secret(), &c));
    let mut c = assertion_claims(&cid, &te);
    c["exp"] = json!(now() + 7200);
    bad.push(sign_hs256(emu.client_secret(), &c));
    let mut c = assertion_claims(&cid, &te);
    c["iss"] = json!("someone_else");
    bad.push(sign_hs256(emu.client_secret(), &c));
    let mut c = assertion_claims(&cid, &te);
    c.as_object_mut().unwrap().remove("jti");
    bad.push(sign_hs256(emu.client_secret(), &c));
    for (i, jwt) in bad.iter().enumerate() {
        let r = post_form(&a, &te, &assertion_body(&cid, jwt), None);
        assert_eq!(r.status, 401, "case {i}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_client");
    }
}

#[test]
fn private_key_jwt_every_key_fixture() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let te = emu.token_endpoint();
    let cid = emu.client_id(AuthMethod::PrivateKeyJwt);
    for (key, alg) in [
        ("rsa2048_pkcs8.pem", "RS256"),
        ("rsa3072_pkcs8.pem", "RS384"),
        ("rsa4096_pkcs8.pem", "RS512"),
        ("rsa2048_pkcs8.pem", "RS512"),
        ("ec256_pkcs8.pem", "ES256"),
        ("ec384_pkcs8.pem", "ES384"),
    ] {
        let jwt = sign_pkcs8(&key_fixture(key), alg, &assertion_claims(&cid, &te));
        let r = post_form(&a, &te, &assertion_body(&cid, &jwt), None);
        assert_eq!(r.status, 200, "{key} {alg}: {}", r.body);
        // Tampered signature.
        let mut t = jwt.clone();
        let last = t.pop().unwrap();
        t.push(if last == 'A' { 'B' } else { 'A' });
        let r = post_form(&a, &te, &assertion_body(&cid, &t), None);
        assert_eq!(r.status, 401, "{key} {alg} tampered");
    }
}

#[test]
fn private_key_jwt_refuses_unregistered_key() {
    let pubpem = key_fixture("ec256_pub.pem");
    let fx = Fixtures::from_json_str(
        &json!({"clients": [{"clientId": "app_one", "publicKeys": [pubpem]}]}).to_string(),
    )
    .unwrap();
    let emu = idaas_emulator::start(EmulatorOptions {
        fixtures: Some(fx),
        ..Default::default()
    })
    .unwrap();
    let a = agent(&emu);
    let te = emu.token_endpoint();
    let ok = sign_pkcs8(
        &key_fixture("ec256_pkcs8.pem"),
        "ES256",
        &assertion_claims("app_one", &te),
    );
    assert_eq!(
        post_form(&a, &te, &assertion_body("app_one", &ok), None).status,
        200
    );
    for (key, alg) in [("ec384_pkcs8.pem", "ES384"), ("rsa2048_pkcs8.pem", "RS256")] {
        let jwt = sign_pkcs8(&key_fixture(key), alg, &assertion_claims("app_one", &te));
        let r = post_form(&a, &te, &assertion_body("app_one", &jwt), None);
        assert_eq!(r.status, 401, "{key}");
        assert_eq!(r.json()["error"], "invalid_client");
    }
}

#[test]
fn strict_assertion_audience_requires_the_issuer() {
    let strict = idaas_emulator::start(EmulatorOptions {
        strict_assertion_audience: true,
        ..Default::default()
    })
    .unwrap();
    let lenient = Emulator::start_default();
    for (is_strict, emu) in [(true, &strict), (false, &lenient)] {
        let a = agent(emu);
        let te = emu.token_endpoint();
        let iss = emu.issuer();
        let http_iss = format!("{}/api/v2/iauths_system/oauth2", emu.http_base_url());
        let secret_cid = emu.client_id(AuthMethod::ClientSecretJwt);
        let key_cid = emu.client_id(AuthMethod::PrivateKeyJwt);
        for aud in [te.as_str(), iss.as_str(), http_iss.as_str()] {
            let cases = [
                (
                    "CLIENT_SECRET_JWT",
                    &secret_cid,
                    sign_hs256(emu.client_secret(), &assertion_claims(&secret_cid, aud)),
                ),
                (
                    "PRIVATE_KEY_JWT",
                    &key_cid,
                    sign_pkcs8(
                        &key_fixture("ec256_pkcs8.pem"),
                        "ES256",
                        &assertion_claims(&key_cid, aud),
                    ),
                ),
            ];
            for (method, cid, jwt) in cases {
                let r = post_form(&a, &te, &assertion_body(cid, &jwt), None);
                let wants_issuer = aud != te;
                let expected = if wants_issuer == is_strict { 200 } else { 401 };
                assert_eq!(
                    r.status, expected,
                    "strict={is_strict} {method} aud={aud}: {}",
                    r.body
                );
                if expected == 401 {
                    let desc = r.json()["error_description"].as_str().unwrap().to_string();
                    let want = if is_strict {
                        "issuer"
                    } else {
                        "token endpoint"
                    };
                    assert!(desc.contains(want), "{desc}");
                }
            }
        }
    }
}

fn fed_body(cid: &str, fcn: &str, at: &str, assertion: &str, extra: &[(&str, &str)]) -> String {
    let mut p = vec![
        ("client_id", cid),
        ("application_federated_credential_name", fcn),
        ("client_assertion_type", at),
        ("client_assertion", assertion),
    ];
    p.extend_from_slice(extra);
    p.push(("grant_type", "client_credentials"));
    p.push(("scope", PAM));
    form(&p)
}

const OIDC_AT: &str = "urn:cloud:idaas:params:oauth:client-assertion-type:id-token-bearer";
const PKCS7_AT: &str = "urn:cloud:idaas:params:oauth:client-assertion-type:pkcs7-bearer";
const PCA_AT: &str = "urn:cloud:idaas:params:oauth:client-assertion-type:x509-jwt-bearer";

#[test]
fn oidc_id_token_bearer() {
    let emu = Emulator::start_default();
    let other = Emulator::start_default();
    let a = agent(&emu);
    let te = emu.token_endpoint();
    let cid = emu.client_id(AuthMethod::Oidc);
    let tok = emu.mint_oidc_token("system:serviceaccount:ns:sa", 600);
    assert_eq!(
        post_form(
            &a,
            &te,
            &fed_body(&cid, "fed_oidc", OIDC_AT, &tok, &[]),
            None
        )
        .status,
        200
    );
    // The token file of the OIDC config works too.
    let file_tok = std::fs::read_to_string(emu.oidc_token_path()).unwrap();
    let cfg = emu.client_config(AuthMethod::Oidc);
    assert_eq!(
        cfg["authnConfiguration"]["oidcTokenFilePath"],
        emu.oidc_token_path().to_str().unwrap()
    );
    assert_eq!(
        post_form(
            &a,
            &te,
            &fed_body(&cid, "fed_oidc", OIDC_AT, &file_tok, &[]),
            None
        )
        .status,
        200
    );
    let expired = emu.mint_oidc_token("x", 0);
    let foreign = other.mint_oidc_token("x", 600);
    for (fcn, t) in [
        ("fed_oidc", &expired),
        ("fed_oidc", &foreign),
        ("fed_pkcs7", &tok),
        ("nope", &tok),
    ] {
        let r = post_form(&a, &te, &fed_body(&cid, fcn, OIDC_AT, t, &[]), None);
        assert_eq!(r.status, 401, "{fcn}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_client");
    }
}

fn metadata_doc(emu: &Emulator, a: &ureq::Agent, audience_json: &str) -> (u16, String) {
    let base = emu.metadata_base_url();
    let r = a
        .put(&format!("{base}/latest/api/token"))
        .header("X-aliyun-ecs-metadata-token-ttl-seconds", "3600")
        .send_empty()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let token = r.into_body().read_to_string().unwrap();
    let r = a
        .get(&format!(
            "{base}/latest/dynamic/instance-identity/pkcs7?audience={}",
            enc(audience_json).replace('+', "%20")
        ))
        .header("X-aliyun-ecs-metadata-token", &token)
        .call()
        .unwrap();
    (r.status().as_u16(), r.into_body().read_to_string().unwrap())
}

#[test]
fn pkcs7_attested_document_flow() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let te = emu.token_endpoint();
    let cid = emu.client_id(AuthMethod::Pkcs7);
    let inst = emu.instance_id().to_string();
    for aud in [
        format!(r#"{{"aud":"{inst}","signingTime":{}}}"#, now()),
        format!(r#"{{"aud": "{inst}", "signingTime": {}}}"#, now()),
    ] {
        let (st, doc) = metadata_doc(&emu, &a, &aud);
        assert_eq!(st, 200, "{doc}");
        let r = post_form(
            &a,
            &te,
            &fed_body(&cid, "fed_pkcs7", PKCS7_AT, &doc, &[]),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // Wrong audience, stale signing time, tampered document.
    let (_, wrong_aud) = metadata_doc(&emu, &a, r#"{"aud":"idaas_other","signingTime":1}"#);
    let (_, old) = metadata_doc(
        &emu,
        &a,
        &format!(r#"{{"aud":"{inst}","signingTime":{}}}"#, now() - 90_000),
    );
    let (_, good) = metadata_doc(
        &emu,
        &a,
        &format!(r#"{{"aud":"{inst}","signingTime":{}}}"#, now()),
    );
    let tampered = format!("{}x", &good[..good.len() - 1]);
    for d in [wrong_aud, old, tampered, "not-a-document".to_string()] {
        let r = post_form(
            &a,
            &te,
            &fed_body(&cid, "fed_pkcs7", PKCS7_AT, &d, &[]),
            None,
        );
        assert_eq!(r.status, 401, "{}", r.body);
    }
    // Metadata refuses requests without / with unknown session token.
    let base = emu.metadata_base_url();
    let r = a
        .get(&format!(
            "{base}/latest/dynamic/instance-identity/pkcs7?audience=%7B%7D"
        ))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = a
        .put(&format!("{base}/latest/api/token"))
        .send_empty()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

#[test]
fn pca_x509_jwt_bearer() {
    let emu = Emulator::start_default();
    let other = Emulator::start_default();
    let a = agent(&emu);
    let te = emu.token_endpoint();
    let cid = emu.client_id(AuthMethod::Pca);
    let creds = emu.issue_pca_credentials("workload-1");
    let sign = |key: &str| sign_pkcs8(key, "ES256", &assertion_claims(&cid, &te));
    let body = |c: &idaas_emulator::PcaCredentials, jwt: &str| {
        fed_body(
            &cid,
            "fed_pca",
            PCA_AT,
            jwt,
            &[
                ("client_x509", &c.cert_pem),
                ("client_x509_chain", &c.chain_pem),
            ],
        )
    };
    let r = post_form(&a, &te, &body(&creds, &sign(&creds.key_pem)), None);
    assert_eq!(r.status, 200, "{}", r.body);
    // The default credentials in client_config(Pca) work too.
    let d = emu.default_pca_credentials().clone();
    assert_eq!(
        post_form(&a, &te, &body(&d, &sign(&d.key_pem)), None).status,
        200
    );
    // Certificate from another PCA; assertion signed by another key; missing chain.
    let foreign = other.issue_pca_credentials("workload-1");
    let r = post_form(&a, &te, &body(&foreign, &sign(&foreign.key_pem)), None);
    assert_eq!(r.status, 401, "{}", r.body);
    let r = post_form(&a, &te, &body(&creds, &sign(&d.key_pem)), None);
    assert_eq!(r.status, 401, "{}", r.body);
    let no_chain = fed_body(
        &cid,
        "fed_pca",
        PCA_AT,
        &sign(&creds.key_pem),
        &[("client_x509", &creds.cert_pem), ("client_x509_chain", "")],
    );
    assert_eq!(post_form(&a, &te, &no_chain, None).status, 401);
}

/// A token exchange by the secret client; `requested_token_type` is left out when `None`.
fn exchange(
    emu: &Emulator,
    a: &ureq::Agent,
    secret: &str,
    subject: &str,
    stt: &str,
    rtt: Option<&str>,
) -> Reply {
    let mut fields = vec![
        ("client_id", "app_secret"),
        ("client_secret", secret),
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token", subject),
        ("subject_token_type", stt),
    ];
    if let Some(rtt) = rtt {
        fields.push(("requested_token_type", rtt));
    }
    fields.push(("scope", PAM));
    post_form(a, &emu.token_endpoint(), &form(&fields), None)
}

const TT_ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const TT_ID: &str = "urn:ietf:params:oauth:token-type:id_token";

#[test]
fn token_exchange() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let user = emu.mint_oidc_token("user-42", 600);
    let ex = |subject: &str, stt: &str| {
        exchange(&emu, &a, emu.client_secret(), subject, stt, Some(TT_ACCESS))
    };
    let r = ex(&user, TT_ID);
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["issued_token_type"], TT_ACCESS);
    assert_eq!(j["token_type"], "Bearer");
    assert!(j["expires_at"].is_u64());
    let claims = jwt_claims(j["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "user-42");
    assert_eq!(claims["act"]["sub"], "app_secret");
    // An emulator access token as subject.
    let at = token_for(&emu, &a, PAM);
    assert_eq!(ex(&at, TT_ACCESS).status, 200);
    // Refusals: foreign token, bad type, expired.
    let r = ex(
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        "urn:ietf:params:oauth:token-type:jwt",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");
    assert_eq!(ex(&user, "urn:example:bogus").status, 400);
    let expired = emu.mint_oidc_token("user-42", 0);
    assert_eq!(ex(&expired, TT_ID).json()["error"], "invalid_grant");
    // Client authentication still applies.
    let r = exchange(&emu, &a, "bad", &user, TT_ID, None);
    assert_eq!(r.status, 401);
}

#[test]
fn token_exchange_for_an_id_token() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let ex = |subject: &str, stt: &str, rtt: &str| {
        exchange(&emu, &a, emu.client_secret(), subject, stt, Some(rtt))
    };
    let user = emu.mint_oidc_token("user-42", 600);
    let r = ex(&user, TT_ID, TT_ID);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let j = r.json();
    // RFC 8693 §2.2.1: the issued token is `access_token`; not an access token, so `N_A`.
    assert_eq!(j["issued_token_type"], TT_ID);
    assert_eq!(j["token_type"], "N_A");
    assert_eq!(j["expires_in"], 1200);
    assert_eq!(j["scope"], PAM);
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "token_type",
            "expires_in",
            "expires_at",
            "scope",
            "issued_token_type"
        ]
    );
    let id_token = j["access_token"].as_str().unwrap();
    assert!(verifies_with_issuer_jwks(&emu, &a, id_token));
    let claims = jwt_claims(id_token);
    let names: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, ["iss", "sub", "aud", "iat", "exp"]);
    assert_eq!(claims["iss"], emu.issuer());
    assert_eq!(claims["sub"], "user-42");
    assert_eq!(claims["aud"], "app_secret");
    let iat = claims["iat"].as_u64().unwrap();
    assert!(iat.abs_diff(now()) <= 5);
    assert_eq!(claims["exp"].as_u64().unwrap(), iat + 1200);
    assert_eq!(j["expires_at"], claims["exp"]);

    // The subject of an access token is its client.
    let at = token_for(&emu, &a, PAM);
    let r = ex(&at, TT_ACCESS, TT_ID);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        jwt_claims(r.json()["access_token"].as_str().unwrap())["sub"],
        "app_secret"
    );

    // An ID token is not an access token: the Developer API refuses it as a bearer.
    let r = dev(
        &emu,
        &a,
        "GET",
        "/credentials/_/actions/obtain?credentialIdentifier=openai_prod_key",
        "ObtainCredential",
        Some(id_token),
        None,
    );
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(
        r.json()["error_description"],
        "bearer token is not an access token"
    );

    // The subject token is still verified, and other token types are still refused.
    let expired = emu.mint_oidc_token("user-42", 0);
    assert_eq!(ex(&expired, TT_ID, TT_ID).json()["error"], "invalid_grant");
    let r = ex(
        &user,
        TT_ID,
        "urn:ietf:params:oauth:token-type:refresh_token",
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error_description"],
        "unsupported requested_token_type urn:ietf:params:oauth:token-type:refresh_token"
    );
}
