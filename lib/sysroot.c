/* SPDX-License-Identifier: Apache-2.0 */
/* Confined path resolution for --sysroot, in the manner of util-linux's
 * path context and systemd's chase(): components are walked one by one with
 * lstat(), and a symlink target is spliced into the remaining path, absolute
 * targets restarting at the root. ".." never climbs above the root. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "strutil.h"
#include "sysroot.h"

#define CHASE_MAX_LINKS 40

struct sysroot {
	char *dir; /* "" for the host, else absolute without trailing slash */
};

int sysroot_new(const char *dir, struct sysroot **ret)
{
	_cleanup_free_ char *abs = NULL;
	struct sysroot *sr;

	if (!isempty(dir) && !streq(dir, "/")) {
		abs = realpath(dir, NULL);
		if (!abs)
			return -errno;
		if (streq(abs, "/"))
			abs[0] = '\0';
	} else {
		abs = strdup("");
		if (!abs)
			return -ENOMEM;
	}
	sr = calloc(1, sizeof(*sr));
	if (!sr)
		return -ENOMEM;
	sr->dir = TAKE_PTR(abs);
	*ret = sr;
	return 0;
}

void sysroot_free(struct sysroot *sr)
{
	if (!sr)
		return;
	free(sr->dir);
	free(sr);
}

bool sysroot_is_host(const struct sysroot *sr)
{
	return !sr || sr->dir[0] == '\0';
}

const char *sysroot_dir(const struct sysroot *sr)
{
	return sr ? sr->dir : "";
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (la > 0 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	return strprintf("%.*s/%s", (int)la, a, b);
}

const char *path_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

char *sysroot_host_path(const struct sysroot *sr, const char *logical)
{
	if (sysroot_is_host(sr))
		return strdup(logical);
	return strprintf("%s%s%s", sr->dir, logical[0] == '/' ? "" : "/", logical);
}

/* Pops the last component of a logical path held in buf ("/a/b" -> "/a"). */
static void pop_component(char *buf)
{
	char *s = strrchr(buf, '/');

	if (s)
		*s = '\0';
}

int sysroot_chase(const struct sysroot *sr, const char *path, char **ret)
{
	_cleanup_free_ char *todo = NULL, *done = NULL;
	unsigned links = 0;

	if (!path || path[0] != '/')
		return -EINVAL;
	todo = strdup(path);
	done = calloc(1, PATH_MAX + 1);
	if (!todo || !done)
		return -ENOMEM;

	for (char *p = todo;;) {
		_cleanup_free_ char *host = NULL;
		char comp[NAME_MAX + 1], target[PATH_MAX];
		struct stat st;
		size_t n;
		ssize_t k;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		n = strcspn(p, "/");
		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;

		if (streq(comp, "."))
			continue;
		if (streq(comp, "..")) {
			pop_component(done);
			continue;
		}
		if (strlen(done) + 1 + n > PATH_MAX)
			return -ENAMETOOLONG;
		strcat(done, "/");
		strcat(done, comp);

		host = sysroot_host_path(sr, done);
		if (!host)
			return -ENOMEM;
		if (lstat(host, &st) < 0)
			return -errno;
		if (!S_ISLNK(st.st_mode))
			continue;

		if (++links > CHASE_MAX_LINKS)
			return -ELOOP;
		k = readlink(host, target, sizeof(target) - 1);
		if (k < 0)
			return -errno;
		target[k] = '\0';

		/* Splice the target in front of what is left to walk. */
		{
			_cleanup_free_ char *rest = strprintf("%s/%s", target, p);

			if (!rest)
				return -ENOMEM;
			free(todo);
			todo = TAKE_PTR(rest);
			p = todo;
		}
		if (target[0] == '/')
			done[0] = '\0';
		else
			pop_component(done);
	}

	if (done[0] == '\0')
		strcpy(done, "/");
	*ret = TAKE_PTR(done);
	return 0;
}

int sysroot_resolve_host(const struct sysroot *sr, const char *path, char **ret)
{
	_cleanup_free_ char *logical = NULL;
	char *host;
	int r;

	r = sysroot_chase(sr, path, &logical);
	if (r < 0)
		return r;
	host = sysroot_host_path(sr, logical);
	if (!host)
		return -ENOMEM;
	*ret = host;
	return 0;
}

int sysroot_open(const struct sysroot *sr, const char *path, int flags, int *ret_fd)
{
	_cleanup_free_ char *host = NULL;
	int r, fd;

	r = sysroot_resolve_host(sr, path, &host);
	if (r < 0)
		return r;
	fd = open(host, flags | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int sysroot_stat(const struct sysroot *sr, const char *path, struct stat *ret)
{
	_cleanup_free_ char *host = NULL;
	int r;

	r = sysroot_resolve_host(sr, path, &host);
	if (r < 0)
		return r;
	if (lstat(host, ret) < 0)
		return -errno;
	return 0;
}

int sysroot_opendir(const struct sysroot *sr, const char *path, DIR **ret)
{
	_cleanup_close_ int fd = -1;
	DIR *d;
	int r;

	r = sysroot_open(sr, path, O_RDONLY | O_DIRECTORY, &fd);
	if (r < 0)
		return r;
	d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -1;
	*ret = d;
	return 0;
}

int sysroot_readlink(const struct sysroot *sr, const char *path, char **ret)
{
	_cleanup_free_ char *dir = NULL, *host = NULL, *parent = NULL;
	char target[PATH_MAX];
	const char *base;
	ssize_t k;
	int r;

	/* Resolve the parent, not the link itself. */
	parent = strdup(path);
	if (!parent)
		return -ENOMEM;
	pop_component(parent);
	base = path_basename(path);
	r = sysroot_chase(sr, parent[0] ? parent : "/", &dir);
	if (r < 0)
		return r;
	{
		_cleanup_free_ char *logical = path_join(dir, base);

		if (!logical)
			return -ENOMEM;
		host = sysroot_host_path(sr, logical);
	}
	if (!host)
		return -ENOMEM;
	k = readlink(host, target, sizeof(target) - 1);
	if (k < 0)
		return -errno;
	target[k] = '\0';
	*ret = strdup(target);
	return *ret ? 0 : -ENOMEM;
}

int sysroot_read_file(const struct sysroot *sr, const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	struct stat st;

	/* Non-blocking and regular files only: a FIFO or device planted in a
	 * sysroot must not hang or feed the reader. */
	r = sysroot_open(sr, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, &fd);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	for (;;) {
		ssize_t k;

		if (len + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *nb;

			if (ncap > max + 2)
				ncap = max + 2;
			if (ncap <= len + 1)
				return -EFBIG;
			nb = realloc(buf, ncap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap = ncap;
		}
		k = read(fd, buf + len, cap - len - 1);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > max)
			return -EFBIG;
	}
	if (!buf) {
		buf = strdup("");
		if (!buf)
			return -ENOMEM;
	}
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int sysroot_read_attr(const struct sysroot *sr, const char *path, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	char *s;
	int r;

	r = sysroot_read_file(sr, path, 4096, &buf, NULL);
	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	s = strstrip(buf);
	if (s != buf)
		memmove(buf, s, strlen(s) + 1);
	*ret = TAKE_PTR(buf);
	return 0;
}

int sysroot_read_u64(const struct sysroot *sr, const char *path, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = sysroot_read_attr(sr, path, &s);
	if (r < 0)
		return r;
	return safe_atou64(s, ret);
}
