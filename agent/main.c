/* SPDX-License-Identifier: Apache-2.0 */
/* atrest: entry point. Parses the command line, then hands over to the
 * subcommand; exit codes follow the Nagios convention (CONTRACT.md). */
#include "config.h"

#include <blkid/blkid.h>
#include <curl/curl.h>
#include <libcryptsetup.h>
#include <locale.h>
#include <signal.h>

#include "agent/cmd/cli.h"

int main(int argc, char **argv)
{
	struct cli c;
	int r;

	setlocale(LC_ALL, "C");
	/* A reader that goes away (atrest check | head) is not an error. */
	signal(SIGPIPE, SIG_IGN);
	r = cli_parse(argc, argv, &c);
	if (r != 0) {
		cli_done(&c);
		return r > 0 ? 0 : EXIT_USAGE;
	}
	/* -vvv: the libraries' own debug output too (libblkid writes it to
	 * stderr itself; libcryptsetup's goes through our log at debug level). */
	if (c.verbosity >= 3) {
		crypt_set_debug_level(CRYPT_DEBUG_ALL);
		blkid_init_debug(0xfffe); /* every subsystem but "help" */
	}
	cmd_daemon_set_argv(argc, argv);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = c.cmd->run(&c);
	cli_done(&c);
	curl_global_cleanup();
	if (fflush(stdout) != 0 && r == 0)
		r = EXIT_USAGE;
	return r;
}
