/* SPDX-License-Identifier: Apache-2.0 */
/* dm-crypt parameters through libcryptsetup: the active mapping when
 * device-mapper may be asked (host only), else the LUKS/BitLocker header of
 * the backing device or a detached header. Never touches key material. */
#include "config.h"

#include <libcryptsetup.h>

#include "lib/log.h"
#include "probe-internal.h"

#define ADE_OS_MAPPING "osencrypt"
#define ADE_OS_HEADER "/boot/luks/osluksheader"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct crypt_device *, crypt_free)

static const char *strempty(const char *s)
{
	return s ? s : "";
}

static void crypt_log_cb(int level, const char *msg, void *usrptr)
{
	size_t n = msg ? strlen(msg) : 0;

	/* libcryptsetup would print to stderr; a library stays quiet. */
	if (n > 0 && msg[n - 1] == '\n')
		n--;
	log_debug("libcryptsetup: %.*s", (int)n, msg ? msg : "");
}

static void crypt_lib_setup(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	/* A read-only agent must not create lock files under /run/cryptsetup. */
	crypt_metadata_locking(NULL, 0);
	crypt_set_log_callback(NULL, crypt_log_cb, NULL);
}

bool dm_uuid_is_crypt(const char *dm_uuid)
{
	/* veritysetup and integritysetup also use CRYPT-: they do not encrypt. */
	return dm_uuid && startswith(dm_uuid, "CRYPT-") && !startswith(dm_uuid, "CRYPT-VERITY-") &&
	       !startswith(dm_uuid, "CRYPT-INTEGRITY-") && !startswith(dm_uuid, "CRYPT-SUBDEV-");
}

/* The dm-integrity device cryptsetup puts under a LUKS2 --integrity mapping
 * ("CRYPT-INTEGRITY-...", or "CRYPT-SUBDEV-..." from cryptsetup 2.7). */
static bool is_integrity_subdev(const char *dm_uuid)
{
	return dm_uuid &&
	       (startswith(dm_uuid, "CRYPT-INTEGRITY-") || startswith(dm_uuid, "CRYPT-SUBDEV-"));
}

char *crypt_type_from_uuid(const char *dm_uuid)
{
	const char *s, *e;

	if (!dm_uuid_is_crypt(dm_uuid))
		return NULL;
	s = dm_uuid + strlen("CRYPT-");
	e = strchr(s, '-');
	if (!e || e == s)
		return NULL;
	return strndup(s, (size_t)(e - s));
}

