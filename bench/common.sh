# SPDX-License-Identifier: Apache-2.0
# Sourced by the bench scripts (bash): the xtsbench driver and the tools a
# script needs, or a one-line error naming what to build or install.

# Sets XTSBENCH (unless set) from next to the script, the usual build
# directory, or $top_builddir.
find_xtsbench() {
	local here=$1 c
	if [ -z "${XTSBENCH:-}" ]; then
		for c in "$here/xtsbench" "$here/../_build/bench/xtsbench" "${top_builddir:-.}/bench/xtsbench"; do
			[ -x "$c" ] && XTSBENCH=$c && break
		done
	fi
	[ -n "${XTSBENCH:-}" ] || { echo "xtsbench not found: build it (make bench/xtsbench) or set XTSBENCH" >&2; exit 2; }
}

# need COMMAND DEBIAN_PACKAGE
need() {
	command -v "$1" >/dev/null || { echo "$1 not found (apt-get install $2)" >&2; exit 2; }
}
