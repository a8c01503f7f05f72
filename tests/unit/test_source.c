/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/source: replies checked (every verdict), offset and
 * delay of an exchange, the clock filter and its popcorn suppression,
 * the reach register and poll interval, the selection of a system peer
 * and what the server then says about itself, and `ntpq -p` lines.
 * All times are fake.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "dpn_source.h"

#define MS 1000000LL
#define US 1000LL
#define S 1000000000LL

/* 2026-11-27 04:00:00 UTC, the fake "now" the tests start at. */
#define T0 (1795752000LL * S)

/* Host-order NTP timestamp of Unix ns. */
static uint64_t
ntp(int64_t ns)
{
	return dpn_ntp_ts_from_unix_ns(ns);
}

static void
conf_v4(struct dpn_source_conf *c, const char *name, const char *addr)
{
	dpn_source_conf_init(c);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, addr, c->addr), 1);
}

static void
source_v4(struct dpn_source *s, const char *addr, unsigned int flags)
{
	struct dpn_source_conf c;

	conf_v4(&c, addr, addr);
	c.flags = flags;
	assert_int_equal(dpn_source_init(s, &c, T0), 0);
}

/* A good server reply to a request sent with transmit timestamp @p org. */
static void
reply(struct dpn_ntp_hdr *h, uint64_t org, uint64_t t2, uint64_t t3)
{
	memset(h, 0, sizeof(*h));
	h->li_vn_mode = dpn_ntp_li_vn_mode(DPN_NTP_LEAP_NONE, 4,
					   DPN_NTP_MODE_SERVER);
	h->stratum = 1;
	h->poll = 6;
	h->precision = -20;
	h->root_delay = htonl(0);
	h->root_disp = htonl(dpn_ntp_short_from_ns(1 * MS));
	h->refid = htonl(dpn_ntp_refid_from_str("GPS"));
	h->ref_ts = __builtin_bswap64(t2 - (16ULL << 32));
	h->orig_ts = __builtin_bswap64(org);
	h->recv_ts = __builtin_bswap64(t2);
	h->xmt_ts = __builtin_bswap64(t3);
}

static void
kiss(struct dpn_ntp_hdr *h, uint64_t org, const char *code)
{
	reply(h, org, org, org);
	h->li_vn_mode = dpn_ntp_li_vn_mode(DPN_NTP_LEAP_ALARM, 4,
					   DPN_NTP_MODE_SERVER);
	h->stratum = 0;
	h->poll = 10;
	h->refid = htonl(dpn_ntp_refid_from_str(code));
}

/*
 * Validation.
 */

static void
test_validate_verdicts(void **state)
{
	uint64_t org = ntp(T0), t2 = ntp(T0 + 10 * MS);
	uint64_t t3 = ntp(T0 + 11 * MS);
	struct dpn_ntp_hdr h;

	reply(&h, org, t2, t3);
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_OK);
	/* Longer packets (extension fields, MAC) are fine. */
	assert_int_equal(dpn_source_validate(&h, 68, org, 0),
			 DPN_SOURCE_R_OK);
	assert_int_equal(dpn_source_validate(&h, 47, org, 0),
			 DPN_SOURCE_R_SHORT);
	/* An answer to another request: someone guessing, or a late one. */
	assert_int_equal(dpn_source_validate(&h, 48, org + 1, 0),
			 DPN_SOURCE_R_BOGUS);
	assert_int_equal(dpn_source_validate(&h, 48, 0, 0),
			 DPN_SOURCE_R_BOGUS);
	/* The same reply twice. */
	assert_int_equal(dpn_source_validate(&h, 48, org, org),
			 DPN_SOURCE_R_DUPLICATE);

	h.li_vn_mode = dpn_ntp_li_vn_mode(0, 5, DPN_NTP_MODE_SERVER);
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_BAD_VERSION);
	h.li_vn_mode = dpn_ntp_li_vn_mode(0, 0, DPN_NTP_MODE_SERVER);
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_BAD_VERSION);
	h.li_vn_mode = dpn_ntp_li_vn_mode(0, 3, DPN_NTP_MODE_SERVER);
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_OK);
	h.li_vn_mode = dpn_ntp_li_vn_mode(0, 4, DPN_NTP_MODE_CLIENT);
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_BAD_MODE);
	h.li_vn_mode = dpn_ntp_li_vn_mode(0, 4, DPN_NTP_MODE_BROADCAST);
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_BAD_MODE);
}

