/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpntp-bench: the pipeline benchmark. Runs the workers' per-packet code
 * (dpn_worker_handle_burst + dpn_worker_stamp_tx, the very functions the
 * worker loop calls) on one core over bursts of mbufs from a real
 * mempool, without I/O, and reports ns/request and Mpps: the basic path,
 * then with 100,000 restrict prefixes per family (rte_lpm/rte_lpm6), then
 * with those and every client through the rate limiter, 1,000,000
 * distinct clients; interleaved requests (each names the previous
 * reply to its client, so every one is answered interleaved); and
 * requests signed with a trusted symmetric key (MD5, SHA1, AES128CMAC),
 * each verified and its reply signed; and NTS requests (RFC 8915: a
 * cookie opened, the authenticator verified, a fresh cookie sealed in a
 * reply sealed after T3).
 *
 *   dpntp-bench -l 0 -m 2000 --in-memory --no-pci -- [--json] [--runs N]
 *       [--packets N] [--only CASE] [--clients N] [--burst N] [--prefixes N]
 *       [--xleavelimit N]
 *
 * --xleavelimit sizes the interleaved table (the directive's default;
 * 0 turns interleaved mode off, to measure what saving costs the basic
 * cases).
 *
 * Instructions per request come from the hardware counter
 * (perf_event_open) where the machine lets us read it.
 */

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dpn_dataplane.h"
#include "dpn_ntp.h"
#include "dpn_ntpauth.h"
#include "dpn_nts.h"
#include "nts_client.h"

#define MAX_BURST 64
#define TMPL_SIZE 512	/* an NTS request with its cookie fits */
#define MAX_RUNS 31

#define NB_PREFIXES 100000
#define NB_PREFIXES_MAX 1000000
#define NB_CLIENTS_RL 1000000
/* Simulated time runs this much faster than the TSC, so that a client
 * seen again after a million others is seconds later, as it would be. */
#define TIME_WARP 1000.0

struct bench_case {
	const char *name;
	bool v6;
	unsigned int burst;
	bool acl;		/* 100,000 prefixes per family */
	bool limited;		/* every client through the rate limiter */
	unsigned int clients;	/* distinct sources, cycled through */
	bool xleave;		/* requests name the previous reply */
	uint32_t key;		/* signed with this key ID (bench_keys) */
	bool nts;		/* NTS requests, one cookie each */
};

#define CASES(name, v6, acl, rl, clients) \
	{ name, v6, 8, acl, rl, clients, false, 0 }, \
	{ name, v6, 32, acl, rl, clients, false, 0 }, \
	{ name, v6, 64, acl, rl, clients, false, 0 }
#define XCASES(name, v6) \
	{ name, v6, 8, false, false, 256, true, 0 }, \
	{ name, v6, 32, false, false, 256, true, 0 }, \
	{ name, v6, 64, false, false, 256, true, 0 }
#define MCASES(name, key) \
	{ name, false, 8, false, false, 256, false, key, false }, \
	{ name, false, 32, false, false, 256, false, key, false }, \
	{ name, false, 64, false, false, 256, false, key, false }
#define NCASES(name) \
	{ name, false, 8, false, false, 256, false, 0, true }, \
	{ name, false, 32, false, false, 256, false, 0, true }, \
	{ name, false, 64, false, false, 256, false, 0, true }

static const struct bench_case cases[] = {
	CASES("basic-ipv4", false, false, false, 256),
	CASES("basic-ipv6", true, false, false, 256),
	CASES("acl-ipv4", false, true, false, NB_CLIENTS_RL),
	CASES("acl-ipv6", true, true, false, NB_CLIENTS_RL),
	CASES("acl+rl-ipv4", false, true, true, NB_CLIENTS_RL),
	CASES("acl+rl-ipv6", true, true, true, NB_CLIENTS_RL),
	XCASES("xleave-ipv4", false),
	XCASES("xleave-ipv6", true),
	MCASES("md5-ipv4", 1),
	MCASES("sha1-ipv4", 2),
	MCASES("cmac-ipv4", 3),
	NCASES("nts-ipv4"),
};

