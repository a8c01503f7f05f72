/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Directives of the upstream side: associations (server, pool, peer),
 * the discipline's thresholds (tinker), selection (tos) and the files
 * and modes around them (driftfile, leapfile, leapsmear, holdover).
 * Words and defaults are ntpd's, so an ntp.conf carries over.
 */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "conf_private.h"

#define POLL_MIN 3
#define POLL_MAX 17
#define MINPOLL_DEFAULT 6
#define MAXPOLL_DEFAULT 10
#define VERSION_DEFAULT 4
#define STEP_DEFAULT 0.128
#define PANIC_DEFAULT 1000.0
#define STEPOUT_DEFAULT 300.0
#define MINSANE_DEFAULT 1
#define MINCLOCK_DEFAULT 3
#define MAXDIST_DEFAULT 1.5
#define HOLDOVER_DEFAULT 3600
#define HOLDOVER_MAX (7 * 86400)
#define LEAPSMEAR_MAX 86400
/* ntpd refuses thresholds this large; they would only hide mistakes. */
#define SECONDS_MAX 1e6

void
dpn_conf_upstream_init(struct dpn_conf *conf)
{
	struct dpn_conf_discipline *d = &conf->disc;

	conf->nb_servers = 0;
	memset(d, 0, sizeof(*d));
	d->step_s = STEP_DEFAULT;
	d->panic_s = PANIC_DEFAULT;
	d->stepout_s = STEPOUT_DEFAULT;
	d->minsane = MINSANE_DEFAULT;
	d->minclock = MINCLOCK_DEFAULT;
	d->maxdist_s = MAXDIST_DEFAULT;
	d->holdover_s = HOLDOVER_DEFAULT;
}

/* A non-negative number of seconds, with a fraction if needed. */
int
conf_seconds(struct conf_parser *p, const char *directive, const char *what,
	     const char *word, double max, double *val)
{
	char *end;
	double v;

	if (word == NULL)
		return conf_err(p, "%s: missing value after '%s'", directive,
				what);
	errno = 0;
	v = strtod(word, &end);
	if (end == word || *end != '\0' || errno != 0 || !isfinite(v) ||
	    (word[0] < '0' || word[0] > '9'))
		return conf_err(p, "%s: %s '%s' is not a number of seconds",
				directive, what, word);
	if (v < 0 || v > max)
		return conf_err(p, "%s: %s must be 0..%g seconds, got '%s'",
				directive, what, max, word);
	*val = v;
	return 0;
}

/* Host names and address literals: what a resolver could be given. */
static bool
valid_host(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= DPN_CONF_HOST_MAX || s[0] == '-')
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == ':' || c == '_' || c == '%'))
			return false;
	}
	return true;
}

/* AF_INET or AF_INET6 for an address literal, 0 for a name. */
static int
literal_family(const char *host)
{
	unsigned char buf[16];

	if (inet_pton(AF_INET, host, buf) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, host, buf) == 1)
		return AF_INET6;
	return 0;
}

/* A key for a server must be in the keys file and trusted (ntpd). */
static int
check_key(struct conf_parser *p, const char *dir, uint32_t id)
{
	const struct dpn_conf *c = p->conf;
	unsigned int i;

	if (c->keys_path[0] == '\0')
		return conf_err(p, "%s: key %u: no 'keys' line before this one",
				dir, id);
	if (dpn_ntpauth_find(&c->keys, id) == NULL)
		return conf_err(p, "%s: key %u is not in %s", dir, id,
				c->keys_path);
	for (i = 0; i < c->nb_trusted; i++)
		if (c->trusted[i] == id)
			return 0;
	return conf_err(p, "%s: key %u is not in a 'trustedkey' line before this one",
			dir, id);
}

static int
server_poll(struct conf_parser *p, const char *dir, const char *what,
	    const char *value, int8_t *out)
{
	long v;

	if (value == NULL)
		return conf_err(p, "%s: missing value after '%s'", dir, what);
	if (conf_ranged(p, dir, what, value, POLL_MIN, POLL_MAX, &v) < 0)
		return -1;
	*out = (int8_t)v;
	return 0;
}

/*
 * server|pool [-4|-6] HOST [iburst] [burst] [prefer] [minpoll N]
 * [maxpoll N] [noselect] [true] [version N]
 */
