//! A PLUGIN callback that asks its own client for the token it is fetching gets a prompt
//! `ReentrantCall` error instead of waiting for itself forever — with in-caller refresh and with the
//! default background refresh — while asking the same client for another scope keeps working.
//! No server: PLUGIN clients fetch from the application.

use idaas::AuthnMethod;
use idaas::CachePolicy;
use idaas::Config;
use idaas::ManualClock;
use idaas::{Client, Credential, ErrorKind, SecretString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const T0: u64 = 1_760_000_000_000;
const OTHER_SCOPE: &str = "api.example.com|other";

/// What the plugin does on its calls after the first (the first always just returns a token, so
/// that a cached value exists and the refresh paths can be reached).
#[derive(Clone, Copy, PartialEq)]
enum Callback {
    /// Ask the own client for the default scope (re-entrant).
    SameScope,
    /// Ask the own client for [`OTHER_SCOPE`] (allowed).
    OtherScope,
}

struct Harness {
    client: Client,
    clock: Arc<ManualClock>,
    /// What the plugin's inner call returned, one entry per inner call.
    inner: Arc<Mutex<Vec<idaas::Result<String>>>>,
}

fn harness(async_refresh: bool, callback: Callback) -> Harness {
    let clock = ManualClock::new(T0);
    let me: Arc<OnceLock<Client>> = Arc::default();
    let inner: Arc<Mutex<Vec<idaas::Result<String>>>> = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let (me2, inner2) = (me.clone(), inner.clone());
    let plugin = move |scope: &str| -> idaas::Result<Credential> {
        let k = calls.fetch_add(1, Ordering::SeqCst);
        let mut token = format!("tok-{k}");
        if k > 0 && scope != OTHER_SCOPE {
            let client = me2.get().expect("client set");
            let r = match callback {
                Callback::SameScope => client.bearer_token(),
                Callback::OtherScope => client.bearer_token_for_scope(OTHER_SCOPE),
            }
            .map(|t| t.expose().to_string());
            inner2.lock().unwrap().push(r.clone());
            token = format!("{token}-after-{}", r?);
        }
        Ok(Credential {
            access_token: SecretString::new(token),
            expires_in: 600,
            ..Default::default()
        })
    };
    let client = Client::builder(
        Config::builder()
            .idaas_instance_id("idaas_x")
            .client_id("app_x")
            .issuer("https://issuer.example")
            .token_endpoint("https://issuer.example/token")
            .authn_method(AuthnMethod::Plugin)
            .plugin_name("reentrant")
            .build()
            .unwrap(),
    )
    .clock(clock.clone())
    .cache_policy(CachePolicy {
        jitter: false,
        // A failed refresh must not block the next one for long in these tests.
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(1),
        ..CachePolicy::default()
    })
    .async_refresh(async_refresh)
    .plugin("reentrant", Arc::new(plugin))
    .build()
    .unwrap();
    me.set(client.clone()).ok().unwrap();
    Harness {
        client,
        clock,
        inner,
    }
}

/// Run `f` on another thread and fail the test, instead of hanging it, when `f` deadlocks.
fn promptly<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{what}: deadlocked (no answer within 10 s)"))
}

fn assert_inner_reentrant(h: &Harness) {
    let inner = h.inner.lock().unwrap();
    assert_eq!(inner.len(), 1, "one inner call: {inner:?}");
    let e = inner[0].as_ref().expect_err("the inner call must fail");
    assert!(e.is_reentrant_call(), "{e:?}");
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::InvalidArgument, "ReentrantCall")
    );
    assert!(e.message().contains("re-entrant call"), "{e}");
}

#[test]
fn same_scope_in_caller_refresh_fails_promptly() {
    // Stale window (480 s .. 600 s: the caller refreshes and would wait for itself) and expired.
    for advance_secs in [500u64, 700] {
        let h = harness(false, Callback::SameScope);
        assert_eq!(h.client.bearer_token().unwrap().expose(), "tok-0");
        h.clock.advance_secs(advance_secs);
        let c = h.client.clone();
        let outer = promptly("outer bearer_token", move || c.bearer_token());
        assert_inner_reentrant(&h);
        // The plugin returned the inner error: the outer call gets it (stale: the still-valid
        // token is served instead).
        match advance_secs {
            500 => assert_eq!(outer.unwrap().expose(), "tok-0"),
            _ => assert!(outer.unwrap_err().is_reentrant_call()),
        }
    }
}

#[test]
fn same_scope_in_background_refresh_fails_promptly() {
    let h = harness(true, Callback::SameScope);
    assert_eq!(h.client.bearer_token().unwrap().expose(), "tok-0");
    // Prefetch window (400 s .. 480 s of a 600 s token without jitter): the refresh starts on the
    // background thread and this caller is served the cached token at once.
    h.clock.advance_secs(450);
    assert_eq!(h.client.bearer_token().unwrap().expose(), "tok-0");
    let inner = h.inner.clone();
    promptly("background refresh", move || loop {
        if !inner.lock().unwrap().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    });
    assert_inner_reentrant(&h);
    assert_eq!(h.client.bearer_token().unwrap().expose(), "tok-0");
}

#[test]
fn other_scope_of_the_same_client_works() {
    for async_refresh in [false, true] {
        let h = harness(async_refresh, Callback::OtherScope);
        assert_eq!(h.client.bearer_token().unwrap().expose(), "tok-0");
        h.clock.advance_secs(700); // expired: the refresh runs in this caller, asking OTHER_SCOPE
        let c = h.client.clone();
        let t = promptly("other scope", move || c.bearer_token()).unwrap();
        assert_eq!(t.expose(), "tok-1-after-tok-2");
        let inner = h.inner.lock().unwrap();
        assert_eq!(inner.len(), 1);
        assert_eq!(inner[0].as_deref().unwrap(), "tok-2");
        assert_eq!(
            h.client
                .bearer_token_for_scope(OTHER_SCOPE)
                .unwrap()
                .expose(),
            "tok-2"
        );
    }
}
