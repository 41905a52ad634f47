//! One normalised rights signal, with the evidence behind it.

use serde::{Deserialize, Serialize};
use tracemark_core::{
    ContentHash, Timestamp,
    rights::{AiUse, Permission},
};

/// Which standard a signal follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalKind {
    /// robots.txt `Allow`/`Disallow` (RFC 9309), for `*` or an AI user agent.
    Robots,
    /// IETF AIPREF `Content-Usage` (robots.txt rule or HTTP header).
    Aipref,
    /// Cloudflare Content Signals (`Content-Signal:` in robots.txt).
    ContentSignal,
    /// W3C TDMRep (`tdmrep.json`, `tdm-reservation` header, HTML meta).
    Tdmrep,
    /// Spawning `ai.txt`.
    AiTxt,
    /// `noai`/`noimageai` in `<meta name="robots">` or `X-Robots-Tag`.
    Noai,
    /// RSL 1.0 licence document.
    Rsl,
    /// CAWG (or C2PA 1.x) training-and-data-mining assertion.
    Cawg,
}

impl SignalKind {
    /// The names `tracemark_core::fact::RightsFinding::signals` uses.
    pub fn name(self) -> &'static str {
        match self {
            SignalKind::Robots => "robots",
            SignalKind::Aipref => "aipref",
            SignalKind::ContentSignal => "content-signal",
            SignalKind::Tdmrep => "tdmrep",
            SignalKind::AiTxt => "ai.txt",
            SignalKind::Noai => "noai",
            SignalKind::Rsl => "rsl",
            SignalKind::Cawg => "cawg",
        }
    }
}

/// How the signal was attached to the content. TDMRep ranks these (HTML meta overrides
/// the HTTP header, which overrides the site-wide file), so the decision needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attachment {
    /// A site-wide file (robots.txt, tdmrep.json, ai.txt, an RSL document).
    File,
    /// An HTTP response header of the asset itself.
    HttpHeader,
    /// A `<meta>` element (or inline `<script>`) of the HTML asset.
    HtmlMeta,
    /// Embedded in the asset (a content credential).
    Embedded,
}

/// What one signal says about one use, where it was read, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    pub kind: SignalKind,
    pub attachment: Attachment,
    /// Where it was read: a URL, `header:<name>` or a file path.
    pub source: String,
    /// The user agent the signal addresses: a product token (`GPTBot`); `*` for a
    /// robots.txt `*` group, which binds only crawlers that the same file does not name
    /// in a group of their own; `None` for a signal that binds every agent (a header,
    /// a meta element, a licence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(rename = "use")]
    pub usage: AiUse,
    pub permission: Permission,
    /// The raw value that said so: a robots.txt line, a header value, an XML element.
    pub raw: String,
    /// SHA-256 of the raw bytes of the file or header value the signal was read from.
    pub sha256: ContentHash,
    /// When the signal file or header was fetched (first seen in that form).
    pub seen_at: Timestamp,
    /// Why the raw value maps to this permission, where the mapping is not literal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Everything needed to stamp signals read from one fetched file or header.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub source: String,
    pub attachment: Attachment,
    pub sha256: ContentHash,
    pub seen_at: Timestamp,
}

impl Provenance {
    pub fn new(
        source: impl Into<String>,
        attachment: Attachment,
        raw: &[u8],
        seen_at: Timestamp,
    ) -> Self {
        Self {
            source: source.into(),
            attachment,
            sha256: ContentHash::of_bytes(raw),
            seen_at,
        }
    }

    /// A signal with this provenance.
    pub fn signal(
        &self,
        kind: SignalKind,
        usage: AiUse,
        permission: Permission,
        raw: impl Into<String>,
    ) -> Signal {
        Signal {
            kind,
            attachment: self.attachment,
            source: self.source.clone(),
            agent: None,
            usage,
            permission,
            raw: raw.into(),
            sha256: self.sha256,
            seen_at: self.seen_at,
            note: None,
        }
    }
}

impl Signal {
    pub fn for_agent(mut self, agent: Option<&str>) -> Self {
        self.agent = agent.map(str::to_owned);
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use tracemark_core::rights::ReservationForm;

    use super::*;

    /// The legal engine tells a machine-readable reservation from prose by the signal's
    /// name: every signal this crate reads must be on the core's machine-readable list.
    #[test]
    fn every_signal_read_here_is_machine_readable_by_name() {
        for kind in [
            SignalKind::Robots,
            SignalKind::Aipref,
            SignalKind::ContentSignal,
            SignalKind::Tdmrep,
            SignalKind::AiTxt,
            SignalKind::Noai,
            SignalKind::Rsl,
            SignalKind::Cawg,
        ] {
            assert_eq!(
                ReservationForm::of_signal(kind.name()),
                Some(ReservationForm::MachineReadable),
                "{kind:?}"
            );
        }
    }
}
