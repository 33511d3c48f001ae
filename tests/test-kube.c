/* SPDX-License-Identifier: Apache-2.0 */
/* The Kubernetes pieces that are pure functions: kubelet's names and
 * vol_data.json (probes/kubelet.c), the PV-name test (agent/kube.c), and
 * the node-problem-detector line and status (agent/report/npd.c). */
#include "config.h"

#include <time.h>

#include "agent/kube.h"
#include "agent/report/npd.h"
#include "lib/json-util.h"
#include "probes/kubelet.h"
#include "tests/tap.h"

static void test_log_names(void)
{
	static const struct {
		const char *entry, *ns, *name, *uid;
	} rows[] = {
		{ "shop_db-0_1c7e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b", "shop", "db-0",
		  "1c7e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b" },
		/* A static pod's UID is the hash of its manifest: 32 hex digits. */
		{ "kube-system_etcd-node.example.com_0123456789abcdef0123456789abcdef",
		  "kube-system", "etcd-node.example.com", "0123456789abcdef0123456789abcdef" },
		{ "shop_db_0_1c7e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b" },  /* '_' in a name */
		{ "Shop_db-0_1c7e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b" },  /* upper case */
		{ "shop_db-0_1C7E2F3A-4b5d-4e6f-8a9b-0c1d2e3f4a5b" },  /* upper-case UID */
		{ "shop_db-0_zz7e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b" },  /* not hex */
		{ "shop__1c7e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b" },      /* empty name */
		{ "_db-0_1c7e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b" },      /* empty namespace */
		{ "shop_db-0_" },                                      /* no UID */
		{ "shop_-db_1c7e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b" },   /* leading '-' */
		{ "shop_db..0_1c7e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b" }, /* empty label */
		{ "shop_db-0_1c7e" },                                  /* UID too short */
		{ "readme.txt" },
		{ "" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char *ns = NULL, *name = NULL, *uid = NULL;
		int r = kubelet_parse_pod_log_name(rows[i].entry, &ns, &name, &uid);

		if (rows[i].ns) {
			is_int(r, 0, "log name %zu parses", i);
			is_str(ns, rows[i].ns, "log name %zu: namespace", i);
			is_str(name, rows[i].name, "log name %zu: pod", i);
			is_str(uid, rows[i].uid, "log name %zu: uid", i);
		} else {
			is_int(r, -EINVAL, "log name %zu (%s) refused", i, rows[i].entry);
			ok(!ns && !name && !uid, "log name %zu: outputs untouched", i);
		}
		free(ns);
		free(name);
		free(uid);
	}
	{
		/* 63 is the longest namespace (a DNS label), 64 is too long. */
		char ok63[128], long64[128];

		snprintf(ok63, sizeof(ok63), "%s_p_1c7e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b",
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
		snprintf(long64, sizeof(long64), "%s_p_1c7e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b",
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
		char *a = NULL, *b = NULL, *c = NULL;

		ok(kubelet_parse_pod_log_name(ok63, &a, &b, &c) == 0, "a 63-character namespace");
		free(a);
		free(b);
		free(c);
		a = b = c = NULL;
		ok(kubelet_parse_pod_log_name(long64, &a, &b, &c) == -EINVAL,
		   "a 64-character namespace is refused");
	}
}

static void test_vol_data(void)
{
	static const struct {
		const char *body;
		int r;
		const char *driver, *handle, *spec, *mode;
	} rows[] = {
		{ "{\"attachmentID\":\"csi-1\",\"driverName\":\"disk.csi.azure.com\",\"nodeName\":\"n\","
		  "\"specVolID\":\"pvc-a\",\"volumeHandle\":\"/s/d/pvc-a\",\"volumeLifecycleMode\":\"Persistent\"}\n",
		  0, "disk.csi.azure.com", "/s/d/pvc-a", "pvc-a", "Persistent" },
		{ "{\"driverName\":\"disk.csi.azure.com\",\"volumeHandle\":\"/s/d/x\"}", 0,
		  "disk.csi.azure.com", "/s/d/x", NULL, NULL },
		{ "{\"driverName\":\"\",\"specVolID\":null}", 0, NULL, NULL, NULL, NULL },
		{ "{\"driverName\":7}", -EBADMSG },
		{ "{\"volumeHandle\":[\"x\"]}", -EBADMSG },
		{ "[\"driverName\"]", -EBADMSG },
		{ "{\"driverName\":\"d\"} {}", -EBADMSG },
		{ "{\"driverName\": \"d\", \"volumeHandle\": ", -EBADMSG },
		{ "", -EBADMSG },
		{ "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}}", -EBADMSG }, /* deeper than kubelet writes */
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct kubelet_vol_data v = { 0 };
		_cleanup_free_ char *err = NULL;
		int r = kubelet_parse_vol_data(rows[i].body, strlen(rows[i].body), &v, &err);

		is_int(r, rows[i].r, "vol_data %zu: result (%s)", i, err ? err : "ok");
		if (r == 0) {
			ok(v.present && !v.error, "vol_data %zu: present", i);
			is_str(v.driver, rows[i].driver, "vol_data %zu: driver", i);
			is_str(v.volume_handle, rows[i].handle, "vol_data %zu: handle", i);
			is_str(v.spec_vol_id, rows[i].spec, "vol_data %zu: spec", i);
			is_str(v.lifecycle, rows[i].mode, "vol_data %zu: mode", i);
		} else {
			ok(err && !v.driver, "vol_data %zu: a reason, no values", i);
		}
		kubelet_vol_data_done(&v);
	}
	{
		/* A NUL byte inside is not JSON kubelet wrote. */
		static const char nul[] = "{\"driverName\":\"a\0b\"}";
		struct kubelet_vol_data v = { 0 };
		_cleanup_free_ char *err = NULL;

		is_int(kubelet_parse_vol_data(nul, sizeof(nul) - 1, &v, &err), -EBADMSG,
		       "vol_data with a NUL byte refused");
	}
}

static void test_names(void)
{
	ok(kube_pv_name_like("pvc-5a0f3c2e-8d4b-4e1f-9c6a-1b2d3e4f5a6b"), "pvc-<uuid> is a PV name");
	ok(!kube_pv_name_like("pvc-5A0F3C2E-8d4b-4e1f-9c6a-1b2d3e4f5a6b"), "upper case is not");
	ok(!kube_pv_name_like("aks-nodepool1-31718369-vmss000003-data-lun0"),
	   "a node's own disk is not");
	ok(!kube_pv_name_like("pvc-5a0f3c2e-8d4b-4e1f-9c6a-1b2d3e4f5a6"), "a short UUID is not");
	ok(!kube_pv_name_like("pvc-5a0f3c2e_8d4b-4e1f-9c6a-1b2d3e4f5a6b"), "a misplaced dash is not");
	ok(!kube_pv_name_like(NULL), "NULL is not");
	ok(kubelet_uid_valid("1c7e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b"), "a UUID is a pod UID");
	ok(kubelet_uid_valid("0123456789abcdef0123456789abcdef"), "a static pod's hash is a pod UID");
	ok(!kubelet_uid_valid("not-a-uid"), "words are not");
	ok(!kubelet_uid_valid("../../etc"), "a path is not");
	is_str(kube_volume_kind_to_string(KVOL_EMPTY_DIR), "empty_dir", "kind names");
	is_str(kube_volume_kind_to_string((enum kube_volume_kind)99), "other", "unknown kind");
}

/* A report with the given verdict, generated at `at`, and checks given as
 * "id subject status severity" quadruples. */
static json_object *report(const char *verdict, time_t at, const char *const *checks)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	char ts[32];

	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&at));
	json_object_object_add(o, "schema", json_object_new_string("atrest.report/v1"));
	json_object_object_add(o, "generated_at", json_object_new_string(ts));
	json_object_object_add(o, "verdict", json_object_new_string(verdict));
	for (; checks && *checks; checks += 4) {
		json_object *c = json_object_new_object();

		json_object_object_add(c, "id", json_object_new_string(checks[0]));
		json_object_object_add(c, "subject", json_object_new_string(checks[1]));
		json_object_object_add(c, "status", json_object_new_string(checks[2]));
		json_object_object_add(c, "severity", json_object_new_string(checks[3]));
		json_object_object_add(c, "summary", json_object_new_string("why"));
		json_object_array_add(a, c);
	}
	json_object_object_add(o, "checks", a);
	return o;
}

