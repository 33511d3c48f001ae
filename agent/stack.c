/* SPDX-License-Identifier: Apache-2.0 */
/* Storage stack analysis over the gathered facts. Pure: no I/O. Every
 * answer follows every layer, member and slave, and says unknown when one
 * of them cannot be resolved: a dropped branch could be the plain one. */
#include "config.h"

#include "agent/stack.h"
#include "lib/strutil.h"
#include "lib/sysroot.h"

/* Deeper than any real stack (disk, part, crypt, lvm, crypt, ...). */
#define MAX_STACK_DEPTH 16
#define MAX_OVERLAY_DEPTH 4
/* More layers than any overlay a container runtime builds (the kernel
 * allows 500 lower layers). */
#define MAX_PARTS 1024

const char *blockdev_display(const struct blockdev *d)
{
	return d->devnode ? d->devnode : d->name;
}

/* ---- where the data lives -------------------------------------------- */

void backing_done(struct backing *b)
{
	for (size_t i = 0; i < b->n_parts; i++) {
		free(b->parts[i].what);
		free(b->parts[i].reason);
	}
	free(b->parts);
	*b = (struct backing){ 0 };
}

static struct backing_part *part_new(struct backing *b, enum backing_kind kind,
				     const struct mount_entry *m, const char *what)
{
	struct backing_part *v, *p;

	if (b->n_parts >= MAX_PARTS)
		return NULL;
	v = realloc(b->parts, (b->n_parts + 1) * sizeof(*v));
	if (!v)
		return NULL;
	b->parts = v;
	p = &v[b->n_parts++];
	*p = (struct backing_part){ .kind = kind, .dev = -1, .mount = m };
	p->what = what ? strdup(what) : NULL;
	return p;
}

static void add_device(struct backing *b, int dev, const struct mount_entry *m, const char *what)
{
	struct backing_part *p = part_new(b, BACKING_DEVICE, m, what);

	if (p)
		p->dev = dev;
}

static void add_other(struct backing *b, enum backing_kind kind, const struct mount_entry *m,
		      const char *what, const char *fmt, ...) _printf_(5, 6);
static void add_other(struct backing *b, enum backing_kind kind, const struct mount_entry *m,
		      const char *what, const char *fmt, ...)
{
	struct backing_part *p = part_new(b, kind, m, what);
	struct strbuf sb = { 0 };
	va_list ap;

	if (!p)
		return;
	va_start(ap, fmt);
	strbuf_vappendf(&sb, fmt, ap);
	va_end(ap);
	p->reason = strbuf_steal(&sb);
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

/* Every layer of an overlay mount's super options, as (option, path):
 * upperdir, each ':'-separated lowerdir (data-only layers after "::"
 * included; "\:" escapes a colon), and the one-per-option lowerdir+= and
 * datadir+= of newer kernels. workdir shares upperdir's filesystem. */
static int overlay_layers(const char *opts, char ***ret_names, char ***ret_paths)
{
	_cleanup_strv_free_ char **names = NULL, **paths = NULL;
	_cleanup_free_ char *copy = opts ? strdup(opts) : NULL;
	char *save = NULL;

	if (!copy)
		return opts ? -ENOMEM : 0;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		const char *key;
		bool split;

		if (!eq)
			continue;
		*eq = '\0';
		key = o;
		split = streq(key, "lowerdir");
		if (!split && !streq(key, "upperdir") && !streq(key, "lowerdir+") &&
		    !streq(key, "datadir+"))
			continue;
		for (char *p = eq + 1, *start = eq + 1;; p++) {
			if (split && *p == '\\' && p[1]) {
				memmove(p, p + 1, strlen(p)); /* "\:" is a colon of the path */
				continue;
			}
			if (*p && !(split && *p == ':'))
				continue;
			if (p > start) {
				bool last = !*p;

				*p = '\0';
				if (strv_extend(&names, key) < 0 || strv_extend(&paths, start) < 0)
					return -ENOMEM;
				if (last)
					break;
			} else if (!*p) {
				break;
			}
			start = p + 1;
		}
	}
	*ret_names = TAKE_PTR(names);
	*ret_paths = TAKE_PTR(paths);
	return 0;
}

static void resolve_path_depth(const struct facts *f, const char *path, const char *what,
			       unsigned depth, struct backing *b);

static void resolve_overlay(const struct facts *f, const struct mount_entry *m, unsigned depth,
			    struct backing *b)
{
	_cleanup_strv_free_ char **names = NULL, **paths = NULL;

