#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian package with dpkg-buildpackage and lints it with lintian
# (no error or warning allowed). Slow (a full build): runs only with
# ATREST_TEST_DEB=1. Needs dpkg-dev, debhelper, lintian and the -dev packages.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}

if [ "${ATREST_TEST_DEB:-0}" != 1 ]; then
	echo "1..0 # SKIP slow package build; set ATREST_TEST_DEB=1 to run it"
	exit 0
fi
for t in dpkg-buildpackage dh lintian; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "1..0 # SKIP $t not installed (apt-get install dpkg-dev debhelper lintian)"; exit 0; }
done

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; fi; }

"$srcdir/packaging/build-deb.sh" "$tmp/out" >"$tmp/build.log" 2>&1
rc=$?
tail -n 5 "$tmp/build.log" | sed 's/^/# /'
check "dpkg-buildpackage -us -uc -b succeeds" [ "$rc" -eq 0 ]
deb=$(ls "$tmp"/out/atrest_*_*.deb 2>/dev/null | head -n 1)
changes=$(ls "$tmp"/out/atrest_*_*.changes 2>/dev/null | head -n 1)
if [ -z "$deb" ] || [ -z "$changes" ]; then
	sed 's/^/# /' "$tmp/build.log" | tail -n 40
	not_ok "package files were produced"
	echo "1..$n"
	exit 1
fi

lintian --fail-on error,warning --display-info "$changes" >"$tmp/lintian.out" 2>&1
rc=$?
sed 's/^/# lintian: /' "$tmp/lintian.out"
check "lintian: no error or warning" [ "$rc" -eq 0 ]
check "lintian reports no E: or W: tag" sh -c '! grep -Eq "^[EW]: " "$1"' sh "$tmp/lintian.out"

dpkg-deb -c "$deb" | awk '{ print $NF }' >"$tmp/files"
for f in ./usr/bin/atrest ./lib/systemd/system/atrest.service \
	./usr/lib/systemd/catalog/atrest.catalog ./usr/lib/tmpfiles.d/atrest.conf \
	./usr/share/man/man8/atrest.8.gz ./usr/share/man/man5/atrest.conf.5.gz \
	./etc/atrest/atrest.conf ./usr/share/doc/atrest/examples/dropins/arm.conf; do
	check "package ships $f" grep -qx "$f" "$tmp/files"
done
# dh_compress leaves documents under 4 KiB uncompressed.
check "package ships README" grep -Eqx '\./usr/share/doc/atrest/README(\.gz)?' "$tmp/files"
dpkg-deb -e "$deb" "$tmp/ctl"
check "atrest.conf is a conffile" grep -qx /etc/atrest/atrest.conf "$tmp/ctl/conffiles"
check "postinst refreshes the journal catalog" grep -q 'journalctl --update-catalog' "$tmp/ctl/postinst"
# --no-enable: dh only re-enables a unit the admin had enabled; --no-start: no start.
check "the unit is not enabled by default" grep -q "deb-systemd-helper debian-installed 'atrest.service'" "$tmp/ctl/postinst"
check "the unit is not started on install" sh -c '! grep -q deb-systemd-invoke "$1"' sh "$tmp/ctl/postinst"

echo "1..$n"
[ "$fails" -eq 0 ]
