/* SPDX-License-Identifier: Apache-2.0 */
/* bench.aes_xts: the node's AES-XTS throughput against a policy minimum. */
#include "config.h"

#include <inttypes.h>

#include "agent/checks/checks-internal.h"

#define BENCH_SUBJECT "aes-xts-plain64:512"

void check_bench(const struct facts *f, const struct policy *p, struct check_results *out)
{
	const struct bench_result *b = &f->bench;
	json_object *e = evidence_new("benchmark");
	double worst;

	evidence_add_int(e, "min_bytes_per_second", (int64_t)p->min_bench_bytes_per_second);
	if (p->min_bench_bytes_per_second == 0) {
		check_results_add(out, CHECK_BENCH, BENCH_SUBJECT, CHECK_NOT_APPLICABLE, e,
				  "The policy sets no minimum throughput.");
		return;
	}
	if (b->status == SOURCE_OFF) {
		check_results_add(out, CHECK_BENCH, BENCH_SUBJECT, CHECK_NOT_APPLICABLE, e,
				  "The benchmark was skipped.");
		return;
	}
	if (b->status != SOURCE_OK || !b->engine) {
		evidence_add_str(e, "error", b->error);
		check_results_add(out, CHECK_BENCH, BENCH_SUBJECT, CHECK_UNKNOWN, e,
				  "The benchmark failed: %s.", b->error ? b->error : "no result");
		return;
	}
	worst = b->encrypt_bytes_per_second < b->decrypt_bytes_per_second ?
			b->encrypt_bytes_per_second :
			b->decrypt_bytes_per_second;
	evidence_add_str(e, "engine", b->engine);
	evidence_add_int(e, "bytes_per_second", (int64_t)worst);
	evidence_add_str(e, "basis", "benchmark");
	if (worst >= (double)p->min_bench_bytes_per_second)
		check_results_add(out, CHECK_BENCH, BENCH_SUBJECT, CHECK_PASS, e,
				  "AES-256-XTS (%s) runs at %.0f MiB/s, above the %.0f MiB/s minimum.",
				  b->engine, worst / 1048576.0,
				  (double)p->min_bench_bytes_per_second / 1048576.0);
	else
		check_results_add(out, CHECK_BENCH, BENCH_SUBJECT, CHECK_FAIL, e,
				  "AES-256-XTS (%s) runs at %.0f MiB/s, below the %.0f MiB/s minimum.",
				  b->engine, worst / 1048576.0,
				  (double)p->min_bench_bytes_per_second / 1048576.0);
}
