/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpntp-gen: an NTP load generator on DPDK, in the spirit of ntpperf.
 *
 * Simulated clients (every address of --clients, default 198.19.0.0/16)
 * send client-mode requests to one server at a fixed rate, or at each of
 * a rising sequence of rates. For every step it reports what was sent
 * and received, the share lost, invalid and KoD, the server's response
 * time (T3 - T2 from the reply), the round trip (T4 - T1) and the offset
 * between the server's transmit time and our receive time.
 *
 * Each request is numbered: the number picks the client address and the
 * source port, and the reply's destination gives it back. So every reply
 * is matched to its request and step without keeping per-request state
 * beyond one bit, and duplicates are seen.
 *
 * With --nts FILE the requests are NTS requests (RFC 8915): the keys and
 * cookies of one NTS-KE session (dpntp-kebench --dump), a cookie per
 * request in turn (servers keep no state, so a cookie may serve many
 * requests), a unique identifier and nonce from the request's number,
 * the authenticator sealed with C2S. A reply must be as long as its
 * request and carry its identifier; one in 64 is opened with S2C.
 *
 *   dpntp-gen [EAL] -- --server ADDR --local ADDR [options]   (--help)
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_udp.h>

#include "dpn_clock.h"
#include "dpn_dataplane.h"
#include "dpn_ntp.h"
#include "dpn_refclock.h"
#include "nts_client.h"

#define GEN_BURST 32
#define GEN_NB_MBUFS 16383
#define GEN_NB_DESC 1024
#define GEN_MAX_STEPS 64
#define GEN_MAX_RATE 100000000.0
#define GEN_MAX_PER_STEP (1u << 30)	/* requests; the bitmap is 128 MiB */
#define GEN_ARP_TRIES 30		/* one every 100 ms */
#define GEN_SRC_PORT_BASE 1024
#define GEN_SRC_PORTS 64512
#define GEN_NTP_LEN (sizeof(struct rte_udp_hdr) + DPN_NTP_HDR_LEN)
#define GEN_NTS_COOKIES 8
#define GEN_NTS_COOKIE_MAX 256
#define GEN_NTS_OPEN_EVERY 64	/* replies opened with S2C: one in this */
#define GEN_CLOCK_POLL_NS 100000000LL

/*
 * Latency histogram: 10 ns buckets to 10 us, 1 us to 1 ms, 100 us to
 * 100 ms, then one overflow bucket. Percentiles are the bucket's top.
 */
#define HIST_TIER 1000
#define HIST_NB (3 * HIST_TIER + 1)

struct hist {
	uint64_t n;
	uint64_t b[HIST_NB];
	int64_t max;
};

static void
hist_add(struct hist *h, int64_t ns)
{
	unsigned int i;

	if (ns < 0)
		ns = 0;
	if (ns < 10 * HIST_TIER)
		i = (unsigned int)(ns / 10);
	else if (ns < 1000 * HIST_TIER)
		i = HIST_TIER + (unsigned int)(ns / 1000);
	else if (ns < 100000 * HIST_TIER)
		i = 2 * HIST_TIER + (unsigned int)(ns / 100000);
	else
		i = 3 * HIST_TIER;
	/* A tier's first buckets (values the tier below holds) stay empty. */
	h->b[i]++;
	h->n++;
	if (ns > h->max)
		h->max = ns;
}

static int64_t
hist_top(unsigned int i)
{
	if (i < HIST_TIER)
		return (int64_t)(i + 1) * 10;
	if (i < 2 * HIST_TIER)
		return (int64_t)(i - HIST_TIER + 1) * 1000;
	return (int64_t)(i - 2 * HIST_TIER + 1) * 100000;
}

static int64_t
hist_pct(const struct hist *h, double pct)
{
	uint64_t want = (uint64_t)ceil((double)h->n * pct / 100.0), seen = 0;
	unsigned int i;

	if (want == 0)
		want = 1;
	for (i = 0; i < HIST_NB - 1; i++) {
		seen += h->b[i];
		if (seen >= want)
			return RTE_MIN(hist_top(i), h->max);
	}
	return h->max;
}

/* Welford's running mean and variance, for the offsets. */
struct moments {
	uint64_t n;
	double mean, m2;
	int64_t min, max;
};

static void
moments_add(struct moments *m, int64_t x)
{
	double d = (double)x - m->mean;

	if (m->n == 0 || x < m->min)
		m->min = x;
	if (m->n == 0 || x > m->max)
		m->max = x;
	m->n++;
	m->mean += d / (double)m->n;
	m->m2 += d * ((double)x - m->mean);
}

struct options {
	uint32_t server;		/* network order */
	uint32_t local;
	uint32_t clients;		/* host order, masked */
	unsigned int clients_len;
	struct rte_ether_addr dst_mac;
	bool have_dst_mac;
	double rates[GEN_MAX_STEPS];
	unsigned int nb_rates;
	double duration_s;
	unsigned int drain_ms;
	int64_t correction_ns;
	bool json;
	const char *nts_file;		/* --nts: keys and cookies */
};

