/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The built-in PTP slave on a DPDK port (`refclock ptp port P ...`): the
 * frames between the port and lib/ptp's protocol engine.
 *
 * - Receiving: workers pass PTP frames to the slow path (Layer 2
 *   ethertype 0x88F7, or UDP to ports 319/320 at 224.0.1.129 and at our
 *   addresses: dpn_port.ptp_l2/ptp_udp), with the TSC of their burst and
 *   the NIC's stamp where the port stamps. An event message's receive
 *   time is the NIC stamp on the served clock where the port has a model
 *   for its clock, else that TSC (sync_rx_time), as NTP's T2 is. On a
 *   port whose NIC stamps PTP event frames only, in registers (ixgbe,
 *   i40e, igb: rte_eth_timesync_*), the stamp read back from them for
 *   each event message, on the served clock through lib/ptp's hwts.
 * - Sending: a Delay_Req is built here and leaves through the worker of
 *   the port's queue 0 (dpn_mgmt_tx) flagged RTE_MBUF_F_TX_IEEE1588_TMST;
 *   the worker notes the TSC around the rte_eth_tx_burst() that sent it
 *   (dpn_worker_mgmt_tx_stamp), which becomes t3, unless the NIC's
 *   IEEE 1588 transmit register gives the time it left.
 * - Multicast: the port accepts the PTP groups (its multicast list, or
 *   all multicast where the PMD has no list), and over UDP an IGMPv2
 *   report for 224.0.1.129 goes out at start and every
 *   IGMP_REPORT_INTERVAL_NS, so that a snooping switch keeps the group
 *   on the port without our answering its queries.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_udp.h>

#include "sync_private.h"

RTE_LOG_REGISTER(dpn_ptp_logtype, dpntp.ptp, INFO);
#define PTP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dpn_ptp_logtype, "ptp: " fmt "\n", \
		##__VA_ARGS__)

#define SEC_NS INT64_C(1000000000)
#define IGMP_REPORT_INTERVAL_NS (60 * SEC_NS)
/* A Delay_Req whose transmit time the worker has not noted by then is
 * given up (its Delay_Resp will be unmatched); as long is waited for
 * the NIC's transmit register. */
#define TX_STAMP_WAIT_NS DPN_PTP_HWTS_TX_WAIT_NS
#define PTP_TTL 1		/* as linuxptp's udp_ttl default */
/* The NIC's clock read against the served clock this often. */
#define HWTS_CAL_INTERVAL_NS SEC_NS
#define IGMP_V2_REPORT 0x16
#define IP_OPT_ROUTER_ALERT 0x94040000u

/* 01:00:5e:00:01:81, the MAC of 224.0.1.129. */
static const struct rte_ether_addr mcast_ipv4_mac = {
	.addr_bytes = { 0x01, 0x00, 0x5e, 0x00, 0x01, 0x81 } };

struct sync_ptp {
	struct dpn_ptp_slave slave;
	unsigned int port_index;	/* in dp->ports */
	bool udp;
	rte_be32_t src_ip;		/* our address for UDP */
	uint16_t vlan;
	const struct dpn_rxq *txq;	/* queue 0's: the worker that sends */
	bool pending;			/* a Delay_Req waits for its t3 */
	uint16_t pending_seq;
	uint64_t pending_count;		/* txq->mgmt_tx_stamped before it */
	int64_t pending_since;
	int64_t next_igmp_ns;
	bool sent;			/* ... has left; its TSC time: */
	int64_t tsc_t3;
	struct dpn_ptp_hwts hw;		/* IEEE 1588 registers, where on */
	int64_t next_cal_ns;
	int64_t offset_ns, delay_ns;
	uint64_t rx_nic, rx_tsc, tx_stamps, tx_unstamped, tx_failed;
	uint64_t tx_nic;
	uint64_t igmp_reports;
	enum dpn_ptp_state last_state;
};

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SEC_NS + ts.tv_nsec;
}

static uint64_t
ptp_rand(void *arg)
{
	RTE_SET_USED(arg);
	return rte_rand();
}

/* rte_eth_timesync_* as lib/ptp's hwts reaches a device. */
static const struct dpn_ptp_hwts_ops ethdev_hwts = {
	.enable = rte_eth_timesync_enable,
	.read_time = rte_eth_timesync_read_time,
	.read_rx = rte_eth_timesync_read_rx_timestamp,
	.read_tx = rte_eth_timesync_read_tx_timestamp,
};

