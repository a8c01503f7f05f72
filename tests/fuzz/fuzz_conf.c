/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_conf: the files dpntpd reads at start and on reload. The input is
 * up to four parts separated by NUL bytes:
 *   1. dpntpd.conf (lib/conf, restrict lines through lib/acl); the word
 *      @KEYS@ in it names the file of part 2
 *   2. an ntpd keys file (lib/ntpauth)
 *   3. a leap-seconds.list (lib/leap)
 *   4. chrony's NTS server key file, ntskeys (lib/nts)
 * Parts 2 to 4 are written to files in a private directory, as the
 * parsers read files; part 1 is parsed both from memory and from a file.
 *
 * Host names in restrict lines are resolved by the getaddrinfo() below,
 * so that the parse neither waits on DNS nor depends on the machine:
 * "localhost" and "ntp.example" resolve, nothing else does. Configs
 * that name something under /dev, /proc or /sys are skipped: a keys
 * line naming /dev/zero or a terminal would be read for ever.
 *
 * Invariants: a failed parse says "name:line: why" and keeps nothing
 * (LeakSanitizer); memory and file parse alike; what `show config`
 * writes of a config parses back to a config written the same; a keys
 * file loads only if each line is "KEYID TYPE KEY" (or blank), and its
 * keys are within their limits, distinct, and sign what they verify; a
 * leap list's entries go up one second at a time and the queries agree
 * with them; an NTS key file's keys follow each other
 * and the current one seals cookies that it opens.
 */

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <nettle/chacha.h>

#include "dpn_conf.h"
#include "dpn_leap.h"
#include "dpn_ntp.h"
#include "dpn_ntpauth.h"
#include "dpn_nts.h"
#include "fuzz.h"

#define NB_PARTS 4
#define TEXT_MAX (64 * 1024)

static char dir[64], conf_path[96], keys_path[96], leap_path[96];
static char ntskeys_path[96];

/*
 * The resolver restrict lines use, replaced (a definition here takes
 * precedence over libc's, and over the sanitizers' interceptors).
 */
int
getaddrinfo(const char *node, const char *service,
	    const struct addrinfo *hints, struct addrinfo **res)
{
	static const char *const names[] = { "localhost", "ntp.example" };
	static const char *const v4[] = { "127.0.0.1", "192.0.2.7" };
	static const char *const v6[] = { "::1", "2001:db8::7" };
	struct addrinfo *head = NULL, **tail = &head;
	unsigned int i, f;

	(void)service;
	for (i = 0; i < 2 && strcmp(node, names[i]) != 0; i++)
		;
	if (i == 2)
		return EAI_NONAME;
	for (f = 0; f < 2; f++) {
		int fam = f == 0 ? AF_INET : AF_INET6;
		struct {
			struct addrinfo ai;
			struct sockaddr_in6 sa;
		} *e;

		if (hints != NULL && hints->ai_family != AF_UNSPEC &&
		    hints->ai_family != fam)
			continue;
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			abort();
		e->ai.ai_family = fam;
		e->ai.ai_socktype = SOCK_DGRAM;
		e->ai.ai_addr = (struct sockaddr *)&e->sa;
		if (fam == AF_INET) {
			struct sockaddr_in *s4 = (void *)&e->sa;

			s4->sin_family = AF_INET;
			inet_pton(AF_INET, v4[i], &s4->sin_addr);
			e->ai.ai_addrlen = sizeof(*s4);
		} else {
			e->sa.sin6_family = AF_INET6;
			inet_pton(AF_INET6, v6[i], &e->sa.sin6_addr);
			e->ai.ai_addrlen = sizeof(e->sa);
		}
		*tail = &e->ai;
		tail = &e->ai.ai_next;
	}
	*res = head;
	return head == NULL ? EAI_NONAME : 0;
}

void
freeaddrinfo(struct addrinfo *ai)
{
	while (ai != NULL) {
		struct addrinfo *next = ai->ai_next;

		free(ai);
		ai = next;
	}
}

