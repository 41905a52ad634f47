//! Images and sounds: marked, signed and logged (`tracemark mark-media`), and tested
//! (`tracemark detect`, `attribute` and the service), through the media crate
//! ([`crate::mediamark`]).
//!
//! * Keys: a media key is a watermark key file (`tracemark.watermark-key/v1`) with a
//!   media scheme id (`tracemark-image-dct-v1`, `tracemark-audio-stft-v1`), listed in
//!   `[keys] watermark` beside the text keys. [`read_watermark_key`] reads either kind;
//!   whatever tests or marks text skips media keys ([`text_key_paths`]) and whatever
//!   tests or marks media skips text keys ([`media_key_paths`]), with no error.
//! * Recognising media: by its first bytes ([`sniff`]), never by its name. PNG, JPEG
//!   and WAV are read; other image and sound formats are refused naming the format.
//! * Marking ([`MediaMarker`]): decode, embed a 64-bit payload derived from the
//!   generation id (as text marking derives its payload: [`crate::mark::payload_for`]),
//!   encode in the input's format, sign a C2PA credential into the file that declares
//!   the mark as a soft binding (`c2pa.soft-binding`, `alg` = the scheme id, and a
//!   `c2pa.watermarked` action), and append a `tracemark.generation-record/v3` (the
//!   final bytes' hash, the payload and key id as look-up keys, the media type and the
//!   perceptual fingerprint of the marked content). Our `alg` ids are reverse-domain
//!   style names of our own: they are not in the C2PA soft-binding algorithm list, and
//!   cannot be registered there from here.
//! * Detecting ([`MediaDetectors`]): every media key of the content's medium, at the
//!   false-positive rate over their number (Bonferroni), plus, for images, the reading
//!   of Stable Diffusion XL's keyless `invisible-watermark` mark.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tracemark_core::{
    ContentHash, KeyId, Payload, Timestamp,
    fact::Medium,
    keyfile::{self, Replace, Secrecy},
};
use tracemark_credentials::{
    CredentialSpec, Generator, MediaFormat, SignOptions, SigningKey, WatermarkDeclaration,
    sign_media,
};
use tracemark_ledger::{Fingerprint, GenerationRecord, MediaRef, ModelRef, TextSketch};
use tracemark_media::{
    Audio, AudioMarker, ImageMarker, MediaDetection, MediaKey, MediaScheme, Picture, attack,
    audioio::{self, WavFormat},
    fingerprint,
    imageio::{self, ImageFormat},
    sd::{self, SdReading},
};
use tracemark_policy::Input;
use tracemark_watermark::WatermarkKey;

use crate::{
    Config, Error, Result,
    log::{AnyLedger, AppendedEntry, LogSite},
};

/// The largest media file read (a 40-megapixel PNG can be this large).
pub const MAX_MEDIA_BYTES: u64 = 256 << 20;

/// A watermark key file of either kind.
#[derive(Debug)]
pub enum AnyWatermarkKey {
    Text(WatermarkKey),
    Media(MediaKey),
}

impl AnyWatermarkKey {
    pub fn key_id(&self) -> &KeyId {
        match self {
            AnyWatermarkKey::Text(k) => &k.key_id,
            AnyWatermarkKey::Media(k) => &k.key_id,
        }
    }

    pub fn scheme(&self) -> String {
        match self {
            AnyWatermarkKey::Text(k) => k.scheme().to_string(),
            AnyWatermarkKey::Media(k) => k.scheme.to_string(),
        }
    }
}

/// The media scheme of a watermark key file, or `None` when it is not a media key (a
/// text key, or a file that cannot be read: the text key's reader then says why).
pub fn media_scheme_of(path: &Path) -> Option<MediaScheme> {
    let bytes = keyfile::read_file(path, Secrecy::Secret).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("scheme")?.as_str()?.parse().ok()
}

/// Reads a watermark key file of either kind, by its scheme id.
pub fn read_watermark_key(path: &Path) -> Result<AnyWatermarkKey> {
    Ok(match media_scheme_of(path) {
        Some(_) => AnyWatermarkKey::Media(keyfile::read_json(path)?),
        None => AnyWatermarkKey::Text(keyfile::read_json(path)?),
    })
}

