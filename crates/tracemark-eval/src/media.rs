//! `tracemark eval media`: the media marks measured as the media crate's bench measures
//! them (`crates/tracemark-media/benches/media_eval.rs`, whose full runs give the README's
//! tables), in a size that runs in minutes: pictures (synthetic, plus any PNG/JPEG of a
//! folder cut into 512-pixel tiles) marked at the default strength, each attack of the
//! evaluation table applied, the payload read back at 1e-3; PSNR, SSIM and time per
//! megapixel; the wrong-key false-positive rate; and sounds under the audio attacks.
//!
//! The `invisible-watermark` baseline is not run here: it needs torch and OpenCV, so it
//! stays a benchmark script (`benches/baseline_imwm.py`), run by hand, out of CI.

use std::{path::Path, time::Instant};

use serde::Serialize;
use tracemark::{
    Result,
    keygen::SeededKeyRng,
    mediamark::{
        Audio, AudioMarker, ImageMarker, MediaKey, MediaScheme, Picture,
        attack::{self, AudioAttack, ImageAttack},
        imageio, synth,
    },
};

/// What to measure.
#[derive(Debug, Clone)]
pub struct MediaEvalOptions {
    /// Synthetic pictures (512×512).
    pub pictures: usize,
    /// A folder of PNG/JPEG pictures, cut into 512×512 tiles (at most 2 a picture).
    pub natural: Option<std::path::PathBuf>,
    /// Wrong keys tried on every unmarked picture.
    pub keys: usize,
    /// Synthetic clips of 20 s (music-like and speech-like, alternately).
    pub clips: usize,
    pub seed: u64,
}

/// One row of a robustness table.
#[derive(Debug, Clone, Serialize)]
pub struct AttackRow {
    pub attack: String,
    pub tested: usize,
    pub detected: usize,
    pub payload_exact: usize,
    /// Payloads reported that were not the one embedded.
    pub wrong: usize,
}

/// The table `tracemark eval media` prints.
#[derive(Debug, Clone, Serialize)]
pub struct MediaEval {
    pub pictures: usize,
    pub psnr_db: f64,
    pub ssim: f64,
    pub embed_seconds_per_megapixel: f64,
    pub detect_seconds_per_megapixel: f64,
    pub image: Vec<AttackRow>,
    /// Wrong-key tests on unmarked pictures, and false positives at 1e-2 and 1e-3.
    pub fpr_tests: usize,
    pub false_positives_1e2: usize,
    pub false_positives_1e3: usize,
    pub clips: usize,
    pub snr_db: f64,
    pub audio: Vec<AttackRow>,
}

fn key(scheme: MediaScheme, seed: u64, n: u64) -> MediaKey {
    MediaKey::generate(
        scheme,
        &mut SeededKeyRng::new("eval media: keys", seed.wrapping_mul(1_000_003) ^ n),
    )
}

fn tiles(dir: &Path) -> Vec<Picture> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok((p, _)) = imageio::decode_image(&bytes) else {
            continue;
        };
        let Ok(p) = attack::drop_alpha(&p) else {
            continue;
        };
        for k in 0..2u32 {
            let (w, h) = (p.width(), p.height());
            if w < 512 || h < 512 {
                break;
            }
            let x0 = (w - 512) * k;
            let y0 = (h - 512) * k;
            let c = p.channels() as usize;
            let mut px = Vec::with_capacity(512 * 512 * c);
            for y in y0..y0 + 512 {
                let row = (y as usize * w as usize + x0 as usize) * c;
                px.extend_from_slice(&p.pixels()[row..row + 512 * c]);
            }
            if let Ok(t) = Picture::new(512, 512, p.channels(), px) {
                out.push(t);
            }
        }
    }
    out
}

fn row(name: String) -> AttackRow {
    AttackRow {
        attack: name,
        tested: 0,
        detected: 0,
        payload_exact: 0,
        wrong: 0,
    }
}

