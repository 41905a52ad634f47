//! `tracemark mark`: a provider's generation, marked in every layer at once.
//!
//! One call generates text with the configured watermark key carrying a payload (a tag
//! of this generation), signs a C2PA credential declaring the AI generation and the
//! watermark, and appends the generation record (with the credential's hash and a
//! MinHash sketch of the text) to the transparency log. The receipt it returns proves
//! the record is in the log; anyone holding the log's public key can check it offline.
//!
//! When the model is signed (OpenSSF Model Signing: `model.sig` in its directory, or
//! `[model] signature`), its identity (the OMS root digest of its weights) is established
//! once when the station opens, and every credential (the generator info) and record
//! (`tracemark.generation-record/v2`, with the log entry of the model's release record
//! when the log holds one) names the model by it besides its name. An unsigned model's
//! records stay v1, naming it by name only.
//!
//! The layers fail over to one another at attribution time: a stripped credential leaves
//! the watermark, whose payload finds the log record; an edited text still matches the
//! record's sketch; an exact copy matches its content hash.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use tracemark_core::{
    ContentHash, Payload, Timestamp,
    keyfile::{self, Replace, Secrecy},
};
use tracemark_credentials::{
    CredentialSpec, Generator, SignOptions, SigningKey, WatermarkDeclaration, sign_text_embedded,
    wrapper,
};
use tracemark_ledger::{GenerationRecord, ModelRef, ReleaseRef, TextSketch};
use tracemark_lm::{LoadedModel, sampling::SamplingParams};
use tracemark_watermark::{WatermarkKey, watermarker::Watermarker};

use crate::{
    Config, Error, Result,
    log::{self, AnyLedger, AppendedEntry, LogSite},
    release::{self, ModelIdentity},
    text::{self, GenerateRequest},
};

/// What to generate, and under which name.
#[derive(Debug, Clone)]
pub struct MarkRequest<'a> {
    pub prompt: &'a str,
    pub sampling: SamplingParams,
    /// The signed text is written here; the record (`.record.json`) and the receipt
    /// (`.receipt`) beside it.
    pub out: &'a Path,
}

/// What one marking produced.
#[derive(Debug, Clone, Serialize)]
pub struct Marked {
    /// The published text: the generation with its credential embedded (C2PA A.8).
    pub text_file: PathBuf,
    pub record_file: PathBuf,
    pub receipt_file: PathBuf,
    /// The generation without the prompt or the credential.
    pub text: String,
    pub tokens: usize,
    pub record: GenerationRecord,
    #[serde(flatten)]
    pub entry: AppendedEntry,
    /// The C2SP `tlog-proof` of the record.
    pub receipt: String,
}

/// A fresh generation id: 128 random bits in hex.
pub(crate) fn generation_id() -> String {
    let mut bytes = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    hex::encode(bytes)
}

/// The payload a generation carries: the first `bits` bits of SHA-256 of its id, so the
/// log finds the generation's record from the watermark alone (with the text's sketch to
/// choose among records that share a short payload).
pub fn payload_for(generation_id: &str, bits: u8) -> Option<Payload> {
    if bits == 0 {
        return None;
    }
    let digest = Sha256::digest(generation_id.as_bytes());
    let word = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    let value = if bits >= 64 {
        word
    } else {
        word >> (64 - bits)
    };
    Payload::new(value, bits).ok()
}

/// The provider named in credentials and records: the configuration's, else the
/// common name of the signing certificate.
fn provider(config: &Config, key: &SigningKey) -> String {
    config
        .provider
        .name
        .clone()
        .unwrap_or_else(|| key.subject().to_owned())
}

/// A provider's marking station: the watermark key, the signing key and the log, opened
/// once and used for every generation (the command runs one, the service many).
pub struct Marker {
    key_path: PathBuf,
    key: WatermarkKey,
    bits: u8,
    signing_key: SigningKey,
    provider: String,
    ledger: AnyLedger,
    /// The signed model's identity, established at open (its weights hashed once).
    model: Option<ModelIdentity>,
    /// The log entry of the model's release record, when the log holds one.
    release: Option<ReleaseRef>,
}

