/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sync/ptp.c on a port whose NIC stamps PTP event frames in IEEE
 * 1588 registers only (ixgbe, i40e, igb: rte_eth_timesync_*), with a
 * simulated NIC standing in for the registers (sync_ptp_set_hwts_ops)
 * and everything else real: dpn_sync_init() opens the slave, a master's
 * frames are built in mbufs, flagged as such a PMD flags them, and go
 * through dpn_worker_handle_burst(), the slow-path ring and
 * dpn_slowpath_poll() to ptp.c; the Delay_Req that sync_ptp_poll()
 * queues is taken off the worker's ring and its transmit time left by
 * dpn_worker_mgmt_tx_stamp(), as the worker loop does.
 *
 * The simulated NIC clock runs NIC_AHEAD_NS ahead of the served clock
 * and latches what each test says. The master's timestamps are those
 * of a master MASTER_AHEAD_NS ahead of us, PATH_NS away, with a Sync on
 * the wire RX_LEAD_NS before the burst that read it and a Delay_Req on
 * the wire TX_LAG_NS after rte_eth_tx_burst() returned: the offset and
 * path delay measured, and t2 (the reading's time), tell which stamps
 * the slave took.
 *
 * Needs EAL (mbuf pool, rings, mbuf dynamic fields); runs without huge
 * pages or devices: the port and the worker are put together by hand.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <cmocka.h>

#include "dpn_dataplane.h"
#include "dpn_ptp.h"
#include "sync_private.h"

#define POOL_SIZE 511
#define SEC_NS INT64_C(1000000000)
#define MS_NS INT64_C(1000000)
/* The simulated NIC's clock: TAI-like, and a little off besides. */
#define NIC_AHEAD_NS (37 * SEC_NS + 123457)
/* The master: this far ahead of the served clock, this far away. */
#define MASTER_AHEAD_NS INT64_C(1234567)
#define PATH_NS INT64_C(7000)
/* A Sync was on the wire this long before rx_burst returned it... */
#define RX_LEAD_NS INT64_C(50000)
/* ... and a Delay_Req this long after tx_burst returned: within what
 * lib/ptp takes for the frame's own stamp (DPN_PTP_HWTS_AFTER_NS). */
#define TX_LAG_NS INT64_C(40000)
/* A stamp that an earlier event frame left in a register. */
#define STALE_NS (250 * MS_NS)
/*
 * How far a mapped register stamp may be from the time it was latched
 * at: the simulated NIC clock is read between two readings of the
 * served clock, so the calibration pair is off by at most half the
 * tightest of its read windows (a few tens of ns; 2 us even under a
 * sanitizer and load). Every stamp the tests tell apart differs by far
 * more (RX_LEAD_NS, TX_LAG_NS / 2).
 */
#define SLACK_NS INT64_C(2000)
/* The receive register index a PMD leaves in m->timesync (i40e has
 * four): it must reach read_rx_timestamp as its flags. */
#define RX_REG 2
/* logMinDelayReqInterval the master grants: 1/128 s, so that the next
 * Delay_Req comes without a long wait. */
#define LOG_DELAY_REQ (-7)
#define RAND_SEED 0x5eed1588u

#define CHECK(cond, ...) do {			\
	if (!(cond))				\
		fail_msg(__VA_ARGS__);		\
} while (0)

#define CHECK_NEAR(got, want, slack, what) do {				\
	int64_t g_ = (got), w_ = (want);				\
	if (g_ - w_ > (slack) || w_ - g_ > (slack))			\
		fail_msg("%s: %" PRId64 " ns, want %" PRId64		\
			 " ns (+- %" PRId64 "): off by %" PRId64,	\
			 (what), g_, w_, (int64_t)(slack), g_ - w_);	\
} while (0)

/* The port, its worker (queue 0) and the data plane around them. */
static struct dpn_dataplane dp;
static struct dpn_worker *worker;
static struct dpn_clock clock_pub;
static struct rte_mempool *pool;
static struct dpn_clock_snapshot snap;	/* the worker's: unused for PTP */
static const struct rte_ether_addr port_mac = {
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }
};
static const char local4[] = "198.18.0.1";

/* The sync side, opened per test. */
static struct dpn_conf conf;
static struct dpn_refclock_system rs;
static struct dpn_sync sy;
static struct sync_refclock *ref;
static bool udp;			/* the slave's transport */
static unsigned int igmp_seen;		/* reports the worker sent */
/* CLOCK_MONOTONIC around the poll that last calibrated. */
static int64_t cal_lo, cal_hi;

/* The master. */
static const struct rte_ether_addr master_mac = {
	{ 0x00, 0x1b, 0x19, 0x00, 0x00, 0x01 }
};
static const uint8_t master_id[8] = {
	0x00, 0x1b, 0x19, 0xff, 0xfe, 0x00, 0x00, 0x01
};
static const struct rte_ether_addr ptp_l2_mac = {
	{ 0x01, 0x1b, 0x19, 0x00, 0x00, 0x00 }
};
static const struct rte_ether_addr ptp_ipv4_mac = {	/* 224.0.1.129 */
	{ 0x01, 0x00, 0x5e, 0x00, 0x01, 0x81 }
};

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SEC_NS + ts.tv_nsec;
}

