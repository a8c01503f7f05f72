/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ntp.conf-style configuration parser.
 *
 * Every line is parsed straight into the caller's struct dpn_conf; the
 * first problem stops the parse with "name:line: message". The caller is
 * expected to parse into a scratch struct and only adopt it on success,
 * which is what makes a failed reload harmless.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "dpn_err.h"
#include "conf_private.h"

/* Longest line accepted, not counting the line terminator. */
#define CONF_LINE_MAX 1023
/* More words than any directive can use; bounds the on-stack word list. */
#define CONF_MAX_WORDS 32

#define CONF_PORT_MAX 1023
#define CONF_VLAN_MIN 1
#define CONF_VLAN_MAX 4094
#define CONF_STRATUM_MIN 1
#define CONF_STRATUM_MAX 15
#define CONF_STRATUM_DEFAULT 1
#define CONF_PRECISION_MIN -30
#define CONF_PRECISION_MAX 0
#define CONF_REFID_DEFAULT "LOCL"
/* More than one host name can sensibly resolve to. */
#define CONF_RESTRICT_PER_LINE 64
#define CONF_RESTRICT_MAX 1000000
#define CONF_DISCARD_AVERAGE_MAX 10
#define CONF_DISCARD_MINIMUM_MAX 60
#define CONF_DISCARD_MONITOR_MAX 100000

