/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/clock: the counter-to-UTC model, the seqlock that
 * publishes it to the workers, and the tracker that disciplines it to a
 * reference, driven by a fake 2.5 GHz counter.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include "dpn_clock.h"

#define NS_PER_SEC 1000000000LL
/* 2024-05-01T12:00:00Z */
#define T0_NS (1714564800LL * NS_PER_SEC)

/* ------------------------------------------------------------------ */
/* Model */

static void
test_model_eval(void **state)
{
	struct dpn_clock_model m;

	dpn_clock_model_set(&m, 1000, T0_NS, 1.0);
	assert_int_equal(dpn_clock_model_ns(&m, 1000), T0_NS);
	assert_int_equal(dpn_clock_model_ns(&m, 1001), T0_NS + 1);
	assert_int_equal(dpn_clock_model_ns(&m, 1000 + NS_PER_SEC),
			 T0_NS + NS_PER_SEC);
	/* Counters read before the base give earlier times. */
	assert_int_equal(dpn_clock_model_ns(&m, 999), T0_NS - 1);
	assert_int_equal(dpn_clock_model_ns(&m, 0), T0_NS - 1000);

	/* 1e15 ticks either way (11.6 days at 1 GHz) do not overflow. */
	dpn_clock_model_set(&m, 2000000000000000ULL, T0_NS, 1.0);
	assert_int_equal(dpn_clock_model_ns(&m, 3000000000000000ULL),
			 T0_NS + 1000000000000000LL);
	assert_int_equal(dpn_clock_model_ns(&m, 1000000000000000ULL),
			 T0_NS - 1000000000000000LL);
	/* 0.25 ns/tick is exact in 32.32: 4 GHz for 2.9 days. */
	dpn_clock_model_set(&m, 0, T0_NS, 0.25);
	assert_int_equal(dpn_clock_model_ns(&m, 1000000000000000ULL),
			 T0_NS + 250000000000000LL);

	/* A counter that wraps past 2^64 keeps counting forward. */
	dpn_clock_model_set(&m, UINT64_MAX - 99, T0_NS, 1.0);
	assert_int_equal(dpn_clock_model_ns(&m, 100), T0_NS + 200);
}

static void
test_model_tsc_precision(void **state)
{
	struct dpn_clock_model m;
	const double rate = 0.4 * (1.0 + 50e-6);	/* 2.5 GHz, 50 ppm */
	int64_t want, got;

	/* 1e15 ticks of a 2.5 GHz TSC (4.6 days): 32.32 keeps it to
	 * better than 1e-9 relative.
	 */
	dpn_clock_model_set(&m, 123456789, T0_NS, rate);
	got = dpn_clock_model_ns(&m, 123456789ULL + 1000000000000000ULL);
	want = T0_NS + (int64_t)llround(1e15 * rate);
	assert_true(llabs(got - want) < 400000);
	got = dpn_clock_model_ns(&m, 123456789ULL + 2500000000ULL);
	want = T0_NS + (int64_t)llround(2.5e9 * rate);
	assert_true(llabs(got - want) <= 2);
}

static void
test_model_rate_round_trip(void **state)
{
	/* 3.9 GHz and 2.5 GHz TSCs, a 1 GHz PHC, 125 and 25 MHz clocks. */
	static const double rates[] = {
		1.0 / 3.9, 0.4, 0.4 * (1 + 50e-6), 0.4 * (1 - 123e-6),
		1.0, 1.0 + 1e-7, 8.0, 40.0,
	};
	struct dpn_clock_model m;
	unsigned int i;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		dpn_clock_model_set(&m, 42, -5, rates[i]);
		assert_true(m.mult != 0);
		if (fabs(dpn_clock_model_rate(&m) / rates[i] - 1.0) > 1e-9)
			fail_msg("rate %.12g came back as %.12g", rates[i],
				 dpn_clock_model_rate(&m));
		assert_int_equal(m.cnt_base, 42);
		assert_int_equal(m.ns_base, -5);
		assert_int_equal(dpn_clock_model_ns(&m, 42), -5);
	}
}

/* ------------------------------------------------------------------ */
/* Seqlock */

static struct dpn_clock clk;

