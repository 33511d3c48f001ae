#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make portable`: builds atrest in the Debian 11 root against the static
# libraries of deps.sh (configure --enable-portable), strips it and writes OUT.
#   build.sh --srcdir DIR --builddir DIR --out FILE [--host TRIPLE] [--cache DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
srcdir= builddir= out= deps_args=()
HOST=$(dpkg-architecture -qDEB_HOST_GNU_TYPE)
while [ $# -gt 0 ]; do
	case $1 in
	--srcdir) srcdir=$(cd "$2" && pwd); shift 2 ;;
	--builddir) builddir=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--host) HOST=$2; deps_args+=(--host "$2"); shift 2 ;;
	--cache) deps_args+=(--cache "$2"); shift 2 ;;
	*) echo "usage: $0 --srcdir DIR --builddir DIR --out FILE [--host TRIPLE] [--cache DIR]" >&2; exit 3 ;;
	esac
done
[ -n "$srcdir" ] && [ -n "$builddir" ] && [ -n "$out" ] || { echo "$0: --srcdir, --builddir and --out are required" >&2; exit 3; }
[ -x "$srcdir/configure" ] || { echo "$0: $srcdir/configure missing (run ./autogen.sh)" >&2; exit 1; }

vars=$("$here/deps.sh" "${deps_args[@]}") || exit 1
eval "$vars"
mkdir -p "$builddir"
builddir=$(cd "$builddir" && pwd)

# configure --enable-portable takes every library from the prefix, with the
# libraries they need in turn (pkg-config --static), and only headers of
# libsystemd. -O2 and the link hardening Debian builds with; sections per
# function, so that --gc-sections drops what atrest never calls.
"$here/in-root.sh" "$ROOT" "$srcdir:/src" "$builddir:/build" "$DEPS:/opt/atrest-deps" -- \
	bash -euc '
	host=$1
	cd /build
	build=$(dpkg-architecture -qDEB_BUILD_GNU_TYPE)
	cross=; [ "$host" = "$build" ] || cross=$host-
	if [ ! -f Makefile ]; then
		/src/configure -q --host="$host" --build="$build" --enable-portable --enable-werror \
			PKG_CONFIG_LIBDIR=/opt/atrest-deps/lib/pkgconfig PKG_CONFIG_PATH= \
			CFLAGS="-O2 -g -ffunction-sections -fdata-sections" \
			LDFLAGS="-Wl,--gc-sections -Wl,--as-needed -Wl,-z,relro -Wl,-z,now"
	fi
	make -s -j2 atrest
	${cross}objcopy --strip-all atrest atrest-portable
	' build "$HOST"
cp "$builddir/atrest-portable" "$out.tmp"
mv "$out.tmp" "$out"
echo "portable: $out ($(stat -c %s "$out") bytes, stripped)" >&2
