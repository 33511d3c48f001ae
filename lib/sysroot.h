/* SPDX-License-Identifier: Apache-2.0 */
/* The sysroot path context: every local fact (sysfs, procfs, /dev, /etc) is
 * read through it, so that `--sysroot DIR` confines all reads to DIR.
 * Paths given to these functions are logical ("/sys/class/block"); symlinks
 * are resolved inside the root, an absolute target taken relative to it. */
#pragma once

#include <stdint.h>
#include <sys/stat.h>

#include "macro.h"

struct sysroot;

/* dir NULL, "" or "/" means the running host. */
int sysroot_new(const char *dir, struct sysroot **ret) _warn_unused_result_;
void sysroot_free(struct sysroot *sr);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sysroot *, sysroot_free)

bool sysroot_is_host(const struct sysroot *sr);
/* The root directory without trailing slash ("" for the host). */
const char *sysroot_dir(const struct sysroot *sr);

/* Canonical logical path with every symlink resolved inside the root.
 * -ENOENT if a component is missing, -ELOOP on a symlink loop. */
int sysroot_chase(const struct sysroot *sr, const char *path, char **ret);
/* The host path of a logical path, without resolution. */
char *sysroot_host_path(const struct sysroot *sr, const char *logical);
/* chase + host_path: what to hand to a library that opens files itself. */
int sysroot_resolve_host(const struct sysroot *sr, const char *path, char **ret);

int sysroot_open(const struct sysroot *sr, const char *path, int flags, int *ret_fd);
int sysroot_stat(const struct sysroot *sr, const char *path, struct stat *ret);
int sysroot_opendir(const struct sysroot *sr, const char *path, DIR **ret);
/* Raw target of a symlink (not resolved). */
int sysroot_readlink(const struct sysroot *sr, const char *path, char **ret);

/* Whole file, NUL-terminated; -EFBIG if it is longer than max bytes. */
int sysroot_read_file(const struct sysroot *sr, const char *path, size_t max, char **ret,
		      size_t *ret_len);
/* A sysfs attribute: the first line, white space stripped, at most 4 KiB. */
int sysroot_read_attr(const struct sysroot *sr, const char *path, char **ret);
int sysroot_read_u64(const struct sysroot *sr, const char *path, uint64_t *ret);

/* Join two path pieces with exactly one slash. */
char *path_join(const char *a, const char *b);
/* Last component of a path (pointer into it). */
const char *path_basename(const char *path);