static void
fill_snapshot(struct dpn_clock_snapshot *s, uint64_t k)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->tsc.cnt_base = k;
	s->tsc.ns_base = 3 * (int64_t)k;
	s->tsc.mult = ~k;
	for (i = 0; i < DPN_CLOCK_MAX_PORTS; i++) {
		s->nic[i].cnt_base = k + i;
		s->nic[i].ns_base = -(int64_t)k;
		s->nic[i].mult = k * 7;
	}
	s->sysinfo.stratum = (uint8_t)k;
	s->sysinfo.refid = (uint32_t)k;
	s->sysinfo.root_disp = (uint32_t)(k >> 3);
	s->sysinfo.ref_ts = k * 5;
	s->synced = k & 1;
	s->generation = 0xdeadbeef;	/* publish sets its own */
}

/* Whether @p s is one that fill_snapshot(k) made, k = its generation. */
static bool
snapshot_consistent(const struct dpn_clock_snapshot *s)
{
	struct dpn_clock_snapshot want;
	uint64_t k = s->generation;

	fill_snapshot(&want, k);
	want.generation = k;
	return memcmp(&want.tsc, &s->tsc, sizeof(want.tsc)) == 0 &&
		memcmp(want.nic, s->nic, sizeof(want.nic)) == 0 &&
		want.sysinfo.stratum == s->sysinfo.stratum &&
		want.sysinfo.refid == s->sysinfo.refid &&
		want.sysinfo.root_disp == s->sysinfo.root_disp &&
		want.sysinfo.ref_ts == s->sysinfo.ref_ts &&
		want.synced == s->synced;
}

static void
test_clock_init(void **state)
{
	struct dpn_clock_snapshot s;

	memset(&clk, 0xff, sizeof(clk));
	dpn_clock_init(&clk);
	dpn_clock_read(&clk, &s);
	assert_int_equal(s.generation, 0);
	assert_false(s.synced);
	assert_int_equal(s.tsc.mult, 0);	/* no model yet */
	/* Until the first publish, clients are told we are unsynced. */
	assert_int_equal(s.sysinfo.leap, DPN_NTP_LEAP_ALARM);
	assert_int_equal(s.sysinfo.stratum, DPN_NTP_STRATUM_UNSYNC);
}

static void
test_publish_read(void **state)
{
	struct dpn_clock_snapshot s, r;
	uint64_t k;

	dpn_clock_init(&clk);
	for (k = 1; k <= 5; k++) {
		fill_snapshot(&s, k * 1000);
		dpn_clock_publish(&clk, &s);
		dpn_clock_read(&clk, &r);
		/* One publish, one generation, whatever s said. */
		assert_int_equal(r.generation, k);
		assert_int_equal(r.tsc.cnt_base, k * 1000);
		assert_int_equal(r.tsc.ns_base, 3 * k * 1000);
		assert_int_equal(r.nic[DPN_CLOCK_MAX_PORTS - 1].cnt_base,
				 k * 1000 + DPN_CLOCK_MAX_PORTS - 1);
		assert_int_equal(r.sysinfo.refid, (uint32_t)(k * 1000));
		assert_int_equal(r.synced, false);
		/* Not left mid-update. */
		assert_int_equal(clk.seq & 1, 0);
	}
	/* The caller's copy is not modified by publishing it. */
	assert_int_equal(s.generation, 0xdeadbeef);
}

#define RACE_SECONDS 0.5		/* at least */
#define RACE_MAX_SECONDS 3.0		/* on a loaded machine, at most */
#define RACE_MIN_DISTINCT 10
#define RACE_MAX_PUBLISH 20000000ULL
#define RACE_MAX_READS 50000000ULL

static int race_stop;

