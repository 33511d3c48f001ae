#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make check-portable-arm64`: the gate on the arm64 portable binary and the
# daemon's two programs beside it (glibc symbols, shared libraries, with the
# cross objdump), then
# tests/portable-cross.py: the binary under qemu-user with the Debian 11
# build root's arm64 glibc (2.31) against this host's normal build on every
# fixture node. Environment: ATREST, ATREST_PORTABLE, HOST (target triple),
# top_srcdir, ATREST_VMSS_ZIP (the arm64 extension package, optional).
set -euo pipefail
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
: "${ATREST:?}" "${ATREST_PORTABLE:?}" "${HOST:=aarch64-linux-gnu}"
case $HOST in
aarch64-linux-gnu) EMULATOR=qemu-aarch64-static ;;
*) echo "1..0 # SKIP no emulator known for $HOST"; exit 0 ;;
esac
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (the build root's cache)"; exit 0; }
for t in "$EMULATOR" "$HOST-objdump" python3 cryptsetup; do
	command -v "$t" >/dev/null || { echo "Bail out! $t not found (packaging/cross/setup.sh arm64 installs it)"; exit 1; }
done

# The helpers under the names atrest looks for beside itself: its own name
# with "atrest" replaced (atrest-evaluator-portable-aarch64-linux-gnu).
dir=$(dirname "$ATREST_PORTABLE") suffix=$(basename "$ATREST_PORTABLE")
suffix=${suffix#atrest}
for bin in "$ATREST_PORTABLE" "$dir/atrest-evaluator$suffix" "$dir/atrest-server$suffix"; do
	[ -f "$bin" ] || { echo "Bail out! $bin not found (make portable-arm64 builds it)"; exit 1; }
	echo "# gate: $bin"
	gate=$("$top/packaging/portable/gate.sh" "$bin" "$HOST-objdump") && r=0 || r=$?
	sed 's/^/#   /' <<<"$gate"
	echo "# size (stripped): $(stat -c %s "$bin") bytes"
	[ $r = 0 ] || { echo "Bail out! the gate failed on $bin"; exit 1; }
done
# The root the binary was built in (cached: deps.sh only prints it).
vars=$("$top/packaging/portable/deps.sh" --host "$HOST") || { echo "Bail out! deps.sh failed"; exit 1; }
eval "$vars"
libc=$(ls "$ROOT"/lib/"$HOST"/libc-*.so 2>/dev/null | sed 's/.*libc-\(.*\)\.so/\1/')
echo "# $EMULATOR -L $ROOT (Debian 11, glibc $libc)"
export ATREST ATREST_PORTABLE TEST_ROOT=$ROOT EMULATOR top_srcdir=$top
exec python3 "$top/tests/portable-cross.py" "$@"
