/* SPDX-License-Identifier: Apache-2.0 */
/* The VMSS handler's edges: its context (extension directory, host root,
 * HandlerEnvironment), its log, atomic files, systemctl. */
#pragma once

#include "agent/vmss/vmss.h"

struct handler {
	const char *op; /* "Enable", "Disable", ... */
	char *root;     /* host root prefix, "" for / (tests: ATREST_VMSS_ROOT) */
	char *ext_dir;
	struct vmss_env env;
	bool have_env;
	FILE *log;
	unsigned seq;
	bool have_seq;
};

/* Fills h; waits up to ATREST_VMSS_ENV_TIMEOUT (default 10) seconds for
 * HandlerEnvironment.json to be complete. Returns -ENOENT when it never is. */
int handler_open(struct handler *h, const char *op);
void handler_close(struct handler *h);

/* One line to the handler log (logFolder) and to stderr. Never pass secrets. */
void hlog(struct handler *h, const char *fmt, ...) _printf_(2, 3);

/* root + path; NULL on allocation failure. */
char *host_path(const struct handler *h, const char *path);

int read_file_capped(const char *path, size_t max, char **ret, size_t *ret_len);
/* Temp file in the same directory, fsync, rename: readers see old or new. */
int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode);
int mkdir_parents(const char *path, mode_t mode);
int copy_file_atomic(const char *from, const char *to, mode_t mode);

/* The current sequence number: ConfigSequenceNumber, else the newest
 * configFolder/N.settings (as waagent picks it), highest N on a tie. */
int handler_find_seq(struct handler *h);
/* mrseq in the extension directory: the last sequence fully applied. */
int mrseq_read(const struct handler *h, unsigned *ret);
int mrseq_write(const struct handler *h, unsigned seq);
void mrseq_remove(const struct handler *h);

/* Writes statusFolder/<seq>.status when the environment and seq are known. */
int handler_write_status(struct handler *h, const struct vmss_status *s);

/* Runs `systemctl ARGS...` (ATREST_SYSTEMCTL overrides the binary) with a
 * deadline; returns its exit status, or a negative errno. */
int run_systemctl(struct handler *h, const char *const *args);
