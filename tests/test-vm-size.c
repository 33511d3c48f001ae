/* SPDX-License-Identifier: Apache-2.0 */
/* compute.vmSize → size version (DOMAIN.md §1a), over a table of real size
 * names, hostile strings, and every row of tests/fixtures/vm-sizes-arm.tsv. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "imds/imds.h"
#include "tests/tap.h"

struct size_case {
	const char *name;
	int version; /* < 0: must not parse */
	const char *family;
};

static const struct size_case cases[] = {
	/* DOMAIN.md §1a's own examples. */
	{ "Standard_D2ds_v5", 5, "D2ds" },
	{ "Standard_D2alds_v6", 6, "D2alds" },
	{ "Standard_NC24ads_A100_v4", 4, "NC24ads" },
	{ "Standard_ND96isr_H100_v5", 5, "ND96isr" },
	{ "Standard_DS2_v2", 2, "DS2" },
	{ "Standard_D2_v2_Promo", 2, "D2" },
	{ "Standard_DS3_v2_Promo", 2, "DS3" },
	/* The sizes of the fixture nodes and issue 12. */
	{ "Standard_D4ds_v5", 5, "D4ds" },
	{ "Standard_D4ps_v6", 6, "D4ps" },
	{ "Standard_D2pds_v5", 5, "D2pds" },
	{ "Standard_E96ias_v5", 5, "E96ias" },
	{ "Standard_L8s_v3", 3, "L8s" },
	{ "Standard_D2s_v3", 3, "D2s" },
	{ "Standard_DC4ads_cc_v5", 5, "DC4ads" },
	{ "Standard_DC2as_v5", 5, "DC2as" },
	{ "Standard_EC8eds_v5", 5, "EC8eds" },
	{ "Standard_E64-32s_v5", 5, "E64-32s" },
	{ "Standard_M128-64ms", 1, "M128-64ms" },
	{ "Standard_DS14-8_v2", 2, "DS14-8" },
	{ "Standard_M416ms_v2", 2, "M416ms" },
	{ "Standard_HB176-144rs_v4", 4, "HB176-144rs" },
	{ "Standard_HB120rs_v3", 3, "HB120rs" },
	{ "Standard_NC4as_T4_v3", 3, "NC4as" },
	{ "Standard_NV36ads_A10_v5", 5, "NV36ads" },
	{ "Standard_ND96amsr_A100_v4", 4, "ND96amsr" },
	{ "Standard_ND96isr_MI300X_v5", 5, "ND96isr" },
	{ "Standard_NC40ads_H100_v5", 5, "NC40ads" },
	{ "Standard_L8s_v4", 4, "L8s" },
	{ "Standard_L16as_v3", 3, "L16as" },
	{ "Standard_D16lds_v6", 6, "D16lds" },
	{ "Standard_D8ads_v6", 6, "D8ads" },
	{ "Standard_F2s_v2", 2, "F2s" },
	{ "Standard_A2_v2", 2, "A2" },
	{ "Standard_B2ms", 1, "B2ms" },
	{ "Standard_B2pts_v2", 2, "B2pts" },
	{ "Standard_GS5", 1, "GS5" },
	{ "Standard_NP10s", 1, "NP10s" },
	{ "Standard_A1", 1, "A1" },
	{ "Basic_A1", 1, "A1" },
	{ "standard_d4ds_v5", 5, "d4ds" },
	{ "Standard_D4ds_V5", 5, "D4ds" },
	{ "Standard_FX48mds_v2", 2, "FX48mds" },
	{ "Standard_D96ds_v10", 10, "D96ds" },
	{ "Standard_NG32ads_V620_v1", 1, "NG32ads" },
	{ "Standard_NV36adms_A10_v5", 5, "NV36adms" },
	{ "Standard_NC80adis_H100_v5", 5, "NC80adis" },
	/* Not size names: no version may be guessed from them. */
	{ "", -1, NULL },
	{ "garbage", -1, NULL },
	{ "Standard", -1, NULL },
	{ "Standard_", -1, NULL },
	{ "Standard__v5", -1, NULL },
	{ "Standard_D4ds_v5_", -1, NULL },
	{ "_Standard_D4ds_v5", -1, NULL },
	{ "Premium_D4ds_v5", -1, NULL },
	{ "Standard_D4ds_v0", -1, NULL },
	{ "Standard_D4ds_v5_v6", -1, NULL },
	{ "Standard_D4ds_v", -1, NULL },
	{ "Standard_D4ds_v5x", -1, NULL },
	{ "Standard_D4ds_x5v_v5", -1, NULL },
	{ "Standard_D4ds_5_v5", -1, NULL },
	{ "Standard_D4ds_a100_v5", -1, NULL },
	{ "Standard_D4ds_V_v5", -1, NULL },
	{ "Standard_D4ds_v123", -1, NULL },
	{ "Standard_D4ds v5", -1, NULL },
	{ "Standard_D4ds_v5\n", -1, NULL },
	{ "Standard_D4ds-v5", -1, NULL },
	{ "Standard_4ds_v5", -1, NULL },
	{ "Standard_Dds_v5", -1, NULL },
	{ "Standard_D4-ds_v5", -1, NULL },
	{ "Standard_D4ds_v5;Standard_D4ds_v5", -1, NULL },
	{ "Standard_D4ds_\xc3\xa9"
	  "5",
	  -1, NULL },
	{ "v5", -1, NULL },
	{ "Standard_D4ds_v5_Promo_Extra_Words_That_Go_On_And_On_Forever_And_Ever", -1, NULL },
};

