/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slow path, run by the management lcore: ARP requests, IPv6
 * neighbour solicitations and ICMP/ICMPv6 echo requests for the
 * addresses a port serves, so that `ip neigh` and `ping` work against
 * the server, and control requests (mode 6, ctlpath.c) for ntpq. Answers are built in place and handed back to the worker
 * that received the request, which sends them on its own TX queue.
 *
 * What ARP and NDP tell about the sender also goes to the neighbour
 * tables (neigh.c): requests and solicitations for our addresses, and
 * ARP replies and neighbour advertisements, which need no answer.
 */

#include <sys/socket.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dpn_dataplane.h"
#include "slowpath_private.h"

#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136
#define ND_OPT_SOURCE_LLADDR 1
#define ND_OPT_TARGET_LLADDR 2
#define ND_NA_FLAG_SOLICITED 0x40000000u
#define ND_NA_FLAG_OVERRIDE 0x20000000u

/* What became of a packet passed up. */
enum slow_verdict {
	SLOW_IGNORE,	/* nothing to do: freed, slow_ignored */
	SLOW_HEARD,	/* learnt from, no answer: freed, neigh_heard */
	SLOW_ANSWER,	/* answered in place: back to the worker */
};

/* The neighbour table a port's packets teach. */
struct slow_ctx {
	struct dpn_dataplane *dp;
	struct dpn_stats *st;
	const struct dpn_port *port;
	unsigned int port_index;
};

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

void
dpn_slow_l2_reply(struct rte_mbuf *m, const struct dpn_port *port)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&port->mac, &eth->src_addr);
	m->ol_flags = (m->ol_flags & DPN_MBUF_OWN_FLAGS) |
		((m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) ?
		 RTE_MBUF_F_TX_VLAN : 0);
	/* A PMD that cannot insert the tag would send the answer untagged:
	 * put it in the frame (the frame's length is final here). Should
	 * rte_vlan_insert() refuse (no headroom), the NIC is still asked. */
	if ((m->ol_flags & RTE_MBUF_F_TX_VLAN) && port->tx_vlan_sw)
		(void)rte_vlan_insert(&m);
}

/* A MAC a neighbour can have. */
static bool
mac_usable(const struct rte_ether_addr *mac)
{
	return rte_is_unicast_ether_addr(mac) && !rte_is_zero_ether_addr(mac);
}

/* A sender address worth a neighbour entry (not 0/8, multicast...). */
static bool
v4_unicast(uint32_t a)
{
	a = rte_be_to_cpu_32(a);
	return (a >> 24) != 0 && (a >> 24) != 127 && a < 0xe0000000;
}

static enum slow_verdict
arp_answer(const struct slow_ctx *c, struct rte_mbuf *m)
{
	const struct dpn_port *port = c->port;
	struct rte_arp_hdr *arp;
	uint16_t vlan = pkt_vlan(m);
	uint32_t asked;
	bool request;

	if (m->data_len < m->l2_len + sizeof(*arp))
		return SLOW_IGNORE;
	arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, m->l2_len);
	if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    !dpn_addrs_has_v4(&port->addrs, arp->arp_data.arp_tip, vlan))
		return SLOW_IGNORE;
	request = arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	if (!request &&
	    arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REPLY))
		return SLOW_IGNORE;

	/* Whoever asks for us or answers us is on the link (RFC 826). */
	if (v4_unicast(arp->arp_data.arp_sip) &&
	    mac_usable(&arp->arp_data.arp_sha))
		dpn_dp_neigh_learn(c->dp, c->port_index, AF_INET,
				&arp->arp_data.arp_sip, vlan,
				&arp->arp_data.arp_sha,
				request ? DPN_NEIGH_HEARD : DPN_NEIGH_ANSWERED);
	if (!request)
		return SLOW_HEARD;

	asked = arp->arp_data.arp_tip;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_sha = port->mac;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	arp->arp_data.arp_sip = asked;
	c->st->c[DPN_STAT_ARP_REPLIES]++;
	return SLOW_ANSWER;
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

/*
 * The link-layer address option of type @p type in an NS or NA of
 * @p len bytes (ICMPv6 header on), or NULL. Options are checked for
 * size as RFC 4861 4.6 says; a zero length ends the search.
 */
static const struct nd_opt_lladdr *
nd_find_lladdr(const struct nd_msg *nd, unsigned int len, uint8_t type)
{
	const uint8_t *p = (const uint8_t *)(nd + 1);
	const uint8_t *end = (const uint8_t *)nd + len;

	while (p + 2 <= end) {
		unsigned int olen = p[1] * 8u;

		if (olen == 0 || p + olen > end)
			return NULL;
		if (p[0] == type && olen >= sizeof(struct nd_opt_lladdr))
			return (const struct nd_opt_lladdr *)p;
		p += olen;
	}
	return NULL;
}

