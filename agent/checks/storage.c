/* SPDX-License-Identifier: Apache-2.0 */
/* Checks on the guest's own storage: dm-crypt parameters, the temp
 * (resource and local NVMe) disks, the paths the policy requires, swap. */
#include "config.h"

#include "agent/checks/checks-internal.h"
#include "agent/stack.h"
#include "lib/strutil.h"

static json_object *evidence_block(const struct facts *f)
{
	json_object *e = evidence_new("block");

	if (f->block.status != SOURCE_OK)
		evidence_add_str(e, "error", f->block.error);
	return e;
}

/* ---- dmcrypt.cipher -------------------------------------------------- */

static const char *crypt_remedy(const struct facts *f)
{
	if (f->under_sysroot)
		return "under --sysroot only on-disk headers are read";
	return "run as root (CAP_SYS_ADMIN) so the active mapping can be read through device-mapper";
}

static bool is_cipher_null(const struct crypt_params *c)
{
	return c->cipher && startswith(c->cipher, "cipher_null");
}

/* A LUKS2 volume mid-reencryption: its header's cipher is not yet the
 * truth about its data. Returns true when a result was added. */
static bool cipher_reencrypting(const char *subject, const struct crypt_params *c, json_object *e,
				struct check_results *out)
{
	const char *how = c->reencrypt_interrupted ? " (interrupted: run cryptsetup repair)" : "";

	evidence_add_str(e, "reencryption", crypt_reencrypt_to_string(c->reencrypt));
	if (c->reencrypt_interrupted)
		evidence_add_bool(e, "reencryption_interrupted", true);
	switch (c->reencrypt) {
	case REENCRYPT_ENCRYPT:
	case REENCRYPT_DECRYPT:
		evidence_add_str(e, "basis", "reencryption_unfinished");
		check_results_add(out, CHECK_DMCRYPT_CIPHER, subject, CHECK_FAIL, e,
				  "%s is in the middle of a LUKS2 %s%s: part of its data is plaintext until `cryptsetup reencrypt --resume-only` finishes.",
				  subject, c->reencrypt == REENCRYPT_ENCRYPT ? "encryption" : "decryption",
				  how);
		return true;
	case REENCRYPT_REKEY:
		check_results_add(out, CHECK_DMCRYPT_CIPHER, subject, CHECK_UNKNOWN, e,
				  "%s is in the middle of a LUKS2 reencryption%s: part of its data is still under the previous key and cipher, which are not read here; finish it with `cryptsetup reencrypt --resume-only`.",
				  subject, how);
		return true;
	case REENCRYPT_INVALID:
		check_results_add(out, CHECK_DMCRYPT_CIPHER, subject, CHECK_UNKNOWN, e,
				  "%s's LUKS2 header describes a reencryption that cannot be interpreted.",
				  subject);
		return true;
	default:
		return false;
	}
}

static void cipher_one(const struct facts *f, const struct policy *p, const struct blockdev *d,
		       struct check_results *out)
{
	const struct crypt_params *c = &d->crypt;
	const char *subject = d->dm_name ? d->dm_name : d->name;
	_cleanup_free_ char *spec = NULL;
	json_object *e = evidence_block(f);

