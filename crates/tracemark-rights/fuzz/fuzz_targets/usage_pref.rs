#![no_main]
//! AIPREF usage preferences (Structured-Field Dictionaries) and Content Signals.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tracemark_rights::parse_usage_pref(data);
    let _ = tracemark_rights::parse_content_signal(&String::from_utf8_lossy(data));
    let _ = tracemark_rights::http::parse_link_header(&String::from_utf8_lossy(data));
});
