# SPDX-License-Identifier: Apache-2.0
# Shared by check-vm.sh and run-kernel-bench.sh (sourced, POSIX sh): fetch
# the kernel, build the initramfs, make the disks and boot the guest.

VM_DIR=$(cd "$(dirname "$0")" && pwd)
VM_TIMEOUT=${ATREST_VM_TIMEOUT:-480}

# Milliseconds since the epoch, for the timings the test prints.
vm_now() { echo $(( $(date +%s%N) / 1000000 )); }
vm_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# Sets KVER, KROOT, VMLINUZ, BUSYBOX; returns prepare.sh's status (77: a host
# tool is missing).
vm_prepare() {
	vm_env=$(sh "$VM_DIR/prepare.sh") || return $?
	eval "$vm_env"
}

vm_initramfs() {
	sh "$VM_DIR/mkinitramfs.sh" "$KROOT" "$KVER" "$BUSYBOX" "$1" \
		"$VM_DIR/guest.sh" "$2"
}

# Sparse raw images: OS and resource disk, then data LUNs 0..N-1, 64 MiB
# each but the LUNs listed in $3, 256 MiB (btrfs wants more than 109 MiB).
vm_disks() {
	for d in os resource; do truncate -s 64M "$1/$d.img" || return 1; done
	i=0
	while [ $i -lt "$2" ]; do
		size=64M
		case " ${3:-} " in *" $i "*) size=256M ;; esac
		truncate -s $size "$1/lun$i.img" || return 1
		i=$((i + 1))
	done
}

# Boots the cloud kernel under TCG with an Azure-like SCSI layout: OS disk
# (LUN 0) and resource disk (LUN 1) on scsi0 at 00:07.0, data LUNs on scsi1
# at 00:08.0, every device at a fixed PCI address so guest names are stable.
# Usage: vm_boot WORKDIR INITRD NDATA CONSOLE_LOG [EXTRA_CMDLINE]
vm_boot() {
	work=$1 initrd=$2 ndata=$3 log=$4 extra=${5:-}
	msft="vendor=Msft,product=Virtual Disk"
	set -- -accel tcg -cpu max -smp 1 -m 1G -nographic -no-reboot \
		-kernel "$VMLINUZ" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet $extra" \
		-device virtio-rng-pci,addr=0x6 \
		-device virtio-scsi-pci,id=scsi0,addr=0x7 \
		-drive "file=$work/os.img,if=none,id=os,format=raw" \
		-device "scsi-hd,drive=os,bus=scsi0.0,scsi-id=0,lun=0,$msft" \
		-drive "file=$work/resource.img,if=none,id=res,format=raw" \
		-device "scsi-hd,drive=res,bus=scsi0.0,scsi-id=0,lun=1,$msft" \
		-device virtio-scsi-pci,id=scsi1,addr=0x8
	i=0
	while [ $i -lt "$ndata" ]; do
		set -- "$@" -drive "file=$work/lun$i.img,if=none,id=lun$i,format=raw" \
			-device "scsi-hd,drive=lun$i,bus=scsi1.0,scsi-id=0,lun=$i,$msft"
		i=$((i + 1))
	done
	timeout "$VM_TIMEOUT" qemu-system-x86_64 "$@" < /dev/null > "$log" 2>&1
}
