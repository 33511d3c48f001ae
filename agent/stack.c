/* SPDX-License-Identifier: Apache-2.0 */
/* Storage stack analysis over the gathered facts. Pure: no I/O. */
#include "config.h"

#include "agent/stack.h"
#include "lib/strutil.h"
#include "lib/sysroot.h"

/* Deeper than any real stack (disk, part, crypt, lvm, crypt, ...). */
#define MAX_STACK_DEPTH 16
#define MAX_OVERLAY_DEPTH 4

void backing_done(struct backing *b)
{
	free(b->reason);
	*b = (struct backing){ .dev = -1 };
}

const char *blockdev_display(const struct blockdev *d)
{
	return d->devnode ? d->devnode : d->name;
}

static void set_backing(struct backing *b, enum backing_kind kind, const char *fmt, ...)
	_printf_(3, 4);
static void set_backing(struct backing *b, enum backing_kind kind, const char *fmt, ...)
{
	va_list ap;
	struct strbuf sb = { 0 };

	b->kind = kind;
	va_start(ap, fmt);
	strbuf_vappendf(&sb, fmt, ap);
	va_end(ap);
	free(b->reason);
	b->reason = strbuf_steal(&sb);
}

static bool is_memory_fs(const char *fstype)
{
	static const char *const memfs[] = { "tmpfs", "ramfs",   "devtmpfs", "proc",
					     "sysfs", "cgroup2", "cgroup" };

	for (size_t i = 0; i < ARRAY_SIZE(memfs); i++)
		if (streq(fstype, memfs[i]))
			return true;
	return false;
}

/* The upperdir= of an overlay mount's super options, or NULL. */
static char *overlay_upperdir(const char *opts)
{
	const char *p;
	size_t n;

	if (!opts)
		return NULL;
	for (p = opts; (p = strstr(p, "upperdir=")); p++)
		if (p == opts || p[-1] == ',')
			break;
	if (!p)
		return NULL;
	p += strlen("upperdir=");
	n = strcspn(p, ",");
	return n ? strndup(p, n) : NULL;
}

static void resolve_mount_device(const struct facts *f, const struct mount_entry *m, unsigned depth,
				 struct backing *b);

static void resolve_path_depth(const struct facts *f, const char *path, unsigned depth,
			       struct backing *b)
{
	int i;

	if (f->mounts_src.status != SOURCE_OK) {
		set_backing(b, BACKING_UNKNOWN, "mount table unavailable: %s",
			    strna(f->mounts_src.error));
		return;
	}
	i = mount_table_find_path(&f->mounts, path);
	if (i < 0) {
		set_backing(b, BACKING_UNKNOWN, "no mount holds %s", path);
		return;
	}
	b->mount = &f->mounts.v[i];
	resolve_mount_device(f, b->mount, depth, b);
}

static void resolve_mount_device(const struct facts *f, const struct mount_entry *m, unsigned depth,
				 struct backing *b)
{
	int dev;

	if (m->major != 0) {
		dev = block_graph_find_devnum(&f->graph, m->major, m->minor);
		if (dev >= 0) {
			b->kind = BACKING_DEVICE;
			b->dev = dev;
			return;
		}
		set_backing(b, BACKING_UNKNOWN,
			    "%s is on device %u:%u, which is not among the block devices",
			    m->mountpoint, m->major, m->minor);
		return;
	}
	/* Anonymous device numbers: btrfs, overlay, tmpfs, network filesystems. */
	if (m->source && startswith(m->source, "/dev/")) {
		dev = block_graph_find_node(&f->graph, m->source);
		if (dev >= 0) {
			b->kind = BACKING_DEVICE;
			b->dev = dev;
			return;
		}
	}
	if (is_memory_fs(m->fstype)) {
		set_backing(b, BACKING_MEMORY, "%s is %s (memory)", m->mountpoint, m->fstype);
		return;
	}
	if (streq(m->fstype, "overlay")) {
		_cleanup_free_ char *upper = overlay_upperdir(m->super_options);

		if (!upper)
			set_backing(b, BACKING_UNKNOWN, "overlay at %s has no upperdir", m->mountpoint);
		else if (depth >= MAX_OVERLAY_DEPTH)
			set_backing(b, BACKING_UNKNOWN, "overlays nested too deep at %s",
				    m->mountpoint);
		else
			resolve_path_depth(f, upper, depth + 1, b);
		return;
	}
	set_backing(b, BACKING_UNKNOWN, "%s is %s from %s, not a local block device", m->mountpoint,
		    m->fstype, strna(m->source));
}