/* The served clock at TSC @p tsc, as ptp.c reads it (sync_rx_time). */
static int64_t
served_of(uint64_t tsc)
{
	return dpn_clock_model_ns(&sy.disc.tracker.model, tsc);
}

/*
 * The simulated NIC: its clock NIC_AHEAD_NS ahead of the served clock,
 * read at the instant it is asked; one receive and one transmit
 * register, each holding one stamp until it is read, as the real ones.
 */
static struct {
	int enable_ret;
	int64_t ahead;
	bool rx_latched, tx_latched;
	int64_t rx_nic, tx_nic;		/* what they hold, NIC time */
	uint32_t rx_flags;		/* the last read_rx's */
	unsigned int time_reads, rx_reads, tx_reads;
} nic;

static int64_t
nic_of(int64_t served)
{
	return served + nic.ahead;
}

static void
set_ts(struct timespec *ts, int64_t ns)
{
	ts->tv_sec = ns / SEC_NS;
	ts->tv_nsec = ns % SEC_NS;
}

static int
sim_enable(uint16_t port_id)
{
	(void)port_id;
	return nic.enable_ret;
}

static int
sim_read_time(uint16_t port_id, struct timespec *ts)
{
	(void)port_id;
	nic.time_reads++;
	set_ts(ts, nic_of(sync_now_ns(&sy)));
	return 0;
}

static int
sim_read_rx(uint16_t port_id, struct timespec *ts, uint32_t flags)
{
	(void)port_id;
	nic.rx_reads++;
	nic.rx_flags = flags;
	if (!nic.rx_latched)
		return -EINVAL;		/* as ixgbe/i40e: nothing latched */
	nic.rx_latched = false;
	set_ts(ts, nic.rx_nic);
	return 0;
}

static int
sim_read_tx(uint16_t port_id, struct timespec *ts)
{
	(void)port_id;
	nic.tx_reads++;
	if (!nic.tx_latched)
		return -EINVAL;
	nic.tx_latched = false;
	set_ts(ts, nic.tx_nic);
	return 0;
}

static const struct dpn_ptp_hwts_ops sim_ops = {
	.enable = sim_enable,
	.read_time = sim_read_time,
	.read_rx = sim_read_rx,
	.read_tx = sim_read_tx,
};

/*
 * PTP messages (IEEE 1588-2008 clause 13) from the master.
 */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A Timestamp: 48-bit seconds, 32-bit nanoseconds. */
static void
put_ts(uint8_t *p, int64_t ns)
{
	uint64_t s = (uint64_t)(ns / SEC_NS);
	uint32_t n = (uint32_t)(ns % SEC_NS);

	put16(p, (uint16_t)(s >> 32));
	put16(p + 2, (uint16_t)(s >> 16));
	put16(p + 4, (uint16_t)s);
	put16(p + 6, (uint16_t)(n >> 16));
	put16(p + 8, (uint16_t)n);
}

/* The common header of a message of @p type from the master. */
static void
ptp_hdr(uint8_t *b, uint8_t type, uint16_t len, uint16_t seq,
	uint8_t control, int8_t log_interval)
{
	memset(b, 0, len);
	b[0] = type;
	b[1] = 2;			/* versionPTP */
	put16(b + 2, len);		/* messageLength */
	memcpy(b + 20, master_id, sizeof(master_id));
	put16(b + 28, 1);
	put16(b + 30, seq);
	b[32] = control;
	b[33] = (uint8_t)log_interval;
}

/*
 * Frames as the NIC hands them over, through the worker and the slow
 * path to ptp.c.
 */

/* @p msg in a frame from the master: Layer 2 or UDP/IPv4 to the PTP
 * group, to 319 (event) or 320. */
static struct rte_mbuf *
frame(const uint8_t *msg, size_t len, bool event)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	size_t flen = sizeof(*eth) + len;

	assert_non_null(m);
	if (udp)
		flen += sizeof(struct rte_ipv4_hdr) +
			sizeof(struct rte_udp_hdr);
	/* Padded to the 60 bytes of a minimal frame, as received. */
	if (flen < RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN)
		flen = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)flen);
	assert_non_null(eth);
	memset(eth, 0, flen);
	eth->src_addr = master_mac;
	if (!udp) {
		eth->dst_addr = ptp_l2_mac;
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_1588);
		memcpy(eth + 1, msg, len);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
		struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ip + 1);
		uint16_t dport = event ? DPN_PTP_EVENT_PORT :
			DPN_PTP_GENERAL_PORT;

		eth->dst_addr = ptp_ipv4_mac;
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) +
						    sizeof(*uh) + len));
		ip->time_to_live = 1;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = rte_cpu_to_be_32(0xc6120002u); /* 198.18.0.2 */
		ip->dst_addr = RTE_BE32(DPN_PTP_MCAST_IPV4);
		uh->src_port = rte_cpu_to_be_16(dport);
		uh->dst_port = rte_cpu_to_be_16(dport);
		uh->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*uh) +
							    len));
		memcpy(uh + 1, msg, len);
		uh->dgram_cksum = rte_ipv4_udptcp_cksum(ip, uh);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	return m;
}

