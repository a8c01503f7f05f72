/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/xleave, the table of transmit times behind
 * interleaved mode: how big it is, the receive timestamps it gives out
 * (unique and tagged, or clients would be sent another reply's transmit
 * time), and that a saved time is found exactly as long as promised
 * (`size` replies, first in first out, once), across the wrap of the
 * 32-bit position and when many keys share one index line. A randomized
 * run checks it all against a plain array kept beside it.
 */

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dpn_xleave.h"

/* A receive timestamp as a worker would take it: 2026, odd. */
#define T0 0xed0a1b2c40000001ULL
#define TX0 0xed0a1b2c50000000ULL

#define CHECK(cond, ...) do {			\
	if (!(cond))				\
		fail_msg(__VA_ARGS__);		\
} while (0)

struct tbl {
	struct dpn_xleave_table t;
	void *mem;
};

static void
tbl_new(struct tbl *x, uint32_t entries)
{
	size_t len = dpn_xleave_memsize(entries);

	x->mem = NULL;
	if (len != 0) {
		/* memsize is a multiple of 64, as aligned_alloc wants. */
		x->mem = aligned_alloc(64, len);
		assert_non_null(x->mem);
		memset(x->mem, 0, len);
	}
	assert_int_equal(dpn_xleave_init(&x->t, x->mem, entries), 0);
}

static void
tbl_free(struct tbl *x)
{
	free(x->mem);
	x->mem = NULL;
}

/* One burst of one reply that was sent at @p tx. */
static void
save(struct dpn_xleave_table *t, uint64_t rx, uint64_t tx)
{
	dpn_xleave_begin(t);
	dpn_xleave_add(t, rx);
	dpn_xleave_sent(t, 1, tx);
}

/* The @p n odd keys from @p start up whose index line is (or, with
 * @p same false, is not) that of @p like. */
static void
keys_in_line(const struct dpn_xleave_table *t, uint64_t like, bool same,
	     uint64_t start, uint64_t *out, unsigned int n)
{
	uint32_t h = dpn_xleave_hash(t, like);
	uint64_t k = start | 1;
	unsigned int i = 0;

	while (i < n) {
		if ((dpn_xleave_hash(t, k) == h) == same && k != like)
			out[i++] = k;
		k += 2;
	}
}

/*
 * Sizes.
 */

static void
test_size(void **state)
{
	(void)state;
	/* 0 turns interleaved mode off: no memory at all. */
	assert_int_equal(dpn_xleave_size(0), 0);
	assert_int_equal(dpn_xleave_memsize(0), 0);
	/* At least DPN_XLEAVE_MIN_SIZE, else the next power of two. */
	assert_int_equal(dpn_xleave_size(1), 256);
	assert_int_equal(dpn_xleave_size(255), 256);
	assert_int_equal(dpn_xleave_size(256), 256);
	assert_int_equal(dpn_xleave_size(257), 512);
	assert_int_equal(dpn_xleave_size(1000), 1024);
	assert_int_equal(dpn_xleave_size(1u << 20), 1u << 20);
	assert_int_equal(dpn_xleave_size((1u << 20) + 1), 1u << 21);
	assert_int_equal(dpn_xleave_size(DPN_XLEAVE_MAX_SIZE),
			 DPN_XLEAVE_MAX_SIZE);
	/* Never past the largest, which init refuses (below). */
	assert_int_equal(dpn_xleave_size(DPN_XLEAVE_MAX_SIZE + 1),
			 DPN_XLEAVE_MAX_SIZE);
	assert_int_equal(dpn_xleave_size(UINT32_MAX), DPN_XLEAVE_MAX_SIZE);
	/* 16 bytes a pair, plus 4 index slots (a half line) a pair. */
	assert_int_equal(dpn_xleave_memsize(1), 256 * 16 + 128 * 64);
	assert_int_equal(dpn_xleave_memsize(1000), 1024 * 16 + 512 * 64);
	assert_true(dpn_xleave_memsize(DPN_XLEAVE_MAX_SIZE) ==
		    (size_t)DPN_XLEAVE_MAX_SIZE * 48);
}

