/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon loop in a child process with a stubbed evaluation and
 * benchmark: sd_notify (READY, STATUS, WATCHDOG, STOPPING) on a real
 * notify socket, snapshots over real HTTP, SIGHUP reload good and bad,
 * SIGTERM/SIGINT within a second even during a stuck evaluation; the
 * server process without any privilege; a hanging evaluation killed at the
 * deadline, then every check served as unknown once the evidence is too
 * old; bad snapshot files refused. Waits poll for the condition with a
 * generous limit, so a loaded machine slows the test, not fails it. */
#include "config.h"

#include <arpa/inet.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/daemon/daemon.h"
#include "agent/daemon/job.h"
#include "tests/daemon-fixture.h"
#include "tests/tap.h"

static char conf_path[] = "/tmp/atrest-test-daemon-conf-XXXXXX";
static char run_dir[] = "/tmp/atrest-test-daemon-run-XXXXXX";
/* fast; slow: every evaluation hangs; hang: every one after the first */
static const char *mode = "fast";
static int port_pipe[2];

/* Runs in the evaluation job (this program exec'd with --job): what it
 * learns does not come back, so the variant follows from its inputs (the
 * benchmark runs after the first). */
static int test_evaluate(const struct gather_options *o, struct evaluation **ret)
{
	struct evaluation *e;

	if (streq(mode, "slow") || (streq(mode, "hang") && o->bench)) {
		_cleanup_free_ char *p = strprintf("%s/hung.pid", run_dir);
		FILE *f = p ? fopen(p, "ae") : NULL;

		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
		sleep(30);
	}
	e = fixture_evaluation(o->bench ? 1 : 0);
	if (!e)
		return -ENOMEM;
	e->facts.bench.ran_at = o->bench ? o->bench->ran_at : 0;
	*ret = e;
	return 0;
}

static void test_bench(const struct bench_options *o, struct bench_result *res)
{
	*res = (struct bench_result){ .status = SOURCE_OK, .ran_at = 1234567890 };
}

