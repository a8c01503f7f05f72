/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ntp: an NTP request (the UDP payload) through what a worker
 * decides and builds for it, without the frame around it: the
 * classification (lib/ntp), the restrict verdict (lib/acl's
 * dpn_acl_decide, with flags the input picks), the symmetric key check
 * (lib/ntpauth's server side) and the reply builders (basic,
 * interleaved, KoD, crypto-NAK, signed), in the order
 * lib/dataplane/worker.c applies them. Also the timestamp and short
 * format conversions on values from the input.
 *
 * Input: 4 bytes of settings, then the payload.
 *   [0..1] restrict flags (DPN_ACL_F bits, big endian)
 *   [2]    bit 0: the server is synchronized; bit 1: answer interleaved;
 *          bit 2: answer with a KoD; bit 3: sign the request here with
 *          trusted key bits 4..5 (1, 7, 9; 3: untrusted key 12) so that
 *          the MAC path is reached; bits 6..7: poll floor of a KoD
 *   [3]    T2's fraction, and the pivot of the era conversion
 *
 * Invariants: only modes 1 and 3 with a version of 1 to 4, at least 48
 * bytes and a transmit timestamp are answered; the restrict flags are
 * obeyed; a reply is never longer than its request; its mode answers the
 * request's (4 to 3, 2 to 1); each field is the server's or the one the
 * request's field it must echo, and no other byte of the request
 * survives into it (checked by building the reply again from a request
 * whose other bytes differ); nothing is written past the reply; a signed
 * reply verifies with the client's code, with the request's key.
 */

#include <stdbool.h>

#include "dpn_acl.h"
#include "dpn_ntp.h"
#include "dpn_ntpauth.h"
#include "dpn_nts.h"
#include "fuzz.h"

#define BUF_LEN 1024
#define CANARY 0xa5

static const struct dpn_ntpauth_keys keys = {
	.nb = 4,
	.k = {
		{ 1, DPN_NTPAUTH_MD5, 6, "secret" },
		{ 7, DPN_NTPAUTH_SHA1, 20, "\x00\x11\x22\x33\x44\x55\x66\x77"
		  "\x88\x99\xaa\xbb\xcc\xdd\xee\xff\x01\x23\x45\x67" },
		{ 9, DPN_NTPAUTH_AES128CMAC, 16, "\x2b\x7e\x15\x16\x28\xae"
		  "\xd2\xa6\xab\xf7\x15\x88\x09\xcf\x4f\x3c" },
		{ 12, DPN_NTPAUTH_MD5, 9, "untrusted" },
	},
};
static const uint32_t trusted[] = { 1, 7, 9 };
static struct dpn_ntpauth_server *server;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	server = dpn_ntpauth_server_create(&keys, trusted, 3, err,
					   sizeof(err));
	if (server == NULL) {
		fprintf(stderr, "fuzz_ntp: %s\n", err);
		abort();
	}
	return 0;
}

/* worker.c's has_mac(): exactly a key ID and an MD5/CMAC or SHA-1 MAC. */
static bool
has_mac(size_t len)
{
	return len == DPN_NTP_HDR_LEN + 4 + 16 ||
		len == DPN_NTP_HDR_LEN + 4 + 20;
}

static void
check_classify(const uint8_t *p, size_t len, enum dpn_ntp_verdict v)
{
	const struct dpn_ntp_hdr *h = (const void *)p;
	unsigned int mode, vn;

	FUZZ_CHECK(v < DPN_NTP_V_MAX, "verdict %d", v);
	mode = dpn_ntp_mode_of(h);
	if (len < DPN_NTP_HDR_LEN) {
		/* Only a control message (mode 6, a 12-byte header) may be
		 * shorter than a time request; it goes to the management
		 * lcore (MODE6) or is dropped for its version. */
		if (len >= DPN_NTP_CTL_HDR_LEN && mode == DPN_NTP_MODE_CONTROL)
			FUZZ_CHECK(v == DPN_NTP_V_MODE6 ||
				   v == DPN_NTP_V_VERSION,
				   "%zu-byte control message: verdict %d",
				   len, v);
		else
			FUZZ_CHECK(v == DPN_NTP_V_SHORT,
				   "%zu bytes: verdict %d", len, v);
		return;
	}
	vn = dpn_ntp_version_of(h);
	if (v != DPN_NTP_V_OK)
		return;
	FUZZ_CHECK(vn >= 1 && vn <= 4, "version %u answered", vn);
	FUZZ_CHECK(mode == DPN_NTP_MODE_CLIENT ||
		   mode == DPN_NTP_MODE_SYM_ACTIVE, "mode %u answered", mode);
	FUZZ_CHECK(h->xmt_ts != 0, "zero transmit timestamp answered");
}

