/* SPDX-License-Identifier: Apache-2.0 */
/* The IMDS client over real HTTP on loopback against tests/imds-server.py:
 * every sample and every fault, deadlines, retries, fallback, proxies,
 * the headers sent, the cache and the rate limit. */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "imds/imds.h"
#include "lib/json-util.h"
#include "tests/tap.h"

static pid_t server_pid = -1;
static char tmpdir[] = "/tmp/test-imds-client.XXXXXX";
static char log_path[PATH_MAX];
static char port_path[PATH_MAX];
static unsigned port;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void stop_server(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
		server_pid = -1;
	}
	unlink(log_path);
	unlink(port_path);
	rmdir(tmpdir);
}

static void exec_server(const char *python, const char *script)
{
	int fd = open("/dev/null", O_RDWR);

	/* TAP owns stdout; the server must not write to it. */
	if (fd >= 0)
		dup2(fd, STDOUT_FILENO);
	execlp(python, python, script, "--port-file", port_path, "--log", log_path, (char *)NULL);
	_exit(127);
}

/* Starts the server and waits for its port; skips when python is absent. */
static void start_server(void)
{
	const char *python = getenv("PYTHON3"), *top = getenv("top_srcdir");
	_cleanup_free_ char *script = NULL;
	int status;

	if (isempty(python))
		python = "python3";
	script = strprintf("%s/tests/imds-server.py", top ? top : ".");
	if (!mkdtemp(tmpdir))
		tap_skip_all("cannot create a temporary directory");
	snprintf(log_path, sizeof(log_path), "%s/requests.log", tmpdir);
	snprintf(port_path, sizeof(port_path), "%s/port", tmpdir);
	server_pid = fork();
	if (server_pid == 0)
		exec_server(python, script);
	for (int i = 0; i < 300; i++) {
		FILE *f = fopen(port_path, "re");

		if (f) {
			int n = fscanf(f, "%u", &port);

			fclose(f);
			if (n == 1)
				return;
		}
		if (waitpid(server_pid, &status, WNOHANG) == server_pid) {
			server_pid = -1;
			stop_server();
			if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
				tap_skip_all("python3 not found");
			printf("Bail out! imds-server.py exited early\n");
			exit(1);
		}
		usleep(50 * 1000);
	}
	stop_server();
	printf("Bail out! imds-server.py did not start\n");
	exit(1);
}

struct row {
	const char *route; /* after http://127.0.0.1:PORT */
	double timeout;
	enum source_status status;
	enum tristate eah; /* when OK */
	const char *error; /* substring of res.error when not OK */
	unsigned min_attempts, max_attempts;
	bool single_attempt;
};

#define DOC(name, eah)                                               \
	{                                                            \
		"/doc/" name, 5.0, SOURCE_OK, eah, NULL, 1, 1, false \
	}
#define FAULT(kind, st, err, lo, hi)                                     \
	{                                                                \
		"/fault/" kind, 1.5, st, TRI_UNKNOWN, err, lo, hi, false \
	}

