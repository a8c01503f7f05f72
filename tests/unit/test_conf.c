/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the configuration parser: what a user writes in
 * dpntp.conf, what the daemon makes of it, and what it says when the
 * file is wrong.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "dpn_conf.h"

#define NAME "test.conf"

/* Big enough to be kept off the stack of each test. */
static struct dpn_conf conf;
static char err[DPN_CONF_ERRLEN];

/* Per-test teardown: what the last parse allocated goes with the test. */
static int
free_conf(void **state)
{
	dpn_conf_free(&conf);
	return 0;
}

static void
parse_ok(const char *text)
{
	/* The previous parse's rules would leak otherwise. */
	dpn_conf_free(&conf);
	err[0] = '\0';
	if (dpn_conf_parse_string(&conf, NAME, text, err, sizeof(err)) != 0)
		fail_msg("unexpected parse error: %s", err);
}

/*
 * Parse @p text expecting failure on @p line, with @p phrase somewhere in
 * the message after the "test.conf:LINE: " prefix.
 */
static void
parse_fails(const char *text, unsigned int line, const char *phrase)
{
	char prefix[64];

	dpn_conf_free(&conf);
	err[0] = '\0';
	assert_int_equal(dpn_conf_parse_string(&conf, NAME, text, err,
					       sizeof(err)), -1);
	snprintf(prefix, sizeof(prefix), NAME ":%u: ", line);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("error '%s' does not start with '%s'", err, prefix);
	if (strstr(err + strlen(prefix), phrase) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, phrase);
}

static void
assert_v4(const struct dpn_conf_listen *l, const char *addr)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, addr, &a), 1);
	assert_int_equal(l->family, AF_INET);
	assert_int_equal(l->addr.v4.s_addr, a.s_addr);
}

static void
assert_v6(const struct dpn_conf_listen *l, const char *addr)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, addr, &a), 1);
	assert_int_equal(l->family, AF_INET6);
	assert_memory_equal(&l->addr.v6, &a, sizeof(a));
}

