/* SPDX-License-Identifier: Apache-2.0 */
/* The block-device graph from sysfs: every disk, partition and mapping with
 * its identity, Azure role and stack, read through the sysroot. A device
 * that cannot be read is recorded with what could be read, never fatal. */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>

#include "lib/log.h"
#include "probe-internal.h"

#define MAX_DEVICES 65536
#define MAX_WALK_UP 32

struct scan {
	const struct sysroot *sr;
	struct scan_dev *v;
	size_t n, cap;
};

/* A sysfs directory already resolved inside the root, with a descriptor
 * opened through the sysroot when one could be: a scan of 1,000 devices
 * reads some 10,000 attributes, and a full chase each would dominate. */
struct sysdir {
	const struct sysroot *sr;
	const char *path; /* logical, resolved */
	int fd;           /* -1: every read chases */
};

/* A device during the scan: names still to be turned into indices. */
struct scan_dev {
	struct blockdev d;
	char *parent_name;
	char *pci; /* NVMe controller's PCI address */
	char **slave_names;
	char **holder_names;
	struct sysdir dir; /* the block dir, open while it is read */
};

/* Reads a one-component attribute relative to a directory fd that was
 * opened through the sysroot: O_NOFOLLOW cannot leave the root (a symlink
 * gives -ELOOP and is chased by the caller), and O_NONBLOCK with the
 * regular-file check keeps a FIFO in a hostile tree from blocking us. */
static int read_attr_fd(int dirfd, const char *name, char **ret)
{
	_cleanup_close_ int fd = -1;
	char buf[4097];
	struct stat st;
	size_t len = 0;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
	while (len < sizeof(buf) - 1) {
		ssize_t k = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		len += (size_t)k;
	}
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	*ret = strdup(strstrip(buf));
	return *ret ? 0 : -ENOMEM;
}

/* path's parent opened through the sysroot, then its last component. */
static int read_attr_path(const struct sysroot *sr, const char *path, char **ret)
{
	_cleanup_free_ char *parent = strdup(path);
	_cleanup_close_ int fd = -1;
	char *slash;
	int r;

	if (!parent)
		return -ENOMEM;
	slash = strrchr(parent, '/');
	if (!slash || !slash[1])
		return -EINVAL;
	*slash = '\0';
	r = sysroot_open(sr, parent[0] ? parent : "/", O_RDONLY | O_DIRECTORY, &fd);
	if (r < 0)
		return r;
	return read_attr_fd(fd, slash + 1, ret);
}

static int attr_at(const struct sysroot *sr, const char *dir, const char *name, char **ret)
{
	_cleanup_free_ char *p = path_join(dir, name), *resolved = NULL;
	int r;

	if (!p)
		return -ENOMEM;
	r = read_attr_path(sr, p, ret);
	if (r != -ELOOP)
		return r;
	/* The attribute itself is a symlink: resolve it inside the root. */
	r = sysroot_chase(sr, p, &resolved);
	if (r < 0)
		return r;
	return read_attr_path(sr, resolved, ret);
}

static int dir_attr(const struct sysdir *d, const char *name, char **ret)
{
	if (d->fd >= 0 && !strchr(name, '/')) {
		int r = read_attr_fd(d->fd, name, ret);

		if (r != -ELOOP)
			return r;
	}
	return attr_at(d->sr, d->path, name, ret);
}

static int dir_u64(const struct sysdir *d, const char *name, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = dir_attr(d, name, &s);
	if (r < 0)
		return r;
	return safe_atou64(s, ret);
}

static bool dir_bool(const struct sysdir *d, const char *name)
{
	uint64_t v = 0;

	return dir_u64(d, name, &v) >= 0 && v != 0;
}

static int chase_at(const struct sysroot *sr, const char *dir, const char *name, char **ret)
{
	_cleanup_free_ char *p = path_join(dir, name);

	if (!p)
		return -ENOMEM;
	return sysroot_chase(sr, p, ret);
}

