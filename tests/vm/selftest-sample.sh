#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Plain `make check` part of the VM test: runs selftest.py (assert.py's
# atrest assertions must pass on a correct report and catch each corruption)
# on a console log captured from a real guest, so assert.py stays honest
# without booting qemu.
PY=${PYTHON3:-python3}
command -v "$PY" > /dev/null 2>&1 || { echo "1..0 # SKIP python3 not found"; exit 0; }
dir=$(cd "$(dirname "$0")" && pwd)
exec "$PY" "$dir/selftest.py" "$dir/console-sample.log"
