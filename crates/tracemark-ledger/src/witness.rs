//! Witnessing: what a witness checks before it cosigns a log's checkpoint.
//!
//! A witness keeps, for every log it watches, the latest checkpoint it cosigned
//! ([`WitnessState`], a JSON file `tracemark.witness-state/v1`). It cosigns a new
//! checkpoint only if the log's key signed it and it extends that one: a larger tree with
//! a valid RFC 6962 consistency proof from the cosigned size, or the same tree again. A
//! smaller tree (a rollback) or another tree of the same size (a fork) is refused, and so
//! is a larger tree whose proof does not link it to the cosigned one. The state is the
//! witness's memory: write it back (durably) before handing out the cosignature.
//!
//! The request a log sends a witness is the C2SP `tlog-witness` add-checkpoint body
//! ([`AddCheckpoint`]): `old <size>`, the consistency proof's hashes one per line, an
//! empty line, and the signed checkpoint.
//!
//! A witness that keeps its state in a file reads, checks and writes it under an
//! exclusive lock ([`WitnessStateFile`]): two runs at once would otherwise both read the
//! same state, and the one that writes last would erase what the other cosigned, so that
//! a rollback to a size between the two would be cosigned next.

use std::{
    collections::BTreeMap,
    fs::{File, OpenOptions},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use tracemark_core::{
    Diagnose, Fault,
    keyfile::{self, Replace, Secrecy},
};

use crate::{
    checkpoint::{CheckpointError, SignedCheckpoint, TrustPolicy, parse_decimal},
    cosignature::Cosigner,
    merkle::{Hash, verify_consistency},
    note::NoteVerifier,
};

/// The `format` of a witness state file.
pub const WITNESS_STATE_V1: &str = "tracemark.witness-state/v1";

/// A consistency proof has at most 2·63 hashes.
const MAX_CONSISTENCY_HASHES: usize = 126;

/// Why a witness did not cosign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    #[error("the checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error(
        "the witness cosigned {origin} at {cosigned} entries; this checkpoint has {offered}: the log rolled back"
    )]
    Rollback {
        origin: String,
        cosigned: u64,
        offered: u64,
    },
    #[error(
        "the witness cosigned another tree of {size} entries for {origin}: the log forked (two histories under one key)"
    )]
    Fork { origin: String, size: u64 },
    #[error(
        "the checkpoint of {new} entries is not consistent with the tree of {old} entries the witness cosigned for {origin}: {reason}"
    )]
    Inconsistent {
        origin: String,
        old: u64,
        new: u64,
        reason: String,
    },
    #[error(
        "a consistency proof from {old} entries (the tree the witness cosigned for {origin}) is needed to cosign {new}"
    )]
    NeedProof { origin: String, old: u64, new: u64 },
    #[error("the proof starts at {given} entries, but the witness cosigned {origin} at {cosigned}")]
    WrongOldSize {
        origin: String,
        given: u64,
        cosigned: u64,
    },
    #[error(
        "the witness knows {origin} by another log key; a log that changes its key is another log"
    )]
    LogKeyChanged { origin: String },
    #[error("malformed witness request: {0}")]
    Malformed(&'static str),
    #[error("malformed witness state: {0}")]
    State(String),
    #[error("the witness state file {path}: {reason}")]
    StateFile { path: PathBuf, reason: String },
}

