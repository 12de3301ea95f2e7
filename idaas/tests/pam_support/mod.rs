//! Shared helpers of the PAM integration tests: an emulator on loopback plus a core client and a
//! PAM client configured from the emulator's client config (the client secret is handed over
//! through a supplier, so parallel tests never touch process environment variables).
#![allow(dead_code)]

use idaas::pam::{PamClient, PamClientBuilder, RetryPolicy, SCOPE};
use idaas::Client;
use idaas::Config;
use idaas::SecretString;
use idaas_emulator::{AuthMethod, Emulator};
use std::sync::Arc;
use std::time::Duration;

/// An emulator with a configured core client.
pub struct Env {
    pub emu: Emulator,
    pub client: Client,
}

/// Fast retries so tests of the retry path stay quick.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

/// The emulator's client config (CLIENT_SECRET_POST, https with the emulator CA).
pub fn config_for(emu: &Emulator) -> Config {
    let mut cfg = Config::from_json_value(&emu.client_config(AuthMethod::ClientSecretPost))
        .expect("emulator client config is valid");
    let secret = SecretString::new(emu.client_secret());
    cfg.authn.client_secret_supplier = Some(Arc::new(move || Ok(secret.clone())));
    cfg
}

impl Env {
    /// Start an emulator and build a core client for it.
    pub fn start() -> Env {
        let emu = Emulator::start_default();
        let client = Client::new(config_for(&emu)).expect("client");
        Env { emu, client }
    }

    /// A PAM builder preset from the core client (scope `urn:cloud:idaas:pam|.all`, fast retries).
    pub fn pam_builder(&self) -> PamClientBuilder {
        let provider = self.client.provider_for_scope(SCOPE).expect("provider");
        PamClient::builder_from_client(&self.client, provider).retry_policy(fast_retry())
    }

    /// The PAM client over HTTPS (the emulator CA comes from the config).
    pub fn pam(&self) -> PamClient {
        self.pam_builder().build().expect("pam client")
    }

    /// A PAM client over plain loopback HTTP.
    pub fn pam_http(&self) -> PamClient {
        self.pam_builder()
            .endpoint(self.emu.http_base_url())
            .build()
            .expect("pam client (http)")
    }

    /// A PAM client bound to a user (token exchange of an OIDC token minted by the emulator).
    pub fn pam_for_user(&self, user: &str) -> PamClient {
        let oidc = self.emu.mint_oidc_token(user, 600);
        let req = idaas::TokenExchangeRequest::for_id_token(oidc).scope(SCOPE);
        let cred = self.client.exchange_token(&req).expect("token exchange");
        let provider = Arc::new(idaas::StaticProvider::new(cred));
        PamClient::builder_from_client(&self.client, provider)
            .retry_policy(fast_retry())
            .build()
            .expect("user pam client")
    }

    /// Developer API requests received so far (token requests excluded).
    pub fn devapi_requests(&self) -> Vec<idaas_emulator::RecordedRequest> {
        self.emu
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/v2/"))
            .collect()
    }

    /// Number of Developer API requests with this action.
    pub fn count_action(&self, action: &str) -> usize {
        self.devapi_requests()
            .iter()
            .filter(|r| r.header("x-acs-action") == Some(action))
            .count()
    }

    /// Number of token-endpoint requests.
    pub fn token_requests(&self) -> usize {
        self.emu.count_requests(idaas_emulator::TOKEN_PATH)
    }
}
