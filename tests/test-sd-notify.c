/* SPDX-License-Identifier: Apache-2.0 */
/* The notification and watchdog protocols the portable build falls back to
 * without libsystemd (lib/sd-notify.c): real datagrams on a real socket. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/sd-dlopen.h"
#include "tests/tap.h"

/* A datagram socket bound at PATH (an abstract name when PATH starts with '@'). */
static int listener(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	if (bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void expect_datagram(int fd, const char *want, const char *what)
{
	char buf[256];
	ssize_t k = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[k > 0 ? k : 0] = '\0';
	is_str(buf, want, "%s", what);
}

static void test_notify(void)
{
	char dir[] = "/tmp/atrest-notify.XXXXXX", path[128], abstract[64];
	int fd;

	unsetenv("NOTIFY_SOCKET");
	is_int(sd_notify_native("READY=1"), 0, "no NOTIFY_SOCKET: nothing sent, 0");

	if (!mkdtemp(dir)) {
		ok(false, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listener(path);
	ok(fd >= 0, "a path socket listens");
	setenv("NOTIFY_SOCKET", path, 1);
	is_int(sd_notify_native("READY=1\nSTATUS=first evaluation done"), 1, "sent to a path socket");
	expect_datagram(fd, "READY=1\nSTATUS=first evaluation done", "the manager reads the state verbatim");
	close(fd);
	is_int(sd_notify_native("WATCHDOG=1"), -ECONNREFUSED, "a socket nobody listens on is an error");
	unlink(path);
	is_int(sd_notify_native("WATCHDOG=1"), -ENOENT, "a socket that is gone is an error");
	rmdir(dir);

	snprintf(abstract, sizeof(abstract), "@atrest-test-notify-%d", (int)getpid());
	fd = listener(abstract);
	ok(fd >= 0, "an abstract socket listens");
	setenv("NOTIFY_SOCKET", abstract, 1);
	is_int(sd_notify_native("STOPPING=1"), 1, "sent to an abstract socket ('@')");
	expect_datagram(fd, "STOPPING=1", "the abstract socket gets it");
	close(fd);

	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	is_int(sd_notify_native("READY=1"), -EAFNOSUPPORT, "a vsock address is refused, not misread");
	unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog(void)
{
	unsigned long long usec = 7;
	char pid[32];

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	is_int(sd_watchdog_native(&usec), 0, "no WATCHDOG_USEC: off");
	is_int(usec, 7, "the period is untouched when off");
	setenv("WATCHDOG_USEC", "90000000", 1);
	is_int(sd_watchdog_native(&usec), 1, "WATCHDOG_USEC alone: on");
	is_int(usec, 90000000, "the period is WATCHDOG_USEC");
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	usec = 7;
	is_int(sd_watchdog_native(&usec), 1, "WATCHDOG_PID is this process: on");
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	usec = 7;
	is_int(sd_watchdog_native(&usec), 0, "WATCHDOG_PID of another process: off");
	is_int(usec, 7, "and the period untouched");
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "0", 1);
	is_int(sd_watchdog_native(&usec), 0, "a zero period is off");
	setenv("WATCHDOG_USEC", "90s", 1);
	is_int(sd_watchdog_native(&usec), 0, "a malformed period is off");
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	test_notify();
	test_watchdog();
	return tap_done();
}
