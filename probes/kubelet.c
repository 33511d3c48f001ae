/* SPDX-License-Identifier: Apache-2.0 */
/* kubelet's directories, read under the sysroot: pods/<uid>/volumes/<plugin>/
 * <name>, the CSI staging mounts under plugins/kubernetes.io/csi/ with their
 * vol_data.json, and /var/log/pods/<namespace>_<pod>_<uid> for the names.
 * Every name is checked against what Kubernetes allows before it is kept:
 * an odd entry is skipped with a note, never guessed at. */
#include "config.h"

#include <json-c/json.h>
#include <sys/stat.h>

#include "lib/json-util.h"
#include "lib/strutil.h"
#include "probes/kubelet.h"

#define VOL_DATA_MAX (64u << 10)
#define VOL_DATA_DEPTH 4
#define DNS_LABEL_MAX 63
#define DNS_SUBDOMAIN_MAX 253
#define UID_MAX_LEN 64

static const char *const kind_names[_KVOL_MAX] = {
	[KVOL_CSI] = "csi",
	[KVOL_CSI_BLOCK] = "csi_block",
	[KVOL_EMPTY_DIR] = "empty_dir",
	[KVOL_PROJECTED] = "projected",
	[KVOL_CONFIGMAP] = "configmap",
	[KVOL_SECRET] = "secret",
	[KVOL_DOWNWARD_API] = "downward_api",
	[KVOL_OTHER] = "other",
};

/* kubelet's directory names of the in-tree plugins (the plugin name with
 * "/" escaped as "~"). */
static const struct {
	const char *dir;
	enum kube_volume_kind kind;
} plugin_dirs[] = {
	{ "kubernetes.io~csi", KVOL_CSI },
	{ "kubernetes.io~empty-dir", KVOL_EMPTY_DIR },
	{ "kubernetes.io~projected", KVOL_PROJECTED },
	{ "kubernetes.io~configmap", KVOL_CONFIGMAP },
	{ "kubernetes.io~secret", KVOL_SECRET },
	{ "kubernetes.io~downward-api", KVOL_DOWNWARD_API },
};

const char *kube_volume_kind_to_string(enum kube_volume_kind k)
{
	return (unsigned)k < _KVOL_MAX ? kind_names[k] : "other";
}

void kubelet_vol_data_done(struct kubelet_vol_data *v)
{
	free(v->driver);
	free(v->volume_handle);
	free(v->spec_vol_id);
	free(v->lifecycle);
	free(v->error);
	*v = (struct kubelet_vol_data){ 0 };
}

static bool all_chars(const char *s, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr(extra, c))))
			return false;
	}
	return true;
}

/* RFC 1123 label: lower-case alphanumerics and '-', alphanumeric at both ends. */
static bool dns_label(const char *s, size_t n)
{
	return n >= 1 && n <= DNS_LABEL_MAX && all_chars(s, n, "-") && s[0] != '-' && s[n - 1] != '-';
}

/* RFC 1123 subdomain: labels joined by '.'. */
static bool dns_subdomain(const char *s, size_t n)
{
	size_t start = 0;

	if (n < 1 || n > DNS_SUBDOMAIN_MAX)
		return false;
	for (size_t i = 0; i <= n; i++)
		if (i == n || s[i] == '.') {
			if (!dns_label(s + start, i - start))
				return false;
			start = i + 1;
		}
	return true;
}

static bool uid_valid_n(const char *s, size_t n)
{
	return n >= 8 && n <= UID_MAX_LEN && all_chars(s, n, "-") && s[0] != '-';
}

bool kubelet_uid_valid(const char *s)
{
	return s && uid_valid_n(s, strlen(s)) && !strpbrk(s, "ghijklmnopqrstuvwxyz");
}

int kubelet_parse_pod_log_name(const char *entry, char **ret_namespace, char **ret_name, char **ret_uid)
{
	const char *a, *b;
	_cleanup_free_ char *ns = NULL, *name = NULL, *uid = NULL;

	/* Neither a namespace nor a pod name may hold '_': exactly two. */
	a = strchr(entry, '_');
	b = a ? strchr(a + 1, '_') : NULL;
	if (!a || !b || strchr(b + 1, '_'))
		return -EINVAL;
	if (!dns_label(entry, (size_t)(a - entry)) || !dns_subdomain(a + 1, (size_t)(b - a - 1)) ||
	    !kubelet_uid_valid(b + 1))
		return -EINVAL;
	ns = strndup(entry, (size_t)(a - entry));
	name = strndup(a + 1, (size_t)(b - a - 1));
	uid = strdup(b + 1);
	if (!ns || !name || !uid)
		return -ENOMEM;
	*ret_namespace = TAKE_PTR(ns);
	*ret_name = TAKE_PTR(name);
	*ret_uid = TAKE_PTR(uid);
	return 0;
}

