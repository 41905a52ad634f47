//! The backend-independent test suite: every storage backend runs these through
//! `store_suite!` (SQLite in `tests/sqlite.rs`, PostgreSQL in `tests/postgres.rs`).
#![allow(dead_code)]

use super::{ORIGIN, record, record_for, signer, text};
use tracemark_core::{ContentHash, Diagnose, Fault, Payload};
use tracemark_ledger::{
    CheckpointError, CosignatureVerifier, Ledger, LedgerError, LogStore, Lookup, NoteSigner,
    Receipt, ReceiptError, TextSketch, Tile, TileKind, TrustPolicy,
    merkle::{self, MemoryTree, leaf_hash},
    tiles::partial_tiles,
};

/// Opens another connection to one log, as another process or server would.
pub type Opener<S> = std::sync::Arc<dyn Fn() -> S + Send + Sync>;

/// A storage backend under test.
pub trait Backend {
    type Store: LogStore + Send + 'static;
    /// Whether the backend can run here; skips (a failure under `CI=true`) when not.
    fn available() -> bool;
    /// A fresh, empty store.
    fn make() -> Self::Store;
    /// A fresh, empty log that several connections can open.
    fn shared() -> Opener<Self::Store>;
}

pub fn ledger_with<B: Backend>(n: u64) -> Ledger<B::Store> {
    let mut ledger = Ledger::new(B::make(), signer());
    let records: Vec<_> = (0..n).map(record).collect();
    ledger.append_records(&records).unwrap();
    ledger
}

/// The verifier as a client has it: parsed from the `key.pub` text.
pub fn public_policy<S: LogStore>(ledger: &Ledger<S>) -> TrustPolicy {
    let vkey = format!("{}\n", ledger.policy().log);
    TrustPolicy::from_log_vkey(&vkey).unwrap()
}

pub fn appends_return_indexes_and_leaf_hashes_and_the_root_matches_memory<B: Backend>() {
    let mut ledger = ledger_with::<B>(0);
    let mut memory = MemoryTree::new();
    for batch in 0..5u64 {
        let records: Vec<_> = (batch * 7..batch * 7 + 7).map(record).collect();
        let appended = ledger.append_records(&records).unwrap();
        for (r, a) in records.iter().zip(&appended) {
            assert_eq!(a.leaf_hash, leaf_hash(&r.canonical_bytes().unwrap()));
            memory.push(a.leaf_hash);
        }
        assert_eq!(appended[0].index, batch * 7);
    }
    assert_eq!(ledger.size().unwrap(), 35);
    assert_eq!(ledger.root(35).unwrap(), memory.root());
    assert_eq!(ledger.record(12).unwrap(), record(12));
    assert!(matches!(
        ledger.entry(35),
        Err(LedgerError::NoSuchEntry {
            index: 35,
            size: 35
        })
    ));
    let report = ledger.verify().unwrap();
    assert_eq!((report.size, report.root), (35, memory.root()));
}

