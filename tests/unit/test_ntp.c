/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/ntp: which requests are answered, what the reply
 * looks like on the wire, and the timestamp conversions that decide
 * whether clients get the right time across 1970, 2036 and beyond.
 *
 * Expected bytes are written out by hand (golden vectors), never
 * computed with the functions under test.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dpn_ntp.h"

#define NS_PER_SEC 1000000000LL
/* Unix time of 2036-02-07T06:28:16Z, the first instant of NTP era 1. */
#define ERA1_UNIX 2085978496LL
/* 365.25 days, good enough to place pivots decades away. */
#define YEAR_NS (31557600LL * NS_PER_SEC)

/* 1 January 00:00:00 UTC of a few years, Unix seconds. */
#define UNIX_1960 (-315619200LL)
#define UNIX_1990 631152000LL
#define UNIX_2020 1577836800LL
#define UNIX_2037 2114380800LL
#define UNIX_2039 2177452800LL
#define UNIX_2040 2208988800LL
#define UNIX_2100 4102444800LL

static enum dpn_ntp_verdict
classify(const uint8_t *pkt, unsigned int len)
{
	return dpn_ntp_classify(pkt, len);
}

static void
assert_bytes(const uint8_t *got, const uint8_t *want, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (got[i] != want[i])
			fail_msg("byte %zu: got 0x%02x, want 0x%02x", i,
				 got[i], want[i]);
}

/*
 * A synchronized stratum-1 GPS server: leap none, precision -20,
 * root delay 0, root dispersion 1 ms, reference time
 * 2024-05-01T11:59:59.5Z.
 */
static void
sysinfo_gps(struct dpn_ntp_sysinfo *si)
{
	dpn_ntp_sysinfo_set(si, true, DPN_NTP_LEAP_NONE, 1, -20, 0,
			    1000000, dpn_ntp_refid_from_str("GPS"),
			    1714564799LL * NS_PER_SEC + 500000000);
}

/* T2 and T3 of the golden replies, host order. */
#define GOLDEN_T2 0xe9dcad408a3e0000ULL
#define GOLDEN_T3 0xe9dcad408a3e1000ULL

/* The reply to ntpdate_v4 below from the server of sysinfo_gps(),
 * received at GOLDEN_T2 and sent at GOLDEN_T3.
 */
static const uint8_t golden_reply_ntpdate[DPN_NTP_HDR_LEN] = {
	0x24, 0x01, 0x06, 0xec,		/* LI 0 VN 4 mode 4, st 1 */
	0x00, 0x00, 0x00, 0x00,			/* root delay */
	0x00, 0x00, 0x00, 0x42,			/* root disp: 1 ms, up */
	0x47, 0x50, 0x53, 0x00,			/* "GPS" */
	0xe9, 0xdc, 0xad, 0x3f, 0x80, 0x00, 0x00, 0x00,	/* ref */
	0xe9, 0xdc, 0xad, 0x40, 0x8a, 0x3d, 0x70, 0xa4,	/* origin */
	0xe9, 0xdc, 0xad, 0x40, 0x8a, 0x3e, 0x00, 0x00,	/* receive */
	0xe9, 0xdc, 0xad, 0x40, 0x8a, 0x3e, 0x10, 0x00,	/* transmit */
};

/* ntpdate / sntp 4.2.8: LI 3 (unsynchronized) VN 4 mode 3, poll 6,
 * precision -20, only the transmit timestamp set.
 */
static const uint8_t ntpdate_v4[DPN_NTP_HDR_LEN] = {
	0xe3, 0x00, 0x06, 0xec,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xe9, 0xdc, 0xad, 0x40, 0x8a, 0x3d, 0x70, 0xa4,
};

/* chrony: LI 0 VN 4 mode 3, poll 10, everything zero except a random
 * transmit timestamp (chrony does not leak its clock in requests).
 */
static const uint8_t chrony_v4[DPN_NTP_HDR_LEN] = {
	0x23, 0x00, 0x0a, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x5b, 0x13, 0xc2, 0x07, 0xf1, 0x00, 0x9e, 0x36,
};

/* Windows w32time: LI 3 VN 3 mode 1 (symmetric active), poll 10,
 * precision -6, root delay and dispersion set, refid of its "LOCL".
 */
static const uint8_t w32time_v3[DPN_NTP_HDR_LEN] = {
	0xd9, 0x00, 0x0a, 0xfa,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x04, 0x00,
	0x4c, 0x4f, 0x43, 0x4c,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xe9, 0xdc, 0xad, 0x40, 0x01, 0x02, 0x03, 0x04,
};

/* ------------------------------------------------------------------ */
/* Classification */

static void
test_classify_golden_clients(void **state)
{
	assert_int_equal(classify(ntpdate_v4, sizeof(ntpdate_v4)),
			 DPN_NTP_V_OK);
	assert_int_equal(classify(chrony_v4, sizeof(chrony_v4)),
			 DPN_NTP_V_OK);
	assert_int_equal(classify(w32time_v3, sizeof(w32time_v3)),
			 DPN_NTP_V_OK);
}

