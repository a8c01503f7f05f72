/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/ptp: a PTPv2 slave fed hand-built messages and
 * made-up times. The messages are written byte by byte by the small
 * builder below (never by the code under test), and each exchange is
 * set up from a known offset and path delay, so a wrong sign, a lost
 * correction or a TAI/UTC mix-up shows as a wrong number.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dpn_ptp.h"

#define NS 1000000000LL
/* Our clock at the start of every scenario. */
#define T0 (1700000000LL * NS)
/* The master is this far ahead of us, over a path this long. */
#define OFS 500000LL
#define DLY 20000LL

static const uint8_t our_mac[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };

/* ---- the message builder ---------------------------------------------- */

/* A master as its Announces describe it, and its sequence counters. */
struct master {
	uint8_t clk[8];
	uint16_t port;
	uint8_t domain;
	uint8_t p1, cls, acc, p2;
	uint16_t var, steps;
	uint8_t gm[8];
	int16_t utc;
	uint8_t flags7;
	int8_t logi;
	uint16_t seq;		/* next Announce sequenceId */
};

/* A GPS-locked grandmaster of identity id:id:...; ARB timescale, so
 * its times are taken as they are. */
static void
master_init(struct master *m, uint8_t id)
{
	memset(m, 0, sizeof(*m));
	memset(m->clk, id, sizeof(m->clk));
	memcpy(m->gm, m->clk, sizeof(m->gm));
	m->port = 1;
	m->p1 = 128;
	m->cls = 6;
	m->acc = 0x21;
	m->var = 0x4e5d;
	m->p2 = 128;
	m->utc = 37;
	m->seq = 100;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_ts(uint8_t *p, int64_t ns)
{
	uint64_t sec = (uint64_t)(ns / NS);
	uint32_t frac = (uint32_t)(ns % NS);

	put16(p, (uint16_t)(sec >> 32));
	put16(p + 2, (uint16_t)(sec >> 16));
	put16(p + 4, (uint16_t)sec);
	put16(p + 6, (uint16_t)(frac >> 16));
	put16(p + 8, (uint16_t)frac);
}

static void
put_hdr(uint8_t *p, const struct master *m, uint8_t type, uint16_t len,
	uint16_t seq, int64_t corr_ns)
{
	uint64_t corr = (uint64_t)(corr_ns * 65536);
	int i;

	memset(p, 0, len);
	p[0] = type;
	p[1] = 2;
	put16(p + 2, len);
	p[4] = m->domain;
	for (i = 0; i < 8; i++)
		p[8 + i] = (uint8_t)(corr >> (56 - 8 * i));
	memcpy(p + 20, m->clk, 8);
	put16(p + 28, m->port);
	put16(p + 30, seq);
	p[33] = (uint8_t)m->logi;
}

static size_t
build_announce(uint8_t *p, struct master *m)
{
	put_hdr(p, m, 0xb, 64, m->seq++, 0);
	p[32] = 5;
	p[7] = m->flags7;
	put16(p + 44, (uint16_t)m->utc);
	p[47] = m->p1;
	p[48] = m->cls;
	p[49] = m->acc;
	put16(p + 50, m->var);
	p[52] = m->p2;
	memcpy(p + 53, m->gm, 8);
	put16(p + 61, m->steps);
	p[63] = 0x20;	/* GPS */
	return 64;
}

static size_t
build_sync(uint8_t *p, const struct master *m, uint16_t seq, int two_step,
	   int64_t origin, int64_t corr_ns)
{
	put_hdr(p, m, 0x0, 44, seq, corr_ns);
	if (two_step)
		p[6] = 0x02;
	put_ts(p + 34, origin);
	return 44;
}

static size_t
build_follow_up(uint8_t *p, const struct master *m, uint16_t seq,
		int64_t origin, int64_t corr_ns)
{
	put_hdr(p, m, 0x8, 44, seq, corr_ns);
	p[32] = 2;
	put_ts(p + 34, origin);
	return 44;
}

static size_t
build_delay_resp(uint8_t *p, const struct master *m, uint16_t seq,
		 int64_t rts, int64_t corr_ns, const uint8_t *req_clk,
		 uint16_t req_port, int8_t logi)
{
	put_hdr(p, m, 0x9, 54, seq, corr_ns);
	p[32] = 3;
	p[33] = (uint8_t)logi;
	put_ts(p + 34, rts);
	memcpy(p + 44, req_clk, 8);
	put16(p + 52, req_port);
	return 54;
}

/* ---- driving the slave ------------------------------------------------ */

static void
slave_init(struct dpn_ptp_slave *s, unsigned int filter_len)
{
	struct dpn_ptp_params p;

	dpn_ptp_params_init(&p);
	dpn_ptp_clock_id_from_mac(p.clock_id, our_mac);
	p.delay_filter_len = filter_len;
	dpn_ptp_slave_init(s, &p, T0);
}

static enum dpn_ptp_rx_result
announce(struct dpn_ptp_slave *s, struct master *m, int64_t rx)
{
	uint8_t b[64];

	return dpn_ptp_slave_rx(s, b, build_announce(b, m), rx);
}

/* Two Announces one second apart: a qualified master. */
static void
qualify(struct dpn_ptp_slave *s, struct master *m, int64_t rx)
{
	announce(s, m, rx);
	announce(s, m, rx + NS);
}

/* A two-step Sync + Follow_Up whose t1 and t2 are as given. */
static enum dpn_ptp_rx_result
sync2(struct dpn_ptp_slave *s, const struct master *m, uint16_t seq,
      int64_t t1, int64_t t2)
{
	uint8_t b[44];

	assert_int_equal(dpn_ptp_slave_rx(s, b,
			 build_sync(b, m, seq, 1, 0, 0), t2), DPN_PTP_RX_OK);
	return dpn_ptp_slave_rx(s, b, build_follow_up(b, m, seq, t1, 0),
				t2 + 1000000);
}

/* Send the due Delay_Req at @now, stamp it t3 and answer it with t4.
 * The master announces first, so that long runs keep it. */
static enum dpn_ptp_rx_result
delay_round(struct dpn_ptp_slave *s, struct master *m, int64_t now,
	    int64_t t3, int64_t t4)
{
	uint8_t req[DPN_PTP_DELAY_REQ_LEN], b[54];
	uint16_t seq;

	announce(s, m, now);
	assert_int_equal(dpn_ptp_slave_poll(s, now, req, sizeof(req), &seq),
			 DPN_PTP_DELAY_REQ_LEN);
	dpn_ptp_slave_tx_stamp(s, seq, t3);
	return dpn_ptp_slave_rx(s, b, build_delay_resp(b, m, seq, t4, 0,
			 s->self.clock_id, 1, 0), t4 - OFS);
}

/* The t4 that makes the path delay of a round exactly @d against the
 * latest exchange (t1, t2). */
static int64_t
t4_for(const struct dpn_ptp_slave *s, int64_t t3, int64_t d)
{
	return t3 + 2 * d - (s->t2 - s->t1);
}

/*
 * Follow @m from T0 to SLAVE: the exchange at T0+2s, a Delay_Req at
 * T0+2.1s, exchanges at T0+3s and T0+4s giving the first two samples.
 * The master is OFS ahead over a path of DLY.
 */
static void
calibrate(struct dpn_ptp_slave *s, struct master *m)
{
	struct dpn_ptp_sample smp;
	int64_t t2 = T0 + 2 * NS, t3 = T0 + 2 * NS + NS / 10;

	qualify(s, m, T0);
	assert_int_equal(sync2(s, m, 1, t2 + OFS - DLY, t2), DPN_PTP_RX_OK);
	assert_int_equal(delay_round(s, m, t3, t3, t3 + OFS + DLY),
			 DPN_PTP_RX_OK);
	t2 += NS;
	assert_int_equal(sync2(s, m, 2, t2 + OFS - DLY, t2),
			 DPN_PTP_RX_SAMPLE);
	assert_int_equal(dpn_ptp_slave_state(s), DPN_PTP_ST_UNCALIBRATED);
	t2 += NS;
	assert_int_equal(sync2(s, m, 3, t2 + OFS - DLY, t2),
			 DPN_PTP_RX_SAMPLE);
	assert_int_equal(dpn_ptp_slave_sample(s, &smp), 1);
	assert_int_equal(dpn_ptp_slave_state(s), DPN_PTP_ST_SLAVE);
}

/* ---- wire format ------------------------------------------------------ */

static void
test_clock_id_and_text(void **state)
{
	static const uint8_t want[8] = {
		0x00, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55 };
	struct dpn_ptp_port_identity id;
	char buf[DPN_PTP_PORT_ID_STRLEN], small[8];

	dpn_ptp_clock_id_from_mac(id.clock_id, our_mac);
	assert_memory_equal(id.clock_id, want, 8);
	id.port_number = 1;
	assert_string_equal(dpn_ptp_port_identity_str(&id, buf, sizeof(buf)),
			    "001122.fffe.334455-1");
	id.port_number = 65535;
	assert_string_equal(dpn_ptp_port_identity_str(&id, buf, sizeof(buf)),
			    "001122.fffe.334455-65535");
	assert_string_equal(dpn_ptp_port_identity_str(&id, small,
			    sizeof(small)), "001122.");
	assert_string_equal(dpn_ptp_port_identity_str(&id, buf, 0), "");
	assert_string_equal(dpn_ptp_state_str(DPN_PTP_ST_LISTENING),
			    "listening");
	assert_string_equal(dpn_ptp_state_str(DPN_PTP_ST_UNCALIBRATED),
			    "uncalibrated");
	assert_string_equal(dpn_ptp_state_str(DPN_PTP_ST_SLAVE), "slave");
	assert_int_equal(dpn_ptp_mcast_mac[0], 0x01);
	assert_int_equal(dpn_ptp_mcast_mac[1], 0x1b);
	assert_int_equal(dpn_ptp_mcast_mac[2], 0x19);
}

static void
test_is_event(void **state)
{
	uint8_t b[1];

	b[0] = 0x00;		/* Sync */
	assert_true(dpn_ptp_is_event(b, 1));
	b[0] = 0x01;		/* Delay_Req */
	assert_true(dpn_ptp_is_event(b, 1));
	b[0] = 0x12;		/* Pdelay_Req, transportSpecific 1 */
	assert_true(dpn_ptp_is_event(b, 1));
	b[0] = 0x08;		/* Follow_Up */
	assert_false(dpn_ptp_is_event(b, 1));
	b[0] = 0x1b;		/* Announce, transportSpecific 1 */
	assert_false(dpn_ptp_is_event(b, 1));
	assert_false(dpn_ptp_is_event(b, 0));
}

static void
test_parse_rejects(void **state)
{
	struct dpn_ptp_slave s;
	struct master a;
	uint8_t b[80];
	size_t n;

	slave_init(&s, 10);
	master_init(&a, 0xaa);

	/* Short: less than the header, or than messageLength. */
	n = build_sync(b, &a, 1, 0, T0, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, 33, T0), DPN_PTP_RX_BAD);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, n - 1, T0), DPN_PTP_RX_BAD);
	assert_int_equal(dpn_ptp_slave_rx(&s, NULL, 0, T0), DPN_PTP_RX_BAD);
	/* PTPv1. */
	b[1] = 1;
	assert_int_equal(dpn_ptp_slave_rx(&s, b, n, T0), DPN_PTP_RX_BAD);
	/* minorVersionPTP 1 (1588-2019) is still version 2. */
	b[1] = 0x12;
	assert_int_equal(dpn_ptp_slave_rx(&s, b, n, T0), DPN_PTP_RX_IGNORED);
	/* messageLength below the type's body. */
	n = build_announce(b, &a);
	put16(b + 2, 44);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, n, T0), DPN_PTP_RX_BAD);
	n = build_delay_resp(b, &a, 1, T0, 0, s.self.clock_id, 1, 0);
	put16(b + 2, 53);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, n, T0), DPN_PTP_RX_BAD);
	/* ns of a timestamp past a second. */
	n = build_sync(b, &a, 1, 0, T0, 0);
	put16(b + 40, 0x3b9a);	/* 1000000000 = 0x3b9aca00 */
	put16(b + 42, 0xca00);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, n, T0), DPN_PTP_RX_BAD);
	n = build_follow_up(b, &a, 1, T0, 0);
	put16(b + 40, 0xffff);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, n, T0), DPN_PTP_RX_BAD);
	n = build_delay_resp(b, &a, 1, T0, 0, s.self.clock_id, 1, 0);
	put16(b + 40, 0x3b9a);
	put16(b + 42, 0xca00);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, n, T0), DPN_PTP_RX_BAD);
	/* A correctionField saying "too big". */
	n = build_sync(b, &a, 1, 0, T0, 0);
	memset(b + 8, 0xff, 8);
	b[8] = 0x7f;
	assert_int_equal(dpn_ptp_slave_rx(&s, b, n, T0), DPN_PTP_RX_BAD);
	assert_int_equal(s.cnt.rx_bad, 10);

	/* Another domain: ignored and counted, not bad. */
	a.domain = 4;
	n = build_announce(b, &a);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, n, T0), DPN_PTP_RX_IGNORED);
	assert_int_equal(s.cnt.rx_other_domain, 1);
	assert_int_equal(s.cnt.rx_announce, 0);
	assert_int_equal(s.cnt.rx_bad, 10);

	/* Ethernet padding after messageLength is fine. */
	a.domain = 0;
	memset(b, 0xee, sizeof(b));
	n = build_announce(b, &a);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, n + 16, T0), DPN_PTP_RX_OK);
}

