#!/usr/bin/env bash
# coverage.sh — line coverage of tta over its unit, integration and real-engine tests, with
# a gate.
#
# Usage:
#   scripts/coverage.sh [MIN_PERCENT]        (default 85)
#
# Runs `cargo test` once under cargo-llvm-cov (source-based coverage, llvm-tools-preview).
# The `tta` binary that the integration tests run as a subprocess (CARGO_BIN_EXE_tta) is
# instrumented too and its profiles are merged, so the figure counts what the CLI really
# executed. Real-engine tests count when an engine answers (`scripts/engine.sh up`; set
# TTA_E2E=1 to make a missing engine a failure, as CI does). Lines of fuzz/, benches/,
# examples/ and tests/ are left out of the figure: only the crate's own source counts
# (unit tests inside src/ cannot be told apart and count as source).
#
# Prints the per-file table, then `coverage: P% of lines (covered of total)`, and exits 1
# when P is under MIN_PERCENT or a test failed. The HTML report is written with COVERAGE_HTML=1 (to
# target/llvm-cov/html).
#
# Needs: rustup component add llvm-tools-preview && cargo install cargo-llvm-cov --locked
set -euo pipefail
cd "$(dirname "$0")/.."

min="${1:-85}"
if ! [[ "$min" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
    echo "usage: scripts/coverage.sh [MIN_PERCENT]" >&2
    exit 2
fi
if ! cargo llvm-cov --version >/dev/null 2>&1; then
    echo "coverage: cargo-llvm-cov is needed:" >&2
    echo "  rustup component add llvm-tools-preview && cargo install cargo-llvm-cov --locked" >&2
    exit 2
fi

ignore='(^|/)(fuzz|benches|examples|tests)/'
# The README's own `cargo test` in cargo-llvm-cov's environment: unlike `cargo llvm-cov`
# (which runs `cargo test --tests`), it also builds the examples the integration tests run
# (tta-demo-server). Every test runs even when one fails, so the figure is still measured; the
# failure fails the script.
# shellcheck disable=SC1090  # the environment cargo-llvm-cov prints
source <(cargo llvm-cov show-env --export-prefix)
cargo llvm-cov clean --workspace
tests_failed=0
cargo test --locked --no-fail-fast || tests_failed=1
report="$(mktemp)"
merge_log="$(mktemp)"
trap 'rm -f "$report" "$merge_log"' EXIT
# Tests end some `tta` processes with SIGKILL (a guard that outlives its test, a second
# Ctrl-C); one killed while it writes its profile leaves a torn file. Such a profile is left
# out and counted here instead of failing the merge of all the others (`--failure-mode all`:
# the report fails only when no profile can be read).
profiles="$(find target -maxdepth 1 -name '*.profraw' | wc -l)"
cargo llvm-cov report --summary-only --failure-mode all --ignore-filename-regex "$ignore" \
    2>"$merge_log" | tee "$report" || { cat "$merge_log" >&2; exit 1; }
cat "$merge_log" >&2
torn="$(grep -c 'invalid instrumentation profile data' "$merge_log" || true)"
echo "coverage: ${profiles} profiles, ${torn} torn by a killed process and left out"
if [[ "${COVERAGE_HTML:-0}" == 1 ]]; then
    cargo llvm-cov report --html --failure-mode all --ignore-filename-regex "$ignore"
fi

# TOTAL  regions missed cover  functions missed executed  lines missed cover  ...
read -r lines missed < <(awk '$1 == "TOTAL" { print $8, $9 }' "$report")
if [[ -z "${lines:-}" || "$lines" -eq 0 ]]; then
    echo "coverage: no TOTAL line in the report" >&2
    exit 1
fi
covered=$((lines - missed))
percent="$(awk -v c="$covered" -v t="$lines" 'BEGIN { printf "%.2f", 100 * c / t }')"
echo "coverage: ${percent}% of lines (${covered} of ${lines}), gate ${min}%"
if [[ "$tests_failed" -eq 1 ]]; then
    echo "coverage: some tests failed (see above); the figure counts the ones that ran" >&2
fi
if awk -v p="$percent" -v m="$min" 'BEGIN { exit !(p < m) }'; then
    echo "coverage: ${percent}% is under the ${min}% gate; the weakest files:" >&2
    awk 'NR > 2 && $1 != "TOTAL" && $8 > 0 { printf "%6.2f%%  %5d missed  %s\n", 100 * ($8 - $9) / $8, $9, $1 }' "$report" \
        | sort -n | head -n 10 >&2
    exit 1
fi
exit "$tests_failed"