static void
test_classify_client_versions(void **state)
{
	uint8_t pkt[DPN_NTP_HDR_LEN];
	unsigned int vn;

	for (vn = 1; vn <= 4; vn++) {
		memcpy(pkt, ntpdate_v4, sizeof(pkt));
		pkt[0] = (uint8_t)(0xc0 | (vn << 3) | 3);
		assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_OK);
		/* Symmetric active is answered at every version too. */
		pkt[0] = (uint8_t)((vn << 3) | 1);
		assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_OK);
	}
	/* The literal first bytes of v1, v2 and v3 client requests. */
	pkt[0] = 0x0b;
	assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_OK);
	pkt[0] = 0x13;
	assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_OK);
	pkt[0] = 0x1b;
	assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_OK);
}

static void
test_classify_short(void **state)
{
	uint8_t pkt[DPN_NTP_HDR_LEN];

	memcpy(pkt, ntpdate_v4, sizeof(pkt));
	assert_int_equal(classify(pkt, 0), DPN_NTP_V_SHORT);
	assert_int_equal(classify(pkt, 1), DPN_NTP_V_SHORT);
	assert_int_equal(classify(pkt, 47), DPN_NTP_V_SHORT);
	assert_int_equal(classify(pkt, 48), DPN_NTP_V_OK);
	/* Length is checked before anything else. */
	pkt[0] = 0x00;
	assert_int_equal(classify(pkt, 47), DPN_NTP_V_SHORT);
}

static void
test_classify_bad_version(void **state)
{
	static const unsigned int bad[] = { 0, 5, 6, 7 };
	uint8_t pkt[DPN_NTP_HDR_LEN];
	unsigned int i;

	memcpy(pkt, ntpdate_v4, sizeof(pkt));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pkt[0] = (uint8_t)((bad[i] << 3) | 3);
		assert_int_equal(classify(pkt, sizeof(pkt)),
				 DPN_NTP_V_VERSION);
		/* The version is judged before the mode... */
		pkt[0] = (uint8_t)((bad[i] << 3) | 4);
		assert_int_equal(classify(pkt, sizeof(pkt)),
				 DPN_NTP_V_VERSION);
	}
	/* ...and before the transmit timestamp. */
	memset(pkt + 40, 0, 8);
	pkt[0] = (uint8_t)((5 << 3) | 3);
	assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_VERSION);
}

static void
test_classify_bad_mode(void **state)
{
	static const struct {
		unsigned int mode;
		enum dpn_ntp_verdict v;
	} bad[] = {
		{ 0, DPN_NTP_V_MODE0 },
		{ 2, DPN_NTP_V_MODE2 },
		{ 4, DPN_NTP_V_MODE4 },
		{ 5, DPN_NTP_V_MODE5 },
		{ 6, DPN_NTP_V_MODE6 },
		{ 7, DPN_NTP_V_MODE7 },
	};
	uint8_t pkt[DPN_NTP_HDR_LEN];
	unsigned int i, vn;

	memcpy(pkt, ntpdate_v4, sizeof(pkt));
	for (vn = 2; vn <= 4; vn++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			pkt[0] = (uint8_t)((vn << 3) | bad[i].mode);
			assert_int_equal(classify(pkt, sizeof(pkt)),
					 bad[i].v);
		}
	}
	/* A server reply (e.g. reflected back at us) is dropped. */
	memcpy(pkt, golden_reply_ntpdate, sizeof(pkt));
	assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_MODE4);
	/* ntpq's mode 6 read-variables request: 0x16 0x02. */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x16;
	pkt[1] = 0x02;
	pkt[3] = 0x01;
	assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_MODE6);
	/* Its 12-byte header is all a control request needs: not short
	 * (ntpq's requests without data are 12 bytes), but 11 bytes are,
	 * and so is anything else under 48 bytes. */
	assert_int_equal(classify(pkt, DPN_NTP_CTL_HDR_LEN), DPN_NTP_V_MODE6);
	assert_int_equal(classify(pkt, 20), DPN_NTP_V_MODE6);
	assert_int_equal(classify(pkt, DPN_NTP_CTL_HDR_LEN - 1),
			 DPN_NTP_V_SHORT);
	pkt[0] = 0x06;	/* version 0 */
	assert_int_equal(classify(pkt, DPN_NTP_CTL_HDR_LEN), DPN_NTP_V_VERSION);
	pkt[0] = 0x23;	/* mode 3 */
	assert_int_equal(classify(pkt, DPN_NTP_CTL_HDR_LEN), DPN_NTP_V_SHORT);
	assert_int_equal(classify(pkt, DPN_NTP_HDR_LEN - 1), DPN_NTP_V_SHORT);
	/* ntpdc's mode 7 monlist request: 0x17 0x00 0x03 0x2a. */
	pkt[0] = 0x17;
	pkt[1] = 0x00;
	pkt[2] = 0x03;
	pkt[3] = 0x2a;
	assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_MODE7);
}

