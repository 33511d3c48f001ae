#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The portable binary's gate: fails when it needs a glibc symbol version newer
# than 2.28 (RHEL 8's glibc, the oldest target) or a shared library outside the
# few every glibc system has. Prints what it found either way.
#   gate.sh BINARY [OBJDUMP]
set -euo pipefail
bin=${1:?usage: gate.sh BINARY [OBJDUMP]}
objdump=${2:-objdump}
MAX_GLIBC=2.28
# glibc's own libraries only; libsystemd is dlopen()ed, never NEEDED.
ALLOWED="libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1
ld-linux-x86-64.so.2 ld-linux-aarch64.so.1"

fail=0
file -b "$bin"
needed=$("$objdump" -p "$bin" | awk '$1 == "NEEDED" {print $2}')
echo "NEEDED: $(echo $needed)"
for lib in $needed; do
	grep -qxF "$lib" <<<"$(tr ' ' '\n' <<<"$ALLOWED")" || {
		echo "gate: $lib is not on the allowed list ($(echo $ALLOWED))"
		fail=1
	}
done

versions=$("$objdump" -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -u -V)
max=$(tail -1 <<<"$versions")
echo "glibc symbol versions: $(echo $versions)"
echo "max GLIBC: ${max#GLIBC_} (limit $MAX_GLIBC)"
newest=$(printf '%s\n' "${max#GLIBC_}" "$MAX_GLIBC" | sort -V | tail -1)
if [ "$newest" != "$MAX_GLIBC" ]; then
	echo "gate: symbols newer than GLIBC_$MAX_GLIBC:"
	"$objdump" -T "$bin" | awk -v lim="$MAX_GLIBC" '
		match($0, /GLIBC_[0-9][0-9.]*/) {
			v = substr($0, RSTART + 6, RLENGTH - 6)
			split(v, a, "."); split(lim, b, ".")
			if (a[1] > b[1] || (a[1] == b[1] && a[2] + 0 > b[2] + 0)) print "  " $NF " GLIBC_" v
		}'
	fail=1
fi
if "$objdump" -T "$bin" | grep -q GLIBC_PRIVATE; then
	echo "gate: the binary uses GLIBC_PRIVATE symbols"
	fail=1
fi
[ $fail = 0 ] && echo "gate: ok"
exit $fail
