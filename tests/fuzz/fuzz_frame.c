/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_frame: whole Ethernet frames through the worker's per-packet code
 * as its loop runs it: dpn_worker_handle_burst(), dpn_worker_stamp_tx(),
 * dpn_worker_tx_done(), on mbufs from a real mempool of an EAL started
 * once without huge pages or devices (tests/common/test_rig.h, as
 * tests/dpdk/test_worker.c), with the port's addresses of that test
 * (198.18.0.1 and 2001:db8::1 untagged, 198.18.100.1 and
 * 2001:db8:100::1 on VLAN 100), restrict rules, trusted keys 1, 7 and 9,
 * and NTS keys.
 *
 * Input: two bytes of settings, then frames, each
 *   [flags] [length, 2 bytes] [that many bytes]
 * settings[0]: bits 0..1 the rule set (none; 198.19.9.0/24 ignore;
 *   and 198.19.10.0/24 limited kod; and 198.19.11.0/24 notrust), bit 2
 *   interleaved mode, bit 3 checksums by the NIC, bit 4 frames leave
 *   inside tx_burst, bit 5 NTS-KE port 4460 to the kernel, bits 6..7
 *   PTP over L2 and UDP.
 * settings[1]: bit 0 the worker reads NIC stamps, bit 1 the port clock
 *   has a model, bits 2..5 tx_burst takes that many fewer packets, bit 6
 *   the clients are interleaved ones: a request with an origin
 *   timestamp gets, as its origin, the receive timestamp of the last
 *   reply of an earlier burst (RFC 9769; a fuzzer cannot know it).
 * flags: bits 0..1 what the NIC says of the IPv4 checksum (nothing,
 *   good, bad, none), bits 2..3 the same of the L4 checksum, bit 4 the
 *   NIC took an 802.1Q tag off (VLAN 100), bit 5 the NIC stamped the
 *   frame, bit 6: the target makes the frame's checksums right and, for
 *   an NTP request with a MAC of a trusted key or NTS fields, its MAC or
 *   cookie and authenticator good (a fuzzer cannot forge them), bit 7:
 *   the burst ends after this frame.
 *
 * The bytes of each mbuf outside its frame are poisoned for
 * AddressSanitizer, which does not see into DPDK's mempools: a read or
 * write past the frame is reported as with malloc'ed memory.
 *
 * Invariants: every mbuf is sent, queued for the management lcore or
 * freed (the pool is full again); what is queued is unchanged; a reply
 * answers a request of mode 1 or 3 (modes 2 and 4 to them), version 1 to
 * 4, to UDP port 123 of one of the port's addresses (on its VLAN), from
 * a unicast MAC, a source port other than 0, and a source address that
 * is not zero, loopback, multicast, broadcast or the port's own; it is
 * no longer than the request at any layer; it goes back where the
 * request came from, with valid checksums; its NTP fields are the
 * server's and the echoed ones, and a signed or NTS reply opens as the
 * client opens it.
 */

#include <stdbool.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dpn_acl.h"
#include "dpn_dataplane.h"
#include "dpn_ntp.h"
#include "dpn_ntpauth.h"
#include "dpn_nts.h"
#include "fuzz.h"
#include "fuzz_nts_util.h"
#include "test_rig.h"

#define POOL_SIZE 255
#define MAX_FRAMES 96
#define FRAME_MAX 1518
#define RL_SLOTS 1024
#define XLEAVE_ENTRIES 256
#define VID 100
#define EPOCH_NS 1795000000000000000LL
#define NIC_STAMP 0x0000123456789abcULL

static const char *const local4[] = { "198.18.0.1", "198.18.100.1" };
static const char *const local6[] = { "2001:db8::1", "2001:db8:100::1" };
static const uint16_t local_vlan[] = { 0, VID };

static struct dpn_port port;
static struct dpn_worker *worker;
static struct dpn_clock clock_pub;
static struct dpn_acl_table *acl[4];
static struct dpn_dataplane auth_dp;
static struct dpn_nts_keyring nts_keys;
static void *xleave_mem;
static int ts_off;
static uint64_t ts_flag;
/* The receive timestamp of the last reply, for interleaved clients. */
static uint64_t last_t2;

