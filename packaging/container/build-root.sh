#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Assembles the container image's root filesystem for one architecture
# without running anything inside it: Debian's runtime packages are unpacked
# by mmdebstrap (variant "extract": no maintainer script runs, so any
# architecture works on any host), and only the stripped binary and the
# daemon's two programs, their ELF closure (interpreter and DT_NEEDED
# libraries, read with readelf), the CA bundle, a minimal passwd/group, the
# /host links and the copyright files of the packages those files come from
# are copied out. The image build itself (podman build / import) is a
# separate step: see Containerfile.
#
#   build-root.sh [options] OUTDIR
#     --arch ARCH        Debian architecture (default: amd64)
#     --binary FILE      the atrest binary for ARCH (default: ./atrest); the
#                        daemon's atrest-evaluator and atrest-server are
#                        taken from where it finds them: atrest-ROLE plus
#                        what follows "atrest" in FILE's name (atrest-portable:
#                        atrest-evaluator-portable), beside FILE, else in
#                        ../libexec/atrest/ from it
#     --suite SUITE      Debian suite (default: bookworm)
#     --sources FILE     apt sources for mmdebstrap (default: the host's
#                        Debian sources, /etc/apt/sources.list.d/debian.sources
#                        or /etc/apt/sources.list)
#     --strip PROG       strip for ARCH (default: TRIPLET-strip, else strip)
#     --cache DIR        where the unpacked packages are kept, keyed by the
#                        checksum of their inputs (default: $ATREST_CACHE or
#                        /var/cache/atrest-ci; "" for none)
#
# OUTDIR/rootfs-ARCH/ is the root: atrest in /usr/bin, the daemon's programs
# in /usr/libexec/atrest/, where it finds them. OUTDIR/rootfs-ARCH.packages
# lists the Debian packages (name version) whose files it holds. Needs
# mmdebstrap, binutils (readelf, strip), dpkg-dev (dpkg-architecture), python3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
arch=amd64 binary=./atrest suite=bookworm sources= strip= cache=${ATREST_CACHE-/var/cache/atrest-ci}
while [ $# -gt 1 ]; do
	case $1 in
	--arch) arch=$2 ;;
	--binary) binary=$2 ;;
	--suite) suite=$2 ;;
	--sources) sources=$2 ;;
	--strip) strip=$2 ;;
	--cache) cache=$2 ;;
	*) echo "build-root.sh: unknown option $1" >&2; exit 3 ;;
	esac
	shift 2
done
[ $# -eq 1 ] || { sed -n '/^#   build-root/,/python3\.$/p' "$0" >&2; exit 3; }
out=$1

# The runtime packages of the binary's libraries (its NEEDED list decides
# what is taken from them), the CA certificates for ARM over HTTPS and
# base-files for os-release (scanners read it to name the distribution).
packages=libblkid1,libcryptsetup12,libcurl4,libinih1,libjson-c5,libmicrohttpd12,libssl3,libsystemd0,zlib1g,libc6,ca-certificates,base-files

die() { echo "build-root.sh: $*" >&2; exit 1; }
for t in mmdebstrap readelf dpkg-architecture python3 dpkg-deb; do
	command -v "$t" >/dev/null || die "$t not found (apt-get install mmdebstrap binutils dpkg-dev python3)"
done
[ -f "$binary" ] || die "no binary $binary"
# The daemon's programs, as atrest finds them (its name's suffix kept).
suffix=$(basename "$binary")
case $suffix in
atrest*) suffix=${suffix#atrest} ;;
*) die "--binary $binary: the name must start with \"atrest\" (the daemon's programs are named after it)" ;;
esac
declare -A helper
for role in evaluator server; do
	for d in "$(dirname "$binary")" "$(dirname "$binary")/../libexec/atrest"; do
		[ -f "$d/atrest-$role$suffix" ] && { helper[$role]=$d/atrest-$role$suffix; break; }
	done
	[ -n "${helper[$role]:-}" ] || die "the daemon's $role program is missing: no atrest-$role$suffix beside $binary nor in $(dirname "$binary")/../libexec/atrest/"
done
triplet=$(dpkg-architecture -a "$arch" -qDEB_HOST_MULTIARCH 2>/dev/null) || die "unknown architecture $arch"
if [ -z "$strip" ]; then
	strip=strip
	command -v "$triplet-strip" >/dev/null && strip=$triplet-strip
fi
if [ -z "$sources" ]; then
	sources=/etc/apt/sources.list
	[ -f /etc/apt/sources.list.d/debian.sources ] && sources=/etc/apt/sources.list.d/debian.sources
