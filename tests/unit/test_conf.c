/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the configuration parser: what a user writes in
 * dpntp.conf, what the daemon makes of it, and what it says when the
 * file is wrong.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
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

static void
parse_ok(const char *text)
{
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
	memset(&conf, 0xa5, sizeof(conf));
	dpn_conf_init(&conf);
	assert_int_equal(conf.nb_listen, 0);
	assert_false(conf.refclock_system.enabled);
	assert_int_equal(conf.refclock_system.stratum, 1);
	assert_string_equal(conf.refclock_system.refid, "LOCL");
	assert_int_equal(conf.refclock_system.precision, 0);
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
	parse_fails("server 192.0.2.1 iburst\n", 1,
		    "unknown directive 'server'");
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

static void
test_refclock_other_types(void **state)
{
	parse_fails("refclock pps /dev/pps0\n", 1,
		    "unsupported refclock type 'pps'");
	parse_fails("refclock\n", 1, "refclock: missing type");
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
		 "%s:3: unsupported refclock type 'pps'", path);
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
	}
	assert_int_equal(ra->enabled, rb->enabled);
	assert_int_equal(ra->stratum, rb->stratum);
	assert_memory_equal(ra->refid, rb->refid, sizeof(ra->refid));
	assert_int_equal(ra->precision, rb->precision);
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
		 "listen port 1 address 198.18.0.1/24\n"
		 "listen port 1023 address 2001:db8:1:2:3:4:5:6/128 vlan 4094\n"
		 "listen port 3 address ::ffff:10.0.0.1/96\n"
		 "refclock system stratum 15 refid a.:! precision -30\n");
	orig = conf;
	n = dpn_conf_format(&orig, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	parse_ok(buf);
	assert_same_conf(&orig, &conf);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_defaults),
		cmocka_unit_test(test_empty_config),
		cmocka_unit_test(test_comments_blanks_crlf),
		cmocka_unit_test(test_line_numbers_count_blank_lines),
		cmocka_unit_test(test_line_length_limit),
		cmocka_unit_test(test_unknown_directive),
		cmocka_unit_test(test_too_many_words),
		cmocka_unit_test(test_listen_ipv4),
		cmocka_unit_test(test_listen_ipv6),
		cmocka_unit_test(test_listen_vlan_and_bounds),
		cmocka_unit_test(test_listen_any_keyword_order),
		cmocka_unit_test(test_listen_same_address_other_vlan_or_family),
		cmocka_unit_test(test_listen_duplicate),
		cmocka_unit_test(test_listen_max),
		cmocka_unit_test(test_listen_missing_parts),
		cmocka_unit_test(test_listen_bad_words),
		cmocka_unit_test(test_listen_bad_port),
		cmocka_unit_test(test_listen_bad_vlan),
		cmocka_unit_test(test_listen_bad_address),
		cmocka_unit_test(test_listen_bad_prefix),
		cmocka_unit_test(test_refclock_system_defaults),
		cmocka_unit_test(test_refclock_system_options),
		cmocka_unit_test(test_refclock_system_bad_values),
		cmocka_unit_test(test_refclock_system_bad_words),
		cmocka_unit_test(test_refclock_other_types),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_parse_file_error_names_path),
		cmocka_unit_test(test_parse_file_long_line),
		cmocka_unit_test(test_parse_file_nul_byte),
		cmocka_unit_test(test_parse_file_missing),
		cmocka_unit_test(test_parse_file_directory),
		cmocka_unit_test(test_parse_file_empty),
		cmocka_unit_test(test_small_or_missing_error_buffer),
		cmocka_unit_test(test_format_canonical),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_format_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
