//! The llama2.c tokenizer (`tokenizer.bin`): a SentencePiece-style BPE vocabulary with a
//! score per piece.
//!
//! File layout: `max_token_length: i32`, then for each token `score: f32`, `len: i32`,
//! `len` bytes of the piece, all little-endian. Pieces use plain spaces (the exporter
//! replaced SentencePiece's `▁`), and `<0xNN>` pieces stand for raw bytes.
//!
//! Encoding follows llama2.c: a dummy-prefix space, one piece per UTF-8 character (raw
//! byte pieces when a character has none), then repeatedly merge the adjacent pair whose
//! merged piece scores highest, leftmost first. llama2.c rescans every pair after every
//! merge (quadratic); here a heap with lazy invalidation finds the same merges in
//! O(n log n), since encoding sits in every detection request.

use std::{
    cmp::Ordering,
    collections::{BinaryHeap, HashMap},
    ops::Range,
    path::Path,
};

use tracemark_core::ContentHash;

use crate::{LmError, TokenId, Tokenizer};

/// Tokenizer files larger than this are refused (a real one is a few MB at most).
const MAX_FILE_BYTES: usize = 64 << 20;

/// A llama2.c `tokenizer.bin`.
#[derive(Debug, Clone)]
pub struct Llama2cTokenizer {
    pieces: Vec<Vec<u8>>,
    scores: Vec<f32>,
    lookup: HashMap<Vec<u8>, TokenId>,
    /// The token of each raw byte (`<0xNN>`), where the vocabulary has one.
    byte_tokens: [Option<TokenId>; 256],
    hash: ContentHash,
}

pub const UNK: TokenId = 0;
pub const BOS: TokenId = 1;
pub const EOS: TokenId = 2;

impl Llama2cTokenizer {
    pub fn load(path: &Path) -> Result<Self, LmError> {
        let bytes = crate::read_limited(path, MAX_FILE_BYTES)?;
        Self::parse(&bytes).map_err(|reason| LmError::bad(path, reason))
    }

    /// Parses `tokenizer.bin` bytes. The vocabulary size is whatever the file holds; the
    /// model checks that it matches its own.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut rest = bytes;
        fn take<'a>(rest: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8], String> {
            if rest.len() < n {
                return Err(format!("truncated in {what}"));
            }
            let (head, tail) = rest.split_at(n);
            *rest = tail;
            Ok(head)
        }
        let i32_at = |b: &[u8]| i32::from_le_bytes(b.try_into().expect("4 bytes"));
        let max_len = i32_at(take(&mut rest, 4, "the header")?);
        if !(1..=4096).contains(&max_len) {
            return Err(format!("implausible max token length {max_len}"));
        }
        let (mut pieces, mut scores) = (Vec::new(), Vec::new());
        while !rest.is_empty() {
            let score =
                f32::from_le_bytes(take(&mut rest, 4, "a score")?.try_into().expect("4 bytes"));
            let len = i32_at(take(&mut rest, 4, "a length")?);
            if len < 0 || len > max_len {
                return Err(format!(
                    "token {} has length {len}, max is {max_len}",
                    pieces.len()
                ));
            }
            if !score.is_finite() {
                return Err(format!("token {} has a non-finite score", pieces.len()));
            }
            pieces.push(take(&mut rest, len as usize, "a piece")?.to_vec());
            scores.push(score);
        }
        if pieces.len() < 3 {
            return Err("fewer than 3 tokens (unk, bos, eos)".into());
        }
        let mut lookup = HashMap::with_capacity(pieces.len());
        let mut byte_tokens = [None; 256];
        for (id, piece) in pieces.iter().enumerate() {
            let id = id as TokenId;
            // Keep the first id of a duplicated piece, as llama2.c's sorted lookup does.
            lookup.entry(piece.clone()).or_insert(id);
            if let Some(b) = byte_piece(piece) {
                byte_tokens[b as usize].get_or_insert(id);
            }
        }
        Ok(Self {
            pieces,
            scores,
            lookup,
            byte_tokens,
            hash: ContentHash::of_bytes(bytes),
        })
    }

    /// The raw bytes token `id` stands for.
    pub fn piece_bytes(&self, id: TokenId) -> Option<Vec<u8>> {
        let piece = self.pieces.get(id as usize)?;
        if matches!(id, UNK | BOS | EOS) {
            return Some(Vec::new());
        }
        Some(match byte_piece(piece) {
            Some(b) => vec![b],
            None => piece.clone(),
        })
    }

    pub fn piece(&self, id: TokenId) -> Option<&[u8]> {
        self.pieces.get(id as usize).map(Vec::as_slice)
    }

    pub fn score(&self, id: TokenId) -> Option<f32> {
        self.scores.get(id as usize).copied()
    }

    /// The initial symbols: the dummy prefix, then one piece per character (or its bytes).
    fn initial_symbols(&self, text: &str) -> Vec<Symbol> {
        let mut symbols = Vec::with_capacity(text.len() + 1);
        if !text.is_empty()
            && let Some(&space) = self.lookup.get(&b" "[..])
        {
            symbols.push(Symbol {
                id: space,
                range: 0..0,
            });
        }
        for (start, c) in text.char_indices() {
            let end = start + c.len_utf8();
            match self.lookup.get(&text.as_bytes()[start..end]) {
                Some(&id) => symbols.push(Symbol {
                    id,
                    range: start..end,
                }),
                None => {
                    for (i, &b) in text.as_bytes()[start..end].iter().enumerate() {
                        let id = self.byte_tokens[b as usize].unwrap_or(UNK);
                        // Each byte covers the whole character: a byte range never splits one.
                        let range = if i == 0 { start..end } else { end..end };
                        symbols.push(Symbol { id, range });
                    }
                }
            }
        }
        symbols
    }

    /// The merged piece of two adjacent tokens, if the vocabulary has it, with its score.
    fn merge_of(&self, left: TokenId, right: TokenId, buf: &mut Vec<u8>) -> Option<(TokenId, f32)> {
        buf.clear();
        buf.extend_from_slice(&self.pieces[left as usize]);
        buf.extend_from_slice(&self.pieces[right as usize]);
        let id = *self.lookup.get(buf.as_slice())?;
        Some((id, self.scores[id as usize]))
    }
}