/* NTS: what one NTS-KE session gave (--nts). */
struct gen_nts {
	uint8_t c2s[32], s2c[32];
	uint8_t cookie[GEN_NTS_COOKIES][GEN_NTS_COOKIE_MAX];
	unsigned int cookie_len, nb_cookies;
	struct siv_cmac_aes128_ctx c2s_ctx;
	uint64_t opened, open_failed;
};

struct step {
	double rate;
	uint64_t first_seq;		/* requests [first_seq, next_seq) */
	uint64_t sent, tx_full, received, invalid, kod, duplicate;
	uint8_t *seen;			/* one bit per request */
	struct hist response, rtt;
	struct moments offset;
};

struct gen {
	struct options o;
	uint16_t port_id;
	struct rte_ether_addr mac;
	struct rte_mempool *pool;
	uint32_t nb_clients;		/* usable host addresses */
	uint64_t seq;			/* next request number */
	struct step *steps;
	struct step *cur;		/* the step being sent, or NULL */
	uint64_t stale;			/* replies to an earlier step */
	uint64_t foreign;		/* not a reply to us at all */
	/* Time: TSC -> UTC from the host clock, and the NIC's clock. */
	struct dpn_refclock_system ref;
	struct dpn_clock_tracker tracker;	/* TSC -> host clock */
	struct dpn_clock_snapshot snap;
	bool hw_ts;
	int ts_off;
	uint64_t ts_flag;
	struct dpn_nic_clock nic;
	struct dpn_clock_model nic_model;
	uint64_t next_clock_tsc;
	/* The UDP length of a request: GEN_NTP_LEN, or more with NTS. */
	unsigned int udp_len;
	struct gen_nts *nts;		/* NULL: plain requests */
};

static volatile bool quit;

static void
on_signal(int sig)
{
	RTE_SET_USED(sig);
	quit = true;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: dpntp-gen [EAL options] -- --server ADDR --local ADDR [options]\n"
"  --server ADDR        IPv4 address of the NTP server\n"
"  --local ADDR         this generator's IPv4 address on the link (answers ARP)\n"
"  --clients PREFIX     simulated client addresses (default 198.19.0.0/16);\n"
"                       the server must route them back to --local\n"
"  --dst-mac MAC        the server's (or gateway's) MAC; default: ask by ARP\n"
"  --rate R             requests per second, one step\n"
"  --rates R1,R2,...    one step per rate\n"
"  --rate-start R0 --rate-max R1 [--rate-factor F]\n"
"                       rising steps R0, R0*F, ... up to R1 (F default 2)\n"
"  --duration S         seconds per step (default 2)\n"
"  --drain-ms MS        wait for late replies after each step (default 200)\n"
"  --correction-ns NS   subtracted from our receive time for the offset\n"
"                       (e.g. the one-way delay from the server)\n"
"  --json               one JSON object on stdout instead of a table\n"
"  --nts FILE           NTS requests with the keys and cookies of FILE\n"
"                       (dpntp-kebench --dump FILE ...)\n"
"The port used is DPDK port 0 (a --vdev or a bound NIC).\n");
}

static int
bad_arg(const char *fmt, const char *val)
{
	fprintf(stderr, "dpntp-gen: ");
	fprintf(stderr, fmt, val);
	fprintf(stderr, " (see --help)\n");
	return -1;
}

static int
parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max))
		return -1;
	*out = v;
	return 0;
}

static int
parse_prefix(const char *s, uint32_t *addr, unsigned int *len)
{
	char buf[32], *slash;
	double l;
	struct in_addr a;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1 ||
	    parse_double(slash + 1, 8, 30, &l) != 0 || l != floor(l))
		return -1;
	*len = (unsigned int)l;
	*addr = ntohl(a.s_addr) & ~((1u << (32 - *len)) - 1);
	return 0;
}

static int
add_rate(struct options *o, double r)
{
	if (o->nb_rates == GEN_MAX_STEPS)
		return -1;
	o->rates[o->nb_rates++] = r;
	return 0;
}

