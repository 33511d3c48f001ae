#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The portable binary inside a Debian 11 root that holds none of atrest's
libraries, against the normal build on the host, on the same fixture nodes and
the same loopback IMDS: `check --no-bench --format json` and `devices --format
json` on every node (reports compared field by field), ARM on through the
loopback ARM, and `daemon` (its /report against the normal build's report, its
/metrics, its journal entries through the dlopen()ed libsystemd, the portable
evaluator and server it runs and the shared libraries they have mapped), then
once more with libsystemd.so.0 made unloadable.
Prints TAP. Environment: ATREST (normal build), ATREST_PORTABLE, TEST_ROOT (the
Debian 11 root), JOURNAL_DIR (where a private journald writes, optional)."""
import json, os, signal, socket, subprocess, sys, tempfile, time, urllib.request

top = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
normal = os.environ["ATREST"]
portable = os.path.abspath(os.environ["ATREST_PORTABLE"])
root = os.environ["TEST_ROOT"]
journal_dir = os.environ.get("JOURNAL_DIR")
in_root = os.path.join(top, "packaging", "portable", "in-root.sh")
fx = os.path.join(top, "tests", "fixtures")
bindir = "/opt/atrest"
# The daemon's two programs, beside the binary under the names atrest looks
# for: its own name with "atrest" replaced (atrest-evaluator-portable).
suffix = os.path.basename(portable)[len("atrest"):]
helpers = {r: os.path.join(os.path.dirname(portable), f"atrest-{r}{suffix}")
           for r in ("evaluator", "server")}
n = fails = 0
diffs_total = fields_total = 0


def ok(cond, what):
    global n, fails
    n += 1
    print(("ok" if cond else "not ok") + f" {n} - {what}")
    fails += 0 if cond else 1
    sys.stdout.flush()
    return cond


def diag(text):
    for line in str(text).rstrip("\n").split("\n"):
        print("# " + line)


def binds(paths):
    """Each host path at the same path inside the root, so reports that name
    paths name the same ones; the binary's directory at /opt/atrest."""
    out = [f"{os.path.dirname(portable)}:{bindir}"]
    out += [f"/dev/null:{lib}" for lib in os.environ.get("HIDE_LIBS", "").split()]
    for p in paths:
        out.append(f"{p}:{p}")
    return out


def chroot_cmd(args, paths, extra_binds=()):
    return ([in_root, root] + binds(paths) + list(extra_binds) + ["--"]
            + [f"{bindir}/{os.path.basename(portable)}"] + args)


def run_both(args, paths, timeout=120):
    host = subprocess.run([normal] + args, capture_output=True, text=True, timeout=timeout)
    port = subprocess.run(chroot_cmd(args, paths), capture_output=True, text=True, timeout=timeout)
    return host, port


# Fields that differ between any two runs by nature, not by build: when,
# and how long it took.
def volatile(path):
    return (path == ("generated_at",) or path == ("agent", "gather_seconds")
            or (len(path) == 3 and path[0] == "sources" and path[2] == "elapsed_seconds"))


