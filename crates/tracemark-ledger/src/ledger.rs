//! The log itself: the writer ([`Ledger`], with the log's secret key) appends records
//! and signs checkpoints; the read side ([`LogReader`], with only the verifier key)
//! hands out receipts and consistency proofs, answers look-ups, serves tiles, and
//! checks the storage. A writer reads through its own `LogReader`.

use std::{ops::Deref, path::Path};

use tracemark_core::{Diagnose, Fault};

use crate::{
    checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint, TrustPolicy},
    cosignature::CosignatureVerifier,
    merkle::{self, Hash, HashReader, MemoryTree, ProofError, leaf_hash},
    note::{NoteError, NoteSigner, NoteVerifier},
    postgres_store::PostgresStore,
    receipt::Receipt,
    record::{GenerationRecord, RecordError, TextSketch},
    registry::{LogRecord, LogRecordError},
    sqlite::SqliteStore,
    store::{EntryKeys, LogStore, Lookup, NewEntry, StoreError},
    tiles::{Tile, TileError},
    witness::WitnessError,
};

/// A log operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Proof(#[from] ProofError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error(transparent)]
    Tile(#[from] TileError),
    #[error("the witness refuses to cosign: {0}")]
    Witness(#[from] WitnessError),
    #[error("entry {index} is not in the log (size {size})")]
    NoSuchEntry { index: u64, size: u64 },
    #[error("the log does not verify: {0}")]
    Inconsistent(String),
    #[error("the log has no checkpoint of {size} entries to add cosignatures to")]
    NoSuchCheckpoint { size: u64 },
    #[error("the cosigned note is not the log's checkpoint of {size} entries")]
    NotOurCheckpoint { size: u64 },
    #[error("the note carries no valid cosignature of the witnesses given")]
    NoCosignature,
    #[error("no checkpoint with {required} witness cosignatures includes entry {index}")]
    NotCosigned { index: u64, required: usize },
    /// The entry exists, but the latest signed checkpoint (of `checkpoint_size` entries,
    /// 0 if none) was signed before it was appended.
    #[error(
        "entry {index} is not in the latest signed checkpoint yet (it covers {checkpoint_size} entries)"
    )]
    NotYetCheckpointed { index: u64, checkpoint_size: u64 },
    #[error(transparent)]
    LogRecord(#[from] LogRecordError),
}

impl Diagnose for LedgerError {
    fn fault(&self) -> Fault {
        match self {
            LedgerError::Store(e) => e.fault(),
            LedgerError::Record(e) => e.fault(),
            LedgerError::Proof(e) => e.fault(),
            LedgerError::Checkpoint(e) => e.fault(),
            LedgerError::Note(e) => e.fault(),
            LedgerError::Tile(e) => e.fault(),
            LedgerError::Witness(e) => e.fault(),
            LedgerError::LogRecord(e) => e.fault(),
            LedgerError::NoSuchEntry { .. }
            | LedgerError::NotYetCheckpointed { .. }
            | LedgerError::Inconsistent(_)
            | LedgerError::NoSuchCheckpoint { .. }
            | LedgerError::NotOurCheckpoint { .. }
            | LedgerError::NoCosignature
            | LedgerError::NotCosigned { .. } => Fault::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            LedgerError::Store(e) => e.hint(),
            LedgerError::Checkpoint(e) => e.hint(),
            LedgerError::Witness(e) => e.hint(),
            LedgerError::Inconsistent(_) => {
                Some("the database was altered outside Tracemark; restore it from a backup".into())
            }
            LedgerError::NotCosigned { .. } => Some(
                "have a witness cosign the latest checkpoint (`tracemark log cosign`), then prove again"
                    .into(),
            ),
            LedgerError::NotYetCheckpointed { .. } => Some(
                "the log's writer signs a checkpoint after each batch of appends or on a timer; ask again shortly"
                    .into(),
            ),
            LedgerError::NoCosignature => {
                Some("give the witness's verifier key (its cosignature vkey, type 0x04)".into())
            }
            _ => None,
        }
    }
}