int
dpn_conf_parse_server(struct conf_parser *p, char **words, int nb_words)
{
	struct dpn_conf *conf = p->conf;
	const char *dir = words[0];
	struct dpn_conf_server s;
	unsigned int i;
	int w = 1;
	long v;

	memset(&s, 0, sizeof(s));
	s.pool = strcmp(dir, "pool") == 0;
	s.minpoll = MINPOLL_DEFAULT;
	s.maxpoll = MAXPOLL_DEFAULT;
	s.version = VERSION_DEFAULT;
	s.line = p->line;
	if (w < nb_words && strcmp(words[w], "-4") == 0) {
		s.family = AF_INET;
		w++;
	} else if (w < nb_words && strcmp(words[w], "-6") == 0) {
		s.family = AF_INET6;
		w++;
	}
	if (w >= nb_words)
		return conf_err(p, "%s: missing host name or address", dir);
	if (!valid_host(words[w]))
		return conf_err(p, "%s: '%s' is not a host name or address",
				dir, words[w]);
	if (s.family != 0 && literal_family(words[w]) != 0 &&
	    literal_family(words[w]) != s.family)
		return conf_err(p, "%s: %s is an %s address, but the line says %s",
				dir, words[w],
				literal_family(words[w]) == AF_INET ? "IPv4" :
				"IPv6", s.family == AF_INET ? "-4" : "-6");
	strcpy(s.host, words[w++]);

	for (; w < nb_words; w++) {
		const char *key = words[w];
		const char *value = w + 1 < nb_words ? words[w + 1] : NULL;

		if (strcmp(key, "iburst") == 0) {
			s.flags |= DPN_CONF_SRV_IBURST;
		} else if (strcmp(key, "burst") == 0) {
			s.flags |= DPN_CONF_SRV_BURST;
		} else if (strcmp(key, "prefer") == 0) {
			s.flags |= DPN_CONF_SRV_PREFER;
		} else if (strcmp(key, "noselect") == 0) {
			s.flags |= DPN_CONF_SRV_NOSELECT;
		} else if (strcmp(key, "true") == 0) {
			s.flags |= DPN_CONF_SRV_TRUE;
		} else if (strcmp(key, "minpoll") == 0) {
			if (server_poll(p, dir, key, value, &s.minpoll) < 0)
				return -1;
			w++;
		} else if (strcmp(key, "maxpoll") == 0) {
			if (server_poll(p, dir, key, value, &s.maxpoll) < 0)
				return -1;
			w++;
		} else if (strcmp(key, "version") == 0) {
			if (value == NULL)
				return conf_err(p, "%s: missing value after 'version'",
						dir);
			if (conf_ranged(p, dir, "version", value, 1, 4, &v) < 0)
				return -1;
			s.version = (uint8_t)v;
			w++;
		} else if (strcmp(key, "key") == 0) {
			if (value == NULL)
				return conf_err(p, "%s: missing value after 'key'",
						dir);
			if (conf_ranged(p, dir, "key", value, 1,
					DPN_NTPAUTH_ID_MAX, &v) < 0)
				return -1;
			if (check_key(p, dir, (uint32_t)v) < 0)
				return -1;
			s.key = (uint32_t)v;
			w++;
		} else if (strcmp(key, "autokey") == 0) {
			return conf_err(p, "%s: 'autokey' is not supported (use 'key' with a symmetric key)",
					dir);
		} else {
			return conf_err(p, "%s: unexpected word '%s'", dir,
					key);
		}
	}
	if (s.minpoll > s.maxpoll)
		return conf_err(p, "%s: minpoll %d is above maxpoll %d", dir,
				s.minpoll, s.maxpoll);
	for (i = 0; i < conf->nb_servers; i++)
		if (strcmp(conf->servers[i].host, s.host) == 0)
			return conf_err(p, "%s: %s already configured on line %u",
					dir, s.host, conf->servers[i].line);
	if (conf->nb_servers == DPN_CONF_MAX_SERVERS)
		return conf_err(p, "%s: too many server and pool lines (at most %d)",
				dir, DPN_CONF_MAX_SERVERS);
	conf->servers[conf->nb_servers++] = s;
	return 0;
}

int
dpn_conf_parse_peer(struct conf_parser *p, char **words, int nb_words)
{
	(void)words;
	(void)nb_words;
	return conf_err(p,
			"peer: symmetric active associations are not supported (dpntpd only answers them); use 'server HOST'");
}

/* tinker [step S] [panic S] [stepout S] */
int
dpn_conf_parse_tinker(struct conf_parser *p, char **words, int nb_words)
{
	struct dpn_conf_discipline *d = &p->conf->disc;
	int i;

	if (nb_words < 2)
		return conf_err(p, "tinker: needs one of 'step', 'panic', 'stepout'");
	for (i = 1; i < nb_words; i += 2) {
		const char *key = words[i];
		const char *value = i + 1 < nb_words ? words[i + 1] : NULL;
		double *out;

		if (strcmp(key, "step") == 0)
			out = &d->step_s;
		else if (strcmp(key, "panic") == 0)
			out = &d->panic_s;
		else if (strcmp(key, "stepout") == 0)
			out = &d->stepout_s;
		else
			return conf_err(p,
					"tinker: unexpected word '%s' (supported: step, panic, stepout)",
					key);
		if (conf_seconds(p, "tinker", key, value, SECONDS_MAX,
				 out) < 0)
			return -1;
	}
	return 0;
}

