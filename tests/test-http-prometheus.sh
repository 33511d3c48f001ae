#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A real Prometheus (Debian package prometheus) scrapes tests/http-serve
# over loopback; a PromQL query through its HTTP API returns the expected
# atrest_check_status series.
set -u
SERVE="${top_builddir:-.}/tests/http-serve"
PY=$(command -v /usr/bin/python3 || command -v python3)
command -v prometheus >/dev/null || { echo "1..0 # SKIP prometheus not installed"; exit 0; }
T=$(mktemp -d)
cleanup() { [ -n "${PP:-}" ] && kill "$PP" 2>/dev/null; [ -n "${SP:-}" ] && kill "$SP" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

# ATREST_TEST_EMULATOR: a cross build runs the helper under its emulator.
${ATREST_TEST_EMULATOR:-} "$SERVE" > "$T/port" & SP=$!
i=0; until [ -s "$T/port" ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i+1)); done
PORT=$(head -1 "$T/port")
PPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$T/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: atrest
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOC
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/data" \
	--web.listen-address="127.0.0.1:$PPORT" --log.level=warn > "$T/prom.log" 2>&1 & PP=$!

"$PY" - "$PPORT" "$PORT" <<'PYEOF'
import json, sys, time, urllib.parse, urllib.request
pport, port = sys.argv[1], sys.argv[2]
def q(expr):
    u = "http://127.0.0.1:%s/api/v1/query?%s" % (pport, urllib.parse.urlencode({"query": expr}))
    with urllib.request.urlopen(u, timeout=5) as r:
        return json.load(r)["data"]["result"]
res = []
deadline = time.time() + 60
while time.time() < deadline:
    try:
        res = q('atrest_check_status{status="pass"}==1')
        if res:
            break
    except Exception:
        pass
    time.sleep(0.5)
n = 0
failed = False
def ok(c, what, diag=None):
    global n, failed
    n += 1
    failed |= not c
    print(("ok" if c else "not ok"), n, "-", what)
    if not c and diag is not None:
        print("# " + json.dumps(diag)[:1500])
got = sorted((r["metric"]["check"], r["metric"]["subject"]) for r in res)
want = sorted([("host.encryption_at_host", "node"), ("disk.temp_encrypted", "resource"),
               ("dmcrypt.cipher", "data-crypt"), ("path.dm_crypt", "/var/lib/kubelet"),
               ("imds.disks_match", "node")])
ok(got == want, 'atrest_check_status{status="pass"}==1 returns the passing checks', res)
ok(all(r["metric"]["job"] == "atrest" and r["metric"]["instance"] == "127.0.0.1:" + port for r in res),
   "series carry the scrape target's labels")
odd = q('atrest_check_status{check="dmcrypt.cipher",status="fail"}==1')
ok(len(odd) == 1 and odd[0]["metric"]["subject"] == 'we"ird\\name\n<b>&', "escaped label value round-trips", odd)
v = q('atrest_verdict==1')
ok(len(v) == 1 and v[0]["metric"]["verdict"] == "noncompliant", "verdict series", v)
up = q('up{job="atrest"}')
ok(len(up) == 1 and up[0]["value"][1] == "1", "target is up")
pv = q('atrest_pod_volume_info')
ok(sorted((r["metric"].get("disk_subject", ""), r["metric"].get("pv", "")) for r in pv)
   == [("", 'pv-"odd"'), ("lun:0", "pvc-5a0f3c2e-8d4b-4e1f-9c6a-1b2d3e4f5a6b"), ("os", "")],
   "pod volume series, an escaped PV name and an empty disk subject among them", pv)
t = q('atrest_scrapes_total')
ok(len(t) == 1 and float(t[0]["value"][1]) >= 1, "daemon counters are scraped", t)
print("# query result:", json.dumps(res[:2]))
print("1..%d" % n)
sys.exit(1 if failed else 0)
PYEOF
rc=$?
[ $rc = 0 ] || sed 's/^/# /' "$T/prom.log"
exit $rc
