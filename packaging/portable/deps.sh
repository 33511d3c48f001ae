#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The portable build's inputs, cached outside the tree by checksum: a Debian 11
# build root (glibc 2.31, the oldest this project can fetch) and a prefix of
# static libraries: those of the pinned -dev packages, and those built in the
# root from the pinned Debian sources (sources.lock).
#   deps.sh [--host TRIPLE] [--cache DIR] [--jobs N]
# prints ROOT=<build root> and DEPS=<prefix> (shell assignments). Needs root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

HOST=$(dpkg-architecture -qDEB_HOST_GNU_TYPE)
CACHE=${ATREST_PORTABLE_CACHE:-/var/cache/atrest-ci/portable}
JOBS=2
MIRROR=${ATREST_DEBIAN_MIRROR:-http://deb.debian.org/debian}
while [ $# -gt 0 ]; do
	case $1 in
	--host) HOST=$2; shift 2 ;;
	--cache) CACHE=$2; shift 2 ;;
	--jobs) JOBS=$2; shift 2 ;;
	*) echo "usage: $0 [--host TRIPLE] [--cache DIR] [--jobs N]" >&2; exit 3 ;;
	esac
done

log() { printf '== portable: %s\n' "$*" >&2; }
die() { printf 'portable: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap and chroot)"
for t in mmdebstrap dpkg-source apt-get unshare; do
	command -v "$t" >/dev/null || die "$t not found (apt-get install mmdebstrap dpkg-dev)"
done

# The build root: Debian 11 plus the tools the libraries' builds need. A cross
# build adds the cross compiler and the target's systemd headers (multiarch).
ROOT_SUITE=bullseye
ROOT_PKGS=gcc,libc6-dev,make,dpkg-dev,pkg-config,autoconf,automake,libtool,autopoint,gettext,libaio-dev,libsystemd-dev,file,xz-utils
BUILD=$(dpkg-architecture -qDEB_BUILD_GNU_TYPE)
ROOT_ARCHES=$(dpkg-architecture -qDEB_BUILD_ARCH)
if [ "$HOST" != "$BUILD" ]; then
	harch=$(dpkg-architecture -t"$HOST" -qDEB_HOST_ARCH 2>/dev/null) || die "unknown triple $HOST"
	ROOT_ARCHES=$ROOT_ARCHES,$harch
	ROOT_PKGS=$ROOT_PKGS,gcc-$HOST,libc6-dev:$harch,libsystemd-dev:$harch,libaio-dev:$harch
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one builder at a time; a second CI run waits and then finds the cache

key() { sha256sum | cut -c1-16; }
root_key=$(printf '%s\n' "$ROOT_SUITE" "$ROOT_PKGS" "$ROOT_ARCHES" "$MIRROR" | key)
ROOT=$CACHE/root-$ROOT_SUITE-$root_key
if [ ! -x "$ROOT/usr/bin/gcc" ]; then
	log "building the $ROOT_SUITE root (once per package list)"
	rm -rf "$ROOT" "$ROOT.tmp"
	mmdebstrap --quiet --variant=minbase --architectures="$ROOT_ARCHES" \
		--include="$ROOT_PKGS" "$ROOT_SUITE" "$ROOT.tmp" "$MIRROR" >&2
	mv "$ROOT.tmp" "$ROOT"
fi

# Sources: fetched through a private apt configuration (the system's apt
# sources are never touched), each .dsc checked against its pinned SHA-256;
# dpkg-source then checks every tarball against the .dsc.
SRC=$CACHE/src
DEBS_DIR=$CACHE/debs
mkdir -p "$SRC" "$DEBS_DIR"
lock=$here/sources.lock
pins=$(grep -v '^#' "$lock" | awk 'NF == 4')
harch=$(dpkg-architecture -t"$HOST" -qDEB_HOST_ARCH 2>/dev/null) || die "unknown triple $HOST"
debpins=$(grep -v '^#' "$lock" | awk -v a="$harch" 'NF == 5 && $4 == a')
[ -n "$debpins" ] || die "sources.lock pins no -dev packages for $harch"
apt_private() { # sets up a private apt for the suites named in $1 (deb-src and deb lines)
	local suites s
	apt_dir=$(mktemp -d)
	suites=$(awk '{print $3}' <<<"$1" | sort -u)
	for s in $suites; do
		case $s in
		*-security) echo "${MIRROR%/debian}/debian-security $s main" ;;
		*) echo "$MIRROR $s main" ;;
		esac
	done | sed "s/^/deb-src /; p; s/^deb-src /deb [arch=$harch] /" >"$apt_dir/sources.list"
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
	apt=(-o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache"
		-o Dir::State::status=/dev/null -o APT::Sandbox::User=root
		-o APT::Architectures::="$harch" -qq)
	apt-get "${apt[@]}" update >&2
}
fetch_sources() {
	local apt_dir apt want=()
	apt_private "$pins"$'\n'"$debpins"
	trap 'rm -rf "$apt_dir"' RETURN
	while read -r pkg ver _ _; do
		want+=("$pkg=$ver")
	done <<<"$pins"
	(cd "$SRC" && apt-get "${apt[@]}" source --download-only "${want[@]}" >&2) || return 1
	want=()
	while read -r pkg ver _ arch _; do
		want+=("$pkg:$arch=$ver")
	done <<<"$debpins"
	(cd "$DEBS_DIR" && apt-get "${apt[@]}" download "${want[@]}" >&2)
}
deb_of() { # deb_of PACKAGE VERSION ARCH: the file name apt gives its .deb
	echo "${1}_${2/:/%3a}_$3.deb"
}
dsc_of() { # dsc_of PACKAGE VERSION: the file name of its .dsc (no epoch)
	echo "${1}_${2#*:}.dsc"
}
parts_of() { # parts_of DSC: the files a .dsc lists
	awk '/^Files:/ {f = 1; next} /^[^ ]/ {f = 0} f && NF == 3 {print $3}' "$1"
}
missing=0
while read -r pkg ver _ sum; do
	f=$SRC/$(dsc_of "$pkg" "$ver")
	if [ -f "$f" ] && echo "$sum  $f" | sha256sum --quiet -c >/dev/null 2>&1; then
		for part in $(parts_of "$f"); do [ -f "$SRC/$part" ] || missing=1; done
	else
		missing=1
	fi
