/* SPDX-License-Identifier: Apache-2.0 */
/* Force-included in the portable build (configure --enable-portable): binds
 * the libm functions whose default symbol version glibc 2.29 raised to the
 * older versions, which every glibc still exports, so that the binary runs
 * on glibc 2.28 (RHEL 8). packaging/portable/gate.sh checks the result. */
#pragma once

#if defined(__x86_64__)
#define ATREST_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define ATREST_GLIBC_BASE "GLIBC_2.17"
#endif

#ifdef ATREST_GLIBC_BASE
__asm__(".symver exp, exp@" ATREST_GLIBC_BASE);
__asm__(".symver exp2, exp2@" ATREST_GLIBC_BASE);
__asm__(".symver log, log@" ATREST_GLIBC_BASE);
__asm__(".symver log2, log2@" ATREST_GLIBC_BASE);
__asm__(".symver pow, pow@" ATREST_GLIBC_BASE);
#endif