void resolve_path_backing(const struct facts *f, const char *path, struct backing *ret)
{
	*ret = (struct backing){ .dev = -1 };
	resolve_path_depth(f, path, 0, ret);
}

void resolve_swap_backing(const struct facts *f, const struct swap_entry *s, struct backing *ret)
{
	*ret = (struct backing){ .dev = -1 };
	if (s->type && streq(s->type, "file")) {
		resolve_path_depth(f, s->filename, 0, ret);
		return;
	}
	ret->dev = block_graph_find_node(&f->graph, s->filename);
	if (ret->dev < 0) {
		set_backing(ret, BACKING_UNKNOWN, "swap device %s is not among the block devices",
			    s->filename);
		return;
	}
	ret->kind = BACKING_DEVICE;
}

void crypt_walk_done(struct crypt_walk *w)
{
	free(w->reason);
	strv_free(w->mappings);
	*w = (struct crypt_walk){ .crypt_dev = -1, .plain_leaf = -1 };
}

static void walk_fail(struct crypt_walk *w, enum tristate t, int leaf, const char *fmt, ...)
	_printf_(4, 5);
static void walk_fail(struct crypt_walk *w, enum tristate t, int leaf, const char *fmt, ...)
{
	va_list ap;
	struct strbuf sb = { 0 };

	/* FALSE outranks UNKNOWN: positive evidence of a plain path wins. */
	if (w->encrypted == TRI_FALSE)
		return;
	if (t == TRI_UNKNOWN && w->encrypted == TRI_UNKNOWN && w->reason)
		return;
	w->encrypted = t;
	if (leaf >= 0)
		w->plain_leaf = leaf;
	va_start(ap, fmt);
	strbuf_vappendf(&sb, fmt, ap);
	va_end(ap);
	free(w->reason);
	w->reason = strbuf_steal(&sb);
}

static void walk(const struct block_graph *g, int i, unsigned depth, struct crypt_walk *w)
{
	const struct blockdev *d = &g->devs[i];

	if (depth > MAX_STACK_DEPTH) {
		walk_fail(w, TRI_UNKNOWN, -1, "device stack deeper than %d levels at %s (a loop?)",
			  MAX_STACK_DEPTH, blockdev_display(d));
		return;
	}
	if (d->kind == BLK_DM && !d->dm_uuid) {
		/* Without dm/uuid nobody can tell dm-crypt from LVM: unknown. */
		walk_fail(w, TRI_UNKNOWN, -1, "device-mapper device %s has no readable dm/uuid",
			  blockdev_display(d));
		return;
	}
	if (d->dm_crypt) {
		if (w->crypt_dev < 0)
			w->crypt_dev = i;
		if (!strv_contains(w->mappings, d->dm_name ? d->dm_name : d->name))
			(void)strv_extend(&w->mappings, d->dm_name ? d->dm_name : d->name);
		return;
	}
	if (d->n_slaves > 0) {
		for (size_t k = 0; k < d->n_slaves; k++)
			walk(g, d->slaves[k], depth + 1, w);
		return;
	}
	switch (d->kind) {
	case BLK_DISK:
	case BLK_PART:
	case BLK_MD:
		walk_fail(w, TRI_FALSE, i, "%s is not under dm-crypt", blockdev_display(d));
		return;
	case BLK_ZRAM:
		if (!d->zram_backing)
			return; /* RAM only: nothing reaches a disk */
		walk_fail(w, TRI_UNKNOWN, i, "%s writes back to %s", blockdev_display(d),
			  d->zram_backing);
		return;
	case BLK_DM:
		walk_fail(w, TRI_UNKNOWN, i, "device-mapper device %s (%s) lists no backing devices",
			  blockdev_display(d), strna(d->dm_uuid));
		return;
	case BLK_LOOP:
		walk_fail(w, TRI_UNKNOWN, i, "%s is a loop device; its backing file is not followed",
			  blockdev_display(d));
		return;
	default:
		walk_fail(w, TRI_UNKNOWN, i, "%s is of an unknown kind", blockdev_display(d));
		return;
	}
}

