/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The upstream discipline against a simulated counter whose real rate
 * differs from its nominal one, measured by a noisy "upstream".
 */

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "dpn_discipline.h"

#define HZ 1000000000ULL	/* nominal: one tick per ns */
#define T0 1700000000000000000LL

static const struct dpn_discipline_params defaults = {
	.step_ns = 128000000, .panic_ns = 1000000000000LL,
	.stepout_ns = 300000000000LL, .allow_big_step = false,
};

/* True time of counter @p cnt for a counter that runs @p ppm fast. */
static int64_t
true_ns(uint64_t cnt, double ppm, int64_t true_at_0)
{
	return true_at_0 + (int64_t)((double)cnt / (1.0 + ppm * 1e-6));
}

static int64_t
offset_of(const struct dpn_discipline *d, uint64_t cnt, double ppm,
	  int64_t true_at_0)
{
	return true_ns(cnt, ppm, true_at_0) -
		dpn_clock_model_ns(&d->tracker.model, cnt);
}

static void
test_converges_on_frequency_and_offset(void **state)
{
	struct dpn_discipline d;
	const double ppm = 20.0;
	uint64_t cnt = 1000;
	unsigned int i;
	int64_t off = 0;

	(void)state;
	srand(1);
	dpn_discipline_init(&d, &defaults, HZ, cnt, true_ns(cnt, ppm, T0));
	/* 200 polls 16 s apart, 20 us of measurement noise. */
	for (i = 0; i < 200; i++) {
		int64_t noise = (rand() % 40001) - 20000;

		cnt += 16 * HZ;
		/* The management loop ends slews as they finish. */
		dpn_discipline_tick(&d, cnt);
		off = offset_of(&d, cnt, ppm, T0);
		assert_int_equal(dpn_discipline_update(&d, cnt, off + noise,
						       8.0, 1000000),
				 DPN_DISC_SLEWED);
	}
	/* The counter runs 20 ppm fast: the model learnt it. */
	assert_true(fabs(dpn_discipline_freq_ppm(&d) - ppm) < 0.5);
	/* And what it serves is within the noise of the truth. */
	cnt += 8 * HZ;
	dpn_discipline_tick(&d, cnt);
	off = offset_of(&d, cnt, ppm, T0);
	assert_true(llabs(off) < 30000);
	assert_int_equal(d.steps, 0);
	assert_int_equal(d.state, DPN_DISC_SYNC);
}

static void
test_slew_is_bounded(void **state)
{
	struct dpn_discipline d;
	uint64_t cnt = 0;
	int64_t before, after;

	(void)state;
	dpn_discipline_init(&d, &defaults, HZ, cnt, T0);
	/* 100 ms: below step, slewed at 500 ppm at most. */
	assert_int_equal(dpn_discipline_update(&d, cnt, 100000000, 0.5,
					       1000000), DPN_DISC_SLEWED);
	before = dpn_clock_model_ns(&d.tracker.model, cnt);
	after = dpn_clock_model_ns(&d.tracker.model, cnt + HZ);
	assert_true(after - before <= (int64_t)(HZ * (1 + 500e-6)) + 1);
	assert_true(after - before > (int64_t)HZ);
}

/* A slew removes the offset it was given, then ends. */
static void
test_slew_ends(void **state)
{
	struct dpn_discipline d;
	uint64_t cnt = 0;
	int64_t before;

	(void)state;
	dpn_discipline_init(&d, &defaults, HZ, cnt, T0);
	before = dpn_clock_model_ns(&d.tracker.model, 100 * HZ);
	assert_int_equal(dpn_discipline_update(&d, cnt, 1000000, 4.0,
					       1000000), DPN_DISC_SLEWED);
	assert_true(d.slewing);
	/* 1 ms over 4 s is 250 ppm: not over after 3 s, over after 4.1. */
	assert_false(dpn_discipline_tick(&d, 3 * HZ));
	assert_true(dpn_discipline_tick(&d, 4 * HZ + HZ / 10));
	assert_false(d.slewing);
	/* 100 s on, the model is exactly 1 ms ahead of where it was. */
	assert_true(llabs(dpn_clock_model_ns(&d.tracker.model, 100 * HZ) -
			  before - 1000000) < 10);
}

static void
test_first_big_offset_steps(void **state)
{
	struct dpn_discipline d;
	uint64_t cnt = 5000;

	(void)state;
	dpn_discipline_init(&d, &defaults, HZ, cnt, T0);
	assert_int_equal(dpn_discipline_update(&d, cnt, 2000000000LL, 8.0,
					       1000000), DPN_DISC_STEPPED);
	assert_int_equal(dpn_clock_model_ns(&d.tracker.model, cnt),
			 T0 + 2000000000LL);
	assert_int_equal(d.steps, 1);
}

static void
test_panic_refused_unless_g(void **state)
{
	struct dpn_discipline d;
	struct dpn_discipline_params p = defaults;
	int64_t big = 2000LL * 1000000000LL;

	(void)state;
	dpn_discipline_init(&d, &p, HZ, 0, T0);
	assert_int_equal(dpn_discipline_update(&d, 0, big, 8.0, 1000000),
			 DPN_DISC_PANIC_REFUSED);
	assert_int_equal(d.state, DPN_DISC_PANIC);
	assert_int_equal(dpn_clock_model_ns(&d.tracker.model, 0), T0);
	/* A sane offset afterwards is stepped as a first one would be. */
	assert_int_equal(dpn_discipline_update(&d, 0, 1000000000LL, 8.0,
					       1000000), DPN_DISC_STEPPED);

	p.allow_big_step = true;
	dpn_discipline_init(&d, &p, HZ, 0, T0);
	assert_int_equal(dpn_discipline_update(&d, 0, big, 8.0, 1000000),
			 DPN_DISC_STEPPED);
	assert_int_equal(dpn_clock_model_ns(&d.tracker.model, 0), T0 + big);
	/* -g is for the first update only. */
	assert_int_equal(dpn_discipline_update(&d, HZ, big, 8.0, 1000000),
			 DPN_DISC_PANIC_REFUSED);
}

