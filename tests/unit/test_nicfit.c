/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/nicfit: NIC receive stamps mapped onto UTC from
 * (stamp, rx_burst UTC) pairs, driven by a simulated stamping clock
 * (net_pcap's integer microseconds, or nanoseconds of a learned rate)
 * and simulated delays: 3 us at least, an exponential tail of mean
 * 30 us, and now and then a 2 ms stall.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "dpn_nicfit.h"

#define NS_PER_SEC 1000000000LL
#define NS_PER_MS 1000000LL
/* 2024-05-01T12:00:00Z */
#define T0_NS (1714564800LL * NS_PER_SEC)
#define MIN_DELAY_NS 3000
#define MAX_UPDATES 128

/* A NIC clock, the traffic it stamps, and what the fitter gave back. */
struct sim {
	double hz;		/* nominal ticks per second */
	double drift;		/* fractional rate error of the NIC clock */
	uint64_t nic0;		/* NIC reading at T0 */
	int64_t step;		/* ticks the NIC clock was stepped by */
	uint64_t rng;
	int64_t t;		/* ns since T0 of the next packet */
	int64_t stall_from;	/* every pair in [from, to) waits 2 ms more */
	int64_t stall_to;
	unsigned int nb_updates;
	struct {
		int64_t t;	/* when update() returned it */
		bool valid;
		double dev;	/* worst |error - min delay| over 1 s on */
	} up[MAX_UPDATES];
};

/* splitmix64: deterministic, so every run sees the same traffic. */
static double
uniform(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) * 0x1p-53;
}

static void
sim_init(struct sim *s, double hz, double drift, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->hz = hz;
	s->drift = drift;
	s->rng = seed;
	/* The NIC epoch is the Unix one, plus a phase of 0.123456789 s. */
	s->nic0 = (uint64_t)(T0_NS / NS_PER_SEC) * (uint64_t)hz +
		(uint64_t)(0.123456789 * hz);
	s->stall_from = s->stall_to = -1;
}

/* What the NIC clock reads at @p t ns after T0, truncated as pcap's. */
static uint64_t
nic_stamp(const struct sim *s, int64_t t)
{
	double ticks = (double)t * s->hz * (1.0 + s->drift) / 1e9;

	return s->nic0 + (uint64_t)s->step + (uint64_t)floor(ticks);
}

/* Worst |model error - minimum delay| for packets over the next 1 s:
 * how far off the stamps of packets served with this model are. */
static double
model_dev(const struct sim *s, const struct dpn_clock_model *m)
{
	double dev, worst = 0;
	int64_t t;
	int j;

	for (j = 0; j <= 100; j++) {
		t = s->t + j * 10 * NS_PER_MS + j * 1234;
		dev = (double)(dpn_clock_model_ns(m, nic_stamp(s, t)) -
			       (T0_NS + t)) - MIN_DELAY_NS;
		if (fabs(dev) > worst)
			worst = fabs(dev);
	}
	return worst;
}

/* About 1000 pairs a second until @p until ns after T0. */
static void
sim_run(struct sim *s, struct dpn_nicfit *f, int64_t until)
{
	struct dpn_clock_model m;
	int64_t delay;

	while (s->t < until) {
		delay = MIN_DELAY_NS +
			(int64_t)(-30000.0 * log(1.0 - uniform(s)));
		if (uniform(s) < 0.002 ||
		    (s->t >= s->stall_from && s->t < s->stall_to))
			delay += 2 * NS_PER_MS;
		dpn_nicfit_add(f, nic_stamp(s, s->t), T0_NS + s->t + delay);
		if (dpn_nicfit_update(f, &m) && s->nb_updates < MAX_UPDATES) {
			s->up[s->nb_updates].t = s->t;
			s->up[s->nb_updates].valid = m.mult != 0;
			s->up[s->nb_updates].dev =
				m.mult != 0 ? model_dev(s, &m) : 0;
			s->nb_updates++;
		}
		s->t += 500000 + (int64_t)(1e6 * uniform(s));
	}
}

