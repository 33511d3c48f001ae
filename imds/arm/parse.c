/* SPDX-License-Identifier: Apache-2.0 */
/* Pure parsers for the managed-identity token, ARM documents (VM or
 * scale-set instance, disk, disk encryption set), error bodies, azure.json
 * and Retry-After. Input is hostile: every value is type-checked. */
#include "config.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <limits.h>

#include "imds/arm/arm-internal.h"
#include "imds/json-strict.h"

#define ARM_ERROR_DESC_MAX 200

/* An object (not an array or scalar) parsed strictly; on failure a short
 * reason that never quotes the body. */
static int parse_object(const char *body, size_t len, json_object **ret, char **ret_error)
{
	json_object *o = NULL;
	int r;

	if (!body) {
		*ret_error = strdup("empty body");
		return -EBADMSG;
	}
	r = json_parse_strict(body, len, &o, ret_error);
	if (r < 0)
		return r;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*ret_error = strdup("not a JSON object");
		return -EBADMSG;
	}
	*ret = o;
	return 0;
}

/* A child by a path of keys; NULL when any step is missing or not an object. */
static json_object *walk(json_object *o, const char *const *keys)
{
	for (; *keys; keys++) {
		json_object *next;

		if (!o || !json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, *keys, &next))
			return NULL;
		o = next;
	}
	return o;
}

#define WALK(o, ...) walk((o), (const char *const[]){ __VA_ARGS__, NULL })

/* A printable non-empty string value, copied; NULL otherwise. */
static char *str_of(json_object *o)
{
	const char *s;
	size_t n;

	if (!o || !json_object_is_type(o, json_type_string))
		return NULL;
	s = json_object_get_string(o);
	n = (size_t)json_object_get_string_len(o);
	if (n == 0 || strlen(s) != n || !json_value_printable(s, n))
		return NULL;
	return strdup(s);
}

/* ARM sends booleans; a string "true"/"false" is accepted too. */
static enum tristate tri_of(json_object *o)
{
	if (!o)
		return TRI_UNKNOWN;
	if (json_object_is_type(o, json_type_boolean))
		return json_object_get_boolean(o) ? TRI_TRUE : TRI_FALSE;
	if (json_object_is_type(o, json_type_string)) {
		const char *s = json_object_get_string(o);

		if (strcaseeq(s, "true"))
			return TRI_TRUE;
		if (strcaseeq(s, "false"))
			return TRI_FALSE;
	}
	return TRI_UNKNOWN;
}

/* A non-negative integer given as a JSON number or a decimal string. */
static bool int_of(json_object *o, int64_t *ret)
{
	uint64_t u;

	if (!o)
		return false;
	if (json_object_is_type(o, json_type_int)) {
		*ret = json_object_get_int64(o);
		return *ret >= 0;
	}
	if (!json_object_is_type(o, json_type_string) ||
	    safe_atou64(json_object_get_string(o), &u) < 0 || u > INT64_MAX)
		return false;
	*ret = (int64_t)u;
	return true;
}

/* Bearer tokens are base64url pieces joined by dots: anything else could
 * split a header or is not a token. */
static bool token_chars_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("-._~+/=", c)))
			return false;
	}
	return true;
}

static int64_t token_expiry(json_object *root, int64_t now)
{
	int64_t v;

	if (int_of(WALK(root, "expires_on"), &v) && v > 0)
		return v;
	if (int_of(WALK(root, "expires_in"), &v) && v > 0 && v < INT32_MAX)
		return now + v;
	return 0;
}

int arm_parse_token(const char *body, size_t len, int64_t now, char *tok, size_t size,
		    int64_t *ret_expires_on, char **ret_error)
{
	_cleanup_json_ json_object *root = NULL;
	json_object *t;
	char *s;
	size_t n;
	int r;

	r = parse_object(body, len, &root, ret_error);
	if (r < 0)
		return r;
	t = WALK(root, "access_token");
	if (!t || !json_object_is_type(t, json_type_string)) {
		*ret_error = strdup("the answer has no access_token string");
		return -EBADMSG;
	}
	s = (char *)json_object_get_string(t);
	n = (size_t)json_object_get_string_len(t);
	r = 0;
	if (!token_chars_ok(s, n) || strlen(s) != n) {
		*ret_error = strdup("the access_token is not a bearer token");
		r = -EBADMSG;
	} else if (n >= size) {
		*ret_error = strdup("the access_token is too long");
		r = -E2BIG;
	} else {
		memcpy(tok, s, n + 1);
		*ret_expires_on = token_expiry(root, now);
	}
	/* json-c's copy is freed with the tree: wipe it first. */
	explicit_bzero(s, n);
	return r;
}

