#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The daemon's long-lived programs link only what they use: the shared
# libraries each one needs (its ELF NEEDED entries) are within its allowed
# set, and none of the evaluation's libraries (libcryptsetup, libblkid,
# libcurl, OpenSSL) is among them. The atrest program, which runs the jobs,
# does need them (so the check can fail). A sanitizer build adds its
# runtime libraries.
set -u
n=0 fails=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
# A cross build's programs run under its emulator.
run() { ${ATREST_TEST_EMULATOR:+"$ATREST_TEST_EMULATOR"} "$@"; }
B=${top_builddir:?}
needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sed 's/\.so.*//' | sort | tr '\n' ' '; }
command -v readelf >/dev/null || { echo "1..0 # SKIP readelf not installed"; exit 0; }
echo "1..5"
within() { # program, allowed libraries (without .so)
	prog=$1; shift
	for lib in $(needed "$prog"); do
		case " $* " in *" $lib "*) ;; *) echo "# $prog needs $lib"; return 1 ;; esac
	done
	return 0
}
E=$(needed "$B/atrest-evaluator") S=$(needed "$B/atrest-server") A=$(needed "$B/atrest")
echo "# atrest-evaluator: $E"
echo "# atrest-server: $S"
echo "# atrest: $A"
within "$B/atrest-evaluator" libasan libubsan libgcc_s libc libm libjson-c libinih libsystemd ld-linux-x86-64 ld-linux-aarch64
ok $? "atrest-evaluator links libc, json-c, inih and libsystemd only"
within "$B/atrest-server" libasan libubsan libgcc_s libc libm libpthread libjson-c libz libmicrohttpd ld-linux-x86-64 ld-linux-aarch64
ok $? "atrest-server links libc, json-c, zlib and libmicrohttpd only"
case "$A" in *libcryptsetup*libcurl*|*libcurl*libcryptsetup*) r=0 ;; *) r=1 ;; esac
ok $r "atrest, which runs the jobs, links libcryptsetup and libcurl (the check can tell)"
out=$(run "$B/atrest-evaluator" 2>&1); r=$?
[ $r = 3 ] && case "$out" in *"started by 'atrest daemon'"*) true ;; *) false ;; esac
ok $? "atrest-evaluator alone says who starts it (exit $r)"
out=$(run "$B/atrest-server" --listen 127.0.0.1:0 2>&1); r=$?
[ $r = 3 ] && case "$out" in *"--runtime-dir"*) true ;; *) false ;; esac
ok $? "atrest-server without --runtime-dir refuses to start (exit $r)"
[ "${fails:-0}" = 0 ]
