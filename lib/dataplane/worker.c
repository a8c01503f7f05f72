/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker: rx_burst -> classify -> answer NTP in place -> tx_burst.
 *
 * Per packet there are no locks, no syscalls, no allocation and no
 * logging: every outcome is a counter in the worker's own dpn_stats.
 * The benchmark in perf/ calls dpn_worker_handle_burst() and
 * dpn_worker_stamp_tx() directly, so it measures this very code.
 */

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dpn_dataplane.h"
#include "dpn_md5x.h"
#include "dpn_ntp.h"
#include "dpn_xleave.h"

#define PREFETCH_OFFSET 4
#define CTR_PREFETCH_AHEAD 4
#define REPLY_TTL 64
#define NTP_UDP_LEN (sizeof(struct rte_udp_hdr) + DPN_NTP_HDR_LEN)

/*
 * What classify() found is kept in the mbuf's own parse fields (l2_len,
 * l3_len, packet_type), never in ol_flags: those still hold what the
 * NIC said (the receive timestamp flag, VLAN stripped, checksums) until
 * the reply is built, and the client side reads the timestamp flag of
 * servers' replies on the management lcore.
 */
#define PTYPE_UDP4 (RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_UDP)
#define PTYPE_UDP6 (RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV6 | RTE_PTYPE_L4_UDP)

static inline bool
is_v4(const struct rte_mbuf *m)
{
	return (m->packet_type & RTE_PTYPE_L3_MASK) == RTE_PTYPE_L3_IPV4;
}

enum action {
	ACT_DROP,
	ACT_NTP,	/* a valid request: restrict and rate limit next */
	ACT_SLOW,
};

/* Checksum state the NIC reported, if it looked. */
static inline bool
l3_cksum_bad(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	if (f == RTE_MBUF_F_RX_IP_CKSUM_GOOD || f == RTE_MBUF_F_RX_IP_CKSUM_NONE)
		return false;
	if (f == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return true;
	return rte_raw_cksum(ip, sizeof(*ip)) != 0xffff;
}

static inline bool
l4_cksum_bad(const struct rte_mbuf *m, const void *ip, bool v6,
	     const struct rte_udp_hdr *udp)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (f == RTE_MBUF_F_RX_L4_CKSUM_GOOD || f == RTE_MBUF_F_RX_L4_CKSUM_NONE)
		return false;
	if (f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return true;
	if (v6)
		return rte_ipv6_udptcp_cksum_verify(ip, udp) != 0;
	/* IPv4 allows "no checksum". */
	if (udp->dgram_cksum == 0)
		return false;
	return rte_ipv4_udptcp_cksum_verify(ip, udp) != 0;
}

/*
 * Sources a reply must never go to: answering them would reflect traffic
 * to a whole subnet or to ourselves (RFC 1122 3.2.1.3, RFC 4291 2.7).
 */
static inline bool
v4_src_bad(const struct dpn_addrs *a, uint32_t src)
{
	uint32_t h = rte_be_to_cpu_32(src);
	unsigned int i;

	/* 0/8, 127/8, 224/4 multicast and 240/4 with 255.255.255.255. */
	if ((h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) >= 0xe)
		return true;
	for (i = 0; i < a->nb_v4; i++)
		if (src == a->v4[i] || src == a->v4_bcast[i])
			return true;
	return false;
}

static inline bool
v6_src_bad(const struct dpn_addrs *a, const uint8_t *src)
{
	static const uint8_t zero[15];
	unsigned int i;

	/* Multicast, :: and ::1. */
	if (src[0] == 0xff || (memcmp(src, zero, 15) == 0 && src[15] <= 1))
		return true;
	for (i = 0; i < a->nb_v6; i++)
		if (memcmp(src, a->v6[i], 16) == 0)
			return true;
	return false;
}

/*
 * Is the NTP payload behind @p udp a request we may answer? Drops are
 * counted here; what the reply will be is decided per burst.
 */
static inline enum action
ntp_accept(struct dpn_worker *w, const struct rte_udp_hdr *udp,
	   unsigned int udp_len)
{
	const struct dpn_ntp_hdr *h = (const void *)(udp + 1);
	enum dpn_ntp_verdict v = dpn_ntp_classify(h, udp_len - sizeof(*udp));

	if (unlikely(v != DPN_NTP_V_OK)) {
		/* A server's reply: for our own client, on the management
		 * lcore, which matches it to a request it sent. */
		if (v == DPN_NTP_V_MODE4)
			return ACT_SLOW;
		w->stats.c[DPN_STAT_DROP_NTP_SHORT + v - 1]++;
		return ACT_DROP;
	}
	/* Requests by mode and version: client ones first (mode 3 has
	 * bit 1 set, mode 1 has not), versions 1 to 4 after the check. */
	w->stats.c[DPN_STAT_NTP_REQUESTS_CLIENT_V1 +
		   ((dpn_ntp_mode_of(h) & 2) ? 0 : 4) +
		   dpn_ntp_version_of(h) - 1]++;
	return ACT_NTP;
}

/* PTP over UDP/IPv4 (IEEE 1588 annex D): event and general ports, and
 * the default multicast group 224.0.1.129. */
#define PTP_EVENT_PORT 319
#define PTP_GENERAL_PORT 320
#define PTP_MCAST_BE RTE_BE32(0xe0000181)

static inline bool
is_ptp_port(rte_be16_t port)
{
	return port == RTE_BE16(PTP_EVENT_PORT) ||
		port == RTE_BE16(PTP_GENERAL_PORT);
}

/*
 * TCP to the port the kernel serves behind us (NTS-KE): for the
 * management lcore, which writes it to the exception path. @p l4 is
 * where the TCP header would start, @p l4_len how many bytes are there.
 */
static __rte_noinline enum action
kernel_tcp(struct dpn_worker *w, const struct dpn_port *port,
	   struct rte_mbuf *m, const void *l4, unsigned int l4_len,
	   unsigned int l3_len, uint32_t ptype)
{
	const struct rte_tcp_hdr *tcp = l4;

	if (port->kernel_tcp_port == 0 || l4_len < sizeof(*tcp) ||
	    tcp->dst_port != port->kernel_tcp_port) {
		w->stats.c[DPN_STAT_DROP_PROTO]++;
		return ACT_DROP;
	}
	m->l3_len = l3_len;
	m->packet_type = RTE_PTYPE_L2_ETHER | ptype | RTE_PTYPE_L4_TCP;
	return ACT_SLOW;
}

/* A PTP datagram for the management lcore's slave; header checked. */
static __rte_noinline enum action
ptp_udp4(struct dpn_worker *w, struct rte_mbuf *m,
	 const struct rte_ipv4_hdr *ip, unsigned int tot_len)
{
	const struct rte_udp_hdr *udp = (const void *)(ip + 1);

	if (ip->next_proto_id != IPPROTO_UDP ||
	    tot_len < sizeof(*ip) + sizeof(*udp) ||
	    rte_be_to_cpu_16(udp->dgram_len) != tot_len - sizeof(*ip) ||
	    !is_ptp_port(udp->dst_port)) {
		w->stats.c[DPN_STAT_DROP_NOT_LOCAL]++;
		return ACT_DROP;
	}
	m->l3_len = sizeof(*ip);
	m->packet_type = PTYPE_UDP4;
	return ACT_SLOW;
}

static inline enum action
handle_ipv4(struct dpn_worker *w, const struct dpn_port *port,
	    struct rte_mbuf *m, unsigned int l2, uint16_t vlan)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m,
		struct rte_ipv4_hdr *, l2);
	struct rte_udp_hdr *udp;
	unsigned int tot_len, udp_len;
	if (unlikely(m->data_len < l2 + sizeof(*ip) + sizeof(*udp) &&
		     m->data_len < l2 + sizeof(*ip)))
		goto bad_header;
	/* Options are legal but unused by NTP clients: not answered. */
	if (unlikely(ip->version_ihl != RTE_IPV4_VHL_DEF))
		goto bad_header;
	tot_len = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(tot_len < sizeof(*ip) || l2 + tot_len > m->data_len))
		goto bad_header;
	if (unlikely(l3_cksum_bad(m, ip))) {
		w->stats.c[DPN_STAT_DROP_IPV4_CHECKSUM]++;
		return ACT_DROP;
	}
	if (unlikely(ip->fragment_offset &
		     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
				      RTE_IPV4_HDR_OFFSET_MASK))) {
		w->stats.c[DPN_STAT_DROP_IP_FRAGMENT]++;
		return ACT_DROP;
	}
	if (unlikely(!dpn_addrs_has_v4(&port->addrs, ip->dst_addr, vlan))) {
		if (port->ptp_udp && ip->dst_addr == PTP_MCAST_BE)
			return ptp_udp4(w, m, ip, tot_len);
		w->stats.c[DPN_STAT_DROP_NOT_LOCAL]++;
		return ACT_DROP;
	}
	if (ip->next_proto_id != IPPROTO_UDP) {
		if (ip->next_proto_id == IPPROTO_ICMP) {
			m->l3_len = sizeof(*ip);
			m->packet_type = RTE_PTYPE_L2_ETHER |
				RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_ICMP;
			return ACT_SLOW;
		}
		if (ip->next_proto_id == IPPROTO_TCP)
			return kernel_tcp(w, port, m, ip + 1,
					  tot_len - sizeof(*ip), sizeof(*ip),
					  RTE_PTYPE_L3_IPV4);
		w->stats.c[DPN_STAT_DROP_PROTO]++;
		return ACT_DROP;
	}
	if (unlikely(tot_len < sizeof(*ip) + sizeof(*udp)))
		goto bad_udp_len;
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	if (unlikely(udp_len != tot_len - sizeof(*ip)))
		goto bad_udp_len;
	if (unlikely(udp->dst_port != rte_cpu_to_be_16(DPN_NTP_PORT))) {
		if (port->ptp_udp && is_ptp_port(udp->dst_port))
			return ptp_udp4(w, m, ip, tot_len);
		w->stats.c[DPN_STAT_DROP_UDP_PORT]++;
		return ACT_DROP;
	}
	if (unlikely(udp->src_port == 0 ||
		     v4_src_bad(&port->addrs, ip->src_addr))) {
		w->stats.c[DPN_STAT_DROP_BAD_SOURCE]++;
		return ACT_DROP;
	}
	if (unlikely(l4_cksum_bad(m, ip, false, udp))) {
		w->stats.c[DPN_STAT_DROP_UDP_CHECKSUM]++;
		return ACT_DROP;
	}
	m->l3_len = sizeof(*ip);
	m->packet_type = PTYPE_UDP4;
	return ntp_accept(w, udp, udp_len);

