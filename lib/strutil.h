/* SPDX-License-Identifier: Apache-2.0 */
/* String helpers: bounded parsing of untrusted values, a growable buffer,
 * string vectors. Pure functions over memory. */
#pragma once

#include <stdarg.h>
#include <stdint.h>

#include "macro.h"

/* Tri-state for facts that may be true, false, or not established. */
enum tristate {
	TRI_UNKNOWN = -1,
	TRI_FALSE = 0,
	TRI_TRUE = 1,
};

const char *tristate_to_string(enum tristate t);

/* Strips leading and trailing ASCII white space in place; returns s. */
char *strstrip(char *s);

/* Strict decimal parsers: the whole string must be a number in range
 * (surrounding white space allowed). Return 0 or -EINVAL/-ERANGE. */
int safe_atou64(const char *s, uint64_t *ret);
int safe_atoi(const char *s, int *ret);
int safe_atou(const char *s, unsigned *ret);
/* Non-negative seconds with an optional fraction ("2", "0.5"). */
int safe_atod_seconds(const char *s, double *ret);

/* Decodes the \ooo escapes of /proc/self/mountinfo and /proc/swaps in place. */
void unoctal_inplace(char *s);

/* Case-insensitive ASCII comparison (resource ids, header names). */
bool strcaseeq(const char *a, const char *b);

/* Natural order: "sda2" < "sda10", "nvme2n1" < "nvme10n1". */
int strnatcmp(const char *a, const char *b);

/* asprintf that returns NULL on failure instead of an undefined pointer. */
char *strprintf(const char *fmt, ...) _printf_(1, 2);
char *strdup_or_null(const char *s);

/* Growable NUL-terminated buffer. On allocation failure it stays marked
 * failed and every later append is a no-op; check with strbuf_failed(). */
struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool oom;
};

void strbuf_append(struct strbuf *sb, const char *s);
void strbuf_append_n(struct strbuf *sb, const char *s, size_t n);
void strbuf_appendf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
void strbuf_vappendf(struct strbuf *sb, const char *fmt, va_list ap) _printf_(2, 0);
void strbuf_putc(struct strbuf *sb, char c);
static inline bool strbuf_failed(const struct strbuf *sb)
{
	return sb->oom;
}
/* Returns the buffer (never NULL unless failed) and resets sb. */
char *strbuf_steal(struct strbuf *sb);
void strbuf_done(struct strbuf *sb);

/* String vectors (NULL-terminated). */
size_t strv_length(char *const *v);
int strv_push(char ***v, char *s); /* takes ownership of s, even on failure */
int strv_extend(char ***v, const char *s);
bool strv_contains(char *const *v, const char *s);
bool strv_contains_case(char *const *v, const char *s);
/* Splits on runs of white space; empty input gives an empty vector. */
int strv_split_ws(const char *s, char ***ret);

/* The next line of text[0, len) at *off, which moves past it and its '\n':
 * a malloc'ed copy without the '\n' in *ret_line. 1 for a line, 0 at the
 * end, -E2BIG for a line longer than max bytes or holding a NUL (*off
 * still moves past it), -ENOMEM. For /proc files read whole. */
int line_next(const char *text, size_t len, size_t *off, size_t max, char **ret_line);
char *strv_join(char *const *v, const char *sep);
/* A deep copy of a vector; NULL on allocation failure. */
char **strv_copy_or_null(char *const *v);
