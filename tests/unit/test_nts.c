/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NTS on the server side (lib/nts): nettle's AES-SIV-CMAC against
 * OpenSSL's (an independent implementation, where OpenSSL works: a
 * non-empty plaintext); the CSPRNG; cookies through key rotation; the
 * key file as chrony writes it; and requests built as a client builds
 * them (test-side code, not lib/nts's) answered with replies that a
 * client opens: as long as the request, the unique identifier echoed,
 * new cookies that open to the same keys, and a tag over the header.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "dpn_nts.h"
#include "nts_client.h"

static struct dpn_nts_rng rng;
static struct dpn_nts_keyring kr;
static const uint8_t c2s[32] = { 0xc2, 0x5, 1, 2, 3 };
static const uint8_t s2c[32] = { 0x52, 0xc, 9, 8, 7 };

static int
setup(void **state)
{
	(void)state;
	if (dpn_nts_rng_init(&rng) != 0)
		return -1;
	dpn_nts_keyring_generate(&kr, &rng);
	return 0;
}

static void
put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned int
get16(const uint8_t *p)
{
	return (unsigned int)(p[0] << 8 | p[1]);
}

/* OpenSSL's SIV over (ad, nonce, pt): the same S2V components. */
static void
openssl_siv(const uint8_t *key, const uint8_t *ad, size_t alen,
	    const uint8_t *nonce, size_t nlen, const uint8_t *pt, size_t plen,
	    uint8_t *out)
{
	EVP_CIPHER *siv = EVP_CIPHER_fetch(NULL, "AES-128-SIV", NULL);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int ol;

	assert_non_null(siv);
	assert_int_equal(EVP_EncryptInit_ex2(c, siv, key, NULL, NULL), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &ol, ad, (int)alen), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &ol, nonce, (int)nlen), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out + 16, &ol, pt, (int)plen), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out + 16 + ol, &ol), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16,
					     out), 1);
	EVP_CIPHER_CTX_free(c);
	EVP_CIPHER_free(siv);
}

static void
test_siv_matches_openssl(void **state)
{
	uint8_t key[32], ad[84], nonce[16], pt[104], a[120], b[120];
	struct siv_cmac_aes128_ctx ctx;
	size_t lens[] = { 1, 16, 64, 104 };
	unsigned int i;

	(void)state;
	dpn_nts_rng_bytes(&rng, key, sizeof(key));
	dpn_nts_rng_bytes(&rng, ad, sizeof(ad));
	dpn_nts_rng_bytes(&rng, nonce, sizeof(nonce));
	dpn_nts_rng_bytes(&rng, pt, sizeof(pt));
	siv_cmac_aes128_set_key(&ctx, key);
	for (i = 0; i < 4; i++) {
		siv_cmac_aes128_encrypt_message(&ctx, 16, nonce, sizeof(ad),
						ad, lens[i] + 16, a, pt);
		openssl_siv(key, ad, sizeof(ad), nonce, 16, pt, lens[i], b);
		assert_memory_equal(a, b, lens[i] + 16);
	}
}

