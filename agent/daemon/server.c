/* SPDX-License-Identifier: Apache-2.0 */
/* The server role: privileges dropped before any socket is opened; then a
 * loop that watches the snapshot file (inotify, and a periodic stat as a
 * fallback), validates each new one and swaps it into the HTTP server. */
#include "config.h"

#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "agent/daemon/http.h"
#include "agent/daemon/server.h"
#include "agent/daemon/snapshot.h"
#include "lib/log.h"

static int resolve_user(const char *user, uid_t *ret_uid, gid_t *ret_gid)
{
	struct passwd *pw;
	unsigned n;

	if (safe_atou(user, &n) == 0) {
		*ret_uid = (uid_t)n;
		pw = getpwuid((uid_t)n);
		*ret_gid = pw ? pw->pw_gid : (gid_t)n;
		return 0;
	}
	pw = getpwnam(user);
	if (!pw && streq(user, "nobody")) {
		/* A root without /etc/passwd (the container image): the
		 * overflow uid every Linux distribution calls nobody. */
		*ret_uid = 65534;
		*ret_gid = 65534;
		return 0;
	}
	if (!pw)
		return -ESRCH;
	*ret_uid = pw->pw_uid;
	*ret_gid = pw->pw_gid;
	return 0;
}

int privileges_drop(const char *user, char **ret_error)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	uid_t uid = 0;
	gid_t gid = 0;
	bool change = geteuid() == 0 && user && *user;

	*ret_error = NULL;
	if (change && resolve_user(user, &uid, &gid) < 0) {
		*ret_error = strprintf("unknown server user '%s'", user);
		return -ESRCH;
	}
	if (change && uid == 0) {
		*ret_error = strprintf("server user '%s' is root", user);
		return -EPERM;
	}
	/* The bounding set first, while CAP_SETPCAP is still held. */
	for (unsigned long cap = 0; cap <= 63; cap++) {
		int k = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (k < 0)
			break; /* past the kernel's last capability */
		if (k == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			*ret_error = strprintf("cannot drop capability %lu from the bounding set: %s",
					       cap, strerror(errno));
			return -errno;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		*ret_error = strprintf("cannot clear the ambient capabilities: %s", strerror(errno));
		return -errno;
	}
	if (change) {
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0) {
			*ret_error = strprintf("cannot change to user %s: %s", user, strerror(errno));
			return -errno;
		}
	}
	/* Clear what is left (a unit or a pod may have cleared it already and
	 * filter capset() out: then there is nothing to do). */
	if (syscall(SYS_capget, &h, data) < 0 || data[0].effective || data[1].effective ||
	    data[0].permitted || data[1].permitted || data[0].inheritable || data[1].inheritable) {
		memset(data, 0, sizeof(data));
		if (syscall(SYS_capset, &h, data) < 0) {
			*ret_error = strprintf("cannot clear the capability sets: %s", strerror(errno));
			return -errno;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		*ret_error = strprintf("cannot set no_new_privs: %s", strerror(errno));
		return -errno;
	}
	/* Check rather than trust: nothing effective or permitted is left. */
	if (syscall(SYS_capget, &h, data) < 0 || data[0].effective || data[1].effective ||
	    data[0].permitted || data[1].permitted) {
		*ret_error = strdup("capabilities remain after dropping them");
		return -EPERM;
	}
	if (change && (getuid() != uid || geteuid() != uid)) {
		*ret_error = strdup("the user did not change");
		return -EPERM;
	}
	return 0;
}

