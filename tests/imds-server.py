#!/usr/bin/env python3
"""A fake Azure IMDS on loopback for tests, with fault injection.

Usage: imds-server.py --port-file FILE [--log FILE] [--docs DIR]...

Binds 127.0.0.1 on an ephemeral port, writes the port to FILE once
listening, serves until killed. Routes by path prefix:
  /doc/<name>/metadata/instance?api-version=V      document <name>
  /doc/<name>/metadata/instance/compute?...        its compute part
  /doc/<name>/metadata/versions                    the GetVersions list
  /doc/<name>/metadata/identity/oauth2/token?...   the GetIdentityToken body
  /fault/<kind>[.<tag>]/...                        a fault (see FAULTS)
A <tag> gives stateful faults (flaky) a counter of their own.
Like IMDS, a request without "Metadata: true" or with X-Forwarded-For gets
400, and /metadata/instance without api-version gets 400.
--log FILE appends one JSON line per request (method, path, query, headers).
Python 3 standard library only.
"""

import argparse
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DOCS = [os.path.join(HERE, "samples", "imds"),
                os.path.join(HERE, "fixtures", "imds")]
VERSIONS_DOC = "azure-rest-api-specs_imds_2023-07-01_GetVersions.json"
TOKEN_DOC = "azure-rest-api-specs_imds_2023-07-01_GetIdentityToken.json"
FLAKY_DOC = "azure-rest-api-specs_imds_2023-07-01_GetInstanceMetadata.json"
OLDAPI_NEWEST = "2021-02-01"

ERR_HEADER = ("Bad request. Required metadata header not specified or is "
              "invalid. For more information refer to aka.ms/azureimds")
ERR_XFF = ("Bad request. Requests with X-Forwarded-For header are not "
           "allowed. For more information refer to aka.ms/azureimds")
ERR_VERSION = ("Bad request. api-version is invalid or was not specified in "
               "the request. For more information refer to aka.ms/azureimds")
IIS_XML = ('<?xml version="1.0" encoding="utf-8"?>\r\n'
           '<Error xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
           '<Code>BadRequest</Code><Message>Bad Request - Invalid Header. '
           'HTTP Error 400. The request has an invalid header name.'
           '</Message><Details i:nil="true"/></Error>\r\n')

WRONG_TYPES = {
    "compute": {
        "name": 1, "vmId": True, "resourceId": [], "subscriptionId": {},
        "resourceGroupName": 2.5, "location": None, "vmSize": ["x"],
        "vmScaleSetName": 7, "osType": False, "azEnvironment": {},
        "zone": 3, "tags": 5, "tagsList": "a:b",
        "virtualMachineScaleSet": "id",
        "securityProfile": {"encryptionAtHost": 1, "secureBootEnabled": [],
                            "virtualTpmEnabled": {}, "securityType": 9},
        "storageProfile": {"osDisk": [], "dataDisks": {"lun": "0"},
                           "resourceDisk": "4096"},
    },
    "network": 5,
}

STATE_LOCK = threading.Lock()
COUNTERS = {}
LOG_LOCK = threading.Lock()


def unwrap(doc):
    """Swagger examples wrap the body in {parameters, responses}."""
    if isinstance(doc, dict) and "responses" in doc and "parameters" in doc:
        try:
            return doc["responses"]["200"]["body"]
        except (KeyError, TypeError):
            return doc
    return doc


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, docs, log):
        super().__init__(addr, handler)
        self.docs = docs
        self.log = log

    def find_doc(self, name):
        if not name or "/" in name or name.startswith("."):
            return None
        for d in self.docs:
            for candidate in (name, name + ".json"):
                path = os.path.join(d, candidate)
                if os.path.isfile(path):
                    with open(path, "rb") as f:
                        return unwrap(json.loads(f.read()))
        return None


