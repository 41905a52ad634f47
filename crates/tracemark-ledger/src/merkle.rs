//! RFC 6962 Merkle tree hashing and proofs (RFC 6962 §2.1, kept unchanged in RFC 9162 §2.1).
//!
//! Hashes: `MTH({}) = SHA-256()`, a leaf is `SHA-256(0x00 ‖ d)`, a node
//! `SHA-256(0x01 ‖ left ‖ right)`; the prefixes separate leaves from nodes so that no
//! node can pass for a leaf (a second-preimage defence).
//!
//! A tree is read through [`HashReader`], which returns the hash of a *complete* subtree:
//! the `2^level` leaves starting at `index · 2^level`. Those hashes never change once the
//! subtree is full, so a store can keep them forever (as Go's `sumdb/tlog` and the C2SP
//! `tlog-tiles` do) and any root or proof needs only O(log n) of them.
//!
//! Proofs are generated with the recursive definitions of RFC 6962 §2.1.1 (`PATH`) and
//! §2.1.2 (`PROOF`/`SUBPROOF`) and verified with the iterative algorithms of RFC 9162
//! §2.1.3.2 and §2.1.4.2, so generation and verification check each other.

use std::fmt;

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use sha2::{Digest, Sha256};
use tracemark_core::{Diagnose, Fault};

/// A SHA-256 Merkle tree hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// Reads standard base64 of exactly 32 bytes (checkpoint and proof lines).
    pub fn from_base64(text: &str) -> Option<Self> {
        let bytes = BASE64.decode(text).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.try_into().ok()?))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// `MTH({})`: the hash of the empty tree, SHA-256 of no bytes.
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    Hash(
        Sha256::new()
            .chain_update([0x00])
            .chain_update(entry)
            .finalize()
            .into(),
    )
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash(
        Sha256::new()
            .chain_update([0x01])
            .chain_update(left.0)
            .chain_update(right.0)
            .finalize()
            .into(),
    )
}

/// A proof could not be made or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {old} is larger than tree size {new}")]
    SizesOutOfOrder { old: u64, new: u64 },
    #[error("tree size {requested} exceeds the log's size {size}")]
    TreeTooLarge { requested: u64, size: u64 },
    #[error("the proof has {actual} hashes where {expected} were expected")]
    WrongLength { expected: usize, actual: usize },
    #[error("the proof does not lead to the expected root hash")]
    RootMismatch,
    #[error("a stored hash is missing: level {level}, index {index}")]
    MissingHash { level: u8, index: u64 },
}

impl Diagnose for ProofError {
    fn fault(&self) -> Fault {
        match self {
            ProofError::MissingHash { .. } => Fault::Internal,
            _ => Fault::Input,
        }
    }
}

/// Reads the hashes of complete subtrees of one tree.
pub trait HashReader {
    type Error: From<ProofError>;

