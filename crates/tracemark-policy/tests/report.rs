//! Reports for the three use cases: built, validated against the published schema,
//! sealed and verified, and rendered to HTML.

mod common;

use common::*;
use tracemark_core::{
    ByteRange, ContentHash, Fact, PValue, Segment, Verdict,
    fact::{
        Claim, CredentialState, DetectorAccess, MarkKind, MiningPurpose, ModelCheck,
        ModelIdentityFinding, ModelReleaseFinding, OrganisationType, PartyRole, Topic,
        WatermarkFinding,
    },
    rights::{AiUse, Permission},
};
use tracemark_policy::{
    ContentKind, Context, EvidenceReport, Input, Jurisdiction, Origin, Outcome, REPORT_FORMAT,
    REPORT_SCHEMA, REPORT_SCHEMA_V2, ReportError, ReportRequest, SealSignature, Subject, Tool,
    render_html, verify_report_hash,
};

fn request(name: &str, text: &str, facts: Vec<Fact>, context: Context) -> ReportRequest {
    ReportRequest {
        subject: Subject {
            name: Some(name.into()),
            hash: ContentHash::of_bytes(text.as_bytes()),
            bytes: text.len() as u64,
            media_type: "text/plain; charset=utf-8".into(),
            text: Some(text.into()),
        },
        facts,
        context,
        inputs: vec![
            Input::of_bytes("content", name, text.as_bytes()),
            Input::of_bytes("watermark-key", "provider.wmkey", b"key material"),
        ],
        tool: Tool {
            name: "tracemark".into(),
            version: "0.1.0".into(),
            commit: None,
        },
        command: format!("tracemark attribute --json --as-of 2026-12-15 {name}"),
        generated_at: ts("2026-12-15T10:00:00Z"),
    }
}

fn content_fact(text: &str) -> Fact {
    fact(
        Claim::Content {
            hash: ContentHash::of_bytes(text.as_bytes()),
            bytes: text.len() as u64,
            media_type: "text/plain; charset=utf-8".into(),
        },
        "sha256",
    )
}

const MARKED: &str = "The committee met on Tuesday to review the harbour plan. Members agreed that the \
northern quay needs new pilings before winter, and that the ferry timetable should change in spring. \
The budget line for dredging was moved to next year, with a review in March.";

/// Use case 1: marked at the source, credential stripped, edited; watermark leads to the
/// log, whose record shows the credential the generation carried.
fn mark_at_the_source() -> EvidenceReport {
    let facts = vec![
        content_fact(MARKED),
        watermark(true, 260),
        credential(CredentialState::None, None, false),
        log_record(true),
        history(MarkKind::Credential, Some(None)),
        detector(MarkKind::Watermark, DetectorAccess::Free),
        search(Topic::Trace, "index demo-corpus", 0),
    ];
    let ctx = Context::new(date("2026-12-15"))
        .with_jurisdictions([Jurisdiction::Eu, Jurisdiction::UsCa])
        .with_placed_on_market(date("2026-03-01"))
        .with_tokens(260);
    EvidenceReport::build(request("meeting-notes.txt", MARKED, facts, ctx))
}

const TRACED: &str = "Intro words. Over the hills the old road winds, past the mill where the river bends and \
the swallows nest each May. More words follow here.";

/// Use case 2: an output reproducing an opted-out document.
fn trace_to_the_training_data() -> EvidenceReport {
    let start = TRACED.find("Over the hills").unwrap();
    let end = TRACED.find(" More words").unwrap();
    let facts = vec![
        content_fact(TRACED),
        watermark(true, 40),
        span(
            start,
            end,
            doc(
                "poem-17",
                Some("Jane Doe"),
                Some("All rights reserved"),
                Some("2026-03-01T00:00:00Z"),
            ),
        ),
        rights(
            "poem-17",
            AiUse::Tdm,
            Permission::Disallowed,
            Some("2025-11-02T08:00:00Z"),
        ),
        attribution("poem-17", false),
    ];
    let ctx = Context::new(date("2026-12-15"))
        .declare("gpai_model", true)
        .with_placed_on_market(date("2025-10-01"));
    EvidenceReport::build(request("output.txt", TRACED, facts, ctx))
}

