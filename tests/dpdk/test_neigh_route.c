/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Routes and neighbour resolution as the NTP client sees them
 * (lib/dataplane/neigh.c): which listen line, source and next hop a
 * destination gets; the ARP requests and neighbour solicitations
 * dpn_dp_neigh_resolve() hands to worker 0's ring, byte by byte (VLAN tag,
 * solicited-node address, checksum); what an answer changes; and how
 * dpn_mgmt_tx() fails.
 *
 * Needs EAL (mbuf pool, rings); runs without huge pages or devices: the
 * data plane is put together by hand, no port is started.
 */

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cmocka.h>

#include "dpn_dataplane.h"

static struct dpn_dataplane dp;
static struct rte_mempool *pool;

static const struct rte_ether_addr port_mac[2] = {
	{ { 0x02, 0, 0, 0, 0, 0xa0 } }, { { 0x02, 0, 0, 0, 0, 0xa1 } },
};
static const struct rte_ether_addr peer_mac = { { 0x02, 0, 0, 0, 0, 0xbb } };

static void
add_v4(unsigned int pi, const char *addr, unsigned int len, uint16_t vlan,
       const char *gw)
{
	struct dpn_addrs *a = &dp.ports[pi].addrs;
	unsigned int i = a->nb_v4++;

	assert_int_equal(inet_pton(AF_INET, addr, &a->v4[i]), 1);
	a->v4_prefix[i] = len;
	a->v4_vlan[i] = vlan;
	a->v4_bcast[i] = len >= 31 ? UINT32_MAX :
		(a->v4[i] | rte_cpu_to_be_32(UINT32_MAX >> len));
	if (gw != NULL)
		assert_int_equal(inet_pton(AF_INET, gw, &a->v4_gw[i]), 1);
}

static void
add_v6(unsigned int pi, const char *addr, unsigned int len, uint16_t vlan,
       const char *gw)
{
	struct dpn_addrs *a = &dp.ports[pi].addrs;
	unsigned int i = a->nb_v6++;

	assert_int_equal(inet_pton(AF_INET6, addr, a->v6[i]), 1);
	a->v6_prefix[i] = len;
	a->v6_vlan[i] = vlan;
	if (gw != NULL)
		assert_int_equal(inet_pton(AF_INET6, gw, a->v6_gw[i]), 1);
}

/*
 * Port 0: 198.18.0.1/24, 198.18.5.1/24 on VLAN 5 with gateway
 * 198.18.5.254, 2001:db8::1/64 with gateway fe80::1.
 * Port 1: 198.18.0.129/25 (longer than port 0's /24), 198.18.9.1/24
 * with gateway 198.18.9.254 (a second gateway: not used).
 */
static int
setup(void **state)
{
	unsigned int pi;

	(void)state;
	memset(&dp, 0, sizeof(dp));
	dp.nb_ports = 2;
	dp.nb_workers = 1;
	dp.workers[0] = rte_zmalloc("w", sizeof(struct dpn_worker),
				    RTE_CACHE_LINE_SIZE);
	if (dp.workers[0] == NULL)
		return -1;
	for (pi = 0; pi < 2; pi++) {
		char name[32];

		dp.ports[pi].port_id = pi;
		dp.ports[pi].pool = pool;
		dp.ports[pi].mac = port_mac[pi];
		snprintf(name, sizeof(name), "down_%u", pi);
		/* Small: a full ring is one of the cases. */
		dp.workers[0]->rxq[pi].from_mgmt = rte_ring_create(name, 4,
			SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (dp.workers[0]->rxq[pi].from_mgmt == NULL)
			return -1;
	}
	dp.workers[0]->nb_rxq = 2;
	add_v4(0, "198.18.0.1", 24, 0, NULL);
	add_v4(0, "198.18.5.1", 24, 5, "198.18.5.254");
	add_v6(0, "2001:db8::1", 64, 0, "fe80::1");
	add_v4(1, "198.18.0.129", 25, 0, NULL);
	add_v4(1, "198.18.9.1", 24, 0, "198.18.9.254");
	return dpn_dp_neigh_init(&dp);
}

static int
teardown(void **state)
{
	unsigned int pi;
	struct rte_mbuf *m;

	(void)state;
	for (pi = 0; pi < 2; pi++) {
		struct rte_ring *r = dp.workers[0]->rxq[pi].from_mgmt;

		while (rte_ring_dequeue(r, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(r);
	}
	rte_free(dp.workers[0]);
	dpn_dp_neigh_fini(&dp);
	return 0;
}

static int
lookup(int family, const char *dst, struct dpn_route *r)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(family, dst, a), 1);
	return dpn_route_lookup(&dp, family, a, r);
}

static void
assert_addr(int family, const void *got, const char *want)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family, got, text, sizeof(text));
	assert_string_equal(text, want);
}

