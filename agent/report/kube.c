/* SPDX-License-Identifier: Apache-2.0 */
/* The Kubernetes pieces of the reports: the JSON report's "kubernetes"
 * section, each disk's PV and pods, and the table `atrest devices` prints.
 * Only formats what agent/kube.c established. */
#include "config.h"

#include "agent/report/kube.h"
#include "agent/stack.h"
#include "lib/json-util.h"
#include "lib/strutil.h"

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

/* The one subject a place is on, or NULL (none, or several). */
const char *kube_place_subject(const struct kube_place *p)
{
	return p->backing == KUBE_ON_DISK && strv_length(p->subjects) == 1 ? p->subjects[0] : NULL;
}

static void place_json(json_object *o, const struct kube_place *p)
{
	add(o, "backing", json_object_new_string(kube_backing_to_string(p->backing)));
	add(o, "disk_subject", json_string_or_null(kube_place_subject(p)));
	add(o, "disk_subjects", json_strv(p->subjects));
	add(o, "device", json_string_or_null(p->device));
	add(o, "mountpoint", json_string_or_null(p->mountpoint));
	add(o, "dm_crypt", json_strv(p->dm_crypt));
	add(o, "reason", json_string_or_null(p->reason));
}

static json_object *volume_json(const struct kube_volume_fact *vf)
{
	const struct kubelet_volume *v = vf->v;
	json_object *o = json_object_new_object();

	add(o, "name", json_string_or_null(v->name));
	add(o, "kind", json_object_new_string(kube_volume_kind_to_string(v->kind)));
	add(o, "plugin", json_string_or_null(v->plugin));
	add(o, "pv", json_string_or_null(vf->pv));
	place_json(o, &vf->place);
	add(o, "confirmed_by", json_strv(vf->confirmed_by));
	add(o, "driver", json_string_or_null(v->vd.driver));
	add(o, "volume_handle", json_string_or_null(v->vd.volume_handle));
	add(o, "path", json_string_or_null(v->path));
	add(o, "in_metrics", json_object_new_boolean(vf->metric));
	return o;
}

static json_object *pod_json(const struct kube_pod_fact *pf)
{
	const struct kubelet_pod *p = pf->p;
	json_object *o = json_object_new_object(), *vols = json_object_new_array();

	add(o, "namespace", json_string_or_null(p->namespace));
	add(o, "name", json_string_or_null(p->name));
	add(o, "uid", json_string_or_null(p->uid));
	add(o, "name_error", json_string_or_null(p->name_error));
	for (size_t i = 0; i < pf->n_volumes; i++)
		json_object_array_add(vols, volume_json(&pf->volumes[i]));
	add(o, "volumes", vols);
	return o;
}

static json_object *dir_json(const struct kube_dir_fact *d)
{
	json_object *o = json_object_new_object();

	add(o, "role", json_object_new_string(d->role));
	add(o, "path", json_object_new_string(d->path));
	add(o, "exists", json_object_new_boolean(d->exists));
	place_json(o, &d->place);
	return o;
}

static json_object *staging_json(const struct kube_staging_fact *sf)
{
	json_object *o = json_object_new_object();

	add(o, "driver", json_string_or_null(sf->s->vd.driver ? sf->s->vd.driver : sf->s->driver));
	add(o, "volume_handle", json_string_or_null(sf->s->vd.volume_handle));
	add(o, "path", json_string_or_null(sf->s->path));
	place_json(o, &sf->place);
	return o;
}

json_object *kube_json(const struct facts *f)
{
	const struct kube_facts *k = &f->kube;
	json_object *o, *a;

	if (!k->enabled)
		return NULL;
	o = json_object_new_object();
	add(o, "node", json_string_or_null(k->node_name));
	add(o, "status", json_object_new_string(k->status < 0 ? "error" : "ok"));
	add(o, "error", json_string_or_null(k->error));
	add(o, "kubelet_dir", json_string_or_null(k->kubelet.root));
	add(o, "kubelet_found", json_object_new_boolean(k->kubelet.present));
	add(o, "pod_logs_error", json_string_or_null(k->kubelet.logs_error));
	a = json_object_new_array();
	for (size_t i = 0; i < k->n_pods; i++)
		json_object_array_add(a, pod_json(&k->pods[i]));
	add(o, "pods", a);
	a = json_object_new_array();
	for (size_t i = 0; i < k->n_dirs; i++)
		json_object_array_add(a, dir_json(&k->dirs[i]));
	add(o, "node_dirs", a);
	a = json_object_new_array();
	for (size_t i = 0; i < k->n_staging; i++)
		json_object_array_add(a, staging_json(&k->staging[i]));
	add(o, "staging", a);
	add(o, "skipped", json_object_new_int64((int64_t)k->kubelet.skipped));
	add(o, "notes", json_strv(k->kubelet.notes));
	add(o, "volume_series", json_object_new_int64((int64_t)k->series));
	add(o, "volume_series_dropped", json_object_new_int64((int64_t)k->series_dropped));
	add(o, "max_volume_series", json_object_new_int64((int64_t)k->max_series));
	return o;
}

void kube_disk_json_add(json_object *o, const struct facts *f, int dev)
{
	const struct kube_disk_fact *df = kube_disk_of(&f->kube, dev);

	add(o, "pv", json_string_or_null(df ? df->pv : NULL));
	if (!df)
		return;
	add(o, "pv_sources", json_strv(df->pv_sources));
	add(o, "pv_conflict", json_string_or_null(df->pv_conflict));
	add(o, "pods", json_strv(df->pods));
}

