#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A fake Azure IMDS on loopback for tests, with fault injection.

Usage: imds-server.py --port-file FILE [--log FILE] [--docs DIR]...

Binds 127.0.0.1 on an ephemeral port, writes the port to FILE once
listening, serves until killed. Routes by path prefix:
  /doc/<name>/metadata/instance?api-version=V      document <name>
  /doc/<name>/metadata/instance/compute?...        its compute part
  /doc/<name>/metadata/versions                    the GetVersions list
  /doc/<name>/metadata/identity/oauth2/token?...   the GetIdentityToken body
  /fault/<kind>[.<tag>]/...                        a fault (see FAULTS)
  /arm/<scenario>[.<tag>]/metadata/...             IMDS for an ARM scenario:
                                                   instance doc and token
  /armapi/<scenario>[.<tag>]/subscriptions/...     the ARM side (use it as
                                                   --arm-url .../armapi/<s>)
A <tag> gives stateful faults (flaky) a counter of their own. ARM requests
need "Authorization: Bearer <token>" (--token, default below), else 401;
see ARM_SCENARIOS. The /doc/ token endpoint answers 400 "Identity not found"
(no identity) so tests never send anything towards a real ARM.
Like IMDS, a request without "Metadata: true" or with X-Forwarded-For gets
400, and /metadata/instance without api-version gets 400.
--log FILE appends one JSON line per request (method, path, query, headers,
time).
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

    def __init__(self, addr, handler, docs, log, token=None):
        super().__init__(addr, handler)
        self.docs = docs
        self.log = log
        self.token = token or DEFAULT_TOKEN

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
                 "query": url.query, "time": time.time(),
                 "headers": {k: v for k, v in self.headers.items()}}
        with LOG_LOCK, open(self.server.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    # --- routing -------------------------------------------------------
    def do_GET(self):
        url = urlsplit(self.path)
        self.log_request_line(url)
        query = parse_qs(url.query)
        if url.path.startswith("/armapi/"):
            return arm_route(self, url, query)
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
        if family == "arm":
            return arm_imds(self, name, rest, query)
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
            return self.send_json(400, TOKEN_NO_IDENTITY)
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

    def throttled(self, status, retry_after):
        body = json.dumps({"error": "Too many requests"})
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Retry-After", retry_after)
        self.end_headers()
        self.wfile.write(body.encode())

    def fault_429ra1(self, name, rest, version):
        """429 with Retry-After: 1 on the first request, then the document."""
        with STATE_LOCK:
            n = COUNTERS.get(name, 0)
            COUNTERS[name] = n + 1
        if n == 0:
            return self.throttled(429, "1")
        return self.send_body(200, self.sample_body())

    def fault_429ra60(self, name, rest, version):
        """429 with Retry-After: 60, always."""
        return self.throttled(429, "60")

    def fault_503date(self, name, rest, version):
        """503 with Retry-After as an HTTP date 2 s ahead, then the document."""
        with STATE_LOCK:
            n = COUNTERS.get(name, 0)
            COUNTERS[name] = n + 1
        if n == 0:
            return self.throttled(503, self.date_time_string(time.time() + 2))
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
    "429ra1": Handler.fault_429ra1,
    "429ra60": Handler.fault_429ra60,
    "503date": Handler.fault_503date,
    "closed": Handler.fault_closed,
}


# --- the ARM side ------------------------------------------------------

DEFAULT_TOKEN = "eyJ0eXAiOiJKV1QifQ.fake-arm-token.c2lnbmF0dXJl"
TOKEN_NO_IDENTITY = {"error": "invalid_request",
                     "error_description": "Identity not found"}
ARM_DIR = os.path.join(HERE, "samples", "arm")
SUB = "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333"
RG = SUB + "/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Compute"
VM_ID = RG + "/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/3"
PLAIN_VM_ID = RG + "/virtualMachines/examplevm"
DISK_IDS = {"os": RG + "/disks/aks-nodepool1-12345678-vmss_OsDisk_1_abc",
            "data0": RG + "/disks/pvc-data0", "data1": RG + "/disks/pvc-data1"}
