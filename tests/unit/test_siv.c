/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Batched AES-SIV-CMAC-256 (lib/siv) against nettle's siv_cmac_aes128,
 * message by message: random keys (some shared within a batch),
 * associated data, nonces and plaintexts of every length class that
 * S2V and CMAC treat apart (empty, under a block, whole blocks, a tail),
 * batches under, at and over the lane and batch sizes, encryption and
 * decryption mixed, in place and not; tampered messages fail. The same
 * runs again through the nettle fallback that CPUs without AES-NI take.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nettle/siv-cmac.h>

#include "dpn_siv.h"
#include "test_rnd.h"

#define MAX_JOBS 40
#define MAX_AD 300
#define MAX_NONCE 40
#define MAX_PT 200

static void
rnd_bytes(uint8_t *p, size_t n)
{
	while (n-- > 0)
		*p++ = (uint8_t)rnd();
}

/* Lengths that matter: 0, 1..15, 16, 17..31, 32, 48, 64, longer. */
static size_t
rnd_len(size_t max)
{
	static const size_t edge[] = { 0, 1, 15, 16, 17, 31, 32, 33, 48, 64,
				       104 };
	size_t n = rnd() % 2 ? edge[rnd() % (sizeof(edge) / sizeof(edge[0]))] :
		rnd() % (max + 1);

	return n > max ? max : n;
}

struct msg {
	uint8_t key[DPN_SIV_KEY_LEN];
	uint8_t ad[MAX_AD], nonce[MAX_NONCE], pt[MAX_PT];
	uint8_t want[DPN_SIV_TAG_LEN + MAX_PT];	/* nettle's */
	uint8_t buf[DPN_SIV_TAG_LEN + MAX_PT];	/* ours */
	uint8_t out[MAX_PT];
	size_t ad_len, nonce_len, len;
	bool tamper;
};

static struct msg msgs[MAX_JOBS];
static struct dpn_siv_key keys[MAX_JOBS];
static struct dpn_siv_job jobs[MAX_JOBS];

static void
nettle_seal(struct msg *m)
{
	struct siv_cmac_aes128_ctx ctx;

	siv_cmac_aes128_set_key(&ctx, m->key);
	siv_cmac_aes128_encrypt_message(&ctx, m->nonce_len, m->nonce,
					m->ad_len, m->ad,
					m->len + DPN_SIV_TAG_LEN, m->want,
					m->pt);
}

/* One batch of @p n random jobs, checked against nettle. */
static void
one_batch(unsigned int n, bool in_place)
{
	struct dpn_siv_key *kp[MAX_JOBS] = { 0 };
	const uint8_t *raw[MAX_JOBS] = { 0 };
	unsigned int j;

	for (j = 0; j < n; j++) {
		struct msg *m = &msgs[j];

		/* Every third job shares the first job's key. */
		if (j > 0 && j % 3 == 0)
			memcpy(m->key, msgs[0].key, sizeof(m->key));
		else
			rnd_bytes(m->key, sizeof(m->key));
		m->ad_len = rnd_len(MAX_AD);
		m->nonce_len = 1 + rnd_len(MAX_NONCE - 1);
		m->len = rnd_len(MAX_PT);
		rnd_bytes(m->ad, m->ad_len);
		rnd_bytes(m->nonce, m->nonce_len);
		rnd_bytes(m->pt, m->len);
		nettle_seal(m);
		kp[j] = &keys[j];
		raw[j] = m->key;
		m->tamper = false;
		memset(&jobs[j], 0, sizeof(jobs[j]));
		jobs[j].key = &keys[j];
		jobs[j].ad = m->ad;
		jobs[j].ad_len = m->ad_len;
		jobs[j].nonce = m->nonce;
		jobs[j].nonce_len = m->nonce_len;
		jobs[j].len = m->len;
		jobs[j].sealed = m->buf;
		jobs[j].decrypt = rnd() % 2;
		if (jobs[j].decrypt) {
			memcpy(m->buf, m->want, DPN_SIV_TAG_LEN + m->len);
			if (rnd() % 4 == 0) {
				/* One bit anywhere: tag, text, AD or nonce. */
				unsigned int w = rnd() % 4;

				m->tamper = true;
				if (w == 0 || (w == 1 && m->len == 0))
					m->buf[rnd() % DPN_SIV_TAG_LEN] ^= 1;
				else if (w == 1)
					m->buf[DPN_SIV_TAG_LEN +
					       rnd() % m->len] ^= 0x80;
				else if (w == 2 && m->ad_len != 0)
					m->ad[rnd() % m->ad_len] ^= 4;
				else
					m->nonce[rnd() % m->nonce_len] ^= 2;
			}
			jobs[j].plain = in_place ? m->buf + DPN_SIV_TAG_LEN :
				m->out;
		} else {
			if (in_place)
				memcpy(m->buf + DPN_SIV_TAG_LEN, m->pt, m->len);
			jobs[j].plain = in_place ? m->buf + DPN_SIV_TAG_LEN :
				m->pt;
		}
	}
	dpn_siv_keys_set(kp, raw, n);
	dpn_siv_run(jobs, n);
	for (j = 0; j < n; j++) {
		struct msg *m = &msgs[j];

		if (!jobs[j].decrypt) {
			assert_memory_equal(m->buf, m->want,
					    DPN_SIV_TAG_LEN + m->len);
			continue;
		}
		assert_int_equal(jobs[j].ok, !m->tamper);
		if (!m->tamper && m->len != 0)
			assert_memory_equal(jobs[j].plain, m->pt, m->len);
	}
}

static void
batches(void)
{
	static const unsigned int sizes[] = { 1, 2, 7, 8, 9, 16, 17, 33,
					      MAX_JOBS };
	unsigned int i, s;

	for (i = 0; i < 60; i++)
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			one_batch(sizes[s], i % 2);
}

static void
test_matches_nettle(void **state)
{
	(void)state;
	if (!dpn_siv_accelerated())
		skip();		/* test_fallback covers this CPU */
	batches();
}

static void
test_fallback(void **state)
{
	bool was = dpn_siv_accelerated();

	(void)state;
	assert_false(dpn_siv_set_accelerated(false));
	batches();
	dpn_siv_set_accelerated(was);
}

/* A prepared key is the same as several prepared side by side. */
static void
test_keys_set(void **state)
{
	struct dpn_siv_key one, many[11], *kp[11];
	const uint8_t *raw[11];
	uint8_t k[11][DPN_SIV_KEY_LEN];
	unsigned int i;

	(void)state;
	for (i = 0; i < 11; i++) {
		rnd_bytes(k[i], sizeof(k[i]));
		kp[i] = &many[i];
		raw[i] = k[i];
	}
	dpn_siv_keys_set(kp, raw, 11);
	for (i = 0; i < 11; i++) {
		dpn_siv_key_set(&one, k[i]);
		assert_memory_equal(&one, &many[i], sizeof(one));
	}
	dpn_siv_key_wipe(&one);
	assert_memory_equal(&one, &(struct dpn_siv_key){ 0 }, sizeof(one));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_nettle),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_keys_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