bad_header:
	w->stats.c[DPN_STAT_DROP_IP_HEADER]++;
	return ACT_DROP;
bad_udp_len:
	w->stats.c[DPN_STAT_DROP_UDP_LENGTH]++;
	return ACT_DROP;
}

static inline bool
ipv6_is_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static inline enum action
handle_ipv6(struct dpn_worker *w, const struct dpn_port *port,
	    struct rte_mbuf *m, unsigned int l2, uint16_t vlan)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m,
		struct rte_ipv6_hdr *, l2);
	struct rte_udp_hdr *udp;
	unsigned int pay_len, udp_len;

	if (unlikely(m->data_len < l2 + sizeof(*ip)))
		goto bad_header;
	if (unlikely((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6))
		goto bad_header;
	pay_len = rte_be_to_cpu_16(ip->payload_len);
	if (unlikely(l2 + sizeof(*ip) + pay_len > m->data_len))
		goto bad_header;
	if (ip->proto == IPPROTO_ICMPV6) {
		/* NDP goes to solicited-node multicast addresses. */
		if (ipv6_is_multicast(ip->dst_addr) ||
		    dpn_addrs_has_v6(&port->addrs, ip->dst_addr, vlan)) {
			m->l3_len = sizeof(*ip);
			m->packet_type = RTE_PTYPE_L2_ETHER |
				RTE_PTYPE_L3_IPV6 | RTE_PTYPE_L4_ICMP;
			return ACT_SLOW;
		}
		w->stats.c[DPN_STAT_DROP_NOT_LOCAL]++;
		return ACT_DROP;
	}
	if (unlikely(ip->proto == IPPROTO_FRAGMENT)) {
		w->stats.c[DPN_STAT_DROP_IP_FRAGMENT]++;
		return ACT_DROP;
	}
	if (unlikely(!dpn_addrs_has_v6(&port->addrs, ip->dst_addr, vlan))) {
		w->stats.c[DPN_STAT_DROP_NOT_LOCAL]++;
		return ACT_DROP;
	}
	if (ip->proto != IPPROTO_UDP) {
		/* NTP clients send no extension headers; not answered. */
		if (ip->proto == IPPROTO_HOPOPTS ||
		    ip->proto == IPPROTO_ROUTING ||
		    ip->proto == IPPROTO_DSTOPTS)
			goto bad_header;
		if (ip->proto == IPPROTO_TCP)
			return kernel_tcp(w, port, m, ip + 1, pay_len,
					  sizeof(*ip), RTE_PTYPE_L3_IPV6);
		w->stats.c[DPN_STAT_DROP_PROTO]++;
		return ACT_DROP;
	}
	if (unlikely(pay_len < sizeof(*udp)))
		goto bad_udp_len;
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	if (unlikely(udp_len != pay_len))
		goto bad_udp_len;
	if (unlikely(udp->dst_port != rte_cpu_to_be_16(DPN_NTP_PORT))) {
		w->stats.c[DPN_STAT_DROP_UDP_PORT]++;
		return ACT_DROP;
	}
	if (unlikely(udp->src_port == 0 ||
		     v6_src_bad(&port->addrs, ip->src_addr))) {
		w->stats.c[DPN_STAT_DROP_BAD_SOURCE]++;
		return ACT_DROP;
	}
	/* The UDP checksum is mandatory over IPv6. */
	if (unlikely(udp->dgram_cksum == 0 || l4_cksum_bad(m, ip, true, udp))) {
		w->stats.c[DPN_STAT_DROP_UDP_CHECKSUM]++;
		return ACT_DROP;
	}
	m->l3_len = sizeof(*ip);
	m->packet_type = PTYPE_UDP6;
	return ntp_accept(w, udp, udp_len);

bad_header:
	w->stats.c[DPN_STAT_DROP_IP_HEADER]++;
	return ACT_DROP;
bad_udp_len:
	w->stats.c[DPN_STAT_DROP_UDP_LENGTH]++;
	return ACT_DROP;
}

/* What the burst's stamps say, gathered while its packets are read. */
struct burst_stamps {
	uint64_t latest;	/* the latest NIC stamp of the burst */
	uint16_t nb_nic;	/* requests whose T2 is their NIC stamp */
	uint16_t nb_tsc;	/* requests whose T2 is the burst's TSC */
};

/*
 * T2 for one request: the NIC's stamp mapped onto the served clock when
 * the port stamped it and the management lcore has a model for the
 * port's clock, else the burst's TSC. Made unique and tagged for
 * interleaved mode (dpn_xleave_rx_ts). Reads the timestamp flag the PMD
 * set: nothing before this may rewrite ol_flags.
 */
static inline uint64_t
rx_stamp(struct dpn_worker *w, const struct dpn_rxq *q,
	 const struct rte_mbuf *m, uint64_t burst_t2,
	 const struct dpn_clock_snapshot *snap, struct burst_stamps *bs)
{
	const struct dpn_clock_model *nic = &snap->nic[q->port_id];
	uint64_t stamp, t2 = burst_t2;

	if (m->ol_flags & w->ts_dynflag) {
		stamp = *RTE_MBUF_DYNFIELD(m, w->ts_dynfield_offset,
					   uint64_t *);
		if (stamp > bs->latest)
			bs->latest = stamp;
		if (nic->mult != 0) {
			t2 = dpn_ntp_ts_from_unix_ns(
				dpn_clock_model_ns(nic, stamp));
			bs->nb_nic++;
			goto unique;
		}
	}
	bs->nb_tsc++;
unique:
	t2 = dpn_xleave_rx_ts(&w->xleave, t2);
	/* The reply will be saved under t2: fetch its index line now. */
	if (dpn_xleave_enabled(&w->xleave))
		rte_prefetch0(dpn_xleave_line(&w->xleave, t2));
	return t2;
}

/*
 * Account the burst's stamps: the counters, and the pair (latest stamp,
 * TSC at rx_burst) from which the management lcore fits a port clock it
 * cannot read (the stamp precedes rx_burst, so these pairs bound the
 * clock from below: lib/nicfit).
 */
