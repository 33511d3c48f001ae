#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian package with dpkg-buildpackage and lints it with lintian
# (no error or warning allowed), runs piuparts (install, purge, nothing left)
# and systemd-analyze verify on the installed unit in a root with systemd.
# Slow (a full build): runs only with ATREST_TEST_DEB=1. Needs dpkg-dev,
# debhelper, lintian and the -dev packages; root, piuparts and mmdebstrap
# for the chroot parts (their roots are cached, tests/deb-chroot.sh).
# In a cross build (make sets ATREST_DEB_ARCH from configure's --host) the
# package is cross-built for that architecture (packaging/cross/setup.sh);
# the chroot parts then do not run (the package cannot be installed here).
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
native=$(dpkg --print-architecture 2>/dev/null || echo unknown)
arch=${ATREST_DEB_ARCH:-$native}

if [ "${ATREST_TEST_DEB:-0}" != 1 ]; then
	echo "1..0 # SKIP slow package build; set ATREST_TEST_DEB=1 to run it"
	exit 0
fi
for t in dpkg-buildpackage dh lintian; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "1..0 # SKIP $t not installed (apt-get install dpkg-dev debhelper lintian)"; exit 0; }
done

tmp=$(mktemp -d) || exit 1
trap 'mountpoint -q "$tmp/sdroot/proc" && umount "$tmp/sdroot/proc"; rm -rf --one-file-system "$tmp"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; fi; }

"$srcdir/packaging/build-deb.sh" "$tmp/out" "$arch" >"$tmp/build.log" 2>&1
rc=$?
tail -n 5 "$tmp/build.log" | sed 's/^/# /'
check "dpkg-buildpackage -us -uc -b succeeds ($arch on $native)" [ "$rc" -eq 0 ]
deb=$(ls "$tmp"/out/atrest_*_"$arch".deb 2>/dev/null | head -n 1)
changes=$(ls "$tmp"/out/atrest_*_"$arch".changes 2>/dev/null | head -n 1)
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

# The package and the binary in it are for the architecture asked for.
check "package architecture is $arch" [ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ]
case $arch in
amd64) machine='Advanced Micro Devices X86-64' ;;
arm64) machine=AArch64 ;;
*) machine=unknown ;;
esac
for f in usr/bin/atrest usr/libexec/atrest/atrest-evaluator usr/libexec/atrest/atrest-server; do
	dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./$f" >"$tmp/prog.bin" 2>/dev/null
	readelf -h "$tmp/prog.bin" 2>/dev/null | sed -n 's/^ *Machine: *//p' >"$tmp/machine"
	check "$f is an ELF for $machine ($(cat "$tmp/machine"))" \
		grep -qxF "$machine" "$tmp/machine"
done

dpkg-deb -c "$deb" | awk '{ print $NF }' >"$tmp/files"
for f in ./usr/bin/atrest ./usr/libexec/atrest/atrest-evaluator \
	./usr/libexec/atrest/atrest-server ./lib/systemd/system/atrest.service \
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

# --- install and purge in a minimal chroot, the installed unit verified ---
# Both need root, mmdebstrap and the Debian archive; the roots are cached.
if [ "$arch" != "$native" ]; then
	n=$((n + 1)); echo "ok $n # SKIP piuparts and the chroot test install the package: $arch cannot be installed on $native"
	echo "1..$n"
	[ "$fails" -eq 0 ]
	exit
fi
if [ "$(id -u)" != 0 ] || ! command -v piuparts >/dev/null 2>&1; then
	n=$((n + 1)); echo "ok $n # SKIP piuparts and the chroot test need root and piuparts (apt-get install piuparts mmdebstrap)"
	echo "1..$n"
	[ "$fails" -eq 0 ]
	exit
fi
sources=/etc/apt/sources.list
[ -f /etc/apt/sources.list.d/debian.sources ] && sources=/etc/apt/sources.list.d/debian.sources
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' "$sources" | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' "$sources")

# piuparts: install, purge, and nothing left behind, from a minbase root.
t0=$(date +%s)
base=$(sh "$srcdir/tests/deb-chroot.sh" piuparts minbase "" tar.gz 2>"$tmp/base.err")
if [ -z "$base" ]; then
	sed 's/^/# /' "$tmp/base.err"
	not_ok "a minbase root for piuparts (mmdebstrap)"
else
	piuparts --basetgz="$base" -d bookworm -m "$mirror main" --no-upgrade-test \
		--tmpdir="$tmp" "$deb" >"$tmp/piuparts.log" 2>&1
	rc=$?
	grep -E 'INFO:|ERROR:|FAIL' "$tmp/piuparts.log" | tail -n 6 | sed 's/^/# piuparts: /'
	[ $rc -eq 0 ] || grep -B5 -A20 -m1 -E 'ERROR|FAIL' "$tmp/piuparts.log" | sed 's/^/# /'
	check "piuparts: installation and purging test passes ($(($(date +%s) - t0)) s)" \
		sh -c '[ $1 -eq 0 ] && grep -q "PASS: Installation and purging test" "$2"' sh $rc "$tmp/piuparts.log"
fi

# The installed unit in a root with systemd and man-db (for Documentation=),
# the package's dependencies already in it, nothing else: procps is absent.
t0=$(date +%s)
deps=$(dpkg-deb -f "$deb" Depends | sed 's/([^)]*)//g; s/ //g')
sd=$(sh "$srcdir/tests/deb-chroot.sh" systemd minbase "systemd,man-db,$deps" 2>"$tmp/sd.err")
if [ -z "$sd" ]; then
	sed 's/^/# /' "$tmp/sd.err"
	not_ok "a root with systemd for systemd-analyze (mmdebstrap)"
else
	root=$tmp/sdroot
	mkdir "$root" && tar -C "$root" -xf "$sd"
	cp "$deb" "$root/tmp/"
	mount -t proc proc "$root/proc"
	chroot "$root" dpkg -i "/tmp/$(basename "$deb")" >"$tmp/dpkg.out" 2>&1
	check "the package installs with dpkg -i in a root with its dependencies" [ $? -eq 0 ]
	chroot "$root" systemd-analyze verify atrest.service >"$tmp/verify.out" 2>&1
	rc=$?
	sed 's/^/# verify: /' "$tmp/verify.out"
	check "systemd-analyze verify of the installed atrest.service is clean" \
		sh -c '[ $1 -eq 0 ] && ! [ -s "$2" ]' sh $rc "$tmp/verify.out"
	check "procps is not installed there (so /bin/kill is absent)" [ ! -e "$root/bin/kill" ]
	# The harness can fail: the old ExecReload=/bin/kill is reported here.
	sed 's|^ExecReload=.*|ExecReload=/bin/kill -HUP $MAINPID|' "$root/lib/systemd/system/atrest.service" \
		>"$root/etc/systemd/system/old-reload.service"
	chroot "$root" systemd-analyze verify old-reload.service >"$tmp/verify-old.out" 2>&1
	check "verify reports an ExecReload that needs /bin/kill" grep -q '/bin/kill' "$tmp/verify-old.out"
	umount "$root/proc"
	echo "# chroot test: $(($(date +%s) - t0)) s"
fi

echo "1..$n"
[ "$fails" -eq 0 ]
