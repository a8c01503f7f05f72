/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/stats: the counter names users see in the CLI and
 * in metrics, lookups by name, per-lcore sums, and the DROP_NTP_* block
 * that workers index with an NTP verdict.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <cmocka.h>

#include "dpn_stats.h"
#include "dpn_ntp.h"

/* The X-macro, expanded here independently of stats.c. */
static const struct {
	enum dpn_stats_id id;
	const char *upper;
	const char *name;
} table[] = {
#define T(id, name, help) { DPN_STAT_##id, #id, #name },
	DPN_STATS_COUNTERS(T)
#undef T
};

#define NB_TABLE (sizeof(table) / sizeof(table[0]))

static void
test_names_match_macro(void **state)
{
	char lower[64];
	unsigned int i, j;

	assert_int_equal(NB_TABLE, DPN_STAT_MAX);
	for (i = 0; i < NB_TABLE; i++) {
		const char *n = dpn_stats_name(table[i].id);

		assert_int_equal(table[i].id, i);
		assert_non_null(n);
		assert_string_equal(n, table[i].name);
		/* The name is the id in lower case: rx_packets for
		 * RX_PACKETS, so the two can never drift apart.
		 */
		assert_true(strlen(table[i].upper) < sizeof(lower));
		for (j = 0; table[i].upper[j] != '\0'; j++)
			lower[j] = (char)tolower((unsigned char)
						 table[i].upper[j]);
		lower[j] = '\0';
		assert_string_equal(n, lower);
		/* Usable as a metric name: [a-z][a-z0-9_]*. */
		assert_true(n[0] >= 'a' && n[0] <= 'z');
		for (j = 0; n[j] != '\0'; j++)
			assert_true((n[j] >= 'a' && n[j] <= 'z') ||
				    (n[j] >= '0' && n[j] <= '9') ||
				    n[j] == '_');
	}
	/* A few that scripts and dashboards rely on, spelt out. */
	assert_string_equal(dpn_stats_name(DPN_STAT_RX_PACKETS), "rx_packets");
	assert_string_equal(dpn_stats_name(DPN_STAT_TX_PACKETS), "tx_packets");
	assert_string_equal(dpn_stats_name(DPN_STAT_NTP_SERVER_REPLIES),
			    "ntp_server_replies");
	assert_string_equal(dpn_stats_name(DPN_STAT_DROP_NTP_ZERO_XMT),
			    "drop_ntp_zero_xmt");
	assert_string_equal(dpn_stats_name(DPN_STAT_SLOW_IGNORED),
			    "slow_ignored");
}

static void
test_names_unique(void **state)
{
	unsigned int i, j;

	for (i = 0; i < DPN_STAT_MAX; i++)
		for (j = 0; j < i; j++)
			if (strcmp(dpn_stats_name(i), dpn_stats_name(j)) == 0)
				fail_msg("counters %u and %u are both '%s'",
					 j, i, dpn_stats_name(i));
}

static void
test_out_of_range(void **state)
{
	assert_null(dpn_stats_name(DPN_STAT_MAX));
	assert_null(dpn_stats_help(DPN_STAT_MAX));
	assert_null(dpn_stats_name((enum dpn_stats_id)-1));
	assert_null(dpn_stats_help((enum dpn_stats_id)1000));
}

static void
test_help(void **state)
{
	unsigned int i, j;

	for (i = 0; i < DPN_STAT_MAX; i++) {
		const char *h = dpn_stats_help(i);

		assert_non_null(h);
		assert_true(strlen(h) > 5);
		/* One line, fit for "# HELP name text". */
		assert_null(strchr(h, '\n'));
		for (j = 0; j < i; j++)
			if (strcmp(h, dpn_stats_help(j)) == 0)
				fail_msg("counters %s and %s share help '%s'",
					 dpn_stats_name(j), dpn_stats_name(i),
					 h);
	}
	assert_string_equal(dpn_stats_help(DPN_STAT_RX_PACKETS),
			    "packets received from the port");
}

static void
test_lookup(void **state)
{
	unsigned int i;

	for (i = 0; i < DPN_STAT_MAX; i++)
		assert_int_equal(dpn_stats_lookup(dpn_stats_name(i)), i);
	/* Literal strings, not pointers from the table. */
	assert_int_equal(dpn_stats_lookup("rx_packets"), DPN_STAT_RX_PACKETS);
	assert_int_equal(dpn_stats_lookup("drop_ntp_mode6"),
			 DPN_STAT_DROP_NTP_MODE6);
	assert_int_equal(dpn_stats_lookup("slow_ignored"),
			 DPN_STAT_SLOW_IGNORED);
	/* Unknown names, prefixes, suffixes and other spellings. */
	assert_int_equal(dpn_stats_lookup("no_such_counter"), -1);
	assert_int_equal(dpn_stats_lookup(""), -1);
	assert_int_equal(dpn_stats_lookup("rx_packet"), -1);
	assert_int_equal(dpn_stats_lookup("rx_packets_"), -1);
	assert_int_equal(dpn_stats_lookup("RX_PACKETS"), -1);
	assert_int_equal(dpn_stats_lookup("rx packets"), -1);
}

