/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: sysfs attribute values and names as the block scan reads
 * them: the trimmed first line, numbers (size, nsid, dev "MAJ:MIN"), SCSI
 * addresses, NVMe names, dm uuids and their dm-crypt classification. */
#include "config.h"

#include "lib/strutil.h"
#include "probes/probe-internal.h"
#include "tests/fuzz/fuzz.h"

static void numbers(const char *v)
{
	uint64_t u64;
	unsigned u, major, minor;
	int i;
	double d;

	(void)safe_atou64(v, &u64);
	(void)safe_atou(v, &u);
	(void)safe_atoi(v, &i);
	if (safe_atod_seconds(v, &d) >= 0 && !(d >= 0))
		abort(); /* NaN or negative seconds must not parse */
	(void)sscanf(v, "%u:%u", &major, &minor);
}

static void dm_uuid(const char *v)
{
	char *type = crypt_type_from_uuid(v);

	/* A type is named only for a dm-crypt uuid, and is a non-empty
	 * piece of it. */
	if (type && (!dm_uuid_is_crypt(v) || !*type || !strstr(v, type)))
		abort();
	free(type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = fuzz_strndup(data, size), *v;

	/* As read_attr_fd: the first line, stripped. */
	raw[strcspn(raw, "\n")] = '\0';
	v = strstrip(raw);
	numbers(v);
	dm_uuid(v);
	(void)scsi_is_hctl(v);
	(void)nvme_nsid_from_name(v);
	unoctal_inplace(v);
	if (strlen(v) > size)
		abort();
	free(raw);
	return 0;
}
