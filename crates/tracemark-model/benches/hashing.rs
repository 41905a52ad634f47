//! Hashing throughput (GB/s, 10^9 bytes a second) of OMS serialisation: a multi-file
//! model directory and one large file, SHA-256 by files and by shards, BLAKE3 by files,
//! side by side with `model_signing` (scripts/bench_model_signing.py, run with
//! `TRACEMARK_PYTHON` when it is set) on the same files, page cache warm for both.
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
    let gib: u64 = std::env::var("TRACEMARK_BENCH_GIB").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let total = gib << 30;
    let base = std::env::var_os("TRACEMARK_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let tmp = tempfile::tempdir_in(base).unwrap();
    let many = tmp.path().join("many-files");
    let large = tmp.path().join("one-large-file");
    std::fs::create_dir(&many).unwrap();
    std::fs::create_dir(&large).unwrap();
    let files = 32u64;
    for i in 0..files {
        write_file(&many.join(format!("shard-{i:02}.safetensors")), total / files, i + 1);
    }
    write_file(&large.join("model.safetensors"), total, 99);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("hashing {gib} GiB a data set on {cores} cores, best of {RUNS} warm runs (GB/s = 10^9 bytes/s)");
    println!("{:<16} {:<34} {:>10}", "data", "method", "tracemark");

    let sha_files = HashOptions::default();
    let sha_shards = HashOptions {
        method: Method::Shards { shard_size: 1_000_000_000 },
        ..HashOptions::default()
    };
    let sha_small_shards = HashOptions {
        method: Method::Shards { shard_size: 64 << 20 },
        ..HashOptions::default()
    };
    let blake3 = HashOptions {
        hash: HashType::Blake3,
        ..HashOptions::default()
    };
    let cases: [(&str, &Path, &str, &HashOptions); 7] = [
        ("32 files", &many, "files sha256", &sha_files),
        ("32 files", &many, "shards sha256 (1 GB)", &sha_shards),
        ("32 files", &many, "files blake3", &blake3),
        ("1 file", &large, "files sha256", &sha_files),
        ("1 file", &large, "shards sha256 (1 GB)", &sha_shards),
        ("1 file", &large, "shards sha256 (64 MiB)", &sha_small_shards),
        ("1 file", &large, "files blake3", &blake3),
    ];
    for (data, path, method, options) in cases {
        let t = time(path, options);
        println!("{data:<16} {method:<34} {:>10.2}", total as f64 / t.as_secs_f64() / 1e9);
    }

    match std::env::var("TRACEMARK_PYTHON") {
        Ok(python) if !python.is_empty() => {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench_model_signing.py");
            println!("\nmodel_signing on the same files ({python}):");
            let status = Command::new(&python)
                .arg(script)
                .arg(&many)
                .arg(&large)
                .arg(RUNS.to_string())
                .status()
                .unwrap();
            assert!(status.success(), "the model_signing benchmark failed");
        }
        _ => println!("\n(set TRACEMARK_PYTHON to a Python with model-signing to compare)"),
    }
}
