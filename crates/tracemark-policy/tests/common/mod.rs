//! Builders of facts for the policy tests.
#![allow(dead_code)]

use tracemark_core::{
    ByteRange, ContentHash, Fact, KeyId, KeyKind, Method, PValue, Payload, Timestamp, Verdict,
    fact::{
        AigcLabelFields, AttributionFinding, Claim, CredentialFinding, CredentialState,
        DetectorAccess, DetectorFinding, DisclosureFinding, DocumentRef, LatentDisclosureFields,
        LogFinding, MarkHistoryFinding, MarkKind, MiningFinding, MiningPurpose,
        NearDuplicateFinding, OrganisationType, Party, PartyRole, RightsFinding, SearchFinding,
        SpanFinding, Topic, WatermarkFinding,
    },
    rights::{AiUse, Permission},
};
use tracemark_policy::{Context, Date};

pub fn date(s: &str) -> Date {
    s.parse().unwrap()
}

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn fact(claim: Claim, method: &str) -> Fact {
    Fact {
        claim,
        method: Method {
            name: method.into(),
            version: "0.1.0".into(),
            parameters: serde_json::json!({}),
        },
        established_at: ts("2026-11-29T12:00:00Z"),
    }
}

pub fn key(n: u8) -> KeyId {
    KeyId::derive(KeyKind::Watermark, &[n])
}

pub fn content(media_type: &str, bytes: u64) -> Fact {
    fact(
        Claim::Content {
            hash: ContentHash::of_bytes(b"content"),
            bytes,
            media_type: media_type.into(),
        },
        "sha256",
    )
}

pub fn watermark(detected: bool, scored: u64) -> Fact {
    let p = if detected {
        PValue::from_log10(-42.0)
    } else {
        PValue::new(0.41)
    };
    fact(
        Claim::Watermark(WatermarkFinding {
            scheme: "kgw-selfhash-v1".into(),
            key_id: key(1),
            verdict: Verdict::decide(
                p,
                1e-6,
                "kgw-selfhash-v1",
                serde_json::json!({"gamma": 0.25}),
                scored,
            ),
            payload: detected.then(|| Payload::new(0xbeef, 16).unwrap()),
            segments: Vec::new(),
            medium: None,
        }),
        "kgw-selfhash-v1",
    )
}

/// A credential as Tracemark's marker writes one: signed, time-stamped, with a manifest
/// id; with the AIGC label's fields when `aigc`.
/// A watermark carried in a medium (`watermark` names none, as reports written before
/// media marks).
pub fn watermark_in(medium: tracemark_core::fact::Medium, detected: bool, scored: u64) -> Fact {
    let mut f = watermark(detected, scored);
    if let Claim::Watermark(w) = &mut f.claim {
        w.medium = Some(medium);
        w.scheme = match medium {
            tracemark_core::fact::Medium::Image => "tracemark-image-dct-v1".into(),
            tracemark_core::fact::Medium::Audio => "tracemark-audio-stft-v1".into(),
            _ => w.scheme.clone(),
        };
    }
    f
}

pub fn credential(state: CredentialState, source_type: Option<&str>, aigc: bool) -> Fact {
    let valid = matches!(state, CredentialState::Trusted | CredentialState::Untrusted);
    fact(
        Claim::Credential(CredentialFinding {
            state,
            signer: valid.then(|| "Example AI Ltd".to_owned()),
            signed_at: valid.then(|| ts("2026-10-01T09:00:00Z")),
            time_stamped_at: valid.then(|| ts("2026-10-01T09:00:02Z")),
            manifest_id: valid.then(|| "urn:c2pa:0f3e7a52-0000-4000-8000-000000000042".to_owned()),
            generator: valid.then(|| "example-model 1.0".to_owned()),
            model_digest: None,
            digital_source_type: source_type
                .map(|t| format!("http://cv.iptc.org/newscodes/digitalsourcetype/{t}")),
            soft_binding: None,
            training_mining: None,
            aigc_label: aigc,
            aigc: aigc.then(|| {
                Box::new(AigcLabelFields {
                    label: "1".into(),
                    content_producer: "001191110102MAD55U9H0F10002".into(),
                    produce_id: "98ae6b12-23e2-49af-b98a-780706f8e584".into(),
                    ..AigcLabelFields::default()
                })
            }),
            latent_disclosure: None,
            failures: if state == CredentialState::Tampered {
                vec!["hash binding mismatch".into()]
            } else {
                Vec::new()
            },
        }),
        "c2pa-verify",
    )
}

/// Changes a credential fact's finding.
pub fn with_credential(mut f: Fact, change: impl FnOnce(&mut CredentialFinding)) -> Fact {
    if let Claim::Credential(c) = &mut f.claim {
        change(c);
    }
    f
}

/// SB 942's latent disclosure, every element stated.
pub fn latent_disclosure() -> LatentDisclosureFields {
    LatentDisclosureFields {
        provider: Some("Example AI Ltd".into()),
        system_name: Some("example-model".into()),
        system_version: Some("1.0".into()),
        time: Some(ts("2026-10-01T09:00:00Z")),
        unique_id: Some("gen-0042".into()),
    }
}

