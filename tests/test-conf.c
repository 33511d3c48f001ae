/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration file: every key, every kind of mistake, and the
 * "FILE:LINE: problem" form of the error. */
#include "config.h"

#include "agent/checks/checks.h"
#include "agent/conf.h"
#include "lib/strutil.h"
#include "tests/tap.h"

static char path[] = "/tmp/atrest-test-conf-XXXXXX";

static int load(const char *text, struct config *c, char **err)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	*err = NULL;
	if (config_init_default(c) < 0)
		return -ENOMEM;
	return config_load_file(c, path, err);
}

static void test_full(void)
{
	struct config c;
	char *err;
	int r = load("# atrest policy\n"
		     "[imds]\nurl = http://127.0.0.1:8080\ntimeout = 2.5   # seconds\n"
		     "[arm]\nmode = off\nurl = https://arm.example\nclient_id = 1234\ntimeout = 15\ncache = 3600\nstart_jitter = 0\n"
		     "[policy]\nallowed_ciphers = aes-xts-plain64 aes-cbc-essiv:sha256\nmin_key_bits = 256\n"
		     "required_paths = /var/lib/kubelet /data\n"
		     "expected_des = /subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/des1\n"
		     "min_bench_bytes_per_second = 1000000\n"
		     "trust_platform_temp_encryption = no\n"
		     "[severity]\nhost.encryption_at_host = warning\nswap.encrypted = ignore\n"
		     "[daemon]\nlisten = 127.0.0.1:9 [::1]:8937\ninterval = 30\n"
		     "deadline = 45\nmax_age = 600\nruntime_dir = /run/x\n"
		     "server_user = atrest-web\nsnapshot_max_bytes = 1048576\nconnection_limit = 2048\n"
		     "per_ip_connection_limit = 8\nconnection_timeout = 3\n"
		     "[kubernetes]\nkubelet_dir = /host/var/lib/kubelet\npod_logs_dir = /host/var/log/pods\n"
		     "runtime_dirs = /host/var/lib/containerd /host/var/lib/docker\nmax_volume_series = 0\n",
		     &c, &err);

	is_int(r, 0, "a complete file loads");
	if (err)
		tap_diag("%s", err);
	is_str(c.imds_url, "http://127.0.0.1:8080", "imds.url");
	ok(c.imds_timeout > 2.49 && c.imds_timeout < 2.51, "imds.timeout with a # comment after it");
	is_int(c.arm_mode, ARM_MODE_OFF, "arm.mode");
	is_str(c.client_id, "1234", "arm.client_id");
	ok(c.arm_timeout == 15 && c.arm_cache == 3600 && c.arm_start_jitter == 0,
	   "arm.timeout, cache, start_jitter");
	is_int(strv_length(c.policy.allowed_ciphers), 2, "two allowed ciphers");
	is_int(c.policy.min_key_bits, 256, "min_key_bits");
	is_str(c.policy.required_paths[1], "/data", "required_paths");
	is_int(c.policy.min_bench_bytes_per_second, 1000000, "min_bench_bytes_per_second");
	ok(!c.policy.trust_platform_temp_encryption, "trust_platform_temp_encryption = no");
	is_int(c.policy.severity[CHECK_HOST_EAH], SEV_WARNING, "severity override");
	is_int(c.policy.severity[CHECK_SWAP], SEV_IGNORE, "severity ignore");
	is_int(c.policy.severity[CHECK_DISK_TEMP], SEV_CRITICAL, "default severity kept");
	is_str(c.listen[1], "[::1]:8937", "IPv6 listen address");
	is_int(c.interval, 30, "daemon.interval");
	ok(c.evaluation_deadline == 45 && c.max_evidence_age == 600, "daemon.deadline, max_age");
	is_str(c.runtime_dir, "/run/x", "daemon.runtime_dir");
	is_str(c.server_user, "atrest-web", "daemon.server_user");
	is_int(c.snapshot_max_bytes, 1048576, "daemon.snapshot_max_bytes");
	ok(c.connection_limit == 2048 && c.per_ip_connection_limit == 8 && c.connection_timeout == 3,
	   "daemon.connection_limit, per_ip_connection_limit, connection_timeout");
	is_str(c.kubelet_dir, "/host/var/lib/kubelet", "kubernetes.kubelet_dir");
	is_str(c.pod_logs_dir, "/host/var/log/pods", "kubernetes.pod_logs_dir");
	is_str(c.runtime_dirs[1], "/host/var/lib/docker", "kubernetes.runtime_dirs");
	is_int(c.max_volume_series, 0, "kubernetes.max_volume_series 0 (no series)");
	free(err);
	config_done(&c);
}

static void test_defaults(void)
{
	struct config c;

	is_int(config_init_default(&c), 0, "defaults");
	is_str(c.imds_url, "http://169.254.169.254", "default IMDS URL");
	is_int(c.policy.min_key_bits, 512, "default minimum key 512 bits");
	ok(c.policy.trust_platform_temp_encryption, "platform temp-disk encryption trusted by default");
	is_str(c.policy.allowed_ciphers[0], "aes-xts-plain64", "default cipher");
	is_int(c.policy.severity[CHECK_DISK_CMK], SEV_INFO, "disk.customer_managed_key is info");
	is_int(c.policy.severity[CHECK_IMDS_DISKS], SEV_WARNING, "imds.disks_match is warning");
	is_str(c.kubelet_dir, "/var/lib/kubelet", "default kubelet directory");
	is_str(c.pod_logs_dir, "/var/log/pods", "default pod log directory");
	is_str(c.runtime_dirs[0], "/var/lib/containerd", "default runtime directory");
	is_int(c.max_volume_series, 1000, "default cap of pod volume series");
	config_done(&c);
}