fi
[ -f "$sources" ] || die "no apt sources file $sources"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- the unpacked packages, cached by the checksum of what makes them ---
# The key includes the archive's Release files as apt last fetched them, so
# a point release or security update makes a new base. A base is a
# directory: root/ (the packages unpacked), filemap ("package /path" for
# every file) and control/PACKAGE (the fields the image's status.d keeps).
key=$( { echo "v1 $arch $suite $packages"; cat "$sources";
	cat /var/lib/apt/lists/*_InRelease 2>/dev/null || true; } | sha256sum | cut -c1-16)
if [ -n "$cache" ]; then
	mkdir -p "$cache/image-base" 2>/dev/null && [ -w "$cache/image-base" ] ||
		die "cache $cache not writable (set --cache or ATREST_CACHE)"
	base=$cache/image-base/$suite-$arch-$key
else
	base=$work/base
fi
if [ -s "$base/filemap" ]; then
	echo "build-root.sh: unpacked packages from the cache ($base)" >&2
else
	echo "build-root.sh: mmdebstrap --variant=extract $suite $arch" >&2
	new=$base.new.$$
	rm -rf "$new"
	mkdir -p "$new/control"
	# The .debs stay (skip cleanup/apt/cache) for their file lists.
	mmdebstrap --quiet --variant=extract --architectures="$arch" --include="$packages" \
		--skip=cleanup/apt/cache --skip=output/dev --skip=output/mknod \
		"$suite" "$new/root" "$sources" >&2 || die "mmdebstrap failed"
	for deb in "$new"/root/var/cache/apt/archives/*.deb; do
		pkg=$(dpkg-deb -f "$deb" Package)
		dpkg-deb -f "$deb" Package Version Architecture Source Maintainer Homepage |
			sed '1a Status: install ok installed' >"$new/control/$pkg"
		dpkg-deb -c "$deb" | awk -v p="$pkg" '{ f = $6; sub(/^\./, "", f); print p " " f }'
	done >"$new/filemap.tmp"
	rm -rf "$new"/root/var/cache/apt/archives
	mv "$new/filemap.tmp" "$new/filemap"
	rm -rf "$base"
	mv "$new" "$base"
	# Older bases of the same suite and architecture are stale.
	[ -z "$cache" ] || find "$cache/image-base" -mindepth 1 -maxdepth 1 \
		-name "$suite-$arch-*" ! -name "$(basename "$base")" -exec rm -rf {} +
fi
filemap=$base/filemap
base=$base/root

# --- the root ---
root=$out/rootfs-$arch
rm -rf "$root" "$root.packages"
mkdir -p "$root"
# atrest where the DaemonSet runs it, its helpers where it looks for them.
mkdir -p "$root/usr/bin" "$root/usr/libexec/atrest"
for f in "usr/bin/atrest=$binary" "usr/libexec/atrest/atrest-evaluator=${helper[evaluator]}" \
	"usr/libexec/atrest/atrest-server=${helper[server]}"; do
	"$strip" -o "$work/prog" "${f#*=}" ||
		die "$strip cannot strip ${f#*=} (for another architecture: --strip TRIPLET-strip, apt-get install binutils-TRIPLET)"
	install -m 0755 "$work/prog" "$root/${f%%=*}"
done

python3 "$here/elf-closure.py" "$base" "$triplet" "$root/usr/bin/atrest" \
	"$root/usr/libexec/atrest/atrest-evaluator" "$root/usr/libexec/atrest/atrest-server" >"$work/closure" ||
	die "the libraries the programs need are not all in $packages"
# ca-certificates' bundle, made as update-ca-certificates would (every
# certificate the package ships is enabled by default), but on the host.
mkdir -p "$root/etc/ssl/certs"
find "$base/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort |
	xargs cat >"$root/etc/ssl/certs/ca-certificates.crt"
[ -s "$root/etc/ssl/certs/ca-certificates.crt" ] || die "no CA certificates in the base"
echo /usr/share/ca-certificates >>"$work/closure"
echo /usr/lib/os-release >>"$work/closure"

while read -r p; do
	mkdir -p "$root$(dirname "$p")"
	[ "$p" = /usr/share/ca-certificates ] && continue
	cp -a --no-dereference "$base$p" "$root$p"
done <"$work/closure"

# Which package each file came from: its copyright file ships with it, and
# scanners read the package list from /var/lib/dpkg/status.d (as in other
# minimal images).
mkdir -p "$root/var/lib/dpkg/status.d"
awk 'NR == FNR { want[$0] = 1; next } ($2 in want) { print $1 }' "$work/closure" "$filemap" |
	sort -u >"$work/pkgs"
while read -r pkg; do
	cp "$base/../control/$pkg" "$root/var/lib/dpkg/status.d/$pkg"
	mkdir -p "$root/usr/share/doc/$pkg"
	cp "$base/usr/share/doc/$pkg/copyright" "$root/usr/share/doc/$pkg/copyright"
	echo "$pkg $(sed -n 's/^Version: //p' "$base/../control/$pkg")"
done <"$work/pkgs" >"$root.packages"
# Packages of one source share a copyright file: one copy, hard links.
(cd "$root" && sha256sum usr/share/doc/*/copyright | sort |
	awk '$1 == prev { print first, $2; next } { prev = $1; first = $2 }' |
	while read -r first dup; do ln -f "$first" "$dup"; done)

# Users for tools that look them up (uid 0 runs the agent).
mkdir -p "$root/etc"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
ln -sfn ../usr/lib/os-release "$root/etc/os-release"

# The node's files atrest reads at fixed paths live under /host in the pod
# (the DaemonSet mounts the node's / there read-only): links, so that a file
# the node lacks stays missing instead of a hostPath creating it.
mkdir -p "$root/boot" "$root/etc/kubernetes" "$root/var/lib" "$root/var/cache/atrest" \
	"$root/etc/atrest" "$root/run" "$root/tmp" "$root/host" "$root/proc" "$root/sys" "$root/dev"
chmod 1777 "$root/tmp"
ln -sfn /host/etc/crypttab "$root/etc/crypttab"
ln -sfn /host/etc/kubernetes/azure.json "$root/etc/kubernetes/azure.json"
ln -sfn /host/boot/luks "$root/boot/luks"
ln -sfn /host/var/lib/azure_disk_encryption_config "$root/var/lib/azure_disk_encryption_config"
ln -sfn /host/run/udev "$root/run/udev"

echo "build-root.sh: $root: $(du -sb "$root" | cut -f1) bytes, $(wc -l <"$root.packages") packages" >&2
