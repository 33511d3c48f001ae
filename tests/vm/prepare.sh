#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fetches Debian's cloud kernel and busybox (downloaded, never installed) into
# a cache and unpacks them, so the VM test can build an initramfs from them.
# Installs nothing: missing host tools are named with their Debian package.
#
# Usage: prepare.sh [ARCH]     prints KVER=, KROOT=, VMLINUZ=, BUSYBOX=,
#                              QEMU= and, for a foreign ARCH, TOOLROOT=
#                              lines; exits 77 when a host tool is missing
#                              (ARCH: Debian architecture, default amd64)
# Env:   ATREST_VM_CACHE       cache dir (default /var/cache/atrest-vm)
#
# For a foreign architecture (arm64) the guest's tools cannot come from this
# machine: TOOLROOT is that architecture's root of extracted packages
# (packaging/cross/root.sh), which needs packaging/cross/setup.sh ARCH.
set -eu

ARCH=${1:-amd64}
CACHE=${ATREST_VM_CACHE:-/var/cache/atrest-vm}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../packaging/cross/arch.sh"
cross_arch "$ARCH" || exit 1
NATIVE=$(dpkg --print-architecture 2>/dev/null || echo amd64)

die() { echo "prepare.sh: $*" >&2; exit 1; }

# Host tools, each with the Debian package that ships it.
check_tools() {
	missing=
	for pair in $CROSS_QEMU_SYSTEM:$CROSS_QEMU_SYSTEM_PKG cpio:cpio depmod:kmod \
		    modprobe:kmod cryptsetup:cryptsetup-bin dmsetup:dmsetup \
		    lvm:lvm2 capsh:libcap2-bin blkid:util-linux lsblk:util-linux mkfs.btrfs:btrfs-progs \
		    mke2fs:e2fsprogs ldd:libc-bin dpkg-deb:dpkg apt-get:apt \
		    gzip:gzip; do
		tool=${pair%%:*}
		PATH=$PATH:/usr/sbin:/sbin command -v "$tool" >/dev/null 2>&1 ||
			missing="$missing ${pair#*:}"
	done
	[ -z "$missing" ] && return 0
	echo "prepare.sh: missing host tools; apt-get install$missing" >&2
	exit 77
}

# linux-image-cloud-ARCH is a metapackage; its dependency names the kernel.
resolve_kernel_pkg() {
	apt-cache depends "linux-image-cloud-$ARCH:$ARCH" 2>/dev/null |
		sed -n "s/^ *Depends: \(linux-image-[0-9].*-cloud-$ARCH\)\(:$ARCH\)\{0,1\}\$/\1/p" |
		head -n1
}

# apt-get download into the cache, once per package version.
fetch() {
	pkg=$1
	ver=$(apt-cache policy "$pkg:$ARCH" | sed -n 's/^ *Candidate: //p')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] ||
		die "no candidate for $pkg:$ARCH (apt-get update? dpkg --add-architecture $ARCH?)"
	# Debian file names escape ':' in epochs as %3a.
	deb=$(ls "$CACHE/debs/${pkg}_"*"$(echo "${ver#*:}")_$ARCH.deb" 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		(cd "$CACHE/debs" && apt-get download -q=2 "$pkg:$ARCH" >/dev/null 2>&1) ||
			(cd "$CACHE/debs" && apt-get download "$pkg:$ARCH" >&2) ||
			die "apt-get download $pkg:$ARCH failed"
		deb=$(ls -t "$CACHE/debs/${pkg}_"*_$ARCH.deb | head -n1)
	fi
	echo "$deb"
}

# dpkg-deb -x into DIR once; the stamp makes reruns skip the unpack.
unpack() {
	deb=$1 dir=$2
	stamp="$dir/.unpacked-$(basename "$deb")"
	[ -e "$stamp" ] && return 0
	rm -rf "$dir"
	mkdir -p "$dir"
	dpkg-deb -x "$deb" "$dir"
	: > "$stamp"
}

# Each apt query parses every package index (apt keeps no binary cache on
# these machines): the answer is remembered per state of the indexes (their
# Release files), architecture and this script, and reused while the files
# it names exist.
memo_key() {
	eval "$(apt-config shell LISTS Dir::State::lists/d)"
	(cat "$0"; echo "$ARCH"; cat "$LISTS"/*Release 2>/dev/null) | sha256sum | cut -c1-16
}

memo_valid() {
	[ -r "$1" ] || return 1
	while IFS='=' read -r k v; do
		case $k in
		KVER|QEMU) ;;
		TOOLROOT) [ -e "$v/.complete" ] || return 1 ;;
		*) [ -e "$v" ] || return 1 ;;
		esac
	done < "$1"
}

main() {
	check_tools
	mkdir -p "$CACHE/debs" 2>/dev/null && [ -w "$CACHE/debs" ] ||
		die "cache $CACHE not writable (set ATREST_VM_CACHE)"
	memo=$CACHE/prepared-$ARCH-$(memo_key)
	if memo_valid "$memo"; then
		cat "$memo"
		return 0
	fi
	trap 'rm -f "$memo.tmp.$$"' EXIT
	prepare > "$memo.tmp.$$"
	mv "$memo.tmp.$$" "$memo"
	ls -t "$CACHE"/prepared-"$ARCH"-* 2>/dev/null | tail -n +3 | xargs -r rm -f
	cat "$memo"
}

prepare() {
	kpkg=$(resolve_kernel_pkg)
	[ -n "$kpkg" ] || die "cannot resolve linux-image-cloud-$ARCH (apt-get update? dpkg --add-architecture $ARCH?)"
	kver=${kpkg#linux-image-}

	kdeb=$(fetch "$kpkg")
	bdeb=$(fetch busybox-static)
	# The native architecture keeps the cache layout it always had.
	vmdir=$CACHE
	[ "$ARCH" = "$NATIVE" ] || vmdir=$CACHE/$ARCH
	unpack "$kdeb" "$vmdir/kernel"
	unpack "$bdeb" "$vmdir/busybox"

	# The package ships no modules.dep; build it under the unpacked root.
	[ -s "$vmdir/kernel/lib/modules/$kver/modules.dep" ] ||
		depmod -b "$vmdir/kernel" "$kver"

	vmlinuz="$vmdir/kernel/boot/vmlinuz-$kver"
	[ -r "$vmlinuz" ] || die "no kernel image in $kdeb"
	busybox="$vmdir/busybox/bin/busybox"
	[ -x "$busybox" ] || die "no busybox in $bdeb"
	echo "KVER=$kver"
	echo "KROOT=$vmdir/kernel"
	echo "VMLINUZ=$vmlinuz"
	echo "BUSYBOX=$busybox"
	echo "QEMU=$CROSS_QEMU_SYSTEM"
	if [ "$ARCH" != "$NATIVE" ]; then
		toolroot=$(sh "$HERE/../../packaging/cross/root.sh" "$ARCH") ||
			die "no $ARCH root for the guest's tools"
		echo "TOOLROOT=$toolroot"
	fi
}

main "$@"
