/* SPDX-License-Identifier: Apache-2.0 */
/* The VMSS handler's pure pieces: HandlerEnvironment.json and settings
 * parsing on hostile input, settings -> INI, the status document's caps. */
#include "config.h"

#include "agent/vmss/vmss.h"
#include "lib/strutil.h"
#include "tests/tap.h"

static void test_env(void)
{
	static const char good[] =
		"[{\"name\":\"A.B\",\"version\":1.0,\"handlerEnvironment\":{\"logFolder\":\"/l\","
		"\"configFolder\":\"/c\",\"statusFolder\":\"/s\",\"heartbeatFile\":\"/h\"}}]";
	static const char rel[] = "[{\"handlerEnvironment\":{\"logFolder\":\"rel\",\"configFolder\":\"/c\","
				  "\"statusFolder\":\"/s\"}}]";
	struct vmss_env e = { 0 };

	is_int(vmss_env_parse(good, strlen(good), &e), 0, "env: a full document parses");
	is_str(e.status_folder, "/s", "env: statusFolder");
	is_str(e.heartbeat_file, "/h", "env: heartbeatFile");
	vmss_env_done(&e);
	is_int(vmss_env_parse(good, 0, &e), -EAGAIN, "env: empty is being written");
	is_int(vmss_env_parse(good, 50, &e), -EAGAIN, "env: cut short is being written");
	is_int(vmss_env_parse("[{}]", 4, &e), -EINVAL, "env: no handlerEnvironment is wrong");
	is_int(vmss_env_parse("[1] x", 5, &e), -EINVAL, "env: trailing garbage is wrong");
	is_int(vmss_env_parse(rel, strlen(rel), &e), -EINVAL, "env: a relative folder is wrong");
}

static void test_settings(void)
{
	static const char doc[] = "{\"runtimeSettings\":[{\"handlerSettings\":{\"publicSettings\":"
				  "{\"policy\":{}},\"protectedSettings\":\"QUJD\","
				  "\"protectedSettingsCertThumbprint\":\"AB12\"}}]}";
	struct vmss_settings s;
	char *err = NULL;

	is_int(vmss_settings_parse(doc, strlen(doc), &s, &err), 0, "settings: parse");
	ok(s.public_settings && s.protected_settings && streq(s.thumbprint, "AB12"),
	   "settings: public, protected and thumbprint");
	vmss_settings_done(&s);
	is_int(vmss_settings_parse("\n", 1, &s, &err), 0, "settings: empty file is no settings");
	ok(!s.public_settings, "settings: none");
	is_int(vmss_settings_parse("{\"runtimeSettings\":[]}", 22, &s, &err), -EINVAL,
	       "settings: no handlerSettings is an error");
	ok(err && strstr(err, "handlerSettings"), "settings: the error names handlerSettings");
	free(err);
}

static void ini_case(const char *json, int want, const char *want_text)
{
	json_object *o = json_tokener_parse(json);
	char *ini = NULL, *err = NULL;
	int r = vmss_settings_to_ini(o, &ini, &err);

	is_int(r, want, "to_ini %s", json);
	if (want == 0)
		ok(ini && strstr(ini, want_text), "to_ini %s gives the expected INI", json);
	else
		ok(err && strstr(err, want_text), "to_ini %s error mentions the problem", json);
	json_object_put(o);
	free(ini);
	free(err);
}

static void test_ini(void)
{
	ini_case("{\"policy\":{\"required_paths\":[\"/a\",\"/b\"]}}", 0,
		 "[policy]\nrequired_paths = /a /b\n");
	ini_case("{\"policy\":{\"min_key_bits\":256}}", 0, "min_key_bits = 256\n");
	ini_case("{\"imds\":{\"timeout\":2.5}}", 0, "timeout = 2.5\n");
	ini_case("{\"severity\":{\"swap.encrypted\":\"critical\"}}", 0, "swap.encrypted = critical\n");
	ini_case("{\"policy\":{\"required_paths\":null}}", 0, "[policy]\n");
	ini_case("{\"nope\":{}}", -EINVAL, "unknown section 'nope'");
	ini_case("{\"policy\":[]}", -EINVAL, "want an object");
	ini_case("{\"policy\":{\"a;b\":\"x\"}}", -EINVAL, "not a key name");
	ini_case("{\"policy\":{\"k\":\"x\\u000a[arm]\"}}", -EINVAL, "one-line");
	ini_case("{\"policy\":{\"k\":\"x ; y\"}}", -EINVAL, "one-line");
	ini_case("{\"policy\":{\"k\":[\"a b\"]}}", -EINVAL, "k[0]");
	ini_case("{\"policy\":{\"k\":true}}", -EINVAL, "want a string");
}

/* A node with many failing checks: the summary must stay under its cap
 * and count what it left out. */
static void test_summary_cap(void)
{
	struct report r = { .verdict = VERDICT_NONCOMPLIANT, .generated_at = 0 };
	char long_summary[2000];
	char *s, *st;
	json_object *o, *v = NULL;
	int omitted = -1;

	memset(long_summary, 'x', sizeof(long_summary) - 1);
	long_summary[sizeof(long_summary) - 1] = '\0';
	for (int i = 0; i < 500; i++) {
		char subject[32];

		snprintf(subject, sizeof(subject), "lun:%d", i);
		check_results_add(&r.results, CHECK_DISK_CMK, subject,
				  i % 2 ? CHECK_FAIL : CHECK_UNKNOWN, NULL, "%s", long_summary);
		r.results.v[r.results.n - 1].severity = SEV_CRITICAL;
	}
	s = vmss_compliance_summary(&r, VMSS_SUMMARY_MAX_BYTES);
	ok(s && strlen(s) <= VMSS_SUMMARY_MAX_BYTES, "summary: %zu bytes <= cap", s ? strlen(s) : 0);
	o = json_tokener_parse(s);
	if (json_object_object_get_ex(o, "omitted", &v))
		omitted = json_object_get_int(v);
	ok(omitted > 400, "summary: the rest is counted as omitted (%d)", omitted);
	ok(json_object_object_get_ex(o, "checks", &v) && json_object_array_length(v) > 0 &&
		   streq(json_object_get_string(
				 json_object_object_get(json_object_array_get_idx(v, 0), "status")),
			 "fail"),
	   "summary: failing checks come first");
	json_object_put(o);
	st = vmss_status_render(&(struct vmss_status){
		.operation = "Enable", .state = VMSS_SUCCESS, .message = long_summary, .report = &r });
	ok(st && strlen(st) < VMSS_STATUS_MAX_BYTES, "status: under 128 KiB");
	ok(st && strstr(st, "\"substatus\":[{\"name\":\"compliance\",\"status\":\"error\",\"code\":2"),
	   "status: noncompliant is an error substatus with the Nagios code");
	free(st);
	free(s);
	report_done(&r);
}

int main(void)
{
	test_env();
	test_settings();
	test_ini();
	test_summary_cap();
	return tap_done();
}