static char *one_line(const char *code, const char *msg)
{
	_cleanup_free_ char *s = NULL;

	if (!code && !msg)
		return NULL;
	s = strprintf("%s%s%s", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
	if (s && strlen(s) > ARM_ERROR_DESC_MAX)
		strcpy(s + ARM_ERROR_DESC_MAX - 3, "...");
	return TAKE_PTR(s);
}

char *arm_describe_error(const char *body, size_t len)
{
	_cleanup_json_ json_object *root = NULL;
	_cleanup_free_ char *err = NULL, *code = NULL, *msg = NULL;
	json_object *e;

	if (parse_object(body, len, &root, &err) < 0)
		return NULL;
	e = WALK(root, "error");
	if (e && json_object_is_type(e, json_type_object)) {
		code = str_of(WALK(e, "code"));
		msg = str_of(WALK(e, "message"));
	} else {
		code = str_of(e);
		msg = str_of(WALK(root, "error_description"));
	}
	return one_line(code, msg);
}

static void vm_disk_done(struct arm_vm_disk *d)
{
	free(d->id);
	free(d->des_id);
	free(d->security_encryption_type);
	free(d->security_des_id);
	free(d->diff_disk_option);
}

void arm_vm_done(struct arm_vm *vm)
{
	vm_disk_done(&vm->os_disk);
	for (size_t i = 0; i < vm->n_data_disks; i++)
		vm_disk_done(&vm->data_disks[i]);
	free(vm->data_disks);
	*vm = (struct arm_vm){ .encryption_at_host = TRI_UNKNOWN };
}

static void vm_disk_of(json_object *d, struct arm_vm_disk *ret)
{
	int64_t lun;

	ret->lun = int_of(WALK(d, "lun"), &lun) && lun <= INT_MAX ? (int)lun : -1;
	ret->id = str_of(WALK(d, "managedDisk", "id"));
	ret->des_id = str_of(WALK(d, "managedDisk", "diskEncryptionSet", "id"));
	ret->security_encryption_type = str_of(
		WALK(d, "managedDisk", "securityProfile", "securityEncryptionType"));
	ret->security_des_id = str_of(
		WALK(d, "managedDisk", "securityProfile", "diskEncryptionSet", "id"));
	ret->diff_disk_option = str_of(WALK(d, "diffDiskSettings", "option"));
}

int arm_parse_vm(const char *body, size_t len, struct arm_vm *ret, char **ret_error)
{
	_cleanup_json_ json_object *root = NULL;
	json_object *sp, *os, *data;
	struct arm_vm vm = { .encryption_at_host = TRI_UNKNOWN };
	int r;

	r = parse_object(body, len, &root, ret_error);
	if (r < 0)
		return r;
	sp = WALK(root, "properties", "storageProfile");
	if (!sp || !json_object_is_type(sp, json_type_object)) {
		*ret_error = strdup("the document has no properties.storageProfile");
		return -EBADMSG;
	}
	vm.encryption_at_host = tri_of(WALK(root, "properties", "securityProfile", "encryptionAtHost"));
	os = WALK(sp, "osDisk");
	if (os && json_object_is_type(os, json_type_object)) {
		vm.has_os_disk = true;
		vm_disk_of(os, &vm.os_disk);
		vm.os_disk.lun = -1;
	}
	data = WALK(sp, "dataDisks");
	if (data && json_object_is_type(data, json_type_array)) {
		size_t n = json_object_array_length(data);

		vm.data_disks = calloc(n ? n : 1, sizeof(*vm.data_disks));
		if (!vm.data_disks) {
			arm_vm_done(&vm);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			json_object *d = json_object_array_get_idx(data, i);

			if (d && json_object_is_type(d, json_type_object))
				vm_disk_of(d, &vm.data_disks[vm.n_data_disks++]);
		}
	}
	*ret = vm;
	return 0;
}

int arm_parse_disk(const char *body, size_t len, char **ret_type, char **ret_des_id, char **ret_pv,
		   char **ret_error)
{
	_cleanup_json_ json_object *root = NULL;
	json_object *enc;
	char *type;
	int r;

	r = parse_object(body, len, &root, ret_error);
	if (r < 0)
		return r;
	enc = WALK(root, "properties", "encryption");
	type = str_of(WALK(enc, "type"));
	if (!type) {
		*ret_error = strdup("the disk document has no properties.encryption.type");
		return -EBADMSG;
	}
	*ret_type = type;
	*ret_des_id = str_of(WALK(enc, "diskEncryptionSetId"));
	/* The Azure Disk CSI driver tags the disks it creates with their PV. */
	if (ret_pv)
		*ret_pv = str_of(WALK(root, "tags", ARM_TAG_PV_NAME));
	return 0;
}

int arm_parse_disk_security(const char *body, size_t len, char **ret_security_type,
			    char **ret_des_id, char **ret_error)
{
	_cleanup_json_ json_object *root = NULL;
	json_object *sp;
	int r;

	r = parse_object(body, len, &root, ret_error);
	if (r < 0)
		return r;
	sp = WALK(root, "properties", "securityProfile");
	*ret_security_type = str_of(WALK(sp, "securityType"));
	*ret_des_id = str_of(WALK(sp, "secureVMDiskEncryptionSetId"));
	return 0;
}

void arm_des_done(struct arm_des *d)
{
	free(d->encryption_type);
	free(d->key_url);
	free(d->last_rotation);
	free(d->rotation_error);
	*d = (struct arm_des){ .rotation_enabled = TRI_UNKNOWN };
}

/* autoKeyRotationError is an ApiError object; a bare string is kept too. */
static char *rotation_error_of(json_object *o)
{
	_cleanup_free_ char *code = NULL, *msg = NULL;

	if (!o)
		return NULL;
	if (!json_object_is_type(o, json_type_object))
		return str_of(o);
	code = str_of(WALK(o, "code"));
	msg = str_of(WALK(o, "message"));
	return one_line(code, msg);
}

int arm_parse_des(const char *body, size_t len, struct arm_des *ret, char **ret_error)
{
	_cleanup_json_ json_object *root = NULL;
	json_object *p;
	struct arm_des d = { .rotation_enabled = TRI_UNKNOWN };
	int r;

	r = parse_object(body, len, &root, ret_error);
	if (r < 0)
		return r;
	p = WALK(root, "properties");
	if (!p || !json_object_is_type(p, json_type_object)) {
		*ret_error = strdup("the disk encryption set document has no properties");
		return -EBADMSG;
	}
	d.encryption_type = str_of(WALK(p, "encryptionType"));
	d.key_url = str_of(WALK(p, "activeKey", "keyUrl"));
	d.rotation_enabled = tri_of(WALK(p, "rotationToLatestKeyVersionEnabled"));
	d.last_rotation = str_of(WALK(p, "lastKeyRotationTimestamp"));
	d.rotation_error = rotation_error_of(WALK(p, "autoKeyRotationError"));
	*ret = d;
	return 0;
}

int arm_parse_azure_json(const char *body, size_t len, char **ret)
{
	_cleanup_json_ json_object *root = NULL;
	_cleanup_free_ char *err = NULL;
	int r;

	*ret = NULL;
	r = parse_object(body, len, &root, &err);
	if (r < 0)
		return r;
	if (tri_of(WALK(root, "useManagedIdentityExtension")) != TRI_TRUE)
		return 0;
	*ret = str_of(WALK(root, "userAssignedIdentityID"));
	return 0;
}

int arm_parse_retry_after(const char *value, int64_t now, double *ret)
{
	uint64_t secs;
	time_t when;

	if (isempty(value))
		return -EINVAL;
	if (safe_atou64(value, &secs) == 0) {
		*ret = (double)MIN(secs, (uint64_t)(7 * 86400));
		return 0;
	}
	when = curl_getdate(value, NULL);
	if (when < 0)
		return -EINVAL;
	*ret = when > now ? (double)(when - now) : 0.0;
	return 0;
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static char *escape(const char *s, const char *keep)
{
	struct strbuf sb = { 0 };

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p) || (keep && strchr(keep, *p)))
			strbuf_putc(&sb, (char)*p);
		else
			strbuf_appendf(&sb, "%%%02X", *p);
	}
	if (!sb.buf && !strbuf_failed(&sb))
		strbuf_append(&sb, "");
	return strbuf_failed(&sb) ? (strbuf_done(&sb), NULL) : strbuf_steal(&sb);
}

