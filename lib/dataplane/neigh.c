/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Next hops for what the management lcore sends (the NTP client's
 * requests to upstream servers): routes from the listen lines, the
 * neighbour tables (lib/neigh's state machine) with the ARP requests and
 * neighbour solicitations that fill them, and the way out for frames
 * the management lcore builds, through a worker's TX queue.
 *
 * All of it runs on the management lcore, the only writer of the tables
 * and the only producer on the from_mgmt rings, so nothing takes a lock.
 * Control threads read tables through the table's sequence lock and ask
 * for resolutions through a few request slots.
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dpn_dataplane.h"
#include "dp_log.h"

#define NEIGH_TICK_NS (10 * 1000 * 1000ull)	/* timer resolution */
#define NEIGH_NB_REQUESTS 4	/* control threads asking at once */
#define ETH_MIN_PAYLOAD 46	/* shorter frames are runts on the wire */

#define ND_NEIGHBOR_SOLICIT 135
#define ND_OPT_SOURCE_LLADDR 1

/* A request slot's life: FREE -> CLAIMED (the asker fills it) ->
 * POSTED -> BUSY (the management lcore works) -> DONE -> FREE. */
enum req_state { REQ_FREE, REQ_CLAIMED, REQ_POSTED, REQ_BUSY, REQ_DONE };

struct neigh_request {
	uint32_t state;		/* enum req_state, atomic */
	int family;
	union dpn_inaddr dst;
	struct dpn_route route;
	int result;
};

/* How often the management lcore asks each port for its link state. */
#define LINK_POLL_NS (100 * 1000 * 1000ull)

enum link_seen { LINK_UNKNOWN = 0, LINK_SEEN_DOWN, LINK_SEEN_UP };

struct dpn_neigh {
	struct dpn_neigh_table tables[DPN_MAX_PORTS];
	uint8_t link[DPN_MAX_PORTS];	/* enum link_seen */
	uint64_t next_link_ns;
	uint64_t next_tick_ns;
	struct neigh_request req[NEIGH_NB_REQUESTS];
};

/* ICMPv6 neighbour solicitation with a source link-layer option. */
struct nd_solicit {
	uint8_t type;
	uint8_t code;
	uint16_t cksum;
	uint32_t reserved;
	uint8_t target[16];
	uint8_t opt_type;
	uint8_t opt_len;	/* units of 8 bytes */
	uint8_t opt_mac[RTE_ETHER_ADDR_LEN];
} __rte_packed;

int
dpn_dp_neigh_init(struct dpn_dataplane *dp)
{
	unsigned int i;

	dp->neigh = rte_zmalloc("dpn_neigh", sizeof(*dp->neigh),
				RTE_CACHE_LINE_SIZE);
	if (dp->neigh == NULL)
		return -ENOMEM;
	for (i = 0; i < DPN_MAX_PORTS; i++)
		dpn_neigh_table_init(&dp->neigh->tables[i]);
	return 0;
}

void
dpn_dp_neigh_fini(struct dpn_dataplane *dp)
{
	rte_free(dp->neigh);
	dp->neigh = NULL;
}

/*
 * Sending from the management lcore.
 */

struct rte_mbuf *
dpn_mgmt_alloc(struct dpn_dataplane *dp, unsigned int port_index)
{
	if (port_index >= dp->nb_ports)
		return NULL;
	return rte_pktmbuf_alloc(dp->ports[port_index].pool);
}

void *
dpn_mgmt_eth_init(const struct dpn_dataplane *dp, struct rte_mbuf *m,
		  const struct dpn_route *r, const struct rte_ether_addr *dst,
		  uint16_t ether_type)
{
	struct rte_ether_hdr *eth;
	struct rte_vlan_hdr *vh;
	unsigned int len = sizeof(*eth) + (r->vlan != 0 ? sizeof(*vh) : 0);

	if (m->data_len != 0 || r->port_index >= dp->nb_ports)
		return NULL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, len);
	if (eth == NULL)
		return NULL;
	rte_ether_addr_copy(dst, &eth->dst_addr);
	rte_ether_addr_copy(&dp->ports[r->port_index].mac, &eth->src_addr);
	/* Tagged in software: every PMD sends that, offload or not. */
	if (r->vlan != 0) {
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		vh = (struct rte_vlan_hdr *)(eth + 1);
		vh->vlan_tci = rte_cpu_to_be_16(r->vlan);
		vh->eth_proto = rte_cpu_to_be_16(ether_type);
	} else {
		eth->ether_type = rte_cpu_to_be_16(ether_type);
	}
	m->l2_len = len;
	return rte_pktmbuf_mtod_offset(m, void *, len);
}

