/* SPDX-License-Identifier: Apache-2.0 */
/* Lifetime of the gathered facts. */
#include "config.h"

#include "agent/facts.h"

void facts_done(struct facts *f)
{
	free(f->hostname);
	free(f->on_azure_evidence);
	imds_result_done(&f->imds);
	arm_result_done(&f->arm);
	free(f->block.error);
	block_graph_done(&f->graph);
	free(f->mounts_src.error);
	mount_table_done(&f->mounts);
	free(f->swaps_src.error);
	swap_table_done(&f->swaps);
	for (size_t i = 0; i < f->n_paths; i++) {
		free(f->paths[i].path);
		free(f->paths[i].resolved);
	}
	free(f->paths);
	bench_result_done(&f->bench);
	kube_facts_done(&f->kube);
	*f = (struct facts){ 0 };
}
