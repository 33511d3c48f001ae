/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the Azure disk role rules (azure_disk_role) over a fuzzed
 * identity. Input: a control byte (bus in the low three bits, then one bit
 * each making vendor, model, VMBus id and SCSI address absent), then the
 * newline-separated vendor, model, VMBus device id, SCSI address, PCI vendor
 * (hex) and NVMe namespace id. */
#include "config.h"

#include "probes/probes.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct disk_identity id = { 0 };
	struct disk_role role = { 0 };
	char *f[6];
	uint8_t ctl;

	if (size < 1)
		return 0;
	ctl = data[0];
	id.bus = (enum disk_bus)((ctl & 7) % (BUS_OTHER + 1));
	data++, size--;
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		f[i] = fuzz_field(&data, &size, '\n');
	/* NULL stands for an attribute that could not be read. */
	id.vendor = ctl & 0x08 ? NULL : f[0];
	id.model = ctl & 0x10 ? NULL : f[1];
	id.vmbus_device_id = ctl & 0x20 ? NULL : f[2];
	id.scsi_address = ctl & 0x40 ? NULL : f[3];
	id.pci_vendor = (unsigned)strtoul(f[4], NULL, 16);
	id.nvme_nsid = (unsigned)strtoul(f[5], NULL, 10);
	if (azure_disk_role(&id, &role) >= 0) {
		if (!role.evidence || (role.role != ROLE_DATA && role.lun != -1) ||
		    (role.role == ROLE_DATA && role.lun < 0))
			abort();
		free(role.evidence);
	}
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		free(f[i]);
	return 0;
}
