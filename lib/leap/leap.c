/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * leap-seconds.list: parse, verify the SHA-1 the file carries, answer
 * "when is the next leap second". Read once at start and on reload, on
 * the management side; nothing here runs per packet.
 */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dpn_err.h"
#include "dpn_leap.h"

#define NTP_UNIX_OFFSET 2208988800LL
#define LINE_MAX_LEN 512
/* The numbers the hash covers: two times plus two numbers per entry. */
#define HASHED_MAX ((DPN_LEAP_MAX + 1) * 2 * 21)

/* A decimal number made only of digits; its text is appended to @p h. */
static int
take_number(const char *s, int64_t *out, char *h, size_t *hlen)
{
	size_t n = strlen(s);
	char *end;

	if (n == 0 || n > 18 || strspn(s, "0123456789") != n ||
	    *hlen + n >= HASHED_MAX)
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	memcpy(h + *hlen, s, n);
	*hlen += n;
	return 0;
}

/* The `#h` line: five hex words, leading zeros possibly left out. */
static int
parse_hash(char *s, uint8_t want[20])
{
	char *w, *save = NULL;
	unsigned int i = 0, j;

	for (w = strtok_r(s, " \t\r\n", &save); w != NULL;
	     w = strtok_r(NULL, " \t\r\n", &save)) {
		unsigned long v;
		char *end;

		if (i == 5 || strlen(w) > 8 ||
		    strspn(w, "0123456789abcdefABCDEF") != strlen(w))
			return -1;
		v = strtoul(w, &end, 16);
		for (j = 0; j < 4; j++)
			want[i * 4 + j] = (uint8_t)(v >> (24 - 8 * j));
		i++;
	}
	return i == 5 ? 0 : -1;
}

static int
sha1(const char *data, size_t len, uint8_t out[20])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha1(), NULL) == 1 &&
		n == 20 ? 0 : -1;
}