static void
test_ignored_messages(void **state)
{
	struct dpn_ptp_slave s;
	struct master a, self;
	uint8_t b[64];

	slave_init(&s, 10);
	master_init(&a, 0xaa);
	/* Another slave's Delay_Req, peer delay, signalling, management. */
	put_hdr(b, &a, 0x1, 44, 1, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, 44, T0), DPN_PTP_RX_IGNORED);
	put_hdr(b, &a, 0x2, 54, 1, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, 54, T0), DPN_PTP_RX_IGNORED);
	put_hdr(b, &a, 0xc, 44, 1, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, 44, T0), DPN_PTP_RX_IGNORED);
	put_hdr(b, &a, 0xd, 48, 1, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, 48, T0), DPN_PTP_RX_IGNORED);
	assert_int_equal(s.cnt.rx_bad, 0);

	/* Our own Announces (a looped-back frame) make no master. */
	master_init(&self, 0);
	memcpy(self.clk, s.self.clock_id, 8);
	qualify(&s, &self, T0);
	assert_null(dpn_ptp_slave_master(&s));
	assert_int_equal(s.cnt.rx_announce, 0);
}

/* ---- best master ------------------------------------------------------ */

static void
ds_init(struct dpn_ptp_master *m, uint8_t id)
{
	memset(m, 0, sizeof(*m));
	memset(m->port.clock_id, id, 8);
	m->port.port_number = 1;
	memcpy(m->gm_id, m->port.clock_id, 8);
	m->priority1 = 128;
	m->clock_class = 6;
	m->clock_accuracy = 0x21;
	m->variance = 0x4e5d;
	m->priority2 = 128;
}

