//! `tracemark.toml`: the one configuration file read by the command line and the server.
//!
//! Found by `--config`, else `TRACEMARK_CONFIG`, else `./tracemark.toml`, else
//! `tracemark.toml` in the key store; with none, the embedded defaults apply. Relative
//! paths are resolved against the file's directory, so a configuration can be moved with
//! the files it names. Unknown keys are errors that name the key: a misspelt option must
//! not silently fall back to a default.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use tracemark_core::{Diagnose, Fault, KeyStore, keyfile::KeyFileError};
use tracemark_policy::Jurisdiction;

/// The file name looked for in the working directory and the key store.
pub const FILE_NAME: &str = "tracemark.toml";

/// Configuration files larger than this are refused unread.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The configuration, with every path absolute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub model: ModelConfig,
    #[serde(default)]
    pub keys: KeysConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub index: IndexConfig,
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default)]
    pub provider: ProviderConfig,
    #[serde(default)]
    pub server: ServerConfig,
}

/// The provider of the AI system that `tracemark mark` runs, as the law sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The name written into credentials and log records [default: the signing
    /// certificate's common name].
    pub name: Option<String>,
    /// When the system was placed on the EU market: Art. 50(2)'s grace period for older
    /// systems depends on it. Used when the provider attributes its own output.
    pub placed_on_market: Option<tracemark_policy::Date>,
}

/// The model that generates text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// A llama2.c checkpoint, or a directory with an HF llama-family model. Absent: the
    /// embedded default (the n-gram model of the configured corpus index).
    pub path: Option<PathBuf>,
    /// The model's OMS signature (`tracemark model sign`) [default: `model.sig` in the
    /// model directory]. A signed model is named by its identity (its OMS root digest)
    /// in credentials and log records, and `attribute` checks it; a signature named here
    /// must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<PathBuf>,
    /// Public keys (PEM, ECDSA) trusted to sign models: a model signature verifies as
    /// `trusted` only under one of these or `trusted_roots`, else `untrusted`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_keys: Vec<PathBuf>,
    /// Root certificates (PEM) trusted for model signatures made with a certificate
    /// chain (`tracemark model sign --cert`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_roots: Vec<PathBuf>,
}

/// The keys in use. Paths name key files or key directories, as `tracemark keygen`
/// writes them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// The key store; default `$TRACEMARK_HOME` or `~/.tracemark`.
    pub store: Option<PathBuf>,
    /// Watermark keys: the first marks, all are tried when detecting.
    #[serde(default)]
    pub watermark: Vec<PathBuf>,
    pub signing: Option<PathBuf>,
    pub log: Option<PathBuf>,
    pub service: Option<PathBuf>,
    /// Trust anchors (PEM certificates) for content credentials: signers that chain to
    /// one verify as `trusted`, others as `untrusted`.
    #[serde(default)]
    pub trust: Vec<PathBuf>,
    /// Verifier-key files (one C2SP signed-note key a line) of services whose reports and
    /// signed results you trust, beside the configured service key.
    #[serde(default)]
    pub trusted_services: Vec<PathBuf>,
    /// Verifier-key files of logs whose receipts you trust, beside the configured log key.
    #[serde(default)]
    pub trusted_logs: Vec<PathBuf>,
}

/// Where the transparency log lives: an SQLite file (embedded, the default) or a
/// PostgreSQL database shared by several servers. Not both.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub sqlite: Option<PathBuf>,
    pub postgres: Option<DatabaseUrl>,
    /// The PostgreSQL schema holding the log's tables (default: the server's search path),
    /// so that one database can hold several logs.
    pub schema: Option<String>,
}

/// The configured log location.
#[derive(Debug, Clone, PartialEq)]
pub enum LogLocation<'a> {
    Sqlite(&'a Path),
    Postgres(&'a DatabaseUrl),
    /// `ledger.db` in the key store: the embedded default.
    Default,
}

impl LogConfig {
    pub fn location(&self) -> LogLocation<'_> {
        match (&self.sqlite, &self.postgres) {
            (_, Some(url)) => LogLocation::Postgres(url),
            (Some(path), None) => LogLocation::Sqlite(path),
            (None, None) => LogLocation::Default,
        }
    }
}

