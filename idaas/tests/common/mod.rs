//! Shared helpers of the reliability and security suites (tests/fault_*.rs, tests/prop_*.rs,
//! tests/tls_*.rs, tests/secret_hygiene.rs): emulator-backed clients with an injectable clock,
//! loopback-only network tricks (a closed port, a black-holed listener), a watchdog, a seeded RNG.
//!
//! The PAM helpers of `tests/pam_support` are reused (not copied) through [`pam`].
#![allow(dead_code)]

#[path = "../pam_support/mod.rs"]
pub mod pam;
pub mod prop;

use idaas::CachePolicy;
use idaas::Config;
use idaas::ManualClock;
use idaas::RetryPolicy;
use idaas::{Client, ClientBuilder, SecretString};
use idaas_emulator::{AuthMethod, Emulator, Fault, FaultRule, Route, TOKEN_PATH};
use serde_json::Value;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Token-request retries fast enough for tests (3 attempts, 5 ms .. 20 ms).
pub fn fast_token_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

/// Cache policy without jitter, so the windows of a 1200 s token are exact:
/// prefetch at +800 s, stale at +960 s, expiry at +1200 s.
pub fn no_jitter() -> CachePolicy {
    CachePolicy {
        jitter: false,
        ..CachePolicy::default()
    }
}

/// The emulator's CLIENT_SECRET_POST config after `tweak` (edit the JSON: timeouts, endpoints ...),
/// with the client secret handed over through a supplier (no process environment involved).
pub fn config_with(emu: &Emulator, tweak: impl FnOnce(&mut Value)) -> Config {
    let mut v = emu.client_config(AuthMethod::ClientSecretPost);
    tweak(&mut v);
    let mut cfg = Config::from_json_value(&v).expect("emulator client config is valid");
    let secret = SecretString::new(emu.client_secret());
    cfg.authn.client_secret_supplier = Some(Arc::new(move || Ok(secret.clone())));
    cfg
}

/// A client builder over `cfg` with a manual clock, fast token retries and no cache jitter.
pub fn builder(cfg: Config, clock: &Arc<ManualClock>) -> ClientBuilder {
    Client::builder(cfg)
        .clock(clock.clone())
        .retry_policy(fast_token_retry())
        .cache_policy(no_jitter())
}

/// A client of the emulator (CLIENT_SECRET_POST over HTTPS) driven by `clock`.
pub fn client(emu: &Emulator, clock: &Arc<ManualClock>) -> Client {
    builder(config_with(emu, |_| {}), clock)
        .build()
        .expect("client")
}

/// Number of token-endpoint requests the emulator received.
pub fn token_requests(emu: &Emulator) -> usize {
    emu.count_requests(TOKEN_PATH)
}

/// Wait (up to 10 s) until the emulator has received `n` token requests: a refresh-ahead runs on a
/// background thread by default (D-32), so its requests land after the caller returned. Panics on
/// timeout or when more than `n` arrive.
#[allow(dead_code)]
pub fn wait_token_requests(emu: &Emulator, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = token_requests(emu);
        assert!(got <= n, "{got} token requests, expected {n}");
        if got == n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{got} token requests after 10 s, expected {n}"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// A fault rule.
pub fn rule(route: Route, fault: Fault, times: Option<u32>) -> FaultRule {
    FaultRule {
        route,
        fault,
        times,
    }
}

/// `Fault::Status` with the emulator's default error body.
pub fn status(status: u16, retry_after: Option<u32>) -> Fault {
    Fault::Status {
        status,
        retry_after,
        body: None,
    }
}

/// A loopback port with nothing listening (connection refused).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let p = l.local_addr().unwrap().port();
    drop(l);
    p
}

/// A loopback listener that never accepts, with its accept queue filled: further SYNs are dropped
/// by the kernel, so a connect to it hangs until the client's connect timeout. Loopback only.
pub struct Blackhole {
    pub addr: SocketAddr,
    _listener: TcpListener,
    _held: Vec<TcpStream>,
}

impl Blackhole {
    pub fn start() -> Blackhole {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut held = Vec::new();
        // std listens with a backlog of 128; fill the queue until connects no longer complete
        // (three in a row, so one slow connect on a loaded machine is not mistaken for it).
        let mut timeouts = 0;
        for _ in 0..1024 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(150)) {
                Ok(s) => {
                    held.push(s);
                    timeouts = 0;
                }
                Err(_) => {
                    timeouts += 1;
                    if timeouts == 3 {
                        return Blackhole {
                            addr,
                            _listener: listener,
                            _held: held,
                        };
                    }
                }
            }
        }
        panic!("could not saturate the accept queue of a loopback listener");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Aborts the whole test process if not dropped within `limit` (deadlock guard).
pub struct Watchdog {
    done: Arc<AtomicBool>,
}

impl Watchdog {
    pub fn new(name: &'static str, limit: Duration) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            while start.elapsed() < limit {
                if d.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            eprintln!(
                "WATCHDOG: {name} did not finish within {limit:?}: deadlock or hang; aborting"
            );
            std::process::abort();
        });
        Watchdog { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
    }
}

/// A small seeded PRNG (xorshift64*), so random fault schedules are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Times `f`.
pub fn timed<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}
