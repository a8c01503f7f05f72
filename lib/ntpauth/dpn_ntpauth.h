/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_NTPAUTH_H
#define DPN_NTPAUTH_H

/**
 * @file
 * NTP symmetric key authentication (RFC 5905 7.3, ntpd's `keys` file):
 * a MAC of key ID and digest(key || packet) after the 48-byte header,
 * MD5 (16 bytes) or SHA-1 (20 bytes), as ntpd and chrony compute it, or
 * AES-128-CMAC(key, packet) (16 bytes, RFC 8573).
 *
 * Two users: the upstream client on the management lcore
 * (dpn_ntpauth_sign/verify) and the server on the workers
 * (struct dpn_ntpauth_server: trusted keys prepared once, read-only, so
 * no allocation, no lock and no per-worker state per request).
 * DPDK-free; the digests are OpenSSL's, the CMAC nettle's.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPN_NTPAUTH_MAX_KEYS 64
#define DPN_NTPAUTH_KEY_MAX 64		/**< bytes of key material */
#define DPN_NTPAUTH_MAC_MAX 20		/**< SHA-1 */
#define DPN_NTPAUTH_CMAC_KEY_LEN 16	/**< AES-128 */
#define DPN_NTPAUTH_ID_MAX 65535	/**< ntpd's limit */

enum dpn_ntpauth_type {
	DPN_NTPAUTH_MD5,
	DPN_NTPAUTH_SHA1,
	DPN_NTPAUTH_AES128CMAC,
};

struct dpn_ntpauth_key {
	uint32_t id;
	enum dpn_ntpauth_type type;
	unsigned int len;
	uint8_t key[DPN_NTPAUTH_KEY_MAX];
};

struct dpn_ntpauth_keys {
	unsigned int nb;
	struct dpn_ntpauth_key k[DPN_NTPAUTH_MAX_KEYS];
};

/**
 * Read an ntpd keys file: "KEYID TYPE KEY" per line, '#' comments; TYPE
 * MD5 (or M), SHA1 (or SHA-1) or AES128CMAC (or chrony's AES128), any
 * case; KEY as ntpd reads it: up to 20 printable ASCII characters, or
 * more than 20 hexadecimal digits (an even number, up to 64 bytes);
 * chrony's "ASCII:" and "HEX:" prefixes are taken too. An AES128CMAC key
 * is 16 bytes. On error returns -1 with "path:line: message" in @p err
 * and leaves @p keys untouched.
 */
int dpn_ntpauth_load(const char *path, struct dpn_ntpauth_keys *keys,
		     char *err, size_t errlen);

/** The key with ID @p id, or NULL. */
const struct dpn_ntpauth_key *
dpn_ntpauth_find(const struct dpn_ntpauth_keys *keys, uint32_t id);

/** MAC length of a key's type: 16 (MD5, AES128CMAC) or 20 (SHA-1). */
unsigned int dpn_ntpauth_mac_len(const struct dpn_ntpauth_key *k);

/**
 * Append the MAC of the @p len bytes at @p pkt (key ID, network order,
 * then digest(key || pkt)) at pkt + len.
 * @return bytes appended (4 + MAC length), or 0 if the digest failed.
 */
unsigned int dpn_ntpauth_sign(const struct dpn_ntpauth_key *k, void *pkt,
			      size_t len);

/**
 * Is the packet of @p len bytes (48-byte header, then key ID and MAC, no
 * extension fields) signed with @p k? A crypto-NAK (a key ID of 0 with
 * no MAC) or a MAC of another key is not. Constant-time comparison.
 */
bool dpn_ntpauth_verify(const struct dpn_ntpauth_key *k, const void *pkt,
			size_t len);

/** "MD5", "SHA1" or "AES128CMAC". */
const char *dpn_ntpauth_type_str(enum dpn_ntpauth_type t);

/*
 * The server side: requests signed with a trusted key are answered with
 * a reply signed by the same key, on the workers.
 */

/** Trusted keys ready for the workers (opaque). */
struct dpn_ntpauth_server;

/**
 * Prepare the keys of @p keys whose IDs are in @p trusted (the state
 * after each key is absorbed, copied per packet; any number of threads
 * may use the table at once). Keys not in the list are left out: their
 * requests are not authentic. An ID in @p trusted that @p keys lacks is
 * an error.
 * @return the table, or NULL with a message in @p err.
 */
struct dpn_ntpauth_server *
dpn_ntpauth_server_create(const struct dpn_ntpauth_keys *keys,
			  const uint32_t *trusted, unsigned int nb_trusted,
			  char *err, size_t errlen);

void dpn_ntpauth_server_free(struct dpn_ntpauth_server *s);

/** How many keys @p s holds (0 for NULL). */
unsigned int dpn_ntpauth_server_nb_keys(const struct dpn_ntpauth_server *s);

/** The key at index @p idx (0 .. nb_keys - 1), in ascending ID order. */
const struct dpn_ntpauth_key *
dpn_ntpauth_server_key(const struct dpn_ntpauth_server *s, unsigned int idx);

/** Index of the trusted key @p id, or -1 (also for a NULL table). */
int dpn_ntpauth_server_find(const struct dpn_ntpauth_server *s, uint32_t id);

/**
 * Is the request of @p len bytes (48-byte header, key ID, MAC) signed
 * with key @p idx? @p len must be 48 + 4 + the key's MAC length.
 * Constant-time comparison; no allocation. False for an index out of
 * the table, or a NULL table (no trusted keys).
 */
bool dpn_ntpauth_server_verify(const struct dpn_ntpauth_server *s,
			       unsigned int idx, const void *pkt, size_t len);

/**
 * Sign the 48-byte header at @p pkt with key @p idx: key ID and MAC are
 * written after it. No allocation.
 * @return bytes appended (4 + MAC length), or 0 if the MAC failed.
 */
unsigned int dpn_ntpauth_server_sign(const struct dpn_ntpauth_server *s,
				     unsigned int idx, void *pkt);

/**
 * dpn_ntpauth_server_verify() for @p n requests at once: @p ok[i] for
 * @p pkt[i] of @p len[i] bytes under key @p idx[i]. The MD5 ones share
 * lib/md5x's lanes.
 */
void dpn_ntpauth_server_verify_burst(const struct dpn_ntpauth_server *s,
				     const uint16_t *idx,
				     const void *const *pkt,
				     const size_t *len, bool *ok,
				     unsigned int n);

/**
 * dpn_ntpauth_server_sign() for @p n headers at once; @p out[i] is what
 * it returns for @p pkt[i].
 */
void dpn_ntpauth_server_sign_burst(const struct dpn_ntpauth_server *s,
				   const uint16_t *idx, void *const *pkt,
				   unsigned int *out, unsigned int n);

#endif /* DPN_NTPAUTH_H */
