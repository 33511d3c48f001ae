/* SPDX-License-Identifier: Apache-2.0 */
/* The INI configuration file, parsed by libinih. Every key is optional;
 * unknown sections and keys are errors, and the first problem is reported
 * as "FILE:LINE: problem". */
#include "config.h"

#include <ini.h>

#include "agent/checks/checks.h"
#include "agent/conf.h"
#include "lib/strutil.h"

int config_init_default(struct config *c)
{
	int r;

	*c = (struct config){
		.imds_timeout = ATREST_DEFAULT_IMDS_TIMEOUT,
		.arm_mode = ARM_MODE_AUTO,
		.arm_start_jitter = -1,
		.interval = ATREST_DEFAULT_INTERVAL,
		.max_volume_series = ATREST_DEFAULT_MAX_VOLUME_SERIES,
	};
	c->imds_url = strdup(ATREST_DEFAULT_IMDS_URL);
	c->arm_url = strdup(ATREST_DEFAULT_ARM_URL);
	c->kubelet_dir = strdup(ATREST_DEFAULT_KUBELET_DIR);
	c->pod_logs_dir = strdup(ATREST_DEFAULT_POD_LOGS_DIR);
	if (!c->imds_url || !c->arm_url || !c->kubelet_dir || !c->pod_logs_dir ||
	    strv_extend(&c->listen, ATREST_DEFAULT_LISTEN) < 0 ||
	    strv_split_ws(ATREST_DEFAULT_RUNTIME_DIRS, &c->runtime_dirs) < 0) {
		config_done(c);
		return -ENOMEM;
	}
	r = policy_init_default(&c->policy);
	if (r < 0) {
		config_done(c);
		return r;
	}
	return 0;
}

void config_done(struct config *c)
{
	free(c->imds_url);
	free(c->arm_url);
	free(c->client_id);
	free(c->object_id);
	free(c->msi_res_id);
	strv_free(c->listen);
	free(c->kubelet_dir);
	free(c->pod_logs_dir);
	strv_free(c->runtime_dirs);
	free(c->runtime_dir);
	free(c->server_user);
	free(c->text);
	free(c->text_name);
	policy_done(&c->policy);
	*c = (struct config){ 0 };
}

static bool url_ok(const char *v)
{
	return (startswith(v, "http://") || startswith(v, "https://")) && !strpbrk(v, " \t\r\n?#");
}

int config_check_listen(const char *addr, char **ret_error)
{
	const char *colon, *host_end;
	unsigned port;

	if (addr[0] == '[') {
		host_end = strchr(addr, ']');
		if (!host_end || host_end[1] != ':')
			goto bad;
		colon = host_end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || colon == addr || memchr(addr, ':', (size_t)(colon - addr)))
			goto bad;
	}
	if (safe_atou(colon + 1, &port) < 0 || port == 0 || port > 65535)
		goto bad;
	return 0;
bad:
	if (ret_error)
		*ret_error = strprintf("invalid listen address '%s' (want HOST:PORT or [IPV6]:PORT)",
				       addr);
	return -EINVAL;
}

/* Replaces *dst with a copy of v; "" clears it. */
static int set_string(char **dst, const char *v)
{
	char *n = NULL;

	if (*v) {
		n = strdup(v);
		if (!n)
			return -ENOMEM;
	}
	free(*dst);
	*dst = n;
	return 0;
}

static int set_strv(char ***dst, const char *v)
{
	char **n;
	int r;

	r = strv_split_ws(v, &n);
	if (r < 0)
		return r;
	strv_free(*dst);
	*dst = n;
	return 0;
}

struct parse_state {
	struct config *c;
	FILE *f;
	int line;         /* lines handed to libinih so far */
	int section_line; /* where the current section header stands */
	int error_line;
	char *error; /* first problem, without the file:line prefix */
};

#define FAIL(...)                                   \
	({                                          \
		st->error = strprintf(__VA_ARGS__); \
		0;                                  \
	})

/* A number of seconds in (0, max], or [0, max] when zero is allowed. */
static int set_seconds(struct parse_state *st, const char *section, const char *key, const char *v,
		       bool zero_ok, double max, double *dst)
{
	double d;

	if (safe_atod_seconds(v, &d) < 0 || (d == 0 && !zero_ok) || d > max)
		return FAIL("[%s] %s: '%s' is not a number of seconds in %s0, %.0f]", section, key,
			    v, zero_ok ? "[" : "(", max);
	*dst = d;
	return 1;
}