static inline void
stamps_done(struct dpn_worker *w, struct dpn_rxq *q,
	    const struct burst_stamps *bs, uint64_t rx_tsc)
{
	struct dpn_stamp_log *log = &q->stamps;
	uint64_t h;

	w->stats.c[DPN_STAT_RX_STAMP_NIC] += bs->nb_nic;
	w->stats.c[DPN_STAT_RX_STAMP_TSC] += bs->nb_tsc;
	q->rx_stamp_nic += bs->nb_nic;
	q->rx_stamp_tsc += bs->nb_tsc;
	if (bs->latest == 0)
		return;
	h = log->head;
	log->pair[h % DPN_STAMP_LOG_SIZE].stamp = bs->latest;
	log->pair[h % DPN_STAMP_LOG_SIZE].tsc = rx_tsc;
	__atomic_store_n(&log->head, h + 1, __ATOMIC_RELEASE);
}

static inline enum action
classify(struct dpn_worker *w, const struct dpn_rxq *q, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	unsigned int l2 = sizeof(*eth);
	uint16_t type;
	uint16_t vlan = 0;
	bool stripped = m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED;
	enum action act;

	if (unlikely(m->data_len < sizeof(*eth) || m->nb_segs != 1))
		goto drop_l2;
	type = eth->ether_type;
	if (stripped) {
		vlan = m->vlan_tci & 0xfff;
	} else if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eth + 1);

		if (unlikely(m->data_len < l2 + sizeof(*vh)))
			goto drop_l2;
		vlan = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
		type = vh->eth_proto;
		l2 += sizeof(*vh);
	}
	m->l2_len = l2;

	/*
	 * With af_packet or a promiscuous port we also see frames for other
	 * hosts: only unicast to us (and multicast, for NDP) is ours. A
	 * group source address would turn a reply into a broadcast.
	 */
	if (unlikely(!rte_is_same_ether_addr(&eth->dst_addr, &q->port->mac) &&
		     !rte_is_multicast_ether_addr(&eth->dst_addr))) {
		w->stats.c[DPN_STAT_DROP_NOT_LOCAL]++;
		return ACT_DROP;
	}
	if (unlikely(rte_is_multicast_ether_addr(&eth->src_addr))) {
		w->stats.c[DPN_STAT_DROP_BAD_SOURCE]++;
		return ACT_DROP;
	}

	if (likely(type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)))
		act = handle_ipv4(w, q->port, m, l2, vlan);
	else if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6))
		act = handle_ipv6(w, q->port, m, l2, vlan);
	else if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
		m->packet_type = RTE_PTYPE_L2_ETHER_ARP;
		return ACT_SLOW;
	} else if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_1588) &&
		   q->port->ptp_l2) {
		m->packet_type = RTE_PTYPE_L2_ETHER_TIMESYNC;
		return ACT_SLOW;
	} else
		goto drop_l2;
	return act;

drop_l2:
	w->stats.c[DPN_STAT_DROP_L2]++;
	return ACT_DROP;
}

static inline struct rte_udp_hdr *
udp_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *,
				       m->l2_len + m->l3_len);
}

/*
 * Put the 802.1Q tag the NIC stripped from a request back into its
 * answer's frame, for a port whose PMD cannot insert it on transmit
 * (tx_vlan_sw). rte_vlan_insert() moves the MAC addresses into the
 * headroom, so what follows them stays where it was, and grows l2_len,
 * through which the rest of the worker finds the headers. It refuses
 * only shared or indirect mbufs and frames with under 4 bytes of
 * headroom, which no PMD hands over (RTE_PKTMBUF_HEADROOM): then the
 * NIC is still asked for the tag (RTE_MBUF_F_TX_VLAN stays set).
 */
static __rte_noinline void
vlan_insert_sw(struct rte_mbuf *m)
{
	(void)rte_vlan_insert(&m);
}

/* Turn an accepted request into its answer's frame: addresses, ports,
 * lengths for an NTP payload of @p ntp_len bytes (48 but for signed
 * replies). The NTP payload is written by the caller. */
static inline void
turn_around_len(const struct dpn_rxq *q, struct rte_mbuf *m,
		unsigned int ntp_len)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	void *l3 = RTE_PTR_ADD(eth, m->l2_len);
	struct rte_udp_hdr *udp = RTE_PTR_ADD(l3, m->l3_len);
	uint16_t port = udp->src_port;

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&q->port->mac, &eth->src_addr);
	/* From here on ol_flags say what to do on transmit; a tag the NIC
	 * took off is put back (vlan_tci is kept). */
	m->ol_flags = (m->ol_flags & DPN_MBUF_OWN_FLAGS) |
		(is_v4(m) ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6) |
		((m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) ?
		 RTE_MBUF_F_TX_VLAN : 0);
	if (is_v4(m)) {
		struct rte_ipv4_hdr *ip = l3;
		uint32_t a = ip->src_addr;

		ip->src_addr = ip->dst_addr;
		ip->dst_addr = a;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) +
						    sizeof(*udp) + ntp_len);
		ip->time_to_live = REPLY_TTL;
		ip->hdr_checksum = 0;
	} else {
		struct rte_ipv6_hdr *ip = l3;
		uint8_t a[16];

		memcpy(a, ip->src_addr, 16);
		memcpy(ip->src_addr, ip->dst_addr, 16);
		memcpy(ip->dst_addr, a, 16);
		ip->payload_len = rte_cpu_to_be_16(sizeof(*udp) + ntp_len);
		ip->hop_limits = REPLY_TTL;
	}
	udp->src_port = udp->dst_port;
	udp->dst_port = port;
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + ntp_len);
	udp->dgram_cksum = 0;
	m->l4_len = sizeof(*udp);
	m->data_len = m->pkt_len = m->l2_len + m->l3_len + sizeof(*udp) +
		ntp_len;
	/* Decided at port setup; ports that insert tags never get here. */
	if (unlikely((m->ol_flags & RTE_MBUF_F_TX_VLAN) &&
		     q->port->tx_vlan_sw))
		vlan_insert_sw(m);
}

static inline void
turn_around(const struct dpn_rxq *q, struct rte_mbuf *m)
{
	turn_around_len(q, m, DPN_NTP_HDR_LEN);
}

/* Checksums of a reply that is complete (it needs no T3). */
static inline void
cksum_complete(struct rte_mbuf *m)
{
	struct rte_udp_hdr *udp = udp_of(m);
	void *l3 = rte_pktmbuf_mtod_offset(m, void *, m->l2_len);

	if (is_v4(m)) {
		((struct rte_ipv4_hdr *)l3)->hdr_checksum = rte_ipv4_cksum(l3);
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(l3, udp);
	} else {
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(l3, udp);
	}
}

/*
 * Is this an interleaved request (RFC 9769)? A client request of version
 * 4 whose origin is a receive timestamp we gave (lowest bit set) and
 * whose receive and transmit fields differ (as chrony checks).
 */
static inline bool
xleave_asked(const struct dpn_worker *w, const struct dpn_ntp_hdr *ntp)
{
	return (rte_be_to_cpu_64(ntp->orig_ts) & 1) &&
		dpn_ntp_version_of(ntp) == 4 &&
		dpn_ntp_mode_of(ntp) == DPN_NTP_MODE_CLIENT &&
		ntp->recv_ts != ntp->xmt_ts && dpn_xleave_enabled(&w->xleave);
}

/*
 * Answer an accepted request in place. @return true when the reply is
 * interleaved, and so complete: its transmit timestamp is the saved
 * one, not T3.
 */
static inline bool
answer(struct dpn_worker *w, const struct dpn_rxq *q, struct rte_mbuf *m,
       uint64_t t2, const struct dpn_ntp_sysinfo *si)
{
	struct rte_udp_hdr *udp = udp_of(m);
	struct dpn_ntp_hdr *ntp = (struct dpn_ntp_hdr *)(udp + 1);
	uint64_t tx;

	w->stats.c[dpn_ntp_mode_of(ntp) == DPN_NTP_MODE_CLIENT ?
		   DPN_STAT_NTP_SERVER_REPLIES :
		   DPN_STAT_NTP_SYMMETRIC_REPLIES]++;
	if (unlikely(xleave_asked(w, ntp))) {
		tx = dpn_xleave_take(&w->xleave,
				     rte_be_to_cpu_64(ntp->orig_ts));
		if (tx != 0) {
			w->stats.c[DPN_STAT_NTP_INTERLEAVED_REPLIES]++;
			dpn_ntp_build_reply_interleaved(ntp, si, t2, tx);
			turn_around(q, m);
			cksum_complete(m);
			return true;
		}
		w->stats.c[DPN_STAT_NTP_INTERLEAVED_MISSES]++;
	}
	dpn_ntp_build_reply(ntp, si, t2);
	turn_around(q, m);
	return false;
}

