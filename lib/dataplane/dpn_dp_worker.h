/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_DP_WORKER_H
#define DPN_DP_WORKER_H

/**
 * @file
 * A worker lcore: its state, and the burst handling that its loop
 * (and the tests and benchmarks) call. Included by dpn_dataplane.h.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "dpn_clock.h"
#include "dpn_nts.h"
#include "dpn_ratelimit.h"
#include "dpn_stats.h"
#include "dpn_xleave.h"
#include "dpn_dp_port.h"
#include "dpn_dp_tables.h"

/** A worker lcore's private state. */
struct dpn_worker {
	struct dpn_stats stats;		/**< written by this worker only */
	unsigned int lcore_id;
	unsigned int index;		/**< queue index on every port */
	unsigned int nb_rxq;
	struct dpn_rxq rxq[DPN_MAX_PORTS];
	const struct dpn_clock *clock;
	int ts_dynfield_offset;		/**< the mbuf's RX timestamp field */
	int rx_tsc_dynfield_offset;	/**< TSC of the burst, slow path */
	uint64_t ts_dynflag;		/**< 0: no stamps are looked at */
	uint64_t busy_cycles;		/**< cycles spent on non-empty polls */
	uint64_t total_cycles;
	/** Turns of the poll loop, read by the management lcore's stall
	 * check (relaxed atomics: a counter, not a message) */
	uint64_t polls;
	volatile bool *quit;
	struct dpn_acl_table *const *acl;	/**< the published rule set */
	struct dpn_auth_table *const *auth;	/**< the published keys */
	struct dpn_nts_table *const *nts;	/**< NTS keys, NULL: off */
	uint32_t acl_generation;	/**< whose discard params rl has */
	struct dpn_rl_table rl;		/**< this worker's clients */
	/** Transmit times of this worker's replies, for interleaved
	 * requests; disabled (never finds anything) with xleavelimit 0. */
	struct dpn_xleave_table xleave;
	uint64_t tx_t3;			/**< the last burst's T3 (NTP) */
	/*
	 * Restrict verdicts cached in client slots (worker.c) hold only for
	 * the rules they were taken from: a slot's verdict is trusted if it
	 * carries this rule set's tag and was written after the worker took
	 * the rule set up (its last request is later than acl_valid_after).
	 */
	uint32_t acl_tag;		/**< tag of the current rule set */
	uint32_t acl_valid_after;	/**< rate-limit time it was taken up */
	uint32_t rl_now_max;		/**< latest rate-limit time seen */
	struct rte_rcu_qsbr *qsbr;
	/** nonces of this worker's NTS replies and cookies: last, away
	 * from the fields every burst reads */
	struct dpn_nts_rng nts_rng;
} __rte_cache_aligned;


/*
 * The worker (worker.c).
 */

/** What dpn_worker_handle_burst() left at the front of the burst, in
 * this order. */
struct dpn_burst_result {
	uint16_t nb_basic;	/**< replies whose T3 is still to be set */
	uint16_t nb_xleave;	/**< interleaved replies, complete */
	uint16_t nb_signed;	/**< replies to MAC requests: T3 and MAC */
	uint16_t nb_kod;	/**< KoD RATE packets, complete */
	/** the key table the signed replies' keys are in */
	struct dpn_auth_table *auth;
	/** each signed reply's key index, DPN_AUTH_NAK or DPN_AUTH_NTS */
	uint16_t sign_key[DPN_BURST * 2];
	/** the NTS replies' authenticators to seal (by sign_key index) */
	struct dpn_nts_pending nts[DPN_BURST * 2];
};

/**
 * The mbuf flags that describe the mbuf itself, not what to do with the
 * packet: an answer made in place keeps them when its ol_flags are set
 * for transmit, or an mbuf whose data is an external buffer (mlx5's
 * Multi-Packet RQ hands such ones over) would go back to its pool still
 * pointing at that buffer, which is then never released.
 */
#define DPN_MBUF_OWN_FLAGS (RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT)

/** A signed reply that is a crypto-NAK: key ID 0, no MAC. */
#define DPN_AUTH_NAK UINT16_MAX
/** A signed reply that is an NTS reply: res->nts says how to seal it. */
#define DPN_AUTH_NTS (UINT16_MAX - 1)

/**
 * Handle one received burst (at most DPN_BURST * 2 packets): apply the
 * restrict rules and the rate limit, answer NTP in place, pass slow-path
 * packets to the management lcore, free the rest. What is to be sent is
 * moved to the front of @p pkts: the basic replies, whose transmit
 * timestamps are not set yet (dpn_worker_stamp_tx), the interleaved
 * replies, complete, the replies to requests with a MAC, whose transmit
 * timestamp and MAC are set by dpn_worker_stamp_tx, then the KoDs,
 * complete (@p res says how many of each). @p rx_tsc is the TSC read when the burst arrived (T2 unless the
 * NIC stamped the packet).
 * @return number of packets to send at the front of @p pkts.
 */
uint16_t dpn_worker_handle_burst(struct dpn_worker *w, struct dpn_rxq *q,
				 struct rte_mbuf **pkts, uint16_t nb,
				 uint64_t rx_tsc,
				 const struct dpn_clock_snapshot *snap,
				 struct dpn_burst_result *res);

/**
 * Set T3 in the basic replies (read from the TSC now) and their UDP
 * checksums, then in each signed reply, read just before its MAC is
 * computed, and its MAC (or the crypto-NAK's key ID 0). Called as late
 * as possible before rte_eth_tx_burst(), with what
 * dpn_worker_handle_burst() left in @p pkts and @p res.
 */
void dpn_worker_stamp_tx(struct dpn_worker *w, const struct dpn_rxq *q,
			 struct rte_mbuf **pkts,
			 const struct dpn_burst_result *res,
			 const struct dpn_clock_snapshot *snap);

/**
 * After rte_eth_tx_burst() took @p sent of the burst's packets: save the
 * transmit time of the replies that left, for interleaved requests that
 * will name them.
 */
void dpn_worker_tx_done(struct dpn_worker *w, const struct dpn_rxq *q,
			uint16_t sent, const struct dpn_clock_snapshot *snap);

/**
 * Management frames @p pkts[@p first .. @p nb) were put in a burst of
 * which rte_eth_tx_burst() took @p sent, between TSC @p before and
 * @p after: when one of those sent asked for its transmit time
 * (RTE_MBUF_F_TX_IEEE1588_TMST, checked by the caller before the call
 * and given as @p stamp_index, or UINT16_MAX), leave the time for the
 * management lcore in @p q. A port that hands frames to the kernel
 * inside the call (tx_in_burst) sent it between the two reads: the
 * middle; a NIC sends it after the call returns: @p after.
 */
void dpn_worker_mgmt_tx_stamp(struct dpn_rxq *q, uint16_t stamp_index,
			      uint16_t sent, uint64_t before, uint64_t after);

/** Index in @p pkts[@p first .. @p nb) of the first frame asking for a
 * transmit time, or UINT16_MAX. */
uint16_t dpn_worker_mgmt_stamp_index(struct rte_mbuf *const *pkts,
				     uint16_t first, uint16_t nb);

/** The worker lcore's main loop (rte_eal_remote_launch argument: the
 * struct dpn_worker). Returns when *quit becomes true.
 */
int dpn_worker_main(void *arg);

#endif /* DPN_DP_WORKER_H */
