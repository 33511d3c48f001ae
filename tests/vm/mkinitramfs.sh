#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the VM test's initramfs: busybox, the host's cryptsetup/dmsetup/lvm/
# blkid/capsh/mke2fs with their libraries, the atrest binary under test, the
# dm and crypto modules of the unpacked Debian kernel, and /init running
# guest.sh. Everything comes from Debian packages; nothing is installed.
#
# Usage: mkinitramfs.sh KROOT KVER BUSYBOX ATREST GUEST_SH OUT.cpio.gz
set -eu

die() { echo "mkinitramfs.sh: $*" >&2; exit 1; }

[ $# -eq 6 ] || die "usage: mkinitramfs.sh KROOT KVER BUSYBOX ATREST GUEST_SH OUT"
KROOT=$1 KVER=$2 BUSYBOX=$3 ATREST=$4 GUEST=$5 OUT=$6
export PATH="$PATH:/usr/sbin:/sbin"

# Modules the guest loads, by name; --show-depends puts them in load order.
# ext4 and cbc are built into the cloud kernel and come out as "builtin".
MODULES="virtio_pci virtio_scsi sd_mod virtio-rng dm-mod dm-crypt dm-zero
	ecb xts cryptd crypto_simd aesni-intel essiv sha256-ssse3
	af_alg algif_skcipher ext4 overlay btrfs"

# Host tools copied into the guest (Debian packages in README.md).
TOOLS="cryptsetup dmsetup lvm blkid lsblk capsh mke2fs mkfs.btrfs"

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/atrest-initrd.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT

# A binary and every library ldd names, at the same paths, mode 755.
copy_binary() {
	src=$1 dst=$2
	install -D -m 755 "$src" "$ROOT$dst"
	ldd "$src" 2>/dev/null | tr -s ' \t' '\n' | grep '^/' | while read -r lib; do
		[ -e "$ROOT$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$ROOT$lib"
	done
}

install_busybox() {
	install -D -m 755 "$BUSYBOX" "$ROOT/bin/busybox"
	for d in bin sbin usr/bin usr/sbin usr/local/bin dev proc sys run tmp mnt etc root; do
		mkdir -p "$ROOT/$d"
	done
	"$BUSYBOX" --list-full | while read -r app; do
		[ -e "$ROOT/$app" ] || ln -s /bin/busybox "$ROOT/$app"
	done
}

# Host binaries go to /usr/local/bin, ahead of busybox's applets in PATH.
install_tools() {
	for t in $TOOLS; do
		p=$(command -v "$t") || die "host tool $t missing"
		copy_binary "$p" "/usr/local/bin/$t"
	done
	copy_binary "$ATREST" /usr/local/bin/atrest
	[ -r /etc/mke2fs.conf ] && install -m 644 /etc/mke2fs.conf "$ROOT/etc/"
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
