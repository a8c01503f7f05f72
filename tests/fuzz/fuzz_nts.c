/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_nts: NTS extension fields (RFC 8915 5.7) of an NTP request
 * through lib/nts as the worker runs it: dpn_nts_parse(), the cookie and
 * authenticator check (dpn_nts_verify_burst(), and dpn_nts_verify() for
 * one), the reply laid out and sealed (dpn_nts_prepare_burst(),
 * dpn_nts_seal_burst()) or the NTS NAK (dpn_nts_nak()); and, from the
 * same input, an NTS-KE request (RFC 8915 4) through lib/ntske's record
 * parser.
 *
 * A fuzzer cannot make a cookie that opens, so with bit 0 of the first
 * byte the target makes the request's cookie and authenticator good for
 * known keys (what a client that went through NTS-KE sends) and leaves
 * every other byte as the input has it; the reply is then checked as a
 * client reads it.
 *
 * Input: one byte of settings, then the NTP payload.
 *   bit 0: make the cookie and authenticator good (when the cookie field
 *          has the length of ours)
 *   bits 1..3: the burst's size less one (copies of the request checked
 *          side by side: each must fare as the one checked alone)
 *   bit 4: seal the cookie with a key one rotation old
 *   bit 5: open with another server's keys (the cookie must not open)
 *   bit 6: the rest is an NTS-KE request instead, for lib/ntske's
 *          record parser
 *
 * Invariants: what the parser returns for a request lies within it, one
 * unique identifier, one cookie, the authenticator last; a good request
 * verifies, alone and in a burst, with its own keys and no other, and
 * a request the target did not make good never verifies; the
 * reply is exactly as long as the request, carries its unique
 * identifier, opens with S2C over all before the authenticator, holds
 * one new cookie per cookie and placeholder that fits, each opening to
 * the request's keys; no byte of the request but its identifier reaches
 * the reply (the reply built again from a request whose other bytes
 * differ is the same); an NTS NAK is the header and the identifier, no
 * longer than the request; the NTS-KE parser accepts a request only at
 * its End of Message record, and refuses with a defined error code.
 */

#include <stdbool.h>

#include "dpn_ntske.h"
#include "dpn_nts.h"
#include "fuzz.h"
#include "fuzz_nts_util.h"

#define HDR 48
#define BUF_LEN 2048
#define BURST_MAX 8
#define COOKIE_EF FUZZ_NTS_COOKIE_EF

static struct dpn_nts_keyring ring, other;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct dpn_nts_rng rng;

	(void)argc;
	(void)argv;
	fuzz_rng_fixed(&rng, 1);
	dpn_nts_keyring_generate(&ring, &rng);
	dpn_nts_keyring_generate(&other, &rng);
	return 0;
}

static unsigned int
get16(const uint8_t *p)
{
	return (unsigned int)(p[0] << 8 | p[1]);
}

static unsigned int
pad4(unsigned int n)
{
	return (n + 3) & ~3u;
}

static void
check_parse(const uint8_t *p, size_t len, const struct dpn_nts_request *r)
{
	unsigned int alen;

	FUZZ_CHECK(len >= HDR && len <= UINT16_MAX, "%zu bytes", len);
	FUZZ_CHECK(r->uid_off >= HDR && r->uid_len >= 4 + DPN_NTS_UID_MIN &&
		   r->uid_len <= 4 + DPN_NTS_UID_MAX &&
		   r->uid_off + (size_t)r->uid_len <= len &&
		   get16(p + r->uid_off) == DPN_NTS_EF_UID &&
		   get16(p + r->uid_off + 2) == r->uid_len,
		   "unique identifier at %u, %u bytes", r->uid_off,
		   r->uid_len);
	FUZZ_CHECK(r->cookie_off >= HDR + 4 &&
		   r->cookie_off + (size_t)r->cookie_len <= len &&
		   get16(p + r->cookie_off - 4) == DPN_NTS_EF_COOKIE &&
		   get16(p + r->cookie_off - 2) == r->cookie_len + 4u,
		   "cookie at %u, %u bytes", r->cookie_off, r->cookie_len);
	FUZZ_CHECK(r->nb_placeholders < DPN_NTS_MAX_COOKIES,
		   "%u placeholders", r->nb_placeholders);
	alen = get16(p + r->auth_off + 2);
	FUZZ_CHECK(get16(p + r->auth_off) == DPN_NTS_EF_AUTH &&
		   r->auth_off + (size_t)alen == len,
		   "authenticator at %u (%u bytes) not last of %zu",
		   r->auth_off, alen, len);
	FUZZ_CHECK(r->nonce_off == r->auth_off + 8 && r->nonce_len > 0 &&
		   r->ct_off == r->nonce_off + pad4(r->nonce_len) &&
		   r->ct_len >= DPN_NTS_TAG_LEN &&
		   r->ct_len - DPN_NTS_TAG_LEN <= DPN_NTS_INNER_MAX &&
		   r->ct_off + (size_t)pad4(r->ct_len) <= len,
		   "nonce %u+%u, ciphertext %u+%u in %zu", r->nonce_off,
		   r->nonce_len, r->ct_off, r->ct_len, len);
}

/* Every byte after the header but the identifier's changed. */
static void
scramble(uint8_t *p, size_t len, const struct dpn_nts_request *r)
{
	size_t i;

	for (i = HDR; i < len; i++)
		if (i < r->uid_off || i >= (size_t)r->uid_off + r->uid_len)
			p[i] ^= (uint8_t)(0xa5 + i);
}