/*
 * @p msg received in a burst read at TSC @p tsc: the worker passes it
 * up, the slow path hands it to ptp.c, which frees it. @p latched: the
 * NIC latched its stamp (an event frame), and says so as such a PMD
 * does: the flags, and the register in m->timesync.
 */
static void
deliver(const uint8_t *msg, size_t len, uint64_t tsc, bool event,
	bool latched)
{
	struct rte_mbuf *pkts[1];
	struct dpn_burst_result res;

	pkts[0] = frame(msg, len, event);
	if (latched) {
		pkts[0]->ol_flags |= RTE_MBUF_F_RX_IEEE1588_TMST |
			(udp ? 0 : RTE_MBUF_F_RX_IEEE1588_PTP);
		pkts[0]->timesync = RX_REG;
	}
	assert_int_equal(dpn_worker_handle_burst(worker, &worker->rxq[0],
						 pkts, 1, tsc, &snap, &res),
			 0);
	assert_int_equal(rte_ring_count(worker->rxq[0].to_mgmt), 1);
	assert_int_equal(dpn_slowpath_poll(&dp), 1);
	assert_int_equal(rte_ring_count(worker->rxq[0].to_mgmt), 0);
	assert_int_equal(dp.mgmt_stats.c[DPN_STAT_SLOW_IGNORED], 0);
}

static void
announce(uint16_t seq)
{
	uint8_t b[DPN_PTP_ANNOUNCE_LEN];

	ptp_hdr(b, DPN_PTP_ANNOUNCE, sizeof(b), seq, 5, 0);
	b[47] = 128;			/* priority1 */
	b[48] = 6;			/* clockClass: locked to GPS */
	b[49] = 0x21;			/* clockAccuracy: 100 ns */
	put16(b + 50, 0x4e5d);		/* offsetScaledLogVariance */
	b[52] = 128;			/* priority2 */
	memcpy(b + 53, master_id, sizeof(master_id));
	b[63] = 0x20;			/* timeSource: GPS */
	/* flagField 0: the ARB timescale, taken as UTC: no TAI-UTC. */
	deliver(b, sizeof(b), rte_rdtsc(), false, false);
}

/* What the receive register holds when ptp.c reads it for a Sync. */
enum latch {
	LATCH_FRAME,	/* the Sync's own stamp */
	LATCH_STALE,	/* an earlier event frame's, never read */
	LATCH_NONE,	/* nothing */
};

/* A received Sync: when it was on the wire, when software read it. */
struct rx_times {
	int64_t wire;
	int64_t sw;
};

/*
 * The master's two-step Sync @p seq and its Follow_Up, whose t1 is the
 * master's clock when the Sync left: MASTER_AHEAD_NS ahead of ours,
 * PATH_NS before it arrived.
 */
static struct rx_times
sync_exchange(uint16_t seq, enum latch l)
{
	uint8_t b[DPN_PTP_SYNC_LEN];
	uint64_t tsc = rte_rdtsc();
	struct rx_times t;

	t.sw = served_of(tsc);
	t.wire = t.sw - RX_LEAD_NS;
	nic.rx_latched = l != LATCH_NONE;
	nic.rx_nic = nic_of(l == LATCH_STALE ? t.wire - STALE_NS : t.wire);
	ptp_hdr(b, DPN_PTP_SYNC, DPN_PTP_SYNC_LEN, seq, 0, 0);
	b[6] = 0x02;			/* twoStepFlag */
	deliver(b, DPN_PTP_SYNC_LEN, tsc, true, l == LATCH_FRAME);
	ptp_hdr(b, DPN_PTP_FOLLOW_UP, DPN_PTP_FOLLOW_UP_LEN, seq, 2, 0);
	put_ts(b + 34, t.wire + MASTER_AHEAD_NS - PATH_NS);
	deliver(b, DPN_PTP_FOLLOW_UP_LEN, rte_rdtsc(), false, false);
	return t;
}

/*
 * The worker's side of sending.
 */

/* A Delay_Req as it left: its sequenceId and sourcePortIdentity, and
 * the served time of the TSC the worker noted for it (software t3). */
struct dreq {
	uint16_t seq;
	uint8_t port_id[10];
	int64_t sw;
};

