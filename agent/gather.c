/* SPDX-License-Identifier: Apache-2.0 */
/* Gathering: asks every source of the table below once and records what
 * each said. Never aborts on a bad source: the source's status and error
 * carry the problem to the checks. */
#include "config.h"

#include <stddef.h>
#include <time.h>

#include "agent/gather.h"
#include "agent/kube.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/strutil.h"

/* cloud-init and azure-vm-utils recognise Azure by this DMI asset tag. */
#define AZURE_CHASSIS_ASSET_TAG "7783-7084-3265-9085-8269-3286-77"
#define MAX_PROC_FILE (16u << 20)

static void gather_hostname(const struct gather_options *o, struct facts *f)
{
	const struct sysroot *sr = o->sr;
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

static void gather_on_azure(const struct gather_options *o, struct facts *f)
{
	const struct sysroot *sr = o->sr;
	_cleanup_free_ char *tag = NULL, *vendor = NULL;

	(void)sysroot_read_attr(sr, "/sys/class/dmi/id/chassis_asset_tag", &tag);
	(void)sysroot_read_attr(sr, "/sys/class/dmi/id/sys_vendor", &vendor);
	if (tag && streq(tag, AZURE_CHASSIS_ASSET_TAG)) {
		f->on_azure = TRI_TRUE;
		f->on_azure_evidence = strdup("DMI chassis asset tag is Azure's");
	} else if (tag || vendor) {
		f->on_azure = TRI_FALSE;
		f->on_azure_evidence = strprintf("DMI says vendor '%s', asset tag '%s'",
						 strna(vendor), strna(tag));
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
		  f->imds.elapsed, f->imds.attempts, f->imds.error ? ": " : "",
		  f->imds.error ? f->imds.error : "");
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
	const struct imds_instance *inst = f->imds.status == SOURCE_OK && f->imds.have_instance ?
						   &f->imds.instance :
						   NULL;
	struct arm_result_meta meta;

	if (o->arm_cache)
		arm_fetch_cached(o->arm_cache, &ao, inst, &f->arm, &meta);
	else
		arm_fetch(&ao, inst, &f->arm, &meta);
	f->arm_age = meta.age;
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
		f->block.error = err ? err :
				       strprintf("block devices could not be listed: %s", strerror(-r));
		return;
	}
	free(err);
	f->block.status = SOURCE_OK;
}

/* A /proc table that does not parse whole is an error, never evidence: a
 * line we cannot read could be a plain /boot under an encrypted / or a
 * plain swap beside an encrypted one. */
static void proc_table_status(struct local_source *src, const char *path, int r, size_t skipped)
{
	if (r < 0) {
		src->status = SOURCE_ERROR;
		src->error = strprintf("%s: %s", path, strerror(-r));
	} else if (skipped) {
		src->status = SOURCE_ERROR;
		src->error = strprintf("%s: %zu lines do not parse", path, skipped);
	} else {
		src->status = SOURCE_OK;
	}
}

static void gather_mounts(const struct gather_options *o, struct facts *f)
{
	static const char path[] = "/proc/self/mountinfo";
	_cleanup_free_ char *text = NULL;
	size_t len = 0, skipped = 0;
	int r;

	r = sysroot_read_file(o->sr, path, MAX_PROC_FILE, &text, &len);
	if (r >= 0)
		r = mountinfo_parse(text, len, &f->mounts, &skipped);
	proc_table_status(&f->mounts_src, path, r, skipped);
}

static void gather_swaps(const struct gather_options *o, struct facts *f)
{
	static const char path[] = "/proc/swaps";
	_cleanup_free_ char *text = NULL;
	size_t len = 0, skipped = 0;
	int r;

	r = sysroot_read_file(o->sr, path, MAX_PROC_FILE, &text, &len);
	if (r >= 0)
		r = swaps_parse(text, len, &f->swaps, &skipped);
	proc_table_status(&f->swaps_src, path, r, skipped);
}

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

/* A node directory as mountinfo names it: symlinks resolved inside the
 * sysroot. *exists false when it is missing. */
static char *node_dir(const struct sysroot *sr, const char *path, bool *exists)
{
	char *resolved = NULL;

	*exists = sysroot_chase(sr, path, &resolved) >= 0;
	return *exists ? resolved : strdup(path);
}

/* kubelet's view of the pods and their volumes, then each tied to disks.
 * Not a Kubernetes node (no kubelet directory, no NODE_NAME): the section
 * stays off. */
