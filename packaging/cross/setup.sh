#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Prepares this Debian 12 machine (as root) to cross-build atrest for a
# foreign architecture with Debian multiarch, and to run what it builds
# under qemu: adds the architecture to dpkg, installs the cross toolchain,
# the ARCH flavour of every -dev package atrest links against,
# qemu-user-static (make check) and qemu-system for ARCH (make check-vm).
# Idempotent: a second run installs nothing.
#
# Usage: packaging/cross/setup.sh [ARCH]        (default arm64)
set -eu

ARCH=${1:-arm64}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/arch.sh"
cross_arch "$ARCH" || exit 2

log() { printf '== cross setup (%s): %s\n' "$ARCH" "$*" >&2; }
apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 \
		install -y -q=2 --no-install-recommends "$@" >&2
}
installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# The -dev packages are the build's (quickstart BUILD_DEPS); their ARCH
# flavours, plus what a cross build needs on the build machine.
want="crossbuild-essential-$ARCH qemu-user-static $CROSS_QEMU_SYSTEM_PKG binutils-multiarch"
for p in $CROSS_DEV_PKGS; do want="$want $p:$ARCH"; done
want="$want pkgconf:$ARCH"

missing=
for p in $want; do installed "$p" || missing="$missing $p"; done
[ -z "$missing" ] && { log "nothing to install"; exit 0; }

if ! dpkg --print-foreign-architectures | grep -qx "$ARCH"; then
	log "dpkg --add-architecture $ARCH"
	dpkg --add-architecture "$ARCH"
fi
# An update only when apt has no $ARCH index yet, or a package is unknown.
if ! apt-cache show "libc6:$ARCH" >/dev/null 2>&1 ||
	! apt-cache show $missing >/dev/null 2>&1; then
	log "apt-get update"
	apt-get -o DPkg::Lock::Timeout=900 update -q=2 >&2
fi
log "installing:$missing"
apt_install $missing
