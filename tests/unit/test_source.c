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

/* One exchange: request at @p now, reply after @p delay, server ahead
 * by @p off, answering at once. Returns the verdict. */
static enum dpn_source_verdict
exchange(struct dpn_source *s, int64_t now, int64_t off, int64_t delay)
{
	uint64_t t1 = ntp(now), t2 = ntp(now + delay / 2 + off);
	struct dpn_ntp_hdr h;

	dpn_source_request(s, &h, t1);
	dpn_source_poll_sent(s, t1, now);
	/* What our request says is what this server's reply echoes. */
	assert_true(__builtin_bswap64(h.xmt_ts) == t1);
	reply(&h, t1, t2, t2);
	return dpn_source_receive(s, &h, 48, now + delay);
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
	/* ntpsec's orphan mode: leap 0, stratum 5, zero reference time. */
	reply(&h, org, t2, t3);
	h.stratum = 5;
	h.ref_ts = 0;
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_OK);

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
	/* Exactly half the timescale apart (found by tests/fuzz/fuzz_reply):
	 * which came first cannot be told, so it is refused. */
	reply(&h, org, t3 - (1ULL << 63), t3);
	h.ref_ts = 0;
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_BAD_TIMES);
	reply(&h, org, t3 - (1ULL << 63) + 1, t3);
	h.ref_ts = 0;
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_OK);
	/* Reference time in the server's future. */
	reply(&h, org, t2, t3);
	h.ref_ts = __builtin_bswap64(t3 + (1ULL << 32));
	assert_int_equal(dpn_source_validate(&h, 48, org, 0),
			 DPN_SOURCE_R_BAD_TIMES);
	reply(&h, org, t2, t3);
	h.ref_ts = __builtin_bswap64(t3 + (1ULL << 63));
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
	char buf[128];

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
	/* ntpq shows the kiss until the server answers normally. */
	dpn_source_format_peer(&s, T0 + 8192 * S, buf, sizeof(buf));
	assert_non_null(strstr(buf, " .RATE. "));
	assert_int_equal(exchange(&s, T0 + 12288 * S, 0, 10 * MS),
			 DPN_SOURCE_R_OK);
	dpn_source_format_peer(&s, T0 + 12288 * S, buf, sizeof(buf));
	assert_non_null(strstr(buf, " .GPS. "));
	assert_int_equal(s.poll, 12);
}

/*
 * Random replies, half of them with our origin: only well-formed ones
 * are taken, and whatever arrives the source stays within its limits.
 */
static void
test_random_replies(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	struct dpn_source s;
	struct dpn_ntp_hdr h;
	int64_t t = T0;
	unsigned int i, k, nb_ok = 0;

	source_v4(&s, "192.0.2.1", DPN_SOURCE_F_IBURST);
	for (i = 0; i < 5000; i++) {
		uint8_t *b = (uint8_t *)&h;
		uint64_t t1 = ntp(t);

		for (k = 0; k < sizeof(h); k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			b[k] = (uint8_t)x;
		}
		if (x & 1)
			h.orig_ts = __builtin_bswap64(t1);
		if (x & 2)
			h.li_vn_mode = dpn_ntp_li_vn_mode(0, 4, 4);
		if (x & 4)
			h.stratum = 2;
		if (x & 8)
			h.root_delay = h.root_disp = 0;
		dpn_source_poll_sent(&s, t1, t);
		if (dpn_source_receive(&s, &h, 48, t + 1 * MS) ==
		    DPN_SOURCE_R_OK) {
			nb_ok++;
			assert_true(__builtin_bswap64(h.orig_ts) == t1);
			assert_int_equal(dpn_ntp_mode_of(&h), 4);
			assert_true(h.stratum >= 1 && h.stratum <= 15);
		}
		assert_true(s.poll >= s.conf.minpoll &&
			    s.poll <= s.conf.maxpoll);
		if (s.demobilized)
			source_v4(&s, "192.0.2.1", DPN_SOURCE_F_IBURST);
		t += 2 * S;
	}
	assert_true(nb_ok > 10);
}

