/* SPDX-License-Identifier: Apache-2.0 */
/* Members of multi-device filesystems: /sys/fs/btrfs/<fsid>/devices/ holds
 * one link per member, named after its block device. A missing directory
 * means no btrfs is mounted; anything else unreadable is recorded, so that a
 * mount on btrfs is judged unknown rather than by its one named source. */
#include "config.h"

#include <ctype.h>
#include <sys/stat.h>

#include "probe-internal.h"

#define BTRFS_SYSFS "/sys/fs/btrfs"
#define MAX_FILESYSTEMS 1024
#define MAX_MEMBERS 4096

static void members_done(struct fs_members *m)
{
	free(m->fstype);
	free(m->fsid);
	free(m->devs);
	strv_free(m->missing);
	free(m->error);
}

void fs_members_done(struct block_graph *g)
{
	for (size_t i = 0; i < g->n_fs; i++)
		members_done(&g->fs[i]);
	free(g->fs);
	free(g->fs_error);
	g->fs = NULL;
	g->n_fs = 0;
	g->fs_error = NULL;
}

/* /sys/fs/btrfs also holds "features" (and, on newer kernels, other
 * non-filesystem entries): a filesystem's directory is named by a UUID. */
static bool is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int members_load(const struct sysroot *sr, const struct block_graph *g, const char *fsid,
			struct fs_members *m)
{
	_cleanup_free_ char *dir = strprintf(BTRFS_SYSFS "/%s/devices", fsid);
	_cleanup_strv_free_ char **names = NULL;
	int r;

	m->fstype = strdup("btrfs");
	m->fsid = strdup(fsid);
	if (!dir || !m->fstype || !m->fsid)
		return -ENOMEM;
	r = probe_list_dir(sr, dir, MAX_MEMBERS, &names);
	if (r < 0 || strv_length(names) == 0) {
		m->error = strprintf("%s: %s", dir, r < 0 ? strerror(-r) : "lists no device");
		return m->error ? 0 : -ENOMEM;
	}
	m->devs = calloc(strv_length(names), sizeof(int));
	if (!m->devs)
		return -ENOMEM;
	for (char **n = names; *n; n++) {
		int idx = block_graph_find_name(g, *n);

		if (idx >= 0)
			m->devs[m->n_devs++] = idx;
		else if (strv_extend(&m->missing, *n) < 0)
			return -ENOMEM;
	}
	return 0;
}

void fs_members_scan(const struct sysroot *sr, struct block_graph *g)
{
	_cleanup_strv_free_ char **ids = NULL;
	struct stat st;
	size_t n = 0;
	int r;

	if (sysroot_stat(sr, BTRFS_SYSFS, &st) < 0)
		return; /* btrfs not loaded: no such filesystem is mounted */
	r = probe_list_dir(sr, BTRFS_SYSFS, MAX_FILESYSTEMS, &ids);
	if (r < 0) {
		g->fs_error = strprintf(BTRFS_SYSFS ": %s", strerror(-r));
		return;
	}
	for (char **id = ids; *id; id++)
		n += is_uuid(*id);
	if (n == 0)
		return;
	g->fs = calloc(n, sizeof(*g->fs));
	if (!g->fs) {
		g->fs_error = strdup("out of memory listing btrfs members");
		return;
	}
	for (char **id = ids; *id; id++) {
		if (!is_uuid(*id))
			continue;
		r = members_load(sr, g, *id, &g->fs[g->n_fs++]);
		if (r < 0) {
			fs_members_done(g);
			g->fs_error = strdup("out of memory listing btrfs members");
			return;
		}
	}
}

int block_graph_find_fs(const struct block_graph *g, const char *fstype, int dev)
{
	for (size_t i = 0; g && i < g->n_fs; i++) {
		if (!streq_ptr(g->fs[i].fstype, fstype))
			continue;
		for (size_t k = 0; k < g->fs[i].n_devs; k++)
			if (g->fs[i].devs[k] == dev)
				return (int)i;
	}
	return -1;
}