static void
test_rng(void **state)
{
	uint8_t a[600], b[600], zero[600] = { 0 };
	struct dpn_nts_rng other;

	(void)state;
	dpn_nts_rng_bytes(&rng, a, sizeof(a));	/* across refills */
	dpn_nts_rng_bytes(&rng, b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(dpn_nts_rng_init(&other), 0);
	dpn_nts_rng_bytes(&other, b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
}

static void
test_cookie(void **state)
{
	struct dpn_nts_keyring k2;
	uint8_t ck[DPN_NTS_COOKIE_LEN], ck2[DPN_NTS_COOKIE_LEN], x[32], y[32];
	unsigned int i;

	(void)state;
	dpn_nts_cookie_seal(&kr, &rng, c2s, s2c, ck);
	dpn_nts_cookie_seal(&kr, &rng, c2s, s2c, ck2);
	/* Fresh nonce each time: two cookies of the same keys differ. */
	assert_memory_not_equal(ck, ck2, sizeof(ck));
	assert_int_equal(dpn_nts_cookie_open(&kr, ck, sizeof(ck), x, y), 0);
	assert_memory_equal(x, c2s, 32);
	assert_memory_equal(y, s2c, 32);
	assert_int_equal(dpn_nts_cookie_open(&kr, ck, sizeof(ck) - 1, x, y),
			 -1);
	for (i = 0; i < sizeof(ck); i += 13) {
		ck2[i] = ck[i];
		memcpy(ck2, ck, sizeof(ck));
		ck2[i] ^= 0x40;
		assert_int_equal(dpn_nts_cookie_open(&kr, ck2, sizeof(ck2), x,
						     y), -1);
	}
	/* Another server's keys do not open it. */
	dpn_nts_keyring_generate(&k2, &rng);
	assert_int_equal(dpn_nts_cookie_open(&k2, ck, sizeof(ck), x, y), -1);
	/* Two rotations later it still opens; the third forgets its key. */
	k2 = kr;
	dpn_nts_keyring_rotate(&k2, &rng);
	dpn_nts_keyring_rotate(&k2, &rng);
	assert_int_equal(dpn_nts_cookie_open(&k2, ck, sizeof(ck), x, y), 0);
	dpn_nts_keyring_rotate(&k2, &rng);
	assert_int_equal(dpn_nts_cookie_open(&k2, ck, sizeof(ck), x, y), -1);
}

static void
write_text(char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_key_file(void **state)
{
	char dir[] = "/tmp/test_nts.XXXXXX", path[64], err[256], line[256];
	struct dpn_nts_keyring k2;
	uint8_t ck[DPN_NTS_COOKIE_LEN], x[32], y[32];
	struct stat st;
	unsigned int i;
	double age = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ntskeys", dir);
	dpn_nts_keyring_rotate(&kr, &rng);
	assert_int_equal(dpn_nts_keyring_save(&kr, 12.5, path, err,
					      sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* chrony 4.3's layout: NKS0, "15 AGE", four "ID HEX" lines, the
	 * oldest first and the next key last. */
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "NKS0\n");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "15 12.5\n");
	for (i = 0; i < 4; i++) {
		unsigned int id;
		char hex[80];

		assert_non_null(fgets(line, sizeof(line), f));
		assert_int_equal(sscanf(line, "%8X %79s", &id, hex), 2);
		assert_int_equal(strlen(hex), 64);
		assert_int_equal(id % 4, (kr.current + 2 + i) % 4);
	}
	assert_null(fgets(line, sizeof(line), f));
	fclose(f);

	/* Another server reading the file opens this one's cookies and
	 * makes ones this one opens. */
	assert_int_equal(dpn_nts_keyring_load(&k2, &age, path, err,
					      sizeof(err)), 0);
	assert_true(age == 12.5);
	assert_int_equal(k2.current, kr.current);
	dpn_nts_cookie_seal(&kr, &rng, c2s, s2c, ck);
	assert_int_equal(dpn_nts_cookie_open(&k2, ck, sizeof(ck), x, y), 0);
	dpn_nts_cookie_seal(&k2, &rng, c2s, s2c, ck);
	assert_int_equal(dpn_nts_cookie_open(&kr, ck, sizeof(ck), x, y), 0);

	/* Errors name the line; the keys stay. */
	write_text(path, "NKS2\n");
	assert_int_equal(dpn_nts_keyring_load(&k2, &age, path, err,
					      sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: not an NTS key file"));
	write_text(path, "NKS0\n30 1.0\n00000004 00\n");
	assert_int_equal(dpn_nts_keyring_load(&k2, &age, path, err,
					      sizeof(err)), -1);
	assert_non_null(strstr(err, ":3: algorithm 30 is not"));
	write_text(path, "NKS0\n15 1.0\n00000004 0011\n");
	assert_int_equal(dpn_nts_keyring_load(&k2, &age, path, err,
					      sizeof(err)), -1);
	assert_non_null(strstr(err, ":3: a key is 64 hex digits"));
	write_text(path, "NKS1\n1.0\n"
		   "00000004 0000000000000000000000000000000000000000000000000000000000000000 15\n"
		   "00000006 0000000000000000000000000000000000000000000000000000000000000000 15\n");
	assert_int_equal(dpn_nts_keyring_load(&k2, &age, path, err,
					      sizeof(err)), -1);
	assert_non_null(strstr(err, ":4: key 00000006 does not follow"));
	assert_int_equal(dpn_nts_cookie_open(&k2, ck, sizeof(ck), x, y), 0);
	unlink(path);
	rmdir(dir);
}

/* A client's request (tests/common/nts_client.h) with a random unique
 * identifier and nonce, sealed with @p key. @return its length. */
static size_t
client_request(uint8_t *pkt, const uint8_t *cookie, unsigned int nb_ph,
	       unsigned int nlen, const uint8_t *key)
{
	uint8_t uid[NTSC_UID_LEN], nonce[64];

	memset(pkt, 0, 1200);
	pkt[0] = 0x23;				/* v4, client */
	pkt[47] = 0x5a;				/* transmit timestamp */
	dpn_nts_rng_bytes(&rng, uid, sizeof(uid));
	dpn_nts_rng_bytes(&rng, nonce, nlen);
	return ntsc_request(pkt, uid, cookie, DPN_NTS_COOKIE_LEN, nb_ph, nonce,
			    nlen, key);
}

static void
test_request_reply(void **state)
{
	uint8_t pkt[1200], req[1200], ck[DPN_NTS_COOKIE_LEN], k1[32], k2[32];
	uint8_t inner[1000];
	struct dpn_nts_request r;
	struct dpn_nts_pending p;
	unsigned int nb_ph, a, off, n;
	size_t len;

	(void)state;
	for (nb_ph = 0; nb_ph < 8; nb_ph++) {
		dpn_nts_cookie_seal(&kr, &rng, c2s, s2c, ck);
		len = client_request(pkt, ck, nb_ph, 16, c2s);
		memcpy(req, pkt, len);
		assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_REQUEST);
		assert_int_equal(r.nb_placeholders, nb_ph);
		assert_int_equal(r.uid_off, 48);
		assert_int_equal(dpn_nts_verify(&kr, pkt, &r, k1, k2), 0);
		assert_memory_equal(k1, c2s, 32);
		assert_memory_equal(k2, s2c, 32);
		/* The reply's header, as the builder leaves it. */
		pkt[0] = 0x24;
		assert_int_equal(dpn_nts_prepare(&kr, &rng, pkt, len, &r, k1,
						 k2, &p), len);
		pkt[40] = 0x77;				/* T3 */
		dpn_nts_seal(pkt, &p);

		/* What the client checks. */
		a = 48 + 36;
		assert_int_equal(get16(pkt + a + 4), 16);	/* our nonce */
		n = (unsigned int)ntsc_open_reply(pkt, len, req + 52, s2c,
						  inner, sizeof(inner));
		assert_int_equal(n, (nb_ph + 1) * (4 + DPN_NTS_COOKIE_LEN));
		n /= 4 + DPN_NTS_COOKIE_LEN;
		for (off = 0; off < n * (4 + DPN_NTS_COOKIE_LEN);
		     off += 4 + DPN_NTS_COOKIE_LEN) {
			assert_int_equal(get16(inner + off), DPN_NTS_EF_COOKIE);
			assert_int_equal(dpn_nts_cookie_open(&kr,
				inner + off + 4, DPN_NTS_COOKIE_LEN, k1, k2), 0);
			assert_memory_equal(k1, c2s, 32);
			assert_memory_equal(k2, s2c, 32);
		}
		/* The tag covers the header: T3 changed, no longer opens. */
		pkt[40] ^= 1;
		assert_int_equal(ntsc_open_reply(pkt, len, req + 52, s2c,
						 inner, sizeof(inner)), -1);
	}
}

static void
test_verify_fails(void **state)
{
	uint8_t pkt[1200], ck[DPN_NTS_COOKIE_LEN], k1[32], k2[32];
	static const uint8_t other[32] = { 0xee };
	struct dpn_nts_request r;
	struct dpn_nts_keyring gone;
	size_t len;

	(void)state;
	dpn_nts_cookie_seal(&kr, &rng, c2s, s2c, ck);
	/* Authenticator made with another key than the cookie's C2S. */
	len = client_request(pkt, ck, 1, 16, other);
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_REQUEST);
	assert_int_equal(dpn_nts_verify(&kr, pkt, &r, k1, k2), -1);
	/* Right key, header changed after it was sealed. */
	len = client_request(pkt, ck, 1, 16, c2s);
	pkt[46] ^= 1;
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_REQUEST);
	assert_int_equal(dpn_nts_verify(&kr, pkt, &r, k1, k2), -1);
	/* A cookie of keys this server no longer has. */
	dpn_nts_keyring_generate(&gone, &rng);
	dpn_nts_cookie_seal(&gone, &rng, c2s, s2c, ck);
	len = client_request(pkt, ck, 0, 16, c2s);
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_REQUEST);
	assert_int_equal(dpn_nts_verify(&kr, pkt, &r, k1, k2), -1);
	/* The NAK: the header, then the unique identifier only. */
	assert_int_equal(dpn_nts_nak(pkt, &r), 48 + 36);
	assert_int_equal(get16(pkt + 48), DPN_NTS_EF_UID);
}

static void
test_parse_malformed(void **state)
{
	uint8_t pkt[1200], ck[DPN_NTS_COOKIE_LEN];
	struct dpn_nts_request r;
	size_t len;

	(void)state;
	dpn_nts_cookie_seal(&kr, &rng, c2s, s2c, ck);
	memset(pkt, 0, sizeof(pkt));
	/* Not NTS: plain, a MAC, an unknown field alone, a field and a
	 * MAC, a short unique identifier alone. */
	assert_int_equal(dpn_nts_parse(pkt, 48, &r), DPN_NTS_NONE);
	assert_int_equal(dpn_nts_parse(pkt, 68, &r), DPN_NTS_NONE);
	put16(pkt + 48, 0x2005);
	put16(pkt + 50, 28);
	assert_int_equal(dpn_nts_parse(pkt, 76, &r), DPN_NTS_NONE);
	assert_int_equal(dpn_nts_parse(pkt, 76 + 24, &r), DPN_NTS_NONE);
	put16(pkt + 48, DPN_NTS_EF_UID);
	assert_int_equal(dpn_nts_parse(pkt, 76, &r), DPN_NTS_NONE);
	/* Fields that cannot be walked: too short, not a multiple of 4. */
	assert_int_equal(dpn_nts_parse(pkt, 48 + 8, &r), DPN_NTS_MALFORMED);
	put16(pkt + 50, 30);
	assert_int_equal(dpn_nts_parse(pkt, 76, &r), DPN_NTS_MALFORMED);

	/* Something after the authenticator. */
	len = client_request(pkt, ck, 0, 16, c2s);
	put16(pkt + len, 0x2005);
	put16(pkt + len + 2, 16);
	assert_int_equal(dpn_nts_parse(pkt, len + 16, &r), DPN_NTS_MALFORMED);
	/* Two cookies: the first placeholder turned into a cookie. */
	len = client_request(pkt, ck, 1, 16, c2s);
	put16(pkt + 48 + 36 + 104, DPN_NTS_EF_COOKIE);
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_MALFORMED);
	/* A placeholder shorter than the cookie. */
	len = client_request(pkt, ck, 2, 16, c2s);
	put16(pkt + 48 + 36 + 104 + 104, DPN_NTS_EF_PLACEHOLDER);
	put16(pkt + 48 + 36 + 104 + 104 + 2, 100);
	put16(pkt + 48 + 36 + 104 + 104 + 100, 0x2005);	/* the rest */
	put16(pkt + 48 + 36 + 104 + 104 + 102, 4);
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_MALFORMED);
	/* Eight placeholders: nine cookies asked, eight is the most. */
	len = client_request(pkt, ck, 8, 16, c2s);
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_MALFORMED);
	/* No unique identifier: the UID field renamed to an unknown one. */
	len = client_request(pkt, ck, 0, 16, c2s);
	put16(pkt + 48, 0x2005);
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_MALFORMED);
	/* A unique identifier of 28 bytes. */
	len = client_request(pkt, ck, 0, 16, c2s);
	put16(pkt + 50, 32);
	put16(pkt + 48 + 32, 0x2005);
	put16(pkt + 48 + 34, 4);
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_MALFORMED);
	/* A field length not a multiple of 4, and one past the end. */
	len = client_request(pkt, ck, 0, 16, c2s);
	put16(pkt + 50, 37);
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_MALFORMED);
	len = client_request(pkt, ck, 0, 16, c2s);
	put16(pkt + 48 + 36 + 2, 2000);
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_MALFORMED);
	/* Ciphertext shorter than the tag; nonce past the field. */
	len = client_request(pkt, ck, 0, 16, c2s);
	put16(pkt + 48 + 36 + 104 + 6, 8);
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_MALFORMED);
	len = client_request(pkt, ck, 0, 16, c2s);
	put16(pkt + 48 + 36 + 104 + 4, 200);
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_MALFORMED);
	/* A cookie but no authenticator (cut off). */
	len = client_request(pkt, ck, 0, 16, c2s);
	assert_int_equal(dpn_nts_parse(pkt, 48 + 36 + 104, &r),
			 DPN_NTS_MALFORMED);
}