/* The trusted keys of the signed cases (as a keys file would give). */
static const struct dpn_ntpauth_keys bench_keys = {
	.nb = 3,
	.k = {
		{ 1, DPN_NTPAUTH_MD5, 16, "benchmarkmd5key0" },
		{ 2, DPN_NTPAUTH_SHA1, 20, "benchmark-sha1-key-0" },
		{ 3, DPN_NTPAUTH_AES128CMAC, 16, "benchmark-cmac-0" },
	},
};
static const uint32_t bench_trusted[] = { 1, 2, 3 };
/* What dpn_dataplane_set_auth() needs to publish them: one worker. */
static struct dpn_dataplane auth_dp;
/* The NTS cases: the server's keys, the client's keys and randomness. */
static struct dpn_nts_keyring nts_keys;
static struct dpn_nts_rng nts_rng;
static const uint8_t nts_c2s[32] = { 0xc2, 0x52 };
static const uint8_t nts_s2c[32] = { 0x52, 0xc2 };

/* A template's transmit and (interleaved) receive fields carry its
 * number, so that a reply tells which template it answered. */
#define TMPL_XMT 0xeabc123400000000ULL
#define TMPL_REC 0xeabc567800000000ULL

static struct dpn_port port;
static struct dpn_worker *worker;
static struct dpn_clock clock_pub;
static struct dpn_acl_table *acl_now;
static int acl_now_kind = -1;	/* acl * 2 + limited */
static uint32_t *client4;
static uint8_t (*client6)[16];
static size_t client_table_bytes;
static unsigned int nb_prefixes = NB_PREFIXES;
static unsigned int xleavelimit = DPN_CONF_XLEAVELIMIT_DEFAULT;
/* Hardware instruction counter, where the machine lets us read one. */
static int insn_fd = -1;

static void
insn_open(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_HARDWARE;
	a.size = sizeof(a);
	a.config = PERF_COUNT_HW_INSTRUCTIONS;
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	insn_fd = (int)syscall(__NR_perf_event_open, &a, 0, -1, -1, 0);
}

