//! `idaas`: the IDaaS command-line tool — bearer tokens, token exchange, API keys, OAuth tokens and
//! JWT authentication tokens, from a client configuration file.
//!
//! Secrets are written only to stdout; diagnostics and errors go to stderr. Exit codes are listed
//! in `idaas --help` (see [`EXIT_CODES_HELP`]).
//!
//! Logging: the library's `log` records (e.g. "config file writable by group or others") go to
//! stderr through `env_logger`, at `warn` by default, `-v` info, `-vv` debug, `-vvv` trace, or the
//! level named by `IDAAS_LOG` (`off|error|warn|info|debug|trace`); a `-v` flag wins over
//! `IDAAS_LOG`. Two rules hold at every level, even `trace`: the records that
//! `idaas::is_sensitive_log_record` flags (the HTTP stack's raw request/response dumps, with
//! client secrets and tokens) are dropped — the same filter as the C ABI's log callback — and
//! control characters in a record (which may quote server text) are escaped, so a log line cannot
//! move the cursor, rewrite earlier output or forge a second line.
//!
//! Nothing a server sent reaches the terminal raw (SECURITY.md "Server text"): every line written,
//! on stdout and stderr, goes through [`terminal_text`] (control characters escaped as `\u{1b}`,
//! `\n` ...) or, for JSON, [`terminal_json`] (the controls `serde_json` leaves raw written as
//! `\uXXXX`, which stays valid JSON). Secrets need no escaping: the library refuses tokens, API keys
//! and JWTs outside their character sets.

mod agent;

use clap::{Args, Parser, Subcommand, ValueEnum};
use idaas::pam::{
    AuthenticationToken, FetchOAuthOptions, GenerateJwtOptions, JwtContent,
    ListAuthenticationTokensOptions, PamClient, PollOptions,
};
use idaas::Client;
use idaas::Config;
use idaas::StaticProvider;
use idaas::TokenExchangeRequest;
use idaas::TOKEN_TYPE_ACCESS_TOKEN;
use idaas::{Credential, CredentialProvider, Error, ErrorKind, SecretString};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  other failure (e.g. the credential has no API key, cancelled, internal error)
  2  usage error or invalid argument
  3  configuration error (file missing or invalid)
  4  authentication/authorization failure (credential, 401, 403)
  5  server rejected or failed the request (other 4xx, 5xx, unexpected response)
  6  network failure or timeout

Logging (stderr): warnings by default; -v info, -vv debug, -vvv trace, or
IDAAS_LOG=off|error|warn|info|debug|trace (a -v flag wins over IDAAS_LOG). Secrets are never
logged, even at trace.

Secrets are printed only on stdout; errors go to stderr.
The configuration is read from --config, else $CLOUD_IDAAS_CONFIG_PATH, else ~/.cloud_idaas/client-config.json.";

/// Command-line access to IDaaS machine credentials and the PAM Developer API.
#[derive(Parser, Debug)]
#[command(name = "idaas", version, about, after_help = EXIT_CODES_HELP)]
struct Cli {
    /// Client configuration file (default: $CLOUD_IDAAS_CONFIG_PATH, else
    /// ~/.cloud_idaas/client-config.json).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,

    /// Output format of structured results.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    output: Output,

