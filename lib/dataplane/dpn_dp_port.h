/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_DP_PORT_H
#define DPN_DP_PORT_H

/**
 * @file
 * Ports as the data plane uses them: the addresses they answer for,
 * their receive stamps and NIC clocks, and the queue pairs the workers
 * own. Included by dpn_dataplane.h.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dpn_clock.h"
#include "dpn_conf.h"
#include "dpn_nicfit.h"

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

#endif /* DPN_DP_PORT_H */
