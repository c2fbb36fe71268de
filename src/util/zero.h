/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Zeroing the structs made per event (a tl_event, a tt_event, a conn). */
#ifndef ZERO_H
#define ZERO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* n bytes at p zeroed with 16-byte stores. GCC makes a memset of a struct
 * this size (100-400 bytes) a rep stos, and so it does a loop of stores it
 * recognises as one: its start-up was a third of conn_table_add_raw's own
 * time in perf (the empty asm keeps the loop a loop). */
static inline void zero_small(void *p, size_t n)
{
	typedef uint64_t v2 __attribute__((vector_size(16)));
	const v2 z = { 0, 0 };
	size_t i = 0;

	/* n is a constant where it is inlined: the loop unrolled is one store
	 * per 16 bytes, not a store and its add, compare and branch */
#pragma GCC unroll 32
	for (; i + 16 <= n; i += 16) {
		memcpy((char *)p + i, &z, 16);
		__asm__("");
	}
	if (i < n)
		memset((char *)p + i, 0, n - i);
}

#endif /* ZERO_H */
