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
#include "dpn_nts.h"
#include "dpn_nicfit.h"
#include "dpn_ratelimit.h"
#include "dpn_stats.h"
#include "dpn_xleave.h"

#define DPN_MAX_PORTS DPN_CLOCK_MAX_PORTS
#define DPN_MAX_ADDRS 16	/* per family and port */
#define DPN_BURST 32
#define DPN_RING_SIZE 1024

/** Addresses a port answers for (each on one VLAN, 0 = untagged). */
struct dpn_addrs {
	unsigned int nb_v4;
	uint32_t v4[DPN_MAX_ADDRS];	/**< network order */
	uint32_t v4_bcast[DPN_MAX_ADDRS]; /**< its subnet's broadcast */
	uint16_t v4_vlan[DPN_MAX_ADDRS];
	unsigned int nb_v6;
	uint8_t v6[DPN_MAX_ADDRS][16];
	uint16_t v6_vlan[DPN_MAX_ADDRS];
	/* Not read by the workers: on-link prefixes and gateways, for the
	 * management lcore's routing (dpn_route_lookup). */
	uint8_t v4_prefix[DPN_MAX_ADDRS];
	uint32_t v4_gw[DPN_MAX_ADDRS];	/**< network order, 0 = none */
	uint8_t v6_prefix[DPN_MAX_ADDRS];
	uint8_t v6_gw[DPN_MAX_ADDRS][16]; /**< all zero = none */
};

static inline bool
dpn_addrs_has_v4(const struct dpn_addrs *a, uint32_t addr, uint16_t vlan)
{
	unsigned int i;

	for (i = 0; i < a->nb_v4; i++)
		if (a->v4[i] == addr && a->v4_vlan[i] == vlan)
			return true;
	return false;
}

static inline bool
dpn_addrs_has_v6(const struct dpn_addrs *a, const uint8_t *addr,
		 uint16_t vlan)
{
	unsigned int i;

	for (i = 0; i < a->nb_v6; i++)
		if (memcmp(a->v6[i], addr, 16) == 0 && a->v6_vlan[i] == vlan)
			return true;
	return false;
}

/** Calibration of a port's clock against the server clock. */
struct dpn_nic_clock {
	unsigned int nb_samples;
	uint64_t first_nic;
	int64_t first_utc;
	struct dpn_clock_tracker tracker;	/**< NIC ticks -> UTC */
};

/** Where the receive times (T2) of a port's requests come from. */
enum dpn_rx_stamp_source {
	DPN_RX_STAMP_TSC,	/**< the TSC at rx_burst: no usable stamps */
	DPN_RX_STAMP_NIC_READ,	/**< NIC stamps, clock read beside the TSC */
	DPN_RX_STAMP_NIC_FIT,	/**< NIC stamps, clock fitted from them */
};

/** "tsc", "nic-clock" or "nic-fit", for show, metrics and telemetry. */
const char *dpn_rx_stamp_source_name(enum dpn_rx_stamp_source s);

/** Where a port's receive times come from, for show/metrics/telemetry. */
struct dpn_rx_stamp_info {
	enum dpn_rx_stamp_source source;
	uint64_t nb_nic;	/**< requests whose T2 is their stamp */
	uint64_t nb_tsc;	/**< requests whose T2 is the TSC */
	double hz;		/**< the stamps' rate, 0 = not known */
	double residual_ns;	/**< RMS of the NIC fit, or the tracker's */
	double delay_ns;	/**< nic-fit: rx_burst after the stamp */
	uint64_t restarts;	/**< nic-fit: restarts after steps */
};

