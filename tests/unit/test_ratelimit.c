/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/ratelimit: what a client of `restrict ... limited`
 * sees (answered, dropped, or one KoD RATE per penalty) for ntpd's
 * `discard` settings, that spoofed floods cannot grow the table or lock
 * a real client out, and what `show clients` reports.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "dpn_ratelimit.h"

#define NS_PER_S 1000000000ULL

struct rl {
	struct dpn_rl_table t;
	void *mem;
	size_t size;
};

/* Time as workers derive it: truncated unix ns >> 26. */
static uint32_t
units(uint64_t ns)
{
	return (uint32_t)(ns >> DPN_RL_UNIT_SHIFT);
}

static void
rl_open(struct rl *r, unsigned int nb_clients, const struct dpn_rl_params *p)
{
	r->size = dpn_rl_memsize(nb_clients);
	r->mem = aligned_alloc(128, r->size);
	assert_non_null(r->mem);
	memset(r->mem, 0, r->size);
	assert_int_equal(dpn_rl_init(&r->t, r->mem, nb_clients, p), 0);
}

static void
rl_close(struct rl *r)
{
	free(r->mem);
}

static void
key_of(uint8_t key[DPN_RL_KEY_LEN], uint32_t host_order_v4)
{
	dpn_rl_key_v4(key, htonl(host_order_v4));
}

static enum dpn_rl_result
check(struct rl *r, const uint8_t key[DPN_RL_KEY_LEN], uint64_t ns)
{
	return dpn_rl_check(&r->t, key, dpn_rl_hash(key, 0), units(ns));
}

static struct dpn_rl_params
params(int average, unsigned int minimum)
{
	struct dpn_rl_params p;

	dpn_rl_params_default(&p);
	p.average_log2 = average;
	p.minimum_s = minimum;
	return p;
}

static void
test_defaults_are_ntpds(void **state)
{
	struct dpn_rl_params p;

	dpn_rl_params_default(&p);
	assert_int_equal(p.average_log2, 3);
	assert_int_equal(p.minimum_s, 2);
	assert_int_equal(p.monitor, 3000);
}

/* A client at ntpd's minpoll 16 s is far below 1 per 8 s: never limited. */
static void
test_polite_client_never_limited(void **state)
{
	struct rl r;
	uint8_t k[DPN_RL_KEY_LEN];
	uint64_t ns = 1700000000ULL * NS_PER_S + 123456789;
	int i;

	rl_open(&r, 1024, NULL);
	key_of(k, 0xc0000201);
	for (i = 0; i < 1000; i++, ns += 16 * NS_PER_S)
		assert_int_equal(check(&r, k, ns), DPN_RL_PASS);
	rl_close(&r);
}

/* Exactly at the minimum spacing is allowed despite unit truncation. */
static void
test_spacing_at_minimum_passes(void **state)
{
	struct dpn_rl_params p = params(3, 2);
	struct rl r;
	uint8_t k[DPN_RL_KEY_LEN];
	uint64_t ns = 1700000000ULL * NS_PER_S + 1;
	int i, passed = 0;

	rl_open(&r, 1024, &p);
	key_of(k, 0xc0000202);
	/* Every 2 s is 1 per 2 s against an average of 1 per 8 s: the
	 * score limits it eventually, but the minimum never does, so the
	 * first requests (until the score fills) all pass.
	 */
	for (i = 0; i < 40; i++, ns += 2 * NS_PER_S) {
		if (check(&r, k, ns) != DPN_RL_PASS)
			break;
		passed++;
	}
	/* +8 s per request, -2 s leaked: about 64 / 6 requests fit. */
	assert_in_range(passed, 9, 12);
	rl_close(&r);
}

/*
 * 1 request/s with no minimum: the first ~8 pass, then the client is
 * limited for as long as it keeps going, with exactly one KoD; after
 * backing off it is answered again, and a second burst gets one more KoD.
 */
