//! Positions a user sees: byte ranges of the UTF-8 input.
//!
//! Watermark detectors, the corpus index and the credential reader each tokenize text
//! their own way, so token indices mean nothing outside the tool that made them. Every
//! position Tracemark reports is a half-open range of byte offsets into the UTF-8 text
//! the user gave, which any tool can slice.

use serde::{Deserialize, Serialize};

use crate::Verdict;

/// The half-open byte range `start..end` of a UTF-8 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RangeJson")]
pub struct ByteRange {
    start: usize,
    end: usize,
}

/// A range that does not describe a piece of the text it is applied to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("byte range {start}..{end} ends before it starts")]
    Reversed { start: usize, end: usize },
    #[error("byte range {start}..{end} lies beyond the end of a {len}-byte text")]
    OutOfBounds {
        start: usize,
        end: usize,
        len: usize,
    },
    #[error("byte range {start}..{end} splits a UTF-8 character")]
    NotCharBoundary { start: usize, end: usize },
}

impl ByteRange {
    pub fn new(start: usize, end: usize) -> Result<Self, RangeError> {
        if start > end {
            return Err(RangeError::Reversed { start, end });
        }
        Ok(Self { start, end })
    }

    pub fn start(&self) -> usize {
        self.start
    }

    pub fn end(&self) -> usize {
        self.end
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The text this range covers, if it lies within `text` on character boundaries.
    pub fn slice<'a>(&self, text: &'a str) -> Result<&'a str, RangeError> {
        let (start, end) = (self.start, self.end);
        if end > text.len() {
            return Err(RangeError::OutOfBounds {
                start,
                end,
                len: text.len(),
            });
        }
        text.get(start..end)
            .ok_or(RangeError::NotCharBoundary { start, end })
    }

    pub fn overlaps(&self, other: &ByteRange) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// The smallest range covering both.
    pub fn cover(&self, other: &ByteRange) -> ByteRange {
        ByteRange {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeJson {
    start: usize,
    end: usize,
}

impl TryFrom<RangeJson> for ByteRange {
    type Error = RangeError;

    fn try_from(json: RangeJson) -> Result<Self, Self::Error> {
        ByteRange::new(json.start, json.end)
    }
}

/// A part of a text with the verdict a detector reached on it (for example a watermarked
/// passage found by windowed detection inside human writing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub range: ByteRange,
    pub verdict: Verdict,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_on_character_boundaries_only() {
        let text = "naïve text";
        assert_eq!(ByteRange::new(0, 6).unwrap().slice(text), Ok("naïve"));
        assert_eq!(
            ByteRange::new(0, 3).unwrap().slice(text),
            Err(RangeError::NotCharBoundary { start: 0, end: 3 })
        );
        assert_eq!(
            ByteRange::new(5, 40).unwrap().slice(text),
            Err(RangeError::OutOfBounds {
                start: 5,
                end: 40,
                len: 11
            })
        );
        assert!(ByteRange::new(4, 3).is_err());
    }

    #[test]
    fn json_is_checked_like_the_constructor() {
        let r: ByteRange = serde_json::from_str(r#"{"start":2,"end":9}"#).unwrap();
        assert_eq!((r.start(), r.end(), r.len()), (2, 9, 7));
        assert!(serde_json::from_str::<ByteRange>(r#"{"start":9,"end":2}"#).is_err());
        assert!(serde_json::from_str::<ByteRange>(r#"{"start":1}"#).is_err());
    }

    #[test]
    fn overlap_and_cover() {
        let a = ByteRange::new(0, 5).unwrap();
        let b = ByteRange::new(5, 9).unwrap();
        let c = ByteRange::new(4, 6).unwrap();
        assert!(!a.overlaps(&b) && a.overlaps(&c) && c.overlaps(&b));
        assert_eq!(a.cover(&b), ByteRange::new(0, 9).unwrap());
    }
}
