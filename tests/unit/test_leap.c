/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/leap: the real IERS list Debian ships, a small list
 * announcing an insertion and a deletion, a damaged copy (its SHA-1 no
 * longer matches) and malformed files, each refused with its file and
 * line.
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
#include <cmocka.h>

#include "dpn_leap.h"

#define DEBIAN_LIST "/usr/share/zoneinfo/leap-seconds.list"

/* 1972-01-01 10 s, 1972-07-01 11 s, 2030-01-01 12 s, 2031-01-01 11 s. */
static const char synthetic[] =
	"# a test list\n"
	"#$\t3900000000\n"
	"#@\t3999999999x\n"	/* replaced below */
	"\n"
	"2272060800\t10\t# 1 Jan 1972\n"
	"2287785600\t11\t# 1 Jul 1972\n"
	"4102444800\t12\t# 1 Jan 2030\n"
	"4133980800\t11\t# 1 Jan 2031 (a deletion)\n"
	"#h\t97833739 d6c14f45 e4057899 2e9c6707 2433c100\n";

static char path[64];

static const char *
write_list(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/dpn-leap-%d.list", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* The synthetic list with one substitution (or none). */
static const char *
write_synthetic(const char *from, const char *to)
{
	char buf[1024], *p;

	assert_true(strlen(synthetic) < sizeof(buf) - 64);
	strcpy(buf, synthetic);
	p = strstr(buf, "3999999999x");
	memcpy(p, "4000000000\n", 11);
	memmove(p + 11, p + 12, strlen(p + 12) + 1);
	if (from != NULL) {
		char tail[1024];

		p = strstr(buf, from);
		assert_non_null(p);
		strcpy(tail, p + strlen(from));
		strcpy(p, to);
		strcat(p, tail);
	}
	return write_list(buf);
}

static void
test_debian_list(void **state)
{
	struct dpn_leap_table t;
	char err[256] = "";
	int64_t when = 0;

	if (access(DEBIAN_LIST, R_OK) != 0)
		skip();
	assert_int_equal(dpn_leap_load(DEBIAN_LIST, &t, err, sizeof(err)), 0);
	assert_true(t.nb >= 28);
	assert_int_equal(t.e[0].unix_s, 63072000);	/* 1972-01-01 */
	assert_int_equal(t.e[0].tai_offset, 10);
	assert_int_equal(t.e[27].unix_s, 1483228800);	/* 2017-01-01 */
	assert_int_equal(t.e[27].tai_offset, 37);
	assert_true(t.expires_unix > t.updated_unix);
	assert_int_equal(dpn_leap_tai_offset(&t, 1483228799), 36);
	assert_int_equal(dpn_leap_tai_offset(&t, 1483228800), 37);
	/* In mid-2016 the next one was inserted at the end of the year. */
	assert_int_equal(dpn_leap_next(&t, 1467331200, &when), 1);
	assert_int_equal(when, 1483228800);
	assert_false(dpn_leap_expired(&t, t.expires_unix - 1));
	assert_true(dpn_leap_expired(&t, t.expires_unix));
}

static void
test_insert_and_delete(void **state)
{
	struct dpn_leap_table t;
	char err[256] = "";
	int64_t when = 0;

	assert_int_equal(dpn_leap_load(write_synthetic(NULL, NULL), &t, err,
				       sizeof(err)), 0);
	unlink(path);
	assert_int_equal(t.nb, 4);
	assert_int_equal(t.updated_unix, 3900000000LL - 2208988800LL);
	assert_int_equal(t.expires_unix, 4000000000LL - 2208988800LL);
	/* The first entry sets the 1972 offset; it is not a leap second. */
	assert_int_equal(dpn_leap_next(&t, 0, &when), 1);
	assert_int_equal(when, 78796800);		/* 1972-07-01 */
	assert_int_equal(dpn_leap_next(&t, 1800000000, &when), 1);
	assert_int_equal(when, 1893456000);		/* 2030-01-01 */
	assert_int_equal(dpn_leap_next(&t, 1893456000, &when), -1);
	assert_int_equal(when, 1924992000);		/* 2031-01-01 */
	assert_int_equal(dpn_leap_next(&t, 1924992000, &when), 0);
	assert_int_equal(dpn_leap_tai_offset(&t, 0), 10);
	assert_int_equal(dpn_leap_tai_offset(&t, 1893455999), 11);
	assert_int_equal(dpn_leap_tai_offset(&t, 1893456000), 12);
	assert_int_equal(dpn_leap_tai_offset(&t, 1924992000), 11);
}

/* An error leaves the table as it was, and says what is wrong where. */
static void
expect_error(const char *file, const char *want)
{
	struct dpn_leap_table t;
	char err[256] = "";

	memset(&t, 0x5a, sizeof(t));
	assert_int_equal(dpn_leap_load(file, &t, err, sizeof(err)), -1);
	assert_int_equal(t.nb, 0x5a5a5a5a);
	if (strstr(err, want) == NULL)
		fail_msg("'%s' does not contain '%s'", err, want);
	unlink(file);
}

static void
test_damaged(void **state)
{
	char want[128];

	/* Moving the 2030 leap to July keeps the file well formed. */
	write_synthetic("4102444800", "4118083200");
	snprintf(want, sizeof(want), "%s: the SHA-1 in '#h' does not match",
		 path);
	expect_error(path, want);
	write_synthetic("e4057899", "e4057898");
	expect_error(path, "does not match");
}

static void
test_malformed(void **state)
{
	char want[128];

	write_synthetic("2287785600\t11", "2287785600\televen");
	snprintf(want, sizeof(want), "%s:6: expected 'NTP-time TAI-offset'",
		 path);
	expect_error(path, want);
	write_synthetic("2287785600\t11", "2287785600\t12");
	expect_error(path, ":6: not one leap second after the entry before");
	write_synthetic("2287785600\t11", "2272060800\t11");
	expect_error(path, ":6: not one leap second after the entry before");
	write_synthetic("#h\t97833739 d6c14f45 e4057899 2e9c6707 2433c100\n",
			"");
	expect_error(path, "not a leap-seconds.list");
	write_synthetic("#h\t97833739 d6c14f45", "#h\t97833739");
	expect_error(path, ":9: '#h' needs five hex words");
	write_synthetic("# a test list\n", "#$\t3900000000\n");
	expect_error(path, ":2: '#$' appears twice");
	write_synthetic("#$\t3900000000", "#$\t39e9");
	expect_error(path, ":2: '#$' needs one NTP time");
	expect_error("/nonexistent/leap-seconds.list",
		     "/nonexistent/leap-seconds.list: No such file");
}

#define S 1000000000LL
#define LEAP_AT (1483228800LL * S)	/* 2017-01-01, after 23:59:60 */

static void
test_indicator_last_day(void **state)
{
	(void)state;
	assert_int_equal(dpn_leap_indicator(1, LEAP_AT, false,
					    LEAP_AT - 86401 * S), 0);
	assert_int_equal(dpn_leap_indicator(1, LEAP_AT, false,
					    LEAP_AT - 86400 * S), 1);
	assert_int_equal(dpn_leap_indicator(1, LEAP_AT, false, LEAP_AT - 1),
			 1);
	assert_int_equal(dpn_leap_indicator(-1, LEAP_AT, false,
					    LEAP_AT - 3600 * S), 2);
	/* Once through it, or with no leap, nothing to announce. */
	assert_int_equal(dpn_leap_indicator(1, LEAP_AT, true,
					    LEAP_AT - S), 0);
	assert_int_equal(dpn_leap_indicator(1, LEAP_AT, false, LEAP_AT), 0);
	assert_int_equal(dpn_leap_indicator(0, LEAP_AT, false, LEAP_AT - S),
			 0);
}

/* served = true + smear; the served clock must never jump. */
static int64_t
served(int dir, bool done, int64_t true_ns, double *rate)
{
	return true_ns + dpn_leap_smear(dir, LEAP_AT, done, 86400 * S,
					true_ns, rate);
}

static void
test_smear_insert(void **state)
{
	const int64_t half = 43200 * S;
	double rate;

	(void)state;
	/* Before the window (noon to noon): untouched. */
	assert_int_equal(served(1, false, LEAP_AT - half - S, &rate),
			 LEAP_AT - half - S);
	assert_true(rate == 1.0);
	/* A quarter in: a quarter second behind, running 1/86400 slow. */
	assert_int_equal(served(1, false, LEAP_AT - half / 2, &rate),
			 LEAP_AT - half / 2 - S / 4);
	assert_true(fabs(rate - (1.0 - 1.0 / 86400)) < 1e-12);
	/* Across the leap: true time repeats a second, served does not. */
	assert_int_equal(served(1, false, LEAP_AT - 1, &rate),
			 LEAP_AT - 1 - S / 2);
	assert_true(llabs(served(1, true, LEAP_AT - S, &rate) -
			  (LEAP_AT - S / 2)) <= 1);
	/* Three quarters: 0.75 s behind the second-counting time, which is
	 * true time plus one. */
	assert_int_equal(served(1, true, LEAP_AT - S + half / 2, &rate),
			 LEAP_AT - S + half / 2 + S / 4);
	/* After the window: the true (POSIX) time again. */
	assert_int_equal(served(1, true, LEAP_AT + half, &rate),
			 LEAP_AT + half);
	assert_true(rate == 1.0);
}

static void
test_smear_delete_and_off(void **state)
{
	double rate;

	(void)state;
	/* A deleted second: the served clock runs fast, ahead by up to 1 s. */
	assert_int_equal(served(-1, false, LEAP_AT - 21600 * S, &rate),
			 LEAP_AT - 21600 * S + S / 4);
	assert_true(rate > 1.0);
	/* No window or no leap: nothing. */
	assert_int_equal(dpn_leap_smear(1, LEAP_AT, false, 0, LEAP_AT - S,
					&rate), 0);
	assert_int_equal(dpn_leap_smear(0, LEAP_AT, false, 86400 * S,
					LEAP_AT - S, &rate), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_indicator_last_day),
		cmocka_unit_test(test_smear_insert),
		cmocka_unit_test(test_smear_delete_and_off),
		cmocka_unit_test(test_debian_list),
		cmocka_unit_test(test_insert_and_delete),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
