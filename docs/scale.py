#!/usr/bin/env python3
"""The web-scale plan of docs/SCALE.md, recomputed from measured figures.

    python3 docs/scale.py [shards-bench.json]

The JSON is what `cargo bench -p tracemark-server --bench shards` writes to
`$CARGO_TARGET_DIR/shards-bench.json` (without it, the figures measured for SCALE.md,
below). Every number printed is either MEASURED (from that file), ASSUMED (a constant
below, named and explained), or derived from both by the arithmetic shown. Standard
library only.
"""

import json
import math
import sys

# Measured on the reference machine (2 cores, 64 MiB corpus; see SCALE.md), used when no
# benchmark file is given.
MEASURED = {
    "corpus": {"bytes": 67_110_000, "documents": 16_780, "tokens": 67_126_780},
    "whole_index": {"bytes_per_token": 6.6, "build_ns_per_token": 210.0},
    "count": {"direct": {"p99_ms": 1.0, "cpu_ms_per_request": 0.5},
              "router": {"p99_ms": 2.0, "cpu_ms_per_request": 1.5}},
    "trace": {"direct": {"p99_ms": 10.0, "cpu_ms_per_request": 8.0},
              "router": {"p99_ms": 15.0, "cpu_ms_per_request": 14.0}},
}

# --- Assumptions (change them here; SCALE.md says why each was chosen) ---------------
TARGET_TOKENS = 4.6e12          # OLMoTrace's index: the OLMo 2 training data
REQUESTS_PER_SECOND = 1000      # attribute requests to serve
BENCH_CORES = 2                 # cores of the machine the figures were measured on
SHARD_MACHINE_DISK_TB = 7.5     # usable NVMe per shard machine (e.g. 2 x 3.75 TB)
SHARD_MACHINE_CORES = 32
SHARD_MACHINE_PRICE = 5.0       # USD per machine-hour (large NVMe instance, on demand)
ROUTER_MACHINE_CORES = 16
ROUTER_MACHINE_PRICE = 0.8      # USD per machine-hour
DISK_HEADROOM = 0.8             # fill disks to 80%
CPU_HEADROOM = 0.6              # run cores at 60% at the target rate
BUILD_MACHINE_PRICE = 5.0       # USD per machine-hour for the build (same machines)
HOURS_PER_MONTH = 730


def load(path):
    if path is None:
        return MEASURED
    with open(path) as f:
        return json.load(f)


def plan(m):
    bpt = m["whole_index"]["bytes_per_token"]
    build_core_ns = m["whole_index"]["build_ns_per_token"] * BENCH_CORES
    tokens_measured = m["corpus"]["tokens"]

    index_bytes = TARGET_TOKENS * bpt
    tokens_per_machine = SHARD_MACHINE_DISK_TB * 1e12 * DISK_HEADROOM / bpt
    shard_machines = math.ceil(TARGET_TOKENS / tokens_per_machine)

    # Build: the suffix-array sort is O(n) (libsais) and the parts are independent, so
    # core-time per token carries over; a part builds on its own machine.
    build_core_hours = TARGET_TOKENS * build_core_ns / 1e9 / 3600
    build_hours = build_core_hours / (shard_machines * SHARD_MACHINE_CORES)

    # Serving: a trace asks every shard once for longest matches and once for documents.
    # Its CPU grows with the depth of the suffix-array search, log2 of the tokens per
    # shard (measured at the benchmark's size, extrapolated to a machine's).
    depth = math.log2(tokens_per_machine) / math.log2(tokens_measured / 4)
    shard_cpu_s = (m["trace"]["router"]["cpu_ms_per_request"]
                   - m["trace"]["direct"]["cpu_ms_per_request"] / 2) / 1e3
    direct_cpu_s = m["trace"]["direct"]["cpu_ms_per_request"] / 1e3
    per_shard_cpu_s = direct_cpu_s * depth  # one shard's work on a full machine's part
    shard_cores_needed = REQUESTS_PER_SECOND * per_shard_cpu_s / CPU_HEADROOM
    replicas = max(1, math.ceil(shard_cores_needed / SHARD_MACHINE_CORES))
    router_cores = REQUESTS_PER_SECOND * max(shard_cpu_s, 1e-4) / CPU_HEADROOM
    router_machines = max(2, math.ceil(router_cores / ROUTER_MACHINE_CORES))

    machines = shard_machines * replicas
    monthly = (machines * SHARD_MACHINE_PRICE + router_machines * ROUTER_MACHINE_PRICE) * HOURS_PER_MONTH
    build_cost = build_hours * shard_machines * BUILD_MACHINE_PRICE
    return {
        "measured bytes per token on disk": bpt,
        "measured build core-ns per token": build_core_ns,
        "index size (TB)": index_bytes / 1e12,
        "tokens per shard machine": tokens_per_machine,
        "shards (parts)": shard_machines,
        "suffix-array depth factor vs benchmark": depth,
        "replicas per shard for the request rate": replicas,
        "shard machines": machines,
        "router machines": router_machines,
        "build: core-hours": build_core_hours,
        "build: wall hours (parts in parallel)": build_hours,
        "build: cost (USD)": build_cost,
        "serving: cost per month (USD)": monthly,
        "count p99 through the router (ms, measured)": m["count"]["router"]["p99_ms"],
        "trace p99 through the router (ms, measured)": m["trace"]["router"]["p99_ms"],
    }


def main():
    m = load(sys.argv[1] if len(sys.argv) > 1 else None)
    for name, value in plan(m).items():
        if isinstance(value, float):
            value = f"{value:,.2f}" if value < 1e6 else f"{value:.3e}"
        print(f"{name:52} {value}")


if __name__ == "__main__":
    main()
