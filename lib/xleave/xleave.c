/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Setting up an interleaved-mode table; the per-packet parts are inline
 * in dpn_xleave.h.
 */

#include <errno.h>
#include <string.h>

#include "dpn_xleave.h"

uint32_t
dpn_xleave_size(uint32_t entries)
{
	uint32_t size = DPN_XLEAVE_MIN_SIZE;

	if (entries == 0)
		return 0;
	while (size < entries && size < DPN_XLEAVE_MAX_SIZE)
		size <<= 1;
	return size;
}

static size_t
ring_bytes(uint32_t size)
{
	return (size_t)size * sizeof(struct dpn_xleave_pair);
}

size_t
dpn_xleave_memsize(uint32_t entries)
{
	uint32_t size = dpn_xleave_size(entries);

	return ring_bytes(size) + (size_t)size /
		DPN_XLEAVE_PAIRS_PER_BUCKET * sizeof(struct dpn_xleave_bucket);
}

int
dpn_xleave_init(struct dpn_xleave_table *t, void *mem, uint32_t entries)
{
	uint32_t size = dpn_xleave_size(entries);

	memset(t, 0, sizeof(*t));
	if (entries > DPN_XLEAVE_MAX_SIZE)
		return -EINVAL;
	if (size == 0)
		return 0;
	/* The ring first: its size is a multiple of 64 bytes, so the
	 * index that follows is aligned as the buckets need. */
	t->ring = mem;
	t->index = (struct dpn_xleave_bucket *)((char *)mem + ring_bytes(size));
	t->ring_mask = size - 1;
	t->index_mask = size / DPN_XLEAVE_PAIRS_PER_BUCKET - 1;
	return 0;
}
