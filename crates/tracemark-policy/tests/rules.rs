//! Every rule of the catalogue against scenarios covering each outcome it can reach,
//! including the boundaries of its dates of application.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use tracemark_core::{
    Fact,
    fact::{CredentialState, Topic},
    rights::{AiUse, Permission},
};
use tracemark_policy::{
    Catalogue, ContentKind, Context, EditorialResponsibility, Jurisdiction, Outcome, evaluate,
};

struct Case {
    rule: &'static str,
    name: &'static str,
    facts: Vec<Fact>,
    ctx: Context,
    expect: Outcome,
    /// A phrase the reason must contain.
    says: &'static str,
}

fn case(
    rule: &'static str,
    name: &'static str,
    facts: Vec<Fact>,
    ctx: Context,
    expect: Outcome,
    says: &'static str,
) -> Case {
    Case {
        rule,
        name,
        facts,
        ctx,
        expect,
        says,
    }
}

fn text(tokens: u64) -> Fact {
    content("text/plain; charset=utf-8", tokens * 4)
}

fn editor() -> EditorialResponsibility {
    EditorialResponsibility {
        holder: "Maria Rossi".into(),
        role: "editor-in-chief".into(),
        contact: "desk@example.org".into(),
        human_review: true,
    }
}

fn reserved_source() -> Vec<Fact> {
    vec![
        text(300),
        span(
            10,
            210,
            doc(
                "doc-7",
                Some("Jane Doe"),
                Some("All rights reserved"),
                Some("2026-03-01T00:00:00Z"),
            ),
        ),
        rights(
            "doc-7",
            AiUse::Tdm,
            Permission::Disallowed,
            Some("2026-01-01T00:00:00Z"),
        ),
    ]
}

