#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A Debian root made by mmdebstrap from this machine's Debian archive, as a
# tarball cached by the checksum of what makes it (suite, variant, package
# list, apt sources, the archive's Release files as apt last fetched them).
# Prints the tarball's path.
#
#   deb-chroot.sh NAME VARIANT INCLUDES [SUFFIX]
#     NAME      a label for the file name (e.g. piuparts, systemd)
#     VARIANT   mmdebstrap's --variant (minbase, ...)
#     INCLUDES  comma-separated extra packages ("" for none)
#     SUFFIX    tar or tar.gz (default tar)
# Env: ATREST_CACHE (default /var/cache/atrest-ci), ATREST_DEB_SUITE
# (default bookworm). Exit 77 when mmdebstrap is missing or fails.
set -u
name=$1 variant=$2 include=$3 suffix=${4:-tar}
suite=${ATREST_DEB_SUITE:-bookworm}
cache=${ATREST_CACHE:-/var/cache/atrest-ci}/deb-chroot
sources=/etc/apt/sources.list
[ -f /etc/apt/sources.list.d/debian.sources ] && sources=/etc/apt/sources.list.d/debian.sources
skip() { echo "deb-chroot.sh: $*" >&2; exit 77; }

command -v mmdebstrap >/dev/null || skip "mmdebstrap not installed"
key=$( { echo "v1 $suite $variant $include"; cat "$sources";
	cat /var/lib/apt/lists/*_InRelease 2>/dev/null || true; } | sha256sum | cut -c1-16)
out=$cache/$name-$suite-$key.$suffix
if ! [ -s "$out" ]; then
	mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || skip "cache $cache not writable (set ATREST_CACHE)"
	tmp=$cache/.$name.$$.$suffix
	mmdebstrap --quiet --variant="$variant" ${include:+--include="$include"} \
		"$suite" "$tmp" "$sources" >&2 || { rm -f "$tmp"; skip "mmdebstrap $variant $suite failed"; }
	mv "$tmp" "$out"
	# Older roots of the same name are stale.
	find "$cache" -maxdepth 1 -name "$name-$suite-*" ! -name "$(basename "$out")" -delete
fi
echo "$out"