pub fn lookups_by_content_hash_payload_generation_id_and_similarity<B: Backend>() {
    let mut ledger = ledger_with::<B>(50);
    let r = record(17);
    assert_eq!(
        ledger.lookup(&Lookup::ContentHash(r.content_hash)).unwrap(),
        vec![17]
    );
    assert_eq!(
        ledger
            .lookup(&Lookup::GenerationId("gen-17".into()))
            .unwrap(),
        vec![17]
    );
    let by_payload = Lookup::Payload {
        payload: r.payload,
        key_id: Some(r.key_id.clone()),
    };
    assert_eq!(ledger.lookup(&by_payload).unwrap(), vec![17]);
    // The same value at another width is another payload.
    let narrow = Lookup::Payload {
        payload: Payload::new(17, 8).unwrap(),
        key_id: None,
    };
    assert!(ledger.lookup(&narrow).unwrap().is_empty());
    assert!(
        ledger
            .lookup(&Lookup::ContentHash(ContentHash::of_bytes(b"nothing")))
            .unwrap()
            .is_empty()
    );

    // An edited copy (every 15th word replaced) finds its record by similarity.
    let original = text(1000, 300);
    ledger
        .append_records(&[record_for(&original, "gen-original", 1)])
        .unwrap();
    let edited: String = original
        .split(' ')
        .enumerate()
        .map(|(i, w)| if i % 15 == 0 { "changed" } else { w })
        .collect::<Vec<_>>()
        .join(" ");
    assert_ne!(
        ContentHash::of_bytes(edited.as_bytes()),
        ContentHash::of_bytes(original.as_bytes())
    );
    let found = ledger
        .similar(&TextSketch::of_text(&edited), 0.3, 5)
        .unwrap();
    assert_eq!(found[0].index, 50, "{found:?}");
    assert!(found[0].similarity > 0.4 && found[0].similarity < 1.0);
    let unrelated = ledger
        .similar(&TextSketch::of_text(&text(99_999, 300)), 0.3, 5)
        .unwrap();
    assert!(unrelated.is_empty(), "{unrelated:?}");
}

pub fn receipts_verify_offline_with_only_the_public_key<B: Backend>() {
    let mut ledger = ledger_with::<B>(21);
    let policy = public_policy(&ledger);
    for index in [0, 1, 7, 20] {
        let receipt = ledger.prove(index).unwrap();
        let text = receipt.to_text();
        assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "));
        assert!(text.contains(&format!("\nindex {index}\n")));
        let parsed = Receipt::parse(text.as_bytes()).unwrap();
        assert_eq!(parsed, receipt);
        let record_bytes = record(index).canonical_bytes().unwrap();
        let verified = parsed.verify(&policy, Some(&record_bytes)).unwrap();
        assert_eq!(verified.index, index);
        assert_eq!(verified.entry.as_deref(), Some(record_bytes.as_slice()));
        assert_eq!(verified.checkpoint.checkpoint.size, 21);
        assert_eq!(verified.record().unwrap().unwrap(), record(index));
        // Checked against another record, it says so.
        let other = record(index + 1).canonical_bytes().unwrap();
        assert_eq!(
            parsed.verify(&policy, Some(&other)),
            Err(ReceiptError::RecordMismatch)
        );
    }
    // Without extra data, the record must be supplied.
    let mut bare = ledger.prove(3).unwrap();
    bare.extra = None;
    assert_eq!(bare.verify(&policy, None), Err(ReceiptError::NoEntry));
    let record_bytes = record(3).canonical_bytes().unwrap();
    bare.verify(&policy, Some(&record_bytes)).unwrap();
}

pub fn a_receipt_with_any_flipped_bit_or_truncation_is_rejected_without_panic<B: Backend>() {
    let mut ledger = ledger_with::<B>(13);
    let policy = public_policy(&ledger);
    let text = ledger.prove(5).unwrap().to_text().into_bytes();
    for byte in 0..text.len() {
        for bit in 0..8 {
            let mut bad = text.clone();
            bad[byte] ^= 1 << bit;
            let result = Receipt::parse(&bad).and_then(|r| r.verify(&policy, None));
            assert!(
                result.is_err(),
                "flipping bit {bit} of byte {byte} went unnoticed"
            );
            assert_eq!(result.unwrap_err().fault(), Fault::Input);
        }
    }
    for len in 0..text.len() {
        let result = Receipt::parse(&text[..len]).and_then(|r| r.verify(&policy, None));
        assert!(
            result.is_err(),
            "a receipt truncated to {len} bytes was accepted"
        );
    }
}