char *arm_query_escape(const char *s)
{
	return escape(s, NULL);
}

static bool ends_with_dot_segment(const char *s)
{
	size_t n = strlen(s);

	return (n >= 2 && streq(s + n - 2, "/.")) || (n >= 3 && streq(s + n - 3, "/.."));
}

char *arm_resource_path(const char *id)
{
	if (isempty(id) || strncasecmp(id, "/subscriptions/", 15) != 0 || strlen(id) > JSON_MAX_VALUE_LEN)
		return NULL;
	for (const char *p = id; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return NULL;
	if (strstr(id, "//") || strstr(id, "/./") || strstr(id, "/../") || ends_with_dot_segment(id))
		return NULL;
	return escape(id, "/()!$&'*+,;=:@");
}

char *arm_token_resource(const char *arm_url)
{
	_cleanup_free_ char *origin = NULL;
	const char *p;

	p = strstr(arm_url ? arm_url : "", "://");
	if (!p || p == arm_url)
		return NULL;
	p += 3;
	p += strcspn(p, "/?#");
	origin = strndup(arm_url, (size_t)(p - arm_url));
	if (!origin || origin[strlen(origin) - 1] == '/')
		return NULL;
	{
		_cleanup_free_ char *with_slash = strprintf("%s/", origin);

		return with_slash ? arm_query_escape(with_slash) : NULL;
	}
}
