/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The compiled restrict tables (rte_lpm/rte_lpm6 built by
 * dpn_acl_table_create()) against the reference matcher dpn_acl_match():
 * hand-written cases with the rule each address must get, then random
 * rule sets of every prefix length, looked up the way the worker does.
 * Also the per-rule counters and how a new table inherits them.
 *
 * Needs EAL (memory for the LPM tables); runs without huge pages or
 * devices.
 */

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_memory.h>

#include <cmocka.h>

#include "dpn_acl.h"
#include "dpn_dataplane.h"

#define NTP_PORT 123
#define OTHER_PORT 1234
#define BATCH (DPN_BURST * 2)
#define MAX_WORDS 32
#define NB_WORKERS 3

static const struct dpn_rl_params no_discard;
static char err[256];

/*
 * Helpers: rules from restrict lines, tables, lookups.
 */

static uint64_t rng;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static unsigned int
rnd_below(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

/* Parse the words of one restrict line (without `restrict`). */
static int
parse_line(const char *line, struct dpn_acl_rule *out, unsigned int max)
{
	char buf[512], *words[MAX_WORDS], *s, *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (s = strtok_r(buf, " ", &save); s != NULL && n < MAX_WORDS;
	     s = strtok_r(NULL, " ", &save))
		words[n++] = s;
	err[0] = '\0';
	return dpn_acl_parse(words, n, out, max, err, sizeof(err));
}

static void
add_line(struct dpn_acl_ruleset *rs, const char *line)
{
	struct dpn_acl_rule r[4];
	int n, i;

	n = parse_line(line, r, RTE_DIM(r));
	if (n < 1)
		fail_msg("'%s': %s", line, err);
	for (i = 0; i < n; i++)
		assert_int_equal(dpn_acl_ruleset_add(rs, &r[i]), 0);
}

static struct dpn_acl_table *
make_table(const struct dpn_acl_ruleset *rs)
{
	struct dpn_acl_table *t;

	err[0] = '\0';
	t = dpn_acl_table_create(rs, &no_discard, NB_WORKERS, SOCKET_ID_ANY,
				 err, sizeof(err));
	if (t == NULL)
		fail_msg("dpn_acl_table_create: %s", err);
	assert_int_equal(t->rules.nb, rs->nb);
	return t;
}

static struct dpn_acl_table *
table_of(const char *const *lines, unsigned int n)
{
	struct dpn_acl_ruleset rs;
	struct dpn_acl_table *t;
	unsigned int i;

	dpn_acl_ruleset_init(&rs);
	for (i = 0; i < n; i++)
		add_line(&rs, lines[i]);
	t = make_table(&rs);
	dpn_acl_ruleset_free(&rs);
	return t;
}

static const char *
rule_text(const struct dpn_acl_table *t, uint32_t idx)
{
	static char buf[4][160];
	static unsigned int k;
	char *b = buf[k++ % RTE_DIM(buf)];

	if (idx == DPN_ACL_NO_RULE)
		snprintf(b, sizeof(buf[0]), "(no rule)");
	else if (idx >= t->rules.nb)
		snprintf(b, sizeof(buf[0]), "(bad index %" PRIu32 ")", idx);
	else if (dpn_acl_format(&t->rules.rules[idx], b, sizeof(buf[0])) < 0)
		snprintf(b, sizeof(buf[0]), "(rule %" PRIu32 ")", idx);
	return b;
}

static const char *
addr_text(int family, const uint8_t *addr)
{
	static char buf[2][INET6_ADDRSTRLEN];
	static unsigned int k;
	char *b = buf[k++ % RTE_DIM(buf)];

	inet_ntop(family, addr, b, INET6_ADDRSTRLEN);
	return b;
}

/* Index in t->rules of the rule a spec ("10.0.0.0/8 ntpport", "-6
 * default") names: same key, same ntpport-ness; NULL spec: no rule. */
static uint32_t
rule_index(const struct dpn_acl_table *t, const char *spec)
{
	struct dpn_acl_rule r[4];
	unsigned int i;
	int n;

	if (spec == NULL)
		return DPN_ACL_NO_RULE;
	n = parse_line(spec, r, RTE_DIM(r));
	if (n != 1)
		fail_msg("spec '%s' must name one rule (%s)", spec, err);
	for (i = 0; i < t->rules.nb; i++)
		if (dpn_acl_same_key(&t->rules.rules[i], &r[0]) &&
		    ((t->rules.rules[i].flags ^ r[0].flags) &
		     DPN_ACL_F(NTPPORT)) == 0)
			return i;
	fail_msg("spec '%s' is in no rule of the table", spec);
	return DPN_ACL_NO_RULE;
}

struct query {
	int family;
	uint8_t addr[16];
};

/*
 * The entries the worker finds for @p n (<= BATCH) queries: acl_lookup()
 * in worker.c, bulk lookups with the family's default on a miss or when
 * the family has no LPM. Single lookups must agree with the bulk ones.
 */
static void
table_lookup(const struct dpn_acl_table *t, const struct query *q,
	     unsigned int n, const struct dpn_acl_entry **e)
{
	uint32_t ip4[BATCH], nh4[BATCH], nh;
	uint8_t ip6[BATCH][16];
	int32_t nh6[BATCH];
	unsigned int i4[BATCH], i6[BATCH];
	unsigned int i, n4 = 0, n6 = 0;
	int rc;

	assert_true(n <= BATCH);
	for (i = 0; i < n; i++) {
		if (q[i].family == AF_INET) {
			uint32_t a;

			memcpy(&a, q[i].addr, 4);
			ip4[n4] = rte_be_to_cpu_32(a);
			i4[n4++] = i;
		} else {
			memcpy(ip6[n6], q[i].addr, 16);
			i6[n6++] = i;
		}
	}
	if (n4 != 0 && t->lpm == NULL) {
		for (i = 0; i < n4; i++)
			e[i4[i]] = &t->def4;
	} else if (n4 != 0) {
		rte_lpm_lookup_bulk(t->lpm, ip4, nh4, n4);
		for (i = 0; i < n4; i++) {
			e[i4[i]] = (nh4[i] & RTE_LPM_LOOKUP_SUCCESS) ?
				&t->entries[nh4[i] & 0xffffff] : &t->def4;
			rc = rte_lpm_lookup(t->lpm, ip4[i], &nh);
			assert_int_equal(rc == 0,
				(nh4[i] & RTE_LPM_LOOKUP_SUCCESS) != 0);
			if (rc == 0)
				assert_int_equal(nh, nh4[i] & 0xffffff);
		}
	}
	if (n6 != 0 && t->lpm6 == NULL) {
		for (i = 0; i < n6; i++)
			e[i6[i]] = &t->def6;
	} else if (n6 != 0) {
		rte_lpm6_lookup_bulk_func(t->lpm6, ip6, nh6, n6);
		for (i = 0; i < n6; i++) {
			e[i6[i]] = nh6[i] >= 0 ? &t->entries[nh6[i]] :
				&t->def6;
			rc = rte_lpm6_lookup(t->lpm6, ip6[i], &nh);
			assert_int_equal(rc == 0, nh6[i] >= 0);
			if (rc == 0)
				assert_int_equal(nh, (uint32_t)nh6[i]);
		}
	}
}

/* What judge() takes from an entry for a source port. */
static void
entry_pick(const struct dpn_acl_entry *e, uint16_t sport, uint32_t *rule,
	   uint32_t *flags)
{
	bool port123 = sport == NTP_PORT;

	*flags = port123 ? e->flags_ntp : e->flags_any;
	*rule = port123 ? e->rule_ntp : e->rule_any;
}

/* What the reference matcher says, in the table's terms. */
static void
reference(const struct dpn_acl_table *t, const struct query *q,
	  uint16_t sport, uint32_t *rule, uint32_t *flags)
{
	const struct dpn_acl_rule *r;

	r = dpn_acl_match(&t->rules, q->family, q->addr, sport);
	*rule = r == NULL ? DPN_ACL_NO_RULE :
		(uint32_t)(r - t->rules.rules);
	*flags = r == NULL ? 0 : r->flags;
}

static struct query
query_of(const char *addr)
{
	struct query q;

	memset(&q, 0, sizeof(q));
	q.family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(q.family, addr, q.addr) != 1)
		fail_msg("bad address '%s'", addr);
	return q;
}

