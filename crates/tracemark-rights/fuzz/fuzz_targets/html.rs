#![no_main]
//! The HTML meta/link/script scanner.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tracemark_rights::html::scan(data);
});
