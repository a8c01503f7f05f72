/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TEST_NTS_CLIENT_H
#define TEST_NTS_CLIENT_H

/*
 * What an NTS client does (RFC 8915 5), written apart from lib/nts so
 * that tests check the server against an independent reading: build a
 * request, open a reply. Header-only, for the unit and DPDK tests.
 */

#include <stdint.h>
#include <string.h>

#include <nettle/siv-cmac.h>

#define NTSC_EF_UID 0x0104
#define NTSC_EF_COOKIE 0x0204
#define NTSC_EF_PLACEHOLDER 0x0304
#define NTSC_EF_AUTH 0x0404
#define NTSC_UID_LEN 32

static inline void
ntsc_put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline unsigned int
ntsc_get16(const uint8_t *p)
{
	return (unsigned int)(p[0] << 8 | p[1]);
}

/*
 * After the 48-byte header at @p pkt (left as the caller made it): a
 * unique identifier (@p uid, 32 bytes), the cookie, @p nb_ph
 * placeholders as long as it, and the authenticator (nonce @p nonce of
 * @p nlen bytes) sealed with @p c2s over all before it.
 * @return the NTP payload's length.
 */
static inline size_t
ntsc_request(uint8_t *pkt, const uint8_t *uid, const uint8_t *cookie,
	     size_t cookie_len, unsigned int nb_ph, const uint8_t *nonce,
	     unsigned int nlen, const uint8_t *c2s)
{
	struct siv_cmac_aes128_ctx ctx;
	unsigned int i, plen = (nlen + 3) & ~3u;
	size_t off = 48, a;

	ntsc_put16(pkt + off, NTSC_EF_UID);
	ntsc_put16(pkt + off + 2, 4 + NTSC_UID_LEN);
	memcpy(pkt + off + 4, uid, NTSC_UID_LEN);
	off += 4 + NTSC_UID_LEN;
	ntsc_put16(pkt + off, NTSC_EF_COOKIE);
	ntsc_put16(pkt + off + 2, 4 + cookie_len);
	memcpy(pkt + off + 4, cookie, cookie_len);
	off += 4 + cookie_len;
	for (i = 0; i < nb_ph; i++) {
		ntsc_put16(pkt + off, NTSC_EF_PLACEHOLDER);
		ntsc_put16(pkt + off + 2, 4 + cookie_len);
		memset(pkt + off + 4, 0, cookie_len);
		off += 4 + cookie_len;
	}
	a = off;
	ntsc_put16(pkt + a, NTSC_EF_AUTH);
	ntsc_put16(pkt + a + 2, 8 + plen + 16);
	ntsc_put16(pkt + a + 4, nlen);
	ntsc_put16(pkt + a + 6, 16);
	memset(pkt + a + 8, 0, plen);
	memcpy(pkt + a + 8, nonce, nlen);
	siv_cmac_aes128_set_key(&ctx, c2s);
	siv_cmac_aes128_encrypt_message(&ctx, nlen, pkt + a + 8, a, pkt, 16,
					pkt + a + 8 + plen, pkt);
	return a + 8 + plen + 16;
}

/*
 * Open an NTS reply of @p len bytes as a client does: the unique
 * identifier first and equal to @p uid, then the authenticator, which
 * @p s2c must open over all before it. The decrypted fields go to
 * @p inner (@p inner_size bytes).
 * @return the length of the decrypted fields, or -1.
 */
static inline int
ntsc_open_reply(const uint8_t *pkt, size_t len, const uint8_t *uid,
		const uint8_t *s2c, uint8_t *inner, size_t inner_size)
{
	struct siv_cmac_aes128_ctx ctx;
	size_t a = 48 + 4 + NTSC_UID_LEN;
	unsigned int nl, cl;

	if (len < a + 8 + 16 || ntsc_get16(pkt + 48) != NTSC_EF_UID ||
	    ntsc_get16(pkt + 50) != 4 + NTSC_UID_LEN ||
	    memcmp(pkt + 52, uid, NTSC_UID_LEN) != 0 ||
	    ntsc_get16(pkt + a) != NTSC_EF_AUTH ||
	    ntsc_get16(pkt + a + 2) != len - a)
		return -1;
	nl = ntsc_get16(pkt + a + 4);
	cl = ntsc_get16(pkt + a + 6);
	if (cl < 16 || cl - 16 > inner_size ||
	    a + 8 + ((nl + 3) & ~3u) + cl > len)
		return -1;
	siv_cmac_aes128_set_key(&ctx, s2c);
	if (!siv_cmac_aes128_decrypt_message(&ctx, nl, pkt + a + 8, a, pkt,
					     cl - 16, inner,
					     pkt + a + 8 + ((nl + 3) & ~3u)))
		return -1;
	return (int)(cl - 16);
}

#endif /* TEST_NTS_CLIENT_H */
