/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_NTS_H
#define DPN_NTS_H

/**
 * @file
 * Network Time Security for NTP on the server side (RFC 8915 section 5):
 * the server keys that seal cookies, the cookies, and the NTS extension
 * fields of a request and its reply. DPDK-free, allocation-free per
 * packet; the AEAD is AEAD_AES_SIV_CMAC_256 (RFC 5297), chosen by
 * measurement (doc/guides/design.rst): OpenSSL 3.0's EVP AES-128-SIV
 * fails on an empty plaintext, which every client authenticator has,
 * and took 2.7 to 3.2 us per message; nettle's siv_cmac_aes128 took 0.3
 * to 0.5 us, and lib/siv, which gives nettle's output for a burst of
 * messages at once on AES-NI lanes, less again. A burst's requests are
 * opened, checked, given cookies and sealed together.
 *
 * Cookies use chrony's layout, so that dpntpd and chronyd sharing one
 * key file accept each other's cookies: a 4-byte key ID (its low two bits
 * the key's slot), a 16-byte nonce, then the SIV output (16-byte tag and
 * the encrypted C2S || S2C keys); no associated data. The key file is
 * chrony's `ntskeys` in its ntsdumpdir ("NKS0" format).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/chacha.h>

#include "dpn_siv.h"

/** AEAD algorithm IDs (IANA): AEAD_AES_SIV_CMAC_256. */
#define DPN_NTS_AEAD_AES_SIV_CMAC_256 15
#define DPN_NTS_KEY_LEN 32	/**< C2S and S2C keys, and server keys */
#define DPN_NTS_NONCE_LEN 16	/**< nonces this server makes */
#define DPN_NTS_TAG_LEN 16	/**< SIV */
/** A cookie: key ID, nonce, tag, C2S || S2C. */
#define DPN_NTS_COOKIE_LEN (4 + DPN_NTS_NONCE_LEN + DPN_NTS_TAG_LEN + \
			    2 * DPN_NTS_KEY_LEN)
#define DPN_NTS_SERVER_KEYS 4	/**< chrony's: slot in the ID's low bits */
#define DPN_NTS_MAX_COOKIES 8	/**< at most returned per reply */
#define DPN_NTS_UID_MIN 32	/**< unique identifier body, RFC 8915 5.3 */
#define DPN_NTS_UID_MAX 256	/**< longer ones are refused */
/** Encrypted extension fields in a request's authenticator: at most. */
#define DPN_NTS_INNER_MAX 512

/** Extension field types (RFC 8915 5.7). */
#define DPN_NTS_EF_UID 0x0104
#define DPN_NTS_EF_COOKIE 0x0204
#define DPN_NTS_EF_PLACEHOLDER 0x0304
#define DPN_NTS_EF_AUTH 0x0404

/*
 * Randomness for nonces and keys: per lcore, seeded from getrandom(), a
 * ChaCha20 keystream that rekeys itself after every refill (fast key
 * erasure), so that a leaked state tells nothing of earlier output.
 */
struct dpn_nts_rng {
	struct chacha_ctx ctx;
	uint8_t buf[256];
	unsigned int used;	/**< bytes of buf handed out */
};

/** Seed from getrandom(). @return 0, or -1 (errno set). */
int dpn_nts_rng_init(struct dpn_nts_rng *r);
void dpn_nts_rng_bytes(struct dpn_nts_rng *r, void *out, size_t len);

/*
 * Server keys: four slots as chrony keeps them. `current` seals new
 * cookies; the next slot holds the key that will be current after the
 * next rotation (already shared through the file, so that every server
 * of a fleet knows it before any uses it); the two others are older and
 * still open cookies.
 */
struct dpn_nts_server_key {
	uint32_t id;			/**< 0: empty slot */
	uint8_t key[DPN_NTS_KEY_LEN];
	struct dpn_siv_key siv;		/**< the key, prepared */
};

struct dpn_nts_keyring {
	unsigned int current;
	struct dpn_nts_server_key k[DPN_NTS_SERVER_KEYS];
};

/** Fresh random keys in every slot (current: slot 3, as chrony starts). */
void dpn_nts_keyring_generate(struct dpn_nts_keyring *kr,
			      struct dpn_nts_rng *rng);

/** Rotate: the next key becomes current, and a new key is made for the
 * slot after it (the oldest key is forgotten). */
void dpn_nts_keyring_rotate(struct dpn_nts_keyring *kr,
			    struct dpn_nts_rng *rng);

/**
 * Read chrony's key file ("NKS0": algorithm and age of the current key,
 * then four "ID HEXKEY" lines from the oldest to the next; "NKS1" with
 * the algorithm on each line is read too). Only AEAD_AES_SIV_CMAC_256
 * keys are taken. On error @p kr is untouched and "path:line: message"
 * is in @p err.
 * @return 0, or -1.
 */
int dpn_nts_keyring_load(struct dpn_nts_keyring *kr, double *age,
			 const char *path, char *err, size_t errlen);

/**
 * Write the key file as chrony 4.3 writes it ("NKS0"), mode 0600, through
 * a temporary file renamed into place. @p age: seconds since the current
 * key became current.
 * @return 0, or -1 with a message.
 */
int dpn_nts_keyring_save(const struct dpn_nts_keyring *kr, double age,
			 const char *path, char *err, size_t errlen);

/** Seal C2S and S2C into a cookie (DPN_NTS_COOKIE_LEN bytes at @p out)
 * with the current key. */
