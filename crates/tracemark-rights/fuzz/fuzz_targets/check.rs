#![no_main]
//! The whole entry point, with the format chosen from the first byte.

use libfuzzer_sys::fuzz_target;
use tracemark_rights::{CheckRequest, Format, check};

const FORMATS: [Option<Format>; 8] = [
    None,
    Some(Format::RobotsTxt),
    Some(Format::AiTxt),
    Some(Format::TdmrepJson),
    Some(Format::Rsl),
    Some(Format::Html),
    Some(Format::HttpResponse),
    Some(Format::TrainingMining),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let _ = check(&CheckRequest {
        bytes,
        source: "fuzz",
        asset_url: Some("https://example.com/a/b.jpg"),
        seen_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        format: FORMATS[usize::from(selector) % FORMATS.len()],
    });
});