const HUMAN: &str = "I have walked this coast for thirty years, and every winter the sea takes a little more of it.\n\n";
const AI: &str = "Coastal erosion accelerates when storm surges coincide with high tides, removing sediment faster than longshore drift can replace it.\n\n";
const QUOTE: &str =
    "\u{201c}The sea is a thief that never sleeps,\u{201d} wrote the harbour master in 1911.";

fn mixed_text() -> String {
    format!("{HUMAN}{AI}{QUOTE}")
}

/// Use case 3: a mixed document.
fn mixed_document() -> EvidenceReport {
    let text = mixed_text();
    let ai = ByteRange::new(HUMAN.len(), HUMAN.len() + AI.len() - 2).unwrap();
    let q = ByteRange::new(HUMAN.len() + AI.len(), text.len()).unwrap();
    let verdict = |log10: f64, detected| {
        Verdict::decide(
            PValue::from_log10(log10),
            1e-6,
            "kgw-selfhash-v1",
            serde_json::json!({"gamma": 0.25, "window": 64}),
            if detected { 30 } else { 20 },
        )
    };
    let facts = vec![
        content_fact(&text),
        fact(
            Claim::Watermark(WatermarkFinding {
                scheme: "kgw-selfhash-v1".into(),
                key_id: key(1),
                verdict: verdict(-9.0, true),
                payload: None,
                segments: vec![Segment {
                    range: ai,
                    verdict: verdict(-9.0, true),
                }],
                medium: None,
            }),
            "kgw-selfhash-v1",
        ),
        log_record(true),
        span(
            q.start(),
            q.end(),
            doc(
                "harbour-1911",
                Some("Port Archive"),
                Some("CC BY 4.0"),
                None,
            ),
        ),
        attribution("harbour-1911", true),
    ];
    let ctx = Context::new(date("2026-12-15")).with_kind(ContentKind::Text);
    EvidenceReport::build(request("essay.txt", &text, facts, ctx))
}

fn outcome(r: &EvidenceReport, id: &str) -> Outcome {
    r.rules.iter().find(|x| x.id == id).unwrap().outcome
}

