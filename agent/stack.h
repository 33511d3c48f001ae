/* SPDX-License-Identifier: Apache-2.0 */
/* Pure questions about the gathered storage stack, shared by the checks:
 * what holds a path or a swap area (every device of every layer), and
 * whether every way down from there to the disks passes through an open,
 * fully encrypted dm-crypt mapping. */
#pragma once

#include "agent/facts.h"

enum backing_kind {
	BACKING_DEVICE,    /* a block device in the graph */
	BACKING_MEMORY,    /* tmpfs, ramfs, zram without writeback: nothing at rest */
	BACKING_NOT_BLOCK, /* fuse, network and other filesystems on no local block device */
	BACKING_UNKNOWN,   /* could not be resolved; reason says why */
};

/* One place the data lives: a path on overlayfs has one part per layer, a
 * path on btrfs one per member device. */
struct backing_part {
	enum backing_kind kind;
	int dev;                         /* graph index for BACKING_DEVICE, else -1 */
	const struct mount_entry *mount; /* the mount this part came from, if any */
	char *what;                      /* "overlay lowerdir /x", "btrfs member"; NULL: the mount itself */
	char *reason;                    /* set unless BACKING_DEVICE */
};

struct backing {
	const struct mount_entry *mount; /* the mount the path resolves to; NULL for a swap partition */
	struct backing_part *parts;
	size_t n_parts;
};

void backing_done(struct backing *b);

/* Where the data under a logical path lives, through mountinfo (the mount
 * the kernel's path walk reaches, every overlay layer, every btrfs member). */
void resolve_path_backing(const struct facts *f, const char *path, struct backing *ret);
/* Where a swap area from /proc/swaps lives (a device, or a file's path). */
void resolve_swap_backing(const struct facts *f, const struct swap_entry *s, struct backing *ret);

struct crypt_walk {
	enum tristate encrypted; /* every way down passes through open, fully encrypted dm-crypt */
	int crypt_dev;           /* a dm-crypt device met on the way, or -1 */
	int plain_leaf;          /* first unencrypted leaf met, or -1 */
	char *reason;            /* for FALSE and UNKNOWN: one line */
	const char *basis;       /* the fact a TRUE or FALSE rests on (static) */
	char **mappings;         /* dm-crypt mapping names met */
	char **devices;          /* the devices the data sits on, as displayed */
};

void crypt_walk_done(struct crypt_walk *w);
/* Walks slaves from dev down to the disks. */
void crypt_walk_down(const struct block_graph *g, int dev, struct crypt_walk *ret);
/* Walks every part of b. A memory part counts as encrypted (nothing at rest)
 * only when memory_ok; a part not on a block device is not on dm-crypt. */
void backing_walk(const struct facts *f, const struct backing *b, bool memory_ok,
		  struct crypt_walk *ret);

/* Whether a dm-crypt device is open over fully encrypted data: TRUE, FALSE
 * (a LUKS2 reencryption left part of it plaintext), UNKNOWN (its header
 * was not read). *ret_why explains FALSE and UNKNOWN (static). */
enum tristate crypt_fully_encrypted(const struct blockdev *d, const char **ret_why);

/* Whether data written to dev ends up encrypted: dev is an open, fully
 * encrypted dm-crypt mapping or every holder above it is (TRUE); some way
 * up ends unencrypted, including a LUKS header with no open mapping (FALSE);
 * a device on the way cannot be judged (UNKNOWN). *ret_how names the
 * mapping (graph-owned). */
enum tristate covered_from_above(const struct block_graph *g, int dev, const char **ret_how);

/* Display name of a device: "/dev/mapper/NAME" for dm, else its devnode. */
const char *blockdev_display(const struct blockdev *d);

/* Whether target lies somewhere below top (or is top). */
bool stack_contains(const struct block_graph *g, int top, int target);
/* Mountpoints whose filesystem sits on dev or on something above it. */
char **mountpoints_over(const struct facts *f, int dev);
