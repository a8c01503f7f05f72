/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the refclock filter (lib/refclock/filter.c): exact
 * samples of small sets, a late reading dropped as an outlier, more
 * readings than it holds (the newest 64 win), server times near today's
 * without overflow, and an empty filter.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dpn_refclock.h"

static unsigned int
take(struct dpn_refclock_filter *f, int64_t *off, int64_t *at, int64_t *disp)
{
	*off = *at = *disp = -12345;
	return dpn_refclock_filter_take(f, off, at, disp);
}

static void
test_empty(void **state)
{
	struct dpn_refclock_filter f;
	int64_t off, at, disp;

	dpn_refclock_filter_reset(&f);
	assert_int_equal(take(&f, &off, &at, &disp), 0);
	/* Nothing written for an empty interval. */
	assert_int_equal(off, -12345);
	assert_int_equal(at, -12345);
	assert_int_equal(disp, -12345);
}

static void
test_one_and_two(void **state)
{
	struct dpn_refclock_filter f;
	int64_t off, at, disp;

	dpn_refclock_filter_reset(&f);
	dpn_refclock_filter_add(&f, 100, 5);
	assert_int_equal(take(&f, &off, &at, &disp), 1);
	assert_int_equal(off, 100);
	assert_int_equal(at, 5);
	assert_int_equal(disp, 0);
	/* take empties. */
	assert_int_equal(take(&f, &off, &at, &disp), 0);

	dpn_refclock_filter_add(&f, 300, 20);
	dpn_refclock_filter_add(&f, 100, 10);
	assert_int_equal(take(&f, &off, &at, &disp), 2);
	assert_int_equal(off, 200);
	assert_int_equal(at, 15);
	assert_int_equal(disp, 100);	/* half the spread */

	/* Means round to the nearest ns, halves up. */
	dpn_refclock_filter_add(&f, -1, 1);
	dpn_refclock_filter_add(&f, -2, 2);
	assert_int_equal(take(&f, &off, &at, &disp), 2);
	assert_int_equal(off, -1);
	assert_int_equal(at, 2);
	assert_int_equal(disp, 1);
}

static void
test_three_stddev(void **state)
{
	struct dpn_refclock_filter f;
	int64_t off, at, disp;

	dpn_refclock_filter_reset(&f);
	dpn_refclock_filter_add(&f, 60, 3);
	dpn_refclock_filter_add(&f, 10, 1);
	dpn_refclock_filter_add(&f, 20, 2);
	/* Four or fewer: floor(n / 5) = 0 dropped. */
	assert_int_equal(take(&f, &off, &at, &disp), 3);
	assert_int_equal(off, 30);
	assert_int_equal(at, 2);
	/* (400 + 100 + 900) / (3 - 1) = 700, sqrt = 26.46. */
	assert_int_equal(disp, 26);
}

static void
test_outliers_dropped(void **state)
{
	struct dpn_refclock_filter f;
	int64_t off, at, disp;
	int i;

	/* Five readings, one late by 100 us: one dropped each side. */
	dpn_refclock_filter_reset(&f);
	dpn_refclock_filter_add(&f, 101, 2);
	dpn_refclock_filter_add(&f, 100000, 5);
	dpn_refclock_filter_add(&f, 100, 1);
	dpn_refclock_filter_add(&f, 103, 4);
	dpn_refclock_filter_add(&f, 102, 3);
	assert_int_equal(take(&f, &off, &at, &disp), 3);
	assert_int_equal(off, 102);
	assert_int_equal(at, 3);
	assert_int_equal(disp, 1);

	/* Ten: two dropped each side, whichever side they are on. */
	for (i = 0; i < 8; i++)
		dpn_refclock_filter_add(&f, 1000 + i, 10 * i);
	dpn_refclock_filter_add(&f, -5000000, 80);
	dpn_refclock_filter_add(&f, 7000000, 90);
	assert_int_equal(take(&f, &off, &at, &disp), 6);
	/* Kept 1001..1006 at 10..60. */
	assert_int_equal(off, 1004);	/* 1003.5 rounded up */
	assert_int_equal(at, 35);
	assert_int_equal(disp, 2);	/* sqrt(17.5 / 5) = 1.87 */
}

static void
test_overflow_keeps_newest(void **state)
{
	struct dpn_refclock_filter f;
	int64_t off, at, disp;
	unsigned int i;
	int64_t seen[DPN_REFCLOCK_FILTER_MAX] = {0};

	/* 36 old readings far off, then 64 good ones: the old ones must be
	 * gone, not averaged in. */
	dpn_refclock_filter_reset(&f);
	for (i = 0; i < 36; i++)
		dpn_refclock_filter_add(&f, 1000000000, i);
	for (i = 0; i < 64; i++)
		dpn_refclock_filter_add(&f, i, 100 + i);
	assert_int_equal(f.n, DPN_REFCLOCK_FILTER_MAX);
	for (i = 0; i < f.n; i++) {
		assert_in_range(f.offset_ns[i], 0, 63);
		assert_int_equal(f.at_ns[i], 100 + f.offset_ns[i]);
		seen[f.offset_ns[i]]++;
	}
	for (i = 0; i < DPN_REFCLOCK_FILTER_MAX; i++)
		assert_int_equal(seen[i], 1);

	/* 64 -> 12 dropped each side, 40 kept: 12..51. */
	assert_int_equal(take(&f, &off, &at, &disp), 40);
	assert_int_equal(off, 32);	/* 31.5 */
	assert_int_equal(at, 132);
	/* Sample sd of 40 consecutive integers: sqrt(40 * 41 / 12). */
	assert_int_equal(disp, 12);
	assert_int_equal(f.n, 0);
}

static void
test_server_times_no_overflow(void **state)
{
	struct dpn_refclock_filter f;
	const int64_t t0 = 1800000000LL * 1000000000LL;
	int64_t off, at, disp;
	int i;

	/* 64 times near 2027: their plain sum would overflow int64. */
	dpn_refclock_filter_reset(&f);
	for (i = 0; i < 64; i++)
		dpn_refclock_filter_add(&f, -250000 + (i % 2), t0 + i * 1000);
	assert_int_equal(take(&f, &off, &at, &disp), 40);
	/* Sorted by offset (time breaks ties): kept 20 of the 32 even
	 * readings at 24000..62000 and 20 odd at 1000..39000. */
	assert_int_equal(off, -249999);	/* -249999.5 */
	assert_int_equal(at, t0 + 31500);
	assert_int_equal(disp, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_one_and_two),
		cmocka_unit_test(test_three_stddev),
		cmocka_unit_test(test_outliers_dropped),
		cmocka_unit_test(test_overflow_keeps_newest),
		cmocka_unit_test(test_server_times_no_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
