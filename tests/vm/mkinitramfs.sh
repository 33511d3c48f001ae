#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the VM test's initramfs: busybox, the host's cryptsetup/dmsetup/lvm/
# blkid/capsh/mke2fs with their libraries, the atrest binary under test, the
# dm and crypto modules of the unpacked Debian kernel, and /init running
# guest.sh. Everything comes from Debian packages; nothing is installed.
#
# A guest of another architecture (arm64) takes its tools from TOOLROOT, a
# root of that architecture's extracted packages (packaging/cross/root.sh),
# with the libraries their ELF headers name instead of ldd's answer.
#
# Usage: mkinitramfs.sh KROOT KVER BUSYBOX ATREST GUEST_SH OUT.cpio.gz [TOOLROOT]
# Env:   VM_ARCH   Debian architecture of the guest (default amd64)
set -eu

die() { echo "mkinitramfs.sh: $*" >&2; exit 1; }

[ $# -eq 6 ] || [ $# -eq 7 ] ||
	die "usage: mkinitramfs.sh KROOT KVER BUSYBOX ATREST GUEST_SH OUT [TOOLROOT]"
KROOT=$1 KVER=$2 BUSYBOX=$3 ATREST=$4 GUEST=$5 OUT=$6 TOOLROOT=${7:-}
ARCH=${VM_ARCH:-amd64}
export PATH="$PATH:/usr/sbin:/sbin"
. "$(cd "$(dirname "$0")" && pwd)/../../packaging/cross/arch.sh"
cross_arch "$ARCH" || exit 1

# Modules the guest loads, by name; --show-depends puts them in load order.
# ext4 and cbc are built into the cloud kernels and come out as "builtin".
# The AES drivers are the ones a real CPU of the architecture gets: AES-NI
# on amd64; the ARMv8 Crypto Extensions (xts-aes-ce, aes-ce-blk) on arm64,
# with the bit-sliced NEON driver beside it as the kernel would have it.
case $ARCH in
amd64)
	MODULES="virtio_pci virtio_scsi sd_mod virtio-rng dm-mod dm-crypt dm-zero
		ecb xts cryptd crypto_simd aesni-intel essiv sha256-ssse3
		af_alg algif_skcipher ext4 overlay btrfs" ;;
arm64)
	MODULES="virtio_pci virtio_scsi sd_mod virtio-rng dm-mod dm-crypt dm-zero
		ecb xts aes-ce-blk aes-neon-bs essiv sha2-ce
		af_alg algif_skcipher ext4 overlay btrfs" ;;
esac

# Host tools copied into the guest (Debian packages in README.md).
TOOLS="cryptsetup dmsetup lvm blkid lsblk capsh mke2fs mkfs.btrfs"

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/atrest-initrd.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT

