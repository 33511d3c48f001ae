/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON report (CONTRACT.md, schema atrest.report/v1). Only formats:
 * every value comes from the facts and check results. */
#include "config.h"

#include <time.h>

#include "agent/report/bench.h"
#include "agent/report/kube.h"
#include "agent/report/report.h"
#include "agent/stack.h"
#include "lib/json-util.h"
#include "lib/strutil.h"

char *format_rfc3339(time_t t)
{
	struct tm tm;
	char buf[32];

	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return strdup(buf);
}

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static json_object *node_json(const struct facts *f)
{
	const struct imds_instance *in = f->imds.have_instance ? &f->imds.instance : NULL;
	json_object *o = json_object_new_object();

	add(o, "hostname", json_string_or_null(f->hostname));
	add(o, "on_azure", json_tristate_or_null(f->on_azure));
	add(o, "on_azure_evidence", json_string_or_null(f->on_azure_evidence));
	add(o, "vm_id", json_string_or_null(in ? in->vm_id : NULL));
	add(o, "resource_id", json_string_or_null(in ? in->resource_id : NULL));
	add(o, "vm_size", json_string_or_null(in ? in->vm_size : NULL));
	add(o, "vmss", json_string_or_null(in ? in->vmss_name : NULL));
	add(o, "location", json_string_or_null(in ? in->location : NULL));
	add(o, "name", json_string_or_null(in ? in->name : NULL));
	return o;
}

static json_object *source_json(enum source_status s, const char *error)
{
	json_object *o = json_object_new_object();

	add(o, "status", json_object_new_string(source_status_to_string(s)));
	add(o, "error", json_string_or_null(error));
	return o;
}

static json_object *sources_json(const struct facts *f)
{
	json_object *o = json_object_new_object(), *imds;

	imds = source_json(f->imds.status, f->imds.error);
	add(imds, "api_version", json_string_or_null(f->imds.api_version));
	add(imds, "http_status",
	    f->imds.http_status ? json_object_new_int64(f->imds.http_status) : NULL);
	add(imds, "attempts", json_object_new_int64(f->imds.attempts));
	add(imds, "elapsed_seconds", json_object_new_double(f->imds.elapsed));
	add(imds, "age_seconds", json_object_new_double(f->imds.age));
	add(o, "imds", imds);
	{
		json_object *arm = source_json(f->arm.status, f->arm.error);

		add(arm, "identity", json_string_or_null(f->arm.identity));
		add(arm, "age_seconds", json_object_new_double(f->arm_age));
		add(o, "arm", arm);
	}
	add(o, "block", source_json(f->block.status, f->block.error));
	add(o, "mounts", source_json(f->mounts_src.status, f->mounts_src.error));
	add(o, "swaps", source_json(f->swaps_src.status, f->swaps_src.error));
	add(o, "benchmark", source_json(f->bench.status, f->bench.error));
	return o;
}

static json_object *checks_json(const struct report *r)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->results.n; i++) {
		const struct check_result *c = &r->results.v[i];
		json_object *o = json_object_new_object();

		add(o, "id", json_object_new_string(check_name(c->check)));
		add(o, "subject", json_object_new_string(c->subject));
		add(o, "status", json_object_new_string(check_status_to_string(c->status)));
		add(o, "severity", json_object_new_string(severity_to_string(c->severity)));
		add(o, "summary", json_object_new_string(c->summary));
		add(o, "evidence", json_object_get(c->evidence));
		json_object_array_add(a, o);
	}
	return a;
}

/* IMDS's managed disk id for a device of a known role. */
static const char *imds_disk_id(const struct facts *f, const struct blockdev *d)
{
	const struct imds_instance *in = f->imds.have_instance ? &f->imds.instance : NULL;

	if (!in)
		return NULL;
	if (d->role == ROLE_OS)
		return in->os_disk.managed_disk_id;
	if (d->role == ROLE_DATA)
		for (size_t i = 0; i < in->n_data_disks; i++)
			if (in->data_disks[i].lun == d->lun)
				return in->data_disks[i].managed_disk_id;
	return NULL;
}