/* Write @p data to a fresh temporary file; the caller unlinks @p path. */
static void
write_temp(char *path, const char *data, size_t len)
{
	int fd;

	strcpy(path, "/tmp/test_conf.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* ---- defaults and layout ---- */

static void
test_init_defaults(void **state)
{
	dpn_conf_free(&conf);
	memset(&conf, 0xa5, sizeof(conf));
	dpn_conf_init(&conf);
	assert_int_equal(conf.nb_listen, 0);
	assert_false(conf.refclock_system.enabled);
	assert_int_equal(conf.refclock_system.stratum, 1);
	assert_string_equal(conf.refclock_system.refid, "LOCL");
	assert_int_equal(conf.refclock_system.precision, 0);
	assert_int_equal(conf.acl.nb, 0);
	assert_null(conf.acl.rules);
	assert_int_equal(conf.discard.average_log2, 3);
	assert_int_equal(conf.discard.minimum_s, 2);
	assert_int_equal(conf.discard.monitor, 3000);
	assert_int_equal(conf.discard_line, 0);
	assert_int_equal(conf.clientlimit, DPN_CONF_CLIENTLIMIT_DEFAULT);
}

static void
test_empty_config(void **state)
{
	/* Leftovers from an earlier parse must not survive. */
	parse_ok("listen port 0 address 198.18.0.1/24\nrefclock system\n");
	parse_ok("");
	assert_int_equal(conf.nb_listen, 0);
	assert_false(conf.refclock_system.enabled);

	parse_ok("\n\n# only a comment\n   \t \n");
	assert_int_equal(conf.nb_listen, 0);
	assert_false(conf.refclock_system.enabled);
}

static void
test_comments_blanks_crlf(void **state)
{
	parse_ok("# dpntp.conf\r\n"
		 "\r\n"
		 "\tlisten  port 1\taddress 198.18.0.1/24   # uplink\r\n"
		 "listen port 2 address 198.18.1.1/24#no space before it\n"
		 "   # indented comment\n"
		 "refclock system stratum 2"); /* no final newline */
	assert_int_equal(conf.nb_listen, 2);
	assert_int_equal(conf.listen[0].port, 1);
	assert_v4(&conf.listen[0], "198.18.0.1");
	assert_int_equal(conf.listen[0].prefix_len, 24);
	assert_int_equal(conf.listen[0].line, 3);
	assert_int_equal(conf.listen[1].port, 2);
	assert_v4(&conf.listen[1], "198.18.1.1");
	assert_int_equal(conf.listen[1].line, 4);
	assert_true(conf.refclock_system.enabled);
	assert_int_equal(conf.refclock_system.stratum, 2);
	assert_int_equal(conf.refclock_system.line, 6);
}

static void
test_line_numbers_count_blank_lines(void **state)
{
	parse_fails("# header\n\n\r\n  \nbogus\n", 5,
		    "unknown directive 'bogus'");
	parse_fails("listen port 0 address 198.18.0.1/24\r\n\r\nfoo bar\r\n",
		    3, "unknown directive 'foo'");
}

static void
test_line_length_limit(void **state)
{
	/* 1023 characters is the longest line, with or without CRLF. */
	char text[1100];
	size_t n;

	memset(text, ' ', 1023);
	text[0] = '#';
	strcpy(text + 1023, "\r\nrefclock system\n");
	parse_ok(text);
	assert_true(conf.refclock_system.enabled);

	memset(text, ' ', 1024);
	text[0] = '#';
	strcpy(text + 1024, "\n");
	parse_fails(text, 1, "line is longer than 1023 characters");

	/* Far past the limit, as the last line without a newline. */
	n = snprintf(text, sizeof(text), "refclock system\n");
	memset(text + n, 'x', sizeof(text) - n - 1);
	text[sizeof(text) - 1] = '\0';
	parse_fails(text, 2, "line is longer than 1023 characters");
}

static void
test_unknown_directive(void **state)
{
	parse_fails("broadcast 198.18.255.255\n", 1,
		    "unknown directive 'broadcast'");
	/* Keywords are case-sensitive, like ntpd's. */
	parse_fails("\nLISTEN port 0 address 198.18.0.1/24\n", 2,
		    "unknown directive 'LISTEN'");
}

static void
test_too_many_words(void **state)
{
	char text[256] = "refclock system";
	int i;

	for (i = 0; i < 40; i++)
		strcat(text, " x");
	parse_fails(text, 1, "too many words");
}

/* ---- listen ---- */

static void
test_listen_ipv4(void **state)
{
	parse_ok("listen port 3 address 198.18.0.1/24\n");
	assert_int_equal(conf.nb_listen, 1);
	assert_int_equal(conf.listen[0].port, 3);
	assert_v4(&conf.listen[0], "198.18.0.1");
	assert_int_equal(conf.listen[0].prefix_len, 24);
	assert_int_equal(conf.listen[0].vlan, 0);
	assert_int_equal(conf.listen[0].line, 1);
	assert_false(conf.refclock_system.enabled);
}

static void
test_listen_ipv6(void **state)
{
	parse_ok("listen port 0 address 2001:db8::123/64\n"
		 "listen port 1 address ::ffff:198.18.0.9/128 vlan 7\n");
	assert_int_equal(conf.nb_listen, 2);
	assert_v6(&conf.listen[0], "2001:db8::123");
	assert_int_equal(conf.listen[0].prefix_len, 64);
	assert_int_equal(conf.listen[0].vlan, 0);
	assert_v6(&conf.listen[1], "::ffff:198.18.0.9");
	assert_int_equal(conf.listen[1].prefix_len, 128);
	assert_int_equal(conf.listen[1].vlan, 7);
	assert_int_equal(conf.listen[1].port, 1);
}

static void
test_listen_vlan_and_bounds(void **state)
{
	parse_ok("listen port 0 address 198.18.0.1/32 vlan 1\n"
		 "listen port 1023 address 198.18.0.2/0 vlan 4094\n"
		 "listen port 0 address 2001:db8::1/0\n");
	assert_int_equal(conf.nb_listen, 3);
	assert_int_equal(conf.listen[0].vlan, 1);
	assert_int_equal(conf.listen[0].prefix_len, 32);
	assert_int_equal(conf.listen[1].port, 1023);
	assert_int_equal(conf.listen[1].vlan, 4094);
	assert_int_equal(conf.listen[1].prefix_len, 0);
	assert_int_equal(conf.listen[2].prefix_len, 0);
}

static void
test_listen_any_keyword_order(void **state)
{
	parse_ok("listen vlan 9 address 198.18.0.1/24 port 2\n");
	assert_int_equal(conf.nb_listen, 1);
	assert_int_equal(conf.listen[0].port, 2);
	assert_int_equal(conf.listen[0].vlan, 9);
	assert_v4(&conf.listen[0], "198.18.0.1");
}

static void
test_listen_same_address_other_vlan_or_family(void **state)
{
	/* Distinct VLANs are distinct networks: the same address is fine. */
	parse_ok("listen port 0 address 198.18.0.1/24\n"
		 "listen port 0 address 198.18.0.1/24 vlan 10\n"
		 "listen port 1 address 198.18.0.1/24 vlan 11\n"
		 "listen port 0 address ::ffff:198.18.0.1/120\n");
	assert_int_equal(conf.nb_listen, 4);
}

static void
test_listen_duplicate(void **state)
{
	parse_fails("# two ports, one address\n"
		    "\n"
		    "listen port 0 address 198.18.0.1/24\n"
		    "listen port 1 address 198.18.0.2/24\n"
		    "listen port 1 address 198.18.0.1/16\n",
		    5, "listen: address 198.18.0.1 already listed on line 3");
	/* Spelled differently, still the same IPv6 address. */
	parse_fails("listen port 0 address 2001:db8::1/64\n"
		    "listen port 0 address 2001:0DB8:0:0::0001/64\n",
		    2, "address 2001:db8::1 already listed on line 1");
	parse_fails("listen port 0 address 198.18.0.1/24 vlan 5\n"
		    "listen port 0 address 198.18.0.1/24 vlan 5\n",
		    2, "address 198.18.0.1 on vlan 5 already listed on line 1");
}

static void
test_listen_max(void **state)
{
	char *text = malloc((DPN_CONF_MAX_LISTEN + 1) * 64);
	size_t off = 0;
	int i;

	assert_non_null(text);
	for (i = 0; i < DPN_CONF_MAX_LISTEN; i++)
		off += sprintf(text + off,
			       "listen port 0 address 198.18.%d.1/24\n", i);
	parse_ok(text);
	assert_int_equal(conf.nb_listen, DPN_CONF_MAX_LISTEN);
	assert_v4(&conf.listen[DPN_CONF_MAX_LISTEN - 1], "198.18.63.1");

	sprintf(text + off, "listen port 0 address 198.19.0.1/24\n");
	parse_fails(text, DPN_CONF_MAX_LISTEN + 1,
		    "listen: too many listen lines (at most 64)");
	free(text);
}

static void
test_listen_missing_parts(void **state)
{
	parse_fails("listen\n", 1, "listen: missing 'port P'");
	parse_fails("listen address 198.18.0.1/24\n", 1,
		    "listen: missing 'port P'");
	parse_fails("listen port 0\n", 1,
		    "listen: missing 'address ADDR/PREFIX'");
	parse_fails("listen port 0 address 198.18.0.1/24 vlan\n", 1,
		    "listen: missing value after 'vlan'");
	parse_fails("listen port\n", 1, "listen: missing value after 'port'");
	parse_fails("listen port 0 address\n", 1,
		    "listen: missing value after 'address'");
}

static void
test_listen_bad_words(void **state)
{
	parse_fails("listen port 0 address 198.18.0.1/24 foo\n", 1,
		    "listen: unexpected word 'foo'");
	parse_fails("listen port 0 0 address 198.18.0.1/24\n", 1,
		    "listen: unexpected word '0'");
	parse_fails("listen port 0 port 1 address 198.18.0.1/24\n", 1,
		    "listen: 'port' given more than once");
	parse_fails("listen port 0 address 198.18.0.1/24 vlan 2 vlan 3\n", 1,
		    "listen: 'vlan' given more than once");
}

static void
test_listen_bad_port(void **state)
{
	parse_fails("listen port 1024 address 198.18.0.1/24\n", 1,
		    "listen: port must be 0..1023, got '1024'");
	parse_fails("listen port -1 address 198.18.0.1/24\n", 1,
		    "listen: port must be 0..1023, got '-1'");
	/* Too big even for a long: still a range error, not garbage. */
	parse_fails("listen port 99999999999999999999 address 198.18.0.1/24\n",
		    1, "port must be 0..1023, got '99999999999999999999'");
	parse_fails("listen port 12abc address 198.18.0.1/24\n", 1,
		    "listen: port '12abc' is not a number");
	parse_fails("listen port - address 198.18.0.1/24\n", 1,
		    "listen: port '-' is not a number");
	parse_fails("listen port +1 address 198.18.0.1/24\n", 1,
		    "listen: port '+1' is not a number");
	parse_fails("listen port 0x1 address 198.18.0.1/24\n", 1,
		    "listen: port '0x1' is not a number");
}

static void
test_listen_bad_vlan(void **state)
{
	parse_fails("listen port 0 address 198.18.0.1/24 vlan 0\n", 1,
		    "listen: vlan must be 1..4094, got '0'");
	parse_fails("listen port 0 address 198.18.0.1/24 vlan 4095\n", 1,
		    "listen: vlan must be 1..4094, got '4095'");
	parse_fails("listen port 0 address 198.18.0.1/24 vlan ten\n", 1,
		    "listen: vlan 'ten' is not a number");
}

static void
test_listen_bad_address(void **state)
{
	parse_fails("listen port 0 address 198.18.0.1\n", 1,
		    "listen: address '198.18.0.1' has no prefix length");
	parse_fails("listen port 0 address 198.18.0.256/24\n", 1,
		    "listen: invalid IPv4 address '198.18.0.256'");
	parse_fails("listen port 0 address eth0/24\n", 1,
		    "listen: invalid IPv4 address 'eth0'");
	parse_fails("listen port 0 address 2001:db8::g/64\n", 1,
		    "listen: invalid IPv6 address '2001:db8::g'");
	parse_fails("listen port 0 address fe80::1%eth0/64\n", 1,
		    "listen: invalid IPv6 address 'fe80::1%eth0'");
	parse_fails("listen port 0 address 0.0.0.0/0\n", 1,
		    "listen: address 0.0.0.0 is unspecified");
	parse_fails("listen port 0 address ::/0\n", 1,
		    "listen: address :: is unspecified");
	parse_fails("listen port 0 address 224.0.1.1/24\n", 1,
		    "listen: address 224.0.1.1 is multicast");
	parse_fails("listen port 0 address ff02::101/64\n", 1,
		    "listen: address ff02::101 is multicast");
}

static void
test_listen_bad_prefix(void **state)
{
	parse_fails("listen port 0 address 198.18.0.1/33\n", 1,
		    "listen: invalid prefix length '33' for IPv4");
	parse_fails("listen port 0 address 2001:db8::1/129\n", 1,
		    "listen: invalid prefix length '129' for IPv6");
	parse_fails("listen port 0 address 198.18.0.1/\n", 1,
		    "listen: invalid prefix length '' for IPv4");
	parse_fails("listen port 0 address 198.18.0.1/24x\n", 1,
		    "listen: invalid prefix length '24x' for IPv4");
	parse_fails("listen port 0 address 198.18.0.1/-1\n", 1,
		    "listen: invalid prefix length '-1' for IPv4");
	parse_fails("listen port 0 address 198.18.0.1/24/8\n", 1,
		    "listen: invalid prefix length '24/8' for IPv4");
}

static void
test_listen_gateway(void **state)
{
	struct in_addr g4;
	struct in6_addr g6;

	parse_ok("listen port 0 address 198.18.0.1/24 gateway 198.18.0.254\n"
		 "listen gateway 2001:db8::ff address 2001:db8::1/64 port 1\n"
		 "listen port 0 address 2001:db8:1::1/64 gateway fe80::1 vlan 3\n"
		 "listen port 0 address 198.18.1.1/24\n");
	assert_int_equal(conf.nb_listen, 4);
	assert_true(conf.listen[0].has_gateway);
	inet_pton(AF_INET, "198.18.0.254", &g4);
	assert_int_equal(conf.listen[0].gateway.v4.s_addr, g4.s_addr);
	assert_true(conf.listen[1].has_gateway);
	assert_int_equal(conf.listen[1].port, 1);
	inet_pton(AF_INET6, "2001:db8::ff", &g6);
	assert_memory_equal(&conf.listen[1].gateway.v6, &g6, 16);
	/* Link-local: on every link, whatever the prefix. */
	assert_true(conf.listen[2].has_gateway);
	assert_int_equal(conf.listen[2].vlan, 3);
	inet_pton(AF_INET6, "fe80::1", &g6);
	assert_memory_equal(&conf.listen[2].gateway.v6, &g6, 16);
	assert_false(conf.listen[3].has_gateway);
	/* /31: the other address of the pair. */
	parse_ok("listen port 0 address 198.18.0.0/31 gateway 198.18.0.1\n");
	assert_true(conf.listen[0].has_gateway);
}

static void
test_listen_bad_gateway(void **state)
{
	parse_fails("listen port 0 address 198.18.0.1/24\n"
		    "listen port 0 address 198.18.1.1/24 gateway 198.18.0.254\n",
		    2, "listen: gateway 198.18.0.254 is not inside 198.18.1.1/24");
	parse_fails("listen port 0 address 198.18.0.1/32 gateway 198.18.0.2\n",
		    1, "gateway 198.18.0.2 is not inside 198.18.0.1/32");
	parse_fails("listen port 0 address 2001:db8::1/64 gateway 2001:db8:1::1\n",
		    1, "listen: gateway 2001:db8:1::1 is neither inside "
		    "2001:db8::1/64 nor link-local (fe80::/10)");
	parse_fails("listen port 0 address 198.18.0.1/24 gateway fe80::1\n", 1,
		    "listen: gateway fe80::1 is IPv6 but address 198.18.0.1 is IPv4");
	parse_fails("listen port 0 address 2001:db8::1/64 gateway 198.18.0.1\n",
		    1, "gateway 198.18.0.1 is IPv4 but address 2001:db8::1 is IPv6");
	parse_fails("listen port 0 address 198.18.0.1/24 gateway 198.18.0.1\n", 1,
		    "listen: gateway 198.18.0.1 is the address itself");
	parse_fails("listen port 0 address 198.18.0.1/0 gateway 224.0.0.1\n", 1,
		    "listen: gateway 224.0.0.1 is not a unicast address");
	parse_fails("listen port 0 address 198.18.0.1/0 gateway 0.0.0.0\n", 1,
		    "listen: gateway 0.0.0.0 is not a unicast address");
	parse_fails("listen port 0 address 2001:db8::1/64 gateway ff02::1\n", 1,
		    "listen: gateway ff02::1 is not a unicast address");
	parse_fails("listen port 0 address 198.18.0.1/24 gateway 198.18.0.999\n",
		    1, "listen: invalid gateway address '198.18.0.999'");
	parse_fails("listen port 0 address 198.18.0.1/24 gateway\n", 1,
		    "listen: missing value after 'gateway'");
	parse_fails("listen port 0 address 198.18.0.1/24 gateway 198.18.0.2 "
		    "gateway 198.18.0.3\n", 1,
		    "listen: 'gateway' given more than once");
	/* Checked once the address is known, whatever the order. */
	parse_fails("listen gateway 198.18.9.9 port 0 address 198.18.0.1/24\n",
		    1, "gateway 198.18.9.9 is not inside 198.18.0.1/24");
}

/* ---- refclock ---- */

static void
test_refclock_system_defaults(void **state)
{
	parse_ok("refclock system\n");
	assert_true(conf.refclock_system.enabled);
	assert_int_equal(conf.refclock_system.stratum, 1);
	assert_string_equal(conf.refclock_system.refid, "LOCL");
	assert_int_equal(conf.refclock_system.precision, 0);
	assert_int_equal(conf.refclock_system.line, 1);
}

static void
test_refclock_system_options(void **state)
{
	parse_ok("refclock system stratum 15 refid GPS precision -30\n");
	assert_int_equal(conf.refclock_system.stratum, 15);
	assert_memory_equal(conf.refclock_system.refid, "GPS\0", 5);
	assert_int_equal(conf.refclock_system.precision, -30);

	/* Any order, and the other options keep their defaults. */
	parse_ok("\nrefclock system precision -20 stratum 3\n");
	assert_int_equal(conf.refclock_system.stratum, 3);
	assert_string_equal(conf.refclock_system.refid, "LOCL");
	assert_int_equal(conf.refclock_system.precision, -20);
	assert_int_equal(conf.refclock_system.line, 2);

	parse_ok("refclock system refid X\n");
	assert_memory_equal(conf.refclock_system.refid, "X\0\0\0", 5);
	parse_ok("refclock system refid a.:!\n");
	assert_string_equal(conf.refclock_system.refid, "a.:!");
	parse_ok("refclock system precision 0 stratum 1\n");
	assert_int_equal(conf.refclock_system.precision, 0);
}

static void
test_refclock_system_bad_values(void **state)
{
	parse_fails("refclock system stratum 16\n", 1,
		    "refclock system: stratum must be 1..15, got '16'");
	parse_fails("refclock system stratum 0\n", 1,
		    "refclock system: stratum must be 1..15, got '0'");
	parse_fails("refclock system stratum one\n", 1,
		    "refclock system: stratum 'one' is not a number");
	parse_fails("refclock system precision 1\n", 1,
		    "refclock system: precision must be -30..0, got '1'");
	parse_fails("refclock system precision -31\n", 1,
		    "refclock system: precision must be -30..0, got '-31'");
	parse_fails("refclock system precision -20us\n", 1,
		    "refclock system: precision '-20us' is not a number");
	parse_fails("refclock system refid GPSDO\n", 1,
		    "refclock system: refid must be 1 to 4 printable ASCII "
		    "characters, got 'GPSDO'");
	parse_fails("refclock system refid G\x01PS\n", 1,
		    "refclock system: refid must be 1 to 4 printable ASCII");
	parse_fails("refclock system refid \xc3\xa9t\n", 1,
		    "refclock system: refid must be 1 to 4 printable ASCII");
}

static void
test_refclock_system_bad_words(void **state)
{
	parse_fails("refclock system stratum\n", 1,
		    "refclock system: missing value after 'stratum'");
	parse_fails("refclock system refid\n", 1,
		    "refclock system: missing value after 'refid'");
	parse_fails("refclock system stratum 2 stratum 3\n", 1,
		    "refclock system: 'stratum' given more than once");
	parse_fails("refclock system poll 4\n", 1,
		    "refclock system: unexpected word 'poll'");
	parse_fails("refclock system\nrefclock system stratum 2\n", 2,
		    "refclock system: already configured on line 1");
}

/* ---- refclock shm|sock|pps|phc|ptp ---- */

#define LISTEN0 "listen port 0 address 198.18.0.1/24\n"

/* @p refid NUL padded to the 5 bytes of the struct. */
static void
assert_refid(const char *got, const char *refid)
{
	char want[5] = { 0 };

	memcpy(want, refid, strlen(refid));
	assert_memory_equal(got, want, sizeof(want));
}

/* The options every type shares, as a line without any leaves them. */
static void
assert_ref_defaults(const struct dpn_conf_refclock *rc,
		    enum dpn_conf_refclock_type type, const char *refid,
		    unsigned int line)
{
	assert_int_equal(rc->type, type);
	assert_refid(rc->refid, refid);
	assert_int_equal(rc->stratum, 0);
	assert_int_equal(rc->poll, 4);
	assert_int_equal(rc->precision, 0);
	assert_true(rc->offset_s == 0);
	assert_true(rc->delay_s == 1e-9);
	assert_int_equal(rc->flags, 0);
	assert_memory_equal(rc->lock, "\0\0\0\0\0", 5);
	assert_int_equal(rc->perm, 0600);
	assert_int_equal(rc->announce_timeout, 3);
	assert_int_equal(rc->domain, 0);
	assert_int_equal(rc->transport, DPN_CONF_PTP_UDP4);
	assert_false(rc->has_address);
	assert_int_equal(rc->line, line);
}

static void
test_refclock_driver_defaults(void **state)
{
	const struct dpn_conf_refclock *rc = conf.refclocks;

	parse_ok(LISTEN0
		 "refclock shm 0\n"
		 "\n"
		 "refclock shm 3\n"
		 "refclock sock /run/chrony.ttyS0.sock\n"
		 "refclock pps /dev/pps0\n"
		 "refclock phc /dev/ptp0\n"
		 "refclock phc /dev/ptp2\n"
		 "refclock ptp port 0\n");
	assert_int_equal(conf.nb_refclocks, 7);
	/* `refclock system` is a separate thing and stays off. */
	assert_false(conf.refclock_system.enabled);

	assert_ref_defaults(&rc[0], DPN_CONF_REFCLOCK_SHM, "SHM0", 2);
	assert_int_equal(rc[0].unit, 0);
	assert_string_equal(rc[0].path, "");
	assert_ref_defaults(&rc[1], DPN_CONF_REFCLOCK_SHM, "SHM3", 4);
	assert_int_equal(rc[1].unit, 3);
	assert_ref_defaults(&rc[2], DPN_CONF_REFCLOCK_SOCK, "SOCK", 5);
	assert_string_equal(rc[2].path, "/run/chrony.ttyS0.sock");
	assert_ref_defaults(&rc[3], DPN_CONF_REFCLOCK_PPS, "PPS", 6);
	assert_string_equal(rc[3].path, "/dev/pps0");
	assert_ref_defaults(&rc[4], DPN_CONF_REFCLOCK_PHC, "PHC0", 7);
	assert_string_equal(rc[4].path, "/dev/ptp0");
	assert_ref_defaults(&rc[5], DPN_CONF_REFCLOCK_PHC, "PHC2", 8);
	assert_string_equal(rc[5].path, "/dev/ptp2");
	assert_ref_defaults(&rc[6], DPN_CONF_REFCLOCK_PTP, "PTP", 9);
	assert_int_equal(rc[6].port, 0);

	assert_string_equal(dpn_conf_refclock_type_str(DPN_CONF_REFCLOCK_SHM),
			    "shm");
	assert_string_equal(dpn_conf_refclock_type_str(DPN_CONF_REFCLOCK_PTP),
			    "ptp");

	/* Type names are case-blind; nothing parsed means none. */
	parse_ok("refclock SHM 1\nrefclock Pps /dev/pps1\n");
	assert_int_equal(conf.nb_refclocks, 2);
	assert_ref_defaults(&rc[0], DPN_CONF_REFCLOCK_SHM, "SHM1", 1);
	assert_ref_defaults(&rc[1], DPN_CONF_REFCLOCK_PPS, "PPS", 2);
	parse_ok("refclock system\n");
	assert_int_equal(conf.nb_refclocks, 0);
}

static void
test_refclock_driver_options(void **state)
{
	const struct dpn_conf_refclock *rc = conf.refclocks;

	parse_ok("refclock shm 0 refid GPS stratum 15 poll -6 offset -37 "
		 "delay 0.5 precision 1e-6 prefer noselect trust\n");
	assert_refid(rc->refid, "GPS");
	assert_int_equal(rc->stratum, 15);
	assert_int_equal(rc->poll, -6);
	assert_true(rc->offset_s == -37);
	assert_true(rc->delay_s == 0.5);
	/* Seconds kept as the log2 that covers them: ceil(log2(1e-6)). */
	assert_int_equal(rc->precision, -19);
	assert_int_equal(rc->flags, DPN_CONF_REF_PREFER |
			 DPN_CONF_REF_NOSELECT | DPN_CONF_REF_TRUST);

	parse_ok("refclock sock /run/x.sock poll 12 stratum 0 refid a.:! "
		 "offset 1000 delay 0 precision 1e-9 trust\n");
	assert_refid(rc->refid, "a.:!");
	assert_int_equal(rc->poll, 12);
	assert_int_equal(rc->stratum, 0);
	assert_true(rc->offset_s == 1000);
	assert_true(rc->delay_s == 0);
	assert_int_equal(rc->precision, -29);
	assert_int_equal(rc->flags, DPN_CONF_REF_TRUST);

	parse_ok("refclock pps /dev/pps0 clear offset -1000 delay 1 "
		 "precision 1 refid X\n");
	assert_refid(rc->refid, "X");
	assert_int_equal(rc->flags, DPN_CONF_REF_CLEAR);
	assert_true(rc->offset_s == -1000);
	assert_true(rc->delay_s == 1);
	/* A second or so still says something: 2^-1, not "the driver's". */
	assert_int_equal(rc->precision, -1);

	parse_ok("refclock phc /dev/ptp1 precision 0.5 offset 0.000000123 "
		 "poll 0\n");
	assert_int_equal(rc->precision, -1);
	assert_true(rc->offset_s == 0.000000123);
	assert_int_equal(rc->poll, 0);
	assert_refid(rc->refid, "PHC1");
	parse_ok("refclock phc /dev/ptp1 precision 2e-9 refid PHC\n");
	assert_int_equal(rc->precision, -28);
	assert_refid(rc->refid, "PHC");
	parse_ok("refclock shm 0 precision 0.25\n");
	assert_int_equal(rc->precision, -2);

	/* Later words win over earlier ones. */
	parse_ok("refclock shm 0 poll 2 poll 3 prefer prefer\n");
	assert_int_equal(rc->poll, 3);
	assert_int_equal(rc->flags, DPN_CONF_REF_PREFER);
}

static void
test_refclock_driver_bad_values(void **state)
{
	parse_fails("refclock shm 0 stratum 16\n", 1,
		    "refclock: stratum must be 0..15, got '16'");
	parse_fails("refclock shm 0 stratum -1\n", 1,
		    "refclock: stratum must be 0..15, got '-1'");
	parse_fails("refclock shm 0 stratum one\n", 1,
		    "refclock: stratum 'one' is not a number");
	parse_fails("refclock shm 0 poll 13\n", 1,
		    "refclock: poll must be -6..12, got '13'");
	parse_fails("refclock shm 0 poll -7\n", 1,
		    "refclock: poll must be -6..12, got '-7'");
	parse_fails("refclock sock /x poll 4s\n", 1,
		    "refclock: poll '4s' is not a number");
	parse_fails("refclock shm 0 offset 1000.5\n", 1,
		    "refclock: offset must be -1000..1000 seconds, "
		    "got '1000.5'");
	parse_fails("refclock shm 0 offset -1001\n", 1,
		    "refclock: offset must be -1000..1000 seconds, got '-1001'");
	parse_fails("refclock shm 0 offset 5ms\n", 1,
		    "refclock: offset '5ms' is not a number of seconds");
	parse_fails("refclock shm 0 offset nan\n", 1,
		    "refclock: offset 'nan' is not a number of seconds");
	parse_fails("refclock shm 0 offset inf\n", 1,
		    "refclock: offset 'inf' is not a number of seconds");
	parse_fails("refclock pps /dev/pps0 delay -0.1\n", 1,
		    "refclock: delay must be 0..1 seconds, got '-0.1'");
	parse_fails("refclock pps /dev/pps0 delay 1.01\n", 1,
		    "refclock: delay must be 0..1 seconds, got '1.01'");
	parse_fails("refclock pps /dev/pps0 delay x\n", 1,
		    "refclock: delay 'x' is not a number of seconds");
	parse_fails("refclock phc /dev/ptp0 precision 0\n", 1,
		    "refclock: precision must be 1e-09..1 seconds, got '0'");
	parse_fails("refclock phc /dev/ptp0 precision 9e-10\n", 1,
		    "refclock: precision must be 1e-09..1 seconds, "
		    "got '9e-10'");
	parse_fails("refclock phc /dev/ptp0 precision 2\n", 1,
		    "refclock: precision must be 1e-09..1 seconds, got '2'");
	parse_fails("refclock phc /dev/ptp0 precision -20\n", 1,
		    "refclock: precision must be 1e-09..1 seconds, got '-20'");
	parse_fails("refclock phc /dev/ptp0 precision 1us\n", 1,
		    "refclock: precision '1us' is not a number of seconds");
	parse_fails("refclock shm 0 refid GPSDO\n", 1,
		    "refclock: refid must be 1 to 4 printable ASCII "
		    "characters, got 'GPSDO'");
	parse_fails("refclock shm 0 refid G\x01PS\n", 1,
		    "refclock: refid must be 1 to 4 printable ASCII");
	parse_fails("refclock shm 0 refid \xc3\xa9t\n", 1,
		    "refclock: refid must be 1 to 4 printable ASCII");
	parse_fails("refclock pps /dev/pps0 lock NMEA0\n", 1,
		    "refclock: lock takes the refid of another refclock, "
		    "got 'NMEA0'");
	/* The line number is the refclock's, not the first line's. */
	parse_fails("refclock shm 0\n\nrefclock shm 1 poll 20\n", 3,
		    "refclock: poll must be -6..12, got '20'");
}

static void
test_refclock_driver_bad_words(void **state)
{
	parse_fails("refclock shm 0 poll\n", 1,
		    "refclock shm: missing value after 'poll'");
	parse_fails("refclock sock /x refid\n", 1,
		    "refclock sock: missing value after 'refid'");
	parse_fails("refclock ptp port\n", 1,
		    "refclock ptp: missing value after 'port'");
	parse_fails("refclock shm 0 minpoll 4\n", 1,
		    "refclock shm: unexpected word 'minpoll'");
	/* clear is pps's: elsewhere it is just an unknown word... */
	parse_fails("refclock shm 0 clear prefer\n", 1,
		    "refclock shm: unexpected word 'clear'");
	parse_fails("refclock phc /dev/ptp0 clear poll 2\n", 1,
		    "refclock phc: unexpected word 'clear'");
	parse_fails("refclock ptp port 0 clear noselect\n", 1,
		    "refclock ptp: unexpected word 'clear'");
	/* ...so at the end of a line it is taken for an option's name. */
	parse_fails("refclock sock /x clear\n", 1,
		    "refclock sock: missing value after 'clear'");
	/* perm is shm's, the PTP options are ptp's. */
	parse_fails("refclock sock /run/x.sock perm 0600\n", 1,
		    "refclock sock: unexpected word 'perm'");
	parse_fails("refclock pps /dev/pps0 perm 0600\n", 1,
		    "refclock pps: unexpected word 'perm'");
	parse_fails("refclock ptp port 0 perm 0600\n", 1,
		    "refclock ptp: unexpected word 'perm'");
	parse_fails("refclock shm 0 domain 1\n", 1,
		    "refclock shm: unexpected word 'domain'");
	parse_fails("refclock phc /dev/ptp0 port 0\n", 1,
		    "refclock phc: unexpected word 'port'");
	parse_fails("refclock sock /x transport l2\n", 1,
		    "refclock sock: unexpected word 'transport'");
	/* lock is for pps and sock only. */
	parse_fails("refclock shm 0 refid GPS\n"
		    "refclock shm 1 lock GPS\n", 2,
		    "refclock shm: lock is for pps (and sock pulses)");
	parse_fails("refclock shm 0 refid GPS\n"
		    "refclock phc /dev/ptp0 lock GPS\n", 2,
		    "refclock phc: lock is for pps (and sock pulses)");
	parse_fails(LISTEN0 "refclock shm 0 refid GPS\n"
		    "refclock ptp port 0 lock GPS\n", 3,
		    "refclock ptp: lock is for pps (and sock pulses)");
}

static void
test_refclock_driver_targets(void **state)
{
	const struct dpn_conf_refclock *rc = conf.refclocks;
	char text[256];

	parse_ok("refclock shm 255 perm 0666\n");
	assert_int_equal(rc->unit, 255);
	assert_int_equal(rc->perm, 0666);
	/* chrony's: the last digit of the segment. */
	assert_refid(rc->refid, "SHM5");
	parse_ok("refclock shm 0 perm 0\n");
	assert_int_equal(rc->perm, 0);
	parse_ok("refclock shm 0 perm 0777\n");
	assert_int_equal(rc->perm, 0777);
	parse_ok("refclock shm 0 perm 00640\n");
	assert_int_equal(rc->perm, 0640);

	parse_fails("refclock shm 0 perm 0800\n", 1,
		    "refclock shm: perm must be octal 0000..0777, got '0800'");
	parse_fails("refclock shm 0 perm 644\n", 1,
		    "refclock shm: perm must be octal 0000..0777, got '644'");
	parse_fails("refclock shm 0 perm 01000\n", 1,
		    "refclock shm: perm must be octal 0000..0777, "
		    "got '01000'");
	parse_fails("refclock shm 0 perm 0x1ff\n", 1,
		    "refclock shm: perm must be octal 0000..0777, "
		    "got '0x1ff'");
	parse_fails("refclock shm 0 perm rw\n", 1,
		    "refclock shm: perm must be octal 0000..0777, got 'rw'");
	parse_fails("refclock shm 0 perm\n", 1,
		    "refclock shm: missing value after 'perm'");
	parse_fails("refclock shm 256\n", 1,
		    "refclock shm: segment must be 0..255, got '256'");
	parse_fails("refclock shm -1\n", 1,
		    "refclock shm: segment must be 0..255, got '-1'");
	parse_fails("refclock shm zero\n", 1,
		    "refclock shm: segment 'zero' is not a number");
	parse_fails("refclock shm\n", 1, "refclock shm: missing segment number");

	/* A socket path fits sun_path: 107 characters and the NUL. */
	memset(text, 0, sizeof(text));
	strcpy(text, "refclock sock /");
	memset(text + strlen(text), 's', 106);
	parse_ok(text);
	assert_int_equal(strlen(rc->path), 107);
	assert_int_equal(rc->path[0], '/');
	strcat(text, "s");
	parse_fails(text, 1, "refclock sock: '/sss");
	parse_fails(text, 1, "' must be an absolute path of at most 107 "
		    "characters");
	parse_fails("refclock sock run/x.sock\n", 1,
		    "refclock sock: 'run/x.sock' must be an absolute path of "
		    "at most 107 characters");
	parse_fails("refclock sock ./x.sock\n", 1,
		    "refclock sock: './x.sock' must be an absolute path");
	parse_fails("refclock sock\n", 1, "refclock sock: missing path");

	parse_fails("refclock pps pps0\n", 1,
		    "refclock pps: 'pps0' is not a device path (/dev/...)");
	parse_fails("refclock pps\n", 1, "refclock pps: missing path");
	parse_fails("refclock phc ptp0\n", 1,
		    "refclock phc: 'ptp0' is not a device path (/dev/...)");
	parse_fails("refclock phc\n", 1, "refclock phc: missing path");
	/* An option in the path's place is a path that is not one. */
	parse_fails("refclock pps prefer\n", 1,
		    "refclock pps: 'prefer' is not a device path");
}

static void
test_refclock_ptp(void **state)
{
	const struct dpn_conf_refclock *rc = conf.refclocks;
	struct in_addr a;

	parse_ok(LISTEN0 "refclock ptp port 0 domain 24 transport udp4 "
		 "address 198.18.0.7/16 announce-timeout 2 refid GM "
		 "stratum 1 prefer\n");
	assert_int_equal(conf.nb_refclocks, 1);
	assert_int_equal(rc->type, DPN_CONF_REFCLOCK_PTP);
	assert_int_equal(rc->port, 0);
	assert_int_equal(rc->domain, 24);
	assert_int_equal(rc->transport, DPN_CONF_PTP_UDP4);
	assert_true(rc->has_address);
	assert_int_equal(inet_pton(AF_INET, "198.18.0.7", &a), 1);
	assert_int_equal(rc->address.s_addr, a.s_addr);
	assert_int_equal(rc->prefix_len, 16);
	assert_int_equal(rc->announce_timeout, 2);
	assert_refid(rc->refid, "GM");
	assert_int_equal(rc->stratum, 1);
	assert_int_equal(rc->flags, DPN_CONF_REF_PREFER);
	assert_string_equal(rc->path, "");
	assert_int_equal(rc->line, 2);

	parse_ok("listen port 1023 address 198.18.0.1/24\n"
		 "refclock ptp transport l2 domain 255 port 1023 "
		 "announce-timeout 255\n");
	assert_int_equal(rc->port, 1023);
	assert_int_equal(rc->domain, 255);
	assert_int_equal(rc->transport, DPN_CONF_PTP_L2);
	assert_false(rc->has_address);
	assert_int_equal(rc->announce_timeout, 255);
	assert_refid(rc->refid, "PTP");

	parse_ok(LISTEN0 "refclock ptp port 0 address 10.0.0.1/32 "
		 "transport udp4\n");
	assert_int_equal(rc->prefix_len, 32);
	parse_ok(LISTEN0 "refclock ptp port 0 address 10.0.0.1/1\n");
	assert_int_equal(rc->prefix_len, 1);
}

static void
test_refclock_ptp_errors(void **state)
{
	parse_fails("refclock ptp\n", 1,
		    "refclock ptp: missing 'port P' (the DPDK port of a "
		    "listen line)");
	parse_fails(LISTEN0 "refclock ptp domain 0\n", 2,
		    "refclock ptp: missing 'port P'");
	parse_fails("refclock ptp port 1024\n", 1,
		    "refclock ptp: port must be 0..1023, got '1024'");
	parse_fails("refclock ptp port -1\n", 1,
		    "refclock ptp: port must be 0..1023, got '-1'");
	parse_fails("refclock ptp port eth0\n", 1,
		    "refclock ptp: port 'eth0' is not a number");
	parse_fails("refclock ptp port 0 domain 256\n", 1,
		    "refclock ptp: domain must be 0..255, got '256'");
	parse_fails("refclock ptp port 0 domain x\n", 1,
		    "refclock ptp: domain 'x' is not a number");
	parse_fails("refclock ptp port 0 transport udp6\n", 1,
		    "refclock ptp: transport must be udp4 or l2, got 'udp6'");
	parse_fails("refclock ptp port 0 transport L2\n", 1,
		    "refclock ptp: transport must be udp4 or l2, got 'L2'");
	parse_fails("refclock ptp port 0 announce-timeout 1\n", 1,
		    "refclock ptp: announce-timeout must be 2..255, got '1'");
	parse_fails("refclock ptp port 0 announce-timeout 256\n", 1,
		    "refclock ptp: announce-timeout must be 2..255, "
		    "got '256'");
	parse_fails("refclock ptp port 0 announce-timeout\n", 1,
		    "refclock ptp: missing value after 'announce-timeout'");
	parse_fails("refclock ptp port 0 address 10.0.0.1\n", 1,
		    "refclock ptp: address '10.0.0.1' needs a prefix length "
		    "(A/P)");
	parse_fails("refclock ptp port 0 address 2001:db8::1/64\n", 1,
		    "refclock ptp: '2001:db8::1' is not an IPv4 address "
		    "(PTP over UDP is IPv4 here)");
	parse_fails("refclock ptp port 0 address 10.0.0/24\n", 1,
		    "refclock ptp: '10.0.0' is not an IPv4 address");
	parse_fails("refclock ptp port 0 address 10.0.0.1/33\n", 1,
		    "refclock ptp: prefix length must be 1..32, got '33'");
	parse_fails("refclock ptp port 0 address 10.0.0.1/0\n", 1,
		    "refclock ptp: prefix length must be 1..32, got '0'");
	parse_fails("refclock ptp port 0 address 10.0.0.1/x\n", 1,
		    "refclock ptp: prefix length 'x' is not a number");
	/* address is udp4's, whichever comes first. */
	parse_fails(LISTEN0 "refclock ptp port 0 transport l2 "
		    "address 10.0.0.1/24\n", 2,
		    "refclock ptp: 'address' is for transport udp4");
	parse_fails(LISTEN0 "refclock ptp port 0 address 10.0.0.1/24 "
		    "transport l2\n", 2,
		    "refclock ptp: 'address' is for transport udp4");
}

/* A PTP line's port must be listened on; udp4 needs an IPv4 address. */
static void
test_refclock_ptp_listen(void **state)
{
	parse_fails("refclock ptp port 0\n", 1,
		    "refclock ptp: port 0 has no listen line with an IPv4 "
		    "address (transport udp4 needs one)");
	parse_fails(LISTEN0 "\nrefclock ptp port 1\n", 3,
		    "refclock ptp: port 1 has no listen line with an IPv4 "
		    "address");
	parse_fails("refclock ptp port 1 transport l2\n", 1,
		    "refclock ptp: port 1 has no listen line");
	/* Without the udp4 part for l2. */
	assert_string_equal(err, NAME ":1: refclock ptp: port 1 has no "
			    "listen line");

	/* An IPv6-only port: enough for l2, not for udp4. */
	parse_fails("listen port 1 address 2001:db8::1/64\n"
		    "refclock ptp port 1\n", 2,
		    "refclock ptp: port 1 has no listen line with an IPv4 "
		    "address (transport udp4 needs one)");
	parse_fails("listen port 1 address 2001:db8::1/64\n"
		    "refclock ptp port 1 transport udp4 address 10.0.0.1/24\n",
		    2, "refclock ptp: port 1 has no listen line with an IPv4");
	parse_ok("listen port 1 address 2001:db8::1/64\n"
		 "refclock ptp port 1 transport l2\n");
	assert_int_equal(conf.refclocks[0].port, 1);

	/* Any of the port's listen lines will do, before or after. */
	parse_ok("listen port 1 address 2001:db8::1/64\n"
		 "refclock ptp port 1\n"
		 "listen port 1 address 198.18.1.1/24 vlan 7\n");
	assert_int_equal(conf.nb_listen, 2);
	assert_int_equal(conf.nb_refclocks, 1);
	assert_int_equal(conf.refclocks[0].line, 2);

	/* The check names the PTP line, even when later lines are fine. */
	parse_fails(LISTEN0 "refclock shm 0\n"
		    "refclock ptp port 0\n"
		    "refclock ptp port 2 transport l2\n"
		    "refclock shm 1\n", 4,
		    "refclock ptp: port 2 has no listen line");
}

static void
test_refclock_clashes(void **state)
{
	parse_fails(LISTEN0 "refclock ptp port 0\n"
		    "refclock ptp port 0 domain 1 transport l2\n", 3,
		    "refclock ptp: the same port as line 2");
	parse_fails("refclock shm 2\nrefclock shm 3\nrefclock shm 2\n", 3,
		    "refclock shm: the same source as line 1");
	parse_fails("refclock sock /run/a.sock\n"
		    "refclock sock /run/a.sock refid B\n", 2,
		    "refclock sock: the same source as line 1");
	parse_fails("refclock pps /dev/pps0\n\nrefclock pps /dev/pps0 clear\n",
		    3, "refclock pps: the same source as line 1");
	parse_fails("refclock phc /dev/ptp0\nrefclock phc /dev/ptp0\n", 2,
		    "refclock phc: the same source as line 1");

	/* Different sources, or the same path under another type, are fine. */
	parse_ok("listen port 0 address 198.18.0.1/24\n"
		 "listen port 1 address 198.18.1.1/24\n"
		 "refclock ptp port 0\n"
		 "refclock ptp port 1 refid PTP1\n"
		 "refclock shm 0\nrefclock shm 1\n"
		 "refclock sock /run/a.sock\nrefclock sock /run/b.sock\n"
		 "refclock pps /dev/ptp0\nrefclock phc /dev/ptp0\n");
	assert_int_equal(conf.nb_refclocks, 8);
}

static void
test_refclock_lock(void **state)
{
	const struct dpn_conf_refclock *rc = conf.refclocks;

	parse_ok("refclock pps /dev/pps0 lock NMEA prefer\n"
		 "refclock shm 0 refid NMEA noselect\n");
	assert_int_equal(conf.nb_refclocks, 2);
	assert_refid(rc[0].lock, "NMEA");
	assert_int_equal(rc[0].flags, DPN_CONF_REF_PREFER);
	assert_memory_equal(rc[1].lock, "\0\0\0\0\0", 5);

	/* A default refid will do, and a sock's pulses may be locked too. */
	parse_ok("refclock shm 0\n"
		 "refclock sock /run/pps.sock lock SHM0\n");
	assert_refid(rc[1].lock, "SHM0");
	parse_ok("refclock shm 0 refid G\n"
		 "refclock pps /dev/pps0 lock G\n");
	assert_refid(rc[1].lock, "G");

	parse_fails("refclock shm 0\n"
		    "refclock pps /dev/pps0 lock NMEA\n", 2,
		    "refclock pps: lock NMEA names no other refclock's refid");
	/* Its own refid is not another's. */
	parse_fails("refclock pps /dev/pps0 lock PPS\n", 1,
		    "refclock pps: lock PPS names no other refclock's refid");
	/* Nor is `refclock system`'s. */
	parse_fails("refclock system refid GPS\n"
		    "refclock sock /run/x.sock lock GPS\n", 2,
		    "refclock sock: lock GPS names no other refclock's refid");
	/* A prefix of a refid is not it. */
	parse_fails("refclock shm 0 refid NMEA\n"
		    "refclock pps /dev/pps0 lock NME\n", 2,
		    "refclock pps: lock NME names no other refclock's refid");
	parse_fails("refclock pps /dev/pps0 lock\n", 1,
		    "refclock pps: missing value after 'lock'");
}

static void
test_refclock_max(void **state)
{
	char text[512];
	int i, off = 0;

	for (i = 0; i < DPN_CONF_MAX_REFCLOCKS; i++)
		off += snprintf(text + off, sizeof(text) - off,
				"refclock shm %d\n", i);
	parse_ok(text);
	assert_int_equal(conf.nb_refclocks, DPN_CONF_MAX_REFCLOCKS);
	assert_int_equal(conf.refclocks[DPN_CONF_MAX_REFCLOCKS - 1].unit,
			 DPN_CONF_MAX_REFCLOCKS - 1);
	/* `refclock system` is not one of them. */
	snprintf(text + off, sizeof(text) - off, "refclock system\n");
	parse_ok(text);
	assert_int_equal(conf.nb_refclocks, DPN_CONF_MAX_REFCLOCKS);

	snprintf(text + off, sizeof(text) - off, "refclock sock /run/x\n");
	parse_fails(text, DPN_CONF_MAX_REFCLOCKS + 1,
		    "refclock: too many refclock lines (at most 8)");
}

static void
test_refclock_types(void **state)
{
	parse_fails("refclock\n", 1,
		    "refclock: missing type (system, shm, sock, pps, phc or "
		    "ptp)");
	parse_fails("refclock foo\n", 1,
		    "unsupported refclock type 'foo' (expected system, shm, "
		    "sock, pps, phc or ptp)");
	parse_fails("refclock SOCKET /run/x\n", 1,
		    "unsupported refclock type 'SOCKET'");
	parse_fails("refclock shm0\n", 1, "unsupported refclock type 'shm0'");
}

/* ---- restrict ---- */

static void assert_same_conf(const struct dpn_conf *a,
			     const struct dpn_conf *b);

/* The configuration dpntp ships with (seed of the feature). */
static const char seed_conf[] =
	"restrict default kod limited nomodify notrap nopeer noquery\n"
	"restrict -6 default kod limited nomodify notrap nopeer noquery\n"
	"restrict 198.18.0.0 mask 255.255.255.0 nomodify notrap\n"
	"restrict 127.0.0.1\n"
	"restrict ::1\n";

static const struct dpn_acl_rule *
match(const char *addr, uint16_t sport)
{
	int family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	uint8_t a[16];

	assert_int_equal(inet_pton(family, addr, a), 1);
	return dpn_acl_match(&conf.acl, family, a, sport);
}

static void
test_restrict_seed(void **state)
{
	const uint32_t dflt = DPN_ACL_F(KOD) | DPN_ACL_F(LIMITED) |
		DPN_ACL_F(NOMODIFY) | DPN_ACL_F(NOTRAP) | DPN_ACL_F(NOPEER) |
		DPN_ACL_F(NOQUERY);
	const struct dpn_acl_rule *r;
	char buf[1024];

	parse_ok(seed_conf);
	/* `default` wrote both defaults; line 2 merged into the IPv6 one. */
	assert_int_equal(conf.acl.nb, 5);

	r = match("198.18.0.5", 123);
	assert_non_null(r);
	assert_int_equal(r->line, 3);
	assert_int_equal(r->flags, DPN_ACL_F(NOMODIFY) | DPN_ACL_F(NOTRAP));
	assert_int_equal(dpn_acl_decide(r->flags, 3, 4, false), DPN_ACL_SERVE);

	r = match("198.19.0.1", 40000);
	assert_non_null(r);
	assert_true(r->is_default);
	assert_int_equal(r->line, 1);
	assert_int_equal(r->flags, dflt);
	assert_int_equal(dpn_acl_decide(r->flags, 3, 4, false), DPN_ACL_SERVE);
	assert_int_equal(dpn_acl_decide(r->flags, 1, 4, false), DPN_ACL_DROP_NOPEER);
	assert_int_equal(dpn_acl_decide(r->flags, 6, 2, false), DPN_ACL_DROP_NOQUERY);

	r = match("127.0.0.1", 123);
	assert_non_null(r);
	assert_int_equal(r->flags, 0);
	assert_int_equal(r->line, 4);

	r = match("2001:db8::1", 123);
	assert_non_null(r);
	assert_true(r->is_default);
	assert_int_equal(r->family, AF_INET6);
	/* Both lines set it; the first is the one remembered. */
	assert_int_equal(r->line, 1);
	assert_int_equal(r->flags, dflt);

	r = match("::1", 123);
	assert_non_null(r);
	assert_int_equal(r->flags, 0);
	assert_int_equal(r->line, 5);

	dpn_conf_format(&conf, buf, sizeof(buf));
	assert_string_equal(buf,
		"restrict 127.0.0.1\n"
		"restrict 198.18.0.0 mask 255.255.255.0 nomodify notrap\n"
		"restrict -4 default noquery nomodify notrap nopeer kod "
		"limited\n"
		"restrict ::1\n"
		"restrict -6 default noquery nomodify notrap nopeer kod "
		"limited\n");
}

static void
test_restrict_merge_and_lines(void **state)
{
	parse_ok("\n"
		 "restrict 198.18.0.0/24 nomodify\n"
		 "restrict -4 default ignore\n"
		 "restrict 198.18.0.9 mask 255.255.255.0 kod\n"
		 "restrict 198.18.0.0/24 ntpport noquery\n"
		 "restrict 198.18.0.0/24 nomodify\n");
	assert_int_equal(conf.acl.nb, 3);
	/* Match order: ntpport first at the same prefix, default last. */
	assert_true(conf.acl.rules[0].flags & DPN_ACL_F(NTPPORT));
	assert_int_equal(conf.acl.rules[0].line, 5);
	assert_int_equal(conf.acl.rules[1].flags,
			 DPN_ACL_F(NOMODIFY) | DPN_ACL_F(KOD));
	assert_int_equal(conf.acl.rules[1].line, 2);
	assert_true(conf.acl.rules[2].is_default);
	assert_int_equal(conf.acl.rules[2].line, 3);
}

static void
test_restrict_hostname(void **state)
{
	unsigned int i;

	parse_ok("restrict localhost nomodify\n");
	assert_true(conf.acl.nb >= 1 && conf.acl.nb <= 2);
	for (i = 0; i < conf.acl.nb; i++) {
		assert_int_equal(conf.acl.rules[i].line, 1);
		assert_int_equal(conf.acl.rules[i].flags,
				 DPN_ACL_F(NOMODIFY));
	}
	parse_fails("\nrestrict no-such-host.invalid\n", 2,
		    "restrict: cannot resolve host name "
		    "'no-such-host.invalid': ");
}

static void
test_restrict_errors(void **state)
{
	char expect[128];

	/* The whole message, prefix included. */
	parse_fails("restrict default\nrestrict 198.18.0.0 mask\n", 2, "");
	snprintf(expect, sizeof(expect),
		 NAME ":2: restrict: 'mask' needs a value");
	assert_string_equal(err, expect);

	parse_fails("restrict\n", 1, "restrict: missing address or 'default'");
	parse_fails("restrict 198.18.0.0 mask 255.0.255.0\n", 1,
		    "restrict: mask 255.0.255.0 is not contiguous (only "
		    "prefix masks are supported)");
	parse_fails("restrict default foo\n", 1,
		    "restrict: unknown restrict flag 'foo'");
	parse_fails("restrict default mask 255.0.0.0\n", 1,
		    "restrict: 'default' takes no mask");
	parse_fails("restrict -4 ::1\n", 1,
		    "restrict: '-4' given with IPv6 address '::1'");
	parse_fails("restrict 198.18.0.0/33\n", 1,
		    "restrict: invalid prefix length '33'");
	/* A bad line after good ones: the good ones are freed too. */
	parse_fails("restrict default kod\nrestrict ::1\nrestrict ::2 x\n",
		    3, "restrict: unknown restrict flag 'x'");
	assert_int_equal(conf.acl.nb, 0);
	assert_null(conf.acl.rules);
}

static void
test_restrict_many_lines(void **state)
{
	const unsigned int n = 100000;
	char *text = malloc((size_t)n * 48 + 64);
	size_t off = 0;
	unsigned int i;

	assert_non_null(text);
	/* Half of them written twice, out of order, so merging has work. */
	for (i = 0; i < n; i++) {
		unsigned int j = i < n / 2 ? i : n - 1 - i;

		off += sprintf(text + off, "restrict 10.%u.%u.0/24 kod\n",
			       j >> 8, j & 0xff);
	}
	parse_ok(text);
	assert_int_equal(conf.acl.nb, n / 2);
	assert_int_equal(conf.acl.rules[0].prefix_len, 24);
	assert_int_equal(conf.acl.rules[0].line, 1);
	assert_int_equal(conf.acl.rules[n / 2 - 1].line, n / 2);
	/* Sorted by address within the prefix length. */
	assert_int_equal(conf.acl.rules[n / 2 - 1].addr[1], (n / 2 - 1) >> 8);

	/* And format truncates safely but reports the whole length. */
	{
		char small[64];
		int len = dpn_conf_format(&conf, small, sizeof(small));

		assert_true(len > 100000);
		assert_int_equal(strlen(small), sizeof(small) - 1);
		assert_int_equal(dpn_conf_format(&conf, NULL, 0), len);
	}
	free(text);
}

static void
test_restrict_total_limit(void **state)
{
	/* 64 addresses per line is a host name's most; use plain rules. */
	const unsigned int n = 1000000;
	char *text = malloc((size_t)n * 40 + 64);
	size_t off = 0;
	unsigned int i;

	assert_non_null(text);
	for (i = 0; i < n; i++)
		off += sprintf(text + off, "restrict 10.%u.%u.%u\n",
			       i >> 16, (i >> 8) & 0xff, i & 0xff);
	parse_ok(text);
	assert_int_equal(conf.acl.nb, n);
	sprintf(text + off, "restrict -6 default\n");
	parse_fails(text, n + 1, "restrict: too many rules (at most 1000000)");
	free(text);
}

/* ---- discard ---- */

static void
test_discard(void **state)
{
	parse_ok("discard average 5\n");
	assert_int_equal(conf.discard.average_log2, 5);
	assert_int_equal(conf.discard.minimum_s, 2);
	assert_int_equal(conf.discard.monitor, 3000);
	assert_int_equal(conf.discard_line, 1);

	parse_ok("\ndiscard monitor 100000 minimum 60 average 10\n");
	assert_int_equal(conf.discard.average_log2, 10);
	assert_int_equal(conf.discard.minimum_s, 60);
	assert_int_equal(conf.discard.monitor, 100000);
	assert_int_equal(conf.discard_line, 2);

	parse_ok("discard minimum 0 average 0 monitor 0\n");
	assert_int_equal(conf.discard.average_log2, 0);
	assert_int_equal(conf.discard.minimum_s, 0);
	assert_int_equal(conf.discard.monitor, 0);

	/* No discard line: ntpd's defaults. */
	parse_ok("restrict default limited\n");
	assert_int_equal(conf.discard_line, 0);
	assert_int_equal(conf.discard.average_log2, 3);
	assert_int_equal(conf.discard.minimum_s, 2);
}

static void
test_discard_errors(void **state)
{
	parse_fails("discard\n", 1,
		    "discard: needs at least one of 'average', 'minimum', "
		    "'monitor'");
	parse_fails("discard average 3\n\ndiscard minimum 1\n", 3,
		    "discard: already configured on line 1");
	parse_fails("discard average 3 average 4\n", 1,
		    "discard: 'average' given more than once");
	parse_fails("discard minimum\n", 1,
		    "discard: missing value after 'minimum'");
	parse_fails("discard maximum 3\n", 1,
		    "discard: unexpected word 'maximum'");
	parse_fails("discard average 11\n", 1,
		    "discard: average must be 0..10, got '11'");
	parse_fails("discard average -1\n", 1,
		    "discard: average must be 0..10, got '-1'");
	parse_fails("discard minimum 61\n", 1,
		    "discard: minimum must be 0..60, got '61'");
	parse_fails("discard monitor 100001\n", 1,
		    "discard: monitor must be 0..100000, got '100001'");
	parse_fails("discard average 3s\n", 1,
		    "discard: average '3s' is not a number");
}

/* ---- clientlimit ---- */

static void
test_clientlimit(void **state)
{
	char text[64];

	parse_ok("clientlimit 1\n");
	assert_int_equal(conf.clientlimit, 1);
	snprintf(text, sizeof(text), "clientlimit %u\n",
		 DPN_CONF_CLIENTLIMIT_MAX);
	parse_ok(text);
	assert_int_equal(conf.clientlimit, DPN_CONF_CLIENTLIMIT_MAX);

	snprintf(text, sizeof(text), "clientlimit %u\n",
		 DPN_CONF_CLIENTLIMIT_MAX + 1);
	parse_fails(text, 1, "clientlimit: value must be 1..16777216");
	parse_fails("clientlimit 0\n", 1,
		    "clientlimit: value must be 1..16777216, got '0'");
	parse_fails("clientlimit\n", 1, "clientlimit: missing value");
	parse_fails("clientlimit many\n", 1,
		    "clientlimit: value 'many' is not a number");
	parse_fails("clientlimit 5 6\n", 1,
		    "clientlimit: unexpected word '6'");
	parse_fails("clientlimit 5\nclientlimit 6\n", 2,
		    "clientlimit: already configured on line 1");
}

/* ---- metrics ---- */

static void
test_metrics(void **state)
{
	struct in6_addr a6;
	char buf[256];

	parse_ok("# no metrics line\n");
	assert_false(conf.metrics.enabled);

	parse_ok("\nmetrics 127.0.0.1:9123\n");
	assert_true(conf.metrics.enabled);
	assert_int_equal(conf.metrics.family, AF_INET);
	assert_int_equal(conf.metrics.addr.v4.s_addr, htonl(0x7f000001));
	assert_int_equal(conf.metrics.port, 9123);
	assert_int_equal(conf.metrics.line, 2);
	dpn_conf_format(&conf, buf, sizeof(buf));
	assert_string_equal(buf, "metrics 127.0.0.1:9123\n");

	parse_ok("metrics [::1]:65535\n");
	assert_int_equal(conf.metrics.family, AF_INET6);
	assert_int_equal(inet_pton(AF_INET6, "::1", &a6), 1);
	assert_memory_equal(&conf.metrics.addr.v6, &a6, sizeof(a6));
	assert_int_equal(conf.metrics.port, 65535);
	dpn_conf_format(&conf, buf, sizeof(buf));
	assert_string_equal(buf, "metrics [::1]:65535\n");

	/* What format writes parses back to the same thing. */
	parse_ok("metrics [2001:db8:0::5]:1\n");
	dpn_conf_format(&conf, buf, sizeof(buf));
	assert_string_equal(buf, "metrics [2001:db8::5]:1\n");
	parse_ok(buf);
	assert_int_equal(conf.metrics.port, 1);
}

static void
test_metrics_errors(void **state)
{
	parse_fails("metrics\n", 1, "metrics: missing ADDRESS:PORT");
	parse_fails("metrics 127.0.0.1\n", 1,
		    "metrics: '127.0.0.1' has no port");
	parse_fails("metrics 127.0.0.1:9123 extra\n", 1,
		    "metrics: unexpected word 'extra'");
	parse_fails("metrics ::1:9123\n", 1,
		    "metrics: write an IPv6 address in brackets, as [::1]:9123");
	parse_fails("metrics [::1]9123\n", 1,
		    "metrics: '[::1]9123' is not [IPv6]:PORT");
	parse_fails("metrics [::1\n", 1, "is not [IPv6]:PORT");
	parse_fails("metrics 127.0.0.300:9123\n", 1,
		    "metrics: invalid IPv4 address '127.0.0.300'");
	parse_fails("metrics [198.18.0.1]:9123\n", 1,
		    "metrics: invalid IPv6 address '198.18.0.1'");
	parse_fails("metrics localhost:9123\n", 1,
		    "metrics: invalid IPv4 address 'localhost'");
	parse_fails("metrics 127.0.0.1:0\n", 1,
		    "metrics: port must be 1..65535, got '0'");
	parse_fails("metrics 127.0.0.1:65536\n", 1,
		    "metrics: port must be 1..65535, got '65536'");
	parse_fails("metrics 127.0.0.1:http\n", 1,
		    "metrics: port 'http' is not a number");
	parse_fails("metrics 127.0.0.1:\n", 1,
		    "metrics: port '' is not a number");
	parse_fails("metrics 127.0.0.1:9123\n#\nmetrics [::1]:9123\n", 3,
		    "metrics: already configured on line 1");
}

/* ---- format of the new directives ---- */

static void
test_format_acl_discard_clientlimit(void **state)
{
	static struct dpn_conf orig;
	char buf[2048];
	int n;

	parse_ok("clientlimit 1000\n"
		 "discard minimum 1\n"
		 "restrict 2001:db8:0::/32 kod\n"
		 "restrict 198.18.0.0 mask 255.255.255.0 nomodify notrap\n"
		 "restrict -4 default ntpport ignore\n"
		 "listen port 0 address 198.18.0.1/24\n");
	n = dpn_conf_format(&conf, buf, sizeof(buf));
	assert_string_equal(buf,
		"listen port 0 address 198.18.0.1/24\n"
		"restrict 198.18.0.0 mask 255.255.255.0 nomodify notrap\n"
		"restrict -4 default ignore ntpport\n"
		"restrict 2001:db8::/32 kod\n"
		"discard average 3 minimum 1 monitor 3000\n"
		"clientlimit 1000\n");
	assert_int_equal(n, strlen(buf));

	orig = conf;
	dpn_conf_init(&conf);
	parse_ok(buf);
	assert_same_conf(&orig, &conf);
	dpn_conf_free(&orig);

	/* Defaults print nothing. */
	parse_ok("clientlimit 65536\n");
	assert_int_equal(dpn_conf_format(&conf, buf, sizeof(buf)), 0);
}

static void
test_free_twice_and_reuse(void **state)
{
	parse_ok(seed_conf);
	dpn_conf_free(&conf);
	assert_null(conf.acl.rules);
	assert_int_equal(conf.acl.nb, 0);
	dpn_conf_free(&conf);
	parse_ok(seed_conf);
	assert_int_equal(conf.acl.nb, 5);
}

static void
test_parse_file_restrict_error_frees(void **state)
{
	static const char text[] =
		"restrict default kod\n"
		"restrict 198.18.0.0/24\n"
		"discard average 4\n"
		"restrict 198.18.0.0 mask\n";
	char path[64], expect[128];
	int rc;

	write_temp(path, text, sizeof(text) - 1);
	rc = dpn_conf_parse_file(&conf, path, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, -1);
	snprintf(expect, sizeof(expect), "%s:4: restrict: 'mask' needs a value",
		 path);
	assert_string_equal(err, expect);
	assert_null(conf.acl.rules);

	write_temp(path, seed_conf, sizeof(seed_conf) - 1);
	rc = dpn_conf_parse_file(&conf, path, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, 0);
	assert_int_equal(conf.acl.nb, 5);
}

/* ---- files ---- */

static void
test_parse_file(void **state)
{
	static const char text[] =
		"# test file\r\n"
		"listen port 1 address 2001:db8::5/64 vlan 12\r\n"
		"refclock system refid PPS precision -22\r\n";
	char path[64];
	int rc;

	write_temp(path, text, sizeof(text) - 1);
	rc = dpn_conf_parse_file(&conf, path, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, 0);
	assert_int_equal(conf.nb_listen, 1);
	assert_int_equal(conf.listen[0].port, 1);
	assert_v6(&conf.listen[0], "2001:db8::5");
	assert_int_equal(conf.listen[0].vlan, 12);
	assert_int_equal(conf.listen[0].line, 2);
	assert_string_equal(conf.refclock_system.refid, "PPS");
	assert_int_equal(conf.refclock_system.precision, -22);
	assert_int_equal(conf.refclock_system.line, 3);
}

static void
test_parse_file_error_names_path(void **state)
{
	static const char text[] = "refclock system\n\nrefclock pps\n";
	char path[64], expect[128];
	int rc;

	write_temp(path, text, sizeof(text) - 1);
	rc = dpn_conf_parse_file(&conf, path, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, -1);
	snprintf(expect, sizeof(expect),
		 "%s:3: refclock pps: missing path", path);
	assert_memory_equal(err, expect, strlen(expect));
}

static void
test_parse_file_long_line(void **state)
{
	char text[1100], path[64], expect[128];
	int rc;

	memset(text, '#', sizeof(text));
	text[sizeof(text) - 1] = '\n';
	write_temp(path, text, sizeof(text));
	rc = dpn_conf_parse_file(&conf, path, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, -1);
	snprintf(expect, sizeof(expect),
		 "%s:1: line is longer than 1023 characters", path);
	assert_string_equal(err, expect);
}

static void
test_parse_file_nul_byte(void **state)
{
	static const char text[] = "refclock system\nlisten\0 port 0\n";
	char path[64], expect[128];
	int rc;

	write_temp(path, text, sizeof(text) - 1);
	rc = dpn_conf_parse_file(&conf, path, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, -1);
	snprintf(expect, sizeof(expect), "%s:2: line contains a NUL byte",
		 path);
	assert_string_equal(err, expect);
}

static void
test_parse_file_missing(void **state)
{
	assert_int_equal(dpn_conf_parse_file(&conf, "/nonexistent/dpntp.conf",
					     err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/dpntp.conf: "
			    "No such file or directory");
}

static void
test_parse_file_directory(void **state)
{
	assert_int_equal(dpn_conf_parse_file(&conf, "/tmp", err, sizeof(err)),
			 -1);
	assert_string_equal(err, "/tmp: Is a directory");
}

static void
test_parse_file_empty(void **state)
{
	char path[64];
	int rc;

	write_temp(path, "", 0);
	rc = dpn_conf_parse_file(&conf, path, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, 0);
	assert_int_equal(conf.nb_listen, 0);
	assert_false(conf.refclock_system.enabled);
}

/* ---- error buffer ---- */

static void
test_small_or_missing_error_buffer(void **state)
{
	char small[12];

	memset(small, 'Z', sizeof(small));
	assert_int_equal(dpn_conf_parse_string(&conf, NAME, "bogus\n",
					       small, sizeof(small) - 2), -1);
	/* Truncated, terminated, and nothing written past errlen. */
	assert_string_equal(small, "test.conf");
	assert_int_equal(small[10], 'Z');
	assert_int_equal(small[11], 'Z');

	assert_int_equal(dpn_conf_parse_string(&conf, NAME, "bogus\n",
					       NULL, 0), -1);
	assert_int_equal(dpn_conf_parse_file(&conf, "/nonexistent", NULL, 0),
			 -1);
}

/* ---- format ---- */

static void
assert_same_conf(const struct dpn_conf *a, const struct dpn_conf *b)
{
	const struct dpn_conf_refclock_system *ra = &a->refclock_system;
	const struct dpn_conf_refclock_system *rb = &b->refclock_system;
	unsigned int i;

	assert_int_equal(a->nb_listen, b->nb_listen);
	for (i = 0; i < a->nb_listen; i++) {
		const struct dpn_conf_listen *x = &a->listen[i];
		const struct dpn_conf_listen *y = &b->listen[i];

		assert_int_equal(x->port, y->port);
		assert_int_equal(x->family, y->family);
		if (x->family == AF_INET)
			assert_int_equal(x->addr.v4.s_addr, y->addr.v4.s_addr);
		else
			assert_memory_equal(&x->addr.v6, &y->addr.v6,
					    sizeof(x->addr.v6));
		assert_int_equal(x->prefix_len, y->prefix_len);
		assert_int_equal(x->vlan, y->vlan);
		assert_int_equal(x->has_gateway, y->has_gateway);
		if (x->has_gateway)
			assert_memory_equal(&x->gateway, &y->gateway,
					    x->family == AF_INET ? 4 : 16);
	}
	assert_int_equal(ra->enabled, rb->enabled);
	assert_int_equal(ra->stratum, rb->stratum);
	assert_memory_equal(ra->refid, rb->refid, sizeof(ra->refid));
	assert_int_equal(ra->precision, rb->precision);

	/* Rules come out in match order both times; lines may differ. */
	assert_int_equal(a->acl.nb, b->acl.nb);
	for (i = 0; i < a->acl.nb; i++) {
		struct dpn_acl_rule x = a->acl.rules[i];
		struct dpn_acl_rule y = b->acl.rules[i];

		x.line = y.line = 0;
		assert_memory_equal(&x, &y, sizeof(x));
	}
	assert_int_equal(a->discard.average_log2, b->discard.average_log2);
	assert_int_equal(a->discard.minimum_s, b->discard.minimum_s);
	assert_int_equal(a->discard.monitor, b->discard.monitor);
	assert_int_equal(a->discard_line != 0, b->discard_line != 0);
	assert_int_equal(a->clientlimit, b->clientlimit);
}

static void
test_format_canonical(void **state)
{
	char buf[512];
	int n;

	parse_ok("# comment\n"
		 "listen\tvlan 5 port 0 address 198.18.0.1/24  # x\n"
		 "listen port 2 address 2001:0db8:0::0001/64\r\n"
		 "refclock system refid GPS stratum 2\n");
	n = dpn_conf_format(&conf, buf, sizeof(buf));
	assert_string_equal(buf,
			    "listen port 0 address 198.18.0.1/24 vlan 5\n"
			    "listen port 2 address 2001:db8::1/64\n"
			    "refclock system stratum 2 refid GPS\n");
	assert_int_equal(n, strlen(buf));

	parse_ok("refclock system precision -20\n");
	dpn_conf_format(&conf, buf, sizeof(buf));
	assert_string_equal(buf,
			    "refclock system stratum 1 refid LOCL "
			    "precision -20\n");

	parse_ok("listen gateway 198.18.0.9 port 0 address 198.18.0.1/24\n"
		 "listen port 0 address 2001:db8::1/64 gateway FE80::0:1 "
		 "vlan 2\n");
	dpn_conf_format(&conf, buf, sizeof(buf));
	assert_string_equal(buf,
			    "listen port 0 address 198.18.0.1/24 "
			    "gateway 198.18.0.9\n"
			    "listen port 0 address 2001:db8::1/64 vlan 2 "
			    "gateway fe80::1\n");

	parse_ok("");
	assert_int_equal(dpn_conf_format(&conf, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void
test_format_round_trip(void **state)
{
	static struct dpn_conf orig;
	char buf[8192];
	int n;

	parse_ok("listen port 0 address 198.18.0.1/24 vlan 5\n"
		 "listen port 1 address 198.18.0.1/24 gateway 198.18.0.2\n"
		 "listen port 2 address 2001:db8::1/64 gateway fe80::1\n"
		 "listen port 1023 address 2001:db8:1:2:3:4:5:6/128 vlan 4094\n"
		 "listen port 3 address ::ffff:10.0.0.1/96\n"
		 "refclock system stratum 15 refid a.:! precision -30\n");
	/* Swapped out: the next parse into conf must not free these rules. */
	orig = conf;
	dpn_conf_init(&conf);
	n = dpn_conf_format(&orig, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	parse_ok(buf);
	assert_same_conf(&orig, &conf);
	dpn_conf_free(&orig);
}

static void
test_format_truncation(void **state)
{
	char buf[16];
	int full, n;

	parse_ok("listen port 0 address 198.18.0.1/24 vlan 5\n"
		 "refclock system\n");
	full = dpn_conf_format(&conf, NULL, 0);
	assert_int_equal(full,
			 strlen("listen port 0 address 198.18.0.1/24 vlan 5\n"
				"refclock system stratum 1 refid LOCL\n"));

	memset(buf, 'Z', sizeof(buf));
	n = dpn_conf_format(&conf, buf, 10);
	assert_int_equal(n, full);
	assert_string_equal(buf, "listen po");
	assert_int_equal(buf[10], 'Z');
}

static void
assert_same_refclock(const struct dpn_conf_refclock *a,
		     const struct dpn_conf_refclock *b)
{
	assert_int_equal(a->type, b->type);
	assert_string_equal(a->path, b->path);
	assert_int_equal(a->unit, b->unit);
	assert_int_equal(a->perm, b->perm);
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->domain, b->domain);
	assert_int_equal(a->transport, b->transport);
	assert_int_equal(a->has_address, b->has_address);
	assert_int_equal(a->address.s_addr, b->address.s_addr);
	assert_int_equal(a->prefix_len, b->prefix_len);
	assert_int_equal(a->announce_timeout, b->announce_timeout);
	assert_memory_equal(a->refid, b->refid, sizeof(a->refid));
	assert_int_equal(a->stratum, b->stratum);
	assert_int_equal(a->poll, b->poll);
	assert_int_equal(a->precision, b->precision);
	if (a->offset_s != b->offset_s || a->delay_s != b->delay_s)
		fail_msg("offset %.17g/%.17g delay %.17g/%.17g", a->offset_s,
			 b->offset_s, a->delay_s, b->delay_s);
	assert_int_equal(a->flags, b->flags);
	assert_memory_equal(a->lock, b->lock, sizeof(a->lock));
}

/* Parse @p text, format it, parse that: the refclocks must not change. */
static void
refclock_round_trip(const char *text)
{
	static struct dpn_conf_refclock saved[DPN_CONF_MAX_REFCLOCKS];
	static char buf[16384];
	unsigned int i, nb;
	int n;

	parse_ok(text);
	nb = conf.nb_refclocks;
	memcpy(saved, conf.refclocks, sizeof(saved));
	n = dpn_conf_format(&conf, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	parse_ok(buf);
	if (conf.nb_refclocks != nb)
		fail_msg("%u refclocks, then %u from:\n%s", nb,
			 conf.nb_refclocks, buf);
	for (i = 0; i < nb; i++)
		assert_same_refclock(&saved[i], &conf.refclocks[i]);
}

static void
test_format_refclocks(void **state)
{
	char buf[1024], line[128];
	int e, n;

	parse_ok("refclock shm 0\n");
	n = dpn_conf_format(&conf, buf, sizeof(buf));
	assert_string_equal(buf, "refclock shm 0 perm 0600 refid SHM0 "
			    "stratum 0 poll 4\n");
	assert_int_equal(n, strlen(buf));
	parse_ok(LISTEN0 "refclock ptp port 0\n"
		 "refclock pps /dev/pps0 clear prefer noselect trust "
		 "lock PTP\n");
	dpn_conf_format(&conf, buf, sizeof(buf));
	assert_string_equal(buf, LISTEN0
			    "refclock ptp port 0 domain 0 transport udp4 "
			    "refid PTP stratum 0 poll 4\n"
			    "refclock pps /dev/pps0 refid PPS stratum 0 poll 4 "
			    "lock PTP clear prefer noselect trust\n");

	refclock_round_trip(
		"listen port 0 address 198.18.0.1/24\n"
		"listen port 1 address 2001:db8::1/64\n"
		"refclock shm 3 perm 0640 refid GPS stratum 1 poll -6 "
		"offset -37 delay 0.000123 precision 1e-6 prefer\n"
		"refclock sock /run/chrony.ttyS0.sock refid NMEA noselect "
		"trust precision 1e-9 poll 0\n"
		"refclock pps /dev/pps0 lock NMEA clear prefer precision 0.5 "
		"offset 0.000000123\n"
		"refclock phc /dev/ptp2 poll 12 stratum 15 delay 1 "
		"precision 1.5e-8\n"
		"refclock ptp port 0 domain 24 transport udp4 "
		"address 198.18.0.7/24 announce-timeout 255 precision 3e-9 "
		"offset -0.25\n"
		"refclock ptp port 1 transport l2 domain 255 "
		"announce-timeout 2 refid PTP1 delay 0\n"
		"refclock shm 0 perm 0 refid a.:!\n"
		"refclock sock /x lock GPS offset 1000\n");

	/* Every precision comes back as itself. */
	for (e = -29; e <= -1; e++) {
		snprintf(line, sizeof(line), "refclock shm 0 precision %.17g\n",
			 ldexp(1.0, e));
		parse_ok(line);
		assert_int_equal(conf.refclocks[0].precision, e);
		refclock_round_trip(line);
	}
}

/* ---- upstream: server, pool, peer, tinker, tos, files ---- */

static void
test_server_defaults_and_options(void **state)
{
	const struct dpn_conf_server *s;

	parse_ok("server 198.18.0.1\n"
		 "server -6 ntp.example.net iburst prefer minpoll 4 maxpoll 6\n"
		 "pool pool.example.net burst noselect true version 3\n");
	assert_int_equal(conf.nb_servers, 3);
	s = &conf.servers[0];
	assert_string_equal(s->host, "198.18.0.1");
	assert_false(s->pool);
	assert_int_equal(s->family, 0);
	assert_int_equal(s->flags, 0);
	assert_int_equal(s->minpoll, 6);
	assert_int_equal(s->maxpoll, 10);
	assert_int_equal(s->version, 4);
	assert_int_equal(s->line, 1);
	s = &conf.servers[1];
	assert_int_equal(s->family, AF_INET6);
	assert_int_equal(s->flags, DPN_CONF_SRV_IBURST | DPN_CONF_SRV_PREFER);
	assert_int_equal(s->minpoll, 4);
	assert_int_equal(s->maxpoll, 6);
	s = &conf.servers[2];
	assert_true(s->pool);
	assert_int_equal(s->flags, DPN_CONF_SRV_BURST | DPN_CONF_SRV_NOSELECT |
			 DPN_CONF_SRV_TRUE);
	assert_int_equal(s->version, 3);
}

static void
test_server_errors(void **state)
{
	parse_fails("server\n", 1, "missing host name or address");
	parse_fails("server -4\n", 1, "missing host name or address");
	parse_fails("server bad/name\n", 1, "is not a host name or address");
	parse_fails("server -6 198.18.0.1\n", 1,
		    "198.18.0.1 is an IPv4 address, but the line says -6");
	parse_fails("pool -4 2001:db8::1\n", 1,
		    "2001:db8::1 is an IPv6 address, but the line says -4");
	parse_fails("server 198.18.0.1 minpoll\n", 1,
		    "missing value after 'minpoll'");
	parse_fails("server 198.18.0.1 minpoll 2\n", 1,
		    "minpoll must be 3..17");
	parse_fails("server 198.18.0.1 maxpoll 18\n", 1,
		    "maxpoll must be 3..17");
	parse_fails("server 198.18.0.1 minpoll 8 maxpoll 6\n", 1,
		    "minpoll 8 is above maxpoll 6");
	parse_fails("server 198.18.0.1 version 5\n", 1, "version must be 1..4");
	parse_fails("server 198.18.0.1 key 5\n", 1,
		    "key 5: no 'keys' line before this one");
	parse_fails("server 198.18.0.1 autokey\n", 1,
		    "'autokey' is not supported");
	parse_fails("server 198.18.0.1 xleave\n", 1,
		    "unexpected word 'xleave'");
	parse_fails("server 198.18.0.1\n\npool 198.18.0.1\n", 3,
		    "198.18.0.1 already configured on line 1");
	parse_fails("peer 198.18.0.1\n", 1,
		    "symmetric active associations are not supported");
}

static void
test_tinker_tos_files(void **state)
{
	const struct dpn_conf_discipline *d;

	parse_ok("");
	d = &conf.disc;
	assert_true(d->step_s == 0.128);
	assert_true(d->panic_s == 1000);
	assert_true(d->stepout_s == 300);
	assert_int_equal(d->minsane, 1);
	assert_int_equal(d->minclock, 3);
	assert_true(d->maxdist_s == 1.5);
	assert_int_equal(d->holdover_s, 3600);
	assert_int_equal(d->leapsmear_s, 0);
	assert_string_equal(d->driftfile, "");

	parse_ok("tinker step 0.5 panic 0 stepout 60\n"
		 "tos minsane 2 minclock 4 maxdist 0.5\n"
		 "driftfile /var/lib/dpntp/drift\n"
		 "leapfile /usr/share/zoneinfo/leap-seconds.list\n"
		 "leapsmear 86400\nholdover 60\n");
	d = &conf.disc;
	assert_true(d->step_s == 0.5);
	assert_true(d->panic_s == 0);
	assert_true(d->stepout_s == 60);
	assert_int_equal(d->minsane, 2);
	assert_int_equal(d->minclock, 4);
	assert_true(d->maxdist_s == 0.5);
	assert_string_equal(d->driftfile, "/var/lib/dpntp/drift");
	assert_string_equal(d->leapfile,
			    "/usr/share/zoneinfo/leap-seconds.list");
	assert_int_equal(d->leapsmear_s, 86400);
	assert_int_equal(d->holdover_s, 60);

	parse_fails("tinker\n", 1, "needs one of");
	parse_fails("tinker step\n", 1, "missing value after 'step'");
	parse_fails("tinker step -1\n", 1, "is not a number of seconds");
	parse_fails("tinker step abc\n", 1, "is not a number of seconds");
	parse_fails("tinker dispersion 1\n", 1, "unexpected word 'dispersion'");
	parse_fails("tos orphan 5\n", 1, "unexpected word 'orphan'");
	parse_fails("tos minsane 0\n", 1, "minsane must be 1..");
	parse_fails("tos maxdist 0\n", 1, "maxdist must be above 0");
	parse_fails("driftfile\n", 1, "driftfile: missing file name");
	parse_fails("leapfile a b\n", 1, "unexpected word 'b'");
	parse_fails("leapsmear 90000\n", 1, "seconds must be 0..86400");
	parse_fails("holdover x\n", 1, "is not a number");
}

static void
test_format_upstream_round_trip(void **state)
{
	static const char text[] =
		"server -6 ntp.example.net iburst prefer minpoll 4 maxpoll 6\n"
		"pool pool.example.net noselect minpoll 6 maxpoll 10 version 3\n"
		"tinker step 0.5 panic 0 stepout 60\n"
		"tos minsane 2 minclock 4 maxdist 0.5\n"
		"driftfile /tmp/drift\n"
		"leapfile /tmp/leap\n"
		"leapsmear 3600\n"
		"holdover 60\n";
	char buf[2048];

	parse_ok(text);
	dpn_conf_format(&conf, buf, sizeof(buf));
	assert_string_equal(buf, text);
}

/* health: thresholds and drain file, defaults, errors, show config. */
static void
test_health(void **state)
{
	char buf[512];

	parse_ok("listen port 0 address 198.18.0.1/24\n");
	assert_true(conf.health.maxoffset_s == 0.1);
	assert_true(conf.health.maxdistance_s == 1.5);
	assert_int_equal(conf.health.stall_ms, 1000);
	assert_string_equal(conf.health.drainfile, "");
	dpn_conf_format(&conf, buf, sizeof(buf));
	assert_null(strstr(buf, "health"));

	parse_ok("health maxoffset 0.01 maxdistance 0.5 stall 500 drainfile /run/dpntp/drain\n");
	assert_true(conf.health.maxoffset_s == 0.01);
	assert_true(conf.health.maxdistance_s == 0.5);
	assert_int_equal(conf.health.stall_ms, 500);
	assert_string_equal(conf.health.drainfile, "/run/dpntp/drain");
	dpn_conf_format(&conf, buf, sizeof(buf));
	assert_string_equal(buf, "health maxoffset 0.01 maxdistance 0.5 stall 500 drainfile /run/dpntp/drain\n");
	parse_ok("health drainfile /tmp/d\n");
	assert_true(conf.health.maxoffset_s == 0.1);
	dpn_conf_format(&conf, buf, sizeof(buf));
	assert_string_equal(buf, "health maxoffset 0.1 maxdistance 1.5 stall 1000 drainfile /tmp/d\n");

	parse_fails("health\n", 1, "health: needs one of");
	parse_fails("\nhealth maxoffset\n", 2, "missing value after 'maxoffset'");
	parse_fails("health maxoffset -1\n", 1, "is not a number of seconds");
	parse_fails("health maxdistance 17\n", 1, "maxdistance must be 0..16 seconds");
	parse_fails("health stall 10\n", 1, "stall (ms) must be 200..");
	parse_fails("health stall\n", 1, "missing value after 'stall'");
	parse_fails("health drainfile\n", 1, "missing file name");
	parse_fails("health grace 5\n", 1, "unexpected word 'grace'");
	parse_fails("health stall 500\nhealth stall 600\n", 2,
		    "already configured on line 1");
}

static void
test_keys_trustedkey_server_key(void **state)
{
	char path[64], text[512];
	const char keys[] = "1 MD5 secret\n2 SHA1 other\n";

	write_temp(path, keys, strlen(keys));
	snprintf(text, sizeof(text), "keys %s\ntrustedkey 1 2\n"
		 "server 198.18.0.1 iburst key 2\n", path);
	parse_ok(text);
	assert_int_equal(conf.keys.nb, 2);
	assert_int_equal(conf.nb_trusted, 2);
	assert_int_equal(conf.servers[0].key, 2);

	snprintf(text, sizeof(text), "keys %s\nserver 198.18.0.1 key 1\n",
		 path);
	parse_fails(text, 2, "key 1 is not in a 'trustedkey' line");
	snprintf(text, sizeof(text), "keys %s\ntrustedkey 3\n"
		 "server 198.18.0.1 key 3\n", path);
	parse_fails(text, 2, "trustedkey: key 3 is not in /tmp/");
	parse_fails("keys /nonexistent/ntp.keys\n", 1,
		    "keys: /nonexistent/ntp.keys: No such file");
	parse_fails("trustedkey 0\n", 1, "key ID must be 1..65535");
	parse_fails("trustedkey 1\n", 1,
		    "trustedkey: no 'keys' line before this one");
	snprintf(text, sizeof(text), "keys %s\ntrustedkey 1\nauthfail drop\n",
		 path);
	parse_ok(text);
	assert_true(conf.authfail_drop);
	parse_ok("authfail nak\n");
	assert_false(conf.authfail_drop);
	parse_fails("authfail maybe\n", 1, "authfail: expected 'nak' or 'drop'");
	unlink(path);
}

static void
test_nts(void **state)
{
	static const char text[] =
		"ntsservercert /etc/dpntp/cert.pem\n"
		"ntsserverkey /etc/dpntp/key.pem\n"
		"ntsport 4461\n"
		"ntsdumpdir /var/lib/dpntp\n"
		"ntsrotate 3600\n"
		"ntsntpserver time.example.test\n"
		"ntsbind 2001:db8::1\n";
	char buf[2048];

	(void)state;
	parse_ok("listen port 0 address 198.18.0.1/24\n");
	assert_int_equal(conf.nts.cert_line, 0);
	assert_int_equal(conf.nts.port, 4460);
	assert_int_equal(conf.nts.rotate_s, 604800);
	parse_ok(text);
	assert_string_equal(conf.nts.cert, "/etc/dpntp/cert.pem");
	assert_string_equal(conf.nts.key, "/etc/dpntp/key.pem");
	assert_int_equal(conf.nts.port, 4461);
	assert_string_equal(conf.nts.dumpdir, "/var/lib/dpntp");
	assert_int_equal(conf.nts.rotate_s, 3600);
	assert_string_equal(conf.nts.ntp_server, "time.example.test");
	assert_string_equal(conf.nts.bind, "2001:db8::1");
	dpn_conf_format(&conf, buf, sizeof(buf));
	assert_non_null(strstr(buf, text));
	parse_ok("ntsrotate 0\n");
	assert_int_equal(conf.nts.rotate_s, 0);

	parse_fails("ntsservercert /a.pem\n", 1,
		    "ntsservercert without ntsserverkey");
	parse_fails("\nntsserverkey /k.pem\n", 2,
		    "ntsserverkey without ntsservercert");
	parse_fails("ntsport 0\n", 1, "must be 1..65535");
	parse_fails("ntsrotate -1\n", 1, "must be 0..31536000");
	parse_fails("ntsbind localhost\n", 1,
		    "ntsbind: 'localhost' is not an IPv4 or IPv6 address");
	parse_fails("ntsdumpdir /a /b\n", 1,
		    "ntsdumpdir: expected one argument only");
	parse_fails("ntsservercert /a\nntsservercert /b\n", 2,
		    "ntsservercert: already given on line 1");
}

/* Every test frees what it parsed, so valgrind sees no leak. */
#define TEST(f) cmocka_unit_test_teardown(f, free_conf)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_init_defaults),
		TEST(test_empty_config),
		TEST(test_comments_blanks_crlf),
		TEST(test_line_numbers_count_blank_lines),
		TEST(test_line_length_limit),
		TEST(test_unknown_directive),
		TEST(test_too_many_words),
		TEST(test_listen_ipv4),
		TEST(test_listen_ipv6),
		TEST(test_listen_vlan_and_bounds),
		TEST(test_listen_any_keyword_order),
		TEST(test_listen_same_address_other_vlan_or_family),
		TEST(test_listen_duplicate),
		TEST(test_listen_max),
		TEST(test_listen_missing_parts),
		TEST(test_listen_bad_words),
		TEST(test_listen_bad_port),
		TEST(test_listen_bad_vlan),
		TEST(test_listen_bad_address),
		TEST(test_listen_bad_prefix),
		TEST(test_listen_gateway),
		TEST(test_listen_bad_gateway),
		TEST(test_refclock_system_defaults),
		TEST(test_refclock_system_options),
		TEST(test_refclock_system_bad_values),
		TEST(test_refclock_system_bad_words),
		TEST(test_refclock_driver_defaults),
		TEST(test_refclock_driver_options),
		TEST(test_refclock_driver_bad_values),
		TEST(test_refclock_driver_bad_words),
		TEST(test_refclock_driver_targets),
		TEST(test_refclock_ptp),
		TEST(test_refclock_ptp_errors),
		TEST(test_refclock_ptp_listen),
		TEST(test_refclock_clashes),
		TEST(test_refclock_lock),
		TEST(test_refclock_max),
		TEST(test_refclock_types),
		TEST(test_restrict_seed),
		TEST(test_restrict_merge_and_lines),
		TEST(test_restrict_hostname),
		TEST(test_restrict_errors),
		TEST(test_restrict_many_lines),
		TEST(test_restrict_total_limit),
		TEST(test_discard),
		TEST(test_discard_errors),
		TEST(test_clientlimit),
		TEST(test_metrics),
		TEST(test_metrics_errors),
		TEST(test_format_acl_discard_clientlimit),
		TEST(test_free_twice_and_reuse),
		TEST(test_parse_file_restrict_error_frees),
		TEST(test_parse_file),
		TEST(test_parse_file_error_names_path),
		TEST(test_parse_file_long_line),
		TEST(test_parse_file_nul_byte),
		TEST(test_parse_file_missing),
		TEST(test_parse_file_directory),
		TEST(test_parse_file_empty),
		TEST(test_small_or_missing_error_buffer),
		TEST(test_format_canonical),
		TEST(test_format_round_trip),
		TEST(test_format_truncation),
		TEST(test_format_refclocks),
		TEST(test_server_defaults_and_options),
		TEST(test_server_errors),
		TEST(test_tinker_tos_files),
		TEST(test_format_upstream_round_trip),
		TEST(test_health),
		TEST(test_keys_trustedkey_server_key),
		TEST(test_nts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
