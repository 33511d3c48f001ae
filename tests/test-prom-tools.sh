#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The exposition checked by the ecosystem's own tools: promtool check
# metrics on both formats, and the OpenMetrics and text parsers of
# python3-prometheus-client.
set -u
DUMP="${top_builddir:-.}/tests/prom-dump"
PY=/usr/bin/python3
n=0; fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
command -v promtool >/dev/null || { echo "1..0 # SKIP promtool (Debian package prometheus) not installed"; exit 0; }
"$PY" -c 'import prometheus_client' 2>/dev/null || { echo "1..0 # SKIP python3-prometheus-client not installed"; exit 0; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

for v in 0 1; do
	# ATREST_TEST_WRAPPER: make check-valgrind runs the helper under memcheck.
	${ATREST_TEST_WRAPPER:-} "$DUMP" text $v > "$T/text" &&
		${ATREST_TEST_WRAPPER:-} "$DUMP" openmetrics $v > "$T/om"
	ok $? "prom-dump writes both formats, variant $v"
	out=$(promtool check metrics < "$T/text" 2>&1); rc=$?
	[ $rc = 0 ] && [ -z "$out" ]; ok $? "promtool check metrics: text 0.0.4, variant $v"
	[ -n "$out" ] && echo "$out" | sed 's/^/# /'
	# promtool parses OpenMetrics with the 0.0.4 parser: a counter's family
	# (atrest_scrapes) and its sample (atrest_scrapes_total) look like two
	# families to it. Everything else must lint clean.
	out=$(promtool check metrics < "$T/om" 2>&1 | grep -v '^atrest_[a-z_]*_total no help text$')
	[ -z "$out" ]; ok $? "promtool check metrics: OpenMetrics, variant $v (only OpenMetrics counter naming differs)"
	[ -n "$out" ] && echo "$out" | sed 's/^/# /'
	grep -v '^atrest_[a-z_]*_total \|^# [A-Z]* atrest_\(scrapes\|evaluations\|evaluation_errors\|config_reloads\|config_reload_errors\) ' \
		"$T/om" > "$T/om-nocounters"
	out=$(promtool check metrics < "$T/om-nocounters" 2>&1); rc=$?
	[ $rc = 0 ] && [ -z "$out" ]; ok $? "promtool check metrics: OpenMetrics without counters is clean, variant $v"
	"$PY" - "$T/om" "$T/text" <<'PYEOF'
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
from prometheus_client.parser import text_string_to_metric_families as text
o = {f.name: f for f in om(open(sys.argv[1]).read())}
t = {f.name: f for f in text(open(sys.argv[2]).read())}
assert o["atrest_scrapes"].type == "counter", o["atrest_scrapes"].type
assert o["atrest_check_status"].type == "gauge"
s = [x for x in o["atrest_check_status"].samples if x.value == 1]
assert len(s) == 11, len(s)
odd = [x for x in s if x.labels["subject"].startswith("we")]
assert odd and odd[0].labels["subject"] == 'we"ird\\name\n<b>&', odd
pv = o["atrest_pod_volume_info"].samples
assert len(pv) == 3 and {x.labels["disk_subject"] for x in pv} == {"lun:0", "os", ""}, pv
assert [x.labels["pv"] for x in pv if x.labels["pod"] == "web-1"] == ['pv-"odd"'], pv
assert o["atrest_pod_volume_series_dropped"].samples[0].value == 1
ns = lambda fams: sorted((x.name, tuple(sorted(x.labels.items())), x.value) for f in fams.values() for x in f.samples)
assert ns(o) == ns(t), "the two formats carry different samples"
PYEOF
	ok $? "python3-prometheus-client parses OpenMetrics (strict parser) and text alike, variant $v"
done
echo "1..$n"
exit $fail
