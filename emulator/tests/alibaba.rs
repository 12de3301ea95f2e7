//! The Alibaba Cloud stand-ins of the PLUGIN `alibabacloudPluginCredentialProvider`: the
//! signature checks of `GenerateOauthToken` (signed here by a small independent signer), STS
//! `AssumeRoleWithOIDC`, the metadata RAM role, the credentials URI, their faults and
//! `--print-config PLUGIN`.

mod common;

use common::{agent, enc, now};
use idaas_emulator::{
    AuthMethod, Emulator, EmulatorOptions, Fault, FaultRule, Route, ALIBABA_CLOUD_PLUGIN_NAME,
};
use ring::{digest, hmac};
use serde_json::Value;
use std::io::{BufRead, BufReader};

const AK: &str = "LTAI5tEmulatorAccessKey01";
const SK: &str = "emulator-ak-secret-0123456789abcdef";
const STS_AK: &str = "STS.EmulatorStaticSts01";
const STS_SK: &str = "emulator-sts-secret-0123456789abcdef";
const STS_TOKEN: &str = "emulator-sts-security-token-0123456789abcdef";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn canon(s: &str) -> String {
    enc(s).replace('+', "%20")
}

/// Key material of a request.
struct Key<'a> {
    id: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
}

/// A GenerateOauthToken request, signed unless told otherwise.
struct Call<'a> {
    key: Key<'a>,
    params: Vec<(&'a str, String)>,
    date: String,
    nonce: String,
    /// Headers left out of the request and of `SignedHeaders`.
    omit: Vec<&'a str>,
    /// Sign with this secret instead of the key's.
    sign_secret: Option<&'a str>,
    /// Drop the security token from the request (still signed with it: a broken client).
    drop_token: bool,
    body: &'a str,
    hash_override: Option<String>,
}

impl<'a> Call<'a> {
    fn new(emu: &Emulator, key: Key<'a>) -> Call<'a> {
        Call {
            key,
            params: vec![
                ("ApplicationId", "app_plugin".to_string()),
                ("Audience", "api.example.com".to_string()),
                ("InstanceId", emu.instance_id().to_string()),
                ("ScopeValues.1", "read:file".to_string()),
                ("ScopeValues.2", "write:file".to_string()),
            ],
            date: utc(now()),
            nonce: uuid::Uuid::new_v4().simple().to_string(),
            omit: vec![],
            sign_secret: None,
            drop_token: false,
            body: "",
            hash_override: None,
        }
    }

    fn send(&self, emu: &Emulator) -> common::Reply {
        let host = emu.developer_api_endpoint();
        let hash = self
            .hash_override
            .clone()
            .unwrap_or_else(|| hex(digest::digest(&digest::SHA256, self.body.as_bytes()).as_ref()));
        let mut headers: Vec<(&str, String)> = vec![
            ("host", host.clone()),
            ("x-acs-version", "2021-12-01".into()),
            ("x-acs-action", "GenerateOauthToken".into()),
            ("x-acs-date", self.date.clone()),
            ("x-acs-signature-nonce", self.nonce.clone()),
            ("accept", "application/json".into()),
            ("x-acs-content-sha256", hash.clone()),
        ];
        if let Some(t) = self.key.token {
            headers.push(("x-acs-accesskey-id", self.key.id.into()));
            headers.push(("x-acs-security-token", t.into()));
        }
        headers.retain(|(k, _)| !self.omit.contains(k));
        let mut sorted = headers.clone();
        sorted.sort();
        let canonical_headers: String = sorted.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let signed: Vec<&str> = sorted.iter().map(|(k, _)| *k).collect();
        let mut q: Vec<(String, String)> = self
            .params
            .iter()
            .map(|(k, v)| (canon(k), canon(v)))
            .collect();
        q.sort();
        let cq = q
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let creq = format!(
            "POST\n/\n{cq}\n{canonical_headers}\n{}\n{hash}",
            signed.join(";")
        );
        let sts = format!(
            "ACS3-HMAC-SHA256\n{}",
            hex(digest::digest(&digest::SHA256, creq.as_bytes()).as_ref())
        );
        let key = hmac::Key::new(
            hmac::HMAC_SHA256,
            self.sign_secret.unwrap_or(self.key.secret).as_bytes(),
        );
        let sig = hex(hmac::sign(&key, sts.as_bytes()).as_ref());
        let wire: String = self
            .params
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = agent(emu).post(&format!("https://{host}/?{wire}"));
        for (k, v) in &headers {
            if self.drop_token && *k == "x-acs-security-token" {
                continue;
            }
            req = req.header(*k, v);
        }
        req = req.header(
            "Authorization",
            &format!(
                "ACS3-HMAC-SHA256 Credential={},SignedHeaders={},Signature={sig}",
                self.key.id,
                signed.join(";")
            ),
        );
        let r = req.send(self.body).expect("request");
        let status = r.status().as_u16();
        let body = r.into_body().read_to_string().unwrap_or_default();
        common::Reply {
            status,
            headers: vec![],
            body,
        }
    }
}

fn utc(secs: u64) -> String {
    // Days → civil date (proleptic Gregorian).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let r = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        r / 3600,
        r / 60 % 60,
        r % 60
    )
}

