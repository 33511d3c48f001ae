/* SPDX-License-Identifier: Apache-2.0 */
/* The portable build's libsystemd: the calls atrest makes, resolved from
 * libsystemd.so.0 with dlopen() on first use, as systemd does for its own
 * optional libraries. Without it the journal sink writes stderr (the sink asks
 * sd_dlopen_loaded()) and notifications use the protocol directly (sd-notify.c). */
#include "config.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <systemd/sd-daemon.h>
/* Plain prototypes here: callers' sd_journal_sendv() is a macro for the
 * _with_location variant (CODE_FILE=, CODE_LINE=, CODE_FUNC=); both exist. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "lib/sd-dlopen.h"
#include "lib/strutil.h"

static struct {
	int (*journal_sendv)(const struct iovec *iov, int n);
	int (*journal_sendv_with_location)(const char *file, const char *line, const char *func,
					   const struct iovec *iov, int n);
	int (*notify)(int unset_environment, const char *state);
	int (*watchdog_enabled)(int unset_environment, uint64_t *usec);
	char describe[PATH_MAX + 64];
} sd;
static pthread_once_t sd_once = PTHREAD_ONCE_INIT;

static void sd_load(void)
{
	void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	char path[PATH_MAX];
	Dl_info info;

	if (!h) {
		const char *e = dlerror();

		snprintf(sd.describe, sizeof(sd.describe), "not loaded: %s", e ? e : "dlopen failed");
		return;
	}
	*(void **)&sd.journal_sendv = dlsym(h, "sd_journal_sendv");
	*(void **)&sd.journal_sendv_with_location = dlsym(h, "sd_journal_sendv_with_location");
	*(void **)&sd.notify = dlsym(h, "sd_notify");
	*(void **)&sd.watchdog_enabled = dlsym(h, "sd_watchdog_enabled");
	if (!sd.journal_sendv || !sd.journal_sendv_with_location || !sd.notify ||
	    !sd.watchdog_enabled) {
		snprintf(sd.describe, sizeof(sd.describe), "not loaded: libsystemd.so.0 lacks %s",
			 !sd.journal_sendv		 ? "sd_journal_sendv" :
			 !sd.journal_sendv_with_location ? "sd_journal_sendv_with_location" :
			 !sd.notify			 ? "sd_notify" : "sd_watchdog_enabled");
		sd.journal_sendv = NULL;
		sd.journal_sendv_with_location = NULL;
		sd.notify = NULL;
		sd.watchdog_enabled = NULL;
		dlclose(h);
		return;
	}
	/* The real file name carries the library's minor version (…so.0.35.0). */
	if (dladdr(*(void **)&sd.notify, &info) && info.dli_fname &&
	    realpath(info.dli_fname, path))
		snprintf(sd.describe, sizeof(sd.describe), "%s (dlopen)", path);
	else
		snprintf(sd.describe, sizeof(sd.describe), "libsystemd.so.0 (dlopen)");
	/* The handle stays open for the life of the process. */
}

bool sd_dlopen_loaded(void)
{
	pthread_once(&sd_once, sd_load);
	return sd.notify != NULL;
}

const char *sd_dlopen_describe(void)
{
	pthread_once(&sd_once, sd_load);
	return sd.describe;
}

int sd_journal_sendv(const struct iovec *iov, int n)
{
	if (!sd_dlopen_loaded())
		return -EOPNOTSUPP;
	return sd.journal_sendv(iov, n);
}

int sd_journal_sendv_with_location(const char *file, const char *line, const char *func,
				   const struct iovec *iov, int n)
{
	if (!sd_dlopen_loaded())
		return -EOPNOTSUPP;
	return sd.journal_sendv_with_location(file, line, func, iov, n);
}

int sd_notify(int unset_environment, const char *state)
{
	int r;

	if (sd_dlopen_loaded())
		return sd.notify(unset_environment, state);
	r = sd_notify_native(state);
	if (unset_environment)
		unsetenv("NOTIFY_SOCKET");
	return r;
}

int sd_notifyf(int unset_environment, const char *format, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, format);
	r = vasprintf(&s, format, ap);
	va_end(ap);
	if (r < 0) {
		s = NULL; /* undefined after a failed vasprintf */
		return -ENOMEM;
	}
	return sd_notify(unset_environment, s);
}

int sd_watchdog_enabled(int unset_environment, uint64_t *usec)
{
	unsigned long long u;
	int r;

	if (sd_dlopen_loaded())
		return sd.watchdog_enabled(unset_environment, usec);
	r = sd_watchdog_native(&u);
	if (r > 0 && usec)
		*usec = u;
	if (unset_environment) {
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
	}
	return r;
}
