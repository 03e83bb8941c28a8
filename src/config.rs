//! Node configuration: `kdesk.toml` in the data directory, read once and turned into checked
//! types.
//!
//! Layout of a data directory (mode 0700):
//!
//! ```text
//! kdesk.toml            this configuration
//! keys/signing.key      Ed25519 signing key, PKCS#8 PEM, mode 0600
//! keys/signing.pub      its public key, 64 hex digits (give this to partner desks)
//! db/                   sled database (owned by the running `kdesk serve`)
//! admin.sock            Admin API Unix socket, mode 0600 (exists while the node runs)
//! ```

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::keys::{self, KeyError};
use crate::model::{CountryCode, NodeName};
use crate::record::Origin;

/// File name of the configuration inside the data directory.
pub const CONFIG_FILE: &str = "kdesk.toml";

/// Why the configuration could not be created or read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No configuration in the data directory.
    #[error("{0} is not a kdesk data directory (no {CONFIG_FILE}); create one with `kdesk init`")]
    NotInitialised(PathBuf),
    /// `init` on a directory that already holds a node.
    #[error("{0} already holds a kdesk node ({CONFIG_FILE} exists); refusing to overwrite it")]
    AlreadyInitialised(PathBuf),
    /// The file is not valid TOML or a field is invalid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the field.
        message: String,
    },
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Key file problem.
    #[error(transparent)]
    Key(#[from] KeyError),
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    node: NodeSection,
    #[serde(default)]
    paths: PathsSection,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exchange: Option<ExchangeSection>,
    #[serde(default)]
    storage: StorageSection,
    #[serde(default)]
    shutdown: ShutdownSection,
    #[serde(default)]
    screening: ScreeningSection,
    #[serde(default, skip_serializing_if = "AdminSection::is_default")]
    admin: AdminSection,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metrics: Option<MetricsSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    taxii: Option<TaxiiSection>,
}

/// The read-only TAXII 2.1 listener (docs/STIX.md): HTTPS with mandatory client
/// certificates, off unless configured.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxiiSection {
    /// Address to listen on, IP:PORT (port 0: any free port, reported in the log and in
    /// `kdesk status`). Kept as text and parsed by [`Config::load`].
    listen: String,
}

/// The local monitoring listener: Prometheus metrics and plain-HTTP health.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsSection {
    /// Address of the plain-HTTP listener serving `/metrics`, `/healthz` and `/readyz`
    /// (port 0: any free port, reported in the log and in `kdesk status`). Kept as text and
    /// parsed by [`Config::load`], so a bad value is reported with the field's name.
    listen: String,
    /// Allows a listen address other than loopback. The listener has no TLS and no
    /// authentication, so it is refused elsewhere unless this is set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    public: bool,
}

/// Checked `[metrics]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Address of the plain-HTTP metrics and health listener.
    pub listen: std::net::SocketAddr,
    /// A non-loopback address was explicitly allowed (`public = true`).
    pub public: bool,
}

impl MetricsConfig {
    /// Checks the rule every metrics address obeys: loopback only, unless `public` allows
    /// another address (the listener has neither TLS nor authentication).
    ///
    /// # Errors
    /// A message naming the field, the value and the rule.
    pub fn new(listen: std::net::SocketAddr, public: bool) -> Result<Self, String> {
        if !listen.ip().is_loopback() && !public {
            return Err(format!(
                "metrics.listen {listen} is not a loopback address; the metrics listener is \
                 plain HTTP without authentication, so it listens on 127.0.0.1 or ::1 unless \
                 metrics.public = true (kdesk init --metrics-listen-public) allows another \
                 address"
            ));
        }
        Ok(Self { listen, public })
    }

    /// [`MetricsConfig::new`] of an address given as text (`metrics.listen`).
    ///
    /// # Errors
    /// Not an IP:PORT socket address, or the rule of [`MetricsConfig::new`].
    pub fn parse(listen: &str, public: bool) -> Result<Self, String> {
        let addr = listen.parse().map_err(|_| {
            format!(
                "metrics.listen {listen:?} is not a socket address: give IP:PORT, e.g. \
                 127.0.0.1:9464 (port 0: any free port)"
            )
        })?;
        Self::new(addr, public)
    }
}

/// Who may use the Admin API besides the node's owner.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct AdminSection {
    /// An officers' group whose members may use the Admin API (the socket is then 0660 and
    /// the data directory must let the group reach it, e.g. mode 0750).
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
}