static int handle_imds(struct parse_state *st, const char *key, const char *v)
{
	struct config *c = st->c;

	if (streq(key, "url")) {
		if (!url_ok(v))
			return FAIL("[imds] url: '%s' is not an http(s) URL", v);
		return set_string(&c->imds_url, v) == 0;
	}
	if (streq(key, "timeout"))
		return set_seconds(st, "imds", key, v, false, 300, &c->imds_timeout);
	return FAIL("unknown key '%s' in section [imds]", key);
}

static int handle_arm(struct parse_state *st, const char *key, const char *v)
{
	struct config *c = st->c;

	if (streq(key, "mode")) {
		if (arm_mode_from_string(v, &c->arm_mode) < 0)
			return FAIL("[arm] mode: '%s' is not one of auto, on, off", v);
		return 1;
	}
	if (streq(key, "url")) {
		if (!url_ok(v))
			return FAIL("[arm] url: '%s' is not an http(s) URL", v);
		return set_string(&c->arm_url, v) == 0;
	}
	if (streq(key, "timeout"))
		return set_seconds(st, "arm", key, v, false, 300, &c->arm_timeout);
	if (streq(key, "cache"))
		return set_seconds(st, "arm", key, v, false, 7 * 86400, &c->arm_cache);
	if (streq(key, "start_jitter"))
		return set_seconds(st, "arm", key, v, true, 7 * 86400, &c->arm_start_jitter);
	if (streq(key, "client_id"))
		return set_string(&c->client_id, v) == 0;
	if (streq(key, "object_id"))
		return set_string(&c->object_id, v) == 0;
	if (streq(key, "msi_res_id"))
		return set_string(&c->msi_res_id, v) == 0;
	return FAIL("unknown key '%s' in section [arm]", key);
}

static int handle_policy(struct parse_state *st, const char *key, const char *v)
{
	struct policy *p = &st->c->policy;

	if (streq(key, "allowed_ciphers")) {
		if (set_strv(&p->allowed_ciphers, v) < 0)
			return 0;
		if (!p->allowed_ciphers[0])
			return FAIL("[policy] allowed_ciphers: the list is empty");
		return 1;
	}
	if (streq(key, "min_key_bits")) {
		if (safe_atou(v, &p->min_key_bits) < 0 || p->min_key_bits > 8192)
			return FAIL("[policy] min_key_bits: '%s' is not a number of bits", v);
		return 1;
	}
	if (streq(key, "required_paths")) {
		if (set_strv(&p->required_paths, v) < 0)
			return 0;
		for (char **s = p->required_paths; *s; s++)
			if ((*s)[0] != '/')
				return FAIL("[policy] required_paths: '%s' is not an absolute path",
					    *s);
		return 1;
	}
	if (streq(key, "expected_des")) {
		if (set_strv(&p->expected_des, v) < 0)
			return 0;
		for (char **s = p->expected_des; *s; s++)
			if (!strcasestr(*s, "/providers/Microsoft.Compute/diskEncryptionSets/"))
				return FAIL("[policy] expected_des: '%s' is not a disk encryption set resource id",
					    *s);
		return 1;
	}
	if (streq(key, "min_bench_bytes_per_second")) {
		if (safe_atou64(v, &p->min_bench_bytes_per_second) < 0)
			return FAIL("[policy] min_bench_bytes_per_second: '%s' is not a number", v);
		return 1;
	}
	if (streq(key, "trust_platform_temp_encryption")) {
		if (streq(v, "yes") || streq(v, "true") || streq(v, "1"))
			p->trust_platform_temp_encryption = true;
		else if (streq(v, "no") || streq(v, "false") || streq(v, "0"))
			p->trust_platform_temp_encryption = false;
		else
			return FAIL("[policy] trust_platform_temp_encryption: '%s' is not yes or no",
				    v);
		return 1;
	}
	return FAIL("unknown key '%s' in section [policy]", key);
}

static int handle_severity(struct parse_state *st, const char *key, const char *v)
{
	enum check_id id;
	enum severity s;

	if (check_id_from_string(key, &id) < 0)
		return FAIL("[severity] unknown check '%s'", key);
	if (severity_from_string(v, &s) < 0)
		return FAIL("[severity] %s: '%s' is not one of critical, warning, info, ignore",
			    key, v);
	st->c->policy.severity[id] = s;
	return 1;
}

