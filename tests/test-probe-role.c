/* SPDX-License-Identifier: Apache-2.0 */
/* The Azure disk role rules (DOMAIN.md §4), table-driven. */
#include "config.h"

#include "probes/probes.h"
#include "tests/tap.h"

#define OS_CTRL "{f8b3781a-1e82-4818-a1c3-63d806ec15bb}"
#define DATA_B "{F8B3781B-1E82-4818-A1C3-63D806EC15BB}"
#define DATA_C "f8b3781c-1e82-4818-a1c3-63d806ec15bb"
#define DATA_D "{f8b3781d-1e82-4818-a1c3-63d806ec15bb}"
#define ACCEL "MSFT NVMe Accelerator v1.0"

struct role_case {
	const char *what;
	struct disk_identity id;
	bool azure;
	enum azure_role role;
	int lun;
	bool local;
	const char *evidence_has;
};

static const struct role_case cases[] = {
	{ "Gen1 OS disk",
	  { BUS_SCSI, "Msft", "Virtual Disk", "{00000000-0000-8899-0000-000000000000}", "0:0:0:0" },
	  true,
	  ROLE_OS,
	  -1,
	  false,
	  "Gen1 OS" },
	{ "Gen1 resource disk",
	  { BUS_SCSI, "Msft", "Virtual Disk", "{00000000-0001-8899-0000-000000000000}", "1:0:1:0" },
	  true,
	  ROLE_RESOURCE,
	  -1,
	  false,
	  "=> resource" },
	{ "Gen2 OS disk LUN 0",
	  { BUS_SCSI, "Msft", "Virtual Disk", OS_CTRL, "0:0:0:0" },
	  true,
	  ROLE_OS,
	  -1,
	  false,
	  "SCSI 0:0:0:0 => os" },
	{ "Gen2 resource disk LUN 1",
	  { BUS_SCSI, "Msft", "Virtual Disk", OS_CTRL, "0:0:0:1" },
	  true,
	  ROLE_RESOURCE,
	  -1,
	  false,
	  "=> resource" },
	{ "Gen2 LUN 2 (CD-ROM position) is no role",
	  { BUS_SCSI, "Msft", "Virtual DVD-ROM", OS_CTRL, "0:0:0:2" },
	  true,
	  ROLE_OTHER,
	  -1,
	  false,
	  "LUN 2 is neither" },
	{ "data controller b, LUN 2 (upper-case id)",
	  { BUS_SCSI, "Msft", "Virtual Disk", DATA_B, "3:0:0:2" },
	  true,
	  ROLE_DATA,
	  2,
	  false,
	  "VMBus device {f8b3781b-1e82-4818-a1c3-63d806ec15bb} (data controller), SCSI 3:0:0:2 => data LUN 2" },
	{ "data controller c without braces, LUN 0",
	  { BUS_SCSI, "Msft", "Virtual Disk", DATA_C, "4:0:0:0" },
	  true,
	  ROLE_DATA,
	  0,
	  false,
	  "data LUN 0" },
	{ "data controller d, LUN 63",
	  { BUS_SCSI, "Msft", "Virtual Disk", DATA_D, "5:0:0:63" },
	  true,
	  ROLE_DATA,
	  63,
	  false,
	  "data LUN 63" },
	{ "data controller with a broken SCSI address",
	  { BUS_SCSI, "Msft", "Virtual Disk", DATA_D, "5:0:0" },
	  true,
	  ROLE_OTHER,
	  -1,
	  false,
	  "has no LUN" },
	{ "unknown Msft controller: azure, unplaced",
	  { BUS_SCSI, "Msft", "Virtual Disk", "{12345678-aaaa-bbbb-cccc-0123456789ab}", "2:0:0:0" },
	  true,
	  ROLE_OTHER,
	  -1,
	  false,
	  "not a known Azure disk controller" },
	{ "lookalike id tail does not match",
	  { BUS_SCSI, "Msft", "Virtual Disk", "{f8b3781b-1e82-4818-a1c3-000000000000}", "3:0:0:1" },
	  true,
	  ROLE_OTHER,
	  -1,
	  false,
	  "not a known" },
	{ "Msft SCSI without VMBus parent",
	  { BUS_SCSI, "Msft", "Virtual Disk", NULL, "0:0:0:0" },
	  true,
	  ROLE_OTHER,
	  -1,
	  false,
	  "no VMBus parent" },
	{ "qemu virtio-scsi: not azure",
	  { BUS_SCSI, "QEMU", "QEMU HARDDISK", NULL, "0:0:0:0" },
	  false,
	  ROLE_OTHER,
	  -1,
	  false,
	  "not an Azure-presented disk" },
	{ "NVMe accelerator nsid 1 = os",
	  { BUS_NVME, NULL, ACCEL, NULL, NULL, 0x1414, 1 },
	  true,
	  ROLE_OS,
	  -1,
	  false,
	  "namespace 1 => os" },
	{ "NVMe accelerator nsid 2 = data LUN 0",
	  { BUS_NVME, NULL, ACCEL, NULL, NULL, 0x1414, 2 },
	  true,
	  ROLE_DATA,
	  0,
	  false,
	  "data LUN 0" },
	{ "NVMe accelerator nsid 5 = data LUN 3",
	  { BUS_NVME, NULL, ACCEL, NULL, NULL, 0x1414, 5 },
	  true,
	  ROLE_DATA,
	  3,
	  false,
	  "namespace 5 => data LUN 3" },
	{ "NVMe accelerator with unreadable vendor still placed",
	  { BUS_NVME, NULL, ACCEL, NULL, NULL, 0, 2 },
	  true,
	  ROLE_DATA,
	  0,
	  false,
	  "data LUN 0" },
	{ "NVMe accelerator nsid unknown",
	  { BUS_NVME, NULL, ACCEL, NULL, NULL, 0x1414, 0 },
	  true,
	  ROLE_OTHER,
	  -1,
	  false,
	  "namespace id unknown" },
	{ "NVMe direct disk v1 = local",
	  { BUS_NVME, NULL, "Microsoft NVMe Direct Disk", NULL, NULL, 0x1414, 1 },
	  true,
	  ROLE_LOCAL,
	  -1,
	  true,
	  "local" },
	{ "NVMe direct disk v2 = local",
	  { BUS_NVME, NULL, "Microsoft NVMe Direct Disk v2", NULL, NULL, 0x1414, 1 },
	  true,
	  ROLE_LOCAL,
	  -1,
	  true,
	  "local" },
	{ "NVMe accelerator model, wrong PCI vendor",
	  { BUS_NVME, NULL, ACCEL, NULL, NULL, 0x8086, 2 },
	  false,
	  ROLE_OTHER,
	  -1,
	  false,
	  "0x8086 is not Microsoft" },
	{ "NVMe direct disk model, wrong PCI vendor",
	  { BUS_NVME, NULL, "Microsoft NVMe Direct Disk v2", NULL, NULL, 0x144d, 1 },
	  false,
	  ROLE_OTHER,
	  -1,
	  false,
	  "not Microsoft" },
	{ "other NVMe model",
	  { BUS_NVME, NULL, "Samsung SSD 980", NULL, NULL, 0x144d, 1 },
	  false,
	  ROLE_OTHER,
	  -1,
	  false,
	  "not an Azure disk model" },
	{ "qemu virtio disk: other",
	  { BUS_VIRTIO, "0x1af4", NULL, NULL, NULL, 0, 0 },
	  false,
	  ROLE_OTHER,
	  -1,
	  false,
	  "virtio" },
	{ "unknown bus", { BUS_UNKNOWN }, false, ROLE_OTHER, -1, false, "not an Azure-presented disk" },
};

static void run_case(const struct role_case *c)
{
	struct disk_role r = { 0 };

	if (!is_int(azure_disk_role(&c->id, &r), 0, "%s: rules apply", c->what))
		return;
	is_int(r.azure, c->azure, "%s: azure", c->what);
	is_str(azure_role_to_string(r.role), azure_role_to_string(c->role), "%s: role", c->what);
	is_int(r.lun, c->lun, "%s: lun", c->what);
	is_int(r.local, c->local, "%s: local", c->what);
	if (!ok(r.evidence && strstr(r.evidence, c->evidence_has), "%s: evidence names why", c->what))
		tap_diag("evidence: %s", r.evidence ? r.evidence : "(null)");
	free(r.evidence);
}

static void test_names(void)
{
	is_str(blk_kind_to_string(BLK_PART), "part", "kind name");
	is_str(disk_bus_to_string(BUS_NVME), "nvme", "bus name");
	is_str(azure_role_to_string(ROLE_RESOURCE), "resource", "role name");
	is_str(crypt_source_to_string(CRYPT_SRC_HEADER), "header", "crypt source name");
	is_str(blk_kind_to_string((enum blk_kind)99), "unknown", "out-of-range kind");
}

int main(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	test_names();
	return tap_done();
}
