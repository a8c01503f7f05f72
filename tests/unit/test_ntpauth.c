/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Symmetric key MACs against digests computed independently (Python's
 * hashlib: md5(b"secret" + pkt), sha1(key + pkt)) and AES-CMAC against
 * RFC 4493's examples; the keys file; the server side's prepared keys,
 * which must agree with the one-off MACs and never allocate per packet
 * (OpenSSL's allocations are counted through CRYPTO_set_mem_functions;
 * nettle does not allocate).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dpn_ntpauth.h"

static const uint8_t md5_want[16] = {
	0x49, 0x5a, 0xb3, 0x9d, 0x3d, 0x9e, 0xc1, 0x16,
	0x0f, 0x62, 0xa2, 0x9d, 0x42, 0x69, 0x75, 0xc3,
};
static const uint8_t sha1_want[20] = {
	0x4b, 0x62, 0x96, 0x5f, 0x35, 0x5e, 0x46, 0x75, 0x22, 0x75,
	0xf3, 0xed, 0x8d, 0xd9, 0xff, 0x63, 0xd9, 0x4e, 0x61, 0x38,
};

/* A client request whose transmit timestamp is the bytes 1..8. */
static void
request(uint8_t *pkt)
{
	int i;

	memset(pkt, 0, 48 + 4 + 20);
	pkt[0] = 0x23;
	for (i = 0; i < 8; i++)
		pkt[40 + i] = (uint8_t)(i + 1);
}

