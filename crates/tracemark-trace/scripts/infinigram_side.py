#!/usr/bin/env python3
"""The infini-gram half of the side-by-side measurement (scripts/anchor.sh runs both).

infini-gram 2.6.0's C++ engine (PyPI `infini-gram`) is loaded on an index directory in its
own format. When that directory is `anchor export`'s output, the engine reads the very
tokens and suffix array that tracemark-trace built, so counts must agree exactly and the
latencies compare two query engines on the same data.

  python infinigram_side.py count --index-dir IG --queries Q.jsonl --ours OUR_COUNTS.json
  python infinigram_side.py trace --index-dir IG --windows W.jsonl --ours OUR_LENGTHS.json

`count`: every query counted through the C++ binding (`engine.engine.count`, the fastest
route Python offers) and through the Python API, three passes, the last one reported;
the empty query gives the binding's floor (no search: the pybind call and one std::thread
per shard). `trace`: for each window the longest corpus match starting at every position,
by `creativity()` (one call; rs[i] - i) and by the two-pointer walk with `count()` that the
anchor script also times; both are checked against tracemark's lengths.
Engine settings: version 4, no madvise prefetch (the later upstream defaults; infini-gram's
own 2.6.0 defaults prefetch on every step and are ~3x slower on a cached index).
"""
import argparse
import json
import os
import time


def pct(xs, p):
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def summary_us(ns):
    us = [x / 1000.0 for x in ns]
    return {"n": len(us), "p50_us": round(pct(us, 50), 2), "p90_us": round(pct(us, 90), 2),
            "p99_us": round(pct(us, 99), 2), "mean_us": round(sum(us) / len(us), 2)}


def engine(index_dir):
    from infini_gram.engine import InfiniGramEngine
    return InfiniGramEngine(index_dir=index_dir, eos_token_id=0, version=4, token_dtype="u16",
                            load_to_ram=False, ds_prefetch_depth=0, sa_prefetch_depth=0,
                            od_prefetch_depth=0)


def load_ids(path):
    out = []
    with open(path) as f:
        for line in f:
            if line.strip():
                o = json.loads(line)
                out.append(o["ids"] if isinstance(o, dict) else o)
    return out


def cmd_count(a):
    qs = load_ids(a.queries)
    eng = engine(a.index_dir)
    raw = eng.engine.count
    counts = [raw(input_ids=q).count for q in qs]
    for _ in range(3):
        ns_raw, ns_api = [], []
        for q in qs:
            t = time.perf_counter_ns()
            raw(input_ids=q)
            ns_raw.append(time.perf_counter_ns() - t)
        for q in qs:
            t = time.perf_counter_ns()
            eng.count(input_ids=q)
            ns_api.append(time.perf_counter_ns() - t)
    ns_floor = []
    for _ in range(1000):
        t = time.perf_counter_ns()
        raw(input_ids=[])
        ns_floor.append(time.perf_counter_ns() - t)
    res = {"queries": len(qs), "cpp_binding": summary_us(ns_raw), "python_api": summary_us(ns_api),
           "empty_query_floor_cpp_binding": summary_us(ns_floor),
           "loadavg": open("/proc/loadavg").read().split()[:3]}
    if a.ours:
        ours = json.load(open(a.ours))
        mism = [i for i, (x, y) in enumerate(zip(counts, ours)) if x != y]
        res["equal_counts"] = {"compared": len(ours), "mismatches": len(mism), "first": mism[:10],
                               "zero_counts": sum(1 for c in counts if c == 0)}
    print(json.dumps(res))


def two_pointer(raw_count, q):
    """Longest match ending at each position with count() only (the anchor script's walk)."""
    out, prev = [], 0
    for i in range(len(q)):
        ln = prev + 1
        while ln > 0 and raw_count(input_ids=q[i + 1 - ln:i + 1]).count == 0:
            ln -= 1
        out.append(ln)
        prev = ln
    return out


def cmd_trace(a):
    ws = load_ids(a.windows)
    eng = engine(a.index_dir)
    raw = eng.engine
    ms_cr, ms_tp, lengths = [], [], []
    for _pass in range(2):  # the first pass warms the page cache; the second is reported
        ms_cr, ms_tp, lengths = [], [], []
        for w in ws:
            t = time.perf_counter()
            rs = raw.creativity(input_ids=w).rs
            ms_cr.append((time.perf_counter() - t) * 1e3)
            lengths.append([r - i for i, r in enumerate(rs)])
            t = time.perf_counter()
            two_pointer(raw.count, w)
            ms_tp.append((time.perf_counter() - t) * 1e3)
    res = {"windows": len(ws), "tokens": len(ws[0]),
           "creativity_p50_ms": round(pct(ms_cr, 50), 2), "creativity_max_ms": round(max(ms_cr), 2),
           "count_two_pointer_p50_ms": round(pct(ms_tp, 50), 2),
           "loadavg": open("/proc/loadavg").read().split()[:3]}
    if a.ours:
        ours = json.load(open(a.ours))
        res["equal_longest_matches"] = {"windows": len(ours),
                                        "mismatching_windows": sum(1 for x, y in zip(lengths, ours) if x != y)}
    print(json.dumps(res))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("count")
    p.add_argument("--index-dir", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--ours", default=None, help="tracemark's counts (JSON array) to compare with")
    p.set_defaults(fn=cmd_count)
    p = sub.add_parser("trace")
    p.add_argument("--index-dir", required=True)
    p.add_argument("--windows", required=True)
    p.add_argument("--ours", default=None, help="tracemark's longest matches (JSON arrays)")
    p.set_defaults(fn=cmd_trace)
    a = ap.parse_args()
    if not os.path.isdir(a.index_dir):
        raise SystemExit(f"{a.index_dir} is not a directory")
    a.fn(a)


if __name__ == "__main__":
    main()
