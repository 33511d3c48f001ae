#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Validates the Kubernetes manifests offline against the API schemas, runs
# promtool on the alerting rules and their unit tests, and checks the
# Grafana dashboard. Tools: node + packaging/validate (npm ci), promtool
# (Debian package prometheus), python3.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
pkg=$srcdir/packaging
valdir=${ATREST_K8S_VALIDATOR:-$pkg/validate}
PYTHON3=${PYTHON3:-python3}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; fi; }
comment() { sed 's/^/# /' "$1"; }
# Turns a helper's "ok X"/"FAIL X" lines into TAP; returns non-zero if none.
tapify() {
	seen=0
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "${line#ok }"; seen=1 ;;
		"ok   "*) ok "${line#ok   }"; seen=1 ;;
		"FAIL "*) not_ok "${line#FAIL }"; seen=1 ;;
		*) echo "# $line" ;;
		esac
	done <"$1"
	[ "$seen" = 1 ]
}

manifests=$(ls "$pkg"/kubernetes/*.yaml "$pkg"/kubernetes/npd/*.yaml | grep -v '/kustomization.yaml$')

# --- schema validation of every manifest ---
if ! command -v node >/dev/null 2>&1; then
	skip "node not installed (apt-get install nodejs npm)"
elif ! [ -d "$valdir/node_modules/kubernetes-models" ]; then
	skip "manifest validator not installed (npm ci --prefix packaging/validate)"
else
	# shellcheck disable=SC2086
	node "$valdir/validate-k8s.mjs" $manifests >"$tmp/val.out" 2>&1
	rc=$?
	tapify "$tmp/val.out" || not_ok "validator produced no result"
	check "validator exits 0" [ "$rc" -eq 0 ]

	# The validator must catch what a reviewer would miss.
	sed 's/hostNetwork: true/hostNetwrok: true/' "$pkg/kubernetes/daemonset.yaml" >"$tmp/typo.yaml"
	node "$valdir/validate-k8s.mjs" "$tmp/typo.yaml" >"$tmp/typo.out" 2>&1
	check "validator rejects a misspelt field (hostNetwrok)" \
		sh -c '[ $1 -ne 0 ] && grep -q hostNetwrok "$2"' sh $? "$tmp/typo.out"
	sed 's/containerPort: 8937/containerPort: "8937"/' "$pkg/kubernetes/daemonset.yaml" >"$tmp/type.yaml"
	node "$valdir/validate-k8s.mjs" "$tmp/type.yaml" >"$tmp/type.out" 2>&1
	check "validator rejects a mistyped value (containerPort string)" \
		sh -c '[ $1 -ne 0 ] && grep -q containerPort "$2"' sh $? "$tmp/type.out"
	sed 's/^  selector:/  selectorr:/' "$pkg/kubernetes/podmonitor-azure.yaml" >"$tmp/pm.yaml"
	node "$valdir/validate-k8s.mjs" "$tmp/pm.yaml" >"$tmp/pm.out" 2>&1
	check "validator rejects a broken Azure PodMonitor" [ $? -ne 0 ]

	node "$valdir/check-k8s-policy.mjs" "$srcdir" >"$tmp/policy.out" 2>&1
	tapify "$tmp/policy.out" || { comment "$tmp/policy.out"; not_ok "policy checks produced no result"; }
fi

# --- alerting rules ---
if ! command -v promtool >/dev/null 2>&1; then
	skip "promtool not installed (apt-get install prometheus)"
else
	promtool check rules "$pkg/prometheus/rules.yml" >"$tmp/check.out" 2>&1
	rc=$?
	comment "$tmp/check.out"
	check "promtool check rules rules.yml" [ "$rc" -eq 0 ]
	(cd "$pkg/prometheus" && promtool test rules rules.test.yml) >"$tmp/test.out" 2>&1
	rc=$?
	comment "$tmp/test.out"
	check "promtool test rules rules.test.yml" [ "$rc" -eq 0 ]

	# The unit tests must notice a weakened rule.
	cp "$pkg/prometheus/rules.test.yml" "$tmp/"
	sed 's/for: 30m/for: 20m/' "$pkg/prometheus/rules.yml" >"$tmp/rules.yml"
	(cd "$tmp" && promtool test rules rules.test.yml) >/dev/null 2>&1
	check "rule tests fail when the indeterminate delay is shortened" [ $? -ne 0 ]
	sed 's/0.5 \* quantile/0.9 * quantile/' "$pkg/prometheus/rules.yml" >"$tmp/rules.yml"
	(cd "$tmp" && promtool test rules rules.test.yml) >/dev/null 2>&1
	check "rule tests fail when the benchmark threshold moves" [ $? -ne 0 ]
	sed 's/severity=~"critical|warning"/severity=~"critical|warning|info"/' "$pkg/prometheus/rules.yml" >"$tmp/rules.yml"
	(cd "$tmp" && promtool test rules rules.test.yml) >/dev/null 2>&1
	check "rule tests fail when info checks count against workloads" [ $? -ne 0 ]
	sed 's/on (instance, disk_subject) group_left ()/on (disk_subject) group_left ()/' "$pkg/prometheus/rules.yml" >"$tmp/rules.yml"
	(cd "$tmp" && promtool test rules rules.test.yml) >/dev/null 2>&1
	check "rule tests fail when the workload join crosses nodes" [ $? -ne 0 ]

	grep -o 'atrest_[a-z_]*' "$pkg/prometheus/rules.yml" | sort -u >"$tmp/used"
	check "rules use only exported metric names" sh -c '! grep -Ev "^atrest_(verdict|last_evaluation_timestamp_seconds|source_up|bench_encrypt_bytes_per_second|check_status|check_info|pod_volume_info)$" "$1"' sh "$tmp/used"
fi

# --- Grafana dashboard ---
dash=$pkg/grafana/atrest-fleet.json
if ! command -v "$PYTHON3" >/dev/null 2>&1; then
	skip "python3 not installed"
else
	check "python3 -m json.tool accepts the dashboard" "$PYTHON3" -m json.tool "$dash" /dev/null
	"$PYTHON3" "$pkg/grafana/check-dashboard.py" "$dash" "$tmp/dash-rules.yml" >"$tmp/dash.out" 2>&1
	tapify "$tmp/dash.out" || { comment "$tmp/dash.out"; not_ok "dashboard checks produced no result"; }
	check "VMSS HandlerManifest.json names the five handler commands" "$PYTHON3" -c '
import json, sys
m = json.load(open(sys.argv[1]))[0]["handlerManifest"]
for op in ("install", "uninstall", "update", "enable", "disable"):
    assert m[op + "Command"] == "bin/atrest vmss-extension " + op, op
assert m["reportHeartbeat"] is False and m["rebootAfterInstall"] is False
' "$pkg/vmss-extension/HandlerManifest.json"
	# One query for the workloads on failing storage: the alert's, word for
	# word in the dashboard, the README and the rule unit test.
	"$PYTHON3" - "$pkg/prometheus/rules.yml" "$dash" "$srcdir/README" \
		"$pkg/prometheus/rules.test.yml" >"$tmp/join.out" 2>&1 <<'PYEOF'
import json, re, sys
rules = open(sys.argv[1]).read()
m = re.search(r"alert: AtrestWorkloadOnFailingStorage\n.*?expr: \|\n(.*?)\n        for:", rules, re.S)
words = lambda s: " ".join(s.split())
q = words(m.group(1)) if m else None
dash = [t["expr"] for p in json.load(open(sys.argv[2]))["panels"] for t in p.get("targets", [])
        if p["title"] == "Workloads on storage that fails"]
print(("ok" if q and dash and words(dash[0]) == q else "FAIL") + " the dashboard's workloads table runs the alert's query")
print(("ok" if q and q in words(open(sys.argv[3]).read()) else "FAIL") + " the README shows the alert's query")
print(("ok" if q and q in words(open(sys.argv[4]).read()) else "FAIL") + " rules.test.yml tests the alert's query itself")
PYEOF
	tapify "$tmp/join.out" || { comment "$tmp/join.out"; not_ok "query comparison produced no result"; }
	if command -v promtool >/dev/null 2>&1; then
		promtool check rules "$tmp/dash-rules.yml" >"$tmp/dq.out" 2>&1
		rc=$?
		comment "$tmp/dq.out"
		check "promtool parses every dashboard query" [ "$rc" -eq 0 ]
	fi
fi

echo "1..$n"
[ "$fails" -eq 0 ]