	evidence_add_str(e, "device", d->devnode);
	evidence_add_str(e, "dm_uuid", d->dm_uuid);
	evidence_add_str(e, "params_source", crypt_source_to_string(c->source));
	evidence_add_str(e, "type", c->type);
	evidence_add_str(e, "header", c->header);
	if (c->source != CRYPT_SRC_NONE && is_cipher_null(c)) {
		/* No cipher at all: the key size (0) is not missing evidence. */
		evidence_add_str(e, "cipher", c->mode ? c->mode : c->cipher);
		evidence_add_str(e, "basis", "cipher_null");
		check_results_add(out, CHECK_DMCRYPT_CIPHER, subject, CHECK_FAIL, e,
				  "%s uses cipher_null: its data is written in the clear.", subject);
		return;
	}
	if (c->source == CRYPT_SRC_NONE || !c->cipher || !c->mode || c->key_bits == 0) {
		evidence_add_str(e, "error", c->error);
		check_results_add(out, CHECK_DMCRYPT_CIPHER, subject, CHECK_UNKNOWN, e,
				  "Cipher and key size of %s could not be read (%s); %s.", subject,
				  c->error ? c->error : "no parameters", crypt_remedy(f));
		return;
	}
	spec = strprintf("%s-%s", c->cipher, c->mode);
	evidence_add_str(e, "cipher", spec);
	evidence_add_int(e, "key_bits", c->key_bits);
	evidence_add_strv(e, "allowed_ciphers", p->allowed_ciphers);
	evidence_add_int(e, "min_key_bits", p->min_key_bits);
	if (cipher_reencrypting(subject, c, e, out))
		return;
	if (c->reencrypt != REENCRYPT_NONE) {
		check_results_add(out, CHECK_DMCRYPT_CIPHER, subject, CHECK_UNKNOWN, e,
				  "Whether a LUKS2 reencryption of %s is pending could not be read.",
				  subject);
		return;
	}
	if (!spec || !strv_contains(p->allowed_ciphers, spec)) {
		evidence_add_str(e, "basis", "cipher_not_allowed");
		check_results_add(out, CHECK_DMCRYPT_CIPHER, subject, CHECK_FAIL, e,
				  "%s uses %s, which the policy does not allow.", subject,
				  strna(spec));
	} else if (c->key_bits < p->min_key_bits) {
		bool aes128xts = c->key_bits == 256 && streq(c->cipher, "aes") &&
				 startswith(c->mode, "xts-");
		_cleanup_free_ char *accept =
			strprintf(" (a policy that accepts %u-bit keys sets min_key_bits = %u in [policy])",
				  c->key_bits, c->key_bits);

		evidence_add_str(e, "basis", "short_key");
		/* 256 bits of XTS key is AES-128-XTS, what Linux ADE sets up
		 * (DOMAIN.md §1a): say so, and how a site that accepts it can. */
		check_results_add(out, CHECK_DMCRYPT_CIPHER, subject, CHECK_FAIL, e,
				  "%s uses a %u-bit key%s; the policy requires at least %u bits%s.",
				  subject, c->key_bits,
				  aes128xts ? " (AES-128-XTS, as Azure Disk Encryption sets up)" : "",
				  p->min_key_bits, accept ? accept : "");
	} else {
		evidence_add_str(e, "basis",
				 c->source == CRYPT_SRC_ACTIVE ? "dm_table" : "luks_header");
		check_results_add(out, CHECK_DMCRYPT_CIPHER, subject, CHECK_PASS, e,
				  "%s uses %s with a %u-bit key (%s).", subject, spec, c->key_bits,
				  c->source == CRYPT_SRC_ACTIVE ? "active mapping" : "from the header");
	}
}

void check_dmcrypt_cipher(const struct facts *f, const struct policy *p, struct check_results *out)
{
	for (size_t i = 0; i < f->graph.n_devs; i++)
		if (f->graph.devs[i].dm_crypt)
			cipher_one(f, p, &f->graph.devs[i], out);
}

/* ---- disk.temp_encrypted --------------------------------------------- */

static void temp_subject(const struct blockdev *d, char *buf, size_t n)
{
	if (d->role == ROLE_LOCAL)
		snprintf(buf, n, "local:%u", d->local_index);
	else
		snprintf(buf, n, "resource");
}

struct coverage {
	char **plain;   /* partitions positively not under dm-crypt */
	char **unclear; /* partitions whose stack cannot be judged */
	char **via;     /* mappings or containers that cover */
};

static void cover_one(const struct block_graph *g, int dev, struct coverage *c)
{
	const char *via = NULL;

	switch (covered_from_above(g, dev, &via)) {
	case TRI_TRUE:
		(void)strv_extend(&c->via, via);
		break;
	case TRI_FALSE:
		(void)strv_extend(&c->plain, blockdev_display(&g->devs[dev]));
		break;
	default:
		(void)strv_extend(&c->unclear, blockdev_display(&g->devs[dev]));
	}
}

/* Judges the partitions of disk (or the disk itself when unpartitioned). */
static void temp_coverage(const struct block_graph *g, int disk, struct coverage *c)
{
	bool has_parts = false;

	for (size_t i = 0; i < g->n_devs; i++)
		if (g->devs[i].kind == BLK_PART && g->devs[i].parent == disk) {
			has_parts = true;
			cover_one(g, (int)i, c);
		}
	if (!has_parts)
		cover_one(g, disk, c);
}

