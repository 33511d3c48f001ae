/* SPDX-License-Identifier: Apache-2.0 */
/* The handler's inputs, parsed as hostile text: HandlerEnvironment.json,
 * config/<seq>.settings, and the public settings turned into atrest.conf. */
#include "config.h"

#include <ctype.h>

#include "agent/vmss/vmss.h"
#include "lib/strutil.h"

/* A whole JSON document: -EAGAIN while it is cut short (a writer is still
 * at work), -EINVAL for anything else that is not exactly one value. */
static int parse_json_complete(const char *text, size_t len, json_object **ret)
{
	struct json_tokener *tok;
	json_object *o;
	enum json_tokener_error err;
	size_t used;

	if (len > INT32_MAX)
		return -EINVAL;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, text, (int)len);
	err = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (err == json_tokener_continue)
		return -EAGAIN;
	if (err != json_tokener_success || !o)
		return -EINVAL;
	for (; used < len; used++)
		if (!isspace((unsigned char)text[used])) {
			json_object_put(o);
			return -EINVAL;
		}
	*ret = o;
	return 0;
}

void vmss_env_done(struct vmss_env *e)
{
	free(e->log_folder);
	free(e->config_folder);
	free(e->status_folder);
	free(e->heartbeat_file);
	*e = (struct vmss_env){ 0 };
}

static int dup_path(json_object *he, const char *key, bool required, char **ret)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(he, key, &v) || !json_object_is_type(v, json_type_string))
		return required ? -EINVAL : 0;
	s = json_object_get_string(v);
	if (s[0] != '/')
		return -EINVAL;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int vmss_env_parse(const char *text, size_t len, struct vmss_env *ret)
{
	struct vmss_env e = { 0 };
	json_object *doc = NULL, *first, *he;
	int r;

	if (len == 0)
		return -EAGAIN;
	r = parse_json_complete(text, len, &doc);
	if (r < 0)
		return r;
	r = -EINVAL;
	if (!json_object_is_type(doc, json_type_array) || json_object_array_length(doc) < 1)
		goto out;
	first = json_object_array_get_idx(doc, 0);
	if (!json_object_object_get_ex(first, "handlerEnvironment", &he) ||
	    !json_object_is_type(he, json_type_object))
		goto out;
	if ((r = dup_path(he, "logFolder", true, &e.log_folder)) < 0 ||
	    (r = dup_path(he, "configFolder", true, &e.config_folder)) < 0 ||
	    (r = dup_path(he, "statusFolder", true, &e.status_folder)) < 0 ||
	    (r = dup_path(he, "heartbeatFile", false, &e.heartbeat_file)) < 0)
		goto out;
	*ret = e;
	e = (struct vmss_env){ 0 };
	r = 0;
out:
	vmss_env_done(&e);
	json_object_put(doc);
	return r;
}

void vmss_settings_done(struct vmss_settings *s)
{
	json_object_put(s->public_settings);
	free(s->protected_settings);
	free(s->thumbprint);
	*s = (struct vmss_settings){ 0 };
}

static json_object *handler_settings(json_object *doc)
{
	json_object *rs, *first, *hs;

	if (!json_object_object_get_ex(doc, "runtimeSettings", &rs) ||
	    !json_object_is_type(rs, json_type_array) || json_object_array_length(rs) < 1)
		return NULL;
	first = json_object_array_get_idx(rs, 0);
	if (!json_object_object_get_ex(first, "handlerSettings", &hs) ||
	    !json_object_is_type(hs, json_type_object))
		return NULL;
	return hs;
}

/* publicSettings may be absent or null (no settings) or an object. */
static int take_public(json_object *hs, struct vmss_settings *s, char **ret_error)
{
	json_object *v;

	if (!json_object_object_get_ex(hs, "publicSettings", &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_object)) {
		*ret_error = strdup("publicSettings is not a JSON object");
		return -EINVAL;
	}
	s->public_settings = json_object_get(v);
	return 0;
}

static int take_protected(json_object *hs, struct vmss_settings *s, char **ret_error)
{
	json_object *v, *t;

	if (!json_object_object_get_ex(hs, "protectedSettings", &v) || !v ||
	    (json_object_is_type(v, json_type_string) && !*json_object_get_string(v)))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		*ret_error = strdup("protectedSettings is not a base64 string");
		return -EINVAL;
	}
	s->protected_settings = strdup(json_object_get_string(v));
	if (json_object_object_get_ex(hs, "protectedSettingsCertThumbprint", &t) &&
	    json_object_is_type(t, json_type_string))
		s->thumbprint = strdup(json_object_get_string(t));
	if (!s->protected_settings)
		return -ENOMEM;
	return 0;
}

