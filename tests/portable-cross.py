#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The portable binary of another architecture (arm64) under qemu-user,
against the normal build on this host, on every fixture node and the same
loopback IMDS: `version`, `check --no-bench --format json` and `devices
--format json` (reports compared field by field, as tests/portable.py does
for the native one) and ARM on through the loopback ARM. The binary runs
with the Debian 11 build root's libraries of its architecture (glibc 2.31)
as qemu's -L root. Prints TAP. Environment: ATREST (normal build),
ATREST_PORTABLE (the cross binary), TEST_ROOT (qemu's -L root), EMULATOR."""
import json, os, signal, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import portable as P  # noqa: E402  (reads the same environment)

emulator = os.environ.get("EMULATOR", "qemu-aarch64-static")


def emulated(args, paths, extra_binds=()):
    return [emulator, "-L", P.root, P.portable] + args


P.chroot_cmd = emulated


def main():
    fx = P.fx
    scenarios = sorted(f[:-5] for f in os.listdir(os.path.join(fx, "scenarios")) if f.endswith(".json"))
    only = sys.argv[1:]
    if only:
        scenarios = [s for s in scenarios if s in only]
    reports = {}
    P.extension_package()
    with tempfile.TemporaryDirectory() as tmp:
        srv, port = P.start_server(tmp)
        try:
            v = P.version("emulated")
            P.ok(v is not None and v["libraries"]["libcrypto"]["running"].startswith("OpenSSL 3"),
                 f"version under {emulator}: runs, its OpenSSL built in")
            t0 = time.monotonic()
            for s in scenarios:
                P.check_and_devices(s, port, reports)
            P.diag(f"{len(scenarios)} nodes, check and devices both ways, in "
                   f"{time.monotonic() - t0:.1f} s")
            P.arm_on(port)
        finally:
            srv.send_signal(signal.SIGTERM)
            srv.wait()
    P.diag(f"field-by-field: {P.fields_total} fields compared, {P.diffs_total} differ")
    print(f"1..{P.n}")
    return 1 if P.fails else 0


if __name__ == "__main__":
    sys.exit(main())
