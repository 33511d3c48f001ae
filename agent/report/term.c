/* SPDX-License-Identifier: Apache-2.0 */
/* Terminal helpers shared by the text reporters. */
#include "config.h"

#include <inttypes.h>

#include "agent/report/term.h"
#include "lib/macro.h"

bool use_color(FILE *f)
{
	const char *term = getenv("TERM");

	if (getenv("NO_COLOR"))
		return false;
	if (term && streq(term, "dumb"))
		return false;
	return isatty(fileno(f));
}

const char *format_size(uint64_t bytes, char *buf, size_t n)
{
	static const char units[] = "BKMGTPE";
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024 && u < sizeof(units) - 2) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%" PRIu64 "B", bytes);
	else if (v < 10)
		snprintf(buf, n, "%.1f%c", v, units[u]);
	else
		snprintf(buf, n, "%.0f%c", v, units[u]);
	return buf;
}