/// A record shows the content carried `mark`; `removed_by` is who removed it when it no
/// longer does (`Some(None)`: removed, remover unknown).
pub fn history(mark: MarkKind, removed_by: Option<Option<PartyRole>>) -> Fact {
    fact(
        Claim::MarkHistory(MarkHistoryFinding {
            mark,
            shown_by: "generation record 41 of log log.example/tracemark".into(),
            present_at: Some(ts("2026-10-01T09:00:01Z")),
            still_present: removed_by.is_none(),
            removed_by: removed_by.flatten().map(|role| Party {
                role,
                name: Some(match role {
                    PartyRole::Platform => "Example Social".into(),
                    PartyRole::Provider => "Example AI Ltd".into(),
                    _ => "Someone".into(),
                }),
            }),
        }),
        "log-comparison",
    )
}

pub fn detector(mark: MarkKind, access: DetectorAccess) -> Fact {
    fact(
        Claim::Detector(DetectorFinding {
            mark,
            name: "Example AI detector".into(),
            access,
            url: Some("https://detect.example.ai".into()),
        }),
        "stated",
    )
}

/// Detectors offered free for both layers.
pub fn detectors() -> Vec<Fact> {
    vec![
        detector(MarkKind::Watermark, DetectorAccess::Free),
        detector(MarkKind::Credential, DetectorAccess::Free),
    ]
}

pub fn mining(
    kind: Option<OrganisationType>,
    lawful_access: Option<bool>,
    purpose: Option<MiningPurpose>,
) -> Fact {
    fact(
        Claim::Mining(MiningFinding {
            organisation: "Example University".into(),
            organisation_type: kind,
            lawful_access,
            purpose,
        }),
        "stated",
    )
}

pub fn log_record(verified: bool) -> Fact {
    fact(
        Claim::LogEntry(LogFinding {
            origin: "log.example/tracemark".into(),
            index: 41,
            tree_size: 100,
            leaf_hash: "00".repeat(32),
            provider: Some("Example AI Ltd".into()),
            model: Some("example-model-1".into()),
            generation_id: Some("gen-0042".into()),
            inclusion_verified: verified,
            logged_at: Some(ts("2026-10-01T09:00:01Z")),
        }),
        "rfc6962-inclusion",
    )
}

pub fn search(topic: Topic, scope: &str, found: u64) -> Fact {
    fact(
        Claim::Search(SearchFinding {
            topic,
            scope: scope.into(),
            found,
        }),
        "search",
    )
}

pub fn unestablished(topic: Topic, reason: &str) -> Fact {
    fact(
        Claim::Unestablished {
            topic,
            reason: reason.into(),
        },
        "attribute",
    )
}

pub fn doc(
    id: &str,
    owner: Option<&str>,
    licence: Option<&str>,
    fetched: Option<&str>,
) -> DocumentRef {
    DocumentRef {
        id: id.into(),
        owner: owner.map(Into::into),
        licence: licence.map(Into::into),
        source_url: Some(format!("https://example.org/{id}")),
        fetched_at: fetched.map(ts),
    }
}

pub fn span(start: usize, end: usize, document: DocumentRef) -> Fact {
    fact(
        Claim::SourceSpan(SpanFinding {
            range: ByteRange::new(start, end).unwrap(),
            tokens: ((end - start) / 4) as u64,
            occurrences: 1,
            documents: vec![document],
        }),
        "suffix-array-trace",
    )
}

pub fn near_duplicate(document: DocumentRef) -> Fact {
    fact(
        Claim::NearDuplicate(NearDuplicateFinding {
            document,
            jaccard: 0.8,
        }),
        "minhash-lsh",
    )
}

pub fn rights(doc: &str, usage: AiUse, permission: Permission, seen: Option<&str>) -> Fact {
    rights_by(doc, usage, permission, seen, &["tdmrep", "robots"])
}

pub fn rights_by(
    doc: &str,
    usage: AiUse,
    permission: Permission,
    seen: Option<&str>,
    signals: &[&str],
) -> Fact {
    fact(
        Claim::Rights(RightsFinding {
            document_id: doc.into(),
            usage,
            permission,
            signals: signals.iter().map(|s| (*s).to_owned()).collect(),
            seen_at: seen.map(ts),
        }),
        "rights-most-restrictive",
    )
}

pub fn attribution(doc: &str, present: bool) -> Fact {
    fact(
        Claim::Attribution(AttributionFinding {
            document_id: doc.into(),
            present,
            text: present.then(|| "Source: Jane Doe, CC BY 4.0".to_owned()),
            range: None,
        }),
        "attribution-scan",
    )
}

pub fn disclosure(present: bool) -> Fact {
    fact(
        Claim::Disclosure(DisclosureFinding {
            present,
            label: present.then(|| "AI生成".to_owned()),
            range: present.then(|| ByteRange::new(0, 8).unwrap()),
        }),
        "label-scan",
    )
}

pub fn ctx(as_of: &str) -> Context {
    Context::new(date(as_of))
}
