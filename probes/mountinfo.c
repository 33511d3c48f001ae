/* SPDX-License-Identifier: Apache-2.0 */
/* /proc/self/mountinfo: a pure parser (hostile input: malformed lines are
 * skipped and counted, sizes bounded) and the path -> mount lookup. */
#include "config.h"

#include "probes.h"

#define MOUNT_MAX_ENTRIES 65536
#define MOUNT_MAX_LINE 65536

static void mount_entry_done(struct mount_entry *e)
{
	free(e->root);
	free(e->mountpoint);
	free(e->fstype);
	free(e->source);
	free(e->super_options);
}

void mount_table_done(struct mount_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		mount_entry_done(&t->v[i]);
	free(t->v);
	*t = (struct mount_table){ 0 };
}

static int dup_unescaped(const char *s, char **ret)
{
	char *c = strdup(s);

	if (!c)
		return -ENOMEM;
	unoctal_inplace(c);
	*ret = c;
	return 0;
}

/* "36 35 98:0 /root /mnt rw,noatime [optional...] - ext4 /dev/sda1 rw".
 * Returns -EINVAL for a malformed line, -ENOMEM. */
static int parse_line(const char *line, struct mount_entry *ret)
{
	_cleanup_strv_free_ char **f = NULL;
	struct mount_entry e = { 0 };
	size_t n, sep;
	int r;

	r = strv_split_ws(line, &f);
	if (r < 0)
		return r;
	n = strv_length(f);
	for (sep = 6; sep < n && !streq(f[sep], "-"); sep++)
		;
	/* fstype and source must follow the separator; super options may not. */
	if (sep >= n || n - sep < 3)
		return -EINVAL;
	if (safe_atoi(f[0], &e.id) < 0 || safe_atoi(f[1], &e.parent_id) < 0)
		return -EINVAL;
	if (sscanf(f[2], "%u:%u", &e.major, &e.minor) != 2 || f[4][0] != '/')
		return -EINVAL;
	if (dup_unescaped(f[3], &e.root) < 0 || dup_unescaped(f[4], &e.mountpoint) < 0 ||
	    dup_unescaped(f[sep + 1], &e.fstype) < 0 || dup_unescaped(f[sep + 2], &e.source) < 0 ||
	    (sep + 3 < n && dup_unescaped(f[sep + 3], &e.super_options) < 0)) {
		mount_entry_done(&e);
		return -ENOMEM;
	}
	*ret = e;
	return 0;
}

static int table_push(struct mount_table *t, size_t *cap, const struct mount_entry *e)
{
	if (t->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		struct mount_entry *v = realloc(t->v, nc * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		*cap = nc;
	}
	t->v[t->n++] = *e;
	return 0;
}

int mountinfo_parse(const char *text, size_t len, struct mount_table *ret, size_t *ret_skipped)
{
	struct mount_table t = { 0 };
	size_t cap = 0, skipped = 0;

	if (!text && len > 0)
		return -EINVAL;
	for (size_t off = 0;;) {
		_cleanup_free_ char *line = NULL;
		struct mount_entry e;
		int r = line_next(text, len, &off, MOUNT_MAX_LINE, &line);

		if (r == 0)
			break;
		if (r == -E2BIG || (r > 0 && t.n >= MOUNT_MAX_ENTRIES)) {
			skipped++; /* too long, embedded NUL, or too many */
			continue;
		}
		if (r < 0) {
			mount_table_done(&t);
			return r;
		}
		if (isempty(strstrip(line)))
			continue;
		r = parse_line(line, &e);
		if (r == -EINVAL) {
			skipped++;
			continue;
		}
		if (r >= 0) {
			r = table_push(&t, &cap, &e);
			if (r < 0)
				mount_entry_done(&e);
		}
		if (r < 0) {
			mount_table_done(&t);
			return r;
		}
	}
	*ret = t;
	if (ret_skipped)
		*ret_skipped = skipped;
	return 0;
}

/* Whether mountpoint m covers path p on a component boundary. */
static size_t covers(const char *m, const char *p, size_t plen)
{
	size_t ml = strlen(m);

	while (ml > 1 && m[ml - 1] == '/')
		ml--;
	if (ml == 1 && m[0] == '/')
		return 1;
	if (ml > plen || strncmp(m, p, ml) != 0)
		return 0;
	return ml == plen || p[ml] == '/' ? ml : 0;
}

int mount_table_find_path(const struct mount_table *t, const char *path)
{
	size_t plen, best_len = 0;
	int best = -1;

	if (!t || !path || path[0] != '/')
		return -1;
	plen = strlen(path);
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	for (size_t i = 0; i < t->n; i++) {
		size_t l;

		if (!t->v[i].mountpoint)
			continue;
		l = covers(t->v[i].mountpoint, path, plen);
		/* >= : the last of stacked mounts is the visible one. */
		if (l > 0 && l >= best_len) {
			best_len = l;
			best = (int)i;
		}
	}
	return best;
}
