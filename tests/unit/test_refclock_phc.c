/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the PHC driver (lib/refclock/phc.c): fake operations
 * replay recorded offset triplets for each PTP_SYS_OFFSET method, so
 * the tests pick methods, windows and fallbacks exactly; the kernel
 * operations are tried on paths that are no PTP clock (these hosts
 * have none).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dpn_refclock.h"

#define NS_PER_S 1000000000LL
/* 2026-01-01T00:00:00Z on the host; the PHC runs on TAI, 37 s ahead,
 * and 250 ns off. */
#define T0 (1767225600LL * NS_PER_S)
#define PHC0 (T0 + 37 * NS_PER_S + 250)

#define P DPN_REFCLOCK_PHC_PRECISE
#define E DPN_REFCLOCK_PHC_EXTENDED
#define B DPN_REFCLOCK_PHC_BASIC

/* A cross-timestamp of ptp_kvm: one instant on both clocks. */
static const struct dpn_refclock_phc_read precise = {
	.n = 1,
	.before = { T0 + 5000 },
	.phc = { PHC0 + 5000 },
	.after = { T0 + 5000 },
};

/* PTP_SYS_OFFSET_EXTENDED on an i210: windows of 1.3 to 2.5 us; the
 * narrowest (1313 ns, odd) is number 6. Number 8 has the host clock
 * going back 15 ns inside the read (a step): the narrowest if its sign
 * were ignored. */
static const struct dpn_refclock_phc_read extended = {
	.n = 10,
	.before = { T0 + 0, T0 + 4105, T0 + 8020, T0 + 11600, T0 + 16450,
		    T0 + 21030, T0 + 27001, T0 + 31020, T0 + 36110,
		    T0 + 40300 },
	.phc = { PHC0 + 1530, PHC0 + 5300, PHC0 + 8990, PHC0 + 12410,
		 PHC0 + 17100, PHC0 + 22200, PHC0 + 27940, PHC0 + 31900,
		 PHC0 + 36100, PHC0 + 41000 },
	.after = { T0 + 2480, T0 + 5890, T0 + 9391, T0 + 13910, T0 + 17799,
		   T0 + 23100, T0 + 28314, T0 + 32650, T0 + 36095,
		   T0 + 41705 },
};
#define EXT_SYS (T0 + 27001 + 1313 / 2)
#define EXT_REF (PHC0 + 27940)

/* PTP_SYS_OFFSET on the same NIC: host reads around whole driver
 * calls, each shared by two neighbours; the narrowest is number 3. */
static const struct dpn_refclock_phc_read basic = {
	.n = 10,
	.before = { T0 + 0, T0 + 6900, T0 + 12800, T0 + 19950, T0 + 24410,
		    T0 + 31000, T0 + 37700, T0 + 43020, T0 + 49900,
		    T0 + 55010 },
	.phc = { PHC0 + 3600, PHC0 + 9800, PHC0 + 16500, PHC0 + 22150,
		 PHC0 + 27700, PHC0 + 34300, PHC0 + 40400, PHC0 + 46400,
		 PHC0 + 52500, PHC0 + 58900 },
	.after = { T0 + 6900, T0 + 12800, T0 + 19950, T0 + 24410, T0 + 31000,
		   T0 + 37700, T0 + 43020, T0 + 49900, T0 + 55010,
		   T0 + 62300 },
};
#define BASIC_SYS (T0 + 19950 + (24410 - 19950) / 2)
#define BASIC_REF (PHC0 + 22150)

/* The device a test drives: each method's answer, and what the driver
 * asked of it. */
struct fake_phc {
	int open_ret;
	int ret[DPN_REFCLOCK_PHC_NONE];
	struct dpn_refclock_phc_read data[DPN_REFCLOCK_PHC_NONE];
	unsigned int calls[DPN_REFCLOCK_PHC_NONE];
	unsigned int nb[DPN_REFCLOCK_PHC_NONE];
	char path[64];
	unsigned int closes;
};

static int
fake_open(void *arg, const char *path)
{
	struct fake_phc *f = arg;

	snprintf(f->path, sizeof(f->path), "%s", path);
	return f->open_ret;
}

