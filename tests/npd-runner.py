#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""node-problem-detector's custom plugin monitor, as far as a plugin sees it.

Usage: npd-runner.py CONFIG.json [--path P] [--replace OLD=NEW]... [--runs N]

Loads a custom-plugin-monitor config the way NPD does
(pkg/custompluginmonitor/types/config.go: ApplyConfiguration, Validate),
runs each rule's path + args the way NPD's plugin runner does
(pkg/custompluginmonitor/plugin/plugin.go, run()): a deadline of the rule's
timeout when shorter than the global one, the process group killed at the
deadline, at most 4096 bytes of stdout and of stderr read, the output
trimmed of white space and cut to max_output_length, exit 0 = OK,
1 = NonOK, anything else = Unknown; and folds the results into the node
condition as custom_plugin_monitor.go's generateStatus does (the default
condition's reason when the status leaves True, the rule's reason when it
becomes True, the plugin's message except when it becomes False).
--path replaces every rule's path (the binary under test), --replace edits
the arguments (a loopback port for the test daemon). Prints one JSON
object: the config's problems, and per run the rule results and the
condition. Python 3 standard library only.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

MAX_BUFFER = 4 * 1024  # maxCustomPluginBufferBytes
DEFAULTS = {"invoke_interval": "30s", "timeout": "5s", "max_output_length": 80,
            "concurrency": 3, "enable_message_change_based_condition_update": False}


def duration(s):
    """Go's time.ParseDuration for the forms NPD configs use."""
    m = re.fullmatch(r"((?:\d+(?:\.\d+)?(?:ns|us|ms|s|m|h))+)", s or "")
    if not m:
        raise ValueError("invalid duration %r" % s)
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * unit[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", s))


def load(path):
    """The config with NPD's defaults applied, and its validation errors."""
    cfg = json.load(open(path))
    errors = []
    g = dict(DEFAULTS)
    g.update(cfg.get("pluginConfig", {}))
    try:
        g["_timeout"] = duration(g["timeout"])
        g["_interval"] = duration(g["invoke_interval"])
    except ValueError as e:
        errors.append(str(e))
        return cfg, g, errors
    if cfg.get("plugin") != "custom":
        errors.append("plugin is %r, NPD supports only \"custom\"" % cfg.get("plugin"))
    if g["_interval"] <= 0:
        errors.append("global invoke interval must be greater than zero")
    conds = {c["type"] for c in cfg.get("conditions", [])}
    for r in cfg.get("rules", []):
        try:
            r["_timeout"] = duration(r["timeout"]) if "timeout" in r else None
        except ValueError as e:
            errors.append(str(e))
            continue
        if r["_timeout"] is not None and r["_timeout"] > g["_timeout"]:
            errors.append("plugin timeout is greater than global timeout: %s" % r["path"])
        if r.get("type") == "permanent" and r.get("condition") not in conds:
            errors.append("permanent problem %s does not have preset default condition"
                          % r.get("condition"))
        if r.get("type") not in ("permanent", "temporary"):
            errors.append("rule type %r" % r.get("type"))
    if not isinstance(g["max_output_length"], int) or g["max_output_length"] <= 0:
        errors.append("max_output_length %r" % g["max_output_length"])
    return cfg, g, errors


def run_rule(rule, g):
    """plugin.go run(): returns (status, output, seconds, killed)."""
    timeout = rule["_timeout"] if rule["_timeout"] is not None and rule["_timeout"] < g["_timeout"] \
        else g["_timeout"]
    t0 = time.monotonic()
    # util.Exec puts the plugin in its own process group; util.Kill kills it.
    p = subprocess.Popen([rule["path"]] + rule.get("args", []), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True)
    killed = False
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        killed = True
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
    # Go: string(stdout) trimmed, then cut to max_output_length *bytes*.
    out = out[:MAX_BUFFER].strip()
    if killed:
        out = ("Timeout when running plugin %r: state - signal: killed. output - %r"
               % (rule["path"], out.decode("utf-8", "replace"))).encode()
    out = out[:g["max_output_length"]].decode("utf-8", "replace")
    code = p.returncode
    status = "OK" if code == 0 else "NonOK" if code == 1 else "Unknown"
    return status, out, code, time.monotonic() - t0, killed


def fold(cond, default, rule, status, message, g):
    """custom_plugin_monitor.go generateStatus() for a permanent rule."""
    new = {"OK": "False", "NonOK": "True"}.get(status, "Unknown")
    if cond["status"] == "True" and new != "True":
        cond.update(status=new, reason=default["reason"],
                    message=default["message"] if new == "False" else message)
    elif cond["status"] != "True" and new == "True":
        cond.update(status=new, reason=rule["reason"], message=message)
    elif cond["status"] != new:
        cond.update(status=new, reason=default["reason"],
                    message=default["message"] if new == "False" else message)
    elif cond["status"] == "True" and (cond["reason"] != rule["reason"] or (
            g["enable_message_change_based_condition_update"] and cond["message"] != message)):
        cond.update(reason=rule["reason"], message=message)
    return cond


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--path")
    ap.add_argument("--replace", action="append", default=[])
    ap.add_argument("--runs", type=int, default=1)
    a = ap.parse_args()
    cfg, g, errors = load(a.config)
    result = {"config_errors": errors, "runs": []}
    if errors:
        print(json.dumps(result))
        return 1
    # The condition starts False with its default reason and message.
    conds = {c["type"]: dict(c, status="False") for c in cfg["conditions"]}
    defaults = {c["type"]: c for c in cfg["conditions"]}
    for _ in range(a.runs):
        run = {"rules": []}
        for r in cfg["rules"]:
            rule = dict(r)
            if a.path:
                rule["path"] = a.path
            args = []
            for arg in rule.get("args", []):
                for rep in a.replace:
                    old, new = rep.split("=", 1)
                    arg = arg.replace(old, new)
                args.append(arg)
            rule["args"] = args
            status, out, code, secs, killed = run_rule(rule, g)
            run["rules"].append({"type": r["type"], "status": status, "exit": code, "output": out,
                                 "seconds": round(secs, 3), "killed": killed})
            if r["type"] == "permanent":
                fold(conds[r["condition"]], defaults[r["condition"]], r, status, out, g)
        run["conditions"] = {k: {x: v[x] for x in ("status", "reason", "message")}
                             for k, v in conds.items()}
        result["runs"].append(run)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
