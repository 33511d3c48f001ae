#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds the atrest image: build-root.sh assembles rootfs-ARCH in a build
# context, then podman builds Containerfile (FROM scratch, COPY) from it.
# `make image` runs this with the build's binary (the daemon's
# atrest-evaluator and atrest-server are taken from beside it, see
# build-root.sh).
#
#   build-image.sh [--arch ARCH] [--binary FILE] [--tag NAME] [--version V] CONTEXTDIR
#
# Other build-root.sh options (--suite, --sources, --strip, --cache) are
# passed through. Prints the image id on stdout. PODMAN (default podman)
# may name another client; CONTAINERS_CONF is honoured as podman does.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
arch=amd64 binary=./atrest tag= version=unknown
pass=()
while [ $# -gt 1 ]; do
	case $1 in
	--arch) arch=$2 ;;
	--binary) binary=$2 ;;
	--tag) tag=$2 ;;
	--version) version=$2 ;;
	--suite | --sources | --strip | --cache) pass+=("$1" "$2") ;;
	*) echo "build-image.sh: unknown option $1" >&2; exit 3 ;;
	esac
	shift 2
done
[ $# -eq 1 ] || { echo "usage: build-image.sh [options] CONTEXTDIR" >&2; exit 3; }
ctx=$1
[ -n "$tag" ] || tag=localhost/atrest:$version
mkdir -p "$ctx"
"$here/build-root.sh" --arch "$arch" --binary "$binary" "${pass[@]}" "$ctx"
cp "$here/Containerfile" "$ctx/Containerfile"
${PODMAN:-podman} build --quiet --platform "linux/$arch" --layers=false --build-arg "VERSION=$version" \
	--tag "$tag" --file "$ctx/Containerfile" "$ctx"
