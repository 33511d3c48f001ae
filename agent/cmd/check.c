/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest check`: one evaluation, printed; the exit code is the verdict. */
#include "config.h"

#include "agent/cmd/cli.h"
#include "agent/evaluate.h"
#include "agent/report/prom.h"
#include "agent/report/report.h"
#include "agent/report/term.h"
#include "lib/log.h"

static int print_report(const struct cli *c, const struct report *r)
{
	_cleanup_free_ char *s = NULL;

	switch (c->format) {
	case FORMAT_JSON:
		s = report_to_json_string(r, true);
		break;
	case FORMAT_PROM:
		s = prom_render(r, &(struct prom_extra){ .version = PACKAGE_VERSION },
				PROM_FORMAT_TEXT);
		break;
	default:
		report_print_text(stdout, r, use_color(stdout), c->verbosity > 0);
		return 0;
	}
	if (!s)
		return log_error("out of memory formatting the report");
	fputs(s, stdout);
	if (c->format == FORMAT_JSON)
		fputc('\n', stdout);
	return 0;
}

int cmd_check(struct cli *c)
{
	_cleanup_(sysroot_freep) struct sysroot *sr = NULL;
	_cleanup_(evaluation_freep) struct evaluation *e = NULL;
	int r;

	if (c->format == FORMAT_NPD)
		return cmd_check_npd(c);
	if (cli_open_sysroot(c, &sr) < 0)
		return EXIT_USAGE;
	r = evaluate(&(struct gather_options){ .conf = &c->conf, .sr = sr, .no_bench = c->no_bench },
		     &e);
	if (r < 0) {
		log_error_errno(r, "evaluation failed: %m");
		return EXIT_USAGE;
	}
	if (print_report(c, &e->report) < 0)
		return EXIT_USAGE;
	return verdict_exit_code(e->report.verdict);
}
