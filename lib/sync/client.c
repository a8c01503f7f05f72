/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NTP client on the wire: client (mode 3) requests built by the
 * management lcore and sent through a worker's TX queue, servers'
 * replies passed up by the workers with the TSC of their burst.
 *
 * Requests are lib/source's: nothing but the version, mode, poll and
 * transmit timestamp (the fields a server needs; the rest is zero, as
 * the NTP client data minimization draft recommends). Source and destination
 * port are 123, as ntpd's, so one firewall rule covers both directions.
 */

#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_udp.h>

#include "sync_private.h"

#define REQ_TTL 64
/* How long a poll waits for its next hop's MAC before it counts as sent
 * and lost (the reach register then says so). */
#define NEIGH_WAIT_NS 1000000000LL
#define NEIGH_RETRY_NS 20000000LL

/* The frame of a request along @p r, but its NTP header (@p *ntp);
 * NULL when there is no mbuf. */
static struct rte_mbuf *
build(struct dpn_sync *sy, const struct dpn_route *r,
      const struct rte_ether_addr *mac, size_t auth_len,
      struct dpn_ntp_hdr **ntp)
{
	const size_t udp_len = sizeof(struct rte_udp_hdr) + DPN_NTP_HDR_LEN +
		auth_len;
	bool v4 = r->family == AF_INET;
	size_t l3_len = v4 ? sizeof(struct rte_ipv4_hdr) :
		sizeof(struct rte_ipv6_hdr);
	struct rte_mbuf *m = dpn_mgmt_alloc(sy->dp, r->port_index);
	struct rte_udp_hdr *udp;
	void *l3;

	if (m == NULL)
		return NULL;
	if (dpn_mgmt_eth_init(sy->dp, m, r, mac, v4 ? RTE_ETHER_TYPE_IPV4 :
			      RTE_ETHER_TYPE_IPV6) == NULL ||
	    (l3 = rte_pktmbuf_append(m, l3_len + udp_len)) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	udp = RTE_PTR_ADD(l3, l3_len);
	if (v4) {
		struct rte_ipv4_hdr *ip = l3;

		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(l3_len + udp_len);
		ip->time_to_live = REQ_TTL;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = r->src.v4;
		ip->dst_addr = r->dst.v4;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		struct rte_ipv6_hdr *ip = l3;

		memset(ip, 0, sizeof(*ip));
		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(udp_len);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = REQ_TTL;
		memcpy(ip->src_addr, r->src.v6, 16);
		memcpy(ip->dst_addr, r->dst.v6, 16);
	}
	udp->src_port = rte_cpu_to_be_16(DPN_NTP_PORT);
	udp->dst_port = rte_cpu_to_be_16(DPN_NTP_PORT);
	udp->dgram_len = rte_cpu_to_be_16(udp_len);
	udp->dgram_cksum = 0;
	*ntp = (struct dpn_ntp_hdr *)(udp + 1);
	return m;
}

static void
finish_cksum(struct rte_mbuf *m)
{
	void *l3 = rte_pktmbuf_mtod_offset(m, void *, m->l2_len);
	const struct rte_ipv4_hdr *ip4 = l3;
	struct rte_udp_hdr *udp;
	uint16_t c;

	if ((ip4->version_ihl >> 4) == 4) {
		udp = RTE_PTR_ADD(l3, sizeof(struct rte_ipv4_hdr));
		c = rte_ipv4_udptcp_cksum(l3, udp);
	} else {
		udp = RTE_PTR_ADD(l3, sizeof(struct rte_ipv6_hdr));
		c = rte_ipv6_udptcp_cksum(l3, udp);
	}
	udp->dgram_cksum = c;
}

/*
 * Send one request of @p a's poll. Returns 1 when a request went out (or
 * the poll is counted as lost), 0 when it should be tried again shortly
 * (next hop being resolved).
 */
int
client_send(struct dpn_sync *sy, struct dpn_sync_assoc *a, int64_t now_ns)
{
	struct dpn_source *s = &a->src;
	struct rte_ether_addr mac;
	struct dpn_ntp_hdr *ntp;
	struct dpn_route r;
	struct rte_mbuf *m;
	uint64_t t1;
	int ret;

	ret = dpn_route_lookup(sy->dp, s->conf.family, s->conf.addr, &r);
	if (ret != 0)
		sync_log_unsent(sy, s, ret == -ENETUNREACH ?
				"no route: no listen prefix holds it and no listen line has a gateway" :
				"not an address dpntpd can send to (ours, or not unicast)");
	if (ret == 0)
		ret = dpn_dp_neigh_resolve(sy->dp, &r, &mac);
	if (ret == -EHOSTUNREACH)
		sync_log_unsent(sy, s, "the next hop does not answer ARP/NDP (see show neighbors)");
	if (ret == -EAGAIN) {
		if (a->tx_wait_until_ns == 0)
			a->tx_wait_until_ns = now_ns + NEIGH_WAIT_NS;
		if (now_ns < a->tx_wait_until_ns) {
			s->next_poll_ns = now_ns + NEIGH_RETRY_NS;
			return 0;
		}
	}
	a->tx_wait_until_ns = 0;
	m = ret == 0 ? build(sy, &r, &mac, a->auth ?
			     4 + dpn_ntpauth_mac_len(&a->key) : 0, &ntp) :
		NULL;
	/*
	 * T1 as late as possible: the worker sends the frame in its next
	 * burst, a few microseconds from now at most.
	 */
	t1 = dpn_ntp_ts_from_unix_ns(sync_now_ns(sy));
	if (m != NULL) {
		dpn_source_request(s, ntp, t1);
		if (a->auth && dpn_ntpauth_sign(&a->key, ntp,
						DPN_NTP_HDR_LEN) == 0) {
			rte_pktmbuf_free(m);
			m = NULL;
		}
	}
	if (m != NULL) {
		finish_cksum(m);
		if (dpn_mgmt_tx(sy->dp, r.port_index, m) != 0)
			m = NULL;
	}
	/* Unsent polls count as unanswered ones: reach shows the truth. */
	dpn_source_poll_sent(s, t1, now_ns);
	sy->dp->mgmt_stats.c[m != NULL ? DPN_STAT_NTP_UPSTREAM_REQUESTS :
			      DPN_STAT_NTP_UPSTREAM_UNSENT]++;
	return 1;
}

/*
 * The NIC's receive stamp on the true clock: the published NIC model
 * gives the served (possibly smeared) time, so the smear comes off.
 * @p t4 when the port's clock has no model yet.
 */
static int64_t
nic_t4(const struct dpn_sync *sy, unsigned int port_index,
       const struct rte_mbuf *m, int64_t t4)
{
	uint16_t port_id = sy->dp->ports[port_index].port_id;
	struct dpn_clock_snapshot snap;
	int64_t served;
	double scale;

	if (port_id >= DPN_CLOCK_MAX_PORTS)
		return t4;
	dpn_clock_read(sy->dp->clock, &snap);
	if (snap.nic[port_id].mult == 0)
		return t4;
	served = dpn_clock_model_ns(&snap.nic[port_id],
				    *RTE_MBUF_DYNFIELD(m, sy->ts_off,
						       uint64_t *));
	return served - sync_smear_of(sy, served, &scale);
}

int64_t
sync_rx_time(const struct dpn_sync *sy, unsigned int port_index,
	     const struct rte_mbuf *m, bool *nic)
{
	uint64_t tsc = *RTE_MBUF_DYNFIELD(m, sy->rx_tsc_off, uint64_t *);
	/* The burst's TSC read by the worker, on the true clock... */
	int64_t t = dpn_clock_model_ns(&sy->disc.tracker.model, tsc), n;

	*nic = false;
	/* ...or the NIC's stamp, as server traffic gets (workers' T2). */
	if (sy->ts_off >= 0 && (m->ol_flags & sy->ts_flag)) {
		n = nic_t4(sy, port_index, m, t);
		*nic = n != t;
		t = n;
	}
	return t;
}

void
client_on_reply(void *arg, unsigned int port_index, struct rte_mbuf *m)
{
	struct dpn_sync *sy = arg;
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *,
						    m->l2_len);
	const struct rte_udp_hdr *udp = (const void *)(l3 + m->l3_len);
	struct dpn_sync_assoc *a;
	struct dpn_stats *st = &sy->dp->mgmt_stats;
	unsigned int len;
	enum dpn_source_verdict v;
	bool nic;
	int64_t t4;
	int family;

