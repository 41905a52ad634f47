#![no_main]
//! RSL 1.0 documents: parse and, when valid, evaluate for a path.

use libfuzzer_sys::fuzz_target;
use tracemark_rights::{Attachment, Provenance, rsl};

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = rsl::parse(data, "fuzz") {
        let prov = Provenance::new(
            "fuzz",
            Attachment::File,
            data,
            "2026-01-01T00:00:00Z".parse().unwrap(),
        );
        let _ = rsl::signals(&doc, &prov, Some("https://example.com/a"), "/a");
    }
});