/* The Delay_Req in @p m, checked as the master would read it. */
static void
check_delay_req(const struct rte_mbuf *m, struct dreq *d)
{
	const struct rte_ether_hdr *eth =
		rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const uint8_t *b = (const uint8_t *)(eth + 1);
	uint8_t id[8];

	CHECK(rte_is_same_ether_addr(&eth->src_addr, &port_mac),
	      "Delay_Req not from the port's MAC");
	if (!udp) {
		CHECK(rte_is_same_ether_addr(&eth->dst_addr, &ptp_l2_mac) &&
		      eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_1588),
		      "Delay_Req not to the PTP group over Layer 2");
		CHECK(m->pkt_len >= sizeof(*eth) + DPN_PTP_DELAY_REQ_LEN,
		      "Delay_Req frame of %u bytes", m->pkt_len);
	} else {
		const struct rte_ipv4_hdr *ip = (const void *)(eth + 1);
		const struct rte_udp_hdr *uh = (const void *)(ip + 1);
		uint32_t src;

		inet_pton(AF_INET, local4, &src);
		CHECK(rte_is_same_ether_addr(&eth->dst_addr, &ptp_ipv4_mac) &&
		      eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4),
		      "Delay_Req not to 224.0.1.129's MAC over IPv4");
		CHECK(ip->dst_addr == RTE_BE32(DPN_PTP_MCAST_IPV4) &&
		      ip->src_addr == src && ip->next_proto_id == IPPROTO_UDP,
		      "Delay_Req not UDP from our address to 224.0.1.129");
		CHECK(rte_raw_cksum(ip, sizeof(*ip)) == 0xffff,
		      "Delay_Req IPv4 header checksum");
		CHECK(uh->src_port == RTE_BE16(DPN_PTP_EVENT_PORT) &&
		      uh->dst_port == RTE_BE16(DPN_PTP_EVENT_PORT) &&
		      uh->dgram_len == rte_cpu_to_be_16(sizeof(*uh) +
							DPN_PTP_DELAY_REQ_LEN),
		      "Delay_Req not a datagram of 44 bytes from 319 to 319");
		CHECK(rte_ipv4_udptcp_cksum_verify(ip, uh) == 0,
		      "Delay_Req UDP checksum");
		b = (const uint8_t *)(uh + 1);
	}
	dpn_ptp_clock_id_from_mac(id, port_mac.addr_bytes);
	CHECK(b[0] == DPN_PTP_DELAY_REQ && b[1] == 2 &&
	      b[3] == DPN_PTP_DELAY_REQ_LEN && b[4] == 0 && b[32] == 1,
	      "not a Delay_Req of domain 0: %02x %02x %02x %02x %02x", b[0],
	      b[1], b[3], b[4], b[32]);
	CHECK(memcmp(b + 20, id, sizeof(id)) == 0 && b[28] == 0 && b[29] == 1,
	      "Delay_Req sourcePortIdentity not the port's clock, port 1");
	d->seq = (uint16_t)(b[30] << 8 | b[31]);
	memcpy(d->port_id, b + 20, sizeof(d->port_id));
}

/* An IGMPv2 report for 224.0.1.129 (RFC 2236): TTL 1, Router Alert,
 * both checksums right. */
static void
check_igmp(const struct rte_ipv4_hdr *ip)
{
	static const uint8_t ra[4] = { 0x94, 0x04, 0x00, 0x00 };
	const uint8_t *opt = (const uint8_t *)(ip + 1);
	const uint8_t *igmp = opt + sizeof(ra);

	CHECK(ip->version_ihl == 0x46 && ip->time_to_live == 1 &&
	      rte_be_to_cpu_16(ip->total_length) == sizeof(*ip) + 4 + 8 &&
	      ip->dst_addr == RTE_BE32(DPN_PTP_MCAST_IPV4),
	      "IGMP report: not 24 + 8 bytes with TTL 1 to 224.0.1.129");
	CHECK(rte_raw_cksum(ip, sizeof(*ip) + sizeof(ra)) == 0xffff,
	      "IGMP report: IPv4 header checksum");
	CHECK(memcmp(opt, ra, sizeof(ra)) == 0,
	      "IGMP report: no Router Alert option");
	CHECK(igmp[0] == 0x16 && memcmp(igmp + 4, &ip->dst_addr, 4) == 0,
	      "IGMP report: not a v2 report for the group");
	CHECK(rte_raw_cksum(igmp, 8) == 0xffff, "IGMP report: checksum");
}

/*
 * The worker's transmit turn for what the management lcore queued on
 * queue 0, as its loop takes it: the frame asking for its time is
 * found, rte_eth_tx_burst() (here: nothing) takes them all, and the TSC
 * after it goes to the mailbox. @return whether a Delay_Req was among
 * them (in @p d); IGMP reports are counted.
 */
static bool
worker_tx(struct dreq *d)
{
	struct dpn_rxq *q = &worker->rxq[0];
	struct rte_mbuf *pkts[DPN_BURST];
	uint64_t before, after, stamped = q->mgmt_tx_stamped;
	unsigned int n, i;
	uint16_t k;
	bool found = false;

	n = rte_ring_sc_dequeue_burst(q->from_mgmt, (void **)pkts, DPN_BURST,
				      NULL);
	if (n == 0)
		return false;
	k = dpn_worker_mgmt_stamp_index(pkts, 0, (uint16_t)n);
	before = rte_rdtsc();
	after = rte_rdtsc();
	dpn_worker_mgmt_tx_stamp(q, k, (uint16_t)n, before, after);
	for (i = 0; i < n; i++) {
		const struct rte_ether_hdr *eth =
			rte_pktmbuf_mtod(pkts[i], const struct rte_ether_hdr *);
		const struct rte_ipv4_hdr *ip = (const void *)(eth + 1);

		if (i == k) {
			check_delay_req(pkts[i], d);
			d->sw = served_of(after);
			found = true;
		} else {
			CHECK(udp && eth->ether_type ==
			      RTE_BE16(RTE_ETHER_TYPE_IPV4) &&
			      ip->next_proto_id == IPPROTO_IGMP,
			      "frame %u of %u from the management lcore is neither the Delay_Req nor an IGMP report",
			      i, n);
			check_igmp(ip);
			igmp_seen++;
		}
		rte_pktmbuf_free(pkts[i]);
	}
	CHECK(q->mgmt_tx_stamped == stamped + found,
	      "mailbox count %" PRIu64 " after %" PRIu64 ", %s Delay_Req",
	      q->mgmt_tx_stamped, stamped, found ? "a" : "no");
	return found;
}

