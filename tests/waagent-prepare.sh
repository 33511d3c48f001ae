#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# WALinuxAgent's own Python modules for the VMSS tests: Debian's waagent
# package is downloaded and unpacked into a cache (dpkg-deb -x), never
# installed (installing it would start a second guest agent on an Azure or
# Hyper-V machine). Prints the directory to put on PYTHONPATH.
#
# Exit 77 (with the reason on stderr) when the package cannot be had.
# Env: ATREST_CACHE  cache root (default /var/cache/atrest-ci)
set -u
cache=${ATREST_CACHE:-/var/cache/atrest-ci}/waagent
skip() { echo "waagent-prepare.sh: $*" >&2; exit 77; }

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || skip "apt-get and dpkg-deb are needed"
ver=$(apt-cache policy waagent 2>/dev/null | sed -n 's/^ *Candidate: //p')
[ -n "$ver" ] && [ "$ver" != "(none)" ] || skip "apt knows no waagent package (apt-get update?)"
# The version names the package's content; its .deb checksum is kept beside it.
dir=$cache/$(echo "$ver" | tr ':' '_')
mods=$dir/root/usr/lib/python3/dist-packages
if ! [ -e "$dir/sha256" ]; then
	mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || skip "cache $cache not writable (set ATREST_CACHE)"
	new=$(mktemp -d "$cache/.new.XXXXXX") || exit 1
	(cd "$new" && apt-get download -q=2 "waagent=$ver") >/dev/null 2>&1 ||
		(cd "$new" && apt-get download "waagent=$ver" >&2) || { rm -rf "$new"; skip "apt-get download waagent failed"; }
	deb=$(ls "$new"/waagent_*.deb)
	dpkg-deb -x "$deb" "$new/root" || { rm -rf "$new"; exit 1; }
	sha256sum "$deb" | cut -d' ' -f1 >"$new/sha256"
	rm -f "$deb"
	# Another run may have finished first: keep its copy.
	mv -T "$new" "$dir" 2>/dev/null || rm -rf "$new"
fi
[ -d "$mods/azurelinuxagent" ] || skip "no azurelinuxagent modules in $dir"
echo "$mods"