/* A simulated NIC that tests stand in for one port's registers
 * (sync_ptp_set_hwts_ops); looked at once, when the slave opens them. */
static const struct dpn_ptp_hwts_ops *hwts_ops_test;
static uint16_t hwts_port_test;

void
sync_ptp_set_hwts_ops(uint16_t port_id, const struct dpn_ptp_hwts_ops *ops)
{
	hwts_ops_test = ops;
	hwts_port_test = port_id;
}

static const struct dpn_ptp_hwts_ops *
hwts_ops_of(uint16_t port_id)
{
	if (hwts_ops_test != NULL && hwts_port_test == port_id)
		return hwts_ops_test;
	return &ethdev_hwts;
}

static int64_t
served_now(void *arg)
{
	return sync_now_ns(arg);
}

static struct sync_refclock *
ptp_of_port(struct dpn_sync *sy, unsigned int port_index)
{
	unsigned int i;

	for (i = 0; i < sy->nb_refclocks; i++) {
		struct sync_refclock *r = &sy->refclocks[i];

		if (r->ptp != NULL && r->ptp->port_index == port_index)
			return r;
	}
	return NULL;
}

/* The PTP message in @p m, or NULL (counted by the engine as bad). */
static const void *
ptp_payload(const struct rte_mbuf *m, size_t *len)
{
	const struct rte_udp_hdr *udp;
	size_t off = m->l2_len, ulen;

	if ((m->packet_type & RTE_PTYPE_L2_MASK) ==
	    RTE_PTYPE_L2_ETHER_TIMESYNC) {
		if (m->data_len < off)
			return NULL;
		*len = m->data_len - off;
		return rte_pktmbuf_mtod_offset(m, const void *, off);
	}
	off += m->l3_len;
	if (m->data_len < off + sizeof(*udp))
		return NULL;
	udp = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, off);
	ulen = rte_be_to_cpu_16(udp->dgram_len);
	if (ulen < sizeof(*udp) || off + ulen > m->data_len)
		return NULL;
	*len = ulen - sizeof(*udp);
	return udp + 1;
}

static void
take_sample(struct dpn_sync *sy, struct sync_refclock *r)
{
	struct dpn_ptp_sample smp;

	while (dpn_ptp_slave_sample(&r->ptp->slave, &smp)) {
		r->ptp->offset_ns = smp.offset_ns;
		r->ptp->delay_ns = smp.delay_ns;
		sync_refclock_offset(sy, r, smp.offset_ns, smp.local_ns,
				     smp.leap);
	}
}

static void
ptp_on_frame(void *arg, unsigned int port_index, struct rte_mbuf *m)
{
	struct dpn_sync *sy = arg;
	struct sync_refclock *r = ptp_of_port(sy, port_index);
	const void *msg;
	size_t len = 0;
	int64_t rx;
	bool nic;

	if (r == NULL) {
		sy->dp->mgmt_stats.c[DPN_STAT_SLOW_IGNORED]++;
		rte_pktmbuf_free(m);
		return;
	}
	msg = ptp_payload(m, &len);
	if (msg == NULL) {
		msg = "";
		len = 0;
	}
	rx = sync_rx_time(sy, port_index, m, &nic);
	if (len > 0 && dpn_ptp_is_event(msg, len)) {
		int64_t hw;

		/* Read for every event frame, so that the register (one
		 * stamp, held until read) is free for the next. */
		if (!nic && r->ptp->hw.on &&
		    dpn_ptp_hwts_rx(&r->ptp->hw, m->timesync, rx, &hw) == 0) {
			rx = hw;
			nic = true;
		}
		if (nic)
			r->ptp->rx_nic++;
		else
			r->ptp->rx_tsc++;
	}
	if (dpn_ptp_slave_rx(&r->ptp->slave, msg, len, rx) ==
	    DPN_PTP_RX_SAMPLE)
		take_sample(sy, r);
	rte_pktmbuf_free(m);
}

/* The Ethernet header of a frame to @p dst; where the rest goes. */
static void *
frame_start(struct dpn_sync *sy, const struct sync_ptp *p,
	    struct rte_mbuf **mp, const struct rte_ether_addr *dst,
	    uint16_t ether_type)
{
	struct dpn_route r = { .family = AF_INET,
		.port_index = p->port_index, .vlan = p->vlan };
	struct rte_mbuf *m = dpn_mgmt_alloc(sy->dp, p->port_index);
	void *l3;

	*mp = m;
	if (m == NULL)
		return NULL;
	l3 = dpn_mgmt_eth_init(sy->dp, m, &r, dst, ether_type);
	if (l3 == NULL) {
		rte_pktmbuf_free(m);
		*mp = NULL;
	}
	return l3;
}

