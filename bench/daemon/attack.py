#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The daemon's HTTP server under attack, side by side with node_exporter,
on loopback in the same run. Not a test: prints a Markdown table.

    bench/daemon/attack.py [BUILDDIR]     (default: _build)

Attacks come from 127.0.0.2 (another client as far as the server can tell);
the scraper asks GET /metrics from 127.0.0.1 every 100 ms during each attack
and records how long each answer took (a timeout of 2 s counts as a
failure). Attacks (env DURATION seconds each, default 10):
  idle       10,000 connections opened and left idle
  slowloris  1,000 connections each sending one header byte every 2 s
  half-open  200 requests a second, each half a request then a close
For atrest the RSS of the server process (the port owner) is taken before
and after each attack; for node_exporter its process. Python 3 standard
library only; node_exporter from Debian's prometheus-node-exporter.
ATREST_CONF=FILE passes --config FILE to atrest (e.g. the limits before
the connection budget: connection_limit = 64, per_ip_connection_limit =
65536, connection_timeout = 10).
"""

import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BUILD = sys.argv[1] if len(sys.argv) > 1 else "_build"
DURATION = float(os.environ.get("DURATION", "10"))
ATTACKER = "127.0.0.2"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rss_kib(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                for line in open("/proc/%s/status" % d):
                    if line.startswith("PPid:") and int(line.split()[1]) == pid:
                        out.append(int(d))
            except OSError:
                pass
    return out


def wait_http(port, limit=30):
    t0 = time.time()
    while time.time() - t0 < limit:
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2).read()
            return True
        except OSError:
            time.sleep(0.2)
    return False


class Scraper(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.lat, self.fail = port, False, [], 0

    def run(self):
        while not self.stop:
            t0 = time.time()
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=2,
                                             source_address=("127.0.0.1", 0))
                s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
                while s.recv(65536):
                    pass
                s.close()
                self.lat.append(time.time() - t0)
            except OSError:
                self.fail += 1
            time.sleep(max(0, 0.1 - (time.time() - t0)))


def connect_nb(port):
    s = socket.socket()
    s.setblocking(False)
    s.bind((ATTACKER, 0))
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return None
    return s


def attack_idle(port, stop):
    socks = []
    for _ in range(10000):
        if stop.is_set():
            break
        s = connect_nb(port)
        if s:
            socks.append(s)
    stop.wait()
    for s in socks:
        s.close()
    return len(socks)


def attack_slowloris(port, stop):
    socks = [s for s in (connect_nb(port) for _ in range(1000)) if s]
    time.sleep(0.5)
    live = []
    for s in socks:
        try:
            s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            live.append(s)
        except OSError:
            s.close()
    n = len(live)
    while not stop.wait(2):
        for s in list(live):
            try:
                s.send(b"X")
            except OSError:
                live.remove(s)
                s.close()
    for s in live:
        s.close()
    return n


def attack_halfopen(port, stop):
    n = 0
    while not stop.is_set():
        t0 = time.time()
        for _ in range(20):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=1,
                                             source_address=(ATTACKER, 0))
                s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: te")
                s.close()
                n += 1
            except OSError:
                pass
        stop.wait(max(0, 0.1 - (time.time() - t0)))
    return n


ATTACKS = [("idle", "10,000 idle connections", attack_idle),
           ("slowloris", "1,000-connection slowloris", attack_slowloris),
           ("half-open", "half-open requests, 200/s", attack_halfopen)]


def run_attack(fn, port, pid):
    rss0 = rss_kib(pid)
    sc = Scraper(port)
    stop = threading.Event()
    res = {}
    t = threading.Thread(target=lambda: res.setdefault("n", fn(port, stop)), daemon=True)
    t.start()
    time.sleep(1)  # the attack builds up
    sc.start()
    time.sleep(DURATION)
    rss1 = rss_kib(pid)
    sc.stop = True
    sc.join()
    stop.set()
    t.join()
    # Recovery: the first good scrape after the attack stopped.
    t0 = time.time()
    while time.time() - t0 < 60:
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2).read()
            break
        except OSError:
            time.sleep(0.1)
    rec = time.time() - t0
    lat = sorted(sc.lat)
    p50 = lat[len(lat) // 2] * 1000 if lat else float("nan")
    mx = lat[-1] * 1000 if lat else float("nan")
    return {"n": res.get("n", 0), "ok": len(lat), "fail": sc.fail, "p50": p50, "max": mx,
            "rss0": rss0, "rss1": rss1, "recover": rec}


def main():
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    ne = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if not ne:
        sys.exit("install prometheus-node-exporter")
    tmp = tempfile.mkdtemp()
    os.chmod(tmp, 0o755)
    os.mkdir(os.path.join(tmp, "empty"))
    aport, nport = free_port(), free_port()
    atrest = subprocess.Popen([os.path.join(BUILD, "atrest"), "daemon", "--no-bench", "--arm", "off",
                               "--imds-url", "http://127.0.0.1:1", "--imds-timeout", "0.5",
                               "--listen", "127.0.0.1:%d" % aport] +
                              (["--config", os.environ["ATREST_CONF"]]
                               if os.environ.get("ATREST_CONF") else []),
                              env=dict(os.environ, RUNTIME_DIRECTORY=tmp),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    nexp = subprocess.Popen([ne, "--web.listen-address=127.0.0.1:%d" % nport],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_http(aport) or not wait_http(nport):
            sys.exit("a server did not start")
        time.sleep(1)
        server = [p for p in children(atrest.pid) if rss_kib(p)]
        # The long-lived child is the server (an evaluation child comes and goes).
        spid = min(server) if server else atrest.pid
        rows = []
        for key, title, fn in ATTACKS:
            a = run_attack(fn, aport, spid)
            n = run_attack(fn, nport, nexp.pid)
            rows.append((title, a, n))
        load = open("/proc/loadavg").read().split()[:3]
        print("atrest server (pid %d) vs %s; %d CPUs, load %s; attacks from %s, scrapes from 127.0.0.1 every 100 ms, %g s each"
              % (spid, subprocess.run([ne, "--version"], capture_output=True, text=True).stderr.split("\n")[0]
                 or "node_exporter", os.cpu_count(), " ".join(load), ATTACKER, DURATION))
        print()
        print("| attack | who | attack conns/reqs | scrapes ok / failed | p50 ms | max ms | recovery s | RSS before → during (KiB) |")
        print("|---|---|---|---|---|---|---|---|")
        for title, a, n in rows:
            for who, r in (("atrest", a), ("node_exporter", n)):
                print("| %s | %s | %d | %d / %d | %.1f | %.1f | %.1f | %d → %d |"
                      % (title, who, r["n"], r["ok"], r["fail"], r["p50"], r["max"], r["recover"],
                         r["rss0"], r["rss1"]))
    finally:
        atrest.terminate()
        nexp.terminate()
        atrest.wait()
        nexp.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
