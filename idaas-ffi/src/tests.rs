//! The C ABI with the built-in PLUGIN `alibabacloudPluginCredentialProvider`: a configuration from
//! JSON, a client, a token — the calls every binding makes, with no plugin registered and no extra
//! code. The credential chain reads the process environment, which is shared by every test of this
//! binary; so the ABI calls run in a child process (this test binary again, running only this test)
//! whose environment is set when it is spawned, and this process never changes its own.
//!
//! Agent mode through the same calls: a configuration naming a host agent's socket (an in-process
//! stand-in) gets its token from the agent.

use super::*;
use std::ffi::CString;
use std::process::Command;

/// The variable that tells the child which scenario to run; its value is the configuration JSON.
const CHILD_CONFIG: &str = "IDAAS_FFI_TEST_PLUGIN_CONFIG";

/// What the child prints on success, before the token.
const TOKEN_PREFIX: &str = "TOKEN=";
/// What the child prints on failure, before `<code> <message>`.
const ERROR_PREFIX: &str = "ERROR=";

/// The child: config from JSON → client → token, through the exported functions only.
fn child(config_json: &str) {
    let json = CString::new(config_json).unwrap();
    let mut config: *mut idaas_config = ptr::null_mut();
    let mut client: *mut idaas_client = ptr::null_mut();
    let mut token: *mut c_char = ptr::null_mut();
    let mut err: *mut idaas_error = ptr::null_mut();
    // SAFETY: a NUL-terminated string and valid out-pointers, as the header requires.
    let code = unsafe { idaas_config_from_json(json.as_ptr(), &mut config, &mut err) };
    assert_eq!(code, idaas_code::Ok);
    // SAFETY: a live config handle, NULL options, valid out-pointers.
    let code = unsafe { idaas_client_new(config, ptr::null(), &mut client, &mut err) };
    assert_eq!(code, idaas_code::Ok);
    // SAFETY: a live client handle, NULL scope (the configured one), valid out-pointers.
    let code = unsafe { idaas_client_get_token(client, ptr::null(), &mut token, &mut err) };
    if code == idaas_code::Ok {
        // SAFETY: on success `token` is a NUL-terminated string owned by us.
        let t = unsafe { CStr::from_ptr(token) }
            .to_str()
            .unwrap()
            .to_string();
        println!("{TOKEN_PREFIX}{t}");
        // SAFETY: the string came from the library and is freed once.
        unsafe { idaas_string_free(token) };
    } else {
        // SAFETY: on failure `err` is a live error; its message is a NUL-terminated string it owns.
        let msg = unsafe { CStr::from_ptr(idaas_error_message(err)) }
            .to_string_lossy()
            .into_owned();
        println!("{ERROR_PREFIX}{} {msg}", code as u32);
        // SAFETY: a live error, freed once.
        unsafe { idaas_error_free(err) };
    }
    // SAFETY: live handles, each freed once.
    unsafe {
        idaas_client_free(client);
        idaas_config_free(config);
    }
}

/// Runs this test again in a child process with exactly `vars` (plus the configuration) as its
/// environment; returns the child's line of result.
fn run_child(config_json: &str, vars: &[(String, String)]) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tests::plugin_config_works_through_the_c_abi",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear()
        .env(CHILD_CONFIG, config_json)
        .envs(vars.iter().cloned())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The harness writes "test … " on the same line before the child's output.
    stdout
        .lines()
        .find_map(|l| {
            l.find(TOKEN_PREFIX)
                .or_else(|| l.find(ERROR_PREFIX))
                .map(|i| l[i..].to_string())
        })
        .unwrap_or_else(|| panic!("no result line in {stdout}"))
}

#[test]
fn plugin_config_works_through_the_c_abi() {
    if let Ok(cfg) = std::env::var(CHILD_CONFIG) {
        child(&cfg);
        return;
    }
    let emu = idaas_emulator::Emulator::start_default();
    let cfg = emu
        .client_config(idaas_emulator::AuthMethod::Plugin)
        .to_string();
    let home = std::env::temp_dir().join(format!("idaas-ffi-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let home_var = ("HOME".to_string(), home.to_string_lossy().into_owned());
    // The variables the emulator prints for its PLUGIN config.
    let mut vars = emu.alibaba_cloud_env();
    vars.push(home_var.clone());
    let line = run_child(&cfg, &vars);
    let token = line
        .strip_prefix(TOKEN_PREFIX)
        .unwrap_or_else(|| panic!("{line}"));
    assert_eq!(token.split('.').count(), 3, "{token}");
    let sent: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.header("x-acs-action") == Some("GenerateOauthToken"))
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].status, 200);
    assert_eq!(
        sent[0].header("x-acs-credentials-provider"),
        Some("default/env")
    );
    // No credentials: a credential error (300) naming the sources, through the same calls.
    let line = run_child(
        &cfg,
        &[
            home_var,
            ("ALIBABA_CLOUD_ECS_METADATA_DISABLED".into(), "true".into()),
        ],
    );
    assert!(line.starts_with(&format!("{ERROR_PREFIX}300 ")), "{line}");
    assert!(line.contains("AlibabaCloudCredentialsNotFound"), "{line}");
    let _ = std::fs::remove_dir_all(&home);
}