/* A complete KoD RATE: it carries no time, so it needs no T3. */
static inline void
answer_kod(const struct dpn_rxq *q, struct rte_mbuf *m, int8_t min_poll)
{
	struct rte_udp_hdr *udp = udp_of(m);

	dpn_ntp_build_kod((struct dpn_ntp_hdr *)(udp + 1),
			  dpn_ntp_refid_from_str("RATE"), min_poll);
	turn_around(q, m);
	cksum_complete(m);
}

/* A request waiting for its restrict and rate-limit verdict. */
struct pending {
	uint8_t key[DPN_RL_KEY_LEN];	/* first: 8-byte aligned words */
	struct rte_mbuf *m;
	uint64_t t2;
	const struct dpn_acl_entry *e;
	struct dpn_rl_slot *slot;	/* the client's, if known */
	uint32_t hash;
};

/*
 * A client's restrict entry, cached in its rate-limit slot (user): the
 * rule set's tag in the top byte (never 0, so a new slot's 0 is never a
 * verdict) and the index of the entry in the low 24 bits (LPM next hops
 * have 24 bits), or ACL_REF_DEFAULT for the family's default.
 */
#define ACL_REF_DEFAULT 0xffffffu
#define ACL_REF_INDEX(ref) ((ref) & 0xffffffu)

static inline uint32_t
acl_tag_of(uint32_t generation)
{
	return (0x80u | (generation & 0x7fu)) << 24;
}

static inline bool
acl_ref_valid(const struct dpn_worker *w, const struct dpn_rl_slot *s)
{
	return (s->user & 0xff000000u) == w->acl_tag &&
		(int32_t)(s->last - w->acl_valid_after) > 0;
}

static inline const struct dpn_acl_entry *
acl_ref_entry(const struct dpn_acl_table *acl, uint32_t ref, bool v4)
{
	if (ACL_REF_INDEX(ref) == ACL_REF_DEFAULT)
		return v4 ? &acl->def4 : &acl->def6;
	return &acl->entries[ACL_REF_INDEX(ref)];
}

static inline uint32_t
acl_ref_of(const struct dpn_worker *w, const struct dpn_acl_table *acl,
	   const struct dpn_acl_entry *e)
{
	if (e == &acl->def4 || e == &acl->def6)
		return w->acl_tag | ACL_REF_DEFAULT;
	return w->acl_tag | (uint32_t)(e - acl->entries);
}

/*
 * Find the restrict entry of the pending requests @p idx[0..n) (all of
 * them if @p idx is NULL) with the bulk LPM lookups. IPv4 and IPv6
 * requests are looked up in two batches.
 */
static inline void
acl_lookup(const struct dpn_acl_table *acl, struct pending *p,
	   const uint16_t *idx, unsigned int n)
{
	uint32_t ip4[DPN_BURST * 2], nh4[DPN_BURST * 2];
	uint8_t ip6[DPN_BURST * 2][16];
	int32_t nh6[DPN_BURST * 2];
	uint16_t i4[DPN_BURST * 2], i6[DPN_BURST * 2];
	unsigned int i, n4 = 0, n6 = 0;

	for (i = 0; i < n; i++) {
		uint16_t k = idx == NULL ? i : idx[i];
		struct rte_mbuf *m = p[k].m;
		void *l3 = rte_pktmbuf_mtod_offset(m, void *, m->l2_len);

		if (is_v4(m)) {
			ip4[n4] = rte_be_to_cpu_32(
				((struct rte_ipv4_hdr *)l3)->src_addr);
			i4[n4++] = k;
		} else {
			memcpy(ip6[n6], ((struct rte_ipv6_hdr *)l3)->src_addr,
			       16);
			i6[n6++] = k;
		}
	}
	if (n4 != 0 && acl->lpm == NULL) {
		for (i = 0; i < n4; i++)
			p[i4[i]].e = &acl->def4;
	} else if (n4 != 0) {
		rte_lpm_lookup_bulk(acl->lpm, ip4, nh4, n4);
		for (i = 0; i < n4; i++) {
			p[i4[i]].e = (nh4[i] & RTE_LPM_LOOKUP_SUCCESS) ?
				&acl->entries[nh4[i] & 0xffffff] : &acl->def4;
			rte_prefetch0(p[i4[i]].e);
		}
	}
	if (n6 != 0 && acl->lpm6 == NULL) {
		for (i = 0; i < n6; i++)
			p[i6[i]].e = &acl->def6;
	} else if (n6 != 0) {
		rte_lpm6_lookup_bulk_func(acl->lpm6, ip6, nh6, n6);
		for (i = 0; i < n6; i++) {
			p[i6[i]].e = nh6[i] >= 0 ? &acl->entries[nh6[i]] :
				&acl->def6;
			rte_prefetch0(p[i6[i]].e);
		}
	}
}

/*
 * Where a rule set rate-limits, every limited client has a slot, and
 * its slot remembers its restrict entry: known clients skip the LPM
 * (one random cache line per request instead of two or more). The rest
 * are looked up.
 */
static inline void
acl_find(struct dpn_worker *w, const struct dpn_acl_table *acl,
	 struct pending *p, unsigned int n)
{
	uint16_t miss[DPN_BURST * 2];
	unsigned int i, n_miss = 0;

	if (!acl->any_limited) {
		acl_lookup(acl, p, NULL, n);
		return;
	}
	for (i = 0; i < n; i++) {
		struct dpn_rl_slot *s = dpn_rl_find(&w->rl, p[i].key,
						    p[i].hash);

		p[i].slot = s;
		if (s != NULL && acl_ref_valid(w, s)) {
			p[i].e = acl_ref_entry(acl, s->user, is_v4(p[i].m));
			rte_prefetch0(p[i].e);
		} else {
			miss[n_miss++] = (uint16_t)i;
		}
	}
	if (n_miss != 0)
		acl_lookup(acl, p, miss, n_miss);
}

static inline void
rl_key(struct rte_mbuf *m, uint8_t *key)
{
	void *l3 = rte_pktmbuf_mtod_offset(m, void *, m->l2_len);

	if (is_v4(m))
		dpn_rl_key_v4(key, ((struct rte_ipv4_hdr *)l3)->src_addr);
	else
		memcpy(key, ((struct rte_ipv6_hdr *)l3)->src_addr, 16);
}

/*
 * The restrict and client tables are large and read at random: start
 * loading what this request will need now, so that it has arrived by
 * the time the burst is judged.
 */
static inline void
early_prefetch(struct dpn_worker *w, const struct dpn_acl_table *acl,
	       struct pending *p)
{
	struct rte_mbuf *m = p->m;
	void *l3 = rte_pktmbuf_mtod_offset(m, void *, m->l2_len);

	if (!acl->any_limited) {
		if (is_v4(m) && acl->lpm != NULL)
			rte_prefetch0(&acl->lpm->tbl24[rte_be_to_cpu_32(
				((struct rte_ipv4_hdr *)l3)->src_addr) >> 8]);
		return;
	}
	/* The client's bucket, which usually also holds its verdict. */
	rl_key(m, p->key);
	p->hash = dpn_rl_hash(p->key, w->rl.seed);
	rte_prefetch0(dpn_rl_bucket_of(&w->rl, p->hash));
}

/* Both of a request's rule counters (they are usually the same). */
static inline void
prefetch_counter(struct dpn_acl_counters *ctr, const struct dpn_acl_entry *e)
{
	if (e->rule_any != DPN_ACL_NO_RULE)
		rte_prefetch0(&ctr[e->rule_any]);
	if (e->rule_ntp != e->rule_any && e->rule_ntp != DPN_ACL_NO_RULE)
		rte_prefetch0(&ctr[e->rule_ntp]);
}

static const uint8_t acl_drop_stat[] = {
	[DPN_ACL_DROP_IGNORE] = DPN_STAT_ACL_IGNORE,
	[DPN_ACL_DROP_NOSERVE] = DPN_STAT_ACL_NOSERVE,
	[DPN_ACL_DROP_NOQUERY] = DPN_STAT_ACL_NOQUERY,
	[DPN_ACL_DROP_NOPEER] = DPN_STAT_ACL_NOPEER,
	[DPN_ACL_DROP_NOTRUST] = DPN_STAT_ACL_NOTRUST,
	[DPN_ACL_DROP_VERSION] = DPN_STAT_ACL_VERSION,
};