	if (m->l3_len == sizeof(struct rte_ipv4_hdr)) {
		family = AF_INET;
		a = sync_find_assoc(sy, family,
			       (const uint8_t *)&((const struct rte_ipv4_hdr *)
						  l3)->src_addr);
	} else {
		family = AF_INET6;
		a = sync_find_assoc(sy, family,
			       ((const struct rte_ipv6_hdr *)l3)->src_addr);
	}
	len = rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp);
	if (a == NULL || udp->src_port != rte_cpu_to_be_16(DPN_NTP_PORT)) {
		st->c[DPN_STAT_DROP_NTP_MODE4]++;
		rte_pktmbuf_free(m);
		return;
	}
	t4 = sync_rx_time(sy, port_index, m, &nic);
	/* A server with a key must sign its replies with it. */
	if (a->auth && !dpn_ntpauth_verify(&a->key, udp + 1, len)) {
		st->c[DPN_STAT_NTP_UPSTREAM_BAD]++;
		a->src.nb_rx_bad++;
		sync_log_auth_failed(sy, &a->src, a->key.id);
		rte_pktmbuf_free(m);
		return;
	}
	v = dpn_source_receive(&a->src, (const struct dpn_ntp_hdr *)(udp + 1),
			       a->auth ? DPN_NTP_HDR_LEN : len, t4);
	if (v == DPN_SOURCE_R_OK) {
		st->c[DPN_STAT_NTP_UPSTREAM_REPLIES]++;
	} else {
		st->c[DPN_STAT_NTP_UPSTREAM_BAD]++;
		sync_log_refused(sy, &a->src, v);
	}
	rte_pktmbuf_free(m);
	sync_select(sy, sync_now_ns(sy));
}
