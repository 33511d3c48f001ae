#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A real Prometheus (Debian package prometheus) scrapes the real atrest
# daemon evaluating the aks-pv fixture node (loopback IMDS and ARM: PV A on
# a DES, PV B on a platform key, customer-managed keys demanded), with
# packaging/prometheus/rules.yml loaded. The workload join of the alert
# AtrestWorkloadOnFailingStorage, sent as written there, must name exactly
# shop/web's PV on LUN 1, and the alert must be pending for it.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
ATREST=${ATREST:-${top_builddir:-.}/atrest}
PY=$(command -v /usr/bin/python3 || command -v python3)
command -v prometheus >/dev/null || { echo "1..0 # SKIP prometheus not installed"; exit 0; }
command -v "${CRYPTSETUP:-cryptsetup}" >/dev/null 2>&1 || { echo "1..0 # SKIP cryptsetup not found (fixture LUKS headers)"; exit 0; }
T=$(mktemp -d)
cleanup() {
	for p in ${PP:-} ${DP:-} ${IP:-}; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ROOT=$(sh "$srcdir/tests/fixtures/run-node.sh" aks-pv) || { echo "Bail out! the aks-pv node does not build"; exit 1; }
"$PY" "$srcdir/tests/imds-server.py" --port-file "$T/imds.port" & IP=$!
i=0; until [ -s "$T/imds.port" ] || [ $i -gt 200 ]; do sleep 0.05; i=$((i+1)); done
IMDS=http://127.0.0.1:$(cat "$T/imds.port")
sed 's/^mode = off$/mode = on\nstart_jitter = 0/' "$srcdir/tests/fixtures/conf/aks-pv.conf" > "$T/atrest.conf"
PORT=$(free_port)
NODE_NAME=aks-nodepool1-31718369-vmss000004 "$ATREST" daemon --sysroot "$ROOT" --no-bench -q \
	--config "$T/atrest.conf" --listen "127.0.0.1:$PORT" --interval 5 \
	--imds-url "$IMDS/arm/aks" --arm-url "$IMDS/armapi/aks" > "$T/daemon.log" 2>&1 & DP=$!
cp "$srcdir/packaging/prometheus/rules.yml" "$T/rules.yml"
PPORT=$(free_port)
cat > "$T/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $T/rules.yml
scrape_configs:
  - job_name: atrest
    static_configs:
      - targets: ['127.0.0.1:$PORT']
        labels:
          node: aks-nodepool1-31718369-vmss000004
EOC
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/data" \
	--web.listen-address="127.0.0.1:$PPORT" --log.level=warn > "$T/prom.log" 2>&1 & PP=$!

"$PY" - "$PPORT" "$PORT" "$T/rules.yml" <<'PYEOF'
import json, re, sys, time, urllib.parse, urllib.request
pport, port, rules = sys.argv[1], sys.argv[2], sys.argv[3]
join = re.search(r"alert: AtrestWorkloadOnFailingStorage\n.*?expr: \|\n(.*?)\n        for:",
                 open(rules).read(), re.S).group(1)
def api(path, **q):
    u = "http://127.0.0.1:%s/api/v1/%s?%s" % (pport, path, urllib.parse.urlencode(q))
    with urllib.request.urlopen(u, timeout=5) as r:
        return json.load(r)["data"]
def q(expr):
    return api("query", query=expr)["result"]
n = 0
failed = False
def ok(c, what, diag=None):
    global n, failed
    n += 1
    failed |= not c
    print(("ok" if c else "not ok"), n, "-", what)
    if not c and diag is not None:
        print("# " + json.dumps(diag)[:1500])
res, alerts = [], []
deadline = time.time() + 90
while time.time() < deadline:
    try:
        res = q(join)
        alerts = [a for a in api("alerts")["alerts"] if a["labels"]["alertname"] == "AtrestWorkloadOnFailingStorage"]
        if res and alerts:
            break
    except Exception:
        pass
    time.sleep(0.5)
vols = q("atrest_pod_volume_info")
ok(len(vols) == 5, "atrest_pod_volume_info: 5 disk-backed pod volumes scraped (memory volumes have none)",
   [v["metric"] for v in vols])
ok(all(v["metric"]["instance"] == "127.0.0.1:" + port for v in vols), "series carry the scrape target's instance")
got = [(r["metric"]["namespace"], r["metric"]["pod"], r["metric"]["pv"], r["metric"]["disk_subject"], r["value"][1])
       for r in res]
want = [("shop", "web-7d9f8c6b5-x2x9z", "pvc-9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "lun:1", "1")]
ok(got == want, "the alert's join names shop/web's PV on LUN 1 (platform key, CMK demanded), and nothing else", res)
ok(len(alerts) == 1 and alerts[0]["state"] == "pending" and alerts[0]["labels"]["pod"] == "web-7d9f8c6b5-x2x9z"
   and alerts[0]["labels"]["node"] == "aks-nodepool1-31718369-vmss000004",
   "AtrestWorkloadOnFailingStorage is pending for it (for: 15m)", alerts)
fail = q('atrest_check_status{status="fail"} == 1')
ok([(f["metric"]["check"], f["metric"]["subject"]) for f in fail] == [("disk.customer_managed_key", "lun:1")],
   "the one failing check is disk.customer_managed_key lun:1", fail)
ok(q("atrest_pod_volume_series_dropped")[0]["value"][1] == "0", "no series dropped under the cap")
print("# the join, as sent:")
for line in join.splitlines():
    print("#   " + line)
print("# its result from Prometheus:")
for r in res:
    print("#   %s => %s" % (json.dumps(r["metric"], sort_keys=True), r["value"][1]))
print("1..%d" % n)
sys.exit(1 if failed else 0)
PYEOF
rc=$?
[ $rc = 0 ] || { sed 's/^/# prometheus: /' "$T/prom.log"; sed 's/^/# daemon: /' "$T/daemon.log"; }
exit $rc