int
conf_err(struct conf_parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->err == NULL || p->errlen == 0)
		return -1;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	dpn_verr(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Parse a whole word as a decimal integer. strtol() alone would accept
 * leading blanks, a '+' sign and trailing junk, none of which belong in
 * a config file; "12abc", "", "-" and "+3" are all rejected here.
 * @return 0, -1 if the word is not a number, -2 if it does not fit a long.
 */
int
conf_long(const char *word, long *val)
{
	const char *digits = word[0] == '-' ? word + 1 : word;
	char *end;

	if (*digits < '0' || *digits > '9')
		return -1;
	errno = 0;
	*val = strtol(word, &end, 10);
	if (*end != '\0')
		return -1;
	if (errno == ERANGE)
		return -2;
	return 0;
}

/*
 * Parse a number in [min, max] for option @p what of @p directive,
 * reporting "not a number" and "out of range" separately because they
 * are different mistakes.
 */
int
conf_ranged(struct conf_parser *p, const char *directive, const char *what,
	     const char *word, long min, long max, long *val)
{
	int ret = conf_long(word, val);

	if (ret == -1)
		return conf_err(p, "%s: %s '%s' is not a number",
				 directive, what, word);
	if (ret < 0 || *val < min || *val > max)
		return conf_err(p, "%s: %s must be %ld..%ld, got '%s'",
				 directive, what, min, max, word);
	return 0;
}

static const char *
family_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* What makes @p l unfit as a local address, or NULL if it is fine. */
static const char *
not_unicast(const struct dpn_conf_listen *l)
{
	if (l->family == AF_INET) {
		uint32_t a = ntohl(l->addr.v4.s_addr);

		if (a == INADDR_ANY)
			return "unspecified";
		if (IN_MULTICAST(a))
			return "multicast";
	} else {
		if (IN6_IS_ADDR_UNSPECIFIED(&l->addr.v6))
			return "unspecified";
		if (IN6_IS_ADDR_MULTICAST(&l->addr.v6))
			return "multicast";
	}
	return NULL;
}

/* Parse "ADDR/PREFIX" into @p l; @p word is modified. */
static int
parse_address(struct conf_parser *p, char *word, struct dpn_conf_listen *l)
{
	char text[INET6_ADDRSTRLEN];
	char *slash = strchr(word, '/');
	const char *kind;
	long max, prefix;

	if (slash == NULL)
		return conf_err(p,
				 "listen: address '%s' has no prefix length (expected ADDR/PREFIX)",
				 word);
	*slash = '\0';

	/* Only IPv6 text contains ':', so it decides the family. */
	l->family = strchr(word, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(l->family, word, &l->addr) != 1)
		return conf_err(p, "listen: invalid %s address '%s'",
				 family_name(l->family), word);

	max = l->family == AF_INET6 ? 128 : 32;
	if (conf_long(slash + 1, &prefix) != 0 || prefix < 0 ||
	    prefix > max)
		return conf_err(p,
				 "listen: invalid prefix length '%s' for %s (must be 0..%ld)",
				 slash + 1, family_name(l->family), max);
	l->prefix_len = prefix;

	/*
	 * The address is the one replies are sent from and ARP/ND is
	 * answered for, so it has to be a unicast address.
	 */
	kind = not_unicast(l);
	if (kind != NULL) {
		inet_ntop(l->family, &l->addr, text, sizeof(text));
		return conf_err(p,
				 "listen: address %s is %s; give the unicast address to answer on",
				 text, kind);
	}
	return 0;
}

static bool
same_address(const struct dpn_conf_listen *a, const struct dpn_conf_listen *b)
{
	if (a->family != b->family || a->vlan != b->vlan)
		return false;
	if (a->family == AF_INET)
		return a->addr.v4.s_addr == b->addr.v4.s_addr;
	return memcmp(&a->addr.v6, &b->addr.v6, sizeof(a->addr.v6)) == 0;
}

/*
 * Two lines answering for one address would make the owner of incoming
 * packets ambiguous, so the second one is refused, naming the first.
 */
static int
check_duplicate(struct conf_parser *p, const struct dpn_conf_listen *l)
{
	const struct dpn_conf *conf = p->conf;
	char text[INET6_ADDRSTRLEN];
	unsigned int i;

	for (i = 0; i < conf->nb_listen; i++) {
		const struct dpn_conf_listen *o = &conf->listen[i];

		if (!same_address(o, l))
			continue;
		inet_ntop(l->family, &l->addr, text, sizeof(text));
		if (l->vlan != 0)
			return conf_err(p,
					 "listen: address %s on vlan %u already listed on line %u",
					 text, l->vlan, o->line);
		return conf_err(p,
				 "listen: address %s already listed on line %u",
				 text, o->line);
	}
	return 0;
}

/* Is @p a inside @p l's prefix? */
static bool
in_prefix(const struct dpn_conf_listen *l, const void *a)
{
	const uint8_t *x = a, *net = (const uint8_t *)&l->addr;
	unsigned int bytes = l->prefix_len / 8, bits = l->prefix_len % 8;

	if (memcmp(x, net, bytes) != 0)
		return false;
	return bits == 0 ||
		((x[bytes] ^ net[bytes]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

/*
 * "gateway ADDR": the next hop for destinations outside every prefix
 * (the NTP client's upstream servers). It must be reachable without a
 * gateway itself: inside the line's prefix, or for IPv6 link-local.
 */
static int
parse_gateway(struct conf_parser *p, const char *word,
	      struct dpn_conf_listen *l)
{
	char text[INET6_ADDRSTRLEN], gw[INET6_ADDRSTRLEN];
	int family = strchr(word, ':') != NULL ? AF_INET6 : AF_INET;
	bool on_link;

	if (inet_pton(family, word, &l->gateway) != 1)
		return conf_err(p, "listen: invalid gateway address '%s'",
				 word);
	inet_ntop(l->family, &l->addr, text, sizeof(text));
	inet_ntop(family, &l->gateway, gw, sizeof(gw));
	if (family != l->family)
		return conf_err(p,
				 "listen: gateway %s is %s but address %s is %s",
				 gw, family_name(family), text,
				 family_name(l->family));
	if (family == AF_INET) {
		uint32_t g = ntohl(l->gateway.v4.s_addr);

		if (g == INADDR_ANY || IN_MULTICAST(g) || g == INADDR_BROADCAST)
			return conf_err(p,
					 "listen: gateway %s is not a unicast address",
					 gw);
		on_link = in_prefix(l, &l->gateway);
	} else {
		if (IN6_IS_ADDR_UNSPECIFIED(&l->gateway.v6) ||
		    IN6_IS_ADDR_MULTICAST(&l->gateway.v6))
			return conf_err(p,
					 "listen: gateway %s is not a unicast address",
					 gw);
		on_link = in_prefix(l, &l->gateway) ||
			IN6_IS_ADDR_LINKLOCAL(&l->gateway.v6);
	}
	if (memcmp(&l->gateway, &l->addr, family == AF_INET ? 4 : 16) == 0)
		return conf_err(p, "listen: gateway %s is the address itself",
				 gw);
	if (!on_link)
		return conf_err(p,
				 family == AF_INET ?
				 "listen: gateway %s is not inside %s/%u" :
				 "listen: gateway %s is neither inside %s/%u nor link-local (fe80::/10)",
				 gw, text, l->prefix_len);
	l->has_gateway = true;
	return 0;
}

/* listen port P address ADDR/PREFIX [vlan N] [gateway ADDR] */
static int
parse_listen(struct conf_parser *p, char **words, int nb_words)
{
	struct dpn_conf *conf = p->conf;
	struct dpn_conf_listen l;
	bool have_port = false, have_addr = false, have_vlan = false;
	bool have_gw = false;
	const char *gateway = NULL;
	long val;
	int i;

	if (conf->nb_listen >= DPN_CONF_MAX_LISTEN)
		return conf_err(p,
				 "listen: too many listen lines (at most %d)",
				 DPN_CONF_MAX_LISTEN);

	memset(&l, 0, sizeof(l));
	l.line = p->line;

	for (i = 1; i < nb_words; i += 2) {
		const char *key = words[i];
		char *value = i + 1 < nb_words ? words[i + 1] : NULL;
		bool *seen;

		if (strcmp(key, "port") == 0)
			seen = &have_port;
		else if (strcmp(key, "address") == 0)
			seen = &have_addr;
		else if (strcmp(key, "vlan") == 0)
			seen = &have_vlan;
		else if (strcmp(key, "gateway") == 0)
			seen = &have_gw;
		else
			return conf_err(p, "listen: unexpected word '%s'",
					 key);

		if (*seen)
			return conf_err(p, "listen: '%s' given more than once",
					 key);
		*seen = true;
		if (value == NULL)
			return conf_err(p, "listen: missing value after '%s'",
					 key);

		if (seen == &have_port) {
			if (conf_ranged(p, "listen", "port", value, 0,
					 CONF_PORT_MAX, &val) < 0)
				return -1;
			l.port = val;
		} else if (seen == &have_addr) {
			if (parse_address(p, value, &l) < 0)
				return -1;
		} else if (seen == &have_gw) {
			/* Checked against the address once both are known. */
			gateway = value;
		} else {
			if (conf_ranged(p, "listen", "vlan", value,
					 CONF_VLAN_MIN, CONF_VLAN_MAX,
					 &val) < 0)
				return -1;
			l.vlan = val;
		}
	}

	if (!have_port)
		return conf_err(p, "listen: missing 'port P'");
	if (!have_addr)
		return conf_err(p, "listen: missing 'address ADDR/PREFIX'");
	if (gateway != NULL && parse_gateway(p, gateway, &l) < 0)
		return -1;
	if (check_duplicate(p, &l) < 0)
		return -1;

	conf->listen[conf->nb_listen++] = l;
	return 0;
}

/* A refid goes on the wire as 4 ASCII bytes; blanks cannot be written. */
static bool
valid_refid(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > 4)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/* refclock system [stratum N] [refid ID] [precision N] */
static int
parse_refclock_system(struct conf_parser *p, char **words, int nb_words)
{
	struct dpn_conf_refclock_system *rc = &p->conf->refclock_system;
	bool have_stratum = false, have_refid = false, have_prec = false;
	long val;
	int i;

	if (rc->enabled)
		return conf_err(p,
				 "refclock system: already configured on line %u",
				 rc->line);
	rc->enabled = true;
	rc->line = p->line;

	for (i = 2; i < nb_words; i += 2) {
		const char *key = words[i];
		const char *value = i + 1 < nb_words ? words[i + 1] : NULL;
		bool *seen;

		if (strcmp(key, "stratum") == 0)
			seen = &have_stratum;
		else if (strcmp(key, "refid") == 0)
			seen = &have_refid;
		else if (strcmp(key, "precision") == 0)
			seen = &have_prec;
		else
			return conf_err(p,
					 "refclock system: unexpected word '%s'",
					 key);

		if (*seen)
			return conf_err(p,
					 "refclock system: '%s' given more than once",
					 key);
		*seen = true;
		if (value == NULL)
			return conf_err(p,
					 "refclock system: missing value after '%s'",
					 key);

		if (seen == &have_stratum) {
			if (conf_ranged(p, "refclock system", "stratum",
					 value, CONF_STRATUM_MIN,
					 CONF_STRATUM_MAX, &val) < 0)
				return -1;
			rc->stratum = val;
		} else if (seen == &have_refid) {
			if (!valid_refid(value))
				return conf_err(p,
						 "refclock system: refid must be 1 to 4 printable ASCII characters, got '%s'",
						 value);
			memset(rc->refid, 0, sizeof(rc->refid));
			memcpy(rc->refid, value, strlen(value));
		} else {
			if (conf_ranged(p, "refclock system", "precision",
					 value, CONF_PRECISION_MIN,
					 CONF_PRECISION_MAX, &val) < 0)
				return -1;
			rc->precision = val;
		}
	}
	return 0;
}

static int
parse_refclock(struct conf_parser *p, char **words, int nb_words)
{
	if (nb_words < 2)
		return conf_err(p,
				 "refclock: missing type (system, shm, sock, pps, phc or ptp)");
	if (strcmp(words[1], "system") == 0)
		return parse_refclock_system(p, words, nb_words);
	return dpn_conf_parse_refclock_driver(p, words, nb_words);
}

/*
 * restrict ...: the rules are appended as they come and merged once the
 * whole file is read (dpn_acl_ruleset_normalize()). Merging each rule on
 * arrival would scan the set every time, which is quadratic for the
 * large block lists this is meant to hold.
 */
static int
parse_restrict(struct conf_parser *p, char **words, int nb_words)
{
	struct dpn_acl_ruleset *rs = &p->conf->acl;
	struct dpn_acl_rule rules[CONF_RESTRICT_PER_LINE];
	char msg[DPN_CONF_ERRLEN];
	int n, i;

	msg[0] = '\0';
	n = dpn_acl_parse(words + 1, nb_words - 1, rules,
			  CONF_RESTRICT_PER_LINE, msg, sizeof(msg));
	if (n < 0)
		return conf_err(p, "restrict: %s", msg);
	/* Counted before merging, so repeated lines count too. */
	if (rs->nb + (unsigned int)n > CONF_RESTRICT_MAX)
		return conf_err(p, "restrict: too many rules (at most %d)",
				 CONF_RESTRICT_MAX);
	for (i = 0; i < n; i++) {
		rules[i].line = p->line;
		if (dpn_acl_ruleset_append(rs, &rules[i]) != 0)
			return conf_err(p, "restrict: out of memory");
	}
	return 0;
}

/* discard [average A] [minimum M] [monitor N] */
static int
parse_discard(struct conf_parser *p, char **words, int nb_words)
{
	struct dpn_conf *conf = p->conf;
	bool have_avg = false, have_min = false, have_mon = false;
	long val = 0;
	int i;

	if (conf->discard_line != 0)
		return conf_err(p, "discard: already configured on line %u",
				 conf->discard_line);
	if (nb_words < 2)
		return conf_err(p,
				 "discard: needs at least one of 'average', 'minimum', 'monitor'");

	for (i = 1; i < nb_words; i += 2) {
		const char *key = words[i];
		const char *value = i + 1 < nb_words ? words[i + 1] : NULL;
		bool *seen;
		long max;

		if (strcmp(key, "average") == 0) {
			seen = &have_avg;
			max = CONF_DISCARD_AVERAGE_MAX;
		} else if (strcmp(key, "minimum") == 0) {
			seen = &have_min;
			max = CONF_DISCARD_MINIMUM_MAX;
		} else if (strcmp(key, "monitor") == 0) {
			seen = &have_mon;
			max = CONF_DISCARD_MONITOR_MAX;
		} else {
			return conf_err(p, "discard: unexpected word '%s'",
					 key);
		}
		if (*seen)
			return conf_err(p,
					 "discard: '%s' given more than once",
					 key);
		*seen = true;
		if (value == NULL)
			return conf_err(p,
					 "discard: missing value after '%s'",
					 key);
		if (conf_ranged(p, "discard", key, value, 0, max, &val) < 0)
			return -1;
		if (seen == &have_avg)
			conf->discard.average_log2 = val;
		else if (seen == &have_min)
			conf->discard.minimum_s = val;
		else
			conf->discard.monitor = val;
	}
	conf->discard_line = p->line;
	return 0;
}

/* A directive with one number in [min, max], given at most once. */
static int
parse_one_number(struct conf_parser *p, char **words, int nb_words,
		 long min, long max, unsigned int *line, unsigned int *out)
{
	long val;

	if (*line != 0)
		return conf_err(p, "%s: already configured on line %u",
				 words[0], *line);
	if (nb_words < 2)
		return conf_err(p, "%s: missing value", words[0]);
	if (nb_words > 2)
		return conf_err(p, "%s: unexpected word '%s'", words[0],
				 words[2]);
	if (conf_ranged(p, words[0], "value", words[1], min, max, &val) < 0)
		return -1;
	*out = (unsigned int)val;
	*line = p->line;
	return 0;
}

/* clientlimit N */
static int
parse_clientlimit(struct conf_parser *p, char **words, int nb_words)
{
	return parse_one_number(p, words, nb_words, 1,
				DPN_CONF_CLIENTLIMIT_MAX, &p->clientlimit_line,
				&p->conf->clientlimit);
}

/* xleavelimit N: saved transmit times per worker, 0 = interleaved off */
static int
parse_xleavelimit(struct conf_parser *p, char **words, int nb_words)
{
	return parse_one_number(p, words, nb_words, 0,
				DPN_CONF_XLEAVELIMIT_MAX, &p->xleavelimit_line,
				&p->conf->xleavelimit);
}

/*
 * metrics ADDRESS:PORT, the IPv6 address in brackets as in URLs
 * ([::1]:9123), so that the last colon is never ambiguous.
 */
static int
parse_metrics(struct conf_parser *p, char **words, int nb_words)
{
	struct dpn_conf_metrics *m = &p->conf->metrics;
	char *addr = words[1], *port;
	long val;

	if (m->line != 0)
		return conf_err(p, "metrics: already configured on line %u",
				 m->line);
	if (nb_words < 2)
		return conf_err(p,
				 "metrics: missing ADDRESS:PORT (e.g. 127.0.0.1:9123 or [::1]:9123)");
	if (nb_words > 2)
		return conf_err(p, "metrics: unexpected word '%s'", words[2]);
	if (addr[0] == '[') {
		char *close = strchr(addr, ']');

		if (close == NULL || close[1] != ':')
			return conf_err(p,
					 "metrics: '%s' is not [IPv6]:PORT",
					 words[1]);
		*close = '\0';
		addr++;
		port = close + 2;
		m->family = AF_INET6;
	} else {
		port = strrchr(addr, ':');
		if (port == NULL)
			return conf_err(p,
					 "metrics: '%s' has no port (expected ADDRESS:PORT)",
					 words[1]);
		*port++ = '\0';
		if (strchr(addr, ':') != NULL)
			return conf_err(p,
					 "metrics: write an IPv6 address in brackets, as [%s]:%s",
					 addr, port);
		m->family = AF_INET;
	}
	if (inet_pton(m->family, addr, &m->addr) != 1)
		return conf_err(p, "metrics: invalid %s address '%s'",
				 family_name(m->family), addr);
	if (conf_ranged(p, "metrics", "port", port, 1, 65535, &val) < 0)
		return -1;
	m->port = val;
	m->enabled = true;
	m->line = p->line;
	return 0;
}

static const struct {
	const char *name;
	int (*parse)(struct conf_parser *p, char **words, int nb_words);
} directives[] = {
	{ "listen", parse_listen },
	{ "refclock", parse_refclock },
	{ "restrict", parse_restrict },
	{ "discard", parse_discard },
	{ "clientlimit", parse_clientlimit },
	{ "xleavelimit", parse_xleavelimit },
	{ "server", dpn_conf_parse_server },
	{ "pool", dpn_conf_parse_server },
	{ "peer", dpn_conf_parse_peer },
	{ "tinker", dpn_conf_parse_tinker },
	{ "tos", dpn_conf_parse_tos },
	{ "driftfile", dpn_conf_parse_driftfile },
	{ "leapfile", dpn_conf_parse_leapfile },
	{ "leapsmear", dpn_conf_parse_leapsmear },
	{ "holdover", dpn_conf_parse_holdover },
	{ "keys", dpn_conf_parse_keys },
	{ "trustedkey", dpn_conf_parse_trustedkey },
	{ "authfail", dpn_conf_parse_authfail },
	{ "ntsservercert", dpn_conf_parse_nts },
	{ "ntsserverkey", dpn_conf_parse_nts },
	{ "ntsport", dpn_conf_parse_nts },
	{ "ntsdumpdir", dpn_conf_parse_nts },
	{ "ntsrotate", dpn_conf_parse_nts },
	{ "ntsntpserver", dpn_conf_parse_nts },
	{ "ntsbind", dpn_conf_parse_nts },
	{ "exceptionif", dpn_conf_parse_nts },
	{ "metrics", parse_metrics },
	{ "health", dpn_conf_parse_health },
};

/* Parse one line, already stripped of its terminator; @p line is modified. */
static int
parse_line(struct conf_parser *p, char *line)
{
	char *words[CONF_MAX_WORDS];
	char *comment, *s;
	int nb_words = 0;
	size_t i;

	comment = strchr(line, '#');
	if (comment != NULL)
		*comment = '\0';

	for (s = line; ; ) {
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		if (nb_words == CONF_MAX_WORDS)
			return conf_err(p,
					 "too many words on one line (at most %d)",
					 CONF_MAX_WORDS);
		words[nb_words++] = s;
		s += strcspn(s, " \t");
		if (*s != '\0')
			*s++ = '\0';
	}
	if (nb_words == 0)
		return 0;

	for (i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
		if (strcmp(words[0], directives[i].name) == 0)
			return directives[i].parse(p, words, nb_words);
	return conf_err(p, "unknown directive '%s'", words[0]);
}

/*
 * Drop the line terminator ("\n" or "\r\n") from @p line of @p len bytes
 * and check what remains is a proper line.
 */
static int
prepare_line(struct conf_parser *p, char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > CONF_LINE_MAX)
		return conf_err(p, "line is longer than %d characters",
				 CONF_LINE_MAX);
	/* A NUL would silently cut the line short; say so instead. */
	if (memchr(line, '\0', len) != NULL)
		return conf_err(p, "line contains a NUL byte");
	line[len] = '\0';
	return 0;
}

void
dpn_conf_init(struct dpn_conf *conf)
{
	struct dpn_conf_refclock_system *rc = &conf->refclock_system;

	memset(conf, 0, sizeof(*conf));
	/* Defaults are kept even while disabled: enabling only flips a flag. */
	rc->stratum = CONF_STRATUM_DEFAULT;
	memcpy(rc->refid, CONF_REFID_DEFAULT, sizeof(CONF_REFID_DEFAULT));
	rc->precision = 0;
	dpn_acl_ruleset_init(&conf->acl);
	dpn_rl_params_default(&conf->discard);
	conf->discard_line = 0;
	conf->clientlimit = DPN_CONF_CLIENTLIMIT_DEFAULT;
	conf->xleavelimit = DPN_CONF_XLEAVELIMIT_DEFAULT;
	dpn_conf_upstream_init(conf);
	dpn_conf_health_init(conf);
	conf->nts.port = DPN_CONF_NTS_PORT_DEFAULT;
	conf->nts.rotate_s = DPN_CONF_NTS_ROTATE_DEFAULT;
}

void
dpn_conf_free(struct dpn_conf *conf)
{
	dpn_acl_ruleset_free(&conf->acl);
}

/*
 * End of a parse: merge the restrict rules on success; on failure free
 * what was allocated so that nothing outlives the error.
 */
static int
finish_parse(struct conf_parser *p, struct dpn_conf *conf, int ret)
{
	if (ret == 0)
		ret = dpn_conf_refclock_finish(p);
	if (ret == 0)
		ret = dpn_conf_nts_finish(p);
	if (ret < 0)
		dpn_conf_free(conf);
	else
		dpn_acl_ruleset_normalize(&conf->acl);
	return ret;
}

int
dpn_conf_parse_string(struct dpn_conf *conf, const char *name,
		      const char *text, char *err, size_t errlen)
{
	struct conf_parser p = {
		.conf = conf, .name = name, .err = err, .errlen = errlen,
	};
	char buf[CONF_LINE_MAX + 3];	/* line, "\r\n", NUL */
	const char *s = text;

	dpn_conf_init(conf);
	while (*s != '\0') {
		const char *nl = strchr(s, '\n');
		size_t len = nl != NULL ? (size_t)(nl - s) + 1 : strlen(s);

		p.line++;
		/*
		 * Lines too long for the buffer are too long for the
		 * grammar too; only copy what prepare_line() can judge.
		 */
		if (len > sizeof(buf) - 1)
			return finish_parse(&p, conf, conf_err(&p,
					"line is longer than %d characters",
					CONF_LINE_MAX));
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (prepare_line(&p, buf, len) < 0 || parse_line(&p, buf) < 0)
			return finish_parse(&p, conf, -1);
		s += len;
	}
	return finish_parse(&p, conf, 0);
}

int
dpn_conf_parse_file(struct dpn_conf *conf, const char *path,
		    char *err, size_t errlen)
{
	struct conf_parser p = {
		.conf = conf, .name = path, .err = err, .errlen = errlen,
	};
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = 0;
	FILE *f;

	dpn_conf_init(conf);
	f = fopen(path, "r");
	if (f == NULL) {
		dpn_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}

	while ((len = getline(&line, &cap, f)) >= 0) {
		p.line++;
		if (prepare_line(&p, line, len) < 0 ||
		    parse_line(&p, line) < 0) {
			ret = -1;
			break;
		}
	}
	/* getline() also fails at EOF; only a real error is worth a word. */
	if (ret == 0 && ferror(f)) {
		dpn_err(err, errlen, "%s: %s", path, strerror(errno));
		ret = -1;
	}

	free(line);
	fclose(f);
	return finish_parse(&p, conf, ret);
}

void
conf_append(char *buf, size_t len, int *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off < 0)
		return;
	va_start(ap, fmt);
	if ((size_t)*off < len)
		n = vsnprintf(buf + *off, len - *off, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	*off = n < 0 ? n : *off + n;
}

int
dpn_conf_format(const struct dpn_conf *conf, char *buf, size_t len)
{
	const struct dpn_conf_refclock_system *rc = &conf->refclock_system;
	char text[INET6_ADDRSTRLEN];
	unsigned int i;
	int off = 0;

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	else
		len = 0;

	for (i = 0; i < conf->nb_listen; i++) {
		const struct dpn_conf_listen *l = &conf->listen[i];

		inet_ntop(l->family, &l->addr, text, sizeof(text));
		conf_append(buf, len, &off, "listen port %u address %s/%u",
		       l->port, text, l->prefix_len);
		if (l->vlan != 0)
			conf_append(buf, len, &off, " vlan %u", l->vlan);
		if (l->has_gateway) {
			inet_ntop(l->family, &l->gateway, text, sizeof(text));
			conf_append(buf, len, &off, " gateway %s", text);
		}
		conf_append(buf, len, &off, "\n");
	}

	if (rc->enabled) {
		conf_append(buf, len, &off, "refclock system stratum %u refid %.4s",
		       rc->stratum, rc->refid);
		if (rc->precision != 0)
			conf_append(buf, len, &off, " precision %d", rc->precision);
		conf_append(buf, len, &off, "\n");
	}

	for (i = 0; i < conf->acl.nb; i++) {
		char *at;
		int n;

		if (off < 0)
			return off;
		at = (size_t)off < len ? buf + off : NULL;

		/* Straight into the buffer: there may be a million rules. */
		n = dpn_acl_format(&conf->acl.rules[i], at,
				   at != NULL ? len - off : 0);
		if (n < 0)
			return n;
		off += n;
		conf_append(buf, len, &off, "\n");
	}

	if (conf->discard_line != 0)
		conf_append(buf, len, &off,
		       "discard average %d minimum %u monitor %u\n",
		       conf->discard.average_log2, conf->discard.minimum_s,
		       conf->discard.monitor);
	if (conf->clientlimit != DPN_CONF_CLIENTLIMIT_DEFAULT)
		conf_append(buf, len, &off, "clientlimit %u\n", conf->clientlimit);
	if (conf->xleavelimit != DPN_CONF_XLEAVELIMIT_DEFAULT)
		conf_append(buf, len, &off, "xleavelimit %u\n", conf->xleavelimit);
	dpn_conf_refclock_format(conf, buf, len, &off);
	dpn_conf_upstream_format(conf, buf, len, &off);
	dpn_conf_nts_format(conf, buf, len, &off);
	if (conf->metrics.enabled) {
		inet_ntop(conf->metrics.family, &conf->metrics.addr, text,
			  sizeof(text));
		conf_append(buf, len, &off,
		       conf->metrics.family == AF_INET6 ? "metrics [%s]:%u\n" :
		       "metrics %s:%u\n", text, conf->metrics.port);
	}
	dpn_conf_health_format(conf, buf, len, &off);
	return off;
}