static void
test_init(void **state)
{
	static const uint32_t entries[] = { 1, 256, 300, 4096 };
	struct dpn_xleave_table t;
	struct tbl x;
	unsigned int i;
	char dummy[64];

	(void)state;
	for (i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		uint32_t size = dpn_xleave_size(entries[i]);
		char *end;

		tbl_new(&x, entries[i]);
		end = (char *)x.mem + dpn_xleave_memsize(entries[i]);
		assert_true(dpn_xleave_enabled(&x.t));
		assert_int_equal(x.t.ring_mask, size - 1);
		assert_int_equal(x.t.index_mask + 1, size / 2);
		assert_int_equal(x.t.head, 0);
		assert_int_equal(x.t.pending, 0);
		/* The ring, then the index on its own lines, to the end. */
		assert_ptr_equal(x.t.ring, x.mem);
		assert_int_equal((uintptr_t)x.t.index % 64, 0);
		assert_true((char *)(x.t.ring + size) <= (char *)x.t.index);
		assert_ptr_equal(x.t.index + x.t.index_mask + 1, end);
		tbl_free(&x);
	}
	/* Off: nothing saved, nothing found, no memory touched. */
	memset(&t, 0xa5, sizeof(t));
	assert_int_equal(dpn_xleave_init(&t, NULL, 0), 0);
	assert_false(dpn_xleave_enabled(&t));
	assert_null(dpn_xleave_find(&t, T0));
	assert_int_equal(dpn_xleave_take(&t, T0), 0);
	/* Its receive timestamps are still tagged and unique. */
	assert_int_equal(dpn_xleave_rx_ts(&t, T0 - 1), T0);
	assert_int_equal(dpn_xleave_rx_ts(&t, T0 - 1), T0 + 2);
	/* Too large: refused, and the table is left off. */
	memset(&t, 0xa5, sizeof(t));
	assert_int_equal(dpn_xleave_init(&t, dummy,
					 DPN_XLEAVE_MAX_SIZE + 1), -EINVAL);
	assert_false(dpn_xleave_enabled(&t));
	assert_null(dpn_xleave_find(&t, T0));
}

/*
 * Receive and transmit timestamps.
 */

static void
test_rx_ts(void **state)
{
	struct dpn_xleave_table t;
	uint64_t last, w = DPN_XLEAVE_UNIQUE_WINDOW;
	unsigned int i;

	(void)state;
	assert_int_equal(dpn_xleave_init(&t, NULL, 0), 0);
	/* The lowest bit set, nothing else changed when time moves on. */
	assert_int_equal(dpn_xleave_rx_ts(&t, T0 - 1), T0);
	assert_int_equal(dpn_xleave_rx_ts(&t, T0 + 0x1000), T0 + 0x1000);
	last = T0 + 0x1000;
	/* The same time again (one TSC read for the whole burst), or a
	 * little earlier (a NIC stamp before the burst's TSC): just past
	 * the last one, and still odd. */
	assert_int_equal(dpn_xleave_rx_ts(&t, last), last + 2);
	assert_int_equal(dpn_xleave_rx_ts(&t, last - 1), last + 4);
	assert_int_equal(dpn_xleave_rx_ts(&t, last - 0x800), last + 6);
	last += 6;
	for (i = 0; i < 1000; i++) {
		uint64_t rx = dpn_xleave_rx_ts(&t, T0);

		CHECK(rx == last + 2, "%u: %#" PRIx64 " after %#" PRIx64,
		      i, rx, last);
		last = rx;
	}
	/* Back by less than the window: still nudged (last - rx is even,
	 * both being odd, so the window's edge is last - w). */
	assert_int_equal(dpn_xleave_rx_ts(&t, last - (w - 2)), last + 2);
	last += 2;
	/* Back by the window or more: the clock was stepped; taken as it
	 * is, and the next ones are judged against it. */
	assert_int_equal(dpn_xleave_rx_ts(&t, last - w), last - w);
	last -= w;
	assert_int_equal(dpn_xleave_rx_ts(&t, last), last + 2);
	assert_int_equal(dpn_xleave_rx_ts(&t, last - 0x10000000000ULL),
			 last - 0x10000000000ULL);
}

static void
test_tx_ts(void **state)
{
	(void)state;
	assert_int_equal(dpn_xleave_tx_ts(TX0 | 1), TX0);
	assert_int_equal(dpn_xleave_tx_ts(TX0), TX0);
	assert_int_equal(dpn_xleave_tx_ts(UINT64_MAX), UINT64_MAX - 1);
}

/*
 * Finding a saved transmit time.
 */