static void
test_route_on_link(void **state)
{
	struct dpn_route r;

	(void)state;
	assert_int_equal(lookup(AF_INET, "198.18.0.7", &r), 0);
	assert_int_equal(r.port_index, 0);
	assert_int_equal(r.vlan, 0);
	assert_true(r.on_link);
	assert_addr(AF_INET, &r.src, "198.18.0.1");
	assert_addr(AF_INET, &r.nexthop, "198.18.0.7");
	assert_addr(AF_INET, &r.dst, "198.18.0.7");
	/* The longest prefix wins, whatever the port. */
	assert_int_equal(lookup(AF_INET, "198.18.0.200", &r), 0);
	assert_int_equal(r.port_index, 1);
	assert_addr(AF_INET, &r.src, "198.18.0.129");
	/* On a VLAN line: its VLAN. */
	assert_int_equal(lookup(AF_INET, "198.18.5.9", &r), 0);
	assert_int_equal(r.vlan, 5);
	assert_true(r.on_link);
	assert_addr(AF_INET, &r.src, "198.18.5.1");
	assert_int_equal(lookup(AF_INET6, "2001:db8::99", &r), 0);
	assert_true(r.on_link);
	assert_addr(AF_INET6, &r.src, "2001:db8::1");
	assert_addr(AF_INET6, &r.nexthop, "2001:db8::99");
	/* Link-local: the first IPv6 line's link. */
	assert_int_equal(lookup(AF_INET6, "fe80::42", &r), 0);
	assert_true(r.on_link);
	assert_int_equal(r.port_index, 0);
	assert_addr(AF_INET6, &r.nexthop, "fe80::42");
}

static void
test_route_gateway(void **state)
{
	struct dpn_route r;

	(void)state;
	/* The first line with a gateway: port 0's VLAN 5 line. */
	assert_int_equal(lookup(AF_INET, "198.19.1.1", &r), 0);
	assert_false(r.on_link);
	assert_int_equal(r.port_index, 0);
	assert_int_equal(r.vlan, 5);
	assert_addr(AF_INET, &r.src, "198.18.5.1");
	assert_addr(AF_INET, &r.nexthop, "198.18.5.254");
	assert_addr(AF_INET, &r.dst, "198.19.1.1");
	assert_int_equal(lookup(AF_INET6, "2001:db8:1::5", &r), 0);
	assert_false(r.on_link);
	assert_addr(AF_INET6, &r.src, "2001:db8::1");
	assert_addr(AF_INET6, &r.nexthop, "fe80::1");
}

