/* SPDX-License-Identifier: Apache-2.0 */
/* The IMDS parsers against every sample document and a table of hostile
 * inputs: values asserted, failures clean, output always printable. */
#include "config.h"

#include <dirent.h>
#include <json-c/json.h>

#include "imds/imds.h"
#include "lib/sysroot.h"
#include "tests/tap.h"

struct sample_case {
	const char *file;
	bool instance; /* an instance document at all */
	const char *name;
	const char *vm_id;
	const char *vmss_name;
	bool has_security;
	enum tristate eah;
	const char *eah_raw;
	const char *security_type;
	enum tristate secure_boot;
	enum tristate vtpm;
	bool has_storage;
	size_t n_data_disks;
	enum tristate ade;
	const char *diff_disk;
	uint64_t resource_disk_mb;
	size_t n_tags;
	const char *zone;
};

static const struct sample_case samples[] = {
	{ "azure-rest-api-specs_imds_2018-02-01_getInstanceMetadata.json", true, "examplevmname",
	  "02aab8a4-74ef-476e-8182-f6d2ba4166a6", "crpteste9vflji9", false, TRI_UNKNOWN, NULL, NULL,
	  TRI_UNKNOWN, TRI_UNKNOWN, false, 0, TRI_UNKNOWN, NULL, 0, 2, NULL },
	{ "azure-rest-api-specs_imds_2019-06-01_GetInstanceMetadata.json", true, "examplevmname",
	  "02aab8a4-74ef-476e-8182-f6d2ba4166a6", "crpteste9vflji9", false, TRI_UNKNOWN, NULL, NULL,
	  TRI_UNKNOWN, TRI_UNKNOWN, true, 1, TRI_FALSE, NULL, 0, 2, NULL },
	{ "azure-rest-api-specs_imds_2021-11-15_GetInstanceMetadata.json", true, "examplevmname",
	  "02aab8a4-74ef-476e-8182-f6d2ba4166a6", "crpteste9vflji9", true, TRI_TRUE, "true", NULL,
	  TRI_TRUE, TRI_FALSE, true, 1, TRI_TRUE, "Local", 4096, 2, NULL },
	{ "azure-rest-api-specs_imds_2023-07-01_GetIdentityToken.json", false },
	{ "azure-rest-api-specs_imds_2023-07-01_GetInstanceMetadata.json", true, "examplevmname",
	  "02aab8a4-74ef-476e-8182-f6d2ba4166a6", "crpteste9vflji9", true, TRI_TRUE, "true",
	  "TrustedLaunch", TRI_TRUE, TRI_FALSE, true, 1, TRI_TRUE, "Local", 4096, 2, NULL },
	{ "azure-rest-api-specs_imds_2023-07-01_GetVersions.json", false },
	{ "cloud-init_test_azure_NETWORK_METADATA.json", true, "my-hostname",
	  "ff702a6b-cb6a-4fcd-ad68-b4ce38227642", NULL, false, TRI_UNKNOWN, NULL, NULL, TRI_UNKNOWN,
	  TRI_UNKNOWN, false, 0, TRI_UNKNOWN, NULL, 0, 0, NULL },
	{ "msdocs-azure-compute-docs_imds_sample4_compute_linux.json", true, "examplevmname",
	  "02aab8a4-74ef-476e-8182-f6d2ba4166a6", "crpteste9vflji9", true, TRI_TRUE, "true",
	  "TrustedLaunch", TRI_TRUE, TRI_FALSE, true, 1, TRI_FALSE, "Local", 4096, 2, "3" },
	{ "msdocs-azure-docs_imds-full-instance-response_linux.json", true, "examplevmname",
	  "02aab8a4-74ef-476e-8182-f6d2ba4166a6", "crpteste9vflji9", true, TRI_TRUE, "true",
	  "TrustedLaunch", TRI_TRUE, TRI_FALSE, true, 1, TRI_FALSE, "Local", 4096, 2, NULL },
	{ "otel-python-contrib_test_vm_LINUX_JSON.json", true, "examplevmname",
	  "02aab8a4-74ef-476e-8182-f6d2ba4166a6", "crpteste9vflji9", true, TRI_FALSE, "false",
	  "TrustedLaunch", TRI_TRUE, TRI_TRUE, true, 1, TRI_FALSE, NULL, 16384, 2, "1" },
	{ "walinuxagent_tests_data_imds_valid.json", true, "health",
	  "e7fdbfc4-2deb-4a4e-8615-ea6aaf50162e", NULL, false, TRI_UNKNOWN, NULL, NULL, TRI_UNKNOWN,
	  TRI_UNKNOWN, false, 0, TRI_UNKNOWN, NULL, 0, 0, NULL },
};

