#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Integration: the real binary over every fixture node (see tests/nodes.py).
PY=${PYTHON3:-python3}
command -v "$PY" >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not found"; exit 0; }
command -v "${CRYPTSETUP:-cryptsetup}" >/dev/null 2>&1 || { echo "1..0 # SKIP cryptsetup not found (fixture LUKS headers)"; exit 0; }
exec "$PY" "${top_srcdir:-.}/tests/nodes.py" "$@"
