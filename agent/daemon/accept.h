/* SPDX-License-Identifier: Apache-2.0 */
/* Content negotiation for /metrics: which exposition format and whether
 * gzip, from the Accept and Accept-Encoding request headers. Pure; takes
 * hostile input (any bytes, any length) without reading past the string. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* True when the client ranks OpenMetrics 1.0 (application/openmetrics-text
 * with version=1.0.0 or no version) at a quality above zero and not below
 * the 0.0.4 text format's (text/plain, text/x or x/x). NULL means no header:
 * false. */
bool accept_openmetrics(const char *accept);

/* True when Accept-Encoding admits gzip (gzip, x-gzip or *) with q > 0. */
bool accept_gzip(const char *accept_encoding);

/* Parses an HTTP quality value ("1", "0.5", "0.125"); -1 when malformed.
 * Returned in thousandths (0..1000). */
int accept_parse_q(const char *s, size_t len);