static int
fake_read(void *arg, int handle, enum dpn_refclock_phc_method m,
	  unsigned int nb_samples, struct dpn_refclock_phc_read *out)
{
	struct fake_phc *f = arg;

	assert_int_equal(handle, 5);
	assert_true(m < DPN_REFCLOCK_PHC_NONE);
	f->calls[m]++;
	f->nb[m] = nb_samples;
	if (f->ret[m] < 0)
		return f->ret[m];
	*out = f->data[m];
	return 0;
}

static void
fake_close(void *arg, int handle)
{
	struct fake_phc *f = arg;

	assert_int_equal(handle, 5);
	f->closes++;
}

/* A device that has the methods whose @p ret is 0. */
static void
fake_init(struct fake_phc *f, int ret_p, int ret_e, int ret_b)
{
	memset(f, 0, sizeof(*f));
	f->open_ret = 5;
	f->ret[P] = ret_p;
	f->ret[E] = ret_e;
	f->ret[B] = ret_b;
	f->data[P] = precise;
	f->data[E] = extended;
	f->data[B] = basic;
}

static int
open_fake(struct dpn_refclock_phc *p, struct fake_phc *f, char *err,
	  size_t errlen)
{
	const struct dpn_refclock_phc_ops ops = {
		fake_open, fake_read, fake_close, f
	};

	err[0] = '\0';
	return dpn_refclock_phc_open(p, "/dev/ptp1", &ops, err, errlen);
}

static void
expect_reading(struct dpn_refclock_phc *p, int64_t sys_ns, int64_t ref_ns,
	       int64_t width_ns)
{
	struct dpn_refclock_reading r;

	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(dpn_refclock_phc_sample(p, &r), 1);
	assert_int_equal(r.sys_ns, sys_ns);
	assert_int_equal(r.ref_ns, ref_ns);
	assert_int_equal(r.leap, 0);
	assert_false(r.pulse);
	assert_int_equal(p->last_width_ns, width_ns);
}

static void
test_precise_chosen(void **state)
{
	struct dpn_refclock_phc p;
	struct fake_phc f;
	char err[256];

	fake_init(&f, 0, 0, 0);
	assert_int_equal(open_fake(&p, &f, err, sizeof(err)), 0);
	assert_string_equal(f.path, "/dev/ptp1");
	assert_int_equal(p.method, P);
	/* The probe stops at the first method that works. */
	assert_int_equal(f.calls[P], 1);
	assert_int_equal(f.calls[E] + f.calls[B], 0);

	expect_reading(&p, T0 + 5000, PHC0 + 5000, 0);
	assert_int_equal(f.nb[P], 1);
	assert_int_equal(p.samples, 1);
	assert_int_equal(p.errors, 0);
	dpn_refclock_phc_close(&p);
	dpn_refclock_phc_close(&p);
	assert_int_equal(f.closes, 1);
	assert_int_equal(p.handle, -1);
}

static void
test_extended_without_precise(void **state)
{
	struct dpn_refclock_phc p;
	struct fake_phc f;
	char err[256];

	fake_init(&f, -EOPNOTSUPP, 0, 0);
	assert_int_equal(open_fake(&p, &f, err, sizeof(err)), 0);
	assert_int_equal(p.method, E);
	assert_int_equal(f.calls[B], 0);

	/* The narrowest window, not the (negative) number 8. */
	expect_reading(&p, EXT_SYS, EXT_REF, 1313);
	assert_int_equal(f.nb[E], DPN_REFCLOCK_PHC_SAMPLES);
	assert_int_equal(f.calls[P], 1);
	dpn_refclock_phc_close(&p);
}

static void
test_basic_last(void **state)
{
	struct dpn_refclock_phc p;
	struct fake_phc f;
	char err[256];

	fake_init(&f, -EOPNOTSUPP, -EOPNOTSUPP, 0);
	assert_int_equal(open_fake(&p, &f, err, sizeof(err)), 0);
	assert_int_equal(p.method, B);
	expect_reading(&p, BASIC_SYS, BASIC_REF, 24410 - 19950);
	assert_int_equal(f.nb[B], DPN_REFCLOCK_PHC_SAMPLES);
	dpn_refclock_phc_close(&p);
}

