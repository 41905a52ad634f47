//! Watermark keys: one secret that both marks and detects, with the scheme it drives.

use std::fmt;

use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use tracemark_core::{KeyId, KeyKind, Timestamp, keyfile::KeyDocument};

use crate::{
    deployed::{
        SglangConfig, VllmConfig,
        vllm::{Algorithm, Mapping},
    },
    payload::PayloadCode,
    scheme::{GumbelParams, KgwParams, SchemeConfig, SchemeId, SynthIdParams},
};

/// Secret material. It is serialised into key files (that is where it lives) but its
/// `Debug` form never shows it, so a secret cannot leak through a log line or a panic.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The tokenizer a key was made for. Token ids mean nothing under another tokenizer, so
/// detecting with a different one is an error rather than a silent miss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizerBinding {
    /// `sha256:` hash of the tokenizer file as loaded.
    pub hash: tracemark_core::ContentHash,
    pub vocab_size: u32,
}

/// A watermark key file (`tracemark.watermark-key/v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatermarkKey {
    pub key_id: KeyId,
    pub created: Timestamp,
    #[serde(flatten)]
    pub config: SchemeConfig,
    /// The keyed PRF's 256-bit secret, hex (SynthID keeps its secret in `params.keys`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<TokenizerBinding>,
}

impl KeyDocument for WatermarkKey {
    const KIND: KeyKind = KeyKind::Watermark;
    const VERSION: u32 = 1;
    const SECRET: bool = true;
}

/// SynthID's reference configuration uses 30 tournament layers.
const SYNTHID_DEPTH: usize = 30;

impl WatermarkKey {
    /// A fresh key for `scheme` with the recommended parameters.
    pub fn generate(scheme: SchemeId, rng: &mut (impl RngCore + CryptoRng)) -> Self {
        Self::generate_with_payload(scheme, 0, rng)
    }