static int handle_daemon(struct parse_state *st, const char *key, const char *v)
{
	struct config *c = st->c;

	if (streq(key, "listen")) {
		_cleanup_strv_free_ char **l = NULL;
		char *err = NULL;

		if (strv_split_ws(v, &l) < 0)
			return 0;
		if (!l[0])
			return FAIL("[daemon] listen: the list is empty");
		for (char **a = l; *a; a++)
			if (config_check_listen(*a, &err) < 0) {
				st->error = strprintf("[daemon] listen: %s", err ? err : "invalid");
				free(err);
				return 0;
			}
		strv_free(c->listen);
		c->listen = TAKE_PTR(l);
		return 1;
	}
	if (streq(key, "interval")) {
		if (safe_atou(v, &c->interval) < 0 || c->interval < 5 || c->interval > 86400)
			return FAIL("[daemon] interval: '%s' is not a number of seconds in [5, 86400]",
				    v);
		return 1;
	}
	if (streq(key, "deadline")) {
		if (safe_atod_seconds(v, &c->evaluation_deadline) < 0 ||
		    c->evaluation_deadline < 1 || c->evaluation_deadline > 3600)
			return FAIL("[daemon] deadline: '%s' is not a number of seconds in [1, 3600]",
				    v);
		return 1;
	}
	if (streq(key, "max_age")) {
		if (safe_atod_seconds(v, &c->max_evidence_age) < 0 || c->max_evidence_age < 1 ||
		    c->max_evidence_age > 7 * 86400)
			return FAIL("[daemon] max_age: '%s' is not a number of seconds in [1, 604800]",
				    v);
		return 1;
	}
	if (streq(key, "runtime_dir")) {
		if (v[0] != '/' || strpbrk(v, " \t"))
			return FAIL("[daemon] runtime_dir: '%s' is not an absolute path", v);
		return set_string(&c->runtime_dir, v) == 0;
	}
	if (streq(key, "server_user")) {
		if (!v[0] || strpbrk(v, " \t:/"))
			return FAIL("[daemon] server_user: '%s' is not a user name or uid", v);
		return set_string(&c->server_user, v) == 0;
	}
	if (streq(key, "connection_limit")) {
		if (safe_atou(v, &c->connection_limit) < 0 || c->connection_limit < 1 ||
		    c->connection_limit > 65536)
			return FAIL("[daemon] connection_limit: '%s' is not a number in [1, 65536]", v);
		return 1;
	}
	if (streq(key, "per_ip_connection_limit")) {
		if (safe_atou(v, &c->per_ip_connection_limit) < 0 ||
		    c->per_ip_connection_limit < 1 || c->per_ip_connection_limit > 65536)
			return FAIL("[daemon] per_ip_connection_limit: '%s' is not a number in [1, 65536]",
				    v);
		return 1;
	}
	if (streq(key, "connection_timeout")) {
		if (safe_atou(v, &c->connection_timeout) < 0 || c->connection_timeout < 1 ||
		    c->connection_timeout > 3600)
			return FAIL("[daemon] connection_timeout: '%s' is not a number of seconds in [1, 3600]",
				    v);
		return 1;
	}
	if (streq(key, "snapshot_max_bytes")) {
		if (safe_atou(v, &c->snapshot_max_bytes) < 0 || c->snapshot_max_bytes < 4096 ||
		    c->snapshot_max_bytes > (256u << 20))
			return FAIL("[daemon] snapshot_max_bytes: '%s' is not a number in [4096, 268435456]",
				    v);
		return 1;
	}
	return FAIL("unknown key '%s' in section [daemon]", key);
}

/* An absolute directory path (no empty value: a default must be replaced,
 * not silently dropped). */
static int set_dir(struct parse_state *st, const char *key, const char *v, char **dst)
{
	if (v[0] != '/' || strpbrk(v, " \t"))
		return FAIL("[kubernetes] %s: '%s' is not an absolute path", key, v);
	return set_string(dst, v) == 0;
}

