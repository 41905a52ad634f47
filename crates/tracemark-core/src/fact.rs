//! Facts: what the technical instruments established about a piece of content.
//!
//! Data flows one way in Tracemark: content in, facts out, law applied to facts. Each
//! capability turns its findings into [`Fact`]s; the legal engine reads only facts, never
//! the crates that produced them. A fact always carries the method that established it
//! and when, so that a report can say how anyone can reproduce it. What a capability
//! could not establish is a fact too ([`Claim::Unestablished`]): a rule resting on it is
//! undetermined, never silently satisfied.

use serde::{Deserialize, Serialize};

use crate::{
    ByteRange, ContentHash, KeyId, Payload, Segment, Timestamp, Verdict,
    rights::{AiUse, Permission, TrainingMining},
};

/// One established (or explicitly unestablished) fact about the content examined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    #[serde(flatten)]
    pub claim: Claim,
    pub method: Method,
    pub established_at: Timestamp,
}

/// How a fact was established: enough to repeat the procedure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Method {
    /// A stable name (`kgw-selfhash-v1`, `c2pa-verify`, `rfc6962-inclusion`, ...).
    pub name: String,
    /// The version of the tool that applied it.
    pub version: String,
    #[serde(default)]
    pub parameters: serde_json::Value,
}

/// What a fact says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Claim {
    /// The content examined, identified by its hash.
    Content {
        hash: ContentHash,
        bytes: u64,
        media_type: String,
    },
    Watermark(WatermarkFinding),
    Credential(CredentialFinding),
    LogEntry(LogFinding),
    SourceSpan(SpanFinding),
    NearDuplicate(NearDuplicateFinding),
    Rights(RightsFinding),
    /// A perceptible disclosure (a visible or audible "AI-generated" label) looked for in
    /// the content, found or not.
    Disclosure(DisclosureFinding),
    /// Whether the content keeps the attribution information (author, owner, licence:
    /// copyright management information) of a source document it reproduces.
    Attribution(AttributionFinding),
    /// A search a capability completed, with how many results it found: the negative
    /// evidence that "nothing was found" rests on (no log record for this content, no
    /// span in this index), as opposed to "nothing was looked for".
    Search(SearchFinding),
    /// A question a capability was asked and could not answer, with the reason.
    Unestablished {
        topic: Topic,
        reason: String,
    },
}

/// The capabilities whose findings the legal engine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Watermark,
    Credential,
    Log,
    Trace,
    Rights,
    Disclosure,
    Attribution,
}

/// The result of testing the content for one watermark key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatermarkFinding {
    pub scheme: String,
    pub key_id: KeyId,
    pub verdict: Verdict,
    pub payload: Option<Payload>,
    /// The marked passages, when windowed detection found them inside longer text.
    #[serde(default)]
    pub segments: Vec<Segment>,
}

/// The four outcomes of verifying a content credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialState {
    /// Valid, and signed by a certificate that chains to a configured trust anchor.
    Trusted,
    /// Valid, but the signer is not on the trust list.
    Untrusted,
    /// Present but failing a check (the failures name which).
    Tampered,
    /// No credential found.
    None,
}

/// What a content credential says, once verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialFinding {
    pub state: CredentialState,
    pub signer: Option<String>,
    pub signed_at: Option<Timestamp>,
    /// The generator named in the claim (model name and version).
    pub generator: Option<String>,
    /// The IPTC digital source type of the `c2pa.created` action, if any.
    pub digital_source_type: Option<String>,
    pub soft_binding: Option<SoftBinding>,
    pub training_mining: Option<TrainingMining>,
    /// Whether China's `AIGC` implicit label is present.
    pub aigc_label: bool,
    /// The checks that failed, for a tampered credential.
    #[serde(default)]
    pub failures: Vec<String>,
}

/// A watermark declared in a credential (`c2pa.soft-binding`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftBinding {
    pub scheme: String,
    pub key_id: Option<KeyId>,
    pub payload: Option<Payload>,
}

/// A generation record found in a transparency log, with its proof.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogFinding {
    /// The log's origin line (C2SP `tlog-checkpoint`).
    pub origin: String,
    pub index: u64,
    pub tree_size: u64,
    /// The RFC 6962 leaf hash, hex.
    pub leaf_hash: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub generation_id: Option<String>,
    /// Whether the inclusion proof was checked against a signed checkpoint.
    pub inclusion_verified: bool,
    pub logged_at: Option<Timestamp>,
}

