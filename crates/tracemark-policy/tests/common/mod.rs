//! Builders of facts for the policy tests.
#![allow(dead_code)]

use tracemark_core::{
    ByteRange, ContentHash, Fact, KeyId, KeyKind, Method, PValue, Payload, Timestamp, Verdict,
    fact::{
        AttributionFinding, Claim, CredentialFinding, CredentialState, DisclosureFinding,
        DocumentRef, LogFinding, NearDuplicateFinding, RightsFinding, SearchFinding, SpanFinding,
        Topic, WatermarkFinding,
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
        }),
        "kgw-selfhash-v1",
    )
}

pub fn credential(state: CredentialState, source_type: Option<&str>, aigc: bool) -> Fact {
    let valid = matches!(state, CredentialState::Trusted | CredentialState::Untrusted);
    fact(
        Claim::Credential(CredentialFinding {
            state,
            signer: valid.then(|| "Example AI Ltd".to_owned()),
            signed_at: valid.then(|| ts("2026-10-01T09:00:00Z")),
            generator: valid.then(|| "example-model 1.0".to_owned()),
            digital_source_type: source_type
                .map(|t| format!("http://cv.iptc.org/newscodes/digitalsourcetype/{t}")),
            soft_binding: None,
            training_mining: None,
            aigc_label: aigc,
            failures: if state == CredentialState::Tampered {
                vec!["hash binding mismatch".into()]
            } else {
                Vec::new()
            },
        }),
        "c2pa-verify",
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
    fact(
        Claim::Rights(RightsFinding {
            document_id: doc.into(),
            usage,
            permission,
            signals: vec!["tdmrep".into(), "robots".into()],
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
