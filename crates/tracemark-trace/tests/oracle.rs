//! Counts, longest matches, documents and ∞-gram distributions against brute force on
//! random corpora.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use proptest::prelude::*;
use tracemark_trace::{SEP, trace::longest_matches};

fn corpus() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[abc]{1,30}", 1..8)
}

fn query() -> impl Strategy<Value = String> {
    "[abcd]{0,6}"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any shard size: SEP-free queries never cross documents, so counts add up over shards.
    #[test]
    fn counts_equal_brute_force_over_any_sharding(docs in corpus(), qs in prop::collection::vec(query(), 1..10), shard in 3usize..80) {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<&str> = docs.iter().map(String::as_str).collect();
        let index = build(dir.path(), "i", texts.iter().enumerate().map(|(i, t)| doc(&i.to_string(), t)).collect(), shard);
        let arr = token_array(&texts);
        for q in &qs {
            prop_assert_eq!(index.count(q).unwrap(), brute_count(&arr, &ids(q)), "query {:?}", q);
        }
        // Every substring of a document is counted exactly too.
        for t in &texts {
            let q = &t[t.len() / 3..];
            prop_assert_eq!(index.count(q).unwrap(), brute_count(&arr, &ids(q)));
        }
    }

    /// One shard: queries containing the separator match across document boundaries
    /// exactly as infini-gram's (SEP is an ordinary symbol).
    #[test]
    fn separator_queries_match_infinigram_semantics(docs in corpus(), a in "[abc]{0,2}", b in "[abc]{0,2}") {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<&str> = docs.iter().map(String::as_str).collect();
        let index = build(dir.path(), "i", texts.iter().enumerate().map(|(i, t)| doc(&i.to_string(), t)).collect(), 1 << 20);
        let arr = token_array(&texts);
        let mut q = ids(&a);
        q.push(SEP);
        q.extend(ids(&b));
        prop_assert_eq!(index.count_ids(&q), brute_count(&arr, &q));
        prop_assert_eq!(index.count_ids(&[]), arr.len() as u64);
    }

    #[test]
    fn longest_matches_and_documents_equal_brute_force(docs in corpus(), out in "[abcd]{1,40}", shard in 3usize..80) {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<&str> = docs.iter().map(String::as_str).collect();
        let index = build(dir.path(), "i", texts.iter().enumerate().map(|(i, t)| doc(&i.to_string(), t)).collect(), shard);
        let q = ids(&out);
        let got = longest_matches(&index, &q);
        for i in 0..q.len() {
            let want = (0..=q.len() - i).rev().find(|&k| texts.iter().any(|t| t.contains(&out[i..i + k]))).unwrap();
            prop_assert_eq!(got[i], want, "position {}", i);
        }
        let probe = &out[..out.len().min(2)];
        let res = index.documents_ids(&ids(probe), usize::MAX).unwrap();
        let got: BTreeSet<String> = res.documents.iter().map(|h| h.meta.id.clone()).collect();
        let want: BTreeSet<String> = texts.iter().enumerate().filter(|(_, t)| t.contains(probe)).map(|(i, _)| i.to_string()).collect();
        prop_assert_eq!(got, want);
        prop_assert!(res.complete);
        let total: u64 = res.documents.iter().map(|h| h.occurrences).sum();
        prop_assert_eq!(total, res.occurrences);
    }

    #[test]
    fn infinigram_ntd_equals_brute_force(docs in corpus(), ctx in "[abcd]{0,8}") {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<&str> = docs.iter().map(String::as_str).collect();
        let index = build(dir.path(), "i", texts.iter().enumerate().map(|(i, t)| doc(&i.to_string(), t)).collect(), 1 << 20);
        let arr = token_array(&texts);
        let c = ids(&ctx);
        // Brute force: the longest suffix followed by some token, and what follows it.
        let follow = |k: usize| -> BTreeMap<u16, u64> {
            let s = &c[c.len() - k..];
            let mut m = BTreeMap::new();
            for p in 0..arr.len() {
                if p + k < arr.len() && &arr[p..p + k] == s {
                    *m.entry(arr[p + k]).or_default() += 1;
                }
            }
            m
        };
        let k = (0..=c.len()).rev().find(|&k| !follow(k).is_empty()).unwrap();
        let ntd = index.infinigram_ntd(&c);
        prop_assert_eq!(ntd.suffix_len, k);
        prop_assert_eq!(ntd.counts, follow(k).into_iter().collect::<Vec<_>>());
    }
}