static void
test_spike_then_stepout(void **state)
{
	struct dpn_discipline d;
	uint64_t cnt = 0;

	(void)state;
	dpn_discipline_init(&d, &defaults, HZ, cnt, T0);
	assert_int_equal(dpn_discipline_update(&d, cnt, 1000, 8.0, 1000000),
			 DPN_DISC_SLEWED);
	/* Half a second off: ignored while it lasts less than stepout. */
	cnt += 64 * HZ;
	assert_int_equal(dpn_discipline_update(&d, cnt, 500000000, 8.0,
					       1000000),
			 DPN_DISC_SPIKE_IGNORED);
	cnt += 200 * HZ;
	assert_int_equal(dpn_discipline_update(&d, cnt, 500000000, 8.0,
					       1000000),
			 DPN_DISC_SPIKE_IGNORED);
	assert_int_equal(d.steps, 0);
	/* A normal offset in between ends the spike. */
	cnt += 16 * HZ;
	assert_int_equal(dpn_discipline_update(&d, cnt, 2000, 8.0, 1000000),
			 DPN_DISC_SLEWED);
	cnt += 16 * HZ;
	assert_int_equal(dpn_discipline_update(&d, cnt, 500000000, 8.0,
					       1000000),
			 DPN_DISC_SPIKE_IGNORED);
	cnt += 301 * HZ;
	assert_int_equal(dpn_discipline_update(&d, cnt, 500000000, 8.0,
					       1000000), DPN_DISC_STEPPED);
	assert_int_equal(d.steps, 1);
}

static void
test_step_zero_never_steps(void **state)
{
	struct dpn_discipline d;
	struct dpn_discipline_params p = defaults;

	(void)state;
	p.step_ns = 0;
	dpn_discipline_init(&d, &p, HZ, 0, T0);
	assert_int_equal(dpn_discipline_update(&d, 0, 5000000000LL, 8.0,
					       1000000), DPN_DISC_SLEWED);
	assert_int_equal(d.steps, 0);
}

static void
test_freq_from_driftfile(void **state)
{
	struct dpn_discipline d;

	(void)state;
	dpn_discipline_init(&d, &defaults, HZ, 0, T0);
	assert_int_equal(dpn_discipline_set_freq_ppm(&d, -12.5), 0);
	assert_true(fabs(dpn_discipline_freq_ppm(&d) + 12.5) < 1e-6);
	assert_int_equal(dpn_discipline_set_freq_ppm(&d, 50000), -1);
	assert_true(fabs(dpn_discipline_freq_ppm(&d) + 12.5) < 1e-6);
	/* 10 ppm against 1 GHz is 1 ppm against 1.000009 GHz. */
	assert_true(fabs(dpn_driftfile_convert(10, 1000000000ULL,
					       1000009000ULL) - 0.99991) <
		    1e-3);
}

static void
test_driftfile_round_trip_and_errors(void **state)
{
	char dir[] = "/tmp/test_drift.XXXXXX", path[128], err[256];
	uint64_t hz = 0;
	double ppm = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/drift", dir);
	err[0] = '\0';
	assert_int_equal(dpn_driftfile_read(path, &ppm, &hz, err,
					    sizeof(err)), -ENOENT);
	assert_int_equal(dpn_driftfile_write(path, -3.25, 2999999000ULL, err,
					     sizeof(err)), 0);
	assert_int_equal(dpn_driftfile_read(path, &ppm, &hz, err,
					    sizeof(err)), 0);
	assert_true(ppm == -3.25);
	assert_int_equal(hz, 2999999000ULL);

	/* ntpd's drift file: just the number. */
	f = fopen(path, "w");
	fputs("12.345\n", f);
	fclose(f);
	assert_int_equal(dpn_driftfile_read(path, &ppm, &hz, err,
					    sizeof(err)), 0);
	assert_true(ppm == 12.345);
	assert_int_equal(hz, 0);

	f = fopen(path, "w");
	fputs("fast\n", f);
	fclose(f);
	assert_int_equal(dpn_driftfile_read(path, &ppm, &hz, err,
					    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a frequency"));
	unlink(path);

	/* A directory nobody can write names the file. */
	snprintf(path, sizeof(path), "%s/missing/drift", dir);
	assert_true(dpn_driftfile_write(path, 1.0, HZ, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, path));
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converges_on_frequency_and_offset),
		cmocka_unit_test(test_slew_is_bounded),
		cmocka_unit_test(test_slew_ends),
		cmocka_unit_test(test_first_big_offset_steps),
		cmocka_unit_test(test_panic_refused_unless_g),
		cmocka_unit_test(test_spike_then_stepout),
		cmocka_unit_test(test_step_zero_never_steps),
		cmocka_unit_test(test_freq_from_driftfile),
		cmocka_unit_test(test_driftfile_round_trip_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