/// Reads a media key file; a text key is a usage error that says so.
pub fn read_media_key(path: &Path) -> Result<MediaKey> {
    match read_watermark_key(path)? {
        AnyWatermarkKey::Media(k) => Ok(k),
        AnyWatermarkKey::Text(k) => Err(Error::usage(
            format!(
                "{} is a text watermark key ({}), not an image or audio key",
                path.display(),
                k.scheme()
            ),
            Some("make one with `tracemark keygen watermark --scheme tracemark-image-dct-v1` (or tracemark-audio-stft-v1)".into()),
        )),
    }
}

/// The configured watermark keys that are not media keys (what text marking and
/// detection use).
pub fn text_key_paths(config: &Config) -> Vec<&PathBuf> {
    config
        .keys
        .watermark
        .iter()
        .filter(|p| media_scheme_of(p).is_none())
        .collect()
}

/// The configured media keys.
pub fn media_key_paths(config: &Config) -> Vec<&PathBuf> {
    config
        .keys
        .watermark
        .iter()
        .filter(|p| media_scheme_of(p).is_some())
        .collect()
}

/// What the first bytes of content say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Image(ImageFormat),
    Audio,
    /// An image, sound or video format that is not read: its name.
    Unsupported(&'static str),
    /// Not a media format this module knows (text, a document).
    Other,
}

/// Recognises PNG, JPEG and WAV by their signatures, and names the image, sound and
/// video formats that are refused. A file that is valid UTF-8 is never media.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    let at = |o: usize, s: &[u8]| bytes.get(o..o + s.len()) == Some(s);
    if at(0, b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Image(ImageFormat::Png);
    }
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Image(ImageFormat::Jpeg);
    }
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return Sniffed::Audio;
    }
    let other = if at(0, b"GIF87a") || at(0, b"GIF89a") {
        "GIF"
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        "WebP"
    } else if at(0, b"RIFF") && at(8, b"AVI ") {
        "AVI"
    } else if at(0, b"II*\0") || at(0, b"MM\0*") {
        "TIFF"
    } else if at(0, b"BM") && bytes.len() > 26 {
        "BMP"
    } else if at(4, b"ftypheic") || at(4, b"ftypheix") || at(4, b"ftypmif1") {
        "HEIF"
    } else if at(4, b"ftypavif") {
        "AVIF"
    } else if at(4, b"ftyp") {
        "MP4/QuickTime"
    } else if at(0, b"fLaC") {
        "FLAC"
    } else if at(0, b"OggS") {
        "Ogg"
    } else if at(0, b"ID3") || at(0, &[0xFF, 0xFB]) || at(0, &[0xFF, 0xF3]) {
        "MP3"
    } else if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        "AIFF"
    } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        "Matroska/WebM"
    } else {
        return Sniffed::Other;
    };
    if std::str::from_utf8(bytes).is_ok() {
        return Sniffed::Other;
    }
    Sniffed::Unsupported(other)
}

/// Decoded media.
#[derive(Debug, Clone)]
pub enum Decoded {
    Image(Picture, ImageFormat),
    Audio(Audio, WavFormat),
}

impl Decoded {
    pub fn media_type(&self) -> &'static str {
        match self {
            Decoded::Image(_, f) => f.media_type(),
            Decoded::Audio(..) => "audio/wav",
        }
    }

    pub fn medium(&self) -> Medium {
        match self {
            Decoded::Image(..) => Medium::Image,
            Decoded::Audio(..) => Medium::Audio,
        }
    }

    /// "1024×768 pixels", "30.0 s at 48000 Hz, 2 channels".
    pub fn describe(&self) -> String {
        match self {
            Decoded::Image(p, f) => format!("{} {}×{} pixels", f.as_str(), p.width(), p.height()),
            Decoded::Audio(a, _) => format!(
                "WAV {:.1} s at {} Hz, {} channel{}",
                a.seconds(),
                a.sample_rate(),
                a.channels().len(),
                if a.channels().len() == 1 { "" } else { "s" }
            ),
        }
    }

    /// The perceptual fingerprint of the content, and its scheme id.
    pub fn fingerprint(&self) -> Result<Fingerprint> {
        Ok(match self {
            Decoded::Image(p, _) => {
                Fingerprint::new(fingerprint::IMAGE_SCHEME, fingerprint::image(p))
            }
            Decoded::Audio(a, _) => {
                Fingerprint::new(fingerprint::AUDIO_SCHEME, fingerprint::audio(a)?)
            }
        })
    }

    fn scheme(&self) -> MediaScheme {
        match self {
            Decoded::Image(..) => MediaScheme::ImageDctV1,
            Decoded::Audio(..) => MediaScheme::AudioStftV1,
        }
    }
}

