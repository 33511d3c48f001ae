/* Gathering: asks every source once and records what each said. The only
 * place where agent/ calls into imds/ and probes/. Never aborts on a bad
 * source: the source's status and error carry the problem to the checks. */
#include "config.h"

#include <time.h>

#include "agent/evaluate.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/strutil.h"

/* cloud-init and azure-vm-utils recognise Azure by this DMI asset tag. */
#define AZURE_CHASSIS_ASSET_TAG "7783-7084-3265-9085-8269-3286-77"
#define MAX_PROC_FILE (16u << 20)

static void gather_hostname(const struct sysroot *sr, struct facts *f)
{
	char buf[256];

	if (sysroot_is_host(sr)) {
		if (gethostname(buf, sizeof(buf) - 1) == 0) {
			buf[sizeof(buf) - 1] = '\0';
			f->hostname = strdup(buf);
		}
		return;
	}
	if (sysroot_read_attr(sr, "/proc/sys/kernel/hostname", &f->hostname) < 0)
		(void)sysroot_read_attr(sr, "/etc/hostname", &f->hostname);
}

static void gather_on_azure(const struct sysroot *sr, struct facts *f)
{
	_cleanup_free_ char *tag = NULL, *vendor = NULL;

	(void)sysroot_read_attr(sr, "/sys/class/dmi/id/chassis_asset_tag", &tag);
	(void)sysroot_read_attr(sr, "/sys/class/dmi/id/sys_vendor", &vendor);
	if (tag && streq(tag, AZURE_CHASSIS_ASSET_TAG)) {
		f->on_azure = TRI_TRUE;
		f->on_azure_evidence = strdup("DMI chassis asset tag is Azure's");
	} else if (tag || vendor) {
		f->on_azure = TRI_FALSE;
		f->on_azure_evidence = strprintf("DMI says vendor '%s', asset tag '%s'", strna(vendor), strna(tag));
	} else {
		f->on_azure = TRI_UNKNOWN;
		f->on_azure_evidence = strdup("DMI identity not readable");
	}
}

static void gather_imds(const struct gather_options *o, struct facts *f)
{
	struct imds_options io = {
		.base_url = o->conf->imds_url,
		.timeout = o->conf->imds_timeout,
		/* Off Azure nobody answers: one try, not ten seconds of retries. */
		.single_attempt = f->on_azure == TRI_FALSE,
	};

	if (o->imds_cache)
		imds_fetch_cached(o->imds_cache, &io, &f->imds);
	else
		imds_fetch(&io, &f->imds);
	log_debug("imds: %s in %.2f s (%u attempts)%s%s", source_status_to_string(f->imds.status),
		  f->imds.elapsed, f->imds.attempts, f->imds.error ? ": " : "", f->imds.error ? f->imds.error : "");
}

static void gather_arm(const struct gather_options *o, struct facts *f)
{
	const struct config *c = o->conf;
	struct arm_options ao = {
		.mode = c->arm_mode,
		.arm_url = c->arm_url,
		.imds_url = c->imds_url,
		.client_id = c->client_id,
		.object_id = c->object_id,
		.msi_res_id = c->msi_res_id,
		.sr = o->sr,
		.timeout = c->arm_timeout,
		.cache_ttl = c->arm_cache,
		.start_jitter = c->arm_start_jitter,
	};
	const struct imds_instance *inst =
		f->imds.status == SOURCE_OK && f->imds.have_instance ? &f->imds.instance : NULL;
	struct arm_result_meta meta;

	if (o->arm_cache)
		arm_fetch_cached(o->arm_cache, &ao, inst, &f->arm, &meta);
	else
		arm_fetch(&ao, inst, &f->arm, &meta);
	log_debug("arm: %s in %.2f s (%u requests%s)%s%s", source_status_to_string(f->arm.status),
		  meta.elapsed, meta.requests, meta.cached ? ", cached" : "",
		  f->arm.error ? ": " : "", f->arm.error ? f->arm.error : "");
}