void temp_verdict_done(struct temp_verdict *v)
{
	free(v->summary);
	if (v->evidence)
		json_object_put(v->evidence);
	*v = (struct temp_verdict){ 0 };
}

static void verdict_set(struct temp_verdict *v, enum check_status st, const char *basis, char *summary)
{
	v->status = st;
	v->basis = basis;
	v->summary = summary;
	if (basis)
		evidence_add_str(v->evidence, "basis", basis);
}

void temp_disk_judge(const struct facts *f, const struct policy *p, int disk, struct temp_verdict *ret)
{
	const struct blockdev *d = &f->graph.devs[disk];
	const char *eah_why = NULL, *plat_why = NULL;
	enum tristate eah = eah_established(f, &eah_why), plat;
	struct coverage c = { 0 };
	_cleanup_free_ char *list = NULL, *unclear = NULL, *via = NULL;
	json_object *e = evidence_block(f);

	*ret = (struct temp_verdict){ .status = CHECK_UNKNOWN, .evidence = e };
	evidence_add_str(e, "device", d->devnode);
	evidence_add_str(e, "role_evidence", d->role_evidence);
	evidence_add_tristate(e, "encryption_at_host", eah);
	if (eah != TRI_TRUE && eah_why)
		evidence_add_str(e, "encryption_at_host_reason", eah_why);
	if (eah == TRI_TRUE) {
		verdict_set(ret, CHECK_PASS, "encryption_at_host",
			    strprintf("%s is encrypted by encryption at host.", blockdev_display(d)));
		return;
	}
	temp_coverage(&f->graph, disk, &c);
	evidence_add_strv(e, "unencrypted", c.plain);
	evidence_add_strv(e, "undetermined", c.unclear);
	evidence_add_strv(e, "dm_crypt", c.via);
	list = strv_join(c.plain, ", ");
	unclear = strv_join(c.unclear, ", ");
	via = strv_join(c.via, ", ");
	plat = platform_temp_established(f, p, e, &plat_why);
	evidence_add_str(e, "platform_reason", plat_why);
	if (!c.plain && !c.unclear)
		verdict_set(ret, CHECK_PASS, "dm_crypt",
			    strprintf("Every partition of %s lies under an open dm-crypt mapping (%s).",
				      blockdev_display(d), strna(via)));
	else if (plat == TRI_TRUE)
		verdict_set(ret, CHECK_PASS, "platform_v5",
			    strprintf("%s is encrypted at rest by the platform: %s (%s); the policy trusts this (trust_platform_temp_encryption).",
				      blockdev_display(d), plat_why, strna(f->imds.instance.vm_size)));
	else if (c.plain && eah == TRI_FALSE && plat == TRI_FALSE)
		verdict_set(ret, CHECK_FAIL, "plain_device",
			    strprintf("Encryption at host is off, %s, and %s is not under an open dm-crypt mapping.",
				      plat_why, strna(list)));
	else if (c.plain)
		verdict_set(ret, CHECK_UNKNOWN, NULL,
			    strprintf("%s is not under dm-crypt, and whether the platform encrypts it could not be established: %s.",
				      strna(list), eah == TRI_FALSE ? plat_why : strna(eah_why)));
	else
		verdict_set(ret, CHECK_UNKNOWN, NULL,
			    strprintf("Whether %s lies under dm-crypt could not be established (a device-mapper device above it has no readable dm/uuid).",
				      strna(unclear)));
	strv_free(c.plain);
	strv_free(c.unclear);
	strv_free(c.via);
}

static void temp_one(const struct facts *f, const struct policy *p, int disk, struct check_results *out)
{
	struct temp_verdict v;
	char subject[32];

	temp_subject(&f->graph.devs[disk], subject, sizeof(subject));
	temp_disk_judge(f, p, disk, &v);
	check_results_add(out, CHECK_DISK_TEMP, subject, v.status, TAKE_PTR(v.evidence), "%s",
			  v.summary ? v.summary : "out of memory");
	temp_verdict_done(&v);
}

