#![no_main]
//! Signed notes and `tlog-proof` receipts, verified against the fixed log key
//! (`tracemark_fuzz::log_signer`, which signed the seeds).
//!
//! The first byte picks: even, `Note::parse` then `Note::verify` with the log's verifier
//! and the witness's cosignature verifier; odd, `Receipt::parse` then `Receipt::verify`
//! against the log-only trust policy (as `tracemark log verify-receipt` and the
//! attribution pipeline do), the record it carries read back (`VerifiedReceipt::record`),
//! and with the witnessed policy (one cosignature required).

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tracemark_ledger::{
    CosignatureVerifier, Note, NoteVerifier, Receipt, TrustPolicy, note::NoteVerify,
};

struct Fixed {
    log: NoteVerifier,
    witness: CosignatureVerifier,
    log_only: TrustPolicy,
    witnessed: TrustPolicy,
}

fn fixed() -> &'static Fixed {
    static F: OnceLock<Fixed> = OnceLock::new();
    F.get_or_init(|| Fixed {
        log: tracemark_fuzz::log_verifier(),
        witness: tracemark_fuzz::witness().verifier().clone(),
        log_only: tracemark_fuzz::log_policy(),
        witnessed: tracemark_fuzz::witnessed_policy(),
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let f = fixed();
    if selector % 2 == 0 {
        let Ok(note) = Note::parse(bytes) else {
            return;
        };
        let known: [&dyn NoteVerify; 2] = [&f.log, &f.witness];
        if let Ok(verified) = note.verify(&known) {
            assert!(!verified.is_empty());
        }
        // What parses prints back to text that parses to the same note.
        let again = Note::parse(note.to_text().as_bytes()).expect("a note's own text parses");
        assert_eq!(again.text(), note.text());
    } else {
        let Ok(receipt) = Receipt::parse(bytes) else {
            return;
        };
        if let Ok(verified) = receipt.verify(&f.log_only, None) {
            let _ = verified.record();
        }
        let _ = receipt.verify(&f.witnessed, Some(b"{}"));
        let again =
            Receipt::parse(receipt.to_text().as_bytes()).expect("a receipt's own text parses");
        assert_eq!(again, receipt);
    }
});