static void
test_classify_zero_xmt(void **state)
{
	uint8_t pkt[DPN_NTP_HDR_LEN];
	unsigned int i;

	memcpy(pkt, ntpdate_v4, sizeof(pkt));
	memset(pkt + 40, 0, 8);
	assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_ZERO_XMT);
	/* Other timestamps do not stand in for the transmit one. */
	memset(pkt + 16, 0xab, 24);
	assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_ZERO_XMT);
	/* Any single non-zero byte of it is enough. */
	for (i = 40; i < 48; i++) {
		memset(pkt + 40, 0, 8);
		pkt[i] = 0x01;
		assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_OK);
	}
}

static void
test_classify_with_mac(void **state)
{
	uint8_t pkt[DPN_NTP_HDR_LEN + 20];
	unsigned int i;

	memcpy(pkt, ntpdate_v4, DPN_NTP_HDR_LEN);
	/* Key id 1, then a 16-byte MD5 digest. */
	pkt[48] = 0x00;
	pkt[49] = 0x00;
	pkt[50] = 0x00;
	pkt[51] = 0x01;
	for (i = 52; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(0x11 * i);
	assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_OK);
	/* An extension field's worth of extra bytes is accepted too. */
	assert_int_equal(classify(pkt, DPN_NTP_HDR_LEN + 4), DPN_NTP_V_OK);
}

/* ------------------------------------------------------------------ */
/* Replies */

static void
test_reply_golden_ntpdate(void **state)
{
	struct dpn_ntp_sysinfo si;
	uint8_t pkt[DPN_NTP_HDR_LEN];

	sysinfo_gps(&si);
	memcpy(pkt, ntpdate_v4, sizeof(pkt));
	dpn_ntp_build_reply((struct dpn_ntp_hdr *)pkt, &si, GOLDEN_T2);
	assert_bytes(pkt, golden_reply_ntpdate, 40);
	/* Until stamped, the transmit field does not still hold T1. */
	assert_true(memcmp(pkt + 40, ntpdate_v4 + 40, 8) != 0);
	dpn_ntp_stamp_xmt((struct dpn_ntp_hdr *)pkt, GOLDEN_T3);
	assert_bytes(pkt, golden_reply_ntpdate, sizeof(pkt));
	/* What the client checks: mode 4, its own T1 echoed back. */
	assert_int_equal(dpn_ntp_mode_of((struct dpn_ntp_hdr *)pkt),
			 DPN_NTP_MODE_SERVER);
	assert_memory_equal(pkt + 24, ntpdate_v4 + 40, 8);
}

static void
test_reply_golden_chrony(void **state)
{
	static const uint8_t want[DPN_NTP_HDR_LEN] = {
		0x24, 0x01, 0x0a, 0xec,		/* poll 10 echoed */
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x42,
		0x47, 0x50, 0x53, 0x00,
		0xe9, 0xdc, 0xad, 0x3f, 0x80, 0x00, 0x00, 0x00,
		0x5b, 0x13, 0xc2, 0x07, 0xf1, 0x00, 0x9e, 0x36,
		0xe9, 0xdc, 0xad, 0x40, 0x8a, 0x3e, 0x00, 0x00,
		0xe9, 0xdc, 0xad, 0x40, 0x8a, 0x3e, 0x10, 0x00,
	};
	struct dpn_ntp_sysinfo si;
	uint8_t pkt[DPN_NTP_HDR_LEN];

	sysinfo_gps(&si);
	memcpy(pkt, chrony_v4, sizeof(pkt));
	assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_OK);
	dpn_ntp_build_reply((struct dpn_ntp_hdr *)pkt, &si, GOLDEN_T2);
	dpn_ntp_stamp_xmt((struct dpn_ntp_hdr *)pkt, GOLDEN_T3);
	assert_bytes(pkt, want, sizeof(pkt));
}

static void
test_reply_w32time_symmetric(void **state)
{
	static const uint8_t want[DPN_NTP_HDR_LEN] = {
		0x1a, 0x01, 0x0a, 0xec,		/* LI 0 VN 3 mode 2 */
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x42,
		0x47, 0x50, 0x53, 0x00,
		0xe9, 0xdc, 0xad, 0x3f, 0x80, 0x00, 0x00, 0x00,
		0xe9, 0xdc, 0xad, 0x40, 0x01, 0x02, 0x03, 0x04,
		0xe9, 0xdc, 0xad, 0x40, 0x8a, 0x3e, 0x00, 0x00,
		0xe9, 0xdc, 0xad, 0x40, 0x8a, 0x3e, 0x10, 0x00,
	};
	struct dpn_ntp_sysinfo si;
	uint8_t pkt[DPN_NTP_HDR_LEN];

	sysinfo_gps(&si);
	memcpy(pkt, w32time_v3, sizeof(pkt));
	dpn_ntp_build_reply((struct dpn_ntp_hdr *)pkt, &si, GOLDEN_T2);
	dpn_ntp_stamp_xmt((struct dpn_ntp_hdr *)pkt, GOLDEN_T3);
	assert_bytes(pkt, want, sizeof(pkt));
}

