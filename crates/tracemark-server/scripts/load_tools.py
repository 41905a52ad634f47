#!/usr/bin/env python3
"""Helpers of scripts/load-reads.sh (standard library only).

  passages CORPUS_DIR N OUT         N passages of the anchor corpus (`corpus.u16`, byte
                                    tokens id = byte + 1, and `corpus.docs.tsv`), about 1,200
                                    bytes each, from the KJV and /usr/share/doc documents,
                                    one word in 40 replaced; JSON Lines {"text": ...}
  appends BASE TOKEN TEXTS RATE SECONDS OUT [logged|anonymous]
                                    authenticated POST /v1/attribute {"log": true} of the
                                    texts in turn, offered at RATE per second (open loop:
                                    each request is sent at its time by a pool of threads,
                                    whatever the earlier ones are doing); writes every
                                    answer's latency, status, log index and report hash.
                                    `anonymous`: the same requests without a token and
                                    unlogged (the control: the same work less the append)
  generations BASES TOKEN MODEL CLIENTS SECONDS OUT
                                    closed loop: CLIENTS threads each send authenticated
                                    POST /v1/completions (8 tokens, a seed each) to the
                                    comma-separated BASES in turn for SECONDS; writes
                                    every answer's status and log index, and the
                                    acknowledged generations (log appends) per second
  check LOG_DB APPENDS...           every acknowledged append of the APPENDS files is in
                                    the SQLite log at its index, with its report hash
  summary FILE...                   the `WRK {...}` and appends lines as a table
"""
import concurrent.futures
import json
import random
import re
import sqlite3
import sys
import threading
import time
import urllib.request


def passages(corpus_dir, n, out):
    tokens = open(f"{corpus_dir}/corpus.u16", "rb").read()
    docs = []
    with open(f"{corpus_dir}/corpus.docs.tsv") as f:
        next(f)
        for line in f:
            _, first, count, source = line.rstrip("\n").split("\t")
            if (source.startswith("kjv/") or source.startswith("/usr/share/doc/")) and int(count) > 3000:
                docs.append((int(first), int(count)))
    rng = random.Random(7)
    swaps = "the a of and to in river stone window yellow quiet seven".split()
    made = []
    while len(made) < n:
        first, count = rng.choice(docs)
        start = first + rng.randrange(0, count - 2000)
        ids = tokens[2 * start: 2 * (start + 1600)]
        raw = bytes(ids[i] - 1 for i in range(0, len(ids), 2))
        text = raw.decode("utf-8", "ignore")
        # Whole words only, white space kept as it is in the corpus (byte-level tracing
        # matches it too); then one word in 40 replaced.
        text = text[text.find(" ") + 1:text.rfind(" ", 0, 1200)]
        words = list(re.finditer(r"\S+", text))
        if len(words) < 120:
            continue
        for m in reversed(words[20::40]):
            swap = rng.choice([w for w in swaps if w != m.group()])
            text = text[:m.start()] + swap + text[m.end():]
        made.append(text)
    with open(out, "w") as f:
        for t in made:
            f.write(json.dumps({"text": t}) + "\n")


def appends(base, token, texts_file, rate, seconds, out, mode="logged"):
    logged = mode == "logged"
    texts = [json.loads(line)["text"] for line in open(texts_file)]
    rate, seconds = float(rate), float(seconds)
    total = int(rate * seconds)
    results, lock = [], threading.Lock()

    def one(k, due):
        body = json.dumps({"text": texts[k % len(texts)], "log": logged}).encode()
        headers = {"Content-Type": "application/json"}
        if logged:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(f"{base}/v1/attribute", data=body, method="POST", headers=headers)
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        start = time.monotonic()
        row = {"k": k, "late_ms": round(max(0.0, -wait) * 1e3, 2)}
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                answer = json.load(r)
                row["status"] = r.status
            seal = answer["report"].get("seal") or {}
            receipt = seal.get("receipt") or ""
            index = [int(line.split()[1]) for line in receipt.splitlines() if line.startswith("index ")]
            row["index"] = index[0] if index else None
            row["report_hash"] = seal.get("report_hash")
        except urllib.error.HTTPError as e:
            row["status"] = e.code
        except Exception as e:  # a socket error: not acknowledged
            row["status"] = 0
            row["error"] = str(e)
        row["ms"] = round((time.monotonic() - start) * 1e3, 2)
        with lock:
            results.append(row)

    t0 = time.monotonic() + 0.2
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        for k in range(total):
            due = t0 + k / rate
            # Submit a little ahead of time; the worker sleeps until the request is due.
            while due - time.monotonic() > 0.5:
                time.sleep(0.05)
            pool.submit(one, k, due)
    wall = time.monotonic() - t0
    results.sort(key=lambda r: r["k"])
    ok = [r for r in results if r["status"] == 200 and (r.get("index") is not None or not logged)]
    ms = sorted(r["ms"] for r in ok) or [0.0]
    pick = lambda p: ms[min(len(ms) - 1, int(round(p / 100 * (len(ms) - 1))))]
    summary = {
        "offered_rps": rate, "seconds": round(wall, 2), "sent": total, "acknowledged": len(ok),
        "failed": total - len(ok), "achieved_rps": round(len(ok) / wall, 2),
        "mean_ms": round(sum(ms) / len(ms), 2), "p50_ms": pick(50), "p90_ms": pick(90),
        "p99_ms": pick(99), "max_ms": ms[-1],
        "late_sends": sum(1 for r in results if r["late_ms"] > 50),
    }
    with open(out, "w") as f:
        json.dump({"summary": summary, "requests": results}, f)
    print(("APPENDS " if logged else "CONTROL ") + json.dumps(summary))


