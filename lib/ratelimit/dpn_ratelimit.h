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
 * 64-byte buckets of DPN_RL_BUCKET_SLOTS 16-byte slots (one client
 * each), with the client's address and its count of limited requests
 * kept apart (struct dpn_rl_cold) so that a request touches one cache
 * line; memory is 36 bytes per slot. A new
 * client takes the least recently seen slot of its bucket, so a flood of
 * spoofed sources can evict entries but never lock a real client out:
 * an evicted client simply starts again with a clean record
 * (chrony's clientlog makes the same trade).
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
#define DPN_RL_BUCKET_SLOTS 4
#define DPN_RL_KEY_LEN 16

/** ntpd's `discard` settings. */
struct dpn_rl_params {
	int average_log2;	/**< log2 s, ntpd default 3 (8 s); 0..10 */
	unsigned int minimum_s;	/**< seconds, ntpd default 2; 0..60 */
	unsigned int monitor;	/**< accepted for ntpd compatibility */
};

/**
 * The part of a client's record that every request reads and writes:
 * 16 bytes, four to a cache line, so a request touches one line. The
 * client is recognised by a tag, 31 bits of its keyed hash that the
 * bucket index does not use; two clients of one bucket share a tag with
 * a chance of 4 in 2^31 per new client, and then share a record.
 */
struct dpn_rl_slot {
	uint32_t tag;		/**< never 0 in use; 0 = free */
	uint32_t last;		/**< time of the last request, in units */
	uint32_t score;		/**< leaky-bucket score in units, and
				 * DPN_RL_IN_PENALTY */
	uint32_t hits;		/**< requests seen (wraps) */
};

/** A KoD was already allowed in this penalty (top bit of score). */
#define DPN_RL_IN_PENALTY 0x80000000u

struct dpn_rl_bucket {
	struct dpn_rl_slot slot[DPN_RL_BUCKET_SLOTS];
} __attribute__((aligned(64)));

/** What only `show clients` reads: written when a client takes a slot
 * and when it is limited, not on every request. */
struct dpn_rl_cold {
	uint8_t key[DPN_RL_KEY_LEN];
	uint32_t limited;	/**< requests limited (saturating) */
};

struct dpn_rl_table {
	struct dpn_rl_bucket *buckets;
	struct dpn_rl_cold *cold;	/**< [bucket * SLOTS + slot] */
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

/** Bytes of bucket memory for at least @p nb_clients slots. */
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

/** Key for an IPv4 address (network order) or an IPv6 address. */
static inline void
dpn_rl_key_v4(uint8_t key[DPN_RL_KEY_LEN], uint32_t addr)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };

	__builtin_memcpy(key, mapped, 12);
	__builtin_memcpy(key + 12, &addr, 4);
}

/*
 * The bucket is the low bits of the result, and a multiply only carries
 * upwards: without the xor-shifts, an IPv4 key (address in the top 32
 * bits of the second word) would be bucketed by its first few bits only,
 * putting a whole /18 into one 4-slot bucket.
 */
/*
 * Bucket hash. @p seed is the table's secret (dpn_rl_table.seed, random
 * per table in the daemon), so that nobody outside can compute which
 * spoofed sources share a bucket with a given client and evict its
 * record on purpose. Not a cryptographic MAC: it only has to make
 * collisions unpredictable at line rate.
 */
static inline uint64_t
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
	return a;
}

/* The bucket comes from the low half of the hash, the tag from the high. */
static inline struct dpn_rl_bucket *
dpn_rl_bucket_of(const struct dpn_rl_table *t, uint64_t hash)
{
	return &t->buckets[(uint32_t)hash & t->bucket_mask];
}

static inline uint32_t
dpn_rl_tag(uint64_t hash)
{
	return (uint32_t)(hash >> 32) | 1;
}