/// Agent mode through the C ABI (agent.md §6, core.md §2.9): a configuration that names the host
/// agent's socket gets its token from the agent, through the calls every binding makes. The agent
/// is a stand-in thread answering `GET /v1/token` with a fixed credential and counting requests.
#[cfg(unix)]
#[test]
fn agent_mode_works_through_the_c_abi() {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let dir = std::env::temp_dir().join(format!("idaas-ffi-agent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("agent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let targets = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    {
        let (seen, targets) = (seen.clone(), targets.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (seen, targets) = (seen.clone(), targets.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut out = conn;
                    loop {
                        // A GET has no body: the request ends with its empty line.
                        let mut first = String::new();
                        if reader.read_line(&mut first).unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                                break;
                            }
                        }
                        seen.fetch_add(1, Ordering::SeqCst);
                        targets.lock().unwrap().push(first.trim().to_string());
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap()
                            .as_secs();
                        let body = format!(
                            r#"{{"access_token":"ffi-agent-token","token_type":"Bearer","expires_in":600,"expires_at":{}}}"#,
                            now + 600
                        );
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if out.write_all(reply.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
    }

    let get_token = |config_json: &str| -> Result<String, (u32, String)> {
        let json = CString::new(config_json).unwrap();
        let mut config: *mut idaas_config = ptr::null_mut();
        let mut client: *mut idaas_client = ptr::null_mut();
        let mut err: *mut idaas_error = ptr::null_mut();
        // SAFETY: a NUL-terminated string and valid out-pointers, as the header requires.
        let code = unsafe { idaas_config_from_json(json.as_ptr(), &mut config, &mut err) };
        assert_eq!(code, idaas_code::Ok);
        // SAFETY: a live config handle, NULL options, valid out-pointers.
        let code = unsafe { idaas_client_new(config, ptr::null(), &mut client, &mut err) };
        assert_eq!(code, idaas_code::Ok);
        let mut result = Err((0, String::new()));
        for _ in 0..3 {
            let mut token: *mut c_char = ptr::null_mut();
            // SAFETY: a live client handle, NULL scope (the configured one), valid out-pointers.
            let code = unsafe { idaas_client_get_token(client, ptr::null(), &mut token, &mut err) };
            result = if code == idaas_code::Ok {
                // SAFETY: on success `token` is a NUL-terminated string owned by us, freed once.
                let t = unsafe { CStr::from_ptr(token) }
                    .to_str()
                    .unwrap()
                    .to_string();
                // SAFETY: the string came from the library and is freed once.
                unsafe { idaas_string_free(token) };
                Ok(t)
            } else {
                // SAFETY: on failure `err` is a live error, freed once after its message is read.
                let msg = unsafe { CStr::from_ptr(idaas_error_message(err)) }
                    .to_string_lossy()
                    .into_owned();
                // SAFETY: a live error, freed once.
                unsafe { idaas_error_free(err) };
                Err((code as u32, msg))
            };
        }
        // SAFETY: live handles, each freed once.
        unsafe {
            idaas_client_free(client);
            idaas_config_free(config);
        }
        result
    };

    // Nothing but the socket: three calls, one request to the agent.
    let path = socket.to_str().unwrap();
    let token = get_token(&format!(r#"{{"agentSocket": "{path}"}}"#)).unwrap();
    assert_eq!(token, "ffi-agent-token");
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    let first = targets.lock().unwrap()[0].clone();
    assert!(
        first.starts_with("GET /v1/token?scope=urn%3Acloud%3Aidaas%3Apam%7C.all "),
        "{first}"
    );
    // No agent at the path: a network-class error naming the socket.
    let missing = dir.join("missing.sock");
    let missing = missing.to_str().unwrap();
    let (code, msg) = get_token(&format!(r#"{{"agentSocket": "{missing}"}}"#)).unwrap_err();
    assert!(msg.contains(missing), "{code} {msg}");
    assert!(
        msg.contains("AgentUnreachable") || msg.contains("host agent"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