/* One turn of the slave (sync_refclocks_poll's for a ptp line). */
static void
poll_slave(void)
{
	unsigned int reads = nic.time_reads;
	int64_t lo = mono_ns();

	sync_ptp_poll(&sy, ref);
	if (nic.time_reads != reads) {
		cal_lo = lo;
		cal_hi = mono_ns();
	}
}

/* Poll until the slave sends a Delay_Req, sent by the worker. */
static void
req_out(struct dreq *d)
{
	int64_t end = mono_ns() + 500 * MS_NS;

	for (;;) {
		poll_slave();
		if (worker_tx(d))
			return;
		CHECK(mono_ns() < end, "no Delay_Req in 500 ms");
		usleep(200);
	}
}

/* The master's answer: the Delay_Req reached it PATH_NS after it left
 * at @p t3_wire, on its clock. */
static void
delay_resp(const struct dreq *d, int64_t t3_wire)
{
	uint8_t b[DPN_PTP_DELAY_RESP_LEN];

	ptp_hdr(b, DPN_PTP_DELAY_RESP, sizeof(b), d->seq, 3, LOG_DELAY_REQ);
	put_ts(b + 34, t3_wire + PATH_NS + MASTER_AHEAD_NS);
	memcpy(b + 44, d->port_id, sizeof(d->port_id));
	deliver(b, sizeof(b), rte_rdtsc(), false, false);
}

/*
 * What `show ptp` and the refclock show.
 */

static struct dpn_sync_ptp_info
info(void)
{
	struct dpn_sync_ptp_info i;

	sync_ptp_info(ref, &i);
	return i;
}

/* Receive stamps so far: from the NIC's register, from the TSC, and
 * register stamps refused as not the frame's. */
static void
expect_rx(uint64_t nic_n, uint64_t tsc_n, uint64_t mismatch)
{
	struct dpn_sync_ptp_info i = info();

	CHECK(i.rx_stamp_nic == nic_n && i.rx_stamp_tsc == tsc_n &&
	      i.hw_mismatch == mismatch,
	      "receive stamps: %" PRIu64 " nic, %" PRIu64 " tsc, %" PRIu64
	      " mismatched; want %" PRIu64 ", %" PRIu64 ", %" PRIu64,
	      i.rx_stamp_nic, i.rx_stamp_tsc, i.hw_mismatch, nic_n, tsc_n,
	      mismatch);
	CHECK(i.rx_nic == (nic_n > 0), "show ptp: receive %s",
	      i.rx_nic ? "nic" : "tsc");
}

/* Delay_Req transmit times: taken, of them from the register. */
static void
expect_tx(uint64_t stamps, uint64_t nic_n)
{
	struct dpn_sync_ptp_info i = info();

	CHECK(i.tx_stamps == stamps && i.tx_stamp_nic == nic_n &&
	      i.tx_unstamped == 0 && i.tx_failed == 0,
	      "transmit times: %" PRIu64 " (%" PRIu64 " nic), %" PRIu64
	      " missed, %" PRIu64 " failed; want %" PRIu64 " (%" PRIu64
	      " nic)", i.tx_stamps, i.tx_stamp_nic, i.tx_unstamped,
	      i.tx_failed, stamps, nic_n);
}

/*
 * The newest offset sample, the @p n-th the refclock was given: its
 * offset and path delay, and the time it was taken at, t2 of its Sync.
 */
static void
expect_sample(uint64_t n, int64_t t2, int64_t offset, int64_t delay,
	      int64_t slack)
{
	struct dpn_sync_ptp_info i = info();

	CHECK(ref->readings == n, "%" PRIu64 " readings, want %" PRIu64,
	      ref->readings, n);
	CHECK_NEAR(ref->last_reading_ns, t2, slack, "t2 of the sample");
	CHECK_NEAR(i.offset_ns, offset, slack, "offset");
	CHECK_NEAR(i.delay_ns, delay, slack, "mean path delay");
	CHECK(ref->filter.n > 0 &&
	      ref->filter.offset_ns[ref->filter.n - 1] == i.offset_ns,
	      "the refclock's filter does not hold the sample");
}

/*
 * Scenes.
 */

/* The master's Announces: it qualifies and is followed. */
static void
master_up(void)
{
	struct dpn_sync_ptp_info i;

	announce(1);
	announce(2);
	i = info();
	CHECK(i.have_master && i.state == DPN_PTP_ST_UNCALIBRATED &&
	      memcmp(i.master.port.clock_id, master_id, 8) == 0,
	      "master not followed (state %s)", dpn_ptp_state_str(i.state));
}

/*
 * Everything from the registers: a Sync, a Delay_Req whose stamp has
 * latched by the slave's next turn, its Delay_Resp, and a second Sync
 * that gives the first sample, MASTER_AHEAD_NS at PATH_NS.
 */