/* An Azure disk whose role could not be derived: it may be the temp disk. */
static const struct blockdev *unplaced_azure_disk(const struct facts *f)
{
	for (size_t i = 0; i < f->graph.n_devs; i++) {
		const struct blockdev *d = &f->graph.devs[i];

		if (d->kind == BLK_DISK && d->azure && d->role == ROLE_OTHER)
			return d;
	}
	return NULL;
}

/* No temp disk was identified: is that a fact, or a gap in the evidence? */
static void temp_none(const struct facts *f, const struct policy *p, struct check_results *out)
{
	const char *why = imds_unusable_reason(f), *eah_why = NULL, *plat_why = NULL;
	const struct blockdev *unplaced = unplaced_azure_disk(f);
	json_object *e = evidence_imds(f);

	if (!why && f->imds.instance.resource_disk_mb > 0) {
		enum tristate plat = platform_temp_established(f, p, e, &plat_why);

		if (eah_established(f, &eah_why) == TRI_TRUE) {
			evidence_add_str(e, "basis", "encryption_at_host");
			check_results_add(out, CHECK_DISK_TEMP, "resource", CHECK_PASS, e,
					  "The resource disk was not identified, but encryption at host covers it.");
		} else if (plat == TRI_TRUE) {
			evidence_add_str(e, "basis", "platform_v5");
			check_results_add(out, CHECK_DISK_TEMP, "resource", CHECK_PASS, e,
					  "The resource disk was not identified, but the platform encrypts it: %s (%s).",
					  plat_why, strna(f->imds.instance.vm_size));
		} else {
			check_results_add(out, CHECK_DISK_TEMP, "resource", CHECK_UNKNOWN, e,
					  "IMDS reports a %" PRIu64
					  " MiB resource disk but no block device was identified as it.",
					  f->imds.instance.resource_disk_mb);
		}
		return;
	}
	if (why && f->on_azure != TRI_FALSE) {
		check_results_add(out, CHECK_DISK_TEMP, "resource", CHECK_UNKNOWN, e,
				  "No temp disk was identified, and IMDS could not confirm there is none: %s.",
				  why);
		return;
	}
	if (!why && !f->imds.instance.has_resource_disk && unplaced) {
		evidence_add_str(e, "unplaced_disk", unplaced->devnode);
		check_results_add(out, CHECK_DISK_TEMP, "resource", CHECK_UNKNOWN, e,
				  "IMDS gives no resourceDisk and %s is an Azure disk whose role could not be derived: it may be the temp disk.",
				  blockdev_display(unplaced));
		return;
	}
	check_results_add(out, CHECK_DISK_TEMP, "resource", CHECK_NOT_APPLICABLE, e,
			  "This node has no resource (temp) disk or local NVMe disk.");
}

void check_disk_temp(const struct facts *f, const struct policy *p, struct check_results *out)
{
	bool resource = false, local = false;

	if (f->block.status != SOURCE_OK) {
		check_results_add(out, CHECK_DISK_TEMP, "resource", CHECK_UNKNOWN, evidence_block(f),
				  "Block devices could not be listed: %s.", strna(f->block.error));
		return;
	}
	for (size_t i = 0; i < f->graph.n_devs; i++) {
		const struct blockdev *d = &f->graph.devs[i];

		if (d->kind == BLK_DISK && (d->role == ROLE_RESOURCE || d->role == ROLE_LOCAL)) {
			temp_one(f, p, (int)i, out);
			resource = resource || d->role == ROLE_RESOURCE;
			local = local || d->role == ROLE_LOCAL;
		}
	}
	/* `resource` is always reported, so dashboards see a stable subject. */
	if (!resource && local)
		check_results_add(out, CHECK_DISK_TEMP, "resource", CHECK_NOT_APPLICABLE,
				  evidence_block(f),
				  "No SCSI resource disk: this VM size has local NVMe disks instead (local:N).");
	else if (!resource)
		temp_none(f, p, out);
}

/* ---- path.dm_crypt and swap.encrypted -------------------------------- */

/* Judges what holds a subject, every part of it; `what` names it in
 * sentences. Every pass and fail names its basis. */
