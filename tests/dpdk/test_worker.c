/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's per-packet code, dpn_worker_handle_burst() then
 * dpn_worker_stamp_tx() (what the worker loop calls between rx_burst
 * and tx_burst), fed crafted frames on a port that exists only in
 * memory. Each reply is checked field by field against its request:
 * addresses, lengths, checksums, the NTP header, and T2 from the NIC's
 * stamp or the TSC. Also VLANs (stripped and in band), the NIC's
 * checksum flags, and servers' replies passed to the slow path with
 * what the client side needs (the burst's TSC, the NIC's stamp).
 * Interleaved mode (RFC 9769) through a real table: dpn_worker_tx_done()
 * saves a reply's transmit time and the next request naming that reply
 * gets it, once, and only when it looks interleaved and is served.
 * Symmetric keys through the published key table: a request signed with
 * a trusted key gets a reply as long as itself, signed with that key (the
 * client side's MAC check passes it); unknown keys and bad MACs get a
 * crypto-NAK or nothing, as `authfail` says; notrust serves only
 * authenticated requests. NTS (RFC 8915) with requests built as a
 * client builds them (tests/common/nts_client.h): a reply as long as the
 * request, sealed over its final header, fresh cookies that open to the
 * request's keys; an NTS NAK for a cookie of other keys; malformed NTS
 * fields, NTS off, and NTS in symmetric mode dropped.
 *
 * Needs EAL (mbuf pool, rings, mbuf dynamic fields); runs without huge
 * pages or devices: the port and the worker are put together by hand,
 * the way perf/bench.c does.
 */

#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <cmocka.h>

#include "dpn_acl.h"
#include "dpn_dataplane.h"
#include "dpn_ntp.h"
#include "dpn_ntpauth.h"
#include "dpn_nts.h"
#include "nts_client.h"
#include "test_rig.h"

#define POOL_SIZE 511
#define FRAME_MAX 1280
#define CLIENT_PORT 40000
#define VID 100		/* the VLAN of the port's second addresses */
#define VID_OTHER 200		/* a VLAN the port has no address on */
#define TCI (0x2000 | VID)	/* priority 1: the whole TCI must stay */
#define CLIENT_IGNORED 0x902	/* 198.19.9.2, in the `ignore` prefix */
#define CLIENT_LIMITED 0xa02	/* 198.19.10.2, `limited kod` (acl_limited) */
#define CLIENT_NOTRUST 0xb02	/* 198.19.11.2, `notrust` (acl_notrust) */
#define CLIENT_NOQUERY 0xc02	/* 198.19.12.2, `noquery` (acl_noquery) */
#define XLEAVE_ENTRIES 256
/* A client's receive time of our previous reply (the receive field of
 * an interleaved request): any value but its transmit field. */
#define CLIENT_RX 0xeabc1234deadbee0ULL
#define NIC_STAMP 0x0000123456789abcULL
#define EPOCH_NS 1795000000000000000LL
#define SEC_NS 1000000000LL
/* The NIC's stamp maps 0.75 s before the burst's TSC: a reply's T2
 * tells which of the two it was taken from. */
#define NIC_EARLIER_NS 750000000LL
/* The worker may set the lowest bit and add two units a request to
 * keep receive timestamps unique: a whole burst is 30 ns at most. */
#define T2_SLACK (2 * 2 * DPN_BURST + 1)
#define XMT_BASE 0xeabc123400000000ULL
#define TX4 RTE_MBUF_F_TX_IPV4
#define TX6 RTE_MBUF_F_TX_IPV6

#define CHECK(cond, ...) do {			\
	if (!(cond))				\
		fail_msg(__VA_ARGS__);		\
} while (0)

#define CHECK_EQ(got, want, what) do {				\
	uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);	\
	if (g_ != w_)						\
		fail_msg("%s: got %#" PRIx64 ", want %#" PRIx64, \
			 (what), g_, w_);			\
} while (0)

static struct dpn_port port;
static struct dpn_worker *worker;
static struct dpn_clock clock_pub;
static struct dpn_acl_table *acl_none;	/* no restrict rules */
static struct dpn_acl_table *acl_rules;	/* 198.19.9.0/24 ignore */
/* acl_rules, and 198.19.10.0/24 limited kod */
static struct dpn_acl_table *acl_limited;
static struct dpn_acl_table *acl_notrust;	/* 198.19.11.0/24 notrust */
/* acl_limited, and 198.19.12.0/24 noquery */
static struct dpn_acl_table *acl_noquery;
/* Only what dpn_dataplane_set_auth() needs: one worker, RCU. */
static struct dpn_dataplane auth_dp;
static struct dpn_ntpauth_keys auth_keys;
static const uint32_t auth_trusted[] = { 1, 3, 7, 9 };
/* NTS: the server's keys, and another server's. */
static struct dpn_nts_keyring nts_keys, nts_other;
static struct dpn_nts_rng test_rng;
static const uint8_t nts_c2s[32] = { 0xc2, 0x52, 1 };
static const uint8_t nts_s2c[32] = { 0x52, 0xc2, 2 };
/* The NTP length of the replies check_frame() is looking at. */
static unsigned int reply_ntp_len = DPN_NTP_HDR_LEN;
static void *xleave_mem;	/* the worker's interleaved table, if on */
static int ts_off = -1;
static uint64_t ts_flag;

/* Per test: the burst's TSC, what it and the NIC's stamp map to. */
static struct dpn_clock_snapshot snap;
static uint64_t rx_tsc;
static int64_t t_tsc_ns, t_nic_ns;
static unsigned int test_nb;
static uint64_t xmt_seq;

/* Mbufs the worker handed back, freed after each test. */
static struct rte_mbuf *held[POOL_SIZE];
static unsigned int nb_held;
static unsigned int pool_free;	/* in the pool when the test began */

static const struct rte_ether_addr client_mac = {
	{ 0x02, 0, 0, 0, 0, 0x02 }
};
static const char *const local4[] = { "198.18.0.1", "198.18.100.1" };
static const char *const local6[] = { "2001:db8::1", "2001:db8:100::1" };
static const uint16_t local_vlan[] = { 0, VID };

/*
 * Requests.
 */

struct req {
	bool v6;
	int vlan;		/* VID of an 802.1Q tag in the frame, or -1 */
	unsigned int dst;	/* index of the port address it goes to */
	unsigned int client;	/* low 16 bits of the source address */
	unsigned int mode;
	unsigned int version;
	uint16_t src_port;
	uint16_t dst_port;
	/* NTP timestamps, host order: origin and receive (0 in a basic
	 * request), transmit (0: the next of a sequence). */
	uint64_t org;
	uint64_t rcv;
	uint64_t xmt;
};

/* A request as sent, kept to compare its reply with. */
struct sent {
	struct req r;
	unsigned int len;
	uint8_t b[FRAME_MAX];
};

static struct req
req_of(bool v6)
{
	struct req r = {
		.v6 = v6, .vlan = -1, .dst = 0, .client = 2,
		.mode = DPN_NTP_MODE_CLIENT, .version = 4,
		.src_port = CLIENT_PORT, .dst_port = DPN_NTP_PORT,
	};

	return r;
}

/* A server's reply to our client: mode 4, port 123 to port 123. */
static struct req
server_reply_of(bool v6)
{
	struct req r = req_of(v6);

	r.mode = DPN_NTP_MODE_SERVER;
	r.src_port = DPN_NTP_PORT;
	return r;
}

static unsigned int
l2_of(const struct req *r)
{
	return sizeof(struct rte_ether_hdr) +
		(r->vlan >= 0 ? sizeof(struct rte_vlan_hdr) : 0);
}

static unsigned int
l3_of(const struct req *r)
{
	return r->v6 ? sizeof(struct rte_ipv6_hdr) :
		sizeof(struct rte_ipv4_hdr);
}

static struct rte_udp_hdr *
udp_in(uint8_t *frame, const struct req *r)
{
	return (struct rte_udp_hdr *)(frame + l2_of(r) + l3_of(r));
}

/* The frame of @p r with valid checksums, in @p s->b. */
static void
build(struct sent *s, const struct req *r)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)s->b;
	void *l3 = s->b + l2_of(r);
	struct rte_udp_hdr *udp = udp_in(s->b, r);
	struct dpn_ntp_hdr *ntp = (struct dpn_ntp_hdr *)(udp + 1);
	uint16_t type = r->v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4;

	memset(s, 0, sizeof(*s));
	s->r = *r;
	s->len = l2_of(r) + l3_of(r) + sizeof(*udp) + DPN_NTP_HDR_LEN;
	eth->dst_addr = port.mac;
	eth->src_addr = client_mac;
	if (r->vlan >= 0) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eth + 1);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(0x2000 | r->vlan);
		vh->eth_proto = rte_cpu_to_be_16(type);
	} else {
		eth->ether_type = rte_cpu_to_be_16(type);
	}
	if (r->v6) {
		struct rte_ipv6_hdr *ip = l3;

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(sizeof(*udp) +
						   DPN_NTP_HDR_LEN);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 57;
		inet_pton(AF_INET6, "2001:db8:1::", ip->src_addr);
		ip->src_addr[14] = (uint8_t)(r->client >> 8);
		ip->src_addr[15] = (uint8_t)r->client;
		memcpy(ip->dst_addr, port.addrs.v6[r->dst], 16);
	} else {
		struct rte_ipv4_hdr *ip = l3;

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) +
			sizeof(*udp) + DPN_NTP_HDR_LEN);
		ip->packet_id = rte_cpu_to_be_16(0x1234);
		ip->time_to_live = 57;
		ip->next_proto_id = IPPROTO_UDP;
		/* 198.19.0.0/16 */
		ip->src_addr = rte_cpu_to_be_32(0xc6130000u |
						(r->client & 0xffff));
		ip->dst_addr = port.addrs.v4[r->dst];
	}
	udp->src_port = rte_cpu_to_be_16(r->src_port);
	udp->dst_port = rte_cpu_to_be_16(r->dst_port);
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + DPN_NTP_HDR_LEN);
	ntp->li_vn_mode = dpn_ntp_li_vn_mode(0, r->version, r->mode);
	ntp->poll = 6;
	ntp->precision = -20;
	/* The lowest bit clear, origin zero: a basic (not interleaved)
	 * client, as RFC 9769 and chrony tell them apart. */
	xmt_seq += 2;
	ntp->xmt_ts = rte_cpu_to_be_64(r->xmt != 0 ? r->xmt :
				       XMT_BASE + xmt_seq);
	ntp->orig_ts = rte_cpu_to_be_64(r->org);
	ntp->recv_ts = rte_cpu_to_be_64(r->rcv);
	if (r->v6) {
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(l3, udp);
	} else {
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(l3, udp);
		((struct rte_ipv4_hdr *)l3)->hdr_checksum = rte_ipv4_cksum(l3);
	}
}

/* An mbuf holding @p s's frame, as the NIC hands it over with @p ol_flags. */
static struct rte_mbuf *
mbuf_of(const struct sent *s, uint64_t ol_flags)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(port.pool);
	char *d;

	assert_non_null(m);
	d = rte_pktmbuf_append(m, s->len);
	assert_non_null(d);
	memcpy(d, s->b, s->len);
	m->ol_flags = ol_flags;
	return m;
}

/* An mbuf holding @p r's frame, as the NIC hands it over with @p ol_flags. */
static struct rte_mbuf *
make(struct sent *s, const struct req *r, uint64_t ol_flags)
{
	build(s, r);
	return mbuf_of(s, ol_flags);
}

/* @p s's frame with an NTP payload of @p ntp_len bytes: lengths and
 * checksums redone. */
static void
set_ntp_len(struct sent *s, unsigned int ntp_len)
{
	const struct req *r = &s->r;
	void *l3 = s->b + l2_of(r);
	struct rte_udp_hdr *udp = udp_in(s->b, r);

	s->len = l2_of(r) + l3_of(r) + sizeof(*udp) + ntp_len;
	assert_true(s->len <= FRAME_MAX);
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + ntp_len);
	udp->dgram_cksum = 0;
	if (r->v6) {
		struct rte_ipv6_hdr *ip = l3;

		ip->payload_len = udp->dgram_len;
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	} else {
		struct rte_ipv4_hdr *ip = l3;

		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*udp) +
						    ntp_len);
		ip->hdr_checksum = 0;
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
}

/* @p s's frame after @p add more NTP bytes were written past its
 * header. */
static void
grow(struct sent *s, unsigned int add)
{
	set_ntp_len(s, DPN_NTP_HDR_LEN + add);
}

/* The NTP payload of @p s's frame. */
static uint8_t *
sent_ntp(struct sent *s)
{
	return (uint8_t *)(udp_in(s->b, &s->r) + 1);
}

/*
 * @p r's frame signed as a client signs it (lib/ntpauth's one-off path)
 * with @p k, its key ID then replaced by @p id (an ID the server does not
 * trust, with a MAC that would be right); lengths and checksums redone.
 */
static struct rte_mbuf *
make_mac(struct sent *s, const struct req *r, const struct dpn_ntpauth_key *k,
	 uint32_t id)
{
	uint8_t *ntp;
	unsigned int add;

	build(s, r);
	ntp = sent_ntp(s);
	add = dpn_ntpauth_sign(k, ntp, DPN_NTP_HDR_LEN);
	assert_int_not_equal(add, 0);
	id = rte_cpu_to_be_32(id);
	memcpy(ntp + DPN_NTP_HDR_LEN, &id, 4);
	grow(s, add);
	return mbuf_of(s, 0);
}

/* The NIC stamped @p m: the flag, and a stamp the nic model knows. */
static void
nic_stamp(struct rte_mbuf *m)
{
	*RTE_MBUF_DYNFIELD(m, ts_off, uint64_t *) = NIC_STAMP;
	m->ol_flags |= ts_flag;
}

/* The NIC took @p m's 802.1Q tag off. */
static void
vlan_strip(struct rte_mbuf *m, uint16_t tci)
{
	m->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = tci;
}

static void
corrupt_ip_cksum(struct rte_mbuf *m, const struct req *r)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m,
		struct rte_ipv4_hdr *, l2_of(r));

	ip->hdr_checksum ^= rte_cpu_to_be_16(0x0101);
}

static void
corrupt_udp_cksum(struct rte_mbuf *m, const struct req *r)
{
	udp_in(rte_pktmbuf_mtod(m, uint8_t *), r)->dgram_cksum ^=
		rte_cpu_to_be_16(0x0101);
}

/*
 * Running the worker.
 */

static void
hold(struct rte_mbuf **m, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		held[nb_held++] = m[i];
}

/* The served clock now, as the worker reads it. */
static uint64_t
now_ts(void)
{
	return dpn_ntp_ts_from_unix_ns(dpn_clock_model_ns(&snap.tsc,
							  rte_rdtsc()));
}

/* What one burst gave: the replies of each kind, and the span in which
 * dpn_worker_tx_done() took the transmit time it saved. */
struct outcome {
	struct dpn_burst_result res;
	uint64_t tx_lo;
	uint64_t tx_hi;
};

/*
 * One burst through the worker as its loop runs it, tx_burst having
 * taken @p sent of the packets (-1: all); @return the number of packets
 * to send (at the front of @p pkts). Every packet must come back to be
 * sent, sit on the slow-path ring, or be back in the pool: nothing
 * leaks.
 */
static uint16_t
run_burst(struct rte_mbuf **pkts, uint16_t nb, int sent, struct outcome *o)
{
	struct dpn_rxq *q = &worker->rxq[0];
	unsigned int in_use;
	uint16_t nb_out;

	memset(o, 0, sizeof(*o));
	nb_out = dpn_worker_handle_burst(worker, q, pkts, nb, rx_tsc, &snap,
					 &o->res);
	hold(pkts, RTE_MIN(nb_out, nb));
	CHECK(nb_out <= nb &&
	      nb_out == o->res.nb_basic + o->res.nb_xleave +
	      o->res.nb_signed + o->res.nb_kod,
	      "%u packets to send from %u: %u basic, %u interleaved, "
	      "%u signed, %u KoDs", nb_out, nb, o->res.nb_basic,
	      o->res.nb_xleave, o->res.nb_signed, o->res.nb_kod);
	dpn_worker_stamp_tx(worker, q, pkts, &o->res, &snap);
	o->tx_lo = now_ts();
	dpn_worker_tx_done(worker, &worker->rxq[0], sent < 0 ? nb_out : (uint16_t)sent,
			   &snap);
	o->tx_hi = now_ts();
	in_use = pool_free - rte_mempool_avail_count(port.pool);
	CHECK(in_use == nb_held + rte_ring_count(q->to_mgmt),
	      "%u mbufs out of the pool, %u returned, %u on the slow path",
	      in_use, nb_held, rte_ring_count(q->to_mgmt));
	return nb_out;
}

/* A burst of basic clients, no rate limit: @return the replies. */
static uint16_t
burst(struct rte_mbuf **pkts, uint16_t nb)
{
	struct outcome o;

	run_burst(pkts, nb, -1, &o);
	CHECK(o.res.nb_xleave == 0 && o.res.nb_kod == 0 &&
	      o.res.nb_signed == 0,
	      "%u interleaved replies, %u signed and %u KoDs",
	      o.res.nb_xleave, o.res.nb_signed, o.res.nb_kod);
	return o.res.nb_basic;
}

static unsigned int
take_slow(struct rte_mbuf **out, unsigned int max)
{
	unsigned int n = rte_ring_sc_dequeue_burst(worker->rxq[0].to_mgmt,
						   (void **)out, max, NULL);

	hold(out, n);
	return n;
}

static void
expect_stat(enum dpn_stats_id id, uint64_t want)
{
	uint64_t got = worker->stats.c[id];

	CHECK(got == want, "counter %s is %" PRIu64 ", want %" PRIu64,
	      dpn_stats_name(id), got, want);
}

static void
check_t2(uint64_t got, int64_t want_ns, const char *from)
{
	uint64_t want = dpn_ntp_ts_from_unix_ns(want_ns);
	int64_t d = (int64_t)(got - want);

	CHECK(d >= -T2_SLACK && d <= T2_SLACK,
	      "receive timestamp (T2) %#" PRIx64 " is %+.9f s from %s (%#"
	      PRIx64 ")", got, (double)d / 4294967296.0, from, want);
}

/* The NTP header of @p m, a reply, or of @p s, a request. */
static const struct dpn_ntp_hdr *
ntp_of(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, const struct dpn_ntp_hdr *,
		m->l2_len + m->l3_len + sizeof(struct rte_udp_hdr));
}

static const struct dpn_ntp_hdr *
req_ntp(const struct sent *s)
{
	return (const void *)(s->b + l2_of(&s->r) + l3_of(&s->r) +
			      sizeof(struct rte_udp_hdr));
}

/*
 * The frame in @p m that answers the request @p s, byte by byte up to
 * the NTP header: addresses, lengths, checksums; @p tx_flags the
 * offloads it must ask of the NIC.
 */