/* a better than b, both ways round. */
static void
assert_better(const struct dpn_ptp_master *a, const struct dpn_ptp_master *b)
{
	assert_true(dpn_ptp_master_cmp(a, b) < 0);
	assert_true(dpn_ptp_master_cmp(b, a) > 0);
}

static void
test_bmca_dataset_order(void **state)
{
	struct dpn_ptp_master a, b;

	/* Each field wins over every later one: a is better in the field
	 * under test and worse in all that follow it. */
	ds_init(&a, 0xbb);
	ds_init(&b, 0xaa);
	a.priority1 = 127;
	a.clock_class = 248;
	a.clock_accuracy = 0xfe;
	a.variance = 0xffff;
	a.priority2 = 255;
	assert_better(&a, &b);		/* priority1 */
	a.priority1 = 128;
	b.clock_class = 7;
	a.clock_class = 6;
	assert_better(&a, &b);		/* clockClass */
	b.clock_class = 6;
	b.clock_accuracy = 0x22;
	a.clock_accuracy = 0x21;
	assert_better(&a, &b);		/* clockAccuracy */
	b.clock_accuracy = 0x21;
	b.variance = 0x4e5e;
	a.variance = 0x4e5d;
	assert_better(&a, &b);		/* offsetScaledLogVariance */
	b.variance = 0x4e5d;
	b.priority2 = 129;
	a.priority2 = 128;
	assert_better(&a, &b);		/* priority2 */
	b.priority2 = 128;
	assert_better(&b, &a);		/* grandmasterIdentity: aa < bb */

	/* Different grandmasters: stepsRemoved is not looked at. */
	a.steps_removed = 0;
	b.steps_removed = 5;
	assert_better(&b, &a);
}

static void
test_bmca_same_grandmaster(void **state)
{
	struct dpn_ptp_master a, b;

	/* One grandmaster seen through two boundary clocks. */
	ds_init(&a, 0x11);
	ds_init(&b, 0x22);
	memset(a.gm_id, 0x99, 8);
	memset(b.gm_id, 0x99, 8);
	/* Their clock qualities are the grandmaster's: the same. */
	a.steps_removed = 3;
	b.steps_removed = 1;
	assert_better(&b, &a);		/* more than one step apart */
	a.steps_removed = 2;
	assert_better(&b, &a);		/* one apart: by topology */
	a.steps_removed = 1;
	assert_better(&a, &b);		/* equal: sender 11.. < 22.. */
	memcpy(b.port.clock_id, a.port.clock_id, 8);
	b.port.port_number = 2;
	assert_better(&a, &b);		/* then the sender port number */
	b.port.port_number = 1;
	assert_int_equal(dpn_ptp_master_cmp(&a, &b), 0);
}

static void
test_qualification(void **state)
{
	struct dpn_ptp_slave s;
	struct master a;
	uint8_t b[64];

	slave_init(&s, 10);
	master_init(&a, 0xaa);
	assert_int_equal(announce(&s, &a, T0), DPN_PTP_RX_OK);
	assert_null(dpn_ptp_slave_master(&s));
	assert_int_equal(dpn_ptp_slave_state(&s), DPN_PTP_ST_LISTENING);
	/* The same Announce again (duplicated frame) is not a second. */
	a.seq--;
	announce(&s, &a, T0 + NS);
	assert_null(dpn_ptp_slave_master(&s));
	/* Five intervals later is outside the window of four. */
	announce(&s, &a, T0 + 6 * NS);
	assert_null(dpn_ptp_slave_master(&s));
	/* The next, a second on, qualifies it. */
	announce(&s, &a, T0 + 7 * NS);
	assert_non_null(dpn_ptp_slave_master(&s));
	assert_int_equal(dpn_ptp_slave_state(&s), DPN_PTP_ST_UNCALIBRATED);
	assert_int_equal(s.cnt.master_changes, 1);
	assert_int_equal(s.cnt.rx_announce, 4);

	/* What the master says of itself, for show ptp. */
	assert_memory_equal(dpn_ptp_slave_master(&s)->port.clock_id, a.clk, 8);
	assert_int_equal(dpn_ptp_slave_master(&s)->clock_class, 6);
	assert_int_equal(dpn_ptp_slave_master(&s)->utc_offset, 37);
	assert_int_equal(dpn_ptp_slave_master(&s)->time_source, 0x20);
	assert_int_equal(dpn_ptp_slave_master(&s)->last_announce_ns,
			 T0 + 7 * NS);

	/* 255 steps from the grandmaster: not qualified. */
	slave_init(&s, 10);
	master_init(&a, 0xaa);
	a.steps = 255;
	build_announce(b, &a);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, 64, T0), DPN_PTP_RX_IGNORED);
	build_announce(b, &a);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, 64, T0 + NS),
			 DPN_PTP_RX_IGNORED);
	assert_null(dpn_ptp_slave_master(&s));
}

