/* SPDX-License-Identifier: Apache-2.0 */
/* mountinfo_parse and mount_table_find_path: escapes, optional fields,
 * malformed lines, bounds, and the longest-prefix lookup. */
#include "config.h"

#include "lib/strutil.h"
#include "probes/probes.h"
#include "tests/probe-test-util.h"
#include "tests/tap.h"

struct line_case {
	const char *what;
	const char *line;
	bool valid;
	const char *mountpoint, *source, *fstype, *super_options, *root;
	unsigned major, minor;
};

static const struct line_case lines[] = {
	{ "plain", "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,discard", true, "/",
	  "/dev/sda1", "ext4", "rw,discard", "/", 8, 1 },
	{ "no optional fields", "25 22 253:0 / /data rw - xfs /dev/dm-0 rw", true, "/data",
	  "/dev/dm-0", "xfs", "rw", "/", 253, 0 },
	{ "several optional fields",
	  "31 22 253:1 / /k rw shared:31 master:2 propagate_from:1 - ext4 /dev/mapper/x rw", true,
	  "/k", "/dev/mapper/x", "ext4", "rw", "/", 253, 1 },
	{ "space, tab, newline, backslash escapes",
	  "40 22 0:50 /a\\040b /m\\040n\\011t\\012u\\134v rw - tmpfs my\\040src rw", true,
	  "/m n\tt\nu\\v", "my src", "tmpfs", "rw", "/a b", 0, 50 },
	{ "a dash inside the source is not the separator",
	  "41 22 0:51 / /x rw shared:1 - fuse.sshfs user@h:/a-b rw,user_id=0", true, "/x",
	  "user@h:/a-b", "fuse.sshfs", "rw,user_id=0", "/", 0, 51 },
	{ "missing super options tolerated", "42 22 0:52 / /y rw - tmpfs none", true, "/y", "none",
	  "tmpfs", NULL, "/", 0, 52 },
	{ "no separator", "43 22 0:53 / /z rw shared:1 ext4 /dev/sda1 rw", false },
	{ "separator without source", "44 22 0:54 / /z rw - ext4", false },
	{ "bad device number", "45 22 x:y / /z rw - ext4 /dev/sda1 rw", false },
	{ "non-numeric id", "abc 22 8:1 / /z rw - ext4 /dev/sda1 rw", false },
	{ "relative mountpoint", "46 22 8:1 / relative rw - ext4 /dev/sda1 rw", false },
	{ "too few fields", "47 22 8:1", false },
};

static void test_lines(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		const struct line_case *c = &lines[i];
		struct mount_table t = { 0 };
		size_t skipped = 99;

		is_int(mountinfo_parse(c->line, strlen(c->line), &t, &skipped), 0, "%s: parses",
		       c->what);
		is_int(t.n, c->valid ? 1 : 0, "%s: entries", c->what);
		is_int(skipped, c->valid ? 0 : 1, "%s: skipped", c->what);
		if (c->valid && t.n == 1) {
			is_str(t.v[0].mountpoint, c->mountpoint, "%s: mountpoint", c->what);
			is_str(t.v[0].source, c->source, "%s: source", c->what);
			is_str(t.v[0].fstype, c->fstype, "%s: fstype", c->what);
			is_str(t.v[0].super_options, c->super_options, "%s: super options", c->what);
			is_str(t.v[0].root, c->root, "%s: root", c->what);
			ok(t.v[0].major == c->major && t.v[0].minor == c->minor, "%s: devnum", c->what);
		}
		mount_table_done(&t);
	}
}

struct find_case {
	const char *path;
	const char *mountpoint; /* NULL: none */
	const char *source;
};

static void test_fixture(void)
{
	static const struct find_case finds[] = {
		{ "/", "/", "/dev/sda1" },
		{ "/etc/passwd", "/", "/dev/sda1" },
		{ "/var/lib/kubelet", "/var/lib/kubelet", "/dev/mapper/vg0-kubelet" },
		{ "/var/lib/kubelet/", "/var/lib/kubelet", "/dev/mapper/vg0-kubelet" },
		{ "/var/lib/kubelet/pods/abc", "/var/lib/kubelet", "/dev/mapper/vg0-kubelet" },
		{ "/var/lib/kubeletx", "/", "/dev/sda1" },
		{ "/var/lib/kubelet/pods/abc/volumes/kubernetes.io~secret/token/x",
		  "/var/lib/kubelet/pods/abc/volumes/kubernetes.io~secret/token", "tmpfs" },
		{ "/srv/my data/db", "/srv/my data", "/dev/mapper/data crypt" },
		{ "/mnt/resource", "/mnt", "/dev/sdc1" }, /* stacked: the last one */
		{ "relative", NULL, NULL },
	};
	_cleanup_free_ char *text = NULL;
	struct mount_table t = { 0 };
	size_t len = 0, skipped = 0;

	text = probe_test_read_data("mountinfo-aks", &len);
	if (!ok(text, "fixture mountinfo-aks readable"))
		return;
	is_int(mountinfo_parse(text, len, &t, &skipped), 0, "fixture parses");
	is_int(t.n, 8, "fixture: 8 mounts");
	is_int(skipped, 1, "fixture: 1 garbage line skipped");
	for (size_t i = 0; i < ARRAY_SIZE(finds); i++) {
		int k = mount_table_find_path(&t, finds[i].path);

		if (!finds[i].mountpoint) {
			is_int(k, -1, "find %s: none", finds[i].path);
			continue;
		}
		if (!ok(k >= 0, "find %s: found", finds[i].path))
			continue;
		is_str(t.v[k].mountpoint, finds[i].mountpoint, "find %s: mountpoint", finds[i].path);
		is_str(t.v[k].source, finds[i].source, "find %s: source", finds[i].path);
	}
	mount_table_done(&t);
}

