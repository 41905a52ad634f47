//! Hashing throughput (GB/s, 10^9 bytes a second) of OMS serialisation: a multi-file
//! model directory and one large file, SHA-256 by files and by shards, BLAKE3 by files,
//! side by side with `model_signing` (scripts/bench_model_signing.py, run with
//! `TRACEMARK_PYTHON` when it is set, case by case right after ours) on the same files,
//! page cache warm for both.
//!
//!   cargo bench -p tracemark-model --bench hashing
//!
//! `TRACEMARK_BENCH_GIB` sets each data set's size (default 1); the data is written
//! under `TRACEMARK_BENCH_DIR` (default the temporary folder) and removed after.

use std::{
    io::Write,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use tracemark_model::{HashOptions, HashType, Manifest, Method};

const RUNS: usize = 3;

fn write_file(path: &Path, bytes: u64, seed: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    // Incompressible-looking bytes from a fast generator (xorshift).
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        for chunk in buf.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        let n = left.min(buf.len() as u64) as usize;
        f.write_all(&buf[..n]).unwrap();
        left -= n as u64;
    }
    f.flush().unwrap();
}

/// The best of `RUNS` timings of hashing `model`, after one warming run.
fn time(model: &Path, options: &HashOptions) -> Duration {
    Manifest::of_model(model, options).unwrap();
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(Manifest::of_model(model, options).unwrap());
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn main() {
    let gib: u64 = std::env::var("TRACEMARK_BENCH_GIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let total = gib << 30;
    let base = std::env::var_os("TRACEMARK_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let tmp = tempfile::tempdir_in(base).unwrap();
    let many = tmp.path().join("many-files");
    let large = tmp.path().join("one-large-file");
    std::fs::create_dir(&many).unwrap();
    std::fs::create_dir(&large).unwrap();
    let files = 32u64;
    for i in 0..files {
        write_file(
            &many.join(format!("shard-{i:02}.safetensors")),
            total / files,
            i + 1,
        );
    }
    write_file(&large.join("model.safetensors"), total, 99);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "hashing {gib} GiB a data set on {cores} cores, best of {RUNS} warm runs (GB/s = 10^9 bytes/s)"
    );
    let python = std::env::var("TRACEMARK_PYTHON")
        .ok()
        .filter(|p| !p.is_empty());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench_model_signing.py");
    println!(
        "{:<10} {:<24} {:>10} {:>14}",
        "data", "method", "tracemark", "model_signing"
    );

    let sha_files = HashOptions::default();
    let sha_shards = HashOptions {
        method: Method::Shards {
            shard_size: 1_000_000_000,
        },
        ..HashOptions::default()
    };
    let sha_small_shards = HashOptions {
        method: Method::Shards {
            shard_size: 64 << 20,
        },
        ..HashOptions::default()
    };
    let blake3 = HashOptions {
        hash: HashType::Blake3,
        ..HashOptions::default()
    };
    let cases: [(&str, &Path, &str, &HashOptions); 7] = [
        ("32 files", &many, "files-sha256", &sha_files),
        ("32 files", &many, "shards-sha256-1GB", &sha_shards),
        ("32 files", &many, "files-blake3", &blake3),
        ("1 file", &large, "files-sha256", &sha_files),
        ("1 file", &large, "shards-sha256-1GB", &sha_shards),
        ("1 file", &large, "shards-sha256-64MiB", &sha_small_shards),
        ("1 file", &large, "files-blake3", &blake3),
    ];
    for (data, path, method, options) in cases {
        // Each case is timed here, then by model_signing right after: both see the same
        // machine load.
        let t = time(path, options);
        let ours = format!("{:.2}", total as f64 / t.as_secs_f64() / 1e9);
        let theirs = match &python {
            Some(python) => {
                let out = Command::new(python)
                    .arg(&script)
                    .arg(path)
                    .arg(method)
                    .arg(RUNS.to_string())
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                String::from_utf8_lossy(&out.stdout).trim().to_owned()
            }
            None => "-".to_owned(),
        };
        println!("{data:<10} {method:<24} {ours:>10} {theirs:>14}");
    }
    if python.is_none() {
        println!("(set TRACEMARK_PYTHON to a Python with model-signing to compare)");
    }
}
