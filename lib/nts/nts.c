/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NTS for NTP on the server side: randomness, server keys and their
 * file, cookies, and the extension fields of requests and replies.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "dpn_err.h"
#include "dpn_nts.h"

#define HDR_LEN 48
#define EF_HDR 4
#define EF_MIN 16		/* RFC 7822 */
#define COOKIE_EF_LEN (EF_HDR + DPN_NTS_COOKIE_LEN)
/* Authenticator field: type, length, nonce length, ciphertext length. */
#define AUTH_HDR 8

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline unsigned int
pad4(unsigned int n)
{
	return (n + 3) & ~3u;
}

/*
 * Randomness.
 */

static const uint8_t zero_nonce[CHACHA_NONCE_SIZE];

int
dpn_nts_rng_init(struct dpn_nts_rng *r)
{
	uint8_t seed[CHACHA_KEY_SIZE];

	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return -1;
	chacha_set_key(&r->ctx, seed);
	chacha_set_nonce(&r->ctx, zero_nonce);
	explicit_bzero(seed, sizeof(seed));
	r->used = sizeof(r->buf);
	return 0;
}

/* The next key, then a buffer of output; the old key is gone. */
static void
rng_refill(struct dpn_nts_rng *r)
{
	uint8_t block[CHACHA_KEY_SIZE + sizeof(r->buf)];

	memset(block, 0, sizeof(block));
	chacha_crypt(&r->ctx, sizeof(block), block, block);
	chacha_set_key(&r->ctx, block);
	chacha_set_nonce(&r->ctx, zero_nonce);
	memcpy(r->buf, block + CHACHA_KEY_SIZE, sizeof(r->buf));
	explicit_bzero(block, sizeof(block));
	r->used = 0;
}

void
dpn_nts_rng_bytes(struct dpn_nts_rng *r, void *out, size_t len)
{
	uint8_t *o = out;

	while (len > 0) {
		size_t n;

		if (r->used == sizeof(r->buf))
			rng_refill(r);
		n = sizeof(r->buf) - r->used;
		if (n > len)
			n = len;
		memcpy(o, r->buf + r->used, n);
		/* What was handed out is not kept. */
		memset(r->buf + r->used, 0, n);
		r->used += (unsigned int)n;
		o += n;
		len -= n;
	}
}

/*
 * Server keys.
 */

static void
key_set(struct dpn_nts_server_key *k, uint32_t id, const uint8_t *key)
{
	k->id = id;
	memcpy(k->key, key, DPN_NTS_KEY_LEN);
	dpn_siv_key_set(&k->siv, k->key);
}

static void
key_generate(struct dpn_nts_keyring *kr, struct dpn_nts_rng *rng,
	     unsigned int slot)
{
	uint8_t key[DPN_NTS_KEY_LEN];
	uint32_t id;

	dpn_nts_rng_bytes(rng, key, sizeof(key));
	do {
		dpn_nts_rng_bytes(rng, &id, sizeof(id));
		/* The slot in the low bits, as chrony finds keys. */
		id = (id & ~(uint32_t)(DPN_NTS_SERVER_KEYS - 1)) | slot;
	} while (id == slot);	/* 0 would read as an empty slot */
	key_set(&kr->k[slot], id, key);
	explicit_bzero(key, sizeof(key));
}

void
dpn_nts_keyring_generate(struct dpn_nts_keyring *kr, struct dpn_nts_rng *rng)
{
	unsigned int i;

	for (i = 0; i < DPN_NTS_SERVER_KEYS; i++)
		key_generate(kr, rng, i);
	kr->current = DPN_NTS_SERVER_KEYS - 1;
}

void
dpn_nts_keyring_rotate(struct dpn_nts_keyring *kr, struct dpn_nts_rng *rng)
{
	kr->current = (kr->current + 1) % DPN_NTS_SERVER_KEYS;
	key_generate(kr, rng, (kr->current + 1) % DPN_NTS_SERVER_KEYS);
}

static int
hex_to_bytes(const char *s, uint8_t *out, size_t len)
{
	size_t i;

	if (strlen(s) != 2 * len)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
		    strspn(s + 2 * i, "0123456789abcdefABCDEF") < 2)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