class Handler(BaseHTTPRequestHandler):
    server_version = "FakeIMDS/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    # --- replies -------------------------------------------------------
    def send_body(self, status, body, ctype="application/json; charset=utf-8",
                  length=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length",
                         str(len(body) if length is None else length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def send_json(self, status, obj):
        self.send_body(status, json.dumps(obj, indent=2))

    def error(self, status, message):
        self.send_json(status, {"error": message})

    # --- request log ---------------------------------------------------
    def log_request_line(self, url):
        if not self.server.log:
            return
        entry = {"method": self.command, "path": url.path,
                 "query": url.query,
                 "headers": {k: v for k, v in self.headers.items()}}
        with LOG_LOCK, open(self.server.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    # --- routing -------------------------------------------------------
    def do_GET(self):
        url = urlsplit(self.path)
        self.log_request_line(url)
        query = parse_qs(url.query)
        if self.headers.get("X-Forwarded-For") is not None:
            return self.error(400, ERR_XFF)
        if self.headers.get("Metadata") != "true":
            return self.error(400, ERR_HEADER)
        parts = url.path.split("/", 3)
        if len(parts) < 4 or parts[0] != "":
            return self.error(404, "Not found")
        _, family, name, rest = parts
        rest = "/" + rest
        version = query.get("api-version", [None])[0]
        if rest.startswith("/metadata/instance") and version is None:
            return self.error(400, ERR_VERSION)
        if family == "doc":
            return self.route_doc(name, rest, version)
        if family == "fault":
            return self.route_fault(name, rest, version)
        return self.error(404, "Not found")

    def do_POST(self):
        self.log_request_line(urlsplit(self.path))
        self.error(405, "Not allowed")

    do_PUT = do_POST
    do_DELETE = do_POST

    def versions(self):
        doc = self.server.find_doc(VERSIONS_DOC)
        return doc["apiVersions"] if doc else []

    def route_doc(self, name, rest, version):
        if rest == "/metadata/versions":
            return self.send_json(200, {"apiVersions": self.versions()})
        if rest == "/metadata/identity/oauth2/token":
            return self.send_json(200, self.server.find_doc(TOKEN_DOC))
        if rest not in ("/metadata/instance", "/metadata/instance/compute"):
            return self.error(404, "Not found")
        if version not in self.versions():
            return self.error(400, ERR_VERSION)
        doc = self.server.find_doc(name)
        if doc is None:
            return self.error(404, "Not found")
        if rest.endswith("/compute") and isinstance(doc, dict) and "compute" in doc:
            doc = doc["compute"]
        return self.send_json(200, doc)

    def route_fault(self, name, rest, version):
        kind = name.split(".", 1)[0]
        handler = FAULTS.get(kind)
        if handler is None:
            return self.error(404, "Not found")
        return handler(self, name, rest, version)

    # --- faults --------------------------------------------------------
    def sample_body(self):
        return json.dumps(self.server.find_doc(FLAKY_DOC), indent=2)

    def fault_400xml(self, name, rest, version):
        self.send_body(400, IIS_XML, "application/xml; charset=utf-8")

    def fault_410(self, name, rest, version):
        self.send_body(410, b"", "text/plain")

    def fault_truncated(self, name, rest, version):
        body = self.sample_body()
        self.send_body(200, body[: len(body) // 2])

    def fault_wrongtypes(self, name, rest, version):
        self.send_json(200, WRONG_TYPES)

    def fault_nested(self, name, rest, version):
        self.send_body(200, "[" * 10000 + "]" * 10000)

    def fault_huge(self, name, rest, version):
        # No Content-Length: the client learns the size only by reading.
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = b'{"compute": {"name": "' + b"x" * 65536
        try:
            for _ in range(50 * 1024 * 1024 // len(chunk)):
                self.wfile.write(chunk)
                chunk = b"x" * 65536
        except (BrokenPipeError, ConnectionResetError):
            pass

    def wait_for_close(self, seconds):
        """Returns when the client hangs up or after seconds."""
        self.connection.settimeout(seconds)
        try:
            while self.connection.recv(4096):
                pass
        except (OSError, socket.timeout):
            pass
        self.close_connection = True

    def fault_hang(self, name, rest, version):
        self.wait_for_close(600)

    def fault_drip(self, name, rest, version):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        self.close_connection = True
        try:
            for _ in range(1200):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.5)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def fault_invalidutf8(self, name, rest, version):
        body = self.sample_body().replace('"examplevmname"', '"example\udcffvm"', 1)
        self.send_body(200, body.encode("utf-8", "surrogateescape"))

    def fault_empty(self, name, rest, version):
        self.send_body(200, b"")

    def fault_html(self, name, rest, version):
        self.send_body(200, "<html><head><title>Proxy login</title></head>"
                       "<body><h1>Please log in</h1></body></html>\n",
                       "text/html; charset=utf-8")

    def fault_oldapi(self, name, rest, version):
        versions = [v for v in self.versions() if v <= OLDAPI_NEWEST]
        if rest == "/metadata/versions":
            return self.send_json(200, {"apiVersions": versions})
        if version not in versions:
            return self.error(400, ERR_VERSION)
        doc = json.loads(self.sample_body())
        doc["compute"].pop("securityProfile", None)
        doc["compute"].pop("tagsList", None)
        return self.send_json(200, doc)

    def fault_flaky(self, name, rest, version):
        with STATE_LOCK:
            n = COUNTERS.get(name, 0)
            COUNTERS[name] = n + 1
        if n == 0:
            return self.error(500, "Server error")
        if n == 1:
            return self.fault_410(name, rest, version)
        return self.send_body(200, self.sample_body())

    def fault_closed(self, name, rest, version):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def status_fault(status, message):
    def fault(self, name, rest, version):
        return self.error(status, message)
    return fault


FAULTS = {
    "400json": status_fault(400, ERR_VERSION),
    "400xml": Handler.fault_400xml,
    "404": status_fault(404, "Not found"),
    "405": status_fault(405, "Not allowed"),
    "410": Handler.fault_410,
    "429": status_fault(429, "Too many requests"),
    "500": status_fault(500, "Server error"),
    "503": status_fault(503, "Service unavailable"),
    "truncated": Handler.fault_truncated,
    "wrongtypes": Handler.fault_wrongtypes,
    "nested": Handler.fault_nested,
    "huge": Handler.fault_huge,
    "hang": Handler.fault_hang,
    "drip": Handler.fault_drip,
    "invalidutf8": Handler.fault_invalidutf8,
    "empty": Handler.fault_empty,
    "html": Handler.fault_html,
    "oldapi": Handler.fault_oldapi,
    "flaky": Handler.fault_flaky,
    "closed": Handler.fault_closed,
}


def main():
    ap = argparse.ArgumentParser(description="fake Azure IMDS for tests")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--docs", action="append", default=[])
    args = ap.parse_args()

    server = Server(("127.0.0.1", 0), Handler, args.docs + DEFAULT_DOCS,
                    args.log)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