/// A database URL. It may hold a password, so it prints and serialises with the password
/// masked.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl Serialize for DatabaseUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.redacted())
    }
}

impl DatabaseUrl {
    /// A PostgreSQL URL (`postgres://` or `postgresql://`).
    pub fn parse(url: impl Into<String>) -> Result<Self, String> {
        let url = DatabaseUrl(url.into());
        url.check()?;
        Ok(url)
    }

    fn check(&self) -> Result<(), String> {
        match self.0.split_once("://") {
            Some(("postgres" | "postgresql", _)) => Ok(()),
            _ => Err(format!("`{self}` is not a postgres:// URL")),
        }
    }

    /// The URL with its password, for the database driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***` (in its user information and in a
    /// `password` query parameter): [`tracemark_ledger::mask_password`], the one masking
    /// function for database URLs.
    pub fn redacted(&self) -> String {
        tracemark_ledger::mask_password(&self.0)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Corpus indexes to trace into.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexConfig {
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// The shard servers of one sharded index (`tracemark serve --index-shard`), base
    /// URLs in the order of its parts: queried as one index (`tracemark serve --shards`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<String>,
    /// How long to wait for every shard's answer [default: 5000].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_deadline_ms: Option<u64>,
}

/// Which legal orders the engine applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    #[serde(default = "PolicyConfig::default_jurisdictions")]
    pub jurisdictions: Vec<Jurisdiction>,
}

impl PolicyConfig {
    fn default_jurisdictions() -> Vec<Jurisdiction> {
        Jurisdiction::ALL.to_vec()
    }
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            jurisdictions: Self::default_jurisdictions(),
        }
    }
}

/// The HTTP service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub addr: Option<String>,
    /// A file of API tokens, one a line (`#` comments): the bearer tokens that may
    /// generate and write to the log. Keep it mode 0600; tokens are never logged.
    pub tokens_file: Option<PathBuf>,
    /// Requests per second allowed to each API token (a burst of twice as many).
    pub token_rate: Option<f64>,
    /// Requests per second allowed to each client address without a token.
    pub anonymous_rate: Option<f64>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: Option<usize>,
    /// Seconds a request may take (reading it included) before it is refused.
    pub request_timeout_secs: Option<u64>,
    /// Addresses of the reverse proxies in front of the service: for a request from one
    /// of them, the client is the last address of `X-Forwarded-For` that is not a
    /// trusted proxy (rate limits apply per client). Without them the header is ignored,
    /// since any client can send it.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Seconds between the server's checks that the log has grown without a signed
    /// checkpoint (entries another writer appended): it then signs one, so that readers
    /// can prove them. The server signs after its own appends at once.
    pub checkpoint_interval_secs: Option<u64>,
}

/// Where the configuration in force came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", content = "path", rename_all = "snake_case")]
pub enum ConfigSource {
    /// `--config` or `TRACEMARK_CONFIG`.
    Explicit(PathBuf),
    WorkingDirectory(PathBuf),
    KeyStore(PathBuf),
    /// No file: the embedded defaults.
    Defaults,
}

/// A configuration that could not be found or read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration {path} is larger than {MAX_CONFIG_BYTES} bytes")]
    TooLarge { path: PathBuf },
    #[error("configuration {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(transparent)]
    KeyStore(#[from] KeyFileError),
}

impl Diagnose for ConfigError {
    fn fault(&self) -> Fault {
        match self {
            ConfigError::KeyStore(e) => e.fault(),
            _ => Fault::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Read { .. } => {
                Some("check the path given by --config or TRACEMARK_CONFIG".into())
            }
            ConfigError::TooLarge { .. } | ConfigError::Invalid { .. } => {
                Some("fix the file; the README's configuration section lists every key".into())
            }
            ConfigError::KeyStore(e) => e.hint(),
        }
    }
}