pub fn forged_checkpoints_and_proofs_for_another_tree_are_rejected<B: Backend>() {
    let mut ledger = ledger_with::<B>(10);
    let policy = public_policy(&ledger);
    let receipt = ledger.prove(4).unwrap();

    // A checkpoint signed by another key under the same origin.
    let impostor = NoteSigner::generate(ORIGIN, &mut rand_core::OsRng).unwrap();
    let mut forged_log = Ledger::new(B::make(), impostor);
    forged_log
        .append_records(&(0..10).map(record).collect::<Vec<_>>())
        .unwrap();
    let forged = forged_log.prove(4).unwrap();
    assert!(matches!(
        forged.verify(&policy, None),
        Err(ReceiptError::Checkpoint(CheckpointError::Note(_)))
    ));

    // The right log's checkpoint, but after more appends: the old proof is for another tree.
    ledger.append_records(&[record(10), record(11)]).unwrap();
    let newer = ledger.prove(0).unwrap().checkpoint;
    let mut mixed = receipt.clone();
    mixed.checkpoint = newer;
    assert!(matches!(
        mixed.verify(&policy, None),
        Err(ReceiptError::Proof(_))
    ));

    // A receipt for another index in the same tree.
    let mut moved = receipt.clone();
    moved.index = 5;
    assert!(matches!(
        moved.verify(&policy, None),
        Err(ReceiptError::Proof(_))
    ));
}

pub fn checkpoints_are_consistent_and_proofs_link_them<B: Backend>() {
    let mut ledger = ledger_with::<B>(5);
    let first = ledger.checkpoint().unwrap();
    let again = ledger.checkpoint().unwrap();
    assert_eq!(first, again, "no new checkpoint without new entries");
    ledger
        .append_records(&(5..40).map(record).collect::<Vec<_>>())
        .unwrap();
    let second = ledger.checkpoint().unwrap();
    let policy = public_policy(&ledger);
    let a = first.verify(&policy).unwrap().checkpoint;
    let b = second.verify(&policy).unwrap().checkpoint;
    let proof = ledger.consistency_proof(a.size, b.size).unwrap();
    merkle::verify_consistency(a.size, b.size, &proof, &a.root, &b.root).unwrap();
    assert!(
        merkle::verify_consistency(a.size, b.size, &proof, &b.root, &a.root).is_err(),
        "swapped roots must not verify"
    );
    assert!(ledger.consistency_proof(5, 41).is_err());
    assert_eq!(
        ledger.latest_checkpoint().unwrap().unwrap().to_text(),
        second.to_text()
    );
}

pub fn tiles_serve_the_tree_and_entries_as_the_spec_lays_them_out<B: Backend>() {
    // 256 · 2 + 3 entries: two full level-0 tiles and a partial one, a partial level-1 tile.
    let n = 515;
    let mut ledger = ledger_with::<B>(n);
    let mut memory = MemoryTree::new();
    for i in 0..n {
        memory.push(leaf_hash(&record(i).canonical_bytes().unwrap()));
    }
    // Before any checkpoint nothing is served.
    assert!(ledger.tile("tile/0/000").is_err());
    ledger.checkpoint().unwrap();

    let full = ledger.tile("tile/0/001").unwrap();
    assert_eq!(full.len(), 256 * 32);
    assert_eq!(
        &full[..32],
        &merkle::HashReader::stored_hash(&memory, 0, 256).unwrap().0
    );
    let partial = ledger.tile("tile/0/002.p/3").unwrap();
    assert_eq!(partial.len(), 3 * 32);
    let level1 = ledger.tile("tile/1/000.p/2").unwrap();
    assert_eq!(
        &level1[32..],
        &merkle::subtree_hash(&memory, 256, 512).unwrap().0
    );
    assert_eq!(
        partial_tiles(n)
            .iter()
            .map(|t| t.path())
            .collect::<Vec<_>>(),
        vec!["tile/0/002.p/3", "tile/1/000.p/2"]
    );
    for missing in [
        "tile/0/002",
        "tile/0/002.p/4",
        "tile/1/000",
        "tile/2/000.p/1",
    ] {
        assert!(
            matches!(ledger.tile(missing), Err(LedgerError::Tile(_))),
            "{missing}"
        );
    }

    // The entry bundle holds u16-prefixed entries whose leaf hashes are the level-0 tile.
    let bundle = ledger.tile("tile/entries/002.p/3").unwrap();
    let mut at = 0;
    let mut i = 512;
    while at < bundle.len() {
        let len = u16::from_be_bytes([bundle[at], bundle[at + 1]]) as usize;
        let entry = &bundle[at + 2..at + 2 + len];
        assert_eq!(entry, record(i).canonical_bytes().unwrap().as_slice());
        assert_eq!(
            &leaf_hash(entry).0,
            &partial[(i as usize - 512) * 32..][..32]
        );
        at += 2 + len;
        i += 1;
    }
    assert_eq!(i, 515);
    let t = Tile {
        kind: TileKind::Entries,
        index: 0,
        partial: None,
    };
    assert_eq!(
        t.read(ledger.store(), n).unwrap().len(),
        ledger.tile("tile/entries/000").unwrap().len()
    );
}

