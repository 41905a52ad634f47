#!/usr/bin/env bash
# Logged generations per second from one and from four `tracemark serve` processes on one
# PostgreSQL log (a benchmark, not a CI check; the CLI test
# `four_servers_on_one_postgres_log_...` is the correctness check). Each run starts the
# servers on a fresh schema, keeps CLIENTS closed-loop clients generating (8 tokens with
# the committed model, each generation one append) across the servers for DURATION
# seconds, then checks that every acknowledged generation has its own log index, that the
# log grew by exactly that many entries and that `log verify` passes.
#
#   scripts/log-servers.sh [DURATION] [CLIENTS]     (default 20 8; needs curl, python3)
#
# Environment: TRACEMARK_BIN (a release binary already built), TRACEMARK_BENCH_POSTGRES
# (default TRACEMARK_TEST_POSTGRES, else the CI's local database).
set -euo pipefail
DURATION=${1:-20}
CLIENTS=${2:-8}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$ROOT/crates/tracemark-server/scripts/lib.sh"
URL=${TRACEMARK_BENCH_POSTGRES:-${TRACEMARK_TEST_POSTGRES:-postgres://tracemark:tracemark@localhost/tracemark_test}}
BIN=$(tm_bin)
TOOLS="$ROOT/crates/tracemark-server/scripts/load_tools.py"
W=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$W"' EXIT

"$BIN" demo --out "$W/demo" >/dev/null
(umask 077; printf '%s\n' "log-servers-$(od -An -tx8 -N16 /dev/urandom | tr -d ' \n')" > "$W/demo/api-tokens")
TOKEN=$(tail -n 1 "$W/demo/api-tokens")

# The log's size, once `log verify` has checked the whole of it.
log_size() {
  "$BIN" --config "$W/demo/pg.toml" log verify --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])'
}

for N in 1 4; do
  SCHEMA="log_servers_$$_$N"
  # The demo's configuration with its log on PostgreSQL and limits above the offered load.
  sed '/^\[log\]/,/^$/d' "$W/demo/tracemark.toml" > "$W/demo/pg.toml"
  cat >> "$W/demo/pg.toml" <<CONF

[log]
postgres = "$URL"
schema = "$SCHEMA"

[server]
tokens_file = "api-tokens"
token_rate = 1000000.0
CONF
  BASES=()
  for k in $(seq 1 "$N"); do
    tm_serve "$BIN" "$W/demo/pg.toml" "$W/serve-$N-$k.out"
    PIDS+=("$SERVER")
    BASES+=("$BASE")
  done
  MODEL=$(curl -s "${BASES[0]}/v1/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
  before=$(log_size)
  python3 "$TOOLS" generations "$(IFS=,; echo "${BASES[*]}")" "$TOKEN" "$MODEL" "$CLIENTS" "$DURATION" "$W/gen-$N.json"
  kill "${PIDS[@]}"; wait "${PIDS[@]}" 2>/dev/null || true; PIDS=()
  after=$(log_size)
  acknowledged=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["acknowledged"])' "$W/gen-$N.json")
  echo "CHECK servers=$N log grew by $((after - before)), acknowledged $acknowledged"
  [ "$((after - before))" -ge "$acknowledged" ] || { echo "acknowledged generations are missing" >&2; exit 1; }
  echo "CHECK servers=$N log verify: ok"
done
