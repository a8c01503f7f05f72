/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_DATAPLANE_H
#define DPN_DATAPLANE_H

/**
 * @file
 * The DPDK data plane: ports and their queues, the worker lcores that
 * answer NTP from them, and the slow path (ARP, NDP, ICMP echo) run by
 * the management lcore.
 *
 * A worker owns one RX/TX queue pair on every port and touches nothing
 * shared but the clock snapshot (read through a seqlock) and two
 * single-producer single-consumer rings to and from the management lcore.
 *
 * By concern: dpn_dp_port.h (ports, their stamps and queue pairs),
 * dpn_dp_tables.h (restrict rules, keys and NTS keys published to the
 * workers), dpn_dp_worker.h (a worker and its burst handling),
 * dpn_dp_route.h (routes, neighbours, management frames); here the data
 * plane as a whole, its setup, NIC clocks and the slow path.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dpn_acl.h"
#include "dpn_clock.h"
#include "dpn_conf.h"
#include "dpn_neigh.h"
#include "dpn_ntpctl.h"
#include "dpn_nts.h"
#include "dpn_nicfit.h"
#include "dpn_ratelimit.h"
#include "dpn_stats.h"
#include "dpn_xleave.h"

#include "dpn_dp_port.h"
#include "dpn_dp_route.h"
#include "dpn_dp_tables.h"
#include "dpn_dp_worker.h"

/** Everything the data plane is made of. */
struct dpn_dataplane {
	unsigned int nb_ports;
	struct dpn_port ports[DPN_MAX_PORTS];
	unsigned int nb_workers;
	struct dpn_worker *workers[RTE_MAX_LCORE];
	struct dpn_clock *clock;
	struct dpn_stats mgmt_stats;	/**< written by the management lcore */
	volatile bool quit;
	/** one compiled rule set per NUMA node with workers, RCU published */
	struct dpn_acl_table *acl[RTE_MAX_NUMA_NODES];
	struct rte_rcu_qsbr *qsbr;	/**< one thread id per worker */
	struct dpn_auth_table *auth;	/**< trusted keys, RCU published */
	struct dpn_nts_table *nts;	/**< NTS keys, RCU published */
	/**
	 * Where the slow path hands servers' replies (NTP mode 4 to port
	 * 123) for the client side; it owns the mbuf. NULL: dropped.
	 */
	void (*ntp_reply)(void *arg, unsigned int port_index,
			  struct rte_mbuf *m);
	void *ntp_reply_arg;
	/**
	 * What a control request (mode 6) that restrict and the rate limit
	 * let through is answered with: fill @p a (variables, the
	 * association list, or an error) for @p req. Called on the
	 * management lcore (ctlpath.c builds and sends the fragments).
	 * NULL: every request gets a BADOP error.
	 */
	void (*ntp_ctl)(void *arg, const struct dpn_ntpctl_req *req,
			struct dpn_ntpctl_answer *a);
	void *ntp_ctl_arg;
	/**
	 * Where the slow path hands PTP frames (ports with ptp_l2/ptp_udp);
	 * it owns the mbuf. NULL: dropped.
	 */
	void (*ptp_rx)(void *arg, unsigned int port_index,
		       struct rte_mbuf *m);
	void *ptp_rx_arg;
	/**
	 * Where the slow path hands TCP for the kernel (kernel_tcp_port);
	 * it owns the mbuf. NULL: dropped.
	 */
	void (*kernel_rx)(void *arg, unsigned int port_index,
			  struct rte_mbuf *m);
	void *kernel_rx_arg;
	struct dpn_neigh *neigh;	/**< neighbour tables (neigh.c) */
};

/*
 * Setup (port.c, placement.c).
 */

/**
 * Configure and start every port named by @p conf's listen lines with
 * @p nb_workers queue pairs each, create the rings and the workers (on
 * the lcores in @p lcores), and the clock. Messages go to the DPDK log.
 * @return 0 or a negative errno, with a message in @p err.
 */
