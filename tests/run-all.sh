#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, as CI runs it: the normal build's `make check`, the
# same under ASan+UBSan, dm-crypt in a VM (`make check-vm`), the portable
# binary in a Debian 11 root (`make check-portable`), the container image
# and pod (`make check-image`), and `make distcheck`. Ends with one "N
# passed, N failed" line.
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
tap_target() { # TARGET SHOW [MAKE ARGS]: runs a TAP target outside the harness, counts its lines
	local target=$1 show=$2
	shift 2
	(cd _build && make -s "$target" "$@") >"_build/$target.out" 2>&1
	local r=$?
	passed=$((passed + $(grep -c '^ok ' "_build/$target.out")))
	failed=$((failed + $(grep -c '^not ok ' "_build/$target.out")))
	grep -E "^not ok|$show" "_build/$target.out"
	[ $r -eq 0 ] || tail -40 "_build/$target.out"
	return $r
}
ATREST_VM_REQUIRE=1 stage "dm-crypt in qemu (make check-vm)" tap_target check-vm '^# (timings|sc |path |[a-k] |/mnt/)'
stage "portable binary in a Debian 11 root (make check-portable)" tap_target check-portable \
	'^Bail out|^#   (gate|max GLIBC|NEEDED)|^# (size|field-by-field|Debian 11 root)|^== portable|^portable:'
# The image as published: the portable binary the stage above built.
ATREST_IMAGE_REQUIRE=1 stage "container image and pod (make check-image)" tap_target check-image \
	'^# (image size|podman 4)' "BINARY=$PWD/_build/atrest-portable"
stage "make distcheck" bash -c 'cd _build && make -s distcheck >/dev/null'

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed stages: ${failures[*]}"
	[ "$failed" -gt 0 ] || failed=${#failures[@]}
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ ${#failures[@]} -eq 0 ]
