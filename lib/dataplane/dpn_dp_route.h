/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_DP_ROUTE_H
#define DPN_DP_ROUTE_H

/**
 * @file
 * Routes, neighbours and frames the management lcore sends. Included
 * by dpn_dataplane.h.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dpn_neigh.h"

struct dpn_dataplane;

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
 * True when port @p port_index's link was down at the last link poll
 * (every 100 ms in dpn_dp_neigh_poll); false before the first one.
 * Management lcore only.
 */
bool dpn_dp_link_down(const struct dpn_dataplane *dp, unsigned int port_index);

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

#endif /* DPN_DP_ROUTE_H */
