/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for `restrict` rules: what ntpd's syntax parses into, how a
 * rule set merges and orders rules, which rule the reference matcher
 * picks, and what the flags decide for each kind of request.
 */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "dpn_acl.h"

#define MAX_OUT 64
#define MAX_WORDS 32

static struct dpn_acl_rule out[MAX_OUT];
static char err[256];

/* Split @p line (copied) into words and parse it. */
static int
parse(const char *line)
{
	static char buf[512];
	char *words[MAX_WORDS], *s, *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (s = strtok_r(buf, " ", &save); s != NULL;
	     s = strtok_r(NULL, " ", &save))
		words[n++] = s;
	err[0] = '\0';
	memset(out, 0x5a, sizeof(out));
	return dpn_acl_parse(words, n, out, MAX_OUT, err, sizeof(err));
}

static void
parse_fails(const char *line, const char *msg)
{
	if (parse(line) != -1)
		fail_msg("'%s' parsed", line);
	if (strcmp(err, msg) != 0)
		fail_msg("'%s': error '%s', expected '%s'", line, err, msg);
}

static void
parse_prefix_fails(const char *line, const char *msg)
{
	if (parse(line) != -1)
		fail_msg("'%s' parsed", line);
	if (strncmp(err, msg, strlen(msg)) != 0)
		fail_msg("'%s': error '%s', expected '%s...'", line, err, msg);
}

static void
assert_rule(const struct dpn_acl_rule *r, int family, const char *addr,
	    unsigned int prefix, uint32_t flags)
{
	uint8_t a[16] = { 0 };

	assert_int_equal(r->family, family);
	assert_int_equal(r->prefix_len, prefix);
	assert_false(r->is_default);
	assert_int_equal(inet_pton(family, addr, a), 1);
	assert_memory_equal(r->addr, a, 16);
	assert_int_equal(r->flags, flags);
}

static void
assert_default(const struct dpn_acl_rule *r, int family, uint32_t flags)
{
	static const uint8_t zero[16];

	assert_int_equal(r->family, family);
	assert_true(r->is_default);
	assert_int_equal(r->prefix_len, 0);
	assert_memory_equal(r->addr, zero, 16);
	assert_int_equal(r->flags, flags);
}

static struct dpn_acl_rule
one(const char *line)
{
	if (parse(line) != 1)
		fail_msg("'%s' did not give one rule: %s", line, err);
	return out[0];
}

static void
format_is(const char *line, const char *expect)
{
	struct dpn_acl_rule r = one(line);
	char buf[256];
	int n;

	n = dpn_acl_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, expect);
	assert_int_equal(n, strlen(expect));
}

/* ---- flags ---- */

static void
test_flag_names(void **state)
{
	assert_string_equal(dpn_acl_flag_name(DPN_ACL_BIT_IGNORE), "ignore");
	assert_string_equal(dpn_acl_flag_name(DPN_ACL_BIT_NOMRULIST),
			    "nomrulist");
	assert_null(dpn_acl_flag_name(DPN_ACL_NB_FLAGS));
	assert_null(dpn_acl_flag_name(1000));
}

static void
test_every_flag_parses(void **state)
{
	char line[64];
	unsigned int i;

	for (i = 0; i < DPN_ACL_NB_FLAGS; i++) {
		const char *name = dpn_acl_flag_name(i);

		assert_non_null(name);
		snprintf(line, sizeof(line), "198.18.0.1 %s", name);
		assert_int_equal(parse(line), 1);
		assert_int_equal(out[0].flags, 1u << i);
	}
	/* All together, in a shuffled order, some repeated. */
	assert_int_equal(parse("198.18.0.1 nomrulist lowpriotrap ntpport "
			       "version limited kod notrust nopeer notrap "
			       "nomodify noquery noserve ignore kod kod"), 1);
	assert_int_equal(out[0].flags, (1u << DPN_ACL_NB_FLAGS) - 1);
	/* No flags at all is a rule too: it lifts the default's. */
	assert_int_equal(parse("198.18.0.1"), 1);
	assert_int_equal(out[0].flags, 0);
}

/* ---- addresses ---- */

static void
test_host_rules(void **state)
{
	assert_int_equal(parse("198.18.0.5 nomodify"), 1);
	assert_rule(&out[0], AF_INET, "198.18.0.5", 32, DPN_ACL_F(NOMODIFY));
	assert_int_equal(out[0].line, 0);
	assert_int_equal(parse("2001:db8::1 kod"), 1);
	assert_rule(&out[0], AF_INET6, "2001:db8::1", 128, DPN_ACL_F(KOD));
	assert_int_equal(parse("::1"), 1);
	assert_rule(&out[0], AF_INET6, "::1", 128, 0);
	assert_int_equal(parse("::ffff:198.18.0.1"), 1);
	assert_rule(&out[0], AF_INET6, "::ffff:198.18.0.1", 128, 0);
}

