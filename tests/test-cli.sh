#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The command line as users and scripts meet it: exit codes, one-line
# errors, help, JSON that parses, colour only on a TTY and never with NO_COLOR.
set -u
ATREST=${ATREST:-./atrest}
PY=${PYTHON3:-python3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0 fails=0

ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
# run EXPECTED_EXIT DESCRIPTION ARGS...: runs atrest, checks the exit code.
run() {
	local want=$1 what=$2; shift 2
	$ATREST_VALGRIND_PREFIX "$ATREST" "$@" >"$T/out" 2>"$T/err"
	local got=$?
	[ "$got" = "$want" ]; ok $? "$what (exit $got, want $want)"
}
one_line_err() { [ "$(wc -l <"$T/err")" = 1 ] && grep -q -e "$1" "$T/err"; ok $? "  one-line error mentions '$1'"; }
ATREST_VALGRIND_PREFIX=${ATREST_VALGRIND:-}

mkdir -p "$T/empty"
OFF=(--sysroot "$T/empty" --imds-url http://127.0.0.1:1 --imds-timeout 0.5 --no-bench)

run 3 "no command" ; grep -q "Usage: atrest COMMAND" "$T/err"; ok $? "  usage on stderr"
run 3 "unknown command" frobnicate; one_line_err "unknown command 'frobnicate'"
run 3 "unknown option" check --frobnicate; one_line_err "unknown or incomplete option '--frobnicate'"
run 3 "option missing its value" check --format; one_line_err "option '--format'"
run 3 "bad --format" check --format xml; one_line_err "is not one of text, json, prom"
run 3 "--format prom only for check" devices --format prom; one_line_err "not available for this command"
run 3 "missing --config file" check --config "$T/nope.conf"; one_line_err "nope.conf: cannot read"
printf '[policy]\nmin_key_bits = 512\n[polcy]\nx = 1\n' >"$T/bad.conf"
run 3 "bad config file" check --config "$T/bad.conf" "${OFF[@]}"; one_line_err "bad.conf:3: unknown section \[polcy\]"
run 3 "bad --imds-url" check --imds-url ftp://x; one_line_err "not an http(s) URL"
run 3 "bad --listen" daemon --listen nowhere; one_line_err "invalid listen address"
run 3 "relative --require-path" check --require-path data; one_line_err "not an absolute path"
run 3 "bad --interval" daemon --interval 0; one_line_err "--interval"
run 3 "missing --sysroot" check --sysroot "$T/nope"; one_line_err "No such file"
run 3 "stray argument" check extra; one_line_err "unexpected argument 'extra'"

run 0 "help" help; grep -q "check" "$T/out"; ok $? "  lists check"
run 0 "--help" --help
for c in check daemon bench devices imds version; do
	run 0 "$c --help" "$c" --help; grep -q "Usage: atrest $c" "$T/out"; ok $? "  usage of $c"
done
run 0 "version" version; grep -q "^atrest " "$T/out"; ok $? "  prints the version"
run 0 "version --format json" version --format json
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "libcryptsetup" in d["libraries"]' "$T/out"; ok $? "  JSON lists the libraries"

# An evaluation with no evidence at all: indeterminate, never compliant.
start=$(date +%s.%N)
run 3 "check with no evidence is indeterminate" check "${OFF[@]}" --format json
end=$(date +%s.%N)
$PY - "$T/out" <<'PY'; ok $? "  JSON report: schema, verdict, every check present, nothing passes"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "atrest.report/v1", r["schema"]
assert r["verdict"] == "indeterminate", r["verdict"]
ids = {c["id"] for c in r["checks"]}
for want in ["host.encryption_at_host", "disk.customer_managed_key", "disk.temp_encrypted",
             "swap.encrypted", "ade.active", "imds.disks_match", "bench.aes_xts"]:
    assert want in ids, want
assert not [c for c in r["checks"] if c["status"] == "pass"], "a pass without evidence"
assert r["sources"]["imds"]["status"] in ("unreachable", "error")
for c in r["checks"]:
    assert c["summary"] and c["severity"] in ("critical", "warning", "info", "ignore")
PY
awk -v s="$start" -v e="$end" 'BEGIN { exit !(e - s < 3.0) }'; ok $? "  within the IMDS deadline ($(awk -v s="$start" -v e="$end" 'BEGIN{printf "%.2f", e-s}') s)"

run 3 "text check" check "${OFF[@]}"
head -1 "$T/out" | grep -q "^INDETERMINATE"; ok $? "  verdict first"
! grep -q $'\033' "$T/out"; ok $? "  no colour when not a TTY"
if command -v script >/dev/null; then
	script -qec "env -u NO_COLOR $ATREST check ${OFF[*]}" /dev/null >"$T/tty" 2>&1
	grep -q $'\033\[' "$T/tty"; ok $? "  colour on a TTY"
	script -qec "env NO_COLOR=1 $ATREST check ${OFF[*]}" /dev/null >"$T/tty" 2>&1
	! grep -q $'\033\[' "$T/tty"; ok $? "  no colour on a TTY with NO_COLOR"
fi
printf '[severity]\nhost.encryption_at_host = info\ndisk.temp_encrypted = info\nswap.encrypted = info\nade.active = info\nimds.disks_match = info\n' >"$T/info.conf"
run 0 "info severities never change the exit code" check "${OFF[@]}" --config "$T/info.conf"

echo "1..$n"
[ $fails = 0 ]
