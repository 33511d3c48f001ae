/* SPDX-License-Identifier: Apache-2.0 */
/* How a source of facts answered: the vocabulary that gatherers (imds/,
 * probes/) and the agent share. */
#pragma once

enum source_status {
	SOURCE_OK = 0,
	SOURCE_UNREACHABLE,  /* no answer: connection refused, timeout */
	SOURCE_ERROR,        /* answered, but with an error or a bad document */
	SOURCE_OFF,          /* not asked (disabled) */
	SOURCE_UNAUTHORIZED, /* 401/403 */
};

const char *source_status_to_string(enum source_status s);
