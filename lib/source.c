/* SPDX-License-Identifier: Apache-2.0 */
/* Names of source states, shared by every gatherer and reporter. */
#include "config.h"

#include "lib/source.h"

const char *source_status_to_string(enum source_status s)
{
	switch (s) {
	case SOURCE_OK:
		return "ok";
	case SOURCE_UNREACHABLE:
		return "unreachable";
	case SOURCE_ERROR:
		return "error";
	case SOURCE_OFF:
		return "off";
	case SOURCE_UNAUTHORIZED:
		return "unauthorized";
	}
	return "error";
}