/// Where an appended entry went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub index: u64,
    pub leaf_hash: Hash,
}

/// A record found by similarity, with its estimated Jaccard overlap.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarEntry {
    pub index: u64,
    pub similarity: f64,
}

/// What [`LogReader::verify`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub size: u64,
    pub root: Hash,
    /// The size of the latest signed checkpoint that was checked against the tree.
    pub checkpoint_size: Option<u64>,
}

/// The read side of a log: its size, entries and records, look-ups, proofs against the
/// checkpoints kept in the store, tiles, and the audit of its storage. It needs the
/// log's verifier key (`key.pub`), never its secret key, and never writes: over a store
/// opened read-only ([`SqliteStore::open_read_only`],
/// [`PostgresStore::connect_read_only`]) it is what anonymous queries use, while the
/// writer ([`Ledger`]) appends and signs checkpoints. [`Ledger`] reads through one of
/// these (it dereferences to it), so both answer with the same code.
#[derive(Debug)]
pub struct LogReader<S: LogStore> {
    store: S,
    verifier: NoteVerifier,
}

/// A transparency log over a storage backend, signing with the log key: the writer.
/// Every read operation is its [`LogReader`]'s, reached through `Deref`
/// (`ledger.lookup(..)`, `ledger.prove_latest(..)`).
#[derive(Debug)]
pub struct Ledger<S: LogStore> {
    reader: LogReader<S>,
    signer: NoteSigner,
}

impl<S: LogStore> Deref for Ledger<S> {
    type Target = LogReader<S>;

    fn deref(&self) -> &LogReader<S> {
        &self.reader
    }
}

/// Reads stored hashes through a store, for the proof functions.
struct Reader<'a, S>(&'a S);

impl<S: LogStore> HashReader for Reader<'_, S> {
    type Error = StoreError;

    fn stored_hash(&self, level: u8, index: u64) -> Result<Hash, StoreError> {
        self.0.stored_hash(level, index)
    }
}

impl Ledger<SqliteStore> {
    /// Opens (or creates) an SQLite log.
    pub fn open_sqlite(path: &Path, signer: NoteSigner) -> Result<Self, LedgerError> {
        Ok(Self::new(SqliteStore::open(path)?, signer))
    }
}

impl Ledger<PostgresStore> {
    /// Connects to a PostgreSQL log.
    pub fn open_postgres(url: &str, signer: NoteSigner) -> Result<Self, LedgerError> {
        Ok(Self::new(PostgresStore::connect(url)?, signer))
    }
}

impl LogReader<SqliteStore> {
    /// Opens an SQLite log for reading only ([`SqliteStore::open_read_only`]).
    pub fn open_sqlite(path: &Path, verifier: NoteVerifier) -> Result<Self, LedgerError> {
        Ok(Self::new(SqliteStore::open_read_only(path)?, verifier))
    }
}

impl LogReader<PostgresStore> {
    /// Connects to a PostgreSQL log for reading only
    /// ([`PostgresStore::connect_read_only_in_schema`]).
    pub fn open_postgres(
        url: &str,
        schema: Option<&str>,
        verifier: NoteVerifier,
    ) -> Result<Self, LedgerError> {
        Ok(Self::new(
            PostgresStore::connect_read_only_in_schema(url, schema)?,
            verifier,
        ))
    }
}

impl<S: LogStore> Ledger<S> {
    /// A log whose origin is the signer's key name.
    pub fn new(store: S, signer: NoteSigner) -> Self {
        Self {
            reader: LogReader::new(store, signer.verifier().clone()),
            signer,
        }
    }

    /// The read side (also reached through `Deref`).
    pub fn reader(&self) -> &LogReader<S> {
        &self.reader
    }

    /// Appends records in one durable transaction; returns their indexes and leaf hashes.
    pub fn append_records(
        &mut self,
        records: &[GenerationRecord],
    ) -> Result<Vec<Appended>, LedgerError> {
        let entries = records
            .iter()
            .map(record_entry)
            .collect::<Result<Vec<_>, _>>()?;
        self.append_entries(&entries)
    }