void dpn_nts_cookie_seal(const struct dpn_nts_keyring *kr,
			 struct dpn_nts_rng *rng, const uint8_t *c2s,
			 const uint8_t *s2c, uint8_t *out);

/** Open a cookie of @p len bytes. @return 0 with the keys, or -1 (unknown
 * key, wrong length, or it does not decrypt). */
int dpn_nts_cookie_open(const struct dpn_nts_keyring *kr,
			const uint8_t *cookie, size_t len, uint8_t *c2s,
			uint8_t *s2c);

/*
 * Requests and replies. All offsets are from the start of the NTP
 * payload (the 48-byte header).
 */

/** What the extension fields of a request say. */
enum dpn_nts_kind {
	DPN_NTS_NONE,		/**< no NTS cookie nor authenticator */
	DPN_NTS_REQUEST,	/**< a well-formed NTS request */
	/** NTS fields not as RFC 8915 says, or fields that cannot be
	 * walked (RFC 7822 lengths) */
	DPN_NTS_MALFORMED,
};

struct dpn_nts_request {
	uint16_t uid_off, uid_len;	/**< the whole UID field */
	uint16_t cookie_off, cookie_len;	/**< the cookie itself */
	uint16_t nb_placeholders;
	uint16_t auth_off;		/**< authenticator field: AD ends here */
	uint16_t nonce_off, nonce_len;
	uint16_t ct_off, ct_len;	/**< ciphertext, tag first */
};

/**
 * Parse the extension fields after the header of an NTP request of
 * @p len bytes (RFC 7822 fields: lengths a multiple of 4, at least 16).
 * An NTS request has one unique identifier of at least 32 bytes, exactly
 * one cookie, placeholders exactly as long as the cookie (with the
 * cookie at most DPN_NTS_MAX_COOKIES), and the authenticator last.
 */
enum dpn_nts_kind dpn_nts_parse(const uint8_t *pkt, size_t len,
				struct dpn_nts_request *r);

/** A reply whose authenticator is to be sealed once T3 is in it. */
struct dpn_nts_pending {
	uint16_t auth_off;	/**< associated data: the reply up to here */
	uint16_t nonce_off;
	uint16_t ct_off;	/**< tag, then the plaintext to encrypt */
	uint16_t pt_len;
	uint8_t s2c[DPN_NTS_KEY_LEN];
};

/** One request of a burst, from its check to its reply. */
struct dpn_nts_check {
	uint8_t *pkt;			/**< in: the NTP payload */
	size_t len;			/**< in: its length */
	struct dpn_nts_request r;	/**< in: dpn_nts_parse()'s */
	bool ok;			/**< out: cookie and authenticator */
	uint8_t keys[2 * DPN_NTS_KEY_LEN];	/**< C2S || S2C if ok */
	size_t reply_len;		/**< dpn_nts_prepare_burst(): 0: no room */
	struct dpn_nts_pending p;	/**< for dpn_nts_seal_burst() */
};

/**
 * dpn_nts_verify() for @p n requests side by side: sets each one's ok,
 * and its keys if ok (zeroed if not).
 */
void dpn_nts_verify_burst(const struct dpn_nts_keyring *kr,
			  struct dpn_nts_check *c, unsigned int n);

/**
 * dpn_nts_prepare() for @p n verified requests side by side, their new
 * cookies sealed together: sets each one's reply_len and p.
 */
void dpn_nts_prepare_burst(const struct dpn_nts_keyring *kr,
			   struct dpn_nts_rng *rng,
			   struct dpn_nts_check *const *c, unsigned int n);

/** dpn_nts_seal() for @p n replies side by side. */
void dpn_nts_seal_burst(uint8_t *const *pkt,
			const struct dpn_nts_pending *const *p,
			unsigned int n);

/**
 * Open the request's cookie and check its authenticator with C2S over
 * the packet up to the authenticator. On success @p c2s and @p s2c hold
 * the keys (new cookies carry both; the reply is sealed with S2C).
 * @return 0, or -1 (the reply is then an NTS NAK).
 */
int dpn_nts_verify(const struct dpn_nts_keyring *kr, const uint8_t *pkt,
		   const struct dpn_nts_request *r, uint8_t *c2s,
		   uint8_t *s2c);

/**
 * Lay out the reply in place, in a packet whose 48-byte header is
 * already the reply's: the request's unique identifier, then the
 * authenticator field with a fresh nonce and, as plaintext, one new
 * cookie per cookie and placeholder of the request (fewer if they would
 * not fit), padded so that the reply is exactly as long as the request.
 * The ciphertext is made by dpn_nts_seal() once the header is final.
 * @return the reply's length (the request's), or 0 if not even one
 * cookie fits.
 */
size_t dpn_nts_prepare(const struct dpn_nts_keyring *kr,
		       struct dpn_nts_rng *rng, uint8_t *pkt, size_t len,
		       const struct dpn_nts_request *r, const uint8_t *c2s,
		       const uint8_t *s2c, struct dpn_nts_pending *p);

/** Encrypt the prepared reply with S2C, the reply up to the
 * authenticator as associated data. */
void dpn_nts_seal(uint8_t *pkt, const struct dpn_nts_pending *p);

/**
 * The body of an NTS NAK after its header (a KoD "NTSN" built by the
 * caller): the request's unique identifier only, moved to follow the
 * header. @return the NAK's length.
 */
size_t dpn_nts_nak(uint8_t *pkt, const struct dpn_nts_request *r);

#endif /* DPN_NTS_H */