impl Diagnose for WitnessError {
    fn fault(&self) -> Fault {
        match self {
            WitnessError::Checkpoint(e) => e.fault(),
            _ => Fault::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            WitnessError::Rollback { .. } | WitnessError::Fork { .. } | WitnessError::Inconsistent { .. } => Some(
                "do not cosign: keep this checkpoint and the cosigned one as evidence that the log misbehaved"
                    .into(),
            ),
            WitnessError::NeedProof { .. } | WitnessError::WrongOldSize { .. } => Some(
                "give the log directory, or an add-checkpoint request (`old N`, the proof, a blank line, the checkpoint)"
                    .into(),
            ),
            WitnessError::LogKeyChanged { .. } => {
                Some("check the --log-key you gave; the witness state keeps the key it first saw".into())
            }
            WitnessError::State(_) => Some("restore the witness state file from a backup".into()),
            WitnessError::StateFile { .. } => Some(
                "the witness needs to read and write its state file and the `.lock` file beside it"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// What a witness remembers of one log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessedLog {
    /// The log's verifier key (`key.pub`).
    pub vkey: String,
    /// The size and root hash (base64) of the latest checkpoint cosigned.
    pub size: u64,
    pub root: String,
    /// That checkpoint's signed note, as received.
    pub checkpoint: String,
}

/// A witness's memory: the latest cosigned checkpoint of every log, by origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessState {
    pub format: String,
    pub logs: BTreeMap<String, WitnessedLog>,
}

impl Default for WitnessState {
    fn default() -> Self {
        Self {
            format: WITNESS_STATE_V1.into(),
            logs: BTreeMap::new(),
        }
    }
}

/// A cosignature given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    /// The checkpoint with the witness's cosignature line added.
    pub checkpoint: SignedCheckpoint,
    /// The cosignature line alone (ends in a newline).
    pub line: String,
    /// The size the witness had cosigned before (0 for a log seen the first time).
    pub previous_size: u64,
}

impl WitnessState {
    /// Reads a state file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, WitnessError> {
        let state: Self =
            serde_json::from_slice(bytes).map_err(|e| WitnessError::State(e.to_string()))?;
        if state.format != WITNESS_STATE_V1 {
            return Err(WitnessError::State(format!(
                "format `{}` is not {WITNESS_STATE_V1}",
                state.format
            )));
        }
        for (origin, log) in &state.logs {
            if Hash::from_base64(&log.root).is_none() {
                return Err(WitnessError::State(format!(
                    "the root hash kept for {origin} is not base64 SHA-256"
                )));
            }
        }
        Ok(state)
    }

    /// The state file's text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the state serialises") + "\n"
    }

    /// The size the witness last cosigned for `origin` (0 if never).
    pub fn cosigned_size(&self, origin: &str) -> u64 {
        self.logs.get(origin).map_or(0, |l| l.size)
    }

    /// Checks `checkpoint` against the log key `log` and this state and, if it is
    /// consistent, cosigns it at `timestamp` (POSIX seconds) and remembers it.
    /// `proof` is `(old size, consistency proof hashes)` from the size last cosigned.
    pub fn cosign(
        &mut self,
        cosigner: &Cosigner,
        log: &NoteVerifier,
        checkpoint: &SignedCheckpoint,
        proof: Option<(u64, &[Hash])>,
        timestamp: u64,
    ) -> Result<Cosigned, WitnessError> {
        let head = checkpoint
            .verify(&TrustPolicy::log_only(log.clone()))?
            .checkpoint;
        let origin = head.origin.clone();
        let vkey = log.to_string();
        let previous_size = match self.logs.get(&origin) {
            None => {
                // First sight of the log: a proof, if any, must start from the empty tree.
                if let Some((old, _)) = proof.filter(|(old, _)| *old != 0) {
                    return Err(WitnessError::WrongOldSize {
                        origin,
                        given: old,
                        cosigned: 0,
                    });
                }
                0
            }
            Some(known) => {
                if known.vkey.trim() != vkey {
                    return Err(WitnessError::LogKeyChanged { origin });
                }
                let root = Hash::from_base64(&known.root).ok_or_else(|| {
                    WitnessError::State(format!("the root hash kept for {origin}"))
                })?;
                if head.size < known.size {
                    return Err(WitnessError::Rollback {
                        origin,
                        cosigned: known.size,
                        offered: head.size,
                    });
                }
                if head.size == known.size {
                    if head.root != root {
                        return Err(WitnessError::Fork {
                            origin,
                            size: head.size,
                        });
                    }
                } else if known.size > 0 {
                    let Some((old, hashes)) = proof else {
                        return Err(WitnessError::NeedProof {
                            origin,
                            old: known.size,
                            new: head.size,
                        });
                    };
                    if old != known.size {
                        return Err(WitnessError::WrongOldSize {
                            origin,
                            given: old,
                            cosigned: known.size,
                        });
                    }
                    verify_consistency(old, head.size, hashes, &root, &head.root).map_err(|e| {
                        WitnessError::Inconsistent {
                            origin: origin.clone(),
                            old,
                            new: head.size,
                            reason: e.to_string(),
                        }
                    })?;
                }
                known.size
            }
        };
        let line = cosigner.cosign_line(&head.to_body(), timestamp);
        let mut cosigned = checkpoint.clone();
        cosigned.add_cosignature(&line)?;
        self.logs.insert(
            origin,
            WitnessedLog {
                vkey,
                size: head.size,
                root: head.root.to_base64(),
                checkpoint: checkpoint.to_text(),
            },
        );
        Ok(Cosigned {
            checkpoint: cosigned,
            line,
            previous_size,
        })
    }
}

