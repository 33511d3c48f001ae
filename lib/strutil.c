/* SPDX-License-Identifier: Apache-2.0 */
/* Implementation of the string helpers in strutil.h. */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>

#include "strutil.h"

const char *tristate_to_string(enum tristate t)
{
	switch (t) {
	case TRI_TRUE:
		return "true";
	case TRI_FALSE:
		return "false";
	default:
		return "unknown";
	}
}

char *strstrip(char *s)
{
	char *e;

	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*e = '\0';
	return s;
}

int safe_atou64(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s)
		return -EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int safe_atoi(const char *s, int *ret)
{
	long v;
	char *end;

	if (!s)
		return -EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s) && *s != '-')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

int safe_atou(const char *s, unsigned *ret)
{
	uint64_t v;
	int r = safe_atou64(s, &v);

	if (r < 0)
		return r;
	if (v > UINT_MAX)
		return -ERANGE;
	*ret = (unsigned)v;
	return 0;
}

int safe_atod_seconds(const char *s, double *ret)
{
	double v;
	char *end;

	if (!s)
		return -EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s) && *s != '.')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE || !isfinite(v))
		return -ERANGE;
	while (isspace((unsigned char)*end))
		end++;
	if (*end || v < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

void unoctal_inplace(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

bool strcaseeq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	return *a == *b;
}

int strnatcmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *sa = a, *sb = b;
			size_t la, lb;
			int c;

			while (*sa == '0' && isdigit((unsigned char)sa[1]))
				sa++;
			while (*sb == '0' && isdigit((unsigned char)sb[1]))
				sb++;
			for (a = sa; isdigit((unsigned char)*a); a++)
				;
			for (b = sb; isdigit((unsigned char)*b); b++)
				;
			la = (size_t)(a - sa);
			lb = (size_t)(b - sb);
			if (la != lb)
				return la < lb ? -1 : 1;
			c = strncmp(sa, sb, la);
			if (c)
				return c;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

char *strprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

char *strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static bool strbuf_reserve(struct strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *p;

	if (sb->oom)
		return false;
	if (extra > SIZE_MAX - sb->len - 1) {
		sb->oom = true;
		return false;
	}
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(sb->buf, cap);
	if (!p) {
		sb->oom = true;
		return false;
	}
	sb->buf = p;
	sb->cap = cap;
	return true;
}

void strbuf_append_n(struct strbuf *sb, const char *s, size_t n)
{
	if (!strbuf_reserve(sb, n))
		return;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void strbuf_append(struct strbuf *sb, const char *s)
{
	strbuf_append_n(sb, s, strlen(s));
}

void strbuf_putc(struct strbuf *sb, char c)
{
	strbuf_append_n(sb, &c, 1);
}

void strbuf_vappendf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0) {
		sb->oom = true;
		return;
	}
	if (!strbuf_reserve(sb, (size_t)n))
		return;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vappendf(sb, fmt, ap);
	va_end(ap);
}

char *strbuf_steal(struct strbuf *sb)
{
	char *p;

	if (sb->oom) {
		strbuf_done(sb);
		return NULL;
	}
	/* Nothing appended: still a string, "" (the buffer is fresh memory). */
	if (!sb->buf) {
		if (!strbuf_reserve(sb, 0))
			return NULL;
		sb->buf[0] = '\0';
	}
	p = sb->buf;
	*sb = (struct strbuf){ 0 };
	return p;
}

void strbuf_done(struct strbuf *sb)
{
	free(sb->buf);
	*sb = (struct strbuf){ 0 };
}

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t strv_length(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int strv_push(char ***v, char *s)
{
	size_t n = strv_length(*v);
	char **nv;

	if (!s)
		return -ENOMEM;
	nv = realloc(*v, (n + 2) * sizeof(char *));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[n] = s;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

int strv_extend(char ***v, const char *s)
{
	return strv_push(v, strdup(s));
}

bool strv_contains(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (streq(*v, s))
			return true;
	return false;
}

bool strv_contains_case(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (strcaseeq(*v, s))
			return true;
	return false;
}

int strv_split_ws(const char *s, char ***ret)
{
	_cleanup_strv_free_ char **v = NULL;
	int r;

	v = calloc(1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	while (s && *s) {
		size_t n;

		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		for (n = 0; s[n] && !isspace((unsigned char)s[n]); n++)
			;
		r = strv_push(&v, strndup(s, n));
		if (r < 0)
			return r;
		s += n;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

char *strv_join(char *const *v, const char *sep)
{
	struct strbuf sb = { 0 };

	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			strbuf_append(&sb, sep);
		strbuf_append(&sb, v[i]);
	}
	return strbuf_steal(&sb);
}

char **strv_copy_or_null(char *const *v)
{
	char **n = calloc(1, sizeof(char *));

	if (!n)
		return NULL;
	for (; v && *v; v++)
		if (strv_extend(&n, *v) < 0) {
			strv_free(n);
			return NULL;
		}
	return n;
}

int line_next(const char *text, size_t len, size_t *off, size_t max, char **ret_line)
{
	const char *start, *nl;
	size_t ll;

	if (*off >= len)
		return 0;
	start = text + *off;
	nl = memchr(start, '\n', len - *off);
	ll = nl ? (size_t)(nl - start) : len - *off;
	*off += ll + 1;
	if (ll > max || memchr(start, '\0', ll))
		return -E2BIG;
	*ret_line = strndup(start, ll);
	return *ret_line ? 1 : -ENOMEM;
}
