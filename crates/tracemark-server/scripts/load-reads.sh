#!/usr/bin/env bash
# The service's read-path load test (a benchmark, not a CI check): `/v1/detect`,
# `/v1/trace` and `/v1/attribute` against a 100 M-token index and a log of 1 M generation
# records, from wrk on the same machine; then logged appends (authenticated
# `/v1/attribute` with "log": true) at a fixed rate, alone and while reads run at about
# half their capacity, and a check that every acknowledged append is in the log.
#
#   scripts/load-reads.sh [DURATION]     (default 20s a wrk run; needs wrk, curl, python3)
#
# Data, made once and kept in TRACEMARK_BENCH_DIR (default /var/cache/tracemark/bench),
# each under a name keyed by what made it:
#   corpus-<sha of the anchor script>/work   the anchor corpus (`infinigram_anchor.py
#                                            make-corpus`: Debian text, byte tokens, ~99.5 M)
#   corpus-<...>/index                       its Tracemark index, byte tokenizer (the trace
#                                            crate's `anchor build` example)
#   keys-v1/                                 a demo work folder (signing certificate and
#                                            key, service key) and a watermark key for
#                                            models/tinystories-260k (16-bit payloads)
#   log-<sha of fill_log's formats, key, count>/
#                                            a log directory filled with RECORDS generation
#                                            records (examples/fill_log.rs)
# Runs use that log in place (a copy is 3 GB): each run adds its marked texts and its
# appends (a few hundred records), and the checks count from the size it started at.
#
# Environment: TRACEMARK_BIN (a release binary already built), TRACEMARK_FILL_LOG (the
# fill_log example already built), TRACEMARK_LOG_RECORDS
# (default 1000000), TRACEMARK_APPEND_RATE (appends/s, default 5), TRACEMARK_APPEND_SECONDS
# (default 30), TRACEMARK_ANCHOR (the anchor script, default ../shared/tools/ beside the
# repository), TRACEMARK_BENCH_PYTHON (a python with numpy for make-corpus; default a
# venv made in the bench folder).
set -euo pipefail
DURATION=${1:-20s}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
SCRIPTS=$ROOT/crates/tracemark-server/scripts
. "$SCRIPTS/lib.sh"
TOOLS="python3 $SCRIPTS/load_tools.py"
BENCH=${TRACEMARK_BENCH_DIR:-/var/cache/tracemark/bench}
RECORDS=${TRACEMARK_LOG_RECORDS:-1000000}
APPEND_RATE=${TRACEMARK_APPEND_RATE:-5}
APPEND_SECONDS=${TRACEMARK_APPEND_SECONDS:-30}
ANCHOR=${TRACEMARK_ANCHOR:-$ROOT/../shared/tools/infinigram_anchor.py}
MODEL=$ROOT/models/tinystories-260k
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
mkdir -p "$BENCH"
BIN=$(tm_bin)
say() { echo "== $*" >&2; }

# ---- 1. Data ----------------------------------------------------------------------
CORPUS=$BENCH/corpus-$(sha256sum "$ANCHOR" | cut -c1-12)
if [ ! -s "$CORPUS/work/corpus.manifest.json" ]; then
  say "making the anchor corpus in $CORPUS/work"
  PY=${TRACEMARK_BENCH_PYTHON:-$BENCH/venv/bin/python}
  if [ ! -x "$PY" ]; then
    python3 -m venv "$BENCH/venv" && "$BENCH/venv/bin/pip" install -q numpy
  fi
  command -v bible >/dev/null || { echo "make-corpus needs bible-kjv (apt-get install bible-kjv)" >&2; exit 1; }
  mkdir -p "$CORPUS" && rm -rf "$CORPUS/work" "$CORPUS/work.tmp"
  "$PY" "$ANCHOR" make-corpus --out "$CORPUS/work.tmp" > "$CORPUS/make.log"
  mv "$CORPUS/work.tmp" "$CORPUS/work"
fi
if [ ! -s "$CORPUS/index/index.json" ]; then
  say "building the index of $CORPUS/work/corpus.u16"
  cargo build --release -q -p tracemark-trace --example anchor --manifest-path "$ROOT/Cargo.toml"
  rm -rf "$CORPUS/index.tmp"
  "$CARGO_TARGET_DIR/release/examples/anchor" build "$CORPUS/work/corpus.u16" "$CORPUS/index.tmp" > "$CORPUS/index.build.json"
  mv "$CORPUS/index.tmp" "$CORPUS/index"