static int vd_string(json_object *root, const char *key, char **dst, char **ret_error)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(root, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		*ret_error = strprintf("\"%s\" is not a string", key);
		return -EBADMSG;
	}
	s = json_object_get_string(v);
	if (!*s)
		return 0;
	if (strlen(s) != (size_t)json_object_get_string_len(v) || strlen(s) > 4096) {
		*ret_error = strprintf("\"%s\" is not a printable string", key);
		return -EBADMSG;
	}
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

int kubelet_parse_vol_data(const char *body, size_t len, struct kubelet_vol_data *ret, char **ret_error)
{
	_cleanup_(json_tokener_freep) json_tokener *tok = NULL;
	_cleanup_json_ json_object *root = NULL;
	struct kubelet_vol_data v = { .present = true };
	int r;

	if (len > VOL_DATA_MAX) {
		*ret_error = strprintf("larger than %u bytes", VOL_DATA_MAX);
		return -EBADMSG;
	}
	if (memchr(body, '\0', len)) {
		*ret_error = strdup("holds a NUL byte");
		return -EBADMSG;
	}
	tok = json_tokener_new_ex(VOL_DATA_DEPTH);
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, body, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		*ret_error = strprintf("not JSON (%s)", e == json_tokener_continue ?
								"truncated" :
								json_tokener_error_desc(e));
		return -EBADMSG;
	}
	if (!json_object_is_type(root, json_type_object)) {
		*ret_error = strdup("not a JSON object");
		return -EBADMSG;
	}
	/* kubelet writes it with encoding/json: nothing but white space after. */
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
		if (!strchr(" \t\r\n", body[i])) {
			*ret_error = strdup("trailing bytes after the object");
			return -EBADMSG;
		}
	if ((r = vd_string(root, "driverName", &v.driver, ret_error)) < 0 ||
	    (r = vd_string(root, "volumeHandle", &v.volume_handle, ret_error)) < 0 ||
	    (r = vd_string(root, "specVolID", &v.spec_vol_id, ret_error)) < 0 ||
	    (r = vd_string(root, "volumeLifecycleMode", &v.lifecycle, ret_error)) < 0) {
		kubelet_vol_data_done(&v);
		return r;
	}
	*ret = v;
	return 0;
}

static void note(struct kubelet_state *s, const char *fmt, ...) _printf_(2, 3);
static void note(struct kubelet_state *s, const char *fmt, ...)
{
	struct strbuf sb = { 0 };
	va_list ap;

	s->skipped++;
	if (strv_length(s->notes) >= KUBELET_MAX_NOTES)
		return;
	va_start(ap, fmt);
	strbuf_vappendf(&sb, fmt, ap);
	va_end(ap);
	if (!strbuf_failed(&sb))
		(void)strv_push(&s->notes, strbuf_steal(&sb));
	strbuf_done(&sb);
}

/* A directory entry name that is safe to show: printable ASCII, bounded. */
static char *shown(const char *name)
{
	char buf[72];
	size_t i;

	for (i = 0; name[i] && i < 64; i++)
		buf[i] = name[i] > 0x20 && name[i] < 0x7f ? name[i] : '?';
	buf[i] = '\0';
	if (name[i])
		strcpy(buf + 60, "...");
	return strdup(buf);
}

static bool is_dir(const struct sysroot *sr, const char *path)
{
	struct stat st;

	return sysroot_stat(sr, path, &st) >= 0 && S_ISDIR(st.st_mode);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted, without "." and ".." and capped. */
static int list_dir(const struct sysroot *sr, const char *path, size_t max, char ***ret, size_t *ret_over)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_free_ char **v = NULL;
	struct dirent *de;
	size_t n = 0, over = 0;
	int r;

	r = sysroot_opendir(sr, path, &d);
	if (r < 0)
		return r;
	while ((errno = 0, de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (n >= max) {
			over++;
			continue;
		}
		if (strv_extend(&v, de->d_name) < 0)
			return -ENOMEM;
		n++;
	}
	if (errno)
		return -errno;
	if (v)
		qsort(v, n, sizeof(char *), cmp_name);
	*ret = TAKE_PTR(v);
	if (ret_over)
		*ret_over = over;
	return 0;
}

static void read_vol_data(const struct sysroot *sr, const char *dir, struct kubelet_vol_data *ret)
{
	_cleanup_free_ char *path = path_join(dir, "vol_data.json"), *body = NULL, *err = NULL;
	size_t len = 0;
	int r;

	*ret = (struct kubelet_vol_data){ 0 };
	if (!path)
		return;
	r = sysroot_read_file(sr, path, VOL_DATA_MAX, &body, &len);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		ret->present = true;
		ret->error = strprintf("%s: %s", path, strerror(-r));
		return;
	}
	if (kubelet_parse_vol_data(body, len, ret, &err) < 0) {
		*ret = (struct kubelet_vol_data){ .present = true };
		ret->error = strprintf("%s: %s", path, strna(err));
	}
}