static uint64_t
insn_read(void)
{
	uint64_t v = 0;

	if (insn_fd < 0 || read(insn_fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static uint64_t
rnd(void)
{
	static uint64_t x = 0x9e3779b97f4a7c15ULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/*
 * The rule set of a case: nothing, or 100,000 random IPv4 prefixes
 * (lengths 16 to 32) and as many IPv6 ones (32 to 48, the sizes
 * registries allocate), plus defaults; with @p limited every rule
 * rate-limits. One table exists at a time: an rte_lpm6 with 100,000
 * distinct random prefixes needs a few hundred MiB of tbl8s.
 */
static int
use_tables(bool acl, bool limited)
{
	struct dpn_acl_ruleset rs;
	struct dpn_rl_params rl;
	struct dpn_acl_rule r;
	uint32_t extra = limited ? DPN_ACL_F(LIMITED) | DPN_ACL_F(KOD) : 0;
	char err[256];
	unsigned int i, b;

	if (acl_now_kind == acl * 2 + limited)
		return 0;
	dpn_acl_table_free(acl_now);
	acl_now = NULL;
	dpn_rl_params_default(&rl);
	rl.average_log2 = 0;
	rl.minimum_s = 0;
	dpn_acl_ruleset_init(&rs);
	for (i = 0; acl && i < nb_prefixes; i++) {
		uint64_t x = rnd(), y = rnd();
		unsigned int len = 16 + (unsigned int)(x % 17);

		memset(&r, 0, sizeof(r));
		r.family = AF_INET;
		r.prefix_len = (uint8_t)len;
		memcpy(r.addr, &y, 4);
		for (b = len; b < 32; b++)
			r.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
		r.flags = DPN_ACL_F(NOMODIFY) | DPN_ACL_F(NOTRAP) | extra;
		if (dpn_acl_ruleset_append(&rs, &r) != 0)
			return -1;
		memset(&r, 0, sizeof(r));
		r.family = AF_INET6;
		len = 32 + (unsigned int)(y % 17);
		r.prefix_len = (uint8_t)len;
		x = rnd();
		memcpy(r.addr, &x, 8);
		r.addr[0] = (uint8_t)(0x20 | (r.addr[0] & 0x1f));
		for (b = len; b < 128; b++)
			r.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
		r.flags = DPN_ACL_F(NOMODIFY) | DPN_ACL_F(NOTRAP) | extra;
		if (dpn_acl_ruleset_append(&rs, &r) != 0)
			return -1;
	}
	/* Defaults, so clients outside the prefixes are limited too. The
	 * basic cases have no rule at all, as a server without restrict. */
	if (!acl && !limited)
		goto build;
	memset(&r, 0, sizeof(r));
	r.is_default = true;
	r.flags = DPN_ACL_F(NOQUERY) | extra;
	r.family = AF_INET;
	dpn_acl_ruleset_append(&rs, &r);
	r.family = AF_INET6;
	dpn_acl_ruleset_append(&rs, &r);
build:
	dpn_acl_ruleset_normalize(&rs);
	acl_now = dpn_acl_table_create(&rs, &rl, 1, rte_socket_id(), err,
				       sizeof(err));
	dpn_acl_ruleset_free(&rs);
	if (acl_now == NULL) {
		fprintf(stderr, "dpntp-bench: %s\n", err);
		return -1;
	}
	acl_now_kind = acl * 2 + limited;
	return 0;
}

static int
make_clients(void)
{
	unsigned int i;

	client4 = malloc(sizeof(*client4) * NB_CLIENTS_RL);
	client6 = malloc(sizeof(*client6) * NB_CLIENTS_RL);
	if (client4 == NULL || client6 == NULL)
		return -1;
	for (i = 0; i < NB_CLIENTS_RL; i++) {
		uint64_t x = rnd(), y = rnd();

		/* Unicast sources only (1.0.0.0 - 223.255.255.255). */
		client4[i] = htonl(0x01000000u + (uint32_t)(x % 0xdf000000u));
		if ((ntohl(client4[i]) >> 24) == 127)	/* loopback */
			client4[i] ^= htonl(0x01000000u);
		memcpy(client6[i], &x, 8);
		memcpy(client6[i] + 8, &y, 8);
		client6[i][0] = (uint8_t)(0x20 | (client6[i][0] & 0x1f));
	}
	return 0;
}

/* The NTP payload of an NTS request with one cookie: UID, cookie,
 * authenticator with a 16-byte nonce. */
#define NTS_REQ_LEN (DPN_NTP_HDR_LEN + 4 + NTSC_UID_LEN + 4 + \
		     DPN_NTS_COOKIE_LEN + 8 + 16 + 16)

/* A valid client request, as a NIC would hand it over; signed with
 * key @p key unless it is 0, or an NTS request. */
static unsigned int
make_request(uint8_t *buf, bool v6, unsigned int client, uint32_t key,
	     bool nts)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	const struct dpn_ntpauth_key *k = key == 0 ? NULL :
		dpn_ntpauth_find(&bench_keys, key);
	unsigned int udp_len = sizeof(struct rte_udp_hdr) + (nts ?
		NTS_REQ_LEN : DPN_NTP_HDR_LEN +
		(k != NULL ? 4 + dpn_ntpauth_mac_len(k) : 0));
	struct rte_udp_hdr *udp;
	struct dpn_ntp_hdr *ntp;
	unsigned int l3;

	memset(buf, 0, TMPL_SIZE);
	eth->ether_type = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6 :
					   RTE_ETHER_TYPE_IPV4);
	eth->src_addr.addr_bytes[5] = 2;
	eth->dst_addr = port.mac;
	if (v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(udp_len);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 64;
		inet_pton(AF_INET6, "2001:db8:1::", ip->src_addr);
		ip->src_addr[14] = (uint8_t)(client >> 8);
		ip->src_addr[15] = (uint8_t)client;
		memcpy(ip->dst_addr, port.addrs.v6[0], 16);
		l3 = sizeof(*ip);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + udp_len);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = htonl(0xc6130000u | (client & 0xffff));
		ip->dst_addr = port.addrs.v4[0];
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		l3 = sizeof(*ip);
	}
	udp = (struct rte_udp_hdr *)(buf + sizeof(*eth) + l3);
	udp->src_port = rte_cpu_to_be_16(40000);
	udp->dst_port = rte_cpu_to_be_16(DPN_NTP_PORT);
	udp->dgram_len = rte_cpu_to_be_16(udp_len);
	ntp = (struct dpn_ntp_hdr *)(udp + 1);
	ntp->li_vn_mode = dpn_ntp_li_vn_mode(0, 4, DPN_NTP_MODE_CLIENT);
	ntp->poll = 6;
	ntp->xmt_ts = __builtin_bswap64(TMPL_XMT + client);
	if (k != NULL)
		dpn_ntpauth_sign(k, ntp, DPN_NTP_HDR_LEN);
	if (nts) {
		uint8_t uid[NTSC_UID_LEN], nonce[16], ck[DPN_NTS_COOKIE_LEN];

		dpn_nts_rng_bytes(&nts_rng, uid, sizeof(uid));
		dpn_nts_rng_bytes(&nts_rng, nonce, sizeof(nonce));
		dpn_nts_cookie_seal(&nts_keys, &nts_rng, nts_c2s, nts_s2c, ck);
		ntsc_request((uint8_t *)ntp, uid, ck, sizeof(ck), 0, nonce,
			     sizeof(nonce), nts_c2s);
	}
	if (v6)
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(
			(struct rte_ipv6_hdr *)(eth + 1), udp);
	else
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(
			(struct rte_ipv4_hdr *)(eth + 1), udp);
	return sizeof(*eth) + l3 + udp_len;
}