/*
 * A server's precision byte is any int8: 127 is 2^127 s, more than an
 * int64 of ns holds (found by tests/fuzz/fuzz_reply: UBSan's
 * float-cast-overflow, and a negative dispersion on x86).
 */
static void
test_precision_extremes(void **state)
{
	static const int8_t prec[] = { 127, 32, 31, -128 };
	struct dpn_source s;
	struct dpn_ntp_hdr h;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(prec); i++) {
		uint64_t t1 = ntp(T0);
		const struct dpn_source_sample *smp;

		source_v4(&s, "192.0.2.1", 0);
		dpn_source_request(&s, &h, t1);
		dpn_source_poll_sent(&s, t1, T0);
		reply(&h, t1, t1 + 1000, t1 + 2000);
		h.precision = prec[i];
		assert_int_equal(dpn_source_receive(&s, &h, 48, T0 + MS),
				 DPN_SOURCE_R_OK);
		smp = &s.filter[(s.filter_next + DPN_SOURCE_FILTER_LEN - 1) %
				DPN_SOURCE_FILTER_LEN];
		assert_true(smp->epoch_ns == T0 + MS);
		assert_true(smp->disp_ns > 0);
		assert_true(s.disp_ns >= 0);
	}
}

static void
test_request(void **state)
{
	static const uint8_t zero[40];
	struct dpn_source s;
	struct dpn_ntp_hdr h;

	source_v4(&s, "192.0.2.1", 0);
	s.conf.version = 3;
	memset(&h, 0xa5, sizeof(h));
	dpn_source_request(&s, &h, 0x0123456789abcdefULL);
	/* A mode 3 request our own server would answer. */
	assert_int_equal(dpn_ntp_classify(&h, 48), DPN_NTP_V_OK);
	assert_int_equal(dpn_ntp_mode_of(&h), DPN_NTP_MODE_CLIENT);
	assert_int_equal(dpn_ntp_version_of(&h), 3);
	assert_int_equal(dpn_ntp_leap_of(&h), 0);
	assert_int_equal(h.poll, 6);
	assert_true(h.xmt_ts == __builtin_bswap64(0x0123456789abcdefULL));
	/* Nothing else about us leaves in it. */
	assert_int_equal(h.stratum, 0);
	assert_int_equal(h.precision, 0);
	assert_memory_equal((const uint8_t *)&h + 4, zero, 36);
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
	/* Every third reply lost: a lossy path, the interval stays. */
	for (i = 0; i < 30; i++) {
		if (i % 3 == 2)
			dpn_source_poll_sent(&s, ntp(t), t);
		else
			exchange(&s, t, 1 * MS, 10 * MS);
		t = dpn_source_next_poll(&s);
	}
	assert_int_equal(s.poll, 6);
	/* Two in three lost: it shrinks to minpoll and no further. */
	for (i = 0; i < 40; i++) {
		if (i % 3 == 2)
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


/*
 * Selection.
 */

#define NB_POLLS 8
/* When primed sources last heard from their servers. */
#define T_LAST (T0 + (NB_POLLS - 1) * 64 * S + 10 * MS)

/*
 * A source that answered 8 polls 64 s apart, @p off_us off (with a few
 * microseconds of noise) through a 10 ms round trip.
 */
static void
prime(struct dpn_source *s, const char *addr, unsigned int flags,
      int64_t off_us)
{
	unsigned int i;

	source_v4(s, addr, flags);
	for (i = 0; i < NB_POLLS; i++)
		assert_int_equal(exchange(s, T0 + i * 64 * S,
					  off_us * US + (i & 1) * 4 * US,
					  10 * MS), DPN_SOURCE_R_OK);
}

static void
select_all(struct dpn_source *src, unsigned int n,
	   const struct dpn_select_params *p, struct dpn_select_result *r)
{
	struct dpn_source *ptr[8];
	struct dpn_select_params def;
	unsigned int i;

	for (i = 0; i < n; i++)
		ptr[i] = &src[i];
	if (p == NULL) {
		dpn_select_params_init(&def);
		p = &def;
	}
	assert_int_equal(dpn_source_select(ptr, n, T_LAST, p, r), 0);
}

static void
test_select_falseticker(void **state)
{
	struct dpn_source src[4];
	struct dpn_select_result r;

	prime(&src[0], "192.0.2.1", 0, 1000);
	prime(&src[1], "192.0.2.2", 0, 50000);	/* 50 ms off */
	prime(&src[2], "192.0.2.3", 0, 1200);
	prime(&src[3], "192.0.2.4", 0, 800);
	select_all(src, 4, NULL, &r);
	assert_int_equal(src[1].state, DPN_SOURCE_ST_FALSETICKER);
	assert_true(r.sys_peer == 0 || r.sys_peer == 2 || r.sys_peer == 3);
	assert_int_equal(src[r.sys_peer].state, DPN_SOURCE_ST_SYSPEER);
	assert_int_equal(src[0].state + src[2].state + src[3].state,
			 '*' + '+' + '+');
	assert_int_equal(r.nb_candidates, 4);
	assert_int_equal(r.nb_truechimers, 3);
	assert_int_equal(r.nb_survivors, 3);
	/* The combined offset is the good ones', nowhere near 50 ms. */
	assert_in_range(r.offset_ns, 800 * US, 1204 * US);
	/* Their spread is 0.2 ms: so is the system jitter, roughly. */
	assert_in_range(r.jitter_ns, 50 * US, 400 * US);
	assert_int_equal(r.leap, DPN_NTP_LEAP_NONE);
}

static void
test_select_system_variables(void **state)
{
	struct dpn_source src[3];
	struct dpn_select_result r;
	const struct dpn_source *p;
	int64_t expect;

	prime(&src[0], "192.0.2.1", 0, 1000);
	prime(&src[1], "192.0.2.2", 0, 1000);
	prime(&src[2], "192.0.2.3", 0, 1000);
	select_all(src, 3, NULL, &r);
	assert_true(r.sys_peer >= 0);
	p = &src[r.sys_peer];
	/* Stratum 1 servers: we are stratum 2, named by its address. */
	assert_int_equal(r.stratum, 2);
	assert_int_equal(r.refid, 0xc0000201 + r.sys_peer);
	assert_true(r.ref_ns == p->update_ns);
	/* Root delay: its (0) plus ours to it (10 ms). */
	assert_in_range(r.root_delay_ns, 10 * MS - 2, 10 * MS + 2);
	/* Root dispersion: its 1 ms, its dispersion aged, the system
	 * jitter and the 1 ms we are away from it. */
	expect = p->root_disp_ns + p->disp_ns +
		(T_LAST - p->update_ns) * 15 / 1000000 + r.jitter_ns +
		p->offset_ns;
	assert_in_range(r.root_disp_ns, expect - 2, expect + 2);
	assert_in_range(r.root_disp_ns, 2 * MS, 3 * MS);
	/* Root distance: half the delay, the dispersions, the jitter. */
	assert_in_range(dpn_source_root_distance(p, T_LAST, 1 * MS),
			6 * MS, 7 * MS);
}

static void
test_select_prefer_and_noselect(void **state)
{
	struct dpn_source src[4];
	struct dpn_select_result r;

	prime(&src[0], "192.0.2.1", DPN_SOURCE_F_NOSELECT, 1000);
	prime(&src[1], "192.0.2.2", 0, 1000);
	prime(&src[2], "192.0.2.3", DPN_SOURCE_F_PREFER, 1100);
	prime(&src[3], "192.0.2.4", 0, 1000);
	/* Make the preferred one the worst by distance. */
	exchange(&src[2], T_LAST - 10 * MS, 1100 * US, 30 * MS);
	src[2].root_disp_ns = 20 * MS;
	select_all(src, 4, NULL, &r);
	assert_int_equal(r.sys_peer, 2);
	assert_int_equal(src[2].state, DPN_SOURCE_ST_SYSPEER);
	assert_int_equal(src[0].state, DPN_SOURCE_ST_REJECT);
	assert_int_equal(src[0].reject, DPN_SOURCE_REJ_NOSELECT);
	assert_int_equal(r.nb_candidates, 3);

	/* Without prefer, noselect still loses, even alone. */
	src[2].conf.flags = 0;
	select_all(src, 1, NULL, &r);
	assert_int_equal(r.sys_peer, -1);
	assert_int_equal(r.stratum, 16);

	/* A preferred falseticker is still a falseticker. */
	prime(&src[0], "192.0.2.1", DPN_SOURCE_F_PREFER, 80000);
	src[2].conf.flags = 0;
	select_all(src, 4, NULL, &r);
	assert_int_equal(src[0].state, DPN_SOURCE_ST_FALSETICKER);
	assert_true(r.sys_peer > 0);
}

static void
test_select_sticky_peer(void **state)
{
	struct dpn_source src[3];
	struct dpn_select_result r;
	int first;

	prime(&src[0], "192.0.2.1", 0, 1000);
	prime(&src[1], "192.0.2.2", 0, 1000);
	prime(&src[2], "192.0.2.3", 0, 1000);
	select_all(src, 3, NULL, &r);
	first = r.sys_peer;
	/* Another one becomes a little better: the peer stays. */
	src[(first + 1) % 3].root_disp_ns = 0;
	select_all(src, 3, NULL, &r);
	assert_int_equal(r.sys_peer, first);
	/* Unless it is of a better stratum. */
	src[(first + 1) % 3].stratum = 0;
	select_all(src, 3, NULL, &r);
	assert_int_equal(r.sys_peer, (first + 1) % 3);
	assert_int_equal(r.stratum, 1);
}

static void
test_select_unreachable(void **state)
{
	struct dpn_source src[3];
	struct dpn_select_result r;
	unsigned int i, k;
	int64_t t = T0;

	for (i = 0; i < 3; i++)
		source_v4(&src[i], "192.0.2.1", 0);
	for (k = 0; k < 8; k++, t += 64 * S)
		for (i = 0; i < 3; i++)
			dpn_source_poll_sent(&src[i], ntp(t), t);
	select_all(src, 3, NULL, &r);
	assert_int_equal(r.sys_peer, -1);
	assert_int_equal(r.nb_candidates, 0);
	assert_int_equal(r.stratum, 16);
	assert_int_equal(r.leap, DPN_NTP_LEAP_ALARM);
	for (i = 0; i < 3; i++) {
		assert_int_equal(src[i].state, DPN_SOURCE_ST_REJECT);
		assert_int_equal(src[i].reject, DPN_SOURCE_REJ_UNREACH);
	}
	/* Primed, then 8 silent polls: unreachable, no longer selected. */
	prime(&src[0], "192.0.2.1", 0, 1000);
	for (k = 0; k < 8; k++)
		dpn_source_poll_sent(&src[0], ntp(T_LAST + k * S),
				     T_LAST + k * S);
	select_all(src, 1, NULL, &r);
	assert_int_equal(r.sys_peer, -1);
	assert_int_equal(src[0].reject, DPN_SOURCE_REJ_UNREACH);
}

static void
test_select_no_majority(void **state)
{
	struct dpn_source src[2];
	struct dpn_select_result r;

	/* Two servers 100 ms apart: which one is right cannot be told. */
	prime(&src[0], "192.0.2.1", 0, 1000);
	prime(&src[1], "192.0.2.2", 0, 101000);
	select_all(src, 2, NULL, &r);
	assert_int_equal(r.sys_peer, -1);
	assert_int_equal(r.nb_truechimers, 0);
	assert_int_equal(src[0].state, DPN_SOURCE_ST_FALSETICKER);
	assert_int_equal(src[1].state, DPN_SOURCE_ST_FALSETICKER);
	/* A third one agreeing with the first settles it. */
	{
		struct dpn_source three[3];

		three[0] = src[0];
		three[1] = src[1];
		prime(&three[2], "192.0.2.3", 0, 1100);
		select_all(three, 3, NULL, &r);
		assert_true(r.sys_peer == 0 || r.sys_peer == 2);
		assert_int_equal(three[1].state, DPN_SOURCE_ST_FALSETICKER);
	}
	/* One alone is its own majority. */
	select_all(src, 1, NULL, &r);
	assert_int_equal(r.sys_peer, 0);
}

static void
test_select_cluster_backup_minsane(void **state)
{
	struct dpn_source src[4];
	struct dpn_select_params p;
	struct dpn_select_result r;
	unsigned int i;

	/* Wide intervals (50 ms of root dispersion): all truechimers,
	 * but the one 30 ms away is dropped as an outlier. */
	prime(&src[0], "192.0.2.1", 0, 1000);
	prime(&src[1], "192.0.2.2", 0, 2000);
	prime(&src[2], "192.0.2.3", 0, 1500);
	prime(&src[3], "192.0.2.4", 0, 31000);
	for (i = 0; i < 4; i++)
		src[i].root_disp_ns = 50 * MS;
	select_all(src, 4, NULL, &r);
	assert_int_equal(r.nb_truechimers, 4);
	assert_int_equal(r.nb_survivors, 3);
	assert_int_equal(src[3].state, DPN_SOURCE_ST_OUTLIER);
	assert_in_range(r.offset_ns, 1000 * US, 2004 * US);

	/* Combine only two: the third survivor is a backup. */
	dpn_select_params_init(&p);
	p.combine_limit = 2;
	select_all(src, 4, &p, &r);
	assert_int_equal(src[0].state + src[1].state + src[2].state,
			 '*' + '+' + '#');
	/* minsane 4: three survivors are not enough to synchronize. */
	dpn_select_params_init(&p);
	p.minsane = 4;
	select_all(src, 4, &p, &r);
	assert_int_equal(r.sys_peer, -1);
	assert_int_equal(r.stratum, 16);
}

static void
test_select_reject_reasons(void **state)
{
	struct dpn_source src[3];
	struct dpn_select_params p;
	struct dpn_select_result r;
	uint32_t self = 0xc0000264;	/* 192.0.2.100, our address */

	prime(&src[0], "192.0.2.1", 0, 1000);
	prime(&src[1], "192.0.2.2", 0, 1000);
	prime(&src[2], "192.0.2.3", 0, 1000);
	/* It follows us: a loop. */
	src[0].stratum = 3;
	src[0].refid = self;
	/* It is too far from a primary. */
	src[1].root_disp_ns = 1500 * MS;
	/* It lost its own sources. */
	src[2].stratum = 16;
	dpn_select_params_init(&p);
	p.local_refids = &self;
	p.nb_local_refids = 1;
	select_all(src, 3, &p, &r);
	assert_int_equal(r.sys_peer, -1);
	assert_int_equal(src[0].reject, DPN_SOURCE_REJ_LOOP);
	assert_int_equal(src[1].reject, DPN_SOURCE_REJ_DIST);
	assert_int_equal(src[2].reject, DPN_SOURCE_REJ_UNSYNC);
	/* The same server without the loop is fine. */
	p.nb_local_refids = 0;
	select_all(src, 3, &p, &r);
	assert_int_equal(r.sys_peer, 0);
	assert_int_equal(r.stratum, 4);
	assert_int_equal(dpn_source_select(NULL, DPN_SOURCE_SELECT_MAX + 1,
					   T0, &p, &r), -EINVAL);
}

static void
test_refid_ipv6_hash(void **state)
{
	struct dpn_source_conf c;
	struct dpn_source s;
	struct dpn_select_result r;
	struct dpn_source *ptr = &s;
	struct dpn_select_params p;
	unsigned int i;
	uint8_t a[16];

	/* python3: hashlib.md5(ipaddress.ip_address('2001:db8::1')
	 *          .packed).hexdigest()[:8] == '39ab9b37' */
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", a), 1);
	assert_int_equal(dpn_source_refid_of_addr(AF_INET6, a), 0x39ab9b37);
	assert_int_equal(inet_pton(AF_INET, "203.0.113.9", a), 1);
	assert_int_equal(dpn_source_refid_of_addr(AF_INET, a), 0xcb007109);

	/* Following an IPv6 server, the hash is what we announce. */
	dpn_source_conf_init(&c);
	c.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", c.addr), 1);
	assert_int_equal(dpn_source_init(&s, &c, T0), 0);
	for (i = 0; i < NB_POLLS; i++)
		exchange(&s, T0 + i * 64 * S, 0, 10 * MS);
	dpn_select_params_init(&p);
	assert_int_equal(dpn_source_select(&ptr, 1, T_LAST, &p, &r), 0);
	assert_int_equal(r.sys_peer, 0);
	assert_int_equal(r.refid, 0x39ab9b37);
}

static void
test_refclock_source(void **state)
{
	struct dpn_source_conf c;
	struct dpn_source src[2];
	struct dpn_source *ptr[2] = { &src[0], &src[1] };
	struct dpn_select_params p;
	struct dpn_select_result r;
	unsigned int i;
	int64_t t = T_LAST - 7 * 16 * S;

	dpn_source_conf_init(&c);
	c.type = DPN_SOURCE_TYPE_REFCLOCK;
	snprintf(c.name, sizeof(c.name), "SYSTEM(0)");
	snprintf(c.refid, sizeof(c.refid), "GPS");
	c.precision = -20;
	c.minpoll = 4;
	c.maxpoll = 4;
	assert_int_equal(dpn_source_init(&src[0], &c, T0), 0);
	prime(&src[1], "192.0.2.1", 0, 500);
	assert_int_equal(src[0].stratum, 0);
	for (i = 0; i < 8; i++, t += 16 * S)
		dpn_source_refclock_sample(&src[0], 2 * US, 1 * US, t);
	t -= 16 * S;
	assert_int_equal(src[0].reach, 0377);
	assert_int_equal(src[0].offset_ns, 2 * US);
	assert_int_equal(src[0].delay_ns, 0);
	dpn_select_params_init(&p);
	assert_int_equal(dpn_source_select(ptr, 2, t, &p, &r), 0);
	/* The reference wins on stratum: we become stratum 1, ".GPS.". */
	assert_int_equal(r.sys_peer, 0);
	assert_int_equal(r.stratum, 1);
	assert_int_equal(r.refid, dpn_ntp_refid_from_str("GPS"));
	assert_int_equal(r.root_delay_ns, 0);
	assert_in_range(r.root_disp_ns, 2 * US, 1 * MS);
}

/*
 * ntpq -p.
 */

/* Each column of @p line ends where its title ends in the header. */
static void
assert_aligned(const char *line)
{
	static const char *const titles[] = {
		"st", "when", "poll", "reach", "delay", "offset", "jitter",
	};
	char hdr[256];
	unsigned int i;

	dpn_source_format_peers_header(hdr, sizeof(hdr));
	for (i = 0; i < 7; i++) {
		size_t end = (size_t)(strstr(hdr, titles[i]) - hdr) +
			strlen(titles[i]);

		assert_true(line[end - 1] != ' ');
		assert_true(line[end] == ' ' || line[end] == '\n');
	}
	assert_int_equal(strlen(line), 80);	/* 79 and the newline */
}

static void
test_format_peers(void **state)
{
	struct dpn_source s;
	char buf[256];

	assert_int_equal(dpn_source_format_peers_header(buf, sizeof(buf)),
			 160);
	assert_string_equal(buf,
		"     remote           refid      st t when poll reach"
		"   delay   offset   jitter\n"
		"================================================"
		"===============================\n");

	source_v4(&s, "192.0.2.1", 0);
	s.state = DPN_SOURCE_ST_SYSPEER;
	s.stratum = 1;
	s.refid = dpn_ntp_refid_from_str("GPS");
	s.reach = 0377;
	s.last_rx_ns = T0 - 12 * S;
	s.delay_ns = 512 * US;
	s.offset_ns = -31 * US;
	s.jitter_ns = 4 * US;
	dpn_source_format_peer(&s, T0, buf, sizeof(buf));
	assert_string_equal(buf,
		"*192.0.2.1       .GPS.            1 u   12   64   377"
		"   0.512   -0.031    0.004\n");
	assert_aligned(buf);

	/* Stratum 2 behind 10.1.2.3, a long name, heard 35 min ago. */
	snprintf(s.conf.name, sizeof(s.conf.name), "ntp1.example.org");
	s.state = DPN_SOURCE_ST_CANDIDATE;
	s.stratum = 2;
	s.refid = 0x0a010203;
	s.poll = 10;
	s.reach = 0357;
	s.last_rx_ns = T0 - 2100 * S;
	s.delay_ns = 31681 * US;
	s.offset_ns = -18549 * US;
	s.jitter_ns = 1572 * US;
	dpn_source_format_peer(&s, T0, buf, sizeof(buf));
	assert_string_equal(buf,
		"+ntp1.example.or 10.1.2.3         2 u  35m 1024   357"
		"  31.681  -18.549    1.572\n");
	assert_aligned(buf);

	/* Never heard: '-' when, .INIT., stratum 16; poll 2^17 in h. */
	source_v4(&s, "192.0.2.9", 0);
	snprintf(s.conf.name, sizeof(s.conf.name), "2.debian.pool.ntp.org");
	s.conf.type = DPN_SOURCE_TYPE_POOL;
	s.poll = 17;
	dpn_source_format_peer(&s, T0, buf, sizeof(buf));
	assert_string_equal(buf,
		" 2.debian.pool.n .INIT.          16 p    -  36h     0"
		"   0.000    0.000    0.000\n");
	assert_aligned(buf);

	/* Told to go away, and a reference clock. */
	s.demobilized = true;
	s.kiss = dpn_ntp_refid_from_str("DENY");
	s.poll = 6;
	dpn_source_format_peer(&s, T0, buf, sizeof(buf));
	assert_non_null(strstr(buf, " .DENY.          16 p "));
	s.demobilized = false;
	s.kiss = 0;
	s.conf.type = DPN_SOURCE_TYPE_REFCLOCK;
	snprintf(s.conf.name, sizeof(s.conf.name), "SYSTEM(0)");
	snprintf(s.conf.refid, sizeof(s.conf.refid), "LOCL");
	s.stratum = 0;
	s.state = DPN_SOURCE_ST_SYSPEER;
	s.reach = 0377;
	s.last_rx_ns = T0 - 1 * S;
	s.jitter_ns = 16 * S;
	dpn_source_format_peer(&s, T0, buf, sizeof(buf));
	assert_string_equal(buf,
		"*SYSTEM(0)       .LOCL.           0 l    1   64   377"
		"   0.000    0.000 16000.00\n");
	assert_aligned(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_verdicts),
		cmocka_unit_test(test_validate_kisses),
		cmocka_unit_test(test_validate_unsync_and_times),
		cmocka_unit_test(test_kod_reaction),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_random_replies),
		cmocka_unit_test(test_precision_extremes),
		cmocka_unit_test(test_offset_delay_exact),
		cmocka_unit_test(test_filter_min_delay),
		cmocka_unit_test(test_filter_popcorn),
		cmocka_unit_test(test_reach_and_unreachable),
		cmocka_unit_test(test_poll_adaptation),
		cmocka_unit_test(test_next_poll_bursts),
		cmocka_unit_test(test_select_falseticker),
		cmocka_unit_test(test_select_system_variables),
		cmocka_unit_test(test_select_prefer_and_noselect),
		cmocka_unit_test(test_select_sticky_peer),
		cmocka_unit_test(test_select_unreachable),
		cmocka_unit_test(test_select_no_majority),
		cmocka_unit_test(test_select_cluster_backup_minsane),
		cmocka_unit_test(test_select_reject_reasons),
		cmocka_unit_test(test_refid_ipv6_hash),
		cmocka_unit_test(test_refclock_source),
		cmocka_unit_test(test_format_peers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