DES1 = SUB + "/resourceGroups/rg-keys/providers/Microsoft.Compute/diskEncryptionSets/des1"
DES2 = SUB + "/resourceGroups/rg-keys/providers/Microsoft.Compute/diskEncryptionSets/des2"
KIND_API = {"vm": "2024-11-01", "disk": "2023-04-02", "des": "2023-04-02"}
CMK = ("EncryptionAtRestWithCustomerKey", DES1)
BOTH = ("EncryptionAtRestWithPlatformAndCustomerKeys", DES1)
PMK = ("EncryptionAtRestWithPlatformKey", None)
ALL_CMK = {"os": CMK, "data0": CMK, "data1": CMK}
AKS_SUB = "/subscriptions/8c56d827-5f07-45ce-8f2b-6c5001db5c6f"
AKS_RG = AKS_SUB + "/resourceGroups/MC_rg-aks_aks-prod_westeurope/providers/Microsoft.Compute"
AKS_PV = ("pvc-5a0f3c2e-8d4b-4e1f-9c6a-1b2d3e4f5a6b", "pvc-9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b")
AKS_DISK_IDS = {"os": AKS_RG + "/disks/aks-nodepool1-31718369-vmss000004_OsDisk_1_ca24f807e5e0549d99bb088251f7e8ef",
                "data0": AKS_RG + "/disks/" + AKS_PV[0], "data1": AKS_RG + "/disks/" + AKS_PV[1]}
AKS_PV_TAGS = [{"kubernetes.io-created-for-pv-name": pv,
                "kubernetes.io-created-for-pvc-name": pvc,
                "kubernetes.io-created-for-pvc-namespace": "shop",
                "k8s-azure-created-by": "kubernetes-azure-dd"}
               for pv, pvc in zip(AKS_PV, ("data-db-0", "web-content"))]

