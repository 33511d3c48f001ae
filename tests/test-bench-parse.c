/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmark's host parsers, table-driven: /proc/crypto, cpuinfo flags,
 * the faster-driver hint, cgroup cpu.max and the thread count, CPU PSI. */
#include "config.h"

#include <errno.h>
#include <math.h>

#include "lib/strutil.h"
#include "probes/bench-internal.h"
#include "tests/tap.h"

static char *fixture(const char *name)
{
	const char *top = getenv("top_srcdir");
	_cleanup_free_ char *path = strprintf("%s/tests/%s", top ? top : ".", name);
	char *text = NULL;

	if (!path || bench_read_file(path, 1024 * 1024, &text) < 0)
		return NULL;
	return text;
}

/* This machine's /proc/crypto (no xts(aes) instantiated) with an AES-NI
 * module's entries appended: the internal half and the generic template. */
static void test_proc_crypto_captured(void)
{
	_cleanup_free_ char *text = fixture("probe-data/proc-crypto");
	struct bench_crypto_driver d = {};

	if (!ok(text, "captured /proc/crypto fixture readable"))
		return;
	is_int(bench_parse_proc_crypto(text, "xts(aes)", &d), 0, "captured: parses");
	is_str(d.driver, "xts-aes-aesni", "captured: xts(aes) served by xts-aes-aesni");
	is_int(d.priority, 401, "captured: priority 401");
	is_str(d.module, "aesni_intel", "captured: module aesni_intel");
	bench_crypto_driver_done(&d);
	is_int(bench_parse_proc_crypto(text, "aes", &d), 0, "captured: aes parses");
	is_str(d.driver, "aes-fixed-time", "captured: aes cipher is aes-fixed-time (priority 101)");
	bench_crypto_driver_done(&d);
	is_int(bench_parse_proc_crypto(text, "cbc(aes)", &d), 0, "captured: cbc(aes) parses");
	is_str(d.driver, "cbc(ecb(aes-fixed-time))", "captured: cbc(aes) driver");
	bench_crypto_driver_done(&d);
}

#define ENTRY(name, driver, prio, extra)                                              \
	"name         : " name "\ndriver       : " driver "\nmodule       : kernel\n" \
	"priority     : " prio "\n" extra "type         : skcipher\n\n"

static const struct {
	const char *what, *text, *driver;
	int priority;
} crypto_cases[] = {
	{ "Linux 6.10+ registers every x86 variant: the highest wins",
	  ENTRY("xts(aes)", "xts-aes-aesni", "401", "internal     : no\n")
		  ENTRY("xts(aes)", "xts-aes-aesni-avx", "500", "")
			  ENTRY("xts(aes)", "xts-aes-vaes-avx10_512", "800", "selftest     : passed\n")
				  ENTRY("xts(aes)", "xts-aes-vaes-avx2", "600", ""),
	  "xts-aes-vaes-avx10_512", 800 },
	{ "internal entries are never what dm-crypt gets",
	  ENTRY("xts(aes)", "__xts-aes-aesni", "4000", "internal     : yes\n")
		  ENTRY("xts(aes)", "xts-aes-aesni", "401", ""),
	  "xts-aes-aesni", 401 },
	{ "a failed self-test is skipped",
	  ENTRY("xts(aes)", "xts-broken", "9000", "selftest     : failed\n")
		  ENTRY("xts(aes)", "xts-aes-ce", "300", ""),
	  "xts-aes-ce", 300 },
	{ "a priority that is not a number disqualifies the entry",
	  ENTRY("xts(aes)", "xts-odd", "high", "") ENTRY("xts(aes)", "xts-aes-neonbs", "250", ""),
	  "xts-aes-neonbs", 250 },
	{ "an overflowing priority disqualifies the entry",
	  ENTRY("xts(aes)", "xts-odd", "99999999999999999999", "")
		  ENTRY("xts(aes)", "xts-aes-aesni", "401", ""),
	  "xts-aes-aesni", 401 },
	{ "a missing blank separator still splits entries",
	  "name : xts(aes)\ndriver : a\npriority : 10\nname : xts(aes)\ndriver : b\npriority : 20",
	  "b", 20 },
	{ "CRLF line ends and no final newline",
	  "name\t: xts(aes)\r\ndriver\t: xts-aes-aesni\r\npriority\t: 401", "xts-aes-aesni", 401 },
	{ "an equal priority keeps the first",
	  ENTRY("xts(aes)", "first", "300", "") ENTRY("xts(aes)", "second", "300", ""), "first", 300 },
	{ "no xts(aes) at all", ENTRY("cbc(aes)", "cbc-aes-aesni", "400", ""), NULL, 0 },
	{ "empty input", "", NULL, 0 },
	{ "lines without a colon", "garbage\n\n\nmore garbage\n: \n:::\n", NULL, 0 },
	{ "a name with no driver", "name : xts(aes)\npriority : 5\n", NULL, 0 },
	{ "a similar name is another algorithm",
	  ENTRY("xts(aes)x", "nope", "900", "") ENTRY("xts(aes-generic)", "nope2", "900", ""), NULL, 0 },
};

