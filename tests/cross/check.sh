#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Cross-builds atrest for ARCH and runs its whole `make check` there under
# qemu-user: installs what the cross build needs (packaging/cross/setup.sh),
# assembles the ARCH root (packaging/cross/root.sh, cached), configures with
# --host and ATREST_EMULATOR="qemu-<cpu>-static -L ROOT", builds, checks.
# No binfmt registration is used or needed.
#
# Usage: tests/cross/check.sh [ARCH [BUILDDIR [MAKE-TARGET...]]]
#        (default: arm64 _build-ARCH check; extra configure options in
#        ATREST_CROSS_CONFIGURE, e.g. --enable-werror)
set -eu

ARCH=${1:-arm64}
src=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${2:-$src/_build-$ARCH}
[ $# -gt 2 ] && shift 2 || set --
[ $# -gt 0 ] || set -- check
. "$src/packaging/cross/arch.sh"
cross_arch "$ARCH" || exit 2

sh "$src/packaging/cross/setup.sh" "$ARCH"
root=$(sh "$src/packaging/cross/root.sh" "$ARCH")
[ -x "$src/configure" ] || (cd "$src" && ./autogen.sh >/dev/null)
emu="$CROSS_QEMU -L $root"

mkdir -p "$BUILD"
cd "$BUILD"
# A root made for other package versions gets a new path: reconfigure then.
if [ ! -f Makefile ] || ! grep -qxF "ATREST_EMULATOR = $emu" Makefile; then
	"$src/configure" -q --host="$CROSS_TRIPLET" ${ATREST_CROSS_CONFIGURE:-} \
		ATREST_EMULATOR="$emu"
fi
make -s -j"${ATREST_JOBS:-$(nproc)}"
make -s -j"${ATREST_JOBS:-$(nproc)}" "$@"