/* A neighbour advertisement (RFC 4861 7.1.2): learn, never answer. */
static enum slow_verdict
nd_advert_heard(const struct slow_ctx *c, struct rte_mbuf *m,
		const struct rte_ipv6_hdr *ip, const struct nd_msg *nd,
		unsigned int len)
{
	const struct nd_opt_lladdr *opt;
	struct rte_ether_addr mac;
	uint32_t flags = rte_be_to_cpu_32(nd->flags);

	/* RFC 4861 7.1.2; a bad checksum must not poison the table. */
	if (nd->code != 0 || ip->hop_limits != 255 || len < sizeof(*nd) ||
	    nd->target[0] == 0xff || rte_ipv6_udptcp_cksum_verify(ip, nd) != 0)
		return SLOW_IGNORE;
	opt = nd_find_lladdr(nd, len, ND_OPT_TARGET_LLADDR);
	if (opt != NULL)
		memcpy(mac.addr_bytes, opt->mac, RTE_ETHER_ADDR_LEN);
	else	/* Allowed for unicast solicitations: the sender's MAC. */
		rte_ether_addr_copy(&rte_pktmbuf_mtod(m,
			const struct rte_ether_hdr *)->src_addr, &mac);
	if (!mac_usable(&mac))
		return SLOW_IGNORE;
	if (flags & ND_NA_FLAG_SOLICITED)
		dpn_dp_neigh_learn(c->dp, c->port_index, AF_INET6, nd->target,
				pkt_vlan(m), &mac, DPN_NEIGH_ANSWERED);
	else if ((flags & ND_NA_FLAG_OVERRIDE) && opt != NULL)
		dpn_dp_neigh_learn(c->dp, c->port_index, AF_INET6, nd->target,
				pkt_vlan(m), &mac, DPN_NEIGH_ANNOUNCED);
	return SLOW_HEARD;
}

static enum slow_verdict
icmp6_answer(const struct slow_ctx *c, struct rte_mbuf *m)
{
	const struct dpn_port *port = c->port;
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m,
		struct rte_ipv6_hdr *, m->l2_len);
	struct nd_msg *nd = (struct nd_msg *)(ip + 1);
	struct nd_opt_lladdr *opt = (struct nd_opt_lladdr *)(nd + 1);
	const struct nd_opt_lladdr *sll;
	unsigned int len = rte_be_to_cpu_16(ip->payload_len);
	static const uint8_t unspecified[16];
	struct rte_ether_addr mac;
	uint8_t a[16];

	if (len < 8)
		return SLOW_IGNORE;
	if (nd->type == ICMP6_ECHO_REQUEST && nd->code == 0 &&
	    dpn_addrs_has_v6(&port->addrs, ip->dst_addr, pkt_vlan(m))) {
		nd->type = ICMP6_ECHO_REPLY;
		memcpy(a, ip->src_addr, 16);
		memcpy(ip->src_addr, ip->dst_addr, 16);
		memcpy(ip->dst_addr, a, 16);
		ip->hop_limits = 64;
		icmp6_finish(ip, m, len);
		c->st->c[DPN_STAT_ICMP_ECHO_REPLIES]++;
		return SLOW_ANSWER;
	}
	if (nd->type == ND_NEIGHBOR_ADVERT)
		return nd_advert_heard(c, m, ip, nd, len);
	/* RFC 4861 7.1.1: hop limit 255 proves the sender is on link. */
	if (nd->type != ND_NEIGHBOR_SOLICIT || nd->code != 0 ||
	    len < sizeof(*nd) || ip->hop_limits != 255 ||
	    memcmp(ip->src_addr, unspecified, 16) == 0 ||
	    !dpn_addrs_has_v6(&port->addrs, nd->target, pkt_vlan(m)))
		return SLOW_IGNORE;
	/* RFC 4861 7.2.3: the solicitation's source link-layer option,
	 * if the checksum holds (the answer goes out as before either way:
	 * it goes to the MAC the solicitation came from). */
	sll = nd_find_lladdr(nd, len, ND_OPT_SOURCE_LLADDR);
	if (sll != NULL && ip->src_addr[0] != 0xff &&
	    rte_ipv6_udptcp_cksum_verify(ip, nd) == 0) {
		memcpy(mac.addr_bytes, sll->mac, RTE_ETHER_ADDR_LEN);
		if (mac_usable(&mac))
			dpn_dp_neigh_learn(c->dp, c->port_index, AF_INET6,
					ip->src_addr, pkt_vlan(m), &mac,
					DPN_NEIGH_HEARD);
	}
	if (rte_pktmbuf_tailroom(m) + m->data_len <
	    m->l2_len + sizeof(*ip) + sizeof(*nd) + sizeof(*opt))
		return SLOW_IGNORE;

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
	c->st->c[DPN_STAT_NDP_ADVERTS]++;
	return SLOW_ANSWER;
}

