/* SPDX-License-Identifier: Apache-2.0 */
/* Logging for the agent: one line per message on stderr, with a level.
 * Gathering code (imds/, probes/) logs only at debug level. */
#pragma once

#include "macro.h"

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_set_max_level(enum log_level level);
enum log_level log_get_max_level(void);
/* Prefix printed before each line ("atrest"); NULL restores the default. */
void log_set_ident(const char *ident);

/* Returns -abs(error) so callers can write `return log_error_errno(r, ...)`;
 * %m in fmt expands to strerror(error). */
int log_internal(enum log_level level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) log_internal(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) \
	(log_get_max_level() >= LOG_LEVEL_DEBUG ? log_internal(LOG_LEVEL_DEBUG, 0, __VA_ARGS__) : 0)
#define log_error_errno(e, ...) log_internal(LOG_LEVEL_ERROR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_LEVEL_DEBUG, (e), __VA_ARGS__)
