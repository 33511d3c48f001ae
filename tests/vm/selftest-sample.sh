#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Plain `make check` part of the VM test: runs selftest.py (assert.py's
# atrest assertions must pass on a correct report and catch each corruption)
# on console logs captured from real guests, an amd64 and an arm64 one, so
# assert.py stays honest without booting qemu.
PY=${PYTHON3:-python3}
command -v "$PY" > /dev/null 2>&1 || { echo "1..0 # SKIP python3 not found"; exit 0; }
dir=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
rc=0 n=0
for log in console-sample.log console-sample-arm64.log; do
	echo "# $log"
	"$PY" "$dir/selftest.py" --first $((n + 1)) --no-plan "$dir/$log" > "$out" || rc=1
	cat "$out"
	n=$((n + $(grep -c -E '^(not )?ok ' "$out")))
done
echo "1..$n"
exit $rc