static void
test_mask_and_cidr(void **state)
{
	struct dpn_acl_rule a, b;

	a = one("198.18.0.0 mask 255.255.255.0 nomodify notrap");
	b = one("198.18.0.0/24 notrap nomodify");
	assert_rule(&a, AF_INET, "198.18.0.0", 24,
		    DPN_ACL_F(NOMODIFY) | DPN_ACL_F(NOTRAP));
	assert_memory_equal(&a, &b, sizeof(a));

	/* Flags may come before the mask. */
	b = one("198.18.0.0 notrap mask 255.255.255.0 nomodify");
	assert_memory_equal(&a, &b, sizeof(a));

	a = one("2001:db8:: mask ffff:ffff:: kod");
	b = one("2001:db8::/32 kod");
	assert_rule(&a, AF_INET6, "2001:db8::", 32, DPN_ACL_F(KOD));
	assert_memory_equal(&a, &b, sizeof(a));

	a = one("198.18.0.1 mask 255.255.255.255");
	assert_rule(&a, AF_INET, "198.18.0.1", 32, 0);
	a = one("198.18.0.1/32");
	assert_rule(&a, AF_INET, "198.18.0.1", 32, 0);
	a = one("10.0.0.0 mask 255.128.0.0");
	assert_rule(&a, AF_INET, "10.0.0.0", 9, 0);
}

static void
test_host_bits_cleared(void **state)
{
	struct dpn_acl_rule a = one("198.18.0.77 mask 255.255.255.0");

	assert_rule(&a, AF_INET, "198.18.0.0", 24, 0);
	a = one("198.18.1.255/23");
	assert_rule(&a, AF_INET, "198.18.0.0", 23, 0);
	a = one("2001:db8:ffff::1/33");
	assert_rule(&a, AF_INET6, "2001:db8:8000::", 33, 0);
}

static void
test_default_both_families(void **state)
{
	uint32_t f = DPN_ACL_F(KOD) | DPN_ACL_F(LIMITED);

	assert_int_equal(parse("default kod limited"), 2);
	assert_default(&out[0], AF_INET, f);
	assert_default(&out[1], AF_INET6, f);

	assert_int_equal(parse("-4 default kod limited"), 1);
	assert_default(&out[0], AF_INET, f);
	assert_int_equal(parse("-6 default kod limited"), 1);
	assert_default(&out[0], AF_INET6, f);
	assert_int_equal(parse("-6 -6 default"), 1);
	assert_default(&out[0], AF_INET6, 0);

	/* A zero mask is how ntpd stores the default itself. */
	assert_int_equal(parse("0.0.0.0 mask 0.0.0.0 noquery"), 1);
	assert_default(&out[0], AF_INET, DPN_ACL_F(NOQUERY));
	assert_int_equal(parse("::/0"), 1);
	assert_default(&out[0], AF_INET6, 0);
	assert_int_equal(parse("10.1.2.3/0"), 1);
	assert_default(&out[0], AF_INET, 0);

	/* Room for one: the IPv4 default only. */
	{
		char *w[] = { "default" };

		assert_int_equal(dpn_acl_parse(w, 1, out, 1, err,
					       sizeof(err)), 1);
		assert_default(&out[0], AF_INET, 0);
	}
}

static void
test_family_options(void **state)
{
	struct dpn_acl_rule r = one("-4 198.18.0.1 ignore");

	assert_rule(&r, AF_INET, "198.18.0.1", 32, DPN_ACL_F(IGNORE));
	r = one("-6 2001:db8::/48");
	assert_rule(&r, AF_INET6, "2001:db8::", 48, 0);
	parse_fails("-4 2001:db8::1", "'-4' given with IPv6 address "
		    "'2001:db8::1'");
	parse_fails("-6 198.18.0.1", "'-6' given with IPv4 address "
		    "'198.18.0.1'");
	parse_fails("-4 -6 default", "'-4' and '-6' both given");
	parse_fails("-6 198.18.0.0 mask 255.255.0.0",
		    "'-6' given with IPv4 address '198.18.0.0'");
	parse_fails("-6 localhost mask 255.255.0.0",
		    "mask 255.255.0.0 is IPv4 but '-6' was given");
}