pub fn oversized_and_malformed_records_are_refused_before_storage<B: Backend>() {
    let mut ledger = ledger_with::<B>(1);
    let mut big = record(1);
    big.provider = "p".repeat(70_000);
    assert!(ledger.append_records(&[big]).is_err());
    let mut wrong = record(2);
    wrong.format = "tracemark.generation-record/v9".into();
    assert!(ledger.append_records(&[wrong]).is_err());
    assert_eq!(ledger.size().unwrap(), 1, "a refused batch appends nothing");
    assert_eq!(ledger.store().size().unwrap(), 1);
}

pub fn lookups_stay_exact_across_runs_and_merges<B: Backend>() {
    // Batches of varying sizes (1 to 9 records) make runs of several levels and merges.
    let mut ledger = ledger_with::<B>(0);
    let mut n = 0u64;
    for batch in 0..40u64 {
        let size = 1 + (batch * 5) % 9;
        ledger
            .append_records(&(n..n + size).map(record).collect::<Vec<_>>())
            .unwrap();
        n += size;
    }
    for i in (0..n).step_by(7).chain([n - 1]) {
        let r = record(i);
        assert_eq!(
            ledger.lookup(&Lookup::ContentHash(r.content_hash)).unwrap(),
            vec![i]
        );
        assert_eq!(
            ledger
                .lookup(&Lookup::GenerationId(format!("gen-{i}")))
                .unwrap(),
            vec![i]
        );
        let by_payload = Lookup::Payload {
            payload: r.payload,
            key_id: Some(r.key_id.clone()),
        };
        assert_eq!(ledger.lookup(&by_payload).unwrap(), vec![i]);
        let found = ledger.similar(&r.sketch, 0.9, 3).unwrap();
        assert_eq!(found[0].index, i, "{found:?}");
        assert_eq!(found[0].similarity, 1.0);
    }
    // The same record appended twice is found at both indexes, in log order.
    ledger.append_records(&[record(3)]).unwrap();
    assert_eq!(
        ledger
            .lookup(&Lookup::GenerationId("gen-3".into()))
            .unwrap(),
        vec![3, n]
    );
    ledger.verify().unwrap();
}