static const struct dpn_ntpauth_keys keys = {
	.nb = 4,
	.k = {
		{ 1, DPN_NTPAUTH_MD5, 6, "secret" },
		{ 7, DPN_NTPAUTH_SHA1, 20, "\x00\x11\x22\x33\x44\x55\x66\x77"
		  "\x88\x99\xaa\xbb\xcc\xdd\xee\xff\x01\x23\x45\x67" },
		{ 9, DPN_NTPAUTH_AES128CMAC, 16, "\x2b\x7e\x15\x16\x28\xae"
		  "\xd2\xa6\xab\xf7\x15\x88\x09\xcf\x4f\x3c" },
		{ 12, DPN_NTPAUTH_MD5, 9, "untrusted" },
	},
};
static const uint32_t trusted[] = { 1, 7, 9 };

static int
add_rule(struct dpn_acl_ruleset *rs, const char *a, const char *b,
	 const char *c)
{
	char w0[64], w1[16], w2[16], err[256];
	char *words[] = { w0, w1, w2 };
	struct dpn_acl_rule rule;

	snprintf(w0, sizeof(w0), "%s", a);
	snprintf(w1, sizeof(w1), "%s", b);
	snprintf(w2, sizeof(w2), "%s", c != NULL ? c : "");
	if (dpn_acl_parse(words, c != NULL ? 3 : 2, &rule, 1, err,
			  sizeof(err)) != 1 ||
	    dpn_acl_ruleset_add(rs, &rule) != 0) {
		fprintf(stderr, "restrict %s: %s\n", a, err);
		return -1;
	}
	return 0;
}

static int
make_tables(void)
{
	struct dpn_acl_ruleset rs;
	struct dpn_rl_params discard;
	struct dpn_nts_rng rng;
	char err[256];
	unsigned int i;

	dpn_rl_params_default(&discard);
	dpn_acl_ruleset_init(&rs);
	acl[0] = dpn_acl_table_create(&rs, &discard, 1, SOCKET_ID_ANY, err,
				      sizeof(err));
	if (add_rule(&rs, "198.19.9.0/24", "ignore", NULL) != 0)
		return -1;
	acl[1] = dpn_acl_table_create(&rs, &discard, 1, SOCKET_ID_ANY, err,
				      sizeof(err));
	if (add_rule(&rs, "198.19.10.0/24", "limited", "kod") != 0)
		return -1;
	acl[2] = dpn_acl_table_create(&rs, &discard, 1, SOCKET_ID_ANY, err,
				      sizeof(err));
	if (add_rule(&rs, "198.19.11.0/24", "notrust", NULL) != 0)
		return -1;
	acl[3] = dpn_acl_table_create(&rs, &discard, 1, SOCKET_ID_ANY, err,
				      sizeof(err));
	dpn_acl_ruleset_free(&rs);
	for (i = 0; i < 4; i++)
		if (acl[i] == NULL) {
			fprintf(stderr, "restrict: %s\n", err);
			return -1;
		}

	auth_dp.nb_workers = 1;
	auth_dp.qsbr = rte_zmalloc("fuzz_qsbr", rte_rcu_qsbr_get_memsize(1),
				   RTE_CACHE_LINE_SIZE);
	if (auth_dp.qsbr == NULL || rte_rcu_qsbr_init(auth_dp.qsbr, 1) != 0 ||
	    dpn_dataplane_set_auth(&auth_dp, &keys, trusted, 3, true, err,
				   sizeof(err)) != 0) {
		fprintf(stderr, "keys: %s\n", err);
		return -1;
	}
	worker->auth = (struct dpn_auth_table *const *)&auth_dp.auth;
	fuzz_rng_fixed(&rng, 1);
	dpn_nts_keyring_generate(&nts_keys, &rng);
	if (dpn_dataplane_set_nts(&auth_dp, &nts_keys) != 0)
		return -1;
	worker->nts = (struct dpn_nts_table *const *)&auth_dp.nts;
	xleave_mem = rte_zmalloc("fuzz_xleave",
				 dpn_xleave_memsize(XLEAVE_ENTRIES),
				 RTE_CACHE_LINE_SIZE);
	return xleave_mem != NULL ? 0 : -1;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned int i;

	(void)argc;
	(void)argv;
	if (dpn_rig_eal_init("fuzz_frame", 256) != 0)
		abort();
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
	worker = dpn_rig_worker(&port, &clock_pub, "fuzz_frame", POOL_SIZE,
				RL_SLOTS, &ts_off, &ts_flag);
	if (worker == NULL || make_tables() != 0)
		abort();
	return 0;
}

