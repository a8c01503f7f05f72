/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_HEALTH_H
#define DPN_HEALTH_H

/**
 * @file
 * The health verdict: is this server fit to be announced (anycast) and
 * to take clients? DPDK-free. The management lcore gathers the inputs
 * (dpn_health_input) every DPN_HEALTH_PERIOD_NS and calls
 * dpn_health_eval(), which keeps the state some checks need over time
 * (how long the reference has been lost, when each worker's poll counter
 * last moved) and publishes the verdict; any other thread reads a
 * consistent copy with dpn_health_read() without a lock (a sequence
 * counter: the one writer never waits for a reader).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** How often the management lcore evaluates. */
#define DPN_HEALTH_PERIOD_NS (100 * 1000 * 1000ll)
/** Workers and ports looked at (RTE_MAX_LCORE, DPN_MAX_PORTS cover). */
#define DPN_HEALTH_MAX_WORKERS 128
#define DPN_HEALTH_MAX_PORTS 32

/** The checks, in the order they are exported. */
enum dpn_health_check {
	DPN_HEALTH_UNSYNCHRONIZED,	/**< served LI 3 / stratum 16 */
	DPN_HEALTH_OFFSET,		/**< |offset| over maxoffset */
	DPN_HEALTH_ROOT_DISTANCE,	/**< root distance over maxdistance */
	DPN_HEALTH_REFERENCE_LOST,	/**< no system peer for > holdover */
	DPN_HEALTH_WORKER_STALLED,	/**< a poll counter stood still */
	DPN_HEALTH_LINK_DOWN,		/**< a port's link is down */
	DPN_HEALTH_DRAIN,		/**< the drain file exists */
	DPN_HEALTH_NB_CHECKS
};

/** A check's name as the metrics label and JSON give it. */
const char *dpn_health_check_name(enum dpn_health_check c);

/** Thresholds (the `health` directive, and `holdover`). */
struct dpn_health_params {
	int64_t max_offset_ns;
	int64_t max_distance_ns;
	int64_t holdover_ns;
	int64_t stall_ns;
};

/** What the management lcore saw at @c now_ns. */
struct dpn_health_input {
	int64_t now_ns;			/**< a monotonic clock */
	bool synced;			/**< what is served */
	bool has_reference;		/**< a system peer is selected */
	/** Time since the reference last updated the clock (what the
	 * holdover counts from), -1 if it never has. */
	int64_t reference_age_ns;
	int64_t offset_ns;		/**< last offset applied */
	int64_t root_distance_ns;	/**< root delay / 2 + dispersion */
	unsigned int nb_workers;
	const uint64_t *worker_polls;	/**< each worker's loop counter */
	unsigned int nb_ports;
	const bool *link_down;		/**< per port */
	bool drain;			/**< the drain file exists */
};

/** The verdict and what it rests on. */
struct dpn_health_verdict {
	bool valid;			/**< evaluated, and not stale */
	int64_t at_ns;			/**< when (the input's now_ns) */
	int64_t stale_ns;		/**< not valid: this old (0: never made) */
	uint32_t failing;		/**< bit (1 << check) per failing check */
	struct dpn_health_params params;
	bool synced;
	int64_t offset_ns;
	int64_t root_distance_ns;
	int64_t lost_ns;		/**< reference lost for, 0 if not */
	unsigned int nb_stalled;	/**< workers stalled */
	unsigned int stalled_worker;	/**< the first one's index */
	int64_t stalled_ns;		/**< its counter stood still this long */
	unsigned int nb_links_down;
	unsigned int link_down_port;	/**< the first one's index */
};

/** The evaluator's state and the published verdict. */
struct dpn_health {
	struct dpn_health_params params;
	bool started;
	bool was_synced;
	int64_t lost_since_ns;		/**< never synchronized: since when */
	bool lost;
	unsigned int nb_workers;
	uint64_t polls[DPN_HEALTH_MAX_WORKERS];
	int64_t moved_ns[DPN_HEALTH_MAX_WORKERS];
	uint32_t seq;			/**< odd while pub is written */
	struct dpn_health_verdict pub;
};

/** Start with @p p; nothing is published until the first eval. */
void dpn_health_init(struct dpn_health *h, const struct dpn_health_params *p);

/** New thresholds (a reload), from the evaluating thread. */
void dpn_health_set_params(struct dpn_health *h,
			   const struct dpn_health_params *p);

/** Evaluate @p in and publish the verdict (one thread only). */
void dpn_health_eval(struct dpn_health *h, const struct dpn_health_input *in);

/** A consistent copy of the last verdict (any thread, no lock). */
void dpn_health_read(const struct dpn_health *h, struct dpn_health_verdict *v);

/**
 * Mark @p v not valid (so unhealthy) when it is older than @p max_age_ns
 * at @p now_ns: the evaluating thread has stopped (a stuck management
 * lcore would otherwise leave a healthy verdict up for ever).
 */
void dpn_health_age(struct dpn_health_verdict *v, int64_t now_ns,
		    int64_t max_age_ns);

/** True when @p v holds and no check fails. */
static inline bool
dpn_health_ok(const struct dpn_health_verdict *v)
{
	return v->valid && v->failing == 0;
}

/**
 * The verdict as text: "healthy" or "unhealthy: REASON; REASON", then
 * one line per check ("CHECK ok|FAILING"). @return like snprintf.
 */
int dpn_health_format(const struct dpn_health_verdict *v, char *buf,
		      size_t len);

/**
 * The verdict as one JSON object on one line:
 * {"healthy":B,"failing":[...],"reasons":[...],"checks":{NAME:"ok"|"failing",...},
 *  "offset_s":X,"root_distance_s":X,"thresholds":{...}}.
 * @return like snprintf.
 */
int dpn_health_json(const struct dpn_health_verdict *v, char *buf,
		    size_t len);

#endif /* DPN_HEALTH_H */
