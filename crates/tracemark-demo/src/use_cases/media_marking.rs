//! Use case 4, an AI image marked at the source: marked with the provider's image key,
//! signed and logged; re-encoded as JPEG by someone who reposts it (which drops the
//! credential); still attributed to the provider and the generation.

use std::path::{Path, PathBuf};

use tracemark::{
    Error, Result, attribute,
    config::Config,
    core::{
        fact::{DetectorAccess, DetectorFinding, MarkKind},
        keyfile::{self, Replace, Secrecy},
    },
    keygen::{self, Destination, KeySpec, SeededKeyRng},
    log::LogSite,
    media::{MediaGenerator, MediaMarker},
    mediamark::{
        MediaScheme, attack,
        imageio::{self, ImageFormat},
        synth,
    },
};

use super::{UseCase, UseCases, demo_detector, seeded_generation_id, today};

/// The model the demo's provider names for its pictures (the picture itself is drawn
/// procedurally: no image model is run).
pub const IMAGE_MODEL: &str = "demo-image-model";

/// Where the demo provider's image watermark key is, relative to the work folder (its
/// configuration lists it beside the text key).
pub(crate) const IMAGE_KEY: &str = "media-keys/image.json";

/// The demo provider's image watermark key, in the work folder (made on the first run).
pub(crate) fn image_key(out: &Path, seed: Option<u64>) -> Result<PathBuf> {
    let path = out.join(IMAGE_KEY);
    if !path.exists() {
        let spec = KeySpec::MediaWatermark {
            scheme: MediaScheme::ImageDctV1,
        };
        let destination = Destination::Path(path.clone());
        match seed {
            Some(seed) => keygen::generate_with_rng(
                &spec,
                &destination,
                Replace::No,
                &mut SeededKeyRng::new("demo: image watermark key", seed),
            )?,
            None => keygen::generate(&spec, &destination, Replace::No)?,
        };
    }
    Ok(path)
}

impl UseCases<'_> {
    /// Use case 4: the picture is marked in both layers (an image watermark whose
    /// payload names the generation, and a signed C2PA credential declaring it), and
    /// logged; the reposted JPEG has lost the credential, and the watermark's payload
    /// still finds the log record, whose fingerprint matches the picture.
    pub(crate) fn media_marking(&mut self) -> Result<UseCase> {
        let mut config: Config = self.config.clone();
        // A work folder configured before the image key was listed gets it here.
        if !config.keys.watermark.iter().any(|k| k.ends_with(IMAGE_KEY)) {
            config.keys.watermark.push(image_key(self.out, self.seed)?);
        }
        let picture = synth::picture(self.seed.unwrap_or(41) ^ 0x5eed, 768, 512);
        let png = imageio::encode_image(&picture, ImageFormat::Png)?;
        let generator = MediaGenerator {
            name: IMAGE_MODEL.into(),
            version: "1".into(),
        };
        let mut marker = MediaMarker::open(&config)?;
        let marked = match self.seed {
            Some(seed) => {
                let size = LogSite::configured(&config)?
                    .open()?
                    .size()
                    .map_err(Error::Ledger)?;
                marker.mark_as(seeded_generation_id(seed, size), &png, &generator)?
            }
            None => marker.mark(&png, &generator)?,
        };
        drop(marker);
        let signed = self.out.join("4-ai-image.signed.png");
        let write = |path: &Path, bytes: &[u8]| {
            keyfile::write_file(path, bytes, Secrecy::Public, Replace::Yes)
        };
        write(
            &signed.with_extension("record.json"),
            &marked
                .record
                .canonical_bytes()
                .map_err(|e| Error::internal(e.to_string(), None))?,
        )?;
        write(&signed, &marked.bytes)?;
        // Reposted: decoded, re-encoded as JPEG at quality 75, saved without metadata.
        let (published, _) = imageio::decode_image(&marked.bytes)?;
        let reposted = imageio::encode_image(&attack::jpeg(&published, 75)?, ImageFormat::Jpeg)?;
        let mut case = self.attribute_media(
            &config,
            "4-ai-image",
            "An AI image: marked and signed, re-encoded as JPEG and stripped of its credential",
            "4-ai-image.jpg",
            &reposted,
        )?;
        case.answer.insert(
            0,
            format!(
                "Marked with {} (PSNR {:.1} dB), payload {}, generation {}",
                marked.scheme, marked.quality_db, marked.payload, marked.record.generation_id
            ),
        );
        Ok(case)
    }

    /// Writes `bytes` to `name` in the work folder and attributes them under `config`,
    /// stating the provider's detectors of both layers; the report is sealed, logged and
    /// written to `reports/ID.{json,html}`.
    fn attribute_media(
        &self,
        config: &Config,
        id: &'static str,
        title: &'static str,
        name: &str,
        bytes: &[u8],
    ) -> Result<UseCase> {
        let input = self.out.join(name);
        keyfile::write_file(&input, bytes, Secrecy::Public, Replace::Yes)?;
        let as_of = today();
        let request = attribute::Request {
            content: attribute::Content::new(bytes, Some(name)),
            as_of,
            jurisdictions: config.policy.jurisdictions.clone(),
            ai_generated: None,
            command: format!("tracemark --config tracemark.toml attribute --as-of {as_of} {name}"),
        };
        let report = attribute::Attributor::load(config, attribute::Disclosure::Full)
            .with_detector(demo_detector())
            .with_detector(DetectorFinding {
                mark: MarkKind::Credential,
                name: "tracemark verify, and POST /v1/verify of tracemark serve".into(),
                access: DetectorAccess::Free,
                url: None,
            })
            .attribute(&request);
        self.conclude(config, report, id, title, input)
    }
}