    /// More log output on stderr: -v info, -vv debug, -vvv trace (default: warnings only; overrides
    /// IDAAS_LOG). Secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Output {
    /// Plain values (the secret alone on stdout).
    Text,
    /// One JSON document on stdout.
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the host agent: serve this configuration's tokens and API keys to the local processes
    /// of the host over a Unix socket (and optionally loopback HTTP), from one shared cache
    /// (docs/protocol/agent.md).
    #[command(after_help = EXIT_CODES_HELP)]
    Agent(agent::AgentArgs),
    /// Print a bearer token of the configured client (client credentials, cached per run).
    #[command(after_help = EXIT_CODES_HELP)]
    Token {
        /// Scope of the token (default: the configured scope).
        #[arg(long)]
        scope: Option<String>,
    },
    /// RFC 8693 token exchange: print the issued token.
    #[command(after_help = EXIT_CODES_HELP)]
    Exchange {
        /// The token to exchange ("-" reads it from stdin).
        subject_token: String,
        /// Type URN of the subject token.
        #[arg(long, default_value = TOKEN_TYPE_ACCESS_TOKEN)]
        subject_token_type: String,
        /// Requested type URN (default: access token).
        #[arg(long)]
        requested_token_type: Option<String>,
        /// Scope of the issued token (default: the configured scope).
        #[arg(long)]
        scope: Option<String>,
    },
    /// Print the API key of a credential (ObtainCredential).
    #[command(name = "api-key", after_help = EXIT_CODES_HELP)]
    ApiKey {
        /// The credential identifier.
        id: String,
    },
    /// Print an OAuth access token held by IDaaS for a credential provider (FetchOAuthAuthenticationToken).
    #[command(name = "oauth-token", after_help = EXIT_CODES_HELP)]
    OauthToken {
        /// The credential provider identifier.
        provider: String,
        /// OAuth scopes, space-separated (default: the provider's).
        #[arg(long)]
        scope: Option<String>,
        /// Expected authorization flow. With user_federation the tool prints the authorization URL
        /// on stderr and waits until the user has authorized (3LO poll).
        #[arg(long, value_enum, default_value_t = Flow::M2m)]
        flow: Flow,
        /// Ignore an existing valid token.
        #[arg(long)]
        force_authentication: bool,
        /// Extra authorization-URL parameter KEY=VALUE (repeatable, order kept).
        #[arg(long = "custom-parameter", value_name = "KEY=VALUE")]
        custom_parameters: Vec<String>,
        /// A user token to exchange first (RFC 8693) so the call is user-bound (needed for 3LO);
        /// "-" reads it from stdin.
        #[arg(long, value_name = "TOKEN")]
        user_token: Option<String>,
        /// Seconds between two session polls (3LO).
        #[arg(long, default_value_t = 3.0)]
        poll_interval: f64,
        /// Most session polls (3LO).
        #[arg(long, default_value_t = 60)]
        max_polls: u32,
    },
    /// JWT authentication tokens.
    #[command(subcommand)]
    Jwt(JwtCommand),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Flow {
    /// Machine-to-machine (2LO).
    M2m,
    /// User federation (3LO).
    #[value(name = "user_federation", alias = "user-federation")]
    UserFederation,
}

#[derive(Subcommand, Debug)]
enum JwtCommand {
    /// Generate a JWT (GenerateJwtAuthenticationToken); text output: the JWT, then the derived
    /// short token on a second line when requested.
    #[command(after_help = EXIT_CODES_HELP)]
    Generate {
        /// JWT credential provider identifier.
        #[arg(long)]
        provider: String,
        /// JWT `sub`.
        #[arg(long)]
        subject: String,
        /// JWT `aud` (repeatable; must not start with urn:cloud:idaas).
        #[arg(long = "audience", required = true)]
        audiences: Vec<String>,
        /// JWT `iss`.
        #[arg(long)]
        issuer: Option<String>,
        /// Extra claim KEY=VALUE; VALUE is parsed as JSON when it is valid JSON, else taken as a
        /// string (repeatable, order kept).
        #[arg(long = "claim", value_name = "KEY=VALUE")]
        claims: Vec<String>,
        /// Lifetime in seconds.
        #[arg(long)]
        expiration: Option<u64>,
        /// Also issue a derived short token.
        #[arg(long)]
        derived_short_token: bool,
    },
    /// Print the JWT of an existing authentication token (ObtainJwtAuthenticationToken).
    #[command(after_help = EXIT_CODES_HELP)]
    Obtain {
        /// Consumer id.
        #[arg(long)]
        consumer_id: String,
        /// Authentication token id (atntkn_…).
        #[arg(long)]
        token_id: String,
    },
    /// Print the JWT of a derived short token (ObtainJwtAuthenticationTokenByDerivedShortToken).
    #[command(name = "obtain-by-short-token", after_help = EXIT_CODES_HELP)]
    ObtainByShortToken {
        /// The derived short token ("-" reads it from stdin).
        short_token: String,
    },
    /// List authentication tokens (ListAuthenticationTokens); text: one token per line.
    #[command(after_help = EXIT_CODES_HELP)]
    List {
        /// Consumer id.
        #[arg(long)]
        consumer_id: String,
        /// Credential provider identifier.
        #[arg(long)]
        provider: String,
        /// Cursor of the page to fetch.
        #[arg(long)]
        next_token: Option<String>,
        /// Page size.
        #[arg(long)]
        max_results: Option<u32>,
        /// Filter on the revoked flag.
        #[arg(long)]
        revoked: Option<bool>,
        /// Filter on expiry.
        #[arg(long)]
        expired: Option<bool>,
        /// Fetch every page (JSON output: an array of tokens).
        #[arg(long)]
        all: bool,
    },
    /// Check a JWT or derived short token (ValidateAuthenticationToken); prints true or false.
    #[command(after_help = EXIT_CODES_HELP)]
    Validate {
        /// The token ("-" reads it from stdin).
        token: String,
        /// Token type hint.
        #[arg(long)]
        token_type_hint: Option<String>,
    },
    /// Revoke a token, or every token of a consumer under a provider.
    #[command(after_help = EXIT_CODES_HELP)]
    Revoke(TokenTarget),
    /// Reinstate a token, or every token of a consumer under a provider.
    #[command(after_help = EXIT_CODES_HELP)]
    Reinstate(TokenTarget),
}

#[derive(Args, Debug)]
struct TokenTarget {
    /// The token ("-" reads it from stdin); omit it with --consumer-id and --provider.
    #[arg(
        required_unless_present = "consumer_id",
        conflicts_with = "consumer_id"
    )]
    token: Option<String>,
    /// Token type hint (with TOKEN).
    #[arg(long, requires = "token")]
    token_type_hint: Option<String>,
    /// Consumer id (with --provider): act on every token of that consumer.
    #[arg(long, requires = "provider")]
    consumer_id: Option<String>,
    /// Credential provider identifier (with --consumer-id).
    #[arg(long, requires = "consumer_id")]
    provider: Option<String>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            });
        }
    };
    let output = cli.output;
    match log_level(cli.verbose, std::env::var_os(LOG_ENV).as_deref()) {
        Ok(level) => install_logger(level, output),
        Err(e) => {
            report(&e, output);
            return ExitCode::from(exit_code(&e));
        }
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e, output);
            ExitCode::from(exit_code(&e))
        }
    }
}