struct server {
	const struct server_options *o;
	struct http_server *http;
	char *path;
	struct stat seen; /* identity of the last file looked at */
	bool have_seen;
	bool unreadable; /* logged once */
};

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void load_snapshot(struct server *s)
{
	_cleanup_free_ char *err = NULL;
	struct snapshot_meta m = { 0 };
	struct snapshot_bodies b = { 0 };
	struct http_snapshot *snap = NULL;
	struct stat st;
	int r;

	if (stat(s->path, &st) < 0) {
		_cleanup_free_ char *why = NULL;

		if (errno == ENOENT)
			return; /* nothing published yet */
		/* A directory this user cannot enter: say so, do not wait quietly. */
		why = strprintf("cannot read the snapshot: %s", strerror(errno));
		if (!s->unreadable)
			log_error("server: %s: %s", s->path, why ? why : "cannot read the snapshot");
		s->unreadable = true;
		http_server_set_refusal(s->http, why, false);
		return;
	}
	s->unreadable = false;
	if (s->have_seen && same_file(&st, &s->seen))
		return;
	s->seen = st;
	s->have_seen = true;
	r = snapshot_read(s->path, s->o->snapshot_max_bytes, &m, &b, &err);
	if (r < 0) {
		log_error("server: refusing %s: %s; serving the previous one", s->path,
			  err ? err : strerror(-r));
		http_server_set_refusal(s->http, err ? err : strerror(-r), true);
		return;
	}
	if (m.have_bodies) {
		r = http_snapshot_from_bodies(&b, &m, &snap);
		if (r < 0) {
			snapshot_bodies_done(&b);
			log_error_errno(r, "server: cannot prepare the snapshot: %m");
			return;
		}
		http_server_publish(s->http, snap);
	}
	snapshot_bodies_done(&b);
	http_server_set_self(s->http, &m.self);
	http_server_set_refusal(s->http, NULL, false);
}

int server_run(const struct server_options *o)
{
	static char *const default_listen[] = { (char *)"127.0.0.1:8937", NULL };
	struct server s = { .o = o };
	struct http_options ho = {
		.listen = o->listen && o->listen[0] ? o->listen : default_listen,
		.connection_limit = o->connection_limit,
		.per_ip_limit = o->per_ip_limit,
		.connection_timeout = o->connection_timeout,
	};
	_cleanup_free_ char *err = NULL;
	_cleanup_close_ int sigfd = -1, ifd = -1;
	double every = o->poll_interval > 0 ? o->poll_interval : 1.0;
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = privileges_drop(o->user, &err);
	if (r < 0)
		return log_error_errno(r, "server: %s", err ? err : "cannot drop privileges");
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0)
		return log_error_errno(errno, "server: signalfd: %m");
	s.path = strprintf("%s/%s", o->runtime_dir, SNAPSHOT_FILE);
	if (!s.path)
		return log_error_errno(ENOMEM, "server: out of memory");
	r = http_server_start(&ho, &s.http, &err);
	if (r < 0)
		return log_error_errno(r, "server: %s", err ? err : "cannot start the HTTP server");
	if (o->ports_fd >= 0) {
		uint16_t n = (uint16_t)http_server_n_sockets(s.http), ports[64];

		n = MIN(n, (uint16_t)ARRAY_SIZE(ports));
		for (uint16_t i = 0; i < n; i++)
			ports[i] = http_server_port(s.http, i);
		if (write(o->ports_fd, &n, sizeof(n)) != sizeof(n) ||
		    write(o->ports_fd, ports, n * sizeof(ports[0])) != (ssize_t)(n * sizeof(ports[0])))
			log_debug_errno(errno, "server: cannot report the ports: %m");
		close(o->ports_fd);
	}
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd >= 0 && inotify_add_watch(ifd, o->runtime_dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
		log_debug_errno(errno, "server: cannot watch %s: %m", o->runtime_dir);
	http_server_tick(s.http);
	load_snapshot(&s);
	for (;;) {
		struct pollfd p[] = { { sigfd, POLLIN, 0 }, { ifd, POLLIN, 0 } };
		struct signalfd_siginfo si;
		char buf[4096];

		if (poll(p, 2, (int)(every * 1000)) < 0 && errno != EINTR) {
			r = log_error_errno(errno, "server: poll: %m");
			break;
		}
		if ((p[0].revents & POLLIN) && read(sigfd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGHUP) {
			r = 0;
			break;
		}
		if (p[1].revents & POLLIN)
			while (read(ifd, buf, sizeof(buf)) > 0)
				;
		http_server_tick(s.http);
		load_snapshot(&s);
	}
	http_server_free(s.http);
	free(s.path);
	return r;
}
