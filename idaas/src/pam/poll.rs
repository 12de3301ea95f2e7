//! The 3LO orchestration `poll_oauth_authentication_token` (pam.md §4.5, decision D-29).

use super::models::OAuthAuthenticationTokenResponse;
use super::ops::FetchOAuthOptions;
use super::{
    PamClient, OAUTH_AUTHORIZATION_FLOW_USER_FEDERATION, SESSION_STATUS_COMPLETED,
    SESSION_STATUS_EXPIRED, SESSION_STATUS_FAILED,
};
use crate::error::{Error, ErrorKind, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A cancellation flag shared between the polling thread and whoever may cancel it. Cancelling wakes
/// a poll that is sleeping between two requests at once; a request already on the wire completes
/// first (bounded by the HTTP read timeout). Cheap to clone.
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Arc<CancelInner>,
}

#[derive(Default)]
struct CancelInner {
    flag: AtomicBool,
    lock: Mutex<()>,
    cond: Condvar,
}

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancelToken {
    /// A new, not cancelled token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancel (idempotent) and wake every waiter.
    pub fn cancel(&self) {
        let _g = self.inner.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.inner.flag.store(true, Ordering::SeqCst);
        self.inner.cond.notify_all();
    }

    /// True once [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.flag.load(Ordering::SeqCst)
    }

    /// Sleep up to `d`; returns `true` when woken by a cancellation.
    pub fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        let mut g = self.inner.lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.is_cancelled() {
                return true;
            }
            let now = Instant::now();
            if now >= end {
                return false;
            }
            g = match self.inner.cond.wait_timeout(g, end - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

/// Options of [`PamClient::poll_oauth_authentication_token`].
#[derive(Clone, Debug)]
pub struct PollOptions {
    /// Forwarded to the first fetch (and the final fetch).
    pub scope: Option<String>,
    /// Forwarded to the first fetch only (not sent again by the final fetch, as the references do).
    pub force_authentication: Option<bool>,
    /// Forwarded to the first and the final fetch.
    pub custom_parameters: Option<Vec<(String, String)>>,
    /// Most session polls (default 60).
    pub max_polls: u32,
    /// Wait before each poll (default 3 s; shorten it in tests).
    pub interval: Duration,
    /// Hard limit of the polling phase (default 180 s).
    pub max_duration: Duration,
    /// Cancels the poll (error kind [`ErrorKind::Cancelled`], code `polling_cancelled`).
    pub cancel: Option<CancelToken>,
    /// An extra absolute deadline of the caller (the earlier of it and `max_duration` applies).
    pub deadline: Option<Instant>,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            scope: None,
            force_authentication: None,
            custom_parameters: None,
            max_polls: 60,
            interval: Duration::from_secs(3),
            max_duration: Duration::from_secs(180),
            cancel: None,
            deadline: None,
        }
    }
}

fn cancelled() -> Error {
    Error::new(
        ErrorKind::Cancelled,
        "polling_cancelled",
        "Polling for OAuth authorization was cancelled",
    )
}

