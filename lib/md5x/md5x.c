/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MD5 (RFC 1321) over eight lanes. A message of the batch is padded into
 * one or two blocks in a lane-major scratch area (word w of block k of
 * lane l at [k][w][l], so that one load gives word w of every lane);
 * then the 64 steps run on all lanes at once, and a lane with one block
 * keeps its state from the first block.
 */

/* MD5_Init and friends: OpenSSL 3.0's EVP digests allocate on every
 * init, which a worker must not (as in lib/ntpauth). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <string.h>

#include <immintrin.h>
#include <openssl/md5.h>

#include "dpn_md5x.h"

#define LANES DPN_MD5X_LANES
#define AVX2 __attribute__((target("avx2")))

static bool avx2;

__attribute__((constructor))
static void
md5x_cpu_init(void)
{
	__builtin_cpu_init();
	avx2 = __builtin_cpu_supports("avx2");
}

bool
dpn_md5x_set_accelerated(bool on)
{
	avx2 = on && __builtin_cpu_supports("avx2");
	return avx2;
}

static const uint32_t k_md5[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
	0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
	0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
	0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
	0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

#define ROTL(x, s) _mm256_or_si256(_mm256_slli_epi32((x), (s)), \
				   _mm256_srli_epi32((x), 32 - (s)))
#define F(b, c, d) _mm256_xor_si256((d), _mm256_and_si256((b), \
					_mm256_xor_si256((c), (d))))
#define G(b, c, d) _mm256_xor_si256((c), _mm256_and_si256((d), \
					_mm256_xor_si256((b), (c))))
#define H(b, c, d) _mm256_xor_si256(_mm256_xor_si256((b), (c)), (d))
#define I(b, c, d) _mm256_xor_si256((c), _mm256_or_si256((b), \
					_mm256_xor_si256((d), ones)))
/* One step: a = b + ((a + f(b, c, d) + K[i] + X[g]) <<< s). */
#define STEP(f, a, b, c, d, i, g, s) do {				\
	__m256i t_ = _mm256_add_epi32(_mm256_add_epi32((a), f((b), (c), (d))), \
		_mm256_add_epi32(_mm256_set1_epi32((int)k_md5[(i)]),	\
				 _mm256_load_si256(&x[(g)])));		\
	(a) = _mm256_add_epi32((b), ROTL(t_, (s)));			\
} while (0)

/* One block of every lane: @p x holds word g of each lane at x[g]. */
AVX2 static void
md5x_block(__m256i st[4], const __m256i *x)
{
	const __m256i ones = _mm256_set1_epi32(-1);
	__m256i a = st[0], b = st[1], c = st[2], d = st[3];

	STEP(F, a, b, c, d, 0, 0, 7);	STEP(F, d, a, b, c, 1, 1, 12);
	STEP(F, c, d, a, b, 2, 2, 17);	STEP(F, b, c, d, a, 3, 3, 22);
	STEP(F, a, b, c, d, 4, 4, 7);	STEP(F, d, a, b, c, 5, 5, 12);
	STEP(F, c, d, a, b, 6, 6, 17);	STEP(F, b, c, d, a, 7, 7, 22);
	STEP(F, a, b, c, d, 8, 8, 7);	STEP(F, d, a, b, c, 9, 9, 12);
	STEP(F, c, d, a, b, 10, 10, 17); STEP(F, b, c, d, a, 11, 11, 22);
	STEP(F, a, b, c, d, 12, 12, 7);	STEP(F, d, a, b, c, 13, 13, 12);
	STEP(F, c, d, a, b, 14, 14, 17); STEP(F, b, c, d, a, 15, 15, 22);

	STEP(G, a, b, c, d, 16, 1, 5);	STEP(G, d, a, b, c, 17, 6, 9);
	STEP(G, c, d, a, b, 18, 11, 14); STEP(G, b, c, d, a, 19, 0, 20);
	STEP(G, a, b, c, d, 20, 5, 5);	STEP(G, d, a, b, c, 21, 10, 9);
	STEP(G, c, d, a, b, 22, 15, 14); STEP(G, b, c, d, a, 23, 4, 20);
	STEP(G, a, b, c, d, 24, 9, 5);	STEP(G, d, a, b, c, 25, 14, 9);
	STEP(G, c, d, a, b, 26, 3, 14);	STEP(G, b, c, d, a, 27, 8, 20);
	STEP(G, a, b, c, d, 28, 13, 5);	STEP(G, d, a, b, c, 29, 2, 9);
	STEP(G, c, d, a, b, 30, 7, 14);	STEP(G, b, c, d, a, 31, 12, 20);

	STEP(H, a, b, c, d, 32, 5, 4);	STEP(H, d, a, b, c, 33, 8, 11);
	STEP(H, c, d, a, b, 34, 11, 16); STEP(H, b, c, d, a, 35, 14, 23);
	STEP(H, a, b, c, d, 36, 1, 4);	STEP(H, d, a, b, c, 37, 4, 11);
	STEP(H, c, d, a, b, 38, 7, 16);	STEP(H, b, c, d, a, 39, 10, 23);
	STEP(H, a, b, c, d, 40, 13, 4);	STEP(H, d, a, b, c, 41, 0, 11);
	STEP(H, c, d, a, b, 42, 3, 16);	STEP(H, b, c, d, a, 43, 6, 23);
	STEP(H, a, b, c, d, 44, 9, 4);	STEP(H, d, a, b, c, 45, 12, 11);
	STEP(H, c, d, a, b, 46, 15, 16); STEP(H, b, c, d, a, 47, 2, 23);

	STEP(I, a, b, c, d, 48, 0, 6);	STEP(I, d, a, b, c, 49, 7, 10);
	STEP(I, c, d, a, b, 50, 14, 15); STEP(I, b, c, d, a, 51, 5, 21);
	STEP(I, a, b, c, d, 52, 12, 6);	STEP(I, d, a, b, c, 53, 3, 10);
	STEP(I, c, d, a, b, 54, 10, 15); STEP(I, b, c, d, a, 55, 1, 21);
	STEP(I, a, b, c, d, 56, 8, 6);	STEP(I, d, a, b, c, 57, 15, 10);
	STEP(I, c, d, a, b, 58, 6, 15);	STEP(I, b, c, d, a, 59, 13, 21);
	STEP(I, a, b, c, d, 60, 4, 6);	STEP(I, d, a, b, c, 61, 11, 10);
	STEP(I, c, d, a, b, 62, 2, 15);	STEP(I, b, c, d, a, 63, 9, 21);

	st[0] = _mm256_add_epi32(st[0], a);
	st[1] = _mm256_add_epi32(st[1], b);
	st[2] = _mm256_add_epi32(st[2], c);
	st[3] = _mm256_add_epi32(st[3], d);
}

