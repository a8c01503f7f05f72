/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_REFCLOCK_H
#define DPN_REFCLOCK_H

/**
 * @file
 * References the management lcore disciplines the server clock to.
 *
 * First one: `refclock system`, the host's CLOCK_REALTIME, for hosts where
 * chronyd, ntpd or phc2sys already discipline it. The server's own clock
 * (a TSC model) tracks it within a few microseconds; the host clock is
 * only ever read.
 */

#include <stdint.h>

#include "dpn_conf.h"

/** Sample the reference this often (management loop). */
#define DPN_REFCLOCK_SYSTEM_INTERVAL_NS 100000000LL

struct dpn_refclock_system {
	struct dpn_conf_refclock_system conf;
	int precision;			/**< log2 s, measured or configured */
	int64_t next_poll_ns;		/**< CLOCK_MONOTONIC deadline */
	uint64_t samples;
	int64_t last_read_ns;		/**< how long the best read took */
	uint64_t seed_tsc;		/**< the reading taken at init */
	int64_t seed_ns;
};

/**
 * Prepare from the `refclock system` line: read the host clock once (the
 * seed of the server clock, also without the directive) and measure the
 * precision of reading the server clock.
 */
void dpn_refclock_system_init(struct dpn_refclock_system *rs,
			      const struct dpn_conf_refclock_system *conf);

/** How long dpn_refclock_system_calibrate() measures. */
#define DPN_REFCLOCK_CALIBRATE_US 200000

/**
 * The TSC's rate measured against the host's CLOCK_MONOTONIC, in ns per
 * tick. DPDK's own figure (rte_get_tsc_hz()) is a quick estimate that
 * in a VM has been seen 1500 ppm off: 1.5 ms a second, which a server
 * synchronized only by NTP polls cannot afford before its first update.
 * Sleeps DPN_REFCLOCK_CALIBRATE_US.
 */
double dpn_refclock_system_calibrate(void);

/**
 * When a sample is due (and the directive is there), read the TSC and
 * CLOCK_REALTIME at the same instant into @p tsc and @p real_ns.
 * @return 1 when it took a sample, 0 when none was due.
 */
int dpn_refclock_system_sample(struct dpn_refclock_system *rs,
			       uint64_t *tsc, int64_t *real_ns);

#endif /* DPN_REFCLOCK_H */
