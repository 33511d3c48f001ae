/* SPDX-License-Identifier: Apache-2.0 */
/* Glue between the files of probes/: the graph scan in blockdev.c calls the
 * per-device gatherers below. Not part of the agreed interface. */
#pragma once

#include "probes.h"

/* dm-crypt parameters of d (a dm_crypt device of g), into d->crypt. */
void crypt_probe(const struct sysroot *sr, const struct probe_options *opts,
		 const struct block_graph *g, struct blockdev *d);
/* The crypt type a dm uuid names ("CRYPT-LUKS2-..." -> "LUKS2"), or NULL. */
char *crypt_type_from_uuid(const char *dm_uuid);
/* Whether a dm uuid is a dm-crypt mapping (not verity or integrity). */
bool dm_uuid_is_crypt(const char *dm_uuid);

/* Whether a sysfs device name is a SCSI address "H:C:T:L". */
bool scsi_is_hctl(const char *s);
/* Y of a block device name nvmeXnY, 0 when the name carries none. */
unsigned nvme_nsid_from_name(const char *name);

/* libblkid content signature of d's device node, into d->sig_*. */
void signature_probe(const struct sysroot *sr, struct blockdev *d);

/* Numbers local NVMe disks 1.. by the controller's PCI address (pci[i] for
 * devs[i], may be NULL), then namespace id. */
void azure_assign_local_indices(struct blockdev *devs, size_t n, char *const *pci);

/* The names in a directory under the sysroot (at most max). */
int probe_list_dir(const struct sysroot *sr, const char *path, size_t max, char ***ret);

/* The members of every multi-device filesystem (btrfs) into g->fs. */
void fs_members_scan(const struct sysroot *sr, struct block_graph *g);
void fs_members_done(struct block_graph *g);