impl Config {
    /// Finds and reads the configuration in force. `explicit` is `--config` or
    /// `TRACEMARK_CONFIG`; it must exist. Without it, the first of `./tracemark.toml` and
    /// the key store's `tracemark.toml` that exists is read, else the defaults apply.
    pub fn locate(explicit: Option<&Path>) -> Result<(Config, ConfigSource), ConfigError> {
        if let Some(path) = explicit {
            return Ok((Self::load(path)?, ConfigSource::Explicit(path.to_owned())));
        }
        let local = PathBuf::from(FILE_NAME);
        if local.is_file() {
            let path = std::path::absolute(&local).unwrap_or(local);
            return Ok((Self::load(&path)?, ConfigSource::WorkingDirectory(path)));
        }
        if let Ok(store) = KeyStore::locate() {
            let path = store.root().join(FILE_NAME);
            if path.is_file() {
                return Ok((Self::load(&path)?, ConfigSource::KeyStore(path)));
            }
        }
        Ok((Config::default(), ConfigSource::Defaults))
    }

    /// Reads a configuration file, resolving its relative paths against its directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        use std::io::Read;
        let read_err = |source| ConfigError::Read {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_err)?;
        let mut text = String::new();
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(read_err)?;
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge {
                path: path.to_owned(),
            });
        }
        let base = std::path::absolute(path)
            .ok()
            .and_then(|p| p.parent().map(Path::to_owned))
            .unwrap_or_default();
        Self::parse(&text, &base).map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses configuration text; relative paths are taken relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Config, String> {
        let mut config: Config =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
        if config.log.sqlite.is_some() && config.log.postgres.is_some() {
            return Err("[log] sets both `sqlite` and `postgres`; choose one".into());
        }
        if let Some(url) = &config.log.postgres {
            url.check().map_err(|e| format!("[log] postgres: {e}"))?;
        }
        config.resolve_paths(base);
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &mut PathBuf| *p = resolve_path(base, p);
        let Config {
            model,
            keys,
            log,
            index,
            server,
            ..
        } = self;
        model.path.iter_mut().for_each(resolve);
        model.signature.iter_mut().for_each(resolve);
        model.trusted_keys.iter_mut().for_each(resolve);
        model.trusted_roots.iter_mut().for_each(resolve);
        keys.store.iter_mut().for_each(resolve);
        keys.watermark.iter_mut().for_each(resolve);
        keys.signing.iter_mut().for_each(resolve);
        keys.log.iter_mut().for_each(resolve);
        keys.service.iter_mut().for_each(resolve);
        keys.trust.iter_mut().for_each(resolve);
        keys.trusted_services.iter_mut().for_each(resolve);
        keys.trusted_logs.iter_mut().for_each(resolve);
        log.sqlite.iter_mut().for_each(resolve);
        index.paths.iter_mut().for_each(resolve);
        server.tokens_file.iter_mut().for_each(resolve);
    }

    /// The configuration as TOML, with any database password masked.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a configuration always serialises to TOML")
    }

    /// The key store: the configured one, else `$TRACEMARK_HOME` or `~/.tracemark`.
    pub fn key_store(&self) -> Result<KeyStore, ConfigError> {
        match &self.keys.store {
            Some(path) => Ok(KeyStore::at(path)),
            None => Ok(KeyStore::locate()?),
        }
    }
}

