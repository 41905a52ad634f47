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
    /// A mark the content is shown to have carried (a generation record names a
    /// credential and a watermark key), and whether it still carries it: when it does
    /// not, the mark was removed, and who removed it is recorded when someone states it.
    MarkHistory(MarkHistoryFinding),
    /// A detector for a kind of mark, and how it is offered: what makes a mark
    /// "detectable" (AI Act Art. 50(2)) to someone other than its maker.
    Detector(DetectorFinding),
    /// Who mined the documents the content reproduces, and on what footing: the
    /// conditions of the research exception (DSM Directive Art. 3). Stated, not measured.
    Mining(MiningFinding),
    /// Which model made the content, by the identity of its weights: the digest a
    /// provider's signed record names, and the check of the model's signature (OpenSSF
    /// Model Signing) against it.
    ModelIdentity(ModelIdentityFinding),
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
    /// Comparing the marks the content carries with a record of the marks it carried.
    Removal,
    /// The identity of the model that generated the content (its signed weights).
    Model,
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
    /// What the mark is carried in: a text watermark in words, an image watermark in
    /// pixels, an audio watermark in samples. Absent in reports written before media
    /// marks, whose watermarks were all text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<Medium>,
}

/// What a watermark is carried in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    Text,
    Image,
    Audio,
    Video,
}

impl Medium {
    /// "text", "image", "audio", "video".
    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Text => "text",
            Medium::Image => "image",
            Medium::Audio => "audio",
            Medium::Video => "video",
        }
    }

    /// The medium of a media type (`image/png` is an image); text for anything else.
    pub fn of_media_type(media_type: &str) -> Self {
        match media_type.split('/').next().unwrap_or_default() {
            "image" => Medium::Image,
            "audio" => Medium::Audio,
            "video" => Medium::Video,
            _ => Medium::Text,
        }
    }
}

impl WatermarkFinding {
    /// The medium, text when the finding predates media marks.
    pub fn medium(&self) -> Medium {
        self.medium.unwrap_or(Medium::Text)
    }
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
///
/// Fields added after reports were first written default to absent, so those reports
/// still read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialFinding {
    pub state: CredentialState,
    pub signer: Option<String>,
    /// The time of signing as the credential gives it: a time-stamp's time when it has
    /// one, else the time its signer claims. Whether a third party attests it is
    /// [`Self::time_stamped_at`].
    pub signed_at: Option<Timestamp>,
    /// The time a trusted RFC 3161 time-stamp on the signature attests. A claimed time is
    /// the signer's word; this one is a time-stamping authority's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_stamped_at: Option<Timestamp>,
    /// The active manifest's identifier (a URN unique to this credential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_id: Option<String>,
    /// The generator named in the claim (model name and version).
    pub generator: Option<String>,
    /// The identity of the model's weights (`sha256:HEX`, its OMS root digest) as the
    /// claim's generator names it, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_digest: Option<ContentHash>,
    /// The IPTC digital source type of the `c2pa.created` action, if any.
    pub digital_source_type: Option<String>,
    pub soft_binding: Option<SoftBinding>,
    pub training_mining: Option<TrainingMining>,
    /// Whether China's `AIGC` implicit label is present (kept for reports written before
    /// its fields were read: [`Self::aigc`]).
    pub aigc_label: bool,
    /// The `AIGC` label's fields, when one was read (boxed: most credentials have none,
    /// and every fact is as large as its largest kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aigc: Option<Box<AigcLabelFields>>,
    /// California's latent disclosure as the credential states it (Bus. & Prof. Code
    /// § 22757.3(b)(1)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latent_disclosure: Option<Box<LatentDisclosureFields>>,
    /// The checks that failed, for a tampered credential.
    #[serde(default)]
    pub failures: Vec<String>,
}

/// China's implicit label: the `AIGC` metadata object of GB 45438-2025 Annex E, with
/// the production elements of the Labelling Measures Art. 5 (the content's attribute, the
/// provider's name or code, a content number) and the propagation elements a platform
/// adds (Art. 6). Values are as found, so that a non-conforming one can be named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AigcLabelFields {
    /// `Label`: `1` AI-generated, `2` possibly, `3` suspected.
    pub label: String,
    /// `ContentProducer`: the generating service provider's name or code.
    pub content_producer: String,
    /// `ProduceID`: the producer's number for this content.
    pub produce_id: String,
    /// `ContentPropagator`: the platform that disseminated it, when one wrote itself in.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_propagator: String,
    /// `PropagateID`: the propagator's number for this content.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub propagate_id: String,
}

/// The elements of California's latent disclosure as a credential states them (each
/// absent when not stated).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatentDisclosureFields {
    /// "The name of the covered provider."
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// "The name and version number of the GenAI system that created or altered the
    /// content."
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_version: Option<String>,
    /// "The time and date of the content's creation or alteration."
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Timestamp>,
    /// "A unique identifier."
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
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

