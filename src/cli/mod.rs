//! The `kdesk` command line.
//!
//! Exit codes (sysexits-style, stable for scripts):
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | success |
//! | 1    | a check failed (e.g. the demo found a problem) |
//! | 2    | usage error (unknown flag, bad flag value) |
//! | 65   | invalid input: a field breaks a rule (message names field and rule); nothing stored |
//! | 66   | input file or record not found |
//! | 69   | no node is running for the data directory |
//! | 70   | internal error |
//! | 73   | `init` on a directory that already holds a node |
//! | 74   | I/O error; for `serve`: the final flush failed or missed `[shutdown] drain_seconds` (or a second stop signal forced the exit) |
//! | 75   | temporarily refused, retry later: free disk space below the node's reserve, or the node is stopping |
//! | 77   | permission refused: key file or data directory permissions, or the Admin API refused this user |
//! | 78   | configuration missing or invalid (`serve`: node certificate missing, exchange port in use) |

mod alert;
mod audit;
pub mod client;
mod fed;
pub(crate) mod import;
mod intel;
mod node;
mod retry;
mod screen;
mod view;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cli::client::ConnectError;
use kdesk::config::ConfigError;
use kdesk::keys::KeyError;
use kdesk::model::{CountryCode, NodeName};
use kdesk::node::ServeError;

/// Exit codes; see the module documentation.
pub mod exit {
    /// A check failed.
    pub const FAILED: u8 = 1;
    /// Usage error: a bad flag or flag value (clap's own code for the same).
    pub const USAGE: u8 = 2;
    /// Invalid input data.
    pub const DATAERR: u8 = 65;
    /// Input file or record not found.
    pub const NOINPUT: u8 = 66;
    /// Node not running.
    pub const UNAVAILABLE: u8 = 69;
    /// Internal error.
    pub const SOFTWARE: u8 = 70;
    /// Cannot create (already exists).
    pub const CANTCREAT: u8 = 73;
    /// I/O error.
    pub const IOERR: u8 = 74;
    /// Temporarily refused (disk in its reserve, node stopping); retry later.
    pub const TEMPFAIL: u8 = 75;
    /// Permission refused (key or directory permissions, Admin API caller).
    pub const NOPERM: u8 = 77;
    /// Configuration error.
    pub const CONFIG: u8 = 78;
}

/// A failed command: an exit code and a message for the user.
#[derive(Debug)]
pub struct CliError {
    /// Process exit code.
    pub code: u8,
    /// What to print (without the "error: " prefix).
    pub message: String,
}

impl CliError {
    /// Builds an error.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        let code = match &e {
            ConfigError::NotInitialised(_) | ConfigError::Invalid { .. } => exit::CONFIG,
            ConfigError::AlreadyInitialised(_) => exit::CANTCREAT,
            ConfigError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                exit::NOPERM
            }
            ConfigError::Io { .. } => exit::IOERR,
            ConfigError::Key(k) => return k.into(),
        };
        Self::new(code, e.to_string())
    }
}

impl From<&KeyError> for CliError {
    fn from(e: &KeyError) -> Self {
        let code = match e {
            KeyError::Permissions { .. }
            | KeyError::Owner { .. }
            | KeyError::DirPermissions { .. } => exit::NOPERM,
            KeyError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                exit::NOPERM
            }
            KeyError::Io { .. } => exit::IOERR,
            _ => exit::CONFIG,
        };
        Self::new(code, e.to_string())
    }
}

impl From<KeyError> for CliError {
    fn from(e: KeyError) -> Self {
        (&e).into()
    }
}

impl From<ConnectError> for CliError {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::Config(c) => c.into(),
            e @ ConnectError::PermissionDenied { .. } => Self::new(exit::NOPERM, e.to_string()),
            e => Self::new(exit::UNAVAILABLE, e.to_string()),
        }
    }
}

impl From<ServeError> for CliError {
    fn from(e: ServeError) -> Self {
        match e {
            ServeError::Config(c) => c.into(),
            ServeError::Key(k) => k.into(),
            ServeError::AlreadyRunning(_) => Self::new(exit::UNAVAILABLE, e.to_string()),
            ServeError::KeyMismatch { .. } => Self::new(exit::CONFIG, e.to_string()),
            // A missing or unusable node certificate, a port in use: the node's setup, with
            // what to do in the message.
            ServeError::Tls(_) | ServeError::Bind { .. } => Self::new(exit::CONFIG, e.to_string()),
            e => Self::new(exit::SOFTWARE, e.to_string()),
        }
    }
}

