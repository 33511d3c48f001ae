/* SPDX-License-Identifier: Apache-2.0 */
/* `atrest devices`: the block-device view, disk by disk, with each one's
 * Azure role, what is stacked on it, and its encryption. */
#include "config.h"

#include "agent/cmd/cli.h"
#include "agent/evaluate.h"
#include "agent/stack.h"
#include "agent/report/kube.h"
#include "agent/report/report.h"
#include "agent/report/term.h"
#include "lib/json-util.h"
#include "lib/log.h"
#include "lib/strutil.h"

#define MAX_TREE_DEPTH 12

static void role_label(const struct blockdev *d, char *buf, size_t n)
{
	if (d->kind != BLK_DISK)
		snprintf(buf, n, "%s", "");
	else if (d->ade_bek)
		snprintf(buf, n, "ade-bek");
	else if (d->role == ROLE_DATA)
		snprintf(buf, n, "data lun:%d", d->lun);
	else if (d->role == ROLE_LOCAL)
		snprintf(buf, n, "local:%u", d->local_index);
	else if (d->role == ROLE_OTHER && d->azure)
		snprintf(buf, n, "azure?");
	else
		snprintf(buf, n, "%s", azure_role_to_string(d->role));
}

static void type_label(const struct blockdev *d, char *buf, size_t n)
{
	if (d->dm_crypt)
		snprintf(buf, n, "crypt");
	else if (d->kind == BLK_DM && d->dm_uuid && startswith(d->dm_uuid, "LVM-"))
		snprintf(buf, n, "lvm");
	else if (d->sig_type)
		snprintf(buf, n, "%s", d->sig_type);
	else
		snprintf(buf, n, "%s", blk_kind_to_string(d->kind));
}

static char *encryption_label(const struct blockdev *d)
{
	const struct crypt_params *c = &d->crypt;

	if (!d->dm_crypt)
		return strdup("");
	if (c->source == CRYPT_SRC_NONE)
		return strprintf("%s, parameters unknown", strna(c->type));
	return strprintf("%s %s-%s %u-bit (%s)%s%s", strna(c->type), strna(c->cipher), strna(c->mode),
			 c->key_bits, c->source == CRYPT_SRC_ACTIVE ? "active" : "header",
			 c->reencrypt == REENCRYPT_NONE ? "" : ", reencryption ",
			 c->reencrypt == REENCRYPT_NONE ? "" : crypt_reencrypt_to_string(c->reencrypt));
}

static char *mounts_label(const struct facts *f, int dev)
{
	const struct blockdev *d = &f->graph.devs[dev];
	const char *kubelet = f->kube.kubelet.present ? f->kube.kubelet.root : NULL;
	size_t kubelet_mounts = 0;
	struct strbuf sb = { 0 };

	strbuf_append(&sb, "");
	for (size_t i = 0; i < f->mounts.n; i++)
		if (f->mounts.v[i].major == d->major && f->mounts.v[i].minor == d->minor) {
			const char *mp = f->mounts.v[i].mountpoint;

			/* kubelet's staging and pod mounts: the table below names them. */
			if (kubelet && startswith(mp, kubelet) && mp[strlen(kubelet)] == '/') {
				kubelet_mounts++;
				continue;
			}
			if (sb.len)
				strbuf_putc(&sb, ' ');
			strbuf_append(&sb, mp);
		}
	if (kubelet_mounts)
		strbuf_appendf(&sb, "%s[kubelet: %zu mount%s]", sb.len ? " " : "", kubelet_mounts,
			       kubelet_mounts == 1 ? "" : "s");
	for (size_t i = 0; i < f->swaps.n; i++)
		if (block_graph_find_node(&f->graph, f->swaps.v[i].filename) == dev)
			strbuf_append(&sb, sb.len ? " [SWAP]" : "[SWAP]");
	return strbuf_steal(&sb);
}