static void
ipv4_init(struct rte_ipv4_hdr *ip, const struct sync_ptp *p,
	  unsigned int ihl_words, unsigned int total, uint8_t proto)
{
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = (4 << 4) | ihl_words;
	ip->total_length = rte_cpu_to_be_16(total);
	ip->time_to_live = PTP_TTL;
	ip->next_proto_id = proto;
	ip->src_addr = p->src_ip;
	ip->dst_addr = RTE_BE32(DPN_PTP_MCAST_IPV4);
}

/* A Delay_Req (@p msg, @p len) on the wire, asking for its TX time. */
static int
send_event(struct dpn_sync *sy, struct sync_ptp *p, const void *msg,
	   size_t len)
{
	struct rte_mbuf *m;
	uint8_t *out;

	if (!p->udp) {
		struct rte_ether_addr dst;

		memcpy(dst.addr_bytes, dpn_ptp_mcast_mac, sizeof(dst));
		if (frame_start(sy, p, &m, &dst, DPN_PTP_ETHERTYPE) == NULL ||
		    (out = (uint8_t *)rte_pktmbuf_append(m, len)) == NULL)
			goto fail;
		memcpy(out, msg, len);
	} else {
		struct rte_ipv4_hdr *ip;
		struct rte_udp_hdr *udp;
		size_t total = sizeof(*ip) + sizeof(*udp) + len;

		if (frame_start(sy, p, &m, &mcast_ipv4_mac,
				RTE_ETHER_TYPE_IPV4) == NULL ||
		    (ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, total)) ==
		    NULL)
			goto fail;
		ipv4_init(ip, p, 5, total, IPPROTO_UDP);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->src_port = RTE_BE16(DPN_PTP_EVENT_PORT);
		udp->dst_port = RTE_BE16(DPN_PTP_EVENT_PORT);
		udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + len);
		udp->dgram_cksum = 0;
		memcpy(udp + 1, msg, len);
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	}
	m->ol_flags |= RTE_MBUF_F_TX_IEEE1588_TMST;
	if (dpn_mgmt_tx(sy->dp, p->port_index, m) != 0)
		return -1;
	return 0;
fail:
	if (m != NULL)
		rte_pktmbuf_free(m);
	return -1;
}

/* IGMPv2 membership report for 224.0.1.129 (RFC 2236: TTL 1, Router
 * Alert), so that snooping switches forward the group to us. */
static void
send_igmp_report(struct dpn_sync *sy, struct sync_ptp *p)
{
	const rte_be32_t ra = RTE_BE32(IP_OPT_ROUTER_ALERT);
	struct rte_ipv4_hdr *ip;
	struct rte_mbuf *m;
	uint8_t *igmp;
	size_t total = sizeof(*ip) + sizeof(ra) + 8;

	if (frame_start(sy, p, &m, &mcast_ipv4_mac,
			RTE_ETHER_TYPE_IPV4) == NULL ||
	    (ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, total)) ==
	    NULL) {
		if (m != NULL)
			rte_pktmbuf_free(m);
		return;
	}
	ipv4_init(ip, p, 6, total, IPPROTO_IGMP);
	/* Copied: behind the Ethernet header the option is 2 bytes off
	 * a 4-byte boundary. */
	memcpy(ip + 1, &ra, sizeof(ra));
	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip,
						    sizeof(*ip) + sizeof(ra));
	igmp = (uint8_t *)(ip + 1) + sizeof(ra);
	memset(igmp, 0, 8);
	igmp[0] = IGMP_V2_REPORT;
	memcpy(igmp + 4, &ip->dst_addr, 4);
	*(uint16_t *)(igmp + 2) = (uint16_t)~rte_raw_cksum(igmp, 8);
	if (dpn_mgmt_tx(sy->dp, p->port_index, m) == 0)
		p->igmp_reports++;
}

