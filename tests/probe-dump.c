/* SPDX-License-Identifier: Apache-2.0 */
/* probe-dump [DIR]: prints the block graph of a sysroot (or the host), one
 * device a line, for debugging the probes by eye. Not installed. */
#include "config.h"

#include "lib/log.h"
#include "probes/probes.h"

static void print_idx(const char *what, const struct block_graph *g, const int *v, size_t n)
{
	if (n == 0)
		return;
	printf(" %s=", what);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", g->devs[v[i]].name);
}

static void print_dev(const struct block_graph *g, const struct blockdev *d)
{
	printf("%s %u:%u %s size=%llu", d->name, d->major, d->minor, blk_kind_to_string(d->kind),
	       (unsigned long long)d->size_bytes);
	if (d->parent >= 0)
		printf(" parent=%s", g->devs[d->parent].name);
	if (d->kind == BLK_DISK || d->kind == BLK_OTHER)
		printf(" bus=%s role=%s lun=%d local=%u azure=%d [%s]", disk_bus_to_string(d->bus),
		       azure_role_to_string(d->role), d->lun, d->local_index, d->azure,
		       strna(d->role_evidence));
	if (d->dm_name)
		printf(" dm=%s uuid=%s", d->dm_name, strna(d->dm_uuid));
	if (d->dm_crypt)
		printf(" crypt=%s/%s %s-%s %u bits sector %u header=%s error=%s",
		       crypt_source_to_string(d->crypt.source), strna(d->crypt.type),
		       strna(d->crypt.cipher), strna(d->crypt.mode), d->crypt.key_bits,
		       d->crypt.sector_size, strna(d->crypt.header), strna(d->crypt.error));
	if (d->zram_backing)
		printf(" backing=%s", d->zram_backing);
	if (d->sig_type || d->sig_error)
		printf(" sig=%s/%s error=%s", strna(d->sig_type), strna(d->sig_version),
		       strna(d->sig_error));
	print_idx("slaves", g, d->slaves, d->n_slaves);
	print_idx("holders", g, d->holders, d->n_holders);
	putchar('\n');
}

int main(int argc, char **argv)
{
	_cleanup_(sysroot_freep) struct sysroot *sr = NULL;
	struct probe_options opts = { .read_devices = true };
	struct block_graph g = { 0 };
	_cleanup_free_ char *err = NULL;
	int r;

	if (getenv("PROBE_DUMP_DEBUG"))
		log_set_max_level(LOG_LEVEL_DEBUG);
	r = sysroot_new(argc > 1 ? argv[1] : NULL, &sr);
	if (r < 0)
		return log_error_errno(r, "sysroot: %m"), 1;
	opts.allow_dm_ioctl = sysroot_is_host(sr);
	r = block_graph_scan(sr, &opts, &g, &err);
	if (r < 0)
		return log_error("%s", strna(err)), 1;
	for (size_t i = 0; i < g.n_devs; i++)
		print_dev(&g, &g.devs[i]);
	block_graph_done(&g);
	return 0;
}