    /// A fresh key whose generations carry `payload_bits` bits (KGW family and Gumbel;
    /// ignored for SynthID and the deployed schemes, which carry none), under the
    /// convolutional code. A deployed scheme's key is a fresh 64-bit key (keys A and B
    /// for SGLang: single key) with the stack's defaults, to be given to the stack.
    pub fn generate_with_payload(
        scheme: SchemeId,
        payload_bits: u8,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Self {
        let payload_code = if payload_bits == 0 {
            PayloadCode::None
        } else {
            PayloadCode::ConvolutionalK7
        };
        let kgw = |context_width| KgwParams {
            gamma: 0.25,
            delta: 2.0,
            context_width,
            payload_bits,
            payload_code,
        };
        let config = match scheme {
            SchemeId::KgwLeftHash => SchemeConfig::KgwLeftHash(kgw(1)),
            SchemeId::KgwSelfHash => SchemeConfig::KgwSelfHash(kgw(4)),
            SchemeId::Unigram => SchemeConfig::Unigram(kgw(0)),
            SchemeId::Gumbel => SchemeConfig::Gumbel(GumbelParams {
                context_width: 4,
                payload_bits,
                payload_code,
            }),
            SchemeId::SynthId => SchemeConfig::SynthId(SynthIdParams {
                keys: Secret::new((0..SYNTHID_DEPTH).map(|_| rng.next_u64()).collect()),
                ngram_len: 5,
                sampling_table_size: 1 << 16,
                sampling_table_seed: rng.next_u64(),
                context_history_size: 1024,
            }),
            SchemeId::VllmGumbel => {
                SchemeConfig::VllmGumbel(VllmConfig::gumbel(rng.next_u64()).to_params(Mapping::V1b))
            }
            SchemeId::VllmDualKeyGumbel => SchemeConfig::VllmDualKeyGumbel(
                VllmConfig::gumbel(rng.next_u64()).to_params(Mapping::V1b),
            ),
            SchemeId::SglangGumbel => {
                SchemeConfig::SglangGumbel(SglangConfig::new(rng.next_u64()).to_params())
            }
        };
        // SynthID and the deployed schemes keep their secrets in their parameters.
        let secret = (scheme != SchemeId::SynthId && !scheme.is_deployed()).then(|| {
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            hex::encode(bytes)
        });
        let key_id = KeyId::derive(
            KeyKind::Watermark,
            &Self::id_material(&config, secret.as_deref()),
        );
        Self {
            key_id,
            created: Timestamp::now(),
            config,
            secret: secret.map(Secret::new),
            tokenizer: None,
        }
    }

    /// The same key with another payload code (zero-bit and SynthID keys carry none).
    /// Text marked under one code is decoded under that code only.
    pub fn with_payload_code(mut self, code: PayloadCode) -> Self {
        match &mut self.config {
            SchemeConfig::KgwLeftHash(p)
            | SchemeConfig::KgwSelfHash(p)
            | SchemeConfig::Unigram(p)
                if p.payload_bits > 0 =>
            {
                p.payload_code = code;
            }
            SchemeConfig::Gumbel(p) if p.payload_bits > 0 => p.payload_code = code,
            _ => {}
        }
        self
    }

    /// A SynthID key with given parameters (imported, say, from transformers with
    /// [`crate::transformers::synthid_from_json`]). Its id derives from the keys and the
    /// sampling-table seed, so importing one configuration twice gives one key id.
    pub fn synthid(params: SynthIdParams) -> Result<Self, crate::WatermarkError> {
        crate::synthid::SynthId::new(&params)?;
        let config = SchemeConfig::SynthId(params);
        Ok(Self {
            key_id: KeyId::derive(KeyKind::Watermark, &Self::id_material(&config, None)),
            created: Timestamp::now(),
            config,
            secret: None,
            tokenizer: None,
        })
    }

    /// A key for vLLM's watermark as `config` (vLLM's `--watermark-config`, read with
    /// [`VllmConfig::from_json`]) sets it, under the token `mapping` of the vLLM build.
    /// Its id derives from the scheme and the key, so importing one configuration twice
    /// gives one key id.
    pub fn vllm(config: &VllmConfig, mapping: Mapping) -> Self {
        let params = config.to_params(mapping);
        Self::imported(match config.algorithm {
            Algorithm::Gumbel => SchemeConfig::VllmGumbel(params),
            Algorithm::DualKeyGumbel => SchemeConfig::VllmDualKeyGumbel(params),
        })
    }

    /// A key for SGLang's watermark as `config` (SGLang's `--watermark-config`, read with
    /// [`SglangConfig::from_json`]) sets it. Its id derives from the scheme and the keys.
    pub fn sglang(config: &SglangConfig) -> Self {
        Self::imported(SchemeConfig::SglangGumbel(config.to_params()))
    }

    fn imported(config: SchemeConfig) -> Self {
        Self {
            key_id: KeyId::derive(KeyKind::Watermark, &Self::id_material(&config, None)),
            created: Timestamp::now(),
            config,
            secret: None,
            tokenizer: None,
        }
    }

    /// The PRF secret as bytes.
    pub(crate) fn secret_bytes(&self) -> Result<[u8; 32], crate::WatermarkError> {
        let invalid =
            || crate::WatermarkError::InvalidKey("the secret is not 64 hex digits".into());
        let hex_secret = self.secret.as_ref().ok_or_else(invalid)?;
        let bytes = hex::decode(hex_secret.expose()).map_err(|_| invalid())?;
        bytes.try_into().map_err(|_| invalid())
    }

    pub fn scheme(&self) -> SchemeId {
        self.config.id()
    }

    /// The bytes a key id is derived from: the scheme and its secret, never public.
    fn id_material(config: &SchemeConfig, secret: Option<&str>) -> Vec<u8> {
        let mut material = config.id().as_str().as_bytes().to_vec();
        material.push(0);
        match (config, secret) {
            (SchemeConfig::SynthId(p), _) => {
                for k in p.keys.expose() {
                    material.extend_from_slice(&k.to_le_bytes());
                }
                material.extend_from_slice(&p.sampling_table_seed.to_le_bytes());
            }
            (SchemeConfig::VllmGumbel(p) | SchemeConfig::VllmDualKeyGumbel(p), _) => {
                material.extend_from_slice(&p.key.expose().to_le_bytes());
            }
            (SchemeConfig::SglangGumbel(p), _) => {
                for key in std::iter::once(&p.key).chain(&p.key_b) {
                    material.extend_from_slice(&key.expose().to_le_bytes());
                }
            }
            (_, Some(secret)) => material.extend_from_slice(secret.as_bytes()),
            (_, None) => {}
        }
        material
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    #[test]
    fn every_scheme_generates_a_key_that_round_trips() {
        for scheme in SchemeId::ALL {
            let key = WatermarkKey::generate(scheme, &mut OsRng);
            assert_eq!(key.scheme(), scheme);
            let json = serde_json::to_value(&key).unwrap();
            assert_eq!(json["scheme"], scheme.as_str());
            let back: WatermarkKey = serde_json::from_value(json).unwrap();
            assert_eq!(back, key);
        }
    }

    #[test]
    fn payload_keys_name_their_code_and_older_files_read_as_uncoded() {
        let key = WatermarkKey::generate_with_payload(SchemeId::Gumbel, 16, &mut OsRng);
        let mut json = serde_json::to_value(&key).unwrap();
        assert_eq!(json["params"]["payload_code"], "convolutional-k7");
        // A key file from before payload codes has no such field: its payloads were
        // written uncoded and must be read that way.
        json["params"]
            .as_object_mut()
            .unwrap()
            .remove("payload_code");
        let old: WatermarkKey = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(old, key.clone().with_payload_code(PayloadCode::None));
        json["params"]["payload_code"] = "reed-solomon".into();
        assert!(serde_json::from_value::<WatermarkKey>(json).is_err());
        // Zero-bit keys carry no code at all.
        let plain = WatermarkKey::generate(SchemeId::KgwSelfHash, &mut OsRng);
        let json = serde_json::to_value(&plain).unwrap();
        assert!(json["params"].get("payload_code").is_none());
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        for scheme in SchemeId::ALL {
            let key = WatermarkKey::generate(scheme, &mut OsRng);
            let debug = format!("{key:?}");
            if let Some(secret) = &key.secret {
                assert!(!debug.contains(secret.expose().as_str()));
            }
            if let SchemeConfig::SynthId(p) = &key.config {
                assert!(!debug.contains(&p.keys.expose()[0].to_string()));
            }
        }
    }

    #[test]
    fn a_synthid_key_from_parameters_is_checked_and_keeps_them() {
        let params = SynthIdParams {
            keys: Secret::new(vec![654, 400, 836]),
            ngram_len: 5,
            sampling_table_size: 1 << 16,
            sampling_table_seed: 0,
            context_history_size: 1024,
        };
        let key = WatermarkKey::synthid(params.clone()).unwrap();
        assert_eq!(key.config, SchemeConfig::SynthId(params.clone()));
        assert!(key.secret.is_none() && key.tokenizer.is_none());
        assert_eq!(
            WatermarkKey::synthid(params.clone()).unwrap().key_id,
            key.key_id
        );
        let bad = SynthIdParams {
            ngram_len: 1,
            ..params
        };
        assert!(WatermarkKey::synthid(bad).is_err());
    }

    #[test]
    fn distinct_keys_have_distinct_ids() {
        let a = WatermarkKey::generate(SchemeId::Gumbel, &mut OsRng);
        let b = WatermarkKey::generate(SchemeId::Gumbel, &mut OsRng);
        assert_ne!(a.key_id, b.key_id);
    }

    #[test]
    fn scheme_ids_parse_and_reject_unknown_names() {
        for scheme in SchemeId::ALL {
            assert_eq!(scheme.as_str().parse::<SchemeId>(), Ok(scheme));
        }
        assert!("kgw".parse::<SchemeId>().is_err());
    }
}
