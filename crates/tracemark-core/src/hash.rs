//! Content hashes: SHA-256 over raw bytes.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// The SHA-256 digest of a piece of content, written `sha256:<64 hex digits>`.
///
/// Content is hashed over its raw bytes: that is what C2PA hard bindings of files, the
/// transparency log and evidence reports use, and it is what a user can recompute with
/// `sha256sum`. Text is normalised first only where a standard says so
/// ([`ContentHash::of_nfc_text`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    pub const PREFIX: &'static str = "sha256:";

    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// SHA-256 over the NFC normal form of `text` in UTF-8: the binding of a C2PA manifest
    /// embedded in plain text (C2PA 2.3 annex A.8), where the text may be re-encoded by
    /// editors that normalise it. Use [`ContentHash::of_bytes`] everywhere else.
    pub fn of_nfc_text(text: &str) -> Self {
        let mut hasher = Sha256::new();
        let mut buf = [0u8; 4];
        for c in text.nfc() {
            hasher.update(c.encode_utf8(&mut buf).as_bytes());
        }
        Self(hasher.finalize().into())
    }

    /// SHA-256 over everything `reader` yields, read in chunks (files of any size).
    pub fn of_reader(mut reader: impl std::io::Read) -> std::io::Result<Self> {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return Ok(Self(hasher.finalize().into())),
                Ok(n) => hasher.update(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    pub const fn from_digest(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.to_hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A string that is not `sha256:` followed by 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a content hash; expected `sha256:` followed by 64 hex digits")]
pub struct ParseHashError(String);

impl FromStr for ContentHash {
    type Err = ParseHashError;

    /// Accepts `sha256:<hex>` and, since that is what `sha256sum` prints, bare hex.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix(Self::PREFIX).unwrap_or(s);
        let mut digest = [0u8; 32];
        hex::decode_to_slice(digits, &mut digest).map_err(|_| ParseHashError(s.to_owned()))?;
        Ok(Self(digest))
    }
}

impl Serialize for ContentHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_fips_180_test_vector() {
        let hash = ContentHash::of_bytes(b"abc");
        assert_eq!(
            hash.to_string(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn streaming_equals_one_shot() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(
            ContentHash::of_reader(&data[..]).unwrap(),
            ContentHash::of_bytes(&data)
        );
    }

    #[test]
    fn nfc_hash_identifies_canonically_equivalent_text() {
        let composed = "caf\u{e9}";
        let decomposed = "cafe\u{301}";
        assert_ne!(
            ContentHash::of_bytes(composed.as_bytes()),
            ContentHash::of_bytes(decomposed.as_bytes())
        );
        assert_eq!(
            ContentHash::of_nfc_text(composed),
            ContentHash::of_nfc_text(decomposed)
        );
        assert_eq!(
            ContentHash::of_nfc_text(composed),
            ContentHash::of_bytes(composed.as_bytes())
        );
    }

    #[test]
    fn parses_what_it_prints_and_bare_hex() {
        let hash = ContentHash::of_bytes(b"tracemark");
        assert_eq!(hash.to_string().parse::<ContentHash>(), Ok(hash));
        assert_eq!(hash.to_hex().parse::<ContentHash>(), Ok(hash));
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(serde_json::from_str::<ContentHash>(&json).unwrap(), hash);
    }

    #[test]
    fn rejects_malformed_hashes() {
        for bad in [
            "",
            "sha256:",
            "sha256:zz",
            "md5:00",
            &"a".repeat(63),
            &"a".repeat(66),
        ] {
            assert!(bad.parse::<ContentHash>().is_err(), "{bad:?} was accepted");
        }
    }
}
