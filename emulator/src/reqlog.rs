//! The request log, stored cheaply.
//!
//! Every request that is not a control-API call is logged, so this is on the hot path of every
//! benchmark. An entry keeps the request's parts as they were parsed — moved in, not copied — and
//! header names/values are shared (`Arc<str>`) with the previous request of the same connection
//! when equal, which is most of them (the ~700-byte `Authorization: Bearer …` in particular). The
//! derived views of [`RecordedRequest`] (lower-case header names, lossy UTF-8 body, decoded form,
//! parsed JSON) are computed when the log is read, from the same bytes and by the same rules as
//! before, so the log reads exactly as it did.

use crate::http::Request;
use crate::util::parse_form;
use crate::RecordedRequest;
use std::collections::VecDeque;
use std::sync::Arc;

/// Entries kept: the newest `MAX_ENTRIES`; when full, the oldest `TRIM` are dropped.
const MAX_ENTRIES: usize = 100_000;
const TRIM: usize = 10_000;

/// One logged request, as stored.
pub(crate) struct LogEntry {
    method: String,
    /// Path without the query.
    pub path: String,
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

/// The in-memory log: the newest [`MAX_ENTRIES`] entries.
#[derive(Default)]
pub(crate) struct RequestLog {
    entries: VecDeque<LogEntry>,
}

impl RequestLog {
    /// Appends an entry, dropping the oldest ones when full.
    pub fn push(&mut self, e: LogEntry) {
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.drain(..TRIM);
        }
        self.entries.push_back(e);
    }

    /// The entries, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &LogEntry> {
        self.entries.iter()
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
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
        let mut log = RequestLog::default();
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