/* One hand-written case: the rule for other ports and for port 123. */
struct hcase {
	const char *addr;
	const char *any;	/**< spec of the rule, NULL: none */
	const char *ntp;
};

static void
check_cases(const struct dpn_acl_table *t, const struct hcase *c,
	    unsigned int n)
{
	static const uint16_t ports[2] = { OTHER_PORT, NTP_PORT };
	const struct dpn_acl_entry *e;
	unsigned int i, p;

	for (i = 0; i < n; i++) {
		struct query q = query_of(c[i].addr);

		table_lookup(t, &q, 1, &e);
		for (p = 0; p < 2; p++) {
			uint32_t want = rule_index(t, p ? c[i].ntp : c[i].any);
			uint32_t want_flags = want == DPN_ACL_NO_RULE ? 0 :
				t->rules.rules[want].flags;
			uint32_t got, got_flags, ref, ref_flags;

			entry_pick(e, ports[p], &got, &got_flags);
			reference(t, &q, ports[p], &ref, &ref_flags);
			if (ref != want || ref_flags != want_flags)
				fail_msg("%s port %u: matcher says '%s', expected '%s'",
					 c[i].addr, ports[p],
					 rule_text(t, ref), rule_text(t, want));
			if (got != want || got_flags != want_flags)
				fail_msg("%s port %u: table says '%s' (flags %#x), expected '%s' (flags %#x)",
					 c[i].addr, ports[p],
					 rule_text(t, got), got_flags,
					 rule_text(t, want), want_flags);
		}
	}
}

/*
 * Hand-written cases.
 */