/// The kinds of mark the rules tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    /// An imperceptible watermark in the content itself.
    Watermark,
    /// A signed content credential (a C2PA manifest) bound to the content.
    Credential,
    /// China's implicit metadata label (`AIGC`, GB 45438-2025 Annex E).
    AigcLabel,
    /// A perceptible label ("AI-generated", China's explicit label).
    Disclosure,
    /// Information identifying a work, its author, owner or terms of use: copyright
    /// management information (17 U.S.C. § 1202(c)), rights-management information
    /// (Directive 2001/29/EC Art. 7(2)).
    RightsManagementInformation,
}

impl MarkKind {
    pub const ALL: [MarkKind; 5] = [
        MarkKind::Watermark,
        MarkKind::Credential,
        MarkKind::AigcLabel,
        MarkKind::Disclosure,
        MarkKind::RightsManagementInformation,
    ];

    /// The name conditions and reports use (`aigc_label`).
    pub fn name(self) -> &'static str {
        match self {
            MarkKind::Watermark => "watermark",
            MarkKind::Credential => "credential",
            MarkKind::AigcLabel => "aigc_label",
            MarkKind::Disclosure => "disclosure",
            MarkKind::RightsManagementInformation => "rights_management_information",
        }
    }

    /// For a reader: `content credential`.
    pub fn words(self) -> &'static str {
        match self {
            MarkKind::Watermark => "watermark",
            MarkKind::Credential => "content credential",
            MarkKind::AigcLabel => "AIGC implicit label",
            MarkKind::Disclosure => "perceptible AI label",
            MarkKind::RightsManagementInformation => "rights-management information",
        }
    }

    /// The kind a name gives (`credential`).
    pub fn from_name(name: &str) -> Option<MarkKind> {
        MarkKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Someone who acted on the content, in the role the law gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub role: PartyRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The roles of those who act on content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    /// The provider of the AI system that generated it.
    Provider,
    /// Someone using the AI system under their authority.
    Deployer,
    /// A platform that disseminates it (China's 内容传播服务提供者, California's large
    /// online platform).
    Platform,
    /// Someone who received or published it.
    User,
    /// The holder of rights in the content or a work in it.
    RightsHolder,
    Other,
}

impl PartyRole {
    pub const ALL: [PartyRole; 6] = [
        PartyRole::Provider,
        PartyRole::Deployer,
        PartyRole::Platform,
        PartyRole::User,
        PartyRole::RightsHolder,
        PartyRole::Other,
    ];

    /// The name conditions and reports use (`rights_holder`).
    pub fn name(self) -> &'static str {
        match self {
            PartyRole::Provider => "provider",
            PartyRole::Deployer => "deployer",
            PartyRole::Platform => "platform",
            PartyRole::User => "user",
            PartyRole::RightsHolder => "rights_holder",
            PartyRole::Other => "other",
        }
    }
}

/// The outcome of checking a model's identity: its signature (OMS) under the keys and
/// roots the user trusts, and the digest a record names against the model's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelCheck {
    /// The signature verifies, under a key or root the user trusts, over weights whose
    /// digest is the one named.
    Trusted,
    /// As trusted, but the signer is not one the user trusts.
    Untrusted,
    /// The weights or the signature were altered: the model does not match its
    /// signature (a changed, added or missing file; a signature that does not verify).
    Tampered,
    /// The model checked is signed, but its digest is not the one the record names: the
    /// record names other weights.
    DigestMismatch,
    /// A digest is named, but no model directory or signature was given to check it
    /// against.
    NotChecked,
}

impl ModelCheck {
    /// `trusted`, `untrusted`, `tampered`, `digest_mismatch`, `not_checked`.
    pub fn code(self) -> &'static str {
        match self {
            ModelCheck::Trusted => "trusted",
            ModelCheck::Untrusted => "untrusted",
            ModelCheck::Tampered => "tampered",
            ModelCheck::DigestMismatch => "digest_mismatch",
            ModelCheck::NotChecked => "not_checked",
        }
    }
}

/// A model release the transparency log records (`tracemark.model-release-record/v1`):
/// who signed the weights with this digest, by the publisher's account when it logged
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelReleaseFinding {
    /// The log's origin line.
    pub origin: String,
    pub index: u64,
    /// The RFC 6962 leaf hash, hex.
    pub leaf_hash: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The key's hint, or the signing certificate's subject.
    pub signer: String,
    pub released_at: Timestamp,
    /// Whether the inclusion proof was checked against a signed checkpoint.
    pub inclusion_verified: bool,
}

/// Which model made the content, by the identity of its weights (`sha256:HEX`, the OMS
/// root digest under `files`, SHA-256 and the default exclusions), and what checking it
/// showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelIdentityFinding {
    /// The model's name (as the record names it, else the model directory's).
    pub name: String,
    /// The digest the provider's signed record names (a generation record, a content
    /// credential), when one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_digest: Option<ContentHash>,
    /// What names it ("generation record 3 of log …", "the content credential").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_by: Option<String>,
    /// The digest of the model checked (its weights hashed), when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_digest: Option<ContentHash>,
    pub check: ModelCheck,
    /// Who signed the model, as its signature says (a key's hint, a certificate's
    /// subject), when it was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// `key`, `certificate` or `sigstore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_method: Option<String>,
    /// The model's release record in the log, when the log holds one for the digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ModelReleaseFinding>,
    /// Why, in one line: the check that concluded.
    pub reason: String,
}

