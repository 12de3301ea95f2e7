//! `idaas-emulator`: run the local IDaaS server standalone (see `--help` and README.md).

use clap::Parser;
use idaas_emulator::{
    files, parse_fault_spec, start, AuthMethod, EmulatorOptions, ErrorStyle, FaultRule, Fixtures,
    TlsFiles,
};
use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::PathBuf;

fn parse_style(s: &str) -> Result<ErrorStyle, String> {
    ErrorStyle::parse(s).ok_or_else(|| "expected oauth or pop".to_string())
}

fn parse_method(s: &str) -> Result<AuthMethod, String> {
    AuthMethod::parse(s).ok_or_else(|| {
        "expected one of CLIENT_SECRET_BASIC, CLIENT_SECRET_POST, CLIENT_SECRET_JWT, PRIVATE_KEY_JWT, OIDC, PKCS7, PCA, PLUGIN".to_string()
    })
}

/// A local IDaaS server: token endpoint (every client-authentication method, token exchange),
/// JWKS/discovery, PAM Developer API, ECS metadata stand-in and a control API, on one
/// loopback port that speaks both HTTPS and plain HTTP.
#[derive(Parser, Debug)]
#[command(name = "idaas-emulator", version, about, long_about = None)]
struct Cli {
    /// Address to listen on. Anything but loopback is warned about: the emulator is insecure by
    /// design (well-known secrets, unauthenticated control API).
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port to listen on (0 = chosen by the OS; see --ready-file to learn it).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Serve plain HTTP only (no TLS); every advertised URL then uses http://.
    #[arg(long)]
    no_tls: bool,
    /// TLS server certificate chain (PEM) to use instead of generating a CA (needs --tls-key).
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// TLS server private key (PEM: PKCS#8, PKCS#1 or SEC1) for --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// CA certificate (PEM) to report in the ready file with --tls-cert (default: the cert file).
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    tls_ca: Option<PathBuf>,
    /// Write the CA certificate (PEM) that signed the TLS server certificate to this path.
    #[arg(long, value_name = "PATH")]
    ca_cert_out: Option<PathBuf>,
    /// Fixtures JSON file (clients, credentials, credential providers); default: built-in.
    #[arg(long, value_name = "FILE")]
    fixtures: Option<PathBuf>,
    /// Access-token lifetime in seconds.
    #[arg(long, default_value_t = 1200, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    token_lifetime: u64,
    /// Lifetime in seconds of the temporary Alibaba Cloud keys issued by STS, the metadata RAM
    /// role and the credentials URI (PLUGIN alibabacloudPluginCredentialProvider).
    #[arg(long, default_value_t = 3600, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    alibaba_sts_lifetime: u64,
    /// Omit expires_at from token replies.
    #[arg(long)]
    omit_expires_at: bool,
    /// Form-decode the id and secret of Basic credentials before comparing them (as servers
    /// following RFC 6749 §2.3.1 strictly do): a raw secret containing + % : or a space then fails.
    #[arg(long)]
    strict_basic_encoding: bool,
    /// Require the issuer as the aud of JWT client assertions (FAPI 2.0 / RFC 7523 update); the
    /// token endpoint URL is then refused.
    #[arg(long)]
    strict_assertion_audience: bool,
    /// Shape of Developer API error bodies: oauth ({"error",...}) or pop ({"Code",...}).
    #[arg(long, default_value = "oauth", value_parser = parse_style, value_name = "oauth|pop")]
    error_style: ErrorStyle,
    /// Inject a fault (repeatable): ROUTE=FAULT[:TIMES], e.g. token=status/503:2,
    /// devapi:ObtainCredential=reset, any=latency/500. ROUTE: token | devapi | devapi:ACTION |
    /// metadata | openapi | sts | credentials-uri | any. FAULT: latency/MS | status/CODE[/RETRY_AFTER] | reset | reset-mid-body |
    /// truncate | non-json | json-without/FIELD | expires-at-past | huge-body/BYTES |
    /// no-content | redirect/URL | down. TIMES: apply to the next N matching requests only.
    #[arg(long = "fault", value_parser = parse_fault_spec, value_name = "SPEC")]
    faults: Vec<FaultRule>,
    /// Append every request as a JSON line to this file (created 0600; it holds client secrets
    /// and tokens, so an existing file must be a regular file nobody else can read or write).
    #[arg(long, value_name = "FILE")]
    request_log: Option<PathBuf>,
    /// OIDC token file referenced by the OIDC client config (default: a generated file holding
    /// a 24 h token for subject "workload").
    #[arg(long, value_name = "FILE")]
    oidc_token_file: Option<PathBuf>,
    /// Once listening, write a JSON document with the base URLs, token endpoint, Developer API
    /// endpoint, metadata URL, instance id, CA path, client secret and the client config of
    /// every method to PATH ("-" = stdout). The file is created 0600 (it holds secrets) and
    /// replaces PATH by rename, never writing through a symbolic link.
    #[arg(long, value_name = "PATH")]
    ready_file: Option<PathBuf>,
    /// Once listening, print the client config JSON for METHOD (e.g. CLIENT_SECRET_BASIC) to
    /// stdout. For PLUGIN, the environment variables it needs are printed to stderr.
    #[arg(long, value_parser = parse_method, value_name = "METHOD")]
    print_config: Option<AuthMethod>,
    /// Exit when standard input reaches end of file (lets a parent process tie our lifetime to
    /// a pipe).
    #[arg(long)]
    exit_on_stdin_eof: bool,
}

