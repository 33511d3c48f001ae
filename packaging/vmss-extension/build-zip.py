#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Builds the VM scale set extension package (`make vmss-zip`): the zip that
# is published and that WALinuxAgent unpacks into
# /var/lib/waagent/<publisher>.<type>-<version>/. Reproducible: fixed order,
# fixed timestamps, Unix modes recorded.
#
#   build-zip.py --srcdir SRCDIR --binary ATREST [--strip PROG] OUT.zip
#
# The binary is stripped (PROG, default strip) into the package when the
# strip program accepts it, else packed as given.
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

# (path in the package, path under SRCDIR or None for the binary, mode)
LAYOUT = [
    ("HandlerManifest.json", "packaging/vmss-extension/HandlerManifest.json", 0o644),
    ("bin/atrest", None, 0o755),
    ("systemd/atrest.service", "packaging/systemd/atrest.service", 0o644),
    ("systemd/atrest.catalog", "packaging/systemd/atrest.catalog", 0o644),
]
# zip cannot store times before 1980.
EPOCH = (1980, 1, 1, 0, 0, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--strip", default="strip",
                    help="strip program, or 'none' to pack the binary as it is (already stripped)")
    ap.add_argument("out")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        binary = os.path.join(tmp, "atrest")
        r = subprocess.run([a.strip, "-o", binary, a.binary], capture_output=True) \
            if a.strip != "none" else None
        if r is None:
            shutil.copyfile(a.binary, binary)
        elif r.returncode != 0:
            print("build-zip.py: %s could not strip %s; packing it as it is" % (a.strip, a.binary),
                  file=sys.stderr)
            shutil.copyfile(a.binary, binary)
        part = a.out + ".part"
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
            for name, src, mode in LAYOUT:
                path = binary if src is None else os.path.join(a.srcdir, src)
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