/// `~/x` is taken from `HOME`; other relative paths are joined to `base`.
fn resolve_path(base: &Path, path: &Path) -> PathBuf {
    if let Ok(rest) = path.strip_prefix("~")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    if path.is_absolute() {
        path.to_owned()
    } else {
        base.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
[model]
path = "models/tinystories-260k"
signature = "signatures/tinystories.sig"
trusted_keys = ["model-signer.pub.pem"]
trusted_roots = ["/etc/ssl/model-root.pem"]

[keys]
store = "home"
watermark = ["home/keys/watermark/default.json"]
signing = "home/keys/signing/default"
log = "/abs/log"
service = "home/keys/service/default"

[log]
sqlite = "ledger.db"

[index]
paths = ["index/demo"]

[policy]
jurisdictions = ["EU", "US-CA"]

[server]
addr = "127.0.0.1:8080"
"#;

    #[test]
    fn reads_every_section_and_resolves_paths_against_the_file() {
        let config = Config::parse(FULL, Path::new("/etc/tm")).unwrap();
        assert_eq!(
            config.model.path.as_deref(),
            Some(Path::new("/etc/tm/models/tinystories-260k"))
        );
        assert_eq!(
            config.model.signature.as_deref(),
            Some(Path::new("/etc/tm/signatures/tinystories.sig"))
        );
        assert_eq!(
            config.model.trusted_keys,
            [PathBuf::from("/etc/tm/model-signer.pub.pem")]
        );
        assert_eq!(
            config.model.trusted_roots,
            [PathBuf::from("/etc/ssl/model-root.pem")]
        );
        assert_eq!(config.keys.log.as_deref(), Some(Path::new("/abs/log")));
        assert_eq!(
            config.log.location(),
            LogLocation::Sqlite(Path::new("/etc/tm/ledger.db"))
        );
        assert_eq!(config.index.paths, [PathBuf::from("/etc/tm/index/demo")]);
        assert_eq!(
            config.policy.jurisdictions,
            [Jurisdiction::Eu, Jurisdiction::UsCa]
        );
        assert_eq!(
            config.key_store().unwrap().root(),
            Path::new("/etc/tm/home")
        );
    }

    #[test]
    fn an_empty_file_means_the_defaults() {
        let config = Config::parse("", Path::new("/")).unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.log.location(), LogLocation::Default);
        assert_eq!(config.policy.jurisdictions.len(), Jurisdiction::ALL.len());
    }

    #[test]
    fn unknown_keys_are_named() {
        for (text, key) in [
            ("[model]\npaht = \"x\"\n", "paht"),
            ("[logs]\nsqlite = \"x\"\n", "logs"),
            ("[keys]\nwatermark = []\nsigner = \"x\"\n", "signer"),
        ] {
            let err = Config::parse(text, Path::new("/")).unwrap_err();
            assert!(
                err.contains(key),
                "error for {text:?} does not name `{key}`: {err}"
            );
        }
    }

    #[test]
    fn malformed_values_are_refused() {
        for text in [
            "[model\npath = 1",
            "[model]\npath = 1\n",
            "[policy]\njurisdictions = [\"XX\"]\n",
            "[log]\nsqlite = \"a.db\"\npostgres = \"postgres://h/db\"\n",
            "[log]\npostgres = \"mysql://h/db\"\n",
            "\u{0}",
        ] {
            assert!(
                Config::parse(text, Path::new("/")).is_err(),
                "{text:?} was accepted"
            );
        }
    }

    #[test]
    fn database_passwords_never_print() {
        let config = Config::parse(
            "[log]\npostgres = \"postgres://tm:hunter2@db:5432/tracemark\"\n",
            Path::new("/"),
        )
        .unwrap();
        let LogLocation::Postgres(url) = config.log.location() else {
            panic!("not postgres")
        };
        assert_eq!(url.to_string(), "postgres://tm:***@db:5432/tracemark");
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&config).unwrap().contains("hunter2"));
        assert_eq!(url.expose(), "postgres://tm:hunter2@db:5432/tracemark");
        let plain = DatabaseUrl("postgres://db/tracemark".into());
        assert_eq!(plain.redacted(), "postgres://db/tracemark");
        // A password in the query string, percent-encoded, is masked too.
        let query = DatabaseUrl::parse(
            "postgres://tm@db/x?sslmode=verify-full&password=hun%40ter2&sslrootcert=%2Fca.pem",
        )
        .unwrap();
        assert_eq!(
            query.to_string(),
            "postgres://tm@db/x?sslmode=verify-full&password=***&sslrootcert=%2Fca.pem"
        );
        assert!(!serde_json::to_string(&query).unwrap().contains("ter2"));
    }

    #[test]
    fn missing_and_oversized_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = Config::load(&dir.path().join("nope.toml")).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
        let big = dir.path().join("big.toml");
        std::fs::write(&big, "#".repeat(MAX_CONFIG_BYTES as usize + 10)).unwrap();
        assert!(matches!(
            Config::load(&big),
            Err(ConfigError::TooLarge { .. })
        ));
    }
}