/* tos [minsane N] [minclock N] [maxdist S] */
int
dpn_conf_parse_tos(struct conf_parser *p, char **words, int nb_words)
{
	struct dpn_conf_discipline *d = &p->conf->disc;
	long v;
	int i;

	if (nb_words < 2)
		return conf_err(p, "tos: needs one of 'minsane', 'minclock', 'maxdist'");
	for (i = 1; i < nb_words; i += 2) {
		const char *key = words[i];
		const char *value = i + 1 < nb_words ? words[i + 1] : NULL;

		if (strcmp(key, "maxdist") == 0) {
			if (conf_seconds(p, "tos", key, value, 16.0,
					 &d->maxdist_s) < 0)
				return -1;
			if (d->maxdist_s <= 0)
				return conf_err(p, "tos: maxdist must be above 0");
			continue;
		}
		if (strcmp(key, "minsane") != 0 && strcmp(key, "minclock") != 0)
			return conf_err(p,
					"tos: unexpected word '%s' (supported: minsane, minclock, maxdist)",
					key);
		if (value == NULL)
			return conf_err(p, "tos: missing value after '%s'",
					key);
		if (conf_ranged(p, "tos", key, value, 1, DPN_CONF_MAX_SERVERS,
				&v) < 0)
			return -1;
		if (key[3] == 's')
			d->minsane = v;
		else
			d->minclock = v;
	}
	return 0;
}

static int
parse_path(struct conf_parser *p, char **words, int nb_words, char *out)
{
	if (nb_words < 2)
		return conf_err(p, "%s: missing file name", words[0]);
	if (nb_words > 2)
		return conf_err(p, "%s: unexpected word '%s'", words[0],
				words[2]);
	if (strlen(words[1]) >= DPN_CONF_PATH_MAX)
		return conf_err(p, "%s: file name too long", words[0]);
	strcpy(out, words[1]);
	return 0;
}

/* keys PATH: ntpd's symmetric keys file, read now. */
int
dpn_conf_parse_keys(struct conf_parser *p, char **words, int nb_words)
{
	char err[DPN_CONF_ERRLEN];

	if (p->conf->keys_path[0] != '\0')
		return conf_err(p, "keys: already given");
	if (parse_path(p, words, nb_words, p->conf->keys_path) < 0)
		return -1;
	if (dpn_ntpauth_load(p->conf->keys_path, &p->conf->keys, err,
			     sizeof(err)) != 0)
		return conf_err(p, "keys: %s", err);
	return 0;
}

/* trustedkey ID [ID...] */
int
dpn_conf_parse_trustedkey(struct conf_parser *p, char **words, int nb_words)
{
	struct dpn_conf *c = p->conf;
	long v;
	int i;

	if (nb_words < 2)
		return conf_err(p, "trustedkey: missing key ID");
	for (i = 1; i < nb_words; i++) {
		if (conf_ranged(p, "trustedkey", "key ID", words[i], 1,
				DPN_NTPAUTH_ID_MAX, &v) < 0)
			return -1;
		/* The server side trusts these keys at once: each must be
		 * one the keys file (given before) defines. */
		if (c->keys_path[0] == '\0')
			return conf_err(p, "trustedkey: no 'keys' line before this one");
		if (dpn_ntpauth_find(&c->keys, (uint32_t)v) == NULL)
			return conf_err(p, "trustedkey: key %ld is not in %s",
					v, c->keys_path);
		if (c->nb_trusted == DPN_NTPAUTH_MAX_KEYS)
			return conf_err(p, "trustedkey: more than %d keys",
					DPN_NTPAUTH_MAX_KEYS);
		c->trusted[c->nb_trusted++] = (uint32_t)v;
	}
	return 0;
}

/* authfail nak|drop: what a request that fails authentication gets. */
int
dpn_conf_parse_authfail(struct conf_parser *p, char **words, int nb_words)
{
	if (nb_words != 2 || (strcmp(words[1], "nak") != 0 &&
			      strcmp(words[1], "drop") != 0))
		return conf_err(p, "authfail: expected 'nak' or 'drop'");
	p->conf->authfail_drop = strcmp(words[1], "drop") == 0;
	return 0;
}