/// Runs the measurement; `progress` hears each stage.
pub fn media(options: &MediaEvalOptions, progress: &mut dyn FnMut(&str)) -> Result<MediaEval> {
    let level = 1e-3;
    let mut pictures: Vec<Picture> = (0..options.pictures)
        .map(|i| synth::picture(options.seed * 7919 + i as u64, 512, 512))
        .collect();
    if let Some(dir) = &options.natural {
        pictures.extend(tiles(dir));
    }
    let mut rows: Vec<AttackRow> = ImageAttack::TABLE.iter().map(|a| row(a.name())).collect();
    let (mut psnr, mut ssim, mut embed_s, mut detect_s, mut detect_n) = (0.0, 0.0, 0.0, 0.0, 0);
    for (i, picture) in pictures.iter().enumerate() {
        progress(&format!("picture {} of {}", i + 1, pictures.len()));
        let k = key(MediaScheme::ImageDctV1, options.seed, i as u64);
        let marker = ImageMarker::new(&k)?;
        let payload = 0x9e37_79b9_7f4a_7c15u64.rotate_left(i as u32);
        let start = Instant::now();
        let marked = marker.embed(picture, payload)?;
        embed_s += start.elapsed().as_secs_f64();
        psnr += attack::psnr(picture, &marked);
        ssim += attack::ssim(picture, &marked);
        for (a, r) in ImageAttack::TABLE.iter().zip(rows.iter_mut()) {
            let attacked = a.apply(&marked, i as u64)?;
            let start = Instant::now();
            let d = marker.detect(&attacked, level)?;
            detect_s += start.elapsed().as_secs_f64() * 262_144.0
                / (attacked.width() as f64 * attacked.height() as f64);
            detect_n += 1;
            r.tested += 1;
            r.detected += usize::from(d.verdict.detected);
            match d.payload.map(|p| p.value()) {
                Some(p) if p == payload => r.payload_exact += 1,
                Some(_) => r.wrong += 1,
                None => {}
            }
        }
    }
    let n = pictures.len().max(1) as f64;
    let megapixels = 512.0 * 512.0 / 1e6;
    progress("false positives");
    let (mut tests, mut fp2, mut fp3) = (0, 0, 0);
    for (i, picture) in pictures.iter().enumerate() {
        for j in 0..options.keys {
            let k = key(
                MediaScheme::ImageDctV1,
                options.seed ^ 0xfa15e,
                (i * 10_007 + j) as u64,
            );
            let d = ImageMarker::new(&k)?.detect(picture, 1e-2)?;
            tests += 1;
            fp2 += usize::from(d.verdict.p_value.value() <= 1e-2);
            fp3 += usize::from(d.verdict.p_value.value() <= 1e-3);
        }
    }
    let mut audio_rows: Vec<AttackRow> = AudioAttack::TABLE.iter().map(|a| row(a.name())).collect();
    let mut snr = 0.0;
    for c in 0..options.clips {
        progress(&format!("clip {} of {}", c + 1, options.clips));
        let seed = options.seed * 131 + c as u64;
        let samples = if c % 2 == 0 {
            synth::music(seed, 48_000, 20.0)
        } else {
            synth::speechlike(seed, 48_000, 20.0)
        };
        let audio = Audio::new(48_000, vec![samples])?;
        let k = key(MediaScheme::AudioStftV1, options.seed, 1_000_000 + c as u64);
        let marker = AudioMarker::new(&k)?;
        let payload = 0x2545_f491_4f6c_dd1du64.rotate_left(c as u32);
        let marked = marker.embed(&audio, payload)?;
        snr += attack::snr(&audio, &marked);
        for (a, r) in AudioAttack::TABLE.iter().zip(audio_rows.iter_mut()) {
            let d = marker.detect(&a.apply(&marked, seed)?, level)?;
            r.tested += 1;
            r.detected += usize::from(d.verdict.detected);
            match d.payload.map(|p| p.value()) {
                Some(p) if p == payload => r.payload_exact += 1,
                Some(_) => r.wrong += 1,
                None => {}
            }
        }
    }
    Ok(MediaEval {
        pictures: pictures.len(),
        psnr_db: psnr / n,
        ssim: ssim / n,
        embed_seconds_per_megapixel: embed_s / n / megapixels,
        detect_seconds_per_megapixel: detect_s / detect_n.max(1) as f64 / megapixels,
        image: rows,
        fpr_tests: tests,
        false_positives_1e2: fp2,
        false_positives_1e3: fp3,
        clips: options.clips,
        snr_db: snr / options.clips.max(1) as f64,
        audio: audio_rows,
    })
}

/// `k` of `n` as a percentage (`-` when nothing was tested).
fn pct(k: usize, n: usize) -> String {
    if n == 0 {
        "-".to_owned()
    } else {
        format!("{:.1} %", 100.0 * k as f64 / n as f64)
    }
}

/// An attack table's rows, in Markdown.
fn push_rows(out: &mut String, rows: &[AttackRow]) {
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.attack,
            pct(r.detected, r.tested),
            pct(r.payload_exact, r.tested),
            r.wrong
        ));
    }
}

impl MediaEval {
    /// The tables, in Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "## Image mark (tracemark-image-dct-v1), {} pictures of 512×512, level 1e-3\n\n\
             PSNR {:.2} dB (mean, RGB), SSIM {:.3}; embedding {:.3} s/MP, detection {:.3} s/MP (this build, one core)\n\n\
             | attack | detected | payload exact | wrong |\n|---|---|---|---|\n",
            self.pictures,
            self.psnr_db,
            self.ssim,
            self.embed_seconds_per_megapixel,
            self.detect_seconds_per_megapixel
        );
        push_rows(&mut out, &self.image);
        out.push_str(&format!(
            "\nWrong keys on unmarked pictures: {} tests; {} at p ≤ 1e-2 ({}), {} at p ≤ 1e-3 ({})\n",
            self.fpr_tests,
            self.false_positives_1e2,
            pct(self.false_positives_1e2, self.fpr_tests),
            self.false_positives_1e3,
            pct(self.false_positives_1e3, self.fpr_tests)
        ));
        if self.clips > 0 {
            out.push_str(&format!(
                "\n## Audio mark (tracemark-audio-stft-v1), {} synthetic clips of 20 s at 48 kHz\n\n\
                 SNR {:.1} dB (mean)\n\n| attack | detected | payload exact | wrong |\n|---|---|---|---|\n",
                self.clips, self.snr_db
            ));
            push_rows(&mut out, &self.audio);
        }
        out.push_str(
            "\nThe invisible-watermark baseline (dwtDct, dwtDctSvd) needs torch and OpenCV: run \
             crates/tracemark-media/benches/baseline_imwm.py (see the media crate's README); its \
             measured table is there.\n",
        );
        out
    }
}