/* A fresh worker for each input: what one input did does not change
 * what the next one finds. */
static void
reset(uint8_t s0, uint8_t s1, struct dpn_clock_snapshot *snap,
      uint64_t rx_tsc)
{
	struct dpn_rl_params p;

	memset(&worker->stats, 0, sizeof(worker->stats));
	memset(worker->rl.buckets, 0, dpn_rl_memsize(RL_SLOTS));
	dpn_rl_params_default(&p);
	if (dpn_rl_init(&worker->rl, worker->rl.buckets, RL_SLOTS, &p) != 0)
		abort();
	worker->acl_generation = 0;
	worker->acl_tag = 0;
	worker->acl_valid_after = 0;
	worker->rl_now_max = 0;
	worker->acl = &acl[s0 & 3];
	memset(xleave_mem, 0, dpn_xleave_memsize(XLEAVE_ENTRIES));
	if (dpn_xleave_init(&worker->xleave, (s0 & 4) ? xleave_mem : NULL,
			    (s0 & 4) ? XLEAVE_ENTRIES : 0) != 0)
		abort();
	fuzz_rng_fixed(&worker->nts_rng, 4);
	port.tx_cksum_offload = s0 & 8;
	port.tx_in_burst = s0 & 0x10;
	port.kernel_tcp_port = (s0 & 0x20) ? rte_cpu_to_be_16(4460) : 0;
	port.ptp_l2 = s0 & 0x40;
	port.ptp_udp = s0 & 0x80;
	worker->ts_dynfield_offset = ts_off;
	worker->ts_dynflag = (s1 & 1) ? ts_flag : 0;

	memset(snap, 0, sizeof(*snap));
	dpn_clock_model_set(&snap->tsc, rx_tsc, EPOCH_NS,
			    1e9 / (double)rte_get_tsc_hz());
	if (s1 & 2)
		dpn_clock_model_set(&snap->nic[port.port_id], NIC_STAMP,
				    EPOCH_NS - 750000000LL, 1.0);
	snap->synced = true;
	dpn_ntp_sysinfo_set(&snap->sysinfo, true, 0, 2, -23, 1500000, 2500000,
			    dpn_ntp_refid_from_str("FUZZ"),
			    EPOCH_NS - 16000000000LL);
	dpn_clock_publish(&clock_pub, snap);
}

/* Where the layers of a frame are, read independently of the worker. */
struct layers {
	bool ok;		/* Ethernet, IPv4/IPv6, UDP all there */
	bool v6;
	unsigned int l2, l3;	/* offsets */
	unsigned int udp_len;	/* UDP header and payload */
	uint16_t vlan;
};

static struct layers
layers_of(const uint8_t *b, size_t len, bool stripped)
{
	struct layers l = { .ok = false };
	uint16_t type;

	if (len < RTE_ETHER_HDR_LEN)
		return l;
	type = (uint16_t)(b[12] << 8 | b[13]);
	l.l2 = RTE_ETHER_HDR_LEN;
	if (stripped) {
		l.vlan = VID;
	} else if (type == RTE_ETHER_TYPE_VLAN && len >= 18) {
		l.vlan = (uint16_t)((b[14] << 8 | b[15]) & 0xfff);
		type = (uint16_t)(b[16] << 8 | b[17]);
		l.l2 = 18;
	}
	if (type == RTE_ETHER_TYPE_IPV4 && len >= l.l2 + 28 &&
	    b[l.l2] == 0x45 && b[l.l2 + 9] == IPPROTO_UDP) {
		l.l3 = 20;
		l.udp_len = (unsigned int)(b[l.l2 + 24] << 8 | b[l.l2 + 25]);
		l.ok = l.l2 + 20 + (size_t)l.udp_len <= len &&
			l.udp_len >= 8;
	} else if (type == RTE_ETHER_TYPE_IPV6 && len >= l.l2 + 48 &&
		   (b[l.l2] >> 4) == 6 && b[l.l2 + 6] == IPPROTO_UDP) {
		l.v6 = true;
		l.l3 = 40;
		l.udp_len = (unsigned int)(b[l.l2 + 44] << 8 | b[l.l2 + 45]);
		l.ok = l.l2 + 40 + (size_t)l.udp_len <= len &&
			l.udp_len >= 8;
	}
	return l;
}

