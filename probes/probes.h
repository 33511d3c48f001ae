/* SPDX-License-Identifier: Apache-2.0 */
/* Local facts: block devices and their stacks, mounts, swap areas. Read
 * under a sysroot; know nothing of policy or output. The parsers of
 * mountinfo and /proc/swaps are pure functions over strings. */
#pragma once

#include <stdint.h>

#include "lib/macro.h"
#include "lib/strutil.h"
#include "lib/sysroot.h"

enum blk_kind {
	BLK_DISK = 0, /* a whole disk (SCSI, NVMe namespace, virtio, ...) */
	BLK_PART,     /* a partition of a disk */
	BLK_DM,       /* a device-mapper device (dm-crypt, LVM, ...) */
	BLK_LOOP,
	BLK_ZRAM,
	BLK_MD,
	BLK_OTHER,
};

enum disk_bus {
	BUS_UNKNOWN = 0,
	BUS_SCSI,
	BUS_NVME,
	BUS_VIRTIO,
	BUS_OTHER,
};

enum azure_role {
	ROLE_OTHER = 0, /* not an Azure disk, or not placed */
	ROLE_OS,
	ROLE_DATA,
	ROLE_RESOURCE,
	ROLE_LOCAL,
};

enum crypt_source {
	CRYPT_SRC_NONE = 0, /* parameters not established */
	CRYPT_SRC_ACTIVE,   /* the active mapping, via device-mapper */
	CRYPT_SRC_HEADER,   /* the on-disk (or detached) header */
};

/* LUKS2 reencryption (crypt_reencrypt_status()): until it is NONE, part of
 * the data may be under no cipher at all (encrypt, decrypt) or under the
 * old one (reencrypt). */
enum crypt_reencrypt {
	REENCRYPT_UNKNOWN = 0, /* not established (a LUKS2 header not read) */
	REENCRYPT_NONE,        /* none pending (or the type has no online reencryption) */
	REENCRYPT_ENCRYPT,     /* cryptsetup reencrypt --encrypt: part plaintext */
	REENCRYPT_DECRYPT,     /* --decrypt: part plaintext */
	REENCRYPT_REKEY,       /* to a new key or cipher: part under the old one */
	REENCRYPT_INVALID,     /* metadata libcryptsetup cannot interpret */
};

struct crypt_params {
	enum crypt_source source;
	char *type;        /* LUKS1, LUKS2, PLAIN, BITLK, TCRYPT, ... */
	char *cipher;      /* "aes" */
	char *mode;        /* "xts-plain64" */
	unsigned key_bits; /* 0 = unknown */
	unsigned sector_size;
	char *uuid;   /* LUKS uuid */
	char *header; /* logical path of the header read, if any */
	char *error;  /* why the parameters are not established */
	enum crypt_reencrypt reencrypt; /* LUKS2: from its header; others NONE */
	bool reencrypt_interrupted;     /* the reencryption crashed mid-way */
};

struct blockdev {
	char *name;    /* kernel name: sda, sda1, dm-0, nvme0n1 */
	char *devnode; /* "/dev/<name>", logical */
	char *syspath; /* resolved logical sysfs path */
	unsigned major, minor;
	enum blk_kind kind;
	uint64_t size_bytes;
	bool readonly;
	bool removable;
	int parent; /* index of the whole disk of a partition, else -1 */
	unsigned partno;

	/* Whole disks: identity and Azure role. */
	enum disk_bus bus;
	char *vendor;          /* trimmed */
	char *model;           /* trimmed */
	char *scsi_address;    /* "H:C:T:L" */
	char *vmbus_device_id; /* "{guid}" of the VMBus parent, lower case */
	char *nvme_controller; /* "nvme0" */
	unsigned nvme_nsid;
	bool azure; /* an Azure-presented disk (Msft SCSI, NVMe 0x1414) */
	enum azure_role role;
	int lun;              /* data disks: the LUN; else -1 */
	unsigned local_index; /* local NVMe disks: 1-based; else 0 */
	/* Azure Disk Encryption's key disk: a FAT filesystem labelled
	 * ADE_BEK_LABEL on it or a partition of it (DOMAIN.md §1a). IMDS does
	 * not list it: an explained disk. */
	bool ade_bek;
	char *role_evidence;  /* how the role was derived, one line */

	/* Device-mapper. */
	char *dm_name;
	char *dm_uuid;
	bool dm_crypt; /* dm/uuid starts with CRYPT- */
	struct crypt_params crypt;

	/* zram: the writeback device, NULL when none. */
	char *zram_backing;

	/* Content signature from libblkid (crypto_LUKS, ext4, swap, ...). */
	char *sig_type;
	char *sig_version;
	char *sig_uuid;
	char *sig_label; /* filesystem label, e.g. "BEK VOLUME" */
	char *sig_error;