static enum kube_volume_kind kind_of_plugin(const char *dir)
{
	for (size_t i = 0; i < ARRAY_SIZE(plugin_dirs); i++)
		if (streq(dir, plugin_dirs[i].dir))
			return plugin_dirs[i].kind;
	return KVOL_OTHER;
}

static void kubelet_volume_done(struct kubelet_volume *v)
{
	free(v->plugin);
	free(v->name);
	free(v->path);
	kubelet_vol_data_done(&v->vd);
}

static void kubelet_pod_done(struct kubelet_pod *p)
{
	free(p->uid);
	free(p->namespace);
	free(p->name);
	free(p->name_error);
	for (size_t i = 0; i < p->n_volumes; i++)
		kubelet_volume_done(&p->volumes[i]);
	free(p->volumes);
}

void kubelet_state_done(struct kubelet_state *s)
{
	if (!s)
		return;
	free(s->root);
	free(s->logs_error);
	for (size_t i = 0; i < s->n_pods; i++)
		kubelet_pod_done(&s->pods[i]);
	free(s->pods);
	for (size_t i = 0; i < s->n_staging; i++) {
		free(s->staging[i].driver);
		free(s->staging[i].key);
		free(s->staging[i].path);
		kubelet_vol_data_done(&s->staging[i].vd);
	}
	free(s->staging);
	strv_free(s->notes);
	*s = (struct kubelet_state){ 0 };
}

static int add_volume(struct kubelet_pod *p, size_t max, enum kube_volume_kind kind,
		      const char *plugin, const char *name, char *path)
{
	struct kubelet_volume *v;

	if (p->n_volumes >= max) {
		free(path);
		return -E2BIG;
	}
	v = realloc(p->volumes, (p->n_volumes + 1) * sizeof(*v));
	if (!v) {
		free(path);
		return -ENOMEM;
	}
	p->volumes = v;
	v = &p->volumes[p->n_volumes++];
	*v = (struct kubelet_volume){ .kind = kind, .path = path };
	v->plugin = strdup(plugin);
	v->name = strdup(name);
	return v->plugin && v->name ? 0 : -ENOMEM;
}

/* One plugin directory of a pod: pods/<uid>/<sub>/<plugin>/<name>. */
static void scan_plugin(const struct sysroot *sr, struct kubelet_state *s, struct kubelet_pod *p,
			const char *pdir, const char *plugin, bool block, size_t max)
{
	_cleanup_strv_free_ char **names = NULL;
	enum kube_volume_kind kind = kind_of_plugin(plugin);
	int r;

	if (block)
		kind = kind == KVOL_CSI ? KVOL_CSI_BLOCK : KVOL_OTHER;
	r = list_dir(sr, pdir, max + 1, &names, NULL);
	if (r < 0) {
		note(s, "%s: cannot be listed: %s", pdir, strerror(-r));
		return;
	}
	for (char **n = names; n && *n; n++) {
		_cleanup_free_ char *dir = path_join(pdir, *n), *safe = shown(*n);
		char *data;

		if (!dir)
			return;
		/* Pod volume names are DNS labels, PV names DNS subdomains. */
		if (!dns_subdomain(*n, strlen(*n))) {
			note(s, "%s/%s: not a volume name Kubernetes allows; skipped", pdir,
			     strna(safe));
			continue;
		}
		/* kubelet makes directories here; anything else holds no volume. */
		if (!is_dir(sr, dir)) {
			note(s, "%s/%s: not a directory; skipped", pdir, strna(safe));
			continue;
		}
		data = kind == KVOL_CSI ? path_join(dir, "mount") : strdup(dir);
		r = add_volume(p, max, kind, plugin, *n, data);
		if (r == -E2BIG) {
			note(s, "pod %s: more than %zu volumes; the rest skipped", p->uid, max);
			return;
		}
		if (r < 0)
			return;
		if (kind == KVOL_CSI)
			read_vol_data(sr, dir, &p->volumes[p->n_volumes - 1].vd);
	}
}

