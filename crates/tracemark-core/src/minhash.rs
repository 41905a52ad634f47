//! MinHash sketches of texts (Broder 1997): the one definition that the transparency log
//! (a generation record's sketch, its LSH look-up keys) and the corpus index (a
//! document's signature in a shard) share, so that "how similar are these two texts" has
//! one answer everywhere. Banding follows Leskovec, Rajaraman & Ullman, *Mining of
//! Massive Datasets*, ch. 3.
//!
//! A [`Sketch`] carries its [`Scheme`], and only sketches of one scheme are compared
//! ([`Sketch::similarity`] is 0 across schemes): to compare a text with a stored sketch
//! of another scheme, sketch the text in that scheme ([`Sketch::similarity_to_text`]).
//!
//! # The current scheme, `minhash-sha256-w5x128-v2` ([`Scheme::V2`]), exactly
//!
//! 1. **Words**: the maximal runs of alphanumeric characters (Rust's
//!    `char::is_alphanumeric`: the Unicode `Alphabetic` property or general category `Nd`,
//!    `Nl` or `No`); every character lower-cased on its own with `char::to_lowercase`
//!    (the full Unicode mapping without context, so `Σ` is always `σ`, `İ` is `i̇`). No
//!    other normalisation.
//! 2. **Shingles**: every run of [`SHINGLE_WORDS`] = 5 consecutive words, joined by one
//!    space (U+0020), as UTF-8. A text of 1 to 4 words has one shingle (all its words); a
//!    text with no words has none. Repeated shingles count once (a set).
//! 3. **Base hash** of a shingle: `x` = the first 8 bytes of `SHA-256(shingle)` read as a
//!    little-endian u64, reduced modulo the Mersenne prime `p = 2^61 − 1`.
//! 4. **Permutations**: SplitMix64 with state `s` = [`V2_SEED`] (`0x74726163656d6b31`,
//!    "tracemk1"), where each output is `s += 0x9E3779B97F4A7C15; z = s;
//!    z = (z ^ (z >> 30)) · 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) · 0x94D049BB133111EB;
//!    z ^ (z >> 31)` (wrapping u64 arithmetic). For `i` in `0..128`, in order,
//!    `a_i = (output mod p) | 1` and then `b_i = output mod p`; `h_i(x) = (a_i · x + b_i)
//!    mod p` in 128-bit arithmetic.
//! 5. **Values**: `value[i]` = the minimum of `h_i` over the shingles, a u64 below `p`;
//!    a text without shingles has 128 × `u64::MAX` (the *empty* sketch, which matches
//!    nothing).
//! 6. **Bands** (LSH): [`BANDS`] = 32 bands of [`ROWS`] = 4 consecutive values. Two
//!    texts of Jaccard similarity `J` share a band with probability `1 − (1 − J⁴)³²`:
//!    0.05 at J = 0.2, 0.5 at J ≈ 0.38, 0.87 at J = 0.5, 0.9998 at J = 0.7. A band's
//!    64-bit key ([`Sketch::band_keys`]) is the first 8 bytes, big-endian, of
//!    `SHA-256("tracemark.minhash-band/v2" ‖ its 4 values as u64 big-endian)`.
//! 7. **Estimate**: the Jaccard similarity of the two shingle sets is estimated by the
//!    share of the 128 positions where the values are equal (standard error
//!    `√(J(1 − J)/128)`, ≈ 0.044 at J = 0.5); 0 when either sketch is empty.
//!
//! Written forms: JSON `{"scheme": "<id>", "values": "<base64>"}` (standard alphabet,
//! padded) of the 128 values as big-endian u64 (1,024 bytes); the binary form
//! ([`Sketch::to_bytes`], what a database column keeps) is the byte `0x02` and then
//! those 1,024 bytes.
//!
//! ## Why this definition
//!
//! It was the corpus index's (whose shards written before scheme ids existed hold
//! exactly these values, so they read as this scheme); the log's first scheme is kept
//! as [`Scheme::LedgerV1`] to read and compare old records. This one is the better of the
//! two:
//!
//! - Words are Unicode alphanumeric runs, so punctuation and quotes do not make
//!   different words of one (`cat.` and `cat` are the same word; v1 split on white space
//!   only, so re-punctuating a sentence changed every shingle that held it).
//! - Values are the full `mod p` residues (61 bits). v1 kept them mod 2^32, so two
//!   different minima agree by chance with probability about 2^−32 per position and, worse,
//!   the empty value `0xffffffff` is also a value a real text can take; here `u64::MAX`
//!   is no residue, so *empty* is unambiguous.
//! - Its fast path hashes each shingle once as a slice of one buffer and reduces
//!   mod p without division, measured on the index's build.
//!
//! # The log's first scheme, `minhash-sha256-w5x128-v1` ([`Scheme::LedgerV1`]), exactly
//!
//! Kept so that records already in logs still parse, keep their canonical bytes and look-up
//! keys, and can be compared with a text sketched in this scheme. New sketches use V2.
//!
//! 1. Words: the text split on Unicode white space (`char::is_whitespace`), each word
//!    lower-cased with `str::to_lowercase` (which maps a final `Σ` to `ς`).
//! 2. Shingles: as in V2 (5 words joined by one space; 1 to 4 words one shingle; none,
//!    none).
//! 3. Base hash: `x` = the first 8 bytes of `SHA-256(shingle)` as a **big-endian** u64,
//!    reduced mod `p = 2^61 − 1`.
//! 4. For `i` in `0..128`: `d = SHA-256("tracemark.minhash/v1" ‖ u32_be(i))`;
//!    `a_i = (u64_be(d[0..8]) mod (p − 1)) + 1`, `b_i = u64_be(d[8..16]) mod p`;
//!    `h_i(x) = ((a_i · x + b_i) mod p) mod 2^32`.
//! 5. `value[i]` = the minimum of `h_i` over the shingles (a u32); 128 × `0xffffffff`
//!    for a text without shingles.
//! 6. Bands: 32 of 4 values; a band's key is `((A ^ (rotl(B, 29) · 0x9E3779B97F4A7C15))
//!    · 0xBF58476D1CE4E5B9)` (wrapping u64) with `A = v0 << 32 | v1`, `B = v2 << 32 | v3`.
//! 7. Written forms: JSON values are the 128 values as big-endian u32 (512 bytes); the
//!    binary form is those 512 bytes, untagged.