/* Time since @p last, safe across the 2^32-unit (~9 years) wrap. */
static inline int32_t
dpn_rl_elapsed(uint32_t now, uint32_t last)
{
	uint32_t d = now - last;

	return d > INT32_MAX ? INT32_MAX : (int32_t)d;
}

/**
 * Account one request from @p key at time @p now (units) and say
 * whether it is within the limits. @p hash is dpn_rl_hash(key, t->seed),
 * computed earlier so the bucket could be prefetched across the burst.
 * Inline: the workers call it for every `limited` request.
 */
static inline enum dpn_rl_result
dpn_rl_check(struct dpn_rl_table *t, const uint8_t key[DPN_RL_KEY_LEN],
	     uint64_t hash, uint32_t now)
{
	struct dpn_rl_bucket *b = dpn_rl_bucket_of(t, hash);
	uint32_t tag = dpn_rl_tag(hash);
	int32_t head = __atomic_load_n(&t->head, __ATOMIC_RELAXED);
	int32_t limit = __atomic_load_n(&t->limit, __ATOMIC_RELAXED);
	int32_t minimum = __atomic_load_n(&t->minimum, __ATOMIC_RELAXED);
	struct dpn_rl_slot *s;
	struct dpn_rl_cold *c;
	uint32_t age, oldest = 0;
	int32_t interval, score, leak;
	unsigned int i, victim = 0;

	for (i = 0; i < DPN_RL_BUCKET_SLOTS; i++)
		if (b->slot[i].tag == tag)
			goto known;
	/* A free slot, else the least recently seen client makes room. */
	for (i = 0; i < DPN_RL_BUCKET_SLOTS; i++) {
		if (b->slot[i].tag == 0) {
			victim = i;
			break;
		}
		age = now - b->slot[i].last;
		if (age >= oldest) {
			oldest = age;
			victim = i;
		}
	}
	/*
	 * New (or evicted) client: a clean record. Under a flood of spoofed
	 * sources this is how a real client comes back; it is never refused.
	 */
	s = &b->slot[victim];
	s->tag = tag;
	s->last = now;
	s->score = (uint32_t)head;
	s->hits = 1;
	c = &t->cold[(size_t)(b - t->buckets) * DPN_RL_BUCKET_SLOTS + victim];
	__builtin_memcpy(c->key, key, DPN_RL_KEY_LEN);
	c->limited = 0;
	return DPN_RL_PASS;

known:
	s = &b->slot[i];
	/* A clock stepped back gives a "huge" interval: the client passes
	 * once rather than everyone being limited until time catches up.
	 */
	interval = dpn_rl_elapsed(now, s->last);
	s->last = now;
	s->hits++;
	/* score >= 0 and interval >= 0, so this cannot overflow. */
	score = (int32_t)(s->score & ~DPN_RL_IN_PENALTY) - interval;
	if (score < 0)
		score = 0;
	leak = score + head;
	if (interval >= minimum && leak < limit) {
		s->score = (uint32_t)leak;
		return DPN_RL_PASS;
	}
	c = &t->cold[(size_t)(b - t->buckets) * DPN_RL_BUCKET_SLOTS + i];
	if (c->limited != UINT32_MAX)
		c->limited++;
	if (score < limit) {
		/*
		 * Start (or restart) a penalty: the score jumps past the
		 * limit so the client must back off a full headway before
		 * it is answered again. Only the first one gets a KoD, or
		 * a flooding client would turn us into a KoD reflector.
		 */
		if (!(s->score & DPN_RL_IN_PENALTY)) {
			s->score = (uint32_t)(limit + head) |
				DPN_RL_IN_PENALTY;
			return DPN_RL_LIMITED_KOD;
		}
		s->score = (uint32_t)(limit + head) | DPN_RL_IN_PENALTY;
		return DPN_RL_LIMITED;
	}
	s->score = (uint32_t)score | (s->score & DPN_RL_IN_PENALTY);
	return DPN_RL_LIMITED;
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