pub fn witness_cosignatures_are_kept_and_receipts_carry_them<B: Backend>() {
    use tracemark_ledger::{Cosigner, WitnessState, ledger::LedgerError as E};
    let mut ledger = ledger_with::<B>(10);
    let witness = Cosigner::generate("witness.example/w1", &mut rand_core::OsRng).unwrap();
    let log_vkey = ledger.policy().log;
    let mut state = WitnessState::default();
    let checkpoint = ledger.checkpoint().unwrap();
    let cosigned = state
        .cosign(&witness, &log_vkey, &checkpoint, None, 1_800_000_000)
        .unwrap();
    let witnesses = [witness.verifier().clone()];
    assert_eq!(
        ledger
            .add_cosignatures(&cosigned.checkpoint, &witnesses)
            .unwrap(),
        1
    );
    // Adding it again changes nothing, and neither does the witness's cosignature of
    // the same checkpoint at another time: one witness, one cosignature.
    assert_eq!(
        ledger
            .add_cosignatures(&cosigned.checkpoint, &witnesses)
            .unwrap(),
        1
    );
    let later = state
        .cosign(&witness, &log_vkey, &checkpoint, None, 1_800_000_500)
        .unwrap();
    assert_ne!(later.line, cosigned.line);
    let kept_before = ledger.latest_checkpoint().unwrap().unwrap();
    assert_eq!(
        ledger
            .add_cosignatures(&later.checkpoint, &witnesses)
            .unwrap(),
        1
    );
    assert_eq!(ledger.latest_checkpoint().unwrap().unwrap(), kept_before);
    assert!(matches!(
        ledger.prove_cosigned(4, 2),
        Err(E::NotCosigned { .. })
    ));
    let requiring = TrustPolicy {
        witnesses: witnesses.to_vec(),
        required_cosignatures: 1,
        ..public_policy(&ledger)
    };
    // The kept checkpoint now carries the cosignature, and so do receipts against it.
    ledger.prove(4).unwrap().verify(&requiring, None).unwrap();
    ledger
        .append_records(&(10..15).map(record).collect::<Vec<_>>())
        .unwrap();
    // A fresh checkpoint has no cosignature yet; the cosigned one still proves old entries.
    let fresh = ledger.prove(4).unwrap();
    assert!(matches!(
        fresh.verify(&requiring, None),
        Err(ReceiptError::Checkpoint(
            CheckpointError::NotEnoughCosignatures { .. }
        ))
    ));
    let receipt = ledger.prove_cosigned(4, 1).unwrap();
    let verified = receipt.verify(&requiring, None).unwrap();
    assert_eq!(verified.checkpoint.checkpoint.size, 10);
    assert_eq!(
        verified.checkpoint.cosignatures[0].name,
        "witness.example/w1"
    );
    assert!(matches!(
        ledger.prove_cosigned(12, 1),
        Err(E::NotCosigned { index: 12, .. })
    ));
    assert!(matches!(
        ledger.prove_cosigned(4, 2),
        Err(E::NotCosigned { .. })
    ));

    // A flipped bit in a cosignature, a note without the witness's line, or another
    // tree's checkpoint is not stored.
    for bit in [0usize, 70, 8 * 40 + 3, 8 * 71 + 7] {
        let mut sig =
            tracemark_ledger::note::NoteSignature::parse_line(cosigned.line.trim_end()).unwrap();
        sig.signature[bit / 8] ^= 1 << (bit % 8);
        let mut bad = checkpoint.clone();
        bad.add_cosignature(&sig.to_line()).unwrap();
        assert!(
            ledger.add_cosignatures(&bad, &witnesses).is_err(),
            "bit {bit}"
        );
    }
    assert!(ledger.add_cosignatures(&checkpoint, &witnesses).is_err());

    let other = Cosigner::generate("witness.example/w2", &mut rand_core::OsRng).unwrap();
    assert!(matches!(
        ledger.add_cosignatures(&cosigned.checkpoint, &[other.verifier().clone()]),
        Err(E::NoCosignature)
    ));
    let newer = ledger.checkpoint().unwrap();
    let mut state2 = WitnessState::default();
    let mut foreign = ledger_with::<B>(15);
    let foreign_cp = foreign.checkpoint().unwrap();
    let foreign_vkey = foreign.policy().log;
    let foreign_cosigned = state2
        .cosign(&witness, &foreign_vkey, &foreign_cp, None, 1_800_000_001)
        .unwrap();
    // Another log (another key) with the same origin: its checkpoint is not ours.
    assert!(
        ledger
            .add_cosignatures(&foreign_cosigned.checkpoint, &witnesses)
            .is_err()
    );
    assert_eq!(newer.checkpoint_unverified().size, 15);
}