static const struct arm_disk *arm_disk_for(const struct facts *f, const struct blockdev *d)
{
	const struct imds_instance *in = f->imds.have_instance ? &f->imds.instance : NULL;

	if (f->arm.status != SOURCE_OK || !in)
		return NULL;
	if (d->role == ROLE_OS)
		return &f->arm.os_disk;
	if (d->role == ROLE_DATA)
		for (size_t i = 0; i < in->n_data_disks && i < f->arm.n_data_disks; i++)
			if (in->data_disks[i].lun == d->lun)
				return &f->arm.data_disks[i];
	return NULL;
}

/* Partitions (or the disk) and whether each lies under dm-crypt. */
static json_object *disk_encryption_json(const struct facts *f, int disk)
{
	const struct blockdev *d = &f->graph.devs[disk];
	const struct arm_disk *ad = arm_disk_for(f, d);
	json_object *o = json_object_new_object(), *parts = json_object_new_array();
	bool all = true, any_part = false;
	const char *via;

	for (size_t i = 0; i < f->graph.n_devs; i++) {
		if (f->graph.devs[i].kind != BLK_PART || f->graph.devs[i].parent != disk)
			continue;
		json_object *p = json_object_new_object();
		bool cov = covered_from_above(&f->graph, (int)i, &via) == TRI_TRUE;

		any_part = true;
		all = all && cov;
		add(p, "device", json_string_or_null(f->graph.devs[i].devnode));
		add(p, "dm_crypt", json_object_new_boolean(cov));
		add(p, "via", json_string_or_null(cov ? via : NULL));
		json_object_array_add(parts, p);
	}
	if (!any_part)
		all = covered_from_above(&f->graph, disk, &via) == TRI_TRUE;
	add(o, "dm_crypt", json_object_new_boolean(all));
	add(o, "partitions", parts);
	if (d->role == ROLE_RESOURCE || d->role == ROLE_LOCAL || d->role == ROLE_OS ||
	    d->role == ROLE_DATA)
		add(o, "encryption_at_host",
		    json_tristate_or_null(f->imds.have_instance ? f->imds.instance.encryption_at_host :
								  TRI_UNKNOWN));
	add(o, "sse_type", json_string_or_null(ad ? ad->encryption_type : NULL));
	add(o, "disk_encryption_set_id", json_string_or_null(ad ? ad->des_id : NULL));
	/* An ephemeral OS disk's DES is its instance's; a disk's security
	 * type (TrustedLaunch, ConfidentialVM_...) and a confidential VM
	 * disk's DES come from securityProfile (DOMAIN.md §1a). */
	add(o, "ephemeral", ad ? json_object_new_boolean(ad->ephemeral) : NULL);
	add(o, "security_type", json_string_or_null(ad ? ad->cvm_security_type : NULL));
	add(o, "security_disk_encryption_set_id", json_string_or_null(ad ? ad->cvm_des_id : NULL));
	return o;
}

json_object *disk_json(const struct facts *f, int i)
{
	const struct blockdev *d = &f->graph.devs[i];
	json_object *o = json_object_new_object();

	add(o, "role", json_object_new_string(azure_role_to_string(d->role)));
	add(o, "lun", d->role == ROLE_DATA && d->lun >= 0 ? json_object_new_int(d->lun) : NULL);
	add(o, "local_index", d->role == ROLE_LOCAL ? json_object_new_int((int)d->local_index) : NULL);
	add(o, "ade_bek", json_object_new_boolean(d->ade_bek));
	add(o, "device", json_string_or_null(d->devnode));
	add(o, "managed_disk_id", json_string_or_null(imds_disk_id(f, d)));
	add(o, "encryption", disk_encryption_json(f, i));
	add(o, "name", json_string_or_null(d->name));
	add(o, "bus", json_object_new_string(disk_bus_to_string(d->bus)));
	add(o, "azure", json_object_new_boolean(d->azure));
	add(o, "vendor", json_string_or_null(d->vendor));
	add(o, "model", json_string_or_null(d->model));
	add(o, "scsi_address", json_string_or_null(d->scsi_address));
	add(o, "vmbus_device_id", json_string_or_null(d->vmbus_device_id));
	add(o, "nvme_nsid", d->nvme_nsid ? json_object_new_int64(d->nvme_nsid) : NULL);
	add(o, "size_bytes", json_object_new_int64((int64_t)d->size_bytes));
	add(o, "role_evidence", json_string_or_null(d->role_evidence));
	kube_disk_json_add(o, f, i);
	return o;
}

