#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The multi-architecture image: one image per architecture, each assembled
# by build-image.sh from extracted Debian packages of that architecture and
# its binary and the daemon's two programs beside it (nothing of it runs:
# FROM scratch, COPY), tagged NAME-ARCH, then an OCI image index NAME that
# lists them (podman manifest).
#
#   build-index.sh --tag NAME [--version V] [--oci DIR] ARCH=BINARY... CONTEXTDIR
#   e.g. build-index.sh --tag localhost/atrest:1.0 amd64=atrest-portable \
#            arm64=atrest-portable-aarch64-linux-gnu ctx
# (with atrest-evaluator-portable, atrest-server-portable and their
# -aarch64-linux-gnu twins beside them, as make portable writes them)
#
# --oci DIR also writes the index and its images as an OCI image layout
# (DIR/index.json names an application/vnd.oci.image.index.v1+json), the
# artefact to publish (skopeo copy --all oci:DIR:V docker://REGISTRY/...; or
# podman manifest push --all --format oci NAME docker://REGISTRY/...).
# Other build-image.sh options (--suite, --sources, --cache) are passed
# through. Prints the index as podman holds it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tag= version=unknown oci= pass=() pairs=()
while [ $# -gt 1 ]; do
	case $1 in
	--tag) tag=$2; shift 2 ;;
	--version) version=$2; shift 2 ;;
	--oci) oci=$2; shift 2 ;;
	--suite | --sources | --cache) pass+=("$1" "$2"); shift 2 ;;
	*=*) pairs+=("$1"); shift ;;
	*) echo "build-index.sh: unknown option $1" >&2; exit 3 ;;
	esac
done
[ $# -eq 1 ] && [ -n "$tag" ] && [ ${#pairs[@]} -gt 0 ] ||
	{ echo "usage: build-index.sh --tag NAME [--version V] ARCH=BINARY... CONTEXTDIR" >&2; exit 3; }
ctx=$1
podman=${PODMAN:-podman}

# A manifest list of that name, or an image, is replaced.
$podman manifest rm "$tag" >/dev/null 2>&1 || $podman rmi -f "$tag" >/dev/null 2>&1 || true
$podman manifest create "$tag" >/dev/null
for p in "${pairs[@]}"; do
	arch=${p%%=*} binary=${p#*=}
	triplet=$(dpkg-architecture -a "$arch" -qDEB_HOST_MULTIARCH 2>/dev/null) ||
		{ echo "build-index.sh: unknown architecture $arch" >&2; exit 1; }
	strip=strip
	command -v "$triplet-strip" >/dev/null && strip=$triplet-strip
	"$here/build-image.sh" --arch "$arch" --binary "$binary" --tag "$tag-$arch" \
		--version "$version" --strip "$strip" "${pass[@]}" "$ctx/$arch" >/dev/null
	$podman manifest add --arch "$arch" --os linux "$tag" "containers-storage:$tag-$arch" >/dev/null
done
if [ -n "$oci" ]; then
	rm -rf "$oci"
	$podman manifest push --quiet --all --format oci "$tag" "oci:$oci:$version" >&2
fi
$podman manifest inspect "$tag"