impl From<tonic::Status> for CliError {
    fn from(s: tonic::Status) -> Self {
        use tonic::Code;
        let (code, prefix) = match s.code() {
            Code::InvalidArgument => (exit::DATAERR, "invalid input: "),
            Code::FailedPrecondition => (exit::DATAERR, "refused: "),
            Code::NotFound => (exit::NOINPUT, ""),
            Code::AlreadyExists => (exit::CANTCREAT, ""),
            // A running node saying "not now" (it is stopping): retry later.
            Code::Unavailable => (exit::TEMPFAIL, "node unavailable, retry later: "),
            Code::ResourceExhausted => (exit::TEMPFAIL, "refused for now: "),
            Code::PermissionDenied => (exit::NOPERM, ""),
            _ => (exit::SOFTWARE, "node error: "),
        };
        Self::new(code, format!("{prefix}{}", s.message()))
    }
}

/// Result of a command.
pub type CliResult = Result<(), CliError>;

const ABOUT: &str = "kdesk: secure federated exchange of signed drug-enforcement alerts \
between partner customs desks";

const LONG_ABOUT: &str = "kdesk: secure federated exchange of signed drug-enforcement alerts \
between partner customs desks.

Each desk runs one node. `kdesk serve` owns the node's data directory; every other command
talks to it through its local Admin API socket.

Getting started:
  kdesk init  --data-dir ./kr --country KR --node-name seoul   create keys and config
  kdesk serve --data-dir ./kr                                   run the node
  kdesk alert issue --data-dir ./kr --input examples/alerts/cargo-sea-container-cocaine.json
  kdesk alert list  --data-dir ./kr
  kdesk demo                                                    see it all end to end

Federation (each desk):
  kdesk certs ca   --country KR --out-dir ./kr-ca                   national CA (keep ca.key offline)
  kdesk certs node --ca ./kr-ca --country KR --node-name seoul --host kr.example --out-dir ./kr/tls
  kdesk init --data-dir ./kr --country KR --node-name seoul --listen 0.0.0.0:7443
  kdesk peer add --data-dir ./kr --country TH --endpoint https://th.example:7443 \\
                 --ca th-ca.pem --signing-key <TH public key>

Exit codes: 0 ok, 1 check failed, 2 usage, 65 invalid input (nothing stored), 66 not found,
69 node not running, 70 internal, 73 already exists, 74 I/O, 75 retry later (disk in reserve,
node stopping),
77 permission refused, 78 config.";

/// Command line of `kdesk`.
#[derive(Parser, Debug)]
#[command(name = "kdesk", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `kdesk tls ...`.
#[derive(Subcommand, Debug)]
enum TlsCommand {
    /// Re-read the node certificate, its key and the published CRL from the paths in
    /// kdesk.toml, check them (this node's identity, validity period, issued by the national
    /// CA in [exchange] ca, key matching, CRL signed by that CA) and put them in force for
    /// new connections without a restart; on any failure the ones in force stay. SIGHUP to
    /// `kdesk serve` does the same.
    Reload {
        #[command(flatten)]
        dir: DataDir,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `kdesk keys ...`.
#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Rotate this node's signing key without downtime: a new key is made (0600), announced
    /// to every partner in a record the current key signs, and used for every signature from
    /// then on. The replaced key moves to keys/retired/ and keeps verifying the records it
    /// signed. Partners hold the new key pending until their admin runs `kdesk peer update
    /// --country CC --confirm-signing-key KEYID` (or accept it at once with [exchange]
    /// accept_announced_keys = true); records signed with it wait in their quarantine until
    /// then. Give auditors the new public key for their trust file.
    Rotate {
        #[command(flatten)]
        dir: DataDir,
        /// Why (recorded with the announcement; at most 1024 characters).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A benchmark that failed, as the CLI reports it.
fn bench_failed(e: impl std::fmt::Display) -> CliError {
    CliError::new(exit::FAILED, format!("benchmark failed: {e}"))
}

/// Runs a blocking benchmark off the async workers.
async fn blocking_bench<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, CliError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))?
        .map_err(bench_failed)
}

