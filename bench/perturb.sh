#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Is the benchmark harmless to its neighbours? A loopback HTTP server
# (python3 -m http.server, 127.0.0.1 only) under `wrk`, its p99 latency
# measured four ways: alone; while atrest benchmarks back to back as it
# does by default (SCHED_IDLE, giving way while the node is busy); at
# SCHED_IDLE without giving way; and at nice 0 without giving way (the
# last two show what each protection buys). Not a test: run by hand.
#
#   bench/perturb.sh [-d SECONDS_PER_PHASE] [-r ROUNDS] [-c CONNECTIONS]
#
# Needs wrk (apt-get install wrk) and python3. XTSBENCH as in
# xts-vs-openssl.sh. Phases interleave per round; the table shows medians.
set -euo pipefail

duration=10
rounds=3
conns=2
while getopts "d:r:c:h" opt; do
	case $opt in
	d) duration=$OPTARG ;;
	r) rounds=$OPTARG ;;
	c) conns=$OPTARG ;;
	*) sed -n '2,12p' "$0"; exit 2 ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
find_xtsbench "$here"
need wrk wrk
need python3 python3

tmp=$(mktemp -d)
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/www"
head -c 1024 /dev/zero | tr '\0' 'a' >"$tmp/www/index.html"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$port" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
url="http://127.0.0.1:$port/index.html"

# Prints "p99_ms requests_per_second" for one wrk run.
measure() {
	wrk -t1 -c"$conns" -d"${duration}s" --latency "$url" | awk '
		function ms(v) {
			if (v ~ /us$/) return v / 1000
			if (v ~ /ms$/) return v + 0
			if (v ~ /m$/) return v * 60000
			if (v ~ /s$/) return v * 1000
			return v
		}
		$1 == "99%" { p99 = ms($2) }
		$1 == "Requests/sec:" { rps = $2 }
		END { printf "%.3f %.1f\n", p99, rps }'
}

# Runs the benchmark back to back in one process (as the daemon would run
# it, minus the 6 h pause) for the phase; its JSON says how many runs.
load() {
	$XTSBENCH --loop "$duration" "$@" >"$tmp/load.json" &
	loader=$!
}

unload() {
	wait "$loader" || true
	runs=$(python3 -c 'import json, sys; j = json.load(open(sys.argv[1]))
print(j.get("runs", 0), "%.3f" % j.get("loop_cpu_seconds", 0), j.get("loop_samples", 0))' "$tmp/load.json")
}

wrk -t1 -c"$conns" -d2s "$url" >/dev/null   # warm-up
: >"$tmp/results"
for round in $(seq "$rounds"); do
	echo "$round baseline $(measure) 0 0 0" >>"$tmp/results"
	for phase in idle noyield nice0; do
		case $phase in
		idle) load ;;
		noyield) load --no-yield ;;
		nice0) load --nice0 ;;
		esac
		m=$(measure)
		unload
		echo "$round $phase $m $runs" >>"$tmp/results"
	done
done

python3 - "$tmp/results" "$duration" "$conns" "$(nproc)" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
duration, conns, cpus = sys.argv[2], sys.argv[3], sys.argv[4]
phases = ("baseline", "idle", "noyield", "nice0")
print(f"# python3 http.server on 127.0.0.1 under wrk -t1 -c{conns} -d{duration}s; {cpus} CPUs; "
      f"{len(rows) // len(phases)} rounds, medians; bench CPU-s and samples summed over rounds")
print(f"{'phase':40} {'p99 ms':>7} {'vs base':>7} {'req/s':>7} {'runs':>5} {'CPU-s':>6} {'samples':>7}   per-round p99 ms")
base = None
names = {"baseline": "server alone",
         "idle": "atrest bench (default: idle, gives way)",
         "noyield": "SCHED_IDLE, not giving way",
         "nice0": "nice 0, not giving way"}
for phase in phases:
    sel = [r for r in rows if r[1] == phase]
    p99 = statistics.median(float(r[2]) for r in sel)
    rps = statistics.median(float(r[3]) for r in sel)
    runs = sum(int(r[4]) for r in sel)
    cpu = sum(float(r[5]) for r in sel)
    samples = sum(int(r[6]) for r in sel)
    base = base or p99
    each = " ".join(f"{float(r[2]):.2f}" for r in sel)
    print(f"{names[phase]:40} {p99:7.2f} {p99 / base:7.3f} {rps:7.0f} {runs:5d} {cpu:6.2f} {samples:7d}   {each}")
EOF