/// Decodes PNG, JPEG or WAV (by their first bytes); anything else is an error that
/// names what it is.
pub fn decode(bytes: &[u8]) -> Result<Decoded> {
    match sniff(bytes) {
        Sniffed::Image(_) => {
            let (picture, format) = imageio::decode_image(bytes)?;
            Ok(Decoded::Image(picture, format))
        }
        Sniffed::Audio => {
            let (audio, format) = audioio::decode_wav(bytes)?;
            Ok(Decoded::Audio(audio, format))
        }
        Sniffed::Unsupported(name) => Err(Error::input(
            format!("{name} is not read: images are read as PNG or JPEG, sound as WAV"),
            Some(format!("convert the {name} file to PNG, JPEG or WAV first")),
        )),
        Sniffed::Other => Err(Error::input(
            "the content is not a PNG, JPEG or WAV file (recognised by its first bytes)",
            Some("images are read as PNG or JPEG, sound as WAV".to_owned()),
        )),
    }
}

/// One media key, ready to test content of its medium.
pub struct MediaDetector {
    pub key: MediaKey,
    image: Option<ImageMarker>,
    audio: Option<AudioMarker>,
    /// The key file's fingerprint (a report's input).
    pub input: Option<Input>,
}

impl std::fmt::Debug for MediaDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaDetector")
            .field("key_id", &self.key.key_id)
            .field("scheme", &self.key.scheme)
            .finish_non_exhaustive()
    }
}

impl MediaDetector {
    pub fn new(key: MediaKey) -> Result<Self> {
        let (image, audio) = match key.scheme {
            MediaScheme::ImageDctV1 => (Some(ImageMarker::new(&key)?), None),
            MediaScheme::AudioStftV1 => (None, Some(AudioMarker::new(&key)?)),
        };
        Ok(Self {
            key,
            image,
            audio,
            input: None,
        })
    }

    /// Loads a key file (its fingerprint kept for reports).
    pub fn load(path: &Path) -> Result<Self> {
        let key = read_media_key(path)?;
        let file = std::fs::read(path).map_err(|source| Error::Io {
            action: "read",
            path: path.to_owned(),
            source,
        })?;
        let input = Input::of_bytes("watermark-key", key.key_id.as_str(), &file);
        let mut d = Self::new(key)?;
        d.input = Some(input);
        Ok(d)
    }

    pub fn medium(&self) -> Medium {
        match self.key.scheme {
            MediaScheme::ImageDctV1 => Medium::Image,
            MediaScheme::AudioStftV1 => Medium::Audio,
        }
    }

    /// Tests decoded content of this key's medium at `fpr`; `None` for another medium.
    pub fn detect(&self, content: &Decoded, fpr: f64) -> Option<Result<MediaDetection>> {
        match (content, &self.image, &self.audio) {
            (Decoded::Image(p, _), Some(m), _) => Some(m.detect(p, fpr).map_err(Into::into)),
            (Decoded::Audio(a, _), _, Some(m)) => Some(m.detect(a, fpr).map_err(Into::into)),
            _ => None,
        }
    }
}

/// One key's test of the content.
#[derive(Debug, Clone, Serialize)]
pub struct KeyDetection {
    pub scheme: String,
    pub key_id: KeyId,
    pub medium: Medium,
    #[serde(flatten)]
    pub detection: MediaDetection,
}

