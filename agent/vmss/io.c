/* SPDX-License-Identifier: Apache-2.0 */
/* The VMSS handler's edges: HandlerEnvironment.json read with retries, the
 * log, atomic writes, the sequence number and mrseq, systemctl. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "agent/vmss/vmss-internal.h"
#include "lib/fdio.h"
#include "lib/strutil.h"

#define ENV_FILE_MAX (64 * 1024)
#define SYSTEMCTL_DEADLINE_MS 60000
#define LOG_NAME "atrest-extension.log"

char *host_path(const struct handler *h, const char *path)
{
	return strprintf("%s%s", h->root, path);
}

int read_file_capped(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	size_t n;

	if (!f)
		return -errno;
	buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	n = fread(buf, 1, max + 1, f);
	if (ferror(f))
		return -EIO;
	if (n > max)
		return -EFBIG;
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = n;
	return 0;
}

int mkdir_parents(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return 0;
}

int write_file_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	_cleanup_free_ char *tmp = NULL;
	const char *slash = strrchr(path, '/');
	int fd, r;

	tmp = slash ? strprintf("%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1) : NULL;
	if (!tmp)
		return slash ? -ENOMEM : -EINVAL;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write_all(fd, data, len);
	if (r == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int copy_file_atomic(const char *from, const char *to, mode_t mode)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = read_file_capped(from, 256u << 20, &buf, &len);
	if (r < 0)
		return r;
	r = mkdir_parents(to, 0755);
	if (r < 0)
		return r;
	return write_file_atomic(to, buf, len, mode);
}

void hlog(struct handler *h, const char *fmt, ...)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	if (!gmtime_r(&now, &tm) || !strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm))
		ts[0] = '\0';
	va_start(ap, fmt);
	if (h->log) {
		va_list aq;

		va_copy(aq, ap);
		fprintf(h->log, "%s [%s] ", ts, h->op);
		vfprintf(h->log, fmt, aq);
		fputc('\n', h->log);
		fflush(h->log);
		va_end(aq);
	}
	fprintf(stderr, "atrest vmss-extension %s: ", h->op);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static double env_wait_seconds(void)
{
	const char *s = getenv("ATREST_VMSS_ENV_TIMEOUT");
	double d;

	if (s && safe_atod_seconds(s, &d) == 0 && d <= 300)
		return d;
	return 10;
}

/* waagent writes HandlerEnvironment.json non-atomically before it runs a
 * command; a missing or cut-short document is retried, a wrong one is not. */
static int read_env(struct handler *h)
{
	_cleanup_free_ char *path = strprintf("%s/HandlerEnvironment.json", h->ext_dir);
	double waited = 0, limit = env_wait_seconds();
	int r;

	if (!path)
		return -ENOMEM;
	for (;;) {
		_cleanup_free_ char *text = NULL;
		size_t len;

		r = read_file_capped(path, ENV_FILE_MAX, &text, &len);
		if (r == 0)
			r = vmss_env_parse(text, len, &h->env);
		if (r == 0 || (r != -ENOENT && r != -EAGAIN) || waited >= limit)
			return r == -EAGAIN ? -ENOENT : r;
		nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000 * 1000 }, NULL);
		waited += 0.2;
	}
}

static int open_log(struct handler *h)
{
	_cleanup_free_ char *p = strprintf("%s/" LOG_NAME, h->env.log_folder);

	if (!p)
		return -ENOMEM;
	(void)mkdir_parents(p, 0700);
	h->log = fopen(p, "ae");
	return h->log ? 0 : -errno;
}

static int handler_dirs(struct handler *h)
{
	const char *root = getenv("ATREST_VMSS_ROOT");
	const char *ext = getenv("AZURE_GUEST_AGENT_EXTENSION_PATH");
	size_t n;

	h->root = strdup(root ? root : "");
	h->ext_dir = ext && ext[0] == '/' ? strdup(ext) : getcwd(NULL, 0);
	if (!h->root || !h->ext_dir)
		return -ENOMEM;
	n = strlen(h->root);
	while (n > 0 && h->root[n - 1] == '/')
		h->root[--n] = '\0';
	return 0;
}

int handler_open(struct handler *h, const char *op)
{
	int r;

	*h = (struct handler){ .op = op };
	r = handler_dirs(h);
	if (r < 0)
		return r;
	r = read_env(h);
	if (r < 0)
		return r;
	h->have_env = true;
	if (open_log(h) < 0)
		hlog(h, "cannot open the log in %s: %m", h->env.log_folder);
	return 0;
}

