//! The cross-language contract: `contract/results.schema.json` must be exactly the JSON Schema the
//! Rust result types produce (`idaas::json::schema`). Run with `--features json-schema`;
//! `IDAAS_BLESS=1` rewrites the file after a deliberate change (then run
//! `scripts/gen-contract.py` to regenerate the bindings' types, and commit both).
#![cfg(feature = "json-schema")]

use std::path::PathBuf;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../contract/results.schema.json")
}

#[test]
fn committed_schema_matches_the_rust_types() {
    let generated = serde_json::to_string_pretty(&idaas::json::schema()).unwrap() + "\n";
    let path = schema_path();
    if std::env::var_os("IDAAS_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `IDAAS_BLESS=1 cargo test -p idaas --features json-schema --test contract`, then `scripts/gen-contract.py`, and commit the result",
        path.display()
    );
}

#[test]
fn every_result_shape_is_defined() {
    let schema = idaas::json::schema();
    let defs = schema["definitions"].as_object().unwrap();
    for name in [
        "Credential",
        "JwtContent",
        "JwtTokenResponse",
        "AuthenticationToken",
        "AuthenticationTokenPage",
        "OAuthAccessTokenContent",
        "OAuthAuthorizationSession",
        "OAuthAuthenticationTokenResponse",
        "OAuthAuthorizationSessionResponse",
    ] {
        assert!(defs.contains_key(name), "{name} missing: {:?}", defs.keys());
    }
    // Secrets are plain strings on the wire.
    assert_eq!(
        defs["JwtContent"]["properties"]["jwtValue"]["type"],
        serde_json::json!("string")
    );
    assert_eq!(
        defs["Credential"]["required"],
        serde_json::json!(["access_token", "token_type", "expires_in", "expires_at"])
    );
}