static void
test_reply_first_byte_per_version(void **state)
{
	/* request byte 0 -> reply byte 0, synchronized, leap none */
	static const uint8_t map[][2] = {
		{ 0x0b, 0x0c }, { 0x13, 0x14 }, { 0x1b, 0x1c }, { 0x23, 0x24 },
		{ 0xcb, 0x0c }, { 0xdb, 0x1c }, { 0xe3, 0x24 },
		{ 0x09, 0x0a }, { 0x11, 0x12 }, { 0x19, 0x1a }, { 0x21, 0x22 },
		{ 0xd9, 0x1a },
	};
	struct dpn_ntp_sysinfo si;
	uint8_t pkt[DPN_NTP_HDR_LEN];
	unsigned int i;

	sysinfo_gps(&si);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		memcpy(pkt, ntpdate_v4, sizeof(pkt));
		pkt[0] = map[i][0];
		pkt[2] = (uint8_t)i;
		assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_OK);
		dpn_ntp_build_reply((struct dpn_ntp_hdr *)pkt, &si,
				    GOLDEN_T2);
		if (pkt[0] != map[i][1])
			fail_msg("request 0x%02x: reply 0x%02x, want 0x%02x",
				 map[i][0], pkt[0], map[i][1]);
		assert_int_equal(pkt[2], i);
	}
}

static void
test_reply_negative_poll_echoed(void **state)
{
	struct dpn_ntp_sysinfo si;
	uint8_t pkt[DPN_NTP_HDR_LEN];

	sysinfo_gps(&si);
	memcpy(pkt, ntpdate_v4, sizeof(pkt));
	pkt[2] = 0xfe;	/* poll -2, as sent by some PTP-ish clients */
	dpn_ntp_build_reply((struct dpn_ntp_hdr *)pkt, &si, GOLDEN_T2);
	assert_int_equal(pkt[2], 0xfe);
}

static void
test_reply_leaves_mac_alone(void **state)
{
	struct dpn_ntp_sysinfo si;
	uint8_t pkt[DPN_NTP_HDR_LEN + 20];
	uint8_t tail[20];
	unsigned int i;

	sysinfo_gps(&si);
	memcpy(pkt, ntpdate_v4, DPN_NTP_HDR_LEN);
	for (i = 0; i < sizeof(tail); i++)
		tail[i] = pkt[DPN_NTP_HDR_LEN + i] = (uint8_t)(0xa5 ^ i);
	assert_int_equal(classify(pkt, sizeof(pkt)), DPN_NTP_V_OK);
	dpn_ntp_build_reply((struct dpn_ntp_hdr *)pkt, &si, GOLDEN_T2);
	dpn_ntp_stamp_xmt((struct dpn_ntp_hdr *)pkt, GOLDEN_T3);
	/* The 48-byte reply is the golden one; nothing is written past it. */
	assert_bytes(pkt, golden_reply_ntpdate, DPN_NTP_HDR_LEN);
	assert_memory_equal(pkt + DPN_NTP_HDR_LEN, tail, sizeof(tail));
}

/*
 * Interleaved mode (RFC 9769), chrony with `xleave`: the origin is the
 * receive timestamp of our previous reply (lowest bit set, as this
 * server tags them), the receive field the client's own receive time of
 * that reply, the transmit field its transmit time of this request.
 */
static const uint8_t chrony_xleave_v4[DPN_NTP_HDR_LEN] = {
	0x23, 0x00, 0x06, 0xe9,			/* poll 6, precision -23 */
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xe9, 0xdc, 0xad, 0x3c, 0x12, 0x34, 0x56, 0x79,	/* our last T2 */
	0xe9, 0xdc, 0xad, 0x3c, 0x12, 0x40, 0x00, 0x00,	/* its T4 */
	0xe9, 0xdc, 0xad, 0x40, 0x8a, 0x3d, 0x70, 0xa4,	/* its T1 */
};

/* The reply is complete when built: the origin names the client's
 * receive time of the previous reply, and the transmit timestamp is
 * that reply's true transmit time, not this one's. */
