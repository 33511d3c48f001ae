/* SPDX-License-Identifier: Apache-2.0 */
/* Pure questions about the gathered storage stack, shared by the checks:
 * what backs a path or a swap area, and whether every way down from a
 * device to the disks passes through dm-crypt. */
#pragma once

#include "agent/facts.h"

enum backing_kind {
	BACKING_DEVICE,  /* a block device in the graph */
	BACKING_MEMORY,  /* tmpfs, ramfs, zram without writeback: nothing at rest */
	BACKING_UNKNOWN, /* could not be resolved; reason says why */
};

struct backing {
	enum backing_kind kind;
	int dev; /* graph index for BACKING_DEVICE */
	const struct mount_entry *mount;
	char *reason; /* set for MEMORY and UNKNOWN */
};

void backing_done(struct backing *b);

/* Which device (or memory) holds a logical path, through mountinfo. */
void resolve_path_backing(const struct facts *f, const char *path, struct backing *ret);
/* Which device backs a swap area from /proc/swaps. */
void resolve_swap_backing(const struct facts *f, const struct swap_entry *s, struct backing *ret);

struct crypt_walk {
	enum tristate encrypted; /* every path down passes through dm-crypt */
	int crypt_dev;           /* a dm-crypt device met on the way, or -1 */
	int plain_leaf;          /* first unencrypted leaf met, or -1 */
	char *reason;            /* for FALSE and UNKNOWN: one line */
	char **mappings;         /* dm-crypt mapping names met */
};

void crypt_walk_done(struct crypt_walk *w);
/* Walks slaves from dev down to the disks. */
void crypt_walk_down(const struct block_graph *g, int dev, struct crypt_walk *ret);

/* Whether data written to dev ends up encrypted: dev is dm-crypt, or every
 * holder above it is covered, or it holds a closed LUKS/BitLocker container
 * (TRUE); some way up ends unencrypted (FALSE); a device-mapper device on
 * the way has no readable dm/uuid (UNKNOWN). *ret_how names the mapping or
 * container (static or graph-owned). */
enum tristate covered_from_above(const struct block_graph *g, int dev, const char **ret_how);

/* Display name of a device: "/dev/mapper/NAME" for dm, else its devnode. */
const char *blockdev_display(const struct blockdev *d);

/* Whether target lies somewhere below top (or is top). */
bool stack_contains(const struct block_graph *g, int top, int target);
/* Mountpoints whose filesystem sits on dev or on something above it. */
char **mountpoints_over(const struct facts *f, int dev);