static void
test_validate_kisses(void **state)
{
	uint64_t org = ntp(T0);
	struct dpn_ntp_hdr h;

	kiss(&h, org, "DENY");
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_KOD_DENY);
	kiss(&h, org, "RSTR");
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_KOD_RSTR);
	kiss(&h, org, "RATE");
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_KOD_RATE);
	kiss(&h, org, "STEP");
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_KOD_OTHER);
	/* A kiss that does not answer our request is not believed. */
	kiss(&h, org + 1, "DENY");
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_BOGUS);
}

static void
test_validate_unsync_and_times(void **state)
{
	uint64_t org = ntp(T0), t2 = ntp(T0 + 10 * MS);
	uint64_t t3 = ntp(T0 + 11 * MS);
	struct dpn_ntp_hdr h;

	reply(&h, org, t2, t3);
	h.li_vn_mode = dpn_ntp_li_vn_mode(DPN_NTP_LEAP_ALARM, 4,
					  DPN_NTP_MODE_SERVER);
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_UNSYNC);
	reply(&h, org, t2, t3);
	h.stratum = 16;
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_UNSYNC);
	reply(&h, org, t2, t3);
	h.stratum = 15;
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_OK);
	reply(&h, org, t2, t3);
	h.ref_ts = 0;
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_UNSYNC);

	/* Server transmitted before it received. */
	reply(&h, org, t3, t2);
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_BAD_TIMES);
	reply(&h, org, 0, t3);
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_BAD_TIMES);
	reply(&h, org, t2, 0);
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_BAD_TIMES);
	/* Reference time in the server's future. */
	reply(&h, org, t2, t3);
	h.ref_ts = __builtin_bswap64(t3 + (1ULL << 32));
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_BAD_TIMES);
	/* Root distance: 2 s / 2 + 15 s is 16 s, too much; 14.9 s is not. */
	reply(&h, org, t2, t3);
	h.root_delay = htonl(dpn_ntp_short_from_ns(2 * S));
	h.root_disp = htonl(dpn_ntp_short_from_ns(15 * S));
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_BAD_ROOT);
	h.root_disp = htonl(dpn_ntp_short_from_ns(14 * S));
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_OK);
	assert_string_equal(dpn_source_verdict_str(DPN_SOURCE_R_KOD_RATE),
			    "kiss-o'-death RATE: polling too fast");
}

static void
test_kod_reaction(void **state)
{
	struct dpn_source s;
	struct dpn_ntp_hdr h;
	uint64_t org = ntp(T0);

	/* DENY: never polled again, shown as .DENY. */
	source_v4(&s, "192.0.2.1", 0);
	dpn_source_poll_sent(&s, org, T0);
	kiss(&h, org, "DENY");
	assert_int_equal(dpn_source_receive(&s, &h, 48, T0 + 5 * MS),
			 DPN_SOURCE_R_KOD_DENY);
	assert_true(s.demobilized);
	assert_true(dpn_source_next_poll(&s) == INT64_MAX);

	source_v4(&s, "192.0.2.1", 0);
	dpn_source_poll_sent(&s, org, T0);
	kiss(&h, org, "RSTR");
	assert_int_equal(dpn_source_receive(&s, &h, 48, T0 + 5 * MS),
			 DPN_SOURCE_R_KOD_RSTR);
	assert_true(dpn_source_next_poll(&s) == INT64_MAX);

	/* RATE: poll doubled (at least the server's 2^10), never lower. */
	source_v4(&s, "192.0.2.1", 0);
	s.conf.maxpoll = 12;
	dpn_source_poll_sent(&s, org, T0);
	kiss(&h, org, "RATE");
	assert_int_equal(dpn_source_receive(&s, &h, 48, T0 + 5 * MS),
			 DPN_SOURCE_R_KOD_RATE);
	assert_false(s.demobilized);
	assert_int_equal(s.poll, 10);
	assert_true(dpn_source_next_poll(&s) == T0 + 5 * MS + 1024 * S);
	dpn_source_poll_sent(&s, org + 1, T0 + 1024 * S);
	kiss(&h, org + 1, "RATE");
	h.poll = 4;
	dpn_source_receive(&s, &h, 48, T0 + 1024 * S);
	assert_int_equal(s.poll, 11);
	dpn_source_poll_sent(&s, org + 2, T0 + 3072 * S);
	kiss(&h, org + 2, "RATE");
	dpn_source_receive(&s, &h, 48, T0 + 3072 * S);
	dpn_source_poll_sent(&s, org + 3, T0 + 8192 * S);
	kiss(&h, org + 3, "RATE");
	dpn_source_receive(&s, &h, 48, T0 + 8192 * S);
	assert_int_equal(s.poll, 12);	/* maxpoll */
}

