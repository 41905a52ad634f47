//! `tracemark attribute` and `tracemark report verify`: who owns this output, and is this
//! report what it says.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use clap::{Args, Subcommand};
use tracemark::{
    Config, Result,
    attribute::{self, Attributor, Content, Disclosure, Request},
    core::Timestamp,
    credentials::verify::sidecar_for,
    log::LogSite,
    policy::{Date, EvidenceReport, Jurisdiction},
    trust::{Role, Trust, TrustedKeys},
    verify,
};

use super::{read_input, read_text};
use crate::Output;

#[derive(Debug, Args)]
pub struct AttributeArgs {
    /// The date the rules are applied on (YYYY-MM-DD) [default: today].
    #[arg(long)]
    as_of: Option<Date>,
    /// A legal order to apply (repeatable: EU, CN, US, US-CA, BERNE) [default: the
    /// configuration's].
    #[arg(long = "jurisdiction", value_name = "J")]
    jurisdictions: Vec<Jurisdiction>,
    /// State that the content is AI-generated (a provider auditing its own output); the
    /// marking rules then apply even when no watermark or credential shows it.
    #[arg(long)]
    ai_generated: bool,
    /// The report's time (RFC 3339), fixed by the caller [default: now]: the report and
    /// its facts carry it, so that the same content and inputs give the same report hash
    /// (as a bulk job's reports, `tracemark batch attribute --generated-at`).
    #[arg(long, value_name = "TIME")]
    generated_at: Option<Timestamp>,
    /// Do not record the report in the configured log (by default its hash is appended
    /// and the receipt put in its seal, when a log key is configured).
    #[arg(long)]
    no_log: bool,
    /// Write REPORT.json and REPORT.html here [default: print only].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The model directory (or single-file model) whose signature (OpenSSF Model
    /// Signing) the model digest a record names is checked against; its weights are
    /// hashed [default: the configuration's `[model] path`].
    #[arg(long, value_name = "DIR")]
    model_dir: Option<PathBuf>,
    /// The model's signature [default: `model.sig` in --model-dir]. Given alone, only the
    /// signature is checked (its signer, and the digest it signs), not the weights.
    #[arg(long, value_name = "MODEL.sig")]
    model_signature: Option<PathBuf>,
    /// A public key (PEM) trusted to sign models (repeatable; added to `[model]
    /// trusted_keys`).
    #[arg(long = "model-key", value_name = "PUB.pem")]
    model_keys: Vec<PathBuf>,
    /// A root certificate (PEM) trusted for model signatures made with a certificate
    /// chain (repeatable; added to `[model] trusted_roots`).
    #[arg(long = "model-trust", value_name = "ROOTS.pem")]
    model_trust: Vec<PathBuf>,
    /// The content (`-` for standard input).
    file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Check a sealed report or a signed service result offline: `trusted` (exit 0) only
    /// when every check holds and every signer is a key you trust; `untrusted` (intact,
    /// signer not trusted) and `tampered` (a check fails) exit 1. Trusted keys: --key,
    /// --log-key, --trust, and the configuration's own and trusted keys.
    Verify {
        /// A service's verifier key (`key.pub`) whose signatures you trust (repeatable).
        #[arg(long = "key", value_name = "KEY_PUB")]
        keys: Vec<PathBuf>,
        /// A log's verifier key (`key.pub`) whose receipts you trust (repeatable).
        #[arg(long = "log-key", value_name = "KEY_PUB")]
        log_keys: Vec<PathBuf>,
        /// A trust file: verifier keys, one a line (`#` comments), trusted to sign reports,
        /// results and log checkpoints (repeatable).
        #[arg(long = "trust", value_name = "FILE")]
        trust: Vec<PathBuf>,
        /// The report (`REPORT.json`) or signed result.
        file: PathBuf,
    },
}

