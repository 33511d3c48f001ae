/* `atrest imds`: what IMDS says about this node, parsed. */
#include "config.h"

#include "agent/cli.h"
#include "agent/evaluate.h"
#include "lib/strutil.h"

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *jtri(enum tristate t)
{
	return t == TRI_UNKNOWN ? NULL : json_object_new_boolean(t == TRI_TRUE);
}

static json_object *disk_to_json(const struct imds_disk *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "lun", d->lun >= 0 ? json_object_new_int(d->lun) : NULL);
	json_object_object_add(o, "name", jstr(d->name));
	json_object_object_add(o, "managed_disk_id", jstr(d->managed_disk_id));
	json_object_object_add(o, "storage_account_type", jstr(d->storage_account_type));
	json_object_object_add(o, "caching", jstr(d->caching));
	json_object_object_add(o, "size_gb", json_object_new_int64((int64_t)d->size_gb));
	return o;
}

static json_object *instance_to_json(const struct imds_instance *in)
{
	json_object *o = json_object_new_object(), *os = json_object_new_object(),
		    *data = json_object_new_array();

	json_object_object_add(o, "name", jstr(in->name));
	json_object_object_add(o, "vm_id", jstr(in->vm_id));
	json_object_object_add(o, "resource_id", jstr(in->resource_id));
	json_object_object_add(o, "subscription_id", jstr(in->subscription_id));
	json_object_object_add(o, "resource_group", jstr(in->resource_group));
	json_object_object_add(o, "location", jstr(in->location));
	json_object_object_add(o, "vm_size", jstr(in->vm_size));
	json_object_object_add(o, "vmss", jstr(in->vmss_name));
	json_object_object_add(o, "encryption_at_host", jtri(in->encryption_at_host));
	json_object_object_add(o, "security_type", jstr(in->security_type));
	json_object_object_add(o, "secure_boot", jtri(in->secure_boot));
	json_object_object_add(o, "vtpm", jtri(in->vtpm));
	json_object_object_add(os, "name", jstr(in->os_disk.name));
	json_object_object_add(os, "managed_disk_id", jstr(in->os_disk.managed_disk_id));
	json_object_object_add(os, "ephemeral", json_object_new_boolean(
							in->os_disk.diff_disk_option &&
							strcaseeq(in->os_disk.diff_disk_option, "Local")));
	json_object_object_add(os, "ade_enabled", jtri(in->os_disk.ade_enabled));
	json_object_object_add(o, "os_disk", in->has_os_disk ? os : (json_object_put(os), NULL));
	for (size_t i = 0; i < in->n_data_disks; i++)
		json_object_array_add(data, disk_to_json(&in->data_disks[i]));
	json_object_object_add(o, "data_disks", data);
	json_object_object_add(o, "resource_disk_mb", in->has_resource_disk ?
					json_object_new_int64((int64_t)in->resource_disk_mb) : NULL);
	return o;
}

static void print_json(const struct facts *f)
{
	json_object *o = json_object_new_object(), *src = json_object_new_object();

	json_object_object_add(src, "status", json_object_new_string(source_status_to_string(f->imds.status)));
	json_object_object_add(src, "api_version", jstr(f->imds.api_version));
	json_object_object_add(src, "error", jstr(f->imds.error));
	json_object_object_add(src, "elapsed_seconds", json_object_new_double(f->imds.elapsed));
	json_object_object_add(o, "imds", src);
	json_object_object_add(o, "instance", f->imds.have_instance ? instance_to_json(&f->imds.instance) : NULL);
	{
		json_object *arm = json_object_new_object();

		json_object_object_add(arm, "status", json_object_new_string(source_status_to_string(f->arm.status)));
		json_object_object_add(arm, "error", jstr(f->arm.error));
		json_object_object_add(o, "arm", arm);
	}
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
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
		printf("  %-20s %s\n", "vm size", strna(in->vm_size));
		printf("  %-20s %s\n", "location", strna(in->location));
		printf("  %-20s %s\n", "scale set", strna(in->vmss_name));
		printf("  %-20s %s\n", "resource id", strna(in->resource_id));
		printf("  %-20s %s\n", "encryption at host", tristate_to_string(in->encryption_at_host));
		printf("  %-20s %s\n", "ADE on OS disk", tristate_to_string(in->os_disk.ade_enabled));
		printf("  %-20s %s%s\n", "OS disk", strna(in->os_disk.name),
		       in->os_disk.diff_disk_option && strcaseeq(in->os_disk.diff_disk_option, "Local") ?
			       " (ephemeral)" : "");
		for (size_t i = 0; i < in->n_data_disks; i++)
			printf("  %-20s LUN %d %s\n", i ? "" : "data disks", in->data_disks[i].lun,
			       strna(in->data_disks[i].name));
		if (in->has_resource_disk)
			printf("  %-20s %" PRIu64 " MiB\n", "resource disk", in->resource_disk_mb);
	}
	printf("ARM %s", source_status_to_string(f->arm.status));
	printf("%s%s\n", f->arm.error ? ": " : "", f->arm.error ? f->arm.error : "");
}

int cmd_imds(struct cli *c)
{
	_cleanup_(sysroot_freep) struct sysroot *sr = NULL;
	struct facts f;
	int r;

	if (cli_open_sysroot(c, &sr) < 0)
		return EXIT_USAGE;
	r = gather_facts(&(struct gather_options){ .conf = &c->conf, .sr = sr, .no_bench = true,
						   .imds_only = true }, &f);
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
