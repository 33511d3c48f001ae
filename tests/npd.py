#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The NodeCondition path end to end: the real atrest daemon evaluates the
aks-pv fixture node (loopback IMDS and ARM), and the shipped
node-problem-detector config (packaging/kubernetes/npd/) runs
`atrest check --format npd --report-from ...` against it exactly as NPD's
plugin runner would (tests/npd-runner.py: timeout, kill, output cap,
condition). Three evidence situations give the three statuses: every disk on
a DES (compliant: OK, condition False), PV B on a platform key while the
policy demands CMK (noncompliant: NonOK, True), the node identity refused
on PV B's disk (indeterminate: Unknown). Then what goes wrong around the
plugin: the daemon gone, an endpoint that hangs, a stale report file, NPD's
own kill, NPD's default 80-byte output cap. Prints TAP."""
import json, os, signal, socket, subprocess, sys, tempfile, time, urllib.request

top = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
atrest = os.path.abspath(os.environ.get("ATREST", "./atrest"))
fx = os.path.join(top, "tests", "fixtures")
npd_conf = os.path.join(top, "packaging", "kubernetes", "npd", "atrest-custom-plugin-monitor.json")
runner = os.path.join(top, "tests", "npd-runner.py")
PV_B = "pvc-9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
n = fails = 0


def ok(cond, what, diag=None):
    global n, fails
    n += 1
    print(("ok" if cond else "not ok") + f" {n} - {what}")
    if not cond:
        fails += 1
        if diag is not None:
            print("#   " + json.dumps(diag)[:1500])
    sys.stdout.flush()
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_imds(tmp):
    pf = os.path.join(tmp, "imds.port")
    p = subprocess.Popen([sys.executable, os.path.join(top, "tests", "imds-server.py"), "--port-file", pf])
    for _ in range(500):
        if os.path.exists(pf) and open(pf).read().strip():
            return p, int(open(pf).read())
        time.sleep(0.02)
    p.kill()
    raise SystemExit("Bail out! the loopback IMDS did not start")


def npd(args, conf=npd_conf):
    out = subprocess.run([sys.executable, runner, conf, "--path", atrest] + args,
                         capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout)


