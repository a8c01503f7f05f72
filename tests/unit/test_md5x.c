/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MD5 over eight lanes (lib/md5x) against OpenSSL's MD5, message by
 * message: every message length from 0 to the longest (one block and
 * two, the padding's edge at 55/56 bytes), split at random between key
 * and data, in batches of 1 to 20 (idle lanes, several rounds of
 * lanes); the OpenSSL fallback too.
 */

#define OPENSSL_SUPPRESS_DEPRECATED

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/md5.h>

#include "dpn_md5x.h"
#include "test_rnd.h"

#define N 20

static void
check_all_lengths(void)
{
	uint8_t buf[N][DPN_MD5X_MAX_LEN], out[N][16], want[16];
	const uint8_t *a[N], *b[N];
	size_t alen[N], blen[N];
	unsigned int len, n, i, j;

	for (len = 0; len <= DPN_MD5X_MAX_LEN; len++) {
		n = 1 + rnd() % N;
		for (i = 0; i < n; i++) {
			/* Lane i: a length near len, split anywhere. */
			size_t l = i == 0 ? len : rnd() % (DPN_MD5X_MAX_LEN + 1);

			for (j = 0; j < l; j++)
				buf[i][j] = (uint8_t)rnd();
			alen[i] = l == 0 ? 0 : rnd() % (l + 1);
			blen[i] = l - alen[i];
			a[i] = buf[i];
			b[i] = buf[i] + alen[i];
		}
		dpn_md5x(a, alen, b, blen, out, n);
		for (i = 0; i < n; i++) {
			MD5(buf[i], alen[i] + blen[i], want);
			assert_memory_equal(out[i], want, 16);
		}
	}
}

static void
test_lanes(void **state)
{
	(void)state;
	if (!dpn_md5x_set_accelerated(true))
		skip();
	for (unsigned int r = 0; r < 20; r++)
		check_all_lengths();
}

static void
test_fallback(void **state)
{
	(void)state;
	assert_false(dpn_md5x_set_accelerated(false));
	check_all_lengths();
	dpn_md5x_set_accelerated(true);
}

/* RFC 1321's own vectors. */
static void
test_rfc1321(void **state)
{
	static const struct {
		const char *m, *hex;
	} v[] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
		  "57edf4a22be3c955ac49da2e2107b67a" },
	};
	unsigned int i, j;

	(void)state;
	for (i = 0; i < 3; i++) {
		const uint8_t *a = (const uint8_t *)v[i].m, *b = a;
		size_t alen = strlen(v[i].m), blen = 0;
		uint8_t out[1][16];
		char hex[33];

		dpn_md5x(&a, &alen, &b, &blen, out, 1);
		for (j = 0; j < 16; j++)
			snprintf(hex + 2 * j, 3, "%02x", out[0][j]);
		assert_string_equal(hex, v[i].hex);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lanes),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_rfc1321),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
