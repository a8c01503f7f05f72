/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AES-SIV-CMAC-256 over batches, with AES-NI: see dpn_siv.h for why.
 *
 * RFC 5297 in short, for the three components NTS uses (A = associated
 * data, N = nonce, P = plaintext), with K = MAC key || CTR key:
 *   D = CMAC(0^128)                  (per key: dpn_siv_key.d0)
 *   D = dbl(D) ^ CMAC(A);  D = dbl(D) ^ CMAC(N)
 *   T = P xorend D  if |P| >= 16,  else dbl(D) ^ pad(P)
 *   V = CMAC(T)                      (the tag)
 *   C = P ^ AES-CTR(V with bits 63 and 31 cleared)
 * so every message is two rounds of CMAC chains (A and N side by side,
 * then T), and a CTR pass before (decrypt) or after (encrypt) them.
 */

#include <string.h>

#include <immintrin.h>
#include <nettle/siv-cmac.h>

#include "dpn_siv.h"

#define LANES 8
#define BLK 16
#define AESNI __attribute__((target("aes,sse4.1")))

static bool aesni;

__attribute__((constructor))
static void
siv_cpu_init(void)
{
	__builtin_cpu_init();
	aesni = __builtin_cpu_supports("aes");
}

bool
dpn_siv_accelerated(void)
{
	return aesni;
}

bool
dpn_siv_set_accelerated(bool on)
{
	aesni = on && __builtin_cpu_supports("aes");
	return aesni;
}

/* Round keys that idle lanes run (their output is never used). */
static const uint8_t idle_rk[11][BLK] __attribute__((aligned(16)));
static const uint8_t zero_block[BLK];

/* Multiply by x in GF(2^128), big-endian, without a secret branch. */
static void
dbl(uint8_t *out, const uint8_t *in)
{
	uint8_t carry = (uint8_t)(in[0] >> 7);
	unsigned int i;

	for (i = 0; i < BLK - 1; i++)
		out[i] = (uint8_t)(in[i] << 1 | in[i + 1] >> 7);
	out[BLK - 1] = (uint8_t)(in[BLK - 1] << 1) ^
		(uint8_t)(0x87 & -carry);
}

static void
xor16(uint8_t *out, const uint8_t *a, const uint8_t *b)
{
	unsigned int i;

	for (i = 0; i < BLK; i++)
		out[i] = a[i] ^ b[i];
}

/*
 * Key expansion (FIPS 197), one AESKEYGENASSIST per round.
 */

#define EXPAND_ROUND(k, rcon) \
	expand_step((k), _mm_aeskeygenassist_si128((k), (rcon)))

AESNI static inline __m128i
expand_step(__m128i k, __m128i gen)
{
	gen = _mm_shuffle_epi32(gen, 0xff);
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	return _mm_xor_si128(k, gen);
}

AESNI static void
expand(uint8_t rk[11][BLK], const uint8_t *key)
{
	__m128i *r = (__m128i *)rk;
	__m128i k = _mm_loadu_si128((const __m128i *)key);

	_mm_store_si128(r + 0, k);
	k = EXPAND_ROUND(k, 0x01);
	_mm_store_si128(r + 1, k);
	k = EXPAND_ROUND(k, 0x02);
	_mm_store_si128(r + 2, k);
	k = EXPAND_ROUND(k, 0x04);
	_mm_store_si128(r + 3, k);
	k = EXPAND_ROUND(k, 0x08);
	_mm_store_si128(r + 4, k);
	k = EXPAND_ROUND(k, 0x10);
	_mm_store_si128(r + 5, k);
	k = EXPAND_ROUND(k, 0x20);
	_mm_store_si128(r + 6, k);
	k = EXPAND_ROUND(k, 0x40);
	_mm_store_si128(r + 7, k);
	k = EXPAND_ROUND(k, 0x80);
	_mm_store_si128(r + 8, k);
	k = EXPAND_ROUND(k, 0x1b);
	_mm_store_si128(r + 9, k);
	k = EXPAND_ROUND(k, 0x36);
	_mm_store_si128(r + 10, k);
}

/*
 * Eight AES-128 encryptions side by side, each lane with its own key:
 * the unit starts a round of every lane before the first one's result
 * is due, so eight blocks cost about what one costs alone.
 */
