/* SPDX-License-Identifier: Apache-2.0 */
/* libsystemd as an optional library: linked in the normal build, loaded with
 * dlopen() in the portable one (lib/sd-dlopen.c), which then says what it found. */
#pragma once

#include <stdbool.h>

#ifdef ATREST_PORTABLE
/* Whether libsystemd.so.0 was found and has every call atrest makes. */
bool sd_dlopen_loaded(void);
/* For `atrest version`: the file loaded ("/usr/lib/.../libsystemd.so.0.35.0")
 * or why none was ("not loaded: ..."). Static storage, never NULL. */
const char *sd_dlopen_describe(void);
#else
static inline bool sd_dlopen_loaded(void)
{
	return true;
}
static inline const char *sd_dlopen_describe(void)
{
	return NULL;
}
#endif

/* The sd_notify(3) datagram protocol, for when libsystemd is not there: sends
 * STATE to $NOTIFY_SOCKET. 0 when NOTIFY_SOCKET is unset (nothing to tell),
 * 1 when sent, negative errno on failure. */
int sd_notify_native(const char *state);
/* sd_watchdog_enabled(3) from $WATCHDOG_USEC and $WATCHDOG_PID: 1 and the
 * period when the watchdog is on for this process, else 0 (usec untouched). */
int sd_watchdog_native(unsigned long long *ret_usec);
