/* SPDX-License-Identifier: Apache-2.0 */
/* block_graph_scan over sysfs trees built here in a temp dir, shaped like a
 * Gen2 Azure node (SCSI, NVMe accelerator and direct disks, dm-crypt on real
 * LUKS images made by cryptsetup), plus faults: loops, dangling links,
 * missing and hostile attributes, a FIFO node, and 1,000 disks. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/wait.h>
#include <time.h>

#include "probes/probes.h"
#include "tests/tap.h"

#define VMBUS "/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/"
#define G_OS "f8b3781a-1e82-4818-a1c3-63d806ec15bb"
#define G_DATA_B "f8b3781b-1e82-4818-a1c3-63d806ec15bb"
#define G_DATA_C "f8b3781c-1e82-4818-a1c3-63d806ec15bb"
#define VIRT "/sys/devices/virtual/block/"

static char root[2048];
static char work[1024];
static const char *cryptsetup_bin;
static bool luks_made;

/* ---- tree building (all paths logical, under root) ---- */

static char *host(const char *logical)
{
	static char buf[4][PATH_MAX * 2];
	static unsigned k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof(buf[0]), "%s%s", root, logical);
	return b;
}

static void mkdir_p_host(const char *p)
{
	char tmp[PATH_MAX * 2];

	snprintf(tmp, sizeof(tmp), "%s", p);
	for (char *s = tmp + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(tmp, 0755);
			*s = '/';
		}
	mkdir(tmp, 0755);
}

static void mkdir_p(const char *logical)
{
	mkdir_p_host(host(logical));
}

static void mkparent(const char *logical)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", logical);
	*strrchr(tmp, '/') = '\0';
	mkdir_p(tmp);
}

static void put(const char *logical, const char *content)
{
	FILE *f;

	mkparent(logical);
	f = fopen(host(logical), "we");
	if (!f)
		return;
	fprintf(f, "%s\n", content);
	fclose(f);
}

/* A relative link like the kernel's, from the link's directory up to /. */
static void link_rel(const char *link, const char *target)
{
	char rel[PATH_MAX * 2] = "";

	mkparent(link);
	for (const char *s = strchr(link + 1, '/'); s; s = strchr(s + 1, '/'))
		strcat(rel, "../");
	strcat(rel, target + 1);
	if (symlink(rel, host(link)) < 0)
		tap_diag("symlink %s: %s", link, strerror(errno));
}

static void link_abs(const char *link, const char *target)
{
	mkparent(link);
	if (symlink(target, host(link)) < 0)
		tap_diag("symlink %s: %s", link, strerror(errno));
}

/* dir/name in a rotating static buffer, so that calls can nest in arguments. */
static const char *pj(const char *a, const char *b)
{
	static char buf[8][PATH_MAX];
	static unsigned k;
	char *r = buf[k++ % 8];

	size_t la = strlen(a);

	snprintf(r, sizeof(buf[0]), "%.*s/%s", (int)(la && a[la - 1] == '/' ? la - 1 : la), a, b);
	return r;
}

/* A block dir with the usual attributes and its /sys/class, /sys/block links. */
static void blockdir(const char *dir, const char *name, const char *dev, const char *size, bool whole)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/dev", dir), put(p, dev);
	snprintf(p, sizeof(p), "%s/size", dir), put(p, size);
	snprintf(p, sizeof(p), "%s/ro", dir), put(p, "0");
	snprintf(p, sizeof(p), "%s/removable", dir), put(p, "0");
	snprintf(p, sizeof(p), "%s/slaves", dir), mkdir_p(p);
	snprintf(p, sizeof(p), "%s/holders", dir), mkdir_p(p);
	snprintf(p, sizeof(p), "/sys/class/block/%s", name), link_rel(p, dir);
	if (whole)
		snprintf(p, sizeof(p), "/sys/block/%s", name), link_rel(p, dir);
	snprintf(p, sizeof(p), "/sys/dev/block/%s", dev), link_rel(p, dir);
}

