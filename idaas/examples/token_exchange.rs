//! RFC 8693 token exchange: exchange the subject token given as the first argument for a token of
//! the configured scope, and print the issued token.
//!
//! ```sh
//! CLOUD_IDAAS_CONFIG_PATH=./client-config.json IDAAS_CLIENT_SECRET=... \
//!   cargo run --example token_exchange -- <subject-token> [subject-token-type-urn] [scope]
//! ```
//!
//! The subject token type defaults to `urn:ietf:params:oauth:token-type:access_token`; the requested
//! type is always the access-token URN (decision D-18). Exits with status 1 on failure.

use idaas::TokenExchangeRequest;
use idaas::TOKEN_TYPE_ACCESS_TOKEN;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(subject) = args.next() else {
        eprintln!("usage: token_exchange <subject-token> [subject-token-type-urn] [scope]");
        return ExitCode::from(2);
    };
    let subject_type = args
        .next()
        .unwrap_or_else(|| TOKEN_TYPE_ACCESS_TOKEN.to_string());
    let mut req = TokenExchangeRequest::new(subject, subject_type);
    if let Some(scope) = args.next() {
        req = req.scope(scope);
    }
    match idaas::Client::from_default().and_then(|c| c.exchange_token(&req)) {
        Ok(cred) => {
            println!("{}", cred.access_token.expose());
            if let Some(t) = &cred.issued_token_type {
                eprintln!("issued_token_type: {t}");
            }
            eprintln!("expires_at: {}", cred.expires_at);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