static int
setup(void)
{
	struct dpn_clock_snapshot snap;

	memset(&port, 0, sizeof(port));
	port.mac.addr_bytes[0] = 0x02;
	port.mac.addr_bytes[5] = 1;
	port.addrs.nb_v4 = 1;
	inet_pton(AF_INET, "198.18.0.1", &port.addrs.v4[0]);
	port.addrs.nb_v6 = 1;
	inet_pton(AF_INET6, "2001:db8::1", port.addrs.v6[0]);
	port.pool = rte_pktmbuf_pool_create("bench", 4096, 256, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE,
					    rte_socket_id());
	worker = rte_zmalloc("bench_worker", sizeof(*worker),
			     RTE_CACHE_LINE_SIZE);
	if (port.pool == NULL || worker == NULL || make_clients() != 0)
		return -1;
	worker->nb_rxq = 1;
	worker->rxq[0].port = &port;
	worker->rxq[0].to_mgmt = rte_ring_create("bench_up", 1024,
		rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	worker->rxq[0].from_mgmt = rte_ring_create("bench_down", 1024,
		rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	worker->ts_dynfield_offset = -1;
	worker->rx_tsc_dynfield_offset = dpn_rx_tsc_dynfield_register();
	worker->clock = &clock_pub;
	worker->acl = &acl_now;
	{
		char err[256];

		auth_dp.nb_workers = 1;
		auth_dp.qsbr = rte_zmalloc("bench_qsbr",
					   rte_rcu_qsbr_get_memsize(1),
					   RTE_CACHE_LINE_SIZE);
		if (auth_dp.qsbr == NULL ||
		    rte_rcu_qsbr_init(auth_dp.qsbr, 1) != 0 ||
		    dpn_dataplane_set_auth(&auth_dp, &bench_keys, bench_trusted,
					   RTE_DIM(bench_trusted), true, err,
					   sizeof(err)) != 0)
			return -1;
		worker->auth = (struct dpn_auth_table *const *)&auth_dp.auth;
		if (dpn_nts_rng_init(&nts_rng) != 0 ||
		    dpn_nts_rng_init(&worker->nts_rng) != 0)
			return -1;
		dpn_nts_keyring_generate(&nts_keys, &nts_rng);
		if (dpn_dataplane_set_nts(&auth_dp, &nts_keys) != 0)
			return -1;
		worker->nts = (struct dpn_nts_table *const *)&auth_dp.nts;
	}
	{
		struct dpn_rl_params p;
		size_t sz = dpn_rl_memsize(NB_CLIENTS_RL);
		void *mem = rte_zmalloc("bench_clients", sz,
					sizeof(struct dpn_rl_bucket));

		dpn_rl_params_default(&p);
		if (mem == NULL ||
		    dpn_rl_init(&worker->rl, mem, NB_CLIENTS_RL, &p) != 0)
			return -1;
		client_table_bytes = sz;
		mem = xleavelimit == 0 ? NULL : rte_zmalloc("bench_xleave",
			dpn_xleave_memsize(xleavelimit), RTE_CACHE_LINE_SIZE);
		if ((mem == NULL && xleavelimit != 0) ||
		    dpn_xleave_init(&worker->xleave, mem, xleavelimit) != 0)
			return -1;
	}

	dpn_clock_init(&clock_pub);
	memset(&snap, 0, sizeof(snap));
	dpn_clock_model_set(&snap.tsc, rte_rdtsc(), 1795000000000000000LL,
			    TIME_WARP * 1e9 / (double)rte_get_tsc_hz());
	snap.synced = true;
	dpn_ntp_sysinfo_set(&snap.sysinfo, true, 0, 1, -24, 0, 1000,
			    dpn_ntp_refid_from_str("LOCL"), 1795000000000000000LL);
	dpn_clock_publish(&clock_pub, &snap);
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Give a request another client's source address (not timed). */
static void
set_client(uint8_t *d, bool v6, unsigned int i)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)d;
	struct rte_udp_hdr *udp;

	if (v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);

		memcpy(ip->src_addr, client6[i], 16);
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		ip->src_addr = client4[i];
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	}
}

