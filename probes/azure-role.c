/* SPDX-License-Identifier: Apache-2.0 */
/* Which Azure disk a block device is (DOMAIN.md §4): pure rules over the
 * identity read from sysfs, so that they can be tested table-driven. */
#include "config.h"

#include <ctype.h>

#include "probe-internal.h"

#define MSFT_PCI_VENDOR 0x1414
#define HV_CTRL_TAIL "-1e82-4818-a1c3-63d806ec15bb"

/* Copies a VMBus id to lower case without braces; false if it is absurd. */
static bool guid_normalize(const char *in, char *out, size_t size)
{
	size_t n = 0;

	if (*in == '{')
		in++;
	for (; *in && *in != '}'; in++) {
		if (n + 1 >= size)
			return false;
		out[n++] = (char)tolower((unsigned char)*in);
	}
	out[n] = '\0';
	return n > 0;
}

/* The LUN is the last field of H:C:T:L. */
static int scsi_lun(const char *addr, int *ret)
{
	unsigned f[4];
	char tail;

	if (!addr || sscanf(addr, "%u:%u:%u:%u%c", &f[0], &f[1], &f[2], &f[3], &tail) != 4)
		return -EINVAL;
	if (f[3] > 0xffff)
		return -ERANGE;
	*ret = (int)f[3];
	return 0;
}

static int role_set(struct disk_role *ret, bool azure, enum azure_role role, int lun, char *evidence)
{
	if (!evidence)
		return -ENOMEM;
	*ret = (struct disk_role){
		.azure = azure,
		.role = role,
		.lun = lun,
		.local = role == ROLE_LOCAL,
		.evidence = evidence,
	};
	return 0;
}

/* Disks behind the Gen2 OS/resource controller {f8b3781a-...}. */
static int role_gen2_os_ctrl(const struct disk_identity *id, const char *guid, int lun,
			     struct disk_role *ret)
{
	const char *what = lun == 0 ? "os" : lun == 1 ? "resource" : NULL;

	if (!what)
		return role_set(ret, true, ROLE_OTHER, -1,
				strprintf("VMBus device {%s} (OS/resource controller), SCSI %s: "
					  "LUN %d is neither the OS nor the resource disk",
					  guid, id->scsi_address, lun));
	return role_set(ret, true, lun == 0 ? ROLE_OS : ROLE_RESOURCE, -1,
			strprintf("VMBus device {%s} (OS/resource controller), SCSI %s => %s", guid,
				  id->scsi_address, what));
}

static int role_scsi(const struct disk_identity *id, struct disk_role *ret)
{
	bool msft = id->vendor && strcaseeq(id->vendor, "Msft");
	char guid[64];
	int lun = -1, r;

	if (!id->vmbus_device_id || !guid_normalize(id->vmbus_device_id, guid, sizeof(guid)))
		return role_set(ret, msft, ROLE_OTHER, -1,
				strprintf("SCSI %s (%s %s) has no VMBus parent: %s",
					  strna(id->scsi_address), strna(id->vendor), strna(id->model),
					  msft ? "Azure disk of unknown placement" :
						 "not an Azure-presented disk"));
	r = scsi_lun(id->scsi_address, &lun);

	if (startswith(guid, "00000000-0000-"))
		return role_set(ret, true, ROLE_OS, -1,
				strprintf("VMBus device {%s} (Gen1 OS controller), SCSI %s => os",
					  guid, strna(id->scsi_address)));
	if (startswith(guid, "00000000-0001-"))
		return role_set(ret, true, ROLE_RESOURCE, -1,
				strprintf("VMBus device {%s} (Gen1 resource controller), SCSI %s => resource",
					  guid, strna(id->scsi_address)));
	if (strlen(guid) == 36 && streq(guid + 8, HV_CTRL_TAIL) && startswith(guid, "f8b3781")) {
		char c = guid[7];

		if (r < 0)
			return role_set(ret, true, ROLE_OTHER, -1,
					strprintf("VMBus device {%s}: SCSI address \"%s\" has no LUN",
						  guid, strna(id->scsi_address)));
		if (c == 'a')
			return role_gen2_os_ctrl(id, guid, lun, ret);
		if (c == 'b' || c == 'c' || c == 'd')
			return role_set(ret, true, ROLE_DATA, lun,
					strprintf("VMBus device {%s} (data controller), SCSI %s => data LUN %d",
						  guid, id->scsi_address, lun));
	}
	return role_set(ret, msft, ROLE_OTHER, -1,
			strprintf("VMBus device {%s} is not a known Azure disk controller (SCSI %s, %s %s)",
				  guid, strna(id->scsi_address), strna(id->vendor), strna(id->model)));
}

