//! The subcommands: each turns its arguments into a call and its result into [`Output`].

use std::{fmt::Write as _, io::Read, path::PathBuf};

use clap::{Args, Subcommand};
use tracemark::{
    Config, Error, Result,
    config::ConfigSource,
    core::{ContentHash, KeyStore, keyfile::Replace},
    credentials::SigningAlgorithm,
    keygen::{self, Destination, GeneratedKey, KeySpec},
    watermark::SchemeId,
};

use crate::{Cli, Output};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up a demo work folder on embedded defaults (the README's main job).
    Demo {
        /// The work folder.
        #[arg(long, default_value = "tracemark-demo")]
        out: PathBuf,
    },
    /// Generate a key of any kind.
    #[command(subcommand)]
    Keygen(Keygen),
    /// Keys in the key store.
    #[command(subcommand)]
    Keys(Keys),
    /// List the watermark schemes and their ids.
    Schemes,
    /// Print the SHA-256 content hash of a file (`-` for standard input).
    Hash {
        file: PathBuf,
        /// Hash the NFC normal form of the text (C2PA text binding), not the raw bytes.
        #[arg(long)]
        nfc: bool,
    },
    /// Show or check the configuration in force.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the version and the formats this build writes.
    Version,
}

#[derive(Debug, Args)]
pub struct KeyOut {
    /// Where to write the key (a file for watermark keys, else a directory).
    #[arg(long, value_name = "PATH", conflicts_with = "name")]
    out: Option<PathBuf>,
    /// The key's name in the key store, when --out is not given.
    #[arg(long, default_value = KeyStore::DEFAULT_NAME)]
    name: String,
    /// Replace an existing key (the old one is lost).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Subcommand)]
pub enum Keygen {
    /// A secret watermark key (one JSON file).
    Watermark {
        /// The scheme id (`tracemark schemes` lists them).
        #[arg(long, default_value = "kgw-selfhash-v1")]
        scheme: String,
        #[command(flatten)]
        out: KeyOut,
    },
    /// A content-credential signing key with a development certificate chain.
    Signing {
        /// ed25519 or es256.
        #[arg(long, default_value = "ed25519")]
        alg: String,
        /// The organisation named in the certificates.
        #[arg(long, default_value = "Tracemark development")]
        org: String,
        #[command(flatten)]
        out: KeyOut,
    },
    /// A transparency log's checkpoint key (C2SP signed-note).
    Log {
        /// The log's origin line, e.g. `log.example.com/tracemark`.
        #[arg(long, default_value = "localhost/tracemark-log")]
        origin: String,
        #[command(flatten)]
        out: KeyOut,
    },
    /// The service key that signs detection results (C2SP signed-note).
    Service {
        /// The service's key name, e.g. `attribution.example.com`.
        #[arg(long = "key-name", default_value = "localhost/tracemark")]
        key_name: String,
        #[command(flatten)]
        out: KeyOut,
    },
}

#[derive(Debug, Subcommand)]
pub enum Keys {
    /// List the keys in the key store.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the configuration in force and where it came from.
    Show,
    /// Read the configuration and every key it names; fail on the first problem.
    Check,
}

pub fn run(cli: Cli) -> Result<Output> {
    match cli.command {
        Command::Demo { out } => demo(&out),
        Command::Keygen(keygen) => keygen_cmd(keygen, cli.config.as_deref()),
        Command::Keys(Keys::List) => keys_list(cli.config.as_deref()),
        Command::Schemes => Ok(schemes()),
        Command::Hash { file, nfc } => hash(&file, nfc),
        Command::Config(cmd) => config_cmd(cmd, cli.config.as_deref()),
        Command::Version => Ok(version()),
    }
}

fn demo(out: &std::path::Path) -> Result<Output> {
    let summary = tracemark::demo::run(out)?;
    let mut human = format!("Demo work folder: {}\n", summary.out.display());
    for key in &summary.keys {
        let state = if key.reused { "reused" } else { "new" };
        let _ = writeln!(
            human,
            "  {:<9} key {}  {} ({state})",
            key.kind,
            key.key_id,
            key.path.display()
        );
    }
    let _ = writeln!(human, "  config        {}", summary.config.display());
    let _ = writeln!(human, "  log (SQLite)  {}", summary.log.display());
    let _ = write!(
        human,
        "Use it with: tracemark --config {} config check",
        summary.config.display()
    );
    Ok(Output::new(&summary, human))
}

fn keygen_cmd(keygen: Keygen, config: Option<&std::path::Path>) -> Result<Output> {
    let (spec, out) = match keygen {
        Keygen::Watermark { scheme, out } => (
            KeySpec::Watermark {
                scheme: scheme.parse::<SchemeId>()?,
            },
            out,
        ),
        Keygen::Signing { alg, org, out } => {
            let algorithm = alg.parse::<SigningAlgorithm>()?;
            (
                KeySpec::Signing {
                    algorithm,
                    organization: org,
                },
                out,
            )
        }
        Keygen::Log { origin, out } => (KeySpec::Log { origin }, out),
        Keygen::Service { key_name, out } => (KeySpec::Service { name: key_name }, out),
    };
    let destination = match out.out {
        Some(path) => Destination::Path(path),
        None => Destination::Store {
            store: key_store(config)?,
            name: out.name,
        },
    };
    let replace = if out.force { Replace::Yes } else { Replace::No };
    let key = keygen::generate(&spec, &destination, replace)?;
    let human = describe_key(&key);
    Ok(Output::new(&key, human))
}

fn describe_key(key: &GeneratedKey) -> String {
    let mut human = format!(
        "Wrote a {} key to {}\n  key id: {}",
        key.kind,
        key.path.display(),
        key.key_id
    );
    if let Some(details) = key.details.as_object() {
        for (field, value) in details {
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            let _ = write!(human, "\n  {field}: {value}");
        }
    }
    if let Some(public) = &key.public {
        let _ = write!(human, "\n  share this: {}", public.display());
    }
    human
}

/// The key store of the configuration in force.
fn key_store(config: Option<&std::path::Path>) -> Result<KeyStore> {
    let (config, _) = Config::locate(config)?;
    Ok(config.key_store()?)
}

fn keys_list(config: Option<&std::path::Path>) -> Result<Output> {
    let store = key_store(config)?;
    let keys = store.list()?;
    let mut human = format!("Key store: {}", store.root().display());
    if keys.is_empty() {
        human.push_str("\n  (no keys; make one with `tracemark keygen`)");
    }
    for key in &keys {
        let _ = write!(
            human,
            "\n  {:<9} {:<16} {}",
            key.kind,
            key.name,
            key.path.display()
        );
    }
    Ok(Output::new(
        serde_json::json!({ "store": store.root(), "keys": keys }),
        human,
    ))
}

fn schemes() -> Output {
    let list: Vec<_> = SchemeId::ALL
        .iter()
        .map(|s| serde_json::json!({ "id": s.as_str(), "summary": s.summary() }))
        .collect();
    let human = SchemeId::ALL
        .iter()
        .map(|s| format!("{:<16} {}", s.as_str(), s.summary()))
        .collect::<Vec<_>>()
        .join("\n");
    Output::new(serde_json::json!({ "schemes": list }), human)
}

fn hash(file: &std::path::Path, nfc: bool) -> Result<Output> {
    let io_err = |source| Error::Io {
        action: "read",
        path: file.to_owned(),
        source,
    };
    let reader: Box<dyn Read> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(file).map_err(io_err)?)
    };
    let hash = if nfc {
        let mut bytes = Vec::new();
        reader
            .take(u64::MAX)
            .read_to_end(&mut bytes)
            .map_err(io_err)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            io_err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 text ({e}); --nfc needs text"),
            ))
        })?;
        ContentHash::of_nfc_text(&text)
    } else {
        ContentHash::of_reader(reader).map_err(io_err)?
    };
    let json = serde_json::json!({ "hash": hash, "file": file, "normalisation": if nfc { "nfc" } else { "none" } });
    Ok(Output::new(json, format!("{hash}  {}", file.display())))
}