static char *samples_dir(void)
{
	const char *s = getenv("SAMPLES");
	const char *top = getenv("top_srcdir");

	if (s)
		return strprintf("%s/imds", s);
	return strprintf("%s/tests/samples/imds", top ? top : ".");
}

/* The tests unwrap swagger examples the way the loopback server does. */
static char *unwrap(char *text, size_t *len)
{
	json_object *root = json_tokener_parse(text), *r, *ok, *body;
	char *out;

	if (!root || !json_object_object_get_ex(root, "responses", &r) ||
	    !json_object_object_get_ex(r, "200", &ok) ||
	    !json_object_object_get_ex(ok, "body", &body)) {
		json_object_put(root);
		return text;
	}
	out = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PRETTY));
	json_object_put(root);
	free(text);
	*len = strlen(out);
	return out;
}

static void check_sample(const char *dir, const struct sample_case *c)
{
	_cleanup_free_ char *path = path_join(dir, c->file), *text = NULL;
	_cleanup_free_ char *err = NULL;
	struct imds_instance inst = { 0 };
	size_t len = 0;
	int r;

	text = tap_read_file(path, &len);
	if (!ok(text, "%s: readable", c->file))
		return;
	text = unwrap(text, &len);
	r = imds_parse_instance(text, len, &inst, &err);
	if (!c->instance) {
		is_int(r, -EBADMSG, "%s: not an instance document", c->file);
		ok(err && !strchr(err, '\n'), "%s: one-line reason: %s", c->file, strna(err));
		return;
	}
	if (!is_int(r, 0, "%s: parses (%s)", c->file, strna(err)))
		return;
	is_str(inst.name, c->name, "%s: name", c->file);
	is_str(inst.vm_id, c->vm_id, "%s: vmId", c->file);
	is_str(inst.vmss_name, c->vmss_name, "%s: vmScaleSetName", c->file);
	is_int(inst.has_security_profile, c->has_security, "%s: has securityProfile", c->file);
	is_int(inst.encryption_at_host, c->eah, "%s: encryptionAtHost %s", c->file,
	       tristate_to_string(c->eah));
	is_str(inst.encryption_at_host_raw, c->eah_raw, "%s: encryptionAtHost raw", c->file);
	is_str(inst.security_type, c->security_type, "%s: securityType", c->file);
	is_int(inst.secure_boot, c->secure_boot, "%s: secureBootEnabled", c->file);
	is_int(inst.vtpm, c->vtpm, "%s: virtualTpmEnabled", c->file);
	is_int(inst.has_storage_profile, c->has_storage, "%s: has storageProfile", c->file);
	is_int(inst.n_data_disks, c->n_data_disks, "%s: data disks", c->file);
	is_int(inst.os_disk.ade_enabled, c->ade, "%s: ADE enabled", c->file);
	is_str(inst.os_disk.diff_disk_option, c->diff_disk, "%s: diffDiskSettings", c->file);
	is_int(inst.resource_disk_mb, c->resource_disk_mb, "%s: resourceDisk", c->file);
	is_int(inst.n_tags, c->n_tags, "%s: tags", c->file);
	is_str(inst.zone, c->zone, "%s: zone", c->file);
	imds_instance_done(&inst);
}