static void gather_kube(const struct gather_options *o, struct facts *f)
{
	const struct config *c = o->conf;
	struct kube_facts *k = &f->kube;
	struct kubelet_scan_options so = {
		.kubelet_dir = c->kubelet_dir,
		.pod_logs_dir = c->pod_logs_dir,
	};
	const char *node = getenv("NODE_NAME");
	size_t n = 2 + strv_length(c->runtime_dirs), nd = 0;
	_cleanup_free_ const char **paths = calloc(n, sizeof(char *)),
				  **roles = calloc(n, sizeof(char *));
	_cleanup_free_ bool *exists = calloc(n, sizeof(bool));
	_cleanup_free_ char *kdir = NULL;
	int r;

	k->node_name = !isempty(node) ? strdup(node) : NULL;
	k->max_series = c->max_volume_series;
	kdir = node_dir(o->sr, c->kubelet_dir, &exists[0]);
	so.kubelet_dir = kdir;
	r = kubelet_scan(o->sr, &so, &k->kubelet, &k->error);
	k->enabled = k->kubelet.present || k->node_name || r < 0;
	if (!k->enabled)
		return;
	if (r < 0) {
		k->status = r;
		return;
	}
	if (!k->kubelet.present) {
		/* NODE_NAME says Kubernetes, but kubelet's state is not where
		 * we look: no pod can be placed, and the remedy is a setting. */
		k->status = -ENOENT;
		k->error = strprintf("NODE_NAME is set but %s/pods is not there: set [kubernetes] "
				     "kubelet_dir (in the DaemonSet the node's / is under /host)",
				     c->kubelet_dir);
		return;
	}
	if (!paths || !roles || !exists || !kdir)
		goto oom;
	/* kubelet's own directory, then the runtime's, then the pod logs. */
	paths[nd] = kdir;
	roles[nd++] = "kubelet";
	for (char **d = c->runtime_dirs; d && *d; d++) {
		paths[nd] = node_dir(o->sr, *d, &exists[nd]);
		roles[nd++] = "runtime";
	}
	paths[nd] = node_dir(o->sr, c->pod_logs_dir, &exists[nd]);
	roles[nd++] = "pod_logs";
	r = kube_map(f, &(struct kube_map_options){ .dir_paths = paths,
						    .dir_roles = roles,
						    .dir_exists = exists,
						    .n_dirs = nd,
						    .max_series = c->max_volume_series });
	for (size_t i = 1; i < nd; i++)
		free((char *)paths[i]);
	if (r >= 0)
		return;
oom:
	k->status = -ENOMEM;
	k->error = strdup("out of memory mapping the pods' volumes");
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

/* The sources, in the order they are asked: each may use what an earlier
 * one found (IMDS is tried once when DMI says this is not Azure; ARM needs
 * IMDS's resource ids). status_off locates the source's status in struct
 * facts, so that a source not asked for is recorded as OFF. */
struct gather_source {
	const char *name;
	unsigned set; /* enum gather_set; 0 = always */
	void (*gather)(const struct gather_options *o, struct facts *f);
	ssize_t status_off; /* -1: the source has no status */
};

#define STATUS_OF(field) ((ssize_t)offsetof(struct facts, field))

static const struct gather_source sources[] = {
	{ "hostname", 0, gather_hostname, -1 },
	{ "dmi", 0, gather_on_azure, -1 },
	{ "imds", GATHER_CLOUD, gather_imds, STATUS_OF(imds.status) },
	{ "arm", GATHER_CLOUD, gather_arm, STATUS_OF(arm.status) },
	{ "block", GATHER_STORAGE, gather_block, STATUS_OF(block.status) },
	{ "mounts", GATHER_STORAGE, gather_mounts, STATUS_OF(mounts_src.status) },
	{ "swaps", GATHER_STORAGE, gather_swaps, STATUS_OF(swaps_src.status) },
	{ "paths", GATHER_STORAGE, gather_paths, -1 },
	{ "kubernetes", GATHER_KUBE, gather_kube, -1 },
	{ "bench", GATHER_BENCH, gather_bench, STATUS_OF(bench.status) },
};

int gather_facts(const struct gather_options *o, struct facts *f)
{
	unsigned sets = o->sets ? o->sets : GATHER_ALL;
	double t0 = now_monotonic();

	*f = (struct facts){ .on_azure = TRI_UNKNOWN };
	f->under_sysroot = !sysroot_is_host(o->sr);
	for (size_t i = 0; i < ARRAY_SIZE(sources); i++) {
		const struct gather_source *s = &sources[i];

		if (!s->set || (sets & s->set)) {
			double t = now_monotonic();

			s->gather(o, f);
			log_debug("gather: %s in %.3f s", s->name, now_monotonic() - t);
		} else if (s->status_off >= 0) {
			*(enum source_status *)((char *)f + s->status_off) = SOURCE_OFF;
		}
	}
	f->gathered_at = time(NULL);
	f->gather_seconds = now_monotonic() - t0;
	return 0;
}
