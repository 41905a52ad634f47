//! Hostile and malformed input: every case is a clear error, never a panic, never a large
//! allocation.

use tracemark_media::{
    MediaError,
    audio::Audio,
    audioio::{self, WavFormat},
    imageio, synth,
};

fn png() -> Vec<u8> {
    imageio::encode_png(&synth::picture(3, 96, 80)).unwrap()
}

fn jpeg() -> Vec<u8> {
    imageio::encode_jpeg(&synth::picture(3, 96, 80), 90).unwrap()
}

fn wav() -> Vec<u8> {
    let audio = Audio::new(
        16_000,
        vec![(0..4000).map(|i| (i as f32 * 0.01).sin()).collect()],
    )
    .unwrap();
    audioio::encode_wav(&audio, WavFormat::PCM16).unwrap()
}

#[test]
fn truncated_images_are_errors() {
    for bytes in [png(), jpeg()] {
        assert!(imageio::decode_image(&bytes).is_ok());
        for cut in [0, 1, 8, 16, 33, 100, bytes.len() / 2, bytes.len() - 1] {
            let r = imageio::decode_image(&bytes[..cut]);
            // A JPEG cut near its end may still decode (the decoder pads the last scan);
            // anything else must be an error.
            if cut < bytes.len() / 2 {
                assert!(r.is_err(), "cut at {cut}");
            }
        }
    }
}

#[test]
fn corrupted_images_never_panic() {
    for bytes in [png(), jpeg()] {
        for i in (0..bytes.len()).step_by(7) {
            let mut b = bytes.clone();
            b[i] ^= 0x5A;
            let _ = imageio::decode_image(&b);
        }
    }
}

#[test]
fn other_formats_and_non_images_are_unsupported() {
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    for bytes in [&gif[..], b"hello, not an image", b"", b"BM\x00\x00"] {
        let err = imageio::decode_image(bytes).unwrap_err();
        assert!(matches!(err, MediaError::Unsupported { .. }), "{err}");
    }
}

/// A PNG header claiming 100000 × 100000 pixels is refused from the header.
#[test]
fn huge_dimensions_are_refused_before_decoding() {
    let mut bytes = png();
    // IHDR's width and height follow the 8-byte signature, the chunk length and type.
    bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let err = imageio::decode_image(&bytes).unwrap_err();
    // The IHDR CRC no longer matches, so the decoder may stop there; either way no
    // decode is attempted.
    assert!(
        matches!(err, MediaError::TooLarge { .. } | MediaError::Decode { .. }),
        "{err}"
    );
    assert!(imageio::check_dimensions(100_000, 100_000).is_err());
    assert!(imageio::check_dimensions(16_000, 16_000).is_err());
    assert!(imageio::check_dimensions(0, 10).is_err());
    assert!(imageio::check_dimensions(4000, 3000).is_ok());
}

#[test]
fn zero_size_pictures_are_refused() {
    let zero = tracemark_media::Picture::new(0, 0, 3, vec![]).unwrap();
    assert!(
        imageio::encode_png(&zero).is_err()
            || imageio::decode_image(&imageio::encode_png(&zero).unwrap()).is_err()
    );
}

#[test]
fn truncated_and_corrupted_wavs_are_errors() {
    let bytes = wav();
    assert!(audioio::decode_wav(&bytes).is_ok());
    for cut in [0, 4, 12, 20, 40, 44] {
        assert!(audioio::decode_wav(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    // Cut inside the samples: hound reports the missing data (or we drop the partial
    // last frame); never a panic.
    let _ = audioio::decode_wav(&bytes[..bytes.len() - 3]);
    for i in (0..64).chain((64..bytes.len()).step_by(97)) {
        let mut b = bytes.clone();
        b[i] ^= 0xA5;
        let _ = audioio::decode_wav(&b);
    }
}

#[test]
fn wavs_over_the_limits_or_in_odd_formats_are_refused() {
    let mut bytes = wav();
    // The data chunk's length claims 2^31 bytes.
    let data = bytes.windows(4).position(|w| w == b"data").unwrap();
    bytes[data + 4..data + 8].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    assert!(audioio::decode_wav(&bytes).is_err());
    assert!(matches!(
        audioio::decode_wav(b"not a wav file at all").unwrap_err(),
        MediaError::Unsupported { .. }
    ));
    let audio = Audio::new(16_000, vec![vec![0.0; 100]; 9]).unwrap();
    let nine = audioio::encode_wav(&audio, WavFormat::PCM16).unwrap();
    assert!(matches!(
        audioio::decode_wav(&nine).unwrap_err(),
        MediaError::Unsupported { .. }
    ));
}