fn validate(report: &EvidenceReport) {
    let schema: serde_json::Value = serde_json::from_str(REPORT_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let value = serde_json::to_value(report).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors:\n{}", errors.join("\n"));
}

/// Facts of every kind v3 added: a removal by a platform, a detector, a stated miner.
fn every_new_fact() -> EvidenceReport {
    let mut facts = vec![
        content_fact(MARKED),
        watermark(true, 260),
        credential(
            CredentialState::Trusted,
            Some("trainedAlgorithmicMedia"),
            true,
        ),
        history(MarkKind::Watermark, Some(Some(PartyRole::Platform))),
        detector(MarkKind::Credential, DetectorAccess::OnRequest),
        mining(
            Some(OrganisationType::ResearchOrganisation),
            None,
            Some(MiningPurpose::ScientificResearch),
        ),
        unestablished(Topic::Removal, "the log could not be read"),
        model_identity(ModelCheck::Trusted),
        unestablished(Topic::Model, "the model directory has no signature"),
    ];
    facts.extend(trace_to_the_training_data().facts.into_iter().skip(2));
    let ctx = Context::new(date("2026-12-15"))
        .declare("registration_sought", true)
        .declare("kr_ai_business_operator", true);
    EvidenceReport::build(request("all.txt", MARKED, facts, ctx))
}

/// A model-identity fact: a generation record names the model's digest, checked against
/// the signed model with `check`.
fn model_identity(check: ModelCheck) -> Fact {
    let named = ContentHash::of_bytes(b"root digest");
    fact(
        Claim::ModelIdentity(ModelIdentityFinding {
            name: "tinystories-260k".into(),
            named_digest: Some(named),
            named_by: Some("generation record 3 of log log.example/a".into()),
            model_digest: Some(if check == ModelCheck::DigestMismatch {
                ContentHash::of_bytes(b"other weights")
            } else {
                named
            }),
            check,
            signer: Some("Example AI Ltd model signing".into()),
            signing_method: Some("certificate".into()),
            release: Some(ModelReleaseFinding {
                origin: "log.example/a".into(),
                index: 1,
                leaf_hash: "ab".repeat(32),
                name: "tinystories-260k".into(),
                version: Some("1.0".into()),
                signer: "Example AI Ltd model signing".into(),
                released_at: "2026-11-01T00:00:00Z".parse().unwrap(),
                inclusion_verified: true,
            }),
            reason: "signature: verifies under the trusted root".into(),
        }),
        "oms-v1.0-verify",
    )
}

/// The report says which weights the provider's record names, who signed them, and the
/// outcome, in the summary and on the page; the schema holds every outcome.
#[test]
fn a_model_identity_is_said_in_the_summary_with_its_outcome() {
    for (check, says) in [
        (ModelCheck::Trusted, "trusted."),
        (ModelCheck::Untrusted, "untrusted."),
        (ModelCheck::Tampered, "tampered"),
        (ModelCheck::DigestMismatch, "digest mismatch"),
        (ModelCheck::NotChecked, "not checked"),
    ] {
        let facts = vec![content_fact(MARKED), model_identity(check)];
        let report = EvidenceReport::build(request(
            "m.txt",
            MARKED,
            facts,
            Context::new(date("2026-12-15")),
        ));
        validate(&report);
        let line = report
            .verdict
            .summary
            .iter()
            .find(|l| l.starts_with("Model identity: "))
            .unwrap_or_else(|| panic!("{:?}", report.verdict.summary));
        assert!(line.contains(says), "{check:?}: {line}");
        assert!(
            line.contains(&ContentHash::of_bytes(b"root digest").to_string()),
            "{line}"
        );
        assert!(line.contains("entry 1 of log.example/a"), "{line}");
        if check != ModelCheck::NotChecked {
            assert!(line.contains("Example AI Ltd model signing"), "{line}");
        }
        let html = render_html(&report);
        assert!(html.contains("Model identity"), "{check:?}");
    }
    let schema: serde_json::Value = serde_json::from_str(REPORT_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut v = serde_json::to_value(EvidenceReport::build(request(
        "m.txt",
        MARKED,
        vec![content_fact(MARKED), model_identity(ModelCheck::Trusted)],
        Context::new(date("2026-12-15")),
    )))
    .unwrap();
    v["facts"][1]["check"] = serde_json::json!("verified");
    assert!(!validator.is_valid(&v), "an unknown check accepted");
    // A signer's name comes from a certificate anyone can make: the page escapes it.
    let mut hostile = model_identity(ModelCheck::Untrusted);
    if let Claim::ModelIdentity(m) = &mut hostile.claim {
        m.signer = Some("<script>alert(1)</script>".into());
    }
    let report = EvidenceReport::build(request(
        "m.txt",
        MARKED,
        vec![content_fact(MARKED), hostile],
        Context::new(date("2026-12-15")),
    ));
    let html = render_html(&report);
    assert!(!html.contains("<script>alert"), "unescaped signer");
    assert!(
        html.contains("&lt;script&gt;alert(1)"),
        "the signer is shown"
    );
}

#[test]
fn use_case_reports_validate_against_the_published_schema() {
    for mut report in [
        mark_at_the_source(),
        trace_to_the_training_data(),
        mixed_document(),
        every_new_fact(),
    ] {
        validate(&report);
        report.seal();
        validate(&report);
        let json = report.to_json_pretty();
        assert_eq!(EvidenceReport::from_json(&json).unwrap(), report);
    }
}

#[test]
fn the_schema_refuses_what_it_should() {
    let schema: serde_json::Value = serde_json::from_str(REPORT_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let good = serde_json::to_value(mixed_document()).unwrap();
    assert!(validator.is_valid(&good));
    for (path, bad) in [
        ("/format", serde_json::json!("tracemark.evidence-report/v2")),
        ("/rules/0/outcome", serde_json::json!("fine")),
        ("/segments/0/origin", serde_json::json!("human")),
        ("/verdict/ai_share", serde_json::json!(1.5)),
        ("/inputs/0/sha256", serde_json::json!("xyz")),
    ] {
        let mut v = good.clone();
        *v.pointer_mut(path).unwrap() = bad;
        assert!(!validator.is_valid(&v), "{path} accepted");
    }
    let mut v = good.clone();
    v.as_object_mut().unwrap().remove("facts");
    assert!(!validator.is_valid(&v));
    // v1's made-up confidence is gone: a segment states what was measured.
    let mut v = good.clone();
    v["segments"][0]["confidence"] = serde_json::json!(0.99);
    assert!(!validator.is_valid(&v), "a confidence accepted");
    let mut v = good.clone();
    v["segments"][0]["measured"] = serde_json::json!({"test": "watermark", "confidence": 0.99});
    assert!(
        !validator.is_valid(&v),
        "a measurement without its statistics accepted"
    );
}

#[test]
fn mark_at_the_source_names_provider_model_and_generation() {
    let r = mark_at_the_source();
    assert_eq!(r.format, REPORT_FORMAT);
    assert_eq!(outcome(&r, "EU-AIA-50-2"), Outcome::Compliant);
    assert_eq!(outcome(&r, "US-CA-SB942"), Outcome::NotApplicable);
    let ai = r.verdict.ai.as_ref().unwrap();
    assert_eq!(ai.provider.as_deref(), Some("Example AI Ltd"));
    assert_eq!(ai.model.as_deref(), Some("example-model-1"));
    assert_eq!(ai.generation_id.as_deref(), Some("gen-0042"));
    assert_eq!(ai.log10_p_value, Some(-42.0));
    assert_eq!(r.verdict.ai_share, 1.0);
    assert!(
        r.verdict.summary[0].contains("generation gen-0042"),
        "{:?}",
        r.verdict.summary
    );
    assert!(
        r.verdict.summary[0].contains("p = 1.0e-42"),
        "{:?}",
        r.verdict.summary
    );
    // Without the watermark, and stated AI-generated: non-compliant.
    let facts = vec![content_fact(MARKED), watermark(false, 260)];
    let ctx = Context::new(date("2026-12-15"))
        .with_ai_generated(true)
        .with_tokens(260);
    let r = EvidenceReport::build(request("unmarked.txt", MARKED, facts, ctx));
    assert_eq!(outcome(&r, "EU-AIA-50-2"), Outcome::NonCompliant);
    assert!(r.verdict.summary.iter().any(|l| l.contains("EU-AIA-50-2")));
}

#[test]
fn trace_names_the_document_owner_spans_share_and_opt_out() {
    let r = trace_to_the_training_data();
    assert_eq!(outcome(&r, "EU-DSM-4-3"), Outcome::NonCompliant);
    assert_eq!(outcome(&r, "EU-AIA-53-1-C"), Outcome::NonCompliant);
    // § 1202(b) needs what no tool shows: the information conveyed with the copies, and
    // knowledge; the outcome names them.
    assert_eq!(outcome(&r, "US-DMCA-1202"), Outcome::Undetermined);
    let dmca = r.rules.iter().find(|x| x.id == "US-DMCA-1202").unwrap();
    assert!(
        dmca.reason.contains("conveyed in connection with copies")
            && dmca.reason.contains("reasonable grounds to know"),
        "{}",
        dmca.reason
    );
    assert_eq!(outcome(&r, "BERNE-6BIS"), Outcome::NonCompliant);
    let src = &r.verdict.sources[0];
    assert_eq!(src.document_id, "poem-17");
    assert_eq!(src.owner.as_deref(), Some("Jane Doe"));
    assert!(src.share > 0.5 && src.share < 0.9, "{}", src.share);
    let dsm = r.rules.iter().find(|x| x.id == "EU-DSM-4-3").unwrap();
    assert!(
        dsm.reason.contains("2025-11-02T08:00:00Z"),
        "{}",
        dsm.reason
    );
    let source_segments: Vec<_> = r
        .segments
        .iter()
        .filter(|s| s.origin == Origin::Source)
        .collect();
    assert_eq!(source_segments.len(), 1);
    assert_eq!(source_segments[0].document_id.as_deref(), Some("poem-17"));
}

#[test]
fn mixed_document_is_split_and_stated() {
    let r = mixed_document();
    let text = mixed_text();
    let origins: Vec<(Origin, &str)> = r
        .segments
        .iter()
        .map(|s| (s.origin, s.range.slice(&text).unwrap()))
        .collect();
    assert_eq!(origins[0], (Origin::Unattributed, HUMAN));
    assert_eq!(origins[1], (Origin::Ai, AI.trim_end()));
    assert_eq!(origins[2], (Origin::Unattributed, "\n\n"));
    assert_eq!(origins[3], (Origin::Source, QUOTE));
    // Segments tile the content.
    let mut at = 0;
    for s in &r.segments {
        assert_eq!(s.range.start(), at);
        at = s.range.end();
    }
    assert_eq!(at, text.len());
    let st = &r.statement;
    let total = st.ai_share + st.source_share + st.unattributed_share;
    assert!((total - 1.0).abs() < 1e-9);
    assert_eq!(
        st.ai_attributed_to.as_deref(),
        Some("example-model-1 (Example AI Ltd)")
    );
    assert!(
        st.paragraphs[0].contains("AI-generated material"),
        "{}",
        st.paragraphs[0]
    );
    assert!(
        st.paragraphs[1].contains("harbour-1911 by Port Archive (CC BY 4.0)"),
        "{}",
        st.paragraphs[1]
    );
    assert!(st.caveat.contains("No tool can prove human authorship"));
    // Issue 20: what was detected, and what the author may still claim; never that the
    // material "is not the product of human authorship".
    assert!(
        !st.text().contains("not the product of human authorship"),
        "{}",
        st.text()
    );
    assert!(
        st.paragraphs[0].contains("was detected as generated by example-model-1")
            && st.paragraphs[0].contains("88 Fed. Reg. 16190")
            && st.paragraphs[0].contains("the author may still claim"),
        "{}",
        st.paragraphs[0]
    );
    assert!(
        r.verdict
            .summary
            .iter()
            .any(|l| l.contains("no tool can prove human authorship"))
    );
    assert_eq!(outcome(&r, "BERNE-6BIS"), Outcome::Compliant);
    assert_eq!(outcome(&r, "US-DMCA-1202"), Outcome::Compliant);
}

#[test]
fn the_seal_is_verified_offline_and_detects_tampering() {
    let mut report = mixed_document();
    let signed = report.seal();
    assert_eq!(
        signed,
        report.canonical_bytes(),
        "the seal does not hash itself"
    );
    // The signature and receipt are the front end's; they do not enter the hash.
    report.seal.as_mut().unwrap().signature = Some(SealSignature {
        algorithm: "ed25519".into(),
        key_id: "k1".into(),
        public_key: None,
        value: "c2lnbmF0dXJl".into(),
    });
    report.seal.as_mut().unwrap().receipt = Some("tracemark.log/v1\n42\n".into());
    let json = report.to_json_pretty();
    let seal = verify_report_hash(&json).unwrap();
    assert_eq!(seal.report_hash, report.hash());
    // Whitespace and member order do not matter; content does.
    let compact =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&json).unwrap()).unwrap();
    assert!(verify_report_hash(&compact).is_ok());
    let tampered = json.replacen("Port Archive", "Someone Else", 1);
    assert!(matches!(
        verify_report_hash(&tampered),
        Err(ReportError::HashMismatch { .. })
    ));
    let mut unsealed = report.clone();
    unsealed.seal = None;
    assert_eq!(
        verify_report_hash(&unsealed.to_json_pretty()),
        Err(ReportError::Unsealed)
    );
    let other = json.replacen(REPORT_FORMAT, "tracemark.evidence-report/v9", 1);
    assert!(matches!(
        verify_report_hash(&other),
        Err(ReportError::Format(_))
    ));
    assert!(matches!(
        verify_report_hash("{not json"),
        Err(ReportError::Json(_))
    ));
}

/// A report written by v2, before the new facts and credential fields, still follows its
/// schema, verifies and reads.
#[test]
fn a_v2_report_still_verifies_and_reads() {
    let mut value = serde_json::to_value(trace_to_the_training_data()).unwrap();
    value["format"] = "tracemark.evidence-report/v2".into();
    // v2 knew neither Korea nor registrants.
    value["rules"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["jurisdiction"] != "KR" && r["binds"][0] != "registrant");
    let schema: serde_json::Value = serde_json::from_str(REPORT_SCHEMA_V2).unwrap();
    let v2 = jsonschema::validator_for(&schema).unwrap();
    assert!(v2.is_valid(&value));
    let canonical = tracemark_core::jcs::canonicalize(&value).unwrap();
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&canonical));
    value["seal"] = serde_json::json!({
        "algorithm": "sha-256", "canonicalization": "rfc8785", "report_hash": hash,
    });
    let json = value.to_string();
    assert_eq!(verify_report_hash(&json).unwrap().report_hash, hash);
    let read = EvidenceReport::from_json(&json).unwrap();
    assert_eq!(read.format, "tracemark.evidence-report/v2");
    // v3's facts are not v2's: its schema refuses them.
    let v3 = serde_json::to_value(every_new_fact()).unwrap();
    assert!(!v2.is_valid(&v3));
}

