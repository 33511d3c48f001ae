#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The ARM lookups end to end with the real binary (see tests/test-arm-e2e.py).
PY=${PYTHON3:-python3}
command -v "$PY" >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not found"; exit 0; }
exec "$PY" "${top_srcdir:-.}/tests/test-arm-e2e.py"