impl std::fmt::Debug for Marker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys are secrets: name them, never show them.
        f.debug_struct("Marker")
            .field("key_id", &self.key.key_id)
            .field("provider", &self.provider)
            .field("model_digest", &self.model.as_ref().map(|m| m.digest))
            .finish_non_exhaustive()
    }
}

/// One marked generation, in memory.
#[derive(Debug, Clone, Serialize)]
pub struct MarkedText {
    /// The published text: the generation with its credential embedded (C2PA A.8).
    pub signed: String,
    /// The generation without the prompt or the credential.
    pub text: String,
    pub tokens: usize,
    pub prompt_tokens: usize,
    pub record: GenerationRecord,
    #[serde(flatten)]
    pub entry: AppendedEntry,
    /// The C2SP `tlog-proof` of the record.
    pub receipt: String,
}

impl Marker {
    /// Opens the configured keys and log for generations of `loaded`'s tokenizer. The log
    /// is opened first: a marking that cannot be recorded is not started. When the
    /// configured model (`[model] path`, which must be the model `loaded` was loaded
    /// from) is signed, its identity is established now: a signature that does not match
    /// the weights is an error.
    pub fn open(config: &Config, loaded: &LoadedModel) -> Result<Self> {
        // Media keys are for `mark-media`: the first text key marks text.
        let text_keys = crate::media::text_key_paths(config);
        let key_path = *text_keys.first().ok_or_else(|| {
            Error::usage(
                "no text watermark key is configured ([keys] watermark)",
                Some("make one with `tracemark keygen watermark --payload-bits 16`".into()),
            )
        })?;
        let signing_dir = config.keys.signing.as_deref().ok_or_else(|| {
            Error::usage(
                "no signing key is configured ([keys] signing)",
                Some("make one with `tracemark keygen signing`".into()),
            )
        })?;
        let signing_key = SigningKey::from_identity_dir(signing_dir)?;
        let ledger = LogSite::configured(config)?.open()?;
        let key = text::load_key(key_path, Some(loaded.tokenizer.as_ref()))?;
        let bits = Watermarker::new(&key, loaded.tokenizer.vocab_size())?.payload_bits();
        let model = release::configured_identity(config)?;
        let release = match &model {
            Some(m) => release::find_release(&ledger, &m.digest)?.map(|(r, _)| r),
            None => None,
        };
        Ok(Self {
            key_path: key_path.clone(),
            key,
            bits,
            provider: provider(config, &signing_key),
            signing_key,
            ledger,
            model,
            release,
        })
    }

    /// The provider named in credentials and records.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The signed model's identity, when the model is signed.
    pub fn model_identity(&self) -> Option<&ModelIdentity> {
        self.model.as_ref()
    }

    /// The log entry of the model's release record, when the log held one at open.
    pub fn model_release(&self) -> Option<&ReleaseRef> {
        self.release.as_ref()
    }

    /// Generates, watermarks, signs and logs one text, calling `on_token` with each token
    /// id as it is chosen (the caller streams; the credential and the record come after
    /// the last token, and the text counts as published only once they exist).
    pub fn mark(
        &mut self,
        loaded: &mut LoadedModel,
        prompt: &str,
        sampling: SamplingParams,
        on_token: &mut dyn FnMut(u32),
    ) -> Result<MarkedText> {
        self.mark_as(generation_id(), loaded, prompt, sampling, on_token)
    }