static void
test_reply_interleaved_golden(void **state)
{
	static const uint8_t want[DPN_NTP_HDR_LEN] = {
		0x24, 0x01, 0x06, 0xec,		/* LI 0 VN 4 mode 4, st 1 */
		0x00, 0x00, 0x00, 0x00,			/* root delay */
		0x00, 0x00, 0x00, 0x42,			/* root disp */
		0x47, 0x50, 0x53, 0x00,			/* "GPS" */
		0xe9, 0xdc, 0xad, 0x3f, 0x80, 0x00, 0x00, 0x00,	/* ref */
		0xe9, 0xdc, 0xad, 0x3c, 0x12, 0x40, 0x00, 0x00,	/* its T4 */
		0xe9, 0xdc, 0xad, 0x40, 0x8a, 0x3e, 0x00, 0x01,	/* T2 now */
		0xe9, 0xdc, 0xad, 0x3c, 0x12, 0x34, 0x80, 0x00,	/* last T3 */
	};
	struct dpn_ntp_sysinfo si;
	uint8_t pkt[DPN_NTP_HDR_LEN + 20];
	uint8_t tail[20];
	unsigned int i;

	sysinfo_gps(&si);
	memcpy(pkt, chrony_xleave_v4, DPN_NTP_HDR_LEN);
	for (i = 0; i < sizeof(tail); i++)
		tail[i] = pkt[DPN_NTP_HDR_LEN + i] = (uint8_t)(0x5a ^ i);
	assert_int_equal(classify(pkt, DPN_NTP_HDR_LEN), DPN_NTP_V_OK);
	dpn_ntp_build_reply_interleaved((struct dpn_ntp_hdr *)pkt, &si,
					GOLDEN_T2 | 1,
					0xe9dcad3c12348000ULL);
	assert_bytes(pkt, want, DPN_NTP_HDR_LEN);
	/* Nothing is written past the header (a MAC stays as it was). */
	assert_memory_equal(pkt + DPN_NTP_HDR_LEN, tail, sizeof(tail));
}

static void
build_first_two(const struct dpn_ntp_sysinfo *si, uint8_t req0,
		uint8_t out[2])
{
	uint8_t pkt[DPN_NTP_HDR_LEN];

	memcpy(pkt, ntpdate_v4, sizeof(pkt));
	pkt[0] = req0;
	dpn_ntp_build_reply((struct dpn_ntp_hdr *)pkt, si, GOLDEN_T2);
	out[0] = pkt[0];
	out[1] = pkt[1];
}

static void
test_reply_unsynchronized(void **state)
{
	struct dpn_ntp_sysinfo si;
	uint8_t b[2];

	/* Not synchronized: leap 3, stratum 16, whatever else is said. */
	dpn_ntp_sysinfo_set(&si, false, DPN_NTP_LEAP_NONE, 1, -20, 0, 0,
			    dpn_ntp_refid_from_str("GPS"), 0);
	assert_int_equal(si.leap, DPN_NTP_LEAP_ALARM);
	assert_int_equal(si.stratum, 16);
	build_first_two(&si, 0xe3, b);
	assert_int_equal(b[0], 0xe4);	/* LI 3 VN 4 mode 4 */
	assert_int_equal(b[1], 0x10);
	build_first_two(&si, 0xd9, b);
	assert_int_equal(b[0], 0xda);	/* LI 3 VN 3 mode 2 */
	assert_int_equal(b[1], 0x10);

	/* Stratum 0 or 16 claimed as synchronized is still unsync. */
	dpn_ntp_sysinfo_set(&si, true, DPN_NTP_LEAP_INSERT, 0, -20, 0, 0,
			    0, 0);
	build_first_two(&si, 0x23, b);
	assert_int_equal(b[0], 0xe4);
	assert_int_equal(b[1], 0x10);
	dpn_ntp_sysinfo_set(&si, true, DPN_NTP_LEAP_NONE, 16, -20, 0, 0,
			    0, 0);
	build_first_two(&si, 0x23, b);
	assert_int_equal(b[0], 0xe4);
	assert_int_equal(b[1], 0x10);
	dpn_ntp_sysinfo_set(&si, true, DPN_NTP_LEAP_NONE, 200, -20, 0, 0,
			    0, 0);
	build_first_two(&si, 0x23, b);
	assert_int_equal(b[0], 0xe4);
	assert_int_equal(b[1], 0x10);

	/* Stratum 15 is the last valid one. */
	dpn_ntp_sysinfo_set(&si, true, DPN_NTP_LEAP_NONE, 15, -20, 0, 0,
			    0, 0);
	build_first_two(&si, 0x23, b);
	assert_int_equal(b[0], 0x24);
	assert_int_equal(b[1], 0x0f);
}

static void
test_reply_leap_warning(void **state)
{
	struct dpn_ntp_sysinfo si;
	uint8_t b[2];

	dpn_ntp_sysinfo_set(&si, true, DPN_NTP_LEAP_INSERT, 1, -20, 0, 0,
			    0, 0);
	build_first_two(&si, 0xe3, b);
	assert_int_equal(b[0], 0x64);	/* LI 1 VN 4 mode 4 */
	assert_int_equal(b[1], 0x01);
	dpn_ntp_sysinfo_set(&si, true, DPN_NTP_LEAP_DELETE, 2, -20, 0, 0,
			    0, 0);
	build_first_two(&si, 0x1b, b);
	assert_int_equal(b[0], 0x9c);	/* LI 2 VN 3 mode 4 */
	assert_int_equal(b[1], 0x02);
}

