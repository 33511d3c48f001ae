/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest version`: our version and each library's, as built and as run. */
#include "config.h"

#include <blkid/blkid.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <openssl/crypto.h>

#include "agent/cmd/cli.h"
#include "lib/json-util.h"
#include "lib/sd-dlopen.h"

#ifdef ATREST_PORTABLE
/* Static libraries and libsystemd through dlopen(): say which file it found. */
#define BUILD_KIND "portable"
#define SYSTEMD_BUILT "dlopen"
#else
#define BUILD_KIND "normal"
#define SYSTEMD_BUILT BUILT_WITH_LIBSYSTEMD
#endif

struct lib_version {
	const char *name;
	const char *built;
	const char *running; /* NULL when the library cannot say */
};

int cmd_version(struct cli *c)
{
	const char *blkid_ver = NULL;
	struct lib_version libs[] = {
		{ "libblkid", BUILT_WITH_BLKID, NULL },
		{ "libcryptsetup", BUILT_WITH_LIBCRYPTSETUP, NULL },
		{ "libcurl", BUILT_WITH_LIBCURL, curl_version_info(CURLVERSION_NOW)->version },
		{ "json-c", BUILT_WITH_JSON_C, json_c_version() },
		{ "libsystemd", SYSTEMD_BUILT, sd_dlopen_describe() },
		{ "libmicrohttpd", BUILT_WITH_LIBMICROHTTPD, MHD_get_version() },
		{ "inih", BUILT_WITH_INIH, NULL },
		{ "libcrypto", BUILT_WITH_LIBCRYPTO, OpenSSL_version(OPENSSL_VERSION) },
	};

	blkid_get_library_version(&blkid_ver, NULL);
	libs[0].running = blkid_ver;
	if (c->format == FORMAT_JSON) {
		json_object *o = json_object_new_object(), *l = json_object_new_object();

		json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
		json_object_object_add(o, "build", json_object_new_string(BUILD_KIND));
		for (size_t i = 0; i < ARRAY_SIZE(libs); i++) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "built", json_object_new_string(libs[i].built));
			json_object_object_add(e, "running", json_string_or_null(libs[i].running));
			json_object_object_add(l, libs[i].name, e);
		}
		json_object_object_add(o, "libraries", l);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
		return 0;
	}
	printf("atrest %s (%s build)\n", PACKAGE_VERSION, BUILD_KIND);
	for (size_t i = 0; i < ARRAY_SIZE(libs); i++)
		printf("  %-14s built %-8s running %s\n", libs[i].name, libs[i].built,
		       libs[i].running ? libs[i].running : "(not reported)");
	return 0;
}