static void
test_find_take(void **state)
{
	struct dpn_xleave_pair *p;
	struct tbl x;
	uint64_t same_tag;

	(void)state;
	tbl_new(&x, 256);
	save(&x.t, T0, TX0);
	p = dpn_xleave_find(&x.t, T0);
	assert_non_null(p);
	assert_int_equal(p->rx, T0);
	assert_int_equal(p->tx, TX0);
	/* find() does not use it up... */
	assert_ptr_equal(dpn_xleave_find(&x.t, T0), p);
	/* ...take() does: each transmit time is sent once. */
	assert_int_equal(dpn_xleave_take(&x.t, T0), TX0);
	assert_int_equal(dpn_xleave_take(&x.t, T0), 0);
	assert_int_equal(dpn_xleave_take(&x.t, T0), 0);

	save(&x.t, T0 + 2, TX0 + 2);
	/* A transmit timestamp (lowest bit clear) is never a key: a basic
	 * client echoing our T3, or T2 with the bit cleared. */
	assert_null(dpn_xleave_find(&x.t, T0 + 1));
	assert_null(dpn_xleave_find(&x.t, TX0));
	/* Unknown: a later stamp, 0, and one with the same low 32 bits
	 * (the index's tag) in the same line but another second. */
	assert_null(dpn_xleave_find(&x.t, T0 + 4));
	assert_null(dpn_xleave_find(&x.t, 0));
	assert_null(dpn_xleave_find(&x.t, 1));
	same_tag = T0 + 2;
	do
		same_tag += 1ULL << 32;
	while (dpn_xleave_hash(&x.t, same_tag) !=
	       dpn_xleave_hash(&x.t, T0 + 2));
	assert_null(dpn_xleave_find(&x.t, same_tag));
	assert_int_equal(dpn_xleave_take(&x.t, same_tag), 0);
	assert_int_equal(dpn_xleave_take(&x.t, T0 + 2), TX0 + 2);
	tbl_free(&x);
}

/* Added but not (yet) sent: found, but there is no time to give. */
static void
test_not_sent(void **state)
{
	struct tbl x;

	(void)state;
	tbl_new(&x, 256);
	dpn_xleave_begin(&x.t);
	dpn_xleave_add(&x.t, T0);
	assert_non_null(dpn_xleave_find(&x.t, T0));
	assert_int_equal(dpn_xleave_take(&x.t, T0), 0);
	/* tx_burst took none of it. */
	dpn_xleave_sent(&x.t, 0, TX0);
	assert_int_equal(dpn_xleave_take(&x.t, T0), 0);
	assert_int_equal(x.t.pending, 0);
	tbl_free(&x);
}

/* A burst of three of which tx_burst took one: only that one has a
 * time. More sent than added touches nothing else. */
static void
test_sent_partial(void **state)
{
	struct tbl x;
	unsigned int i;

	(void)state;
	tbl_new(&x, 256);
	save(&x.t, T0, TX0);
	dpn_xleave_begin(&x.t);
	for (i = 1; i <= 3; i++)
		dpn_xleave_add(&x.t, T0 + 2 * i);
	assert_int_equal(x.t.pending, 3);
	dpn_xleave_sent(&x.t, 1, TX0 + 2);
	assert_int_equal(x.t.pending, 0);
	assert_int_equal(dpn_xleave_take(&x.t, T0 + 2), TX0 + 2);
	assert_int_equal(dpn_xleave_take(&x.t, T0 + 4), 0);
	assert_int_equal(dpn_xleave_take(&x.t, T0 + 6), 0);
	/* A second call for the same burst changes nothing. */
	dpn_xleave_sent(&x.t, 3, TX0 + 4);
	assert_int_equal(dpn_xleave_take(&x.t, T0 + 4), 0);

	dpn_xleave_begin(&x.t);
	dpn_xleave_add(&x.t, T0 + 8);
	dpn_xleave_sent(&x.t, 32, TX0 + 8);
	assert_int_equal(dpn_xleave_take(&x.t, T0 + 8), TX0 + 8);
	/* The pair before the burst kept its own time. */
	assert_int_equal(dpn_xleave_take(&x.t, T0), TX0);
	tbl_free(&x);
}

/* begin() forgets a burst that was never sent (the next burst's sent()
 * must not give its time to the earlier one's pairs). */
static void
test_begin_resets(void **state)
{
	struct tbl x;

	(void)state;
	tbl_new(&x, 256);
	dpn_xleave_begin(&x.t);
	dpn_xleave_add(&x.t, T0);
	dpn_xleave_add(&x.t, T0 + 2);
	dpn_xleave_begin(&x.t);
	assert_int_equal(x.t.pending, 0);
	dpn_xleave_add(&x.t, T0 + 4);
	dpn_xleave_sent(&x.t, 3, TX0);
	assert_int_equal(dpn_xleave_take(&x.t, T0), 0);
	assert_int_equal(dpn_xleave_take(&x.t, T0 + 2), 0);
	assert_int_equal(dpn_xleave_take(&x.t, T0 + 4), TX0);
	tbl_free(&x);
}