    /// Appends raw entries (with their look-up keys) in one durable transaction.
    pub fn append_entries(&mut self, entries: &[NewEntry]) -> Result<Vec<Appended>, LedgerError> {
        let first = self.reader.store.append(entries)?;
        Ok(entries
            .iter()
            .enumerate()
            .map(|(i, e)| Appended {
                index: first + i as u64,
                leaf_hash: leaf_hash(&e.data),
            })
            .collect())
    }

    /// Signs a checkpoint of the whole log and keeps it, if the log grew since the latest
    /// kept checkpoint; otherwise returns that one as it is kept (with its cosignatures),
    /// signing and writing nothing. So a writer calls it after each batch, or on a timer,
    /// and readers prove against what it kept ([`LogReader::prove_latest`]).
    ///
    /// Refuses to sign a tree that is not an extension of the latest kept checkpoint: a
    /// log must never sign two inconsistent checkpoints.
    pub fn checkpoint(&mut self) -> Result<SignedCheckpoint, LedgerError> {
        // The kept checkpoint is read before the size: another writer may append and sign
        // in between, and the size read after it is then larger, never smaller (read in
        // the other order, the kept checkpoint could be larger than the size just read).
        let latest = self.latest_checkpoint()?;
        let size = self.size()?;
        let root = self.root(size)?;
        if let Some(kept) = latest {
            let last = kept.verify(&self.policy())?.checkpoint;
            if last.size > size || self.root(last.size)? != last.root {
                return Err(LedgerError::Inconsistent(format!(
                    "the tree no longer contains the signed checkpoint of size {}",
                    last.size
                )));
            }
            if last.size == size {
                return Ok(kept);
            }
        }
        let signed = Checkpoint {
            origin: self.origin().to_owned(),
            size,
            root,
            extensions: Vec::new(),
        }
        .sign(&self.signer)?;
        let store = &mut self.reader.store;
        store.save_checkpoint(size, &signed.to_text())?;
        // Another writer may have kept a checkpoint of this size first, and a witness may
        // have cosigned it since: the kept note is the log's checkpoint of this size (the
        // store never replaces it, so cosignatures are never dropped).
        let text = store.checkpoint_at(size)?.ok_or_else(|| {
            StoreError::Corrupt(format!("the checkpoint of {size} entries was not kept"))
        })?;
        let kept = SignedCheckpoint::parse(text.as_bytes())
            .map_err(|e| StoreError::Corrupt(format!("the kept checkpoint: {e}")))?;
        if kept.note().text() != signed.note().text() {
            return Err(LedgerError::Inconsistent(format!(
                "another checkpoint of {size} entries is kept, with another tree head under this log's key"
            )));
        }
        Ok(kept)
    }

    /// A receipt (C2SP tlog-proof) for entry `index` against a checkpoint of the whole
    /// log, signed now if the log grew ([`Ledger::checkpoint`]), carrying the entry bytes
    /// as its `extra` data. A writer's call: it may sign and store a checkpoint. A
    /// reader proves against the latest kept one instead ([`LogReader::prove_latest`]).
    pub fn prove(&mut self, index: u64) -> Result<Receipt, LedgerError> {
        let checkpoint = self.checkpoint()?;
        self.reader.prove_against(index, checkpoint)
    }

