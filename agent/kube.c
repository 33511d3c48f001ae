/* SPDX-License-Identifier: Apache-2.0 */
/* Pod volumes and node directories placed on disks. A path is resolved by
 * the same resolver the checks use (resolve_path_backing(), agent/stack.c)
 * and walked down the block graph to its whole disks; a PV's disk is then
 * cross-checked with IMDS (the disk's name and id at its LUN) and ARM (the
 * CSI driver's tag). When sources disagree, or the mount is gone, the
 * volume is placed nowhere: an unknown with its reason, never a guess. */
#include "config.h"

#include "agent/facts.h"
#include "agent/kube.h"
#include "agent/stack.h"
#include "lib/strutil.h"

#define MAX_DEPTH 16
#define AZURE_DISK_DRIVER "disk.csi.azure.com"

const char *kube_backing_to_string(enum kube_backing b)
{
	switch (b) {
	case KUBE_ON_DISK:
		return "disk";
	case KUBE_IN_MEMORY:
		return "memory";
	default:
		return "unknown";
	}
}

bool kube_pv_name_like(const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (!s || strlen(s) != 4 + 36 || !startswith(s, "pvc-"))
		return false;
	for (size_t i = 0; i < 36; i++) {
		char c = s[4 + i];

		if (i == 8 || i == 13 || i == 18 || i == 23 ? c != '-' : !c || !strchr(hex, c))
			return false;
	}
	return true;
}

bool kube_disk_subject(const struct blockdev *d, char *buf, size_t n)
{
	switch (d->role) {
	case ROLE_OS:
		snprintf(buf, n, "os");
		return true;
	case ROLE_RESOURCE:
		snprintf(buf, n, "resource");
		return true;
	case ROLE_DATA:
		if (d->lun < 0)
			return false;
		snprintf(buf, n, "lun:%d", d->lun);
		return true;
	case ROLE_LOCAL:
		if (d->local_index == 0)
			return false;
		snprintf(buf, n, "local:%u", d->local_index);
		return true;
	default:
		return false;
	}
}

static void place_done(struct kube_place *p)
{
	free(p->mountpoint);
	free(p->device);
	strv_free(p->subjects);
	strv_free(p->dm_crypt);
	free(p->reason);
	*p = (struct kube_place){ 0 };
}

static void place_unknown(struct kube_place *p, const char *fmt, ...) _printf_(2, 3);
static void place_unknown(struct kube_place *p, const char *fmt, ...)
{
	struct strbuf sb = { 0 };
	va_list ap;

	va_start(ap, fmt);
	strbuf_vappendf(&sb, fmt, ap);
	va_end(ap);
	p->backing = KUBE_UNKNOWN;
	strv_free(p->subjects);
	p->subjects = NULL;
	free(p->reason);
	p->reason = strbuf_steal(&sb);
}

