/* SPDX-License-Identifier: Apache-2.0 */
/* The snapshot file between the evaluator and the server. */
#include "config.h"

#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>

#include "agent/daemon/http.h"
#include "agent/daemon/snapshot.h"
#include "agent/report/report.h"
#include "lib/json-util.h"
#include "lib/log.h"

static const char *const prom_keys[_PROM_FORMAT_MAX] = {
	[PROM_FORMAT_TEXT] = "metrics_text",
	[PROM_FORMAT_OPENMETRICS] = "metrics_openmetrics",
};

void snapshot_bodies_done(struct snapshot_bodies *b)
{
	if (!b)
		return;
	free(b->report);
	for (size_t i = 0; i < _PROM_FORMAT_MAX; i++)
		free(b->prom[i]);
	free(b->html);
	*b = (struct snapshot_bodies){ 0 };
}

static bool ends_with_newline(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '\n';
}

static json_object *self_json(const struct prom_self *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "evaluations_total",
			       json_object_new_int64((int64_t)s->evaluations_total));
	json_object_object_add(o, "evaluation_errors_total",
			       json_object_new_int64((int64_t)s->evaluation_errors_total));
	json_object_object_add(o, "evaluation_timeouts_total",
			       json_object_new_int64((int64_t)s->evaluation_timeouts_total));
	json_object_object_add(o, "config_reloads_total",
			       json_object_new_int64((int64_t)s->config_reloads_total));
	json_object_object_add(o, "config_reload_errors_total",
			       json_object_new_int64((int64_t)s->config_reload_errors_total));
	json_object_object_add(o, "start_time_seconds", json_object_new_double(s->start_time_seconds));
	json_object_object_add(o, "evaluation_max_rss_bytes",
			       json_object_new_int64((int64_t)s->evaluation_max_rss_bytes));
	return o;
}

int snapshot_write(const char *dir, const struct snapshot_meta *m, const struct snapshot_bodies *b)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	_cleanup_free_ char *tmp = strprintf("%s/.%s.XXXXXX", dir, SNAPSHOT_FILE);
	_cleanup_free_ char *path = strprintf("%s/%s", dir, SNAPSHOT_FILE);
	_cleanup_close_ int fd = -1;
	const char *text;
	size_t len, off = 0;

	if (!o || !tmp || !path)
		return -ENOMEM;
	json_object_object_add(o, "schema", json_object_new_string(SNAPSHOT_SCHEMA));
	json_object_object_add(o, "published_at", json_object_new_double(m->published_at));
	json_object_object_add(o, "evaluated_at", json_object_new_double(m->evaluated_at));
	json_object_object_add(o, "max_age", json_object_new_double(m->max_age));
	json_object_object_add(o, "stale", json_object_new_boolean(m->stale));
	json_object_object_add(o, "self", self_json(&m->self));
	if (m->have_bodies && b) {
		json_object_object_add(o, "report", json_object_new_string(b->report));
		for (size_t i = 0; i < _PROM_FORMAT_MAX; i++)
			json_object_object_add(o, prom_keys[i], json_object_new_string(b->prom[i]));
		json_object_object_add(o, "html", json_object_new_string(b->html));
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t k = write(fd, text + off, len - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int r = k < 0 ? -errno : -EIO;

			unlink(tmp);
			return r;
		}
		off += (size_t)k;
	}
	if (fchmod(fd, 0644) < 0 || rename(tmp, path) < 0) {
		int r = -errno;

		unlink(tmp);
		return r;
	}
	return 0;
}

/* ---- the reading side: hostile input ---- */