/// A mark the content is shown to have carried, and whether it still does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkHistoryFinding {
    pub mark: MarkKind,
    /// What shows the mark was there (`generation record 41 of log.example/tracemark
    /// names a credential sha256:…`).
    pub shown_by: String,
    /// When the mark was known to be there (the record's time), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present_at: Option<Timestamp>,
    /// Whether the content examined still carries it; `false`: it was removed.
    pub still_present: bool,
    /// Who removed it, when someone states it; absent: not known. No instrument can tell
    /// who stripped a mark, so this is a statement, and the rules binding whoever removed
    /// it stay undetermined without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_by: Option<Party>,
}

/// A detector for one kind of mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorFinding {
    pub mark: MarkKind,
    /// The detector: a tool, a service, a published specification.
    pub name: String,
    pub access: DetectorAccess,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// How a detector is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorAccess {
    /// Anyone may use it, free of charge (what the Code of Practice's Measure 2.1 asks).
    Free,
    /// Publicly offered, not free of charge (a paid service, a licensed specification).
    Public,
    /// Offered on request (to authorities, researchers, rights holders).
    OnRequest,
    /// No detector is offered.
    None,
}

/// Who mined the reproduced documents: the conditions of DSM Directive Art. 3(1) ("for
/// reproductions and extractions made by research organisations and cultural heritage
/// institutions in order to carry out, for the purposes of scientific research, text and
/// data mining of works … to which they have lawful access"). Absent fields were not
/// stated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MiningFinding {
    /// The organisation that reproduced and extracted the works.
    pub organisation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_type: Option<OrganisationType>,
    /// Whether it had lawful access to the works (open access, a subscription, content
    /// freely available online: recital 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lawful_access: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<MiningPurpose>,
}

/// The organisations DSM Directive Art. 2 defines, and the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationType {
    /// Art. 2(1): a university, research institute or other entity whose primary goal is
    /// scientific research, acting not for profit (or reinvesting all profits in its
    /// research) or on a public-interest mission, such that no undertaking with a
    /// decisive influence enjoys preferential access to its results.
    ResearchOrganisation,
    /// Art. 2(3): a publicly accessible library or museum, an archive, or a film or
    /// audio heritage institution.
    CulturalHeritageInstitution,
    /// Any other (a company mining for its own products).
    Other,
}

/// Why the works were mined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MiningPurpose {
    /// Scientific research, natural or human sciences (recital 12).
    ScientificResearch,
    /// Anything else (training a commercial model, say).
    Other,
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
            Claim::MarkHistory(MarkHistoryFinding {
                mark: MarkKind::Credential,
                shown_by: "generation record 41".into(),
                present_at: Some(at),
                still_present: false,
                removed_by: Some(Party {
                    role: PartyRole::Platform,
                    name: Some("Example Social".into()),
                }),
            }),
            Claim::Detector(DetectorFinding {
                mark: MarkKind::Watermark,
                name: "tracemark detect".into(),
                access: DetectorAccess::OnRequest,
                url: None,
            }),
            Claim::Mining(MiningFinding {
                organisation: "Example University".into(),
                organisation_type: Some(OrganisationType::ResearchOrganisation),
                lawful_access: None,
                purpose: Some(MiningPurpose::ScientificResearch),
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
        let json = serde_json::to_value(Claim::MarkHistory(MarkHistoryFinding {
            mark: MarkKind::AigcLabel,
            shown_by: "a copy examined before".into(),
            present_at: None,
            still_present: false,
            removed_by: None,
        }))
        .unwrap();
        assert_eq!(json["kind"], "mark_history");
        assert_eq!(json["mark"], "aigc_label");
        assert!(json.get("removed_by").is_none(), "unknown remover: {json}");
    }

    /// A credential fact written before the time-stamp, manifest id, AIGC fields and
    /// latent disclosure were read still reads, with them absent.
    #[test]
    fn credential_findings_written_before_the_new_fields_still_read() {
        let old = serde_json::json!({
            "kind": "credential", "state": "trusted", "signer": "Example AI Ltd",
            "signed_at": "2026-10-01T09:00:00Z", "generator": "m 1", "digital_source_type": null,
            "soft_binding": null, "training_mining": null, "aigc_label": true, "failures": [],
            "method": {"name": "c2pa-verify", "version": "0.1.0"},
            "established_at": "2026-11-29T12:00:00Z",
        });
        let fact: Fact = serde_json::from_value(old).unwrap();
        let Claim::Credential(c) = fact.claim else {
            panic!("not a credential")
        };
        assert!(c.aigc_label);
        assert_eq!(
            (c.aigc, c.time_stamped_at, c.manifest_id),
            (None, None, None)
        );
        assert_eq!(c.latent_disclosure, None);
    }

    #[test]
    fn mark_kinds_and_roles_have_one_name_each() {
        for k in MarkKind::ALL {
            assert_eq!(MarkKind::from_name(k.name()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
        for r in PartyRole::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.name());
        }
        assert_eq!(MarkKind::from_name("stamp"), None);
    }
}