/*
 * First in, first out: a pair lives for exactly `size` replies. The
 * other keys avoid the first one's index line, so that only the ring
 * can make it go. @p head: where the positions start.
 */
static void
fifo_exact(uint32_t head)
{
	enum { N = 256 };
	uint64_t other[N];
	struct tbl x;
	unsigned int i;

	tbl_new(&x, N);
	x.t.head = head;
	keys_in_line(&x.t, T0, false, T0 + 2, other, N);
	save(&x.t, T0, TX0);
	for (i = 0; i < N - 1; i++)
		save(&x.t, other[i], TX0 + 2 + 2 * i);
	/* size - 1 newer pairs: all there, the oldest included. */
	CHECK(dpn_xleave_find(&x.t, T0) != NULL,
	      "head %#x: the oldest pair lost after %u newer", head, N - 1);
	for (i = 0; i < N - 1; i++) {
		struct dpn_xleave_pair *p = dpn_xleave_find(&x.t, other[i]);

		CHECK(p != NULL && p->tx == TX0 + 2 + 2 * i,
		      "head %#x: pair %u lost", head, i);
	}
	/* One more: the oldest goes, and only it. */
	save(&x.t, other[N - 1], TX0 + 2 * N);
	CHECK(dpn_xleave_find(&x.t, T0) == NULL,
	      "head %#x: the oldest pair still found after %u newer",
	      head, N);
	assert_int_equal(dpn_xleave_take(&x.t, T0), 0);
	for (i = 0; i < N; i++)
		CHECK(dpn_xleave_find(&x.t, other[i]) != NULL,
		      "head %#x: pair %u lost", head, i);
	/* And the next goes with the next add. */
	save(&x.t, other[N - 1] + 2 * N * N, TX0);
	assert_null(dpn_xleave_find(&x.t, other[0]));
	assert_non_null(dpn_xleave_find(&x.t, other[1]));
	tbl_free(&x);
}

static void
test_fifo_exact(void **state)
{
	(void)state;
	fifo_exact(0);
}

/* The 32-bit position wraps (after 2^32 replies of one worker): every
 * start from just before the wrap to the oldest pair being the last
 * before it. */
static void
test_fifo_wrap(void **state)
{
	uint32_t d;

	(void)state;
	for (d = 1; d <= 260; d++)
		fifo_exact((uint32_t)(0x100000000ULL - d));
}

/*
 * Many keys in one index line: the newest eight are found, the older
 * ones no longer (their pairs are still in the ring, but unreachable).
 */
static void
test_bucket_collisions(void **state)
{
	enum { N = 13 };
	uint64_t k[N];
	struct tbl x;
	unsigned int i;

	(void)state;
	tbl_new(&x, 256);
	k[0] = T0;
	keys_in_line(&x.t, T0, true, T0 + 2, k + 1, N - 1);
	for (i = 0; i < N; i++) {
		assert_int_equal(dpn_xleave_hash(&x.t, k[i]),
				 dpn_xleave_hash(&x.t, T0));
		save(&x.t, k[i], TX0 + 2 * i);
	}
	for (i = 0; i < N; i++) {
		bool want = i >= N - DPN_XLEAVE_BUCKET_SLOTS;
		struct dpn_xleave_pair *p = dpn_xleave_find(&x.t, k[i]);

		CHECK((p != NULL) == want, "key %u of %u in one line: %s", i,
		      N, want ? "lost" : "found");
		CHECK(p == NULL || p->tx == TX0 + 2 * i,
		      "key %u: another pair's time", i);
	}
	tbl_free(&x);
}

/* A full line whose pairs the ring has since overwritten serves new
 * keys: its slots are taken in turn, so the stale ones go first. */