/// The reading of Stable Diffusion XL's keyless mark, and what it lets one say.
#[derive(Debug, Clone, Serialize)]
pub struct SdxlReport {
    #[serde(flatten)]
    pub reading: SdReading,
    /// `p ≤` the level: the picture was then made by a Stable Diffusion XL pipeline
    /// (one that applies `invisible-watermark`'s default mark).
    pub significant: bool,
    pub level: f64,
    /// One sentence.
    pub statement: String,
}

/// The scheme id under which the SDXL reading appears in reports.
pub const SDXL_SCHEME: &str = "sdxl-invisible-watermark-dwtdct";

/// Reads the SDXL mark of a picture at level `level`.
pub fn read_sdxl(picture: &Picture, level: f64) -> Result<SdxlReport> {
    let reading = sd::read_sdxl(picture)?;
    let significant = reading.p_value.value() <= level;
    let statement = if significant {
        format!(
            "made by a Stable Diffusion pipeline: its invisible-watermark mark matches {} of {} bits (p = {:.1e} under a measured null of {} unmarked pictures)",
            reading.matching_bits,
            reading.total_bits,
            reading.p_value.value(),
            reading.null_pictures
        )
    } else {
        format!(
            "no Stable Diffusion invisible-watermark mark shown: {} of {} bits match (p = {:.2}, not below {level})",
            reading.matching_bits,
            reading.total_bits,
            reading.p_value.value()
        )
    };
    Ok(SdxlReport {
        reading,
        significant,
        level,
        statement,
    })
}

/// What `tracemark detect` says of a picture or a sound.
#[derive(Debug, Clone, Serialize)]
pub struct MediaDetectReport {
    pub media_type: &'static str,
    pub medium: Medium,
    pub description: String,
    /// Whether any key's mark was detected.
    pub detected: bool,
    /// The false-positive rate of the whole test (each key at its share).
    pub false_positive_rate: f64,
    pub detections: Vec<KeyDetection>,
    /// Images only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdxl: Option<SdxlReport>,
}

/// Tests `content` with every detector of its medium, each at `fpr` over their number.
pub fn detect(
    content: &Decoded,
    detectors: &[&MediaDetector],
    fpr: f64,
) -> Result<MediaDetectReport> {
    let medium = content.medium();
    let mine: Vec<&&MediaDetector> = detectors.iter().filter(|d| d.medium() == medium).collect();
    let per_key = fpr / mine.len().max(1) as f64;
    let mut detections = Vec::new();
    for d in mine {
        if let Some(found) = d.detect(content, per_key) {
            detections.push(KeyDetection {
                scheme: d.key.scheme.to_string(),
                key_id: d.key.key_id.clone(),
                medium,
                detection: found?,
            });
        }
    }
    let sdxl = match content {
        Decoded::Image(p, _) => Some(read_sdxl(p, fpr)?),
        Decoded::Audio(..) => None,
    };
    Ok(MediaDetectReport {
        media_type: content.media_type(),
        medium,
        description: content.describe(),
        detected: detections.iter().any(|d| d.detection.verdict.detected),
        false_positive_rate: fpr,
        detections,
        sdxl,
    })
}

/// The configured media keys, loaded once (the attributor's and the service's).
#[derive(Debug, Default)]
pub struct MediaDetectors {
    /// One per configured media key, or why it could not be loaded.
    detectors: Vec<std::result::Result<MediaDetector, String>>,
}

impl MediaDetectors {
    /// Loads every media key of `[keys] watermark` (text keys are skipped); `reason`
    /// words a failure as much as may be told.
    pub fn load(config: &Config, reason: impl Fn(String, &Error) -> String) -> Self {
        Self {
            detectors: media_key_paths(config)
                .into_iter()
                .map(|path| {
                    MediaDetector::load(path).map_err(|e| {
                        let name = path
                            .file_name()
                            .map_or_else(|| "(unnamed)".into(), |n| n.to_string_lossy());
                        reason(format!("media watermark key {name}"), &e)
                    })
                })
                .collect(),
        }
    }

