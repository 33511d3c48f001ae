#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The VM test (TAP): boots Debian's cloud kernel under qemu TCG, lets the
# guest open real dm-crypt and LVM mappings, and holds atrest's JSON against
# cryptsetup's and dmsetup's views read from the serial console.
#
# Usage: check-vm.sh [ATREST_BINARY]   (default $ATREST)
# Env:   ATREST_VM_CACHE    download cache (prepare.sh)
#        ATREST_VM_LOG      where the console log is kept (default
#                           $top_builddir/tests/vm/console.log)
#        ATREST_VM_REQUIRE  1: a missing host tool fails instead of skipping
#        ATREST_VM_TIMEOUT  seconds before the guest is killed (default 150)
set -u

. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

ATREST=${1:-${ATREST:-}}
LOG=${ATREST_VM_LOG:-${top_builddir:-.}/tests/vm/console.log}
PY=${PYTHON3:-python3}
NDATA=9
n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

skip_all() {
	if [ "${ATREST_VM_REQUIRE:-0}" = 1 ]; then
		echo "1..1"
		echo "not ok 1 - prerequisite missing: $*"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}

# Plan last: the assertions count depends on what the guest reported.
finish() {
	echo "1..$n"
	exit $failed
}

[ -n "$ATREST" ] && [ -x "$ATREST" ] || skip_all "no atrest binary (${ATREST:-unset})"
command -v "$PY" > /dev/null 2>&1 || skip_all "python3 not found"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/atrest-vm.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$(dirname "$LOG")"

t0=$(vm_now)
vm_prepare 2> "$WORK/prepare.err"
rc=$?
[ $rc -eq 77 ] && skip_all "$(cat "$WORK/prepare.err")"
ok $rc "kernel ${KVER:-?} and busybox fetched and unpacked" ||
	sed 's/^/# /' "$WORK/prepare.err"
[ $rc -eq 0 ] || finish
t1=$(vm_now)

vm_initramfs "$ATREST" "$WORK/initrd.gz" 2> "$WORK/initrd.err"
rc=$?
ok $rc "initramfs built ($(du -k "$WORK/initrd.gz" 2>/dev/null | cut -f1) KiB)"
[ $rc -eq 0 ] || { sed 's/^/# /' "$WORK/initrd.err"; finish; }
t2=$(vm_now)

vm_disks "$WORK" $NDATA "7 8"
ok $? "sparse disk images created"

vm_boot "$WORK" "$WORK/initrd.gz" $NDATA "$LOG"
rc=$?
ok $rc "guest booted and powered off (rc $rc, console log $LOG)"
t3=$(vm_now)

# First prove the atrest assertions can pass and fail on this guest's views.
"$PY" "$VM_DIR/selftest.py" --first $((n + 1)) --no-plan "$LOG" > "$WORK/selftest"
[ $? -eq 0 ] || failed=1
cat "$WORK/selftest"
n=$((n + $(grep -c -E '^(not )?ok ' "$WORK/selftest")))
"$PY" "$VM_DIR/assert.py" --first $((n + 1)) "$LOG"
rc=$?
t4=$(vm_now)
echo "# timings: prepare $(vm_secs $t0 $t1)s, initramfs $(vm_secs $t1 $t2)s," \
	"boot to poweroff $(vm_secs $t2 $t3)s, asserts $(vm_secs $t3 $t4)s," \
	"total $(vm_secs $t0 $t4)s"
exit $((rc | failed))
