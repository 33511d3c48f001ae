#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The HTTP endpoint over loopback, driven by tests/http-client.py.
PY=$(command -v /usr/bin/python3 || command -v python3) || { echo "1..0 # SKIP no python3"; exit 0; }
exec "$PY" "${top_srcdir:-.}/tests/http-client.py"
