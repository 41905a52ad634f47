//! Every rule of the catalogue against scenarios covering each outcome it can reach,
//! including the boundaries of its dates of application. Cases marked `// issue 20:` are
//! the errors of the catalogue that issue 20 lists, each failing before its fix.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use tracemark_core::{
    Fact,
    fact::{
        CredentialState, DetectorAccess, MarkKind, Medium, MiningPurpose, OrganisationType,
        PartyRole, Topic,
    },
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

fn image() -> Fact {
    content("image/png", 50_000)
}

fn html() -> Fact {
    content("text/html; charset=utf-8", 4_000)
}

/// Facts plus more facts.
fn with(mut facts: Vec<Fact>, more: impl IntoIterator<Item = Fact>) -> Vec<Fact> {
    facts.extend(more);
    facts
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
    reserved_by(&["tdmrep", "robots"])
}

/// doc-7, collected 2026-03-01, reserved since 2026-01-01 by these signals.
fn reserved_by(signals: &[&str]) -> Vec<Fact> {
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
        rights_by(
            "doc-7",
            AiUse::Tdm,
            Permission::Disallowed,
            Some("2026-01-01T00:00:00Z"),
            signals,
        ),
    ]
}

fn research(kind: OrganisationType, access: Option<bool>, purpose: MiningPurpose) -> Fact {
    mining(Some(kind), access, Some(purpose))
}

fn university() -> Fact {
    research(
        OrganisationType::ResearchOrganisation,
        Some(true),
        MiningPurpose::ScientificResearch,
    )
}

fn trusted_ai_credential() -> Fact {
    credential(
        CredentialState::Trusted,
        Some("trainedAlgorithmicMedia"),
        false,
    )
}

/// Removed after generation; `by` is who removed it (`None`: not known).
fn removed(mark: MarkKind, by: Option<PartyRole>) -> Fact {
    history(mark, Some(by))
}