impl AdminSection {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Stopping on SIGTERM/SIGINT.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ShutdownSection {
    /// Longest time (seconds) the node waits for requests in flight and the final flush
    /// after SIGTERM/SIGINT before it exits anyway (non-zero, with one log line).
    drain_seconds: u64,
}

impl Default for ShutdownSection {
    fn default() -> Self {
        Self {
            drain_seconds: DEFAULT_DRAIN_SECONDS,
        }
    }
}

/// Default `[shutdown] drain_seconds`.
pub const DEFAULT_DRAIN_SECONDS: u64 = 10;
/// Default `[storage] stall_seconds`.
pub const DEFAULT_STALL_SECONDS: u64 = 30;
/// Default `[storage] cache_mb`.
pub const DEFAULT_CACHE_MB: u64 = 128;

/// Storage limits.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct StorageSection {
    /// Free disk space (MiB) the node keeps in reserve: below it, nothing new is signed or
    /// stored, so a filling disk stops writes cleanly instead of failing inside the database.
    min_free_mb: u64,
    /// A flush or store transaction running longer than this (seconds) is a stall: logged,
    /// shown in `kdesk status`, and the exchange health set to NOT_SERVING until it clears.
    stall_seconds: u64,
    /// sled's page cache (MiB).
    cache_mb: u64,
}

impl Default for StorageSection {
    fn default() -> Self {
        Self {
            min_free_mb: DEFAULT_MIN_FREE_MB,
            stall_seconds: DEFAULT_STALL_SECONDS,
            cache_mb: DEFAULT_CACHE_MB,
        }
    }
}

/// Screening on the node.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ScreeningSection {
    /// Days after its arrival date that a screened consignment or traveler is kept for
    /// retro-screening (an alert arriving later is screened against it at once); 0 keeps
    /// nothing.
    keep_days_after_arrival: u32,
    /// Hits found by retro-screening are signed and delivered to the alert's desk, as
    /// `kdesk screen --share` does; otherwise they stay on this node (`kdesk hits list`).
    share_hits: bool,
}

impl Default for ScreeningSection {
    fn default() -> Self {
        Self {
            keep_days_after_arrival: DEFAULT_KEEP_DAYS_AFTER_ARRIVAL,
            share_hits: false,
        }
    }
}

/// Default `[screening] keep_days_after_arrival`.
pub const DEFAULT_KEEP_DAYS_AFTER_ARRIVAL: u32 = 3;

/// Default disk reserve (MiB): see `[storage] min_free_mb`.
pub const DEFAULT_MIN_FREE_MB: u64 = 128;

/// Largest accepted `[storage] min_free_mb` (4 PiB; 0 turns the reserve off).
pub const MAX_MIN_FREE_MB: u64 = 1 << 32;

/// Federation: where the exchange service listens and which certificate it presents.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeSection {
    /// Address to listen on, e.g. "0.0.0.0:7443" (port 0: any free port).
    listen: std::net::SocketAddr,
    /// Node certificate (PEM) issued by this country's CA; carries kdesk://CC/node.
    #[serde(default = "default_cert")]
    cert: PathBuf,
    /// Its private key (PEM, mode 0600).
    #[serde(default = "default_key")]
    key: PathBuf,
    /// How often to fetch, check and cosign each partner's tree head, and fetch its CRL
    /// (seconds, 1-3600).
    #[serde(default = "default_witness_interval")]
    witness_interval_seconds: u64,
    /// The national CA's current CRL (PEM), published to partners on the exchange when the
    /// file exists; replace the file to publish a new one.
    #[serde(default = "default_crl")]
    crl: PathBuf,
    /// The national CA's certificate (PEM): a reloaded node certificate must chain to it and
    /// a reloaded CRL must be signed by it (checked when the file exists).
    #[serde(default = "default_ca")]
    ca: PathBuf,
    /// A signing key a partner announces (key rotation, signed by its current key) is put in
    /// force at once; otherwise it waits for `kdesk peer update --confirm-signing-key`.
    #[serde(default)]
    accept_announced_keys: bool,
}

fn default_ca() -> PathBuf {
    "tls/ca.pem".into()
}

fn default_crl() -> PathBuf {
    "tls/ca.crl".into()
}

/// Default witnessing period (seconds).
pub const DEFAULT_WITNESS_INTERVAL_SECONDS: u64 = 30;

