/* SPDX-License-Identifier: Apache-2.0 */
/* Hand-built facts and reports for the daemon's tests (no gathering). */
#include "config.h"

#include "tests/daemon-fixture.h"

static void add_dev(struct block_graph *g, const char *name, enum blk_kind kind,
		    enum azure_role role, int lun)
{
	struct blockdev *d = &g->devs[g->n_devs++];

	*d = (struct blockdev){
		.name = strdup(name),
		.devnode = strprintf("/dev/%s", name),
		.kind = kind,
		.role = role,
		.lun = lun,
		.parent = -1,
		.azure = role != ROLE_OTHER,
	};
}

static void set_crypt(struct blockdev *d, const char *dm_name, const char *type, const char *cipher,
		      const char *mode, unsigned bits)
{
	d->dm_name = strdup(dm_name);
	d->dm_crypt = true;
	d->crypt = (struct crypt_params){
		.source = CRYPT_SRC_ACTIVE,
		.type = strdup_or_null(type),
		.cipher = strdup_or_null(cipher),
		.mode = strdup_or_null(mode),
		.key_bits = bits,
	};
}

static void fixture_bench(struct bench_result *b)
{
	static const struct bench_sample s[] = {
		{ "kernel", 512, 1, 2.5e9, 2.45e9, 0.2, 0.2, false },
		{ "kernel", 256, 1, 3.0e9, 2.95e9, 0.2, 0.2, false },
		{ "openssl", 512, 1, 3125000000.5, 3.1e9, 0.2, 0.2, false },
		{ "openssl", 512, 2, 6.1e9, 6.0e9, 0.4, 0.2, false },
	};

	*b = (struct bench_result){
		.status = SOURCE_OK,
		.ran_at = 1700000000,
		.engine = "kernel",
		.key_bits = 512,
		.encrypt_bytes_per_second = 2.5e9,
		.decrypt_bytes_per_second = 2.45e9,
		.n_samples = ARRAY_SIZE(s),
	};
	b->samples = malloc(sizeof(s));
	memcpy(b->samples, s, sizeof(s));
}

/* Two pods on the node: db-0's PV on LUN 0, an emptyDir on the OS disk and
 * a token in tmpfs; web-1's PV, whose name needs escaping, that cannot be
 * placed, and a second emptyDir left out by a cap of three series. */
static void fixture_kube(struct kube_facts *k)
{
	static const struct {
		unsigned pod;
		const char *name;
		enum kube_volume_kind kind;
		const char *pv, *subject;
		enum kube_backing backing;
		bool metric;
	} vols[] = {
		{ 0, "pvc-5a0f3c2e-8d4b-4e1f-9c6a-1b2d3e4f5a6b", KVOL_CSI,
		  "pvc-5a0f3c2e-8d4b-4e1f-9c6a-1b2d3e4f5a6b", "lun:0", KUBE_ON_DISK, true },
		{ 0, "scratch", KVOL_EMPTY_DIR, NULL, "os", KUBE_ON_DISK, true },
		{ 0, "kube-api-access-9xk2p", KVOL_PROJECTED, NULL, NULL, KUBE_IN_MEMORY, false },
		{ 1, "pv-\"odd\"", KVOL_CSI, "pv-\"odd\"", NULL, KUBE_UNKNOWN, true },
		{ 1, "cache", KVOL_EMPTY_DIR, NULL, "os", KUBE_ON_DISK, false },
	};
	static const char *const pods[][3] = {
		{ "shop", "db-0", "1c7e2f3a-4b5d-4e6f-8a9b-0c1d2e3f4a5b" },
		{ "shop", "web-1", "7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e" },
	};
	struct kubelet_state *ks = &k->kubelet;

	*k = (struct kube_facts){ .enabled = true,
				  .node_name = strdup("aks-node-0"),
				  .max_series = 3,
				  .series = 3,
				  .series_dropped = 1 };
	ks->present = true;
	ks->root = strdup("/var/lib/kubelet");
	ks->pods = calloc(ARRAY_SIZE(pods), sizeof(*ks->pods));
	k->pods = calloc(ARRAY_SIZE(pods), sizeof(*k->pods));
	for (size_t i = 0; i < ARRAY_SIZE(pods); i++) {
		struct kubelet_pod *p = &ks->pods[ks->n_pods++];

		p->namespace = strdup(pods[i][0]);
		p->name = strdup(pods[i][1]);
		p->uid = strdup(pods[i][2]);
		p->volumes = calloc(ARRAY_SIZE(vols), sizeof(*p->volumes));
		k->pods[k->n_pods].p = p;
		k->pods[k->n_pods++].volumes = calloc(ARRAY_SIZE(vols),
						      sizeof(struct kube_volume_fact));
	}
	for (size_t i = 0; i < ARRAY_SIZE(vols); i++) {
		struct kubelet_pod *p = &ks->pods[vols[i].pod];
		struct kube_pod_fact *pf = &k->pods[vols[i].pod];
		struct kubelet_volume *v = &p->volumes[p->n_volumes++];
		struct kube_volume_fact *vf = &pf->volumes[pf->n_volumes++];

		*v = (struct kubelet_volume){ .kind = vols[i].kind, .name = strdup(vols[i].name) };
		*vf = (struct kube_volume_fact){ .v = v,
						 .pv = strdup_or_null(vols[i].pv),
						 .metric = vols[i].metric };
		vf->place.backing = vols[i].backing;
		if (vols[i].subject)
			(void)strv_extend(&vf->place.subjects, vols[i].subject);
	}
}

