#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Drives tests/http-serve over loopback and prints TAP: content types,
negotiation, gzip, /report, /healthz, landing page, 404/405, keep-alive,
IPv6, connection limit and idle timeout, stale loop, no snapshot yet."""
import gzip, http.client, json, os, shlex, socket, subprocess, sys, time, zlib

SERVE = os.path.join(os.environ.get("top_builddir", "."), "tests", "http-serve")
# make check-valgrind runs the helper under memcheck through this prefix.
WRAP = shlex.split(os.environ.get("ATREST_TEST_WRAPPER", ""))
TEXT_CT = "text/plain; version=0.0.4; charset=utf-8"
OM_CT = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROM_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
               "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
n = 0
failed = False


def ok(cond, what, diag=None):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, what))
    if not cond:
        failed = True
        if diag is not None:
            print("# " + str(diag)[:2000].replace("\n", "\n# "))
    sys.stdout.flush()


class Server:
    def __init__(self, *args):
        self.p = subprocess.Popen([*WRAP, SERVE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.ports = []

    def start(self, count=1):
        for _ in range(count):
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError("http-serve failed: " + self.p.stderr.read())
            self.ports.append(int(line))
        return self

    def stop(self):
        self.p.terminate()
        return self.p.wait(timeout=5)


def get(port, path, headers=None, method="GET", host="127.0.0.1"):
    c = http.client.HTTPConnection(host, port, timeout=5)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


def without_scrapes(text):
    return "\n".join(l for l in text.split("\n") if not l.startswith("atrest_scrapes_total"))


def main():
    s = Server("--listen", "127.0.0.1:0", "--listen", "[::1]:0").start(2)
    p4, p6 = s.ports

    r, b = get(p4, "/metrics")
    text = b.decode()
    ok(r.status == 200 and r.getheader("Content-Type") == TEXT_CT, "/metrics defaults to text 0.0.4",
       r.getheader("Content-Type"))
    ok(r.getheader("Content-Encoding") is None and "atrest_check_status{" in text and "# EOF" not in text,
       "plain text body without # EOF")
    ok(r.getheader("Vary") == "Accept, Accept-Encoding", "Vary names the negotiated headers")

    r, b = get(p4, "/metrics", {"Accept": PROM_ACCEPT})
    om = b.decode()
    ok(r.getheader("Content-Type") == OM_CT and om.endswith("# EOF\n"), "Prometheus' Accept gets OpenMetrics")
    r, b = get(p4, "/metrics", {"Accept": "text/plain;version=0.0.4;q=0.5,application/openmetrics-text;q=0.4"})
    ok(r.getheader("Content-Type") == TEXT_CT, "text preferred by q gets text")

    r, b = get(p4, "/metrics", {"Accept-Encoding": "gzip"})
    ok(r.getheader("Content-Encoding") == "gzip" and r.getheader("Content-Type") == TEXT_CT, "gzip when accepted")
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    plain = d.decompress(b).decode()
    ok(d.eof and not d.unused_data, "one complete gzip member, nothing after it")
    ok(without_scrapes(plain) == without_scrapes(text), "gzip body decodes to the text body", plain[-300:])
    ok(gzip.decompress(b).decode() == plain, "python's gzip reads it too (CRC and size checked)")
    r, b = get(p4, "/metrics", {"Accept-Encoding": "gzip", "Accept": PROM_ACCEPT})
    ok(gzip.decompress(b).decode().endswith("# EOF\n") and r.getheader("Content-Type") == OM_CT,
       "gzip OpenMetrics ends with # EOF")
    r, b = get(p4, "/metrics", {"Accept-Encoding": "gzip;q=0, deflate"})
    ok(r.getheader("Content-Encoding") is None, "no gzip when refused")

    def scrapes():
        _, b = get(p4, "/metrics")
        return [int(l.split()[1]) for l in b.decode().split("\n") if l.startswith("atrest_scrapes_total")][0]
    a = scrapes()
    ok(scrapes() == a + 1, "atrest_scrapes_total counts each scrape")

    r, b = get(p4, "/metrics", method="HEAD")
    ok(r.status == 200 and b == b"" and r.getheader("Content-Type") == TEXT_CT, "HEAD: headers, no body")

    r, b = get(p4, "/report")
    rep = json.loads(b)
    ok(r.status == 200 and r.getheader("Content-Type") == "application/json" and rep["verdict"] == "noncompliant",
       "/report is the JSON report")
    r, b = get(p4, "/healthz")
    ok(r.status == 200 and b == b"ok\n", "/healthz ok while the loop ticks")
    r, b = get(p4, "/")
    html = b.decode()
    ok(r.status == 200 and r.getheader("Content-Type") == "text/html; charset=utf-8" and
       'class="verdict noncompliant"' in html and "<script" not in html, "landing page")

    for path in ("/nope", "/metrics/", "/metricsx", "//metrics", "/healthz/x"):
        r, _ = get(p4, path)
        ok(r.status == 404, "404 for %s" % path, r.status)
    for m in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
        r, _ = get(p4, "/metrics", method=m)
        ok(r.status == 405 and r.getheader("Allow") == "GET, HEAD", "405 for %s" % m, r.status)

    c = http.client.HTTPConnection("127.0.0.1", p4, timeout=5)
    c.request("GET", "/healthz")
    r1 = c.getresponse(); r1.read()
    sock1 = c.sock
    c.request("GET", "/metrics")
    r2 = c.getresponse(); r2.read()
    ok(r1.status == 200 and r2.status == 200 and c.sock is sock1 and r2.getheader("Connection") != "close",
       "keep-alive: two requests on one connection")
    c.close()

    r, b = get(p6, "/metrics", host="::1")
    ok(r.status == 200 and b"atrest_verdict" in b, "IPv6 listener")
    ok(s.stop() == 0, "server exits cleanly on SIGTERM")

    # Connection limit 2, one thread: a third connection waits in the
    # kernel's backlog until a slot frees, then is served.
    s = Server("--limit", "2", "--timeout", "3", "--threads", "1").start()
    port = s.ports[0]
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
    time.sleep(0.2)
    third = socket.create_connection(("127.0.0.1", port), timeout=1.0)
    third.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        got = third.recv(100)
    except socket.timeout:
        got = None
    ok(got is None, "a third connection is not served while two are held", got)
    for sk in idle:
        sk.close()
    third.settimeout(2)
    got = third.recv(100)
    ok(got.startswith(b"HTTP/1.1 200"), "the third is served once a slot frees", got)
    third.close()

    # Idle connections are closed after the per-connection timeout (1 s).
    s.stop()
    s = Server("--timeout", "1").start()
    port = s.ports[0]
    sk = socket.create_connection(("127.0.0.1", port))
    sk.settimeout(5)
    t0 = time.time()
    try:
        data = sk.recv(10)
    except (ConnectionError, OSError):
        data = b""
    took = time.time() - t0
    ok(data == b"" and 0.5 < took < 3, "idle connection closed by the server after %.1f s" % took)
    sk.close()
    r, b = get(port, "/healthz")
    ok(r.status == 200, "still serving after closing an idle connection")
    s.stop()

    s = Server("--stale").start()
    r, _ = get(s.ports[0], "/healthz")
    ok(r.status == 200, "fresh server is healthy")
    time.sleep(3.2)
    r, b = get(s.ports[0], "/healthz")
    ok(r.status == 503, "/healthz 503 when the loop stops ticking", b)
    r, b = get(s.ports[0], "/metrics")
    ok(r.status == 200, "/metrics still serves the last snapshot")
    s.stop()

    s = Server("--empty").start()
    r, _ = get(s.ports[0], "/metrics")
    ok(r.status == 503, "/metrics 503 before the first evaluation")
    r, _ = get(s.ports[0], "/healthz")
    ok(r.status == 200, "/healthz 200 before the first evaluation")
    s.stop()

    for bad in ("nonsense", "127.0.0.1", "127.0.0.1:99999", "[::1:80", "::1:80", "127.0.0.1:-1"):
        p = subprocess.run([*WRAP, SERVE, "--listen", bad], capture_output=True, text=True, timeout=5)
        ok(p.returncode == 1 and "bad listen address" in p.stderr, "refuses --listen %s" % bad, p.stderr)
    busy = Server().start()
    p = subprocess.run([*WRAP, SERVE, "--listen", "127.0.0.1:%d" % busy.ports[0]], capture_output=True, text=True, timeout=5)
    ok(p.returncode == 1 and "Address already in use" in p.stderr, "a port in use is an error", p.stderr)
    busy.stop()

    print("1..%d" % n)
    return 1 if failed else 0


sys.exit(main())
