#!/bin/sh
# Figures for the daemon's HTTP endpoint side by side with Debian's
# prometheus-node-exporter, both on loopback in the same run: RSS at start,
# after 1,000 scrapes and after wrk -c64; scrapes/s and p50/p99 latency at
# 4 and 64 connections. Not a test: prints a Markdown table.
#   bench/daemon/run.sh [BUILDDIR]     (default: _build; needs tests/http-serve built)
# Env: DURATION (wrk seconds per run, default 10), THREADS (wrk threads, default 2).
set -eu
BUILD=${1:-_build}
SERVE="$BUILD/tests/http-serve"
NODE_EXPORTER=$(command -v prometheus-node-exporter || command -v node_exporter) || {
	echo "install prometheus-node-exporter" >&2; exit 1; }
command -v wrk >/dev/null || { echo "install wrk" >&2; exit 1; }
[ -x "$SERVE" ] || { echo "build $SERVE first (make -C $BUILD tests/http-serve)" >&2; exit 1; }
PY=$(command -v python3)
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
T=$(mktemp -d)
cleanup() { kill "$AP" "$NP" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
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
APORT=$(free_port)
"$SERVE" --listen "127.0.0.1:$APORT" > /dev/null & AP=$!
NPORT=$(free_port)
"$NODE_EXPORTER" --web.listen-address="127.0.0.1:$NPORT" > "$T/ne.log" 2>&1 & NP=$!
wait_http "http://127.0.0.1:$APORT/metrics"
wait_http "http://127.0.0.1:$NPORT/metrics"
sleep 1

for who in A N; do
	eval pid=\$${who}P port=\$${who}PORT
	eval ${who}_rss0=$(rss_kib "$pid")
	eval ${who}_bytes=$(curl -s "http://127.0.0.1:$port/metrics" | wc -c)
	scrape_n "$port" 1000
	eval ${who}_rss1=$(rss_kib "$pid")
	set -- $(wrk_run "$port" 4); eval ${who}_rps4=$1 ${who}_p50_4=$2 ${who}_p99_4=$3
	set -- $(wrk_run "$port" 64); eval ${who}_rps64=$1 ${who}_p50_64=$2 ${who}_p99_64=$3
	eval ${who}_rss2=$(rss_kib "$pid")
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
cat <<EOT
atrest daemon HTTP endpoint (tests/http-serve, fixture report) vs $("$NODE_EXPORTER" --version 2>&1 | head -1)
$(nproc) CPUs, load average before the run: $LOAD; wrk -t$THREADS -d${DURATION}s, loopback, GET /metrics without gzip

| figure | atrest | node_exporter | atrest / node_exporter | target |
|---|---|---|---|---|
| body bytes | $A_bytes | $N_bytes | | |
| RSS at start (KiB) | $A_rss0 | $N_rss0 | $(ratio "$A_rss0" "$N_rss0") | <= 0.3 |
| RSS after 1,000 scrapes (KiB) | $A_rss1 | $N_rss1 | $(ratio "$A_rss1" "$N_rss1") | <= 0.3 |
| RSS after wrk -c64 (KiB) | $A_rss2 | $N_rss2 | $(ratio "$A_rss2" "$N_rss2") | <= 0.3 |
| scrapes/s, 4 connections | $A_rps4 | $N_rps4 | $(ratio "$A_rps4" "$N_rps4") | >= 50 |
| p50 ms, 4 connections | $A_p50_4 | $N_p50_4 | | |
| p99 ms, 4 connections | $A_p99_4 | $N_p99_4 | | atrest <= 1 |
| scrapes/s, 64 connections | $A_rps64 | $N_rps64 | $(ratio "$A_rps64" "$N_rps64") | >= 50 |
| p50 ms, 64 connections | $A_p50_64 | $N_p50_64 | | |
| p99 ms, 64 connections | $A_p99_64 | $N_p99_64 | | |
EOT