/** A port as the data plane uses it. */
struct dpn_port {
	uint16_t port_id;
	int socket_id;
	uint16_t nb_queues;
	struct rte_ether_addr mac;
	bool tx_cksum_offload;		/**< IPv4 + UDP + (IPv6) UDP by NIC */
	/**
	 * The PMD cannot insert a VLAN tag on transmit (no
	 * RTE_ETH_TX_OFFLOAD_VLAN_INSERT): answers to frames whose tag it
	 * stripped get theirs back in software (rte_vlan_insert).
	 */
	bool tx_vlan_sw;
	bool rx_cksum_offload;		/**< NIC flags checksums */
	bool rx_timestamp;		/**< the PMD offers the stamp offload */
	/** The PMD hands frames to the kernel inside rte_eth_tx_burst()
	 * (af_packet, af_xdp, pcap, tap): they have left when it returns. */
	bool tx_in_burst;
	/** A `refclock ptp` runs on the port: its PTP frames go to the
	 * management lcore (Layer 2, or UDP 319/320 to 224.0.1.129 and to
	 * our addresses). Set before the workers start. */
	bool ptp_l2;
	bool ptp_udp;
	/**
	 * TCP to this destination port of a served address goes to the
	 * kernel through the exception path (network order; 0: none):
	 * NTS-KE, on the address clients use for NTP.
	 */
	rte_be16_t kernel_tcp_port;
	uint64_t rss_hf;		/**< hash functions in use, 0 = none */
	struct dpn_addrs addrs;
	struct rte_mempool *pool;
	char name[RTE_ETH_NAME_MAX_LEN];
	/* Management lcore only (read, a sample old at worst, by show). */
	struct dpn_nic_clock nic_clock;	/**< rte_eth_read_clock() fit */
	bool nic_readable;		/**< rte_eth_read_clock() works */
	/** The stamps' unit where the PMD's is known (net_pcap: us), else
	 * 0: the fit learns it. */
	double stamp_hz;
	struct dpn_nicfit fit;		/**< stamps fitted to the TSC */
	enum dpn_rx_stamp_source rx_stamp_source;
};

/**
 * Pairs (the latest NIC stamp of a burst, the TSC at the rx_burst that
 * returned it) that a worker leaves for the management lcore, which fits
 * from them the clock of a port it cannot read (lib/nicfit). One writer;
 * the reader copies what is new since its last look and checks @p head
 * again after copying (a pair overwritten meanwhile is skipped).
 */
#define DPN_STAMP_LOG_SIZE 64
struct dpn_stamp_log {
	uint64_t head;			/**< pairs written since start */
	struct {
		uint64_t stamp;
		uint64_t tsc;
	} pair[DPN_STAMP_LOG_SIZE];
	/** The reader's: pairs it has taken (its own cache line). */
	uint64_t read __rte_cache_aligned;
};

/** One queue pair of one port, as seen by the worker that owns it. */
struct dpn_rxq {
	const struct dpn_port *port;
	uint16_t port_id;		/**< also its index in dp->ports */
	uint16_t queue_id;
	struct rte_ring *to_mgmt;	/**< slow path, worker -> management */
	struct rte_ring *from_mgmt;	/**< its answers, management -> worker */
	/* Where the T2 of this queue's requests came from. */
	uint64_t rx_stamp_nic;		/**< the NIC's stamp, mapped */
	uint64_t rx_stamp_tsc;		/**< the TSC at rx_burst */
	struct dpn_stamp_log stamps;
	/**
	 * Transmit times of management frames that asked for one
	 * (RTE_MBUF_F_TX_IEEE1588_TMST: a PTP Delay_Req): how many were
	 * sent, and the TSC of the last (see dpn_worker_mgmt_tx_stamp).
	 * The worker writes the TSC, then the count (release).
	 */
	uint64_t mgmt_tx_stamped;
	uint64_t mgmt_tx_tsc;
};

/*
 * restrict rules compiled for the workers (acl_table.c).
 */

#define DPN_ACL_NO_RULE UINT32_MAX
/** Most restrict rules a compiled table takes (24-bit entry numbers). */
#define DPN_ACL_MAX_RULES 0xfffffeu

struct dpn_dataplane;