/* Make frame @p b right where a fuzzer cannot: MACs, NTS, checksums. */
static void
fix_frame(uint8_t *b, size_t len, bool stripped)
{
	struct layers l = layers_of(b, len, stripped);
	uint8_t *l3 = b + l.l2;
	struct rte_udp_hdr *udp;
	uint8_t *ntp;
	size_t nlen;

	if (!l.ok)
		return;
	udp = (struct rte_udp_hdr *)(l3 + l.l3);
	ntp = (uint8_t *)(udp + 1);
	nlen = l.udp_len - 8;
	if (nlen == DPN_NTP_HDR_LEN + 4 + 16 ||
	    nlen == DPN_NTP_HDR_LEN + 4 + 20) {
		uint32_t id;
		const struct dpn_ntpauth_key *k;

		memcpy(&id, ntp + DPN_NTP_HDR_LEN, 4);
		k = dpn_ntpauth_find(&keys, rte_be_to_cpu_32(id));
		if (k != NULL && nlen == DPN_NTP_HDR_LEN + 4 +
		    dpn_ntpauth_mac_len(k))
			dpn_ntpauth_sign(k, ntp, DPN_NTP_HDR_LEN);
	} else if (nlen > DPN_NTP_HDR_LEN) {
		struct dpn_nts_request r;

		if (dpn_nts_parse(ntp, nlen, &r) == DPN_NTS_REQUEST &&
		    r.cookie_len == DPN_NTS_COOKIE_LEN)
			fuzz_nts_make_good(ntp, &r, &nts_keys, false);
	}
	udp->dgram_cksum = 0;
	if (l.v6) {
		/* The payload length as the UDP length: checksums over it. */
		((struct rte_ipv6_hdr *)l3)->payload_len = udp->dgram_len;
		udp->dgram_cksum = rte_ipv6_udptcp_cksum((void *)l3, udp);
	} else {
		struct rte_ipv4_hdr *ip = (void *)l3;

		ip->total_length = rte_cpu_to_be_16(20 + l.udp_len);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	}
}

/* An interleaved client's request names our last reply: its origin is
 * that reply's receive timestamp (checksums to be redone). */
static void
name_last_reply(uint8_t *b, size_t len, bool stripped)
{
	struct layers l = layers_of(b, len, stripped);
	struct dpn_ntp_hdr *n;

	if (!l.ok || l.udp_len < 8 + DPN_NTP_HDR_LEN)
		return;
	n = (struct dpn_ntp_hdr *)(b + l.l2 + l.l3 + 8);
	if (n->orig_ts != 0)
		n->orig_ts = rte_cpu_to_be_64(last_t2);
}

struct in_frame {
	struct rte_mbuf *m;
	uint8_t b[FRAME_MAX];
	uint16_t len;
	uint8_t flags;
};

static const uint64_t ip_flag[4] = {
	RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
	RTE_MBUF_F_RX_IP_CKSUM_BAD, RTE_MBUF_F_RX_IP_CKSUM_NONE,
};
static const uint64_t l4_flag[4] = {
	RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, RTE_MBUF_F_RX_L4_CKSUM_GOOD,
	RTE_MBUF_F_RX_L4_CKSUM_BAD, RTE_MBUF_F_RX_L4_CKSUM_NONE,
};

/* The frame in an mbuf as a NIC hands it over; the rest of the mbuf's
 * buffer is poisoned. */
static struct rte_mbuf *
mbuf_of(const struct in_frame *f)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(port.pool);
	char *d;

	FUZZ_CHECK(m != NULL, "pool empty: mbufs leaked");
	d = rte_pktmbuf_append(m, f->len);
	FUZZ_CHECK(d != NULL, "frame of %u bytes", f->len);
	memcpy(d, f->b, f->len);
	m->ol_flags = ip_flag[f->flags & 3] | l4_flag[(f->flags >> 2) & 3];
	if (f->flags & 0x10) {
		m->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
		m->vlan_tci = 0x2000 | VID;
	}
	if (f->flags & 0x20) {
		*RTE_MBUF_DYNFIELD(m, ts_off, uint64_t *) = NIC_STAMP;
		m->ol_flags |= ts_flag;
	}
	FUZZ_POISON(m->buf_addr, m->data_off);
	FUZZ_POISON(d + f->len, m->buf_len - m->data_off - f->len);
	return m;
}