static void
test_errors(void **state)
{
	parse_fails("", "missing address or 'default'");
	parse_fails("-4", "missing address or 'default'");
	parse_fails("198.18.0.0 mask", "'mask' needs a value");
	parse_fails("198.18.0.0 nomodify mask", "'mask' needs a value");
	parse_fails("198.18.0.0 mask 255.0.255.0",
		    "mask 255.0.255.0 is not contiguous (only prefix masks "
		    "are supported)");
	parse_fails("2001:db8:: mask ffff::ffff",
		    "mask ffff::ffff is not contiguous (only prefix masks "
		    "are supported)");
	parse_fails("198.18.0.0 mask 255.255.0.0 mask 255.255.0.0",
		    "'mask' given more than once");
	parse_fails("198.18.0.0 mask 255.255.0", "invalid mask '255.255.0'");
	parse_fails("198.18.0.0 mask ffff::",
		    "mask ffff:: is IPv6 but the address is IPv4");
	parse_fails("2001:db8:: mask 255.255.0.0",
		    "mask 255.255.0.0 is IPv4 but the address is IPv6");
	parse_fails("198.18.0.0/16 mask 255.255.0.0",
		    "'198.18.0.0/16' already has a prefix length; drop 'mask'");
	parse_fails("default mask 255.0.0.0", "'default' takes no mask");
	parse_fails("198.18.0.1 foo", "unknown restrict flag 'foo'");
	parse_fails("198.18.0.1 nomodify -4", "unknown restrict flag '-4'");
	parse_fails("default Kod", "unknown restrict flag 'Kod'");
	parse_fails("198.18.0.256", "invalid IPv4 address '198.18.0.256'");
	parse_fails("198.18.0", "invalid IPv4 address '198.18.0'");
	parse_fails("2001:db8::g", "invalid IPv6 address '2001:db8::g'");
	parse_fails("fe80::1%eth0", "invalid IPv6 address 'fe80::1%eth0'");
	parse_fails("198.18.0.0/33",
		    "invalid prefix length '33' for IPv4 (must be 0..32)");
	parse_fails("2001:db8::/129",
		    "invalid prefix length '129' for IPv6 (must be 0..128)");
	parse_fails("198.18.0.0/", "invalid prefix length '' for IPv4 "
		    "(must be 0..32)");
	parse_fails("198.18.0.0/2x", "invalid prefix length '2x' for IPv4 "
		    "(must be 0..32)");
	parse_fails("host.example/24", "invalid address 'host.example/24'");
	parse_fails("source nomodify", "'restrict source' is not supported");
}

static void
test_hostnames(void **state)
{
	int n = parse("localhost nomodify"), i;
	bool v4 = false, v6 = false;

	assert_true(n >= 1);
	for (i = 0; i < n; i++) {
		if (out[i].family == AF_INET) {
			assert_rule(&out[i], AF_INET, "127.0.0.1", 32,
				    DPN_ACL_F(NOMODIFY));
			v4 = true;
		} else {
			assert_rule(&out[i], AF_INET6, "::1", 128,
				    DPN_ACL_F(NOMODIFY));
			v6 = true;
		}
	}
	assert_true(v4 || v6);
	/* No duplicates however /etc/hosts lists them. */
	assert_int_equal(n, (int)v4 + (int)v6);

	if (v4) {
		n = parse("-4 localhost mask 255.0.0.0");
		assert_int_equal(n, 1);
		assert_rule(&out[0], AF_INET, "127.0.0.0", 8, 0);
	}
	parse_prefix_fails("no-such-host.invalid",
			   "cannot resolve host name 'no-such-host.invalid': ");
	parse_fails("localhost mask 0.0.0.0",
		    "a zero mask on host name 'localhost' would match "
		    "everything; use 'default'");
}

/* ---- format ---- */

static void
test_format(void **state)
{
	format_is("198.18.0.0 mask 255.255.255.0 notrap nomodify",
		  "restrict 198.18.0.0 mask 255.255.255.0 nomodify notrap");
	format_is("198.18.0.0/9", "restrict 198.0.0.0 mask 255.128.0.0");
	format_is("127.0.0.1", "restrict 127.0.0.1");
	format_is("::1", "restrict ::1");
	format_is("2001:db8::/32 kod", "restrict 2001:db8::/32 kod");
	format_is("2001:0db8:0::5/128 ntpport",
		  "restrict 2001:db8::5 ntpport");
	format_is("-4 default nomrulist ignore noserve noquery nomodify "
		  "notrap nopeer notrust kod limited version ntpport "
		  "lowpriotrap",
		  "restrict -4 default ignore noserve noquery nomodify "
		  "notrap nopeer notrust kod limited version ntpport "
		  "lowpriotrap nomrulist");
	format_is("-6 default", "restrict -6 default");
}

