/* SPDX-License-Identifier: Apache-2.0 */
/* The VMSS extension's lifecycle: install, enable, disable, uninstall and
 * update as HandlerManifest.json runs them. Each returns within seconds and
 * never runs the daemon itself. */
#include "config.h"

#include <sys/stat.h>

#include "agent/evaluate.h"
#include "agent/vmss/vmss-internal.h"
#include "lib/log.h"
#include "lib/strutil.h"

#define UNIT "atrest.service"
#define CONF_PATH "/etc/atrest/atrest.conf"
#define CONF_BACKUP "/etc/atrest/atrest.conf.pre-vmss-extension"
#define CONF_MARKER "# Written by the atrest VMSS extension"
#define STATE_DIR "/var/lib/atrest/vmss-extension"
#define INSTALLED_FLAG STATE_DIR "/installed"
#define UPDATE_FLAG STATE_DIR "/update-pending"
#define CERT_DIR "/var/lib/waagent"
#define SETTINGS_MAX (1024 * 1024)
/* The enable evaluation is bounded: IMDS gets at most this, no benchmark. */
#define EVAL_IMDS_TIMEOUT 10.0

#define LIBEXEC_DIR "/usr/local/libexec/atrest"

/* What install puts in place when no system package provides the unit. */
static const struct {
	const char *from; /* in the extension directory */
	const char *to;   /* on the host */
	mode_t mode;
} payload[] = {
	{ "bin/atrest", "/usr/local/sbin/atrest", 0755 },
	/* The daemon's programs, where atrest looks for them (../libexec/atrest). */
	{ "bin/atrest-evaluator", LIBEXEC_DIR "/atrest-evaluator", 0755 },
	{ "bin/atrest-server", LIBEXEC_DIR "/atrest-server", 0755 },
	{ "systemd/atrest.service", "/etc/systemd/system/atrest.service", 0644 },
	{ "systemd/atrest.catalog", "/etc/systemd/catalog/atrest.catalog", 0644 },
};
#define DROPIN "/etc/systemd/system/atrest.service.d/vmss-extension.conf"
#define DROPIN_TEXT                                                          \
	"# Written by the atrest VMSS extension: the binary it installed.\n" \
	"[Service]\nExecStart=\nExecStart=/usr/local/sbin/atrest daemon\n"

static bool host_exists(const struct handler *h, const char *path)
{
	_cleanup_free_ char *p = host_path(h, path);

	return p && access(p, F_OK) == 0;
}

static int host_unlink(const struct handler *h, const char *path)
{
	_cleanup_free_ char *p = host_path(h, path);

	if (!p)
		return -ENOMEM;
	return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
}

static int host_write(const struct handler *h, const char *path, const char *text, mode_t mode)
{
	_cleanup_free_ char *p = host_path(h, path);
	int r;

	if (!p)
		return -ENOMEM;
	r = mkdir_parents(p, 0755);
	return r < 0 ? r : write_file_atomic(p, text, strlen(text), mode);
}

static int systemctl(struct handler *h, const char *a, const char *b, const char *c)
{
	const char *args[] = { a, b, c, NULL };

	return run_systemctl(h, args);
}

/* Fails the operation: an error status with the reason, exit 1. */
static int fail(struct handler *h, const char *why)
{
	_cleanup_free_ char *msg = strprintf("%s failed: %s", h->op, why);

	hlog(h, "%s", msg ? msg : why);
	handler_write_status(h, &(struct vmss_status){ .operation = h->op,
						       .state = VMSS_ERROR,
						       .code = 1,
						       .message = msg ? msg : why,
						       .now = time(NULL) });
	return 1;
}

static bool system_unit_present(const struct handler *h)
{
	return host_exists(h, "/usr/lib/systemd/system/" UNIT) ||
	       host_exists(h, "/lib/systemd/system/" UNIT);
}

static int install_payload(struct handler *h)
{
	for (size_t i = 0; i < ARRAY_SIZE(payload); i++) {
		_cleanup_free_ char *from = strprintf("%s/%s", h->ext_dir, payload[i].from);
		_cleanup_free_ char *to = host_path(h, payload[i].to);
		int r;

		if (!from || !to)
			return -ENOMEM;
		r = copy_file_atomic(from, to, payload[i].mode);
		if (r < 0) {
			hlog(h, "cannot install %s to %s: %s", payload[i].from, payload[i].to,
			     strerror(-r));
			return r;
		}
	}
	return host_write(h, DROPIN, DROPIN_TEXT, 0644);
}