/*
 * Samples and the filter.
 */

static void
test_offset_delay_exact(void **state)
{
	/* t1 = 1000 s, server 0.25 s ahead, 0.125 s each way, 1/512 s in
	 * the server: offset 0.25 s, delay 0.25 s exactly. */
	uint64_t t1 = 1000ULL << 32;
	uint64_t t2 = t1 + (3ULL << 29);		/* +0.375 s */
	uint64_t t3 = t2 + (1ULL << 23);		/* +1/512 s */
	uint64_t t4 = t1 + (1ULL << 30) + (1ULL << 23); /* +0.25+1/512 */
	int64_t off, del;

	dpn_source_offset_delay(t1, t2, t3, t4, &off, &del);
	assert_int_equal(off, 250 * MS);
	assert_int_equal(del, 250 * MS);
	/* Server behind by 0.5 s. */
	dpn_source_offset_delay(t1, t1 - (1ULL << 31) + (1ULL << 30),
				t1 - (1ULL << 31) + (1ULL << 30),
				t1 + (1ULL << 31), &off, &del);
	assert_int_equal(off, -500 * MS);
	assert_int_equal(del, 500 * MS);
	/* Across the NTP era rollover of 2036. */
	t1 = 0xffffffff80000000ULL;		/* 0.5 s before the era */
	dpn_source_offset_delay(t1, t1 + (1ULL << 31), t1 + (1ULL << 31),
				t1 + (1ULL << 32), &off, &del);
	assert_int_equal(off, 0);
	assert_int_equal(del, S);
}

/* One exchange: request at @p now, reply after @p delay, server ahead
 * by @p off, answering at once. Returns the verdict. */
static enum dpn_source_verdict
exchange(struct dpn_source *s, int64_t now, int64_t off, int64_t delay)
{
	uint64_t t1 = ntp(now), t2 = ntp(now + delay / 2 + off);
	struct dpn_ntp_hdr h;

	dpn_source_poll_sent(s, t1, now);
	reply(&h, t1, t2, t2);
	return dpn_source_receive(s, &h, 48, now + delay);
}

