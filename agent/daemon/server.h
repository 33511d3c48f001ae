/* SPDX-License-Identifier: Apache-2.0 */
/* The server role of `atrest daemon`: no capability, no token, no block
 * device. It drops every privilege first, then binds its listeners and
 * serves the snapshot file the evaluator publishes in the runtime
 * directory, refusing one that is truncated, oversized or malformed. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct server_options {
	char *const *listen;
	unsigned connection_limit;   /* 0 = default */
	unsigned per_ip_limit;       /* 0 = default */
	unsigned connection_timeout; /* 0 = default */
	const char *runtime_dir;     /* where SNAPSHOT_FILE appears */
	size_t snapshot_max_bytes;   /* 0 = SNAPSHOT_DEFAULT_MAX_BYTES */
	const char *user;            /* when started as root: drop to this user */
	int ports_fd;                /* >= 0: the bound ports are written here, then closed */
	double poll_interval;        /* seconds between checks of the file; 0 = 1 */
};

/* Drops every capability (effective, permitted, inheritable, ambient and
 * the bounding set), changes to user when running as root (a name or a
 * number), and sets no_new_privs. *ret_error names what failed. */
int privileges_drop(const char *user, char **ret_error);

/* The server program's command line for o: program (a vector: it may
 * start with an emulator) and the options below; NULL without memory. */
char **server_command_line(char *const *program, const struct server_options *o);
/* Its parser (the program atrest-server): o's strings point into argv,
 * except the listen vector, returned for the caller to free. A bad
 * option is one line on stderr and -EINVAL. */
int server_options_parse(int argc, char **argv, struct server_options *o, char ***ret_listen);

/* Runs until SIGTERM or SIGINT (returns 0) or a startup failure (negative
 * errno, logged). SIGHUP is ignored (the evaluator reloads). */
int server_run(const struct server_options *o);