impl PamClient {
    /// Fetch a user-delegated OAuth token, walking the user through authorization if needed
    /// (pam.md §4.5). Blocks the calling thread while polling (up to `options.max_duration`).
    ///
    /// 1. fetch (`user_federation`); a reply with a token is returned at once (no callback);
    /// 2. otherwise `on_authorization_url(authorizationUrl)` is called exactly once (its error is
    ///    returned unchanged);
    /// 3. the session is polled every `interval`, at most `max_polls` times, within `max_duration`
    ///    and the optional deadline; `completed` → a final fetch returns the token; `failed` →
    ///    [`ErrorKind::Auth`] with the session's `errorCode` (or `authorization_failed`); `expired` →
    ///    [`ErrorKind::Auth`] `authorization_session_expired`; out of time or polls →
    ///    [`ErrorKind::Timeout`] `polling_timeout`; cancelled → [`ErrorKind::Cancelled`].
    pub fn poll_oauth_authentication_token<F>(
        &self,
        credential_provider_identifier: &str,
        on_authorization_url: F,
        options: &PollOptions,
    ) -> Result<OAuthAuthenticationTokenResponse>
    where
        F: FnOnce(&str) -> Result<()>,
    {
        let is_cancelled = || options.cancel.as_ref().is_some_and(|c| c.is_cancelled());
        if is_cancelled() {
            return Err(cancelled());
        }
        let first = self.fetch_oauth_authentication_token_v2(
            credential_provider_identifier,
            OAUTH_AUTHORIZATION_FLOW_USER_FEDERATION,
            &FetchOAuthOptions {
                scope: options.scope.clone(),
                force_authentication: options.force_authentication,
                custom_parameters: options.custom_parameters.clone(),
            },
        )?;
        if first.has_oauth_access_token_content() {
            return Ok(first);
        }
        let session = first
            .oauth_authorization_session
            .as_ref()
            .filter(|s| s.session_uri.as_deref().is_some_and(|u| !u.is_empty()))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::UnexpectedResponse,
                    "MissingAuthorizationSession",
                    "Authorization session is missing from the fetch response",
                )
            })?;
        let session_uri = session.session_uri.clone().unwrap_or_default();
        on_authorization_url(session.authorization_url.as_deref().unwrap_or(""))?;

        let start = Instant::now();
        let hard = start + options.max_duration;
        let deadline = match options.deadline {
            Some(d) if d < hard => d,
            _ => hard,
        };
        let limit = deadline.saturating_duration_since(start);
        let timeout_secs = if limit.subsec_millis() == 0 {
            format!("{}", limit.as_secs())
        } else {
            format!("{:.3}", limit.as_secs_f64())
        };
        let max_polls = options.max_polls.max(1);
        let mut completed = false;
        for _ in 0..max_polls {
            if Instant::now() + options.interval > deadline {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    "polling_timeout",
                    format!(
                        "Polling for OAuth authorization timed out after {timeout_secs} seconds"
                    ),
                ));
            }
            let woke = match &options.cancel {
                Some(c) => c.sleep(options.interval),
                None => {
                    std::thread::sleep(options.interval);
                    false
                }
            };
            if woke || is_cancelled() {
                return Err(cancelled());
            }
            let g = self.get_oauth_authorization_session(&session_uri)?;
            match g.session_status.as_deref() {
                Some(SESSION_STATUS_COMPLETED) => {
                    completed = true;
                    break;
                }
                Some(SESSION_STATUS_FAILED) => {
                    return Err(Error::new(
                        ErrorKind::Auth,
                        g.error_code
                            .filter(|c| !c.is_empty())
                            .unwrap_or_else(|| "authorization_failed".into()),
                        g.error_description
                            .filter(|c| !c.is_empty())
                            .unwrap_or_else(|| "OAuth authorization failed".into()),
                    ))
                }
                Some(SESSION_STATUS_EXPIRED) => {
                    return Err(Error::new(
                        ErrorKind::Auth,
                        "authorization_session_expired",
                        "The OAuth authorization session has expired",
                    ))
                }
                _ => continue,
            }
        }
        if !completed {
            return Err(Error::new(
                ErrorKind::Timeout,
                "polling_timeout",
                format!("Polling for OAuth authorization timed out after {max_polls} retries"),
            ));
        }
        // The final fetch does not send forceAuthentication again (pam.md §4.5 step 8).
        let last = self.fetch_oauth_authentication_token_v2(
            credential_provider_identifier,
            OAUTH_AUTHORIZATION_FLOW_USER_FEDERATION,
            &FetchOAuthOptions {
                scope: options.scope.clone(),
                force_authentication: None,
                custom_parameters: options.custom_parameters.clone(),
            },
        )?;
        if !last.has_oauth_access_token_content() {
            return Err(Error::new(
                ErrorKind::UnexpectedResponse,
                "MissingAccessToken",
                "Authorization session completed but no access token was returned",
            ));
        }
        Ok(last)
    }
}