/// The data directory of a node.
#[derive(clap::Args, Debug, Clone)]
pub struct DataDir {
    /// Node data directory (config, keys, database, admin socket).
    #[arg(
        long,
        env = "KDESK_DATA_DIR",
        default_value = "kdesk-data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a node: configuration and Ed25519 signing key (0600). Prints the public key to
    /// give to partner desks.
    Init {
        #[command(flatten)]
        dir: DataDir,
        /// ISO 3166-1 alpha-2 country of this desk (KR, TH, VN, MY, US, NL, ...).
        #[arg(long, value_name = "CC", value_parser = parse_country)]
        country: CountryCode,
        /// Name of this node within its country: a-z, 0-9 and '-', starting with a letter.
        #[arg(long, value_name = "NAME", value_parser = parse_node_name)]
        node_name: NodeName,
        /// Take part in the federation: serve the exchange service on this address (e.g.
        /// 0.0.0.0:7443; port 0 picks a free port). Needs a node certificate in DIR/tls/
        /// (see `kdesk certs node`).
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// How often (seconds, 1-3600) to fetch, check and cosign each partner's signed tree
        /// head (transparency log witnessing; kept in kdesk.toml as
        /// exchange.witness_interval_seconds).
        #[arg(long, value_name = "SECONDS", default_value_t = kdesk::config::DEFAULT_WITNESS_INTERVAL_SECONDS,
              value_parser = clap::value_parser!(u64).range(1..=3600))]
        witness_interval: u64,
        /// Serve Prometheus metrics (/metrics) and plain-HTTP health (/healthz, /readyz) on
        /// this local address, e.g. 127.0.0.1:9464 (port 0 picks a free port, shown by
        /// `kdesk status`). Loopback only unless --metrics-listen-public is given.
        #[arg(long, value_name = "ADDR")]
        metrics_listen: Option<std::net::SocketAddr>,
        /// Allow a --metrics-listen address other than loopback (the listener has no TLS
        /// and no authentication: put it behind a firewall).
        #[arg(long, requires = "metrics_listen")]
        metrics_listen_public: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the node: owns the database and serves the Admin API on DIR/admin.sock until
    /// SIGINT or SIGTERM, then drains requests and flushes.
    Serve {
        #[command(flatten)]
        dir: DataDir,
        /// Log format on stderr. Verbosity via RUST_LOG (default: info).
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
    },
    /// The node's exchange certificate and published CRL.
    #[command(subcommand)]
    Tls(TlsCommand),
    /// The node's signing key.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Write a signed backup of the running node (database, configuration, signing and TLS
    /// keys) to a new file (0600: it holds private keys). Record writes wait while the
    /// database is copied; the node keeps serving. The file is checked after writing.
    Backup {
        #[command(flatten)]
        dir: DataDir,
        /// The backup file to create (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Restore a backup into a new data directory (offline; no node running there). The
    /// file's signature must verify with the key you expect (the node's key id, at least 16
    /// hex digits: `kdesk status` shows it, partners list it). When the
    /// restored node starts it signs nothing until every partner has handed back what it
    /// signed after the backup; then it declares the restore in a signed record and never
    /// reuses a sequence number (docs/OPERATIONS.md, "Backup and restore").
    Restore {
        /// The backup file.
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// The new data directory (must not exist, or be empty).
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// The node's key id (hex prefix, at least 16 digits).
        #[arg(long, value_name = "HEX")]
        expect_key: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the running node's identity and counters.
    Status {
        #[command(flatten)]
        dir: DataDir,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Issue, list, show, amend and retract alerts.
    #[command(subcommand)]
    Alert(alert::AlertCommand),
    /// Make a national CA, node certificates and CRLs (offline; no node needed).
    #[command(subcommand)]
    Certs(fed::CertsCommand),
    /// Register, list, remove partner desks and revoke their keys.
    #[command(subcommand)]
    Peer(fed::PeerCommand),
    /// Screen a Korea-bound cargo manifest or passenger list (CSV or JSON Lines) against
    /// every active alert the node holds, own and received. Prints each hit with its score
    /// and the fields that matched; --share sends each hit, signed, to the alert's desk.
    Screen(screen::ScreenArgs),
    /// Record inspection outcomes of hits.
    #[command(subcommand)]
    Outcome(screen::OutcomeCommand),
    /// List hits on this desk's alerts and hits it raised, with outcomes.
    #[command(subcommand)]
    Hits(screen::HitsCommand),
    /// Alerts, hits and seizures by ISO week, partner, route and substance, with each
    /// source's precision; --chart writes a one-page briefing chart (.svg, .png or .pdf).
    Report(screen::ReportArgs),
    /// Write synthetic alerts, a Korea-bound cargo manifest with seeded true matches, and the
    /// ground truth (for trials and measurements; no node needed).
    Gen(screen::GenArgs),
    /// Local intelligence (docs/INTEL.md): registered sources and their track records,
    /// items imported from CSV, JSON Lines or STIX bundles, graded A-F / 1-6 / H1-H5, linked,
    /// screened (hits stay on this node) and promoted to alerts.
    #[command(subcommand, after_long_help = intel::INTEL_HELP)]
    Intel(intel::IntelCommand),
    /// Export what the node holds in other formats: a STIX 2.1 bundle (docs/STIX.md).
    #[command(subcommand)]
    Export(intel::ExportCommand),
    /// Export audit bundles from a node and verify them offline.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Measure performance (run with --release). Prints the figure and the raw primitive it
    /// is bounded by, measured in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Run a complete demonstration in a temporary directory and exit 0 if every step
    /// behaved as it should.
    Demo {
        /// Keep the demo directory instead of deleting it.
        #[arg(long)]
        keep: bool,
        /// Narrate on standard error and print the result as one JSON object on standard
        /// output (checks passed, failed checks, seconds, kept directory).
        #[arg(long)]
        json: bool,
    },
}

/// Benchmarks.
#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// The Korean Desk's star: P partner nodes (TH, VN, MY, US, NL, KH, LA, CA, DE, FR) each
    /// holding N alerts for KR replicate into one KR hub at once over mTLS on loopback, while
    /// each partner issues a latency probe every 100 ms. Prints records/s durable at the hub,
    /// the ratio to a bare verify_strict loop, and p50/p99 from issue to durable at the hub.
    Fanin {
        /// Partner nodes sending at once (1-10).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=10))]
        partners: u64,
        /// Alerts each partner holds for the hub.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
        records: u64,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Issuing into one node: `kdesk alert import` of N generated alerts (checked, signed,
    /// stored, flushed), then I concurrent Admin API clients issuing one alert at a time;
    /// prints alerts/s for each and flushes per alert.
    Issue {
        /// Alerts to import.
        #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
        alerts: u64,
        /// Concurrent issuers.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
        issuers: u64,
        /// Alerts each issuer issues.
        #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..))]
        per_issuer: u64,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replicate N alerts from a TH node to a KR node over mTLS on loopback (verify, check,
    /// store, flush included) and compare with a bare verify_strict loop over the same records.
    Replicate {
        /// Number of alerts.
        #[arg(long, default_value_t = 100_000)]
        records: u64,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Retro-screening: hold N generated consignments (as a node holds screened lines not yet
    /// arrived), then screen new alerts against them (an identifier, a consignee name, a miss);
    /// prints the milliseconds from each alert to its hits.
    Retro {
        /// Lines held.
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
        lines: u64,
        /// Generator seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Screen a synthetic Korea-bound cargo manifest of N lines against M alerts with seeded
    /// true matches: lines/s (identifiers and profiles; then with names), peak memory,
    /// recall and precision against the ground truth.
    Screen {
        /// Manifest lines.
        #[arg(long, default_value_t = 1_000_000)]
        lines: u64,
        /// Active alerts.
        #[arg(long, default_value_t = 100_000)]
        alerts: u64,
        /// Generator seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The readers of what desks receive (PAXLST, CUSCAR, XFWB, XFZB, CSV, JSON Lines) through
    /// the node's screening path against M alerts: a 400-passenger PAXLST flight, a
    /// 10,000-consignment CUSCAR, every format's speed, recall and precision, and peak memory
    /// while streaming a large CUSCAR file (engine builds timed apart).
    Formats {
        /// Alerts in each engine (traveler alerts for PAXLST, cargo alerts for the others).
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
        alerts: u64,
        /// Lines of each format's file.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
        lines: u64,
        /// Consignments of the large CUSCAR streamed from disk (a twentieth of it is streamed too).
        #[arg(long, default_value_t = 400_000, value_parser = clap::value_parser!(u64).range(20..))]
        large: u64,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A node holding N records as an operator meets it (a real `kdesk serve` driven with the
    /// real CLI): startup to ready, memory at rest, a page of `alert list`, a full audit
    /// export and the node's memory during it, `audit verify` against a bare verify_strict
    /// loop, and screening a manifest of a million lines. Without --records: 10k, 100k, 1M.
    Scale {
        /// One size only (records the node holds).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        records: Option<u64>,
        /// Manifest lines screened at each size.
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
        lines: u64,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export a complete audit bundle of N records and verify it offline (signatures, proofs,
    /// order), compared with a bare verify_strict loop over the same records.
    Audit {
        /// Number of records.
        #[arg(long, default_value_t = 100_000)]
        records: u64,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Log output format.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

fn parse_country(s: &str) -> Result<CountryCode, String> {
    CountryCode::parse(s).map_err(|e| e.to_string())
}

fn parse_node_name(s: &str) -> Result<NodeName, String> {
    NodeName::parse(s).map_err(|e| e.to_string())
}

fn init_tracing(default: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Parses the command line, runs the command, and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let (level, format) = match &cli.command {
        Command::Serve { log_format, .. } => ("info", *log_format),
        _ => ("warn", LogFormat::Text),
    };
    init_tracing(level, format);
    // Exactly one rustls crypto provider (ring) for the whole process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::SOFTWARE);
        }
    };
    let result = runtime.block_on(run(cli));
    // Do not wait for blocking tasks still stuck (e.g. in a stalled store): the command has
    // its answer, and a stopping node has already flushed or said why not.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}

async fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Init {
            dir,
            country,
            node_name,
            listen,
            witness_interval,
            metrics_listen,
            metrics_listen_public,
            json,
        } => {
            let metrics = metrics_listen
                .map(|a| kdesk::config::MetricsConfig::new(a, metrics_listen_public))
                .transpose()
                .map_err(|m| {
                    CliError::new(exit::USAGE, m.replace("metrics.listen", "--metrics-listen"))
                })?;
            node::init(
                &dir.data_dir,
                country,
                node_name,
                listen,
                witness_interval,
                metrics,
                json,
            )
        }
        Command::Serve { dir, .. } => node::serve(&dir.data_dir).await,
        Command::Status { dir, json } => node::status(&dir.data_dir, json).await,
        Command::Tls(TlsCommand::Reload { dir, json }) => {
            node::tls_reload(&dir.data_dir, json).await
        }
        Command::Backup { dir, out, json } => node::backup(&dir.data_dir, &out, json).await,
        Command::Restore {
            input,
            data_dir,
            expect_key,
            json,
        } => node::restore(&input, &data_dir, &expect_key, json),
        Command::Keys(KeysCommand::Rotate { dir, reason, json }) => {
            node::keys_rotate(&dir.data_dir, reason, json).await
        }
        Command::Alert(cmd) => alert::run(cmd).await,
        Command::Certs(cmd) => fed::certs(cmd),
        Command::Peer(cmd) => fed::peer(cmd).await,
        Command::Audit(cmd) => audit::run(cmd).await,
        Command::Intel(cmd) => intel::run(cmd).await,
        Command::Export(cmd) => intel::export(cmd).await,
        Command::Screen(a) => screen::screen(a).await,
        Command::Outcome(cmd) => screen::outcome(cmd).await,
        Command::Hits(cmd) => screen::hits(cmd).await,
        Command::Report(a) => screen::report(a).await,
        Command::Gen(a) => screen::generate(a),
        Command::Demo { keep, json } => crate::demo::run(keep, json).await,
        Command::Bench(BenchCommand::Retro { lines, seed, json }) => {
            let r = blocking_bench(move || crate::bench::retro::retro(lines, seed)).await?;
            if json {
                println!("{}", serde_json::to_string(&r).unwrap_or_default());
            } else {
                println!(
                    "kdesk bench retro: {} lines held in {} segments ({:.1} s to parse, hold and flush; database {:.0} MiB)",
                    r.held, r.segments, r.hold_seconds, r.database_mib
                );
                for p in &r.probes {
                    println!(
                        "  new alert on {:<48} {:>7} candidates {:>5} hits {:>8.1} ms",
                        p.alert, p.candidates, p.hits, p.ms
                    );
                }
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Formats {
            alerts,
            lines,
            large,
            json,
        }) => {
            let to = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
            let r = blocking_bench(move || {
                crate::bench::formats::formats(alerts, to(lines), to(large))
            })
            .await?;
            if json {
                println!("{}", serde_json::to_string(&r).unwrap_or_default());
                return Ok(());
            }
            println!(
                "kdesk bench formats: {} alerts per engine, {} threads (engine builds not in the figures: travelers {:.2} s, cargo {:.2} s)",
                r.alerts, r.threads, r.build_travelers_seconds, r.build_cargo_seconds
            );
            let p = &r.paxlst_flight;
            println!(
                "  PAXLST flight, {} travelers ({} bytes): parse + screen {:.1} ms median, {:.1} ms best of {} (target <= 50 ms); {} hits, recall {:.0}%, precision {:.0}%",
                p.lines, p.bytes, p.seconds * 1e3, p.best_seconds * 1e3, p.runs, p.hits, p.recall * 100.0, p.precision * 100.0
            );
            let c = &r.cuscar_manifest;
            println!(
                "  CUSCAR, {} consignments ({:.1} MB): parse + screen {:.3} s median, {:.3} s best of {} (target <= 1 s); {} hits, recall {:.0}%, precision {:.0}%",
                c.lines, c.bytes as f64 / 1e6, c.seconds, c.best_seconds, c.runs, c.hits, c.recall * 100.0, c.precision * 100.0
            );
            println!("  every format, generated with seeded true matches:");
            for f in &r.per_format {
                println!(
                    "    {:<7} {:>6} lines {:>7.1} MB {:>9.0} lines/s  hits {:>4}  problems {}  recall {:>5.1}%  precision {:>5.1}%",
                    f.format, f.lines, f.bytes as f64 / 1e6, f.lines as f64 / f.seconds, f.hits, f.problems, f.recall * 100.0, f.precision * 100.0
                );
            }
            for m in &r.rss {
                println!(
                    "  streaming a CUSCAR file of {} consignments ({:.0} MB) from disk: {:.2} s; RSS {:.0} MiB before, peak {:.0} MiB while streaming",
                    m.lines, m.bytes as f64 / 1e6, m.seconds, m.rss_before_mib, m.peak_mib
                );
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Screen {
            lines,
            alerts,
            seed,
            json,
        }) => {
            if lines == 0 || alerts == 0 {
                return Err(CliError::new(
                    exit::DATAERR,
                    "--lines and --alerts must be at least 1",
                ));
            }
            let r = blocking_bench(move || crate::bench::screen(lines, alerts, seed)).await?;
            if json {
                println!("{}", serde_json::to_string(&r).unwrap_or_default());
            } else {
                println!(
                    "kdesk bench screen: {} cargo lines ({:.0} MB CSV) against {} alerts, {} threads",
                    r.lines,
                    r.bytes as f64 / 1e6,
                    r.alerts,
                    r.threads
                );
                println!("  generate (not measured): {:.1} s", r.generate_seconds);
                for p in &r.passes {
                    println!(
                        "  {:<28} {:>9.0} lines/s ({:.2} s; index {:.2} s), {} hits",
                        if p.names {
                            "identifiers+profiles+names:"
                        } else {
                            "identifiers+profiles:"
                        },
                        p.lines_per_second,
                        p.screen_seconds,
                        p.build_seconds,
                        p.hits
                    );
                    println!(
                        "    recall: identifiers {:.1}%, names {}, profiles {:.1}%; precision {:.1}%",
                        p.recall_identifiers * 100.0,
                        if p.names {
                            format!("{:.1}%", p.recall_names * 100.0)
                        } else {
                            "off".into()
                        },
                        p.recall_profiles * 100.0,
                        p.precision * 100.0
                    );
                    if p.names {
                        let v: Vec<String> = p
                            .names_by_variant
                            .iter()
                            .map(|(k, f, n)| format!("{k} {f}/{n}"))
                            .collect();
                        println!("    name variants found: {}", v.join(", "));
                    }
                }
                println!("  peak memory (RSS): {:.0} MiB", r.peak_rss_mib);
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Scale {
            records,
            lines,
            json,
        }) => {
            let sizes = records.map_or_else(|| vec![10_000, 100_000, 1_000_000], |n| vec![n]);
            let r = crate::bench::scale::scale(&sizes, lines)
                .await
                .map_err(bench_failed)?;
            if json {
                println!("{}", serde_json::to_string(&r).unwrap_or_default());
                return Ok(());
            }
            println!(
                "kdesk bench scale: a real node process at each size, {} cores",
                r.cores
            );
            println!(
                "{:>9} {:>8} {:>9} {:>8} {:>8} {:>9} {:>10} {:>9} {:>7} {:>9} {:>9} {:>9}",
                "records",
                "startup",
                "RSS rest",
                "page",
                "export",
                "bundle",
                "export RSS",
                "verify/s",
                "ratio",
                "screen",
                "RSS scrn",
                "RSS peak"
            );
            for w in &r.rows {
                println!(
                    "{:>9} {:>7.2}s {:>6.0}MiB {:>6.1}ms {:>7.1}s {:>6.0}MiB {:>7.0}MiB {:>9.0} {:>7.2} {:>8.1}s {:>6.0}MiB {:>6.0}MiB",
                    w.records,
                    w.startup_seconds,
                    w.rss_rest_mib,
                    w.page_ms,
                    w.export_seconds,
                    w.bundle_mib,
                    w.export_rss_growth_mib,
                    w.verify_per_second,
                    w.verify_ratio,
                    w.screen_seconds,
                    w.rss_after_screen_mib,
                    w.peak_rss_mib
                );
            }
            println!(
                "(page: `alert list --json --limit 100`, whole command; export RSS: largest growth of the node's memory during `audit export`; ratio: audit verify / bare verify_strict on 1 thread; screen: {} manifest lines through the node)",
                lines
            );
            if let (Some(a), Some(b)) = (r.rows.first(), r.rows.last()) {
                if b.records > a.records {
                    let k = b.records as f64 / a.records as f64;
                    println!(
                        "growth {}→{} records (×{k:.0}): startup ×{:.1}, RSS at rest ×{:.1}, page ×{:.1}, export time ×{:.1}, verify rate ×{:.2}, RSS after screening ×{:.1}",
                        a.records,
                        b.records,
                        b.startup_seconds / a.startup_seconds,
                        b.rss_rest_mib / a.rss_rest_mib,
                        b.page_ms / a.page_ms,
                        b.export_seconds / a.export_seconds,
                        b.verify_per_second / a.verify_per_second,
                        b.rss_after_screen_mib / a.rss_after_screen_mib
                    );
                }
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Audit { records, json }) => {
            if records == 0 {
                return Err(CliError::new(exit::DATAERR, "--records must be at least 1"));
            }
            let r = crate::bench::audit(records).await.map_err(bench_failed)?;
            if json {
                println!("{}", serde_json::to_string(&r).unwrap_or_default());
            } else {
                println!(
                    "kdesk bench audit: complete bundle of {} records ({} bytes), {} cores",
                    r.records, r.bundle_bytes, r.cores
                );
                println!(
                    "  bare verify_strict loop, 1 thread:          {:>9.0} records/s ({:.2} s)",
                    r.bare_verify_per_second, r.bare_verify_seconds
                );
                println!(
                    "  audit verify (signatures+proofs+order):     {:>9.0} records/s ({:.2} s)",
                    r.verify_per_second, r.verify_seconds
                );
                println!(
                    "  ratio audit verify / bare verify_strict:    {:>9.2}",
                    r.ratio
                );
                let w = &r.witness;
                println!(
                    "  witness answers at this size: tree built in {:.2} s, then per call root {:.1} us, consistency proof {:.1} us, inclusion proof {:.1} us (one consistency proof from all leaves: {:.0} us)",
                    w.tree_build_seconds, w.root_us, w.consistency_us, w.inclusion_us, w.consistency_from_leaves_us
                );
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Fanin {
            partners,
            records,
            json,
        }) => {
            let r = crate::bench::fanin::fanin(usize::try_from(partners).unwrap_or(10), records)
                .await
                .map_err(bench_failed)?;
            if json {
                println!("{}", serde_json::to_string(&r).unwrap_or_default());
            } else {
                println!(
                    "kdesk bench fanin: {} partners x {} alerts into one KR hub over TLS 1.3 mTLS on loopback, {} cores (all nodes in this process)",
                    r.partners, r.records_per_partner, r.cores
                );
                println!(
                    "  bare verify_strict loop, 1 thread:          {:>9.0} records/s",
                    r.bare_verify_per_second
                );
                println!(
                    "  fan-in durable at the hub:                  {:>9.0} records/s ({} records in {:.2} s)",
                    r.fanin_per_second, r.records_received, r.fanin_seconds
                );
                println!(
                    "  ratio fan-in / bare verify_strict:          {:>9.2}",
                    r.ratio
                );
                println!(
                    "  issue at a partner -> durable at the hub:   p50 {:.0} ms, p99 {:.0} ms ({} probes during the fan-in, queued behind each partner's backlog)",
                    r.latency_p50_ms, r.latency_p99_ms, r.probes
                );
                println!(
                    "  the same with the hub caught up:            p50 {:.0} ms, p99 {:.0} ms ({} probes)",
                    r.idle_latency_p50_ms, r.idle_latency_p99_ms, r.idle_probes
                );
                println!(
                    "  hub flushes per record:                     {:>9.4}",
                    r.hub_flushes_per_record
                );
                println!(
                    "  CPU (all nodes) per record:                 {:>9.1} us",
                    r.cpu_us_per_record
                );
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Issue {
            alerts,
            issuers,
            per_issuer,
            json,
        }) => {
            let r = crate::bench::fanin::issue(
                alerts,
                usize::try_from(issuers).unwrap_or(8),
                per_issuer,
            )
            .await
            .map_err(bench_failed)?;
            if json {
                println!("{}", serde_json::to_string(&r).unwrap_or_default());
            } else {
                println!("kdesk bench issue: one node, {} cores", r.cores);
                println!(
                    "  alert import (check, sign, store, flush):  {:>9.0} alerts/s ({} alerts in {:.2} s)",
                    r.import_per_second, r.import_alerts, r.import_seconds
                );
                println!(
                    "  alert issue, {} concurrent issuers:         {:>9.0} alerts/s ({} alerts)",
                    r.issuers, r.issue_per_second, r.issue_alerts
                );
                println!(
                    "  flushes per issued alert:                   {:>9.3}",
                    r.flushes_per_alert
                );
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Replicate { records, json }) => {
            if records == 0 {
                return Err(CliError::new(exit::DATAERR, "--records must be at least 1"));
            }
            let r = crate::bench::replicate(records)
                .await
                .map_err(bench_failed)?;
            if json {
                println!("{}", serde_json::to_string(&r).unwrap_or_default());
            } else {
                println!("kdesk bench replicate: {} alerts TH -> KR over TLS 1.3 mTLS on loopback, {} cores", r.records, r.cores);
                println!(
                    "  prepare (sign + store at TH, not measured): {:.1} s",
                    r.prepare_seconds
                );
                println!(
                    "  bare verify_strict loop, 1 thread:          {:>9.0} records/s ({:.2} s)",
                    r.bare_verify_per_second, r.bare_verify_seconds
                );
                println!(
                    "  replication (verify+check+store+flush):     {:>9.0} records/s ({:.2} s)",
                    r.replicate_per_second, r.replicate_seconds
                );
                println!(
                    "  ratio replication / bare verify_strict:     {:>9.2}",
                    r.ratio
                );
                println!(
                    "  CPU (both nodes) per record:                {:>9.1} us ({:.2} cores busy)",
                    r.cpu_us_per_record,
                    r.cpu_us_per_record * r.replicate_per_second / 1e6
                );
            }
            Ok(())
        }
    }
}
