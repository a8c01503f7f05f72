/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/ptp/hwts.c: IEEE 1588 register stamps on the served clock, with
 * a fake NIC whose clock runs at a set rate and offset from the served
 * clock, and a served clock that advances by set read windows.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dpn_ptp.h"

#define SEC INT64_C(1000000000)

static struct fake {
	int enable_ret;
	int time_ret;		/* read_time's answer */
	int rx_ret, tx_ret;
	int64_t served;		/* the served clock now */
	double ppm;		/* NIC rate error */
	int64_t offset;		/* NIC - served at served 0 */
	int64_t half_window;	/* each now() call advances this much */
	int64_t skew;		/* NIC read this far from mid-window */
	int64_t rx_nic, tx_nic;	/* latched stamps (NIC time) */
	bool mixed;		/* of each 4 tries only the third tight */
	unsigned int calls;	/* of f_now: two a try */
} F;

/* The half window and skew of try @p k. */
static int64_t
half_of(unsigned int k)
{
	if (F.mixed)
		return k % 4 == 2 ? 50 : 50000;
	return F.half_window;
}

static int64_t
skew_of(unsigned int k)
{
	if (F.mixed)
		return k % 4 == 2 ? 0 : 30000;
	return F.skew;
}

static int64_t
nic_at(int64_t served)
{
	return served + F.offset + (int64_t)((double)served * F.ppm * 1e-6);
}

static void
set_ts(struct timespec *ts, int64_t ns)
{
	ts->tv_sec = ns / SEC;
	ts->tv_nsec = ns % SEC;
}

static int
f_enable(uint16_t port)
{
	(void)port;
	return F.enable_ret;
}

static int
f_read_time(uint16_t port, struct timespec *ts)
{
	unsigned int k = (F.calls - 1) / 2;

	(void)port;
	if (F.time_ret != 0)
		return F.time_ret;
	set_ts(ts, nic_at(F.served + skew_of(k)));
	F.served += half_of(k);
	return 0;
}

static int
f_read_rx(uint16_t port, struct timespec *ts, uint32_t flags)
{
	(void)port;
	(void)flags;
	if (F.rx_ret != 0)
		return F.rx_ret;
	set_ts(ts, F.rx_nic);
	return 0;
}

static int
f_read_tx(uint16_t port, struct timespec *ts)
{
	(void)port;
	if (F.tx_ret != 0)
		return F.tx_ret;
	set_ts(ts, F.tx_nic);
	return 0;
}

static const struct dpn_ptp_hwts_ops fake_ops = {
	.enable = f_enable, .read_time = f_read_time,
	.read_rx = f_read_rx, .read_tx = f_read_tx,
};

static int64_t
f_now(void *arg)
{
	int64_t t = F.served;

	(void)arg;
	F.served += half_of(F.calls++ / 2);
	return t;
}

static int
setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	F.served = 1000 * SEC;
	F.offset = 37 * SEC;
	F.half_window = 500;
	return 0;
}

/* Calibrate once a second for @p seconds. */
static void
run(struct dpn_ptp_hwts *h, int seconds)
{
	int i;

	for (i = 0; i < seconds; i++) {
		assert_int_equal(dpn_ptp_hwts_calibrate(h, f_now, NULL), 0);
		F.served += SEC;
	}
}

/* The served time of a stamp latched at served time @p at. */
static int64_t
rx_of(struct dpn_ptp_hwts *h, int64_t at)
{
	int64_t got = 0;

	F.rx_nic = nic_at(at);
	/* Software saw it 20 us later (the rx ring, the slow path). */
	assert_int_equal(dpn_ptp_hwts_rx(h, 0, at + 20000, &got), 0);
	return got;
}

static void
test_no_timesync(void **state)
{
	struct dpn_ptp_hwts h;
	int64_t t;

	(void)state;
	F.enable_ret = -ENOTSUP;
	assert_int_equal(dpn_ptp_hwts_open(&h, &fake_ops, 0), -ENOTSUP);
	assert_false(h.on);
	assert_int_equal(dpn_ptp_hwts_rx(&h, 0, 0, &t), -ENODEV);
	assert_int_equal(dpn_ptp_hwts_tx(&h, 0, &t), -ENODEV);
	assert_int_equal(dpn_ptp_hwts_calibrate(&h, f_now, NULL), -ENODEV);
	/* Enabled, but its clock cannot be read: not used either. */
	F.enable_ret = 0;
	F.time_ret = -EIO;
	assert_int_equal(dpn_ptp_hwts_open(&h, &fake_ops, 0), -EIO);
	assert_false(h.on);
}

