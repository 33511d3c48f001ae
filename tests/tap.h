/* SPDX-License-Identifier: Apache-2.0 */
/* A small in-tree TAP producer for unit tests, read by automake's
 * tap-driver.sh. A test that cannot run prints "1..0 # SKIP reason". */
#pragma once

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned tap_count, tap_failures;

static inline bool tap_ok_(bool cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline bool tap_ok_(bool cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%s %u - ", cond ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond) {
		tap_failures++;
		printf("#   at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                \
	({                                                                    \
		long long _g = (long long)(got), _w = (long long)(want);      \
		bool _r = tap_ok_(_g == _w, __FILE__, __LINE__, __VA_ARGS__); \
		if (!_r)                                                      \
			printf("#   got %lld, want %lld\n", _g, _w);          \
		_r;                                                           \
	})

#define is_str(got, want, ...)                                                      \
	({                                                                          \
		const char *_g = (got), *_w = (want);                               \
		bool _eq = (_g && _w) ? strcmp(_g, _w) == 0 : _g == _w;             \
		bool _r = tap_ok_(_eq, __FILE__, __LINE__, __VA_ARGS__);            \
		if (!_r)                                                            \
			printf("#   got \"%s\", want \"%s\"\n", _g ? _g : "(null)", \
			       _w ? _w : "(null)");                                 \
		_r;                                                                 \
	})

static inline void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* A whole file, NUL-terminated (malloc'ed), its length in *ret_len unless
 * NULL; NULL when it cannot be read or memory runs out. */
static inline char *tap_read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap = cap * 2 + 4096 + 1);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return buf;
}

/* One skipped test, as automake's TAP driver counts it (SKIP, not PASS). */
static inline void tap_skip(const char *reason)
{
	printf("ok %u # SKIP %s\n", ++tap_count, reason);
}

static inline void tap_skip_all(const char *reason)
{
	printf("1..0 # SKIP %s\n", reason);
	exit(0);
}

/* Prints the plan; returns the process exit status. */
static inline int tap_done(void)
{
	printf("1..%u\n", tap_count);
	return tap_failures ? 1 : 0;
}
