#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The real `atrest daemon` in its split shape: the server process holds no
# capability and runs as another user when started as root; after a reload
# to an IMDS that hangs (tests/imds-server.py /fault/hang, with an IMDS
# timeout far past the deadline), each evaluation child is killed at the
# deadline (2 s), counted, and the previous report stays served until the
# evidence is older than [daemon] max_age, when every check turns unknown.
# Runs the roles alone too (--role=evaluator and --role=server sharing the
# runtime directory). Waits poll with generous limits (a loaded machine is
# slower, not wrong). A cross build runs the agent through its emulator
# (tests/atrest-emulated execs it, so the pids are the same), with a longer
# deadline for the translated code. Processes are told apart by their
# parent and no_new_privs, never by /proc/PID/exe (the emulator's there), and
# a pid that was not found is never signalled: `kill 0` would hit make.
set -u
if [ -n "${ATREST_TEST_EMULATOR:-}" ]; then
	ATREST="${top_builddir:-.}/tests/atrest-emulated"
	DL=6 MAXAGE=24 WAIT=90
else
	ATREST="${top_builddir:-.}/atrest"
	DL=2 MAXAGE=9 WAIT=40
fi
SRC="${top_srcdir:-.}"
PY=$(command -v /usr/bin/python3 || command -v python3) || { echo "1..0 # SKIP no python3"; exit 0; }
T=$(mktemp -d)
chmod 755 "$T"
cleanup() {
	for p in ${DP:-} ${EP:-} ${SP:-} ${IP:-} ${PP:-}; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
n=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
get() { "$PY" - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
        sys.stdout.write("HTTP %d\n" % r.status + r.read().decode())
except urllib.error.HTTPError as e:
    sys.stdout.write("HTTP %d\n" % e.code + e.read().decode())
except Exception as e:
    sys.stdout.write("ERROR %s\n" % e)
EOF
}
# wait_for URL PATTERN SECONDS: polls until the body matches (grep -E).
wait_for() {
	i=0
	while [ $i -lt $(($3 * 5)) ]; do
		get "$1" > "$T/body"
		grep -Eq "$2" "$T/body" && return 0
		sleep 0.2; i=$((i+1))
	done
	return 1
}
status_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null | tr '\t' ' '; }

"$PY" "$SRC/tests/imds-server.py" --port-file "$T/imds.port" >/dev/null 2>&1 & IP=$!
i=0; until [ -s "$T/imds.port" ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i+1)); done
IPORT=$(cat "$T/imds.port")
GOOD="http://127.0.0.1:$IPORT/doc/azure-rest-api-specs_imds_2023-07-01_GetInstanceMetadata"
HANG="http://127.0.0.1:$IPORT/fault/hang"
HPORT=$(free_port)
mkdir -p "$T/empty" "$T/run"
conf() {
	cat > "$T/atrest.conf" <<EOC
[imds]
url = $1
timeout = 300
[arm]
mode = off
[daemon]
listen = 127.0.0.1:$HPORT
interval = 5
deadline = $DL
max_age = $MAXAGE
runtime_dir = $T/run
EOC
}
conf "$GOOD"
"$ATREST" daemon --config "$T/atrest.conf" --sysroot "$T/empty" --no-bench 2> "$T/daemon.err" & DP=$!
wait_for "http://127.0.0.1:$HPORT/metrics" 'atrest_check_status\{check="host.encryption_at_host",subject="node",status="pass"\} 1' "$WAIT"
ok $? "the daemon serves a first report (encryption at host passes)"

