/* SPDX-License-Identifier: Apache-2.0 */
/* Renders a benchmark result: JSON (the contract's "benchmark" object and
 * what was added to it) and a small text table. Computes nothing. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "agent/report/bench.h"
#include "lib/json-util.h"
#include "lib/macro.h"

#define CIPHER "aes-xts-plain64"
#define MIB (1024.0 * 1024.0)

/* Adds key: value to o; value is consumed (even on failure). */
static bool add(json_object *o, const char *key, json_object *value)
{
	if (json_object_object_add(o, key, value) < 0) {
		json_object_put(value);
		return false;
	}
	return true;
}

static json_object *json_rate(double bytes_per_second)
{
	return json_object_new_int64((int64_t)llround(MAX(bytes_per_second, 0.0)));
}

static json_object *json_seconds(double s)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.3f", s);
	return json_object_new_double_s(s, buf);
}

static json_object *json_time(time_t t)
{
	struct tm tm;
	char buf[32];

	if (t <= 0 || !gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NULL;
	return json_object_new_string(buf);
}

static json_object *sample_to_json(const struct bench_sample *s)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o || !add(o, "engine", json_object_new_string(s->engine)) ||
	    !add(o, "cipher", json_object_new_string(CIPHER)) ||
	    !add(o, "key_bits", json_object_new_int((int)s->key_bits)) ||
	    !add(o, "threads", json_object_new_int((int)s->threads)) ||
	    !add(o, "encrypt_bytes_per_second", json_rate(s->encrypt_bytes_per_second)) ||
	    !add(o, "decrypt_bytes_per_second", json_rate(s->decrypt_bytes_per_second)) ||
	    !add(o, "cpu_seconds", json_seconds(s->cpu_seconds)) ||
	    !add(o, "wall_seconds", json_seconds(s->wall_seconds)) ||
	    !add(o, "yielded_seconds", json_seconds(s->yielded_seconds)) ||
	    !add(o, "disturbed", json_object_new_boolean(s->disturbed)))
		return NULL;
	return TAKE_PTR(o);
}

static json_object *kernel_to_json(const struct bench_result *r)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o || !add(o, "available", json_object_new_boolean(r->kernel_available)) ||
	    !add(o, "reason",
		 json_string_or_null(r->kernel_available ? NULL : r->kernel_unavailable_reason)) ||
	    !add(o, "driver", json_string_or_null(r->kernel_driver)) ||
	    !add(o, "priority",
		 r->kernel_driver ? json_object_new_int(r->kernel_driver_priority) : NULL) ||
	    !add(o, "hint", json_string_or_null(r->kernel_faster_hint)))
		return NULL;
	return TAKE_PTR(o);
}

static json_object *samples_to_json(const struct bench_result *r)
{
	_cleanup_json_ json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < r->n_samples; i++) {
		json_object *s = sample_to_json(&r->samples[i]);
		if (!s || json_object_array_add(a, s) < 0) {
			json_object_put(s);
			return NULL;
		}
	}
	return TAKE_PTR(a);
}

/* The contract's keys; null figures when there is no headline. */
static bool headline_to_json(json_object *o, const struct bench_result *r)
{
	bool have = r->status == SOURCE_OK && r->engine;

	return add(o, "engine", have ? json_object_new_string(r->engine) : NULL) &&
	       add(o, "cipher", json_object_new_string(CIPHER)) &&
	       add(o, "key_bits", json_object_new_int(have ? (int)r->key_bits : 512)) &&
	       add(o, "encrypt_bytes_per_second", have ? json_rate(r->encrypt_bytes_per_second) : NULL) &&
	       add(o, "decrypt_bytes_per_second", have ? json_rate(r->decrypt_bytes_per_second) : NULL);
}