static const struct {
	const char *text;
	const char *want; /* expected error, after "PATH:" */
} bad[] = {
	{ "[imds]\nurl = ftp://x\n", "2: [imds] url: 'ftp://x' is not an http(s) URL" },
	{ "[imds]\ntimeout = soon\n",
	  "2: [imds] timeout: 'soon' is not a number of seconds in (0, 300]" },
	{ "[imds]\n\n\nbogus = 1\n", "4: unknown key 'bogus' in section [imds]" },
	{ "[polcy]\nmin_key_bits = 1\n", "1: unknown section [polcy]" },
	{ "min_key_bits = 1\n", "1: key 'min_key_bits' outside of any section" },
	{ "[arm]\nmode = sometimes\n", "2: [arm] mode: 'sometimes' is not one of auto, on, off" },
	{ "[policy]\nmin_key_bits = -5\n", "2: [policy] min_key_bits: '-5' is not a number of bits" },
	{ "[policy]\nrequired_paths = relative/path\n",
	  "2: [policy] required_paths: 'relative/path' is not an absolute path" },
	{ "[policy]\nexpected_des = des1\n",
	  "2: [policy] expected_des: 'des1' is not a disk encryption set resource id" },
	{ "[policy]\nallowed_ciphers =\n", "2: [policy] allowed_ciphers: the list is empty" },
	{ "[policy]\ntrust_platform_temp_encryption = maybe\n",
	  "2: [policy] trust_platform_temp_encryption: 'maybe' is not yes or no" },
	{ "[severity]\nhost.encryption_at_hst = critical\n",
	  "2: [severity] unknown check 'host.encryption_at_hst'" },
	{ "[severity]\nswap.encrypted = fatal\n",
	  "2: [severity] swap.encrypted: 'fatal' is not one of critical, warning, info, ignore" },
	{ "[daemon]\nlisten = localhost\n",
	  "2: [daemon] listen: invalid listen address 'localhost' (want HOST:PORT or [IPV6]:PORT)" },
	{ "[daemon]\ninterval = 1\n",
	  "2: [daemon] interval: '1' is not a number of seconds in [5, 86400]" },
	{ "[daemon]\ndeadline = 0.5\n",
	  "2: [daemon] deadline: '0.5' is not a number of seconds in [1, 3600]" },
	{ "[daemon]\nruntime_dir = run\n", "2: [daemon] runtime_dir: 'run' is not an absolute path" },
	{ "[daemon]\nserver_user = a:b\n", "2: [daemon] server_user: 'a:b' is not a user name or uid" },
	{ "[daemon]\nsnapshot_max_bytes = 100\n",
	  "2: [daemon] snapshot_max_bytes: '100' is not a number in [4096, 268435456]" },
	{ "[daemon]\nper_ip_connection_limit = 0\n",
	  "2: [daemon] per_ip_connection_limit: '0' is not a number in [1, 65536]" },
	{ "[imds]\nthis line has no equals sign\n", "2: syntax error (want [section] or key = value)" },
	{ "[kubernetes]\nkubelet_dir = var/lib/kubelet\n",
	  "2: [kubernetes] kubelet_dir: 'var/lib/kubelet' is not an absolute path" },
	{ "[kubernetes]\nkubelet_dir =\n", "2: [kubernetes] kubelet_dir: '' is not an absolute path" },
	{ "[kubernetes]\nruntime_dirs = /a b\n",
	  "2: [kubernetes] runtime_dirs: 'b' is not an absolute path" },
	{ "[kubernetes]\nmax_volume_series = 100001\n",
	  "2: [kubernetes] max_volume_series: '100001' is not a number in [0, 100000]" },
	{ "[kubernetes]\nnode_name = x\n", "2: unknown key 'node_name' in section [kubernetes]" },
	{ "[arm]\ncache = 0\n", "2: [arm] cache: '0' is not a number of seconds in (0, 604800]" },
	{ "[arm]\nclient_id = a\nobject_id = b\n",
	  " [arm] set at most one of client_id, object_id, msi_res_id" },
};

static void test_bad(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct config c;
		char *err, *want = strprintf("%s:%s", path, bad[i].want);

		if (bad[i].want[0] == ' ') {
			free(want);
			want = strprintf("%s:%s", path, bad[i].want);
		}
		is_int(load(bad[i].text, &c, &err), -EINVAL, "bad file %zu is rejected", i);
		is_str(err, want, "bad file %zu: error names file, line and problem", i);
		free(err);
		free(want);
		config_done(&c);
	}
}

static void test_missing(void)
{
	struct config c;
	char *err = NULL;

	(void)!config_init_default(&c);
	ok(config_load_file(&c, "/nonexistent/atrest.conf", &err) == -ENOENT,
	   "a missing file is -ENOENT");
	ok(err && strstr(err, "/nonexistent/atrest.conf: cannot read"), "and the error names it");
	free(err);
	config_done(&c);
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		tap_skip_all("cannot create a temporary file");
	close(fd);
	test_defaults();
	test_full();
	test_bad();
	test_missing();
	unlink(path);
	return tap_done();
}