static const struct row rows[] = {
	DOC("azure-rest-api-specs_imds_2018-02-01_getInstanceMetadata", TRI_UNKNOWN),
	DOC("azure-rest-api-specs_imds_2019-06-01_GetInstanceMetadata.json", TRI_UNKNOWN),
	DOC("azure-rest-api-specs_imds_2021-11-15_GetInstanceMetadata", TRI_TRUE),
	DOC("azure-rest-api-specs_imds_2023-07-01_GetInstanceMetadata", TRI_TRUE),
	DOC("cloud-init_test_azure_NETWORK_METADATA", TRI_UNKNOWN),
	DOC("msdocs-azure-compute-docs_imds_sample4_compute_linux", TRI_TRUE),
	DOC("msdocs-azure-docs_imds-full-instance-response_linux", TRI_TRUE),
	DOC("otel-python-contrib_test_vm_LINUX_JSON", TRI_FALSE),
	DOC("walinuxagent_tests_data_imds_valid", TRI_UNKNOWN),
	{ "/doc/azure-rest-api-specs_imds_2023-07-01_GetVersions", 5.0, SOURCE_ERROR, TRI_UNKNOWN,
	  "not an instance document", 1, 1, false },
	{ "/doc/azure-rest-api-specs_imds_2023-07-01_GetIdentityToken", 5.0, SOURCE_ERROR,
	  TRI_UNKNOWN, "not an instance document", 1, 1, false },
	{ "/doc/no-such-document", 5.0, SOURCE_ERROR, TRI_UNKNOWN, "HTTP 404", 1, 1, false },
	FAULT("400json", SOURCE_ERROR,
	      "HTTP 400 for api-version 2023-07-01 (error: Bad request. api-version is invalid", 2, 2),
	FAULT("400xml", SOURCE_ERROR, "BadRequest Bad Request - Invalid Header", 2, 2),
	FAULT("404", SOURCE_ERROR, "HTTP 404", 1, 1),
	FAULT("405", SOURCE_ERROR, "HTTP 405", 1, 1),
	FAULT("410", SOURCE_ERROR, "HTTP 410", 3, 6),
	FAULT("429", SOURCE_ERROR, "HTTP 429", 3, 6),
	FAULT("500", SOURCE_ERROR, "HTTP 500", 3, 6),
	FAULT("503", SOURCE_ERROR, "HTTP 503", 3, 6),
	FAULT("truncated", SOURCE_ERROR, "ends too early", 1, 1),
	FAULT("wrongtypes", SOURCE_ERROR, "no usable compute field", 1, 1),
	FAULT("nested", SOURCE_ERROR, "cannot read (not JSON", 1, 1),
	FAULT("huge", SOURCE_ERROR, "larger than 1048576 bytes", 1, 1),
	FAULT("hang", SOURCE_UNREACHABLE, "did not answer within 1.5 s (timed out", 1, 1),
	FAULT("drip", SOURCE_ERROR, "transfer failed (timed out)", 1, 1),
	FAULT("invalidutf8", SOURCE_ERROR, "not valid UTF-8", 1, 1),
	FAULT("empty", SOURCE_ERROR, "empty body", 1, 1),
	FAULT("html", SOURCE_ERROR, "not JSON", 1, 1),
	FAULT("closed", SOURCE_UNREACHABLE, "connection closed without an answer", 3, 6),
	{ "/fault/flaky.retry", 5.0, SOURCE_OK, TRI_TRUE, NULL, 3, 3, false },
	{ "/fault/flaky.single", 5.0, SOURCE_ERROR, TRI_UNKNOWN, "HTTP 500", 1, 1, true },
	{ "/fault/500.single", 1.5, SOURCE_ERROR, TRI_UNKNOWN, "HTTP 500", 1, 1, true },
	{ "/fault/closed.single", 1.5, SOURCE_UNREACHABLE, TRI_UNKNOWN, "1 attempt)", 1, 1, true },
};

static char *base_url(const char *route)
{
	return strprintf("http://127.0.0.1:%u%s", port, route);
}

static bool one_line(const char *s)
{
	return s && !strchr(s, '\n') && !strchr(s, '\r');
}

static void run_row(const struct row *r)
{
	_cleanup_free_ char *url = base_url(r->route);
	struct imds_options opts = { .base_url = url,
				     .timeout = r->timeout,
				     .single_attempt = r->single_attempt };
	struct imds_result res = { 0 };
	double start = now(), wall;

	imds_fetch(&opts, &res);
	wall = now() - start;
	is_str(source_status_to_string(res.status), source_status_to_string(r->status),
	       "%s: status", r->route);
	if (r->status == SOURCE_OK) {
		ok(res.have_instance && !res.error, "%s: instance parsed", r->route);
		is_int(res.instance.encryption_at_host, r->eah, "%s: encryptionAtHost %s", r->route,
		       tristate_to_string(r->eah));
		is_str(res.api_version, IMDS_API_VERSION_PREFERRED, "%s: api-version", r->route);
		is_int(res.http_status, 200, "%s: HTTP 200", r->route);
	} else {
		ok(!res.have_instance, "%s: no instance on failure", r->route);
		ok(res.error && strstr(res.error, r->error), "%s: error mentions \"%s\": %s",
		   r->route, r->error, strna(res.error));
		ok(one_line(res.error) && strstr(res.error, ": "), "%s: one line with a remedy",
		   r->route);
	}
	ok(res.attempts >= r->min_attempts && res.attempts <= r->max_attempts,
	   "%s: %u attempts in [%u, %u]", r->route, res.attempts, r->min_attempts, r->max_attempts);
	ok(wall <= r->timeout + 0.5 && res.elapsed <= wall + 0.01,
	   "%s: took %.2f s, within %.1f s + 0.5", r->route, wall, r->timeout);
	imds_result_done(&res);
}

