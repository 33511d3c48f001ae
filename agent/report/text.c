/* SPDX-License-Identifier: Apache-2.0 */
/* Text for a person: the verdict first, then one aligned line per check
 * and subject with its reason, then where the evidence came from. */
#include "config.h"

#include "agent/report/kube.h"
#include "agent/report/report.h"
#include "agent/report/term.h"
#include "lib/strutil.h"

static const char *status_label(enum check_status s)
{
	switch (s) {
	case CHECK_PASS:
		return "PASS";
	case CHECK_FAIL:
		return "FAIL";
	case CHECK_UNKNOWN:
		return "UNKNOWN";
	default:
		return "N/A";
	}
}

static const char *status_color(enum check_status s)
{
	switch (s) {
	case CHECK_PASS:
		return ANSI_GREEN;
	case CHECK_FAIL:
		return ANSI_RED;
	case CHECK_UNKNOWN:
		return ANSI_YELLOW;
	default:
		return ANSI_DIM;
	}
}

static const char *verdict_color(enum verdict v)
{
	switch (v) {
	case VERDICT_COMPLIANT:
		return ANSI_GREEN;
	case VERDICT_NONCOMPLIANT:
		return ANSI_RED;
	default:
		return ANSI_YELLOW;
	}
}

static void print_header(FILE *out, const struct report *r, bool color)
{
	const struct facts *f = r->facts;
	const struct imds_instance *in = f->imds.have_instance ? &f->imds.instance : NULL;
	char *v = strdup(verdict_to_string(r->verdict));

	for (char *p = v; p && *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	fprintf(out, "%s%s%s%s  (exit %d)\n", color ? ANSI_BOLD : "",
		color ? verdict_color(r->verdict) : "", v ? v : "?", color ? ANSI_RESET : "",
		verdict_exit_code(r->verdict));
	free(v);
	fprintf(out, "node %s", strna(f->hostname));
	if (in)
		fprintf(out, " (%s, %s%s%s)", strna(in->vm_size), strna(in->location),
			in->vmss_name && *in->vmss_name ? ", scale set " : "",
			in->vmss_name && *in->vmss_name ? in->vmss_name : "");
	else if (f->on_azure == TRI_FALSE)
		fputs(" (not an Azure VM by DMI)", out);
	fputs("\n\n", out);
}

/* The fact a pass or fail rests on (evidence.basis), or "-". */
static const char *basis_of(const struct check_result *c)
{
	json_object *b = NULL;

	if ((c->status == CHECK_PASS || c->status == CHECK_FAIL) && c->evidence &&
	    json_object_object_get_ex(c->evidence, "basis", &b) &&
	    json_object_is_type(b, json_type_string))
		return json_object_get_string(b);
	return "-";
}

static void print_checks(FILE *out, const struct report *r, bool color, bool verbose)
{
	int wcheck = 5, wsubj = 7, wbasis = 5;

	for (size_t i = 0; i < r->results.n; i++) {
		const struct check_result *c = &r->results.v[i];

		wcheck = MAX(wcheck, (int)strlen(check_name(c->check)));
		wsubj = MAX(wsubj, MIN((int)strlen(c->subject), 28));
		wbasis = MAX(wbasis, MIN((int)strlen(basis_of(c)), 24));
	}
	fprintf(out, "%-7s  %-8s  %-*s  %-*s  %-*s  %s\n", "STATUS", "SEVERITY", wcheck, "CHECK",
		wsubj, "SUBJECT", wbasis, "BASIS", "REASON");
	for (size_t i = 0; i < r->results.n; i++) {
		const struct check_result *c = &r->results.v[i];

		if (c->severity == SEV_IGNORE && !verbose)
			continue;
		fprintf(out, "%s%-7s%s  %-8s  %-*s  %-*s  %-*s  %s\n",
			color ? status_color(c->status) : "", status_label(c->status),
			color ? ANSI_RESET : "", severity_to_string(c->severity), wcheck,
			check_name(c->check), wsubj, c->subject, wbasis, basis_of(c), c->summary);
	}
}

static void print_sources(FILE *out, const struct report *r)
{
	const struct facts *f = r->facts;

	fprintf(out, "\nsources: imds %s", source_status_to_string(f->imds.status));
	if (f->imds.api_version)
		fprintf(out, " (api %s, %.2f s)", f->imds.api_version, f->imds.elapsed);
	else
		fprintf(out, " (%.2f s)", f->imds.elapsed);
	fprintf(out, ", arm %s, block %s, benchmark %s\n", source_status_to_string(f->arm.status),
		source_status_to_string(f->block.status), source_status_to_string(f->bench.status));
	if (f->imds.status != SOURCE_OK && f->imds.status != SOURCE_OFF && f->imds.error)
		fprintf(out, "imds: %s\n", f->imds.error);
	if (f->block.status == SOURCE_ERROR && f->block.error)
		fprintf(out, "block: %s\n", f->block.error);
	if (f->bench.status == SOURCE_OK && f->bench.engine)
		fprintf(out,
			"benchmark: aes-xts-plain64 %u-bit key (%s): encrypt %.0f MiB/s, decrypt %.0f MiB/s\n",
			f->bench.key_bits, f->bench.engine,
			f->bench.encrypt_bytes_per_second / 1048576.0,
			f->bench.decrypt_bytes_per_second / 1048576.0);
	if (f->bench.status == SOURCE_ERROR && f->bench.error)
		fprintf(out, "benchmark: %s\n", f->bench.error);
	if (f->under_sysroot)
		fputs("read under --sysroot: dm-crypt parameters come from on-disk headers\n", out);
}

void report_print_text(FILE *out, const struct report *r, bool color, bool verbose)
{
	print_header(out, r, color);
	print_checks(out, r, color, verbose);
	kube_print_failing(out, r);
	print_sources(out, r);
}
