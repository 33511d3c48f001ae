#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The landing page in a real browser (Debian's chromium, headless): the
# DOM shows the verdict and one table row per check; a screenshot is kept
# when ATREST_SCREENSHOT names a file.
set -u
SERVE="${top_builddir:-.}/tests/http-serve"
CHROMIUM=$(command -v chromium || command -v chromium-browser) || { echo "1..0 # SKIP chromium not installed"; exit 0; }
T=$(mktemp -d)
cleanup() { [ -n "${SP:-}" ] && kill "$SP" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
n=0; fail=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

"$SERVE" > "$T/port" & SP=$!
i=0; until [ -s "$T/port" ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i+1)); done
URL="http://127.0.0.1:$(head -1 "$T/port")/"
FLAGS="--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
 --disable-sync --no-first-run --disable-default-apps --user-data-dir=$T/profile"

# shellcheck disable=SC2086
timeout 60 "$CHROMIUM" $FLAGS --dump-dom "$URL" > "$T/dom.html" 2> "$T/chromium.err"
ok $? "chromium --dump-dom ran"
grep -q '<span id="verdict" class="verdict noncompliant">noncompliant</span>' "$T/dom.html"
ok $? "the DOM shows the verdict"
[ "$(grep -c '<tr class="check">' "$T/dom.html")" = 11 ]
ok $? "the DOM has one row per check result (11)"
grep -q '<td class="status fail">fail</td>' "$T/dom.html"
ok $? "a failing check shows its status"
grep -q '&lt;b&gt;&amp;' "$T/dom.html"
ok $? "markup in a subject is shown as text, not parsed"
grep -q 'href="/metrics"' "$T/dom.html" && grep -q 'href="/report"' "$T/dom.html"
ok $? "links to /metrics and /report"

# shellcheck disable=SC2086
timeout 60 "$CHROMIUM" $FLAGS --window-size=1100,700 --hide-scrollbars --screenshot="$T/shot.png" "$URL" \
	>/dev/null 2>>"$T/chromium.err"
[ -s "$T/shot.png" ] && [ "$(head -c 4 "$T/shot.png" | od -An -c | tr -d ' \n')" = '211PNG' ]
ok $? "screenshot taken"
[ -n "${ATREST_SCREENSHOT:-}" ] && cp "$T/shot.png" "$ATREST_SCREENSHOT"
[ $fail = 0 ] || sed 's/^/# /' "$T/chromium.err" | tail -20
echo "1..$n"
exit $fail