static void gather_block(const struct gather_options *o, struct facts *f)
{
	struct probe_options po = {
		.allow_dm_ioctl = sysroot_is_host(o->sr),
		.read_devices = true,
	};
	char *err = NULL;
	int r;

	r = block_graph_scan(o->sr, &po, &f->graph, &err);
	if (r < 0) {
		f->block.status = SOURCE_ERROR;
		f->block.error = err ? err : strprintf("block devices could not be listed: %s", strerror(-r));
		return;
	}
	free(err);
	f->block.status = SOURCE_OK;
}

/* Reads and parses a /proc table; parse is mountinfo_parse or swaps_parse.
 * A line that does not parse is a mount or swap area we cannot judge: it
 * could hide a plain /boot under an encrypted / or a plain swap beside an
 * encrypted one, so the whole table is then an error, never evidence. */
#define GATHER_PROC_TABLE(sr, path, parse, table, src)                                 \
	do {                                                                           \
		_cleanup_free_ char *text = NULL;                                      \
		size_t len = 0, skipped = 0;                                           \
		int r = sysroot_read_file((sr), (path), MAX_PROC_FILE, &text, &len);   \
		if (r >= 0)                                                            \
			r = parse(text, len, (table), &skipped);                       \
		if (r < 0) {                                                           \
			(src)->status = SOURCE_ERROR;                                  \
			(src)->error = strprintf("%s: %s", (path), strerror(-r));      \
		} else if (skipped) {                                                  \
			(src)->status = SOURCE_ERROR;                                  \
			(src)->error = strprintf("%s: %zu lines do not parse", (path), \
						 skipped);                             \
		} else {                                                               \
			(src)->status = SOURCE_OK;                                     \
		}                                                                      \
	} while (0)

static void gather_paths(const struct gather_options *o, struct facts *f)
{
	char *const *req = o->conf->policy.required_paths;
	size_t n = strv_length(req);

	f->paths = calloc(n ? n : 1, sizeof(*f->paths));
	if (!f->paths)
		return;
	for (size_t i = 0; i < n; i++) {
		struct path_fact *p = &f->paths[f->n_paths++];

		p->path = strdup(req[i]);
		p->error = sysroot_chase(o->sr, req[i], &p->resolved);
		if (p->error > 0)
			p->error = 0;
	}
}

static void gather_bench(const struct gather_options *o, struct facts *f)
{
	struct bench_options bo;

	if (o->no_bench) {
		f->bench.status = SOURCE_OFF;
		f->bench.error = strdup("benchmark skipped (--no-bench)");
		return;
	}
	if (o->bench) {
		if (bench_result_copy(&f->bench, o->bench) < 0) {
			f->bench.status = SOURCE_ERROR;
			f->bench.error = strdup("out of memory copying the benchmark result");
		}
		return;
	}
	bench_options_init(&bo);
	bo.max_wall = BENCH_INTERACTIVE_MAX_WALL; /* `atrest check`: a person waits */
	bench_run(&bo, &f->bench);
}

int gather_facts(const struct gather_options *o, struct facts *f)
{
	double t0 = now_monotonic();

	*f = (struct facts){ .on_azure = TRI_UNKNOWN };
	f->under_sysroot = !sysroot_is_host(o->sr);
	gather_hostname(o->sr, f);
	gather_on_azure(o->sr, f);
	if (o->local_only) {
		f->imds.status = f->arm.status = f->bench.status = SOURCE_OFF;
	} else {
		gather_imds(o, f);
		gather_arm(o, f);
	}
	if (o->imds_only) {
		f->block.status = f->mounts_src.status = f->swaps_src.status = SOURCE_OFF;
		f->bench.status = SOURCE_OFF;
		goto done;
	}
	gather_block(o, f);
	GATHER_PROC_TABLE(o->sr, "/proc/self/mountinfo", mountinfo_parse, &f->mounts, &f->mounts_src);
	GATHER_PROC_TABLE(o->sr, "/proc/swaps", swaps_parse, &f->swaps, &f->swaps_src);
	gather_paths(o, f);
	if (!o->local_only)
		gather_bench(o, f);
done:
	f->gathered_at = time(NULL);
	f->gather_seconds = now_monotonic() - t0;
	return 0;
}