static void
test_route_refused(void **state)
{
	struct dpn_route r;
	uint8_t a[16] = { 0 };

	(void)state;
	/* Ours, a served subnet's broadcast, not unicast. */
	assert_int_equal(lookup(AF_INET, "198.18.0.1", &r), -EINVAL);
	assert_int_equal(lookup(AF_INET, "198.18.0.255", &r), -EINVAL);
	assert_int_equal(lookup(AF_INET, "224.0.0.1", &r), -EINVAL);
	assert_int_equal(lookup(AF_INET, "255.255.255.255", &r), -EINVAL);
	assert_int_equal(lookup(AF_INET, "127.0.0.1", &r), -EINVAL);
	assert_int_equal(lookup(AF_INET6, "2001:db8::1", &r), -EINVAL);
	assert_int_equal(lookup(AF_INET6, "ff02::1", &r), -EINVAL);
	assert_int_equal(dpn_route_lookup(&dp, AF_INET6, a, &r), -EINVAL);
	assert_int_equal(dpn_route_lookup(&dp, AF_UNIX, a, &r),
			 -EAFNOSUPPORT);
	/* No gateway at all: unreachable. */
	memset(dp.ports[0].addrs.v4_gw, 0, sizeof(dp.ports[0].addrs.v4_gw));
	memset(dp.ports[1].addrs.v4_gw, 0, sizeof(dp.ports[1].addrs.v4_gw));
	assert_int_equal(lookup(AF_INET, "198.19.1.1", &r), -ENETUNREACH);
}

static struct rte_mbuf *
sent(unsigned int pi)
{
	struct rte_mbuf *m = NULL;

	if (rte_ring_dequeue(dp.workers[0]->rxq[pi].from_mgmt,
			     (void **)&m) != 0)
		return NULL;
	return m;
}

/* A tagged broadcast ARP request for the gateway, one per second. */
static void
test_resolve_arp_vlan(void **state)
{
	struct rte_ether_addr mac;
	struct rte_ether_hdr *eth;
	struct rte_vlan_hdr *vh;
	struct rte_arp_hdr *arp;
	struct dpn_route r;
	struct rte_mbuf *m;

	(void)state;
	assert_int_equal(lookup(AF_INET, "198.19.1.1", &r), 0);
	assert_int_equal(dpn_dp_neigh_resolve(&dp, &r, &mac), -EAGAIN);
	m = sent(0);
	assert_non_null(m);
	assert_true(m->data_len >= 64);	/* padded */
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	assert_true(rte_is_broadcast_ether_addr(&eth->dst_addr));
	assert_true(rte_is_same_ether_addr(&eth->src_addr, &port_mac[0]));
	assert_int_equal(eth->ether_type,
			 rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN));
	vh = (struct rte_vlan_hdr *)(eth + 1);
	assert_int_equal(rte_be_to_cpu_16(vh->vlan_tci) & 0xfff, 5);
	assert_int_equal(vh->eth_proto, rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP));
	arp = (struct rte_arp_hdr *)(vh + 1);
	assert_int_equal(arp->arp_opcode,
			 rte_cpu_to_be_16(RTE_ARP_OP_REQUEST));
	assert_addr(AF_INET, &arp->arp_data.arp_sip, "198.18.5.1");
	assert_addr(AF_INET, &arp->arp_data.arp_tip, "198.18.5.254");
	assert_true(rte_is_same_ether_addr(&arp->arp_data.arp_sha,
					   &port_mac[0]));
	rte_pktmbuf_free(m);

	/* Asked again at once: nothing more on the wire. */
	assert_int_equal(dpn_dp_neigh_resolve(&dp, &r, &mac), -EAGAIN);
	assert_null(sent(0));
	assert_int_equal(dp.mgmt_stats.c[DPN_STAT_NEIGH_PROBES], 1);

	/* The reply, as the slow path hands it over. */
	dpn_dp_neigh_learn(&dp, 0, AF_INET, &r.nexthop, 5, &peer_mac,
			DPN_NEIGH_ANSWERED);
	assert_int_equal(dpn_dp_neigh_resolve(&dp, &r, &mac), 0);
	assert_true(rte_is_same_ether_addr(&mac, &peer_mac));
	/* Same address untagged: another neighbour. */
	r.vlan = 0;
	assert_int_equal(dpn_dp_neigh_resolve(&dp, &r, &mac), -EAGAIN);
	m = sent(0);
	assert_non_null(m);
	assert_int_equal(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)
			 ->ether_type, rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP));
	rte_pktmbuf_free(m);
}