/* Parse the application's arguments (after EAL's "--"). */
static int
parse_args(int argc, char **argv, struct options *o)
{
	enum { O_SERVER = 256, O_LOCAL, O_CLIENTS, O_DST_MAC, O_RATE, O_RATES,
	       O_RSTART, O_RMAX, O_RFACTOR, O_DURATION, O_DRAIN, O_CORR,
	       O_JSON, O_NTS, O_HELP };
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, O_SERVER },
		{ "local", required_argument, NULL, O_LOCAL },
		{ "clients", required_argument, NULL, O_CLIENTS },
		{ "dst-mac", required_argument, NULL, O_DST_MAC },
		{ "rate", required_argument, NULL, O_RATE },
		{ "rates", required_argument, NULL, O_RATES },
		{ "rate-start", required_argument, NULL, O_RSTART },
		{ "rate-max", required_argument, NULL, O_RMAX },
		{ "rate-factor", required_argument, NULL, O_RFACTOR },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "drain-ms", required_argument, NULL, O_DRAIN },
		{ "correction-ns", required_argument, NULL, O_CORR },
		{ "json", no_argument, NULL, O_JSON },
		{ "nts", required_argument, NULL, O_NTS },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	double rstart = 0, rmax = 0, rfactor = 2, v;
	unsigned int i;
	bool have_server = false, have_local = false;
	struct in_addr a;
	char *list, *tok, *save;
	int opt;

	memset(o, 0, sizeof(*o));
	o->duration_s = 2;
	o->drain_ms = 200;
	parse_prefix("198.19.0.0/16", &o->clients, &o->clients_len);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case O_SERVER:
		case O_LOCAL:
			if (inet_pton(AF_INET, optarg, &a) != 1)
				return bad_arg("not an IPv4 address: '%s'",
					       optarg);
			if (opt == O_SERVER) {
				o->server = a.s_addr;
				have_server = true;
			} else {
				o->local = a.s_addr;
				have_local = true;
			}
			break;
		case O_CLIENTS:
			if (parse_prefix(optarg, &o->clients,
					 &o->clients_len) != 0)
				return bad_arg("--clients needs an IPv4 prefix with a length of 8 to 30, not '%s'",
					       optarg);
			break;
		case O_DST_MAC:
			if (rte_ether_unformat_addr(optarg, &o->dst_mac) != 0)
				return bad_arg("not a MAC address: '%s'",
					       optarg);
			o->have_dst_mac = true;
			break;
		case O_RATE:
			if (parse_double(optarg, 1, GEN_MAX_RATE, &v) != 0 ||
			    add_rate(o, v) != 0)
				return bad_arg("--rate must be 1 to 100000000 requests per second, not '%s'",
					       optarg);
			break;
		case O_RATES:
			list = strdup(optarg);
			if (list == NULL)
				return -1;
			for (tok = strtok_r(list, ",", &save); tok != NULL;
			     tok = strtok_r(NULL, ",", &save))
				if (parse_double(tok, 1, GEN_MAX_RATE, &v) != 0 ||
				    add_rate(o, v) != 0) {
					free(list);
					return bad_arg("--rates needs up to 64 comma-separated rates of 1 to 100000000, not '%s'",
						       optarg);
				}
			free(list);
			break;
		case O_RSTART:
		case O_RMAX:
			if (parse_double(optarg, 1, GEN_MAX_RATE, &v) != 0)
				return bad_arg("rates must be 1 to 100000000 requests per second, not '%s'",
					       optarg);
			*(opt == O_RSTART ? &rstart : &rmax) = v;
			break;
		case O_RFACTOR:
			if (parse_double(optarg, 1.01, 100, &rfactor) != 0)
				return bad_arg("--rate-factor must be 1.01 to 100, not '%s'",
					       optarg);
			break;
		case O_DURATION:
			if (parse_double(optarg, 0.1, 3600, &o->duration_s) != 0)
				return bad_arg("--duration must be 0.1 to 3600 seconds, not '%s'",
					       optarg);
			break;
		case O_DRAIN:
			if (parse_double(optarg, 0, 10000, &v) != 0)
				return bad_arg("--drain-ms must be 0 to 10000, not '%s'",
					       optarg);
			o->drain_ms = (unsigned int)v;
			break;
		case O_CORR:
			if (parse_double(optarg, -1e12, 1e12, &v) != 0)
				return bad_arg("--correction-ns must be a number of nanoseconds, not '%s'",
					       optarg);
			o->correction_ns = (int64_t)v;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_NTS:
			o->nts_file = optarg;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			return bad_arg("unknown or incomplete option '%s'",
				       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_arg("unexpected argument '%s'", argv[optind]);
	if (!have_server || !have_local)
		return bad_arg("%s", "--server and --local are required");
	if ((rstart != 0) != (rmax != 0) || rstart > rmax)
		return bad_arg("%s", "--rate-start and --rate-max go together, start <= max");
	for (v = rstart; rstart != 0 && v <= rmax * 1.0001; v *= rfactor)
		if (add_rate(o, RTE_MIN(v, rmax)) != 0)
			return bad_arg("%s", "more than 64 steps: raise --rate-factor");
	if (o->nb_rates == 0)
		return bad_arg("%s", "give --rate, --rates or --rate-start/--rate-max");
	for (i = 0; i < o->nb_rates; i++)
		if (o->rates[i] * o->duration_s > GEN_MAX_PER_STEP)
			return bad_arg("%s", "a step would send over 2^30 requests: shorten --duration");
	return 0;
}

/* ---- time ---- */

/* Follow the host clock as dpntpd's `refclock system` does. */
static void
clock_sample(struct gen *g)
{
	uint64_t tsc;
	int64_t real;

	if (dpn_refclock_system_sample(&g->ref, &tsc, &real))
		dpn_clock_tracker_sample(&g->tracker, tsc, real);
	g->snap.tsc = g->tracker.model;
}

