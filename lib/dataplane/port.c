/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port and queue setup: one RX/TX queue pair per worker on every port,
 * RSS on the IP addresses so a client always reaches the same worker,
 * checksum offloads and RX timestamps where the PMD has them, mempools
 * and rings on the port's NUMA node.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include "dpn_dataplane.h"
#include "dp_log.h"

#define NB_RXD 1024
#define NB_TXD 1024
#define MBUF_CACHE 256

RTE_LOG_REGISTER(dpn_dp_logtype, dpntp.dataplane, INFO);

static int
port_socket(uint16_t port_id)
{
	int s = rte_eth_dev_socket_id(port_id);

	/* Virtual devices have no node: use the main lcore's. */
	return s < 0 ? (int)rte_socket_id() : s;
}

/* Collect the addresses the config binds to @p port_index. */
static int
port_collect_addrs(struct dpn_port *p, const struct dpn_conf *conf,
		   unsigned int port_index, char *err, size_t errlen)
{
	unsigned int i;

	for (i = 0; i < conf->nb_listen; i++) {
		const struct dpn_conf_listen *l = &conf->listen[i];
		struct dpn_addrs *a = &p->addrs;

		if (l->port != port_index)
			continue;
		if (l->family == AF_INET) {
			if (a->nb_v4 == DPN_MAX_ADDRS)
				goto full;
			a->v4[a->nb_v4] = l->addr.v4.s_addr;
			/* /31 and /32 have no broadcast address. */
			a->v4_bcast[a->nb_v4] = l->prefix_len >= 31 ?
				UINT32_MAX : (l->addr.v4.s_addr |
				rte_cpu_to_be_32(UINT32_MAX >> l->prefix_len));
			a->v4_prefix[a->nb_v4] = l->prefix_len;
			a->v4_gw[a->nb_v4] = l->has_gateway ?
				l->gateway.v4.s_addr : 0;
			a->v4_vlan[a->nb_v4++] = l->vlan;
		} else {
			if (a->nb_v6 == DPN_MAX_ADDRS)
				goto full;
			memcpy(a->v6[a->nb_v6], &l->addr.v6, 16);
			a->v6_prefix[a->nb_v6] = l->prefix_len;
			if (l->has_gateway)
				memcpy(a->v6_gw[a->nb_v6], &l->gateway.v6, 16);
			a->v6_vlan[a->nb_v6++] = l->vlan;
		}
	}
	return 0;
full:
	snprintf(err, errlen, "port %u: more than %u addresses per family",
		 port_index, DPN_MAX_ADDRS);
	return -E2BIG;
}

/*
 * How the port's receive stamps reach the served clock: read the NIC
 * clock beside the TSC where the PMD can, else fit the stamps (their
 * unit known for net_pcap, the kernel's receive time in microseconds;
 * learnt for the others). ice stamps only once timesync is enabled; a
 * PMD without timesync just says no. Also when a reply leaves: PMDs
 * that hand frames to the kernel deliver them inside tx_burst.
 */
static void
rx_stamps_setup(struct dpn_port *p, const struct rte_eth_dev_info *info)
{
	uint64_t t;

	p->rx_stamp_source = DPN_RX_STAMP_TSC;
	p->tx_in_burst = info->driver_name != NULL &&
		(strcmp(info->driver_name, "net_af_packet") == 0 ||
		 strcmp(info->driver_name, "net_af_xdp") == 0 ||
		 strcmp(info->driver_name, "net_pcap") == 0 ||
		 strcmp(info->driver_name, "net_tap") == 0);
	p->stamp_hz = info->driver_name != NULL &&
		strcmp(info->driver_name, "net_pcap") == 0 ? 1e6 : 0;
	dpn_nicfit_init(&p->fit, NULL, p->stamp_hz);
	if (!p->rx_timestamp)
		return;
	(void)rte_eth_timesync_enable(p->port_id);
	p->nic_readable = rte_eth_read_clock(p->port_id, &t) == 0;
}