/// What a witness does to the log's latest checkpoint: cosigns it (with a consistency
/// proof from the size it cosigned before) and stores the cosignature in the log.
fn witness_round<S: LogStore>(
    ledger: &mut Ledger<S>,
    witness: &tracemark_ledger::Cosigner,
    state: &mut tracemark_ledger::WitnessState,
    time: u64,
) -> tracemark_ledger::SignedCheckpoint {
    let checkpoint = ledger.checkpoint().unwrap();
    let size = checkpoint.checkpoint_unverified().size;
    let old = state.cosigned_size(ledger.origin());
    let proof = (old > 0 && old < size).then(|| ledger.consistency_proof(old, size).unwrap());
    let cosigned = state
        .cosign(
            witness,
            &ledger.policy().log,
            &checkpoint,
            proof.as_deref().map(|p| (old, p)),
            time,
        )
        .unwrap();
    let count = ledger
        .add_cosignatures(&cosigned.checkpoint, &[witness.verifier().clone()])
        .unwrap();
    assert_eq!(count, 1);
    checkpoint
}

/// The names of the witnesses whose cosignatures the latest kept checkpoint carries.
fn kept_cosigners<S: LogStore>(
    ledger: &Ledger<S>,
    witnesses: &[CosignatureVerifier],
) -> Vec<String> {
    let policy = TrustPolicy {
        witnesses: witnesses.to_vec(),
        required_cosignatures: 0,
        ..public_policy(ledger)
    };
    ledger
        .latest_checkpoint()
        .unwrap()
        .unwrap()
        .verify(&policy)
        .unwrap()
        .cosignatures
        .into_iter()
        .map(|c| c.name)
        .collect()
}

/// A checkpoint saved again after a witness cosigned it (by a second writer that signed
/// the same tree at the same time, or a stale one) keeps its cosignature, and so does a
/// save of another note of the same size; a first save is kept as given.
pub fn a_checkpoint_saved_again_keeps_its_cosignatures<B: Backend>() {
    use tracemark_ledger::{Cosigner, WitnessState, ledger::record_entry};
    let signer = signer();
    let records: Vec<_> = (0..6).map(record).collect();
    let entries: Vec<_> = records.iter().map(|r| record_entry(r).unwrap()).collect();
    // The notes as the log signs them: the plain checkpoint of 6 entries, and the same
    // with a witness's cosignature.
    let mut signing = Ledger::new(B::make(), signer.clone());
    signing.append_records(&records).unwrap();
    let plain = signing.checkpoint().unwrap();
    let witness = Cosigner::generate("witness.example/w1", &mut rand_core::OsRng).unwrap();
    let cosigned = WitnessState::default()
        .cosign(
            &witness,
            &signer.verifier().clone(),
            &plain,
            None,
            1_800_000_000,
        )
        .unwrap()
        .checkpoint;
    let (plain, cosigned) = (plain.to_text(), cosigned.to_text());

    let mut store = B::make();
    store.append(&entries).unwrap();
    store.save_checkpoint(6, &plain).unwrap();
    assert_eq!(store.checkpoint_at(6).unwrap().as_deref(), Some(&*plain));
    assert!(store.replace_checkpoint(6, &plain, &cosigned, 1).unwrap());
    // The same checkpoint saved again: the cosigned note stays.
    store.save_checkpoint(6, &plain).unwrap();
    assert_eq!(store.checkpoint_at(6).unwrap().as_deref(), Some(&*cosigned));
    assert_eq!(
        store.latest_checkpoint().unwrap().as_deref(),
        Some(&*cosigned)
    );
    assert_eq!(
        store.latest_cosigned_checkpoint(1).unwrap().as_deref(),
        Some(&*cosigned)
    );
    // Another note of the same size (another tree head: a fork, or another key) does not
    // replace it either.
    let mut other = Ledger::new(B::make(), signer.clone());
    other
        .append_records(&(100..106).map(record).collect::<Vec<_>>())
        .unwrap();
    let forked = other.checkpoint().unwrap().to_text();
    store.save_checkpoint(6, &forked).unwrap();
    assert_eq!(store.checkpoint_at(6).unwrap().as_deref(), Some(&*cosigned));
    assert_eq!(
        store.latest_cosigned_checkpoint(1).unwrap().as_deref(),
        Some(&*cosigned)
    );

    // The log over that store hands out the cosigned checkpoint, and receipts carry it.
    let witnesses = [witness.verifier().clone()];
    let mut ledger = Ledger::new(store, signer);
    let requiring = TrustPolicy {
        witnesses: witnesses.to_vec(),
        required_cosignatures: 1,
        ..public_policy(&ledger)
    };
    assert_eq!(ledger.checkpoint().unwrap().to_text(), cosigned);
    ledger.prove(2).unwrap().verify(&requiring, None).unwrap();
    ledger
        .prove_cosigned(5, 1)
        .unwrap()
        .verify(&requiring, None)
        .unwrap();
    assert_eq!(kept_cosigners(&ledger, &witnesses), ["witness.example/w1"]);
}

