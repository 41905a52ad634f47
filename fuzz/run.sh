#!/usr/bin/env bash
# Builds and runs every fuzz target of both fuzz crates (fuzz/ and
# crates/tracemark-rights/fuzz/) for SECONDS each, PARALLEL at a time, under nice 19, and
# writes a summary table read from libFuzzer's final stats.
#
#   fuzz/run.sh [-s SECONDS] [-j PARALLEL] [-o SUMMARY] [--no-build] [TARGET...]
#
# TARGET is a target's name (`server`, `robots`, ...); default: every target but
# `make_seeds`. Stable toolchain: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags.
# Environment: FUZZ_TARGET_DIR (default /var/cache/tracemark/fuzz-target; one sub-folder
# per crate), SANITIZER (default address; `none` to build without), FUZZ_TIMEOUT
# (seconds a single input may take, default 120), FUZZ_RSS_MB (default 4096),
# FUZZ_MALLOC_MB (the largest single allocation an input may make, default 1024: more
# from inputs of a few KB is a memory-amplification bug, reported as an OOM crash).
set -euo pipefail

seconds=600
parallel=1
summary=""
build=1
targets=()
while (($#)); do
    case "$1" in
        -s) seconds="$2"; shift 2 ;;
        -j) parallel="$2"; shift 2 ;;
        -o) summary="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
rights="$root/crates/tracemark-rights/fuzz"
target_base="${FUZZ_TARGET_DIR:-/var/cache/tracemark/fuzz-target}"
sanitizer="${SANITIZER:-address}"
timeout_s="${FUZZ_TIMEOUT:-120}"
rss_mb="${FUZZ_RSS_MB:-4096}"
malloc_mb="${FUZZ_MALLOC_MB:-1024}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="$here/out/$stamp"
summary="${summary:-$out/summary.md}"
mkdir -p "$out" "$(dirname "$summary")"
export RUSTC_BOOTSTRAP=1

# crate dir, target dir and dictionary of each target.
declare -A crate_of dict_of
for t in text_wrapper manifest keyfile note_receipt checkpoint server; do crate_of[$t]=main; done
for t in robots rsl tdmrep html check usage_pref; do crate_of[$t]=rights; done
dict_of=([keyfile]=json.dict [server]=json.dict [note_receipt]=note.dict
         [checkpoint]=note.dict [manifest]=c2pa.dict [text_wrapper]=c2pa.dict
         [tdmrep]=json.dict [check]=json.dict)
all=(text_wrapper manifest keyfile note_receipt checkpoint server robots rsl tdmrep html check usage_pref)
((${#targets[@]})) || targets=("${all[@]}")
for t in "${targets[@]}"; do
    [[ -n "${crate_of[$t]:-}" ]] || { echo "unknown target $t (known: ${all[*]})" >&2; exit 2; }
done

crate_dir() { [[ "$1" == main ]] && echo "$here" || echo "$rights"; }
project_dir() { [[ "$1" == main ]] && echo "$root" || echo "$root/crates/tracemark-rights"; }

if ((build)); then
    for crate in main rights; do
        echo "== building the $crate fuzz crate (sanitizer: $sanitizer)"
        (cd "$(project_dir $crate)" &&
            CARGO_TARGET_DIR="$target_base/$crate" nice -n 19 \
                cargo fuzz build -O --sanitizer "$sanitizer")
    done
fi

triple="$(rustc -vV | sed -n 's/^host: //p')"
run_one() {
    local t="$1" crate="${crate_of[$1]}" dir bin corpus seeds artifacts log dict start end
    dir="$(crate_dir "$crate")"
    bin="$target_base/$crate/$triple/release/$t"
    corpus="$dir/corpus/$t"
    seeds="$dir/seeds/$t"
    artifacts="$dir/artifacts/$t"
    log="$out/$t.log"
    mkdir -p "$corpus" "$artifacts" "$out/tmp-$t"
    local -a args=(-max_total_time="$seconds" -print_final_stats=1 -timeout="$timeout_s"
                   -rss_limit_mb="$rss_mb" -malloc_limit_mb="$malloc_mb" -artifact_prefix="$artifacts/")
    dict="${dict_of[$t]:-}"
    [[ -n "$dict" ]] && args+=(-dict="$here/dicts/$dict")
    local -a dirs=("$corpus")
    [[ -d "$seeds" ]] && dirs+=("$seeds")
    # crash-, oom-, timeout- and leak- files; libFuzzer's slow-unit- files are not crashes.
    count() { find "$artifacts" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) | wc -l; }
    local before
    before="$(count)"
    start="$(date +%s)"
    echo "$(date -u +%H:%M:%S) start $t"
    TRACEMARK_FUZZ_TMP="$out/tmp-$t" nice -n 19 "$bin" "${args[@]}" "${dirs[@]}" >"$log" 2>&1 || true
    end="$(date +%s)"
    rm -rf "$out/tmp-$t"
    local execs rate rss crashes files
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    rss="$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)"
    crashes=$(( $(count) - before ))
    files="$(find "$corpus" -type f | wc -l)"
    echo "$(date -u +%H:%M:%S) done  $t: ${execs:-?} execs, ${rate:-?}/s, $crashes crashes"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$crate" "$((end - start))" \
        "${execs:-?}" "${rate:-?}" "$files" "${rss:-?}" "$crashes" >"$out/$t.row"
}

echo "== running ${#targets[@]} targets, ${seconds}s each, $parallel at a time; logs in $out"
running=0
for t in "${targets[@]}"; do
    if ((running >= parallel)); then
        wait -n || true
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait

{
    echo "Fuzz run $stamp: ${seconds}s a target, $parallel at a time, sanitizer $sanitizer, malloc limit ${malloc_mb} MB, commit $(git -C "$root" rev-parse --short HEAD)."
    echo
    echo "| target | crate | seconds | executions | exec/s | corpus files | peak RSS MB | crashes |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    for t in "${targets[@]}"; do cat "$out/$t.row" 2>/dev/null || echo "| $t | ${crate_of[$t]} | - | - | - | - | - | did not run |"; done
} | tee "$summary"
echo "summary: $summary"
