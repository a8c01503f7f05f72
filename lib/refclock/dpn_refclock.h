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

#include "dpn_clock.h"
#include "dpn_conf.h"

/** Sample the reference this often (management loop). */
#define DPN_REFCLOCK_SYSTEM_INTERVAL_NS 100000000LL

struct dpn_refclock_system {
	struct dpn_conf_refclock_system conf;
	struct dpn_clock_tracker tracker;
	int precision;			/**< log2 s, measured or configured */
	int64_t next_poll_ns;		/**< CLOCK_MONOTONIC deadline */
	uint64_t samples;
	int64_t last_read_ns;		/**< how long the best read took */
};

/** Prepare from the `refclock system` line; measures precision. */
void dpn_refclock_system_init(struct dpn_refclock_system *rs,
			      const struct dpn_conf_refclock_system *conf);

/**
 * Take a sample when one is due and publish a new snapshot to @p clock
 * (which must only be written by the caller's lcore). Returns 1 when it
 * published, 0 when nothing was due.
 */
int dpn_refclock_system_poll(struct dpn_refclock_system *rs,
			     struct dpn_clock *clock);

#endif /* DPN_REFCLOCK_H */