/* The name, printable for a TAP line. */
static const char *shown(const char *s)
{
	static char buf[256];
	size_t j = 0;

	for (; *s && j + 5 < sizeof(buf); s++)
		j += (size_t)snprintf(buf + j, sizeof(buf) - j,
				      *s >= 0x20 && *s < 0x7f ? "%c" : "\\x%02x", (unsigned char)*s);
	buf[j] = '\0';
	return buf;
}

static void table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct size_case *c = &cases[i];
		struct vm_size v;
		int r = vm_size_parse(c->name, &v);

		if (c->version < 0) {
			ok(r < 0, "'%s' does not parse (%d)", shown(c->name), r);
			continue;
		}
		if (!ok(r == 0, "'%s' parses", c->name))
			continue;
		is_int(v.version, c->version, "'%s' is v%d", c->name, c->version);
		is_str(v.family, c->family, "'%s' family", c->name);
	}
}

static void hostile(void)
{
	char big[4096];
	struct vm_size v;

	ok(vm_size_parse(NULL, &v) == -EINVAL, "NULL does not parse");
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "Standard_D", 10);
	memcpy(big + sizeof(big) - 4, "_v5", 3);
	ok(vm_size_parse(big, &v) == -E2BIG, "a 4 KiB name is too long");
	/* Exactly VM_SIZE_MAX is accepted when well formed. */
	snprintf(big, sizeof(big), "Standard_D4ds_v5_%.*s", VM_SIZE_MAX - 17,
		 "PromoPromoPromoPromoPromoPromoPromoPromoPromoPromoPromo");
	ok(strlen(big) == VM_SIZE_MAX && vm_size_parse(big, &v) == -EINVAL,
	   "a %d-byte name with an overlong trailing word does not parse", VM_SIZE_MAX);
}

/* The Arm sizes tests/vmsize-arm.py runs end to end. */
static void arm_table(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096], line[256];
	unsigned rows = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/fixtures/vm-sizes-arm.tsv", top ? top : ".");
	f = fopen(path, "re");
	if (!ok(f != NULL, "%s opens", path))
		return;
	while (fgets(line, sizeof(line), f)) {
		char size[128];
		int ver;
		struct vm_size v;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%127[^\t]\t%d", size, &ver) != 2)
			continue;
		rows++;
		ok(vm_size_parse(size, &v) == 0 && (int)v.version == ver,
		   "vm-sizes-arm.tsv: %s is v%d", size, ver);
	}
	fclose(f);
	ok(rows >= 7, "vm-sizes-arm.tsv has its %u rows", rows);
}

int main(void)
{
	table();
	hostile();
	arm_table();
	return tap_done();
}
