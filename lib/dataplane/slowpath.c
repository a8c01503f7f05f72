/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slow path, run by the management lcore: ARP requests, IPv6
 * neighbour solicitations and ICMP/ICMPv6 echo requests for the
 * addresses a port serves, so that `ip neigh` and `ping` work against
 * the server. Answers are built in place and handed back to the worker
 * that received the request, which sends them on its own TX queue.
 */

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dpn_dataplane.h"

#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136
#define ND_OPT_TARGET_LLADDR 2
#define ND_NA_FLAG_SOLICITED 0x40000000u
#define ND_NA_FLAG_OVERRIDE 0x20000000u

/* ICMPv6 header plus the NS/NA body: flags/reserved and target. */
struct nd_msg {
	uint8_t type;
	uint8_t code;
	uint16_t cksum;
	uint32_t flags;
	uint8_t target[16];
} __rte_packed;

struct nd_opt_lladdr {
	uint8_t type;
	uint8_t len;	/* in units of 8 bytes */
	uint8_t mac[RTE_ETHER_ADDR_LEN];
} __rte_packed;

/* VLAN of a packet as the worker saw it. */
static uint16_t
pkt_vlan(const struct rte_mbuf *m)
{
	const struct rte_vlan_hdr *vh;

	if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)
		return m->vlan_tci & 0xfff;
	if (m->l2_len <= sizeof(struct rte_ether_hdr))
		return 0;
	vh = rte_pktmbuf_mtod_offset(m, const struct rte_vlan_hdr *,
				     sizeof(struct rte_ether_hdr));
	return rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
}

/* Turn the frame around at layer 2 and leave only TX flags it needs. */
static void
l2_reply(struct rte_mbuf *m, const struct dpn_port *port)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&port->mac, &eth->src_addr);
	m->ol_flags = (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) ?
		RTE_MBUF_F_TX_VLAN : 0;
}

static bool
arp_answer(struct dpn_stats *st, const struct dpn_port *port,
	   struct rte_mbuf *m)
{
	struct rte_arp_hdr *arp;
	uint32_t asked;

	if (m->data_len < m->l2_len + sizeof(*arp))
		return false;
	arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, m->l2_len);
	if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    !dpn_addrs_has_v4(&port->addrs, arp->arp_data.arp_tip,
			      pkt_vlan(m)))
		return false;

	asked = arp->arp_data.arp_tip;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_sha = port->mac;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	arp->arp_data.arp_sip = asked;
	st->c[DPN_STAT_ARP_REPLIES]++;
	return true;
}

static bool
icmp4_answer(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m,
		struct rte_ipv4_hdr *, m->l2_len);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	unsigned int len = rte_be_to_cpu_16(ip->total_length);
	uint32_t a;

	if (len < sizeof(*ip) + sizeof(*icmp) ||
	    icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0)
		return false;
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = ~rte_raw_cksum(icmp, len - sizeof(*ip));
	a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	m->data_len = m->pkt_len = m->l2_len + len;
	return true;
}

static void
icmp6_finish(struct rte_ipv6_hdr *ip, struct rte_mbuf *m, unsigned int len)
{
	struct nd_msg *nd = (struct nd_msg *)(ip + 1);

	ip->payload_len = rte_cpu_to_be_16(len);
	nd->cksum = 0;
	nd->cksum = rte_ipv6_udptcp_cksum(ip, nd);
	m->data_len = m->pkt_len = m->l2_len + sizeof(*ip) + len;
}