int
dpn_nts_keyring_load(struct dpn_nts_keyring *kr, double *age,
		     const char *path, char *err, size_t errlen)
{
	struct dpn_nts_keyring n;
	char line[256], w[3][160];
	unsigned int i, lineno = 2, last = 0;
	bool v1;
	int alg = 0, ret = -1;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return dpn_err(err, errlen, "%s: %s", path, strerror(errno));
	memset(&n, 0, sizeof(n));
	if (fgets(line, sizeof(line), f) == NULL ||
	    (strcmp(line, "NKS0\n") != 0 && strcmp(line, "NKS1\n") != 0)) {
		dpn_err(err, errlen, "%s:1: not an NTS key file (NKS0 or NKS1)",
		     path);
		goto out;
	}
	v1 = strcmp(line, "NKS1\n") == 0;
	if (fgets(line, sizeof(line), f) == NULL ||
	    (v1 ? sscanf(line, "%lf", age) != 1 :
	     sscanf(line, "%d %lf", &alg, age) != 2)) {
		dpn_err(err, errlen, "%s:2: expected %s", path,
		     v1 ? "the key's age" : "the algorithm and the key's age");
		goto out;
	}
	for (i = 0; i < DPN_NTS_SERVER_KEYS; i++) {
		uint8_t key[DPN_NTS_KEY_LEN];
		uint32_t id;
		int nw;

		lineno++;
		if (fgets(line, sizeof(line), f) == NULL) {
			dpn_err(err, errlen, "%s:%u: expected %d keys", path,
			     lineno, DPN_NTS_SERVER_KEYS);
			goto out;
		}
		nw = sscanf(line, "%159s %159s %159s", w[0], w[1], w[2]);
		if (nw != (v1 ? 3 : 2) ||
		    sscanf(w[0], "%" SCNx32, &id) != 1 ||
		    (v1 && sscanf(w[2], "%d", &alg) != 1)) {
			dpn_err(err, errlen, "%s:%u: expected 'ID KEY%s'", path,
			     lineno, v1 ? " ALGORITHM" : "");
			goto out;
		}
		if (alg != DPN_NTS_AEAD_AES_SIV_CMAC_256) {
			dpn_err(err, errlen, "%s:%u: algorithm %d is not AEAD_AES_SIV_CMAC_256 (15)",
			     path, lineno, alg);
			goto out;
		}
		if (hex_to_bytes(w[1], key, sizeof(key)) != 0) {
			dpn_err(err, errlen, "%s:%u: a key is %d hex digits",
			     path, lineno, 2 * DPN_NTS_KEY_LEN);
			goto out;
		}
		/* Oldest first; each ID's slot follows the last one's. */
		if (i > 0 && (id - last) % DPN_NTS_SERVER_KEYS != 1) {
			explicit_bzero(key, sizeof(key));
			dpn_err(err, errlen, "%s:%u: key %08" PRIX32 " does not follow %08" PRIX32,
			     path, lineno, id, last);
			goto out;
		}
		key_set(&n.k[id % DPN_NTS_SERVER_KEYS], id, key);
		explicit_bzero(key, sizeof(key));
		last = id;
	}
	/* The last key is the next one; the one before it is current. */
	n.current = (last + DPN_NTS_SERVER_KEYS - 1) % DPN_NTS_SERVER_KEYS;
	*kr = n;
	ret = 0;
out:
	explicit_bzero(&n, sizeof(n));
	explicit_bzero(line, sizeof(line));
	explicit_bzero(w, sizeof(w));
	fclose(f);
	return ret;
}

