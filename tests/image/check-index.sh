#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make check-image-index` (TAP): builds the multi-architecture image
# (packaging/container/build-index.sh: an amd64 and an arm64 image, each
# from extracted Debian packages and its portable binary, nothing of arm64
# run at build time) and its OCI index; checks that the index lists both
# architectures and that each image says its own; then runs the arm64
# image's own binary from the image's root under qemu-user (podman run
# --arch arm64 would need binfmt_misc): version, and check/devices on a
# fixture node against this host's normal build, field by field
# (tests/portable-cross.py). The amd64 image is make check-image's.
#
# Usage: check-index.sh AMD64_BINARY ARM64_BINARY
# Env:   ATREST (normal build), ATREST_IMAGE_REQUIRE (1: a missing tool fails)
set -u
AMD64=$1 ARM64=$2
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
skip_all() {
	if [ "${ATREST_IMAGE_REQUIRE:-0}" = 1 ]; then
		echo "1..1"; echo "not ok 1 - prerequisite missing: $*"; exit 1
	fi
	echo "1..0 # SKIP $*"; exit 0
}
for t in podman runc mmdebstrap qemu-aarch64-static aarch64-linux-gnu-strip file; do
	command -v "$t" >/dev/null || skip_all "$t not installed"
done
[ "$(id -u)" = 0 ] || skip_all "podman image mount needs root"
[ -x "${ATREST:-}" ] || skip_all "no normal build (ATREST)"

T=$(mktemp -d)
TAG=localhost/atrest-index-$$:test
cleanup() {
	podman image unmount "$TAG-arm64" >/dev/null 2>&1
	podman manifest rm "$TAG" >/dev/null 2>&1
	podman rmi -f "$TAG-amd64" "$TAG-arm64" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
# As make check-image: runc, and nothing global changed.
printf '[engine]\nruntime = "runc"\n' >"$T/containers.conf"
export CONTAINERS_CONF=$T/containers.conf

t0=$SECONDS
bash "$src/packaging/container/build-index.sh" --tag "$TAG" --version test --oci "$T/oci" \
	amd64="$AMD64" arm64="$ARM64" "$T/ctx" >"$T/index.json" 2>"$T/build.err"
rc=$?
sed 's/^/# /' "$T/build.err" | grep -v '^# $' | tail -8
check "the index builds (two images from extracted packages, podman manifest, $((SECONDS - t0)) s)" [ $rc -eq 0 ]
[ $rc -eq 0 ] || { echo "1..$n"; exit 1; }
# The OCI layout: index.json -> the image index -> one manifest per platform.
archs=$(python3 - "$T/oci" <<'PY'
import json, os, sys
lay = sys.argv[1]
def blob(d):
    return json.load(open(os.path.join(lay, "blobs", *d.split(":"))))
top = json.load(open(os.path.join(lay, "index.json")))
ref = top["manifests"][0]
idx = blob(ref["digest"])
print(f"# OCI layout {lay}: {ref['mediaType']} {ref['digest']}", file=sys.stderr)
print(f"# index ({idx.get('mediaType')}, schemaVersion {idx.get('schemaVersion')}):", file=sys.stderr)
out = []
for m in idx["manifests"]:
    p = m["platform"]
    cfg = blob(blob(m["digest"])["config"]["digest"])
    print(f"#   {p['os']}/{p['architecture']}  {m['mediaType']}  {m['digest']}  "
          f"config: {cfg['os']}/{cfg['architecture']}", file=sys.stderr)
    out.append(f"{p['os']}/{p['architecture']}={cfg['os']}/{cfg['architecture']}")
if ref["mediaType"] != "application/vnd.oci.image.index.v1+json":
    out.append("not-an-oci-index")
print(" ".join(sorted(out)))
PY
)
check "the OCI index lists linux/amd64 and linux/arm64, each image's config its own ($archs)" \
	[ "$archs" = "linux/amd64=linux/amd64 linux/arm64=linux/arm64" ]
for a in amd64 arm64; do
	got=$(podman image inspect --format '{{.Os}}/{{.Architecture}}' "$TAG-$a")
	check "the $a image's config says linux/$a ($got)" [ "$got" = "linux/$a" ]
done

# The arm64 image's root, as the image holds it.
mnt=$(podman image mount "$TAG-arm64") || mnt=
check "the arm64 image mounts" [ -n "$mnt" ]
[ -n "$mnt" ] || { echo "1..$n"; exit 1; }
f=$(file -b "$mnt/usr/bin/atrest")
echo "# /usr/bin/atrest (arm64 image): $f"
check "the arm64 image's binary is an aarch64 ELF" grep -q 'ARM aarch64' <<<"$f"
for p in atrest-evaluator atrest-server; do
	check "the arm64 image's /usr/libexec/atrest/$p is an aarch64 ELF" \
		grep -q 'ARM aarch64' <<<"$(file -b "$mnt/usr/libexec/atrest/$p" 2>&1)"
done
check "the arm64 image's loader is arm64's" test -e "$mnt/lib/ld-linux-aarch64.so.1"
echo "# the arm64 image's own binary: qemu-aarch64-static -L $mnt $mnt/usr/bin/atrest"
env -u ATREST_VMSS_ZIP ATREST_PORTABLE="$mnt/usr/bin/atrest" TEST_ROOT="$mnt" \
	EMULATOR=qemu-aarch64-static top_srcdir="$src" \
	python3 "$src/tests/portable-cross.py" gen2-luks-data >"$T/cross.out" 2>&1
rc=$?
while IFS= read -r l; do
	case $l in
	"ok "*) ok "arm64 image: ${l#ok * - }" ;;
	"not ok "*) not_ok "arm64 image: ${l#not ok * - }" ;;
	1..*) ;;
	*) echo "$l" ;;
	esac
done <"$T/cross.out"
check "the arm64 image's binary under qemu-user: tests/portable-cross.py exits 0 ($rc)" [ $rc -eq 0 ]
echo "1..$n"
exit $failed
