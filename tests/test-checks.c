/* SPDX-License-Identifier: Apache-2.0 */
/* Table-driven tests of the check catalogue: every status of every check,
 * over facts built by hand (checks are pure functions of facts). */
#include "config.h"

#include "agent/checks/checks.h"
#include "lib/strutil.h"
#include "tests/tap.h"

static struct facts F;
static struct policy P;

/* ---- builders -------------------------------------------------------- */

static void reset(void)
{
	facts_done(&F);
	policy_done(&P);
	(void)!policy_init_default(&P);
	F = (struct facts){ .on_azure = TRI_TRUE };
	F.block.status = F.mounts_src.status = F.swaps_src.status = SOURCE_OK;
	F.arm.status = SOURCE_OFF;
	F.arm.error = strdup("ARM lookup not available");
	F.bench.status = SOURCE_OFF;
	F.graph.devs = calloc(64, sizeof(struct blockdev));
	F.mounts.v = calloc(32, sizeof(struct mount_entry));
	F.swaps.v = calloc(16, sizeof(struct swap_entry));
}

static struct imds_instance *imds_ok(enum tristate eah)
{
	struct imds_instance *in = &F.imds.instance;

	F.imds.status = SOURCE_OK;
	F.imds.have_instance = true;
	F.imds.api_version = strdup("2023-07-01");
	in->has_security_profile = true;
	in->encryption_at_host = eah;
	in->encryption_at_host_raw = eah == TRI_UNKNOWN ? NULL :
							  strdup(eah == TRI_TRUE ? "true" : "false");
	in->has_storage_profile = in->has_os_disk = true;
	in->os_disk.name = strdup("osdisk");
	in->os_disk.managed_disk_id = strdup(
		"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/osdisk");
	in->os_disk.ade_enabled = TRI_FALSE;
	/* A size older than v5: no platform temp-disk encryption. */
	in->vm_size = strdup("Standard_DS3_v2");
	return in;
}

static void imds_down(void)
{
	F.imds.status = SOURCE_UNREACHABLE;
	F.imds.error = strdup("IMDS did not answer within 1.0 s");
}

static void imds_add_data(int lun)
{
	struct imds_instance *in = &F.imds.instance;

	in->data_disks = realloc(in->data_disks, (in->n_data_disks + 1) * sizeof(*in->data_disks));
	in->data_disks[in->n_data_disks++] = (struct imds_disk){
		.lun = lun,
		.name = strprintf("data%d", lun),
		.managed_disk_id = strprintf("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/data%d",
					     lun),
	};
}

static int dev(const char *name, enum blk_kind kind, unsigned major, unsigned minor)
{
	struct blockdev *d = &F.graph.devs[F.graph.n_devs];

	*d = (struct blockdev){ .kind = kind, .major = major, .minor = minor, .parent = -1, .lun = -1 };
	d->name = strdup(name);
	d->devnode = strprintf("/dev/%s", name);
	return (int)F.graph.n_devs++;
}

static int disk(const char *name, enum azure_role role, int lun, unsigned minor)
{
	int i = dev(name, BLK_DISK, 8, minor);

	F.graph.devs[i].role = role;
	F.graph.devs[i].lun = lun;
	F.graph.devs[i].azure = role != ROLE_OTHER;
	F.graph.devs[i].local_index = role == ROLE_LOCAL ? 1 : 0;
	return i;
}

static int part(int parent, const char *name, unsigned minor)
{
	int i = dev(name, BLK_PART, 8, minor);

	F.graph.devs[i].parent = parent;
	return i;
}

static void push(int **v, size_t *n, int x)
{
	*v = realloc(*v, (*n + 1) * sizeof(int));
	(*v)[(*n)++] = x;
}

static void stack(int upper, int lower)
{
	push(&F.graph.devs[upper].slaves, &F.graph.devs[upper].n_slaves, lower);
	push(&F.graph.devs[lower].holders, &F.graph.devs[lower].n_holders, upper);
}

static int mkcrypt(const char *name, unsigned minor, int backing, const char *cipher,
		   const char *mode, unsigned bits)
{
	char kname[16];
	int i;
	struct blockdev *d;

	snprintf(kname, sizeof(kname), "dm-%u", minor);
	i = dev(kname, BLK_DM, 253, minor);
	d = &F.graph.devs[i];
	d->dm_name = strdup(name);
	d->dm_uuid = strprintf("CRYPT-LUKS2-0123-%s", name);
	d->dm_crypt = true;
	d->crypt.type = strdup("LUKS2");
	if (cipher) {
		d->crypt.source = CRYPT_SRC_HEADER;
		d->crypt.cipher = strdup(cipher);
		d->crypt.mode = strdup(mode);
		d->crypt.key_bits = bits;
		d->crypt.reencrypt = REENCRYPT_NONE; /* the header says none is pending */
	} else {
		d->crypt.error = strdup("no header");
	}
	if (backing >= 0)
		stack(i, backing);
	return i;
}

static int lvm(const char *name, unsigned minor)
{
	char kname[16];
	int i;

	snprintf(kname, sizeof(kname), "dm-%u", minor);
	i = dev(kname, BLK_DM, 253, minor);

	F.graph.devs[i].dm_name = strdup(name);
	F.graph.devs[i].dm_uuid = strdup("LVM-abc");
	return i;
}

/* The id of the mount that a new mount at mp lands on, as mountinfo shows
 * it: the last mount on the longest prefix of mp (1 for the root). */
static int parent_of(const char *mp)
{
	size_t best = 0;
	int id = 1;

	for (size_t i = 0; i < F.mounts.n; i++) {
		const char *m = F.mounts.v[i].mountpoint;
		size_t l = strlen(m);

		if (streq(m, "/") ? best == 0 :
		    (startswith(mp, m) && (mp[l] == '/' || mp[l] == '\0') && l >= best)) {
			best = streq(m, "/") ? 1 : l;
			id = F.mounts.v[i].id;
		}
	}
	return id;
}

static void mount(const char *mp, const char *fstype, unsigned major, unsigned minor)
{
	struct mount_entry *m;

	/* Every booted system has a root mount; a test that does not name one
	 * gets a root filesystem on a device outside the graph. */
	if (F.mounts.n == 0 && !streq(mp, "/")) {
		m = &F.mounts.v[F.mounts.n++];
		*m = (struct mount_entry){ .id = 20, .parent_id = 1, .major = 8, .minor = 1 };
		m->mountpoint = strdup("/");
		m->fstype = strdup("ext4");
		m->source = strdup("/dev/root");
		m->root = strdup("/");
	}
	m = &F.mounts.v[F.mounts.n];
	*m = (struct mount_entry){ .id = (int)F.mounts.n + 20, .parent_id = parent_of(mp),
				   .major = major, .minor = minor };
	m->mountpoint = strdup(mp);
	m->fstype = strdup(fstype);
	m->source = strdup(major ? "/dev/x" : fstype);
	m->root = strdup("/");
	F.mounts.n++;
}