static int do_install(struct handler *h)
{
	(void)host_unlink(h, UPDATE_FLAG);
	if (system_unit_present(h)) {
		hlog(h, "%s comes from the system package; nothing to install", UNIT);
		return 0;
	}
	if (install_payload(h) < 0 || host_write(h, INSTALLED_FLAG, "1\n", 0644) < 0)
		return fail(h, "cannot put the binary and the unit in place (see the log)");
	if (systemctl(h, "daemon-reload", NULL, NULL) != 0)
		return fail(h, "systemctl daemon-reload failed");
	hlog(h, "installed /usr/local/sbin/atrest, its programs in " LIBEXEC_DIR " and %s", UNIT);
	return 0;
}

static int read_settings(struct handler *h, struct vmss_settings *ret, char **ret_error)
{
	_cleanup_free_ char *path = strprintf("%s/%u.settings", h->env.config_folder, h->seq);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	if (!path)
		return -ENOMEM;
	r = read_file_capped(path, SETTINGS_MAX, &text, &len);
	if (r == -ENOENT && h->seq == 0) {
		*ret = (struct vmss_settings){ 0 };
		return 0; /* no settings at all: the defaults */
	}
	if (r < 0) {
		*ret_error = strprintf("cannot read %u.settings: %s", h->seq, strerror(-r));
		return r;
	}
	return vmss_settings_parse(text, len, ret, ret_error);
}

/* atrest takes no secret settings: protected settings are decrypted to
 * check they are sound, counted, wiped, and never echoed. */
static char *protected_note(struct handler *h, const struct vmss_settings *s)
{
	_cleanup_free_ char *certdir = host_path(h, CERT_DIR), *err = NULL, *plain = NULL;
	json_object *o;
	size_t len = 0;
	char *note;

	if (!s->protected_settings)
		return NULL;
	if (!certdir)
		return NULL;
	if (vmss_decrypt_protected(s->protected_settings, s->thumbprint, certdir, &plain, &len, &err) < 0)
		return strprintf("protectedSettings ignored (atrest takes no secret settings); "
				 "they could not be decrypted: %s",
				 strna(err));
	o = json_tokener_parse(plain);
	note = strprintf("protectedSettings decrypted (%s) and ignored: atrest takes no secret settings",
			 json_object_is_type(o, json_type_object) ? "a JSON object" :
								    "not a JSON object");
	json_object_put(o);
	explicit_bzero(plain, len);
	return note;
}

static char *strip_file_prefix(char *err, const char *tmp)
{
	const char *p = err;

	if (tmp && startswith(p, tmp)) {
		p += strlen(tmp);
		p += strspn(p, ":0123456789 ");
	}
	return strprintf("publicSettings: %s", p);
}

static bool conf_is_ours(const char *path)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	return read_file_capped(path, 1 << 20, &text, &len) == 0 && startswith(text, CONF_MARKER);
}

static bool same_content(const char *path, const char *ini)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	return read_file_capped(path, 1 << 20, &text, &len) == 0 && streq(text, ini);
}

/* Validates the new file with the real parser before it replaces the old
 * one; an administrator's own file is kept aside once, for uninstall. */
static int apply_config(struct handler *h, const char *ini, struct config *conf, bool *changed,
			char **ret_error)
{
	_cleanup_free_ char *path = host_path(h, CONF_PATH), *backup = host_path(h, CONF_BACKUP);
	_cleanup_free_ char *tmp = NULL, *err = NULL;
	int r;

	if (!path || !backup || mkdir_parents(path, 0755) < 0)
		return -ENOMEM;
	tmp = strprintf("%s.vmss-new", path);
	if (!tmp)
		return -ENOMEM;
	r = write_file_atomic(tmp, ini, strlen(ini), 0644);
	if (r < 0) {
		*ret_error = strprintf("cannot write %s: %s", CONF_PATH, strerror(-r));
		return r;
	}
	r = config_load_file(conf, tmp, &err);
	if (r < 0) {
		unlink(tmp);
		*ret_error = strip_file_prefix(err ? err : (char *)"invalid", tmp);
		return r;
	}
	*changed = !same_content(path, ini);
	if (access(path, F_OK) == 0 && !conf_is_ours(path) && access(backup, F_OK) < 0 &&
	    rename(path, backup) == 0)
		hlog(h, "kept the existing %s as %s", CONF_PATH, CONF_BACKUP);
	if (rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		*ret_error = strprintf("cannot replace %s: %s", CONF_PATH, strerror(-r));
		return r;
	}
	return 0;
}

