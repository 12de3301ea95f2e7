//! Print the bearer token for the configured scope.
//!
//! The configuration comes from `CLOUD_IDAAS_CONFIG_PATH`, else `~/.cloud_idaas/client-config.json`;
//! secrets come from the environment variables the configuration names.
//!
//! ```sh
//! CLOUD_IDAAS_CONFIG_PATH=./client-config.json IDAAS_CLIENT_SECRET=... cargo run --example get_token
//! cargo run --example get_token -- 'api.example.com|read:file'   # another scope
//! ```
//!
//! Exits with status 1 and the error message on failure.

use std::process::ExitCode;

fn main() -> ExitCode {
    let scope = std::env::args().nth(1);
    let result = idaas::Client::from_default().and_then(|client| match &scope {
        Some(s) => client.bearer_token_for_scope(s),
        None => client.bearer_token(),
    });
    match result {
        Ok(token) => {
            println!("{}", token.expose());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