/* Up to eight messages, one per lane (the rest of the lanes idle). */
AVX2 static void
md5x_lanes(const uint8_t *const *a, const size_t *alen,
	   const uint8_t *const *b, const size_t *blen, uint8_t (*out)[16],
	   unsigned int n)
{
	__m256i x[2][16] __attribute__((aligned(32)));
	uint32_t two[LANES] __attribute__((aligned(32)));
	uint8_t msg[128];
	__m256i st[4], st1[4], mask;
	unsigned int l, w, k, r;

	memset(x, 0, sizeof(x));
	for (l = 0; l < n; l++) {
		size_t len = alen[l] + blen[l];
		uint64_t bits = (uint64_t)len * 8;
		unsigned int nb = len + 9 > 64 ? 2 : 1;

		memset(msg, 0, sizeof(msg));
		memcpy(msg, a[l], alen[l]);
		memcpy(msg + alen[l], b[l], blen[l]);
		msg[len] = 0x80;
		for (k = 0; k < 8; k++)
			msg[nb * 64 - 8 + k] = (uint8_t)(bits >> (8 * k));
		for (k = 0; k < nb; k++)
			for (w = 0; w < 16; w++)
				memcpy((uint32_t *)&x[k][w] + l,
				       msg + k * 64 + w * 4, 4);
		two[l] = nb == 2 ? UINT32_MAX : 0;
	}
	for (; l < LANES; l++)
		two[l] = 0;
	st[0] = _mm256_set1_epi32(0x67452301);
	st[1] = _mm256_set1_epi32((int)0xefcdab89);
	st[2] = _mm256_set1_epi32((int)0x98badcfe);
	st[3] = _mm256_set1_epi32(0x10325476);
	md5x_block(st, x[0]);
	memcpy(st1, st, sizeof(st));
	md5x_block(st, x[1]);
	/* A lane of one block keeps its first state. */
	mask = _mm256_load_si256((const __m256i *)two);
	for (r = 0; r < 4; r++) {
		uint32_t v[LANES] __attribute__((aligned(32)));

		st[r] = _mm256_blendv_epi8(st1[r], st[r], mask);
		_mm256_store_si256((__m256i *)v, st[r]);
		for (l = 0; l < n; l++)
			memcpy(out[l] + 4 * r, &v[l], 4);
	}
	/* Keys were in there. */
	explicit_bzero(x, sizeof(x));
	explicit_bzero(msg, sizeof(msg));
}

static void
md5_one(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
	uint8_t *out)
{
	MD5_CTX c;

	MD5_Init(&c);
	MD5_Update(&c, a, alen);
	MD5_Update(&c, b, blen);
	MD5_Final(out, &c);
	explicit_bzero(&c, sizeof(c));
}

void
dpn_md5x(const uint8_t *const *a, const size_t *alen,
	 const uint8_t *const *b, const size_t *blen, uint8_t (*out)[16],
	 unsigned int n)
{
	unsigned int i, k;

	if (!avx2) {
		for (i = 0; i < n; i++)
			md5_one(a[i], alen[i], b[i], blen[i], out[i]);
		return;
	}
	for (i = 0; i < n; i += k) {
		k = n - i < LANES ? n - i : LANES;
		md5x_lanes(a + i, alen + i, b + i, blen + i, out + i, k);
	}
}
