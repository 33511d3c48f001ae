#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Figures for the daemon side by side with Debian's prometheus-node-exporter,
# all on loopback in the same run: RSS (and PSS) at start, after 1,000
# scrapes and after wrk -c64; scrapes/s and p50/p99 latency at 4 and 64
# connections. Two atrest processes: the real `atrest daemon` evaluating
# this host (IMDS pointed at a closed loopback port, ARM off, no benchmark),
# and tests/http-serve, the same HTTP endpoint code serving a fixture
# report the size of a real Azure node's. Not a test: prints a Markdown table.
#   bench/daemon/run.sh [BUILDDIR]     (default: _build; needs tests/http-serve built)
# ATREST=path runs that binary as the daemon instead of BUILDDIR/atrest, e.g.
# the portable (static) build the container image and the VMSS extension ship.
# Env: DURATION (wrk seconds per run, default 10), THREADS (wrk threads,
# default 1: on a 2-CPU machine two wrk threads and the server's two threads
# share the CPUs, and p99 then measures the scheduler's time slices, bimodal
# between runs at 0.13 and 2.9 ms at 4 connections).
set -eu
BUILD=${1:-_build}
SERVE="$BUILD/tests/http-serve"
ATREST=${ATREST:-$BUILD/atrest}
NODE_EXPORTER=$(command -v prometheus-node-exporter || command -v node_exporter) || {
	echo "install prometheus-node-exporter" >&2; exit 1; }