static int test_reload(void *userdata, struct config **ret, char **ret_error)
{
	_cleanup_fclose_ FILE *f = fopen(conf_path, "re");
	char line[64] = "";
	struct config *c;

	if (!f || !fgets(line, sizeof(line), f) || startswith(line, "bad")) {
		*ret_error = strdup("test.conf:1: bad value");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->interval = 1;
	strv_extend(&c->listen, "127.0.0.1:0");
	*ret = c;
	return 0;
}

static void test_listening(void *userdata, const uint16_t *ports, size_t n, pid_t server)
{
	uint16_t port = n > 0 ? ports[0] : 0;
	int32_t pid = server;

	if (write(port_pipe[1], &port, sizeof(port)) != sizeof(port) ||
	    write(port_pipe[1], &pid, sizeof(pid)) != sizeof(pid))
		_exit(3);
}

/* The daemon side, in a freshly exec'd copy of this program: forking a
 * process that already runs threads and then allocating in the child is
 * unsafe (ASan's allocator deadlocks on a lock held at fork time). */
static _noreturn_ void daemon_child(char **argv)
{
	const char *notify_path = argv[2], *stderr_path = argv[3];

	port_pipe[1] = atoi(argv[4]);
	mode = argv[5];
	snprintf(conf_path, sizeof(conf_path), "%s", argv[6]);
	snprintf(run_dir, sizeof(run_dir), "%s", argv[7]);
	static char *const listen[] = { (char *)"127.0.0.1:0", NULL };
	struct config conf = { .listen = (char **)listen, .interval = 60 };
	bool hang = streq(mode, "hang");
	char self[PATH_MAX];
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	_cleanup_free_ char *server = strprintf("%s/atrest-server", getenv("top_builddir") ?: ".");
	char *job_command[] = { self, (char *)"--job", NULL };
	char *server_command[] = { server, NULL };
	char *wrapper[] = { getenv("ATREST_TEST_EMULATOR"), NULL };
	struct daemon_options o = {
		.conf = &conf,
		.version = FIXTURE_VERSION,
		.interval = 0.2,
		.runtime_dir = run_dir,
		.deadline = hang ? 0.5 : 0,
		.max_age = hang ? 2.5 : 0,
		.server_poll = 0.1,
		.bench_interval = 3600,
		.journal_socket = "/nonexistent/atrest/socket",
		.reload = test_reload,
		.listening = test_listening,
		.job_command = job_command,
		.server_command = server_command,
		.exec_wrapper = wrapper[0] && *wrapper[0] ? wrapper : NULL,
	};

	if (k <= 0 || !server)
		_exit(2);
	self[k] = '\0';
	/* What the jobs need to know of this test. */
	setenv("ATREST_TEST_DAEMON_MODE", mode, 1);
	setenv("ATREST_TEST_DAEMON_RUN_DIR", run_dir, 1);

	setenv("NOTIFY_SOCKET", notify_path, 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	unsetenv("WATCHDOG_PID");
	if (!freopen(stderr_path, "w", stderr))
		_exit(2);
	_exit(daemon_run(&o) == 0 ? 0 : 1);
}

/* A cross build runs its tests under an emulator (make check sets
 * ATREST_TEST_EMULATOR): the kernel cannot exec a binary of another
 * architecture, the emulator's wrapper can. The program is exec'd by its
 * path, not as /proc/self/exe: under valgrind (make check-valgrind) that is
 * valgrind's tool, which refuses to run, while readlink() of it gives ours. */
static void exec_self(const char *notify_path, const char *stderr_path, const char *wfd)
{
	const char *emu = getenv("ATREST_TEST_EMULATOR");
	char self[PATH_MAX];
	ssize_t k;

	k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (k <= 0)
		return;
	self[k] = '\0';
	if (!emu || !*emu) {
		execl(self, "test-daemon", "--daemon-child", notify_path, stderr_path, wfd, mode,
		      conf_path, run_dir, (char *)NULL);
		return;
	}
	execl(emu, emu, self, "--daemon-child", notify_path, stderr_path, wfd, mode, conf_path,
	      run_dir, (char *)NULL);
}

static pid_t start_daemon(const char *notify_path, const char *stderr_path)
{
	char wfd[16];
	pid_t pid;

	if (pipe(port_pipe) < 0)
		return -1;
	snprintf(wfd, sizeof(wfd), "%d", port_pipe[1]);
	pid = fork();
	if (pid != 0) {
		close(port_pipe[1]);
		return pid;
	}
	exec_self(notify_path, stderr_path, wfd);
	_exit(127);
}

static pid_t server_pid;

static uint16_t read_port(void)
{
	struct pollfd p = { port_pipe[0], POLLIN, 0 };
	uint16_t port = 0;
	int32_t pid = 0;

	if (poll(&p, 1, 20000) == 1 && (read(port_pipe[0], &port, sizeof(port)) != sizeof(port) ||
					read(port_pipe[0], &pid, sizeof(pid)) != sizeof(pid)))
		port = 0;
	server_pid = pid;
	close(port_pipe[0]);
	return port;
}

static char *http_get(uint16_t port, const char *path)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct strbuf sb = {};
	char buf[4096];
	ssize_t n;

	/* A daemon that never answers is a failed test, not a hung one. */
	struct timeval tv = { .tv_sec = 30 };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return NULL;
	dprintf(fd, "GET %s HTTP/1.0\r\n\r\n", path);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_append_n(&sb, buf, n);
	return strbuf_steal(&sb);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Notify datagrams, drained continuously as systemd would (an unread
 * datagram queue would block the daemon's sd_notify). */
static pthread_mutex_t notes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct strbuf notes;

static void *drain_notify(void *p)
{
	int fd = *(int *)p;
	char buf[1024];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) >= 0) {
		pthread_mutex_lock(&notes_lock);
		strbuf_append_n(&notes, buf, n);
		strbuf_putc(&notes, '\n');
		pthread_mutex_unlock(&notes_lock);
	}
	return NULL;
}

/* Waits `seconds`, then returns (and clears) what was received. */
static char *collect_notify(double seconds)
{
	char *s;

	usleep((useconds_t)(seconds * 1e6));
	pthread_mutex_lock(&notes_lock);
	strbuf_putc(&notes, '\n');
	s = strbuf_steal(&notes);
	pthread_mutex_unlock(&notes_lock);
	return s;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Waits for the child; returns seconds taken or -1 after `limit`. */
static double wait_exit(pid_t pid, double limit, int *status)
{
	double t0 = now();

	while (now() - t0 < limit) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return now() - t0;
		usleep(10000);
	}
	return -1;
}

static bool metric_at_least(const char *text, const char *name, unsigned min)
{
	_cleanup_free_ char *line = strprintf("\n%s", name);
	const char *p = text && line ? strstr(text, line) : NULL;

	return p && strtoul(p + strlen(line), NULL, 10) >= min;
}

static void write_conf(const char *s)
{
	FILE *f = fopen(conf_path, "we");

	if (f) {
		fputs(s, f);
		fclose(f);
	}
}

static int notify_socket(char *path, size_t size)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(path, size, "/tmp/atrest-test-notify-%d", getpid());
	unlink(path);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return fd;
}