static void test_proc_crypto_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(crypto_cases); i++) {
		struct bench_crypto_driver d = {};

		is_int(bench_parse_proc_crypto(crypto_cases[i].text, "xts(aes)", &d), 0,
		       "proc/crypto: %s: parses", crypto_cases[i].what);
		is_str(d.driver, crypto_cases[i].driver, "proc/crypto: %s: driver",
		       crypto_cases[i].what);
		if (crypto_cases[i].driver)
			is_int(d.priority, crypto_cases[i].priority, "proc/crypto: %s: priority",
			       crypto_cases[i].what);
		bench_crypto_driver_done(&d);
	}
}

static void test_cpuinfo(void)
{
	_cleanup_free_ char *x86 = bench_parse_cpuinfo_flags(
		"processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu aes avx avx2 vaes\n"
		"bugs\t\t: spectre_v1\n\nprocessor\t: 1\nflags\t\t: fpu\n");
	_cleanup_free_ char *arm = bench_parse_cpuinfo_flags(
		"processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd aes pmull sha1\n");
	_cleanup_free_ char *none = bench_parse_cpuinfo_flags("processor : 0\nmodel name : x\n");

	is_str(x86, "fpu aes avx avx2 vaes", "cpuinfo: x86 flags of the first processor");
	is_str(arm, "fp asimd aes pmull sha1", "cpuinfo: arm64 Features");
	is_str(none, NULL, "cpuinfo: no flags line gives NULL");
	ok(bench_cpu_has_aes("fpu aes avx"), "cpuinfo: aes flag seen");
	ok(!bench_cpu_has_aes("fpu avx aesx"), "cpuinfo: aesx is not aes");
}

static const struct {
	const char *driver, *flags, *needle; /* needle NULL: no hint expected */
} hint_cases[] = {
	{ "xts-aes-aesni", "fpu aes avx avx2 vaes vpclmulqdq", "xts-aes-vaes-avx2" },
	{ "xts-aes-aesni", "aes avx avx2 vaes avx512f avx512vl", "VAES" },
	{ "xts-aes-aesni-avx", "aes avx avx2 vaes", "vaes-avx2" },
	{ "xts-aes-vaes-avx2", "aes avx avx2 vaes avx512f avx512vl", NULL },
	{ "xts-aes-vaes-avx10_256", "aes avx avx2 vaes avx512f avx512vl", NULL },
	{ "xts-aes-vaes-avx512", "aes avx avx2 vaes avx512f avx512vl", NULL },
	{ "xts-aes-aesni", "aes avx", "xts-aes-aesni-avx" },
	{ "xts-aes-aesni", "aes", NULL },
	{ "xts(ecb(aes-generic))", "aes avx", "generic" },
	{ "xts(ecb(aes-generic))", "fpu sse2", NULL },
	{ "xts-aes-neonbs", "fp asimd aes pmull", "xts-aes-ce" },
	{ "xts-aes-ce", "fp asimd aes pmull", NULL },
	{ "xts-aes-neon", "fp asimd", NULL },
	{ "xts-aes-aesni", "", NULL },
	{ "", "aes vaes avx2", NULL },
};

