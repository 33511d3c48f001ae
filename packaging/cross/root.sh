#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Assembles a root of a foreign architecture from extracted Debian packages
# (dpkg-deb -x, no maintainer scripts, nothing of that architecture runs):
# atrest's runtime libraries and the tools the VM test puts in its guest.
# qemu-user runs the cross-built tests in it (-L ROOT), and the arm64 VM
# test takes its guest's binaries from it. The package closure is resolved
# by the host's apt as if ARCH were native; the root is cached under a key
# made of that closure (names and versions) and of this script, so a new
# package version makes a new root and an unchanged one is reused.
#
# Usage: packaging/cross/root.sh [ARCH]      prints the root's path
# Env:   ATREST_CROSS_CACHE   cache (default /var/cache/atrest-ci/cross-ARCH)
set -eu

ARCH=${1:-arm64}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/arch.sh"
cross_arch "$ARCH" || exit 2
CACHE=${ATREST_CROSS_CACHE:-/var/cache/atrest-ci/cross-$ARCH}

# atrest's runtime libraries (what the .deb's shlibs name), then the guest
# tools of tests/vm (cryptsetup, dmsetup, lvm, blkid, lsblk, fdisk, capsh,
# mke2fs, mkfs.btrfs, busybox).
PKGS="libc6 libblkid1 libcryptsetup12 libcurl4 libjson-c5 libsystemd0
	libmicrohttpd12 libinih1 libssl3 zlib1g
	cryptsetup-bin dmsetup lvm2 util-linux fdisk libcap2-bin e2fsprogs
	btrfs-progs busybox-static"

die() { echo "root.sh: $*" >&2; exit 1; }

# apt as if ARCH were the only architecture, on an empty dpkg status (so the
# whole closure is listed), writing no cache files of the host's apt.
apt_arch() {
	apt-get -q=2 -o APT::Architecture="$ARCH" -o APT::Architectures::="$ARCH" \
		-o Dir::State::status="$tmp/status" -o Dir::Cache::pkgcache= \
		-o Dir::Cache::srcpkgcache= -o APT::Install-Recommends=0 "$@"
}

# Resolving the closure costs apt a parse of every package index (this
# machine's apt keeps no binary cache): remember the answer per state of
# the indexes (their Release files), the package list and this script.
eval "$(apt-config shell LISTS Dir::State::lists/d)"
memo=$CACHE/resolved-$( (cat "$0"; echo "$ARCH $PKGS"; cat "$LISTS"/*Release 2>/dev/null) |
	sha256sum | cut -c1-16)
if [ -r "$memo" ] && read -r root < "$memo" && [ -e "$root/.complete" ]; then
	echo "$root"
	exit 0
fi

mkdir -p "$CACHE/debs" || die "cannot create $CACHE (set ATREST_CROSS_CACHE)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/atrest-root.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/status"

# "Inst NAME (VERSION Suite [ARCH])" -> "NAME VERSION ARCH", sorted.
apt_arch -s install $PKGS > "$tmp/sim" 2>&1 ||
	{ sed 's/^/# /' "$tmp/sim" >&2; die "cannot resolve $ARCH packages (did packaging/cross/setup.sh $ARCH run?)"; }
sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*\[\([a-z0-9]*\)\]).*/\1 \2 \3/p' "$tmp/sim" |
	sort > "$tmp/closure"
[ -s "$tmp/closure" ] || die "empty package closure for $ARCH"

key=$( (cat "$tmp/closure" "$0") | sha256sum | cut -c1-16)
root=$CACHE/root-$key
if [ -e "$root/.complete" ]; then
	echo "$root" > "$memo"
	echo "$root"
	exit 0
fi

echo "root.sh: assembling $ARCH root $key ($(wc -l < "$tmp/closure") packages)" >&2
# Debian names files NAME_VERSION_ARCH.deb, the epoch's ':' as %3a.
missing=
while read -r name ver arch; do
	f=$CACHE/debs/${name}_$(echo "$ver" | sed 's/:/%3a/')_$arch.deb
	[ -s "$f" ] || missing="$missing $name:$arch=$ver"
done < "$tmp/closure"
if [ -n "$missing" ]; then
	(cd "$CACHE/debs" && apt-get -q=2 -o APT::Sandbox::User=root download $missing >&2) ||
		die "apt-get download failed"
fi

# Unpacked beside the cache's roots and renamed into place: a concurrent
# run with the same key finds either nothing or a complete root.
new=$(mktemp -d "$CACHE/.new-XXXXXX")
trap 'rm -rf "$tmp" "$new"' EXIT
while read -r name ver arch; do
	dpkg-deb -x "$CACHE/debs/${name}_$(echo "$ver" | sed 's/:/%3a/')_$arch.deb" "$new" ||
		die "cannot unpack $name $ver"
done < "$tmp/closure"
# No ld.so.cache: an empty one makes the loader use its built-in multiarch
# directories instead of falling through (qemu -L) to the host's cache.
mkdir -p "$new/etc"
: > "$new/etc/ld.so.cache"
[ -e "$new$CROSS_LDSO" ] || die "no dynamic loader $CROSS_LDSO in the $ARCH root"
cp "$tmp/closure" "$new/.packages"
: > "$new/.complete"
chmod 755 "$new"
mv -T "$new" "$root" 2>/dev/null || [ -e "$root/.complete" ] || die "cannot move the root into $root"

echo "$root" > "$memo"

# Keep the two newest roots; older ones belong to superseded packages.
ls -dt "$CACHE"/root-* 2>/dev/null | tail -n +3 | while read -r old; do
	rm -rf "$old"
done
ls -t "$CACHE"/resolved-* 2>/dev/null | tail -n +5 | xargs -r rm -f
echo "$root"