static void
register_path(void)
{
	struct rx_times t;
	struct dreq d;

	master_up();
	sync_exchange(1, LATCH_FRAME);
	expect_rx(1, 0, 0);
	CHECK(nic.rx_flags == RX_REG,
	      "read_rx_timestamp given flags %u, not m->timesync %u",
	      nic.rx_flags, RX_REG);
	req_out(&d);
	expect_tx(0, 0);
	nic.tx_latched = true;
	nic.tx_nic = nic_of(d.sw + TX_LAG_NS);
	poll_slave();
	expect_tx(1, 1);
	delay_resp(&d, d.sw + TX_LAG_NS);
	CHECK(info().counters.rx_delay_resp == 1 &&
	      info().counters.rx_unmatched == 0, "Delay_Resp not taken");
	t = sync_exchange(2, LATCH_FRAME);
	expect_rx(2, 0, 0);
	expect_sample(1, t.wire, MASTER_AHEAD_NS, PATH_NS, SLACK_NS);
}

/* Receive and transmit times from the registers; a third Sync makes
 * the port a slave. Only event messages read the receive register. */
static void
register_stamps(void)
{
	struct dpn_sync_ptp_info i;
	struct rx_times t;

	i = info();
	CHECK(i.ieee1588, "show ptp: no IEEE 1588 registers");
	register_path();
	t = sync_exchange(3, LATCH_FRAME);
	expect_rx(3, 0, 0);
	expect_sample(2, t.wire, MASTER_AHEAD_NS, PATH_NS, SLACK_NS);
	i = info();
	CHECK(i.state == DPN_PTP_ST_SLAVE, "state %s",
	      dpn_ptp_state_str(i.state));
	CHECK(nic.rx_reads == 3 && nic.tx_reads == 1,
	      "registers read %u (rx), %u (tx) times; want 3, 1",
	      nic.rx_reads, nic.tx_reads);
	CHECK(!udp || (igmp_seen == 1 && i.igmp_reports == 1),
	      "IGMP reports: %u sent, %" PRIu64 " counted", igmp_seen,
	      i.igmp_reports);
}

static void
test_register_stamps_l2(void **state)
{
	(void)state;
	register_stamps();
}

static void
test_register_stamps_udp4(void **state)
{
	(void)state;
	register_stamps();
}

/*
 * A receive register holding what is not this Sync's stamp: an earlier
 * event frame's (refused, counted in hw_mismatch, the TSC's time used:
 * the offset is RX_LEAD_NS short), or nothing (the TSC's time, no
 * mismatch). The next stamp that fits is taken again.
 */
static void
test_rx_stamp_not_the_frames(void **state)
{
	struct rx_times t;

	(void)state;
	register_path();
	t = sync_exchange(3, LATCH_STALE);
	expect_rx(2, 1, 1);
	expect_sample(2, t.sw, MASTER_AHEAD_NS - RX_LEAD_NS, PATH_NS,
		      SLACK_NS);
	CHECK(!nic.rx_latched, "the stale stamp was not read out");
	t = sync_exchange(4, LATCH_NONE);
	expect_rx(2, 2, 1);
	expect_sample(3, t.sw, MASTER_AHEAD_NS - RX_LEAD_NS, PATH_NS,
		      SLACK_NS);
	t = sync_exchange(5, LATCH_FRAME);
	expect_rx(3, 2, 1);
	expect_sample(4, t.wire, MASTER_AHEAD_NS, PATH_NS, SLACK_NS);
}

/* The transmit register latches after the slave first looks: it waits,
 * and takes the stamp on a later turn. */
static void
test_tx_stamp_late(void **state)
{
	struct rx_times t;
	struct dreq d;

	(void)state;
	master_up();
	sync_exchange(1, LATCH_FRAME);
	req_out(&d);
	poll_slave();
	expect_tx(0, 0);
	CHECK(info().counters.tx_delay_req == 1, "Delay_Req sent again");
	nic.tx_latched = true;
	nic.tx_nic = nic_of(d.sw + TX_LAG_NS);
	poll_slave();
	expect_tx(1, 1);
	delay_resp(&d, d.sw + TX_LAG_NS);
	t = sync_exchange(2, LATCH_FRAME);
	expect_sample(1, t.wire, MASTER_AHEAD_NS, PATH_NS, SLACK_NS);
}

/* The transmit register never latches: after DPN_PTP_HWTS_TX_WAIT_NS
 * the worker's TSC is t3, and the path is TX_LAG_NS / 2 longer. */
static void
test_tx_stamp_missing(void **state)
{
	struct rx_times t;
	struct dreq d;
	int64_t sent;

	(void)state;
	master_up();
	sync_exchange(1, LATCH_FRAME);
	req_out(&d);
	/* No later than the slave's own note of when it was queued. */
	sent = mono_ns();
	poll_slave();
	expect_tx(0, 0);
	/* Not a turn meanwhile: another Delay_Req could come due. */
	usleep((useconds_t)((DPN_PTP_HWTS_TX_WAIT_NS + 10 * MS_NS -
			     (mono_ns() - sent)) / 1000));
	poll_slave();
	expect_tx(1, 0);
	expect_rx(1, 0, 0);
	CHECK(info().counters.tx_delay_req == 1,
	      "a second Delay_Req before the first's Delay_Resp");
	delay_resp(&d, d.sw + TX_LAG_NS);
	t = sync_exchange(2, LATCH_FRAME);
	expect_sample(1, t.wire, MASTER_AHEAD_NS + TX_LAG_NS / 2,
		      PATH_NS + TX_LAG_NS / 2, SLACK_NS);
}

