/* SPDX-License-Identifier: Apache-2.0 */
/* The harness's driver: benchmark runs printed as JSON or text, with what
 * `atrest bench` does not offer: the perturbation run's controls (nice 0,
 * no yielding), libcryptsetup's own loop, and runs repeated back to back. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/report/bench.h"
#include "lib/strutil.h"
#include "probes/bench.h"

static void usage(FILE *f)
{
	fputs("usage: xtsbench [--seconds CPU-SECONDS] [--text] [--no-kernel] [--one-thread]\n"
	      "                [--nice19 | --nice0] [--no-yield] [--libcryptsetup] [--loop SECONDS]\n"
	      "--nice0 is the perturbation run's control: normal priority and no yielding.\n"
	      "--loop repeats runs for SECONDS of wall time (load for bench/perturb.sh), the\n"
	      "last one cut at the end, and prints it with \"runs\", \"loop_cpu_seconds\" and\n"
	      "\"loop_samples\" (over all runs) added to the JSON.\n",
	      f);
}

static double loop_seconds;

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int parse_args(int argc, char **argv, struct bench_options *o, bool *text)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "text", no_argument, NULL, 't' },
		{ "no-kernel", no_argument, NULL, 'K' },
		{ "one-thread", no_argument, NULL, '1' },
		{ "nice19", no_argument, NULL, 'n' },
		{ "nice0", no_argument, NULL, '0' },
		{ "no-yield", no_argument, NULL, 'Y' },
		{ "libcryptsetup", no_argument, NULL, 'L' },
		{ "loop", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:th", longopts, NULL)) >= 0) {
		switch (c) {
		case 's':
			if (safe_atod_seconds(optarg, &o->cpu_budget) < 0 || o->cpu_budget <= 0) {
				fprintf(stderr, "xtsbench: bad --seconds: %s\n", optarg);
				return -1;
			}
			break;
		case 't':
			*text = true;
			break;
		case 'K':
			o->allow_kernel = false;
			break;
		case '1':
			o->all_threads = false;
			break;
		case 'n':
			o->idle_priority = false;
			break;
		case '0':
			o->normal_priority = o->no_yield = true;
			break;
		case 'Y':
			o->no_yield = true;
			break;
		case 'L':
			o->kernel_via_libcryptsetup = true;
			break;
		case 'l':
			if (safe_atod_seconds(optarg, &loop_seconds) < 0) {
				fprintf(stderr, "xtsbench: bad --loop: %s\n", optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct bench_options opts;
	struct bench_result res;
	json_object *j;
	bool text = false;

	bench_options_init(&opts);
	if (parse_args(argc, argv, &opts, &text) < 0)
		return 3;
	unsigned runs = 0;
	size_t samples = 0;
	double cpu = 0, t0 = mono();
	for (;;) {
		if (loop_seconds > 0)
			opts.max_wall = MAX(loop_seconds - (mono() - t0), 0.001);
		bench_run(&opts, &res);
		runs++;
		cpu += res.cpu_seconds;
		samples += res.n_samples;
		if (mono() - t0 >= loop_seconds)
			break;
		bench_result_done(&res);
	}
	if (text) {
		bench_print_text(stdout, &res, false);
	} else {
		j = bench_result_to_json(&res);
		if (!j)
			return 3;
		if (loop_seconds > 0) {
			json_object_object_add(j, "runs", json_object_new_int((int)runs));
			json_object_object_add(j, "loop_cpu_seconds", json_object_new_double(cpu));
			json_object_object_add(j, "loop_samples", json_object_new_int((int)samples));
		}
		puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	}
	int rc = res.status == SOURCE_OK ? 0 : 1;
	bench_result_done(&res);
	return rc;
}