/* A solicitation to the solicited-node group, with a valid checksum. */
static void
test_resolve_ndp(void **state)
{
	static const uint8_t snm_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 0x99 };
	struct rte_ether_addr mac;
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	uint8_t *icmp;
	struct dpn_route r;
	struct rte_mbuf *m;

	(void)state;
	assert_int_equal(lookup(AF_INET6, "2001:db8::99", &r), 0);
	assert_int_equal(dpn_dp_neigh_resolve(&dp, &r, &mac), -EAGAIN);
	m = sent(0);
	assert_non_null(m);
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	assert_memory_equal(eth->dst_addr.addr_bytes, snm_mac, 6);
	assert_int_equal(eth->ether_type,
			 rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6));
	ip = (struct rte_ipv6_hdr *)(eth + 1);
	assert_int_equal(ip->proto, IPPROTO_ICMPV6);
	assert_int_equal(ip->hop_limits, 255);
	assert_addr(AF_INET6, ip->src_addr, "2001:db8::1");
	assert_addr(AF_INET6, ip->dst_addr, "ff02::1:ff00:99");
	icmp = (uint8_t *)(ip + 1);
	assert_int_equal(icmp[0], 135);
	assert_addr(AF_INET6, icmp + 8, "2001:db8::99");
	/* Source link-layer address option: type 1, 8 bytes, our MAC. */
	assert_int_equal(icmp[24], 1);
	assert_int_equal(icmp[25], 1);
	assert_memory_equal(icmp + 26, port_mac[0].addr_bytes, 6);
	/* The sum over pseudo-header and message, checksum included, is
	 * all ones. */
	assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip, icmp), 0);
	rte_pktmbuf_free(m);
}

/* A full ring: the frame is freed, counted, and the caller told. */
static void
test_mgmt_tx_full(void **state)
{
	unsigned int i, before = rte_mempool_avail_count(pool);
	struct rte_mbuf *m;
	uint64_t failed = dp.mgmt_stats.c[DPN_STAT_MGMT_TX_FAILED];

	(void)state;
	for (i = 0; i < 3; i++) {	/* a ring of 4 holds 3 */
		m = dpn_mgmt_alloc(&dp, 1);
		assert_non_null(m);
		assert_int_equal(dpn_mgmt_tx(&dp, 1, m), 0);
	}
	m = dpn_mgmt_alloc(&dp, 1);
	assert_int_equal(dpn_mgmt_tx(&dp, 1, m), -ENOBUFS);
	assert_int_equal(dp.mgmt_stats.c[DPN_STAT_MGMT_TX_FAILED], failed + 1);
	assert_null(dpn_mgmt_alloc(&dp, 2));
	m = rte_pktmbuf_alloc(pool);
	assert_int_equal(dpn_mgmt_tx(&dp, 2, m), -ENODEV);
	while ((m = sent(1)) != NULL)
		rte_pktmbuf_free(m);
	assert_int_equal(rte_mempool_avail_count(pool), before);
}

int
main(void)
{
	char prefix[64], dir[PATH_MAX];
	char *argv[] = {
		"test_neigh_route", "--no-huge", "-m", "128", "--no-pci",
		"--no-shconf", "--no-telemetry", "--file-prefix", prefix,
		"--log-level=error", NULL,
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_route_on_link, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_route_gateway, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_route_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolve_arp_vlan, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolve_ndp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mgmt_tx_full, setup,
						teardown),
	};
	int ret;

	snprintf(prefix, sizeof(prefix), "dpn_test_neigh_%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	pool = rte_pktmbuf_pool_create("pool", 255, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	rte_mempool_free(pool);
	/* With --no-shconf and --no-telemetry the runtime directory is
	 * empty after cleanup: remove it. */
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
	return ret;
}
