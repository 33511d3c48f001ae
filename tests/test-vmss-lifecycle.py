#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The VMSS extension's whole life driven by WALinuxAgent's own code: for each
# goal state, ExtHandlersHandler.handle_ext_handler() runs the handler's
# commands from the package's HandlerManifest.json through ExtHandlerInstance
# (download, initialize, install, enable, update, disable, uninstall) as the
# guest agent does, and report_ext_handler_status() produces what the agent
# would report to Azure. Only the wire server is stood in for: the package
# "download" copies the zip `make vmss-zip` built.
#
#   test-vmss-lifecycle.py ZIP WORKDIR IMDS_URL        (TAP on stdout)
#
# The caller puts waagent's modules on PYTHONPATH and exports
# ATREST_VMSS_ROOT (the host root the handler writes under) and
# ATREST_SYSTEMCTL (a systemctl that appends its arguments to
# $WORKDIR/systemctl.log); waagent passes its own environment on to the
# handler, as on a VM.
import json
import os
import shutil
import sys

from azurelinuxagent.common import conf, event
from azurelinuxagent.common.protocol.restapi import (Extension, ExtensionRequestedState,
                                                     ExtensionSettings, ExtHandlerPackage,
                                                     ExtHandlerPackageList, VMStatus)
from azurelinuxagent.ga import exthandlers

NAME = "Atrest.Lifecycle"
n = 0
failed = False


def ok(cond, what, diag=None):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, what))
    if not cond:
        failed = True
        if diag is not None:
            print("# " + str(diag)[:3000].replace("\n", "\n# "))
    sys.stdout.flush()


class WireServer:
    """The part of waagent's protocol the extension path uses: the package
    list for a handler and the package download."""

    def __init__(self, zip_path, versions):
        self.zip_path, self.versions = zip_path, versions

    def get_ext_handler_pkgs(self, ext_handler):
        pkgs = ExtHandlerPackageList()
        for v in self.versions:
            p = ExtHandlerPackage(version=v)
            p.uris = ["file://" + self.zip_path]
            pkgs.versions.append(p)
        return pkgs

    def download_ext_handler_pkg(self, uri, destination):
        shutil.copyfile(uri[len("file://"):], destination)
        return True

    def get_endpoint(self):
        return "127.0.0.1"


class Node:
    def __init__(self, zip_path, work, imds):
        self.work, self.imds = work, imds
        self.root = os.environ["ATREST_VMSS_ROOT"]
        self.lib = os.path.join(self.root, "var/lib/waagent")
        os.makedirs(self.lib, exist_ok=True)
        conf.__conf__.values["Lib.Dir"] = self.lib
        conf.__conf__.values["Extension.LogDir"] = os.path.join(self.root, "var/log/azure")
        event.init_event_logger(os.path.join(self.lib, "events"))
        self.wire = WireServer(zip_path, ["1.0.0", "1.0.1"])
        self.agent = exthandlers.ExtHandlersHandler(self.wire)
        self.incarnation = 0

    def goal_state(self, version, state, seq, public):
        """One goal state for the handler, processed as waagent does."""
        self.incarnation += 1
        h = Extension(name=NAME)
        h.version, h.state = version, state
        if seq is not None:
            h.settings.append(ExtensionSettings(name=NAME, sequenceNumber=seq, publicSettings=public))
        inst = exthandlers.ExtHandlerInstance(h, self.wire)
        open(self.calls_file(), "w").close()
        done = self.agent.handle_ext_handler(inst, h.settings[0] if h.settings else None,
                                             str(self.incarnation))
        vm = VMStatus(status="Ready", message="")
        self.agent.report_ext_handler_status(vm, h, True)
        return done, inst, vm.vmAgent.extensionHandlers

    def calls_file(self):
        return os.path.join(self.work, "systemctl.log")

    def calls(self):
        with open(self.calls_file()) as f:
            return [line.strip() for line in f if line.strip()]

    def ext_dir(self, version):
        return os.path.join(self.lib, "%s-%s" % (NAME, version))

    def handler_state(self, version):
        try:
            with open(os.path.join(self.ext_dir(version), "config", "HandlerState")) as f:
                return f.read()
        except OSError:
            return None

    def host(self, path):
        return os.path.join(self.root, path.lstrip("/"))