void fixture_facts(struct facts *f)
{
	struct block_graph *g = &f->graph;

	*f = (struct facts){ .hostname = strdup("aks-node-0"), .on_azure = TRI_TRUE };
	f->imds.status = SOURCE_OK;
	f->arm.status = SOURCE_OFF;
	f->block.status = SOURCE_OK;
	g->devs = calloc(8, sizeof(*g->devs));
	add_dev(g, "sda", BLK_DISK, ROLE_OS, -1);
	add_dev(g, "sdb", BLK_DISK, ROLE_RESOURCE, -1);
	add_dev(g, "sdc", BLK_DISK, ROLE_DATA, 0);
	add_dev(g, "sdc1", BLK_PART, ROLE_OTHER, -1);
	add_dev(g, "nvme0n1", BLK_DISK, ROLE_LOCAL, -1);
	add_dev(g, "dm-0", BLK_DM, ROLE_OTHER, -1);
	set_crypt(&g->devs[5], "data-crypt", "LUKS2", "aes", "xts-plain64", 512);
	add_dev(g, "dm-1", BLK_DM, ROLE_OTHER, -1);
	set_crypt(&g->devs[6], FIXTURE_ODD_SUBJECT, NULL, NULL, NULL, 0);
	fixture_bench(&f->bench);
	fixture_kube(&f->kube);
	f->gathered_at = FIXTURE_GENERATED_AT;
	f->gather_seconds = 0.25;
}

void fixture_facts_done(struct facts *f)
{
	for (size_t i = 0; i < f->graph.n_devs; i++) {
		struct blockdev *d = &f->graph.devs[i];

		free(d->name);
		free(d->devnode);
		free(d->dm_name);
		free(d->crypt.type);
		free(d->crypt.cipher);
		free(d->crypt.mode);
	}
	free(f->graph.devs);
	free(f->bench.samples);
	free(f->hostname);
	kube_facts_done(&f->kube);
	*f = (struct facts){};
}

struct fixture_result {
	enum check_id check;
	const char *subject;
	enum check_status status[2]; /* per variant */
	enum severity severity;
	const char *summary;
};

static const struct fixture_result results[] = {
	{ CHECK_HOST_EAH,
	  "node",
	  { CHECK_PASS, CHECK_UNKNOWN },
	  SEV_CRITICAL,
	  "IMDS says encryption at host is on." },
	{ CHECK_DISK_CMK, "os", { CHECK_UNKNOWN, CHECK_UNKNOWN }, SEV_INFO, "ARM is off: enable it with --arm on." },
	{ CHECK_DISK_CMK,
	  "lun:0",
	  { CHECK_UNKNOWN, CHECK_UNKNOWN },
	  SEV_INFO,
	  "ARM is off: enable it with --arm on." },
	{ CHECK_DISK_TEMP,
	  "resource",
	  { CHECK_PASS, CHECK_PASS },
	  SEV_CRITICAL,
	  "Encryption at host covers the temporary disk." },
	{ CHECK_DMCRYPT_CIPHER,
	  "data-crypt",
	  { CHECK_PASS, CHECK_PASS },
	  SEV_CRITICAL,
	  "aes-xts-plain64 with a 512-bit key." },
	{ CHECK_DMCRYPT_CIPHER,
	  FIXTURE_ODD_SUBJECT,
	  { CHECK_FAIL, CHECK_PASS },
	  SEV_CRITICAL,
	  "Cipher <none> & key \"0\" bits." },
	{ CHECK_PATH_DMCRYPT,
	  "/var/lib/kubelet",
	  { CHECK_PASS, CHECK_PASS },
	  SEV_CRITICAL,
	  "/var/lib/kubelet is on data-crypt." },
	{ CHECK_SWAP, "swap", { CHECK_NOT_APPLICABLE, CHECK_NOT_APPLICABLE }, SEV_WARNING, "No swap is active." },
	{ CHECK_ADE,
	  "os",
	  { CHECK_NOT_APPLICABLE, CHECK_NOT_APPLICABLE },
	  SEV_WARNING,
	  "IMDS says ADE is not enabled." },
	{ CHECK_IMDS_DISKS, "node", { CHECK_PASS, CHECK_PASS }, SEV_WARNING, "Every IMDS disk is present." },
	{ CHECK_BENCH,
	  "aes-xts-plain64:512",
	  { CHECK_NOT_APPLICABLE, CHECK_NOT_APPLICABLE },
	  SEV_INFO,
	  "No minimum throughput is set." },
};

void fixture_report(struct report *r, const struct facts *f, int variant)
{
	*r = (struct report){
		.facts = f,
		.verdict = variant == 0 ? VERDICT_NONCOMPLIANT : VERDICT_INDETERMINATE,
		.generated_at = FIXTURE_GENERATED_AT,
	};
	r->results.v = calloc(ARRAY_SIZE(results), sizeof(*r->results.v));
	for (size_t i = 0; i < ARRAY_SIZE(results); i++)
		r->results.v[r->results.n++] = (struct check_result){
			.check = results[i].check,
			.subject = strdup(results[i].subject),
			.status = results[i].status[variant ? 1 : 0],
			.severity = results[i].severity,
			.summary = strdup(results[i].summary),
		};
}

void fixture_report_done(struct report *r)
{
	for (size_t i = 0; i < r->results.n; i++) {
		free(r->results.v[i].subject);
		free(r->results.v[i].summary);
	}
	free(r->results.v);
	*r = (struct report){};
}

struct evaluation *fixture_evaluation(int variant)
{
	struct evaluation *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	fixture_facts(&e->facts);
	fixture_report(&e->report, &e->facts, variant);
	return e;
}

void fixture_evaluation_free(struct evaluation *e)
{
	if (!e)
		return;
	fixture_report_done(&e->report);
	fixture_facts_done(&e->facts);
	free(e);
}
