/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Symmetric key MACs against digests computed independently (Python's
 * hashlib: md5(b"secret" + pkt), sha1(key + pkt)), and the keys file.
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
	load_fails("\n0 MD5 x\n", ":2: key ID '0' is not 1..65535");
	load_fails("1 AES128CMAC x\n", "key type 'AES128CMAC' is not supported");
	load_fails("1 MD5 abcdefghijklmnopqrstu\n",
		   "1 to 20 printable characters or 40 hex digits");
	load_fails("1 MD5 a\n1 SHA1 b\n", ":2: key 1 defined twice");
	assert_int_equal(dpn_ntpauth_load("/nonexistent/keys", &keys, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/keys: No such file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_and_verify),
		cmocka_unit_test(test_keys_file_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