# A binary and every library ldd names, at the same paths, mode 755.
copy_binary() {
	src=$1 dst=$2
	[ -z "$TOOLROOT" ] || { copy_foreign "$src" "$dst"; return; }
	install -D -m 755 "$src" "$ROOT$dst"
	ldd "$src" 2>/dev/null | tr -s ' \t' '\n' | grep '^/' | while read -r lib; do
		[ -e "$ROOT$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$ROOT$lib"
	done
}

# A path inside TOOLROOT with its symlinks followed inside TOOLROOT (an
# absolute link target there means TOOLROOT/target, not the host's).
in_toolroot() {
	p=$1 hops=0
	while [ -L "$TOOLROOT$p" ] && [ $hops -lt 20 ]; do
		t=$(readlink "$TOOLROOT$p")
		case $t in /*) p=$t ;; *) p=$(dirname "$p")/$t ;; esac
		hops=$((hops + 1))
	done
	echo "$TOOLROOT$p"
}

# Where the loader finds a library: its multiarch directories, then /lib.
find_lib() {
	for d in /lib/$CROSS_TRIPLET /usr/lib/$CROSS_TRIPLET /lib /usr/lib; do
		[ -e "$TOOLROOT$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}

# A binary of the guest's architecture: itself, its program interpreter and
# the closure of its DT_NEEDED libraries, each from TOOLROOT.
copy_foreign() {
	install -D -m 755 "$1" "$ROOT$2"
	todo=$1
	interp=$(readelf -lW "$1" | sed -n 's/.*program interpreter: \(.*\)\]$/\1/p')
	if [ -n "$interp" ] && [ ! -e "$ROOT$interp" ]; then
		install -D -m 755 "$(in_toolroot "$interp")" "$ROOT$interp"
	fi
	while [ -n "$todo" ]; do
		set -- $todo
		f=$1
		shift
		todo=$*
		for lib in $(readelf -dW "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
			p=$(find_lib "$lib") || die "$lib (needed by $f) is not in $TOOLROOT"
			[ -e "$ROOT$p" ] && continue
			install -D -m 755 "$(in_toolroot "$p")" "$ROOT$p"
			todo="$todo $(in_toolroot "$p")"
		done
	done
}

# A host tool, or the guest architecture's copy of it from TOOLROOT.
tool_path() {
	if [ -z "$TOOLROOT" ]; then
		command -v "$1"
		return
	fi
	for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
		[ -e "$TOOLROOT$d/$1" ] && { in_toolroot "$d/$1"; return 0; }
	done
	return 1
}

# busybox lists its applets: through qemu-user when it is not this
# machine's architecture (a static binary: no library root needed).
busybox_list() {
	"$BUSYBOX" --list-full 2>/dev/null || "$CROSS_QEMU" "$BUSYBOX" --list-full
}

install_busybox() {
	install -D -m 755 "$BUSYBOX" "$ROOT/bin/busybox"
	for d in bin sbin usr/bin usr/sbin usr/local/bin dev proc sys run tmp mnt etc root; do
		mkdir -p "$ROOT/$d"
	done
	busybox_list | while read -r app; do
		[ -e "$ROOT/$app" ] || ln -s /bin/busybox "$ROOT/$app"
	done
}

# Host binaries go to /usr/local/bin, ahead of busybox's applets in PATH.
install_tools() {
	for t in $TOOLS; do
		p=$(tool_path "$t") || die "tool $t missing${TOOLROOT:+ in $TOOLROOT}"
		copy_binary "$p" "/usr/local/bin/$t"
	done
	copy_binary "$ATREST" /usr/local/bin/atrest
	[ -r "$TOOLROOT/etc/mke2fs.conf" ] && install -m 644 "$TOOLROOT/etc/mke2fs.conf" "$ROOT/etc/"
	# No udev in the guest: lvm creates its nodes itself and never waits.
	mkdir -p "$ROOT/etc/lvm"
	cat > "$ROOT/etc/lvm/lvm.conf" <<'CONF'
devices { obtain_device_list_from_udev = 0 external_device_info_source = "none" }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
global { use_lvmpolld = 0 event_activation = 0 }
backup { backup = 0 archive = 0 }
CONF
}

# Modules in dependency order, one insmod path per line in /modules.order.
install_modules() {
	: > "$ROOT/modules.order"
	for m in $MODULES; do
		modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" ||
			die "module $m not in $KROOT ($KVER)"
	done | while read -r verb path _; do
		[ "$verb" = insmod ] || continue
		rel=${path#"$KROOT"}
		grep -qx "$rel" "$ROOT/modules.order" && continue
		install -D -m 644 "$path" "$ROOT$rel"
		echo "$rel" >> "$ROOT/modules.order"
	done
}

install_init() {
	install -m 755 "$GUEST" "$ROOT/guest.sh"
	cat > "$ROOT/init" <<'INIT'
#!/bin/sh
# The guest's PID 1: run the payload, report, and always power off.
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
/bin/sh /guest.sh
echo "===VM-EXIT rc=$?==="
poweroff -f
INIT
	chmod 755 "$ROOT/init"
}

install_busybox
install_tools
install_modules
install_init
(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