/// The environment variable naming the log level.
const LOG_ENV: &str = "IDAAS_LOG";

/// The log level: `-v` counts win (1 info, 2 debug, 3+ trace); else `IDAAS_LOG` when set and not
/// empty; else warnings. An unknown `IDAAS_LOG` value is a usage error rather than a silent default,
/// so a typo does not hide the warnings the user asked to see (or show the ones they silenced).
fn log_level(verbose: u8, env: Option<&std::ffi::OsStr>) -> idaas::Result<log::LevelFilter> {
    use log::LevelFilter;
    match verbose {
        0 => {}
        1 => return Ok(LevelFilter::Info),
        2 => return Ok(LevelFilter::Debug),
        _ => return Ok(LevelFilter::Trace),
    }
    let Some(raw) = env else {
        return Ok(LevelFilter::Warn);
    };
    let v = raw.to_string_lossy();
    let v = v.trim();
    if v.is_empty() {
        return Ok(LevelFilter::Warn);
    }
    match v.to_ascii_lowercase().as_str() {
        "off" => Ok(LevelFilter::Off),
        "error" => Ok(LevelFilter::Error),
        "warn" | "warning" => Ok(LevelFilter::Warn),
        "info" => Ok(LevelFilter::Info),
        "debug" => Ok(LevelFilter::Debug),
        "trace" => Ok(LevelFilter::Trace),
        _ => Err(Error::invalid_argument(format!(
            "{LOG_ENV} must be one of off, error, warn, info, debug, trace (got \"{}\")",
            terminal_text(v)
        ))),
    }
}

/// `env_logger` (stderr, the level above, no colours) behind the secret filter of the C ABI's log
/// callback.
struct CliLogger(env_logger::Logger);

