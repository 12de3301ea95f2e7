//! Shared proptest settings and strategies of the tests/prop_*.rs suites.
//!
//! Case counts: each suite has a CI-sized default (the whole prop suite stays within ~2-3 minutes
//! on 2 cores in a debug build); `PROPTEST_CASES=N` overrides every suite for longer local runs.
//! Failures are persisted to `tests/proptest-regressions/<suite>.txt` (committed) and replayed first.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{Map, Value};

/// The case count: `PROPTEST_CASES` when set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A proptest config for suite `name` with `default` cases.
pub fn config(name: &str, default: u32) -> Config {
    let path: &'static str =
        Box::leak(format!("tests/proptest-regressions/{name}.txt").into_boxed_str());
    Config {
        cases: cases(default),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(path))),
        max_shrink_iters: 2048,
        ..Config::default()
    }
}

/// Strings that stress parsers: arbitrary Unicode, control characters, numbers in text, URLs.
pub fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        "[ -~]{0,40}",
        "[\\x00-\\x1f\"\\\\{}\\[\\]:,]{0,12}",
        "-?[0-9]{1,25}(\\.[0-9]{0,5})?",
        "(https?|ftp)://[a-z0-9.:\\[\\]@/?#%-]{0,30}",
        Just(String::new()),
        Just(" ".to_string()),
    ]
}

/// Arbitrary JSON whose object keys come mostly from `vocab` (so the parsers' real fields are hit
/// with wrong types, wrong nesting, huge numbers, empty strings ...).
pub fn json(vocab: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        nasty_string().prop_map(Value::String),
        proptest::sample::select(vocab).prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        4 => proptest::sample::select(vocab).prop_map(str::to_string),
                        1 => nasty_string(),
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Bytes that are sometimes JSON built from `vocab`, sometimes near-JSON, sometimes garbage.
pub fn body(vocab: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => json(vocab).prop_map(|v| v.to_string().into_bytes()),
        1 => json(vocab).prop_flat_map(|v| {
            let s = v.to_string().into_bytes();
            let n = s.len();
            (Just(s), 0..=n).prop_map(|(s, cut)| s[..cut].to_vec())
        }),
        1 => prop::collection::vec(any::<u8>(), 0..256),
        1 => Just(Vec::new()),
    ]
}