static void print_node(const struct facts *f, int dev, const char *prefix, bool last, unsigned depth)
{
	const struct blockdev *d = &f->graph.devs[dev];
	_cleanup_free_ char *enc = encryption_label(d), *mnt = mounts_label(f, dev), *name = NULL;
	_cleanup_free_ char *child_prefix = NULL;
	char role[32], type[32], size[16];

	role_label(d, role, sizeof(role));
	type_label(d, type, sizeof(type));
	name = strprintf("%s%s%s", prefix,
			 depth == 0 ? "" :
			 last       ? "└─" :
				      "├─",
			 d->dm_name ? d->dm_name : d->name);
	printf("%-24s %-12s %6s %-12s %-40s %s\n", strna(name), role,
	       format_size(d->size_bytes, size, sizeof(size)), type, strna(enc), strna(mnt));
	if (depth >= MAX_TREE_DEPTH)
		return;
	child_prefix = strprintf("%s%s", prefix, depth == 0 ? "" : last ? "  " : "│ ");
	/* Partitions first, then holders (dm devices built on this one). */
	{
		size_t total = d->n_holders, seen = 0;

		for (size_t i = 0; i < f->graph.n_devs; i++)
			if (f->graph.devs[i].kind == BLK_PART && f->graph.devs[i].parent == dev)
				total++;
		for (size_t i = 0; i < f->graph.n_devs; i++)
			if (f->graph.devs[i].kind == BLK_PART && f->graph.devs[i].parent == dev)
				print_node(f, (int)i, strna(child_prefix), ++seen == total, depth + 1);
		for (size_t k = 0; k < d->n_holders; k++)
			print_node(f, d->holders[k], strna(child_prefix), ++seen == total, depth + 1);
	}
}

static bool is_root(const struct blockdev *d, bool verbose)
{
	/* Roots: whole disks and anything with nothing below it; unused empty
	 * loop and zram devices only when asked (as lsblk does). */
	if (d->kind == BLK_PART || d->n_slaves > 0)
		return false;
	return verbose || d->size_bytes > 0 || d->n_holders > 0;
}

static void print_text(const struct facts *f, bool verbose)
{
	printf("%-24s %-12s %6s %-12s %-40s %s\n", "NAME", "ROLE", "SIZE", "TYPE", "ENCRYPTION",
	       "MOUNTPOINTS");
	for (size_t i = 0; i < f->graph.n_devs; i++)
		if (is_root(&f->graph.devs[i], verbose))
			print_node(f, (int)i, "", true, 0);
	kube_print_text(stdout, f, verbose);
	if (!verbose)
		return;
	putchar('\n');
	for (size_t i = 0; i < f->graph.n_devs; i++) {
		const struct blockdev *d = &f->graph.devs[i];

		if (d->kind == BLK_DISK)
			printf("%s: %s\n", d->name, strna(d->role_evidence));
		if (d->dm_crypt && d->crypt.error)
			printf("%s: %s\n", d->dm_name ? d->dm_name : d->name, d->crypt.error);
		if (d->sig_error && d->kind != BLK_LOOP)
			printf("%s: content not probed: %s\n", d->name, d->sig_error);
	}
}

static int print_json(const struct facts *f)
{
	json_object *o = json_object_new_object(), *disks = json_object_new_array(),
		    *crypts = json_object_new_array();

	for (size_t i = 0; i < f->graph.n_devs; i++) {
		if (f->graph.devs[i].kind == BLK_DISK)
			json_object_array_add(disks, disk_json(f, (int)i));
		if (f->graph.devs[i].dm_crypt)
			json_object_array_add(crypts, dm_crypt_json(f, (int)i));
	}
	json_object_object_add(o, "schema", json_object_new_string("atrest.devices/v1"));
	json_object_object_add(o, "status",
			       json_object_new_string(source_status_to_string(f->block.status)));
	json_object_object_add(o, "error", json_string_or_null(f->block.error));
	json_object_object_add(o, "disks", disks);
	json_object_object_add(o, "dm_crypt", crypts);
	json_object_object_add(o, "kubernetes", kube_json(f));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

int cmd_devices(struct cli *c)
{
	_cleanup_(sysroot_freep) struct sysroot *sr = NULL;
	struct facts f;
	int r;

	if (cli_open_sysroot(c, &sr) < 0)
		return EXIT_USAGE;
	r = gather_facts(&(struct gather_options){ .conf = &c->conf,
						   .sr = sr,
						   .sets = GATHER_STORAGE | GATHER_KUBE },
			 &f);
	if (r < 0)
		return log_error_errno(r, "gathering failed: %m"), EXIT_USAGE;
	if (c->format == FORMAT_JSON)
		print_json(&f);
	else if (f.block.status != SOURCE_OK)
		fprintf(stderr, "atrest devices: %s\n", strna(f.block.error));
	else
		print_text(&f, c->verbosity > 0);
	r = f.block.status == SOURCE_OK ? 0 : EXIT_USAGE;
	facts_done(&f);
	return r;
}