static void
test_format_round_trip_and_truncation(void **state)
{
	static const char *const lines[] = {
		"198.18.0.0 mask 255.255.254.0 kod",
		"2001:db8:1::/48 nopeer noquery",
		"-6 default limited",
		"10.0.0.1 ntpport version",
	};
	struct dpn_acl_rule r, back;
	char buf[256], small[8];
	unsigned int i;
	int n;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		r = one(lines[i]);
		n = dpn_acl_format(&r, buf, sizeof(buf));
		assert_true(n > 9);
		back = one(buf + strlen("restrict "));
		assert_memory_equal(&r, &back, sizeof(r));

		memset(small, 'Z', sizeof(small));
		assert_int_equal(dpn_acl_format(&r, small, 6), n);
		assert_string_equal(small, "restr");
		assert_int_equal(small[6], 'Z');
		assert_int_equal(dpn_acl_format(&r, NULL, 0), n);
	}
}

/* ---- rule sets ---- */

static void
add_line(struct dpn_acl_ruleset *rs, const char *line, unsigned int nr)
{
	int n = parse(line), i;

	if (n < 1)
		fail_msg("'%s': %s", line, err);
	for (i = 0; i < n; i++) {
		out[i].line = nr;
		assert_int_equal(dpn_acl_ruleset_add(rs, &out[i]), 0);
	}
}

static void
test_ruleset_merge(void **state)
{
	struct dpn_acl_ruleset rs;

	dpn_acl_ruleset_init(&rs);
	add_line(&rs, "198.18.0.0/24 nomodify", 1);
	add_line(&rs, "198.18.0.0 mask 255.255.255.0 notrap", 2);
	add_line(&rs, "198.18.0.9/24 kod", 3);	/* same prefix once masked */
	assert_int_equal(rs.nb, 1);
	assert_int_equal(rs.rules[0].flags, DPN_ACL_F(NOMODIFY) |
			 DPN_ACL_F(NOTRAP) | DPN_ACL_F(KOD));
	assert_int_equal(rs.rules[0].line, 1);

	/* ntpport entries are kept apart from plain ones. */
	add_line(&rs, "198.18.0.0/24 ntpport noquery", 4);
	add_line(&rs, "198.18.0.0/24 ntpport nopeer", 5);
	assert_int_equal(rs.nb, 2);
	assert_int_equal(rs.rules[1].flags, DPN_ACL_F(NTPPORT) |
			 DPN_ACL_F(NOQUERY) | DPN_ACL_F(NOPEER));

	/* Other prefix length, other family, default: all distinct. */
	add_line(&rs, "198.18.0.0/25", 6);
	add_line(&rs, "::ffff:198.18.0.0/120", 7);
	add_line(&rs, "default", 8);
	add_line(&rs, "-4 default kod", 9);
	assert_int_equal(rs.nb, 6);
	dpn_acl_ruleset_free(&rs);
	assert_null(rs.rules);
	assert_int_equal(rs.nb, 0);
}

static void
test_ruleset_add_masks(void **state)
{
	struct dpn_acl_ruleset rs;
	struct dpn_acl_rule r;

	dpn_acl_ruleset_init(&rs);
	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.prefix_len = 16;
	r.addr[0] = 198;
	r.addr[1] = 18;
	r.addr[2] = 7;
	assert_int_equal(dpn_acl_ruleset_add(&rs, &r), 0);
	assert_int_equal(rs.rules[0].addr[2], 0);
	r.addr[3] = 1;
	r.flags = DPN_ACL_F(KOD);
	assert_int_equal(dpn_acl_ruleset_add(&rs, &r), 0);
	assert_int_equal(rs.nb, 1);
	assert_int_equal(rs.rules[0].flags, DPN_ACL_F(KOD));
	dpn_acl_ruleset_free(&rs);
}

/* Append then normalize means what adding one by one means. */
static void
test_ruleset_append_normalize(void **state)
{
	struct dpn_acl_ruleset rs;
	struct dpn_acl_rule r;

	dpn_acl_ruleset_init(&rs);
	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.prefix_len = 24;
	r.addr[0] = 198;
	r.addr[1] = 18;
	r.addr[2] = 7;
	r.addr[3] = 9;			/* masked away */
	r.line = 5;
	r.flags = DPN_ACL_F(KOD);
	assert_int_equal(dpn_acl_ruleset_append(&rs, &r), 0);
	assert_int_equal(rs.rules[0].addr[3], 0);
	r.line = 2;
	r.flags = DPN_ACL_F(LIMITED);
	assert_int_equal(dpn_acl_ruleset_append(&rs, &r), 0);
	/* ntpport entries stay apart, as with dpn_acl_ruleset_add(). */
	r.flags = DPN_ACL_F(NTPPORT);
	assert_int_equal(dpn_acl_ruleset_append(&rs, &r), 0);
	r.prefix_len = 32;
	r.addr[3] = 1;
	r.flags = DPN_ACL_F(IGNORE);
	assert_int_equal(dpn_acl_ruleset_append(&rs, &r), 0);
	assert_int_equal(rs.nb, 4);
	dpn_acl_ruleset_normalize(&rs);
	assert_int_equal(rs.nb, 3);
	/* Match order: the /32, then the ntpport /24, then the plain /24. */
	assert_int_equal(rs.rules[0].prefix_len, 32);
	assert_int_equal(rs.rules[1].flags, DPN_ACL_F(NTPPORT));
	assert_int_equal(rs.rules[2].flags,
			 DPN_ACL_F(KOD) | DPN_ACL_F(LIMITED));
	assert_int_equal(rs.rules[2].line, 2);	/* the first line */
	dpn_acl_ruleset_free(&rs);
}