/* Where a burst's packets go, in the order they will be sent. */
struct burst_out {
	struct rte_mbuf *basic[DPN_BURST * 2];	/* replies waiting for T3 */
	struct rte_mbuf *xleave[DPN_BURST * 2];	/* interleaved, complete */
	struct rte_mbuf *kod[DPN_BURST * 2];	/* KoD RATE, complete */
	struct rte_mbuf *sign[DPN_BURST * 2];	/* waiting for T3 and MAC */
	struct rte_mbuf *slow[DPN_BURST * 2];
	struct rte_mbuf *drop[DPN_BURST * 2];
	uint16_t nb_basic, nb_xleave, nb_kod, nb_sign, nb_slow, nb_drop;
	uint16_t sign_key[DPN_BURST * 2];	/* key index, NAK or NTS */
	struct dpn_auth_table *auth;	/* what sign_key indexes */
	struct dpn_nts_table *nts;	/* loaded at the first NTS request */
	struct dpn_nts_pending nts_p[DPN_BURST * 2];	/* by sign index */
	/* MAC requests, checked together (auth_burst) */
	uint16_t nb_mac;
	struct rte_mbuf *mac_m[DPN_BURST * 2];
	uint64_t mac_t2[DPN_BURST * 2];
	uint16_t mac_idx[DPN_BURST * 2];
	/* NTS requests, checked and answered together (nts_burst) */
	uint16_t nb_nts;
	struct rte_mbuf *nts_m[DPN_BURST * 2];
	uint64_t nts_t2[DPN_BURST * 2];
	struct dpn_nts_check nts_c[DPN_BURST * 2];
};

/* The NTP payload's length (classify checked the UDP length). */
static inline unsigned int
ntp_len_of(struct rte_mbuf *m)
{
	return rte_be_to_cpu_16(udp_of(m)->dgram_len) -
		sizeof(struct rte_udp_hdr);
}

/*
 * Does an NTP payload of @p len bytes end in a MAC? After the header,
 * exactly a key ID and 16 (MD5, CMAC) or 20 (SHA-1) bytes: RFC 7822
 * tells these lengths from extension fields.
 */
static inline bool
has_mac(unsigned int len)
{
	return len == DPN_NTP_HDR_LEN + 4 + 16 || len == DPN_NTP_HDR_LEN + 4 + 20;
}

/*
 * A request with a MAC that restrict and the rate limit let through. Its
 * key must be trusted and its MAC verify (auth_burst checks the burst's
 * together): then the reply is signed with the same key (its T3 and MAC
 * in dpn_worker_stamp_tx), as long as the request. Otherwise `authfail`
 * decides: a crypto-NAK (ntpd's: the reply's header and a key ID of 0)
 * or nothing.
 */
static void
auth_refuse(struct dpn_worker *w, const struct dpn_rxq *q,
	    struct rte_mbuf *m, uint64_t t2, const struct dpn_ntp_sysinfo *si,
	    struct burst_out *o)
{
	struct dpn_ntp_hdr *ntp = (struct dpn_ntp_hdr *)(udp_of(m) + 1);

	if (o->auth != NULL && !o->auth->nak) {
		w->stats.c[DPN_STAT_NTP_AUTH_DROPPED]++;
		o->drop[o->nb_drop++] = m;
		return;
	}
	w->stats.c[DPN_STAT_NTP_AUTH_NAK]++;
	dpn_ntp_build_reply(ntp, si, t2);
	turn_around_len(q, m, DPN_NTP_HDR_LEN + 4);
	o->sign_key[o->nb_sign] = DPN_AUTH_NAK;
	o->sign[o->nb_sign++] = m;
}

/* A key index for a key that is not trusted (or no keys at all). */
#define MAC_NO_KEY UINT16_MAX

static __rte_noinline void
auth_out(struct dpn_worker *w, struct rte_mbuf *m, uint64_t t2,
	 struct burst_out *o)
{
	struct dpn_auth_table *t = o->auth;
	const uint8_t *ntp = (const uint8_t *)(udp_of(m) + 1);
	uint32_t id;
	int idx;

	if (t == NULL)
		o->auth = t = __atomic_load_n(w->auth, __ATOMIC_ACQUIRE);
	memcpy(&id, ntp + DPN_NTP_HDR_LEN, sizeof(id));
	idx = t == NULL ? -1 :
		dpn_ntpauth_server_find(t->keys, rte_be_to_cpu_32(id));
	o->mac_m[o->nb_mac] = m;
	o->mac_t2[o->nb_mac] = t2;
	o->mac_idx[o->nb_mac++] = idx < 0 ? MAC_NO_KEY : (uint16_t)idx;
}

/* The burst's MAC requests, their MACs checked side by side. */
static __rte_noinline void
auth_burst(struct dpn_worker *w, const struct dpn_rxq *q,
	   const struct dpn_ntp_sysinfo *si, struct burst_out *o)
{
	struct dpn_auth_table *t = o->auth;
	const void *pkt[DPN_BURST * 2];
	size_t len[DPN_BURST * 2];
	bool ok[DPN_BURST * 2];
	unsigned int i;

	for (i = 0; i < o->nb_mac; i++) {
		pkt[i] = udp_of(o->mac_m[i]) + 1;
		len[i] = ntp_len_of(o->mac_m[i]);
		ok[i] = false;
	}
	/* Untrusted keys' indexes are past the table: never ok. */
	if (t != NULL)
		dpn_ntpauth_server_verify_burst(t->keys, o->mac_idx, pkt, len,
						ok, o->nb_mac);
	for (i = 0; i < o->nb_mac; i++) {
		struct rte_mbuf *m = o->mac_m[i];
		struct dpn_ntp_hdr *ntp = (struct dpn_ntp_hdr *)(udp_of(m) + 1);
		struct dpn_auth_counters *ctr;

		if (o->mac_idx[i] == MAC_NO_KEY) {
			w->stats.c[DPN_STAT_NTP_AUTH_UNKNOWN_KEY]++;
			auth_refuse(w, q, m, o->mac_t2[i], si, o);
			continue;
		}
		ctr = &t->counters[(size_t)w->index * t->row + o->mac_idx[i]];
		ctr->requests++;
		if (!ok[i]) {
			ctr->bad++;
			w->stats.c[DPN_STAT_NTP_AUTH_BAD_MAC]++;
			auth_refuse(w, q, m, o->mac_t2[i], si, o);
			continue;
		}
		ctr->good++;
		ctr->replies++;
		w->stats.c[dpn_ntp_mode_of(ntp) == DPN_NTP_MODE_CLIENT ?
			   DPN_STAT_NTP_SERVER_REPLIES :
			   DPN_STAT_NTP_SYMMETRIC_REPLIES]++;
		w->stats.c[DPN_STAT_NTP_AUTH_SIGNED]++;
		dpn_ntp_build_reply(ntp, si, o->mac_t2[i]);
		turn_around_len(q, m, (unsigned int)len[i]);
		o->sign_key[o->nb_sign] = o->mac_idx[i];
		o->sign[o->nb_sign++] = m;
	}
}

/*
 * A request with extension fields: a well-formed NTS request (RFC 8915)
 * waits for nts_burst(), which checks the burst's NTS requests together;
 * malformed NTS fields, NTS fields while NTS is off, and NTS in other
 * modes than client are dropped. @return false if the request has no NTS
 * field at all.
 */
static __rte_noinline bool
nts_out(struct dpn_worker *w, struct rte_mbuf *m, unsigned int len,
	uint64_t t2, struct burst_out *o)
{
	struct dpn_ntp_hdr *ntp = (struct dpn_ntp_hdr *)(udp_of(m) + 1);
	struct dpn_nts_check *c = &o->nts_c[o->nb_nts];
	enum dpn_nts_kind k = dpn_nts_parse((uint8_t *)ntp, len, &c->r);

	if (likely(k == DPN_NTS_NONE))
		return false;
	if (k == DPN_NTS_MALFORMED ||
	    dpn_ntp_mode_of(ntp) != DPN_NTP_MODE_CLIENT) {
		w->stats.c[DPN_STAT_NTP_NTS_MALFORMED]++;
		goto drop;
	}
	if (o->nts == NULL)
		o->nts = __atomic_load_n(w->nts, __ATOMIC_ACQUIRE);
	if (o->nts == NULL) {
		w->stats.c[DPN_STAT_NTP_NTS_OFF]++;
		goto drop;
	}
	c->pkt = (uint8_t *)ntp;
	c->len = len;
	o->nts_m[o->nb_nts] = m;
	o->nts_t2[o->nb_nts++] = t2;
	return true;
drop:
	o->drop[o->nb_drop++] = m;
	return true;
}