/** What an LPM next hop points to: the rule for port 123 and for others. */
struct dpn_acl_entry {
	uint32_t flags_any;
	uint32_t flags_ntp;	/**< source port 123 (`ntpport` rules) */
	uint32_t rule_any;	/**< index in rules, or DPN_ACL_NO_RULE */
	uint32_t rule_ntp;
};

struct dpn_acl_counters {
	uint64_t hits;
	uint64_t drops;
	uint64_t kods;
};

/** An immutable compiled rule set, replaced as a whole (RCU). */
struct dpn_acl_table {
	bool empty;			/**< no rules: skip every lookup */
	bool any_limited;		/**< some rule says `limited` */
	uint32_t generation;
	struct rte_lpm *lpm;
	struct rte_lpm6 *lpm6;
	struct dpn_acl_entry *entries;
	struct dpn_acl_entry def4, def6;	/**< LPM misses */
	struct dpn_rl_params discard;
	struct dpn_acl_ruleset rules;	/**< in match order */
	unsigned int nb_workers;
	/** bytes from one worker's row of counters to the next: whole
	 * cache lines, so that no two workers write one line */
	size_t row_size;
	/** [worker][rule] counters, each worker writes its own row
	 * (dpn_acl_table_row) */
	struct dpn_acl_counters *counters;
	/** carried over from the table this one replaced */
	struct dpn_acl_counters *base;
};

/** Worker @p w's rule counters, indexed by rule: the worker writes
 * them, readers sum them over the rows (dpn_acl_table_rule_counters). */
static inline struct dpn_acl_counters *
dpn_acl_table_row(const struct dpn_acl_table *t, unsigned int w)
{
	return RTE_PTR_ADD(t->counters, (size_t)w * t->row_size);
}

struct dpn_acl_table *dpn_acl_table_create(const struct dpn_acl_ruleset *rs,
					   const struct dpn_rl_params *discard,
					   unsigned int nb_workers,
					   int socket_id, char *err,
					   size_t errlen);
void dpn_acl_table_free(struct dpn_acl_table *t);
/** Sum of a rule's counters over the workers. */
void dpn_acl_table_rule_counters(const struct dpn_acl_table *t,
				 unsigned int rule,
				 struct dpn_acl_counters *out);
/** Sum of a rule's counters over every node's table (index in the
 * rules of the first table; all nodes share one rule order). */
void dpn_dataplane_acl_counters(const struct dpn_dataplane *dp,
				unsigned int rule,
				struct dpn_acl_counters *out);
/** The first node's table (its rules and discard settings are those of
 * every node). */
const struct dpn_acl_table *dpn_dataplane_acl(const struct dpn_dataplane *dp);
/** Carry the counters of rules that stay from @p ot into @p nt. */
void dpn_acl_table_inherit(struct dpn_acl_table *nt,
			   const struct dpn_acl_table *ot);

/*
 * Server-side symmetric keys for the workers (auth_table.c).
 */

struct dpn_auth_counters {
	uint64_t requests;	/**< requests with a MAC under this key ID */
	uint64_t good;		/**< ... whose MAC verified */
	uint64_t bad;		/**< ... whose MAC did not */
	uint64_t replies;	/**< replies signed with the key */
};

/** Trusted keys as the workers see them; replaced as a whole (RCU). */
struct dpn_auth_table {
	bool nak;		/**< a failed request gets a crypto-NAK */
	struct dpn_ntpauth_server *keys;	/**< NULL: none trusted */
	unsigned int nb_keys;
	unsigned int nb_workers;
	unsigned int row;	/**< counters per worker row (cache lines) */
	/** [worker * row + key], each worker writes its own row */
	struct dpn_auth_counters *counters;
	/** [key]: carried over from the table this one replaced */
	struct dpn_auth_counters *base;
};