void crypt_walk_down(const struct block_graph *g, int dev, struct crypt_walk *ret)
{
	*ret = (struct crypt_walk){ .encrypted = TRI_TRUE, .crypt_dev = -1, .plain_leaf = -1 };
	if (dev < 0 || (size_t)dev >= g->n_devs) {
		walk_fail(ret, TRI_UNKNOWN, -1, "device not found");
		return;
	}
	/* zram with writeback: follow the backing device. */
	if (g->devs[dev].kind == BLK_ZRAM && g->devs[dev].zram_backing) {
		int b = block_graph_find_node(g, g->devs[dev].zram_backing);

		if (b < 0) {
			walk_fail(ret, TRI_UNKNOWN, dev, "zram writeback device %s not found",
				  g->devs[dev].zram_backing);
			return;
		}
		walk(g, b, 1, ret);
		return;
	}
	walk(g, dev, 0, ret);
	if (ret->encrypted == TRI_TRUE && ret->crypt_dev < 0 && g->devs[dev].kind != BLK_ZRAM)
		walk_fail(ret, TRI_UNKNOWN, -1, "no dm-crypt mapping found under %s",
			  blockdev_display(&g->devs[dev]));
}

static enum tristate covered_depth(const struct block_graph *g, int i, unsigned depth, const char **how)
{
	const struct blockdev *d = &g->devs[i];
	enum tristate all = TRI_TRUE;

	if (depth > MAX_STACK_DEPTH)
		return TRI_UNKNOWN;
	if (d->dm_crypt) {
		*how = d->dm_name ? d->dm_name : d->name;
		return TRI_TRUE;
	}
	if (d->kind == BLK_DM && !d->dm_uuid)
		return TRI_UNKNOWN; /* dm-crypt or not: cannot tell */
	if (d->n_holders == 0) {
		if (d->sig_type &&
		    (streq(d->sig_type, "crypto_LUKS") || streq(d->sig_type, "BitLocker"))) {
			*how = d->sig_type;
			return TRI_TRUE;
		}
		return TRI_FALSE;
	}
	for (size_t k = 0; k < d->n_holders; k++) {
		enum tristate t = covered_depth(g, d->holders[k], depth + 1, how);

		if (t == TRI_FALSE)
			return TRI_FALSE;
		if (t == TRI_UNKNOWN)
			all = TRI_UNKNOWN;
	}
	return all;
}

enum tristate covered_from_above(const struct block_graph *g, int dev, const char **ret_how)
{
	const char *how = NULL;
	enum tristate r = covered_depth(g, dev, 0, &how);

	if (ret_how)
		*ret_how = how;
	return r;
}

static bool contains_depth(const struct block_graph *g, int top, int target, unsigned depth)
{
	const struct blockdev *d = &g->devs[top];

	if (top == target)
		return true;
	if (depth > MAX_STACK_DEPTH)
		return false;
	for (size_t k = 0; k < d->n_slaves; k++)
		if (contains_depth(g, d->slaves[k], target, depth + 1))
			return true;
	return false;
}

bool stack_contains(const struct block_graph *g, int top, int target)
{
	if (top < 0 || target < 0 || (size_t)top >= g->n_devs || (size_t)target >= g->n_devs)
		return false;
	return contains_depth(g, top, target, 0);
}

char **mountpoints_over(const struct facts *f, int dev)
{
	char **v = calloc(1, sizeof(char *));

	if (!v || f->mounts_src.status != SOURCE_OK)
		return v;
	for (size_t i = 0; i < f->mounts.n; i++) {
		const struct mount_entry *m = &f->mounts.v[i];
		struct backing b = { .dev = -1 };

		b.mount = m;
		if (m->major == 0 && !(m->source && startswith(m->source, "/dev/")))
			continue;
		resolve_mount_device(f, m, 0, &b);
		if (b.kind == BACKING_DEVICE && stack_contains(&f->graph, b.dev, dev) &&
		    !strv_contains(v, m->mountpoint))
			(void)strv_extend(&v, m->mountpoint);
		free(b.reason);
	}
	return v;
}
