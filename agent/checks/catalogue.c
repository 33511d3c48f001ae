/* SPDX-License-Identifier: Apache-2.0 */
/* The check catalogue (names, titles, default severities), result
 * bookkeeping and the verdict: what the daemon's long-lived evaluator and
 * the report renderers need without the checks themselves. Those live in
 * node.c (IMDS/ARM facts), storage.c (dm-crypt, temp disks, paths, swap)
 * and bench.c, and run.c runs them. */
#include "config.h"

#include <stdarg.h>

#include "agent/checks/checks-internal.h"
#include "lib/strutil.h"

const struct check_desc check_catalogue[_CHECK_MAX] = {
	[CHECK_HOST_EAH] = { CHECK_HOST_EAH, "host.encryption_at_host", "Encryption at host",
			     SEV_CRITICAL },
	[CHECK_DISK_CMK] = { CHECK_DISK_CMK, "disk.customer_managed_key",
			     "Customer-managed key (DES)", SEV_INFO },
	[CHECK_DISK_TEMP] = { CHECK_DISK_TEMP, "disk.temp_encrypted", "Temp disk encrypted",
			      SEV_CRITICAL },
	[CHECK_DMCRYPT_CIPHER] = { CHECK_DMCRYPT_CIPHER, "dmcrypt.cipher",
				   "dm-crypt cipher and key", SEV_CRITICAL },
	[CHECK_PATH_DMCRYPT] = { CHECK_PATH_DMCRYPT, "path.dm_crypt", "Required path on dm-crypt",
				 SEV_CRITICAL },
	[CHECK_SWAP] = { CHECK_SWAP, "swap.encrypted", "Swap encrypted", SEV_WARNING },
	[CHECK_ADE] = { CHECK_ADE, "ade.active", "Azure Disk Encryption active", SEV_WARNING },
	[CHECK_IMDS_DISKS] = { CHECK_IMDS_DISKS, "imds.disks_match", "IMDS disks match devices",
			       SEV_WARNING },
	[CHECK_BENCH] = { CHECK_BENCH, "bench.aes_xts", "AES-XTS throughput", SEV_INFO },
};

const char *check_name(enum check_id id)
{
	return (size_t)id < _CHECK_MAX ? check_catalogue[id].name : "unknown";
}

int check_id_from_string(const char *s, enum check_id *ret)
{
	for (size_t i = 0; i < _CHECK_MAX; i++)
		if (streq(s, check_catalogue[i].name)) {
			*ret = (enum check_id)i;
			return 0;
		}
	return -EINVAL;
}

const char *check_status_to_string(enum check_status s)
{
	static const char *const names[] = {
		[CHECK_PASS] = "pass",
		[CHECK_FAIL] = "fail",
		[CHECK_UNKNOWN] = "unknown",
		[CHECK_NOT_APPLICABLE] = "not_applicable",
	};

	return (size_t)s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

void check_results_add(struct check_results *out, enum check_id id, const char *subject,
		       enum check_status status, json_object *evidence, const char *fmt, ...)
{
	struct check_result *v, *res;
	struct strbuf sb = { 0 };
	va_list ap;

	if (!evidence)
		evidence = json_object_new_object();
	v = realloc(out->v, (out->n + 1) * sizeof(*v));
	if (!v) {
		/* Out of memory: dropping a result could hide a failure, so
		 * abort rather than report an incomplete evaluation. */
		fputs("atrest: out of memory\n", stderr);
		abort();
	}
	out->v = v;
	res = &v[out->n++];
	va_start(ap, fmt);
	strbuf_vappendf(&sb, fmt, ap);
	va_end(ap);
	*res = (struct check_result){
		.check = id,
		.subject = strdup(subject),
		.status = status,
		.summary = strbuf_steal(&sb),
		.evidence = evidence,
	};
	if (!res->subject || !res->summary || !res->evidence) {
		fputs("atrest: out of memory\n", stderr);
		abort();
	}
}

void check_results_done(struct check_results *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].subject);
		free(r->v[i].summary);
		json_object_put(r->v[i].evidence);
	}
	free(r->v);
	*r = (struct check_results){ 0 };
}

const char *verdict_to_string(enum verdict v)
{
	static const char *const names[] = {
		[VERDICT_COMPLIANT] = "compliant",
		[VERDICT_WARNING] = "warning",
		[VERDICT_NONCOMPLIANT] = "noncompliant",
		[VERDICT_INDETERMINATE] = "indeterminate",
	};

	return (size_t)v < ARRAY_SIZE(names) ? names[v] : "indeterminate";
}

enum verdict verdict_compute(const struct check_results *r)
{
	bool critical_fail = false, unknown = false, warning_fail = false;

	for (size_t i = 0; i < r->n; i++) {
		const struct check_result *c = &r->v[i];

		if (c->severity != SEV_CRITICAL && c->severity != SEV_WARNING)
			continue;
		if (c->status == CHECK_FAIL && c->severity == SEV_CRITICAL)
			critical_fail = true;
		else if (c->status == CHECK_FAIL)
			warning_fail = true;
		else if (c->status == CHECK_UNKNOWN)
			unknown = true;
	}
	if (critical_fail)
		return VERDICT_NONCOMPLIANT;
	if (unknown)
		return VERDICT_INDETERMINATE;
	if (warning_fail)
		return VERDICT_WARNING;
	return VERDICT_COMPLIANT;
}

int verdict_exit_code(enum verdict v)
{
	return (int)v;
}

json_object *evidence_new(const char *source)
{
	json_object *o = json_object_new_object();

	if (o && source)
		json_object_object_add(o, "source", json_object_new_string(source));
	return o;
}

void evidence_add_str(json_object *o, const char *key, const char *value)
{
	if (o && value)
		json_object_object_add(o, key, json_object_new_string(value));
}

void evidence_add_int(json_object *o, const char *key, int64_t value)
{
	if (o)
		json_object_object_add(o, key, json_object_new_int64(value));
}

void evidence_add_bool(json_object *o, const char *key, bool value)
{
	if (o)
		json_object_object_add(o, key, json_object_new_boolean(value));
}

void evidence_add_tristate(json_object *o, const char *key, enum tristate t)
{
	if (!o)
		return;
	if (t == TRI_UNKNOWN)
		json_object_object_add(o, key, NULL);
	else
		json_object_object_add(o, key, json_object_new_boolean(t == TRI_TRUE));
}

void evidence_add_strv(json_object *o, const char *key, char *const *v)
{
	json_object *a;

	if (!o)
		return;
	a = json_object_new_array();
	for (; v && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	json_object_object_add(o, key, a);
}
