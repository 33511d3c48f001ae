#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Builds the VM scale set extension package (`make vmss-zip`): the zip that
# is published and that WALinuxAgent unpacks into
# /var/lib/waagent/<publisher>.<type>-<version>/. Reproducible: fixed order,
# fixed timestamps, Unix modes recorded.
#
#   build-zip.py --srcdir SRCDIR --binary ATREST [--strip PROG] OUT.zip
#
# The daemon's two programs go in beside it, bin/atrest-evaluator and
# bin/atrest-server, taken from where ATREST finds them: atrest-ROLE+S (S
# what follows "atrest" in ATREST's name: atrest-portable gives
# atrest-evaluator-portable) in ATREST's directory, else in
# ../libexec/atrest/ from it. Every program is stripped (PROG, default strip)
# into the package when the strip program accepts it, else packed as given.
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

# (path in the package, path under SRCDIR or None for a program, mode)
LAYOUT = [
    ("HandlerManifest.json", "packaging/vmss-extension/HandlerManifest.json", 0o644),
    ("bin/atrest", None, 0o755),
    ("bin/atrest-evaluator", None, 0o755),
    ("bin/atrest-server", None, 0o755),
    ("systemd/atrest.service", "packaging/systemd/atrest.service", 0o644),
    ("systemd/atrest.catalog", "packaging/systemd/atrest.catalog", 0o644),
]
ROLES = ("evaluator", "server")
# zip cannot store times before 1980.
EPOCH = (1980, 1, 1, 0, 0, 0)


def helper(binary, role):
    """The program of ROLE that BINARY runs, as atrest looks for it."""
    d, base = os.path.split(os.path.abspath(binary))
    if not base.startswith("atrest"):
        sys.exit("build-zip.py: %s: the name must start with \"atrest\" "
                 "(the daemon's programs are named after it)" % binary)
    name = "atrest-%s%s" % (role, base[len("atrest"):])
    tried = [os.path.join(d, name), os.path.join(d, "..", "libexec", "atrest", name)]
    for p in tried:
        if os.path.isfile(p):
            return p
    sys.exit("build-zip.py: the daemon's %s program is missing: no %s" % (role, " nor ".join(
        os.path.normpath(p) for p in tried)))


def stripped(strip, src, dst):
    """SRC stripped into DST, or copied when STRIP is 'none' or fails."""
    r = subprocess.run([strip, "-o", dst, src], capture_output=True) if strip != "none" else None
    if r is not None and r.returncode != 0:
        print("build-zip.py: %s could not strip %s; packing it as it is" % (strip, src),
              file=sys.stderr)
    if r is None or r.returncode != 0:
        shutil.copyfile(src, dst)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--strip", default="strip",
                    help="strip program, or 'none' to pack the programs as they are (already stripped)")
    ap.add_argument("out")
    a = ap.parse_args()
    sources = {"bin/atrest": a.binary}
    sources.update({"bin/atrest-" + r: helper(a.binary, r) for r in ROLES})
    with tempfile.TemporaryDirectory() as tmp:
        programs = {}
        for name, src in sources.items():
            programs[name] = os.path.join(tmp, os.path.basename(name))
            stripped(a.strip, src, programs[name])
        part = a.out + ".part"
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
            for name, src, mode in LAYOUT:
                path = programs[name] if src is None else os.path.join(a.srcdir, src)
                info = zipfile.ZipInfo(name, EPOCH)
                info.external_attr = (0o100000 | mode) << 16
                info.create_system = 3          # Unix: the mode above counts
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(path, "rb") as f:
                    z.writestr(info, f.read())
        os.replace(part, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
