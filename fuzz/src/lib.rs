//! Fixtures shared by the fuzz targets and the seed writer: a fixed log key (so that the
//! committed seeds verify), the witness state the witness target starts from, and where
//! the seeds live.

use std::path::PathBuf;

use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use tracemark_ledger::{
    Checkpoint, Cosigner, Hash, NoteSigner, NoteVerifier, SignedCheckpoint, TrustPolicy,
    WitnessState,
    merkle::{MemoryTree, leaf_hash},
    witness::WitnessedLog,
};

/// The fixed log's name (its checkpoints' origin).
pub const LOG_NAME: &str = "fuzz.example/log";
/// The fixed witness's name.
pub const WITNESS_NAME: &str = "fuzz.example/witness";
/// The size of the tree the fixed witness state has cosigned.
pub const WITNESSED_SIZE: u64 = 5;
/// The size of the fixed tree.
pub const TREE_SIZE: u64 = 13;

/// A deterministic stand-in for a CSPRNG (SHA-256 in counter mode over a label), so the
/// fixed keys are the same in every build and the committed seeds keep verifying. Only
/// for fixtures: nothing secret is made with it.
#[derive(Debug)]
pub struct FixedRng {
    label: &'static str,
    counter: u64,
}

impl FixedRng {
    pub fn new(label: &'static str) -> Self {
        Self { label, counter: 0 }
    }
}

impl RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            let block = Sha256::new()
                .chain_update(self.label.as_bytes())
                .chain_update(self.counter.to_le_bytes())
                .finalize();
            self.counter += 1;
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for FixedRng {}

/// The fixed log's signer.
pub fn log_signer() -> NoteSigner {
    NoteSigner::generate(LOG_NAME, &mut FixedRng::new("tracemark-fuzz log key"))
        .expect("a valid key name")
}

/// The fixed log's verifier.
pub fn log_verifier() -> NoteVerifier {
    log_signer().verifier().clone()
}

/// The fixed witness's cosigner.
pub fn witness() -> Cosigner {
    Cosigner::generate(
        WITNESS_NAME,
        &mut FixedRng::new("tracemark-fuzz witness key"),
    )
    .expect("a valid key name")
}

/// Trust the fixed log alone (what `tracemark log verify` builds from a `key.pub`).
pub fn log_policy() -> TrustPolicy {
    TrustPolicy::log_only(log_verifier())
}

/// Trust the fixed log and require the fixed witness's cosignature.
pub fn witnessed_policy() -> TrustPolicy {
    let mut policy = log_policy();
    policy.witnesses.push(witness().verifier().clone());
    policy.required_cosignatures = 1;
    policy
}

/// The `i`-th entry of the fixed tree.
pub fn entry(i: u64) -> Vec<u8> {
    format!("{{\"fuzz-entry\":{i}}}").into_bytes()
}

/// The fixed tree of `size` entries.
pub fn tree(size: u64) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for i in 0..size {
        tree.push(leaf_hash(&entry(i)));
    }
    tree
}

/// The fixed log's checkpoint of the fixed tree at `size`.
pub fn checkpoint(size: u64) -> SignedCheckpoint {
    let root: Hash = tree(size).root();
    Checkpoint {
        origin: LOG_NAME.to_owned(),
        size,
        root,
        extensions: Vec::new(),
    }
    .sign(&log_signer())
    .expect("the checkpoint signs")
}

/// A witness state that has cosigned the fixed tree at [`WITNESSED_SIZE`].
pub fn witness_state() -> WitnessState {
    let mut state = WitnessState::default();
    state.logs.insert(
        LOG_NAME.to_owned(),
        WitnessedLog {
            vkey: log_verifier().to_string(),
            size: WITNESSED_SIZE,
            root: tree(WITNESSED_SIZE).root().to_base64(),
            checkpoint: checkpoint(WITNESSED_SIZE).to_text(),
        },
    );
    state
}

/// `fuzz/seeds/`.
pub fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds")
}