static void
check_frame(const struct rte_mbuf *m, const struct sent *s,
	    uint64_t tx_flags)
{
	const struct req *r = &s->r;
	unsigned int l2 = l2_of(r), l3 = l3_of(r);
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const void *)b;
	const struct rte_ether_hdr *qeth = (const void *)s->b;
	const struct rte_udp_hdr *udp = (const void *)(b + l2 + l3);
	const struct rte_udp_hdr *qudp = (const void *)(s->b + l2 + l3);

	CHECK_EQ(m->pkt_len, l2 + l3 + 8 + reply_ntp_len, "reply pkt_len");
	CHECK_EQ(m->data_len, m->pkt_len, "reply data_len");
	CHECK_EQ(m->l2_len, l2, "reply l2_len");
	CHECK_EQ(m->l3_len, l3, "reply l3_len");
	CHECK_EQ(m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, tx_flags,
		 "reply TX offload flags");

	CHECK(rte_is_same_ether_addr(&eth->dst_addr, &qeth->src_addr),
	      "reply not to the request's source MAC");
	CHECK(rte_is_same_ether_addr(&eth->src_addr, &port.mac),
	      "reply not from the port's MAC");
	/* The EtherType, and the whole 802.1Q tag when there is one. */
	CHECK(memcmp(b + 12, s->b + 12, l2 - 12) == 0,
	      "reply's EtherType or VLAN tag differs from the request's");

	if (r->v6) {
		const struct rte_ipv6_hdr *ip = (const void *)(b + l2);
		const struct rte_ipv6_hdr *qip = (const void *)(s->b + l2);

		CHECK_EQ(rte_be_to_cpu_32(ip->vtc_flow) >> 28, 6,
			 "IPv6 version");
		CHECK_EQ(rte_be_to_cpu_16(ip->payload_len), 8 + reply_ntp_len,
			 "IPv6 payload_len");
		CHECK_EQ(ip->proto, IPPROTO_UDP, "IPv6 next header");
		CHECK_EQ(ip->hop_limits, 64, "IPv6 hop limit");
		CHECK(memcmp(ip->src_addr, qip->dst_addr, 16) == 0 &&
		      memcmp(ip->dst_addr, qip->src_addr, 16) == 0,
		      "IPv6 addresses not swapped");
		CHECK(udp->dgram_cksum != 0 &&
		      rte_ipv6_udptcp_cksum_verify(ip, udp) == 0,
		      "UDP checksum %#x wrong (IPv6)",
		      rte_be_to_cpu_16(udp->dgram_cksum));
	} else {
		const struct rte_ipv4_hdr *ip = (const void *)(b + l2);
		const struct rte_ipv4_hdr *qip = (const void *)(s->b + l2);

		CHECK_EQ(ip->version_ihl, RTE_IPV4_VHL_DEF, "IPv4 version_ihl");
		CHECK_EQ(rte_be_to_cpu_16(ip->total_length),
			 28 + reply_ntp_len, "IPv4 total_length");
		CHECK_EQ(ip->next_proto_id, IPPROTO_UDP, "IPv4 protocol");
		CHECK_EQ(ip->time_to_live, 64, "IPv4 TTL");
		CHECK_EQ(ip->src_addr, qip->dst_addr, "IPv4 source");
		CHECK_EQ(ip->dst_addr, qip->src_addr, "IPv4 destination");
		CHECK(rte_raw_cksum(ip, sizeof(*ip)) == 0xffff,
		      "IPv4 header checksum %#x wrong",
		      rte_be_to_cpu_16(ip->hdr_checksum));
		CHECK(udp->dgram_cksum != 0 &&
		      rte_ipv4_udptcp_cksum_verify(ip, udp) == 0,
		      "UDP checksum %#x wrong (IPv4)",
		      rte_be_to_cpu_16(udp->dgram_cksum));
	}
	CHECK_EQ(udp->src_port, qudp->dst_port, "UDP source port");
	CHECK_EQ(udp->dst_port, qudp->src_port, "UDP destination port");
	CHECK_EQ(rte_be_to_cpu_16(udp->dgram_len), 8 + reply_ntp_len,
		 "UDP length");
}

/* The NTP fields of a reply that come from the request and the
 * server's state, not from the time. */
static void
check_ntp_fixed(const struct dpn_ntp_hdr *ntp, const struct sent *s)
{
	const struct dpn_ntp_hdr *qntp = req_ntp(s);
	const struct dpn_ntp_sysinfo *si = &snap.sysinfo;

	CHECK_EQ(dpn_ntp_mode_of(ntp), DPN_NTP_MODE_SERVER, "NTP mode");
	CHECK_EQ(dpn_ntp_version_of(ntp), s->r.version, "NTP version");
	CHECK_EQ(dpn_ntp_leap_of(ntp), si->leap, "NTP leap");
	CHECK_EQ(ntp->stratum, si->stratum, "NTP stratum");
	CHECK_EQ(ntp->poll, qntp->poll, "NTP poll");
	CHECK_EQ(ntp->precision, si->precision, "NTP precision");
	CHECK_EQ(ntp->root_delay, si->root_delay, "NTP root delay");
	CHECK_EQ(ntp->root_disp, si->root_disp, "NTP root dispersion");
	CHECK_EQ(ntp->refid, si->refid, "NTP refid");
	CHECK_EQ(ntp->ref_ts, si->ref_ts, "NTP reference timestamp");
}

/*
 * The basic reply in @p m to the request @p s, byte by byte. @p t2_ns
 * is the receive time it must carry (@p from names where it comes
 * from); @p tx_flags the offloads it must ask of the NIC.
 */
static void
check_reply(const struct rte_mbuf *m, const struct sent *s, int64_t t2_ns,
	    const char *from, uint64_t tx_flags)
{
	const struct dpn_ntp_hdr *ntp = ntp_of(m);
	const struct dpn_ntp_hdr *qntp = req_ntp(s);
	uint64_t t2, t3, now;
	reply_ntp_len = DPN_NTP_HDR_LEN;

	check_frame(m, s, tx_flags);
	check_ntp_fixed(ntp, s);
	CHECK_EQ(ntp->orig_ts, qntp->xmt_ts,
		 "NTP origin (the request's transmit timestamp)");
	t2 = rte_be_to_cpu_64(ntp->recv_ts);
	check_t2(t2, t2_ns, from);
	t3 = rte_be_to_cpu_64(ntp->xmt_ts);
	now = dpn_ntp_ts_from_unix_ns(dpn_clock_model_ns(&snap.tsc,
							  rte_rdtsc()));
	CHECK(t3 >= t2 && t3 <= now,
	      "transmit timestamp (T3) %#" PRIx64 " not between T2 %#" PRIx64
	      " and now %#" PRIx64, t3, t2, now);
	/* Tagged for interleaved mode (RFC 9769), on or off: a client
	 * echoing T3 as its origin is told from one naming T2. */
	CHECK(t2 & 1, "T2 %#" PRIx64 ": lowest bit clear", t2);
	CHECK(!(t3 & 1), "T3 %#" PRIx64 ": lowest bit set", t3);
}

/*
 * The interleaved reply in @p m to the request @p s: complete (its
 * checksums done by the worker), its origin the request's receive
 * field, its receive timestamp this request's T2 (past @p t2_before,
 * the last one given), and its transmit timestamp the one saved for
 * the reply the request names, taken within @p prev's tx_done().
 */
static void
check_xleave_reply(const struct rte_mbuf *m, const struct sent *s,
		   uint64_t t2_before, const struct outcome *prev)
{
	const struct dpn_ntp_hdr *ntp = ntp_of(m);
	uint64_t t2 = rte_be_to_cpu_64(ntp->recv_ts);
	uint64_t tx = rte_be_to_cpu_64(ntp->xmt_ts);
	reply_ntp_len = DPN_NTP_HDR_LEN;

	check_frame(m, s, s->r.v6 ? TX6 : TX4);
	check_ntp_fixed(ntp, s);
	CHECK_EQ(ntp->orig_ts, req_ntp(s)->recv_ts,
		 "interleaved origin (the request's receive timestamp)");
	check_t2(t2, t_tsc_ns, "the burst's TSC");
	CHECK((t2 & 1) && t2 > t2_before,
	      "T2 %#" PRIx64 " not tagged, or not past %#" PRIx64, t2,
	      t2_before);
	CHECK(!(tx & 1) && tx >= (prev->tx_lo & ~1ULL) && tx <= prev->tx_hi,
	      "interleaved transmit timestamp %#" PRIx64 " not the one "
	      "saved at tx_done (between %#" PRIx64 " and %#" PRIx64 ")",
	      tx, prev->tx_lo, prev->tx_hi);
}

/* A KoD RATE in @p m for the request @p s: complete, no time in it. */
static void
check_kod(const struct rte_mbuf *m, const struct sent *s)
{
	const struct dpn_ntp_hdr *ntp = ntp_of(m);
	const struct dpn_ntp_hdr *qntp = req_ntp(s);
	reply_ntp_len = DPN_NTP_HDR_LEN;

	check_frame(m, s, s->r.v6 ? TX6 : TX4);
	CHECK_EQ(dpn_ntp_mode_of(ntp), DPN_NTP_MODE_SERVER, "KoD mode");
	CHECK_EQ(dpn_ntp_leap_of(ntp), DPN_NTP_LEAP_ALARM, "KoD leap");
	CHECK_EQ(ntp->stratum, 0, "KoD stratum");
	CHECK_EQ(ntp->refid, rte_cpu_to_be_32(dpn_ntp_refid_from_str("RATE")),
		 "KoD code");
	CHECK(ntp->orig_ts == qntp->xmt_ts && ntp->recv_ts == qntp->xmt_ts &&
	      ntp->xmt_ts == qntp->xmt_ts,
	      "KoD timestamps not the request's transmit timestamp");
}

/* The reply carries the burst's TSC, or the NIC's stamp, as T2. */
static void
reply_tsc(const struct rte_mbuf *m, const struct sent *s, uint64_t tx_flags)
{
	check_reply(m, s, t_tsc_ns, "the burst's TSC", tx_flags);
}

static void
reply_nic(const struct rte_mbuf *m, const struct sent *s, uint64_t tx_flags)
{
	check_reply(m, s, t_nic_ns, "the NIC's stamp", tx_flags);
}

/*
 * A server's reply the worker passed to the slow path: untouched, with
 * what the client side needs for T4 (the burst's TSC, and the NIC's
 * stamp where there was one) and where its headers are.
 */
static void
check_slow(const struct rte_mbuf *m, const struct sent *s, bool stamped)
{
	CHECK_EQ(m->pkt_len, s->len, "slow-path packet length");
	CHECK(memcmp(rte_pktmbuf_mtod(m, const void *), s->b, s->len) == 0,
	      "slow-path packet modified");
	CHECK_EQ(*RTE_MBUF_DYNFIELD(m, worker->rx_tsc_dynfield_offset,
				    const uint64_t *), rx_tsc,
		 "slow-path rx_tsc dynfield (the burst's TSC)");
	CHECK_EQ(m->l2_len, l2_of(&s->r), "slow-path l2_len");
	CHECK_EQ(m->l3_len, l3_of(&s->r), "slow-path l3_len");
	if (!stamped)
		return;
	CHECK(m->ol_flags & ts_flag,
	      "slow-path packet lost the RX timestamp flag (ol_flags %#"
	      PRIx64 ")", m->ol_flags);
	CHECK_EQ(*RTE_MBUF_DYNFIELD(m, ts_off, const uint64_t *), NIC_STAMP,
		 "slow-path NIC timestamp");
}

/*
 * Replies.
 */

static void
test_ipv4_reply(void **state)
{
	struct req r = req_of(false);
	struct rte_mbuf *m[1];
	struct sent s;

	(void)state;
	m[0] = make(&s, &r, 0);
	CHECK_EQ(burst(m, 1), 1, "replies");
	reply_tsc(m[0], &s, TX4);
	expect_stat(DPN_STAT_RX_PACKETS, 1);
	expect_stat(DPN_STAT_NTP_REQUESTS_CLIENT_V4, 1);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 1);
}

static void
test_ipv6_reply(void **state)
{
	struct req r = req_of(true);
	struct rte_mbuf *m[1];
	struct sent s;

	(void)state;
	r.version = 3;	/* echoed */
	m[0] = make(&s, &r, 0);
	CHECK_EQ(burst(m, 1), 1, "replies");
	reply_tsc(m[0], &s, TX6);
	expect_stat(DPN_STAT_RX_PACKETS, 1);
	expect_stat(DPN_STAT_NTP_REQUESTS_CLIENT_V3, 1);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 1);
}

/* Replies first, in order; every packet counted; each fate its counter. */
static void
test_mixed_burst(void **state)
{
	struct req r[5] = {
		req_of(false), req_of(false), req_of(true),
		server_reply_of(false), req_of(false),
	};
	struct rte_mbuf *m[5], *orig[5], *slow[2];
	struct sent s[5];
	unsigned int i;

	(void)state;
	r[1].dst_port = DPN_NTP_PORT + 1;	/* not NTP */
	r[4].dst = 1;			/* its address is on VLAN VID */
	for (i = 0; i < 5; i++)
		orig[i] = m[i] = make(&s[i], &r[i], 0);
	CHECK_EQ(burst(m, 5), 2, "replies");
	CHECK(m[0] == orig[0] && m[1] == orig[2],
	      "replies not at the front in arrival order");
	reply_tsc(m[0], &s[0], TX4);
	reply_tsc(m[1], &s[2], TX6);
	CHECK_EQ(take_slow(slow, 2), 1, "packets on the slow path");
	CHECK(slow[0] == orig[3], "the server's reply is not the slow one");
	check_slow(slow[0], &s[3], false);
	expect_stat(DPN_STAT_RX_PACKETS, 5);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 2);
	expect_stat(DPN_STAT_DROP_UDP_PORT, 1);
	expect_stat(DPN_STAT_DROP_NOT_LOCAL, 1);
	expect_stat(DPN_STAT_SLOW_QUEUED, 1);
}

/*
 * T2: the NIC's stamp where there is one and a model for it.
 */

static void
nic_stamp_reply(bool v6)
{
	struct req r = req_of(v6);
	struct rte_mbuf *m[1];
	struct sent s;

	m[0] = make(&s, &r, 0);
	nic_stamp(m[0]);
	CHECK_EQ(burst(m, 1), 1, "replies");
	reply_nic(m[0], &s, v6 ? TX6 : TX4);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 1);
}

static void
test_nic_stamp_ipv4(void **state)
{
	(void)state;
	nic_stamp_reply(false);
}

static void
test_nic_stamp_ipv6(void **state)
{
	(void)state;
	nic_stamp_reply(true);
}

/* A stamp in the field but no flag: the NIC did not stamp this one. */
static void
test_nic_stamp_flag_clear(void **state)
{
	struct req r[2] = { req_of(false), req_of(true) };
	struct rte_mbuf *m[2];
	struct sent s[2];
	unsigned int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		m[i] = make(&s[i], &r[i], 0);
		*RTE_MBUF_DYNFIELD(m[i], ts_off, uint64_t *) = NIC_STAMP;
	}
	CHECK_EQ(burst(m, 2), 2, "replies");
	reply_tsc(m[0], &s[0], TX4);
	reply_tsc(m[1], &s[1], TX6);
}

/* Stamped, but this port's clock has no model yet (another port's has). */
static void
test_nic_stamp_no_model(void **state)
{
	struct req r[2] = { req_of(false), req_of(true) };
	struct rte_mbuf *m[2];
	struct sent s[2];
	unsigned int i;

	(void)state;
	snap.nic[1] = snap.nic[0];
	memset(&snap.nic[0], 0, sizeof(snap.nic[0]));
	for (i = 0; i < 2; i++) {
		m[i] = make(&s[i], &r[i], 0);
		nic_stamp(m[i]);
	}
	CHECK_EQ(burst(m, 2), 2, "replies");
	reply_tsc(m[0], &s[0], TX4);
	reply_tsc(m[1], &s[1], TX6);
}

/* With restrict rules the requests wait for their verdict: same T2. */
static void
test_nic_stamp_restrict(void **state)
{
	struct req r[3] = { req_of(false), req_of(false), req_of(true) };
	struct rte_mbuf *m[3], *orig[3];
	struct sent s[3];
	unsigned int i;

	(void)state;
	worker->acl = &acl_rules;
	r[1].client = CLIENT_IGNORED;
	for (i = 0; i < 3; i++) {
		orig[i] = m[i] = make(&s[i], &r[i], 0);
		nic_stamp(m[i]);
	}
	CHECK_EQ(burst(m, 3), 2, "replies");
	CHECK(m[0] == orig[0] && m[1] == orig[2],
	      "replies not at the front in arrival order");
	expect_stat(DPN_STAT_ACL_IGNORE, 1);
	reply_nic(m[0], &s[0], TX4);
	reply_nic(m[1], &s[2], TX6);
}

/*
 * VLANs: each address is on one VLAN.
 */

static void
test_vlan_stripped(void **state)
{
	struct req r[5] = {
		req_of(false), req_of(true), req_of(false), req_of(false),
		req_of(false),
	};
	uint16_t tci[5] = { TCI, TCI, 0x2000 | VID_OTHER, TCI, 0 };
	struct rte_mbuf *m[5], *orig[5];
	struct sent s[5];
	unsigned int i;

	(void)state;
	r[0].dst = r[1].dst = r[2].dst = 1;	/* on VLAN VID */
	r[3].dst = 0;				/* untagged */
	r[4].dst = 1;				/* arrives untagged */
	for (i = 0; i < 5; i++) {
		orig[i] = m[i] = make(&s[i], &r[i], 0);
		if (tci[i] != 0)
			vlan_strip(m[i], tci[i]);
	}
	CHECK_EQ(burst(m, 5), 2, "replies");
	CHECK(m[0] == orig[0] && m[1] == orig[1],
	      "replies not at the front in arrival order");
	reply_tsc(m[0], &s[0], TX4 | RTE_MBUF_F_TX_VLAN);
	reply_tsc(m[1], &s[1], TX6 | RTE_MBUF_F_TX_VLAN);
	for (i = 0; i < 2; i++)
		CHECK_EQ(m[i]->vlan_tci, TCI, "reply vlan_tci");
	expect_stat(DPN_STAT_DROP_NOT_LOCAL, 3);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 2);
}

static void
test_vlan_inband(void **state)
{
	struct req r[4] = {
		req_of(false), req_of(true), req_of(false), req_of(true),
	};
	struct rte_mbuf *m[4];
	struct sent s[4];
	unsigned int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		r[i].dst = 1;
		r[i].vlan = i < 2 ? VID : VID_OTHER;
		m[i] = make(&s[i], &r[i], 0);
	}
	CHECK_EQ(burst(m, 4), 2, "replies");
	reply_tsc(m[0], &s[0], TX4);
	reply_tsc(m[1], &s[1], TX6);
	expect_stat(DPN_STAT_DROP_NOT_LOCAL, 2);
}