    /// Adds the cosignatures that `cosigned` (the log's checkpoint with witness lines)
    /// carries from `witnesses` to the kept checkpoint of that size, so that receipts
    /// against it carry them. Every line is verified first: a bad cosignature from a
    /// known witness would make the note unverifiable for everyone. Returns the number
    /// of witness cosignatures the kept checkpoint now has.
    pub fn add_cosignatures(
        &mut self,
        cosigned: &SignedCheckpoint,
        witnesses: &[CosignatureVerifier],
    ) -> Result<usize, LedgerError> {
        let size = cosigned.checkpoint_unverified().size;
        let log = self.signer.verifier();
        let policy = TrustPolicy {
            log: log.clone(),
            witnesses: witnesses.to_vec(),
            required_cosignatures: 0,
        };
        let verified = cosigned.verify(&policy)?;
        if verified.cosignatures.is_empty() {
            return Err(LedgerError::NoCosignature);
        }
        let store = &mut self.reader.store;
        // A few attempts, in case another witness's cosignature is being added at once.
        for _ in 0..8 {
            let Some(text) = store.checkpoint_at(size)? else {
                return Err(LedgerError::NoSuchCheckpoint { size });
            };
            let mut kept = SignedCheckpoint::parse(text.as_bytes())
                .map_err(|e| StoreError::Corrupt(format!("the kept checkpoint: {e}")))?;
            if kept.note().text() != cosigned.note().text() {
                return Err(LedgerError::NotOurCheckpoint { size });
            }
            for sig in cosigned.note().signatures() {
                let from_witness = verified
                    .cosignatures
                    .iter()
                    .any(|v| v.name == sig.name && v.key_id == sig.key_id);
                // One cosignature per witness key: a witness that cosigns the same
                // checkpoint again (at a later time) is counted once, and the note does
                // not grow toward its limit of 100 signatures.
                let kept_already = kept
                    .note()
                    .signatures()
                    .iter()
                    .any(|s| s.name == sig.name && s.key_id == sig.key_id);
                if from_witness && !kept_already {
                    kept.add_cosignature(&sig.to_line())?;
                }
            }
            let mut cosigners: Vec<(&str, u32)> = kept
                .note()
                .signatures()
                .iter()
                .filter(|s| s.name != log.name() || s.key_id != log.key_id())
                .map(|s| (s.name.as_str(), s.key_id))
                .collect();
            cosigners.sort_unstable();
            cosigners.dedup();
            let count = cosigners.len();
            let new = kept.to_text();
            if new == text || store.replace_checkpoint(size, &text, &new, count)? {
                return Ok(count);
            }
        }
        Err(StoreError::Backend("the kept checkpoint kept changing; try again".into()).into())
    }
}

impl<S: LogStore> LogReader<S> {
    /// A reader of the log whose checkpoints `verifier` (the log key's public half)
    /// signs; its origin is the key's name.
    pub fn new(store: S, verifier: NoteVerifier) -> Self {
        Self { store, verifier }
    }

    pub fn origin(&self) -> &str {
        self.verifier.name()
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The log's verifier key.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// The trust policy of this log alone (its own key).
    pub fn policy(&self) -> TrustPolicy {
        TrustPolicy::log_only(self.verifier.clone())
    }

    pub fn size(&self) -> Result<u64, LedgerError> {
        Ok(self.store.size()?)
    }

    /// That the log holds at least `size` entries.
    fn check_size(&self, size: u64) -> Result<(), LedgerError> {
        let current = self.size()?;
        if size > current {
            return Err(ProofError::TreeTooLarge {
                requested: size,
                size: current,
            }
            .into());
        }
        Ok(())
    }

    /// The root hash of the first `size` entries.
    pub fn root(&self, size: u64) -> Result<Hash, LedgerError> {
        self.check_size(size)?;
        Ok(merkle::root_hash(&Reader(&self.store), size)?)
    }

    /// The latest kept checkpoint, unverified.
    pub fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, LedgerError> {
        match self.store.latest_checkpoint()? {
            None => Ok(None),
            Some(text) => Ok(Some(
                SignedCheckpoint::parse(text.as_bytes())
                    .map_err(|e| StoreError::Corrupt(format!("the kept checkpoint: {e}")))?,
            )),
        }
    }

    /// The bytes of entry `index`.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LedgerError> {
        let size = self.size()?;
        self.store
            .entries(index, index.saturating_add(1))?
            .pop()
            .ok_or(LedgerError::NoSuchEntry { index, size })
    }

    /// The generation record at `index` (an error if the entry is another kind of
    /// record: [`LogReader::log_record`] reads any known kind).
    pub fn record(&self, index: u64) -> Result<GenerationRecord, LedgerError> {
        Ok(GenerationRecord::from_json(&self.entry(index)?)?)
    }

