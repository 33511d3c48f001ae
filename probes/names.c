/* SPDX-License-Identifier: Apache-2.0 */
/* Enumerations of the block-device model as the strings reports print. */
#include "config.h"

#include "probes.h"

const char *blk_kind_to_string(enum blk_kind k)
{
	static const char *const t[] = {
		[BLK_DISK] = "disk",   [BLK_PART] = "part", [BLK_DM] = "dm",
		[BLK_LOOP] = "loop",   [BLK_ZRAM] = "zram", [BLK_MD] = "md",
		[BLK_OTHER] = "other",
	};

	return (unsigned)k < ARRAY_SIZE(t) && t[k] ? t[k] : "unknown";
}

const char *disk_bus_to_string(enum disk_bus b)
{
	static const char *const t[] = {
		[BUS_UNKNOWN] = "unknown", [BUS_SCSI] = "scsi",   [BUS_NVME] = "nvme",
		[BUS_VIRTIO] = "virtio",   [BUS_OTHER] = "other",
	};

	return (unsigned)b < ARRAY_SIZE(t) && t[b] ? t[b] : "unknown";
}

const char *azure_role_to_string(enum azure_role r)
{
	static const char *const t[] = {
		[ROLE_OTHER] = "other",       [ROLE_OS] = "os",       [ROLE_DATA] = "data",
		[ROLE_RESOURCE] = "resource", [ROLE_LOCAL] = "local",
	};

	return (unsigned)r < ARRAY_SIZE(t) && t[r] ? t[r] : "other";
}

const char *crypt_source_to_string(enum crypt_source s)
{
	static const char *const t[] = {
		[CRYPT_SRC_NONE] = "none",
		[CRYPT_SRC_ACTIVE] = "active",
		[CRYPT_SRC_HEADER] = "header",
	};

	return (unsigned)s < ARRAY_SIZE(t) && t[s] ? t[s] : "none";
}

const char *crypt_reencrypt_to_string(enum crypt_reencrypt r)
{
	static const char *const t[] = {
		[REENCRYPT_UNKNOWN] = "unknown", [REENCRYPT_NONE] = "none",
		[REENCRYPT_ENCRYPT] = "encrypt", [REENCRYPT_DECRYPT] = "decrypt",
		[REENCRYPT_REKEY] = "reencrypt", [REENCRYPT_INVALID] = "invalid",
	};

	return (unsigned)r < ARRAY_SIZE(t) && t[r] ? t[r] : "unknown";
}