/*
 * The burst's NTS requests, side by side through the AES lanes: their
 * cookies opened and authenticators checked, then the replies laid out
 * and their new cookies sealed; each is sealed after T3 in
 * dpn_worker_stamp_tx. One whose cookie does not open or whose
 * authenticator does not verify gets an NTS NAK.
 */
static __rte_noinline void
nts_burst(struct dpn_worker *w, const struct dpn_rxq *q,
	  const struct dpn_ntp_sysinfo *si, struct burst_out *o)
{
	struct dpn_nts_check *ok[DPN_BURST * 2];
	unsigned int i, nb_ok = 0;

	dpn_nts_verify_burst(&o->nts->kr, o->nts_c, o->nb_nts);
	for (i = 0; i < o->nb_nts; i++) {
		struct dpn_nts_check *c = &o->nts_c[i];
		struct rte_mbuf *m = o->nts_m[i];
		struct dpn_ntp_hdr *ntp = (struct dpn_ntp_hdr *)c->pkt;

		if (c->ok) {
			dpn_ntp_build_reply(ntp, si, o->nts_t2[i]);
			ok[nb_ok++] = c;
			continue;
		}
		/* RFC 8915 5.7: the kiss code and the identifier only. */
		w->stats.c[DPN_STAT_NTP_NTS_NAK]++;
		dpn_ntp_build_kod(ntp, dpn_ntp_refid_from_str("NTSN"), INT8_MIN);
		turn_around_len(q, m, (unsigned int)dpn_nts_nak(c->pkt, &c->r));
		cksum_complete(m);
		o->kod[o->nb_kod++] = m;
	}
	dpn_nts_prepare_burst(&o->nts->kr, &w->nts_rng, ok, nb_ok);
	for (i = 0; i < o->nb_nts; i++) {
		struct dpn_nts_check *c = &o->nts_c[i];
		struct rte_mbuf *m = o->nts_m[i];

		if (!c->ok)
			continue;
		explicit_bzero(c->keys, sizeof(c->keys));
		if (c->reply_len == 0) {
			w->stats.c[DPN_STAT_NTP_NTS_NO_ROOM]++;
			o->drop[o->nb_drop++] = m;
			continue;
		}
		w->stats.c[DPN_STAT_NTP_SERVER_REPLIES]++;
		w->stats.c[DPN_STAT_NTP_NTS_REPLIES]++;
		turn_around_len(q, m, (unsigned int)c->reply_len);
		o->sign_key[o->nb_sign] = DPN_AUTH_NTS;
		o->nts_p[o->nb_sign] = c->p;
		o->sign[o->nb_sign++] = m;
	}
}

/*
 * Answer a request that restrict and the rate limit let through: by MAC,
 * by NTS, or plain. @p need_auth: a notrust rule applies, so a request
 * that is neither is dropped.
 */
static inline void
reply_out(struct dpn_worker *w, const struct dpn_rxq *q, struct rte_mbuf *m,
	  uint64_t t2, const struct dpn_ntp_sysinfo *si, struct burst_out *o,
	  bool need_auth)
{
	unsigned int len = ntp_len_of(m);

	if (unlikely(len != DPN_NTP_HDR_LEN)) {
		if (has_mac(len)) {
			auth_out(w, m, t2, o);
			return;
		}
		if (nts_out(w, m, len, t2, o))
			return;
		if (need_auth) {
			w->stats.c[DPN_STAT_ACL_NOTRUST]++;
			o->drop[o->nb_drop++] = m;
			return;
		}
		/* Other extension fields: a plain reply, never longer. */
		w->stats.c[DPN_STAT_NTP_TRUNCATED]++;
	}
	if (unlikely(answer(w, q, m, t2, si)))
		o->xleave[o->nb_xleave++] = m;
	else
		o->basic[o->nb_basic++] = m;
}

/*
 * Judge the pending requests against the restrict rules and the rate
 * limit: answer the ones that pass in place, build KoDs, drop the rest.
 */
static inline void
judge(struct dpn_worker *w, const struct dpn_rxq *q,
      const struct dpn_acl_table *acl, struct pending *p, unsigned int n,
      const struct dpn_clock_snapshot *snap, struct burst_out *o)
{
	struct dpn_acl_counters *ctr = dpn_acl_table_row(acl, w->index);
	uint32_t now = (uint32_t)((uint64_t)dpn_clock_model_ns(&snap->tsc,
		rte_rdtsc()) >> DPN_RL_UNIT_SHIFT);
	unsigned int i;

	if ((int32_t)(now - w->rl_now_max) > 0)
		w->rl_now_max = now;
	acl_find(w, acl, p, n);
	/* The entries are on their way; start on the rule counters too. */
	for (i = 0; i < n && i < CTR_PREFETCH_AHEAD; i++)
		prefetch_counter(ctr, p[i].e);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = p[i].m;
		struct rte_udp_hdr *udp = udp_of(m);
		const struct dpn_ntp_hdr *ntp = (const void *)(udp + 1);
		bool port123 = udp->src_port == rte_cpu_to_be_16(DPN_NTP_PORT);
		uint32_t flags = port123 ? p[i].e->flags_ntp :
			p[i].e->flags_any;
		uint32_t rule = port123 ? p[i].e->rule_ntp : p[i].e->rule_any;
		enum dpn_acl_verdict v;
		enum dpn_rl_result r = DPN_RL_PASS;

		if (i + CTR_PREFETCH_AHEAD < n)
			prefetch_counter(ctr, p[i + CTR_PREFETCH_AHEAD].e);

		if (rule != DPN_ACL_NO_RULE)
			ctr[rule].hits++;
		/* Anything after the header may authenticate it (a MAC, or
		 * NTS); reply_out() tells, and drops it under notrust if
		 * it does not. */
		v = dpn_acl_decide(flags, dpn_ntp_mode_of(ntp),
				   dpn_ntp_version_of(ntp),
				   ntp_len_of(m) != DPN_NTP_HDR_LEN);
		if (unlikely(v != DPN_ACL_SERVE)) {
			w->stats.c[acl_drop_stat[v]]++;
			goto drop;
		}
		if (flags & DPN_ACL_F(LIMITED)) {
			r = dpn_rl_account(&w->rl, &p[i].slot, p[i].key,
					   p[i].hash, now);
			p[i].slot->user = acl_ref_of(w, acl, p[i].e);
		}
		/* Interleaved requests are judged as any other: the saved
		 * transmit time is only taken for one that is answered. */
		if (likely(r == DPN_RL_PASS)) {
			reply_out(w, q, m, p[i].t2, &snap->sysinfo, o,
				  flags & DPN_ACL_F(NOTRUST));
			continue;
		}
		w->stats.c[DPN_STAT_RATE_LIMITED]++;
		if (r == DPN_RL_LIMITED_KOD && (flags & DPN_ACL_F(KOD))) {
			answer_kod(q, m, (int8_t)acl->discard.average_log2);
			w->stats.c[DPN_STAT_KOD_SENT]++;
			if (rule != DPN_ACL_NO_RULE)
				ctr[rule].kods++;
			o->kod[o->nb_kod++] = m;
			continue;
		}
drop:
		if (rule != DPN_ACL_NO_RULE)
			ctr[rule].drops++;
		o->drop[o->nb_drop++] = m;
	}
}

/*
 * Save the receive timestamps of the burst's replies (basic and
 * interleaved, in the order they will be sent) for interleaved mode;
 * their transmit times follow in dpn_worker_tx_done().
 */
static inline void
xleave_save(struct dpn_worker *w, struct rte_mbuf **pkts, unsigned int n)
{
	unsigned int i;

	dpn_xleave_begin(&w->xleave);
	for (i = 0; i < n; i++) {
		const struct dpn_ntp_hdr *ntp = (const void *)(udp_of(pkts[i]) +
							       1);

		dpn_xleave_add(&w->xleave, rte_be_to_cpu_64(ntp->recv_ts));
	}
}

uint16_t
dpn_worker_handle_burst(struct dpn_worker *w, struct dpn_rxq *q,
			struct rte_mbuf **pkts, uint16_t nb, uint64_t rx_tsc,
			const struct dpn_clock_snapshot *snap,
			struct dpn_burst_result *res)
{
	struct burst_out o;
	struct burst_stamps bs = { 0, 0, 0 };
	struct pending pend[DPN_BURST * 2];
	const struct dpn_acl_table *acl = w->acl == NULL ? NULL :
		__atomic_load_n(w->acl, __ATOMIC_ACQUIRE);
	uint64_t t2 = dpn_ntp_ts_from_unix_ns(
		dpn_clock_model_ns(&snap->tsc, rx_tsc));
	unsigned int i, n_pend = 0, n_out;

