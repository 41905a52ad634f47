//! Tracing outputs into an indexed training corpus.
//!
//! Layers, bottom up: corpus ingest (JSON Lines, text folders, Parquet, with per-document
//! rights metadata), token-level suffix-array shards (immutable, memory-mapped), queries
//! (n-gram counts, documents, the ∞-gram distribution, a smoothed n-gram model behind
//! `tracemark_lm::LanguageModel`), maximal-span tracing with each source's owner, licence
//! and opt-out status, and MinHash near-duplicates. Spans are reported as byte ranges of
//! the output (`tracemark_core::ByteRange`).
