#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fetches Debian's cloud kernel and busybox (downloaded, never installed) into
# a cache and unpacks them, so the VM test can build an initramfs from them.
# Installs nothing: missing host tools are named with their Debian package.
#
# Usage: prepare.sh            prints KVER=, KROOT=, VMLINUZ=, BUSYBOX= lines;
#                              exits 77 when a host tool is missing
# Env:   ATREST_VM_CACHE       cache dir (default /var/cache/atrest-vm)
set -eu

CACHE=${ATREST_VM_CACHE:-/var/cache/atrest-vm}

die() { echo "prepare.sh: $*" >&2; exit 1; }

# Host tools, each with the Debian package that ships it.
check_tools() {
	missing=
	for pair in qemu-system-x86_64:qemu-system-x86 cpio:cpio depmod:kmod \
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

# linux-image-cloud-amd64 is a metapackage; its dependency names the kernel.
resolve_kernel_pkg() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1
}

# apt-get download into the cache, once per package version.
fetch() {
	pkg=$1
	ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] ||
		die "no candidate for $pkg (apt-get update?)"
	# Debian file names escape ':' in epochs as %3a.
	deb=$(ls "$CACHE/debs/${pkg}_"*"$(echo "${ver#*:}")_amd64.deb" 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		(cd "$CACHE/debs" && apt-get download -q=2 "$pkg" >/dev/null 2>&1) ||
			(cd "$CACHE/debs" && apt-get download "$pkg" >&2) ||
			die "apt-get download $pkg failed"
		deb=$(ls -t "$CACHE/debs/${pkg}_"*_amd64.deb | head -n1)
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

main() {
	check_tools
	mkdir -p "$CACHE/debs" 2>/dev/null && [ -w "$CACHE/debs" ] ||
		die "cache $CACHE not writable (set ATREST_VM_CACHE)"
	kpkg=$(resolve_kernel_pkg)
	[ -n "$kpkg" ] || die "cannot resolve linux-image-cloud-amd64 (apt-get update?)"
	kver=${kpkg#linux-image-}

	kdeb=$(fetch "$kpkg")
	bdeb=$(fetch busybox-static)
	unpack "$kdeb" "$CACHE/kernel"
	unpack "$bdeb" "$CACHE/busybox"

	# The package ships no modules.dep; build it under the unpacked root.
	[ -s "$CACHE/kernel/lib/modules/$kver/modules.dep" ] ||
		depmod -b "$CACHE/kernel" "$kver"

	vmlinuz="$CACHE/kernel/boot/vmlinuz-$kver"
	[ -r "$vmlinuz" ] || die "no kernel image in $kdeb"
	busybox="$CACHE/busybox/bin/busybox"
	[ -x "$busybox" ] || die "no busybox in $bdeb"
	echo "KVER=$kver"
	echo "KROOT=$CACHE/kernel"
	echo "VMLINUZ=$vmlinuz"
	echo "BUSYBOX=$busybox"
}

main "$@"