static int
port_setup(struct dpn_port *p, uint16_t nb_queues, unsigned int nb_mbufs,
	   char *err, size_t errlen)
{
	struct rte_eth_conf pconf;
	struct rte_eth_dev_info info;
	struct rte_eth_txconf txconf;
	uint16_t nb_rxd = NB_RXD, nb_txd = NB_TXD, q;
	uint64_t want;
	char name[RTE_MEMPOOL_NAMESIZE];
	int ret;

	ret = rte_eth_dev_info_get(p->port_id, &info);
	if (ret != 0)
		goto fail;
	rte_eth_dev_get_name_by_port(p->port_id, p->name);
	if (nb_queues > info.max_rx_queues || nb_queues > info.max_tx_queues) {
		snprintf(err, errlen,
			 "port %u (%s): %u workers need %u queue pairs, the port has %u RX and %u TX",
			 p->port_id, p->name, nb_queues, nb_queues,
			 info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}

	memset(&pconf, 0, sizeof(pconf));
	p->rss_hf = info.flow_type_rss_offloads & RTE_ETH_RSS_IP;
	if (nb_queues > 1 && p->rss_hf != 0) {
		/* Addresses only, no ports: one client, one worker. */
		pconf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		pconf.rx_adv_conf.rss_conf.rss_hf = p->rss_hf;
	} else {
		p->rss_hf = 0;
	}

	want = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	p->rx_cksum_offload = (info.rx_offload_capa & want) == want;
	if (p->rx_cksum_offload)
		pconf.rxmode.offloads |= want;
	p->rx_timestamp = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	if (p->rx_timestamp)
		pconf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;

	want = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	p->tx_cksum_offload = (info.tx_offload_capa & want) == want;
	if (p->tx_cksum_offload)
		pconf.txmode.offloads |= want;
	/* Replies inherit a stripped VLAN tag; insert it again on TX, by
	 * the NIC, or else in the frame before it goes out (worker.c). */
	p->tx_vlan_sw = !(info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_VLAN_INSERT);
	if (!p->tx_vlan_sw)
		pconf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_VLAN_INSERT;

	ret = rte_eth_dev_configure(p->port_id, nb_queues, nb_queues, &pconf);
	if (ret != 0)
		goto fail;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nb_rxd, &nb_txd);
	if (ret != 0)
		goto fail;

	snprintf(name, sizeof(name), "dpn_pool_%u", p->port_id);
	p->pool = rte_pktmbuf_pool_create(name, nb_mbufs, MBUF_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE,
					  p->socket_id);
	if (p->pool == NULL) {
		ret = -rte_errno;
		goto fail;
	}
	txconf = info.default_txconf;
	txconf.offloads = pconf.txmode.offloads;
	for (q = 0; q < nb_queues; q++) {
		ret = rte_eth_rx_queue_setup(p->port_id, q, nb_rxd,
					     p->socket_id, NULL, p->pool);
		if (ret != 0)
			goto fail;
		ret = rte_eth_tx_queue_setup(p->port_id, q, nb_txd,
					     p->socket_id, &txconf);
		if (ret != 0)
			goto fail;
	}
	ret = rte_eth_macaddr_get(p->port_id, &p->mac);
	if (ret != 0)
		goto fail;
	ret = rte_eth_dev_start(p->port_id);
	if (ret != 0)
		goto fail;
	/* NDP solicitations go to multicast addresses. */
	if (rte_eth_allmulticast_enable(p->port_id) != 0)
		rte_eth_promiscuous_enable(p->port_id);
	p->nb_queues = nb_queues;
	rx_stamps_setup(p, &info);
	return 0;
fail:
	snprintf(err, errlen, "port %u (%s): setup failed: %s", p->port_id,
		 p->name, rte_strerror(-ret));
	return ret < 0 ? ret : -EIO;
}

