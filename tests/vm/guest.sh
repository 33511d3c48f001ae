#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs inside the VM test's guest (started by /init): loads the dm and crypto
# modules, opens real dm-crypt and LVM mappings with real cryptsetup and lvm,
# and prints cryptsetup's, dmsetup's and atrest's views on the serial console
# between ===ATREST-BEGIN name=== / ===ATREST-END rc=N=== markers. Key
# material is never printed: keys live in /tmp files and dmsetup masks them.

# busybox runs its own applets before PATH: name host tools by path.
MKE2FS=/usr/local/bin/mke2fs
PBKDF="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
ATREST_ARGS="--format json --config /tmp/atrest.conf"
REQUIRE="--require-path /mnt/a --require-path /mnt/e --require-path /mnt/f --require-path /mnt/g
	--require-path /mnt/i --require-path /mnt/j --require-path /mnt/k"

# Run a command and print its stdout, then its stderr, as marked sections.
section() {
	local name=$1 rc t0
	shift
	t0=$(cut -d' ' -f1 /proc/uptime)
	"$@" > /tmp/sec.out 2> /tmp/sec.err
	rc=$?
	echo "$t0 $(cut -d' ' -f1 /proc/uptime) $name" >> /tmp/timeline
	echo "===ATREST-BEGIN $name==="
	cat /tmp/sec.out
	echo "===ATREST-END rc=$rc==="
	if [ -s /tmp/sec.err ]; then
		echo "===ATREST-BEGIN $name.stderr==="
		cat /tmp/sec.err
		echo "===ATREST-END rc=$rc==="
	fi
	return $rc
}

# Echo each command before running it, for the setup sections.
x() { echo "+ $*"; "$@"; }

early_mounts() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mount -t tmpfs tmpfs /run
	mount -t tmpfs tmpfs /tmp
	mkdir -p /run/cryptsetup /dev/pts
	echo 1 > /proc/sys/kernel/printk
	ip link set lo up
}

load_modules() {
	rc=0
	while read -r m; do
		insmod "$m" || { echo "insmod $m failed"; rc=1; }
	done < /modules.order
	echo "loaded $(wc -l < /modules.order) modules"
	return $rc
}

# The data and OS/resource disks by controller PCI address and LUN
# (the harness pins scsi0 at 00:07.0 and scsi1 at 00:08.0).
disk_at() {
	pci=$1 lun=$2
	for d in /sys/class/block/sd*; do
		[ -e "$d/partition" ] && continue
		p=$(readlink -f "$d/device")
		case "$p" in
		*"/0000:00:$pci.0/"*":$lun") echo "/dev/${d##*/}"; return 0 ;;
		esac
	done
	return 1
}

wait_disks() {
	n=0
	while [ "$(ls -d /sys/class/block/sd? 2>/dev/null | wc -l)" -lt 11 ] && [ $n -lt 100 ]; do
		sleep 0.1; n=$((n + 1))
	done
	for d in /sys/class/block/sd?; do
		echo "${d##*/} $(readlink -f "$d/device" | sed 's,.*/,,') $(cat "$d/device/vendor") $(cat "$d/device/model")"
	done
}

newkey() { head -c 64 /dev/urandom > "/tmp/key.$1"; }

# What the guest set up, for the host to hold every view against.
expect() { echo "EXPECT $*" >> /tmp/expect; }

luks_open() {
	local scen=$1 name=$2 type=$3 cipher=$4 bits=$5 dev=$6 mnt=$7 keyring ltype
	shift 7
	newkey "$name"
	x cryptsetup luksFormat --batch-mode --type "$type" -c "$cipher" -s "$bits" \
		$PBKDF --key-file "/tmp/key.$name" "$dev" || return 1
	x cryptsetup open --key-file "/tmp/key.$name" "$@" "$dev" "$name" || return 1
	keyring=yes
	case " $* " in *" --disable-keyring "*) keyring=no ;; esac
	[ "$type" = luks1 ] && keyring=no
	if [ "$mnt" != - ]; then
		x $MKE2FS -q -t ext4 "/dev/mapper/$name" || return 1
		mkdir -p "$mnt" && x mount -t ext4 "/dev/mapper/$name" "$mnt" || return 1
	fi
	ltype=$(echo "$type" | tr a-z A-Z)
	expect "scenario=$scen map=$name type=$ltype cipher=$cipher key_bits=$bits backing=$dev mount=$mnt keyring=$keyring"
}

