//! Helpers shared by the integration tests.
#![allow(dead_code, unused_macros)]

#[macro_use]
pub mod suite;

use tracemark_core::{ContentHash, KeyId, KeyKind, Payload};
use tracemark_ledger::{
    GenerationRecord, ModelRef, NoteSigner, TextSketch, record::GENERATION_RECORD_V1,
};

pub const ORIGIN: &str = "log.example/tracemark";

pub fn signer() -> NoteSigner {
    NoteSigner::generate(ORIGIN, &mut rand_core::OsRng).unwrap()
}

/// A text of `words` words that differs between seeds.
pub fn text(seed: u64, words: usize) -> String {
    (0..words)
        .map(|i| format!("w{}", (seed * 7919 + i as u64 * 104729) % 100_003))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn record_for(text: &str, generation_id: &str, payload: u64) -> GenerationRecord {
    GenerationRecord {
        format: GENERATION_RECORD_V1.into(),
        content_hash: ContentHash::of_bytes(text.as_bytes()),
        watermark_scheme: "kgw-selfhash-v1".into(),
        key_id: KeyId::derive(KeyKind::Watermark, b"test key"),
        payload: Payload::new(payload, 24).unwrap(),
        model: ModelRef {
            id: "tinystories-260k".into(),
            version: "1".into(),
            digest: None,
            release: None,
        },
        provider: "provider.example".into(),
        credential_hash: None,
        time: "2026-11-29T12:00:00Z".parse().unwrap(),
        generation_id: generation_id.into(),
        sketch: TextSketch::of_text(text),
        media: None,
    }
}

pub fn record(n: u64) -> GenerationRecord {
    record_for(&text(n, 60), &format!("gen-{n}"), n % (1 << 24))
}
