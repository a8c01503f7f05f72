/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_RATELIMIT_H
#define DPN_RATELIMIT_H

/**
 * @file
 * Per-client rate limiting for `restrict ... limited`, as ntpd's
 * `discard average A minimum M` means it, in a fixed-size table.
 *
 * DPDK-free. Each worker owns one table (RSS sends a client to one
 * worker), sized at start; memory never grows. The table is a hash of
 * one-cache-line buckets of DPN_RL_BUCKET_SLOTS small slots (one client
 * each), with twice as many slots as the clients it is sized for, so
 * that a bucket rarely has more clients than slots. A new client takes
 * the least recently seen slot of its bucket whose client would be
 * answered now, or, if every client there is held back by the limit,
 * the least recently seen of them. So a flood of spoofed sources can
 * evict entries but never lock a real client out (an evicted client
 * starts again with a clean record, as in chrony's clientlog), and it
 * cannot wipe out a limited client's record either: one-shot sources
 * are never held back, so they evict each other first.
 *
 * A slot also keeps 32 bits for its owner (dpn_rl_slot.user), which
 * the data plane uses to remember the client's restrict verdict, so
 * that a known client costs one cache line and no restrict lookup.
 *
 * The limiter is ntpd's leaky bucket (ntp_monitor.c): each request adds
 * the headway 2^average seconds to a per-client score that leaks at one
 * second per second; a request closer than `minimum` seconds to the
 * previous one, or one that would push the score past 8 headways,
 * is limited and starts a penalty (the score jumps past the limit).
 * Only the first limited request of a penalty may be answered with a
 * KoD RATE, so KoDs are themselves rate limited.
 *
 * Time is passed in: units of DPN_RL_UNIT_NS (2^26 ns, about 1/15 s),
 * e.g. (uint32_t)(unix_ns >> 26), so workers derive it once per burst.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPN_RL_UNIT_SHIFT 26
#define DPN_RL_UNIT_NS (1ULL << DPN_RL_UNIT_SHIFT)
#define DPN_RL_BUCKET_SLOTS 2
/** Slots per client the table is sized for (see dpn_rl_memsize()). */
#define DPN_RL_SLOTS_PER_CLIENT 2
/** Where a client's count of limited requests stops. */
#define DPN_RL_LIMITED_MAX 4095
#define DPN_RL_KEY_LEN 16

/** ntpd's `discard` settings. */
struct dpn_rl_params {
	int average_log2;	/**< log2 s, ntpd default 3 (8 s); 0..10 */
	unsigned int minimum_s;	/**< seconds, ntpd default 2; 0..60 */
	unsigned int monitor;	/**< accepted for ntpd compatibility */
};

/** One client (32 bytes). Keys are IPv6 or IPv4-mapped (::ffff:a.b.c.d). */
struct dpn_rl_slot {
	uint8_t key[DPN_RL_KEY_LEN];
	uint32_t last;		/**< time of the last request, in units */
	uint32_t hits;		/**< requests seen (saturating) */
	/** leaky-bucket score, in units: at most 9 headways of 2^10 s */
	uint32_t score : 18;
	uint32_t limited : 12;	/**< requests limited (saturating) */
	uint32_t in_penalty : 1; /**< a KoD was already allowed this penalty */
	uint32_t used : 1;
	/** The owner's, kept with the client; 0 in a new client's slot. */
	uint32_t user;
};

struct dpn_rl_bucket {
	struct dpn_rl_slot slot[DPN_RL_BUCKET_SLOTS];
} __attribute__((aligned(64)));

struct dpn_rl_table {
	struct dpn_rl_bucket *buckets;
	uint32_t bucket_mask;
	int32_t head;		/**< 2^average s, in units */
	int32_t limit;		/**< 8 headways */
	int32_t minimum;	/**< minimum spacing, in units */
	uint64_t seed;		/**< hash secret; 0 after init, set by owner */
	struct dpn_rl_params params;
};

enum dpn_rl_result {
	DPN_RL_PASS,		/**< answer normally */
	DPN_RL_LIMITED,		/**< drop */
	DPN_RL_LIMITED_KOD,	/**< first of a penalty: KoD RATE if `kod` */
};

/** Parameter defaults (ntpd's): average 3, minimum 2, monitor 3000. */
void dpn_rl_params_default(struct dpn_rl_params *p);

/**
 * Bytes of bucket memory for @p nb_clients clients: at least
 * DPN_RL_SLOTS_PER_CLIENT slots each, in a power of two of buckets.
 */
size_t dpn_rl_memsize(unsigned int nb_clients);

/**
 * Set up @p t over @p mem (dpn_rl_memsize(nb_clients) bytes, 64-byte
 * aligned, zeroed by the caller). @return 0 or -EINVAL.
 */
int dpn_rl_init(struct dpn_rl_table *t, void *mem, unsigned int nb_clients,
		const struct dpn_rl_params *p);

/**
 * Change the parameters of a live table (management side; workers see
 * the change within a burst). Clients keep their scores.
 * @return 0, or -EINVAL (out of range) leaving the table unchanged.
 */
int dpn_rl_set_params(struct dpn_rl_table *t, const struct dpn_rl_params *p);