static int read_names(DIR *d, size_t max, char ***ret)
{
	_cleanup_strv_free_ char **v = NULL;
	struct dirent *de;
	size_t n = 0;
	int r;

	v = calloc(1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	while ((de = readdir(d)) && n < max) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		r = strv_extend(&v, de->d_name);
		if (r < 0)
			return r;
		n++;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

/* Entry names of a directory (not . and ..), at most max. */
int probe_list_dir(const struct sysroot *sr, const char *path, size_t max, char ***ret)
{
	_cleanup_closedir_ DIR *d = NULL;
	int r;

	r = sysroot_opendir(sr, path, &d);
	if (r < 0)
		return r;
	return read_names(d, max, ret);
}

static int dir_list(const struct sysdir *sd, const char *name, size_t max, char ***ret)
{
	_cleanup_free_ char *p = NULL;

	if (sd->fd >= 0) {
		_cleanup_closedir_ DIR *d = NULL;
		int fd = openat(sd->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd >= 0) {
			d = fdopendir(fd);
			if (!d) {
				close(fd);
				return -errno;
			}
			return read_names(d, max, ret);
		}
		if (errno != ELOOP && errno != ENOTDIR)
			return -errno;
	}
	p = path_join(sd->path, name);
	if (!p)
		return -ENOMEM;
	return probe_list_dir(sd->sr, p, max, ret);
}

static char *str_lower(char *s)
{
	for (char *p = s; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

bool scsi_is_hctl(const char *s)
{
	unsigned a, b, c, d;
	char tail;

	return sscanf(s, "%u:%u:%u:%u%c", &a, &b, &c, &d, &tail) == 4;
}

/* The VMBus device_id of the nearest ancestor of dir that has one. */
static char *vmbus_parent_id(const struct sysroot *sr, const char *dir)
{
	_cleanup_free_ char *p = strdup(dir);

	for (unsigned i = 0; p && i < MAX_WALK_UP; i++) {
		char *slash = strrchr(p, '/'), *id = NULL;

		if (!slash || slash == p)
			break;
		*slash = '\0';
		if (!startswith(p, "/sys/devices/"))
			break;
		if (attr_at(sr, p, "device_id", &id) >= 0) {
			if (!isempty(id))
				return str_lower(id);
			free(id);
		}
	}
	return NULL;
}

static void scsi_load(const struct sysroot *sr, struct scan_dev *sd, const char *devdir)
{
	struct blockdev *d = &sd->d;
	_cleanup_free_ char *type = NULL;

	d->bus = BUS_SCSI;
	d->scsi_address = strdup(path_basename(devdir));
	(void)attr_at(sr, devdir, "vendor", &d->vendor);
	(void)attr_at(sr, devdir, "model", &d->model);
	d->vmbus_device_id = vmbus_parent_id(sr, devdir);
	/* A CD-ROM (type 5) or any other non-disk SCSI device is no disk. */
	if (attr_at(sr, devdir, "type", &type) >= 0 && !streq(type, "0"))
		d->kind = BLK_OTHER;
}

unsigned nvme_nsid_from_name(const char *name)
{
	const char *n = strrchr(name, 'n');
	unsigned u;

	if (n && n != name && safe_atou(n + 1, &u) >= 0 && isdigit((unsigned char)n[1]))
		return u;
	return 0;
}

/* The namespace id: the nsid attribute, else Y of nvmeXnY. */
static unsigned nvme_nsid(const struct scan_dev *sd)
{
	uint64_t v;

	if (dir_u64(&sd->dir, "nsid", &v) >= 0 && v > 0 && v <= UINT32_MAX)
		return (unsigned)v;
	return nvme_nsid_from_name(sd->d.name);
}

/* With native multipath, device -> nvme-subsysN holding nvmeX links. */
static char *subsys_controller(const struct sysroot *sr, const char *subsys)
{
	_cleanup_strv_free_ char **ents = NULL;
	const char *best = NULL;
	char *ctrl = NULL;

	if (probe_list_dir(sr, subsys, 4096, &ents) < 0)
		return NULL;
	for (char **e = ents; *e; e++) {
		unsigned u;

		if (startswith(*e, "nvme") && safe_atou(*e + 4, &u) >= 0 &&
		    isdigit((unsigned char)(*e)[4]) && (!best || strnatcmp(*e, best) < 0))
			best = *e;
	}
	if (best && chase_at(sr, subsys, best, &ctrl) < 0)
		ctrl = NULL;
	return ctrl;
}

static void nvme_load(const struct sysroot *sr, struct scan_dev *sd, const char *devdir)
{
	struct blockdev *d = &sd->d;
	_cleanup_free_ char *ctrl = NULL, *pcidir = NULL, *vendor = NULL;

	d->bus = BUS_NVME;
	d->nvme_nsid = nvme_nsid(sd);
	if (startswith(path_basename(devdir), "nvme-subsys")) {
		(void)attr_at(sr, devdir, "model", &d->model);
		ctrl = subsys_controller(sr, devdir);
	} else {
		ctrl = strdup(devdir);
	}
	if (!ctrl)
		return;
	d->nvme_controller = strdup(path_basename(ctrl));
	if (!d->model)
		(void)attr_at(sr, ctrl, "model", &d->model);
	if (chase_at(sr, ctrl, "device", &pcidir) < 0)
		return;
	sd->pci = strdup(path_basename(pcidir));
	if (attr_at(sr, pcidir, "vendor", &vendor) >= 0 && !isempty(vendor)) {
		char *end;
		unsigned long v = strtoul(vendor, &end, 16);

		if (*end == '\0' && v <= 0xffff)
			d->vendor = strprintf("0x%04lx", v);
	}
}

static unsigned pci_vendor(const struct blockdev *d)
{
	unsigned long v;

	if (d->bus != BUS_NVME || !d->vendor)
		return 0;
	v = strtoul(d->vendor, NULL, 16);
	return (unsigned)v;
}

static void identity_load(const struct sysroot *sr, struct scan_dev *sd)
{
	_cleanup_free_ char *devdir = NULL;
	const char *base;

	if (chase_at(sr, sd->d.syspath, "device", &devdir) < 0)
		return; /* no parent device (ram, nbd, ...), or dangling */
	base = path_basename(devdir);
	if (scsi_is_hctl(base))
		scsi_load(sr, sd, devdir);
	else if (startswith(base, "nvme"))
		nvme_load(sr, sd, devdir);
	else if (strstr(devdir, "/virtio"))
		sd->d.bus = BUS_VIRTIO;
	else
		sd->d.bus = BUS_OTHER;
}

static void role_load(struct blockdev *d)
{
	struct disk_identity id = {
		.bus = d->bus,
		.vendor = d->vendor,
		.model = d->model,
		.vmbus_device_id = d->vmbus_device_id,
		.scsi_address = d->scsi_address,
		.pci_vendor = pci_vendor(d),
		.nvme_nsid = d->nvme_nsid,
	};
	struct disk_role role;

	if (d->kind == BLK_OTHER) {
		d->role_evidence = strprintf("%s: not a disk (SCSI type other than 0)", d->name);
		return;
	}
	if (azure_disk_role(&id, &role) < 0)
		return;
	d->azure = role.azure;
	d->role = role.role;
	d->lun = role.lun;
	d->role_evidence = role.evidence;
}

static enum blk_kind kind_of(const char *name)
{
	if (startswith(name, "dm-"))
		return BLK_DM;
	if (startswith(name, "loop"))
		return BLK_LOOP;
	if (startswith(name, "zram"))
		return BLK_ZRAM;
	if (startswith(name, "md") && isdigit((unsigned char)name[2]))
		return BLK_MD;
	return BLK_DISK;
}

static void dm_load(const struct sysroot *sr, struct blockdev *d)
{
	(void)attr_at(sr, d->syspath, "dm/name", &d->dm_name);
	(void)attr_at(sr, d->syspath, "dm/uuid", &d->dm_uuid);
	d->dm_crypt = dm_uuid_is_crypt(d->dm_uuid);
	if (d->dm_crypt)
		d->crypt.type = crypt_type_from_uuid(d->dm_uuid);
	/* Only LUKS2 reencrypts online; its header says whether it does. */
	d->crypt.reencrypt = d->crypt.type && !streq(d->crypt.type, "LUKS2") ? REENCRYPT_NONE :
									     REENCRYPT_UNKNOWN;
}

static void zram_load(struct scan_dev *sd)
{
	struct blockdev *d = &sd->d;
	char *b = NULL;

	if (dir_attr(&sd->dir, "backing_dev", &b) < 0)
		return;
	if (isempty(b) || streq(b, "none"))
		free(b);
	else
		d->zram_backing = b;
}

/* slaves/ or holders/: absent is normal (partitions have no slaves/), any
 * other failure leaves the stack unknown and is recorded. */
static void links_list(struct scan_dev *sd, const char *which, char ***ret)
{
	int r = dir_list(&sd->dir, which, 4096, ret);

	if (r < 0 && r != -ENOENT && !sd->d.links_error)
		sd->d.links_error = strprintf("%s/%s: %s", sd->d.name, which, strerror(-r));
}

static void basics_load(struct scan_dev *sd)
{
	struct blockdev *d = &sd->d;
	_cleanup_free_ char *dev = NULL;
	uint64_t v;

	if (dir_attr(&sd->dir, "dev", &dev) >= 0 && sscanf(dev, "%u:%u", &d->major, &d->minor) != 2)
		d->major = d->minor = 0;
	if (dir_u64(&sd->dir, "size", &v) >= 0 && v <= UINT64_MAX / 512)
		d->size_bytes = v * 512;
	d->readonly = dir_bool(&sd->dir, "ro");
	d->removable = dir_bool(&sd->dir, "removable");
	links_list(sd, "slaves", &sd->slave_names);
	links_list(sd, "holders", &sd->holder_names);
}

static void scan_dev_done(struct scan_dev *sd);

/* Kind, identity and kind-specific attributes of an opened device. */
static void dev_read(struct scan *s, struct scan_dev *sd)
{
	struct blockdev *d = &sd->d;
	uint64_t partno;

	basics_load(sd);
	if (dir_u64(&sd->dir, "partition", &partno) >= 0) {
		_cleanup_free_ char *up = strdup(d->syspath);
		char *slash = up ? strrchr(up, '/') : NULL;

		d->kind = BLK_PART;
		d->partno = partno <= UINT32_MAX ? (unsigned)partno : 0;
		/* A partition's dir lives inside its disk's dir. */
		if (slash) {
			*slash = '\0';
			sd->parent_name = strdup(path_basename(up));
		}
	} else {
		d->kind = kind_of(d->name);
	}
	if (d->kind == BLK_DISK)
		identity_load(s->sr, sd);
	else if (d->kind == BLK_DM)
		dm_load(s->sr, d);
	else if (d->kind == BLK_ZRAM)
		zram_load(sd);
}

static int scan_push(struct scan *s, struct scan_dev *sd)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct scan_dev *v = realloc(s->v, nc * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = nc;
	}
	s->v[s->n++] = *sd;
	return 0;
}

/* Reads one device; a device that vanished or whose link loops is left out. */
static int dev_load(struct scan *s, const char *name, const char *path)
{
	struct scan_dev sd = { .d = { .parent = -1, .lun = -1 }, .dir = { .fd = -1 } };
	struct blockdev *d = &sd.d;
	int r;

	r = sysroot_chase(s->sr, path, &d->syspath);
	if (r < 0) {
		log_debug("%s: %s, skipped", path, strerror(-r));
		return 0;
	}
	d->name = strdup(name);
	d->devnode = strprintf("/dev/%s", name);
	if (!d->name || !d->devnode) {
		scan_dev_done(&sd);
		return -ENOMEM;
	}
	sd.dir = (struct sysdir){ .sr = s->sr, .path = d->syspath, .fd = -1 };
	if (sysroot_open(s->sr, d->syspath, O_RDONLY | O_DIRECTORY, &sd.dir.fd) < 0)
		sd.dir.fd = -1;
	dev_read(s, &sd);
	closep(&sd.dir.fd);
	sd.dir = (struct sysdir){ .fd = -1 };
	r = scan_push(s, &sd);
	if (r < 0)
		scan_dev_done(&sd);
	return r;
}

static void crypt_params_done(struct crypt_params *p)
{
	free(p->type);
	free(p->cipher);
	free(p->mode);
	free(p->uuid);
	free(p->header);
	free(p->error);
}

static void blockdev_done(struct blockdev *d)
{
	char **strs[] = {
		&d->name,          &d->devnode,      &d->syspath,         &d->vendor,
		&d->model,         &d->scsi_address, &d->vmbus_device_id, &d->nvme_controller,
		&d->role_evidence, &d->dm_name,      &d->dm_uuid,         &d->zram_backing,
		&d->sig_type,      &d->sig_version,  &d->sig_uuid,        &d->sig_error,
		&d->sig_label,
	};

	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		free(*strs[i]);
	crypt_params_done(&d->crypt);
	free(d->slaves);
	free(d->holders);
	strv_free(d->missing_slaves);
	strv_free(d->missing_holders);
	free(d->links_error);
}

static void scan_dev_done(struct scan_dev *sd)
{
	closep(&sd->dir.fd);
	blockdev_done(&sd->d);
	free(sd->parent_name);
	free(sd->pci);
	strv_free(sd->slave_names);
	strv_free(sd->holder_names);
}

void block_graph_done(struct block_graph *g)
{
	if (!g)
		return;
	fs_members_done(g);
	for (size_t i = 0; i < g->n_devs; i++)
		blockdev_done(&g->devs[i]);
	free(g->devs);
	*g = (struct block_graph){ 0 };
}

static int scan_dev_cmp(const void *a, const void *b)
{
	const struct scan_dev *x = a, *y = b;

	return strnatcmp(x->d.name, y->d.name);
}

/* The fallback layout: /sys/block/<disk> and its partition subdirs. */
static int list_sys_block(const struct sysroot *sr, char **disks, char ***names, char ***paths)
{
	for (char **dk = disks; *dk; dk++) {
		_cleanup_free_ char *dp = path_join("/sys/block", *dk);
		_cleanup_strv_free_ char **sub = NULL;

		if (!dp || strv_extend(names, *dk) < 0 || strv_push(paths, strdup(dp)) < 0)
			return -ENOMEM;
		if (probe_list_dir(sr, dp, 4096, &sub) < 0)
			continue;
		for (char **e = sub; *e; e++) {
			_cleanup_free_ char *pp = path_join(dp, *e), *pf = NULL;
			struct stat st;

			pf = pp ? path_join(pp, "partition") : NULL;
			if (!pf)
				return -ENOMEM;
			if (sysroot_stat(sr, pf, &st) < 0)
				continue;
			if (strv_extend(names, *e) < 0 || strv_push(paths, TAKE_PTR(pp)) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Names and logical paths of every block dir: /sys/class/block, else
 * /sys/block. Fails only when neither can be listed. */
static int list_devices(const struct sysroot *sr, char ***ret_names, char ***ret_paths, char **ret_error)
{
	_cleanup_strv_free_ char **names = NULL, **paths = NULL, **disks = NULL;
	int r;

	paths = calloc(1, sizeof(char *));
	if (!paths)
		return -ENOMEM;
	r = probe_list_dir(sr, "/sys/class/block", MAX_DEVICES, &names);
	if (r >= 0) {
		for (char **e = names; *e; e++)
			if (strv_push(&paths, path_join("/sys/class/block", *e)) < 0)
				return -ENOMEM;
	} else if (probe_list_dir(sr, "/sys/block", MAX_DEVICES, &disks) >= 0) {
		names = calloc(1, sizeof(char *));
		if (!names)
			return -ENOMEM;
		r = list_sys_block(sr, disks, &names, &paths);
		if (r < 0)
			return r;
	} else {
		*ret_error = strprintf("cannot list /sys/class/block: %s", strerror(-r));
		return r;
	}
	*ret_names = TAKE_PTR(names);
	*ret_paths = TAKE_PTR(paths);
	return 0;
}

static int name_index(const struct scan *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (streq(s->v[i].d.name, name))
			return (int)i;
	return -1;
}

/* Names in slaves/ and holders/ -> indices; names not in the graph go to
 * *missing (a walk then says unknown rather than skip them). */
static int link_indices(const struct scan *s, char **names, int **ret, size_t *ret_n,
			char ***missing)
{
	size_t n = strv_length(names), k = 0;
	int *v;

	if (n == 0)
		return 0;
	v = calloc(n, sizeof(int));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int idx = name_index(s, names[i]);

		if (idx >= 0)
			v[k++] = idx;
		else if (strv_extend(missing, names[i]) < 0) {
			free(v);
			return -ENOMEM;
		}
	}
	if (k == 0) {
		free(v);
		return 0;
	}
	*ret = v;
	*ret_n = k;
	return 0;
}

static int resolve_links(struct scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct scan_dev *sd = &s->v[i];
		int r;

		if (sd->parent_name)
			sd->d.parent = name_index(s, sd->parent_name);
		r = link_indices(s, sd->slave_names, &sd->d.slaves, &sd->d.n_slaves,
				 &sd->d.missing_slaves);
		if (r >= 0)
			r = link_indices(s, sd->holder_names, &sd->d.holders, &sd->d.n_holders,
					 &sd->d.missing_holders);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Moves the devices out of the scan into the graph; pci[i] is the NVMe
 * controller address of device i (NULL entries allowed). */
static int scan_finish(struct scan *s, struct block_graph *g, char ***ret_pci)
{
	char **pci;

	g->devs = calloc(s->n ? s->n : 1, sizeof(*g->devs));
	pci = calloc(s->n ? s->n : 1, sizeof(char *));
	if (!g->devs || !pci) {
		free(g->devs);
		free(pci);
		g->devs = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++) {
		g->devs[i] = s->v[i].d;
		s->v[i].d = (struct blockdev){ 0 };
		pci[i] = TAKE_PTR(s->v[i].pci);
	}
	g->n_devs = s->n;
	*ret_pci = pci;
	return 0;
}

static void scan_done(struct scan *s)
{
	for (size_t i = 0; i < s->n; i++)
		scan_dev_done(&s->v[i]);
	free(s->v);
	*s = (struct scan){ 0 };
}

static void pci_free(char **pci, size_t n)
{
	if (!pci)
		return;
	for (size_t i = 0; i < n; i++)
		free(pci[i]);
	free(pci);
}

static bool is_bek_fs(const struct blockdev *d)
{
	return d->sig_type && streq(d->sig_type, "vfat") && d->sig_label &&
	       streq(d->sig_label, ADE_BEK_LABEL);
}

/* ADE's key disk: an Azure disk not placed as OS, resource or local whose
 * FAT filesystem (whole disk or a partition) is labelled "BEK VOLUME". */
static void mark_ade_bek(struct block_graph *g)
{
	for (size_t i = 0; i < g->n_devs; i++) {
		struct blockdev *d = &g->devs[i];
		const struct blockdev *fs = NULL;
		char *ev;

		if (d->kind != BLK_DISK || !d->azure || (d->role != ROLE_DATA && d->role != ROLE_OTHER))
			continue;
		if (is_bek_fs(d))
			fs = d;
		for (size_t k = 0; !fs && k < g->n_devs; k++)
			if (g->devs[k].kind == BLK_PART && g->devs[k].parent == (int)i &&
			    is_bek_fs(&g->devs[k]))
				fs = &g->devs[k];
		if (!fs)
			continue;
		d->ade_bek = true;
		ev = strprintf("%s; ADE key disk: %s is vfat labelled '%s'",
			       strna(d->role_evidence), fs->name, ADE_BEK_LABEL);
		if (ev) {
			free(d->role_evidence);
			d->role_evidence = ev;
		}
	}
}

static void graph_probe(const struct sysroot *sr, const struct probe_options *opts,
			struct block_graph *g, char **pci)
{
	for (size_t i = 0; i < g->n_devs; i++)
		if (g->devs[i].kind == BLK_DISK || g->devs[i].kind == BLK_OTHER)
			role_load(&g->devs[i]);
	azure_assign_local_indices(g->devs, g->n_devs, pci);
	for (size_t i = 0; i < g->n_devs; i++) {
		struct blockdev *d = &g->devs[i];

		if (d->kind == BLK_DM && d->dm_crypt)
			crypt_probe(sr, opts, g, d);
		if (opts->read_devices)
			signature_probe(sr, d);
	}
	mark_ade_bek(g);
}

int block_graph_scan(const struct sysroot *sr, const struct probe_options *opts,
		     struct block_graph *ret, char **ret_error)
{
	static const struct probe_options defaults = { 0 };
	_cleanup_strv_free_ char **names = NULL, **paths = NULL;
	struct scan s = { .sr = sr };
	struct block_graph g = { 0 };
	char **pci = NULL;
	char *err = NULL;
	int r;

	if (!opts)
		opts = &defaults;
	r = list_devices(sr, &names, &paths, &err);
	if (r < 0) {
		if (ret_error)
			*ret_error = err ? err :
					   strprintf("cannot list block devices: %s", strerror(-r));
		else
			free(err);
		return r;
	}
	for (size_t i = 0; names[i] && paths[i]; i++) {
		r = dev_load(&s, names[i], paths[i]);
		if (r < 0)
			goto fail;
	}
	qsort(s.v, s.n, sizeof(*s.v), scan_dev_cmp);
	r = resolve_links(&s);
	if (r < 0)
		goto fail;
	r = scan_finish(&s, &g, &pci);
	if (r < 0)
		goto fail;
	graph_probe(sr, opts, &g, pci);
	pci_free(pci, g.n_devs);
	fs_members_scan(sr, &g);
	scan_done(&s);
	*ret = g;
	return 0;
fail:
	scan_done(&s);
	if (ret_error)
		*ret_error = strprintf("block device scan: %s", strerror(-r));
	return r;
}

int block_graph_find_devnum(const struct block_graph *g, unsigned major, unsigned minor)
{
	if (!g || (major == 0 && minor == 0))
		return -1;
	for (size_t i = 0; i < g->n_devs; i++)
		if (g->devs[i].major == major && g->devs[i].minor == minor)
			return (int)i;
	return -1;
}

int block_graph_find_name(const struct block_graph *g, const char *name)
{
	if (!g || isempty(name))
		return -1;
	for (size_t i = 0; i < g->n_devs; i++)
		if (streq(g->devs[i].name, name))
			return (int)i;
	return -1;
}

int block_graph_find_node(const struct block_graph *g, const char *devnode)
{
	if (!g || isempty(devnode))
		return -1;
	if (startswith(devnode, "/dev/mapper/")) {
		const char *m = devnode + strlen("/dev/mapper/");

		for (size_t i = 0; i < g->n_devs; i++)
			if (streq_ptr(g->devs[i].dm_name, m))
				return (int)i;
		return -1;
	}
	if (startswith(devnode, "/dev/"))
		devnode += strlen("/dev/");
	if (strchr(devnode, '/'))
		return -1;
	return block_graph_find_name(g, devnode);
}