static json_object *disks_json(const struct facts *f)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < f->graph.n_devs; i++)
		if (f->graph.devs[i].kind == BLK_DISK)
			json_object_array_add(a, disk_json(f, (int)i));
	return a;
}

static bool is_swap_device(const struct facts *f, int dev)
{
	for (size_t i = 0; i < f->swaps.n; i++) {
		int s = block_graph_find_node(&f->graph, f->swaps.v[i].filename);

		if (s >= 0 && stack_contains(&f->graph, s, dev))
			return true;
	}
	return false;
}

json_object *dm_crypt_json(const struct facts *f, int i)
{
	const struct blockdev *d = &f->graph.devs[i];
	const struct crypt_params *c = &d->crypt;
	json_object *o = json_object_new_object(), *backing = json_object_new_array();
	_cleanup_strv_free_ char **mps = mountpoints_over(f, i);

	for (size_t k = 0; k < d->n_slaves; k++)
		json_object_array_add(backing, json_object_new_string(blockdev_display(
						       &f->graph.devs[d->slaves[k]])));
	add(o, "name", json_string_or_null(d->dm_name ? d->dm_name : d->name));
	add(o, "device", json_string_or_null(d->devnode));
	add(o, "type", json_string_or_null(c->type));
	if (c->cipher && c->mode) {
		char *spec = strprintf("%s-%s", c->cipher, c->mode);

		add(o, "cipher", json_string_or_null(spec));
		free(spec);
	} else {
		add(o, "cipher", NULL);
	}
	add(o, "key_bits", c->key_bits ? json_object_new_int((int)c->key_bits) : NULL);
	add(o, "backing", backing);
	add(o, "mountpoints", json_strv(mps));
	add(o, "swap", json_object_new_boolean(is_swap_device(f, i)));
	add(o, "params_source", json_object_new_string(crypt_source_to_string(c->source)));
	add(o, "uuid", json_string_or_null(c->uuid));
	add(o, "dm_uuid", json_string_or_null(d->dm_uuid));
	add(o, "header", json_string_or_null(c->header));
	add(o, "sector_size", c->sector_size ? json_object_new_int((int)c->sector_size) : NULL);
	/* none | encrypt | decrypt | reencrypt | invalid | unknown (not read) */
	add(o, "reencryption", json_object_new_string(crypt_reencrypt_to_string(c->reencrypt)));
	add(o, "error", json_string_or_null(c->error));
	return o;
}

static json_object *dm_crypts_json(const struct facts *f)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < f->graph.n_devs; i++)
		if (f->graph.devs[i].dm_crypt)
			json_object_array_add(a, dm_crypt_json(f, (int)i));
	return a;
}

json_object *report_to_json(const struct report *r)
{
	const struct facts *f = r->facts;
	json_object *o = json_object_new_object(), *agent = json_object_new_object();
	_cleanup_free_ char *ts = format_rfc3339(r->generated_at);

	add(o, "schema", json_object_new_string("atrest.report/v1"));
	add(o, "generated_at", json_string_or_null(ts));
	add(agent, "version", json_object_new_string(PACKAGE_VERSION));
	add(agent, "sysroot", json_object_new_boolean(f->under_sysroot));
	add(agent, "gather_seconds", json_object_new_double(f->gather_seconds));
	add(o, "agent", agent);
	add(o, "verdict", json_object_new_string(verdict_to_string(r->verdict)));
	add(o, "exit_code", json_object_new_int(verdict_exit_code(r->verdict)));
	add(o, "node", node_json(f));
	add(o, "sources", sources_json(f));
	add(o, "checks", checks_json(r));
	add(o, "disks", disks_json(f));
	add(o, "dm_crypt", dm_crypts_json(f));
	add(o, "benchmark", f->bench.status == SOURCE_OK ? bench_result_to_json(&f->bench) : NULL);
	add(o, "kubernetes", kube_json(f));
	return o;
}

char *report_to_json_string(const struct report *r, bool pretty)
{
	json_object *o = report_to_json(r);
	const char *s;
	char *copy;

	if (!o)
		return NULL;
	s = json_object_to_json_string_ext(o, (pretty ? JSON_C_TO_STRING_PRETTY :
							JSON_C_TO_STRING_PLAIN) |
						      JSON_C_TO_STRING_NOSLASHESCAPE);
	copy = s ? strdup(s) : NULL;
	json_object_put(o);
	return copy;
}