use std::sync::OnceLock;

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// Values in a sketch (hash functions).
pub const NUM_HASHES: usize = 128;
/// Words per shingle (word 5-grams, as Lee et al. and FineWeb use).
pub const SHINGLE_WORDS: usize = 5;
/// LSH bands. 32 bands of 4 rows is a low threshold, because the point is
/// paraphrase-level overlap (deduplication pipelines use about 0.7–0.75).
pub const BANDS: usize = 32;
/// Values per band.
pub const ROWS: usize = NUM_HASHES / BANDS;
/// The SplitMix64 seed of [`Scheme::V2`]'s permutations ("tracemk1").
pub const V2_SEED: u64 = 0x7472_6163_656d_6b31;

/// `p = 2^61 − 1`.
const P: u64 = (1 << 61) - 1;

/// A document's MinHash values.
pub type Signature = [u64; NUM_HASHES];

/// A MinHash definition, by its versioned id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// `minhash-sha256-w5x128-v1`: the log's first scheme (read, and sketched to compare
    /// with records that carry it; not written any more).
    LedgerV1,
    /// `minhash-sha256-w5x128-v2`: the current scheme.
    V2,
}

impl Scheme {
    /// The scheme new sketches are made in.
    pub const CURRENT: Scheme = Scheme::V2;
    /// Every scheme this build reads, the current one first.
    pub const ALL: [Scheme; 2] = [Scheme::V2, Scheme::LedgerV1];