static unsigned free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return 1;
	/* Closed on return: nothing listens there afterwards. */
	return ntohs(sa.sin_port);
}

static void check_refused(void)
{
	_cleanup_free_ char *url = strprintf("http://127.0.0.1:%u", free_port());
	struct imds_options opts = { .base_url = url, .timeout = 1.5 };
	struct imds_result res = { 0 };
	double start = now();

	imds_fetch(&opts, &res);
	is_str(source_status_to_string(res.status), "unreachable", "refused: unreachable");
	ok(res.error && strstr(res.error, "(connection refused") &&
		   strstr(res.error, "On AKS the pod needs hostNetwork"),
	   "refused: error names cause and remedy: %s", strna(res.error));
	is_int(res.http_status, 0, "refused: no HTTP status");
	ok(res.attempts >= 3, "refused: retried (%u attempts)", res.attempts);
	ok(now() - start <= 2.0, "refused: within deadline (%.2f s)", now() - start);
	imds_result_done(&res);

	opts.single_attempt = true;
	imds_fetch(&opts, &res);
	is_int(res.attempts, 1, "refused, single attempt: no retry");
	imds_result_done(&res);
}

static void check_proxy_bypassed(void)
{
	static const char *const vars[] = { "http_proxy",  "HTTP_PROXY", "https_proxy",
					    "HTTPS_PROXY", "ALL_PROXY",  "all_proxy" };
	_cleanup_free_ char *proxy = strprintf("http://127.0.0.1:%u", free_port());
	_cleanup_free_ char *url = base_url("/doc/walinuxagent_tests_data_imds_valid");
	struct imds_options opts = { .base_url = url, .timeout = 5 };
	struct imds_result res = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		setenv(vars[i], proxy, 1);
	setenv("NO_PROXY", "", 1);
	setenv("no_proxy", "", 1);
	imds_fetch(&opts, &res);
	is_str(source_status_to_string(res.status), "ok", "dead proxy in the environment ignored");
	is_str(res.instance.name, "health", "document read past the proxy settings");
	imds_result_done(&res);
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		unsetenv(vars[i]);
	unsetenv("NO_PROXY");
	unsetenv("no_proxy");
}

static void check_oldapi(void)
{
	_cleanup_free_ char *url = base_url("/fault/oldapi");
	struct imds_options opts = { .base_url = url, .timeout = 5 };
	struct imds_result res = { 0 };

	imds_fetch(&opts, &res);
	is_str(source_status_to_string(res.status), "ok", "oldapi: fell back");
	is_str(res.api_version, "2021-02-01", "oldapi: api_version is what answered");
	ok(res.have_instance && !res.instance.has_security_profile, "oldapi: no securityProfile");
	is_int(res.instance.encryption_at_host, TRI_UNKNOWN, "oldapi: EAH unknown, not false");
	is_int(res.attempts, 3, "oldapi: instance, versions, instance");
	imds_result_done(&res);
}