/*
 * A PMD that strips tags on receive but cannot insert them on transmit
 * (tx_vlan_sw): replies carry the request's whole 802.1Q tag in the
 * frame, and ask no VLAN offload of the NIC.
 */

/* @p s's frame (tagged) as the NIC hands it over with its tag stripped. */
static struct rte_mbuf *
stripped_of(const struct sent *s)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(port.pool);
	uint8_t *d;

	assert_non_null(m);
	assert_true(s->r.vlan >= 0);
	d = (uint8_t *)rte_pktmbuf_append(m, s->len - 4);
	assert_non_null(d);
	memcpy(d, s->b, 12);
	memcpy(d + 12, s->b + 16, s->len - 16);
	vlan_strip(m, TCI);
	return m;
}

static void
test_vlan_sw_insert(void **state)
{
	struct req r[4] = {
		req_of(false), req_of(true), req_of(false), req_of(false),
	};
	struct rte_mbuf *m[4];
	struct sent s[4];
	struct outcome o;
	unsigned int i;

	(void)state;
	port.tx_vlan_sw = true;
	worker->acl = &acl_limited;
	for (i = 0; i < 4; i++) {
		r[i].dst = 1;
		r[i].vlan = VID;
		/* The second request of a limited client: a KoD. */
		r[i].client = i < 2 ? 2 : CLIENT_LIMITED;
		build(&s[i], &r[i]);
	}
	m[0] = stripped_of(&s[0]);
	m[1] = stripped_of(&s[1]);
	CHECK_EQ(run_burst(m, 2, -1, &o), 2, "replies");
	reply_tsc(m[0], &s[0], TX4);
	reply_tsc(m[1], &s[1], TX6);
	m[2] = stripped_of(&s[2]);
	CHECK_EQ(run_burst(m + 2, 1, -1, &o), 1, "replies");
	reply_tsc(m[2], &s[2], TX4);
	m[3] = stripped_of(&s[3]);
	CHECK_EQ(run_burst(m + 3, 1, -1, &o), 1, "KoDs");
	CHECK_EQ(o.res.nb_kod, 1, "KoDs");
	/* r[3] is r[2]'s client again, two seconds too soon. */
	check_kod(m[3], &s[3]);
	for (i = 0; i < 4; i++)
		CHECK_EQ(rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(m[i],
			const struct rte_vlan_hdr *, 14)->vlan_tci) & 0xfff,
			 VID, "the reply's VLAN ID");
}

static unsigned int slow_poll(bool hooks);
static void expect_mgmt_stat(enum dpn_stats_id id, uint64_t want);

/* An ARP request from 198.18.100.2 (client_mac) for @p tip, in @p sa. */
static struct rte_mbuf *
make_arp(struct sent *sa, uint32_t tip)
{
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	memset(sa, 0, sizeof(*sa));
	sa->len = sizeof(*eth) + sizeof(*arp);
	eth = (struct rte_ether_hdr *)sa->b;
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	eth->src_addr = client_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = client_mac;
	arp->arp_data.arp_sip = rte_cpu_to_be_32(0xc6126402);
	arp->arp_data.arp_tip = tip;
	return mbuf_of(sa, 0);
}

/* The slow path's answers too: an ARP request on VLAN VID, stripped. */
static void
test_vlan_sw_insert_slow(void **state)
{
	struct rte_mbuf *m[1], *ans = NULL;
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	const struct rte_vlan_hdr *vh;
	struct sent sa;
	uint32_t sip = rte_cpu_to_be_32(0xc6126402);	/* 198.18.100.2 */

	(void)state;
	port.tx_vlan_sw = true;
	m[0] = make_arp(&sa, port.addrs.v4[1]);
	vlan_strip(m[0], TCI);
	CHECK_EQ(burst(m, 1), 0, "replies");
	CHECK_EQ(slow_poll(false), 1, "packets the slow path took");
	expect_mgmt_stat(DPN_STAT_ARP_REPLIES, 1);
	CHECK_EQ(rte_ring_sc_dequeue(worker->rxq[0].from_mgmt, (void **)&ans),
		 0, "answers for the worker to send");
	assert_non_null(ans);
	hold(&ans, 1);
	eth = rte_pktmbuf_mtod(ans, struct rte_ether_hdr *);
	vh = (const struct rte_vlan_hdr *)(eth + 1);
	CHECK_EQ(ans->data_len, sizeof(*eth) + sizeof(*vh) + sizeof(*arp),
		 "ARP reply length");
	CHECK_EQ(eth->ether_type, rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN),
		 "ARP reply's EtherType (802.1Q)");
	CHECK_EQ(rte_be_to_cpu_16(vh->vlan_tci), TCI, "ARP reply's tag");
	CHECK_EQ(vh->eth_proto, rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP),
		 "ARP reply's inner EtherType");
	CHECK(rte_is_same_ether_addr(&eth->dst_addr, &client_mac) &&
	      rte_is_same_ether_addr(&eth->src_addr, &port.mac),
	      "ARP reply's MAC addresses");
	arp = (struct rte_arp_hdr *)(vh + 1);
	CHECK_EQ(arp->arp_opcode, rte_cpu_to_be_16(RTE_ARP_OP_REPLY),
		 "ARP opcode");
	CHECK_EQ(arp->arp_data.arp_tip, sip, "ARP reply's target");
	CHECK_EQ(ans->ol_flags & RTE_MBUF_F_TX_VLAN, 0,
		 "ARP reply asks the NIC for a tag");
}

/*
 * An answer the slow path built but could not hand back (the ring to
 * the worker full) is lost: counted as such, not as a packet that needed
 * no answer.
 */
static uint8_t ring_filler;	/* what fills from_mgmt: no mbuf */

static void
test_slow_answer_ring_full(void **state)
{
	struct rte_ring *down = worker->rxq[0].from_mgmt;
	struct rte_mbuf *m[1];
	struct sent sa;
	unsigned int nb_fill = 0;

	(void)state;
	/* More places than the pool has mbufs: fill with a stand-in. */
	while (rte_ring_free_count(down) != 0) {
		assert_int_equal(rte_ring_sp_enqueue(down, &ring_filler), 0);
		nb_fill++;
	}
	m[0] = make_arp(&sa, port.addrs.v4[0]);
	CHECK_EQ(burst(m, 1), 0, "replies");
	CHECK_EQ(slow_poll(false), 1, "packets the slow path took");
	expect_mgmt_stat(DPN_STAT_ARP_REPLIES, 1);
	expect_mgmt_stat(DPN_STAT_SLOW_ANSWER_RING_FULL, 1);
	expect_mgmt_stat(DPN_STAT_SLOW_IGNORED, 0);
	CHECK_EQ(rte_ring_count(down), nb_fill, "entries on the ring");
	rte_ring_reset(down);
	/* The ARP request was freed with its lost answer. */
	CHECK_EQ(rte_mempool_avail_count(port.pool), pool_free,
		 "mbufs in the pool");
}

/*
 * The NIC's checksum flags.
 */

static void
test_cksum_bad(void **state)
{
	struct req r[3] = { req_of(false), req_of(false), req_of(true) };
	uint64_t f[3] = {
		RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_GOOD,
		RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD,
		RTE_MBUF_F_RX_L4_CKSUM_BAD,
	};
	struct rte_mbuf *m[3];
	struct sent s[3];
	unsigned int i;

	(void)state;
	/* The checksums in the frames are right: the flags decide. */
	for (i = 0; i < 3; i++)
		m[i] = make(&s[i], &r[i], f[i]);
	CHECK_EQ(burst(m, 3), 0, "replies");
	expect_stat(DPN_STAT_DROP_IPV4_CHECKSUM, 1);
	expect_stat(DPN_STAT_DROP_UDP_CHECKSUM, 2);
	expect_stat(DPN_STAT_RX_PACKETS, 3);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 0);
}

/* UNKNOWN: the NIC did not look, so the worker does. */
static void
test_cksum_unknown(void **state)
{
	struct req r[6] = {
		req_of(false), req_of(false), req_of(false),
		req_of(true), req_of(true), req_of(false),
	};
	struct rte_mbuf *m[6], *orig[6];
	struct sent s[6];
	unsigned int i;

	(void)state;
	for (i = 0; i < 6; i++)
		orig[i] = m[i] = make(&s[i], &r[i],
				      RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN |
				      RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	corrupt_ip_cksum(m[1], &r[1]);
	corrupt_udp_cksum(m[2], &r[2]);
	corrupt_udp_cksum(m[4], &r[4]);
	/* IPv4 lets a sender leave the UDP checksum out (RFC 768). */
	udp_in(rte_pktmbuf_mtod(m[5], uint8_t *), &r[5])->dgram_cksum = 0;
	CHECK_EQ(burst(m, 6), 3, "replies");
	CHECK(m[0] == orig[0] && m[1] == orig[3] && m[2] == orig[5],
	      "not the requests with good checksums answered, in order");
	reply_tsc(m[0], &s[0], TX4);
	reply_tsc(m[1], &s[3], TX6);
	reply_tsc(m[2], &s[5], TX4);
	expect_stat(DPN_STAT_DROP_IPV4_CHECKSUM, 1);
	expect_stat(DPN_STAT_DROP_UDP_CHECKSUM, 2);
}

/* GOOD is trusted, each flag for its own checksum. */
static void
test_cksum_good(void **state)
{
	struct req r[3] = { req_of(false), req_of(true), req_of(false) };
	uint64_t f[3] = {
		RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD,
		RTE_MBUF_F_RX_L4_CKSUM_GOOD,
		RTE_MBUF_F_RX_IP_CKSUM_GOOD,
	};
	struct rte_mbuf *m[3], *orig[3];
	struct sent s[3];
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		orig[i] = m[i] = make(&s[i], &r[i], f[i]);
		if (!r[i].v6)
			corrupt_ip_cksum(m[i], &r[i]);
		corrupt_udp_cksum(m[i], &r[i]);
	}
	/* The third: its IPv4 header trusted, its UDP checksum looked at. */
	CHECK_EQ(burst(m, 3), 2, "replies");
	CHECK(m[0] == orig[0] && m[1] == orig[1],
	      "replies not at the front in arrival order");
	reply_tsc(m[0], &s[0], TX4);
	reply_tsc(m[1], &s[1], TX6);
	expect_stat(DPN_STAT_DROP_IPV4_CHECKSUM, 0);
	expect_stat(DPN_STAT_DROP_UDP_CHECKSUM, 1);
}

/* NONE: the bytes are wrong but the packet is intact (DPDK's meaning). */
static void
test_cksum_none(void **state)
{
	struct req r[2] = { req_of(false), req_of(true) };
	struct rte_mbuf *m[2];
	struct sent s[2];
	unsigned int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		m[i] = make(&s[i], &r[i], RTE_MBUF_F_RX_IP_CKSUM_NONE |
			    RTE_MBUF_F_RX_L4_CKSUM_NONE);
		if (!r[i].v6)
			corrupt_ip_cksum(m[i], &r[i]);
		corrupt_udp_cksum(m[i], &r[i]);
	}
	CHECK_EQ(burst(m, 2), 2, "replies");
	reply_tsc(m[0], &s[0], TX4);
	reply_tsc(m[1], &s[1], TX6);
}

/*
 * Servers' replies to our client: to the slow path, with T4.
 */

static void
server_reply_slow(bool v6)
{
	struct req r = server_reply_of(v6);
	struct rte_mbuf *m[1], *orig, *slow[2];
	struct sent s;

	orig = m[0] = make(&s, &r, 0);
	nic_stamp(m[0]);
	CHECK_EQ(burst(m, 1), 0, "replies");
	CHECK_EQ(take_slow(slow, 2), 1, "packets on the slow path");
	CHECK(slow[0] == orig, "not the server's reply on the slow path");
	expect_stat(DPN_STAT_RX_PACKETS, 1);
	expect_stat(DPN_STAT_SLOW_QUEUED, 1);
	expect_stat(DPN_STAT_DROP_NTP_MODE4, 0);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 0);
	check_slow(slow[0], &s, true);
}

static void
test_server_reply_slow_ipv4(void **state)
{
	(void)state;
	server_reply_slow(false);
}

static void
test_server_reply_slow_ipv6(void **state)
{
	(void)state;
	server_reply_slow(true);
}

/*
 * Control requests (mode 6, ntpq): restrict and the rate limit here,
 * the answer on the management lcore.
 */

/* @p s as a mode 6 request of @p ntp_len bytes (a readvar header and
 * zeros), lengths and checksums redone. */
static void
build_ctl(struct sent *s, const struct req *r, unsigned int ntp_len)
{
	uint8_t *ntp;

	build(s, r);
	ntp = sent_ntp(s);
	memset(ntp, 0, DPN_NTP_HDR_LEN);
	ntp[0] = dpn_ntp_li_vn_mode(0, 2, DPN_NTP_MODE_CONTROL);
	ntp[1] = 2;	/* readvar */
	ntp[3] = 1;	/* sequence 1 */
	set_ntp_len(s, ntp_len);
}

/*
 * ntpq's 12-byte requests and longer ones go to the slow path, not
 * answered and not counted short, from any client when there are no
 * rules and from one restrict lets query; from a noquery client they
 * are dropped (acl_noquery); a limited client's second request within
 * the discard minimum is rate-limited without a KoD (a KoD is a time
 * reply); 11 bytes are short.
 */
static void
ctl_slow(bool v6)
{
	struct req r = req_of(v6);
	struct rte_mbuf *m[3], *slow[4];
	struct sent s[3];
	struct outcome o;
	unsigned int i;

	worker->acl = &acl_none;
	build_ctl(&s[0], &r, DPN_NTP_CTL_HDR_LEN);
	build_ctl(&s[1], &r, 40);
	build_ctl(&s[2], &r, DPN_NTP_CTL_HDR_LEN - 1);
	for (i = 0; i < 3; i++)
		m[i] = mbuf_of(&s[i], 0);
	CHECK_EQ(run_burst(m, 3, -1, &o), 0, "packets to send");
	CHECK_EQ(take_slow(slow, 4), 2, "packets on the slow path");
	CHECK(slow[0]->data_len == s[0].len &&
	      memcmp(rte_pktmbuf_mtod(slow[0], void *), s[0].b,
		     s[0].len) == 0, "the request passed up changed");
	expect_stat(DPN_STAT_NTP_REQUESTS_CONTROL, 2);
	expect_stat(DPN_STAT_SLOW_QUEUED, 2);
	expect_stat(DPN_STAT_DROP_NTP_SHORT, 1);
	expect_stat(DPN_STAT_DROP_NTP_MODE6, 0);

	/* Restrict rules (IPv4 prefixes): a noquery client, a limited
	 * one twice. */
	if (v6)
		return;
	worker->acl = &acl_noquery;
	r.client = CLIENT_NOQUERY;
	build_ctl(&s[0], &r, DPN_NTP_CTL_HDR_LEN);
	r.client = CLIENT_LIMITED;
	build_ctl(&s[1], &r, DPN_NTP_CTL_HDR_LEN);
	build_ctl(&s[2], &r, DPN_NTP_CTL_HDR_LEN);
	for (i = 0; i < 3; i++)
		m[i] = mbuf_of(&s[i], 0);
	CHECK_EQ(run_burst(m, 3, -1, &o), 0, "packets to send");
	CHECK_EQ(o.res.nb_kod, 0, "KoDs");
	CHECK_EQ(take_slow(slow, 4), 1, "packets on the slow path");
	expect_stat(DPN_STAT_ACL_NOQUERY, 1);
	expect_stat(DPN_STAT_RATE_LIMITED, 1);
	expect_stat(DPN_STAT_KOD_SENT, 0);
	expect_stat(DPN_STAT_SLOW_QUEUED, 3);
	expect_stat(DPN_STAT_NTP_REQUESTS_CONTROL, 5);
}

static void
test_ctl_slow_ipv4(void **state)
{
	(void)state;
	ctl_slow(false);
}

static void
test_ctl_slow_ipv6(void **state)
{
	(void)state;
	ctl_slow(true);
}

/*
 * Runts: frames shorter than their headers.
 */

/* The buffer of an mbuf made by runt_of(): freed with the mbuf. */
static void
runt_free(void *addr, void *opaque)
{
	RTE_SET_USED(opaque);
	free(addr);
}

static struct rte_mbuf_ext_shared_info runt_shinfo[16];

/*
 * An mbuf whose data is the first @p len bytes of @p s's frame. @p exact:
 * in a buffer of exactly @p len bytes (malloc'd: under ASan a read past
 * the data is an error); else in a pool mbuf that holds the whole frame
 * behind the data, so that a read past the data finds a valid request.
 */
static struct rte_mbuf *
runt_of(const struct sent *s, unsigned int len, unsigned int i, bool exact)
{
	struct rte_mbuf *m;
	uint8_t *buf;

	if (!exact) {
		m = mbuf_of(s, 0);
		rte_pktmbuf_trim(m, (uint16_t)(s->len - len));
		return m;
	}
	m = rte_pktmbuf_alloc(port.pool);
	buf = malloc(len == 0 ? 1 : len);
	assert_non_null(m);
	assert_non_null(buf);
	assert_true(i < RTE_DIM(runt_shinfo));
	memcpy(buf, s->b, len);
	runt_shinfo[i].free_cb = runt_free;
	runt_shinfo[i].fcb_opaque = NULL;
	rte_mbuf_ext_refcnt_set(&runt_shinfo[i], 1);
	rte_pktmbuf_attach_extbuf(m, buf, RTE_BAD_IOVA, (uint16_t)len,
				  &runt_shinfo[i]);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	return m;
}

/*
 * Frames cut short of the Ethernet header (0, 1, 12 and 13 bytes), of
 * the 802.1Q tag (14, 16 and 17 bytes of a tagged frame) and just after
 * either (14 bytes untagged, 18 tagged: an EtherType of IPv4 or IPv6 and
 * no IP header): all dropped and counted as runts (drop_l2) or bad IP
 * headers (drop_ip_header), none answered or passed up, though each one
 * is the beginning of a valid request that lies whole behind its data;
 * then each alone at the end of its buffer, so that a read past its data
 * is caught (ASan build). The same frames whole are answered.
 */
