//! Lazy iteration over every page of `ListAuthenticationTokens` (decision D-31).

use super::models::AuthenticationToken;
use super::ops::ListAuthenticationTokensOptions;
use super::PamClient;
use crate::error::{ErrorKind, Result};
use std::collections::VecDeque;

/// Iterator over every authentication token of a consumer (see [`PamClient::list_all`]). Fetches one
/// page at a time; yields the first error and then ends. A server that hands out the same
/// `nextToken` twice in a row is reported as an [`ErrorKind::UnexpectedResponse`] error instead of
/// looping forever.
pub struct AuthenticationTokens {
    client: PamClient,
    consumer_id: String,
    provider_id: String,
    options: ListAuthenticationTokensOptions,
    buffer: VecDeque<AuthenticationToken>,
    done: bool,
    pages: usize,
}

impl AuthenticationTokens {
    pub(crate) fn new(
        client: PamClient,
        consumer_id: String,
        provider_id: String,
        options: ListAuthenticationTokensOptions,
    ) -> Self {
        AuthenticationTokens {
            client,
            consumer_id,
            provider_id,
            options,
            buffer: VecDeque::new(),
            done: false,
            pages: 0,
        }
    }

    /// How many pages were fetched so far.
    pub fn pages_fetched(&self) -> usize {
        self.pages
    }
}

impl Iterator for AuthenticationTokens {
    type Item = Result<AuthenticationToken>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(t) = self.buffer.pop_front() {
                return Some(Ok(t));
            }
            if self.done {
                return None;
            }
            let page = match self.client.list_authentication_tokens(
                &self.consumer_id,
                &self.provider_id,
                &self.options,
            ) {
                Ok(p) => p,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            self.pages += 1;
            match page.next_page_token() {
                None => self.done = true,
                Some(n) if self.options.next_token.as_deref() == Some(n) => {
                    self.done = true;
                    return Some(Err(crate::Error::new(
                        ErrorKind::UnexpectedResponse,
                        "RepeatedNextToken",
                        "Failed to list authentication tokens: the server returned the same nextToken twice",
                    )));
                }
                Some(n) => self.options.next_token = Some(n.to_string()),
            }
            self.buffer.extend(page.entities);
        }
    }
}

impl std::iter::FusedIterator for AuthenticationTokens {}