static void
test_bucket_stale_first(void **state)
{
	enum { N = 256, S = DPN_XLEAVE_BUCKET_SLOTS };
	uint64_t line[2 * S], other[N];
	struct tbl x;
	unsigned int i;

	(void)state;
	tbl_new(&x, N);
	keys_in_line(&x.t, T0, true, T0, line, 2 * S);
	keys_in_line(&x.t, T0, false, T0, other, N);
	/* Keys fill the line, then the ring moves past them. */
	for (i = 0; i < S; i++)
		save(&x.t, line[i], TX0);
	for (i = 0; i < N; i++)
		save(&x.t, other[i], TX0);
	for (i = 0; i < S; i++)
		assert_null(dpn_xleave_find(&x.t, line[i]));
	/* As many new keys in the line: all of them live. */
	for (i = S; i < 2 * S; i++)
		save(&x.t, line[i], TX0 + i);
	for (i = S; i < 2 * S; i++)
		CHECK(dpn_xleave_take(&x.t, line[i]) == TX0 + i,
		      "live key %u lost to a stale slot", i);
	tbl_free(&x);
}

/*
 * Against a model: a plain array of the last `size` pairs.
 */

struct model_pair {
	uint64_t rx;
	uint64_t tx;
};

struct model {
	struct model_pair pair[DPN_XLEAVE_MIN_SIZE];	/* by position */
	uint64_t nb;			/* pairs ever added */
	uint64_t evicted[4096];		/* the last keys to go */
	uint64_t nb_evicted;
	uint32_t pending;
	uint64_t nb_exact, nb_overflow, nb_lost, nb_gone;
};

static uint64_t rng_state;

/* splitmix64: deterministic, and good enough to pick operations. */
static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static struct model_pair *
model_at(struct model *m, uint64_t n)
{
	return &m->pair[n % DPN_XLEAVE_MIN_SIZE];
}

static void
model_add(struct model *m, uint64_t rx)
{
	struct model_pair *p = model_at(m, m->nb);

	if (m->nb >= DPN_XLEAVE_MIN_SIZE)
		m->evicted[m->nb_evicted++ % 4096] = p->rx;
	p->rx = rx;
	p->tx = 0;
	m->nb++;
	m->pending++;
}

/* Newer pairs in the line of the pair added as number @p n: with
 * fewer than eight, its index slot cannot have been taken. */
static unsigned int
model_newer_in_line(struct model *m, const struct dpn_xleave_table *t,
		    uint64_t n)
{
	uint32_t h = dpn_xleave_hash(t, model_at(m, n)->rx);
	unsigned int c = 0;
	uint64_t j;

	for (j = n + 1; j < m->nb; j++)
		c += dpn_xleave_hash(t, model_at(m, j)->rx) == h;
	return c;
}

/* Take the pair added as number @p n and compare with the model. */
static void
model_take(struct model *m, struct dpn_xleave_table *t, uint64_t n,
	   uint64_t op)
{
	struct model_pair *p = model_at(m, n);
	uint64_t got = dpn_xleave_take(t, p->rx);

	if (model_newer_in_line(m, t, n) < DPN_XLEAVE_BUCKET_SLOTS) {
		m->nb_exact++;
		CHECK(got == p->tx, "op %" PRIu64 ": pair %" PRIu64
		      " (rx %#" PRIx64 "): tx %#" PRIx64 ", want %#" PRIx64,
		      op, n, p->rx, got, p->tx);
	} else {
		/* Its slot may have gone: a miss, never a wrong time. */
		m->nb_overflow++;
		m->nb_lost += got == 0 && p->tx != 0;
		CHECK(got == 0 || got == p->tx, "op %" PRIu64 ": pair %"
		      PRIu64 ": tx %#" PRIx64 ", want %#" PRIx64 " or 0",
		      op, n, got, p->tx);
	}
	p->tx = 0;
}

/*
 * Keys come from two increasing streams, so all are unique: receive
 * timestamps through dpn_xleave_rx_ts() (time moving on by 0 to ~1 ms,
 * sometimes back to within the window of the last), and, to overflow
 * index lines on purpose,
 * keys of a second era chosen for falling into four "hot" lines.
 */
static uint64_t
next_key(struct dpn_xleave_table *t, uint64_t *clock, uint64_t *hot)
{
	uint64_t r = rnd();

	if (r % 5 == 0) {
		uint32_t line;

		do {
			*hot += 2;
			line = dpn_xleave_hash(t, *hot);
		} while (line > 3);
		return *hot;
	}
	if (r % 7 == 1)
		*clock = t->last_rx - (r >> 8) % (DPN_XLEAVE_UNIQUE_WINDOW / 2);
	else
		*clock += (r >> 8) % (1u << 22) * (r % 3 == 0);
	return dpn_xleave_rx_ts(t, *clock);
}