/* Polls path until its body holds needle (or, with absent, no longer
 * does), for up to limit seconds; returns the last body. */
static char *wait_body(uint16_t port, const char *path, const char *needle, bool absent, double limit)
{
	double t0 = now();
	char *b = NULL;

	for (;;) {
		free(b);
		b = http_get(port, path);
		if (b && !strstr(b, needle) == absent)
			return b;
		if (now() - t0 > limit)
			return b;
		usleep(50000);
	}
}

static bool wait_metric_at_least(uint16_t port, const char *name, unsigned min, double limit)
{
	double t0 = now();

	do {
		_cleanup_free_ char *m = http_get(port, "/metrics");

		if (metric_at_least(m, name, min))
			return true;
		usleep(50000);
	} while (now() - t0 < limit);
	return false;
}

/* "Name:\tvalue" of /proc/PID/status. */
static char *proc_status_field(pid_t pid, const char *name)
{
	_cleanup_free_ char *path = strprintf("/proc/%d/status", (int)pid);
	_cleanup_free_ char *text = path ? tap_read_file(path, NULL) : NULL;
	_cleanup_free_ char *key = strprintf("\n%s:", name);
	const char *p = text && key ? strstr(text, key) : NULL;

	if (!p)
		return NULL;
	p += strlen(key);
	p += strspn(p, " \t");
	return strndup(p, strcspn(p, "\n"));
}

static void test_server_privileges(pid_t evaluator)
{
	_cleanup_free_ char *eff = proc_status_field(server_pid, "CapEff");
	_cleanup_free_ char *prm = proc_status_field(server_pid, "CapPrm");
	_cleanup_free_ char *bnd = proc_status_field(server_pid, "CapBnd");
	_cleanup_free_ char *amb = proc_status_field(server_pid, "CapAmb");
	_cleanup_free_ char *nnp = proc_status_field(server_pid, "NoNewPrivs");
	_cleanup_free_ char *uid = proc_status_field(server_pid, "Uid");
	_cleanup_free_ char *ppid = proc_status_field(server_pid, "PPid");
	_cleanup_free_ char *ev_eff = proc_status_field(evaluator, "CapEff");
	_cleanup_free_ char *ev_uid = proc_status_field(evaluator, "Uid");

	tap_diag("evaluator pid %d: CapEff %s, Uid %s", (int)evaluator, strna(ev_eff), strna(ev_uid));
	tap_diag("server pid %d: CapEff %s, CapPrm %s, CapBnd %s, CapAmb %s, NoNewPrivs %s, Uid %s",
		 (int)server_pid, strna(eff), strna(prm), strna(bnd), strna(amb), strna(nnp),
		 strna(uid));
	ok(server_pid > 0 && ppid && atoi(ppid) == evaluator,
	   "the server is a child process of the evaluator");
	ok(streq_ptr(eff, "0000000000000000") && streq_ptr(prm, "0000000000000000") &&
		   streq_ptr(amb, "0000000000000000"),
	   "the server holds no capability (CapEff %s)", strna(eff));
	ok(streq_ptr(bnd, "0000000000000000"), "the server's bounding set is empty (CapBnd %s)",
	   strna(bnd));
	ok(streq_ptr(nnp, "1"), "the server has no_new_privs");
	if (geteuid() == 0)
		ok(uid && atoi(uid) != 0 && !strstr(uid, "\t0\t") && !strstr(uid, "\t0"),
		   "started as root, the server runs as another user (Uid %s)", strna(uid));
	else
		tap_skip("the uid change needs root");
}