static bool
local_v4(uint32_t a, uint16_t vlan)
{
	unsigned int i;

	for (i = 0; i < port.addrs.nb_v4; i++)
		if (port.addrs.v4[i] == a && port.addrs.v4_vlan[i] == vlan)
			return true;
	return false;
}

static bool
local_v6(const uint8_t *a, uint16_t vlan)
{
	unsigned int i;

	for (i = 0; i < port.addrs.nb_v6; i++)
		if (memcmp(port.addrs.v6[i], a, 16) == 0 &&
		    port.addrs.v6_vlan[i] == vlan)
			return true;
	return false;
}

/* A source that must never get a reply (RFC 1122 3.2.1.3, 4291 2.7). */
static bool
bad_source(const struct layers *l, const uint8_t *l3)
{
	unsigned int i;

	if (l->v6) {
		static const uint8_t zero[15];
		const uint8_t *s = l3 + 8;

		if (s[0] == 0xff || (memcmp(s, zero, 15) == 0 && s[15] <= 1))
			return true;
		for (i = 0; i < port.addrs.nb_v6; i++)
			if (memcmp(s, port.addrs.v6[i], 16) == 0)
				return true;
		return false;
	} else {
		uint32_t s;

		memcpy(&s, l3 + 12, 4);
		if (l3[12] == 0 || l3[12] == 127 || l3[12] >= 224)
			return true;
		for (i = 0; i < port.addrs.nb_v4; i++)
			if (s == port.addrs.v4[i] ||
			    s == port.addrs.v4_bcast[i])
				return true;
		return false;
	}
}

enum kind { BASIC, XLEAVE, SIGNED, KOD };

