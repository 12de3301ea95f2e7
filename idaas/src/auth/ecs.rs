//! PKCS7 attested document from the Alibaba Cloud ECS metadata service (core.md §6.2).
//!
//! Per refresh: `PUT <base>/latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds: 3600`,
//! then `GET <base>/latest/dynamic/instance-identity/pkcs7?audience=<ENC>` with
//! `X-aliyun-ecs-metadata-token`. `<ENC>` is the percent-encoding of the **compact** JSON
//! `{"aud":"<idaasInstanceId>","signingTime":<now>}` (decision D-15, the Java form).
//!
//! `<base>` is `http://100.100.100.200`, overridable with the environment variable
//! `IDAAS_ECS_METADATA_ENDPOINT` (read when the source is created; used by tests against the
//! emulator). Plain HTTP is allowed here only (the metadata service has no TLS).
//!
//! The document is cached in its own [`RefreshCache`] with expiry `signingTime + 3600 s`, so it is
//! refreshed ahead (prefetch at ~2/3, stale at ~4/5 of its life), single-flight, with backoff. This
//! replaces the reference's `signingTime + L/2` / `signingTime + L` plus added jitter (D-19).

use crate::cache::{CachePolicy, Fetched, RefreshCache};
use crate::clock::SharedClock;
use crate::error::Result;
use crate::http::{HttpClient, HttpRequest, Method};
use crate::secret::SecretString;
use crate::server_text::{Redactor, TextRule};
use crate::token::{error_from_response, form_encode};

/// Default ECS metadata service base URL.
pub const DEFAULT_ECS_METADATA_ENDPOINT: &str = "http://100.100.100.200";
/// Environment variable overriding the metadata base URL.
pub const ECS_METADATA_ENDPOINT_ENV: &str = "IDAAS_ECS_METADATA_ENDPOINT";
/// Document lifetime (and metadata-token TTL) in seconds.
pub const DEFAULT_DOCUMENT_EFFECTIVE_SECS: u64 = 3600;

/// A cached source of ECS attested documents.
#[derive(Debug, Clone)]
pub struct EcsDocumentSource {
    cache: RefreshCache<SecretString>,
    base: String,
}

impl EcsDocumentSource {
    /// A source for `instance_id`, using `http` and `clock`; the base URL comes from
    /// `IDAAS_ECS_METADATA_ENDPOINT` or the default.
    pub fn new(
        http: HttpClient,
        instance_id: &str,
        clock: SharedClock,
        policy: CachePolicy,
    ) -> Self {
        let base = std::env::var(ECS_METADATA_ENDPOINT_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_ECS_METADATA_ENDPOINT.to_string());
        Self::with_base(http, instance_id, clock, policy, &base)
    }

    /// Like [`EcsDocumentSource::new`] with an explicit base URL.
    pub fn with_base(
        http: HttpClient,
        instance_id: &str,
        clock: SharedClock,
        policy: CachePolicy,
        base: &str,
    ) -> Self {
        let base = base.trim().trim_end_matches('/').to_string();
        let b2 = base.clone();
        let id = instance_id.to_string();
        let c2 = clock.clone();
        let cache = RefreshCache::new(
            "ECS attested document",
            move || fetch_document(&http, &b2, &id, c2.now_secs()),
            clock,
            policy,
        );
        EcsDocumentSource { cache, base }
    }

    /// The metadata base URL in use.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The current document (fetched or refreshed as needed).
    pub fn document(&self) -> Result<SecretString> {
        self.cache.with(|d| d.clone())
    }
}

fn fetch_document(
    http: &HttpClient,
    base: &str,
    instance_id: &str,
    signing_time: u64,
) -> Result<Fetched<SecretString>> {
    let token_url = format!("{base}/latest/api/token");
    let resp = http.send_allow_plain_http(HttpRequest {
        method: Method::Put,
        url: &token_url,
        headers: vec![(
            "X-aliyun-ecs-metadata-token-ttl-seconds",
            DEFAULT_DOCUMENT_EFFECTIVE_SECS.to_string(),
        )],
        body: None,
    })?;
    if !(200..300).contains(&resp.status) {
        return Err(error_from_response(
            &resp,
            "ECS metadata service",
            &Redactor::new(),
        ));
    }
    let meta_token = SecretString::new(String::from_utf8_lossy(&resp.body).into_owned());
    // The token goes into a request header: visible ASCII only (SECURITY.md "Server text").
    crate::server_text::check(
        "ECS metadata service reply",
        "metadata token",
        meta_token.expose(),
        TextRule::Visible,
    )?;
    let audience = format!(
        "{{\"aud\":{},\"signingTime\":{signing_time}}}",
        serde_json::to_string(instance_id).unwrap_or_default()
    );
    let doc_url = format!(
        "{base}/latest/dynamic/instance-identity/pkcs7?audience={}",
        form_encode(&audience)
    );
    let resp = http.send_allow_plain_http(HttpRequest {
        method: Method::Get,
        url: &doc_url,
        headers: vec![(
            "X-aliyun-ecs-metadata-token",
            meta_token.expose().to_string(),
        )],
        body: None,
    })?;
    if !(200..300).contains(&resp.status) {
        let mut secrets = Redactor::new();
        secrets.add(&meta_token);
        return Err(error_from_response(&resp, "ECS metadata service", &secrets));
    }
    let doc = SecretString::new(String::from_utf8_lossy(&resp.body).into_owned());
    Ok(Fetched {
        value: doc,
        expires_at_ms: (signing_time + DEFAULT_DOCUMENT_EFFECTIVE_SECS) * 1000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_from_env_or_default() {
        let http = HttpClient::new(crate::http::HttpOptions::default()).unwrap();
        let clock = crate::clock::system_clock();
        // The only test touching this variable.
        std::env::remove_var(ECS_METADATA_ENDPOINT_ENV);
        let s = EcsDocumentSource::new(http.clone(), "i", clock.clone(), CachePolicy::default());
        assert_eq!(s.base_url(), DEFAULT_ECS_METADATA_ENDPOINT);
        std::env::set_var(ECS_METADATA_ENDPOINT_ENV, "http://127.0.0.1:9/");
        let s = EcsDocumentSource::new(http.clone(), "i", clock.clone(), CachePolicy::default());
        assert_eq!(s.base_url(), "http://127.0.0.1:9");
        std::env::remove_var(ECS_METADATA_ENDPOINT_ENV);
        let s =
            EcsDocumentSource::with_base(http, "i", clock, CachePolicy::default(), " http://x/ ");
        assert_eq!(s.base_url(), "http://x");
    }
}