/// A report written by the previous version (v1) still verifies: its hash covers its
/// JSON as written, whatever fields it has.
#[test]
fn a_v1_report_still_verifies() {
    let mut value = serde_json::to_value(mixed_document()).unwrap();
    value["format"] = "tracemark.evidence-report/v1".into();
    value["segments"][0]["confidence"] = 0.999.into();
    let canonical = tracemark_core::jcs::canonicalize(&value).unwrap();
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&canonical));
    value["seal"] = serde_json::json!({
        "algorithm": "sha-256", "canonicalization": "rfc8785", "report_hash": hash,
    });
    let seal = verify_report_hash(&value.to_string()).unwrap();
    assert_eq!(seal.report_hash, hash);
}

/// Each segment states what was measured: a watermark test's p-value, the false-positive
/// rate at the threshold used and the tokens scored; an exact match's length. Never a
/// confidence, in the JSON or on the page.
#[test]
fn segments_state_what_was_measured() {
    let r = mixed_document();
    let measured: Vec<_> = r
        .segments
        .iter()
        .filter_map(|s| s.measured.as_ref())
        .collect();
    assert!(
        measured.iter().any(|m| matches!(
            m,
            tracemark_policy::Measurement::Watermark { false_positive_rate, tokens_scored, .. }
                if *false_positive_rate > 0.0 && *tokens_scored > 0
        )),
        "{measured:?}"
    );
    assert!(
        measured.iter().any(|m| matches!(
            m,
            tracemark_policy::Measurement::VerbatimMatch { tokens, .. } if *tokens > 0
        )),
        "{measured:?}"
    );
    let json = serde_json::to_string(&r).unwrap();
    let html = render_html(&r);
    for text in [&json, &html] {
        assert!(!text.to_lowercase().contains("confidence"));
    }
    assert!(
        html.contains("false-positive rate"),
        "the page shows the rate"
    );
    assert!(html.contains("exact match of"), "the page shows the match");
}