static void scan_pod(const struct sysroot *sr, struct kubelet_state *s, struct kubelet_pod *p,
		     const char *poddir, size_t max)
{
	static const char *const subs[] = { "volumes", "volumeDevices" };

	for (size_t k = 0; k < ARRAY_SIZE(subs); k++) {
		_cleanup_free_ char *sub = path_join(poddir, subs[k]);
		_cleanup_strv_free_ char **plugins = NULL;
		int r;

		if (!sub)
			return;
		r = list_dir(sr, sub, 64, &plugins, NULL);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			note(s, "%s: cannot be listed: %s", sub, strerror(-r));
			continue;
		}
		for (char **pl = plugins; pl && *pl; pl++) {
			_cleanup_free_ char *pdir = path_join(sub, *pl), *safe = shown(*pl);

			if (!pdir)
				return;
			if (!all_chars(*pl, strlen(*pl), ".-~_") || strlen(*pl) > 128) {
				note(s, "%s/%s: not a volume plugin directory; skipped", sub,
				     strna(safe));
				continue;
			}
			if (is_dir(sr, pdir))
				scan_plugin(sr, s, p, pdir, *pl, k == 1, max);
		}
	}
}

struct log_name {
	char *uid, *namespace, *name;
	bool ambiguous;
};

static int log_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct log_name *)a)->uid, ((const struct log_name *)b)->uid);
}

static void log_names_free(struct log_name *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].uid);
		free(v[i].namespace);
		free(v[i].name);
	}
	free(v);
}

/* /var/log/pods: uid -> namespace and name, sorted by uid. */
static int read_log_names(const struct sysroot *sr, const char *dir, size_t max,
			  struct kubelet_state *s, struct log_name **ret, size_t *ret_n)
{
	_cleanup_strv_free_ char **names = NULL;
	struct log_name *v = NULL;
	size_t n = 0, over = 0;
	int r;

	r = list_dir(sr, dir, max, &names, &over);
	if (r < 0)
		return r;
	if (over)
		note(s, "%s: more than %zu entries; the rest not read", dir, max);
	v = calloc(strv_length(names) + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (char **e = names; e && *e; e++) {
		struct log_name ln = { 0 };

		if (kubelet_parse_pod_log_name(*e, &ln.namespace, &ln.name, &ln.uid) < 0) {
			_cleanup_free_ char *safe = shown(*e);

			note(s, "%s/%s: not <namespace>_<pod>_<uid>; skipped", dir, strna(safe));
			continue;
		}
		v[n++] = ln;
	}
	qsort(v, n, sizeof(*v), log_name_cmp);
	/* Two directories claiming one uid: neither name is trusted. */
	for (size_t i = 1; i < n; i++)
		if (streq(v[i].uid, v[i - 1].uid))
			v[i].ambiguous = v[i - 1].ambiguous = true;
	*ret = v;
	*ret_n = n;
	return 0;
}

static void name_pod(struct kubelet_pod *p, const struct log_name *names, size_t n,
		     const char *logs, const char *logs_error)
{
	struct log_name key = { .uid = p->uid };
	const struct log_name *hit = n ? bsearch(&key, names, n, sizeof(*names), log_name_cmp) : NULL;

	if (logs_error) {
		p->name_error = strprintf("%s unreadable: %s", logs, logs_error);
		return;
	}
	if (!hit) {
		p->name_error = strprintf("no %s/<namespace>_<pod>_%s directory", logs, p->uid);
		return;
	}
	if (hit->ambiguous) {
		p->name_error = strprintf("several %s directories end in _%s", logs, p->uid);
		return;
	}
	p->namespace = strdup(hit->namespace);
	p->name = strdup(hit->name);
}

static int scan_pods(const struct sysroot *sr, const struct kubelet_scan_options *o,
		     struct kubelet_state *s, const char *logs)
{
	_cleanup_free_ char *dir = path_join(s->root, "pods");
	_cleanup_strv_free_ char **uids = NULL;
	struct log_name *names = NULL;
	size_t max = o->max_pods ? o->max_pods : KUBELET_MAX_PODS, n_names = 0, over = 0;
	int r;