static void judge_backing(const struct facts *f, enum check_id id, const char *subject,
			  const char *what, const struct backing *b, bool memory_ok, json_object *e,
			  struct check_results *out)
{
	struct crypt_walk w;

	if (b->mount)
		evidence_add_str(e, "mountpoint", b->mount->mountpoint);
	if (b->mount)
		evidence_add_str(e, "fstype", b->mount->fstype);
	backing_walk(f, b, memory_ok, &w);
	evidence_add_strv(e, "devices", w.devices);
	if (w.devices && w.devices[0] && !w.devices[1])
		evidence_add_str(e, "device", w.devices[0]);
	evidence_add_strv(e, "mappings", w.mappings);
	if (w.encrypted != TRI_UNKNOWN)
		evidence_add_str(e, "basis", w.basis);
	if (w.encrypted == TRI_TRUE && streq_ptr(w.basis, "dm_crypt"))
		check_results_add(out, id, subject, CHECK_PASS, e, "%s is on dm-crypt (%s).", what,
				  w.mappings && w.mappings[0] ? w.mappings[0] : "?");
	else if (w.encrypted == TRI_TRUE && streq_ptr(w.basis, "zram"))
		check_results_add(out, id, subject, CHECK_PASS, e,
				  "%s is on zram (compressed RAM, nothing written to disk).", what);
	else if (w.encrypted == TRI_TRUE)
		check_results_add(out, id, subject, CHECK_PASS, e, "%s is in memory only.", what);
	else if (w.encrypted == TRI_FALSE)
		check_results_add(out, id, subject, CHECK_FAIL, e, "%s is not encrypted: %s.", what,
				  strna(w.reason));
	else
		check_results_add(out, id, subject, CHECK_UNKNOWN, e,
				  "Whether %s is encrypted could not be established: %s.", what,
				  strna(w.reason));
	crypt_walk_done(&w);
}

void check_path_dmcrypt(const struct facts *f, const struct policy *p, struct check_results *out)
{
	for (size_t i = 0; i < f->n_paths; i++) {
		const struct path_fact *pf = &f->paths[i];
		json_object *e = evidence_new("mountinfo");
		struct backing b;

		if (pf->error < 0) {
			evidence_add_str(e, "error", strerror(-pf->error));
			check_results_add(out, CHECK_PATH_DMCRYPT, pf->path, CHECK_UNKNOWN, e,
					  "%s could not be found (%s); create it or remove it from required_paths.",
					  pf->path, strerror(-pf->error));
			continue;
		}
		evidence_add_str(e, "resolved", pf->resolved);
		resolve_path_backing(f, pf->resolved, &b);
		judge_backing(f, CHECK_PATH_DMCRYPT, pf->path, pf->path, &b, false, e, out);
		backing_done(&b);
	}
}

/* The whole disks under dev (a partition counts as its disk). False when
 * some way down cannot be followed to a disk. */
static bool leaf_disks(const struct block_graph *g, int dev, unsigned depth, int **v, size_t *n)
{
	const struct blockdev *d;

	if (dev < 0 || (size_t)dev >= g->n_devs || depth > 16)
		return false;
	d = &g->devs[dev];
	if (d->kind == BLK_PART)
		dev = d->parent;
	if (d->kind == BLK_PART || d->kind == BLK_DISK) {
		if (dev < 0)
			return false;
		for (size_t i = 0; i < *n; i++)
			if ((*v)[i] == dev)
				return true;
		int *nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv)
			return false;
		*v = nv;
		(*v)[(*n)++] = dev;
		return true;
	}
	if (d->missing_slaves || d->links_error || d->n_slaves == 0)
		return false;
	for (size_t k = 0; k < d->n_slaves; k++)
		if (!leaf_disks(g, d->slaves[k], depth + 1, v, n))
			return false;
	return true;
}

/* Swap that lies only on temp disks is as encrypted as they are
 * (CONTRACT: swap.encrypted passes while disk.temp_encrypted passes for
 * that disk). Returns true when it added the result. */
static bool swap_on_temp(const struct facts *f, const struct policy *p, const char *subject,
			 const char *what, const struct backing *b, json_object *e,
			 struct check_results *out)
{
	_cleanup_free_ int *disks = NULL;
	size_t n = 0;
	struct temp_verdict v[8] = { 0 };
	size_t nv = 0;
	enum check_status st = CHECK_PASS;
	const char *basis = NULL, *why = NULL;
	bool added = false;

