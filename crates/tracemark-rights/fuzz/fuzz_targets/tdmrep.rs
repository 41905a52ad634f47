#![no_main]
//! TDMRep `tdmrep.json` rule files.

use libfuzzer_sys::fuzz_target;
use tracemark_rights::tdmrep;

fuzz_target!(|data: &[u8]| {
    if let Ok(rules) = tdmrep::parse_well_known(data, "fuzz") {
        let _ = tdmrep::matching_rule(&rules, "/directory-b/images/x.jpg");
    }
});