fn default_witness_interval() -> u64 {
    DEFAULT_WITNESS_INTERVAL_SECONDS
}

fn default_cert() -> PathBuf {
    "tls/node.pem".into()
}
fn default_key() -> PathBuf {
    "tls/node.key".into()
}

/// Checked `[exchange]` settings with paths resolved.
#[derive(Debug, Clone)]
pub struct ExchangeConfig {
    /// Listen address.
    pub listen: std::net::SocketAddr,
    /// Node certificate.
    pub cert: PathBuf,
    /// Node TLS key.
    pub key: PathBuf,
    /// Witnessing period: each partner's tree head is fetched, checked and cosigned this often.
    pub witness_interval: std::time::Duration,
    /// The national CA's CRL this node publishes to partners, when the file exists.
    pub crl: PathBuf,
    /// The national CA's certificate, checked against reloaded certificates and CRLs when the
    /// file exists.
    pub ca: PathBuf,
    /// Partners' announced signing keys are put in force without an admin's confirmation
    /// (`[exchange] accept_announced_keys`).
    pub accept_announced_keys: bool,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSection {
    /// ISO 3166-1 alpha-2 country of the desk.
    country: CountryCode,
    /// Node name within the country.
    name: NodeName,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct PathsSection {
    signing_key: PathBuf,
    public_key: PathBuf,
    database: PathBuf,
    admin_socket: PathBuf,
}

impl Default for PathsSection {
    fn default() -> Self {
        Self {
            signing_key: "keys/signing.key".into(),
            public_key: "keys/signing.pub".into(),
            database: "db".into(),
            admin_socket: "admin.sock".into(),
        }
    }
}

/// A node's checked configuration, with paths resolved against the data directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory.
    pub data_dir: PathBuf,
    /// Who this node is.
    pub origin: Origin,
    /// Signing key file.
    pub signing_key: PathBuf,
    /// Public key file (hex).
    pub public_key: PathBuf,
    /// sled directory.
    pub database: PathBuf,
    /// Admin API socket.
    pub admin_socket: PathBuf,
    /// Federation settings; `None` for a node that does not exchange with partners.
    pub exchange: Option<ExchangeConfig>,
    /// Free disk space (bytes) kept in reserve: below it the node refuses to sign or store
    /// anything new (`[storage] min_free_mb`).
    pub min_free_bytes: u64,
    /// A flush or transaction running longer than this is a stall (`[storage] stall_seconds`).
    pub stall: std::time::Duration,
    /// sled page cache in bytes (`[storage] cache_mb`).
    pub cache_bytes: u64,
    /// Longest drain after SIGTERM/SIGINT (`[shutdown] drain_seconds`).
    pub drain: std::time::Duration,
    /// The officers' group allowed on the Admin API besides the owner (`[admin] group`).
    pub admin_group: Option<String>,
    /// Days after arrival that screened lines are kept for retro-screening
    /// (`[screening] keep_days_after_arrival`; 0: none).
    pub keep_days_after_arrival: u32,
    /// Retro-screening hits are signed and delivered to the alert's desk
    /// (`[screening] share_hits`).
    pub share_retro_hits: bool,
    /// The local metrics and health listener (`[metrics]`); `None`: off.
    pub metrics: Option<MetricsConfig>,
    /// The TAXII 2.1 listener's address (`[taxii] listen`); `None`: off. Needs `[exchange]`
    /// (its certificate and the partner registry authenticate TAXII clients).
    pub taxii: Option<std::net::SocketAddr>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ConfigError + '_ {
    move |source| ConfigError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Config {
    /// Reads `kdesk.toml` from `data_dir`.
    ///
    /// # Errors
    /// Missing or invalid configuration.
    pub fn load(data_dir: &Path) -> Result<Self, ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::NotInitialised(data_dir.to_owned()))
            }
            Err(e) => return Err(io(&path)(e)),
        };
        let file: ConfigFile = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.clone(),
            message: e.message().to_owned()
                + &e.span()
                    .map(|s| format!(" (at byte {})", s.start))
                    .unwrap_or_default(),
        })?;
        if let Some(w) = file
            .exchange
            .as_ref()
            .map(|e| e.witness_interval_seconds)
            .filter(|w| !(1..=3600).contains(w))
        {
            return Err(ConfigError::Invalid {
                path,
                message: format!("exchange.witness_interval_seconds must be 1-3600, got {w}"),
            });
        }
        if file.storage.min_free_mb > MAX_MIN_FREE_MB {
            return Err(ConfigError::Invalid {
                path,
                message: format!(
                    "storage.min_free_mb must be 0-{MAX_MIN_FREE_MB}, got {}",
                    file.storage.min_free_mb
                ),
            });
        }
        let ranges: [(&str, u64, std::ops::RangeInclusive<u64>); 4] = [
            (
                "screening.keep_days_after_arrival",
                u64::from(file.screening.keep_days_after_arrival),
                0..=90,
            ),
            (
                "storage.stall_seconds",
                file.storage.stall_seconds,
                1..=3600,
            ),
            ("storage.cache_mb", file.storage.cache_mb, 8..=65536),
            (
                "shutdown.drain_seconds",
                file.shutdown.drain_seconds,
                1..=600,
            ),
        ];
        for (name, v, range) in ranges {
            if !range.contains(&v) {
                return Err(ConfigError::Invalid {
                    path,
                    message: format!("{name} must be {}-{}, got {v}", range.start(), range.end()),
                });
            }
        }
        let metrics = match &file.metrics {
            None => None,
            Some(m) => Some(
                MetricsConfig::parse(&m.listen, m.public).map_err(|message| {
                    ConfigError::Invalid {
                        path: path.clone(),
                        message,
                    }
                })?,
            ),
        };
        let taxii = match &file.taxii {
            None => None,
            Some(t) => {
                let a: std::net::SocketAddr =
                    t.listen.parse().map_err(|_| ConfigError::Invalid {
                        path: path.clone(),
                        message: format!(
                            "taxii.listen {:?} is not a socket address: give IP:PORT, e.g. \
                             127.0.0.1:9443",
                            t.listen
                        ),
                    })?;
                if file.exchange.is_none() {
                    return Err(ConfigError::Invalid {
                        path,
                        message: "taxii.listen needs an [exchange] section: TAXII clients are \
                                  authenticated with the exchange's certificate and the \
                                  partner registry"
                            .into(),
                    });
                }
                Some(a)
            }
        };
        Ok(Self {
            metrics,
            taxii,
            ..Self::resolve(data_dir, file)
        })
    }

    fn resolve(data_dir: &Path, f: ConfigFile) -> Self {
        let r = |p: &Path| {
            if p.is_absolute() {
                p.to_owned()
            } else {
                data_dir.join(p)
            }
        };
        Self {
            data_dir: data_dir.to_owned(),
            origin: Origin {
                country: f.node.country,
                node: f.node.name,
            },
            signing_key: r(&f.paths.signing_key),
            public_key: r(&f.paths.public_key),
            database: r(&f.paths.database),
            admin_socket: r(&f.paths.admin_socket),
            exchange: f.exchange.map(|e| ExchangeConfig {
                listen: e.listen,
                cert: r(&e.cert),
                key: r(&e.key),
                witness_interval: std::time::Duration::from_secs(e.witness_interval_seconds),
                crl: r(&e.crl),
                ca: r(&e.ca),
                accept_announced_keys: e.accept_announced_keys,
            }),
            min_free_bytes: f.storage.min_free_mb << 20,
            stall: std::time::Duration::from_secs(f.storage.stall_seconds),
            cache_bytes: f.storage.cache_mb << 20,
            drain: std::time::Duration::from_secs(f.shutdown.drain_seconds),
            admin_group: f.admin.group,
            keep_days_after_arrival: f.screening.keep_days_after_arrival,
            share_retro_hits: f.screening.share_hits,
            // Checked by `load`; `init` writes a checked one.
            metrics: f
                .metrics
                .and_then(|m| MetricsConfig::parse(&m.listen, m.public).ok()),
            taxii: f.taxii.and_then(|t| t.listen.parse().ok()),
        }
    }

    /// Creates a new node in `data_dir` (mode 0700): configuration, signing key (0600) and
    /// public key file. Returns the configuration and the public key.
    ///
    /// # Errors
    /// The directory already holds a node, or files cannot be written.
    pub fn init(
        data_dir: &Path,
        country: CountryCode,
        name: NodeName,
        listen: Option<std::net::SocketAddr>,
        witness_interval_seconds: u64,
    ) -> Result<(Self, VerifyingKey), ConfigError> {
        Self::init_with_metrics(
            data_dir,
            country,
            name,
            listen,
            witness_interval_seconds,
            None,
        )
    }

    /// [`Config::init`] with the local metrics and health listener turned on (`[metrics]`).
    ///
    /// # Errors
    /// As [`Config::init`].
    pub fn init_with_metrics(
        data_dir: &Path,
        country: CountryCode,
        name: NodeName,
        listen: Option<std::net::SocketAddr>,
        witness_interval_seconds: u64,
        metrics: Option<MetricsConfig>,
    ) -> Result<(Self, VerifyingKey), ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        if path.exists() {
            return Err(ConfigError::AlreadyInitialised(data_dir.to_owned()));
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .map_err(io(data_dir))?;
        // An existing directory keeps its mode from DirBuilder; tighten it.
        fs::set_permissions(data_dir, fs::Permissions::from_mode(0o700)).map_err(io(data_dir))?;
        let file = ConfigFile {
            node: NodeSection { country, name },
            paths: PathsSection::default(),
            exchange: listen.map(|listen| ExchangeSection {
                listen,
                cert: default_cert(),
                key: default_key(),
                witness_interval_seconds,
                crl: default_crl(),
                ca: default_ca(),
                accept_announced_keys: false,
            }),
            storage: StorageSection::default(),
            shutdown: ShutdownSection::default(),
            screening: ScreeningSection::default(),
            admin: AdminSection::default(),
            metrics: metrics.map(|m| MetricsSection {
                listen: m.listen.to_string(),
                public: m.public,
            }),
            taxii: None,
        };
        let cfg = Self::resolve(data_dir, file.clone());
        if let Some(dir) = cfg.signing_key.parent() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io(dir))?;
        }
        let key = keys::generate()?;
        keys::write_signing_key(&cfg.signing_key, &key)?;
        let public = key.verifying_key();
        fs::write(
            &cfg.public_key,
            format!("{}\n", hex::encode(public.as_bytes())),
        )
        .map_err(io(&cfg.public_key))?;
        let text = format!(
            "# kdesk node configuration. Paths are relative to this directory.\n\
             # [storage] min_free_mb: free disk space (MiB) kept in reserve; below it the node\n\
             # signs and stores nothing new (0: no reserve). stall_seconds: a flush or store\n\
             # transaction running longer is reported as a stall (status, health, log).\n\
             # cache_mb: the database's page cache. [shutdown] drain_seconds: how long a\n\
             # stopping node waits for requests in flight and its last flush.\n\
             # [screening] keep_days_after_arrival: screened lines not yet arrived are kept\n\
             # this many days past arrival, and alerts arriving meanwhile are screened against\n\
             # them (0: keep none). share_hits: sign such hits and send them to the alert's desk.\n\
             # [metrics] listen: local plain-HTTP /metrics, /healthz, /readyz (absent: off);\n\
             # loopback only unless public = true.\n{}",
            toml::to_string(&file).map_err(|e| ConfigError::Invalid {
                path: path.clone(),
                message: e.to_string(),
            })?
        );
        // Written last: a directory without kdesk.toml is not a node, so a failed init can be
        // retried after removing the partial key.
        fs::write(&path, text).map_err(io(&path))?;
        Ok((cfg, public))
    }

    /// The node's public key, from its public key file.
    ///
    /// # Errors
    /// Missing or malformed file.
    pub fn public_key(&self) -> Result<VerifyingKey, ConfigError> {
        let text = fs::read_to_string(&self.public_key).map_err(io(&self.public_key))?;
        Ok(keys::parse_public_key(&text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_then_load() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("kr");
        let (cfg, pk) = Config::init(
            &dir,
            CountryCode::parse("KR").unwrap(),
            NodeName::parse("seoul").unwrap(),
            Some("127.0.0.1:0".parse().unwrap()),
            30,
        )
        .unwrap();
        let loaded = Config::load(&dir).unwrap();
        assert_eq!(loaded.origin.to_string(), "KR/seoul");
        assert_eq!(loaded.public_key().unwrap(), pk);
        assert_eq!(cfg.signing_key, dir.join("keys/signing.key"));
        let ex = loaded.exchange.unwrap();
        assert_eq!(ex.cert, dir.join("tls/node.pem"));
        assert_eq!(ex.listen.port(), 0);
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(matches!(
            Config::init(
                &dir,
                CountryCode::parse("KR").unwrap(),
                NodeName::parse("x").unwrap(),
                None,
                30
            ),
            Err(ConfigError::AlreadyInitialised(_))
        ));
    }

    #[test]
    fn metrics_listen_is_loopback_unless_public() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join(CONFIG_FILE);
        let node = "[node]\ncountry = \"KR\"\nname = \"seoul\"\n";
        fs::write(&path, node).unwrap();
        assert_eq!(Config::load(d.path()).unwrap().metrics, None);
        fs::write(&path, format!("{node}[metrics]\nlisten = \"[::1]:9464\"\n")).unwrap();
        let m = Config::load(d.path()).unwrap().metrics.unwrap();
        assert_eq!(m.listen.to_string(), "[::1]:9464");
        fs::write(
            &path,
            format!("{node}[metrics]\nlisten = \"10.0.0.5:9464\"\n"),
        )
        .unwrap();
        let e = Config::load(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("metrics.listen 10.0.0.5:9464 is not a loopback address"),
            "{e}"
        );
        fs::write(
            &path,
            format!("{node}[metrics]\nlisten = \"10.0.0.5:9464\"\npublic = true\n"),
        )
        .unwrap();
        assert!(Config::load(d.path()).unwrap().metrics.unwrap().public);
        fs::write(&path, format!("{node}[metrics]\nlisten = \"localhost\"\n")).unwrap();
        let e = Config::load(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("metrics.listen \"localhost\" is not a socket address"),
            "{e}"
        );
    }

    #[test]
    fn invalid_config_names_the_field() {
        let d = tempfile::tempdir().unwrap();
        fs::write(
            d.path().join(CONFIG_FILE),
            "[node]\ncountry = \"KO\"\nname = \"seoul\"\n",
        )
        .unwrap();
        let e = Config::load(d.path()).unwrap_err().to_string();
        assert!(e.contains("KO") && e.contains("ISO 3166"), "{e}");
        assert!(matches!(
            Config::load(&d.path().join("nope")),
            Err(ConfigError::NotInitialised(_))
        ));
    }

    #[test]
    fn disk_reserve_default_is_written_by_init_and_has_a_range() {
        let d = tempfile::tempdir().unwrap();
        let node = "[node]\ncountry = \"KR\"\nname = \"seoul\"\n";
        let path = d.path().join(CONFIG_FILE);
        // Configurations written before the setting existed get the default.
        fs::write(&path, node).unwrap();
        let c = Config::load(d.path()).unwrap();
        assert_eq!(c.min_free_bytes, DEFAULT_MIN_FREE_MB << 20);
        fs::write(&path, format!("{node}[storage]\nmin_free_mb = 0\n")).unwrap();
        assert_eq!(Config::load(d.path()).unwrap().min_free_bytes, 0);
        fs::write(
            &path,
            format!("{node}[storage]\nmin_free_mb = {}\n", MAX_MIN_FREE_MB + 1),
        )
        .unwrap();
        let e = Config::load(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("storage.min_free_mb must be 0-4294967296"),
            "{e}"
        );
        fs::write(&path, format!("{node}[storage]\nmin_free_mb = -1\n")).unwrap();
        assert!(Config::load(d.path()).is_err());
        for (section, key, bad) in [
            ("storage", "stall_seconds", "0"),
            ("storage", "cache_mb", "1"),
            ("shutdown", "drain_seconds", "601"),
        ] {
            fs::write(&path, format!("{node}[{section}]\n{key} = {bad}\n")).unwrap();
            let e = Config::load(d.path()).unwrap_err().to_string();
            assert!(e.contains(&format!("{section}.{key} must be")), "{e}");
        }
        let c = {
            fs::write(&path, node).unwrap();
            Config::load(d.path()).unwrap()
        };
        assert_eq!(c.stall.as_secs(), DEFAULT_STALL_SECONDS);
        assert_eq!(c.drain.as_secs(), DEFAULT_DRAIN_SECONDS);
        assert_eq!(c.cache_bytes, DEFAULT_CACHE_MB << 20);
        // `kdesk init` writes the setting, so admins see it.
        let dir = d.path().join("th");
        Config::init(
            &dir,
            CountryCode::parse("TH").unwrap(),
            NodeName::parse("bangkok").unwrap(),
            None,
            30,
        )
        .unwrap();
        let text = fs::read_to_string(dir.join(CONFIG_FILE)).unwrap();
        assert!(
            text.contains(&format!("[storage]\nmin_free_mb = {DEFAULT_MIN_FREE_MB}")),
            "{text}"
        );
    }
}
