#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds every fixture node and checks it with tools independent of atrest
# (python path resolution, util-linux blkid/lsblk, cryptsetup): TAP output.

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
FIX="$srcdir/tests/fixtures"
PY=${PYTHON3:-python3}
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null)
if [ -z "$PY" ]; then
	echo "1..0 # SKIP python3 not found"
	exit 0
fi
# Resolve wrappers (pyenv shims cost seconds per start) to the interpreter.
PY=$("$PY" -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=
if [ -z "$PY" ]; then
	echo "1..0 # SKIP python3 does not run"
	exit 0
fi
PATH=$PATH:/usr/sbin:/sbin
CS=${CRYPTSETUP:-$(command -v cryptsetup 2>/dev/null)}
[ -n "$CS" ] && [ -x "$CS" ] || CS=
HAVE_LSBLK=; lsblk --sysroot / -J -o NAME >/dev/null 2>&1 && HAVE_LSBLK=1
HAVE_BLKID=; command -v blkid >/dev/null 2>&1 && HAVE_BLKID=1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/atrest-fixtures.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT INT TERM

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $* # SKIP"; }
# check DESCRIPTION CMD...: one TAP line, the command's stderr as diagnostics.
check() {
	d=$1; shift
	if "$@" 2>"$WORK/err"; then ok "$d"; else notok "$d"; sed 's/^/# /' "$WORK/err"; fi
}

# Build all nodes in parallel: each is independent and cryptsetup dominates.
for f in "$FIX"/scenarios/*.json; do
	s=$(basename "$f" .json)
	(CRYPTSETUP=$CS "$PY" "$FIX/mknode.py" "$f" "$WORK/$s" >"$WORK/$s.log" 2>&1; echo $? >"$WORK/$s.rc") &
done
wait

for f in "$FIX"/scenarios/*.json; do
	s=$(basename "$f" .json)
	R=$WORK/$s
	if [ "$(cat "$WORK/$s.rc")" = 0 ]; then ok "$s: builds"; else
		notok "$s: builds"; sed 's/^/# /' "$WORK/$s.log"; continue
	fi
	"$PY" "$FIX/checktree.py" all "$R" "$f" "$FIX" "${HAVE_LSBLK:-0}" "$WORK/luks" >"$WORK/all" 2>&1
	while IFS= read -r line; do
		case $line in
		"not ok "*) notok "${line#not ok }" ;;
		"ok "*) ok "${line#ok }" ;;
		*) echo "$line" ;;
		esac
	done <"$WORK/all"
	grep -q "expected statuses" "$WORK/all" || notok "$s: checktree.py all ran to the end"
	[ -n "$HAVE_LSBLK" ] || skip "$s: lsblk --sysroot not available"
	while IFS='	' read -r name ver cipher bits hdr uuid; do
		if [ -z "$CS" ] || [ -z "$HAVE_BLKID" ]; then
			skip "$s: $name: cryptsetup or blkid absent"
			continue
		fi
		case $ver in
		plain|missing)
			# No header anywhere: blkid must find no signature at all.
			out=$(blkid -p -o export "$hdr" 2>/dev/null)
			if [ -z "$out" ]; then ok "$s: $name: no header ($ver)"; else
				notok "$s: $name: no header ($ver)"; echo "$out" | sed 's/^/# /'; fi
			case $ver:$uuid in
			plain:CRYPT-PLAIN-"$name") ok "$s: $name: dm uuid $uuid" ;;
			missing:CRYPT-LUKS2-*-"$name") ok "$s: $name: dm uuid claims LUKS2" ;;
			*) notok "$s: $name: dm uuid $uuid" ;;
			esac
			continue
			;;
		esac
		out=$(blkid -p -o export "$hdr" 2>&1)
		if echo "$out" | grep -qx 'TYPE=crypto_LUKS' && echo "$out" | grep -qx "VERSION=$ver"; then
			ok "$s: $name: blkid sees LUKS$ver on ${hdr#$R}"
		else
			notok "$s: $name: blkid sees LUKS$ver on ${hdr#$R}"; echo "$out" | sed 's/^/# /'
		fi
		"$CS" luksDump "$hdr" >"$WORK/dump" 2>&1
		if [ "$ver" = 2 ]; then
			got_c=$(sed -n 's/^[[:space:]]*cipher:[[:space:]]*//p' "$WORK/dump" | head -n1)
			got_b=$(sed -n 's/^[[:space:]]*Key:[[:space:]]*\([0-9]*\) bits/\1/p' "$WORK/dump" | head -n1)
		else
			got_c=$(sed -n 's/^Cipher name:[[:space:]]*//p' "$WORK/dump")-$(sed -n 's/^Cipher mode:[[:space:]]*//p' "$WORK/dump")
			got_b=$(sed -n 's/^MK bits:[[:space:]]*//p' "$WORK/dump")
		fi
		if [ "$got_c" = "$cipher" ] && [ "$got_b" = "$bits" ]; then
			ok "$s: $name: luksDump says $cipher $bits bits"
		else
			notok "$s: $name: luksDump says $cipher $bits bits"; echo "# got '$got_c' '$got_b'"
		fi
		hu=$("$CS" luksUUID "$hdr" 2>/dev/null | tr -d -)
		case $uuid in
		CRYPT-LUKS$ver-$hu-$name) ok "$s: $name: dm uuid names the header's UUID" ;;
		*) notok "$s: $name: dm uuid names the header's UUID"; echo "# $uuid vs $hu" ;;
		esac
	done <"$WORK/luks"
done

# The generator is deterministic: a second build of a LUKS node carries the
# same UUIDs (expected outputs and crypttab lines rely on it).
s=gen2-luks-data
if CRYPTSETUP=$CS "$PY" "$FIX/mknode.py" "$FIX/scenarios/$s.json" "$WORK/again" 2>"$WORK/err" &&
   cmp -s "$WORK/$s/sys/devices/virtual/block/dm-0/dm/uuid" "$WORK/again/sys/devices/virtual/block/dm-0/dm/uuid" &&
   cmp -s "$WORK/$s/etc/crypttab" "$WORK/again/etc/crypttab"; then
	ok "mknode is deterministic"
else
	notok "mknode is deterministic"; sed 's/^/# /' "$WORK/err"
fi

# Refuses to overwrite a non-empty directory (run-node.sh relies on it).
if "$PY" "$FIX/mknode.py" "$FIX/scenarios/$s.json" "$WORK/again" 2>/dev/null; then
	notok "mknode refuses a non-empty OUTDIR"
else
	ok "mknode refuses a non-empty OUTDIR"
fi

# run-node.sh builds once and then serves the cache.
p1=$(TMPDIR=$WORK CRYPTSETUP=$CS PYTHON3=$PY sh "$FIX/run-node.sh" swap-zram 2>"$WORK/err")
p2=$(TMPDIR=$WORK CRYPTSETUP=$CS PYTHON3=$PY sh "$FIX/run-node.sh" swap-zram 2>>"$WORK/err")
if [ -n "$p1" ] && [ "$p1" = "$p2" ] && [ -f "$p1/proc/swaps" ]; then
	ok "run-node.sh prints a cached sysroot"
else
	notok "run-node.sh prints a cached sysroot"; sed 's/^/# /' "$WORK/err"
fi
if TMPDIR=$WORK sh "$FIX/run-node.sh" no-such-scenario >/dev/null 2>&1; then
	notok "run-node.sh rejects an unknown scenario"
else
	ok "run-node.sh rejects an unknown scenario"
fi

echo "1..$n"
[ "$failed" = 0 ]