int
dpn_nts_keyring_save(const struct dpn_nts_keyring *kr, double age,
		     const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	unsigned int i, j;
	int fd, ok;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return dpn_err(err, errlen, "%s: name too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || (f = fdopen(fd, "w")) == NULL) {
		dpn_err(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ok = fprintf(f, "NKS0\n%d %.1f\n", DPN_NTS_AEAD_AES_SIV_CMAC_256,
		     age) > 0;
	/* From the oldest (two after current) to the next (one after). */
	for (i = 0; i < DPN_NTS_SERVER_KEYS; i++) {
		const struct dpn_nts_server_key *k =
			&kr->k[(kr->current + i + 2) % DPN_NTS_SERVER_KEYS];

		ok &= fprintf(f, "%08" PRIX32 " ", k->id) > 0;
		for (j = 0; j < DPN_NTS_KEY_LEN; j++)
			ok &= fprintf(f, "%02X", k->key[j]) > 0;
		ok &= fputc('\n', f) != EOF;
	}
	ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0 || !ok) {
		unlink(tmp);
		return dpn_err(err, errlen, "%s: write failed", tmp);
	}
	if (rename(tmp, path) != 0) {
		dpn_err(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * Cookies.
 */

/* Lay out a cookie sealed with the current key: its ID and a fresh
 * nonce now, the rest by the job (C2S || S2C at @p keys). */
static void
cookie_job(const struct dpn_nts_keyring *kr, struct dpn_nts_rng *rng,
	   const uint8_t *keys, uint8_t *out, struct dpn_siv_job *job)
{
	const struct dpn_nts_server_key *k = &kr->k[kr->current];

	out[0] = (uint8_t)(k->id >> 24);
	out[1] = (uint8_t)(k->id >> 16);
	out[2] = (uint8_t)(k->id >> 8);
	out[3] = (uint8_t)k->id;
	dpn_nts_rng_bytes(rng, out + 4, DPN_NTS_NONCE_LEN);
	memset(job, 0, sizeof(*job));
	job->key = &k->siv;
	job->ad = out;		/* none: chrony's cookies have no AD */
	job->nonce = out + 4;
	job->nonce_len = DPN_NTS_NONCE_LEN;
	job->sealed = out + 4 + DPN_NTS_NONCE_LEN;
	job->plain = (uint8_t *)(uintptr_t)keys;	/* read: encrypt */
	job->len = 2 * DPN_NTS_KEY_LEN;
}

void
dpn_nts_cookie_seal(const struct dpn_nts_keyring *kr, struct dpn_nts_rng *rng,
		    const uint8_t *c2s, const uint8_t *s2c, uint8_t *out)
{
	uint8_t keys[2 * DPN_NTS_KEY_LEN];
	struct dpn_siv_job job;

	memcpy(keys, c2s, DPN_NTS_KEY_LEN);
	memcpy(keys + DPN_NTS_KEY_LEN, s2c, DPN_NTS_KEY_LEN);
	cookie_job(kr, rng, keys, out, &job);
	dpn_siv_run(&job, 1);
	explicit_bzero(keys, sizeof(keys));
}

/* A job that opens @p cookie into @p keys, or false (not one of ours). */
static bool
open_job(const struct dpn_nts_keyring *kr, const uint8_t *cookie,
	 size_t len, uint8_t *keys, struct dpn_siv_job *job)
{
	const struct dpn_nts_server_key *k;
	uint32_t id;

	if (len != DPN_NTS_COOKIE_LEN)
		return false;
	id = (uint32_t)cookie[0] << 24 | (uint32_t)cookie[1] << 16 |
		(uint32_t)cookie[2] << 8 | cookie[3];
	k = &kr->k[id % DPN_NTS_SERVER_KEYS];
	if (k->id != id || id == 0)
		return false;
	memset(job, 0, sizeof(*job));
	job->key = &k->siv;
	job->ad = cookie;
	job->nonce = cookie + 4;
	job->nonce_len = DPN_NTS_NONCE_LEN;
	job->sealed = (uint8_t *)(uintptr_t)(cookie + 4 + DPN_NTS_NONCE_LEN);
	job->plain = keys;
	job->len = 2 * DPN_NTS_KEY_LEN;
	job->decrypt = true;
	return true;
}

int
dpn_nts_cookie_open(const struct dpn_nts_keyring *kr, const uint8_t *cookie,
		    size_t len, uint8_t *c2s, uint8_t *s2c)
{
	uint8_t keys[2 * DPN_NTS_KEY_LEN];
	struct dpn_siv_job job;

	if (!open_job(kr, cookie, len, keys, &job))
		return -1;
	dpn_siv_run(&job, 1);
	if (job.ok) {
		memcpy(c2s, keys, DPN_NTS_KEY_LEN);
		memcpy(s2c, keys + DPN_NTS_KEY_LEN, DPN_NTS_KEY_LEN);
	}
	explicit_bzero(keys, sizeof(keys));
	return job.ok ? 0 : -1;
}

/*
 * Requests and replies.
 */

enum dpn_nts_kind
dpn_nts_parse(const uint8_t *pkt, size_t len, struct dpn_nts_request *r)
{
	unsigned int off = HDR_LEN, nb_uid = 0, nb_cookie = 0, nb_auth = 0;
	unsigned int ph_len = 0;
	bool uid_bad = false;

	memset(r, 0, sizeof(*r));
	if (len < HDR_LEN || len > UINT16_MAX)
		return DPN_NTS_NONE;
	while (off < len) {
		unsigned int type, flen, rem = (unsigned int)(len - off);

		if (nb_auth != 0)
			/* Nothing may follow the authenticator. */
			return DPN_NTS_MALFORMED;
		/* A MAC after the fields (RFC 7822 7.5): not NTS. */
		if (rem == 4 + 16 || rem == 4 + 20)
			break;
		/* Fields that cannot be walked: RFC 7822 has such a packet
		 * dropped, NTS or not. */
		flen = rem < EF_MIN ? 0 : get16(pkt + off + 2);
		if (flen < EF_MIN || flen % 4 != 0 || flen > rem)
			return DPN_NTS_MALFORMED;
		type = get16(pkt + off);
		switch (type) {
		case DPN_NTS_EF_UID:
			/* Wrong only in an NTS request: alone it is ignored. */
			uid_bad |= nb_uid++ != 0 ||
				flen - EF_HDR < DPN_NTS_UID_MIN ||
				flen > DPN_NTS_UID_MAX + EF_HDR;
			r->uid_off = (uint16_t)off;
			r->uid_len = (uint16_t)flen;
			break;
		case DPN_NTS_EF_COOKIE:
			if (nb_cookie++ != 0)
				return DPN_NTS_MALFORMED;
			r->cookie_off = (uint16_t)(off + EF_HDR);
			r->cookie_len = (uint16_t)(flen - EF_HDR);
			break;
		case DPN_NTS_EF_PLACEHOLDER:
			/* All as long as the cookie: checked at the end. */
			if (++r->nb_placeholders >= DPN_NTS_MAX_COOKIES ||
			    (ph_len != 0 && flen - EF_HDR != ph_len))
				return DPN_NTS_MALFORMED;
			ph_len = flen - EF_HDR;
			break;
		case DPN_NTS_EF_AUTH: {
			unsigned int nl, cl;

			nb_auth++;
			nl = get16(pkt + off + 4);
			cl = get16(pkt + off + 6);
			if (nl == 0 || cl < DPN_NTS_TAG_LEN ||
			    cl - DPN_NTS_TAG_LEN > DPN_NTS_INNER_MAX ||
			    AUTH_HDR + pad4(nl) + pad4(cl) > flen)
				return DPN_NTS_MALFORMED;
			r->auth_off = (uint16_t)off;
			r->nonce_off = (uint16_t)(off + AUTH_HDR);
			r->nonce_len = (uint16_t)nl;
			r->ct_off = (uint16_t)(off + AUTH_HDR + pad4(nl));
			r->ct_len = (uint16_t)cl;
			break;
		}
		default:
			/* Not ours: ignored, but authenticated with the rest. */
			break;
		}
		off += flen;
	}
	if (nb_cookie == 0 && nb_auth == 0 && r->nb_placeholders == 0)
		return DPN_NTS_NONE;
	if (uid_bad || nb_uid != 1 || nb_cookie != 1 || nb_auth != 1 ||
	    off != len ||
	    (ph_len != 0 && ph_len != r->cookie_len))
		return DPN_NTS_MALFORMED;
	return DPN_NTS_REQUEST;
}

/*
 * The requests of a burst go through the SIV lanes together, a chunk at
 * a time: their cookies opened side by side, then their authenticators
 * checked side by side under each one's C2S.
 */
static void
verify_chunk(const struct dpn_nts_keyring *kr, struct dpn_nts_check *c,
	     unsigned int n)
{
	/* Encrypted fields in a request are read and ignored: none is
	 * defined for requests; each job has its own place to put them. */
	static __thread uint8_t inner[DPN_SIV_BATCH][DPN_NTS_INNER_MAX];
	struct dpn_siv_job job[DPN_SIV_BATCH];
	struct dpn_siv_key c2s[DPN_SIV_BATCH], *kp[DPN_SIV_BATCH];
	const uint8_t *raw[DPN_SIV_BATCH];
	unsigned int i, nj = 0, idx[DPN_SIV_BATCH];

	for (i = 0; i < n; i++) {
		c[i].ok = open_job(kr, c[i].pkt + c[i].r.cookie_off,
				   c[i].r.cookie_len, c[i].keys, &job[nj]);
		if (c[i].ok)
			idx[nj++] = i;
	}
	dpn_siv_run(job, nj);
	n = nj;
	for (i = nj = 0; i < n; i++) {
		struct dpn_nts_check *ci = &c[idx[i]];

		ci->ok = job[i].ok;
		if (ci->ok)
			idx[nj++] = idx[i];
	}
	for (i = 0; i < nj; i++) {
		kp[i] = &c2s[i];
		raw[i] = c[idx[i]].keys;
	}
	dpn_siv_keys_set(kp, raw, nj);
	for (i = 0; i < nj; i++) {
		struct dpn_nts_check *ci = &c[idx[i]];
		const struct dpn_nts_request *r = &ci->r;

		memset(&job[i], 0, sizeof(job[i]));
		job[i].key = &c2s[i];
		job[i].ad = ci->pkt;
		job[i].ad_len = r->auth_off;
		job[i].nonce = ci->pkt + r->nonce_off;
		job[i].nonce_len = r->nonce_len;
		job[i].sealed = ci->pkt + r->ct_off;
		job[i].plain = inner[i];
		job[i].len = r->ct_len - DPN_NTS_TAG_LEN;
		job[i].decrypt = true;
	}
	dpn_siv_run(job, nj);
	for (i = 0; i < nj; i++)
		c[idx[i]].ok = job[i].ok;
	for (i = 0; i < n; i++)
		if (!c[i].ok)
			explicit_bzero(c[i].keys, sizeof(c[i].keys));
	explicit_bzero(c2s, sizeof(*c2s) * nj);
}

void
dpn_nts_verify_burst(const struct dpn_nts_keyring *kr,
		     struct dpn_nts_check *c, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i += DPN_SIV_BATCH)
		verify_chunk(kr, c + i, n - i < DPN_SIV_BATCH ?
			     n - i : DPN_SIV_BATCH);
}

int
dpn_nts_verify(const struct dpn_nts_keyring *kr, const uint8_t *pkt,
	       const struct dpn_nts_request *r, uint8_t *c2s, uint8_t *s2c)
{
	struct dpn_nts_check c;

	c.pkt = (uint8_t *)(uintptr_t)pkt;	/* only read */
	c.r = *r;
	dpn_nts_verify_burst(kr, &c, 1);
	if (c.ok) {
		memcpy(c2s, c.keys, DPN_NTS_KEY_LEN);
		memcpy(s2c, c.keys + DPN_NTS_KEY_LEN, DPN_NTS_KEY_LEN);
	}
	explicit_bzero(c.keys, sizeof(c.keys));
	return c.ok ? 0 : -1;
}

/* Move the request's unique identifier to follow the header. */
static unsigned int
uid_first(uint8_t *pkt, const struct dpn_nts_request *r)
{
	memmove(pkt + HDR_LEN, pkt + r->uid_off, r->uid_len);
	return HDR_LEN + r->uid_len;
}

/*
 * Lay out one reply: header, UID, then the authenticator: its header,
 * nonce, tag, the new cookies' fields, padding to the request's length.
 * Fewer cookies if they would not fit (a request with a short nonce,
 * say). The cookies' jobs are added at @p job. @return how many.
 */
static unsigned int
prepare_one(const struct dpn_nts_keyring *kr, struct dpn_nts_rng *rng,
	    struct dpn_nts_check *c, struct dpn_siv_job *job)
{
	const struct dpn_nts_request *r = &c->r;
	unsigned int a, fixed, n = 1u + r->nb_placeholders, i;
	uint8_t *pkt = c->pkt, *pt;
	struct dpn_nts_pending *p = &c->p;

	a = HDR_LEN + r->uid_len;
	fixed = a + AUTH_HDR + DPN_NTS_NONCE_LEN + DPN_NTS_TAG_LEN;
	while (n > 0 && fixed + n * COOKIE_EF_LEN > c->len)
		n--;
	c->reply_len = n == 0 ? 0 : c->len;
	if (n == 0)
		return 0;
	uid_first(pkt, r);
	put16(pkt + a, DPN_NTS_EF_AUTH);
	put16(pkt + a + 2, (unsigned int)c->len - a);
	put16(pkt + a + 4, DPN_NTS_NONCE_LEN);
	put16(pkt + a + 6, DPN_NTS_TAG_LEN + n * COOKIE_EF_LEN);
	dpn_nts_rng_bytes(rng, pkt + a + AUTH_HDR, DPN_NTS_NONCE_LEN);
	pt = pkt + fixed;
	for (i = 0; i < n; i++, pt += COOKIE_EF_LEN) {
		put16(pt, DPN_NTS_EF_COOKIE);
		put16(pt + 2, COOKIE_EF_LEN);
		cookie_job(kr, rng, c->keys, pt + EF_HDR, &job[i]);
	}
	memset(pt, 0, c->len - (size_t)(pt - pkt));
	p->auth_off = (uint16_t)a;
	p->nonce_off = (uint16_t)(a + AUTH_HDR);
	p->ct_off = (uint16_t)(a + AUTH_HDR + DPN_NTS_NONCE_LEN);
	p->pt_len = (uint16_t)(n * COOKIE_EF_LEN);
	memcpy(p->s2c, c->keys + DPN_NTS_KEY_LEN, DPN_NTS_KEY_LEN);
	return n;
}

void
dpn_nts_prepare_burst(const struct dpn_nts_keyring *kr,
		      struct dpn_nts_rng *rng, struct dpn_nts_check *const *c,
		      unsigned int n)
{
	struct dpn_siv_job job[DPN_SIV_BATCH + DPN_NTS_MAX_COOKIES];
	unsigned int i, nj = 0;

	for (i = 0; i < n; i++) {
		nj += prepare_one(kr, rng, c[i], job + nj);
		if (nj >= DPN_SIV_BATCH) {
			dpn_siv_run(job, nj);
			nj = 0;
		}
	}
	dpn_siv_run(job, nj);
}

size_t
dpn_nts_prepare(const struct dpn_nts_keyring *kr, struct dpn_nts_rng *rng,
		uint8_t *pkt, size_t len, const struct dpn_nts_request *r,
		const uint8_t *c2s, const uint8_t *s2c,
		struct dpn_nts_pending *p)
{
	struct dpn_nts_check c, *cp = &c;
	size_t out;

	c.pkt = pkt;
	c.len = len;
	c.r = *r;
	memcpy(c.keys, c2s, DPN_NTS_KEY_LEN);
	memcpy(c.keys + DPN_NTS_KEY_LEN, s2c, DPN_NTS_KEY_LEN);
	dpn_nts_prepare_burst(kr, rng, &cp, 1);
	*p = c.p;
	out = c.reply_len;
	explicit_bzero(&c, sizeof(c));
	return out;
}

void
dpn_nts_seal_burst(uint8_t *const *pkt, const struct dpn_nts_pending *const *p,
		   unsigned int n)
{
	struct dpn_siv_job job[DPN_SIV_BATCH];
	struct dpn_siv_key s2c[DPN_SIV_BATCH], *kp[DPN_SIV_BATCH];
	const uint8_t *raw[DPN_SIV_BATCH];
	unsigned int base, i, k;

	for (base = 0; base < n; base += k) {
		k = n - base < DPN_SIV_BATCH ? n - base : DPN_SIV_BATCH;
		for (i = 0; i < k; i++) {
			kp[i] = &s2c[i];
			raw[i] = p[base + i]->s2c;
		}
		dpn_siv_keys_set(kp, raw, k);
		for (i = 0; i < k; i++) {
			const struct dpn_nts_pending *pi = p[base + i];
			uint8_t *b = pkt[base + i];

			memset(&job[i], 0, sizeof(job[i]));
			job[i].key = &s2c[i];
			job[i].ad = b;
			job[i].ad_len = pi->auth_off;
			job[i].nonce = b + pi->nonce_off;
			job[i].nonce_len = DPN_NTS_NONCE_LEN;
			job[i].sealed = b + pi->ct_off;
			job[i].plain = b + pi->ct_off + DPN_NTS_TAG_LEN;
			job[i].len = pi->pt_len;
		}
		dpn_siv_run(job, k);
		explicit_bzero(s2c, sizeof(*s2c) * k);
	}
}

void
dpn_nts_seal(uint8_t *pkt, const struct dpn_nts_pending *p)
{
	dpn_nts_seal_burst(&pkt, &p, 1);
}

size_t
dpn_nts_nak(uint8_t *pkt, const struct dpn_nts_request *r)
{
	return uid_first(pkt, r);
}