static int role_nvme(const struct disk_identity *id, struct disk_role *ret)
{
	const char *m = id->model;
	bool accel = m && streq(m, "MSFT NVMe Accelerator v1.0");
	bool direct = m && (streq(m, "Microsoft NVMe Direct Disk") ||
			    streq(m, "Microsoft NVMe Direct Disk v2"));

	if (!accel && !direct)
		return role_set(ret, false, ROLE_OTHER, -1,
				strprintf("NVMe model \"%s\" is not an Azure disk model", strna(m)));
	if (id->pci_vendor != 0 && id->pci_vendor != MSFT_PCI_VENDOR)
		return role_set(ret, false, ROLE_OTHER, -1,
				strprintf("NVMe model \"%s\" but PCI vendor 0x%04x is not Microsoft (0x1414)",
					  m, id->pci_vendor));
	if (direct)
		return role_set(ret, true, ROLE_LOCAL, -1,
				strprintf("NVMe \"%s\" namespace %u => local (ephemeral) disk", m,
					  id->nvme_nsid));
	if (id->nvme_nsid == 0)
		return role_set(ret, true, ROLE_OTHER, -1,
				strprintf("NVMe \"%s\": namespace id unknown", m));
	if (id->nvme_nsid == 1)
		return role_set(ret, true, ROLE_OS, -1, strprintf("NVMe \"%s\" namespace 1 => os", m));
	/* Cap as scsi_lun does: a namespace id near 2^32 must not wrap to a
	 * negative LUN, which would read as "no LUN" (-1) or worse. */
	if (id->nvme_nsid - 2 > 0xffff)
		return role_set(ret, true, ROLE_OTHER, -1,
				strprintf("NVMe \"%s\": namespace %u is out of range for a data LUN",
					  m, id->nvme_nsid));
	return role_set(ret, true, ROLE_DATA, (int)(id->nvme_nsid - 2),
			strprintf("NVMe \"%s\" namespace %u => data LUN %u", m, id->nvme_nsid,
				  id->nvme_nsid - 2));
}

int azure_disk_role(const struct disk_identity *id, struct disk_role *ret)
{
	switch (id->bus) {
	case BUS_SCSI:
		return role_scsi(id, ret);
	case BUS_NVME:
		return role_nvme(id, ret);
	case BUS_VIRTIO:
		return role_set(ret, false, ROLE_OTHER, -1,
				strdup("virtio disk: not an Azure-presented disk"));
	default:
		return role_set(ret, false, ROLE_OTHER, -1,
				strprintf("%s disk: not an Azure-presented disk",
					  disk_bus_to_string(id->bus)));
	}
}

struct local_key {
	size_t idx;
	const char *pci;
	const char *ctrl;
	unsigned nsid;
};

static int local_cmp(const void *a, const void *b)
{
	const struct local_key *x = a, *y = b;
	int c;

	/* Unknown PCI addresses sort last, then by controller name. */
	if (!x->pci != !y->pci)
		return x->pci ? -1 : 1;
	c = x->pci ? strcmp(x->pci, y->pci) : 0;
	if (c == 0 && x->ctrl && y->ctrl)
		c = strnatcmp(x->ctrl, y->ctrl);
	if (c)
		return c;
	return x->nsid < y->nsid ? -1 : x->nsid > y->nsid;
}

void azure_assign_local_indices(struct blockdev *devs, size_t n, char *const *pci)
{
	_cleanup_free_ struct local_key *keys = NULL;
	size_t k = 0;

	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return;
	for (size_t i = 0; i < n; i++)
		if (devs[i].role == ROLE_LOCAL)
			keys[k++] = (struct local_key){ i, pci ? pci[i] : NULL,
							devs[i].nvme_controller, devs[i].nvme_nsid };
	qsort(keys, k, sizeof(*keys), local_cmp);
	for (size_t j = 0; j < k; j++) {
		struct blockdev *d = &devs[keys[j].idx];
		char *ev;

		d->local_index = (unsigned)(j + 1);
		ev = strprintf("%s, local:%zu by PCI address %s", strna(d->role_evidence), j + 1,
			       strna(keys[j].pci));
		if (ev) {
			free(d->role_evidence);
			d->role_evidence = ev;
		}
	}
}
