//! `tracemark version`: the version and the formats this build writes.

use crate::Output;

pub(super) fn version() -> Output {
    let formats: Vec<_> = tracemark::formats::WRITTEN
        .iter()
        .map(|(id, what)| serde_json::json!({ "format": id, "description": what }))
        .collect();
    let json = serde_json::json!({ "name": "tracemark", "version": tracemark::VERSION, "formats": formats });
    Output::new(
        json,
        format!("tracemark {}", tracemark::formats::long_version()),
    )
}