static void
test_sysinfo_fields(void **state)
{
	struct dpn_ntp_sysinfo si;
	const uint8_t *p;

	/* root delay 1.5 s, dispersion 70000 s (saturates), PPS, 1970. */
	dpn_ntp_sysinfo_set(&si, true, DPN_NTP_LEAP_NONE, 1, -23,
			    1500000000, 70000LL * NS_PER_SEC,
			    dpn_ntp_refid_from_str("PPS"), 500000000);
	assert_int_equal(si.precision, -23);
	p = (const uint8_t *)&si.root_delay;
	assert_int_equal(p[0], 0x00);
	assert_int_equal(p[1], 0x01);
	assert_int_equal(p[2], 0x80);
	assert_int_equal(p[3], 0x00);
	p = (const uint8_t *)&si.root_disp;
	assert_int_equal(p[0], 0xff);
	assert_int_equal(p[3], 0xff);
	p = (const uint8_t *)&si.refid;
	assert_memory_equal(p, "PPS\0", 4);
	p = (const uint8_t *)&si.ref_ts;
	assert_memory_equal(p, "\x83\xaa\x7e\x80\x80\x00\x00\x00", 8);

	/* No reference time yet: zero on the wire, as ntpd sends. */
	dpn_ntp_sysinfo_set(&si, false, 0, 0, -20, 0, 0, 0, 0);
	assert_true(si.ref_ts == 0);
	assert_true(si.root_delay == 0 && si.root_disp == 0);
}

/* ------------------------------------------------------------------ */
/* Timestamps */

static void
test_ts_from_unix_golden(void **state)
{
	static const struct {
		int64_t ns;
		uint64_t ts;
	} v[] = {
		/* Unix epoch */
		{ 0, 0x83aa7e8000000000ULL },
		{ 500000000, 0x83aa7e8080000000ULL },
		{ 1, 0x83aa7e8000000004ULL },
		{ 999999999, 0x83aa7e80fffffffbULL },
		{ 1714564800LL * NS_PER_SEC, 0xe9dcad4000000000ULL },
		/* 2036-02-07T06:28:15.999999999Z, the last of era 0 */
		{ (ERA1_UNIX - 1) * NS_PER_SEC + 999999999,
		  0xfffffffffffffffbULL },
		/* 2036-02-07T06:28:16Z wraps to seconds 0 of era 1 */
		{ ERA1_UNIX * NS_PER_SEC, 0x0000000000000000ULL },
		{ ERA1_UNIX * NS_PER_SEC + 250000000, 0x0000000040000000ULL },
		{ (ERA1_UNIX + 10) * NS_PER_SEC, 0x0000000a00000000ULL },
		/* Before 1970: floor, not truncation towards zero. */
		{ -1, 0x83aa7e7ffffffffbULL },
		{ -500000000, 0x83aa7e7f80000000ULL },
		{ -NS_PER_SEC, 0x83aa7e7f00000000ULL },
		/* 1960-01-01 */
		{ UNIX_1960 * NS_PER_SEC, 0x70da870000000000ULL },
		/* 1900-01-01T00:00:00Z, the start of era 0 */
		{ -2208988800LL * NS_PER_SEC, 0x0000000000000000ULL },
	};
	unsigned int i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint64_t got = dpn_ntp_ts_from_unix_ns(v[i].ns);

		if (got != v[i].ts)
			fail_msg("%lld ns: got 0x%016llx, want 0x%016llx",
				 (long long)v[i].ns, (unsigned long long)got,
				 (unsigned long long)v[i].ts);
	}
}

static void
test_ts_to_unix_golden(void **state)
{
	int64_t piv2020 = UNIX_2020 * NS_PER_SEC;

	assert_int_equal(dpn_ntp_ts_to_unix_ns(0x83aa7e8000000000ULL,
					       piv2020), 0);
	assert_int_equal(dpn_ntp_ts_to_unix_ns(0x83aa7e8080000000ULL,
					       piv2020), 500000000);
	assert_int_equal(dpn_ntp_ts_to_unix_ns(0xe9dcad4000000000ULL,
					       piv2020),
			 1714564800LL * NS_PER_SEC);
	/* Fractions round to the nearest ns: 4/2^32 s = 0.93 ns. */
	assert_int_equal(dpn_ntp_ts_to_unix_ns(0x83aa7e8000000004ULL,
					       piv2020), 1);
	assert_int_equal(dpn_ntp_ts_to_unix_ns(0x83aa7e80fffffffbULL,
					       piv2020), 999999999);
	assert_int_equal(dpn_ntp_ts_to_unix_ns(0x83aa7e80ffffffffULL,
					       piv2020), NS_PER_SEC);
	assert_int_equal(dpn_ntp_ts_to_unix_ns(0x83aa7e7f80000000ULL,
					       piv2020), -500000000);
}