static void
test_fast_client_penalty_one_kod(void **state)
{
	struct dpn_rl_params p = params(3, 0);
	struct rl r;
	uint8_t k[DPN_RL_KEY_LEN];
	uint64_t ns = 1700000000ULL * NS_PER_S + 5;
	int burst, i, pass, kod, lim;
	enum dpn_rl_result res;

	rl_open(&r, 1024, &p);
	key_of(k, 0xc0000203);
	for (burst = 0; burst < 3; burst++) {
		pass = kod = lim = 0;
		for (i = 0; i < 200; i++, ns += NS_PER_S) {
			res = check(&r, k, ns);
			if (res == DPN_RL_PASS) {
				/* Passes come first, none once limited. */
				assert_int_equal(kod + lim, 0);
				pass++;
			} else if (res == DPN_RL_LIMITED_KOD) {
				assert_int_equal(lim, 0);
				kod++;
			} else {
				assert_int_equal(res, DPN_RL_LIMITED);
				assert_int_equal(kod, 1);
				lim++;
			}
		}
		/* 8 headways of 8 s, +7 s net per request. */
		assert_in_range(pass, 8, 10);
		assert_int_equal(kod, 1);
		assert_int_equal(lim, 200 - pass - 1);
		/* Back off: 70 s of silence clears the penalty. */
		ns += 70 * NS_PER_S;
		assert_int_equal(check(&r, k, ns), DPN_RL_PASS);
		ns += 16 * NS_PER_S;
	}
	rl_close(&r);
}

/* A penalised client that slows to a polite rate is answered again
 * without ever getting a second KoD for the same penalty.
 */
static void
test_penalty_ends_when_client_slows(void **state)
{
	struct dpn_rl_params p = params(3, 0);
	struct rl r;
	uint8_t k[DPN_RL_KEY_LEN];
	uint64_t ns = 1700000000ULL * NS_PER_S;
	enum dpn_rl_result res;
	int i, kod = 0, limited_after = 0;

	rl_open(&r, 64, &p);
	key_of(k, 0xc0000204);
	for (i = 0; i < 20; i++, ns += NS_PER_S)
		kod += check(&r, k, ns) == DPN_RL_LIMITED_KOD;
	assert_int_equal(kod, 1);
	/* Now every 16 s: a few limited while the score leaks, then PASS
	 * for good, never another KoD.
	 */
	for (i = 0; i < 50; i++, ns += 16 * NS_PER_S) {
		res = check(&r, k, ns);
		assert_int_not_equal(res, DPN_RL_LIMITED_KOD);
		if (res == DPN_RL_LIMITED) {
			/* Only while the penalty leaks away, not after. */
			assert_int_equal(limited_after, i);
			limited_after++;
		}
	}
	assert_in_range(limited_after, 0, 3);
	assert_int_equal(res, DPN_RL_PASS);
	rl_close(&r);
}

static void
test_minimum_spacing(void **state)
{
	struct dpn_rl_params p = params(3, 2);
	struct rl r;
	uint8_t k[DPN_RL_KEY_LEN];
	uint64_t ns = 1700000000ULL * NS_PER_S;

	rl_open(&r, 64, &p);
	key_of(k, 0xc0000205);
	assert_int_equal(check(&r, k, ns), DPN_RL_PASS);
	/* 1 s later is under `minimum 2`: limited, first of a penalty. */
	assert_int_equal(check(&r, k, ns + NS_PER_S), DPN_RL_LIMITED_KOD);
	rl_close(&r);

	/* `minimum 0` disables the spacing check. */
	p = params(3, 0);
	rl_open(&r, 64, &p);
	assert_int_equal(check(&r, k, ns), DPN_RL_PASS);
	assert_int_equal(check(&r, k, ns + NS_PER_S), DPN_RL_PASS);
	assert_int_equal(check(&r, k, ns + NS_PER_S + 1), DPN_RL_PASS);
	rl_close(&r);
}

/* A live parameter change takes effect on the next request. */
static void
test_set_params_live(void **state)
{
	struct dpn_rl_params p = params(3, 2), bad;
	struct rl r;
	uint8_t k[DPN_RL_KEY_LEN];
	uint64_t ns = 1700000000ULL * NS_PER_S;

	rl_open(&r, 64, &p);
	key_of(k, 0xc0000206);
	assert_int_equal(check(&r, k, ns), DPN_RL_PASS);
	p = params(3, 0);
	assert_int_equal(dpn_rl_set_params(&r.t, &p), 0);
	assert_int_equal(r.t.params.minimum_s, 0);
	assert_int_equal(check(&r, k, ns + NS_PER_S), DPN_RL_PASS);

	/* An invalid change is refused and leaves the table as it was. */
	bad = params(3, 61);
	assert_int_equal(dpn_rl_set_params(&r.t, &bad), -EINVAL);
	assert_int_equal(r.t.params.minimum_s, 0);
	assert_int_equal(check(&r, k, ns + 2 * NS_PER_S), DPN_RL_PASS);
	rl_close(&r);
}

