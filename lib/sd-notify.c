/* SPDX-License-Identifier: Apache-2.0 */
/* The service manager's notification and watchdog protocols (sd_notify(3),
 * sd_watchdog_enabled(3)) without libsystemd, for the portable build on a
 * node whose libsystemd.so.0 cannot be loaded: a Type=notify unit must still start. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "lib/sd-dlopen.h"
#include "lib/strutil.h"

int sd_notify_native(const char *state)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	size_t n;

	if (isempty(e))
		return 0;
	/* A path, or an abstract name written with a leading '@'; systemd's newer
	 * vsock addresses are for VMs, which atrest does not run as. */
	if (e[0] != '/' && e[0] != '@')
		return -EAFNOSUPPORT;
	n = strlen(e);
	if (n >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, e, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The kernel attaches our credentials; NotifyAccess=main checks them. */
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
		return -errno;
	return 1;
}

int sd_watchdog_native(unsigned long long *ret_usec)
{
	const char *u = getenv("WATCHDOG_USEC"), *p = getenv("WATCHDOG_PID");
	uint64_t usec, pid;

	if (isempty(u) || safe_atou64(u, &usec) < 0 || usec == 0)
		return 0;
	/* WATCHDOG_PID names the process meant; a child that inherited it is not. */
	if (!isempty(p) && (safe_atou64(p, &pid) < 0 || pid != (uint64_t)getpid()))
		return 0;
	*ret_usec = usec;
	return 1;
}