fn main() {
    let cli = Cli::parse();
    let fixtures = match &cli.fixtures {
        Some(p) => match Fixtures::from_path(p) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("idaas-emulator: --fixtures: {e}");
                std::process::exit(2);
            }
        },
        None => None,
    };
    let opts = EmulatorOptions {
        bind: cli.bind,
        port: cli.port,
        token_lifetime_secs: cli.token_lifetime,
        fixtures,
        ca_cert_out: cli.ca_cert_out.clone(),
        error_style: cli.error_style,
        tls: !cli.no_tls,
        omit_expires_at: cli.omit_expires_at,
        strict_basic_encoding: cli.strict_basic_encoding,
        strict_assertion_audience: cli.strict_assertion_audience,
        faults: cli.faults.clone(),
        request_log: cli.request_log.clone(),
        tls_files: match (&cli.tls_cert, &cli.tls_key) {
            (Some(c), Some(k)) => Some(TlsFiles {
                cert: c.clone(),
                key: k.clone(),
                ca: cli.tls_ca.clone(),
            }),
            _ => None,
        },
        oidc_token_file: cli.oidc_token_file.clone(),
        alibaba_sts_lifetime_secs: cli.alibaba_sts_lifetime,
    };
    let emu = match start(opts) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("idaas-emulator: {e}");
            std::process::exit(2);
        }
    };
    eprintln!(
        "idaas-emulator: listening on {} (https and http), token endpoint {}, instance {}",
        emu.local_addr(),
        emu.token_endpoint(),
        emu.instance_id()
    );
    if let Some(p) = &cli.ready_file {
        let text = format!(
            "{}\n",
            serde_json::to_string_pretty(&emu.info()).unwrap_or_default()
        );
        if p.as_os_str() == "-" {
            let mut out = std::io::stdout();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        } else {
            // It holds the client secret and the PCA key: 0600, through an exclusively created
            // temporary file with a random name, renamed over the target (files.rs).
            if let Err(e) = files::write_replace(p, text.as_bytes(), files::PRIVATE) {
                eprintln!("idaas-emulator: --ready-file {}: {e}", p.display());
                std::process::exit(2);
            }
        }
    }
    if let Some(m) = cli.print_config {
        let mut out = std::io::stdout();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&emu.client_config(m)).unwrap_or_default()
        );
        let _ = out.flush();
        if m == AuthMethod::Plugin {
            // The config names no credentials: the chain reads them from the environment.
            eprintln!("idaas-emulator: the PLUGIN config needs these environment variables:");
            for (k, v) in emu.alibaba_cloud_env() {
                eprintln!("export {k}={v}");
            }
        }
    }
    if cli.exit_on_stdin_eof {
        let mut sink = [0u8; 1024];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        emu.shutdown();
        return;
    }
    loop {
        std::thread::park();
    }
}
