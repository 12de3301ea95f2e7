//! The request log, in memory and optionally in a file, stored cheaply.
//!
//! Every request that is not a control-API call is logged, so logging is on the path of every
//! request. An entry keeps the request's parts as they were parsed — moved in, not copied — and
//! header names/values are shared (`Arc<str>`) with the previous request of the same connection
//! when equal, which is most of them (the bearer token in particular). The derived views of
//! [`RecordedRequest`] (lower-case header names, lossy UTF-8 body, decoded form, parsed JSON) are
//! computed when the log is read or written to the file, always by the same rules.

use crate::http::Request;
use crate::util::lock;
use crate::util::parse_form;
use crate::RecordedRequest;
use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Entries kept: the newest `MAX_ENTRIES`; when full, the oldest `TRIM` are dropped.
const MAX_ENTRIES: usize = 100_000;
const TRIM: usize = 10_000;

/// One logged request, as stored.
pub(crate) struct LogEntry {
    method: String,
    /// Path without the query.
    path: String,
    query: Option<String>,
    headers: Vec<(Arc<str>, Arc<str>)>,
    body: Vec<u8>,
    status: u16,
    time_ms: u64,
    request_id: String,
    tls: bool,
}

impl LogEntry {
    /// An entry from a handled request (moved in).
    pub fn new(req: Request, status: u16, request_id: &str, tls: bool, time_ms: u64) -> LogEntry {
        LogEntry {
            method: req.method,
            path: req.path,
            query: req.query,
            headers: req.headers,
            body: req.body,
            status,
            time_ms,
            request_id: request_id.to_string(),
            tls,
        }
    }

    /// The entry as the log API shows it.
    pub fn recorded(&self) -> RecordedRequest {
        let body = String::from_utf8_lossy(&self.body).into_owned();
        let is_form = self
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, c)| {
                c.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            })
            .unwrap_or(false);
        let form = if is_form {
            parse_form(&body).unwrap_or_default()
        } else {
            Vec::new()
        };
        let json = if body.trim_start().starts_with(['{', '[']) {
            serde_json::from_str(&body).ok()
        } else {
            None
        };
        RecordedRequest {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            body,
            form,
            json,
            status: self.status,
            time_ms: self.time_ms,
            request_id: self.request_id.clone(),
            tls: self.tls,
        }
    }
}

/// The request log: the newest [`MAX_ENTRIES`] entries in memory, every entry in the file.
pub(crate) struct RequestLog {
    entries: Mutex<Entries>,
    file: Option<Mutex<std::fs::File>>,
}

impl RequestLog {
    /// A log that also appends JSON lines to `file`.
    pub fn new(file: Option<std::fs::File>) -> RequestLog {
        RequestLog {
            entries: Mutex::new(Entries::default()),
            file: file.map(Mutex::new),
        }
    }

    /// Appends an entry (memory + file).
    pub fn record(&self, e: LogEntry) {
        if let Some(f) = &self.file {
            if let Ok(line) = serde_json::to_string(&e.recorded()) {
                let mut f = lock(f);
                let _ = writeln!(f, "{line}");
            }
        }
        lock(&self.entries).push(e);
    }

    /// The entries whose path contains `path_contains` (all with `None`), oldest first.
    pub fn recorded(&self, path_contains: Option<&str>) -> Vec<RecordedRequest> {
        lock(&self.entries)
            .iter()
            .filter(|r| path_contains.is_none_or(|f| r.path.contains(f)))
            .map(LogEntry::recorded)
            .collect()
    }

    /// Number of entries whose path contains `path_contains`.
    pub fn count(&self, path_contains: &str) -> usize {
        lock(&self.entries)
            .iter()
            .filter(|r| r.path.contains(path_contains))
            .count()
    }

    /// Removes every entry from memory (the file is kept).
    pub fn clear(&self) {
        lock(&self.entries).clear();
    }
}

/// The in-memory entries, bounded.
#[derive(Default)]
struct Entries {
    entries: VecDeque<LogEntry>,
}

impl Entries {
    /// Appends an entry, dropping the oldest ones when full.
    fn push(&mut self, e: LogEntry) {
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.drain(..TRIM);
        }
        self.entries.push_back(e);
    }

    /// The entries, oldest first.
    fn iter(&self) -> impl Iterator<Item = &LogEntry> {
        self.entries.iter()
    }

    fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Header interning for one connection: a header equal (name and value) to one of the previous
/// request's shares its strings.
#[derive(Default)]
pub(crate) struct HeaderInterner {
    prev: Vec<(Arc<str>, Arc<str>)>,
}

impl HeaderInterner {
    /// The shared strings for `name: value`.
    pub fn intern(&self, index: usize, name: &str, value: &str) -> (Arc<str>, Arc<str>) {
        let same = |(k, v): &&(Arc<str>, Arc<str>)| &**k == name && &**v == value;
        if let Some(h) = self.prev.get(index).filter(same) {
            return h.clone();
        }
        if let Some(h) = self.prev.iter().find(same) {
            return h.clone();
        }
        let k = self
            .prev
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| name.into());
        (k, value.into())
    }

    /// Remembers a request's headers for the next request.
    pub fn remember(&mut self, headers: &[(Arc<str>, Arc<str>)]) {
        self.prev.clear();
        self.prev.extend_from_slice(headers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_headers_share_their_strings() {
        let mut i = HeaderInterner::default();
        let a = vec![
            i.intern(0, "Authorization", "Bearer x"),
            i.intern(1, "Date", "1"),
        ];
        i.remember(&a);
        let b = [
            i.intern(0, "Date", "2"),
            i.intern(1, "Authorization", "Bearer x"),
        ];
        assert!(Arc::ptr_eq(&a[0].1, &b[1].1));
        assert!(Arc::ptr_eq(&a[1].0, &b[0].0));
        assert_eq!(&*b[0].1, "2");
        assert_eq!(
            &*i.intern(0, "authorization", "Bearer x").0,
            "authorization"
        );
    }

    #[test]
    fn bounded() {
        let mut log = Entries::default();
        for n in 0..MAX_ENTRIES + 1 {
            log.push(LogEntry {
                method: "GET".into(),
                path: n.to_string(),
                query: None,
                headers: Vec::new(),
                body: Vec::new(),
                status: 200,
                time_ms: 0,
                request_id: String::new(),
                tls: false,
            });
        }
        assert_eq!(log.entries.len(), MAX_ENTRIES + 1 - TRIM);
        assert_eq!(log.iter().next().unwrap().path, TRIM.to_string());
    }
}
