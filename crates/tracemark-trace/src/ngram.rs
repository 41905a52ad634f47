//! The corpus as a smoothed n-gram language model: interpolated Kneser-Ney (Kneser &
//! Ney 1995; Chen & Goodman 1998, §3) over the index's tokens.
//!
//! Why not the ∞-gram distribution: on a small corpus the longest matching suffix almost
//! always has one continuation, so sampling is nearly deterministic and a watermark has
//! no entropy to work with. Kneser-Ney interpolates every order down to a uniform
//! distribution over the corpus's token types, which keeps probability on plausible
//! alternatives. [`NgramModel::mean_entropy_bits`] reports how much.
//!
//! Counts: the highest order uses raw counts `c(h w)`; each lower order uses
//! continuation counts `N1+(• h w)` (the number of distinct tokens seen before `h w`).
//! Each order has one absolute discount `D = n1 / (n1 + 2 n2)` (Ney et al. 1994), from
//! the numbers of n-grams with count 1 and 2 at that order, clamped to [0.1, 0.9].
//! N-grams never span documents. Counting keeps every n-gram in memory, so the model is
//! meant for corpora of up to tens of millions of tokens (the demo corpus is far smaller).

use std::collections::HashMap;

use crate::{TraceError, index::Index};

/// Log-probability given to ids the corpus never contains (finite, so that logit
/// arithmetic in watermark schemes stays NaN-free).
const UNSEEN_LOGIT: f32 = -1.0e4;

#[derive(Debug, Default, Clone)]
struct Context {
    total: u64,
    next: Vec<(u16, u64)>,
}

/// An interpolated Kneser-Ney model of order `order`.
#[derive(Debug, Clone)]
pub struct NgramModel {
    order: usize,
    vocab_size: usize,
    /// `tables[m - 1]`: contexts of length `m - 1` at order `m`.
    tables: Vec<HashMap<Vec<u16>, Context>>,
    discounts: Vec<f64>,
    /// The token types of the corpus (the support of the uniform base distribution).
    seen: Vec<u16>,
}

impl NgramModel {
    /// Counts every document of `index`.
    pub fn from_index(index: &Index, order: usize) -> Result<Self, TraceError> {
        let docs = index
            .shards()
            .iter()
            .flat_map(|s| (0..s.documents()).map(move |d| s.doc_tokens(d)));
        Self::from_documents(docs, order, index.tokenizer().vocab_size())
    }

    /// Counts token documents; ids must be below `vocab_size`.
    pub fn from_documents<'a>(
        docs: impl Iterator<Item = &'a [u16]>,
        order: usize,
        vocab_size: usize,
    ) -> Result<Self, TraceError> {
        if !(1..=12).contains(&order) {
            return Err(TraceError::Parameter(format!(
                "n-gram order {order} is not in 1..=12"
            )));
        }
        let mut raw: Vec<HashMap<Vec<u16>, u64>> = vec![HashMap::new(); order];
        for doc in docs {
            if let Some(&t) = doc.iter().find(|&&t| t as usize >= vocab_size) {
                return Err(TraceError::TokenTooLarge { token: t.into() });
            }
            for m in 1..=order {
                for gram in doc.windows(m) {
                    *raw[m - 1].entry(gram.to_vec()).or_default() += 1;
                }
            }
        }
        let mut seen: Vec<u16> = raw[0].keys().map(|g| g[0]).collect();
        seen.sort_unstable();
        let mut counts: Vec<HashMap<Vec<u16>, u64>> = Vec::with_capacity(order);
        for higher in &raw[1..] {
            let mut cont: HashMap<Vec<u16>, u64> = HashMap::new();
            for gram in higher.keys() {
                *cont.entry(gram[1..].to_vec()).or_default() += 1;
            }
            counts.push(cont);
        }
        counts.push(std::mem::take(&mut raw[order - 1]));
        let discounts = counts.iter().map(discount).collect();
        let tables = counts.into_iter().map(contexts).collect();
        Ok(Self {
            order,
            vocab_size,
            tables,
            discounts,
            seen,
        })
    }

    pub fn order(&self) -> usize {
        self.order
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// The distribution of the next token after `context`.
    pub fn probabilities(&self, context: &[u16]) -> Vec<f64> {
        let mut p = vec![0.0; self.vocab_size];
        if self.seen.is_empty() {
            return p;
        }
        for &t in &self.seen {
            p[t as usize] = 1.0 / self.seen.len() as f64;
        }
        for m in 1..=self.order {
            if context.len() < m - 1 {
                break;
            }
            let h = &context[context.len() - (m - 1)..];
            let Some(ctx) = self.tables[m - 1].get(h) else {
                continue;
            };
            let d = self.discounts[m - 1];
            let total = ctx.total as f64;
            let backoff = d * ctx.next.len() as f64 / total;
            for x in p.iter_mut() {
                *x *= backoff;
            }
            for &(w, c) in &ctx.next {
                p[w as usize] += (c as f64 - d).max(0.0) / total;
            }
        }
        p
    }

    /// Natural-log probabilities as logits (ids the corpus never has get a large
    /// negative logit).
    pub fn next_token_logits(&mut self, context: &[u32]) -> Vec<f32> {
        let ctx: Vec<u16> = context
            .iter()
            .map(|&t| u16::try_from(t).unwrap_or(u16::MAX))
            .collect();
        self.probabilities(&ctx)
            .into_iter()
            .map(|p| if p > 0.0 { p.ln() as f32 } else { UNSEEN_LOGIT })
            .collect()
    }

    /// The mean entropy (bits) of the next-token distribution over every position of
    /// `tokens`, each conditioned on what precedes it.
    pub fn mean_entropy_bits(&self, tokens: &[u16]) -> f64 {
        if tokens.is_empty() {
            return 0.0;
        }
        let total: f64 = (0..tokens.len())
            .map(|i| entropy_bits(&self.probabilities(&tokens[..i])))
            .sum();
        total / tokens.len() as f64
    }
}

