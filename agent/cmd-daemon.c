/* `atrest daemon`: wired to agent/daemon.c when it lands. */
#include "config.h"

#include "agent/cli.h"

int cmd_daemon(struct cli *c)
{
	fputs("atrest daemon: not available in this build\n", stderr);
	return EXIT_USAGE;
}
