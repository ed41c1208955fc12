#!/usr/bin/env bash
# fuzz.sh — build every cargo-fuzz target in fuzz/ and run each for a bounded time.
#
# Usage:
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 30)
#
# Environment:
#   FUZZ_TARGETS      space-separated targets to run (default: all, from `cargo fuzz list`)
#   FUZZ_TARGET_DIR   cargo's target folder for the fuzz build (default fuzz/target; the
#                     main crate's CARGO_TARGET_DIR is not used, so the two never collide)
#
# Each target starts from its committed seed corpus (fuzz/corpus/<target>, read only) plus,
# for the config and compose targets, the repository's own example configs and compose
# files as they are now; new inputs go to a temporary folder. Per target it prints the
# executions and crashes (a panic, a failed property, an input that runs over 10 s or 2 GB),
# then `fuzz: N targets, E executions, C crashes`. It exits 1 on any crash, keeping the
# crashing inputs in fuzz/artifacts/<target>/ with the command that replays them.
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

secs="${1:-30}"
if ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2
    exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz with a nightly toolchain is needed:" >&2
    echo "  rustup toolchain install nightly && cargo install cargo-fuzz --locked" >&2
    exit 2
fi

export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$root/fuzz/target}"
work="$(mktemp -d "${TMPDIR:-/tmp}/tta-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

targets="${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"
# Built once (debug assertions on: integer overflow is a crash too), then each binary is
# run directly, so a source change during the run cannot trigger a rebuild.
echo "fuzz: building $(echo "$targets" | wc -w) targets" >&2
for t in $targets; do
    cargo +nightly fuzz build --debug-assertions "$t" >&2
done
triple="$(rustc +nightly -vV | sed -n 's/^host: //p')"
bin_dir="$CARGO_TARGET_DIR/$triple/release"

# Seeds taken from the repository as it is now (they change with it).
extra_seeds() {
    local target="$1" dir="$work/seeds-$1"
    mkdir -p "$dir"
    case "$target" in
    config_load | env_override)
        find examples config -name '*.yaml' -type f 2>/dev/null | while read -r f; do
            cp "$f" "$dir/$(echo "$f" | tr '/' '_')"
        done
        ;;
    compose_discovery)
        find examples tests/fixtures -name '*compose*.y*ml' -type f 2>/dev/null | while read -r f; do
            cp "$f" "$dir/$(echo "$f" | tr '/' '_')"
        done
        ;;
    esac
    echo "$dir"
}

total_targets=0
total_execs=0
total_crashes=0
for t in $targets; do
    total_targets=$((total_targets + 1))
    corpus="$work/corpus-$t"
    artifacts="$work/artifacts-$t"
    mkdir -p "$corpus" "$artifacts" "fuzz/corpus/$t"
    log="$work/$t.log"
    status=0
    # The outer timeout is a guard against libFuzzer itself getting stuck.
    timeout --kill-after=10 $((secs + 120)) \
        "$bin_dir/$t" "$corpus" "fuzz/corpus/$t" "$(extra_seeds "$t")" \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
    execs="${execs:-0}"
    crashes="$(find "$artifacts" -type f | wc -l)"
    if [[ "$status" -ne 0 && "$crashes" -eq 0 ]]; then
        # It failed without leaving an input (a build error, the guard timeout): say why.
        crashes=1
        echo "fuzz: $t exited with status $status and left no input; last lines:" >&2
        tail -n 30 "$log" >&2
    fi
    if [[ "$crashes" -gt 0 ]]; then
        mkdir -p "fuzz/artifacts/$t"
        cp "$artifacts"/* "fuzz/artifacts/$t/" 2>/dev/null || true
        cp "$log" "fuzz/artifacts/$t/fuzz.log"
        grep -m 1 -E "panicked at|ERROR: libFuzzer|SUMMARY" "$log" >&2 || true
        for a in "fuzz/artifacts/$t"/*; do
            [[ "$a" == */fuzz.log ]] && continue
            echo "fuzz: replay with: cargo +nightly fuzz run --debug-assertions $t $a" >&2
        done
    fi
    printf 'fuzz: %-18s %10d executions, %d crashes (%d s, corpus %d inputs)\n' \
        "$t" "$execs" "$crashes" "$secs" "$(find "$corpus" "fuzz/corpus/$t" -type f | wc -l)"
    total_execs=$((total_execs + execs))
    total_crashes=$((total_crashes + crashes))
done

echo "fuzz: $total_targets targets, $total_execs executions, $total_crashes crashes"
[[ "$total_crashes" -eq 0 ]]