# A scenario: per disk (encryption type, DES id) or a fault; the VM, each
# DES and the token endpoint "ok" or a fault. Faults: an HTTP status (int),
# (429, retry_after), "malformed", "wrongtypes", "once429" (429 with
# Retry-After 1 on the first request, then ok).
ARM_SCENARIOS = {
    "cmk": {},
    "pmk": {"disks": {"os": PMK, "data0": PMK, "data1": PMK}},
    "both": {"disks": {"os": BOTH, "data0": BOTH, "data1": BOTH}},
    "mixed": {"disks": {"os": CMK, "data0": BOTH, "data1": PMK}},
    "descase": {"disks": {"os": (CMK[0], DES1.replace("rg-keys", "RG-KEYS")),
                          "data0": (CMK[0], DES1.lower()), "data1": CMK}},
    "twodes": {"disks": {"os": CMK, "data0": (CMK[0], DES2), "data1": CMK}},
    "rotationerror": {"des": {"des1": "rotationerror"}},
    # An ephemeral OS disk is no ARM resource (GET answers 404): its DES
    # is on the instance (osDisk.managedDisk.diskEncryptionSet.id), or none.
    "ephemeral": {"imds": {"ephemeral": True}, "ephemeral": True},
    "ephemeralnodes": {"imds": {"ephemeral": True}, "ephemeral": True,
                       "disks": {"os": PMK, "data0": CMK, "data1": CMK}},
    # Confidential VMs: the OS disk's DES in securityProfile (instance and
    # disk), its SSE type a platform key; and one with a platform key only.
    "cvm": {"imds": {"cvm": True}, "cvm": ("DiskWithVMGuestState", DES2,
                                           "ConfidentialVM_DiskEncryptedWithCustomerKey"),
            "disks": {"os": PMK, "data0": CMK, "data1": CMK}},
    "cvmpmk": {"imds": {"cvm": True}, "cvm": ("VMGuestStateOnly", None,
                                              "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey"),
               "disks": {"os": PMK, "data0": CMK, "data1": CMK}},
    "plainvm": {"imds": {"plainvm": True}},
    "armeahoff": {"vm_eah": False},
    "kubelettag": {"imds": {"kubelet": "11111111-2222-3333-4444-555555555555"}},
    "nodatadisks": {"imds": {"nodata": True}},
    "noimdsdiskids": {"imds": {"noids": True}},
    "vm401": {"vm": 401}, "vm403": {"vm": 403}, "vm404": {"vm": 404},
    "vm429": {"vm": (429, 3600)}, "vm500": {"vm": 500},
    "vmmalformed": {"vm": "malformed"}, "vmwrongtypes": {"vm": "wrongtypes"},
    "disk403": {"disks": {"os": CMK, "data0": 403, "data1": CMK}},
    "disk404": {"disks": {"os": 404, "data0": CMK, "data1": CMK}},
    "disk429": {"disks": {"os": (429, 3600), "data0": CMK, "data1": CMK}},
    "disk429once": {"disks": {"os": "once429", "data0": CMK, "data1": CMK}},
    "disk500": {"disks": {"os": CMK, "data0": CMK, "data1": 500}},
    "diskmalformed": {"disks": {"os": "malformed", "data0": CMK, "data1": CMK}},
    "diskwrongtypes": {"disks": {"os": "wrongtypes", "data0": CMK, "data1": CMK}},
    "disknoenc": {"disks": {"os": "noencryption", "data0": CMK, "data1": CMK}},
    "diskunknowntype": {"disks": {"os": ("EncryptionAtRestWithSomethingNew", DES1),
                                  "data0": CMK, "data1": CMK}},
    "des403": {"des": {"des1": 403}}, "des404": {"des": {"des1": 404}},
    "des500": {"des": {"des1": 500}}, "desmalformed": {"des": {"des1": "malformed"}},
    "tok400": {"token": 400}, "tok404": {"token": 404}, "tok500": {"token": 500},
    "tokmalformed": {"token": "malformed"}, "tokwrongtypes": {"token": "wrongtypes"},
    "tokbadchars": {"token": "badchars"}, "tokshortlived": {"token": "shortlived"},
    # Fixture nodes (tests/fixtures, "arm" in the scenario): the node's own
    # IMDS document, whose resourceId is VM_ID and OS disk DISK_IDS["os"].
    "fx-eah-disagree": {"doc": "eah-disagree", "vm_eah": False},
    "fx-ephemeral-des": {"doc": "ephemeral-des", "ephemeral": True},
    "fx-ephemeral-nodes": {"doc": "ephemeral-nodes", "ephemeral": True,
                           "disks": {"os": PMK, "data0": CMK, "data1": CMK}},
    "fx-cvm": {"doc": "cvm-des", "vm_eah": False,
               "cvm": ("DiskWithVMGuestState", DES2, "ConfidentialVM_DiskEncryptedWithCustomerKey"),
               "disks": {"os": PMK, "data0": CMK, "data1": CMK}},
    # The aks-pv fixture node: its own IMDS document and disk ids; the OS
    # disk and PV A (LUN 0) on a DES, PV B (LUN 1) on a platform key, each
    # PV disk tagged by the CSI driver.
    "aks": {"doc": "aks-pv", "disk_ids": AKS_DISK_IDS,
            "disks": {"os": CMK, "data0": CMK, "data1": PMK},
            "tags": {"data0": AKS_PV_TAGS[0], "data1": AKS_PV_TAGS[1]}},
    # Every disk on the DES; and the node identity without read rights on LUN 1.
    "akscmk": {"doc": "aks-pv", "disk_ids": AKS_DISK_IDS,
               "tags": {"data0": AKS_PV_TAGS[0], "data1": AKS_PV_TAGS[1]}},
    "aks403": {"doc": "aks-pv", "disk_ids": AKS_DISK_IDS,
               "disks": {"os": CMK, "data0": CMK, "data1": 403},
               "tags": {"data0": AKS_PV_TAGS[0]}},
    # The same, but ARM's tag on LUN 1 names another PV than kubelet mounts.
    "akstagconflict": {"doc": "aks-pv", "disk_ids": AKS_DISK_IDS,
                       "disks": {"os": CMK, "data0": CMK, "data1": PMK},
                       "tags": {"data0": AKS_PV_TAGS[0], "data1": {
                           "kubernetes.io-created-for-pv-name": "pvc-00000000-1111-4222-8333-444444444444"}}},
}

