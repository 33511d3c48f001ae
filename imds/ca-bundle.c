/* SPDX-License-Identifier: Apache-2.0 */
/* The CA bundle locations of the distributions atrest's portable build runs
 * on. Debian's libcurl is built for Debian's path; one binary for Debian,
 * Ubuntu, RHEL and Azure Linux has to look. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imds/ca-bundle.h"
#include "lib/macro.h"

static const char *const ca_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu */
	"/etc/pki/tls/certs/ca-bundle.crt",                  /* RHEL, Fedora, Azure Linux */
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* RHEL 7+, the file behind it */
	"/etc/ssl/ca-bundle.pem",                            /* SUSE */
	"/etc/ssl/cert.pem",                                 /* Alpine */
};

const char *ca_bundle_find(const char *root)
{
	for (size_t i = 0; i < ARRAY_SIZE(ca_bundles); i++) {
		char path[PATH_MAX];
		struct stat st;

		if (snprintf(path, sizeof(path), "%s%s", root ? root : "", ca_bundles[i]) >=
		    (int)sizeof(path))
			continue;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0)
			return ca_bundles[i];
	}
	return NULL;
}