static void
test_clients_independent(void **state)
{
	struct dpn_rl_params p = params(3, 0);
	struct rl r;
	uint8_t bad[DPN_RL_KEY_LEN], good[DPN_RL_KEY_LEN];
	uint64_t ns = 1700000000ULL * NS_PER_S;
	int i;

	rl_open(&r, 1024, &p);
	key_of(bad, 0x0a000001);
	key_of(good, 0x0a000002);
	for (i = 0; i < 100; i++, ns += NS_PER_S / 4) {
		check(&r, bad, ns);
		if (i % 64 == 0)
			assert_int_equal(check(&r, good, ns), DPN_RL_PASS);
	}
	assert_int_equal(check(&r, bad, ns), DPN_RL_LIMITED);
	assert_int_equal(check(&r, good, ns), DPN_RL_PASS);
	rl_close(&r);
}

static void
test_key_v4_mapping(void **state)
{
	static const uint8_t want[DPN_RL_KEY_LEN] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 };
	uint8_t k[DPN_RL_KEY_LEN], v6[DPN_RL_KEY_LEN];
	struct in6_addr a6;

	dpn_rl_key_v4(k, htonl(0xc0000201));
	assert_memory_equal(k, want, DPN_RL_KEY_LEN);
	/* The same address arriving over IPv6 as ::ffff:192.0.2.1 is the
	 * same client.
	 */
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.1", &a6), 1);
	memcpy(v6, &a6, DPN_RL_KEY_LEN);
	assert_memory_equal(k, v6, DPN_RL_KEY_LEN);
	assert_int_equal(dpn_rl_hash(k, 0), dpn_rl_hash(v6, 0));
}

/*
 * Neighbouring clients (one /22 of IPv4, or hosts of one IPv6 /64) must
 * spread over the buckets; otherwise they evict each other and a busy
 * subnet is never rate limited at all.
 */
/*
 * Addresses an attacker found to share one bucket under one secret do
 * not share one under another: the seed is what keeps a flood from
 * aiming at a chosen client's bucket.
 */
static void
test_seed_changes_buckets(void **state)
{
	uint8_t keys[16][DPN_RL_KEY_LEN];
	const uint32_t mask = 4095;
	uint32_t want, i, found = 0, same = 0;

	(void)state;
	memset(keys, 0, sizeof(keys));
	dpn_rl_key_v4(keys[0], htonl(0xc6120001));
	want = dpn_rl_hash(keys[0], 1) & mask;
	for (i = 2; found < 15 && i < 50000000; i++) {
		uint8_t k[DPN_RL_KEY_LEN];

		dpn_rl_key_v4(k, htonl(0xc6120000 + i));
		if ((dpn_rl_hash(k, 1) & mask) == want)
			memcpy(keys[++found], k, sizeof(k));
	}
	assert_int_equal(found, 15);
	want = dpn_rl_hash(keys[0], 0x5eed5eed12345678ULL) & mask;
	for (i = 1; i < 16; i++)
		same += (dpn_rl_hash(keys[i], 0x5eed5eed12345678ULL) & mask) ==
			want;
	/* By chance, 15/4096 of one; allow a couple. */
	assert_true(same <= 2);
}

static void
test_neighbours_spread(void **state)
{
	struct rl r;
	uint8_t k[DPN_RL_KEY_LEN];
	uint32_t i;

	rl_open(&r, 4096, NULL);
	assert_int_equal(r.t.bucket_mask, 4095);
	for (i = 0; i < 1024; i++) {
		key_of(k, 0xc6336400 + i);	/* 198.51.100.0/22 */
		check(&r, k, NS_PER_S);
	}
	/* A 2-slot bucket overflows rarely with a quarter of a client per
	 * bucket on average: nearly all stay.
	 */
	assert_true(dpn_rl_count(&r.t) >= 1000);
	rl_close(&r);

	rl_open(&r, 4096, NULL);
	memset(k, 0, sizeof(k));
	k[0] = 0x20;
	k[1] = 0x01;
	k[2] = 0x0d;
	k[3] = 0xb8;
	for (i = 0; i < 1024; i++) {
		k[14] = (uint8_t)(i >> 8);
		k[15] = (uint8_t)i;
		check(&r, k, NS_PER_S);
	}
	assert_true(dpn_rl_count(&r.t) >= 1000);
	rl_close(&r);
}

/*
 * A million spoofed sources through a 4096-slot table: the memory given
 * is all that is used, a real client polling every 64 s among them is
 * always answered (it may be evicted and come back with a clean record),
 * and a client that floods on its own is limited before, throughout and
 * after (its record is never evicted).
 */
