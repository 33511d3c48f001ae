/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: what kubelet leaves on the node, as atrest parses it:
 * vol_data.json (kubelet_parse_vol_data) and a /var/log/pods entry name
 * (kubelet_parse_pod_log_name), the same bytes fed to both. */
#include "config.h"

#include "probes/kubelet.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kubelet_vol_data v = { 0 };
	char *err = NULL, *ns = NULL, *name = NULL, *uid = NULL, *s;

	if (kubelet_parse_vol_data((const char *)data, size, &v, &err) >= 0) {
		if (!v.present || err)
			abort();
		kubelet_vol_data_done(&v);
	} else if (!err) {
		abort(); /* a refusal always says why */
	}
	free(err);
	s = strndup((const char *)data, size);
	if (!s)
		return 0;
	if (kubelet_parse_pod_log_name(s, &ns, &name, &uid) == 0) {
		/* The three parts and two underscores are the whole entry. */
		if (strlen(ns) + strlen(name) + strlen(uid) + 2 != strlen(s) || strchr(ns, '_') ||
		    strchr(name, '_') || !kubelet_uid_valid(uid))
			abort();
		free(ns);
		free(name);
		free(uid);
	}
	free(s);
	return 0;
}