	if (b->n_parts == 0)
		return false;
	/* On dm-crypt (or zram) of its own: the ordinary judgement says so. */
	{
		struct crypt_walk w;
		bool own;

		backing_walk(f, b, true, &w);
		own = w.encrypted == TRI_TRUE;
		crypt_walk_done(&w);
		if (own)
			return false;
	}
	for (size_t i = 0; i < b->n_parts; i++)
		if (b->parts[i].kind != BACKING_DEVICE ||
		    !leaf_disks(&f->graph, b->parts[i].dev, 0, &disks, &n))
			return false;
	if (n == 0 || n > ARRAY_SIZE(v))
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct blockdev *d = &f->graph.devs[disks[i]];

		if (d->kind != BLK_DISK || (d->role != ROLE_RESOURCE && d->role != ROLE_LOCAL))
			return false;
	}
	for (size_t i = 0; i < n; i++) {
		temp_disk_judge(f, p, disks[i], &v[nv]);
		nv++;
		if (v[nv - 1].status == CHECK_FAIL) {
			st = CHECK_FAIL;
		} else if (v[nv - 1].status != CHECK_PASS && st == CHECK_PASS) {
			st = CHECK_UNKNOWN;
			why = v[nv - 1].summary;
		} else if (v[nv - 1].status == CHECK_PASS && !basis) {
			basis = v[nv - 1].basis;
		}
	}
	/* A plain temp disk: the ordinary walk says which device is plain. */
	if (st != CHECK_FAIL) {
		_cleanup_free_ char *devs = NULL;
		char **names = NULL;

		for (size_t i = 0; i < n; i++)
			(void)strv_extend(&names, f->graph.devs[disks[i]].devnode);
		devs = strv_join(names, ", ");
		evidence_add_strv(e, "temp_disks", names);
		strv_free(names);
		if (b->mount) {
			evidence_add_str(e, "mountpoint", b->mount->mountpoint);
			evidence_add_str(e, "fstype", b->mount->fstype);
		}
		if (st == CHECK_PASS) {
			evidence_add_str(e, "basis", "temp_disk");
			evidence_add_str(e, "temp_disk_basis", basis);
			check_results_add(out, CHECK_SWAP, subject, CHECK_PASS, e,
					  "%s lies on the temp disk %s, which disk.temp_encrypted passes (%s).",
					  what, strna(devs), strna(basis));
		} else {
			check_results_add(out, CHECK_SWAP, subject, CHECK_UNKNOWN, e,
					  "%s lies on the temp disk %s, whose encryption could not be established: %s",
					  what, strna(devs), strna(why));
		}
		added = true;
	}
	for (size_t i = 0; i < nv; i++)
		temp_verdict_done(&v[i]);
	return added;
}

void check_swap(const struct facts *f, const struct policy *p, struct check_results *out)
{
	if (f->swaps_src.status != SOURCE_OK) {
		json_object *e = evidence_new("proc_swaps");

		evidence_add_str(e, "error", f->swaps_src.error);
		check_results_add(out, CHECK_SWAP, "swap", CHECK_UNKNOWN, e,
				  "/proc/swaps could not be read: %s.", strna(f->swaps_src.error));
		return;
	}
	if (f->swaps.n == 0) {
		check_results_add(out, CHECK_SWAP, "swap", CHECK_NOT_APPLICABLE,
				  evidence_new("proc_swaps"), "No swap is active.");
		return;
	}
	for (size_t i = 0; i < f->swaps.n; i++) {
		const struct swap_entry *s = &f->swaps.v[i];
		json_object *e = evidence_new("proc_swaps");
		_cleanup_free_ char *what = strprintf("swap %s", s->filename);
		struct backing b;

		evidence_add_str(e, "type", s->type);
		resolve_swap_backing(f, s, &b);
		if (!swap_on_temp(f, p, s->filename, what ? what : s->filename, &b, e, out))
			judge_backing(f, CHECK_SWAP, s->filename, what ? what : s->filename, &b,
				      true, e, out);
		backing_done(&b);
	}
}
