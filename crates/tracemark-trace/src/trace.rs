//! Tracing an output into the corpus (OLMoTrace, Liu et al. 2025, §2): maximal spans
//! that occur verbatim, the rarest kept, their documents with each source's rights; and
//! MinHash near-duplicates for overlap that is not verbatim.

use std::collections::BTreeMap;

use serde::Serialize;
use tracemark_core::{
    ByteRange, Timestamp,
    fact::{DocumentRef, NearDuplicateFinding, SpanFinding},
    rights::{AiUse, Permission},
};
use tracemark_rights::Actor;

use crate::{
    TraceError,
    corpus::DocMeta,
    index::{DocHit, DocumentsResult, Index, Tombstone},
    minhash::{Scheme, Sketch},
    tokenizer::IndexTokenizer,
};

/// Parameters of a trace (defaults follow OLMoTrace where it has one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceOptions {
    /// Shortest span kept, in index tokens. The default, 32, suits the byte tokenizer
    /// (about six English words; infini-gram's attribution default for bytes).
    pub min_tokens: usize,
    /// Keep the `ceil(fraction × output tokens)` spans of lowest unigram probability
    /// (OLMoTrace: 0.05); `None` keeps every span.
    pub keep_fraction: Option<f64>,
    /// Documents fetched per span (OLMoTrace: 10).
    pub max_documents: usize,
    /// Trim spans to start and end on whole words (OLMoTrace's self-contained spans).
    pub whole_words: bool,
    /// Whose use the rights question is about, and which use.
    pub actor: Actor,
    pub usage: AiUse,
}

impl Default for TraceOptions {
    fn default() -> Self {
        Self {
            min_tokens: 32,
            keep_fraction: Some(0.05),
            max_documents: 10,
            whole_words: true,
            actor: Actor::Everyone,
            usage: AiUse::GenaiTrain,
        }
    }
}

/// A source document of a span, with its rights.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceDocument {
    pub id: String,
    pub owner: Option<String>,
    pub licence: Option<String>,
    pub url: Option<String>,
    pub fetched_at: Option<Timestamp>,
    /// The decision for the use asked about, from the signals in force at the fetch time
    /// (an opt-out set later does not bind that fetch): `disallowed` is an opt-out.
    pub opt_out_at_fetch: Permission,
    /// The kinds of signal behind that decision.
    pub signals_at_fetch: Vec<String>,
    /// The decision from the latest signals known (shows opt-outs set after the fetch).
    pub latest: Permission,
    pub occurrences: u64,
}

/// A maximal span of the output that occurs verbatim in the corpus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TracedSpan {
    /// Byte range of the output.
    pub range: ByteRange,
    pub text: String,
    /// Length in index tokens.
    pub tokens: usize,
    pub occurrences: u64,
    /// log10 of the span's unigram probability (lower is rarer).
    pub unigram_log10: f64,
    pub documents: Vec<SourceDocument>,
    /// Documents containing the span that were withdrawn, with when.
    pub withdrawn: Vec<Tombstone>,
}

/// The result of tracing one output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceReport {
    pub tokenizer: String,
    pub output_bytes: usize,
    pub output_tokens: usize,
    /// Share of the output's bytes inside some maximal span of at least `min_tokens`.
    pub coverage: f64,
    /// Maximal spans found before keeping the rarest.
    pub spans_total: usize,
    /// The kept spans, in output order.
    pub spans: Vec<TracedSpan>,
    /// Overlapping kept spans merged (for display).
    pub merged: Vec<ByteRange>,
    pub options: TraceOptions,
}

impl TraceReport {
    /// The spans as facts for the legal engine.
    pub fn span_findings(&self) -> Vec<SpanFinding> {
        self.spans
            .iter()
            .map(|s| SpanFinding {
                range: s.range,
                tokens: s.tokens as u64,
                occurrences: s.occurrences,
                documents: s
                    .documents
                    .iter()
                    .map(SourceDocument::document_ref)
                    .collect(),
            })
            .collect()
    }
}