    /// The record at `index`, of whichever kind the registry knows
    /// ([`crate::registry`]).
    pub fn log_record(&self, index: u64) -> Result<LogRecord, LedgerError> {
        Ok(LogRecord::parse(&self.entry(index)?)?)
    }

    /// A receipt for entry `index` against the latest kept checkpoint, which the
    /// writer signed ([`Ledger::checkpoint`]); signs nothing and writes nothing, so it
    /// is what a reader hands out. [`LedgerError::NotYetCheckpointed`] if that
    /// checkpoint does not include the entry yet (it was appended since), and
    /// [`LedgerError::NoSuchEntry`] if the log has no such entry at all.
    pub fn prove_latest(&self, index: u64) -> Result<Receipt, LedgerError> {
        let checkpoint = self.latest_checkpoint()?;
        let checkpoint_size = match &checkpoint {
            Some(c) => c.verify(&self.policy())?.checkpoint.size,
            None => 0,
        };
        match checkpoint {
            Some(checkpoint) if index < checkpoint_size => self.prove_against(index, checkpoint),
            _ => {
                let size = self.size()?;
                if index >= size {
                    return Err(LedgerError::NoSuchEntry { index, size });
                }
                Err(LedgerError::NotYetCheckpointed {
                    index,
                    checkpoint_size,
                })
            }
        }
    }

    /// A receipt for entry `index` against the largest kept checkpoint that carries at
    /// least `min_cosignatures` witness cosignatures (which a verifier requiring those
    /// witnesses accepts); an error if that checkpoint does not include the entry yet.
    pub fn prove_cosigned(
        &self,
        index: u64,
        min_cosignatures: usize,
    ) -> Result<Receipt, LedgerError> {
        let required = min_cosignatures.max(1);
        let not_cosigned = LedgerError::NotCosigned { index, required };
        let Some(text) = self.store.latest_cosigned_checkpoint(required)? else {
            return Err(not_cosigned);
        };
        let checkpoint = SignedCheckpoint::parse(text.as_bytes())
            .map_err(|e| StoreError::Corrupt(format!("a kept checkpoint: {e}")))?;
        let size = checkpoint.verify(&self.policy())?.checkpoint.size;
        if index >= size {
            return Err(not_cosigned);
        }
        self.prove_against(index, checkpoint)
    }

    fn prove_against(
        &self,
        index: u64,
        checkpoint: SignedCheckpoint,
    ) -> Result<Receipt, LedgerError> {
        let size = checkpoint.checkpoint_unverified().size;
        if index >= size {
            return Err(LedgerError::NoSuchEntry { index, size });
        }
        let proof = merkle::inclusion_proof(&Reader(&self.store), index, size)?;
        Ok(Receipt {
            extra: Some(self.entry(index)?),
            index,
            proof,
            checkpoint,
        })
    }