done <<<"$pins"
while read -r pkg ver _ arch sum; do
	f=$DEBS_DIR/$(deb_of "$pkg" "$ver" "$arch")
	[ -f "$f" ] && echo "$sum  $f" | sha256sum --quiet -c >/dev/null 2>&1 || missing=1
done <<<"$debpins"
if [ $missing = 1 ]; then
	log "fetching the pinned Debian sources and -dev packages"
	fetch_sources || die "apt-get source/download failed: is every version in sources.lock still in the archive?"
fi
while read -r pkg ver _ sum; do
	f=$SRC/$(dsc_of "$pkg" "$ver")
	echo "$sum  $f" | sha256sum --quiet -c >/dev/null 2>&1 ||
		die "$f: SHA-256 is $(sha256sum <"$f" 2>/dev/null | cut -c1-64), sources.lock pins $sum"
done <<<"$pins"
while read -r pkg ver _ arch sum; do
	f=$DEBS_DIR/$(deb_of "$pkg" "$ver" "$arch")
	echo "$sum  $f" | sha256sum --quiet -c >/dev/null 2>&1 ||
		die "$f: SHA-256 is $(sha256sum <"$f" 2>/dev/null | cut -c1-64), sources.lock pins $sum"
done <<<"$debpins"

# The libraries: keyed by the scripts, the pins, the root and the target.
deps_key=$( (cat "$lock" "$here/build-libs.sh" "$here/aarch64-sync.c" "$here/deps.sh"; echo "$root_key $HOST") | key)
DEPS=$CACHE/deps-$HOST-$deps_key
if [ ! -f "$DEPS/.done" ]; then
	log "building the static libraries for $HOST (cached as $DEPS)"
	rm -rf "$DEPS" "$DEPS.tmp"
	mkdir -p "$DEPS.tmp" "$CACHE/tmp"
	work=$(mktemp -d "$CACHE/tmp/work.XXXXXX")
	# Only the pinned packages' files go in: a stale tarball cannot be picked.
	srcsel=$(mktemp -d "$CACHE/tmp/src.XXXXXX")
	debsel=$(mktemp -d "$CACHE/tmp/debs.XXXXXX")
	trap 'rm -rf "$work" "$srcsel" "$debsel" "$DEPS.tmp"' EXIT
	while read -r pkg ver _ _; do
		f=$SRC/$(dsc_of "$pkg" "$ver")
		cp "$f" "$srcsel/"
		for part in $(parts_of "$f"); do cp "$SRC/$part" "$srcsel/"; done
	done <<<"$pins"
	while read -r pkg ver _ arch _; do
		cp "$DEBS_DIR/$(deb_of "$pkg" "$ver" "$arch")" "$debsel/"
	done <<<"$debpins"
	t0=$SECONDS
	"$here/in-root.sh" "$ROOT" "$srcsel:/src" "$debsel:/debs" "$work:/work" \
		"$DEPS.tmp:/opt/atrest-deps" "$here:/scripts" -- \
		env HOST="$HOST" PREFIX=/opt/atrest-deps SRC=/src DEBS=/debs WORK=/work JOBS="$JOBS" \
		bash /scripts/build-libs.sh >&2
	# The prefix is used at /opt/atrest-deps inside the root; its .pc files say so.
	printf 'built in %ds from:\n%s\n%s\n' $((SECONDS - t0)) "$pins" "$debpins" >"$DEPS.tmp/BUILDINFO"
	touch "$DEPS.tmp/.done"
	mv "$DEPS.tmp" "$DEPS"
	rm -rf "$work" "$srcsel" "$debsel"
	trap - EXIT
	# Keep the two newest prefixes per target: older ones belong to old pins.
	ls -dt "$CACHE/deps-$HOST-"* 2>/dev/null | tail -n +3 | xargs -r rm -rf
fi
printf 'ROOT=%q\nDEPS=%q\n' "$ROOT" "$DEPS"
