#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian package from this source tree: copies the tree to a
# scratch directory, puts packaging/debian at ./debian there, and runs
# dpkg-buildpackage -us -uc -b. The .deb and .changes land in OUTDIR.
# Usage: packaging/build-deb.sh [OUTDIR]     (default: ./_deb)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/_deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
upstream=${version%-*}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/atrest-$upstream
mkdir "$tree"
# The tree as a developer has it, minus build products and local installs.
tar -C "$src" \
	--exclude=./.git --exclude='./_build*' --exclude=./_deb --exclude=./build \
	--exclude=node_modules --exclude=./autom4te.cache --exclude='*.o' --exclude='*.a' \
	-cf - . | tar -C "$tree" -xf -
rm -rf "$tree/debian"
cp -a "$src/packaging/debian" "$tree/debian"

(cd "$tree" && dpkg-buildpackage -us -uc -b)
cp "$work"/atrest_"$version"_*.deb "$work"/atrest_"$version"_*.changes \
	"$work"/atrest_"$version"_*.buildinfo "$out"/
cp "$work"/atrest-dbgsym_"$version"_*.deb "$out"/ 2>/dev/null || true
echo "built: $(ls "$out"/atrest_"$version"_*.deb)"
