//! `tracemark config show` and `config check`: the configuration in force.

use std::{fmt::Write as _, path::Path};

use clap::Subcommand;
use tracemark::{Config, Result, config::ConfigSource};

use crate::Output;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the configuration in force and where it came from.
    Show,
    /// Read the configuration and every key it names, and check the configured model's
    /// signature (its weights hashed); fail on the first problem.
    Check,
}

pub(super) fn run(cmd: ConfigCommand, explicit: Option<&Path>) -> Result<Output> {
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
            // The model's signature, when the configured model is signed (its weights
            // hashed): a signature the weights no longer match fails the check.
            let model = tracemark::release::configured_identity(&config)?;
            match (&model, &config.model.path) {
                (Some(m), _) => {
                    let _ = write!(
                        human,
                        "\n  model     {} {}  signed by {} ({})",
                        m.name,
                        m.digest,
                        m.signer,
                        m.conclusion.trust.code()
                    );
                }
                (None, Some(path)) => {
                    let _ = write!(
                        human,
                        "\n  model     {}: no signature; records name it by name only",
                        path.display()
                    );
                }
                (None, None) => {}
            }
            Ok(Output::new(
                serde_json::json!({ "from": source, "ok": true, "keys": keys, "model": model }),
                human,
            ))
        }
    }
}
