#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Side by side, in one run: atrest's AES-XTS figures against the tools
# people trust: `openssl speed -evp aes-{128,256}-xts -bytes 65536` for the
# user-space path and, where AF_ALG exists, `cryptsetup benchmark -c
# aes-xts-plain64 -s {256,512}` for the kernel path. Not a test: run by hand.
#
#   bench/xts-vs-openssl.sh [-r ROUNDS] [-s OPENSSL_SECONDS] [-b ATREST_BUDGET]
#                           [-x "EXTRA XTSBENCH ARGS", e.g. -x --nice0]
#
# Rounds interleave atrest and its peers so that drift on a shared host hits
# both; the table shows medians. XTSBENCH names the atrest command that
# prints the benchmark JSON (default: the in-tree driver bench/xtsbench;
# `atrest bench --format json` works too).
set -euo pipefail

rounds=5
seconds=2
budget=1
extra=
while getopts "r:s:b:x:h" opt; do
	case $opt in
	r) rounds=$OPTARG ;;
	s) seconds=$OPTARG ;;
	b) budget=$OPTARG ;;
	x) extra=$OPTARG ;;
	*) sed -n '2,13p' "$0"; exit 2 ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
find_xtsbench "$here"
need openssl openssl
need python3 python3

exec python3 - "$XTSBENCH $extra" "$rounds" "$seconds" "$budget" <<'EOF'
import json, os, re, shlex, shutil, statistics, subprocess, sys

xtsbench, rounds, seconds, budget = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
MIB = 1024 * 1024

def run(cmd):
    """Runs cmd; returns (stdout, CPU seconds the child used)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed with {p.returncode}")
    return out, ru.ru_utime + ru.ru_stime

def openssl_speed(cipher, decrypt):
    cmd = ["openssl", "speed"] + (["-decrypt"] if decrypt else []) + \
          ["-evp", cipher, "-bytes", "65536", "-seconds", seconds, "-mr"]
    out, cpu = run(cmd)
    for line in out.splitlines():
        if line.startswith("+F:"):
            return float(line.split(":")[3]), cpu   # bytes/s in -mr output
    sys.exit(f"no result from {' '.join(cmd)}")

def cryptsetup_bench(key_bits):
    out, cpu = run(["cryptsetup", "benchmark", "-c", "aes-xts-plain64", "-s", str(key_bits)])
    m = re.search(r"aes-xts\s+%db\s+([\d.]+)\s+MiB/s\s+([\d.]+)\s+MiB/s" % key_bits, out)
    return (float(m.group(1)) * MIB, float(m.group(2)) * MIB, cpu) if m else None

atrest = {}     # (engine, key_bits, dir) -> [bytes/s]
peer = {}       # (engine, key_bits, dir) -> [bytes/s]
atrest_cpu, peer_cpu, disturbed, runs = [], {}, 0, 0
kernel = None
for i in range(rounds):
    out, cpu = run(shlex.split(xtsbench) + ["--seconds", budget])
    doc = json.loads(out)
    atrest_cpu.append((doc["cpu_seconds"], cpu))
    kernel = doc["kernel"]
    for s in doc["samples"]:
        if s["threads"] != 1:
            continue
        runs += 1
        disturbed += s["disturbed"]
        for d in ("encrypt", "decrypt"):
            atrest.setdefault((s["engine"], s["key_bits"], d), []).append(s[d + "_bytes_per_second"])
    for key_bits, cipher in ((256, "aes-128-xts"), (512, "aes-256-xts")):
        for d in ("encrypt", "decrypt"):
            v, c = openssl_speed(cipher, d == "decrypt")
            peer.setdefault(("openssl", key_bits, d), []).append(v)
            peer_cpu.setdefault("openssl speed", []).append(c)
        if kernel["available"] and shutil.which("cryptsetup"):
            r = cryptsetup_bench(key_bits)
            if r:
                peer.setdefault(("kernel", key_bits, "encrypt"), []).append(r[0])
                peer.setdefault(("kernel", key_bits, "decrypt"), []).append(r[1])
                peer_cpu.setdefault("cryptsetup benchmark", []).append(r[2])

peer_name = {"openssl": "openssl speed", "kernel": "cryptsetup benchmark"}
print(f"# {rounds} rounds; medians; openssl speed -seconds {seconds}; atrest budget {budget} CPU-s")
print(f"# atrest: {xtsbench}; {doc['openssl_version']}")
print(f"{'engine':8} {'cipher/key':20} {'dir':8} {'atrest MiB/s':>12} {'peer':>21} {'peer MiB/s':>11} {'ratio':>7}")
worst = 0.0
for key in sorted(peer):
    engine, key_bits, d = key
    if key not in atrest:
        continue
    a, p = statistics.median(atrest[key]), statistics.median(peer[key])
    ratio = a / p
    worst = max(worst, abs(ratio - 1))
    cipher = f"aes-{key_bits // 2}-xts/{key_bits}"
    print(f"{engine:8} {cipher:20} {d:8} {a / MIB:12.1f} {peer_name[engine]:>21} {p / MIB:11.1f} {ratio:7.3f}")
print(f"# worst deviation {worst * 100:.1f}% (target 3%)")
if not kernel["available"]:
    print(f"# kernel path unavailable here: {kernel['reason']}")
own = sorted(c for c, _ in atrest_cpu)
ext = sorted(c for _, c in atrest_cpu)
print(f"# atrest CPU-seconds per run (whole default run, all samples): reported median {statistics.median(own):.3f} "
      f"max {own[-1]:.3f}; measured by rusage median {statistics.median(ext):.3f} max {ext[-1]:.3f}")
for name, cpus in peer_cpu.items():
    print(f"# {name} CPU-seconds per figure: median {statistics.median(cpus):.3f}")
print(f"# one-thread atrest samples flagged disturbed: {disturbed}/{runs}")
EOF
