#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Arm sizes and the v5+ platform temp-disk rule, end to end: the real
binary on fixture nodes whose IMDS document names an Arm size
(tests/fixtures/vm-sizes-arm.tsv) with encryption at host off. Each Arm
size must make disk.temp_encrypted pass with evidence.basis platform_v5
(CONTRACT.md); an amd64 v3 size on the same node must not. The same table is read by the parser's unit
test (tests/test-vm-size.c), so the two cannot drift."""
import json, os, shlex, signal, subprocess, sys, tempfile, time

top = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
atrest = os.environ.get("ATREST", "./atrest")
wrapper = shlex.split(os.environ.get("ATREST_VALGRIND", ""))
fx = os.path.join(top, "tests", "fixtures")
n = 0
fails = 0

# (scenario, subject): a node whose temp disk is plain once EAH is off.
# Arm sizes are Generation 2 only: gen2-luks-data has the Gen2 SCSI
# resource disk, nvme-v6 a plain local NVMe disk.
NODES = [("gen2-luks-data", "resource"), ("nvme-v6", "local:2")]


def ok(cond, what, diag=()):
    global n, fails
    n += 1
    print(("ok" if cond else "not ok") + f" {n} - {what}")
    if not cond:
        fails += 1
        for d in diag:
            print("#   " + d)
    sys.stdout.flush()


def sizes():
    with open(os.path.join(fx, "vm-sizes-arm.tsv")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                size, ver, cpu = line.rstrip("\n").split("\t")
                yield size, int(ver), cpu


def node(scenario):
    out = subprocess.run(["sh", os.path.join(fx, "run-node.sh"), scenario],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"Bail out! fixture node {scenario} did not build")
    return out.stdout.strip()


def write_doc(docs, scenario, size):
    """The node's IMDS document with another vmSize and EAH off."""
    with open(os.path.join(fx, "imds", scenario + ".json")) as f:
        doc = json.load(f)
    doc["compute"]["vmSize"] = size
    doc["compute"].setdefault("securityProfile", {})["encryptionAtHost"] = "false"
    name = f"{scenario}-{size}"
    with open(os.path.join(docs, name + ".json"), "w") as f:
        json.dump(doc, f)
    return name


def start_server(tmp, docs):
    port_file = os.path.join(tmp, "port")
    srv = subprocess.Popen([sys.executable, os.path.join(top, "tests", "imds-server.py"),
                            "--port-file", port_file, "--log", os.path.join(tmp, "imds.log"),
                            "--docs", docs])
    for _ in range(500):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return srv, int(open(port_file).read())
        time.sleep(0.02)
    srv.kill()
    raise SystemExit("Bail out! the loopback IMDS did not start")


def temp_check(root, scenario, port, doc, subject):
    cmd = wrapper + [atrest, "check", "--format", "json", "--no-bench", "--sysroot", root,
                     "--imds-url", f"http://127.0.0.1:{port}/doc/{doc}", "--imds-timeout", "3",
                     "--config", os.path.join(fx, "conf", scenario + ".conf")]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    try:
        report = json.loads(p.stdout)
    except ValueError:
        return None, None, f"no JSON report (exit {p.returncode}): {p.stderr.strip()[:200]}"
    c = next((c for c in report["checks"]
              if c["id"] == "disk.temp_encrypted" and c["subject"] == subject), None)
    if c is None:
        return None, report, "no disk.temp_encrypted result for " + subject
    return c, report, f"{c['status']}: {c['summary']} evidence {json.dumps(c.get('evidence'))}"


def imds_version(port, doc):
    """The size version `atrest imds` reads from the document."""
    p = subprocess.run(wrapper + [atrest, "imds", "--format", "json", "--arm", "off",
                                  "--imds-url", f"http://127.0.0.1:{port}/doc/{doc}",
                                  "--imds-timeout", "3"],
                       capture_output=True, text=True, timeout=60)
    try:
        return json.loads(p.stdout)["instance"].get("vm_size_version", "missing")
    except (ValueError, KeyError, TypeError):
        return f"no JSON (exit {p.returncode})"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        docs = os.path.join(tmp, "docs")
        os.mkdir(docs)
        rows = []
        for scenario, subject in NODES:
            for size, ver, cpu in sizes():
                rows.append((scenario, subject, size, ver, cpu, write_doc(docs, scenario, size)))
            rows.append((scenario, subject, "Standard_D2s_v3", 3, "control",
                         write_doc(docs, scenario, "Standard_D2s_v3")))
        srv, port = start_server(tmp, docs)
        try:
            roots = {s: node(s) for s, _ in NODES}
            for scenario, subject, size, ver, cpu, doc in rows:
                c, report, why = temp_check(roots[scenario], scenario, port, doc, subject)
                ok(report is not None and report["node"].get("vm_size") == size,
                   f"{scenario}: IMDS vmSize {size} reaches the report", diag=[why])
                got = imds_version(port, doc)
                ok(got == ver, f"{scenario}: atrest imds reads {size} as v{ver} (got {got})")
                basis = ((c or {}).get("evidence") or {}).get("basis")
                if ver >= 5:
                    ok(c is not None and c["status"] == "pass" and basis == "platform_v5",
                       f"{scenario}: {size} (v{ver}, {cpu}): {subject} temp disk passes "
                       f"on basis platform_v5", diag=[why])
                else:
                    ok(c is not None and c["status"] == "fail",
                       f"{scenario}: {size} (v{ver}, EAH off, plain disk): {subject} "
                       f"temp disk fails", diag=[why])
        finally:
            srv.send_signal(signal.SIGTERM)
            srv.wait()
    print(f"1..{n}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
