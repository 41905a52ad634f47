//! `tracemark log ...`: the transparency log of generations.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use clap::{Args, Subcommand};
use tracemark::{
    Config, Error, Result,
    config::DatabaseUrl,
    core::{
        ContentHash, KeyId, Payload,
        keyfile::{self, Replace, Secrecy},
    },
    ledger::LogRecord,
    log::{self, LogSite, Query, Since, Storage},
    trust::{Role, Trust, TrustedKeys},
    verify,
};

use super::input::{read_input, read_text};
use crate::Output;

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Make a log directory: a new log key and its storage (SQLite, or PostgreSQL).
    Init {
        #[arg(long)]
        dir: PathBuf,
        /// The log's origin line, conventionally `host/path`.
        #[arg(long, default_value = "log.example/tracemark")]
        origin: String,
        /// Keep the entries in this PostgreSQL database instead of `DIR/log.db`.
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
        /// With --postgres: keep the tables in this schema (one database, several logs).
        #[arg(long, requires = "postgres")]
        schema: Option<String>,
    },
    /// Append generation records (one JSON object, or JSON Lines) in one transaction.
    Append {
        #[command(flatten)]
        site: Site,
        /// Record files (`-` for standard input).
        #[arg(required = true)]
        records: Vec<PathBuf>,
    },
    /// Find records by index, content hash, generation id, payload or similar text.
    Get(GetArgs),
    /// Write an offline receipt (C2SP tlog-proof) for an entry.
    Prove {
        #[command(flatten)]
        site: Site,
        #[arg(long)]
        index: u64,
        /// Prove against the latest checkpoint that witnesses cosigned (not a fresh one),
        /// so that the receipt carries their cosignatures.
        #[arg(long)]
        cosigned: bool,
        /// Where to write the receipt [default: standard output].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Sign a checkpoint of the whole log and print the signed note.
    Checkpoint {
        #[command(flatten)]
        site: Site,
    },
    /// Check a receipt offline with only public keys: `trusted` (exit 0) when a log key
    /// you trust signed it (--key, --trust, or the configuration's log and trusted logs);
    /// `untrusted` (intact, another log's) and `tampered` exit 1.
    VerifyReceipt {
        /// A log's verifier key (`key.pub`) whose receipts you trust (repeatable).
        #[arg(long = "key", value_name = "KEY_PUB")]
        keys: Vec<PathBuf>,
        /// A trust file: verifier keys, one a line (`#` comments) (repeatable).
        #[arg(long = "trust", value_name = "FILE")]
        trust: Vec<PathBuf>,
        /// The generation record the receipt must prove.
        #[arg(long)]
        record: Option<PathBuf>,
        /// A witness verifier key whose cosignatures count (repeatable).
        #[arg(long = "witness", value_name = "VKEY_FILE")]
        witnesses: Vec<PathBuf>,
        /// How many of the witnesses must have cosigned the receipt's checkpoint
        /// [default: every --witness given].
        #[arg(long)]
        min_cosignatures: Option<usize>,
        receipt: PathBuf,
    },
    /// As a witness: check a log's checkpoint against the last one this witness cosigned
    /// (refusing rollbacks and forks), cosign it (C2SP tlog-cosignature) and remember it.
    Cosign {
        /// The witness's signed-note key (`tracemark keygen log --origin <witness name>`).
        #[arg(long, value_name = "WITNESS_KEY")]
        key: PathBuf,
        /// The log's verifier key [default: DIR/key.pub for a log directory, else the key
        /// the witness state remembers for the log].
        #[arg(long, value_name = "LOG_PUB")]
        log_key: Option<PathBuf>,
        /// The witness state file [default: witness-state.json beside the key].
        #[arg(long)]
        state: Option<PathBuf>,
        /// Where to write the cosigned checkpoint [default: standard output].
        #[arg(long)]
        out: Option<PathBuf>,
        /// A log directory (its latest checkpoint; the cosignature is stored in the log),
        /// a signed checkpoint, or a tlog-witness add-checkpoint request (`old N`, the
        /// consistency proof, a blank line, the checkpoint).
        #[arg(value_name = "CHECKPOINT_OR_DIR")]
        target: PathBuf,
    },
    /// Print a witness key's cosignature verifier key (what verifiers pass to --witness).
    WitnessKey {
        #[arg(long, value_name = "WITNESS_KEY")]
        key: PathBuf,
    },
    /// Store the cosignatures that witnesses added to one of the log's checkpoints, so
    /// that receipts carry them (`log prove --cosigned`).
    AddCosignature {
        #[command(flatten)]
        site: Site,
        /// A witness verifier key whose cosignatures are taken (repeatable).
        #[arg(long = "witness", value_name = "VKEY_FILE", required = true)]
        witnesses: Vec<PathBuf>,
        /// The cosigned checkpoint note.
        cosigned: PathBuf,
    },
    /// Prove that an older tree is a prefix of the log (the log is append-only).
    Consistency {
        #[command(flatten)]
        site: Site,
        /// The older tree's size.
        #[arg(long, conflicts_with = "since", required_unless_present = "since")]
        old: Option<u64>,
        /// A signed checkpoint kept from earlier.
        #[arg(long, value_name = "CHECKPOINT_FILE")]
        since: Option<PathBuf>,
    },
    /// Rebuild the tree from the entries and check every hash and the latest checkpoint.
    Verify {
        #[command(flatten)]
        site: Site,
    },
}