/// A document of an indexed corpus, with its rights metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    pub id: String,
    pub owner: Option<String>,
    pub licence: Option<String>,
    pub source_url: Option<String>,
    pub fetched_at: Option<Timestamp>,
}

/// A span of the content that occurs verbatim in an indexed corpus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanFinding {
    pub range: ByteRange,
    /// Length of the span in the index's tokens.
    pub tokens: u64,
    /// How often the span occurs in the corpus.
    pub occurrences: u64,
    pub documents: Vec<DocumentRef>,
}

/// A corpus document that overlaps the content beyond verbatim spans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearDuplicateFinding {
    pub document: DocumentRef,
    /// Estimated Jaccard similarity of word shingles.
    pub jaccard: f64,
}

/// The normalised rights decision for one document and use, from one or more signals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsFinding {
    pub document_id: String,
    #[serde(rename = "use")]
    pub usage: AiUse,
    pub permission: Permission,
    /// The signals that contributed (`tdmrep`, `robots`, `aipref`, `rsl`, `ai.txt`, `cawg`).
    pub signals: Vec<String>,
    /// When the signals were seen (fetch time): opt-outs are not retroactive.
    pub seen_at: Option<Timestamp>,
}

/// A perceptible label looked for in the content (EU AI Act Art. 50(4), China's explicit
/// label under GB 45438-2025).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureFinding {
    /// Whether a label was found.
    pub present: bool,
    /// The label's text as found (`AI-generated`, `AI生成`), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Where it is in the content, for text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<ByteRange>,
}

/// Whether the content carries the attribution information of one source document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributionFinding {
    /// The source document (as in [`DocumentRef::id`]).
    pub document_id: String,
    /// Whether the content names the source's author or owner (and its licence, if any).
    pub present: bool,
    /// The attribution text found, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<ByteRange>,
}

/// A completed search and the number of results it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchFinding {
    pub topic: Topic,
    /// What was searched: the keys tried, the log, the index (`index demo-corpus`).
    pub scope: String,
    pub found: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_serialise_with_a_kind_tag_and_their_method() {
        let fact = Fact {
            claim: Claim::Unestablished {
                topic: Topic::Log,
                reason: "no log configured".into(),
            },
            method: Method {
                name: "ledger-lookup".into(),
                version: "0.1.0".into(),
                parameters: serde_json::Value::Null,
            },
            established_at: "2026-11-29T12:00:00Z".parse().unwrap(),
        };
        let json = serde_json::to_value(&fact).unwrap();
        assert_eq!(json["kind"], "unestablished");
        assert_eq!(json["topic"], "log");
        assert_eq!(json["method"]["name"], "ledger-lookup");
        assert_eq!(serde_json::from_value::<Fact>(json).unwrap(), fact);
    }

    #[test]
    fn new_claims_round_trip() {
        let method = Method {
            name: "label-scan".into(),
            version: "0.1.0".into(),
            parameters: serde_json::Value::Null,
        };
        let at: Timestamp = "2026-11-29T12:00:00Z".parse().unwrap();
        for claim in [
            Claim::Disclosure(DisclosureFinding {
                present: true,
                label: Some("AI生成".into()),
                range: Some(ByteRange::new(0, 8).unwrap()),
            }),
            Claim::Attribution(AttributionFinding {
                document_id: "doc-1".into(),
                present: false,
                text: None,
                range: None,
            }),
            Claim::Search(SearchFinding {
                topic: Topic::Trace,
                scope: "index demo".into(),
                found: 0,
            }),
        ] {
            let fact = Fact {
                claim,
                method: method.clone(),
                established_at: at,
            };
            let json = serde_json::to_value(&fact).unwrap();
            assert!(json["kind"].is_string());
            assert_eq!(serde_json::from_value::<Fact>(json).unwrap(), fact);
        }
        let json = serde_json::to_value(Claim::Search(SearchFinding {
            topic: Topic::Log,
            scope: "log".into(),
            found: 2,
        }))
        .unwrap();
        assert_eq!(json["kind"], "search");
        assert_eq!(json["topic"], "log");
    }
}
