/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `restrict` rules with ntpd's meaning.
 *
 * Parsing follows ntpd's grammar (restrict [-4|-6] default|ADDR [mask M]
 * [flags]) plus NTPsec's ADDR/PREFIX form. Rules are kept as prefixes:
 * ntpd's masks are all contiguous in practice, and a prefix is what the
 * data plane's LPM tables can hold, so other masks are refused.
 */

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "dpn_err.h"
#include "dpn_acl.h"

#define NTP_PORT 123

static const char *const flag_names[DPN_ACL_NB_FLAGS] = {
#define DPN_ACL_NAME(id, name) [DPN_ACL_BIT_##id] = #name,
	DPN_ACL_FLAGS(DPN_ACL_NAME)
#undef DPN_ACL_NAME
};

const char *
dpn_acl_flag_name(unsigned int bit)
{
	return bit < DPN_ACL_NB_FLAGS ? flag_names[bit] : NULL;
}

static unsigned int
addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static unsigned int
max_prefix(int family)
{
	return family == AF_INET6 ? 128 : 32;
}

/* Clear every bit of @p addr (16 bytes) past the first @p len. */
static void
mask_addr(uint8_t *addr, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (len >= 8) {
			len -= 8;
			continue;
		}
		addr[i] &= (uint8_t)(0xff00u >> len);
		len = 0;
	}
}

/* Whether the first @p len bits of @p a and @p b agree. */
static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned int len)
{
	unsigned int bytes = len / 8, bits = len % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	return ((a[bytes] ^ b[bytes]) & (uint8_t)(0xff00u >> bits)) == 0;
}

/*
 * The prefix length of a contiguous mask of @p len bytes, or -1 if the
 * mask has a one after a zero.
 */
static int
mask_to_prefix(const uint8_t *mask, unsigned int len)
{
	unsigned int i;
	int prefix = 0;
	bool zero_seen = false;

	for (i = 0; i < len * 8; i++) {
		bool one = mask[i / 8] & (0x80 >> (i % 8));

		if (one && zero_seen)
			return -1;
		if (one)
			prefix++;
		else
			zero_seen = true;
	}
	return prefix;
}

static const char *
family_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/*
 * Family a literal claims to be: text with ':' can only be IPv6, text of
 * digits and dots only IPv4. Anything else is taken for a host name.
 * @return AF_INET, AF_INET6, or 0 for a name.
 */
static int
literal_family(const char *s)
{
	if (strchr(s, ':') != NULL)
		return AF_INET6;
	if (s[0] != '\0' && s[strspn(s, "0123456789.")] == '\0')
		return AF_INET;
	return 0;
}

static int
parse_flag(const char *word, uint32_t *flags)
{
	unsigned int i;

	for (i = 0; i < DPN_ACL_NB_FLAGS; i++)
		if (strcmp(word, flag_names[i]) == 0) {
			*flags |= 1u << i;
			return 0;
		}
	return -1;
}

/* Parse "PREFIX" after a '/' for @p family; -1 if it is not one. */
static int
parse_prefix_len(const char *s, int family)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9' || strlen(s) > 3)
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > max_prefix(family))
		return -1;
	return (int)v;
}

/* Resolve @p name into host rules; @return count or -1. */
static int
resolve(const char *name, int family, unsigned int prefix,
	const struct dpn_acl_rule *tmpl, struct dpn_acl_rule *out,
	unsigned int max, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	unsigned int n = 0, i;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family == 0 ? AF_UNSPEC : family;
	/* One entry per address instead of one per socket type. */
	hints.ai_socktype = SOCK_DGRAM;
	/*
	 * No AI_ADDRCONFIG: which addresses the host itself has says
	 * nothing about which clients may reach the data plane.
	 */
	hints.ai_flags = 0;
	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0) {
		dpn_err(err, errlen, "cannot resolve host name '%s': %s",
			name, gai_strerror(rc));
		return -1;
	}

	for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		struct dpn_acl_rule r = *tmpl;
		bool dup = false;

		if (ai->ai_family == AF_INET) {
			const struct sockaddr_in *sin =
				(const struct sockaddr_in *)ai->ai_addr;

			memcpy(r.addr, &sin->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 =
				(const struct sockaddr_in6 *)ai->ai_addr;

			memcpy(r.addr, &sin6->sin6_addr, 16);
		} else {
			continue;
		}
		r.family = ai->ai_family;
		r.prefix_len = prefix != 0 ? prefix :
			max_prefix(ai->ai_family);
		mask_addr(r.addr, r.prefix_len);
		/* /etc/hosts may list an address twice; one rule is enough. */
		for (i = 0; i < n && !dup; i++)
			dup = dpn_acl_same_key(&out[i], &r);
		if (!dup)
			out[n++] = r;
	}
	freeaddrinfo(res);
	if (n == 0) {
		dpn_err(err, errlen, "host name '%s' has no %s address", name,
			family == 0 ? "IPv4 or IPv6" : family_name(family));
		return -1;
	}
	return (int)n;
}

