#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make portable`: builds atrest and the daemon's two programs in the Debian
# 11 root against the static libraries of deps.sh (configure
# --enable-portable), strips them and writes OUT, with the helpers beside it
# under the names atrest looks for (OUT's name with its leading "atrest"
# replaced: atrest-portable gives atrest-evaluator-portable and
# atrest-server-portable).
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
# atrest finds atrest-ROLE+S beside itself, S being what follows "atrest"
# in its own name; OUT's name must start with it for that to hold.
outdir=$(dirname "$out") outname=$(basename "$out")
case $outname in
atrest*) suffix=${outname#atrest} ;;
*) echo "$0: --out $out: the name must start with \"atrest\" (the helpers are named after it)" >&2; exit 3 ;;
esac

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
	make -s -j2 atrest atrest-evaluator atrest-server
	for p in atrest atrest-evaluator atrest-server; do
		${cross}objcopy --strip-all "$p" "$p-portable"
	done
	' build "$HOST"
# The helpers first, atrest last: OUT is complete only with them beside it.
for p in atrest-evaluator atrest-server atrest; do
	dst=$outdir/$p$suffix
	cp "$builddir/$p-portable" "$dst.tmp"
	mv "$dst.tmp" "$dst"
	echo "portable: $dst ($(stat -c %s "$dst") bytes, stripped)" >&2
done
