/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_FUZZ_NTS_UTIL_H
#define DPN_FUZZ_NTS_UTIL_H

/*
 * NTS as the client side does it, for fuzz_nts and fuzz_frame: turn a
 * request the fuzzer wrote into one a client with known keys sends (a
 * fuzzer cannot forge a cookie), and read a reply as that client.
 */

#include <stdbool.h>

#include <nettle/chacha.h>
#include <nettle/siv-cmac.h>

#include "dpn_nts.h"
#include "fuzz.h"

#define FUZZ_NTS_COOKIE_EF (4 + DPN_NTS_COOKIE_LEN)

static const uint8_t fuzz_c2s[DPN_NTS_KEY_LEN] = { 0xc2, 0x52, 1, 2, 3 };
static const uint8_t fuzz_s2c[DPN_NTS_KEY_LEN] = { 0x52, 0xc2, 4, 5, 6 };

/* A generator whose output is the same on every run, so that inputs
 * replay: the server's own is seeded from getrandom(). */
static inline void
fuzz_rng_fixed(struct dpn_nts_rng *r, uint8_t seed)
{
	uint8_t key[CHACHA_KEY_SIZE], nonce[CHACHA_NONCE_SIZE];

	memset(key, seed, sizeof(key));
	memset(nonce, 0, sizeof(nonce));
	chacha_set_key(&r->ctx, key);
	chacha_set_nonce(&r->ctx, nonce);
	r->used = sizeof(r->buf);
}

static inline unsigned int
fuzz_get16(const uint8_t *p)
{
	return (unsigned int)(p[0] << 8 | p[1]);
}

/*
 * What a client that got fuzz_c2s from NTS-KE puts in request @p p
 * (parsed into @p r, a cookie of our length): a cookie of @p kr (of the
 * key before the current one if @p old) and an authenticator over all
 * before it; its ciphertext is the input's bytes, encrypted.
 */
static inline void
fuzz_nts_make_good(uint8_t *p, const struct dpn_nts_request *r,
		   const struct dpn_nts_keyring *ring, bool old)
{
	struct dpn_nts_keyring kr = *ring;
	struct dpn_nts_rng rng;
	struct siv_cmac_aes128_ctx ctx;
	uint8_t plain[DPN_NTS_INNER_MAX];
	size_t plen = r->ct_len - DPN_NTS_TAG_LEN;

	fuzz_rng_fixed(&rng, 2);
	if (old)
		kr.current = (kr.current + DPN_NTS_SERVER_KEYS - 1) %
			DPN_NTS_SERVER_KEYS;
	dpn_nts_cookie_seal(&kr, &rng, fuzz_c2s, fuzz_s2c, p + r->cookie_off);
	memcpy(plain, p + r->ct_off + DPN_NTS_TAG_LEN, plen);
	siv_cmac_aes128_set_key(&ctx, fuzz_c2s);
	siv_cmac_aes128_encrypt_message(&ctx, r->nonce_len,
					p + r->nonce_off, r->auth_off, p,
					r->ct_len, p + r->ct_off, plain);
}

/*
 * The reply @p rep of @p rlen bytes to request @p req (@p len bytes,
 * parsed into @p r) as the client reads it (RFC 8915 5.7, 6): as long as
 * the request, its unique identifier first, then an authenticator to
 * the end that opens with S2C over all before it, holding one cookie
 * per cookie and placeholder that fits, each opening with @p kr to the
 * request's keys, then zeros.
 */
static inline void
fuzz_nts_check_reply(const uint8_t *req, size_t len,
		     const struct dpn_nts_request *r, const uint8_t *rep,
		     size_t rlen, const struct dpn_nts_keyring *kr)
{
	struct siv_cmac_aes128_ctx ctx;
	uint8_t plain[DPN_NTS_MAX_COOKIES * FUZZ_NTS_COOKIE_EF];
	unsigned int a = 48 + r->uid_len, nl, cl, i, n, want;

	FUZZ_CHECK(rlen == len, "NTS reply of %zu bytes to %zu", rlen, len);
	FUZZ_CHECK(memcmp(rep + 48, req + r->uid_off, r->uid_len) == 0,
		   "unique identifier not first, or changed");
	FUZZ_CHECK(a + 8 <= rlen && fuzz_get16(rep + a) == DPN_NTS_EF_AUTH &&
		   fuzz_get16(rep + a + 2) == rlen - a,
		   "authenticator field not after the identifier, to the end");
	nl = fuzz_get16(rep + a + 4);
	cl = fuzz_get16(rep + a + 6);
	FUZZ_CHECK(nl == DPN_NTS_NONCE_LEN && cl >= DPN_NTS_TAG_LEN &&
		   (cl - DPN_NTS_TAG_LEN) % FUZZ_NTS_COOKIE_EF == 0 &&
		   a + 8 + nl + cl <= rlen,
		   "nonce %u, ciphertext %u in %zu", nl, cl, rlen);
	n = (cl - DPN_NTS_TAG_LEN) / FUZZ_NTS_COOKIE_EF;
	want = 1 + r->nb_placeholders;
	while (want > 0 && a + 8 + DPN_NTS_NONCE_LEN + DPN_NTS_TAG_LEN +
	       want * FUZZ_NTS_COOKIE_EF > len)
		want--;
	FUZZ_CHECK(n == want && n >= 1, "%u cookies, want %u", n, want);
	siv_cmac_aes128_set_key(&ctx, fuzz_s2c);
	FUZZ_CHECK(siv_cmac_aes128_decrypt_message(&ctx, nl, rep + a + 8, a,
						   rep, cl - DPN_NTS_TAG_LEN,
						   plain, rep + a + 8 + nl),
		   "NTS reply does not open with S2C");
	for (i = 0; i < n; i++) {
		const uint8_t *ef = plain + i * FUZZ_NTS_COOKIE_EF;
		uint8_t k1[DPN_NTS_KEY_LEN], k2[DPN_NTS_KEY_LEN];

		FUZZ_CHECK(fuzz_get16(ef) == DPN_NTS_EF_COOKIE &&
			   fuzz_get16(ef + 2) == FUZZ_NTS_COOKIE_EF,
			   "cookie field %u", i);
		FUZZ_CHECK(dpn_nts_cookie_open(kr, ef + 4, DPN_NTS_COOKIE_LEN,
					       k1, k2) == 0 &&
			   memcmp(k1, fuzz_c2s, sizeof(k1)) == 0 &&
			   memcmp(k2, fuzz_s2c, sizeof(k2)) == 0,
			   "new cookie %u does not open to the request's keys",
			   i);
	}
	/* The authenticator's padding, after the ciphertext: zeros. */
	for (i = a + 8 + nl + cl; i < rlen; i++)
		FUZZ_CHECK(rep[i] == 0, "padding byte %u is %#x", i, rep[i]);
}

#endif /* DPN_FUZZ_NTS_UTIL_H */
