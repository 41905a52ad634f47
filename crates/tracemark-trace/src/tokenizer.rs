//! Tokenizers the index accepts, and the identity recorded in every shard.
//!
//! Tokens are 16-bit so that a shard's token file is byte for byte infini-gram's `u16`
//! format: each document is written as the separator [`SEP`] (0xFFFF) and its tokens, in
//! little-endian order. A tokenizer therefore must produce ids below 0xFFFF.

use std::ops::Range;

use sha2::{Digest, Sha256};

use crate::TraceError;

/// The document separator of the token file (infini-gram's all-ones `u16`).
pub const SEP: u16 = 0xFFFF;

/// A tokenizer an index can be built and queried with.
pub trait IndexTokenizer: Send + Sync {
    /// A stable identity (`sha256:...`); a shard records it and refuses other tokenizers.
    fn identity(&self) -> String;

    /// Human-readable name for reports.
    fn name(&self) -> String;

    /// Number of ids (every id is below this and below [`SEP`]).
    fn vocab_size(&self) -> usize;

    /// The tokens of `text`, each with the byte range of `text` it covers.
    fn encode(&self, text: &str) -> Result<Vec<(u16, Range<usize>)>, TraceError>;

    /// The text of `ids`, where the tokenizer can say (used to sign documents ingested
    /// as token ids); `None` when it cannot.
    fn decode(&self, _ids: &[u16]) -> Option<String> {
        None
    }

    /// Only the ids (the corpus needs no ranges).
    fn encode_ids(&self, text: &str) -> Result<Vec<u16>, TraceError> {
        Ok(self.encode(text)?.into_iter().map(|(t, _)| t).collect())
    }
}

/// The byte-level default: every UTF-8 byte `b` is token `b + 1`.
///
/// The `+1` is the scheme of the infini-gram comparison script (`make-corpus`): ids
/// 1..=256, 0 unused, so an index of text built here has the same token ids as the
/// anchor's corpus file and counts can be compared on the same queries.
#[derive(Debug, Clone, Copy, Default)]
pub struct ByteTokenizer;

/// Name hashed into [`ByteTokenizer`]'s identity; change it if the mapping ever changes.
const BYTE_TOKENIZER_NAME: &str = "tracemark.byte-plus-one/v1";

impl ByteTokenizer {
    /// The byte a token stands for, if it is a byte token.
    pub fn byte_of(token: u32) -> Option<u8> {
        (1..=256).contains(&token).then(|| (token - 1) as u8)
    }
}

impl IndexTokenizer for ByteTokenizer {
    fn identity(&self) -> String {
        format!(
            "sha256:{}",
            hex::encode(Sha256::digest(BYTE_TOKENIZER_NAME))
        )
    }

    fn name(&self) -> String {
        BYTE_TOKENIZER_NAME.to_owned()
    }

    fn vocab_size(&self) -> usize {
        257
    }

    fn encode(&self, text: &str) -> Result<Vec<(u16, Range<usize>)>, TraceError> {
        Ok(text
            .bytes()
            .enumerate()
            .map(|(i, b)| (u16::from(b) + 1, i..i + 1))
            .collect())
    }

    fn encode_ids(&self, text: &str) -> Result<Vec<u16>, TraceError> {
        Ok(text.bytes().map(|b| u16::from(b) + 1).collect())
    }

    fn decode(&self, ids: &[u16]) -> Option<String> {
        let bytes: Option<Vec<u8>> = ids.iter().map(|&t| Self::byte_of(t.into())).collect();
        Some(String::from_utf8_lossy(&bytes?).into_owned())
    }
}

/// Any `tracemark_lm::Tokenizer` (a model's own) as an index tokenizer.
#[cfg(feature = "lm")]
pub struct LmTokenizer<T>(pub T);

#[cfg(feature = "lm")]
impl<T> std::fmt::Debug for LmTokenizer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LmTokenizer")
    }
}

#[cfg(feature = "lm")]
impl<T: tracemark_lm::Tokenizer + Send + Sync> IndexTokenizer for LmTokenizer<T> {
    fn identity(&self) -> String {
        self.0.hash().to_string()
    }

    fn name(&self) -> String {
        format!("model tokenizer {}", self.0.hash())
    }

    fn vocab_size(&self) -> usize {
        self.0.vocab_size()
    }

    fn encode(&self, text: &str) -> Result<Vec<(u16, Range<usize>)>, TraceError> {
        let tokens = self
            .0
            .encode(text)
            .map_err(|e| TraceError::Tokenizer(e.to_string()))?;
        tokens
            .into_iter()
            .map(|(t, r)| match u16::try_from(t) {
                Ok(id) if id != SEP => Ok((id, r)),
                _ => Err(TraceError::TokenTooLarge { token: t }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_map_to_ids_one_to_256_with_their_ranges() {
        let t = ByteTokenizer.encode("aé").unwrap();
        assert_eq!(t, vec![(98, 0..1), (0xC3 + 1, 1..2), (0xA9 + 1, 2..3)]);
        assert_eq!(ByteTokenizer::byte_of(98), Some(b'a'));
        assert_eq!(ByteTokenizer::byte_of(0), None);
        assert!(ByteTokenizer.identity().starts_with("sha256:"));
    }
}