AESNI static inline void
aes8(__m128i x[LANES], const uint8_t (*const rk[LANES])[BLK])
{
	unsigned int l, r;

#pragma GCC unroll 8
	for (l = 0; l < LANES; l++)
		x[l] = _mm_xor_si128(x[l], _mm_load_si128((const __m128i *)
							  rk[l][0]));
#pragma GCC unroll 9
	for (r = 1; r < 10; r++) {
#pragma GCC unroll 8
		for (l = 0; l < LANES; l++)
			x[l] = _mm_aesenc_si128(x[l], _mm_load_si128(
				(const __m128i *)rk[l][r]));
	}
#pragma GCC unroll 8
	for (l = 0; l < LANES; l++)
		x[l] = _mm_aesenclast_si128(x[l], _mm_load_si128(
			(const __m128i *)rk[l][10]));
}

/*
 * Keys.
 */

AESNI static void
keys_set_aesni(struct dpn_siv_key *const *keys, const uint8_t *const *raw,
	       unsigned int n)
{
	const uint8_t (*rk[LANES])[BLK];
	__m128i x[LANES];
	unsigned int i, base, l;
	uint8_t lb[BLK];

	for (i = 0; i < n; i++) {
		memcpy(keys[i]->raw, raw[i], DPN_SIV_KEY_LEN);
		expand(keys[i]->mac_rk, raw[i]);
		expand(keys[i]->ctr_rk, raw[i] + BLK);
	}
	for (base = 0; base < n; base += LANES) {
		/* L = AES(0): the subkeys; then D0 = CMAC(0^128) =
		 * AES(0 ^ K1), one full block. */
		for (l = 0; l < LANES; l++) {
			rk[l] = base + l < n ?
				(const uint8_t (*)[BLK])keys[base + l]->mac_rk :
				idle_rk;
			x[l] = _mm_setzero_si128();
		}
		aes8(x, rk);
		for (l = 0; l < LANES && base + l < n; l++) {
			struct dpn_siv_key *k = keys[base + l];

			_mm_storeu_si128((__m128i *)lb, x[l]);
			dbl(k->k1, lb);
			dbl(k->k2, k->k1);
			x[l] = _mm_loadu_si128((const __m128i *)k->k1);
		}
		aes8(x, rk);
		for (l = 0; l < LANES && base + l < n; l++)
			_mm_storeu_si128((__m128i *)keys[base + l]->d0, x[l]);
	}
	explicit_bzero(lb, sizeof(lb));
}

void
dpn_siv_keys_set(struct dpn_siv_key *const *keys, const uint8_t *const *raw,
		 unsigned int n)
{
	unsigned int i;

	if (aesni) {
		keys_set_aesni(keys, raw, n);
		return;
	}
	/* nettle prepares its own context per message. */
	for (i = 0; i < n; i++) {
		memset(keys[i], 0, sizeof(*keys[i]));
		memcpy(keys[i]->raw, raw[i], DPN_SIV_KEY_LEN);
	}
}

void
dpn_siv_key_set(struct dpn_siv_key *key, const uint8_t *raw)
{
	dpn_siv_keys_set(&key, &raw, 1);
}

void
dpn_siv_key_wipe(struct dpn_siv_key *key)
{
	explicit_bzero(key, sizeof(*key));
}

/*
 * CMAC chains. A chain is its whole blocks read from the message, then
 * one or two blocks of tail copied here, the last with K1 (it was whole)
 * or K2 (it was padded) folded in, as RFC 4493 finishes.
 */
struct chain {
	const uint8_t (*rk)[BLK];
	const uint8_t *p;
	uint32_t n_mem;		/* blocks read at p */
	uint32_t n_all;		/* n_mem + 1 or 2 tail blocks */
	uint8_t *res;
	uint8_t tail[2 * BLK];
};

/* CMAC of @p len bytes at @p m. */
static void
chain_cmac(struct chain *c, const struct dpn_siv_key *k, const uint8_t *m,
	   size_t len, uint8_t *res)
{
	size_t nb = len == 0 ? 1 : (len + BLK - 1) / BLK;
	size_t r = len - (nb - 1) * BLK;

	c->rk = k->mac_rk;
	c->p = m;
	c->n_mem = (uint32_t)(nb - 1);
	c->n_all = (uint32_t)nb;
	c->res = res;
	memset(c->tail, 0, BLK);
	memcpy(c->tail, m + (nb - 1) * BLK, r);
	if (r == BLK) {
		xor16(c->tail, c->tail, k->k1);
	} else {
		c->tail[r] = 0x80;
		xor16(c->tail, c->tail, k->k2);
	}
}

