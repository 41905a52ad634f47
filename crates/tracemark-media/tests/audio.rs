//! The audio mark end to end on short synthetic clips: payload round trip through WAV,
//! wrong key and unmarked audio, a trimmed start, gain.

use tracemark_media::{
    MediaKey, MediaScheme,
    attack::{AudioAttack, snr},
    audio::Audio,
    audio_mark::{AudioEmbedOptions, AudioMarker},
    audioio::{self, WavFormat},
    synth,
};

const PAYLOAD: u64 = 0x0123_4567_89AB_CDEF;
const LEVEL: f64 = 1e-3;

fn key(byte: u8) -> MediaKey {
    MediaKey::from_secret(MediaScheme::AudioStftV1, [byte; 32])
}

fn clip(seed: u64, rate: u32, seconds: f64) -> Audio {
    let left = synth::music(seed, rate, seconds);
    let right = synth::speechlike(seed, rate, seconds);
    Audio::new(rate, vec![left, right]).unwrap()
}

#[test]
fn a_marked_clip_gives_back_its_payload_through_wav() {
    let marker = AudioMarker::new(&key(1)).unwrap();
    let original = clip(1, 16_000, 9.0);
    let marked = marker.embed(&original, PAYLOAD).unwrap();
    let quality = snr(&original, &marked);
    assert!(quality > 15.0, "SNR {quality}");
    let wav = audioio::encode_wav(&marked, WavFormat::PCM16).unwrap();
    let (back, _) = audioio::decode_wav(&wav).unwrap();
    let d = marker.detect(&back, LEVEL).unwrap();
    assert!(d.verdict.detected, "{:?}", d.verdict.p_value);
    assert_eq!(d.payload.map(|p| p.value()), Some(PAYLOAD));
    assert_eq!(d.verdict.method, "tracemark-audio-stft-v1");
}

#[test]
fn another_key_and_unmarked_audio_are_not_detected() {
    let original = clip(2, 16_000, 5.0);
    let marked = AudioMarker::new(&key(1))
        .unwrap()
        .embed(&original, PAYLOAD)
        .unwrap();
    for (audio, k) in [(&marked, 2), (&original, 1)] {
        let d = AudioMarker::new(&key(k))
            .unwrap()
            .detect(audio, LEVEL)
            .unwrap();
        assert!(!d.verdict.detected, "key {k}: {:?}", d.verdict.p_value);
        assert!(d.payload.is_none());
    }
}

/// The start search and the gain invariance, at a strength above the default so a short
/// clip suffices (the default's robustness is measured on 30-s clips in the bench).
#[test]
fn a_trimmed_start_and_a_gain_change_are_survived() {
    let marker = AudioMarker::new(&key(3)).unwrap();
    let strong = AudioEmbedOptions {
        margin: 1000.0,
        max_db: 3.0,
    };
    let marked = marker
        .embed_with(&clip(3, 16_000, 10.0), PAYLOAD, &strong)
        .unwrap();
    for attack in [AudioAttack::TrimStart(1.37), AudioAttack::Gain(0.5)] {
        let attacked = attack.apply(&marked, 1).unwrap();
        let d = marker.detect(&attacked, LEVEL).unwrap();
        assert!(d.verdict.detected, "{}", attack.name());
        assert_eq!(
            d.payload.map(|p| p.value()),
            Some(PAYLOAD),
            "{}",
            attack.name()
        );
    }
}

#[test]
fn short_clips_and_bad_levels_are_refused() {
    let marker = AudioMarker::new(&key(4)).unwrap();
    let short = clip(4, 16_000, 0.5);
    assert!(marker.embed(&short, 1).is_err());
    assert!(marker.detect(&short, LEVEL).is_err());
    assert!(marker.detect(&clip(4, 16_000, 1.5), 2.0).is_err());
    assert!(AudioMarker::new(&MediaKey::from_secret(MediaScheme::ImageDctV1, [1; 32])).is_err());
}