static void check_pinned_version(void)
{
	_cleanup_free_ char *url = base_url("/doc/otel-python-contrib_test_vm_LINUX_JSON/");
	struct imds_options opts = { .base_url = url, .timeout = 5, .api_version = "2021-11-15" };
	struct imds_result res = { 0 };

	imds_fetch(&opts, &res);
	is_str(source_status_to_string(res.status), "ok", "pinned version, trailing slash");
	is_str(res.api_version, "2021-11-15", "pinned api-version used");
	imds_result_done(&res);

	opts.max_body = 1000;
	imds_fetch(&opts, &res);
	ok(res.status == SOURCE_ERROR && res.error && strstr(res.error, "larger than 1000 bytes"),
	   "max_body enforced: %s", strna(res.error));
	imds_result_done(&res);
}

static size_t log_lines(void)
{
	_cleanup_fclose_ FILE *f = fopen(log_path, "re");
	size_t n = 0;
	int c;

	while (f && (c = fgetc(f)) != EOF)
		n += c == '\n';
	return n;
}

static void check_request_log(void)
{
	_cleanup_fclose_ FILE *f = fopen(log_path, "re");
	char line[8192];
	size_t n = 0, with_metadata = 0, with_xff = 0, with_proxy = 0;
	size_t versions_plain = 0, preferred = 0;

	if (!ok(f, "request log readable"))
		return;
	while (fgets(line, sizeof(line), f)) {
		json_object *o = json_tokener_parse(line), *h, *v, *p, *q;
		const char *path, *query;

		if (!o || !json_object_object_get_ex(o, "headers", &h) ||
		    !json_object_object_get_ex(o, "path", &p) ||
		    !json_object_object_get_ex(o, "query", &q)) {
			json_object_put(o);
			continue;
		}
		n++;
		path = json_object_get_string(p);
		query = json_object_get_string(q);
		if (json_object_object_get_ex(h, "Metadata", &v) &&
		    streq(json_object_get_string(v), "true"))
			with_metadata++;
		json_object_object_foreach(h, key, val)
		{
			(void)val;
			with_xff += strcaseeq(key, "X-Forwarded-For");
			with_proxy += startswith(key, "Proxy");
		}
		versions_plain += strstr(path, "/metadata/versions") && !*query;
		preferred += strstr(path, "/metadata/instance") &&
			     streq(query, "api-version=" IMDS_API_VERSION_PREFERRED);
		json_object_put(o);
	}
	ok(n > 50, "request log has %zu requests", n);
	is_int(with_metadata, n, "every request sent Metadata: true");
	is_int(with_xff, 0, "no request sent X-Forwarded-For");
	is_int(with_proxy, 0, "no request went through a proxy");
	ok(versions_plain >= 3, "/metadata/versions asked without api-version (%zu)", versions_plain);
	ok(preferred > 20, "api-version %s asked first (%zu)", IMDS_API_VERSION_PREFERRED, preferred);
}

static void check_cache(void)
{
	_cleanup_free_ char *url = base_url(
		"/doc/azure-rest-api-specs_imds_2023-07-01_GetInstanceMetadata");
	_cleanup_free_ char *bad = base_url("/fault/404");
	struct imds_options opts = { .base_url = url, .timeout = 5 };
	struct imds_cache *c = imds_cache_new(60);
	struct imds_result res = { 0 };
	size_t before;

	before = log_lines();
	imds_fetch_cached(c, &opts, &res);
	is_str(source_status_to_string(res.status), "ok", "cache: first fetch");
	imds_result_done(&res);
	imds_fetch_cached(c, &opts, &res);
	ok(res.status == SOURCE_OK && res.have_instance && res.instance.encryption_at_host == TRI_TRUE,
	   "cache: answered from the cache");
	is_str(res.api_version, IMDS_API_VERSION_PREFERRED, "cache: api-version kept");
	is_int(res.attempts, 0, "cache: no request");
	is_int(log_lines() - before, 1, "cache: one request for two answers");
	imds_result_done(&res);
	{
		/* What a daemon's parent keeps between evaluation children. */
		struct imds_cache *copy = imds_cache_new(60);
		json_object *state = imds_cache_export(c);

		imds_cache_import(copy, state);
		json_object_put(state);
		before = log_lines();
		imds_fetch_cached(copy, &opts, &res);
		ok(res.status == SOURCE_OK && res.attempts == 0 && log_lines() == before,
		   "cache: exported and imported, it answers without a request");
		imds_result_done(&res);
		opts.base_url = bad;
		imds_fetch_cached(copy, &opts, &res);
		ok(res.status != SOURCE_OK && log_lines() == before + 1,
		   "cache: another IMDS URL (a reload) is asked, not answered from the cache");
		imds_result_done(&res);
		opts.base_url = url;
		imds_cache_free(copy);
	}
	imds_cache_free(c);

	c = imds_cache_new(0);
	before = log_lines();
	imds_fetch_cached(c, &opts, &res);
	imds_result_done(&res);
	imds_fetch_cached(c, &opts, &res);
	imds_result_done(&res);
	is_int(log_lines() - before, 2, "cache: stale entries are fetched again");
	opts.base_url = bad;
	imds_fetch_cached(c, &opts, &res);
	is_str(source_status_to_string(res.status), "error", "cache: a failure is not hidden");
	imds_result_done(&res);
	imds_cache_free(c);
}