/* Which mount a path resolves to follows the mount tree, not the longest
 * mountpoint: kubelet's disk mounted first, then /var/lib over the parent
 * directory, hides it; stacked mounts chain by parent id. */
static void test_tree(void)
{
	static const char text[] =
		"20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"21 20 253:0 / /var/lib/kubelet rw - ext4 /dev/mapper/kube rw\n"
		"22 20 8:17 / /var/lib rw - ext4 /dev/sdb1 rw\n"
		"23 22 8:33 / /var/lib/docker rw - ext4 /dev/sdc1 rw\n"
		"24 20 8:49 / /data rw - ext4 /dev/sdd1 rw\n"
		"25 24 8:50 / /data rw - ext4 /dev/sdd2 rw\n"
		"26 20 8:51 / /data/x rw - ext4 /dev/sdd3 rw\n" /* on the covered /data */
		"30 31 8:60 / /loop rw - ext4 /dev/sde1 rw\n"
		"31 30 8:61 / /loop/in rw - ext4 /dev/sde2 rw\n";
	static const struct find_case finds[] = {
		{ "/var/lib/kubelet/pods", "/var/lib", "/dev/sdb1" },
		{ "/var/lib/docker/x", "/var/lib/docker", "/dev/sdc1" },
		{ "/var/lib", "/var/lib", "/dev/sdb1" },
		{ "/data/y", "/data", "/dev/sdd2" },
		{ "/data/x/z", "/data", "/dev/sdd2" },
		{ "/loop/in", "/", "/dev/sda1" },
		{ "//var//lib/", "/var/lib", "/dev/sdb1" },
	};
	struct mount_table t = { 0 };
	size_t skipped = 0;

	is_int(mountinfo_parse(text, sizeof(text) - 1, &t, &skipped), 0, "tree parses");
	for (size_t i = 0; i < ARRAY_SIZE(finds); i++) {
		int k = mount_table_find_path(&t, finds[i].path);

		if (!ok(k >= 0, "tree: find %s", finds[i].path))
			continue;
		is_str(t.v[k].source, finds[i].source, "tree: %s is on %s", finds[i].path,
		       finds[i].source);
	}
	mount_table_done(&t);
	is_int(mountinfo_parse("7 7 8:1 / /x rw - ext4 /dev/sda1 rw\n", 36, &t, NULL), 0,
	       "no root mount parses");
	is_int(mount_table_find_path(&t, "/x"), -1, "no root mount: nothing found");
	mount_table_done(&t);
}

static void test_hostile(void)
{
	struct mount_table t = { 0 };
	struct strbuf sb = { 0 };
	_cleanup_free_ char *big = NULL;
	size_t skipped = 0;
	const char nul[] = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 8:2 / /a\0b rw - ext4 x rw\n";

	is_int(mountinfo_parse(NULL, 0, &t, &skipped), 0, "empty input parses");
	is_int(t.n, 0, "empty input: no mounts");
	is_int(mountinfo_parse(nul, sizeof(nul) - 1, &t, &skipped), 0, "embedded NUL parses");
	is_int(t.n, 1, "embedded NUL: the bad line dropped");
	is_int(skipped, 1, "embedded NUL: counted");
	mount_table_done(&t);
	is_int(mount_table_find_path(&t, "/"), -1, "empty table: nothing found");

	/* A line far over the bound, then 70,000 valid lines: both bounded. */
	strbuf_append(&sb, "1 0 8:1 / /");
	for (int i = 0; i < 70000; i++)
		strbuf_append(&sb, "aaaa");
	strbuf_append(&sb, " rw - ext4 /dev/sda1 rw\n");
	for (int i = 0; i < 70000; i++)
		strbuf_appendf(&sb, "%d 1 8:1 / /m%d rw - ext4 /dev/sda1 rw\n", i + 2, i);
	big = strbuf_steal(&sb);
	if (!ok(big, "built a huge input"))
		return;
	is_int(mountinfo_parse(big, strlen(big), &t, &skipped), 0, "huge input parses");
	is_int(t.n, 65536, "huge input: entries capped");
	is_int(skipped, 1 + 70000 - 65536, "huge input: overlong line and excess counted");
	mount_table_done(&t);
}

/* The line splitter mountinfo and swaps share (lib/strutil.c). */
static void test_line_next(void)
{
	static const char text[] = "one\n\ntoo long here\nn\0l\nlast";
	const char *want[] = { "one", "", NULL, NULL, "last" };
	const int want_r[] = { 1, 1, -E2BIG, -E2BIG, 1 };
	size_t off = 0;

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		char *line = NULL;
		int r = line_next(text, sizeof(text) - 1, &off, 8, &line);

		is_int(r, want_r[i], "line_next %zu: result", i);
		if (want[i])
			is_str(line, want[i], "line_next %zu: text", i);
		else
			ok(!line, "line_next %zu: no line, skipped", i);
		free(line);
	}
	is_int(line_next(text, sizeof(text) - 1, &off, 8, &(char *){ NULL }), 0, "line_next: end");
	off = 0;
	is_int(line_next("", 0, &off, 8, &(char *){ NULL }), 0, "line_next: empty input");
	off = 0;
	{
		char *line = NULL;

		is_int(line_next("x\n", 2, &off, 8, &line), 1, "line_next: final newline");
		is_int(off, 2, "line_next: offset past it");
		free(line);
		is_int(line_next("x\n", 2, &off, 8, &line), 0, "line_next: then the end");
	}
}

int main(void)
{
	test_tree();
	test_line_next();
	test_lines();
	test_fixture();
	test_hostile();
	return tap_done();
}
