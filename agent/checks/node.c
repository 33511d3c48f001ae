/* SPDX-License-Identifier: Apache-2.0 */
/* Checks that rest on what Azure says about the node: encryption at host
 * (IMDS), customer-managed keys (ARM), Azure Disk Encryption's claim, and
 * whether IMDS's disk list matches the block devices present. */
#include "config.h"

#include "agent/checks/checks-internal.h"
#include "agent/stack.h"
#include "lib/strutil.h"

#define ENC_PLATFORM "EncryptionAtRestWithPlatformKey"
#define ENC_CUSTOMER "EncryptionAtRestWithCustomerKey"
#define ENC_BOTH "EncryptionAtRestWithPlatformAndCustomerKeys"
/* Confidential VMs (DOMAIN.md §1a): the disk's securityType, and the
 * instance's securityEncryptionType that encrypts the OS disk itself. */
/* DOMAIN.md §1a: ADE's retirement, and what to do about it. */
#define ADE_RETIREMENT "2028-09-15"
#define ADE_RETIRES                                                                           \
	"Azure Disk Encryption retires on " ADE_RETIREMENT                                    \
	": after that its disks fail to unlock on reboot; migrate to new disks on a VM with " \
	"encryption at host."
#define CVM_DISK_CUSTOMER "ConfidentialVM_DiskEncryptedWithCustomerKey"
#define CVM_VM_DISK_ENCRYPTED "DiskWithVMGuestState"

static bool des_expected(const struct policy *p, const char *des)
{
	return !p->expected_des || !p->expected_des[0] ||
	       (des && strv_contains_case(p->expected_des, des));
}

/* A DES named by the instance (ephemeral OS disk) or by the confidential
 * profile: pass if the policy accepts it. */
static void cmk_des_verdict(const struct policy *p, const char *subject, const char *des,
			    const char *how, json_object *e, struct check_results *out)
{
	if (!des_expected(p, des)) {
		evidence_add_str(e, "basis", "des_mismatch");
		check_results_add(out, CHECK_DISK_CMK, subject, CHECK_FAIL, e,
				  "%s uses disk encryption set %s, which the policy does not list.",
				  how, des);
		return;
	}
	evidence_add_str(e, "basis", "des");
	check_results_add(out, CHECK_DISK_CMK, subject, CHECK_PASS, e,
			  "%s is encrypted with a customer-managed key through %s.", how, des);
}

json_object *evidence_imds(const struct facts *f)
{
	json_object *e = evidence_new("imds");

	evidence_add_str(e, "imds_status", source_status_to_string(f->imds.status));
	evidence_add_str(e, "api_version", f->imds.api_version);
	evidence_add_str(e, "error", f->imds.error);
	return e;
}

/* NULL when IMDS gave a usable instance document; else a short reason
 * (the full error, with its remedy, is in the IMDS source and evidence). */
const char *imds_unusable_reason(const struct facts *f)
{
	if (f->imds.status == SOURCE_OK && f->imds.have_instance)
		return NULL;
	switch (f->imds.status) {
	case SOURCE_UNREACHABLE:
		return "IMDS did not answer (see the imds source for why and what to do)";
	case SOURCE_OFF:
		return "IMDS was not asked";
	case SOURCE_OK:
		return "IMDS gave no instance document";
	default:
		return "IMDS answered with an error (see the imds source for why and what to do)";
	}
}

static const struct imds_instance *imds_inst(const struct facts *f)
{
	return imds_unusable_reason(f) ? NULL : &f->imds.instance;
}

enum tristate eah_established(const struct facts *f, const char **why)
{
	const struct imds_instance *in = imds_inst(f);
	enum tristate arm = f->arm.status == SOURCE_OK ? f->arm.encryption_at_host : TRI_UNKNOWN;

	if (!in) {
		*why = imds_unusable_reason(f);
		return TRI_UNKNOWN;
	}
	if (in->encryption_at_host == TRI_UNKNOWN) {
		*why = "IMDS does not say whether encryption at host is on";
		return TRI_UNKNOWN;
	}
	if (arm != TRI_UNKNOWN && arm != in->encryption_at_host) {
		*why = "IMDS and ARM disagree on encryption at host";
		return TRI_UNKNOWN;
	}
	*why = in->encryption_at_host == TRI_TRUE ? "encryption at host is on" :
						    "encryption at host is off";
	return in->encryption_at_host;
}