/*
 * Interleaved cases: the next request of a reply's template names that
 * reply (origin = its receive timestamp) as a chronyd client in xleave
 * mode does. Not timed.
 */
static void
xleave_follow(struct rte_mbuf **m, unsigned int n, uint8_t (*tmpl)[TMPL_SIZE],
	      bool v6)
{
	unsigned int i, l3 = v6 ? sizeof(struct rte_ipv6_hdr) :
		sizeof(struct rte_ipv4_hdr);

	for (i = 0; i < n; i++) {
		const struct dpn_ntp_hdr *r = rte_pktmbuf_mtod_offset(m[i],
			const struct dpn_ntp_hdr *, m[i]->l2_len + l3 +
			sizeof(struct rte_udp_hdr));
		uint64_t org = rte_be_to_cpu_64(r->orig_ts);
		unsigned int t = (unsigned int)(org - ((org >> 32) ==
			(TMPL_XMT >> 32) ? TMPL_XMT : TMPL_REC)) & 255;
		uint8_t *d = tmpl[t];
		void *ip = d + sizeof(struct rte_ether_hdr);
		struct rte_udp_hdr *udp = RTE_PTR_ADD(ip, l3);
		struct dpn_ntp_hdr *q = (struct dpn_ntp_hdr *)(udp + 1);

		q->orig_ts = r->recv_ts;
		q->recv_ts = rte_cpu_to_be_64(TMPL_REC + t);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = v6 ? rte_ipv6_udptcp_cksum(ip, udp) :
			rte_ipv4_udptcp_cksum(ip, udp);
	}
}