static int read_capped(const char *path, size_t max, char **ret, size_t *ret_len, char **ret_error)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;

	if (fd < 0) {
		*ret_error = strprintf("cannot open the snapshot: %s", strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*ret_error = strdup("the snapshot is not a regular file");
		return -EBADF;
	}
	if ((size_t)st.st_size > max) {
		*ret_error = strprintf("the snapshot is oversized (%lld bytes, the cap is %zu)",
				       (long long)st.st_size, max);
		return -EFBIG;
	}
	buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t k = read(fd, buf + len, max + 1 - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			*ret_error = strprintf("cannot read the snapshot: %s", strerror(errno));
			return -errno;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > max) {
			*ret_error = strprintf("the snapshot is oversized (more than %zu bytes)", max);
			return -EFBIG;
		}
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

static bool get_number(json_object *o, const char *key, double *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return false;
	*ret = json_object_get_double(v);
	return isfinite(*ret) && *ret >= 0;
}

static bool get_counter(json_object *o, const char *key, uint64_t *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return false;
	*ret = (uint64_t)json_object_get_int64(v);
	return true;
}

/* A body: a string with no NUL inside. */
static char *get_body(json_object *o, const char *key)
{
	json_object *v;
	const char *s;
	int len;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	len = json_object_get_string_len(v);
	if (len <= 0 || memchr(s, '\0', (size_t)len))
		return NULL;
	return strndup(s, (size_t)len);
}

static const char *check_shape(json_object *o, struct snapshot_meta *m, struct snapshot_bodies *b)
{
	json_object *v, *self;
	_cleanup_json_ json_object *report = NULL;

	if (!json_object_is_type(o, json_type_object))
		return "the snapshot is not a JSON object";
	if (!json_object_object_get_ex(o, "schema", &v) || !json_object_is_type(v, json_type_string) ||
	    !streq(json_object_get_string(v), SNAPSHOT_SCHEMA))
		return "the snapshot has no schema \"" SNAPSHOT_SCHEMA "\"";
	if (!get_number(o, "published_at", &m->published_at) ||
	    !get_number(o, "evaluated_at", &m->evaluated_at) || !get_number(o, "max_age", &m->max_age))
		return "the snapshot's times are missing or not numbers";
	if (!json_object_object_get_ex(o, "stale", &v) || !json_object_is_type(v, json_type_boolean))
		return "the snapshot's stale flag is missing";
	m->stale = json_object_get_boolean(v);
	if (!json_object_object_get_ex(o, "self", &self) ||
	    !json_object_is_type(self, json_type_object) ||
	    !get_counter(self, "evaluations_total", &m->self.evaluations_total) ||
	    !get_counter(self, "evaluation_errors_total", &m->self.evaluation_errors_total) ||
	    !get_counter(self, "evaluation_timeouts_total", &m->self.evaluation_timeouts_total) ||
	    !get_counter(self, "config_reloads_total", &m->self.config_reloads_total) ||
	    !get_counter(self, "config_reload_errors_total", &m->self.config_reload_errors_total) ||
	    !get_number(self, "start_time_seconds", &m->self.start_time_seconds))
		return "the snapshot's counters are missing or malformed";
	/* Optional (added later): absent reads as 0. */
	(void)get_counter(self, "evaluation_max_rss_bytes", &m->self.evaluation_max_rss_bytes);
	m->have_bodies = json_object_object_get_ex(o, "report", NULL);
	if (!m->have_bodies)
		return NULL;
	b->report = get_body(o, "report");
	for (size_t i = 0; i < _PROM_FORMAT_MAX; i++)
		b->prom[i] = get_body(o, prom_keys[i]);
	b->html = get_body(o, "html");
	if (!b->report || !b->prom[0] || !b->prom[1] || !b->html)
		return "the snapshot's bodies are missing or not strings";
	/* The report must itself be a report. */
	report = json_tokener_parse(b->report);
	if (!json_object_is_type(report, json_type_object) ||
	    !json_object_object_get_ex(report, "schema", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !streq(json_object_get_string(v), "atrest.report/v1") ||
	    !json_object_object_get_ex(report, "checks", &v) ||
	    !json_object_is_type(v, json_type_array))
		return "the snapshot's report is not an atrest.report/v1 document";
	for (size_t i = 0; i < _PROM_FORMAT_MAX; i++)
		if (!startswith(b->prom[i], "# HELP ") || !ends_with_newline(b->prom[i]))
			return "the snapshot's metrics are not an exposition";
	return NULL;
}

int snapshot_read(const char *path, size_t max_bytes, struct snapshot_meta *m,
		  struct snapshot_bodies *b, char **ret_error)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_(json_tokener_freep) json_tokener *tok = NULL;
	_cleanup_json_ json_object *o = NULL;
	struct snapshot_meta meta = { 0 };
	struct snapshot_bodies bodies = { 0 };
	const char *why;
	size_t len = 0;
	int r;

	*ret_error = NULL;
	r = read_capped(path, max_bytes ? max_bytes : SNAPSHOT_DEFAULT_MAX_BYTES, &text, &len,
			ret_error);
	if (r < 0)
		return r;
	if (len == 0) {
		*ret_error = strdup("the snapshot is empty");
		return -EBADMSG;
	}
	tok = json_tokener_new_ex(32);
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		*ret_error = strprintf("the snapshot is truncated or not JSON (%s)",
				       json_tokener_error_desc(json_tokener_get_error(tok)));
		return -EBADMSG;
	}
	why = check_shape(o, &meta, &bodies);
	if (why) {
		snapshot_bodies_done(&bodies);
		*ret_error = strdup(why);
		return -EBADMSG;
	}
	*m = meta;
	*b = bodies;
	return 0;
}