/* One reply @p m to the request @p f, sent as the @p k kind. */
static void
check_reply(const struct rte_mbuf *m, const struct in_frame *f, enum kind k,
	    uint16_t sign_key, const struct dpn_clock_snapshot *snap)
{
	bool stripped = f->flags & 0x10;
	struct layers q = layers_of(f->b, f->len, stripped);
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *ql3 = f->b + q.l2, *l3 = b + q.l2;
	const struct rte_udp_hdr *qudp = (const void *)(ql3 + q.l3);
	const struct rte_udp_hdr *udp = (const void *)(l3 + q.l3);
	const struct dpn_ntp_hdr *qn = (const void *)(qudp + 1);
	const struct dpn_ntp_hdr *n = (const void *)(udp + 1);
	unsigned int qmode, rlen, qlen;
	uint32_t dst4;

	FUZZ_CHECK(q.ok, "reply to a frame that is not UDP over IP");
	qlen = q.udp_len - 8;
	/* Whom it answers. */
	FUZZ_CHECK(rte_is_same_ether_addr((const void *)f->b, &port.mac) ||
		   rte_is_multicast_ether_addr((const void *)f->b),
		   "reply to a frame for another MAC");
	FUZZ_CHECK(!rte_is_multicast_ether_addr((const void *)(f->b + 6)),
		   "reply to a group MAC");
	memcpy(&dst4, ql3 + 16, 4);
	FUZZ_CHECK(q.v6 ? local_v6(ql3 + 24, q.vlan) : local_v4(dst4, q.vlan),
		   "reply for an address not ours (VLAN %u)", q.vlan);
	FUZZ_CHECK(qudp->dst_port == rte_cpu_to_be_16(DPN_NTP_PORT),
		   "reply to UDP port %u", rte_be_to_cpu_16(qudp->dst_port));
	FUZZ_CHECK(qudp->src_port != 0, "reply to source port 0");
	FUZZ_CHECK(!bad_source(&q, ql3),
		   "reply to a broadcast, multicast or own source");
	FUZZ_CHECK(qlen >= DPN_NTP_HDR_LEN, "reply to %u bytes", qlen);
	qmode = dpn_ntp_mode_of(qn);
	FUZZ_CHECK(qmode == DPN_NTP_MODE_CLIENT ||
		   qmode == DPN_NTP_MODE_SYM_ACTIVE,
		   "reply to mode %u", qmode);
	FUZZ_CHECK(dpn_ntp_version_of(qn) >= 1 && dpn_ntp_version_of(qn) <= 4,
		   "reply to version %u", dpn_ntp_version_of(qn));
	FUZZ_CHECK(qn->xmt_ts != 0, "reply to a zero transmit timestamp");

	/* Not longer, and back where it came from. */
	FUZZ_CHECK(m->data_len == m->pkt_len && m->nb_segs == 1 &&
		   m->data_len <= f->len && m->l2_len == q.l2 &&
		   m->l3_len == q.l3, "reply of %u bytes to %u", m->data_len,
		   f->len);
	rlen = rte_be_to_cpu_16(udp->dgram_len) - 8;
	FUZZ_CHECK(rlen <= qlen && rlen >= DPN_NTP_HDR_LEN &&
		   m->data_len == q.l2 + q.l3 + 8 + rlen,
		   "reply payload %u bytes to %u", rlen, qlen);
	FUZZ_CHECK(memcmp(b, f->b + 6, 6) == 0 &&
		   rte_is_same_ether_addr((const void *)(b + 6), &port.mac),
		   "reply MACs");
	FUZZ_CHECK(memcmp(b + 12, f->b + 12, q.l2 - 12) == 0,
		   "EtherType or VLAN tag changed");
	FUZZ_CHECK(udp->src_port == qudp->dst_port &&
		   udp->dst_port == qudp->src_port, "ports not swapped");
	if (q.v6) {
		const struct rte_ipv6_hdr *ip = (const void *)l3;

		FUZZ_CHECK(memcmp(l3 + 8, ql3 + 24, 16) == 0 &&
			   memcmp(l3 + 24, ql3 + 8, 16) == 0,
			   "IPv6 addresses not swapped");
		FUZZ_CHECK(rte_be_to_cpu_16(ip->payload_len) == 8 + rlen &&
			   ip->proto == IPPROTO_UDP, "IPv6 header");
		FUZZ_CHECK(port.tx_cksum_offload ||
			   (udp->dgram_cksum != 0 &&
			    rte_ipv6_udptcp_cksum_verify(ip, udp) == 0),
			   "UDP checksum (IPv6)");
	} else {
		const struct rte_ipv4_hdr *ip = (const void *)l3;

		FUZZ_CHECK(memcmp(l3 + 12, ql3 + 16, 4) == 0 &&
			   memcmp(l3 + 16, ql3 + 12, 4) == 0,
			   "IPv4 addresses not swapped");
		FUZZ_CHECK(rte_be_to_cpu_16(ip->total_length) == 28 + rlen &&
			   ip->version_ihl == 0x45, "IPv4 header");
		FUZZ_CHECK(port.tx_cksum_offload ||
			   (rte_raw_cksum(ip, sizeof(*ip)) == 0xffff &&
			    (udp->dgram_cksum == 0 ||
			     rte_ipv4_udptcp_cksum_verify(ip, udp) == 0)),
			   "checksums (IPv4)");
	}

	/* The NTP fields. */
	FUZZ_CHECK(dpn_ntp_mode_of(n) == (qmode == DPN_NTP_MODE_CLIENT ?
		   DPN_NTP_MODE_SERVER : DPN_NTP_MODE_SYM_PASSIVE),
		   "mode %u reply to mode %u", dpn_ntp_mode_of(n), qmode);
	FUZZ_CHECK(dpn_ntp_version_of(n) == dpn_ntp_version_of(qn),
		   "version not echoed");
	if (k == KOD) {
		FUZZ_CHECK(dpn_ntp_leap_of(n) == DPN_NTP_LEAP_ALARM &&
			   n->stratum == 0 && n->ref_ts == 0 &&
			   n->orig_ts == qn->xmt_ts &&
			   (n->refid == rte_cpu_to_be_32(
				   dpn_ntp_refid_from_str("RATE")) ||
			    n->refid == rte_cpu_to_be_32(
				   dpn_ntp_refid_from_str("NTSN"))),
			   "KoD fields");
		if (n->refid == rte_cpu_to_be_32(dpn_ntp_refid_from_str(
							 "NTSN"))) {
			struct dpn_nts_request r;

			/* An NTS NAK: the header and the identifier. */
			FUZZ_CHECK(qmode == DPN_NTP_MODE_CLIENT &&
				   dpn_nts_parse((const uint8_t *)qn, qlen,
						 &r) == DPN_NTS_REQUEST &&
				   rlen == DPN_NTP_HDR_LEN +
				   (unsigned int)r.uid_len &&
				   memcmp((const uint8_t *)n + DPN_NTP_HDR_LEN,
					  (const uint8_t *)qn + r.uid_off,
					  r.uid_len) == 0, "NTS NAK");
		} else {
			FUZZ_CHECK(rlen == DPN_NTP_HDR_LEN &&
				   n->recv_ts == qn->xmt_ts &&
				   n->xmt_ts == qn->xmt_ts,
				   "KoD RATE timestamps");
		}
		return;
	}
	FUZZ_CHECK(dpn_ntp_leap_of(n) == snap->sysinfo.leap &&
		   n->stratum == snap->sysinfo.stratum &&
		   n->poll == qn->poll &&
		   n->precision == snap->sysinfo.precision &&
		   n->root_delay == snap->sysinfo.root_delay &&
		   n->root_disp == snap->sysinfo.root_disp &&
		   n->refid == snap->sysinfo.refid &&
		   n->ref_ts == snap->sysinfo.ref_ts,
		   "NTP fields not the server's");
	FUZZ_CHECK(n->orig_ts == (k == XLEAVE ? qn->recv_ts : qn->xmt_ts),
		   "origin timestamp");
	FUZZ_CHECK((rte_be_to_cpu_64(n->recv_ts) & 1) && n->xmt_ts != 0 &&
		   (k == XLEAVE || (int64_t)(rte_be_to_cpu_64(n->xmt_ts) -
					     rte_be_to_cpu_64(n->recv_ts)) >
		    -(int64_t)(1ULL << 32)), "T2 %#llx, T3 %#llx",
		   (unsigned long long)rte_be_to_cpu_64(n->recv_ts),
		   (unsigned long long)rte_be_to_cpu_64(n->xmt_ts));
	if (k == XLEAVE) {
		FUZZ_CHECK(rlen == DPN_NTP_HDR_LEN && qmode == 3 &&
			   dpn_ntp_version_of(qn) == 4,
			   "interleaved reply to a request that is not");
		return;
	}
	if (k == BASIC) {
		FUZZ_CHECK(rlen == DPN_NTP_HDR_LEN, "basic reply of %u", rlen);
		return;
	}
	if (sign_key == DPN_AUTH_NAK) {
		FUZZ_CHECK(rlen == DPN_NTP_HDR_LEN + 4 &&
			   memcmp((const uint8_t *)n + DPN_NTP_HDR_LEN,
				  "\0\0\0\0", 4) == 0, "crypto-NAK");
	} else if (sign_key == DPN_AUTH_NTS) {
		struct dpn_nts_request r;

		FUZZ_CHECK(dpn_nts_parse((const uint8_t *)qn, qlen, &r) ==
			   DPN_NTS_REQUEST && qmode == DPN_NTP_MODE_CLIENT,
			   "NTS reply to a request without NTS");
		fuzz_nts_check_reply((const uint8_t *)qn, qlen, &r,
				     (const uint8_t *)n, rlen, &nts_keys);
	} else {
		uint32_t id;
		const struct dpn_ntpauth_key *key;

		memcpy(&id, (const uint8_t *)qn + DPN_NTP_HDR_LEN, 4);
		key = dpn_ntpauth_find(&keys, rte_be_to_cpu_32(id));
		FUZZ_CHECK(key != NULL && key->id != 12 && rlen == qlen &&
			   dpn_ntpauth_verify(key, n, rlen),
			   "signed reply does not verify with the request's "
			   "key");
	}
}