json_object *bench_result_to_json(const struct bench_result *r)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o || !headline_to_json(o, r) ||
	    !add(o, "status", json_object_new_string(source_status_to_string(r->status))) ||
	    !add(o, "error", json_string_or_null(r->error)) || !add(o, "ran_at", json_time(r->ran_at)) ||
	    !add(o, "cpu_seconds", json_seconds(r->cpu_seconds)) ||
	    !add(o, "wall_seconds", json_seconds(r->wall_seconds)) ||
	    !add(o, "yielded_seconds", json_seconds(r->yielded_seconds)) ||
	    !add(o, "samples_skipped",
		 json_object_new_int((int)MIN(r->samples_skipped, (unsigned)INT_MAX))) ||
	    !add(o, "usable_cpus", json_object_new_int((int)r->usable_cpus)) ||
	    !add(o, "priority", json_string_or_null(r->priority)) ||
	    !add(o, "cpu_pressure_some_avg10",
		 r->cpu_pressure_avg10 >= 0 ? json_seconds(r->cpu_pressure_avg10) : NULL) ||
	    !add(o, "kernel", kernel_to_json(r)) ||
	    !add(o, "openssl_version", json_string_or_null(r->openssl_version)) ||
	    !add(o, "samples", samples_to_json(r)))
		return NULL;
	return TAKE_PTR(o);
}

/* SGR sequences, or nothing without colour. */
struct style {
	const char *bold, *warn, *bad, *off;
};

static struct style style_for(bool color)
{
	if (!color)
		return (struct style){ "", "", "", "" };
	return (struct style){ "\033[1m", "\033[33m", "\033[31m", "\033[0m" };
}

static void print_samples(FILE *f, const struct bench_result *r, const struct style *st)
{
	fprintf(f, "%s%-8s %-16s %4s %7s %14s %14s%s\n", st->bold, "engine", "cipher", "key",
		"threads", "encrypt MiB/s", "decrypt MiB/s", st->off);
	for (size_t i = 0; i < r->n_samples; i++) {
		const struct bench_sample *s = &r->samples[i];

		fprintf(f, "%-8s %-16s %4u %7u %14.1f %14.1f", s->engine, CIPHER, s->key_bits,
			s->threads, s->encrypt_bytes_per_second / MIB,
			s->decrypt_bytes_per_second / MIB);
		if (s->disturbed)
			fprintf(f, "  %sdisturbed%s", st->warn, st->off);
		fputc('\n', f);
	}
}

static void print_kernel(FILE *f, const struct bench_result *r, const struct style *st)
{
	if (r->kernel_available)
		fputs("kernel path:     available (AF_ALG)\n", f);
	else
		fprintf(f, "kernel path:     unavailable: %s\n", strna(r->kernel_unavailable_reason));
	if (r->kernel_driver)
		fprintf(f, "kernel driver:   %s (priority %d)\n", r->kernel_driver,
			r->kernel_driver_priority);
	else
		fputs("kernel driver:   xts(aes) not listed in /proc/crypto\n", f);
	if (r->kernel_faster_hint)
		fprintf(f, "%shint:%s            %s\n", st->warn, st->off, r->kernel_faster_hint);
}

void bench_print_text(FILE *f, const struct bench_result *r, bool color)
{
	struct style st = style_for(color);

	if (r->status == SOURCE_OFF) {
		fputs("benchmark: skipped\n", f);
		return;
	}
	if (r->status == SOURCE_OK && r->engine)
		fprintf(f, "%s%s %u-bit key, one thread (%s): encrypt %.1f MiB/s, decrypt %.1f MiB/s%s\n\n",
			st.bold, CIPHER, r->key_bits, r->engine, r->encrypt_bytes_per_second / MIB,
			r->decrypt_bytes_per_second / MIB, st.off);
	else
		fprintf(f, "%sbenchmark failed: %s%s\n\n", st.bad, strna(r->error), st.off);
	if (r->n_samples > 0) {
		print_samples(f, r, &st);
		fputc('\n', f);
	}
	print_kernel(f, r, &st);
	fprintf(f, "openssl:         %s\n", strna(r->openssl_version));
	fprintf(f, "cost:            %.3f CPU-seconds at %s, %u usable CPU%s", r->cpu_seconds,
		strna(r->priority), r->usable_cpus, r->usable_cpus == 1 ? "" : "s");
	if (r->cpu_pressure_avg10 >= 0)
		fprintf(f, ", CPU pressure %.1f%% (some, avg10)", r->cpu_pressure_avg10);
	fputc('\n', f);
	if (r->yielded_seconds >= 0.05 || r->samples_skipped)
		fprintf(f,
			"%sgave way:%s        %.1f of %.1f s paused while other work kept the node busy; "
			"%u sample%s skipped\n",
			st.warn, st.off, r->yielded_seconds, r->wall_seconds, r->samples_skipped,
			r->samples_skipped == 1 ? "" : "s");
}