static void test_hint(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(hint_cases); i++) {
		_cleanup_free_ char *h = bench_faster_hint(hint_cases[i].driver, hint_cases[i].flags);
		const char *needle = hint_cases[i].needle;

		if (needle)
			ok(h && strstr(h, needle), "hint: %s on [%s] mentions %s (%s)",
			   hint_cases[i].driver, hint_cases[i].flags, needle, strna(h));
		else
			is_str(h, NULL, "hint: none for %s on [%s]", hint_cases[i].driver,
			       hint_cases[i].flags);
	}
	is_str(bench_faster_hint(NULL, "aes vaes avx2"), NULL, "hint: none without a driver");
	is_str(bench_faster_hint("xts-aes-aesni", NULL), NULL, "hint: none without flags");
}

static const struct {
	const char *text;
	int r;
	double cpus;
	unsigned affinity, threads;
} cpu_max_cases[] = {
	{ "max 100000\n", 0, 0, 2, 2 },
	{ "max", 0, 0, 4, 4 },
	{ "50000 100000\n", 0, 0.5, 2, 1 },
	{ "200000 100000", 0, 2.0, 8, 2 },
	{ "150000 100000", 0, 1.5, 4, 1 },
	{ "800000 100000", 0, 8.0, 2, 2 },
	{ "100000", 0, 1.0, 2, 1 },
	{ "", -EINVAL, 0, 0, 0 },
	{ "abc 100000", -EINVAL, 0, 0, 0 },
	{ "100 0", -EINVAL, 0, 0, 0 },
	{ "-5 100000", -EINVAL, 0, 0, 0 },
	{ "0 100000", -EINVAL, 0, 0, 0 },
	{ "1 2 3", -EINVAL, 0, 0, 0 },
	{ "max -1", -EINVAL, 0, 0, 0 },
	{ "99999999999999999999999 100000", -EINVAL, 0, 0, 0 },
};

static void test_cpu_max(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cpu_max_cases); i++) {
		double cpus = -1;
		int r = bench_parse_cpu_max(cpu_max_cases[i].text, &cpus);

		_cleanup_free_ char *label = strdup(cpu_max_cases[i].text);

		if (!label)
			continue;
		strstrip(label);
		is_int(r, cpu_max_cases[i].r, "cpu.max \"%s\": result", label);
		if (r < 0)
			continue;
		ok(fabs(cpus - cpu_max_cases[i].cpus) < 1e-9,
		   "cpu.max \"%s\": %.2f CPUs (got %.2f)", label, cpu_max_cases[i].cpus, cpus);
		is_int(bench_threads_for(cpu_max_cases[i].affinity, cpus), cpu_max_cases[i].threads,
		       "cpu.max \"%s\" with %u CPUs in the affinity mask: %u threads", label,
		       cpu_max_cases[i].affinity, cpu_max_cases[i].threads);
	}
	is_int(bench_threads_for(0, 0), 1, "threads: at least one");
	is_int(bench_threads_for(100000, 0), 1024, "threads: capped");
	ok(bench_usable_cpus() >= 1, "threads: this host has at least one usable CPU");
}

static void test_psi(void)
{
	double avg = -1;
	uint64_t total = 0;

	is_int(bench_parse_psi("some avg10=45.38 avg60=16.25 avg300=4.14 total=16931950\n"
			       "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
			       &avg, &total),
	       0, "psi: parses");
	ok(fabs(avg - 45.38) < 1e-9, "psi: avg10");
	is_int(total, 16931950, "psi: total");
	is_int(bench_parse_psi("full avg10=1.00 avg60=0.00 avg300=0.00 total=5\n", &avg, &total),
	       -EINVAL, "psi: no some line");
	is_int(bench_parse_psi("some avg10=x avg60=0 total=5\n", &avg, &total), -EINVAL,
	       "psi: bad avg10");
	is_int(bench_parse_psi("some avg10=1.0 avg60=0 total=-5\n", &avg, &total), -EINVAL,
	       "psi: negative total");
	is_int(bench_parse_psi("some avg10=nan total=5\n", &avg, &total), -EINVAL, "psi: nan");
}

