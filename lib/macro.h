/* SPDX-License-Identifier: Apache-2.0 */
/* Small language helpers shared by every directory: scope-bound cleanup,
 * ownership hand-over, attributes. Nothing here allocates or logs. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/syscall.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _nonnull_(...) __attribute__((nonnull(__VA_ARGS__)))
#define _warn_unused_result_ __attribute__((warn_unused_result))
#define _noreturn_ __attribute__((noreturn))
#define _pure_ __attribute__((pure))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Hand a pointer over to a new owner: returns it and clears the source. */
#define TAKE_PTR(p)                            \
	({                                     \
		__typeof__(p) _take_tmp = (p); \
		(p) = NULL;                    \
		_take_tmp;                     \
	})

/* Same for file descriptors. */
#define TAKE_FD(fd)                  \
	({                           \
		int _take_fd = (fd); \
		(fd) = -1;           \
		_take_fd;            \
	})

/* The calling thread's id. glibc wraps gettid() only since 2.30; the portable
 * build must run on 2.28 (RHEL 8). */
static inline pid_t thread_id(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static inline bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline bool isempty(const char *s)
{
	return !s || !*s;
}

static inline const char *strna(const char *s)
{
	return s ? s : "n/a";
}

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* Declares type_freep() calling func(*p) when *p is set. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
	static inline void func##p(type *p)     \
	{                                       \
		if (*p)                         \
			func(*p);               \
	}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Free a NULL-terminated or counted string vector. */
void strv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free)
#define _cleanup_strv_free_ _cleanup_(strv_freep)
