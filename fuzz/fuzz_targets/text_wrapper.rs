#![no_main]
//! The C2PA A.8 text wrapper: `wrapper::scan` (what `Verifier::verify_text` and
//! `strip_wrappers` run on every text they are given), `strip_wrappers` (what the server's
//! text endpoints and `tracemark detect` call), and the frame's round trip.
//!
//! The first byte picks how the rest becomes text: even, the bytes as (lossy) UTF-8; odd,
//! the next byte splits the rest into visible text and bytes that are written as a
//! marker and one variation selector each (so the fuzzer reaches the frame parser
//! without having to find 4-byte UTF-8 selectors by chance).

use libfuzzer_sys::fuzz_target;
use tracemark_credentials::{strip_wrappers, wrapper};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = if mode % 2 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let Some((&split, rest)) = rest.split_first() else {
            return;
        };
        let at = usize::from(split).min(rest.len());
        let (visible, frame) = rest.split_at(at);
        let mut text = String::from_utf8_lossy(visible).into_owned();
        text.push(wrapper::MARKER);
        text.extend(frame.iter().map(|&b| wrapper::selector(b)));
        if mode & 2 != 0 {
            text.push_str(" after");
        }
        text
    };

    let found = wrapper::scan(&text);
    let mut ranges: Vec<_> = found
        .wrappers
        .iter()
        .map(|w| w.range.clone())
        .chain(found.broken.iter().map(|b| b.range.clone()))
        .collect();
    ranges.sort_by_key(|r| r.start);
    let mut end = 0;
    for r in &ranges {
        assert!(
            r.start >= end && r.start < r.end && r.end <= text.len(),
            "{r:?}"
        );
        assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        end = r.end;
    }
    for w in &found.wrappers {
        // What scan found decodes back to itself once re-encoded.
        let encoded = wrapper::encode(&w.manifest).expect("the manifest fits");
        assert_eq!(encoded.len(), wrapper::wrapper_len(w.manifest.len()));
        let again = wrapper::scan(&encoded);
        assert!(again.broken.is_empty(), "{:?}", again.broken);
        assert_eq!(again.wrappers.len(), 1);
        assert_eq!(again.wrappers[0].manifest, w.manifest);
    }
    // Stripping leaves no wrapper, good or broken, to strip (a new credential can be
    // signed on the result).
    let stripped = strip_wrappers(&text);
    let left = wrapper::scan(&stripped);
    assert!(
        left.wrappers.is_empty() && left.broken.is_empty(),
        "strip_wrappers left {} wrappers and {} broken ones",
        left.wrappers.len(),
        left.broken.len()
    );
});