static void
test_runts(void **state)
{
	static const struct {
		bool v6;
		int vlan;
		unsigned int len;
		bool l2;	/* drop_l2, else drop_ip_header */
	} c[] = {
		{ false, -1, 0, true }, { false, -1, 1, true },
		{ false, -1, 12, true }, { false, -1, 13, true },
		{ false, -1, 14, false }, { true, -1, 14, false },
		{ false, VID, 14, true }, { false, VID, 16, true },
		{ true, VID, 17, true }, { false, VID, 18, false },
		{ true, VID, 18, false },
	};
	struct rte_mbuf *m[RTE_DIM(c)], *slow[RTE_DIM(c)];
	struct sent s[RTE_DIM(c)];
	unsigned int i, pass, nb_l2 = 0;

	(void)state;
	for (i = 0; i < RTE_DIM(c); i++) {
		struct req r = req_of(c[i].v6);

		r.vlan = c[i].vlan;
		r.dst = c[i].vlan >= 0;
		build(&s[i], &r);
		nb_l2 += c[i].l2;
	}
	for (pass = 1; pass <= 2; pass++) {
		for (i = 0; i < RTE_DIM(c); i++)
			m[i] = runt_of(&s[i], c[i].len, i, pass == 2);
		CHECK_EQ(burst(m, RTE_DIM(c)), 0, "replies to runts");
		CHECK_EQ(take_slow(slow, RTE_DIM(c)), 0,
			 "runts on the slow path");
		expect_stat(DPN_STAT_RX_PACKETS, pass * RTE_DIM(c));
		expect_stat(DPN_STAT_DROP_L2, pass * nb_l2);
		expect_stat(DPN_STAT_DROP_IP_HEADER,
			    pass * (RTE_DIM(c) - nb_l2));
		expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 0);
	}

	/* Only their length kept them from an answer. */
	for (i = 0; i < RTE_DIM(c); i++)
		m[i] = runt_of(&s[i], s[i].len, i, true);
	CHECK_EQ(burst(m, RTE_DIM(c)), RTE_DIM(c), "replies to whole frames");
}

static unsigned int ext_freed;

static void
ext_free(void *addr, void *opaque)
{
	RTE_SET_USED(opaque);
	free(addr);
	ext_freed++;
}

/*
 * Requests whose data is an external buffer, as some PMDs hand them over
 * (mlx5's Multi-Packet RQ): answered in place, and once the answers are
 * freed, so is each buffer, through its callback. (The answer's ol_flags
 * once dropped RTE_MBUF_F_EXTERNAL: the buffers were never released.)
 */
static void
test_extbuf_answers(void **state)
{
	static struct rte_mbuf_ext_shared_info shinfo[4];
	struct rte_mbuf *m[4];
	struct sent s[4];
	unsigned int i, free_before = rte_mempool_avail_count(port.pool);

	(void)state;
	ext_freed = 0;
	for (i = 0; i < 4; i++) {
		struct req r = req_of(i % 2);
		uint8_t *buf = malloc(2048);

		build(&s[i], &r);
		m[i] = rte_pktmbuf_alloc(port.pool);
		assert_non_null(m[i]);
		assert_non_null(buf);
		shinfo[i].free_cb = ext_free;
		shinfo[i].fcb_opaque = NULL;
		rte_mbuf_ext_refcnt_set(&shinfo[i], 1);
		rte_pktmbuf_attach_extbuf(m[i], buf, RTE_BAD_IOVA, 2048,
					  &shinfo[i]);
		rte_pktmbuf_reset_headroom(m[i]);
		memcpy(rte_pktmbuf_mtod(m[i], void *), s[i].b, s[i].len);
		m[i]->data_len = (uint16_t)s[i].len;
		m[i]->pkt_len = s[i].len;
	}
	CHECK_EQ(burst(m, 4), 4, "answers");
	for (i = 0; i < 4; i++) {
		CHECK(RTE_MBUF_HAS_EXTBUF(m[i]), "answer %u lost its "
		      "external buffer flag", i);
		reply_tsc(m[i], &s[i], i % 2 ? TX6 : TX4);
	}
	rte_pktmbuf_free_bulk(held, nb_held);
	nb_held = 0;
	CHECK_EQ(ext_freed, 4, "external buffers released");
	CHECK_EQ(rte_mempool_avail_count(port.pool), free_before,
		 "mbufs back in the pool");
}

/*
 * Interleaved mode (RFC 9769).
 */

/* Interleaved mode on for this test, as xleavelimit @p entries does. */
static void
xleave_on(uint32_t entries)
{
	xleave_mem = rte_zmalloc("test_xleave", dpn_xleave_memsize(entries),
				 RTE_CACHE_LINE_SIZE);
	assert_non_null(xleave_mem);
	assert_int_equal(dpn_xleave_init(&worker->xleave, xleave_mem,
					 entries), 0);
}

static uint64_t
recv_of(const struct rte_mbuf *m)
{
	return rte_be_to_cpu_64(ntp_of(m)->recv_ts);
}

/* The interleaved request that follows the reply @p m: its origin the
 * reply's T2, its receive field the client's receive time of it. */
static struct req
xleave_req(struct req r, const struct rte_mbuf *m)
{
	r.org = recv_of(m);
	r.rcv = CLIENT_RX;
	return r;
}

/* One request through its own burst, all of it sent. */
static struct rte_mbuf *
one(struct sent *s, const struct req *r, struct outcome *o)
{
	struct rte_mbuf *m[1];

	m[0] = make(s, r, 0);
	CHECK_EQ(run_burst(m, 1, -1, o), 1, "replies");
	return m[0];
}

/*
 * A basic exchange, then the client goes interleaved: the reply carries
 * the first reply's true transmit time (saved at tx_done, later than
 * its T3), and is itself saved, so the next request can name it.
 */
static void
xleave_reply(bool v6)
{
	struct req r = req_of(v6);
	struct rte_mbuf *m1, *m2, *m3;
	struct sent s1, s2, s3;
	struct outcome o1, o2, o3;
	uint64_t t3;

	xleave_on(XLEAVE_ENTRIES);
	m1 = one(&s1, &r, &o1);
	CHECK(o1.res.nb_basic == 1, "the first reply is not basic");
	reply_tsc(m1, &s1, v6 ? TX6 : TX4);
	t3 = rte_be_to_cpu_64(ntp_of(m1)->xmt_ts);

	r = xleave_req(r, m1);
	m2 = one(&s2, &r, &o2);
	CHECK(o2.res.nb_xleave == 1 && o2.res.nb_basic == 0,
	      "%u interleaved, %u basic replies", o2.res.nb_xleave,
	      o2.res.nb_basic);
	check_xleave_reply(m2, &s2, recv_of(m1), &o1);
	CHECK(rte_be_to_cpu_64(ntp_of(m2)->xmt_ts) >= t3,
	      "saved transmit time before the first reply's T3");
	expect_stat(DPN_STAT_NTP_INTERLEAVED_REPLIES, 1);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_MISSES, 0);

	r = xleave_req(r, m2);
	m3 = one(&s3, &r, &o3);
	CHECK_EQ(o3.res.nb_xleave, 1, "interleaved replies");
	check_xleave_reply(m3, &s3, recv_of(m2), &o2);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_REPLIES, 2);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 3);
	expect_stat(DPN_STAT_TX_PACKETS, 0);	/* the loop counts those */
}

static void
test_xleave_reply_ipv4(void **state)
{
	(void)state;
	xleave_reply(false);
}

static void
test_xleave_reply_ipv6(void **state)
{
	(void)state;
	xleave_reply(true);
}

/* Each saved time is sent once: a repeat gets a basic reply. */
static void
test_xleave_used_once(void **state)
{
	struct req r = req_of(false);
	struct rte_mbuf *m1, *m;
	struct sent s1, s2, s3;
	struct outcome o1, o;

	(void)state;
	xleave_on(XLEAVE_ENTRIES);
	m1 = one(&s1, &r, &o1);
	r = xleave_req(r, m1);
	m = one(&s2, &r, &o);
	CHECK_EQ(o.res.nb_xleave, 1, "interleaved replies");
	check_xleave_reply(m, &s2, recv_of(m1), &o1);
	m = one(&s3, &r, &o);
	CHECK_EQ(o.res.nb_basic, 1, "basic replies to the repeat");
	reply_tsc(m, &s3, TX4);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_REPLIES, 1);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_MISSES, 1);
}

/*
 * A reply tx_burst did not take has no transmit time: of a burst of two
 * with one sent, and of a burst with none sent, only the sent one can
 * be named. The misses come out first, as basic replies.
 */
static void
test_xleave_not_sent(void **state)
{
	struct req r[3] = { req_of(false), req_of(false), req_of(false) };
	struct rte_mbuf *m[3], *first[3], *orig[3];
	struct sent s[3];
	struct outcome o, o_ab;
	unsigned int i;

	(void)state;
	xleave_on(XLEAVE_ENTRIES);
	for (i = 0; i < 3; i++)
		r[i].client = 3 + i;
	for (i = 0; i < 2; i++)
		first[i] = m[i] = make(&s[i], &r[i], 0);
	CHECK_EQ(run_burst(m, 2, 1, &o_ab), 2, "replies");
	first[2] = m[0] = make(&s[2], &r[2], 0);
	CHECK_EQ(run_burst(m, 1, 0, &o), 1, "replies");
	for (i = 0; i < 3; i++) {
		r[i] = xleave_req(r[i], first[i]);
		orig[i] = m[i] = make(&s[i], &r[i], 0);
	}
	CHECK_EQ(run_burst(m, 3, -1, &o), 3, "replies");
	CHECK(o.res.nb_basic == 2 && o.res.nb_xleave == 1,
	      "%u basic, %u interleaved", o.res.nb_basic, o.res.nb_xleave);
	CHECK(m[0] == orig[1] && m[1] == orig[2] && m[2] == orig[0],
	      "not the misses first, then the interleaved reply");
	reply_tsc(m[0], &s[1], TX4);
	reply_tsc(m[1], &s[2], TX4);
	check_xleave_reply(m[2], &s[0], recv_of(first[2]), &o_ab);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_REPLIES, 1);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_MISSES, 2);
}

/*
 * Not interleaved requests, though they name a saved reply: version 3,
 * a receive field equal to the transmit field (chrony's test), an
 * origin with the lowest bit clear. Basic replies, no misses counted,
 * and the saved time is still there for the real one.
 */
static void
test_xleave_not_asked(void **state)
{
	struct req r0 = req_of(false), r[4];
	struct rte_mbuf *m0, *m[4], *orig[4];
	struct sent s0, s[4];
	struct outcome o0, o;
	unsigned int i;

	(void)state;
	xleave_on(XLEAVE_ENTRIES);
	m0 = one(&s0, &r0, &o0);
	for (i = 0; i < 4; i++)
		r[i] = xleave_req(r0, m0);
	r[0].version = 3;
	r[1].rcv = r[1].xmt = CLIENT_RX;
	r[2].org &= ~1ULL;
	for (i = 0; i < 4; i++)
		orig[i] = m[i] = make(&s[i], &r[i], 0);
	CHECK_EQ(run_burst(m, 4, -1, &o), 4, "replies");
	CHECK(o.res.nb_basic == 3 && o.res.nb_xleave == 1,
	      "%u basic, %u interleaved", o.res.nb_basic, o.res.nb_xleave);
	for (i = 0; i < 3; i++) {
		CHECK(m[i] == orig[i], "reply %u out of order", i);
		reply_tsc(m[i], &s[i], TX4);
	}
	CHECK(m[3] == orig[3], "the interleaved reply is not last");
	check_xleave_reply(m[3], &s[3], recv_of(m0), &o0);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_REPLIES, 1);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_MISSES, 0);
}

/* `restrict ignore` drops an interleaved request like any other, and
 * the saved time it named is not used up. */
static void
test_xleave_restrict_ignore(void **state)
{
	struct req r0 = req_of(false), r;
	struct rte_mbuf *m0, *m[1];
	struct sent s0, s;
	struct outcome o0, o;

	(void)state;
	xleave_on(XLEAVE_ENTRIES);
	worker->acl = &acl_rules;
	m0 = one(&s0, &r0, &o0);
	r = xleave_req(r0, m0);
	r.client = CLIENT_IGNORED;
	m[0] = make(&s, &r, 0);
	CHECK_EQ(run_burst(m, 1, -1, &o), 0, "replies to an ignored client");
	expect_stat(DPN_STAT_ACL_IGNORE, 1);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_REPLIES, 0);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_MISSES, 0);
	r.client = r0.client;
	m[0] = make(&s, &r, 0);
	CHECK_EQ(run_burst(m, 1, -1, &o), 1, "replies");
	CHECK_EQ(o.res.nb_xleave, 1, "interleaved replies");
	check_xleave_reply(m[0], &s, recv_of(m0), &o0);
}

static int add_rule(struct dpn_acl_ruleset *rs, char **words, int nb);

/*
 * restrict counters of three workers (each its own row of the table):
 * what each one counted while judging its requests adds up, per rule, to
 * what `show restrict` reads. Default rules only, told apart by family
 * and source port: the table needs no LPM (64 MiB each) beside those of
 * make_acl().
 */
static void
test_acl_counters_workers(void **state)
{
	char a0[] = "-4", a1[] = "default", a2[] = "ignore";
	char b0[] = "-6", b1[] = "default";
	char c0[] = "-6", c1[] = "default", c2[] = "ntpport", c3[] = "ignore";
	char *wa[] = { a0, a1, a2 }, *wb[] = { b0, b1 };
	char *wc[] = { c0, c1, c2, c3 };
	struct dpn_acl_ruleset rs;
	struct dpn_acl_table *t;
	struct dpn_rl_params discard;
	struct dpn_acl_counters c;
	uint32_t ra = DPN_ACL_NO_RULE, rb = DPN_ACL_NO_RULE;
	uint32_t rc = DPN_ACL_NO_RULE;
	unsigned int w, i, k;
	char errbuf[256];

	(void)state;
	dpn_rl_params_default(&discard);
	dpn_acl_ruleset_init(&rs);
	assert_int_equal(add_rule(&rs, wa, RTE_DIM(wa)), 0);
	assert_int_equal(add_rule(&rs, wb, RTE_DIM(wb)), 0);
	assert_int_equal(add_rule(&rs, wc, RTE_DIM(wc)), 0);
	t = dpn_acl_table_create(&rs, &discard, 3, SOCKET_ID_ANY, errbuf,
				 sizeof(errbuf));
	dpn_acl_ruleset_free(&rs);
	if (t == NULL)
		fail_msg("dpn_acl_table_create: %s", errbuf);
	for (i = 0; i < t->rules.nb; i++) {
		const struct dpn_acl_rule *x = &t->rules.rules[i];

		if (x->family == AF_INET)
			ra = i;
		else if (x->flags & DPN_ACL_F(NTPPORT))
			rc = i;
		else
			rb = i;
	}
	assert_true(ra != DPN_ACL_NO_RULE && rb != DPN_ACL_NO_RULE &&
		    rc != DPN_ACL_NO_RULE);
	worker->acl = &t;
	/* Worker w: w + 1 served IPv6 clients, w + 2 IPv6 clients from
	 * port 123 (ignored) and one IPv4 client (ignored). */
	for (w = 0; w < 3; w++) {
		struct rte_mbuf *m[8];
		struct sent s[8];
		unsigned int n = 0;

		worker->index = w;
		for (k = 0; k < w + 1; k++) {
			struct req r = req_of(true);

			r.client = 0x0002 + k;
			m[n] = make(&s[n], &r, 0);
			n++;
		}
		for (k = 0; k < w + 2; k++) {
			struct req r = req_of(true);

			r.client = 0x0100 + k;
			r.src_port = DPN_NTP_PORT;
			m[n] = make(&s[n], &r, 0);
			n++;
		}
		{
			struct req r = req_of(false);

			m[n] = make(&s[n], &r, 0);
			n++;
		}
		CHECK_EQ(burst(m, (uint16_t)n), w + 1, "replies");
	}
	worker->index = 0;
	worker->acl = &acl_none;
	dpn_acl_table_rule_counters(t, rb, &c);
	CHECK(c.hits == 6 && c.drops == 0 && c.kods == 0,
	      "-6 default: %" PRIu64 " hits, %" PRIu64 " drops, %"
	      PRIu64 " KoDs, want 6, 0, 0", c.hits, c.drops, c.kods);
	dpn_acl_table_rule_counters(t, rc, &c);
	CHECK(c.hits == 9 && c.drops == 9 && c.kods == 0,
	      "-6 default ntpport ignore: %" PRIu64 " hits, %" PRIu64
	      " drops, %" PRIu64 " KoDs, want 9, 9, 0", c.hits, c.drops,
	      c.kods);
	dpn_acl_table_rule_counters(t, ra, &c);
	CHECK(c.hits == 3 && c.drops == 3,
	      "-4 default ignore: %" PRIu64 " hits, %" PRIu64
	      " drops, want 3, 3", c.hits, c.drops);
	expect_stat(DPN_STAT_ACL_IGNORE, 12);
	dpn_acl_table_free(t);
}

/* xleavelimit 0: never interleaved, and no misses counted (nothing was
 * looked for); the timestamps are still tagged. */
static void
test_xleave_off(void **state)
{
	struct req r = req_of(false);
	struct rte_mbuf *m0, *m;
	struct sent s0, s;
	struct outcome o0, o;

	(void)state;
	CHECK(!dpn_xleave_enabled(&worker->xleave), "table on by default");
	m0 = one(&s0, &r, &o0);
	reply_tsc(m0, &s0, TX4);
	r = xleave_req(r, m0);
	m = one(&s, &r, &o);
	CHECK_EQ(o.res.nb_basic, 1, "basic replies");
	reply_tsc(m, &s, TX4);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_REPLIES, 0);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_MISSES, 0);
}

/*
 * One burst of each kind, in the order they go out: basic replies
 * (waiting for T3), interleaved ones, KoDs. The KoD answers an
 * interleaved request from a client over its rate: its saved time is
 * not used up, and is sent once the limit is lifted.
 */
static void
test_xleave_burst_order(void **state)
{
	struct req rb = req_of(false), rc = req_of(false);
	struct req rd = req_of(false), r[3];
	struct rte_mbuf *mb, *mc, *m[3], *orig[3];
	struct sent sb, sc, s[3];
	struct outcome ob, oc, o;
	unsigned int i;
	uint32_t head;

	(void)state;
	xleave_on(XLEAVE_ENTRIES);
	worker->acl = &acl_limited;
	rb.client = 6;			/* no rule: never limited */
	rc.client = CLIENT_LIMITED;
	rd.client = CLIENT_LIMITED + 1;	/* limited, but new */
	mb = one(&sb, &rb, &ob);
	mc = one(&sc, &rc, &oc);
	/* C again within `minimum`: limited, its first: a KoD. */
	r[0] = xleave_req(rc, mc);
	r[1] = xleave_req(rb, mb);
	r[2] = rd;
	for (i = 0; i < 3; i++)
		orig[i] = m[i] = make(&s[i], &r[i], 0);
	head = worker->xleave.head;
	CHECK_EQ(run_burst(m, 3, -1, &o), 3, "packets to send");
	/* A KoD carries no time of ours: nothing to follow up. */
	CHECK_EQ(worker->xleave.head - head, 2, "replies saved");
	CHECK(o.res.nb_basic == 1 && o.res.nb_xleave == 1 &&
	      o.res.nb_kod == 1, "%u basic, %u interleaved, %u KoDs",
	      o.res.nb_basic, o.res.nb_xleave, o.res.nb_kod);
	CHECK(m[0] == orig[2] && m[1] == orig[1] && m[2] == orig[0],
	      "not basic, interleaved, KoD");
	reply_tsc(m[0], &s[2], TX4);
	check_xleave_reply(m[1], &s[1], recv_of(mc), &ob);
	check_kod(m[2], &s[0]);
	expect_stat(DPN_STAT_RATE_LIMITED, 1);
	expect_stat(DPN_STAT_KOD_SENT, 1);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_REPLIES, 1);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_MISSES, 0);

	worker->acl = &acl_none;
	m[0] = make(&s[0], &r[0], 0);
	CHECK_EQ(run_burst(m, 1, -1, &o), 1, "replies");
	CHECK_EQ(o.res.nb_xleave, 1, "interleaved replies");
	check_xleave_reply(m[0], &s[0], recv_of(orig[2]), &oc);
	expect_stat(DPN_STAT_NTP_INTERLEAVED_REPLIES, 2);
}