impl log::Log for CliLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        // The HTTP stack's TRACE records dump raw requests and replies (client secrets, bearer
        // tokens): dropped, exactly as `idaas_set_logger`'s callback drops them.
        if idaas::is_sensitive_log_record(record.target(), record.level()) {
            return;
        }
        self.0.log(record);
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Installs the stderr logger. Text output: `idaas: warning: …` lines; JSON output (`--output json`):
/// one `{"log":{…}}` object per line, so stderr stays a stream of JSON documents (JSON string
/// escaping covers control characters).
fn install_logger(level: log::LevelFilter, output: Output) {
    let inner = env_logger::Builder::new()
        .filter_level(level)
        .target(env_logger::Target::Stderr)
        .format(move |buf, record| {
            let text = record.args().to_string();
            if output == Output::Json {
                let v = json!({"log": {
                    "level": record.level().as_str().to_ascii_lowercase(),
                    "target": record.target(),
                    "message": text,
                }});
                return writeln!(buf, "{v}");
            }
            let msg = terminal_text(&text);
            match record.level() {
                log::Level::Error => writeln!(buf, "idaas: error: {msg}"),
                log::Level::Warn => writeln!(buf, "idaas: warning: {msg}"),
                log::Level::Info => writeln!(buf, "idaas: info: {msg}"),
                l => writeln!(
                    buf,
                    "idaas: {}: [{}] {msg}",
                    l.as_str().to_ascii_lowercase(),
                    terminal_text(record.target())
                ),
            }
        })
        .build();
    let max = inner.filter();
    // Only fails if a logger is already set, which nothing in this binary does.
    if log::set_boxed_logger(Box::new(CliLogger(inner))).is_ok() {
        log::set_max_level(max);
    }
}

/// The exit code of an error (see [`EXIT_CODES_HELP`]).
fn exit_code(e: &Error) -> u8 {
    match e.kind() {
        ErrorKind::InvalidArgument => 2,
        ErrorKind::Config => 3,
        ErrorKind::Credential | ErrorKind::Auth => 4,
        ErrorKind::Client | ErrorKind::Server | ErrorKind::UnexpectedResponse => 5,
        ErrorKind::Transport | ErrorKind::Timeout => 6,
        _ => 1,
    }
}

fn report(e: &Error, output: Output) {
    let mut err = std::io::stderr().lock();
    match output {
        Output::Text => {
            let line = format!("idaas: error ({}): {e}", e.kind().as_str());
            let _ = writeln!(err, "{}", terminal_text(&line));
        }
        Output::Json => {
            let v = json!({"error": {
                "kind": e.kind().as_str(),
                "code": e.code(),
                "message": e.message(),
                "httpStatus": e.http_status(),
                "requestId": e.request_id(),
            }});
            let _ = writeln!(err, "{}", terminal_json(&v));
        }
    }
}

fn client(config: Option<&PathBuf>) -> idaas::Result<Client> {
    Client::new(Config::load(config.map(|p| p.as_path()))?)
}

/// The most bytes read from stdin for a secret argument (1 MiB, the library's file cap).
const MAX_STDIN_BYTES: u64 = 1024 * 1024;

/// A secret argument; "-" reads it from stdin (trailing newline removed), so it stays out of `ps`.
fn secret_arg(v: &str, name: &str) -> idaas::Result<SecretString> {
    if v == "-" {
        // Bounded like every file the library reads (1 MiB): `< /dev/zero` must not exhaust memory.
        // 8 KiB up front: a token fits without the reallocations that would free unwiped copies.
        let mut s = String::with_capacity(8192);
        let read = std::io::stdin()
            .take(MAX_STDIN_BYTES + 1)
            .read_to_string(&mut s);
        if let Err(e) = read {
            drop(SecretString::new(s));
            return Err(Error::invalid_argument(format!(
                "cannot read {name} from stdin: {e}"
            )));
        }
        if s.len() as u64 > MAX_STDIN_BYTES {
            drop(SecretString::new(s));
            return Err(Error::invalid_argument(format!(
                "{name} read from stdin is larger than the 1 MiB limit ({MAX_STDIN_BYTES} bytes)"
            )));
        }
        // Trim in place: no second, unwiped copy.
        s.truncate(s.trim_end_matches(['\r', '\n']).len());
        let t = SecretString::new(s);
        if t.is_empty() {
            return Err(Error::invalid_argument(format!(
                "{name} read from stdin is empty"
            )));
        }
        Ok(t)
    } else {
        Ok(SecretString::new(v))
    }
}