int
dpn_acl_parse(char *const *words, int nb_words, struct dpn_acl_rule *out,
	      unsigned int max, char *err, size_t errlen)
{
	char text[256];
	const char *target, *mask_word = NULL;
	struct dpn_acl_rule r;
	char *slash;
	int family = 0, lit, i = 0, prefix = -1;

	if (max == 0) {
		dpn_err(err, errlen, "no room for rules");
		return -1;
	}
	for (; i < nb_words; i++) {
		int f;

		if (strcmp(words[i], "-4") == 0)
			f = AF_INET;
		else if (strcmp(words[i], "-6") == 0)
			f = AF_INET6;
		else
			break;
		if (family != 0 && family != f) {
			dpn_err(err, errlen, "'-4' and '-6' both given");
			return -1;
		}
		family = f;
	}
	if (i >= nb_words) {
		dpn_err(err, errlen, "missing address or 'default'");
		return -1;
	}
	target = words[i++];

	memset(&r, 0, sizeof(r));
	for (; i < nb_words; i++) {
		if (strcmp(words[i], "mask") == 0) {
			if (i + 1 >= nb_words) {
				dpn_err(err, errlen, "'mask' needs a value");
				return -1;
			}
			if (mask_word != NULL) {
				dpn_err(err, errlen,
					"'mask' given more than once");
				return -1;
			}
			mask_word = words[++i];
			continue;
		}
		if (parse_flag(words[i], &r.flags) < 0) {
			dpn_err(err, errlen, "unknown restrict flag '%s'",
				words[i]);
			return -1;
		}
	}

	if (strcmp(target, "default") == 0) {
		unsigned int n = 0;

		if (mask_word != NULL) {
			dpn_err(err, errlen, "'default' takes no mask");
			return -1;
		}
		r.is_default = true;
		/* Like ntpd, a plain `default` sets both families' default. */
		if (family != AF_INET6) {
			out[n] = r;
			out[n++].family = AF_INET;
		}
		if (family != AF_INET && n < max) {
			out[n] = r;
			out[n++].family = AF_INET6;
		}
		return (int)n;
	}
	if (strcmp(target, "source") == 0) {
		dpn_err(err, errlen, "'restrict source' is not supported");
		return -1;
	}

	if (strlen(target) >= sizeof(text)) {
		dpn_err(err, errlen, "address '%.32s...' is too long", target);
		return -1;
	}
	strcpy(text, target);
	slash = strchr(text, '/');
	if (slash != NULL)
		*slash = '\0';
	lit = literal_family(text);

	if (lit != 0 && family != 0 && family != lit) {
		dpn_err(err, errlen, "'%s' given with %s address '%s'",
			family == AF_INET ? "-4" : "-6", family_name(lit),
			text);
		return -1;
	}

	if (mask_word != NULL) {
		uint8_t m[16];
		int mf = literal_family(mask_word);

		if (slash != NULL) {
			dpn_err(err, errlen,
				"'%s' already has a prefix length; drop 'mask'",
				target);
			return -1;
		}
		if (mf == 0 || inet_pton(mf, mask_word, m) != 1) {
			dpn_err(err, errlen, "invalid mask '%s'", mask_word);
			return -1;
		}
		if (lit != 0 && mf != lit) {
			dpn_err(err, errlen,
				"mask %s is %s but the address is %s",
				mask_word, family_name(mf), family_name(lit));
			return -1;
		}
		if (family != 0 && mf != family) {
			dpn_err(err, errlen, "mask %s is %s but '%s' was given",
				mask_word, family_name(mf),
				family == AF_INET ? "-4" : "-6");
			return -1;
		}
		prefix = mask_to_prefix(m, addr_len(mf));
		if (prefix < 0) {
			dpn_err(err, errlen,
				"mask %s is not contiguous (only prefix masks are supported)",
				mask_word);
			return -1;
		}
		/* A host name then resolves in the mask's family only. */
		family = mf;
	}

	if (lit == 0) {
		if (slash != NULL) {
			dpn_err(err, errlen, "invalid address '%s'", target);
			return -1;
		}
		/*
		 * A /0 mask on a name would make it a default in disguise;
		 * resolve() treats prefix 0 as "host", so refuse it here.
		 */
		if (prefix == 0) {
			dpn_err(err, errlen,
				"a zero mask on host name '%s' would match everything; use 'default'",
				target);
			return -1;
		}
		return resolve(text, family, prefix < 0 ? 0 : prefix, &r, out,
			       max, err, errlen);
	}

	if (inet_pton(lit, text, r.addr) != 1) {
		dpn_err(err, errlen, "invalid %s address '%s'",
			family_name(lit), text);
		return -1;
	}
	r.family = lit;
	if (slash != NULL) {
		prefix = parse_prefix_len(slash + 1, lit);
		if (prefix < 0) {
			dpn_err(err, errlen,
				"invalid prefix length '%s' for %s (must be 0..%u)",
				slash + 1, family_name(lit), max_prefix(lit));
			return -1;
		}
	}
	/* Without a mask, ntpd takes the address as a single host. */
	r.prefix_len = prefix < 0 ? max_prefix(lit) : (unsigned int)prefix;
	/* ntpd stores the address under its mask: host bits do not count. */
	mask_addr(r.addr, r.prefix_len);
	/* 0.0.0.0 mask 0.0.0.0 is how ntpd itself stores `default`. */
	if (r.prefix_len == 0)
		r.is_default = true;
	out[0] = r;
	return 1;
}