static void
cleanup(void)
{
	unlink(conf_path);
	unlink(keys_path);
	unlink(leap_path);
	unlink(ntskeys_path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/dpn_fuzz_conf.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("fuzz_conf: mkdtemp");
		abort();
	}
	snprintf(conf_path, sizeof(conf_path), "%s/dpntpd.conf", dir);
	snprintf(keys_path, sizeof(keys_path), "%s/keys", dir);
	snprintf(leap_path, sizeof(leap_path), "%s/leap-seconds.list", dir);
	snprintf(ntskeys_path, sizeof(ntskeys_path), "%s/ntskeys", dir);
	atexit(cleanup);
	return 0;
}

static void
put_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

/* @p conf written out, in a malloc'ed string. */
static char *
format(const struct dpn_conf *conf)
{
	int n = dpn_conf_format(conf, NULL, 0);
	char *buf;

	FUZZ_CHECK(n >= 0, "dpn_conf_format: %d", n);
	buf = malloc((size_t)n + 1);
	if (buf == NULL)
		abort();
	FUZZ_CHECK(dpn_conf_format(conf, buf, (size_t)n + 1) == n,
		   "dpn_conf_format's two counts differ");
	FUZZ_CHECK(strlen(buf) == (size_t)n, "formatted text cut short");
	return buf;
}

static void
check_err(const char *err, const char *name)
{
	size_t n = strlen(name);

	FUZZ_CHECK(strncmp(err, name, n) == 0 && err[n] == ':' &&
		   strlen(err) > n + 2, "error message '%s'", err);
}

static void
fuzz_config(const char *text)
{
	struct dpn_conf *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char err[DPN_CONF_ERRLEN], err2[DPN_CONF_ERRLEN];
	const char *m1, *m2;
	char *t1, *t2;
	int ra, rb;

	if (a == NULL || b == NULL)
		abort();
	err[0] = err2[0] = '\0';
	ra = dpn_conf_parse_string(a, "fuzz.conf", text, err, sizeof(err));
	put_file(conf_path, text, strlen(text));
	rb = dpn_conf_parse_file(b, conf_path, err2, sizeof(err2));
	FUZZ_CHECK(ra == 0 || ra == -1, "parse returned %d", ra);
	FUZZ_CHECK(ra == rb, "from memory %d (%s), from a file %d (%s)", ra,
		   err, rb, err2);
	if (ra != 0) {
		check_err(err, "fuzz.conf");
		check_err(err2, conf_path);
		/* The same but for the name, as far as both fit (a long
		 * line quoted in a message is cut at DPN_CONF_ERRLEN). */
		m1 = strchr(err, ':');
		m2 = strchr(err2, ':');
		FUZZ_CHECK(strncmp(m1, m2, strlen(m1) < strlen(m2) ?
				   strlen(m1) : strlen(m2)) == 0,
			   "'%s' from memory, '%s' from a file", err, err2);
		goto out;
	}
	t1 = format(a);
	t2 = format(b);
	FUZZ_CHECK(strcmp(t1, t2) == 0, "memory and file parses differ:\n"
		   "%s---\n%s", t1, t2);
	free(t2);
	/* What `show config` writes parses back to itself. */
	dpn_conf_free(b);
	rb = dpn_conf_parse_string(b, "formatted", t1, err2, sizeof(err2));
	FUZZ_CHECK(rb == 0, "show config's text does not parse: %s\n%s",
		   err2, t1);
	t2 = format(b);
	FUZZ_CHECK(strcmp(t1, t2) == 0,
		   "show config's text parses to another config:\n%s---\n%s",
		   t1, t2);
	FUZZ_CHECK(a->acl.nb == b->acl.nb && a->nb_listen == b->nb_listen &&
		   a->nb_servers == b->nb_servers &&
		   a->nb_refclocks == b->nb_refclocks,
		   "show config's text lost lines");
	free(t1);
	free(t2);
	dpn_conf_free(a);
	dpn_conf_free(b);
out:
	free(a);
	free(b);
}