    /// The scheme id, as sketches and manifests name it.
    pub const fn id(self) -> &'static str {
        match self {
            Scheme::LedgerV1 => "minhash-sha256-w5x128-v1",
            Scheme::V2 => "minhash-sha256-w5x128-v2",
        }
    }

    /// The scheme of an id, if this build knows it.
    pub fn from_id(id: &str) -> Option<Scheme> {
        Scheme::ALL.into_iter().find(|s| s.id() == id)
    }

    /// The value of every position of the sketch of a text without shingles.
    pub const fn empty_value(self) -> u64 {
        match self {
            Scheme::LedgerV1 => u32::MAX as u64,
            Scheme::V2 => u64::MAX,
        }
    }

    /// The sketch of `text` in this scheme.
    pub fn sketch(self, text: &str) -> Sketch {
        let values = match self {
            Scheme::LedgerV1 => v1::values(text),
            Scheme::V2 => signature_of_hashes(&shingle_hashes(text)),
        };
        Sketch {
            scheme: self,
            values: Box::new(values),
        }
    }

    /// The shingles of `text` as this scheme reads them (steps 1 and 2), with repeats.
    pub fn shingles(self, text: &str) -> Vec<String> {
        let words = match self {
            Scheme::LedgerV1 => text.split_whitespace().map(str::to_lowercase).collect(),
            Scheme::V2 => words(text),
        };
        join_shingles(&words)
    }

    /// The exact Jaccard similarity of two texts' shingle sets in this scheme (what a
    /// sketch estimates); 0 when both have none.
    pub fn exact_jaccard(self, a: &str, b: &str) -> f64 {
        use std::collections::HashSet;
        let sa: HashSet<String> = self.shingles(a).into_iter().collect();
        let sb: HashSet<String> = self.shingles(b).into_iter().collect();
        if sa.is_empty() && sb.is_empty() {
            return 0.0;
        }
        sa.intersection(&sb).count() as f64 / sa.union(&sb).count() as f64
    }

    /// Bytes per value in the JSON and binary forms.
    const fn value_bytes(self) -> usize {
        match self {
            Scheme::LedgerV1 => 4,
            Scheme::V2 => 8,
        }
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// A MinHash sketch of a text, in one [`Scheme`].
///
/// Serialised as `{"scheme": "<id>", "values": "<base64>"}` (see the module
/// documentation for the bytes of each scheme).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sketch {
    scheme: Scheme,
    /// Boxed: a record or a result that holds a sketch stays small to move.
    values: Box<Signature>,
}

impl Sketch {
    /// The sketch of `text` in the current scheme.
    pub fn of_text(text: &str) -> Sketch {
        Scheme::CURRENT.sketch(text)
    }

