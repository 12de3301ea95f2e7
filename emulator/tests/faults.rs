//! Fault injection: every mode, route matching, times, control API and start-up faults.
mod common;
use common::*;
use idaas_emulator::Emulator;
use idaas_emulator::{start, EmulatorOptions, Fault, FaultRule, Route};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn token_body(emu: &Emulator) -> String {
    form(&[
        ("client_id", "app_secret"),
        ("client_secret", emu.client_secret()),
        ("grant_type", "client_credentials"),
        ("scope", PAM),
    ])
}

fn fault(emu: &Emulator, route: Route, f: Fault, times: Option<u32>) {
    emu.set_fault(FaultRule {
        route,
        fault: f,
        times,
    });
}

/// Sends a raw token request over plain HTTP and reads until EOF or error.
fn raw_token(emu: &Emulator) -> (Vec<u8>, Option<std::io::ErrorKind>) {
    let mut s = TcpStream::connect(emu.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let body = token_body(emu);
    let req = format!(
        "POST /api/v2/iauths_system/oauth2/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        body
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Some(e.kind())),
        }
    }
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn connection_level_faults() {
    let emu = Emulator::start_default();
    // Reset before answering.
    fault(&emu, Route::Token, Fault::Reset, Some(1));
    let (bytes, err) = raw_token(&emu);
    assert!(bytes.is_empty());
    assert_eq!(err, Some(std::io::ErrorKind::ConnectionReset));
    // Down: closed without a response (FIN, no bytes, no error).
    fault(&emu, Route::Token, Fault::Down, Some(1));
    let (bytes, err) = raw_token(&emu);
    assert!(bytes.is_empty() && err.is_none(), "{err:?}");
    // Reset mid body: headers and part of the body, then RST.
    fault(&emu, Route::Token, Fault::ResetMidBody, Some(1));
    let (bytes, err) = raw_token(&emu);
    let text = String::from_utf8_lossy(&bytes).to_string();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(body.len() < content_length(head));
    assert_eq!(err, Some(std::io::ErrorKind::ConnectionReset));
    // Truncate: Content-Length larger than the body, then a clean close.
    fault(&emu, Route::Token, Fault::Truncate, Some(1));
    let (bytes, err) = raw_token(&emu);
    let text = String::from_utf8_lossy(&bytes).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(body.len() < content_length(head));
    assert!(err.is_none());
    // Faults with times=1 are gone now.
    let (bytes, _) = raw_token(&emu);
    assert!(String::from_utf8_lossy(&bytes).starts_with("HTTP/1.1 200"));
    // Logged with status 0 for the connection-level faults.
    let statuses: Vec<u16> = emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![0, 0, 200, 200, 200]);
}

#[test]
fn response_level_faults() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let te = emu.token_endpoint();
    let body = token_body(&emu);
    let go = || post_form(&a, &te, &body, None);

    fault(
        &emu,
        Route::Token,
        Fault::Latency(Duration::from_millis(300)),
        Some(1),
    );
    let t = Instant::now();
    assert_eq!(go().status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));

    fault(
        &emu,
        Route::Token,
        Fault::Status {
            status: 503,
            retry_after: Some(7),
            body: None,
        },
        Some(2),
    );
    for _ in 0..2 {
        let r = go();
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after"), Some("7"));
        assert_eq!(r.json()["error"], "server_error");
        assert!(r.json()["request_id"].is_string());
    }
    assert_eq!(go().status, 200);

    fault(
        &emu,
        Route::Token,
        Fault::Status {
            status: 400,
            retry_after: None,
            body: Some(
                r#"{"Code":"InvalidParameter","Message":"bad scope","RequestId":"R1"}"#.into(),
            ),
        },
        Some(1),
    );
    let r = go();
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["Code"], "InvalidParameter");

    fault(&emu, Route::Token, Fault::NonJson, Some(1));
    let r = go();
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(serde_json::from_str::<serde_json::Value>(&r.body).is_err());

    fault(
        &emu,
        Route::Token,
        Fault::JsonWithout("expires_at".into()),
        Some(1),
    );
    let j = go().json();
    assert!(j.get("expires_at").is_none() && j["access_token"].is_string());
    fault(
        &emu,
        Route::Token,
        Fault::JsonWithout("access_token".into()),
        Some(1),
    );
    let j = go().json();
    assert!(j.get("access_token").is_none() && j["expires_at"].is_u64());

    fault(&emu, Route::Token, Fault::ExpiresAtPast, Some(1));
    assert!(go().json()["expires_at"].as_u64().unwrap() < now());

    fault(&emu, Route::Token, Fault::HugeBody(2_000_000), Some(1));
    let r = go();
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 2_000_000);

    fault(&emu, Route::Token, Fault::NoContent, Some(1));
    let r = go();
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());

    fault(
        &emu,
        Route::Token,
        Fault::Redirect("https://elsewhere.invalid/token".into()),
        Some(1),
    );
    let r = go();
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some("https://elsewhere.invalid/token")
    );

    assert_eq!(go().status, 200);
    // Until cleared.
    fault(
        &emu,
        Route::Any,
        Fault::Status {
            status: 500,
            retry_after: None,
            body: None,
        },
        None,
    );
    assert_eq!(go().status, 500);
    assert_eq!(go().status, 500);
    emu.clear_faults();
    assert_eq!(go().status, 200);
}