/* The NIC stamped @p m at @p ns on the served clock (the nic model). */
static void
nic_stamp_at(struct rte_mbuf *m, int64_t ns)
{
	nic_stamp(m);
	*RTE_MBUF_DYNFIELD(m, ts_off, uint64_t *) = NIC_STAMP +
		(uint64_t)(ns - t_nic_ns);
}

/* @p r's client names @p prev, sent within @p o_prev's tx_done: it gets
 * that reply's transmit time, or a basic reply; never another's. */
static void
xleave_own_or_basic(struct req r, const struct rte_mbuf *prev,
		    const struct outcome *o_prev)
{
	struct rte_mbuf *m[1];
	struct sent s;
	struct outcome o;

	r = xleave_req(r, prev);
	m[0] = make(&s, &r, 0);
	CHECK_EQ(run_burst(m, 1, -1, &o), 1, "replies");
	if (o.res.nb_xleave == 1)
		check_xleave_reply(m[0], &s, recv_of(prev), o_prev);
	else
		reply_tsc(m[0], &s, TX4);
}

/*
 * One worker's T2 from two sources more than DPN_XLEAVE_UNIQUE_WINDOW
 * apart (a port's NIC stamps behind a backlog, the TSC of another's
 * burst): a later stamp can repeat an earlier receive timestamp
 * exactly. Neither client may be sent the other's transmit time.
 */
static void
test_xleave_rx_unique_mixed(void **state)
{
	struct req r[3] = { req_of(false), req_of(false), req_of(false) };
	struct rte_mbuf *m[2], *ma;
	struct sent s[3];
	struct outcome oa, obc;
	unsigned int i;

	(void)state;
	xleave_on(XLEAVE_ENTRIES);
	for (i = 0; i < 3; i++)
		r[i].client = 7 + i;
	/* a: not stamped, T2 the burst's TSC. */
	ma = one(&s[0], &r[0], &oa);
	/* The next burst leaves measurably later. */
	usleep(2000);
	/* b arrived 2 ms before a's burst was read, c at that instant. */
	m[0] = make(&s[1], &r[1], 0);
	nic_stamp_at(m[0], t_tsc_ns - 2 * 1000 * 1000);
	m[1] = make(&s[2], &r[2], 0);
	nic_stamp_at(m[1], t_tsc_ns);
	CHECK_EQ(run_burst(m, 2, -1, &obc), 2, "replies");
	xleave_own_or_basic(r[2], m[1], &obc);
	xleave_own_or_basic(r[0], ma, &oa);
}

/*
 * PTP for a `refclock ptp` (ports with ptp_l2/ptp_udp): the worker
 * hands the frames to the slow path with what the engine needs (where
 * the message is, the burst's TSC, the NIC's stamp), and the slow path
 * to dp->ptp_rx; without the flag they are dropped as before.
 */

#define PTP_BODY_LEN 44		/* a Sync, IEEE 1588-2008 13.6 */
#define PTP_SYNC 0x0
#define PTP_FOLLOW_UP 0x8
#define PTP_MCAST "224.0.1.129"
#define PTYPE_PTP_UDP4 \
	(RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_UDP)
/* The port's place in the test's dpn_dataplane for the slow path: not
 * 0, so that the index handed to ptp_rx means something. */
#define SLOW_PORT_INDEX 1

static const struct rte_ether_addr ptp_l2_mac = {
	{ 0x01, 0x1b, 0x19, 0x00, 0x00, 0x00 }
};

/* A PTP frame: Layer 2 (ethertype 0x88F7), or UDP/IPv4. */
struct ptp_frame {
	int vlan;		/* VID of an 802.1Q tag in the frame, or -1 */
	bool udp;
	bool v6;		/* UDP/IPv6 (annex E): to port.addrs.v6[0] */
	uint32_t dst;		/* IPv4 destination, network order */
	uint16_t dst_port;
	uint8_t proto;		/* IPv4 protocol */
	uint8_t type;		/* PTP messageType */
	uint16_t seq;
};

static struct ptp_frame
ptp_l2_of(void)
{
	struct ptp_frame f = { .vlan = -1, .type = PTP_SYNC, .seq = 1 };

	return f;
}

/* UDP to @p dst (dotted quad) port @p dst_port. */
static struct ptp_frame
ptp_udp_of(const char *dst, uint16_t dst_port)
{
	struct ptp_frame f = {
		.vlan = -1, .udp = true, .dst_port = dst_port,
		.proto = IPPROTO_UDP,
		.type = dst_port == 320 ? PTP_FOLLOW_UP : PTP_SYNC, .seq = 1,
	};

	assert_int_equal(inet_pton(AF_INET, dst, &f.dst), 1);
	return f;
}

/* A PTP message of @p type, PTP_BODY_LEN bytes, at @p b. */
static void
ptp_body(uint8_t *b, uint8_t type, uint16_t seq)
{
	unsigned int i;

	memset(b, 0, PTP_BODY_LEN);
	b[0] = type;				/* transportSpecific 0 */
	b[1] = 2;				/* versionPTP */
	b[3] = PTP_BODY_LEN;			/* messageLength */
	b[6] = type == PTP_SYNC ? 0x02 : 0;	/* twoStepFlag */
	for (i = 0; i < 8; i++)			/* sourcePortIdentity */
		b[20 + i] = (uint8_t)(0xa0 + i);
	b[29] = 1;
	b[30] = (uint8_t)(seq >> 8);
	b[31] = (uint8_t)seq;
	b[32] = type == PTP_SYNC ? 0 : 2;	/* controlField */
	b[33] = (uint8_t)-3;			/* logMessageInterval */
	for (i = 34; i < PTP_BODY_LEN; i++)	/* originTimestamp */
		b[i] = (uint8_t)i;
}

static unsigned int
ptp_l2_len(const struct ptp_frame *f)
{
	return sizeof(struct rte_ether_hdr) +
		(f->vlan >= 0 ? sizeof(struct rte_vlan_hdr) : 0);
}

static unsigned int
ptp_l3_len(const struct ptp_frame *f)
{
	if (!f->udp)
		return 0;
	return f->v6 ? sizeof(struct rte_ipv6_hdr) :
		sizeof(struct rte_ipv4_hdr);
}

/* The frame of @p f with valid checksums in @p s->b (s->r unused). */
static void
ptp_build(struct sent *s, const struct ptp_frame *f)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)s->b;
	unsigned int l2 = ptp_l2_len(f), l3 = ptp_l3_len(f);
	void *ip = s->b + l2;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(s->b + l2 + l3);
	uint8_t *body = f->udp ? (uint8_t *)(udp + 1) : s->b + l2;
	uint16_t type;

	memset(s, 0, sizeof(*s));
	s->len = l2 + l3 + (f->udp ? sizeof(*udp) : 0) + PTP_BODY_LEN;
	if (!f->udp) {
		eth->dst_addr = ptp_l2_mac;
		type = RTE_ETHER_TYPE_1588;
	} else if (f->v6) {
		eth->dst_addr = port.mac;
		type = RTE_ETHER_TYPE_IPV6;
	} else {
		uint32_t h = rte_be_to_cpu_32(f->dst);

		if ((h >> 28) == 0xe) {	/* 01:00:5e and the low 23 bits */
			eth->dst_addr = (struct rte_ether_addr){ {
				0x01, 0x00, 0x5e, (uint8_t)((h >> 16) & 0x7f),
				(uint8_t)(h >> 8), (uint8_t)h } };
		} else {
			eth->dst_addr = port.mac;
		}
		type = RTE_ETHER_TYPE_IPV4;
	}
	eth->src_addr = client_mac;
	if (f->vlan >= 0) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eth + 1);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(0x2000 | f->vlan);
		vh->eth_proto = rte_cpu_to_be_16(type);
	} else {
		eth->ether_type = rte_cpu_to_be_16(type);
	}
	ptp_body(body, f->type, f->seq);
	if (!f->udp) {
		/* Padded to the 60 bytes of a minimal frame, as received. */
		if (s->len < RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN)
			s->len = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
		return;
	}
	udp->src_port = rte_cpu_to_be_16(f->dst_port);
	udp->dst_port = rte_cpu_to_be_16(f->dst_port);
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + PTP_BODY_LEN);
	if (f->v6) {
		struct rte_ipv6_hdr *ip6 = ip;

		ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip6->payload_len = udp->dgram_len;
		ip6->proto = IPPROTO_UDP;
		ip6->hop_limits = 1;
		inet_pton(AF_INET6, "2001:db8:1::2", ip6->src_addr);
		memcpy(ip6->dst_addr, port.addrs.v6[0], 16);
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip6, udp);
	} else {
		struct rte_ipv4_hdr *ip4 = ip;

		ip4->version_ihl = RTE_IPV4_VHL_DEF;
		ip4->total_length = rte_cpu_to_be_16(sizeof(*ip4) +
			sizeof(*udp) + PTP_BODY_LEN);
		ip4->time_to_live = 1;
		ip4->next_proto_id = f->proto;
		ip4->src_addr = rte_cpu_to_be_32(0xc6130002u); /* 198.19.0.2 */
		ip4->dst_addr = f->dst;
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip4, udp);
		ip4->hdr_checksum = rte_ipv4_cksum(ip4);
	}
}

static struct rte_mbuf *
ptp_make(struct sent *s, const struct ptp_frame *f)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(port.pool);
	char *d;

	ptp_build(s, f);
	assert_non_null(m);
	d = rte_pktmbuf_append(m, s->len);
	assert_non_null(d);
	memcpy(d, s->b, s->len);
	return m;
}

/*
 * A PTP frame the worker passed to the slow path: untouched, with the
 * packet type the slow path dispatches on and ptp_payload() reads, the
 * headers' lengths, the burst's TSC and, where @p stamped, the NIC's
 * stamp (an event message's receive time).
 */
static void
check_ptp_slow(const struct rte_mbuf *m, const struct sent *s,
	       const struct ptp_frame *f, bool stamped)
{
	CHECK_EQ(m->packet_type, f->udp ? PTYPE_PTP_UDP4 :
		 RTE_PTYPE_L2_ETHER_TIMESYNC, "PTP packet_type");
	CHECK_EQ(m->l2_len, ptp_l2_len(f), "PTP l2_len");
	if (f->udp)
		CHECK_EQ(m->l3_len, ptp_l3_len(f), "PTP l3_len");
	CHECK_EQ(m->pkt_len, s->len, "PTP frame length");
	CHECK(memcmp(rte_pktmbuf_mtod(m, const void *), s->b, s->len) == 0,
	      "PTP frame modified");
	CHECK_EQ(*RTE_MBUF_DYNFIELD(m, worker->rx_tsc_dynfield_offset,
				    const uint64_t *), rx_tsc,
		 "PTP rx_tsc dynfield (the burst's TSC)");
	if (!stamped)
		return;
	CHECK(m->ol_flags & ts_flag,
	      "PTP frame lost the RX timestamp flag (ol_flags %#" PRIx64 ")",
	      m->ol_flags);
	CHECK_EQ(*RTE_MBUF_DYNFIELD(m, ts_off, const uint64_t *), NIC_STAMP,
		 "PTP NIC timestamp");
}

/* What a slow-path hook was handed. */
struct hook_rec {
	unsigned int n;
	unsigned int port_index[8];
	struct rte_mbuf *m[8];
};

static struct hook_rec ptp_got, ntp_got;
static struct dpn_dataplane slow_dp;

/* ptp_rx and ntp_reply: the hook owns the mbuf, the test frees it. */
static void
hook_record(void *arg, unsigned int port_index, struct rte_mbuf *m)
{
	struct hook_rec *h = arg;

	hold(&m, 1);
	if (h->n < RTE_DIM(h->m)) {
		h->port_index[h->n] = port_index;
		h->m[h->n] = m;
	}
	h->n++;
}

/*
 * The management lcore's slow path over the worker's queue, the port at
 * SLOW_PORT_INDEX of a dpn_dataplane made for it, with the hooks set or
 * not. @return the packets it took; the answers it sent are left on
 * from_mgmt.
 */
static unsigned int
slow_poll(bool hooks)
{
	unsigned int n;

	memset(&slow_dp, 0, sizeof(slow_dp));
	memset(&ptp_got, 0, sizeof(ptp_got));
	memset(&ntp_got, 0, sizeof(ntp_got));
	slow_dp.nb_ports = SLOW_PORT_INDEX + 1;
	slow_dp.ports[SLOW_PORT_INDEX] = port;
	slow_dp.nb_workers = 1;
	slow_dp.workers[0] = worker;
	if (hooks) {
		slow_dp.ptp_rx = hook_record;
		slow_dp.ptp_rx_arg = &ptp_got;
		slow_dp.ntp_reply = hook_record;
		slow_dp.ntp_reply_arg = &ntp_got;
	}
	worker->rxq[0].port = &slow_dp.ports[SLOW_PORT_INDEX];
	n = dpn_slowpath_poll(&slow_dp);
	worker->rxq[0].port = &port;
	return n;
}

static void
expect_mgmt_stat(enum dpn_stats_id id, uint64_t want)
{
	uint64_t got = slow_dp.mgmt_stats.c[id];

	CHECK(got == want, "management counter %s is %" PRIu64 ", want %"
	      PRIu64, dpn_stats_name(id), got, want);
}

/* The slow path handed @p m, and only it so far, to ptp_rx. */
static void
expect_ptp_rx(unsigned int i, const struct rte_mbuf *m)
{
	CHECK(i < ptp_got.n && ptp_got.m[i] == m,
	      "frame %u not handed to ptp_rx (%u handed)", i, ptp_got.n);
	CHECK_EQ(ptp_got.port_index[i], SLOW_PORT_INDEX, "ptp_rx port index");
}

/* Layer 2 PTP, NIC-stamped, on a port with ptp_l2: to the slow path and
 * on to ptp_rx; no answer, nothing for the client side. */
static void
test_ptp_l2_slow(void **state)
{
	struct ptp_frame f = ptp_l2_of();
	struct rte_mbuf *m[1], *orig, *slow[2];
	struct sent s;

	(void)state;
	port.ptp_l2 = true;
	orig = m[0] = ptp_make(&s, &f);
	nic_stamp(m[0]);
	CHECK_EQ(burst(m, 1), 0, "replies");
	expect_stat(DPN_STAT_RX_PACKETS, 1);
	expect_stat(DPN_STAT_SLOW_QUEUED, 1);
	expect_stat(DPN_STAT_DROP_L2, 0);
	CHECK_EQ(rte_ring_count(worker->rxq[0].to_mgmt), 1,
		 "frames on the slow-path ring");
	check_ptp_slow(orig, &s, &f, true);

	CHECK_EQ(slow_poll(true), 1, "frames the slow path took");
	CHECK_EQ(ptp_got.n, 1, "frames handed to ptp_rx");
	expect_ptp_rx(0, orig);
	CHECK_EQ(ntp_got.n, 0, "frames handed to ntp_reply");
	CHECK_EQ(rte_ring_count(worker->rxq[0].from_mgmt), 0,
		 "answers from the slow path");
	expect_mgmt_stat(DPN_STAT_SLOW_IGNORED, 0);
	/* What ptp_rx got is what the worker passed up. */
	check_ptp_slow(orig, &s, &f, true);

	/* Ours too when sent to our own MAC (unicast, as a master may). */
	m[0] = ptp_make(&s, &f);
	rte_pktmbuf_mtod(m[0], struct rte_ether_hdr *)->dst_addr = port.mac;
	CHECK_EQ(burst(m, 1), 0, "replies");
	CHECK_EQ(take_slow(slow, 2), 1, "frames on the slow path");
	CHECK_EQ(slow[0]->packet_type, RTE_PTYPE_L2_ETHER_TIMESYNC,
		 "unicast PTP packet_type");
}

/* Without ptp_l2 (ptp_udp does not stand for it) 0x88F7 is an unknown
 * EtherType: dropped, counted, back in the pool. */
static void
test_ptp_l2_off(void **state)
{
	struct ptp_frame f = ptp_l2_of();
	struct rte_mbuf *m[2];
	struct sent s[2];

	(void)state;
	port.ptp_udp = true;
	m[0] = ptp_make(&s[0], &f);
	f.vlan = VID;
	m[1] = ptp_make(&s[1], &f);
	CHECK_EQ(burst(m, 2), 0, "replies");
	CHECK_EQ(rte_ring_count(worker->rxq[0].to_mgmt), 0,
		 "frames on the slow-path ring");
	expect_stat(DPN_STAT_DROP_L2, 2);
	expect_stat(DPN_STAT_SLOW_QUEUED, 0);
	CHECK_EQ(nb_held, 0, "frames returned");
}

/* With no ptp_rx (no `refclock ptp` took the hook) the slow path frees
 * the frame and counts it ignored; it is no server reply. */
static void
test_ptp_no_hook(void **state)
{
	struct ptp_frame f[2] = { ptp_l2_of(), ptp_udp_of(PTP_MCAST, 319) };
	struct rte_mbuf *m[2];
	struct sent s[2];
	unsigned int i;

	(void)state;
	port.ptp_l2 = port.ptp_udp = true;
	for (i = 0; i < 2; i++)
		m[i] = ptp_make(&s[i], &f[i]);
	CHECK_EQ(burst(m, 2), 0, "replies");
	expect_stat(DPN_STAT_SLOW_QUEUED, 2);
	CHECK_EQ(slow_poll(false), 2, "frames the slow path took");
	expect_mgmt_stat(DPN_STAT_SLOW_IGNORED, 2);
	expect_mgmt_stat(DPN_STAT_DROP_NTP_MODE4, 0);
	CHECK_EQ(rte_ring_count(worker->rxq[0].from_mgmt), 0,
		 "answers from the slow path");
	CHECK_EQ(rte_mempool_avail_count(port.pool), pool_free,
		 "mbufs in the pool (the slow path freed the frames)");
}

