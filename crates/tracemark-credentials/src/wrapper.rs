//! The C2PA plain-text manifest wrapper (C2PA 2.3+, annex A.8, `C2PATextManifestWrapper`).
//!
//! A manifest store rides inside unstructured text as invisible characters appended
//! after the visible text: a `U+FEFF` marker, then one Unicode variation selector per
//! byte of the frame `magic "C2PATXT\0" (8) ‖ version 1 (1) ‖ big-endian length (4) ‖
//! manifest store ‖ padding`. Bytes 0–15 map to `U+FE00..U+FE0F`, bytes 16–255 to
//! `U+E0100..U+E01EF`. The padding (bytes `0x00` and `0x10`) makes the wrapper's UTF-8
//! length a function of the manifest length alone: `3 + 4·(13 + M) + 6` bytes, so a
//! signer can reserve the wrapper's byte range before it knows the manifest's bytes.
//!
//! The parser never panics and never allocates more than the input it is given: it
//! scans for markers, decodes the selector run after each, and reports every run that
//! starts with the magic either as a wrapper or as a broken one with the reason.

use std::ops::Range;

/// `C2PATXT\0`.
pub const MAGIC: [u8; 8] = *b"C2PATXT\0";
/// The frame version this implementation writes and reads.
pub const VERSION: u8 = 1;
/// The zero-width no-break space that starts a wrapper.
pub const MARKER: char = '\u{FEFF}';
const HEADER_LEN: usize = 13;

/// The variation selector that carries `byte`.
pub fn selector(byte: u8) -> char {
    let cp = if byte < 16 {
        0xFE00 + u32::from(byte)
    } else {
        0xE0100 + u32::from(byte) - 16
    };
    // Both ranges hold only valid scalar values.
    char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The byte a variation selector carries, if it is one of A.8's.
pub fn selector_byte(c: char) -> Option<u8> {
    let cp = u32::from(c);
    match cp {
        0xFE00..=0xFE0F => Some((cp - 0xFE00) as u8),
        0xE0100..=0xE01EF => Some((cp - 0xE0100 + 16) as u8),
        _ => None,
    }
}

/// The UTF-8 length of the wrapper that carries a manifest of `manifest_len` bytes.
pub fn wrapper_len(manifest_len: usize) -> usize {
    3 + 4 * (HEADER_LEN + manifest_len) + 6
}

/// A manifest too large for the frame's 32-bit length field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a manifest of {0} bytes does not fit the wrapper's 32-bit length")]
pub struct TooLarge(pub usize);

/// Encodes `manifest` as a wrapper of exactly [`wrapper_len`] UTF-8 bytes.
pub fn encode(manifest: &[u8]) -> Result<String, TooLarge> {
    let len = u32::try_from(manifest.len()).map_err(|_| TooLarge(manifest.len()))?;
    let target = wrapper_len(manifest.len());
    let mut out = String::with_capacity(target);
    out.push(MARKER);
    let len = len.to_be_bytes();
    let frame = MAGIC
        .iter()
        .chain(std::iter::once(&VERSION))
        .chain(len.iter())
        .chain(manifest.iter());
    for &b in frame {
        out.push(selector(b));
    }
    // The gap to the target is filled with 0x00 (3 UTF-8 bytes each) and 0x10 (4 bytes
    // each): gap = 3a + 4b with b = gap mod 3. The +6 in the target keeps the gap at 6
    // bytes or more, where that decomposition always exists.
    let gap = target - out.len();
    let fours = gap % 3;
    let threes = (gap - 4 * fours) / 3;
    out.extend(std::iter::repeat_n(selector(0x00), threes));
    out.extend(std::iter::repeat_n(selector(0x10), fours));
    debug_assert_eq!(out.len(), target);
    Ok(out)
}

/// A wrapper found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapper {
    /// The byte range of the whole wrapper (marker, frame, padding) in the text.
    pub range: Range<usize>,
    /// The manifest store it carries.
    pub manifest: Vec<u8>,
}

/// A run that starts like a wrapper but is not a valid one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenWrapper {
    pub range: Range<usize>,
    pub reason: String,
}

/// Every wrapper-like run in a text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    pub wrappers: Vec<Wrapper>,
    pub broken: Vec<BrokenWrapper>,
}

/// Finds every wrapper in `text`. A marker that is not followed by the magic is an
/// ordinary byte-order mark or zero-width no-break space and is ignored; a run that has
/// the magic but a wrong version, a truncated body or padding that is not A.8's is
/// reported as broken.
pub fn scan(text: &str) -> Scan {
    let mut result = Scan::default();
    let mut from = 0;
    while let Some(rel) = text[from..].find(MARKER) {
        let start = from + rel;
        let run_start = start + MARKER.len_utf8();
        let mut bytes = Vec::new();
        let mut end = run_start;
        for c in text[run_start..].chars() {
            match selector_byte(c) {
                Some(b) => {
                    bytes.push(b);
                    end += c.len_utf8();
                }
                None => break,
            }
        }
        from = end.max(run_start);
        // A run of fewer than 8 selectors that matches a prefix of the magic is a
        // truncated wrapper; anything else without the magic is not a wrapper at all.
        let prefix = bytes.len().min(MAGIC.len());
        if prefix == 0 || bytes[..prefix] != MAGIC[..prefix] {
            continue;
        }
        let range = start..end;
        let broken = |reason: String| BrokenWrapper {
            range: range.clone(),
            reason,
        };
        if bytes.len() < HEADER_LEN {
            result.broken.push(broken(format!(
                "the header is cut short after {} bytes",
                bytes.len()
            )));
            continue;
        }
        if bytes[8] != VERSION {
            result
                .broken
                .push(broken(format!("unknown wrapper version {}", bytes[8])));
            continue;
        }
        let declared = u32::from_be_bytes([bytes[9], bytes[10], bytes[11], bytes[12]]) as usize;
        let available = bytes.len() - HEADER_LEN;
        if declared > available {
            result.broken.push(broken(format!(
                "the header declares {declared} manifest bytes but only {available} follow"
            )));
            continue;
        }
        if let Some(bad) = bytes[HEADER_LEN + declared..]
            .iter()
            .find(|&&b| b != 0x00 && b != 0x10)
        {
            result.broken.push(broken(format!(
                "{} bytes follow the manifest and they are not padding (byte {bad:#04x})",
                available - declared
            )));
            continue;
        }
        bytes.truncate(HEADER_LEN + declared);
        bytes.drain(..HEADER_LEN);
        result.wrappers.push(Wrapper {
            range,
            manifest: bytes,
        });
    }
    result
}

