/* SPDX-License-Identifier: Apache-2.0 */
/* The ARM client's pure parts, table-driven: token, VM, disk and DES
 * documents (real samples and hostile variants), error bodies, azure.json,
 * Retry-After, resource paths, and the lookup schedule on a fake clock. */
#include "config.h"

#include <limits.h>

#include "imds/arm/arm-internal.h"
#include "tests/tap.h"

static char *slurp_sample(const char *name)
{
	const char *dir = getenv("SAMPLES");
	_cleanup_free_ char *path = strprintf("%s/arm/%s", dir ? dir : "tests/samples", name);

	return path ? tap_read_file(path, NULL) : NULL;
}

/* The samples wrap the body: {"responses": {"200": {"body": ...}}}. The
 * parsers read the body; extract it textually by re-serialising. */
#include <json-c/json.h>
static char *sample_body(const char *name)
{
	_cleanup_free_ char *text = slurp_sample(name);
	json_object *root = text ? json_tokener_parse(text) : NULL, *r, *c, *b;
	char *out = NULL;

	if (root && json_object_object_get_ex(root, "responses", &r) &&
	    json_object_object_get_ex(r, "200", &c) && json_object_object_get_ex(c, "body", &b))
		out = strdup(json_object_to_json_string(b));
	json_object_put(root);
	return out;
}

#define DISK_PFX "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/"