/// A witness cosigns the log's checkpoints while two appenders append, sign checkpoints
/// and prove entries, and a stale writer saves again every checkpoint the witness has
/// just cosigned (as a second server that signed the same tree would); at the end every
/// cosignature is still kept, and receipts against the latest cosigned checkpoint carry
/// it.
pub fn a_witness_cosigns_while_appends_and_proofs_run<B: Backend>() {
    use std::sync::mpsc;
    use tracemark_ledger::{Cosigner, WitnessState};
    const ROUNDS: u64 = 12;
    let open = B::shared();
    let signer = signer();
    let mut first = Ledger::new(open(), signer.clone());
    first
        .append_records(&(0..10).map(record).collect::<Vec<_>>())
        .unwrap();
    let witness = Cosigner::generate("witness.example/w1", &mut rand_core::OsRng).unwrap();
    let witnesses = [witness.verifier().clone()];

    let appenders: Vec<_> = (0..2u64)
        .map(|a| {
            let (open, signer) = (open.clone(), signer.clone());
            std::thread::spawn(move || {
                let mut ledger = Ledger::new(open(), signer);
                let policy = public_policy(&ledger);
                for round in 0..ROUNDS {
                    let n = 1000 * (a + 1) + 10 * round;
                    ledger
                        .append_records(&(n..n + 3).map(record).collect::<Vec<_>>())
                        .unwrap();
                    let receipt = ledger.prove(round).unwrap();
                    receipt.verify(&policy, None).unwrap();
                    let size = receipt.checkpoint.checkpoint_unverified().size;
                    ledger.consistency_proof(10, size).unwrap();
                }
            })
        })
        .collect();
    let (to_stale, stale_rx) = mpsc::channel::<(u64, String)>();
    let stale = {
        let open = open.clone();
        std::thread::spawn(move || {
            let mut store = open();
            let mut saved = 0;
            for (size, plain) in stale_rx {
                store.save_checkpoint(size, &plain).unwrap();
                saved += 1;
            }
            saved
        })
    };
    let mut ledger = Ledger::new(open(), signer.clone());
    let mut state = WitnessState::default();
    let mut cosigned_sizes = Vec::new();
    for round in 0..ROUNDS {
        let plain = witness_round(&mut ledger, &witness, &mut state, 1_800_000_000 + round);
        let size = plain.checkpoint_unverified().size;
        cosigned_sizes.push(size);
        to_stale.send((size, plain.to_text())).unwrap();
    }
    drop(to_stale);
    for a in appenders {
        a.join().unwrap();
    }
    assert_eq!(stale.join().unwrap(), ROUNDS);

    // Every checkpoint the witness cosigned still carries its cosignature.
    let policy = TrustPolicy {
        witnesses: witnesses.to_vec(),
        required_cosignatures: 1,
        ..public_policy(&ledger)
    };
    for &size in &cosigned_sizes {
        let kept = ledger.store().checkpoint_at(size).unwrap().unwrap();
        tracemark_ledger::SignedCheckpoint::parse(kept.as_bytes())
            .unwrap()
            .verify(&policy)
            .unwrap_or_else(|e| panic!("the checkpoint of {size} entries: {e}"));
    }
    // Receipts made as `log prove --cosigned` makes them carry it.
    let largest = *cosigned_sizes.iter().max().unwrap();
    for index in [0, 9, largest - 1] {
        let verified = ledger
            .prove_cosigned(index, 1)
            .unwrap()
            .verify(&policy, None)
            .unwrap();
        assert_eq!(verified.checkpoint.checkpoint.size, largest);
        assert_eq!(
            verified.checkpoint.cosignatures[0].name,
            "witness.example/w1"
        );
    }
    assert_eq!(ledger.size().unwrap(), 10 + 2 * 3 * ROUNDS);
    ledger.verify().unwrap();
}