static void
test_select_switch_fallback(void **state)
{
	struct dpn_ptp_slave s;
	struct master a, b, c;
	int64_t t;

	slave_init(&s, 10);
	master_init(&a, 0xaa);
	master_init(&b, 0xbb);
	master_init(&c, 0xcc);
	b.p1 = 100;	/* b better than a */
	c.p1 = 50;	/* c better than both */

	/* Two announce: the better one is chosen. */
	announce(&s, &a, T0);
	announce(&s, &b, T0);
	announce(&s, &a, T0 + NS);
	assert_memory_equal(dpn_ptp_slave_master(&s)->port.clock_id, a.clk, 8);
	announce(&s, &b, T0 + NS);
	assert_memory_equal(dpn_ptp_slave_master(&s)->port.clock_id, b.clk, 8);
	assert_int_equal(s.cnt.master_changes, 2);

	/* A better one appears: taken once qualified. */
	calibrate(&s, &b);	/* also re-announces b at T0, T0+1s */
	announce(&s, &c, T0 + 4 * NS);
	assert_memory_equal(dpn_ptp_slave_master(&s)->port.clock_id, b.clk, 8);
	assert_int_equal(dpn_ptp_slave_state(&s), DPN_PTP_ST_SLAVE);
	announce(&s, &c, T0 + 5 * NS);
	assert_memory_equal(dpn_ptp_slave_master(&s)->port.clock_id, c.clk, 8);
	assert_int_equal(s.cnt.master_changes, 3);
	/* The measurement starts again against c. */
	assert_int_equal(dpn_ptp_slave_state(&s), DPN_PTP_ST_UNCALIBRATED);
	assert_false(s.delay_valid);
	assert_int_equal(dpn_ptp_slave_poll(&s, T0 + 5 * NS, NULL, 0, NULL),
			 0);

	/* c stops; a and b go on each second. c's last was at 5 s:
	 * 3 intervals later it is dropped and b, the better, is back. */
	for (t = T0 + 6 * NS; t <= T0 + 8 * NS; t += NS) {
		announce(&s, &a, t);
		announce(&s, &b, t);
		dpn_ptp_slave_poll(&s, t - 1, NULL, 0, NULL);
		assert_memory_equal(dpn_ptp_slave_master(&s)->port.clock_id,
				    c.clk, 8);
	}
	dpn_ptp_slave_poll(&s, T0 + 8 * NS, NULL, 0, NULL);
	assert_memory_equal(dpn_ptp_slave_master(&s)->port.clock_id, b.clk, 8);
	assert_int_equal(s.cnt.announce_timeouts, 1);
	assert_int_equal(s.cnt.master_changes, 4);
	assert_int_equal(dpn_ptp_slave_state(&s), DPN_PTP_ST_UNCALIBRATED);

	/* All stop (last at 8 s): b goes at 11 s, then a, at the same
	 * time, with no one left: listening. */
	dpn_ptp_slave_poll(&s, T0 + 11 * NS - 1, NULL, 0, NULL);
	assert_non_null(dpn_ptp_slave_master(&s));
	dpn_ptp_slave_poll(&s, T0 + 11 * NS, NULL, 0, NULL);
	assert_null(dpn_ptp_slave_master(&s));
	assert_int_equal(dpn_ptp_slave_state(&s), DPN_PTP_ST_LISTENING);
	assert_int_equal(s.cnt.announce_timeouts, 2);
}

static void
test_announce_interval_and_step(void **state)
{
	struct dpn_ptp_slave s;
	struct master a;

	/* logAnnounceInterval 2: 4 s intervals, a 12 s timeout. */
	slave_init(&s, 10);
	master_init(&a, 0xaa);
	a.logi = 2;
	announce(&s, &a, T0);
	announce(&s, &a, T0 + 4 * NS);
	assert_non_null(dpn_ptp_slave_master(&s));
	dpn_ptp_slave_poll(&s, T0 + 16 * NS - 1, NULL, 0, NULL);
	assert_non_null(dpn_ptp_slave_master(&s));
	/* Our clock stepped 10 s forward: told, the master stays. */
	dpn_ptp_slave_clock_step(&s, 10 * NS);
	dpn_ptp_slave_poll(&s, T0 + 25 * NS, NULL, 0, NULL);
	assert_non_null(dpn_ptp_slave_master(&s));
	dpn_ptp_slave_poll(&s, T0 + 26 * NS, NULL, 0, NULL);
	assert_null(dpn_ptp_slave_master(&s));
}

static void
test_foreign_table_full(void **state)
{
	struct dpn_ptp_slave s;
	struct master m[DPN_PTP_MAX_FOREIGN + 4], best;
	int i;

	slave_init(&s, 10);
	master_init(&best, 0x01);
	qualify(&s, &best, T0);
	/* Strangers beyond the table's size never take the selected
	 * master's record. */
	for (i = 0; i < DPN_PTP_MAX_FOREIGN + 4; i++) {
		master_init(&m[i], (uint8_t)(0x40 + i));
		announce(&s, &m[i], T0 + NS + i);
	}
	assert_memory_equal(dpn_ptp_slave_master(&s)->port.clock_id,
			    best.clk, 8);
	/* The newest stranger got a record and can qualify. */
	m[DPN_PTP_MAX_FOREIGN + 3].p1 = 0;
	announce(&s, &m[DPN_PTP_MAX_FOREIGN + 3], T0 + 2 * NS);
	assert_memory_equal(dpn_ptp_slave_master(&s)->port.clock_id,
			    m[DPN_PTP_MAX_FOREIGN + 3].clk, 8);
}

/* ---- offsets and delays ----------------------------------------------- */

static void
test_two_step_exact(void **state)
{
	struct dpn_ptp_slave s;
	struct dpn_ptp_sample smp;
	struct master a;
	int64_t t1, t2, t3, t4;

	slave_init(&s, 10);
	master_init(&a, 0xaa);
	qualify(&s, &a, T0);
	/* t1..t4 from the offset and delay: master OFS ahead, DLY path. */
	t2 = T0 + 2 * NS + 123456789;
	t1 = t2 + OFS - DLY;
	assert_int_equal(sync2(&s, &a, 1, t1, t2), DPN_PTP_RX_OK);
	/* No delay yet: no sample. */
	assert_int_equal(dpn_ptp_slave_sample(&s, &smp), 0);
	t3 = t2 + 50000000;
	t4 = t3 + OFS + DLY;
	assert_int_equal(delay_round(&s, &a, t3, t3, t4), DPN_PTP_RX_OK);
	assert_true(s.delay_valid);
	assert_int_equal(s.delay_ns, DLY);

	t2 += NS;
	assert_int_equal(sync2(&s, &a, 2, t2 + OFS - DLY, t2),
			 DPN_PTP_RX_SAMPLE);
	assert_int_equal(dpn_ptp_slave_sample(&s, &smp), 1);
	assert_int_equal(smp.offset_ns, OFS);
	assert_int_equal(smp.delay_ns, DLY);
	assert_int_equal(smp.local_ns, t2);
	assert_int_equal(smp.leap, 0);
	assert_int_equal(s.offset_ns, OFS);
	/* Once. */
	assert_int_equal(dpn_ptp_slave_sample(&s, &smp), 0);
	assert_int_equal(dpn_ptp_slave_state(&s), DPN_PTP_ST_UNCALIBRATED);

	/* The master runs 1 ms ahead now: the offset follows, the delay
	 * does not. */
	t2 += NS;
	assert_int_equal(sync2(&s, &a, 3, t2 + 1000000 - DLY, t2),
			 DPN_PTP_RX_SAMPLE);
	assert_int_equal(dpn_ptp_slave_sample(&s, &smp), 1);
	assert_int_equal(smp.offset_ns, 1000000);
	assert_int_equal(dpn_ptp_slave_state(&s), DPN_PTP_ST_SLAVE);
	assert_int_equal(s.cnt.rx_sync, 3);
	assert_int_equal(s.cnt.rx_follow_up, 3);
	assert_int_equal(s.cnt.rx_delay_resp, 1);
	assert_int_equal(s.cnt.tx_delay_req, 1);
	assert_int_equal(a.logi, dpn_ptp_slave_master(&s)->log_sync_interval);
}