ARM_ERRORS = {
    401: ("InvalidAuthenticationToken", "The access token is invalid."),
    403: ("AuthorizationFailed", "The client does not have authorization to "
          "perform action over scope or the scope is invalid."),
    404: ("ResourceNotFound", "The Resource was not found."),
    429: ("TooManyRequests", "The request is being throttled."),
    500: ("InternalServerError", "Encountered internal server error."),
}


def arm_sample(name):
    with open(os.path.join(ARM_DIR, name), "rb") as f:
        return unwrap(json.loads(f.read()))


def arm_scenario(name):
    return ARM_SCENARIOS.get(name.split(".", 1)[0])


def arm_imds(handler, name, rest, query):
    """IMDS for an ARM scenario: the instance document points at ARM ids."""
    scen = arm_scenario(name)
    if scen is None:
        return handler.error(404, "Not found")
    if rest == "/metadata/identity/oauth2/token":
        return arm_token(handler, name, scen, query)
    if rest == "/metadata/versions":
        return handler.send_json(200, {"apiVersions": handler.versions()})
    if rest != "/metadata/instance":
        return handler.error(404, "Not found")
    if scen.get("doc"):
        return handler.send_json(200, handler.server.find_doc(scen["doc"]))
    return handler.send_json(200, arm_imds_doc(handler, scen.get("imds", {})))


def arm_imds_doc(handler, opts):
    doc = json.loads(handler.sample_body())
    c = doc["compute"]
    c["resourceId"] = PLAIN_VM_ID if opts.get("plainvm") else VM_ID
    c["securityProfile"]["encryptionAtHost"] = "true"
    if opts.get("cvm"):
        c["securityProfile"]["securityType"] = "ConfidentialVM"
    tags = [t for t in c.get("tagsList", [])]
    if opts.get("kubelet"):
        tags.append({"name": "aks-managed-kubeletIdentityClientID",
                     "value": opts["kubelet"]})
    c["tagsList"] = tags
    c["tags"] = ";".join("%s:%s" % (t["name"], t["value"]) for t in tags)
    sp = c["storageProfile"]
    sp["osDisk"]["diffDiskSettings"] = {"option": "Local" if opts.get("ephemeral") else ""}
    sp["osDisk"]["encryptionSettings"] = {"enabled": "false"}
    sp["osDisk"]["managedDisk"]["id"] = "" if opts.get("noids") else DISK_IDS["os"]
    data = []
    for lun in (0, 1):
        d = json.loads(json.dumps(sp["dataDisks"][0]))
        d["lun"] = str(lun)
        d["name"] = "pvc-data%d" % lun
        d["managedDisk"]["id"] = "" if opts.get("noids") else DISK_IDS["data%d" % lun]
        data.append(d)
    sp["dataDisks"] = [] if opts.get("nodata") else data
    return doc