	/* Every array here holds one burst of at most DPN_BURST * 2. */
	RTE_ASSERT(nb <= DPN_BURST * 2);
	if (unlikely(nb > DPN_BURST * 2)) {
		rte_pktmbuf_free_bulk(pkts + DPN_BURST * 2,
				      nb - DPN_BURST * 2);
		nb = DPN_BURST * 2;
	}
	o.nb_basic = o.nb_xleave = o.nb_kod = o.nb_sign = o.nb_slow = 0;
	o.nb_drop = 0;
	o.auth = NULL;
	o.nts = NULL;
	o.nb_nts = 0;
	o.nb_mac = 0;
	if (acl != NULL && acl->empty)
		acl = NULL;
	/* The discard settings travel with the rules; apply them here so
	 * that only this lcore ever writes its table. */
	if (acl != NULL && unlikely(acl->generation != w->acl_generation)) {
		dpn_rl_set_params(&w->rl, &acl->discard);
		w->acl_generation = acl->generation;
		/* Verdicts cached under earlier rules are void from now. */
		w->acl_tag = acl_tag_of(acl->generation);
		w->acl_valid_after = w->rl_now_max;
	}
	w->stats.c[DPN_STAT_RX_PACKETS] += nb;
	for (i = 0; i < PREFETCH_OFFSET && i < nb; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = pkts[i];

		if (i + PREFETCH_OFFSET < nb)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_OFFSET],
						       void *));
		switch (classify(w, q, m)) {
		case ACT_NTP:
			if (acl == NULL) {
				reply_out(w, q, m, rx_stamp(w, q, m, t2, snap,
							    &bs),
					  &snap->sysinfo, &o, false);
				break;
			}
			pend[n_pend].m = m;
			pend[n_pend].t2 = rx_stamp(w, q, m, t2, snap, &bs);
			early_prefetch(w, acl, &pend[n_pend++]);
			break;
		case ACT_SLOW:
			/* The client side needs T4 of server replies: the
			 * burst's TSC, or the NIC stamp (its flag is kept). */
			*RTE_MBUF_DYNFIELD(m, w->rx_tsc_dynfield_offset,
					   uint64_t *) = rx_tsc;
			o.slow[o.nb_slow++] = m;
			break;
		default:
			o.drop[o.nb_drop++] = m;
			break;
		}
	}
	if (n_pend != 0)
		judge(w, q, acl, pend, n_pend, snap, &o);
	if (o.nb_mac != 0)
		auth_burst(w, q, &snap->sysinfo, &o);
	if (o.nb_nts != 0)
		nts_burst(w, q, &snap->sysinfo, &o);
	stamps_done(w, q, &bs, rx_tsc);
	if (o.nb_slow != 0) {
		unsigned int sent = rte_ring_sp_enqueue_burst(q->to_mgmt,
			(void **)o.slow, o.nb_slow, NULL);

		w->stats.c[DPN_STAT_SLOW_QUEUED] += sent;
		w->stats.c[DPN_STAT_SLOW_RING_FULL] += o.nb_slow - sent;
		if (sent < o.nb_slow)
			rte_pktmbuf_free_bulk(o.slow + sent, o.nb_slow - sent);
	}
	if (o.nb_drop != 0)
		rte_pktmbuf_free_bulk(o.drop, o.nb_drop);
	/* Basic replies, interleaved ones, signed ones, then KoDs. */
	n_out = 0;
	for (i = 0; i < o.nb_basic; i++)
		pkts[n_out++] = o.basic[i];
	for (i = 0; i < o.nb_xleave; i++)
		pkts[n_out++] = o.xleave[i];
	if (dpn_xleave_enabled(&w->xleave))
		xleave_save(w, pkts, n_out);
	for (i = 0; i < o.nb_sign; i++) {
		res->sign_key[i] = o.sign_key[i];
		if (o.sign_key[i] == DPN_AUTH_NTS)
			res->nts[i] = o.nts_p[i];
		pkts[n_out++] = o.sign[i];
	}
	for (i = 0; i < o.nb_kod; i++)
		pkts[n_out++] = o.kod[i];
	res->nb_basic = o.nb_basic;
	res->nb_xleave = o.nb_xleave;
	res->nb_signed = o.nb_sign;
	res->nb_kod = o.nb_kod;
	res->auth = o.auth;
	return (uint16_t)n_out;
}

/* Fold a 32-bit one's complement sum to 16 bits. */
static inline uint16_t
cksum_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/*
 * NTS replies are sealed side by side, up to this many under one T3:
 * eight seals fill the AES lanes (lib/siv) and take about 0.5 us in all,
 * so the last one's T3 is no later than a single seal made it before.
 */
#define NTS_SEAL_GROUP 8

/* Seal the NTS replies from @p i on (up to a group); @return the next. */
static uint16_t
nts_seal_group(struct rte_mbuf **pkts, const struct dpn_burst_result *res,
	       const struct dpn_clock_snapshot *snap, uint16_t i)
{
	const struct dpn_nts_pending *p[NTS_SEAL_GROUP];
	uint8_t *ntp[NTS_SEAL_GROUP];
	uint64_t t3 = dpn_ntp_ts_from_unix_ns(dpn_clock_model_ns(&snap->tsc,
								 rte_rdtsc()));
	uint16_t first = i;
	unsigned int n = 0;

	for (; i < res->nb_signed && n < NTS_SEAL_GROUP &&
	     res->sign_key[i] == DPN_AUTH_NTS; i++, n++) {
		ntp[n] = (uint8_t *)(udp_of(pkts[i]) + 1);
		dpn_ntp_stamp_xmt((struct dpn_ntp_hdr *)ntp[n], t3);
		p[n] = &res->nts[i];
	}
	dpn_nts_seal_burst(ntp, p, n);
	for (; first < i; first++)
		cksum_complete(pkts[first]);
	return i;
}

/*
 * Replies signed with a key, and crypto-NAKs, up to this many under one
 * T3: eight MD5 MACs take about as long as one (lib/md5x).
 */
#define MAC_SIGN_GROUP DPN_MD5X_LANES

/* Sign the MAC replies and NAKs from @p i on (up to a group); @return
 * the next. */
static uint16_t
mac_sign_group(struct rte_mbuf **pkts, const struct dpn_burst_result *res,
	       const struct dpn_clock_snapshot *snap, uint16_t i)
{
	uint16_t idx[MAC_SIGN_GROUP];
	void *ntp[MAC_SIGN_GROUP];
	unsigned int done[MAC_SIGN_GROUP];
	uint64_t t3 = dpn_ntp_ts_from_unix_ns(dpn_clock_model_ns(&snap->tsc,
								 rte_rdtsc()));
	uint16_t first = i;
	unsigned int n = 0, j;

	for (; i < res->nb_signed && n < MAC_SIGN_GROUP &&
	     res->sign_key[i] != DPN_AUTH_NTS; i++) {
		struct dpn_ntp_hdr *h = (struct dpn_ntp_hdr *)(udp_of(pkts[i]) +
							       1);

		dpn_ntp_stamp_xmt(h, t3);
		if (res->sign_key[i] == DPN_AUTH_NAK) {
			memset(h + 1, 0, 4);
			continue;
		}
		idx[n] = res->sign_key[i];
		ntp[n++] = h;
	}
	if (n != 0)
		dpn_ntpauth_server_sign_burst(res->auth->keys, idx, ntp, done,
					      n);
	for (j = 0; j < n; j++)
		if (done[j] == 0)
			/* Never seen: OpenSSL failed. A MAC of zeros is
			 * refused by the client, as it should be. */
			memset((uint8_t *)ntp[j] + DPN_NTP_HDR_LEN, 0,
			       DPN_NTPAUTH_MAC_MAX + 4);
	for (; first < i; first++)
		cksum_complete(pkts[first]);
	return i;
}

/*
 * Signed replies, crypto-NAKs and NTS replies, a group at a time: one T3
 * for the group, read just before its MACs or seals are computed, which
 * take about as long as one (they share SIMD or AES lanes). Then the
 * checksums are done in full.
 */
static __rte_noinline void
sign_tx(struct rte_mbuf **pkts, const struct dpn_burst_result *res,
	const struct dpn_clock_snapshot *snap)
{
	uint16_t i = 0;

	while (i < res->nb_signed)
		i = res->sign_key[i] == DPN_AUTH_NTS ?
			nts_seal_group(pkts, res, snap, i) :
			mac_sign_group(pkts, res, snap, i);
}

