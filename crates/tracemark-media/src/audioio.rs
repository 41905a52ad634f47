//! WAV in and out through `hound`, with limits: PCM of 8, 16, 24 or 32 bits or 32-bit
//! float, 1 to 8 channels. The header is checked (format, channels, length) before any
//! sample buffer is allocated; a truncated file is an error, never a panic.

use std::io::Cursor;

use hound::{SampleFormat, WavReader, WavWriter};

use crate::{MediaError, audio::Audio};

/// The most samples (all channels) read: 64 M, 256 MB as `f32` (about 11 minutes of
/// 48 kHz stereo).
pub const MAX_SAMPLES: u64 = 64 * 1024 * 1024;
/// The most channels read.
pub const MAX_CHANNELS: u16 = 8;

/// How a WAV file stores its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavFormat {
    pub bits_per_sample: u16,
    pub float: bool,
}

impl WavFormat {
    pub const PCM16: WavFormat = WavFormat {
        bits_per_sample: 16,
        float: false,
    };
    pub const PCM24: WavFormat = WavFormat {
        bits_per_sample: 24,
        float: false,
    };
    pub const FLOAT32: WavFormat = WavFormat {
        bits_per_sample: 32,
        float: true,
    };
}

fn decode_error(e: impl std::fmt::Display) -> MediaError {
    MediaError::Decode {
        format: "WAV",
        reason: e.to_string(),
    }
}

/// Decodes WAV bytes into audio and the format they used.
pub fn decode_wav(bytes: &[u8]) -> Result<(Audio, WavFormat), MediaError> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(MediaError::Unsupported {
            media: "audio",
            what: "the bytes are not a WAV (RIFF/WAVE) file".into(),
        });
    }
    let mut reader = WavReader::new(Cursor::new(bytes)).map_err(decode_error)?;
    let spec = reader.spec();
    let format = WavFormat {
        bits_per_sample: spec.bits_per_sample,
        float: spec.sample_format == SampleFormat::Float,
    };
    let supported = match spec.sample_format {
        SampleFormat::Int => matches!(spec.bits_per_sample, 8 | 16 | 24 | 32),
        SampleFormat::Float => spec.bits_per_sample == 32,
    };
    if !supported {
        return Err(MediaError::Unsupported {
            media: "audio",
            what: format!(
                "{}-bit {} samples",
                spec.bits_per_sample,
                if format.float { "float" } else { "integer" }
            ),
        });
    }
    if spec.channels == 0 || spec.channels > MAX_CHANNELS {
        return Err(MediaError::Unsupported {
            media: "audio",
            what: format!("{} channels (1 to {MAX_CHANNELS} are read)", spec.channels),
        });
    }
    let total = u64::from(reader.duration()) * u64::from(spec.channels);
    if total > MAX_SAMPLES {
        return Err(MediaError::TooLarge {
            what: format!("a WAV of {total} samples"),
            limit: format!("{MAX_SAMPLES} samples"),
        });
    }
    let channels = usize::from(spec.channels);
    let mut planar: Vec<Vec<f32>> = vec![Vec::with_capacity(reader.duration() as usize); channels];
    if format.float {
        for (i, s) in reader.samples::<f32>().enumerate() {
            planar[i % channels].push(s.map_err(decode_error)?);
        }
    } else {
        let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
        for (i, s) in reader.samples::<i32>().enumerate() {
            planar[i % channels].push(s.map_err(decode_error)? as f32 * scale);
        }
    }
    // A last frame cut short leaves channels of different lengths: drop it.
    let frames = planar.iter().map(Vec::len).min().unwrap_or(0);
    planar.iter_mut().for_each(|c| c.truncate(frames));
    if frames == 0 {
        return Err(MediaError::TooSmall("the WAV holds no samples".into()));
    }
    Ok((Audio::new(spec.sample_rate, planar)?, format))
}

/// Encodes audio as WAV in `format` (integer samples rounded and clipped).
pub fn encode_wav(audio: &Audio, format: WavFormat) -> Result<Vec<u8>, MediaError> {
    let encode_error = |e: hound::Error| MediaError::Encode {
        format: "WAV",
        reason: e.to_string(),
    };
    let spec = hound::WavSpec {
        channels: audio.channels().len() as u16,
        sample_rate: audio.sample_rate(),
        bits_per_sample: format.bits_per_sample,
        sample_format: if format.float {
            SampleFormat::Float
        } else {
            SampleFormat::Int
        },
    };
    let mut out = Cursor::new(Vec::new());
    {
        let mut writer = WavWriter::new(&mut out, spec).map_err(encode_error)?;
        let full = (1i64 << (format.bits_per_sample - 1)) as f32;
        for i in 0..audio.frames() {
            for c in audio.channels() {
                if format.float {
                    writer.write_sample(c[i]).map_err(encode_error)?;
                } else {
                    let v = (c[i] * full).round().clamp(-full, full - 1.0) as i32;
                    writer.write_sample(v).map_err(encode_error)?;
                }
            }
        }
        writer.finalize().map_err(encode_error)?;
    }
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_round_trips() {
        let audio = Audio::new(
            16_000,
            vec![
                (0..1000).map(|i| (i as f32 / 50.0).sin() * 0.5).collect(),
                (0..1000).map(|i| (i as f32 / 70.0).cos() * 0.25).collect(),
            ],
        )
        .unwrap();
        for format in [WavFormat::PCM16, WavFormat::PCM24, WavFormat::FLOAT32] {
            let bytes = encode_wav(&audio, format).unwrap();
            let (back, f) = decode_wav(&bytes).unwrap();
            assert_eq!(f, format);
            assert_eq!(back.frames(), 1000);
            let err = back.channels()[1]
                .iter()
                .zip(&audio.channels()[1])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(err < 1e-4, "{format:?} {err}");
        }
    }
}