int dpn_dataplane_init(struct dpn_dataplane *dp, const struct dpn_conf *conf,
		       const unsigned int *lcores, unsigned int nb_workers,
		       char *err, size_t errlen);

/** The workers' and the management lcore's counters added up. */
void dpn_dataplane_sum_stats(const struct dpn_dataplane *dp,
			     struct dpn_stats *out);

/** Stop and close the ports, free rings and workers. */
void dpn_dataplane_fini(struct dpn_dataplane *dp);

/**
 * Choose @p nb worker lcores among the EAL's worker lcores, preferring
 * cores on @p socket_id (found with hwloc), and log the placement.
 * @return number chosen (less than @p nb if there are not enough).
 */
unsigned int dpn_placement_pick(int socket_id, unsigned int nb,
				unsigned int *lcores);

/** Log where @p lcore sits relative to @p port_socket; warn if remote. */
void dpn_placement_check(unsigned int lcore, int port_socket,
			 const char *port_name);

/**
 * The first CPU @p lcore is pinned to (its EAL cpuset, which -l,
 * --lcores 1@3 or 1@(2-3) set), -1 if none. Not rte_lcore_to_cpu_id():
 * that is the core id of the CPU numbered as the lcore.
 */
int dpn_lcore_cpu(unsigned int lcore);

/** The CPUs @p lcore is pinned to, as a list: "3", "2-3", "0,2-3". */
void dpn_lcore_cpus_format(unsigned int lcore, char *buf, size_t len);

/**
 * Replace the rule set and the discard parameters: build the new tables
 * off the workers, publish them, wait until every worker has passed a
 * quiescent state, carry the counters over and free the old tables.
 * Not for the worker lcores; one caller at a time.
 * @return 0, or a negative errno with a message (the old rules stay).
 */
int dpn_dataplane_set_acl(struct dpn_dataplane *dp,
			  const struct dpn_acl_ruleset *rs,
			  const struct dpn_rl_params *discard,
			  char *err, size_t errlen);

/**
 * Register (once; later calls return the same) the mbuf field in which
 * workers leave the TSC of the burst for packets they pass to the
 * management lcore: T4 of upstream servers' replies.
 * @return its offset, or -1 with rte_errno set.
 */
int dpn_rx_tsc_dynfield_register(void);


/*
 * NIC clocks (nicclock.c), run by the management lcore.
 */

/**
 * Map the stamps of every port that stamps received packets onto the
 * served clock and publish each port's NIC -> UTC model in the snapshot:
 * by reading the NIC clock beside the TSC where the PMD can
 * (rte_eth_read_clock), else by fitting the stamps the workers saw to
 * the TSC of their bursts (lib/nicfit). A port whose PMD advertises no
 * stamps but fills the timestamp field anyway (net_pcap) is fitted as
 * soon as stamps arrive. Call after each update of the TSC model.
 * @return number of ports with stamps.
 */
unsigned int dpn_nic_clock_poll(struct dpn_dataplane *dp);

/**
 * Fill @p out for port @p port_index, safe from a control thread: the
 * counters are the workers' (summed), the rest the management lcore's,
 * a sample old at worst.
 */
void dpn_rx_stamp_info_get(const struct dpn_dataplane *dp,
			   unsigned int port_index,
			   struct dpn_rx_stamp_info *out);

/**
 * One calibration step of a NIC clock against the TSC: read port
 * @p port_id's clock, take UTC from @p tsc_model, and once two readings
 * gave the NIC's rate, write the NIC ticks -> UTC model to @p out (left
 * alone before that). Shared with the load generator.
 * @return 0, or -1 when the port's clock cannot be read.
 */
int dpn_nic_clock_update(struct dpn_nic_clock *nc, uint16_t port_id,
			 const struct dpn_clock_model *tsc_model,
			 struct dpn_clock_model *out);

/*
 * The slow path (slowpath.c), run by the management lcore.
 */

/** Answer what the workers passed up (ARP, NDP, ICMP echo).
 * @return number of packets handled. */
unsigned int dpn_slowpath_poll(struct dpn_dataplane *dp);

#endif /* DPN_DATAPLANE_H */