    pub fn from_detectors(detectors: Vec<MediaDetector>) -> Self {
        Self {
            detectors: detectors.into_iter().map(Ok).collect(),
        }
    }

    /// The keys that loaded.
    pub fn loaded(&self) -> Vec<&MediaDetector> {
        self.detectors
            .iter()
            .filter_map(|d| d.as_ref().ok())
            .collect()
    }

    /// Why keys did not load.
    pub fn problems(&self) -> Vec<&str> {
        self.detectors
            .iter()
            .filter_map(|d| d.as_ref().err().map(String::as_str))
            .collect()
    }

    /// Whether a key of `medium` is configured (loaded or not).
    pub fn configured_for(&self, medium: Medium) -> bool {
        self.loaded().iter().any(|d| d.medium() == medium) || !self.problems().is_empty()
    }

    /// [`detect`] with these keys.
    pub fn detect(&self, content: &Decoded, fpr: f64) -> Result<MediaDetectReport> {
        detect(content, &self.loaded(), fpr)
    }
}

/// The model that generated the media (Tracemark does not run image or audio models:
/// the provider names its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaGenerator {
    pub name: String,
    pub version: String,
}

/// One marked, signed and logged picture or sound, in memory.
#[derive(Debug, Clone, Serialize)]
pub struct MarkedMedia {
    /// The published file: marked, with its credential embedded.
    #[serde(skip)]
    pub bytes: Vec<u8>,
    pub media_type: &'static str,
    pub description: String,
    pub scheme: String,
    pub key_id: KeyId,
    pub payload: Payload,
    /// PSNR (images, dB, RGB) or SNR (sound, dB) of the marked content against the input.
    pub quality_db: f64,
    pub quality_measure: &'static str,
    /// The size of the embedded manifest store.
    pub manifest_len: usize,
    pub record: GenerationRecord,
    #[serde(flatten)]
    pub entry: AppendedEntry,
    /// The C2SP `tlog-proof` of the record.
    pub receipt: String,
}

/// A provider's media marking station: its media keys (the first of each scheme), the
/// signing key and the log, opened once.
pub struct MediaMarker {
    image: Option<(MediaKey, ImageMarker)>,
    audio: Option<(MediaKey, AudioMarker)>,
    signing_key: SigningKey,
    provider: String,
    ledger: AnyLedger,
}

