/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: an IMDS /metadata/instance body (imds_parse_instance), then
 * the lookups the checks make on what it parsed (tags, the vmSize version). */
#include "config.h"

#include "imds/imds.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imds_instance inst = { 0 };
	char *err = NULL;

	if (imds_parse_instance((const char *)data, size, &inst, &err) >= 0) {
		/* Touch every tag so a dangling pointer shows. */
		for (size_t i = 0; i < inst.n_tags; i++)
			(void)imds_instance_tag(&inst, inst.tags[i].name);
		(void)imds_instance_tag(&inst, "aks-managed-cluster-name");
		/* The size version the temp-disk check draws on. */
		if (inst.vm_size) {
			struct vm_size v;

			if (vm_size_parse(inst.vm_size, &v) == 0 && v.version == 0)
				abort(); /* a parsed size has a version >= 1 */
		}
		imds_instance_done(&inst);
	} else if (!err) {
		abort(); /* a failure must say why */
	}
	free(err);
	return 0;
}
