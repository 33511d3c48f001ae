#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""ARM lookups end to end: the real atrest binary against the ARM side of
tests/imds-server.py. A scenario matrix asserting disk.customer_managed_key
per subject; the requests sent (token resource, identity, Metadata header,
one GET per distinct DES, Retry-After honoured); --arm auto|on|off; proxies;
and a planted token that must never appear in any output (check, imds,
devices, every format, -v, stderr, the daemon's /report and /metrics).
Prints TAP."""

import json
import re
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

TOP = os.environ.get("top_srcdir", ".")
ATREST = os.environ.get("ATREST", "./atrest")
WRAP = os.environ.get("ATREST_VALGRIND", "").split()
TOKEN = "eyJ0eXAiOiJKV1QifQ.planted%s.c2ln" % uuid.uuid4().hex
SECRET = "azurejson-secret-%s" % uuid.uuid4().hex
n = 0
fails = 0
outputs = []


def ok(cond, msg):
    global n, fails
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, msg))
    if not cond:
        fails += 1
    sys.stdout.flush()
    return cond


def start_server(tmp):
    port_file = os.path.join(tmp, "port")
    log = os.path.join(tmp, "requests.log")
    srv = subprocess.Popen([sys.executable, os.path.join(TOP, "tests", "imds-server.py"),
                            "--port-file", port_file, "--log", log, "--token", TOKEN],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(port_file):
            return srv, int(open(port_file).read()), log
        time.sleep(0.05)
    srv.kill()
    print("Bail out! imds-server.py did not start")
    sys.exit(1)


def requests(log, scen):
    out = []
    if not os.path.exists(log):
        return out
    for line in open(log):
        e = json.loads(line)
        if ("/%s/" % scen) in e["path"]:
            out.append(e)
    return out


def run(args, env=None, timeout=60):
    e = dict(os.environ)
    e.setdefault("ATREST_ARM_TIMEOUT", "4")
    e.update(env or {})
    p = subprocess.run(WRAP + [ATREST] + args, capture_output=True, text=True,
                       timeout=timeout, env=e)
    outputs.append(p.stdout + p.stderr)
    return p


def check(port, scen, mode="on", extra=(), env=None, fmt="json", sysroot=None):
    args = ["check", "--format", fmt, "--no-bench", "--arm", mode,
            "--arm-url", "http://127.0.0.1:%d/armapi/%s" % (port, scen),
            "--imds-url", "http://127.0.0.1:%d/arm/%s" % (port, scen),
            "--sysroot", sysroot or EMPTY] + list(extra)
    return run(args, env)


def cmk(report):
    return {c["subject"]: c["status"] for c in report["checks"]
            if c["id"] == "disk.customer_managed_key"}


def check_of(report, cid, subject):
    for c in report["checks"]:
        if c["id"] == cid and c["subject"] == subject:
            return c
    return None


P, F, U = "pass", "fail", "unknown"
# scenario, mode, os, lun:0, lun:1, arm source status, message substring
MATRIX = [
    ("cmk", "on", P, P, P, "ok", None),
    ("pmk", "on", F, F, F, "ok", "platform-managed"),
    ("both", "on", P, P, P, "ok", None),
    ("mixed", "on", P, P, F, "ok", None),
    ("descase", "on", P, P, P, "ok", None),
    ("twodes", "on", P, P, P, "ok", None),
    ("rotationerror", "on", P, P, P, "ok", None),
    ("ephemeral", "on", P, P, P, "ok", "ephemeral"),
    ("ephemeralnodes", "on", F, P, P, "ok", "ephemeral"),
    ("cvm", "on", P, P, P, "ok", "securityProfile"),
    ("cvmpmk", "on", F, P, P, "ok", "platform-managed"),
    ("armeahoff", "on", P, P, P, "ok", None),
    ("kubelettag", "on", P, P, P, "ok", None),
    ("noimdsdiskids", "on", P, P, P, "ok", None),
    ("plainvm", "on", P, P, P, "ok", None),
    ("vm401", "on", U, U, U, "unauthorized", "virtualMachineScaleSets/virtualMachines/read"),
    ("vm403", "on", U, U, U, "unauthorized", "virtualMachineScaleSets/virtualMachines/read"),
    ("vm404", "on", U, U, U, "error", "HTTP 404"),
    ("vm429", "on", U, U, U, "error", "HTTP 429"),
    ("vm500", "on", U, U, U, "error", "HTTP 500"),
    ("vmmalformed", "on", U, U, U, "error", "cannot read"),
    ("vmwrongtypes", "on", U, U, U, "error", "cannot read"),
    ("disk403", "on", P, U, P, "ok", "Microsoft.Compute/disks/read"),
    ("disk404", "on", U, P, P, "ok", "HTTP 404"),
    ("disk429", "on", U, P, P, "ok", "HTTP 429"),
    ("disk429once", "on", P, P, P, "ok", None),
    ("disk500", "on", P, P, U, "ok", "HTTP 500"),
    ("diskmalformed", "on", U, P, P, "ok", "cannot read"),
    ("diskwrongtypes", "on", U, P, P, "ok", "cannot read"),
    ("disknoenc", "on", U, P, P, "ok", "encryption.type"),
    ("diskunknowntype", "on", U, P, P, "ok", "unknown encryption type"),
    ("des403", "on", U, U, U, "ok", "Microsoft.Compute/diskEncryptionSets/read"),
    ("des404", "on", U, U, U, "ok", "HTTP 404"),
    ("des500", "on", U, U, U, "ok", "HTTP 500"),
    ("desmalformed", "on", U, U, U, "ok", "cannot read"),
    ("tok400", "on", U, U, U, "error", "no managed identity"),
    ("tok400", "auto", U, U, U, "off", "no managed identity"),
    ("tok404", "on", U, U, U, "error", "HTTP 404"),
    ("tok500", "on", U, U, U, "error", "HTTP 500"),
    ("tokmalformed", "on", U, U, U, "error", "cannot read"),
    ("tokwrongtypes", "on", U, U, U, "error", "cannot read"),
    ("tokbadchars", "on", U, U, U, "error", "not a bearer token"),
    ("cmk", "off", U, U, U, "off", "--arm off"),
    ("cmk", "auto", P, P, P, "ok", None),
]


def matrix(port, log):
    table = []
    for scen, mode, *want, src, msg in MATRIX:
        tag = "%s.%s" % (scen, mode)
        t0 = time.monotonic()
        p = check(port, tag, mode)
        wall = time.monotonic() - t0
        try:
            r = json.loads(p.stdout)
        except ValueError:
            ok(False, "%s: JSON report (%s)" % (tag, p.stderr[:200]))
            continue
        got = cmk(r)
        exp = dict(zip(["os", "lun:0", "lun:1"], want))
        mark = "" if got == exp else " *"
        table.append("%-22s %-4s os=%-7s lun:0=%-7s lun:1=%-7s arm=%s%s" % (
            scen, mode, got.get("os"), got.get("lun:0"), got.get("lun:1"),
            r["sources"]["arm"]["status"], mark))
        ok(got == exp, "%s --arm %s: statuses %s" % (scen, mode, got))
        ok(r["sources"]["arm"]["status"] == src, "%s --arm %s: arm source %s" % (
            scen, mode, r["sources"]["arm"]["status"]))
        ok(wall < 8, "%s: finished in %.1f s" % (tag, wall))
        if msg:
            text = json.dumps([c for c in r["checks"]
                               if c["id"] == "disk.customer_managed_key"])
            text += json.dumps(r["sources"]["arm"])
            ok(msg in text, "%s: reason names '%s'" % (tag, msg))
        if mode == "auto" and src == "off":
            ok(not p.stderr.strip(), "%s: auto stays silent (stderr: %r)" % (tag, p.stderr[:100]))
        if scen == "vm429":
            ok(wall < 3, "429 with Retry-After 3600 gives up at once, never retries sooner")
        if scen == "armeahoff":
            c = check_of(r, "host.encryption_at_host", "node")
            ok(c and c["status"] == U and "disagree" in c["summary"],
               "ARM encryptionAtHost false vs IMDS true is reported as unknown")
        if scen.startswith("ephemeral"):
            c = check_of(r, "disk.customer_managed_key", "os")
            want = ("des", "/des1") if scen == "ephemeral" else ("ephemeral_no_des", None)
            ok(c and c["evidence"].get("basis") == want[0] and
               (want[1] is None or c["evidence"].get("disk_encryption_set_id", "").endswith(want[1])),
               "%s: basis %s, DES from the instance" % (scen, want[0]))
            ok(not [e for e in requests(log, tag) if "/disks/" in e["path"] and "OsDisk" in e["path"]],
               "%s: the ephemeral OS disk is never fetched from ARM" % scen)
        if scen == "cvm":
            c = check_of(r, "disk.customer_managed_key", "os")
            ok(c and c["evidence"].get("basis") == "des" and
               c["evidence"].get("security_des_id", "").endswith("/des2") and
               c["evidence"].get("des_source") == "security_profile",
               "cvm: the OS disk passes on the securityProfile DES (des2)")
        if scen == "rotationerror":
            c = check_of(r, "disk.customer_managed_key", "os")
            ok(c and c["evidence"].get("key_rotation_error", "").startswith(
                "ManagedServiceIdentityNotFound"), "rotation error in evidence")
        if scen == "cmk" and mode == "on":
            ev = check_of(r, "disk.customer_managed_key", "os")["evidence"]
            ok(ev.get("encryption_type") == "EncryptionAtRestWithCustomerKey" and
               ev.get("disk_encryption_set_id", "").endswith("/des1") and
               ev.get("key_url", "").startswith("https://") and
               ev.get("auto_key_rotation") is True and ev.get("last_key_rotation"),
               "evidence: type, DES, key URL, rotation, last rotation")
        if mode == "off":
            ok(not [e for e in requests(log, tag) if e["path"].startswith("/armapi/") or
                    e["path"].endswith("/token")], "--arm off sends nothing to ARM")
    print("# disk.customer_managed_key matrix (* marks a mismatch):")
    for line in table:
        print("#   " + line)


def request_assertions(port, log):
    reqs = requests(log, "cmk.on")
    toks = [e for e in reqs if e["path"].endswith("/oauth2/token")]
    ok(len(toks) == 1, "one token request per lookup")
    if toks:
        q = toks[0]["query"]
        ok("api-version=2018-02-01" in q, "token api-version 2018-02-01")
        ok("resource=http%%3A%%2F%%2F127.0.0.1%%3A%d%%2F" % port in q,
           "token resource is the ARM origin with a slash")
        ok(toks[0]["headers"].get("Metadata") == "true", "token request has Metadata: true")
        ok("client_id" not in q, "system-assigned: no identity parameter")
    arm = [e for e in reqs if e["path"].startswith("/armapi/")]
    ok(all(e["headers"].get("Authorization") == "Bearer " + TOKEN for e in arm),
       "every ARM request carries the bearer token")
    ok(not any("Metadata" in e["headers"] for e in arm), "ARM requests carry no Metadata header")
    ok(len(arm) == 5, "VM + 3 disks + 1 DES = 5 ARM requests (got %d)" % len(arm))
    des = [e for e in requests(log, "descase.on") if "diskencryptionsets" in e["path"].lower()]
    ok(len(des) == 1, "DES ids differing in case are fetched once (%d)" % len(des))
    des = [e for e in requests(log, "twodes.on") if "diskencryptionsets" in e["path"].lower()]
    ok(len(des) == 2, "two distinct DES fetched once each")
    q = [e["query"] for e in requests(log, "kubelettag.on") if e["path"].endswith("/token")]
    ok(q and "client_id=11111111-2222-3333-4444-555555555555" in q[0],
       "AKS kubelet identity tag chosen")
    os_disk = [e for e in requests(log, "disk429once.on") if "OsDisk" in e["path"]]
    ok(len(os_disk) == 2 and os_disk[1]["time"] - os_disk[0]["time"] >= 0.95,
       "429 with Retry-After 1: retried, not sooner than 1 s")
    toks = [e for e in requests(log, "tok500.on") if e["path"].endswith("/token")]
    ok(len(toks) == 2 and toks[1]["time"] - toks[0]["time"] >= 1.9,
       "token 500 retried after 2 s within the 4 s budget (%d tries)" % len(toks))
    toks = [e for e in requests(log, "tok400.on") if e["path"].endswith("/token")]
    ok(len(toks) == 1, "token 400 is final")


def identity_sources(port, log, tmp):
    conf = os.path.join(tmp, "client.conf")
    with open(conf, "w") as f:
        f.write("[arm]\nclient_id = cfg-client-id\n")
    p = check(port, "kubelettag.conf", extra=["--config", conf])
    q = [e["query"] for e in requests(log, "kubelettag.conf") if e["path"].endswith("/token")]
    ok(q and "client_id=cfg-client-id" in q[0], "config client_id wins over the tag")
    ok("cfg-client-id" in p.stdout, "identity used is reported")

    root = os.path.join(tmp, "aksroot")
    os.makedirs(os.path.join(root, "etc", "kubernetes"))
    with open(os.path.join(root, "etc", "kubernetes", "azure.json"), "w") as f:
        json.dump({"cloud": "AzurePublicCloud", "aadClientId": "msi",
                   "aadClientSecret": SECRET, "useManagedIdentityExtension": True,
                   "userAssignedIdentityID": "azjson-identity"}, f)
    p = check(port, "cmk.azjson", sysroot=root, extra=["-v"])
    q = [e["query"] for e in requests(log, "cmk.azjson") if e["path"].endswith("/token")]
    ok(q and "client_id=azjson-identity" in q[0], "azure.json userAssignedIdentityID chosen")
    ok(json.loads(p.stdout)["sources"]["arm"]["status"] == "ok", "lookup with it succeeds")
    check(port, "cmk.azjsontext", sysroot=root, extra=["-v"], fmt="text")


def proxies(port, log):
    env = {"http_proxy": "http://127.0.0.1:1", "HTTP_PROXY": "http://127.0.0.1:1",
           "no_proxy": "", "NO_PROXY": ""}
    p = check(port, "cmk.proxy", env=env)
    r = json.loads(p.stdout)
    ok(r["sources"]["imds"]["status"] == "ok", "IMDS bypasses the proxy")
    ok(any(e["path"].endswith("/token") for e in requests(log, "cmk.proxy")),
       "the token request bypasses the proxy")
    ok(r["sources"]["arm"]["status"] == "unreachable" and set(cmk(r).values()) == {U},
       "ARM goes through the system proxy (dead here): unknown")
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1"
    r = json.loads(check(port, "cmk.noproxy", env=env).stdout)
    ok(set(cmk(r).values()) == {P}, "no_proxy honoured for ARM")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def daemon(port, log):
    lp = free_port()
    e = dict(os.environ, ATREST_ARM_START_JITTER="0", ATREST_ARM_TIMEOUT="4")
    args = WRAP + [ATREST, "daemon", "--listen", "127.0.0.1:%d" % lp, "--interval", "5",
                   "--no-bench", "--sysroot", EMPTY, "--arm", "on", "-v",
                   "--arm-url", "http://127.0.0.1:%d/armapi/cmk.daemon" % port,
                   "--imds-url", "http://127.0.0.1:%d/arm/cmk.daemon" % port]
    d = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=e, text=True)
    report = metrics = ""
    try:
        for _ in range(100):
            time.sleep(0.2)
            try:
                report = urllib.request.urlopen("http://127.0.0.1:%d/report" % lp,
                                                timeout=2).read().decode()
                if cmk(json.loads(report)).get("os") == P:
                    break
            except (OSError, ValueError, KeyError):
                pass
        # Each evaluation runs in a child process that exits: the ARM
        # cache (answer, schedule, token) must come back to the parent,
        # or every evaluation would ask ARM again.
        for _ in range(150):
            metrics = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % lp,
                                             timeout=2).read().decode()
            m = re.search(r"^atrest_evaluations_total (\d+)", metrics, re.M)
            if m and int(m.group(1)) >= 3:
                break
            time.sleep(0.2)
    except OSError:
        pass
    finally:
        d.terminate()
        try:
            out, _ = d.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            d.kill()
            out, _ = d.communicate()
    outputs.extend([report, metrics, out])
    try:
        got = cmk(json.loads(report))
    except ValueError:
        got = {}
    ok(got == {"os": P, "lun:0": P, "lun:1": P}, "daemon: /report shows the ARM results %s" % got)
    ok(TOKEN not in report and TOKEN not in metrics and TOKEN not in out,
       "daemon: token absent from /report, /metrics and its logs")
    m = re.search(r"^atrest_evaluations_total (\d+)", metrics, re.M)
    evals = int(m.group(1)) if m else 0
    arm = [e for e in requests(log, "cmk.daemon") if e["path"].startswith("/armapi/")]
    tok = [e for e in requests(log, "cmk.daemon") if e["path"].endswith("/token")]
    paths = [e["path"].lower() for e in arm]
    ok(evals >= 3 and len(arm) >= 4 and len(paths) == len(set(paths)) and len(tok) == 1,
       "daemon: %d evaluations in child processes made one ARM lookup (%d ARM requests, "
       "%d token requests): the cache outlives each child" % (evals, len(arm), len(tok)))


def leak_sweep(port):
    for fmt in ("json", "text"):
        for scen in ("cmk.leak", "vm401.leak", "tokbadchars.leak", "tokmalformed.leak"):
            check(port, scen, extra=["-v"], fmt=fmt)
        base = ["--arm", "on", "--arm-url", "http://127.0.0.1:%d/armapi/cmk.leakimds" % port,
                "--imds-url", "http://127.0.0.1:%d/arm/cmk.leakimds" % port, "-v",
                "--format", fmt]
        run(["imds"] + base)
        run(["devices", "--sysroot", EMPTY] + base)
    joined = "\n".join(outputs)
    ok(len(outputs) > 60, "swept %d outputs" % len(outputs))
    ok(TOKEN not in joined, "the planted token appears in no output or log")
    ok(TOKEN[10:40] not in joined, "not even a fragment of it")
    ok(SECRET not in joined, "azure.json's secret appears in no output")
    ok("Bearer" not in joined, "no Authorization header is logged")


def os_disk_view(port):
    """The report's OS disk says what ARM said of it: an ephemeral disk,
    a confidential VM's security type and DES (on a real fixture node)."""
    fx = os.path.join(os.environ.get("top_srcdir") or
                      os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "tests", "fixtures")
    out = subprocess.run(["sh", os.path.join(fx, "run-node.sh"), "gen2-luks-data"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        ok(False, "fixture node gen2-luks-data builds (%s)" % out.stderr[-200:])
        return
    root = out.stdout.strip()
    for scen, want in (("ephemeral", {"ephemeral": True, "security_type": None}),
                       ("cvm", {"ephemeral": False, "security_type":
                                "ConfidentialVM_DiskEncryptedWithCustomerKey"}),
                       # The Disk_Get sample's own securityProfile: a Trusted Launch disk.
                       ("cmk", {"ephemeral": False, "security_type": "TrustedLaunch"})):
        p = check(port, scen + ".disks", sysroot=root)
        try:
            disks = json.loads(p.stdout)["disks"]
        except (ValueError, KeyError):
            ok(False, "%s: report with disks (%s)" % (scen, p.stderr[:200]))
            continue
        enc = next((d["encryption"] for d in disks if d["role"] == "os"), {})
        got = {k: enc.get(k) for k in want}
        ok(got == want, "%s: the OS disk's encryption view %s" % (scen, got))
        if scen == "cvm":
            ok((enc.get("security_disk_encryption_set_id") or "").endswith("/des2"),
               "cvm: the OS disk names its securityProfile DES")


def main():
    global EMPTY
    with tempfile.TemporaryDirectory() as tmp:
        EMPTY = os.path.join(tmp, "empty")
        os.mkdir(EMPTY)
        srv, port, log = start_server(tmp)
        try:
            matrix(port, log)
            os_disk_view(port)
            request_assertions(port, log)
            identity_sources(port, log, tmp)
            proxies(port, log)
            daemon(port, log)
            leak_sweep(port)
        finally:
            srv.terminate()
            srv.wait()
    print("1..%d" % n)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