static void
test_ruleset_many(void **state)
{
	struct dpn_acl_ruleset rs, copy;
	struct dpn_acl_rule r;
	unsigned int i;

	dpn_acl_ruleset_init(&rs);
	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.prefix_len = 32;
	for (i = 0; i < 1000; i++) {
		r.addr[2] = i >> 8;
		r.addr[3] = i & 0xff;
		assert_int_equal(dpn_acl_ruleset_add(&rs, &r), 0);
	}
	assert_int_equal(rs.nb, 1000);
	assert_int_equal(dpn_acl_ruleset_copy(&copy, &rs), 0);
	assert_int_equal(copy.nb, 1000);
	assert_ptr_not_equal(copy.rules, rs.rules);
	assert_memory_equal(copy.rules, rs.rules, 1000 * sizeof(r));
	dpn_acl_ruleset_free(&rs);
	dpn_acl_ruleset_free(&copy);

	/* Copying an empty set allocates nothing. */
	dpn_acl_ruleset_init(&rs);
	assert_int_equal(dpn_acl_ruleset_copy(&copy, &rs), 0);
	assert_int_equal(copy.nb, 0);
	dpn_acl_ruleset_free(&copy);
}

static void
test_ruleset_del(void **state)
{
	struct dpn_acl_ruleset rs;
	struct dpn_acl_rule r;

	dpn_acl_ruleset_init(&rs);
	add_line(&rs, "198.18.0.0/24 nomodify", 1);
	add_line(&rs, "198.18.0.0/24 ntpport kod", 2);
	add_line(&rs, "default noquery", 3);
	assert_int_equal(rs.nb, 4);

	/* Flags other than ntpport do not matter to find it. */
	r = one("198.18.0.3/24 ignore");
	assert_int_equal(dpn_acl_ruleset_del(&rs, &r), 0);
	assert_int_equal(rs.nb, 3);
	assert_int_equal(dpn_acl_ruleset_del(&rs, &r), -ENOENT);
	assert_true(rs.rules[0].flags & DPN_ACL_F(NTPPORT));
	r = one("198.18.0.0/24 ntpport");
	assert_int_equal(dpn_acl_ruleset_del(&rs, &r), 0);
	r = one("198.18.0.0/23");
	assert_int_equal(dpn_acl_ruleset_del(&rs, &r), -ENOENT);
	r = one("-6 default");
	assert_int_equal(dpn_acl_ruleset_del(&rs, &r), 0);
	assert_int_equal(rs.nb, 1);
	assert_int_equal(rs.rules[0].family, AF_INET);
	assert_true(rs.rules[0].is_default);
	dpn_acl_ruleset_free(&rs);
}

static void
test_ruleset_sort(void **state)
{
	static const char *const expect[] = {
		"restrict 198.18.0.1",
		"restrict 198.18.0.0 mask 255.255.255.0 ntpport",
		"restrict 198.18.0.0 mask 255.255.255.0 kod",
		"restrict 198.19.0.0 mask 255.255.255.0",
		"restrict 10.0.0.0 mask 255.0.0.0",
		"restrict -4 default ntpport",
		"restrict -4 default noquery",
		"restrict ::1",
		"restrict 2001:db8::/32",
		"restrict -6 default noquery",
	};
	struct dpn_acl_ruleset rs;
	char buf[128];
	unsigned int i;

	dpn_acl_ruleset_init(&rs);
	add_line(&rs, "default noquery", 1);
	add_line(&rs, "2001:db8::/32", 2);
	add_line(&rs, "10.0.0.0/8", 3);
	add_line(&rs, "198.19.0.0/24", 4);
	add_line(&rs, "::1", 5);
	add_line(&rs, "-4 default ntpport", 6);
	add_line(&rs, "198.18.0.0/24 kod", 7);
	add_line(&rs, "198.18.0.1", 8);
	add_line(&rs, "198.18.0.0/24 ntpport", 9);
	dpn_acl_ruleset_sort(&rs);
	assert_int_equal(rs.nb, sizeof(expect) / sizeof(expect[0]));
	for (i = 0; i < rs.nb; i++) {
		dpn_acl_format(&rs.rules[i], buf, sizeof(buf));
		assert_string_equal(buf, expect[i]);
	}
	dpn_acl_ruleset_free(&rs);
}