/* One run: ns per request over @p nb_packets, timing only the worker code. */
static double
run_once(const struct bench_case *c, struct rte_mbuf **m,
	 uint8_t (*tmpl)[TMPL_SIZE], unsigned int len, unsigned int nb_packets,
	 double *insn_per_req)
{
	uint64_t insn = 0, i0;
	struct rte_mbuf *burst[MAX_BURST];
	struct dpn_clock_snapshot snap;
	uint64_t cycles = 0, done = 0;
	unsigned int i, k = 0, nb_clients = c->clients;
	static unsigned int cl;
	struct dpn_burst_result res;

	while (done < nb_packets) {
		uint64_t t0;
		uint16_t nb;

		/* Restore the requests (not timed), as fresh RX would. */
		for (i = 0; i < c->burst; i++) {
			struct rte_mbuf *x = m[i];
			uint8_t *d = rte_pktmbuf_mtod(x, uint8_t *);

			memcpy(d, tmpl[k & 255], len);
			x->data_len = x->pkt_len = len;
			x->ol_flags = 0;
			if (c->acl)
				set_client(d, c->v6, cl++ % nb_clients);
			k++;
			burst[i] = x;
		}
		if (insn_fd >= 0)
			ioctl(insn_fd, PERF_EVENT_IOC_ENABLE, 0);
		i0 = insn_read();
		t0 = rte_rdtsc_precise();
		dpn_clock_read(&clock_pub, &snap);
		nb = dpn_worker_handle_burst(worker, &worker->rxq[0], burst,
					     c->burst, t0, &snap, &res);
		dpn_worker_stamp_tx(worker, &worker->rxq[0], burst, &res,
				    &snap);
		dpn_worker_tx_done(worker, &worker->rxq[0], nb, &snap);
		cycles += rte_rdtsc_precise() - t0;
		if (insn_fd >= 0) {
			insn += insn_read() - i0;
			ioctl(insn_fd, PERF_EVENT_IOC_DISABLE, 0);
		}
		if (nb != c->burst) {
			fprintf(stderr, "bench: only %u of %u requests answered\n",
				nb, c->burst);
			exit(1);
		}
		/* Every signed request verified, its reply signed (one
		 * reply's MAC checked, not timed). */
		if (c->key != 0 &&
		    (res.nb_signed != c->burst ||
		     !dpn_ntpauth_verify(dpn_ntpauth_find(&bench_keys, c->key),
			rte_pktmbuf_mtod_offset(burst[0], void *,
				burst[0]->l2_len + burst[0]->l3_len +
				sizeof(struct rte_udp_hdr)),
			len - burst[0]->l2_len - burst[0]->l3_len -
			sizeof(struct rte_udp_hdr)))) {
			fprintf(stderr, "bench: %u of %u replies signed, or a bad MAC\n",
				res.nb_signed, c->burst);
			exit(1);
		}
		/* Every NTS request answered as NTS, one reply opened as a
		 * client opens it (not timed). */
		if (c->nts) {
			uint8_t inner[512];
			const uint8_t *r = rte_pktmbuf_mtod_offset(burst[0],
				const uint8_t *, burst[0]->l2_len +
				burst[0]->l3_len + sizeof(struct rte_udp_hdr));

			if (res.nb_signed != c->burst ||
			    ntsc_open_reply(r, NTS_REQ_LEN, r + 52, nts_s2c,
					    inner, sizeof(inner)) !=
			    4 + DPN_NTS_COOKIE_LEN) {
				fprintf(stderr, "bench: %u of %u NTS replies, or one does not open\n",
					res.nb_signed, c->burst);
				exit(1);
			}
		}
		if (c->xleave)
			xleave_follow(burst, nb, tmpl, c->v6);
		done += c->burst;
	}
	if (insn_per_req != NULL)
		*insn_per_req = insn_fd >= 0 ? (double)insn / (double)done : NAN;
	return (double)cycles * 1e9 / (double)rte_get_tsc_hz() /
		(double)done;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "runs", required_argument, NULL, 'r' },
		{ "packets", required_argument, NULL, 'p' },
		{ "only", required_argument, NULL, 'o' },
		{ "clients", required_argument, NULL, 'c' },
		{ "burst", required_argument, NULL, 'b' },
		{ "prefixes", required_argument, NULL, 'x' },
		{ "xleavelimit", required_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t tmpl[256][TMPL_SIZE];
	struct rte_mbuf *m[MAX_BURST];
	unsigned int runs = 5, nb_packets = 2000000, ci, r, len = 0, i;
	unsigned int clients = 0, burst = 0, nb_printed = 0;
	bool json = false;
	const char *only = NULL;
	int ret, opt;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "dpntp-bench: cannot initialise DPDK\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'r':
			runs = (unsigned int)atoi(optarg);
			break;
		case 'p':
			nb_packets = (unsigned int)atoi(optarg);
			break;
		case 'o':
			only = optarg;
			break;
		case 'c':
			clients = (unsigned int)atoi(optarg);
			break;
		case 'b':
			burst = (unsigned int)atoi(optarg);
			break;
		case 'x':
			nb_prefixes = (unsigned int)atoi(optarg);
			break;
		case 'X':
			xleavelimit = (unsigned int)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: dpntp-bench [EAL] -- [--json] [--runs N] [--packets N] [--only CASE] [--clients N] [--burst N] [--prefixes N] [--xleavelimit N]\n");
			return 1;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || nb_packets < MAX_BURST) {
		fprintf(stderr, "dpntp-bench: --runs must be 1..%d and --packets at least %d\n",
			MAX_RUNS, MAX_BURST);
		return 1;
	}
	if (clients > NB_CLIENTS_RL || burst > MAX_BURST ||
	    nb_prefixes > NB_PREFIXES_MAX ||
	    xleavelimit > DPN_XLEAVE_MAX_SIZE) {
		fprintf(stderr, "dpntp-bench: --clients must be 1..%d, --burst 1..%d, --prefixes 0..%d, --xleavelimit 0..%u\n",
			NB_CLIENTS_RL, MAX_BURST, NB_PREFIXES_MAX,
			DPN_XLEAVE_MAX_SIZE);
		return 1;
	}
	insn_open();
	if (setup() != 0 ||
	    rte_pktmbuf_alloc_bulk(port.pool, m, MAX_BURST) != 0) {
		fprintf(stderr, "dpntp-bench: out of memory\n");
		return 1;
	}

	if (json)
		printf("{\"tsc_hz\": %" PRIu64 ", \"runs\": %u, \"packets\": %u, \"prefixes\": %u, \"client_table_bytes\": %zu, \"results\": [",
		       rte_get_tsc_hz(), runs, nb_packets, nb_prefixes,
		       client_table_bytes);
	else
		printf("# client table: %u clients in %.1f MiB\n"
		       "# %u restrict prefixes per family where used; instructions %s\n"
		       "%-14s %6s %8s %12s %10s %12s\n", NB_CLIENTS_RL,
		       (double)client_table_bytes / (1 << 20), nb_prefixes,
		       insn_fd >= 0 ? "from the hardware counter" :
		       "not readable here (see doc/guides/performance.rst)",
		       "case", "burst", "clients", "ns/request", "Mpps",
		       "insn/request");
	for (ci = 0; ci < RTE_DIM(cases); ci++) {
		struct bench_case cc = cases[ci];
		const struct bench_case *c = &cc;
		double ns[MAX_RUNS], med, insn = NAN;
		char insn_str[32];

		if (only != NULL && strcmp(only, c->name) != 0)
			continue;
		/* Overrides give one row per distinct case. */
		if (clients != 0 && c->acl)
			cc.clients = clients;
		if (burst != 0)
			cc.burst = burst;
		for (r = 0; r < ci; r++)
			if (strcmp(cases[r].name, c->name) == 0 &&
			    (burst != 0 ? burst : cases[r].burst) == c->burst &&
			    (clients != 0 && cases[r].acl ? clients :
			     cases[r].clients) == c->clients)
				break;
		if (r < ci)
			continue;

		for (i = 0; i < 256; i++)
			len = make_request(tmpl[i], c->v6, i, c->key, c->nts);
		if (use_tables(c->acl, c->limited) != 0)
			return 1;
		run_once(c, m, tmpl, len, nb_packets / 10, NULL); /* warm up */
		for (r = 0; r < runs; r++)
			ns[r] = run_once(c, m, tmpl, len, nb_packets, &insn);
		qsort(ns, runs, sizeof(ns[0]), cmp_double);
		med = ns[runs / 2];
		if (isnan(insn))
			snprintf(insn_str, sizeof(insn_str), json ? "null" : "n/a");
		else
			snprintf(insn_str, sizeof(insn_str), "%.1f", insn);
		if (json)
			printf("%s{\"case\": \"%s\", \"burst\": %u, \"clients\": %u, \"ns_per_request\": %.2f, \"mpps\": %.2f, \"min_ns\": %.2f, \"max_ns\": %.2f, \"instructions_per_request\": %s}",
			       nb_printed ? ", " : "", c->name, c->burst, c->clients, med,
			       1e3 / med, ns[0], ns[runs - 1], insn_str);
		else
			printf("%-14s %6u %8u %12.1f %10.2f %12s\n", c->name,
			       c->burst, c->clients, med, 1e3 / med, insn_str);
		nb_printed++;
	}
	if (json)
		printf("]}\n");
	rte_pktmbuf_free_bulk(m, MAX_BURST);
	rte_eal_cleanup();
	return 0;
}
