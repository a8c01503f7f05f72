/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_NTPAUTH_H
#define DPN_NTPAUTH_H

/**
 * @file
 * NTP symmetric key authentication (RFC 5905 7.3, ntpd's `keys` file):
 * a MAC of key ID and digest(key || packet) after the 48-byte header,
 * MD5 (16 bytes) or SHA-1 (20 bytes), as ntpd and chrony compute it.
 * DPDK-free; the digests are OpenSSL's.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPN_NTPAUTH_MAX_KEYS 64
#define DPN_NTPAUTH_KEY_MAX 64		/**< bytes of key material */
#define DPN_NTPAUTH_MAC_MAX 20		/**< SHA-1 */
#define DPN_NTPAUTH_ID_MAX 65535	/**< ntpd's limit */

enum dpn_ntpauth_type {
	DPN_NTPAUTH_MD5,
	DPN_NTPAUTH_SHA1,
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
 * MD5 (or M) or SHA1 (or SHA-1), any case; KEY up to 20 printable ASCII
 * characters, or 40 hexadecimal digits (20 bytes). On error returns -1
 * with "path:line: message" in @p err and leaves @p keys untouched.
 */
int dpn_ntpauth_load(const char *path, struct dpn_ntpauth_keys *keys,
		     char *err, size_t errlen);

/** The key with ID @p id, or NULL. */
const struct dpn_ntpauth_key *
dpn_ntpauth_find(const struct dpn_ntpauth_keys *keys, uint32_t id);

/** MAC length of a key's type: 16 (MD5) or 20 (SHA-1). */
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

#endif /* DPN_NTPAUTH_H */