static void
test_ipv4_rules(void **state)
{
	static const char *const lines[] = {
		"-4 default noquery",
		"10.0.0.0/8 nomodify",
		"10.1.0.0/16 ntpport ignore",
		"10.1.2.0/24 noserve",
		"10.1.2.0/24 ntpport version",
		"10.1.2.3 kod",
		"10.1.2.128 mask 255.255.255.128 nopeer",
		"10.1.2.192/30 ntpport notrust",
		"192.168.0.0/16 ntpport notrust",
		"172.16.0.0/12 limited",
		"172.16.5.0/24 ntpport nopeer",
		"172.16.5.7/32 ntpport",
		"203.0.113.0/25",	/* no flags: a rule all the same */
		"128.0.0.0/1 nomrulist",
		"255.255.255.255",
	};
	static const struct hcase cases[] = {
		{ "10.1.2.3", "10.1.2.3", "10.1.2.3" },
		{ "10.1.2.4", "10.1.2.0/24", "10.1.2.0/24 ntpport" },
		{ "10.1.2.127", "10.1.2.0/24", "10.1.2.0/24 ntpport" },
		{ "10.1.2.128", "10.1.2.128/25", "10.1.2.128/25" },
		{ "10.1.2.193", "10.1.2.128/25", "10.1.2.192/30 ntpport" },
		{ "10.1.2.196", "10.1.2.128/25", "10.1.2.128/25" },
		{ "10.1.3.1", "10.0.0.0/8", "10.1.0.0/16 ntpport" },
		{ "10.1.255.255", "10.0.0.0/8", "10.1.0.0/16 ntpport" },
		{ "10.2.0.1", "10.0.0.0/8", "10.0.0.0/8" },
		{ "10.255.255.255", "10.0.0.0/8", "10.0.0.0/8" },
		{ "11.0.0.0", "-4 default", "-4 default" },
		{ "192.168.1.1", "128.0.0.0/1", "192.168.0.0/16 ntpport" },
		{ "172.16.5.9", "172.16.0.0/12", "172.16.5.0/24 ntpport" },
		{ "172.16.5.7", "172.16.0.0/12", "172.16.5.7 ntpport" },
		{ "172.31.255.255", "172.16.0.0/12", "172.16.0.0/12" },
		{ "172.32.0.0", "128.0.0.0/1", "128.0.0.0/1" },
		{ "203.0.113.1", "203.0.113.0/25", "203.0.113.0/25" },
		{ "203.0.113.128", "128.0.0.0/1", "128.0.0.0/1" },
		{ "255.255.255.255", "255.255.255.255", "255.255.255.255" },
		{ "255.255.255.254", "128.0.0.0/1", "128.0.0.0/1" },
		{ "0.0.0.0", "-4 default", "-4 default" },
		{ "8.8.8.8", "-4 default", "-4 default" },
	};
	struct dpn_acl_table *t = table_of(lines, RTE_DIM(lines));

	(void)state;
	assert_non_null(t->lpm);
	assert_null(t->lpm6);
	assert_false(t->empty);
	assert_true(t->any_limited);
	check_cases(t, cases, RTE_DIM(cases));
	/* No IPv6 rule at all: everything allowed, no rule. */
	assert_int_equal(t->def6.rule_any, DPN_ACL_NO_RULE);
	assert_int_equal(t->def6.rule_ntp, DPN_ACL_NO_RULE);
	assert_int_equal(t->def6.flags_any, 0);
	assert_int_equal(t->def6.flags_ntp, 0);
	{
		static const struct hcase v6[] = {
			{ "2001:db8::1", NULL, NULL },
			{ "::ffff:10.1.2.3", NULL, NULL },
		};

		check_cases(t, v6, RTE_DIM(v6));
	}
	dpn_acl_table_free(t);
}

static void
test_ipv6_rules(void **state)
{
	static const char *const lines[] = {
		"-6 default ntpport nopeer",
		"2001:db8::/32 nomodify",
		"2001:db8::/24 ntpport",	/* masked to 2001:d00::/24 */
		"2001:db8:1::/48 ntpport ignore",
		"2001:db8:1:2::/64 noserve",
		"2001:db8:1:2::/64 ntpport version",
		"2001:db8:1:2::8/125 kod",
		"2001:db8:1:2::9 ntpport",
		"2001:db8:1:2::a/127 limited",
		"2001:db8:1:2::b",
		"2001:db8:ff00::/40 notrust",
		"2001:db8:ff00::/33 ntpport noquery",
		"fe80::/10 ignore",
		"::/1 ntpport",
		"::1",
	};
	static const struct hcase cases[] = {
		{ "2001:db8:1:2::b", "2001:db8:1:2::b", "2001:db8:1:2::b" },
		{ "2001:db8:1:2::a", "2001:db8:1:2::a/127",
		  "2001:db8:1:2::a/127" },
		{ "2001:db8:1:2::9", "2001:db8:1:2::8/125",
		  "2001:db8:1:2::9 ntpport" },
		{ "2001:db8:1:2::f", "2001:db8:1:2::8/125",
		  "2001:db8:1:2::8/125" },
		{ "2001:db8:1:2::10", "2001:db8:1:2::/64",
		  "2001:db8:1:2::/64 ntpport" },
		{ "2001:db8:1:3::1", "2001:db8::/32",
		  "2001:db8:1::/48 ntpport" },
		{ "2001:db8:2::1", "2001:db8::/32", "2001:db8::/32" },
		{ "2001:db8:ff00::1", "2001:db8:ff00::/40",
		  "2001:db8:ff00::/40" },
		{ "2001:db8:fe00::1", "2001:db8::/32",
		  "2001:db8:ff00::/33 ntpport" },
		{ "2001:db8:8000::", "2001:db8::/32",
		  "2001:db8:ff00::/33 ntpport" },
		{ "2001:db8:7fff::", "2001:db8::/32", "2001:db8::/32" },
		{ "2001:db9::1", NULL, "2001:db8::/24 ntpport" },
		{ "2001:dff::1", NULL, "2001:db8::/24 ntpport" },
		{ "2001:e00::1", NULL, "::/1 ntpport" },
		{ "fe80::1", "fe80::/10", "fe80::/10" },
		{ "febf:ffff::1", "fe80::/10", "fe80::/10" },
		{ "fec0::1", NULL, "-6 default ntpport" },
		{ "::1", "::1", "::1" },
		{ "::2", NULL, "::/1 ntpport" },
		{ "7fff::", NULL, "::/1 ntpport" },
		{ "8000::", NULL, "-6 default ntpport" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL,
		  "-6 default ntpport" },
	};
	struct dpn_acl_table *t = table_of(lines, RTE_DIM(lines));

	(void)state;
	assert_null(t->lpm);
	assert_non_null(t->lpm6);
	check_cases(t, cases, RTE_DIM(cases));
	{
		static const struct hcase v4[] = {
			{ "10.0.0.1", NULL, NULL },
		};

		check_cases(t, v4, RTE_DIM(v4));
	}
	dpn_acl_table_free(t);
}

