//! `idaas_exchange_provider`: RFC 8693 token exchange bound to a scope.

use std::ffi::c_char;

use idaas_core::Client;
use idaas_core::Credential;
use idaas_core::SecretString;
use idaas_core::TokenExchangeRequest;

use super::{
    alloc_string, free_guarded, guard, handle, idaas_code, idaas_error, opt_str_arg, out_arg,
    str_arg, FfiError, Handle, OwnedByCaller,
};

/// A token-exchange provider: RFC 8693 exchanges with the client's authentication for one scope
/// (`idaas_client_get_exchange_provider`). Exchanges are never cached. Thread-safe; free with
/// `idaas_exchange_provider_free`.
pub struct idaas_exchange_provider {
    client: Client,
    scope: Option<String>,
}

impl Handle for idaas_exchange_provider {
    type Ownership = OwnedByCaller;
}

impl idaas_exchange_provider {
    pub(crate) fn new(client: &Client, scope: Option<&str>) -> Result<Self, FfiError> {
        if let Some(s) = scope {
            idaas_core::validate_scope(s)?;
        }
        if client.config().authn_method() == idaas_core::AuthnMethod::Plugin {
            return Err(idaas_core::Error::config(
                "UnsupportedAuthenticationMethod",
                "Unsupported authentication method: PLUGIN for token exchange",
            )
            .into());
        }
        Ok(idaas_exchange_provider {
            client: client.clone(),
            scope: scope.map(str::to_owned),
        })
    }

    pub(crate) fn exchange(
        &self,
        subject_token: &str,
        subject_token_type: &str,
        requested_token_type: Option<&str>,
    ) -> Result<Credential, FfiError> {
        let mut req =
            TokenExchangeRequest::new(SecretString::from(subject_token), subject_token_type);
        if let Some(t) = requested_token_type {
            req = req.requested_token_type(t);
        }
        if let Some(s) = &self.scope {
            req = req.scope(s.as_str());
        }
        Ok(self.client.exchange_token(&req)?)
    }
}

/// A `malloc`ed credential JSON (the shape of `idaas_core::json::CredentialJson`); the Rust copy
/// is zeroed when dropped.
pub(crate) fn credential_json(c: &Credential) -> Result<*mut c_char, FfiError> {
    alloc_string(idaas_core::json::credential_json(c)?.expose())
}

/// Exchanges `subject_token` (of type `subject_token_type`, a token-type URN) for a token of
/// `requested_token_type` (nullable: `urn:ietf:params:oauth:token-type:access_token`) with the
/// provider's scope. One request per call (never cached). `*credential_json_out` receives the
/// credential JSON (see "JSON schemas"; release with `idaas_string_free`). Errors as for
/// `idaas_client_exchange_token`.
#[no_mangle]
pub unsafe extern "C" fn idaas_exchange_provider_exchange(
    provider: *const idaas_exchange_provider,
    subject_token: *const c_char,
    subject_token_type: *const c_char,
    requested_token_type: *const c_char,
    credential_json_out: *mut *mut c_char,
    err_out: *mut *mut idaas_error,
) -> idaas_code {
    guard(err_out, || {
        // SAFETY: `provider` is NULL or a live handle (header contract).
        let provider = unsafe { handle(provider, "provider") }?;
        // SAFETY: NULL or NUL-terminated strings (header contract).
        let (subject_token, subject_token_type, requested) = unsafe {
            (
                str_arg(subject_token, "subject_token")?,
                str_arg(subject_token_type, "subject_token_type")?,
                opt_str_arg(requested_token_type, "requested_token_type")?,
            )
        };
        out_arg(credential_json_out, "credential_json_out")?;
        let credential = provider.exchange(subject_token, subject_token_type, requested)?;
        let p = credential_json(&credential)?;
        // SAFETY: `credential_json_out` checked non-NULL above.
        unsafe { *credential_json_out = p };
        Ok(())
    })
}

/// Frees an exchange provider. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn idaas_exchange_provider_free(provider: *mut idaas_exchange_provider) {
    free_guarded(provider);
}