command -v wrk >/dev/null || { echo "install wrk" >&2; exit 1; }
[ -x "$SERVE" ] || { echo "build $SERVE first (make -C $BUILD tests/http-serve)" >&2; exit 1; }
PY=$(command -v python3)
DURATION=${DURATION:-10}
THREADS=${THREADS:-1}
T=$(mktemp -d)
DP= AP= NP=
cleanup() { kill $DP $AP $NP 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
wait_http() { i=0; until curl -sf -o /dev/null "$1" || [ $i -gt 200 ]; do sleep 0.05; i=$((i+1)); done; }
scrape_n() { "$PY" - "$1" "$2" <<'PYEOF'
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for _ in range(n):
    c.request("GET", "/metrics")
    r = c.getresponse(); r.read()
    assert r.status == 200
PYEOF
}
# wrk output -> "successful req/s p50 p99" (latencies in ms). Error
# answers (node_exporter sheds load beyond --web.max-requests with 503)
# are not scrapes and are left out of the rate.
wrk_run() {
	wrk -t"$THREADS" -c"$2" -d"${DURATION}s" --latency "http://127.0.0.1:$1/metrics" > "$T/wrk" 2>&1
	awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
	     /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
	     / requests in / { req = $1; secs = $4; sub(/s,?$/, "", secs) }
	     /Non-2xx or 3xx responses:/ { bad = $NF } /Socket errors:/ { err = $0 }
	     END { printf "%.1f %.3f %.3f\n", (req - bad) / secs, p50, p99 }' "$T/wrk"
}

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
DPORT=$(free_port)
chmod 755 "$T"
RUNTIME_DIRECTORY=$T "$ATREST" daemon --no-bench --arm off --imds-url http://127.0.0.1:1 \
	--imds-timeout 0.5 --listen "127.0.0.1:$DPORT" > "$T/daemon.log" 2>&1 & DP=$!
APORT=$(free_port)
"$SERVE" --listen "127.0.0.1:$APORT" > /dev/null & AP=$!
NPORT=$(free_port)
"$NODE_EXPORTER" --web.listen-address="127.0.0.1:$NPORT" > "$T/ne.log" 2>&1 & NP=$!
wait_http "http://127.0.0.1:$DPORT/metrics"
wait_http "http://127.0.0.1:$APORT/metrics"
wait_http "http://127.0.0.1:$NPORT/metrics"
sleep 1
# The daemon is two processes: the evaluator ($DP) and its long-lived child,
# the unprivileged server, which owns the port and answers the scrapes (an
# evaluation child comes and goes). The D column is the server.
EP=$DP
for c in $(grep -l "^PPid:[[:space:]]*$EP\$" /proc/[0-9]*/status 2>/dev/null); do
	c=${c#/proc/}; c=${c%/status}
	[ -z "${SP:-}" ] || [ "$c" -lt "$SP" ] && SP=$c
done
DP=$SP
E_rss0=$(rss_kib "$EP")

for who in D A N; do
	eval pid=\$${who}P port=\$${who}PORT
	eval ${who}_rss0=$(rss_kib "$pid") ${who}_pss0=$(pss_kib "$pid")
	eval ${who}_bytes=$(curl -s "http://127.0.0.1:$port/metrics" | wc -c)
	scrape_n "$port" 1000
	eval ${who}_rss1=$(rss_kib "$pid")
	set -- $(wrk_run "$port" 4); eval ${who}_rps4=$1 ${who}_p50_4=$2 ${who}_p99_4=$3
	set -- $(wrk_run "$port" 64); eval ${who}_rps64=$1 ${who}_p50_64=$2 ${who}_p99_64=$3
	eval ${who}_rss2=$(rss_kib "$pid") ${who}_pss2=$(pss_kib "$pid")
done

# The floor: what merely loading the libraries costs. A program that only
# waits, linked (a) against everything atrest links, (b) against what an
# HTTP/journal front end alone would need. Debian's libmicrohttpd brings
# GnuTLS, p11-kit, nettle and more.
floor_rss() {
	printf '#include <unistd.h>\nint main(void) { pause(); return 0; }\n' > "$T/floor.c"
	cc -O2 -o "$T/floor" "$T/floor.c" -Wl,--no-as-needed $(pkg-config --libs "$@") 2>/dev/null || { echo "?"; return; }
	"$T/floor" & fp=$!
	sleep 0.5
	rss_kib $fp
	kill $fp; wait $fp 2>/dev/null || true
}
E_rss2=$(rss_kib "$EP") E_pss2=$(pss_kib "$EP") D_pss1=$(pss_kib "$DP") N_pss1=$(pss_kib "$NP")
E_peak=$(curl -s "http://127.0.0.1:$DPORT/metrics" | awk '/^atrest_evaluation_max_rss_bytes / { printf "%d", $2 / 1024 }')
F_all=$(floor_rss blkid libcryptsetup libcurl json-c libsystemd libmicrohttpd inih libcrypto zlib)
F_mhd=$(floor_rss libmicrohttpd libsystemd json-c inih)
F_none=$(floor_rss libsystemd json-c inih)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
cat <<EOT
atrest daemon's server process (real daemon, this host: $ATREST) and its HTTP endpoint serving a fixture report (tests/http-serve)
vs $("$NODE_EXPORTER" --version 2>&1 | head -1)
$(nproc) CPUs, load average before the run: $LOAD; wrk -t$THREADS -d${DURATION}s, loopback, GET /metrics without gzip

| figure | atrest daemon | endpoint (fixture) | node_exporter | daemon / ne | endpoint / ne | target |
|---|---|---|---|---|---|---|
| body bytes | $D_bytes | $A_bytes | $N_bytes | | | |
| RSS at start (KiB) | $D_rss0 | $A_rss0 | $N_rss0 | $(ratio "$D_rss0" "$N_rss0") | $(ratio "$A_rss0" "$N_rss0") | <= 0.3 |
| RSS after 1,000 scrapes (KiB) | $D_rss1 | $A_rss1 | $N_rss1 | $(ratio "$D_rss1" "$N_rss1") | $(ratio "$A_rss1" "$N_rss1") | <= 0.3 |
| RSS after wrk -c64 (KiB) | $D_rss2 | $A_rss2 | $N_rss2 | $(ratio "$D_rss2" "$N_rss2") | $(ratio "$A_rss2" "$N_rss2") | <= 0.3 |
| floor: idle process linked like atrest (KiB) | $F_all | | | $(ratio "$F_all" "$N_rss0") | | |
| floor: linked to libmicrohttpd, libsystemd, json-c, inih (KiB) | | $F_mhd | | | $(ratio "$F_mhd" "$N_rss0") | |
| floor: libsystemd, json-c, inih, no libmicrohttpd (KiB) | | $F_none | | | $(ratio "$F_none" "$N_rss0") | |
| evaluator between evaluations, at start / at the end (KiB) | $E_rss0 / $E_rss2 | | | | | |
| sum of the atrest processes alive between evaluations (KiB) | $((D_rss1 + E_rss2)) | | $N_rss1 | $(ratio "$((D_rss1 + E_rss2))" "$N_rss1") | | <= 0.4 |
| PSS sum of the same, at the end (KiB: shared library pages counted once) | $((D_pss1 + E_pss2)) | | $N_pss1 | $(ratio "$((D_pss1 + E_pss2))" "$N_pss1") | | |
| peak RSS of an evaluation child (KiB) | ${E_peak:-?} | | | | | |
| PSS at start (KiB) | $D_pss0 | $A_pss0 | $N_pss0 | $(ratio "$D_pss0" "$N_pss0") | $(ratio "$A_pss0" "$N_pss0") | |
| PSS after wrk -c64 (KiB) | $D_pss2 | $A_pss2 | $N_pss2 | $(ratio "$D_pss2" "$N_pss2") | $(ratio "$A_pss2" "$N_pss2") | |
| scrapes/s, 4 connections | $D_rps4 | $A_rps4 | $N_rps4 | $(ratio "$D_rps4" "$N_rps4") | $(ratio "$A_rps4" "$N_rps4") | >= 50 |
| p50 ms, 4 connections | $D_p50_4 | $A_p50_4 | $N_p50_4 | | | |
| p99 ms, 4 connections | $D_p99_4 | $A_p99_4 | $N_p99_4 | | | atrest <= 1 |
| scrapes/s, 64 connections | $D_rps64 | $A_rps64 | $N_rps64 | $(ratio "$D_rps64" "$N_rps64") | $(ratio "$A_rps64" "$N_rps64") | >= 50 |
| p50 ms, 64 connections | $D_p50_64 | $A_p50_64 | $N_p50_64 | | | |
| p99 ms, 64 connections | $D_p99_64 | $A_p99_64 | $N_p99_64 | | | |
EOT
