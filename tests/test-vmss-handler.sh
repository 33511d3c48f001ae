#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The VMSS extension handler on a simulated waagent directory: WALinuxAgent's
# own code writes HandlerEnvironment.json and the settings and reads the
# status back; systemctl is a fake that records its calls.
set -u
: "${ATREST:=./atrest}"
: "${top_srcdir:=.}"
WAPY=/usr/bin/python3
HELPER="$top_srcdir/tests/test-vmss-waagent.py"

# WALinuxAgent's modules from its Debian package, unpacked, never installed.
werr=$(mktemp)
WAMODS=$(sh "$top_srcdir/tests/waagent-prepare.sh" 2>"$werr")
rc=$? why=$(tail -n1 "$werr")
rm -f "$werr"
if [ $rc -ne 0 ]; then
	echo "1..0 # SKIP WALinuxAgent's modules unavailable: $why"
	exit 0
fi
if ! err=$(PYTHONPATH=$WAMODS $WAPY -c 'import azurelinuxagent.ga.exthandlers' 2>&1); then
	echo "1..0 # SKIP WALinuxAgent does not import (python3-distro?): $(echo "$err" | tail -n1)"
	exit 0
fi
if ! command -v openssl >/dev/null; then
	echo "1..0 # SKIP openssl is not installed"
	exit 0
fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ROOT=$T/root
LIB=$ROOT/var/lib/waagent
NAME=Atrest.Test
EXT=$LIB/$NAME-1.0.0
LOGDIR=$ROOT/var/log/azure
SECRET=PLANTED-SECRET-7f3a9c
mkdir -p "$EXT/config" "$EXT/status" "$EXT/bin" "$EXT/systemd" "$T/sysroot"
cp "$ATREST" "$EXT/bin/atrest"
# The daemon's programs, as the package has them: those beside $ATREST, or
# the build's when $ATREST is a wrapper in tests/ (valgrind, emulator).
for p in atrest-evaluator atrest-server; do
	for d in "$(dirname "$ATREST")" "${top_builddir:-.}"; do
		[ -f "$d/$p" ] && { cp "$d/$p" "$EXT/bin/$p"; break; }
	done
	[ -f "$EXT/bin/$p" ] || echo "# no $p beside $ATREST nor in ${top_builddir:-.}: the package lacks it"
done
cp "$top_srcdir/packaging/systemd/atrest.service" "$top_srcdir/packaging/systemd/atrest.catalog" "$EXT/systemd/"

cat >"$T/systemctl" <<EOF
#!/bin/sh
echo "\$*" >>"$T/systemctl.log"
exit \$(cat "$T/systemctl.rc" 2>/dev/null || echo 0)
EOF
chmod +x "$T/systemctl"

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

wa() { PYTHONPATH=$WAMODS $WAPY "$HELPER" "$LIB" "$LOGDIR" "$NAME" 1.0.0 "$@"; }
handler() {
	(cd "$EXT" && env ATREST_VMSS_ROOT="$ROOT" ATREST_SYSTEMCTL="$T/systemctl" \
		${ATREST_VALGRIND:-} "$EXT/bin/atrest" vmss-extension "$@" --sysroot "$T/sysroot") \
		>>"$T/out" 2>&1
}
status_of() { wa collect "$1" >"$T/collected.json" 2>>"$T/out"; }
jq_() { $WAPY -c "import json,sys; d=json.load(open('$T/collected.json')); print($1)"; }
calls() { cat "$T/systemctl.log" 2>/dev/null; }

# A VM certificate as waagent keeps it, and a protected setting encrypted to it.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=vmss-test -days 2 \
	-keyout "$T/key.pem" -out "$T/crt.pem" 2>/dev/null
