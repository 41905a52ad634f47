//! The image mark end to end on small pictures: round trip with payload, wrong key and
//! unmarked pictures, JPEG 75 and a 0.5× resize, alpha, bytes in and out.

use tracemark_media::{
    MediaKey, MediaScheme, Picture,
    attack::{self, ImageAttack},
    image_mark::{ImageDetectOptions, ImageMarker},
    imageio::{self, ImageFormat},
    synth,
};

const PAYLOAD: u64 = 0xDEAD_BEEF_0123_4567;
const LEVEL: f64 = 1e-3;

fn key(byte: u8) -> MediaKey {
    MediaKey::from_secret(MediaScheme::ImageDctV1, [byte; 32])
}

/// Full-frame tests only: the crop search multiplies a debug build's time by 61 and is
/// measured in the bench.
fn opts() -> ImageDetectOptions {
    ImageDetectOptions {
        false_positive_rate: LEVEL,
        crop_search: false,
    }
}

#[test]
fn a_marked_picture_gives_back_its_payload_and_stays_close_to_the_original() {
    let marker = ImageMarker::new(&key(1)).unwrap();
    let original = synth::picture(7, 256, 192);
    let marked = marker.embed(&original, PAYLOAD).unwrap();
    let psnr = attack::psnr(&original, &marked);
    assert!(psnr > 38.0, "PSNR {psnr}");
    let d = marker.detect_with(&marked, &opts()).unwrap();
    assert!(d.verdict.detected);
    assert!(d.verdict.p_value.log10() < -20.0, "{:?}", d.verdict.p_value);
    assert_eq!(d.payload.map(|p| p.value()), Some(PAYLOAD));
    assert!(d.payload_checked);
    assert_eq!(d.verdict.method, "tracemark-image-dct-v1");
    assert_eq!(d.verdict.false_positive_rate, LEVEL);
    // The verdict serialises in the text marks' shape.
    let json = serde_json::to_value(&d).unwrap();
    assert!(json["verdict"]["log10_p_value"].as_f64().unwrap() < -20.0);
    assert_eq!(json["payload"]["bits"], 64);
}

#[test]
fn another_key_and_an_unmarked_picture_are_not_detected() {
    let original = synth::picture(8, 256, 256);
    let marked = ImageMarker::new(&key(1))
        .unwrap()
        .embed(&original, PAYLOAD)
        .unwrap();
    for (picture, k) in [(&marked, 2), (&original, 1), (&original, 3)] {
        let d = ImageMarker::new(&key(k))
            .unwrap()
            .detect_with(picture, &opts())
            .unwrap();
        assert!(!d.verdict.detected, "key {k}: {:?}", d.verdict.p_value);
        assert!(d.payload.is_none());
    }
}

#[test]
fn the_mark_survives_jpeg_75_and_half_size() {
    let marker = ImageMarker::new(&key(4)).unwrap();
    let marked = marker.embed(&synth::picture(9, 256, 256), PAYLOAD).unwrap();
    for attack in [ImageAttack::Jpeg(75), ImageAttack::Resize(0.5)] {
        let attacked = attack.apply(&marked, 1).unwrap();
        let d = marker.detect_with(&attacked, &opts()).unwrap();
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
fn a_centre_crop_is_found_by_the_search() {
    let marker = ImageMarker::new(&key(5)).unwrap();
    let marked = marker
        .embed(&synth::picture(10, 256, 256), PAYLOAD)
        .unwrap();
    let cropped = attack::centre_crop(&marked, 0.9).unwrap();
    let d = marker.detect(&cropped, LEVEL).unwrap();
    assert!(d.verdict.detected);
    let f = d.alignment["crop_fraction"].as_f64().unwrap();
    assert!((f - 0.9).abs() < 0.011, "{f}");
}

#[test]
fn alpha_and_gray_pictures_are_marked_and_alpha_kept() {
    let marker = ImageMarker::new(&key(6)).unwrap();
    let rgb = synth::picture(11, 128, 128);
    let rgba: Vec<u8> = rgb
        .pixels()
        .chunks_exact(3)
        .enumerate()
        .flat_map(|(i, p)| [p[0], p[1], p[2], (i % 251) as u8])
        .collect();
    let rgba = Picture::new(128, 128, 4, rgba).unwrap();
    let marked = marker.embed(&rgba, PAYLOAD).unwrap();
    let alpha = |p: &Picture| p.pixels().chunks_exact(4).map(|c| c[3]).collect::<Vec<_>>();
    assert_eq!(alpha(&marked), alpha(&rgba));
    let png = imageio::encode_png(&marked).unwrap();
    let (back, format) = imageio::decode_image(&png).unwrap();
    assert_eq!((back.channels(), format), (4, ImageFormat::Png));
    let d = marker.detect_with(&back, &opts()).unwrap();
    assert_eq!(d.payload.map(|p| p.value()), Some(PAYLOAD));
    // JPEG cannot keep alpha: refused, not flattened.
    assert!(imageio::encode_jpeg(&marked, 90).is_err());

    let gray = Picture::new(
        128,
        128,
        1,
        rgb.luma().data.iter().map(|v| *v as u8).collect(),
    )
    .unwrap();
    let marked = marker.embed(&gray, PAYLOAD).unwrap();
    let jpeg = imageio::encode_image(&marked, ImageFormat::Jpeg).unwrap();
    let (back, _) = imageio::decode_image(&jpeg).unwrap();
    let d = marker.detect_with(&back, &opts()).unwrap();
    assert_eq!(d.payload.map(|p| p.value()), Some(PAYLOAD));
}

#[test]
fn bad_options_and_small_pictures_are_refused() {
    let marker = ImageMarker::new(&key(7)).unwrap();
    let tiny = synth::picture(1, 32, 300);
    assert!(marker.embed(&tiny, 1).is_err());
    assert!(marker.detect(&tiny, LEVEL).is_err());
    let fine = synth::picture(1, 64, 64);
    assert!(marker.detect(&fine, 0.0).is_err());
    let audio_key = MediaKey::from_secret(MediaScheme::AudioStftV1, [1; 32]);
    assert!(ImageMarker::new(&audio_key).is_err());
}
