/* SPDX-License-Identifier: Apache-2.0 */
/* json-c helpers shared by every part that builds or reads JSON: scope-bound
 * cleanup and the few constructors for values that may be absent. */
#pragma once

#include <json-c/json.h>

#include "lib/macro.h"
#include "lib/strutil.h"

static inline void json_object_putp(json_object **p)
{
	if (*p)
		json_object_put(*p);
}

static inline void json_tokener_freep(json_tokener **p)
{
	if (*p)
		json_tokener_free(*p);
}

#define _cleanup_json_ _cleanup_(json_object_putp)

/* A string, or JSON null for NULL. */
static inline json_object *json_string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* true/false, or JSON null when unknown. */
static inline json_object *json_tristate_or_null(enum tristate t)
{
	return t == TRI_UNKNOWN ? NULL : json_object_new_boolean(t == TRI_TRUE);
}

/* An array of the strings of a NULL-terminated vector (NULL: empty). */
static inline json_object *json_strv(char *const *v)
{
	json_object *a = json_object_new_array();

	for (; a && v && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}