fi
KEYS=$BENCH/keys-v1
if [ ! -f "$KEYS/watermark.json" ]; then
  say "making keys in $KEYS"
  rm -rf "$KEYS" && mkdir -p "$KEYS"
  "$BIN" demo --out "$KEYS/demo" > /dev/null
  "$BIN" keygen watermark --model "$MODEL" --payload-bits 16 --out "$KEYS/watermark.json.tmp" > /dev/null
  mv "$KEYS/watermark.json.tmp" "$KEYS/watermark.json"
fi
# The log is keyed by what fill_log writes (its version, the record and sketch formats of
# the tree it was built from), the watermark key and the count. TRACEMARK_FILL_LOG runs a
# fill_log already built. A new log replaces the others (4.5 GB each).
if [ -z "${TRACEMARK_FILL_LOG:-}" ]; then
  cargo build --release -q -p tracemark-server --example fill_log --manifest-path "$ROOT/Cargo.toml"
fi
FILL_LOG=${TRACEMARK_FILL_LOG:-$CARGO_TARGET_DIR/release/examples/fill_log}
LOGBASE=$BENCH/log-$( ("$FILL_LOG" --describe; sha256sum < "$KEYS/watermark.json"; echo "$RECORDS") | sha256sum | cut -c1-12)
if [ ! -f "$LOGBASE.done" ]; then
  for old in "$BENCH"/log-*; do
    [ "$old" = "$LOGBASE" ] || { say "removing $old"; rm -rf "$old"; }
  done
  say "filling $LOGBASE with $RECORDS records ($("$FILL_LOG" --describe))"
  [ -d "$LOGBASE" ] || "$BIN" log init --dir "$LOGBASE" --origin load-test.tracemark.invalid/log > /dev/null
  cat "$KEYS"/demo/corpus/texts/*/*.txt > "$BENCH/words.txt"
  "$FILL_LOG" "$LOGBASE" "$RECORDS" "$KEYS/watermark.json" "$MODEL" "$BENCH/words.txt"
  "$FILL_LOG" --describe > "$LOGBASE.done"
fi

# ---- 2. The server ----------------------------------------------------------------
W=$BENCH/run
rm -rf "$W" && mkdir -p "$W/results"
LOG=$LOGBASE
START_SIZE=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute("SELECT COUNT(*) FROM entries").fetchone()[0])' "$LOG/log.db")
say "the log holds $START_SIZE entries ($(du -sh "$LOG" | cut -f1))"
(umask 077; printf '%s\n' "load-test-$(od -An -tx8 -N16 /dev/urandom | tr -d ' \n')" > "$W/api-tokens")
TOKEN=$(tail -n 1 "$W/api-tokens")
D=$KEYS/demo
cat > "$W/tracemark.toml" <<CONF
# Written by scripts/load-reads.sh.
[model]
path = "$MODEL"

[keys]
store = "$D/home"
watermark = ["$KEYS/watermark.json"]
signing = "$D/home/keys/signing/demo"
service = "$D/home/keys/service/demo"
log = "$LOG"
trust = ["$D/home/keys/signing/demo/root.pem"]

[log]
sqlite = "$LOG/log.db"

[index]
paths = ["$CORPUS/index"]

[policy]
jurisdictions = ["EU", "CN", "US-CA"]

[provider]
name = "Tracemark load-test provider"
placed_on_market = "2026-09-01"

[server]
tokens_file = "api-tokens"
anonymous_rate = 1000000.0
token_rate = 1000000.0
CONF
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null || true' EXIT
started=$(date +%s%N)
tm_serve "$BIN" "$W/tracemark.toml" "$W/serve.out"
say "serving at $BASE (started in $(( ($(date +%s%N) - started) / 1000000 )) ms)"

# ---- 3. Bodies --------------------------------------------------------------------
# 16 marked texts of 300 tokens (the server logs their records, so attribute finds them
# by payload), and 16 corpus passages with one word in 40 changed.
MODEL_ID=$(curl -sf "$BASE/v1/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
: > "$W/marked.jsonl"
for seed in $(seq 1 16); do
  curl -sf "$BASE/v1/completions" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"model\": \"$MODEL_ID\", \"prompt\": \"Once upon a time\", \"max_tokens\": 300, \"seed\": $seed}" |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps({"text": r["choices"][0]["text"]}))' >> "$W/marked.jsonl"
done
$TOOLS passages "$CORPUS/work" 16 "$W/passages.jsonl"
requests() { # requests PATH BODIES [TOKEN]: the request lines of tm_wrk_lua
  python3 -c 'import json,sys
for line in open(sys.argv[2]):
    print(sys.argv[1], json.dumps({"text": json.loads(line)["text"]}), sys.argv[3], sep="\t")' "$1" "$2" "${3:--}"
}
requests /v1/detect "$W/marked.jsonl" > "$W/detect-marked.req"
for endpoint in trace attribute; do
  for bodies in marked passages; do
    requests /v1/$endpoint "$W/$bodies.jsonl" > "$W/$endpoint-${bodies%s}.req"
  done
done
paste -d '\n' "$W/attribute-marked.req" "$W/trace-passage.req" > "$W/mixed.req"

# What one request finds, and what it takes alone (the median of 5, after one warm-up).
say "single requests"
{
  python3 - "$BASE" "$W" <<'PY'
import json, sys, urllib.request
base, w = sys.argv[1], sys.argv[2]
def post(path, text):
    r = urllib.request.Request(base + path, data=json.dumps({"text": text}).encode(),
                               headers={"Content-Type": "application/json"}, method="POST")
    return json.load(urllib.request.urlopen(r, timeout=60))
m = json.loads(open(w + "/marked.jsonl").readline())["text"]
p = json.loads(open(w + "/passages.jsonl").readline())["text"]
d = post("/v1/detect", m)["result"]["detections"][0]
print(f"detect(marked): detected {d['detected']} p = {d['p_value']} over {d['scored_tokens']} tokens")
for name, text in (("marked", m), ("passage", p)):
    facts = post("/v1/trace", text)["result"]["facts"]
    print(f"trace({name}): {len(text)} bytes, {len(facts)} facts: {json.dumps(facts)[:300]}")
    rep = post("/v1/attribute", text)["report"]
    log = [f"entry {f['index']} of {f['tree_size']}, found by {f['method']['parameters']['found_by']}"
           if f["kind"] == "log_entry" else f"{f['kind']} ({f.get('reason') or f.get('found')})"
           for f in rep["facts"] if f["kind"] == "log_entry" or f.get("topic") == "log"]
    kinds = sorted({f["kind"] for f in rep["facts"]})
    print(f"attribute({name}): facts {kinds}; log: {log}")
PY
  for name in detect-marked trace-marked trace-passage attribute-marked attribute-passage; do
    path=$(cut -f1 "$W/$name.req" | head -n 1)
    head -n 1 "$W/$name.req" | cut -f2 > "$W/one.json"
    times=$(for _ in 1 2 3 4 5 6; do
      curl -s -o /dev/null -w '%{time_total}\n' "$BASE$path" -H 'Content-Type: application/json' -d @"$W/one.json"
    done | tail -n 5 | sort -n | sed -n 3p)
    echo "single $name: $(python3 -c "print(round($times * 1000, 1))") ms (median of 5)"
  done
} | tee "$W/results/single.txt"

# ---- 4. Reads under wrk -----------------------------------------------------------
# The machine's busy CPU ticks (all but idle and iowait), to tell the server's share from
# wrk's and other processes'.
machine_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9}' /proc/stat; }
run_wrk() { # run_wrk NAME CONNECTIONS DURATION REQUESTS [RATE per thread]
  local out=$W/results/$1.txt
  tm_wrk_lua "$W/$1.lua" "$4" "${5:-}"
  {
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    local cpu0 all0 cpu1 all1 hz; hz=$(getconf CLK_TCK)
    cpu0=$(tm_cpu_ticks "$SERVER"); all0=$(machine_ticks)
    wrk -t2 -c"$2" -d"$3" --timeout 10s --latency -s "$W/$1.lua" "$BASE"
    cpu1=$(tm_cpu_ticks "$SERVER"); all1=$(machine_ticks)
    echo "SERVERCPU $(( (cpu1 - cpu0) * 1000 / hz )) ms"
    echo "machine CPU busy: $(( (all1 - all0) * 1000 / hz )) ms, of which the server $(( (cpu1 - cpu0) * 1000 / hz )) ms (the rest: wrk and other processes)"
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  } > "$out" 2>&1
  python3 - "$out" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
r = json.loads(text.split("WRK ", 1)[1].splitlines()[0])
cpu = int(text.split("SERVERCPU ", 1)[1].split()[0])
busy = int(text.split("machine CPU busy: ", 1)[1].split()[0])
print(f"{sys.argv[1].rsplit('/', 1)[1][:-4]:<28} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.1f}  p99 {r['p99_ms']:7.1f}  max {r['max_ms']:7.1f} ms  "
      f"errors {r['connect_errors'] + r['read_errors'] + r['write_errors'] + r['timeouts']} socket, {r['non_2xx']} non-2xx  "
      f"server CPU {cpu / max(r['requests'], 1):.2f} ms/request; machine {busy / r['seconds'] / 20:.0f}% busy, server {cpu / r['seconds'] / 20:.0f}%")
PY
  sleep 2
}
say "reads"
for c in 64 8; do
  for name in detect-marked trace-passage trace-marked attribute-marked attribute-passage; do
    run_wrk "$name-c$c" "$c" "$DURATION" "$W/$name.req"
  done
done

# ---- 5. Appends alone and under reads ----------------------------------------------
say "appends: capacity of the mixed reads (attribute of marked texts, trace of passages)"
run_wrk mixed-c64 64 "$DURATION" "$W/mixed.req"
CAPACITY=$(sed -n 's/^WRK //p' "$W/results/mixed-c64.txt" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rps"])')
HALF_PER_THREAD=$(python3 -c "print(round($CAPACITY / 2 / 2, 2))")
# Each appending request is an attribute with its report logged; the control sends the
# same requests unlogged, so the difference is the append (and the checkpoint it signs).
appends() { # appends NAME MODE
  $TOOLS appends "$BASE" "$TOKEN" "$W/marked.jsonl" "$APPEND_RATE" "$APPEND_SECONDS" "$W/results/$1.json" "$2" |
    tee "$W/results/$1.txt"
}
say "appends alone: $APPEND_RATE/s for $APPEND_SECONDS s, then the unlogged control"
appends appends-alone logged
appends control-alone anonymous
sleep 2
say "the same under reads offered at $HALF_PER_THREAD/s on each of 2 wrk threads (half of $CAPACITY/s)"
run_wrk mixed-half-c16 16 "$((2 * APPEND_SECONDS + 6))s" "$W/mixed.req" "$HALF_PER_THREAD" &
WRK_PID=$!
sleep 3
appends appends-under-reads logged
appends control-under-reads anonymous
wait $WRK_PID
curl -sf "$BASE/metrics" | grep -E '^tracemark_(requests|http)' > "$W/results/metrics.txt" || true
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=

# ---- 6. Nothing lost ---------------------------------------------------------------
say "checking the log"
"$BIN" --config "$W/tracemark.toml" log verify > "$W/results/verify.txt" 2>&1 && echo "log verify: ok" || echo "log verify: FAILED"
tail -n 3 "$W/results/verify.txt"
$TOOLS check "$LOG/log.db" "$W/results/appends-alone.json" "$W/results/appends-under-reads.json" | tee "$W/results/check.txt"
python3 - "$W" "$START_SIZE" <<'PY'
import json, sys
w, records = sys.argv[1], int(sys.argv[2])
check = json.loads(open(w + "/results/check.txt").read().split("CHECK ", 1)[1])
marked = sum(1 for _ in open(w + "/marked.jsonl"))
expected = records + marked + check["acknowledged"]
print(f"log entries {check['log_entries']} = {records} at the start + {marked} marked + {check['acknowledged']} acknowledged appends: "
      + ("yes" if check["log_entries"] == expected else f"NO (expected {expected})"))
PY
echo
$TOOLS summary "$W"/results/*-c64.txt "$W"/results/*-c8.txt "$W"/results/mixed-half-c16.txt \
  "$W"/results/appends-*.txt "$W"/results/control-*.txt