struct race_reader {
	pthread_t thread;
	uint64_t reads;
	uint64_t torn;
	uint64_t backwards;
	uint64_t distinct;
	uint64_t last_gen;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *
race_writer(void *arg)
{
	struct dpn_clock_snapshot s;
	uint64_t *published = arg;
	uint64_t k;

	for (k = 1; k <= RACE_MAX_PUBLISH; k++) {
		if (__atomic_load_n(&race_stop, __ATOMIC_RELAXED))
			break;
		fill_snapshot(&s, k);
		dpn_clock_publish(&clk, &s);
	}
	*published = k - 1;
	return NULL;
}

static void *
race_read(void *arg)
{
	struct race_reader *r = arg;
	struct dpn_clock_snapshot s;

	while (!__atomic_load_n(&race_stop, __ATOMIC_RELAXED) &&
	       r->reads < RACE_MAX_READS) {
		dpn_clock_read(&clk, &s);
		r->reads++;
		if (s.generation != 0 && !snapshot_consistent(&s))
			r->torn++;
		if (s.generation < r->last_gen)
			r->backwards++;
		else if (s.generation > r->last_gen)
			__atomic_store_n(&r->distinct, r->distinct + 1,
					 __ATOMIC_RELAXED);
		r->last_gen = s.generation;
	}
	return NULL;
}

static void
test_seqlock_race(void **state)
{
	struct race_reader rd[2];
	pthread_t writer;
	uint64_t published = 0;
	struct dpn_clock_snapshot s;
	double start;
	unsigned int i;

	memset(rd, 0, sizeof(rd));
	dpn_clock_init(&clk);
	race_stop = 0;
	assert_int_equal(pthread_create(&writer, NULL, race_writer,
					&published), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&rd[i].thread, NULL,
						race_read, &rd[i]), 0);
	/*
	 * Half a second, longer if the readers have not yet seen the writer
	 * move (a busy machine with fewer CPUs than threads).
	 */
	start = now_s();
	for (;;) {
		double t = now_s() - start;

		if (t >= RACE_MAX_SECONDS)
			break;
		if (t >= RACE_SECONDS &&
		    __atomic_load_n(&rd[0].distinct, __ATOMIC_RELAXED) >=
		    RACE_MIN_DISTINCT &&
		    __atomic_load_n(&rd[1].distinct, __ATOMIC_RELAXED) >=
		    RACE_MIN_DISTINCT)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	__atomic_store_n(&race_stop, 1, __ATOMIC_RELAXED);
	pthread_join(writer, NULL);
	for (i = 0; i < 2; i++)
		pthread_join(rd[i].thread, NULL);

	for (i = 0; i < 2; i++) {
		if (rd[i].torn != 0)
			fail_msg("reader %u: %llu torn snapshots in %llu reads",
				 i, (unsigned long long)rd[i].torn,
				 (unsigned long long)rd[i].reads);
		assert_int_equal(rd[i].backwards, 0);
		/* The race really happened: readers saw the writer move. */
		assert_true(rd[i].distinct >= RACE_MIN_DISTINCT);
	}
	assert_true(published >= 100);
	dpn_clock_read(&clk, &s);
	assert_int_equal(s.generation, published);
	assert_true(snapshot_consistent(&s));
}

/* ------------------------------------------------------------------ */
/* Tracker */

#define HZ 2500000000ULL		/* fake TSC */
#define STEP_TICKS (HZ / 10)		/* a sample every 0.1 s */
#define STEP_NS (NS_PER_SEC / 10)
#define CNT0 0x0123456789abcdefULL

/*
 * A reference that runs @p ppm fast against the counter (an integer so
 * that it stays exact): at sample i it reads
 * T0 + i * 0.1 s * (1 + ppm * 1e-6) + extra.
 */
struct fake_ref {
	int64_t ppm;
	int64_t extra_ns;
};

static uint64_t
sample_cnt(unsigned int i)
{
	return CNT0 + (uint64_t)i * STEP_TICKS;
}

static int64_t
sample_ref(const struct fake_ref *f, unsigned int i)
{
	return T0_NS + (int64_t)i * (STEP_NS + STEP_NS / 1000000 * f->ppm) +
		f->extra_ns;
}

/* Feed samples [from, to), returning the largest |offset| among the
 * last @p tail of them.
 */
static int64_t
feed(struct dpn_clock_tracker *t, const struct fake_ref *f,
     unsigned int from, unsigned int to, unsigned int tail)
{
	int64_t worst = 0, off;
	unsigned int i;

	for (i = from; i < to; i++) {
		off = dpn_clock_tracker_sample(t, sample_cnt(i),
					       sample_ref(f, i));
		if (i + tail >= to && llabs(off) > worst)
			worst = llabs(off);
	}
	return worst;
}

static void
assert_rate_near(double got, double want, double rel)
{
	if (fabs(got / want - 1.0) > rel)
		fail_msg("ns_per_tick %.15g, want %.15g (%.3g relative)",
			 got, want, got / want - 1.0);
}

static void
test_tracker_first_sample(void **state)
{
	struct dpn_clock_tracker t;

	dpn_clock_tracker_init(&t, HZ);
	assert_true(fabs(t.ns_per_tick - 0.4) < 1e-15);
	assert_int_equal(dpn_clock_tracker_sample(&t, CNT0, T0_NS), 0);
	/* The first sample sets the clock: no step is counted. */
	assert_int_equal(t.steps, 0);
	assert_true(t.model.mult != 0);
	assert_int_equal(dpn_clock_model_ns(&t.model, CNT0), T0_NS);
	/* At the nominal rate; 0.4 ns in 32.32 is 0.23 ppb short. */
	assert_true(llabs(dpn_clock_model_ns(&t.model, CNT0 + HZ) -
			  (T0_NS + NS_PER_SEC)) <= 1);
	assert_true(llabs(dpn_clock_model_ns(&t.model, CNT0 - 10 * HZ) -
			  (T0_NS - 10 * NS_PER_SEC)) <= 3);
}

static void
test_tracker_converges(void **state)
{
	const struct fake_ref ref = { .ppm = 50 };
	const double want = 0.4 * (1.0 + 50e-6);
	struct dpn_clock_tracker t;
	int64_t worst, mid;

	dpn_clock_tracker_init(&t, HZ);
	/* Start with the model 1 ms behind the reference. */
	dpn_clock_model_set(&t.model, CNT0, T0_NS - 1000000, 0.4);
	assert_int_equal(dpn_clock_tracker_sample(&t, sample_cnt(0),
						  sample_ref(&ref, 0)),
			 1000000);
	assert_int_equal(t.steps, 0);	/* 1 ms is slewed, not stepped */

	/* 60 s of samples. */
	worst = feed(&t, &ref, 1, 600, 100);
	assert_int_equal(t.steps, 0);
	if (worst >= 1000)
		fail_msg("offset still %lld ns after 60 s", (long long)worst);
	assert_rate_near(t.ns_per_tick, want, 1e-9);
	/* Between samples too, the model is within 1 us of the reference. */
	mid = dpn_clock_model_ns(&t.model, sample_cnt(600) - STEP_TICKS / 2) -
		(sample_ref(&ref, 600) - (STEP_NS + 5000) / 2);
	assert_true(llabs(mid) < 1000);
}

static void
test_tracker_step(void **state)
{
	struct fake_ref ref = { .ppm = 50 };
	const double want = 0.4 * (1.0 + 50e-6);
	struct dpn_clock_tracker t;
	int64_t off;
	unsigned int i = 300;

	dpn_clock_tracker_init(&t, HZ);
	feed(&t, &ref, 0, i, 0);
	assert_int_equal(t.steps, 0);

	/* +200 ms: stepped, the model equals the reference right after. */
	ref.extra_ns = 200000000;
	off = dpn_clock_tracker_sample(&t, sample_cnt(i), sample_ref(&ref, i));
	assert_true(llabs(off - 200000000) < 1000);
	assert_int_equal(t.steps, 1);
	assert_int_equal(dpn_clock_model_ns(&t.model, sample_cnt(i)),
			 sample_ref(&ref, i));
	/* The frequency it had learnt survives the step. */
	assert_rate_near(t.ns_per_tick, want, 1e-8);
	i++;

	/* It keeps tracking, without another step. */
	assert_true(feed(&t, &ref, i, i + 100, 50) < 1000);
	i += 100;
	assert_int_equal(t.steps, 1);

	/* -129 ms steps back as well... */
	ref.extra_ns -= 129000000;
	off = dpn_clock_tracker_sample(&t, sample_cnt(i), sample_ref(&ref, i));
	assert_true(llabs(off + 129000000) < 1000);
	assert_int_equal(t.steps, 2);
	assert_int_equal(dpn_clock_model_ns(&t.model, sample_cnt(i)),
			 sample_ref(&ref, i));
	i++;
	feed(&t, &ref, i, i + 100, 0);
	i += 100;

	/* ...but 127 ms is within the step threshold and is slewed. */
	ref.extra_ns += 127000000;
	off = dpn_clock_tracker_sample(&t, sample_cnt(i), sample_ref(&ref, i));
	assert_true(llabs(off - 127000000) < 1000);
	assert_int_equal(t.steps, 2);
	assert_true(sample_ref(&ref, i) -
		    dpn_clock_model_ns(&t.model, sample_cnt(i)) > 126000000);
}

/*
 * A jump of @p jump_ns after 30 s of tracking: slewed out without a step,
 * the model never goes backwards nor runs more than 500 ppm off the
 * reference's rate, and the offset is gone 40 s later.
 */
static void
check_slew(int64_t jump_ns)
{
	struct fake_ref ref = { .ppm = -20 };
	const double ref_step = (double)(STEP_NS + STEP_NS / 1000000 * ref.ppm);
	struct dpn_clock_tracker t;
	int64_t prev, now, off;
	double rate;
	unsigned int i;

	dpn_clock_tracker_init(&t, HZ);
	feed(&t, &ref, 0, 300, 0);
	ref.extra_ns = jump_ns;
	prev = dpn_clock_model_ns(&t.model, sample_cnt(299));
	for (i = 300; i < 700; i++) {
		/* Model's time at this counter, before and after the update. */
		now = dpn_clock_model_ns(&t.model, sample_cnt(i));
		off = dpn_clock_tracker_sample(&t, sample_cnt(i),
					       sample_ref(&ref, i));
		assert_int_equal(t.steps, 0);
		assert_int_equal(off, sample_ref(&ref, i) - now);
		/* Continuous: an update does not move the clock. */
		assert_true(llabs(dpn_clock_model_ns(&t.model, sample_cnt(i)) -
				  now) <= 1);
		if (now <= prev)
			fail_msg("sample %u: model went from %lld to %lld", i,
				 (long long)prev, (long long)now);
		rate = (double)(now - prev) / ref_step - 1.0;
		if (fabs(rate) > DPN_CLOCK_MAX_SLEW + 1e-6)
			fail_msg("sample %u (%.1f s after a %lld ns jump): "
				 "model ran %.1f ppm off the reference", i,
				 (i - 300) / 10.0, (long long)jump_ns,
				 rate * 1e6);
		prev = now;
	}
	/* Gone, and the frequency was not disturbed for good. */
	assert_true(llabs(t.last_offset_ns) < 1000);
	assert_rate_near(t.ns_per_tick, 0.4 * (1.0 - 20e-6), 1e-8);
}

static void
test_tracker_slew_forward(void **state)
{
	check_slew(10000000);
}

static void
test_tracker_slew_backward(void **state)
{
	check_slew(-10000000);
}

static void
test_tracker_slew_small(void **state)
{
	check_slew(2000000);
}

static void
test_precision_log2(void **state)
{
	/*
	 * Rounded up, as documented: 2^p s is at least the given time.
	 * 2^-26 s = 14.90 ns, so 15 ns needs 2^-25 s = 29.8 ns.
	 */
	assert_int_equal(dpn_clock_precision_log2(15.0), -25);
	assert_int_equal(dpn_clock_precision_log2(14.9), -26);
	assert_int_equal(dpn_clock_precision_log2(ldexp(1.0, -26) * 1e9),
			 -26);
	assert_int_equal(dpn_clock_precision_log2(1000.0), -19);
	assert_int_equal(dpn_clock_precision_log2(953.0), -20);
	assert_int_equal(dpn_clock_precision_log2(0.5), -30);
	assert_int_equal(dpn_clock_precision_log2(1.0), -29);
	assert_int_equal(dpn_clock_precision_log2(1e9), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_eval),
		cmocka_unit_test(test_model_tsc_precision),
		cmocka_unit_test(test_model_rate_round_trip),
		cmocka_unit_test(test_clock_init),
		cmocka_unit_test(test_publish_read),
		cmocka_unit_test(test_seqlock_race),
		cmocka_unit_test(test_tracker_first_sample),
		cmocka_unit_test(test_tracker_converges),
		cmocka_unit_test(test_tracker_step),
		cmocka_unit_test(test_tracker_slew_forward),
		cmocka_unit_test(test_tracker_slew_backward),
		cmocka_unit_test(test_tracker_slew_small),
		cmocka_unit_test(test_precision_log2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