static void
check_decide(uint32_t flags, unsigned int mode, unsigned int vn, bool mac,
	     enum dpn_acl_verdict v)
{
	if (flags == 0) {
		FUZZ_CHECK(v == DPN_ACL_SERVE, "no flags, verdict %d", v);
		return;
	}
	if (v != DPN_ACL_SERVE)
		return;
	FUZZ_CHECK(!(flags & DPN_ACL_F(IGNORE)), "ignore served");
	FUZZ_CHECK(!(flags & DPN_ACL_F(NOSERVE)), "noserve served");
	FUZZ_CHECK(!(flags & DPN_ACL_F(NOTRUST)) || mac,
		   "notrust served without a MAC");
	FUZZ_CHECK(!(flags & DPN_ACL_F(VERSION)) || vn == 4,
		   "version served version %u", vn);
	FUZZ_CHECK(!(flags & DPN_ACL_F(NOPEER)) || mode != 1,
		   "nopeer served symmetric active");
}

/* The conversions, on values the input gives. */
static void
check_times(const struct dpn_ntp_hdr *h, uint8_t pivot_sel)
{
	/* Pivots from 1906 to 2163: with the 68 years either side, within
	 * the int64 nanoseconds the server counts in (1678 to 2262). */
	int64_t pivot = ((int64_t)pivot_sel - 64) * 1000000000LL * 32000000LL;
	uint64_t ts = __builtin_bswap64(h->xmt_ts);
	int64_t ns = dpn_ntp_ts_to_unix_ns(ts, pivot);
	int64_t d = ns - pivot;
	uint64_t back = dpn_ntp_ts_from_unix_ns(ns);
	int64_t diff = (int64_t)(back - ts);
	uint32_t s = __builtin_bswap32(h->root_delay);
	int64_t sns = dpn_ntp_short_to_ns(s);

	/* The nearest era: within half an era (68 years) of the pivot. */
	FUZZ_CHECK(d >= -(int64_t)2147483649LL * 1000000000LL &&
		   d <= (int64_t)2147483649LL * 1000000000LL,
		   "%#llx is %lld ns from its pivot",
		   (unsigned long long)ts, (long long)d);
	/* Back to the wire: the same instant, to the nanosecond. */
	FUZZ_CHECK(diff >= -8 && diff <= 8, "%#llx came back as %#llx",
		   (unsigned long long)ts, (unsigned long long)back);
	/* A root distance is rounded up, never down, and saturates. */
	FUZZ_CHECK(dpn_ntp_short_from_ns(sns) == s,
		   "short %#x -> %lld ns -> %#x", s, (long long)sns,
		   dpn_ntp_short_from_ns(sns));
	FUZZ_CHECK(dpn_ntp_short_to_ns(dpn_ntp_short_from_ns(sns)) >= sns,
		   "short format rounded down");
}

/*
 * The request with every byte the reply must not carry changed: all but
 * li_vn_mode, poll and the transmit timestamp (and, for an interleaved
 * reply, the receive timestamp), and all after the header.
 */
static void
scramble(uint8_t *p, size_t len, bool xleave)
{
	struct dpn_ntp_hdr *h = (void *)p;
	uint8_t keep[3 * 8];
	size_t i;

	memcpy(keep, &h->orig_ts, sizeof(keep));
	for (i = 0; i < len; i++)
		p[i] ^= (uint8_t)(0x5a + i);
	p[0] ^= (uint8_t)0x5a;		/* li_vn_mode */
	p[2] ^= (uint8_t)(0x5a + 2);	/* poll */
	memcpy(&h->xmt_ts, keep + 16, 8);
	if (xleave)
		memcpy(&h->recv_ts, keep + 8, 8);
}

enum kind { BASIC, XLEAVE, KOD, NAK, SIGNED };