static void
test_one_step(void **state)
{
	struct dpn_ptp_slave s;
	struct dpn_ptp_sample smp;
	struct master a;
	uint8_t b[44];
	int64_t t2, t3;

	slave_init(&s, 10);
	master_init(&a, 0xaa);
	qualify(&s, &a, T0);
	/* One-step: t1 is the Sync's originTimestamp plus its correction
	 * (residence times of transparent clocks: 3 us here, -2 us next). */
	t2 = T0 + 2 * NS;
	build_sync(b, &a, 1, 0, t2 + OFS - DLY - 3000, 3000);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, 44, t2), DPN_PTP_RX_OK);
	t3 = t2 + NS / 10;
	delay_round(&s, &a, t3, t3, t3 + OFS + DLY);
	assert_int_equal(s.delay_ns, DLY);
	t2 += NS;
	build_sync(b, &a, 2, 0, t2 + OFS - DLY + 2000, -2000);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, 44, t2), DPN_PTP_RX_SAMPLE);
	assert_int_equal(dpn_ptp_slave_sample(&s, &smp), 1);
	assert_int_equal(smp.offset_ns, OFS);
	assert_int_equal(smp.local_ns, t2);
	/* No Follow_Up is waited for. */
	build_follow_up(b, &a, 2, t2, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, 44, t2), DPN_PTP_RX_IGNORED);
	assert_int_equal(s.cnt.rx_unmatched, 1);
}

/*
 * Corrections on all three messages, positive and negative: the
 * stamps the master puts on the wire are off by exactly the
 * corrections, so the result must be the same offset and delay.
 */
static void
check_corrections(int64_t cs, int64_t cf, int64_t cr)
{
	struct dpn_ptp_slave s;
	struct dpn_ptp_sample smp;
	struct master a;
	uint8_t b[54], req[44];
	int64_t t1, t2, t3, t4;
	uint16_t seq;
	int i;

	slave_init(&s, 10);
	master_init(&a, 0xaa);
	qualify(&s, &a, T0);
	t2 = T0 + 2 * NS;
	for (i = 0; i < 2; i++) {
		t1 = t2 + OFS - DLY;
		build_sync(b, &a, (uint16_t)i, 1, 0, cs);
		assert_int_equal(dpn_ptp_slave_rx(&s, b, 44, t2),
				 DPN_PTP_RX_OK);
		build_follow_up(b, &a, (uint16_t)i, t1 - cs - cf, cf);
		if (i == 0) {
			assert_int_equal(dpn_ptp_slave_rx(&s, b, 44, t2),
					 DPN_PTP_RX_OK);
			t3 = t2 + NS / 2;
			t4 = t3 + OFS + DLY;
			assert_int_equal(dpn_ptp_slave_poll(&s, t3, req,
					 sizeof(req), &seq), 44);
			dpn_ptp_slave_tx_stamp(&s, seq, t3);
			build_delay_resp(b, &a, seq, t4 + cr, cr,
					 s.self.clock_id, 1, 0);
			assert_int_equal(dpn_ptp_slave_rx(&s, b, 54, t4),
					 DPN_PTP_RX_OK);
			assert_int_equal(s.delay_ns, DLY);
		} else {
			assert_int_equal(dpn_ptp_slave_rx(&s, b, 44, t2),
					 DPN_PTP_RX_SAMPLE);
		}
		t2 += NS;
	}
	assert_int_equal(dpn_ptp_slave_sample(&s, &smp), 1);
	assert_int_equal(smp.offset_ns, OFS);
	assert_int_equal(smp.delay_ns, DLY);
}

static void
test_corrections(void **state)
{
	check_corrections(0, 0, 0);
	check_corrections(1500, 700, 2500);
	check_corrections(-1500, 700, -2500);
	check_corrections(1500, -700, -1);
	check_corrections(-123456, -654321, 99999);
}

static void
test_correction_fraction(void **state)
{
	struct dpn_ptp_slave s;
	struct dpn_ptp_sample smp;
	struct master a;
	uint8_t b[44];
	int64_t t2, t3;

	/* 1.5 ns of residence time in scaled ns (0x18000): whole ns
	 * taken, the half dropped. */
	slave_init(&s, 10);
	master_init(&a, 0xaa);
	qualify(&s, &a, T0);
	t2 = T0 + 2 * NS;
	build_sync(b, &a, 1, 0, t2 + OFS - DLY, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, b, 44, t2), DPN_PTP_RX_OK);
	t3 = t2 + NS / 10;
	delay_round(&s, &a, t3, t3, t3 + OFS + DLY);
	t2 += NS;
	build_sync(b, &a, 2, 0, t2 + OFS - DLY - 1, 0);
	b[13] = 0x01;
	b[14] = 0x80;
	assert_int_equal(dpn_ptp_slave_rx(&s, b, 44, t2), DPN_PTP_RX_SAMPLE);
	assert_int_equal(dpn_ptp_slave_sample(&s, &smp), 1);
	assert_int_equal(smp.offset_ns, OFS);
}