/* Every valid model given from @p from on is within @p bound_ns. */
static void
assert_models_good(const struct sim *s, int64_t from, double bound_ns)
{
	unsigned int i, checked = 0;

	for (i = 0; i < s->nb_updates; i++) {
		if (s->up[i].t < from || !s->up[i].valid)
			continue;
		if (s->up[i].dev >= bound_ns)
			print_error("t=%.3f s: off by %.0f ns\n",
				    s->up[i].t / 1e9, s->up[i].dev);
		assert_true(s->up[i].dev < bound_ns);
		checked++;
	}
	assert_true(checked > 0);
}

static void
assert_rate(const struct dpn_nicfit *f, const struct sim *s)
{
	struct dpn_nicfit_info info;

	dpn_nicfit_info(f, &info);
	assert_true(info.valid);
	assert_true(fabs(info.hz / (s->hz * (1.0 + s->drift)) - 1.0) < 1e-6);
}

static void
fitter_init(struct dpn_nicfit *f, double nominal_hz)
{
	struct dpn_nicfit_params p;

	dpn_nicfit_params_default(&p);
	dpn_nicfit_init(f, &p, nominal_hz);
}

/* ------------------------------------------------------------------ */

/* Nanosecond stamps at an unknown rate (+50 ppm off 1 GHz): learned. */
static void
test_ns_learned(void **state)
{
	struct dpn_nicfit f;
	struct dpn_nicfit_info info;
	struct sim s;

	sim_init(&s, 1e9, 50e-6, 1);
	fitter_init(&f, 0);
	sim_run(&s, &f, 60 * NS_PER_SEC);
	/* Rough rate in window 0, points from window 1: valid at 4 s. */
	assert_true(s.up[0].t < 5 * NS_PER_SEC);
	assert_models_good(&s, 0, 2000);
	assert_rate(&f, &s);
	dpn_nicfit_info(&f, &info);
	assert_int_equal(info.restarts, 0);
	assert_true(info.points >= 57);
	/* Mean delay over the envelope: the 30 us tail, and the stalls. */
	assert_true(info.delay_ns > 20000 && info.delay_ns < 45000);
	assert_true(info.residual_ns < 500);
}

/* net_pcap: integer microseconds of a clock 80 ppm slow. */
static void
test_us_pcap(void **state)
{
	struct dpn_nicfit f;
	struct dpn_nicfit_info info;
	struct sim s;

	sim_init(&s, 1e6, -80e-6, 2);
	fitter_init(&f, 1e6);
	sim_run(&s, &f, 60 * NS_PER_SEC);
	/* Truncation makes it up to 1 us early. */
	assert_models_good(&s, 0, 3000);
	assert_rate(&f, &s);
	dpn_nicfit_info(&f, &info);
	assert_int_equal(info.restarts, 0);
}

/* Both sizes of step of the NIC clock are followed within 5 windows. */
static void
test_jump(void **state)
{
	const int64_t jump_at[2] = { 20500 * NS_PER_MS, 40500 * NS_PER_MS };
	const int64_t jump_by[2] = { 1000, -1000 };	/* us */
	struct dpn_nicfit f;
	struct dpn_nicfit_info info;
	struct sim s;
	unsigned int i, k;
	int64_t back;

	sim_init(&s, 1e6, 50e-6, 3);
	fitter_init(&f, 1e6);
	for (k = 0; k < 2; k++) {
		sim_run(&s, &f, jump_at[k]);
		s.step += jump_by[k];
		i = s.nb_updates;
		sim_run(&s, &f, jump_at[k] + 20 * NS_PER_SEC);
		/*
		 * Within 5 windows a model is right again, and all after it.
		 * (The window that holds a step back still gives a model of
		 * the old clock: its least delays are before the step.)
		 */
		back = -1;
		for (; i < s.nb_updates && back < 0; i++)
			if (s.up[i].valid && s.up[i].dev < 3000)
				back = s.up[i].t;
		assert_true(back > 0 && back < jump_at[k] + 5 * NS_PER_SEC);
		assert_models_good(&s, back, 3000);
		dpn_nicfit_info(&f, &info);
		assert_int_equal(info.restarts, k + 1);
	}
	assert_rate(&f, &s);
}