/// Expands to one `#[test]` per suite function for backend `$b`, each skipped (with a
/// message) when the backend is unavailable and not required.
macro_rules! store_suite {
    ($b:ty) => {
        #[test]
        fn appends_return_indexes_and_leaf_hashes_and_the_root_matches_memory() {
            if <$b as common::suite::Backend>::available() {
                common::suite::appends_return_indexes_and_leaf_hashes_and_the_root_matches_memory::<$b>();
            }
        }
        #[test]
        fn lookups_by_content_hash_payload_generation_id_and_similarity() {
            if <$b as common::suite::Backend>::available() {
                common::suite::lookups_by_content_hash_payload_generation_id_and_similarity::<$b>();
            }
        }
        #[test]
        fn receipts_verify_offline_with_only_the_public_key() {
            if <$b as common::suite::Backend>::available() {
                common::suite::receipts_verify_offline_with_only_the_public_key::<$b>();
            }
        }
        #[test]
        fn a_receipt_with_any_flipped_bit_or_truncation_is_rejected_without_panic() {
            if <$b as common::suite::Backend>::available() {
                common::suite::a_receipt_with_any_flipped_bit_or_truncation_is_rejected_without_panic::<$b>();
            }
        }
        #[test]
        fn forged_checkpoints_and_proofs_for_another_tree_are_rejected() {
            if <$b as common::suite::Backend>::available() {
                common::suite::forged_checkpoints_and_proofs_for_another_tree_are_rejected::<$b>();
            }
        }
        #[test]
        fn checkpoints_are_consistent_and_proofs_link_them() {
            if <$b as common::suite::Backend>::available() {
                common::suite::checkpoints_are_consistent_and_proofs_link_them::<$b>();
            }
        }
        #[test]
        fn tiles_serve_the_tree_and_entries_as_the_spec_lays_them_out() {
            if <$b as common::suite::Backend>::available() {
                common::suite::tiles_serve_the_tree_and_entries_as_the_spec_lays_them_out::<$b>();
            }
        }
        #[test]
        fn lookups_stay_exact_across_runs_and_merges() {
            if <$b as common::suite::Backend>::available() {
                common::suite::lookups_stay_exact_across_runs_and_merges::<$b>();
            }
        }
        #[test]
        fn witness_cosignatures_are_kept_and_receipts_carry_them() {
            if <$b as common::suite::Backend>::available() {
                common::suite::witness_cosignatures_are_kept_and_receipts_carry_them::<$b>();
            }
        }
        #[test]
        fn a_checkpoint_saved_again_keeps_its_cosignatures() {
            if <$b as common::suite::Backend>::available() {
                common::suite::a_checkpoint_saved_again_keeps_its_cosignatures::<$b>();
            }
        }
        #[test]
        fn a_witness_cosigns_while_appends_and_proofs_run() {
            if <$b as common::suite::Backend>::available() {
                common::suite::a_witness_cosigns_while_appends_and_proofs_run::<$b>();
            }
        }
        #[test]
        fn oversized_and_malformed_records_are_refused_before_storage() {
            if <$b as common::suite::Backend>::available() {
                common::suite::oversized_and_malformed_records_are_refused_before_storage::<$b>();
            }
        }
    };
}
