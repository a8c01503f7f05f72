/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_MD5X_H
#define DPN_MD5X_H

/**
 * @file
 * MD5 of up to eight short messages at once, one per 32-bit lane of an
 * AVX2 register: ntpd's MAC, MD5(key || 48-byte header), for the
 * requests and replies of a burst.
 *
 * Why not OpenSSL's MD5: one message is a chain of 64 dependent steps
 * per block, two blocks per MAC and two MACs per request (the request's
 * and the reply's), about 0.4 us a request on the project's test CPU,
 * over the +0.3 us the issue allows; OpenSSL and nettle hash one message
 * at a time, and the multi-buffer libraries in Debian 12 (intel-ipsec-mb)
 * offer only HMAC-MD5, which is not ntpd's MAC. With eight chains side
 * by side a whole request with its two MACs went from 488-518 ns to
 * 216-231 ns (dpntp-bench md5-ipv4, doc/guides/performance.rst); the
 * lanes were not timed by themselves. The digests are OpenSSL's byte for
 * byte (tests/unit/test_md5x.c); without AVX2, OpenSSL's MD5 does it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPN_MD5X_LANES 8
/** Longest message: two blocks with MD5's padding. */
#define DPN_MD5X_MAX_LEN 119

/**
 * The MD5 of each of @p n messages (any n; eight at a time), each the
 * concatenation of @p a[i] (@p alen[i] bytes: the key) and @p b[i]
 * (@p blen[i] bytes), together at most DPN_MD5X_MAX_LEN bytes.
 */
void dpn_md5x(const uint8_t *const *a, const size_t *alen,
	      const uint8_t *const *b, const size_t *blen,
	      uint8_t (*out)[16], unsigned int n);

/** Use AVX2 if @p on and the CPU has it, else OpenSSL (tests compare
 * the two). @return whether AVX2 is now used. */
bool dpn_md5x_set_accelerated(bool on);

#endif /* DPN_MD5X_H */