/* ---- matching ---- */

static const struct dpn_acl_rule *
match(const struct dpn_acl_ruleset *rs, const char *addr, uint16_t sport)
{
	uint8_t a[16];
	int family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, addr, a), 1);
	return dpn_acl_match(rs, family, a, sport);
}

static uint32_t
match_flags(const struct dpn_acl_ruleset *rs, const char *addr,
	    uint16_t sport)
{
	const struct dpn_acl_rule *r = match(rs, addr, sport);

	if (r == NULL)
		fail_msg("%s matched nothing", addr);
	return r->flags;
}

static void
test_match_longest_prefix(void **state)
{
	struct dpn_acl_ruleset rs;

	dpn_acl_ruleset_init(&rs);
	/* Added short to long: insertion order must not matter. */
	add_line(&rs, "10.0.0.0/8 noquery", 1);
	add_line(&rs, "10.1.0.0/16 nopeer", 2);
	add_line(&rs, "10.1.2.0/24 kod", 3);
	add_line(&rs, "10.1.2.3 ignore", 4);
	assert_int_equal(match_flags(&rs, "10.1.2.3", 123),
			 DPN_ACL_F(IGNORE));
	assert_int_equal(match_flags(&rs, "10.1.2.4", 123), DPN_ACL_F(KOD));
	assert_int_equal(match_flags(&rs, "10.1.3.4", 123),
			 DPN_ACL_F(NOPEER));
	assert_int_equal(match_flags(&rs, "10.2.3.4", 123),
			 DPN_ACL_F(NOQUERY));
	/* No default: nothing applies. */
	assert_null(match(&rs, "11.0.0.1", 123));
	assert_null(match(&rs, "::ffff:10.1.2.3", 123));

	dpn_acl_ruleset_sort(&rs);
	assert_int_equal(match_flags(&rs, "10.1.2.4", 123), DPN_ACL_F(KOD));
	assert_int_equal(match_flags(&rs, "10.2.3.4", 123),
			 DPN_ACL_F(NOQUERY));
	dpn_acl_ruleset_free(&rs);

	/* Empty set. */
	dpn_acl_ruleset_init(&rs);
	assert_null(match(&rs, "10.0.0.1", 123));
}

static void
test_match_defaults_and_families(void **state)
{
	struct dpn_acl_ruleset rs;

	dpn_acl_ruleset_init(&rs);
	add_line(&rs, "-4 default noquery", 1);
	add_line(&rs, "2001:db8::/32 kod", 2);
	add_line(&rs, "198.18.0.0/15 nopeer", 3);
	assert_int_equal(match_flags(&rs, "198.19.255.255", 1),
			 DPN_ACL_F(NOPEER));
	assert_int_equal(match_flags(&rs, "192.0.2.1", 1), DPN_ACL_F(NOQUERY));
	assert_int_equal(match_flags(&rs, "2001:db8:5::1", 1), DPN_ACL_F(KOD));
	/* IPv6 has no default of its own: the IPv4 one does not apply. */
	assert_null(match(&rs, "2001:db9::1", 1));
	/* ::ffff:a.b.c.d is an IPv6 source; IPv4 rules do not see it. */
	assert_null(match(&rs, "::ffff:198.18.0.1", 1));

	add_line(&rs, "-6 default limited", 4);
	assert_int_equal(match_flags(&rs, "2001:db9::1", 1),
			 DPN_ACL_F(LIMITED));
	dpn_acl_ruleset_free(&rs);
}