static void test_lifecycle(int nfd, const char *npath, const char *errpath)
{
	_cleanup_free_ char *m1 = NULL, *m2 = NULL, *m3 = NULL, *log = NULL, *n1 = NULL, *n2 = NULL;
	pid_t pid;
	uint16_t port;
	int status = 0;
	double took;

	write_conf("good\n");
	pid = start_daemon(npath, errpath);
	port = read_port();
	ok(pid > 0 && port > 0, "daemon listens (port %u)", port);
	test_server_privileges(pid);
	n1 = collect_notify(1.5);
	ok(count(n1, "READY=1") == 1, "READY=1 sent once");
	ok(strstr(n1, "STATUS=noncompliant, 11 checks, last evaluation 0 s ago") ||
		   strstr(n1, "STATUS=indeterminate, 11 checks, last evaluation"),
	   "STATUS= names verdict, checks and age");
	ok(count(n1, "WATCHDOG=1") >= 3, "WATCHDOG=1 every half WATCHDOG_USEC (%zu in 1.5 s)",
	   count(n1, "WATCHDOG=1"));

	ok(wait_metric_at_least(port, "atrest_evaluations_total ", 3, 20),
	   "evaluations repeat every interval");
	m1 = wait_body(port, "/metrics", "atrest_verdict{verdict=\"indeterminate\"} 1", false, 20);
	ok(m1 && strstr(m1, "atrest_verdict{verdict=\"indeterminate\"} 1"),
	   "the latest snapshot is served");
	ok(m1 && strstr(m1, "atrest_bench_last_run_timestamp_seconds 1234567890"),
	   "the benchmark ran on its own timer and its result reached the evaluation");
	ok(m1 && strstr(m1, "\natrest_evidence_age_seconds ") &&
		   strstr(m1, "\natrest_evaluation_timeouts_total 0\n"),
	   "the evidence age and the timeout counter are exposed");
	ok(metric_at_least(m1, "atrest_evaluation_max_rss_bytes ", 1024 * 1024),
	   "the peak RSS of an evaluation child is exposed");

	kill(pid, SIGHUP);
	ok(wait_metric_at_least(port, "atrest_config_reloads_total ", 1, 20),
	   "SIGHUP reloads a good configuration");
	m2 = http_get(port, "/metrics");
	write_conf("bad\n");
	kill(pid, SIGHUP);
	ok(wait_metric_at_least(port, "atrest_config_reload_errors_total ", 1, 20),
	   "a bad configuration is counted");
	usleep(400000);
	m3 = http_get(port, "/metrics");
	ok(m3 && strstr(m3, "atrest_config_reloads_total 1\n"), "... and not applied");
	ok(m2 && m3 && strstr(m3, "atrest_evaluations_total ") &&
		   !streq(strstr(m2, "atrest_evaluations_total "),
			  strstr(m3, "atrest_evaluations_total ")),
	   "the daemon keeps evaluating after a bad reload");

	kill(pid, SIGTERM);
	took = wait_exit(pid, 10.0, &status);
	ok(took >= 0 && took < 2.0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "SIGTERM: clean exit in %.2f s", took);
	ok(server_pid > 0 && kill(server_pid, 0) < 0 && errno == ESRCH,
	   "the server process is gone with it");
	n2 = collect_notify(0.1);
	ok(strstr(n2, "STOPPING=1"), "STOPPING=1 sent");

	log = tap_read_file(errpath, NULL);
	ok(log && strstr(log, "atrest: host.encryption_at_host node: pass (critical): "),
	   "journal fallback on stderr");
	ok(log && strstr(log, "atrest: verdict: indeterminate (was noncompliant)"),
	   "verdict change logged");
	is_int(count(log, "atrest: verdict:"), 2, "verdict logged only when it changes");
	ok(log && strstr(log, "configuration reload failed, keeping the running configuration: test.conf:1: bad value"),
	   "bad reload logged with its reason");
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "we");

	if (f) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

/* Replaces the snapshot as the evaluator does (write, then rename). */
static void plant_snapshot(const char *data, size_t len)
{
	_cleanup_free_ char *tmp = strprintf("%s/.planted", run_dir);
	_cleanup_free_ char *dst = strprintf("%s/snapshot.json", run_dir);

	write_file(tmp, data, len);
	chmod(tmp, 0644);
	rename(tmp, dst);
}

/* The first evaluation passes; every later one hangs until it is killed
 * at the 0.5 s deadline; past 2.5 s the evidence is stale. */