/* The transmit register holds another frame's stamp: refused at once,
 * without waiting (it will not turn into ours), counted. */
static void
test_tx_stamp_stale(void **state)
{
	struct rx_times t;
	struct dreq d;

	(void)state;
	master_up();
	sync_exchange(1, LATCH_FRAME);
	req_out(&d);
	nic.tx_latched = true;
	nic.tx_nic = nic_of(d.sw - STALE_NS);
	poll_slave();
	expect_tx(1, 0);
	expect_rx(1, 0, 1);
	delay_resp(&d, d.sw + TX_LAG_NS);
	t = sync_exchange(2, LATCH_FRAME);
	expect_sample(1, t.wire, MASTER_AHEAD_NS + TX_LAG_NS / 2,
		      PATH_NS + TX_LAG_NS / 2, SLACK_NS);
}

/*
 * The NIC clock is set (a second on) by someone else: its stamps no
 * longer fit and are refused until the next calibration, which comes a
 * second after the last one, not on every turn; then they map again.
 */
static void
test_calibration_each_second(void **state)
{
	struct rx_times t;
	unsigned int reads;
	int64_t now;

	(void)state;
	register_path();
	nic.ahead += SEC_NS;
	t = sync_exchange(3, LATCH_FRAME);
	expect_rx(2, 1, 1);
	expect_sample(2, t.sw, MASTER_AHEAD_NS - RX_LEAD_NS, PATH_NS,
		      SLACK_NS);
	reads = nic.time_reads;
	now = mono_ns();
	if (now < cal_lo + SEC_NS / 2)
		usleep((useconds_t)((cal_lo + SEC_NS / 2 - now) / 1000));
	poll_slave();
	CHECK(nic.time_reads == reads,
	      "NIC clock read again within a second of its calibration");
	now = mono_ns();
	if (now < cal_hi + SEC_NS + MS_NS)
		usleep((useconds_t)((cal_hi + SEC_NS + MS_NS - now) / 1000));
	poll_slave();
	CHECK(nic.time_reads > reads,
	      "NIC clock not read a second after its calibration");
	announce(3);
	t = sync_exchange(4, LATCH_FRAME);
	expect_rx(3, 1, 1);
	expect_sample(3, t.wire, MASTER_AHEAD_NS, PATH_NS, SLACK_NS);
}

/*
 * A port whose PMD has no IEEE 1588 (-ENOTSUP): the registers are never
 * read, every time is the TSC's and t3 is taken at once. Nothing is
 * mapped, so the sample is exact: t2 RX_LEAD_NS late, t3 TX_LAG_NS
 * early.
 */
static void
test_no_timesync(void **state)
{
	struct rx_times t;
	struct dreq d;

	(void)state;
	CHECK(!info().ieee1588, "show ptp: IEEE 1588 on a port without");
	master_up();
	sync_exchange(1, LATCH_FRAME);
	req_out(&d);
	poll_slave();
	expect_tx(1, 0);
	delay_resp(&d, d.sw + TX_LAG_NS);
	t = sync_exchange(2, LATCH_FRAME);
	expect_rx(0, 2, 0);
	expect_sample(1, t.sw, MASTER_AHEAD_NS + (TX_LAG_NS - RX_LEAD_NS) / 2,
		      PATH_NS + (TX_LAG_NS + RX_LEAD_NS) / 2, 0);
	CHECK(nic.time_reads == 0 && nic.rx_reads == 0 && nic.tx_reads == 0,
	      "registers of a port without IEEE 1588 read");
}

/*
 * Setup.
 */

/* The slave of `refclock ptp port 0 transport @p transport` opened by
 * dpn_sync_init() on the simulated NIC (IEEE 1588 there or not). */
static int
slave_open(const char *transport, bool timesync)
{
	char text[256], err[512];

	memset(&nic, 0, sizeof(nic));
	nic.ahead = NIC_AHEAD_NS;
	nic.enable_ret = timesync ? 0 : -ENOTSUP;
	udp = strcmp(transport, "udp4") == 0;
	igmp_seen = 0;
	dp.ports[0].ptp_l2 = dp.ports[0].ptp_udp = false;
	memset(&dp.mgmt_stats, 0, sizeof(dp.mgmt_stats));
	worker->rxq[0].mgmt_tx_stamped = 0;
	/* The Delay_Req schedule draws from rte_rand(): the same each run. */
	rte_srand(RAND_SEED);
	snprintf(text, sizeof(text),
		 "listen port 0 address %s/24\n"
		 "refclock ptp port 0 transport %s\n", local4, transport);
	if (dpn_conf_parse_string(&conf, "test_ptp_sync", text, err,
				  sizeof(err)) != 0) {
		print_error("conf: %s\n", err);
		return -1;
	}
	/* Nothing from the host's files. */
	conf.disc.driftfile[0] = '\0';
	conf.disc.leapfile[0] = '\0';
	dpn_refclock_system_init(&rs, &conf.refclock_system);
	sync_ptp_set_hwts_ops(dp.ports[0].port_id, &sim_ops);
	if (dpn_sync_init(&sy, &dp, &conf, &rs, false, err,
			  sizeof(err)) != 0) {
		print_error("dpn_sync_init: %s\n", err);
		return -1;
	}
	if (sy.nb_refclocks != 1 || sy.refclocks[0].ptp == NULL ||
	    dp.ptp_rx == NULL) {
		print_error("no PTP slave opened\n");
		return -1;
	}
	ref = &sy.refclocks[0];
	return 0;
}