static void
clock_poll(struct gen *g, uint64_t now_tsc)
{
	if (now_tsc < g->next_clock_tsc)
		return;
	g->next_clock_tsc = now_tsc + rte_get_tsc_hz() / 10;
	clock_sample(g);
	if (g->hw_ts && dpn_nic_clock_update(&g->nic, g->port_id,
					     &g->snap.tsc, &g->nic_model) != 0)
		g->hw_ts = false;
}

static int64_t
tsc_ns(const struct gen *g, uint64_t tsc)
{
	return dpn_clock_model_ns(&g->snap.tsc, tsc);
}

/* ---- the port ---- */

static int
port_init(struct gen *g)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	int ret;

	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "dpntp-gen: no DPDK port: give one with --vdev or bind a NIC\n");
		return -1;
	}
	g->port_id = 0;
	g->pool = rte_pktmbuf_pool_create("gen_pool", GEN_NB_MBUFS, 256, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE,
					  rte_eth_dev_socket_id(g->port_id));
	if (g->pool == NULL) {
		fprintf(stderr, "dpntp-gen: cannot create the mbuf pool: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	ret = rte_eth_dev_info_get(g->port_id, &info);
	if (ret != 0)
		return ret;
	memset(&conf, 0, sizeof(conf));
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
		g->hw_ts = rte_mbuf_dyn_rx_timestamp_register(&g->ts_off,
							      &g->ts_flag) == 0;
	}
	ret = rte_eth_dev_configure(g->port_id, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(g->port_id, 0, GEN_NB_DESC,
			rte_eth_dev_socket_id(g->port_id), NULL, g->pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(g->port_id, 0, GEN_NB_DESC,
			rte_eth_dev_socket_id(g->port_id), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(g->port_id);
	if (ret == 0)
		ret = rte_eth_macaddr_get(g->port_id, &g->mac);
	if (ret != 0)
		fprintf(stderr, "dpntp-gen: cannot start port %u: %s\n",
			g->port_id, rte_strerror(-ret));
	return ret;
}

static bool
is_client(const struct gen *g, uint32_t addr_be)
{
	return (ntohl(addr_be) >> (32 - g->o.clients_len)) ==
		(g->o.clients >> (32 - g->o.clients_len));
}

/* Answer ARP for --local and every client; learn the server's MAC. */
static void
handle_arp(struct gen *g, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	uint32_t tip;

	if (m->data_len < sizeof(*eth) + sizeof(*arp) ||
	    arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		rte_pktmbuf_free(m);
		return;
	}
	if (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY) &&
	    arp->arp_data.arp_sip == g->o.server && !g->o.have_dst_mac) {
		g->o.dst_mac = arp->arp_data.arp_sha;
		g->o.have_dst_mac = true;
	}
	tip = arp->arp_data.arp_tip;
	if (arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    (tip != g->o.local && !is_client(g, tip))) {
		rte_pktmbuf_free(m);
		return;
	}
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	arp->arp_data.arp_sha = g->mac;
	arp->arp_data.arp_sip = tip;
	eth->dst_addr = eth->src_addr;
	eth->src_addr = g->mac;
	if (rte_eth_tx_burst(g->port_id, 0, &m, 1) != 1)
		rte_pktmbuf_free(m);
}

static int
send_arp_request(struct gen *g)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (m == NULL)
		return -1;
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	arp = (struct rte_arp_hdr *)(eth + 1);
	memset(eth, 0xff, sizeof(eth->dst_addr));
	eth->src_addr = g->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = g->mac;
	arp->arp_data.arp_sip = g->o.local;
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = g->o.server;
	m->data_len = m->pkt_len = sizeof(*eth) + sizeof(*arp);
	if (rte_eth_tx_burst(g->port_id, 0, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		return -1;
	}
	return 0;
}

/* ---- requests ---- */

/* Request @p seq comes from this client address and port. */
static void
seq_to_client(const struct gen *g, uint64_t seq, uint32_t *addr_be,
	      uint16_t *port_be)
{
	uint32_t host = (uint32_t)(seq % g->nb_clients) + 1;

	*addr_be = htonl(g->o.clients | host);
	*port_be = htons((uint16_t)(GEN_SRC_PORT_BASE +
		(seq / g->nb_clients) % GEN_SRC_PORTS));
}

/* The request number a reply answers, modulo the numbering's period. */
static bool
client_to_seq(const struct gen *g, uint32_t addr_be, uint16_t port_be,
	      uint64_t *seq)
{
	uint32_t host = ntohl(addr_be) & ((1u << (32 - g->o.clients_len)) - 1);
	uint16_t port = ntohs(port_be);
	uint64_t period = (uint64_t)g->nb_clients * GEN_SRC_PORTS;
	uint64_t s, base;

	if (!is_client(g, addr_be) || host == 0 || host > g->nb_clients ||
	    port < GEN_SRC_PORT_BASE)
		return false;
	s = (uint64_t)(port - GEN_SRC_PORT_BASE) * g->nb_clients + host - 1;
	/* The latest request with that residue that was already sent. */
	base = g->seq - g->seq % period;
	s += base;
	if (s >= g->seq) {
		if (s < period)
			return false;
		s -= period;
	}
	*seq = s;
	return true;
}

static int
hex_in(const char *s, uint8_t *out, unsigned int max)
{
	unsigned int n = 0, v;

	while (s[0] != '\0' && s[0] != '\n' && s[0] != ' ' && n < max) {
		if (sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return (int)n;
}

/* --nts FILE: "C2S S2C" in hex, then a cookie in hex per line. */
static int
nts_load(struct gen *g)
{
	char line[2 * GEN_NTS_COOKIE_MAX + 8];
	struct gen_nts *n = calloc(1, sizeof(*n));
	FILE *f = fopen(g->o.nts_file, "r");
	int len;

	if (n == NULL || f == NULL) {
		fprintf(stderr, "dpntp-gen: %s: cannot read\n", g->o.nts_file);
		goto fail;
	}
	if (fgets(line, sizeof(line), f) == NULL ||
	    hex_in(line, n->c2s, 32) != 32 || strlen(line) < 130 ||
	    hex_in(line + 65, n->s2c, 32) != 32)
		goto bad;
	while (n->nb_cookies < GEN_NTS_COOKIES &&
	       fgets(line, sizeof(line), f) != NULL) {
		len = hex_in(line, n->cookie[n->nb_cookies],
			     GEN_NTS_COOKIE_MAX);
		if (len <= 0 || len % 4 != 0 ||
		    (n->nb_cookies != 0 && (unsigned int)len != n->cookie_len))
			goto bad;
		n->cookie_len = (unsigned int)len;
		n->nb_cookies++;
	}
	if (n->nb_cookies == 0)
		goto bad;
	fclose(f);
	siv_cmac_aes128_set_key(&n->c2s_ctx, n->c2s);
	g->nts = n;
	g->udp_len = (unsigned int)GEN_NTP_LEN + 4 + NTSC_UID_LEN + 4 +
		n->cookie_len + 8 + 16 + 16;
	return 0;
bad:
	fprintf(stderr, "dpntp-gen: %s: not keys and cookies as dpntp-kebench --dump writes them\n",
		g->o.nts_file);
fail:
	if (f != NULL)
		fclose(f);
	free(n);
	return -1;
}

/* A request's unique identifier and nonce: its number, then padding. */
static void
nts_uid_of(uint64_t seq, uint8_t *uid)
{
	memset(uid, 0x5a, NTSC_UID_LEN);
	memcpy(uid, &seq, sizeof(seq));
}

static void
build_request(struct gen *g, struct rte_mbuf *m, uint64_t seq, uint64_t t1)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	struct dpn_ntp_hdr *ntp = (struct dpn_ntp_hdr *)(udp + 1);
	uint32_t src;
	uint16_t sport;

	eth->dst_addr = g->o.dst_mac;
	eth->src_addr = g->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + g->udp_len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->dst_addr = g->o.server;
	seq_to_client(g, seq, &src, &sport);
	ip->src_addr = src;
	udp->src_port = sport;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->dst_port = rte_cpu_to_be_16(DPN_NTP_PORT);
	udp->dgram_len = rte_cpu_to_be_16(g->udp_len);
	udp->dgram_cksum = 0;
	memset(ntp, 0, sizeof(*ntp));
	ntp->li_vn_mode = dpn_ntp_li_vn_mode(DPN_NTP_LEAP_ALARM, 4,
					     DPN_NTP_MODE_CLIENT);
	ntp->poll = 6;
	ntp->precision = -20;
	ntp->xmt_ts = rte_cpu_to_be_64(t1);
	if (g->nts != NULL) {
		uint8_t uid[NTSC_UID_LEN], nonce[16];
		struct gen_nts *n = g->nts;

		nts_uid_of(seq, uid);
		memcpy(nonce, uid, sizeof(nonce));
		nonce[15] ^= 0xa5;
		ntsc_request((uint8_t *)ntp, uid,
			     n->cookie[seq % n->nb_cookies], n->cookie_len, 0,
			     nonce, sizeof(nonce), n->c2s);
	}
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	m->data_len = m->pkt_len = sizeof(*eth) + sizeof(*ip) + g->udp_len;
}

/* Send what the rate says is due by @p now; at most a burst. */
static void
send_due(struct gen *g, struct step *s, uint64_t start, uint64_t now)
{
	struct rte_mbuf *m[GEN_BURST];
	uint64_t due = (uint64_t)((double)(now - start) * s->rate /
				  (double)rte_get_tsc_hz());
	uint64_t t1;
	unsigned int n, i, sent;

	if (due <= s->sent + s->tx_full)
		return;
	n = (unsigned int)RTE_MIN(due - s->sent - s->tx_full,
				  (uint64_t)GEN_BURST);
	if (rte_pktmbuf_alloc_bulk(g->pool, m, n) != 0)
		return;
	/* One T1 per burst, made unique per request in its last bits. */
	t1 = dpn_ntp_ts_from_unix_ns(tsc_ns(g, rte_rdtsc()));
	for (i = 0; i < n; i++)
		build_request(g, m[i], g->seq + i, t1 + i);
	sent = rte_eth_tx_burst(g->port_id, 0, m, n);
	if (sent < n) {
		/* Not on the wire: they are skipped, not lost. */
		rte_pktmbuf_free_bulk(m + sent, n - sent);
		s->tx_full += n - sent;
	}
	s->sent += sent;
	g->seq += n;
}

/* ---- replies ---- */

static struct step *
step_of(struct gen *g, uint64_t seq)
{
	int i;

	for (i = (int)g->o.nb_rates - 1; i >= 0; i--)
		if (g->steps[i].seen != NULL && seq >= g->steps[i].first_seq)
			return &g->steps[i];
	return NULL;
}

static void
handle_reply(struct gen *g, struct rte_mbuf *m, int64_t t4)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	const struct dpn_ntp_hdr *ntp = (const struct dpn_ntp_hdr *)(udp + 1);
	int64_t t1, t2, t3;
	uint64_t seq, idx;
	struct step *s;

	if (m->data_len < sizeof(*eth) + sizeof(*ip) + GEN_NTP_LEN ||
	    ip->version_ihl != RTE_IPV4_VHL_DEF ||
	    ip->next_proto_id != IPPROTO_UDP || ip->src_addr != g->o.server ||
	    udp->src_port != rte_cpu_to_be_16(DPN_NTP_PORT) ||
	    !client_to_seq(g, ip->dst_addr, udp->dst_port, &seq)) {
		g->foreign++;
		return;
	}
	s = step_of(g, seq);
	if (s == NULL || s != g->cur) {
		/* For a step that ended, drain included: late, not counted. */
		g->stale++;
		return;
	}
	idx = seq - s->first_seq;
	if (s->seen[idx / 8] & (1u << (idx % 8))) {
		s->duplicate++;
		return;
	}
	s->seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
	s->received++;
	if (rte_raw_cksum(ip, sizeof(*ip)) != 0xffff)
		goto invalid;
	if (udp->dgram_cksum != 0 &&
	    rte_ipv4_udptcp_cksum_verify(ip, udp) != 0)
		goto invalid;
	if (dpn_ntp_mode_of(ntp) != DPN_NTP_MODE_SERVER)
		goto invalid;
	if (ntp->stratum == 0) {
		s->kod++;	/* NTS: an NTSN NAK counts here too */
		return;
	}
	if (g->nts != NULL) {
		uint8_t uid[NTSC_UID_LEN], inner[1024];

		nts_uid_of(seq, uid);
		if (rte_be_to_cpu_16(udp->dgram_len) != g->udp_len ||
		    m->data_len < sizeof(*eth) + sizeof(*ip) + g->udp_len ||
		    memcmp((const uint8_t *)ntp + 52, uid, sizeof(uid)) != 0)
			goto invalid;
		if (seq % GEN_NTS_OPEN_EVERY == 0) {
			if (ntsc_open_reply((const uint8_t *)ntp,
					    g->udp_len - sizeof(*udp), uid,
					    g->nts->s2c, inner,
					    sizeof(inner)) < 0) {
				g->nts->open_failed++;
				goto invalid;
			}
			g->nts->opened++;
		}
	}
	if (dpn_ntp_leap_of(ntp) == DPN_NTP_LEAP_ALARM ||
	    ntp->stratum >= DPN_NTP_STRATUM_UNSYNC)
		goto invalid;
	t1 = dpn_ntp_ts_to_unix_ns(rte_be_to_cpu_64(ntp->orig_ts), t4);
	t2 = dpn_ntp_ts_to_unix_ns(rte_be_to_cpu_64(ntp->recv_ts), t4);
	t3 = dpn_ntp_ts_to_unix_ns(rte_be_to_cpu_64(ntp->xmt_ts), t4);
	/* The origin must be a time we sent at, not in the future. */
	if (ntp->orig_ts == 0 || t1 > t4 || t4 - t1 > 10 * (int64_t)DPN_NSEC_PER_SEC ||
	    ntp->recv_ts == 0 || ntp->xmt_ts == 0 || t3 < t2)
		goto invalid;
	hist_add(&s->response, t3 - t2);
	hist_add(&s->rtt, t4 - t1);
	moments_add(&s->offset, t3 - (t4 - g->o.correction_ns));
	return;
invalid:
	s->invalid++;
}

static void
poll_rx(struct gen *g)
{
	struct rte_mbuf *m[GEN_BURST];
	uint64_t tsc = rte_rdtsc();
	unsigned int n, i;
	int64_t burst_ns;

	n = rte_eth_rx_burst(g->port_id, 0, m, GEN_BURST);
	if (n == 0)
		return;
	burst_ns = tsc_ns(g, tsc);
	for (i = 0; i < n; i++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m[i],
			struct rte_ether_hdr *);
		int64_t t4 = burst_ns;

		if (m[i]->data_len < sizeof(*eth)) {
			rte_pktmbuf_free(m[i]);
			continue;
		}
		if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
			handle_arp(g, m[i]);	/* consumes it */
			continue;
		}
		if (g->hw_ts && (m[i]->ol_flags & g->ts_flag) &&
		    g->nic_model.mult != 0)
			t4 = dpn_clock_model_ns(&g->nic_model,
				*RTE_MBUF_DYNFIELD(m[i], g->ts_off, uint64_t *));
		if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
			handle_reply(g, m[i], t4);
		else
			g->foreign++;
		rte_pktmbuf_free(m[i]);
	}
}

