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
mod sfv;
mod signal;
pub mod tdmrep;

pub use agents::{AI_AGENTS, AiAgent, ai_agent};
pub use aipref::{Preferences, parse_content_signal, parse_usage_pref};
pub use cawg::signals as training_mining_signals;
pub use check::{
    AgentDecisions, CheckReport, CheckRequest, Discovered, FILE_LIMIT, Format, check, check_file,
    check_resource,
};
pub use decision::{Actor, Decision, RightsRecord, Snapshot, decide, decide_all, finding};
pub use error::RightsError;
pub use http::{Fetch, FetchedResource};
pub use signal::{Attachment, Provenance, Signal, SignalKind};
