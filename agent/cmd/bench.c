/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest bench`: the AES-XTS benchmark alone. */
#include "config.h"

#include "agent/report/bench.h"
#include "agent/cmd/cli.h"
#include "agent/report/term.h"

int cmd_bench(struct cli *c)
{
	struct bench_result res = { 0 };
	struct bench_options o;
	int r;

	bench_options_init(&o);
	if (c->bench_seconds > 0)
		o.cpu_budget = c->bench_seconds;
	/* A person waits; a busy node stretches the run by yielding, up to
	 * this (scaled for a bigger budget). */
	o.max_wall = BENCH_INTERACTIVE_MAX_WALL * MAX(o.cpu_budget, 1.0);
	bench_run(&o, &res);
	if (c->format == FORMAT_JSON) {
		json_object *j = bench_result_to_json(&res);

		puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else {
		bench_print_text(stdout, &res, use_color(stdout));
	}
	r = res.status == SOURCE_OK ? 0 : EXIT_USAGE;
	bench_result_done(&res);
	return r;
}
