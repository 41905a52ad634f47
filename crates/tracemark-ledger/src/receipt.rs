//! C2SP `tlog-proof` (`c2sp.org/tlog-proof@v1`): the offline receipt that an entry is in
//! the log, checked with nothing but the log's verifier key (and, if the verifier's
//! policy says so, witness keys).
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64 of the entry>          (optional)
//! index <decimal>
//! <base64 hash>                        (the RFC 6962 inclusion proof, leaf's sibling first)
//! ...
//!
//! <the signed checkpoint, verbatim>
//! ```
//!
//! The spec leaves `extra` to applications and says not to trust it implicitly.
//! Tracemark puts the entry itself there (the record's canonical JSON), so a receipt says
//! which record it proves; trust comes from checking that the RFC 6962 leaf hash of those
//! bytes is included at `index` in the signed tree, never from the line itself.

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use tracemark_core::{Diagnose, Fault};

use crate::{
    checkpoint::{
        CheckpointError, SignedCheckpoint, TrustPolicy, VerifiedCheckpoint, parse_decimal,
    },
    merkle::{Hash, ProofError, leaf_hash, verify_inclusion},
    note::MAX_NOTE_BYTES,
    record::{GenerationRecord, RecordError},
};

/// The first line of every receipt.
pub const TLOG_PROOF_V1: &str = "c2sp.org/tlog-proof@v1";

/// An inclusion proof has at most 63 hashes (a tree has at most 2^63 leaves).
const MAX_PROOF_HASHES: usize = 63;

/// An offline receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Opaque extra data; Tracemark puts the logged entry here.
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub proof: Vec<Hash>,
    pub checkpoint: SignedCheckpoint,
}

/// A receipt that could not be read or does not prove what it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("malformed receipt: {0}")]
    Malformed(&'static str),
    #[error("the receipt's checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error(
        "the receipt's inclusion proof: {0}; the receipt was altered or belongs to another tree"
    )]
    Proof(#[from] ProofError),
    #[error("the receipt proves another entry than the record given")]
    RecordMismatch,
    #[error("the receipt carries no entry; give the record to check it against")]
    NoEntry,
}

impl Diagnose for ReceiptError {
    fn fault(&self) -> Fault {
        match self {
            ReceiptError::Checkpoint(e) => e.fault(),
            ReceiptError::NoEntry => Fault::Usage,
            _ => Fault::Input,
        }
    }
}

/// What a verified receipt proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    pub index: u64,
    pub leaf_hash: Hash,
    /// The entry bytes, when the receipt or the caller supplied them.
    pub entry: Option<Vec<u8>>,
    pub checkpoint: VerifiedCheckpoint,
}

impl VerifiedReceipt {
    /// The generation record the receipt proves, when its entry is one.
    pub fn record(&self) -> Option<Result<GenerationRecord, RecordError>> {
        self.entry.as_deref().map(GenerationRecord::from_json)
    }
}

impl Receipt {
    /// The receipt text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{TLOG_PROOF_V1}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", BASE64.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            out.push_str(&h.to_base64());
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint.to_text());
        out
    }

    /// Parses a receipt without trusting it.
    pub fn parse(input: &[u8]) -> Result<Self, ReceiptError> {
        let max = MAX_NOTE_BYTES * 2;
        if input.len() > max {
            return Err(ReceiptError::Malformed(
                "larger than any receipt Tracemark reads",
            ));
        }
        let text = std::str::from_utf8(input).map_err(|_| ReceiptError::Malformed("not UTF-8"))?;
        let rest = text
            .strip_prefix(TLOG_PROOF_V1)
            .and_then(|r| r.strip_prefix('\n'))
            .ok_or(ReceiptError::Malformed(
                "the first line must be `c2sp.org/tlog-proof@v1`",
            ))?;
        let (extra, rest) = match rest.strip_prefix("extra ") {
            Some(r) => {
                let (line, r) = split_line(r)?;
                let bytes = BASE64
                    .decode(line)
                    .map_err(|_| ReceiptError::Malformed("the extra line is not base64"))?;
                (Some(bytes), r)
            }
            None => (None, rest),
        };
        let (line, mut rest) = split_line(rest)?;
        let index =
            line.strip_prefix("index ")
                .and_then(parse_decimal)
                .ok_or(ReceiptError::Malformed(
                    "expected `index N` with N in decimal",
                ))?;
        let mut proof = Vec::new();
        loop {
            let (line, r) = split_line(rest)?;
            rest = r;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(ReceiptError::Malformed("too many proof hashes"));
            }
            let hash = Hash::from_base64(line).ok_or(ReceiptError::Malformed(
                "a proof line is not a base64 SHA-256 hash",
            ))?;
            proof.push(hash);
        }
        let checkpoint = SignedCheckpoint::parse(rest.as_bytes())?;
        Ok(Self {
            extra,
            index,
            proof,
            checkpoint,
        })
    }

    /// Verifies the receipt for the entry it carries or for `record` (the entry bytes);
    /// when both are present they must be equal.
    pub fn verify(
        &self,
        policy: &TrustPolicy,
        record: Option<&[u8]>,
    ) -> Result<VerifiedReceipt, ReceiptError> {
        let entry = match (&self.extra, record) {
            (Some(extra), Some(record)) if extra.as_slice() != record => {
                return Err(ReceiptError::RecordMismatch);
            }
            (Some(extra), _) => extra.clone(),
            (None, Some(record)) => record.to_vec(),
            (None, None) => return Err(ReceiptError::NoEntry),
        };
        let leaf = leaf_hash(&entry);
        let mut verified = self.verify_leaf(policy, &leaf)?;
        verified.entry = Some(entry);
        Ok(verified)
    }

    /// Verifies that `leaf` is at `index` in the tree the checkpoint signs.
    pub fn verify_leaf(
        &self,
        policy: &TrustPolicy,
        leaf: &Hash,
    ) -> Result<VerifiedReceipt, ReceiptError> {
        let checkpoint = self.checkpoint.verify(policy)?;
        let head = &checkpoint.checkpoint;
        verify_inclusion(leaf, self.index, head.size, &self.proof, &head.root)?;
        Ok(VerifiedReceipt {
            index: self.index,
            leaf_hash: *leaf,
            entry: None,
            checkpoint,
        })
    }
}

fn split_line(text: &str) -> Result<(&str, &str), ReceiptError> {
    text.split_once('\n').ok_or(ReceiptError::Malformed(
        "truncated: a line does not end in a newline",
    ))
}