static void
run_burst(struct in_frame *f, unsigned int nb, uint8_t s1,
	  const struct dpn_clock_snapshot *snap, uint64_t rx_tsc)
{
	struct rte_mbuf *pkts[DPN_BURST * 2], *slow[DPN_BURST * 2];
	struct dpn_rxq *q = &worker->rxq[0];
	struct dpn_burst_result res;
	unsigned int i, j, nb_slow, cut;
	uint16_t nb_out, sent;
	bool seen[DPN_BURST * 2] = { false };

	for (i = 0; i < nb; i++)
		pkts[i] = f[i].m = mbuf_of(&f[i]);
	memset(&res, 0, sizeof(res));
	nb_out = dpn_worker_handle_burst(worker, q, pkts, (uint16_t)nb, rx_tsc,
					 snap, &res);
	FUZZ_CHECK(nb_out <= nb && nb_out == res.nb_basic + res.nb_xleave +
		   res.nb_signed + res.nb_kod,
		   "%u to send of %u: %u basic, %u interleaved, %u signed, "
		   "%u KoD", nb_out, nb, res.nb_basic, res.nb_xleave,
		   res.nb_signed, res.nb_kod);
	if (getenv("FUZZ_DEBUG") != NULL)
		fprintf(stderr, "burst of %u: %u basic, %u interleaved, "
			"%u signed, %u KoD, %u slow\n", nb, res.nb_basic,
			res.nb_xleave, res.nb_signed, res.nb_kod,
			rte_ring_count(q->to_mgmt));
	dpn_worker_stamp_tx(worker, q, pkts, &res, snap);
	cut = (s1 >> 2) & 15;
	sent = (uint16_t)(cut >= nb_out ? 0 : nb_out - cut);
	dpn_worker_tx_done(worker, q, sent, snap);

	for (i = 0; i < nb_out; i++) {
		unsigned int b = res.nb_basic, x = b + res.nb_xleave;
		enum kind k = i < b ? BASIC : i < x ? XLEAVE :
			i < x + res.nb_signed ? SIGNED : KOD;
		uint16_t sk = k == SIGNED ? res.sign_key[i - x] : 0;

		for (j = 0; j < nb && f[j].m != pkts[i]; j++)
			;
		FUZZ_CHECK(j < nb && !seen[j], "packet %u to send is no "
			   "request of the burst, or sent twice", i);
		seen[j] = true;
		check_reply(pkts[i], &f[j], k, sk, snap);
		if (k == BASIC || k == XLEAVE)
			last_t2 = rte_be_to_cpu_64(rte_pktmbuf_mtod_offset(
				pkts[i], const struct dpn_ntp_hdr *,
				pkts[i]->l2_len + pkts[i]->l3_len +
				sizeof(struct rte_udp_hdr))->recv_ts);
	}
	nb_slow = rte_ring_sc_dequeue_burst(q->to_mgmt, (void **)slow,
					    RTE_DIM(slow), NULL);
	for (i = 0; i < nb_slow; i++) {
		for (j = 0; j < nb && f[j].m != slow[i]; j++)
			;
		FUZZ_CHECK(j < nb && !seen[j], "slow-path packet %u is no "
			   "request of the burst, or sent too", i);
		seen[j] = true;
		FUZZ_CHECK(slow[i]->data_len == f[j].len &&
			   memcmp(rte_pktmbuf_mtod(slow[i], void *), f[j].b,
				  f[j].len) == 0,
			   "frame for the management lcore changed");
	}
	/* Each buffer whole again for whoever takes it next. */
	for (i = 0; i < nb; i++)
		FUZZ_UNPOISON(f[i].m->buf_addr, f[i].m->buf_len);
	rte_pktmbuf_free_bulk(pkts, nb_out);
	rte_pktmbuf_free_bulk(slow, nb_slow);
	FUZZ_CHECK(rte_mempool_avail_count(port.pool) == POOL_SIZE,
		   "%u mbufs not returned",
		   POOL_SIZE - rte_mempool_avail_count(port.pool));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct in_frame f[DPN_BURST * 2];
	struct dpn_clock_snapshot snap;
	struct fuzz_in in = { data, size };
	uint8_t s0 = fuzz_u8(&in), s1 = fuzz_u8(&in);
	unsigned int nb = 0, total = 0;
	uint64_t rx_tsc = rte_rdtsc();

	reset(s0, s1, &snap, rx_tsc);
	last_t2 = 0;
	while (in.n >= 3 && total < MAX_FRAMES) {
		uint8_t flags = fuzz_u8(&in);
		uint16_t want = fuzz_u16(&in);
		const uint8_t *b;
		size_t len;

		b = fuzz_bytes(&in, want < FRAME_MAX ? want : FRAME_MAX, &len);
		memcpy(f[nb].b, b, len);
		f[nb].len = (uint16_t)len;
		f[nb].flags = flags;
		if ((s1 & 0x40) && last_t2 != 0)
			name_last_reply(f[nb].b, len, flags & 0x10);
		if (flags & 0x40)
			fix_frame(f[nb].b, len, flags & 0x10);
		nb++;
		total++;
		if ((flags & 0x80) || nb == DPN_BURST * 2 || in.n < 3) {
			run_burst(f, nb, s1, &snap, rte_rdtsc());
			nb = 0;
		}
	}
	if (nb > 0)
		run_burst(f, nb, s1, &snap, rte_rdtsc());
	return 0;
}