void handler_close(struct handler *h)
{
	if (h->log)
		fclose(h->log);
	vmss_env_done(&h->env);
	free(h->root);
	free(h->ext_dir);
	*h = (struct handler){ 0 };
}

static int seq_of_name(const char *name, unsigned *ret)
{
	const char *dot = strchr(name, '.');
	char num[16];

	if (!dot || !streq(dot, ".settings") || dot == name || (size_t)(dot - name) >= sizeof(num))
		return -EINVAL;
	memcpy(num, name, (size_t)(dot - name));
	num[dot - name] = '\0';
	if (num[strspn(num, "0123456789")] != '\0')
		return -EINVAL;
	return safe_atou(num, ret);
}

static bool newer(const struct timespec *a, unsigned sa, const struct timespec *b, unsigned sb)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec > b->tv_sec;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec > b->tv_nsec;
	return sa > sb;
}

static int scan_seq(struct handler *h)
{
	_cleanup_closedir_ DIR *d = opendir(h->env.config_folder);
	struct timespec best = { 0 };
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct stat st;
		unsigned n;

		if (seq_of_name(de->d_name, &n) < 0 || fstatat(dirfd(d), de->d_name, &st, 0) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (!h->have_seq || newer(&st.st_mtim, n, &best, h->seq)) {
			h->seq = n;
			best = st.st_mtim;
			h->have_seq = true;
		}
	}
	return h->have_seq ? 0 : -ENOENT;
}

int handler_find_seq(struct handler *h)
{
	const char *e = getenv("ConfigSequenceNumber");

	if (e && safe_atou(e, &h->seq) == 0) {
		h->have_seq = true;
		return 0;
	}
	return scan_seq(h);
}

int mrseq_read(const struct handler *h, unsigned *ret)
{
	_cleanup_free_ char *p = strprintf("%s/mrseq", h->ext_dir), *text = NULL;
	size_t len;
	int r;

	if (!p)
		return -ENOMEM;
	r = read_file_capped(p, 32, &text, &len);
	if (r < 0)
		return r;
	return safe_atou(text, ret);
}

int mrseq_write(const struct handler *h, unsigned seq)
{
	_cleanup_free_ char *p = strprintf("%s/mrseq", h->ext_dir), *text = strprintf("%u", seq);

	if (!p || !text)
		return -ENOMEM;
	return write_file_atomic(p, text, strlen(text), 0644);
}

void mrseq_remove(const struct handler *h)
{
	_cleanup_free_ char *p = strprintf("%s/mrseq", h->ext_dir);

	if (p)
		(void)unlink(p);
}

int handler_write_status(struct handler *h, const struct vmss_status *s)
{
	_cleanup_free_ char *text = NULL, *path = NULL;
	int r;

	if (!h->have_env || !h->have_seq)
		return 0;
	text = vmss_status_render(s);
	path = strprintf("%s/%u.status", h->env.status_folder, h->seq);
	if (!text || !path)
		return -ENOMEM;
	(void)mkdir_parents(path, 0755);
	r = write_file_atomic(path, text, strlen(text), 0644);
	if (r < 0)
		hlog(h, "cannot write %s: %s", path, strerror(-r));
	return r;
}

static int wait_deadline(pid_t pid, int ms)
{
	int status;

	for (int waited = 0;; waited += 50) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (w < 0 && errno != EINTR)
			return -errno;
		if (waited >= ms) {
			kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			return -ETIMEDOUT;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
	}
}

int run_systemctl(struct handler *h, const char *const *args)
{
	const char *bin = getenv("ATREST_SYSTEMCTL");
	const char *argv[16] = { bin && *bin ? bin : "systemctl" };
	size_t n = 1;
	pid_t pid;
	int r;

	for (; args[n - 1] && n < ARRAY_SIZE(argv) - 1; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Keep waagent's stdout for our own lines; systemctl talks to stderr. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	r = wait_deadline(pid, SYSTEMCTL_DEADLINE_MS);
	if (r != 0) {
		_cleanup_free_ char *cmd = strv_join((char *const *)argv + 1, " ");

		hlog(h, "systemctl %s: %s", strna(cmd), r < 0 ? strerror(-r) : "failed");
	}
	return r;
}
