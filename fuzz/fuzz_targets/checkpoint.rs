#![no_main]
//! Checkpoints and the witness's input, against the fixed log and witness keys.
//!
//! The first byte picks:
//! 0. `Checkpoint::parse_body` (a note's text), printed back and parsed again;
//! 1. `SignedCheckpoint::parse`, then `verify` with the log-only and the witnessed trust
//!    policies (cosigned checkpoints), and a cosignature added;
//! 2. a tlog-witness add-checkpoint request or a bare checkpoint, read the way
//!    `tracemark log cosign` reads its input (`AddCheckpoint::is_request`, then
//!    `AddCheckpoint::parse` or `SignedCheckpoint::parse`), then `WitnessState::cosign`
//!    from a state that has cosigned the fixed tree at size 5 (so consistency proofs,
//!    rollbacks and forks are checked);
//! 3. a witness state file (`WitnessState::parse`).

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tracemark_ledger::{
    AddCheckpoint, Checkpoint, Cosigner, NoteVerifier, SignedCheckpoint, TrustPolicy, WitnessState,
};

struct Fixed {
    log: NoteVerifier,
    witness: Cosigner,
    log_only: TrustPolicy,
    witnessed: TrustPolicy,
    state: WitnessState,
}

fn fixed() -> &'static Fixed {
    static F: OnceLock<Fixed> = OnceLock::new();
    F.get_or_init(|| Fixed {
        log: tracemark_fuzz::log_verifier(),
        witness: tracemark_fuzz::witness(),
        log_only: tracemark_fuzz::log_policy(),
        witnessed: tracemark_fuzz::witnessed_policy(),
        state: tracemark_fuzz::witness_state(),
    })
}

/// Whether no signature line claims the fixed witness's name (a forged one would make the
/// witnessed policy fail whatever else the note carries).
fn no_witness_line(checkpoint: &SignedCheckpoint) -> bool {
    checkpoint
        .note()
        .signatures()
        .iter()
        .all(|s| s.name != tracemark_fuzz::WITNESS_NAME)
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let f = fixed();
    match selector % 4 {
        0 => {
            let Ok(text) = std::str::from_utf8(bytes) else {
                return;
            };
            if let Ok(c) = Checkpoint::parse_body(text) {
                assert_eq!(Checkpoint::parse_body(&c.to_body()).as_ref(), Ok(&c));
            }
        }
        1 => {
            let Ok(mut checkpoint) = SignedCheckpoint::parse(bytes) else {
                return;
            };
            let _ = checkpoint.verify(&f.witnessed);
            if let Ok(verified) = checkpoint.verify(&f.log_only) {
                let body = verified.checkpoint.to_body();
                let line = f.witness.cosign_line(&body, 1_700_000_000);
                let unwitnessed = no_witness_line(&checkpoint);
                if checkpoint.add_cosignature(&line).is_ok() && unwitnessed {
                    assert!(checkpoint.verify(&f.witnessed).is_ok());
                }
            }
        }
        2 => {
            let (checkpoint, proof) = if AddCheckpoint::is_request(bytes) {
                match AddCheckpoint::parse(bytes) {
                    Ok(r) => (r.checkpoint, Some((r.old, r.proof))),
                    Err(_) => return,
                }
            } else {
                match SignedCheckpoint::parse(bytes) {
                    Ok(c) => (c, None),
                    Err(_) => return,
                }
            };
            let mut state = f.state.clone();
            let before = state.cosigned_size(tracemark_fuzz::LOG_NAME);
            let result = state.cosign(
                &f.witness,
                &f.log,
                &checkpoint,
                proof.as_ref().map(|(old, p)| (*old, p.as_slice())),
                1_700_000_000,
            );
            match result {
                Ok(cosigned) => {
                    // Never a rollback, and the cosigned note verifies as witnessed.
                    let head = checkpoint.checkpoint_unverified();
                    assert!(head.size >= before);
                    if no_witness_line(&checkpoint) {
                        assert!(cosigned.checkpoint.verify(&f.witnessed).is_ok());
                    }
                    assert!(WitnessState::parse(state.to_json().as_bytes()).is_ok());
                }
                Err(_) => assert_eq!(state, f.state, "a refused checkpoint changed the state"),
            }
        }
        _ => {
            if let Ok(state) = WitnessState::parse(bytes) {
                let _ = WitnessState::parse(state.to_json().as_bytes()).expect("round trip");
            }
        }
    }
});
