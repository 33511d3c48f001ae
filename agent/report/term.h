/* SPDX-License-Identifier: Apache-2.0 */
/* Terminal helpers for text output: colour only on a TTY and never with
 * NO_COLOR (https://no-color.org), sizes for people. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define ANSI_RESET "\033[0m"
#define ANSI_BOLD "\033[1m"
#define ANSI_DIM "\033[2m"
#define ANSI_RED "\033[31m"
#define ANSI_GREEN "\033[32m"
#define ANSI_YELLOW "\033[33m"

bool use_color(FILE *f);
/* "30G", "512M", "4.0K": into buf of at least 16 bytes. */
const char *format_size(uint64_t bytes, char *buf, size_t n);