static void check_sample_details(const char *dir)
{
	_cleanup_free_ char *path =
		path_join(dir, "azure-rest-api-specs_imds_2023-07-01_GetInstanceMetadata.json");
	_cleanup_free_ char *err = NULL, *text = NULL;
	struct imds_instance inst = { 0 };
	size_t len = 0;

	text = unwrap(tap_read_file(path, &len), &len);
	if (!is_int(imds_parse_instance(text, len, &inst, &err), 0, "2023-07-01 parses"))
		return;
	is_int(inst.data_disks[0].lun, 0, "data disk lun \"0\" read as 0");
	is_int(inst.data_disks[0].size_gb, 1024, "data disk size");
	is_str(inst.data_disks[0].storage_account_type, "Standard_LRS", "data disk sku");
	is_int(inst.data_disks[0].write_accelerator, TRI_FALSE, "write accelerator");
	ok(inst.data_disks[0].managed_disk_id &&
		   strstr(inst.data_disks[0].managed_disk_id, "/disks/exampledatadiskname"),
	   "data disk managed id");
	is_str(inst.os_disk.name, "exampleosdiskname", "os disk name");
	is_int(inst.os_disk.size_gb, 30, "os disk size");
	is_str(inst.os_disk.caching, "ReadWrite", "os disk caching");
	is_str(inst.resource_group, "macikgo-test-may-23", "resource group");
	is_str(inst.subscription_id, "8d10da13-8125-4ba9-a717-bf7490507b3d", "subscription");
	is_str(inst.location, "westus", "location");
	is_str(inst.vm_size, "Standard_A3", "vm size");
	is_str(inst.az_environment, "AZUREPUBLICCLOUD", "azEnvironment");
	ok(inst.vmss_id && strstr(inst.vmss_id, "/virtualMachineScaleSets/"), "vmss id");
	is_str(imds_instance_tag(&inst, "foo"), "bar", "tag foo from tagsList");
	is_str(imds_instance_tag(&inst, "nope"), NULL, "missing tag");
	imds_instance_done(&inst);
}

static int parse_str(const char *s, struct imds_instance *inst, char **err)
{
	*err = NULL;
	return imds_parse_instance(s, strlen(s), inst, err);
}

static void check_value_types(void)
{
	struct imds_instance inst = { 0 };
	char *err = NULL;

	/* JSON booleans and numbers where IMDS sends strings. */
	is_int(parse_str("{\"compute\":{\"vmId\":\"v\",\"securityProfile\":"
			 "{\"encryptionAtHost\":true,\"secureBootEnabled\":\"TRUE\"},"
			 "\"storageProfile\":{\"dataDisks\":[{\"lun\":3,\"diskSizeGB\":8},"
			 "{\"lun\":\"x\"},{\"lun\":\"-1\"}],\"resourceDisk\":{\"size\":0}}}}",
			 &inst, &err),
	       0, "booleans and numbers accepted");
	is_int(inst.encryption_at_host, TRI_TRUE, "JSON true is true");
	is_str(inst.encryption_at_host_raw, "true", "raw of JSON true");
	is_int(inst.secure_boot, TRI_TRUE, "\"TRUE\" is true");
	is_int(inst.n_data_disks, 3, "three disks");
	is_int(inst.data_disks[0].lun, 3, "numeric lun");
	is_int(inst.data_disks[0].size_gb, 8, "numeric size");
	is_int(inst.data_disks[1].lun, -1, "lun \"x\" is absent");
	is_int(inst.data_disks[2].lun, -1, "lun \"-1\" is absent");
	ok(inst.has_resource_disk && inst.resource_disk_mb == 0, "resource disk size 0");
	imds_instance_done(&inst);
}