def arm_token(handler, name, scen, query):
    kind = scen.get("token", "ok")
    if kind == 400:
        return handler.send_json(400, TOKEN_NO_IDENTITY)
    if isinstance(kind, int):
        return handler.send_json(kind, {"error": "server_error",
                                        "error_description": "failed"})
    if kind == "malformed":
        return handler.send_body(200, '{"access_token": "%s' % handler.server.token[:8])
    if kind == "wrongtypes":
        return handler.send_json(200, {"access_token": 12345, "expires_on": [],
                                       "expires_in": {}, "token_type": 7})
    token = handler.server.token
    if kind == "badchars":
        token = token + "\r\nX-Injected: yes"
    now = int(time.time())
    life = 60 if kind == "shortlived" else 86399
    handler.send_json(200, {"access_token": token, "client_id": "x",
                            "expires_in": str(life), "expires_on": str(now + life),
                            "ext_expires_in": str(life), "not_before": str(now),
                            "resource": query.get("resource", [""])[0],
                            "token_type": "Bearer"})


def arm_error(handler, status, retry_after=None):
    code, msg = ARM_ERRORS.get(status, ("Error", "Something failed."))
    body = json.dumps({"error": {"code": code, "message": msg}})
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    if retry_after is not None:
        handler.send_header("Retry-After", str(retry_after))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.close_connection = True
    handler.wfile.write(body.encode())


def arm_fault(handler, name, key, fault):
    """Serves a fault; returns False when the fault says to answer normally."""
    if fault == "once429":
        with STATE_LOCK:
            n = COUNTERS.get((name, key), 0)
            COUNTERS[(name, key)] = n + 1
        if n > 0:
            return False
        arm_error(handler, 429, 1)
        return True
    if isinstance(fault, tuple) and isinstance(fault[0], int):
        arm_error(handler, fault[0], fault[1])
    elif isinstance(fault, int):
        arm_error(handler, fault)
    elif fault == "malformed":
        handler.send_body(200, '{"properties": {"encryption": {"type": "Encrypt')
    elif fault == "wrongtypes":
        handler.send_json(200, {"properties": {"storageProfile": [], "encryption": {
            "type": 5, "diskEncryptionSetId": {}}, "securityProfile": "x",
            "activeKey": 3, "encryptionType": ["x"]}})
    else:
        return False
    return True


def disk_ids(scen):
    return scen.get("disk_ids", DISK_IDS)


def scen_vm_id(handler, scen):
    if scen.get("doc"):
        return handler.server.find_doc(scen["doc"])["compute"]["resourceId"]
    return VM_ID


def arm_resources(handler, scen):
    """Lower-cased resource id -> (kind, key)."""
    res = {VM_ID.lower(): ("vm", "vm"), PLAIN_VM_ID.lower(): ("vm", "vm"),
           scen_vm_id(handler, scen).lower(): ("vm", "vm"),
           DES1.lower(): ("des", "des1"), DES2.lower(): ("des", "des2")}
    for k, v in disk_ids(scen).items():
        if not (k == "os" and scen.get("ephemeral")):
            res[v.lower()] = ("disk", k)
    return res


def arm_disk_spec(scen, key):
    return scen.get("disks", ALL_CMK).get(key)


def arm_vm_doc(handler, scen):
    doc = arm_sample("azure-rest-api-specs_ComputeRP_2024-11-01_"
                     "VirtualMachineScaleSetVM_Get_WithVMSizeProperties.json")
    doc["id"] = scen_vm_id(handler, scen)
    sp = doc["properties"]["storageProfile"]

    def managed(key):
        m = {"storageAccountType": "Premium_LRS", "id": disk_ids(scen)[key]}
        spec = arm_disk_spec(scen, key)
        if isinstance(spec, tuple) and isinstance(spec[0], str) and spec[1]:
            m["diskEncryptionSet"] = {"id": spec[1]}
        return m
    sp["osDisk"]["managedDisk"] = managed("os")
    if scen.get("ephemeral"):
        sp["osDisk"]["diffDiskSettings"] = {"option": "Local", "placement": "ResourceDisk"}
    if scen.get("cvm"):
        enc_type, des, _ = scen["cvm"]
        prof = {"securityEncryptionType": enc_type}
        if des:
            prof["diskEncryptionSet"] = {"id": des}
        sp["osDisk"]["managedDisk"]["securityProfile"] = prof
    disk = sp["dataDisks"][0]
    sp["dataDisks"] = []
    for lun in (0, 1):
        d = json.loads(json.dumps(disk))
        d["lun"] = lun
        d["managedDisk"] = managed("data%d" % lun)
        sp["dataDisks"].append(d)
    doc["properties"]["securityProfile"] = {"encryptionAtHost": scen.get("vm_eah", True)}
    return doc