/// A witness's state file, locked: [`WitnessStateFile::lock`] waits for an exclusive
/// advisory lock on `<state>.lock` beside it and reads the state; the caller checks and
/// cosigns, [`save`](WitnessStateFile::save)s, and the lock is released when this is
/// dropped. Every reader and writer of the state takes the lock, so one read-check-write
/// never interleaves with another's (between threads too: each `lock` opens the lock
/// file anew).
///
/// The lock is on a separate file because the state file itself is replaced on every
/// save (a new file renamed over it, so that a crash leaves the old state or the new one,
/// never a torn one): a lock on the old state file would not exclude a process that
/// opened the new one.
#[derive(Debug)]
pub struct WitnessStateFile {
    path: PathBuf,
    state: WitnessState,
    /// Holds the lock until dropped.
    _lock: File,
}

impl WitnessStateFile {
    /// Waits for the exclusive lock on the witness state at `path`, then reads it (an
    /// empty state when the file does not exist yet).
    pub fn lock(path: &Path) -> Result<Self, WitnessError> {
        let file_error = |reason: String| WitnessError::StateFile {
            path: path.to_owned(),
            reason,
        };
        let lock_path = Self::lock_path(path)
            .ok_or_else(|| file_error("the path does not name a file".into()))?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| {
                file_error(format!(
                    "cannot open the lock file {}: {e}",
                    lock_path.display()
                ))
            })?;
        lock.lock()
            .map_err(|e| file_error(format!("cannot lock {}: {e}", lock_path.display())))?;
        let state = match std::fs::exists(path) {
            Ok(false) => WitnessState::default(),
            Ok(true) => WitnessState::parse(
                &keyfile::read_file(path, Secrecy::Public)
                    .map_err(|e| file_error(e.to_string()))?,
            )?,
            Err(e) => return Err(file_error(e.to_string())),
        };
        Ok(Self {
            path: path.to_owned(),
            state,
            _lock: lock,
        })
    }

    /// The lock file of the state at `path`: `<path>.lock`.
    pub fn lock_path(path: &Path) -> Option<PathBuf> {
        let mut name = path.file_name()?.to_owned();
        name.push(".lock");
        Some(path.with_file_name(name))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn state(&self) -> &WitnessState {
        &self.state
    }

    pub fn state_mut(&mut self) -> &mut WitnessState {
        &mut self.state
    }

    /// Writes the state durably, still under the lock: a temporary file beside it,
    /// fsynced, renamed over it, and the directory fsynced.
    pub fn save(&self) -> Result<(), WitnessError> {
        keyfile::write_file(
            &self.path,
            self.state.to_json().as_bytes(),
            Secrecy::Public,
            Replace::Yes,
        )
        .map_err(|e| WitnessError::StateFile {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
}

/// A C2SP `tlog-witness` add-checkpoint request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the tree the witness is believed to have cosigned.
    pub old: u64,
    /// The consistency proof from `old` to the checkpoint's size.
    pub proof: Vec<Hash>,
    pub checkpoint: SignedCheckpoint,
}

impl AddCheckpoint {
    /// Whether `input` looks like a request rather than a bare checkpoint.
    pub fn is_request(input: &[u8]) -> bool {
        input.starts_with(b"old ")
    }

    pub fn to_text(&self) -> String {
        let mut out = format!("old {}\n", self.old);
        for h in &self.proof {
            out.push_str(&h.to_base64());
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint.to_text());
        out
    }

    pub fn parse(input: &[u8]) -> Result<Self, WitnessError> {
        let text = std::str::from_utf8(input).map_err(|_| WitnessError::Malformed("not UTF-8"))?;
        let (first, mut rest) = text
            .split_once('\n')
            .ok_or(WitnessError::Malformed("truncated"))?;
        let old = first
            .strip_prefix("old ")
            .and_then(parse_decimal)
            .ok_or(WitnessError::Malformed("the first line must be `old N`"))?;
        let mut proof = Vec::new();
        loop {
            let (line, r) = rest
                .split_once('\n')
                .ok_or(WitnessError::Malformed("truncated"))?;
            rest = r;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_CONSISTENCY_HASHES {
                return Err(WitnessError::Malformed("too many proof hashes"));
            }
            proof.push(Hash::from_base64(line).ok_or(WitnessError::Malformed(
                "a proof line is not a base64 SHA-256 hash",
            ))?);
        }
        let checkpoint = SignedCheckpoint::parse(rest.as_bytes())?;
        Ok(Self {
            old,
            proof,
            checkpoint,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        checkpoint::Checkpoint,
        merkle::{MemoryTree, consistency_proof, leaf_hash},
        note::NoteSigner,
    };
    use rand_core::OsRng;

    const ORIGIN: &str = "log.example/witnessed";

    fn tree(entries: &[&str]) -> MemoryTree {
        let mut t = MemoryTree::new();
        for e in entries {
            t.push(leaf_hash(e.as_bytes()));
        }
        t
    }

    fn signed(log: &NoteSigner, t: &MemoryTree, size: u64) -> SignedCheckpoint {
        Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: crate::merkle::root_hash(t, size).unwrap(),
            extensions: vec![],
        }
        .sign(log)
        .unwrap()
    }

    #[test]
    fn cosigns_extensions_and_refuses_rollbacks_and_forks() {
        let log = NoteSigner::generate(ORIGIN, &mut OsRng).unwrap();
        let witness = Cosigner::generate("witness.example/w1", &mut OsRng).unwrap();
        let mut state = WitnessState::default();
        let main = tree(&["a", "b", "c", "d", "e"]);
        let fork = tree(&["a", "b", "Z", "X", "Y"]);

        let c3 = signed(&log, &main, 3);
        let first = state
            .cosign(&witness, log.verifier(), &c3, None, 100)
            .unwrap();
        assert_eq!(first.previous_size, 0);
        let policy = TrustPolicy {
            log: log.verifier().clone(),
            witnesses: vec![witness.verifier().clone()],
            required_cosignatures: 1,
        };
        first.checkpoint.verify(&policy).unwrap();

        // The same tree again is fine; a larger one needs a proof that links it.
        state
            .cosign(&witness, log.verifier(), &c3, None, 101)
            .unwrap();
        let c5 = signed(&log, &main, 5);
        assert!(matches!(
            state.cosign(&witness, log.verifier(), &c5, None, 102),
            Err(WitnessError::NeedProof { old: 3, new: 5, .. })
        ));
        let f5 = signed(&log, &fork, 5);
        let fork_proof = consistency_proof(&fork, 3, 5).unwrap();
        assert!(matches!(
            state.cosign(&witness, log.verifier(), &f5, Some((3, &fork_proof)), 102),
            Err(WitnessError::Inconsistent { .. })
        ));
        let proof = consistency_proof(&main, 3, 5).unwrap();
        assert!(matches!(
            state.cosign(&witness, log.verifier(), &c5, Some((2, &proof)), 102),
            Err(WitnessError::WrongOldSize { .. })
        ));
        let text = AddCheckpoint {
            old: 3,
            proof: proof.clone(),
            checkpoint: c5.clone(),
        }
        .to_text();
        let request = AddCheckpoint::parse(text.as_bytes()).unwrap();
        let cosigned = state
            .cosign(
                &witness,
                log.verifier(),
                &request.checkpoint,
                Some((request.old, &request.proof)),
                103,
            )
            .unwrap();
        assert_eq!(cosigned.previous_size, 3);
        assert_eq!(state.cosigned_size(ORIGIN), 5);

        // Now a rollback and a fork of the same size are refused.
        assert!(matches!(
            state.cosign(&witness, log.verifier(), &c3, None, 104),
            Err(WitnessError::Rollback {
                cosigned: 5,
                offered: 3,
                ..
            })
        ));
        assert!(matches!(
            state.cosign(&witness, log.verifier(), &f5, None, 104),
            Err(WitnessError::Fork { size: 5, .. })
        ));
        // Another key for the same origin is another log.
        let impostor = NoteSigner::generate(ORIGIN, &mut OsRng).unwrap();
        let i5 = signed(&impostor, &main, 5);
        assert!(matches!(
            state.cosign(&witness, impostor.verifier(), &i5, None, 104),
            Err(WitnessError::LogKeyChanged { .. })
        ));
        // A checkpoint not signed by the log key is refused.
        assert!(matches!(
            state.cosign(&witness, log.verifier(), &i5, None, 104),
            Err(WitnessError::Checkpoint(_))
        ));
        // The state survives a round trip through its file.
        let again = WitnessState::parse(state.to_json().as_bytes()).unwrap();
        assert_eq!(again, state);
        assert!(WitnessState::parse(b"{\"format\":\"other\",\"logs\":{}}").is_err());
    }
}
