#!/usr/bin/env bash
# check-engine-image.sh — prove that `scripts/engine.sh up` trusts the test image by its
# content, not by its tag.
#
# Usage:
#   scripts/check-engine-image.sh
#
# Needs an engine that answers (`scripts/engine.sh up`). For each impostor below it tags
# the impostor tta-e2e/busybox:latest, runs `scripts/engine.sh up`, and checks that the
# script said so, moved the tag to a new image, and that the image works
# (`docker run --rm tta-e2e/busybox:latest echo ok`):
#   foreign   an image of one text file (another project's image under our tag)
#   forged    the same, carrying the real image's content label
#   tampered  the real image with /bin/wget removed (`docker commit`: keeps the label)
# Then it checks that `up` keeps a good image as it is. The impostors, and the images
# rebuilt along the way but no longer tagged, are removed at the end.
# Takes a few seconds.
#
# It retags the engine's test image, so do not run it while real-engine tests run
# against the same engine (CI runs it before the tests).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly IMAGE="tta-e2e/busybox:latest"
work="$(mktemp -d "${TMPDIR:-/tmp}/tta-image-check.XXXXXX")"
impostors=()
rebuilt=()
cleanup() {
    local id current
    for id in "${impostors[@]}"; do
        docker image rm -f "$id" >/dev/null 2>&1 || true
    done
    # The images `up` built along the way, except the one the tag names now.
    current="$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
    for id in "${rebuilt[@]}"; do
        [[ "$id" == "$current" ]] || docker image rm "$id" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    printf 'check-engine-image: FAIL: %s\n' "$*" >&2
    exit 1
}

image_id() { docker image inspect --format '{{.Id}}' "$1"; }

# Tags image $2 as the test image, runs `up`, and checks the outcome (case name $1).
expect_rebuilt() {
    local name="$1" impostor="$2" out after
    docker tag "$impostor" "$IMAGE"
    out="$(scripts/engine.sh up 2>&1)" || fail "$name: scripts/engine.sh up failed:
$out"
    [[ "$out" == *"is not the image this script builds"* ]] ||
        fail "$name: up did not say the tagged image was not its own:
$out"
    after="$(image_id "$IMAGE")"
    rebuilt+=("$after")
    [[ "$after" != "$impostor" ]] || fail "$name: the tag still names the impostor $impostor"
    [[ "$(docker run --rm --network none "$IMAGE" echo ok)" == ok ]] ||
        fail "$name: the rebuilt image does not run \`echo ok\`"
    printf 'check-engine-image: %-8s rejected and rebuilt (%s -> %s)\n' \
        "$name" "${impostor:7:12}" "${after:7:12}"
}

docker info >/dev/null 2>&1 || fail "no engine answers; run scripts/engine.sh up first"
scripts/engine.sh up
good="$(image_id "$IMAGE")"
label="$(docker image inspect --format '{{index .Config.Labels "org.tta.e2e.content"}}' "$IMAGE")"
[[ "$label" == sha256:* ]] || fail "the image built by up has no content label"

# foreign: one text file, no label.
mkdir -p "$work/rootfs"
echo "not busybox" >"$work/rootfs/README"
foreign="$(tar -C "$work/rootfs" -c . | docker import - 2>/dev/null)"
impostors+=("$foreign")
expect_rebuilt foreign "$foreign"

# forged: one text file under the real image's label.
forged="$(tar -C "$work/rootfs" -c . |
    docker import --change "LABEL org.tta.e2e.content=$label" - 2>/dev/null)"
impostors+=("$forged")
expect_rebuilt forged "$forged"

# tampered: the real image, changed; `docker commit` keeps its label.
cid="$(docker create --network none "$IMAGE" rm /bin/wget)"
docker start -a "$cid" >/dev/null
tampered="$(docker commit "$cid")"
docker rm "$cid" >/dev/null
impostors+=("$tampered")
expect_rebuilt tampered "$tampered"

# A good image is kept as it is.
before="$(image_id "$IMAGE")"
out="$(scripts/engine.sh up 2>&1)" || fail "up on a good image failed:
$out"
[[ "$(image_id "$IMAGE")" == "$before" && -z "$out" ]] ||
    fail "up changed or questioned a good image:
$out"
if [[ "$before" != "$good" ]]; then
    # Rebuilding gives the same layer; only the creation time differs.
    printf 'check-engine-image: note: the rebuilt image has a new id (%s), same content\n' \
        "${before:7:12}"
fi
echo "check-engine-image: ok (a good image is kept; foreign, forged and tampered ones are rebuilt)"
