//! The one error type of the crate (decision D-22).
//!
//! An [`Error`] keeps what a caller needs to act on a failure and nothing secret: its [`ErrorKind`]
//! (which maps to a stable numeric code at the C ABI), a short machine-readable `code` (a catalogue
//! code such as `InvalidScope`, or the server's own `error`/`Code`), a human message, the HTTP status
//! and request id when a server answered, and the cause chain. Messages are written by us and never
//! contain a secret. Server text (an `error_description`, a request id, a body snippet) has the
//! secrets of the failed request redacted before it gets here, and every constructor escapes control
//! characters in the code, message and request id ([`crate::server_text::escape_controls`]), so an
//! error can be printed to a terminal or a log as it is (SECURITY.md "Server text").

/// The code of the [`ErrorKind::InvalidArgument`] error returned to a token source (an application
/// plugin) that asks its own client for a token of the scope it is fetching (see
/// [`Error::reentrant_call`]). The C ABI reports it as `IDAAS_CODE_REENTRANT_CALL`.
pub const REENTRANT_CALL: &str = "ReentrantCall";

use std::fmt;

/// What went wrong, grouped the way callers react to it. Each kind has a stable numeric code at the
/// C ABI (see `ffi`); new kinds may be added, existing ones are never renumbered.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A caller-supplied argument is invalid (empty identifier, bad scope syntax, NULL pointer ...).
    InvalidArgument,
    /// The configuration (file, JSON or builder) is missing, unreadable or invalid.
    Config,
    /// A local credential could not be produced: unreadable private key, missing secret environment
    /// variable, unreadable OIDC token file, signing failure, plugin failure.
    Credential,
    /// A server refused our authentication or authorization: token endpoint 4xx
    /// (`invalid_client`, `invalid_scope` ...), Developer API 401/403.
    Auth,
    /// A server rejected the request for another client-side reason (4xx other than 401/403,
    /// e.g. 404 not found, 400 bad parameter, 429 throttled).
    Client,
    /// A server failed (5xx).
    Server,
    /// A server answered with something we cannot use: a redirect, a 2xx other than expected,
    /// a body that is not the JSON we expect, a body over the size limit.
    UnexpectedResponse,
    /// The network failed: connection refused or reset, DNS, TLS handshake or certificate failure.
    Transport,
    /// A connect or read timeout, or a call deadline, expired.
    Timeout,
    /// The call was cancelled by the caller.
    Cancelled,
    /// A bug or an unexpected state inside the library (including a caught panic).
    Internal,
}

impl ErrorKind {
    /// A short lower-case name of the kind, for logs and CLI output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Config => "config",
            ErrorKind::Credential => "credential",
            ErrorKind::Auth => "auth",
            ErrorKind::Client => "client",
            ErrorKind::Server => "server",
            ErrorKind::UnexpectedResponse => "unexpected_response",
            ErrorKind::Transport => "transport",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Internal => "internal",
        }
    }

    /// Every kind, in catalogue order.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::InvalidArgument,
        ErrorKind::Config,
        ErrorKind::Credential,
        ErrorKind::Auth,
        ErrorKind::Client,
        ErrorKind::Server,
        ErrorKind::UnexpectedResponse,
        ErrorKind::Transport,
        ErrorKind::Timeout,
        ErrorKind::Cancelled,
        ErrorKind::Internal,
    ];

    /// The kind named `name` (the spelling of [`ErrorKind::as_str`]), e.g. read back from the
    /// host agent's error body.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The class of the C ABI's catalogue (`idaas_class` in include/idaas.h) this kind belongs
    /// to: `ARGUMENT`, `CONFIG`, `AUTHENTICATION`, `SERVER_REPLY`, `NETWORK`, `CANCELLED` or
    /// `INTERNAL`.
    pub fn class_name(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "ARGUMENT",
            ErrorKind::Config => "CONFIG",
            ErrorKind::Credential | ErrorKind::Auth => "AUTHENTICATION",
            ErrorKind::Client | ErrorKind::Server | ErrorKind::UnexpectedResponse => "SERVER_REPLY",
            ErrorKind::Transport | ErrorKind::Timeout => "NETWORK",
            ErrorKind::Cancelled => "CANCELLED",
            ErrorKind::Internal => "INTERNAL",
        }
    }
}

