/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the PPS driver (lib/refclock/pps.c): fake operations
 * replay recorded edge sequences (a clean 1 Hz pulse with tens of
 * microseconds of jitter, a missed pulse, a glitch, a count that
 * disagrees with the time), and the kernel operations are tried on
 * paths that are no PPS device (these hosts have none).
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
/* 2026-01-01T00:00:00Z */
#define T0 (1767225600LL * NS_PER_S)

/* The device a test drives: what fetch returns now, and what the
 * driver asked of it. */
struct fake_pps {
	int open_ret;
	struct dpn_refclock_pps_edge cur;
	int fetch_ret;
	char path[64];
	bool clear;
	unsigned int opens, fetches, closes;
};

static int
fake_open(void *arg, const char *path, bool clear)
{
	struct fake_pps *f = arg;

	snprintf(f->path, sizeof(f->path), "%s", path);
	f->clear = clear;
	f->opens++;
	return f->open_ret;
}

static int
fake_fetch(void *arg, int handle, struct dpn_refclock_pps_edge *e)
{
	struct fake_pps *f = arg;

	assert_int_equal(handle, 3);
	f->fetches++;
	if (f->fetch_ret < 0)
		return f->fetch_ret;
	*e = f->cur;
	return 0;
}

static void
fake_close(void *arg, int handle)
{
	struct fake_pps *f = arg;

	assert_int_equal(handle, 3);
	f->closes++;
}

