//! Side-by-side measurement with infini-gram on the same token file
//! (`infinigram_anchor.py`, a script of the comparison tools that is not part of this
//! repository, makes the corpus; `scripts/anchor.sh` runs the whole comparison,
//! `scripts/infinigram_side.py` the infini-gram half). No test needs it.
//!
//! ```text
//! anchor build TOKENS.u16 OUT_DIR            build; JSON: seconds, phases, bytes per token, peak RSS
//! anchor export OUT_DIR IG_DIR               write the index in infini-gram's format (same tokens, same suffix array)
//! anchor count OUT_DIR QUERIES.jsonl OUT     counts (JSON array) + latency of warm passes
//! anchor windows TOKENS.u16 N K OUT.jsonl    K windows of N tokens from the corpus, one edit every 40 tokens
//! anchor trace OUT_DIR WINDOWS.jsonl OUT     longest match at every position (written to OUT) + full trace, timed
//! ```

use std::{path::Path, sync::Arc, time::Instant};

use tracemark_trace::{
    BuildOptions, ByteTokenizer, Index, build_from_token_file, trace::longest_matches,
};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((p / 100.0) * (v.len() - 1) as f64).round() as usize]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("build") => {
            let t = Instant::now();
            let s = build_from_token_file(
                Path::new(&args[3]),
                Path::new(&args[2]),
                &ByteTokenizer,
                BuildOptions::default(),
            )?;
            let secs = t.elapsed().as_secs_f64();
            let index = Index::open(Path::new(&args[3]), Arc::new(ByteTokenizer))?;
            let core: u64 = index
                .shards()
                .iter()
                .map(|s| {
                    let f = &s.manifest().files;
                    f["tokens.u16"].bytes + f["table.sa"].bytes + f["docs.u64"].bytes
                })
                .sum();
            println!(
                "{}",
                serde_json::json!({
                    "build_seconds": secs, "phases": s.timings, "tokens": s.tokens, "documents": s.documents, "shards": s.shards,
                    "bytes_on_disk": s.bytes_on_disk,
                    "bytes_per_token_all_files": s.bytes_on_disk as f64 / s.tokens as f64,
                    "bytes_per_token_tokens_sa_offsets": core as f64 / s.tokens as f64,
                    "peak_rss_mib": peak_rss_mib(),
                })
            );
        }
        Some("count") => {
            let index = Index::open(Path::new(&args[2]), Arc::new(ByteTokenizer))?;
            let queries: Vec<Vec<u16>> = std::fs::read_to_string(&args[3])?
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    let ids = if v.is_array() { v } else { v["ids"].clone() };
                    ids.as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_u64().unwrap() as u16)
                        .collect()
                })
                .collect();
            let counts: Vec<u64> = queries.iter().map(|q| index.count_ids(q)).collect();
            let mut us = Vec::new();
            for _ in 0..3 {
                us.clear();
                for q in &queries {
                    let t = Instant::now();
                    std::hint::black_box(index.count_ids(std::hint::black_box(q)));
                    us.push(t.elapsed().as_secs_f64() * 1e6);
                }
            }
            std::fs::write(&args[4], serde_json::to_string(&counts)?)?;
            println!(
                "{}",
                serde_json::json!({
                    "queries": queries.len(), "p50_us": pct(&mut us, 50.0), "p90_us": pct(&mut us, 90.0),
                    "p99_us": pct(&mut us, 99.0), "mean_us": us.iter().sum::<f64>() / us.len() as f64,
                })
            );
        }
        Some("export") => {
            let index = Index::open(Path::new(&args[2]), Arc::new(ByteTokenizer))?;
            let t = Instant::now();
            let s = tracemark_trace::infinigram::export(&index, Path::new(&args[3]))?;
            println!(
                "{}",
                serde_json::json!({"export_seconds": t.elapsed().as_secs_f64(), "summary": s})
            );
        }
        Some("windows") => {
            let bytes = std::fs::read(&args[2])?;
            let toks: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            let n: usize = args[3].parse()?;
            let k: usize = args[4].parse()?;
            let mut out = String::new();
            let mut state = 12345u64;
            let mut made = 0;
            while made < k {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let p = (state >> 11) as usize % (toks.len() - n);
                let mut w = toks[p..p + n].to_vec();
                if w.contains(&tracemark_trace::SEP) {
                    continue;
                }
                for i in (0..n).step_by(40) {
                    w[i] = w[(i * 7 + 3) % n];
                } // one edit every 40 tokens
                out.push_str(&serde_json::json!({"ids": w, "from": p}).to_string());
                out.push('\n');
                made += 1;
            }
            std::fs::write(&args[5], out)?;
        }
        Some("trace") => {
            let index = Index::open(Path::new(&args[2]), Arc::new(ByteTokenizer))?;
            let windows: Vec<Vec<u16>> = std::fs::read_to_string(&args[3])?
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    v["ids"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_u64().unwrap() as u16)
                        .collect()
                })
                .collect();
            let (mut ms, mut full, mut spans) = (Vec::new(), Vec::new(), 0usize);
            let mut lengths = Vec::new();
            for _pass in 0..2 {
                // the first pass warms the page cache; the second is reported
                ms.clear();
                full.clear();
                lengths.clear();
                spans = 0;
                for w in &windows {
                    let t = Instant::now();
                    let l = std::hint::black_box(longest_matches(&index, w));
                    ms.push(t.elapsed().as_secs_f64() * 1e3);
                    lengths.push(l);
                    // The full trace (spans, documents, rights) of the same window as text.
                    let text = String::from_utf8_lossy(
                        &w.iter().map(|&t| (t - 1) as u8).collect::<Vec<u8>>(),
                    )
                    .into_owned();
                    let t = Instant::now();
                    let r = tracemark_trace::trace(
                        &index,
                        &text,
                        &tracemark_trace::TraceOptions::default(),
                    )?;
                    full.push(t.elapsed().as_secs_f64() * 1e3);
                    spans += r.spans.len();
                }
            }
            std::fs::write(&args[4], serde_json::to_string(&lengths)?)?;
            println!(
                "{}",
                serde_json::json!({"windows": ms.len(), "tokens": windows.first().map_or(0, Vec::len),
                    "longest_match_p50_ms": pct(&mut ms, 50.0), "longest_match_max_ms": pct(&mut ms, 100.0),
                    "full_trace_p50_ms": pct(&mut full, 50.0), "full_trace_max_ms": pct(&mut full, 100.0),
                    "spans_kept": spans})
            );
        }
        _ => eprintln!("usage: see the module doc"),
    }
    Ok(())
}
