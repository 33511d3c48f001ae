#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs a command inside a Debian root in a private mount and PID namespace:
#   in-root.sh ROOT [HOSTDIR:ROOTDIR]... -- COMMAND...
# Each HOSTDIR (or file, over an existing file) is bind-mounted at ROOTDIR; /proc, /dev and a fresh /tmp are
# mounted too. Every mount disappears with the namespace: the root stays as
# it was (apart from the mount points), whatever the command does.
set -euo pipefail
root=$(cd "$1" && pwd); shift
binds=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do binds+=("$1"); shift; done
[ "${1:-}" = -- ] || { echo "usage: $0 ROOT [HOST:ROOTDIR]... -- COMMAND..." >&2; exit 3; }
shift

exec unshare --mount --propagation private --pid --fork -- bash -euc '
	root=$1 n=$2; shift 2
	# /tmp first, so that binds of paths under /tmp land inside it.
	mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
	for ((i = 0; i < n; i++)); do
		src=${1%%:*} dst=$root/${1#*:}
		if [ ! -e "$dst" ]; then
			if [ -d "$src" ]; then
				mkdir -p "$dst"
			else
				mkdir -p "$(dirname "$dst")"
				: >"$dst"
			fi
		fi
		mount --bind "$src" "$dst"
		shift
	done
	mount -t proc proc "$root/proc"
	mount --bind /dev "$root/dev"
	exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 TERM=dumb "$@"' in-root "$root" "${#binds[@]}" "${binds[@]}" "$@"
