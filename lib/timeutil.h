/* SPDX-License-Identifier: Apache-2.0 */
/* Monotonic time in seconds, and sleeping for a fraction of a second. */
#pragma once

double now_monotonic(void);
/* Sleeps s seconds (nothing when s <= 0), resuming after signals. */
void sleep_seconds(double s);