static int
setup_l2(void **state)
{
	(void)state;
	return slave_open("l2", true);
}

static int
setup_udp4(void **state)
{
	(void)state;
	return slave_open("udp4", true);
}

static int
setup_no_timesync(void **state)
{
	(void)state;
	return slave_open("l2", false);
}

/* Close the slave; every mbuf must be back in the pool. */
static int
slave_close(void **state)
{
	struct rte_mbuf *m;
	unsigned int avail;

	(void)state;
	dpn_sync_fini(&sy);
	dpn_conf_free(&conf);
	sync_ptp_set_hwts_ops(dp.ports[0].port_id, NULL);
	/* Delay_Reqs the test did not send (a turn came due meanwhile). */
	while (rte_ring_sc_dequeue(worker->rxq[0].from_mgmt,
				   (void **)&m) == 0)
		rte_pktmbuf_free(m);
	avail = rte_mempool_avail_count(pool);
	if (avail != POOL_SIZE) {
		print_error("%u mbufs not back in the pool\n",
			    POOL_SIZE - avail);
		return -1;
	}
	return 0;
}

/* Port 0 with one worker owning its queue 0, as port.c leaves them
 * for a port without the receive timestamp offload. */
static int
make_dataplane(void)
{
	struct dpn_port *port = &dp.ports[0];
	struct dpn_rxq *q;

	memset(&dp, 0, sizeof(dp));
	pool = rte_pktmbuf_pool_create("test_ptp_sync", POOL_SIZE, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	worker = rte_zmalloc("test_ptp_sync", sizeof(*worker),
			     RTE_CACHE_LINE_SIZE);
	if (pool == NULL || worker == NULL)
		return -1;
	dp.nb_ports = 1;
	port->port_id = 0;
	port->nb_queues = 1;
	port->mac = port_mac;
	port->pool = pool;
	snprintf(port->name, sizeof(port->name), "sim1588");
	inet_pton(AF_INET, local4, &port->addrs.v4[0]);
	port->addrs.v4_bcast[0] = port->addrs.v4[0] | RTE_BE32(0xff);
	port->addrs.v4_prefix[0] = 24;
	port->addrs.nb_v4 = 1;
	port->rx_stamp_source = DPN_RX_STAMP_TSC;
	dpn_nicfit_init(&port->fit, NULL, 0);
	dpn_clock_init(&clock_pub);
	dp.clock = &clock_pub;
	dp.nb_workers = 1;
	dp.workers[0] = worker;
	worker->nb_rxq = 1;
	worker->rx_tsc_dynfield_offset = dpn_rx_tsc_dynfield_register();
	if (worker->rx_tsc_dynfield_offset < 0)
		return -1;
	q = &worker->rxq[0];
	q->port = port;
	q->port_id = port->port_id;
	q->queue_id = 0;
	q->to_mgmt = rte_ring_create("test_ptp_sync_up", DPN_RING_SIZE,
				     SOCKET_ID_ANY,
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	q->from_mgmt = rte_ring_create("test_ptp_sync_down", DPN_RING_SIZE,
				       SOCKET_ID_ANY,
				       RING_F_SP_ENQ | RING_F_SC_DEQ);
	return q->to_mgmt != NULL && q->from_mgmt != NULL ? 0 : -1;
}

static int
eal_setup(void **state)
{
	static char prefix[64];
	char *argv[] = {
		"test_ptp_sync", "--no-huge", "-m", "256", "--no-pci", "-l",
		"0", "--no-shconf", "--no-telemetry", "--file-prefix", prefix,
		"--log-level=error",
		/* Port 0 is no ethdev: joining the PTP group fails, as it
		 * may on a real port, and is not what is tested here. */
		"--log-level=lib.ethdev:critical",
		NULL,
	};

	(void)state;
	snprintf(prefix, sizeof(prefix), "dpntest_ptp_sync_%d",
		 (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		print_error("rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	if (make_dataplane() != 0) {
		print_error("data plane setup: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int
eal_teardown(void **state)
{
	char dir[PATH_MAX];

	(void)state;
	rte_ring_free(worker->rxq[0].to_mgmt);
	rte_ring_free(worker->rxq[0].from_mgmt);
	rte_free(worker);
	rte_mempool_free(pool);
	/* With --no-shconf and --no-telemetry the runtime directory is
	 * empty after cleanup: remove it. */
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
	return 0;
}

#define T(f, setup) cmocka_unit_test_setup_teardown(f, setup, slave_close)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_register_stamps_l2, setup_l2),
		T(test_register_stamps_udp4, setup_udp4),
		T(test_rx_stamp_not_the_frames, setup_l2),
		T(test_tx_stamp_late, setup_l2),
		T(test_tx_stamp_missing, setup_l2),
		T(test_tx_stamp_stale, setup_udp4),
		T(test_calibration_each_second, setup_l2),
		T(test_no_timesync, setup_no_timesync),
	};

	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