impl SourceDocument {
    fn from_hit(hit: DocHit, options: &TraceOptions) -> Self {
        let m = hit.meta;
        let at_fetch = m
            .rights
            .decision_at(options.usage, &options.actor, m.fetched_at);
        let finding = tracemark_rights::finding(&m.id, &at_fetch);
        let latest = m
            .rights
            .decision_at(options.usage, &options.actor, None)
            .permission;
        SourceDocument {
            id: m.id,
            owner: m.owner,
            licence: m.licence,
            url: m.url,
            fetched_at: m.fetched_at,
            opt_out_at_fetch: at_fetch.permission,
            signals_at_fetch: finding.signals,
            latest,
            occurrences: hit.occurrences,
        }
    }

    pub fn document_ref(&self) -> DocumentRef {
        DocumentRef {
            id: self.id.clone(),
            owner: self.owner.clone(),
            licence: self.licence.clone(),
            source_url: self.url.clone(),
            fetched_at: self.fetched_at,
        }
    }
}

/// What tracing reads from a corpus: an [`Index`] on this machine, or the shards of one
/// served by other machines, whose answers the implementation merges (lengths by their
/// maximum, counts by their sum, documents by [`crate::DocumentsResult::merge`]).
pub trait TraceSource {
    /// The tokenizer the corpus was indexed with.
    fn tokenizer(&self) -> &dyn IndexTokenizer;
    /// Corpus count of each token id (separators excluded).
    fn unigram_counts(&self) -> Result<&[u64], TraceError>;
    /// `L[i]`: the length of the longest prefix of `ids[i..]` that occurs in the corpus.
    fn longest_matches(&self, ids: &[u16]) -> Result<Vec<usize>, TraceError>;
    /// The documents containing each query (at most `limit` live ones each).
    fn documents(
        &self,
        queries: &[&[u16]],
        limit: usize,
    ) -> Result<Vec<DocumentsResult>, TraceError>;
}

impl TraceSource for Index {
    fn tokenizer(&self) -> &dyn IndexTokenizer {
        Index::tokenizer(self)
    }

    fn unigram_counts(&self) -> Result<&[u64], TraceError> {
        Ok(Index::unigram_counts(self))
    }

    fn longest_matches(&self, ids: &[u16]) -> Result<Vec<usize>, TraceError> {
        Ok(longest_matches(self, ids))
    }

    fn documents(
        &self,
        queries: &[&[u16]],
        limit: usize,
    ) -> Result<Vec<DocumentsResult>, TraceError> {
        queries
            .iter()
            .map(|q| self.documents_ids(q, limit))
            .collect()
    }
}

/// `L[i]`: the length of the longest prefix of `ids[i..]` that occurs in the index.
///
/// Per shard, with the matching-statistics bound `L[i+1] ≥ L[i] − 1`: the range of the
/// previous match minus its first token is found with one search, then extended one
/// token at a time by narrowing the suffix-array range. The index's answer is the
/// maximum over shards.
pub fn longest_matches(index: &Index, ids: &[u16]) -> Vec<usize> {
    let mut best = vec![0usize; ids.len()];
    for s in index.shards() {
        let mut prev = 0usize;
        for i in 0..ids.len() {
            let mut k = prev.saturating_sub(1);
            let mut range = s.find(&ids[i..i + k]);
            while i + k < ids.len() {
                let next = s.narrow(range.clone(), k, ids[i + k]);
                if next.is_empty() {
                    break;
                }
                range = next;
                k += 1;
            }
            best[i] = best[i].max(k);
            prev = k;
        }
    }
    best
}

