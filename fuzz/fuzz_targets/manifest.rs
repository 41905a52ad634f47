#![no_main]
//! Content-credential verification through the c2pa crate, with the settings the program
//! uses (`Verifier`, trusting the seeds' development root when it is there, as
//! `tracemark verify --trust` and the attribution pipeline do with a configured anchor).
//!
//! The first byte picks the carrier: media (`Verifier::verify_media`) as JPEG, PNG, WebP,
//! MP4, WAV or PDF; text (`verify_text_bytes`: A.8 wrapper); a sidecar
//! (`verify_sidecar`: two bytes give the store's length, then store, then content); or
//! visible text followed by manifest bytes that the target wraps itself (so the c2pa
//! parser sees mutated manifests through the text path).

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tracemark_credentials::{MediaFormat, TrustAnchors, Verifier, wrapper};

const MEDIA: [MediaFormat; 6] = [
    MediaFormat::Jpeg,
    MediaFormat::Png,
    MediaFormat::Webp,
    MediaFormat::Mp4,
    MediaFormat::Wav,
    MediaFormat::Pdf,
];

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let root = tracemark_fuzz::seeds_dir()
            .join("manifest-trust")
            .join("root.pem");
        match std::fs::read(&root) {
            Ok(pem) => Verifier::with_trust_anchors(
                TrustAnchors::from_pem(&pem).expect("the seeds' root reads"),
            ),
            Err(_) => Verifier::new(),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let v = verifier();
    let _report = match selector % 9 {
        i @ 0..=5 => v.verify_media(MEDIA[usize::from(i)], bytes),
        6 => v.verify_text_bytes(bytes),
        7 => {
            if bytes.len() < 2 {
                return;
            }
            let len = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
            let rest = &bytes[2..];
            let (store, content) = rest.split_at(len.min(rest.len()));
            v.verify_sidecar(content, store, "text/plain")
        }
        _ => {
            if bytes.len() < 2 {
                return;
            }
            let len = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
            let rest = &bytes[2..];
            let (visible, manifest) = rest.split_at(len.min(rest.len()));
            let mut text = String::from_utf8_lossy(visible).into_owned();
            text.push_str(&wrapper::encode(manifest).expect("fits"));
            v.verify_text(&text)
        }
    };
});