#[test]
fn html_escapes_every_string() {
    let hostile = "<script>alert('x')</script>";
    let text = format!("{hostile} & more \"quoted\" text");
    let facts = vec![
        content_fact(&text),
        span(
            0,
            hostile.len(),
            doc(hostile, Some(hostile), Some(hostile), None),
        ),
        unestablished(Topic::Watermark, hostile),
    ];
    let mut ctx = Context::new(date("2026-12-15")).declare(hostile, true);
    ctx.editorial = Some(tracemark_policy::EditorialResponsibility {
        holder: hostile.into(),
        role: hostile.into(),
        contact: hostile.into(),
        human_review: true,
    });
    let mut req = request(hostile, &text, facts, ctx);
    req.command = hostile.into();
    req.tool.version = hostile.into();
    let mut report = EvidenceReport::build(req);
    report.seal();
    report.seal.as_mut().unwrap().receipt = Some(hostile.into());
    let html = render_html(&report);
    assert!(
        !html.contains("<script"),
        "an unescaped <script> in the page"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(!html.contains("src=\"http"), "no external assets");
    assert!(!html.contains("<link"), "no external stylesheets");
}

#[test]
fn html_reads_in_order_verdict_rules_evidence_methods() {
    for (name, report) in [
        ("mark-at-the-source", mark_at_the_source()),
        ("trace-to-the-training-data", trace_to_the_training_data()),
        ("mixed-document", mixed_document()),
    ] {
        let mut report = report;
        report.seal();
        let html = render_html(&report);
        let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{name}: no {s}"));
        assert!(at("1. The answer") < at("2. The rules"));
        assert!(at("2. The rules") < at("4. The evidence"));
        assert!(at("4. The evidence") < at("5. Methods and reproduction"));
        for r in &report.rules {
            assert!(html.contains(&format!("id=\"rule-{}\"", r.id)));
        }
        for i in 0..report.facts.len() {
            assert!(html.contains(&format!("id=\"fact-{i}\"")));
        }
        assert!(html.contains("<mark class=\""));
        if let Ok(dir) = std::env::var("TRACEMARK_REPORT_OUT") {
            std::fs::write(format!("{dir}/{name}.html"), &html).unwrap();
            std::fs::write(format!("{dir}/{name}.json"), report.to_json_pretty()).unwrap();
        }
    }
}

/// Segments follow precedence (a source span over a watermarked passage), merge the
/// stretches of one claim, and cost memory by the claims, not the content's length: a
/// terabyte-long subject with three claims is cut without allocating per byte.
#[test]
fn segments_follow_precedence_and_do_not_grow_with_the_content() {
    let detected = Verdict::decide(
        PValue::from_log10(-12.0),
        1e-6,
        "kgw-selfhash-v1",
        serde_json::Value::Null,
        40,
    );
    let marked = |start, end| Segment {
        range: ByteRange::new(start, end).unwrap(),
        verdict: detected.clone(),
    };
    let facts = vec![
        fact(
            Claim::Watermark(WatermarkFinding {
                scheme: "kgw-selfhash-v1".into(),
                key_id: key(1),
                verdict: detected.clone(),
                payload: None,
                segments: vec![marked(100, 400), marked(400, 500), marked(900, 1000)],
                medium: None,
            }),
            "kgw-selfhash-v1",
        ),
        span(200, 300, doc("poem-17", Some("A. Poet"), None, None)),
        // An empty span claims nothing.
        span(600, 600, doc("empty", None, None, None)),
    ];
    let total = 1u64 << 40;
    let cut: Vec<(usize, usize, Origin, Option<String>)> =
        tracemark_policy::report::segments(&facts, total, None)
            .into_iter()
            .map(|s| (s.range.start(), s.range.end(), s.origin, s.document_id))
            .collect();
    let poem = Some("poem-17".to_owned());
    assert_eq!(
        cut,
        vec![
            (0, 100, Origin::Unattributed, None),
            (100, 200, Origin::Ai, None),
            (200, 300, Origin::Source, poem),
            (300, 400, Origin::Ai, None),
            // Two adjacent passages of one watermark are two claims: kept apart.
            (400, 500, Origin::Ai, None),
            (500, 900, Origin::Unattributed, None),
            (900, 1000, Origin::Ai, None),
            (1000, total as usize, Origin::Unattributed, None),
        ]
    );
}