/**
 * Key for an IPv4 address (network order): ::ffff:a.b.c.d. Written as
 * two 8-byte words, the size dpn_rl_hash() reads them in, so that the
 * reads are served from the stores instead of waiting for them.
 */
static inline void
dpn_rl_key_v4(uint8_t key[DPN_RL_KEY_LEN], uint32_t addr)
{
	uint64_t lo = 0, hi = 0;
	const uint16_t mapped = 0xffff;

	__builtin_memcpy((uint8_t *)&hi + 2, &mapped, 2);
	__builtin_memcpy((uint8_t *)&hi + 4, &addr, 4);
	__builtin_memcpy(key, &lo, 8);
	__builtin_memcpy(key + 8, &hi, 8);
}

/*
 * The bucket is the low bits of the result, and a multiply only carries
 * upwards: without the xor-shifts, an IPv4 key (address in the top 32
 * bits of the second word) would be bucketed by its first few bits only,
 * putting a whole /18 into one bucket.
 */
/*
 * Bucket hash. @p seed is the table's secret (dpn_rl_table.seed, random
 * per table in the daemon), so that nobody outside can compute which
 * spoofed sources share a bucket with a given client and evict its
 * record on purpose. Not a cryptographic MAC: it only has to make
 * collisions unpredictable at line rate.
 */
static inline uint32_t
dpn_rl_hash(const uint8_t key[DPN_RL_KEY_LEN], uint64_t seed)
{
	uint64_t a, b;

	__builtin_memcpy(&a, key, 8);
	__builtin_memcpy(&b, key + 8, 8);
	a ^= seed;
	b ^= seed >> 17 | seed << 47;
	a ^= b * 0x9e3779b97f4a7c15ULL;
	a ^= a >> 32;
	a *= 0xbf58476d1ce4e5b9ULL;
	a ^= a >> 29;
	a *= 0x94d049bb133111ebULL ^ seed;
	a ^= a >> 31;
	return (uint32_t)(a >> 32);
}

static inline struct dpn_rl_bucket *
dpn_rl_bucket_of(const struct dpn_rl_table *t, uint32_t hash)
{
	return &t->buckets[hash & t->bucket_mask];
}

static inline int
dpn_rl_key_eq(const uint8_t a[DPN_RL_KEY_LEN], const uint8_t b[DPN_RL_KEY_LEN])
{
	uint64_t a0, a1, b0, b1;

	__builtin_memcpy(&a0, a, 8);
	__builtin_memcpy(&a1, a + 8, 8);
	__builtin_memcpy(&b0, b, 8);
	__builtin_memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/**
 * The slot of @p key, or NULL if the client is not in the table. Reads
 * only; @p hash is dpn_rl_hash(key, t->seed).
 */
static inline struct dpn_rl_slot *
dpn_rl_find(const struct dpn_rl_table *t, const uint8_t key[DPN_RL_KEY_LEN],
	    uint32_t hash)
{
	struct dpn_rl_bucket *b = dpn_rl_bucket_of(t, hash);
	struct dpn_rl_slot *found = NULL;
	unsigned int i;

	/* Without branches: which slot holds a client is a coin toss that
	 * a branch predictor would lose half the time. */
	for (i = 0; i < DPN_RL_BUCKET_SLOTS; i++) {
		int hit = b->slot[i].used & dpn_rl_key_eq(b->slot[i].key, key);

		found = hit ? &b->slot[i] : found;
	}
	return found;
}

/**
 * Account one request from @p key at time @p now (units) and say
 * whether it is within the limits. @p hash is dpn_rl_hash(key, t->seed),
 * computed earlier so the bucket could be prefetched across the burst.
 *
 * @p slot holds what dpn_rl_find() said earlier, which may since have
 * gone stale (given to another client of the same burst) or be NULL; on
 * return it is the client's slot, new or not.
 */
enum dpn_rl_result dpn_rl_account(struct dpn_rl_table *t,
				  struct dpn_rl_slot **slot,
				  const uint8_t key[DPN_RL_KEY_LEN],
				  uint32_t hash, uint32_t now);

/** dpn_rl_account() without a lookup done beforehand. */
static inline enum dpn_rl_result
dpn_rl_check(struct dpn_rl_table *t, const uint8_t key[DPN_RL_KEY_LEN],
	     uint32_t hash, uint32_t now)
{
	struct dpn_rl_slot *s = dpn_rl_find(t, key, hash);

	return dpn_rl_account(t, &s, key, hash, now);
}

/** A client as `show clients` shows it. */
struct dpn_rl_client {
	uint8_t key[DPN_RL_KEY_LEN];
	uint32_t hits;
	uint32_t limited;
	uint32_t last;		/**< units */
	int32_t score;		/**< units, leaked up to @p now of the query */
	bool in_penalty;	/**< KoD'd, and a request now would still be
				 * limited by the score */
};

/**
 * The @p n clients of @p t with the most requests, most first, merged
 * into @p out (which holds @p *nb_out entries already, sorted, at most
 * n): call once per worker table to get the busiest overall.
 */
void dpn_rl_top(const struct dpn_rl_table *t, uint32_t now,
		struct dpn_rl_client *out, unsigned int *nb_out,
		unsigned int n);

/** Count of slots in use. */
unsigned int dpn_rl_count(const struct dpn_rl_table *t);

#endif /* DPN_RATELIMIT_H */