int
dpn_leap_load(const char *path, struct dpn_leap_table *t, char *err,
	      size_t errlen)
{
	struct dpn_leap_table n;
	char line[LINE_MAX_LEN], times[2][20], *hashed = NULL;
	size_t hlen = 0, tlen[2] = { 0, 0 };
	uint8_t want[20], got[20];
	bool have_hash = false;
	unsigned int lineno = 0;
	int64_t v;
	FILE *f;
	int ret = -1;

	memset(&n, 0, sizeof(n));
	f = fopen(path, "r");
	if (f == NULL)
		return dpn_err(err, errlen, "%s: %s", path, strerror(errno));
	hashed = malloc(HASHED_MAX);
	if (hashed == NULL) {
		dpn_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *hash = strchr(line, '#'), *w[3], *save = NULL;
		unsigned int nw = 0;
		int64_t ntp, off;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			dpn_err(err, errlen, "%s:%u: line too long", path, lineno);
			goto out;
		}
		if (line[0] == '#' && (line[1] == '$' || line[1] == '@')) {
			int k = line[1] == '@';
			char *num = strtok_r(line + 2, " \t\r\n", &save);
			size_t l = num == NULL ? 0 : strlen(num);

			if (tlen[k] != 0) {
				dpn_err(err, errlen, "%s:%u: '#%c' appears twice",
				     path, lineno, line[1]);
				goto out;
			}
			if (l == 0 || l >= sizeof(times[k]) ||
			    take_number(num, &v, times[k], &tlen[k]) != 0 ||
			    tlen[k] != l) {
				dpn_err(err, errlen, "%s:%u: '#%c' needs one NTP time",
				     path, lineno, line[1]);
				goto out;
			}
			if (k)
				n.expires_unix = v - NTP_UNIX_OFFSET;
			else
				n.updated_unix = v - NTP_UNIX_OFFSET;
			continue;
		}
		if (line[0] == '#' && line[1] == 'h') {
			if (parse_hash(line + 2, want) != 0) {
				dpn_err(err, errlen, "%s:%u: '#h' needs five hex words",
				     path, lineno);
				goto out;
			}
			have_hash = true;
			continue;
		}
		if (hash != NULL)
			*hash = '\0';
		for (w[nw] = strtok_r(line, " \t\r\n", &save); w[nw] != NULL;
		     w[nw] = strtok_r(NULL, " \t\r\n", &save))
			if (++nw == 3)
				break;
		if (nw == 0)
			continue;
		if (nw != 2 || take_number(w[0], &ntp, hashed, &hlen) != 0 ||
		    take_number(w[1], &off, hashed, &hlen) != 0) {
			dpn_err(err, errlen, "%s:%u: expected 'NTP-time TAI-offset'",
			     path, lineno);
			goto out;
		}
		if (n.nb == DPN_LEAP_MAX) {
			dpn_err(err, errlen, "%s:%u: more than %d entries", path,
			     lineno, DPN_LEAP_MAX);
			goto out;
		}
		/* Each entry is one leap second after the one before. */
		if (n.nb > 0 &&
		    (ntp - NTP_UNIX_OFFSET <= n.e[n.nb - 1].unix_s ||
		     (off - n.e[n.nb - 1].tai_offset != 1 &&
		      off - n.e[n.nb - 1].tai_offset != -1))) {
			dpn_err(err, errlen, "%s:%u: not one leap second after the entry before",
			     path, lineno);
			goto out;
		}
		n.e[n.nb].unix_s = ntp - NTP_UNIX_OFFSET;
		n.e[n.nb].tai_offset = (int)off;
		n.nb++;
	}
	if (ferror(f)) {
		dpn_err(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (n.nb == 0 || tlen[0] == 0 || tlen[1] == 0 || !have_hash) {
		dpn_err(err, errlen, "%s: not a leap-seconds.list (needs entries, '#$', '#@' and '#h')",
		     path);
		goto out;
	}
	/* The hash covers the update time, the expiry, then the entries. */
	memmove(hashed + tlen[0] + tlen[1], hashed, hlen);
	memcpy(hashed, times[0], tlen[0]);
	memcpy(hashed + tlen[0], times[1], tlen[1]);
	if (sha1(hashed, hlen + tlen[0] + tlen[1], got) != 0) {
		dpn_err(err, errlen, "%s: cannot compute SHA-1", path);
		goto out;
	}
	if (memcmp(got, want, sizeof(got)) != 0) {
		dpn_err(err, errlen, "%s: the SHA-1 in '#h' does not match the contents (damaged or edited file)",
		     path);
		goto out;
	}
	*t = n;
	ret = 0;
out:
	free(hashed);
	fclose(f);
	return ret;
}

bool
dpn_leap_expired(const struct dpn_leap_table *t, int64_t now)
{
	return now >= t->expires_unix;
}

int
dpn_leap_tai_offset(const struct dpn_leap_table *t, int64_t unix_s)
{
	unsigned int i;
	int off = t->nb > 0 ? t->e[0].tai_offset : 0;

	for (i = 0; i < t->nb && t->e[i].unix_s <= unix_s; i++)
		off = t->e[i].tai_offset;
	return off;
}

int
dpn_leap_next(const struct dpn_leap_table *t, int64_t now, int64_t *when)
{
	unsigned int i;

	/* The first entry only sets the offset in 1972; it is no leap. */
	for (i = 1; i < t->nb; i++)
		if (t->e[i].unix_s > now) {
			*when = t->e[i].unix_s;
			return t->e[i].tai_offset - t->e[i - 1].tai_offset;
		}
	return 0;
}

#define LEAP_NS 1000000000LL
#define DAY_NS (86400LL * LEAP_NS)

unsigned int
dpn_leap_indicator(int dir, int64_t when_ns, bool done, int64_t now_ns)
{
	if (dir == 0 || done || now_ns >= when_ns || now_ns < when_ns - DAY_NS)
		return 0;
	return dir > 0 ? 1 : 2;
}

int64_t
dpn_leap_smear(int dir, int64_t when_ns, bool done, int64_t window_ns,
	       int64_t true_ns, double *rate_scale)
{
	int64_t leapt = done ? dir * LEAP_NS : 0;
	int64_t u, start;
	double f;

	*rate_scale = 1.0;
	if (window_ns <= 0 || dir == 0)
		return 0;
	/* u counts the leap second: true time before it, true + dir after. */
	u = true_ns + leapt;
	start = when_ns - window_ns / 2;
	if (u <= start)
		return leapt;
	if (u >= start + window_ns) {
		f = 1.0;
	} else {
		f = (double)(u - start) / (double)window_ns;
		*rate_scale = 1.0 - (double)dir * (double)LEAP_NS /
			(double)window_ns;
	}
	return leapt - (int64_t)llround((double)dir * f * (double)LEAP_NS);
}
