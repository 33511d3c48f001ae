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

/* Length of a mountpoint without trailing slashes ("/" stays 1). */
static size_t mp_len(const char *m)
{
	size_t l = strlen(m);

	while (l > 1 && m[l - 1] == '/')
		l--;
	return l;
}

/* Whether mountpoint m is exactly the first len bytes of a path. */
static bool mp_is(const char *m, const char *path, size_t len)
{
	return m && mp_len(m) == len && strncmp(m, path, len) == 0;
}

/* The topmost mount attached at path[0..len) on top of mount cur. Mounts
 * stacked on one point chain by parent id (each on the one it covers);
 * two attached to the same mount and point are both listed, and the later
 * one is what a lookup finds (the kernel adds it first to its hash). The
 * kernel lists a mount after the one it is attached to, so one pass in
 * table order follows the chain; a reordered table (mount --move) takes
 * more passes, and one that keeps moving, or a chain deeper than any real
 * one, is not trusted (-1). */
#define TOPMOST_MAX_PASSES 8
#define TOPMOST_MAX_CHAIN 64
static int topmost_at(const struct mount_table *t, int cur, const char *path, size_t len)
{
	int chain[TOPMOST_MAX_CHAIN];

	for (unsigned pass = 0; pass < TOPMOST_MAX_PASSES; pass++) {
		size_t depth = 1;
		int start = cur;

		chain[0] = cur;
		for (size_t i = 0; i < t->n; i++) {
			if (!mp_is(t->v[i].mountpoint, path, len))
				continue;
			for (size_t k = 0; k < depth; k++) {
				if ((int)i == chain[k] || t->v[i].parent_id != t->v[chain[k]].id)
					continue;
				/* On chain[k]: it covers what was stacked there before. */
				if (k + 1 >= TOPMOST_MAX_CHAIN)
					return -1;
				chain[k + 1] = (int)i;
				depth = k + 2;
				break;
			}
		}
		cur = chain[depth - 1];
		if (cur == start)
			return cur;
	}
	return -1;
}

/* The bottom root mount: mounted at "/" on a parent that is not itself a
 * mount at "/" of this table (in a container, the parent is outside it). */
static int root_mount(const struct mount_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		bool parent_is_root = false;

		if (!mp_is(t->v[i].mountpoint, "/", 1))
			continue;
		for (size_t k = 0; k < t->n; k++)
			if (k != i && t->v[k].id == t->v[i].parent_id &&
			    mp_is(t->v[k].mountpoint, "/", 1))
				parent_is_root = true;
		if (!parent_is_root)
			return (int)i;
	}
	return -1;
}

/* As the kernel's path walk: from the root mount, component by component,
 * into the mount attached at that point on the mount reached so far. A
 * mount whose parent directory was mounted over later is hidden, whatever
 * its mountpoint's length. */
int mount_table_find_path(const struct mount_table *t, const char *path)
{
	_cleanup_free_ char *norm = NULL;
	size_t plen = 0;
	int cur;

	if (!t || !path || path[0] != '/')
		return -1;
	/* "//var//lib/" is "/var/lib": mountinfo's mountpoints are canonical. */
	norm = malloc(strlen(path) + 1);
	if (!norm)
		return -1;
	for (const char *p = path; *p; p++)
		if (*p != '/' || plen == 0 || norm[plen - 1] != '/')
			norm[plen++] = *p;
	if (plen > 1 && norm[plen - 1] == '/')
		plen--;
	norm[plen] = '\0';
	cur = root_mount(t);
	if (cur < 0)
		return -1;
	cur = topmost_at(t, cur, "/", 1);
	for (size_t end = 2; cur >= 0 && end <= plen; end++)
		if (end == plen || norm[end] == '/')
			cur = topmost_at(t, cur, norm, end);
	return cur;
}
