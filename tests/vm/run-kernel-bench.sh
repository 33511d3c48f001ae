#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The guest kernel's AES-XTS throughput (TAP): boots the VM test's guest in
# bench mode, runs `cryptsetup benchmark -c aes-xts-plain64 -s 512` (AF_ALG,
# the kernel's xts(aes)) and `atrest bench --format json`, and prints both
# between ===ATREST-BEGIN/END=== markers for comparison.
#
# Usage: run-kernel-bench.sh [ATREST_BINARY]   (env as for check-vm.sh)
set -u

. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

ATREST=${1:-${ATREST:-}}
LOG=${ATREST_VM_LOG:-${top_builddir:-.}/tests/vm/bench-console.log}
PY=${PYTHON3:-python3}

if [ -z "$ATREST" ] || [ ! -x "$ATREST" ] || ! command -v "$PY" > /dev/null 2>&1; then
	echo "1..0 # SKIP no atrest binary or no python3"
	exit 0
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/atrest-vm.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$(dirname "$LOG")"

t0=$(vm_now)
vm_prepare 2> "$WORK/err"
rc=$?
if [ $rc -eq 77 ]; then
	echo "1..0 # SKIP $(cat "$WORK/err")"
	exit 0
fi
if [ $rc -ne 0 ] || ! vm_initramfs "$ATREST" "$WORK/initrd.gz" 2>> "$WORK/err" ||
	! vm_disks "$WORK" 0; then
	echo "1..1"
	echo "not ok 1 - guest prepared"
	sed 's/^/# /' "$WORK/err"
	exit 1
fi
vm_boot "$WORK" "$WORK/initrd.gz" 0 "$LOG" atrest.mode=bench
t1=$(vm_now)

# The raw sections, for the comparing helper and for people.
tr -d '\r' < "$LOG" | sed -n '/===ATREST-BEGIN kernel-bench/,/===ATREST-END/p;
	/===ATREST-BEGIN atrest-bench/,/===ATREST-END/p' | sed 's/^/# /'
"$PY" "$VM_DIR/assert.py" --bench "$LOG"
rc=$?
echo "# total $(vm_secs $t0 $t1)s"
exit $rc
