#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Structural checks of the Grafana dashboard: valid JSON, a schemaVersion,
unique panel ids on a 24-column grid, only the metrics atrest exports, and
every query written out as a rule file so promtool can parse its PromQL.
Usage: check-dashboard.py DASHBOARD.json RULES_OUT.yml  (prints ok/FAIL lines)"""
import json
import re
import sys

METRICS = {
    "atrest_check_status", "atrest_check_info", "atrest_verdict",
    "atrest_last_evaluation_timestamp_seconds", "atrest_evaluation_duration_seconds",
    "atrest_source_up", "atrest_build_info", "atrest_bench_encrypt_bytes_per_second",
    "atrest_bench_decrypt_bytes_per_second", "atrest_bench_last_run_timestamp_seconds",
    "atrest_dmcrypt_info", "atrest_dmcrypt_key_size_bytes", "atrest_disk_info",
    "atrest_pod_volume_info", "atrest_pod_volume_series_dropped",
}
failed = 0


def check(desc, cond):
    global failed
    print(("ok " if cond else "FAIL ") + desc)
    failed += not cond


def main():
    path, rules_out = sys.argv[1], sys.argv[2]
    try:
        dash = json.load(open(path, encoding="utf-8"))
    except ValueError as e:
        check(f"dashboard is valid JSON ({e})", False)
        return 1
    check("dashboard is valid JSON", True)
    check("schemaVersion is set (>= 30)", isinstance(dash.get("schemaVersion"), int) and dash["schemaVersion"] >= 30)
    check("uid and title are set", bool(dash.get("uid")) and bool(dash.get("title")))
    panels = dash.get("panels", [])
    ids = [p.get("id") for p in panels]
    check(f"{len(panels)} panels with unique ids", len(panels) >= 6 and len(set(ids)) == len(ids))
    check("every panel fits the 24-column grid",
          all(0 <= p["gridPos"]["x"] and p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 and p["gridPos"]["h"] > 0
              for p in panels))
    names = {v["name"] for v in dash.get("templating", {}).get("list", [])}
    check("variables datasource and agentpool exist", {"datasource", "agentpool"} <= names)
    exprs = [(p["title"], t["expr"]) for p in panels for t in p.get("targets", [])]
    check("every panel has a query", all(p.get("targets") for p in panels))
    used = {m for _, e in exprs for m in re.findall(r"\batrest_[a-z_]+", e)}
    check("queries use only exported metrics" + (f": {sorted(used - METRICS)}" if used - METRICS else ""),
          used <= METRICS)
    joined = " ".join(e for _, e in exprs)
    check("shows compliance by check", "by (check, status)" in joined)
    check("shows compliance by node pool", "by (agentpool, verdict)" in joined and "kube_node_labels" in joined)
    check("has the workloads on storage that fails",
          any(t == "Workloads on storage that fails" and "atrest_pod_volume_info" in e for t, e in exprs))
    # Grafana variables become plain regexes so promtool can parse the query.
    with open(rules_out, "w", encoding="utf-8") as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, (title, e) in enumerate(exprs):
            e = e.replace("$agentpool", ".*")
            f.write(f"      - record: dashboard:q{i}\n        expr: {json.dumps(e)}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
