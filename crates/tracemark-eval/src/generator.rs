//! The model that generates the texts: its prompts, long texts as concatenated
//! generations, perplexity and diversity, and clocks for the model's and the
//! watermark's time.

use std::{
    collections::HashSet,
    path::Path,
    time::{Duration, Instant},
};

use tracemark::{
    Error, Result,
    core::Payload,
    lm::{
        LoadedModel,
        sampling::{self, SamplingParams},
    },
    watermark::{
        WatermarkError,
        watermarker::{Decision, Unmarked, WatermarkSampler, Watermarker},
    },
};

use crate::CHUNK;

const DIVERSITY_GENERATIONS: u64 = 20;
const DIVERSITY_TOKENS: usize = 100;

/// Story openings in the model's domain; sample `i` starts from prompt `i mod 12`.
const PROMPTS: [&str; 12] = [
    "Once upon a time",
    "One day, a little girl named Lily",
    "Tom and his dog went to the park",
    "There was a big red ball",
    "The sun was shining and the birds",
    "Sara wanted to bake a cake",
    "A small cat lived in a house",
    "Ben found a shiny stone",
    "It was a rainy day and Mia",
    "The old tree in the garden",
    "Max liked to play with his truck",
    "Once there was a happy frog",
];

/// The model, its prompts, and clocks for the model's and the watermark's time.
pub(crate) struct Generator {
    loaded: LoadedModel,
    pub(crate) name: String,
    pub(crate) vocab: usize,
    prompts: Vec<Vec<u32>>,
    pub(crate) model_time: Duration,
    pub(crate) mark_time: Duration,
    pub(crate) steps: u64,
}

type Marking<'a> = Option<(&'a Watermarker, Option<Payload>)>;

impl Generator {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let loaded = tracemark::lm::load(path)?;
        let tokenizer = loaded.tokenizer.as_ref();
        let prompts = PROMPTS
            .iter()
            .map(|p| {
                let mut ids: Vec<u32> = tokenizer.bos().into_iter().collect();
                ids.extend(tokenizer.encode(p)?.into_iter().map(|(id, _)| id));
                Ok(ids)
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            name: loaded.name.clone(),
            vocab: tokenizer.vocab_size(),
            loaded,
            prompts,
            model_time: Duration::ZERO,
            mark_time: Duration::ZERO,
            steps: 0,
        })
    }

    pub(crate) fn reset_clocks(&mut self) {
        self.model_time = Duration::ZERO;
        self.mark_time = Duration::ZERO;
        self.steps = 0;
    }

    fn prompt(&self, sample: u64, chunk: u64) -> &[u32] {
        &self.prompts[((sample + chunk) % self.prompts.len() as u64) as usize]
    }

    /// `len` tokens of sample `sample`: generations of at most [`CHUNK`] tokens, each from
    /// its own prompt, concatenated.
    pub(crate) fn text(
        &mut self,
        marking: Marking<'_>,
        sample: u64,
        len: usize,
    ) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(len);
        for chunk in 0.. {
            if out.len() >= len {
                break;
            }
            let want = (len - out.len()).min(CHUNK);
            let generated = self.generate(marking, sample, chunk, want)?;
            if generated.is_empty() {
                return Err(Error::usage(
                    format!("{} generates nothing after its prompts", self.name),
                    Some("evaluate a model whose context is longer than a sentence".into()),
                ));
            }
            out.extend(generated);
        }
        Ok(out)
    }

    fn generate(
        &mut self,
        marking: Marking<'_>,
        sample: u64,
        chunk: u64,
        tokens: usize,
    ) -> Result<Vec<u32>> {
        let prompt = self.prompt(sample, chunk).to_vec();
        let params = SamplingParams {
            seed: sample * 1_000 + chunk,
            max_tokens: tokens,
            ..SamplingParams::default()
        };
        let mut unmarked = Unmarked;
        let mut generation;
        let inner: &mut dyn WatermarkSampler = match marking {
            None => &mut unmarked,
            Some((wm, payload)) => {
                generation = wm.start(&prompt, payload)?;
                &mut generation
            }
        };
        let mut timed = Timed {
            inner,
            spent: Duration::ZERO,
        };
        let started = Instant::now();
        let out = sampling::generate(
            self.loaded.model.as_mut(),
            &prompt,
            &params,
            &mut timed,
            |_| {},
        )?;
        self.model_time += started.elapsed().saturating_sub(timed.spent);
        self.mark_time += timed.spent;
        self.steps += out.len() as u64;
        Ok(out)
    }

    /// Perplexity under the model itself of single-generation texts (sample `i` was
    /// generated after prompt `i`).
    pub(crate) fn perplexity(&mut self, texts: &[&[u32]]) -> Result<f64> {
        let (mut nll, mut count) = (0.0, 0usize);
        for (sample, text) in texts.iter().enumerate() {
            let mut context = self.prompt(sample as u64, 0).to_vec();
            for &token in text.iter().take(CHUNK) {
                let logits = self.loaded.model.next_token_logits(&context)?;
                nll -= log_softmax_at(&logits, token as usize);
                count += 1;
                context.push(token);
            }
        }
        Ok((nll / count.max(1) as f64).exp())
    }

    /// Distinct 4-grams over all 4-grams of 20 generations from the first prompt.
    pub(crate) fn diversity(&mut self, wm: Option<&Watermarker>) -> Result<f64> {
        let mut grams = HashSet::new();
        let mut total = 0usize;
        for seed in 0..DIVERSITY_GENERATIONS {
            let marking = wm.map(|w| (w, None));
            // Sample numbers that are multiples of the prompt count keep the first prompt.
            let sample = seed * self.prompts.len() as u64;
            let text = self.generate(marking, sample, 0, DIVERSITY_TOKENS)?;
            for gram in text.windows(4) {
                grams.insert(gram.to_vec());
                total += 1;
            }
        }
        Ok(grams.len() as f64 / total.max(1) as f64)
    }
}

/// A watermark sampler that keeps the time spent in it.
struct Timed<'a> {
    inner: &'a mut dyn WatermarkSampler,
    spent: Duration,
}

impl WatermarkSampler for Timed<'_> {
    fn step(&mut self, logits: &mut [f32]) -> std::result::Result<Decision, WatermarkError> {
        let started = Instant::now();
        let decision = self.inner.step(logits);
        self.spent += started.elapsed();
        decision
    }

    fn accept(&mut self, token: u32) -> std::result::Result<(), WatermarkError> {
        let started = Instant::now();
        let accepted = self.inner.accept(token);
        self.spent += started.elapsed();
        accepted
    }
}

fn log_softmax_at(logits: &[f32], index: usize) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    logits[index] as f64 - max - sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_softmax_is_normalised() {
        let logits = [1.0f32, 2.0, 3.0];
        let total: f64 = (0..3).map(|i| log_softmax_at(&logits, i).exp()).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }
}