/* The worker has noted the pending Delay_Req's transmit time. */
static void
check_tx_stamp(struct dpn_sync *sy, struct sync_ptp *p, int64_t mono)
{
	uint64_t n = __atomic_load_n(&p->txq->mgmt_tx_stamped,
				     __ATOMIC_ACQUIRE);
	int64_t t3;

	if (!p->pending)
		return;
	if (!p->sent && n != p->pending_count) {
		/* Taken now: the worker's next frame from us moves it. */
		p->tsc_t3 = dpn_clock_model_ns(&sy->disc.tracker.model,
					       p->txq->mgmt_tx_tsc);
		p->sent = true;
	}
	if (p->sent) {
		switch (dpn_ptp_hwts_tx_time(&p->hw, p->tsc_t3,
					     mono - p->pending_since, &t3)) {
		case DPN_PTP_HWTS_TX_WAIT:
			return;
		case DPN_PTP_HWTS_TX_NIC:
			p->tx_nic++;
			break;
		case DPN_PTP_HWTS_TX_SW:
			break;
		}
		dpn_ptp_slave_tx_stamp(&p->slave, p->pending_seq, t3);
		p->tx_stamps++;
		p->pending = false;
	} else if (mono - p->pending_since > TX_STAMP_WAIT_NS) {
		p->tx_unstamped++;
		p->pending = false;
	}
}

unsigned int
sync_ptp_poll(struct dpn_sync *sy, struct sync_refclock *r)
{
	struct sync_ptp *p = r->ptp;
	uint8_t buf[DPN_PTP_DELAY_REQ_LEN];
	int64_t mono = mono_ns();
	unsigned int work = 0;
	enum dpn_ptp_state st;
	uint16_t seq;
	size_t len;

	if (p->hw.on && mono >= p->next_cal_ns) {
		p->next_cal_ns = mono + HWTS_CAL_INTERVAL_NS;
		(void)dpn_ptp_hwts_calibrate(&p->hw, served_now, sy);
		work++;
	}
	check_tx_stamp(sy, p, mono);
	if (p->udp && mono >= p->next_igmp_ns) {
		p->next_igmp_ns = mono + IGMP_REPORT_INTERVAL_NS;
		send_igmp_report(sy, p);
		work++;
	}
	len = dpn_ptp_slave_poll(&p->slave, sync_now_ns(sy), buf, sizeof(buf),
				 &seq);
	if (len > 0) {
		/* One Delay_Req at a time waits for its time. */
		p->pending_count = __atomic_load_n(&p->txq->mgmt_tx_stamped,
						   __ATOMIC_ACQUIRE);
		if (send_event(sy, p, buf, len) == 0) {
			p->pending = true;
			p->sent = false;
			p->pending_seq = seq;
			p->pending_since = mono;
		} else {
			p->tx_failed++;
		}
		work++;
	}
	st = dpn_ptp_slave_state(&p->slave);
	if (st != p->last_state) {
		const struct dpn_ptp_master *ms = dpn_ptp_slave_master(&p->slave);
		char id[DPN_PTP_PORT_ID_STRLEN] = "";

		if (ms != NULL)
			dpn_ptp_port_identity_str(&ms->port, id, sizeof(id));
		PTP_LOG(NOTICE, "%s: %s -> %s%s%s", r->src.conf.name,
			dpn_ptp_state_str(p->last_state),
			dpn_ptp_state_str(st), ms != NULL ? ", master " : "",
			id);
		p->last_state = st;
	}
	return work;
}

/* The port's PTP multicast groups: its list, or all multicast. */
static void
join_groups(const struct dpn_port *port, bool udp)
{
	struct rte_ether_addr mc[1];
	int ret;

	if (udp)
		mc[0] = mcast_ipv4_mac;
	else
		memcpy(mc[0].addr_bytes, dpn_ptp_mcast_mac, sizeof(mc[0]));
	ret = rte_eth_dev_set_mc_addr_list(port->port_id, mc, 1);
	if (ret == 0)
		return;
	ret = rte_eth_allmulticast_enable(port->port_id);
	if (ret != 0 && ret != -ENOTSUP)
		PTP_LOG(WARNING, "port %u: cannot accept multicast (%s); PTP messages may not arrive",
			port->port_id, rte_strerror(-ret));
}

