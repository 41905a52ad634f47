//! The bookkeeping every KV-cached backend shares: which tokens its cache holds.
//!
//! [`crate::LanguageModel`] takes the whole context each call; a backend keeps the keys and
//! values of the tokens it has seen, so a context that extends them costs only the new
//! tokens, and any other context starts from a fresh cache.

use crate::{LmError, TokenId};

#[derive(Debug, Clone)]
pub(crate) struct CachedContext<C> {
    fresh: C,
    cache: C,
    seen: Vec<TokenId>,
    last_logits: Vec<f32>,
}

impl<C: Clone> CachedContext<C> {
    pub fn new(cache: C) -> Self {
        Self {
            fresh: cache.clone(),
            cache,
            seen: Vec::new(),
            last_logits: Vec::new(),
        }
    }

    /// Checks `context` and returns the logits after it. `forward(new, position, cache)`
    /// runs the model on the tokens the cache lacks, starting at `position`, and returns
    /// the logits after the last of them.
    pub fn next(
        &mut self,
        context: &[TokenId],
        vocab_size: usize,
        max_context: usize,
        forward: impl FnOnce(&[TokenId], usize, &mut C) -> Result<Vec<f32>, LmError>,
    ) -> Result<Vec<f32>, LmError> {
        if let Some(&token) = context.iter().find(|&&t| t as usize >= vocab_size) {
            return Err(LmError::TokenOutOfRange { token, vocab_size });
        }
        if context.len() > max_context {
            return Err(LmError::ContextTooLong {
                len: context.len(),
                max: max_context,
            });
        }
        if context.is_empty() {
            return Err(LmError::Compute(
                "an empty context has no next token; start with BOS".into(),
            ));
        }
        if context == self.seen.as_slice() {
            return Ok(self.last_logits.clone());
        }
        if !context.starts_with(&self.seen) {
            self.cache = self.fresh.clone();
            self.seen.clear();
        }
        let new = &context[self.seen.len()..];
        let logits = forward(new, self.seen.len(), &mut self.cache)?;
        self.seen.extend_from_slice(new);
        self.last_logits.clone_from(&logits);
        Ok(logits)
    }
}