static void test_loadavg(void)
{
	static const struct {
		const char *text;
		int r;
		unsigned running;
	} cases[] = {
		{ "0.16 0.44 1.03 2/345 12345\n", 0, 2 },
		{ "12.00 9.50 8.25 130/4096 99\n", 0, 130 },
		{ "0.00 0.00 0.00 0/1 1", 0, 0 },
		{ "0.16 0.44 1.03 4294967295/5 1\n", 0, 4294967295u },
		{ "0.16 0.44 1.03 4294967296/5 1\n", -EINVAL, 0 },
		{ "0.16 0.44 1.03 -1/345 1\n", -EINVAL, 0 },
		{ "0.16 0.44 1.03 2 345\n", -EINVAL, 0 },
		{ "0.16 0.44 1.03\n", -EINVAL, 0 },
		{ "0.16 0.44\n1.03 2/3 4\n", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "0.16 0.44 1.03 x/345 1\n", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned running = 777;
		int r = bench_parse_loadavg_running(cases[i].text, &running);

		is_int(r, cases[i].r, "loadavg %zu: result", i);
		if (cases[i].r == 0)
			is_int(running, cases[i].running, "loadavg %zu: running", i);
		else
			is_int(running, 777, "loadavg %zu: output untouched on error", i);
	}
}

static void test_others_average(void)
{
	double avg = 0;

	/* One other task runnable for a while: the average comes to one. */
	for (int i = 0; i < 200; i++)
		avg = bench_others_average(avg, 1, 0.005, 0.1);
	ok(fabs(avg - 1) < 1e-3, "average: steady input reached (%.4f)", avg);
	/* Time, not the number of looks, weighs a sample. */
	ok(fabs(bench_others_average(0, 1, 0.1, 0.1) - (1 - exp(-1))) < 1e-12,
	   "average: one time constant moves it 63%%");
	ok(bench_others_average(0.5, 3, 0, 0.1) == 0.5, "average: no time passed, no change");
	ok(bench_others_average(0.5, 3, -1, 0.1) == 0.5, "average: clock going back ignored");
	ok(bench_others_average(0.5, 3, NAN, 0.1) == 0.5, "average: NaN interval ignored");
	ok(fabs(bench_others_average(2, 0, 10, 0.1)) < 1e-12, "average: long quiet forgets");
	/* A blip: one 5 ms look at a kernel thread stays far under the
	 * 2-CPU threshold. */
	ok(bench_others_average(0, 1, 0.005, 0.1) < bench_busy_threshold(2),
	   "average: one blip is not busy");
	/* A neighbour keeping one CPU of two busy crosses it within 30 ms. */
	avg = 0;
	for (int i = 0; i < 6; i++)
		avg = bench_others_average(avg, 1, 0.005, 0.1);
	ok(avg > bench_busy_threshold(2), "average: a steady neighbour is busy within 30 ms");
	/* Two looks in a row at a kernel thread are not. */
	ok(bench_others_average(bench_others_average(0, 1, 0.005, 0.1), 1, 0.005, 0.1) <
		   bench_busy_threshold(1),
	   "average: two blips on one CPU are not busy");
}

static void test_busy_threshold(void)
{
	ok(fabs(bench_busy_threshold(1) - 0.25) < 1e-12, "threshold: 1 CPU, a quarter task");
	ok(fabs(bench_busy_threshold(2) - 0.25) < 1e-12, "threshold: 2 CPUs, a quarter task");
	ok(fabs(bench_busy_threshold(4) - 0.4) < 1e-12, "threshold: 4 CPUs, 0.4 tasks");
	ok(fabs(bench_busy_threshold(8) - 0.8) < 1e-12, "threshold: 8 CPUs, 0.8 tasks");
	ok(bench_busy_threshold(64) == 1.0, "threshold: big nodes, one task");
	ok(bench_busy_threshold(0) > 0, "threshold: 0 CPUs treated as one");
}

int main(void)
{
	test_proc_crypto_captured();
	test_proc_crypto_table();
	test_cpuinfo();
	test_hint();
	test_cpu_max();
	test_psi();
	test_loadavg();
	test_others_average();
	test_busy_threshold();
	return tap_done();
}