static void test_deadline(int nfd, const char *npath, const char *errpath)
{
	_cleanup_free_ char *m1 = NULL, *m2 = NULL, *r2 = NULL, *h = NULL, *m3 = NULL, *good = NULL,
			    *hung = NULL, *log = NULL;
	_cleanup_free_ char *snap_path = strprintf("%s/snapshot.json", run_dir);
	_cleanup_free_ char *hung_path = strprintf("%s/hung.pid", run_dir);
	pid_t pid, hung_pid;
	uint16_t port;
	int status = 0;
	size_t good_len = 0;
	double t0;

	mode = "hang";
	pid = start_daemon(npath, errpath);
	port = read_port();
	ok(pid > 0 && port > 0, "daemon with hanging evaluations listens");
	t0 = now();
	ok(wait_metric_at_least(port, "atrest_evaluation_timeouts_total ", 1, 30),
	   "a hanging evaluation is killed at the deadline and counted");
	tap_diag("first timeout counted %.2f s after start (deadline 0.5 s)", now() - t0);
	/* Evaluations go on: the newest pid may be hanging right now. */
	hung = tap_read_file(hung_path, NULL);
	hung_pid = hung ? atoi(hung) : 0;
	ok(hung_pid > 0 && kill(hung_pid, 0) < 0 && errno == ESRCH,
	   "the first hung evaluation process (pid %d) is gone", (int)hung_pid);
	m1 = http_get(port, "/metrics");
	ok(m1 && strstr(m1, "atrest_verdict{verdict=\"noncompliant\"} 1") &&
		   strstr(m1, "atrest_check_status{check=\"host.encryption_at_host\",subject=\"node\",status=\"pass\"} 1"),
	   "meanwhile the previous report is still served");
	ok(metric_at_least(m1, "atrest_evaluations_total ", 1) &&
		   metric_at_least(m1, "atrest_evaluation_errors_total ", 1),
	   "the timeout is an evaluation error too");

	m2 = wait_body(port, "/metrics", "atrest_verdict{verdict=\"indeterminate\"} 1", false, 30);
	ok(m2 && strstr(m2, "atrest_verdict{verdict=\"indeterminate\"} 1") &&
		   !strstr(m2, "status=\"pass\"} 1") && !strstr(m2, "status=\"fail\"} 1"),
	   "past the maximum age every check is unknown, never a stale pass");
	r2 = http_get(port, "/report");
	ok(r2 && strstr(r2, "\"summary\":\"evidence is ") &&
		   strstr(r2, " s old: evaluations are failing: the evaluation overran its 0.5 s "
			      "deadline and was killed\""),
	   "each check says how old the evidence is and why");
	ok(m2 && strstr(m2, "atrest_source_up{source=\"imds\"} 0"),
	   "stale sources are not reported up");

	/* Bad snapshots: the server keeps the one it has and says so. */
	good = tap_read_file(snap_path, &good_len);
	kill(pid, SIGSTOP); /* the evaluator must not overwrite what is planted */
	plant_snapshot("garbage{", 8);
	h = wait_body(port, "/healthz", "refused", false, 20);
	ok(h && strstr(h, "200 OK") &&
		   strstr(h, "the last snapshot was refused: the snapshot is truncated or not JSON"),
	   "a garbage snapshot is refused and /healthz says so");
	m3 = http_get(port, "/metrics");
	ok(m3 && strstr(m3, "atrest_verdict{verdict=\"indeterminate\"} 1") &&
		   metric_at_least(m3, "atrest_snapshot_rejections_total ", 1),
	   "... the previous snapshot is still served and the refusal counted");
	free(h);
	plant_snapshot(good, good_len > 0 ? good_len / 2 : 0);
	h = wait_body(port, "/healthz", "truncated", false, 20);
	ok(h && strstr(h, "truncated"), "a truncated snapshot is refused");
	free(h);
	{
		size_t big = (16u << 20) + 1;
		char *junk = malloc(big);

		if (junk) {
			memset(junk, ' ', big);
			plant_snapshot(junk, big);
			free(junk);
		}
	}
	h = wait_body(port, "/healthz", "oversized", false, 20);
	ok(h && strstr(h, "oversized"), "an oversized snapshot is refused");
	free(h);
	{
		static const char shape[] = "{\"schema\":\"atrest.snapshot/v1\",\"published_at\":1,"
					    "\"evaluated_at\":1,\"max_age\":1,\"stale\":false,"
					    "\"self\":{}}";

		plant_snapshot(shape, strlen(shape));
	}
	h = wait_body(port, "/healthz", "counters", false, 20);
	ok(h && strstr(h, "counters are missing"), "a snapshot of the wrong shape is refused");
	free(h);
	plant_snapshot(good, good_len);
	h = wait_body(port, "/healthz", "refused", true, 20);
	ok(h && strstr(h, "200 OK") && !strstr(h, "refused"),
	   "a good snapshot is taken again and /healthz is clear");
	free(h);
	h = NULL;
	{
		/* The evaluator's stale rendering failed too: evidence past the
		 * maximum age (and the grace) that is not marked stale is not
		 * served at all. */
		json_object *o = json_tokener_parse(good ? good : "");
		const char *text;

		if (o) {
			json_object_object_add(o, "stale", json_object_new_boolean(false));
			json_object_object_add(o, "evaluated_at", json_object_new_double(time(NULL) - 100.0));
			json_object_object_add(o, "published_at", json_object_new_double(time(NULL)));
			text = json_object_to_json_string(o);
			plant_snapshot(text, strlen(text));
			json_object_put(o);
		}
		h = wait_body(port, "/metrics", "not marked stale", false, 20);
		ok(h && strstr(h, "503") && strstr(h, "was not marked stale"),
		   "evidence past the maximum age that was not marked stale is refused (503)");
		plant_snapshot(good, good_len);
	}
	kill(pid, SIGCONT);

	kill(pid, SIGTERM);
	ok(wait_exit(pid, 10.0, &status) >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "SIGTERM: clean exit");
	log = tap_read_file(errpath, NULL);
	ok(log && strstr(log, "evaluation failed: the evaluation overran its 0.5 s deadline and "
			      "was killed; serving the previous report"),
	   "the timeout is logged");
	ok(log && strstr(log, "every check is now served as unknown"), "going stale is logged");
	unlink(hung_path);
	mode = "fast";
}

