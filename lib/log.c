/* SPDX-License-Identifier: Apache-2.0 */
/* stderr logger: "atrest: message" with an optional level tag. */
#include "config.h"

#include <stdarg.h>

#include "log.h"

static enum log_level max_level = LOG_LEVEL_WARNING;
static const char *ident = "atrest";

void log_set_max_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_max_level(void)
{
	return max_level;
}

void log_set_ident(const char *s)
{
	ident = s ? s : "atrest";
}

int log_internal(enum log_level level, int error, const char *fmt, ...)
{
	static const char *const tags[] = {
		[LOG_LEVEL_ERROR] = "error: ",
		[LOG_LEVEL_WARNING] = "warning: ",
		[LOG_LEVEL_INFO] = "",
		[LOG_LEVEL_DEBUG] = "debug: ",
	};
	int saved = errno;

	if (error < 0)
		error = -error;
	if (level <= max_level) {
		va_list ap;

		/* glibc's %m reads errno: make it the error being reported. */
		errno = error;
		fprintf(stderr, "%s: %s", ident, tags[level]);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	errno = saved;
	return error ? -error : -EINVAL;
}