static void swap(const char *file, const char *type)
{
	struct swap_entry *s = &F.swaps.v[F.swaps.n++];

	*s = (struct swap_entry){ .size_kib = 1024 };
	s->filename = strdup(file);
	s->type = strdup(type);
}

static void require(const char *path, int error)
{
	F.paths = realloc(F.paths, (F.n_paths + 1) * sizeof(*F.paths));
	F.paths[F.n_paths++] = (struct path_fact){ .path = strdup(path),
						   .error = error,
						   .resolved = error ? NULL : strdup(path) };
}

/* ---- running one check ----------------------------------------------- */

static struct check_results OUT;

static const struct check_result *run(enum check_id id, const char *subject)
{
	check_results_done(&OUT);
	check_run_one(id, &F, &P, &OUT);
	for (size_t i = 0; i < OUT.n; i++)
		if (streq(OUT.v[i].subject, subject))
			return &OUT.v[i];
	return NULL;
}

#define expect(id, subject, want, what)                                                               \
	do {                                                                                          \
		const struct check_result *_r = run(id, subject);                                     \
		if (!ok(_r && _r->status == (want), "%s %s: %s -> %s", check_name(id), subject,       \
			what, check_status_to_string(want)))                                          \
			tap_diag("got %s: %s", _r ? check_status_to_string(_r->status) : "no result", \
				 _r ? _r->summary : "");                                              \
	} while (0)

/* As expect, and the result names basis in its evidence. */
#define expect_basis(id, subject, want, basis, what)                                                   \
	do {                                                                                           \
		const struct check_result *_r = run(id, subject);                                      \
		json_object *_b = NULL;                                                                \
		const char *_got = _r && json_object_object_get_ex(_r->evidence, "basis", &_b) ?       \
					   json_object_get_string(_b) :                                \
					   "-";                                                        \
		if (!ok(_r && _r->status == (want) && streq_ptr(_got, basis), "%s %s: %s -> %s on %s", \
			check_name(id), subject, what, check_status_to_string(want), basis))           \
			tap_diag("got %s on %s: %s",                                                   \
				 _r ? check_status_to_string(_r->status) : "no result", _got,          \
				 _r ? _r->summary : "");                                               \
	} while (0)

static void vm_size(const char *size)
{
	free(F.imds.instance.vm_size);
	F.imds.instance.vm_size = size ? strdup(size) : NULL;
}

/* ---- the tables ------------------------------------------------------ */

static void test_eah(void)
{
	reset();
	imds_down();
	expect(CHECK_HOST_EAH, "node", CHECK_UNKNOWN, "IMDS unreachable");
	reset();
	imds_ok(TRI_TRUE);
	expect(CHECK_HOST_EAH, "node", CHECK_PASS, "encryptionAtHost true");
	reset();
	imds_ok(TRI_FALSE);
	expect(CHECK_HOST_EAH, "node", CHECK_FAIL, "encryptionAtHost false");
	reset();
	imds_ok(TRI_UNKNOWN);
	expect(CHECK_HOST_EAH, "node", CHECK_UNKNOWN, "field absent (old api-version)");
	reset();
	imds_ok(TRI_UNKNOWN);
	F.imds.instance.encryption_at_host_raw = strdup("yes");
	expect(CHECK_HOST_EAH, "node", CHECK_UNKNOWN, "unexpected value");
	reset();
	imds_ok(TRI_TRUE);
	F.imds.status = SOURCE_ERROR;
	F.imds.error = strdup("bad JSON");
	expect(CHECK_HOST_EAH, "node", CHECK_UNKNOWN, "IMDS error even with a stale instance");
	reset();
	imds_ok(TRI_TRUE);
	F.arm.status = SOURCE_OK;
	F.arm.encryption_at_host = TRI_FALSE;
	expect(CHECK_HOST_EAH, "node", CHECK_UNKNOWN, "IMDS and ARM disagree");
	reset();
	imds_ok(TRI_FALSE);
	F.arm.status = SOURCE_OK;
	F.arm.encryption_at_host = TRI_TRUE;
	expect(CHECK_HOST_EAH, "node", CHECK_UNKNOWN, "IMDS off, ARM on: they disagree");
	reset();
	imds_ok(TRI_TRUE);
	F.arm.status = SOURCE_OK;
	F.arm.encryption_at_host = TRI_TRUE;
	expect_basis(CHECK_HOST_EAH, "node", CHECK_PASS, "encryption_at_host", "IMDS and ARM agree");
}

static void arm_ok_disk(struct arm_disk *d, const char *type, const char *des)
{
	d->status = SOURCE_OK;
	d->encryption_type = strdup(type);
	d->des_id = des ? strdup(des) : NULL;
}

#define DES1 \
	"/subscriptions/s/resourceGroups/RG/providers/Microsoft.Compute/diskEncryptionSets/des1"