fn ak() -> Key<'static> {
    Key {
        id: AK,
        secret: SK,
        token: None,
    }
}

fn sts_key() -> Key<'static> {
    Key {
        id: STS_AK,
        secret: STS_SK,
        token: Some(STS_TOKEN),
    }
}

/// The Alibaba Cloud error code of a reply (and its shape).
fn code(r: &common::Reply) -> String {
    let v = r.json();
    for k in ["RequestId", "HostId", "Code", "Message"] {
        assert!(v.get(k).is_some(), "{k} missing in {}", r.body);
    }
    v["Code"].as_str().unwrap().to_string()
}

#[test]
fn generate_oauth_token_with_an_access_key_and_an_sts_key() {
    let emu = Emulator::start_default();
    for key in [ak(), sts_key()] {
        let mut c = Call::new(&emu, key);
        c.params[1].1 = "urn:cloud:idaas:pam".into();
        c.params[3].1 = ".all".into();
        c.params.truncate(4);
        let r = c.send(&emu);
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        let tr = &v["TokenResponse"];
        assert_eq!(tr["TokenType"], "Bearer");
        assert_eq!(tr["ExpiresIn"], 1200);
        let exp = tr["ExpiresAt"].as_u64().unwrap();
        assert!(exp >= now() + 1190 && exp <= now() + 1201);
        assert!(v["RequestId"].as_str().is_some());
        // The token is a Developer API bearer of the application.
        let token = tr["AccessToken"].as_str().unwrap();
        let path = "/credentials/_/actions/obtain?credentialIdentifier=openai_prod_key";
        let r = common::dev(
            &emu,
            &agent(&emu),
            "GET",
            path,
            "ObtainCredential",
            Some(token),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // A single JSON-array ScopeValues is accepted (to diagnose ports that send it).
    let mut c = Call::new(&emu, ak());
    c.params.truncate(3);
    c.params.push(("ScopeValues", r#"["read:file"]"#.into()));
    assert_eq!(c.send(&emu).status, 200);
    assert_eq!(emu.count_alibaba_action("GenerateOauthToken"), 3);
}

#[test]
fn signature_checks() {
    let emu = Emulator::start_default();
    // Wrong secret.
    let mut c = Call::new(&emu, ak());
    c.sign_secret = Some("not-the-secret");
    let r = c.send(&emu);
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "SignatureDoesNotMatch")
    );
    // A parameter changed after signing: the query is part of the signature.
    let c = Call::new(&emu, ak());
    let r = {
        let mut c2 = Call::new(&emu, ak());
        c2.params = c.params.clone();
        c2.params[4].1 = "admin".into();
        c2.sign_secret = None;
        c2
    };
    assert_eq!(r.send(&emu).status, 403); // validly signed, but not granted
                                          // Payload hash of another body.
    let mut c = Call::new(&emu, ak());
    c.hash_override = Some(hex(digest::digest(&digest::SHA256, b"x").as_ref()));
    let r = c.send(&emu);
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "SignatureDoesNotMatch")
    );
    // Unknown AccessKey.
    let r = Call::new(
        &emu,
        Key {
            id: "LTAIunknown",
            secret: "s",
            token: None,
        },
    )
    .send(&emu);
    assert_eq!(
        (r.status, code(&r).as_str()),
        (404, "InvalidAccessKeyId.NotFound")
    );
    // A required header not signed (left out).
    let mut c = Call::new(&emu, ak());
    c.omit = vec!["x-acs-signature-nonce"];
    let r = c.send(&emu);
    assert_eq!((r.status, code(&r).as_str()), (400, "IncompleteSignature"));
    // No Authorization at all.
    let r = agent(&emu)
        .post(&format!(
            "https://{}/?InstanceId=x",
            emu.developer_api_endpoint()
        ))
        .header("x-acs-action", "GenerateOauthToken")
        .header("x-acs-version", "2021-12-01")
        .send("")
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = serde_json::from_str(&r.into_body().read_to_string().unwrap()).unwrap();
    assert_eq!(body["Code"], "IncompleteSignature");
    // Stale and malformed dates.
    let mut c = Call::new(&emu, ak());
    c.date = utc(now() - 16 * 60);
    let r = c.send(&emu);
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "InvalidTimeStamp.Expired")
    );
    let mut c = Call::new(&emu, ak());
    c.date = utc(now() + 16 * 60);
    assert_eq!(code(&c.send(&emu)), "InvalidTimeStamp.Expired");
    let mut c = Call::new(&emu, ak());
    c.date = "Thu, 01 Jan 2026 00:00:00 GMT".into();
    assert_eq!(code(&c.send(&emu)), "InvalidTimeStamp.Format");
    // A replayed nonce.
    let c = Call::new(&emu, ak());
    assert_eq!(c.send(&emu).status, 200);
    let r = c.send(&emu);
    assert_eq!((r.status, code(&r).as_str()), (400, "SignatureNonceUsed"));
    // STS key without its security token; with a wrong one; a token with a long-term key.
    let mut c = Call::new(&emu, sts_key());
    c.omit = vec!["x-acs-security-token"];
    let r = c.send(&emu);
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "InvalidSecurityToken.MismatchWithAccessKey")
    );
    // Signed but not sent: a signed header is missing.
    let mut c = Call::new(&emu, sts_key());
    c.drop_token = true;
    assert_eq!(code(&c.send(&emu)), "IncompleteSignature");
    let r = Call::new(
        &emu,
        Key {
            id: STS_AK,
            secret: STS_SK,
            token: Some("wrong-token"),
        },
    )
    .send(&emu);
    assert_eq!(code(&r), "InvalidSecurityToken.MismatchWithAccessKey");
    let r = Call::new(
        &emu,
        Key {
            id: AK,
            secret: SK,
            token: Some("a-token"),
        },
    )
    .send(&emu);
    assert_eq!(code(&r), "InvalidSecurityToken.MismatchWithAccessKey");
}