static char *scsi_disk(const char *guid, unsigned h, unsigned lun, const char *name,
		       const char *dev, const char *type)
{
	char vm[1024], hctl[2048], p[4096];

	snprintf(vm, sizeof(vm), VMBUS "%s", guid);
	snprintf(p, sizeof(p), "{%s}", guid), put(pj(vm, "device_id"), p);
	put(pj(vm, "class_id"), "{ba6163d9-04a1-4d29-b605-72e2ffb1dc7f}");
	snprintf(hctl, sizeof(hctl), "%s/host%u/target%u:0:0/%u:0:0:%u", vm, h, h, h, lun);
	put(pj(hctl, "vendor"), "Msft    ");
	put(pj(hctl, "model"), streq(type, "0") ? "Virtual Disk    " : "Virtual DVD-ROM ");
	put(pj(hctl, "type"), type);
	snprintf(p, sizeof(p), "%s/block/%s", hctl, name);
	blockdir(p, name, dev, "67108864", true);
	link_rel(pj(p, "device"), hctl);
	return strdup(p);
}

static char *partition(const char *disk, const char *name, const char *partno, const char *dev)
{
	char *p = strdup(pj(disk, name));

	blockdir(p, name, dev, "2048", false);
	put(pj(p, "partition"), partno);
	return p;
}

/* Links dm (a virtual block dir) to a slave both ways. */
static void stack(const char *upper, const char *upper_name, const char *lower, const char *lower_name)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/slaves/%s", upper, lower_name), link_rel(p, lower);
	snprintf(p, sizeof(p), "%s/holders/%s", lower, upper_name), link_rel(p, upper);
}

static char *dm(const char *name, const char *dev, const char *dm_name, const char *uuid)
{
	char *p = strdup(pj(VIRT, name));

	blockdir(p, name, dev, "4096", true);
	put(pj(p, "dm/name"), dm_name);
	put(pj(p, "dm/uuid"), uuid);
	put(pj(p, "dm/suspended"), "0");
	return p;
}

static char *nvme_ctrl(const char *bdf, const char *ctrl, const char *model, const char *vendor)
{
	char pci[1024], c[2048];

	snprintf(pci, sizeof(pci), "/sys/devices/pci0000:00/%s", bdf);
	put(pj(pci, "vendor"), vendor);
	snprintf(c, sizeof(c), "%s/nvme/%s", pci, ctrl);
	put(pj(c, "model"), model);
	put(pj(c, "transport"), "pcie");
	link_rel(pj(c, "device"), pci);
	return strdup(c);
}

static void nvme_ns(const char *parent, const char *name, const char *nsid, const char *dev)
{
	_cleanup_free_ char *p = strdup(pj(parent, name));

	blockdir(p, name, dev, "1048576", true);
	link_rel(pj(p, "device"), parent);
	if (nsid)
		put(pj(p, "nsid"), nsid);
}

/* ---- LUKS images ---- */

