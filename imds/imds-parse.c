/* SPDX-License-Identifier: Apache-2.0 */
/* Pure parsers for IMDS bodies: the instance document, the versions list and
 * error bodies. Input is hostile: every value is type-checked and validated. */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <json-c/json.h>

#include "imds/imds.h"
#include "imds/json-strict.h"

/* An error description is shown on one line, never longer than this. */
#define IMDS_ERROR_DESC_MAX 200

static json_object *get_typed(json_object *o, const char *key, json_type type)
{
	json_object *v;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

static json_object *get_obj(json_object *o, const char *key)
{
	return get_typed(o, key, json_type_object);
}

/* A string value, or NULL when absent, empty (IMDS says "" for missing),
 * of another type, or unprintable. */
static const char *get_str(json_object *o, const char *key)
{
	json_object *v = get_typed(o, key, json_type_string);
	const char *s;
	int len;

	if (!v)
		return NULL;
	s = json_object_get_string(v);
	len = json_object_get_string_len(v);
	if (len <= 0 || !json_value_printable(s, (size_t)len))
		return NULL;
	return s;
}

static char *dup_str(json_object *o, const char *key)
{
	return strdup_or_null(get_str(o, key));
}

/* IMDS sends "true"/"false" strings; one real capture has JSON booleans. */
static enum tristate get_tristate(json_object *o, const char *key)
{
	json_object *v;
	const char *s;

	v = get_typed(o, key, json_type_boolean);
	if (v)
		return json_object_get_boolean(v) ? TRI_TRUE : TRI_FALSE;
	s = get_str(o, key);
	if (!s)
		return TRI_UNKNOWN;
	if (strcaseeq(s, "true"))
		return TRI_TRUE;
	if (strcaseeq(s, "false"))
		return TRI_FALSE;
	return TRI_UNKNOWN;
}

/* Numbers arrive as decimal strings; accept a JSON integer too. */
static int get_u64(json_object *o, const char *key, uint64_t *ret)
{
	json_object *v = get_typed(o, key, json_type_int);
	const char *s;

	if (v) {
		int64_t i = json_object_get_int64(v);

		if (i < 0)
			return -ERANGE;
		*ret = (uint64_t)i;
		return 0;
	}
	s = get_str(o, key);
	if (!s)
		return -ENOENT;
	return safe_atou64(s, ret);
}

/* The sent value as evidence: the string itself, or the JSON text of a
 * scalar of another type (bounded, printable by construction). */
static char *raw_value(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		int len = json_object_get_string_len(v);

		if (len < 0 || !json_value_printable(s, (size_t)len))
			return strdup("(unprintable string)");
		return strdup(s);
	}
	if (json_object_is_type(v, json_type_object))
		return strdup("(object)");
	if (json_object_is_type(v, json_type_array))
		return strdup("(array)");
	return strndup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), 64);
}

static void parse_disk(json_object *d, struct imds_disk *disk)
{
	json_object *md = get_obj(d, "managedDisk");
	uint64_t u;

	*disk = (struct imds_disk){ .lun = -1, .write_accelerator = TRI_UNKNOWN };
	if (get_u64(d, "lun", &u) == 0 && u <= INT32_MAX)
		disk->lun = (int)u;
	disk->name = dup_str(d, "name");
	disk->managed_disk_id = dup_str(md, "id");
	disk->storage_account_type = dup_str(md, "storageAccountType");
	disk->caching = dup_str(d, "caching");
	disk->create_option = dup_str(d, "createOption");
	if (get_u64(d, "diskSizeGB", &u) == 0)
		disk->size_gb = u;
	disk->write_accelerator = get_tristate(d, "writeAcceleratorEnabled");
}

static void parse_os_disk(json_object *d, struct imds_os_disk *disk)
{
	json_object *md = get_obj(d, "managedDisk");
	uint64_t u;

	disk->name = dup_str(d, "name");
	disk->managed_disk_id = dup_str(md, "id");
	disk->storage_account_type = dup_str(md, "storageAccountType");
	disk->caching = dup_str(d, "caching");
	disk->create_option = dup_str(d, "createOption");
	disk->diff_disk_option = dup_str(get_obj(d, "diffDiskSettings"), "option");
	if (get_u64(d, "diskSizeGB", &u) == 0)
		disk->size_gb = u;
	disk->ade_enabled = get_tristate(get_obj(d, "encryptionSettings"), "enabled");
}