	if (overlay_layers(m->super_options, &names, &paths) < 0) {
		add_other(b, BACKING_UNKNOWN, m, NULL, "out of memory reading overlay options");
		return;
	}
	if (!paths) {
		add_other(b, BACKING_UNKNOWN, m, NULL, "overlay at %s names no layers",
			  m->mountpoint);
		return;
	}
	if (depth >= MAX_OVERLAY_DEPTH) {
		add_other(b, BACKING_UNKNOWN, m, NULL, "overlays nested too deep at %s",
			  m->mountpoint);
		return;
	}
	for (size_t i = 0; paths[i]; i++) {
		_cleanup_free_ char *what =
			strprintf("overlay %s %s", streq(names[i], "upperdir") ? "upperdir" : "lowerdir",
				  paths[i]);

		if (paths[i][0] != '/')
			add_other(b, BACKING_UNKNOWN, m, what, "the layer's path is not absolute");
		else
			resolve_path_depth(f, paths[i], what, depth + 1, b);
	}
}

/* btrfs: every member listed under /sys/fs/btrfs/<fsid>/devices/. */
static void resolve_btrfs(const struct facts *f, const struct mount_entry *m, const char *what,
			  struct backing *b)
{
	const struct block_graph *g = &f->graph;
	const struct fs_members *fs;
	int src = m->source ? block_graph_find_node(g, m->source) : -1;
	int k;

	if (src < 0) {
		add_other(b, BACKING_UNKNOWN, m, what, "btrfs at %s names %s, not a block device here",
			  m->mountpoint, strna(m->source));
		return;
	}
	k = block_graph_find_fs(g, "btrfs", src);
	if (k < 0) {
		add_other(b, BACKING_UNKNOWN, m, what,
			  "the members of the btrfs at %s could not be listed (%s)", m->mountpoint,
			  g->fs_error ? g->fs_error : "no /sys/fs/btrfs entry names its device");
		return;
	}
	fs = &g->fs[k];
	if (fs->error) {
		add_other(b, BACKING_UNKNOWN, m, what, "btrfs %s: %s", fs->fsid, fs->error);
		return;
	}
	for (size_t i = 0; i < fs->n_devs; i++) {
		_cleanup_free_ char *w = strprintf("btrfs member %s",
						   blockdev_display(&g->devs[fs->devs[i]]));

		add_device(b, fs->devs[i], m, w);
	}
	for (char **n = fs->missing; n && *n; n++)
		add_other(b, BACKING_UNKNOWN, m, what, "btrfs member %s is not among the block devices",
			  *n);
}

/* bcachefs names every member in its source: "/dev/sda:/dev/sdb". */
static void resolve_source_list(const struct facts *f, const struct mount_entry *m,
				const char *what, struct backing *b)
{
	_cleanup_free_ char *copy = m->source ? strdup(m->source) : NULL;
	char *save = NULL;

	if (!copy) {
		add_other(b, BACKING_UNKNOWN, m, what, "%s has no source", m->mountpoint);
		return;
	}
	for (char *s = strtok_r(copy, ":", &save); s; s = strtok_r(NULL, ":", &save)) {
		int dev = block_graph_find_node(&f->graph, s);

		if (dev >= 0)
			add_device(b, dev, m, what);
		else
			add_other(b, BACKING_UNKNOWN, m, what, "%s member %s is not among the block devices",
				  m->fstype, s);
	}
}

static void resolve_mount(const struct facts *f, const struct mount_entry *m, const char *what,
			  unsigned depth, struct backing *b)
{
	if (m->major != 0) {
		int dev = block_graph_find_devnum(&f->graph, m->major, m->minor);

		if (dev >= 0)
			add_device(b, dev, m, what);
		else
			add_other(b, BACKING_UNKNOWN, m, what,
				  "%s is on device %u:%u, which is not among the block devices",
				  m->mountpoint, m->major, m->minor);
		return;
	}
	/* An anonymous device number: the source is free text for every
	 * filesystem but those that really span block devices. */
	if (streq(m->fstype, "btrfs"))
		resolve_btrfs(f, m, what, b);
	else if (streq(m->fstype, "bcachefs"))
		resolve_source_list(f, m, what, b);
	else if (streq(m->fstype, "overlay"))
		resolve_overlay(f, m, depth, b);
	else if (is_memory_fs(m->fstype))
		add_other(b, BACKING_MEMORY, m, what, "%s is %s (memory)", m->mountpoint, m->fstype);
	else
		add_other(b, BACKING_NOT_BLOCK, m, what, "%s is %s from %s, not on a local block device",
			  m->mountpoint, m->fstype, strna(m->source));
}