/// Which log: a log directory, else the configured log.
#[derive(Debug, Args)]
pub struct Site {
    /// A log directory made by `tracemark log init` [default: the configured log].
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[group(id = "query", required = true, multiple = false)]
pub struct GetArgs {
    #[command(flatten)]
    site: Site,
    #[arg(long, group = "query")]
    index: Option<u64>,
    /// `sha256:...` of the content.
    #[arg(long, group = "query")]
    content_hash: Option<String>,
    #[arg(long, group = "query")]
    generation_id: Option<String>,
    /// A watermark payload in hex, as detection recovers it.
    #[arg(long, group = "query")]
    payload: Option<String>,
    /// The payload's width in bits [default: 4 per hex digit].
    #[arg(long, requires = "payload")]
    payload_bits: Option<u8>,
    /// With --payload: only records marked with this watermark key.
    #[arg(long, requires = "payload")]
    key_id: Option<String>,
    /// Records whose text is similar to this file's (MinHash estimate of word 5-gram
    /// Jaccard similarity).
    #[arg(long, group = "query", value_name = "FILE")]
    similar: Option<PathBuf>,
    #[arg(long, default_value_t = 0.5, requires = "similar")]
    min_similarity: f64,
}

pub fn run(cmd: LogCommand, config: Option<&Path>) -> Result<Output> {
    let open = |site: &Site| LogSite::locate(site.dir.as_deref(), config)?.open();
    match cmd {
        LogCommand::Init {
            dir,
            origin,
            postgres,
            schema,
        } => {
            let storage = postgres
                .map(|url| {
                    let url = DatabaseUrl::parse(url).map_err(|e| Error::usage(e, None))?;
                    Ok::<_, Error>(Storage::Postgres { url, schema })
                })
                .transpose()?;
            let made = log::init(&dir, &origin, storage)?;
            let human = format!(
                "Log {} in {}\n  storage   {}\n  verifier  {}\n(verifiers need only {}/key.pub)",
                made.origin,
                made.dir.display(),
                made.storage,
                made.vkey.trim_end(),
                made.dir.display()
            );
            Ok(Output::new(&made, human))
        }
        LogCommand::Append { site, records } => {
            let mut all = Vec::new();
            for file in &records {
                let bytes = read_input(file)?;
                all.extend(log::parse_records(&bytes, &file.display().to_string())?);
            }
            let mut ledger = open(&site)?;
            let appended = log::append(&mut ledger, &all)?;
            let first = &appended[0];
            let mut human = String::new();
            for e in &appended {
                let _ = writeln!(human, "appended at index {}  leaf {}", e.index, e.leaf_hash);
            }
            let json = serde_json::json!({
                "index": first.index,
                "leaf_hash": first.leaf_hash,
                "entries": appended,
                "tree_size": ledger.size().map_err(Error::Ledger)?,
            });
            Ok(Output::new(json, human))
        }
        LogCommand::Get(args) => get(args, config),
        LogCommand::Prove {
            site,
            index,
            cosigned,
            out,
        } => {
            let mut ledger = open(&site)?;
            let receipt = if cosigned {
                ledger.prove_cosigned(index, 1)
            } else {
                ledger.prove(index)
            }
            .map_err(Error::Ledger)?
            .to_text();
            match out {
                Some(path) => {
                    keyfile::write_file(&path, receipt.as_bytes(), Secrecy::Public, Replace::Yes)?;
                    let json = serde_json::json!({ "index": index, "receipt": path });
                    Ok(Output::new(
                        json,
                        format!("receipt for entry {index} written to {}", path.display()),
                    ))
                }
                None => Ok(Output::new(
                    serde_json::json!({ "index": index, "receipt": receipt }),
                    receipt,
                )),
            }
        }
        LogCommand::Checkpoint { site } => {
            let mut ledger = open(&site)?;
            let note = ledger.checkpoint().map_err(Error::Ledger)?.to_text();
            Ok(Output::new(serde_json::json!({ "checkpoint": note }), note))
        }
        LogCommand::VerifyReceipt {
            keys,
            trust,
            record,
            witnesses,
            min_cosignatures,
            receipt,
        } => {
            let (config, _) = Config::locate(config)?;
            let mut trusted = TrustedKeys::configured(&config)?;
            for key in &keys {
                trusted.add_file(Role::Log, key)?;
            }
            for file in &trust {
                trusted.add_file(Role::Log, file)?;
            }
            verify_receipt(
                &trusted,
                record.as_deref(),
                &witnesses,
                min_cosignatures.unwrap_or(witnesses.len()),
                &receipt,
            )
        }
        LogCommand::Cosign {
            key,
            log_key,
            state,
            out,
            target,
        } => cosign(
            &key,
            log_key.as_deref(),
            state.as_deref(),
            out.as_deref(),
            &target,
        ),
        LogCommand::WitnessKey { key } => {
            let vkey = log::witness_vkey(&key)?;
            Ok(Output::new(
                serde_json::json!({ "witness_vkey": vkey.trim_end() }),
                vkey.trim_end().to_owned(),
            ))
        }
        LogCommand::AddCosignature {
            site,
            witnesses,
            cosigned,
        } => {
            let witnesses = witnesses
                .iter()
                .map(|w| read_text(w))
                .collect::<Result<Vec<_>>>()?;
            let note = read_input(&cosigned)?;
            let count = log::add_cosignatures(&mut open(&site)?, &note, &witnesses)?;
            Ok(Output::new(
                serde_json::json!({ "cosignatures": count }),
                format!("the log's checkpoint now carries {count} witness cosignature(s)"),
            ))
        }
        LogCommand::Consistency { site, old, since } => {
            let since = match (old, since) {
                (Some(size), _) => Since::Size(size),
                (None, Some(file)) => Since::Checkpoint(read_input(&file)?),
                (None, None) => unreachable!("clap requires --old or --since"),
            };
            let proof = log::consistency(&mut open(&site)?, since)?;
            let human = format!(
                "the tree of {} entries is a prefix of the log's {} (proof of {} hashes)\n  old root {}\n  new root {}",
                proof.old_size,
                proof.new_size,
                proof.proof.len(),
                proof.old_root,
                proof.new_root
            );
            Ok(Output::new(&proof, human))
        }
        LogCommand::Verify { site } => {
            let report = open(&site)?.verify().map_err(Error::Ledger)?;
            let json = serde_json::json!({
                "size": report.size,
                "root": report.root.to_base64(),
                "checkpoint_size": report.checkpoint_size,
            });
            let human = format!(
                "the log verifies: {} entries, root {}{}",
                report.size,
                report.root.to_base64(),
                report
                    .checkpoint_size
                    .map(|s| format!(", latest checkpoint of {s} entries matches"))
                    .unwrap_or_default()
            );
            Ok(Output::new(json, human))
        }
    }
}

/// A look-up only reads: through a read-only handle, which never creates, repairs or
/// signs anything.
fn get(args: GetArgs, config: Option<&Path>) -> Result<Output> {
    let usage = |e: String| Error::usage(e, None);
    let query = if let Some(i) = args.index {
        Query::Index(i)
    } else if let Some(h) = args.content_hash {
        Query::ContentHash(h.parse::<ContentHash>().map_err(|e| usage(e.to_string()))?)
    } else if let Some(g) = args.generation_id {
        Query::GenerationId(g)
    } else if let Some(p) = args.payload {
        Query::Payload {
            payload: payload_from_hex(&p, args.payload_bits)?,
            key_id: args
                .key_id
                .map(|k| k.parse::<KeyId>().map_err(|e| usage(e.to_string())))
                .transpose()?,
        }
    } else if let Some(file) = args.similar {
        Query::Similar {
            text: read_text(&file)?,
            min_similarity: args.min_similarity,
        }
    } else {
        unreachable!("clap requires one query");
    };
    let reader = LogSite::locate(args.site.dir.as_deref(), config)?.open_reader()?;
    let found = log::get(&reader, &query)?;
    let mut human = String::new();
    if found.is_empty() {
        human.push_str("no record found");
    }
    for f in &found {
        let _ = match &f.record {
            LogRecord::Generation(r) => write!(
                human,
                "#{}  {}  {} {} {}  generation {}  payload {}  {}",
                f.index,
                r.time,
                r.provider,
                r.model.id,
                r.model.version,
                r.generation_id,
                r.payload,
                r.content_hash
            ),
            LogRecord::Report(r) => write!(
                human,
                "#{}  {}  evidence report {}  about {}",
                f.index, r.generated_at, r.report_hash, r.subject_hash
            ),
            LogRecord::ModelRelease(r) => write!(
                human,
                "#{}  {}  model release {} {}  {}  signed by {} ({})",
                f.index,
                r.released_at,
                r.name,
                r.version.as_deref().unwrap_or("-"),
                r.model_digest,
                r.signer,
                r.signing_method
            ),
            LogRecord::Collection(r) => write!(
                human,
                "#{}  {}  collection {}  {}  agent {}",
                f.index,
                r.collected_at.map_or("-".into(), |t| t.to_string()),
                r.event.as_str(),
                r.url
                    .clone()
                    .unwrap_or_else(|| format!("committed URL {}", r.key())),
                r.agent
            ),
        };
        if let Some(s) = f.similarity {
            let _ = write!(human, "  similarity {s:.2}");
        }
        human.push('\n');
    }
    let status = u8::from(found.is_empty());
    let mut output = Output::new(serde_json::json!({ "records": found }), human);
    output.status = status;
    Ok(output)
}

fn verify_receipt(
    trusted: &TrustedKeys,
    record: Option<&Path>,
    witnesses: &[PathBuf],
    min_cosignatures: usize,
    receipt: &Path,
) -> Result<Output> {
    let witnesses = witnesses
        .iter()
        .map(|w| read_text(w))
        .collect::<Result<Vec<_>>>()?;
    let record = match record {
        Some(file) => {
            let mut records = log::parse_records(&read_input(file)?, &file.display().to_string())?;
            if records.len() != 1 {
                return Err(Error::usage(
                    format!(
                        "{} holds {} records; give one",
                        file.display(),
                        records.len()
                    ),
                    None,
                ));
            }
            records.pop()
        }
        None => None,
    };
    let bytes = read_input(receipt)?;
    let checked = verify::receipt(
        &bytes,
        trusted,
        &witnesses,
        min_cosignatures,
        record.as_ref(),
    )?;
    let check = &checked.check;
    let mut human = format!("{}: {}", check.outcome.code(), check.detail);
    if let Some(v) = &checked.verified {
        if let Some(r) = v.record().and_then(|r| r.ok()) {
            let _ = write!(
                human,
                "\n  record: {} {} {}, generation {}, {}",
                r.provider, r.model.id, r.model.version, r.generation_id, r.content_hash
            );
        }
        if record.is_some() {
            human.push_str("\n  it proves the record given");
        }
    }
    let cosigned_by: Vec<&str> = checked.json["cosigned_by"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|name| name.as_str())
        .collect();
    if !cosigned_by.is_empty() {
        let _ = write!(human, "\n  cosigned by {}", cosigned_by.join(", "));
    }
    let mut output = Output::new(&checked.json, human);
    output.status = u8::from(check.outcome != Trust::Trusted);
    Ok(output)
}

fn cosign(
    key: &Path,
    log_key: Option<&Path>,
    state: Option<&Path>,
    out: Option<&Path>,
    target: &Path,
) -> Result<Output> {
    let log_vkey = log_key.map(read_text).transpose()?;
    let target = if target.is_dir() {
        log::CosignTarget::LogDir(target.to_owned())
    } else {
        log::CosignTarget::Note(read_input(target)?)
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let report = log::cosign(key, log_vkey.as_deref(), state, target, now)?;
    let mut human = format!(
        "{} cosigned {} at {} entries (previously {}), root {}",
        report.witness, report.origin, report.size, report.previous_size, report.root
    );
    if report.stored_in_log {
        human.push_str(
            "\n  the cosignature is stored in the log: `log prove --cosigned` receipts carry it",
        );
    }
    match out {
        Some(path) => {
            keyfile::write_file(
                path,
                report.checkpoint.as_bytes(),
                Secrecy::Public,
                Replace::Yes,
            )?;
            let _ = write!(
                human,
                "\n  cosigned checkpoint written to {}",
                path.display()
            );
        }
        None => {
            human.push('\n');
            human.push_str(report.checkpoint.trim_end());
        }
    }
    Ok(Output::new(&report, human))
}

/// A payload given in hex, `bits` wide or 4 bits per digit.
fn payload_from_hex(hex: &str, bits: Option<u8>) -> Result<Payload> {
    let digits = hex
        .trim_start_matches("0x")
        .len()
        .min(usize::from(u8::MAX / 4));
    Ok(Payload::from_hex(hex, bits.unwrap_or(4 * digits as u8))?)
}