static bool
icmp6_answer(struct dpn_stats *st, const struct dpn_port *port,
	     struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m,
		struct rte_ipv6_hdr *, m->l2_len);
	struct nd_msg *nd = (struct nd_msg *)(ip + 1);
	struct nd_opt_lladdr *opt = (struct nd_opt_lladdr *)(nd + 1);
	unsigned int len = rte_be_to_cpu_16(ip->payload_len);
	static const uint8_t unspecified[16];
	uint8_t a[16];

	if (len < 8)
		return false;
	if (nd->type == ICMP6_ECHO_REQUEST && nd->code == 0 &&
	    dpn_addrs_has_v6(&port->addrs, ip->dst_addr, pkt_vlan(m))) {
		nd->type = ICMP6_ECHO_REPLY;
		memcpy(a, ip->src_addr, 16);
		memcpy(ip->src_addr, ip->dst_addr, 16);
		memcpy(ip->dst_addr, a, 16);
		ip->hop_limits = 64;
		icmp6_finish(ip, m, len);
		st->c[DPN_STAT_ICMP_ECHO_REPLIES]++;
		return true;
	}
	/* RFC 4861 7.1.1: hop limit 255 proves the sender is on link. */
	if (nd->type != ND_NEIGHBOR_SOLICIT || nd->code != 0 ||
	    len < sizeof(*nd) || ip->hop_limits != 255 ||
	    memcmp(ip->src_addr, unspecified, 16) == 0 ||
	    !dpn_addrs_has_v6(&port->addrs, nd->target, pkt_vlan(m)))
		return false;
	if (rte_pktmbuf_tailroom(m) + m->data_len <
	    m->l2_len + sizeof(*ip) + sizeof(*nd) + sizeof(*opt))
		return false;

	nd->type = ND_NEIGHBOR_ADVERT;
	nd->flags = rte_cpu_to_be_32(ND_NA_FLAG_SOLICITED |
				     ND_NA_FLAG_OVERRIDE);
	opt->type = ND_OPT_TARGET_LLADDR;
	opt->len = 1;
	memcpy(opt->mac, port->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	memcpy(ip->dst_addr, ip->src_addr, 16);
	memcpy(ip->src_addr, nd->target, 16);
	ip->hop_limits = 255;
	icmp6_finish(ip, m, sizeof(*nd) + sizeof(*opt));
	st->c[DPN_STAT_NDP_ADVERTS]++;
	return true;
}

/* The workers pass up UDP only for servers' replies to our client. */
static bool
is_udp(const struct rte_mbuf *m)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *,
						    m->l2_len);

	if (m->l3_len == sizeof(struct rte_ipv4_hdr) &&
	    (m->ol_flags & RTE_MBUF_F_TX_IPV4))
		return ((const struct rte_ipv4_hdr *)l3)->next_proto_id ==
			IPPROTO_UDP;
	if (m->l3_len == sizeof(struct rte_ipv6_hdr) &&
	    (m->ol_flags & RTE_MBUF_F_TX_IPV6))
		return ((const struct rte_ipv6_hdr *)l3)->proto == IPPROTO_UDP;
	return false;
}

/* Build the answer in place; false if the packet needs none. */
static bool
slow_answer(struct dpn_stats *st, const struct dpn_port *port,
	    struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth;
	uint16_t type;

	if (m->l2_len == sizeof(*eth) + sizeof(struct rte_vlan_hdr))
		type = rte_pktmbuf_mtod_offset(m, const struct rte_vlan_hdr *,
					       sizeof(*eth))->eth_proto;
	else
		type = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)
			->ether_type;

	if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
		if (!arp_answer(st, port, m))
			return false;
	} else if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		if (!icmp4_answer(m))
			return false;
		st->c[DPN_STAT_ICMP_ECHO_REPLIES]++;
	} else if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
		if (!icmp6_answer(st, port, m))
			return false;
	} else {
		return false;
	}
	l2_reply(m, port);
	return true;
}

unsigned int
dpn_slowpath_poll(struct dpn_dataplane *dp)
{
	struct rte_mbuf *pkts[DPN_BURST];
	unsigned int wi, qi, i, n, total = 0;

	for (wi = 0; wi < dp->nb_workers; wi++) {
		struct dpn_worker *w = dp->workers[wi];

		for (qi = 0; qi < w->nb_rxq; qi++) {
			struct dpn_rxq *q = &w->rxq[qi];

			n = rte_ring_sc_dequeue_burst(q->to_mgmt,
						      (void **)pkts,
						      DPN_BURST, NULL);
			for (i = 0; i < n; i++) {
				struct rte_mbuf *m = pkts[i];

				if (is_udp(m)) {
					if (dp->ntp_reply == NULL) {
						dp->mgmt_stats.c[DPN_STAT_DROP_NTP_MODE4]++;
						rte_pktmbuf_free(m);
					} else {
						dp->ntp_reply(dp->ntp_reply_arg,
							      q->port - dp->ports,
							      m);
					}
					continue;
				}
				if (!slow_answer(&dp->mgmt_stats, q->port, m) ||
				    rte_ring_sp_enqueue(q->from_mgmt, m) != 0) {
					dp->mgmt_stats.c[DPN_STAT_SLOW_IGNORED]++;
					rte_pktmbuf_free(m);
				}
			}
			total += n;
		}
	}
	return total;
}