int
sync_ptp_init(struct dpn_sync *sy, struct sync_refclock *r, char *err,
	      size_t errlen)
{
	const struct dpn_conf_refclock *c = &r->conf;
	struct dpn_dataplane *dp = sy->dp;
	struct dpn_ptp_params prm;
	struct sync_ptp *p;
	struct dpn_port *port = NULL;
	unsigned int i, qi;

	for (i = 0; i < dp->nb_ports; i++)
		if (dp->ports[i].port_id == c->port)
			port = &dp->ports[i];
	if (port == NULL) {
		snprintf(err, errlen, "refclock ptp (line %u): port %u is not a port dpntpd runs",
			 c->line, c->port);
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "refclock ptp: out of memory");
		return -1;
	}
	r->ptp = p;
	p->port_index = port - dp->ports;
	p->udp = c->transport == DPN_CONF_PTP_UDP4;
	for (i = 0; i < dp->nb_workers && p->txq == NULL; i++)
		for (qi = 0; qi < dp->workers[i]->nb_rxq; qi++)
			if (dp->workers[i]->rxq[qi].port_id == port->port_id &&
			    dp->workers[i]->rxq[qi].queue_id == 0)
				p->txq = &dp->workers[i]->rxq[qi];
	if (p->txq == NULL) {
		snprintf(err, errlen, "refclock ptp (line %u): port %u has no worker",
			 c->line, c->port);
		return -1;
	}
	if (p->udp) {
		/* Our address: the configured one, else the port's first. */
		if (c->has_address) {
			p->src_ip = c->address.s_addr;
		} else if (port->addrs.nb_v4 > 0) {
			p->src_ip = port->addrs.v4[0];
		} else {
			snprintf(err, errlen, "refclock ptp (line %u): port %u has no IPv4 address for transport udp4",
				 c->line, c->port);
			return -1;
		}
		for (i = 0; i < port->addrs.nb_v4; i++)
			if (port->addrs.v4[i] == p->src_ip)
				p->vlan = port->addrs.v4_vlan[i];
		port->ptp_udp = true;
	} else {
		port->ptp_l2 = true;
	}
	join_groups(port, p->udp);
	/* A port that stamps every frame needs no registers; one that
	 * stamps none says -ENOTSUP here. */
	if (!port->rx_timestamp &&
	    dpn_ptp_hwts_open(&p->hw, hwts_ops_of(port->port_id),
			      port->port_id) == 0)
		(void)dpn_ptp_hwts_calibrate(&p->hw, served_now, sy);
	dpn_ptp_params_init(&prm);
	prm.domain = c->domain;
	prm.announce_timeout = c->announce_timeout;
	dpn_ptp_clock_id_from_mac(prm.clock_id, port->mac.addr_bytes);
	prm.rand_fn = ptp_rand;
	dpn_ptp_slave_init(&p->slave, &prm, sync_now_ns(sy));
	p->last_state = dpn_ptp_slave_state(&p->slave);
	r->open = true;
	dp->ptp_rx = ptp_on_frame;
	dp->ptp_rx_arg = sy;
	PTP_LOG(INFO, "%s (line %u): slave on port %u, domain %u, %s%s",
		r->src.conf.name, c->line, c->port, c->domain,
		p->udp ? "UDP/IPv4" : "Layer 2",
		port->rx_timestamp ? ", NIC receive stamps" :
		p->hw.on ? ", IEEE 1588 stamps (rte_eth_timesync)" : "");
	return 0;
}

void
sync_ptp_stepped(struct sync_refclock *r, int64_t d)
{
	dpn_ptp_slave_clock_step(&r->ptp->slave, d);
}

void
sync_ptp_fini(struct dpn_sync *sy, struct sync_refclock *r)
{
	sy->dp->ptp_rx = NULL;
	free(r->ptp);
	r->ptp = NULL;
}

void
sync_ptp_info(const struct sync_refclock *r, struct dpn_sync_ptp_info *out)
{
	const struct sync_ptp *p = r->ptp;
	const struct dpn_ptp_master *ms;

	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return;
	out->state = dpn_ptp_slave_state(&p->slave);
	ms = dpn_ptp_slave_master(&p->slave);
	if (ms != NULL) {
		out->have_master = true;
		out->master = *ms;
	}
	out->counters = p->slave.cnt;
	out->offset_ns = p->offset_ns;
	out->delay_ns = p->delay_ns;
	out->rx_nic = p->rx_nic > 0;
	out->ieee1588 = p->hw.on;
	out->tx_stamp_nic = p->tx_nic;
	out->hw_mismatch = p->hw.mismatches;
	out->rx_stamp_nic = p->rx_nic;
	out->rx_stamp_tsc = p->rx_tsc;
	out->tx_stamps = p->tx_stamps;
	out->tx_unstamped = p->tx_unstamped;
	out->tx_failed = p->tx_failed;
	out->igmp_reports = p->igmp_reports;
}