static void
test_spoof_flood(void **state)
{
	struct rl r;
	uint8_t k[DPN_RL_KEY_LEN], real[DPN_RL_KEY_LEN], loud[DPN_RL_KEY_LEN];
	uint8_t *guard;
	uint64_t ns = 1700000000ULL * NS_PER_S;
	uint64_t next_real = ns, next_loud = ns;
	unsigned int i, real_checks = 0, loud_checks = 0;
	size_t size = dpn_rl_memsize(4096);
	const size_t guard_len = 4096;

	/* Lay out by hand so writes past the table would show. */
	r.mem = aligned_alloc(128, size + guard_len);
	assert_non_null(r.mem);
	memset(r.mem, 0, size);
	guard = (uint8_t *)r.mem + size;
	memset(guard, 0xa5, guard_len);
	assert_int_equal(dpn_rl_init(&r.t, r.mem, 4096, NULL), 0);

	memset(real, 0, sizeof(real));
	real[0] = 0x20;
	real[1] = 0x01;
	real[2] = 0x0d;
	real[3] = 0xb8;
	real[15] = 1;
	memcpy(loud, real, sizeof(loud));
	loud[15] = 2;
	for (i = 0; i < 40; i++)
		check(&r, loud, ns);
	assert_int_equal(check(&r, loud, ns), DPN_RL_LIMITED);
	/* 1M packets over 20 minutes, about 830 pps of fresh sources; the
	 * loud client sends one every second among them. */
	for (i = 0; i < 1000000; i++, ns += 1200 * NS_PER_S / 1000000) {
		key_of(k, 0x64000000u + i);
		assert_int_equal(check(&r, k, ns), DPN_RL_PASS);
		if (ns >= next_real) {
			assert_int_equal(check(&r, real, ns), DPN_RL_PASS);
			next_real = ns + 64 * NS_PER_S;
			real_checks++;
		}
		if (ns >= next_loud) {
			assert_int_not_equal(check(&r, loud, ns), DPN_RL_PASS);
			next_loud = ns + NS_PER_S;
			loud_checks++;
		}
	}
	assert_true(real_checks >= 18);
	assert_true(loud_checks >= 1100);
	assert_int_equal(dpn_rl_count(&r.t), 4096 * DPN_RL_SLOTS_PER_CLIENT);
	for (i = 0; i < guard_len; i++)
		assert_int_equal(guard[i], 0xa5);
	free(r.mem);
}

/* Keys 10.0.x.y that land in the same bucket as @p first. */
static void
colliding_keys(const struct dpn_rl_table *t, uint8_t keys[][DPN_RL_KEY_LEN],
	       unsigned int n)
{
	uint32_t want, a;
	unsigned int found = 0;

	key_of(keys[0], 0x0a000000);
	want = dpn_rl_hash(keys[0], 0) & t->bucket_mask;
	for (a = 0x0a000001; found + 1 < n; a++) {
		key_of(keys[found + 1], a);
		if ((dpn_rl_hash(keys[found + 1], 0) & t->bucket_mask) == want)
			found++;
		assert_true(a < 0x0b000000);
	}
}

static int
listed(const struct dpn_rl_client *c, unsigned int nb,
       const uint8_t key[DPN_RL_KEY_LEN])
{
	unsigned int i;

	for (i = 0; i < nb; i++)
		if (memcmp(c[i].key, key, DPN_RL_KEY_LEN) == 0)
			return (int)i;
	return -1;
}

