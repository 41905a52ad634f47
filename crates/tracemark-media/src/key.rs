//! Media watermark keys: a 32-byte secret and the scheme it drives, in the same key file
//! format as the text keys (`tracemark.watermark-key/v1`, written through
//! `tracemark_core::keyfile`), so `tracemark keygen watermark --scheme <media scheme>`
//! can write one and the key store lists it beside the text keys.
//!
//! The document is the text key's shape: `key_id`, `created`, `scheme`, `params`,
//! `secret` (64 hex digits). The text crate's `WatermarkKey` refuses these files (their
//! scheme is not one of its ids), and this type refuses text keys, so a key is never
//! used on the wrong medium.

use std::{fmt, str::FromStr};

use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use tracemark_core::{KeyId, KeyKind, Timestamp, keyfile::KeyDocument};
use tracemark_watermark::{PayloadCode, Secret};

use crate::MediaError;

/// The stable id of a media watermark scheme. An id never changes meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MediaScheme {
    /// Keyed spread spectrum on the luma's 8×8 block DCT at 512×512 ([`crate::image_mark`]).
    #[serde(rename = "tracemark-image-dct-v1")]
    ImageDctV1,
    /// Keyed patchwork on STFT magnitudes at 16 kHz ([`crate::audio_mark`]).
    #[serde(rename = "tracemark-audio-stft-v1")]
    AudioStftV1,
}

impl MediaScheme {
    pub const ALL: [MediaScheme; 2] = [MediaScheme::ImageDctV1, MediaScheme::AudioStftV1];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaScheme::ImageDctV1 => "tracemark-image-dct-v1",
            MediaScheme::AudioStftV1 => "tracemark-audio-stft-v1",
        }
    }

    /// One line for `tracemark schemes`.
    pub fn summary(self) -> &'static str {
        match self {
            MediaScheme::ImageDctV1 => {
                "image: keyed spread spectrum on luma 8x8 DCT at 512x512, 64-bit payload"
            }
            MediaScheme::AudioStftV1 => {
                "audio: keyed patchwork on STFT magnitudes at 16 kHz, 64-bit payload"
            }
        }
    }
}

impl fmt::Display for MediaScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for MediaScheme {
    type Err = MediaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MediaScheme::ALL
            .into_iter()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| MediaError::InvalidKey(format!("unknown media scheme `{s}`")))
    }
}

/// Bits every media mark carries.
pub const PAYLOAD_BITS: u8 = 64;

/// The public parameters of a media key: fixed by the scheme id, written so a reader of
/// the file sees what the mark carries, checked on load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaParams {
    pub payload_bits: u8,
    pub payload_code: PayloadCode,
}

impl Default for MediaParams {
    fn default() -> Self {
        Self {
            payload_bits: PAYLOAD_BITS,
            payload_code: PayloadCode::ConvolutionalK7,
        }
    }
}

/// A media watermark key file (`tracemark.watermark-key/v1`, a media scheme).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaKey {
    pub key_id: KeyId,
    pub created: Timestamp,
    pub scheme: MediaScheme,
    #[serde(default)]
    pub params: MediaParams,
    /// The keyed PRF's 256-bit secret, 64 hex digits.
    pub secret: Secret<String>,
}

impl KeyDocument for MediaKey {
    const KIND: KeyKind = KeyKind::Watermark;
    const VERSION: u32 = 1;
    const SECRET: bool = true;
}

impl MediaKey {
    /// A fresh key for `scheme`.
    pub fn generate(scheme: MediaScheme, rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        Self::from_secret(scheme, bytes)
    }

    /// The key of a given secret (tests, and keys derived elsewhere). Its id derives from
    /// the scheme and the secret, as the text keys' ids do.
    pub fn from_secret(scheme: MediaScheme, secret: [u8; 32]) -> Self {
        let secret = hex::encode(secret);
        Self {
            key_id: Self::derive_id(scheme, &secret),
            created: Timestamp::now(),
            scheme,
            params: MediaParams::default(),
            secret: Secret::new(secret),
        }
    }

