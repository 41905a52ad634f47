//! A word-level tokenizer learnt from a corpus: the tokenizer of the corpus n-gram model.
//!
//! Text is cut into *pieces* the way GPT-2 pre-tokenises: a word (letters, digits,
//! apostrophes) with the one space before it, a punctuation mark with the space before
//! it, a run of line breaks, or a run of other white space. Every piece of the corpus is
//! a token, most frequent first after the 256 byte tokens; a piece the corpus never had
//! is spelt in byte tokens, so any text encodes and every encoding decodes to its text.
//! Ids stay below 0xFFFF, so an index can hold them.

use std::{collections::HashMap, ops::Range};

use tracemark_core::ContentHash;

use crate::{LmError, TokenId, Tokenizer};

/// Ids `0..256` are the bytes.
const BYTE_TOKENS: usize = 256;
/// At most this many pieces (ids must stay below the index's 0xFFFF separator).
pub const MAX_PIECES: usize = 0xFFFF - BYTE_TOKENS - 1;
/// Hashed into the identity; change it if the piece rules change.
const FORMAT: &str = "tracemark.word-tokenizer/v1";

/// A tokenizer whose vocabulary is the pieces of a corpus.
#[derive(Debug, Clone)]
pub struct WordTokenizer {
    pieces: Vec<String>,
    ids: HashMap<String, TokenId>,
    hash: ContentHash,
}

impl WordTokenizer {
    /// Learns the vocabulary of `texts`: every piece, most frequent first (ties in byte
    /// order, so the same corpus always gives the same ids), at most [`MAX_PIECES`].
    pub fn train<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for text in texts {
            for range in pieces(text) {
                *counts.entry(&text[range]).or_default() += 1;
            }
        }
        let mut ranked: Vec<(&str, u64)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        ranked.truncate(MAX_PIECES);
        Self::from_pieces(ranked.into_iter().map(|(p, _)| p.to_owned()).collect())
    }

    fn from_pieces(pieces: Vec<String>) -> Self {
        let mut identity = FORMAT.as_bytes().to_vec();
        for p in &pieces {
            // Length-prefixed: pieces may hold any character, line breaks included.
            identity.extend_from_slice(&(p.len() as u64).to_le_bytes());
            identity.extend_from_slice(p.as_bytes());
        }
        let ids = pieces
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), (BYTE_TOKENS + i) as TokenId))
            .collect();
        WordTokenizer {
            pieces,
            ids,
            hash: ContentHash::of_bytes(&identity),
        }
    }

    /// The number of learnt pieces (the vocabulary less the byte tokens).
    pub fn pieces(&self) -> usize {
        self.pieces.len()
    }
}

/// What a character is, for cutting pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Word,
    Newline,
    Space,
    Other,
}

fn class(c: char) -> Class {
    match c {
        '\n' | '\r' => Class::Newline,
        c if c.is_alphanumeric() || c == '\'' || c == '’' => Class::Word,
        c if c.is_whitespace() => Class::Space,
        _ => Class::Other,
    }
}

/// The byte ranges of `text`'s pieces, in order, covering it exactly.
fn pieces(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let mut kind = class(c);
        // One space joins the word or mark after it.
        if c == ' '
            && let Some(&(_, next)) = chars.peek()
            && matches!(class(next), Class::Word | Class::Other)
        {
            kind = class(next);
            chars.next();
        }
        let mut end = chars.peek().map_or(text.len(), |&(i, _)| i);
        if kind != Class::Other {
            while let Some(&(i, next)) = chars.peek() {
                // A space ends a run of spaces when a word or mark follows it.
                let joins = class(next) == kind
                    && !(kind == Class::Space
                        && next == ' '
                        && text[i + 1..].chars().next().is_some_and(|after| {
                            matches!(class(after), Class::Word | Class::Other)
                        }));
                if !joins {
                    break;
                }
                chars.next();
                end = chars.peek().map_or(text.len(), |&(j, _)| j);
            }
        }
        out.push(start..end);
    }
    out
}

impl Tokenizer for WordTokenizer {
    fn vocab_size(&self) -> usize {
        BYTE_TOKENS + self.pieces.len()
    }

    fn encode(&self, text: &str) -> Result<Vec<(TokenId, Range<usize>)>, LmError> {
        let mut out = Vec::with_capacity(text.len() / 4);
        for range in pieces(text) {
            match self.ids.get(&text[range.clone()]) {
                Some(&id) => out.push((id, range)),
                None => out.extend(range.map(|i| (TokenId::from(text.as_bytes()[i]), i..i + 1))),
            }
        }
        Ok(out)
    }

    fn decode(&self, tokens: &[TokenId]) -> Result<String, LmError> {
        let mut bytes = Vec::with_capacity(tokens.len() * 5);
        for &t in tokens {
            let t = t as usize;
            match t.checked_sub(BYTE_TOKENS) {
                None => bytes.push(t as u8),
                Some(i) => bytes.extend_from_slice(
                    self.pieces
                        .get(i)
                        .ok_or(LmError::TokenOutOfRange {
                            token: t as TokenId,
                            vocab_size: self.vocab_size(),
                        })?
                        .as_bytes(),
                ),
            }
        }
        // Sampled byte tokens need not form UTF-8; show them as replacement characters.
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn bos(&self) -> Option<TokenId> {
        None
    }

    fn eos(&self) -> Option<TokenId> {
        None
    }

    fn hash(&self) -> ContentHash {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str) -> Vec<&str> {
        pieces(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn pieces_are_words_with_their_space() {
        assert_eq!(
            cut("The lamp, it said — \"go\".\n\nNext  line’s end"),
            vec![
                "The",
                " lamp",
                ",",
                " it",
                " said",
                " —",
                " \"",
                "go",
                "\"",
                ".",
                "\n\n",
                "Next",
                " ",
                " line’s",
                " end"
            ]
        );
        assert_eq!(cut(""), Vec::<&str>::new());
        assert_eq!(cut("   "), vec!["   "]);
    }

    #[test]
    fn any_text_round_trips_and_unknown_words_fall_back_to_bytes() {
        let t = WordTokenizer::train(["the cat sat on the mat.", "the dog"]);
        assert_eq!(t.encode("the").unwrap(), vec![(t.ids["the"], 0..3)]);
        assert_eq!(
            t.ids["the"] as usize, BYTE_TOKENS,
            "the most frequent piece comes first"
        );
        for text in [
            "the cat sat",
            "zebra é café!\n\n  the",
            "",
            "\u{0}\u{10FFFF}",
        ] {
            let ids: Vec<TokenId> = t
                .encode(text)
                .unwrap()
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            assert_eq!(t.decode(&ids).unwrap(), text);
            assert!(ids.iter().all(|&id| (id as usize) < t.vocab_size()));
        }
        // Ranges cover the text.
        let enc = t.encode("the zebra").unwrap();
        assert_eq!(enc.first().unwrap().1.start, 0);
        assert_eq!(enc.last().unwrap().1.end, 9);
        assert!(t.decode(&[t.vocab_size() as TokenId]).is_err());
    }

    #[test]
    fn the_same_corpus_gives_the_same_tokenizer() {
        let a = WordTokenizer::train(["b a b", "c"]);
        let b = WordTokenizer::train(["b a b", "c"]);
        let c = WordTokenizer::train(["b a b", "d"]);
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
        assert_eq!(a.pieces, b.pieces);
    }
}