static void
test_match_ntpport(void **state)
{
	struct dpn_acl_ruleset rs;

	dpn_acl_ruleset_init(&rs);
	add_line(&rs, "198.18.0.0/24 kod", 1);
	add_line(&rs, "198.18.0.0/24 ntpport noserve", 2);
	add_line(&rs, "198.18.0.0/16 ntpport ignore", 3);
	/* Same prefix: ntpport wins for port 123 only. */
	assert_int_equal(match_flags(&rs, "198.18.0.1", 123),
			 DPN_ACL_F(NTPPORT) | DPN_ACL_F(NOSERVE));
	assert_int_equal(match_flags(&rs, "198.18.0.1", 50000),
			 DPN_ACL_F(KOD));
	/* A longer plain prefix beats a shorter ntpport one. */
	add_line(&rs, "198.18.0.0/25 nopeer", 4);
	assert_int_equal(match_flags(&rs, "198.18.0.1", 123),
			 DPN_ACL_F(NOPEER));
	/* Only an ntpport rule covers it: other ports fall through. */
	assert_int_equal(match_flags(&rs, "198.18.1.1", 123),
			 DPN_ACL_F(NTPPORT) | DPN_ACL_F(IGNORE));
	assert_null(match(&rs, "198.18.1.1", 1024));

	/* ntpport on the default. */
	add_line(&rs, "-4 default ntpport noquery", 5);
	assert_int_equal(match_flags(&rs, "10.0.0.1", 123),
			 DPN_ACL_F(NTPPORT) | DPN_ACL_F(NOQUERY));
	assert_null(match(&rs, "10.0.0.1", 124));
	add_line(&rs, "-4 default limited", 6);
	assert_int_equal(match_flags(&rs, "10.0.0.1", 123),
			 DPN_ACL_F(NTPPORT) | DPN_ACL_F(NOQUERY));
	assert_int_equal(match_flags(&rs, "10.0.0.1", 124),
			 DPN_ACL_F(LIMITED));
	/* And a non-matching ntpport entry does not hide the default. */
	assert_int_equal(match_flags(&rs, "198.18.1.1", 1024),
			 DPN_ACL_F(LIMITED));
	dpn_acl_ruleset_free(&rs);
}

/* ---- the decision ---- */

static void
test_decide(void **state)
{
	static const unsigned int modes[] = { 1, 3, 6, 7 };
	unsigned int i, bit;

	for (i = 0; i < 4; i++) {
		unsigned int m = modes[i];
		bool ctl = m == 6 || m == 7;

		assert_int_equal(dpn_acl_decide(0, m, 4, false), DPN_ACL_SERVE);
		assert_int_equal(dpn_acl_decide(0, m, 1, false), DPN_ACL_SERVE);
		for (bit = 0; bit < DPN_ACL_NB_FLAGS; bit++) {
			uint32_t f = 1u << bit;
			enum dpn_acl_verdict v4 = dpn_acl_decide(f, m, 4, false);
			enum dpn_acl_verdict v3 = dpn_acl_decide(f, m, 3, false);
			enum dpn_acl_verdict want4 = DPN_ACL_SERVE;
			enum dpn_acl_verdict want3;

			switch (bit) {
			case DPN_ACL_BIT_IGNORE:
				want4 = DPN_ACL_DROP_IGNORE;
				break;
			case DPN_ACL_BIT_NOQUERY:
				if (ctl)
					want4 = DPN_ACL_DROP_NOQUERY;
				break;
			case DPN_ACL_BIT_NOSERVE:
				if (!ctl)
					want4 = DPN_ACL_DROP_NOSERVE;
				break;
			case DPN_ACL_BIT_NOTRUST:
				if (!ctl)
					want4 = DPN_ACL_DROP_NOTRUST;
				break;
			case DPN_ACL_BIT_NOPEER:
				if (m == 1)
					want4 = DPN_ACL_DROP_NOPEER;
				break;
			default:
				break;
			}
			want3 = want4;
			if (bit == DPN_ACL_BIT_VERSION && !ctl)
				want3 = DPN_ACL_DROP_VERSION;
			if (v4 != want4 || v3 != want3)
				fail_msg("flag %s mode %u: got %d/%d, want "
					 "%d/%d", dpn_acl_flag_name(bit), m,
					 v4, v3, want4, want3);
		}
	}
	/* Order when several apply. */
	assert_int_equal(dpn_acl_decide(DPN_ACL_F(NOSERVE) |
					DPN_ACL_F(IGNORE), 3, 4, false),
			 DPN_ACL_DROP_IGNORE);
	assert_int_equal(dpn_acl_decide(DPN_ACL_F(NOTRUST) |
					DPN_ACL_F(NOSERVE), 3, 4, true),
			 DPN_ACL_DROP_NOSERVE);
	/* notrust: a request with a MAC goes on to its check. */
	assert_int_equal(dpn_acl_decide(DPN_ACL_F(NOTRUST), 3, 4, true),
			 DPN_ACL_SERVE);
	assert_int_equal(dpn_acl_decide(DPN_ACL_F(NOTRUST), 1, 3, true),
			 DPN_ACL_SERVE);
	assert_int_equal(dpn_acl_decide(DPN_ACL_F(NOTRUST), 3, 4, false),
			 DPN_ACL_DROP_NOTRUST);
	assert_int_equal(dpn_acl_decide(DPN_ACL_F(VERSION) |
					DPN_ACL_F(NOPEER), 1, 2, false),
			 DPN_ACL_DROP_VERSION);
	assert_int_equal(dpn_acl_decide(DPN_ACL_F(NOSERVE), 6, 2, false),
			 DPN_ACL_SERVE);
}