/// Maximal spans `(start, end)` in tokens: a span is dropped when an earlier one ends at
/// or after its end (it is then contained in it).
pub fn maximal_spans(lengths: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut max_end = 0;
    for (i, &l) in lengths.iter().enumerate() {
        if l > 0 && i + l > max_end {
            out.push((i, i + l));
            max_end = i + l;
        }
    }
    out
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether byte `b` of `text` lies between two characters not both of a word.
fn word_boundary(text: &str, b: usize) -> bool {
    if !text.is_char_boundary(b) {
        return false;
    }
    let before = text[..b].chars().next_back();
    let after = text[b..].chars().next();
    !matches!((before, after), (Some(x), Some(y)) if is_word_char(x) && is_word_char(y))
}

/// The span shrunk to whole words (token boundaries that are word boundaries), if any
/// remains.
fn trim_to_words(
    text: &str,
    ranges: &[std::ops::Range<usize>],
    (mut s, mut e): (usize, usize),
) -> Option<(usize, usize)> {
    while s < e && !word_boundary(text, ranges[s].start) {
        s += 1;
    }
    while e > s && !word_boundary(text, ranges[e - 1].end) {
        e -= 1;
    }
    // Leading or trailing whitespace adds nothing to a span.
    // (Bytes, not `str` slices: a byte token may cover part of a character.)
    let blank = |r: &std::ops::Range<usize>| {
        text.as_bytes()[r.clone()]
            .iter()
            .all(u8::is_ascii_whitespace)
    };
    while s < e && blank(&ranges[s]) {
        s += 1;
    }
    while e > s && blank(&ranges[e - 1]) {
        e -= 1;
    }
    (s < e).then_some((s, e))
}

/// The span shrunk to whole characters: a byte-level match can end inside a UTF-8
/// character, and reported ranges must slice the output.
fn trim_to_chars(
    text: &str,
    ranges: &[std::ops::Range<usize>],
    (mut s, mut e): (usize, usize),
) -> Option<(usize, usize)> {
    while s < e && !text.is_char_boundary(ranges[s].start) {
        s += 1;
    }
    while e > s && !text.is_char_boundary(ranges[e - 1].end) {
        e -= 1;
    }
    (s < e).then_some((s, e))
}

/// Drops spans contained in another (after trimming, one may fall inside its neighbour).
fn drop_contained(mut spans: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out: Vec<(usize, usize)> = Vec::new();
    for sp in spans {
        if out.last().is_none_or(|last| sp.1 > last.1) {
            out.push(sp);
        }
    }
    out
}

/// Union of sorted-by-start ranges.
fn merge(mut ranges: Vec<ByteRange>) -> Vec<ByteRange> {
    ranges.sort();
    let mut out: Vec<ByteRange> = Vec::new();
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start() <= last.end() => *last = last.cover(&r),
            _ => out.push(r),
        }
    }
    out
}

/// Traces `text` into a corpus: an [`Index`], or any other [`TraceSource`].
pub fn trace(
    corpus: &(impl TraceSource + ?Sized),
    text: &str,
    options: &TraceOptions,
) -> Result<TraceReport, TraceError> {
    let encoded = corpus.tokenizer().encode(text)?;
    let ids: Vec<u16> = encoded.iter().map(|(t, _)| *t).collect();
    let ranges: Vec<std::ops::Range<usize>> = encoded.into_iter().map(|(_, r)| r).collect();
    let mut spans = maximal_spans(&corpus.longest_matches(&ids)?);
    let trim = |sp| {
        if options.whole_words {
            trim_to_words(text, &ranges, sp)
        } else {
            trim_to_chars(text, &ranges, sp)
        }
    };
    spans = drop_contained(spans.into_iter().filter_map(trim).collect());
    spans.retain(|(s, e)| e - s >= options.min_tokens.max(1));
    let byte_range = |(s, e): (usize, usize)| {
        ByteRange::new(ranges[s].start, ranges[e - 1].end)
            .map_err(|e| TraceError::Tokenizer(e.to_string()))
    };
    let all: Vec<ByteRange> = spans
        .iter()
        .map(|&sp| byte_range(sp))
        .collect::<Result<_, _>>()?;
    let covered: usize = merge(all).iter().map(ByteRange::len).sum();
    let spans_total = spans.len();
    let unigram = Unigram::new(corpus.unigram_counts()?);
    let kept = rarest(unigram, &ids, spans, options.keep_fraction);
    let queries: Vec<&[u16]> = kept.iter().map(|&(s, e)| &ids[s..e]).collect();
    let found = corpus.documents(&queries, options.max_documents)?;
    let mut out = Vec::new();
    for ((s, e), hits) in kept.into_iter().zip(found) {
        let range = byte_range((s, e))?;
        out.push(TracedSpan {
            text: text[range.start()..range.end()].to_owned(),
            range,
            tokens: e - s,
            occurrences: hits.occurrences,
            unigram_log10: unigram_log10(unigram, &ids[s..e]),
            documents: hits
                .documents
                .into_iter()
                .map(|h| SourceDocument::from_hit(h, options))
                .collect(),
            withdrawn: hits
                .withdrawn
                .into_iter()
                .filter_map(|h| h.withdrawn)
                .collect(),
        });
    }
    let merged = merge(out.iter().map(|s| s.range).collect());
    Ok(TraceReport {
        tokenizer: corpus.tokenizer().name(),
        output_bytes: text.len(),
        output_tokens: ids.len(),
        coverage: if text.is_empty() {
            0.0
        } else {
            covered as f64 / text.len() as f64
        },
        spans_total,
        spans: out,
        merged,
        options: options.clone(),
    })
}

