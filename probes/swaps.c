/* SPDX-License-Identifier: Apache-2.0 */
/* /proc/swaps: a pure parser. The header line is skipped; a filename is
 * octal-escaped by the kernel, so it holds no white space. */
#include "config.h"

#include "probes.h"

#define SWAP_MAX_ENTRIES 4096
#define SWAP_MAX_LINE 16384

void swap_table_done(struct swap_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].filename);
		free(t->v[i].type);
	}
	free(t->v);
	*t = (struct swap_table){ 0 };
}

/* "/dev/sda2 partition 4194300 0 -2" */
static int parse_line(const char *line, struct swap_entry *ret)
{
	_cleanup_strv_free_ char **f = NULL;
	struct swap_entry e = { 0 };
	int r;

	r = strv_split_ws(line, &f);
	if (r < 0)
		return r;
	if (strv_length(f) != 5 || f[0][0] == '\0')
		return -EINVAL;
	if (safe_atou64(f[2], &e.size_kib) < 0 || safe_atou64(f[3], &e.used_kib) < 0 ||
	    safe_atoi(f[4], &e.priority) < 0)
		return -EINVAL;
	e.filename = strdup(f[0]);
	e.type = strdup(f[1]);
	if (!e.filename || !e.type) {
		free(e.filename);
		free(e.type);
		return -ENOMEM;
	}
	unoctal_inplace(e.filename);
	*ret = e;
	return 0;
}

static int table_push(struct swap_table *t, const struct swap_entry *e)
{
	/* Few entries: grow one at a time. */
	struct swap_entry *v = realloc(t->v, (t->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	t->v = v;
	t->v[t->n++] = *e;
	return 0;
}

int swaps_parse(const char *text, size_t len, struct swap_table *ret, size_t *ret_skipped)
{
	struct swap_table t = { 0 };
	size_t skipped = 0;
	bool first = true;

	if (!text && len > 0)
		return -EINVAL;
	for (size_t off = 0;; first = false) {
		_cleanup_free_ char *line = NULL;
		struct swap_entry e;
		int r = line_next(text, len, &off, SWAP_MAX_LINE, &line);

		if (r == 0)
			break;
		if (r == -E2BIG || (r > 0 && t.n >= SWAP_MAX_ENTRIES)) {
			skipped++; /* too long, embedded NUL, or too many */
			continue;
		}
		if (r < 0) {
			swap_table_done(&t);
			return r;
		}
		if (isempty(strstrip(line)) || (first && startswith(line, "Filename")))
			continue;
		r = parse_line(line, &e);
		if (r == -EINVAL) {
			skipped++;
			continue;
		}
		if (r >= 0) {
			r = table_push(&t, &e);
			if (r < 0) {
				free(e.filename);
				free(e.type);
			}
		}
		if (r < 0) {
			swap_table_done(&t);
			return r;
		}
	}
	*ret = t;
	if (ret_skipped)
		*ret_skipped = skipped;
	return 0;
}