/* A nonce of 8 bytes makes a request too short for any cookie in a
 * reply with this server's 16-byte nonce: nothing is prepared. */
static void
test_short_nonce(void **state)
{
	uint8_t pkt[1200], ck[DPN_NTS_COOKIE_LEN], k1[32], k2[32];
	struct dpn_nts_request r;
	struct dpn_nts_pending p;
	size_t len;

	(void)state;
	dpn_nts_cookie_seal(&kr, &rng, c2s, s2c, ck);
	len = client_request(pkt, ck, 0, 8, c2s);
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_REQUEST);
	assert_int_equal(dpn_nts_verify(&kr, pkt, &r, k1, k2), 0);
	assert_int_equal(dpn_nts_prepare(&kr, &rng, pkt, len, &r, k1, k2, &p),
			 0);
	/* With a placeholder it fits one cookie fewer than asked. */
	len = client_request(pkt, ck, 1, 8, c2s);
	assert_int_equal(dpn_nts_parse(pkt, len, &r), DPN_NTS_REQUEST);
	assert_int_equal(dpn_nts_verify(&kr, pkt, &r, k1, k2), 0);
	assert_int_equal(dpn_nts_prepare(&kr, &rng, pkt, len, &r, k1, k2, &p),
			 len);
	assert_int_equal(p.pt_len, 4 + DPN_NTS_COOKIE_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siv_matches_openssl),
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_request_reply),
		cmocka_unit_test(test_verify_fails),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_short_nonce),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