/* Defaults: none, plain, ntpport only, both; and a family with only its
 * default gets no LPM. */
static void
test_defaults(void **state)
{
	static const char *const none[] = {
		"10.0.0.0/8 noserve",
		"10.1.0.0/16 ntpport ignore",
		"2001:db8::/32 ntpport ignore",
	};
	static const struct hcase none_cases[] = {
		{ "8.8.8.8", NULL, NULL },
		{ "10.2.0.0", "10.0.0.0/8", "10.0.0.0/8" },
		{ "10.1.0.0", "10.0.0.0/8", "10.1.0.0/16 ntpport" },
		{ "2001:db8::1", NULL, "2001:db8::/32 ntpport" },
		{ "2001:db9::1", NULL, NULL },
	};
	static const char *const ntp_only[] = {
		"-4 default ntpport ignore",
		"-6 default ntpport noserve",
		"10.0.0.0/8 ntpport",
		"10.1.0.0/16 limited",
		"10.1.1.0/24 ntpport kod",
	};
	static const struct hcase ntp_only_cases[] = {
		{ "8.8.8.8", NULL, "-4 default ntpport" },
		{ "10.0.0.1", NULL, "10.0.0.0/8 ntpport" },
		{ "10.1.0.1", "10.1.0.0/16", "10.1.0.0/16" },
		{ "10.1.1.1", "10.1.0.0/16", "10.1.1.0/24 ntpport" },
		{ "2001:db8::1", NULL, "-6 default ntpport" },
	};
	static const char *const both[] = {
		"default noquery",
		"default ntpport ignore",
		"10.0.0.0/8 ntpport",
		"10.1.0.0/16 ntpport kod",
		"-6 ::/0 nopeer",	/* a /0 is the default: merged */
		"2001:db8::/32 ntpport notrust",
	};
	static const struct hcase both_cases[] = {
		{ "8.8.8.8", "-4 default", "-4 default ntpport" },
		{ "10.0.0.1", "-4 default", "10.0.0.0/8 ntpport" },
		{ "10.1.0.1", "-4 default", "10.1.0.0/16 ntpport" },
		{ "2001:db8::1", "-6 default", "2001:db8::/32 ntpport" },
		{ "2001:db9::1", "-6 default", "-6 default ntpport" },
	};
	static const char *const plain[] = {
		"0.0.0.0 mask 0.0.0.0 kod",	/* ntpd's own default */
		"-6 default limited",
		"10.0.0.0/8 ntpport",
	};
	static const struct hcase plain_cases[] = {
		{ "8.8.8.8", "-4 default", "-4 default" },
		{ "10.0.0.1", "-4 default", "10.0.0.0/8 ntpport" },
		{ "2001:db8::1", "-6 default", "-6 default" },
	};
	struct dpn_acl_table *t;
	uint32_t d;

	(void)state;
	t = table_of(none, RTE_DIM(none));
	check_cases(t, none_cases, RTE_DIM(none_cases));
	assert_int_equal(t->def4.rule_any, DPN_ACL_NO_RULE);
	assert_int_equal(t->def4.flags_ntp, 0);
	dpn_acl_table_free(t);

	t = table_of(ntp_only, RTE_DIM(ntp_only));
	check_cases(t, ntp_only_cases, RTE_DIM(ntp_only_cases));
	assert_null(t->lpm6);
	dpn_acl_table_free(t);

	t = table_of(both, RTE_DIM(both));
	check_cases(t, both_cases, RTE_DIM(both_cases));
	/* The /0 went into the IPv6 default, not into an LPM. */
	d = rule_index(t, "-6 default");
	assert_true(t->rules.rules[d].is_default);
	assert_int_equal(t->rules.rules[d].flags,
			 DPN_ACL_F(NOQUERY) | DPN_ACL_F(NOPEER));
	assert_int_equal(t->rules.nb, 7);
	dpn_acl_table_free(t);

	t = table_of(plain, RTE_DIM(plain));
	check_cases(t, plain_cases, RTE_DIM(plain_cases));
	assert_null(t->lpm6);
	assert_int_equal(t->def6.rule_ntp, t->def6.rule_any);
	assert_int_equal(t->def6.flags_ntp, DPN_ACL_F(LIMITED));
	dpn_acl_table_free(t);
}

/* Only defaults, and no rules at all. */
static void
test_no_lpm(void **state)
{
	static const char *const defaults[] = {
		"default ignore",
		"-6 default ntpport kod",
	};
	static const struct hcase cases[] = {
		{ "1.2.3.4", "-4 default", "-4 default" },
		{ "2001:db8::1", "-6 default", "-6 default ntpport" },
	};
	struct dpn_acl_ruleset rs;
	struct dpn_acl_table *t;

	(void)state;
	t = table_of(defaults, RTE_DIM(defaults));
	assert_null(t->lpm);
	assert_null(t->lpm6);
	assert_false(t->empty);
	check_cases(t, cases, RTE_DIM(cases));
	dpn_acl_table_free(t);

	dpn_acl_ruleset_init(&rs);
	t = make_table(&rs);
	assert_true(t->empty);
	assert_false(t->any_limited);
	assert_null(t->lpm);
	assert_null(t->lpm6);
	{
		static const struct hcase none[] = {
			{ "1.2.3.4", NULL, NULL },
			{ "::1", NULL, NULL },
		};

		check_cases(t, none, RTE_DIM(none));
	}
	dpn_acl_table_free(t);
}