/// `<0xNN>` → `NN`.
fn byte_piece(piece: &[u8]) -> Option<u8> {
    let hex = piece.strip_prefix(b"<0x")?.strip_suffix(b">")?;
    if hex.len() != 2 {
        return None;
    }
    u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

#[derive(Debug, Clone)]
struct Symbol {
    id: TokenId,
    range: Range<usize>,
}

/// A candidate merge of the symbols at `left` and its right neighbour `right`.
#[derive(Debug)]
struct Candidate {
    score: f32,
    left: usize,
    right: usize,
    merged: TokenId,
}

impl Ord for Candidate {
    /// Highest score first; on ties the leftmost pair, as llama2.c's scan finds it.
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.left.cmp(&self.left))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

impl Tokenizer for Llama2cTokenizer {
    fn vocab_size(&self) -> usize {
        self.pieces.len()
    }

    fn encode(&self, text: &str) -> Result<Vec<(TokenId, Range<usize>)>, LmError> {
        let mut symbols = self.initial_symbols(text);
        let n = symbols.len();
        // A doubly linked list over `symbols`; `alive[i]` is false once merged away.
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
        let mut next: Vec<usize> = (1..=n).collect();
        let mut alive = vec![true; n];
        let mut heap = BinaryHeap::new();
        let mut buf = Vec::new();
        let push = |heap: &mut BinaryHeap<Candidate>,
                    symbols: &[Symbol],
                    left: usize,
                    right: usize,
                    buf: &mut Vec<u8>| {
            if let Some((merged, score)) = self.merge_of(symbols[left].id, symbols[right].id, buf) {
                heap.push(Candidate {
                    score,
                    left,
                    right,
                    merged,
                });
            }
        };
        for i in 1..n {
            push(&mut heap, &symbols, i - 1, i, &mut buf);
        }
        while let Some(c) = heap.pop() {
            // Stale: one side was merged into something else since this was pushed.
            if !alive[c.left] || !alive[c.right] || next[c.left] != c.right {
                continue;
            }
            let current = self.merge_of(symbols[c.left].id, symbols[c.right].id, &mut buf);
            if current.map(|(id, _)| id) != Some(c.merged) {
                continue;
            }
            let right_range = symbols[c.right].range.clone();
            let left = &mut symbols[c.left];
            left.id = c.merged;
            left.range =
                left.range.start.min(right_range.start)..left.range.end.max(right_range.end);
            alive[c.right] = false;
            next[c.left] = next[c.right];
            if next[c.left] < n {
                prev[next[c.left]] = c.left;
                push(&mut heap, &symbols, c.left, next[c.left], &mut buf);
            }
            if prev[c.left] < n {
                push(&mut heap, &symbols, prev[c.left], c.left, &mut buf);
            }
        }
        Ok(symbols
            .into_iter()
            .zip(alive)
            .filter(|(_, alive)| *alive)
            .map(|(s, _)| (s.id, s.range))
            .collect())
    }

    fn decode(&self, tokens: &[TokenId]) -> Result<String, LmError> {
        let mut bytes = Vec::new();
        for &t in tokens {
            let piece = self.piece_bytes(t).ok_or(LmError::TokenOutOfRange {
                token: t,
                vocab_size: self.pieces.len(),
            })?;
            bytes.extend_from_slice(&piece);
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn bos(&self) -> Option<TokenId> {
        Some(BOS)
    }

    fn eos(&self) -> Option<TokenId> {
        Some(EOS)
    }

    fn hash(&self) -> ContentHash {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Llama2cTokenizer {
        Llama2cTokenizer::load(&crate::tests::model_dir().join("tokenizer.bin")).unwrap()
    }

    /// llama2.c's own quadratic merge loop, as the oracle for the heap version.
    fn reference_encode(tok: &Llama2cTokenizer, text: &str) -> Vec<TokenId> {
        let mut ids: Vec<TokenId> = tok.initial_symbols(text).iter().map(|s| s.id).collect();
        let mut buf = Vec::new();
        loop {
            let mut best: Option<(f32, usize, TokenId)> = None;
            for i in 0..ids.len().saturating_sub(1) {
                if let Some((id, score)) = tok.merge_of(ids[i], ids[i + 1], &mut buf)
                    && best.is_none_or(|(s, _, _)| score > s)
                {
                    best = Some((score, i, id));
                }
            }
            let Some((_, i, id)) = best else { return ids };
            ids[i] = id;
            ids.remove(i + 1);
        }
    }

    #[test]
    fn matches_llama2c_merges_and_round_trips() {
        let tok = tiny();
        assert_eq!(tok.vocab_size(), 512);
        for text in [
            "Once upon a time, there was a little girl named Lily.",
            "She loved to play outside in the park with her friends!",
            "naïve café — ünïcödé ✓ 日本語",
            "",
            " leading and trailing spaces  ",
            "a\nb\tc",
        ] {
            let encoded = tok.encode(text).unwrap();
            let ids: Vec<TokenId> = encoded.iter().map(|(id, _)| *id).collect();
            assert_eq!(ids, reference_encode(&tok, text), "{text:?}");
            let decoded = tok.decode(&ids).unwrap();
            let expected = if text.is_empty() {
                String::new()
            } else {
                format!(" {text}")
            };
            assert_eq!(decoded, expected);
            // Offsets tile the text, in order, on character boundaries.
            let (mut last_start, mut end) = (0, 0);
            for (_, range) in &encoded {
                assert!(range.start >= last_start, "{text:?}: offsets out of order");
                assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
                last_start = range.start;
                end = end.max(range.end);
            }
            assert_eq!(end, text.len());
        }
    }

    #[test]
    fn rejects_corrupt_files() {
        let bytes = std::fs::read(crate::tests::model_dir().join("tokenizer.bin")).unwrap();
        for bad in [&bytes[..2], &bytes[..bytes.len() - 3], &[0u8; 16][..], &[]] {
            assert!(Llama2cTokenizer::parse(bad).is_err());
        }
        let mut negative = bytes.clone();
        negative[8..12].copy_from_slice(&(-5i32).to_le_bytes());
        assert!(Llama2cTokenizer::parse(&negative).is_err());
    }

    #[test]
    fn encoding_is_fast_enough_for_long_texts() {
        // Not a timing: a quadratic merge loop would take minutes on this input.
        let tok = tiny();
        let text = "The quick brown fox jumps over the lazy dog. ".repeat(20_000);
        let encoded = tok.encode(&text).unwrap();
        assert!(encoded.len() > 100_000);
    }
}