/* CMAC of S2V's last string: @p p xorend @p d, or dbl(d) ^ pad(p). */
static void
chain_t(struct chain *c, const struct dpn_siv_key *k, const uint8_t *p,
	size_t len, const uint8_t *d, uint8_t *res)
{
	size_t nb = (len + BLK - 1) / BLK, r = len % BLK;
	unsigned int i;

	c->rk = k->mac_rk;
	c->p = p;
	c->res = res;
	if (len < BLK) {
		uint8_t t[BLK] = { 0 };

		memcpy(t, p, len);
		t[len] = 0x80;
		dbl(c->tail, d);
		xor16(c->tail, c->tail, t);
		xor16(c->tail, c->tail, k->k1);
		c->n_mem = 0;
		c->n_all = 1;
		return;
	}
	if (r == 0) {
		c->n_mem = (uint32_t)(nb - 1);
		c->n_all = (uint32_t)nb;
		xor16(c->tail, p + len - BLK, d);
		xor16(c->tail, c->tail, k->k1);
		return;
	}
	/* The last 16 bytes straddle the last two blocks. */
	c->n_mem = (uint32_t)(nb - 2);
	c->n_all = (uint32_t)nb;
	memset(c->tail, 0, sizeof(c->tail));
	memcpy(c->tail, p + (nb - 2) * BLK, BLK + r);
	for (i = 0; i < BLK; i++)
		c->tail[r + i] ^= d[i];
	c->tail[BLK + r] = 0x80;
	xor16(c->tail + BLK, c->tail + BLK, k->k2);
}

static inline const uint8_t *
chain_block(const struct chain *c, uint32_t pos)
{
	if (c == NULL)
		return zero_block;
	return pos < c->n_mem ? c->p + (size_t)pos * BLK :
		c->tail + (size_t)(pos - c->n_mem) * BLK;
}

/* Run @p n chains on the eight lanes; a lane that ends takes the next. */
AESNI static void
chains_run(struct chain *c, unsigned int n)
{
	const uint8_t (*rk[LANES])[BLK];
	struct chain *cur[LANES];
	uint32_t pos[LANES];
	__m128i x[LANES];
	unsigned int next = 0, busy = 0, l;

	for (l = 0; l < LANES; l++) {
		cur[l] = next < n ? &c[next++] : NULL;
		rk[l] = cur[l] != NULL ? cur[l]->rk : idle_rk;
		busy += cur[l] != NULL;
		pos[l] = 0;
		x[l] = _mm_setzero_si128();
	}
	while (busy != 0) {
#pragma GCC unroll 8
		for (l = 0; l < LANES; l++)
			x[l] = _mm_xor_si128(x[l], _mm_loadu_si128(
				(const __m128i *)chain_block(cur[l], pos[l])));
		aes8(x, rk);
		for (l = 0; l < LANES; l++) {
			if (cur[l] == NULL || ++pos[l] != cur[l]->n_all)
				continue;
			_mm_storeu_si128((__m128i *)cur[l]->res, x[l]);
			x[l] = _mm_setzero_si128();
			pos[l] = 0;
			if (next < n) {
				cur[l] = &c[next++];
				rk[l] = cur[l]->rk;
			} else {
				cur[l] = NULL;
				rk[l] = idle_rk;
				busy--;
			}
		}
	}
}

/*
 * CTR: every block of every job in the batch, eight at a time.
 */
struct ctr_lanes {
	__m128i x[LANES];
	const uint8_t (*rk[LANES])[BLK];
	const uint8_t *in[LANES];
	uint8_t *out[LANES];
	uint32_t len[LANES];
	unsigned int n;
};

AESNI static void
ctr_flush(struct ctr_lanes *c)
{
	unsigned int l;

	for (l = c->n; l < LANES; l++)
		c->rk[l] = idle_rk;
	aes8(c->x, c->rk);
	for (l = 0; l < c->n; l++) {
		if (c->len[l] == BLK) {
			_mm_storeu_si128((__m128i *)c->out[l], _mm_xor_si128(
				c->x[l], _mm_loadu_si128((const __m128i *)
							 c->in[l])));
		} else {
			uint8_t ks[BLK];
			unsigned int i;

			_mm_storeu_si128((__m128i *)ks, c->x[l]);
			for (i = 0; i < c->len[l]; i++)
				c->out[l][i] = c->in[l][i] ^ ks[i];
			explicit_bzero(ks, sizeof(ks));
		}
	}
	c->n = 0;
}

/* Encrypt or decrypt (the same) every job whose decrypt flag is @p dec,
 * each from its tag. */
