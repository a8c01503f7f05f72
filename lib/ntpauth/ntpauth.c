/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Symmetric key MACs of NTP packets and ntpd's keys file.
 *
 * MD5 and SHA-1 go through OpenSSL's low-level digest functions, not EVP:
 * in OpenSSL 3.0 every EVP_DigestInit_ex() allocates (one malloc per
 * MAC, counted with CRYPTO_set_mem_functions), and the workers must not
 * allocate per packet. AES-128-CMAC is nettle's: OpenSSL's EVP_MAC spends
 * most of its time looking up parameters by name (strcmp was the top
 * symbol in perf), and per 48-byte MAC nettle took 67 ns where
 * OpenSSL's CMAC_* took 115 and EVP_MAC 143 (this machine, one core).
 * All three contexts are plain structs: the state after the key is
 * absorbed (the AES key schedule for CMAC) is computed once per key and
 * copied for each packet, so workers share one read-only table.
 */

/* MD5_Init and SHA1_Init are deprecated in 3.0 but kept; see above. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/md5.h>
#include <openssl/sha.h>

#include <nettle/cmac.h>

#include "dpn_md5x.h"
#include "dpn_err.h"
#include "dpn_ntpauth.h"

#define HDR_LEN 48
#define ASCII_KEY_MAX 20

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * ntpd's rule (4.2.8, NTPsec): up to 20 characters is ASCII, longer is
 * hexadecimal; chrony's keys files say which with "ASCII:" or "HEX:".
 */
static int
parse_key(const char *s, struct dpn_ntpauth_key *k)
{
	size_t n, i;
	bool hex;

	if (strncasecmp(s, "HEX:", 4) == 0) {
		s += 4;
		hex = true;
	} else if (strncasecmp(s, "ASCII:", 6) == 0) {
		s += 6;
		hex = false;
	} else {
		hex = strlen(s) > ASCII_KEY_MAX;
	}
	n = strlen(s);
	if (hex) {
		if (n == 0 || n % 2 != 0 || n / 2 > DPN_NTPAUTH_KEY_MAX ||
		    strspn(s, "0123456789abcdefABCDEF") != n)
			return -1;
		for (i = 0; i < n / 2; i++)
			k->key[i] = (uint8_t)(hexval(s[2 * i]) << 4 |
					      hexval(s[2 * i + 1]));
		k->len = n / 2;
		return 0;
	}
	if (n == 0 || n > ASCII_KEY_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '#')
			return -1;
	memcpy(k->key, s, n);
	k->len = n;
	return 0;
}

static int
parse_type(const char *s, enum dpn_ntpauth_type *t)
{
	if (strcasecmp(s, "MD5") == 0 || strcasecmp(s, "M") == 0)
		*t = DPN_NTPAUTH_MD5;
	else if (strcasecmp(s, "SHA1") == 0 || strcasecmp(s, "SHA-1") == 0)
		*t = DPN_NTPAUTH_SHA1;
	else if (strcasecmp(s, "AES128CMAC") == 0 ||
		 strcasecmp(s, "AES128") == 0 ||
		 strcasecmp(s, "AES-128-CMAC") == 0)
		*t = DPN_NTPAUTH_AES128CMAC;
	else
		return -1;
	return 0;
}

const char *
dpn_ntpauth_type_str(enum dpn_ntpauth_type t)
{
	switch (t) {
	case DPN_NTPAUTH_MD5:
		return "MD5";
	case DPN_NTPAUTH_SHA1:
		return "SHA1";
	case DPN_NTPAUTH_AES128CMAC:
		return "AES128CMAC";
	}
	return "?";
}