def generations(bases, token, model, clients, seconds, out):
    bases = bases.split(",")
    clients, seconds = int(clients), float(seconds)
    results, lock = [], threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(c):
        n = 0
        while time.monotonic() < stop_at:
            base = bases[(c + n) % len(bases)]
            body = json.dumps({"model": model, "prompt": "Once", "max_tokens": 8,
                               "seed": c * 1_000_000 + n}).encode()
            request = urllib.request.Request(
                f"{base}/v1/completions", data=body, method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
            row = {"client": c, "n": n, "base": base}
            start = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=60) as r:
                    row["status"] = r.status
                    row["index"] = json.load(r)["tracemark"]["log_index"]
            except urllib.error.HTTPError as e:
                row["status"] = e.code
            except Exception as e:  # a socket error: not acknowledged
                row["status"], row["error"] = 0, str(e)
            row["ms"] = round((time.monotonic() - start) * 1e3, 2)
            with lock:
                results.append(row)
            n += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    ok = [r for r in results if r["status"] == 200 and r.get("index") is not None]
    indexes = {r["index"] for r in ok}
    ms = sorted(r["ms"] for r in ok) or [0.0]
    pick = lambda p: ms[min(len(ms) - 1, int(round(p / 100 * (len(ms) - 1))))]
    summary = {
        "servers": len(bases), "clients": clients, "seconds": round(wall, 2),
        "acknowledged": len(ok), "failed": len(results) - len(ok),
        "distinct_indexes": len(indexes), "appends_per_s": round(len(ok) / wall, 2),
        "p50_ms": pick(50), "p99_ms": pick(99),
    }
    with open(out, "w") as f:
        json.dump({"summary": summary, "requests": results}, f)
    print("GENERATIONS " + json.dumps(summary))
    return 0 if len(indexes) == len(ok) else 1


def check(db, *files):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    size = con.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    acknowledged = missing = 0
    for path in files:
        for row in json.load(open(path))["requests"]:
            if row["status"] != 200 or row.get("index") is None:
                continue
            acknowledged += 1
            got = con.execute("SELECT data FROM entries WHERE idx = ?", (row["index"],)).fetchone()
            if got is None or json.loads(got[0]).get("report_hash") != row["report_hash"]:
                missing += 1
                print(f"MISSING append {row['k']} of {path}: index {row['index']}", file=sys.stderr)
    print("CHECK " + json.dumps({"log_entries": size, "acknowledged": acknowledged, "missing": missing}))
    return 1 if missing else 0


def summary(*files):
    print(f"| {'run':<34} | {'req/s':>8} | {'p50 ms':>7} | {'p90 ms':>7} | {'p99 ms':>7} | {'max ms':>7} | errors |")
    print(f"|{'-' * 36}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 9}|--------|")
    for path in files:
        name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        for line in open(path):
            if line.startswith("WRK "):
                r = json.loads(line[4:])
                errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"] + r["non_2xx"]
                print(f"| {name:<34} | {r['rps']:>8.1f} | {r['p50_ms']:>7.1f} | {r['p90_ms']:>7.1f} | "
                      f"{r['p99_ms']:>7.1f} | {r['max_ms']:>7.1f} | {errors:>6} |")
            elif line.startswith("APPENDS ") or line.startswith("CONTROL "):
                r = json.loads(line.split(" ", 1)[1])
                print(f"| {name:<34} | {r['achieved_rps']:>8.1f} | {r['p50_ms']:>7.1f} | {r['p90_ms']:>7.1f} | "
                      f"{r['p99_ms']:>7.1f} | {r['max_ms']:>7.1f} | {r['failed']:>6} |")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "passages":
        passages(args[0], int(args[1]), args[2])
    elif command == "appends":
        appends(*args)
    elif command == "generations":
        sys.exit(generations(*args))
    elif command == "check":
        sys.exit(check(*args))
    elif command == "summary":
        summary(*args)
    else:
        sys.exit(__doc__)
