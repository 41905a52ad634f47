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
    let (config, _) = Config::locate(config)?;
    let content = read_input(&args.file)?;
    let as_of = args.as_of.unwrap_or_else(today);
    let jurisdictions = if args.jurisdictions.is_empty() {
        config.policy.jurisdictions.clone()
    } else {
        args.jurisdictions.clone()
    };
    let name = args.file.display().to_string();
    let command = attribute::command_line(
        &name,
        as_of,
        &jurisdictions,
        args.ai_generated,
        args.generated_at,
    );
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
    let mut report =
        Attributor::load(&config, Disclosure::Full).attribute_at(&request, args.generated_at);
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
