#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The checkout's .containerignore: when the tree itself is a podman build
# context, only rootfs-<arch>/ reaches the image, never .git, build
# directories or anything else beside it. Built with the same podman
# options as make check-image; skipped where podman cannot build.
set -u
: "${top_srcdir:=.}"
command -v podman >/dev/null || { echo "1..0 # SKIP podman not installed"; exit 0; }
T=$(mktemp -d)
tag=localhost/atrest-containerignore-test:$$
cleanup() {
	podman image unmount "$tag" >/dev/null 2>&1
	podman rmi -f "$tag" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
ctx=$T/ctx
mkdir -p "$ctx/rootfs-amd64/usr/bin" "$ctx/rootfs-arm64/usr/bin" "$ctx/.git" "$ctx/_build" "$ctx/agent"
cp "$top_srcdir/.containerignore" "$ctx/"
echo amd64 >"$ctx/rootfs-amd64/usr/bin/atrest"
echo arm64 >"$ctx/rootfs-arm64/usr/bin/atrest"
echo '[remote "origin"]' >"$ctx/.git/config"
echo object >"$ctx/_build/main.o"
echo 'int main;' >"$ctx/agent/main.c"
echo 'token' >"$ctx/azure.json"
printf 'FROM scratch\nCOPY . /ctx/\n' >"$T/Containerfile"
if ! out=$(podman --runtime runc build --quiet -f "$T/Containerfile" -t "$tag" "$ctx" 2>&1); then
	echo "1..0 # SKIP podman cannot build here: $(printf '%s\n' "$out" | tail -n1)"
	exit 0
fi
m=$(podman image mount "$tag") || { echo "1..0 # SKIP podman cannot mount the image"; exit 0; }
got=$(cd "$m/ctx" && find . -type f | sort | tr '\n' ' ')
want="./rootfs-amd64/usr/bin/atrest ./rootfs-arm64/usr/bin/atrest "
echo "1..2"
if [ "$got" = "$want" ]; then echo "ok 1 - only rootfs-<arch>/ is in the image"; else
	echo "not ok 1 - only rootfs-<arch>/ is in the image (got: $got)"; fi
if [ -e "$m/ctx/.git" ] || [ -e "$m/ctx/azure.json" ]; then
	echo "not ok 2 - .git and local files stay out"; else echo "ok 2 - .git and local files stay out"; fi
