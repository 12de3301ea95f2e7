//! The five-minute tour: `cargo run --example demo`.
//!
//! Starts the IDaaS emulator in this process on 127.0.0.1 (HTTPS with its own CA), writes the client
//! configuration it offers to a temporary file, puts the client secret into the environment variable
//! that configuration names, and then walks through the SDK:
//!
//! 1. a bearer token (client credentials, cached and refreshed ahead of expiry);
//! 2. an RFC 8693 token exchange of a user's OIDC token;
//! 3. an API key from the PAM Developer API;
//! 4. a JWT authentication token: generate → validate → revoke → validate → reinstate → validate;
//! 5. every page of the token list.
//!
//! Secrets are shortened for display. Exits non-zero on the first failure.

use idaas::pam::{GenerateJwtOptions, ListAuthenticationTokensOptions, PamClient};
use idaas::TokenExchangeRequest;
use idaas::{Client, Config, SecretString};
use idaas_emulator::{AuthMethod, Emulator, CLIENT_SECRET_ENV};
use std::process::ExitCode;

fn short(s: &str) -> String {
    let head: String = s.chars().take(12).collect();
    format!("{head}… ({} chars)", s.chars().count())
}

fn check(cond: bool, what: &str) -> idaas::Result<()> {
    if cond {
        Ok(())
    } else {
        Err(idaas::Error::internal(format!("demo check failed: {what}")))
    }
}

fn run() -> idaas::Result<()> {
    let emu = Emulator::start_default();
    println!(
        "IDaaS emulator  {} (instance {})",
        emu.https_base_url(),
        emu.instance_id()
    );

    let dir = std::env::temp_dir().join(format!("idaas-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| idaas::Error::internal(e.to_string()))?;
    let path = dir.join("client-config.json");
    let config_json = emu.client_config(AuthMethod::ClientSecretPost);
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&config_json).unwrap_or_default(),
    )
    .map_err(|e| idaas::Error::internal(e.to_string()))?;
    // The configuration names the variable; the secret itself never goes into the file.
    std::env::set_var(CLIENT_SECRET_ENV, emu.client_secret());
    println!(
        "client config   {} (secret in ${CLIENT_SECRET_ENV})",
        path.display()
    );

    let client = Client::new(Config::from_path(&path)?)?;
    let token = client.bearer_token()?;
    println!("1. bearer token     {}", short(token.expose()));

    let user_token = emu.mint_oidc_token("alice", 600);
    let exchanged = client.exchange_token(&TokenExchangeRequest::for_id_token(user_token))?;
    println!(
        "2. token exchange   {} ({})",
        short(exchanged.access_token.expose()),
        exchanged.issued_token_type.as_deref().unwrap_or("?")
    );

    let pam = PamClient::from_client(&client)?;
    let key = pam.get_api_key("openai_prod_key")?;
    let key = key.ok_or_else(|| idaas::Error::internal("openai_prod_key has no API key"))?;
    println!(
        "3. API key          openai_prod_key = {}",
        short(key.expose())
    );

    let r = pam.generate_jwt_authentication_token(
        "partner_jwt",
        "billing-agent",
        &["https://api.partner.example".to_string()],
        &GenerateJwtOptions {
            custom_claims: Some(vec![("tenant".into(), "acme".into())]),
            expiration: Some(900),
            include_derived_short_token: Some(true),
            ..Default::default()
        },
    )?;
    let jwt: &SecretString = &r.jwt_content.jwt_value;
    let id = r.authentication_token_id.clone().unwrap_or_default();
    let consumer = r.consumer_id.clone().unwrap_or_default();
    println!("4. JWT generated    {id}: {}", short(jwt.expose()));
    let v = pam.validate_authentication_token(jwt, None)?;
    println!("   validate         {v}");
    check(v, "a new JWT is active")?;
    pam.revoke_authentication_token(jwt, None)?;
    let v = pam.validate_authentication_token(jwt, None)?;
    println!("   revoke, validate {v}");
    check(!v, "a revoked JWT is inactive")?;
    pam.reinstate_authentication_token(jwt, None)?;
    let v = pam.validate_authentication_token(jwt, None)?;
    println!("   reinstate, val.  {v}");
    check(v, "a reinstated JWT is active")?;

    for i in 0..2 {
        pam.generate_jwt_authentication_token(
            "partner_jwt",
            &format!("worker-{i}"),
            &["https://api.partner.example".to_string()],
            &GenerateJwtOptions::default(),
        )?;
    }
    let mut pages = pam.list_all(
        &consumer,
        "partner_jwt",
        ListAuthenticationTokensOptions {
            max_results: Some(2),
            ..Default::default()
        },
    );
    let tokens = pages.by_ref().collect::<idaas::Result<Vec<_>>>()?;
    println!(
        "5. list             {} tokens of {consumer} in {} pages of ≤ 2",
        tokens.len(),
        pages.pages_fetched()
    );
    for t in &tokens {
        println!(
            "   {}  revoked={}",
            t.authentication_token_id.as_deref().unwrap_or("?"),
            t.revoked.unwrap_or(false)
        );
    }
    check(tokens.len() == 3, "three tokens listed")?;

    let _ = std::fs::remove_dir_all(&dir);
    println!("OK");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}
