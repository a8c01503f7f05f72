/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control requests (NTP mode 6, ntpq) on the management lcore. The
 * workers only classify them and apply restrict (noquery) and the rate
 * limit; here the request is parsed, its answer composed (by the sync
 * side through dp->ntp_ctl, from the state `show sysinfo` prints) and
 * cut into fragments. The first fragment reuses the request's mbuf,
 * the others are new mbufs from the same pool with its headers; all go
 * back to the worker that received the request, as the other slow-path
 * answers do, so that they leave by the queue the request came in on.
 *
 * An answer is at most DPN_NTPCTL_MAX_FRAGS fragments (dpn_ntpctl.h),
 * whatever is asked: the bound on what one request can make us send.
 */

#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dpn_ntpctl.h"
#include "slowpath_private.h"

#define CTL_TTL 64

static struct rte_udp_hdr *
udp_hdr_of(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *,
				       m->l2_len + m->l3_len);
}

bool
dpn_ctlpath_is_ctl(const struct rte_mbuf *m)
{
	const struct rte_udp_hdr *udp = udp_hdr_of(m);
	const uint8_t *ntp = (const uint8_t *)(udp + 1);

	/* The worker checked lengths: a mode 6 payload has 12 bytes. */
	return udp->dst_port == RTE_BE16(123) &&
		rte_be_to_cpu_16(udp->dgram_len) > sizeof(*udp) &&
		(ntp[0] & 7) == 6;
}

/* A new mbuf with @p req's frame headers and parse fields. */
static struct rte_mbuf *
clone_headers(const struct rte_mbuf *req)
{
	unsigned int hl = req->l2_len + req->l3_len +
		sizeof(struct rte_udp_hdr);
	struct rte_mbuf *m = rte_pktmbuf_alloc(req->pool);
	char *p;

	if (m == NULL)
		return NULL;
	p = rte_pktmbuf_append(m, hl);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(p, rte_pktmbuf_mtod(req, const void *), hl);
	m->l2_len = req->l2_len;
	m->l3_len = req->l3_len;
	m->packet_type = req->packet_type;
	m->vlan_tci = req->vlan_tci;
	m->ol_flags = req->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->port = req->port;
	return m;
}

/*
 * Put fragment @p i of the answer into @p m (which holds the request's
 * headers), turn it around and finish its checksums in software.
 * @return false if it does not fit the mbuf.
 */
static bool
fill(struct rte_mbuf *m, const struct dpn_port *port,
     const struct dpn_ntpctl_req *req, const struct dpn_ntpctl_answer *a,
     unsigned int i)
{
	unsigned int hl = m->l2_len + m->l3_len + sizeof(struct rte_udp_hdr);
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len);
	struct rte_udp_hdr *udp = udp_hdr_of(m);
	rte_be16_t port_swap;
	size_t len;

	if (rte_pktmbuf_tailroom(m) + m->data_len < hl + DPN_NTPCTL_FRAG_MAX)
		return false;
	len = dpn_ntpctl_fragment(req, a, i, (uint8_t *)(udp + 1));
	m->data_len = m->pkt_len = hl + len;
	port_swap = udp->src_port;
	udp->src_port = udp->dst_port;
	udp->dst_port = port_swap;
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + len);
	udp->dgram_cksum = 0;
	if ((m->packet_type & RTE_PTYPE_L3_MASK) == RTE_PTYPE_L3_IPV4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
		uint32_t a4 = ip->src_addr;

		ip->src_addr = ip->dst_addr;
		ip->dst_addr = a4;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) +
						    sizeof(*udp) + len);
		ip->time_to_live = CTL_TTL;
		ip->packet_id = 0;
		ip->fragment_offset = 0;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)l3;
		uint8_t a6[16];

		memcpy(a6, ip->src_addr, 16);
		memcpy(ip->src_addr, ip->dst_addr, 16);
		memcpy(ip->dst_addr, a6, 16);
		ip->payload_len = rte_cpu_to_be_16(sizeof(*udp) + len);
		ip->hop_limits = CTL_TTL;
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	}
	dpn_slow_l2_reply(m, port);
	return true;
}

void
dpn_ctlpath_answer(struct dpn_dataplane *dp, const struct dpn_port *port,
		   struct rte_ring *back, struct rte_mbuf *m)
{
	struct dpn_stats *st = &dp->mgmt_stats;
	struct rte_mbuf *out[DPN_NTPCTL_MAX_FRAGS];
	struct dpn_ntpctl_answer ans, *a = &ans;
	struct dpn_ntpctl_req rq, *req = &rq;
	const struct rte_udp_hdr *udp = udp_hdr_of(m);
	unsigned int i, n, got, sent;

	if (dpn_ntpctl_parse(udp + 1, rte_be_to_cpu_16(udp->dgram_len) -
			     sizeof(*udp), req) != DPN_NTPCTL_PARSE_OK) {
		st->c[DPN_STAT_NTP_CTL_MALFORMED]++;
		rte_pktmbuf_free(m);
		return;
	}
	/* The MRU list: not a byte back (dpn_ntpctl.h). */
	if (dpn_ntpctl_op_silent(req->opcode)) {
		st->c[DPN_STAT_NTP_CTL_REFUSED]++;
		rte_pktmbuf_free(m);
		return;
	}
	dpn_ntpctl_answer_init(a, 0);
	if (dpn_ntpctl_op_refused(req->opcode))
		dpn_ntpctl_answer_error(a, DPN_NTPCTL_ERR_PERMISSION);
	else if (dp->ntp_ctl == NULL)
		dpn_ntpctl_answer_error(a, DPN_NTPCTL_ERR_BADOP);
	else
		dp->ntp_ctl(dp->ntp_ctl_arg, req, a);
	st->c[a->error >= 0 ? DPN_STAT_NTP_CTL_REFUSED :
	      DPN_STAT_NTP_CTL_ANSWERS]++;
	if (a->truncated)
		st->c[DPN_STAT_NTP_CTL_TRUNCATED]++;

	/* The others first: the request's headers are their template. */
	n = dpn_ntpctl_nb_frags(a);
	out[0] = m;
	for (i = 1; i < n; i++)
		if ((out[i] = clone_headers(m)) == NULL)
			break;
	got = i;
	for (i = 0; got == n && i < n; i++)
		if (!fill(out[i], port, req, a, i))
			break;
	/* No mbuf or no room: send none rather than an answer with a
	 * hole, which ntpq would wait for in vain. */
	if (got < n || i < n) {
		st->c[DPN_STAT_NTP_CTL_UNSENT] += n;
		rte_pktmbuf_free_bulk(out, got);
		return;
	}
	sent = rte_ring_sp_enqueue_burst(back, (void **)out, n, NULL);
	st->c[DPN_STAT_NTP_CTL_FRAGMENTS] += sent;
	st->c[DPN_STAT_NTP_CTL_UNSENT] += n - sent;
	if (sent < n)
		rte_pktmbuf_free_bulk(out + sent, n - sent);
}
