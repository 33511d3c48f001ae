/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon loop in a child process with a stubbed evaluation and
 * benchmark: sd_notify (READY, STATUS, WATCHDOG, STOPPING) on a real
 * notify socket, snapshots over real HTTP, SIGHUP reload good and bad,
 * SIGTERM/SIGINT within a second even during a stuck evaluation. */
#include "config.h"

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "agent/daemon/daemon.h"
#include "tests/daemon-fixture.h"
#include "tests/tap.h"

static char conf_path[] = "/tmp/atrest-test-daemon-conf-XXXXXX";
static unsigned n_evaluations;
static bool slow;
static int port_pipe[2];

static int test_evaluate(const struct gather_options *o, struct evaluation **ret)
{
	struct evaluation *e;

	if (slow)
		sleep(30);
	e = fixture_evaluation(n_evaluations++ == 0 ? 0 : 1);
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

static void test_listening(void *userdata, const struct http_server *s)
{
	uint16_t port = http_server_port(s, 0);

	if (write(port_pipe[1], &port, sizeof(port)) != sizeof(port))
		_exit(3);
}

/* The daemon side, in a freshly exec'd copy of this program: forking a
 * process that already runs threads and then allocating in the child is
 * unsafe (ASan's allocator deadlocks on a lock held at fork time). */
static _noreturn_ void daemon_child(char **argv)
{
	const char *notify_path = argv[2], *stderr_path = argv[3];

	port_pipe[1] = atoi(argv[4]);
	slow = streq(argv[5], "slow");
	snprintf(conf_path, sizeof(conf_path), "%s", argv[6]);
	static char *const listen[] = { (char *)"127.0.0.1:0", NULL };
	struct config conf = { .listen = (char **)listen, .interval = 60 };
	struct daemon_options o = {
		.conf = &conf,
		.version = FIXTURE_VERSION,
		.interval = 0.2,
		.bench_interval = 3600,
		.journal_socket = "/nonexistent/atrest/socket",
		.reload = test_reload,
		.evaluate = test_evaluate,
		.bench = test_bench,
		.listening = test_listening,
	};

	setenv("NOTIFY_SOCKET", notify_path, 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	unsetenv("WATCHDOG_PID");
	if (!freopen(stderr_path, "w", stderr))
		_exit(2);
	_exit(daemon_run(&o) == 0 ? 0 : 1);
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
	execl("/proc/self/exe", "test-daemon", "--daemon-child", notify_path, stderr_path, wfd,
	      slow ? "slow" : "fast", conf_path, (char *)NULL);
	_exit(127);
}

static uint16_t read_port(void)
{
	struct pollfd p = { port_pipe[0], POLLIN, 0 };
	uint16_t port = 0;

	if (poll(&p, 1, 5000) == 1 && read(port_pipe[0], &port, sizeof(port)) != sizeof(port))
		port = 0;
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
	n1 = collect_notify(1.5);
	ok(count(n1, "READY=1") == 1, "READY=1 sent once");
	ok(strstr(n1, "STATUS=noncompliant, 11 checks, last evaluation 0 s ago") ||
		   strstr(n1, "STATUS=indeterminate, 11 checks, last evaluation"),
	   "STATUS= names verdict, checks and age");
	ok(count(n1, "WATCHDOG=1") >= 5, "WATCHDOG=1 every half WATCHDOG_USEC (%zu in 1.5 s)",
	   count(n1, "WATCHDOG=1"));

	m1 = http_get(port, "/metrics");
	ok(metric_at_least(m1, "atrest_evaluations_total ", 3), "evaluations repeat every interval");
	ok(m1 && strstr(m1, "atrest_verdict{verdict=\"indeterminate\"} 1"),
	   "the latest snapshot is served");
	ok(m1 && strstr(m1, "atrest_bench_last_run_timestamp_seconds 1234567890"),
	   "the benchmark ran on its own timer and its result reached the evaluation");

	kill(pid, SIGHUP);
	usleep(300000);
	m2 = http_get(port, "/metrics");
	ok(metric_at_least(m2, "atrest_config_reloads_total ", 1),
	   "SIGHUP reloads a good configuration");
	write_conf("bad\n");
	kill(pid, SIGHUP);
	usleep(600000);
	m3 = http_get(port, "/metrics");
	ok(metric_at_least(m3, "atrest_config_reload_errors_total ", 1),
	   "a bad configuration is counted");
	ok(m3 && strstr(m3, "atrest_config_reloads_total 1\n"), "... and not applied");
	ok(m3 && strstr(m3, "atrest_evaluations_total ") &&
		   !streq(strstr(m2, "atrest_evaluations_total "),
			  strstr(m3, "atrest_evaluations_total ")),
	   "the daemon keeps evaluating after a bad reload");

	kill(pid, SIGTERM);
	took = wait_exit(pid, 5.0, &status);
	ok(took >= 0 && took < 1.0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "SIGTERM: clean exit in %.2f s", took);
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

static void test_stuck(int nfd, const char *npath, const char *errpath, int sig)
{
	pid_t pid;
	int status = 0;
	double took;

	slow = true;
	pid = start_daemon(npath, errpath);
	ok(read_port() > 0, "daemon with a stuck evaluation listens");
	usleep(300000);
	kill(pid, sig);
	took = wait_exit(pid, 1.0, &status);
	ok(took >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "%s during a stuck evaluation: exit in %.2f s", strsignal(sig), took);
	if (took < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	slow = false;
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

	if (argc == 7 && streq(argv[1], "--daemon-child"))
		daemon_child(argv);
	test_pure();
	nfd = notify_socket(npath, sizeof(npath));
	fd = mkstemp(conf_path);
	if (nfd < 0 || fd < 0 || (close(fd), fd = mkstemp(errpath)) < 0)
		tap_skip_all("cannot create temporary sockets/files");
	close(fd);
	pthread_t t;
	pthread_create(&t, NULL, drain_notify, &nfd);
	pthread_detach(t);
	test_lifecycle(nfd, npath, errpath);
	test_stuck(nfd, npath, errpath, SIGTERM);
	test_stuck(nfd, npath, errpath, SIGINT);
	unlink(npath);
	unlink(conf_path);
	unlink(errpath);
	return tap_done();
}
