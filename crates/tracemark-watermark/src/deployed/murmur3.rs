//! MurmurHash3 x86_32 (Austin Appleby, SMHasher, public domain), and the word form SGLang
//! hashes with.
//!
//! SGLang's watermark (`python/sglang/srt/sampling/watermarking/detector.py`) hashes a
//! sequence of u32 words: that is MurmurHash3_x86_32 with seed 0 over the words' 4-byte
//! little-endian encodings, whose length in bytes is `4 · words` ([`hash_words`]). The
//! x64_128 variant is not implemented: neither SGLang nor vLLM uses it.

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

#[inline]
fn mix_k(k: u32) -> u32 {
    k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

/// Folds one 32-bit block into the state.
#[inline]
pub fn mix(state: u32, word: u32) -> u32 {
    (state ^ mix_k(word))
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

/// The finaliser `fmix32`.
#[inline]
pub fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// MurmurHash3_x86_32 of `data` under `seed`.
pub fn x86_32(data: &[u8], seed: u32) -> u32 {
    let mut h = seed;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        h = mix(
            h,
            u32::from_le_bytes([block[0], block[1], block[2], block[3]]),
        );
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, &b) in tail.iter().enumerate() {
            k |= u32::from(b) << (8 * i);
        }
        h ^= mix_k(k);
    }
    fmix32(h ^ data.len() as u32)
}

/// MurmurHash3_x86_32 with seed 0 over `words` as little-endian bytes, without building
/// the bytes: SGLang's `_murmur3_words`.
pub fn hash_words(words: &[u32]) -> u32 {
    let h = words.iter().fold(0u32, |h, &w| mix(h, w));
    fmix32(h ^ (4 * words.len() as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The commonly published MurmurHash3_x86_32 vectors (SMHasher's verification values
    /// as reproduced by its ports).
    #[test]
    fn published_x86_32_vectors() {
        let cases: [(&[u8], u32, u32); 9] = [
            (b"", 0, 0),
            (b"", 1, 0x514e_28b7),
            (b"", 0xffff_ffff, 0x81f1_6f39),
            (b"\0\0\0\0", 0, 0x2362_f9de),
            (b"aaaa", 0x9747_b28c, 0x5a97_808a),
            (b"Hello, world!", 0x9747_b28c, 0x2488_4cba),
            (
                b"The quick brown fox jumps over the lazy dog",
                0x9747_b28c,
                0x2fa8_26cd,
            ),
            (b"test", 0, 0xba6b_d213),
            (b"\x21\x43\x65\x87", 0x5082_edee, 0x2362_f9de),
        ];
        for (data, seed, want) in cases {
            assert_eq!(x86_32(data, seed), want, "{data:?} seed {seed:#x}");
        }
    }

    #[test]
    fn the_word_form_is_x86_32_over_little_endian_bytes() {
        for words in [
            vec![],
            vec![1u32],
            vec![1, 2, 3, 4],
            vec![u32::MAX, 7, 0, 99, 5],
        ] {
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            assert_eq!(hash_words(&words), x86_32(&bytes, 0));
        }
    }
}
