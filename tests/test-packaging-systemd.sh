#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Checks the systemd units, their drop-ins and the journal catalog with
# systemd's own tools: verify, the offline security score (atrest.service
# <= 2.5, atrest-server.service <= 1.5) and catalog import.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
sd=$srcdir/packaging/systemd

command -v systemd-analyze >/dev/null 2>&1 ||
	{ echo "1..0 # SKIP systemd-analyze not installed (apt-get install systemd)"; exit 0; }
command -v journalctl >/dev/null 2>&1 ||
	{ echo "1..0 # SKIP journalctl not installed (apt-get install systemd)"; exit 0; }
systemd-analyze security --help 2>&1 | grep -q -- '--offline' ||
	{ echo "1..0 # SKIP systemd-analyze lacks security --offline (needs systemd >= 250)"; exit 0; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; fi; }

# A throw-away root: the unit, a stand-in binary, the units it depends on,
# /bin/sh for ExecReload and the man pages its Documentation= names.
root=$tmp/root
mkdir -p "$root/usr/bin" "$root/bin" "$root/usr/lib/systemd" \
	"$root/etc/systemd/system/atrest.service.d" "$root/man/man8" "$root/man/man5"
printf '#!/bin/sh\nexit 0\n' >"$root/usr/bin/atrest"
chmod 755 "$root/usr/bin/atrest"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/" 2>/dev/null ||
	cp -a /lib/systemd/system "$root/usr/lib/systemd/"
cp -L /bin/sh "$root/bin/sh"
cp "$srcdir/packaging/man/atrest.8" "$root/man/man8/"
cp "$srcdir/packaging/man/atrest.conf.5" "$root/man/man5/"
cp "$sd/atrest.service" "$sd/atrest-server.service" "$root/etc/systemd/system/"

# verify prints parse problems but still exits 0: any output is a failure.
verify() {
	MANPATH=$root/man systemd-analyze verify --root="$root" "$1" >"$tmp/verify.out" 2>&1 &&
		! [ -s "$tmp/verify.out" ]
}
show_verify() { sed 's/^/# /' "$tmp/verify.out"; }

if verify atrest.service; then ok "systemd-analyze verify atrest.service is clean"
else show_verify; not_ok "systemd-analyze verify atrest.service is clean"; fi

# The harness must be able to fail: a misspelt value is reported.
sed 's/^ProtectHome=read-only/ProtectHome=readonly/' "$sd/atrest.service" \
	>"$root/etc/systemd/system/broken.service"
if verify broken.service; then not_ok "verify reports a misspelt setting in a broken copy"
elif grep -q 'readonly' "$tmp/verify.out"; then ok "verify reports a misspelt setting in a broken copy"
else show_verify; not_ok "verify reports a misspelt setting in a broken copy"; fi
rm -f "$root/etc/systemd/system/broken.service"

if verify atrest-server.service; then ok "systemd-analyze verify atrest-server.service is clean"
else show_verify; not_ok "systemd-analyze verify atrest-server.service is clean"; fi

score() {
	u=${1:-atrest.service}
	systemd-analyze security --offline=yes --root="$root" "$u" 2>/dev/null |
		sed -n "s/.*Overall exposure level for $u: \([0-9.]*\).*/\1/p"
}
at_most() { [ -n "$2" ] && awk -v s="$2" -v m="$1" 'BEGIN { exit !(s <= m) }'; }
at_most_3() { at_most 2.5 "$1"; }

s=$(score)
echo "# systemd-analyze security --offline=yes atrest.service: exposure ${s:-?}"
check "exposure score ${s:-?} <= 2.5" at_most_3 "$s"
s=$(score atrest-server.service)
echo "# systemd-analyze security --offline=yes atrest-server.service: exposure ${s:-?}"
check "server unit exposure score ${s:-?} <= 1.5" at_most 1.5 "$s"
check "server unit: DynamicUser, no capability, no device" sh -c \
	'grep -q "^DynamicUser=yes" "$1" && grep -q "^CapabilityBoundingSet=$" "$1" && grep -q "^PrivateDevices=yes" "$1"' \
	sh "$sd/atrest-server.service"

# Each example drop-in must verify and keep the score within target.
for f in "$sd"/dropins/*.conf; do
	name=$(basename "$f")
	cp "$f" "$root/etc/systemd/system/atrest.service.d/$name"
	if verify atrest.service; then ok "verify with drop-in $name"
	else show_verify; not_ok "verify with drop-in $name"; fi
	s=$(score)
	echo "# exposure with $name: ${s:-?}"
	# Opt-in drop-ins widen the unit a little (AF_ALG, ARM): at most 3.0.
	check "exposure with $name ${s:-?} <= 3.0" at_most 3.0 "$s"
	rm -f "$root/etc/systemd/system/atrest.service.d/$name"
done

# Hardening settings that must not silently disappear.
for kv in Type=notify WatchdogSec= ProtectSystem=strict DevicePolicy=closed \
	IPAddressDeny=any NoNewPrivileges=yes SystemCallFilter=@system-service; do
	check "unit sets $kv" grep -q "^$kv" "$sd/atrest.service"
done
check "unit does not use PrivateDevices (it would hide the disks)" \
	sh -c '! grep -q "^PrivateDevices" "$1"' sh "$sd/atrest.service"
check "AF_ALG only in the kernel-bench drop-in" \
	sh -c '! grep -q "^RestrictAddressFamilies=.*AF_ALG" "$1" && grep -q "^RestrictAddressFamilies=AF_ALG" "$2"' \
	sh "$sd/atrest.service" "$sd/dropins/kernel-bench.conf"

# Journal catalog: journalctl imports it and lists every MESSAGE_ID the
# daemon sends (agent/report/journal.h is the one source of the ids).
croot=$tmp/catroot
mkdir -p "$croot/usr/lib/systemd/catalog" "$croot/var/lib/systemd/catalog"
cp "$sd/atrest.catalog" "$croot/usr/lib/systemd/catalog/"
check "journalctl --update-catalog imports atrest.catalog" \
	journalctl --root="$croot" --update-catalog
journalctl --root="$croot" --list-catalog >"$tmp/catalog.list" 2>&1
ids=$(sed -n 's/^#define ATREST_MESSAGE_[A-Z_]* *"\([0-9a-f]\{32\}\)"$/\1/p' "$srcdir/agent/report/journal.h")
nids=0
for id in $ids; do
	nids=$((nids + 1))
	check "catalog lists $id" grep -q "^$id atrest: " "$tmp/catalog.list"
done
check "agent/report/journal.h defines 8 distinct 128-bit ids" sh -c \
	'[ "$(printf "%s\n" $1 | sort -u | wc -l)" -eq 8 ]' sh "$ids"
check "catalog has exactly the daemon's ids" \
	[ "$(grep -c '^-- [0-9a-f]\{32\}$' "$sd/atrest.catalog")" -eq "$nids" ]

# tmpfiles snippet parses.
if command -v systemd-tmpfiles >/dev/null 2>&1; then
	mkdir -p "$tmp/tmpfroot"
	check "systemd-tmpfiles accepts tmpfiles.d/atrest.conf" \
		sh -c 'systemd-tmpfiles --root="$1" --create "$2" 2>"$1.err" && ! [ -s "$1.err" ] && [ -d "$1/etc/atrest" ]' \
		sh "$tmp/tmpfroot" "$sd/tmpfiles.d/atrest.conf"
fi

echo "1..$n"
[ "$fails" -eq 0 ]