/* Collects the whole disks under dev into disks (graph indices). */
static int walk_disks(const struct block_graph *g, int dev, unsigned depth, int *disks,
		      size_t *n_disks, struct kube_place *p)
{
	const struct blockdev *d = &g->devs[dev];
	int r;

	if (depth > MAX_DEPTH)
		return place_unknown(p, "the device stack under %s is deeper than %d levels",
				     blockdev_display(d), MAX_DEPTH),
		       -ELOOP;
	if (d->dm_crypt && !strv_contains(p->dm_crypt, d->dm_name ? d->dm_name : d->name) &&
	    strv_extend(&p->dm_crypt, d->dm_name ? d->dm_name : d->name) < 0)
		return -ENOMEM;
	if (d->kind == BLK_DISK) {
		for (size_t i = 0; i < *n_disks; i++)
			if (disks[i] == dev)
				return 0;
		if (*n_disks >= (size_t)g->n_devs)
			return -E2BIG;
		disks[(*n_disks)++] = dev;
		return 0;
	}
	if (d->kind == BLK_PART) {
		if (d->parent < 0 || (size_t)d->parent >= g->n_devs)
			return place_unknown(p, "partition %s has no disk", blockdev_display(d)),
			       -ENOENT;
		return walk_disks(g, d->parent, depth + 1, disks, n_disks, p);
	}
	if (d->n_slaves == 0)
		return place_unknown(p, "%s (%s) lists no device below it; its data cannot be placed",
				     blockdev_display(d), blk_kind_to_string(d->kind)),
		       -ENOENT;
	for (size_t k = 0; k < d->n_slaves; k++) {
		r = walk_disks(g, d->slaves[k], depth + 1, disks, n_disks, p);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The whole disks under the devices of every part (overlay layers, btrfs
 * members) and their subjects. */
static int place_on_devices(const struct facts *f, const int *devs, size_t n_devs, struct kube_place *p)
{
	const struct block_graph *g = &f->graph;
	_cleanup_free_ int *disks = calloc(g->n_devs + 1, sizeof(int));
	size_t n = 0;
	int r;

	if (!disks)
		return -ENOMEM;
	p->device = strdup(blockdev_display(&g->devs[devs[0]]));
	for (size_t i = 0; i < n_devs; i++) {
		r = walk_disks(g, devs[i], 0, disks, &n, p);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return 0; /* place_unknown() said why */
	}
	p->backing = KUBE_ON_DISK;
	for (size_t i = 0; i < n; i++) {
		char subject[32];

		if (!kube_disk_subject(&g->devs[disks[i]], subject, sizeof(subject))) {
			place_unknown(p, "%s is not a disk with an Azure role",
				      blockdev_display(&g->devs[disks[i]]));
			return 0;
		}
		if (strv_extend(&p->subjects, subject) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Places path through the resolver the checks use: every part of what
 * holds it must be placed, or the whole is unknown. With mounted, the path
 * must be the mount itself (a CSI publish or staging mount): otherwise the
 * directory would resolve to whatever filesystem holds the empty mount
 * point, a wrong answer. */
static int place_path(const struct facts *f, const char *path, bool mounted, struct kube_place *p)
{
	struct backing b;
	_cleanup_free_ int *devs = NULL;
	const char *memory = NULL;
	size_t n = 0;
	int r = 0;

	*p = (struct kube_place){ .backing = KUBE_UNKNOWN };
	if (f->mounts_src.status != SOURCE_OK) {
		place_unknown(p, "mount table unavailable: %s", strna(f->mounts_src.error));
		return 0;
	}
	resolve_path_backing(f, path, &b);
	if (b.mount)
		p->mountpoint = strdup(b.mount->mountpoint);
	if (mounted && (!b.mount || !streq(b.mount->mountpoint, path))) {
		place_unknown(p, "%s is not mounted", path);
		goto done;
	}
	devs = calloc(b.n_parts + 1, sizeof(int));
	if (!devs) {
		r = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < b.n_parts; i++) {
		const struct backing_part *bp = &b.parts[i];

		switch (bp->kind) {
		case BACKING_DEVICE:
			devs[n++] = bp->dev;
			break;
		case BACKING_MEMORY:
			memory = memory ? memory : bp->reason;
			break;
		default:
			place_unknown(p, "%s%s%s", bp->what ? bp->what : "", bp->what ? ": " : "",
				      strna(bp->reason));
			goto done;
		}
	}
	if (n > 0) {
		r = place_on_devices(f, devs, n, p);
	} else if (memory) {
		p->backing = KUBE_IN_MEMORY;
		p->reason = strdup(memory);
	} else {
		place_unknown(p, "nothing is known to hold %s", path);
	}
done:
	backing_done(&b);
	return r;
}

static int imds_lun_index(const struct facts *f, int lun)
{
	const struct imds_instance *in = f->imds.have_instance ? &f->imds.instance : NULL;

	if (!in || lun < 0)
		return -1;
	for (size_t i = 0; i < in->n_data_disks; i++)
		if (in->data_disks[i].lun == lun)
			return (int)i;
	return -1;
}

static const struct arm_disk *arm_data_disk(const struct facts *f, int k)
{
	if (k < 0 || f->arm.status != SOURCE_OK || (size_t)k >= f->arm.n_data_disks ||
	    f->arm.data_disks[k].status != SOURCE_OK)
		return NULL;
	return &f->arm.data_disks[k];
}

/* The only disk a place is on, or -1. */
static int single_disk(const struct facts *f, const struct kube_place *p)
{
	int found = -1;

	if (p->backing != KUBE_ON_DISK || strv_length(p->subjects) != 1)
		return -1;
	for (size_t i = 0; i < f->graph.n_devs; i++) {
		char subject[32];

		if (f->graph.devs[i].kind == BLK_DISK &&
		    kube_disk_subject(&f->graph.devs[i], subject, sizeof(subject)) &&
		    streq(subject, p->subjects[0])) {
			if (found >= 0)
				return -1; /* two disks claim one subject: not placed */
			found = (int)i;
		}
	}
	return found;
}

/* The PV a CSI volume is, cross-checked with what IMDS and ARM say about
 * the disk it resolved to. */
static int confirm_pv(const struct facts *f, struct kube_volume_fact *vf)
{
	const struct kubelet_volume *v = vf->v;
	const struct imds_instance *in = f->imds.have_instance ? &f->imds.instance : NULL;
	int dev = single_disk(f, &vf->place), k;
	const struct blockdev *d = dev >= 0 ? &f->graph.devs[dev] : NULL;
	const struct imds_disk *idisk;
	const struct arm_disk *ad;

	if (v->vd.spec_vol_id && !streq(v->vd.spec_vol_id, v->name)) {
		place_unknown(&vf->place, "kubelet's vol_data.json names volume %s, its directory %s",
			      v->vd.spec_vol_id, v->name);
		return 0;
	}
	if (!(v->vd.lifecycle && streq(v->vd.lifecycle, "Ephemeral"))) {
		vf->pv = strdup(v->name);
		if (!vf->pv)
			return -ENOMEM;
	}
	if (vf->place.backing != KUBE_ON_DISK)
		return 0;
	if (strv_extend(&vf->confirmed_by, "mount") < 0)
		return -ENOMEM;
	if (!d || d->role != ROLE_DATA) {
		if (v->vd.driver && streq(v->vd.driver, AZURE_DISK_DRIVER))
			place_unknown(&vf->place,
				      "an Azure Disk CSI volume must be on one data disk, but %s resolves to %s",
				      v->path, strna(vf->place.device));
		return 0;
	}
	k = imds_lun_index(f, d->lun);
	idisk = k >= 0 ? &in->data_disks[k] : NULL;
	ad = arm_data_disk(f, k);
	if (vf->pv && idisk && kube_pv_name_like(idisk->name)) {
		if (!streq(idisk->name, vf->pv)) {
			place_unknown(&vf->place,
				      "IMDS names the disk at LUN %d %s, but kubelet mounts PV %s from it",
				      d->lun, idisk->name, vf->pv);
			return 0;
		}
		(void)strv_extend(&vf->confirmed_by, "imds_name");
	}
	if (v->vd.volume_handle && idisk && idisk->managed_disk_id) {
		if (!strcaseeq(v->vd.volume_handle, idisk->managed_disk_id)) {
			place_unknown(&vf->place,
				      "kubelet's volume handle %s is not the disk IMDS lists at LUN %d (%s)",
				      v->vd.volume_handle, d->lun, idisk->managed_disk_id);
			return 0;
		}
		(void)strv_extend(&vf->confirmed_by, "imds_disk_id");
	}
	if (vf->pv && ad && ad->pv_name) {
		if (!streq(ad->pv_name, vf->pv)) {
			place_unknown(&vf->place,
				      "ARM tags the disk at LUN %d as created for %s, but kubelet mounts PV %s from it",
				      d->lun, ad->pv_name, vf->pv);
			return 0;
		}
		(void)strv_extend(&vf->confirmed_by, "arm_tag");
	}
	return 0;
}

/* A staging mount of the Azure Disk CSI driver names its disk by ARM id:
 * it must be the disk IMDS lists at the LUN the mount resolves to. */
static void check_staging(const struct facts *f, struct kube_staging_fact *sf)
{
	const struct kubelet_vol_data *vd = &sf->s->vd;
	int dev = single_disk(f, &sf->place);
	int k = dev >= 0 ? imds_lun_index(f, f->graph.devs[dev].lun) : -1;
	const char *id = k >= 0 ? f->imds.instance.data_disks[k].managed_disk_id : NULL;

	if (vd->error) {
		place_unknown(&sf->place, "%s", vd->error);
		return;
	}
	if (sf->place.backing != KUBE_ON_DISK || !vd->driver || !streq(vd->driver, AZURE_DISK_DRIVER))
		return;
	if (dev < 0 || f->graph.devs[dev].role != ROLE_DATA)
		place_unknown(&sf->place,
			      "an Azure Disk CSI staging mount must be on one data disk, but %s resolves to %s",
			      sf->s->path, strna(sf->place.device));
	else if (vd->volume_handle && id && !strcaseeq(vd->volume_handle, id))
		place_unknown(&sf->place,
			      "kubelet's volume handle %s is not the disk IMDS lists at LUN %d (%s)",
			      vd->volume_handle, f->graph.devs[dev].lun, id);
}

static int map_volume(const struct facts *f, const struct kubelet_volume *v, struct kube_volume_fact *vf)
{
	bool csi = v->kind == KVOL_CSI;
	int r;

	*vf = (struct kube_volume_fact){ .v = v };
	if (v->kind == KVOL_CSI_BLOCK) {
		vf->place = (struct kube_place){ .backing = KUBE_UNKNOWN };
		vf->place.reason = strdup("a raw block volume: its device is not followed");
		vf->pv = strdup(v->name);
		return vf->place.reason && vf->pv ? 0 : -ENOMEM;
	}
	r = place_path(f, v->path, csi, &vf->place);
	if (r < 0)
		return r;
	if (csi && v->vd.error) {
		place_unknown(&vf->place, "%s", v->vd.error);
		return 0;
	}
	if (!csi)
		return 0;
	r = confirm_pv(f, vf);
	if (vf->place.backing == KUBE_UNKNOWN) {
		/* Nothing was confirmed about a volume that is placed nowhere. */
		strv_free(vf->confirmed_by);
		vf->confirmed_by = NULL;
	}
	return r;
}

static void volume_fact_done(struct kube_volume_fact *vf)
{
	free(vf->pv);
	place_done(&vf->place);
	strv_free(vf->confirmed_by);
}

void kube_facts_done(struct kube_facts *k)
{
	if (!k)
		return;
	free(k->error);
	free(k->node_name);
	for (size_t i = 0; i < k->n_pods; i++) {
		for (size_t j = 0; j < k->pods[i].n_volumes; j++)
			volume_fact_done(&k->pods[i].volumes[j]);
		free(k->pods[i].volumes);
	}
	free(k->pods);
	for (size_t i = 0; i < k->n_dirs; i++) {
		free(k->dirs[i].role);
		free(k->dirs[i].path);
		place_done(&k->dirs[i].place);
	}
	free(k->dirs);
	for (size_t i = 0; i < k->n_staging; i++)
		place_done(&k->staging[i].place);
	free(k->staging);
	for (size_t i = 0; i < k->n_disks; i++) {
		free(k->disks[i].pv);
		strv_free(k->disks[i].pv_sources);
		free(k->disks[i].pv_conflict);
		strv_free(k->disks[i].pods);
	}
	free(k->disks);
	kubelet_state_done(&k->kubelet);
	*k = (struct kube_facts){ 0 };
}

static int cmp_str_null_last(const char *a, const char *b)
{
	if (!a || !b)
		return !a - !b;
	return strcmp(a, b);
}

static int pod_cmp(const void *x, const void *y)
{
	const struct kubelet_pod *a = ((const struct kube_pod_fact *)x)->p;
	const struct kubelet_pod *b = ((const struct kube_pod_fact *)y)->p;
	int c = cmp_str_null_last(a->namespace, b->namespace);

	if (!c)
		c = cmp_str_null_last(a->name, b->name);
	return c ? c : strcmp(a->uid, b->uid);
}

static char *pod_label(const struct kubelet_pod *p)
{
	return p->namespace && p->name ? strprintf("%s/%s", p->namespace, p->name) :
					 strprintf("uid %s", p->uid);
}

/* Candidates for a disk's PV from one source; a second, different one is
 * a conflict. */
static void pv_candidate(struct kube_disk_fact *df, const char *source, const char *pv)
{
	if (!pv)
		return;
	if (!df->pv_conflict && df->pv && !streq(df->pv, pv))
		df->pv_conflict =
			streq(source, "kubelet_mount") && strv_contains(df->pv_sources, source) ?
				strprintf("kubelet mounts two PVs from it, %s and %s", df->pv, pv) :
				strprintf("%s says %s where %s says %s", source, pv,
					  strna(df->pv_sources ? df->pv_sources[0] : NULL), df->pv);
	if (!df->pv)
		df->pv = strdup(pv);
	if (!strv_contains(df->pv_sources, source))
		(void)strv_extend(&df->pv_sources, source);
}

static bool place_on(const struct facts *f, const struct kube_place *p, int dev)
{
	char subject[32];

	if (p->backing != KUBE_ON_DISK ||
	    !kube_disk_subject(&f->graph.devs[dev], subject, sizeof(subject)))
		return false;
	return strv_contains(p->subjects, subject);
}

static int map_disk(const struct facts *f, struct kube_facts *k, int dev)
{
	const struct blockdev *d = &f->graph.devs[dev];
	int lun = d->role == ROLE_DATA ? d->lun : -1, idx = imds_lun_index(f, lun);
	const struct imds_disk *idisk = idx >= 0 ? &f->imds.instance.data_disks[idx] : NULL;
	const struct arm_disk *ad = arm_data_disk(f, idx);
	struct kube_disk_fact df = { .dev = dev };

	if (idisk && kube_pv_name_like(idisk->name))
		pv_candidate(&df, "imds_name", idisk->name);
	if (ad && ad->pv_name)
		pv_candidate(&df, "arm_tag", ad->pv_name);
	for (size_t i = 0; i < k->n_pods; i++) {
		const struct kube_pod_fact *pf = &k->pods[i];
		bool here = false;

		for (size_t j = 0; j < pf->n_volumes; j++) {
			const struct kube_volume_fact *vf = &pf->volumes[j];

			if (!place_on(f, &vf->place, dev))
				continue;
			here = true;
			if (vf->pv && vf->v->kind == KVOL_CSI && strv_length(vf->place.subjects) == 1)
				pv_candidate(&df, "kubelet_mount", vf->pv);
		}
		if (here && strv_push(&df.pods, pod_label(pf->p)) < 0)
			return -ENOMEM;
	}
	if (!df.pv && !df.pods) {
		strv_free(df.pv_sources);
		return 0;
	}
	if (df.pv_conflict) {
		free(df.pv);
		df.pv = NULL;
	}
	k->disks[k->n_disks++] = df;
	return 0;
}

/* A disk whose PV the sources disagree on (two PVs mounted from it, or
 * kubelet against IMDS or ARM): none of the PV volumes on it is placed. */
static void demote_conflicts(const struct facts *f, struct kube_facts *k)
{
	for (size_t d = 0; d < k->n_disks; d++) {
		const struct kube_disk_fact *df = &k->disks[d];

		if (!df->pv_conflict)
			continue;
		for (size_t i = 0; i < k->n_pods; i++)
			for (size_t j = 0; j < k->pods[i].n_volumes; j++) {
				struct kube_volume_fact *vf = &k->pods[i].volumes[j];

				if (vf->pv && vf->v->kind == KVOL_CSI &&
				    place_on(f, &vf->place, df->dev)) {
					strv_free(vf->confirmed_by);
					vf->confirmed_by = NULL;
					place_unknown(&vf->place,
						      "the sources disagree on the PV of %s: %s",
						      f->graph.devs[df->dev].name, df->pv_conflict);
				}
			}
	}
}

static void count_series(struct kube_facts *k)
{
	for (size_t i = 0; i < k->n_pods; i++)
		for (size_t j = 0; j < k->pods[i].n_volumes; j++) {
			struct kube_volume_fact *vf = &k->pods[i].volumes[j];
			size_t n = MAX(strv_length(vf->place.subjects), (size_t)1);

			if (vf->place.backing == KUBE_IN_MEMORY)
				continue;
			if (k->series + n <= k->max_series) {
				vf->metric = true;
				k->series += n;
			} else {
				k->series_dropped += n;
			}
		}
}

int kube_map(struct facts *f, const struct kube_map_options *o)
{
	struct kube_facts *k = &f->kube;
	const struct kubelet_state *ks = &k->kubelet;
	int r;

	k->max_series = o->max_series;
	k->dirs = calloc(o->n_dirs + 1, sizeof(*k->dirs));
	k->pods = calloc(ks->n_pods + 1, sizeof(*k->pods));
	k->staging = calloc(ks->n_staging + 1, sizeof(*k->staging));
	k->disks = calloc(f->graph.n_devs + 1, sizeof(*k->disks));
	if (!k->dirs || !k->pods || !k->staging || !k->disks)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_dirs; i++) {
		struct kube_dir_fact *d = &k->dirs[k->n_dirs++];

		d->role = strdup(o->dir_roles[i]);
		d->path = strdup(o->dir_paths[i]);
		d->exists = o->dir_exists[i];
		if (!d->role || !d->path)
			return -ENOMEM;
		if (!d->exists) {
			d->place = (struct kube_place){ .backing = KUBE_UNKNOWN };
			d->place.reason = strprintf("%s does not exist", d->path);
		} else if ((r = place_path(f, d->path, false, &d->place)) < 0) {
			return r;
		}
	}
	for (size_t i = 0; i < ks->n_pods; i++) {
		struct kube_pod_fact *pf = &k->pods[k->n_pods++];
		const struct kubelet_pod *p = &ks->pods[i];

		pf->p = p;
		pf->volumes = calloc(p->n_volumes + 1, sizeof(*pf->volumes));
		if (!pf->volumes)
			return -ENOMEM;
		for (size_t j = 0; j < p->n_volumes; j++) {
			r = map_volume(f, &p->volumes[j], &pf->volumes[pf->n_volumes++]);
			if (r < 0)
				return r;
		}
	}
	qsort(k->pods, k->n_pods, sizeof(*k->pods), pod_cmp);
	for (size_t i = 0; i < ks->n_staging; i++) {
		struct kube_staging_fact *sf = &k->staging[k->n_staging++];

		sf->s = &ks->staging[i];
		r = place_path(f, sf->s->path, true, &sf->place);
		if (r < 0)
			return r;
		check_staging(f, sf);
	}
	for (size_t i = 0; i < f->graph.n_devs; i++)
		if (f->graph.devs[i].kind == BLK_DISK && (r = map_disk(f, k, (int)i)) < 0)
			return r;
	demote_conflicts(f, k);
	count_series(k);
	return 0;
}

const struct kube_disk_fact *kube_disk_of(const struct kube_facts *k, int dev)
{
	for (size_t i = 0; k && i < k->n_disks; i++)
		if (k->disks[i].dev == dev)
			return &k->disks[i];
	return NULL;
}