/* "a, b, c and 7 more" within width characters. */
static char *pods_label(char *const *pods, size_t width)
{
	struct strbuf sb = { 0 };
	size_t n = strv_length(pods), i;

	strbuf_append(&sb, "");
	for (i = 0; i < n; i++) {
		size_t need = strlen(pods[i]) + (i ? 2 : 0);

		if (i > 0 && sb.len + need + 12 > width)
			break;
		strbuf_appendf(&sb, "%s%s", i ? ", " : "", pods[i]);
	}
	if (i < n)
		strbuf_appendf(&sb, " and %zu more", n - i);
	return strbuf_steal(&sb);
}

static const char *place_label(const struct kube_place *p, char *buf, size_t n)
{
	_cleanup_free_ char *subjects = strv_join(p->subjects, "+");

	if (p->backing == KUBE_ON_DISK && subjects && *subjects)
		snprintf(buf, n, "%s", subjects);
	else
		snprintf(buf, n, "%s", kube_backing_to_string(p->backing));
	return buf;
}

void kube_print_failing(FILE *out, const struct report *r)
{
	const struct kube_facts *k = &r->facts->kube;
	size_t unplaced = 0;
	bool any = false;

	if (!k->enabled)
		return;
	for (size_t i = 0; i < k->n_pods; i++)
		for (size_t j = 0; j < k->pods[i].n_volumes; j++) {
			const struct kube_volume_fact *vf = &k->pods[i].volumes[j];
			const struct kubelet_pod *p = k->pods[i].p;

			unplaced += vf->place.backing == KUBE_UNKNOWN;
			for (char **s = vf->place.subjects; s && *s; s++)
				for (size_t c = 0; c < r->results.n; c++) {
					const struct check_result *cr = &r->results.v[c];

					if (cr->status != CHECK_FAIL || !streq(cr->subject, *s) ||
					    (cr->severity != SEV_CRITICAL && cr->severity != SEV_WARNING))
						continue;
					if (!any)
						fputs("\npod volumes on storage that fails a check:\n",
						      out);
					any = true;
					fprintf(out, "  %s/%s %s on %s: %s fails (%s)\n",
						p->namespace ? p->namespace : "?",
						p->name ? p->name : p->uid, vf->v->name, *s,
						check_name(cr->check),
						severity_to_string(cr->severity));
				}
		}
	if (unplaced)
		fprintf(out,
			"\n%zu pod volume%s cannot be placed on a disk: 'atrest devices' says why\n",
			unplaced, unplaced == 1 ? "" : "s");
}

void kube_print_text(FILE *out, const struct facts *f, bool verbose)
{
	const struct kube_facts *k = &f->kube;
	bool any = false;
	char buf[64];

	if (!k->enabled)
		return;
	fprintf(out, "\nKubernetes: node %s, kubelet %s%s%s\n", strna(k->node_name),
		strna(k->kubelet.root), k->error ? ": " : "", k->error ? k->error : "");
	fprintf(out, "%-10s %-10s %-44s %s\n", "DISK", "SUBJECT", "PV", "PODS");
	for (size_t i = 0; i < k->n_disks; i++) {
		const struct kube_disk_fact *df = &k->disks[i];
		const struct blockdev *d = &f->graph.devs[df->dev];
		_cleanup_free_ char *pods = pods_label(df->pods, 96);

		if (!kube_disk_subject(d, buf, sizeof(buf)))
			snprintf(buf, sizeof(buf), "-");
		fprintf(out, "%-10s %-10s %-44s %s\n", d->name, buf,
			df->pv          ? df->pv :
			df->pv_conflict ? "(sources disagree)" :
					  "-",
			pods && *pods ? pods : "-");
		if (df->pv_conflict)
			fprintf(out, "%-10s %-10s   %s\n", "", "", df->pv_conflict);
	}
	for (size_t i = 0; i < k->n_dirs; i++) {
		const struct kube_dir_fact *d = &k->dirs[i];

		if (!d->exists && !verbose)
			continue;
		fprintf(out, "%-21s %-44s %s%s%s\n", d->role, d->path,
			place_label(&d->place, buf, sizeof(buf)), d->place.reason ? ": " : "",
			d->place.backing == KUBE_ON_DISK || !d->place.reason ? "" : d->place.reason);
	}
	for (size_t i = 0; i < k->n_pods; i++)
		for (size_t j = 0; j < k->pods[i].n_volumes; j++) {
			const struct kube_volume_fact *vf = &k->pods[i].volumes[j];
			_cleanup_free_ char *who = NULL;

			if (vf->place.backing != KUBE_UNKNOWN)
				continue;
			if (!any)
				fprintf(out, "Volumes that cannot be placed:\n");
			any = true;
			who = k->pods[i].p->namespace ?
				      strprintf("%s/%s", k->pods[i].p->namespace, k->pods[i].p->name) :
				      strprintf("uid %s", k->pods[i].p->uid);
			fprintf(out, "  %s %s: %s\n", strna(who), vf->v->name, strna(vf->place.reason));
		}
	if (k->kubelet.skipped)
		fprintf(out, "Skipped %zu kubelet entries%s\n", k->kubelet.skipped,
			verbose ? ":" : " (-v lists them)");
	for (char **n = k->kubelet.notes; verbose && n && *n; n++)
		fprintf(out, "  %s\n", *n);
}
