/* SPDX-License-Identifier: Apache-2.0 */
/* Accept and Accept-Encoding parsing (RFC 9110 §12.5): a list of media
 * ranges or codings, each with parameters and an optional quality. */
#include "config.h"

#include "agent/daemon/accept.h"
#include "lib/macro.h"
#include "lib/strutil.h"

/* A slice of the header. */
struct tok {
	const char *p;
	size_t n;
};

static bool tok_eq(struct tok t, const char *s)
{
	return strlen(s) == t.n && strncasecmp(t.p, s, t.n) == 0;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static struct tok tok_trim(struct tok t)
{
	while (t.n && is_ows(*t.p)) {
		t.p++;
		t.n--;
	}
	while (t.n && is_ows(t.p[t.n - 1]))
		t.n--;
	return t;
}

int accept_parse_q(const char *s, size_t len)
{
	int v = 0, digits = 0;

	if (len == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	v = (s[0] - '0') * 1000;
	if (len == 1)
		return v;
	if (s[1] != '.' || len > 5)
		return -1;
	for (size_t i = 2; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		digits++;
		v += (s[i] - '0') * (digits == 1 ? 100 : digits == 2 ? 10 : 1);
	}
	return v > 1000 ? -1 : v;
}

/* Finds the end of the element starting at p: the next comma outside a
 * quoted string (quoted commas and escapes are part of a parameter). */
static size_t element_len(const char *p)
{
	bool quoted = false;
	size_t i;

	for (i = 0; p[i]; i++) {
		if (quoted && p[i] == '\\' && p[i + 1])
			i++;
		else if (p[i] == '"')
			quoted = !quoted;
		else if (!quoted && p[i] == ',')
			break;
	}
	return i;
}

/* Next ';'-separated piece of an element, honouring quotes. */
static bool next_piece(struct tok *rest, struct tok *piece)
{
	bool quoted = false;
	size_t i;

	if (rest->n == 0)
		return false;
	for (i = 0; i < rest->n; i++) {
		if (quoted && rest->p[i] == '\\' && i + 1 < rest->n)
			i++;
		else if (rest->p[i] == '"')
			quoted = !quoted;
		else if (!quoted && rest->p[i] == ';')
			break;
	}
	*piece = tok_trim((struct tok){ rest->p, i });
	rest->p += MIN(i + 1, rest->n);
	rest->n -= MIN(i + 1, rest->n);
	return true;
}

struct element {
	struct tok value;   /* media range or coding */
	struct tok version; /* unquoted; .p NULL when absent */
	int q;              /* thousandths; -1 malformed */
};

static void parse_param(struct tok piece, struct element *e)
{
	const char *eq = memchr(piece.p, '=', piece.n);
	struct tok name, val;

	if (!eq)
		return;
	name = tok_trim((struct tok){ piece.p, eq - piece.p });
	val = tok_trim((struct tok){ eq + 1, piece.n - (eq + 1 - piece.p) });
	if (val.n >= 2 && val.p[0] == '"' && val.p[val.n - 1] == '"')
		val = (struct tok){ val.p + 1, val.n - 2 };
	if (tok_eq(name, "q"))
		e->q = accept_parse_q(val.p, val.n);
	else if (tok_eq(name, "version"))
		e->version = val;
}

static void parse_element(struct tok t, struct element *e)
{
	struct tok piece;

	*e = (struct element){ .q = 1000 };
	if (!next_piece(&t, &e->value))
		return;
	while (next_piece(&t, &piece))
		parse_param(piece, e);
}

/* Calls fn for each element of a header. */
static void for_each_element(const char *h, void (*fn)(const struct element *e, void *ud), void *ud)
{
	while (h && *h) {
		size_t n = element_len(h);
		struct element e;

		parse_element((struct tok){ h, n }, &e);
		if (e.value.n && e.q >= 0)
			fn(&e, ud);
		h += n + (h[n] == ',');
	}
}

struct negotiation {
	int om_q;      /* -1: not named */
	int text_q[3]; /* text/plain, text/x, x/x; -1: absent */
};

static void rank_media(const struct element *e, void *ud)
{
	struct negotiation *n = ud;

	if (tok_eq(e->value, "application/openmetrics-text")) {
		if (!e->version.p || tok_eq(e->version, "1.0.0"))
			n->om_q = MAX(n->om_q, e->q);
	} else if (tok_eq(e->value, "text/plain")) {
		if (!e->version.p || tok_eq(e->version, "0.0.4"))
			n->text_q[0] = MAX(n->text_q[0], e->q);
	} else if (tok_eq(e->value, "text/*"))
		n->text_q[1] = MAX(n->text_q[1], e->q);
	else if (tok_eq(e->value, "*/*"))
		n->text_q[2] = MAX(n->text_q[2], e->q);
}

bool accept_openmetrics(const char *accept)
{
	struct negotiation n = { .om_q = -1, .text_q = { -1, -1, -1 } };
	int text_q = 0;

	for_each_element(accept, rank_media, &n);
	/* The most specific range that matches text/plain decides its quality. */
	for (size_t i = 0; i < ARRAY_SIZE(n.text_q); i++)
		if (n.text_q[i] >= 0) {
			text_q = n.text_q[i];
			break;
		}
	return n.om_q > 0 && n.om_q >= text_q;
}

struct coding {
	int gzip_q; /* -1: not named */
	int star_q;
};

static void rank_coding(const struct element *e, void *ud)
{
	struct coding *c = ud;

	if (tok_eq(e->value, "gzip") || tok_eq(e->value, "x-gzip"))
		c->gzip_q = MAX(c->gzip_q, e->q);
	else if (tok_eq(e->value, "*"))
		c->star_q = MAX(c->star_q, e->q);
}

bool accept_gzip(const char *accept_encoding)
{
	struct coding c = { -1, -1 };

	for_each_element(accept_encoding, rank_coding, &c);
	if (c.gzip_q >= 0)
		return c.gzip_q > 0;
	return c.star_q > 0;
}