static int handle_kubernetes(struct parse_state *st, const char *key, const char *v)
{
	struct config *c = st->c;

	if (streq(key, "kubelet_dir"))
		return set_dir(st, key, v, &c->kubelet_dir);
	if (streq(key, "pod_logs_dir"))
		return set_dir(st, key, v, &c->pod_logs_dir);
	if (streq(key, "runtime_dirs")) {
		if (set_strv(&c->runtime_dirs, v) < 0)
			return 0;
		for (char **s = c->runtime_dirs; *s; s++)
			if ((*s)[0] != '/')
				return FAIL("[kubernetes] runtime_dirs: '%s' is not an absolute path",
					    *s);
		return 1;
	}
	if (streq(key, "max_volume_series")) {
		if (safe_atou(v, &c->max_volume_series) < 0 ||
		    c->max_volume_series > ATREST_MAX_VOLUME_SERIES_LIMIT)
			return FAIL("[kubernetes] max_volume_series: '%s' is not a number in [0, %d]",
				    v, ATREST_MAX_VOLUME_SERIES_LIMIT);
		return 1;
	}
	return FAIL("unknown key '%s' in section [kubernetes]", key);
}

static const struct {
	const char *name;
	int (*handle)(struct parse_state *st, const char *key, const char *value);
} sections[] = {
	{ "imds", handle_imds },     { "arm", handle_arm },
	{ "policy", handle_policy }, { "severity", handle_severity },
	{ "daemon", handle_daemon }, { "kubernetes", handle_kubernetes },
};

/* libinih only strips ';' comments inside a line: also strip " # ..." so
 * the documented example (values followed by '#' comments) reads right. */
static char *strip_hash_comment(char *v)
{
	for (char *p = v; *p; p++)
		if (*p == '#' && (p == v || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	return strstrip(v);
}

static int conf_ini_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	_cleanup_free_ char *v = NULL;

	if (st->error)
		return 0; /* keep only the first problem */
	if (!name)
		return 1; /* a section header alone */
	v = strdup(value ? value : "");
	if (!v) {
		st->error = strdup("out of memory");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if (streq(section, sections[i].name)) {
			int ok = sections[i].handle(st, name, strip_hash_comment(v));

			if (!ok && !st->error)
				st->error = strprintf("cannot set %s.%s", section, name);
			if (!ok)
				st->error_line = st->line;
			return ok;
		}
	st->error_line = *section ? st->section_line : st->line;
	if (!*section)
		return FAIL("key '%s' outside of any section", name);
	return FAIL("unknown section [%s]", section);
}

/* fgets for libinih that counts lines, so a handler knows where it is. */
static char *counting_reader(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	char *s = fgets(str, num, st->f);

	if (s && (strchr(s, '\n') || feof(st->f))) {
		st->line++;
		if (s[strspn(s, " \t")] == '[')
			st->section_line = st->line;
	}
	return s;
}

/* The parse proper, over any stream; name prefixes the errors. */
static int config_load_stream(struct config *c, FILE *f, const char *name, char **ret_error)
{
	struct parse_state st = { .c = c, .f = f };
	int line;

	line = ini_parse_stream(counting_reader, &st, conf_ini_handler, &st);
	if (line == 0 && !st.error) {
		if (!!c->client_id + !!c->object_id + !!c->msi_res_id > 1) {
			*ret_error = strprintf("%s: [arm] set at most one of client_id, object_id, msi_res_id",
					       name);
			return -EINVAL;
		}
		return 0;
	}
	if (line < 0)
		*ret_error = strprintf("%s: cannot read: %s", name,
				       line == -2 ? "out of memory" : "I/O error");
	else if (st.error && (line == 0 || st.error_line <= line))
		*ret_error = strprintf("%s:%d: %s", name, st.error_line, st.error);
	else
		*ret_error = strprintf("%s:%d: syntax error (want [section] or key = value)", name,
				       line);
	free(st.error);
	return -EINVAL;
}

int config_load_file(struct config *c, const char *path, char **ret_error)
{
	_cleanup_fclose_ FILE *f = NULL;

	f = fopen(path, "re");
	if (!f) {
		int r = -errno;

		*ret_error = strprintf("%s: cannot read: %s", path, strerror(-r));
		return r;
	}
	return config_load_stream(c, f, path, ret_error);
}

int config_load_string(struct config *c, const char *text, size_t len, const char *name, char **ret_error)
{
	_cleanup_fclose_ FILE *f = NULL;

	f = fmemopen((void *)text, len, "r");
	if (!f) {
		int r = -errno;

		*ret_error = strprintf("%s: cannot read: %s", name, strerror(-r));
		return r;
	}
	return config_load_stream(c, f, name, ret_error);
}