static void test_npd(void)
{
	static const char *const mixed[] = {
		"host.encryption_at_host",
		"node",
		"pass",
		"critical",
		"swap.encrypted",
		"/dev/sdc1",
		"fail",
		"warning",
		"disk.customer_managed_key",
		"lun:1",
		"unknown",
		"critical",
		"disk.temp_encrypted",
		"resource",
		"fail",
		"critical",
		"dmcrypt.cipher",
		"weak",
		"fail",
		"critical",
		"bench.aes_xts",
		"aes-xts-plain64:512",
		"fail",
		"info",
		NULL,
	};
	static const char *const unknowns[] = {
		"swap.encrypted",
		"/dev/sdc1",
		"unknown",
		"warning",
		"disk.customer_managed_key",
		"os",
		"unknown",
		"critical",
		NULL,
	};
	static const char *const warn[] = {
		"swap.encrypted",      "/dev/sdc1", "fail", "warning", "bench.aes_xts",
		"aes-xts-plain64:512", "fail",      "info", NULL,
	};
	static const struct {
		const char *verdict;
		const char *const *checks;
		double age, max_age;
		enum npd_status st;
		const char *prefix;
	} rows[] = {
		{ "noncompliant", mixed, 0, 300, NPD_NONOK,
		  "noncompliant: disk.temp_encrypted resource fail (critical) and 1 more; why" },
		{ "indeterminate", unknowns, 0, 300, NPD_UNKNOWN,
		  "indeterminate: disk.customer_managed_key os unknown (critical); why" },
		{ "warning", warn, 0, 300, NPD_OK, "warning: swap.encrypted /dev/sdc1 fail (warning)" },
		{ "compliant", NULL, 0, 300, NPD_OK, "compliant: no critical or warning check" },
		{ "compliant", NULL, 301, 300, NPD_UNKNOWN, "unknown: the report is 301 s old" },
		{ "compliant", NULL, 301, 0, NPD_OK, "compliant:" },
		{ "excellent", NULL, 0, 300, NPD_UNKNOWN, "unknown: the report's verdict" },
	};
	time_t now = time(NULL);

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		_cleanup_json_ json_object *r = report(rows[i].verdict, now - (time_t)rows[i].age,
						       rows[i].checks);
		enum npd_status st = 99;
		_cleanup_free_ char *line = npd_line(r, now, rows[i].max_age, &st);

		is_int(st, rows[i].st, "npd %zu: status", i);
		ok(line && startswith(line, rows[i].prefix), "npd %zu: \"%s\"", i, strna(line));
		ok(line && strlen(line) <= NPD_LINE_MAX && !strchr(line, '\n'),
		   "npd %zu: one short line", i);
	}
	{
		_cleanup_json_ json_object *r = report("compliant", now, NULL);
		enum npd_status st = NPD_OK;
		_cleanup_free_ char *l1 = NULL, *l2 = NULL, *l3 = NULL;

		json_object_object_add(r, "schema", json_object_new_string("atrest.report/v2"));
		l1 = npd_line(r, now, 300, &st);
		ok(st == NPD_UNKNOWN && startswith(l1, "unknown:"), "another schema is unknown");
		json_object_object_add(r, "schema", json_object_new_string("atrest.report/v1"));
		json_object_object_add(r, "generated_at", json_object_new_string("yesterday"));
		st = NPD_OK;
		l2 = npd_line(r, now, 300, &st);
		ok(st == NPD_UNKNOWN, "a report without a time is unknown: %s", l2);
		json_object_object_del(r, "checks");
		st = NPD_OK;
		l3 = npd_line(r, now, 0, &st);
		ok(st == NPD_UNKNOWN, "a report without checks is unknown: %s", l3);
	}
	{
		/* A long summary of multi-byte characters is cut whole. */
		char big[1024] = "";
		_cleanup_free_ char *line = NULL;

		for (int i = 0; i < 150; i++)
			strcat(big, "\xc3\xa9");
		line = npd_unknown_line(big);
		ok(line && strlen(line) <= NPD_LINE_MAX && !strncmp(line + strlen(line) - 3, "...", 3),
		   "a long line is cut to %d bytes", NPD_LINE_MAX);
		ok(line && ((unsigned char)line[strlen(line) - 4] & 0xc0) != 0xc0,
		   "never inside a UTF-8 sequence");
	}
}

int main(void)
{
	test_log_names();
	test_vol_data();
	test_names();
	test_npd();
	printf("1..%u\n", tap_count);
	return tap_failures ? 1 : 0;
}