static void resolve_path_depth(const struct facts *f, const char *path, const char *what,
			       unsigned depth, struct backing *b)
{
	int i;

	if (f->mounts_src.status != SOURCE_OK) {
		add_other(b, BACKING_UNKNOWN, NULL, what, "mount table unavailable: %s",
			  strna(f->mounts_src.error));
		return;
	}
	i = mount_table_find_path(&f->mounts, path);
	if (i < 0) {
		add_other(b, BACKING_UNKNOWN, NULL, what, "no mount holds %s", path);
		return;
	}
	if (depth == 0)
		b->mount = &f->mounts.v[i];
	resolve_mount(f, &f->mounts.v[i], what, depth, b);
}

void resolve_path_backing(const struct facts *f, const char *path, struct backing *ret)
{
	*ret = (struct backing){ 0 };
	resolve_path_depth(f, path, NULL, 0, ret);
	if (ret->n_parts == 0)
		add_other(ret, BACKING_UNKNOWN, NULL, NULL, "out of memory resolving %s", path);
}

void resolve_swap_backing(const struct facts *f, const struct swap_entry *s, struct backing *ret)
{
	int dev;

	*ret = (struct backing){ 0 };
	if (s->type && streq(s->type, "file")) {
		resolve_path_backing(f, s->filename, ret);
		return;
	}
	dev = block_graph_find_node(&f->graph, s->filename);
	if (dev >= 0)
		add_device(ret, dev, NULL, NULL);
	else
		add_other(ret, BACKING_UNKNOWN, NULL, NULL,
			  "swap device %s is not among the block devices", s->filename);
	if (ret->n_parts == 0)
		add_other(ret, BACKING_UNKNOWN, NULL, NULL, "out of memory resolving %s", s->filename);
}

/* ---- whether it is encrypted ----------------------------------------- */

enum tristate crypt_fully_encrypted(const struct blockdev *d, const char **ret_why)
{
	const char *why = NULL;
	enum tristate t = TRI_TRUE;

	switch (d->crypt.reencrypt) {
	case REENCRYPT_NONE:
	case REENCRYPT_REKEY: /* all encrypted, part under the old key */
		break;
	case REENCRYPT_ENCRYPT:
		t = TRI_FALSE;
		why = "a LUKS2 reencryption (--encrypt) is unfinished: part of the data is still plaintext";
		break;
	case REENCRYPT_DECRYPT:
		t = TRI_FALSE;
		why = "a LUKS2 decryption is under way: part of the data is already plaintext";
		break;
	case REENCRYPT_INVALID:
		t = TRI_UNKNOWN;
		why = "its LUKS2 header describes a reencryption libcryptsetup cannot interpret";
		break;
	default:
		t = TRI_UNKNOWN;
		why = "its LUKS2 header was not read, so a pending reencryption cannot be ruled out";
		break;
	}
	if (ret_why)
		*ret_why = why;
	return t;
}

void crypt_walk_done(struct crypt_walk *w)
{
	free(w->reason);
	strv_free(w->mappings);
	strv_free(w->devices);
	*w = (struct crypt_walk){ .crypt_dev = -1, .plain_leaf = -1 };
}

static void walk_fail(struct crypt_walk *w, enum tristate t, int leaf, const char *basis,
		      const char *fmt, ...) _printf_(5, 6);
static void walk_fail(struct crypt_walk *w, enum tristate t, int leaf, const char *basis,
		      const char *fmt, ...)
{
	va_list ap;
	struct strbuf sb = { 0 };

	/* FALSE outranks UNKNOWN: positive evidence of a plain path wins. */
	if (w->encrypted == TRI_FALSE)
		return;
	if (t == TRI_UNKNOWN && w->encrypted == TRI_UNKNOWN && w->reason)
		return;
	w->encrypted = t;
	w->basis = t == TRI_FALSE ? basis : NULL;
	if (leaf >= 0)
		w->plain_leaf = leaf;
	va_start(ap, fmt);
	strbuf_vappendf(&sb, fmt, ap);
	va_end(ap);
	free(w->reason);
	w->reason = strbuf_steal(&sb);
}

static void note_mapping(struct crypt_walk *w, const struct blockdev *d, int i)
{
	const char *name = d->dm_name ? d->dm_name : d->name;

	if (w->crypt_dev < 0)
		w->crypt_dev = i;
	if (!strv_contains(w->mappings, name))
		(void)strv_extend(&w->mappings, name);
}

