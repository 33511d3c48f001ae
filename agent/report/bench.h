/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmark result for people (a small table) and for programs (the
 * report's "benchmark" object, with the samples and host facts added). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "probes/bench.h"

/* NULL on allocation failure. Always an object with the contract's keys
 * (figures null without a headline) and "status"; a report that skipped
 * the benchmark (status OFF) writes JSON null in its place itself. */
json_object *bench_result_to_json(const struct bench_result *res);
void bench_print_text(FILE *f, const struct bench_result *res, bool color);
