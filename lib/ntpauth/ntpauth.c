/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Symmetric key MACs of NTP packets and ntpd's keys file.
 */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dpn_ntpauth.h"

#define HDR_LEN 48
#define ASCII_KEY_MAX 20
#define HEX_KEY_LEN 40

static int
fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* ntpd's rule: 40 hex digits are 20 bytes, up to 20 characters ASCII. */
static int
parse_key(const char *s, struct dpn_ntpauth_key *k)
{
	size_t n = strlen(s), i;

	if (n == HEX_KEY_LEN && strspn(s, "0123456789abcdefABCDEF") == n) {
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
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		fclose(f);
		return fail(err, errlen, "%s: out of memory", path);
	}
	while (ret == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *w[4], *save = NULL, *hash = strchr(line, '#');
		struct dpn_ntpauth_key k;
		unsigned long id;
		char *end;
		int nw = 0;

		lineno++;
		if (hash != NULL)
			*hash = '\0';
		for (w[nw] = strtok_r(line, " \t\r\n", &save);
		     w[nw] != NULL && nw < 3;
		     w[++nw] = strtok_r(NULL, " \t\r\n", &save))
			;
		if (nw == 0)
			continue;
		memset(&k, 0, sizeof(k));
		if (nw != 3 || strtok_r(NULL, " \t\r\n", &save) != NULL) {
			ret = fail(err, errlen, "%s:%u: expected 'KEYID TYPE KEY'",
				   path, lineno);
			break;
		}
		errno = 0;
		id = strtoul(w[0], &end, 10);
		if (*end != '\0' || errno != 0 || id < 1 ||
		    id > DPN_NTPAUTH_ID_MAX) {
			ret = fail(err, errlen, "%s:%u: key ID '%s' is not 1..%d",
				   path, lineno, w[0], DPN_NTPAUTH_ID_MAX);
			break;
		}
		k.id = (uint32_t)id;
		if (strcasecmp(w[1], "MD5") == 0 || strcasecmp(w[1], "M") == 0)
			k.type = DPN_NTPAUTH_MD5;
		else if (strcasecmp(w[1], "SHA1") == 0 ||
			 strcasecmp(w[1], "SHA-1") == 0)
			k.type = DPN_NTPAUTH_SHA1;
		else {
			ret = fail(err, errlen, "%s:%u: key type '%s' is not supported (MD5, SHA1)",
				   path, lineno, w[1]);
			break;
		}
		if (parse_key(w[2], &k) != 0) {
			ret = fail(err, errlen, "%s:%u: a key is 1 to 20 printable characters or 40 hex digits",
				   path, lineno);
			break;
		}
		if (dpn_ntpauth_find(n, k.id) != NULL) {
			ret = fail(err, errlen, "%s:%u: key %u defined twice",
				   path, lineno, k.id);
			break;
		}
		if (n->nb == DPN_NTPAUTH_MAX_KEYS) {
			ret = fail(err, errlen, "%s:%u: more than %d keys",
				   path, lineno, DPN_NTPAUTH_MAX_KEYS);
			break;
		}
		n->k[n->nb++] = k;
	}
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
	return k->type == DPN_NTPAUTH_MD5 ? 16 : 20;
}

/* digest(key || data) into @p out; its length, or 0. */
static unsigned int
digest(const struct dpn_ntpauth_key *k, const void *data, size_t len,
       uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;
	uint8_t md[EVP_MAX_MD_SIZE];

	if (ctx == NULL)
		return 0;
	if (EVP_DigestInit_ex(ctx, k->type == DPN_NTPAUTH_MD5 ? EVP_md5() :
			      EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, k->key, k->len) != 1 ||
	    EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &n) != 1)
		n = 0;
	EVP_MD_CTX_free(ctx);
	if (n > DPN_NTPAUTH_MAC_MAX)
		n = DPN_NTPAUTH_MAC_MAX;
	memcpy(out, md, n);
	return n;
}

unsigned int
dpn_ntpauth_sign(const struct dpn_ntpauth_key *k, void *pkt, size_t len)
{
	uint8_t *p = pkt;
	uint32_t id = __builtin_bswap32(k->id);
	unsigned int n;

	n = digest(k, pkt, len, p + len + 4);
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
	if (digest(k, pkt, HDR_LEN, mac) != n)
		return false;
	return CRYPTO_memcmp(mac, p + HDR_LEN + 4, n) == 0;
}