pub fn attribute(args: AttributeArgs, config: Option<&Path>) -> Result<Output> {
    let (mut config, _) = Config::locate(config)?;
    // The model flags replace the configured model (a signature configured for it
    // belongs to it); the trusted keys and roots add to the configured ones.
    let model_flags = args.model_dir.is_some() || args.model_signature.is_some();
    if model_flags {
        config.model.path = args.model_dir.clone();
        config.model.signature = args.model_signature.clone();
    }
    config
        .model
        .trusted_keys
        .extend(args.model_keys.iter().cloned());
    config
        .model
        .trusted_roots
        .extend(args.model_trust.iter().cloned());
    let content = read_input(&args.file)?;
    let as_of = args.as_of.unwrap_or_else(today);
    let jurisdictions = if args.jurisdictions.is_empty() {
        config.policy.jurisdictions.clone()
    } else {
        args.jurisdictions.clone()
    };
    let name = args.file.display().to_string();
    let mut command = attribute::command_line(
        &name,
        as_of,
        &jurisdictions,
        args.ai_generated,
        args.generated_at,
    );
    let mut model_args = String::new();
    for (flag, path) in [
        ("--model-dir", &args.model_dir),
        ("--model-signature", &args.model_signature),
    ] {
        if let Some(p) = path {
            let _ = write!(model_args, " {flag} {}", p.display());
        }
    }
    for (flag, paths) in [
        ("--model-key", &args.model_keys),
        ("--model-trust", &args.model_trust),
    ] {
        for p in paths {
            let _ = write!(model_args, " {flag} {}", p.display());
        }
    }
    if let Some(head) = command.strip_suffix(&format!(" {name}")) {
        command = format!("{head}{model_args} {name}");
    }
    // A credential may travel beside the file, in its `.c2pa` sidecar.
    let sidecar = match (args.file.as_os_str() != "-")
        .then(|| sidecar_for(&args.file))
        .flatten()
    {
        Some(path) => Some(read_input(&path)?),
        None => None,
    };
    let request = Request {
        content: Content {
            bytes: &content,
            name: Some(&name),
            sidecar: sidecar.as_deref(),
        },
        as_of,
        jurisdictions,
        ai_generated: args.ai_generated.then_some(true),
        command,
    };
    let attributor = Attributor::load(&config, Disclosure::Full);
    // A model signature given on the command line that cannot be checked is an error,
    // not a report (a configured one is a fact the report states).
    if model_flags && let Some(problem) = attributor.model.problem() {
        return Err(tracemark::Error::input(
            problem.to_owned(),
            Some("give a model signature made by `tracemark model sign` or model_signing".into()),
        ));
    }
    let mut report = attributor.attribute_at(&request, args.generated_at);
    attribute::seal(&mut report, config.keys.service.as_deref())?;
    if !args.no_log && config.keys.log.is_some() {
        let mut ledger = LogSite::configured(&config)?.open()?;
        attribute::record_report(&mut report, &mut ledger)?;
    }
    let mut human = summary(&report);
    if let Some(dir) = &args.out {
        let (json, html) = attribute::write_report(&report, dir, "report")?;
        let _ = write!(
            human,
            "\nReport: {}\n        {}",
            json.display(),
            html.display()
        );
    }
    Ok(Output::new(&report, human))
}

/// The answer first, then one line per rule.
fn summary(report: &EvidenceReport) -> String {
    let mut out = String::new();
    for line in &report.verdict.summary {
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');
    for rule in &report.rules {
        let _ = writeln!(
            out,
            "  {:<16} {:<18} {}",
            rule.id,
            rule.outcome.code(),
            rule.reason
        );
    }
    out
}

pub fn report(cmd: ReportCommand, config: Option<&Path>) -> Result<Output> {
    let ReportCommand::Verify {
        keys,
        log_keys,
        trust,
        file,
    } = cmd;
    let (config, _) = Config::locate(config)?;
    let mut trusted = TrustedKeys::configured(&config)?;
    for key in &keys {
        trusted.add_file(Role::Service, key)?;
    }
    for key in &log_keys {
        trusted.add_file(Role::Log, key)?;
    }
    for file in &trust {
        trusted.add_trust_file(file)?;
    }
    let json = read_text(&file)?;
    let is_result = serde_json::from_str::<serde_json::Value>(&json)
        .ok()
        .and_then(|v| v.get("format")?.as_str().map(str::to_owned))
        .is_some_and(|f| f == attribute::SIGNED_RESULT_V1);
    let (conclusion, mut human, json) = if is_result {
        let check = verify::verify_result(&json, &trusted)?;
        let what = format!("signed result {}", check.result_hash);
        (check.conclusion.clone(), what, serde_json::to_value(&check))
    } else {
        let check = verify::verify_report(&json, &trusted)?;
        let mut what = format!("report {}", check.report_hash);
        match &check.logged {
            Some(l) => {
                let _ = write!(what, ", logged as entry {} of {}", l.index, l.origin);
            }
            None if check.conclusion.checks.iter().all(|c| c.check != "receipt") => {
                what.push_str(", not logged (it carries no receipt)");
            }
            None => {}
        }
        (check.conclusion.clone(), what, serde_json::to_value(&check))
    };
    // The conclusion first: an untrusted or tampered result must not read as verified.
    human = format!(
        "{}: {}\n  {human}",
        conclusion.trust.code(),
        conclusion.reason
    );
    for c in &conclusion.checks {
        let _ = write!(
            human,
            "\n  {:<10} {:<9} {}",
            c.check,
            c.outcome.code(),
            c.detail
        );
    }
    let mut output = Output::new(json.expect("checks serialise"), human);
    output.status = u8::from(conclusion.trust != Trust::Trusted);
    Ok(output)
}

fn today() -> Date {
    let now = tracemark::core::Timestamp::now().to_string();
    now[..10]
        .parse()
        .expect("an RFC 3339 timestamp starts with a date")
}