static void
write_file(char *path, const char *text)
{
	int fd;

	strcpy(path, "/tmp/test_ntpauth.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static struct dpn_ntpauth_keys keys;

static void
load_ok(const char *text)
{
	char path[64], err[256] = "";

	write_file(path, text);
	if (dpn_ntpauth_load(path, &keys, err, sizeof(err)) != 0)
		fail_msg("unexpected error: %s", err);
	unlink(path);
}

static void
load_fails(const char *text, const char *phrase)
{
	char path[64], err[256] = "";
	unsigned int before = keys.nb;

	write_file(path, text);
	assert_int_equal(dpn_ntpauth_load(path, &keys, err, sizeof(err)), -1);
	unlink(path);
	if (strstr(err, phrase) == NULL || strstr(err, path) == NULL)
		fail_msg("error '%s' lacks '%s' or the path", err, phrase);
	assert_int_equal(keys.nb, before);
}

static void
test_sign_and_verify(void **state)
{
	uint8_t pkt[48 + 4 + 20];
	const struct dpn_ntpauth_key *md5, *sha1;

	(void)state;
	load_ok("# ntpd keys file\n"
		"1 MD5 secret\n"
		"  7 SHA1 00112233445566778899aabbccddeeff01234567  # hex\n");
	assert_int_equal(keys.nb, 2);
	md5 = dpn_ntpauth_find(&keys, 1);
	sha1 = dpn_ntpauth_find(&keys, 7);
	assert_non_null(md5);
	assert_non_null(sha1);
	assert_null(dpn_ntpauth_find(&keys, 2));
	assert_int_equal(sha1->len, 20);

	request(pkt);
	assert_int_equal(dpn_ntpauth_sign(md5, pkt, 48), 20);
	assert_memory_equal(pkt + 48, "\0\0\0\1", 4);
	assert_memory_equal(pkt + 52, md5_want, 16);
	assert_true(dpn_ntpauth_verify(md5, pkt, 68));
	/* Wrong length, wrong key, one bit off: refused. */
	assert_false(dpn_ntpauth_verify(md5, pkt, 72));
	assert_false(dpn_ntpauth_verify(sha1, pkt, 68));
	pkt[60] ^= 1;
	assert_false(dpn_ntpauth_verify(md5, pkt, 68));

	request(pkt);
	assert_int_equal(dpn_ntpauth_sign(sha1, pkt, 48), 24);
	assert_memory_equal(pkt + 48, "\0\0\0\7", 4);
	assert_memory_equal(pkt + 52, sha1_want, 20);
	assert_true(dpn_ntpauth_verify(sha1, pkt, 72));
	/* A crypto-NAK: key ID 0, no MAC. */
	memset(pkt + 48, 0, 4);
	assert_false(dpn_ntpauth_verify(sha1, pkt, 52));
}

static void
test_keys_file_errors(void **state)
{
	char err[256] = "";

	(void)state;
	load_ok("1 M secret\n");
	load_fails("1 MD5\n", ":1: expected 'KEYID TYPE KEY'");
	/* A fourth word, and the rest of a line too long for the reader,
	 * were taken for nothing and for a line of their own. */
	load_fails("1 MD5 secret extra\n", ":1: expected 'KEYID TYPE KEY'");
	load_fails("1 MD5 secret extra more\n",
		   ":1: expected 'KEYID TYPE KEY'");
	{
		char text[700];

		memset(text, '#', 600);
		snprintf(text + 600, sizeof(text) - 600, "\n1 MD5 x\n");
		load_fails(text, ":1: line longer than 510 characters");
		memset(text, ' ', 510);
		snprintf(text + 510, sizeof(text) - 510, "\n1 MD5 x\n");
		load_ok(text);
	}
	load_fails("\n0 MD5 x\n", ":2: key ID '0' is not 1..65535");
	load_fails("1 AES256 x\n", "key type 'AES256' is not supported");
	load_fails("1 MD5 abcdefghijklmnopqrstu\n",
		   "1 to 20 printable characters, or more than 20 hex");
	load_fails("1 MD5 HEX:abc\n", "more than 20 hex");
	load_fails("1 AES128CMAC 0123456789abcdef0123456789abcdef00\n",
		   ":1: an AES128CMAC key is 16 bytes (32 hex digits), not 17");
	load_fails("1 AES128 short\n", "not 5");
	load_fails("1 MD5 a\n1 SHA1 b\n", ":2: key 1 defined twice");
	assert_int_equal(dpn_ntpauth_load("/nonexistent/keys", &keys, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/keys: No such file"));
	/* A directory opens, and every read of it fails. */
	assert_int_equal(dpn_ntpauth_load("/tmp", &keys, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "/tmp: Is a directory"));
}

/* RFC 4493 section 4: the key, and examples 3 (40 bytes), 4 (64). */
static const char rfc4493_key[] = "2b7e151628aed2a6abf7158809cf4f3c";
static const uint8_t rfc4493_msg[64] = {
	0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96,
	0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a,
	0xae, 0x2d, 0x8a, 0x57, 0x1e, 0x03, 0xac, 0x9c,
	0x9e, 0xb7, 0x6f, 0xac, 0x45, 0xaf, 0x8e, 0x51,
	0x30, 0xc8, 0x1c, 0x46, 0xa3, 0x5c, 0xe4, 0x11,
	0xe5, 0xfb, 0xc1, 0x19, 0x1a, 0x0a, 0x52, 0xef,
	0xf6, 0x9f, 0x24, 0x45, 0xdf, 0x4f, 0x9b, 0x17,
	0xad, 0x2b, 0x41, 0x7b, 0xe6, 0x6c, 0x37, 0x10,
};
static const uint8_t rfc4493_t40[16] = {
	0xdf, 0xa6, 0x67, 0x47, 0xde, 0x9a, 0xe6, 0x30,
	0x30, 0xca, 0x32, 0x61, 0x14, 0x97, 0xc8, 0x27,
};
static const uint8_t rfc4493_t64[16] = {
	0x51, 0xf0, 0xbe, 0xbf, 0x7e, 0x3b, 0x9d, 0x92,
	0xfc, 0x49, 0x74, 0x17, 0x79, 0x36, 0x3c, 0xfe,
};

static void
test_cmac(void **state)
{
	char text[128];
	uint8_t pkt[64 + 4 + 16];
	const struct dpn_ntpauth_key *k;

	(void)state;
	snprintf(text, sizeof(text), "9 AES128CMAC %s\n", rfc4493_key);
	load_ok(text);
	k = dpn_ntpauth_find(&keys, 9);
	assert_non_null(k);
	assert_int_equal(k->type, DPN_NTPAUTH_AES128CMAC);
	assert_int_equal(k->len, 16);
	assert_int_equal(dpn_ntpauth_mac_len(k), 16);
	memcpy(pkt, rfc4493_msg, 64);
	assert_int_equal(dpn_ntpauth_sign(k, pkt, 40), 20);
	assert_memory_equal(pkt + 40, "\0\0\0\x09", 4);
	assert_memory_equal(pkt + 44, rfc4493_t40, 16);
	memcpy(pkt, rfc4493_msg, 64);
	assert_int_equal(dpn_ntpauth_sign(k, pkt, 64), 20);
	assert_memory_equal(pkt + 68, rfc4493_t64, 16);
	/* chrony's spelling of the same key. */
	snprintf(text, sizeof(text), "9 AES128 HEX:%s\n", rfc4493_key);
	load_ok(text);
	assert_int_equal(dpn_ntpauth_find(&keys, 9)->type,
			 DPN_NTPAUTH_AES128CMAC);
}

static long allocs;

static void *
count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	allocs++;
	return malloc(n);
}

static void *
count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	allocs++;
	return realloc(p, n);
}

static void
count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

static void
test_server_keys(void **state)
{
	static const uint32_t trusted[] = { 7, 1, 9, 7 };
	uint8_t pkt[48 + 4 + 20], ref[48 + 4 + 20];
	struct dpn_ntpauth_server *s;
	char text[256], err[256] = "";
	unsigned int i, twice;
	long before;

	(void)state;
	snprintf(text, sizeof(text),
		 "1 MD5 secret\n"
		 "7 SHA1 00112233445566778899aabbccddeeff01234567\n"
		 "9 AES128CMAC %s\n"
		 "12 MD5 untrusted\n", rfc4493_key);
	load_ok(text);
	/* A trusted ID the file lacks is refused by name. */
	assert_null(dpn_ntpauth_server_create(&keys, (uint32_t[]){ 1, 5 }, 2,
					      err, sizeof(err)));
	assert_non_null(strstr(err, "trusted key 5 is not in the keys file"));
	s = dpn_ntpauth_server_create(&keys, trusted, 4, err, sizeof(err));
	assert_non_null(s);
	/* Sorted by ID, duplicates once, untrusted key 12 left out. */
	assert_int_equal(dpn_ntpauth_server_nb_keys(s), 3);
	assert_int_equal(dpn_ntpauth_server_find(s, 1), 0);
	assert_int_equal(dpn_ntpauth_server_find(s, 7), 1);
	assert_int_equal(dpn_ntpauth_server_find(s, 9), 2);
	assert_int_equal(dpn_ntpauth_server_find(s, 12), -1);
	assert_int_equal(dpn_ntpauth_server_find(s, 0), -1);
	assert_int_equal(dpn_ntpauth_server_find(NULL, 1), -1);
	assert_int_equal(dpn_ntpauth_server_key(s, 1)->id, 7);

	/* Each key, twice (the prepared state is copied, not used up):
	 * the same MAC as the one-off path, which verifies; the MD5 and
	 * SHA-1 ones are Python's. */
	for (i = 0; i < 3; i++) {
		const struct dpn_ntpauth_key *k = dpn_ntpauth_server_key(s, i);
		unsigned int len = 48 + 4 + dpn_ntpauth_mac_len(k);

		for (twice = 0; twice < 2; twice++) {
			request(pkt);
			request(ref);
			assert_int_equal(dpn_ntpauth_server_sign(s, i, pkt),
					 len - 48);
			assert_int_equal(dpn_ntpauth_sign(k, ref, 48), len - 48);
			assert_memory_equal(pkt, ref, len);
			assert_true(dpn_ntpauth_server_verify(s, i, pkt, len));
			assert_true(dpn_ntpauth_verify(k, pkt, len));
			pkt[len - 1] ^= 0x80;
			assert_false(dpn_ntpauth_server_verify(s, i, pkt, len));
			pkt[len - 1] ^= 0x80;
			pkt[20] ^= 1;	/* the header, not the MAC */
			assert_false(dpn_ntpauth_server_verify(s, i, pkt, len));
			assert_false(dpn_ntpauth_server_verify(s, i, pkt,
							       len - 4));
		}
		if (k->type == DPN_NTPAUTH_MD5)
			assert_memory_equal(ref + 52, md5_want, 16);
		if (k->type == DPN_NTPAUTH_SHA1)
			assert_memory_equal(ref + 52, sha1_want, 20);
	}
	/* No key 3. */
	request(pkt);
	assert_int_equal(dpn_ntpauth_server_sign(s, 3, pkt), 0);
	assert_false(dpn_ntpauth_server_verify(s, 3, pkt, 68));

	/* Bursts: the same MACs as one at a time, mixed key types over
	 * more than the MD5 lanes and over two of ntpauth.c's slices of 64;
	 * an index past the table, or no table at all (no trusted keys), is
	 * refused, never read. */
	{
		enum { N = 150 };
		uint8_t b[N][48 + 4 + 20], one[48 + 4 + 20];
		void *bp[N];
		const void *cbp[N];
		uint16_t idx[N];
		size_t len[N];
		unsigned int out[N];
		bool ok[N];

		for (i = 0; i < N; i++) {
			idx[i] = (uint16_t)(i % 4 == 3 ? 3 : i % 3);
			request(b[i]);
			b[i][40] = (uint8_t)i;	/* each header differs */
			bp[i] = b[i];
			cbp[i] = b[i];
		}
		dpn_ntpauth_server_sign_burst(s, idx, bp, out, N);
		for (i = 0; i < N; i++) {
			if (idx[i] == 3) {
				assert_int_equal(out[i], 0);
				len[i] = 68;
				continue;
			}
			request(one);
			one[40] = (uint8_t)i;
			assert_int_equal(dpn_ntpauth_server_sign(s, idx[i], one),
					 out[i]);
			assert_memory_equal(one, b[i], 48 + out[i]);
			len[i] = 48 + out[i];
		}
		b[4][60] ^= 1;		/* key 1 (MD5): a bad MAC */
		dpn_ntpauth_server_verify_burst(s, idx, cbp, len, ok, N);
		for (i = 0; i < N; i++)
			assert_int_equal(ok[i], idx[i] != 3 && i != 4);
		dpn_ntpauth_server_verify_burst(NULL, idx, cbp, len, ok, N);
		for (i = 0; i < N; i++)
			assert_false(ok[i]);
		assert_false(dpn_ntpauth_server_verify(NULL, 0, b[0], 68));
	}

	/* What the workers do per request allocates nothing. */
	before = allocs;
	for (i = 0; i < 1000; i++) {
		unsigned int idx = i % 3;
		unsigned int len = 48 + 4 +
			dpn_ntpauth_mac_len(dpn_ntpauth_server_key(s, idx));

		request(pkt);
		assert_int_equal(dpn_ntpauth_server_sign(s, idx, pkt),
				 len - 48);
		assert_true(dpn_ntpauth_server_verify(s, idx, pkt, len));
	}
	assert_int_equal(allocs, before);
	/* An EVP digest does allocate (why lib/ntpauth avoids them): the
	 * count is live. */
	EVP_MD_CTX_free(EVP_MD_CTX_new());
	assert_true(allocs > before);
	dpn_ntpauth_server_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_and_verify),
		cmocka_unit_test(test_keys_file_errors),
		cmocka_unit_test(test_cmac),
		cmocka_unit_test(test_server_keys),
	};

	/* Before OpenSSL allocates anything, or it refuses. */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc,
				      count_free))
		return 1;

	return cmocka_run_group_tests(tests, NULL, NULL);
}
