/* SPDX-License-Identifier: Apache-2.0 */
/* The portable arm64 build links static archives that Debian 12's GCC 12
 * compiled with outline atomics: it turns the __sync builtins into calls of
 * __aarch64_casN_sync (json-c's hash seed), which the libgcc of Debian 11's
 * GCC 10, the build root's, does not have (it has the relax, acq, rel and
 * acq_rel models). This is the missing model: a compare-and-swap with full
 * barriers, returning the old value, as libgcc 12's lse.S does.
 * build-libs.sh adds it to the archive that needs it. */
#include <stdint.h>

#define CAS_SYNC(n, type)                                                                    \
	type __aarch64_cas##n##_sync(type expected, type desired, type *ptr);                \
	type __aarch64_cas##n##_sync(type expected, type desired, type *ptr)                 \
	{                                                                                    \
		__atomic_compare_exchange_n(ptr, &expected, desired, 0, __ATOMIC_SEQ_CST,    \
					    __ATOMIC_SEQ_CST);                               \
		__atomic_thread_fence(__ATOMIC_SEQ_CST);                                     \
		return expected;                                                             \
	}

CAS_SYNC(1, uint8_t)
CAS_SYNC(2, uint16_t)
CAS_SYNC(4, uint32_t)
CAS_SYNC(8, uint64_t)
