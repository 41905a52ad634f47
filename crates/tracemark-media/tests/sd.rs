//! The SDXL reader against pictures the reference Python package marked
//! (`fixtures/make_sd_fixtures.py`): it must read exactly the bits the package's own
//! decoder read from the same PNG files.

use std::path::Path;

use tracemark_media::{imageio::decode_image, sd};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/sd")
            .join(name),
    )
    .unwrap()
}

#[test]
fn reads_the_bits_the_reference_decoder_reads() {
    let expected: serde_json::Value = serde_json::from_slice(&fixture("expected.json")).unwrap();
    let cases = expected.as_object().unwrap();
    assert_eq!(cases.len(), 4);
    for (name, case) in cases {
        let (picture, _) = decode_image(&fixture(&format!("{name}.png"))).unwrap();
        let reading = sd::read_sdxl(&picture).unwrap();
        let bits = format!("{:048b}", reading.bits);
        assert_eq!(bits, case["bits"].as_str().unwrap(), "{name}");
        assert_eq!(
            u64::from(reading.matching_bits),
            case["matching"].as_u64().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn a_cleanly_marked_picture_is_significant_and_an_unmarked_one_is_not() {
    let (marked, _) = decode_image(&fixture("sdxl-0.png")).unwrap();
    let r = sd::read_sdxl(&marked).unwrap();
    assert_eq!(r.matching_bits, 48);
    assert_eq!(r.stability_verdict, "marked");
    assert!(r.p_value.value() < 1e-3, "{:?}", r.p_value);
    let (unmarked, _) = decode_image(&fixture("unmarked-0.png")).unwrap();
    let r = sd::read_sdxl(&unmarked).unwrap();
    assert!(r.p_value.value() > 0.01, "{:?}", r.p_value);
}