/* In a full bucket a new client replaces the least recently seen one. */
static void
test_lru_eviction(void **state)
{
	struct dpn_rl_params p = params(3, 0);
	struct rl r;
	const unsigned int ways = DPN_RL_BUCKET_SLOTS;
	uint8_t keys[ways + 2][DPN_RL_KEY_LEN];
	struct dpn_rl_client top[16];
	unsigned int nb = 0, i, next_oldest;
	uint32_t t0 = 1000;

	(void)state;
	rl_open(&r, 64, &p);
	colliding_keys(&r.t, keys, ways + 2);
	for (i = 0; i < ways; i++)
		assert_int_equal(dpn_rl_check(&r.t, keys[i],
				 dpn_rl_hash(keys[i], 0), t0 + i), DPN_RL_PASS);
	/* Key 0 was inserted first but is seen again: key 1 is now the
	 * least recently seen.
	 */
	dpn_rl_check(&r.t, keys[0], dpn_rl_hash(keys[0], 0), t0 + 10);
	dpn_rl_check(&r.t, keys[ways], dpn_rl_hash(keys[ways], 0), t0 + 11);
	dpn_rl_top(&r.t, t0 + 11, top, &nb, 16);
	assert_int_equal(nb, ways);
	assert_true(listed(top, nb, keys[0]) >= 0);
	assert_int_equal(listed(top, nb, keys[1]), -1);
	for (i = 2; i <= ways; i++)
		assert_true(listed(top, nb, keys[i]) >= 0);

	/* Next oldest: key 2, or key 0 (seen at t0 + 10) in 2-slot buckets. */
	next_oldest = ways > 2 ? 2 : 0;
	dpn_rl_check(&r.t, keys[ways + 1], dpn_rl_hash(keys[ways + 1], 0),
		     t0 + 12);
	nb = 0;
	dpn_rl_top(&r.t, t0 + 12, top, &nb, 16);
	assert_int_equal(listed(top, nb, keys[next_oldest]), -1);
	assert_true(listed(top, nb, keys[ways + 1]) >= 0);
	assert_int_equal(dpn_rl_count(&r.t), ways);
	rl_close(&r);
}

/*
 * The data plane looks clients up for a whole burst first and accounts
 * their requests afterwards: a slot found for one request may have gone
 * to another client of the same bucket in between, and the owner's word
 * (user) must stay with its client and only with it.
 */
static void
test_find_then_account(void **state)
{
	struct dpn_rl_params p = params(3, 0);
	struct rl r;
	const unsigned int ways = DPN_RL_BUCKET_SLOTS;
	uint8_t keys[ways + 1][DPN_RL_KEY_LEN];
	struct dpn_rl_slot *s, *found;
	uint32_t now = 1000;
	unsigned int i;

	(void)state;
	rl_open(&r, 64, &p);
	colliding_keys(&r.t, keys, ways + 1);
	assert_null(dpn_rl_find(&r.t, keys[0], dpn_rl_hash(keys[0], 0)));
	s = NULL;
	assert_int_equal(dpn_rl_account(&r.t, &s, keys[0],
					dpn_rl_hash(keys[0], 0), now++),
			 DPN_RL_PASS);
	assert_non_null(s);
	assert_int_equal(s->user, 0);
	s->user = 0x8000002a;
	/* Known: found, same slot, and the owner's word is kept. */
	found = dpn_rl_find(&r.t, keys[0], dpn_rl_hash(keys[0], 0));
	assert_ptr_equal(found, s);
	assert_int_equal(dpn_rl_account(&r.t, &found, keys[0],
					dpn_rl_hash(keys[0], 0), now + 20),
			 DPN_RL_PASS);
	assert_ptr_equal(found, s);
	assert_int_equal(s->user, 0x8000002a);
	assert_int_equal(s->hits, 2);

	/* Key 0 is found, then the bucket fills with newer clients and
	 * key 0's slot goes to the last of them: the stale pointer must
	 * not account key 0's request to that client.
	 */
	found = dpn_rl_find(&r.t, keys[0], dpn_rl_hash(keys[0], 0));
	for (i = 1; i <= ways; i++)
		dpn_rl_check(&r.t, keys[i], dpn_rl_hash(keys[i], 0), now + 40 + i);
	s = dpn_rl_find(&r.t, keys[ways], dpn_rl_hash(keys[ways], 0));
	assert_ptr_equal(s, found);
	assert_int_equal(s->user, 0);	/* a new client's slot starts clean */
	assert_int_equal(dpn_rl_account(&r.t, &found, keys[0],
					dpn_rl_hash(keys[0], 0), now + 60),
			 DPN_RL_PASS);
	assert_true(dpn_rl_key_eq(found->key, keys[0]));
	assert_int_equal(found->hits, 1);	/* evicted: a clean record */
	/* The client that took key 0's old slot keeps it, untouched. */
	assert_ptr_not_equal(found, s);
	assert_true(dpn_rl_key_eq(s->key, keys[ways]));
	assert_int_equal(s->hits, 1);
	rl_close(&r);
}

/*
 * A client held back by the limit keeps its record against any number
 * of one-shot sources in its bucket (they evict each other); only when
 * the whole bucket is held back does the least recently seen of them go,
 * and it comes back with a clean record.
 */