static void check_rate_limit(void)
{
	_cleanup_free_ char *url = base_url("/doc/walinuxagent_tests_data_imds_valid");
	struct imds_options opts = { .base_url = url, .timeout = 5 };
	struct imds_result res = { 0 };
	double start = now();
	unsigned good = 0;

	/* The bucket holds 5 tokens and refills 5/s: 11 requests need >= 1.2 s
	 * whatever the bucket held before. */
	for (int i = 0; i < 11; i++) {
		imds_fetch(&opts, &res);
		good += res.status == SOURCE_OK;
		imds_result_done(&res);
	}
	is_int(good, 11, "rate limit: every request answered");
	ok(now() - start >= 1.15, "rate limit: 11 requests took %.2f s (>= 1.2)", now() - start);
}

/* IMDS's Retry-After on 429/503: honoured within the step's deadline,
 * and a retry it puts past the deadline is not made at all. */
static void check_retry_after(void)
{
	static const struct {
		const char *route;
		double timeout;
		enum source_status status;
		unsigned attempts;
		double min_wall, max_wall;
		const char *error;
	} ra[] = {
		{ "/fault/429ra1.ra", 5.0, SOURCE_OK, 2, 0.95, 3.0, NULL },
		{ "/fault/503date.ra", 6.0, SOURCE_OK, 2, 0.95, 4.0, NULL },
		{ "/fault/429ra60.ra", 3.0, SOURCE_ERROR, 1, 0.0, 1.0, "retry after 60 s" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(ra); i++) {
		_cleanup_free_ char *url = base_url(ra[i].route);
		struct imds_options opts = { .base_url = url, .timeout = ra[i].timeout };
		struct imds_result res = { 0 };
		double start = now(), wall;

		imds_fetch(&opts, &res);
		wall = now() - start;
		is_str(source_status_to_string(res.status), source_status_to_string(ra[i].status),
		       "%s: status", ra[i].route);
		is_int(res.attempts, ra[i].attempts, "%s: %u attempts", ra[i].route, ra[i].attempts);
		ok(wall >= ra[i].min_wall && wall <= ra[i].max_wall,
		   "%s: took %.2f s, in [%.2f, %.2f] (Retry-After honoured)", ra[i].route, wall,
		   ra[i].min_wall, ra[i].max_wall);
		if (ra[i].error)
			ok(res.error && strstr(res.error, ra[i].error) && one_line(res.error),
			   "%s: error says \"%s\": %s", ra[i].route, ra[i].error, strna(res.error));
		imds_result_done(&res);
	}
}

int main(void)
{
	start_server();
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		run_row(&rows[i]);
	check_refused();
	check_proxy_bypassed();
	check_oldapi();
	check_pinned_version();
	check_cache();
	check_rate_limit();
	check_retry_after();
	check_request_log();
	stop_server();
	return tap_done();
}