/**
 * Replace the server's trusted keys (those of @p keys named in
 * @p trusted) and the failure policy (@p nak: crypto-NAK, else drop):
 * build off the workers, publish, wait for every worker (RCU), carry the
 * counters of keys that stay. Not for the workers; one caller at a time.
 * @return 0, or a negative errno with a message (the old keys stay).
 */
int dpn_dataplane_set_auth(struct dpn_dataplane *dp,
			   const struct dpn_ntpauth_keys *keys,
			   const uint32_t *trusted, unsigned int nb_trusted,
			   bool nak, char *err, size_t errlen);
/** The published key table (never NULL once the data plane is up). */
const struct dpn_auth_table *dpn_dataplane_auth(const struct dpn_dataplane *dp);
/** A key's counters summed over the workers. */
void dpn_auth_table_key_counters(const struct dpn_auth_table *t,
				 unsigned int idx,
				 struct dpn_auth_counters *out);
/** Free the key table (dpn_dataplane_fini). */
void dpn_dataplane_auth_fini(struct dpn_dataplane *dp);

/*
 * NTS server keys for the workers (nts_table.c).
 */

/** The keys that open and seal cookies, as the workers see them;
 * replaced as a whole (RCU) when they rotate. */
struct dpn_nts_table {
	struct dpn_nts_keyring kr;
};

/**
 * Publish @p kr to the workers (NULL: NTS off, NTS requests dropped),
 * wait until no worker reads the old copy (RCU), free it. Not for the
 * workers; one caller at a time.
 * @return 0, or -ENOMEM (the old keys stay).
 */
int dpn_dataplane_set_nts(struct dpn_dataplane *dp,
			  const struct dpn_nts_keyring *kr);
/** Free the published keys (dpn_dataplane_fini). */
void dpn_dataplane_nts_fini(struct dpn_dataplane *dp);

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

/** A signed reply that is a crypto-NAK: key ID 0, no MAC. */
/**
 * The mbuf flags that describe the mbuf itself, not what to do with the
 * packet: an answer made in place keeps them when its ol_flags are set
 * for transmit, or an mbuf whose data is an external buffer (mlx5's
 * Multi-Packet RQ hands such ones over) would go back to its pool still
 * pointing at that buffer, which is then never released.
 */
#define DPN_MBUF_OWN_FLAGS (RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT)

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

/*
 * Sending from the management lcore, neighbours and routes (neigh.c).
 *
 * Everything here but dpn_dp_neigh_read() and dpn_dp_neigh_request() is for
 * the management lcore only: the neighbour tables have one writer and
 * no lock, and the rings dpn_mgmt_tx() uses have a single producer.
 */

/** An IPv4 (network order) or IPv6 address. */
union dpn_inaddr {
	uint32_t v4;
	uint8_t v6[16];
};

/** Where a packet to some destination leaves, and from which address. */
struct dpn_route {
	int family;			/**< AF_INET or AF_INET6 */
	unsigned int port_index;	/**< index in dp->ports */
	uint16_t vlan;			/**< 0 = untagged */
	bool on_link;			/**< else through a gateway */
	union dpn_inaddr dst;		/**< the destination asked for */
	union dpn_inaddr src;		/**< our address to send from */
	union dpn_inaddr nexthop;	/**< dst when on link, else gateway */
};

/**
 * An mbuf from port @p port_index's pool for a frame the management
 * lcore builds. @return NULL when the pool is empty or no such port.
 */
struct rte_mbuf *dpn_mgmt_alloc(struct dpn_dataplane *dp,
				unsigned int port_index);

/**
 * Write the Ethernet header of a frame along @p r to MAC @p dst (with an
 * 802.1Q tag when r->vlan is not 0) at the start of the empty mbuf
 * @p m, and set its l2_len and data length to the header's.
 * @return where the layer 3 header goes (append it with
 * rte_pktmbuf_append), or NULL if @p m is not empty.
 */
void *dpn_mgmt_eth_init(const struct dpn_dataplane *dp, struct rte_mbuf *m,
			const struct dpn_route *r,
			const struct rte_ether_addr *dst, uint16_t ether_type);