static void test_token(void)
{
	static const struct {
		const char *body;
		int r;
		const char *tok;
		int64_t exp;
	} rows[] = {
		{ "{\"access_token\":\"abc.def-_~+/=\",\"expires_on\":\"2000\",\"expires_in\":\"3599\"}",
		  0, "abc.def-_~+/=", 2000 },
		{ "{\"access_token\":\"t\",\"expires_in\":\"60\"}", 0, "t", 1060 },
		{ "{\"access_token\":\"t\",\"expires_on\":1234}", 0, "t", 1234 },
		{ "{\"access_token\":\"t\"}", 0, "t", 0 },
		{ "{\"access_token\":\"t\",\"expires_on\":\"soon\"}", 0, "t", 0 },
		{ "{\"access_token\":\"t\",\"expires_on\":-5}", 0, "t", 0 },
		{ "{\"access_token\":\"a b\"}", -EBADMSG, NULL, 0 },
		{ "{\"access_token\":\"a\\r\\nX-Evil: 1\"}", -EBADMSG, NULL, 0 },
		{ "{\"access_token\":\"a\\u0000b\"}", -EBADMSG, NULL, 0 },
		{ "{\"access_token\":\"\"}", -EBADMSG, NULL, 0 },
		{ "{\"access_token\":12345}", -EBADMSG, NULL, 0 },
		{ "{\"access_token\":null}", -EBADMSG, NULL, 0 },
		{ "{}", -EBADMSG, NULL, 0 },
		{ "[\"access_token\"]", -EBADMSG, NULL, 0 },
		{ "{\"access_token\":\"t\"", -EBADMSG, NULL, 0 },
		{ "", -EBADMSG, NULL, 0 },
		{ "{\"access_token\":\"t\"} trailing", -EBADMSG, NULL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char tok[64] = "";
		int64_t exp = -1;
		_cleanup_free_ char *err = NULL;
		int r = arm_parse_token(rows[i].body, strlen(rows[i].body), 1000, tok, sizeof(tok),
					&exp, &err);

		is_int(r, rows[i].r, "token row %zu: result", i);
		if (rows[i].r == 0) {
			is_str(tok, rows[i].tok, "token row %zu: token", i);
			is_int(exp, rows[i].exp, "token row %zu: expires_on", i);
		} else {
			ok(err && !strstr(err, "X-Evil") && !strstr(err, "t\""),
			   "token row %zu: error without the token (%s)", i, strna(err));
		}
	}
	{
		char small[4];
		int64_t exp;
		_cleanup_free_ char *err = NULL;
		const char *b = "{\"access_token\":\"toolong\"}";

		is_int(arm_parse_token(b, strlen(b), 0, small, sizeof(small), &exp, &err), -E2BIG,
		       "token longer than the buffer is refused");
	}
}

static void test_vm(void)
{
	_cleanup_free_ char *body = sample_body(
		"azure-rest-api-specs_ComputeRP_2024-11-01_VirtualMachineScaleSetVM_Get_WithVMSizeProperties.json");
	struct arm_vm vm;
	_cleanup_free_ char *err = NULL;
	static const char *bad[] = {
		"{}",  "{\"properties\":[]}", "{\"properties\":{\"storageProfile\":5}}", "[1]",
		"nul",
	};

	ok(body, "VMSS VM sample readable");
	if (body && ok(arm_parse_vm(body, strlen(body), &vm, &err) == 0, "VMSS VM sample parses")) {
		ok(vm.has_os_disk && vm.os_disk.id && strstr(vm.os_disk.id, "OsDisk"), "OS disk id");
		is_int(vm.n_data_disks, 1, "one data disk");
		is_int(vm.data_disks[0].lun, 1, "its LUN is a JSON number 1");
		is_int(vm.encryption_at_host, TRI_UNKNOWN, "no securityProfile: EAH unknown");
		ok(!vm.os_disk.des_id, "no DES in the sample");
		arm_vm_done(&vm);
	}
	{
		const char *b = "{\"properties\":{\"securityProfile\":{\"encryptionAtHost\":false},"
				"\"storageProfile\":{\"osDisk\":{\"managedDisk\":{\"id\":\"/x\","
				"\"diskEncryptionSet\":{\"id\":\"/d\"}}},\"dataDisks\":[7,{\"lun\":\"3\"},"
				"{\"lun\":true,\"managedDisk\":{\"id\":5}}]}}}";

		if (ok(arm_parse_vm(b, strlen(b), &vm, &err) == 0, "hand-made VM parses")) {
			is_int(vm.encryption_at_host, TRI_FALSE, "EAH false (JSON boolean)");
			is_str(vm.os_disk.des_id, "/d", "OS DES id");
			is_int(vm.n_data_disks, 2, "non-object data disk entries skipped");
			is_int(vm.data_disks[0].lun, 3, "string LUN accepted");
			is_int(vm.data_disks[1].lun, -1, "boolean LUN refused");
			ok(!vm.data_disks[1].id, "numeric id refused");
			arm_vm_done(&vm);
		}
	}
	{
		/* An ephemeral OS disk with a DES, and a confidential VM's
		 * securityProfile (DOMAIN.md §1a). */
		const char *b = "{\"properties\":{\"storageProfile\":{\"osDisk\":{"
				"\"diffDiskSettings\":{\"option\":\"Local\",\"placement\":\"ResourceDisk\"},"
				"\"managedDisk\":{\"diskEncryptionSet\":{\"id\":\"/des/eph\"},"
				"\"securityProfile\":{\"securityEncryptionType\":\"DiskWithVMGuestState\","
				"\"diskEncryptionSet\":{\"id\":\"/des/cvm\"}}}}}}}";
		const char *w = "{\"properties\":{\"storageProfile\":{\"osDisk\":{"
				"\"diffDiskSettings\":\"Local\",\"managedDisk\":{\"securityProfile\":"
				"{\"securityEncryptionType\":7,\"diskEncryptionSet\":[]}}}}}}";

		if (ok(arm_parse_vm(b, strlen(b), &vm, &err) == 0, "ephemeral CVM instance parses")) {
			is_str(vm.os_disk.diff_disk_option, "Local", "diffDiskSettings.option");
			is_str(vm.os_disk.des_id, "/des/eph", "the instance's OS DES");
			is_str(vm.os_disk.security_encryption_type, "DiskWithVMGuestState",
			       "securityEncryptionType");
			is_str(vm.os_disk.security_des_id, "/des/cvm", "securityProfile DES");
			arm_vm_done(&vm);
		}
		if (ok(arm_parse_vm(w, strlen(w), &vm, &err) == 0, "wrong-typed CVM fields parse")) {
			ok(!vm.os_disk.diff_disk_option && !vm.os_disk.security_encryption_type &&
				   !vm.os_disk.security_des_id,
			   "wrong-typed diffDiskSettings and securityProfile are absent, not guessed");
			arm_vm_done(&vm);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *e = NULL;

		is_int(arm_parse_vm(bad[i], strlen(bad[i]), &vm, &e), -EBADMSG,
		       "bad VM %zu refused (%s)", i, strna(e));
	}
}

static void test_disk(void)
{
	_cleanup_free_ char *body = sample_body("azure-rest-api-specs_DiskRP_2025-01-02_Disk_Get.json");
	static const struct {
		const char *body;
		int r;
		const char *type, *des;
	} rows[] = {
		{ "{\"properties\":{\"encryption\":{\"type\":\"EncryptionAtRestWithCustomerKey\",\"diskEncryptionSetId\":\"/s/d\"}}}",
		  0, "EncryptionAtRestWithCustomerKey", "/s/d" },
		{ "{\"properties\":{\"encryption\":{\"type\":\"EncryptionAtRestWithPlatformKey\"}}}",
		  0, "EncryptionAtRestWithPlatformKey", NULL },
		{ "{\"properties\":{\"encryption\":{\"type\":\"X\",\"diskEncryptionSetId\":7}}}", 0,
		  "X", NULL },
		{ "{\"properties\":{\"encryption\":{\"type\":5}}}", -EBADMSG, NULL, NULL },
		{ "{\"properties\":{\"encryption\":{\"type\":\"\"}}}", -EBADMSG, NULL, NULL },
		{ "{\"properties\":{\"encryption\":{\"type\":\"a\\u0001b\"}}}", -EBADMSG, NULL, NULL },
		{ "{\"properties\":{}}", -EBADMSG, NULL, NULL },
		{ "{\"properties\":{\"encryption\":\"EncryptionAtRestWithCustomerKey\"}}", -EBADMSG,
		  NULL, NULL },
		{ "{\"properties\":{\"encryption\":{\"type\":\"Encrypt", -EBADMSG, NULL, NULL },
	};
	char *type = NULL, *des = NULL;
	_cleanup_free_ char *err = NULL;

	if (ok(body && arm_parse_disk(body, strlen(body), &type, &des, NULL, &err) == 0,
	       "Disk sample parses")) {
		is_str(type, "EncryptionAtRestWithPlatformKey", "sample is platform key");
		ok(!des, "sample has no DES");
		free(type);
		free(des);
	}
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		_cleanup_free_ char *e = NULL;
		int r;

		type = des = NULL;
		r = arm_parse_disk(rows[i].body, strlen(rows[i].body), &type, &des, NULL, &e);
		is_int(r, rows[i].r, "disk row %zu: result", i);
		if (r == 0) {
			is_str(type, rows[i].type, "disk row %zu: type", i);
			is_str(des, rows[i].des, "disk row %zu: DES", i);
		}
		free(type);
		free(des);
	}
	{
		/* The CSI driver's tag; another type or a control character is no fact. */
		static const struct {
			const char *tags;
			const char *pv;
		} tags[] = {
			{ "{\"kubernetes.io-created-for-pv-name\":\"pvc-1f0e\",\"k8s-azure-created-by\":\"kubernetes-azure-dd\"}",
			  "pvc-1f0e" },
			{ "{\"kubernetes.io-created-for-pvc-name\":\"data\"}", NULL },
			{ "{\"kubernetes.io-created-for-pv-name\":7}", NULL },
			{ "{\"kubernetes.io-created-for-pv-name\":\"a\\u0001\"}", NULL },
			{ "[\"kubernetes.io-created-for-pv-name\"]", NULL },
		};

		for (size_t i = 0; i < ARRAY_SIZE(tags); i++) {
			_cleanup_free_ char *doc =
				strprintf("{\"properties\":{\"encryption\":{\"type\":\"EncryptionAtRestWithPlatformKey\"}},\"tags\":%s}",
					  tags[i].tags);
			_cleanup_free_ char *e = NULL;
			char *pv = NULL;

			type = des = NULL;
			is_int(arm_parse_disk(doc, strlen(doc), &type, &des, &pv, &e), 0,
			       "tags row %zu parses", i);
			is_str(pv, tags[i].pv, "tags row %zu: PV name", i);
			free(type);
			free(des);
			free(pv);
		}
	}
}

/* A confidential VM disk's securityProfile (DOMAIN.md §1a). */
static void test_disk_security(void)
{
	static const struct {
		const char *body;
		const char *type, *des;
	} rows[] = {
		{ "{\"properties\":{\"encryption\":{\"type\":\"EncryptionAtRestWithPlatformKey\"},"
		  "\"securityProfile\":{\"securityType\":\"ConfidentialVM_DiskEncryptedWithCustomerKey\","
		  "\"secureVMDiskEncryptionSetId\":\"/s/des\"}}}",
		  "ConfidentialVM_DiskEncryptedWithCustomerKey", "/s/des" },
		{ "{\"properties\":{\"securityProfile\":{\"securityType\":"
		  "\"ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey\"}}}",
		  "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey", NULL },
		{ "{\"properties\":{\"securityProfile\":{\"securityType\":[],"
		  "\"secureVMDiskEncryptionSetId\":{}}}}",
		  NULL, NULL },
		{ "{\"properties\":{\"securityProfile\":\"x\"}}", NULL, NULL },
		{ "{\"properties\":{}}", NULL, NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		_cleanup_free_ char *e = NULL;
		char *type = NULL, *des = NULL;

		is_int(arm_parse_disk_security(rows[i].body, strlen(rows[i].body), &type, &des, &e),
		       0, "security row %zu parses", i);
		is_str(type, rows[i].type, "security row %zu: securityType", i);
		is_str(des, rows[i].des, "security row %zu: secure DES", i);
		free(type);
		free(des);
	}
	{
		_cleanup_free_ char *e = NULL;
		char *type = NULL, *des = NULL;

		ok(arm_parse_disk_security("[", 1, &type, &des, &e) < 0 && e,
		   "security: not JSON is an error");
	}
}

static void test_des(void)
{
	_cleanup_free_ char *get = sample_body(
		"azure-rest-api-specs_DiskRP_2025-01-02_DiskEncryptionSet_Get.json");
	_cleanup_free_ char *rot = sample_body(
		"azure-rest-api-specs_DiskRP_2025-01-02_DiskEncryptionSet_Get_WithAutoKeyRotationError.json");
	_cleanup_free_ char *upd = sample_body(
		"azure-rest-api-specs_DiskRP_2025-01-02_DiskEncryptionSet_Update_WithRotationToLatestKeyVersionEnabled.json");
	struct arm_des d;
	_cleanup_free_ char *err = NULL;

	if (ok(get && arm_parse_des(get, strlen(get), &d, &err) == 0, "DES sample parses")) {
		is_str(d.encryption_type, "EncryptionAtRestWithCustomerKey", "DES type");
		is_str(d.key_url, "https://myvmvault.vault-int.azure-int.net/keys/{key}", "key URL");
		is_int(d.rotation_enabled, TRI_UNKNOWN, "rotation not stated");
		ok(!d.rotation_error && !d.last_rotation, "no rotation facts");
		arm_des_done(&d);
	}
	if (ok(rot && arm_parse_des(rot, strlen(rot), &d, &err) == 0,
	       "DES rotation-error sample parses")) {
		is_int(d.rotation_enabled, TRI_TRUE, "rotation enabled");
		ok(d.rotation_error && startswith(d.rotation_error, "ManagedServiceIdentityNotFound: "),
		   "rotation error is code: message");
		ok(d.rotation_error && strlen(d.rotation_error) <= 200, "rotation error bounded");
		arm_des_done(&d);
	}
	if (ok(upd && arm_parse_des(upd, strlen(upd), &d, &err) == 0, "DES update sample (200) parses")) {
		is_str(d.last_rotation, "2021-04-01T04:41:35.079872+00:00", "last rotation");
		arm_des_done(&d);
	}
	{
		const char *b = "{\"properties\":{\"activeKey\":3,\"encryptionType\":[\"x\"],"
				"\"rotationToLatestKeyVersionEnabled\":\"yes\",\"autoKeyRotationError\":\"boom\"}}";

		if (ok(arm_parse_des(b, strlen(b), &d, &err) == 0, "wrong-typed DES parses to nothing")) {
			ok(!d.key_url && !d.encryption_type, "wrong types dropped");
			is_int(d.rotation_enabled, TRI_UNKNOWN, "\"yes\" is not a boolean");
			is_str(d.rotation_error, "boom", "string rotation error kept");
			arm_des_done(&d);
		}
	}
	is_int(arm_parse_des("{}", 2, &d, &err), -EBADMSG, "DES without properties refused");
}

static void test_errors(void)
{
	static const struct {
		const char *body, *want;
	} rows[] = {
		{ "{\"error\":{\"code\":\"AuthorizationFailed\",\"message\":\"no\"}}",
		  "AuthorizationFailed: no" },
		{ "{\"error\":\"invalid_request\",\"error_description\":\"Identity not found\"}",
		  "invalid_request: Identity not found" },
		{ "{\"error\":{\"code\":5}}", NULL },
		{ "<html>", NULL },
		{ "", NULL },
		{ "{\"error\":\"a\\nb\"}", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		_cleanup_free_ char *d = arm_describe_error(rows[i].body, strlen(rows[i].body));

		is_str(d, rows[i].want, "error body %zu", i);
	}
}

static void test_azure_json(void)
{
	static const struct {
		const char *body, *want;
	} rows[] = {
		{ "{\"useManagedIdentityExtension\":true,\"userAssignedIdentityID\":\"abc\",\"aadClientSecret\":\"SECRET\"}",
		  "abc" },
		{ "{\"useManagedIdentityExtension\":false,\"userAssignedIdentityID\":\"abc\"}", NULL },
		{ "{\"useManagedIdentityExtension\":true,\"userAssignedIdentityID\":\"\"}", NULL },
		{ "{\"useManagedIdentityExtension\":true,\"userAssignedIdentityId\":\"abc\"}", NULL },
		{ "{\"useManagedIdentityExtension\":\"true\",\"userAssignedIdentityID\":\"abc\"}",
		  "abc" },
		{ "not json", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		_cleanup_free_ char *id = NULL;

		(void)arm_parse_azure_json(rows[i].body, strlen(rows[i].body), &id);
		is_str(id, rows[i].want, "azure.json row %zu", i);
	}
}

static void test_retry_after_and_paths(void)
{
	double s = -1;
	_cleanup_free_ char *p1 = arm_resource_path(
		"/subscriptions/a/resourceGroups/R G/providers/x/disks/d?x#y");
	_cleanup_free_ char *res = arm_token_resource("https://management.azure.com/");
	_cleanup_free_ char *res2 = arm_token_resource("http://127.0.0.1:8080/armapi/cmk");
	static const char *bad_ids[] = {
		"",
		"subscriptions/a",
		"/resourceGroups/x",
		"/subscriptions/a/../b",
		"/subscriptions/a/.",
		"/subscriptions/a//b",
		"/subscriptions/a\nb",
		"https://evil/subscriptions/a",
	};

	ok(arm_parse_retry_after("30", 0, &s) == 0 && s == 30, "Retry-After seconds");
	ok(arm_parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 40, &s) == 0 && s == 60,
	   "Retry-After HTTP date");
	ok(arm_parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", 40, &s) == 0 && s == 0,
	   "Retry-After in the past is 0");
	ok(arm_parse_retry_after("soon", 0, &s) < 0, "Retry-After garbage refused");
	ok(arm_parse_retry_after("-3", 0, &s) < 0, "negative Retry-After refused");
	is_str(p1, "/subscriptions/a/resourceGroups/R%20G/providers/x/disks/d%3Fx%23y",
	       "resource path escapes reserved bytes");
	for (size_t i = 0; i < ARRAY_SIZE(bad_ids); i++) {
		_cleanup_free_ char *p = arm_resource_path(bad_ids[i]);

		ok(!p, "bad resource id %zu refused", i);
	}
	is_str(res, "https%3A%2F%2Fmanagement.azure.com%2F", "token resource for ARM");
	is_str(res2, "http%3A%2F%2F127.0.0.1%3A8080%2F", "token resource is the origin");
}

static void test_schedule(void)
{
	const struct arm_sched_params *p = &arm_sched_default;
	struct arm_sched s;
	uint64_t rng = 42;
	double lo = 1e9, hi = 0;

	arm_sched_start(&s, p, 100, false, 4, &rng);
	ok(arm_sched_due(&s, 100), "check: due at once");
	for (int i = 0; i < 1000; i++) {
		arm_sched_start(&s, p, 0, true, 4, &rng);
		lo = MIN(lo, s.next_at);
		hi = MAX(hi, s.next_at);
	}
	ok(lo >= 0 && hi < 1000 && hi - lo > 900,
	   "daemon start delay spread over [0, 4 x 250 s): %.0f..%.0f", lo, hi);
	arm_sched_success(&s, p, 1000, &rng);
	ok(s.next_at >= 1000 + p->ttl * (1 - p->ttl_jitter) && s.next_at <= 1000 + p->ttl,
	   "success: next lookup within the jittered TTL");
	ok(!arm_sched_due(&s, 1000 + 3600), "not due an hour later");
	arm_sched_failure(&s, p, 0, 7200, &rng);
	ok(s.next_at >= 7200 && !arm_sched_due(&s, 7199), "Retry-After 7200 s: never sooner");
	arm_sched_success(&s, p, 10, &rng);
	ok(s.next_at >= 7200, "a success keeps the Retry-After floor");
	arm_sched_start(&s, p, 0, false, 4, &rng);
	for (int i = 0; i < 12; i++)
		arm_sched_failure(&s, p, 0, -1, &rng);
	ok(s.next_at <= p->fail_max && s.next_at >= p->fail_max / 2,
	   "failure backoff capped at fail_max");
	is_int(arm_retry_delay(p, 429, 3600, 1, 20) < 0, 1, "long 429 not retried in step");
	ok(arm_retry_delay(p, 429, 1, 1, 20) == 1, "short 429 retried after Retry-After");
	is_int(arm_retry_delay(p, 429, 1, 1, 1.2) < 0, 1, "429 not retried past the deadline");
	is_int(arm_retry_delay(p, 403, -1, 1, 20) < 0, 1, "403 final");
	is_int(arm_retry_delay(p, 404, -1, 1, 20) < 0, 1, "404 final for ARM");
	ok(arm_retry_delay(p, 503, -1, 1, 20) >= 1, "503 retried");
	is_int(arm_retry_delay(p, 503, -1, 3, 20) < 0, 1, "at most three tries");
	ok(arm_token_retry_delay(404, 1, 60) == 2 && arm_token_retry_delay(500, 2, 60) == 4 &&
		   arm_token_retry_delay(429, 3, 60) == 8 && arm_token_retry_delay(410, 4, 60) == 16,
	   "token retries after 2, 4, 8, 16 s");
	is_int(arm_token_retry_delay(400, 1, 60) < 0, 1, "token 400 final");
	is_int(arm_token_retry_delay(403, 1, 60) < 0, 1, "token 403 final");
	is_int(arm_token_retry_delay(500, 5, 600) < 0, 1, "token retries end");
	ok(arm_token_fresh(10000, 1000) && !arm_token_fresh(1200, 1000) && !arm_token_fresh(0, 0),
	   "token freshness keeps a margin");
}

int main(void)
{
	test_token();
	test_vm();
	test_disk();
	test_disk_security();
	test_des();
	test_errors();
	test_azure_json();
	test_retry_after_and_paths();
	test_schedule();
	return tap_done();
}