    /// The inclusion proof of entry `index` in the tree of the first `size` entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        self.check_size(size)?;
        Ok(merkle::inclusion_proof(&Reader(&self.store), index, size)?)
    }

    /// The consistency proof between tree sizes `old` and `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, LedgerError> {
        let size = self.size()?;
        if new > size {
            return Err(ProofError::TreeTooLarge {
                requested: new,
                size,
            }
            .into());
        }
        Ok(merkle::consistency_proof(&Reader(&self.store), old, new)?)
    }

    /// The indexes of records matching an exact look-up.
    pub fn lookup(&self, query: &Lookup) -> Result<Vec<u64>, LedgerError> {
        Ok(self.store.lookup(query)?)
    }

    /// Records whose text sketches overlap `sketch` by at least `min_similarity`
    /// (estimated Jaccard), best first.
    pub fn similar(
        &self,
        sketch: &TextSketch,
        min_similarity: f64,
        limit: usize,
    ) -> Result<Vec<SimilarEntry>, LedgerError> {
        let mut found: Vec<SimilarEntry> = self
            .store
            .similar_candidates(sketch)?
            .into_iter()
            .map(|(index, s)| SimilarEntry {
                index,
                similarity: sketch.similarity(&s),
            })
            .filter(|e| e.similarity >= min_similarity)
            .collect();
        found.sort_by(|a, b| {
            b.similarity
                .total_cmp(&a.similarity)
                .then(a.index.cmp(&b.index))
        });
        found.truncate(limit);
        Ok(found)
    }

    /// Records whose text resembles `text` by at least `min_similarity` (estimated
    /// Jaccard), best first: the text is sketched in every scheme this build reads, so
    /// records sketched under an older scheme are found too.
    pub fn similar_to_text(
        &self,
        text: &str,
        min_similarity: f64,
        limit: usize,
    ) -> Result<Vec<SimilarEntry>, LedgerError> {
        Ok(self
            .store
            .similar_to_text(text, min_similarity, limit)?
            .into_iter()
            .map(|(index, similarity)| SimilarEntry { index, similarity })
            .collect())
    }

    /// A tlog-tiles resource (`tile/...`), for the tree of the latest checkpoint.
    pub fn tile(&self, path: &str) -> Result<Vec<u8>, LedgerError> {
        let tile = Tile::parse(path)?;
        let size = match self.latest_checkpoint()? {
            Some(c) => c.checkpoint_unverified().size,
            None => 0,
        };
        Ok(tile.read(&self.store, size)?)
    }

    /// Rebuilds the tree from the entries and checks every stored hash, and the latest
    /// checkpoint's signature and root. Reads the whole log: for audits and restarts
    /// after a crash, not for every request.
    pub fn verify(&self) -> Result<VerifyReport, LedgerError> {
        let size = self.size()?;
        let mut tree = MemoryTree::new();
        const CHUNK: u64 = 4096;
        let mut at = 0;
        while at < size {
            let end = (at + CHUNK).min(size);
            let entries = self.store.entries(at, end)?;
            if entries.len() as u64 != end - at {
                return Err(LedgerError::Inconsistent(format!(
                    "entries {at}..{end} are incomplete"
                )));
            }
            for e in entries {
                tree.push(leaf_hash(&e));
            }
            at = end;
        }
        self.check_stored_hashes(&tree, size)?;
        let root = tree.root();
        let checkpoint_size = self.check_latest_checkpoint(&tree, size)?;
        Ok(VerifyReport {
            size,
            root,
            checkpoint_size,
        })
    }

    fn check_stored_hashes(&self, tree: &MemoryTree, size: u64) -> Result<(), LedgerError> {
        for level in 0..64u8 {
            let count = size >> level;
            if count == 0 {
                break;
            }
            for i in 0..count {
                let stored = self.store.stored_hash(level, i)?;
                if stored != tree.stored_hash(level, i)? {
                    return Err(LedgerError::Inconsistent(format!(
                        "the stored hash at level {level}, index {i} does not match the entries"
                    )));
                }
            }
        }
        Ok(())
    }

    fn check_latest_checkpoint(
        &self,
        tree: &MemoryTree,
        size: u64,
    ) -> Result<Option<u64>, LedgerError> {
        let Some(signed) = self.latest_checkpoint()? else {
            return Ok(None);
        };
        let c = signed.verify(&self.policy())?.checkpoint;
        if c.size > size {
            return Err(LedgerError::Inconsistent(format!(
                "the signed checkpoint has {} entries, the log only {size}",
                c.size
            )));
        }
        if merkle::root_hash(tree, c.size)? != c.root {
            return Err(LedgerError::Inconsistent(format!(
                "the entries do not give the root hash of the signed checkpoint of size {}",
                c.size
            )));
        }
        Ok(Some(c.size))
    }
}

/// The entry and look-up keys of a record.
pub fn record_entry(record: &GenerationRecord) -> Result<NewEntry, RecordError> {
    Ok(NewEntry {
        data: record.canonical_bytes()?,
        keys: EntryKeys {
            content_hash: Some(record.content_hash),
            key_id: Some(record.key_id.clone()),
            payload: Some(record.payload),
            generation_id: Some(record.generation_id.clone()),
            // A media record's sketch is empty: it is found by payload and hash only.
            sketch: (!record.is_media()).then(|| record.sketch.clone()),
        },
    })
}