/**
 * Send the complete frame @p m on port @p port_index: hand it to the
 * worker that owns queue 0 of the port, through its from_mgmt ring (the
 * way slow-path answers go), to leave in that worker's next TX burst.
 * The frame goes as it is: checksums must be complete (or asked of the
 * NIC through ol_flags where the port has the offload). Management
 * lcore only: the ring has a single producer.
 * @return 0 (the mbuf is the worker's now), or a negative errno after
 * freeing @p m and counting it in mgmt_tx_failed (ring full, no port).
 */
int dpn_mgmt_tx(struct dpn_dataplane *dp, unsigned int port_index,
		struct rte_mbuf *m);

/**
 * Find how to reach @p dst_addr (struct in_addr or struct in6_addr, by
 * @p family): the listen address with the longest prefix holding it (any
 * port, its VLAN; an IPv6 link-local destination is on the link of the
 * first IPv6 listen line), else the first listen line of the family that
 * has a gateway, sending through that gateway.
 * @return 0, -EINVAL (not a unicast address, or ours), -EAFNOSUPPORT,
 * or -ENETUNREACH (no prefix holds it and no gateway).
 */
int dpn_route_lookup(struct dpn_dataplane *dp, int family,
		     const void *dst_addr, struct dpn_route *out);

/**
 * The MAC of @p r's next hop. Starts (or continues) resolution when it
 * is not known: an ARP request or a neighbour solicitation to the
 * solicited-node address, at most one per second per neighbour, sent
 * through dpn_mgmt_tx(); the answer comes back through the slow path.
 * A STALE neighbour's MAC is returned and the neighbour reprobed.
 * @return 0 with @p mac filled, -EAGAIN while resolving (ask again
 * later), -EHOSTUNREACH when the neighbour did not answer (FAILED, for
 * DPN_NEIGH_FAILED_NS), -ENOSPC when the table is full of pending
 * entries.
 */
int dpn_dp_neigh_resolve(struct dpn_dataplane *dp, const struct dpn_route *r,
		      struct rte_ether_addr *mac);

/**
 * The neighbour timers (probes, expiry) and requests from other threads
 * (dpn_dp_neigh_request). Call from the management loop; @p now_ns is
 * dpn_neigh_now_ns(). Does nothing more than every 10 ms.
 * @return number of things done (0 = idle).
 */
unsigned int dpn_dp_neigh_poll(struct dpn_dataplane *dp, uint64_t now_ns);

/**
 * Copy port @p port_index's neighbour table, safe from any thread.
 * @return entries copied (at most @p max), or a negative errno.
 */
int dpn_dp_neigh_read(const struct dpn_dataplane *dp, unsigned int port_index,
		   struct dpn_neigh_entry *out, unsigned int max);

/**
 * From a control thread: have the management lcore look up the route to
 * @p dst_addr and start resolving its next hop, waiting at most
 * @p timeout_ms for it to take the request. @p *route is filled and
 * @p *result set to dpn_dp_neigh_resolve()'s return (or the route
 * lookup's).
 * @return 0, or -ETIMEDOUT / -EBUSY when the request was not taken.
 */
int dpn_dp_neigh_request(struct dpn_dataplane *dp, int family,
		      const void *dst_addr, unsigned int timeout_ms,
		      struct dpn_route *route, int *result);

/* Internal to the data plane: set up and tear down the tables; what the
 * slow path heard (port index, family, address, VLAN, MAC). */
int dpn_dp_neigh_init(struct dpn_dataplane *dp);
void dpn_dp_neigh_fini(struct dpn_dataplane *dp);
void dpn_dp_neigh_learn(struct dpn_dataplane *dp, unsigned int port_index,
		     int family, const void *addr, uint16_t vlan,
		     const struct rte_ether_addr *mac,
		     enum dpn_neigh_evidence how);

#endif /* DPN_DATAPLANE_H */