static void
test_ts_era_selection(void **state)
{
	const uint64_t ten = 0x0000000a00000000ULL;
	int64_t r;

	/* Seconds 10 read in 2037: 10 s after the 2036 rollover. */
	r = dpn_ntp_ts_to_unix_ns(ten, UNIX_2037 * NS_PER_SEC);
	assert_int_equal(r, (ERA1_UNIX + 10) * NS_PER_SEC);
	/*
	 * Read in 2020 the nearest instant is still 2036 (16 years away),
	 * not 1900 (120 years away).
	 */
	r = dpn_ntp_ts_to_unix_ns(ten, UNIX_2020 * NS_PER_SEC);
	assert_int_equal(r, (ERA1_UNIX + 10) * NS_PER_SEC);
	/* Read in 1960 it is 1900-01-01T00:00:10Z. */
	r = dpn_ntp_ts_to_unix_ns(ten, UNIX_1960 * NS_PER_SEC);
	assert_int_equal(r, (-2208988800LL + 10) * NS_PER_SEC);

	/* An hour before the rollover, just-after-rollover times are in
	 * era 1 and just-before ones in era 0.
	 */
	r = dpn_ntp_ts_to_unix_ns(ten, (ERA1_UNIX - 3600) * NS_PER_SEC);
	assert_int_equal(r, (ERA1_UNIX + 10) * NS_PER_SEC);
	r = dpn_ntp_ts_to_unix_ns(0xffffffff00000000ULL,
				  (ERA1_UNIX + 3600) * NS_PER_SEC);
	assert_int_equal(r, (ERA1_UNIX - 1) * NS_PER_SEC);
	r = dpn_ntp_ts_to_unix_ns(0xffffffff00000000ULL,
				  UNIX_2040 * NS_PER_SEC);
	assert_int_equal(r, (ERA1_UNIX - 1) * NS_PER_SEC);

	/* 1970 is 67 years before 2037 but 69 before 2039. */
	r = dpn_ntp_ts_to_unix_ns(0x83aa7e8000000000ULL,
				  UNIX_2037 * NS_PER_SEC);
	assert_int_equal(r, 0);
	r = dpn_ntp_ts_to_unix_ns(0x83aa7e8000000000ULL,
				  UNIX_2039 * NS_PER_SEC);
	assert_int_equal(r, (1LL << 32) * NS_PER_SEC);
}

/* A small deterministic generator so failures reproduce. */
static uint64_t
lcg_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 11;
}

static void
check_round_trip(int64_t x, int64_t pivot)
{
	int64_t y = dpn_ntp_ts_to_unix_ns(dpn_ntp_ts_from_unix_ns(x), pivot);

	if (y - x > 1 || x - y > 1)
		fail_msg("%lld ns (pivot %lld) came back as %lld",
			 (long long)x, (long long)pivot, (long long)y);
}

static void
test_ts_round_trip(void **state)
{
	const int64_t lo = UNIX_1990 * NS_PER_SEC;
	const int64_t span = (UNIX_2100 - UNIX_1990) * NS_PER_SEC;
	uint64_t seed = 0x5eed;
	unsigned int i;
	int64_t x;

	for (i = 0; i < 200000; i++) {
		x = lo + (int64_t)(lcg_next(&seed) % (uint64_t)span);
		check_round_trip(x, x);
		check_round_trip(x, x + 30 * YEAR_NS);
		check_round_trip(x, x - 30 * YEAR_NS);
	}
	/* Every nanosecond of one second, around the era rollover. */
	for (i = 0; i < 2000; i++) {
		x = (ERA1_UNIX - 1) * NS_PER_SEC + 999999000 + i;
		check_round_trip(x, x);
		check_round_trip(x, UNIX_2020 * NS_PER_SEC);
		check_round_trip(x, UNIX_2040 * NS_PER_SEC);
	}
	/* Sub-second values all the way through one second. */
	for (i = 0; i < 1000000; i += 7)
		check_round_trip(UNIX_2020 * NS_PER_SEC + i * 1000 + i % 1000,
				 UNIX_2020 * NS_PER_SEC);
}

/* ------------------------------------------------------------------ */
/* Short format, refid, verdict strings */