enum tristate platform_temp_established(const struct facts *f, const struct policy *p,
					json_object *e, const char **why)
{
	const struct imds_instance *in = imds_inst(f);
	struct vm_size v;

	evidence_add_bool(e, "trust_platform_temp_encryption", p->trust_platform_temp_encryption);
	if (in)
		evidence_add_str(e, "vm_size", in->vm_size);
	if (!p->trust_platform_temp_encryption) {
		*why = "the policy does not trust platform temp-disk encryption";
		return TRI_FALSE;
	}
	if (!in) {
		*why = imds_unusable_reason(f);
		return TRI_UNKNOWN;
	}
	if (isempty(in->vm_size)) {
		*why = "IMDS gave no compute.vmSize";
		return TRI_UNKNOWN;
	}
	if (vm_size_parse(in->vm_size, &v) < 0) {
		*why = "compute.vmSize is not a size name atrest can read, so its version is unknown";
		return TRI_UNKNOWN;
	}
	evidence_add_int(e, "vm_size_version", v.version);
	if (v.version >= VM_SIZE_PLATFORM_TEMP_VERSION) {
		*why = "the VM size is v5 or newer, whose temp and local disks Azure encrypts";
		return TRI_TRUE;
	}
	*why = "the VM size is older than v5, whose temp disk Azure does not encrypt without encryption at host";
	return TRI_FALSE;
}

void check_host_eah(const struct facts *f, const struct policy *p, struct check_results *out)
{
	const struct imds_instance *in = imds_inst(f);
	json_object *e = evidence_imds(f);

	if (!in) {
		check_results_add(out, CHECK_HOST_EAH, "node", CHECK_UNKNOWN, e,
				  "Encryption at host could not be established: %s.",
				  imds_unusable_reason(f));
		return;
	}
	evidence_add_str(e, "field", "compute.securityProfile.encryptionAtHost");
	evidence_add_str(e, "value", in->encryption_at_host_raw);
	if (f->arm.status == SOURCE_OK)
		evidence_add_tristate(e, "arm_encryption_at_host", f->arm.encryption_at_host);

	switch (in->encryption_at_host) {
	case TRI_TRUE:
		if (f->arm.status == SOURCE_OK && f->arm.encryption_at_host == TRI_FALSE)
			check_results_add(out, CHECK_HOST_EAH, "node", CHECK_UNKNOWN, e,
					  "IMDS says encryption at host is on but ARM says it is off: the sources disagree; check the VM or scale-set instance in ARM.");
		else {
			evidence_add_str(e, "basis", "encryption_at_host");
			check_results_add(out, CHECK_HOST_EAH, "node", CHECK_PASS, e,
					  "Encryption at host is enabled (IMDS%s).",
					  f->arm.status == SOURCE_OK ? " and ARM" : "");
		}
		return;
	case TRI_FALSE:
		if (f->arm.status == SOURCE_OK && f->arm.encryption_at_host == TRI_TRUE) {
			check_results_add(out, CHECK_HOST_EAH, "node", CHECK_UNKNOWN, e,
					  "IMDS says encryption at host is off but ARM says it is on: the sources disagree; check the VM or scale-set instance in ARM.");
			return;
		}
		evidence_add_str(e, "basis", "encryption_at_host_off");
		check_results_add(out, CHECK_HOST_EAH, "node", CHECK_FAIL, e,
				  "Encryption at host is disabled: the temp disk and disk caches are not encrypted on the host; it can only be enabled on a new node pool or VM.");
		return;
	default:
		break;
	}
	if (!in->encryption_at_host_raw)
		check_results_add(out, CHECK_HOST_EAH, "node", CHECK_UNKNOWN, e,
				  "IMDS api-version %s does not report securityProfile.encryptionAtHost (needs %s or newer).",
				  strna(f->imds.api_version), IMDS_API_VERSION_EAH);
	else
		check_results_add(out, CHECK_HOST_EAH, "node", CHECK_UNKNOWN, e,
				  "IMDS reported an unexpected encryptionAtHost value; cannot tell whether it is on.");
}

static void cmk_one(const struct facts *f, const struct policy *p, const char *subject,
		    const char *disk_id, bool ephemeral, const struct arm_disk *ad,
		    struct check_results *out)
{
	json_object *e = evidence_new("arm");
	const char *type;