/* The workers pass up UDP only for servers' replies to our client; what
 * they parsed is in packet_type (worker.c), ol_flags are the NIC's. */
static bool
is_udp(const struct rte_mbuf *m)
{
	return (m->packet_type & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_UDP;
}

static bool
is_tcp(const struct rte_mbuf *m)
{
	return (m->packet_type & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_TCP;
}

/* PTP for a `refclock ptp`: Layer 2, or UDP to port 319 or 320 (the
 * workers pass up no other UDP than servers' replies to port 123). */
static bool
is_ptp(const struct rte_mbuf *m)
{
	const struct rte_udp_hdr *udp;

	if ((m->packet_type & RTE_PTYPE_L2_MASK) == RTE_PTYPE_L2_ETHER_TIMESYNC)
		return true;
	if (!is_udp(m))
		return false;
	udp = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *,
				      m->l2_len + m->l3_len);
	return udp->dst_port == RTE_BE16(319) || udp->dst_port == RTE_BE16(320);
}

/* Learn from the packet, and build the answer in place if it needs one. */
static enum slow_verdict
slow_answer(const struct slow_ctx *c, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth;
	enum slow_verdict v;
	uint16_t type;

	if (m->l2_len == sizeof(*eth) + sizeof(struct rte_vlan_hdr))
		type = rte_pktmbuf_mtod_offset(m, const struct rte_vlan_hdr *,
					       sizeof(*eth))->eth_proto;
	else
		type = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)
			->ether_type;

	if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
		v = arp_answer(c, m);
	} else if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		if (!icmp4_answer(m))
			return SLOW_IGNORE;
		c->st->c[DPN_STAT_ICMP_ECHO_REPLIES]++;
		v = SLOW_ANSWER;
	} else if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
		v = icmp6_answer(c, m);
	} else {
		return SLOW_IGNORE;
	}
	if (v == SLOW_ANSWER)
		dpn_slow_l2_reply(m, c->port);
	return v;
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
			struct slow_ctx c = { .dp = dp, .st = &dp->mgmt_stats,
				.port = q->port,
				.port_index = q->port - dp->ports };

			n = rte_ring_sc_dequeue_burst(q->to_mgmt,
						      (void **)pkts,
						      DPN_BURST, NULL);
			for (i = 0; i < n; i++) {
				struct rte_mbuf *m = pkts[i];
				enum slow_verdict v;

				if (is_ptp(m)) {
					if (dp->ptp_rx == NULL) {
						dp->mgmt_stats.c[DPN_STAT_SLOW_IGNORED]++;
						rte_pktmbuf_free(m);
					} else {
						dp->ptp_rx(dp->ptp_rx_arg,
							   c.port_index, m);
					}
					continue;
				}
				if (is_tcp(m)) {
					if (dp->kernel_rx == NULL) {
						dp->mgmt_stats.c[DPN_STAT_KERNEL_DROPPED]++;
						rte_pktmbuf_free(m);
					} else {
						dp->kernel_rx(dp->kernel_rx_arg,
							      c.port_index, m);
					}
					continue;
				}
				if (is_udp(m) && dpn_ctlpath_is_ctl(m)) {
					dpn_ctlpath_answer(dp, c.port,
							   q->from_mgmt, m);
					continue;
				}
				if (is_udp(m)) {
					if (dp->ntp_reply == NULL) {
						dp->mgmt_stats.c[DPN_STAT_DROP_NTP_MODE4]++;
						rte_pktmbuf_free(m);
					} else {
						dp->ntp_reply(dp->ntp_reply_arg,
							      c.port_index, m);
					}
					continue;
				}
				v = slow_answer(&c, m);
				if (v == SLOW_ANSWER &&
				    rte_ring_sp_enqueue(q->from_mgmt, m) == 0)
					continue;
				/* An answer lost to a full ring is no packet
				 * that needed none: its own counter. */
				dp->mgmt_stats.c[v == SLOW_HEARD ?
					DPN_STAT_NEIGH_HEARD :
					v == SLOW_ANSWER ?
					DPN_STAT_SLOW_ANSWER_RING_FULL :
					DPN_STAT_SLOW_IGNORED]++;
				rte_pktmbuf_free(m);
			}
			total += n;
		}
	}
	return total;
}
