//! A witness's state file under concurrent runs: two witnesses (threads, each opening the
//! state as a separate `tracemark log cosign` process would) cosign growing checkpoints of
//! one log at the same moments, many rounds; every cosignature given was recorded and
//! seen by the next one, and a rollback is still refused afterwards.

use std::sync::{Arc, Barrier, Mutex};

use rand_core::OsRng;
use tracemark_ledger::{
    Checkpoint, Cosigner, NoteSigner, SignedCheckpoint, WitnessError,
    merkle::{MemoryTree, consistency_proof, leaf_hash, root_hash},
    witness::WitnessStateFile,
};

const ORIGIN: &str = "log.example/witnessed";

/// One witness run, as `tracemark log cosign` does it: lock and read the state, check
/// and cosign `checkpoint` (with a consistency proof from the size the state holds),
/// write the state, release the lock. Returns `(previous size, size)` when it cosigned,
/// `None` when it refused a rollback.
fn cosign_once(
    path: &std::path::Path,
    witness: &Cosigner,
    log: &NoteSigner,
    tree: &MemoryTree,
    checkpoint: &SignedCheckpoint,
    time: u64,
) -> Option<(u64, u64)> {
    let mut file = WitnessStateFile::lock(path).unwrap();
    let size = checkpoint.checkpoint_unverified().size;
    let old = file.state().cosigned_size(ORIGIN);
    let proof = (old > 0 && old < size).then(|| consistency_proof(tree, old, size).unwrap());
    let result = file.state_mut().cosign(
        witness,
        log.verifier(),
        checkpoint,
        proof.as_deref().map(|p| (old, p)),
        time,
    );
    match result {
        Ok(cosigned) => {
            file.save().unwrap();
            Some((cosigned.previous_size, size))
        }
        Err(WitnessError::Rollback { .. }) => None,
        Err(e) => panic!("cosigning {size} entries: {e}"),
    }
}

#[test]
fn racing_witnesses_lose_no_update_and_still_refuse_a_rollback() {
    const ROUNDS: u64 = 60;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("witness-state.json");
    let log = NoteSigner::generate(ORIGIN, &mut OsRng).unwrap();
    let witness = Cosigner::generate("witness.example/w1", &mut OsRng).unwrap();
    let mut tree = MemoryTree::new();
    for i in 0..2 * ROUNDS {
        tree.push(leaf_hash(format!("entry {i}").as_bytes()));
    }
    // The log's signed checkpoint at every size.
    let checkpoints: Vec<SignedCheckpoint> = (0..=2 * ROUNDS)
        .map(|size| {
            Checkpoint {
                origin: ORIGIN.into(),
                size,
                root: root_hash(&tree, size).unwrap(),
                extensions: vec![],
            }
            .sign(&log)
            .unwrap()
        })
        .collect();
    let shared = Arc::new((tree, checkpoints, log, witness));
    let barrier = Arc::new(Barrier::new(2));
    let given = Arc::new(Mutex::new(Vec::new()));

    // In round r, witness 0 is asked for 2r + 1 entries and witness 1 for 2r + 2, both
    // released at once: whichever comes second finds the other's cosignature in the
    // state (and refuses 2r + 1 after 2r + 2 as a rollback).
    let runs: Vec<_> = (0..2u64)
        .map(|w| {
            let (path, shared, barrier, given) =
                (path.clone(), shared.clone(), barrier.clone(), given.clone());
            std::thread::spawn(move || {
                let (tree, checkpoints, log, witness) = &*shared;
                for round in 0..ROUNDS {
                    let size = 2 * round + 1 + w;
                    barrier.wait();
                    if let Some(done) = cosign_once(
                        &path,
                        witness,
                        log,
                        tree,
                        &checkpoints[size as usize],
                        1_800_000_000 + size,
                    ) {
                        given.lock().unwrap().push(done);
                    }
                }
            })
        })
        .collect();
    for run in runs {
        run.join().unwrap();
    }

    // Each cosignature was given from the state the one before it wrote: taken in order
    // of size, every one's previous size is the size cosigned before it. A lost update
    // shows as two cosignatures from the same previous size.
    let mut given = given.lock().unwrap().clone();
    given.sort_unstable_by_key(|&(_, size)| size);
    let mut expected_previous = 0;
    for &(previous, size) in &given {
        assert_eq!(
            previous, expected_previous,
            "the cosignature of {size} entries was given from a state that had lost the \
             cosignature of {expected_previous}: {given:?}"
        );
        expected_previous = size;
    }
    // Witness 1's checkpoints are never rollbacks, so all of them were cosigned.
    assert!(given.len() as u64 >= ROUNDS, "{given:?}");

    let (tree, checkpoints, log, witness) = &*shared;
    let file = WitnessStateFile::lock(&path).unwrap();
    assert_eq!(file.state().cosigned_size(ORIGIN), 2 * ROUNDS);
    assert_eq!(
        file.state().logs[ORIGIN].checkpoint,
        checkpoints.last().unwrap().to_text()
    );
    drop(file);
    // A rollback is refused afterwards, and so is anything older.
    for size in [2 * ROUNDS - 1, ROUNDS, 1] {
        let mut file = WitnessStateFile::lock(&path).unwrap();
        let refused = file.state_mut().cosign(
            witness,
            log.verifier(),
            &checkpoints[size as usize],
            None,
            1_900_000_000,
        );
        assert!(
            matches!(
                refused,
                Err(WitnessError::Rollback { cosigned, offered, .. })
                    if cosigned == 2 * ROUNDS && offered == size
            ),
            "{refused:?}"
        );
    }
    assert!(cosign_once(&path, witness, log, tree, &checkpoints[2], 1_900_000_001).is_none());
}

#[test]
fn the_state_lock_is_exclusive_and_released_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("witness-state.json");
    let lock_path = WitnessStateFile::lock_path(&path).unwrap();
    assert_eq!(lock_path, dir.path().join("witness-state.json.lock"));
    let held = WitnessStateFile::lock(&path).unwrap();
    assert!(held.state().logs.is_empty(), "no file yet: an empty state");
    let other = std::fs::File::open(&lock_path).unwrap();
    assert!(matches!(
        other.try_lock(),
        Err(std::fs::TryLockError::WouldBlock)
    ));
    held.save().unwrap();
    drop(held);
    other.try_lock().unwrap();
    other.unlock().unwrap();
    // A malformed state file is an error that names it, not an empty state.
    std::fs::write(&path, "{").unwrap();
    let err = WitnessStateFile::lock(&path).unwrap_err();
    assert!(matches!(err, WitnessError::State(_)), "{err}");
    // A path without a file name is refused clearly.
    let err = WitnessStateFile::lock(std::path::Path::new("/")).unwrap_err();
    assert!(err.to_string().contains("does not name a file"), "{err}");
}