def arm_disk_doc(scen, key, spec):
    doc = arm_sample("azure-rest-api-specs_DiskRP_2025-01-02_Disk_Get.json")
    doc["id"] = disk_ids(scen)[key]
    doc["name"] = disk_ids(scen)[key].rsplit("/", 1)[1]
    doc["properties"].pop("encryptionSettingsCollection", None)
    if key in scen.get("tags", {}):
        doc["tags"] = scen["tags"][key]
    if spec == "noencryption":
        doc["properties"].pop("encryption", None)
        return doc
    enc = {"type": spec[0]}
    if spec[1]:
        enc["diskEncryptionSetId"] = spec[1]
    doc["properties"]["encryption"] = enc
    if key == "os" and scen.get("cvm"):
        _, des, sec_type = scen["cvm"]
        prof = {"securityType": sec_type}
        if des:
            prof["secureVMDiskEncryptionSetId"] = des
        doc["properties"]["securityProfile"] = prof
    return doc


def arm_des_doc(scen, key):
    if scen.get("des", {}).get(key) == "rotationerror":
        doc = arm_sample("azure-rest-api-specs_DiskRP_2025-01-02_"
                         "DiskEncryptionSet_Get_WithAutoKeyRotationError.json")
    else:
        with open(os.path.join(ARM_DIR, "azure-rest-api-specs_DiskRP_2025-01-02_"
                               "DiskEncryptionSet_Update_WithRotationToLatest"
                               "KeyVersionEnabled.json"), "rb") as f:
            doc = json.loads(f.read())["responses"]["200"]["body"]
    doc["id"] = DES1 if key == "des1" else DES2
    doc["name"] = key
    return doc


def arm_route(handler, url, query):
    parts = url.path.split("/", 3)
    if len(parts) < 4:
        return arm_error(handler, 404)
    name, rid = parts[2], "/" + parts[3]
    scen = arm_scenario(name)
    if scen is None:
        return arm_error(handler, 404)
    if handler.headers.get("Authorization") != "Bearer " + handler.server.token:
        return arm_error(handler, 401)
    found = arm_resources(handler, scen).get(rid.lower())
    if found is None:
        return arm_error(handler, 404)
    kind, key = found
    if query.get("api-version", [None])[0] != KIND_API[kind]:
        body = json.dumps({"error": {"code": "InvalidApiVersionParameter",
                                     "message": "The api-version is invalid."}})
        return handler.send_body(400, body)
    if kind == "vm":
        if not arm_fault(handler, name, key, scen.get("vm")):
            handler.send_json(200, arm_vm_doc(handler, scen))
    elif kind == "disk":
        spec = arm_disk_spec(scen, key)
        if not arm_fault(handler, name, key, spec):
            handler.send_json(200, arm_disk_doc(scen, key, spec if isinstance(
                spec, (tuple, str)) and spec != "once429" else CMK))
    elif not arm_fault(handler, name, key, scen.get("des", {}).get(key)):
        handler.send_json(200, arm_des_doc(scen, key))


def main():
    ap = argparse.ArgumentParser(description="fake Azure IMDS for tests")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--docs", action="append", default=[])
    ap.add_argument("--token", default=DEFAULT_TOKEN,
                    help="the bearer token the token endpoint hands out")
    args = ap.parse_args()

    server = Server(("127.0.0.1", 0), Handler, args.docs + DEFAULT_DOCS,
                    args.log, args.token)
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
