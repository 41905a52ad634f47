//! Detection throughput (tokens/s, one core, on token ids) per scheme, and the per-step
//! generation overhead each scheme adds, at vocabularies of 32000 and 512.
//!
//! `cargo bench -p tracemark-watermark --bench watermark`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand_core::{CryptoRng, RngCore};
use tracemark_watermark::{DetectOptions, SchemeId, WatermarkKey, WatermarkSampler, Watermarker};

/// SplitMix64, deterministic inputs for repeatable benchmarks.
struct BenchRng(u64);

impl RngCore for BenchRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes()[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for BenchRng {}

fn detection(c: &mut Criterion) {
    const TOKENS: usize = 100_000;
    let mut group = c.benchmark_group("detect");
    group.throughput(Throughput::Elements(TOKENS as u64));
    group.sample_size(10);
    for vocab in [32_000usize, 512] {
        let mut rng = BenchRng(1);
        let tokens: Vec<u32> = (0..TOKENS)
            .map(|_| (rng.next_u64() % vocab as u64) as u32)
            .collect();
        for scheme in SchemeId::ALL {
            let key = WatermarkKey::generate(scheme, &mut BenchRng(2));
            let wm = Watermarker::new(&key, vocab).unwrap();
            let opts = DetectOptions::new(1e-3);
            group.bench_with_input(BenchmarkId::new(scheme.as_str(), vocab), &tokens, |b, t| {
                b.iter(|| black_box(wm.detect(t, &opts).unwrap()))
            });
        }
    }
    group.finish();
}

fn generation_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    for vocab in [32_000usize, 512] {
        let mut rng = BenchRng(3);
        let logits: Vec<f32> = (0..vocab)
            .map(|_| (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32 * 8.0)
            .collect();
        for scheme in SchemeId::ALL {
            let key = WatermarkKey::generate(scheme, &mut BenchRng(4));
            let wm = Watermarker::new(&key, vocab).unwrap();
            let prompt: Vec<u32> = (1..=8).collect();
            let mut marker = wm.start(&prompt, None).unwrap();
            // Past Gumbel's unmarked prefix.
            for t in 10..20 {
                marker.accept(t).unwrap();
            }
            let mut picks = BenchRng(5);
            group.bench_function(BenchmarkId::new(scheme.as_str(), vocab), |b| {
                b.iter(|| {
                    let mut l = logits.clone();
                    let d = marker.step(&mut l).unwrap();
                    // A new context every step, as in real generation.
                    let next = picks.next_u64() % vocab as u64;
                    marker.accept(next as u32).unwrap();
                    black_box(d)
                })
            });
        }
        group.bench_function(BenchmarkId::new("copy-logits-baseline", vocab), |b| {
            b.iter(|| black_box(logits.clone()))
        });
    }
    group.finish();
}

criterion_group!(benches, detection, generation_step);
criterion_main!(benches);
