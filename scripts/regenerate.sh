#!/usr/bin/env bash
# Regenerates the checked-in files the binary generates (completions, man page, JSON Schema);
# a test fails when they are out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --locked
tta=target/debug/tta
"$tta" completions bash > completions/tta.bash
"$tta" completions zsh > completions/_tta
"$tta" completions fish > completions/tta.fish
"$tta" man > docs/tta.1
"$tta" config schema > docs/tta.schema.json