static void check_mistyped(void)
{
	struct imds_instance inst = { 0 };
	char *err = NULL;

	/* json-c takes NaN even in strict mode: a double is no name. */
	is_int(parse_str("{\"vmId\":\"v\",\"name\":NaN}", &inst, &err), 0, "NaN parses");
	is_str(inst.name, NULL, "NaN name is absent");
	imds_instance_done(&inst);

	/* Mistyped fields are absent, the rest still read. */
	is_int(parse_str("{\"compute\":{\"vmId\":\"v\",\"name\":7,\"securityProfile\":"
			 "{\"encryptionAtHost\":1,\"virtualTpmEnabled\":\"maybe\"},"
			 "\"storageProfile\":{\"osDisk\":[],\"dataDisks\":[5,{\"lun\":[]}]},"
			 "\"tagsList\":[1,{\"name\":2},{\"name\":\"k\",\"value\":3}],"
			 "\"tags\":\"ignored:yes\"}}",
			 &inst, &err),
	       0, "mistyped fields tolerated");
	is_str(inst.name, NULL, "numeric name is absent");
	is_int(inst.encryption_at_host, TRI_UNKNOWN, "EAH 1 is unknown, not true");
	is_str(inst.encryption_at_host_raw, "1", "raw of EAH 1 kept as evidence");
	is_int(inst.vtpm, TRI_UNKNOWN, "\"maybe\" is unknown");
	ok(inst.has_storage_profile && !inst.has_os_disk, "osDisk array is no os disk");
	is_int(inst.os_disk.ade_enabled, TRI_UNKNOWN, "ADE unknown without os disk");
	is_int(inst.n_data_disks, 1, "non-object disk entry skipped");
	is_int(inst.data_disks[0].lun, -1, "array lun is absent");
	is_int(inst.n_tags, 1, "tagsList preferred, bad entries skipped");
	is_str(imds_instance_tag(&inst, "k"), "", "tag with mistyped value is empty");
	is_str(imds_instance_tag(&inst, "ignored"), NULL, "tags string ignored with tagsList");
	imds_instance_done(&inst);
}

static void check_tags_and_escapes(void)
{
	struct imds_instance inst = { 0 };
	char *err = NULL;

	/* The old "tags" string form, a value with ':' and empty pieces. */
	is_int(parse_str("{\"vmId\":\"v\",\"tags\":\"a:1;;b:x:y;c;:z\",\"zone\":\"\"}", &inst, &err),
	       0, "bare compute object");
	is_int(inst.n_tags, 3, "tags string split");
	is_str(imds_instance_tag(&inst, "b"), "x:y", "value keeps its colon");
	is_str(imds_instance_tag(&inst, "c"), "", "tag without value");
	is_str(inst.zone, NULL, "empty string is absent");
	imds_instance_done(&inst);

	/* Control characters and NULs inside values never reach output. */
	is_int(parse_str("{\"vmId\":\"a\\u0000b\",\"name\":\"\\u001b[31mred\","
			 "\"location\":\"ok\\u00e9\"}",
			 &inst, &err),
	       0, "escaped control characters parse");
	is_str(inst.vm_id, NULL, "value with NUL is absent");
	is_str(inst.name, NULL, "value with ESC is absent");
	is_str(inst.location, "ok\xc3\xa9", "escaped non-ASCII kept as UTF-8");
	imds_instance_done(&inst);
}

struct bad_case {
	const char *what;
	const char *body;
	size_t len;         /* 0: strlen */
	const char *reason; /* substring of the error */
};

static void check_bad(const struct bad_case *c)
{
	struct imds_instance inst = { 0 };
	_cleanup_free_ char *err = NULL;
	size_t len = c->len ? c->len : strlen(c->body);
	int r = imds_parse_instance(c->body, len, &inst, &err);

	is_int(r, -EBADMSG, "bad input rejected: %s", c->what);
	ok(err && strstr(err, c->reason) && !strchr(err, '\n'), "reason for %s: %s", c->what,
	   strna(err));
	if (r == 0)
		imds_instance_done(&inst);
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	struct strbuf sb = { 0 };

	strbuf_append(&sb, head);
	for (size_t i = 0; i < n; i++)
		strbuf_append(&sb, unit);
	strbuf_append(&sb, tail);
	return strbuf_steal(&sb);
}

