//! `tracemark attribute` and `tracemark report verify`: who owns this output, and is this
//! report what it says.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use clap::{Args, Subcommand};
use tracemark::{
    Config, Result,
    attribute::{self, Request, TrustedKeys},
    log::LogSite,
    policy::{Date, EvidenceReport, Jurisdiction},
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
    /// Check a report offline: its hash, its signature (against a trusted service key
    /// when given) and its log receipt; exit status 1 when any does not verify.
    Verify {
        /// The service's verifier key (`key.pub`) the signature must be made with.
        #[arg(long)]
        key: Option<PathBuf>,
        /// The log's verifier key (`key.pub`) the receipt must verify under [default: the
        /// key the report names, which proves consistency, not trust].
        #[arg(long)]
        log_key: Option<PathBuf>,
        report: PathBuf,
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
    let mut command = format!("tracemark attribute --as-of {as_of}");
    for j in &jurisdictions {
        let _ = write!(command, " --jurisdiction {j}");
    }
    if args.ai_generated {
        command.push_str(" --ai-generated");
    }
    let _ = write!(command, " {}", args.file.display());
    let request = Request {
        content: &content,
        path: (args.file.as_os_str() != "-").then_some(args.file.as_path()),
        name: Some(args.file.display().to_string()),
        as_of,
        jurisdictions,
        ai_generated: args.ai_generated.then_some(true),
        command,
    };
    let mut report = attribute::attribute(&config, &request)?;
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

pub fn report(cmd: ReportCommand) -> Result<Output> {
    match cmd {
        ReportCommand::Verify {
            key,
            log_key,
            report,
        } => {
            let json = read_text(&report)?;
            let service = key.as_deref().map(read_text).transpose()?;
            let log = log_key.as_deref().map(read_text).transpose()?;
            let check = attribute::verify_report(
                &json,
                TrustedKeys {
                    service: service.as_deref(),
                    log: log.as_deref(),
                },
            )?;
            let receipt_ok = check
                .receipt
                .as_ref()
                .is_none_or(|r| r.valid && r.trusted_log_key != Some(false));
            let ok = check.signature_valid && check.trusted_key != Some(false) && receipt_ok;
            let mut human = match (&check.signed_by, check.signature_valid, check.trusted_key) {
                (None, _, _) => format!(
                    "report hash {} matches its content; the report is NOT signed",
                    check.report_hash
                ),
                (Some(by), false, _) => format!("report signature does NOT verify (key {by})"),
                (Some(by), true, Some(false)) => {
                    format!("report signed by {by}, which is NOT the key given")
                }
                (Some(by), true, _) => format!(
                    "report verified: hash {} matches, signed by {}",
                    check.report_hash,
                    by.trim()
                ),
            };
            human.push('\n');
            human.push_str(&match &check.receipt {
                None => "the report carries no log receipt".to_owned(),
                Some(r) if !r.valid => format!(
                    "log receipt does NOT verify: {}",
                    r.error.as_deref().unwrap_or("unknown")
                ),
                Some(r) if r.trusted_log_key == Some(false) => {
                    "log receipt is from a log whose key is NOT the one given".to_owned()
                }
                Some(r) => format!(
                    "logged: entry {} of {}{}",
                    r.index.unwrap_or_default(),
                    r.origin.as_deref().unwrap_or_default(),
                    if r.trusted_log_key.is_none() {
                        " (under the key the report names; pass --log-key to check it is the log's)"
                    } else {
                        ""
                    }
                ),
            });
            let mut output = Output::new(&check, human);
            output.status = u8::from(!ok);
            Ok(output)
        }
    }
}

fn today() -> Date {
    let now = tracemark::core::Timestamp::now().to_string();
    now[..10]
        .parse()
        .expect("an RFC 3339 timestamp starts with a date")
}