    /// A sketch from its values; `None` when a value is out of the scheme's range
    /// (a v1 value above `u32::MAX`, a V2 value that is neither below `p` nor empty).
    pub fn new(scheme: Scheme, values: Signature) -> Option<Sketch> {
        let ok = match scheme {
            Scheme::LedgerV1 => values.iter().all(|&v| v <= u64::from(u32::MAX)),
            Scheme::V2 => values.iter().all(|&v| v < P || v == u64::MAX),
        };
        ok.then(|| Sketch {
            scheme,
            values: Box::new(values),
        })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    pub fn values(&self) -> &Signature {
        &self.values
    }

    /// Whether this is the sketch of a text without shingles (it matches nothing).
    pub fn is_empty(&self) -> bool {
        let empty = self.scheme.empty_value();
        self.values.iter().all(|&v| v == empty)
    }

    /// The estimated Jaccard similarity: the share of equal positions. 0 when the two
    /// are of different schemes (they are not comparable) or either is empty.
    pub fn similarity(&self, other: &Sketch) -> f64 {
        if self.scheme != other.scheme || self.is_empty() || other.is_empty() {
            return 0.0;
        }
        let same = self
            .values
            .iter()
            .zip(other.values.iter())
            .filter(|(a, b)| a == b)
            .count();
        same as f64 / NUM_HASHES as f64
    }

    /// The similarity of this sketch to `text`, sketched in this sketch's scheme.
    pub fn similarity_to_text(&self, text: &str) -> f64 {
        self.similarity(&self.scheme.sketch(text))
    }

    /// Whether the two share at least one LSH band (the candidate test), same scheme
    /// and neither empty.
    pub fn lsh_candidate(&self, other: &Sketch) -> bool {
        self.scheme == other.scheme
            && !self.is_empty()
            && !other.is_empty()
            && self
                .values
                .chunks(ROWS)
                .zip(other.values.chunks(ROWS))
                .any(|(x, y)| x == y)
    }

    /// The 64-bit key of each band (step 6 of the scheme's definition): two sketches
    /// share a band exactly when they share its key, up to 64-bit collisions.
    pub fn band_keys(&self) -> [u64; BANDS] {
        std::array::from_fn(|band| {
            let v = &self.values[band * ROWS..(band + 1) * ROWS];
            match self.scheme {
                Scheme::LedgerV1 => {
                    let a = (v[0] << 32) | v[1];
                    let b = (v[2] << 32) | v[3];
                    (a ^ b.rotate_left(29).wrapping_mul(0x9E37_79B9_7F4A_7C15))
                        .wrapping_mul(0xBF58_476D_1CE4_E5B9)
                }
                Scheme::V2 => {
                    let mut h = Sha256::new();
                    h.update(b"tracemark.minhash-band/v2");
                    for x in v {
                        h.update(x.to_be_bytes());
                    }
                    u64_be(&h.finalize()[..8])
                }
            }
        })
    }

    /// The values as the JSON form's bytes (big-endian, the scheme's width).
    fn value_bytes(&self) -> Vec<u8> {
        match self.scheme {
            Scheme::LedgerV1 => self
                .values
                .iter()
                .flat_map(|&v| (v as u32).to_be_bytes())
                .collect(),
            Scheme::V2 => self.values.iter().flat_map(|v| v.to_be_bytes()).collect(),
        }
    }

    /// The values from the JSON form's bytes.
    fn from_value_bytes(scheme: Scheme, bytes: &[u8]) -> Option<Sketch> {
        let width = scheme.value_bytes();
        if bytes.len() != NUM_HASHES * width {
            return None;
        }
        let mut values = [0u64; NUM_HASHES];
        for (v, chunk) in values.iter_mut().zip(bytes.chunks_exact(width)) {
            *v = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        }
        Sketch::new(scheme, values)
    }

    /// The binary form: v1's 512 bytes as they are (what logs have stored), and for V2
    /// the byte `0x02` and then its 1,024 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self.scheme {
            Scheme::LedgerV1 => self.value_bytes(),
            Scheme::V2 => {
                let mut out = Vec::with_capacity(1 + NUM_HASHES * 8);
                out.push(0x02);
                out.extend(self.value_bytes());
                out
            }
        }
    }

    /// Reads the binary form; `None` when it is not one.
    pub fn from_bytes(bytes: &[u8]) -> Option<Sketch> {
        match bytes {
            b if b.len() == NUM_HASHES * 4 => Sketch::from_value_bytes(Scheme::LedgerV1, b),
            [0x02, rest @ ..] => Sketch::from_value_bytes(Scheme::V2, rest),
            _ => None,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SketchJson {
    scheme: String,
    values: String,
}

impl Serialize for Sketch {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SketchJson {
            scheme: self.scheme.id().into(),
            values: BASE64.encode(self.value_bytes()),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Sketch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let json = SketchJson::deserialize(d)?;
        let scheme = Scheme::from_id(&json.scheme).ok_or_else(|| {
            let known: Vec<&str> = Scheme::ALL.iter().map(|s| s.id()).collect();
            D::Error::custom(format!(
                "unknown sketch scheme `{}` (this build reads {})",
                json.scheme,
                known.join(", ")
            ))
        })?;
        let bytes = BASE64
            .decode(&json.values)
            .map_err(|_| D::Error::custom("the sketch values are not base64"))?;
        Sketch::from_value_bytes(scheme, &bytes).ok_or_else(|| {
            D::Error::custom(format!(
                "a {scheme} sketch has 128 values of {} bytes, each in its range",
                scheme.value_bytes()
            ))
        })
    }
}

/// The words of `text` in [`Scheme::V2`] (step 1).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(char::to_lowercase).collect())
        .collect()
}

/// Step 2: shingles of a list of words.
fn join_shingles(words: &[String]) -> Vec<String> {
    if words.is_empty() {
        return Vec::new();
    }
    if words.len() < SHINGLE_WORDS {
        return vec![words.join(" ")];
    }
    words.windows(SHINGLE_WORDS).map(|w| w.join(" ")).collect()
}

fn u64_be(bytes: &[u8]) -> u64 {
    u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"))
}

/// [`Scheme::V2`]'s base hash of one shingle (step 3).
fn base_hash(shingle: &str) -> u64 {
    let d = Sha256::digest(shingle.as_bytes());
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes")) % P
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// [`Scheme::V2`]'s `(a_i, b_i)` (step 4), derived once.
fn coefficients() -> &'static [(u64, u64); NUM_HASHES] {
    static COEFFS: OnceLock<[(u64, u64); NUM_HASHES]> = OnceLock::new();
    COEFFS.get_or_init(|| {
        let mut state = V2_SEED;
        std::array::from_fn(|_| {
            let a = (splitmix64(&mut state) % P) | 1;
            let b = splitmix64(&mut state) % P;
            (a, b)
        })
    })
}

/// `v mod (2^61 − 1)` for `v < 2^122 + 2^61`, without a division (Mersenne reduction:
/// `2^61 ≡ 1`), so the result is exactly `v % P`.
#[inline]
fn mod_mersenne61(v: u128) -> u64 {
    let folded = (v & u128::from(P)) + (v >> 61);
    let folded = (folded & u128::from(P)) + (folded >> 61);
    let r = folded as u64;
    if r >= P { r - P } else { r }
}

/// The [`Scheme::V2`] base hashes of `text`'s distinct shingles, sorted.
///
/// Equal to hashing every string of [`Scheme::shingles`], without allocating one: the
/// words are written once, lower-cased and separated by single spaces, into one buffer,
/// and each shingle is a slice of it.
pub fn shingle_hashes(text: &str) -> Vec<u64> {
    let mut norm = String::with_capacity(text.len());
    // Byte offsets in `norm` where each word starts and ends.
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

/// [`Scheme::V2`]'s values of a set of base hashes (steps 4 and 5).
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

/// [`Scheme::LedgerV1`], as its definition says (one string a shingle).
mod v1 {
    use super::*;

    /// The `(a_i, b_i)` of step 4, derived once.
    fn params() -> &'static [(u64, u64); NUM_HASHES] {
        static PARAMS: OnceLock<[(u64, u64); NUM_HASHES]> = OnceLock::new();
        PARAMS.get_or_init(|| {
            std::array::from_fn(|i| {
                let d = Sha256::new()
                    .chain_update(b"tracemark.minhash/v1")
                    .chain_update((i as u32).to_be_bytes())
                    .finalize();
                (u64_be(&d[..8]) % (P - 1) + 1, u64_be(&d[8..16]) % P)
            })
        })
    }

    pub(super) fn values(text: &str) -> Signature {
        let mut values = [u64::from(u32::MAX); NUM_HASHES];
        for shingle in Scheme::LedgerV1.shingles(text) {
            let x = u64_be(&Sha256::digest(shingle.as_bytes())[..8]) % P;
            for (v, &(a, b)) in values.iter_mut().zip(params().iter()) {
                let h = ((u128::from(a) * u128::from(x) + u128::from(b)) % u128::from(P)) as u32;
                *v = (*v).min(u64::from(h));
            }
        }
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "The ferry left the harbour an hour late, because the pilot had \
        gone looking for his dog among the fish crates on the quay, and nobody on board \
        thought it reasonable to sail without either of them.";

    /// V2 exactly as the module documentation's steps say, one string a shingle: the
    /// reference that the fast path is tested against.
    fn v2_reference(text: &str) -> Signature {
        let coeffs = coefficients();
        let mut sig = [u64::MAX; NUM_HASHES];
        for s in Scheme::V2.shingles(text) {
            let x = base_hash(&s);
            for (slot, &(a, b)) in sig.iter_mut().zip(coeffs.iter()) {
                let h = (u128::from(a) * u128::from(x) + u128::from(b)) % u128::from(P);
                *slot = (*slot).min(h as u64);
            }
        }
        sig
    }

    /// Pins V2 exactly: another implementation must produce these values. They are the
    /// values the corpus index's MinHash wrote before it moved here (computed with that
    /// code), so shards written then read as V2.
    #[test]
    fn v2_values_are_pinned() {
        let fold = |s: &Signature| s.iter().fold(0u64, |a, v| a.rotate_left(7) ^ v);
        let cases: [(&str, [u64; 4], [u64; 4], u64); 3] = [
            (
                "The quick brown fox jumps over the lazy dog",
                [
                    538515390840498039,
                    309542477923698144,
                    499232592676403478,
                    247675147224361877,
                ],
                [
                    1174977091162360039,
                    552031242091045413,
                    43710683197284245,
                    1017365215253915825,
                ],
                12443822222192420568,
            ),
            (
                "Ünïcödé Straße, ΣΊΣΥΦΟΣ: the cat's 42 hats!",
                [
                    180336180668440710,
                    159284896749083754,
                    51510977502077665,
                    768302544714720146,
                ],
                [
                    108972455180228180,
                    70693286588871411,
                    63507527427711112,
                    307369937398496508,
                ],
                6847812066357259545,
            ),
            (
                "one two",
                [
                    2230913885434437183,
                    1481300646034380150,
                    1714424897834541112,
                    2302949508576783807,
                ],
                [
                    1129873860386048298,
                    2032164238508776534,
                    1786864006284180102,
                    2265036005106875927,
                ],
                4446352148954202555,
            ),
        ];
        for (text, first, last, folded) in cases {
            let s = Scheme::V2.sketch(text);
            assert_eq!(s.values()[..4], first, "{text}");
            assert_eq!(s.values()[124..], last, "{text}");
            assert_eq!(fold(s.values()), folded, "{text}");
        }
        assert_eq!(coefficients()[0], (438316925552607483, 1664293380371998126));
        assert_eq!(
            coefficients()[127],
            (631968676147088859, 1341602686698238623)
        );
        // The first value, from the steps by hand.
        let x = base_hash("the quick brown fox jumps");
        let (a, b) = coefficients()[0];
        let h0 = ((u128::from(a) * u128::from(x) + u128::from(b)) % u128::from(P)) as u64;
        let s = Sketch::of_text("The quick brown fox jumps over the lazy dog");
        assert!(s.values()[0] <= h0);
        assert_eq!(s.scheme(), Scheme::V2);
        assert!(Sketch::of_text("").is_empty());
        assert_eq!(Sketch::of_text("").values(), &[u64::MAX; NUM_HASHES]);
    }

    /// Pins the log's first scheme (these values were pinned in the ledger before).
    #[test]
    fn ledger_v1_values_are_pinned() {
        let s = Scheme::LedgerV1.sketch("The quick brown fox jumps over the lazy dog");
        assert_eq!(
            s.values()[..4],
            [178667061, 203883604, 52116765, 2087238447]
        );
        assert_eq!(Scheme::LedgerV1.shingles("A b  c\td e F").len(), 2);
        assert_eq!(Scheme::LedgerV1.shingles("A b")[0], "a b");
        // v1 keeps punctuation in words; V2 does not.
        assert_eq!(Scheme::LedgerV1.shingles("Cat. dog")[0], "cat. dog");
        assert_eq!(Scheme::V2.shingles("Cat. dog")[0], "cat dog");
        assert!(Scheme::LedgerV1.sketch(" \n").is_empty());
    }

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
    fn fast_path_equals_the_reference_steps() {
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
            assert_eq!(Scheme::V2.sketch(t).values(), &v2_reference(t), "{t:?}");
        }
        // Random texts over an alphabet with case, non-ASCII letters, digits, separators.
        let alphabet: Vec<char> = "abcABCİßΣσ09 ,.-\t".chars().collect();
        let mut state = 1u64;
        for _ in 0..2_000 {
            let len = (splitmix64(&mut state) % 80) as usize;
            let t: String = (0..len)
                .map(|_| alphabet[(splitmix64(&mut state) % alphabet.len() as u64) as usize])
                .collect();
            assert_eq!(Scheme::V2.sketch(&t).values(), &v2_reference(&t), "{t:?}");
        }
    }

    #[test]
    fn words_are_lowercased_alphanumeric_runs() {
        assert_eq!(words("Hello, Wörld! 42x"), vec!["hello", "wörld", "42x"]);
        assert_eq!(Scheme::V2.shingles("a b"), vec!["a b"]);
        assert!(Scheme::V2.shingles("...").is_empty());
        assert_eq!(Scheme::V2.shingles("a b c d e f").len(), 2);
    }

    #[test]
    fn identical_texts_agree_everywhere_and_unrelated_ones_almost_nowhere() {
        let b = "Quarterly rainfall figures for the upland stations were revised after \
                 the calibration error in two of the gauges came to light last spring.";
        for scheme in Scheme::ALL {
            let (sa, sb) = (scheme.sketch(A), scheme.sketch(b));
            assert_eq!(sa.similarity(&sa), 1.0);
            assert!(sa.lsh_candidate(&sa));
            assert!(sa.similarity(&sb) < 0.1);
            assert!(!sa.lsh_candidate(&sb));
            assert_eq!(scheme.sketch("").similarity(&scheme.sketch("")), 0.0);
            assert!(!scheme.sketch("").lsh_candidate(&scheme.sketch("")));
            assert_eq!(sa.similarity_to_text(A), 1.0);
        }
        // Sketches of different schemes are never compared.
        let (v1, v2) = (Scheme::LedgerV1.sketch(A), Scheme::V2.sketch(A));
        assert_eq!(v1.similarity(&v2), 0.0);
        assert!(!v1.lsh_candidate(&v2));
        assert_eq!(v1.similarity_to_text(A), 1.0);
    }

    #[test]
    fn estimates_track_the_exact_jaccard_of_an_edited_text() {
        let edited = A
            .replace("an hour late", "forty minutes late")
            .replace("dog", "cat");
        for scheme in Scheme::ALL {
            let exact = scheme.exact_jaccard(A, &edited);
            let est = scheme.sketch(A).similarity(&scheme.sketch(&edited));
            // 128 values: standard error √(J(1−J)/128) ≤ 0.045; allow 4 of them.
            assert!(
                (exact - est).abs() < 0.18,
                "{scheme}: exact {exact}, est {est}"
            );
            assert!(exact > 0.2 && exact < 0.9);
        }
        // Re-punctuating changes v1's words, not V2's.
        let repunct = A.replace(',', ";").replace('.', "!");
        assert_eq!(Scheme::V2.exact_jaccard(A, &repunct), 1.0);
        assert!(Scheme::LedgerV1.exact_jaccard(A, &repunct) < 0.8);
    }

    #[test]
    fn written_forms_round_trip_and_name_their_scheme() {
        for scheme in Scheme::ALL {
            for text in [A, ""] {
                let s = scheme.sketch(text);
                let json = serde_json::to_string(&s).unwrap();
                assert!(json.starts_with(&format!("{{\"scheme\":\"{}\"", scheme.id())));
                assert_eq!(serde_json::from_str::<Sketch>(&json).unwrap(), s);
                assert_eq!(Sketch::from_bytes(&s.to_bytes()).unwrap(), s);
                assert_eq!(Scheme::from_id(scheme.id()), Some(scheme));
            }
        }
        assert_eq!(Scheme::LedgerV1.sketch(A).to_bytes().len(), 512);
        assert_eq!(Scheme::V2.sketch(A).to_bytes().len(), 1025);
        assert_eq!(Scheme::V2.sketch(A).to_bytes()[0], 2);
        // Refused: an unknown scheme, the wrong width, values out of range, bad lengths.
        let json = serde_json::to_string(&Scheme::V2.sketch(A)).unwrap();
        for bad in [
            json.replace("-v2", "-v9"),
            json.replace("-v2", "-v1"),
            json.replacen("\"values\":\"", "\"values\":\"AAAA", 1),
            json.replacen('{', "{\"extra\":1,", 1),
        ] {
            assert!(serde_json::from_str::<Sketch>(&bad).is_err(), "{bad}");
        }
        assert!(Sketch::new(Scheme::LedgerV1, [u64::from(u32::MAX) + 1; NUM_HASHES]).is_none());
        assert!(Sketch::new(Scheme::V2, [P; NUM_HASHES]).is_none());
        assert!(Sketch::from_bytes(&[0x02; 1024]).is_none());
        assert!(Sketch::from_bytes(&[0x03; 1025]).is_none());
        assert!(Sketch::from_bytes(&[]).is_none());
    }

    /// The band keys: v1's as the log has always written them; V2's by SHA-256.
    #[test]
    fn band_keys_are_pinned() {
        let a = Scheme::V2.sketch(A);
        let v = &a.values()[..ROWS];
        let mut h = Sha256::new();
        h.update(b"tracemark.minhash-band/v2");
        for x in v {
            h.update(x.to_be_bytes());
        }
        assert_eq!(a.band_keys()[0], u64_be(&h.finalize()));
        let text = "Once upon a time, a little fox called Pip found a shiny red ball in \
            the tall grass near the river. Pip rolled the ball to his friend the owl, and \
            they played until the sun went down.";
        // Computed with the log's code before it moved here.
        let keys = Scheme::LedgerV1.sketch(text).band_keys();
        assert_eq!(
            keys[..4].iter().map(|&k| k as i64).collect::<Vec<_>>(),
            [
                -51306109656878004,
                586007546624939893,
                4662575386170816877,
                3283891057730150868
            ]
        );
    }
}