    /// The hash of the complete subtree of `2^level` leaves starting at leaf
    /// `index · 2^level`.
    fn stored_hash(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// The largest power of two strictly less than `n` (`n ≥ 2`), the split point `k` of
/// RFC 6962 §2.1.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[start:end])` for a range that occurs in the RFC 6962 recursion: `start` is a
/// multiple of the largest power of two not above `end - start`, so the range splits
/// into complete subtrees of decreasing size, which are folded from the right.
pub fn subtree_hash<R: HashReader>(reader: &R, start: u64, end: u64) -> Result<Hash, R::Error> {
    if start >= end {
        return Ok(empty_root());
    }
    let mut parts = Vec::new();
    let mut at = start;
    while at < end {
        let width = end - at;
        let mut level = 63 - width.leading_zeros();
        // Only aligned subtrees are stored; shrink until aligned.
        while !at.is_multiple_of(1u64 << level) {
            level -= 1;
        }
        parts.push(reader.stored_hash(level as u8, at >> level)?);
        at += 1 << level;
    }
    let mut hash = parts.pop().unwrap_or_else(empty_root);
    while let Some(left) = parts.pop() {
        hash = node_hash(&left, &hash);
    }
    Ok(hash)
}

/// The root hash of the first `size` leaves.
pub fn root_hash<R: HashReader>(reader: &R, size: u64) -> Result<Hash, R::Error> {
    subtree_hash(reader, 0, size)
}

/// The audit path for leaf `index` in the tree of the first `size` leaves
/// (RFC 6962 §2.1.1 `PATH(m, D[n])`), leaf's sibling first.
pub fn inclusion_proof<R: HashReader>(
    reader: &R,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, R::Error> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size }.into());
    }
    let mut path = Vec::new();
    let (mut start, mut end, mut m) = (0, size, index);
    while end - start > 1 {
        let k = split(end - start);
        if m < k {
            path.push(subtree_hash(reader, start + k, end)?);
            end = start + k;
        } else {
            path.push(subtree_hash(reader, start, start + k)?);
            start += k;
            m -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof between the trees of the first `old` and `new` leaves
/// (RFC 6962 §2.1.2 `PROOF(m, D[n])`). Empty when `old` is 0 or equals `new`.
pub fn consistency_proof<R: HashReader>(
    reader: &R,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, R::Error> {
    if old > new {
        return Err(ProofError::SizesOutOfOrder { old, new }.into());
    }
    let mut proof = Vec::new();
    if old == 0 || old == new {
        return Ok(proof);
    }
    // SUBPROOF(m, D[start:end], complete), unrolled.
    let (mut start, mut end, mut m, mut complete) = (0, new, old, true);
    while m != end - start {
        let k = split(end - start);
        if m <= k {
            proof.push(subtree_hash(reader, start + k, end)?);
            end = start + k;
        } else {
            proof.push(subtree_hash(reader, start, start + k)?);
            start += k;
            m -= k;
            complete = false;
        }
    }
    if !complete {
        proof.push(subtree_hash(reader, start, end)?);
    }
    proof.reverse();
    Ok(proof)
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn, mut r) = (index, size - 1, *leaf);
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength {
                expected: expected_inclusion_len(index, size),
                actual: proof.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength {
            expected: expected_inclusion_len(index, size),
            actual: proof.len(),
        });
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The number of hashes in an inclusion proof, for error messages.
fn expected_inclusion_len(index: u64, size: u64) -> usize {
    let (mut start, mut end, mut m, mut n) = (0u64, size, index, 0);
    while end - start > 1 {
        let k = split(end - start);
        if m < k {
            end = start + k;
        } else {
            start += k;
            m -= k;
        }
        n += 1;
    }
    n
}

/// Verifies a consistency proof between two tree heads (RFC 9162 §2.1.4.2).
///
/// A tree of size 0 is consistent with any tree, and a tree with itself, exactly when
/// the proof is empty (and, for equal sizes, the roots are equal).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder {
            old: old_size,
            new: new_size,
        });
    }
    let wrong_length = |expected: usize| ProofError::WrongLength {
        expected,
        actual: proof.len(),
    };
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(wrong_length(0));
        }
        if old_size == new_size && old_root != new_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    let Some((first, rest)) = proof.split_first() else {
        return Err(wrong_length(1));
    };
    // Step 2: when the old tree is complete, its root is the first node of the path.
    let (seed, path) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (first, rest)
    };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*seed, *seed);
    for c in path {
        if sn == 0 {
            return Err(wrong_length(proof.len() - 1));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(wrong_length(proof.len() + 1));
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The hashes of complete subtrees that appending one leaf at `index` completes, as
/// `(level, index, hash)`: the leaf itself at level 0, then each parent whose right
/// child the new hash is. `left_sibling(level, index)` reads the stored left siblings.
pub fn completed_subtrees<E>(
    index: u64,
    leaf: Hash,
    mut left_sibling: impl FnMut(u8, u64) -> Result<Hash, E>,
) -> Result<Vec<(u8, u64, Hash)>, E> {
    let mut out = vec![(0u8, index, leaf)];
    let (mut level, mut i, mut hash) = (0u8, index, leaf);
    while i & 1 == 1 {
        let left = left_sibling(level, i - 1)?;
        hash = node_hash(&left, &hash);
        level += 1;
        i >>= 1;
        out.push((level, i, hash));
    }
    Ok(out)
}

/// An in-memory tree of stored hashes, level by level. Used by tests, by benchmarks and to
/// rebuild a tree from its leaves when checking a store.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash and completes the subtrees it closes.
    pub fn push(&mut self, leaf: Hash) {
        let index = self.size();
        let levels = &self.levels;
        let done = completed_subtrees(index, leaf, |level, i| {
            Ok::<_, ProofError>(levels[level as usize][i as usize])
        })
        .unwrap_or_default();
        for (level, _, hash) in done {
            if self.levels.len() <= level as usize {
                self.levels.push(Vec::new());
            }
            self.levels[level as usize].push(hash);
        }
    }

    pub fn root(&self) -> Hash {
        root_hash(self, self.size()).unwrap_or_else(|_| empty_root())
    }
}

impl HashReader for MemoryTree {
    type Error = ProofError;

    fn stored_hash(&self, level: u8, index: u64) -> Result<Hash, ProofError> {
        self.levels
            .get(level as usize)
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or(ProofError::MissingHash { level, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(n: u64) -> MemoryTree {
        let mut t = MemoryTree::new();
        for i in 0..n {
            t.push(leaf_hash(&[i as u8]));
        }
        t
    }

    /// MTH by the literal recursive definition of RFC 6962 §2.1, as a second opinion.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn empty_tree_and_leaf_prefixes() {
        assert_eq!(
            empty_root().to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // RFC 6962 test vectors (certificate-transparency reference): the empty leaf.
        assert_eq!(
            leaf_hash(b"").to_hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_ne!(
            leaf_hash(&[1; 64]),
            node_hash(&Hash([1; 32]), &Hash([1; 32]))
        );
    }

    #[test]
    fn roots_match_the_recursive_definition() {
        for n in 0..70 {
            let t = tree(n);
            let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&[i as u8])).collect();
            assert_eq!(t.root(), mth(&leaves), "size {n}");
        }
    }

    #[test]
    fn every_inclusion_proof_verifies_and_tampering_fails() {
        for n in 1..40 {
            let t = tree(n);
            let root = t.root();
            for i in 0..n {
                let leaf = leaf_hash(&[i as u8]);
                let p = inclusion_proof(&t, i, n).unwrap();
                assert_eq!(p.len(), expected_inclusion_len(i, n));
                verify_inclusion(&leaf, i, n, &p, &root).unwrap();
                // The proof binds the position: a sibling's index does not verify.
                if i ^ 1 < n {
                    assert!(verify_inclusion(&leaf, i ^ 1, n, &p, &root).is_err());
                }
                assert!(verify_inclusion(&leaf, i, n, &p, &leaf_hash(b"x")).is_err());
                if let Some(first) = p.first() {
                    let mut bad = p.clone();
                    bad[0] = Hash(first.0.map(|b| b ^ 1));
                    assert_eq!(
                        verify_inclusion(&leaf, i, n, &bad, &root),
                        Err(ProofError::RootMismatch)
                    );
                    assert!(verify_inclusion(&leaf, i, n, &p[1..], &root).is_err());
                }
            }
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_tampering_fails() {
        let big = tree(40);
        for new in 1..40 {
            let new_root = root_hash(&big, new).unwrap();
            for old in 0..=new {
                let old_root = root_hash(&big, old).unwrap();
                let p = consistency_proof(&big, old, new).unwrap();
                verify_consistency(old, new, &p, &old_root, &new_root).unwrap();
                if !p.is_empty() {
                    let mut bad = p.clone();
                    let last = bad.len() - 1;
                    bad[last].0[0] ^= 0x80;
                    assert!(verify_consistency(old, new, &bad, &old_root, &new_root).is_err());
                    assert!(verify_consistency(old, new, &p[1..], &old_root, &new_root).is_err());
                    let other = leaf_hash(b"other");
                    assert!(verify_consistency(old, new, &p, &other, &new_root).is_err());
                }
            }
        }
    }

    #[test]
    fn out_of_range_requests_are_errors() {
        let t = tree(5);
        assert_eq!(
            inclusion_proof(&t, 5, 5),
            Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
        );
        assert!(consistency_proof(&t, 4, 3).is_err());
        assert!(matches!(
            inclusion_proof(&t, 0, 9),
            Err(ProofError::MissingHash { .. })
        ));
        assert!(verify_inclusion(&Hash([0; 32]), 0, 0, &[], &empty_root()).is_err());
    }
}