AESNI static void
ctr_run(struct dpn_siv_job *jobs, unsigned int n, bool dec)
{
	struct ctr_lanes c;
	unsigned int j;

	c.n = 0;
	for (j = 0; j < n; j++) {
		struct dpn_siv_job *job = &jobs[j];
		const uint8_t *in = dec ? job->sealed + BLK : job->plain;
		uint8_t *out = dec ? job->plain : job->sealed + BLK;
		uint8_t q[BLK];
		uint32_t base, i;
		size_t off;

		if (job->decrypt != dec || job->len == 0)
			continue;
		memcpy(q, job->sealed, BLK);
		q[8] &= 0x7f;
		q[12] &= 0x7f;
		base = (uint32_t)q[12] << 24 | (uint32_t)q[13] << 16 |
			(uint32_t)q[14] << 8 | q[15];
		for (off = 0, i = 0; off < job->len; off += BLK, i++) {
			uint32_t ctr = base + i;	/* bit 31 clear: no carry */

			q[12] = (uint8_t)(ctr >> 24);
			q[13] = (uint8_t)(ctr >> 16);
			q[14] = (uint8_t)(ctr >> 8);
			q[15] = (uint8_t)ctr;
			c.x[c.n] = _mm_loadu_si128((const __m128i *)q);
			c.rk[c.n] = job->key->ctr_rk;
			c.in[c.n] = in + off;
			c.out[c.n] = out + off;
			c.len[c.n] = (uint32_t)(job->len - off < BLK ?
						job->len - off : BLK);
			if (++c.n == LANES)
				ctr_flush(&c);
		}
	}
	if (c.n != 0)
		ctr_flush(&c);
}

/* Tags compared in constant time. */
static bool
tag_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;
	unsigned int i;

	for (i = 0; i < BLK; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

AESNI static void
run_aesni(struct dpn_siv_job *jobs, unsigned int n)
{
	struct chain c[DPN_SIV_BATCH * 2];
	uint8_t mac[DPN_SIV_BATCH * 2][BLK], v[DPN_SIV_BATCH][BLK];
	uint8_t d[BLK];
	unsigned int j;

	/* Decryption first: S2V reads the plaintext. */
	ctr_run(jobs, n, true);
	for (j = 0; j < n; j++) {
		chain_cmac(&c[2 * j], jobs[j].key, jobs[j].ad, jobs[j].ad_len,
			   mac[2 * j]);
		chain_cmac(&c[2 * j + 1], jobs[j].key, jobs[j].nonce,
			   jobs[j].nonce_len, mac[2 * j + 1]);
	}
	chains_run(c, 2 * n);
	for (j = 0; j < n; j++) {
		dbl(d, jobs[j].key->d0);
		xor16(d, d, mac[2 * j]);
		dbl(d, d);
		xor16(d, d, mac[2 * j + 1]);
		chain_t(&c[j], jobs[j].key, jobs[j].plain, jobs[j].len, d,
			v[j]);
	}
	chains_run(c, n);
	for (j = 0; j < n; j++) {
		if (jobs[j].decrypt)
			jobs[j].ok = tag_equal(v[j], jobs[j].sealed);
		else
			memcpy(jobs[j].sealed, v[j], BLK);
	}
	ctr_run(jobs, n, false);
	/* The tails held plaintext. */
	explicit_bzero(c, sizeof(c));
	explicit_bzero(d, sizeof(d));
}

static void
run_nettle(struct dpn_siv_job *jobs, unsigned int n)
{
	struct siv_cmac_aes128_ctx ctx;
	unsigned int j;

	for (j = 0; j < n; j++) {
		struct dpn_siv_job *job = &jobs[j];

		siv_cmac_aes128_set_key(&ctx, job->key->raw);
		if (job->decrypt)
			job->ok = siv_cmac_aes128_decrypt_message(&ctx,
				job->nonce_len, job->nonce, job->ad_len,
				job->ad, job->len, job->plain, job->sealed);
		else
			siv_cmac_aes128_encrypt_message(&ctx, job->nonce_len,
				job->nonce, job->ad_len, job->ad,
				job->len + BLK, job->sealed, job->plain);
	}
	explicit_bzero(&ctx, sizeof(ctx));
}

void
dpn_siv_run(struct dpn_siv_job *jobs, unsigned int n)
{
	while (n > 0) {
		unsigned int k = n < DPN_SIV_BATCH ? n : DPN_SIV_BATCH;

		if (aesni)
			run_aesni(jobs, k);
		else
			run_nettle(jobs, k);
		jobs += k;
		n -= k;
	}
}