static void
ntske(const uint8_t *p, size_t len)
{
	struct dpn_ntske_request q;
	int done = dpn_ntske_parse_request(p, len, &q);

	FUZZ_CHECK(done == 0 || done == 1, "parse returned %d", done);
	if (!done)
		return;
	if (q.error >= 0)
		FUZZ_CHECK(q.error == DPN_NTSKE_ERR_BAD_REQUEST ||
			   q.error == DPN_NTSKE_ERR_UNRECOGNIZED_CRITICAL,
			   "error code %d", q.error);
	else
		/* A complete, good request ends in End of Message. */
		FUZZ_CHECK(len >= 4 && get16(p + len - 4) ==
			   (DPN_NTSKE_CRITICAL | DPN_NTSKE_REC_END) &&
			   get16(p + len - 2) == 0,
			   "accepted without End of Message");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t req[BUF_LEN], pkt[BURST_MAX][BUF_LEN], alt[BUF_LEN];
	struct dpn_nts_check c[BURST_MAX], *cp[1];
	struct dpn_nts_request r;
	struct dpn_nts_rng rng, rng2;
	uint8_t k1[DPN_NTS_KEY_LEN], k2[DPN_NTS_KEY_LEN];
	struct fuzz_in in = { data, size };
	uint8_t opt = fuzz_u8(&in);
	unsigned int nb = 1 + ((opt >> 1) & 7), i;
	const struct dpn_nts_keyring *kr = (opt & 0x20) ? &other : &ring;
	enum dpn_nts_kind kind;
	bool good = false;
	size_t len = in.n, rlen;
	int single;

	if (opt & 0x40) {
		ntske(in.p, in.n);
		return 0;
	}
	if (len > BUF_LEN)
		return 0;
	memcpy(req, in.p, len);
	kind = dpn_nts_parse(req, len, &r);
	FUZZ_CHECK(kind == DPN_NTS_NONE || kind == DPN_NTS_REQUEST ||
		   kind == DPN_NTS_MALFORMED, "kind %d", kind);
	if (kind != DPN_NTS_REQUEST)
		return 0;
	check_parse(req, len, &r);
	if ((opt & 1) && r.cookie_len == DPN_NTS_COOKIE_LEN) {
		fuzz_nts_make_good(req, &r, &ring, opt & 0x10);
		good = true;
	}

	/* Alone, then in a burst of copies: the same verdict. */
	single = dpn_nts_verify(kr, req, &r, k1, k2);
	if (good)
		FUZZ_CHECK((single == 0) == (kr == &ring),
			   "a good request %s with %s keys",
			   single == 0 ? "verifies" : "fails",
			   kr == &ring ? "its" : "another server's");
	if (single == 0)
		FUZZ_CHECK(good && memcmp(k1, fuzz_c2s, sizeof(k1)) == 0 &&
			   memcmp(k2, fuzz_s2c, sizeof(k2)) == 0,
			   "a request verifies with keys it was not made "
			   "with");
	for (i = 0; i < nb; i++) {
		memcpy(pkt[i], req, len);
		c[i].pkt = pkt[i];
		c[i].len = len;
		c[i].r = r;
	}
	dpn_nts_verify_burst(kr, c, nb);
	for (i = 0; i < nb; i++)
		FUZZ_CHECK(c[i].ok == (single == 0),
			   "request %u of %u in a burst: %d, alone: %d", i, nb,
			   c[i].ok, single);

	if (!c[0].ok) {
		/* An NTS NAK: the header and the identifier. */
		rlen = dpn_nts_nak(pkt[0], &r);
		FUZZ_CHECK(rlen == (size_t)HDR + r.uid_len && rlen <= len &&
			   memcmp(pkt[0] + HDR, req + r.uid_off,
				  r.uid_len) == 0,
			   "NTS NAK of %zu bytes", rlen);
		return 0;
	}

	/* The reply, and again from a request with other bytes. */
	fuzz_rng_fixed(&rng, 3);
	rng2 = rng;
	cp[0] = &c[0];
	dpn_nts_prepare_burst(kr, &rng, cp, 1);
	memcpy(alt, req, len);
	scramble(alt, len, &r);
	{
		struct dpn_nts_check ca = c[0];

		ca.pkt = alt;
		memcpy(ca.keys, fuzz_c2s, sizeof(fuzz_c2s));
		memcpy(ca.keys + DPN_NTS_KEY_LEN, fuzz_s2c,
		       sizeof(fuzz_s2c));
		cp[0] = &ca;
		dpn_nts_prepare_burst(kr, &rng2, cp, 1);
		FUZZ_CHECK(ca.reply_len == c[0].reply_len,
			   "reply length depends on bytes it must not");
		if (c[0].reply_len != 0) {
			uint8_t *b[2] = { pkt[0], alt };
			const struct dpn_nts_pending *pa[2] = { &c[0].p,
								&ca.p };

			dpn_nts_seal_burst(b, pa, 2);
			FUZZ_CHECK(memcmp(pkt[0], alt, len) == 0,
				   "a byte of the request that the reply must "
				   "not carry is in it");
		}
	}
	if (c[0].reply_len == 0) {
		/* Not even one cookie fits. */
		FUZZ_CHECK((size_t)HDR + r.uid_len + 8 + DPN_NTS_NONCE_LEN +
			   DPN_NTS_TAG_LEN + COOKIE_EF > len,
			   "no reply, though a cookie fits in %zu", len);
		return 0;
	}
	fuzz_nts_check_reply(req, len, &r, pkt[0], c[0].reply_len, kr);
	return 0;
}