/* A window whose every pair was stalled is dropped, not a restart. */
static void
test_outlier_window(void **state)
{
	struct dpn_nicfit f;
	struct dpn_nicfit_info info;
	struct sim s;

	sim_init(&s, 1e9, -80e-6, 4);
	fitter_init(&f, 0);
	/* 1.6 s holds one whole window, never two. */
	s.stall_from = 30 * NS_PER_SEC;
	s.stall_to = s.stall_from + 1600 * NS_PER_MS;
	sim_run(&s, &f, 60 * NS_PER_SEC);
	dpn_nicfit_info(&f, &info);
	assert_int_equal(info.restarts, 0);
	assert_int_equal(info.outliers, 1);
	assert_models_good(&s, 0, 2000);
	assert_rate(&f, &s);
}

/* Fewer envelope points than min_points: no model, however good. */
static void
test_too_few_points(void **state)
{
	struct dpn_nicfit f;
	struct dpn_nicfit_info info;
	struct sim s;
	unsigned int i;

	sim_init(&s, 1e9, 50e-6, 5);
	fitter_init(&f, 1e9);
	/* Windows close at about 1 s and 2 s: two points. */
	sim_run(&s, &f, 2500 * NS_PER_MS);
	dpn_nicfit_info(&f, &info);
	assert_false(info.valid);
	assert_int_equal(info.points, 2);
	assert_true(s.nb_updates > 0);
	for (i = 0; i < s.nb_updates; i++)
		assert_false(s.up[i].valid);
	/* The third makes it. */
	sim_run(&s, &f, 3500 * NS_PER_MS);
	dpn_nicfit_info(&f, &info);
	assert_true(info.valid);
	assert_true(s.up[s.nb_updates - 1].valid);
}

static void
run_never_valid(double hz, double nominal_hz)
{
	struct dpn_nicfit f;
	struct dpn_nicfit_info info;
	struct sim s;
	unsigned int i;

	sim_init(&s, hz, 0, 6);
	fitter_init(&f, nominal_hz);
	sim_run(&s, &f, 20 * NS_PER_SEC);
	for (i = 0; i < s.nb_updates; i++)
		assert_false(s.up[i].valid);
	dpn_nicfit_info(&f, &info);
	assert_false(info.valid);
	assert_true(info.pairs > 19000);
}

/* Stamps that cannot be a clock's never give a model. */
static void
test_absurd_rate(void **state)
{
	run_never_valid(100, 0);	/* below 1 kHz */
	run_never_valid(100e9, 0);	/* above 10 GHz */
	run_never_valid(1e9, 1e6);	/* not the unit the PMD said */
}

/*
 * Sparse pairs (3 a second, as a few clients give) whose first windows'
 * least delay is 1.3 ms, the rest 50 us: the first line's rate is off by
 * hundreds of ppm. The fit must not lock onto it: after 30 s the model
 * maps stamps to within 10 us of the true time plus 50 us.
 */
static void
test_sparse_bad_start(void **state)
{
	struct dpn_nicfit f;
	struct dpn_clock_model m;
	int64_t t0 = 1700000000000000000LL, utc = t0, err;
	uint64_t stamp = 0;
	int i;

	(void)state;
	memset(&m, 0, sizeof(m));
	dpn_nicfit_init(&f, NULL, 1e6);
	for (i = 0; i < 90; i++) {
		int64_t delay = i < 4 ? 1300000 : 50000;

		utc = t0 + (int64_t)i * 333333333LL;
		stamp = (uint64_t)((utc - delay) / 1000);
		dpn_nicfit_add(&f, stamp, utc);
		dpn_nicfit_update(&f, &m);
	}
	assert_true(m.mult != 0);
	err = dpn_clock_model_ns(&m, stamp) - (int64_t)(stamp * 1000);
	assert_true(err > 50000 - 10000 && err < 50000 + 10000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ns_learned),
		cmocka_unit_test(test_us_pcap),
		cmocka_unit_test(test_jump),
		cmocka_unit_test(test_outlier_window),
		cmocka_unit_test(test_too_few_points),
		cmocka_unit_test(test_absurd_rate),
		cmocka_unit_test(test_sparse_bad_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
