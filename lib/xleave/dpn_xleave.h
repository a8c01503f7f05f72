/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_XLEAVE_H
#define DPN_XLEAVE_H

/**
 * @file
 * Interleaved mode, server side (RFC 9769; chrony's `xleave`): the
 * transmit time of a reply is known only after it has left, so the
 * server keeps it and sends it in its *next* reply to the same client.
 * The client names the earlier exchange by copying that reply's receive
 * timestamp into the origin field of its next request, so the saved
 * transmit times are keyed by the receive timestamps this server sent.
 *
 * DPDK-free. Each worker owns one table (RSS keeps a client's address
 * on one worker), with memory fixed at start:
 * - a ring of (receive, transmit) pairs in the order the replies were
 *   built, so the oldest is always the one overwritten (exact FIFO: a
 *   pair lives for exactly `size` replies of its worker);
 * - an index from a receive timestamp to its place in the ring, in
 *   one-cache-line buckets of seven (tag, position) slots written in
 *   turn, one bucket per two ring entries. A lookup reads one index line
 *   and one ring entry; an insert writes one ring entry (sequential) and
 *   one index slot. An index slot can point to a pair that has since been
 *   overwritten: the ring entry's full receive timestamp is compared,
 *   so such a slot is simply a miss.
 *
 * Receive timestamps are made unique per worker and tagged the way
 * chrony tags them: the lowest bit of a receive timestamp is 1 and that
 * of a transmit timestamp 0, so that a request whose origin has the
 * lowest bit clear (a basic client echoing a transmit timestamp) is
 * known not to be interleaved without a lookup.
 *
 * Timestamps here are host-order 64-bit NTP timestamps.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Index slots per cache line (the eighth word is the bucket's clock). */
#define DPN_XLEAVE_BUCKET_SLOTS 7
/** Ring entries per index line: 3.5 slots per entry. */
#define DPN_XLEAVE_PAIRS_PER_BUCKET 2
/** Fewest and most pairs a table holds (powers of two). */
#define DPN_XLEAVE_MIN_SIZE 256u
#define DPN_XLEAVE_MAX_SIZE (1u << 26)
/**
 * A new receive timestamp at or below the last one, but by less than
 * this (2^22 units, about 1 ms), is moved just past the last one to keep
 * them unique; further back is a step of the clock, taken as it is.
 */
#define DPN_XLEAVE_UNIQUE_WINDOW (1ULL << 22)

/** One reply: its receive timestamp and the true transmit time. */
struct dpn_xleave_pair {
	uint64_t rx;		/**< key; 0 = empty */
	uint64_t tx;		/**< 0 = not known (not sent) or used */
};

struct dpn_xleave_bucket {
	/** (low 32 bits of rx) << 32 | ring position; 0 = empty */
	uint64_t slot[DPN_XLEAVE_BUCKET_SLOTS];
	/** The slot the next insert takes: the bucket's slots are written
	 * in turn, so that is always its oldest, found without a search
	 * (a search for the oldest costs unpredictable branches). */
	uint64_t next;
} __attribute__((aligned(64)));

struct dpn_xleave_table {
	struct dpn_xleave_pair *ring;
	struct dpn_xleave_bucket *index;
	uint32_t ring_mask;	/**< size - 1; size 0 = disabled */
	uint32_t index_mask;	/**< buckets - 1 */
	uint32_t head;		/**< position of the next pair (wraps) */
	uint32_t pending;	/**< pairs of the burst waiting for tx */
	uint64_t last_rx;	/**< the newest receive timestamp given */
};

/** Pairs a table of @p entries (rounded up to a power of two, at least
 * DPN_XLEAVE_MIN_SIZE) holds; 0 for 0 (interleaved mode off). */
uint32_t dpn_xleave_size(uint32_t entries);

/** Bytes of memory (ring and index, 64-byte aligned) for @p entries. */
size_t dpn_xleave_memsize(uint32_t entries);

/**
 * Set up @p t over @p mem (dpn_xleave_memsize(entries) bytes, 64-byte
 * aligned, zeroed by the caller). @p entries 0 gives a table that never
 * saves or finds anything. @return 0 or -EINVAL (too many entries).
 */
int dpn_xleave_init(struct dpn_xleave_table *t, void *mem, uint32_t entries);

static inline bool
dpn_xleave_enabled(const struct dpn_xleave_table *t)
{
	return t->ring != NULL;
}

/**
 * Turn T2 into the receive timestamp this table will give out: the
 * lowest bit set, and past the previous one. Called for every reply,
 * interleaved mode or not (the stamps stay unique and tagged).
 */
static inline uint64_t
dpn_xleave_rx_ts(struct dpn_xleave_table *t, uint64_t rx)
{
	rx |= 1;
	if (rx <= t->last_rx && t->last_rx - rx < DPN_XLEAVE_UNIQUE_WINDOW)
		rx = t->last_rx + 2;
	t->last_rx = rx;
	return rx;
}

