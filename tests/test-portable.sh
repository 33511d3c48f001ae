#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make check-portable`: the gate on the portable binary and the daemon's two
# programs beside it (glibc symbols, shared libraries), then tests/portable.py
# in a Debian 11 root that holds none of atrest's libraries, with a private
# journald (RECIPES.md) whose socket the root sees. Needs root, mmdebstrap
# and (once, cached) the Debian archive.
# Environment: ATREST, ATREST_PORTABLE, top_srcdir; ATREST_PORTABLE_CACHE.
set -euo pipefail
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
: "${ATREST:?}" "${ATREST_PORTABLE:?}"
CACHE=${ATREST_PORTABLE_CACHE:-/var/cache/atrest-ci/portable}
MIRROR=${ATREST_DEBIAN_MIRROR:-http://deb.debian.org/debian}

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (chroot, mount namespaces)"; exit 0; }
for t in mmdebstrap python3 cryptsetup objdump file; do
	command -v "$t" >/dev/null || { echo "Bail out! $t not found (./quickstart test installs it)"; exit 1; }
done

# The helpers under the names atrest looks for beside itself: its own name
# with "atrest" replaced (atrest-portable: atrest-evaluator-portable).
dir=$(dirname "$ATREST_PORTABLE") suffix=$(basename "$ATREST_PORTABLE")
suffix=${suffix#atrest}
for bin in "$ATREST_PORTABLE" "$dir/atrest-evaluator$suffix" "$dir/atrest-server$suffix"; do
	[ -f "$bin" ] || { echo "Bail out! $bin not found (make portable builds it)"; exit 1; }
	echo "# gate: $bin"
	gate=$("$top/packaging/portable/gate.sh" "$bin") && r=0 || r=$?
	sed 's/^/#   /' <<<"$gate"
	echo "# ldd (host): $(ldd "$bin" | tr -s ' \t\n' ' ')"
	echo "# size (stripped): $(stat -c %s "$bin") bytes"
	[ $r = 0 ] || { echo "Bail out! the gate failed on $bin"; exit 1; }
done

# The Debian 11 root: minbase, nothing added. Cached by suite and mirror.
mkdir -p "$CACHE"
key=$(printf '%s\n' bullseye minbase "$MIRROR" | sha256sum | cut -c1-16)
TEST_ROOT=$CACHE/testroot-bullseye-$key
(
	flock 9
	if [ ! -x "$TEST_ROOT/bin/sh" ]; then
		rm -rf "$TEST_ROOT.tmp"
		mmdebstrap --quiet --variant=minbase bullseye "$TEST_ROOT.tmp" "$MIRROR" >&2
		mv "$TEST_ROOT.tmp" "$TEST_ROOT"
	fi
) 9>"$CACHE/.testroot.lock"
echo "# Debian 11 root: $TEST_ROOT (glibc $(ls "$TEST_ROOT"/lib/x86_64-linux-gnu/libc-*.so 2>/dev/null | sed 's/.*libc-\(.*\)\.so/\1/'))"
# The libraries the normal build links: those the root has anyway (Debian's
# essential packages bring libblkid, zlib and libsystemd) are hidden under
# /dev/null for every run, except libsystemd.so.0, which the portable binary
# loads with dlopen() when present (and is run without, too).
hide=
for so in $(objdump -p "$ATREST" | awk '$1 == "NEEDED" {print $2}'); do
	case $so in libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | ld-linux*) continue ;; esac
	p=$(find "$TEST_ROOT/lib" "$TEST_ROOT/usr/lib" -name "$so" 2>/dev/null | head -1)
	if [ -z "$p" ]; then
		echo "# $so: not in the Debian 11 root"
	elif [ "$so" = libsystemd.so.0 ]; then
		echo "# $so: in the root, loaded with dlopen() (hidden in the runs 'without libsystemd')"
	else
		echo "# $so: in the root (an essential package's), hidden under /dev/null"
		hide="$hide /${p#"$TEST_ROOT"/}"
	fi
done
export HIDE_LIBS=$hide

# A private journald whose socket directory is bound into the root.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/log"
export ATREST ATREST_PORTABLE TEST_ROOT top_srcdir=$top JOURNAL_DIR=$work/log/journal
exec unshare --mount --propagation private -- bash -c '
	work=$1; shift
	mount -t tmpfs -o mode=755 tmpfs /run
	mkdir -p /run/systemd/journal /run/systemd/journald.conf.d /run/log
	mount --bind "$work/log" /run/log
	printf "[Journal]\nStorage=volatile\nReadKMsg=no\nAudit=no\nForwardToSyslog=no\nRateLimitBurst=0\n" \
		>/run/systemd/journald.conf.d/test.conf
	/lib/systemd/systemd-journald </dev/null >"$work/journald.out" 2>&1 &
	j=$!
	for _ in $(seq 500); do [ -S /run/systemd/journal/socket ] && break; sleep 0.02; done
	python3 "$top_srcdir/tests/portable.py" "$@" && r=0 || r=$?
	journalctl --sync 2>/dev/null || true
	kill -TERM $j; wait $j || true
	exit $r' test-portable "$work" "$@"