/*
 * Does a line of @p text (before its '#') have other than 0 or 3 words,
 * or more than the 510 characters the reader takes? Such a file is not
 * "KEYID TYPE KEY" per line.
 */
static int
keys_malformed(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	int bad = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *stop = eol != NULL ? eol : end, *q;
		unsigned int words = 0;
		bool in = false;

		if (stop - p >= 511)
			return 1;
		for (q = p; q < stop && *q != '#'; q++) {
			bool blank = *q == ' ' || *q == '\t' || *q == '\r';

			if (!blank && !in)
				words++;
			in = !blank;
		}
		if (words != 0 && words != 3)
			bad = 1;
		p = stop + 1;
	}
	return bad;
}

static void
fuzz_keys(const char *text, size_t len)
{
	struct dpn_ntpauth_keys *k = calloc(1, sizeof(*k));
	char err[256];
	unsigned int i, j;

	if (k == NULL)
		abort();
	if (dpn_ntpauth_load(keys_path, k, err, sizeof(err)) != 0) {
		check_err(err, keys_path);
		free(k);
		return;
	}
	FUZZ_CHECK(!keys_malformed(text, len),
		   "a keys file with a line of other than three words, or "
		   "too long, loaded");
	FUZZ_CHECK(k->nb <= DPN_NTPAUTH_MAX_KEYS, "%u keys", k->nb);
	for (i = 0; i < k->nb; i++) {
		const struct dpn_ntpauth_key *key = &k->k[i];
		uint8_t pkt[DPN_NTP_HDR_LEN + 4 + DPN_NTPAUTH_MAC_MAX];
		unsigned int n;

		FUZZ_CHECK(key->id >= 1 && key->id <= DPN_NTPAUTH_ID_MAX &&
			   key->len >= 1 && key->len <= DPN_NTPAUTH_KEY_MAX &&
			   (key->type != DPN_NTPAUTH_AES128CMAC ||
			    key->len == DPN_NTPAUTH_CMAC_KEY_LEN),
			   "key %u: type %d, %u bytes", key->id, key->type,
			   key->len);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(k->k[j].id != key->id, "key %u twice",
				   key->id);
		FUZZ_CHECK(dpn_ntpauth_find(k, key->id) == key, "find %u",
			   key->id);
		memset(pkt, (int)i, DPN_NTP_HDR_LEN);
		n = dpn_ntpauth_sign(key, pkt, DPN_NTP_HDR_LEN);
		FUZZ_CHECK(n == 4 + dpn_ntpauth_mac_len(key) &&
			   dpn_ntpauth_verify(key, pkt, DPN_NTP_HDR_LEN + n),
			   "key %u: its own MAC does not verify", key->id);
	}
	free(k);
}

static void
fuzz_leap(void)
{
	struct dpn_leap_table t;
	char err[512];
	unsigned int i;

	if (dpn_leap_load(leap_path, &t, err, sizeof(err)) != 0) {
		check_err(err, leap_path);
		return;
	}
	FUZZ_CHECK(t.nb >= 1 && t.nb <= DPN_LEAP_MAX, "%u entries", t.nb);
	for (i = 0; i < t.nb; i++) {
		int64_t when = 0;
		int dir;

		if (i > 0)
			FUZZ_CHECK(t.e[i].unix_s > t.e[i - 1].unix_s &&
				   (t.e[i].tai_offset - t.e[i - 1].tai_offset ==
				    1 || t.e[i].tai_offset -
				    t.e[i - 1].tai_offset == -1),
				   "entry %u does not follow", i);
		FUZZ_CHECK(dpn_leap_tai_offset(&t, t.e[i].unix_s) ==
			   t.e[i].tai_offset, "offset at entry %u", i);
		if (i == 0)
			continue;
		FUZZ_CHECK(dpn_leap_tai_offset(&t, t.e[i].unix_s - 1) ==
			   t.e[i - 1].tai_offset, "offset before entry %u", i);
		dir = dpn_leap_next(&t, t.e[i].unix_s - 1, &when);
		FUZZ_CHECK(when == t.e[i].unix_s &&
			   dir == t.e[i].tai_offset - t.e[i - 1].tai_offset,
			   "next leap before entry %u", i);
	}
	FUZZ_CHECK(dpn_leap_expired(&t, t.expires_unix) &&
		   (t.expires_unix == INT64_MIN ||
		    !dpn_leap_expired(&t, t.expires_unix - 1)), "expiry");
}

