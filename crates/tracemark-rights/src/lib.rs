//! The opt-out and licence signals of the web, normalised to one decision per document,
//! use and time.
//!
//! Parsers read each standard from its real wire form: robots.txt (RFC 9309, with AI
//! user agents, the AIPREF `Content-Usage` rule, Cloudflare `Content-Signal` and RSL
//! `License:` lines), the AIPREF `Content-Usage` header, W3C TDMRep (`tdmrep.json`,
//! headers, HTML meta), Spawning's ai.txt and `noai` directives, RSL 1.0 documents, and
//! CAWG training-mining assertions (extracted from C2PA by the credentials crate, as
//! [`tracemark_core::rights::TrainingMining`]). Each becomes [`Signal`]s carrying their
//! source, raw value, the SHA-256 of the bytes read and the time they were seen.
//!
//! [`decide`] combines signals by the most restrictive answer (`legal.md` §3.9);
//! [`RightsRecord`] keeps them over time so that a caller can ask what the decision was
//! for a document and use when the document was fetched. [`check`] is the entry point a
//! command line calls with one file.
//!
//! ```
//! use tracemark_core::rights::{AiUse, Permission};
//! use tracemark_rights::{CheckRequest, check};
//!
//! let robots = b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nContent-Usage: / search=y\n";
//! let report = check(&CheckRequest {
//!     bytes: robots,
//!     source: "https://example.com/robots.txt",
//!     asset_url: Some("https://example.com/essay"),
//!     seen_at: "2026-03-01T00:00:00Z".parse().unwrap(),
//!     format: None, // from the name, else from the content
//! })?;
//! assert_eq!(report.permission(AiUse::Search), Permission::Allowed);
//! assert_eq!(report.permission(AiUse::AiTrain), Permission::Unknown);
//! assert_eq!(report.permission_for("GPTBot", AiUse::AiTrain), Permission::Disallowed);
//! // Every decision carries its signals: kind, source, raw line, SHA-256, time seen.
//! let json = serde_json::to_string(&report).unwrap();
//! # assert!(json.contains("\"raw\":\"Disallow: / (line 2)\""));
//! # Ok::<(), tracemark_rights::RightsError>(())
//! ```
//!
//! To keep decisions over time, add each report's [`CheckReport::snapshot`] to a
//! [`RightsRecord`] and ask [`RightsRecord::decision_at`] with the document's fetch time.

mod agents;
mod aipref;
mod cawg;
mod check;
mod decision;
mod error;
pub mod html;
pub mod http;
pub mod pattern;
pub mod robots;
pub mod rsl;
mod signal;
pub mod tdmrep;

pub use agents::{AI_AGENTS, AiAgent, ai_agent};
pub use aipref::{Preferences, parse_content_signal, parse_usage_pref};
pub use cawg::signals as training_mining_signals;
pub use check::{
    AgentDecisions, CheckReport, CheckRequest, Discovered, FILE_LIMIT, Format, ParseFormatError,
    check, check_file, check_resource,
};
pub use decision::{Actor, Decision, METHOD, RightsRecord, Snapshot, decide, decide_all, finding};
pub use error::RightsError;
pub use http::{Fetch, FetchedResource};
pub use signal::{Attachment, Provenance, Signal, SignalKind};