static int parse_data_disks(json_object *arr, struct imds_instance *inst)
{
	size_t n = json_object_array_length(arr);

	if (n == 0)
		return 0;
	inst->data_disks = calloc(n, sizeof(struct imds_disk));
	if (!inst->data_disks)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(arr, i);

		/* An entry that is not an object is no disk at all. */
		if (!json_object_is_type(d, json_type_object))
			continue;
		parse_disk(d, &inst->data_disks[inst->n_data_disks++]);
	}
	return 0;
}

static int parse_storage(json_object *sp, struct imds_instance *inst)
{
	json_object *os, *rd, *dd;
	uint64_t u;

	inst->has_storage_profile = true;
	inst->os_disk.ade_enabled = TRI_UNKNOWN;
	os = get_obj(sp, "osDisk");
	if (os) {
		inst->has_os_disk = true;
		parse_os_disk(os, &inst->os_disk);
	}
	rd = get_obj(sp, "resourceDisk");
	if (rd && get_u64(rd, "size", &u) == 0) {
		inst->has_resource_disk = true;
		inst->resource_disk_mb = u;
	}
	dd = get_typed(sp, "dataDisks", json_type_array);
	return dd ? parse_data_disks(dd, inst) : 0;
}

static int tag_add(struct imds_instance *inst, const char *name, size_t name_len, const char *value,
		   size_t value_len)
{
	struct imds_tag *t;

	t = realloc(inst->tags, (inst->n_tags + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	inst->tags = t;
	t = &inst->tags[inst->n_tags];
	t->name = strndup(name, name_len);
	t->value = strndup(value, value_len);
	if (!t->name || !t->value) {
		free(t->name);
		free(t->value);
		return -ENOMEM;
	}
	inst->n_tags++;
	return 0;
}

static int parse_tags_list(json_object *arr, struct imds_instance *inst)
{
	size_t n = json_object_array_length(arr);
	int r;

	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(arr, i);
		const char *name = get_str(t, "name"), *value;

		if (!name)
			continue;
		/* An empty value is a tag set to "" (get_str says NULL). */
		value = get_str(t, "value");
		if (!value)
			value = "";
		r = tag_add(inst, name, strlen(name), value, strlen(value));
		if (r < 0)
			return r;
	}
	return 0;
}

/* "k:v;k2:v2": the older form. A value may itself contain ':'. */
static int parse_tags_string(const char *s, struct imds_instance *inst)
{
	while (*s) {
		size_t len = strcspn(s, ";");
		const char *colon = memchr(s, ':', len);
		int r;

		if (len > 0 && (!colon || colon > s)) {
			size_t nlen = colon ? (size_t)(colon - s) : len;
			const char *v = colon ? colon + 1 : s + len;

			r = tag_add(inst, s, nlen, v, (size_t)(s + len - v));
			if (r < 0)
				return r;
		}
		s += len;
		if (*s == ';')
			s++;
	}
	return 0;
}

static int parse_tags(json_object *compute, struct imds_instance *inst)
{
	json_object *list = get_typed(compute, "tagsList", json_type_array);
	const char *s;

	if (list)
		return parse_tags_list(list, inst);
	s = get_str(compute, "tags");
	return s ? parse_tags_string(s, inst) : 0;
}

static void parse_security(json_object *sec, struct imds_instance *inst)
{
	inst->has_security_profile = true;
	inst->encryption_at_host = get_tristate(sec, "encryptionAtHost");
	inst->encryption_at_host_raw = raw_value(sec, "encryptionAtHost");
	inst->secure_boot = get_tristate(sec, "secureBootEnabled");
	inst->vtpm = get_tristate(sec, "virtualTpmEnabled");
	inst->security_type = dup_str(sec, "securityType");
}

static void parse_identity(json_object *c, struct imds_instance *inst)
{
	inst->name = dup_str(c, "name");
	inst->vm_id = dup_str(c, "vmId");
	inst->resource_id = dup_str(c, "resourceId");
	inst->subscription_id = dup_str(c, "subscriptionId");
	inst->resource_group = dup_str(c, "resourceGroupName");
	inst->location = dup_str(c, "location");
	inst->vm_size = dup_str(c, "vmSize");
	inst->vmss_name = dup_str(c, "vmScaleSetName");
	inst->vmss_id = dup_str(get_obj(c, "virtualMachineScaleSet"), "id");
	inst->os_type = dup_str(c, "osType");
	inst->az_environment = dup_str(c, "azEnvironment");
	inst->zone = dup_str(c, "zone");
}

static int parse_compute(json_object *c, struct imds_instance *inst)
{
	json_object *o;

	inst->encryption_at_host = TRI_UNKNOWN;
	inst->secure_boot = TRI_UNKNOWN;
	inst->vtpm = TRI_UNKNOWN;
	inst->os_disk.ade_enabled = TRI_UNKNOWN;
	parse_identity(c, inst);
	o = get_obj(c, "securityProfile");
	if (o)
		parse_security(o, inst);
	o = get_obj(c, "storageProfile");
	if (o) {
		int r = parse_storage(o, inst);
		if (r < 0)
			return r;
	}
	return parse_tags(c, inst);
}

/* A document that names this VM in no way is not an instance document
 * (an error object sent with 200, a wrapper, every field mistyped). */
static bool instance_identified(const struct imds_instance *inst)
{
	return inst->vm_id || inst->name || inst->resource_id || inst->subscription_id ||
	       inst->location || inst->vm_size;
}

int imds_parse_instance(const char *body, size_t len, struct imds_instance *ret, char **ret_error)
{
	_cleanup_json_ json_object *root = NULL;
	struct imds_instance inst = { 0 };
	json_object *compute, *v;
	int r;

	*ret_error = NULL;
	r = json_parse_strict(body, len, &root, ret_error);
	if (r < 0)
		return r;
	if (!json_object_is_type(root, json_type_object)) {
		*ret_error = strprintf("top level is a JSON %s, not an object",
				       json_type_to_name(json_object_get_type(root)));
		return -EBADMSG;
	}
	/* A full document has "compute"; /metadata/instance/compute is bare. */
	compute = root;
	if (json_object_object_get_ex(root, "compute", &v)) {
		if (!json_object_is_type(v, json_type_object)) {
			*ret_error = strdup("\"compute\" is not an object");
			return -EBADMSG;
		}
		compute = v;
	}
	r = parse_compute(compute, &inst);
	if (r < 0) {
		imds_instance_done(&inst);
		return r;
	}
	if (!instance_identified(&inst)) {
		imds_instance_done(&inst);
		*ret_error = strdup("no usable compute field (vmId, name, resourceId, ...): "
				    "not an instance document");
		return -EBADMSG;
	}
	*ret = inst;
	return 0;
}

/* "YYYY-MM-DD" and nothing else: it goes into a URL. */
static bool api_version_valid(const char *s)
{
	static const char pattern[] = "dddd-dd-dd";

	if (strlen(s) != sizeof(pattern) - 1)
		return false;
	for (size_t i = 0; pattern[i]; i++)
		if (pattern[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != '-')
			return false;
	return true;
}

int imds_parse_versions(const char *body, size_t len, char ***ret, char **ret_error)
{
	_cleanup_json_ json_object *root = NULL;
	_cleanup_strv_free_ char **v = NULL;
	json_object *arr;
	size_t n;
	int r;

	*ret_error = NULL;
	r = json_parse_strict(body, len, &root, ret_error);
	if (r < 0)
		return r;
	arr = get_typed(root, "apiVersions", json_type_array);
	if (!arr) {
		*ret_error = strdup("no \"apiVersions\" array");
		return -EBADMSG;
	}
	v = calloc(1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *s;

		if (!json_object_is_type(e, json_type_string))
			continue;
		s = json_object_get_string(e);
		if (!api_version_valid(s))
			continue;
		r = strv_extend(&v, s);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

/* Keeps printable ASCII, turns runs of white space and anything else into
 * one space, and stops at max characters. */
static void append_sanitized(struct strbuf *sb, const char *s, size_t len, size_t max)
{
	size_t start = sb->len;
	bool space = sb->len > 0 && sb->buf[sb->len - 1] == ' ';

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (sb->len - start >= max) {
			strbuf_append(sb, "...");
			return;
		}
		if (c > 0x20 && c < 0x7f) {
			strbuf_putc(sb, (char)c);
			space = false;
		} else if (!space && sb->len > start) {
			strbuf_putc(sb, ' ');
			space = true;
		}
	}
	while (sb->len > start && sb->buf[sb->len - 1] == ' ')
		sb->buf[--sb->len] = '\0';
}

/* Text between tags, for IIS/HTTP.sys XML or HTML error pages: each tag
 * becomes a space, then the text is sanitized like any other body. */
static void append_markup_text(struct strbuf *sb, const char *s, size_t len, size_t max)
{
	_cleanup_free_ char *text = malloc(len);
	bool in_tag = false;
	size_t n = 0;

	if (!text) {
		sb->oom = true;
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '<') {
			in_tag = true;
			text[n++] = ' ';
		} else if (s[i] == '>' && in_tag) {
			in_tag = false;
		} else if (!in_tag) {
			text[n++] = s[i];
		}
	}
	append_sanitized(sb, text, n, max);
}

static bool describe_json_error(struct strbuf *sb, const char *body, size_t len)
{
	_cleanup_json_ json_object *root = NULL;
	_cleanup_free_ char *err = NULL;
	json_object *e;
	const char *desc;

	if (json_parse_strict(body, len, &root, &err) < 0)
		return false;
	if (!json_object_object_get_ex(root, "error", &e))
		return false;
	strbuf_append(sb, "error: ");
	if (json_object_is_type(e, json_type_string))
		append_sanitized(sb, json_object_get_string(e),
				 (size_t)json_object_get_string_len(e), 100);
	else
		strbuf_append(sb, json_type_to_name(json_object_get_type(e)));
	desc = get_str(root, "error_description");
	if (desc) {
		strbuf_append(sb, ": ");
		append_sanitized(sb, desc, strlen(desc), 80);
	}
	return true;
}

char *imds_describe_error_body(const char *body, size_t len)
{
	struct strbuf sb = { 0 };
	size_t i = 0;

	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i == len)
		return strdup("empty body");
	if (describe_json_error(&sb, body, len))
		return strbuf_steal(&sb);
	strbuf_done(&sb);
	if (body[i] == '<') {
		strbuf_append(&sb, "markup: ");
		append_markup_text(&sb, body + i, len - i, IMDS_ERROR_DESC_MAX);
	} else {
		strbuf_append(&sb, "body: ");
		append_sanitized(&sb, body + i, len - i, IMDS_ERROR_DESC_MAX - 6);
	}
	return strbuf_steal(&sb);
}

const char *imds_instance_tag(const struct imds_instance *inst, const char *name)
{
	for (size_t i = 0; i < inst->n_tags; i++)
		if (streq(inst->tags[i].name, name))
			return inst->tags[i].value;
	return NULL;
}

static void imds_disk_done(struct imds_disk *d)
{
	free(d->name);
	free(d->managed_disk_id);
	free(d->storage_account_type);
	free(d->caching);
	free(d->create_option);
}

static void imds_os_disk_done(struct imds_os_disk *d)
{
	free(d->name);
	free(d->managed_disk_id);
	free(d->storage_account_type);
	free(d->caching);
	free(d->create_option);
	free(d->diff_disk_option);
}

void imds_instance_done(struct imds_instance *inst)
{
	if (!inst)
		return;
	free(inst->name);
	free(inst->vm_id);
	free(inst->resource_id);
	free(inst->subscription_id);
	free(inst->resource_group);
	free(inst->location);
	free(inst->vm_size);
	free(inst->vmss_name);
	free(inst->vmss_id);
	free(inst->os_type);
	free(inst->az_environment);
	free(inst->zone);
	for (size_t i = 0; i < inst->n_tags; i++) {
		free(inst->tags[i].name);
		free(inst->tags[i].value);
	}
	free(inst->tags);
	free(inst->encryption_at_host_raw);
	free(inst->security_type);
	imds_os_disk_done(&inst->os_disk);
	for (size_t i = 0; i < inst->n_data_disks; i++)
		imds_disk_done(&inst->data_disks[i]);
	free(inst->data_disks);
	*inst = (struct imds_instance){ .encryption_at_host = TRI_UNKNOWN,
					.secure_boot = TRI_UNKNOWN,
					.vtpm = TRI_UNKNOWN,
					.os_disk.ade_enabled = TRI_UNKNOWN };
}