impl std::fmt::Debug for MediaMarker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaMarker")
            .field("image_key", &self.image.as_ref().map(|(k, _)| &k.key_id))
            .field("audio_key", &self.audio.as_ref().map(|(k, _)| &k.key_id))
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl MediaMarker {
    /// Opens the log first (a marking that cannot be recorded is not started), then the
    /// signing key and the configured media keys.
    pub fn open(config: &Config) -> Result<Self> {
        let ledger = LogSite::configured(config)?.open()?;
        let signing_dir = config.keys.signing.as_deref().ok_or_else(|| {
            Error::usage(
                "no signing key is configured ([keys] signing)",
                Some("make one with `tracemark keygen signing`".into()),
            )
        })?;
        let signing_key = SigningKey::from_identity_dir(signing_dir)?;
        let mut image = None;
        let mut audio = None;
        for path in media_key_paths(config) {
            let key = read_media_key(path)?;
            match key.scheme {
                MediaScheme::ImageDctV1 if image.is_none() => {
                    let m = ImageMarker::new(&key)?;
                    image = Some((key, m));
                }
                MediaScheme::AudioStftV1 if audio.is_none() => {
                    let m = AudioMarker::new(&key)?;
                    audio = Some((key, m));
                }
                _ => {}
            }
        }
        if image.is_none() && audio.is_none() {
            return Err(Error::usage(
                "no image or audio watermark key is configured ([keys] watermark)",
                Some(
                    "make one with `tracemark keygen watermark --scheme tracemark-image-dct-v1 --name image` (or tracemark-audio-stft-v1) and add it to [keys] watermark"
                        .into(),
                ),
            ));
        }
        let provider = config
            .provider
            .name
            .clone()
            .unwrap_or_else(|| signing_key.subject().to_owned());
        Ok(Self {
            image,
            audio,
            signing_key,
            provider,
            ledger,
        })
    }

    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Marks, signs and logs one picture or sound under a fresh generation id.
    pub fn mark(&mut self, bytes: &[u8], generator: &MediaGenerator) -> Result<MarkedMedia> {
        self.mark_as(crate::mark::generation_id(), bytes, generator)
    }

    /// [`Self::mark`] under a generation id given rather than drawn (unique in the log).
    pub fn mark_as(
        &mut self,
        generation_id: String,
        bytes: &[u8],
        generator: &MediaGenerator,
    ) -> Result<MarkedMedia> {
        let content = decode(bytes)?;
        let payload = crate::mark::payload_for(&generation_id, tracemark_media::key::PAYLOAD_BITS)
            .expect("64 bits make a payload");
        let (key, marked, format, quality, measure) = match &content {
            Decoded::Image(picture, format) => {
                let (key, m) = self.image.as_ref().ok_or_else(|| no_key("image"))?;
                let marked = m.embed(picture, payload.value())?;
                let quality = attack::psnr(picture, &marked);
                let encoded = imageio::encode_image(&marked, *format)?;
                let media = match format {
                    ImageFormat::Png => MediaFormat::Png,
                    ImageFormat::Jpeg => MediaFormat::Jpeg,
                };
                // The fingerprint of what is published: the encoded picture read back.
                let (published, _) = imageio::decode_image(&encoded)?;
                (
                    key,
                    (encoded, Decoded::Image(published, *format)),
                    media,
                    quality,
                    "psnr",
                )
            }
            Decoded::Audio(sound, format) => {
                let (key, m) = self.audio.as_ref().ok_or_else(|| no_key("audio"))?;
                let marked = m.embed(sound, payload.value())?;
                let quality = attack::snr(sound, &marked);
                let encoded = audioio::encode_wav(&marked, *format)?;
                let (published, _) = audioio::decode_wav(&encoded)?;
                (
                    key,
                    (encoded, Decoded::Audio(published, *format)),
                    MediaFormat::Wav,
                    quality,
                    "snr",
                )
            }
        };
        debug_assert_eq!(key.scheme, content.scheme());
        let (encoded, published) = marked;
        let model = ModelRef::named(&generator.name, &generator.version);
        let mut spec = CredentialSpec::new(
            Generator {
                name: generator.name.clone(),
                version: generator.version.clone(),
                digest: None,
            },
            self.provider.clone(),
            generation_id.clone(),
        );
        spec.watermark = Some(WatermarkDeclaration {
            scheme: key.scheme.to_string(),
            key_id: Some(key.key_id.clone()),
            payload: Some(payload),
        });
        let signed = sign_media(
            &encoded,
            format,
            &self.signing_key,
            &spec,
            &SignOptions::default(),
        )?;
        let record = GenerationRecord {
            format: tracemark_ledger::registry::GENERATION_RECORD_V3.into(),
            content_hash: ContentHash::of_bytes(&signed.bytes),
            watermark_scheme: key.scheme.to_string(),
            key_id: key.key_id.clone(),
            payload,
            model,
            provider: self.provider.clone(),
            credential_hash: Some(ContentHash::of_bytes(&signed.manifest)),
            time: Timestamp::now(),
            generation_id,
            sketch: TextSketch::of_text(""),
            media: Some(MediaRef {
                media_type: published.media_type().into(),
                fingerprint: published.fingerprint()?,
            }),
        };
        let (entry, receipt) = crate::mark::append_and_prove(&mut self.ledger, &record)?;
        Ok(MarkedMedia {
            bytes: signed.bytes,
            media_type: published.media_type(),
            description: published.describe(),
            scheme: key.scheme.to_string(),
            key_id: key.key_id.clone(),
            payload,
            quality_db: quality,
            quality_measure: measure,
            manifest_len: signed.manifest_len,
            record,
            entry,
            receipt,
        })
    }
}

fn no_key(medium: &str) -> Error {
    let scheme = if medium == "image" {
        MediaScheme::ImageDctV1
    } else {
        MediaScheme::AudioStftV1
    };
    Error::usage(
        format!("no {medium} watermark key is configured ([keys] watermark)"),
        Some(format!(
            "make one with `tracemark keygen watermark --scheme {scheme}` and add it to [keys] watermark"
        )),
    )
}