int
dpn_ntpauth_load(const char *path, struct dpn_ntpauth_keys *keys, char *err,
		 size_t errlen)
{
	struct dpn_ntpauth_keys *n;
	char line[512];
	unsigned int lineno = 0;
	FILE *f;
	int ret = 0;

	f = fopen(path, "r");
	if (f == NULL)
		return dpn_err(err, errlen, "%s: %s", path, strerror(errno));
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		fclose(f);
		return dpn_err(err, errlen, "%s: out of memory", path);
	}
	while (ret == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *w[4], *save = NULL, *hash = strchr(line, '#');
		struct dpn_ntpauth_key k;
		unsigned long id;
		char *end;
		int nw = 0;

		lineno++;
		/* The rest of a longer line would read as a line of its own. */
		if (strchr(line, '\n') == NULL && !feof(f)) {
			ret = dpn_err(err, errlen, "%s:%u: line longer than %zu characters",
				   path, lineno, sizeof(line) - 2);
			break;
		}
		if (hash != NULL)
			*hash = '\0';
		/* Up to four words: w[3] is a fourth, one too many. */
		for (w[nw] = strtok_r(line, " \t\r\n", &save);
		     w[nw] != NULL && nw < 3;
		     w[++nw] = strtok_r(NULL, " \t\r\n", &save))
			;
		if (nw == 0)
			continue;
		memset(&k, 0, sizeof(k));
		if (nw != 3 || w[3] != NULL) {
			ret = dpn_err(err, errlen, "%s:%u: expected 'KEYID TYPE KEY'",
				   path, lineno);
			break;
		}
		errno = 0;
		id = strtoul(w[0], &end, 10);
		if (*end != '\0' || errno != 0 || id < 1 ||
		    id > DPN_NTPAUTH_ID_MAX) {
			ret = dpn_err(err, errlen, "%s:%u: key ID '%s' is not 1..%d",
				   path, lineno, w[0], DPN_NTPAUTH_ID_MAX);
			break;
		}
		k.id = (uint32_t)id;
		if (parse_type(w[1], &k.type) != 0) {
			ret = dpn_err(err, errlen, "%s:%u: key type '%s' is not supported (MD5, SHA1, AES128CMAC)",
				   path, lineno, w[1]);
			break;
		}
		if (parse_key(w[2], &k) != 0) {
			ret = dpn_err(err, errlen, "%s:%u: a key is 1 to 20 printable characters, or more than 20 hex digits (up to %d bytes)",
				   path, lineno, DPN_NTPAUTH_KEY_MAX);
			break;
		}
		if (k.type == DPN_NTPAUTH_AES128CMAC &&
		    k.len != DPN_NTPAUTH_CMAC_KEY_LEN) {
			ret = dpn_err(err, errlen, "%s:%u: an AES128CMAC key is 16 bytes (32 hex digits), not %u",
				   path, lineno, k.len);
			break;
		}
		if (dpn_ntpauth_find(n, k.id) != NULL) {
			ret = dpn_err(err, errlen, "%s:%u: key %u defined twice",
				   path, lineno, k.id);
			break;
		}
		if (n->nb == DPN_NTPAUTH_MAX_KEYS) {
			ret = dpn_err(err, errlen, "%s:%u: more than %d keys",
				   path, lineno, DPN_NTPAUTH_MAX_KEYS);
			break;
		}
		n->k[n->nb++] = k;
	}
	/* fgets() also stops on an error: a directory is not an empty
	 * keys file. */
	if (ret == 0 && ferror(f))
		ret = dpn_err(err, errlen, "%s: %s", path, strerror(errno));
	fclose(f);
	if (ret == 0)
		*keys = *n;
	OPENSSL_cleanse(n, sizeof(*n));
	free(n);
	OPENSSL_cleanse(line, sizeof(line));
	return ret;
}

const struct dpn_ntpauth_key *
dpn_ntpauth_find(const struct dpn_ntpauth_keys *keys, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < keys->nb; i++)
		if (keys->k[i].id == id)
			return &keys->k[i];
	return NULL;
}

unsigned int
dpn_ntpauth_mac_len(const struct dpn_ntpauth_key *k)
{
	return k->type == DPN_NTPAUTH_SHA1 ? 20 : 16;
}