static void
port_log(const struct dpn_port *p)
{
	char mac[RTE_ETHER_ADDR_FMT_SIZE];

	rte_ether_format_addr(mac, sizeof(mac), &p->mac);
	DP_LOG(INFO, "port %u (%s): mac %s, socket %d, %u queue pairs, "
	       "RSS %s, TX checksums %s, TX VLAN tags %s, RX checksums %s, "
	       "RX timestamps %s, %u IPv4 and %u IPv6 addresses",
	       p->port_id, p->name, mac, p->socket_id, p->nb_queues,
	       p->rss_hf ? "on" : "off",
	       p->tx_cksum_offload ? "by NIC" : "in software",
	       p->tx_vlan_sw ? "in software" : "by NIC",
	       p->rx_cksum_offload ? "by NIC" : "in software",
	       !p->rx_timestamp ? "not offered (TSC, or the stamps the PMD leaves)" :
	       p->nic_readable ? "by NIC, clock read" :
	       "by NIC, clock fitted from the stamps",
	       p->addrs.nb_v4, p->addrs.nb_v6);
}

static int
rings_create(struct dpn_dataplane *dp, struct dpn_worker *w, unsigned int pi,
	     char *err, size_t errlen)
{
	struct dpn_rxq *q = &w->rxq[pi];
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "dpn_up_%u_%u", pi, w->index);
	q->to_mgmt = rte_ring_create(name, DPN_RING_SIZE,
				     dp->ports[pi].socket_id,
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "dpn_down_%u_%u", pi, w->index);
	q->from_mgmt = rte_ring_create(name, DPN_RING_SIZE,
				       dp->ports[pi].socket_id,
				       RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (q->to_mgmt == NULL || q->from_mgmt == NULL) {
		snprintf(err, errlen, "cannot create rings: %s",
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

/* The worker's rate-limit table, on its own node, sized once. */
static int
rl_create(struct dpn_worker *w, const struct dpn_conf *conf, int socket,
	  char *err, size_t errlen)
{
	size_t size = dpn_rl_memsize(conf->clientlimit);
	void *mem = rte_zmalloc_socket("dpn_clients", size,
					sizeof(struct dpn_rl_bucket), socket);

	if (mem == NULL || dpn_rl_init(&w->rl, mem, conf->clientlimit,
				       &conf->discard) != 0) {
		rte_free(mem);
		snprintf(err, errlen,
			 "cannot allocate %zu bytes for %u clients (clientlimit)",
			 size, conf->clientlimit);
		return -ENOMEM;
	}
	/* Unpredictable buckets: see dpn_rl_hash(). */
	w->rl.seed = rte_rand();
	return 0;
}

/* The worker's interleaved-mode table, on its own node, sized once. */
static int
xleave_create(struct dpn_worker *w, const struct dpn_conf *conf, int socket,
	      char *err, size_t errlen)
{
	size_t size = dpn_xleave_memsize(conf->xleavelimit);
	void *mem = NULL;

	if (size != 0) {
		mem = rte_zmalloc_socket("dpn_xleave", size,
					 RTE_CACHE_LINE_SIZE, socket);
		if (mem == NULL) {
			snprintf(err, errlen,
				 "cannot allocate %zu bytes for %u transmit times (xleavelimit)",
				 size, conf->xleavelimit);
			return -ENOMEM;
		}
	}
	if (dpn_xleave_init(&w->xleave, mem, conf->xleavelimit) != 0) {
		rte_free(mem);
		snprintf(err, errlen, "xleavelimit %u is too large",
			 conf->xleavelimit);
		return -EINVAL;
	}
	return 0;
}

int
dpn_rx_tsc_dynfield_register(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "dpntp_dynfield_rx_tsc",
		.size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
	};

	return rte_mbuf_dynfield_register(&desc);
}

static int
workers_create(struct dpn_dataplane *dp, const struct dpn_conf *conf,
	       const unsigned int *lcores, unsigned int nb_workers,
	       char *err, size_t errlen)
{
	int ts_off = -1, rx_tsc_off, ret;
	uint64_t ts_flag = 0;
	unsigned int i, pi;

	/*
	 * Always: a PMD that stamps without advertising the offload
	 * (net_pcap, with the kernel's receive time) registered the field
	 * and sets its flag; this finds them. Where nothing stamps, the
	 * flag is never set and costs a test per request.
	 */
	if (rte_mbuf_dyn_rx_timestamp_register(&ts_off, &ts_flag) != 0) {
		ts_off = -1;
		ts_flag = 0;
	}

	rx_tsc_off = dpn_rx_tsc_dynfield_register();
	if (rx_tsc_off < 0) {
		snprintf(err, errlen, "cannot register the mbuf field for receive times: %s",
			 rte_strerror(rte_errno));
		return -ENOSPC;
	}
	for (i = 0; i < nb_workers; i++) {
		struct dpn_worker *w;

		w = rte_zmalloc_socket("dpn_worker", sizeof(*w),
				       RTE_CACHE_LINE_SIZE,
				       rte_lcore_to_socket_id(lcores[i]));
		if (w == NULL) {
			snprintf(err, errlen, "out of memory for workers");
			return -ENOMEM;
		}
		dp->workers[i] = w;
		dp->nb_workers = i + 1;
		ret = rl_create(w, conf, rte_lcore_to_socket_id(lcores[i]), err,
				errlen);
		if (ret == 0)
			ret = xleave_create(w, conf,
					    rte_lcore_to_socket_id(lcores[i]),
					    err, errlen);
		if (ret != 0)
			return ret;
		/* Each worker reads the copy on its own node. */
		w->acl = (struct dpn_acl_table *const *)
			&dp->acl[rte_lcore_to_socket_id(lcores[i])];
		w->auth = (struct dpn_auth_table *const *)&dp->auth;
		w->nts = (struct dpn_nts_table *const *)&dp->nts;
		if (dpn_nts_rng_init(&w->nts_rng) != 0) {
			ret = -errno;
			snprintf(err, errlen, "getrandom: %s", strerror(-ret));
			return ret;
		}
		w->qsbr = dp->qsbr;
		w->lcore_id = lcores[i];
		w->index = i;
		w->clock = dp->clock;
		w->quit = &dp->quit;
		w->ts_dynfield_offset = ts_off;
		w->ts_dynflag = ts_flag;
		w->rx_tsc_dynfield_offset = rx_tsc_off;
		w->nb_rxq = dp->nb_ports;
		for (pi = 0; pi < dp->nb_ports; pi++) {
			w->rxq[pi].port = &dp->ports[pi];
			w->rxq[pi].port_id = dp->ports[pi].port_id;
			w->rxq[pi].queue_id = i;
			ret = rings_create(dp, w, pi, err, errlen);
			if (ret != 0)
				return ret;
			dpn_placement_check(lcores[i], dp->ports[pi].socket_id,
					    dp->ports[pi].name);
		}
	}
	return 0;
}

int
dpn_dataplane_init(struct dpn_dataplane *dp, const struct dpn_conf *conf,
		   const unsigned int *lcores, unsigned int nb_workers,
		   char *err, size_t errlen)
{
	unsigned int i, nb_ports = 0;
	uint16_t avail = rte_eth_dev_count_avail();
	/* Enough mbufs for full RX and TX rings, rings and caches. */
	unsigned int nb_mbufs = nb_workers * (NB_RXD + NB_TXD +
		2 * DPN_RING_SIZE + MBUF_CACHE) + 4096;
	int ret;

	memset(dp, 0, sizeof(*dp));
	for (i = 0; i < conf->nb_listen; i++)
		nb_ports = RTE_MAX(nb_ports, conf->listen[i].port + 1u);
	if (nb_ports == 0) {
		snprintf(err, errlen,
			 "nothing to serve: the configuration has no 'listen' line");
		return -EINVAL;
	}
	if (nb_ports > avail || nb_ports > DPN_MAX_PORTS) {
		snprintf(err, errlen,
			 "configuration uses port %u but DPDK found %u port(s); check the EAL arguments (-a, --vdev)",
			 nb_ports - 1, avail);
		return -ENODEV;
	}

	dp->clock = rte_zmalloc("dpn_clock", sizeof(*dp->clock),
				RTE_CACHE_LINE_SIZE);
	if (dp->clock == NULL) {
		snprintf(err, errlen, "out of memory for the clock");
		return -ENOMEM;
	}
	dpn_clock_init(dp->clock);

	dp->nb_ports = nb_ports;
	for (i = 0; i < nb_ports; i++) {
		struct dpn_port *p = &dp->ports[i];

		p->port_id = (uint16_t)i;
		p->socket_id = port_socket(p->port_id);
		ret = port_collect_addrs(p, conf, i, err, errlen);
		if (ret == 0)
			ret = port_setup(p, nb_workers, nb_mbufs, err, errlen);
		if (ret != 0)
			return ret;
		port_log(p);
	}
	dp->qsbr = rte_zmalloc("dpn_qsbr", rte_rcu_qsbr_get_memsize(nb_workers),
			       RTE_CACHE_LINE_SIZE);
	if (dp->qsbr == NULL || rte_rcu_qsbr_init(dp->qsbr, nb_workers) != 0) {
		snprintf(err, errlen, "cannot set up RCU for %u workers",
			 nb_workers);
		return -ENOMEM;
	}
	ret = workers_create(dp, conf, lcores, nb_workers, err, errlen);
	if (ret != 0)
		return ret;
	ret = dpn_dp_neigh_init(dp);
	if (ret != 0) {
		snprintf(err, errlen, "out of memory for the neighbour tables");
		return ret;
	}
	ret = dpn_dataplane_set_acl(dp, &conf->acl, &conf->discard, err,
				    errlen);
	if (ret != 0)
		return ret;
	ret = dpn_dataplane_set_auth(dp, &conf->keys, conf->trusted,
				     conf->nb_trusted, !conf->authfail_drop,
				     err, errlen);
	if (ret != 0)
		return ret;
	DP_LOG(INFO, "restrict: discard average %d minimum %u; clientlimit %u: %zu client slots (%zu bytes) per worker",
	       conf->discard.average_log2, conf->discard.minimum_s,
	       conf->clientlimit,
	       dpn_rl_memsize(conf->clientlimit) / sizeof(struct dpn_rl_slot),
	       dpn_rl_memsize(conf->clientlimit));
	if (conf->xleavelimit == 0)
		DP_LOG(INFO, "interleaved mode off (xleavelimit 0)");
	else
		DP_LOG(INFO, "interleaved mode: xleavelimit %u: %u transmit times (%zu bytes) per worker",
		       conf->xleavelimit, dpn_xleave_size(conf->xleavelimit),
		       dpn_xleave_memsize(conf->xleavelimit));
	return 0;
}

/* NUMA nodes that run at least one worker. */
static bool
node_used(const struct dpn_dataplane *dp, unsigned int node)
{
	unsigned int i;

	for (i = 0; i < dp->nb_workers; i++)
		if (rte_lcore_to_socket_id(dp->workers[i]->lcore_id) == node)
			return true;
	return false;
}

const struct dpn_acl_table *
dpn_dataplane_acl(const struct dpn_dataplane *dp)
{
	unsigned int n;

	for (n = 0; n < RTE_MAX_NUMA_NODES; n++)
		if (dp->acl[n] != NULL)
			return dp->acl[n];
	return NULL;
}

void
dpn_dataplane_acl_counters(const struct dpn_dataplane *dp, unsigned int rule,
			   struct dpn_acl_counters *out)
{
	struct dpn_acl_counters c;
	unsigned int n;

	memset(out, 0, sizeof(*out));
	for (n = 0; n < RTE_MAX_NUMA_NODES; n++) {
		if (dp->acl[n] == NULL)
			continue;
		dpn_acl_table_rule_counters(dp->acl[n], rule, &c);
		out->hits += c.hits;
		out->drops += c.drops;
		out->kods += c.kods;
	}
}

int
dpn_dataplane_set_acl(struct dpn_dataplane *dp,
		      const struct dpn_acl_ruleset *rs,
		      const struct dpn_rl_params *discard, char *err,
		      size_t errlen)
{
	struct dpn_acl_table *nt[RTE_MAX_NUMA_NODES] = { NULL };
	struct dpn_acl_table *ot[RTE_MAX_NUMA_NODES];
	unsigned int n;

	/* Build every node's copy first: all or nothing. */
	for (n = 0; n < RTE_MAX_NUMA_NODES; n++) {
		if (!node_used(dp, n))
			continue;
		nt[n] = dpn_acl_table_create(rs, discard, dp->nb_workers, n,
					     err, errlen);
		if (nt[n] == NULL) {
			while (n-- > 0)
				dpn_acl_table_free(nt[n]);
			return -ENOMEM;
		}
	}
	for (n = 0; n < RTE_MAX_NUMA_NODES; n++) {
		ot[n] = dp->acl[n];
		__atomic_store_n(&dp->acl[n], nt[n], __ATOMIC_RELEASE);
	}
	/* Every worker that could still read the old tables is done. */
	rte_rcu_qsbr_synchronize(dp->qsbr, RTE_QSBR_THRID_INVALID);
	for (n = 0; n < RTE_MAX_NUMA_NODES; n++) {
		if (ot[n] == NULL)
			continue;
		if (nt[n] != NULL)
			dpn_acl_table_inherit(nt[n], ot[n]);
		dpn_acl_table_free(ot[n]);
	}
	DP_LOG(INFO, "restrict: %u rules in use", rs->nb);
	return 0;
}

void
dpn_dataplane_sum_stats(const struct dpn_dataplane *dp, struct dpn_stats *out)
{
	struct dpn_stats sum;
	unsigned int i, j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < dp->nb_workers; i++) {
		dpn_stats_sum(&dp->workers[i]->stats, 1, &sum);
		for (j = 0; j < DPN_STAT_MAX; j++)
			out->c[j] += sum.c[j];
	}
	dpn_stats_sum(&dp->mgmt_stats, 1, &sum);
	for (j = 0; j < DPN_STAT_MAX; j++)
		out->c[j] += sum.c[j];
}

void
dpn_dataplane_fini(struct dpn_dataplane *dp)
{
	unsigned int i, pi;

	for (i = 0; i < dp->nb_ports; i++) {
		if (dp->ports[i].nb_queues == 0)
			continue;
		rte_eth_dev_stop(dp->ports[i].port_id);
		rte_eth_dev_close(dp->ports[i].port_id);
	}
	for (i = 0; i < dp->nb_workers; i++) {
		struct dpn_worker *w = dp->workers[i];

		for (pi = 0; pi < w->nb_rxq; pi++) {
			rte_ring_free(w->rxq[pi].to_mgmt);
			rte_ring_free(w->rxq[pi].from_mgmt);
		}
		rte_free(w->rl.buckets);
		rte_free(w->xleave.ring);
		rte_free(w);
		dp->workers[i] = NULL;
	}
	for (i = 0; i < dp->nb_ports; i++)
		rte_mempool_free(dp->ports[i].pool);
	rte_free(dp->clock);
	dp->clock = NULL;
	for (i = 0; i < RTE_MAX_NUMA_NODES; i++) {
		dpn_acl_table_free(dp->acl[i]);
		dp->acl[i] = NULL;
	}
	dpn_dataplane_auth_fini(dp);
	dpn_dataplane_nts_fini(dp);
	rte_free(dp->qsbr);
	dp->qsbr = NULL;
	dpn_dp_neigh_fini(dp);
	dp->nb_workers = 0;
	dp->nb_ports = 0;
}