/* Build the reply of @p kind in place; @return its length. */
static size_t
build(uint8_t *p, size_t len, enum kind k, const struct dpn_ntp_sysinfo *si,
      uint64_t t2, uint64_t tx, int8_t min_poll, int key)
{
	struct dpn_ntp_hdr *h = (void *)p;

	switch (k) {
	case XLEAVE:
		dpn_ntp_build_reply_interleaved(h, si, t2, tx);
		return DPN_NTP_HDR_LEN;
	case KOD:
		dpn_ntp_build_kod(h, dpn_ntp_refid_from_str("RATE"), min_poll);
		return DPN_NTP_HDR_LEN;
	case NAK:
		dpn_ntp_build_reply(h, si, t2);
		dpn_ntp_stamp_xmt(h, tx);
		memset(p + DPN_NTP_HDR_LEN, 0, 4);
		return DPN_NTP_HDR_LEN + 4;
	case SIGNED:
		dpn_ntp_build_reply(h, si, t2);
		dpn_ntp_stamp_xmt(h, tx);
		return DPN_NTP_HDR_LEN +
			dpn_ntpauth_server_sign(server, (unsigned int)key, p);
	case BASIC:
		break;
	}
	(void)len;
	dpn_ntp_build_reply(h, si, t2);
	dpn_ntp_stamp_xmt(h, tx);
	return DPN_NTP_HDR_LEN;
}

