/* SPDX-License-Identifier: Apache-2.0 */
/* What the evaluator hands the server: the bodies rendered from one report
 * and a few facts about them, in one JSON file written atomically (write a
 * temporary file, then rename) into a runtime directory both can reach.
 * The reader treats it as hostile: a size cap, a strict parse, the
 * expected shape, or it is refused. Nothing in it makes the server act. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "agent/evaluate.h"
#include "agent/report/prom.h"

#define SNAPSHOT_FILE "snapshot.json"
#define SNAPSHOT_SCHEMA "atrest.snapshot/v1"
#define SNAPSHOT_DEFAULT_MAX_BYTES (16u << 20)

/* Every body a request may return. */
struct snapshot_bodies {
	char *report;                 /* JSON report */
	char *prom[_PROM_FORMAT_MAX]; /* open expositions (self metrics appended per scrape) */
	char *html;                   /* landing page */
};

int snapshot_bodies_render(const struct report *r, const char *version, struct snapshot_bodies *ret);
void snapshot_bodies_done(struct snapshot_bodies *b);

struct snapshot_meta {
	double published_at;   /* Unix time this file was written */
	double evaluated_at;   /* Unix time the evidence was gathered; 0 = none yet */
	double max_age;        /* evidence older than this is served as unknown */
	bool stale;            /* the bodies are the fail-closed "unknown" rendering */
	bool have_bodies;      /* false before the first evaluation finished */
	struct prom_self self; /* the evaluator's counters (scrapes_total unused) */
};

/* Writes dir/SNAPSHOT_FILE atomically, mode 0644 (the server runs as
 * another user). */
int snapshot_write(const char *dir, const struct snapshot_meta *m, const struct snapshot_bodies *b);
/* Reads and validates path. On refusal returns a negative errno and sets
 * *ret_error to one line (truncated, oversized, not JSON, wrong shape). */
int snapshot_read(const char *path, size_t max_bytes, struct snapshot_meta *m,
		  struct snapshot_bodies *b, char **ret_error);
