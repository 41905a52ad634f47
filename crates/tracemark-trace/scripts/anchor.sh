#!/usr/bin/env bash
# Side by side with infini-gram on the anchor corpus: the figures of the README's
# "Measured" section.
#
#   scripts/anchor.sh WORK_DIR [--ig-indexer]
#
# Needs: WORK_DIR/corpus/corpus.u16 (made by ../shared/tools/infinigram_anchor.py
# make-corpus), WORK_DIR/q.jsonl (its sample-queries: 1,000 present + 1,000 mutated
# n-grams), and a venv at WORK_DIR/venv with `pip install infini-gram==2.6.0 numpy`.
# WORK_DIR's path must not contain tokenized/table/offset/metadata/metaoff/unigram
# (infini-gram's engine classifies files by substrings of their full path).
#
# Steps: build our index (timed, with /usr/bin/time), export it in infini-gram's format,
# count the queries with both engines on those same files (counts must be equal), take
# 20 windows of 450 tokens and find the longest match at every position with both
# engines (lengths must be equal), and with --ig-indexer also time infini-gram's own
# indexer on the same corpus. Load averages are printed with every figure: on a shared
# machine wall times are upper bounds.
set -euo pipefail
W=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PY=$W/venv/bin/python
SIDE=$ROOT/crates/tracemark-trace/scripts/infinigram_side.py
cargo build --release -p tracemark-trace --example anchor --manifest-path "$ROOT/Cargo.toml"
A=$CARGO_TARGET_DIR/release/examples/anchor
rm -rf "$W/ours" "$W/ours.partial" "$W/igx" "$W/igx.partial"
echo "load before build: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -v "$A" build "$W/corpus/corpus.u16" "$W/ours" 2> "$W/ours-time.txt"
grep -E "User time|System time|Elapsed|Maximum resident" "$W/ours-time.txt"
echo "load after build: $(cut -d' ' -f1-3 /proc/loadavg)"
"$A" export "$W/ours" "$W/igx"
"$A" count "$W/ours" "$W/q.jsonl" "$W/ours-counts.json"
"$PY" "$SIDE" count --index-dir "$W/igx" --queries "$W/q.jsonl" --ours "$W/ours-counts.json"
"$A" windows "$W/corpus/corpus.u16" 450 20 "$W/windows.jsonl"
"$A" trace "$W/ours" "$W/windows.jsonl" "$W/ours-lengths.json"
"$PY" "$SIDE" trace --index-dir "$W/igx" --windows "$W/windows.jsonl" --ours "$W/ours-lengths.json"
if [[ "${2:-}" == "--ig-indexer" ]]; then
  # infini-gram's own indexer (the wheel's rust_indexing), through the anchor script.
  "$PY" "$ROOT/../shared/tools/infinigram_anchor.py" build --corpus "$W/corpus/corpus.u16" \
    --index-dir "$W/igidx" --rebuild
fi