#[test]
fn route_matching_and_control_api() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let tok = token_for(&emu, &a, PAM);
    fault(
        &emu,
        Route::DeveloperApiAction("ObtainCredential".into()),
        Fault::Status {
            status: 429,
            retry_after: Some(1),
            body: None,
        },
        None,
    );
    let obtain = || {
        dev(
            &emu,
            &a,
            "GET",
            "/credentials/_/actions/obtain?credentialIdentifier=openai_prod_key",
            "ObtainCredential",
            Some(&tok),
            None,
        )
    };
    let r = obtain();
    assert_eq!(r.status, 429);
    assert_eq!(r.header("x-acs-retry-after"), Some("1"));
    assert_eq!(r.json()["error"], "Throttling");
    // Other actions and the token endpoint are unaffected.
    let r = dev(
        &emu,
        &a,
        "POST",
        "/authenticationTokens/_/actions/validate",
        "ValidateAuthenticationToken",
        None,
        Some(&json!({"token": "x"})),
    );
    assert_eq!(r.status, 200);
    token_for(&emu, &a, PAM);
    emu.clear_faults();
    assert_eq!(obtain().status, 200);
    // Control API: add by spec, by fields, list, clear; metadata route.
    let ctl = |m: &str, p: &str, body: Option<serde_json::Value>| {
        let url = format!("{}/_emulator{p}", emu.http_base_url());
        let r = if m == "GET" {
            a.get(&url).call().unwrap()
        } else if m == "DELETE" {
            a.delete(&url).call().unwrap()
        } else {
            a.post(&url)
                .send(body.unwrap_or(json!({})).to_string())
                .unwrap()
        };
        let st = r.status().as_u16();
        (
            st,
            serde_json::from_str::<serde_json::Value>(&r.into_body().read_to_string().unwrap())
                .unwrap_or(json!(null)),
        )
    };
    assert_eq!(
        ctl(
            "POST",
            "/faults",
            Some(json!({"spec": "devapi=status/502:1"}))
        )
        .0,
        200
    );
    assert_eq!(obtain().status, 502);
    assert_eq!(obtain().status, 200);
    assert_eq!(
        ctl(
            "POST",
            "/faults",
            Some(json!({"route": "metadata", "fault": "status/500", "body": "boom"}))
        )
        .0,
        200
    );
    assert_eq!(
        ctl("GET", "/faults", None).1["faults"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = a
        .put(&format!("{}/latest/api/token", emu.metadata_base_url()))
        .header("X-aliyun-ecs-metadata-token-ttl-seconds", "60")
        .send_empty()
        .unwrap();
    assert_eq!(r.status().as_u16(), 500);
    assert_eq!(r.into_body().read_to_string().unwrap(), "boom");
    assert_eq!(ctl("DELETE", "/faults", None).0, 200);
    assert_eq!(
        ctl("POST", "/faults", Some(json!({"spec": "token=nonsense"}))).0,
        400
    );
    // Other control routes.
    let (st, j) = ctl("GET", "/requests?path_contains=/credentials/", None);
    assert_eq!(st, 200);
    assert_eq!(j["count"], 4);
    assert_eq!(
        j["requests"][0]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h[0] == "x-acs-action")
            .count(),
        1
    );
    let jsonl = a
        .get(&format!(
            "{}/_emulator/requests?format=jsonl",
            emu.http_base_url()
        ))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert_eq!(jsonl.lines().count(), emu.requests().len());
    assert_eq!(ctl("DELETE", "/requests", None).0, 200);
    assert_eq!(emu.requests().len(), 0, "control requests are not logged");
    let (_, j) = ctl(
        "POST",
        "/oidc-token",
        Some(json!({"subject": "u1", "lifetimeSecs": 60})),
    );
    assert_eq!(jwt_claims(j["token"].as_str().unwrap())["sub"], "u1");
    let (_, j) = ctl("POST", "/pca-credentials", Some(json!({"commonName": "w"})));
    assert!(j["keyPem"].as_str().unwrap().contains("PRIVATE KEY"));
    assert_eq!(
        ctl("POST", "/token-lifetime", Some(json!({"secs": 60}))).0,
        200
    );
    assert_eq!(
        post_form(&a, &emu.token_endpoint(), &token_body(&emu), None).json()["expires_in"],
        60
    );
    assert_eq!(
        ctl("POST", "/error-style", Some(json!({"style": "pop"}))).0,
        200
    );
    assert!(obtain().status == 200);
    let r = dev(
        &emu,
        &a,
        "GET",
        "/credentials/_/actions/obtain?credentialIdentifier=zzz",
        "ObtainCredential",
        Some(&tok),
        None,
    );
    assert_eq!(r.json()["Code"], "EntityNotExists.Credential");
    let (_, info) = ctl("GET", "/info", None);
    assert_eq!(info["tokenEndpoint"], emu.token_endpoint());
    assert_eq!(ctl("GET", "/nope", None).0, 404);
}

#[test]
fn startup_faults_and_omit_expires_at() {
    let emu = start(EmulatorOptions {
        faults: vec![idaas_emulator::parse_fault_spec("token=status/500:1").unwrap()],
        omit_expires_at: true,
        ..Default::default()
    })
    .unwrap();
    let a = agent(&emu);
    assert_eq!(
        post_form(&a, &emu.token_endpoint(), &token_body(&emu), None).status,
        500
    );
    let j = post_form(&a, &emu.token_endpoint(), &token_body(&emu), None).json();
    assert!(j.get("expires_at").is_none() && j["expires_in"] == 1200);
}
