"""model_signing's hashing throughput on the directories the Rust benchmark wrote.

    python bench_model_signing.py MANY_FILES_DIR ONE_LARGE_FILE_DIR [RUNS]

Prints GB/s (10^9 bytes a second), best of RUNS warm runs, for the same methods as
benches/hashing.rs: model_signing.hashing.Config with files and shards (SHA-256, its
default thread pool) and BLAKE3.
"""

import pathlib
import sys
import time

from model_signing import hashing


def size(path: pathlib.Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def best(path: pathlib.Path, config, runs: int) -> float:
    config.hash(path)  # warm
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        config.hash(path)
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    many, large = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    cases = [
        ("32 files", many, "files sha256", lambda: hashing.Config().use_file_serialization()),
        ("32 files", many, "shards sha256 (1 GB)", lambda: hashing.Config().use_shard_serialization(shard_size=1_000_000_000)),
        ("32 files", many, "files blake3", lambda: hashing.Config().use_file_serialization(hashing_algorithm="blake3")),
        ("1 file", large, "files sha256", lambda: hashing.Config().use_file_serialization()),
        ("1 file", large, "shards sha256 (1 GB)", lambda: hashing.Config().use_shard_serialization(shard_size=1_000_000_000)),
        ("1 file", large, "shards sha256 (64 MiB)", lambda: hashing.Config().use_shard_serialization(shard_size=64 << 20)),
        ("1 file", large, "files blake3", lambda: hashing.Config().use_file_serialization(hashing_algorithm="blake3")),
    ]
    print(f"{'data':<16} {'method':<34} {'model_signing':>13}")
    for data, path, method, config in cases:
        t = best(path, config(), runs)
        print(f"{data:<16} {method:<34} {size(path) / t / 1e9:>13.2}", flush=True)


if __name__ == "__main__":
    main()