#[test]
fn parameter_checks() {
    let emu = Emulator::start_default();
    for (drop, status, expected) in [
        ("InstanceId", 400, "MissingParameter"),
        ("ApplicationId", 400, "MissingParameter"),
        ("Audience", 400, "MissingParameter"),
        ("ScopeValues.1", 0, ""),
    ] {
        let mut c = Call::new(&emu, ak());
        c.params.retain(|(k, _)| *k != drop);
        if drop == "ScopeValues.1" {
            c.params.retain(|(k, _)| !k.starts_with("ScopeValues"));
            let r = c.send(&emu);
            assert_eq!((r.status, code(&r).as_str()), (400, "MissingParameter"));
            continue;
        }
        let r = c.send(&emu);
        assert_eq!((r.status, code(&r).as_str()), (status, expected), "{drop}");
    }
    let mut c = Call::new(&emu, ak());
    c.params[2].1 = "idaas_other".into();
    let r = c.send(&emu);
    assert_eq!(
        (r.status, code(&r).as_str()),
        (404, "EntityNotExists.Instance")
    );
    let mut c = Call::new(&emu, ak());
    c.params[0].1 = "app_unknown".into();
    let r = c.send(&emu);
    assert_eq!(
        (r.status, code(&r).as_str()),
        (404, "EntityNotExists.Application")
    );
    let mut c = Call::new(&emu, ak());
    c.params[0].1 = "app_limited".into();
    let r = c.send(&emu);
    assert_eq!(
        (r.status, code(&r).as_str()),
        (403, "Forbidden.ScopeNotGranted")
    );
    // Unknown action and version.
    let r = agent(&emu)
        .post(&format!("https://{}/", emu.developer_api_endpoint()))
        .header("x-acs-action", "DeleteEverything")
        .send("")
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r
        .into_body()
        .read_to_string()
        .unwrap()
        .contains("InvalidAction.NotFound"));
    // `/` without an action is still the health check.
    let r = agent(&emu)
        .get(&format!("{}/", emu.https_base_url()))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