static void
test_no_method(void **state)
{
	struct dpn_refclock_reading r;
	struct dpn_refclock_phc p;
	struct fake_phc f;
	char err[256];

	fake_init(&f, -EOPNOTSUPP, -EOPNOTSUPP, -EOPNOTSUPP);
	assert_int_equal(open_fake(&p, &f, err, sizeof(err)), -EOPNOTSUPP);
	assert_string_equal(err, "phc /dev/ptp1: cannot read it against the "
			    "host clock (all three PTP_SYS_OFFSET ioctls: "
			    "Operation not supported)");
	assert_int_equal(p.method, DPN_REFCLOCK_PHC_NONE);
	assert_int_equal(p.handle, -1);
	assert_int_equal(f.closes, 1);
	assert_int_equal(dpn_refclock_phc_sample(&p, &r), -EBADF);
	dpn_refclock_phc_close(&p);
	assert_int_equal(f.closes, 1);

	/* Different reasons: each method's. */
	fake_init(&f, -EOPNOTSUPP, -EOPNOTSUPP, -EIO);
	assert_int_equal(open_fake(&p, &f, err, sizeof(err)), -EIO);
	assert_string_equal(err, "phc /dev/ptp1: cannot read it against the "
			    "host clock (PTP_SYS_OFFSET_PRECISE: Operation "
			    "not supported; PTP_SYS_OFFSET_EXTENDED: "
			    "Operation not supported; PTP_SYS_OFFSET: "
			    "Input/output error)");
	dpn_refclock_phc_close(&p);

	/* A method that is there but fails is passed over too. */
	fake_init(&f, -EIO, 0, 0);
	assert_int_equal(open_fake(&p, &f, err, sizeof(err)), 0);
	assert_int_equal(p.method, E);
	dpn_refclock_phc_close(&p);
}

static void
test_negative_window(void **state)
{
	struct dpn_refclock_reading r;
	struct dpn_refclock_phc p;
	struct fake_phc f;
	char err[256];
	unsigned int i;

	fake_init(&f, -EOPNOTSUPP, 0, 0);
	/* Only two triplets: a step backwards in the first. */
	f.data[E].n = 2;
	f.data[E].after[0] = f.data[E].before[0] - 1;
	assert_int_equal(open_fake(&p, &f, err, sizeof(err)), 0);
	expect_reading(&p, T0 + 4105 + (5890 - 4105) / 2, PHC0 + 5300,
		       5890 - 4105);

	/* None usable: no reading, an error. */
	f.data[E] = extended;
	for (i = 0; i < f.data[E].n; i++)
		f.data[E].after[i] = f.data[E].before[i] - 10;
	assert_int_equal(dpn_refclock_phc_sample(&p, &r), -EAGAIN);
	assert_int_equal(p.errors, 1);
	assert_int_equal(p.samples, 1);
	assert_int_equal(p.last_width_ns, 5890 - 4105);
	dpn_refclock_phc_close(&p);
}

static void
test_fallback(void **state)
{
	struct dpn_refclock_reading r;
	struct dpn_refclock_phc p;
	struct fake_phc f;
	char err[256];

	fake_init(&f, 0, 0, 0);
	assert_int_equal(open_fake(&p, &f, err, sizeof(err)), 0);
	expect_reading(&p, T0 + 5000, PHC0 + 5000, 0);

	/* The cross-timestamp goes away: the same sample comes from the
	 * next method, which stays. */
	f.ret[P] = -EOPNOTSUPP;
	expect_reading(&p, EXT_SYS, EXT_REF, 1313);
	assert_int_equal(p.method, E);
	assert_int_equal(p.errors, 0);
	expect_reading(&p, EXT_SYS, EXT_REF, 1313);
	assert_int_equal(f.calls[P], 3);
	assert_int_equal(f.calls[E], 2);
	dpn_refclock_phc_close(&p);

	/* Two go away at once: one step per sample. */
	fake_init(&f, 0, 0, 0);
	assert_int_equal(open_fake(&p, &f, err, sizeof(err)), 0);
	f.ret[P] = f.ret[E] = -EOPNOTSUPP;
	assert_int_equal(dpn_refclock_phc_sample(&p, &r), -EOPNOTSUPP);
	assert_int_equal(p.method, E);
	assert_int_equal(p.errors, 1);
	assert_int_equal(f.calls[B], 0);
	expect_reading(&p, BASIC_SYS, BASIC_REF, 24410 - 19950);
	assert_int_equal(p.method, B);

	/* Nothing below the last. */
	f.ret[B] = -EOPNOTSUPP;
	assert_int_equal(dpn_refclock_phc_sample(&p, &r), -EOPNOTSUPP);
	assert_int_equal(p.method, B);
	assert_int_equal(p.errors, 2);
	assert_int_equal(p.samples, 1);
	dpn_refclock_phc_close(&p);
}

