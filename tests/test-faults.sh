#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The fault matrix: the real binary against broken IMDS answers, damaged
# sysfs/procfs trees and corrupt LUKS headers (see tests/faults.py).
PY=${PYTHON3:-python3}
command -v "$PY" >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not found"; exit 0; }
command -v "${CRYPTSETUP:-cryptsetup}" >/dev/null 2>&1 || { echo "1..0 # SKIP cryptsetup not found (fixture LUKS headers)"; exit 0; }
exec "$PY" "${top_srcdir:-.}/tests/faults.py" "$@"