/// The error of every fallible operation of this crate.
pub struct Error {
    kind: ErrorKind,
    code: String,
    message: String,
    http_status: Option<u16>,
    request_id: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Shorthand for `Result<T, idaas::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a catalogue `code` and a `message` (which must not hold a secret).
    /// Control characters in both are escaped (module docs).
    pub fn new(kind: ErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        use crate::server_text::escape_controls_owned as esc;
        Error {
            kind,
            code: esc(code.into()),
            message: esc(message.into()),
            http_status: None,
            request_id: None,
            source: None,
        }
    }

    /// An [`ErrorKind::InvalidArgument`] error with code `InvalidArgument`.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, "InvalidArgument", message)
    }

    /// An [`ErrorKind::Config`] error with a catalogue code.
    pub fn config(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, code, message)
    }

    /// An [`ErrorKind::Credential`] error with a catalogue code.
    pub fn credential(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Credential, code, message)
    }

    /// The error of a re-entrant call (code [`REENTRANT_CALL`], kind
    /// [`ErrorKind::InvalidArgument`]): the token source of `what` asked, from inside its own fetch,
    /// for the value it is fetching. Waiting would wait for itself forever, so the call fails at once.
    /// It is the caller's mistake (a plugin calling back into its own client for the same scope),
    /// not a library fault, and retrying cannot help.
    pub fn reentrant_call(what: &str) -> Self {
        Self::new(
            ErrorKind::InvalidArgument,
            REENTRANT_CALL,
            format!(
                "{what}: re-entrant call: the token source (e.g. a PLUGIN callback) asked its own client for the token it is fetching, which would wait for itself forever; a plugin may ask other clients, or the same client for other scopes"
            ),
        )
    }

    /// True for the error of [`Error::reentrant_call`].
    pub fn is_reentrant_call(&self) -> bool {
        self.kind == ErrorKind::InvalidArgument && self.code == REENTRANT_CALL
    }

    /// An [`ErrorKind::Internal`] error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, "InternalError", message)
    }

    /// Attach the HTTP status of the reply that caused the error.
    pub fn with_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    /// Attach the server's request id (control characters escaped, module docs).
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        let id = crate::server_text::escape_controls_owned(request_id.into());
        if !id.is_empty() {
            self.request_id = Some(id);
        }
        self
    }

    /// The same error with another kind (code, message, status, request id and cause kept): a
    /// component that promises its callers fewer kinds than its parts produce re-classifies.
    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// Attach the underlying cause (it must not hold a secret in its `Display`).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The machine-readable code: a catalogue code (`InvalidScope`, `ClientSecretEnvVarNameNotFound`
    /// ...) or the server's `error`/`Code` (`invalid_client`, `EntityNotExists.Credential` ...).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The human-readable message (never a secret).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status of the reply, when a server answered.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// The server's request id, when it sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// True for failures worth retrying later: transport errors, timeouts, 5xx and 429.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Server
        ) || self.http_status == Some(429)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.code.is_empty() {
            f.write_str(&self.message)?;
        } else {
            write!(f, "{}: {}", self.code, self.message)?;
        }
        if let Some(s) = self.http_status {
            write!(f, " (HTTP {s}")?;
            if let Some(r) = &self.request_id {
                write!(f, ", request id {r}")?;
            }
            f.write_str(")")?;
        } else if let Some(r) = &self.request_id {
            write!(f, " (request id {r})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("http_status", &self.http_status)
            .field("request_id", &self.request_id)
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

impl Clone for Error {
    /// Clones everything but the cause, which is flattened into a string error.
    fn clone(&self) -> Self {
        Error {
            kind: self.kind,
            code: self.code.clone(),
            message: self.message.clone(),
            http_status: self.http_status,
            request_id: self.request_id.clone(),
            source: self
                .source
                .as_ref()
                .map(|s| Box::new(StringError(s.to_string())) as Box<_>),
        }
    }
}

/// A cause reduced to its text (used when an [`Error`] is cloned, e.g. to hand one failed refresh
/// to every waiting caller).
#[derive(Debug)]
struct StringError(String);

impl fmt::Display for StringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StringError {}

#[cfg(test)]
mod tests {
    use super::ErrorKind;

    #[test]
    fn kind_names_round_trip_and_classes_follow_the_catalogue() {
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(k.as_str()), Some(k));
        }
        assert_eq!(ErrorKind::from_name("Auth"), None);
        assert_eq!(ErrorKind::Auth.class_name(), "AUTHENTICATION");
        assert_eq!(ErrorKind::Timeout.class_name(), "NETWORK");
        assert_eq!(ErrorKind::UnexpectedResponse.class_name(), "SERVER_REPLY");
        assert_eq!(ErrorKind::Internal.class_name(), "INTERNAL");
    }
}
