#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The VMSS extension package (`make vmss-zip`) through its whole life under
# WALinuxAgent's own code (tests/test-vmss-lifecycle.py): install, enable,
# a settings change, an update to the next version, disable, uninstall. The
# handler writes under a temporary root; systemctl is a stand-in that
# records what it was asked; IMDS is the loopback stand-in.
set -u
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
WAPY=/usr/bin/python3
ZIP=${ATREST_VMSS_ZIP:-}

# WALinuxAgent execs the handler named in HandlerManifest.json itself, so
# a package built for another architecture cannot run here: the cross
# build's handler logic is covered by tests/test-vmss-handler.sh under the
# emulator, and the native build's package by this test.
if [ -n "${ATREST_TEST_EMULATOR:-}" ]; then
	echo "1..0 # SKIP the package holds a binary for another architecture and waagent execs it natively"
	exit 0
fi
if [ -z "$ZIP" ] || ! [ -s "$ZIP" ]; then
	echo "1..0 # SKIP no extension package (ATREST_VMSS_ZIP; make vmss-zip builds it)"
	exit 0
fi
werr=$(mktemp)
WAMODS=$(sh "$top_srcdir/tests/waagent-prepare.sh" 2>"$werr")
rc=$? why=$(tail -n1 "$werr")
rm -f "$werr"
if [ $rc -ne 0 ]; then
	echo "1..0 # SKIP WALinuxAgent's modules unavailable: $why"
	exit 0
fi

T=$(mktemp -d)
cleanup() { [ -n "${SP:-}" ] && kill "$SP" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cat >"$T/systemctl" <<EOF
#!/bin/sh
echo "\$*" >>"$T/work/systemctl.log"
EOF
chmod +x "$T/systemctl"
mkdir -p "$T/work" "$T/root"

"$WAPY" "$top_srcdir/tests/imds-server.py" --port-file "$T/port" >/dev/null 2>&1 & SP=$!
i=0; until [ -s "$T/port" ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
IMDS=http://127.0.0.1:$(cat "$T/port")/doc/gen2-luks-data

ATREST_VMSS_ROOT=$T/root ATREST_SYSTEMCTL=$T/systemctl PYTHONPATH=$WAMODS \
	"$WAPY" "$top_srcdir/tests/test-vmss-lifecycle.py" "$ZIP" "$T/work" "$IMDS"