fn config_cmd(cmd: ConfigCommand, explicit: Option<&std::path::Path>) -> Result<Output> {
    let (config, source) = Config::locate(explicit)?;
    let from = match &source {
        ConfigSource::Explicit(p)
        | ConfigSource::WorkingDirectory(p)
        | ConfigSource::KeyStore(p) => p.display().to_string(),
        ConfigSource::Defaults => "built-in defaults (no tracemark.toml found)".into(),
    };
    match cmd {
        ConfigCommand::Show => {
            let toml = config.to_toml();
            let human = format!("# from: {from}\n{toml}");
            Ok(Output::new(
                serde_json::json!({ "from": source, "config": config }),
                human,
            ))
        }
        ConfigCommand::Check => {
            let checked = tracemark::keygen::check_configured(&config)?;
            let mut human = format!("Configuration OK: {from}");
            for (kind, path, id) in &checked {
                let _ = write!(human, "\n  {kind:<9} key {id}  {}", path.display());
            }
            let keys: Vec<_> = checked
                .iter()
                .map(|(kind, path, id)| serde_json::json!({ "kind": kind, "path": path, "key_id": id }))
                .collect();
            Ok(Output::new(
                serde_json::json!({ "from": source, "ok": true, "keys": keys }),
                human,
            ))
        }
    }
}

fn version() -> Output {
    let formats: Vec<_> = tracemark::formats::WRITTEN
        .iter()
        .map(|(id, what)| serde_json::json!({ "format": id, "description": what }))
        .collect();
    let json = serde_json::json!({ "name": "tracemark", "version": tracemark::VERSION, "formats": formats });
    Output::new(
        json,
        format!("tracemark {}", tracemark::formats::long_version()),
    )
}