/// Shannon entropy in bits.
pub fn entropy_bits(p: &[f64]) -> f64 {
    p.iter().filter(|&&x| x > 0.0).map(|&x| -x * x.log2()).sum()
}

/// Ney's absolute discount from the count-of-counts.
fn discount(counts: &HashMap<Vec<u16>, u64>) -> f64 {
    let n1 = counts.values().filter(|&&c| c == 1).count() as f64;
    let n2 = counts.values().filter(|&&c| c == 2).count() as f64;
    if n1 + n2 == 0.0 {
        return 0.5;
    }
    (n1 / (n1 + 2.0 * n2)).clamp(0.1, 0.9)
}

/// Groups n-gram counts by their context.
fn contexts(counts: HashMap<Vec<u16>, u64>) -> HashMap<Vec<u16>, Context> {
    let mut out: HashMap<Vec<u16>, Context> = HashMap::new();
    for (gram, c) in counts {
        let (h, w) = gram.split_at(gram.len() - 1);
        let ctx = out.entry(h.to_vec()).or_default();
        ctx.total += c;
        ctx.next.push((w[0], c));
    }
    for ctx in out.values_mut() {
        ctx.next.sort_unstable();
    }
    out
}

#[cfg(feature = "lm")]
impl tracemark_lm::LanguageModel for NgramModel {
    fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    fn max_context(&self) -> usize {
        usize::MAX
    }

    fn next_token_logits(&mut self, context: &[u32]) -> Result<Vec<f32>, tracemark_lm::LmError> {
        if let Some(&t) = context.iter().find(|&&t| t as usize >= self.vocab_size) {
            return Err(tracemark_lm::LmError::TokenOutOfRange {
                token: t,
                vocab_size: self.vocab_size,
            });
        }
        Ok(NgramModel::next_token_logits(self, context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(docs: &[&[u16]], order: usize) -> NgramModel {
        NgramModel::from_documents(docs.iter().copied(), order, 8).unwrap()
    }

    #[test]
    fn probabilities_sum_to_one_in_every_context() {
        let m = model(&[&[1, 2, 3, 1, 2, 4, 1, 2, 3], &[3, 3, 2]], 3);
        for ctx in [&[][..], &[1], &[1, 2], &[2, 2], &[7, 7], &[5]] {
            let p = m.probabilities(ctx);
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{ctx:?}");
            assert_eq!(p[0], 0.0, "never-seen ids have no mass");
        }
    }

    #[test]
    fn frequent_continuations_win_but_alternatives_keep_mass() {
        let m = model(&[&[1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 4]], 3);
        let p = m.probabilities(&[1, 2]);
        assert!(p[3] > p[4] && p[4] > 0.0);
        assert!(p[1] > 0.0, "backoff gives unseen continuations mass");
        assert!(m.mean_entropy_bits(&[1, 2, 3, 1, 2, 3]) > 0.3);
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert!(NgramModel::from_documents([&[1u16][..]].into_iter(), 0, 8).is_err());
        assert!(NgramModel::from_documents([&[9u16][..]].into_iter(), 2, 8).is_err());
    }
}