void
dpn_worker_stamp_tx(struct dpn_worker *w, const struct dpn_rxq *q,
		    struct rte_mbuf **pkts, const struct dpn_burst_result *res,
		    const struct dpn_clock_snapshot *snap)
{
	bool hw = q->port->tx_cksum_offload;
	uint16_t nb = res->nb_basic;
	uint64_t t3;
	uint16_t i;

	/*
	 * Everything but the transmit timestamp is summed first, so the
	 * time between reading T3 and handing the burst to the NIC is only
	 * the stores and a few additions per packet.
	 */
	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = pkts[i];
		void *l3 = rte_pktmbuf_mtod_offset(m, void *, m->l2_len);
		struct rte_udp_hdr *udp = RTE_PTR_ADD(l3, m->l3_len);
		bool v4 = m->ol_flags & RTE_MBUF_F_TX_IPV4;

		if (hw) {
			m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM |
				(v4 ? RTE_MBUF_F_TX_IP_CKSUM : 0);
			udp->dgram_cksum = v4 ?
				rte_ipv4_phdr_cksum(l3, m->ol_flags) :
				rte_ipv6_phdr_cksum(l3, m->ol_flags);
			continue;
		}
		if (v4)
			((struct rte_ipv4_hdr *)l3)->hdr_checksum =
				rte_ipv4_cksum(l3);
		/* Partial sum, not complemented, xmt still zero. */
		udp->dgram_cksum = v4 ?
			cksum_fold((uint32_t)rte_ipv4_phdr_cksum(l3, 0) +
				   rte_raw_cksum(udp, NTP_UDP_LEN)) :
			cksum_fold((uint32_t)rte_ipv6_phdr_cksum(l3, 0) +
				   rte_raw_cksum(udp, NTP_UDP_LEN));
	}

	t3 = dpn_xleave_tx_ts(dpn_ntp_ts_from_unix_ns(
		dpn_clock_model_ns(&snap->tsc, rte_rdtsc())));
	w->tx_t3 = t3;
	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m,
			struct rte_udp_hdr *, m->l2_len + m->l3_len);
		struct dpn_ntp_hdr *ntp = (struct dpn_ntp_hdr *)(udp + 1);
		uint64_t x;
		uint32_t s;
		uint16_t c;

		dpn_ntp_stamp_xmt(ntp, t3);
		if (hw)
			continue;
		/*
		 * Add the transmit timestamp's 16-bit words, loaded the way
		 * rte_raw_cksum() loads them: as they sit in the packet.
		 */
		x = __builtin_bswap64(t3);
		s = udp->dgram_cksum;
		s += (uint32_t)(x & 0xffff) + (uint32_t)((x >> 16) & 0xffff) +
			(uint32_t)((x >> 32) & 0xffff) + (uint32_t)(x >> 48);
		c = (uint16_t)~cksum_fold(s);
		udp->dgram_cksum = c == 0 ? 0xffff : c;
	}
	if (unlikely(res->nb_signed != 0))
		sign_tx(pkts + res->nb_basic + res->nb_xleave, res, snap);
}

void
dpn_worker_tx_done(struct dpn_worker *w, const struct dpn_rxq *q,
		   uint16_t sent, const struct dpn_clock_snapshot *snap)
{
	if (!dpn_xleave_enabled(&w->xleave) || w->xleave.pending == 0)
		return;
	/*
	 * A NIC's PMD only posts the frames in rte_eth_tx_burst(); they
	 * leave after it returns, so the TSC read now is the closest bound
	 * the worker has. A port that hands frames to the kernel (af_packet,
	 * pcap, tap) has delivered them inside the call: measured on a veth,
	 * the TSC after it put chronyd's interleaved offsets 7 us late with
	 * 14 us of jitter, where T3 read before it gave basic replies
	 * within 4 us (doc/guides/performance.rst). No port here reports
	 * when a frame really left.
	 */
	dpn_xleave_sent(&w->xleave, sent, q->port->tx_in_burst ? w->tx_t3 :
		dpn_xleave_tx_ts(dpn_ntp_ts_from_unix_ns(
			dpn_clock_model_ns(&snap->tsc, rte_rdtsc()))));
}

uint16_t
dpn_worker_mgmt_stamp_index(struct rte_mbuf *const *pkts, uint16_t first,
			    uint16_t nb)
{
	uint16_t i;

	for (i = first; i < nb; i++)
		if (pkts[i]->ol_flags & RTE_MBUF_F_TX_IEEE1588_TMST)
			return i;
	return UINT16_MAX;
}

void
dpn_worker_mgmt_tx_stamp(struct dpn_rxq *q, uint16_t stamp_index,
			 uint16_t sent, uint64_t before, uint64_t after)
{
	if (stamp_index >= sent)
		return;
	q->mgmt_tx_tsc = q->port->tx_in_burst ?
		before + (after - before) / 2 : after;
	__atomic_store_n(&q->mgmt_tx_stamped, q->mgmt_tx_stamped + 1,
			 __ATOMIC_RELEASE);
}

int
dpn_worker_main(void *arg)
{
	struct dpn_worker *w = arg;
	struct dpn_clock_snapshot snap;
	struct rte_mbuf *pkts[DPN_BURST * 2];
	unsigned int qi;

	if (w->qsbr != NULL) {
		rte_rcu_qsbr_thread_register(w->qsbr, w->index);
		rte_rcu_qsbr_thread_online(w->qsbr, w->index);
	}
	while (!*w->quit) {
		for (qi = 0; qi < w->nb_rxq; qi++) {
			struct dpn_rxq *q = &w->rxq[qi];
			struct dpn_burst_result res;
			uint64_t start = rte_rdtsc(), rx_tsc, now, before;
			uint16_t nb_rx, nb_tx, sent, stamp_index;

			nb_rx = rte_eth_rx_burst(q->port_id, q->queue_id,
						 pkts, DPN_BURST);
			if (unlikely(nb_rx == 0 && rte_ring_empty(q->from_mgmt))) {
				w->total_cycles += rte_rdtsc() - start;
				continue;
			}
			/*
			 * T2 without NIC stamps, and the pair the stamp fit
			 * takes: read once rx_burst has returned the packets,
			 * so that it never precedes their arrival (a worker
			 * preempted between a read before the call and the
			 * call served times before the request was sent).
			 */
			rx_tsc = rte_rdtsc();
			dpn_clock_read(w->clock, &snap);
			nb_tx = dpn_worker_handle_burst(w, q, pkts, nb_rx,
							rx_tsc, &snap, &res);
			stamp_index = UINT16_MAX;
			if (unlikely(!rte_ring_empty(q->from_mgmt))) {
				uint16_t first = nb_tx;

				nb_tx += rte_ring_sc_dequeue_burst(
					q->from_mgmt, (void **)pkts + nb_tx,
					DPN_BURST * 2 - nb_tx, NULL);
				stamp_index = dpn_worker_mgmt_stamp_index(
					pkts, first, nb_tx);
			}
			dpn_worker_stamp_tx(w, q, pkts, &res, &snap);
			before = unlikely(stamp_index != UINT16_MAX) ?
				rte_rdtsc() : 0;
			sent = nb_tx == 0 ? 0 :
				rte_eth_tx_burst(q->port_id, q->queue_id,
						 pkts, nb_tx);
			if (unlikely(stamp_index != UINT16_MAX))
				dpn_worker_mgmt_tx_stamp(q, stamp_index, sent,
							 before, rte_rdtsc());
			dpn_worker_tx_done(w, q, sent, &snap);
			w->stats.c[DPN_STAT_TX_PACKETS] += sent;
			if (unlikely(sent < nb_tx)) {
				w->stats.c[DPN_STAT_TX_FAILED] += nb_tx - sent;
				rte_pktmbuf_free_bulk(pkts + sent,
						      nb_tx - sent);
			}
			now = rte_rdtsc();
			w->busy_cycles += now - start;
			w->total_cycles += now - start;
		}
		/* Alive: one plain store per turn of the loop, not per
		 * packet, on a line only this worker writes. */
		__atomic_store_n(&w->polls, w->polls + 1, __ATOMIC_RELAXED);
		/* Done with this iteration's rule set (RCU QSBR). */
		if (w->qsbr != NULL)
			rte_rcu_qsbr_quiescent(w->qsbr, w->index);
	}
	if (w->qsbr != NULL)
		rte_rcu_qsbr_thread_offline(w->qsbr, w->index);
	return 0;
}