static void check_bad_inputs(void)
{
	_cleanup_free_ char *deep = repeat("", "[", 10000, "");
	_cleanup_free_ char *deep_inner = repeat("{\"vmId\":\"v\",\"x\":", "[", 100, "");
	static const struct bad_case cases[] = {
		{ "not JSON", "Bad Request", 0, "not JSON" },
		{ "HTML", "<html><body>login</body></html>", 0, "not JSON" },
		{ "empty", "", 0, "empty body" },
		{ "array top level", "[{\"vmId\":\"v\"}]", 0, "array" },
		{ "string top level", "\"vmId\"", 0, "string" },
		{ "number top level", "42", 0, "int" },
		{ "null top level", "null", 0, "null" },
		{ "number and garbage", "42 x", 0, "not JSON" },
		{ "compute not an object", "{\"compute\":[1]}", 0, "\"compute\"" },
		{ "no compute field", "{\"error\":\"Bad request\"}", 0, "no usable compute" },
		{ "every field mistyped",
		  "{\"compute\":{\"name\":1,\"vmId\":true,\"resourceId\":[],"
		  "\"subscriptionId\":{},\"location\":null,\"vmSize\":2.5,"
		  "\"securityProfile\":{\"encryptionAtHost\":1}}}",
		  0, "no usable compute" },
		{ "truncated", "{\"compute\":{\"vmId\":\"v\",\"name\":\"n", 0, "ends too early" },
		{ "trailing garbage", "{\"vmId\":\"v\"} x", 0, "not JSON" },
		{ "two documents", "{\"vmId\":\"v\"}{}", 0, "not JSON" },
		{ "trailing comma", "{\"vmId\":\"v\",}", 0, "not JSON" },
		{ "single quotes", "{'vmId':'v'}", 0, "not JSON" },
		{ "invalid UTF-8", "{\"vmId\":\"v\xff\xfe\"}", 0, "UTF-8" },
		{ "overlong UTF-8", "{\"vmId\":\"\xc0\xaf\"}", 0, "UTF-8" },
		{ "UTF-8 surrogate", "{\"vmId\":\"\xed\xa0\x80\"}", 0, "UTF-8" },
		{ "cut UTF-8", "{\"vmId\":\"\xe2\x82\"}", 0, "UTF-8" },
		{ "embedded NUL", "{\"vmId\":\"a\0b\"}", 14, "NUL" },
		{ "NUL after document", "{\"vmId\":\"v\"}\0", 13, "NUL" },
	};
	struct bad_case nest = { "10000-deep arrays", deep, 0, "not JSON" };
	struct bad_case nest2 = { "100-deep inside compute", deep_inner, 0, "not JSON" };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		check_bad(&cases[i]);
	check_bad(&nest);
	check_bad(&nest2);
}

static void check_limits(void)
{
	_cleanup_free_ char *huge = repeat("{\"vmId\":\"v\",\"name\":\"", "x", 2 * 1024 * 1024, "\"}");
	_cleanup_free_ char *nested = repeat("{\"vmId\":\"v\",\"x\":", "[", 30, "");
	struct imds_instance inst = { 0 };
	_cleanup_free_ char *err = NULL;
	struct strbuf sb = { 0 };

	is_int(parse_str(huge, &inst, &err), 0, "2 MiB string parses");
	is_str(inst.name, NULL, "over-long value is absent");
	is_str(inst.vm_id, "v", "other values kept");
	imds_instance_done(&inst);

	strbuf_append(&sb, nested);
	for (int i = 0; i < 30; i++)
		strbuf_append(&sb, "]");
	strbuf_append(&sb, "}");
	is_int(parse_str(sb.buf, &inst, &err), 0, "30-deep unknown key accepted");
	is_str(inst.vm_id, "v", "value beside it read");
	imds_instance_done(&inst);
	strbuf_done(&sb);
}