static int set_str(char **dst, const char *v)
{
	char *c;

	if (!v)
		return 0;
	c = strdup(v);
	if (!c)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

/* A LUKS2 header with the online-reencrypt requirement describes data of
 * which part is still plaintext (--encrypt, --decrypt) or under the old key:
 * its final segment's cipher is not yet the truth about the volume. */
static void reencrypt_from_cd(struct crypt_device *cd, struct crypt_params *p)
{
	struct crypt_params_reencrypt rp = { 0 };
	crypt_reencrypt_info ri;

	if (!streq_ptr(crypt_get_type(cd), CRYPT_LUKS2)) {
		p->reencrypt = REENCRYPT_NONE; /* only LUKS2 reencrypts online */
		return;
	}
	ri = crypt_reencrypt_status(cd, &rp);
	p->reencrypt_interrupted = ri == CRYPT_REENCRYPT_CRASH;
	switch (ri) {
	case CRYPT_REENCRYPT_NONE:
		p->reencrypt = REENCRYPT_NONE;
		return;
	case CRYPT_REENCRYPT_CLEAN:
	case CRYPT_REENCRYPT_CRASH:
		p->reencrypt = rp.mode == CRYPT_REENCRYPT_ENCRYPT ? REENCRYPT_ENCRYPT :
			       rp.mode == CRYPT_REENCRYPT_DECRYPT ? REENCRYPT_DECRYPT :
			       rp.mode == CRYPT_REENCRYPT_REENCRYPT ? REENCRYPT_REKEY :
								      REENCRYPT_INVALID;
		return;
	default:
		p->reencrypt = REENCRYPT_INVALID;
		return;
	}
}

/* Copies what a loaded context says; no call here returns key material. */
static int params_from_cd(struct crypt_device *cd, struct crypt_params *p)
{
	int ks = crypt_get_volume_key_size(cd);
	int ss = crypt_get_sector_size(cd);

	if (set_str(&p->type, crypt_get_type(cd)) < 0 || set_str(&p->cipher, crypt_get_cipher(cd)) < 0 ||
	    set_str(&p->mode, crypt_get_cipher_mode(cd)) < 0 ||
	    set_str(&p->uuid, crypt_get_uuid(cd)) < 0)
		return -ENOMEM;
	p->key_bits = ks > 0 ? (unsigned)ks * 8 : 0;
	p->sector_size = ss > 0 ? (unsigned)ss : 0;
	reencrypt_from_cd(cd, p);
	return 0;
}

static int probe_active(const char *dm_name, struct crypt_params *p)
{
	_cleanup_(crypt_freep) struct crypt_device *cd = NULL;
	int r;

	r = crypt_init_by_name(&cd, dm_name);
	if (r < 0)
		return r;
	if (!crypt_get_type(cd) || !crypt_get_cipher(cd))
		return -ENODATA;
	r = params_from_cd(cd, p);
	if (r < 0)
		return r;
	p->source = CRYPT_SRC_ACTIVE;
	return 0;
}

/* The header= option of the crypttab line for this mapping, if any. */
static int crypttab_header(const struct sysroot *sr, const char *name, char **ret)
{
	_cleanup_free_ char *text = NULL;
	char *line, *save = NULL;
	struct stat st;
	int r;

	/* sysroot_read_file() opens blocking: refuse a FIFO in a hostile tree. */
	r = sysroot_stat(sr, "/etc/crypttab", &st);
	if (r < 0)
		return r;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	r = sysroot_read_file(sr, "/etc/crypttab", 1 << 20, &text, NULL);
	if (r < 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		_cleanup_strv_free_ char **f = NULL;
		char *opt, *osave = NULL;

		if (strv_split_ws(line, &f) < 0)
			return -ENOMEM;
		if (strv_length(f) < 4 || f[0][0] == '#' || !streq(f[0], name))
			continue;
		for (opt = strtok_r(f[3], ",", &osave); opt; opt = strtok_r(NULL, ",", &osave))
			if (startswith(opt, "header=") && opt[7] == '/') {
				*ret = strdup(opt + 7);
				return *ret ? 0 : -ENOMEM;
			}
	}
	return -ENOENT;
}

/* Where the header of mapping d lives, as a logical path. */
static int header_path(const struct sysroot *sr, const struct block_graph *g,
		       const struct blockdev *d, char **ret)
{
	const struct blockdev *slave;
	struct stat st;
	int r;

	/* An unreadable crypttab only costs the detached-header hint. */
	r = crypttab_header(sr, d->dm_name ? d->dm_name : "", ret);
	if (r >= 0 || r == -ENOMEM)
		return r;
	if (streq_ptr(d->dm_name, ADE_OS_MAPPING) && sysroot_stat(sr, ADE_OS_HEADER, &st) >= 0) {
		*ret = strdup(ADE_OS_HEADER);
		return *ret ? 0 : -ENOMEM;
	}
	if (d->n_slaves != 1)
		return -ENXIO;
	slave = &g->devs[d->slaves[0]];
	/* LUKS2 --integrity: the mapping sits on a dm-integrity device (no
	 * header of its own); the header is on the device under that. */
	if (slave->kind == BLK_DM && is_integrity_subdev(slave->dm_uuid)) {
		if (slave->n_slaves != 1)
			return -ENXIO;
		slave = &g->devs[slave->slaves[0]];
	}
	*ret = strprintf("/dev/%s", slave->name);
	return *ret ? 0 : -ENOMEM;
}

static int load_header(struct crypt_device *cd)
{
	int r = crypt_load(cd, CRYPT_LUKS, NULL);

	if (r < 0 && crypt_load(cd, CRYPT_BITLK, NULL) >= 0)
		return 0;
	return r;
}

static int probe_header(const struct sysroot *sr, const char *logical, struct crypt_params *p)
{
	_cleanup_(crypt_freep) struct crypt_device *cd = NULL;
	_cleanup_free_ char *host = NULL;
	struct stat st;
	int r;

	r = sysroot_resolve_host(sr, logical, &host);
	if (r < 0)
		return r;
	/* libcryptsetup opens it blocking: only devices and image files. */
	if (lstat(host, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
		return -ENOTBLK;
	r = crypt_init(&cd, host);
	if (r < 0)
		return r;
	r = load_header(cd);
	if (r < 0)
		return r;
	r = params_from_cd(cd, p);
	if (r < 0)
		return r;
	p->source = CRYPT_SRC_HEADER;
	return set_str(&p->header, logical);
}

static void crypt_fail(struct crypt_params *p, char *msg)
{
	free(p->error);
	p->error = msg;
	p->source = CRYPT_SRC_NONE;
}

static void header_fallback(const struct sysroot *sr, const struct block_graph *g,
			    struct blockdev *d, const char *why_not_active)
{
	_cleanup_free_ char *hdr = NULL;
	int r;

	r = header_path(sr, g, d, &hdr);
	if (r == -ENXIO)
		return crypt_fail(&d->crypt, strprintf("%s%zu backing devices: no single header to read",
						       strempty(why_not_active), d->n_slaves));
	if (r < 0)
		return crypt_fail(&d->crypt, strprintf("%scannot locate the header: %s",
						       strempty(why_not_active), strerror(-r)));
	r = probe_header(sr, hdr, &d->crypt);
	if (r == -ENOENT)
		crypt_fail(&d->crypt, strprintf("%sno header: %s does not exist",
						strempty(why_not_active), hdr));
	else if (r < 0)
		crypt_fail(&d->crypt, strprintf("%scannot read a LUKS or BitLocker header from %s: %s",
						strempty(why_not_active), hdr, strerror(-r)));
}

void crypt_probe(const struct sysroot *sr, const struct probe_options *opts,
		 const struct block_graph *g, struct blockdev *d)
{
	_cleanup_free_ char *why = NULL;
	bool plain = streq_ptr(d->crypt.type, "PLAIN");
	int r;

	crypt_lib_setup();
	/* Never a device-mapper ioctl under a sysroot, whatever the caller says. */
	if (opts->allow_dm_ioctl && sysroot_is_host(sr) && d->dm_name) {
		r = probe_active(d->dm_name, &d->crypt);
		if (r >= 0)
			return;
		log_debug("%s: crypt_init_by_name(%s): %s", d->name, d->dm_name, strerror(-r));
		why = strprintf("device-mapper: %s; ", strerror(-r));
	}
	if (plain)
		return crypt_fail(&d->crypt,
				  strprintf("%splain dm-crypt keeps no header; active parameters need "
					    "device-mapper access (run as root on the host)",
					    strempty(why)));
	if (!opts->read_devices)
		return crypt_fail(&d->crypt, strprintf("%sreading devices is disabled", strempty(why)));
	header_fallback(sr, g, d, why);
}
