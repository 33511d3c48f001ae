#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The portable binary against the normal build, in one run: `atrest check
# --no-bench` on a fixture node with the loopback IMDS, rounds interleaved so
# that a busy neighbour slows both alike; prints each one's median wall and
# CPU time and the ratio portable/normal. Not a test: run by hand.
#
#   bench/portable-vs-normal.sh NORMAL PORTABLE [-r ROUNDS] [-n NODE]
set -euo pipefail
normal=${1:?usage: portable-vs-normal.sh NORMAL PORTABLE [-r ROUNDS] [-n NODE]}
portable=${2:?usage: portable-vs-normal.sh NORMAL PORTABLE [-r ROUNDS] [-n NODE]}
shift 2
rounds=21
scenario=gen2-luks-data
while getopts "r:n:h" opt; do
	case $opt in
	r) rounds=$OPTARG ;;
	n) scenario=$OPTARG ;;
	*) sed -n '2,8p' "$0"; exit 2 ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
need python3 python3
need cryptsetup cryptsetup-bin
top=$(cd "$here/.." && pwd)
node=$("$top/tests/fixtures/run-node.sh" "$scenario")

exec python3 - "$top" "$normal" "$portable" "$rounds" "$scenario" "$node" <<'EOF'
import json, os, statistics, subprocess, sys, tempfile, time

top, normal, portable, rounds, scen, node = sys.argv[1:7]
rounds = int(rounds)
fx = os.path.join(top, "tests", "fixtures")
meta = json.load(open(os.path.join(fx, "scenarios", scen + ".json")))
tmp = tempfile.mkdtemp()
port_file = os.path.join(tmp, "port")
srv = subprocess.Popen([sys.executable, os.path.join(top, "tests", "imds-server.py"),
                        "--port-file", port_file])
while not (os.path.exists(port_file) and open(port_file).read().strip()):
    time.sleep(0.02)
port = int(open(port_file).read())
args = ["check", "--no-bench", "--format", "json", "--sysroot", node,
        "--imds-url", f"http://127.0.0.1:{port}/doc/{meta['imds']}"]
if meta.get("conf"):
    args += ["--config", os.path.join(fx, "conf", meta["conf"] + ".conf")]

def once(binary):
    t0 = time.monotonic()
    p = subprocess.Popen([binary] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    return time.monotonic() - t0, ru.ru_utime + ru.ru_stime

res = {"normal": [], "portable": []}
try:
    once(normal), once(portable)          # warm the page cache for both
    for i in range(rounds):
        order = [("normal", normal), ("portable", portable)]
        for name, b in (order if i % 2 == 0 else order[::-1]):
            res[name].append(once(b))
finally:
    srv.terminate()
    srv.wait()

med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
       for k, v in res.items()}
print(f"atrest check --no-bench on fixture node {scen}, {rounds} interleaved rounds (medians)")
for k in ("normal", "portable"):
    print(f"  {k:<9} wall {med[k][0] * 1000:8.1f} ms   cpu {med[k][1] * 1000:8.1f} ms")
print(f"  ratio portable/normal: wall {med['portable'][0] / med['normal'][0]:.3f}"
      f"   cpu {med['portable'][1] / med['normal'][1]:.3f}")
EOF
