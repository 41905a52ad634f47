"""Rows per second of bulk detection and tracing on Ray (`tracemark.ray`) with 1 and 2
workers, against the same work in one process, and the per-row overhead Ray adds
(issue 19, section 1).

    python python/benchmarks/ray_bulk.py [--detect-rows 20000] [--trace-rows 2000]
        [--repeat 3] [--json OUT]

Configurations, on the demo's work folder (`tracemark demo`: its key, corpus-model
tokenizer and index) and a dataset of its texts and corpus documents (detection is about
30 times cheaper a row than tracing, so it gets more rows; one Parquet file each):

- `in-process`: the block (`tracemark.ray.Detect` / `Trace`) called on the dataset's
  batches in this process, no Ray: the work itself.
- `cli per row`: `tracemark detect` / `tracemark trace` run once a row (a process each,
  loading key, tokenizer and index each time: how a script without this package would
  do it), on the first 100 rows.
- `ray, N workers`: `tracemark.ray.run` on a local Ray cluster of this machine's CPUs
  (started once, and warmed by a job, before timing), Parquet in and out. A job's fixed
  cost (actor start, planning, writing) is measured on 20 rows; the per-row cost is the
  slope between the two sizes, and Ray's per-row overhead is that slope (1 worker) less
  the in-process cost. Every time is the median of `--repeat` runs.

Run it in the pinned environment (python/requirements.txt) with the *release* wheel
installed (`maturin build --release`, then `pip install` it) and `TRACEMARK_CLI` naming a
`tracemark` binary; nothing else should run on the machine. On 2 cores the 2-worker
figure shares the CPUs with Ray's own processes: report it, claim no scaling from it.
It is a benchmark, not a test: CI does not run it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
# One thread for the in-process figure, as a worker has (one CPU each).
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # loopback only

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import ray  # noqa: E402

import tracemark  # noqa: E402
import tracemark.ray as tr  # noqa: E402

SMALL = 20
CLI_ROWS = 100
BATCH = 64


def demo(cli: str, work: Path) -> Path:
    out = work / "demo"
    env = {**os.environ, "TRACEMARK_HOME": str(work / "home")}
    env.pop("TRACEMARK_CONFIG", None)
    subprocess.run([cli, "demo", "--out", out], check=True, capture_output=True, env=env)
    return out


def dataset(folder: Path, rows: int) -> list[tuple[str, bytes]]:
    texts = [p.read_bytes() for p in sorted(folder.glob("*.txt")) if ".signed" not in p.name]
    texts += [p.read_bytes() for p in sorted((folder / "corpus/texts").glob("*/*.txt"))]
    return [(f"row-{n}", texts[n % len(texts)]) for n in range(rows)]


def write(rows: list[tuple[str, bytes]], folder: Path) -> Path:
    folder.mkdir(parents=True)
    pq.write_table(
        pa.table({"id": [i for i, _ in rows], "text": pa.array([t for _, t in rows], pa.binary())}),
        folder / "texts.parquet",
    )
    return folder


def in_process(block, rows, repeat: int) -> float:
    table = pa.table({"id": [i for i, _ in rows], "text": pa.array([t for _, t in rows], pa.binary())})
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            out = block(table.slice(start, BATCH))
            assert out.column("error").null_count == out.num_rows
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cli_per_row(cli: str, args: list[str], rows, folder: Path) -> float:
    folder.mkdir()
    for i, text in rows:
        (folder / i).write_bytes(text)
    started = time.perf_counter()
    for i, _ in rows:
        done = subprocess.run([cli, *args, str(folder / i), "--json"], capture_output=True)
        assert done.returncode in (0, 1), done.stderr
    return time.perf_counter() - started


def on_ray(task: str, source: Path, out: Path, workers: int, repeat: int, **options) -> float:
    times = []
    for n in range(repeat):
        started = time.perf_counter()
        summary = tr.run(task, source, out / str(n), address="auto", workers=workers,
                         batch_size=BATCH, block_rows=256, **options)
        times.append(time.perf_counter() - started)
        assert summary["errors"] == 0, summary
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--detect-rows", type=int, default=20000)
    p.add_argument("--trace-rows", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", type=Path, help="write the figures here")
    args = p.parse_args()
    cli = os.environ.get("TRACEMARK_CLI") or shutil.which("tracemark")
    if not cli:
        raise SystemExit("set TRACEMARK_CLI to a tracemark binary")

    work = Path(tempfile.mkdtemp(prefix="ray-bulk-"))
    folder = demo(cli, work)
    key, index = folder / "home/keys/watermark/demo.json", folder / "index"
    counts = {"detect": args.detect_rows, "trace": args.trace_rows}
    tasks = {
        "detect": ({"key": key, "model": index}, ["detect", "--key", key, "--model", index]),
        "trace": ({"index": index}, ["trace", "--index", index]),
    }
    blocks = {"detect": tr.Detect, "trace": tr.Trace}

    figures: dict = {
        "rows": counts,
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "ray": ray.__version__,
        "tracemark": tracemark.__version__,
        "tasks": {},
    }
    started = time.perf_counter()
    ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False,
             _node_ip_address="127.0.0.1")
    figures["ray_start_seconds"] = round(time.perf_counter() - started, 2)
    for task, (options, cli_args) in tasks.items():
        n = counts[task]
        rows = dataset(folder, n)
        big, small = write(rows, work / f"{task}-in"), write(rows[:SMALL], work / f"{task}-in-small")
        block = blocks[task](**options)
        block(pa.table({"id": ["warm"], "text": [rows[0][1]]}))  # first-call costs
        local = in_process(block, rows, args.repeat)
        per_row_cli = cli_per_row(cli, [str(a) for a in cli_args], rows[:CLI_ROWS],
                                  work / f"cli-{task}") / CLI_ROWS
        result = {
            "in_process_rows_per_second": round(n / local, 1),
            "in_process_ms_per_row": round(1000 * local / n, 3),
            "cli_per_row_rows_per_second": round(1 / per_row_cli, 1),
            "cli_per_row_ms_per_row": round(1000 * per_row_cli, 2),
        }
        on_ray(task, small, work / f"{task}-warm", 2, 1, **options)  # Ray Data's first job
        for workers in (1, 2):
            fixed = on_ray(task, small, work / f"{task}-{workers}-small", workers, args.repeat,
                           **options)
            whole = on_ray(task, big, work / f"{task}-{workers}-big", workers, args.repeat,
                           **options)
            slope = (whole - fixed) / (n - SMALL)
            result[f"ray_{workers}_rows_per_second"] = round(n / whole, 1)
            result[f"ray_{workers}_job_seconds"] = round(whole, 2)
            result[f"ray_{workers}_fixed_seconds"] = round(fixed, 2)
            result[f"ray_{workers}_ms_per_row"] = round(1000 * slope, 3)
        result["ray_overhead_ms_per_row"] = round(
            result["ray_1_ms_per_row"] - result["in_process_ms_per_row"], 3)
        figures["tasks"][task] = result
    ray.shutdown()
    shutil.rmtree(work, ignore_errors=True)

    print(f"{counts} rows, {figures['cpus']} CPUs, Ray {figures['ray']} "
          f"(cluster start {figures['ray_start_seconds']} s, not counted), medians of "
          f"{args.repeat}; load average {figures['load_average_at_start']:.1f} at the start")
    print(f"{'':8} {'in-process':>12} {'cli per row':>12} {'ray 1 wkr':>12} {'ray 2 wkrs':>12}"
          f" {'ray fixed/job':>14} {'ray +ms/row':>12}")
    for task, r in figures["tasks"].items():
        print(f"{task:8} {r['in_process_rows_per_second']:>10.0f}/s"
              f" {r['cli_per_row_rows_per_second']:>10.1f}/s"
              f" {r['ray_1_rows_per_second']:>10.0f}/s {r['ray_2_rows_per_second']:>10.0f}/s"
              f" {r['ray_1_fixed_seconds']:>12.2f} s {r['ray_overhead_ms_per_row']:>12.3f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
