/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: /proc/crypto (bench_parse_proc_crypto) and /proc/cpuinfo
 * (bench_parse_cpuinfo_flags), then the hint built from both. The same
 * bytes serve as either file: each parser must skip what is not its own. */
#include "config.h"

#include "probes/bench-internal.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size), *flags, *hint;
	struct bench_crypto_driver d = { 0 };

	if (bench_parse_proc_crypto(text, "xts(aes)", &d) < 0) {
		free(text);
		return 0;
	}
	if (d.driver && d.driver[0] == '\0')
		abort(); /* an entry without a driver name is no driver */
	flags = bench_parse_cpuinfo_flags(text);
	(void)bench_cpu_has_aes(flags);
	hint = bench_faster_hint(d.driver, flags);
	free(hint);
	free(flags);
	bench_crypto_driver_done(&d);
	free(text);
	return 0;
}