fn cases() -> Vec<Case> {
    use Outcome::*;
    let legacy = date("2026-01-15");
    let new = date("2026-08-10");
    vec![
        // EU-AIA-50-2
        case(
            "EU-AIA-50-2",
            "watermarked text, first day of application",
            vec![text(300), watermark(true, 300)],
            ctx("2026-08-02").with_placed_on_market(new),
            Compliant,
            "kgw-selfhash-v1 watermark",
        ),
        case(
            "EU-AIA-50-2",
            "stripped credential, watermark still detected",
            vec![
                text(300),
                watermark(true, 300),
                credential(CredentialState::None, None, false),
            ],
            ctx("2027-01-01"),
            Compliant,
            "detected",
        ),
        case(
            "EU-AIA-50-2",
            "unmarked text, legacy system on the last grace day's morrow",
            vec![text(300), watermark(false, 300)],
            ctx("2026-12-02")
                .with_ai_generated(true)
                .with_placed_on_market(legacy),
            NonCompliant,
            "no watermark was detected",
        ),
        case(
            "EU-AIA-50-2",
            "day before application",
            vec![text(300), watermark(false, 300)],
            ctx("2026-08-01").with_ai_generated(true),
            NotYetApplicable,
            "2 August 2026",
        ),
        case(
            "EU-AIA-50-2",
            "legacy system, last day of grace",
            vec![text(300), watermark(false, 300)],
            ctx("2026-12-01")
                .with_ai_generated(true)
                .with_placed_on_market(legacy),
            NotYetApplicable,
            "2 December 2026",
        ),
        case(
            "EU-AIA-50-2",
            "new system in the grace window is bound",
            vec![text(300), watermark(false, 300)],
            ctx("2026-09-01")
                .with_ai_generated(true)
                .with_placed_on_market(new),
            NonCompliant,
            "not marked",
        ),
        case(
            "EU-AIA-50-2",
            "grace window, market entry unknown",
            vec![text(300), watermark(false, 300)],
            ctx("2026-09-01").with_ai_generated(true),
            Undetermined,
            "placed on the EU market was not given",
        ),
        case(
            "EU-AIA-50-2",
            "source code is out of scope",
            vec![content("text/x-python", 4000)],
            ctx("2027-01-01").with_ai_generated(true),
            NotApplicable,
            "source code",
        ),
        case(
            "EU-AIA-50-2",
            "human text, declared and unmarked",
            vec![text(300), watermark(false, 300)],
            ctx("2027-01-01").with_ai_generated(false),
            NotApplicable,
            "not AI-generated",
        ),
        case(
            "EU-AIA-50-2",
            "short text is exempt from the watermark layer",
            vec![text(120), watermark(false, 110)],
            ctx("2027-01-01").with_ai_generated(true).with_tokens(120),
            Exempt,
            "200 tokens",
        ),
        case(
            "EU-AIA-50-2",
            "length unknown, short detector window",
            vec![text(150), watermark(false, 150)],
            ctx("2027-01-01").with_ai_generated(true),
            Undetermined,
            "length of the text in tokens was not established",
        ),
        case(
            "EU-AIA-50-2",
            "no detection run",
            vec![text(300)],
            ctx("2027-01-01").with_ai_generated(true).with_tokens(300),
            Undetermined,
            "no watermark detection was run",
        ),
        case(
            "EU-AIA-50-2",
            "detection failed",
            vec![
                text(300),
                unestablished(Topic::Watermark, "no watermark key is configured"),
            ],
            ctx("2027-01-01").with_ai_generated(true).with_tokens(300),
            Undetermined,
            "no watermark key is configured",
        ),
        case(
            "EU-AIA-50-2",
            "origin unknown",
            vec![text(300)],
            ctx("2027-01-01"),
            Undetermined,
            "no one stated it",
        ),
        case(
            "EU-AIA-50-2",
            "image with both layers",
            vec![
                content("image/png", 50_000),
                watermark(true, 4096),
                credential(
                    CredentialState::Trusted,
                    Some("trainedAlgorithmicMedia"),
                    false,
                ),
            ],
            ctx("2027-01-01"),
            Compliant,
            "signed by Example AI Ltd",
        ),
        case(
            "EU-AIA-50-2",
            "image with the watermark only",
            vec![
                content("image/png", 50_000),
                watermark(true, 4096),
                credential(CredentialState::None, None, false),
            ],
            ctx("2027-01-01"),
            NonCompliant,
            "no content credential was found",
        ),
        case(
            "EU-AIA-50-2",
            "image with a tampered credential",
            vec![
                content("image/png", 50_000),
                watermark(true, 4096),
                credential(CredentialState::Tampered, None, false),
            ],
            ctx("2027-01-01"),
            NonCompliant,
            "hash binding mismatch",
        ),
        case(
            "EU-AIA-50-2",
            "standard editing claimed",
            vec![text(300), watermark(false, 300)],
            ctx("2027-01-01")
                .with_ai_generated(true)
                .declare("standard_editing", true),
            Exempt,
            "standard editing",
        ),
        // EU-AIA-50-4
        case(
            "EU-AIA-50-4",
            "labelled public-interest text",
            vec![text(300), watermark(true, 300), disclosure(true)],
            ctx("2026-08-02").declare("public_interest_text", true),
            Compliant,
            "AI生成",
        ),
        case(
            "EU-AIA-50-4",
            "unlabelled public-interest text",
            vec![text(300), watermark(true, 300), disclosure(false)],
            ctx("2026-10-01").declare("public_interest_text", true),
            NonCompliant,
            "no perceptible AI label",
        ),
        case(
            "EU-AIA-50-4",
            "editorial responsibility",
            vec![text(300), watermark(true, 300), disclosure(false)],
            ctx("2026-10-01")
                .declare("public_interest_text", true)
                .with_editorial(editor()),
            Exempt,
            "Maria Rossi",
        ),
        case(
            "EU-AIA-50-4",
            "editorial responsibility does not cover deep fakes",
            vec![
                content("video/mp4", 9_000_000),
                watermark(true, 4096),
                disclosure(false),
            ],
            ctx("2026-10-01")
                .declare("deep_fake", true)
                .with_editorial(editor()),
            NonCompliant,
            "deep fake",
        ),
        case(
            "EU-AIA-50-4",
            "private text",
            vec![text(300), watermark(true, 300)],
            ctx("2026-10-01").declare("public_interest_text", false),
            NotApplicable,
            "not engaged",
        ),
        case(
            "EU-AIA-50-4",
            "purpose of publication unknown",
            vec![text(300), watermark(true, 300)],
            ctx("2026-10-01"),
            Undetermined,
            "it was not stated whether the text is published",
        ),
        case(
            "EU-AIA-50-4",
            "day before application, no grace for 50(4)",
            vec![text(300), watermark(true, 300), disclosure(false)],
            ctx("2026-08-01")
                .declare("public_interest_text", true)
                .with_placed_on_market(date("2026-01-01")),
            NotYetApplicable,
            "2 August 2026",
        ),
        case(
            "EU-AIA-50-4",
            "legacy system in the 50(2) grace window is bound by 50(4)",
            vec![text(300), watermark(true, 300), disclosure(false)],
            ctx("2026-09-01")
                .declare("public_interest_text", true)
                .with_placed_on_market(date("2026-01-01")),
            NonCompliant,
            "does not disclose",
        ),
        // EU-AIA-53-1-C
        case(
            "EU-AIA-53-1-C",
            "policy stated, trace clean",
            vec![text(300), search(Topic::Trace, "index demo-corpus", 0)],
            ctx("2026-01-01")
                .declare("gpai_model", true)
                .declare("copyright_policy", true)
                .with_placed_on_market(date("2025-09-01")),
            Compliant,
            "no span of the content occurs in index demo-corpus",
        ),
        case(
            "EU-AIA-53-1-C",
            "reserved document reproduced",
            reserved_source(),
            ctx("2026-04-01")
                .declare("gpai_model", true)
                .declare("copyright_policy", true)
                .with_placed_on_market(date("2025-09-01")),
            NonCompliant,
            "doc-7 (Jane Doe) reserved text and data mining",
        ),
        case(
            "EU-AIA-53-1-C",
            "reserved document, policy unknown",
            reserved_source(),
            ctx("2026-04-01")
                .declare("gpai_model", true)
                .with_placed_on_market(date("2025-09-01")),
            NonCompliant,
            "reserved",
        ),
        case(
            "EU-AIA-53-1-C",
            "policy stated, not traced",
            vec![text(300)],
            ctx("2026-04-01")
                .declare("gpai_model", true)
                .declare("copyright_policy", true)
                .with_placed_on_market(date("2025-09-01")),
            Undetermined,
            "not traced",
        ),
        case(
            "EU-AIA-53-1-C",
            "not a GPAI model",
            vec![text(300)],
            ctx("2026-04-01").declare("gpai_model", false),
            NotApplicable,
            "general-purpose",
        ),
        case(
            "EU-AIA-53-1-C",
            "GPAI status unknown",
            vec![text(300)],
            ctx("2026-04-01"),
            Undetermined,
            "it was not stated whether the model is a general-purpose AI model",
        ),
        case(
            "EU-AIA-53-1-C",
            "day before application",
            reserved_source(),
            ctx("2025-08-01").declare("gpai_model", true),
            NotYetApplicable,
            "2 August 2025",
        ),
        case(
            "EU-AIA-53-1-C",
            "legacy model, last day of grace",
            reserved_source(),
            ctx("2027-08-01")
                .declare("gpai_model", true)
                .declare("copyright_policy", true)
                .with_placed_on_market(date("2024-06-01")),
            NotYetApplicable,
            "2 August 2027",
        ),
        case(
            "EU-AIA-53-1-C",
            "legacy model, end of grace",
            reserved_source(),
            ctx("2027-08-02")
                .declare("gpai_model", true)
                .declare("copyright_policy", true)
                .with_placed_on_market(date("2024-06-01")),
            NonCompliant,
            "reserved",
        ),
        // EU-AIA-53-1-D
        case(
            "EU-AIA-53-1-D",
            "summary published",
            vec![text(300)],
            ctx("2026-01-01")
                .declare("gpai_model", true)
                .declare("training_summary_published", true)
                .with_placed_on_market(date("2025-09-01")),
            Compliant,
            "summary is published",
        ),
        case(
            "EU-AIA-53-1-D",
            "no summary",
            vec![text(300)],
            ctx("2026-01-01")
                .declare("gpai_model", true)
                .declare("training_summary_published", false)
                .with_placed_on_market(date("2025-09-01")),
            NonCompliant,
            "No public",
        ),
        case(
            "EU-AIA-53-1-D",
            "summary not stated",
            vec![text(300)],
            ctx("2026-01-01")
                .declare("gpai_model", true)
                .with_placed_on_market(date("2025-09-01")),
            Undetermined,
            "it was not stated whether the provider has published",
        ),
        case(
            "EU-AIA-53-1-D",
            "not a GPAI model",
            vec![text(300)],
            ctx("2026-01-01").declare("gpai_model", false),
            NotApplicable,
            "general-purpose",
        ),
        case(
            "EU-AIA-53-1-D",
            "legacy model in grace",
            vec![text(300)],
            ctx("2026-01-01")
                .declare("gpai_model", true)
                .with_placed_on_market(date("2025-03-01")),
            NotYetApplicable,
            "2 August 2027",
        ),
        case(
            "EU-AIA-53-1-D",
            "grace unknown",
            vec![text(300)],
            ctx("2026-01-01")
                .declare("gpai_model", true)
                .declare("training_summary_published", true),
            Undetermined,
            "grace period",
        ),
        // EU-DSM-4-3
        case(
            "EU-DSM-4-3",
            "reserved before collection",
            reserved_source(),
            ctx("2026-10-01"),
            NonCompliant,
            "before it was collected on 2026-03-01",
        ),
        case(
            "EU-DSM-4-3",
            "reservation after collection is not retroactive",
            vec![
                text(300),
                span(
                    10,
                    210,
                    doc(
                        "doc-7",
                        Some("Jane Doe"),
                        None,
                        Some("2025-03-01T00:00:00Z"),
                    ),
                ),
                rights(
                    "doc-7",
                    AiUse::AiTrain,
                    Permission::Disallowed,
                    Some("2026-01-01T00:00:00Z"),
                ),
            ],
            ctx("2026-10-01"),
            Compliant,
            "not retroactive",
        ),
        case(
            "EU-DSM-4-3",
            "no reservation",
            vec![
                text(300),
                near_duplicate(doc(
                    "doc-8",
                    Some("Blog Inc"),
                    Some("CC BY 4.0"),
                    Some("2025-03-01T00:00:00Z"),
                )),
                rights(
                    "doc-8",
                    AiUse::Tdm,
                    Permission::Unknown,
                    Some("2025-03-01T00:00:00Z"),
                ),
            ],
            ctx("2026-10-01"),
            Compliant,
            "no reservation of doc-8 (Blog Inc) covers training",
        ),
        case(
            "EU-DSM-4-3",
            "reservation undated",
            vec![
                text(300),
                span(10, 210, doc("doc-7", Some("Jane Doe"), None, None)),
                rights(
                    "doc-7",
                    AiUse::GenaiTrain,
                    Permission::Disallowed,
                    Some("2026-01-01T00:00:00Z"),
                ),
            ],
            ctx("2026-10-01"),
            Undetermined,
            "is not known",
        ),
        case(
            "EU-DSM-4-3",
            "rights signals not established",
            vec![
                text(300),
                span(
                    10,
                    210,
                    doc(
                        "doc-7",
                        Some("Jane Doe"),
                        None,
                        Some("2025-03-01T00:00:00Z"),
                    ),
                ),
                unestablished(Topic::Rights, "robots.txt could not be fetched"),
            ],
            ctx("2026-10-01"),
            Undetermined,
            "robots.txt could not be fetched",
        ),
        case(
            "EU-DSM-4-3",
            "licensed",
            {
                let mut f = reserved_source();
                f.push(text(1));
                f
            },
            ctx("2026-10-01").declare("licensed", true),
            Compliant,
            "holds a licence",
        ),
        case(
            "EU-DSM-4-3",
            "research organisation",
            reserved_source(),
            ctx("2026-10-01").declare("research_organisation", true),
            Exempt,
            "Art. 3",
        ),
        case(
            "EU-DSM-4-3",
            "nothing reproduced",
            vec![text(300), search(Topic::Trace, "index demo-corpus", 0)],
            ctx("2026-10-01"),
            NotApplicable,
            "index demo-corpus",
        ),
        case(
            "EU-DSM-4-3",
            "not traced",
            vec![text(300)],
            ctx("2026-10-01"),
            Undetermined,
            "not traced",
        ),
        case(
            "EU-DSM-4-3",
            "before transposition",
            reserved_source(),
            ctx("2021-06-06"),
            NotYetApplicable,
            "7 June 2021",
        ),
        // CN-LBL-4
        case(
            "CN-LBL-4",
            "labelled",
            vec![text(300), watermark(true, 300), disclosure(true)],
            ctx("2025-09-01"),
            Compliant,
            "AI生成",
        ),
        case(
            "CN-LBL-4",
            "unlabelled",
            vec![text(300), watermark(true, 300), disclosure(false)],
            ctx("2025-09-01"),
            NonCompliant,
            "no perceptible AI label",
        ),
        case(
            "CN-LBL-4",
            "unlabelled on request",
            vec![text(300), watermark(true, 300), disclosure(false)],
            ctx("2025-09-01").declare("cn_unlabelled_on_request", true),
            Exempt,
            "six months",
        ),
        case(
            "CN-LBL-4",
            "not examined for a label",
            vec![text(300), watermark(true, 300)],
            ctx("2025-09-01"),
            Undetermined,
            "not examined",
        ),
        case(
            "CN-LBL-4",
            "human text",
            vec![text(300), watermark(false, 300)],
            ctx("2025-09-01").with_ai_generated(false),
            NotApplicable,
            "AI-generated content",
        ),
        case(
            "CN-LBL-4",
            "day before the Measures",
            vec![text(300), watermark(true, 300), disclosure(false)],
            ctx("2025-08-31"),
            NotYetApplicable,
            "1 September 2025",
        ),
        // CN-LBL-5
        case(
            "CN-LBL-5",
            "AIGC label present",
            vec![
                content("image/png", 9000),
                credential(
                    CredentialState::Untrusted,
                    Some("trainedAlgorithmicMedia"),
                    true,
                ),
            ],
            ctx("2025-09-01"),
            Compliant,
            "AIGC implicit label",
        ),
        case(
            "CN-LBL-5",
            "no AIGC label",
            vec![
                text(300),
                watermark(true, 300),
                credential(CredentialState::None, None, false),
            ],
            ctx("2026-01-01"),
            NonCompliant,
            "no AIGC implicit label",
        ),
        case(
            "CN-LBL-5",
            "metadata not examined",
            vec![text(300), watermark(true, 300)],
            ctx("2026-01-01"),
            Undetermined,
            "not examined",
        ),
        case(
            "CN-LBL-5",
            "human text",
            vec![text(300)],
            ctx("2026-01-01").with_ai_generated(false),
            NotApplicable,
            "AI-generated content",
        ),
        case(
            "CN-LBL-5",
            "day before the Measures",
            vec![text(300), watermark(true, 300)],
            ctx("2025-08-31"),
            NotYetApplicable,
            "1 September 2025",
        ),
        // US-CA-SB942
        case(
            "US-CA-SB942",
            "text is not covered",
            vec![text(300), watermark(true, 300)],
            ctx("2026-09-01").declare("ca_covered_provider", true),
            NotApplicable,
            "free-form text",
        ),
        case(
            "US-CA-SB942",
            "image with a credential",
            vec![
                content("image/png", 9000),
                credential(
                    CredentialState::Trusted,
                    Some("trainedAlgorithmicMedia"),
                    false,
                ),
            ],
            ctx("2026-08-02").declare("ca_covered_provider", true),
            Compliant,
            "generator example-model 1.0",
        ),
        case(
            "US-CA-SB942",
            "stripped image, watermark leads to the log",
            vec![
                content("image/png", 9000),
                watermark(true, 4096),
                credential(CredentialState::None, None, false),
                log_record(true),
            ],
            ctx("2026-09-01").declare("ca_covered_provider", true),
            Compliant,
            "generation gen-0042",
        ),
        case(
            "US-CA-SB942",
            "stripped image, no log record",
            vec![
                content("image/png", 9000),
                watermark(true, 4096),
                credential(CredentialState::None, None, false),
                search(Topic::Log, "log log.example/tracemark", 0),
            ],
            ctx("2026-09-01").declare("ca_covered_provider", true),
            NonCompliant,
            "no generation record was found",
        ),
        case(
            "US-CA-SB942",
            "proof not verified",
            vec![
                content("image/png", 9000),
                watermark(true, 4096),
                credential(CredentialState::None, None, false),
                log_record(false),
            ],
            ctx("2026-09-01").declare("ca_covered_provider", true),
            Undetermined,
            "inclusion proof was not verified",
        ),
        case(
            "US-CA-SB942",
            "provider size unknown",
            vec![content("image/png", 9000), watermark(true, 4096)],
            ctx("2026-09-01"),
            Undetermined,
            "covered provider",
        ),
        case(
            "US-CA-SB942",
            "day before operation",
            vec![content("image/png", 9000), watermark(true, 4096)],
            ctx("2026-08-01").declare("ca_covered_provider", true),
            NotYetApplicable,
            "2 August 2026",
        ),
        // US-DMCA-1202
        case(
            "US-DMCA-1202",
            "attribution kept",
            vec![
                text(300),
                span(
                    0,
                    120,
                    doc("doc-9", Some("Jane Doe"), Some("CC BY 4.0"), None),
                ),
                attribution("doc-9", true),
            ],
            ctx("2026-10-01"),
            Compliant,
            "attributes doc-9 (Jane Doe)",
        ),
        case(
            "US-DMCA-1202",
            "attribution removed",
            vec![
                text(300),
                span(
                    0,
                    120,
                    doc("doc-9", Some("Jane Doe"), Some("CC BY 4.0"), None),
                ),
                attribution("doc-9", false),
            ],
            ctx("2026-10-01"),
            NonCompliant,
            "knowledge cannot be established",
        ),
        case(
            "US-DMCA-1202",
            "removal authorised",
            vec![
                text(300),
                span(0, 120, doc("doc-9", Some("Jane Doe"), None, None)),
                attribution("doc-9", false),
            ],
            ctx("2026-10-01").declare("rights_holder_authorised", true),
            Exempt,
            "authorised",
        ),
        case(
            "US-DMCA-1202",
            "attribution not examined",
            vec![
                text(300),
                span(0, 120, doc("doc-9", Some("Jane Doe"), None, None)),
            ],
            ctx("2026-10-01"),
            Undetermined,
            "was not examined",
        ),
        case(
            "US-DMCA-1202",
            "source without CMI",
            vec![text(300), span(0, 120, doc("doc-10", None, None, None))],
            ctx("2026-10-01"),
            NotApplicable,
            "no source document names an owner",
        ),
        // BERNE-6BIS
        case(
            "BERNE-6BIS",
            "author named",
            vec![
                text(300),
                span(0, 120, doc("doc-9", Some("Jane Doe"), None, None)),
                attribution("doc-9", true),
            ],
            ctx("2026-10-01"),
            Compliant,
            "attributes",
        ),
        case(
            "BERNE-6BIS",
            "author not named",
            vec![
                text(300),
                span(0, 120, doc("doc-9", Some("Jane Doe"), None, None)),
                attribution("doc-9", false),
            ],
            ctx("2026-10-01"),
            NonCompliant,
            "does not attribute doc-9",
        ),
        case(
            "BERNE-6BIS",
            "nothing reproduced",
            vec![text(300), search(Topic::Trace, "index demo-corpus", 0)],
            ctx("2026-10-01"),
            NotApplicable,
            "no span",
        ),
        case(
            "BERNE-6BIS",
            "not traced",
            vec![text(300)],
            ctx("2026-10-01"),
            Undetermined,
            "not traced",
        ),
    ]
}