static void check_versions(const char *dir)
{
	_cleanup_free_ char *path = path_join(dir,
					      "azure-rest-api-specs_imds_2023-07-01_GetVersions.json");
	_cleanup_free_ char *text = NULL, *err = NULL;
	_cleanup_strv_free_ char **v = NULL;
	size_t len = 0;
	const char *mixed = "{\"apiVersions\":[\"2021-01-01\",5,\"../x\",\"2021-02-01?a=b\","
			    "\"2021-02-01\"]}";

	text = unwrap(tap_read_file(path, &len), &len);
	is_int(imds_parse_versions(text, len, &v, &err), 0, "GetVersions parses");
	is_int(strv_length(v), 31, "31 versions");
	ok(strv_contains(v, "2021-12-13") && strv_contains(v, "2023-07-01"), "versions listed");
	strv_free(v);
	v = NULL;
	is_int(imds_parse_versions(mixed, strlen(mixed), &v, &err), 0, "mixed list parses");
	is_int(strv_length(v), 2, "only well-formed versions kept");
	free(err);
	err = NULL;
	is_int(imds_parse_versions("[]", 2, &v, &err), -EBADMSG, "array rejected");
	ok(err && strstr(err, "apiVersions"), "reason: %s", strna(err));
}

static bool printable_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void check_describe_one(const char *what, const char *body, size_t len, const char *want)
{
	_cleanup_free_ char *d = imds_describe_error_body(body, len);

	ok(d && strstr(d, want), "describe %s: %s", what, strna(d));
	ok(d && printable_line(d) && strlen(d) <= 220, "describe %s: one bounded printable line", what);
}

static void check_describe(void)
{
	static const char xml[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Error><Code>BadRequest</Code>"
				  "<Message>Bad Request - Invalid Header</Message></Error>";
	static const char html[] =
		"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">\r\n<HTML><HEAD>"
		"<TITLE>Bad Request</TITLE></HEAD><BODY><h2>Bad Request - Invalid Hostname"
		"</h2><hr><p>HTTP Error 400. The request hostname is invalid.</p></BODY></HTML>";
	_cleanup_free_ char *noise = repeat("", "A\x1b[31m\xff\n", 5000, "");
	_cleanup_free_ char *long_err = repeat("{\"error\":\"", "e", 5000, "\"}");

	check_describe_one("JSON error", "{\"error\": \"Bad request\"}", 24, "error: Bad request");
	check_describe_one("token error",
			   "{\"error\":\"invalid_request\",\"error_description\":\"Identity not found\"}",
			   68, "invalid_request: Identity not found");
	check_describe_one("IIS XML", xml, strlen(xml), "BadRequest Bad Request - Invalid Header");
	check_describe_one("HTTP.sys HTML", html, strlen(html), "HTTP Error 400");
	check_describe_one("empty", "", 0, "empty body");
	check_describe_one("white space", " \r\n", 3, "empty body");
	check_describe_one("terminal escapes", noise, strlen(noise), "A [31m");
	check_describe_one("long error", long_err, strlen(long_err), "eee...");
	check_describe_one("NUL inside", "Bad\0Request", 11, "Bad Request");
}

/* A sample added to the directory must be added to the table too. */
static void check_all_samples_listed(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!ok(d, "samples directory %s opens", dir))
		return;
	while ((de = readdir(d))) {
		bool listed = false;

		if (de->d_name[0] == '.')
			continue;
		n++;
		for (size_t i = 0; i < ARRAY_SIZE(samples); i++)
			listed = listed || streq(samples[i].file, de->d_name);
		ok(listed, "sample %s has expectations", de->d_name);
	}
	is_int(n, ARRAY_SIZE(samples), "every sample in the table exists");
}

int main(void)
{
	_cleanup_free_ char *dir = samples_dir();

	check_all_samples_listed(dir);
	for (size_t i = 0; i < ARRAY_SIZE(samples); i++)
		check_sample(dir, &samples[i]);
	check_sample_details(dir);
	check_value_types();
	check_mistyped();
	check_tags_and_escapes();
	check_bad_inputs();
	check_limits();
	check_versions(dir);
	check_describe();
	return tap_done();
}