scen_a() { luks_open a luks2xts512 luks2 aes-xts-plain64 512 "$DATA0" /mnt/a; }
scen_b() { luks_open b luks1cbc luks1 aes-cbc-essiv:sha256 256 "$DATA1" -; }
scen_c() { luks_open c luks2xts256 luks2 aes-xts-plain64 256 "$DATA2" -; }

# Plain dm-crypt swap with a throw-away key on the resource disk's partition.
scen_d() {
	printf 'n\np\n1\n\n\nw\n' | x fdisk "$RESOURCE" > /dev/null
	part=${RESOURCE}1
	n=0; while [ ! -b "$part" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	x cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 \
		--key-file /dev/urandom "$part" cryptswap || return 1
	x mkswap /dev/mapper/cryptswap > /dev/null || return 1
	x swapon /dev/mapper/cryptswap || return 1
	expect "scenario=d map=cryptswap type=PLAIN cipher=aes-xts-plain64 key_bits=512 backing=$part mount=- keyring=no swap=yes"
}

# LVM on dm-crypt: a LUKS2 PV holding a VG whose LV is mounted.
scen_e() {
	luks_open e pvcrypt luks2 aes-xts-plain64 512 "$DATA3" - || return 1
	x lvm pvcreate -q /dev/mapper/pvcrypt || return 1
	x lvm vgcreate -q vgc /dev/mapper/pvcrypt || return 1
	x lvm lvcreate -q -y -n lvdata -l 100%FREE vgc || return 1
	x $MKE2FS -q -t ext4 /dev/mapper/vgc-lvdata || return 1
	mkdir -p /mnt/e && x mount -t ext4 /dev/mapper/vgc-lvdata /mnt/e || return 1
	expect "scenario=e map=vgc-lvdata type=LVM backing=/dev/mapper/pvcrypt mount=/mnt/e"
}

# dm-crypt on an LVM LV (f), next to a plain LV of the same VG (g).
scen_fg() {
	x lvm pvcreate -q "$DATA4" || return 1
	x lvm vgcreate -q vgp "$DATA4" || return 1
	x lvm lvcreate -q -y -n lvcrypt -L 32M vgp || return 1
	x lvm lvcreate -q -y -n lvplain -l 100%FREE vgp || return 1
	luks_open f lvcryptopen luks2 aes-xts-plain64 512 /dev/mapper/vgp-lvcrypt /mnt/f || return 1
	x $MKE2FS -q -t ext4 /dev/mapper/vgp-lvplain || return 1
	mkdir -p /mnt/g && x mount -t ext4 /dev/mapper/vgp-lvplain /mnt/g || return 1
	expect "scenario=g map=vgp-lvplain type=LVM backing=$DATA4 mount=/mnt/g"
}

# The key in the kernel keyring is the LUKS2 default (scenario a); here the
# same format opened with the key in the dm table instead.
scen_h() { luks_open h nokeyring luks2 aes-xts-plain64 512 "$DATA5" - --disable-keyring; }

# LUKS2 online encryption started and not finished (`reencrypt --encrypt
# --init-only`): the header names aes-xts-plain64 while the data is still
# plaintext; the mapping is opened anyway, as it is after a reboot in the
# middle of an online encryption.
scen_i() {
	newkey reenc
	x cryptsetup reencrypt --encrypt --init-only --batch-mode --type luks2 \
		-c aes-xts-plain64 -s 512 --reduce-device-size 8M $PBKDF \
		--key-file /tmp/key.reenc "$DATA6" || return 1
	x cryptsetup open --key-file /tmp/key.reenc "$DATA6" reenc || return 1
	x $MKE2FS -q -t ext4 /dev/mapper/reenc || return 1
	mkdir -p /mnt/i && x mount -t ext4 /dev/mapper/reenc /mnt/i || return 1
	expect "scenario=i map=reenc type=LUKS2 cipher=aes-xts-plain64 key_bits=512 backing=$DATA6 mount=/mnt/i reencrypt=encrypt"
}

# overlayfs: the upper layer on dm-crypt (a), a lower layer on the plain LV (g).
scen_j() {
	mkdir -p /mnt/g/lower /mnt/a/upper /mnt/a/work /mnt/j || return 1
	echo plain > /mnt/g/lower/file
	x mount -t overlay overlay \
		-o lowerdir=/mnt/g/lower,upperdir=/mnt/a/upper,workdir=/mnt/a/work /mnt/j || return 1
	expect "scenario=j overlay=/mnt/j upper=/mnt/a lower=/mnt/g"
}

# btrfs over a dm-crypt mapping and a plain disk: mountinfo names only one.
scen_k() {
	luks_open k btrcrypt luks2 aes-xts-plain64 512 "$DATA7" - || return 1
	x mkfs.btrfs -q -f -d single -m single /dev/mapper/btrcrypt "$DATA8" > /dev/null || return 1
	# No udev to register the members: name the plain one at mount time.
	mkdir -p /mnt/k && x mount -t btrfs -o "device=$DATA8" /dev/mapper/btrcrypt /mnt/k || return 1
	expect "scenario=k btrfs=/mnt/k crypt=btrcrypt plain=$DATA8"
}

setup_scenarios() {
	: > /tmp/expect
	for s in a b c d e fg h i j k; do
		section "setup $s" "scen_$s"
	done
	section expect cat /tmp/expect
}

# Every view of every mapping the guest made, none with key material.
views() {
	local d name dev
	for d in /sys/block/dm-*; do
		name=$(cat "$d/dm/name")
		section "dm-table $name" dmsetup table "$name"
		case "$(cat "$d/dm/uuid")" in CRYPT-*) ;; *) continue ;; esac
		section "cs-status $name" cryptsetup status "$name"
		dev=$(cryptsetup status "$name" | sed -n 's/^ *device: *//p')
		/usr/local/bin/blkid -p -s TYPE "$dev" | grep -q crypto_LUKS &&
			section "luks-dump $name" cryptsetup luksDump "$dev"
	done
	section devmap sh -c 'for d in /sys/class/block/*; do
		echo "${d##*/} $(cat $d/dev) $(cat $d/dm/name 2>/dev/null || echo -) $(cat $d/dm/uuid 2>/dev/null || echo -) $(ls $d/slaves 2>/dev/null | tr "\n" , )"
	done'
	section blkid /usr/local/bin/blkid
	section lsblk /usr/local/bin/lsblk -J -o NAME,KNAME,MAJ:MIN,TYPE,SIZE,FSTYPE,MOUNTPOINTS
	section mounts cat /proc/self/mountinfo
	section btrfs-devices sh -c 'for d in /sys/fs/btrfs/*/devices/*; do echo "$d"; done' 
	section swaps cat /proc/swaps
	section crypto sh -c 'grep -m1 ^flags /proc/cpuinfo | tr " " "\n" | grep -x -e aes -e vaes -e avx2
		grep -A2 "^name *: xts(aes)" /proc/crypto'
	section nocap-proof capsh --drop=cap_sys_admin --shell=/bin/sh -- -c \
		'grep ^CapEff /proc/self/status; dmsetup table cryptswap >/dev/null'
}