static void walk(const struct block_graph *g, int i, unsigned depth, struct crypt_walk *w)
{
	const struct blockdev *d = &g->devs[i];
	const char *why;

	if (depth > MAX_STACK_DEPTH) {
		walk_fail(w, TRI_UNKNOWN, -1, NULL, "device stack deeper than %d levels at %s (a loop?)",
			  MAX_STACK_DEPTH, blockdev_display(d));
		return;
	}
	if (d->kind == BLK_DM && !d->dm_uuid) {
		/* Without dm/uuid nobody can tell dm-crypt from LVM: unknown. */
		walk_fail(w, TRI_UNKNOWN, -1, NULL, "device-mapper device %s has no readable dm/uuid",
			  blockdev_display(d));
		return;
	}
	if (d->dm_crypt) {
		note_mapping(w, d, i);
		switch (crypt_fully_encrypted(d, &why)) {
		case TRI_TRUE:
			return;
		case TRI_FALSE:
			walk_fail(w, TRI_FALSE, i, "reencryption_unfinished", "%s: %s",
				  d->dm_name ? d->dm_name : d->name, why);
			return;
		default:
			walk_fail(w, TRI_UNKNOWN, i, NULL, "%s: %s", d->dm_name ? d->dm_name : d->name,
				  why);
			return;
		}
	}
	if (d->missing_slaves) {
		walk_fail(w, TRI_UNKNOWN, i, NULL, "%s lists %s among its slaves, which is not a block device here",
			  blockdev_display(d), d->missing_slaves[0]);
		/* the slaves that are known are still walked: one may be plain */
	} else if (d->links_error && (d->kind == BLK_DM || d->kind == BLK_MD)) {
		walk_fail(w, TRI_UNKNOWN, i, NULL, "the slaves of %s could not be listed (%s)",
			  blockdev_display(d), d->links_error);
	}
	if (d->n_slaves > 0) {
		for (size_t k = 0; k < d->n_slaves; k++)
			walk(g, d->slaves[k], depth + 1, w);
		return;
	}
	if (d->missing_slaves)
		return;
	switch (d->kind) {
	case BLK_DISK:
	case BLK_PART:
	case BLK_MD:
		walk_fail(w, TRI_FALSE, i, "plain_device", "%s is not under dm-crypt",
			  blockdev_display(d));
		return;
	case BLK_ZRAM:
		if (!d->zram_backing)
			return; /* RAM only: nothing reaches a disk */
		walk_fail(w, TRI_UNKNOWN, i, NULL, "%s writes back to %s", blockdev_display(d),
			  d->zram_backing);
		return;
	case BLK_DM:
		walk_fail(w, TRI_UNKNOWN, i, NULL, "device-mapper device %s (%s) lists no backing devices",
			  blockdev_display(d), strna(d->dm_uuid));
		return;
	case BLK_LOOP:
		walk_fail(w, TRI_UNKNOWN, i, NULL, "%s is a loop device; its backing file is not followed",
			  blockdev_display(d));
		return;
	default:
		walk_fail(w, TRI_UNKNOWN, i, NULL, "%s is of an unknown kind", blockdev_display(d));
		return;
	}
}

void crypt_walk_down(const struct block_graph *g, int dev, struct crypt_walk *ret)
{
	*ret = (struct crypt_walk){ .encrypted = TRI_TRUE, .crypt_dev = -1, .plain_leaf = -1 };
	if (dev < 0 || (size_t)dev >= g->n_devs) {
		walk_fail(ret, TRI_UNKNOWN, -1, NULL, "device not found");
		return;
	}
	(void)strv_extend(&ret->devices, blockdev_display(&g->devs[dev]));
	/* zram with writeback: follow the backing device. */
	if (g->devs[dev].kind == BLK_ZRAM && g->devs[dev].zram_backing) {
		int b = block_graph_find_node(g, g->devs[dev].zram_backing);

		if (b < 0) {
			walk_fail(ret, TRI_UNKNOWN, dev, NULL, "zram writeback device %s not found",
				  g->devs[dev].zram_backing);
			return;
		}
		walk(g, b, 1, ret);
	} else {
		walk(g, dev, 0, ret);
	}
	if (ret->encrypted == TRI_TRUE && ret->crypt_dev < 0 && g->devs[dev].kind != BLK_ZRAM)
		walk_fail(ret, TRI_UNKNOWN, -1, NULL, "no dm-crypt mapping found under %s",
			  blockdev_display(&g->devs[dev]));
	if (ret->encrypted == TRI_TRUE)
		ret->basis = ret->crypt_dev >= 0 ? "dm_crypt" : "zram";
}