fn split_kv(s: &str, what: &str) -> idaas::Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(Error::invalid_argument(format!(
            "{what} must be KEY=VALUE: {s:?}"
        ))),
    }
}

/// `s` made safe for a terminal: control characters (C0, DEL, C1, bidirectional controls) escaped.
/// The library already escapes its errors and refuses secrets with such characters; this also
/// covers the other server text we print (identifiers, URLs, cursors).
fn terminal_text(s: &str) -> std::borrow::Cow<'_, str> {
    idaas::escape_controls(s)
}

/// `v` as compact JSON safe for a terminal: `serde_json` escapes C0 controls but writes DEL, C1 and
/// the bidirectional controls raw; they are written as `\uXXXX` escapes (all are in the BMP), which
/// any JSON parser reads back as the same text.
fn terminal_json(v: &Value) -> String {
    let s = v.to_string();
    if !s
        .chars()
        .any(idaas::internals::server_text::is_terminal_control)
    {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if idaas::internals::server_text::is_terminal_control(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn print_line(s: &str) -> idaas::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", terminal_text(s))
        .map_err(|e| Error::internal(format!("cannot write to stdout: {e}")))
}

fn print_json(v: &Value) -> idaas::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", terminal_json(v))
        .map_err(|e| Error::internal(format!("cannot write to stdout: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> idaas::Result<Value> {
    serde_json::to_value(v)
        .map_err(|e| Error::internal(format!("cannot serialize the result: {e}")))
}

fn credential_json(c: &Credential) -> Value {
    json!({
        "access_token": c.access_token.expose(),
        "token_type": c.token_type,
        "expires_in": c.expires_in,
        "expires_at": c.expires_at,
        "issued_token_type": c.issued_token_type,
        "scope": c.scope,
    })
}

fn print_jwt(output: Output, value: &Value, content: &JwtContent) -> idaas::Result<()> {
    match output {
        Output::Json => print_json(value),
        Output::Text => {
            print_line(content.jwt_value.expose())?;
            if let Some(d) = &content.derived_short_token {
                print_line(d.expose())?;
            }
            Ok(())
        }
    }
}

fn token_line(t: &AuthenticationToken) -> String {
    let s = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    format!(
        "{}\t{}\trevoked={}\tconsumer={}\texpiration={}",
        s(&t.authentication_token_id),
        s(&t.authentication_token_type),
        t.revoked
            .map(|r| r.to_string())
            .unwrap_or_else(|| "-".into()),
        s(&t.consumer_id),
        t.expiration_time
            .map(|e| e.to_string())
            .unwrap_or_else(|| "-".into()),
    )
}

fn run(cli: Cli) -> idaas::Result<()> {
    let output = cli.output;
    let config = cli.config.as_ref();
    match cli.command {
        Command::Agent(args) => agent::run(config, args),
        Command::Token { scope } => {
            let c = client(config)?;
            let cred = match &scope {
                Some(s) => c.cached_provider_for_scope(s)?.credential()?,
                None => c.credential()?,
            };
            match output {
                Output::Text => print_line(cred.access_token.expose()),
                Output::Json => print_json(&credential_json(&cred)),
            }
        }
        Command::Exchange {
            subject_token,
            subject_token_type,
            requested_token_type,
            scope,
        } => {
            let mut req = TokenExchangeRequest::new(
                secret_arg(&subject_token, "SUBJECT_TOKEN")?,
                subject_token_type,
            );
            if let Some(t) = requested_token_type {
                req = req.requested_token_type(t);
            }
            if let Some(s) = scope {
                req = req.scope(s);
            }
            req.validate()?;
            let cred = client(config)?.exchange_token(&req)?;
            match output {
                Output::Text => print_line(cred.access_token.expose()),
                Output::Json => print_json(&credential_json(&cred)),
            }
        }
        Command::ApiKey { id } => {
            if id.trim().is_empty() {
                return Err(Error::invalid_argument(
                    "credential identifier must not be empty",
                ));
            }
            let pam = PamClient::from_client(&client(config)?)?;
            match pam.get_api_key(&id)? {
                Some(key) => match output {
                    Output::Text => print_line(key.expose()),
                    Output::Json => print_json(&json!({"credentialIdentifier": id, "apiKey": key.expose()})),
                },
                None => Err(Error::new(
                    ErrorKind::Internal,
                    "NoApiKey",
                    format!("credential {id:?} has no API key content (e.g. an OAuth client credential)"),
                )),
            }
        }
        Command::OauthToken {
            provider,
            scope,
            flow,
            force_authentication,
            custom_parameters,
            user_token,
            poll_interval,
            max_polls,
        } => {
            let params = custom_parameters
                .iter()
                .map(|p| split_kv(p, "--custom-parameter"))
                .collect::<idaas::Result<Vec<_>>>()?;
            let params = (!params.is_empty()).then_some(params);
            if !(poll_interval.is_finite() && poll_interval > 0.0) {
                return Err(Error::invalid_argument(
                    "--poll-interval must be a positive number of seconds",
                ));
            }
            let c = client(config)?;
            let pam = match user_token {
                Some(t) => {
                    let req = TokenExchangeRequest::new(
                        secret_arg(&t, "--user-token")?,
                        TOKEN_TYPE_ACCESS_TOKEN,
                    )
                    .scope(idaas::pam::SCOPE);
                    let cred = c.exchange_token(&req)?;
                    PamClient::from_client_with_provider(&c, Arc::new(StaticProvider::new(cred)))?
                }
                None => PamClient::from_client(&c)?,
            };
            let force = force_authentication.then_some(true);
            let resp = match flow {
                Flow::M2m => pam.fetch_oauth_authentication_token_v2(
                    &provider,
                    "m2m",
                    &FetchOAuthOptions {
                        scope,
                        force_authentication: force,
                        custom_parameters: params,
                    },
                )?,
                Flow::UserFederation => pam.poll_oauth_authentication_token(
                    &provider,
                    |url| {
                        eprintln!(
                            "Open this URL to authorize access, then wait here:\n  {}",
                            terminal_text(url)
                        );
                        Ok(())
                    },
                    &PollOptions {
                        scope,
                        force_authentication: force,
                        custom_parameters: params,
                        max_polls,
                        interval: Duration::from_secs_f64(poll_interval),
                        ..PollOptions::default()
                    },
                )?,
            };
            match output {
                Output::Json => print_json(&to_json(&resp)?),
                Output::Text => match &resp.oauth_access_token_content {
                    Some(c) => print_line(c.access_token_value.expose()),
                    None => Err(Error::new(
                        ErrorKind::UnexpectedResponse,
                        "MissingAccessToken",
                        "the reply carries no access token",
                    )),
                },
            }
        }
        Command::Jwt(cmd) => run_jwt(cmd, output, config),
    }
}

fn run_jwt(cmd: JwtCommand, output: Output, config: Option<&PathBuf>) -> idaas::Result<()> {
    let pam = || -> idaas::Result<PamClient> { PamClient::from_client(&client(config)?) };
    match cmd {
        JwtCommand::Generate {
            provider,
            subject,
            audiences,
            issuer,
            claims,
            expiration,
            derived_short_token,
        } => {
            let claims = claims
                .iter()
                .map(|c| {
                    let (k, v) = split_kv(c, "--claim")?;
                    let v = serde_json::from_str::<Value>(&v).unwrap_or(Value::String(v));
                    Ok((k, v))
                })
                .collect::<idaas::Result<Vec<_>>>()?;
            let opts = GenerateJwtOptions {
                issuer,
                custom_claims: (!claims.is_empty()).then_some(claims),
                expiration,
                include_derived_short_token: derived_short_token.then_some(true),
            };
            let r =
                pam()?.generate_jwt_authentication_token(&provider, &subject, &audiences, &opts)?;
            print_jwt(output, &to_json(&r)?, &r.jwt_content)
        }
        JwtCommand::Obtain {
            consumer_id,
            token_id,
        } => {
            let c = pam()?.obtain_jwt_authentication_token(&consumer_id, &token_id)?;
            print_jwt(output, &to_json(&c)?, &c)
        }
        JwtCommand::ObtainByShortToken { short_token } => {
            let t = secret_arg(&short_token, "SHORT_TOKEN")?;
            let c = pam()?.obtain_jwt_authentication_token_by_derived_short_token(&t)?;
            print_jwt(output, &to_json(&c)?, &c)
        }
        JwtCommand::List {
            consumer_id,
            provider,
            next_token,
            max_results,
            revoked,
            expired,
            all,
        } => {
            let opts = ListAuthenticationTokensOptions {
                next_token,
                max_results,
                revoked,
                expired,
            };
            let pam = pam()?;
            if all {
                let tokens = pam
                    .list_all(&consumer_id, &provider, opts)
                    .collect::<idaas::Result<Vec<_>>>()?;
                match output {
                    Output::Json => print_json(&to_json(&tokens)?),
                    Output::Text => tokens.iter().try_for_each(|t| print_line(&token_line(t))),
                }
            } else {
                let page = pam.list_authentication_tokens(&consumer_id, &provider, &opts)?;
                match output {
                    Output::Json => print_json(&to_json(&page)?),
                    Output::Text => {
                        page.entities
                            .iter()
                            .try_for_each(|t| print_line(&token_line(t)))?;
                        if let Some(n) = page.next_page_token() {
                            eprintln!("more results: --next-token {}", terminal_text(n));
                        }
                        Ok(())
                    }
                }
            }
        }
        JwtCommand::Validate {
            token,
            token_type_hint,
        } => {
            let t = secret_arg(&token, "TOKEN")?;
            let active = pam()?.validate_authentication_token(&t, token_type_hint.as_deref())?;
            match output {
                Output::Json => print_json(&json!({ "active": active })),
                Output::Text => print_line(if active { "true" } else { "false" }),
            }
        }
        JwtCommand::Revoke(target) => token_target(target, output, pam, true),
        JwtCommand::Reinstate(target) => token_target(target, output, pam, false),
    }
}

fn token_target(
    target: TokenTarget,
    output: Output,
    pam: impl Fn() -> idaas::Result<PamClient>,
    revoke: bool,
) -> idaas::Result<()> {
    match (target.token, target.consumer_id, target.provider) {
        (Some(t), None, None) => {
            let t = secret_arg(&t, "TOKEN")?;
            let hint = target.token_type_hint.as_deref();
            if revoke {
                pam()?.revoke_authentication_token(&t, hint)?
            } else {
                pam()?.reinstate_authentication_token(&t, hint)?
            }
        }
        (None, Some(c), Some(p)) => {
            if revoke {
                pam()?.revoke_authentication_token_by_consumer(&c, &p)?
            } else {
                pam()?.reinstate_authentication_token_by_consumer(&c, &p)?
            }
        }
        _ => {
            return Err(Error::invalid_argument(
                "give either TOKEN or both --consumer-id and --provider",
            ))
        }
    }
    match output {
        Output::Json => print_json(&json!({ "ok": true })),
        Output::Text => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use log::LevelFilter;
    use std::ffi::OsStr;

    #[test]
    fn control_characters_are_escaped_for_the_terminal() {
        assert_eq!(terminal_text("plain text é"), "plain text é");
        assert!(matches!(
            terminal_text("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            terminal_text("a\nb\r\x1b[2Jc\x07\u{9b}d\u{7f}"),
            "a\\nb\\r\\u{1b}[2Jc\\u{7}\\u{9b}d\\u{7f}"
        );
        assert_eq!(terminal_text("x\u{202e}y"), "x\\u{202e}y");
    }

    #[test]
    fn log_level_flag_wins_over_env() {
        let env = |v: &'static str| Some(OsStr::new(v));
        assert_eq!(log_level(0, None).unwrap(), LevelFilter::Warn);
        assert_eq!(log_level(0, env("")).unwrap(), LevelFilter::Warn);
        assert_eq!(log_level(0, env("off")).unwrap(), LevelFilter::Off);
        assert_eq!(log_level(0, env(" TRACE ")).unwrap(), LevelFilter::Trace);
        assert_eq!(log_level(0, env("error")).unwrap(), LevelFilter::Error);
        assert_eq!(log_level(1, env("off")).unwrap(), LevelFilter::Info);
        assert_eq!(log_level(2, env("error")).unwrap(), LevelFilter::Debug);
        assert_eq!(log_level(7, None).unwrap(), LevelFilter::Trace);
        let e = log_level(0, env("verbose\x1b[31m")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("IDAAS_LOG must be one of"), "{e}");
        assert!(e.message().contains("verbose\\u{1b}[31m"), "{e}");
    }
}
