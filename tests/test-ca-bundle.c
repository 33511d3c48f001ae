/* SPDX-License-Identifier: Apache-2.0 */
/* Which CA bundle the portable build picks, on fake distribution roots. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imds/ca-bundle.h"
#include "tests/tap.h"

static char root[] = "/tmp/atrest-ca.XXXXXX";

static void put(const char *rel)
{
	char path[512], cmd[1100];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd) != 0 || !(f = fopen(path, "w"))) {
		ok(false, "cannot create %s", path);
		return;
	}
	fputs("-----BEGIN CERTIFICATE-----\n", f);
	fclose(f);
}

int main(void)
{
	char cmd[1200], path[512];

	if (!mkdtemp(root))
		tap_skip_all("mkdtemp failed");
	ok(ca_bundle_find(root) == NULL, "an empty root has no bundle");

	snprintf(path, sizeof(path), "%s/etc/ssl/certs/ca-certificates.crt", root);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	ok(system(cmd) == 0, "a directory where Debian's bundle would be");
	ok(ca_bundle_find(root) == NULL, "a directory is not a bundle");
	rmdir(path);

	put("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem");
	is_str(ca_bundle_find(root), "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	       "RHEL 7+'s extracted bundle is found");
	snprintf(path, sizeof(path), "%s/etc/pki/tls/certs", root);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && ln -s ../../ca-trust/extracted/pem/tls-ca-bundle.pem '%s/ca-bundle.crt'",
		 path, path);
	ok(system(cmd) == 0, "RHEL's ca-bundle.crt symlink");
	is_str(ca_bundle_find(root), "/etc/pki/tls/certs/ca-bundle.crt",
	       "RHEL and Azure Linux: ca-bundle.crt, through its symlink");
	put("/etc/ssl/certs/ca-certificates.crt");
	is_str(ca_bundle_find(root), "/etc/ssl/certs/ca-certificates.crt", "Debian and Ubuntu's bundle comes first");

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ok(system(cmd) == 0, "clean up");
	return tap_done();
}