static void test_cmk(void)
{
	reset();
	imds_down();
	expect(CHECK_DISK_CMK, "os", CHECK_UNKNOWN, "IMDS unreachable");
	reset();
	imds_ok(TRI_TRUE);
	imds_add_data(0);
	expect(CHECK_DISK_CMK, "os", CHECK_UNKNOWN, "ARM not available");
	expect(CHECK_DISK_CMK, "lun:0", CHECK_UNKNOWN, "ARM not available, data disk");
	reset();
	imds_ok(TRI_TRUE);
	F.imds.instance.os_disk.diff_disk_option = strdup("Local");
	expect(CHECK_DISK_CMK, "os", CHECK_UNKNOWN,
	       "ephemeral OS disk, ARM off (its DES is on the instance)");
	/* The ARM client fills an ephemeral OS disk from the instance. */
	reset();
	imds_ok(TRI_TRUE);
	F.imds.instance.os_disk.diff_disk_option = strdup("Local");
	F.arm.status = SOURCE_OK;
	F.arm.os_disk.status = SOURCE_OK;
	F.arm.os_disk.ephemeral = true;
	expect_basis(CHECK_DISK_CMK, "os", CHECK_FAIL, "ephemeral_no_des",
		     "ephemeral OS disk, no DES on the instance");
	F.arm.os_disk.des_id = strdup(DES1);
	expect_basis(CHECK_DISK_CMK, "os", CHECK_PASS, "des", "ephemeral OS disk, DES on the instance");
	(void)strv_extend(&P.expected_des,
			  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/other");
	expect_basis(CHECK_DISK_CMK, "os", CHECK_FAIL, "des_mismatch",
		     "ephemeral OS disk, unexpected DES");
	/* Confidential VM: the DES is in securityProfile, the SSE type is a platform key. */
	reset();
	imds_ok(TRI_TRUE);
	F.arm.status = SOURCE_OK;
	arm_ok_disk(&F.arm.os_disk, "EncryptionAtRestWithPlatformKey", NULL);
	F.arm.os_disk.cvm_security_type = strdup("ConfidentialVM_DiskEncryptedWithCustomerKey");
	F.arm.os_disk.cvm_des_id = strdup(DES1);
	expect_basis(CHECK_DISK_CMK, "os", CHECK_PASS, "des",
		     "confidential VM disk with a customer key");
	free(F.arm.os_disk.cvm_des_id);
	F.arm.os_disk.cvm_des_id = NULL;
	expect(CHECK_DISK_CMK, "os", CHECK_UNKNOWN, "confidential customer-key type without a DES");
	free(F.arm.os_disk.cvm_security_type);
	F.arm.os_disk.cvm_security_type = strdup("DiskWithVMGuestState");
	F.arm.os_disk.cvm_des_id = strdup(DES1);
	expect_basis(CHECK_DISK_CMK, "os", CHECK_PASS, "des",
		     "instance securityEncryptionType with a DES");
	free(F.arm.os_disk.cvm_security_type);
	F.arm.os_disk.cvm_security_type = strdup("ConfidentialVM_DiskEncryptedWithPlatformKey");
	expect_basis(CHECK_DISK_CMK, "os", CHECK_FAIL, "platform_key",
		     "confidential VM disk with a platform key");
	reset();
	imds_ok(TRI_TRUE);
	free(F.arm.error);
	F.arm.error = NULL;
	F.arm.status = SOURCE_OK;
	arm_ok_disk(&F.arm.os_disk, "EncryptionAtRestWithPlatformKey", NULL);
	expect(CHECK_DISK_CMK, "os", CHECK_FAIL, "platform key");
	reset();
	imds_ok(TRI_TRUE);
	F.arm.status = SOURCE_OK;
	arm_ok_disk(&F.arm.os_disk, "EncryptionAtRestWithCustomerKey", DES1);
	expect(CHECK_DISK_CMK, "os", CHECK_PASS, "customer key");
	reset();
	imds_ok(TRI_TRUE);
	F.arm.status = SOURCE_OK;
	arm_ok_disk(&F.arm.os_disk, "EncryptionAtRestWithPlatformAndCustomerKeys", DES1);
	(void)strv_extend(&P.expected_des,
			  "/subscriptions/s/resourcegroups/rg/providers/Microsoft.Compute/diskEncryptionSets/DES1");
	expect(CHECK_DISK_CMK, "os", CHECK_PASS, "double encryption, DES matches case-insensitively");
	reset();
	imds_ok(TRI_TRUE);
	F.arm.status = SOURCE_OK;
	arm_ok_disk(&F.arm.os_disk, "EncryptionAtRestWithCustomerKey", DES1);
	(void)strv_extend(&P.expected_des,
			  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/other");
	expect(CHECK_DISK_CMK, "os", CHECK_FAIL, "DES not the expected one");
	reset();
	imds_ok(TRI_TRUE);
	F.arm.status = SOURCE_OK;
	arm_ok_disk(&F.arm.os_disk, "SomethingNew", NULL);
	expect(CHECK_DISK_CMK, "os", CHECK_UNKNOWN, "unknown encryption type");
	reset();
	imds_ok(TRI_TRUE);
	F.arm.status = SOURCE_OK;
	F.arm.os_disk.status = SOURCE_UNAUTHORIZED;
	F.arm.os_disk.error = strdup("403: Microsoft.Compute/disks/read missing");
	expect(CHECK_DISK_CMK, "os", CHECK_UNKNOWN, "403 on the disk");
}

static void test_temp(void)
{
	int r, p1, c;

	reset();
	imds_ok(TRI_FALSE);
	F.block.status = SOURCE_ERROR;
	F.block.error = strdup("no /sys");
	expect(CHECK_DISK_TEMP, "resource", CHECK_UNKNOWN, "block devices unreadable");
	reset();
	imds_ok(TRI_FALSE);
	expect(CHECK_DISK_TEMP, "resource", CHECK_NOT_APPLICABLE, "no temp disk, IMDS reports none");
	reset();
	imds_down();
	expect(CHECK_DISK_TEMP, "resource", CHECK_UNKNOWN, "no temp disk found, IMDS down on Azure");
	reset();
	imds_down();
	F.on_azure = TRI_FALSE;
	expect(CHECK_DISK_TEMP, "resource", CHECK_NOT_APPLICABLE, "no temp disk, not Azure");
	reset();
	imds_ok(TRI_FALSE);
	F.imds.instance.resource_disk_mb = 4096;
	expect(CHECK_DISK_TEMP, "resource", CHECK_UNKNOWN, "IMDS says resource disk, none identified");
	reset();
	imds_ok(TRI_TRUE);
	disk("sdb", ROLE_RESOURCE, -1, 16);
	part(0, "sdb1", 17);
	expect(CHECK_DISK_TEMP, "resource", CHECK_PASS, "encryption at host on");
	reset();
	imds_ok(TRI_FALSE);
	r = disk("sdb", ROLE_RESOURCE, -1, 16);
	part(r, "sdb1", 17);
	expect(CHECK_DISK_TEMP, "resource", CHECK_FAIL, "EAH off, plain partition");
	reset();
	imds_ok(TRI_FALSE);
	r = disk("sdb", ROLE_RESOURCE, -1, 16);
	p1 = part(r, "sdb1", 17);
	mkcrypt("resourceencrypt", 0, p1, "aes", "xts-plain64", 512);
	expect(CHECK_DISK_TEMP, "resource", CHECK_PASS, "EAH off, partition under dm-crypt");
	reset();
	imds_down();
	r = disk("sdb", ROLE_RESOURCE, -1, 16);
	part(r, "sdb1", 17);
	expect(CHECK_DISK_TEMP, "resource", CHECK_UNKNOWN, "EAH unknown, plain partition");
	reset();
	imds_down();
	r = disk("sdb", ROLE_RESOURCE, -1, 16);
	p1 = part(r, "sdb1", 17);
	c = lvm("vg-lv", 1);
	stack(c, p1);
	mkcrypt("tmpcrypt", 2, c, "aes", "xts-plain64", 512);
	expect(CHECK_DISK_TEMP, "resource", CHECK_PASS, "EAH unknown, LVM then dm-crypt above");
	reset();
	imds_ok(TRI_FALSE);
	r = disk("nvme1n1", ROLE_LOCAL, -1, 32);
	expect(CHECK_DISK_TEMP, "local:1", CHECK_FAIL, "local NVMe unpartitioned plain");
	reset();
	imds_ok(TRI_FALSE);
	r = disk("nvme1n1", ROLE_LOCAL, -1, 32);
	F.graph.devs[r].sig_type = strdup("crypto_LUKS");
	/* A LUKS header with no open mapping says nothing of how the disk is
	 * used now (CONTRACT: it does not count). */
	expect(CHECK_DISK_TEMP, "local:1", CHECK_FAIL, "LUKS header, no open mapping, on local NVMe");
	reset();
	imds_ok(TRI_FALSE);
	r = disk("sdb", ROLE_RESOURCE, -1, 16);
	p1 = part(r, "sdb1", 17);
	c = lvm("mystery", 1);
	free(F.graph.devs[c].dm_uuid);
	F.graph.devs[c].dm_uuid = NULL;
	stack(c, p1);
	expect(CHECK_DISK_TEMP, "resource", CHECK_UNKNOWN, "EAH off, dm device above with no dm/uuid");
	reset();
	imds_ok(TRI_FALSE);
	r = disk("sdb", ROLE_RESOURCE, -1, 16);
	p1 = part(r, "sdb1", 17);
	part(r, "sdb2", 18);
	mkcrypt("half", 0, p1, "aes", "xts-plain64", 512);
	expect(CHECK_DISK_TEMP, "resource", CHECK_FAIL, "one of two partitions plain");
}

/* The bases of disk.temp_encrypted: encryption at host, dm-crypt, the v5+
 * platform rule (DOMAIN.md §1a), and where none can be established. */
static void test_temp_bases(void)
{
	static const struct {
		const char *size;
		enum check_status want;
		const char *basis;
	} sizes[] = {
		{ "Standard_D4ds_v5", CHECK_PASS, "platform_v5" },
		{ "Standard_D4ps_v6", CHECK_PASS, "platform_v5" },
		{ "Standard_E96ias_v5", CHECK_PASS, "platform_v5" },
		{ "Standard_DC4ads_cc_v5", CHECK_PASS, "platform_v5" },
		{ "Standard_ND96isr_H100_v5", CHECK_PASS, "platform_v5" },
		{ "Standard_NC24ads_A100_v4", CHECK_FAIL, "plain_device" },
		{ "Standard_L8s_v3", CHECK_FAIL, "plain_device" },
		{ "Standard_D2s_v3", CHECK_FAIL, "plain_device" },
		{ "Standard_DS2_v2_Promo", CHECK_FAIL, "plain_device" },
		{ "Basic_A1", CHECK_FAIL, "plain_device" },
		{ "garbage", CHECK_UNKNOWN, "-" },
		{ "", CHECK_UNKNOWN, "-" },
		{ NULL, CHECK_UNKNOWN, "-" },
		{ "Standard_D4ds_v5x", CHECK_UNKNOWN, "-" },
	};
	int r, p1;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		reset();
		imds_ok(TRI_FALSE);
		vm_size(sizes[i].size);
		r = disk("sdb", ROLE_RESOURCE, -1, 16);
		part(r, "sdb1", 17);
		expect_basis(CHECK_DISK_TEMP, "resource", sizes[i].want, sizes[i].basis,
			     sizes[i].size ? sizes[i].size : "(no vmSize)");
	}
	reset();
	imds_ok(TRI_FALSE);
	vm_size("Standard_D4ds_v5");
	P.trust_platform_temp_encryption = false;
	r = disk("sdb", ROLE_RESOURCE, -1, 16);
	part(r, "sdb1", 17);
	expect_basis(CHECK_DISK_TEMP, "resource", CHECK_FAIL, "plain_device",
		     "v5 size, policy does not trust the platform");
	reset();
	imds_ok(TRI_FALSE);
	vm_size("garbage");
	P.trust_platform_temp_encryption = false;
	r = disk("sdb", ROLE_RESOURCE, -1, 16);
	part(r, "sdb1", 17);
	expect_basis(CHECK_DISK_TEMP, "resource", CHECK_FAIL, "plain_device",
		     "unparseable size, policy does not trust the platform");
	reset();
	imds_ok(TRI_TRUE);
	vm_size("Standard_D2s_v3");
	r = disk("sdb", ROLE_RESOURCE, -1, 16);
	part(r, "sdb1", 17);
	expect_basis(CHECK_DISK_TEMP, "resource", CHECK_PASS, "encryption_at_host", "EAH on");
	reset();
	imds_ok(TRI_FALSE);
	vm_size("Standard_D4ds_v5");
	r = disk("sdb", ROLE_RESOURCE, -1, 16);
	p1 = part(r, "sdb1", 17);
	mkcrypt("resourceencrypt", 0, p1, "aes", "xts-plain64", 512);
	expect_basis(CHECK_DISK_TEMP, "resource", CHECK_PASS, "dm_crypt",
		     "v5 size, but dm-crypt is the guest's own evidence");
	/* IMDS says EAH on, ARM says off: EAH is no basis. */
	reset();
	imds_ok(TRI_TRUE);
	vm_size("Standard_D2s_v3");
	F.arm.status = SOURCE_OK;
	F.arm.encryption_at_host = TRI_FALSE;
	r = disk("sdb", ROLE_RESOURCE, -1, 16);
	part(r, "sdb1", 17);
	expect_basis(CHECK_DISK_TEMP, "resource", CHECK_UNKNOWN, "-", "IMDS EAH on, ARM off, v3 size");
	reset();
	imds_ok(TRI_TRUE);
	vm_size("Standard_D4ds_v5");
	F.arm.status = SOURCE_OK;
	F.arm.encryption_at_host = TRI_FALSE;
	r = disk("sdb", ROLE_RESOURCE, -1, 16);
	part(r, "sdb1", 17);
	expect_basis(CHECK_DISK_TEMP, "resource", CHECK_PASS, "platform_v5",
		     "IMDS EAH on, ARM off, v5 size");
	reset();
	imds_ok(TRI_FALSE);
	vm_size("Standard_D2s_v3");
	F.arm.status = SOURCE_OK;
	F.arm.encryption_at_host = TRI_TRUE;
	r = disk("sdb", ROLE_RESOURCE, -1, 16);
	part(r, "sdb1", 17);
	expect_basis(CHECK_DISK_TEMP, "resource", CHECK_UNKNOWN, "-", "IMDS EAH off, ARM on, v3 size");
	/* The temp disk was not identified. */
	reset();
	imds_ok(TRI_FALSE);
	vm_size("Standard_D4ds_v5");
	F.imds.instance.has_resource_disk = true;
	F.imds.instance.resource_disk_mb = 4096;
	expect_basis(CHECK_DISK_TEMP, "resource", CHECK_PASS, "platform_v5",
		     "IMDS resource disk not identified, v5 size");
	reset();
	imds_ok(TRI_FALSE);
	vm_size("Standard_D2s_v3");
	disk("sda", ROLE_OS, -1, 0);
	r = disk("sdq", ROLE_OTHER, -1, 16);
	F.graph.devs[r].azure = true;
	expect(CHECK_DISK_TEMP, "resource", CHECK_UNKNOWN,
	       "no resourceDisk in IMDS, an Azure disk that cannot be placed");
	reset();
	imds_ok(TRI_FALSE);
	vm_size("Standard_D2s_v3");
	F.imds.instance.has_resource_disk = true;
	disk("sda", ROLE_OS, -1, 0);
	r = disk("sdq", ROLE_OTHER, -1, 16);
	F.graph.devs[r].azure = true;
	expect(CHECK_DISK_TEMP, "resource", CHECK_NOT_APPLICABLE,
	       "IMDS resourceDisk size 0, an unplaced disk");
}

static void test_cipher(void)
{
	reset();
	mkcrypt("nohdr", 0, -1, NULL, NULL, 0);
	expect(CHECK_DMCRYPT_CIPHER, "nohdr", CHECK_UNKNOWN, "parameters unreadable");
	reset();
	mkcrypt("good", 0, -1, "aes", "xts-plain64", 512);
	expect(CHECK_DMCRYPT_CIPHER, "good", CHECK_PASS, "aes-xts-plain64 512");
	reset();
	mkcrypt("null", 0, -1, "cipher_null", "ecb", 0);
	expect(CHECK_DMCRYPT_CIPHER, "null", CHECK_FAIL, "cipher_null-ecb, key size 0");
	reset();
	mkcrypt("short", 0, -1, "aes", "xts-plain64", 256);
	expect(CHECK_DMCRYPT_CIPHER, "short", CHECK_FAIL, "aes-xts-plain64 256");
	{
		const struct check_result *r = run(CHECK_DMCRYPT_CIPHER, "short");

		ok(r && strstr(r->summary, "AES-128-XTS") && strstr(r->summary, "min_key_bits = 256"),
		   "a 256-bit XTS key's reason names AES-128-XTS and min_key_bits = 256 (%s)",
		   r ? r->summary : "no result");
	}
	P.min_key_bits = 256;
	expect_basis(CHECK_DMCRYPT_CIPHER, "short", CHECK_PASS, "luks_header",
		     "min_key_bits = 256 accepts AES-128-XTS");
	reset();
	mkcrypt("cbc", 0, -1, "aes", "cbc-essiv:sha256", 256);
	expect(CHECK_DMCRYPT_CIPHER, "cbc", CHECK_FAIL, "aes-cbc-essiv:sha256");
	reset();
	mkcrypt("cbc", 0, -1, "aes", "cbc-essiv:sha256", 256);
	strv_free(P.allowed_ciphers);
	(void)strv_split_ws("aes-xts-plain64 aes-cbc-essiv:sha256", &P.allowed_ciphers);
	P.min_key_bits = 256;
	expect(CHECK_DMCRYPT_CIPHER, "cbc", CHECK_PASS, "policy allows cbc-essiv 256");
}

static void test_path(void)
{
	int d, p1, p2, c, l;

	reset();
	require("/data", -ENOENT);
	expect(CHECK_PATH_DMCRYPT, "/data", CHECK_UNKNOWN, "path missing");
	reset();
	require("/data", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	mkcrypt("data", 0, p1, "aes", "xts-plain64", 512);
	mount("/data", "ext4", 253, 0);
	expect(CHECK_PATH_DMCRYPT, "/data", CHECK_PASS, "on dm-crypt");
	reset();
	require("/data/sub/dir", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	part(d, "sdc1", 33);
	mount("/", "ext4", 8, 1);
	mount("/data", "ext4", 8, 33);
	expect(CHECK_PATH_DMCRYPT, "/data/sub/dir", CHECK_FAIL, "plain partition");
	reset();
	require("/scratch", 0);
	mount("/scratch", "tmpfs", 0, 40);
	expect(CHECK_PATH_DMCRYPT, "/scratch", CHECK_FAIL, "tmpfs is not dm-crypt");
	reset();
	require("/data", 0);
	F.mounts_src.status = SOURCE_ERROR;
	F.mounts_src.error = strdup("EACCES");
	expect(CHECK_PATH_DMCRYPT, "/data", CHECK_UNKNOWN, "mountinfo unreadable");
	reset();
	require("/var/lib/kubelet", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	c = mkcrypt("pv", 0, p1, "aes", "xts-plain64", 512);
	l = lvm("vg-kubelet", 1);
	stack(l, c);
	mount("/var/lib/kubelet", "ext4", 253, 1);
	expect(CHECK_PATH_DMCRYPT, "/var/lib/kubelet", CHECK_PASS, "LVM over dm-crypt");
	reset();
	require("/data", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	p2 = part(d, "sdc2", 34);
	c = mkcrypt("pv", 0, p1, "aes", "xts-plain64", 512);
	l = lvm("vg-data", 1);
	stack(l, c);
	stack(l, p2);
	mount("/data", "ext4", 253, 1);
	expect(CHECK_PATH_DMCRYPT, "/data", CHECK_FAIL, "LV spans an encrypted and a plain PV");
	reset();
	require("/data", 0);
	mount("/data", "nfs4", 0, 50);
	expect(CHECK_PATH_DMCRYPT, "/data", CHECK_FAIL, "network filesystem");
	reset();
	require("/data", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	l = lvm("mystery", 1);
	free(F.graph.devs[l].dm_uuid);
	F.graph.devs[l].dm_uuid = NULL;
	stack(l, p1);
	mount("/data", "ext4", 253, 1);
	expect(CHECK_PATH_DMCRYPT, "/data", CHECK_UNKNOWN, "dm device with no readable dm/uuid");
}

/* Mount a filesystem with explicit super options and source. */
static struct mount_entry *mount_opts(const char *mp, const char *fstype, unsigned major,
				      unsigned minor, const char *source, const char *opts)
{
	struct mount_entry *m;

	mount(mp, fstype, major, minor);
	m = &F.mounts.v[F.mounts.n - 1];
	free(m->source);
	m->source = strdup(source);
	m->super_options = opts ? strdup(opts) : NULL;
	return m;
}

static void btrfs(const char *fsid, const int *members, size_t n, const char *missing)
{
	struct fs_members *fs;

	F.graph.fs = realloc(F.graph.fs, (F.graph.n_fs + 1) * sizeof(*fs));
	fs = &F.graph.fs[F.graph.n_fs++];
	*fs = (struct fs_members){ .fstype = strdup("btrfs"), .fsid = strdup(fsid) };
	fs->devs = calloc(n ? n : 1, sizeof(int));
	for (size_t i = 0; i < n; i++)
		fs->devs[fs->n_devs++] = members[i];
	if (missing)
		(void)strv_extend(&fs->missing, missing);
}

/* Each way a naive "is the path on dm-crypt" answer went wrong (DOMAIN.md
 * §5, "Where the data really is"): each row failed before it was fixed. */
static void test_path_layers(void)
{
	int d, p1, p2, c, members[2];
	const struct check_result *res;

	/* overlayfs: the upper layer on dm-crypt, a lower layer on a plain disk. */
	reset();
	require("/var/lib/app", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	p2 = part(d, "sdc2", 34);
	mkcrypt("upper", 0, p1, "aes", "xts-plain64", 512);
	mount("/enc", "ext4", 253, 0);
	mount("/plain", "ext4", 8, 34);
	mount_opts("/var/lib/app", "overlay", 0, 60, "overlay",
		   "rw,lowerdir=/plain/l1:/enc/l2,upperdir=/enc/u,workdir=/enc/w");
	expect(CHECK_PATH_DMCRYPT, "/var/lib/app", CHECK_FAIL, "overlay with a plain lower layer");
	reset();
	require("/var/lib/app", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	mkcrypt("all", 0, p1, "aes", "xts-plain64", 512);
	mount("/enc", "ext4", 253, 0);
	mount_opts("/var/lib/app", "overlay", 0, 60, "overlay",
		   "rw,lowerdir+=/enc/l1,lowerdir+=/enc/l\\:2,datadir+=/enc/d,upperdir=/enc/u");
	expect(CHECK_PATH_DMCRYPT, "/var/lib/app", CHECK_PASS, "overlay: every layer on dm-crypt");
	reset();
	require("/ro", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	mkcrypt("all", 0, p1, "aes", "xts-plain64", 512);
	mount("/enc", "ext4", 253, 0);
	mount_opts("/ro", "overlay", 0, 60, "overlay", "ro,lowerdir=/enc/a::/nowhere-mounted");
	expect(CHECK_PATH_DMCRYPT, "/ro", CHECK_UNKNOWN,
	       "overlay: a data-only layer on a root filesystem outside the graph");
	/* btrfs spanning a dm-crypt device and a plain one. */
	reset();
	require("/srv", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	p2 = part(d, "sdc2", 34);
	c = mkcrypt("b1", 0, p1, "aes", "xts-plain64", 512);
	members[0] = c;
	members[1] = p2;
	btrfs("6a1b1f4e-0000-4000-8000-000000000001", members, 2, NULL);
	mount_opts("/srv", "btrfs", 0, 45, "/dev/dm-0", "rw,space_cache=v2");
	expect(CHECK_PATH_DMCRYPT, "/srv", CHECK_FAIL, "btrfs over dm-crypt and a plain partition");
	reset();
	require("/srv", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	p2 = part(d, "sdc2", 34);
	members[0] = mkcrypt("b1", 0, p1, "aes", "xts-plain64", 512);
	members[1] = mkcrypt("b2", 1, p2, "aes", "xts-plain64", 512);
	btrfs("6a1b1f4e-0000-4000-8000-000000000001", members, 2, NULL);
	mount_opts("/srv", "btrfs", 0, 45, "/dev/dm-0", "rw");
	expect(CHECK_PATH_DMCRYPT, "/srv", CHECK_PASS, "btrfs over two dm-crypt mappings");
	reset();
	require("/srv", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	members[0] = mkcrypt("b1", 0, p1, "aes", "xts-plain64", 512);
	btrfs("6a1b1f4e-0000-4000-8000-000000000001", members, 1, "sdq");
	mount_opts("/srv", "btrfs", 0, 45, "/dev/dm-0", "rw");
	expect(CHECK_PATH_DMCRYPT, "/srv", CHECK_UNKNOWN, "btrfs with a member not among the devices");
	reset();
	require("/srv", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	mkcrypt("b1", 0, p1, "aes", "xts-plain64", 512);
	mount_opts("/srv", "btrfs", 0, 45, "/dev/dm-0", "rw");
	expect(CHECK_PATH_DMCRYPT, "/srv", CHECK_UNKNOWN, "btrfs whose members are not listed");
	/* A later mount on a parent directory hides the earlier one below it. */
	reset();
	require("/var/lib/kubelet", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	p2 = part(d, "sdc2", 34);
	mkcrypt("kubelet", 0, p1, "aes", "xts-plain64", 512);
	mount("/var/lib/kubelet", "ext4", 253, 0);
	mount("/var/lib", "ext4", 8, 34);
	F.mounts.v[F.mounts.n - 1].parent_id = 20; /* on the root, over the kubelet mount */
	expect(CHECK_PATH_DMCRYPT, "/var/lib/kubelet", CHECK_FAIL, "kubelet mount shadowed by /var/lib");
	/* An LVM volume one of whose slaves is missing from sysfs. */
	reset();
	require("/data", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	c = mkcrypt("pv", 0, p1, "aes", "xts-plain64", 512);
	p2 = lvm("vg-data", 1);
	stack(p2, c);
	(void)strv_extend(&F.graph.devs[p2].missing_slaves, "sdz1");
	mount("/data", "ext4", 253, 1);
	expect(CHECK_PATH_DMCRYPT, "/data", CHECK_UNKNOWN, "LV with a slave missing from sysfs");
	/* tmpfs whose free-text source names a dm-crypt device. */
	reset();
	require("/scratch", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	mkcrypt("data", 0, p1, "aes", "xts-plain64", 512);
	mount_opts("/scratch", "tmpfs", 0, 40, "/dev/mapper/data", "rw,size=1g");
	res = run(CHECK_PATH_DMCRYPT, "/scratch");
	ok(res && res->status == CHECK_FAIL, "tmpfs with a /dev/mapper source -> fail");
	/* A mapping in the middle of reencrypt --encrypt. */
	reset();
	require("/data", 0);
	d = disk("sdc", ROLE_DATA, 0, 32);
	p1 = part(d, "sdc1", 33);
	c = mkcrypt("data", 0, p1, "aes", "xts-plain64", 512);
	F.graph.devs[c].crypt.reencrypt = REENCRYPT_ENCRYPT;
	mount("/data", "ext4", 253, 0);
	expect(CHECK_PATH_DMCRYPT, "/data", CHECK_FAIL, "mapping mid reencrypt --encrypt");
	expect(CHECK_DMCRYPT_CIPHER, "data", CHECK_FAIL, "mapping mid reencrypt --encrypt");
	F.graph.devs[c].crypt.reencrypt = REENCRYPT_REKEY;
	expect(CHECK_PATH_DMCRYPT, "/data", CHECK_PASS, "rekey in progress: all data encrypted");
	expect(CHECK_DMCRYPT_CIPHER, "data", CHECK_UNKNOWN, "rekey: the old cipher is not read");
	F.graph.devs[c].crypt.reencrypt = REENCRYPT_UNKNOWN;
	expect(CHECK_PATH_DMCRYPT, "/data", CHECK_UNKNOWN, "LUKS2 whose header was not read");
}

static void test_swap(void)
{
	int d, p1, z;

	reset();
	F.swaps_src.status = SOURCE_ERROR;
	F.swaps_src.error = strdup("EACCES");
	expect(CHECK_SWAP, "swap", CHECK_UNKNOWN, "/proc/swaps unreadable");
	reset();
	expect(CHECK_SWAP, "swap", CHECK_NOT_APPLICABLE, "no swap");
	reset();
	imds_ok(TRI_FALSE);
	d = disk("sdb", ROLE_RESOURCE, -1, 16);
	part(d, "sdb2", 18);
	swap("/dev/sdb2", "partition");
	expect(CHECK_SWAP, "/dev/sdb2", CHECK_FAIL, "plain swap partition");
	reset();
	d = disk("sdb", ROLE_RESOURCE, -1, 16);
	part(d, "sdb2", 18);
	swap("/dev/sdb2", "partition");
	expect(CHECK_SWAP, "/dev/sdb2", CHECK_UNKNOWN,
	       "plain swap partition on the temp disk, IMDS down (the platform may encrypt it)");
	reset();
	d = disk("sdb", ROLE_RESOURCE, -1, 16);
	p1 = part(d, "sdb2", 18);
	mkcrypt("cryptswap", 0, p1, "aes", "xts-plain64", 512);
	swap("/dev/dm-0", "partition");
	expect(CHECK_SWAP, "/dev/dm-0", CHECK_PASS, "swap on dm-crypt");
	reset();
	dev("zram0", BLK_ZRAM, 252, 0);
	swap("/dev/zram0", "partition");
	expect(CHECK_SWAP, "/dev/zram0", CHECK_PASS, "zram without writeback");
	reset();
	z = dev("zram0", BLK_ZRAM, 252, 0);
	d = disk("sdb", ROLE_RESOURCE, -1, 16);
	part(d, "sdb1", 17);
	F.graph.devs[z].zram_backing = strdup("/dev/sdb1");
	swap("/dev/zram0", "partition");
	expect(CHECK_SWAP, "/dev/zram0", CHECK_FAIL, "zram writing back to a plain partition");
	reset();
	d = disk("sda", ROLE_OS, -1, 0);
	part(d, "sda1", 1);
	mount("/", "ext4", 8, 1);
	swap("/swapfile", "file");
	expect(CHECK_SWAP, "/swapfile", CHECK_FAIL, "swap file on a plain filesystem");
	reset();
	swap("/dev/sdz9", "partition");
	expect(CHECK_SWAP, "/dev/sdz9", CHECK_UNKNOWN, "swap device not found");
}

/* Swap on the temp disk is judged by the temp disk (CONTRACT). */
static void test_swap_temp(void)
{
	static const struct {
		const char *size;
		enum tristate eah;
		enum check_status want;
		const char *basis;
	} rows[] = {
		{ "Standard_D4ds_v5", TRI_FALSE, CHECK_PASS, "temp_disk" },
		{ "Standard_D2s_v3", TRI_TRUE, CHECK_PASS, "temp_disk" },
		{ "Standard_D2s_v3", TRI_FALSE, CHECK_FAIL, "plain_device" },
		{ "garbage", TRI_FALSE, CHECK_UNKNOWN, "-" },
	};
	int d, p1;

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		/* WALinuxAgent's swap file on the resource disk's filesystem. */
		reset();
		imds_ok(rows[i].eah);
		vm_size(rows[i].size);
		d = disk("sdb", ROLE_RESOURCE, -1, 16);
		part(d, "sdb1", 17);
		mount("/mnt/resource", "ext4", 8, 17);
		swap("/mnt/resource/swapfile", "file");
		expect_basis(CHECK_SWAP, "/mnt/resource/swapfile", rows[i].want, rows[i].basis,
			     rows[i].size);
		/* A swap partition on it. */
		reset();
		imds_ok(rows[i].eah);
		vm_size(rows[i].size);
		d = disk("sdb", ROLE_RESOURCE, -1, 16);
		part(d, "sdb1", 17);
		part(d, "sdb2", 18);
		swap("/dev/sdb2", "partition");
		expect_basis(CHECK_SWAP, "/dev/sdb2", rows[i].want, rows[i].basis, rows[i].size);
	}
	/* A swap file on the OS disk is not on the temp disk. */
	reset();
	imds_ok(TRI_FALSE);
	vm_size("Standard_D4ds_v5");
	d = disk("sda", ROLE_OS, -1, 0);
	part(d, "sda1", 1);
	d = disk("sdb", ROLE_RESOURCE, -1, 16);
	part(d, "sdb1", 17);
	mount("/", "ext4", 8, 1);
	swap("/swapfile", "file");
	expect_basis(CHECK_SWAP, "/swapfile", CHECK_FAIL, "plain_device",
		     "v5 size, swap file on the OS disk");
	/* Swap on its own dm-crypt on the temp disk keeps its own basis. */
	reset();
	imds_ok(TRI_FALSE);
	vm_size("Standard_D4ds_v5");
	d = disk("sdb", ROLE_RESOURCE, -1, 16);
	p1 = part(d, "sdb2", 18);
	mkcrypt("cryptswap", 0, p1, "aes", "xts-plain64", 512);
	swap("/dev/dm-0", "partition");
	expect_basis(CHECK_SWAP, "/dev/dm-0", CHECK_PASS, "dm_crypt",
		     "swap on dm-crypt on the temp disk");
}

static void test_ade(void)
{
	int d, p1;

	reset();
	imds_down();
	expect(CHECK_ADE, "os", CHECK_UNKNOWN, "IMDS unreachable");
	reset();
	imds_ok(TRI_FALSE);
	expect(CHECK_ADE, "os", CHECK_NOT_APPLICABLE, "ADE not enabled");
	reset();
	imds_ok(TRI_FALSE);
	F.imds.instance.os_disk.ade_enabled = TRI_UNKNOWN;
	expect(CHECK_ADE, "os", CHECK_UNKNOWN, "encryptionSettings absent");
	reset();
	imds_ok(TRI_FALSE);
	F.imds.instance.os_disk.ade_enabled = TRI_TRUE;
	d = disk("sda", ROLE_OS, -1, 0);
	p1 = part(d, "sda2", 2);
	mkcrypt("osencrypt", 0, p1, "aes", "xts-plain64", 512);
	mount("/", "ext4", 253, 0);
	expect_basis(CHECK_ADE, "os", CHECK_PASS, "dm_crypt", "ADE claimed and / on osencrypt");
	{
		const struct check_result *r = run(CHECK_ADE, "os");

		ok(r && strstr(r->summary, "retires on 2028-09-15"),
		   "ADE's summary says it retires on 2028-09-15 (%s)", r ? r->summary : "no result");
	}
	reset();
	imds_ok(TRI_FALSE);
	F.imds.instance.os_disk.ade_enabled = TRI_TRUE;
	d = disk("sda", ROLE_OS, -1, 0);
	part(d, "sda1", 1);
	mount("/", "ext4", 8, 1);
	expect(CHECK_ADE, "os", CHECK_FAIL, "ADE claimed, / plain");
}

static void test_disks_match(void)
{
	reset();
	imds_down();
	expect(CHECK_IMDS_DISKS, "node", CHECK_UNKNOWN, "IMDS unreachable");
	reset();
	imds_ok(TRI_TRUE);
	F.imds.instance.has_storage_profile = false;
	expect(CHECK_IMDS_DISKS, "node", CHECK_UNKNOWN, "no storageProfile");
	reset();
	imds_ok(TRI_TRUE);
	F.block.status = SOURCE_ERROR;
	F.block.error = strdup("x");
	expect(CHECK_IMDS_DISKS, "node", CHECK_UNKNOWN, "block devices unreadable");
	reset();
	imds_ok(TRI_TRUE);
	imds_add_data(0);
	disk("sda", ROLE_OS, -1, 0);
	disk("sdc", ROLE_DATA, 0, 32);
	expect(CHECK_IMDS_DISKS, "node", CHECK_PASS, "OS and LUN 0 found");
	reset();
	imds_ok(TRI_TRUE);
	imds_add_data(0);
	imds_add_data(1);
	disk("sda", ROLE_OS, -1, 0);
	disk("sdc", ROLE_DATA, 0, 32);
	expect(CHECK_IMDS_DISKS, "node", CHECK_FAIL, "LUN 1 missing");
	reset();
	imds_ok(TRI_TRUE);
	disk("sda", ROLE_OS, -1, 0);
	disk("sdd", ROLE_DATA, 3, 48);
	expect(CHECK_IMDS_DISKS, "node", CHECK_FAIL, "unexplained data disk");
	reset();
	imds_ok(TRI_TRUE);
	disk("sda", ROLE_OS, -1, 0);
	disk("sde", ROLE_OTHER, -1, 64);
	F.graph.devs[1].azure = true;
	expect(CHECK_IMDS_DISKS, "node", CHECK_FAIL, "Azure disk of no known role");
	/* IMDS lists no OS disk (and no data disks): nothing to match. */
	reset();
	imds_ok(TRI_TRUE);
	F.imds.instance.has_os_disk = false;
	expect(CHECK_IMDS_DISKS, "node", CHECK_UNKNOWN, "IMDS lists no OS disk");
	reset();
	imds_ok(TRI_TRUE);
	free(F.imds.instance.os_disk.name);
	free(F.imds.instance.os_disk.managed_disk_id);
	F.imds.instance.os_disk.name = F.imds.instance.os_disk.managed_disk_id = NULL;
	disk("sda", ROLE_OS, -1, 0);
	expect(CHECK_IMDS_DISKS, "node", CHECK_UNKNOWN, "IMDS osDisk with every value empty");
	/* ADE's BEK VOLUME disk is explained, at a LUN IMDS does not list. */
	reset();
	imds_ok(TRI_TRUE);
	disk("sda", ROLE_OS, -1, 0);
	disk("sdc", ROLE_DATA, 3, 32);
	F.graph.devs[1].azure = true;
	F.graph.devs[1].ade_bek = true;
	expect_basis(CHECK_IMDS_DISKS, "node", CHECK_PASS, "imds_disks_found",
		     "ADE's key disk is explained");
	F.graph.devs[1].ade_bek = false;
	expect_basis(CHECK_IMDS_DISKS, "node", CHECK_FAIL, "imds_disks_mismatch",
		     "the same disk without the BEK label");
	/* A BEK label does not hide a data disk IMDS lists, nor excuse a missing one. */
	reset();
	imds_ok(TRI_TRUE);
	imds_add_data(0);
	imds_add_data(1);
	disk("sda", ROLE_OS, -1, 0);
	disk("sdc", ROLE_DATA, 0, 32);
	F.graph.devs[1].azure = true;
	F.graph.devs[1].ade_bek = true;
	expect(CHECK_IMDS_DISKS, "node", CHECK_FAIL, "BEK label on a listed LUN, LUN 1 missing");
}

static void bench_ok(double bps)
{
	F.bench.status = SOURCE_OK;
	F.bench.engine = "openssl";
	F.bench.key_bits = 512;
	F.bench.encrypt_bytes_per_second = bps;
	F.bench.decrypt_bytes_per_second = bps;
}

static void test_bench(void)
{
	reset();
	expect(CHECK_BENCH, "aes-xts-plain64:512", CHECK_NOT_APPLICABLE, "no minimum");
	reset();
	P.min_bench_bytes_per_second = 100 << 20;
	expect(CHECK_BENCH, "aes-xts-plain64:512", CHECK_NOT_APPLICABLE, "benchmark skipped");
	reset();
	P.min_bench_bytes_per_second = 100 << 20;
	F.bench.status = SOURCE_ERROR;
	F.bench.error = strdup("no engine");
	expect(CHECK_BENCH, "aes-xts-plain64:512", CHECK_UNKNOWN, "benchmark failed");
	reset();
	P.min_bench_bytes_per_second = 100 << 20;
	bench_ok(2e9);
	expect(CHECK_BENCH, "aes-xts-plain64:512", CHECK_PASS, "2 GB/s above 100 MiB/s");
	reset();
	P.min_bench_bytes_per_second = 100 << 20;
	bench_ok(50e6);
	expect(CHECK_BENCH, "aes-xts-plain64:512", CHECK_FAIL, "50 MB/s below 100 MiB/s");
}

static void test_verdict(void)
{
	static const struct {
		enum check_status st[3];
		enum severity sev[3];
		enum verdict want;
	} rows[] = {
		{ { CHECK_PASS, CHECK_PASS, CHECK_NOT_APPLICABLE },
		  { SEV_CRITICAL, SEV_WARNING, SEV_CRITICAL },
		  VERDICT_COMPLIANT },
		{ { CHECK_PASS, CHECK_FAIL, CHECK_PASS },
		  { SEV_CRITICAL, SEV_WARNING, SEV_CRITICAL },
		  VERDICT_WARNING },
		{ { CHECK_FAIL, CHECK_UNKNOWN, CHECK_FAIL },
		  { SEV_CRITICAL, SEV_CRITICAL, SEV_WARNING },
		  VERDICT_NONCOMPLIANT },
		{ { CHECK_PASS, CHECK_UNKNOWN, CHECK_FAIL },
		  { SEV_CRITICAL, SEV_CRITICAL, SEV_WARNING },
		  VERDICT_INDETERMINATE },
		{ { CHECK_UNKNOWN, CHECK_PASS, CHECK_PASS },
		  { SEV_WARNING, SEV_CRITICAL, SEV_CRITICAL },
		  VERDICT_INDETERMINATE },
		{ { CHECK_FAIL, CHECK_UNKNOWN, CHECK_PASS },
		  { SEV_INFO, SEV_IGNORE, SEV_CRITICAL },
		  VERDICT_COMPLIANT },
		{ { CHECK_FAIL, CHECK_FAIL, CHECK_PASS },
		  { SEV_WARNING, SEV_INFO, SEV_CRITICAL },
		  VERDICT_WARNING },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct check_result v[3];
		struct check_results r = { v, 3 };

		for (int k = 0; k < 3; k++)
			v[k] = (struct check_result){ .status = rows[i].st[k],
						      .severity = rows[i].sev[k] };
		is_int(verdict_compute(&r), rows[i].want, "verdict row %zu -> %s", i,
		       verdict_to_string(rows[i].want));
	}
	is_int(verdict_exit_code(VERDICT_NONCOMPLIANT), 2, "noncompliant exits 2");
	is_int(verdict_exit_code(VERDICT_INDETERMINATE), 3, "indeterminate exits 3");
}

int main(void)
{
	test_eah();
	test_cmk();
	test_temp();
	test_temp_bases();
	test_swap_temp();
	test_cipher();
	test_path();
	test_path_layers();
	test_swap();
	test_ade();
	test_disks_match();
	test_bench();
	test_verdict();
	facts_done(&F);
	policy_done(&P);
	check_results_done(&OUT);
	return tap_done();
}
