#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The NodeCondition through node-problem-detector's plugin protocol, run as
# NPD's runner would run the shipped config (see tests/npd.py).
PY=${PYTHON3:-python3}
command -v "$PY" >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not found"; exit 0; }
command -v "${CRYPTSETUP:-cryptsetup}" >/dev/null 2>&1 || { echo "1..0 # SKIP cryptsetup not found (fixture LUKS headers)"; exit 0; }
ATREST=${ATREST:-${top_builddir:-.}/atrest} exec "$PY" "${top_srcdir:-.}/tests/npd.py" "$@"