/* Many rules under one /24 and across /24s: IPv4 tbl8 groups. */
static void
test_ipv4_long_prefixes(void **state)
{
	struct dpn_acl_ruleset rs;
	struct dpn_acl_table *t;
	struct query q;
	const struct dpn_acl_entry *e;
	char line[64];
	unsigned int i, d;
	uint32_t bit;

	(void)state;
	rng = 42;
	dpn_acl_ruleset_init(&rs);
	/* 10.0.0.0/d for every d, alternately ntpport, in 256 /24s. */
	for (d = 1; d <= 32; d++) {
		snprintf(line, sizeof(line), "10.0.0.0/%u%s", d,
			 d % 2 ? " ntpport noserve" : " kod");
		add_line(&rs, line);
	}
	for (i = 0; i < 256; i++) {
		snprintf(line, sizeof(line), "10.0.%u.%u/%u", i, i & 0xfc,
			 25 + i % 8);
		add_line(&rs, line);
	}
	t = make_table(&rs);
	memset(&q, 0, sizeof(q));
	q.family = AF_INET;
	/* All of 10.0.0.0/16, then one bit off 10.0.0.0 at each depth. */
	for (i = 0; i < (1u << 16) + 32 * 64; i++) {
		uint32_t a = 0x0a000000u | i;
		unsigned int p;

		if (i >= 1u << 16) {
			d = (i - (1u << 16)) / 64;
			bit = 0x80000000u >> d;
			a = ((0x0a000000u ^ bit) & ~(bit - 1)) |
				((uint32_t)rnd() & (bit - 1));
		}
		a = rte_cpu_to_be_32(a);
		memcpy(q.addr, &a, 4);
		table_lookup(t, &q, 1, &e);
		for (p = 0; p < 2; p++) {
			uint16_t sport = p ? NTP_PORT : OTHER_PORT;
			uint32_t got, gf, ref, rf;

			entry_pick(e, sport, &got, &gf);
			reference(t, &q, sport, &ref, &rf);
			if (got != ref || gf != rf)
				fail_msg("%s port %u: table '%s', matcher '%s'",
					 addr_text(AF_INET, q.addr), sport,
					 rule_text(t, got), rule_text(t, ref));
		}
	}
	dpn_acl_table_free(t);
	dpn_acl_ruleset_free(&rs);
}

/*
 * Counters.
 */

static struct dpn_acl_counters *
counter(struct dpn_acl_table *t, unsigned int w, unsigned int rule)
{
	return &dpn_acl_table_row(t, w)[rule];
}

/* Give every rule distinct counts on every worker and in base. */
static void
fill_counters(struct dpn_acl_table *t, uint64_t salt)
{
	unsigned int i, w;

	for (i = 0; i < t->rules.nb; i++) {
		t->base[i].hits += salt * 1000003 + i;
		t->base[i].drops += salt * 7 + i;
		for (w = 0; w < t->nb_workers; w++) {
			counter(t, w, i)->hits += salt + 1000 * i + 10 * w + 1;
			counter(t, w, i)->drops += salt + 100 * i + w;
			counter(t, w, i)->kods += salt + 3 * i + w * w;
		}
	}
}

static void
check_sums(const struct dpn_acl_table *t)
{
	struct dpn_acl_counters c, want;
	unsigned int i, w;

	for (i = 0; i < t->rules.nb; i++) {
		want = t->base[i];
		for (w = 0; w < t->nb_workers; w++) {
			const struct dpn_acl_counters *x =
				&dpn_acl_table_row(t, w)[i];

			want.hits += x->hits;
			want.drops += x->drops;
			want.kods += x->kods;
		}
		dpn_acl_table_rule_counters(t, i, &c);
		assert_int_equal(c.hits, want.hits);
		assert_int_equal(c.drops, want.drops);
		assert_int_equal(c.kods, want.kods);
	}
}

/* The old table's rule with @p r's key and ntpport-ness, or -1. */
static int
find_key(const struct dpn_acl_table *t, const struct dpn_acl_rule *r)
{
	unsigned int i;

	for (i = 0; i < t->rules.nb; i++)
		if (dpn_acl_same_key(&t->rules.rules[i], r) &&
		    ((t->rules.rules[i].flags ^ r->flags) &
		     DPN_ACL_F(NTPPORT)) == 0)
			return (int)i;
	return -1;
}

/* @p nt's base after inheriting from @p ot: kept rules carry their
 * totals, others start at 0. @return how many were carried. */
static unsigned int
check_inherited(const struct dpn_acl_table *nt, const struct dpn_acl_table *ot)
{
	struct dpn_acl_counters want;
	unsigned int i, carried = 0;

	for (i = 0; i < nt->rules.nb; i++) {
		int o = find_key(ot, &nt->rules.rules[i]);

		if (o >= 0) {
			dpn_acl_table_rule_counters(ot, o, &want);
			carried++;
		} else {
			memset(&want, 0, sizeof(want));
		}
		if (nt->base[i].hits != want.hits ||
		    nt->base[i].drops != want.drops ||
		    nt->base[i].kods != want.kods)
			fail_msg("'%s': base %" PRIu64 "/%" PRIu64 "/%" PRIu64
				 ", expected %" PRIu64 "/%" PRIu64 "/%" PRIu64,
				 rule_text(nt, i), nt->base[i].hits,
				 nt->base[i].drops, nt->base[i].kods,
				 want.hits, want.drops, want.kods);
	}
	return carried;
}