static void
test_limited_client_kept(void **state)
{
	struct dpn_rl_params p = params(3, 0);
	struct rl r;
	const unsigned int ways = DPN_RL_BUCKET_SLOTS;
	uint8_t keys[ways + 200][DPN_RL_KEY_LEN];
	uint32_t now = 5000;
	unsigned int i, k;

	rl_open(&r, 4, &p);
	colliding_keys(&r.t, keys, ways + 200);
	for (i = 0; i < 30; i++)
		dpn_rl_check(&r.t, keys[0], dpn_rl_hash(keys[0], 0), now++);
	assert_int_equal(dpn_rl_check(&r.t, keys[0], dpn_rl_hash(keys[0], 0),
				      now++), DPN_RL_LIMITED);
	/* 199 fresh sources through its bucket: still limited. */
	for (i = 1; i < ways + 199; i++)
		assert_int_equal(dpn_rl_check(&r.t, keys[i],
			dpn_rl_hash(keys[i], 0), now++), DPN_RL_PASS);
	assert_int_equal(dpn_rl_check(&r.t, keys[0], dpn_rl_hash(keys[0], 0),
				      now++), DPN_RL_LIMITED);

	/* Now every slot of the bucket held back: the oldest (key 0, seen
	 * before the others were limited) gives way to a new source, and
	 * passes again as a new client. */
	for (k = 1; k < ways; k++)
		for (i = 0; i < 31; i++)
			dpn_rl_check(&r.t, keys[ways + 199 - k],
				     dpn_rl_hash(keys[ways + 199 - k], 0),
				     now++);
	dpn_rl_check(&r.t, keys[ways + 199], dpn_rl_hash(keys[ways + 199], 0),
		     now++);
	assert_int_equal(dpn_rl_check(&r.t, keys[0], dpn_rl_hash(keys[0], 0),
				      now++), DPN_RL_PASS);
	rl_close(&r);
}

/* The unit counter wraps every ~9 years; limiting must not notice. */
static void
test_time_wrap(void **state)
{
	struct dpn_rl_params p = params(3, 2);
	struct rl r;
	uint8_t k[DPN_RL_KEY_LEN], k2[DPN_RL_KEY_LEN];
	const uint32_t sec = (uint32_t)(NS_PER_S >> DPN_RL_UNIT_SHIFT) + 1;
	uint32_t now = UINT32_MAX - 100 * sec;
	int i;

	rl_open(&r, 64, &p);
	key_of(k, 0xc0000207);
	key_of(k2, 0xc0000208);
	/* Polite every 16 s straight across the wrap: always answered. */
	for (i = 0; i < 20; i++, now += 16 * sec)
		assert_int_equal(dpn_rl_check(&r.t, k, dpn_rl_hash(k, 0), now),
				 DPN_RL_PASS);
	/* 1 s across the wrap is still under `minimum 2`. */
	now = UINT32_MAX - sec / 2;
	assert_int_equal(dpn_rl_check(&r.t, k2, dpn_rl_hash(k2, 0), now),
			 DPN_RL_PASS);
	assert_int_equal(dpn_rl_check(&r.t, k2, dpn_rl_hash(k2, 0), now + sec),
			 DPN_RL_LIMITED_KOD);
	/* ...and a long silence across it clears the penalty. */
	assert_int_equal(dpn_rl_check(&r.t, k2, dpn_rl_hash(k2, 0),
				      now + 200 * sec), DPN_RL_PASS);
	rl_close(&r);
}

static void
hit(struct rl *r, uint32_t addr, unsigned int n, uint32_t *now)
{
	uint8_t k[DPN_RL_KEY_LEN];
	unsigned int i;

	key_of(k, addr);
	for (i = 0; i < n; i++)
		dpn_rl_check(&r->t, k, dpn_rl_hash(k, 0), (*now)++);
}