/* In an 802.1Q tag (in band: l2_len covers it) or stripped by the NIC. */
static void
test_ptp_l2_vlan(void **state)
{
	struct ptp_frame f[2] = { ptp_l2_of(), ptp_l2_of() };
	struct rte_mbuf *m[2], *orig[2];
	struct sent s[2];
	unsigned int i;

	(void)state;
	port.ptp_l2 = true;
	f[0].vlan = VID;
	for (i = 0; i < 2; i++) {
		f[i].seq = (uint16_t)(10 + i);
		orig[i] = m[i] = ptp_make(&s[i], &f[i]);
	}
	vlan_strip(m[1], TCI);
	CHECK_EQ(burst(m, 2), 0, "replies");
	expect_stat(DPN_STAT_SLOW_QUEUED, 2);
	check_ptp_slow(orig[0], &s[0], &f[0], false);
	check_ptp_slow(orig[1], &s[1], &f[1], false);
	CHECK(orig[1]->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED,
	      "the stripped tag's flag is gone");
	CHECK_EQ(slow_poll(true), 2, "frames the slow path took");
	CHECK_EQ(ptp_got.n, 2, "frames handed to ptp_rx");
	expect_ptp_rx(0, orig[0]);
	expect_ptp_rx(1, orig[1]);
}

/*
 * UDP/IPv4 on a port with ptp_udp: event (319) and general (320)
 * messages to 224.0.1.129 and to our address, NIC-stamped, in a burst
 * with an NTP request and a server's reply. The request is answered,
 * the PTP frames go to ptp_rx in order, the server's reply to the
 * client side.
 */
static void
test_ptp_udp4_slow(void **state)
{
	struct ptp_frame f[4] = {
		ptp_udp_of(PTP_MCAST, 319), ptp_udp_of(PTP_MCAST, 320),
		ptp_udp_of(local4[0], 319), ptp_udp_of(local4[0], 320),
	};
	struct req rq = req_of(false), rs = server_reply_of(false);
	struct rte_mbuf *m[6], *orig[6];
	struct sent s[6];
	unsigned int i;

	(void)state;
	port.ptp_udp = true;
	orig[0] = m[0] = make(&s[0], &rq, 0);
	for (i = 0; i < 4; i++) {
		f[i].seq = (uint16_t)(20 + i);
		orig[1 + i] = m[1 + i] = ptp_make(&s[1 + i], &f[i]);
		nic_stamp(m[1 + i]);
	}
	orig[5] = m[5] = make(&s[5], &rs, 0);
	CHECK_EQ(burst(m, 6), 1, "replies");
	CHECK(m[0] == orig[0], "the NTP request is not the one answered");
	reply_tsc(m[0], &s[0], TX4);
	expect_stat(DPN_STAT_RX_PACKETS, 6);
	expect_stat(DPN_STAT_SLOW_QUEUED, 5);
	expect_stat(DPN_STAT_DROP_NOT_LOCAL, 0);
	expect_stat(DPN_STAT_DROP_UDP_PORT, 0);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 1);
	for (i = 0; i < 4; i++)
		check_ptp_slow(orig[1 + i], &s[1 + i], &f[i], true);

	CHECK_EQ(slow_poll(true), 5, "frames the slow path took");
	CHECK_EQ(ptp_got.n, 4, "frames handed to ptp_rx");
	for (i = 0; i < 4; i++)
		expect_ptp_rx(i, orig[1 + i]);
	CHECK(ntp_got.n == 1 && ntp_got.m[0] == orig[5],
	      "the server's reply not (alone) handed to ntp_reply: %u",
	      ntp_got.n);
	CHECK_EQ(rte_ring_count(worker->rxq[0].from_mgmt), 0,
		 "answers from the slow path");
}

/* Our address on VLAN VID: PTP to it tagged VID is ours, tagged with a
 * VLAN the port has no address on it is not. */
static void
test_ptp_udp4_vlan(void **state)
{
	struct ptp_frame f[2] = {
		ptp_udp_of(local4[1], 319), ptp_udp_of(local4[1], 319),
	};
	struct rte_mbuf *m[2], *orig[2], *slow[2];
	struct sent s[2];
	unsigned int i;

	(void)state;
	port.ptp_udp = true;
	f[0].vlan = VID;
	f[1].vlan = VID_OTHER;
	for (i = 0; i < 2; i++)
		orig[i] = m[i] = ptp_make(&s[i], &f[i]);
	CHECK_EQ(burst(m, 2), 0, "replies");
	CHECK_EQ(take_slow(slow, 2), 1, "frames on the slow path");
	CHECK(slow[0] == orig[0], "not the frame on VLAN VID passed up");
	check_ptp_slow(orig[0], &s[0], &f[0], false);
	expect_stat(DPN_STAT_DROP_NOT_LOCAL, 1);
}

/* Without ptp_udp: the multicast ones are not for us, the unicast ones
 * to a port that is not NTP's. */
static void
test_ptp_udp4_off(void **state)
{
	struct ptp_frame f[4] = {
		ptp_udp_of(PTP_MCAST, 319), ptp_udp_of(PTP_MCAST, 320),
		ptp_udp_of(local4[0], 319), ptp_udp_of(local4[0], 320),
	};
	struct rte_mbuf *m[4];
	struct sent s[4];
	unsigned int i;

	(void)state;
	port.ptp_l2 = true;	/* Layer 2 only */
	for (i = 0; i < 4; i++)
		m[i] = ptp_make(&s[i], &f[i]);
	CHECK_EQ(burst(m, 4), 0, "replies");
	CHECK_EQ(rte_ring_count(worker->rxq[0].to_mgmt), 0,
		 "frames on the slow-path ring");
	expect_stat(DPN_STAT_SLOW_QUEUED, 0);
	expect_stat(DPN_STAT_DROP_NOT_LOCAL, 2);
	expect_stat(DPN_STAT_DROP_UDP_PORT, 2);
	CHECK_EQ(nb_held, 0, "frames returned");
}

/*
 * With ptp_udp, what is not PTP for us stays dropped: 319 to another
 * host's address, or to another group; another port, to the PTP group
 * or to us; not UDP to the group; a bad UDP length; and UDP/IPv6 (annex
 * E is not taken).
 */
static void
test_ptp_udp4_not_ptp(void **state)
{
	struct ptp_frame f[7] = {
		ptp_udp_of("198.18.0.99", 319),
		ptp_udp_of("224.0.1.130", 319),
		ptp_udp_of(PTP_MCAST, 5000),
		ptp_udp_of(local4[0], 5000),
		ptp_udp_of(PTP_MCAST, 319),
		ptp_udp_of(PTP_MCAST, 319),
		ptp_udp_of(local4[0], 319),
	};
	struct rte_mbuf *m[7];
	struct sent s[7];
	unsigned int i;

	(void)state;
	port.ptp_l2 = port.ptp_udp = true;
	f[4].proto = IPPROTO_TCP;
	f[6].v6 = true;
	for (i = 0; i < 7; i++)
		m[i] = ptp_make(&s[i], &f[i]);
	/* f[5]: a UDP length one short of the IP payload's. */
	{
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m[5],
			struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		udp->dgram_len = rte_cpu_to_be_16(
			rte_be_to_cpu_16(udp->dgram_len) - 1);
	}
	CHECK_EQ(burst(m, 7), 0, "replies");
	CHECK_EQ(rte_ring_count(worker->rxq[0].to_mgmt), 0,
		 "frames on the slow-path ring");
	expect_stat(DPN_STAT_SLOW_QUEUED, 0);
	/* Another host's, the other group, port 5000 and TCP to the group,
	 * the bad length to the group. */
	expect_stat(DPN_STAT_DROP_NOT_LOCAL, 5);
	/* Port 5000 to us, 319 over IPv6. */
	expect_stat(DPN_STAT_DROP_UDP_PORT, 2);
	CHECK_EQ(nb_held, 0, "frames returned");
}

/*
 * Management frames in a worker's transmit burst (after its replies):
 * the first that asks for its transmit time is found, from the first
 * management frame on, and only by RTE_MBUF_F_TX_IEEE1588_TMST.
 */
static void
test_mgmt_stamp_index(void **state)
{
	struct req r = req_of(false);
	struct rte_mbuf *m[6];
	struct sent s;
	unsigned int i;

	(void)state;
	/* A real reply at the front, as dpn_worker_handle_burst left it. */
	m[0] = make(&s, &r, 0);
	CHECK_EQ(burst(m, 1), 1, "replies");
	for (i = 1; i < 6; i++) {
		m[i] = rte_pktmbuf_alloc(port.pool);
		assert_non_null(m[i]);
		hold(&m[i], 1);
		/* What a management frame asks for besides. */
		m[i]->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
			RTE_MBUF_F_TX_UDP_CKSUM;
	}
	/* None asks, nor does the RX flag of the same name count. */
	m[2]->ol_flags |= RTE_MBUF_F_RX_IEEE1588_TMST |
		RTE_MBUF_F_RX_IEEE1588_PTP;
	CHECK_EQ(dpn_worker_mgmt_stamp_index(m, 1, 6), UINT16_MAX,
		 "index with no frame asking");
	CHECK_EQ(dpn_worker_mgmt_stamp_index(m, 1, 1), UINT16_MAX,
		 "index of no management frames");
	/* The reply in front is not looked at. */
	m[0]->ol_flags |= RTE_MBUF_F_TX_IEEE1588_TMST;
	CHECK_EQ(dpn_worker_mgmt_stamp_index(m, 1, 6), UINT16_MAX,
		 "index found before the first management frame");
	CHECK_EQ(dpn_worker_mgmt_stamp_index(m, 0, 6), 0, "index from 0");
	m[0]->ol_flags &= ~RTE_MBUF_F_TX_IEEE1588_TMST;

	m[3]->ol_flags |= RTE_MBUF_F_TX_IEEE1588_TMST;
	CHECK_EQ(dpn_worker_mgmt_stamp_index(m, 1, 6), 3, "index of k = 3");
	CHECK_EQ(dpn_worker_mgmt_stamp_index(m, 3, 6), 3, "index from 3");
	CHECK_EQ(dpn_worker_mgmt_stamp_index(m, 4, 6), UINT16_MAX,
		 "index from past it");
	CHECK_EQ(dpn_worker_mgmt_stamp_index(m, 1, 3), UINT16_MAX,
		 "index beyond nb");
	m[5]->ol_flags |= RTE_MBUF_F_TX_IEEE1588_TMST;
	CHECK_EQ(dpn_worker_mgmt_stamp_index(m, 1, 6), 3,
		 "index of the first of two");
	CHECK_EQ(dpn_worker_mgmt_stamp_index(m, 4, 6), 5,
		 "index of the second from past the first");
	m[1]->ol_flags = RTE_MBUF_F_TX_IEEE1588_TMST;	/* it alone */
	CHECK_EQ(dpn_worker_mgmt_stamp_index(m, 1, 6), 1,
		 "index of the first management frame");
}

static void
expect_mailbox(const struct dpn_rxq *q, uint64_t stamped, uint64_t tsc,
	       const char *what)
{
	CHECK(q->mgmt_tx_stamped == stamped && q->mgmt_tx_tsc == tsc,
	      "%s: mailbox %" PRIu64 " stamped, TSC %" PRIu64 "; want %"
	      PRIu64 ", %" PRIu64, what, q->mgmt_tx_stamped, q->mgmt_tx_tsc,
	      stamped, tsc);
}

/*
 * The mailbox: a frame asking for its time that tx_burst took leaves
 * the TSC after the call (a NIC sends after it returns), or the middle
 * of the call on a port that hands frames to the kernel inside it, and
 * one more in the count. Not taken, or none asking: nothing changes.
 */
static void
test_mgmt_tx_stamp(void **state)
{
	struct dpn_rxq *q = &worker->rxq[0];
	const uint64_t big = UINT64_MAX - 1000;

	(void)state;
	q->mgmt_tx_stamped = 0;
	q->mgmt_tx_tsc = 0;
	port.tx_in_burst = false;
	dpn_worker_mgmt_tx_stamp(q, UINT16_MAX, 8, 1000, 2000);
	expect_mailbox(q, 0, 0, "none asking");
	dpn_worker_mgmt_tx_stamp(q, 3, 3, 1000, 2000);
	expect_mailbox(q, 0, 0, "index 3 of 3 sent (not taken)");
	dpn_worker_mgmt_tx_stamp(q, 3, 0, 1000, 2000);
	expect_mailbox(q, 0, 0, "none sent");
	dpn_worker_mgmt_tx_stamp(q, 3, 4, 1000, 2000);
	expect_mailbox(q, 1, 2000, "NIC: the TSC after tx_burst");
	dpn_worker_mgmt_tx_stamp(q, 0, 1, 5000, 7001);
	expect_mailbox(q, 2, 7001, "NIC, index 0");

	port.tx_in_burst = true;
	dpn_worker_mgmt_tx_stamp(q, 2, 2, 1000, 3000);
	expect_mailbox(q, 2, 7001, "tx_in_burst, not taken");
	dpn_worker_mgmt_tx_stamp(q, 2, 5, 1000, 3001);
	expect_mailbox(q, 3, 2000, "tx_in_burst: the middle");
	/* No overflow near the TSC's top (before + after would wrap). */
	dpn_worker_mgmt_tx_stamp(q, 0, 1, big, big + 900);
	expect_mailbox(q, 4, big + 450, "tx_in_burst: the middle, wrap");
	dpn_worker_mgmt_tx_stamp(q, 0, 1, 4000, 4000);
	expect_mailbox(q, 5, 4000, "tx_in_burst: no time in the call");
}

/*
 * The worker loop's steps for a burst with a Delay_Req from the
 * management lcore behind two replies: the index is the Delay_Req's,
 * and its time lands in the mailbox of that queue when tx_burst took
 * it; the times bound by TSC reads around the (simulated) tx_burst.
 */
static void
test_mgmt_tx_stamp_burst(void **state)
{
	struct req r[2] = { req_of(false), req_of(true) };
	struct dpn_rxq *q = &worker->rxq[0];
	struct rte_mbuf *m[5];
	struct sent s[2];
	uint64_t before, after;
	uint16_t nb_tx, first, k;
	unsigned int i;

	(void)state;
	q->mgmt_tx_stamped = 41;
	q->mgmt_tx_tsc = 0;
	for (i = 0; i < 2; i++)
		m[i] = make(&s[i], &r[i], 0);
	first = burst(m, 2);
	CHECK_EQ(first, 2, "replies");
	for (i = 2; i < 5; i++) {
		m[i] = rte_pktmbuf_alloc(port.pool);
		assert_non_null(m[i]);
		assert_int_equal(rte_ring_sp_enqueue(q->from_mgmt, m[i]), 0);
	}
	/* The PTP engine's Delay_Req, second of the three. */
	m[3]->ol_flags = RTE_MBUF_F_TX_IEEE1588_TMST;
	nb_tx = first + (uint16_t)rte_ring_sc_dequeue_burst(q->from_mgmt,
		(void **)m + first, 3, NULL);
	hold(m + first, nb_tx - first);
	k = dpn_worker_mgmt_stamp_index(m, first, nb_tx);
	CHECK_EQ(k, 3, "the Delay_Req's index");
	before = rte_rdtsc();
	after = rte_rdtsc();
	dpn_worker_mgmt_tx_stamp(q, k, nb_tx, before, after);
	CHECK(q->mgmt_tx_stamped == 42 && q->mgmt_tx_tsc == after,
	      "mailbox %" PRIu64 ", TSC %" PRIu64 ": want 42, %" PRIu64,
	      q->mgmt_tx_stamped, q->mgmt_tx_tsc, after);
	/* tx_burst took the replies and the first management frame only. */
	dpn_worker_mgmt_tx_stamp(q, k, 3, before, after + 1);
	CHECK(q->mgmt_tx_stamped == 42 && q->mgmt_tx_tsc == after,
	      "mailbox changed for a Delay_Req tx_burst did not take");
}

/*
 * Setup.
 */

/*
 * A fresh burst time and clock for each test. Time moves 10 s per test:
 * receive timestamps are kept unique per worker (nudged past the last
 * one), and a test must not inherit the nudges of the tests before it.
 */

/*
 * Symmetric keys.
 */

static const struct dpn_ntpauth_key *
key_of(uint32_t id)
{
	const struct dpn_ntpauth_key *k = dpn_ntpauth_find(&auth_keys, id);

	assert_non_null(k);
	return k;
}

/* Key @p id's counters, summed as show auth sums them. */
static struct dpn_auth_counters
key_counters(uint32_t id);
/* Keys 1, 7 and 9's counters when the test began. */
static struct dpn_auth_counters key_base[3];

static unsigned int
key_slot(uint32_t id)
{
	return id == 1 ? 0 : id == 7 ? 1 : 2;
}

static struct dpn_auth_counters
key_counters(uint32_t id)
{
	const struct dpn_auth_table *t = dpn_dataplane_auth(&auth_dp);
	struct dpn_auth_counters c;
	int idx = dpn_ntpauth_server_find(t->keys, id);

	assert_true(idx >= 0);
	dpn_auth_table_key_counters(t, (unsigned int)idx, &c);
	return c;
}

static void
expect_key(uint32_t id, uint64_t requests, uint64_t good, uint64_t bad,
	   uint64_t replies)
{
	struct dpn_auth_counters c = key_counters(id);
	const struct dpn_auth_counters *b = &key_base[key_slot(id)];

	c.requests -= b->requests;
	c.good -= b->good;
	c.bad -= b->bad;
	c.replies -= b->replies;
	CHECK(c.requests == requests && c.good == good && c.bad == bad &&
	      c.replies == replies,
	      "key %u: requests %" PRIu64 " good %" PRIu64 " bad %" PRIu64
	      " replies %" PRIu64 ", want %" PRIu64 "/%" PRIu64 "/%" PRIu64
	      "/%" PRIu64, id, c.requests, c.good, c.bad, c.replies,
	      requests, good, bad, replies);
}

/*
 * The signed reply in @p m to @p s, under key @p k: the frame as long as
 * the request, a server's header with T2 from the burst's TSC and T3 set
 * after it, and a MAC that the client side's check accepts.
 */
static void
check_signed(const struct rte_mbuf *m, const struct sent *s,
	     const struct dpn_ntpauth_key *k, unsigned int mode)
{
	const struct dpn_ntp_hdr *ntp = ntp_of(m);
	unsigned int len = DPN_NTP_HDR_LEN + 4 + dpn_ntpauth_mac_len(k);
	uint64_t t2 = rte_be_to_cpu_64(ntp->recv_ts);
	uint64_t t3 = rte_be_to_cpu_64(ntp->xmt_ts);
	uint64_t now = now_ts();

	reply_ntp_len = len;
	CHECK_EQ(s->len, m->pkt_len, "signed reply as long as the request");
	check_frame(m, s, s->r.v6 ? TX6 : TX4);
	CHECK_EQ(dpn_ntp_mode_of(ntp), mode, "NTP mode");
	CHECK_EQ(ntp->stratum, snap.sysinfo.stratum, "NTP stratum");
	CHECK_EQ(ntp->refid, snap.sysinfo.refid, "NTP refid");
	CHECK_EQ(ntp->orig_ts, req_ntp(s)->xmt_ts, "NTP origin");
	check_t2(t2, t_tsc_ns, "the burst's TSC");
	CHECK(t3 >= t2 && t3 <= now, "T3 %#" PRIx64 " not between T2 %#"
	      PRIx64 " and now %#" PRIx64, t3, t2, now);
	CHECK(dpn_ntpauth_verify(k, ntp, len),
	      "reply's MAC does not verify under key %u", k->id);
}