def flatten(v, path=()):
    if isinstance(v, dict):
        for k in sorted(v):
            yield from flatten(v[k], path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from flatten(x, path + (i,))
        if not v:
            yield path, []
    else:
        yield path, v


def compare(what, a, b):
    """Field by field: every leaf path of either report, with its value."""
    global diffs_total, fields_total
    fa = {p: v for p, v in flatten(a) if not volatile(p)}
    fb = {p: v for p, v in flatten(b) if not volatile(p)}
    keys = sorted(set(fa) | set(fb), key=lambda p: [str(x) for x in p])
    diffs = [(p, fa.get(p, "<absent>"), fb.get(p, "<absent>")) for p in keys
             if fa.get(p, "<absent>") != fb.get(p, "<absent>")]
    fields_total += len(keys)
    diffs_total += len(diffs)
    if not ok(not diffs, f"{what}: {len(keys)} fields, {len(diffs)} differ"):
        for p, x, y in diffs[:20]:
            diag(f"  {'.'.join(map(str, p))}: normal {x!r} portable {y!r}")
    return not diffs


def parse(p, what):
    try:
        return json.loads(p.stdout)
    except ValueError:
        ok(False, f"{what}: JSON output (stderr: {p.stderr.strip()[:300]})")
        return None


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


def node(s):
    out = subprocess.run(["sh", os.path.join(fx, "run-node.sh"), s], capture_output=True, text=True)
    if out.returncode != 0:
        diag(out.stderr)
        return None
    return out.stdout.strip()


def scenario_args(s, port):
    scen = json.load(open(os.path.join(fx, "scenarios", s + ".json")))
    imds = scen.get("imds")
    url = f"http://127.0.0.1:{port}/doc/{imds}" if imds else "http://127.0.0.1:1"
    args = ["--imds-url", url, "--imds-timeout", "3"]
    if scen.get("conf"):
        args += ["--config", os.path.join(fx, "conf", scen["conf"] + ".conf")]
    return args


def check_and_devices(s, port, reports):
    sysroot = node(s)
    if not ok(sysroot is not None, f"{s}: node builds"):
        return
    common = ["--sysroot", sysroot] + scenario_args(s, port)
    paths = [sysroot, fx]
    h, p = run_both(["check", "--no-bench", "--format", "json"] + common, paths)
    a, b = parse(h, f"{s} check (normal)"), parse(p, f"{s} check (portable)")
    if a is not None and b is not None:
        ok(h.returncode == p.returncode, f"{s}: check exit code {h.returncode} both (portable {p.returncode})")
        compare(f"{s}: check report", a, b)
        reports[s] = (sysroot, common, a)
    h, p = run_both(["devices", "--format", "json"] + common, paths)
    a, b = parse(h, f"{s} devices (normal)"), parse(p, f"{s} devices (portable)")
    if a is not None and b is not None:
        ok(h.returncode == p.returncode, f"{s}: devices exit code {h.returncode} both")
        compare(f"{s}: devices", a, b)


def arm_on(port):
    """ARM with the managed identity's token through libcurl, loopback ARM."""
    empty = tempfile.mkdtemp(prefix="atrest-portable-empty.")
    os.chmod(empty, 0o755)
    args = ["check", "--no-bench", "--format", "json", "--arm", "on",
            "--arm-url", f"http://127.0.0.1:{port}/armapi/cmk",
            "--imds-url", f"http://127.0.0.1:{port}/arm/cmk", "--sysroot", empty]
    h, p = run_both(args, [empty])
    a, b = parse(h, "arm cmk (normal)"), parse(p, "arm cmk (portable)")
    if a is not None and b is not None:
        ok(b["sources"]["arm"]["status"] == "ok", f"ARM on: the portable build's ARM source is ok "
           f"({b['sources']['arm']})")
        compare("ARM on (cmk): check report", a, b)
    os.rmdir(empty)


# An OpenSSL configuration that fails to load (a provider no OpenSSL has,
# with diagnostics on): in a build that loads the node's configuration,
# OpenSSL's initialisation fails with it and no cipher can be fetched.
HOSTILE_CNF = """openssl_conf = openssl_init
config_diagnostics = 1
[openssl_init]
providers = provider_sect
[provider_sect]
atrest-absent = absent_sect
[absent_sect]
activate = 1
"""


def openssl_config():
    """The portable build loads neither the node's openssl.cnf nor its
    provider modules (the node's OpenSSL may be another version): its
    user-space benchmark runs where the normal build's cannot."""
    with tempfile.NamedTemporaryFile("w", suffix=".cnf", delete=False) as f:
        f.write(HOSTILE_CNF)
    os.chmod(f.name, 0o644)
    args = ["bench", "--seconds", "0.2", "--format", "json"]
    try:
        h = subprocess.run([normal] + args, capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, OPENSSL_CONF=f.name))
        a = parse(h, "bench, hostile openssl.cnf (normal)")
        ok(a is not None and a.get("status") == "error",
           "the normal build, which loads openssl.cnf, cannot run OpenSSL with the hostile one "
           f"({a and a.get('error')})")
        # Where Debian's libcrypto looks (OPENSSLDIR /usr/lib/ssl), in the root.
        p = subprocess.run(chroot_cmd(args, [], [f"{f.name}:/usr/lib/ssl/openssl.cnf"]),
                           capture_output=True, text=True, timeout=120)
        b = parse(p, "bench, hostile openssl.cnf (portable)")
        ok(b is not None and b.get("status") != "error" and b.get("engine") == "openssl"
           and b.get("encrypt_bytes_per_second"),
           "the portable build ignores a hostile /usr/lib/ssl/openssl.cnf: its OpenSSL "
           f"benchmark runs ({b and (b.get('engine'), b.get('status'), b.get('error'))})")
    finally:
        os.unlink(f.name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def ns_init(pid):
    """The process in-root.sh runs (PID 1 of its namespace): unshare's child."""
    for _ in range(200):
        try:
            kids = open(f"/proc/{pid}/task/{pid}/children").read().split()
            if kids:
                return int(kids[0])
        except OSError:
            pass
        time.sleep(0.02)
    return None


def descendants(pid):
    """PID and every process below it."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                todo += [int(k) for k in open(f"/proc/{p}/task/{t}/children").read().split()]
        except OSError:
            pass
    return out


def file_id(path):
    try:
        st = os.stat(path)
        return st.st_dev, st.st_ino
    except OSError:
        return None


def daemon(s, reports, label, extra_binds=(), journal=False):
    sysroot, common, want = reports[s]
    lport = free_port()
    args = ["daemon", "--no-bench", "--interval", "3600", "--listen", f"127.0.0.1:{lport}"] + common
    if "--no-bench" not in subprocess.run([normal, "daemon", "--help"], capture_output=True,
                                          text=True).stdout:
        args.remove("--no-bench")
    errf = tempfile.TemporaryFile(mode="w+")
    d = subprocess.Popen(chroot_cmd(args, [sysroot, fx], extra_binds), stdout=errf, stderr=errf)
    report = None
    try:
        t_end = time.monotonic() + 60
        while time.monotonic() < t_end and d.poll() is None:
            try:
                st, body = get(f"http://127.0.0.1:{lport}/report")
                if st == 200:
                    report = json.loads(body)
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        if not ok(report is not None, f"{label}: the portable daemon serves /report"):
            errf.seek(0)
            diag(errf.read()[-2000:])
            return
        compare(f"{label}: daemon /report vs normal check", want, report)
        st, metrics = get(f"http://127.0.0.1:{lport}/metrics")
        ok(st == 200 and f'atrest_verdict{{verdict="{want["verdict"]}"}} 1' in metrics,
           f"{label}: /metrics says verdict {want['verdict']}")
        child = ns_init(d.pid)
        # The evaluator (the process atrest daemon became) and the server
        # it started: the portable programs beside the binary, found by
        # their file (the same inode in the root's bind mount).
        procs = descendants(child) if child else []
        exes = {file_id(f"/proc/{p}/exe"): p for p in procs}
        for r, path in helpers.items():
            ok(file_id(path) in exes, f"{label}: the daemon runs {os.path.basename(path)} "
               f"(pid {exes.get(file_id(path))})")
        maps = set()
        for p in procs:
            try:
                maps |= {l.split()[-1] for l in open(f"/proc/{p}/maps") if ".so" in l.split()[-1]}
            except OSError:
                pass
        maps = sorted(maps)
        diag(f"{label}: shared objects mapped by the daemon's {len(procs)} processes: "
             + " ".join(os.path.basename(m) for m in maps))
        atrest_libs = [m for m in maps if any(x in os.path.basename(m) for x in (
            "libcrypto", "libssl", "libcurl", "libjson-c", "libcryptsetup", "libdevmapper",
            "libmicrohttpd", "libinih", "libblkid", "libz.", "libargon2", "libuuid"))]
        ok(not atrest_libs, f"{label}: none of atrest's libraries is mapped ({atrest_libs})")
        if child:
            os.kill(child, signal.SIGTERM)
        ok(d.wait(timeout=30) == 0, f"{label}: SIGTERM stops the daemon, exit 0")
    finally:
        if d.poll() is None:
            d.kill()
            d.wait()
    errf.seek(0)
    err = errf.read()
    if journal:
        subprocess.run(["journalctl", "--sync"], capture_output=True)
        j = subprocess.run(["journalctl", "-D", journal_dir, "-o", "json", "--no-pager"],
                           capture_output=True, text=True)
        entries = [json.loads(l) for l in j.stdout.splitlines() if l.strip()]
        got = {(e.get("ATREST_CHECK"), e.get("ATREST_SUBJECT"), e.get("ATREST_STATUS"))
               for e in entries if e.get("ATREST_CHECK")}
        expect = {(c["id"], c["subject"], c["status"]) for c in want["checks"]}
        ok(got == expect, f"{label}: the journal has one structured entry per check "
           f"({len(got)} of {len(expect)}) through the dlopen()ed libsystemd")
        ok(any(e.get("ATREST_VERDICT") == want["verdict"] for e in entries),
           f"{label}: the journal has the verdict entry")
    else:
        lines = [l for l in err.splitlines() if l.startswith("atrest: ")]
        ok(len(lines) >= len(want["checks"]),
           f"{label}: without the journal, {len(lines)} lines on stderr "
           f"(>= {len(want['checks'])} checks)")


def version(label, extra_binds=()):
    p = subprocess.run(chroot_cmd(["version", "--format", "json"], [], extra_binds),
                       capture_output=True, text=True, timeout=60)
    v = parse(p, f"{label}: version")
    if v:
        diag(f"{label}: atrest version: " + json.dumps(v["libraries"]))
    return v


def extension_package():
    """The VMSS extension package ships this very binary as bin/atrest and
    the daemon's programs beside it as bin/atrest-evaluator and
    bin/atrest-server."""
    path = os.environ.get("ATREST_VMSS_ZIP")
    if not path:
        return
    import zipfile
    with zipfile.ZipFile(path) as z:
        names = sorted(z.namelist())
        ok(names == ["HandlerManifest.json", "bin/atrest", "bin/atrest-evaluator",
                     "bin/atrest-server", "systemd/atrest.catalog", "systemd/atrest.service"],
           f"extension package layout: {names}")
        for name, want in [("bin/atrest", portable)] + [
                (f"bin/atrest-{r}", p) for r, p in sorted(helpers.items())]:
            try:
                info = z.getinfo(name)
            except KeyError:
                ok(False, f"extension package: {name} is there")
                continue
            ok(z.read(name) == open(want, "rb").read()
               and (info.external_attr >> 16) & 0o777 == 0o755,
               f"extension package: {name} is {os.path.basename(want)}, mode 755")


def normal_fails():
    """The counterfactual: the normal build cannot run in this root."""
    p = subprocess.run([in_root, root, f"{os.path.dirname(normal)}:/opt/atrest-normal", "--",
                        f"/opt/atrest-normal/{os.path.basename(normal)}", "version"],
                       capture_output=True, text=True, timeout=60)
    diag("normal build in the Debian 11 root: exit %d: %s" % (p.returncode, p.stderr.strip()[:600]))
    ok(p.returncode == 127 and "error while loading shared libraries" in p.stderr,
       "the normal build does not run in the Debian 11 root (libraries or glibc missing)")


def main():
    scenarios = sorted(f[:-5] for f in os.listdir(os.path.join(fx, "scenarios")) if f.endswith(".json"))
    only = sys.argv[1:]
    if only:
        scenarios = [s for s in scenarios if s in only]
    reports = {}
    extension_package()
    normal_fails()
    with tempfile.TemporaryDirectory() as tmp:
        srv, port = start_server(tmp)
        try:
            v = version("libsystemd present")
            ok(v and v["libraries"]["libsystemd"]["running"].endswith("(dlopen)"),
               "version: libsystemd.so.0 found with dlopen()")
            t0 = time.monotonic()
            for s in scenarios:
                check_and_devices(s, port, reports)
            diag(f"{len(scenarios)} nodes, check and devices both ways, in {time.monotonic() - t0:.1f} s")
            arm_on(port)
            openssl_config()
            s = "gen2-luks-data" if "gen2-luks-data" in reports else next(iter(reports), None)
            if s:
                journal_bind = ["/run/systemd/journal:/run/systemd/journal"] if journal_dir else []
                daemon(s, reports, f"daemon {s}", journal_bind, journal=bool(journal_dir))
                # libsystemd.so.0 unloadable: /dev/null over it inside the root.
                hide = [f"/dev/null:{lib}" for lib in libsystemd_paths()]
                v = version("libsystemd hidden", hide)
                ok(v and v["libraries"]["libsystemd"]["running"].startswith("not loaded"),
                   "version: without libsystemd.so.0, says it is not loaded")
                daemon(s, reports, f"daemon {s} without libsystemd", hide)
        finally:
            srv.send_signal(signal.SIGTERM)
            srv.wait()
    diag(f"field-by-field: {fields_total} fields compared, {diffs_total} differ")
    print(f"1..{n}")
    return 1 if fails else 0


def libsystemd_paths():
    out = []
    for d in ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu",
              "lib/aarch64-linux-gnu"):
        p = os.path.join(root, d, "libsystemd.so.0")
        if os.path.exists(p):
            out.append("/" + os.path.join(d, os.readlink(p) if os.path.islink(p) else "libsystemd.so.0"))
    return out


if __name__ == "__main__":
    sys.exit(main())
