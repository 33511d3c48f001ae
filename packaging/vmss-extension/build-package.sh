#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The VM scale set extension package (README.md "Package layout"): the
# portable binary as bin/atrest, so that one package runs on every
# distribution the extension supports, with the manifest, unit and catalog.
#   build-package.sh BINARY OUT.zip
# Entries are sorted and dated SOURCE_DATE_EPOCH (else 1980): the same
# inputs give the same bytes.
set -euo pipefail
bin=${1:?usage: build-package.sh BINARY OUT.zip}
out=${2:?usage: build-package.sh BINARY OUT.zip}
here=$(cd "$(dirname "$0")" && pwd)
pkg=$(cd "$here/.." && pwd)

python3 - "$out" "$bin" "$here/HandlerManifest.json" "$pkg/systemd/atrest.service" \
	"$pkg/systemd/atrest.catalog" <<'PY'
import os, sys, time, zipfile
out, binary, manifest, unit, catalog = sys.argv[1:6]
epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
stamp = time.gmtime(max(epoch, 315532800))[:6]
entries = [("HandlerManifest.json", manifest, 0o644), ("bin/atrest", binary, 0o755),
           ("systemd/atrest.catalog", catalog, 0o644), ("systemd/atrest.service", unit, 0o644)]
tmp = out + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
    for name, path, mode in sorted(entries):
        info = zipfile.ZipInfo(name, stamp)
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())
os.replace(tmp, out)
PY
echo "vmss-extension: $out ($(stat -c %s "$out") bytes)" >&2
