/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest imds`: what IMDS (and ARM, when enabled) say about this node,
 * parsed. */
#include "config.h"

#include "agent/cmd/cli.h"
#include "agent/evaluate.h"
#include "lib/json-util.h"
#include "lib/strutil.h"

static json_object *disk_to_json(const struct imds_disk *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "lun", d->lun >= 0 ? json_object_new_int(d->lun) : NULL);
	json_object_object_add(o, "name", json_string_or_null(d->name));
	json_object_object_add(o, "managed_disk_id", json_string_or_null(d->managed_disk_id));
	json_object_object_add(o, "storage_account_type", json_string_or_null(d->storage_account_type));
	json_object_object_add(o, "caching", json_string_or_null(d->caching));
	json_object_object_add(o, "size_gb", json_object_new_int64((int64_t)d->size_gb));
	return o;
}

static json_object *instance_to_json(const struct imds_instance *in)
{
	json_object *o = json_object_new_object(), *os = json_object_new_object(),
		    *data = json_object_new_array();

	json_object_object_add(o, "name", json_string_or_null(in->name));
	json_object_object_add(o, "vm_id", json_string_or_null(in->vm_id));
	json_object_object_add(o, "resource_id", json_string_or_null(in->resource_id));
	json_object_object_add(o, "subscription_id", json_string_or_null(in->subscription_id));
	json_object_object_add(o, "resource_group", json_string_or_null(in->resource_group));
	json_object_object_add(o, "location", json_string_or_null(in->location));
	json_object_object_add(o, "vm_size", json_string_or_null(in->vm_size));
	{
		struct vm_size v;

		/* DOMAIN.md §1a: the _vN version; null when the name does not parse. */
		json_object_object_add(o, "vm_size_version",
				       vm_size_parse(in->vm_size, &v) == 0 ?
					       json_object_new_int((int)v.version) :
					       NULL);
	}
	json_object_object_add(o, "vmss", json_string_or_null(in->vmss_name));
	json_object_object_add(o, "encryption_at_host", json_tristate_or_null(in->encryption_at_host));
	json_object_object_add(o, "security_type", json_string_or_null(in->security_type));
	json_object_object_add(o, "secure_boot", json_tristate_or_null(in->secure_boot));
	json_object_object_add(o, "vtpm", json_tristate_or_null(in->vtpm));
	json_object_object_add(os, "name", json_string_or_null(in->os_disk.name));
	json_object_object_add(os, "managed_disk_id", json_string_or_null(in->os_disk.managed_disk_id));
	json_object_object_add(os, "ephemeral",
			       json_object_new_boolean(
				       in->os_disk.diff_disk_option &&
				       strcaseeq(in->os_disk.diff_disk_option, "Local")));
	json_object_object_add(os, "ade_enabled", json_tristate_or_null(in->os_disk.ade_enabled));
	json_object_object_add(o, "os_disk", in->has_os_disk ? os : (json_object_put(os), NULL));
	for (size_t i = 0; i < in->n_data_disks; i++)
		json_object_array_add(data, disk_to_json(&in->data_disks[i]));
	json_object_object_add(o, "data_disks", data);
	json_object_object_add(o, "resource_disk_mb",
			       in->has_resource_disk ?
				       json_object_new_int64((int64_t)in->resource_disk_mb) :
				       NULL);
	return o;
}

static json_object *arm_disk_to_json(const struct arm_disk *d, int lun)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "lun", lun >= 0 ? json_object_new_int(lun) : NULL);
	json_object_object_add(o, "status", json_object_new_string(source_status_to_string(d->status)));
	json_object_object_add(o, "error", json_string_or_null(d->error));
	json_object_object_add(o, "managed_disk_id", json_string_or_null(d->id));
	json_object_object_add(o, "encryption_type", json_string_or_null(d->encryption_type));
	json_object_object_add(o, "disk_encryption_set_id", json_string_or_null(d->des_id));
	json_object_object_add(o, "des_encryption_type", json_string_or_null(d->des_encryption_type));
	json_object_object_add(o, "pv_name", json_string_or_null(d->pv_name));
	json_object_object_add(o, "ephemeral", json_object_new_boolean(d->ephemeral));
	json_object_object_add(o, "security_type", json_string_or_null(d->cvm_security_type));
	json_object_object_add(o, "security_disk_encryption_set_id",
			       json_string_or_null(d->cvm_des_id));
	json_object_object_add(o, "key_url", json_string_or_null(d->des_key_url));
	json_object_object_add(o, "auto_key_rotation", json_tristate_or_null(d->des_rotation_enabled));
	json_object_object_add(o, "last_key_rotation", json_string_or_null(d->des_last_rotation));
	json_object_object_add(o, "key_rotation_error", json_string_or_null(d->des_rotation_error));
	return o;
}

/* The ARM view; disks only when the lookup itself succeeded. */
static json_object *arm_to_json(const struct facts *f)
{
	const struct arm_result *a = &f->arm;
	json_object *o = json_object_new_object(), *data = json_object_new_array();

	json_object_object_add(o, "status", json_object_new_string(source_status_to_string(a->status)));
	json_object_object_add(o, "error", json_string_or_null(a->error));
	json_object_object_add(o, "identity", json_string_or_null(a->identity));
	json_object_object_add(o, "encryption_at_host", json_tristate_or_null(a->encryption_at_host));
	if (a->status != SOURCE_OK) {
		json_object_put(data);
		return o;
	}
	json_object_object_add(o, "os_disk", arm_disk_to_json(&a->os_disk, -1));
	for (size_t i = 0; i < a->n_data_disks; i++)
		json_object_array_add(data,
				      arm_disk_to_json(&a->data_disks[i],
						       f->imds.have_instance &&
								       i < f->imds.instance.n_data_disks ?
							       f->imds.instance.data_disks[i].lun :
							       -1));
	json_object_object_add(o, "data_disks", data);
	return o;
}

static void print_arm_disk(const char *label, const struct arm_disk *d)
{
	if (d->status != SOURCE_OK) {
		printf("  %-20s %s: %s\n", label, source_status_to_string(d->status), strna(d->error));
		return;
	}
	if (d->ephemeral)
		printf("  %-20s ephemeral (not an ARM resource): DES from the instance: %s\n",
		       label, d->des_id ? d->des_id : "none");
	else
		printf("  %-20s %s\n", label, strna(d->encryption_type));
	if (d->cvm_security_type)
		printf("  %-20s   security type %s%s%s\n", "", d->cvm_security_type,
		       d->cvm_des_id ? ", DES " : "", d->cvm_des_id ? d->cvm_des_id : "");
	if (d->pv_name)
		printf("  %-20s   created for Kubernetes PV %s\n", "", d->pv_name);
	if (d->des_id || d->cvm_des_id) {
		printf("  %-20s   DES %s\n", "", d->des_id ? d->des_id : d->cvm_des_id);
		printf("  %-20s   key %s, auto-rotation %s%s%s\n", "", strna(d->des_key_url),
		       tristate_to_string(d->des_rotation_enabled),
		       d->des_last_rotation ? ", last rotated " : "",
		       d->des_last_rotation ? d->des_last_rotation : "");
		if (d->des_rotation_error)
			printf("  %-20s   rotation error: %s\n", "", d->des_rotation_error);
	}
}

static void print_arm_text(const struct facts *f)
{
	const struct arm_result *a = &f->arm;

	printf("ARM %s", source_status_to_string(a->status));
	printf("%s%s\n", a->error ? ": " : "", a->error ? a->error : "");
	if (a->identity)
		printf("  %-20s %s\n", "identity", a->identity);
	if (a->status != SOURCE_OK)
		return;
	printf("  %-20s %s\n", "encryption at host", tristate_to_string(a->encryption_at_host));
	print_arm_disk("OS disk", &a->os_disk);
	for (size_t i = 0; i < a->n_data_disks; i++) {
		char label[32];

		snprintf(label, sizeof(label), "data disk LUN %d",
			 f->imds.have_instance && i < f->imds.instance.n_data_disks ?
				 f->imds.instance.data_disks[i].lun :
				 -1);
		print_arm_disk(label, &a->data_disks[i]);
	}
}

static void print_json(const struct facts *f)
{
	json_object *o = json_object_new_object(), *src = json_object_new_object();

	json_object_object_add(src, "status",
			       json_object_new_string(source_status_to_string(f->imds.status)));
	json_object_object_add(src, "api_version", json_string_or_null(f->imds.api_version));
	json_object_object_add(src, "error", json_string_or_null(f->imds.error));
	json_object_object_add(src, "elapsed_seconds", json_object_new_double(f->imds.elapsed));
	json_object_object_add(o, "imds", src);
	json_object_object_add(o, "instance",
			       f->imds.have_instance ? instance_to_json(&f->imds.instance) : NULL);
	json_object_object_add(o, "arm", arm_to_json(f));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_text(const struct facts *f)
{
	const struct imds_instance *in = &f->imds.instance;

	printf("IMDS %s", source_status_to_string(f->imds.status));
	if (f->imds.api_version)
		printf(" (api-version %s)", f->imds.api_version);
	printf(" in %.2f s\n", f->imds.elapsed);
	if (f->imds.error)
		printf("  %s\n", f->imds.error);
	if (f->imds.have_instance) {
		printf("  %-20s %s\n", "name", strna(in->name));
		{
			struct vm_size v;

			if (vm_size_parse(in->vm_size, &v) == 0)
				printf("  %-20s %s (v%u%s)\n", "vm size", in->vm_size, v.version,
				       v.version >= VM_SIZE_PLATFORM_TEMP_VERSION ?
					       ": Azure encrypts its temp and local disks" :
					       "");
			else
				printf("  %-20s %s (%s)\n", "vm size", strna(in->vm_size),
				       in->vm_size ? "not a size name atrest can read" :
						     "not reported");
		}
		printf("  %-20s %s\n", "location", strna(in->location));
		printf("  %-20s %s\n", "scale set", strna(in->vmss_name));
		printf("  %-20s %s\n", "resource id", strna(in->resource_id));
		printf("  %-20s %s\n", "encryption at host",
		       tristate_to_string(in->encryption_at_host));
		printf("  %-20s %s\n", "ADE on OS disk", tristate_to_string(in->os_disk.ade_enabled));
		printf("  %-20s %s%s\n", "OS disk", strna(in->os_disk.name),
		       in->os_disk.diff_disk_option && strcaseeq(in->os_disk.diff_disk_option, "Local") ?
			       " (ephemeral)" :
			       "");
		for (size_t i = 0; i < in->n_data_disks; i++)
			printf("  %-20s LUN %d %s\n", i ? "" : "data disks", in->data_disks[i].lun,
			       strna(in->data_disks[i].name));
		if (in->has_resource_disk)
			printf("  %-20s %" PRIu64 " MiB\n", "resource disk", in->resource_disk_mb);
	}
	print_arm_text(f);
}

int cmd_imds(struct cli *c)
{
	_cleanup_(sysroot_freep) struct sysroot *sr = NULL;
	struct facts f;
	int r;

	if (cli_open_sysroot(c, &sr) < 0)
		return EXIT_USAGE;
	r = gather_facts(&(struct gather_options){ .conf = &c->conf, .sr = sr, .sets = GATHER_CLOUD },
			 &f);
	if (r < 0)
		return EXIT_USAGE;
	if (c->format == FORMAT_JSON)
		print_json(&f);
	else
		print_text(&f);
	r = f.imds.status == SOURCE_OK ? 0 : EXIT_USAGE;
	facts_done(&f);
	return r;
}
