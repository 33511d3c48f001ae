/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the ARM documents: a VM (arm_parse_vm), a managed disk
 * (arm_parse_disk, arm_parse_disk_security) and a disk encryption set
 * (arm_parse_des), the same bytes given to each. */
#include "config.h"

#include "imds/arm/arm-internal.h"
#include "tests/fuzz/fuzz.h"

static void vm(const char *body, size_t len)
{
	struct arm_vm v = { 0 };
	char *err = NULL;

	if (arm_parse_vm(body, len, &v, &err) >= 0) {
		for (size_t i = 0; i < v.n_data_disks; i++)
			if (v.data_disks[i].lun < -1)
				abort();
		arm_vm_done(&v);
	} else if (!err) {
		abort();
	}
	free(err);
}

static void disk(const char *body, size_t len)
{
	char *type = NULL, *des = NULL, *pv = NULL, *err = NULL;

	if (arm_parse_disk(body, len, &type, &des, &pv, &err) >= 0 && !type)
		abort(); /* a disk without an encryption type is an error */
	free(type);
	free(des);
	free(pv);
	free(err);
}

static void disk_security(const char *body, size_t len)
{
	char *type = NULL, *des = NULL, *err = NULL;

	if (arm_parse_disk_security(body, len, &type, &des, &err) < 0 && !err)
		abort();
	free(type);
	free(des);
	free(err);
}

static void des(const char *body, size_t len)
{
	struct arm_des d = { 0 };
	char *err = NULL;

	if (arm_parse_des(body, len, &d, &err) >= 0)
		arm_des_done(&d);
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vm((const char *)data, size);
	disk((const char *)data, size);
	disk_security((const char *)data, size);
	des((const char *)data, size);
	return 0;
}
