#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, as CI runs it: the normal build's `make check`, the
# same under ASan+UBSan and under valgrind (`make check-valgrind`), dm-crypt in a VM (`make check-vm`), the portable
# binary in a Debian 11 root (`make check-portable`), the container image
# and pod (`make check-image`), the arm64 cross build's `make check` under
# qemu-user and its dm-crypt VM under qemu-system-aarch64 (with the arm64
# .deb), the arm64 portable binary under qemu-user, the multi-arch image
# (amd64 + arm64 OCI index), and `make distcheck`. Ends with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
[ -x configure ] || ./autogen.sh >/dev/null

passed=0 failed=0 skipped=0
declare -a failures=()

count() { # adds the TAP/automake results of a test-suite.log directory
	local dir=$1 p f s
	p=$(grep -h '^# PASS:' "$dir"/test-suite.log 2>/dev/null | awk '{s+=$3} END {print s+0}')
	f=$(grep -hE '^# (FAIL|ERROR|XPASS):' "$dir"/test-suite.log 2>/dev/null | awk '{s+=$3} END {print s+0}')
	s=$(grep -h '^# SKIP:' "$dir"/test-suite.log 2>/dev/null | awk '{s+=$3} END {print s+0}')
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

stage() { # stage NAME COMMAND...: runs a stage, records its failure
	local name=$1; shift
	local t0=$SECONDS
	printf '\n== %s\n' "$name"
	if "$@"; then
		printf '== %s: ok (%ds)\n' "$name" $((SECONDS - t0))
	else
		printf '== %s: FAILED (%ds)\n' "$name" $((SECONDS - t0))
		failures+=("$name")
	fi
}

build_and_check() { # DIR [configure options]
	local dir=$1; shift
	mkdir -p "$dir"
	# Per-test lines go to a file; the log shows the summary and failures.
	(cd "$dir" && ../configure -q --enable-werror "$@" && make -s -j"$(nproc)" &&
		make -s -j"$(nproc)" check) >"$dir.out" 2>&1
	local r=$?
	count "$dir"
	grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):|^(FAIL|ERROR|SKIP):' "$dir.out"
	[ $r -eq 0 ] || { grep -B2 -A30 -E '^(FAIL|ERROR):' "$dir"/test-suite.log | head -150; tail -30 "$dir.out"; }
	return $r
}

# The slow Debian package build and lint runs once, in the first stage.
ATREST_TEST_DEB=1 stage "build + make check" build_and_check _build
stage "ASan+UBSan make check" build_and_check _build-san --enable-asan --enable-ubsan
valgrind_check() { # the normal build's suite again, C tests and the agent under memcheck
	(cd _build && make -s -j"$(nproc)" check-valgrind) >_build-valgrind.out 2>&1
	local r=$?
	count _build
	grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):|^(FAIL|ERROR|SKIP):' _build-valgrind.out
	[ $r -eq 0 ] || { grep -B2 -A30 -E '^(FAIL|ERROR):' _build/test-suite.log | head -150; tail -30 _build-valgrind.out; }
	return $r
}
stage "valgrind make check (make check-valgrind)" valgrind_check
tap_target() { # DIR TARGET SHOW [MAKE ARGS]: runs a TAP target outside the harness, counts its lines
	local dir=$1 target=$2 show=$3
	shift 3
	(cd "$dir" && make -s "$target" "$@") >"$dir/$target.out" 2>&1
	local r=$?
	passed=$((passed + $(grep -c '^ok ' "$dir/$target.out")))
	failed=$((failed + $(grep -c '^not ok ' "$dir/$target.out")))
	grep -E "^not ok|$show" "$dir/$target.out"
	[ $r -eq 0 ] || tail -40 "$dir/$target.out"
	return $r
}
VM_SHOW='^# (timings|sc |path |[a-k] |/mnt/)|guest kernel|benchmark names'
ATREST_VM_REQUIRE=1 stage "dm-crypt in qemu (make check-vm)" tap_target _build check-vm "$VM_SHOW"
stage "portable binary in a Debian 11 root (make check-portable)" tap_target _build check-portable \
	'^Bail out|^#   (gate|max GLIBC|NEEDED)|^# (size|field-by-field|Debian 11 root)|^== portable|^portable:'
# The image as published: the portable binary the stage above built.
ATREST_IMAGE_REQUIRE=1 stage "container image and pod (make check-image)" tap_target _build check-image \
	'^# (image size|podman 4)' "BINARY=$PWD/_build/atrest-portable"

# arm64 (tests/cross/README.md): the cross toolchain and arm64 packages
# (packaging/cross/setup.sh, idempotent), the arm64 root (cached by
# checksum), then the same make check under qemu-user, with the arm64 .deb
# built and linted, and the dm-crypt VM with an arm64 kernel.
arm64_setup() {
	sh packaging/cross/setup.sh arm64 >_build-arm64.setup 2>&1 &&
		ARM64_ROOT=$(sh packaging/cross/root.sh arm64 2>>_build-arm64.setup)
	local r=$?
	[ $r -eq 0 ] || tail -30 _build-arm64.setup
	return $r
}
ARM64_ROOT=
stage "arm64: cross toolchain and arm64 root" arm64_setup
if [ -n "$ARM64_ROOT" ]; then
	ATREST_TEST_DEB=1 stage "arm64: cross build + make check (qemu-user)" build_and_check \
		_build-arm64 --host=aarch64-linux-gnu "ATREST_EMULATOR=qemu-aarch64-static -L $ARM64_ROOT"
	ATREST_VM_REQUIRE=1 stage "arm64: dm-crypt in qemu-system-aarch64 (make check-vm)" \
		tap_target _build-arm64 check-vm "$VM_SHOW"
	# The arm64 portable binary (Debian 11 cross root and libraries cached
	# by checksum beside the amd64 ones) under qemu-user, and its extension.
	stage "arm64: portable binary under qemu-user (make check-portable-arm64)" \
		tap_target _build check-portable-arm64 \
		'^Bail out|^#   (gate|max GLIBC|NEEDED)|^# (size|field-by-field|qemu)|^== portable|^portable:'
	# Both portable binaries as one multi-architecture image (an OCI index);
	# the arm64 image's binary run from the image's root under qemu-user.
	ATREST_IMAGE_REQUIRE=1 stage "arm64: multi-arch image, OCI index (make check-image-index)" \
		tap_target _build check-image-index '^# (OCI layout|index|  linux/)'
fi
stage "make distcheck" bash -c 'cd _build && make -s distcheck >/dev/null'

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed stages: ${failures[*]}"
	[ "$failed" -gt 0 ] || failed=${#failures[@]}
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ ${#failures[@]} -eq 0 ]
