/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `refclock system`: follow the host's CLOCK_REALTIME.
 *
 * Each sample reads the TSC on both sides of clock_gettime() and keeps
 * the tightest of a few tries, so the pair is accurate to a few tens of
 * nanoseconds. Without the directive the server clock is still seeded
 * once from the host clock so that timestamps are meaningful. What the
 * samples do to the server clock is lib/sync's business: the reference
 * is one source among the upstream servers.
 */

#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "dpn_clock.h"
#include "dpn_refclock.h"

#define SAMPLE_TRIES 5

static int64_t
ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_ns(&ts);
}

/* One (tsc, clock) pair; returns the spread of the best try in ticks. */
static uint64_t
sample_clock(clockid_t id, uint64_t *tsc, int64_t *real_ns)
{
	uint64_t best = UINT64_MAX;
	int i;

	*tsc = 0;
	*real_ns = 0;
	for (i = 0; i < SAMPLE_TRIES; i++) {
		struct timespec ts;
		uint64_t t0, t1;

		t0 = rte_rdtsc_precise();
		clock_gettime(id, &ts);
		t1 = rte_rdtsc_precise();
		if (t1 - t0 < best) {
			best = t1 - t0;
			*tsc = t0 + (t1 - t0) / 2;
			*real_ns = ts_ns(&ts);
		}
	}
	return best;
}

uint64_t
dpn_refclock_system_pair(uint64_t *tsc, int64_t *real_ns)
{
	return sample_clock(CLOCK_REALTIME, tsc, real_ns);
}

/* The time a worker needs to read the server clock: TSC plus model. */
static double
measure_read_ns(const struct dpn_clock_model *m)
{
	uint64_t t0, t1;
	/* Unsigned: a thousand times 1.8e18 wraps, as it may. */
	volatile uint64_t sink = 0;
	int i;

	t0 = rte_rdtsc_precise();
	for (i = 0; i < 1000; i++)
		sink += (uint64_t)dpn_clock_model_ns(m, rte_rdtsc());
	t1 = rte_rdtsc_precise();
	RTE_SET_USED(sink);
	return (double)(t1 - t0) / 1000.0 * 1e9 / (double)rte_get_tsc_hz();
}

void
dpn_refclock_system_init(struct dpn_refclock_system *rs,
			 const struct dpn_conf_refclock_system *conf)
{
	struct dpn_clock_model m;

	memset(rs, 0, sizeof(*rs));
	rs->conf = *conf;
	dpn_refclock_system_pair(&rs->seed_tsc, &rs->seed_ns);
	dpn_clock_model_set(&m, rs->seed_tsc, rs->seed_ns,
			    1e9 / (double)rte_get_tsc_hz());
	rs->precision = conf->precision != 0 ? conf->precision :
		dpn_clock_precision_log2(measure_read_ns(&m));
	rs->next_poll_ns = mono_ns();
}

double
dpn_refclock_system_calibrate(void)
{
	uint64_t t0, t1;
	int64_t m0, m1;

	sample_clock(CLOCK_MONOTONIC, &t0, &m0);
	rte_delay_us_sleep(DPN_REFCLOCK_CALIBRATE_US);
	sample_clock(CLOCK_MONOTONIC, &t1, &m1);
	if (t1 <= t0 || m1 <= m0)
		return 1e9 / (double)rte_get_tsc_hz();
	return (double)(m1 - m0) / (double)(t1 - t0);
}

int
dpn_refclock_system_sample(struct dpn_refclock_system *rs, uint64_t *tsc,
			   int64_t *real_ns)
{
	int64_t now;
	uint64_t spread;

	if (!rs->conf.enabled)
		return 0;
	now = mono_ns();
	if (now < rs->next_poll_ns)
		return 0;
	rs->next_poll_ns = now + DPN_REFCLOCK_SYSTEM_INTERVAL_NS;
	spread = dpn_refclock_system_pair(tsc, real_ns);
	rs->last_read_ns = (int64_t)((double)spread * 1e9 /
				     (double)rte_get_tsc_hz());
	rs->samples++;
	return 1;
}