fn sts_get(emu: &Emulator, params: &[(&str, &str)]) -> common::Reply {
    let q: String = params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let r = agent(emu)
        .get(&format!("{}/?{q}", emu.alibaba_endpoint()))
        .call()
        .unwrap();
    let status = r.status().as_u16();
    common::Reply {
        status,
        headers: vec![],
        body: r.into_body().read_to_string().unwrap(),
    }
}

#[test]
fn sts_assume_role_with_oidc_and_the_issued_key() {
    let emu = Emulator::start_default();
    let role = emu.alibaba_cloud().ram_roles[1].role_arn.clone();
    let provider = emu.alibaba_cloud().oidc_provider_arn.clone();
    let token = emu.mint_oidc_token("workload", 600);
    let base = |t: &str| {
        vec![
            ("Action", "AssumeRoleWithOIDC".to_string()),
            ("Format", "JSON".into()),
            ("Version", "2015-04-01".into()),
            ("DurationSeconds", "3600".into()),
            ("RoleArn", role.clone()),
            ("OIDCProviderArn", provider.clone()),
            ("OIDCToken", t.to_string()),
            ("RoleSessionName", "s1".into()),
            ("Timestamp", utc(now())),
        ]
    };
    let call = |p: &[(&str, String)]| {
        let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
        sts_get(&emu, &p)
    };
    let r = call(&base(&token));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let c = &v["Credentials"];
    let id = c["AccessKeyId"].as_str().unwrap().to_string();
    let secret = c["AccessKeySecret"].as_str().unwrap().to_string();
    let st = c["SecurityToken"].as_str().unwrap().to_string();
    let exp = c["Expiration"].as_str().unwrap();
    assert!(id.starts_with("STS."));
    assert_eq!(exp.len(), 20);
    assert!(v["AssumedRoleUser"]["Arn"]
        .as_str()
        .unwrap()
        .ends_with("/s1"));
    // The issued key signs GenerateOauthToken.
    let r = Call::new(
        &emu,
        Key {
            id: &id,
            secret: &secret,
            token: Some(&st),
        },
    )
    .send(&emu);
    assert_eq!(r.status, 200, "{}", r.body);
    // Refusals.
    let mut p = base(&token);
    p[4].1 = "acs:ram::1:role/nope".into();
    assert_eq!(code(&call(&p)), "EntityNotExist.Role");
    let mut p = base(&token);
    p[5].1 = "acs:ram::1:oidc-provider/nope".into();
    assert_eq!(code(&call(&p)), "EntityNotExist.OIDCProvider");
    assert_eq!(
        code(&call(&base("not.a.jwt"))),
        "AuthenticationFail.OIDCToken.Invalid"
    );
    assert_eq!(
        code(&call(&base(&emu.mint_oidc_token("w", 0)))),
        "AuthenticationFail.OIDCToken.Expired"
    );
    let mut p = base(&token);
    p[3].1 = "60".into();
    assert_eq!(code(&call(&p)), "InvalidParameter.DurationSeconds");
    let mut p = base(&token);
    p.retain(|(k, _)| *k != "RoleSessionName");
    assert_eq!(code(&call(&p)), "MissingRoleSessionName");
    assert_eq!(emu.count_alibaba_action("AssumeRoleWithOIDC"), 7);
}

