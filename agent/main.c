/* SPDX-License-Identifier: Apache-2.0 */
/* atrest: entry point. Parses the command line, then hands over to the
 * subcommand; exit codes follow the Nagios convention (CONTRACT.md). */
#include "config.h"

#include <blkid/blkid.h>
#include <curl/curl.h>
#include <libcryptsetup.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#ifdef ATREST_PORTABLE
#include <openssl/crypto.h>
#endif

#include "agent/cmd/cli.h"

int main(int argc, char **argv)
{
	struct cli c;
	int r;

	setlocale(LC_ALL, "C");
#ifdef ATREST_PORTABLE
	/* The portable build links Debian 12's libcrypto.a, its providers built
	 * in. The node's OpenSSL may be another version (1.1 on RHEL 8): load
	 * neither its configuration nor its provider modules (libcryptsetup
	 * asks for "legacy", whose module would map the node's libcrypto.so.3).
	 * OPENSSL_MODULES set by the caller is honoured. */
	setenv("OPENSSL_MODULES", "/nonexistent/atrest-portable", 0);
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
#endif
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
	/* libcurl (and with it OpenSSL's TLS side) is initialised by the first
	 * HTTP client that runs (http_global_init()): the daemon's evaluator
	 * and server never make a request themselves, and the 2 MiB that
	 * initialisation touches would stay resident in both. */
	r = c.cmd->run(&c);
	cli_done(&c);
	curl_global_cleanup();
	if (fflush(stdout) != 0 && r == 0)
		r = EXIT_USAGE;
	return r;
}