static void
test_needs_calibration(void **state)
{
	struct dpn_ptp_hwts h;
	int64_t t;

	(void)state;
	assert_int_equal(dpn_ptp_hwts_open(&h, &fake_ops, 3), 0);
	assert_true(h.on);
	assert_int_equal(h.port_id, 3);
	F.rx_nic = nic_at(F.served);
	assert_int_equal(dpn_ptp_hwts_rx(&h, 0, F.served, &t), -EAGAIN);
}

static void
test_offset_and_rate(void **state)
{
	struct dpn_ptp_hwts h;
	int64_t at, t;

	(void)state;
	F.ppm = 50;
	assert_int_equal(dpn_ptp_hwts_open(&h, &fake_ops, 0), 0);
	run(&h, 1);
	/* One pair: the offset is right at once; the rate is taken as 1,
	 * so 1.5 s after the pair the stamp is 50 ppm of that late. */
	at = F.served + SEC / 2;
	t = rx_of(&h, at);
	assert_true(t - at > 74000 && t - at < 76000);
	/* Past the rate span the rate is measured: within nanoseconds. */
	run(&h, 20);
	assert_true(h.rate > 1.0000499 && h.rate < 1.0000501);
	at = F.served + SEC / 2;
	t = rx_of(&h, at);
	assert_true(t - at < 10 && t - at > -10);
	/* Transmit stamps map the same way. */
	F.tx_nic = nic_at(at - 1234);
	assert_int_equal(dpn_ptp_hwts_tx(&h, at, &t), 0);
	assert_true(t - (at - 1234) < 10 && t - (at - 1234) > -10);
}

/* Of the tries, the tightest read window is kept: the wide ones here
 * read the NIC 30 us off their middle, so keeping one of them would put
 * every stamp 30 us off. */
static void
test_tightest_window(void **state)
{
	struct dpn_ptp_hwts h;
	int64_t at, t;

	(void)state;
	F.mixed = true;
	F.ppm = 10;
	assert_int_equal(dpn_ptp_hwts_open(&h, &fake_ops, 0), 0);
	run(&h, 20);
	assert_int_equal(h.window_ns, 100);
	at = F.served;
	t = rx_of(&h, at);
	assert_true(t - at < 100 && t - at > -100);
	/* And had only wide tries been kept, they would show: */
	F.mixed = false;
	F.half_window = 50000;
	F.skew = 30000;
	run(&h, 1);
	assert_int_equal(h.window_ns, 100000);
	at = F.served;
	t = rx_of(&h, at);
	assert_true(t - at < -29000 && t - at > -31000);
	/* 30 us is under CAL_JUMP_NS: followed, not a restart. */
	assert_int_equal(h.restarts, 0);
}

static void
test_clock_jump_restarts(void **state)
{
	struct dpn_ptp_hwts h;
	int64_t at, t;

	(void)state;
	F.ppm = -20;
	assert_int_equal(dpn_ptp_hwts_open(&h, &fake_ops, 0), 0);
	run(&h, 20);
	/* Someone sets the NIC clock a second on. */
	F.offset += SEC;
	run(&h, 1);
	assert_int_equal(h.restarts, 1);
	assert_int_equal(h.nb_pairs, 1);
	/* The rate measured before is kept. */
	assert_true(h.rate > 0.9999799 && h.rate < 0.9999801);
	at = F.served;
	t = rx_of(&h, at);
	assert_true(t - at < 100 && t - at > -100);
	run(&h, 20);
	assert_true(h.rate > 0.9999799 && h.rate < 0.9999801);
}

/* The registers hold one stamp each, until read: one latched for an
 * earlier event frame (a Sync 250 ms ago) or a frame software has not
 * seen yet (a stamp after the software time) is not this frame's. */