#[test]
fn an_expired_temporary_key_is_refused() {
    let emu = idaas_emulator::start(EmulatorOptions {
        alibaba_sts_lifetime_secs: 1,
        ..EmulatorOptions::default()
    })
    .unwrap();
    let doc: Value = serde_json::from_str(
        &agent(&emu)
            .get(&emu.alibaba_credentials_uri())
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(doc["Code"], "Success");
    let (id, secret, token) = (
        doc["AccessKeyId"].as_str().unwrap(),
        doc["AccessKeySecret"].as_str().unwrap(),
        doc["SecurityToken"].as_str().unwrap(),
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let r = Call::new(
        &emu,
        Key {
            id,
            secret,
            token: Some(token),
        },
    )
    .send(&emu);
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "InvalidSecurityToken.Expired")
    );
}

#[test]
fn metadata_ram_role_and_credentials_uri() {
    let emu = Emulator::start_default();
    let a = agent(&emu);
    let base = emu.metadata_base_url();
    let token = a
        .put(&format!("{base}/latest/api/token"))
        .header("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")
        .send_empty()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    let get = |path: &str, t: Option<&str>| {
        let mut r = a.get(&format!("{base}{path}"));
        if let Some(t) = t {
            r = r.header("X-aliyun-ecs-metadata-token", t);
        }
        let r = r.call().unwrap();
        (r.status().as_u16(), r.into_body().read_to_string().unwrap())
    };
    let roles = "/latest/meta-data/ram/security-credentials/";
    assert_eq!(
        get(roles, Some(&token)),
        (200, "EmulatorEcsRole".to_string())
    );
    // IMDSv1 (no token) is answered too; a wrong token is not.
    assert_eq!(get(roles, None).0, 200);
    assert_eq!(get(roles, Some("bogus")).0, 401);
    let (status, body) = get(&format!("{roles}EmulatorEcsRole"), Some(&token));
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["Code"], "Success");
    for k in [
        "AccessKeyId",
        "AccessKeySecret",
        "SecurityToken",
        "Expiration",
        "LastUpdated",
    ] {
        assert!(doc[k].as_str().is_some(), "{k}");
    }
    assert_eq!(get(&format!("{roles}OtherRole"), Some(&token)).0, 404);
    // The credentials URI issues a fresh key each time.
    let uri = emu.alibaba_credentials_uri();
    let one: Value = serde_json::from_str(
        &a.get(&uri)
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    let two: Value = serde_json::from_str(
        &a.get(&uri)
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert_ne!(one["AccessKeyId"], two["AccessKeyId"]);
    let r = Call::new(
        &emu,
        Key {
            id: two["AccessKeyId"].as_str().unwrap(),
            secret: two["AccessKeySecret"].as_str().unwrap(),
            token: Some(two["SecurityToken"].as_str().unwrap()),
        },
    )
    .send(&emu);
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn faults_on_the_alibaba_routes() {
    let emu = Emulator::start_default();
    emu.set_fault(FaultRule {
        route: Route::OpenApi,
        fault: Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
        times: Some(1),
    });
    let r = Call::new(&emu, ak()).send(&emu);
    assert_eq!((r.status, code(&r).as_str()), (503, "server_error"));
    assert_eq!(Call::new(&emu, ak()).send(&emu).status, 200);
    emu.set_fault(
        idaas_emulator::parse_fault_spec("openapi=json-without/TokenResponse:1").unwrap(),
    );
    let r = Call::new(&emu, ak()).send(&emu);
    assert_eq!(r.status, 200);
    assert!(r.json().get("TokenResponse").is_none());
    emu.set_fault(idaas_emulator::parse_fault_spec("openapi=expires-at-past:1").unwrap());
    let r = Call::new(&emu, ak()).send(&emu);
    assert!(r.json()["TokenResponse"]["ExpiresAt"].as_u64().unwrap() < now());
    // Routes are told apart: an STS fault leaves the OpenAPI and the credentials URI alone.
    emu.set_fault(idaas_emulator::parse_fault_spec("sts=status/500").unwrap());
    assert_eq!(Call::new(&emu, ak()).send(&emu).status, 200);
    assert_eq!(
        agent(&emu)
            .get(&emu.alibaba_credentials_uri())
            .call()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let r = sts_get(&emu, &[("Action", "AssumeRoleWithOIDC")]);
    assert_eq!((r.status, code(&r).as_str()), (500, "server_error"));
    emu.clear_faults();
    emu.set_fault(idaas_emulator::parse_fault_spec("credentials-uri=status/404:1").unwrap());
    assert_eq!(
        agent(&emu)
            .get(&emu.alibaba_credentials_uri())
            .call()
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        agent(&emu)
            .get(&emu.alibaba_credentials_uri())
            .call()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

#[test]
fn print_config_plugin_gives_a_working_configuration() {
    let exe = env!("CARGO_BIN_EXE_idaas-emulator");
    let mut child = std::process::Command::new(exe)
        .args(["--print-config", "PLUGIN", "--exit-on-stdin-eof"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    loop {
        let mut l = String::new();
        if stdout.read_line(&mut l).unwrap() == 0 || {
            text.push_str(&l);
            l.starts_with('}')
        } {
            break;
        }
    }
    let cfg: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(cfg["authnConfiguration"]["authnMethod"], "PLUGIN");
    assert_eq!(
        cfg["authnConfiguration"]["pluginName"],
        ALIBABA_CLOUD_PLUGIN_NAME
    );
    assert_eq!(cfg["clientId"], "app_plugin");
    let endpoint = cfg["openApiEndpoint"].as_str().unwrap().to_string();
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("export ALIBABA_CLOUD_ACCESS_KEY_ID={AK}")),
        "{err}"
    );
    assert!(
        err.contains(&format!("export ALIBABA_CLOUD_ACCESS_KEY_SECRET={SK}")),
        "{err}"
    );
    assert!(
        err.contains("export IDAAS_ALIBABA_CLOUD_STS_ENDPOINT=https://127.0.0.1:"),
        "{err}"
    );
    // The same configuration from the library, used for real: the client's core does this
    // (idaas/tests/plugin_alibaba.rs); here the request the config and the variables describe.
    let emu = Emulator::start_default();
    let cfg = emu.client_config(AuthMethod::Plugin);
    let env = emu.alibaba_cloud_env();
    assert_eq!(cfg["openApiEndpoint"], emu.alibaba_endpoint());
    let mut c = Call::new(
        &emu,
        Key {
            id: &env[0].1,
            secret: &env[1].1,
            token: None,
        },
    );
    c.params[0].1 = cfg["clientId"].as_str().unwrap().to_string();
    c.params[1].1 = "urn:cloud:idaas:pam".into();
    c.params[3].1 = ".all".into();
    c.params.truncate(4);
    assert_eq!(c.send(&emu).status, 200);
    assert_eq!(
        emu.info()["alibabaCloud"]["environment"]["ALIBABA_CLOUD_ACCESS_KEY_ID"],
        AK
    );
}