static void
check_reply(const uint8_t *q, size_t qlen, const uint8_t *r, size_t rlen,
	    enum kind k, const struct dpn_ntp_sysinfo *si, uint64_t t2,
	    uint64_t tx, int8_t min_poll)
{
	const struct dpn_ntp_hdr *qh = (const void *)q, *h = (const void *)r;
	unsigned int qmode = dpn_ntp_mode_of(qh);
	size_t i;

	FUZZ_CHECK(rlen <= qlen, "reply of %zu bytes to %zu", rlen, qlen);
	FUZZ_CHECK(rlen >= DPN_NTP_HDR_LEN, "reply of %zu bytes", rlen);
	for (i = rlen; i < BUF_LEN; i++)
		FUZZ_CHECK(r[i] == (i < qlen ? q[i] : CANARY),
			   "byte %zu past the reply written", i);
	FUZZ_CHECK(dpn_ntp_mode_of(h) == (qmode == DPN_NTP_MODE_CLIENT ?
		   DPN_NTP_MODE_SERVER : DPN_NTP_MODE_SYM_PASSIVE) &&
		   (qmode == DPN_NTP_MODE_CLIENT ||
		    qmode == DPN_NTP_MODE_SYM_ACTIVE),
		   "mode %u reply to mode %u", dpn_ntp_mode_of(h), qmode);
	FUZZ_CHECK(dpn_ntp_version_of(h) == dpn_ntp_version_of(qh),
		   "version not echoed");
	if (k == KOD) {
		FUZZ_CHECK(dpn_ntp_leap_of(h) == DPN_NTP_LEAP_ALARM &&
			   h->stratum == 0 && h->precision == 0 &&
			   h->root_delay == 0 && h->root_disp == 0 &&
			   h->ref_ts == 0 &&
			   h->refid == __builtin_bswap32(
				   dpn_ntp_refid_from_str("RATE")),
			   "KoD fields");
		FUZZ_CHECK(h->poll == (qh->poll < min_poll ? min_poll :
				       qh->poll), "KoD poll");
		FUZZ_CHECK(h->orig_ts == qh->xmt_ts &&
			   h->recv_ts == qh->xmt_ts &&
			   h->xmt_ts == qh->xmt_ts,
			   "KoD timestamps are not the request's");
		return;
	}
	FUZZ_CHECK(dpn_ntp_leap_of(h) == si->leap &&
		   h->stratum == si->stratum && h->poll == qh->poll &&
		   h->precision == si->precision &&
		   h->root_delay == si->root_delay &&
		   h->root_disp == si->root_disp && h->refid == si->refid &&
		   h->ref_ts == si->ref_ts, "fields not the server's");
	FUZZ_CHECK(h->orig_ts == (k == XLEAVE ? qh->recv_ts : qh->xmt_ts),
		   "origin timestamp");
	FUZZ_CHECK(h->recv_ts == __builtin_bswap64(t2) &&
		   h->xmt_ts == __builtin_bswap64(tx), "T2 or T3");
	if (k == NAK) {
		FUZZ_CHECK(memcmp(r + DPN_NTP_HDR_LEN, "\0\0\0\0", 4) == 0,
			   "crypto-NAK key ID not 0");
	} else if (k == SIGNED) {
		uint32_t id;
		const struct dpn_ntpauth_key *key;

		memcpy(&id, q + DPN_NTP_HDR_LEN, 4);
		key = dpn_ntpauth_find(&keys, __builtin_bswap32(id));
		FUZZ_CHECK(key != NULL && rlen == qlen &&
			   dpn_ntpauth_verify(key, r, rlen),
			   "signed reply does not verify with the request's "
			   "key");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t q[BUF_LEN], r[BUF_LEN], r2[BUF_LEN];
	struct dpn_ntp_sysinfo si;
	struct fuzz_in in = { data, size };
	uint32_t flags = fuzz_u16(&in) & ((1u << DPN_ACL_NB_FLAGS) - 1);
	uint8_t opt = fuzz_u8(&in), t = fuzz_u8(&in);
	uint64_t t2 = 0xeabc123400000001ULL | (uint64_t)t << 8;
	uint64_t tx = t2 + 0x10000;
	int8_t min_poll = (int8_t)((opt >> 6) * 3);
	enum dpn_ntp_verdict v;
	enum dpn_acl_verdict av;
	enum kind k;
	size_t len, rlen, rlen2;
	int key = -1;

	if (in.n > BUF_LEN - 64)
		return 0;
	memset(q, CANARY, sizeof(q));
	memcpy(q, in.p, in.n);
	len = in.n;
	if ((opt & 8) && len >= DPN_NTP_HDR_LEN) {
		/* What a client with that key sends: header, ID, MAC. */
		static const uint32_t ids[] = { 1, 7, 9, 12 };
		const struct dpn_ntpauth_key *kk =
			dpn_ntpauth_find(&keys, ids[(opt >> 4) & 3]);

		memset(q + DPN_NTP_HDR_LEN, CANARY, BUF_LEN - DPN_NTP_HDR_LEN);
		len = DPN_NTP_HDR_LEN +
			dpn_ntpauth_sign(kk, q, DPN_NTP_HDR_LEN);
	}
	v = dpn_ntp_classify(q, (unsigned int)len);
	check_classify(q, len, v);
	if (len >= DPN_NTP_HDR_LEN)
		check_times((const void *)q, t);
	if (v != DPN_NTP_V_OK)
		return 0;

	av = dpn_acl_decide(flags, dpn_ntp_mode_of((const void *)q),
			    dpn_ntp_version_of((const void *)q),
			    len != DPN_NTP_HDR_LEN);
	check_decide(flags, dpn_ntp_mode_of((const void *)q),
		     dpn_ntp_version_of((const void *)q),
		     len != DPN_NTP_HDR_LEN, av);
	if (av != DPN_ACL_SERVE)
		return 0;

	dpn_ntp_sysinfo_set(&si, opt & 1, t & 3, 1 + (t >> 4), -20 - (t & 7),
			    (int64_t)t * 1000000, (int64_t)t * 3000000,
			    dpn_ntp_refid_from_str("GPS"),
			    1795000000000000000LL);
	if (!(opt & 1))
		FUZZ_CHECK(si.leap == DPN_NTP_LEAP_ALARM &&
			   si.stratum == DPN_NTP_STRATUM_UNSYNC,
			   "unsynchronized server not saying so");

	/* What worker.c's reply_out() makes of it. */
	if (opt & 4) {
		k = KOD;
	} else if (len == DPN_NTP_HDR_LEN) {
		k = (opt & 2) ? XLEAVE : BASIC;
	} else if (has_mac(len)) {
		uint32_t id;

		memcpy(&id, q + DPN_NTP_HDR_LEN, 4);
		key = dpn_ntpauth_server_find(server, __builtin_bswap32(id));
		k = key >= 0 && dpn_ntpauth_server_verify(server,
				(unsigned int)key, q, len) ? SIGNED : NAK;
		if (opt & 8)
			FUZZ_CHECK((k == SIGNED) == (((opt >> 4) & 3) != 3),
				   "a request signed with key %u: %s",
				   ((opt >> 4) & 3),
				   k == SIGNED ? "signed" : "refused");
	} else {
		struct dpn_nts_request nr;

		/* NTS requests are fuzz_nts's; others get a plain reply,
		 * never longer than the request. */
		if (dpn_nts_parse(q, len, &nr) != DPN_NTS_NONE)
			return 0;
		k = BASIC;
	}

	memcpy(r, q, sizeof(r));
	rlen = build(r, len, k, &si, t2, tx, min_poll, key);
	check_reply(q, len, r, rlen, k, &si, t2, tx, min_poll);

	/* Again from a request whose other bytes differ: the same reply. */
	memcpy(r2, q, sizeof(r2));
	scramble(r2, len, k == XLEAVE);
	rlen2 = build(r2, len, k, &si, t2, tx, min_poll, key);
	FUZZ_CHECK(rlen2 == rlen && memcmp(r, r2, rlen) == 0,
		   "a byte of the request that the reply must not carry "
		   "is in it");
	return 0;
}