	if (!dir)
		return -ENOMEM;
	r = list_dir(sr, dir, max, &uids, &over);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (over)
		note(s, "%s: more than %zu pods; the rest not read", dir, max);
	r = read_log_names(sr, logs, 4 * max, s, &names, &n_names);
	if (r < 0 && r != -ENOMEM)
		s->logs_error = strdup(strerror(-r));
	s->pods = calloc(strv_length(uids) + 1, sizeof(*s->pods));
	if (!s->pods) {
		log_names_free(names, n_names);
		return -ENOMEM;
	}
	for (char **u = uids; u && *u; u++) {
		_cleanup_free_ char *poddir = path_join(dir, *u), *safe = shown(*u);
		struct kubelet_pod *p;

		if (!poddir)
			break;
		if (!kubelet_uid_valid(*u) || !is_dir(sr, poddir)) {
			note(s, "%s/%s: not a pod UID directory; skipped", dir, strna(safe));
			continue;
		}
		p = &s->pods[s->n_pods++];
		p->uid = strdup(*u);
		if (!p->uid)
			break;
		name_pod(p, names, n_names, logs, s->logs_error);
		scan_pod(sr, s, p, poddir, o->max_volumes ? o->max_volumes : KUBELET_MAX_VOLUMES);
	}
	log_names_free(names, n_names);
	return 0;
}

static int add_staging(struct kubelet_state *s, const char *driver, const char *key, char *path)
{
	struct kubelet_staging *v = realloc(s->staging, (s->n_staging + 1) * sizeof(*v));

	if (!v) {
		free(path);
		return -ENOMEM;
	}
	s->staging = v;
	v = &s->staging[s->n_staging++];
	*v = (struct kubelet_staging){ .path = path };
	v->driver = strdup(driver);
	v->key = strdup(key);
	return v->driver && v->key ? 0 : -ENOMEM;
}

/* plugins/kubernetes.io/csi/<driver>/<key>/globalmount, <key>/vol_data.json. */
static void scan_staging(const struct sysroot *sr, struct kubelet_state *s, size_t max)
{
	_cleanup_free_ char *csi = path_join(s->root, "plugins/kubernetes.io/csi");
	_cleanup_strv_free_ char **drivers = NULL;

	if (!csi || list_dir(sr, csi, 256, &drivers, NULL) < 0)
		return;
	for (char **d = drivers; d && *d; d++) {
		_cleanup_free_ char *ddir = path_join(csi, *d);
		_cleanup_strv_free_ char **keys = NULL;
		size_t over = 0;

		/* volumeDevices/ holds raw block staging, not filesystems. */
		if (!ddir || streq(*d, "volumeDevices") || !is_dir(sr, ddir) ||
		    !dns_subdomain(*d, strlen(*d)))
			continue;
		if (list_dir(sr, ddir, max, &keys, &over) < 0)
			continue;
		if (over)
			note(s, "%s: more than %zu staging mounts; the rest not read", ddir, max);
		for (char **k = keys; k && *k; k++) {
			_cleanup_free_ char *kdir = path_join(ddir, *k), *safe = shown(*k);
			char *gm;

			if (!kdir)
				return;
			if (!all_chars(*k, strlen(*k), ".-") || strlen(*k) > DNS_SUBDOMAIN_MAX) {
				note(s, "%s/%s: not a staging directory; skipped", ddir, strna(safe));
				continue;
			}
			gm = path_join(kdir, "globalmount");
			if (!gm || !is_dir(sr, gm)) {
				free(gm);
				continue;
			}
			if (add_staging(s, *d, *k, gm) < 0)
				return;
			read_vol_data(sr, kdir, &s->staging[s->n_staging - 1].vd);
		}
	}
}

int kubelet_scan(const struct sysroot *sr, const struct kubelet_scan_options *o,
		 struct kubelet_state *ret, char **ret_error)
{
	struct kubelet_state s = { 0 };
	const char *logs = o->pod_logs_dir ? o->pod_logs_dir : "/var/log/pods";
	_cleanup_free_ char *pods = NULL;
	int r;

	s.root = strdup(o->kubelet_dir ? o->kubelet_dir : "/var/lib/kubelet");
	pods = s.root ? path_join(s.root, "pods") : NULL;
	if (!pods) {
		free(s.root);
		return -ENOMEM;
	}
	/* kubelet creates pods/ when it starts: a bare directory of that name
	 * (a mount point waiting for a volume) is no kubelet. */
	if (!is_dir(sr, pods)) {
		*ret = s;
		return 0;
	}
	s.present = true;
	r = scan_pods(sr, o, &s, logs);
	if (r < 0) {
		*ret_error = strprintf("%s/pods cannot be listed: %s", s.root, strerror(-r));
		kubelet_state_done(&s);
		return r;
	}
	scan_staging(sr, &s, o->max_pods ? 4 * o->max_pods : 4 * KUBELET_MAX_PODS);
	*ret = s;
	return 0;
}