/* ---- the seed configuration ---- */

static void
test_seed_config(void **state)
{
	static const char *const seed[] = {
		"default kod limited nomodify notrap nopeer noquery",
		"-6 default kod limited nomodify notrap nopeer noquery",
		"198.18.0.0 mask 255.255.255.0 nomodify notrap",
		"127.0.0.1",
		"::1",
	};
	const uint32_t dflt = DPN_ACL_F(KOD) | DPN_ACL_F(LIMITED) |
		DPN_ACL_F(NOMODIFY) | DPN_ACL_F(NOTRAP) | DPN_ACL_F(NOPEER) |
		DPN_ACL_F(NOQUERY);
	const uint32_t lan = DPN_ACL_F(NOMODIFY) | DPN_ACL_F(NOTRAP);
	struct dpn_acl_ruleset rs;
	const struct dpn_acl_rule *r;
	uint32_t f;
	unsigned int i;

	dpn_acl_ruleset_init(&rs);
	for (i = 0; i < 5; i++)
		add_line(&rs, seed[i], i + 1);
	/* The -6 default repeats the one `default` already wrote. */
	assert_int_equal(rs.nb, 5);

	r = match(&rs, "198.18.0.5", 40000);
	assert_non_null(r);
	assert_int_equal(r->line, 3);
	assert_int_equal(r->flags, lan);
	assert_int_equal(dpn_acl_decide(r->flags, 3, 4, false), DPN_ACL_SERVE);
	assert_int_equal(dpn_acl_decide(r->flags, 1, 4, false), DPN_ACL_SERVE);
	assert_int_equal(dpn_acl_decide(r->flags, 6, 2, false), DPN_ACL_SERVE);
	assert_false(r->flags & DPN_ACL_F(LIMITED));

	r = match(&rs, "198.19.0.1", 123);
	assert_non_null(r);
	assert_true(r->is_default);
	assert_int_equal(r->line, 1);
	f = r->flags;
	assert_int_equal(f, dflt);
	assert_int_equal(dpn_acl_decide(f, 3, 4, false), DPN_ACL_SERVE);
	assert_true(f & DPN_ACL_F(LIMITED));
	assert_true(f & DPN_ACL_F(KOD));
	assert_int_equal(dpn_acl_decide(f, 1, 4, false), DPN_ACL_DROP_NOPEER);
	assert_int_equal(dpn_acl_decide(f, 6, 2, false), DPN_ACL_DROP_NOQUERY);
	assert_int_equal(dpn_acl_decide(f, 7, 2, false), DPN_ACL_DROP_NOQUERY);

	assert_int_equal(match_flags(&rs, "127.0.0.1", 123), 0);
	assert_int_equal(match_flags(&rs, "127.0.0.2", 123), dflt);
	r = match(&rs, "2001:db8::1", 123);
	assert_non_null(r);
	assert_true(r->is_default);
	assert_int_equal(r->family, AF_INET6);
	assert_int_equal(r->flags, dflt);
	assert_int_equal(match_flags(&rs, "::1", 123), 0);

	dpn_acl_ruleset_sort(&rs);
	{
		static const char *const text[] = {
			"restrict 127.0.0.1",
			"restrict 198.18.0.0 mask 255.255.255.0 nomodify "
			"notrap",
			"restrict -4 default noquery nomodify notrap nopeer "
			"kod limited",
			"restrict ::1",
			"restrict -6 default noquery nomodify notrap nopeer "
			"kod limited",
		};
		char buf[128];

		for (i = 0; i < rs.nb; i++) {
			dpn_acl_format(&rs.rules[i], buf, sizeof(buf));
			assert_string_equal(buf, text[i]);
		}
	}
	dpn_acl_ruleset_free(&rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flag_names),
		cmocka_unit_test(test_every_flag_parses),
		cmocka_unit_test(test_host_rules),
		cmocka_unit_test(test_mask_and_cidr),
		cmocka_unit_test(test_host_bits_cleared),
		cmocka_unit_test(test_default_both_families),
		cmocka_unit_test(test_family_options),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_hostnames),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_round_trip_and_truncation),
		cmocka_unit_test(test_ruleset_merge),
		cmocka_unit_test(test_ruleset_add_masks),
		cmocka_unit_test(test_ruleset_append_normalize),
		cmocka_unit_test(test_ruleset_many),
		cmocka_unit_test(test_ruleset_del),
		cmocka_unit_test(test_ruleset_sort),
		cmocka_unit_test(test_match_longest_prefix),
		cmocka_unit_test(test_match_defaults_and_families),
		cmocka_unit_test(test_match_ntpport),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_seed_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