	evidence_add_str(e, "managed_disk_id", disk_id);
	if (ephemeral)
		evidence_add_str(e, "diff_disk_option", "Local");
	if (f->arm.status != SOURCE_OK) {
		evidence_add_str(e, "arm_status", source_status_to_string(f->arm.status));
		evidence_add_str(e, "error", f->arm.error);
		check_results_add(out, CHECK_DISK_CMK, subject, CHECK_UNKNOWN, e,
				  "ARM lookup not available%s%s; %s.", f->arm.error ? ": " : "",
				  f->arm.error ? f->arm.error : "",
				  ephemeral ? "this OS disk is ephemeral: its disk encryption set is only visible on its VM/VMSS instance in ARM" :
					      "the disk's encryption type is only visible in ARM");
		return;
	}
	if (!ad || ad->status != SOURCE_OK) {
		evidence_add_str(e, "error", ad ? ad->error : NULL);
		check_results_add(out, CHECK_DISK_CMK, subject, CHECK_UNKNOWN, e,
				  "ARM did not describe this disk: %s.",
				  ad && ad->error ? ad->error : "no answer for it");
		return;
	}
	type = ad->encryption_type;
	evidence_add_str(e, "encryption_type", type);
	evidence_add_str(e, "disk_encryption_set_id", ad->des_id);
	evidence_add_str(e, "key_url", ad->des_key_url);
	evidence_add_tristate(e, "auto_key_rotation", ad->des_rotation_enabled);
	evidence_add_str(e, "last_key_rotation", ad->des_last_rotation);
	evidence_add_str(e, "key_rotation_error", ad->des_rotation_error);
	evidence_add_str(e, "security_type", ad->cvm_security_type);
	evidence_add_str(e, "security_des_id", ad->cvm_des_id);
	if (ad->ephemeral) {
		evidence_add_bool(e, "ephemeral", true);
		evidence_add_str(e, "des_source", "instance");
		if (!ad->des_id) {
			evidence_add_str(e, "basis", "ephemeral_no_des");
			check_results_add(out, CHECK_DISK_CMK, subject, CHECK_FAIL, e,
					  "The OS disk is ephemeral and its VM/VMSS instance names no disk encryption set: it is encrypted with a platform key only.");
			return;
		}
		cmk_des_verdict(p, subject, ad->des_id,
				"The ephemeral OS disk (DES from its instance)", e, out);
		return;
	}
	if (ad->cvm_security_type && (streq(ad->cvm_security_type, CVM_DISK_CUSTOMER) ||
				      streq(ad->cvm_security_type, CVM_VM_DISK_ENCRYPTED))) {
		if (ad->cvm_des_id) {
			evidence_add_str(e, "des_source", "security_profile");
			cmk_des_verdict(p, subject, ad->cvm_des_id,
					"The confidential VM disk (securityProfile)", e, out);
			return;
		}
		if (streq(ad->cvm_security_type, CVM_DISK_CUSTOMER)) {
			check_results_add(out, CHECK_DISK_CMK, subject, CHECK_UNKNOWN, e,
					  "The disk's securityType is %s but ARM names no disk encryption set for it.",
					  CVM_DISK_CUSTOMER);
			return;
		}
	}
	if (type && streq(type, ENC_PLATFORM)) {
		evidence_add_str(e, "basis", "platform_key");
		check_results_add(out, CHECK_DISK_CMK, subject, CHECK_FAIL, e,
				  "The disk is encrypted with a platform-managed key, not a customer-managed key.");
		return;
	}
	if (!type || (!streq(type, ENC_CUSTOMER) && !streq(type, ENC_BOTH))) {
		check_results_add(out, CHECK_DISK_CMK, subject, CHECK_UNKNOWN, e,
				  "ARM reported an unknown encryption type '%s'.", strna(type));
		return;
	}
	if (!des_expected(p, ad->des_id)) {
		evidence_add_str(e, "basis", "des_mismatch");
		check_results_add(out, CHECK_DISK_CMK, subject, CHECK_FAIL, e,
				  "The disk uses disk encryption set %s, which the policy does not list.",
				  strna(ad->des_id));
		return;
	}
	evidence_add_str(e, "basis", "des");
	evidence_add_str(e, "des_source", "disk");
	check_results_add(out, CHECK_DISK_CMK, subject, CHECK_PASS, e,
			  "The disk is encrypted with a customer-managed key through %s.",
			  strna(ad->des_id));
}