run_atrest() {
	cat > /tmp/atrest.conf <<'CONF'
[imds]
url = http://127.0.0.1:9
timeout = 3

[arm]
mode = off
CONF
	section atrest-version timeout 30 atrest version
	section atrest-check timeout 30 atrest check $ATREST_ARGS --no-bench $REQUIRE
	section atrest-devices timeout 30 atrest devices $ATREST_ARGS
	section atrest-check-nocap capsh --drop=cap_sys_admin --shell=/bin/sh -- -c \
		"timeout 30 atrest check $ATREST_ARGS --no-bench $REQUIRE"
}

# Rounds interleave the peers, so that a change in the host's load (TCG
# runs as fast as the host lets it) falls on both alike.
run_bench() {
	for round in 1 2 3 4 5; do
		section "kernel-bench-$round" cryptsetup benchmark -c aes-xts-plain64 -s 512
		section "atrest-bench-$round" timeout 60 atrest bench --format json --seconds 4
	done
}

main() {
	early_mounts
	section modules load_modules
	mode=$(sed -n 's/.*atrest\.mode=\([a-z]*\).*/\1/p' /proc/cmdline)
	if [ "$mode" = bench ]; then
		run_bench
	else
		section disks wait_disks
		OS=$(disk_at 07 0) RESOURCE=$(disk_at 07 1)
		DATA0=$(disk_at 08 0) DATA1=$(disk_at 08 1) DATA2=$(disk_at 08 2)
		DATA3=$(disk_at 08 3) DATA4=$(disk_at 08 4) DATA5=$(disk_at 08 5)
		DATA6=$(disk_at 08 6) DATA7=$(disk_at 08 7) DATA8=$(disk_at 08 8)
		echo "disks: os=$OS resource=$RESOURCE data=$DATA0,$DATA1,$DATA2,$DATA3,$DATA4,$DATA5,$DATA6,$DATA7,$DATA8"
		setup_scenarios
		views
		run_atrest
	fi
	sync
	section timeline cat /tmp/timeline
	echo "===VM-DONE==="
}

main