static void
test_timescale(void **state)
{
	struct dpn_ptp_slave s;
	struct dpn_ptp_sample smp;
	struct master a;
	int64_t t2;

	/* PTP timescale, TAI-UTC 37 s: the master's times are TAI, the
	 * sample is UTC, 37 s less. */
	slave_init(&s, 10);
	master_init(&a, 0xaa);
	a.flags7 = 0x08 | 0x04;
	calibrate(&s, &a);
	t2 = T0 + 5 * NS;
	assert_int_equal(sync2(&s, &a, 4, t2 + OFS - DLY, t2),
			 DPN_PTP_RX_SAMPLE);
	assert_int_equal(dpn_ptp_slave_sample(&s, &smp), 1);
	assert_int_equal(smp.offset_ns, OFS - 37 * NS);
	assert_int_equal(smp.delay_ns, DLY);
	assert_true(dpn_ptp_slave_master(&s)->ptp_timescale);
	assert_true(dpn_ptp_slave_master(&s)->utc_offset_valid);

	/* ARB with the same currentUtcOffset: taken as it is. */
	slave_init(&s, 10);
	master_init(&a, 0xaa);
	a.flags7 = 0x04;
	calibrate(&s, &a);
	t2 = T0 + 5 * NS;
	sync2(&s, &a, 4, t2 + OFS - DLY, t2);
	assert_int_equal(dpn_ptp_slave_sample(&s, &smp), 1);
	assert_int_equal(smp.offset_ns, OFS);
	assert_false(dpn_ptp_slave_master(&s)->ptp_timescale);

	/* Leap second flags in the sample: 61 then 59. */
	a.flags7 = 0x08 | 0x04 | 0x01;
	announce(&s, &a, T0 + 5 * NS);
	sync2(&s, &a, 5, t2 + NS + OFS - DLY, t2 + NS);
	assert_int_equal(dpn_ptp_slave_sample(&s, &smp), 1);
	assert_int_equal(smp.leap, 1);
	a.flags7 = 0x08 | 0x04 | 0x02;
	announce(&s, &a, T0 + 6 * NS);
	sync2(&s, &a, 6, t2 + 2 * NS + OFS - DLY, t2 + 2 * NS);
	assert_int_equal(dpn_ptp_slave_sample(&s, &smp), 1);
	assert_int_equal(smp.leap, 2);
	assert_int_equal(smp.offset_ns, OFS - 37 * NS);
}

static void
test_not_master_and_unmatched(void **state)
{
	struct dpn_ptp_slave s;
	struct master a, b;
	uint8_t m[54], req[44];
	uint16_t seq;
	int64_t t2, t3;

	slave_init(&s, 10);
	master_init(&a, 0xaa);
	master_init(&b, 0xbb);
	/* Sync before any master. */
	build_sync(m, &a, 1, 0, T0, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 44, T0), DPN_PTP_RX_IGNORED);
	assert_int_equal(s.cnt.rx_not_master, 1);

	a.p1 = 1;
	qualify(&s, &a, T0);
	qualify(&s, &b, T0);
	/* b is heard but a is selected: b's Sync, Follow_Up, Delay_Resp
	 * are not used. */
	build_sync(m, &b, 1, 0, T0, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 44, T0), DPN_PTP_RX_IGNORED);
	build_follow_up(m, &b, 1, T0, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 44, T0), DPN_PTP_RX_IGNORED);
	build_delay_resp(m, &b, 1, T0, 0, s.self.clock_id, 1, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 54, T0), DPN_PTP_RX_IGNORED);
	assert_int_equal(s.cnt.rx_not_master, 4);
	assert_int_equal(s.cnt.rx_sync, 2);
	/* A Sync from another port of the master's clock is not it. */
	a.port = 2;
	build_sync(m, &a, 1, 0, T0, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 44, T0), DPN_PTP_RX_IGNORED);
	assert_int_equal(s.cnt.rx_not_master, 5);
	a.port = 1;
	assert_false(s.sync.seen);

	/* Follow_Up before its Sync (or for an older one). */
	t2 = T0 + 2 * NS;
	build_follow_up(m, &a, 7, t2, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 44, t2), DPN_PTP_RX_IGNORED);
	assert_int_equal(s.cnt.rx_unmatched, 1);
	build_sync(m, &a, 8, 1, 0, 0);
	dpn_ptp_slave_rx(&s, m, 44, t2 - 1000);
	build_sync(m, &a, 9, 1, 0, 0);
	dpn_ptp_slave_rx(&s, m, 44, t2);
	build_follow_up(m, &a, 8, t2, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 44, t2), DPN_PTP_RX_IGNORED);
	assert_int_equal(s.cnt.rx_unmatched, 2);
	build_follow_up(m, &a, 9, t2 + OFS - DLY, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 44, t2), DPN_PTP_RX_OK);
	/* Twice: the second has nothing left to complete. */
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 44, t2), DPN_PTP_RX_IGNORED);
	assert_int_equal(s.cnt.rx_unmatched, 3);

	/* Delay_Resp before the tx stamp is reported. */
	t3 = t2 + NS / 10;
	assert_int_equal(dpn_ptp_slave_poll(&s, t3, req, sizeof(req), &seq),
			 44);
	build_delay_resp(m, &a, seq, t3 + OFS + DLY, 0, s.self.clock_id, 1, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 54, t3), DPN_PTP_RX_IGNORED);
	assert_int_equal(s.cnt.rx_unmatched, 4);
	dpn_ptp_slave_tx_stamp(&s, (uint16_t)(seq + 1), t3);	/* not ours */
	assert_false(s.req.stamped);
	dpn_ptp_slave_tx_stamp(&s, seq, t3);
	/* For another slave (clock, then port number). */
	build_delay_resp(m, &a, seq, t3 + OFS + DLY, 0, b.clk, 1, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 54, t3), DPN_PTP_RX_IGNORED);
	build_delay_resp(m, &a, seq, t3 + OFS + DLY, 0, s.self.clock_id, 2,
			 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 54, t3), DPN_PTP_RX_IGNORED);
	/* Wrong sequenceId. */
	build_delay_resp(m, &a, (uint16_t)(seq - 1), t3 + OFS + DLY, 0,
			 s.self.clock_id, 1, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 54, t3), DPN_PTP_RX_IGNORED);
	assert_int_equal(s.cnt.rx_unmatched, 7);
	assert_false(s.delay_valid);
	/* The right one; a repeat of it is unmatched. */
	build_delay_resp(m, &a, seq, t3 + OFS + DLY, 0, s.self.clock_id, 1, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 54, t3), DPN_PTP_RX_OK);
	assert_int_equal(s.delay_ns, DLY);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 54, t3), DPN_PTP_RX_IGNORED);
	assert_int_equal(s.cnt.rx_unmatched, 8);
}

static void
test_delay_uses_exchange_before_t3(void **state)
{
	struct dpn_ptp_slave s;
	struct master a;
	uint8_t req[44], m[54];
	uint16_t seq;
	int64_t t2, t3;

	slave_init(&s, 10);
	master_init(&a, 0xaa);
	qualify(&s, &a, T0);
	t2 = T0 + 2 * NS;
	sync2(&s, &a, 1, t2 + OFS - DLY, t2);
	t3 = t2 + NS / 10;
	assert_int_equal(dpn_ptp_slave_poll(&s, t3, req, sizeof(req), &seq),
			 44);
	dpn_ptp_slave_tx_stamp(&s, seq, t3);
	/* The master's clock moves 10 us before the Delay_Resp comes:
	 * the delay pairs t3/t4 with the exchange before t3. */
	sync2(&s, &a, 2, t2 + NS + OFS + 10000 - DLY, t2 + NS);
	build_delay_resp(m, &a, seq, t3 + OFS + DLY, 0, s.self.clock_id, 1, 0);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 54, t3), DPN_PTP_RX_OK);
	assert_int_equal(s.delay_ns, DLY);
}

/* Run one delay round at @now giving the path delay @d. */
static void
round_with(struct dpn_ptp_slave *s, struct master *a, int64_t now,
	   int64_t d)
{
	delay_round(s, a, now, now, t4_for(s, now, d));
}

