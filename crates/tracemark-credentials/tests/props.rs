//! Property tests: the wrapper parser and the manifest reader take any input without
//! panicking, and the wrapper round-trips.

mod common;

use proptest::prelude::*;
use tracemark_core::fact::CredentialState;
use tracemark_credentials::{Verifier, wrapper};

/// Text made of the characters that matter to the parser: markers, both selector ranges,
/// ASCII and a combining accent.
fn tricky_text() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        Just('\u{FEFF}'),
        (0u32..16).prop_map(|b| char::from_u32(0xFE00 + b).unwrap()),
        (0u32..240).prop_map(|b| char::from_u32(0xE0100 + b).unwrap()),
        proptest::char::range('a', 'z'),
        Just('\u{301}'),
    ];
    proptest::collection::vec(c, 0..300).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn wrapper_round_trips(prefix in "\\PC{0,40}", manifest in proptest::collection::vec(any::<u8>(), 0..600)) {
        prop_assume!(wrapper::scan(&prefix) == wrapper::Scan::default());
        let w = wrapper::encode(&manifest).unwrap();
        prop_assert_eq!(w.len(), wrapper::wrapper_len(manifest.len()));
        let text = format!("{prefix}{w}");
        let s = wrapper::scan(&text);
        prop_assert_eq!(s.wrappers.len(), 1);
        prop_assert_eq!(&s.wrappers[0].manifest, &manifest);
        prop_assert_eq!(s.wrappers[0].range.clone(), prefix.len()..text.len());
    }

    #[test]
    fn scanning_never_panics_and_ranges_are_in_bounds(text in tricky_text()) {
        let s = wrapper::scan(&text);
        for r in s.wrappers.iter().map(|w| &w.range).chain(s.broken.iter().map(|b| &b.range)) {
            prop_assert!(r.start < r.end && r.end <= text.len());
            prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
    }

    #[test]
    fn verifying_arbitrary_text_never_panics(text in tricky_text()) {
        let r = Verifier::new().verify_text(&text).unwrap();
        prop_assert!(matches!(r.state, CredentialState::None | CredentialState::Tampered));
    }

    #[test]
    fn a_wrapper_around_garbage_is_tampered_not_a_panic(manifest in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = format!("hello{}", wrapper::encode(&manifest).unwrap());
        let r = Verifier::new().verify_text(&text).unwrap();
        prop_assert_eq!(r.state, CredentialState::Tampered);
        prop_assert!(!r.failures.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A real manifest store with random bytes overwritten: the reader names a failure,
    /// or (when only padding changed) still validates; it never panics.
    #[test]
    fn mutated_manifest_stores_never_panic(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let store = store();
        let mut bad = store.to_vec();
        for (i, b) in edits {
            let at = i.index(bad.len());
            bad[at] = b;
        }
        let r = Verifier::new().verify_sidecar(b"content", &bad, "text/plain").unwrap();
        prop_assert!(r.state != CredentialState::Trusted);
        if r.state == CredentialState::Tampered {
            prop_assert!(!r.failures.is_empty());
        }
    }
}

fn store() -> &'static [u8] {
    use std::sync::OnceLock;
    static STORE: OnceLock<(common::Identity, Vec<u8>)> = OnceLock::new();
    &STORE
        .get_or_init(|| {
            let id = common::Identity::new(tracemark_credentials::SigningAlgorithm::Ed25519);
            let s = tracemark_credentials::sign_sidecar(
                b"content",
                &id.key,
                &common::spec(),
                &Default::default(),
            )
            .unwrap();
            (id, s)
        })
        .1
}