void check_disk_cmk(const struct facts *f, const struct policy *p, struct check_results *out)
{
	const struct imds_instance *in = imds_inst(f);

	if (!in) {
		check_results_add(out, CHECK_DISK_CMK, "os", CHECK_UNKNOWN, evidence_imds(f),
				  "The node's disks could not be listed: %s.",
				  imds_unusable_reason(f));
		return;
	}
	cmk_one(f, p, "os", in->os_disk.managed_disk_id,
		in->os_disk.diff_disk_option && strcaseeq(in->os_disk.diff_disk_option, "Local"),
		&f->arm.os_disk, out);
	for (size_t i = 0; i < in->n_data_disks; i++) {
		const struct imds_disk *d = &in->data_disks[i];
		const struct arm_disk *ad = i < f->arm.n_data_disks ? &f->arm.data_disks[i] : NULL;
		char subject[32];

		snprintf(subject, sizeof(subject), "lun:%d", d->lun);
		cmk_one(f, p, subject, d->managed_disk_id, false, ad, out);
	}
}

void check_ade(const struct facts *f, const struct policy *p, struct check_results *out)
{
	const struct imds_instance *in = imds_inst(f);
	struct crypt_walk w = { 0 };
	struct backing b;
	json_object *e = evidence_imds(f);

	if (!in) {
		check_results_add(out, CHECK_ADE, "os", CHECK_UNKNOWN, e,
				  "Azure Disk Encryption's state could not be read: %s.",
				  imds_unusable_reason(f));
		return;
	}
	evidence_add_tristate(e, "imds_ade_enabled", in->os_disk.ade_enabled);
	if (in->os_disk.ade_enabled == TRI_FALSE) {
		check_results_add(out, CHECK_ADE, "os", CHECK_NOT_APPLICABLE, e,
				  "IMDS says Azure Disk Encryption is not enabled on the OS disk.");
		return;
	}
	if (in->os_disk.ade_enabled == TRI_UNKNOWN) {
		check_results_add(out, CHECK_ADE, "os", CHECK_UNKNOWN, e,
				  "IMDS does not report the OS disk's encryptionSettings (api-version %s).",
				  strna(f->imds.api_version));
		return;
	}
	resolve_path_backing(f, "/", &b);
	backing_walk(f, &b, false, &w);
	evidence_add_strv(e, "root_devices", w.devices);
	if (w.devices && w.devices[0] && !w.devices[1])
		evidence_add_str(e, "root_device", w.devices[0]);
	evidence_add_strv(e, "mappings", w.mappings);
	evidence_add_str(e, "retirement", ADE_RETIREMENT);
	if (w.encrypted != TRI_UNKNOWN)
		evidence_add_str(e, "basis", w.basis);
	if (w.encrypted == TRI_TRUE)
		check_results_add(out, CHECK_ADE, "os", CHECK_PASS, e,
				  "ADE is enabled and / sits on dm-crypt (%s). %s",
				  w.mappings ? w.mappings[0] : "?", ADE_RETIRES);
	else if (w.encrypted == TRI_FALSE)
		check_results_add(out, CHECK_ADE, "os", CHECK_FAIL, e,
				  "IMDS says ADE is enabled, but / is not on dm-crypt: %s. %s",
				  strna(w.reason), ADE_RETIRES);
	else
		check_results_add(out, CHECK_ADE, "os", CHECK_UNKNOWN, e,
				  "IMDS says ADE is enabled, but the stack under / is unclear: %s. %s",
				  strna(w.reason), ADE_RETIRES);
	crypt_walk_done(&w);
	backing_done(&b);
}

static int find_role(const struct block_graph *g, enum azure_role role, int lun)
{
	for (size_t i = 0; i < g->n_devs; i++)
		if (g->devs[i].kind == BLK_DISK && g->devs[i].role == role &&
		    (lun < 0 || g->devs[i].lun == lun))
			return (int)i;
	return -1;
}

static bool imds_has_lun(const struct imds_instance *in, int lun)
{
	for (size_t i = 0; i < in->n_data_disks; i++)
		if (in->data_disks[i].lun == lun)
			return true;
	return false;
}