class Daemon:
    """atrest daemon on the fixture node, ARM scenario arm, loopback only."""

    def __init__(self, root, tmp, imds_port, arm):
        self.port = free_port()
        conf = os.path.join(tmp, "atrest-%s.conf" % arm)
        with open(conf, "w") as f:
            f.write(open(os.path.join(fx, "conf", "aks-pv.conf")).read().replace(
                "mode = off", "mode = on\nstart_jitter = 0"))
        base = "http://127.0.0.1:%d" % imds_port
        env = dict(os.environ, NODE_NAME="aks-nodepool1-31718369-vmss000004")
        self.p = subprocess.Popen([atrest, "daemon", "--sysroot", root, "--no-bench", "--config", conf,
                                   "--listen", "127.0.0.1:%d" % self.port, "--imds-url",
                                   base + "/arm/" + arm, "--arm-url", base + "/armapi/" + arm, "-q"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.report = None
        deadline = time.time() + 60
        while time.time() < deadline and self.report is None:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/report" % self.port, timeout=2) as r:
                    self.report = json.load(r)
            except Exception:
                time.sleep(0.2)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=30)


def main():
    cases = [("akscmk", "compliant", "OK", 0, "False", "NoCriticalEncryptionFailure", None),
             ("aks", "noncompliant", "NonOK", 1, "True", "EncryptionAtRestCheckFailed",
              "disk.customer_managed_key lun:1 fail (critical)"),
             ("aks403", "indeterminate", "Unknown", 2, "Unknown", "NoCriticalEncryptionFailure",
              "disk.customer_managed_key lun:1 unknown (critical)")]
    build = subprocess.run(["sh", os.path.join(fx, "run-node.sh"), "aks-pv"], capture_output=True, text=True)
    if not ok(build.returncode == 0, "the aks-pv node builds"):
        print(build.stderr)
        return 1
    root = build.stdout.strip()
    cfg = json.load(open(npd_conf))
    with tempfile.TemporaryDirectory() as tmp:
        srv, imds_port = start_imds(tmp)
        try:
            shown = []
            for arm, verdict, status, code, cond, reason, names in cases:
                d = Daemon(root, tmp, imds_port, arm)
                try:
                    if not ok(d.report is not None and d.report["verdict"] == verdict,
                              f"{arm}: the daemon's verdict is {verdict}",
                              d.report and d.report["verdict"]):
                        continue
                    res = npd(["--replace", "127.0.0.1:8937=127.0.0.1:%d" % d.port, "--runs", "2"])
                finally:
                    d.stop()
                ok(not res["config_errors"], "the shipped NPD config passes NPD's validation",
                   res["config_errors"])
                r = res["runs"][0]["rules"][0]
                c = res["runs"][-1]["conditions"]["EncryptionAtRestNoncompliant"]
                shown.append((verdict, r["exit"], r["output"], c))
                ok(r["exit"] == code and r["status"] == status, f"{arm}: exit {code}, NPD status {status}", r)
                ok(r["output"].startswith(verdict + ":") and (not names or names in r["output"]),
                   f"{arm}: one line naming the verdict{' and the worst check' if names else ''}", r)
                ok(not r["killed"] and r["seconds"] < 3, f"{arm}: answers in {r['seconds']} s, well inside the 8 s timeout")
                ok(len(r["output"].encode()) <= cfg["pluginConfig"]["max_output_length"],
                   f"{arm}: the line fits max_output_length")
                ok(c["status"] == cond and c["reason"] == reason,
                   f"{arm}: EncryptionAtRestNoncompliant={cond} ({reason})", c)
                if cond == "True":
                    ok(c["message"] == r["output"], f"{arm}: the condition's message is the plugin's line")
            # What goes wrong around the plugin: never OK, always a reason.
            dead = free_port()
            res = npd(["--replace", "127.0.0.1:8937=127.0.0.1:%d" % dead])
            r = res["runs"][0]["rules"][0]
            shown.append(("daemon gone", r["exit"], r["output"], res["runs"][0]["conditions"]["EncryptionAtRestNoncompliant"]))
            ok(r["status"] == "Unknown" and "connection refused" in r["output"],
               "the daemon gone: Unknown, 'connection refused'", r)
            # A listener that never accepts: the connection completes in the
            # kernel's backlog and the request is never answered.
            tar = socket.socket()
            tar.bind(("127.0.0.1", 0))
            tar.listen(8)
            hang = "127.0.0.1:%d" % tar.getsockname()[1]
            res = npd(["--replace", "127.0.0.1:8937=" + hang])
            r = res["runs"][0]["rules"][0]
            ok(r["status"] == "Unknown" and not r["killed"] and r["seconds"] < 6 and "timed out" in r["output"],
               f"an endpoint that hangs: Unknown in {r['seconds']} s by atrest's own deadline", r)
            short = os.path.join(tmp, "npd-short.json")
            c2 = json.loads(json.dumps(cfg))
            c2["pluginConfig"]["timeout"] = "1s"
            c2["rules"][0]["timeout"] = "1s"
            json.dump(c2, open(short, "w"))
            res = npd(["--replace", "127.0.0.1:8937=" + hang], conf=short)
            r = res["runs"][0]["rules"][0]
            ok(r["status"] == "Unknown" and r["killed"], "NPD's own kill at a 1 s timeout: Unknown", r)
            tar.close()
            stale = os.path.join(tmp, "stale.json")
            rep = subprocess.run([atrest, "check", "--sysroot", root, "--no-bench", "--format", "json",
                                  "--imds-url", "http://127.0.0.1:%d/doc/aks-pv" % imds_port,
                                  "--config", os.path.join(fx, "conf", "aks-pv.conf")],
                                 capture_output=True, text=True, env=dict(os.environ, NODE_NAME="n"))
            doc = json.loads(rep.stdout)
            doc["generated_at"] = "2020-01-01T00:00:00Z"
            json.dump(doc, open(stale, "w"))
            res = npd(["--replace", "http://127.0.0.1:8937/report=" + stale])
            r = res["runs"][0]["rules"][0]
            ok(r["status"] == "Unknown" and "old" in r["output"], "a stale report file: Unknown, 'old'", r)
            c80 = os.path.join(tmp, "npd-80.json")
            c3 = json.loads(json.dumps(cfg))
            del c3["pluginConfig"]["max_output_length"]
            json.dump(c3, open(c80, "w"))
            d = Daemon(root, tmp, imds_port, "aks")
            try:
                res = npd(["--replace", "127.0.0.1:8937=127.0.0.1:%d" % d.port], conf=c80)
            finally:
                d.stop()
            r = res["runs"][0]["rules"][0]
            ok(r["status"] == "NonOK" and len(r["output"]) == 80 and
               r["output"].startswith("noncompliant: disk.customer_managed_key lun:1"),
               "NPD's default 80-byte cap keeps the verdict and the check", r)
            print("# what NPD sees (verdict, exit code, line, condition):")
            for v, code, line, c in shown:
                print(f"#   {v:<14} exit {code}  {line}")
                print(f"#   {'':<14}         -> {c['status']} {c['reason']}: {c['message'][:100]}")
        finally:
            srv.send_signal(signal.SIGTERM)
            srv.wait()
    print(f"1..{n}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