/*
 * Each worker writes its own row of rule counters on every request: two
 * rows that share a cache line would bounce it between the workers'
 * cores (false sharing). For tables of 0 to 20 rules on 3 workers: no
 * byte of one row's cache lines belongs to another row, and what each
 * worker counted in its row adds up, per rule, to what `show restrict`
 * reads.
 */
static void
test_counters_rows(void **state)
{
	static const char *const lines[] = {
		"default kod limited", "-6 default ignore", "198.18.0.0/15",
		"198.18.1.0/24 noserve", "198.18.2.0/24 nopeer",
		"198.18.3.0/24", "198.18.4.0/24", "198.18.5.0/24",
		"198.18.6.0/24", "198.18.7.0/24", "192.0.2.0/24", "192.0.2.128/25", "198.51.100.0/24",
		"203.0.113.0/24", "2001:db8::/32", "2001:db8:1::/48",
		"2001:db8:2::/48", "2001:db8:3::/48", "2001:db8:4::/48",
		"2001:db8:5::/48",
	};
	unsigned int n, w, i;

	(void)state;
	for (n = 0; n <= RTE_DIM(lines); n++) {
		struct dpn_acl_table *t = table_of(lines, n);

		for (w = 0; w < NB_WORKERS; w++) {
			uintptr_t first = (uintptr_t)dpn_acl_table_row(t, w);
			/* The last byte of the row's last counter, rules.nb
			 * (the worker's row has one more than the rules). */
			uintptr_t last = (uintptr_t)&dpn_acl_table_row(t, w)
				[t->rules.nb + 1] - 1;

			if (first % RTE_CACHE_LINE_SIZE != 0)
				fail_msg("%u rules: worker %u's counters start "
					 "%u bytes into a cache line", n, w,
					 (unsigned int)(first %
							RTE_CACHE_LINE_SIZE));
			if (w + 1 < NB_WORKERS &&
			    last / RTE_CACHE_LINE_SIZE >=
			    (uintptr_t)dpn_acl_table_row(t, w + 1) /
			    RTE_CACHE_LINE_SIZE)
				fail_msg("%u rules: workers %u and %u write the "
					 "same cache line", n, w, w + 1);
		}
		/* Worker w counts (w + 1) * 1000 + i hits for rule i, and so
		 * on: the sums are known without reading the rows. */
		for (w = 0; w < NB_WORKERS; w++)
			for (i = 0; i < t->rules.nb; i++) {
				struct dpn_acl_counters *c =
					&dpn_acl_table_row(t, w)[i];

				c->hits += (w + 1) * 1000 + i;
				c->drops += (w + 1) * 100 + i;
				c->kods += w + 1;
			}
		for (i = 0; i < t->rules.nb; i++) {
			struct dpn_acl_counters c;

			dpn_acl_table_rule_counters(t, i, &c);
			assert_int_equal(c.hits, 6000 + 3 * i);
			assert_int_equal(c.drops, 600 + 3 * i);
			assert_int_equal(c.kods, 6);
		}
		dpn_acl_table_free(t);
	}
}

static void
test_counters_inherit(void **state)
{
	static const char *const a[] = {
		"default kod limited",
		"-6 default ntpport ignore",
		"10.0.0.0/8 nomodify",
		"10.1.0.0/16 ntpport",
		"10.1.0.0/16 noserve",
		"192.0.2.1",
		"2001:db8::/32 nopeer",
		"2001:db8:1::/48 ntpport notrust",
	};
	static const char *const b[] = {
		"default kod limited",
		"-6 default ntpport ignore",
		"10.0.0.0/8 ignore",		/* flags changed: same rule */
		"10.1.0.0/16 noserve",
		"10.1.0.0/17 noserve",		/* new: other prefix */
		"10.2.0.0/16 ntpport",		/* new */
		"2001:db8::/32 nopeer",
		"2001:db8::/32 ntpport",	/* new: ntpport is the key */
		"2001:db8:1::/48 ntpport notrust",
		"2001:db8:2::/48",		/* new */
	};
	struct dpn_acl_table *ta, *tb, *tc;
	struct dpn_acl_counters c;
	uint32_t i;

	(void)state;
	ta = table_of(a, RTE_DIM(a));
	fill_counters(ta, 5);
	check_sums(ta);

	tb = table_of(b, RTE_DIM(b));
	for (i = 0; i < tb->rules.nb; i++) {
		dpn_acl_table_rule_counters(tb, i, &c);
		assert_int_equal(c.hits, 0);
		assert_int_equal(c.drops, 0);
		assert_int_equal(c.kods, 0);
	}
	dpn_acl_table_inherit(tb, ta);
	/* Three defaults, 10/8, 10.1/16, 2001:db8::/32, .../48 ntpport. */
	assert_int_equal(check_inherited(tb, ta), 7);
	i = rule_index(tb, "10.0.0.0/8");
	dpn_acl_table_rule_counters(tb, i, &c);
	assert_true(c.hits != 0);
	i = rule_index(tb, "2001:db8::/32 ntpport");
	dpn_acl_table_rule_counters(tb, i, &c);
	assert_int_equal(c.hits, 0);
	assert_int_equal(c.drops, 0);
	assert_int_equal(c.kods, 0);
	i = rule_index(tb, "10.1.0.0/17");
	dpn_acl_table_rule_counters(tb, i, &c);
	assert_int_equal(c.hits, 0);
	check_sums(tb);

	/* Counting goes on in the new table, on top of what it carried. */
	fill_counters(tb, 11);
	check_sums(tb);
	dpn_acl_table_free(ta);

	/* And again: back to a, totals carried through b. */
	tc = table_of(a, RTE_DIM(a));
	dpn_acl_table_inherit(tc, tb);
	assert_int_equal(check_inherited(tc, tb), 7);
	i = rule_index(tc, "192.0.2.1");
	dpn_acl_table_rule_counters(tc, i, &c);
	assert_int_equal(c.hits, 0);
	i = rule_index(tc, "10.1.0.0/16 ntpport");
	dpn_acl_table_rule_counters(tc, i, &c);
	assert_int_equal(c.kods, 0);
	check_sums(tc);
	dpn_acl_table_free(tb);
	dpn_acl_table_free(tc);

	/* From and to an empty table. */
	{
		struct dpn_acl_ruleset rs;
		struct dpn_acl_table *te;

		dpn_acl_ruleset_init(&rs);
		te = make_table(&rs);
		ta = table_of(a, RTE_DIM(a));
		fill_counters(ta, 1);
		dpn_acl_table_inherit(te, ta);
		dpn_acl_table_free(ta);
		ta = table_of(a, RTE_DIM(a));
		dpn_acl_table_inherit(ta, te);
		assert_int_equal(check_inherited(ta, te), 0);
		check_sums(ta);
		dpn_acl_table_free(ta);
		dpn_acl_table_free(te);
	}
}

