#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The runtime closure of ELF programs inside an unpacked Debian root: the
# interpreter and every DT_NEEDED library, found the way ld.so would (the
# multiarch directories, then /lib and /usr/lib), read with readelf, so it
# works for any architecture and runs nothing from the root.
#
#   elf-closure.py ROOT TRIPLET [--readelf PROG] FILE...
#
# FILE is a path on the host (the program to ship). Prints, one per line, the
# paths inside ROOT to copy: every symlink on the way and the file it ends
# at, each after the directories and links it depends on. Exit 1 when a
# library cannot be found.
import os
import re
import subprocess
import sys


def readelf(prog, args, path):
    out = subprocess.run([prog, "-W"] + args + [path], check=True,
                         capture_output=True, text=True).stdout
    return out


def needed(prog, path):
    out = readelf(prog, ["-d"], path)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def interpreter(prog, path):
    out = readelf(prog, ["-l"], path)
    m = re.search(r"Requesting program interpreter: ([^\]]+)\]", out)
    return m.group(1) if m else None


def chase(root, path, chain):
    """Resolves PATH (absolute, inside ROOT) component by component,
    absolute link targets taken inside ROOT; appends every symlink met to
    CHAIN and returns the final path, or None if it does not exist."""
    parts = [p for p in path.split("/") if p]
    cur = ""
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            cur = os.path.dirname(cur)
            continue
        nxt = cur + "/" + part
        host = root + nxt
        if os.path.islink(host):
            hops += 1
            if hops > 40:
                return None
            if nxt not in chain:
                chain.append(nxt)
            target = os.readlink(host)
            base = "" if target.startswith("/") else cur
            parts = [p for p in (base + "/" + target).split("/") if p] + parts
            cur = ""
            continue
        if not os.path.lexists(host):
            return None
        cur = nxt
    return cur or "/"


def main(argv):
    root, triplet = argv[1], argv[2]
    rest = argv[3:]
    prog = "readelf"
    if rest[:1] == ["--readelf"]:
        prog, rest = rest[1], rest[2:]
    search = ["/lib/" + triplet, "/usr/lib/" + triplet, "/lib", "/usr/lib"]
    out, seen, missing = [], set(), []
    queue = []   # (host path to read, name for messages)

    def add(path):
        chain = []
        final = chase(root, path, chain)
        if final is None:
            return None
        for p in chain + [final]:
            if p not in seen:
                seen.add(p)
                out.append(p)
        return final

    for f in rest:
        queue.append((f, f))
        interp = interpreter(prog, f)
        if interp:
            if add(interp) is None:
                missing.append("%s (interpreter of %s)" % (interp, f))
    done = set()
    while queue:
        host, name = queue.pop(0)
        for lib in needed(prog, host):
            if lib in done:
                continue
            done.add(lib)
            final = None
            for d in search:
                final = add(d + "/" + lib)
                if final:
                    break
            if final is None:
                missing.append("%s (needed by %s)" % (lib, name))
                continue
            queue.append((root + final, final))
    if missing:
        for m in missing:
            print("elf-closure: not found in %s: %s" % (root, m), file=sys.stderr)
        return 1
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
