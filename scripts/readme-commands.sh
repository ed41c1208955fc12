#!/usr/bin/env bash
# readme-commands.sh — run the README's two commands the way a newcomer does: as written,
# in a fresh `git clone`, one after the other.
#
# Usage:
#   scripts/readme-commands.sh [--keep]
#
# 1. Reads the two commands from README.md's `## Two commands` section: it must hold
#    exactly two ```sh blocks of one line each (the quick start, then the tests); any
#    other shape is an error, so the README cannot grow a command this script skips.
# 2. Clones this checkout's commit (HEAD; uncommitted changes are not in it, and the
#    script says so) into a new temporary folder. Nothing is copied or linked into it.
# 3. Runs command 1 with `bash -c` in the clone's root, then command 2 in the folder
#    command 1 left the shell in (as when both are typed into one terminal), then
#    command 1 again, in the clone's root, as a user who comes back the next day.
#    After each: no process may still run in the clone, and `git status` must be clean
#    (no tracked file changed, nothing left that .gitignore does not cover).
# 4. Prints each command's exit code and time, and exits 1 when any step failed.
#
# The environment is passed through: CI sets TTA_E2E=1 and starts the engine first
# (`scripts/engine.sh up`), so command 2 fails when a real-engine test cannot run.
# `cargo install` writes to ${CARGO_INSTALL_ROOT:-$CARGO_HOME}/bin (default
# ~/.cargo/bin), which rustup's installer puts on a user's PATH; when it is not on PATH
# here, it is added in front, with a note. A `tta` or `tta-demo-server` elsewhere on PATH
# before it would be run instead of the ones command 1 installs: that is an error.
# --keep leaves the clone in place and prints where it is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
readme="$root/README.md"

keep=0
case "${1:-}" in
    "") ;;
    --keep) keep=1 ;;
    *)
        echo "usage: scripts/readme-commands.sh [--keep]" >&2
        exit 2
        ;;
esac

say() { printf 'readme-commands: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}

# ---- 1. the commands, from the README ---------------------------------------------------
# Prints one line per ```sh block of the `## Two commands` section; a block that does not
# hold exactly one line prints a marker that fails the shape check below.
extract() {
    awk '
        /^## / { in_section = ($0 == "## Two commands"); next }
        !in_section { next }
        /^```sh[[:space:]]*$/ && !in_block { in_block = 1; lines = 0; cmd = ""; next }
        /^```[[:space:]]*$/ && in_block {
            in_block = 0
            print (lines == 1 ? cmd : "<a block of " lines " lines>")
            next
        }
        /^```/ { print "<a fence that is not ```sh: " $0 ">"; next }
        in_block && NF > 0 { lines++; cmd = $0 }
        END { if (in_block) print "<an unclosed block>" }
    ' "$readme"
}
mapfile -t commands < <(extract)
if [[ ${#commands[@]} -ne 2 || "${commands[0]}" == "<"* || "${commands[1]}" == "<"* ]]; then
    say "README.md's \`## Two commands\` section must hold exactly two \`\`\`sh blocks of one"
    say "line each (the quick start, then the tests); found ${#commands[@]} block(s):"
    for c in "${commands[@]}"; do say "  $c"; done
    exit 1
fi
cmd1="${commands[0]}"
cmd2="${commands[1]}"
say "command 1: $cmd1"
say "command 2: $cmd2"

# ---- 2. PATH, as a user with a rustup-installed toolchain has it ------------------------
bindir="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
case ":$PATH:" in
    *":$bindir:"*) ;;
    *)
        say "note: $bindir (where cargo install puts programs) is not on PATH; adding it in"
        say "front, as rustup's installer does for a user"
        export PATH="$bindir:$PATH"
        ;;
esac
for program in tta tta-demo-server; do
    found="$(type -P "$program" || true)"
    if [[ -n "$found" && "$(realpath "$found")" != "$(realpath -m "$bindir/$program")" ]]; then
        die "$found comes before $bindir on PATH: command 1 would run it instead of the $program it installs; remove it or reorder PATH"
    fi
done

# ---- 3. a fresh clone of this commit -----------------------------------------------------
commit="$(git -C "$root" rev-parse HEAD)"
if [[ -n "$(git -C "$root" status --porcelain)" ]]; then
    say "note: $root has uncommitted changes; they are not in the clone (commit ${commit:0:12})"
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/tta-readme.XXXXXX")"
clone="$work/tta"

# Processes whose working folder is in the clone: what the commands left running.
procs_in_clone() {
    local d cwd
    for d in /proc/[0-9]*; do
        cwd="$(readlink "$d/cwd" 2>/dev/null || true)"
        if [[ "$cwd" == "$clone" || "$cwd" == "$clone/"* ]]; then
            printf '%s %s (in %s)\n' "${d#/proc/}" "$(cat "$d/comm" 2>/dev/null)" "${cwd#"$clone"/}"
        fi
    done
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    local pid _
    # Stop whatever a failed command left running in the clone (only there).
    while read -r pid _; do
        if [[ -n "$pid" ]]; then kill -TERM "$pid" 2>/dev/null || true; fi
    done < <(procs_in_clone)
    if [[ "$keep" -eq 1 ]]; then
        say "the clone is kept in $clone"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

git clone --quiet --no-hardlinks "$root" "$clone"
if ! git -C "$clone" cat-file -e "$commit^{commit}" 2>/dev/null; then
    git -C "$clone" fetch --quiet origin "$commit" || die "cannot fetch commit $commit into the clone"
fi
git -C "$clone" checkout --quiet --detach "$commit"
say "fresh clone of ${commit:0:12} in $clone"

# ---- 4. the commands ---------------------------------------------------------------------
failed=0
summary=()

# run NAME DIR COMMAND: runs COMMAND with `bash -c` in DIR; sets `ended_in` to the folder
# the shell was in when the command ended.
run() {
    local name="$1" dir="$2" cmd="$3" start rc secs left status where
    where="$work/ended-in"
    rm -f "$where"
    printf '\n=== %s, in %s: %s ===\n' "$name" "${dir#"$work"/}" "$cmd" >&2
    start="$(date +%s)"
    rc=0
    # The trap records the shell's folder however the command ends.
    (cd "$dir" && bash -c "trap 'pwd >\"$where\"' EXIT; $cmd") || rc=$?
    secs=$(($(date +%s) - start))
    ended_in="$(cat "$where" 2>/dev/null || echo "$dir")"

    left="$(procs_in_clone)"
    status="$(git -C "$clone" status --porcelain)"
    local verdict="ok"
    if [[ "$rc" -ne 0 ]]; then verdict="FAILED"; fi
    if [[ -n "$left" ]]; then
        say "$name left processes running in the clone:"
        printf '  %s\n' "$left" >&2
        verdict="FAILED"
    fi
    if [[ -n "$status" ]]; then
        say "$name left the clone different from the commit (git status --porcelain):"
        printf '%s\n' "$status" | sed 's/^/  /' >&2
        verdict="FAILED"
    fi
    [[ "$verdict" == ok ]] || failed=1
    summary+=("$(printf '%-22s exit %3d  %5d s  %s' "$name" "$rc" "$secs" "$verdict")")
}

run "command 1" "$clone" "$cmd1"
run "command 2" "$ended_in" "$cmd2"
run "command 1, once more" "$clone" "$cmd1"

printf '\n' >&2
say "results (commit ${commit:0:12}, TTA_E2E=${TTA_E2E:-unset}):"
for line in "${summary[@]}"; do say "  $line"; done
exit "$failed"
