/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-client rate limiting: ntpd's `discard average A minimum M` leaky
 * bucket (ntp_monitor.c) over a fixed table of 2-slot buckets.
 *
 * dpn_rl_account() runs per packet on a worker lcore: no division, no
 * allocation, no system call, one 64-byte bucket touched. Everything
 * that needs arithmetic beyond add/compare is done in set_params.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dpn_ratelimit.h"

#define likely(x) __builtin_expect(!!(x), 1)

#define DPN_RL_LIMIT_HEADWAYS 8	/* ntpd's NTP_SHIFT */
#define DPN_RL_AVERAGE_MAX 10
#define DPN_RL_MINIMUM_MAX 60
#define NS_PER_S 1000000000ULL

/* The largest score (a penalty at the longest average) fits its field. */
_Static_assert((((1ULL << DPN_RL_AVERAGE_MAX) * NS_PER_S) >> DPN_RL_UNIT_SHIFT)
	       * (DPN_RL_LIMIT_HEADWAYS + 1) < (1ULL << 18),
	       "dpn_rl_slot.score is too narrow");

void
dpn_rl_params_default(struct dpn_rl_params *p)
{
	p->average_log2 = 3;
	p->minimum_s = 2;
	p->monitor = 3000;
}

static int
params_valid(const struct dpn_rl_params *p)
{
	return p->average_log2 >= 0 && p->average_log2 <= DPN_RL_AVERAGE_MAX &&
	       p->minimum_s <= DPN_RL_MINIMUM_MAX;
}

static uint32_t
nb_buckets_for(unsigned int nb_clients)
{
	uint64_t need = ((uint64_t)nb_clients * DPN_RL_SLOTS_PER_CLIENT +
			DPN_RL_BUCKET_SLOTS - 1) /
			DPN_RL_BUCKET_SLOTS;
	uint64_t n = 1;

	/* A power of two so the bucket index is a mask, not a modulo. */
	while (n < need)
		n <<= 1;
	return (uint32_t)n;
}

size_t
dpn_rl_memsize(unsigned int nb_clients)
{
	return (size_t)nb_buckets_for(nb_clients) *
	       sizeof(struct dpn_rl_bucket);
}

/* Units are 2^26 ns: convert once here so the fast path only compares. */
static void
apply_params(struct dpn_rl_table *t, const struct dpn_rl_params *p)
{
	uint64_t head_ns = (1ULL << p->average_log2) * NS_PER_S;
	int32_t head = (int32_t)((head_ns + DPN_RL_UNIT_NS / 2) >>
				 DPN_RL_UNIT_SHIFT);
	/*
	 * Round the minimum down: `now` is truncated to whole units, so a
	 * client spaced exactly `minimum` seconds apart measures either
	 * floor or ceil of it; rounding to nearest (2 s -> 30 units, while
	 * 2 s is 29.8) would limit such a well-behaved client now and then.
	 */
	int32_t minimum = (int32_t)(((uint64_t)p->minimum_s * NS_PER_S) >>
				    DPN_RL_UNIT_SHIFT);

	/* Each field is read on its own by workers; a burst seeing a mix
	 * of old and new values for one packet is harmless.
	 */
	__atomic_store_n(&t->head, head, __ATOMIC_RELAXED);
	__atomic_store_n(&t->limit, DPN_RL_LIMIT_HEADWAYS * head,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&t->minimum, minimum, __ATOMIC_RELAXED);
	t->params = *p;
}

int
dpn_rl_init(struct dpn_rl_table *t, void *mem, unsigned int nb_clients,
	    const struct dpn_rl_params *p)
{
	struct dpn_rl_params def;

	if (t == NULL || mem == NULL ||
	    ((uintptr_t)mem & (sizeof(struct dpn_rl_bucket) - 1)) != 0)
		return -EINVAL;
	if (p == NULL) {
		dpn_rl_params_default(&def);
		p = &def;
	}
	if (!params_valid(p))
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->buckets = mem;
	t->bucket_mask = nb_buckets_for(nb_clients) - 1;
	apply_params(t, p);
	return 0;
}

int
dpn_rl_set_params(struct dpn_rl_table *t, const struct dpn_rl_params *p)
{
	if (t == NULL || p == NULL || !params_valid(p))
		return -EINVAL;
	apply_params(t, p);
	return 0;
}

/* Time since @p last, safe across the 2^32-unit (~9 years) wrap. */
static inline int32_t
elapsed(uint32_t now, uint32_t last)
{
	uint32_t d = now - last;

	return d > INT32_MAX ? INT32_MAX : (int32_t)d;
}

/*
 * Would the client of @p s be refused if it asked now (its score, leaked
 * since its last request, plus one request reaches the limit)? Such a
 * record is worth more than any other: evicting it would let a limited
 * client through at once, which is what a flood of spoofed one-shot
 * sources would otherwise buy.
 */
static inline bool
held_back(const struct dpn_rl_slot *s, uint32_t now, int32_t head,
	  int32_t limit)
{
	return (int64_t)s->score - elapsed(now, s->last) + head >= limit;
}

