#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A real systemd-journald, started in a private mount namespace (never on
# the host), receives the daemon's entries; read back with journalctl -o json.
set -u
JOURNALD=/lib/systemd/systemd-journald
EMIT="${top_builddir:-.}/tests/journal-emit"
PY=/usr/bin/python3

skip() { echo "1..0 # SKIP $*"; exit 0; }
[ -x "$JOURNALD" ] || skip "systemd-journald not installed"
command -v journalctl >/dev/null || skip "journalctl not installed"
command -v unshare >/dev/null || skip "unshare not installed"
[ "$(id -u)" = 0 ] || skip "needs root for a private mount namespace"
unshare --mount true 2>/dev/null || skip "cannot create a mount namespace here"
[ -x "$PY" ] || skip "no $PY"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/log"

unshare --mount --propagation private -- sh -c '
  set -e
  mount -t tmpfs -o mode=755 tmpfs /run
  mkdir -p /run/systemd/journal /run/systemd/journald.conf.d /run/log
  mount --bind "$1/log" /run/log
  printf "[Journal]\nStorage=volatile\nReadKMsg=no\nAudit=no\nForwardToSyslog=no\nRateLimitBurst=0\n" \
      > /run/systemd/journald.conf.d/test.conf
  '"$JOURNALD"' </dev/null >"$1/journald.out" 2>&1 & J=$!
  n=0; until [ -S /run/systemd/journal/socket ]; do sleep 0.02; n=$((n+1)); [ $n -lt 500 ] || exit 9; done
  $3 "$2"; rc=$?
  journalctl --sync
  kill -TERM $J; wait $J || true
  exit $rc' sh "$WORK" "$EMIT" "${ATREST_TEST_WRAPPER:-}"
rc=$?
if [ $rc -ne 0 ]; then
	echo "1..1"; echo "not ok 1 - journald run failed (rc=$rc)"; sed 's/^/# /' "$WORK/journald.out"; exit 1
fi

journalctl -D "$WORK/log/journal" -o json --no-pager > "$WORK/entries.json" 2>"$WORK/jc.err"
"$PY" - "$WORK/entries.json" <<'PYEOF'
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mine = [e for e in entries if e.get("ATREST_CHECK") or e.get("ATREST_VERDICT") or
        e.get("MESSAGE_ID") == "a9fc4226883a4c9f8d3e964fe9651105"]
n = 0
def ok(cond, what):
    global n
    n += 1
    print(("ok" if cond else "not ok"), n, "-", what)
    if not cond:
        print("#", json.dumps(mine, indent=1)[:3000].replace("\n", "\n# "))
IDS = {"pass": "4817ad8def9a4a19aee8d09b7c1da4e6", "fail": "7fc126e57ef142cbabf758e61ae8d9f5",
       "unknown": "b530ff9d9fb140c5a7e47dd59047bbb6", "not_applicable": "016ce1eb72e74c6ba2fbc0323ba34733"}
checks = [e for e in mine if "ATREST_CHECK" in e]
verdicts = [e for e in mine if "ATREST_VERDICT" in e]
ok(len(checks) == 11 + 2, "11 entries for the first evaluation, 2 for the changes (got %d)" % len(checks))
ok(len(verdicts) == 2, "two verdict entries")
ok(all(e["MESSAGE_ID"] == IDS[e["ATREST_STATUS"]] for e in checks), "MESSAGE_ID follows the status")
eah = [e for e in checks if e["ATREST_CHECK"] == "host.encryption_at_host"]
ok([e["ATREST_STATUS"] for e in eah] == ["pass", "unknown"], "host.encryption_at_host pass then unknown")
ok([e["PRIORITY"] for e in eah] == ["6", "4"], "priorities info then warning")
ok(eah[1].get("ATREST_PREVIOUS_STATUS") == "pass" and eah[1]["ATREST_SEVERITY"] == "critical"
   and eah[1]["ATREST_SUBJECT"] == "node", "fields of the change")
odd = [e for e in checks if e["ATREST_SUBJECT"] == 'we"ird\\name\n<b>&']
ok(len(odd) == 2 and odd[0]["PRIORITY"] == "3" and odd[0]["ATREST_STATUS"] == "fail",
   "a subject with a newline survives, fail+critical is err")
ok(verdicts[0]["ATREST_VERDICT"] == "noncompliant" and verdicts[0]["PRIORITY"] == "3" and
   verdicts[1]["ATREST_VERDICT"] == "indeterminate" and verdicts[1]["PRIORITY"] == "4" and
   all(v["MESSAGE_ID"] == "46de1c8c50f1496e98529ce053877f8f" for v in verdicts), "verdict entries")
ok(verdicts[1]["MESSAGE"] == "verdict: indeterminate (was noncompliant)", "verdict MESSAGE")
rel = [e for e in mine if e.get("MESSAGE_ID") == "a9fc4226883a4c9f8d3e964fe9651105"]
ok(len(rel) == 1 and rel[0]["PRIORITY"] == "3" and "unknown key" in rel[0]["MESSAGE"], "reload failure entry")
print("1..%d" % n)
PYEOF