/** A transmit timestamp as this server sends it (lowest bit clear). */
static inline uint64_t
dpn_xleave_tx_ts(uint64_t tx)
{
	return tx & ~1ULL;
}

#define unlikely_xleave(x) __builtin_expect(!!(x), 0)

static inline uint32_t
dpn_xleave_hash(const struct dpn_xleave_table *t, uint64_t rx)
{
	/* The fraction's low bits vary most; fold the seconds in too. */
	return (uint32_t)((rx * 0x9e3779b97f4a7c15ULL) >> 32) & t->index_mask;
}

/**
 * Start loading the index line that dpn_xleave_find() or dpn_xleave_add()
 * will read for @p ts, so that the burst's other work hides the miss.
 */
static inline const void *
dpn_xleave_line(const struct dpn_xleave_table *t, uint64_t ts)
{
	return &t->index[dpn_xleave_hash(t, ts)];
}

/**
 * The pair saved for @p org, the origin timestamp of a request, or NULL.
 * Does not count: see dpn_xleave_take().
 */
static inline struct dpn_xleave_pair *
dpn_xleave_find(struct dpn_xleave_table *t, uint64_t org)
{
	const struct dpn_xleave_bucket *b;
	uint32_t size = t->ring_mask + 1, tag = (uint32_t)org;
	unsigned int i;

	if (!(org & 1) || t->ring == NULL)
		return NULL;
	b = &t->index[dpn_xleave_hash(t, org)];
	for (i = 0; i < DPN_XLEAVE_BUCKET_SLOTS; i++) {
		uint64_t s = b->slot[i];
		uint32_t pos = (uint32_t)s;
		struct dpn_xleave_pair *p;

		if ((uint32_t)(s >> 32) != tag || t->head - pos > size)
			continue;
		p = &t->ring[pos & t->ring_mask];
		if (p->rx == org)
			return p;
	}
	return NULL;
}

/**
 * The transmit time saved for the reply whose receive timestamp is
 * @p org, used up (each is sent once), or 0 when there is none: the
 * request then gets a basic reply.
 */
static inline uint64_t
dpn_xleave_take(struct dpn_xleave_table *t, uint64_t org)
{
	struct dpn_xleave_pair *p = dpn_xleave_find(t, org);
	uint64_t tx;

	if (p == NULL)
		return 0;
	tx = p->tx;
	p->tx = 0;
	return tx;
}

/** Start a burst: pairs added from now on are its replies. */
static inline void
dpn_xleave_begin(struct dpn_xleave_table *t)
{
	t->pending = 0;
}

/**
 * Save a reply about to be sent, under its receive timestamp @p rx (from
 * dpn_xleave_rx_ts()), its transmit time still unknown. The oldest pair
 * goes. Pairs added since dpn_xleave_begin() are its burst.
 */
static inline void
dpn_xleave_add(struct dpn_xleave_table *t, uint64_t rx)
{
	struct dpn_xleave_bucket *b;
	uint32_t pos = t->head++, tag = (uint32_t)rx;
	unsigned int i, n;
	bool seen = false;

	t->ring[pos & t->ring_mask] = (struct dpn_xleave_pair){ rx, 0 };
	t->pending++;
	b = &t->index[dpn_xleave_hash(t, rx)];
	for (i = 0; i < DPN_XLEAVE_BUCKET_SLOTS; i++)
		seen |= (uint32_t)(b->slot[i] >> 32) == tag;
	/*
	 * The same receive timestamp given twice (T2 from two sources more
	 * than DPN_XLEAVE_UNIQUE_WINDOW apart, which dpn_xleave_rx_ts()
	 * takes for a step): neither reply may be matched, or one client
	 * would get the other's time.
	 */
	if (unlikely_xleave(seen)) {
		struct dpn_xleave_pair *p = dpn_xleave_find(t, rx);

		if (p != NULL) {
			p->rx = 0;
			t->ring[pos & t->ring_mask].rx = 0;
			return;
		}
	}
	n = (unsigned int)b->next;
	b->slot[n] = (uint64_t)tag << 32 | pos;
	b->next = n + 1 == DPN_XLEAVE_BUCKET_SLOTS ? 0 : n + 1;
}

/**
 * The burst's replies have been handed to the port: the first @p sent
 * of the pairs added since the last call left at @p tx (host-order NTP,
 * from dpn_xleave_tx_ts()); the rest were not sent and keep no time.
 */
static inline void
dpn_xleave_sent(struct dpn_xleave_table *t, unsigned int sent, uint64_t tx)
{
	uint32_t pos = t->head - t->pending;
	unsigned int i;

	for (i = 0; i < sent && i < t->pending; i++)
		t->ring[(pos + i) & t->ring_mask].tx = tx;
	t->pending = 0;
}

#endif /* DPN_XLEAVE_H */