static void
test_stamp_not_the_frames(void **state)
{
	struct dpn_ptp_hwts h;
	int64_t sw, t = 42;

	(void)state;
	assert_int_equal(dpn_ptp_hwts_open(&h, &fake_ops, 0), 0);
	run(&h, 2);
	sw = F.served;
	F.rx_nic = nic_at(sw - 250000000);
	assert_int_equal(dpn_ptp_hwts_rx(&h, 0, sw, &t), -ERANGE);
	F.rx_nic = nic_at(sw + 300000);
	assert_int_equal(dpn_ptp_hwts_rx(&h, 0, sw, &t), -ERANGE);
	F.tx_nic = nic_at(sw - 6000000);
	assert_int_equal(dpn_ptp_hwts_tx(&h, sw, &t), -ERANGE);
	assert_int_equal(t, 42);
	assert_int_equal(h.mismatches, 3);
	/* At the edges: 5 ms before, 0.1 ms after, taken. */
	F.rx_nic = nic_at(sw - 4990000);
	assert_int_equal(dpn_ptp_hwts_rx(&h, 0, sw, &t), 0);
	F.rx_nic = nic_at(sw + 90000);
	assert_int_equal(dpn_ptp_hwts_rx(&h, 0, sw, &t), 0);
	assert_true(t - (sw + 90000) < 100 && t - (sw + 90000) > -100);
	assert_int_equal(h.mismatches, 3);
}

/* A Delay_Req's t3: the register where it fits, waiting while it may
 * still latch, else the software time. */
static void
test_tx_time(void **state)
{
	struct dpn_ptp_hwts h;
	int64_t sw, t3 = 0;

	(void)state;
	/* No registers: the software time at once. */
	F.enable_ret = -ENOTSUP;
	assert_int_equal(dpn_ptp_hwts_open(&h, &fake_ops, 0), -ENOTSUP);
	assert_int_equal(dpn_ptp_hwts_tx_time(&h, 777, 0, &t3),
			 DPN_PTP_HWTS_TX_SW);
	assert_int_equal(t3, 777);

	F.enable_ret = 0;
	assert_int_equal(dpn_ptp_hwts_open(&h, &fake_ops, 0), 0);
	run(&h, 2);
	sw = F.served;
	/* Not latched yet: wait, until the wait is over. */
	F.tx_ret = -EINVAL;
	assert_int_equal(dpn_ptp_hwts_tx_time(&h, sw, 1000000, &t3),
			 DPN_PTP_HWTS_TX_WAIT);
	assert_int_equal(dpn_ptp_hwts_tx_time(&h, sw,
					      DPN_PTP_HWTS_TX_WAIT_NS + 1,
					      &t3), DPN_PTP_HWTS_TX_SW);
	assert_int_equal(t3, sw);
	/* Latched: the NIC's time, 3 us before software saw it. */
	F.tx_ret = 0;
	F.tx_nic = nic_at(sw - 3000);
	assert_int_equal(dpn_ptp_hwts_tx_time(&h, sw, 2000000, &t3),
			 DPN_PTP_HWTS_TX_NIC);
	assert_true(t3 - (sw - 3000) < 100 && t3 - (sw - 3000) > -100);
	/* Another frame's stamp: the software time, without waiting. */
	F.tx_nic = nic_at(sw - 200000000);
	assert_int_equal(dpn_ptp_hwts_tx_time(&h, sw, 0, &t3),
			 DPN_PTP_HWTS_TX_SW);
	assert_int_equal(t3, sw);
}

static void
test_device_errors(void **state)
{
	struct dpn_ptp_hwts h;
	int64_t t = 42;

	(void)state;
	assert_int_equal(dpn_ptp_hwts_open(&h, &fake_ops, 0), 0);
	run(&h, 2);
	/* Nothing latched: the PMD's error, t untouched. */
	F.rx_ret = -EINVAL;
	F.tx_ret = -EINVAL;
	assert_int_equal(dpn_ptp_hwts_rx(&h, 0, F.served, &t), -EINVAL);
	assert_int_equal(dpn_ptp_hwts_tx(&h, F.served, &t), -EINVAL);
	assert_int_equal(t, 42);
	/* A calibration with no reading at all is counted, the model kept. */
	F.time_ret = -EIO;
	assert_int_equal(dpn_ptp_hwts_calibrate(&h, f_now, NULL), -EIO);
	assert_int_equal(h.read_failures, 1);
	assert_int_equal(h.nb_pairs, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_no_timesync, setup),
		cmocka_unit_test_setup(test_needs_calibration, setup),
		cmocka_unit_test_setup(test_offset_and_rate, setup),
		cmocka_unit_test_setup(test_tightest_window, setup),
		cmocka_unit_test_setup(test_clock_jump_restarts, setup),
		cmocka_unit_test_setup(test_stamp_not_the_frames, setup),
		cmocka_unit_test_setup(test_tx_time, setup),
		cmocka_unit_test_setup(test_device_errors, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