/* Poll for @p ns, answering ARP and counting replies. */
static void
poll_for(struct gen *g, uint64_t ns)
{
	uint64_t end = rte_rdtsc() + ns * rte_get_tsc_hz() / DPN_NSEC_PER_SEC;
	uint64_t now;

	while (!quit && (now = rte_rdtsc()) < end) {
		clock_poll(g, now);
		poll_rx(g);
	}
}

static int
resolve_server(struct gen *g)
{
	int i;

	for (i = 0; i < GEN_ARP_TRIES && !g->o.have_dst_mac && !quit; i++) {
		send_arp_request(g);
		poll_for(g, 100000000);
	}
	if (!g->o.have_dst_mac) {
		fprintf(stderr, "dpntp-gen: no ARP reply from the server in %d s; give --dst-mac\n",
			GEN_ARP_TRIES / 10);
		return -1;
	}
	return 0;
}

static int
run_step(struct gen *g, struct step *s)
{
	uint64_t hz = rte_get_tsc_hz(), start, end, now;
	uint64_t max = (uint64_t)(s->rate * g->o.duration_s) + GEN_BURST;

	s->seen = calloc(max / 8 + 1, 1);
	if (s->seen == NULL) {
		fprintf(stderr, "dpntp-gen: out of memory for %" PRIu64 " requests\n",
			max);
		return -1;
	}
	s->first_seq = g->seq;
	g->cur = s;
	start = rte_rdtsc();
	end = start + (uint64_t)(g->o.duration_s * (double)hz);
	while (!quit && (now = rte_rdtsc()) < end) {
		clock_poll(g, now);
		if (s->sent + s->tx_full + GEN_BURST < max)
			send_due(g, s, start, now);
		poll_rx(g);
	}
	poll_for(g, (uint64_t)g->o.drain_ms * 1000000);
	g->cur = NULL;
	return 0;
}

