#!/usr/bin/env bash
# Side by side with infini-gram on the anchor corpus: the figures of the README's
# "Measured" section.
#
#   scripts/anchor.sh WORK_DIR [--ig-indexer]
#
# Needs: WORK_DIR/corpus/corpus.u16 (made by `infinigram_anchor.py make-corpus`, a script
# of the side-by-side comparison tools that is not part of this repository), WORK_DIR/q.jsonl
# (its sample-queries: 1,000 present + 1,000 mutated n-grams), and a venv at
# WORK_DIR/venv with `pip install infini-gram==2.6.0 numpy`. No test or build needs any
# of this.
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
  # infini-gram 2.6.0's own indexer (the wheel's rust_indexing) as its indexing.py runs
  # it (two parts, ratio 4, u16), but with a 1,000-byte overlap (--hacksize) instead of
  # 100,000: with 100,000 its merge is quadratic on this corpus's long repeats and does
  # not finish in an hour here. Counts of queries up to 500 tokens stay exact.
  RI=$(dirname "$("$PY" -c 'import infini_gram, os; print(os.path.realpath(infini_gram.__file__))')")/rust_indexing
  D=$W/igown H=1000
  N=$(stat -c %s "$W/corpus/corpus.u16"); S=$((N / 2)); S=$((S + S % 2))
  rm -rf "$D"; mkdir -p "$D/parts" "$D/merged"
  cp "$W/corpus/corpus.u16" "$D/tokenized.0"; cp "$W/igx/offset.0" "$D/offset.0"
  echo "load before infini-gram's indexer: $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "make-part x2: wall %e s, user %U s, sys %S s, maxrss %M KB" bash -c \
    "'$RI' make-part --data-file '$D/tokenized.0' --parts-dir '$D/parts' --start-byte 0 --end-byte $((S + H)) --ratio 4 --token-width 2 &
     '$RI' make-part --data-file '$D/tokenized.0' --parts-dir '$D/parts' --start-byte $S --end-byte $N --ratio 4 --token-width 2 & wait"
  /usr/bin/time -f "merge: wall %e s, user %U s, sys %S s, maxrss %M KB" "$RI" merge --data-file "$D/tokenized.0" \
    --parts-dir "$D/parts" --merged-dir "$D/merged" --num-threads 2 --hacksize $H --ratio 4 --token-width 2
  /usr/bin/time -f "concat: wall %e s, user %U s, sys %S s, maxrss %M KB" "$RI" concat --data-file "$D/tokenized.0" \
    --merged-dir "$D/merged" --merged-file "$D/table.0" --num-threads 2 --ratio 4 --token-width 2
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  rm -rf "$D/parts" "$D/merged"
  "$PY" "$SIDE" count --index-dir "$D" --queries "$W/q.jsonl" --ours "$W/ours-counts.json"
  "$PY" "$SIDE" trace --index-dir "$D" --windows "$W/windows.jsonl" --ours "$W/ours-lengths.json"
fi
