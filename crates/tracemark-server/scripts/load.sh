#!/usr/bin/env bash
# The service's load test (a benchmark, not a CI check): `POST /v1/detect` with a marked
# text of 300 tokens, 64 connections for 60 s, from wrk on the same machine, with the
# rate limits set above the offered load. Prints wrk's report (requests/s, latency
# percentiles, errors) and the server's CPU time.
#
#   scripts/load.sh [DURATION] [CONNECTIONS]     (default 60s 64; needs wrk and curl)
set -euo pipefail
DURATION=${1:-60s}
CONNECTIONS=${2:-64}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
# TRACEMARK_BIN runs a binary already built (e.g. while the tree is being edited).
if [ -z "${TRACEMARK_BIN:-}" ]; then
  cargo build --release -q -p tracemark-cli --manifest-path "$ROOT/Cargo.toml"
fi
BIN=${TRACEMARK_BIN:-$CARGO_TARGET_DIR/release/tracemark}
W=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$W"' EXIT

# The demo's work folder, served with limits above the offered load.
"$BIN" demo --out "$W/demo" >/dev/null
(umask 077; printf '%s\n' "load-test-$(od -An -tx8 -N16 /dev/urandom | tr -d ' \n')" > "$W/demo/api-tokens")
TOKEN=$(tail -n 1 "$W/demo/api-tokens")
cat >> "$W/demo/tracemark.toml" <<CONF

[server]
tokens_file = "api-tokens"
anonymous_rate = 1000000.0
token_rate = 1000000.0
CONF
"$BIN" --config "$W/demo/tracemark.toml" serve --addr 127.0.0.1:0 > "$W/serve.out" &
SERVER=$!
for _ in $(seq 1 120); do grep -q '^listening on' "$W/serve.out" 2>/dev/null && break; sleep 0.5; done
BASE=$(sed -n 's/^listening on //p' "$W/serve.out" | head -n 1)
[ -n "$BASE" ] || { echo "the server did not start" >&2; cat "$W/serve.out" >&2; exit 1; }

# One marked text of 300 tokens, as the detect request's body.
MODEL=$(curl -sf "$BASE/v1/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
curl -sf "$BASE/v1/completions" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"model\": \"$MODEL\", \"prompt\": \"The harbour at dawn\", \"max_tokens\": 300, \"seed\": 1}" |
  python3 -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps({"text": r["choices"][0]["text"]}))' > "$W/body.json"
curl -sf "$BASE/v1/detect" -H 'Content-Type: application/json' -d @"$W/body.json" |
  python3 -c 'import json,sys; d=json.load(sys.stdin)["result"]["detections"][0]; print("one request: detected", d["detected"], "p =", d["p_value"], "over", d["scored_tokens"], "scored tokens")'
cat > "$W/detect.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$W/body.json", "rb"); wrk.body = f:read("*a"); f:close()
LUA

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
CPU0=$(awk '{print $14+$15}' /proc/$SERVER/stat)
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$W/detect.lua" "$BASE/v1/detect"
CPU1=$(awk '{print $14+$15}' /proc/$SERVER/stat)
echo "server CPU during the run: $(( (CPU1 - CPU0) / $(getconf CLK_TCK) )) s"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
curl -sf "$BASE/metrics" | grep -E 'detect|rate_limited'
