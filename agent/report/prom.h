/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus renderer: a report (and a few daemon counters) as text
 * exposition format 0.0.4 or OpenMetrics 1.0. Pure: memory in, text out. */
#pragma once

#include <stdint.h>

#include "agent/report/report.h"

enum prom_format {
	PROM_FORMAT_TEXT = 0,    /* text/plain; version=0.0.4 */
	PROM_FORMAT_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
	_PROM_FORMAT_MAX,
};

#define PROM_CONTENT_TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define PROM_CONTENT_TYPE_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

const char *prom_content_type(enum prom_format fmt);

/* The daemon's own counters; they change between evaluations, so the
 * daemon renders them per scrape with prom_render_self(). */
struct prom_self {
	uint64_t scrapes_total;
	uint64_t evaluations_total;
	uint64_t evaluation_errors_total;
	uint64_t config_reloads_total;
	uint64_t config_reload_errors_total;
	double start_time_seconds;          /* Unix time the daemon started */
	uint64_t evaluation_timeouts_total; /* children killed at the deadline */
	uint64_t snapshot_rejections_total; /* snapshot files the server refused */
	double evidence_age_seconds;        /* of the served report; < 0 = none */
	uint64_t evaluation_max_rss_bytes;  /* peak RSS of the last evaluation child; 0 = none */
};

struct prom_extra {
	const char *version; /* atrest_build_info{version} */
	/* NULL: no daemon metrics (atrest check --format prom). */
	const struct prom_self *self;
	/* Leave the exposition open: no self metrics and no "# EOF", so that
	 * prom_render_self() can be appended per scrape. */
	bool open;
};

/* The whole exposition; NULL on allocation failure. Caller frees. */
char *prom_render(const struct report *r, const struct prom_extra *x, enum prom_format fmt);

/* The daemon self-metrics and, for OpenMetrics, the closing "# EOF", into
 * buf without allocating. Returns the length (as snprintf: a value >= size
 * means buf was too small). */
size_t prom_render_self(const struct prom_self *s, enum prom_format fmt, char *buf, size_t size);

/* Appends a label value escaped as both formats require (\\ \" \n). */
void prom_escape_label(struct strbuf *sb, const char *value);
/* Shortest text that reads back as the same double; NaN and +/-Inf spelt
 * as the exposition formats want. buf holds at least 32 bytes. */
const char *prom_format_value(double v, char buf[static 32]);
