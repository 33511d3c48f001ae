/* SPDX-License-Identifier: Apache-2.0 */
/* The atrest program's subcommands. Apart from cli.c, which the daemon's
 * own small programs share with their own table. */
#include "config.h"

#include "agent/cmd/cli.h"

#define F(x) (1u << (x))

const struct command commands[] = {
	{ "check", "evaluate this node once and print the result; exit code = verdict",
	  "  --report-from SOURCE   with --format npd: judge the report the daemon published\n"
	  "                         (http://HOST:PORT/report or an absolute file path)\n"
	  "                         instead of evaluating\n",
	  F(FORMAT_TEXT) | F(FORMAT_JSON) | F(FORMAT_PROM) | F(FORMAT_NPD), cmd_check },
	{ "daemon", "evaluate every --interval, serve /metrics, write the journal",
	  "  --role both|evaluator|server\n"
	  "                         both (default): an evaluator that forks an unprivileged\n"
	  "                         server; or one role alone (two containers or units\n"
	  "                         sharing [daemon] runtime_dir)\n",
	  F(FORMAT_TEXT), cmd_daemon },
	{ "bench", "measure AES-XTS throughput (kernel dm-crypt path and OpenSSL)",
	  "  --seconds S            CPU-seconds budget for the whole run (default 1)\n",
	  F(FORMAT_TEXT) | F(FORMAT_JSON), cmd_bench },
	{ "devices", "show each disk, its Azure role, its stack and its encryption", "",
	  F(FORMAT_TEXT) | F(FORMAT_JSON), cmd_devices },
	{ "imds", "show what IMDS (and ARM, when enabled) say about this node", "",
	  F(FORMAT_TEXT) | F(FORMAT_JSON), cmd_imds },
	{ "version", "print the version and the library versions", "",
	  F(FORMAT_TEXT) | F(FORMAT_JSON), cmd_version },
	{ "help", "list the commands", "", F(FORMAT_TEXT), cmd_help },
	{ "vmss-extension", "VMSS extension handler: install, enable, disable, uninstall or update",
	  "  ACTION                 install | enable | disable | uninstall | update\n",
	  /* The handler writes the config itself: a broken file must not stop
	   * it from reporting status. */
	  F(FORMAT_TEXT), cmd_vmss_extension, 1, true, true },
	{ "job", "one job of the daemon's evaluator: a request on stdin, the reply on stdout",
	  "", F(FORMAT_TEXT), cmd_job, 0, true, true },
};
const size_t n_commands = ARRAY_SIZE(commands);
