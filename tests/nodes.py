#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the real atrest binary on every fixture node (tests/fixtures) with
the loopback IMDS serving the node's document, and compares each check's
status, the verdict and the exit code with the expected results kept apart
in tests/fixtures/expected. Prints TAP and, as diagnostics, the matrix."""
import fnmatch, json, os, shlex, signal, subprocess, sys, tempfile, time

top = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
atrest = os.environ.get("ATREST", "./atrest")
wrapper = shlex.split(os.environ.get("ATREST_VALGRIND", ""))
fx = os.path.join(top, "tests", "fixtures")
n = 0
fails = 0


def ok(cond, what):
    global n, fails
    n += 1
    print(("ok" if cond else "not ok") + f" {n} - {what}")
    if not cond:
        fails += 1
    sys.stdout.flush()
    return cond


def start_server(tmp):
    port_file = os.path.join(tmp, "port")
    srv = subprocess.Popen([sys.executable, os.path.join(top, "tests", "imds-server.py"),
                            "--port-file", port_file, "--log", os.path.join(tmp, "imds.log")])
    for _ in range(500):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return srv, int(open(port_file).read())
        time.sleep(0.02)
    srv.kill()
    raise SystemExit("Bail out! the loopback IMDS did not start")


def expected(scenario):
    rows = []
    with open(os.path.join(fx, "expected", scenario + ".tsv")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                rows.append(tuple(line.rstrip("\n").split("\t")))
    return rows


def verdicts():
    v = {}
    with open(os.path.join(fx, "expected", "verdicts.tsv")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                s, verdict, code = line.rstrip("\n").split("\t")
                v[s] = (verdict, int(code))
    return v


def kube_expected(scenario):
    path = os.path.join(fx, "expected", scenario + ".kube.tsv")
    if not os.path.exists(path):
        return None
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                rows.append(line.rstrip("\n").split("\t"))
    return rows


def check_kube(s, scen, report, rows):
    """The report's kubernetes section against expected/<s>.kube.tsv: every
    volume matched by exactly one row (a '*' row by as many as it counts),
    every disk's PV, the node directories."""
    k = report.get("kubernetes")
    if not ok(k is not None and k["status"] == "ok", f"{s}: kubernetes section present and ok"):
        return
    ok(k["node"] == scen.get("hostname"), f"{s}: node name from NODE_NAME ({k['node']})")
    vols = [("uid:" + p["uid"] if p["name"] is None else p["namespace"] + "/" + p["name"], v)
            for p in k["pods"] for v in p["volumes"]]
    for r in [r for r in rows if r[0] not in ("disk", "dir")]:
        pod, name, kind, backing, subject = r[:5]
        hits = [v for who, v in vols if fnmatch.fnmatchcase(who, pod) and v["name"] == name]
        want_n = int(r[5]) if len(r) > 5 else 1
        got = sorted({(v["kind"], v["backing"], v["disk_subject"] or "-") for v in hits})
        ok(len(hits) == want_n and got == [(kind, backing, subject)],
           f"{s}: {pod} {name}: {kind} on {backing} {subject}" + (f" x{want_n}" if want_n > 1 else ""))
        if got != [(kind, backing, subject)]:
            print(f"#   got {got} for {len(hits)} volumes: {[v['reason'] for v in hits][:2]}")
        if backing == "unknown":
            ok(all(v["reason"] for v in hits), f"{s}: {pod} {name}: unknown says why")
        vols = [(who, v) for who, v in vols if not (fnmatch.fnmatchcase(who, pod) and v["name"] == name)]
    ok(not vols, f"{s}: no volume beyond the expected ones ({[(w, v['name']) for w, v in vols][:3]})")
    dirs = {(d["role"], d["path"]): d for d in k["node_dirs"]}
    for _, role, path, backing, subject in [r for r in rows if r[0] == "dir"]:
        d = dirs.get((role, path))
        ok(d and d["backing"] == backing and (d["disk_subject"] or "-") == subject,
           f"{s}: {role} directory {path} on {backing} {subject}")
    disks = {d["name"]: d for d in report["disks"]}
    for _, dev, pv in [r for r in rows if r[0] == "disk"]:
        got = disks.get(dev, {}).get("pv") or "-"
        ok(got == pv, f"{s}: disk {dev} backs PV {pv} (got {got})")
    want_series = sum(1 for p in k["pods"] for v in p["volumes"] if v["backing"] != "memory")
    ok(k["volume_series"] + k["volume_series_dropped"] >= want_series and
       k["volume_series"] <= k["max_volume_series"],
       f"{s}: {k['volume_series']} volume series within the cap of {k['max_volume_series']}, "
       f"{k['volume_series_dropped']} dropped")


