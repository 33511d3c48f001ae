/* SPDX-License-Identifier: Apache-2.0 */
/* Whole writes on a descriptor. */
#pragma once

#include <stddef.h>

/* Writes all len bytes, resuming after signals and short writes; 0 or a
 * negative errno. */
int write_all(int fd, const void *p, size_t len);