/* ntpd's digest MAC: digest(key || data). */
static unsigned int
digest_mac(const struct dpn_ntpauth_key *k, const void *data, size_t len,
	   uint8_t *out)
{
	if (k->type == DPN_NTPAUTH_MD5) {
		MD5_CTX c;

		if (MD5_Init(&c) != 1 || MD5_Update(&c, k->key, k->len) != 1 ||
		    MD5_Update(&c, data, len) != 1 || MD5_Final(out, &c) != 1)
			return 0;
		return MD5_DIGEST_LENGTH;
	} else {
		SHA_CTX c;

		if (SHA1_Init(&c) != 1 || SHA1_Update(&c, k->key, k->len) != 1 ||
		    SHA1_Update(&c, data, len) != 1 || SHA1_Final(out, &c) != 1)
			return 0;
		return SHA_DIGEST_LENGTH;
	}
}

/* The MAC of @p data under @p k, one-off (the management lcore's). */
static unsigned int
mac_once(const struct dpn_ntpauth_key *k, const void *data, size_t len,
	 uint8_t *out)
{
	struct cmac_aes128_ctx c;

	if (k->type != DPN_NTPAUTH_AES128CMAC)
		return digest_mac(k, data, len, out);
	cmac_aes128_set_key(&c, k->key);
	cmac_aes128_update(&c, len, data);
	cmac_aes128_digest(&c, CMAC128_DIGEST_SIZE, out);
	OPENSSL_cleanse(&c, sizeof(c));
	return CMAC128_DIGEST_SIZE;
}

unsigned int
dpn_ntpauth_sign(const struct dpn_ntpauth_key *k, void *pkt, size_t len)
{
	uint8_t *p = pkt;
	uint32_t id = __builtin_bswap32(k->id);
	unsigned int n;

	n = mac_once(k, pkt, len, p + len + 4);
	if (n != dpn_ntpauth_mac_len(k))
		return 0;
	memcpy(p + len, &id, 4);
	return 4 + n;
}

bool
dpn_ntpauth_verify(const struct dpn_ntpauth_key *k, const void *pkt,
		   size_t len)
{
	const uint8_t *p = pkt;
	unsigned int n = dpn_ntpauth_mac_len(k);
	uint8_t mac[DPN_NTPAUTH_MAC_MAX];
	uint32_t id;

	if (len != HDR_LEN + 4 + n)
		return false;
	memcpy(&id, p + HDR_LEN, 4);
	if (__builtin_bswap32(id) != k->id)
		return false;
	if (mac_once(k, pkt, HDR_LEN, mac) != n)
		return false;
	return CRYPTO_memcmp(mac, p + HDR_LEN + 4, n) == 0;
}

/*
 * The server side.
 */

struct server_key {
	struct dpn_ntpauth_key k;
	/* The state after the key: copied for each packet. */
	union {
		MD5_CTX md5;
		SHA_CTX sha1;
		struct cmac_aes128_ctx cmac;
	} pre;
};

struct dpn_ntpauth_server {
	unsigned int nb_keys;
	uint32_t ids[DPN_NTPAUTH_MAX_KEYS];	/* ascending, for the search */
	struct server_key key[DPN_NTPAUTH_MAX_KEYS];
};

static int
cmp_key_id(const void *a, const void *b)
{
	const struct dpn_ntpauth_key *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

struct dpn_ntpauth_server *
dpn_ntpauth_server_create(const struct dpn_ntpauth_keys *keys,
			  const uint32_t *trusted, unsigned int nb_trusted,
			  char *err, size_t errlen)
{
	struct dpn_ntpauth_key tmp[DPN_NTPAUTH_MAX_KEYS];
	struct dpn_ntpauth_server *s;
	unsigned int i, j, n = 0;

	for (i = 0; i < nb_trusted; i++) {
		const struct dpn_ntpauth_key *k = dpn_ntpauth_find(keys,
								   trusted[i]);
		bool dup = false;

		if (k == NULL) {
			dpn_err(err, errlen, "trusted key %u is not in the keys file",
			     trusted[i]);
			return NULL;
		}
		for (j = 0; j < n; j++)
			dup |= tmp[j].id == k->id;
		if (!dup && n < DPN_NTPAUTH_MAX_KEYS)
			tmp[n++] = *k;
	}
	qsort(tmp, n, sizeof(tmp[0]), cmp_key_id);
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		dpn_err(err, errlen, "out of memory");
		return NULL;
	}
	s->nb_keys = n;
	for (i = 0; i < n; i++) {
		struct server_key *sk = &s->key[i];

		sk->k = tmp[i];
		s->ids[i] = tmp[i].id;
		switch (sk->k.type) {
		case DPN_NTPAUTH_MD5:
			MD5_Init(&sk->pre.md5);
			MD5_Update(&sk->pre.md5, sk->k.key, sk->k.len);
			break;
		case DPN_NTPAUTH_SHA1:
			SHA1_Init(&sk->pre.sha1);
			SHA1_Update(&sk->pre.sha1, sk->k.key, sk->k.len);
			break;
		case DPN_NTPAUTH_AES128CMAC:
			cmac_aes128_set_key(&sk->pre.cmac, sk->k.key);
			break;
		}
	}
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return s;
}

