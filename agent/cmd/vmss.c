/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest vmss-extension ACTION`: the handler commands of HandlerManifest.json,
 * carried out by agent/vmss/. */
#include "config.h"

#include "agent/cmd/cli.h"
#include "agent/vmss/vmss.h"

int cmd_vmss_extension(struct cli *c)
{
	int r = vmss_handler_run(c->args[0], c->sysroot);

	if (r == -EINVAL) {
		fprintf(stderr,
			"atrest vmss-extension: want one of install, enable, disable, uninstall, update\n");
		return EXIT_USAGE;
	}
	return r;
}
