#!/usr/bin/env python3
"""The web-scale plan of docs/SCALE.md, recomputed from measured figures.

    python3 docs/scale.py [shards-bench.json] [--markdown]

The JSON is what `cargo bench -p tracemark-server --bench shards` writes to
`$CARGO_TARGET_DIR/shards-bench.json`; without it, the figures measured for SCALE.md
(MEASURED below) are used. Every number printed is MEASURED (from that file), ASSUMED (a
constant below, named, with the reason in SCALE.md) or DERIVED from both by the
arithmetic in `plan`. Standard library only.
"""

import json
import math
import os
import sys

# The run SCALE.md quotes (`cargo bench -p tracemark-server --bench shards -- 64`,
# release, 2 cores), committed beside this script; a file given on the command line
# replaces it.
MEASURED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shards-bench.json")

# --- Assumptions (SCALE.md says why each was chosen) ----------------------------------
TARGET_TOKENS = 4.6e12        # OLMoTrace's index: OLMo 2's training data, Llama-2 tokens
DOCUMENTS = 3.16e9            # its documents
REQUESTS_PER_SECOND = 1000    # attribute requests to serve, each one trace
ANSWER_TOKENS = 458           # OLMoTrace's mean response, in Llama-2 tokens
BENCH_QUERY_TOKENS = 628      # the benchmark's trace outputs: 2 x 300 bytes + 28, byte tokens
BENCH_CORES = 2               # cores of the machine the figures were measured on
SHARDS_BENCH = 4              # shard servers behind the benchmark's router
TOKEN_BYTES = 2               # tokens are u16 (a vocabulary of at most 65,536)
MACHINE_RAM_GB = 512          # RAM per serving machine
MACHINE_CORES = 64            # cores per serving machine
MACHINE_DISK_TB = 7.5         # NVMe per machine (the index's files, and the build's)
MACHINE_PRICE = 6.0           # USD per machine-hour, on demand, such a machine
RAM_FILL = 0.75               # of RAM for the memory-mapped index (the rest: OS, service)
CPU_FILL = 0.6                # cores busy at the target rate
HOURS_PER_MONTH = 730
# Suffix arrays: today each is at most 2^31 tokens (libsais' 32-bit output); with
# libsais64 (not built yet) one array could hold 2^35 tokens (a 344 GB build, a 250 GB
# index: one array still fits one machine's RAM).
LAYOUTS = {"today: arrays of 2^31 tokens": 2 ** 31, "libsais64: arrays of 2^35 tokens": 2 ** 35}


def sa_bytes(tokens):
    """Bytes a suffix-array entry takes for an array of `tokens` (bit-packed)."""
    return math.ceil(math.log2(max(2, tokens))) / 8


def measured_rows(m):
    c, t = m["count"], m["trace"]
    return [
        ("MEASURED benchmark corpus (tokens, one suffix array)", m["corpus"]["tokens"]),
        ("MEASURED bytes per token on disk", m["whole_index"]["bytes_per_token"]),
        ("MEASURED build core-ns per token", m["whole_index"]["build_ns_per_token"] * BENCH_CORES),
        ("MEASURED count p50 / p99 direct (ms)", f'{c["direct"]["p50_ms"]:.2f} / {c["direct"]["p99_ms"]:.2f}'),
        ("MEASURED count p50 / p99 router, 4 shards (ms)", f'{c["router"]["p50_ms"]:.2f} / {c["router"]["p99_ms"]:.2f}'),
        ("MEASURED trace p50 / p99 direct (ms)", f'{t["direct"]["p50_ms"]:.2f} / {t["direct"]["p99_ms"]:.2f}'),
        ("MEASURED trace p50 / p99 router, 4 shards (ms)", f'{t["router"]["p50_ms"]:.2f} / {t["router"]["p99_ms"]:.2f}'),
        ("MEASURED count CPU a request direct / router (ms)", f'{c["direct"]["cpu_ms_per_request"]:.2f} / {c["router"]["cpu_ms_per_request"]:.2f}'),
        ("MEASURED trace CPU a request direct / router (ms)", f'{t["direct"]["cpu_ms_per_request"]:.2f} / {t["router"]["cpu_ms_per_request"]:.2f}'),
        ("MEASURED serving memory, whole index + 4 shards (MiB RSS)", m["serving_rss_mib"]),
    ]


