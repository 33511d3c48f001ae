/* SPDX-License-Identifier: Apache-2.0 */
/* ARM mode names and result lifetime (the client is in the other files of imds/arm/). */
#include "config.h"

#include "imds/arm/arm.h"

const char *arm_mode_to_string(enum arm_mode m)
{
	switch (m) {
	case ARM_MODE_ON:
		return "on";
	case ARM_MODE_OFF:
		return "off";
	default:
		return "auto";
	}
}

int arm_mode_from_string(const char *s, enum arm_mode *ret)
{
	if (streq(s, "auto"))
		*ret = ARM_MODE_AUTO;
	else if (streq(s, "on"))
		*ret = ARM_MODE_ON;
	else if (streq(s, "off"))
		*ret = ARM_MODE_OFF;
	else
		return -EINVAL;
	return 0;
}

static void arm_disk_done(struct arm_disk *d)
{
	free(d->id);
	free(d->encryption_type);
	free(d->des_id);
	free(d->des_key_url);
	free(d->des_last_rotation);
	free(d->des_rotation_error);
	free(d->error);
	free(d->des_encryption_type);
	free(d->pv_name);
	free(d->cvm_security_type);
	free(d->cvm_des_id);
	*d = (struct arm_disk){ 0 };
}

void arm_result_done(struct arm_result *r)
{
	free(r->error);
	free(r->identity);
	arm_disk_done(&r->os_disk);
	for (size_t i = 0; i < r->n_data_disks; i++)
		arm_disk_done(&r->data_disks[i]);
	free(r->data_disks);
	*r = (struct arm_result){ 0 };
}