static void
open_fake(struct dpn_refclock_pps *p, struct fake_pps *f, bool clear)
{
	const struct dpn_refclock_pps_ops ops = {
		fake_open, fake_fetch, fake_close, f
	};
	char err[128] = "";

	memset(f, 0, sizeof(*f));
	f->open_ret = 3;
	assert_int_equal(dpn_refclock_pps_open(p, "/dev/pps0", clear, &ops,
					       err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(f->opens, 1);
	assert_string_equal(f->path, "/dev/pps0");
}

/* The device captures edge @p seq at @p sys_ns; read it. */
static int
edge(struct dpn_refclock_pps *p, struct fake_pps *f, uint64_t seq,
     int64_t sys_ns, struct dpn_refclock_reading *r)
{
	f->cur.seq = seq;
	f->cur.sys_ns = sys_ns;
	memset(r, 0xa5, sizeof(*r));
	return dpn_refclock_pps_read(p, r);
}

/* Ten edges of a GNSS receiver's pulse as a serial port's interrupt
 * saw them: the phase within the second, in ns (host clock on time). */
static const int64_t jitter_ns[] = {
	12400, -37100, 41800, 3900, -15200, 28700, -44600, 9300, 36100,
	-8800,
};
#define NB_EDGES (sizeof(jitter_ns) / sizeof(jitter_ns[0]))

/* A clean pulse with the host clock @p host_off_ns off: every edge is a
 * reading, its reference the nearest whole second. */
static void
replay_clean(int64_t host_off_ns, int64_t want_first_ref)
{
	struct dpn_refclock_reading r;
	struct dpn_refclock_pps p;
	struct fake_pps f;
	unsigned int i;
	int64_t t;

	open_fake(&p, &f, false);
	for (i = 0; i < NB_EDGES; i++) {
		t = T0 + (int64_t)i * NS_PER_S + host_off_ns + jitter_ns[i];
		assert_int_equal(edge(&p, &f, 1000 + i, t, &r), 1);
		assert_true(r.pulse);
		assert_int_equal(r.leap, 0);
		assert_int_equal(r.sys_ns, t);
		assert_int_equal(r.ref_ns,
				 want_first_ref + (int64_t)i * NS_PER_S);
	}
	assert_int_equal(p.samples, NB_EDGES);
	assert_int_equal(p.bad, 0);
	dpn_refclock_pps_close(&p);
	assert_int_equal(f.closes, 1);
}

static void
test_clean_sequence(void **state)
{
	replay_clean(0, T0);
}

static void
test_host_clock_off(void **state)
{
	/* 0.3 s fast: the edge of second k is seen at k + 0.3. */
	replay_clean(300000000, T0);
	/* 0.3 s slow: seen at k - 0.3, still second k. */
	replay_clean(-300000000, T0);
	/* 0.7 s fast: the nearest second is the next one; the pulse
	 * says nothing more. */
	replay_clean(700000000, T0 + NS_PER_S);
}

static void
test_same_sequence(void **state)
{
	struct dpn_refclock_reading r;
	struct dpn_refclock_pps p;
	struct fake_pps f;

	open_fake(&p, &f, false);
	/* Before the first edge Linux reports sequence 0, time 0. */
	assert_int_equal(edge(&p, &f, 0, 0, &r), 0);
	assert_int_equal(edge(&p, &f, 7, T0 + 1200, &r), 1);
	assert_int_equal(edge(&p, &f, 7, T0 + 1200, &r), 0);
	assert_int_equal(edge(&p, &f, 7, T0 + 1200, &r), 0);
	assert_int_equal(f.fetches, 4);
	assert_int_equal(p.samples, 1);
	assert_int_equal(p.bad, 0);
	assert_int_equal(edge(&p, &f, 8, T0 + NS_PER_S - 800, &r), 1);
	assert_int_equal(r.ref_ns, T0 + NS_PER_S);
}

static void
test_missed_pulse(void **state)
{
	struct dpn_refclock_reading r;
	struct dpn_refclock_pps p;
	struct fake_pps f;

	open_fake(&p, &f, false);
	assert_int_equal(edge(&p, &f, 41, T0 + 21000, &r), 1);
	/* One pulse not seen (the interrupt was lost): two counts,
	 * two seconds. */
	assert_int_equal(edge(&p, &f, 43, T0 + 2 * NS_PER_S - 17000, &r), 1);
	assert_int_equal(r.ref_ns, T0 + 2 * NS_PER_S);
	/* A minute without pulses (the receiver lost its fix). */
	assert_int_equal(edge(&p, &f, 103, T0 + 62 * NS_PER_S + 5000, &r), 1);
	assert_int_equal(r.ref_ns, T0 + 62 * NS_PER_S);
	assert_int_equal(p.samples, 3);
	assert_int_equal(p.bad, 0);
}

static void
test_spurious_edge(void **state)
{
	struct dpn_refclock_reading r;
	struct dpn_refclock_pps p;
	struct fake_pps f;

	open_fake(&p, &f, false);
	assert_int_equal(edge(&p, &f, 10, T0 + 4000, &r), 1);
	/* A glitch on the line 0.3 s after the pulse. */
	assert_int_equal(edge(&p, &f, 11, T0 + 300004000, &r), -EINVAL);
	assert_int_equal(p.bad, 1);
	/* The next pulse is judged against the glitch (0.7 s for one
	 * count): refused too. */
	assert_int_equal(edge(&p, &f, 12, T0 + NS_PER_S + 2000, &r),
			 -EINVAL);
	assert_int_equal(p.bad, 2);
	/* And the one after is a clean second again. */
	assert_int_equal(edge(&p, &f, 13, T0 + 2 * NS_PER_S - 3000, &r), 1);
	assert_int_equal(r.ref_ns, T0 + 2 * NS_PER_S);
	assert_int_equal(p.samples, 2);
	/* Just inside the limit: 0.197 s off a whole second is a pulse. */
	assert_int_equal(edge(&p, &f, 14, T0 + 3 * NS_PER_S + 197000000, &r),
			 1);
	assert_int_equal(r.ref_ns, T0 + 3 * NS_PER_S);
}

static void
test_sequence_disagrees(void **state)
{
	struct dpn_refclock_reading r;
	struct dpn_refclock_pps p;
	struct fake_pps f;

	open_fake(&p, &f, false);
	assert_int_equal(edge(&p, &f, 500, T0 + 9000, &r), 1);
	/* One count but two seconds: a pulse lost without its count. */
	assert_int_equal(edge(&p, &f, 501, T0 + 2 * NS_PER_S + 9000, &r),
			 -EINVAL);
	/* Three counts in one second. */
	assert_int_equal(edge(&p, &f, 504, T0 + 3 * NS_PER_S + 9000, &r),
			 -EINVAL);
	/* The count went back (the device was reset). */
	assert_int_equal(edge(&p, &f, 2, T0 + 4 * NS_PER_S + 9000, &r),
			 -EINVAL);
	/* The time went back (the host clock stepped). */
	assert_int_equal(edge(&p, &f, 3, T0 + 3 * NS_PER_S + 9000, &r),
			 -EINVAL);
	assert_int_equal(p.bad, 4);
	assert_int_equal(p.samples, 1);
	/* From here the device is followed again. */
	assert_int_equal(edge(&p, &f, 4, T0 + 4 * NS_PER_S + 8000, &r), 1);
	assert_int_equal(p.samples, 2);
}

static void
test_device_error(void **state)
{
	struct dpn_refclock_reading r;
	struct dpn_refclock_pps p;
	struct fake_pps f;

	open_fake(&p, &f, false);
	assert_int_equal(edge(&p, &f, 20, T0 + 100, &r), 1);
	f.fetch_ret = -EIO;
	assert_int_equal(edge(&p, &f, 21, T0 + NS_PER_S, &r), -EIO);
	f.fetch_ret = -ENODEV;
	assert_int_equal(edge(&p, &f, 21, T0 + NS_PER_S, &r), -ENODEV);
	assert_int_equal(p.bad, 0);
	assert_int_equal(p.samples, 1);
	/* The edges missed meanwhile are not held against the next. */
	f.fetch_ret = 0;
	assert_int_equal(edge(&p, &f, 23, T0 + 3 * NS_PER_S + 50, &r), 1);
	assert_int_equal(r.ref_ns, T0 + 3 * NS_PER_S);
	/* A closed driver does not reach the device. */
	dpn_refclock_pps_close(&p);
	dpn_refclock_pps_close(&p);
	assert_int_equal(f.closes, 1);
	assert_int_equal(dpn_refclock_pps_read(&p, &r), -EBADF);
	assert_int_equal(f.fetches, 4);
}

static void
expect_open_error(int open_ret, bool clear, const char *want)
{
	struct fake_pps f = { .open_ret = open_ret };
	const struct dpn_refclock_pps_ops ops = {
		fake_open, fake_fetch, fake_close, &f
	};
	struct dpn_refclock_pps p;
	char err[128] = "";

	assert_int_equal(dpn_refclock_pps_open(&p, "/dev/pps1", clear, &ops,
					       err, sizeof(err)), open_ret);
	assert_string_equal(err, want);
	assert_int_equal(p.handle, -1);
	dpn_refclock_pps_close(&p);
	assert_int_equal(f.closes, 0);
}

static void
test_open_errors(void **state)
{
	expect_open_error(-ENOENT, false,
			  "pps /dev/pps1: No such file or directory");
	expect_open_error(-EACCES, false, "pps /dev/pps1: Permission denied");
	expect_open_error(-ENOTTY, false, "pps /dev/pps1: not a PPS device");
	expect_open_error(-EOPNOTSUPP, true,
			  "pps /dev/pps1: the device cannot capture the "
			  "clear edge");
	expect_open_error(-EPERM, false,
			  "pps /dev/pps1: cannot switch the device to the "
			  "assert edge (needs CAP_SYS_TIME)");
}

static void
test_clear_flag(void **state)
{
	struct dpn_refclock_pps p;
	struct fake_pps f;

	open_fake(&p, &f, true);
	assert_true(f.clear);
	assert_true(p.clear);
	dpn_refclock_pps_close(&p);
	open_fake(&p, &f, false);
	assert_false(f.clear);
	assert_false(p.clear);
	dpn_refclock_pps_close(&p);
}

/* The real operations on paths without a PPS device behind them. */
static void
test_kernel_not_there(void **state)
{
	struct dpn_refclock_pps_edge e;
	struct dpn_refclock_pps p;
	char err[128] = "";

	assert_int_equal(dpn_refclock_pps_open(&p, "/dev/pps-does-not-exist",
					       false, NULL, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "pps /dev/pps-does-not-exist: "
			    "No such file or directory");
	assert_int_equal(p.handle, -1);

	/* A device that answers no PPS ioctl. */
	assert_int_equal(dpn_refclock_pps_open(&p, "/dev/null", true, NULL,
					       err, sizeof(err)), -ENOTTY);
	assert_string_equal(err, "pps /dev/null: not a PPS device");

	/* Handles never given out. */
	assert_int_equal(dpn_refclock_pps_kernel_ops.fetch(NULL, 0, &e),
			 -EBADF);
	assert_int_equal(dpn_refclock_pps_kernel_ops.fetch(NULL, -1, &e),
			 -EBADF);
	assert_int_equal(dpn_refclock_pps_kernel_ops.fetch(NULL, 1000, &e),
			 -EBADF);
	dpn_refclock_pps_kernel_ops.close(NULL, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_sequence),
		cmocka_unit_test(test_host_clock_off),
		cmocka_unit_test(test_same_sequence),
		cmocka_unit_test(test_missed_pulse),
		cmocka_unit_test(test_spurious_edge),
		cmocka_unit_test(test_sequence_disagrees),
		cmocka_unit_test(test_device_error),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_clear_flag),
		cmocka_unit_test(test_kernel_not_there),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