/* A crypto-NAK for @p s: a server's header, then a key ID of 0. */
static void
check_nak(const struct rte_mbuf *m, const struct sent *s)
{
	const struct dpn_ntp_hdr *ntp = ntp_of(m);

	reply_ntp_len = DPN_NTP_HDR_LEN + 4;
	check_frame(m, s, s->r.v6 ? TX6 : TX4);
	check_ntp_fixed(ntp, s);
	CHECK_EQ(ntp->orig_ts, req_ntp(s)->xmt_ts, "NTP origin");
	CHECK(memcmp((const uint8_t *)ntp + DPN_NTP_HDR_LEN,
		     "\0\0\0\0", 4) == 0, "crypto-NAK key ID not 0");
}

static void
test_auth_signed(void **state)
{
	static const uint32_t ids[] = { 1, 7, 9 };
	struct rte_mbuf *m[4], *orig[4];
	struct sent s[4];
	struct outcome o;
	unsigned int i, v6;

	(void)state;
	for (v6 = 0; v6 < 2; v6++) {
		for (i = 0; i < RTE_DIM(ids); i++) {
			struct req r = req_of(v6);

			m[0] = make_mac(&s[0], &r, key_of(ids[i]), ids[i]);
			CHECK_EQ(run_burst(m, 1, -1, &o), 1, "replies");
			CHECK_EQ(o.res.nb_signed, 1, "signed replies");
			check_signed(m[0], &s[0], key_of(ids[i]),
				     DPN_NTP_MODE_SERVER);
		}
	}
	expect_stat(DPN_STAT_NTP_AUTH_SIGNED, 6);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 6);
	expect_stat(DPN_STAT_NTP_TRUNCATED, 0);
	expect_key(1, 2, 2, 0, 2);
	expect_key(7, 2, 2, 0, 2);
	expect_key(9, 2, 2, 0, 2);

	/* Mixed with plain requests: basic replies first, then signed. */
	for (i = 0; i < 4; i++) {
		struct req r = req_of(i == 3);

		orig[i] = m[i] = i % 2 == 0 ? make(&s[i], &r, 0) :
			make_mac(&s[i], &r, key_of(i == 1 ? 1 : 9),
				 i == 1 ? 1 : 9);
	}
	CHECK_EQ(run_burst(m, 4, -1, &o), 4, "replies");
	CHECK(o.res.nb_basic == 2 && o.res.nb_signed == 2,
	      "%u basic, %u signed", o.res.nb_basic, o.res.nb_signed);
	CHECK(m[0] == orig[0] && m[1] == orig[2] && m[2] == orig[1] &&
	      m[3] == orig[3], "not basic, basic, signed, signed");
	reply_tsc(m[0], &s[0], TX4);
	reply_tsc(m[1], &s[2], TX4);
	check_signed(m[2], &s[1], key_of(1), DPN_NTP_MODE_SERVER);
	check_signed(m[3], &s[3], key_of(9), DPN_NTP_MODE_SERVER);
	expect_stat(DPN_STAT_NTP_AUTH_SIGNED, 8);
}

/* Symmetric active with a MAC (a Cisco peer): symmetric passive, signed. */
static void
test_auth_symmetric(void **state)
{
	struct req r = req_of(false);
	struct rte_mbuf *m[1];
	struct sent s;
	struct outcome o;

	(void)state;
	r.mode = DPN_NTP_MODE_SYM_ACTIVE;
	r.version = 3;
	m[0] = make_mac(&s, &r, key_of(7), 7);
	CHECK_EQ(run_burst(m, 1, -1, &o), 1, "replies");
	CHECK_EQ(o.res.nb_signed, 1, "signed replies");
	check_signed(m[0], &s, key_of(7), DPN_NTP_MODE_SYM_PASSIVE);
	CHECK_EQ(dpn_ntp_version_of(ntp_of(m[0])), 3, "NTP version");
	expect_stat(DPN_STAT_NTP_SYMMETRIC_REPLIES, 1);
	expect_stat(DPN_STAT_NTP_AUTH_SIGNED, 1);
}

/*
 * Requests that must not authenticate: an ID nobody defined, a key in
 * the file but not trusted, a MAC one bit off, and a SHA-1 key's ID on
 * an MD5-length MAC. With `authfail nak` each gets a crypto-NAK; with
 * `authfail drop` nothing. The reload between keeps the counts.
 */
static void
make_refused(struct rte_mbuf **m, struct sent *s)
{
	struct req r;
	uint8_t *b;

	r = req_of(false);
	m[0] = make_mac(&s[0], &r, key_of(1), 5);
	r = req_of(true);
	m[1] = make_mac(&s[1], &r, key_of(12), 12);
	r = req_of(false);
	m[2] = make_mac(&s[2], &r, key_of(1), 1);
	/* The MAC's last bit, the UDP checksum redone. */
	b = rte_pktmbuf_mtod(m[2], uint8_t *);
	b[m[2]->pkt_len - 1] ^= 0x01;
	udp_in(b, &r)->dgram_cksum = 0;
	udp_in(b, &r)->dgram_cksum = rte_ipv4_udptcp_cksum(
		(struct rte_ipv4_hdr *)(b + l2_of(&r)), udp_in(b, &r));
	r = req_of(false);
	m[3] = make_mac(&s[3], &r, key_of(1), 7);
}

static void
test_auth_refused(void **state)
{
	struct rte_mbuf *m[4];
	struct sent s[4];
	struct outcome o;
	char err[256];
	unsigned int i;

	(void)state;
	make_refused(m, s);
	CHECK_EQ(run_burst(m, 4, -1, &o), 4, "crypto-NAKs");
	CHECK_EQ(o.res.nb_signed, 4, "in the signed group");
	for (i = 0; i < 4; i++)
		check_nak(m[i], &s[i]);
	expect_stat(DPN_STAT_NTP_AUTH_UNKNOWN_KEY, 2);
	expect_stat(DPN_STAT_NTP_AUTH_BAD_MAC, 2);
	expect_stat(DPN_STAT_NTP_AUTH_NAK, 4);
	expect_stat(DPN_STAT_NTP_AUTH_SIGNED, 0);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 0);
	expect_key(1, 1, 0, 1, 0);
	expect_key(7, 1, 0, 1, 0);

	/* authfail drop, same keys: nothing sent, the counts carried. */
	assert_int_equal(dpn_dataplane_set_auth(&auth_dp, &auth_keys,
						auth_trusted,
						RTE_DIM(auth_trusted), false,
						err, sizeof(err)), 0);
	expect_key(1, 1, 0, 1, 0);
	make_refused(m, s);
	CHECK_EQ(run_burst(m, 4, -1, &o), 0, "packets sent");
	expect_stat(DPN_STAT_NTP_AUTH_DROPPED, 4);
	expect_stat(DPN_STAT_NTP_AUTH_NAK, 4);
	expect_key(1, 2, 0, 2, 0);
	/* Key 1 no longer trusted: its requests now name an unknown key. */
	assert_int_equal(dpn_dataplane_set_auth(&auth_dp, &auth_keys,
						auth_trusted + 1, 2, true,
						err, sizeof(err)), 0);
	{
		struct req r = req_of(false);

		m[0] = make_mac(&s[0], &r, key_of(1), 1);
	}
	CHECK_EQ(run_burst(m, 1, -1, &o), 1, "crypto-NAKs");
	check_nak(m[0], &s[0]);
	expect_stat(DPN_STAT_NTP_AUTH_UNKNOWN_KEY, 5);
	assert_int_equal(dpn_dataplane_set_auth(&auth_dp, &auth_keys,
						auth_trusted,
						RTE_DIM(auth_trusted), true,
						err, sizeof(err)), 0);
}

/* restrict notrust: only authenticated requests are served; one whose
 * MAC fails gets a crypto-NAK, as from ntpd. */
static void
test_auth_notrust(void **state)
{
	struct req r = req_of(false);
	struct rte_mbuf *m[3];
	struct sent s[3];
	struct outcome o;

	(void)state;
	worker->acl = &acl_notrust;
	r.client = CLIENT_NOTRUST;
	m[0] = make(&s[0], &r, 0);
	CHECK_EQ(run_burst(m, 1, -1, &o), 0, "replies to a plain request");
	expect_stat(DPN_STAT_ACL_NOTRUST, 1);
	m[0] = make_mac(&s[0], &r, key_of(9), 9);
	m[1] = make_mac(&s[1], &r, key_of(12), 12);
	r.client = 7;	/* no rule */
	m[2] = make(&s[2], &r, 0);
	CHECK_EQ(run_burst(m, 3, -1, &o), 3, "replies");
	CHECK(o.res.nb_basic == 1 && o.res.nb_signed == 2,
	      "%u basic, %u signed", o.res.nb_basic, o.res.nb_signed);
	reply_tsc(m[0], &s[2], TX4);
	check_signed(m[1], &s[0], key_of(9), DPN_NTP_MODE_SERVER);
	check_nak(m[2], &s[1]);
	expect_stat(DPN_STAT_ACL_NOTRUST, 1);
	expect_stat(DPN_STAT_NTP_AUTH_NAK, 1);
}

/*
 * A burst of 21 MAC requests, more than the MD5 lanes and the sign group
 * take at once: MD5 keys of one and two blocks, SHA1 and AES128CMAC
 * between them, IPv4 and IPv6, every sixth with an MD5 MAC made with
 * another key under ID 3. Each good one is answered signed with its own
 * key, each bad one with a crypto-NAK, in arrival order.
 */
#define AUTH_BURST_N 21

static void
test_auth_burst(void **state)
{
	static const uint32_t ids[] = { 1, 3, 7, 9, 3 };
	struct rte_mbuf *m[AUTH_BURST_N];
	struct sent s[AUTH_BURST_N];
	struct outcome o;
	unsigned int i, bad = 0;

	(void)state;
	for (i = 0; i < AUTH_BURST_N; i++) {
		struct req r = req_of(i % 2);

		if (i % 6 == 5) {
			m[i] = make_mac(&s[i], &r, key_of(12), 3);
			bad++;
		} else {
			m[i] = make_mac(&s[i], &r, key_of(ids[i % 5]),
					ids[i % 5]);
		}
	}
	CHECK_EQ(run_burst(m, AUTH_BURST_N, -1, &o), AUTH_BURST_N, "replies");
	CHECK_EQ(o.res.nb_signed, AUTH_BURST_N, "signed replies and NAKs");
	for (i = 0; i < AUTH_BURST_N; i++) {
		if (i % 6 == 5)
			check_nak(m[i], &s[i]);
		else
			check_signed(m[i], &s[i], key_of(ids[i % 5]),
				     DPN_NTP_MODE_SERVER);
	}
	expect_stat(DPN_STAT_NTP_AUTH_SIGNED, AUTH_BURST_N - bad);
	expect_stat(DPN_STAT_NTP_AUTH_BAD_MAC, bad);
	expect_stat(DPN_STAT_NTP_AUTH_NAK, bad);
}

/*
 * NTS.
 */

/* What the client keeps of its request: the identifier, to match. */
struct nts_sent {
	uint8_t uid[NTSC_UID_LEN];
	uint8_t c2s[32], s2c[32];	/* the session's keys */
};

/* Each request's session keys differ in their last byte from the one
 * before (the AES lanes must not mix them up). */
static uint8_t nts_session;

/* @p r as an NTS request with a cookie of @p kr and @p nb_ph
 * placeholders. */
static struct rte_mbuf *
make_nts(struct sent *s, const struct req *r, const struct dpn_nts_keyring *kr,
	 unsigned int nb_ph, struct nts_sent *c)
{
	uint8_t cookie[DPN_NTS_COOKIE_LEN], nonce[16];
	size_t len;

	build(s, r);
	memcpy(c->c2s, nts_c2s, 32);
	memcpy(c->s2c, nts_s2c, 32);
	c->c2s[31] = c->s2c[31] = nts_session++;
	dpn_nts_rng_bytes(&test_rng, c->uid, sizeof(c->uid));
	dpn_nts_rng_bytes(&test_rng, nonce, sizeof(nonce));
	dpn_nts_cookie_seal(kr, &test_rng, c->c2s, c->s2c, cookie);
	len = ntsc_request(sent_ntp(s), c->uid, cookie, sizeof(cookie), nb_ph,
			   nonce, sizeof(nonce), c->c2s);
	grow(s, (unsigned int)len - DPN_NTP_HDR_LEN);
	return mbuf_of(s, 0);
}

/*
 * The NTS reply in @p m to @p s: the frame as long as the request, a
 * server's header with T2 and T3, and an authenticator that S2C opens
 * over the final header, holding @p nb_cookies cookie fields each of
 * which opens to the request's keys.
 */
static void
check_nts(const struct rte_mbuf *m, const struct sent *s,
	  const struct nts_sent *c, unsigned int nb_cookies)
{
	const struct dpn_ntp_hdr *ntp = ntp_of(m);
	unsigned int len = s->len - (l2_of(&s->r) + l3_of(&s->r) + 8), off;
	uint64_t t2 = rte_be_to_cpu_64(ntp->recv_ts);
	uint64_t t3 = rte_be_to_cpu_64(ntp->xmt_ts);
	uint8_t inner[1024], c2s[32], s2c[32];
	int n;

	reply_ntp_len = len;
	check_frame(m, s, s->r.v6 ? TX6 : TX4);
	check_ntp_fixed(ntp, s);
	CHECK_EQ(ntp->orig_ts, req_ntp(s)->xmt_ts, "NTP origin");
	check_t2(t2, t_tsc_ns, "the burst's TSC");
	CHECK(t3 >= t2 && t3 <= now_ts(), "T3 %#" PRIx64 " not after T2",
	      t3);
	n = ntsc_open_reply((const uint8_t *)ntp, len, c->uid, c->s2c,
			    inner, sizeof(inner));
	CHECK(n == (int)(nb_cookies * (4 + DPN_NTS_COOKIE_LEN)),
	      "authenticator: %d bytes of cookie fields, want %u cookies",
	      n, nb_cookies);
	for (off = 0; off < (unsigned int)n; off += 4 + DPN_NTS_COOKIE_LEN) {
		CHECK_EQ(ntsc_get16(inner + off), NTSC_EF_COOKIE,
			 "cookie field type");
		CHECK(dpn_nts_cookie_open(&nts_keys, inner + off + 4,
					  DPN_NTS_COOKIE_LEN, c2s, s2c) == 0 &&
		      memcmp(c2s, c->c2s, 32) == 0 &&
		      memcmp(s2c, c->s2c, 32) == 0,
		      "a new cookie does not open to the request's keys");
	}
}

static void
test_nts_reply(void **state)
{
	struct rte_mbuf *m[3], *orig[3];
	struct sent s[3];
	struct nts_sent c[3];
	struct outcome o;
	unsigned int v6;

	(void)state;
	for (v6 = 0; v6 < 2; v6++) {
		struct req r = req_of(v6);

		m[0] = make_nts(&s[0], &r, &nts_keys, 2, &c[0]);
		CHECK_EQ(run_burst(m, 1, -1, &o), 1, "replies");
		CHECK_EQ(o.res.nb_signed, 1, "sealed replies");
		check_nts(m[0], &s[0], &c[0], 3);
	}
	expect_stat(DPN_STAT_NTP_NTS_REPLIES, 2);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 2);
	expect_stat(DPN_STAT_NTP_TRUNCATED, 0);

	/* With a plain request and a MAC one in the burst: basic first,
	 * then the MAC one, then NTS (checked together at the burst's
	 * end). */
	{
		struct req r = req_of(false);

		orig[0] = m[0] = make_nts(&s[0], &r, &nts_keys, 0, &c[0]);
		orig[1] = m[1] = make(&s[1], &r, 0);
		orig[2] = m[2] = make_mac(&s[2], &r, key_of(7), 7);
	}
	CHECK_EQ(run_burst(m, 3, -1, &o), 3, "replies");
	CHECK(o.res.nb_basic == 1 && o.res.nb_signed == 2,
	      "%u basic, %u sealed", o.res.nb_basic, o.res.nb_signed);
	CHECK(m[0] == orig[1] && m[1] == orig[2] && m[2] == orig[0],
	      "not basic, MAC, NTS");
	reply_tsc(m[0], &s[1], TX4);
	check_signed(m[1], &s[2], key_of(7), DPN_NTP_MODE_SERVER);
	check_nts(m[2], &s[0], &c[0], 1);
}

/*
 * A burst of 40 NTS requests, more than the AES lanes and the seal group
 * take at once: IPv4 and IPv6, 0 to 3 placeholders, every fifth with a
 * cookie of another server. Each good one gets its own reply sealed with
 * its own session's S2C and cookies of its own keys; the others an NTS
 * NAK; all answered in one burst.
 */
#define NTS_BURST_N 40

static void
test_nts_burst(void **state)
{
	struct rte_mbuf *m[NTS_BURST_N], *orig[NTS_BURST_N];
	struct sent s[NTS_BURST_N];
	struct nts_sent c[NTS_BURST_N];
	struct outcome o;
	unsigned int i, j, naks = 0;

	(void)state;
	for (i = 0; i < NTS_BURST_N; i++) {
		struct req r = req_of(i % 2);

		orig[i] = m[i] = make_nts(&s[i], &r, i % 5 == 3 ? &nts_other :
					  &nts_keys, i % 4, &c[i]);
		naks += i % 5 == 3;
	}
	CHECK_EQ(run_burst(m, NTS_BURST_N, -1, &o), NTS_BURST_N, "replies");
	CHECK_EQ(o.res.nb_signed, NTS_BURST_N - naks, "sealed replies");
	CHECK_EQ(o.res.nb_kod, naks, "NAKs");
	for (j = 0; j < NTS_BURST_N; j++) {
		for (i = 0; i < NTS_BURST_N && orig[i] != m[j]; i++)
			;
		CHECK(i < NTS_BURST_N, "reply %u is no request's", j);
		CHECK((j < o.res.nb_signed) == (i % 5 != 3),
		      "request %u's reply in the wrong group", i);
		if (i % 5 != 3)
			check_nts(m[j], &s[i], &c[i], 1 + i % 4);
		else
			CHECK(ntp_of(m[j])->refid == rte_cpu_to_be_32(
				dpn_ntp_refid_from_str("NTSN")),
			      "request %u: not an NTS NAK", i);
	}
	expect_stat(DPN_STAT_NTP_NTS_REPLIES, NTS_BURST_N - naks);
	expect_stat(DPN_STAT_NTP_NTS_NAK, naks);
}