int
dpn_acl_format(const struct dpn_acl_rule *r, char *buf, size_t len)
{
	char text[INET6_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
	int off, n;
	unsigned int i;

	if (buf == NULL)
		len = 0;
	if (r->is_default) {
		off = snprintf(buf, len, "restrict %s default",
			       r->family == AF_INET6 ? "-6" : "-4");
	} else {
		inet_ntop(r->family, r->addr, text, sizeof(text));
		if (r->family == AF_INET6) {
			if (r->prefix_len == 128)
				off = snprintf(buf, len, "restrict %s", text);
			else
				off = snprintf(buf, len, "restrict %s/%u",
					       text, r->prefix_len);
		} else if (r->prefix_len == 32) {
			off = snprintf(buf, len, "restrict %s", text);
		} else {
			uint32_t m = r->prefix_len == 0 ? 0 :
				htonl(~0u << (32 - r->prefix_len));

			inet_ntop(AF_INET, &m, mask, sizeof(mask));
			off = snprintf(buf, len, "restrict %s mask %s", text,
				       mask);
		}
	}
	if (off < 0)
		return off;
	for (i = 0; i < DPN_ACL_NB_FLAGS; i++) {
		if (!(r->flags & (1u << i)))
			continue;
		n = snprintf((size_t)off < len ? buf + off : NULL,
			     (size_t)off < len ? len - off : 0, " %s",
			     flag_names[i]);
		if (n < 0)
			return n;
		off += n;
	}
	return off;
}

bool
dpn_acl_same_key(const struct dpn_acl_rule *a, const struct dpn_acl_rule *b)
{
	return a->family == b->family && a->prefix_len == b->prefix_len &&
		a->is_default == b->is_default &&
		prefix_equal(a->addr, b->addr, a->prefix_len);
}

/* The key a rule set merges on: ntpd keeps `ntpport` entries apart. */
static bool
same_entry(const struct dpn_acl_rule *a, const struct dpn_acl_rule *b)
{
	return dpn_acl_same_key(a, b) &&
		((a->flags ^ b->flags) & DPN_ACL_F(NTPPORT)) == 0;
}

void
dpn_acl_ruleset_init(struct dpn_acl_ruleset *rs)
{
	rs->rules = NULL;
	rs->nb = 0;
	rs->cap = 0;
}

void
dpn_acl_ruleset_free(struct dpn_acl_ruleset *rs)
{
	free(rs->rules);
	dpn_acl_ruleset_init(rs);
}

static int
ruleset_grow(struct dpn_acl_ruleset *rs)
{
	unsigned int cap = rs->cap == 0 ? 16 : rs->cap * 2;
	struct dpn_acl_rule *p;

	if (cap < rs->cap)
		return -ENOMEM;
	p = realloc(rs->rules, (size_t)cap * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	rs->rules = p;
	rs->cap = cap;
	return 0;
}

int
dpn_acl_ruleset_add(struct dpn_acl_ruleset *rs, const struct dpn_acl_rule *r)
{
	struct dpn_acl_rule n = *r;
	unsigned int i;

	/* Callers may hand in an unmasked address; keys compare masked. */
	mask_addr(n.addr, n.prefix_len);
	for (i = 0; i < rs->nb; i++)
		if (same_entry(&rs->rules[i], &n)) {
			rs->rules[i].flags |= n.flags;
			return 0;
		}
	return dpn_acl_ruleset_append(rs, &n);
}

int
dpn_acl_ruleset_append(struct dpn_acl_ruleset *rs,
		       const struct dpn_acl_rule *r)
{
	if (rs->nb == rs->cap && ruleset_grow(rs) != 0)
		return -ENOMEM;
	rs->rules[rs->nb] = *r;
	mask_addr(rs->rules[rs->nb].addr, r->prefix_len);
	rs->nb++;
	return 0;
}

/*
 * Sorting puts rules with the same key next to each other; merge those
 * as dpn_acl_ruleset_add() would: flags ORed, the first line kept.
 */
void
dpn_acl_ruleset_normalize(struct dpn_acl_ruleset *rs)
{
	unsigned int i, n = 0;

	dpn_acl_ruleset_sort(rs);
	for (i = 0; i < rs->nb; i++) {
		const struct dpn_acl_rule *r = &rs->rules[i];
		struct dpn_acl_rule *last = n > 0 ? &rs->rules[n - 1] : NULL;

		if (last != NULL && same_entry(last, r)) {
			last->flags |= r->flags;
			if (r->line < last->line)
				last->line = r->line;
			continue;
		}
		rs->rules[n++] = *r;
	}
	rs->nb = n;
}

int
dpn_acl_ruleset_del(struct dpn_acl_ruleset *rs, const struct dpn_acl_rule *r)
{
	struct dpn_acl_rule n = *r;
	unsigned int i;

	mask_addr(n.addr, n.prefix_len);
	for (i = 0; i < rs->nb; i++)
		if (same_entry(&rs->rules[i], &n))
			break;
	if (i == rs->nb)
		return -ENOENT;
	/* Keep the order: the set may already be sorted. */
	memmove(&rs->rules[i], &rs->rules[i + 1],
		(rs->nb - i - 1) * sizeof(rs->rules[0]));
	rs->nb--;
	return 0;
}

int
dpn_acl_ruleset_copy(struct dpn_acl_ruleset *dst,
		     const struct dpn_acl_ruleset *src)
{
	dpn_acl_ruleset_init(dst);
	if (src->nb == 0)
		return 0;
	dst->rules = malloc((size_t)src->nb * sizeof(src->rules[0]));
	if (dst->rules == NULL)
		return -ENOMEM;
	memcpy(dst->rules, src->rules, (size_t)src->nb * sizeof(src->rules[0]));
	dst->nb = src->nb;
	dst->cap = src->nb;
	return 0;
}

static int
cmp_rule(const void *pa, const void *pb)
{
	const struct dpn_acl_rule *a = pa, *b = pb;
	bool na = a->flags & DPN_ACL_F(NTPPORT);
	bool nb = b->flags & DPN_ACL_F(NTPPORT);

	/* AF_INET < AF_INET6 on every system this builds on. */
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->is_default != b->is_default)
		return a->is_default ? 1 : -1;
	if (a->prefix_len != b->prefix_len)
		return a->prefix_len > b->prefix_len ? -1 : 1;
	if (na != nb)
		return na ? -1 : 1;
	return memcmp(a->addr, b->addr, addr_len(a->family));
}

void
dpn_acl_ruleset_sort(struct dpn_acl_ruleset *rs)
{
	if (rs->nb > 1)
		qsort(rs->rules, rs->nb, sizeof(rs->rules[0]), cmp_rule);
}

const struct dpn_acl_rule *
dpn_acl_match(const struct dpn_acl_ruleset *rs, int family,
	      const uint8_t *addr, uint16_t sport)
{
	const struct dpn_acl_rule *best = NULL, *def = NULL, *def_ntp = NULL;
	uint8_t a[16] = { 0 };
	unsigned int i;

	memcpy(a, addr, addr_len(family));
	for (i = 0; i < rs->nb; i++) {
		const struct dpn_acl_rule *r = &rs->rules[i];
		bool ntp = r->flags & DPN_ACL_F(NTPPORT);

		if (r->family != family)
			continue;
		/* `ntpport` entries only exist for source port 123. */
		if (ntp && sport != NTP_PORT)
			continue;
		if (r->is_default) {
			if (ntp)
				def_ntp = r;
			else
				def = r;
			continue;
		}
		if (!prefix_equal(r->addr, a, r->prefix_len))
			continue;
		if (best == NULL || r->prefix_len > best->prefix_len ||
		    (r->prefix_len == best->prefix_len && ntp))
			best = r;
	}
	if (best != NULL)
		return best;
	return def_ntp != NULL ? def_ntp : def;
}