/*
 * Random rule sets against the reference matcher.
 */

/* Randomize every bit of @p a (@p bytes long) from bit @p from on. */
static void
randomize_from(uint8_t *a, unsigned int from, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++) {
		unsigned int lo = i * 8;
		uint8_t keep;

		if (from >= lo + 8)
			continue;
		keep = from > lo ? (uint8_t)(0xff00u >> (from - lo)) : 0;
		a[i] = (uint8_t)((a[i] & keep) | ((uint8_t)rnd() & ~keep));
	}
}

enum def_mode { DEF_NONE, DEF_PLAIN, DEF_NTP, DEF_BOTH };

static uint32_t
random_flags(bool ntpport)
{
	uint32_t f = (uint32_t)rnd() & ((1u << DPN_ACL_NB_FLAGS) - 1);

	if (rnd_below(8) == 0)
		f = 0;
	f &= ~DPN_ACL_F(NTPPORT);
	return ntpport ? f | DPN_ACL_F(NTPPORT) : f;
}

static void
add_random(struct dpn_acl_ruleset *rs, int family, unsigned int nb,
	   enum def_mode mode)
{
	unsigned int bytes = family == AF_INET ? 4 : 16;
	unsigned int max = bytes * 8, nc = 1 + nb / 40, i, k;
	uint8_t bases[64][16];
	struct dpn_acl_rule r;

	if (nc > RTE_DIM(bases))
		nc = RTE_DIM(bases);
	memset(bases, 0, sizeof(bases));
	for (k = 0; k < nc; k++)
		randomize_from(bases[k], 0, 16);
	for (i = 0; i < nb; i++) {
		unsigned int q;

		memset(&r, 0, sizeof(r));
		r.family = family;
		/* Hosts and long prefixes are common, any length occurs. */
		r.prefix_len = rnd_below(4) == 0 ? max - rnd_below(3) :
			1 + rnd_below(max);
		memcpy(r.addr, bases[rnd_below(nc)], 16);
		/* Half the rules lie on the cluster's base: nested. */
		q = rnd_below(2) ? max : rnd_below(max + 1);
		randomize_from(r.addr, q, bytes);
		memset(r.addr + bytes, 0, 16 - bytes);
		r.flags = random_flags(rnd_below(8) < 3);
		assert_int_equal(dpn_acl_ruleset_add(rs, &r), 0);
		/* The same prefix with the other port condition. */
		if (rnd_below(5) == 0) {
			r.flags = random_flags(!(r.flags &
						 DPN_ACL_F(NTPPORT)));
			assert_int_equal(dpn_acl_ruleset_add(rs, &r), 0);
		}
	}
	if (mode == DEF_NONE)
		return;
	memset(&r, 0, sizeof(r));
	r.family = family;
	r.is_default = true;
	if (mode != DEF_NTP) {
		r.flags = random_flags(false);
		assert_int_equal(dpn_acl_ruleset_add(rs, &r), 0);
		/* A /0, as the parser makes it, merges into the default. */
		r.flags = random_flags(false);
		assert_int_equal(dpn_acl_ruleset_add(rs, &r), 0);
	}
	if (mode != DEF_PLAIN) {
		r.flags = random_flags(true);
		assert_int_equal(dpn_acl_ruleset_add(rs, &r), 0);
	}
}

/* A query near a random rule of the family (or anywhere, at times). */
static void
random_query(const struct dpn_acl_table *t, const uint32_t *idx,
	     unsigned int nb_idx, int family, struct query *q)
{
	unsigned int bytes = family == AF_INET ? 4 : 16;
	unsigned int max = bytes * 8;
	int from;

	memset(q, 0, sizeof(*q));
	q->family = family;
	if (nb_idx == 0 || rnd_below(10) == 0) {
		randomize_from(q->addr, 0, bytes);
		return;
	}
	{
		const struct dpn_acl_rule *r =
			&t->rules.rules[idx[rnd_below(nb_idx)]];

		memcpy(q->addr, r->addr, bytes);
		/* Mostly inside the rule, sometimes just outside. */
		from = (int)r->prefix_len - 3 + (int)rnd_below(16);
		if (from < 0)
			from = 0;
		if ((unsigned int)from < max)
			randomize_from(q->addr, from, bytes);
	}
}

struct rnd_case {
	uint64_t seed;
	unsigned int nb4, nb6;
	enum def_mode mode4, mode6;
};

