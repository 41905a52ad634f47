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
# The read-path load test (trace, attribute, appends on a 100 M-token index and a 1 M-record
# log) is scripts/load-reads.sh; both share scripts/lib.sh.
. "$ROOT/crates/tracemark-server/scripts/lib.sh"
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
# TRACEMARK_BIN runs a binary already built (e.g. while the tree is being edited).
BIN=$(tm_bin)
W=$(mktemp -d)
SERVER=
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
tm_serve "$BIN" "$W/demo/tracemark.toml" "$W/serve.out"

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
CPU0=$(tm_cpu_ticks "$SERVER")
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$W/detect.lua" "$BASE/v1/detect"
CPU1=$(tm_cpu_ticks "$SERVER")
echo "server CPU during the run: $(( (CPU1 - CPU0) / $(getconf CLK_TCK) )) s"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
curl -sf "$BASE/metrics" | grep -E 'detect|rate_limited'
