//! `tracemark rights check`: the rights signals of a saved file, decided per use.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use clap::Subcommand;
use tracemark::{
    Error, Result, collection,
    core::{
        Timestamp,
        keyfile::{self, Replace, Secrecy},
    },
    log::LogSite,
    trust::{Role, Trust, TrustedKeys},
};

use super::print::json_name;
use crate::Output;

#[derive(Debug, Subcommand)]
pub enum RightsCommand {
    /// Read one saved signal file (robots.txt, tdmrep.json, ai.txt, an RSL licence, an
    /// HTML page, or an HTTP response with headers) and print the decision per use.
    Check {
        /// The file to read.
        file: PathBuf,
        /// The asset the question is about (site-wide rules are evaluated for its path).
        #[arg(long, value_name = "URL")]
        asset: Option<String>,
        /// When the file was fetched (RFC 3339) [default: the file's modification time].
        #[arg(long, value_name = "TIME")]
        seen_at: Option<String>,
        /// The file's format when its name does not say (robots-txt, tdmrep-json, ai-txt, rsl,
        /// html, http-response, training-mining).
        #[arg(long)]
        format: Option<String>,
    },
    /// Prove from the configured log what was recorded, at collection, about URLs: each
    /// record with its inclusion receipt and the URL's salt, checkable offline
    /// (`rights verify-proof`). A URL with no collection record exits 1.
    Prove {
        /// A URL whose collection records to prove (repeatable).
        #[arg(long = "url", value_name = "URL", required_unless_present = "excluded")]
        urls: Vec<String>,
        /// Prove every document the index's build left out because of a reservation.
        #[arg(long, requires = "index")]
        excluded: bool,
        /// The index whose excluded documents `--excluded` proves.
        #[arg(long, value_name = "DIR")]
        index: Option<PathBuf>,
        /// Where to write the proof [default: standard output].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Check a collection proof offline: `trusted` (exit 0) when a log you trust (--key,
    /// --trust, or the configuration's log and trusted logs) includes every record and
    /// each is about its URL; `untrusted` and `tampered` exit 1. Each record says when it
    /// is known to have been logged: a trusted witness's cosignature time, or nothing.
    VerifyProof {
        /// A log's verifier key (`key.pub`) whose receipts you trust (repeatable).
        #[arg(long = "key", value_name = "KEY_PUB")]
        keys: Vec<PathBuf>,
        /// A trust file: verifier keys, one a line (repeatable).
        #[arg(long = "trust", value_name = "FILE")]
        trust: Vec<PathBuf>,
        /// A witness's cosignature verifier key, whose cosignatures date the records
        /// (repeatable).
        #[arg(long = "witness", value_name = "VKEY_FILE")]
        witnesses: Vec<PathBuf>,
        proof: PathBuf,
    },
}

pub(super) fn run(cmd: RightsCommand, config: Option<&Path>) -> Result<Output> {
    match cmd {
        RightsCommand::Check {
            file,
            asset,
            seen_at,
            format,
        } => check(
            &file,
            asset.as_deref(),
            seen_at.as_deref(),
            format.as_deref(),
        ),
        RightsCommand::Prove {
            mut urls,
            excluded,
            index,
            out,
        } => {
            if excluded && let Some(dir) = &index {
                urls.extend(collection::excluded_urls(dir)?);
            }
            prove(&urls, out.as_deref(), config)
        }
        RightsCommand::VerifyProof {
            keys,
            trust,
            witnesses,
            proof,
        } => verify_proof(&keys, &trust, &witnesses, &proof, config),
    }
}

fn prove(urls: &[String], out: Option<&Path>, config: Option<&Path>) -> Result<Output> {
    let site = LogSite::locate(None, config)?;
    let (proof, missing) = collection::prove(&site, urls)?;
    let text = serde_json::to_string_pretty(&proof).expect("the proof serialises") + "\n";
    let mut human = String::new();
    for url in &proof.urls {
        let _ = writeln!(
            human,
            "{}: {} collection record(s) proved",
            url.url,
            url.receipts.len()
        );
    }
    for url in &missing {
        let _ = writeln!(human, "{url}: no collection record in log {}", proof.log);
    }
    let mut json = serde_json::json!({ "log": proof.log, "missing": missing });
    if !proof.urls.is_empty() {
        match out {
            Some(path) => {
                keyfile::write_file(path, text.as_bytes(), Secrecy::Public, Replace::Yes)?;
                let _ = write!(human, "proof written to {}", path.display());
                json["proof_file"] = path.display().to_string().into();
            }
            None => {
                human.push_str(&text);
            }
        }
        json["proof"] = serde_json::to_value(&proof).expect("serialises");
    }
    let mut output = Output::new(json, human.trim_end().to_owned());
    output.status = u8::from(!missing.is_empty());
    Ok(output)
}

fn verify_proof(
    keys: &[PathBuf],
    trust: &[PathBuf],
    witnesses: &[PathBuf],
    proof: &Path,
    config: Option<&Path>,
) -> Result<Output> {
    let (config, _) = tracemark::Config::locate(config)?;
    let mut trusted = TrustedKeys::configured(&config)?;
    for key in keys.iter().chain(trust) {
        trusted.add_file(Role::Log, key)?;
    }
    let witnesses = witnesses
        .iter()
        .map(|w| {
            std::fs::read_to_string(w).map_err(|source| Error::Io {
                action: "read",
                path: w.clone(),
                source,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let bytes = super::input::read_input(proof)?;
    let check = collection::verify_proof(&bytes, &trusted, &witnesses)?;
    let mut human = check.trust.code().to_string();
    for r in &check.records {
        let what = match &r.record {
            Some(rec) => format!(
                "{} (collected {}, agent {})",
                rec.event.as_str(),
                rec.collected_at
                    .map_or("at an unstated time".into(), |t| t.to_string()),
                rec.agent
            ),
            None => "no record".into(),
        };
        let when = match &r.logged_by {
            collection::TimeEvidence::WitnessCosignature { witness, at } => {
                format!("logged by {at} (witness {witness} cosigned)")
            }
            collection::TimeEvidence::None => {
                "no time: no trusted witness cosigned a checkpoint that includes it".into()
            }
        };
        let _ = write!(
            human,
            "\n{}: {what}; {}: {}; {when}",
            r.url,
            r.trust.code(),
            r.reason
        );
    }
    let mut output = Output::new(&check, human);
    output.status = u8::from(check.trust != Trust::Trusted);
    Ok(output)
}

fn check(
    file: &Path,
    asset: Option<&str>,
    seen_at: Option<&str>,
    format: Option<&str>,
) -> Result<Output> {
    use tracemark::rights::Format;
    let text = file.to_string_lossy();
    if text.starts_with("http://") || text.starts_with("https://") {
        return Err(Error::usage(
            format!("{text}: this build reads saved files, it does not fetch URLs"),
            Some(
                "save the response (e.g. `curl -si URL > robots.http`) and pass the file"
                    .to_owned(),
            ),
        ));
    }
    let seen_at = match seen_at {
        Some(t) => t
            .parse::<Timestamp>()
            .map_err(|e| Error::usage(e.to_string(), None))?,
        None => std::fs::metadata(file)
            .and_then(|m| m.modified())
            .ok()
            .map(Timestamp::from)
            .unwrap_or_else(Timestamp::now),
    };
    let format = format
        .map(str::parse::<Format>)
        .transpose()
        .map_err(|e| Error::usage(e.to_string(), None))?;
    let report = tracemark::rights::check_file(file, asset, seen_at, format)?;
    let mut human = format!(
        "{} ({:?}), seen {}\n",
        report.source, report.format, report.seen_at
    );
    for d in &report.decisions {
        let _ = writeln!(
            human,
            "  {:<12} {}",
            json_name(&d.usage),
            json_name(&d.permission)
        );
        for s in &d.signals {
            // A signal about a wider use (ai-train) also decides a narrower one.
            let via = if s.usage == d.usage {
                String::new()
            } else {
                format!(" via {}", json_name(&s.usage))
            };
            let _ = writeln!(
                human,
                "      {} {}{via}: {} ({})",
                json_name(&s.kind),
                json_name(&s.permission),
                s.raw.trim(),
                s.source
            );
        }
    }
    for a in &report.agents {
        let reserved: Vec<_> = a
            .decisions
            .iter()
            .filter(|d| d.permission == tracemark::core::rights::Permission::Disallowed)
            .collect();
        if !reserved.is_empty() {
            let uses: Vec<_> = reserved.iter().map(|d| json_name(&d.usage)).collect();
            let _ = writeln!(
                human,
                "  agent {}: reserved for {}",
                a.agent,
                uses.join(", ")
            );
        }
    }
    for note in &report.notes {
        let _ = writeln!(human, "  note: {note}");
    }
    Ok(Output::new(&report, human))
}
