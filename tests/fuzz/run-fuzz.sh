#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make fuzz: runs each libFuzzer target for FUZZ_SECONDS over its seed corpus
# and reports executions and crashes per target. Exits 1 when any crashed.
# Usage: run-fuzz.sh TOP_SRCDIR WORKDIR TARGET...
# (run-fuzz.sh --one TOP_SRCDIR WORKDIR TARGET runs one, for xargs -P.)
set -u
one=
[ "$1" = --one ] && one=1 && shift
top_srcdir=$1 work=$2
shift 2
: "${FUZZ_SECONDS:=60}" "${FUZZ_PARALLEL:=1}" "${FUZZ_ARGS:=}" "${FUZZ_TARGET_ONLY:=}"

# The seed directories tests/fuzz/seeds.list names for a target.
listed_seeds() {
	awk -v n="$1" -v top="$top_srcdir" '$1 == n { for (i = 2; i <= NF; i++) print top "/" $i }' \
		"$top_srcdir/tests/fuzz/seeds.list" 2>/dev/null
}

# One target: its own writable corpus (new finds), artifacts and log. The
# seed corpus in the source tree is read, never written.
run_one() {
	t=$1
	name=${t##*/fuzz-}
	seeds=$top_srcdir/tests/fuzz/corpus/$name
	dict=$top_srcdir/tests/fuzz/$name.dict
	mkdir -p "$work/work/$name" "$work/crashes/$name/old" "$work/logs"
	# Keep the inputs of an earlier run, but count only this run's.
	find "$work/crashes/$name" -maxdepth 1 -type f -exec mv {} "$work/crashes/$name/old/" \;
	set -- -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/crashes/$name/"
	[ -f "$dict" ] && set -- "$@" -dict="$dict"
	[ -f "$top_srcdir/tests/fuzz/json.dict" ] && case $name in
		imds-*|arm-*|token-*) set -- "$@" -dict="$top_srcdir/tests/fuzz/json.dict" ;;
	esac
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
	"$t" "$@" $FUZZ_ARGS "$work/work/$name" "$seeds" $(listed_seeds "$name") \
		>"$work/logs/$name.log" 2>&1
	echo $? >"$work/logs/$name.rc"
}

report_one() {
	name=$1
	log=$work/logs/$name.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
	crashes=$(find "$work/crashes/$name" -maxdepth 1 -type f | wc -l)
	rc=$(cat "$work/logs/$name.rc" 2>/dev/null || echo '?')
	corpus=$(find "$work/work/$name" -type f | wc -l)
	printf '%-16s %12s %6s %8s %7s %3s\n' "$name" "${execs:-?}" "${secs:-?}" \
		"$corpus" "$crashes" "$rc"
	[ "$crashes" -eq 0 ] && [ "$rc" = 0 ]
}

if [ -n "$one" ]; then
	run_one "$1"
	exit 0
fi

targets=
for t in "$@"; do
	case $t in /*) ;; *) t=$PWD/$t ;; esac
	name=${t##*/fuzz-}
	[ -n "$FUZZ_TARGET_ONLY" ] && [ "$name" != "$FUZZ_TARGET_ONLY" ] && continue
	targets="$targets $t"
done

export FUZZ_SECONDS FUZZ_ARGS
# shellcheck disable=SC2086
printf '%s\n' $targets | xargs -P "$FUZZ_PARALLEL" -I{} sh "$0" --one "$top_srcdir" "$work" {}

status=0
printf '%-16s %12s %6s %8s %7s %3s\n' target execs secs corpus crashes rc
for t in $targets; do
	report_one "${t##*/fuzz-}" || status=1
done
[ $status = 0 ] || echo "crash inputs are under $work/crashes/; logs under $work/logs/" >&2
exit $status