static void
run_random(const struct rnd_case *rc, unsigned int nb_queries)
{
	static const uint16_t ports[2] = { OTHER_PORT, NTP_PORT };
	struct dpn_acl_ruleset rs;
	struct dpn_acl_table *t;
	struct query q[BATCH];
	const struct dpn_acl_entry *e[BATCH];
	uint32_t *idx4, *idx6;
	unsigned int i, j, p, n4 = 0, n6 = 0, done = 0, bad = 0;
	unsigned long hits[2] = { 0, 0 }, ntp_diff = 0;

	rng = rc->seed * 0x9e3779b97f4a7c15ull + 1;
	dpn_acl_ruleset_init(&rs);
	add_random(&rs, AF_INET, rc->nb4, rc->mode4);
	add_random(&rs, AF_INET6, rc->nb6, rc->mode6);
	t = make_table(&rs);
	assert_int_equal(t->lpm != NULL, rc->nb4 != 0);
	assert_int_equal(t->lpm6 != NULL, rc->nb6 != 0);

	idx4 = malloc(sizeof(*idx4) * (t->rules.nb + 1));
	idx6 = malloc(sizeof(*idx6) * (t->rules.nb + 1));
	assert_non_null(idx4);
	assert_non_null(idx6);
	for (i = 0; i < t->rules.nb; i++) {
		if (t->rules.rules[i].is_default)
			continue;
		if (t->rules.rules[i].family == AF_INET)
			idx4[n4++] = i;
		else
			idx6[n6++] = i;
	}

	while (done < nb_queries) {
		unsigned int n = BATCH;

		for (i = 0; i < n; i++) {
			int f = rnd_below(2) ? AF_INET : AF_INET6;

			random_query(t, f == AF_INET ? idx4 : idx6,
				     f == AF_INET ? n4 : n6, f, &q[i]);
		}
		table_lookup(t, q, n, e);
		for (i = 0; i < n; i++) {
			uint32_t got[2];

			for (p = 0; p < 2; p++) {
				uint32_t gf, ref, rf;

				entry_pick(e[i], ports[p], &got[p], &gf);
				reference(t, &q[i], ports[p], &ref, &rf);
				if (ref != DPN_ACL_NO_RULE &&
				    !t->rules.rules[ref].is_default)
					hits[p]++;
				if (got[p] == ref && gf == rf)
					continue;
				if (bad++ < 10)
					print_error("seed %" PRIu64 ": %s port %u: table '%s' flags %#x, matcher '%s' flags %#x\n",
						    rc->seed,
						    addr_text(q[i].family,
							      q[i].addr),
						    ports[p],
						    rule_text(t, got[p]), gf,
						    rule_text(t, ref), rf);
			}
			if (got[0] != got[1])
				ntp_diff++;
		}
		done += n;
	}
	if (bad != 0) {
		print_error("seed %" PRIu64 ": rules in match order:\n",
			    rc->seed);
		for (j = 0; j < t->rules.nb && j < 200; j++)
			print_error("  [%u] %s\n", j, rule_text(t, j));
		fail_msg("seed %" PRIu64 ": %u of %u lookups disagree",
			 rc->seed, bad, 2 * done);
	}
	/* The queries did exercise the rules. */
	if (n4 + n6 != 0) {
		assert_true(hits[0] > done / 4);
		assert_true(hits[1] > done / 4);
	}
	print_message("seed %" PRIu64 ": %u rules (%u v4, %u v6), %u addresses, %lu/%lu hit a prefix, %lu differ by port\n",
		      rc->seed, t->rules.nb, n4, n6, done, hits[0], hits[1],
		      ntp_diff);
	free(idx4);
	free(idx6);
	dpn_acl_table_free(t);
	dpn_acl_ruleset_free(&rs);
}

static void
test_random(void **state)
{
	static const struct rnd_case cases[] = {
		{ 1, 300, 300, DEF_NONE, DEF_PLAIN },
		{ 2, 1000, 1000, DEF_PLAIN, DEF_NTP },
		{ 3, 2000, 1500, DEF_NTP, DEF_BOTH },
		{ 4, 3000, 60, DEF_BOTH, DEF_NONE },
		{ 5, 40, 3000, DEF_BOTH, DEF_BOTH },
		{ 6, 500, 0, DEF_NONE, DEF_BOTH },	/* no IPv6 LPM */
		{ 7, 0, 500, DEF_NTP, DEF_NONE },	/* no IPv4 LPM */
		{ 8, 20, 20, DEF_NONE, DEF_NONE },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < RTE_DIM(cases); i++)
		run_random(&cases[i], 50000);
}

/*
 * EAL for the LPM tables' memory.
 */

static int
eal_setup(void **state)
{
	char prefix[64];
	char *argv[] = {
		"test_acl_table", "--no-huge", "-m", "512", "--no-pci",
		"--no-shconf", "--no-telemetry", "--file-prefix", prefix,
		"--log-level=error",
		NULL,
	};
	int ret;

	(void)state;
	snprintf(prefix, sizeof(prefix), "dpntest_acl_%d", (int)getpid());
	ret = rte_eal_init((int)RTE_DIM(argv) - 1, argv);
	if (ret < 0) {
		print_error("rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int
eal_teardown(void **state)
{
	char dir[PATH_MAX];

	(void)state;
	/* With --no-shconf and --no-telemetry the runtime directory is
	 * empty after cleanup: remove it. */
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_rules),
		cmocka_unit_test(test_ipv6_rules),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_no_lpm),
		cmocka_unit_test(test_ipv4_long_prefixes),
		cmocka_unit_test(test_counters_rows),
		cmocka_unit_test(test_counters_inherit),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
