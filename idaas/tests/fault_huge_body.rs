//! Fault suite: huge response bodies are read with a bound. A counting global allocator (this test
//! binary only) measures the peak heap growth while the token endpoint and the Developer API send
//! 64 MiB bodies: the client must fail with `ResponseTooLarge` without allocating anywhere near the
//! body size.

// A global allocator is an unsafe trait by definition; this counting one forwards every call.
#![allow(unsafe_code)]

mod common;

use common::*;
use idaas::ErrorKind;
use idaas::ManualClock;
use idaas_emulator::{Emulator, Fault, Route};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator with the caller's own arguments; only
// counters are updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract of `GlobalAlloc::alloc`.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded contract of `GlobalAlloc::dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract of `GlobalAlloc::realloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Tests of this binary measure the heap, so they run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const HUGE: usize = 64 * 1024 * 1024;
/// Allowed peak growth during one call: the 1 MiB body limit plus buffers, far below 64 MiB.
const MAX_GROWTH: usize = 8 * 1024 * 1024;

fn measure<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let r = f();
    (r, PEAK.load(Ordering::SeqCst).saturating_sub(base))
}

#[test]
fn huge_token_reply_is_refused_with_bounded_memory() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let emu = Emulator::start_default();
    let clock = ManualClock::starting_now();
    let c = client(&emu, &clock);
    // Warm up (TLS session, agent) so the measurement sees only the huge reply.
    emu.set_fault(rule(Route::Token, Fault::NonJson, Some(1)));
    let _ = c.bearer_token();
    clock.advance_secs(60);
    emu.set_fault(rule(Route::Token, Fault::HugeBody(HUGE), None));
    let (r, growth) = measure(|| c.bearer_token());
    let e = r.unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::UnexpectedResponse, "ResponseTooLarge"),
        "{e:?}"
    );
    assert!(
        growth < MAX_GROWTH,
        "peak heap growth {growth} bytes for a {HUGE}-byte body"
    );
    assert_eq!(token_requests(&emu), 2, "an over-long 200 is not retried");
    eprintln!("token endpoint, 64 MiB body: {e}; peak heap growth {growth} bytes");
}

#[test]
fn huge_developer_api_reply_is_refused_with_bounded_memory() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let env = pam::Env::start();
    let pam = env.pam();
    pam.get_api_key("openai_prod_key").unwrap(); // warm up: token + connection
    env.emu.set_fault(rule(
        Route::DeveloperApiAction("ObtainCredential".into()),
        Fault::HugeBody(HUGE),
        None,
    ));
    let (r, growth) = measure(|| pam.get_api_key("openai_prod_key"));
    let e = r.unwrap_err();
    assert_eq!(e.code(), "ResponseTooLarge", "{e:?}");
    assert_eq!(e.kind(), ErrorKind::UnexpectedResponse);
    assert!(
        growth < MAX_GROWTH,
        "peak heap growth {growth} bytes for a {HUGE}-byte body"
    );
    assert_eq!(
        env.count_action("ObtainCredential"),
        2,
        "an over-long 200 is not retried"
    );
}
