/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_SIV_H
#define DPN_SIV_H

/**
 * @file
 * AEAD_AES_SIV_CMAC_256 (RFC 5297) for a batch of messages at once, as
 * NTS (RFC 8915) seals and opens them: the components of S2V are the
 * associated data, the nonce and the plaintext.
 *
 * Why not one message at a time through nettle: an NTS request is four
 * SIV operations whose CMACs are chains of dependent AES blocks, so one
 * message keeps the AES unit waiting on each block's latency (ten rounds
 * of four cycles) and an NTS request cost 1.57 us, 45% of it in nettle's
 * one-block AES calls. Here the CMAC chains and CTR blocks of every
 * message in the batch share eight AES-NI lanes: a lane whose chain ends
 * takes the next chain, so the unit works on eight independent blocks at
 * once. Keys are prepared once (round keys, CMAC subkeys, and S2V's
 * CMAC of the zero block, which depends on the key alone).
 *
 * Output is nettle's siv_cmac_aes128 byte for byte (tests/unit/test_siv.c
 * compares them over random keys, lengths and batch sizes). On a CPU
 * without AES-NI every job goes through nettle instead.
 *
 * No allocation, no locks: a batch lives on the caller's stack.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPN_SIV_KEY_LEN 32	/**< a MAC key, then a CTR key */
#define DPN_SIV_TAG_LEN 16
/** Jobs that share the lanes at once; larger batches run in turns. */
#define DPN_SIV_BATCH 16

/** A key ready for use: keep it as long as messages use it. */
struct dpn_siv_key {
	uint8_t mac_rk[11][16];	/**< AES-128 round keys, MAC half */
	uint8_t ctr_rk[11][16];	/**< AES-128 round keys, CTR half */
	uint8_t k1[16], k2[16];	/**< CMAC subkeys */
	uint8_t d0[16];		/**< CMAC(zero block): where S2V starts */
	uint8_t raw[DPN_SIV_KEY_LEN];
} __attribute__((aligned(16)));

/** Prepare @p n keys from their raw bytes (their work interleaved). */
void dpn_siv_keys_set(struct dpn_siv_key *const *keys,
		      const uint8_t *const *raw, unsigned int n);

/** Prepare one key. */
void dpn_siv_key_set(struct dpn_siv_key *key, const uint8_t *raw);

/** Forget a key (its bytes zeroed, not optimized away). */
void dpn_siv_key_wipe(struct dpn_siv_key *key);

/**
 * One message. Encrypt reads @p plain and writes the tag and then the
 * ciphertext at @p sealed; decrypt reads @p sealed and writes the
 * plaintext at @p plain, setting @p ok if the tag verifies (a plaintext
 * that did not verify is garbage the caller must not use). @p plain may
 * equal @p sealed + DPN_SIV_TAG_LEN; nothing else may overlap a job's
 * output, nor another job's input.
 */
struct dpn_siv_job {
	const struct dpn_siv_key *key;
	const uint8_t *ad;
	size_t ad_len;
	const uint8_t *nonce;
	size_t nonce_len;
	uint8_t *sealed;	/**< tag, then ciphertext */
	uint8_t *plain;
	size_t len;		/**< of the plaintext */
	bool decrypt;
	bool ok;		/**< out: decrypt's tag verified */
};

/** Run @p n jobs. */
void dpn_siv_run(struct dpn_siv_job *jobs, unsigned int n);

/** Whether dpn_siv_run() uses AES-NI on this CPU (else nettle). */
bool dpn_siv_accelerated(void);

/**
 * Use AES-NI if @p on and the CPU has it, else nettle (tests and
 * benchmarks compare the two; call before any thread uses a key, since
 * prepared keys differ). @return whether AES-NI is now used.
 */
bool dpn_siv_set_accelerated(bool on);

#endif /* DPN_SIV_H */