/* ---- output ---- */

static double
pct_of(uint64_t part, uint64_t whole)
{
	return whole == 0 ? 0.0 : 100.0 * (double)part / (double)whole;
}

static void
json_hist(const char *name, const struct hist *h)
{
	if (h->n == 0) {
		printf("\"%s\": {\"p50\": null, \"p90\": null, \"p99\": null, \"p999\": null, \"max\": null}",
		       name);
		return;
	}
	printf("\"%s\": {\"p50\": %" PRId64 ", \"p90\": %" PRId64 ", \"p99\": %" PRId64 ", \"p999\": %" PRId64 ", \"max\": %" PRId64 "}",
	       name, hist_pct(h, 50), hist_pct(h, 90), hist_pct(h, 99),
	       hist_pct(h, 99.9), h->max);
}

static void
print_json(const struct gen *g)
{
	char server[INET_ADDRSTRLEN];
	unsigned int i;

	inet_ntop(AF_INET, &g->o.server, server, sizeof(server));
	printf("{\"server\": \"%s\", \"hw_timestamps\": %s, \"clients\": %u, \"stale\": %" PRIu64 ", \"foreign\": %" PRIu64 ", ",
	       server, g->hw_ts ? "true" : "false", g->nb_clients, g->stale,
	       g->foreign);
	if (g->nts != NULL)
		printf("\"nts\": {\"request_bytes\": %u, \"opened\": %" PRIu64 ", \"open_failed\": %" PRIu64 "}, ",
		       g->udp_len - (unsigned int)sizeof(struct rte_udp_hdr),
		       g->nts->opened, g->nts->open_failed);
	printf("\"steps\": [");
	for (i = 0; i < g->o.nb_rates; i++) {
		const struct step *s = &g->steps[i];
		const struct moments *o = &s->offset;

		if (s->seen == NULL)
			break;
		printf("%s{\"rate\": %.0f, \"duration_s\": %.3f, \"sent\": %" PRIu64 ", \"tx_full\": %" PRIu64 ", \"received\": %" PRIu64 ", \"duplicate\": %" PRIu64 ", \"lost_pct\": %.4f, \"invalid_pct\": %.4f, \"kod_pct\": %.4f, ",
		       i ? ", " : "", s->rate, g->o.duration_s, s->sent,
		       s->tx_full, s->received, s->duplicate,
		       pct_of(s->sent - RTE_MIN(s->received, s->sent), s->sent),
		       pct_of(s->invalid, s->sent), pct_of(s->kod, s->sent));
		json_hist("response_ns", &s->response);
		printf(", ");
		json_hist("rtt_ns", &s->rtt);
		if (o->n == 0)
			printf(", \"offset_ns\": {\"min\": null, \"mean\": null, \"max\": null, \"stddev\": null}}");
		else
			printf(", \"offset_ns\": {\"min\": %" PRId64 ", \"mean\": %.0f, \"max\": %" PRId64 ", \"stddev\": %.0f}}",
			       o->min, o->mean, o->max,
			       o->n > 1 ? sqrt(o->m2 / (double)(o->n - 1)) : 0.0);
	}
	printf("]}\n");
}

