//! MinHash signatures over word shingles, for paraphrase-level overlap that verbatim
//! spans miss (Broder 1997; banding as in Leskovec, Rajaraman & Ullman, *Mining of
//! Massive Datasets*, ch. 3).
//!
//! The hashing, exactly, so that another implementation can reproduce a signature:
//!
//! 1. **Words**: maximal runs of Unicode alphanumeric characters (`char::is_alphanumeric`),
//!    lower-cased with `char::to_lowercase`.
//! 2. **Shingles**: every run of [`SHINGLE_WORDS`] consecutive words, joined by one space
//!    (a text with fewer words has one shingle of all its words; one with none has none).
//! 3. **Base hash**: the first 8 bytes, little-endian, of SHA-256 of the shingle's UTF-8.
//! 4. **Permutations**: for `i` in `0..NUM_HASHES`, `h_i(x) = (a_i * x + b_i) mod p` with
//!    `p = 2^61 - 1`, `x` the base hash reduced mod `p`, and `(a_i, b_i)` the `2i`-th and
//!    `2i+1`-th outputs of SplitMix64 seeded with [`SEED`], reduced mod `p` (`a_i` forced
//!    non-zero by `| 1`).
//! 5. **Signature**: `sig[i] = min over shingles of h_i`; `u64::MAX` for a text without
//!    shingles (it never matches).
//! 6. **LSH**: [`BANDS`] bands of [`ROWS`] rows; two documents are candidates when all
//!    rows of some band agree. The estimated Jaccard similarity is the fraction of the
//!    [`NUM_HASHES`] positions that agree. The candidate probability for Jaccard `s` is
//!    `1 - (1 - s^ROWS)^BANDS`: 0.05 at s = 0.2, 0.5 at s ≈ 0.38, 0.87 at s = 0.5,
//!    0.9998 at s = 0.7.

use sha2::{Digest, Sha256};

/// Words per shingle (word 5-grams, as Lee et al. and FineWeb use).
pub const SHINGLE_WORDS: usize = 5;
/// 32 bands of 4 rows: a low threshold, because the point is paraphrase-level overlap
/// (deduplication pipelines use about 0.7–0.75; see `reference/tracing.md` §3.1).
pub const BANDS: usize = 32;
pub const ROWS: usize = 4;
pub const NUM_HASHES: usize = BANDS * ROWS;
pub const SEED: u64 = 0x7472_6163_656d_6b31; // "tracemk1"
const P: u64 = (1 << 61) - 1;

/// A document's MinHash signature.
pub type Signature = [u64; NUM_HASHES];

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `(a_i, b_i)` of every permutation.
fn coefficients() -> &'static [(u64, u64); NUM_HASHES] {
    static COEFFS: std::sync::OnceLock<[(u64, u64); NUM_HASHES]> = std::sync::OnceLock::new();
    COEFFS.get_or_init(|| {
        let mut state = SEED;
        std::array::from_fn(|_| {
            let a = (splitmix64(&mut state) % P) | 1;
            let b = splitmix64(&mut state) % P;
            (a, b)
        })
    })
}

/// The lower-cased words of `text`.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(char::to_lowercase).collect())
        .collect()
}

/// The shingles of `text` (step 2 above).
pub fn shingles(text: &str) -> Vec<String> {
    let words = words(text);
    if words.is_empty() {
        return Vec::new();
    }
    if words.len() < SHINGLE_WORDS {
        return vec![words.join(" ")];
    }
    words.windows(SHINGLE_WORDS).map(|w| w.join(" ")).collect()
}

fn base_hash(shingle: &str) -> u64 {
    let d = Sha256::digest(shingle.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b) % P
}

/// `v mod (2^61 - 1)` for `v < 2^122 + 2^61`, without a division (Mersenne reduction:
/// `2^61 ≡ 1`), so the result is exactly `v % P`.
#[inline]
fn mod_mersenne61(v: u128) -> u64 {
    let folded = (v & u128::from(P)) + (v >> 61);
    let folded = (folded & u128::from(P)) + (folded >> 61);
    let r = folded as u64;
    if r >= P { r - P } else { r }
}

/// The base hashes of `text`'s distinct shingles, sorted.
///
/// Equal to hashing every string of [`shingles`], without allocating one: the words are
/// written once, lower-cased and separated by single spaces, into one buffer, and each
/// shingle is a slice of it. A shingle that repeats is hashed again but permuted once
/// (the minimum over a set does not depend on repeats).
pub fn shingle_hashes(text: &str) -> Vec<u64> {
    let mut norm = String::with_capacity(text.len());
    // Byte offset in `norm` where each word starts, and where each ends.
    let mut bounds: Vec<(usize, usize)> = Vec::new();
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        if w.is_empty() {
            continue;
        }
        if !norm.is_empty() {
            norm.push(' ');
        }
        let start = norm.len();
        if w.is_ascii() {
            norm.extend(w.bytes().map(|b| b.to_ascii_lowercase() as char));
        } else {
            norm.extend(w.chars().flat_map(char::to_lowercase));
        }
        bounds.push((start, norm.len()));
    }
    if bounds.is_empty() {
        return Vec::new();
    }
    let k = SHINGLE_WORDS.min(bounds.len());
    let mut hashes: Vec<u64> = (0..=bounds.len() - k)
        .map(|i| base_hash(&norm[bounds[i].0..bounds[i + k - 1].1]))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// The signature of `text`.