static int run_cryptsetup(const char *const *args)
{
	const char *argv[32] = { cryptsetup_bin };
	size_t n = 1;
	pid_t pid;
	int st;

	for (; *args && n < ARRAY_SIZE(argv) - 1; args++)
		argv[n++] = *args;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execv(cryptsetup_bin, (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static int image(const char *logical, off_t size)
{
	int fd;

	mkparent(logical);
	fd = open(host(logical), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, size) < 0)
		return -errno;
	close(fd);
	return 0;
}

static int luks(const char *type, const char *cipher, const char *bits, const char *img,
		const char *header)
{
	char key[2048], hdr[PATH_MAX * 2];
	const char *args[24] = { "luksFormat",
				 "--batch-mode",
				 "--type",
				 type,
				 "--pbkdf",
				 "pbkdf2",
				 "--pbkdf-force-iterations",
				 "1000",
				 "-c",
				 cipher,
				 "-s",
				 bits,
				 "--key-file",
				 key };
	size_t n = 14;

	snprintf(key, sizeof(key), "%s/K", work);
	if (header) {
		mkparent(header);
		snprintf(hdr, sizeof(hdr), "%s", host(header));
		args[n++] = "--header";
		args[n++] = hdr;
	}
	args[n++] = host(img);
	args[n] = NULL;
	return run_cryptsetup(args);
}

static void make_luks_images(void)
{
	char key[2048];
	FILE *f;

	cryptsetup_bin = getenv("CRYPTSETUP");
	if (isempty(cryptsetup_bin) || access(cryptsetup_bin, X_OK) < 0) {
		tap_diag("no cryptsetup: LUKS rows skipped");
		return;
	}
	snprintf(key, sizeof(key), "%s/K", work);
	f = fopen(key, "we");
	if (!f)
		return;
	fputs("not a real secret", f);
	fclose(f);
	luks_made = image("/dev/sda2", 32 << 20) == 0 && image("/dev/sdc", 8 << 20) == 0 &&
		    image("/dev/sdd", 4 << 20) == 0 && image("/dev/sdf", 4 << 20) == 0 &&
		    luks("luks2", "aes-xts-plain64", "512", "/dev/sda2", NULL) == 0 &&
		    luks("luks1", "aes-cbc-essiv:sha256", "256", "/dev/sdc", NULL) == 0 &&
		    luks("luks2", "aes-xts-plain64", "256", "/dev/sdd", "/boot/luks/osluksheader") ==
			    0 &&
		    luks("luks2", "aes-xts-plain64", "512", "/dev/sdf", "/etc/keys/hdrvol.hdr") == 0;
	ok(luks_made, "cryptsetup made the LUKS images");
	/* The detached-header data devices must not be what is read. */
	unlink(host("/dev/sdd"));
}

/* ---- the Gen2 node ---- */

/* SCSI (OS controller: os, resource, CD-ROM; data controllers) and the
 * dm stacks on it: LVM on LUKS2 on a partition, LUKS1 on a whole disk,
 * plain, and two detached headers. */
static void build_scsi_dm(void)
{
	_cleanup_free_ char *sda = NULL, *sdb = NULL, *sdc = NULL, *sdd = NULL, *sdf = NULL;
	_cleanup_free_ char *sda1 = NULL, *sda2 = NULL, *sdb1 = NULL, *sr0 = NULL, *sdz = NULL;
	_cleanup_free_ char *dm0 = NULL, *dm1 = NULL, *dm2 = NULL, *dm3 = NULL, *dm4 = NULL,
			    *dm5 = NULL;

	sda = scsi_disk(G_OS, 0, 0, "sda", "8:0", "0");
	sdb = scsi_disk(G_OS, 0, 1, "sdb", "8:16", "0");
	sr0 = scsi_disk(G_OS, 0, 2, "sr0", "11:0", "5");
	sdc = scsi_disk(G_DATA_B, 3, 2, "sdc", "8:32", "0");
	sdd = scsi_disk(G_DATA_C, 4, 0, "sdd", "8:48", "0");
	sdf = scsi_disk(G_DATA_C, 4, 1, "sdf", "8:80", "0");
	sdz = scsi_disk(G_DATA_B, 3, 5, "sdz", "65:144", "0");
	sda1 = partition(sda, "sda1", "1", "8:1");
	sda2 = partition(sda, "sda2", "2", "8:2");
	sdb1 = partition(sdb, "sdb1", "1", "8:17");

	dm0 = dm("dm-0", "253:0", "data", "CRYPT-LUKS2-0123456789abcdef0123456789abcdef-data");
	dm1 = dm("dm-1", "253:1", "vg0-kubelet",
		 "LVM-abcdefABCDEF0123456789ghijklmnopqrstuvwxyzABCDEF0123456789ghijkl");
	dm2 = dm("dm-2", "253:2", "luks1vol", "CRYPT-LUKS1-fedcba98765432100123456789abcdef-luks1vol");
	dm3 = dm("dm-3", "253:3", "swapcrypt", "CRYPT-PLAIN-swapcrypt");
	dm4 = dm("dm-4", "253:4", "osencrypt",
		 "CRYPT-LUKS2-11112222333344445555666677778888-osencrypt");
	dm5 = dm("dm-5", "253:5", "hdrvol", "CRYPT-LUKS2-99990000aaaabbbbccccddddeeeeffff-hdrvol");
	stack(dm0, "dm-0", sda2, "sda2");
	stack(dm1, "dm-1", dm0, "dm-0");
	link_rel(pj(dm1, "slaves/ghost"), "/sys/devices/virtual/block/ghost");
	stack(dm2, "dm-2", sdc, "sdc");
	stack(dm3, "dm-3", sdb1, "sdb1");
	stack(dm4, "dm-4", sdd, "sdd");
	stack(dm5, "dm-5", sdf, "sdf");
	put("/etc/crypttab", "# name dev key options\n"
			     "data UUID=0123 none luks\n"
			     "hdrvol /dev/sdf none luks,discard,header=/etc/keys/hdrvol.hdr");
}

/* NVMe: accelerator, direct disks out of PCI order, multipath, wrong vendor. */
static void build_nvme(void)
{
	_cleanup_free_ char *n0 = NULL, *n1 = NULL, *n2 = NULL, *n3 = NULL, *n4 = NULL;
	const char *subsys = "/sys/devices/virtual/nvme-subsystem/nvme-subsys3";

	n0 = nvme_ctrl("0000:00:04.0", "nvme0", "MSFT NVMe Accelerator v1.0              ", "0x1414");
	nvme_ns(n0, "nvme0n1", "1", "259:0");
	nvme_ns(n0, "nvme0n2", "2", "259:1");
	nvme_ns(n0, "nvme0n3", NULL, "259:2");
	n1 = nvme_ctrl("0000:00:06.0", "nvme1", "Microsoft NVMe Direct Disk v2           ", "0x1414");
	nvme_ns(n1, "nvme1n1", "1", "259:3");
	n2 = nvme_ctrl("0000:00:05.0", "nvme2", "Microsoft NVMe Direct Disk v2           ", "0x1414");
	nvme_ns(n2, "nvme2n1", "1", "259:4");
	n3 = nvme_ctrl("0000:00:07.0", "nvme3", "Microsoft NVMe Direct Disk              ", "0x1414");
	put(pj(subsys, "model"), "Microsoft NVMe Direct Disk              ");
	link_rel(pj(subsys, "nvme3"), n3);
	nvme_ns(subsys, "nvme3n1", "1", "259:5");
	n4 = nvme_ctrl("0000:00:08.0", "nvme4", "MSFT NVMe Accelerator v1.0              ", "0x8086");
	nvme_ns(n4, "nvme4n1", "1", "259:6");
}

/* virtio, zram, loop, and the faults. */
static void build_misc(void)
{
	/* virtio (no node under DIR/dev), zram, loop. */
	blockdir("/sys/devices/pci0000:00/0000:00:09.0/virtio2/block/vda", "vda", "254:0", "100", true);
	link_rel("/sys/devices/pci0000:00/0000:00:09.0/virtio2/block/vda/device",
		 "/sys/devices/pci0000:00/0000:00:09.0/virtio2");
	blockdir(VIRT "zram0", "zram0", "252:0", "8192", true);
	put(VIRT "zram0/backing_dev", "/dev/sdb1");
	blockdir(VIRT "zram1", "zram1", "252:1", "8192", true);
	put(VIRT "zram1/backing_dev", "none");
	blockdir(VIRT "zram2", "zram2", "252:2", "8192", true);
	blockdir(VIRT "loop0", "loop0", "7:0", "0", true);
	put(VIRT "loop0/loop/backing_file", "/var/lib/x.img");

	/* Faults. */
	link_rel("/sys/class/block/loopy", "/sys/class/block/loopz");
	link_rel("/sys/class/block/loopz", "/sys/class/block/loopy");
	link_rel("/sys/class/block/gone", VIRT "gone");
	mkdir_p(VIRT "ram0");
	link_rel("/sys/class/block/ram0", VIRT "ram0");
	put(VIRT "weird/dev", "nonsense");
	put(VIRT "weird/size", "abc");
	put(VIRT "weird/ro", "x");
	mkdir_p(VIRT "weird/removable");
	mkdir_p(VIRT "weird/slaves");
	link_rel(VIRT "weird/device", VIRT "weird/device");
	link_rel(VIRT "weird/holders", VIRT "weird/holders");
	link_rel("/sys/class/block/weird", VIRT "weird");

	/* /dev: sdz escapes to an absolute /etc/passwd (absent under DIR); sdb is a FIFO. */
	link_abs("/dev/sdz", "/etc/passwd");
	mkdir_p("/dev");
	mkfifo(host("/dev/sdb"), 0600);
	put("/dev/sda1", "not a filesystem");
}

static void build_node(void)
{
	build_scsi_dm();
	build_nvme();
	build_misc();
}

static const struct blockdev *dev(const struct block_graph *g, const char *name)
{
	static const struct blockdev none = { .name = (char *)"(missing)", .parent = -1 };
	int i = block_graph_find_name(g, name);

	if (i < 0) {
		tap_diag("%s missing from the graph", name);
		return &none;
	}
	return &g->devs[i];
}

static const char *name_at(const struct block_graph *g, const int *v, size_t n, size_t k)
{
	return k < n && v[k] >= 0 && (size_t)v[k] < g->n_devs ? g->devs[v[k]].name : NULL;
}

static void check_role(const struct block_graph *g, const char *name, enum azure_role role, int lun,
		       unsigned local, bool azure)
{
	const struct blockdev *d = dev(g, name);

	is_str(azure_role_to_string(d->role), azure_role_to_string(role), "%s: role", name);
	is_int(d->lun, lun, "%s: lun", name);
	is_int(d->local_index, local, "%s: local index", name);
	is_int(d->azure, azure, "%s: azure", name);
	ok(d->role_evidence, "%s: evidence given", name);
}

static void test_roles(const struct block_graph *g)
{
	const struct blockdev *sdc = dev(g, "sdc");

	check_role(g, "sda", ROLE_OS, -1, 0, true);
	check_role(g, "sdb", ROLE_RESOURCE, -1, 0, true);
	check_role(g, "sdc", ROLE_DATA, 2, 0, true);
	check_role(g, "sdd", ROLE_DATA, 0, 0, true);
	check_role(g, "nvme0n1", ROLE_OS, -1, 0, true);
	check_role(g, "nvme0n2", ROLE_DATA, 0, 0, true);
	check_role(g, "nvme0n3", ROLE_DATA, 1, 0, true);
	check_role(g, "nvme2n1", ROLE_LOCAL, -1, 1, true);
	check_role(g, "nvme1n1", ROLE_LOCAL, -1, 2, true);
	check_role(g, "nvme3n1", ROLE_LOCAL, -1, 3, true);
	check_role(g, "nvme4n1", ROLE_OTHER, -1, 0, false);
	check_role(g, "vda", ROLE_OTHER, -1, 0, false);
	is_str(blk_kind_to_string(dev(g, "sr0")->kind), "other", "sr0 (CD-ROM) is not a disk");
	is_int(dev(g, "sr0")->role, ROLE_OTHER, "sr0: no role");
	is_str(sdc->vmbus_device_id, "{" G_DATA_B "}", "sdc: VMBus id");
	is_str(sdc->scsi_address, "3:0:0:2", "sdc: SCSI address");
	is_str(sdc->vendor, "Msft", "sdc: vendor trimmed");
	is_str(sdc->model, "Virtual Disk", "sdc: model trimmed");
	is_str(sdc->role_evidence,
	       "VMBus device {" G_DATA_B "} (data controller), SCSI 3:0:0:2 => data LUN 2",
	       "sdc: evidence");
	is_str(disk_bus_to_string(sdc->bus), "scsi", "sdc: bus");
	is_str(dev(g, "nvme3n1")->nvme_controller, "nvme3", "nvme3n1: controller via subsystem");
	is_str(dev(g, "nvme3n1")->model, "Microsoft NVMe Direct Disk", "nvme3n1: subsystem model");
	is_int(dev(g, "nvme0n3")->nvme_nsid, 3, "nvme0n3: nsid from the name");
	is_str(dev(g, "nvme4n1")->vendor, "0x8086", "nvme4n1: PCI vendor read");
	is_str(disk_bus_to_string(dev(g, "vda")->bus), "virtio", "vda: virtio bus");
}

static void test_stacks(const struct block_graph *g)
{
	const struct blockdev *sda2 = dev(g, "sda2"), *dm0 = dev(g, "dm-0"), *dm1 = dev(g, "dm-1");

	is_str(blk_kind_to_string(sda2->kind), "part", "sda2 is a partition");
	is_int(sda2->partno, 2, "sda2: partition number");
	ok(sda2->parent >= 0 && streq(g->devs[sda2->parent].name, "sda"), "sda2: parent sda");
	is_int(sda2->major * 1000 + sda2->minor, 8002, "sda2: 8:2");
	ok(sda2->size_bytes == 2048 * 512, "sda2: size in bytes");
	is_str(name_at(g, sda2->holders, sda2->n_holders, 0), "dm-0", "sda2 held by dm-0");
	is_str(name_at(g, dm0->slaves, dm0->n_slaves, 0), "sda2", "dm-0 on sda2");
	is_str(name_at(g, dm0->holders, dm0->n_holders, 0), "dm-1", "dm-0 held by dm-1 (LVM)");
	is_int(dm1->n_slaves, 1, "dm-1: the slave not in the graph is ignored");
	is_str(name_at(g, dm1->slaves, dm1->n_slaves, 0), "dm-0", "dm-1 (LVM) on dm-0");
	is_int(dm1->dm_crypt, false, "LVM is not dm-crypt");
	is_int(dm0->dm_crypt, true, "dm-0 is dm-crypt");
	is_str(dm0->dm_name, "data", "dm-0: name");
	is_str(blk_kind_to_string(dm0->kind), "dm", "dm-0: kind");
	is_str(dev(g, "zram0")->zram_backing, "/dev/sdb1", "zram0: backing device");
	is_str(dev(g, "zram1")->zram_backing, NULL, "zram1: none => NULL");
	is_str(dev(g, "zram2")->zram_backing, NULL, "zram2: absent => NULL");
	is_str(blk_kind_to_string(dev(g, "zram0")->kind), "zram", "zram0: kind");
	is_str(blk_kind_to_string(dev(g, "loop0")->kind), "loop", "loop0: kind");
	is_int(block_graph_find_node(g, "/dev/mapper/data"), block_graph_find_name(g, "dm-0"),
	       "find /dev/mapper/data");
	is_int(block_graph_find_node(g, "/dev/dm-1"), block_graph_find_name(g, "dm-1"),
	       "find /dev/dm-1");
	is_int(block_graph_find_node(g, "sdc"), block_graph_find_name(g, "sdc"), "find sdc");
	is_int(block_graph_find_node(g, "/dev/mapper/nope"), -1, "find unknown mapping");
	is_int(block_graph_find_devnum(g, 253, 1), block_graph_find_name(g, "dm-1"), "find 253:1");
	is_int(block_graph_find_devnum(g, 0, 0), -1, "0:0 never matches");
}

static void test_faults(const struct block_graph *g)
{
	const struct blockdev *w = dev(g, "weird"), *r = dev(g, "ram0");

	is_int(block_graph_find_name(g, "loopy"), -1, "looping class link skipped");
	is_int(block_graph_find_name(g, "gone"), -1, "vanished device skipped");
	ok(w->major == 0 && w->minor == 0 && w->size_bytes == 0 && !w->readonly && !w->removable,
	   "weird: hostile attributes left unset");
	is_int(w->bus, BUS_UNKNOWN, "weird: looping device link => no identity");
	ok(r->size_bytes == 0 && r->n_slaves == 0 && r->n_holders == 0, "ram0: missing attributes");
	is_str(dev(g, "vda")->sig_error, "no device node /dev/vda",
	       "vda: no node under DIR, the host's is not read");
	is_str(dev(g, "sdz")->sig_error, "no device node /dev/sdz",
	       "sdz -> /etc/passwd resolves inside DIR");
	ok(dev(g, "sdb")->sig_error && strstr(dev(g, "sdb")->sig_error, "cannot open"),
	   "sdb: a FIFO node is refused, not waited on");
	is_str(dev(g, "sda1")->sig_type, NULL, "sda1: no signature in plain text");
	is_str(dev(g, "sda1")->sig_error, NULL, "sda1: no signature is no error");
}

static void test_confinement(const struct sysroot *sr)
{
	_cleanup_free_ char *h = NULL;
	char want[PATH_MAX * 2];

	snprintf(want, sizeof(want), "%s/etc/passwd", root);
	put("/etc/passwd", "fixture");
	is_int(sysroot_resolve_host(sr, "/dev/sdz", &h), 0, "sdz resolves");
	is_str(h, want, "absolute link target taken inside DIR");
	unlink(host("/etc/passwd"));
}

static void check_crypt(const struct block_graph *g, const char *name, const char *type,
			const char *mode, unsigned bits, unsigned sector, const char *header)
{
	const struct blockdev *d = dev(g, name);
	const struct crypt_params *p = &d->crypt;

	is_str(crypt_source_to_string(p->source), "header", "%s: parameters from the header", name);
	is_str(p->type, type, "%s: type", name);
	is_str(p->cipher, "aes", "%s: cipher", name);
	is_str(p->mode, mode, "%s: mode", name);
	is_int(p->key_bits, bits, "%s: key bits", name);
	is_int(p->sector_size, sector, "%s: sector size", name);
	is_str(p->header, header, "%s: header path", name);
	ok(p->uuid && strlen(p->uuid) == 36, "%s: LUKS uuid", name);
	is_str(p->error, NULL, "%s: no error", name);
}

static void test_crypt(const struct block_graph *g)
{
	const struct blockdev *dm3 = dev(g, "dm-3"), *sda2 = dev(g, "sda2");

	is_str(dm3->crypt.type, "PLAIN", "plain: type from the dm uuid");
	is_int(dm3->crypt.source, CRYPT_SRC_NONE, "plain: unknown under a sysroot");
	ok(dm3->crypt.error && startswith(dm3->crypt.error, "plain dm-crypt keeps no header"),
	   "plain: the reason says why (no dm attempt first)");
	if (!luks_made) {
		is_int(dev(g, "dm-0")->crypt.source, CRYPT_SRC_NONE, "no image: source none");
		ok(dev(g, "dm-0")->crypt.error, "no image: error recorded");
		is_str(dev(g, "dm-0")->crypt.type, "LUKS2", "no image: type from the dm uuid");
		return;
	}
	check_crypt(g, "dm-0", "LUKS2", "xts-plain64", 512, 4096, "/dev/sda2");
	check_crypt(g, "dm-2", "LUKS1", "cbc-essiv:sha256", 256, 512, "/dev/sdc");
	check_crypt(g, "dm-4", "LUKS2", "xts-plain64", 256, 4096, "/boot/luks/osluksheader");
	check_crypt(g, "dm-5", "LUKS2", "xts-plain64", 512, 4096, "/etc/keys/hdrvol.hdr");
	is_str(sda2->sig_type, "crypto_LUKS", "sda2: libblkid sees LUKS");
	is_str(sda2->sig_version, "2", "sda2: LUKS version 2");
	is_str(sda2->sig_uuid, dev(g, "dm-0")->crypt.uuid, "sda2: blkid and cryptsetup agree");
	is_str(dev(g, "sdc")->sig_version, "1", "sdc: LUKS version 1");
	ok(dev(g, "dm-5")->crypt.error == NULL && dev(g, "sdf")->sig_type == NULL,
	   "hdrvol: the detached header is read, not its empty data device");
}

static void test_no_device_reads(const struct sysroot *sr)
{
	struct probe_options opts = { .allow_dm_ioctl = true, .read_devices = false };
	struct block_graph g = { 0 };
	_cleanup_free_ char *err = NULL;

	if (!is_int(block_graph_scan(sr, &opts, &g, &err), 0, "scan without device reads"))
		return;
	is_int(dev(&g, "dm-0")->crypt.source, CRYPT_SRC_NONE, "no reads: no parameters");
	/* No "device-mapper: ..." prefix: the dm path was not tried under a sysroot. */
	is_str(dev(&g, "dm-0")->crypt.error, "reading devices is disabled",
	       "no reads: says so, and no dm ioctl under a sysroot");
	ok(!dev(&g, "vda")->sig_error && !dev(&g, "sda2")->sig_type, "no reads: no signatures");
	block_graph_done(&g);
}

static void test_fallback(const struct sysroot *sr)
{
	struct probe_options opts = { 0 };
	struct block_graph g = { 0 };
	_cleanup_free_ char *err = NULL;
	char off[PATH_MAX * 2 + 16], on[PATH_MAX * 2];

	snprintf(on, sizeof(on), "%s", host("/sys/class/block"));
	snprintf(off, sizeof(off), "%s.off", on);
	if (!ok(rename(on, off) == 0, "hide /sys/class/block"))
		return;
	if (is_int(block_graph_scan(sr, &opts, &g, &err), 0, "fallback to /sys/block")) {
		const struct blockdev *p = dev(&g, "sda2");

		ok(p->parent >= 0 && streq(g.devs[p->parent].name, "sda"),
		   "fallback: partition found under its disk");
		is_str(name_at(&g, dev(&g, "dm-0")->slaves, dev(&g, "dm-0")->n_slaves, 0), "sda2",
		       "fallback: stack intact");
		is_int(dev(&g, "nvme0n2")->role, ROLE_DATA, "fallback: roles intact");
		block_graph_done(&g);
	}
	snprintf(on, sizeof(on), "%s", host("/sys/block"));
	snprintf(off + strlen(off), 8, "2");
	rename(on, off);
	is_int(block_graph_scan(sr, &opts, &g, &err) < 0, 1, "no block dir at all: an error");
	ok(err && strstr(err, "/sys/class/block"), "the error names /sys/class/block");
}

/* ---- 1,000 disks ---- */

static void test_many(void)
{
	_cleanup_(sysroot_freep) struct sysroot *sr = NULL;
	struct probe_options opts = { .read_devices = true };
	struct block_graph g = { 0 };
	_cleanup_free_ char *err = NULL;
	struct timespec a, b, wa, wb;
	double secs, limit = getenv("ATREST_UNDER_VALGRIND")   ? 30.0 :
			     getenv("ATREST_UNDER_EMULATION") ? 20.0 :
								1.0;

#ifdef __SANITIZE_ADDRESS__
	limit *= 3; /* ASan's shadow memory and checks: 2-3 times the CPU */
#endif

	snprintf(root + strlen(root), 8, "/many");
	for (int i = 0; i < 1000; i++) {
		char d[PATH_MAX], name[32], devnum[32];

		snprintf(name, sizeof(name), "vd%d", i);
		snprintf(devnum, sizeof(devnum), "254:%d", i);
		snprintf(d, sizeof(d), "/sys/devices/pci0000:00/0000:01:%02x.%d/virtio%d/block/%s",
			 i / 8, i % 8, i, name);
		blockdir(d, name, devnum, "2048", true);
	}
	if (!is_int(sysroot_new(root, &sr), 0, "1,000-disk root"))
		return;
	/* CPU time, not wall time: a loaded CI machine must not make it flaky. */
	clock_gettime(CLOCK_MONOTONIC, &wa);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	is_int(block_graph_scan(sr, &opts, &g, &err), 0, "1,000 disks scanned");
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	clock_gettime(CLOCK_MONOTONIC, &wb);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	tap_diag("wall time %.3f s",
		 (double)(wb.tv_sec - wa.tv_sec) + (double)(wb.tv_nsec - wa.tv_nsec) / 1e9);
	is_int(g.n_devs, 1000, "1,000 devices in the graph");
	ok(secs < limit, "1,000 disks in %.3f s of CPU (limit %.1f s)", secs, limit);
	block_graph_done(&g);
	*strrchr(root, '/') = '\0';
}

static int rm_rf(const char *dir)
{
	char cmd[PATH_MAX * 2 + 16];

	if (strncmp(dir, "/tmp/", 5) != 0 && !getenv("TMPDIR"))
		return -EINVAL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -EIO;
}

int main(void)
{
	_cleanup_(sysroot_freep) struct sysroot *sr = NULL;
	struct probe_options opts = { .allow_dm_ioctl = true, .read_devices = true };
	struct block_graph g = { 0 };
	_cleanup_free_ char *err = NULL;
	const char *tmp = getenv("TMPDIR");

	snprintf(work, sizeof(work), "%s/atrest-probe-scan.XXXXXX", isempty(tmp) ? "/tmp" : tmp);
	if (!mkdtemp(work))
		tap_skip_all("cannot make a temp dir");
	snprintf(root, sizeof(root), "%s/root", work);
	mkdir_p_host(root);
	build_node();
	make_luks_images();
	if (is_int(sysroot_new(root, &sr), 0, "sysroot") &&
	    is_int(block_graph_scan(sr, &opts, &g, &err), 0, "scan the node")) {
		test_roles(&g);
		test_stacks(&g);
		test_crypt(&g);
		test_faults(&g);
		test_confinement(sr);
		block_graph_done(&g);
		test_no_device_reads(sr);
		test_fallback(sr);
	}
	test_many();
	if (getenv("ATREST_KEEP_TMP"))
		tap_diag("kept %s", work);
	else
		rm_rf(work);
	return tap_done();
}