THUMB=$(openssl x509 -in "$T/crt.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
cp "$T/crt.pem" "$LIB/$THUMB.crt"
cp "$T/key.pem" "$LIB/$THUMB.prv"
PROT=$(printf '{"storage_key":"%s"}' "$SECRET" |
	openssl smime -encrypt -binary -outform DER -aes256 "$T/crt.pem" | base64 -w0)

IMDS='"imds":{"url":"http://127.0.0.1:9","timeout":1},"arm":{"mode":"off"}'
PUB0='{'$IMDS',"policy":{"required_paths":["/data","/var/lib/kubelet"],"min_key_bits":512},"severity":{"swap.encrypted":"critical"},"daemon":{"interval":120}}'

wa env
check "waagent wrote HandlerEnvironment.json" '[ -s "$EXT/HandlerEnvironment.json" ]'
# An administrator's own configuration, to be kept aside and restored.
mkdir -p "$ROOT/etc/atrest"
printf '[daemon]\ninterval = 300\n' >"$ROOT/etc/atrest/atrest.conf"

# install
handler install
check "install succeeds" '[ $? -eq 0 ]'
check "install put the binary in place" '[ -x "$ROOT/usr/local/sbin/atrest" ]'
check "install put the daemon's programs where atrest looks for them" \
	'[ -x "$ROOT/usr/local/libexec/atrest/atrest-evaluator" ] && [ -x "$ROOT/usr/local/libexec/atrest/atrest-server" ]'
check "install put the unit and the drop-in in place" \
	'[ -f "$ROOT/etc/systemd/system/atrest.service" ] && grep -q "^ExecStart=/usr/local/sbin/atrest daemon" "$ROOT/etc/systemd/system/atrest.service.d/vmss-extension.conf"'
check "install reloaded systemd" 'calls | grep -qx daemon-reload'

# enable, sequence 0, with public and protected settings
wa settings 0 "$PUB0" "$PROT" "$THUMB"
: >"$T/systemctl.log"
start=$(date +%s)
handler enable
rc=$?
took=$(($(date +%s) - start))
check "enable succeeds" '[ $rc -eq 0 ]'
check "enable returns quickly (${took}s)" '[ $took -le 15 ]'
check "enable wrote the policy" \
	'grep -qx "required_paths = /data /var/lib/kubelet" "$ROOT/etc/atrest/atrest.conf" && grep -qx "swap.encrypted = critical" "$ROOT/etc/atrest/atrest.conf"'
check "the new file loads with atrest's own parser" \
	'"$ATREST" version --config "$ROOT/etc/atrest/atrest.conf" >/dev/null'
check "the administrator's file was kept aside" \
	'grep -q "interval = 300" "$ROOT/etc/atrest/atrest.conf.pre-vmss-extension"'
check "enable enabled and (re)started the unit without blocking" \
	'[ "$(calls)" = "$(printf "enable atrest.service\n--no-block reload-or-restart atrest.service")" ]'
check "mrseq records sequence 0" '[ "$(cat "$EXT/mrseq")" = 0 ]'
check "status 0.status written" '[ -s "$EXT/status/0.status" ]'
status_of 0
check "waagent parses 0.status: success, operation Enable" \
	'[ "$(jq_ "d[\"status\"], d[\"operation\"], d[\"code\"]")" = "success Enable 0" ]'
check "waagent sees the compliance substatus with a verdict" \
	'[ "$(jq_ "d[\"substatus\"][0][\"name\"], json.loads(d[\"substatus\"][0][\"message\"])[\"verdict\"]")" = "compliance indeterminate" ]'
check "the compliance substatus lists unknown checks" \
	'[ "$(jq_ "len(json.loads(d[\"substatus\"][0][\"message\"])[\"checks\"]) > 0")" = True ]'
check "the protected settings were decrypted and ignored" \
	'jq_ "d[\"substatus\"][1][\"message\"]" | grep -q "decrypted (a JSON object) and ignored"'
echo "# waagent collect_ext_status(0.status): $(cut -c1-400 "$T/collected.json")"

# protected settings made by `openssl cms`, and ones for another certificate
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=other -days 2 \
	-keyout "$T/key2.pem" -out "$T/crt2.pem" 2>/dev/null
for c in "cms $T/crt.pem decrypted" "other $T/crt2.pem could.not.be.decrypted"; do
	set -- $c
	kind=$1 want=$3
	sleep 0.05
	P=$(printf '{"k":"%s"}' "$SECRET" | openssl cms -encrypt -binary -outform DER -aes256 "$2" | base64 -w0)
	wa settings 10 "$PUB0" "$P" "$THUMB"
	handler enable
	rc=$?
	status_of 10
	check "protected settings ($kind): enable succeeds, note says $want" \
		'[ $rc -eq 0 ] && jq_ "d[\"substatus\"][1][\"message\"]" | grep -q "$want"'
	rm -f "$EXT/config/10.settings" "$EXT/status/10.status" "$EXT/mrseq"
done
sleep 0.05
touch "$EXT/config/0.settings"
handler enable
check "sequence 0 re-applied after the protected-settings cases" '[ "$(cat "$EXT/mrseq")" = 0 ]'

# enable again: no-op by mrseq
: >"$T/systemctl.log"
before=$(cat "$EXT/status/0.status")
handler enable
check "enable again succeeds" '[ $? -eq 0 ]'
check "enable again is a no-op (no systemctl, status untouched)" \
	'[ ! -s "$T/systemctl.log" ] && [ "$before" = "$(cat "$EXT/status/0.status")" ]'

# a new sequence with a new policy
PUB1='{'$IMDS',"policy":{"required_paths":"/srv"}}'
sleep 0.05
wa settings 1 "$PUB1"
: >"$T/systemctl.log"
handler enable
check "sequence 1 applied" '[ $? -eq 0 ] && [ "$(cat "$EXT/mrseq")" = 1 ] && [ -s "$EXT/status/1.status" ]'
check "sequence 1 rewrote the policy" 'grep -qx "required_paths = /srv" "$ROOT/etc/atrest/atrest.conf"'
check "changed configuration restarts the unit" 'calls | grep -qx -- "--no-block reload-or-restart atrest.service"'

# same settings again under sequence 2: start only
sleep 0.05
wa settings 2 "$PUB1"
: >"$T/systemctl.log"
handler enable
check "unchanged configuration only starts the unit" \
	'calls | grep -qx -- "--no-block start atrest.service" && ! calls | grep -q restart'

# ConfigSequenceNumber wins over the newest file
: >"$T/systemctl.log"
(cd "$EXT" && env ConfigSequenceNumber=1 ATREST_VMSS_ROOT="$ROOT" ATREST_SYSTEMCTL="$T/systemctl" \
	"$EXT/bin/atrest" vmss-extension enable --sysroot "$T/sysroot") >>"$T/out" 2>&1
check "ConfigSequenceNumber selects the sequence" '[ "$(cat "$EXT/mrseq")" = 1 ]'

# bad settings: error status with a clear message, old config kept
cp "$ROOT/etc/atrest/atrest.conf" "$T/conf.before"
sleep 0.05
wa settings 3 '{"policy":{"min_key_bits":"lots"}}'
handler enable
check "bad settings fail the enable" '[ $? -ne 0 ]'
status_of 3
check "waagent sees an error naming the bad key" \
	'[ "$(jq_ "d[\"status\"]")" = error ] && jq_ "d[\"message\"]" | grep -q "min_key_bits.*lots"'
check "the old configuration is kept" 'cmp -s "$T/conf.before" "$ROOT/etc/atrest/atrest.conf"'
check "mrseq is not advanced" '[ "$(cat "$EXT/mrseq")" = 1 ]'
sleep 0.05
wa settings 4 '{"polcy":{"required_paths":["/data"]}}'
handler enable
status_of 4
check "an unknown section is an error naming it" \
	'[ "$(jq_ "d[\"status\"]")" = error ] && jq_ "d[\"message\"]" | grep -q "unknown section .polcy."'
sleep 0.05
wa settings 5 '{"policy":{"required_paths":["/data # x"]}}'
handler enable
status_of 5
check "a value that would not survive INI is an error" '[ "$(jq_ "d[\"status\"]")" = error ]'
printf '{"runtimeSettings":[{"handlerSettings":' >"$EXT/config/6.settings"
handler enable
status_of 6
check "a truncated settings file is an error" \
	'[ "$(jq_ "d[\"status\"]")" = error ] && jq_ "d[\"message\"]" | grep -q "not valid JSON"'

# HandlerEnvironment.json appearing late, first cut short
sleep 0.05
wa settings 7 "$PUB1"
mv "$EXT/HandlerEnvironment.json" "$T/he.json"
( sleep 0.5; head -c 40 "$T/he.json" >"$EXT/HandlerEnvironment.json"; sleep 0.6
  cp "$T/he.json" "$EXT/HandlerEnvironment.json" ) &
handler enable
rc=$?
wait
check "enable waits for HandlerEnvironment.json being written" '[ $rc -eq 0 ] && [ "$(cat "$EXT/mrseq")" = 7 ]'
mv "$EXT/HandlerEnvironment.json" "$T/he.json"
(cd "$EXT" && env ATREST_VMSS_ENV_TIMEOUT=0.4 ATREST_VMSS_ROOT="$ROOT" ATREST_SYSTEMCTL="$T/systemctl" \
	"$EXT/bin/atrest" vmss-extension enable) >>"$T/out" 2>&1
check "enable without HandlerEnvironment.json fails after the wait" '[ $? -ne 0 ]'
mv "$T/he.json" "$EXT/HandlerEnvironment.json"

# systemctl failing is an error status
sleep 0.05
wa settings 8 '{'$IMDS',"daemon":{"interval":90}}'
echo 1 >"$T/systemctl.rc"
handler enable
rc=$?
rm -f "$T/systemctl.rc"
status_of 8
check "systemctl failure is an error status" \
	'[ $rc -ne 0 ] && [ "$(jq_ "d[\"status\"]")" = error ] && jq_ "d[\"message\"]" | grep -q systemctl'
handler enable
check "the retry after systemctl recovers succeeds" '[ $? -eq 0 ] && [ "$(cat "$EXT/mrseq")" = 8 ]'

# disable
: >"$T/systemctl.log"
handler disable
check "disable stops and disables the unit" '[ $? -eq 0 ] && calls | grep -qx "disable --now atrest.service"'
check "disable forgets mrseq" '[ ! -e "$EXT/mrseq" ]'
status_of 8
check "waagent parses the Disable status" '[ "$(jq_ "d[\"status\"], d[\"operation\"]")" = "success Disable" ]'
: >"$T/systemctl.log"
handler enable
check "enable after disable re-applies" '[ $? -eq 0 ] && calls | grep -q "start atrest.service"'

# update: the old version's uninstall keeps everything; install clears the mark
handler update
check "update succeeds" '[ $? -eq 0 ]'
handler uninstall
check "uninstall during an update keeps the configuration and the binary" \
	'[ -f "$ROOT/etc/atrest/atrest.conf" ] && [ -x "$ROOT/usr/local/sbin/atrest" ]'
handler install
check "install after update clears the update mark" \
	'[ ! -e "$ROOT/var/lib/atrest/vmss-extension/update-pending" ]'

# uninstall
: >"$T/systemctl.log"
handler uninstall
check "uninstall succeeds and disables the unit" '[ $? -eq 0 ] && calls | grep -qx "disable --now atrest.service"'
check "uninstall restores the administrator's configuration" \
	'grep -q "interval = 300" "$ROOT/etc/atrest/atrest.conf" && [ ! -e "$ROOT/etc/atrest/atrest.conf.pre-vmss-extension" ]'
check "uninstall removes what install put in place" \
	'[ ! -e "$ROOT/usr/local/sbin/atrest" ] && [ ! -e "$ROOT/etc/systemd/system/atrest.service" ] && [ ! -e "$ROOT/usr/local/libexec/atrest" ]'

# the whole run: sizes, secrets, logs
big=0
for f in "$EXT"/status/*.status; do [ "$(wc -c <"$f")" -lt 131072 ] || big=1; done
check "every status file is under 128 KiB" '[ $big -eq 0 ]'
check "the handler log was written to logFolder" '[ -s "$LOGDIR/$NAME/atrest-extension.log" ]'
check "the protected secret appears in no status, log, config or output" \
	'! grep -rqF "$SECRET" "$EXT/status" "$LOGDIR" "$ROOT/etc" "$T/out"'
check "no temporary files are left behind" \
	'[ -z "$(find "$EXT/status" "$ROOT/etc/atrest" -name ".*" -type f)" ]'
check "a bad action is a usage error" \
	'"$ATREST" vmss-extension frobnicate >/dev/null 2>&1; [ $? -eq 3 ]'

echo "1..$n"
