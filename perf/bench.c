/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpntp-bench: the pipeline benchmark. Runs the workers' per-packet code
 * (dpn_worker_handle_burst + dpn_worker_stamp_tx, the very functions the
 * worker loop calls) on one core over bursts of mbufs from a real
 * mempool, without I/O, and reports ns/request and Mpps.
 *
 *   dpntp-bench --no-huge -m 256 -l 0 -- [--json] [--runs N] [--packets N]
 */

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

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

#define MAX_BURST 64
#define MAX_RUNS 31

struct bench_case {
	const char *name;
	bool v6;
	unsigned int burst;
};

static const struct bench_case cases[] = {
	{ "basic-ipv4", false, 8 },
	{ "basic-ipv4", false, 32 },
	{ "basic-ipv4", false, 64 },
	{ "basic-ipv6", true, 8 },
	{ "basic-ipv6", true, 32 },
	{ "basic-ipv6", true, 64 },
};

static struct dpn_port port;
static struct dpn_worker *worker;
static struct dpn_clock clock_pub;

/* A valid client request, as a NIC would hand it over. */
static unsigned int
make_request(uint8_t *buf, bool v6, unsigned int client)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct rte_udp_hdr *udp;
	struct dpn_ntp_hdr *ntp;
	unsigned int l3;

	memset(buf, 0, 128);
	eth->ether_type = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6 :
					   RTE_ETHER_TYPE_IPV4);
	eth->src_addr.addr_bytes[5] = 2;
	eth->dst_addr = port.mac;
	if (v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(56);
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
		ip->total_length = rte_cpu_to_be_16(76);
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
	udp->dgram_len = rte_cpu_to_be_16(56);
	ntp = (struct dpn_ntp_hdr *)(udp + 1);
	ntp->li_vn_mode = dpn_ntp_li_vn_mode(0, 4, DPN_NTP_MODE_CLIENT);
	ntp->poll = 6;
	ntp->xmt_ts = __builtin_bswap64(0xeabc123400000000ULL + client);
	if (v6)
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(
			(struct rte_ipv6_hdr *)(eth + 1), udp);
	else
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(
			(struct rte_ipv4_hdr *)(eth + 1), udp);
	return sizeof(*eth) + l3 + 56;
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
	if (port.pool == NULL || worker == NULL)
		return -1;
	worker->nb_rxq = 1;
	worker->rxq[0].port = &port;
	worker->rxq[0].to_mgmt = rte_ring_create("bench_up", 1024,
		rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	worker->rxq[0].from_mgmt = rte_ring_create("bench_down", 1024,
		rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	worker->ts_dynfield_offset = -1;
	worker->clock = &clock_pub;

	dpn_clock_init(&clock_pub);
	memset(&snap, 0, sizeof(snap));
	dpn_clock_model_set(&snap.tsc, rte_rdtsc(), 1795000000000000000LL,
			    1e9 / (double)rte_get_tsc_hz());
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

/* One run: ns per request over @p nb_packets, timing only the worker code. */
static double
run_once(const struct bench_case *c, struct rte_mbuf **m,
	 uint8_t (*tmpl)[128], unsigned int len, unsigned int nb_packets)
{
	struct rte_mbuf *burst[MAX_BURST];
	struct dpn_clock_snapshot snap;
	uint64_t cycles = 0, done = 0;
	unsigned int i, k = 0;

	while (done < nb_packets) {
		uint64_t t0;
		uint16_t nb;

		/* Restore the requests (not timed), as fresh RX would. */
		for (i = 0; i < c->burst; i++) {
			struct rte_mbuf *x = m[i];

			memcpy(rte_pktmbuf_mtod(x, void *), tmpl[k], len);
			k = (k + 1) & 255;
			x->data_len = x->pkt_len = len;
			x->ol_flags = 0;
			burst[i] = x;
		}
		t0 = rte_rdtsc_precise();
		dpn_clock_read(&clock_pub, &snap);
		nb = dpn_worker_handle_burst(worker, &worker->rxq[0], burst,
					     c->burst, t0, &snap);
		dpn_worker_stamp_tx(worker, &worker->rxq[0], burst, nb, &snap);
		cycles += rte_rdtsc_precise() - t0;
		if (nb != c->burst) {
			fprintf(stderr, "bench: only %u of %u requests answered\n",
				nb, c->burst);
			exit(1);
		}
		done += c->burst;
	}
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
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t tmpl[256][128];
	struct rte_mbuf *m[MAX_BURST];
	unsigned int runs = 5, nb_packets = 2000000, ci, r, len = 0, i;
	bool json = false;
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
		default:
			fprintf(stderr, "usage: dpntp-bench [EAL] -- [--json] [--runs N] [--packets N]\n");
			return 1;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || nb_packets < MAX_BURST) {
		fprintf(stderr, "dpntp-bench: --runs must be 1..%d and --packets at least %d\n",
			MAX_RUNS, MAX_BURST);
		return 1;
	}
	if (setup() != 0 ||
	    rte_pktmbuf_alloc_bulk(port.pool, m, MAX_BURST) != 0) {
		fprintf(stderr, "dpntp-bench: out of memory\n");
		return 1;
	}

	if (json)
		printf("{\"tsc_hz\": %" PRIu64 ", \"runs\": %u, \"packets\": %u, \"results\": [",
		       rte_get_tsc_hz(), runs, nb_packets);
	else
		printf("%-14s %6s %12s %10s\n", "case", "burst", "ns/request",
		       "Mpps");
	for (ci = 0; ci < RTE_DIM(cases); ci++) {
		const struct bench_case *c = &cases[ci];
		double ns[MAX_RUNS], med;

		for (i = 0; i < 256; i++)
			len = make_request(tmpl[i], c->v6, i);
		run_once(c, m, tmpl, len, nb_packets / 10);	/* warm up */
		for (r = 0; r < runs; r++)
			ns[r] = run_once(c, m, tmpl, len, nb_packets);
		qsort(ns, runs, sizeof(ns[0]), cmp_double);
		med = ns[runs / 2];
		if (json)
			printf("%s{\"case\": \"%s\", \"burst\": %u, \"ns_per_request\": %.2f, \"mpps\": %.2f, \"min_ns\": %.2f, \"max_ns\": %.2f}",
			       ci ? ", " : "", c->name, c->burst, med,
			       1e3 / med, ns[0], ns[runs - 1]);
		else
			printf("%-14s %6u %12.1f %10.2f\n", c->name, c->burst,
			       med, 1e3 / med);
	}
	if (json)
		printf("]}\n");
	rte_pktmbuf_free_bulk(m, MAX_BURST);
	rte_eal_cleanup();
	return 0;
}