def build(scenario):
    out = subprocess.run(["sh", os.path.join(fx, "run-node.sh"), scenario],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        return None
    return out.stdout.strip()


def main():
    only = sys.argv[1:]
    scenarios = sorted(f[:-5] for f in os.listdir(os.path.join(fx, "scenarios")) if f.endswith(".json"))
    if only:
        scenarios = [s for s in scenarios if s in only]
    want_verdict = verdicts()
    matrix = []
    with tempfile.TemporaryDirectory() as tmp:
        srv, port = start_server(tmp)
        try:
            for s in scenarios:
                run_one(s, port, want_verdict, matrix)
        finally:
            srv.send_signal(signal.SIGTERM)
            srv.wait()
    print("# scenario matrix (check subject status; * marks a mismatch):")
    for line in matrix:
        print("#   " + line)
    print(f"1..{n}")
    return 1 if fails else 0


def run_one(s, port, want_verdict, matrix):
    scen = json.load(open(os.path.join(fx, "scenarios", s + ".json")))
    root = build(s)
    if not ok(root is not None, f"{s}: node builds"):
        return
    imds = scen.get("imds")
    url = f"http://127.0.0.1:{port}/doc/{imds}" if imds else "http://127.0.0.1:1"
    arm = scen.get("arm")
    if arm:
        # A loopback ARM scenario (tests/imds-server.py) serving the node's
        # own IMDS document, the token, and the instance, disks and DES.
        url = f"http://127.0.0.1:{port}/arm/{arm}"
    cmd = wrapper + [atrest, "check", "--format", "json", "--no-bench", "--sysroot", root,
                     "--imds-url", url, "--imds-timeout", "3"]
    if arm:
        cmd += ["--arm", "on", "--arm-url", f"http://127.0.0.1:{port}/armapi/{arm}"]
    conf = scen.get("conf")
    if conf:
        cmd += ["--config", os.path.join(fx, "conf", conf + ".conf")]
    env = dict(os.environ)
    env.pop("NODE_NAME", None)
    if kube_expected(s) is not None:
        env["NODE_NAME"] = scen.get("hostname", s)
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    wall = time.monotonic() - t0
    try:
        report = json.loads(p.stdout)
    except ValueError:
        ok(False, f"{s}: report is JSON (stderr: {p.stderr.strip()[:200]})")
        return
    got = {(c["id"], c["subject"]): c for c in report["checks"]}
    for row in expected(s):
        check, subject, status = row[:3]
        c = got.pop((check, subject), None)
        st = c["status"] if c else "missing"
        basis = (c.get("evidence") or {}).get("basis", "-") if c else "-"
        good = ok(st == status, f"{s}: {check} {subject} is {status}")
        if not good and c:
            print(f"#   got {st}: {c['summary']}")
        # A fourth column names the fact the pass or fail must rest on.
        if len(row) > 3:
            good = ok(basis == row[3], f"{s}: {check} {subject} rests on {row[3]} (got {basis})") and good
        matrix.append(f"{s:<24} {check:<26} {subject:<22} {st:<8} {basis}"
                      f"{'' if good else ' * want ' + ' '.join(row[2:])}")
    for (check, subject), c in got.items():
        ok(False, f"{s}: unexpected result {check} {subject} {c['status']}: {c['summary']}")
    verdict, code = want_verdict[s]
    ok(report["verdict"] == verdict, f"{s}: verdict {verdict} (got {report['verdict']})")
    ok(p.returncode == code, f"{s}: exit code {code} (got {p.returncode})")
    ok(not [c for c in report["checks"] if c["status"] == "pass" and not c["evidence"]],
       f"{s}: every pass carries evidence")
    kube = kube_expected(s)
    if kube is not None:
        check_kube(s, scen, report, kube)
    else:
        ok(report.get("kubernetes") is None and not os.path.isdir(os.path.join(root, "var/lib/kubelet/pods")),
           f"{s}: no kubernetes section on a node without kubelet's pods/")
    matrix.append(f"{s:<24} verdict {report['verdict']} exit {p.returncode} in {wall:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