    /// [`Marker::mark`] under a generation id given rather than drawn. The payload comes
    /// from the id, so a run that gives the same ids (`tracemark demo --seed`) writes the
    /// same texts; ids must still be unique in the log.
    pub fn mark_as(
        &mut self,
        generation_id: String,
        loaded: &mut LoadedModel,
        prompt: &str,
        sampling: SamplingParams,
        on_token: &mut dyn FnMut(u32),
    ) -> Result<MarkedText> {
        let payload = payload_for(&generation_id, self.bits);
        let payload_hex = payload.map(|p| p.to_string());
        let generated = text::generate_streaming(
            loaded,
            &GenerateRequest {
                prompt,
                key: Some(&self.key_path),
                payload: payload_hex.as_deref(),
                sampling,
            },
            on_token,
        )?;

        let model = ModelRef {
            id: generated.model.clone(),
            version: format!("sha256:{}", &generated.model_hash.to_hex()[..16]),
            digest: self.model.as_ref().map(|m| m.digest),
            release: self.release.clone(),
        };
        let mut spec = CredentialSpec::new(
            Generator {
                name: model.id.clone(),
                version: model.version.clone(),
                digest: model.digest,
            },
            self.provider.clone(),
            generation_id.clone(),
        );
        spec.watermark = Some(WatermarkDeclaration {
            scheme: self.key.scheme().to_string(),
            key_id: Some(self.key.key_id.clone()),
            payload,
        });
        let signed = sign_text_embedded(
            &generated.text,
            &self.signing_key,
            &spec,
            &SignOptions::default(),
        )?;
        let scan = wrapper::scan(&signed.text);
        let (published, credential_hash) = match scan.wrappers.first() {
            Some(w) => (
                wrapper::remove_ranges(&signed.text, [&w.range]),
                ContentHash::of_bytes(&w.manifest),
            ),
            None => return Err(Error::input("the signed text carries no credential", None)),
        };

        let record = GenerationRecord {
            format: GenerationRecord::format_for(&model).into(),
            content_hash: ContentHash::of_bytes(published.as_bytes()),
            watermark_scheme: self.key.scheme().to_string(),
            key_id: self.key.key_id.clone(),
            payload: payload.unwrap_or(zero_payload()),
            model,
            provider: self.provider.clone(),
            credential_hash: Some(credential_hash),
            time: Timestamp::now(),
            generation_id,
            sketch: TextSketch::of_text(&published),
            media: None,
        };
        let (entry, receipt) = append_and_prove(&mut self.ledger, &record)?;
        Ok(MarkedText {
            signed: signed.text,
            text: published,
            tokens: generated.tokens.len(),
            prompt_tokens: generated.prompt_tokens.len(),
            record,
            entry,
            receipt,
        })
    }
}

/// Generates, watermarks, signs and logs one text, and writes it with its record and
/// receipt.
pub fn mark(
    config: &Config,
    loaded: &mut LoadedModel,
    request: &MarkRequest<'_>,
) -> Result<Marked> {
    mark_as(generation_id(), config, loaded, request)
}

/// [`mark`] under a generation id given rather than drawn (see [`Marker::mark_as`]).
pub fn mark_as(
    generation_id: String,
    config: &Config,
    loaded: &mut LoadedModel,
    request: &MarkRequest<'_>,
) -> Result<Marked> {
    let mut marker = Marker::open(config, loaded)?;
    let marked = marker.mark_as(
        generation_id,
        loaded,
        request.prompt,
        request.sampling.clone(),
        &mut |_| {},
    )?;
    let record_file = request.out.with_extension("record.json");
    let receipt_file = request.out.with_extension("receipt");
    let write =
        |path: &Path, bytes: &[u8]| keyfile::write_file(path, bytes, Secrecy::Public, Replace::Yes);
    let record_json = serde_json::to_vec_pretty(&marked.record).expect("a record serialises");
    write(&record_file, &record_json)?;
    write(&receipt_file, marked.receipt.as_bytes())?;
    // The text last: once it exists, its record and receipt do too.
    write(request.out, marked.signed.as_bytes())?;
    Ok(Marked {
        text_file: request.out.to_owned(),
        record_file,
        receipt_file,
        text: marked.text,
        tokens: marked.tokens,
        record: marked.record,
        entry: marked.entry,
        receipt: marked.receipt,
    })
}

/// The payload a zero-bit key's records carry: one 0 bit (records always name one).
/// Appends a generation's record and proves it against a fresh checkpoint: its entry
/// and the receipt (C2SP `tlog-proof`) that goes out with the content.
pub(crate) fn append_and_prove(
    ledger: &mut AnyLedger,
    record: &GenerationRecord,
) -> Result<(AppendedEntry, String)> {
    let entry = log::append(ledger, std::slice::from_ref(record))?
        .pop()
        .expect("one record appended");
    let receipt = ledger.prove(entry.index).map_err(Error::Ledger)?.to_text();
    Ok((entry, receipt))
}

fn zero_payload() -> Payload {
    Payload::new(0, 1).expect("a 1-bit zero is a payload")
}