/// Corpus unigram counts and their total.
#[derive(Clone, Copy)]
struct Unigram<'a> {
    counts: &'a [u64],
    total: u64,
}

impl<'a> Unigram<'a> {
    fn new(counts: &'a [u64]) -> Self {
        let total = counts.iter().sum::<u64>().max(1);
        Self { counts, total }
    }
}

/// log10 of the product of the tokens' corpus unigram probabilities (OLMoTrace §2.2).
fn unigram_log10(Unigram { counts, total }: Unigram, ids: &[u16]) -> f64 {
    ids.iter()
        .map(|&t| ((counts[t as usize].max(1)) as f64 / total as f64).log10())
        .sum()
}

/// The `ceil(fraction × L)` spans of lowest unigram probability, back in output order.
fn rarest(
    counts: Unigram,
    ids: &[u16],
    mut spans: Vec<(usize, usize)>,
    fraction: Option<f64>,
) -> Vec<(usize, usize)> {
    if let Some(f) = fraction {
        let k = ((f * ids.len() as f64).ceil() as usize).max(1);
        spans.sort_by(|a, b| {
            unigram_log10(counts, &ids[a.0..a.1]).total_cmp(&unigram_log10(counts, &ids[b.0..b.1]))
        });
        spans.truncate(k);
        spans.sort();
    }
    spans
}

/// A corpus document whose word shingles overlap the text's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearDuplicate {
    pub document: DocumentRef,
    /// MinHash estimate of the Jaccard similarity of word 5-gram sets.
    pub jaccard: f64,
    pub withdrawn: Option<Tombstone>,
}

impl NearDuplicate {
    pub fn finding(&self) -> NearDuplicateFinding {
        NearDuplicateFinding {
            document: self.document.clone(),
            jaccard: self.jaccard,
        }
    }
}

/// Documents that are LSH candidates of `text` with estimated Jaccard ≥ `min_jaccard`,
/// most similar first (see [`crate::minhash`] for the exact hashing). `text` is
/// sketched in the MinHash scheme of each shard it is compared with.
pub fn near_duplicates(
    index: &Index,
    text: &str,
    min_jaccard: f64,
) -> Result<Vec<NearDuplicate>, TraceError> {
    // The text's sketch in each shard's scheme, made once per scheme.
    let mut by_scheme: BTreeMap<Scheme, Sketch> = BTreeMap::new();
    let per_shard: Vec<Sketch> = index
        .shards()
        .iter()
        .map(|s| {
            by_scheme
                .entry(s.minhash_scheme())
                .or_insert_with_key(|scheme| scheme.sketch(text))
                .clone()
        })
        .collect();
    let mut out = Vec::new();
    for address in index.addresses() {
        let sig = &per_shard[address.shard];
        let other = index.shards()[address.shard].signature(address.doc);
        if !sig.lsh_candidate(&other) {
            continue;
        }
        let j = sig.similarity(&other);
        if j >= min_jaccard {
            let meta: DocMeta = index.doc_meta(address)?;
            out.push(NearDuplicate {
                withdrawn: index.tombstone(&meta.id).cloned(),
                document: meta.document_ref(),
                jaccard: j,
            });
        }
    }
    out.sort_by(|a, b| {
        b.jaccard
            .total_cmp(&a.jaccard)
            .then(a.document.id.cmp(&b.document.id))
    });
    Ok(out)
}
