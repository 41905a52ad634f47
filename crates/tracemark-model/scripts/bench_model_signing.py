"""model_signing's hashing throughput on a directory the Rust benchmark wrote.

    python bench_model_signing.py MODEL_DIR METHOD [RUNS]

METHOD is one of benches/hashing.rs's: `files-sha256`, `shards-sha256-1GB`,
`shards-sha256-64MiB`, `files-blake3`. Prints GB/s (10^9 bytes a second), the best of
RUNS warm runs of model_signing.hashing.Config (its default thread pool). The Rust
benchmark calls it for each case right after timing its own, so both see the same load.
"""

import pathlib
import sys
import time

from model_signing import hashing

METHODS = {
    "files-sha256": lambda: hashing.Config().use_file_serialization(),
    "shards-sha256-1GB": lambda: hashing.Config().use_shard_serialization(shard_size=1_000_000_000),
    "shards-sha256-64MiB": lambda: hashing.Config().use_shard_serialization(shard_size=64 << 20),
    "files-blake3": lambda: hashing.Config().use_file_serialization(hashing_algorithm="blake3"),
}


def main() -> None:
    path, method = pathlib.Path(sys.argv[1]), sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    config = METHODS[method]()
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    config.hash(path)  # warm
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        config.hash(path)
        best = min(best, time.perf_counter() - t)
    print(f"{size / best / 1e9:.2f}")


if __name__ == "__main__":
    main()
