/* `atrest vmss-extension ACTION`: the VMSS extension handler (lands with
 * agent/vmss*.c). */
#include "config.h"

#include "agent/cli.h"

int cmd_vmss_extension(struct cli *c)
{
	fputs("atrest vmss-extension: not available in this build\n", stderr);
	return EXIT_USAGE;
}