pub fn signature(text: &str) -> Signature {
    signature_of_hashes(&shingle_hashes(text))
}

/// The signature of a set of base hashes (step 4 and 5).
pub fn signature_of_hashes(hashes: &[u64]) -> Signature {
    let coeffs = coefficients();
    let mut sig = [u64::MAX; NUM_HASHES];
    for &x in hashes {
        for (slot, &(a, b)) in sig.iter_mut().zip(coeffs.iter()) {
            let h = mod_mersenne61(u128::from(a) * u128::from(x) + u128::from(b));
            *slot = (*slot).min(h);
        }
    }
    sig
}

/// The signature exactly as steps 1–5 say, one string a shingle (the reference that
/// [`signature`] is tested against).
pub fn signature_reference(text: &str) -> Signature {
    let coeffs = coefficients();
    let mut sig = [u64::MAX; NUM_HASHES];
    for s in shingles(text) {
        let x = base_hash(&s);
        for (slot, &(a, b)) in sig.iter_mut().zip(coeffs.iter()) {
            let h = mod_mersenne61(u128::from(a) * u128::from(x) + u128::from(b));
            *slot = (*slot).min(h);
        }
    }
    sig
}

/// Whether two signatures collide in at least one band.
pub fn lsh_candidate(a: &Signature, b: &Signature) -> bool {
    a.chunks(ROWS)
        .zip(b.chunks(ROWS))
        .any(|(x, y)| x == y && x[0] != u64::MAX)
}

/// The estimated Jaccard similarity: the share of agreeing positions.
pub fn estimated_jaccard(a: &Signature, b: &Signature) -> f64 {
    if a[0] == u64::MAX || b[0] == u64::MAX {
        return 0.0;
    }
    let same = a.iter().zip(b.iter()).filter(|(x, y)| x == y).count();
    same as f64 / NUM_HASHES as f64
}

/// The exact Jaccard similarity of two texts' shingle sets (the quantity estimated).
pub fn exact_jaccard(a: &str, b: &str) -> f64 {
    use std::collections::HashSet;
    let sa: HashSet<String> = shingles(a).into_iter().collect();
    let sb: HashSet<String> = shingles(b).into_iter().collect();
    if sa.is_empty() && sb.is_empty() {
        return 0.0;
    }
    sa.intersection(&sb).count() as f64 / sa.union(&sb).count() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "The ferry left the harbour an hour late, because the pilot had \
        gone looking for his dog among the fish crates on the quay, and nobody on board \
        thought it reasonable to sail without either of them.";

    #[test]
    fn mersenne_reduction_equals_the_remainder() {
        let mut state = 7u64;
        for _ in 0..10_000 {
            let a = u128::from(splitmix64(&mut state) % P);
            let x = u128::from(splitmix64(&mut state) % P);
            let b = u128::from(splitmix64(&mut state) % P);
            let v = a * x + b;
            assert_eq!(u128::from(mod_mersenne61(v)), v % u128::from(P));
        }
        let max = u128::from(P - 1) * u128::from(P - 1) + u128::from(P - 1);
        assert_eq!(u128::from(mod_mersenne61(max)), max % u128::from(P));
    }

    #[test]
    fn fast_signature_equals_the_reference_steps() {
        for t in [
            "",
            "...",
            "one",
            "a b c d",
            "a b c d e",
            A,
            "ÀÉÎ straße İstanbul ǅ Σίσυφος, the the the the the the the the",
            "x\u{0130}y  \u{1E9E}\u{00DF} 42 42 42 42 42 42 ",
        ] {
            assert_eq!(signature(t), signature_reference(t), "{t:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_signature_equals_the_reference_on_any_text(t in "[a-cA-CİßΣσ0-9 ,.\\-]{0,80}") {
            proptest::prop_assert_eq!(signature(&t), signature_reference(&t));
        }
    }

    #[test]
    fn words_are_lowercased_alphanumeric_runs() {
        assert_eq!(words("Hello, Wörld! 42x"), vec!["hello", "wörld", "42x"]);
        assert_eq!(shingles("a b"), vec!["a b"]);
        assert!(shingles("...").is_empty());
        assert_eq!(shingles("a b c d e f").len(), 2);
    }

    #[test]
    fn identical_texts_agree_everywhere_and_unrelated_ones_almost_nowhere() {
        let b = "Quarterly rainfall figures for the upland stations were revised after \
                 the calibration error in two of the gauges came to light last spring.";
        assert_eq!(estimated_jaccard(&signature(A), &signature(A)), 1.0);
        assert!(lsh_candidate(&signature(A), &signature(A)));
        assert!(estimated_jaccard(&signature(A), &signature(b)) < 0.1);
        assert!(!lsh_candidate(&signature(A), &signature(b)));
        assert_eq!(estimated_jaccard(&signature(""), &signature("")), 0.0);
    }

    #[test]
    fn estimate_tracks_exact_jaccard_of_an_edited_text() {
        let edited = A
            .replace("an hour late", "forty minutes late")
            .replace("dog", "cat");
        let exact = exact_jaccard(A, &edited);
        let est = estimated_jaccard(&signature(A), &signature(&edited));
        // 128 hashes: standard error sqrt(J(1-J)/128) ≤ 0.045; allow 4 of them.
        assert!((exact - est).abs() < 0.18, "exact {exact}, estimated {est}");
        assert!(exact > 0.2 && exact < 0.9);
    }
}