static int start_unit(struct handler *h, bool changed)
{
	if (systemctl(h, "enable", UNIT, NULL) != 0)
		return -EIO;
	/* --no-block: the daemon's READY=1 waits for its first evaluation. */
	return systemctl(h, "--no-block", changed ? "reload-or-restart" : "start", UNIT) != 0 ? -EIO :
												0;
}

static struct evaluation *evaluate_once(struct handler *h, const char *sysroot, struct config *conf)
{
	_cleanup_(sysroot_freep) struct sysroot *sr = NULL;
	struct evaluation *e = NULL;
	int r;

	r = sysroot_new(sysroot, &sr);
	if (r < 0) {
		fprintf(stderr, "atrest: --sysroot %s: %s\n", strna(sysroot), strerror(-r));
		return NULL;
	}
	conf->imds_timeout = MIN(conf->imds_timeout, EVAL_IMDS_TIMEOUT);
	r = evaluate(&(struct gather_options){ .conf = conf, .sr = sr, .no_bench = true }, &e);
	if (r < 0)
		hlog(h, "evaluation failed: %s", strerror(-r));
	return r < 0 ? NULL : e;
}

static int enable_finish(struct handler *h, const char *sysroot, struct config *conf, const char *note)
{
	_cleanup_(evaluation_freep) struct evaluation *e = evaluate_once(h, sysroot, conf);
	_cleanup_free_ char *msg = NULL;

	msg = strprintf("%s enabled and started with the configuration of sequence %u; "
			"compliance: %s",
			UNIT, h->seq, e ? verdict_to_string(e->report.verdict) : "not evaluated");
	if (!msg)
		return fail(h, "out of memory");
	hlog(h, "%s", msg);
	handler_write_status(h, &(struct vmss_status){ .operation = h->op,
						       .state = VMSS_SUCCESS,
						       .message = msg,
						       .report = e ? &e->report : NULL,
						       .config_note = note,
						       .now = time(NULL) });
	if (mrseq_write(h, h->seq) < 0)
		hlog(h, "cannot record sequence %u in mrseq", h->seq);
	return 0;
}

static int enable_apply(struct handler *h, const char *sysroot)
{
	_cleanup_(vmss_settings_done) struct vmss_settings s = { 0 };
	_cleanup_(config_done) struct config conf = { 0 };
	_cleanup_free_ char *err = NULL, *ini = NULL, *note = NULL;
	bool changed = false;

	if (read_settings(h, &s, &err) < 0)
		return fail(h, err ? err : "cannot read the settings");
	note = protected_note(h, &s);
	if (note)
		hlog(h, "%s", note);
	if (vmss_settings_to_ini(s.public_settings, &ini, &err) < 0)
		return fail(h, err ? err : "out of memory");
	if (config_init_default(&conf) < 0)
		return fail(h, "out of memory");
	if (apply_config(h, ini, &conf, &changed, &err) < 0)
		return fail(h, err ? err : "cannot write the configuration");
	hlog(h, "%s %s", CONF_PATH, changed ? "written" : "unchanged");
	if (start_unit(h, changed) < 0)
		return fail(h, "systemctl could not enable and start " UNIT " (see the log)");
	return enable_finish(h, sysroot, &conf, note);
}

static int do_enable(struct handler *h, const char *sysroot)
{
	unsigned done;

	if (handler_find_seq(h) < 0) {
		h->seq = 0; /* waagent writes 0.settings for a handler without settings */
		h->have_seq = true;
	}
	if (mrseq_read(h, &done) == 0 && done == h->seq) {
		hlog(h, "sequence %u already applied; nothing to do", h->seq);
		return 0;
	}
	hlog(h, "applying sequence %u", h->seq);
	handler_write_status(h, &(struct vmss_status){ .operation = h->op,
						       .state = VMSS_TRANSITIONING,
						       .message = "applying the configuration",
						       .now = time(NULL) });
	return enable_apply(h, sysroot);
}