static void
test_top_and_merge(void **state)
{
	struct dpn_rl_params p = params(3, 0);
	struct rl a, b;
	struct dpn_rl_client top[4];
	uint8_t k[DPN_RL_KEY_LEN];
	unsigned int nb = 0;
	uint32_t now = 100000;

	rl_open(&a, 256, &p);
	rl_open(&b, 256, &p);
	hit(&a, 0x0a000001, 5, &now);
	hit(&a, 0x0a000002, 50, &now);
	hit(&a, 0x0a000003, 1, &now);
	hit(&a, 0x0a000004, 20, &now);
	hit(&b, 0x0a000011, 30, &now);
	hit(&b, 0x0a000012, 100, &now);
	hit(&b, 0x0a000013, 2, &now);

	dpn_rl_top(&a.t, now, top, &nb, 3);
	assert_int_equal(nb, 3);
	assert_int_equal(top[0].hits, 50);
	assert_int_equal(top[1].hits, 20);
	assert_int_equal(top[2].hits, 5);
	key_of(k, 0x0a000002);
	assert_memory_equal(top[0].key, k, DPN_RL_KEY_LEN);

	/* Merging the second worker's table gives the busiest overall. */
	dpn_rl_top(&b.t, now, top, &nb, 3);
	assert_int_equal(nb, 3);
	assert_int_equal(top[0].hits, 100);
	assert_int_equal(top[1].hits, 50);
	assert_int_equal(top[2].hits, 30);
	key_of(k, 0x0a000012);
	assert_memory_equal(top[0].key, k, DPN_RL_KEY_LEN);
	key_of(k, 0x0a000011);
	assert_memory_equal(top[2].key, k, DPN_RL_KEY_LEN);

	/* n = 0 lists nothing. */
	nb = 0;
	dpn_rl_top(&a.t, now, top, &nb, 0);
	assert_int_equal(nb, 0);
	rl_close(&a);
	rl_close(&b);
}

/* `show clients`: limited count, leaked score and penalty state. */
static void
test_top_reports_state(void **state)
{
	struct dpn_rl_params p = params(3, 0);
	struct rl r;
	struct dpn_rl_client top[2];
	uint8_t k[DPN_RL_KEY_LEN];
	unsigned int nb = 0;
	uint32_t now = 100000, last;
	const uint32_t sec = 15;
	int i;

	rl_open(&r, 64, &p);
	key_of(k, 0x0a000001);
	/* 20 requests 1 s apart: 8 or so pass, the rest limited. */
	for (i = 0; i < 20; i++, now += sec)
		dpn_rl_check(&r.t, k, dpn_rl_hash(k, 0), now);
	last = now - sec;
	dpn_rl_top(&r.t, last, top, &nb, 2);
	assert_int_equal(nb, 1);
	assert_int_equal(top[0].hits, 20);
	assert_in_range(top[0].limited, 10, 12);
	assert_int_equal(top[0].last, last);
	assert_true(top[0].in_penalty);
	assert_true(top[0].score >= r.t.limit);

	/* Queried 30 s later the score has leaked 30 s' worth. */
	nb = 0;
	dpn_rl_top(&r.t, last + 30 * sec, top, &nb, 2);
	assert_true(top[0].score >= r.t.limit - 30 * (int32_t)sec);
	assert_true(top[0].score < r.t.limit);
	/* Its next request would pass: no longer shown as penalised. */
	assert_false(top[0].in_penalty);
	/* Much later the score is empty, never negative. */
	nb = 0;
	dpn_rl_top(&r.t, last + 3600 * sec, top, &nb, 2);
	assert_int_equal(top[0].score, 0);
	rl_close(&r);
}

static void
test_count(void **state)
{
	struct rl r;
	uint32_t now = 1;

	rl_open(&r, 1024, NULL);
	assert_int_equal(dpn_rl_count(&r.t), 0);
	hit(&r, 0x0a000001, 3, &now);
	hit(&r, 0x0a000002, 1, &now);
	hit(&r, 0x0a000003, 1, &now);
	assert_int_equal(dpn_rl_count(&r.t), 3);
	rl_close(&r);
}

static void
test_params_validation(void **state)
{
	struct dpn_rl_table t;
	struct dpn_rl_params p;
	size_t size = dpn_rl_memsize(64);
	uint8_t *mem = aligned_alloc(128, size + 128);

	assert_non_null(mem);
	memset(mem, 0, size + 128);
	p = params(-1, 2);
	assert_int_equal(dpn_rl_init(&t, mem, 64, &p), -EINVAL);
	p = params(11, 2);
	assert_int_equal(dpn_rl_init(&t, mem, 64, &p), -EINVAL);
	p = params(3, 61);
	assert_int_equal(dpn_rl_init(&t, mem, 64, &p), -EINVAL);
	p = params(3, 2);
	assert_int_equal(dpn_rl_init(&t, NULL, 64, &p), -EINVAL);
	assert_int_equal(dpn_rl_init(&t, mem + 32, 64, &p), -EINVAL);

	/* The range ends are accepted; headway and minimum in units. */
	p = params(0, 0);
	assert_int_equal(dpn_rl_init(&t, mem, 64, &p), 0);
	assert_int_equal(t.head, 15);		/* 1 s = 14.9 units */
	assert_int_equal(t.limit, 8 * 15);
	assert_int_equal(t.minimum, 0);
	p = params(10, 60);
	assert_int_equal(dpn_rl_init(&t, mem, 64, &p), 0);
	assert_int_equal(t.head, 15259);	/* 1024 s */
	assert_int_equal(t.minimum, 894);	/* 60 s = 894.07 */
	p = params(3, 2);
	assert_int_equal(dpn_rl_init(&t, mem, 64, &p), 0);
	assert_int_equal(t.head, 119);		/* 8 s = 119.2 */
	assert_int_equal(t.minimum, 29);	/* 2 s = 29.8, rounded down */
	free(mem);
}