/* Appends every disagreement between IMDS's disks and the devices. */
static void disks_mismatches(const struct facts *f, const struct imds_instance *in, char ***m,
			     char ***explained, unsigned *found)
{
	const struct block_graph *g = &f->graph;

	if (find_role(g, ROLE_OS, -1) < 0)
		(void)strv_push(m, strprintf("OS disk %s not found among the block devices",
					     strna(in->os_disk.name)));
	else
		(*found)++;
	for (size_t i = 0; i < in->n_data_disks; i++) {
		const struct imds_disk *d = &in->data_disks[i];

		if (d->lun < 0)
			(void)strv_push(m, strprintf("data disk %s has no usable LUN in IMDS",
						     strna(d->name)));
		else if (find_role(g, ROLE_DATA, d->lun) < 0)
			(void)strv_push(m, strprintf("data disk %s (LUN %d) not found among the block devices",
						     strna(d->name), d->lun));
		else
			(*found)++;
	}
	if (in->resource_disk_mb > 0 && find_role(g, ROLE_RESOURCE, -1) < 0 &&
	    find_role(g, ROLE_LOCAL, -1) < 0)
		(void)strv_push(m, strprintf("IMDS reports a %" PRIu64
					     " MiB resource disk but none was found",
					     in->resource_disk_mb));
	for (size_t i = 0; i < g->n_devs; i++) {
		const struct blockdev *d = &g->devs[i];

		if (d->kind != BLK_DISK || !d->azure)
			continue;
		if (d->ade_bek && !(d->role == ROLE_DATA && imds_has_lun(in, d->lun))) {
			(void)strv_push(explained,
					strprintf("%s is Azure Disk Encryption's key disk (%s)",
						  blockdev_display(d), ADE_BEK_LABEL));
			continue;
		}
		if (d->role == ROLE_DATA && !imds_has_lun(in, d->lun))
			(void)strv_push(m, strprintf("%s is data LUN %d, which IMDS does not list",
						     blockdev_display(d), d->lun));
		else if (d->role == ROLE_OTHER)
			(void)strv_push(m, strprintf("%s is an Azure disk of no known role (%s)",
						     blockdev_display(d), strna(d->role_evidence)));
	}
}

void check_imds_disks(const struct facts *f, const struct policy *p, struct check_results *out)
{
	const struct imds_instance *in = imds_inst(f);
	_cleanup_strv_free_ char **m = NULL, **explained = NULL;
	_cleanup_free_ char *joined = NULL;
	unsigned found = 0;
	json_object *e = evidence_imds(f);

	if (!in) {
		check_results_add(out, CHECK_IMDS_DISKS, "node", CHECK_UNKNOWN, e,
				  "IMDS's disk list is not available: %s.", imds_unusable_reason(f));
		return;
	}
	if (!in->has_storage_profile) {
		check_results_add(out, CHECK_IMDS_DISKS, "node", CHECK_UNKNOWN, e,
				  "IMDS api-version %s has no storageProfile.",
				  strna(f->imds.api_version));
		return;
	}
	/* Every VM has an OS disk: a list without one is no list to match. */
	if (!in->has_os_disk || (isempty(in->os_disk.name) && isempty(in->os_disk.managed_disk_id))) {
		check_results_add(out, CHECK_IMDS_DISKS, "node", CHECK_UNKNOWN, e,
				  "IMDS lists no OS disk (storageProfile.osDisk %s), so its disk list cannot be trusted; retry later or check the IMDS api-version.",
				  in->has_os_disk ? "is empty" : "is absent");
		return;
	}
	if (f->block.status != SOURCE_OK) {
		evidence_add_str(e, "block_error", f->block.error);
		check_results_add(out, CHECK_IMDS_DISKS, "node", CHECK_UNKNOWN, e,
				  "Block devices could not be listed: %s.", strna(f->block.error));
		return;
	}
	m = calloc(1, sizeof(char *));
	if (!m) {
		json_object_put(e);
		return;
	}
	disks_mismatches(f, in, &m, &explained, &found);
	evidence_add_strv(e, "mismatches", m);
	evidence_add_strv(e, "explained", explained);
	evidence_add_int(e, "imds_disks", (int64_t)(in->has_os_disk + in->n_data_disks));
	if (!m[0]) {
		evidence_add_str(e, "basis", "imds_disks_found");
		check_results_add(out, CHECK_IMDS_DISKS, "node", CHECK_PASS, e,
				  "Every disk IMDS lists (%u) was found, and no unexplained Azure disk is present%s.",
				  found, explained ? " (ADE's key disk is explained)" : "");
		return;
	}
	joined = strv_join(m, "; ");
	evidence_add_str(e, "basis", "imds_disks_mismatch");
	check_results_add(out, CHECK_IMDS_DISKS, "node", CHECK_FAIL, e,
			  "IMDS and the block devices disagree: %s.", strna(joined));
}