static void
test_filter_min_delay(void **state)
{
	static const int64_t delay[] = { 30, 20, 10, 25, 40 };
	static const int64_t off[] = { 1000, 1200, 1100, 900, 1300 };
	struct dpn_source s;
	unsigned int i;

	source_v4(&s, "192.0.2.1", 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(exchange(&s, T0 + i * 64 * S, off[i] * US,
					  delay[i] * MS), DPN_SOURCE_R_OK);
	/* The 10 ms sample wins; the later, slower ones do not move it. */
	assert_in_range(s.offset_ns, 1100 * US - 2, 1100 * US + 2);
	assert_in_range(s.delay_ns, 10 * MS - 2, 10 * MS + 2);
	/* RMS of the others from 1100 us: 100, 100, 200, 200 us. */
	assert_in_range(s.jitter_ns, 158113 - 10, 158113 + 10);
	assert_true(s.update_ns == T0 + 128 * S + 10 * MS);
	assert_int_equal(s.reach, 0x1f);
	assert_int_equal(s.stratum, 1);
	assert_true(s.last_rx_ns == T0 + 256 * S + 40 * MS);
	/* Dispersion: the 3 empty stages weigh 16 s/64 + /128 + /256. */
	assert_in_range(s.disp_ns, 437500 * US, 445 * MS);
}

static void
test_filter_popcorn(void **state)
{
	struct dpn_source s;
	int64_t t = T0;
	unsigned int i;

	source_v4(&s, "192.0.2.1", 0);
	for (i = 0; i < 8; i++, t += 64 * S)
		exchange(&s, t, 1 * MS + (i & 1) * 20 * US, 10 * MS);
	assert_in_range(s.offset_ns, 1 * MS - 2, 1 * MS + 20 * US + 2);
	/* One reply 50 ms off, through a quicker path: a spike. */
	assert_int_equal(exchange(&s, t, 50 * MS, 5 * MS), DPN_SOURCE_R_OK);
	t += 64 * S;
	assert_in_range(s.offset_ns, 1 * MS - 2, 1 * MS + 20 * US + 2);
	assert_int_equal(s.nb_spikes, 1);
	/* A lasting step is followed within a few polls. */
	for (i = 0; i < 4; i++, t += 64 * S)
		exchange(&s, t, 50 * MS, 5 * MS);
	assert_in_range(s.offset_ns, 50 * MS - 2, 50 * MS + 2);
}

static void
test_reach_and_unreachable(void **state)
{
	struct dpn_source s;
	int64_t t = T0;
	unsigned int i;

	source_v4(&s, "192.0.2.1", 0);
	assert_false(dpn_source_reachable(&s));
	exchange(&s, t, 0, 10 * MS);
	assert_int_equal(s.reach, 01);
	t += 64 * S;
	exchange(&s, t, 0, 10 * MS);
	assert_int_equal(s.reach, 03);
	/* Then silence: the register shifts one bit per poll. */
	for (i = 0; i < 7; i++) {
		t += 64 * S;
		dpn_source_poll_sent(&s, ntp(t), t);
		assert_true(dpn_source_reachable(&s));
	}
	assert_int_equal(s.reach, 0200);
	assert_int_equal(s.unreach, 7);
	t += 64 * S;
	dpn_source_poll_sent(&s, ntp(t), t);
	assert_int_equal(s.reach, 0);
	assert_false(dpn_source_reachable(&s));
	/* The silent polls went into the filter as missing samples. */
	for (i = 0; i < DPN_SOURCE_FILTER_LEN; i++)
		if (s.filter[i].epoch_ns == t - 192 * S)
			break;
	assert_true(i < DPN_SOURCE_FILTER_LEN);
	assert_true(s.filter[i].disp_ns == DPN_SOURCE_MAXDISP_NS);
	/* A reply makes it reachable again. */
	t += 64 * S;
	assert_int_equal(exchange(&s, t, 0, 10 * MS), DPN_SOURCE_R_OK);
	assert_int_equal(s.reach, 01);
	assert_int_equal(s.unreach, 0);
}

static void
test_poll_adaptation(void **state)
{
	struct dpn_source_conf c;
	struct dpn_source s;
	int64_t t = T0;
	unsigned int i;
	int lo = 99, hi = 0;

	conf_v4(&c, "a", "192.0.2.1");
	c.minpoll = 4;
	c.maxpoll = 7;
	assert_int_equal(dpn_source_init(&s, &c, T0), 0);
	assert_int_equal(s.poll, 4);
	/* A stable server: the interval grows to maxpoll and stays. */
	for (i = 0; i < 80; i++) {
		exchange(&s, t, 1 * MS + (i & 1) * 5 * US, 10 * MS);
		t = dpn_source_next_poll(&s);
		hi = s.poll > hi ? s.poll : hi;
	}
	assert_int_equal(s.poll, 7);
	assert_int_equal(hi, 7);
	assert_true(dpn_source_next_poll(&s) - (t - 0) >= 0);
	/* Spikes (a quicker path, 30 ms off) make it poll faster. */
	for (i = 0; i < 3; i++) {
		exchange(&s, t, 1 * MS + 30 * MS, 5 * MS);
		t = dpn_source_next_poll(&s);
	}
	assert_true(s.nb_spikes >= 2);
	assert_int_equal(s.poll, 6);
	/* Lost replies: it shrinks to minpoll and no further. */
	for (i = 0; i < 40; i++) {
		if (i & 1)
			exchange(&s, t, 1 * MS, 10 * MS);
		else
			dpn_source_poll_sent(&s, ntp(t), t);
		t = dpn_source_next_poll(&s);
		lo = s.poll < lo ? s.poll : lo;
	}
	assert_int_equal(s.poll, 4);
	assert_int_equal(lo, 4);
	/* Limits are checked when the source is made. */
	c.minpoll = 2;
	assert_int_equal(dpn_source_init(&s, &c, T0), -EINVAL);
	c.minpoll = 8;
	assert_int_equal(dpn_source_init(&s, &c, T0), -EINVAL);
	c.minpoll = 4;
	c.maxpoll = 18;
	assert_int_equal(dpn_source_init(&s, &c, T0), -EINVAL);
	c.maxpoll = 17;
	c.version = 5;
	assert_int_equal(dpn_source_init(&s, &c, T0), -EINVAL);
}

static int64_t
fixed_jitter(void *arg, int64_t max_ns)
{
	*(int64_t *)arg = max_ns;
	return max_ns / 2;
}

static void
test_next_poll_bursts(void **state)
{
	struct dpn_source s;
	int64_t t = T0, max = 0;
	unsigned int i;

	/* iburst, nothing heard yet: 8 packets 2 s apart, then 64 s. */
	source_v4(&s, "192.0.2.1", DPN_SOURCE_F_IBURST);
	assert_true(dpn_source_next_poll(&s) == T0);
	for (i = 0; i < 8; i++) {
		dpn_source_poll_sent(&s, ntp(t), t);
		t = dpn_source_next_poll(&s);
	}
	assert_true(t == T0 + 7 * 2 * S + 64 * S);
	assert_int_equal(s.nb_sent, 8);
	/* Without iburst: one packet per 64 s; the jitter hook adds. */
	source_v4(&s, "192.0.2.1", 0);
	s.jitter_fn = fixed_jitter;
	s.jitter_arg = &max;
	dpn_source_poll_sent(&s, ntp(T0), T0);
	assert_true(dpn_source_next_poll(&s) == T0 + 64 * S + 2 * S);
	assert_true(max == 4 * S);
	/* burst: 8 packets per poll once the server answers. */
	source_v4(&s, "192.0.2.1", DPN_SOURCE_F_BURST);
	exchange(&s, T0, 0, 10 * MS);
	assert_true(dpn_source_next_poll(&s) == T0 + 64 * S);
	t = T0 + 64 * S;
	for (i = 0; i < 8; i++) {
		exchange(&s, t, 0, 10 * MS);
		t = dpn_source_next_poll(&s);
	}
	assert_true(t == T0 + 64 * S + 7 * 2 * S + 64 * S);
	assert_int_equal(s.reach, 03);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_verdicts),
		cmocka_unit_test(test_validate_kisses),
		cmocka_unit_test(test_validate_unsync_and_times),
		cmocka_unit_test(test_kod_reaction),
		cmocka_unit_test(test_offset_delay_exact),
		cmocka_unit_test(test_filter_min_delay),
		cmocka_unit_test(test_filter_popcorn),
		cmocka_unit_test(test_reach_and_unreachable),
		cmocka_unit_test(test_poll_adaptation),
		cmocka_unit_test(test_next_poll_bursts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