static void
test_sum(void **state)
{
	static struct dpn_stats blocks[4];
	struct dpn_stats out;
	unsigned int i, j;

	for (i = 0; i < 4; i++)
		for (j = 0; j < DPN_STAT_MAX; j++)
			blocks[i].c[j] = (uint64_t)(i + 1) * 1000 + j;
	/* Near 2^63 too: no narrowing to 32 bits anywhere. */
	blocks[0].c[DPN_STAT_RX_PACKETS] = 1ULL << 62;
	blocks[3].c[DPN_STAT_RX_PACKETS] = (1ULL << 62) + 5;

	memset(&out, 0xee, sizeof(out));
	dpn_stats_sum(blocks, 4, &out);
	for (j = 0; j < DPN_STAT_MAX; j++) {
		uint64_t want = j == DPN_STAT_RX_PACKETS ?
			(1ULL << 63) + 5 + 2000 + 3000 :
			(uint64_t)(1000 + 2000 + 3000 + 4000) + 4 * j;

		if (out.c[j] != want)
			fail_msg("%s: sum %llu, want %llu", dpn_stats_name(j),
				 (unsigned long long)out.c[j],
				 (unsigned long long)want);
	}

	/* A subset of the blocks, and none at all. */
	dpn_stats_sum(blocks + 1, 2, &out);
	assert_int_equal(out.c[DPN_STAT_TX_FAILED],
			 2000 + 3000 + 2 * DPN_STAT_TX_FAILED);
	assert_int_equal(out.c[DPN_STAT_MAX - 1],
			 2000 + 3000 + 2 * (DPN_STAT_MAX - 1));
	memset(&out, 0xee, sizeof(out));
	dpn_stats_sum(blocks, 0, &out);
	for (j = 0; j < DPN_STAT_MAX; j++)
		assert_int_equal(out.c[j], 0);
}

static void
test_drop_ntp_block_matches_verdicts(void **state)
{
	static const struct {
		enum dpn_ntp_verdict v;
		enum dpn_stats_id id;
		const char *name;
	} map[] = {
		{ DPN_NTP_V_SHORT, DPN_STAT_DROP_NTP_SHORT, "drop_ntp_short" },
		{ DPN_NTP_V_VERSION, DPN_STAT_DROP_NTP_VERSION,
		  "drop_ntp_version" },
		{ DPN_NTP_V_MODE0, DPN_STAT_DROP_NTP_MODE0, "drop_ntp_mode0" },
		{ DPN_NTP_V_MODE2, DPN_STAT_DROP_NTP_MODE2, "drop_ntp_mode2" },
		{ DPN_NTP_V_MODE4, DPN_STAT_DROP_NTP_MODE4, "drop_ntp_mode4" },
		{ DPN_NTP_V_MODE5, DPN_STAT_DROP_NTP_MODE5, "drop_ntp_mode5" },
		{ DPN_NTP_V_MODE6, DPN_STAT_DROP_NTP_MODE6, "drop_ntp_mode6" },
		{ DPN_NTP_V_MODE7, DPN_STAT_DROP_NTP_MODE7, "drop_ntp_mode7" },
		{ DPN_NTP_V_ZERO_XMT, DPN_STAT_DROP_NTP_ZERO_XMT,
		  "drop_ntp_zero_xmt" },
	};
	unsigned int i;

	/* Every drop verdict is listed above, once. */
	assert_int_equal(sizeof(map) / sizeof(map[0]), DPN_NTP_V_MAX - 1);
	assert_int_equal(DPN_NTP_V_OK, 0);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		/* How the workers map a verdict to its counter. */
		enum dpn_stats_id id = (enum dpn_stats_id)
			(DPN_STAT_DROP_NTP_SHORT + (map[i].v - 1));

		assert_int_equal(map[i].v, i + 1);
		if (id != map[i].id)
			fail_msg("verdict %u lands on %s, want %s",
				 (unsigned int)map[i].v, dpn_stats_name(id),
				 map[i].name);
		assert_string_equal(dpn_stats_name(id), map[i].name);
	}
	/* The block is exactly that long: its neighbours are not NTP drops. */
	assert_true(strncmp(dpn_stats_name(DPN_STAT_DROP_NTP_SHORT - 1),
			    "drop_ntp_", 9) != 0);
	assert_true(DPN_STAT_DROP_NTP_SHORT + DPN_NTP_V_MAX - 1 <
		    DPN_STAT_MAX);
	assert_true(strncmp(dpn_stats_name(DPN_STAT_DROP_NTP_SHORT +
					   DPN_NTP_V_MAX - 1),
			    "drop_ntp_", 9) != 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_match_macro),
		cmocka_unit_test(test_names_unique),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_sum),
		cmocka_unit_test(test_drop_ntp_block_matches_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
