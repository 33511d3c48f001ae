/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the catalogue: each check's function, in catalogue order, with the
 * policy's severity. Apart from catalogue.c so that what only names checks
 * does not link the checks (and the probes they read). */
#include "config.h"

#include "agent/checks/checks-internal.h"

static void (*const check_runs[_CHECK_MAX])(const struct facts *f, const struct policy *p,
					    struct check_results *out) = {
	[CHECK_HOST_EAH] = check_host_eah,
	[CHECK_DISK_CMK] = check_disk_cmk,
	[CHECK_DISK_TEMP] = check_disk_temp,
	[CHECK_DMCRYPT_CIPHER] = check_dmcrypt_cipher,
	[CHECK_PATH_DMCRYPT] = check_path_dmcrypt,
	[CHECK_SWAP] = check_swap,
	[CHECK_ADE] = check_ade,
	[CHECK_IMDS_DISKS] = check_imds_disks,
	[CHECK_BENCH] = check_bench,
};

void check_run_one(enum check_id id, const struct facts *f, const struct policy *p,
		   struct check_results *out)
{
	if ((size_t)id < _CHECK_MAX && check_runs[id])
		check_runs[id](f, p, out);
}

void checks_run(const struct facts *f, const struct policy *p, struct check_results *out)
{
	*out = (struct check_results){ 0 };
	for (size_t i = 0; i < _CHECK_MAX; i++) {
		size_t first = out->n;

		check_run_one((enum check_id)i, f, p, out);
		for (size_t k = first; k < out->n; k++)
			out->v[k].severity = p->severity[i];
	}
}