void
dpn_ntpauth_server_free(struct dpn_ntpauth_server *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

unsigned int
dpn_ntpauth_server_nb_keys(const struct dpn_ntpauth_server *s)
{
	return s == NULL ? 0 : s->nb_keys;
}

const struct dpn_ntpauth_key *
dpn_ntpauth_server_key(const struct dpn_ntpauth_server *s, unsigned int idx)
{
	return &s->key[idx].k;
}

int
dpn_ntpauth_server_find(const struct dpn_ntpauth_server *s, uint32_t id)
{
	unsigned int lo = 0, hi;

	if (s == NULL)
		return -1;
	hi = s->nb_keys;
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (s->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nb_keys && s->ids[lo] == id ? (int)lo : -1;
}

/* The MAC of a 48-byte header under key @p idx. */
static unsigned int
server_mac(const struct dpn_ntpauth_server *s, unsigned int idx,
	   const void *hdr, uint8_t *out)
{
	const struct server_key *sk = &s->key[idx];

	switch (sk->k.type) {
	case DPN_NTPAUTH_MD5: {
		MD5_CTX m = sk->pre.md5;

		if (MD5_Update(&m, hdr, HDR_LEN) != 1 || MD5_Final(out, &m) != 1)
			return 0;
		return MD5_DIGEST_LENGTH;
	}
	case DPN_NTPAUTH_SHA1: {
		SHA_CTX m = sk->pre.sha1;

		if (SHA1_Update(&m, hdr, HDR_LEN) != 1 ||
		    SHA1_Final(out, &m) != 1)
			return 0;
		return SHA_DIGEST_LENGTH;
	}
	case DPN_NTPAUTH_AES128CMAC: {
		struct cmac_aes128_ctx m = sk->pre.cmac;

		cmac_aes128_update(&m, HDR_LEN, hdr);
		cmac_aes128_digest(&m, CMAC128_DIGEST_SIZE, out);
		return CMAC128_DIGEST_SIZE;
	}
	}
	return 0;
}

bool
dpn_ntpauth_server_verify(const struct dpn_ntpauth_server *s,
			  unsigned int idx, const void *pkt, size_t len)
{
	const uint8_t *p = pkt;
	uint8_t mac[DPN_NTPAUTH_MAC_MAX];
	unsigned int n;

	if (s == NULL || idx >= s->nb_keys)
		return false;
	n = dpn_ntpauth_mac_len(&s->key[idx].k);
	if (len != HDR_LEN + 4 + n || server_mac(s, idx, pkt, mac) != n)
		return false;
	return CRYPTO_memcmp(mac, p + HDR_LEN + 4, n) == 0;
}

unsigned int
dpn_ntpauth_server_sign(const struct dpn_ntpauth_server *s, unsigned int idx,
			void *pkt)
{
	uint8_t *p = pkt;
	uint32_t id;
	unsigned int n;

	if (s == NULL || idx >= s->nb_keys)
		return 0;
	id = __builtin_bswap32(s->key[idx].k.id);
	n = server_mac(s, idx, pkt, p + HDR_LEN + 4);
	if (n != dpn_ntpauth_mac_len(&s->key[idx].k))
		return 0;
	memcpy(p + HDR_LEN, &id, 4);
	return 4 + n;
}

/*
 * Bursts: the MD5 MACs of a burst are computed side by side (lib/md5x),
 * the others one by one (SHA-1 and CMAC are within the issue's +0.3 us
 * as they are). A burst is taken in slices so that the arrays handed to
 * dpn_md5x() stay on the stack; it runs the slice's MD5 entries eight
 * at a time.
 */
#define SLICE 64

/* Whether entry @p i goes to the lanes: an MD5 key and, when verifying
 * (@p len not NULL), a request of exactly one MD5 MAC's length. */
static bool
md5_lane(const struct dpn_ntpauth_server *s, const uint16_t *idx,
	 const size_t *len, unsigned int i)
{
	return s != NULL && idx[i] < s->nb_keys &&
		s->key[idx[i]].k.type == DPN_NTPAUTH_MD5 &&
		(len == NULL || len[i] == HDR_LEN + 4 + 16);
}

/*
 * The MD5 MACs of the lane entries among the first @p n (at most SLICE)
 * of a slice, in one dpn_md5x() call: @p mac[j] is the MAC of the
 * header of entry @p at[j]. @return how many.
 */
static unsigned int
md5_slice(const struct dpn_ntpauth_server *s, const uint16_t *idx,
	  const void *const *pkt, const size_t *len, unsigned int n,
	  unsigned int *at, uint8_t (*mac)[16])
{
	const uint8_t *a[SLICE], *b[SLICE];
	size_t alen[SLICE], blen[SLICE];
	unsigned int i, nb = 0;

	for (i = 0; i < n; i++) {
		if (!md5_lane(s, idx, len, i))
			continue;
		a[nb] = s->key[idx[i]].k.key;
		alen[nb] = s->key[idx[i]].k.len;
		b[nb] = pkt[i];
		blen[nb] = HDR_LEN;
		at[nb++] = i;
	}
	dpn_md5x(a, alen, b, blen, mac, nb);
	return nb;
}

/*
 * Verify (@p ok; @p len given) or sign (@p out; @p len NULL) @p n
 * packets: per slice, the entries that are not for the lanes one at a
 * time, then the lanes' MACs, compared or written. Verifying only reads
 * the packets.
 */
static void
mac_burst(const struct dpn_ntpauth_server *s, const uint16_t *idx,
	  void *const *pkt, const size_t *len, bool *ok, unsigned int *out,
	  unsigned int n)
{
	uint8_t mac[SLICE][16];
	unsigned int base, at[SLICE];

	for (base = 0; base < n; base += SLICE) {
		unsigned int i, j, nb;
		unsigned int m = n - base < SLICE ? n - base : SLICE;

		for (i = base; i < base + m; i++) {
			if (md5_lane(s, idx, len, i))
				continue;
			if (len != NULL)
				ok[i] = dpn_ntpauth_server_verify(s, idx[i],
								  pkt[i],
								  len[i]);
			else
				out[i] = dpn_ntpauth_server_sign(s, idx[i],
								 pkt[i]);
		}
		nb = md5_slice(s, idx + base,
			       (const void *const *)(pkt + base),
			       len != NULL ? len + base : NULL, m, at, mac);
		for (j = 0; j < nb; j++) {
			uint8_t *p = pkt[base + at[j]];
			uint32_t id;

			i = base + at[j];
			if (len != NULL) {
				ok[i] = CRYPTO_memcmp(mac[j], p + HDR_LEN + 4,
						      16) == 0;
				continue;
			}
			id = __builtin_bswap32(s->key[idx[i]].k.id);
			memcpy(p + HDR_LEN, &id, 4);
			memcpy(p + HDR_LEN + 4, mac[j], 16);
			out[i] = 4 + 16;
		}
	}
	OPENSSL_cleanse(mac, sizeof(mac));
}

void
dpn_ntpauth_server_verify_burst(const struct dpn_ntpauth_server *s,
				const uint16_t *idx, const void *const *pkt,
				const size_t *len, bool *ok, unsigned int n)
{
	mac_burst(s, idx, (void *const *)pkt, len, ok, NULL, n);
}

void
dpn_ntpauth_server_sign_burst(const struct dpn_ntpauth_server *s,
			      const uint16_t *idx, void *const *pkt,
			      unsigned int *out, unsigned int n)
{
	mac_burst(s, idx, pkt, NULL, NULL, out, n);
}