def plan(m, array_tokens):
    tokens_b = m["corpus"]["tokens"]
    bpt_b = m["whole_index"]["bytes_per_token"]
    # Per token at scale: the token, an entry of the larger array, and what else the
    # measured index holds per token (offsets, metadata, MinHash: per document, so in
    # proportion to the benchmark's documents of 4,000 tokens; OLMo's average 1,456).
    per_doc_b = (bpt_b - TOKEN_BYTES - sa_bytes(tokens_b)) * m["corpus"]["tokens"] / m["corpus"]["documents"]
    bpt = TOKEN_BYTES + sa_bytes(array_tokens) + per_doc_b * DOCUMENTS / TARGET_TOKENS
    index_tb = TARGET_TOKENS * bpt / 1e12
    arrays = math.ceil(TARGET_TOKENS / array_tokens)

    # Build: linear (libsais), arrays independent: the measured core-time per token.
    build_core_hours = TARGET_TOKENS * m["whole_index"]["build_ns_per_token"] * BENCH_CORES / 1e9 / 3600

    # A trace searches every array (matching statistics, `longest_matches`), a lookup
    # deeper by the log of the array's size, on an answer of ANSWER_TOKENS; measured on
    # one array with the service's own overhead included (so an upper bound).
    per_array_ms = (m["trace"]["direct"]["cpu_ms_per_request"]
                    * math.log2(array_tokens) / math.log2(tokens_b)
                    * ANSWER_TOKENS / BENCH_QUERY_TOKENS)
    trace_cpu_s = arrays * per_array_ms / 1e3
    count_cpu_ms = arrays * m["count"]["direct"]["cpu_ms_per_request"] * math.log2(array_tokens) / math.log2(tokens_b)

    # Machines: enough RAM to hold the index (a lookup from NVMe costs ~log2(N) random
    # reads: at this rate only RAM serves), enough cores for the rate.
    machines_ram = math.ceil(index_tb * 1e12 / (MACHINE_RAM_GB * 1e9 * RAM_FILL))
    machines_cpu = math.ceil(REQUESTS_PER_SECOND * trace_cpu_s / (MACHINE_CORES * CPU_FILL))
    machines = max(machines_ram, machines_cpu)
    arrays_per_machine = math.ceil(arrays / machines_ram)
    # Latency of one trace: a machine's arrays one after the other (today's loop), or
    # spread over its cores (a rayon loop over arrays: not built yet).
    serial_ms = arrays_per_machine * per_array_ms
    parallel_ms = serial_ms / min(MACHINE_CORES, arrays_per_machine)
    monthly = machines * MACHINE_PRICE * HOURS_PER_MONTH
    return [
        ("DERIVED bytes per token", bpt),
        ("DERIVED index size (TB)", index_tb),
        ("DERIVED suffix arrays", arrays),
        ("DERIVED build: core-hours", build_core_hours),
        ("DERIVED build: wall hours on the serving machines", build_core_hours / (machines_ram * MACHINE_CORES)),
        ("DERIVED build: cost of its CPU time (USD)", build_core_hours * MACHINE_PRICE / MACHINE_CORES),
        ("DERIVED build: peak RAM an array (GB, ~10 B/token)", array_tokens * 10 / 1e9),
        ("DERIVED trace CPU an array (ms)", per_array_ms),
        ("DERIVED trace CPU a request (core-seconds)", trace_cpu_s),
        ("DERIVED count CPU a request (ms)", count_cpu_ms),
        ("DERIVED machines for RAM", machines_ram),
        ("DERIVED machines for CPU at the rate", machines_cpu),
        ("DERIVED machines", machines),
        ("DERIVED arrays a machine", arrays_per_machine),
        ("DERIVED trace latency, arrays in turn (ms)", serial_ms),
        ("DERIVED trace latency, arrays on every core (ms)", parallel_ms),
        ("DERIVED serving cost a month (USD)", monthly),
    ]


def fmt(value):
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.2f}" if abs(value) < 1e7 else f"{value:.3e}"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    with open(args[0] if args else MEASURED) as f:
        m = json.load(f)
    markdown = "--markdown" in sys.argv
    sections = [("Measured", measured_rows(m))]
    sections += [(name, plan(m, tokens)) for name, tokens in LAYOUTS.items()]
    for title, rows in sections:
        if markdown:
            print(f"\n{title}\n\n| figure | value |\n|---|---|")
            for name, value in rows:
                print(f"| {name} | {fmt(value)} |")
        else:
            print(f"\n== {title}")
            for name, value in rows:
                print(f"{name:60} {fmt(value)}")


if __name__ == "__main__":
    main()