static void
test_errors_counted(void **state)
{
	struct dpn_refclock_reading r;
	struct dpn_refclock_phc p;
	struct fake_phc f;
	char err[256];

	fake_init(&f, -EOPNOTSUPP, 0, 0);
	assert_int_equal(open_fake(&p, &f, err, sizeof(err)), 0);
	expect_reading(&p, EXT_SYS, EXT_REF, 1313);

	/* A failing device is not a missing method: no fallback. */
	f.ret[E] = -EIO;
	assert_int_equal(dpn_refclock_phc_sample(&p, &r), -EIO);
	f.ret[E] = -ENODEV;
	assert_int_equal(dpn_refclock_phc_sample(&p, &r), -ENODEV);
	assert_int_equal(p.method, E);
	assert_int_equal(f.calls[B], 0);

	/* A read that claims no triplets, or more than were asked. */
	f.ret[E] = 0;
	f.data[E].n = 0;
	assert_int_equal(dpn_refclock_phc_sample(&p, &r), -EIO);
	f.data[E].n = DPN_REFCLOCK_PHC_SAMPLES + 1;
	assert_int_equal(dpn_refclock_phc_sample(&p, &r), -EIO);
	assert_int_equal(p.errors, 4);
	assert_int_equal(p.samples, 1);

	f.data[E] = extended;
	expect_reading(&p, EXT_SYS, EXT_REF, 1313);
	assert_int_equal(p.samples, 2);
	assert_int_equal(p.errors, 4);
	dpn_refclock_phc_close(&p);
}

static void
test_open_error(void **state)
{
	struct dpn_refclock_reading r;
	struct dpn_refclock_phc p;
	struct fake_phc f;
	char err[256];

	fake_init(&f, 0, 0, 0);
	f.open_ret = -EACCES;
	assert_int_equal(open_fake(&p, &f, err, sizeof(err)), -EACCES);
	assert_string_equal(err, "phc /dev/ptp1: Permission denied");
	assert_int_equal(p.handle, -1);
	assert_int_equal(f.calls[P] + f.calls[E] + f.calls[B], 0);
	assert_int_equal(dpn_refclock_phc_sample(&p, &r), -EBADF);
	dpn_refclock_phc_close(&p);
	assert_int_equal(f.closes, 0);
}

/* The real operations on paths without a PTP clock behind them. */
static void
test_kernel_not_there(void **state)
{
	struct dpn_refclock_phc_read rd;
	struct dpn_refclock_phc p;
	char err[256] = "";

	assert_int_equal(dpn_refclock_phc_open(&p, "/dev/ptp-does-not-exist",
					       NULL, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "phc /dev/ptp-does-not-exist: "
			    "No such file or directory");
	assert_int_equal(p.handle, -1);

	/* A device that answers none of the ioctls (ENOTTY). */
	assert_int_equal(dpn_refclock_phc_open(&p, "/dev/null", NULL, err,
					       sizeof(err)), -EOPNOTSUPP);
	assert_non_null(strstr(err, "phc /dev/null: cannot read it"));
	assert_int_equal(p.method, DPN_REFCLOCK_PHC_NONE);

	assert_int_equal(dpn_refclock_phc_kernel_ops.read(NULL, -1, P, 1, &rd),
			 -EBADF);
	assert_int_equal(dpn_refclock_phc_kernel_ops.read(NULL, -1, B, 10,
							  &rd), -EBADF);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precise_chosen),
		cmocka_unit_test(test_extended_without_precise),
		cmocka_unit_test(test_basic_last),
		cmocka_unit_test(test_no_method),
		cmocka_unit_test(test_negative_window),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_errors_counted),
		cmocka_unit_test(test_open_error),
		cmocka_unit_test(test_kernel_not_there),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