static void
test_model_random(void **state)
{
	static struct model m;
	struct tbl x;
	uint64_t clock = T0, hot = 0x10000000ULL << 32 | 1, last = 0;
	uint64_t op, tx = TX0;

	(void)state;
	memset(&m, 0, sizeof(m));
	rng_state = 20261231;
	tbl_new(&x, DPN_XLEAVE_MIN_SIZE);
	/* Cross the wrap of the 32-bit position early in the run. */
	x.t.head = UINT32_MAX - 20000;
	for (op = 0; op < 200000; op++) {
		uint64_t r = rnd(), k;
		unsigned int i, n, sent;

		switch (r % 8) {
		case 0:
		case 1:
		case 2:
			/* A burst: 1..16 replies, 0..n+1 of them sent (or
			 * never: the next begin() forgets them). */
			n = 1 + (unsigned int)(r >> 8) % 16;
			dpn_xleave_begin(&x.t);
			m.pending = 0;
			for (i = 0; i < n; i++) {
				k = next_key(&x.t, &clock, &hot);
				CHECK((k & 1) && (k > last || k >> 60 == 1),
				      "op %" PRIu64 ": key %#" PRIx64
				      " after %#" PRIx64, op, k, last);
				if (k >> 60 != 1)
					last = k;
				dpn_xleave_add(&x.t, k);
				model_add(&m, k);
			}
			if ((r >> 16) % 8 == 0)
				break;
			sent = (unsigned int)(r >> 24) % (n + 2);
			tx += 2;
			dpn_xleave_sent(&x.t, sent, tx);
			for (i = 0; i < sent && i < m.pending; i++)
				model_at(&m, m.nb - m.pending + i)->tx = tx;
			m.pending = 0;
			break;
		case 3:
		case 4:
		case 5:
			/* A request naming a pair the model still has. */
			if (m.nb == 0)
				break;
			n = (unsigned int)((r >> 8) %
				(m.nb < DPN_XLEAVE_MIN_SIZE ? m.nb :
				 DPN_XLEAVE_MIN_SIZE));
			model_take(&m, &x.t, m.nb - 1 - n, op);
			break;
		case 6:
			/* One the model let go: the last or an older one. */
			if (m.nb_evicted == 0)
				break;
			n = (r >> 8) % 2 == 0 ? 0 : (unsigned int)((r >> 9) %
				(m.nb_evicted < 4096 ? m.nb_evicted : 4096));
			k = m.evicted[(m.nb_evicted - 1 - n) % 4096];
			m.nb_gone++;
			CHECK(dpn_xleave_find(&x.t, k) == NULL,
			      "op %" PRIu64 ": evicted key %#" PRIx64
			      " (%u back) found", op, k, n);
			break;
		default:
			/* Never given: an even stamp, or a third era. */
			k = (r >> 8) % 2 ? (clock & ~1ULL) :
				(0x20000000ULL << 32 | (r >> 16) | 1);
			CHECK(dpn_xleave_find(&x.t, k) == NULL,
			      "op %" PRIu64 ": key %#" PRIx64 " never added",
			      op, k);
			break;
		}
	}
	/* The run went where it was meant to. */
	CHECK(m.nb > 20001 &&
	      x.t.head == (uint32_t)(UINT32_MAX - 20000 + m.nb),
	      "the position did not wrap (head %#x)", x.t.head);
	CHECK(m.nb_exact > 10000 && m.nb_gone > 10000,
	      "%" PRIu64 " exact lookups, %" PRIu64 " of evicted keys",
	      m.nb_exact, m.nb_gone);
	CHECK(m.nb_overflow > 100 && m.nb_lost > 0,
	      "index lines overflowed %" PRIu64 " times, %" PRIu64
	      " times lost a pair", m.nb_overflow, m.nb_lost);
	print_message("%" PRIu64 " pairs, %" PRIu64 " exact lookups, %"
		      PRIu64 " in overflowed lines (%" PRIu64 " lost), %"
		      PRIu64 " evicted keys looked up\n", m.nb, m.nb_exact,
		      m.nb_overflow, m.nb_lost, m.nb_gone);
	tbl_free(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_rx_ts),
		cmocka_unit_test(test_tx_ts),
		cmocka_unit_test(test_find_take),
		cmocka_unit_test(test_not_sent),
		cmocka_unit_test(test_sent_partial),
		cmocka_unit_test(test_begin_resets),
		cmocka_unit_test(test_fifo_exact),
		cmocka_unit_test(test_fifo_wrap),
		cmocka_unit_test(test_bucket_collisions),
		cmocka_unit_test(test_bucket_stale_first),
		cmocka_unit_test(test_model_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