/* Folds one part's walk into the whole: FALSE wins, then UNKNOWN. */
static void walk_merge(struct crypt_walk *all, struct crypt_walk *one, const char *what)
{
	for (char **m = one->mappings; m && *m; m++)
		if (!strv_contains(all->mappings, *m))
			(void)strv_extend(&all->mappings, *m);
	for (char **d = one->devices; d && *d; d++)
		(void)strv_extend(&all->devices, *d);
	if (all->crypt_dev < 0)
		all->crypt_dev = one->crypt_dev;
	if (one->encrypted == TRI_TRUE) {
		if (all->encrypted == TRI_TRUE && (!all->basis || streq(all->basis, "memory")))
			all->basis = one->basis;
		return;
	}
	if (what)
		walk_fail(all, one->encrypted, one->plain_leaf, one->basis, "%s: %s", what,
			  strna(one->reason));
	else
		walk_fail(all, one->encrypted, one->plain_leaf, one->basis, "%s", strna(one->reason));
}

void backing_walk(const struct facts *f, const struct backing *b, bool memory_ok,
		  struct crypt_walk *ret)
{
	*ret = (struct crypt_walk){ .encrypted = TRI_TRUE, .crypt_dev = -1, .plain_leaf = -1 };
	if (b->n_parts == 0)
		walk_fail(ret, TRI_UNKNOWN, -1, NULL, "nothing was found to hold the data");
	for (size_t i = 0; i < b->n_parts; i++) {
		const struct backing_part *p = &b->parts[i];
		struct crypt_walk one = { .encrypted = TRI_TRUE, .crypt_dev = -1, .plain_leaf = -1 };

		switch (p->kind) {
		case BACKING_DEVICE:
			crypt_walk_down(&f->graph, p->dev, &one);
			/* zram without writeback is memory: fine for swap only. */
			if (one.encrypted == TRI_TRUE && one.crypt_dev < 0 && !memory_ok)
				walk_fail(&one, TRI_FALSE, p->dev, "memory",
					  "%s is zram (compressed memory), not dm-crypt",
					  blockdev_display(&f->graph.devs[p->dev]));
			break;
		case BACKING_MEMORY:
			if (memory_ok)
				one.basis = "memory";
			else
				walk_fail(&one, TRI_FALSE, -1, "memory", "%s", strna(p->reason));
			break;
		case BACKING_NOT_BLOCK:
			walk_fail(&one, TRI_FALSE, -1, "not_block_device", "%s", strna(p->reason));
			break;
		default:
			walk_fail(&one, TRI_UNKNOWN, -1, NULL, "%s", strna(p->reason));
			break;
		}
		walk_merge(ret, &one, p->what);
		crypt_walk_done(&one);
	}
}

/* ---- whether what is written to a device ends up encrypted ------------ */

static enum tristate covered_depth(const struct block_graph *g, int i, unsigned depth,
				   const char **how)
{
	const struct blockdev *d = &g->devs[i];
	enum tristate all = TRI_TRUE;

	if (depth > MAX_STACK_DEPTH)
		return TRI_UNKNOWN;
	if (d->dm_crypt) {
		*how = d->dm_name ? d->dm_name : d->name;
		return crypt_fully_encrypted(d, NULL);
	}
	if (d->kind == BLK_DM && !d->dm_uuid)
		return TRI_UNKNOWN; /* dm-crypt or not: cannot tell */
	if (d->missing_holders || d->links_error)
		all = TRI_UNKNOWN; /* a holder we cannot see could be plain */
	if (d->n_holders == 0)
		/* A LUKS or BitLocker header with no open mapping says nothing
		 * about how the data is being used now. */
		return all == TRI_UNKNOWN ? TRI_UNKNOWN : TRI_FALSE;
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
		struct backing b = { 0 };

		/* Overlays are listed through their layers' own mounts. */
		if (m->major == 0 && !streq(m->fstype, "btrfs") && !streq(m->fstype, "bcachefs"))
			continue;
		resolve_mount(f, m, NULL, 0, &b);
		for (size_t k = 0; k < b.n_parts; k++)
			if (b.parts[k].kind == BACKING_DEVICE &&
			    stack_contains(&f->graph, b.parts[k].dev, dev) &&
			    !strv_contains(v, m->mountpoint)) {
				(void)strv_extend(&v, m->mountpoint);
				break;
			}
		backing_done(&b);
	}
	return v;
}