def show(step, node, version, reported):
    """The step's line in the log: what waagent reports and records."""
    h = reported[0] if reported else None
    ext = h.extension_status if h else None
    print("# %s: handler %s %s (%s), HandlerState %s, extension status %s, substatus %s; systemctl: %s" % (
        step, h.version if h else "-", h.status if h else "-", h.message if h else "-",
        node.handler_state(version),
        "%s/%s code %s" % (ext.operation, ext.status, ext.code) if ext else "-",
        [(s.name, s.status, s.code) for s in ext.substatusList] if ext else "-",
        node.calls()))


def compliance(reported):
    ext = reported[0].extension_status
    sub = {s.name: s for s in ext.substatusList}
    c = sub.get("compliance")
    return json.loads(c.message) if c else None


def main():
    zip_path, work, imds = sys.argv[1:4]
    node = Node(zip_path, work, imds)
    pub0 = {"imds": {"url": imds, "timeout": 3}, "arm": {"mode": "off"},
            "policy": {"required_paths": ["/"]}, "daemon": {"interval": 120}}
    pub1 = dict(pub0, policy={"required_paths": ["/"], "min_key_bits": 256})
    E, D, U = ExtensionRequestedState.Enabled, ExtensionRequestedState.Disabled, ExtensionRequestedState.Uninstall

    # 1. First goal state: download, install, enable with sequence 0.
    done, inst, rep = node.goal_state("1.0.0", E, 0, pub0)
    show("install+enable 1.0.0 seq 0", node, "1.0.0", rep)
    ok(done, "waagent processed the first goal state without an error")
    ok(os.path.isfile(os.path.join(node.ext_dir("1.0.0"), "bin/atrest")),
       "waagent unpacked the vmss-zip package into %s-1.0.0" % NAME)
    progs = [os.path.join(node.ext_dir("1.0.0"), "bin", p) for p in ("atrest-evaluator", "atrest-server")]
    ok(all(os.path.isfile(p) and os.access(p, os.X_OK) for p in progs),
       "the daemon's programs are beside it, executable: bin/atrest-evaluator, bin/atrest-server",
       [p for p in progs if not os.access(p, os.X_OK)])
    ok(node.handler_state("1.0.0") == "Enabled", "HandlerState is Enabled", node.handler_state("1.0.0"))
    ok(rep and rep[0].status == "Ready" and rep[0].version == "1.0.0", "the handler reports Ready, version 1.0.0",
       rep and (rep[0].status, rep[0].message))
    ext = rep[0].extension_status if rep else None
    ok(ext is not None and ext.status == "success" and ext.operation == "Enable" and ext.sequenceNumber == 0,
       "status 0.status: Enable success for sequence 0",
       ext and (ext.operation, ext.status, ext.sequenceNumber, ext.message))
    c = compliance(rep) if ext else None
    ok(c is not None and c.get("schema") == "atrest.vmss-summary/v1" and c.get("verdict"),
       "the compliance substatus carries the verdict (%s)" % (c or {}).get("verdict"), c)
    ok(node.calls() == ["daemon-reload", "enable atrest.service",
                        "--no-block reload-or-restart atrest.service"],
       "install reloaded systemd; enable enabled and (re)started the unit without blocking", node.calls())
    ok(all(os.access(node.host(p), os.X_OK) for p in (
        "/usr/local/sbin/atrest", "/usr/local/libexec/atrest/atrest-evaluator",
        "/usr/local/libexec/atrest/atrest-server")) and
       os.path.isfile(node.host("/etc/systemd/system/atrest.service")),
       "install put the binary, the daemon's programs and the unit in place")
    conf_path = node.host("/etc/atrest/atrest.conf")
    ok(os.path.isfile(conf_path) and "required_paths = /" in open(conf_path).read(),
       "enable wrote the public settings to /etc/atrest/atrest.conf")

    # 2. The same goal state again (waagent re-runs enable): a no-op.
    done, inst, rep = node.goal_state("1.0.0", E, 0, pub0)
    show("enable again, seq 0", node, "1.0.0", rep)
    ok(done and node.calls() == [], "the same sequence again asks nothing of systemd", node.calls())

    # 3. New settings with a new sequence number.
    done, inst, rep = node.goal_state("1.0.0", E, 1, pub1)
    show("settings change, seq 1", node, "1.0.0", rep)
    ext = rep[0].extension_status if rep else None
    ok(done and ext is not None and ext.sequenceNumber == 1 and ext.status == "success",
       "sequence 1 is applied and reported", ext and (ext.sequenceNumber, ext.status, ext.message))
    ok("min_key_bits = 256" in open(conf_path).read(), "the new policy is in /etc/atrest/atrest.conf")
    ok(node.calls() == ["enable atrest.service", "--no-block reload-or-restart atrest.service"],
       "a changed configuration restarts the unit", node.calls())
    ok(node.handler_state("1.0.0") == "Enabled", "HandlerState stays Enabled")

    # 4. Update to the next handler version (updateMode UpdateWithInstall).
    done, inst, rep = node.goal_state("1.0.1", E, 1, pub1)
    show("update 1.0.0 -> 1.0.1, seq 1", node, "1.0.1", rep)
    ok(done, "waagent processed the update without an error")
    ok(not os.path.exists(node.ext_dir("1.0.0")), "the old version's directory is gone")
    ok(node.handler_state("1.0.1") == "Enabled", "HandlerState of 1.0.1 is Enabled", node.handler_state("1.0.1"))
    ok(rep and rep[0].version == "1.0.1" and rep[0].status == "Ready", "the handler reports Ready, version 1.0.1",
       rep and (rep[0].version, rep[0].status))
    ext = rep[0].extension_status if rep else None
    ok(ext is not None and ext.status == "success" and ext.sequenceNumber == 1,
       "status of sequence 1 from the new version: success", ext and (ext.status, ext.message))
    ok(node.calls() == ["disable --now atrest.service", "daemon-reload", "enable atrest.service",
                        "--no-block start atrest.service"],
       "old disable stopped the unit; new install reloaded systemd; new enable started it again",
       node.calls())
    ok(os.path.isfile(conf_path) and "min_key_bits = 256" in open(conf_path).read(),
       "the old version's uninstall kept the configuration")
    ok(not os.path.exists(node.host("/var/lib/atrest/vmss-extension/update-pending")),
       "the new version's install cleared the update mark")
    log = os.path.join(node.root, "var/log/azure", NAME, "atrest-extension.log")
    ok(os.path.isfile(log) and "update from 1.0.0" in open(log).read(),
       "the new version's update command was told the version it replaces")
    ok(open(node.host("/usr/local/sbin/atrest"), "rb").read() ==
       open(os.path.join(node.ext_dir("1.0.1"), "bin/atrest"), "rb").read(),
       "the installed binary is the new version's")

    # 5. Disable.
    done, inst, rep = node.goal_state("1.0.1", D, 1, pub1)
    show("disable", node, "1.0.1", rep)
    ok(done and node.calls() == ["disable --now atrest.service"], "disable stops and disables the unit",
       node.calls())
    ok(node.handler_state("1.0.1") == "Installed", "HandlerState is Installed", node.handler_state("1.0.1"))
    ext = rep[0].extension_status if rep else None
    ok(rep and rep[0].status == "NotReady" and ext is not None and ext.operation == "Disable"
       and ext.status == "success", "the handler reports NotReady and a Disable success status",
       rep and (rep[0].status, ext and (ext.operation, ext.status)))

    # 6. Uninstall.
    done, inst, rep = node.goal_state("1.0.1", U, 1, pub1)
    show("uninstall", node, "1.0.1", rep)
    ok(done, "waagent processed the uninstall without an error")
    ok(node.calls() == ["disable --now atrest.service", "daemon-reload"],
       "uninstall stopped the unit and reloaded systemd after removing it", node.calls())
    ok(not os.path.exists(node.ext_dir("1.0.1")), "the extension directory is gone")
    ok(not any(os.path.exists(node.host(p)) for p in (
        "/usr/local/sbin/atrest", "/usr/local/libexec/atrest", "/etc/systemd/system/atrest.service",
        "/etc/systemd/system/atrest.service.d/vmss-extension.conf", "/etc/atrest/atrest.conf")),
       "uninstall removed the binary, its programs, the unit, its drop-in and the configuration it wrote")
    ok(os.path.isfile(os.path.join(node.root, "var/log/azure", NAME, "CommandExecution.log")),
       "waagent logged every command to CommandExecution.log")

    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
