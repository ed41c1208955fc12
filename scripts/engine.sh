#!/usr/bin/env bash
# engine.sh — bring up, stop and inspect a local Docker engine for the
# real-engine end-to-end tests (tests/fixtures/e2e/) and the sample
# repositories in examples/compose/.
#
# Usage:
#   scripts/engine.sh up      start dockerd if no engine answers, then make sure
#                             tta-e2e/busybox:latest is this script's image (checked
#                             by content; rebuilt when missing or foreign)
#   scripts/engine.sh down    stop the dockerd that `up` started (and only that one)
#   scripts/engine.sh status  report whether an engine answers (exit 0) or not (exit 1)
#
# Environment:
#   TTA_ENGINE_LOG     dockerd log file (default /tmp/tta-dockerd.log)
#   TTA_DOCKERD_ARGS   extra arguments appended to the dockerd command line
#
# Findings on a Debian bookworm machine (root, cgroup v1, docker.io 20.10,
# docker-compose 1.29.2, busybox-static 1.35):
#   * A plain `dockerd --host unix:///var/run/docker.sock` works: with no
#     containerd running, dockerd starts its own (socket under
#     /var/run/docker/containerd/). The engine answers `docker info` about
#     0.5 s after launch.
#   * iptables and the docker0 bridge work, so no `--iptables=false` or
#     `--bridge=none` is needed; ports published on 127.0.0.1 are reachable
#     from the host (curl/wget to 127.0.0.1:<published port> answer).
#   * The userland docker-proxy accepts host TCP connections on a published
#     port even while nothing listens inside the container (the connection is
#     then reset), so a bare TCP connect from the host is not a readiness
#     signal; an HTTP request or the container healthcheck is.
#   * busybox as PID 1 ignores SIGTERM, so `docker stop` waits out the grace
#     period (10 s); compose files here use `init: true` (docker-init/tini),
#     which makes stops take ~0.2 s.
#   * No registry is reachable, so nothing can be pulled. The test image is
#     built locally from the static busybox binary with `docker import`.
#   * A tag is only a name: an image from elsewhere tagged tta-e2e/busybox:latest
#     broke the real-engine tests once. The image is therefore checked by content
#     (see ensure_image) and rebuilt when it is not this script's.
#   * The imported image has no PATH of its own; it is set explicitly with
#     `--change 'ENV PATH=...'` so `sh -c`, healthchecks and `exec` all resolve.
set -euo pipefail

readonly IMAGE="tta-e2e/busybox:latest"
readonly LOG_FILE="${TTA_ENGINE_LOG:-/tmp/tta-dockerd.log}"
readonly PID_FILE="/tmp/tta-dockerd.pid"
readonly SOCKET="unix:///var/run/docker.sock"
readonly START_TIMEOUT_S=30
readonly STOP_TIMEOUT_S=20
readonly BUSYBOX_BIN="/bin/busybox"
# Applets linked into the test image (all served by the one busybox binary).
readonly APPLETS=(
    sh httpd sleep nc wget true false echo cat ls mkdir date env test "[" printf
    kill ps grep netstat hostname timeout id head tail rm touch seq
)

log() { printf 'engine: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() {
    cat >&2 <<'EOF'
usage: scripts/engine.sh up|down|status
EOF
    exit 2
}

# True when a Docker engine answers on the default socket.
engine_answers() {
    if command -v timeout >/dev/null 2>&1; then
        timeout 10 docker info >/dev/null 2>&1
    else
        docker info >/dev/null 2>&1
    fi
}