#[test]
fn every_rule_reaches_the_expected_outcome() {
    let catalogue = Catalogue::embedded();
    let mut failures = Vec::new();
    for c in cases() {
        let rule = catalogue
            .get(c.rule)
            .unwrap_or_else(|| panic!("no rule {}", c.rule));
        let results = catalogue.evaluate(&c.facts, &c.ctx);
        let r = results
            .iter()
            .find(|r| r.id == rule.id())
            .expect("every rule is evaluated under all jurisdictions");
        if r.outcome != c.expect || !r.reason.contains(c.says) {
            failures.push(format!(
                "{} / {}: expected {} saying {:?}, got {}: {}",
                c.rule, c.name, c.expect, c.says, r.outcome, r.reason
            ));
        }
        for &i in &r.facts {
            assert!(
                i < c.facts.len(),
                "{} cites fact {i} of {}",
                c.rule,
                c.facts.len()
            );
        }
        assert!(r.reason.ends_with('.'), "{}: {}", c.rule, r.reason);
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_rule_has_a_test_for_each_outcome_it_can_reach() {
    let mut covered: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for c in cases() {
        covered.entry(c.rule).or_default().insert(c.expect.code());
    }
    for rule in Catalogue::embedded().rules() {
        let have = covered.get(rule.id()).cloned().unwrap_or_default();
        for outcome in rule.possible_outcomes() {
            assert!(
                have.contains(outcome.code()),
                "rule {} has no test reaching {outcome}",
                rule.id()
            );
        }
    }
}

#[test]
fn missing_facts_never_make_a_rule_compliant() {
    for as_of in ["2026-01-01", "2027-01-01"] {
        for r in evaluate(&[], &ctx(as_of)) {
            assert!(
                matches!(r.outcome, Outcome::Undetermined | Outcome::NotYetApplicable),
                "{} is {} on no facts: {}",
                r.id,
                r.outcome,
                r.reason
            );
        }
        for results in [
            evaluate(&[text(300)], &ctx(as_of)),
            evaluate(
                &[
                    text(300),
                    unestablished(Topic::Watermark, "no key"),
                    unestablished(Topic::Credential, "unreadable"),
                    unestablished(Topic::Log, "no log"),
                    unestablished(Topic::Trace, "no index"),
                    unestablished(Topic::Rights, "no signals"),
                ],
                &ctx(as_of).with_ai_generated(true),
            ),
        ] {
            for r in results {
                assert!(
                    !matches!(r.outcome, Outcome::Compliant | Outcome::Exempt),
                    "{} is {} on unknown facts: {}",
                    r.id,
                    r.outcome,
                    r.reason
                );
            }
        }
    }
}

#[test]
fn jurisdictions_select_rules() {
    let facts = [text(300), watermark(true, 300)];
    let eu = evaluate(
        &facts,
        &ctx("2026-09-01").with_jurisdictions([Jurisdiction::Eu]),
    );
    assert!(eu.iter().all(|r| r.jurisdiction == Jurisdiction::Eu));
    assert!(eu.iter().any(|r| r.id == "EU-AIA-50-2"));
    let two = evaluate(
        &facts,
        &ctx("2026-09-01").with_jurisdictions([Jurisdiction::Cn, Jurisdiction::UsCa]),
    );
    let ids: Vec<&str> = two.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["CN-LBL-4", "CN-LBL-5", "US-CA-SB942"]);
    assert_eq!(
        evaluate(&facts, &ctx("2026-09-01")).len(),
        Catalogue::embedded().rules().len()
    );
}

#[test]
fn outcomes_cite_the_facts_they_rest_on() {
    let facts = vec![text(300), watermark(false, 300), watermark(true, 300)];
    let r = evaluate(&facts, &ctx("2027-01-01").with_kind(ContentKind::Text))
        .into_iter()
        .find(|r| r.id == "EU-AIA-50-2")
        .unwrap();
    assert_eq!(r.outcome, Outcome::Compliant);
    assert_eq!(r.facts, vec![2]);
    let r = evaluate(&facts[..2], &ctx("2027-01-01").with_ai_generated(true))
        .into_iter()
        .find(|r| r.id == "EU-AIA-50-2")
        .unwrap();
    assert_eq!(r.outcome, Outcome::NonCompliant);
    assert_eq!(r.facts, vec![0, 1]);
    assert!(
        r.context.contains(&"ai_generated".to_owned()),
        "{:?}",
        r.context
    );
}