static void
test_delay_filter(void **state)
{
	static const int64_t in[] = { 100000, 300000, 200000, 1000000, 50000 };
	static const int64_t med[] = { 100000, 200000, 200000, 250000, 200000 };
	struct dpn_ptp_slave s;
	struct master a;
	int64_t now = T0 + 3 * NS, limit;
	uint64_t out;
	unsigned int i;

	slave_init(&s, 5);
	master_init(&a, 0xaa);
	qualify(&s, &a, T0);
	sync2(&s, &a, 1, T0 + 2 * NS + OFS - DLY, T0 + 2 * NS);
	/* The median of what came so far (two in the middle averaged),
	 * no outliers while the window fills, even 1 ms after 100 us. */
	for (i = 0; i < 5; i++, now += NS) {
		round_with(&s, &a, now, in[i]);
		assert_int_equal(s.delay_ns, med[i]);
	}
	assert_int_equal(s.cnt.delay_outliers, 0);

	/* Full: 4 x 200 us + 100 us refused, one ns less taken. */
	limit = 4 * 200000 + 100000;
	round_with(&s, &a, now, limit + 1);
	now += NS;
	assert_int_equal(s.cnt.delay_outliers, 1);
	assert_int_equal(s.delay_ns, 200000);
	round_with(&s, &a, now, limit);
	now += NS;
	assert_int_equal(s.cnt.delay_outliers, 1);
	/* [300 200 1000 50 900] us (100 went first). */
	assert_int_equal(s.delay_ns, 300000);
	/* Negative: refused, even before the window is full. */
	round_with(&s, &a, now, -1);
	now += NS;
	assert_int_equal(s.cnt.delay_outliers, 2);
	assert_int_equal(s.delay_ns, 300000);

	/* The path grows to 5 ms for good: after DPN_PTP_OUTLIER_RESET
	 * refusals the filter starts again from it. */
	out = s.cnt.delay_outliers;
	for (i = 0; i < DPN_PTP_OUTLIER_RESET; i++, now += NS) {
		round_with(&s, &a, now, 5000000);
		assert_int_equal(s.delay_ns, 300000);
	}
	assert_int_equal(s.cnt.delay_outliers, out + DPN_PTP_OUTLIER_RESET);
	round_with(&s, &a, now, 5000000);
	assert_int_equal(s.delay_ns, 5000000);
	assert_int_equal(s.filter.count, 1);
	assert_int_equal(s.cnt.delay_outliers, out + DPN_PTP_OUTLIER_RESET);
}

static void
test_delay_filter_off(void **state)
{
	struct dpn_ptp_slave s;
	struct master a;
	int64_t now = T0 + 3 * NS;
	int i;

	/* Length 1: every delay as it comes, only negatives refused. */
	slave_init(&s, 1);
	master_init(&a, 0xaa);
	qualify(&s, &a, T0);
	sync2(&s, &a, 1, T0 + 2 * NS + OFS - DLY, T0 + 2 * NS);
	for (i = 1; i <= 4; i++, now += NS) {
		round_with(&s, &a, now, i * 1000000);
		assert_int_equal(s.delay_ns, i * 1000000);
	}
	round_with(&s, &a, now, 1);
	assert_int_equal(s.delay_ns, 1);
	assert_int_equal(s.cnt.delay_outliers, 0);
	/* Over a second is no path delay. */
	round_with(&s, &a, now + NS, 2 * NS);
	assert_int_equal(s.delay_ns, 1);
	assert_int_equal(s.cnt.delay_outliers, 1);
}

/* ---- Delay_Req -------------------------------------------------------- */

static void
test_delay_req_bytes(void **state)
{
	static const uint8_t want[44] = {
		0x01, 0x02, 0x00, 0x2c,		/* type 1, v2, length 44 */
		0x07, 0x00, 0x00, 0x00,		/* domain 7, flags 0 */
		0, 0, 0, 0, 0, 0, 0, 0,		/* correction */
		0, 0, 0, 0,			/* reserved */
		0x00, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55, /* ours */
		0x00, 0x01,			/* port 1 */
		0x00, 0x00,			/* sequenceId 0 */
		0x01, 0x7f,			/* control 1, log 0x7f */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* originTimestamp 0 */
	};
	struct dpn_ptp_params p;
	struct dpn_ptp_slave s;
	struct master a;
	uint8_t req[64];
	uint16_t seq = 0xffff;
	int64_t now = T0 + 3 * NS;

	dpn_ptp_params_init(&p);
	dpn_ptp_clock_id_from_mac(p.clock_id, our_mac);
	p.domain = 7;
	dpn_ptp_slave_init(&s, &p, T0);
	master_init(&a, 0xaa);
	a.domain = 7;
	/* Nothing before a master, nor before its first Sync. */
	assert_int_equal(dpn_ptp_slave_poll(&s, now, req, sizeof(req), &seq),
			 0);
	qualify(&s, &a, now - NS);
	assert_int_equal(dpn_ptp_slave_poll(&s, now, req, sizeof(req), &seq),
			 0);
	sync2(&s, &a, 1, now + OFS - DLY, now);
	/* Too small a buffer: nothing, and it stays due. */
	assert_int_equal(dpn_ptp_slave_poll(&s, now, req, 43, &seq), 0);
	assert_int_equal(dpn_ptp_slave_poll(&s, now, req, sizeof(req), &seq),
			 DPN_PTP_DELAY_REQ_LEN);
	assert_memory_equal(req, want, sizeof(want));
	assert_int_equal(seq, 0);
	assert_true(dpn_ptp_is_event(req, 44));

	/* 2^0 s later exactly, with the next sequenceId. */
	assert_int_equal(dpn_ptp_slave_poll(&s, now + NS - 1, req,
			 sizeof(req), &seq), 0);
	assert_int_equal(dpn_ptp_slave_poll(&s, now + NS, req, sizeof(req),
			 &seq), 44);
	assert_int_equal(seq, 1);
	assert_int_equal(req[30], 0x00);
	assert_int_equal(req[31], 0x01);
	assert_int_equal(s.cnt.tx_delay_req, 2);
	/* The first was never answered. */
	assert_int_equal(s.cnt.delay_resp_missing, 1);
}