static void test_stuck(int nfd, const char *npath, const char *errpath, int sig)
{
	pid_t pid;
	int status = 0;
	double took;

	mode = "slow";
	pid = start_daemon(npath, errpath);
	ok(read_port() > 0, "daemon with a stuck evaluation listens");
	usleep(300000);
	kill(pid, sig);
	took = wait_exit(pid, 10.0, &status);
	ok(took >= 0 && took < 2.0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "%s during a stuck evaluation: exit in %.2f s", strsignal(sig), took);
	if (took < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	mode = "fast";
}

static void test_pure(void)
{
	struct facts f;
	struct report r;
	_cleanup_free_ char *a = NULL, *b = daemon_status_text(NULL, 0);

	fixture_facts(&f);
	fixture_report(&r, &f, 0);
	a = daemon_status_text(&r, 12.7);
	is_str(a, "noncompliant, 11 checks, last evaluation 12 s ago", "status text");
	is_str(b, "first evaluation running", "status text before the first evaluation");
	ok(daemon_jitter(60, 0) == 54 && daemon_jitter(60, 0.5) == 60 &&
		   daemon_jitter(60, 0.999999) < 66,
	   "jitter spans 0.9..1.1 of the interval");
	fixture_report_done(&r);
	fixture_facts_done(&f);
}

int main(int argc, char **argv)
{
	char npath[108], errpath[] = "/tmp/atrest-test-daemon-err-XXXXXX";
	int nfd, fd;

	if (argc == 8 && streq(argv[1], "--daemon-child"))
		daemon_child(argv);
	if (argc == 2 && streq(argv[1], "--job")) {
		static const struct daemon_job_hooks hooks = { test_evaluate, test_bench };

		mode = getenv("ATREST_TEST_DAEMON_MODE") ?: "fast";
		snprintf(run_dir, sizeof(run_dir), "%s", getenv("ATREST_TEST_DAEMON_RUN_DIR") ?: "/");
		return daemon_job_main(STDIN_FILENO, STDOUT_FILENO, &hooks);
	}
	test_pure();
	nfd = notify_socket(npath, sizeof(npath));
	fd = mkstemp(conf_path);
	if (nfd < 0 || fd < 0 || (close(fd), fd = mkstemp(errpath)) < 0 || !mkdtemp(run_dir) ||
	    chmod(run_dir, 0755) < 0)
		tap_skip_all("cannot create temporary sockets/files");
	close(fd);
	pthread_t t;
	pthread_create(&t, NULL, drain_notify, &nfd);
	pthread_detach(t);
	test_lifecycle(nfd, npath, errpath);
	test_deadline(nfd, npath, errpath);
	test_stuck(nfd, npath, errpath, SIGTERM);
	test_stuck(nfd, npath, errpath, SIGINT);
	unlink(npath);
	unlink(conf_path);
	unlink(errpath);
	{
		_cleanup_free_ char *snap = strprintf("%s/snapshot.json", run_dir);

		unlink(snap);
		rmdir(run_dir);
	}
	return tap_done();
}