/// What `tracemark mark-media` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct MarkedMediaFiles {
    pub media_file: PathBuf,
    pub record_file: PathBuf,
    pub receipt_file: PathBuf,
    #[serde(flatten)]
    pub marked: MarkedMedia,
}

/// Marks, signs and logs `input`'s bytes and writes the file to `out` (its record and
/// receipt beside it, `.record.json` and `.receipt`), each through a temporary file and
/// a rename, the media last.
pub fn mark_file(
    config: &Config,
    bytes: &[u8],
    generator: &MediaGenerator,
    out: &Path,
    generation_id: Option<String>,
) -> Result<MarkedMediaFiles> {
    let mut marker = MediaMarker::open(config)?;
    let marked = match generation_id {
        Some(id) => marker.mark_as(id, bytes, generator)?,
        None => marker.mark(bytes, generator)?,
    };
    let record_file = out.with_extension("record.json");
    let receipt_file = out.with_extension("receipt");
    let write =
        |path: &Path, bytes: &[u8]| keyfile::write_file(path, bytes, Secrecy::Public, Replace::Yes);
    let record_json = serde_json::to_vec_pretty(&marked.record).expect("a record serialises");
    write(&record_file, &record_json)?;
    write(&receipt_file, marked.receipt.as_bytes())?;
    write(out, &marked.bytes)?;
    Ok(MarkedMediaFiles {
        media_file: out.to_owned(),
        record_file,
        receipt_file,
        marked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_their_bytes() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0"),
            Sniffed::Image(ImageFormat::Png)
        );
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Sniffed::Image(ImageFormat::Jpeg)
        );
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Sniffed::Audio);
        assert_eq!(
            sniff(b"GIF89a\x01\x00\x01\x00\x80\xff"),
            Sniffed::Unsupported("GIF")
        );
        assert_eq!(
            sniff(b"RIFF\0\0\0\0WEBPVP8 \xff"),
            Sniffed::Unsupported("WebP")
        );
        assert_eq!(
            sniff(b"fLaC\0\0\0\x22\xff\xfe"),
            Sniffed::Unsupported("FLAC")
        );
        // Text that happens to start like a format is text.
        assert_eq!(sniff(b"BM is a fine name for a text."), Sniffed::Other);
        assert_eq!(sniff(b"GIF89a is a format."), Sniffed::Other);
        assert_eq!(sniff(b""), Sniffed::Other);
        let err = decode(b"GIF89a\x01\x00\x01\x00\x80\xff").unwrap_err();
        assert!(err.to_string().contains("GIF"), "{err}");
        assert!(decode(b"\x89PNG\r\n\x1a\n\0\0").is_err());
    }

    #[test]
    fn key_files_of_both_kinds_read_and_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let media = dir.path().join("image.json");
        let key = MediaKey::generate(MediaScheme::ImageDctV1, &mut rand_core::OsRng);
        keyfile::write_json(&media, &key, Replace::No).unwrap();
        let text = dir.path().join("text.json");
        let tkey = WatermarkKey::generate(
            tracemark_watermark::SchemeId::KgwSelfHash,
            &mut rand_core::OsRng,
        );
        keyfile::write_json(&text, &tkey, Replace::No).unwrap();
        assert_eq!(media_scheme_of(&media), Some(MediaScheme::ImageDctV1));
        assert_eq!(media_scheme_of(&text), None);
        assert!(matches!(
            read_watermark_key(&media).unwrap(),
            AnyWatermarkKey::Media(_)
        ));
        assert!(matches!(
            read_watermark_key(&text).unwrap(),
            AnyWatermarkKey::Text(_)
        ));
        assert!(read_media_key(&text).is_err());
        let mut config = Config::default();
        config.keys.watermark = vec![media.clone(), text.clone()];
        assert_eq!(text_key_paths(&config), [&text]);
        assert_eq!(media_key_paths(&config), [&media]);
    }
}
