//! Tracing outputs into an indexed training corpus.
//!
//! Layers, bottom up:
//!
//! - [`corpus`]: ingest of JSON Lines and text folders, with per-document rights
//!   metadata (owner, licence, fetch time, the rights signals seen at fetch time);
//! - [`tokenizer`]: the byte-level default (token = byte + 1, u16 ids as infini-gram's
//!   files) and, with the `lm` feature, any `tracemark_lm::Tokenizer`;
//! - [`shard`] and [`index`]: token-level suffix arrays (libsais) in immutable,
//!   memory-mapped shards with checksums, a tombstone list for withdrawn documents, and
//!   the queries: n-gram counts (equal to infini-gram's), documents containing an
//!   n-gram, the ∞-gram next-token distribution;
//! - [`sharded`]: a corpus cut into partitions, each indexed apart (on any machine),
//!   opened as one index that answers exactly as the whole;
//! - [`trace`]: OLMoTrace's maximal spans with each source's owner, licence and opt-out
//!   status at its fetch time, reported as byte ranges of the output; MinHash-LSH
//!   near-duplicates ([`minhash`], the one definition in `tracemark_core`, re-exported);
//! - [`ngram`]: the corpus as an interpolated Kneser-Ney language model (behind
//!   `tracemark_lm::LanguageModel` with the `lm` feature), with its mean entropy.
//!
//! ```
//! use std::sync::Arc;
//! use tracemark_trace::{BuildOptions, ByteTokenizer, Index, IndexBuilder, corpus::{Document, DocMeta, IngestStats}};
//! # let dir = tempfile::tempdir().unwrap();
//! let out = dir.path().join("index");
//! let mut b = IndexBuilder::create(&out, &ByteTokenizer, BuildOptions::default())?;
//! b.add(Document { meta: DocMeta::new("d1"), text: "the cat sat on the mat".into() })?;
//! b.finish(IngestStats::default())?;
//! let index = Index::open(&out, Arc::new(ByteTokenizer))?;
//! assert_eq!(index.count("the")?, 2);
//! # Ok::<(), tracemark_trace::TraceError>(())
//! ```

pub mod corpus;
mod error;
pub mod index;
pub mod infinigram;
mod mmap;
pub mod ngram;
pub mod shard;
pub mod sharded;
pub mod tokenizer;
pub mod trace;

pub use tracemark_core::minhash;

pub use error::TraceError;
pub use index::{
    BuildOptions, BuildSummary, DocAddress, DocHit, DocumentsResult, Index, IndexBuilder,
    InfinigramNtd, Partition, Tombstone, build_from_token_file, build_index, withdraw,
};
pub use ngram::NgramModel;
pub use tokenizer::{ByteTokenizer, IndexTokenizer, SEP};
pub use trace::{
    NearDuplicate, TraceOptions, TraceReport, TraceSource, TracedSpan, near_duplicates, trace,
};