int
dpn_mgmt_tx(struct dpn_dataplane *dp, unsigned int port_index,
	    struct rte_mbuf *m)
{
	struct rte_ring *ring;

	if (port_index >= dp->nb_ports || dp->nb_workers == 0) {
		rte_pktmbuf_free(m);
		dp->mgmt_stats.c[DPN_STAT_MGMT_TX_FAILED]++;
		return -ENODEV;
	}
	/* Worker 0 owns queue 0 of every port (port.c). */
	ring = dp->workers[0]->rxq[port_index].from_mgmt;
	if (rte_ring_sp_enqueue(ring, m) != 0) {
		rte_pktmbuf_free(m);
		dp->mgmt_stats.c[DPN_STAT_MGMT_TX_FAILED]++;
		return -ENOBUFS;
	}
	dp->mgmt_stats.c[DPN_STAT_MGMT_TX]++;
	return 0;
}

/*
 * Routes.
 */

static bool
v4_in_prefix(uint32_t a, uint32_t net, unsigned int len)
{
	uint32_t mask = len == 0 ? 0 :
		rte_cpu_to_be_32(UINT32_MAX << (32 - len));

	return ((a ^ net) & mask) == 0;
}

static bool
v6_in_prefix(const uint8_t *a, const uint8_t *net, unsigned int len)
{
	unsigned int bytes = len / 8, bits = len % 8;

	if (memcmp(a, net, bytes) != 0)
		return false;
	return bits == 0 ||
		((a[bytes] ^ net[bytes]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

static bool
v6_is_zero(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

static bool
v6_link_local(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* Longest prefix holding @p dst over every port; -1 if none. */
static int
route_v4(struct dpn_dataplane *dp, uint32_t dst, struct dpn_route *r)
{
	int best_len = -1, gw_port = -1, gw_i = -1;
	unsigned int pi, i;

	for (pi = 0; pi < dp->nb_ports; pi++) {
		const struct dpn_addrs *a = &dp->ports[pi].addrs;

		for (i = 0; i < a->nb_v4; i++) {
			/* Ours, or a served subnet's broadcast address. */
			if (a->v4[i] == dst || a->v4_bcast[i] == dst)
				return -EINVAL;
			if (a->v4_gw[i] != 0 && gw_port < 0) {
				gw_port = pi;
				gw_i = i;
			}
			if ((int)a->v4_prefix[i] <= best_len ||
			    !v4_in_prefix(dst, a->v4[i], a->v4_prefix[i]))
				continue;
			best_len = a->v4_prefix[i];
			r->port_index = pi;
			r->vlan = a->v4_vlan[i];
			r->src.v4 = a->v4[i];
			r->nexthop.v4 = dst;
			r->on_link = true;
		}
	}
	if (best_len >= 0)
		return 0;
	if (gw_port < 0)
		return -ENETUNREACH;
	r->port_index = gw_port;
	r->vlan = dp->ports[gw_port].addrs.v4_vlan[gw_i];
	r->src.v4 = dp->ports[gw_port].addrs.v4[gw_i];
	r->nexthop.v4 = dp->ports[gw_port].addrs.v4_gw[gw_i];
	r->on_link = false;
	return 0;
}

static int
route_v6(struct dpn_dataplane *dp, const uint8_t *dst, struct dpn_route *r)
{
	int best_len = -1, gw_port = -1, gw_i = -1, first_port = -1;
	bool ll = v6_link_local(dst);
	unsigned int pi, i;

	for (pi = 0; pi < dp->nb_ports; pi++) {
		const struct dpn_addrs *a = &dp->ports[pi].addrs;

		for (i = 0; i < a->nb_v6; i++) {
			if (memcmp(a->v6[i], dst, 16) == 0)
				return -EINVAL;
			if (first_port < 0)
				first_port = pi;
			if (!v6_is_zero(a->v6_gw[i]) && gw_port < 0) {
				gw_port = pi;
				gw_i = i;
			}
			if ((int)a->v6_prefix[i] <= best_len ||
			    !v6_in_prefix(dst, a->v6[i], a->v6_prefix[i]))
				continue;
			best_len = a->v6_prefix[i];
			r->port_index = pi;
			r->vlan = a->v6_vlan[i];
			memcpy(r->src.v6, a->v6[i], 16);
			memcpy(r->nexthop.v6, dst, 16);
			r->on_link = true;
		}
	}
	if (best_len >= 0)
		return 0;
	/* No link-local address of our own: the first line's link. */
	if (ll && first_port >= 0) {
		const struct dpn_addrs *a = &dp->ports[first_port].addrs;

		r->port_index = first_port;
		r->vlan = a->v6_vlan[0];
		memcpy(r->src.v6, a->v6[0], 16);
		memcpy(r->nexthop.v6, dst, 16);
		r->on_link = true;
		return 0;
	}
	if (gw_port < 0 || ll)
		return -ENETUNREACH;
	r->port_index = gw_port;
	r->vlan = dp->ports[gw_port].addrs.v6_vlan[gw_i];
	memcpy(r->src.v6, dp->ports[gw_port].addrs.v6[gw_i], 16);
	memcpy(r->nexthop.v6, dp->ports[gw_port].addrs.v6_gw[gw_i], 16);
	r->on_link = false;
	return 0;
}

int
dpn_route_lookup(struct dpn_dataplane *dp, int family, const void *dst_addr,
		 struct dpn_route *out)
{
	memset(out, 0, sizeof(*out));
	out->family = family;
	if (family == AF_INET) {
		uint32_t a;

		memcpy(&a, dst_addr, 4);
		out->dst.v4 = a;
		a = rte_be_to_cpu_32(a);
		/* 0/8, 127/8, multicast, class E and broadcast. */
		if ((a >> 24) == 0 || (a >> 24) == 127 || a >= 0xe0000000)
			return -EINVAL;
		return route_v4(dp, out->dst.v4, out);
	}
	if (family == AF_INET6) {
		memcpy(out->dst.v6, dst_addr, 16);
		if (out->dst.v6[0] == 0xff || v6_is_zero(out->dst.v6))
			return -EINVAL;
		return route_v6(dp, out->dst.v6, out);
	}
	return -EAFNOSUPPORT;
}

/*
 * Probes.
 */

/* Our address to probe @p target from on (port, VLAN): one whose prefix
 * holds it, else the first on that VLAN. false if there is none. */
static bool
probe_source(const struct dpn_addrs *a, int family, const uint8_t *target,
	     uint16_t vlan, union dpn_inaddr *src)
{
	bool found = false;
	unsigned int i;

	if (family == AF_INET) {
		uint32_t t;

		memcpy(&t, target, 4);
		for (i = 0; i < a->nb_v4; i++) {
			if (a->v4_vlan[i] != vlan)
				continue;
			if (!found ||
			    v4_in_prefix(t, a->v4[i], a->v4_prefix[i]))
				src->v4 = a->v4[i];
			found = true;
			if (v4_in_prefix(t, a->v4[i], a->v4_prefix[i]))
				break;
		}
		return found;
	}
	for (i = 0; i < a->nb_v6; i++) {
		if (a->v6_vlan[i] != vlan)
			continue;
		if (!found || v6_in_prefix(target, a->v6[i], a->v6_prefix[i]))
			memcpy(src->v6, a->v6[i], 16);
		found = true;
		if (v6_in_prefix(target, a->v6[i], a->v6_prefix[i]))
			break;
	}
	return found;
}

/* Pad to the Ethernet minimum; NICs usually do, af_packet does not. */
static void
pad_frame(struct rte_mbuf *m)
{
	unsigned int min = m->l2_len + ETH_MIN_PAYLOAD;
	char *p;

	if (m->data_len >= min)
		return;
	p = rte_pktmbuf_append(m, min - m->data_len);
	if (p != NULL)
		memset(p, 0, rte_pktmbuf_mtod_offset(m, char *, min) - p);
}

static bool
arp_build(struct dpn_dataplane *dp, struct rte_mbuf *m,
	  const struct dpn_route *r, const struct rte_ether_addr *dst,
	  bool unicast)
{
	struct rte_arp_hdr *arp;

	if (dpn_mgmt_eth_init(dp, m, r, dst, RTE_ETHER_TYPE_ARP) == NULL)
		return false;
	arp = (struct rte_arp_hdr *)rte_pktmbuf_append(m, sizeof(*arp));
	if (arp == NULL)
		return false;
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&dp->ports[r->port_index].mac,
			    &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = r->src.v4;
	/* RFC 826 leaves it open; Linux sends the known MAC in unicast
	 * probes and zero in broadcast ones. */
	if (unicast)
		rte_ether_addr_copy(dst, &arp->arp_data.arp_tha);
	else
		memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_tip = r->nexthop.v4;
	pad_frame(m);
	return true;
}

static bool
ns_build(struct dpn_dataplane *dp, struct rte_mbuf *m,
	 const struct dpn_route *r, const struct rte_ether_addr *dst,
	 bool unicast)
{
	struct rte_ipv6_hdr *ip;
	struct nd_solicit *ns;
	const uint8_t *t = r->nexthop.v6;

	if (dpn_mgmt_eth_init(dp, m, r, dst, RTE_ETHER_TYPE_IPV6) == NULL)
		return false;
	ip = (struct rte_ipv6_hdr *)rte_pktmbuf_append(m,
		sizeof(*ip) + sizeof(*ns));
	if (ip == NULL)
		return false;
	ns = (struct nd_solicit *)(ip + 1);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(sizeof(*ns));
	ip->proto = IPPROTO_ICMPV6;
	/* RFC 4861 7.1.1: 255 shows the receiver it comes from the link. */
	ip->hop_limits = 255;
	memcpy(ip->src_addr, r->src.v6, 16);
	if (unicast) {
		memcpy(ip->dst_addr, t, 16);
	} else {
		/* Solicited-node: ff02::1:ff00:0/104 + the low 24 bits. */
		static const uint8_t snm[13] = { 0xff, 0x02, [11] = 0x01,
						 [12] = 0xff };

		memcpy(ip->dst_addr, snm, 13);
		memcpy(ip->dst_addr + 13, t + 13, 3);
	}
	memset(ns, 0, sizeof(*ns));
	ns->type = ND_NEIGHBOR_SOLICIT;
	memcpy(ns->target, t, 16);
	ns->opt_type = ND_OPT_SOURCE_LLADDR;
	ns->opt_len = 1;
	memcpy(ns->opt_mac, dp->ports[r->port_index].mac.addr_bytes,
	       RTE_ETHER_ADDR_LEN);
	ns->cksum = rte_ipv6_udptcp_cksum(ip, ns);
	return true;
}

/* Send one ARP request or neighbour solicitation for @p e's address. */
static void
probe_send(struct dpn_dataplane *dp, unsigned int port_index,
	   const struct dpn_neigh_entry *e, enum dpn_neigh_action how)
{
	const struct dpn_port *p = &dp->ports[port_index];
	struct rte_ether_addr dst;
	struct dpn_route r;
	struct rte_mbuf *m;
	bool unicast = how == DPN_NEIGH_SEND_UNICAST, ok;

	memset(&r, 0, sizeof(r));
	r.family = e->family;
	r.port_index = port_index;
	r.vlan = e->vlan;
	memcpy(&r.nexthop, e->addr, e->family == AF_INET ? 4 : 16);
	if (!probe_source(&p->addrs, e->family, e->addr, e->vlan, &r.src))
		return;
	if (unicast) {
		memcpy(dst.addr_bytes, e->mac, RTE_ETHER_ADDR_LEN);
	} else if (e->family == AF_INET) {
		memset(dst.addr_bytes, 0xff, RTE_ETHER_ADDR_LEN);
	} else {
		/* 33:33 + the low 32 bits of ff02::1:ffXX:XXXX (RFC 2464). */
		dst.addr_bytes[0] = 0x33;
		dst.addr_bytes[1] = 0x33;
		dst.addr_bytes[2] = 0xff;
		memcpy(&dst.addr_bytes[3], e->addr + 13, 3);
	}
	m = dpn_mgmt_alloc(dp, port_index);
	if (m == NULL) {
		dp->mgmt_stats.c[DPN_STAT_MGMT_TX_FAILED]++;
		return;
	}
	ok = e->family == AF_INET ? arp_build(dp, m, &r, &dst, unicast) :
		ns_build(dp, m, &r, &dst, unicast);
	if (!ok) {
		rte_pktmbuf_free(m);
		dp->mgmt_stats.c[DPN_STAT_MGMT_TX_FAILED]++;
		return;
	}
	if (dpn_mgmt_tx(dp, port_index, m) == 0)
		dp->mgmt_stats.c[DPN_STAT_NEIGH_PROBES]++;
}

/*
 * Resolution.
 */

int
dpn_dp_neigh_resolve(struct dpn_dataplane *dp, const struct dpn_route *r,
		  struct rte_ether_addr *mac)
{
	struct dpn_neigh_table *t;
	enum dpn_neigh_action send;
	uint8_t addr[16];
	int ret;

	if (r->port_index >= dp->nb_ports ||
	    (r->family != AF_INET && r->family != AF_INET6))
		return -EINVAL;
	t = &dp->neigh->tables[r->port_index];
	memcpy(addr, &r->nexthop, sizeof(addr));
	ret = dpn_neigh_table_use(t, r->family, addr, r->vlan,
				  dpn_neigh_now_ns(), mac->addr_bytes, &send);
	if (send != DPN_NEIGH_SEND_NONE) {
		const struct dpn_neigh_entry *e =
			dpn_neigh_table_find(t, r->family, addr, r->vlan);

		if (e != NULL)
			probe_send(dp, r->port_index, e, send);
	}
	return ret;
}

void
dpn_dp_neigh_learn(struct dpn_dataplane *dp, unsigned int port_index,
		int family, const void *addr, uint16_t vlan,
		const struct rte_ether_addr *mac, enum dpn_neigh_evidence how)
{
	if (port_index >= dp->nb_ports || dp->neigh == NULL)
		return;
	if (dpn_neigh_table_learn(&dp->neigh->tables[port_index], family,
				  addr, vlan, mac->addr_bytes, how,
				  dpn_neigh_now_ns()))
		dp->mgmt_stats.c[DPN_STAT_NEIGH_UPDATES]++;
}

/*
 * The timers and the requests of other threads.
 */

struct tick_ctx {
	struct dpn_dataplane *dp;
	unsigned int port_index;
};

static void
tick_send(const struct dpn_neigh_entry *e, enum dpn_neigh_action how,
	  void *arg)
{
	struct tick_ctx *c = arg;

	probe_send(c->dp, c->port_index, e, how);
}

static unsigned int
requests_serve(struct dpn_dataplane *dp)
{
	struct rte_ether_addr mac;
	unsigned int i, n = 0;

	for (i = 0; i < NEIGH_NB_REQUESTS; i++) {
		struct neigh_request *q = &dp->neigh->req[i];
		uint32_t expect = REQ_POSTED;

		if (__atomic_load_n(&q->state, __ATOMIC_RELAXED) !=
		    REQ_POSTED ||
		    !__atomic_compare_exchange_n(&q->state, &expect, REQ_BUSY,
						 false, __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			continue;
		q->result = dpn_route_lookup(dp, q->family, &q->dst, &q->route);
		if (q->result == 0)
			q->result = dpn_dp_neigh_resolve(dp, &q->route, &mac);
		__atomic_store_n(&q->state, REQ_DONE, __ATOMIC_RELEASE);
		n++;
	}
	return n;
}

/*
 * Each port's link, polled: a link that goes down is counted and logged
 * and its port's neighbours forgotten (as Linux flushes them), so that
 * once it is back they are resolved again, from what is behind the link
 * then. The first look only records the state.
 */
static unsigned int
link_poll(struct dpn_dataplane *dp)
{
	unsigned int i, n = 0;

	for (i = 0; i < dp->nb_ports; i++) {
		struct dpn_port *p = &dp->ports[i];
		struct rte_eth_link link;
		uint8_t now, was = dp->neigh->link[i];

		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(p->port_id, &link) != 0)
			continue;
		now = link.link_status == RTE_ETH_LINK_UP ? LINK_SEEN_UP :
			LINK_SEEN_DOWN;
		if (now == was)
			continue;
		dp->neigh->link[i] = now;
		if (was == LINK_UNKNOWN)
			continue;
		n++;
		if (now == LINK_SEEN_DOWN) {
			unsigned int gone = dpn_neigh_table_flush(
				&dp->neigh->tables[i]);

			dp->mgmt_stats.c[DPN_STAT_LINK_DOWN]++;
			DP_LOG(WARNING, "port %u (%s): link down; %u neighbours forgotten",
			       i, p->name, gone);
		} else {
			dp->mgmt_stats.c[DPN_STAT_LINK_UP]++;
			DP_LOG(NOTICE, "port %u (%s): link up", i, p->name);
		}
	}
	return n;
}

bool
dpn_dp_link_down(const struct dpn_dataplane *dp, unsigned int port_index)
{
	return dp->neigh != NULL && port_index < dp->nb_ports &&
		dp->neigh->link[port_index] == LINK_SEEN_DOWN;
}

unsigned int
dpn_dp_neigh_poll(struct dpn_dataplane *dp, uint64_t now_ns)
{
	struct tick_ctx c = { .dp = dp };
	unsigned int n;

	if (dp->neigh == NULL)
		return 0;
	n = requests_serve(dp);
	if (now_ns >= dp->neigh->next_link_ns) {
		dp->neigh->next_link_ns = now_ns + LINK_POLL_NS;
		n += link_poll(dp);
	}
	if (now_ns < dp->neigh->next_tick_ns)
		return n;
	dp->neigh->next_tick_ns = now_ns + NEIGH_TICK_NS;
	for (c.port_index = 0; c.port_index < dp->nb_ports; c.port_index++)
		n += dpn_neigh_table_tick(&dp->neigh->tables[c.port_index],
					  now_ns, tick_send, &c);
	return n;
}

int
dpn_dp_neigh_read(const struct dpn_dataplane *dp, unsigned int port_index,
	       struct dpn_neigh_entry *out, unsigned int max)
{
	if (port_index >= dp->nb_ports || dp->neigh == NULL)
		return -EINVAL;
	return dpn_neigh_table_read(&dp->neigh->tables[port_index], out, max);
}

int
dpn_dp_neigh_request(struct dpn_dataplane *dp, int family, const void *dst_addr,
		  unsigned int timeout_ms, struct dpn_route *route,
		  int *result)
{
	struct neigh_request *q = NULL;
	unsigned int i, waited;
	uint32_t expect;

	if (dp->neigh == NULL)
		return -EINVAL;
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	for (i = 0; i < NEIGH_NB_REQUESTS && q == NULL; i++) {
		expect = REQ_FREE;
		if (__atomic_compare_exchange_n(&dp->neigh->req[i].state,
						&expect, REQ_CLAIMED, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			q = &dp->neigh->req[i];
	}
	if (q == NULL)
		return -EBUSY;
	q->family = family;
	memcpy(&q->dst, dst_addr, family == AF_INET ? 4 : 16);
	__atomic_store_n(&q->state, REQ_POSTED, __ATOMIC_RELEASE);

	for (waited = 0; waited < timeout_ms; waited++) {
		if (__atomic_load_n(&q->state, __ATOMIC_ACQUIRE) == REQ_DONE)
			break;
		rte_delay_us_sleep(1000);
	}
	/* Not taken in time: withdraw it, unless it is being served. */
	expect = REQ_POSTED;
	if (__atomic_compare_exchange_n(&q->state, &expect, REQ_FREE, false,
					__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return -ETIMEDOUT;
	/* Served or being served (microseconds): wait for the answer. */
	for (waited = 0; waited < 1000; waited++) {
		if (__atomic_load_n(&q->state, __ATOMIC_ACQUIRE) == REQ_DONE)
			break;
		rte_delay_us_sleep(1000);
	}
	/* Still not done: the slot is lost (three remain); harmless. */
	if (__atomic_load_n(&q->state, __ATOMIC_ACQUIRE) != REQ_DONE)
		return -ETIMEDOUT;
	*route = q->route;
	*result = q->result;
	__atomic_store_n(&q->state, REQ_FREE, __ATOMIC_RELEASE);
	return 0;
}