static void
fuzz_ntskeys(void)
{
	struct dpn_nts_keyring kr;
	struct dpn_nts_rng rng;
	uint8_t key[CHACHA_KEY_SIZE] = { 7 }, nonce[CHACHA_NONCE_SIZE] = { 0 };
	uint8_t cookie[DPN_NTS_COOKIE_LEN], c2s[32] = { 1 }, s2c[32] = { 2 };
	uint8_t o1[32], o2[32];
	char err[256];
	double age;
	unsigned int i;

	if (dpn_nts_keyring_load(&kr, &age, ntskeys_path, err,
				 sizeof(err)) != 0) {
		check_err(err, ntskeys_path);
		return;
	}
	FUZZ_CHECK(kr.current < DPN_NTS_SERVER_KEYS, "current %u",
		   kr.current);
	for (i = 0; i < DPN_NTS_SERVER_KEYS; i++)
		FUZZ_CHECK(kr.k[i].id % DPN_NTS_SERVER_KEYS == i,
			   "key %08x in slot %u", kr.k[i].id, i);
	chacha_set_key(&rng.ctx, key);
	chacha_set_nonce(&rng.ctx, nonce);
	rng.used = sizeof(rng.buf);
	dpn_nts_cookie_seal(&kr, &rng, c2s, s2c, cookie);
	/* A key ID of 0 reads as an empty slot: such a key opens nothing. */
	FUZZ_CHECK((dpn_nts_cookie_open(&kr, cookie, sizeof(cookie), o1,
					o2) == 0) == (kr.k[kr.current].id != 0),
		   "a cookie of the current key (%08x)", kr.k[kr.current].id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *part[NB_PARTS] = { "", "", "", "" };
	size_t plen[NB_PARTS] = { 0, 0, 0, 0 };
	char *copy, *conf, *at;
	size_t i, start = 0, np = 0;

	if (size > TEXT_MAX)
		return 0;
	copy = malloc(size + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (i = 0; i <= size && np < NB_PARTS; i++) {
		if (i == size || copy[i] == '\0') {
			part[np] = copy + start;
			plen[np++] = i - start;
			start = i + 1;
		}
	}
	put_file(keys_path, part[1], plen[1]);
	put_file(leap_path, part[2], plen[2]);
	put_file(ntskeys_path, part[3], plen[3]);
	fuzz_keys(part[1], plen[1]);
	fuzz_leap();
	fuzz_ntskeys();

	if (strstr(part[0], "/dev") != NULL ||
	    strstr(part[0], "/proc") != NULL ||
	    strstr(part[0], "/sys") != NULL) {
		free(copy);
		return 0;
	}
	/* @KEYS@ names part 2's file. */
	for (i = 0, at = strstr(part[0], "@KEYS@"); at != NULL;
	     at = strstr(at + 6, "@KEYS@"))
		i++;
	conf = malloc(plen[0] + i * strlen(keys_path) + 1);
	if (conf == NULL)
		abort();
	conf[0] = '\0';
	for (at = (char *)part[0]; ; ) {
		char *k = strstr(at, "@KEYS@");

		if (k == NULL) {
			strcat(conf, at);
			break;
		}
		strncat(conf, at, (size_t)(k - at));
		strcat(conf, keys_path);
		at = k + 6;
	}
	fuzz_config(conf);
	free(conf);
	free(copy);
	return 0;
}