/* A cookie this server cannot open: an NTS NAK, the identifier only. */
static void
test_nts_nak(void **state)
{
	struct req r = req_of(true);
	struct rte_mbuf *m[1];
	struct sent s;
	struct nts_sent c;
	struct outcome o;
	const struct dpn_ntp_hdr *ntp;

	(void)state;
	m[0] = make_nts(&s, &r, &nts_other, 1, &c);
	CHECK_EQ(run_burst(m, 1, -1, &o), 1, "NAKs");
	CHECK_EQ(o.res.nb_kod, 1, "complete packets (NAK)");
	ntp = ntp_of(m[0]);
	reply_ntp_len = DPN_NTP_HDR_LEN + 4 + NTSC_UID_LEN;
	check_frame(m[0], &s, TX6);
	CHECK_EQ(ntp->stratum, 0, "NAK stratum");
	CHECK_EQ(ntp->refid, rte_cpu_to_be_32(dpn_ntp_refid_from_str("NTSN")),
		 "NAK kiss code");
	CHECK_EQ(ntp->orig_ts, req_ntp(&s)->xmt_ts, "NAK origin");
	CHECK_EQ(ntsc_get16((const uint8_t *)ntp + 48), NTSC_EF_UID,
		 "NAK's field");
	CHECK(memcmp((const uint8_t *)ntp + 52, c.uid, NTSC_UID_LEN) == 0,
	      "NAK's unique identifier not the request's");
	expect_stat(DPN_STAT_NTP_NTS_NAK, 1);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 0);
}

/* Dropped, counted, nothing sent: two cookies; NTS in symmetric mode;
 * NTS while it is off. */
static void
test_nts_dropped(void **state)
{
	struct req r = req_of(false);
	struct rte_mbuf *m[2];
	struct sent s[2];
	struct nts_sent c[2];
	struct outcome o;
	struct dpn_nts_table *const *on = worker->nts;
	static struct dpn_nts_table *off;

	(void)state;
	m[0] = make_nts(&s[0], &r, &nts_keys, 1, &c[0]);
	/* The placeholder made a second cookie. */
	rte_pktmbuf_mtod_offset(m[0], uint8_t *, l2_of(&r) + l3_of(&r) + 8 +
				48 + 36 + 104)[1] = 0x04;
	rte_pktmbuf_mtod_offset(m[0], uint8_t *, l2_of(&r) + l3_of(&r) + 8 +
				48 + 36 + 104)[0] = 0x02;
	udp_in(rte_pktmbuf_mtod(m[0], uint8_t *), &r)->dgram_cksum = 0;
	r.mode = DPN_NTP_MODE_SYM_ACTIVE;
	m[1] = make_nts(&s[1], &r, &nts_keys, 0, &c[1]);
	CHECK_EQ(run_burst(m, 2, -1, &o), 0, "packets sent");
	expect_stat(DPN_STAT_NTP_NTS_MALFORMED, 2);
	worker->nts = &off;
	r.mode = DPN_NTP_MODE_CLIENT;
	m[0] = make_nts(&s[0], &r, &nts_keys, 0, &c[0]);
	CHECK_EQ(run_burst(m, 1, -1, &o), 0, "packets sent");
	worker->nts = on;
	expect_stat(DPN_STAT_NTP_NTS_OFF, 1);
	expect_stat(DPN_STAT_NTP_SERVER_REPLIES, 0);
}

/* notrust: an NTS request is authenticated and served; a request with
 * an extension field that is neither NTS nor a MAC is dropped. */
static void
test_nts_notrust(void **state)
{
	struct req r = req_of(false);
	struct rte_mbuf *m[2];
	struct sent s[2];
	struct nts_sent c;
	struct outcome o;
	uint8_t *ef;

	(void)state;
	worker->acl = &acl_notrust;
	r.client = CLIENT_NOTRUST;
	m[0] = make_nts(&s[0], &r, &nts_keys, 0, &c);
	build(&s[1], &r);
	ef = sent_ntp(&s[1]) + DPN_NTP_HDR_LEN;
	memset(ef, 0, 28);
	ef[0] = 0x20;
	ef[1] = 0x05;
	ef[3] = 28;
	grow(&s[1], 28);
	m[1] = mbuf_of(&s[1], 0);
	CHECK_EQ(run_burst(m, 2, -1, &o), 1, "replies");
	check_nts(m[0], &s[0], &c, 1);
	expect_stat(DPN_STAT_ACL_NOTRUST, 1);
}

/*
 * The exception path: TCP to the kernel's port (NTS-KE) of a served
 * address goes to the slow path, marked TCP, untouched; other TCP, and
 * all TCP while no exception path is set, is dropped as before.
 */

/* @p r's frame turned into a TCP segment to @p dport (a SYN). */
static struct rte_mbuf *
make_tcp(struct sent *s, const struct req *r, uint16_t dport)
{
	uint8_t *l4;

	build(s, r);
	l4 = (uint8_t *)udp_in(s->b, r);
	memset(l4, 0, 20);
	l4[0] = 0x9c;			/* source port 40000 */
	l4[1] = 0x40;
	l4[2] = (uint8_t)(dport >> 8);
	l4[3] = (uint8_t)dport;
	l4[12] = 5 << 4;		/* no options */
	l4[13] = 0x02;			/* SYN */
	if (r->v6) {
		((struct rte_ipv6_hdr *)(s->b + l2_of(r)))->proto = IPPROTO_TCP;
	} else {
		struct rte_ipv4_hdr *ip = (void *)(s->b + l2_of(r));

		ip->next_proto_id = IPPROTO_TCP;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	return mbuf_of(s, 0);
}

static void
test_kernel_tcp(void **state)
{
	struct req r4 = req_of(false), r6 = req_of(true), other = r4;
	struct rte_mbuf *m[4], *up[4];
	struct sent s[4];
	unsigned int i;

	(void)state;
	port.kernel_tcp_port = rte_cpu_to_be_16(4460);
	m[0] = make_tcp(&s[0], &r4, 4460);
	m[1] = make_tcp(&s[1], &r6, 4460);
	m[2] = make_tcp(&s[2], &r4, 22);
	m[3] = make_tcp(&s[3], &other, 4460);
	/* Not one of the port's addresses. */
	((struct rte_ipv4_hdr *)rte_pktmbuf_mtod_offset(m[3], void *,
		l2_of(&other)))->dst_addr = rte_cpu_to_be_32(0xc6120063);
	{
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m[3],
			struct rte_ipv4_hdr *, l2_of(&other));

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	CHECK_EQ(burst(m, 4), 0, "replies");
	CHECK_EQ(take_slow(up, 4), 2, "segments for the kernel");
	for (i = 0; i < 2; i++) {
		CHECK_EQ(up[i]->packet_type & RTE_PTYPE_L4_MASK,
			 RTE_PTYPE_L4_TCP, "slow-path packet type");
		CHECK_EQ(up[i]->l3_len, l3_of(&s[i].r), "slow-path l3_len");
		CHECK(up[i]->pkt_len == s[i].len &&
		      memcmp(rte_pktmbuf_mtod(up[i], void *), s[i].b,
			     s[i].len) == 0, "segment %u changed", i);
	}
	expect_stat(DPN_STAT_DROP_PROTO, 1);
	expect_stat(DPN_STAT_DROP_NOT_LOCAL, 1);

	/* No exception path: the same segment is dropped. */
	port.kernel_tcp_port = 0;
	m[0] = make_tcp(&s[0], &r4, 4460);
	CHECK_EQ(burst(m, 1), 0, "replies");
	CHECK_EQ(take_slow(up, 4), 0, "segments for the kernel");
	expect_stat(DPN_STAT_DROP_PROTO, 2);
}

/* Port and worker set-up. */
static int
test_setup(void **state)
{
	(void)state;
	test_nb++;
	t_tsc_ns = EPOCH_NS + (int64_t)test_nb * 10 * SEC_NS + SEC_NS;
	t_nic_ns = t_tsc_ns - NIC_EARLIER_NS;
	rx_tsc = rte_rdtsc();
	memset(&snap, 0, sizeof(snap));
	dpn_clock_model_set(&snap.tsc, rx_tsc, t_tsc_ns,
			    1e9 / (double)rte_get_tsc_hz());
	dpn_clock_model_set(&snap.nic[worker->rxq[0].port_id], NIC_STAMP,
			    t_nic_ns, 1.0);
	snap.synced = true;
	dpn_ntp_sysinfo_set(&snap.sysinfo, true, 0, 2, -23, 1500000, 2500000,
			    dpn_ntp_refid_from_str("TEST"),
			    t_tsc_ns - 16 * SEC_NS);
	dpn_clock_publish(&clock_pub, &snap);
	memset(&worker->stats, 0, sizeof(worker->stats));
	worker->index = 0;
	worker->acl = &acl_none;
	reply_ntp_len = DPN_NTP_HDR_LEN;
	key_base[0] = key_counters(1);
	key_base[1] = key_counters(7);
	key_base[2] = key_counters(9);
	worker->ts_dynfield_offset = ts_off;
	worker->ts_dynflag = ts_flag;
	port.tx_cksum_offload = false;
	port.tx_vlan_sw = false;
	port.tx_in_burst = false;
	port.ptp_l2 = port.ptp_udp = false;
	port.kernel_tcp_port = 0;
	worker->rxq[0].port = &port;
	nb_held = 0;
	pool_free = rte_mempool_avail_count(port.pool);
	return 0;
}

static int
test_teardown(void **state)
{
	struct rte_mbuf *m;

	(void)state;
	rte_pktmbuf_free_bulk(held, nb_held);
	nb_held = 0;
	while (rte_ring_sc_dequeue(worker->rxq[0].to_mgmt, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (rte_ring_sc_dequeue(worker->rxq[0].from_mgmt,
				   (void **)&m) == 0)
		if ((void *)m != &ring_filler)
			rte_pktmbuf_free(m);
	/* Interleaved mode off again, as xleavelimit 0. */
	dpn_xleave_init(&worker->xleave, NULL, 0);
	rte_free(xleave_mem);
	xleave_mem = NULL;
	return 0;
}

/* Add the rule of @p nb words to @p rs. */
static int
add_rule(struct dpn_acl_ruleset *rs, char **words, int nb)
{
	struct dpn_acl_rule rule;
	char err[256];

	if (dpn_acl_parse(words, nb, &rule, 1, err, sizeof(err)) != 1 ||
	    dpn_acl_ruleset_add(rs, &rule) != 0) {
		print_error("restrict rule: %s\n", err);
		return -1;
	}
	return 0;
}

static int
make_acl(void)
{
	char w0[] = "198.19.9.0/24", w1[] = "ignore";
	char l0[] = "198.19.10.0/24", l1[] = "limited", l2[] = "kod";
	char *words[] = { w0, w1 };
	char *limited[] = { l0, l1, l2 };
	char n0[] = "198.19.11.0/24", n1[] = "notrust";
	char *notrust[] = { n0, n1 };
	char q0[] = "198.19.12.0/24", q1[] = "noquery";
	char *noquery[] = { q0, q1 };
	struct dpn_acl_ruleset rs;
	struct dpn_rl_params discard;
	char err[256];

	/* ntpd's discard defaults: minimum 2 s, so a second request of a
	 * test comes too soon. */
	dpn_rl_params_default(&discard);
	dpn_acl_ruleset_init(&rs);
	acl_none = dpn_acl_table_create(&rs, &discard, 1, SOCKET_ID_ANY, err,
					sizeof(err));
	if (add_rule(&rs, words, RTE_DIM(words)) != 0)
		return -1;
	acl_rules = dpn_acl_table_create(&rs, &discard, 1, SOCKET_ID_ANY, err,
					 sizeof(err));
	if (add_rule(&rs, limited, RTE_DIM(limited)) != 0)
		return -1;
	acl_limited = dpn_acl_table_create(&rs, &discard, 1, SOCKET_ID_ANY,
					   err, sizeof(err));
	if (add_rule(&rs, notrust, RTE_DIM(notrust)) != 0)
		return -1;
	acl_notrust = dpn_acl_table_create(&rs, &discard, 1, SOCKET_ID_ANY,
					   err, sizeof(err));
	dpn_acl_ruleset_free(&rs);
	dpn_acl_ruleset_init(&rs);
	if (add_rule(&rs, limited, RTE_DIM(limited)) != 0 ||
	    add_rule(&rs, noquery, RTE_DIM(noquery)) != 0)
		return -1;
	acl_noquery = dpn_acl_table_create(&rs, &discard, 1, SOCKET_ID_ANY,
					   err, sizeof(err));
	dpn_acl_ruleset_free(&rs);
	if (acl_noquery == NULL)
		return -1;
	if (acl_none == NULL || acl_rules == NULL || acl_limited == NULL ||
	    acl_notrust == NULL) {
		print_error("dpn_acl_table_create: %s\n", err);
		return -1;
	}
	return 0;
}

/* The port and worker of perf/bench.c's setup(), plus NIC timestamps. */
static int
make_worker(void)
{
	unsigned int i;

	port.port_id = 0;
	port.mac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, 0x01 } };
	port.rx_timestamp = true;
	for (i = 0; i < RTE_DIM(local4); i++) {
		inet_pton(AF_INET, local4[i], &port.addrs.v4[i]);
		port.addrs.v4_bcast[i] = port.addrs.v4[i] |
			rte_cpu_to_be_32(0xff);
		port.addrs.v4_prefix[i] = 24;
		port.addrs.v4_vlan[i] = local_vlan[i];
		inet_pton(AF_INET6, local6[i], port.addrs.v6[i]);
		port.addrs.v6_prefix[i] = 64;
		port.addrs.v6_vlan[i] = local_vlan[i];
	}
	port.addrs.nb_v4 = port.addrs.nb_v6 = RTE_DIM(local4);
	worker = dpn_rig_worker(&port, &clock_pub, "test_worker", POOL_SIZE,
				1024, &ts_off, &ts_flag);
	return worker != NULL ? 0 : -1;
}

/* The keys of lib/ntpauth's tests, 1, 3, 7 and 9 trusted, 12 not: MD5
 * keys whose MAC input is one block (1) and two (3). */
static int
make_auth(void)
{
	static const char text[] =
		"1 MD5 secret\n"
		"3 MD5 twenty-byte-md5-key!\n"
		"7 SHA1 00112233445566778899aabbccddeeff01234567\n"
		"9 AES128CMAC 2b7e151628aed2a6abf7158809cf4f3c\n"
		"12 MD5 untrusted\n";
	char path[] = "/tmp/test_worker_keys.XXXXXX", err[256];
	int fd = mkstemp(path), ret;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(fd);
	ret = dpn_ntpauth_load(path, &auth_keys, err, sizeof(err));
	unlink(path);
	if (ret != 0) {
		print_error("keys: %s\n", err);
		return -1;
	}
	auth_dp.nb_workers = 1;
	auth_dp.qsbr = rte_zmalloc("test_qsbr", rte_rcu_qsbr_get_memsize(1),
				   RTE_CACHE_LINE_SIZE);
	if (auth_dp.qsbr == NULL || rte_rcu_qsbr_init(auth_dp.qsbr, 1) != 0 ||
	    dpn_dataplane_set_auth(&auth_dp, &auth_keys, auth_trusted,
				   RTE_DIM(auth_trusted), true, err,
				   sizeof(err)) != 0) {
		print_error("keys: %s\n", err);
		return -1;
	}
	worker->auth = (struct dpn_auth_table *const *)&auth_dp.auth;
	if (dpn_nts_rng_init(&test_rng) != 0 ||
	    dpn_nts_rng_init(&worker->nts_rng) != 0)
		return -1;
	dpn_nts_keyring_generate(&nts_keys, &test_rng);
	dpn_nts_keyring_generate(&nts_other, &test_rng);
	if (dpn_dataplane_set_nts(&auth_dp, &nts_keys) != 0)
		return -1;
	worker->nts = (struct dpn_nts_table *const *)&auth_dp.nts;
	return 0;
}

static int
eal_setup(void **state)
{
	(void)state;
	if (dpn_rig_eal_init("test_worker", 384) != 0 || make_worker() != 0)
		return -1;
	return make_acl() == 0 && make_auth() == 0 ? 0 : -1;
}

static int
eal_teardown(void **state)
{
	(void)state;
	dpn_acl_table_free(acl_none);
	dpn_acl_table_free(acl_rules);
	dpn_acl_table_free(acl_limited);
	dpn_acl_table_free(acl_notrust);
	dpn_acl_table_free(acl_noquery);
	dpn_dataplane_auth_fini(&auth_dp);
	dpn_dataplane_nts_fini(&auth_dp);
	rte_free(auth_dp.qsbr);
	dpn_rig_eal_fini();
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ipv4_reply),
		T(test_ipv6_reply),
		T(test_mixed_burst),
		T(test_nic_stamp_ipv4),
		T(test_nic_stamp_ipv6),
		T(test_nic_stamp_flag_clear),
		T(test_nic_stamp_no_model),
		T(test_nic_stamp_restrict),
		T(test_vlan_stripped),
		T(test_vlan_inband),
		T(test_vlan_sw_insert),
		T(test_vlan_sw_insert_slow),
		T(test_slow_answer_ring_full),
		T(test_cksum_bad),
		T(test_cksum_unknown),
		T(test_cksum_good),
		T(test_cksum_none),
		T(test_server_reply_slow_ipv4),
		T(test_server_reply_slow_ipv6),
		T(test_ctl_slow_ipv4),
		T(test_ctl_slow_ipv6),
		T(test_runts),
		T(test_xleave_reply_ipv4),
		T(test_xleave_reply_ipv6),
		T(test_xleave_used_once),
		T(test_xleave_not_sent),
		T(test_xleave_not_asked),
		T(test_xleave_restrict_ignore),
		T(test_xleave_off),
		T(test_acl_counters_workers),
		T(test_xleave_burst_order),
		T(test_xleave_rx_unique_mixed),
		T(test_ptp_l2_slow),
		T(test_ptp_l2_off),
		T(test_ptp_no_hook),
		T(test_ptp_l2_vlan),
		T(test_ptp_udp4_slow),
		T(test_ptp_udp4_vlan),
		T(test_ptp_udp4_off),
		T(test_ptp_udp4_not_ptp),
		T(test_mgmt_stamp_index),
		T(test_mgmt_tx_stamp),
		T(test_mgmt_tx_stamp_burst),
		T(test_auth_signed),
		T(test_auth_symmetric),
		T(test_auth_refused),
		T(test_auth_notrust),
		T(test_nts_reply),
		T(test_extbuf_answers),
		T(test_auth_burst),
		T(test_nts_burst),
		T(test_nts_nak),
		T(test_nts_dropped),
		T(test_nts_notrust),
		T(test_kernel_tcp),
	};

	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
