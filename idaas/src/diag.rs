//! Where the library's own log records go: to the [`LogSink`] of the client they belong to, or to
//! the `log` facade when the client has none.
//!
//! A client (and the PAM client, caches and providers made from it) carries its sink as a [`Diag`].
//! Rather than passing it to every function that may log, the entry points of a client enter it
//! for the current thread ([`Diag::enter`]: the cache around a fetch, the Developer API transport
//! around a call) and [`event!`] looks it up; a background refresh thread enters the cache's sink
//! itself. So records of one client reach that client's sink even when several clients with
//! different sinks share the process, and records made outside any client (none today) still reach
//! the facade.
//!
//! The records of the HTTP stack (`ureq`, `rustls`) are not ours: they always go to the facade,
//! where [`crate::is_sensitive_log_record`] tells which ones must not be forwarded.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

/// A destination for a client's log records (see [`crate::ClientBuilder::log_sink`]).
///
/// Records never contain a secret; messages may quote server text, with control characters
/// escaped. `log` may be called from any thread, also from the library's background refresh
/// thread, and must not block for long.
pub trait LogSink: Send + Sync + 'static {
    /// Whether records of `level` are wanted (asked before a message is formatted).
    fn enabled(&self, level: log::Level) -> bool {
        let _ = level;
        true
    }

    /// One record: its level, its target (the module that logged it, e.g. `idaas::cache`) and the
    /// message.
    fn log(&self, level: log::Level, target: &str, message: &str);
}

/// The sink of one client, or none: then records go to whatever sink the thread has entered (a
/// cache inside a client's fetch inherits the client's sink), else to the `log` facade.
#[derive(Clone, Default)]
pub(crate) struct Diag(Option<Arc<dyn LogSink>>);

impl fmt::Debug for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Diag(sink)"
        } else {
            "Diag(log facade)"
        })
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<dyn LogSink>>> = const { RefCell::new(None) };
}

impl Diag {
    /// The diag of a client with `sink` (None: the `log` facade).
    pub(crate) fn new(sink: Option<Arc<dyn LogSink>>) -> Self {
        Diag(sink)
    }

    /// Whether records go to a sink of this client's own.
    pub(crate) fn has_sink(&self) -> bool {
        self.0.is_some()
    }

    /// One record to this client's sink (or, without one, where [`event!`] would send it).
    pub(crate) fn log(&self, level: log::Level, target: &str, args: fmt::Arguments<'_>) {
        match &self.0 {
            Some(s) => deliver(Some(s.clone()), level, target, args),
            None => emit(level, target, args),
        }
    }

    /// Route this thread's records to this sink until the guard is dropped (nests: the previous
    /// sink comes back). Without a sink of its own, nothing changes.
    pub(crate) fn enter(&self) -> Entered {
        match &self.0 {
            None => Entered { previous: None },
            Some(s) => Entered {
                previous: Some(CURRENT.with(|c| c.replace(Some(s.clone())))),
            },
        }
    }
}

/// Restores the previously entered sink when dropped.
pub(crate) struct Entered {
    /// `Some(previous)` when this guard replaced the thread's sink.
    previous: Option<Option<Arc<dyn LogSink>>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
}

/// One record to the sink this thread has entered, else the `log` facade (used by [`event!`]).
pub(crate) fn emit(level: log::Level, target: &str, args: fmt::Arguments<'_>) {
    // The sink is cloned out first: it may call back into the library, which may log again.
    let sink = CURRENT.with(|c| c.borrow().clone());
    deliver(sink, level, target, args);
}

fn deliver(
    sink: Option<Arc<dyn LogSink>>,
    level: log::Level,
    target: &str,
    args: fmt::Arguments<'_>,
) {
    match sink {
        Some(s) => {
            if s.enabled(level) {
                s.log(level, target, &args.to_string());
            }
        }
        None => log::log!(target: target, level, "{args}"),
    }
}

/// `event!(Warn, "format", args…)`: a record of this crate, routed as the module docs say.
macro_rules! event {
    ($level:ident, $($arg:tt)+) => {
        $crate::diag::emit(::log::Level::$level, module_path!(), format_args!($($arg)+))
    };
}
pub(crate) use event;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<(log::Level, String, String)>>);

    impl LogSink for Collect {
        fn enabled(&self, level: log::Level) -> bool {
            level <= log::Level::Info
        }
        fn log(&self, level: log::Level, target: &str, message: &str) {
            self.0
                .lock()
                .unwrap()
                .push((level, target.to_string(), message.to_string()));
        }
    }

    #[test]
    fn entered_sinks_nest_and_filter() {
        let a = Arc::new(Collect::default());
        let b = Arc::new(Collect::default());
        let da = Diag::new(Some(a.clone()));
        let db = Diag::new(Some(b.clone()));
        {
            let _g = da.enter();
            event!(Warn, "to a {}", 1);
            {
                let _g = db.enter();
                event!(Info, "to b");
                event!(Debug, "filtered by b");
            }
            event!(Error, "to a again");
        }
        // Nothing entered: the facade (no sink receives it).
        event!(Warn, "to the facade");
        let a = a.0.lock().unwrap();
        let b = b.0.lock().unwrap();
        assert_eq!(
            a.iter().map(|r| r.2.as_str()).collect::<Vec<_>>(),
            ["to a 1", "to a again"]
        );
        assert_eq!(a[0].1, "idaas::diag::tests");
        assert_eq!(b.iter().map(|r| r.2.as_str()).collect::<Vec<_>>(), ["to b"]);
    }

    #[test]
    fn a_diag_without_sink_inherits_the_entered_one() {
        let a = Arc::new(Collect::default());
        let _g = Diag::new(Some(a.clone())).enter();
        {
            let _inner = Diag::default().enter();
            event!(Warn, "inherited");
        }
        event!(Warn, "still a");
        assert_eq!(a.0.lock().unwrap().len(), 2);
    }

    #[test]
    fn a_sink_may_log_from_its_own_callback() {
        struct Echo(Mutex<usize>);
        impl LogSink for Echo {
            fn log(&self, _: log::Level, _: &str, _: &str) {
                let mut n = self.0.lock().unwrap();
                *n += 1;
                if *n == 1 {
                    drop(n);
                    event!(Info, "nested");
                }
            }
        }
        let s = Arc::new(Echo(Mutex::new(0)));
        let _g = Diag::new(Some(s.clone())).enter();
        event!(Info, "outer");
        assert_eq!(*s.0.lock().unwrap(), 2);
    }
}