/*
 * The slot packs the score and the limited count into bit fields: the
 * largest score (a penalty at average 10, 9 headways of 1024 s) must
 * not wrap, and the counts stop at their maximum.
 */
static void
test_packed_fields(void **state)
{
	struct dpn_rl_params p = params(10, 0);
	struct rl r;
	uint8_t k[DPN_RL_KEY_LEN];
	struct dpn_rl_slot *s = NULL;
	struct dpn_rl_client top[1];
	unsigned int nb = 0, i, pass = 0;
	const unsigned int total = DPN_RL_LIMITED_MAX + 100;
	uint32_t now = 100000;

	(void)state;
	rl_open(&r, 4, &p);
	assert_int_equal(r.t.head, 15259);
	key_of(k, 0xc6120005);
	for (i = 0; i < total; i++)
		pass += dpn_rl_account(&r.t, &s, k, dpn_rl_hash(k, 0), now) ==
			DPN_RL_PASS;
	/* Scores h .. 7h pass; 8h would reach the limit. */
	assert_int_equal(pass, 7);
	assert_int_equal(s->hits, total);
	assert_int_equal(s->limited, DPN_RL_LIMITED_MAX);
	assert_int_equal(s->score, 9 * 15259);
	dpn_rl_top(&r.t, now, top, &nb, 1);
	assert_int_equal(nb, 1);
	assert_int_equal(top[0].limited, DPN_RL_LIMITED_MAX);
	assert_int_equal(top[0].score, 9 * 15259);
	assert_true(top[0].in_penalty);
	/* hits stops at its maximum too. */
	s->hits = UINT32_MAX - 1;
	dpn_rl_account(&r.t, &s, k, dpn_rl_hash(k, 0), now);
	dpn_rl_account(&r.t, &s, k, dpn_rl_hash(k, 0), now);
	assert_int_equal(s->hits, UINT32_MAX);
	rl_close(&r);
}

static void
test_memsize(void **state)
{
	size_t m = dpn_rl_memsize(1000000);

	(void)state;
	assert_int_equal(sizeof(struct dpn_rl_slot), 32);
	assert_int_equal(sizeof(struct dpn_rl_bucket), 64);
	/* Two slots a client, 1,000,000 buckets round up to 2^20: 64 MiB
	 * for a million clients, the most the issue allows. */
	assert_int_equal(m, 64u << 20);
	assert_true(m / sizeof(struct dpn_rl_slot) >= 2000000);
	assert_int_equal(dpn_rl_memsize(0), 64);
	assert_int_equal(dpn_rl_memsize(1), 64);
	assert_int_equal(dpn_rl_memsize(2), 128);
	assert_int_equal(dpn_rl_memsize(3), 256);
	assert_int_equal(dpn_rl_memsize(4096), 4096 * 64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_ntpds),
		cmocka_unit_test(test_polite_client_never_limited),
		cmocka_unit_test(test_find_then_account),
		cmocka_unit_test(test_packed_fields),
		cmocka_unit_test(test_spacing_at_minimum_passes),
		cmocka_unit_test(test_fast_client_penalty_one_kod),
		cmocka_unit_test(test_penalty_ends_when_client_slows),
		cmocka_unit_test(test_minimum_spacing),
		cmocka_unit_test(test_set_params_live),
		cmocka_unit_test(test_clients_independent),
		cmocka_unit_test(test_key_v4_mapping),
		cmocka_unit_test(test_neighbours_spread),
		cmocka_unit_test(test_seed_changes_buckets),
		cmocka_unit_test(test_spoof_flood),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_limited_client_kept),
		cmocka_unit_test(test_time_wrap),
		cmocka_unit_test(test_top_and_merge),
		cmocka_unit_test(test_top_reports_state),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_params_validation),
		cmocka_unit_test(test_memsize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