static void
test_delay_req_schedule(void **state)
{
	struct dpn_ptp_slave s;
	struct master a;
	uint8_t req[44], m[54];
	uint16_t seq;
	int64_t now = T0 + 3 * NS, t;

	slave_init(&s, 10);
	master_init(&a, 0xaa);
	qualify(&s, &a, now - NS);
	sync2(&s, &a, 1, now + OFS - DLY, now);
	assert_int_equal(dpn_ptp_slave_poll(&s, now, req, 44, &seq), 44);
	dpn_ptp_slave_tx_stamp(&s, seq, now);
	/* The master asks for logMinDelayReqInterval 2: every 4 s. */
	build_delay_resp(m, &a, seq, now + OFS + DLY, 0, s.self.clock_id, 1, 2);
	assert_int_equal(dpn_ptp_slave_rx(&s, m, 54, now), DPN_PTP_RX_OK);
	/* The one after that was already set at 1 s... */
	t = now + NS;
	assert_int_equal(dpn_ptp_slave_poll(&s, t, req, 44, &seq), 44);
	/* ... then 4 s. */
	announce(&s, &a, t + 2 * NS);
	assert_int_equal(dpn_ptp_slave_poll(&s, t + 4 * NS - 1, req, 44, &seq),
			 0);
	assert_int_equal(dpn_ptp_slave_poll(&s, t + 4 * NS, req, 44, &seq), 44);
	/* Our clock went back an hour: not an hour's silence. */
	t = t + 4 * NS - 3600 * NS;
	assert_int_equal(dpn_ptp_slave_poll(&s, t, req, 44, &seq), 44);
}

static uint64_t
fake_rand(void *arg)
{
	return *(uint64_t *)arg;
}

static void
test_delay_req_random(void **state)
{
	struct dpn_ptp_params p;
	struct dpn_ptp_slave s;
	struct master a;
	uint8_t req[44];
	uint16_t seq;
	uint64_t r = 6 * NS + 1500000000ULL;	/* 1.5 s within [0, 2 s) */
	int64_t now = T0 + 3 * NS;

	dpn_ptp_params_init(&p);
	dpn_ptp_clock_id_from_mac(p.clock_id, our_mac);
	p.rand_fn = fake_rand;
	p.rand_arg = &r;
	dpn_ptp_slave_init(&s, &p, T0);
	master_init(&a, 0xaa);
	qualify(&s, &a, now - NS);
	sync2(&s, &a, 1, now + OFS - DLY, now);
	assert_int_equal(dpn_ptp_slave_poll(&s, now, req, 44, &seq), 44);
	assert_int_equal(dpn_ptp_slave_poll(&s, now + 1500000000 - 1, req, 44,
			 &seq), 0);
	/* 0 is allowed: the one after this goes at once, ... */
	r = 0;
	now += 1500000000;
	assert_int_equal(dpn_ptp_slave_poll(&s, now, req, 44, &seq), 44);
	r = 4 * NS - 1;		/* ... and the next 2 s - 1 ns later. */
	announce(&s, &a, now);
	assert_int_equal(dpn_ptp_slave_poll(&s, now, req, 44, &seq), 44);
	assert_int_equal(dpn_ptp_slave_poll(&s, now + 2 * NS - 2, req, 44,
			 &seq), 0);
	assert_int_equal(dpn_ptp_slave_poll(&s, now + 2 * NS - 1, req, 44,
			 &seq), 44);
}

/* ---- robustness ------------------------------------------------------- */

static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
test_garbage(void **state)
{
	struct dpn_ptp_slave s;
	struct dpn_ptp_sample smp;
	struct master a;
	uint8_t b[256], req[64];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int64_t rx;
	uint16_t seq;
	size_t len;
	int i, k, n;

	slave_init(&s, 10);
	master_init(&a, 0xaa);
	for (i = 0; i < 200000; i++) {
		if (i % 5000 == 0)
			qualify(&s, &a, T0 + i * 1000000LL);
		rx = (i % 7 == 0) ? (int64_t)xorshift(&x) :
		     T0 + i * 1000000LL;
		switch (xorshift(&x) % 4) {
		case 0:	/* anything */
			len = xorshift(&x) % sizeof(b);
			for (k = 0; k < (int)len; k++)
				b[k] = (uint8_t)xorshift(&x);
			break;
		case 1:	/* a plausible header, random rest */
			len = xorshift(&x) % sizeof(b);
			for (k = 0; k < (int)len; k++)
				b[k] = (uint8_t)xorshift(&x);
			if (len >= 34) {
				b[0] &= 0x0f;
				b[1] = 2;
				put16(b + 2, (uint16_t)len);
				b[4] = 0;
			}
			break;
		default: /* one of ours, a few bytes changed */
			switch (xorshift(&x) % 4) {
			case 0:
				len = build_announce(b, &a);
				break;
			case 1:
				len = build_sync(b, &a, (uint16_t)i,
						 (int)(xorshift(&x) & 1),
						 rx, 0);
				break;
			case 2:
				len = build_follow_up(b, &a, (uint16_t)i, rx,
						      0);
				break;
			default:
				len = build_delay_resp(b, &a, s.req.seq, rx,
						       0, s.self.clock_id, 1,
						       0);
				break;
			}
			n = (int)(xorshift(&x) % 4);
			for (k = 0; k < n; k++)
				b[xorshift(&x) % len] = (uint8_t)xorshift(&x);
			if (xorshift(&x) % 8 == 0)
				len = xorshift(&x) % (len + 1);
			break;
		}
		dpn_ptp_slave_rx(&s, b, len, rx);
		if (i % 3 == 0 && dpn_ptp_slave_poll(&s, rx, req, sizeof(req),
						     &seq) != 0)
			dpn_ptp_slave_tx_stamp(&s, seq, rx);
		dpn_ptp_slave_sample(&s, &smp);
		assert_true(s.selected >= -1 &&
			    s.selected < DPN_PTP_MAX_FOREIGN);
		assert_true(s.filter.count <= s.params.delay_filter_len);
		assert_true((unsigned int)dpn_ptp_slave_state(&s) <=
			    DPN_PTP_ST_SLAVE);
	}
	/* Garbage reached every path. */
	assert_true(s.cnt.rx_bad > 0);
	assert_true(s.cnt.rx_announce > 0);
	assert_true(s.cnt.rx_sync > 0);
	assert_true(s.cnt.rx_follow_up > 0);
	assert_true(s.cnt.rx_delay_resp > 0);
	assert_true(s.cnt.rx_other_domain > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_id_and_text),
		cmocka_unit_test(test_is_event),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_ignored_messages),
		cmocka_unit_test(test_bmca_dataset_order),
		cmocka_unit_test(test_bmca_same_grandmaster),
		cmocka_unit_test(test_qualification),
		cmocka_unit_test(test_select_switch_fallback),
		cmocka_unit_test(test_announce_interval_and_step),
		cmocka_unit_test(test_foreign_table_full),
		cmocka_unit_test(test_two_step_exact),
		cmocka_unit_test(test_one_step),
		cmocka_unit_test(test_corrections),
		cmocka_unit_test(test_correction_fraction),
		cmocka_unit_test(test_timescale),
		cmocka_unit_test(test_not_master_and_unmatched),
		cmocka_unit_test(test_delay_uses_exchange_before_t3),
		cmocka_unit_test(test_delay_filter),
		cmocka_unit_test(test_delay_filter_off),
		cmocka_unit_test(test_delay_req_bytes),
		cmocka_unit_test(test_delay_req_schedule),
		cmocka_unit_test(test_delay_req_random),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