int
dpn_conf_parse_driftfile(struct conf_parser *p, char **words, int nb_words)
{
	return parse_path(p, words, nb_words, p->conf->disc.driftfile);
}

int
dpn_conf_parse_leapfile(struct conf_parser *p, char **words, int nb_words)
{
	return parse_path(p, words, nb_words, p->conf->disc.leapfile);
}

static int
parse_one_seconds(struct conf_parser *p, char **words, int nb_words,
		  long max, unsigned int *out)
{
	long v;

	if (nb_words < 2)
		return conf_err(p, "%s: missing number of seconds", words[0]);
	if (nb_words > 2)
		return conf_err(p, "%s: unexpected word '%s'", words[0],
				words[2]);
	if (conf_ranged(p, words[0], "seconds", words[1], 0, max, &v) < 0)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* leapsmear SECONDS: smear a leap second over a window centred on it. */
int
dpn_conf_parse_leapsmear(struct conf_parser *p, char **words, int nb_words)
{
	return parse_one_seconds(p, words, nb_words, LEAPSMEAR_MAX,
				 &p->conf->disc.leapsmear_s);
}

/* holdover SECONDS: how long to serve as synchronized without a source. */
int
dpn_conf_parse_holdover(struct conf_parser *p, char **words, int nb_words)
{
	return parse_one_seconds(p, words, nb_words, HOLDOVER_MAX,
				 &p->conf->disc.holdover_s);
}

void
dpn_conf_upstream_format(const struct dpn_conf *conf, char *buf, size_t len,
			 int *off)
{
	const struct dpn_conf_discipline *d = &conf->disc;
	unsigned int i;

	if (conf->keys_path[0] != '\0')
		conf_append(buf, len, off, "keys %s\n", conf->keys_path);
	if (conf->nb_trusted > 0) {
		conf_append(buf, len, off, "trustedkey");
		for (i = 0; i < conf->nb_trusted; i++)
			conf_append(buf, len, off, " %u", conf->trusted[i]);
		conf_append(buf, len, off, "\n");
	}
	if (conf->authfail_drop)
		conf_append(buf, len, off, "authfail drop\n");
	for (i = 0; i < conf->nb_servers; i++) {
		const struct dpn_conf_server *s = &conf->servers[i];

		conf_append(buf, len, off, "%s %s%s", s->pool ? "pool" : "server",
			    s->family == AF_INET ? "-4 " :
			    s->family == AF_INET6 ? "-6 " : "", s->host);
		if (s->flags & DPN_CONF_SRV_IBURST)
			conf_append(buf, len, off, " iburst");
		if (s->flags & DPN_CONF_SRV_BURST)
			conf_append(buf, len, off, " burst");
		if (s->flags & DPN_CONF_SRV_PREFER)
			conf_append(buf, len, off, " prefer");
		if (s->flags & DPN_CONF_SRV_NOSELECT)
			conf_append(buf, len, off, " noselect");
		if (s->flags & DPN_CONF_SRV_TRUE)
			conf_append(buf, len, off, " true");
		conf_append(buf, len, off, " minpoll %d maxpoll %d",
			    s->minpoll, s->maxpoll);
		if (s->version != VERSION_DEFAULT)
			conf_append(buf, len, off, " version %u", s->version);
		if (s->key != 0)
			conf_append(buf, len, off, " key %u", s->key);
		conf_append(buf, len, off, "\n");
	}
	if (d->step_s != STEP_DEFAULT || d->panic_s != PANIC_DEFAULT ||
	    d->stepout_s != STEPOUT_DEFAULT)
		conf_append(buf, len, off, "tinker step %g panic %g stepout %g\n",
			    d->step_s, d->panic_s, d->stepout_s);
	if (d->minsane != MINSANE_DEFAULT || d->minclock != MINCLOCK_DEFAULT ||
	    d->maxdist_s != MAXDIST_DEFAULT)
		conf_append(buf, len, off, "tos minsane %u minclock %u maxdist %g\n",
			    d->minsane, d->minclock, d->maxdist_s);
	if (d->driftfile[0] != '\0')
		conf_append(buf, len, off, "driftfile %s\n", d->driftfile);
	if (d->leapfile[0] != '\0')
		conf_append(buf, len, off, "leapfile %s\n", d->leapfile);
	if (d->leapsmear_s != 0)
		conf_append(buf, len, off, "leapsmear %u\n", d->leapsmear_s);
	if (d->holdover_s != HOLDOVER_DEFAULT)
		conf_append(buf, len, off, "holdover %u\n", d->holdover_s);
}