static int do_disable(struct handler *h)
{
	(void)handler_find_seq(h);
	/* disable, not only stop: the unit must not come back at boot. */
	if (systemctl(h, "disable", "--now", UNIT) != 0)
		return fail(h, "systemctl could not stop " UNIT);
	mrseq_remove(h); /* the next enable re-applies and restarts */
	hlog(h, "%s stopped and disabled", UNIT);
	handler_write_status(h, &(struct vmss_status){ .operation = h->op,
						       .state = VMSS_SUCCESS,
						       .message = UNIT " stopped and disabled",
						       .now = time(NULL) });
	return 0;
}

static void remove_config(struct handler *h)
{
	_cleanup_free_ char *path = host_path(h, CONF_PATH), *backup = host_path(h, CONF_BACKUP);

	if (!path || !backup || !conf_is_ours(path))
		return;
	if (unlink(path) == 0)
		hlog(h, "removed %s", CONF_PATH);
	if (rename(backup, path) == 0)
		hlog(h, "restored the previous %s", CONF_PATH);
}

static void remove_payload(struct handler *h)
{
	_cleanup_free_ char *dir = NULL;

	if (!host_exists(h, INSTALLED_FLAG))
		return;
	dir = host_path(h, LIBEXEC_DIR);

	for (size_t i = 0; i < ARRAY_SIZE(payload); i++)
		(void)host_unlink(h, payload[i].to);
	if (dir)
		(void)rmdir(dir); /* only when empty */
	(void)host_unlink(h, DROPIN);
	(void)host_unlink(h, INSTALLED_FLAG);
	(void)systemctl(h, "daemon-reload", NULL, NULL);
	hlog(h, "removed the binary and the unit it installed");
}

static int do_uninstall(struct handler *h)
{
	/* During an update waagent uninstalls the old version before it
	 * installs the new one: keep the configuration and the service. */
	if (host_exists(h, UPDATE_FLAG)) {
		hlog(h, "part of an update: configuration and service kept");
		return 0;
	}
	if (systemctl(h, "disable", "--now", UNIT) != 0)
		hlog(h, "could not stop %s; removing the files anyway", UNIT);
	remove_config(h);
	remove_payload(h);
	mrseq_remove(h);
	return 0;
}

static int do_update(struct handler *h)
{
	if (host_write(h, UPDATE_FLAG, "1\n", 0644) < 0)
		return fail(h, "cannot record the update in " STATE_DIR);
	hlog(h, "update from %s: configuration carried over",
	     strna(getenv("AZURE_GUEST_AGENT_UPDATING_FROM_VERSION")));
	return 0;
}

static const struct {
	const char *name;
	const char *op;
} actions[] = {
	{ "install", "Install" },     { "enable", "Enable" }, { "disable", "Disable" },
	{ "uninstall", "Uninstall" }, { "update", "Update" },
};

static int run_action(struct handler *h, const char *sysroot, const char *name)
{
	if (streq(name, "install"))
		return do_install(h);
	if (streq(name, "enable"))
		return do_enable(h, sysroot);
	if (streq(name, "disable"))
		return do_disable(h);
	if (streq(name, "uninstall"))
		return do_uninstall(h);
	return do_update(h);
}

int vmss_handler_run(const char *action, const char *sysroot)
{
	struct handler h;
	const char *op = NULL;
	int r;

	for (size_t i = 0; action && i < ARRAY_SIZE(actions); i++)
		if (streq(action, actions[i].name))
			op = actions[i].op;
	if (!op)
		return -EINVAL;
	r = handler_open(&h, op);
	if (r < 0 && (streq(op, "Enable") || r != -ENOENT)) {
		hlog(&h, "HandlerEnvironment.json in %s: %s", strna(h.ext_dir),
		     r == -ENOENT ? "missing or incomplete" : strerror(-r));
		handler_close(&h);
		return 1;
	}
	if (r < 0)
		hlog(&h, "no HandlerEnvironment.json; logging to stderr only");
	r = run_action(&h, sysroot, action);
	handler_close(&h);
	return r;
}
