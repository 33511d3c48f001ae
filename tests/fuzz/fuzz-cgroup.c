/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: cgroup v2 cpu.max (bench_parse_cpu_max), the thread count
 * derived from it, /proc/pressure/cpu (bench_parse_psi) and /proc/loadavg
 * (bench_parse_loadavg_running, the neighbour count). */
#include "config.h"

#include <math.h>

#include "probes/bench-internal.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);
	double cpus = -1, avg10;
	uint64_t total;
	unsigned running;

	if (bench_parse_cpu_max(text, &cpus) >= 0) {
		unsigned n;

		if (!isfinite(cpus) || cpus < 0)
			abort();
		n = bench_threads_for(64, cpus);
		if (n < 1 || n > 64)
			abort(); /* at least one thread, never above affinity */
	}
	if (bench_parse_psi(text, &avg10, &total) >= 0 && !(avg10 >= 0))
		abort();
	(void)bench_parse_loadavg_running(text, &running);
	free(text);
	return 0;
}