enum dpn_rl_result
dpn_rl_account(struct dpn_rl_table *t, struct dpn_rl_slot **slot,
	       const uint8_t key[DPN_RL_KEY_LEN], uint32_t hash, uint32_t now)
{
	struct dpn_rl_bucket *b;
	int32_t head = __atomic_load_n(&t->head, __ATOMIC_RELAXED);
	int32_t limit = __atomic_load_n(&t->limit, __ATOMIC_RELAXED);
	int32_t minimum = __atomic_load_n(&t->minimum, __ATOMIC_RELAXED);
	struct dpn_rl_slot *s = *slot, *victim = NULL;
	uint32_t oldest = 0;
	bool victim_held = false;
	int32_t interval, score;
	unsigned int i;

	if (likely(s != NULL && s->used && dpn_rl_key_eq(s->key, key)))
		goto known;
	b = dpn_rl_bucket_of(t, hash);
	for (i = 0; i < DPN_RL_BUCKET_SLOTS; i++) {
		s = &b->slot[i];
		if (!s->used) {
			/* Free slots beat any used one as the victim. */
			if (victim == NULL || victim->used)
				victim = s;
			continue;
		}
		if (dpn_rl_key_eq(s->key, key))
			goto known;
		/* The victim: a client that would be answered now before
		 * one held back by the limit, then the least recently seen. */
		if (victim == NULL || victim->used) {
			bool held = held_back(s, now, head, limit);

			if (victim == NULL || victim_held > held ||
			    (victim_held == held && now - s->last > oldest)) {
				victim = s;
				victim_held = held;
				oldest = now - s->last;
			}
		}
	}

	/*
	 * New (or evicted) client: a clean record. Under a flood of spoofed
	 * sources this is how a real client comes back; it is never refused.
	 * A limited client keeps its record unless its whole bucket is
	 * limited clients.
	 */
	s = victim;
	*slot = s;
	memcpy(s->key, key, DPN_RL_KEY_LEN);
	s->last = now;
	s->score = (uint32_t)head;
	s->hits = 1;
	s->limited = 0;
	s->in_penalty = 0;
	s->used = 1;
	s->user = 0;
	return DPN_RL_PASS;

known:
	*slot = s;
	/* A clock stepped back gives a "huge" interval: the client passes
	 * once rather than everyone being limited until time catches up.
	 */
	interval = elapsed(now, s->last);
	s->last = now;
	s->hits += s->hits != UINT32_MAX;
	/* score >= 0 and interval >= 0, so this cannot overflow. */
	score = (int32_t)s->score - interval;
	if (score < 0)
		score = 0;
	if (interval >= minimum && score + head < limit) {
		s->score = (uint32_t)(score + head);
		s->in_penalty = 0;
		return DPN_RL_PASS;
	}
	s->limited += s->limited != DPN_RL_LIMITED_MAX;
	if (score < limit) {
		/*
		 * Start (or restart) a penalty: the score jumps past the
		 * limit so the client must back off a full headway before
		 * it is answered again. Only the first one gets a KoD, or
		 * a flooding client would turn us into a KoD reflector.
		 */
		s->score = (uint32_t)(limit + head);
		if (!s->in_penalty) {
			s->in_penalty = 1;
			return DPN_RL_LIMITED_KOD;
		}
		return DPN_RL_LIMITED;
	}
	s->score = (uint32_t)score;
	return DPN_RL_LIMITED;
}

/* Ties keep earlier entries first, so merging tables is stable. */
static void
top_insert(struct dpn_rl_client *out, unsigned int *nb_out, unsigned int n,
	   const struct dpn_rl_client *c)
{
	unsigned int lo = 0, hi = *nb_out, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (out[mid].hits >= c->hits)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= n)
		return;
	if (*nb_out < n)
		(*nb_out)++;
	memmove(&out[lo + 1], &out[lo],
		(size_t)(*nb_out - 1 - lo) * sizeof(*out));
	out[lo] = *c;
}

void
dpn_rl_top(const struct dpn_rl_table *t, uint32_t now,
	   struct dpn_rl_client *out, unsigned int *nb_out, unsigned int n)
{
	int32_t head = __atomic_load_n(&t->head, __ATOMIC_RELAXED);
	int32_t limit = __atomic_load_n(&t->limit, __ATOMIC_RELAXED);
	const struct dpn_rl_slot *s;
	struct dpn_rl_client c;
	uint32_t bi;
	unsigned int i;
	int32_t score;

	if (*nb_out > n)
		*nb_out = n;
	for (bi = 0; bi <= t->bucket_mask; bi++) {
		for (i = 0; i < DPN_RL_BUCKET_SLOTS; i++) {
			s = &t->buckets[bi].slot[i];
			if (!s->used)
				continue;
			/* Cheap reject once the list is full. */
			if (*nb_out == n &&
			    (n == 0 || s->hits <= out[n - 1].hits))
				continue;
			score = (int32_t)s->score - elapsed(now, s->last);
			if (score < 0)
				score = 0;
			memcpy(c.key, s->key, DPN_RL_KEY_LEN);
			c.hits = s->hits;
			c.limited = s->limited;
			c.last = s->last;
			c.score = score;
			/* The flag alone stays set until a request passes,
			 * however long the client has been quiet; show
			 * whether its next request would still be limited.
			 */
			c.in_penalty = s->in_penalty && score + head >= limit;
			top_insert(out, nb_out, n, &c);
		}
	}
}

unsigned int
dpn_rl_count(const struct dpn_rl_table *t)
{
	unsigned int count = 0;
	uint32_t bi;
	unsigned int i;

	for (bi = 0; bi <= t->bucket_mask; bi++)
		for (i = 0; i < DPN_RL_BUCKET_SLOTS; i++)
			count += t->buckets[bi].slot[i].used;
	return count;
}