int vmss_settings_parse(const char *text, size_t len, struct vmss_settings *ret, char **ret_error)
{
	struct vmss_settings s = { 0 };
	json_object *doc = NULL, *hs;
	int r;

	*ret = s;
	if (strspn(text, " \t\r\n") >= len)
		return 0;
	r = parse_json_complete(text, len, &doc);
	if (r < 0) {
		*ret_error = strdup("the settings file is not valid JSON");
		return r == -ENOMEM ? r : -EINVAL;
	}
	hs = handler_settings(doc);
	if (!hs) {
		json_object_put(doc);
		*ret_error = strdup(
			"the settings file has no runtimeSettings[0].handlerSettings object");
		return -EINVAL;
	}
	r = take_public(hs, &s, ret_error);
	if (r >= 0)
		r = take_protected(hs, &s, ret_error);
	json_object_put(doc);
	if (r < 0) {
		vmss_settings_done(&s);
		return r;
	}
	*ret = s;
	return 0;
}

static const char *const ini_sections[] = { "imds", "arm", "policy", "severity", "daemon" };

static bool name_ok(const char *k)
{
	if (!*k || strlen(k) > 64)
		return false;
	for (; *k; k++)
		if (!islower((unsigned char)*k) && !isdigit((unsigned char)*k) && *k != '_' && *k != '.')
			return false;
	return true;
}

/* A value must survive the INI round trip unchanged: one line, no comment
 * characters, no edge blanks. */
static bool value_ok(const char *v, bool allow_space)
{
	size_t n = strlen(v);

	if (n == 0 || n > 4096 || isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1]))
		return false;
	for (; *v; v++) {
		if (iscntrl((unsigned char)*v) || *v == ';' || *v == '#')
			return false;
		if (!allow_space && *v == ' ')
			return false;
	}
	return true;
}

#define BAD(...)                                     \
	({                                           \
		*ret_error = strprintf(__VA_ARGS__); \
		-EINVAL;                             \
	})

static int append_array(struct strbuf *sb, const char *sec, const char *key, json_object *a,
			char **ret_error)
{
	size_t n = json_object_array_length(a);

	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		const char *s = json_object_get_string(e);

		if (!json_object_is_type(e, json_type_string) || !value_ok(s, false))
			return BAD("publicSettings.%s.%s[%zu]: want a non-empty string without blanks, ';' or '#'",
				   sec, key, i);
		strbuf_appendf(sb, "%s%s", i ? " " : "", s);
	}
	return 0;
}

static int append_value(struct strbuf *sb, const char *sec, const char *key, json_object *v,
			char **ret_error)
{
	const char *s = json_object_get_string(v);

	switch (json_object_get_type(v)) {
	case json_type_string:
		if (!value_ok(s, true))
			return BAD("publicSettings.%s.%s: want a one-line string without ';' or '#'",
				   sec, key);
		strbuf_append(sb, s);
		return 0;
	case json_type_int:
		strbuf_appendf(sb, "%" PRId64, json_object_get_int64(v));
		return 0;
	case json_type_double:
		strbuf_appendf(sb, "%.17g", json_object_get_double(v));
		return 0;
	case json_type_array:
		return append_array(sb, sec, key, v, ret_error);
	default:
		return BAD("publicSettings.%s.%s: want a string, a number or an array of strings",
			   sec, key);
	}
}

static int append_section(struct strbuf *sb, const char *sec, json_object *o, char **ret_error)
{
	if (!json_object_is_type(o, json_type_object))
		return BAD("publicSettings.%s: want an object of keys", sec);
	strbuf_appendf(sb, "\n[%s]\n", sec);
	json_object_object_foreach(o, key, v)
	{
		int r;

		if (!v)
			continue; /* null: leave the default */
		if (!name_ok(key))
			return BAD("publicSettings.%s: '%.64s' is not a key name", sec, key);
		strbuf_appendf(sb, "%s = ", key);
		r = append_value(sb, sec, key, v, ret_error);
		if (r < 0)
			return r;
		strbuf_putc(sb, '\n');
	}
	return 0;
}

static bool known_section(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(ini_sections); i++)
		if (streq(s, ini_sections[i]))
			return true;
	return false;
}

int vmss_settings_to_ini(json_object *pub, char **ret_ini, char **ret_error)
{
	struct strbuf sb = { 0 };
	json_object *empty = NULL;
	int r = 0;

	strbuf_append(&sb, "# Written by the atrest VMSS extension from its public settings;\n"
			   "# edits are replaced at the next enable. See atrest.conf(5).\n");
	if (!pub)
		pub = empty = json_object_new_object();
	json_object_object_foreach(pub, sec, o)
	{
		if (!known_section(sec)) {
			r = BAD("publicSettings: unknown section '%.64s' (known: imds, arm, policy, severity, daemon)",
				sec);
			break;
		}
		if (!o)
			continue;
		r = append_section(&sb, sec, o, ret_error);
		if (r < 0)
			break;
	}
	json_object_put(empty);
	if (r < 0) {
		strbuf_done(&sb);
		return r;
	}
	if (strbuf_failed(&sb))
		return -ENOMEM;
	*ret_ini = strbuf_steal(&sb);
	return 0;
}
