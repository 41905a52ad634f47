//! Fills a log directory with generation records for the service's read-path load test
//! (`scripts/load-reads.sh`). Not a test and not part of the service.
//!
//! ```text
//! fill_log LOG_DIR RECORDS WATERMARK_KEY MODEL_DIR WORDS_FILE
//! fill_log --describe      what it writes: its version and the record and sketch
//!                          formats (the load script keys its cached log on this)
//! ```
//!
//! `LOG_DIR` is a log directory (`tracemark log init`). Records are appended, in
//! transactions of 10,000, until the log holds `RECORDS` entries (an interrupted run
//! resumes where it stopped), then one checkpoint is signed. Each record is what
//! `tracemark mark` writes for a text of the model `MODEL_DIR` (its name and weights'
//! hash), marked with `WATERMARK_KEY` (its key id and scheme): a random generation id,
//! the payload the marker derives from it (`mark::payload_for`, so payloads are shared
//! as in a real log), and the content hash and MinHash sketch of a text of 230 words
//! drawn from the words of `WORDS_FILE` with a Zipf law (so 5-word shingles rarely
//! repeat across records, as across real generations). Deterministic: record `n` is
//! the same in every run.

use std::{path::Path, sync::mpsc, time::Instant};

use tracemark::{
    core::{ContentHash, KeyId, Timestamp},
    ledger::{GenerationRecord, ModelRef, TextSketch, record::GENERATION_RECORD_V1},
    log::LogSite,
};

/// The version of the records this program makes: raise it when they change.
const VERSION: u32 = 1;
const BATCH: u64 = 10_000;
const WORDS_PER_TEXT: usize = 230;

/// SplitMix64: a small deterministic generator (record `n` draws from seed `n`).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The distinct words of a text, most frequent first, and the Zipf CDF over them.
fn vocabulary(text: &str) -> (Vec<String>, Vec<f64>) {
    let mut counts = std::collections::HashMap::<&str, u64>::new();
    for w in text.split_whitespace() {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        if !w.is_empty() && w.len() < 16 {
            *counts.entry(w).or_default() += 1;
        }
    }
    let mut words: Vec<(&str, u64)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    words.truncate(20_000);
    let mut cdf = Vec::with_capacity(words.len());
    let mut total = 0.0;
    for rank in 1..=words.len() {
        total += 1.0 / rank as f64;
        cdf.push(total);
    }
    cdf.iter_mut().for_each(|c| *c /= total);
    (words.into_iter().map(|(w, _)| w.to_owned()).collect(), cdf)
}

struct Template {
    key_id: KeyId,
    scheme: String,
    bits: u8,
    model: ModelRef,
    provider: String,
    words: Vec<String>,
    cdf: Vec<f64>,
}

impl Template {
    fn record(&self, n: u64) -> GenerationRecord {
        let mut rng = Rng(n ^ 0x7472_6163_656d_6172);
        let mut text = String::with_capacity(WORDS_PER_TEXT * 7);
        let mut sentence = 0;
        for i in 0..WORDS_PER_TEXT {
            let u = rng.unit();
            let w = &self.words[self
                .cdf
                .partition_point(|&c| c < u)
                .min(self.words.len() - 1)];
            if i > 0 {
                text.push(' ');
            }
            if sentence == 0 {
                let mut c = w.chars();
                if let Some(f) = c.next() {
                    text.extend(f.to_uppercase());
                    text.push_str(c.as_str());
                }
            } else {
                text.push_str(w);
            }
            sentence += 1;
            if sentence > 6 && rng.next().is_multiple_of(6) {
                text.push('.');
                sentence = 0;
            }
        }
        text.push('.');
        let generation_id = format!("{:016x}{:016x}", rng.next(), rng.next());
        let payload = tracemark::mark::payload_for(&generation_id, self.bits)
            .unwrap_or_else(|| tracemark::core::Payload::new(0, 1).expect("a payload"));
        let credential = ContentHash::of_bytes(format!("credential {generation_id}").as_bytes());
        GenerationRecord {
            format: GENERATION_RECORD_V1.into(),
            content_hash: ContentHash::of_bytes(text.as_bytes()),
            watermark_scheme: self.scheme.clone(),
            key_id: self.key_id.clone(),
            payload,
            model: self.model.clone(),
            provider: self.provider.clone(),
            credential_hash: Some(credential),
            // One generation every 2 s over the weeks before the benchmark.
            time: timestamp(1_790_000_000 + 2 * n as i64),
            generation_id,
            sketch: TextSketch::of_text(&text),
            media: None,
        }
    }
}

/// The RFC 3339 UTC time of Unix seconds (civil-from-days, H. Hinnant).
fn timestamp(secs: i64) -> Timestamp {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
    .parse()
    .expect("an RFC 3339 time")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--describe") {
        let sketch = serde_json::to_value(TextSketch::of_text("one two three four five"))?;
        println!(
            "fill_log v{VERSION} record {GENERATION_RECORD_V1} sketch {}",
            sketch["scheme"]
        );
        return Ok(());
    }
    let [_, log_dir, total, key, model, words] = &args[..] else {
        eprintln!("usage: fill_log LOG_DIR RECORDS WATERMARK_KEY MODEL_DIR WORDS_FILE");
        std::process::exit(2);
    };
    let total: u64 = total.parse()?;
    let key: serde_json::Value = serde_json::from_slice(&std::fs::read(key)?)?;
    let loaded = tracemark::lm::load(Path::new(model))?;
    let (words, cdf) = vocabulary(&std::fs::read_to_string(words)?);
    let template = Template {
        key_id: key["key_id"]
            .as_str()
            .ok_or("the key has no key_id")?
            .parse()?,
        scheme: key["scheme"]
            .as_str()
            .ok_or("the key has no scheme")?
            .to_owned(),
        bits: key["params"]["payload_bits"].as_u64().unwrap_or(0) as u8,
        model: ModelRef {
            id: loaded.name.clone(),
            version: format!("sha256:{}", &loaded.weights_hash.to_hex()[..16]),
            digest: None,
            release: None,
        },
        provider: "Tracemark load-test provider".into(),
        words,
        cdf,
    };
    let mut ledger = LogSite::in_dir(Path::new(log_dir))?.open()?;
    let start_size = ledger.size()?;
    eprintln!(
        "{log_dir}: {start_size} records; filling to {total} ({} words in the vocabulary)",
        template.words.len()
    );
    let started = Instant::now();
    let (tx, rx) = mpsc::sync_channel::<Vec<GenerationRecord>>(2);
    std::thread::scope(|s| -> Result<(), Box<dyn std::error::Error>> {
        // Records are made on another thread while the previous batch is appended.
        let template = &template;
        s.spawn(move || {
            let mut n = start_size;
            while n < total {
                let end = (n + BATCH).min(total);
                if tx
                    .send((n..end).map(|i| template.record(i)).collect())
                    .is_err()
                {
                    return;
                }
                n = end;
            }
        });
        let mut done = start_size;
        for batch in rx {
            tracemark::log::append(&mut ledger, &batch)?;
            done += batch.len() as u64;
            if done.is_multiple_of(100_000) || done == total {
                let secs = started.elapsed().as_secs_f64();
                eprintln!(
                    "{done} records ({:.0} records/s)",
                    (done - start_size) as f64 / secs
                );
            }
        }
        Ok(())
    })?;
    let checkpoint = ledger.checkpoint()?;
    eprintln!(
        "signed a checkpoint of {} entries; {:.1} s in all",
        checkpoint.checkpoint_unverified().size,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