	/* The stack: indices into the graph. A name listed in slaves/ or
	 * holders/ that is not a block device of the graph is kept apart, and
	 * a listing that failed is recorded: a stack walk must not treat
	 * either as "nothing there". */
	int *slaves;
	size_t n_slaves;
	int *holders;
	size_t n_holders;
	char **missing_slaves;
	char **missing_holders;
	char *links_error;
};

/* A filesystem that spans several block devices (btrfs): its members from
 * /sys/fs/btrfs/<fsid>/devices/. mountinfo names one of them as source and
 * an anonymous 0:N as device: only this list says where the data is. */
struct fs_members {
	char *fstype;   /* "btrfs" */
	char *fsid;     /* the filesystem UUID, the sysfs directory's name */
	int *devs;      /* graph indices of the members */
	size_t n_devs;
	char **missing; /* member names that are not block devices of the graph */
	char *error;    /* the member list could not be read */
};

struct block_graph {
	struct blockdev *devs;
	size_t n_devs;
	struct fs_members *fs;
	size_t n_fs;
	char *fs_error; /* /sys/fs/btrfs exists but could not be listed */
};

struct probe_options {
	/* Query active mappings through device-mapper (host only, needs
	 * CAP_SYS_ADMIN). Never done under a sysroot. */
	bool allow_dm_ioctl;
	/* Probe content signatures and LUKS headers (opens devices). */
	bool read_devices;
};

/* Walks DIR/sys/class/block (or /sys/block) into a graph with roles, stacks,
 * dm-crypt parameters and signatures. Per-device problems are recorded on
 * the device; a negative return means the walk itself failed (*ret_error
 * then says why). */
int block_graph_scan(const struct sysroot *sr, const struct probe_options *opts,
		     struct block_graph *ret, char **ret_error);
void block_graph_done(struct block_graph *g);

int block_graph_find_devnum(const struct block_graph *g, unsigned major, unsigned minor);
/* The multi-device filesystem of fstype that has dev among its members, or
 * -1 (none known). */
int block_graph_find_fs(const struct block_graph *g, const char *fstype, int dev);
int block_graph_find_name(const struct block_graph *g, const char *name);
/* Accepts "/dev/sda", "/dev/mapper/name", "/dev/dm-0", "sda". */
int block_graph_find_node(const struct block_graph *g, const char *devnode);

const char *blk_kind_to_string(enum blk_kind k);
const char *disk_bus_to_string(enum disk_bus b);
const char *azure_role_to_string(enum azure_role r);

#define ADE_BEK_LABEL "BEK VOLUME"
const char *crypt_source_to_string(enum crypt_source s);
const char *crypt_reencrypt_to_string(enum crypt_reencrypt r);

/* Pure role rules (DOMAIN.md §4), exposed for table-driven tests. */
struct disk_identity {
	enum disk_bus bus;
	const char *vendor;          /* trimmed */
	const char *model;           /* trimmed */
	const char *vmbus_device_id; /* with or without braces */
	const char *scsi_address;    /* H:C:T:L */
	unsigned pci_vendor;         /* NVMe controller's PCI vendor, 0 unknown */
	unsigned nvme_nsid;
};
struct disk_role {
	bool azure;
	enum azure_role role;
	int lun;
	bool local; /* an NVMe direct disk (index assigned later) */
	char *evidence;
};
int azure_disk_role(const struct disk_identity *id, struct disk_role *ret);

/* /proc/self/mountinfo */
struct mount_entry {
	int id;
	int parent_id;
	unsigned major, minor;
	char *root;       /* path within the filesystem */
	char *mountpoint; /* unescaped */
	char *fstype;
	char *source; /* unescaped */
	char *super_options;
};

struct mount_table {
	struct mount_entry *v;
	size_t n;
};

/* Lines that do not parse are skipped and counted in *ret_skipped. */
int mountinfo_parse(const char *text, size_t len, struct mount_table *ret, size_t *ret_skipped);
void mount_table_done(struct mount_table *t);
/* The mount a logical path resolves to, walking the mount tree by parent
 * ids as the kernel does (so a mount hidden under a later mount on a parent
 * directory is not found), or -1 when the table has no root mount. */
int mount_table_find_path(const struct mount_table *t, const char *path);

/* /proc/swaps */
struct swap_entry {
	char *filename; /* unescaped */
	char *type;     /* "partition" | "file" | ... */
	uint64_t size_kib;
	uint64_t used_kib;
	int priority;
};

struct swap_table {
	struct swap_entry *v;
	size_t n;
};

int swaps_parse(const char *text, size_t len, struct swap_table *ret, size_t *ret_skipped);
void swap_table_done(struct swap_table *t);