static void
print_row(const struct gen *g, const struct step *s)
{
	const struct moments *o = &s->offset;

	RTE_SET_USED(g);
	printf("%10.0f %10" PRIu64 " %10" PRIu64 " %7.3f %7.3f %7.3f %9.1f %9.1f %9.1f %9.1f %10.1f %9.1f\n",
	       s->rate, s->sent, s->received,
	       pct_of(s->sent - RTE_MIN(s->received, s->sent), s->sent),
	       pct_of(s->invalid, s->sent), pct_of(s->kod, s->sent),
	       s->response.n ? hist_pct(&s->response, 50) / 1e3 : NAN,
	       s->response.n ? hist_pct(&s->response, 99) / 1e3 : NAN,
	       s->rtt.n ? hist_pct(&s->rtt, 50) / 1e3 : NAN,
	       s->rtt.n ? hist_pct(&s->rtt, 99) / 1e3 : NAN,
	       o->n ? o->mean / 1e3 : NAN,
	       o->n > 1 ? sqrt(o->m2 / (double)(o->n - 1)) / 1e3 : NAN);
	fflush(stdout);
}

/* Split argv at the first "--": EAL before, ours after. */
static int
app_args_at(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return argc;
}

int
main(int argc, char **argv)
{
	struct dpn_conf_refclock_system rc = { .enabled = true, .stratum = 1 };
	static struct gen g;
	int split = app_args_at(argc, argv), ret;
	unsigned int i;

	/* Arguments are checked before DPDK starts, so mistakes are cheap. */
	if (parse_args(argc - split, argv + split, &g.o) != 0)
		return 2;
	g.nb_clients = (1u << (32 - g.o.clients_len)) - 2;
	g.udp_len = GEN_NTP_LEN;
	if (g.o.nts_file != NULL && nts_load(&g) != 0)
		return 2;
	ret = rte_eal_init(split, argv);
	if (ret < 0) {
		fprintf(stderr, "dpntp-gen: cannot initialise DPDK: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	g.steps = calloc(g.o.nb_rates, sizeof(*g.steps));
	if (g.steps == NULL || port_init(&g) != 0)
		goto fail;
	dpn_refclock_system_init(&g.ref, &rc);
	dpn_clock_tracker_init(&g.tracker, rte_get_tsc_hz());
	dpn_clock_tracker_sample(&g.tracker, g.ref.seed_tsc, g.ref.seed_ns);
	clock_sample(&g);
	clock_poll(&g, rte_rdtsc());
	if (resolve_server(&g) != 0)
		goto fail;
	if (!g.o.json)
		printf("# %u clients, RX timestamps %s\n"
		       "%10s %10s %10s %7s %7s %7s %9s %9s %9s %9s %10s %9s\n",
		       g.nb_clients, g.hw_ts ? "by NIC" : "from TSC",
		       "rate", "sent", "received", "lost%", "inval%", "kod%",
		       "resp50us", "resp99us", "rtt50us", "rtt99us",
		       "offset_us", "stddev");
	for (i = 0; i < g.o.nb_rates && !quit; i++) {
		g.steps[i].rate = g.o.rates[i];
		if (run_step(&g, &g.steps[i]) != 0)
			goto fail;
		if (!g.o.json)
			print_row(&g, &g.steps[i]);
	}
	if (g.o.json)
		print_json(&g);
	if (g.nts != NULL && !g.o.json)
		printf("# NTS: %u-byte requests; replies opened with S2C %" PRIu64 ", failed %" PRIu64 "\n",
		       g.udp_len - (unsigned int)sizeof(struct rte_udp_hdr),
		       g.nts->opened, g.nts->open_failed);
	for (i = 0; i < g.o.nb_rates; i++)
		free(g.steps[i].seen);
	free(g.steps);
	free(g.nts);
	rte_eth_dev_stop(g.port_id);
	rte_eth_dev_close(g.port_id);
	rte_eal_cleanup();
	return quit ? 1 : 0;
fail:
	rte_eal_cleanup();
	return 1;
}