    fn derive_id(scheme: MediaScheme, secret_hex: &str) -> KeyId {
        let mut material = scheme.as_str().as_bytes().to_vec();
        material.push(0);
        material.extend_from_slice(secret_hex.as_bytes());
        KeyId::derive(KeyKind::Watermark, &material)
    }

    /// The secret as bytes, with the parameters checked: a file edited by hand fails here
    /// with a reason rather than marking with a layout no detector expects.
    pub fn secret_bytes(&self) -> Result<[u8; 32], MediaError> {
        if self.params != MediaParams::default() {
            return Err(MediaError::InvalidKey(format!(
                "{} carries {} bits under convolutional-k7; the file says {} bits under {}",
                self.scheme,
                PAYLOAD_BITS,
                self.params.payload_bits,
                self.params.payload_code.as_str()
            )));
        }
        let invalid = || MediaError::InvalidKey("the secret is not 64 hex digits".into());
        let bytes = hex::decode(self.secret.expose()).map_err(|_| invalid())?;
        bytes.try_into().map_err(|_| invalid())
    }

    /// Refuses a key of another scheme.
    pub(crate) fn expect(&self, scheme: MediaScheme) -> Result<[u8; 32], MediaError> {
        if self.scheme != scheme {
            return Err(MediaError::WrongScheme {
                key: self.scheme.as_str().into(),
                media: match scheme {
                    MediaScheme::ImageDctV1 => "images",
                    MediaScheme::AudioStftV1 => "audio",
                },
            });
        }
        self.secret_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_hide_their_secret() {
        for scheme in MediaScheme::ALL {
            let key = MediaKey::from_secret(scheme, [9; 32]);
            let json = serde_json::to_value(&key).unwrap();
            assert_eq!(json["scheme"], scheme.as_str());
            assert_eq!(json["params"]["payload_code"], "convolutional-k7");
            let back: MediaKey = serde_json::from_value(json).unwrap();
            assert_eq!(back, key);
            assert!(!format!("{key:?}").contains(&"09".repeat(32)));
            assert_eq!(scheme.as_str().parse::<MediaScheme>().unwrap(), scheme);
        }
        assert!("kgw-selfhash-v1".parse::<MediaScheme>().is_err());
    }

    #[test]
    fn ids_depend_on_scheme_and_secret() {
        let a = MediaKey::from_secret(MediaScheme::ImageDctV1, [1; 32]);
        let b = MediaKey::from_secret(MediaScheme::AudioStftV1, [1; 32]);
        let c = MediaKey::from_secret(MediaScheme::ImageDctV1, [2; 32]);
        assert_ne!(a.key_id, b.key_id);
        assert_ne!(a.key_id, c.key_id);
        assert_eq!(
            a.key_id,
            MediaKey::from_secret(MediaScheme::ImageDctV1, [1; 32]).key_id
        );
    }

    #[test]
    fn text_keys_and_media_keys_refuse_each_other() {
        let media =
            serde_json::to_value(MediaKey::from_secret(MediaScheme::ImageDctV1, [3; 32])).unwrap();
        assert!(serde_json::from_value::<tracemark_watermark::WatermarkKey>(media).is_err());
        let text = tracemark_watermark::WatermarkKey::generate(
            tracemark_watermark::SchemeId::KgwSelfHash,
            &mut rand_core::OsRng,
        );
        let text = serde_json::to_value(text).unwrap();
        assert!(serde_json::from_value::<MediaKey>(text).is_err());
    }

    #[test]
    fn edited_parameters_and_bad_secrets_are_refused() {
        let mut key = MediaKey::from_secret(MediaScheme::ImageDctV1, [4; 32]);
        assert!(key.secret_bytes().is_ok());
        assert!(key.expect(MediaScheme::AudioStftV1).is_err());
        key.params.payload_bits = 32;
        assert!(key.secret_bytes().is_err());
        key.params = MediaParams::default();
        key.secret = Secret::new("abc".into());
        assert!(key.secret_bytes().is_err());
    }
}