# server_of PID: the child of PID with no_new_privs (the server; an
# evaluation child has not set it), or nothing.
server_of() {
	for s in /proc/[0-9]*/status; do
		p=${s#/proc/}; p=${p%/status}
		[ "$(status_field "$p" PPid)" = "$1" ] && [ "$(status_field "$p" NoNewPrivs)" = 1 ] && { echo "$p"; return; }
	done
}
SPID=$(server_of "$DP")
echo "# evaluator pid $DP: CapEff $(status_field "$DP" CapEff), Uid $(status_field "$DP" Uid)"
echo "# server pid ${SPID:-?}: CapEff $(status_field "${SPID:-0}" CapEff), CapBnd $(status_field "${SPID:-0}" CapBnd), NoNewPrivs $(status_field "${SPID:-0}" NoNewPrivs), Uid $(status_field "${SPID:-0}" Uid)"
[ -n "$SPID" ] && [ "$(status_field "$SPID" CapEff)" = 0000000000000000 ] && [ "$(status_field "$SPID" CapBnd)" = 0000000000000000 ] && [ "$(status_field "$SPID" NoNewPrivs)" = 1 ]
ok $? "the server process has no capability, an empty bounding set and no_new_privs"
if [ "$(id -u)" = 0 ]; then
	U=$(status_field "${SPID:-0}" Uid)
	[ -n "$U" ] && [ "${U%% *}" != 0 ]
	ok $? "started as root, the server runs as uid ${U%% *}"
else
	n=$((n+1)); echo "ok $n # SKIP not root"
fi
[ -n "$SPID" ] && ls -l "/proc/$SPID/fd" > "$T/server-fds" 2>/dev/null && ! grep -Eq '/dev/(sd|nvme|dm-|loop)' "$T/server-fds"
ok $? "the server holds no block device open"

# The second evaluation takes IMDS's answer from the cache: its age shows.
wait_for "http://127.0.0.1:$HPORT/metrics" '^atrest_evaluations_total [2-9]' "$WAIT"
grep -Eq '^atrest_source_age_seconds\{source="imds"\} [1-9]' "$T/body"
ok $? "a cached IMDS answer's age is exposed ($(grep '^atrest_source_age_seconds{source="imds"}' "$T/body"))"
get "http://127.0.0.1:$HPORT/report" | grep -Eq '"age_seconds":[1-9]'
ok $? "... and in the report's sources"

conf "$HANG"
kill -HUP "$DP"
T0=$(date +%s)
wait_for "http://127.0.0.1:$HPORT/metrics" '^atrest_evaluation_timeouts_total [1-9]' "$WAIT"
ok $? "with IMDS hanging, the evaluation is killed at the deadline and counted ($(( $(date +%s) - T0 )) s after the reload)"
grep -q 'status="pass"} 1' "$T/body"
ok $? "the previous report is still served meanwhile"
get "http://127.0.0.1:$HPORT/healthz" | grep -q "^HTTP 200"
ok $? "/healthz stays 200"
wait_for "http://127.0.0.1:$HPORT/report" "evidence is [0-9]+ s old: evaluations are failing: the evaluation overran its $DL s deadline" "$WAIT"
ok $? "past max_age every check says how old the evidence is"
get "http://127.0.0.1:$HPORT/metrics" > "$T/m"
! grep -q 'status="pass"} 1' "$T/m" && grep -q 'atrest_verdict{verdict="indeterminate"} 1' "$T/m"
ok $? "no stale pass: the verdict is indeterminate"
grep -E '^atrest_(evaluation_timeouts_total|evidence_age_seconds|evaluations_total|evaluation_errors_total) ' "$T/m" | sed 's/^/# /'
LEFT=$(for s in /proc/[0-9]*/status; do p=${s#/proc/}; p=${p%/status}; [ "$(status_field "$p" PPid)" = "$DP" ] && echo "$p"; done | grep -v "^${SPID:-x}$" | wc -l)
[ "$LEFT" -le 1 ]
ok $? "no pile of hung children ($LEFT evaluation child alive)"
# As systemd stops a unit: SIGTERM to every process of it at once.
[ -n "$SPID" ] && kill -TERM "$DP" "$SPID"
wait "$DP"; rc=$?
[ -n "$SPID" ] && ! kill -0 "$SPID" 2>/dev/null && [ "$rc" = 0 ]
ok $? "SIGTERM to the evaluator and the server together: a clean stop (exit $rc)"
DP=""
grep -q "the evaluation overran its $DL s deadline and was killed" "$T/daemon.err"
ok $? "the timeout is logged"

# A server that dies is a failure of the daemon (Restart=on-failure).
"$ATREST" daemon --config "$T/atrest.conf" --sysroot "$T/empty" --no-bench --listen "127.0.0.1:$(free_port)" 2>/dev/null &
DP=$!
i=0; SP2=""
while [ -z "$SP2" ] && [ $i -lt $((WAIT * 5)) ]; do sleep 0.2; i=$((i+1)); SP2=$(server_of "$DP"); done
if [ -n "$SP2" ]; then kill -KILL "$SP2"; else kill -TERM "$DP"; fi
wait "$DP"; rc=$?
[ -n "$SP2" ] && [ "$rc" != 0 ]
ok $? "a killed server makes the daemon exit with a failure (exit $rc)"
DP=""

# The roles alone, as the DaemonSet's two containers run them.
conf "$GOOD"
rm -f "$T/run/snapshot.json"
"$ATREST" daemon --role=evaluator --config "$T/atrest.conf" --sysroot "$T/empty" --no-bench 2> "$T/eval.err" & EP=$!
"$ATREST" daemon --role=server --config "$T/atrest.conf" 2> "$T/server.err" & SP=$!
wait_for "http://127.0.0.1:$HPORT/metrics" 'status="pass"\} 1' "$WAIT"
ok $? "--role=evaluator and --role=server together serve the report"
[ "$(status_field "$SP" CapEff)" = 0000000000000000 ] && [ "$(status_field "$SP" NoNewPrivs)" = 1 ]
ok $? "--role=server drops every capability too (CapEff $(status_field "$SP" CapEff), Uid $(status_field "$SP" Uid))"
# The evaluator has no listener of its own: only the server's pid owns the port.
LISTEN_INODE=$(awk -v p=":$(printf %04X "$HPORT")" '$2 ~ p"$" && $4 == "0A" {print $10}' /proc/net/tcp | head -1)
! ls -l "/proc/$EP/fd" 2>/dev/null | grep -q "socket:\[$LISTEN_INODE\]" && ls -l "/proc/$SP/fd" 2>/dev/null | grep -q "socket:\[$LISTEN_INODE\]"
ok $? "only the server holds the listening socket"
# A real Prometheus (Debian package prometheus) scrapes the server.
if command -v prometheus >/dev/null 2>&1; then
	PPORT=$(free_port)
	cat > "$T/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: atrest
    static_configs:
      - targets: ['127.0.0.1:$HPORT']
EOC
	prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
		--web.listen-address="127.0.0.1:$PPORT" --log.level=warn > "$T/prom.log" 2>&1 & PP=$!
	Q="http://127.0.0.1:$PPORT/api/v1/query?query=atrest_evidence_age_seconds%20%3E%3D%200%20and%20on()%20atrest_check_status%7Bcheck%3D%22host.encryption_at_host%22%2Cstatus%3D%22pass%22%7D%20%3D%3D%201"
	wait_for "$Q" '"result":\[\{' 60
	ok $? "a real Prometheus scrapes the split daemon (evidence age and a passing check)"
	kill "$PP" 2>/dev/null; wait "$PP" 2>/dev/null
else
	n=$((n+1)); echo "ok $n # SKIP prometheus not installed"
fi
kill -TERM "$EP" "$SP"
wait "$EP" "$SP" 2>/dev/null
EP=""; SP=""
echo "1..$n"
