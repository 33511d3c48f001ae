/* SPDX-License-Identifier: Apache-2.0 */
/* swaps_parse: header, escapes, zram, negative priorities, malformed lines. */
#include "config.h"

#include "probes/probes.h"
#include "tests/probe-test-util.h"
#include "tests/tap.h"

struct swap_case {
	const char *what;
	const char *text;
	size_t n, skipped;
	const char *filename, *type;
	uint64_t size, used;
	int prio;
};

#define HDR "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"

static const struct swap_case cases[] = {
	{ "header only", HDR, 0, 0 },
	{ "empty", "", 0, 0 },
	{ "zram swap", HDR "/dev/zram0 partition\t4194300\t0\t100\n", 1, 0, "/dev/zram0",
	  "partition", 4194300, 0, 100 },
	{ "negative priority", HDR "/dev/dm-3 partition 2097148 12 -2\n", 1, 0, "/dev/dm-3",
	  "partition", 2097148, 12, -2 },
	{ "escaped file name", HDR "/var/my\\040swap\\011x file 1024 0 -3\n", 1, 0,
	  "/var/my swap\tx", "file", 1024, 0, -3 },
	{ "no trailing newline", HDR "/swapfile file 8 0 -2", 1, 0, "/swapfile", "file", 8, 0, -2 },
	{ "no header at all", "/swapfile file 8 0 -2\n", 1, 0, "/swapfile", "file", 8, 0, -2 },
	{ "too few fields", HDR "/dev/sda2 partition 100 0\n", 0, 1 },
	{ "too many fields", HDR "/dev/sda2 partition 100 0 -2 extra\n", 0, 1 },
	{ "non-numeric size", HDR "/dev/sda2 partition big 0 -2\n", 0, 1 },
	{ "negative size", HDR "/dev/sda2 partition -5 0 -2\n", 0, 1 },
	{ "header in the middle is malformed", "/a file 1 0 1\n" HDR, 1, 1, "/a", "file", 1, 0, 1 },
};

static void test_cases(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct swap_case *c = &cases[i];
		struct swap_table t = { 0 };
		size_t skipped = 99;

		is_int(swaps_parse(c->text, strlen(c->text), &t, &skipped), 0, "%s: parses", c->what);
		is_int(t.n, c->n, "%s: entries", c->what);
		is_int(skipped, c->skipped, "%s: skipped", c->what);
		if (c->n && t.n) {
			is_str(t.v[0].filename, c->filename, "%s: filename", c->what);
			is_str(t.v[0].type, c->type, "%s: type", c->what);
			ok(t.v[0].size_kib == c->size && t.v[0].used_kib == c->used, "%s: sizes",
			   c->what);
			is_int(t.v[0].priority, c->prio, "%s: priority", c->what);
		}
		swap_table_done(&t);
	}
}

static void test_fixture(void)
{
	_cleanup_free_ char *text = NULL;
	struct swap_table t = { 0 };
	size_t len = 0, skipped = 0;

	text = probe_test_read_data("swaps-zram", &len);
	if (!ok(text, "fixture swaps-zram readable"))
		return;
	is_int(swaps_parse(text, len, &t, &skipped), 0, "fixture parses");
	is_int(t.n, 3, "fixture: three areas");
	is_int(skipped, 1, "fixture: the broken line counted");
	if (t.n == 3) {
		is_str(t.v[0].filename, "/dev/zram0", "fixture: zram first");
		is_int(t.v[0].used_kib, 1024, "fixture: zram used");
		is_str(t.v[2].filename, "/var/swap file", "fixture: escaped swap file");
		is_str(t.v[2].type, "file", "fixture: file type");
	}
	swap_table_done(&t);
}

static void test_bounds(void)
{
	struct strbuf sb = { 0 };
	_cleanup_free_ char *big = NULL;
	struct swap_table t = { 0 };
	size_t skipped = 0;

	for (int i = 0; i < 5000; i++)
		strbuf_appendf(&sb, "/s%d file 1 0 -2\n", i);
	big = strbuf_steal(&sb);
	if (!ok(big, "built a large input"))
		return;
	is_int(swaps_parse(big, strlen(big), &t, &skipped), 0, "large input parses");
	is_int(t.n, 4096, "large input: capped");
	is_int(skipped, 5000 - 4096, "large input: excess counted");
	swap_table_done(&t);
}

int main(void)
{
	test_cases();
	test_fixture();
	test_bounds();
	return tap_done();
}