# Prints the pid recorded in the pid file when that process is still a live
# dockerd; prints nothing otherwise.
our_dockerd_pid() {
    local pid comm
    [[ -f "$PID_FILE" ]] || return 0
    pid="$(tr -dc '0-9' <"$PID_FILE")"
    [[ -n "$pid" ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
    [[ "$comm" == "dockerd" ]] || return 0
    printf '%s\n' "$pid"
}

busybox_is_static() {
    [[ -x "$BUSYBOX_BIN" ]] || return 1
    # ldd exits non-zero ("not a dynamic executable") for static binaries.
    if command -v ldd >/dev/null 2>&1 && ldd "$BUSYBOX_BIN" >/dev/null 2>&1; then
        return 1
    fi
    return 0
}

ensure_packages() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(dockerd)
    command -v docker >/dev/null 2>&1 || missing+=(docker)
    command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
    busybox_is_static || missing+=(busybox-static)
    [[ ${#missing[@]} -eq 0 ]] && return 0

    log "missing: ${missing[*]}"
    if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        die "install docker.io, docker-compose and busybox-static (needs root and apt-get)"
    fi
    log "installing docker.io docker-compose busybox-static with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq docker.io docker-compose busybox-static >/dev/null
    command -v dockerd >/dev/null 2>&1 || die "dockerd still missing after install"
    busybox_is_static || die "$BUSYBOX_BIN is not a static busybox after install"
}

start_dockerd() {
    local extra=() pid waited=0
    if [[ -n "${TTA_DOCKERD_ARGS:-}" ]]; then
        read -r -a extra <<<"$TTA_DOCKERD_ARGS"
    fi

    pid="$(our_dockerd_pid)"
    if [[ -z "$pid" ]]; then
        rm -f "$PID_FILE"
        mkdir -p "$(dirname "$LOG_FILE")"
        log "starting dockerd (log: $LOG_FILE)"
        printf '=== %s scripts/engine.sh up: starting dockerd ===\n' \
            "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$LOG_FILE"
        # setsid: the daemon gets its own session so it outlives this script
        # and whatever process group invoked it.
        if command -v setsid >/dev/null 2>&1; then
            setsid dockerd --host "$SOCKET" "${extra[@]}" </dev/null >>"$LOG_FILE" 2>&1 &
        else
            nohup dockerd --host "$SOCKET" "${extra[@]}" </dev/null >>"$LOG_FILE" 2>&1 &
        fi
        pid=$!
        printf '%s\n' "$pid" >"$PID_FILE"
    else
        log "dockerd (pid $pid) already started by this script; waiting for it"
    fi

    # Poll every 0.25 s, at most START_TIMEOUT_S seconds.
    while ! engine_answers; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PID_FILE"
            log "dockerd exited during start-up; last log lines:"
            tail -n 30 "$LOG_FILE" >&2 || true
            exit 1
        fi
        if ((waited >= START_TIMEOUT_S * 4)); then
            log "dockerd did not answer within ${START_TIMEOUT_S}s; last log lines:"
            tail -n 30 "$LOG_FILE" >&2 || true
            kill "$pid" 2>/dev/null || true
            rm -f "$PID_FILE"
            exit 1
        fi
        sleep 0.25
        waited=$((waited + 1))
    done
    log "engine answers (dockerd pid $pid)"
}

# The image's root filesystem: busybox, its applets, a page for httpd and minimal
# /etc files, in folder $1. Every mode is set explicitly so the tar of it is the same on
# every machine with the same busybox.
write_rootfs() {
    local dir="$1" applet
    mkdir -p "$dir/bin" "$dir/tmp" "$dir/www" "$dir/etc" "$dir/root"
    chmod 0755 "$dir" "$dir/bin" "$dir/www" "$dir/etc"
    chmod 0700 "$dir/root"
    chmod 1777 "$dir/tmp"
    cp "$BUSYBOX_BIN" "$dir/bin/busybox"
    chmod 0755 "$dir/bin/busybox"
    for applet in "${APPLETS[@]}"; do
        ln -s busybox "$dir/bin/$applet"
    done

    printf '<!doctype html>\n<title>tta-e2e</title>\n<p>tta-e2e busybox httpd</p>\n' \
        >"$dir/www/index.html"
    printf '%s\n' \
        'root:x:0:0:root:/root:/bin/sh' \
        'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$dir/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$dir/etc/group"
    printf '127.0.0.1\tlocalhost\n' >"$dir/etc/hosts"
    chmod 0644 "$dir/www/index.html" "$dir/etc/passwd" "$dir/etc/group" "$dir/etc/hosts"
}

# A byte-for-byte reproducible tar of folder $1 on stdout (sorted names, fixed times
# and owners), so its sha256 names the content.
tar_rootfs() {
    tar -C "$1" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -c .
}

# The image is trusted by content, not by its tag: any image may be tagged
# tta-e2e/busybox:latest (another project's, an older recipe's, a hand-made one).
# The engine records the sha256 of an imported tar as the image's only layer
# (.RootFS.Layers), so that digest proves the files; the label
# org.tta.e2e.content = sha256(layer digest + the import changes) proves the image
# config came from this recipe too. ensure_image accepts the tagged image only when
# both match what this script would build now, and otherwise rebuilds and retags.
readonly CONTENT_LABEL="org.tta.e2e.content"
readonly IMPORT_CHANGES=('ENV PATH=/bin' 'CMD ["sh"]')

# Prints "<layer digest> <content key>" for the image this script builds.
expected_content() {
    local dir layer key
    dir="$(mktemp -d "${TMPDIR:-/tmp}/tta-e2e-image.XXXXXX")"
    write_rootfs "$dir"
    layer="sha256:$(tar_rootfs "$dir" | sha256sum | cut -d' ' -f1)"
    rm -rf "$dir"
    key="sha256:$(printf '%s\n' "$layer" "${IMPORT_CHANGES[@]}" | sha256sum | cut -d' ' -f1)"
    printf '%s %s\n' "$layer" "$key"
}

# Prints "<image id> <layers as JSON> <content label>" of the tagged image, or
# nothing when no image has the tag.
tagged_content() {
    docker image inspect --format \
        "{{.Id}} {{json .RootFS.Layers}} {{with .Config.Labels}}{{index . \"$CONTENT_LABEL\"}}{{end}}" \
        "$IMAGE" 2>/dev/null || true
}

build_image() {
    local layer="$1" key="$2" dir out change changes=()
    dir="$(mktemp -d "${TMPDIR:-/tmp}/tta-e2e-image.XXXXXX")"
    # shellcheck disable=SC2064  # expand $dir now: it is local to this function
    trap "rm -rf '$dir'" EXIT
    write_rootfs "$dir"
    for change in "${IMPORT_CHANGES[@]}" "LABEL $CONTENT_LABEL=$key"; do
        changes+=(--change "$change")
    done

    log "building $IMAGE (content $key)"
    tar_rootfs "$dir" | docker import "${changes[@]}" - "$IMAGE" >/dev/null

    rm -rf "$dir"
    trap - EXIT

    if [[ "$(tagged_content)" != *" [\"$layer\"] $key" ]]; then
        die "the image just built does not carry the expected content: $(tagged_content)"
    fi
    # The image is checked, not the engine's networking: --network none.
    out="$(docker run --rm --network none "$IMAGE" echo ok 2>&1 || true)"
    if [[ "$out" != "ok" ]]; then
        # Untagged, so that the next `up` does not take it for a checked image.
        docker image rm "$IMAGE" >/dev/null 2>&1 || true
        die "image check failed: expected 'ok', got '$out'"
    fi
    log "built $IMAGE"
}

ensure_image() {
    local content layer key found id
    busybox_is_static || ensure_packages
    content="$(expected_content)"
    read -r layer key <<<"$content"
    found="$(tagged_content)"
    if [[ -z "$found" ]]; then
        build_image "$layer" "$key"
        return 0
    fi
    if [[ "$found" == *" [\"$layer\"] $key" ]]; then
        return 0
    fi
    id="${found%% *}"
    log "$IMAGE ($id) is not the image this script builds:"
    log "  it has: ${found#* }"
    log "  wanted: [\"$layer\"] $key"
    log "rebuilding; the tag moves to the new image (the old one is left as it is, untagged)"
    build_image "$layer" "$key"
}

cmd_up() {
    if engine_answers; then
        ensure_image
        return 0
    fi
    ensure_packages
    start_dockerd
    ensure_image
}

cmd_down() {
    local pid waited=0
    pid="$(our_dockerd_pid)"
    if [[ -z "$pid" ]]; then
        rm -f "$PID_FILE"
        log "no dockerd started by this script is running"
        return 0
    fi
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= STOP_TIMEOUT_S * 4)); then
            log "dockerd did not exit within ${STOP_TIMEOUT_S}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.25
        waited=$((waited + 1))
    done
    rm -f "$PID_FILE"
    log "dockerd stopped"
}

cmd_status() {
    local version pid
    if engine_answers; then
        version="$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown)"
        pid="$(our_dockerd_pid)"
        if [[ -n "$pid" ]]; then
            echo "engine: running (server $version, dockerd pid $pid started by scripts/engine.sh)"
        else
            echo "engine: running (server $version, not started by scripts/engine.sh)"
        fi
        return 0
    fi
    echo "engine: not answering"
    return 1
}

main() {
    [[ $# -eq 1 ]] || usage
    case "$1" in
        up) cmd_up ;;
        down) cmd_down ;;
        status) cmd_status ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
