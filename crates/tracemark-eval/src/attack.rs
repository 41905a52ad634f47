//! Edits of a marked text: random substitutions and deletions.

use std::collections::HashSet;

use tracemark::lm::sampling::SeededRng;

/// An edit of a marked text: tokens, vocabulary size, randomness.
pub(crate) type Attack = fn(&[u32], usize, &mut SeededRng) -> Vec<u32>;

/// `positions` distinct indices below `n`, in random order (partial Fisher-Yates).
fn pick(n: usize, positions: usize, rng: &mut SeededRng) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    for i in 0..positions.min(n) {
        let j = i + (rng.next_u64() % (n - i) as u64) as usize;
        all.swap(i, j);
    }
    all.truncate(positions.min(n));
    all
}

/// Replaces `share` of the tokens, each by a different uniformly random token.
pub(crate) fn substitute(
    tokens: &[u32],
    share: f64,
    vocab: usize,
    rng: &mut SeededRng,
) -> Vec<u32> {
    let mut out = tokens.to_vec();
    for i in pick(
        tokens.len(),
        (share * tokens.len() as f64).round() as usize,
        rng,
    ) {
        let shift = 1 + rng.next_u64() % (vocab as u64 - 1).max(1);
        out[i] = ((u64::from(out[i]) + shift) % vocab as u64) as u32;
    }
    out
}

/// Deletes `share` of the tokens.
pub(crate) fn delete(tokens: &[u32], share: f64, rng: &mut SeededRng) -> Vec<u32> {
    let gone: HashSet<usize> = pick(
        tokens.len(),
        (share * tokens.len() as f64).round() as usize,
        rng,
    )
    .into_iter()
    .collect();
    (0..tokens.len())
        .filter(|i| !gone.contains(i))
        .map(|i| tokens[i])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attacks_change_exactly_their_share() {
        let tokens: Vec<u32> = (0..200).collect();
        let mut rng = SeededRng::new(3);
        let sub = substitute(&tokens, 0.3, 512, &mut rng);
        assert_eq!(sub.len(), 200);
        assert_eq!(sub.iter().zip(&tokens).filter(|(a, b)| a != b).count(), 60);
        assert!(sub.iter().all(|&t| t < 512));
        let del = delete(&tokens, 0.1, &mut rng);
        assert_eq!(del.len(), 180);
        assert!(del.windows(2).all(|w| w[0] < w[1]), "order is kept");
    }
}