static void
test_short_from_ns(void **state)
{
	assert_int_equal(dpn_ntp_short_from_ns(NS_PER_SEC), 0x00010000);
	assert_int_equal(dpn_ntp_short_from_ns(1500000000), 0x00018000);
	assert_int_equal(dpn_ntp_short_from_ns(1000000), 0x00000042);
	/* Rounded up: a root distance is a bound and must not shrink. */
	assert_int_equal(dpn_ntp_short_from_ns(1), 1);
	assert_int_equal(dpn_ntp_short_from_ns(15258), 1);
	assert_int_equal(dpn_ntp_short_from_ns(15259), 2);
	assert_int_equal(dpn_ntp_short_from_ns(NS_PER_SEC + 1), 0x00010001);
	/* Zero and negatives (a clock ahead of its reference) give 0. */
	assert_int_equal(dpn_ntp_short_from_ns(0), 0);
	assert_int_equal(dpn_ntp_short_from_ns(-1), 0);
	assert_int_equal(dpn_ntp_short_from_ns(INT64_MIN), 0);
	/* Saturation at 65536 s and beyond. */
	assert_int_equal(dpn_ntp_short_from_ns(65535LL * NS_PER_SEC),
			 0xffff0000);
	assert_int_equal(dpn_ntp_short_from_ns(65536LL * NS_PER_SEC - 1),
			 0xffffffff);
	assert_int_equal(dpn_ntp_short_from_ns(65536LL * NS_PER_SEC),
			 0xffffffff);
	assert_int_equal(dpn_ntp_short_from_ns(INT64_MAX), 0xffffffff);
}

static void
test_short_to_ns(void **state)
{
	uint32_t s;
	int64_t ns;

	assert_int_equal(dpn_ntp_short_to_ns(0), 0);
	assert_int_equal(dpn_ntp_short_to_ns(0x00010000), NS_PER_SEC);
	assert_int_equal(dpn_ntp_short_to_ns(0x00018000), 1500000000);
	assert_int_equal(dpn_ntp_short_to_ns(1), 15258);
	assert_int_equal(dpn_ntp_short_to_ns(0xffffffff), 65535999984741LL);
	/* short -> ns -> short is the identity; ns -> short -> ns never
	 * shrinks and grows by less than one short-format unit.
	 */
	for (s = 0; s < 0x00200000; s += 97)
		assert_int_equal(dpn_ntp_short_from_ns(dpn_ntp_short_to_ns(s)),
				 s);
	for (ns = 1; ns < 3 * NS_PER_SEC; ns += 99991) {
		int64_t back = dpn_ntp_short_to_ns(dpn_ntp_short_from_ns(ns));

		assert_true(back >= ns);
		assert_true(back - ns < 15259);
	}
}

static void
test_refid(void **state)
{
	assert_int_equal(dpn_ntp_refid_from_str("GPS"), 0x47505300);
	assert_int_equal(dpn_ntp_refid_from_str("LOCL"), 0x4c4f434c);
	assert_int_equal(dpn_ntp_refid_from_str("PPS"), 0x50505300);
	assert_int_equal(dpn_ntp_refid_from_str("G"), 0x47000000);
	assert_int_equal(dpn_ntp_refid_from_str(""), 0);
	assert_int_equal(dpn_ntp_refid_from_str(NULL), 0);
	/* Only four characters fit. */
	assert_int_equal(dpn_ntp_refid_from_str("GPSDX"), 0x47505344);
}

static void
test_verdict_str(void **state)
{
	const char *s[DPN_NTP_V_MAX];
	unsigned int i, j;

	for (i = 0; i < DPN_NTP_V_MAX; i++) {
		s[i] = dpn_ntp_verdict_str((enum dpn_ntp_verdict)i);
		assert_non_null(s[i]);
		assert_true(s[i][0] != '\0');
		for (j = 0; j < i; j++)
			if (strcmp(s[i], s[j]) == 0)
				fail_msg("verdicts %u and %u both say '%s'",
					 j, i, s[i]);
	}
	assert_string_equal(dpn_ntp_verdict_str(DPN_NTP_V_OK), "answered");
	assert_non_null(dpn_ntp_verdict_str(DPN_NTP_V_MAX));
	assert_non_null(dpn_ntp_verdict_str((enum dpn_ntp_verdict)1000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_golden_clients),
		cmocka_unit_test(test_classify_client_versions),
		cmocka_unit_test(test_classify_short),
		cmocka_unit_test(test_classify_bad_version),
		cmocka_unit_test(test_classify_bad_mode),
		cmocka_unit_test(test_classify_zero_xmt),
		cmocka_unit_test(test_classify_with_mac),
		cmocka_unit_test(test_reply_golden_ntpdate),
		cmocka_unit_test(test_reply_golden_chrony),
		cmocka_unit_test(test_reply_w32time_symmetric),
		cmocka_unit_test(test_reply_first_byte_per_version),
		cmocka_unit_test(test_reply_negative_poll_echoed),
		cmocka_unit_test(test_reply_leaves_mac_alone),
		cmocka_unit_test(test_reply_interleaved_golden),
		cmocka_unit_test(test_reply_unsynchronized),
		cmocka_unit_test(test_reply_leap_warning),
		cmocka_unit_test(test_sysinfo_fields),
		cmocka_unit_test(test_ts_from_unix_golden),
		cmocka_unit_test(test_ts_to_unix_golden),
		cmocka_unit_test(test_ts_era_selection),
		cmocka_unit_test(test_ts_round_trip),
		cmocka_unit_test(test_short_from_ns),
		cmocka_unit_test(test_short_to_ns),
		cmocka_unit_test(test_refid),
		cmocka_unit_test(test_verdict_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