/// `text` without the given byte ranges (which must be sorted, disjoint, and on
/// character boundaries, as [`scan`] returns them).
pub fn remove_ranges<'a>(text: &str, ranges: impl IntoIterator<Item = &'a Range<usize>>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in ranges {
        if r.start < at || r.end > text.len() {
            continue;
        }
        out.push_str(&text[at..r.start]);
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips_through_its_selector() {
        for b in 0..=255u8 {
            assert_eq!(selector_byte(selector(b)), Some(b));
        }
        assert_eq!(selector_byte('a'), None);
        assert_eq!(selector_byte('\u{FE0F}'), Some(15));
        assert_eq!(selector_byte('\u{E01EF}'), Some(255));
        assert_eq!(selector_byte('\u{E01F0}'), None);
    }

    #[test]
    fn the_wrapper_has_the_deterministic_length() {
        for m in [0usize, 1, 2, 3, 16, 255, 1000, 2777] {
            for fill in [0x00u8, 0x0f, 0x10, 0xff] {
                let manifest = vec![fill; m];
                let w = encode(&manifest).unwrap();
                assert_eq!(
                    w.len(),
                    wrapper_len(m),
                    "manifest of {m} bytes of {fill:#x}"
                );
                let s = scan(&format!("visible{w}"));
                assert_eq!(s.wrappers.len(), 1);
                assert_eq!(s.wrappers[0].manifest, manifest);
                assert_eq!(s.wrappers[0].range, 7..7 + w.len());
            }
        }
    }

    #[test]
    fn the_spec_worked_example_pads_as_described() {
        // A 16-byte manifest: unpadded 3 + 29·4 - 5 = 114 bytes (13 header bytes: 8 of
        // them ≥ 16, so 4 bytes each, five < 16 at 3 bytes), target 125: one 0x00 and two
        // 0x10 fill the 11-byte gap.
        let w = encode(b"c2pa-manifest-01").unwrap();
        assert_eq!(w.len(), 125);
        let tail: Vec<char> = w.chars().rev().take(3).collect();
        assert_eq!(tail, vec![selector(0x10), selector(0x10), selector(0x00)]);
    }

    #[test]
    fn reads_the_reference_implementations_frame() {
        // The frame of a 16-byte manifest 00..0f exactly as A.8 lays it out, unpadded.
        let mut text = String::from("hello ");
        text.push(MARKER);
        for b in MAGIC
            .iter()
            .chain(&[1u8, 0, 0, 0, 16])
            .chain(&(0u8..16).collect::<Vec<_>>())
        {
            text.push(selector(*b));
        }
        let s = scan(&text);
        assert_eq!(s.wrappers[0].manifest, (0u8..16).collect::<Vec<_>>());
        assert!(text.contains("\u{feff}\u{e0133}\u{e0122}\u{e0140}\u{e0131}"));
    }

    #[test]
    fn ordinary_text_and_byte_order_marks_are_not_wrappers() {
        for t in [
            "",
            "plain",
            "\u{FEFF}starts with a BOM",
            "emoji \u{263A}\u{FE0F} and a stray \u{FEFF} marker",
            "\u{FEFF}\u{FE00}\u{FE01}",
        ] {
            assert_eq!(scan(t), Scan::default(), "{t:?}");
        }
    }

    #[test]
    fn broken_wrappers_are_reported_with_a_reason() {
        let good = encode(b"manifest bytes").unwrap();
        // Cut in the body.
        let cut: String = good.chars().take(20).collect();
        let s = scan(&format!("x{cut}"));
        assert!(s.wrappers.is_empty());
        assert!(s.broken[0].reason.contains("declares"), "{:?}", s.broken);
        // Cut in the magic.
        let cut: String = good.chars().take(4).collect();
        assert!(scan(&cut).broken[0].reason.contains("cut short"));
        // Wrong version.
        let mut chars: Vec<char> = good.chars().collect();
        chars[9] = selector(2);
        let s = scan(&chars.iter().collect::<String>());
        assert!(s.broken[0].reason.contains("version 2"));
        // Garbage after the manifest.
        let mut chars: Vec<char> = good.chars().collect();
        let last = chars.len() - 1;
        chars[last] = selector(0x77);
        let s = scan(&chars.iter().collect::<String>());
        assert!(s.broken[0].reason.contains("not padding"));
    }

    #[test]
    fn finds_doubled_wrappers_and_removes_them() {
        let a = encode(b"first").unwrap();
        let b = encode(b"second").unwrap();
        let text = format!("one{a} two{b}");
        let s = scan(&text);
        assert_eq!(s.wrappers.len(), 2);
        let ranges: Vec<_> = s.wrappers.iter().map(|w| w.range.clone()).collect();
        assert_eq!(remove_ranges(&text, &ranges), "one two");
    }
}