fn cases() -> Vec<Case> {
    [
        eu_aia_50_2(),
        eu_aia_50_2_containers_and_removal(),
        eu_aia_50_2_nr(),
        eu_aia_50_4(),
        eu_aia_53_1_c(),
        eu_aia_53_1_d(),
        eu_dsm_3(),
        eu_dsm_4_3(),
        eu_infosoc_7(),
        cn_lbl_4(),
        cn_lbl_5(),
        cn_lbl_10(),
        us_ca_sb942(),
        us_ca_ab853_platform(),
        us_dmca_1202(),
        us_dmca_1202_removal(),
        us_copyright_human(),
        kr_aiba_31(),
        berne_6bis(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn eu_aia_50_2() -> Vec<Case> {
    use Outcome::*;
    let legacy = date("2026-01-15");
    let new = date("2026-08-10");
    let free = || detector(MarkKind::Watermark, DetectorAccess::Free);
    let r = "EU-AIA-50-2";
    vec![
        case(
            r,
            "watermarked text with a free detector, first day of application",
            vec![text(300), watermark(true, 300), free()],
            ctx("2026-08-02").with_placed_on_market(new),
            Compliant,
            "kgw-selfhash-v1 watermark",
        ),
        case(
            r,
            "stripped credential, watermark still detected",
            vec![
                text(300),
                watermark(true, 300),
                credential(CredentialState::None, None, false),
                free(),
            ],
            ctx("2027-01-01"),
            Compliant,
            "free of charge to anyone",
        ),
        // issue 20: marked, but no fact says a detector is available to anyone.
        case(
            r,
            "watermarked text, detector availability not established",
            vec![text(300), watermark(true, 300)],
            ctx("2027-01-01"),
            Undetermined,
            "whether a detector for the watermark is offered to others",
        ),
        case(
            r,
            "watermarked text, the provider offers no detector",
            vec![
                text(300),
                watermark(true, 300),
                detector(MarkKind::Watermark, DetectorAccess::None),
            ],
            ctx("2027-01-01"),
            NonCompliant,
            "no detector for the watermark is offered",
        ),
        case(
            r,
            "watermarked text, detector on request",
            vec![
                text(300),
                watermark(true, 300),
                detector(MarkKind::Watermark, DetectorAccess::OnRequest),
            ],
            ctx("2027-01-01"),
            Compliant,
            "on request only",
        ),
        case(
            r,
            "unmarked text, legacy system on the last grace day's morrow",
            vec![text(300), watermark(false, 300), free()],
            ctx("2026-12-02")
                .with_ai_generated(true)
                .with_placed_on_market(legacy),
            NonCompliant,
            "no watermark was detected",
        ),
        case(
            r,
            "day before application",
            vec![text(300), watermark(false, 300)],
            ctx("2026-08-01").with_ai_generated(true),
            NotYetApplicable,
            "2 August 2026",
        ),
        case(
            r,
            "legacy system, last day of grace",
            vec![text(300), watermark(false, 300)],
            ctx("2026-12-01")
                .with_ai_generated(true)
                .with_placed_on_market(legacy),
            NotYetApplicable,
            "2 December 2026",
        ),
        case(
            r,
            "new system in the grace window is bound",
            vec![text(300), watermark(false, 300), free()],
            ctx("2026-09-01")
                .with_ai_generated(true)
                .with_placed_on_market(new),
            NonCompliant,
            "was not marked",
        ),
        case(
            r,
            "grace window, market entry unknown",
            vec![text(300), watermark(false, 300)],
            ctx("2026-09-01").with_ai_generated(true),
            Undetermined,
            "placed on the EU market was not given",
        ),
        case(
            r,
            "source code is out of scope",
            vec![content("text/x-python", 4000)],
            ctx("2027-01-01").with_ai_generated(true),
            NotApplicable,
            "source code",
        ),
        case(
            r,
            "human text, declared and unmarked",
            vec![text(300), watermark(false, 300)],
            ctx("2027-01-01").with_ai_generated(false),
            NotApplicable,
            "not AI-generated",
        ),
        // issue 20: the threshold is the Code's, and the outcome says so.
        case(
            r,
            "short text is under the Code's threshold, not the Act's",
            vec![text(120), watermark(false, 110)],
            ctx("2027-01-01").with_ai_generated(true).with_tokens(120),
            Exempt,
            "This is the Code's threshold, not the Act's",
        ),
        case(
            r,
            "length unknown, short detector window",
            vec![text(150), watermark(false, 150), free()],
            ctx("2027-01-01").with_ai_generated(true),
            Undetermined,
            "length of the text in tokens was not established",
        ),
        case(
            r,
            "no detection run",
            vec![text(300), free()],
            ctx("2027-01-01").with_ai_generated(true).with_tokens(300),
            Undetermined,
            "no watermark detection was run",
        ),
        case(
            r,
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
            r,
            "origin unknown",
            vec![text(300)],
            ctx("2027-01-01"),
            Undetermined,
            "no one stated it",
        ),
        case(
            r,
            "image with both layers",
            with(
                vec![image(), watermark(true, 4096), trusted_ai_credential()],
                detectors(),
            ),
            ctx("2027-01-01"),
            Compliant,
            "signed by Example AI Ltd",
        ),
        case(
            r,
            "image with both layers: the credential and the image watermark",
            with(
                vec![
                    image(),
                    watermark_in(Medium::Image, true, 4096),
                    trusted_ai_credential(),
                ],
                detectors(),
            ),
            ctx("2027-01-01"),
            Compliant,
            "image watermark",
        ),
        case(
            r,
            "image whose only watermark is a text mark: not the image's",
            with(
                vec![
                    image(),
                    watermark_in(Medium::Text, true, 4096),
                    trusted_ai_credential(),
                ],
                detectors(),
            ),
            ctx("2027-01-01"),
            NonCompliant,
            "no watermark was detected",
        ),
        case(
            r,
            "image with the watermark only",
            with(
                vec![
                    image(),
                    watermark(true, 4096),
                    credential(CredentialState::None, None, false),
                ],
                detectors(),
            ),
            ctx("2027-01-01"),
            NonCompliant,
            "no content credential was found",
        ),
        case(
            r,
            "image with a tampered credential",
            with(
                vec![
                    image(),
                    watermark(true, 4096),
                    credential(CredentialState::Tampered, None, false),
                ],
                detectors(),
            ),
            ctx("2027-01-01"),
            NonCompliant,
            "hash binding mismatch",
        ),
        case(
            r,
            "image whose credential has no trusted time-stamp",
            with(
                vec![
                    image(),
                    watermark(true, 4096),
                    with_credential(trusted_ai_credential(), |c| c.time_stamped_at = None),
                ],
                detectors(),
            ),
            ctx("2027-01-01"),
            NonCompliant,
            "no trusted time-stamp",
        ),
        case(
            r,
            "standard editing claimed",
            vec![text(300), watermark(false, 300)],
            ctx("2027-01-01")
                .with_ai_generated(true)
                .declare("standard_editing", true),
            Exempt,
            "standard editing",
        ),
    ]
}

/// Text in containers, and marks removed after generation: the provider's duty is judged
/// at generation, not against a later removal.
fn eu_aia_50_2_containers_and_removal() -> Vec<Case> {
    use Outcome::*;
    let r = "EU-AIA-50-2";
    vec![
        // issue 20: HTML was free text, for which a watermark alone sufficed.
        case(
            r,
            "HTML with a watermark only lacks the metadata layer",
            with(
                vec![
                    html(),
                    watermark(true, 900),
                    credential(CredentialState::None, None, false),
                ],
                detectors(),
            ),
            ctx("2027-01-01"),
            NonCompliant,
            "no content credential was found",
        ),
        case(
            r,
            "PDF with both layers",
            with(
                vec![
                    content("application/pdf", 80_000),
                    watermark(true, 900),
                    trusted_ai_credential(),
                ],
                detectors(),
            ),
            ctx("2027-01-01"),
            Compliant,
            "text in a document container",
        ),
        // issue 20: a platform stripped the provider's credential; the provider marked.
        case(
            r,
            "credential stripped by a platform after generation",
            with(
                vec![
                    image(),
                    watermark(true, 4096),
                    credential(CredentialState::None, None, false),
                    removed(MarkKind::Credential, Some(PartyRole::Platform)),
                ],
                detectors(),
            ),
            ctx("2027-01-01"),
            Compliant,
            "removed afterwards by Example Social (platform)",
        ),
        case(
            r,
            "credential removed after generation by someone not identified",
            with(
                vec![
                    image(),
                    watermark(true, 4096),
                    credential(CredentialState::None, None, false),
                    removed(MarkKind::Credential, None),
                ],
                detectors(),
            ),
            ctx("2027-01-01"),
            Compliant,
            "someone not identified",
        ),
        case(
            r,
            "credential removed by the provider itself",
            with(
                vec![
                    image(),
                    watermark(true, 4096),
                    credential(CredentialState::None, None, false),
                    removed(MarkKind::Credential, Some(PartyRole::Provider)),
                ],
                detectors(),
            ),
            ctx("2027-01-01"),
            NonCompliant,
            "the provider itself removed the content credential",
        ),
        case(
            r,
            "text whose watermark a user edited away after generation",
            vec![
                text(300),
                watermark(false, 300),
                removed(MarkKind::Watermark, Some(PartyRole::User)),
                detector(MarkKind::Watermark, DetectorAccess::Free),
            ],
            ctx("2027-01-01").with_ai_generated(true),
            Compliant,
            "the output carried a watermark when it was generated",
        ),
    ]
}

fn eu_aia_50_2_nr() -> Vec<Case> {
    use Outcome::*;
    let r = "EU-AIA-50-2-NR";
    let signatory = |as_of: &str| {
        ctx(as_of)
            .declare("code_of_practice_signatory", true)
            .declare("removal_prohibited_in_terms", true)
    };
    vec![
        case(
            r,
            "signatory's output keeps its credential",
            vec![image(), trusted_ai_credential()],
            signatory("2026-09-01"),
            Compliant,
            "a commitment under the Code of Practice (not a statutory duty)",
        ),
        case(
            r,
            "a platform removed it: not the signatory's breach",
            vec![
                image(),
                credential(CredentialState::None, None, false),
                removed(MarkKind::Credential, Some(PartyRole::Platform)),
            ],
            signatory("2026-09-01"),
            Compliant,
            "not by a provider",
        ),
        case(
            r,
            "the signatory's own system removed it",
            vec![
                image(),
                credential(CredentialState::None, None, false),
                removed(MarkKind::Credential, Some(PartyRole::Provider)),
            ],
            signatory("2026-09-01"),
            NonCompliant,
            "not a statutory duty",
        ),
        case(
            r,
            "terms do not prohibit removal",
            vec![image(), trusted_ai_credential()],
            signatory("2026-09-01").declare("removal_prohibited_in_terms", false),
            NonCompliant,
            "terms of use prohibit",
        ),
        case(
            r,
            "removed, remover not stated",
            vec![
                image(),
                credential(CredentialState::None, None, false),
                removed(MarkKind::Credential, None),
            ],
            signatory("2026-09-01"),
            Undetermined,
            "who removed it is not stated",
        ),
        case(
            r,
            "not a signatory",
            vec![image(), trusted_ai_credential()],
            ctx("2026-09-01").declare("code_of_practice_signatory", false),
            NotApplicable,
            "signatories only",
        ),
        case(
            r,
            "before Art. 50 applies",
            vec![image(), trusted_ai_credential()],
            signatory("2026-08-01"),
            NotYetApplicable,
            "2 August 2026",
        ),
    ]
}

fn eu_aia_50_4() -> Vec<Case> {
    use Outcome::*;
    let r = "EU-AIA-50-4";
    vec![
        case(
            r,
            "labelled public-interest text",
            vec![text(300), watermark(true, 300), disclosure(true)],
            ctx("2026-08-02").declare("public_interest_text", true),
            Compliant,
            "AI生成",
        ),
        case(
            r,
            "unlabelled public-interest text",
            vec![text(300), watermark(true, 300), disclosure(false)],
            ctx("2026-10-01").declare("public_interest_text", true),
            NonCompliant,
            "no perceptible AI label",
        ),
        case(
            r,
            "editorial responsibility",
            vec![text(300), watermark(true, 300), disclosure(false)],
            ctx("2026-10-01")
                .declare("public_interest_text", true)
                .with_editorial(editor()),
            Exempt,
            "Maria Rossi",
        ),
        case(
            r,
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
            r,
            "private text",
            vec![text(300), watermark(true, 300)],
            ctx("2026-10-01").declare("public_interest_text", false),
            NotApplicable,
            "not engaged",
        ),
        case(
            r,
            "purpose of publication unknown",
            vec![text(300), watermark(true, 300)],
            ctx("2026-10-01"),
            Undetermined,
            "it was not stated whether the text is published",
        ),
        case(
            r,
            "day before application, no grace for 50(4)",
            vec![text(300), watermark(true, 300), disclosure(false)],
            ctx("2026-08-01")
                .declare("public_interest_text", true)
                .with_placed_on_market(date("2026-01-01")),
            NotYetApplicable,
            "2 August 2026",
        ),
        case(
            r,
            "legacy system in the 50(2) grace window is bound by 50(4)",
            vec![text(300), watermark(true, 300), disclosure(false)],
            ctx("2026-09-01")
                .declare("public_interest_text", true)
                .with_placed_on_market(date("2026-01-01")),
            NonCompliant,
            "does not disclose",
        ),
    ]
}

fn eu_aia_53_1_c() -> Vec<Case> {
    use Outcome::*;
    let r = "EU-AIA-53-1-C";
    let gpai = |as_of: &str| {
        ctx(as_of)
            .declare("gpai_model", true)
            .declare("copyright_policy", true)
            .with_placed_on_market(date("2025-09-01"))
    };
    vec![
        case(
            r,
            "policy stated, trace clean",
            vec![text(300), search(Topic::Trace, "index demo-corpus", 0)],
            gpai("2026-01-01"),
            Compliant,
            "no span of the content occurs in index demo-corpus",
        ),
        // issue 20: one document is evidence about the policy, and the outcome says so.
        case(
            r,
            "reserved document reproduced",
            reserved_source(),
            gpai("2026-04-01"),
            NonCompliant,
            "evidence that the provider's copyright policy did not identify or comply with that reservation",
        ),
        // issue 20: Art. 4(3) said compliant with a licence, Art. 53(1)(c) non-compliant.
        case(
            r,
            "reserved document, licence held",
            reserved_source(),
            gpai("2026-04-01").declare("licensed", true),
            Compliant,
            "holds a licence",
        ),
        case(
            r,
            "reserved document mined under the research exception",
            with(reserved_source(), [university()]),
            gpai("2026-04-01"),
            Compliant,
            "research organisation",
        ),
        case(
            r,
            "reserved only in the terms of service",
            reserved_by(&["terms-of-service"]),
            gpai("2026-04-01"),
            Undetermined,
            "contested",
        ),
        case(
            r,
            "reserved document, policy unknown",
            reserved_source(),
            ctx("2026-04-01")
                .declare("gpai_model", true)
                .with_placed_on_market(date("2025-09-01")),
            NonCompliant,
            "reserved",
        ),
        case(
            r,
            "policy stated, not traced",
            vec![text(300)],
            gpai("2026-04-01"),
            Undetermined,
            "not traced",
        ),
        case(
            r,
            "not a GPAI model",
            vec![text(300)],
            ctx("2026-04-01").declare("gpai_model", false),
            NotApplicable,
            "general-purpose",
        ),
        case(
            r,
            "GPAI status unknown",
            vec![text(300)],
            ctx("2026-04-01"),
            Undetermined,
            "it was not stated whether the model is a general-purpose AI model",
        ),
        case(
            r,
            "day before application",
            reserved_source(),
            ctx("2025-08-01").declare("gpai_model", true),
            NotYetApplicable,
            "2 August 2025",
        ),
        case(
            r,
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
            r,
            "legacy model, end of grace",
            reserved_source(),
            ctx("2027-08-02")
                .declare("gpai_model", true)
                .declare("copyright_policy", true)
                .with_placed_on_market(date("2024-06-01")),
            NonCompliant,
            "reserved",
        ),
    ]
}

fn eu_aia_53_1_d() -> Vec<Case> {
    use Outcome::*;
    let r = "EU-AIA-53-1-D";
    vec![
        case(
            r,
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
            r,
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
            r,
            "summary not stated",
            vec![text(300)],
            ctx("2026-01-01")
                .declare("gpai_model", true)
                .with_placed_on_market(date("2025-09-01")),
            Undetermined,
            "it was not stated whether the provider has published",
        ),
        case(
            r,
            "not a GPAI model",
            vec![text(300)],
            ctx("2026-01-01").declare("gpai_model", false),
            NotApplicable,
            "general-purpose",
        ),
        case(
            r,
            "legacy model in grace",
            vec![text(300)],
            ctx("2026-01-01")
                .declare("gpai_model", true)
                .with_placed_on_market(date("2025-03-01")),
            NotYetApplicable,
            "2 August 2027",
        ),
        case(
            r,
            "grace unknown",
            vec![text(300)],
            ctx("2026-01-01")
                .declare("gpai_model", true)
                .declare("training_summary_published", true),
            Undetermined,
            "grace period",
        ),
    ]
}

fn eu_dsm_3() -> Vec<Case> {
    use Outcome::*;
    let r = "EU-DSM-3";
    vec![
        case(
            r,
            "a university mined lawfully accessed works for research",
            with(reserved_source(), [university()]),
            ctx("2026-10-01"),
            Compliant,
            "Example University is a research organisation (Art. 2(1))",
        ),
        case(
            r,
            "an archive mined them for research",
            with(
                reserved_source(),
                [research(
                    OrganisationType::CulturalHeritageInstitution,
                    Some(true),
                    MiningPurpose::ScientificResearch,
                )],
            ),
            ctx("2026-10-01"),
            Compliant,
            "cultural heritage institution",
        ),
        case(
            r,
            "a company mined them",
            with(
                reserved_source(),
                [research(
                    OrganisationType::Other,
                    Some(true),
                    MiningPurpose::Other,
                )],
            ),
            ctx("2026-10-01"),
            NonCompliant,
            "neither a research organisation nor a cultural heritage institution",
        ),
        case(
            r,
            "a university without lawful access",
            with(
                reserved_source(),
                [research(
                    OrganisationType::ResearchOrganisation,
                    Some(false),
                    MiningPurpose::ScientificResearch,
                )],
            ),
            ctx("2026-10-01"),
            NonCompliant,
            "no lawful access",
        ),
        case(
            r,
            "lawful access not stated",
            with(
                reserved_source(),
                [research(
                    OrganisationType::ResearchOrganisation,
                    None,
                    MiningPurpose::ScientificResearch,
                )],
            ),
            ctx("2026-10-01"),
            Undetermined,
            "whether Example University had lawful access",
        ),
        case(
            r,
            "no one invokes the exception",
            reserved_source(),
            ctx("2026-10-01"),
            NotApplicable,
            "not invoked",
        ),
        case(
            r,
            "before transposition",
            with(reserved_source(), [university()]),
            ctx("2021-06-06"),
            NotYetApplicable,
            "7 June 2021",
        ),
    ]
}

fn eu_dsm_4_3() -> Vec<Case> {
    use Outcome::*;
    let r = "EU-DSM-4-3";
    vec![
        case(
            r,
            "reserved before collection",
            reserved_source(),
            ctx("2026-10-01"),
            NonCompliant,
            "before it was collected on 2026-03-01",
        ),
        // issue 20: any disallowing signal counted, whatever its form.
        case(
            r,
            "reserved only in prose in the terms of service",
            reserved_by(&["terms-of-service"]),
            ctx("2026-10-01"),
            Undetermined,
            "OLG Hamburg (10 December 2025, 5 U 104/24",
        ),
        case(
            r,
            "reserved in prose and by robots.txt",
            reserved_by(&["terms-of-service", "robots"]),
            ctx("2026-10-01"),
            NonCompliant,
            "by terms-of-service, robots",
        ),
        case(
            r,
            "reserved by a signal of unknown form",
            reserved_by(&["a letter to the provider"]),
            ctx("2026-10-01"),
            Undetermined,
            "whose form (machine-readable or prose) is not known",
        ),
        case(
            r,
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
            r,
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
            r,
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
            r,
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
            r,
            "licensed",
            reserved_source(),
            ctx("2026-10-01").declare("licensed", true),
            Compliant,
            "holds a licence",
        ),
        // issue 20: the research exception was an exemption from Art. 4(3).
        case(
            r,
            "the research exception applies instead",
            with(reserved_source(), [university()]),
            ctx("2026-10-01"),
            NotApplicable,
            "Example University is a research organisation",
        ),
        case(
            r,
            "a university mining for a commercial product is under Art. 4",
            with(
                reserved_source(),
                [research(
                    OrganisationType::ResearchOrganisation,
                    Some(true),
                    MiningPurpose::Other,
                )],
            ),
            ctx("2026-10-01"),
            NonCompliant,
            "reserved text and data mining",
        ),
        case(
            r,
            "research exception invoked, lawful access unknown",
            with(
                reserved_source(),
                [research(
                    OrganisationType::ResearchOrganisation,
                    None,
                    MiningPurpose::ScientificResearch,
                )],
            ),
            ctx("2026-10-01"),
            Undetermined,
            "lawful access",
        ),
        case(
            r,
            "nothing reproduced",
            vec![text(300), search(Topic::Trace, "index demo-corpus", 0)],
            ctx("2026-10-01"),
            NotApplicable,
            "index demo-corpus",
        ),
        case(
            r,
            "not traced",
            vec![text(300)],
            ctx("2026-10-01"),
            Undetermined,
            "not traced",
        ),
        case(
            r,
            "before transposition",
            reserved_source(),
            ctx("2021-06-06"),
            NotYetApplicable,
            "7 June 2021",
        ),
    ]
}

/// A human work (stated not AI-generated) whose credential a user removed.
fn work_stripped(by: Option<PartyRole>) -> Vec<Fact> {
    vec![
        image(),
        credential(CredentialState::None, None, false),
        removed(MarkKind::Credential, by),
    ]
}

fn eu_infosoc_7() -> Vec<Case> {
    use Outcome::*;
    let r = "EU-INFOSOC-7";
    let work = || ctx("2026-10-01").with_ai_generated(false);
    vec![
        case(
            r,
            "AI output alone is no work",
            vec![
                image(),
                watermark(true, 4096),
                credential(CredentialState::None, None, false),
                removed(MarkKind::Credential, Some(PartyRole::User)),
            ],
            ctx("2026-10-01").declare("removal_knowing", true),
            NotApplicable,
            "AI output alone is not a work",
        ),
        case(
            r,
            "a user knowingly stripped a work's credential",
            work_stripped(Some(PartyRole::User)),
            work().declare("removal_knowing", true),
            NonCompliant,
            "Someone (user) removed the content credential",
        ),
        case(
            r,
            "knowledge not stated",
            work_stripped(Some(PartyRole::User)),
            work(),
            Undetermined,
            "knew or had reasonable grounds to know",
        ),
        case(
            r,
            "remover not stated",
            work_stripped(None),
            work().declare("removal_knowing", true),
            Undetermined,
            "who removed it is not stated",
        ),
        case(
            r,
            "removed without knowledge of any infringement",
            work_stripped(Some(PartyRole::User)),
            work().declare("removal_knowing", false),
            Compliant,
            "it is stated that it is not so",
        ),
        case(
            r,
            "removal authorised",
            work_stripped(Some(PartyRole::User)),
            work()
                .declare("removal_knowing", true)
                .declare("rights_holder_authorised", true),
            Exempt,
            "authorised",
        ),
        case(
            r,
            "the work still carries its credential",
            vec![
                image(),
                trusted_ai_credential(),
                history(MarkKind::Credential, None),
            ],
            work(),
            NotApplicable,
            "still carries",
        ),
    ]
}

fn cn_lbl_4() -> Vec<Case> {
    use Outcome::*;
    let r = "CN-LBL-4";
    let synthesis = |as_of: &str| ctx(as_of).declare("cn_deep_synthesis_service", true);
    vec![
        case(
            r,
            "labelled",
            vec![text(300), watermark(true, 300), disclosure(true)],
            synthesis("2025-09-01"),
            Compliant,
            "AI生成",
        ),
        case(
            r,
            "unlabelled",
            vec![text(300), watermark(true, 300), disclosure(false)],
            synthesis("2025-09-01"),
            NonCompliant,
            "no perceptible AI label",
        ),
        // issue 20: Art. 4 covers the deep-synthesis cases only, not all AI content.
        case(
            r,
            "AI content of a service outside the deep-synthesis cases",
            vec![text(300), watermark(true, 300), disclosure(false)],
            ctx("2025-09-01").declare("cn_deep_synthesis_service", false),
            NotApplicable,
            "Art. 17(1) of the Deep Synthesis Provisions",
        ),
        case(
            r,
            "whether the service is a deep-synthesis case is not stated",
            vec![text(300), watermark(true, 300), disclosure(false)],
            ctx("2025-09-01"),
            Undetermined,
            "Art. 17(1) of the Provisions",
        ),
        case(
            r,
            "label removed by a platform after generation",
            vec![
                text(300),
                watermark(true, 300),
                disclosure(false),
                removed(MarkKind::Disclosure, Some(PartyRole::Platform)),
            ],
            synthesis("2025-09-01"),
            Compliant,
            "removed afterwards by Example Social (platform)",
        ),
        case(
            r,
            "unlabelled on request",
            vec![text(300), watermark(true, 300), disclosure(false)],
            synthesis("2025-09-01").declare("cn_unlabelled_on_request", true),
            Exempt,
            "six months",
        ),
        case(
            r,
            "not examined for a label",
            vec![text(300), watermark(true, 300)],
            synthesis("2025-09-01"),
            Undetermined,
            "not examined",
        ),
        case(
            r,
            "human text",
            vec![text(300), watermark(false, 300)],
            synthesis("2025-09-01").with_ai_generated(false),
            NotApplicable,
            "not engaged",
        ),
        case(
            r,
            "day before the Measures",
            vec![text(300), watermark(true, 300), disclosure(false)],
            synthesis("2025-08-31"),
            NotYetApplicable,
            "1 September 2025",
        ),
    ]
}

fn cn_lbl_5() -> Vec<Case> {
    use Outcome::*;
    let r = "CN-LBL-5";
    vec![
        case(
            r,
            "AIGC label present with its elements",
            vec![
                image(),
                credential(
                    CredentialState::Untrusted,
                    Some("trainedAlgorithmicMedia"),
                    true,
                ),
            ],
            ctx("2025-09-01"),
            Compliant,
            "Label 1, producer 001191110102MAD55U9H0F10002",
        ),
        case(
            r,
            "AIGC label without a producer",
            vec![
                image(),
                with_credential(
                    credential(
                        CredentialState::Untrusted,
                        Some("trainedAlgorithmicMedia"),
                        true,
                    ),
                    |c| c.aigc.as_mut().unwrap().content_producer.clear(),
                ),
            ],
            ctx("2025-09-01"),
            NonCompliant,
            "it names no content producer",
        ),
        case(
            r,
            "AIGC label present, fields not read",
            vec![
                image(),
                with_credential(
                    credential(
                        CredentialState::Untrusted,
                        Some("trainedAlgorithmicMedia"),
                        true,
                    ),
                    |c| c.aigc = None,
                ),
            ],
            ctx("2025-09-01"),
            Undetermined,
            "its fields were not read",
        ),
        case(
            r,
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
            r,
            "AIGC label stripped by a platform after generation",
            vec![
                image(),
                watermark(true, 4096),
                credential(CredentialState::None, None, false),
                removed(MarkKind::AigcLabel, Some(PartyRole::Platform)),
            ],
            ctx("2026-01-01"),
            Compliant,
            "the output carried an AIGC implicit label when it was generated",
        ),
        case(
            r,
            "metadata not examined",
            vec![text(300), watermark(true, 300)],
            ctx("2026-01-01"),
            Undetermined,
            "not examined",
        ),
        case(
            r,
            "human text",
            vec![text(300)],
            ctx("2026-01-01").with_ai_generated(false),
            NotApplicable,
            "AI-generated content",
        ),
        case(
            r,
            "day before the Measures",
            vec![text(300), watermark(true, 300)],
            ctx("2025-08-31"),
            NotYetApplicable,
            "1 September 2025",
        ),
    ]
}

/// AI image whose AIGC label someone removed.
fn label_stripped(by: Option<PartyRole>) -> Vec<Fact> {
    vec![
        image(),
        watermark(true, 4096),
        credential(CredentialState::None, None, false),
        removed(MarkKind::AigcLabel, by),
    ]
}

fn cn_lbl_10() -> Vec<Case> {
    use Outcome::*;
    let r = "CN-LBL-10";
    vec![
        case(
            r,
            "a platform removed the label maliciously",
            label_stripped(Some(PartyRole::Platform)),
            ctx("2026-01-01").declare("removal_malicious", true),
            NonCompliant,
            "Example Social (platform) removed the AIGC implicit label",
        ),
        case(
            r,
            "malice not stated",
            label_stripped(Some(PartyRole::Platform)),
            ctx("2026-01-01"),
            Undetermined,
            "maliciously",
        ),
        case(
            r,
            "remover not stated",
            label_stripped(None),
            ctx("2026-01-01").declare("removal_malicious", true),
            Undetermined,
            "who removed it is not stated",
        ),
        case(
            r,
            "removed, not maliciously",
            label_stripped(Some(PartyRole::User)),
            ctx("2026-01-01").declare("removal_malicious", false),
            Compliant,
            "it is stated that it is not so",
        ),
        case(
            r,
            "labels intact",
            vec![
                image(),
                credential(
                    CredentialState::Trusted,
                    Some("trainedAlgorithmicMedia"),
                    true,
                ),
                disclosure(true),
            ],
            ctx("2026-01-01"),
            Compliant,
            "the content carries an AIGC implicit label",
        ),
        case(
            r,
            "no record of the labels",
            vec![text(300), watermark(true, 300)],
            ctx("2026-01-01"),
            Undetermined,
            "no record shows whether the content carried an AIGC implicit label",
        ),
        case(
            r,
            "human content",
            vec![text(300)],
            ctx("2026-01-01").with_ai_generated(false),
            NotApplicable,
            "AI-generated content",
        ),
        case(
            r,
            "day before the Measures",
            label_stripped(Some(PartyRole::Platform)),
            ctx("2025-08-31").declare("removal_malicious", true),
            NotYetApplicable,
            "1 September 2025",
        ),
    ]
}

/// An image with a credential stating SB 942's latent disclosure.
fn disclosed_image(watermarked: bool) -> Vec<Fact> {
    vec![
        image(),
        watermark(watermarked, 4096),
        with_credential(trusted_ai_credential(), |c| {
            c.latent_disclosure = Some(Box::new(latent_disclosure()))
        }),
    ]
}

fn us_ca_sb942() -> Vec<Case> {
    use Outcome::*;
    let r = "US-CA-SB942";
    let covered = |as_of: &str| ctx(as_of).declare("ca_covered_provider", true);
    vec![
        case(
            r,
            "text is not covered",
            vec![text(300), watermark(true, 300)],
            covered("2026-09-01"),
            NotApplicable,
            "free-form text",
        ),
        case(
            r,
            "credential with every element and a watermark",
            disclosed_image(true),
            covered("2026-08-02"),
            Compliant,
            "the content credential states a unique identifier: gen-0042",
        ),
        // issue 20: a C2PA credential alone satisfied the rule.
        case(
            r,
            "credential alone is not permanent",
            disclosed_image(false),
            covered("2026-09-01"),
            NonCompliant,
            "metadata alone is easily stripped",
        ),
        case(
            r,
            "credential without a unique identifier",
            vec![
                image(),
                watermark(true, 4096),
                with_credential(trusted_ai_credential(), |c| c.manifest_id = None),
            ],
            covered("2026-09-01"),
            NonCompliant,
            "does not state a unique identifier",
        ),
        case(
            r,
            "stripped image, watermark leads to the log",
            vec![
                image(),
                watermark(true, 4096),
                credential(CredentialState::None, None, false),
                removed(MarkKind::Credential, Some(PartyRole::Platform)),
                log_record(true),
            ],
            covered("2026-09-01"),
            Compliant,
            "generation record 41 of log log.example/tracemark (reached by the watermark's payload) states a unique identifier: gen-0042",
        ),
        case(
            r,
            "stripped image, its image watermark leads to the log: permanent",
            vec![
                image(),
                watermark_in(Medium::Image, true, 4608),
                credential(CredentialState::None, None, false),
                removed(MarkKind::Credential, Some(PartyRole::Platform)),
                log_record(true),
            ],
            covered("2026-09-01"),
            Compliant,
            "a watermark in the content itself carries the disclosure's link",
        ),
        case(
            r,
            "an image whose only watermark is a text mark: not permanent",
            vec![
                image(),
                watermark_in(Medium::Text, true, 4096),
                with_credential(trusted_ai_credential(), |c| {
                    c.latent_disclosure = Some(Box::new(latent_disclosure()))
                }),
            ],
            covered("2026-09-01"),
            NonCompliant,
            "metadata alone is easily stripped",
        ),
        case(
            r,
            "stripped image, no log record",
            vec![
                image(),
                watermark(true, 4096),
                credential(CredentialState::None, None, false),
                search(Topic::Log, "log log.example/tracemark", 0),
            ],
            covered("2026-09-01"),
            NonCompliant,
            "no generation record was found",
        ),
        case(
            r,
            "proof not verified",
            vec![
                image(),
                watermark(true, 4096),
                credential(CredentialState::None, None, false),
                removed(MarkKind::Credential, None),
                log_record(false),
            ],
            covered("2026-09-01"),
            Undetermined,
            "inclusion proof was not verified",
        ),
        case(
            r,
            "provider size unknown",
            vec![image(), watermark(true, 4096)],
            ctx("2026-09-01"),
            Undetermined,
            "covered provider",
        ),
        case(
            r,
            "day before operation",
            vec![image(), watermark(true, 4096)],
            covered("2026-08-01"),
            NotYetApplicable,
            "2 August 2026",
        ),
    ]
}

fn us_ca_ab853_platform() -> Vec<Case> {
    use Outcome::*;
    let r = "US-CA-AB853-PLATFORM";
    let stripped = |by: Option<PartyRole>| {
        vec![
            image(),
            credential(CredentialState::None, None, false),
            removed(MarkKind::Credential, by),
        ]
    };
    vec![
        case(
            r,
            "a large platform knowingly stripped the credential",
            stripped(Some(PartyRole::Platform)),
            ctx("2027-01-01")
                .declare("ca_large_online_platform", true)
                .declare("platform_strip_knowing", true),
            NonCompliant,
            "large online platform",
        ),
        case(
            r,
            "a small platform stripped it",
            stripped(Some(PartyRole::Platform)),
            ctx("2027-01-01").declare("ca_large_online_platform", false),
            Compliant,
            "it is stated that it is not so that the platform is a large online platform",
        ),
        case(
            r,
            "platform size and knowledge not stated",
            stripped(Some(PartyRole::Platform)),
            ctx("2027-01-01"),
            Undetermined,
            "it was not stated whether the platform is a large online platform",
        ),
        // issue 20: who removed it decides whom the rule binds.
        case(
            r,
            "a user stripped it before upload",
            stripped(Some(PartyRole::User)),
            ctx("2027-01-01").declare("ca_large_online_platform", true),
            NotApplicable,
            "not by a platform",
        ),
        case(
            r,
            "remover not stated",
            stripped(None),
            ctx("2027-01-01").declare("ca_large_online_platform", true),
            Undetermined,
            "who removed it is not stated",
        ),
        case(
            r,
            "the credential is intact",
            vec![image(), trusted_ai_credential()],
            ctx("2027-01-01"),
            NotApplicable,
            "the content carries a content credential",
        ),
        case(
            r,
            "before 1 January 2027",
            stripped(Some(PartyRole::Platform)),
            ctx("2026-12-31")
                .declare("ca_large_online_platform", true)
                .declare("platform_strip_knowing", true),
            NotYetApplicable,
            "1 January 2027",
        ),
    ]
}

/// A text reproducing doc-9, which names its author and licence.
fn reproduces_doc9(attributed: Option<bool>) -> Vec<Fact> {
    let mut facts = vec![
        text(300),
        span(
            0,
            120,
            doc("doc-9", Some("Jane Doe"), Some("CC BY 4.0"), None),
        ),
    ];
    facts.extend(attributed.map(|a| attribution("doc-9", a)));
    facts
}

fn us_dmca_1202() -> Vec<Case> {
    use Outcome::*;
    let r = "US-DMCA-1202";
    let both = || {
        ctx("2026-10-01")
            .declare("cmi_conveyed", true)
            .declare("removal_knowing", true)
    };
    vec![
        case(
            r,
            "attribution kept",
            reproduces_doc9(Some(true)),
            ctx("2026-10-01"),
            Compliant,
            "attributes doc-9 (Jane Doe)",
        ),
        case(
            r,
            "attribution removed, conveyance and knowledge stated",
            reproduces_doc9(Some(false)),
            both(),
            NonCompliant,
            "knowledge of the consequence is stated",
        ),
        // issue 20: § 1202 needs conveyance and knowledge; both were assumed.
        case(
            r,
            "attribution removed, neither element stated",
            reproduces_doc9(Some(false)),
            ctx("2026-10-01"),
            Undetermined,
            "conveyed in connection with copies",
        ),
        case(
            r,
            "attribution removed, no knowledge",
            reproduces_doc9(Some(false)),
            ctx("2026-10-01")
                .declare("cmi_conveyed", true)
                .declare("removal_knowing", false),
            Compliant,
            "it is stated that it is not so",
        ),
        case(
            r,
            "removal authorised",
            reproduces_doc9(Some(false)),
            both().declare("rights_holder_authorised", true),
            Exempt,
            "authorised",
        ),
        case(
            r,
            "attribution not examined",
            reproduces_doc9(None),
            both(),
            Undetermined,
            "was not examined",
        ),
        case(
            r,
            "source without CMI",
            vec![text(300), span(0, 120, doc("doc-10", None, None, None))],
            ctx("2026-10-01"),
            NotApplicable,
            "no source document names an owner",
        ),
    ]
}

fn us_dmca_1202_removal() -> Vec<Case> {
    use Outcome::*;
    let r = "US-DMCA-1202-REMOVAL";
    let work = || ctx("2026-10-01").with_ai_generated(false);
    vec![
        // issue 20: purely AI output is not a work, so its credential is no CMI of one.
        case(
            r,
            "the credential of AI output",
            vec![
                image(),
                watermark(true, 4096),
                credential(CredentialState::None, None, false),
                removed(MarkKind::Credential, Some(PartyRole::Platform)),
            ],
            ctx("2026-10-01").declare("removal_knowing", true),
            NotApplicable,
            "Thaler v. Perlmutter",
        ),
        case(
            r,
            "a user knowingly stripped a work's credential",
            work_stripped(Some(PartyRole::User)),
            work().declare("removal_knowing", true),
            NonCompliant,
            "with knowledge that this facilitates or conceals infringement",
        ),
        case(
            r,
            "knowledge not stated",
            work_stripped(Some(PartyRole::User)),
            work(),
            Undetermined,
            "reasonable grounds to know",
        ),
        case(
            r,
            "stated human authorship, removal without knowledge",
            work_stripped(Some(PartyRole::Platform)),
            ctx("2026-10-01")
                .declare("human_authorship", true)
                .declare("removal_knowing", false),
            Compliant,
            "No copyright management information of the work was removed with knowledge",
        ),
        case(
            r,
            "removal authorised",
            work_stripped(Some(PartyRole::User)),
            work()
                .declare("removal_knowing", true)
                .declare("rights_holder_authorised", true),
            Exempt,
            "authorised",
        ),
    ]
}

fn us_copyright_human() -> Vec<Case> {
    use Outcome::*;
    let r = "US-COPYRIGHT-HUMAN";
    let registering = |as_of: &str| ctx(as_of).declare("registration_sought", true);
    vec![
        case(
            r,
            "AI material disclosed and excluded",
            vec![text(300), watermark(true, 300)],
            registering("2026-10-01").declare("ai_material_disclosed", true),
            Compliant,
            "remain claimable",
        ),
        case(
            r,
            "AI material not disclosed",
            vec![text(300), watermark(true, 300)],
            registering("2026-10-01").declare("ai_material_disclosed", false),
            NonCompliant,
            "does not disclose and exclude",
        ),
        case(
            r,
            "disclosure not stated",
            vec![text(300), watermark(true, 300)],
            registering("2026-10-01"),
            Undetermined,
            "was not stated",
        ),
        case(
            r,
            "de minimis AI material",
            vec![text(300), watermark(true, 300)],
            registering("2026-10-01")
                .declare("ai_material_disclosed", false)
                .declare("ai_material_de_minimis", true),
            Exempt,
            "de minimis",
        ),
        case(
            r,
            "no registration sought",
            vec![text(300), watermark(true, 300)],
            ctx("2026-10-01").declare("registration_sought", false),
            NotApplicable,
            "applicants for registration",
        ),
        case(
            r,
            "before the guidance",
            vec![text(300), watermark(true, 300)],
            registering("2023-03-15").declare("ai_material_disclosed", false),
            NotYetApplicable,
            "16 March 2023",
        ),
    ]
}

fn kr_aiba_31() -> Vec<Case> {
    use Outcome::*;
    let r = "KR-AIBA-31";
    let operator = |as_of: &str| ctx(as_of).declare("kr_ai_business_operator", true);
    vec![
        case(
            r,
            "watermarked output",
            vec![text(300), watermark(true, 300)],
            operator("2026-01-22"),
            Compliant,
            "watermark",
        ),
        case(
            r,
            "unmarked output, during the Ministry's grace",
            vec![
                text(300),
                watermark(false, 300),
                credential(CredentialState::None, None, false),
                disclosure(false),
            ],
            operator("2026-03-01").with_ai_generated(true),
            NonCompliant,
            "for at least one year from that date",
        ),
        case(
            r,
            "not an operator in Korea",
            vec![text(300), watermark(true, 300)],
            ctx("2026-03-01").declare("kr_ai_business_operator", false),
            NotApplicable,
            "AI business operators",
        ),
        case(
            r,
            "operator status not stated",
            vec![text(300), watermark(true, 300)],
            ctx("2026-03-01"),
            Undetermined,
            "AI business operator",
        ),
        case(
            r,
            "day before the Act",
            vec![text(300), watermark(false, 300)],
            operator("2026-01-21").with_ai_generated(true),
            NotYetApplicable,
            "22 January 2026",
        ),
    ]
}

fn berne_6bis() -> Vec<Case> {
    use Outcome::*;
    let r = "BERNE-6BIS";
    vec![
        case(
            r,
            "author named",
            reproduces_doc9(Some(true)),
            ctx("2026-10-01"),
            Compliant,
            "attributes",
        ),
        case(
            r,
            "author not named",
            reproduces_doc9(Some(false)),
            ctx("2026-10-01"),
            NonCompliant,
            "national laws implementing Art. 6bis(1)",
        ),
        case(
            r,
            "nothing reproduced",
            vec![text(300), search(Topic::Trace, "index demo-corpus", 0)],
            ctx("2026-10-01"),
            NotApplicable,
            "no span",
        ),
        case(
            r,
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

/// Rules engaged only by a defence someone invokes: with nothing stated, they are not
/// engaged, which is no finding of compliance.
const ENGAGED_BY_A_DEFENCE: &[&str] = &["EU-DSM-3"];

#[test]
fn missing_facts_never_make_a_rule_compliant() {
    for as_of in ["2026-01-01", "2027-01-01"] {
        for r in evaluate(&[], &ctx(as_of)) {
            let defence = ENGAGED_BY_A_DEFENCE.contains(&r.id.as_str())
                && r.outcome == Outcome::NotApplicable;
            assert!(
                defence || matches!(r.outcome, Outcome::Undetermined | Outcome::NotYetApplicable),
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
    assert_eq!(
        ids,
        [
            "CN-LBL-4",
            "CN-LBL-5",
            "CN-LBL-10",
            "US-CA-SB942",
            "US-CA-AB853-PLATFORM"
        ]
    );
    let kr = evaluate(
        &facts,
        &ctx("2026-09-01").with_jurisdictions([Jurisdiction::Kr]),
    );
    assert_eq!(
        kr.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["KR-AIBA-31"]
    );
    assert_eq!(
        evaluate(&facts, &ctx("2026-09-01")).len(),
        Catalogue::embedded().rules().len()
    );
}

#[test]
fn outcomes_cite_the_facts_they_rest_on() {
    let facts = vec![
        text(300),
        watermark(false, 300),
        watermark(true, 300),
        detector(MarkKind::Watermark, DetectorAccess::Free),
    ];
    let r = evaluate(&facts, &ctx("2027-01-01").with_kind(ContentKind::Text))
        .into_iter()
        .find(|r| r.id == "EU-AIA-50-2")
        .unwrap();
    assert_eq!(r.outcome, Outcome::Compliant);
    assert_eq!(r.facts, vec![2, 3]);
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

/// Issue 20, "who is bound": a platform strips a provider's credential. The provider's
/// marking duty holds (it marked at generation); the platform's duty not to strip is the
/// one engaged; and the removal rules binding anyone name the platform.
#[test]
fn the_party_who_acted_is_the_one_a_rule_holds() {
    let facts = with(
        vec![
            image(),
            watermark(true, 4096),
            credential(CredentialState::None, None, false),
            removed(MarkKind::Credential, Some(PartyRole::Platform)),
        ],
        detectors(),
    );
    let results = evaluate(
        &facts,
        &ctx("2027-01-02")
            .declare("ca_large_online_platform", true)
            .declare("platform_strip_knowing", true)
            .declare("code_of_practice_signatory", true)
            .declare("removal_prohibited_in_terms", true),
    );
    let outcome = |id: &str| results.iter().find(|r| r.id == id).unwrap().outcome;
    assert_eq!(outcome("EU-AIA-50-2"), Outcome::Compliant);
    assert_eq!(outcome("EU-AIA-50-2-NR"), Outcome::Compliant);
    assert_eq!(outcome("US-CA-AB853-PLATFORM"), Outcome::NonCompliant);
    let ab853 = results
        .iter()
        .find(|r| r.id == "US-CA-AB853-PLATFORM")
        .unwrap();
    assert_eq!(ab853.binds, vec![tracemark_policy::Role::Platform]);
    // Without a statement of who removed it, the provider's duty still holds, and the
    // rule binding the remover cannot say whom it binds.
    let mut unknown = facts.clone();
    unknown[3] = removed(MarkKind::Credential, None);
    let results = evaluate(&unknown, &ctx("2027-01-02"));
    let outcome = |id: &str| results.iter().find(|r| r.id == id).unwrap().outcome;
    assert_eq!(outcome("EU-AIA-50-2"), Outcome::Compliant);
    assert_eq!(outcome("US-CA-AB853-PLATFORM"), Outcome::Undetermined);
}

/// A clone of the repository has no field guide: every rule cites its sources itself.
#[test]
fn rule_files_cite_their_sources_themselves() {
    for rule in Catalogue::embedded().rules() {
        let spec = &rule.spec;
        for text in spec.references.iter().chain(spec.notes.iter()) {
            assert!(
                !text.contains("legal.md"),
                "{} cites the field guide: {text}",
                spec.id
            );
        }
    }
}

/// The crate README's table lists every rule with its source, date and certainty.
#[test]
fn the_readme_table_lists_every_rule() {
    let readme = include_str!("../README.md");
    for rule in Catalogue::embedded().rules() {
        let spec = &rule.spec;
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", spec.id)))
            .unwrap_or_else(|| panic!("no README row for {}", spec.id));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert!(
            cells[2].contains(&spec.source.citation),
            "{}: source {:?} not in {row}",
            spec.id,
            spec.source.citation
        );
        let date = spec
            .applies_from
            .map(|d| d.to_string())
            .unwrap_or_else(|| "in force".into());
        assert!(
            cells[3].starts_with(&date),
            "{}: date {date} not in {row}",
            spec.id
        );
        assert_eq!(cells[4], spec.confidence, "{}: certainty in {row}", spec.id);
    }
}
