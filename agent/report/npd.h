/* SPDX-License-Identifier: Apache-2.0 */
/* node-problem-detector's custom-plugin protocol: one short line on stdout
 * and an exit code (0 OK, 1 NonOK, 2 Unknown), computed from a JSON report
 * (atrest.report/v1), whether this process evaluated it or the daemon
 * published it. Pure. */
#pragma once

#include <json-c/json.h>
#include <time.h>

enum npd_status {
	NPD_OK = 0,
	NPD_NONOK = 1,
	NPD_UNKNOWN = 2,
};

/* NPD keeps max_output_length bytes of stdout as the condition message
 * (80 by default): the line leads with the verdict and the worst check. */
#define NPD_LINE_MAX 240

/* The line and status for a report. A report that is not atrest.report/v1,
 * lacks a verdict, or was generated more than max_age seconds before now
 * (max_age 0: no limit) is UNKNOWN, its line saying why. Never NULL unless
 * memory runs out. */
char *npd_line(json_object *report, time_t now, double max_age, enum npd_status *ret_status);

/* The line for a report that could not be had at all: "unknown: <why>". */
char *npd_unknown_line(const char *why);
