# Shared by the load scripts (sourced, not run): the binary, the server, wrk's Lua.
# Needs ROOT set to the repository's root.

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

# The release binary: TRACEMARK_BIN runs one already built (e.g. while the tree is being
# edited); otherwise it is built.
tm_bin() {
  if [ -z "${TRACEMARK_BIN:-}" ]; then
    cargo build --release -q -p tracemark-cli --manifest-path "$ROOT/Cargo.toml" >&2
  fi
  echo "${TRACEMARK_BIN:-$CARGO_TARGET_DIR/release/tracemark}"
}

# tm_serve BIN CONFIG OUT: starts `serve` on a free port; sets SERVER (its pid) and BASE.
tm_serve() {
  "$1" --config "$2" serve --addr 127.0.0.1:0 > "$3" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 240); do
    grep -q '^listening on' "$3" 2>/dev/null && break
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.5
  done
  BASE=$(sed -n 's/^listening on //p' "$3" | head -n 1)
  [ -n "$BASE" ] || { echo "the server did not start" >&2; cat "$3" >&2; return 1; }
}

# The CPU time (user + system) of a process, in clock ticks.
tm_cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

# tm_wrk_lua OUT REQUESTS [RATE]: a wrk script that sends the requests of REQUESTS (one a
# line: `PATH<TAB>JSON body<TAB>bearer token or -`), each connection taking the next in
# turn, and at the end prints one line `WRK {json}`: requests, req/s, latency
# percentiles (ms), socket errors and non-2xx answers (wrk's `status` errors: HTTP
# status > 399). With RATE (requests/s of each of wrk's threads, paced through wrk's
# `delay()` on the thread's own clock), the load is offered at that rate
# (connections then only bound what is in flight); latency is measured from each
# request's sending, so time waiting for its slot is not counted.
tm_wrk_lua() {
  cat > "$1" <<LUA
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } tm_timeval;
int gettimeofday(tm_timeval *tv, void *tz);
]]
local tv = ffi.new("tm_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
end
local lines = {}
for line in io.lines("$2") do lines[#lines + 1] = line end
local rate = tonumber("${3:-0}")
local nthreads = 0
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end
local reqs, i, slot, interval = {}, 0, 0, 0
function init(args)
  for _, line in ipairs(lines) do
    local path, body, token = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
    local headers = { ["Content-Type"] = "application/json" }
    if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
    reqs[#reqs + 1] = wrk.format("POST", path, headers, body)
  end
  i = tid or 0
  if rate > 0 then interval = 1000 / rate end
end
function request()
  i = i + 1
  return reqs[(i % #reqs) + 1]
end
function delay()
  if interval == 0 then return 0 end
  local now = now_ms()
  slot = math.max(slot + interval, now)
  return math.floor(slot - now)
end
function done(s, lat, req)
  local e = s.errors
  io.write(string.format('WRK {"requests": %d, "seconds": %.2f, "rps": %.1f, "mean_ms": %.2f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, "non_2xx": %d}\n',
    s.requests, s.duration / 1e6, s.requests / (s.duration / 1e6), lat.mean / 1000,
    lat:percentile(50) / 1000, lat:percentile(90) / 1000, lat:percentile(99) / 1000, lat.max / 1000,
    e.connect, e.read, e.write, e.timeout, e.status))
end
LUA
}
