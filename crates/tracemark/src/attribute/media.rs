//! The watermark test of attribution for pictures and sounds: every configured media key
//! of the content's medium, and for pictures the reading of Stable Diffusion XL's keyless
//! mark.

use tracemark_core::{
    Fact, KeyId, KeyKind, Payload, Verdict,
    fact::{Claim, Topic, WatermarkFinding},
};
use tracemark_policy::Input;

use super::{WATERMARK_FPR, fact, unestablished};
use crate::media::{Decoded, MediaDetectors, SDXL_SCHEME};

/// The id under which SDXL's mark appears: it has no key, so the id names its public
/// message instead.
pub fn sdxl_key_id() -> KeyId {
    KeyId::derive(
        KeyKind::Watermark,
        b"sdxl-invisible-watermark: the public 48-bit message of Stable Diffusion XL",
    )
}

/// One fact per media key of the content's medium (or why none could be tested), the
/// SDXL reading for a picture, and the key files' inputs.
pub(super) fn facts(
    detectors: &MediaDetectors,
    content: &Decoded,
    inputs: &mut Vec<Input>,
) -> Vec<Fact> {
    let medium = content.medium();
    let mut out: Vec<Fact> = detectors
        .problems()
        .into_iter()
        .map(|why| unestablished(Topic::Watermark, why))
        .collect();
    let mine: Vec<_> = detectors
        .loaded()
        .into_iter()
        .filter(|d| d.medium() == medium)
        .collect();
    if mine.is_empty() {
        out.push(unestablished(
            Topic::Watermark,
            format!(
                "no {} watermark key is configured ([keys] watermark)",
                medium.as_str()
            ),
        ));
    }
    let per_key = WATERMARK_FPR / mine.len().max(1) as f64;
    for d in mine {
        match d.detect(content, per_key) {
            Some(Ok(found)) => {
                if let Some(input) = &d.input {
                    inputs.push(input.clone());
                }
                let parameters = serde_json::json!({
                    "fpr": found.verdict.false_positive_rate,
                    "medium": medium,
                    "payload_p_value": found.payload_p_value,
                    "payload_checked": found.payload_checked,
                    "pilot_agreement": found.pilot_agreement,
                    "data_agreement": found.data_agreement,
                    "alignment": found.alignment,
                    "alignments_tried": found.alignments_tried,
                });
                out.push(fact(
                    Claim::Watermark(WatermarkFinding {
                        scheme: d.key.scheme.to_string(),
                        key_id: d.key.key_id.clone(),
                        verdict: found.verdict,
                        payload: found.payload,
                        segments: Vec::new(),
                        medium: Some(medium),
                    }),
                    d.key.scheme.as_str(),
                    parameters,
                ));
            }
            Some(Err(e)) => out.push(unestablished(
                Topic::Watermark,
                format!("media watermark key {}: {e}", d.key.key_id),
            )),
            None => {}
        }
    }
    if let Decoded::Image(picture, _) = content {
        match crate::media::read_sdxl(picture, WATERMARK_FPR) {
            Ok(sd) => {
                let parameters = serde_json::json!({
                    "fpr": WATERMARK_FPR,
                    "medium": medium,
                    "matching_bits": sd.reading.matching_bits,
                    "total_bits": sd.reading.total_bits,
                    "null_pictures": sd.reading.null_pictures,
                    "stability_verdict": sd.reading.stability_verdict,
                    "statement": sd.statement,
                    "keyless": true,
                });
                let verdict = Verdict::decide(
                    sd.reading.p_value,
                    WATERMARK_FPR,
                    SDXL_SCHEME,
                    parameters.clone(),
                    u64::from(sd.reading.total_bits),
                );
                out.push(fact(
                    Claim::Watermark(WatermarkFinding {
                        scheme: SDXL_SCHEME.into(),
                        key_id: sdxl_key_id(),
                        verdict,
                        payload: sd
                            .significant
                            .then(|| Payload::new(sd.reading.bits, 48).ok())
                            .flatten(),
                        segments: Vec::new(),
                        medium: Some(medium),
                    }),
                    SDXL_SCHEME,
                    parameters,
                ));
            }
            Err(e) => out.push(unestablished(
                Topic::Watermark,
                format!("the Stable Diffusion XL mark could not be read: {e}"),
            )),
        }
    }
    out
}
