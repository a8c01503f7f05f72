/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the metrics exposition: what a Prometheus server or an
 * OpenMetrics parser reads from /metrics, written from a made-up
 * snapshot (no DPDK, no daemon).
 */

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dpn_metrics.h"

static struct dpn_metrics_worker workers[2] = {
	{ .lcore_id = 1, .busy_cycles = 25, .total_cycles = 100 },
	{ .lcore_id = 3, .busy_cycles = 0, .total_cycles = 0 },
};
static struct dpn_metrics_xstat xstats[2] = {
	{ "rx_good_packets", 77 }, { "rx_q0_errors", 5 },
};
static struct dpn_metrics_port ports[2];
static struct dpn_metrics_source sources[2];
static struct dpn_metrics_rule rules[2] = {
	{ "restrict -4 default kod limited", 10, 4, 3 },
	{ "restrict 198.18.0.66 \"odd\\name\"\nx", 1, 1, 0 },
};
static struct dpn_metrics_auth_key auth_keys[2] = {
	{ 1, "MD5", 10, 9, 1, 8 },
	{ 65535, "AES128CMAC", 0, 0, 0, 0 },
};
static struct dpn_metrics_refclock refclocks[3];
static struct dpn_metrics_snapshot snap;

/*
 * Two `refclock pps` lines with the same refid (index tells them apart)
 * and a `refclock ptp` line. No value is 1000..1000 + DPN_STAT_MAX (the
 * stats counters' values).
 */
static void
make_refclocks(void)
{
	struct dpn_metrics_refclock *r;
	struct dpn_metrics_ptp *p;

	memset(refclocks, 0, sizeof(refclocks));
	r = &refclocks[0];
	r->index = 0;
	strcpy(r->name, "PPS(pps0)");
	strcpy(r->type, "pps");
	strcpy(r->refid, "PPS");
	strcpy(r->target, "/dev/pps0");
	r->line = 7;
	r->open = true;
	r->up = true;
	r->selected = true;
	strcpy(r->tally, "*");
	r->reach = 0377;
	r->readings = 960;
	r->rejected = 2;
	r->unnumbered = 17;
	r->samples = 60;
	r->losses = 1;
	r->offset_s = -1.25e-07;
	r->dispersion_s = 4e-08;
	r->jitter_s = 6.5e-08;
	r->has_reading = true;
	r->last_reading_age_s = 0.25;
	r = &refclocks[1];
	r->index = 1;
	strcpy(r->name, "PPS(pps1)");
	strcpy(r->type, "pps");
	strcpy(r->refid, "PPS");
	strcpy(r->target, "/dev/\"pps1\"");
	r->line = 8;
	strcpy(r->tally, " ");
	strcpy(r->error, "open /dev/pps1: No such file or directory");
	r = &refclocks[2];
	r->index = 2;
	strcpy(r->name, "PTP(0)");
	strcpy(r->type, "ptp");
	strcpy(r->refid, "PTP");
	strcpy(r->target, "port 0 domain 24 udp4");
	r->open = true;
	r->up = true;
	strcpy(r->tally, "+");
	r->samples = 30;
	r->readings = 480;
	r->offset_s = 3e-07;
	r->has_reading = true;
	r->last_reading_age_s = 0.0625;
	r->is_ptp = true;
	p = &r->ptp;
	p->port = 0;
	p->domain = 24;
	strcpy(p->transport, "udp4");
	strcpy(p->state, "slave");
	p->have_master = true;
	strcpy(p->master, "001122.fffe.334455-1");
	strcpy(p->grandmaster, "001122.fffe.334455");
	p->clock_class = 6;
	p->steps_removed = 1;
	p->ptp_timescale = true;
	p->utc_offset = 37;
	p->utc_offset_valid = true;
	p->offset_s = 2.5e-07;
	p->mean_path_delay_s = 1.5e-06;
	p->rx_stamps = "nic";
	p->tx_stamps = "tsc";
	p->rx_announce = 120;
	p->rx_sync = 480;
	p->rx_follow_up = 479;
	p->rx_delay_resp = 240;
	p->tx_delay_req = 241;
	p->rx_bad = 3;
	p->rx_other_domain = 4;
	p->rx_not_master = 5;
	p->rx_unmatched = 6;
	p->delay_outliers = 8;
	p->master_changes = 1;
	p->announce_timeouts = 9;
	p->delay_resp_missing = 10;
	p->rx_stamp_nic = 719;
	p->rx_stamp_tsc = 0;
	p->tx_stamps_seen = 239;
	p->tx_unstamped = 2;
	p->tx_failed = 0;
	p->igmp_reports = 12;
}

static void
make_snapshot(void)
{
	unsigned int i;

	memset(&snap, 0, sizeof(snap));
	snap.version = "1.2.3";
	snap.tsc_hz = 1e9;
	for (i = 0; i < DPN_STAT_MAX; i++)
		snap.stats.c[i] = 1000 + i;	/* each value unique */
	snap.nb_workers = 2;
	snap.workers = workers;
	memset(ports, 0, sizeof(ports));
	ports[0].port_id = 0;
	strcpy(ports[0].name, "0000:3b:00.0");
	strcpy(ports[0].driver, "net_ice");
	ports[0].link_up = true;
	ports[0].rx_packets = 500;
	ports[0].rx_missed = 7;
	ports[0].nb_queues = 2;
	ports[0].q_rx_packets[1] = 300;
	ports[0].nic_clock = true;
	ports[0].nic_clock_offset_s = -2.5e-8;
	ports[0].nb_xstats = 2;
	ports[0].xstats = xstats;
	ports[1].port_id = 1;
	strcpy(ports[1].name, "net_af_packet0");
	ports[1].nb_queues = 1;
	snap.nb_ports = 2;
	snap.ports = ports;
	snap.nb_rules_total = 5;
	snap.nb_rules = 2;
	snap.rules = rules;
	snap.nb_auth_keys_total = 2;
	snap.nb_auth_keys = 2;
	snap.auth_keys = auth_keys;
	snap.nts = (struct dpn_metrics_nts){
		.enabled = true, .key_age_s = 3599.5, .rotations = 2,
		.ke_sessions = 3, .ke_handshakes = 41, .ke_handshake_failures = 4,
		.ke_served = 37, .ke_bad_requests = 5, .ke_internal_errors = 6,
		.ke_timeouts = 7, .ke_aborted = 8, .ke_cookies = 296,
	};
	snap.clock = (struct dpn_metrics_clock){
		.synced = true, .reference = "system", .refid = "GPS",
		.stratum = 1, .leap = 0, .precision = -20,
		.root_delay_s = 0, .root_dispersion_s = 6.1035e-05,
		.offset_s = 1.5e-06, .jitter_s = NAN, .frequency_ppm = -3.25,
		.samples = 42, .steps = 1,
	};
	memset(sources, 0, sizeof(sources));
	strcpy(sources[0].name, "198.18.0.11");
	strcpy(sources[0].tally, "*");
	sources[0].selected = true;
	sources[0].reach = 0377;
	sources[0].stratum = 1;
	sources[0].poll_s = 64;
	sources[0].offset_s = -2.5e-05;
	sources[0].requests = 12;
	strcpy(sources[1].name, "198.18.0.14");
	strcpy(sources[1].tally, "x");
	sources[1].reach = 7;
	sources[1].offset_s = 0.1;
	sources[1].refused = 3;
	snap.nb_sources = 2;
	snap.sources = sources;
	make_refclocks();
	snap.nb_refclocks = 3;
	snap.refclocks = refclocks;
}

static char *
expose(enum dpn_metrics_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(dpn_metrics_write(f, &snap, fmt), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Exactly @p n whole lines of @p text equal @p line. */
static void
assert_lines(const char *text, const char *line, unsigned int n)
{
	size_t len = strlen(line);
	unsigned int found = 0;
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t l = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (l == len && memcmp(p, line, len) == 0)
			found++;
		p += l + (nl != NULL);
	}
	if (found != n)
		fail_msg("line '%s' found %u times, expected %u", line, found,
			 n);
}

static void
assert_line(const char *text, const char *line)
{
	assert_lines(text, line, 1);
}

static void
test_every_counter_once(void **state)
{
	char *text, value[32];
	unsigned int i;

	make_snapshot();
	text = expose(DPN_METRICS_PROMETHEUS);
	/* Each counter's unique value ends exactly one sample line. */
	for (i = 0; i < DPN_STAT_MAX; i++) {
		const char *p = text;
		unsigned int found = 0;

		snprintf(value, sizeof(value), " %u\n", 1000 + i);
		while ((p = strstr(p, value)) != NULL) {
			found++;
			p++;
		}
		if (found != 1)
			fail_msg("counter %s (%u) in %u samples",
				 dpn_stats_name(i), 1000 + i, found);
	}
	free(text);
}

static void
test_names_and_labels(void **state)
{
	char *text, line[128];
	int id;

	make_snapshot();
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_line(text, "dpntp_build_info{version=\"1.2.3\"} 1");
	assert_line(text, "# TYPE dpntp_build_info gauge");
	id = dpn_stats_lookup("drop_udp_checksum");
	snprintf(line, sizeof(line),
		 "dpntp_drops_total{reason=\"udp_checksum\"} %d", 1000 + id);
	assert_line(text, line);
	id = dpn_stats_lookup("acl_ignore");
	snprintf(line, sizeof(line),
		 "dpntp_drops_total{reason=\"acl_ignore\"} %d", 1000 + id);
	assert_line(text, line);
	/* Both slow-path rings' losses are drops, each its own reason. */
	id = dpn_stats_lookup("slow_ring_full");
	snprintf(line, sizeof(line),
		 "dpntp_drops_total{reason=\"slow_ring_full\"} %d", 1000 + id);
	assert_line(text, line);
	id = dpn_stats_lookup("slow_answer_ring_full");
	assert_true(id >= 0);
	snprintf(line, sizeof(line),
		 "dpntp_drops_total{reason=\"slow_answer_ring_full\"} %d",
		 1000 + id);
	assert_line(text, line);
	id = dpn_stats_lookup("slow_ignored");
	snprintf(line, sizeof(line), "dpntp_slow_path_ignored_total %d",
		 1000 + id);
	assert_line(text, line);
	id = dpn_stats_lookup("ntp_server_replies");
	snprintf(line, sizeof(line),
		 "dpntp_replies_total{mode=\"server\"} %d", 1000 + id);
	assert_line(text, line);
	id = dpn_stats_lookup("ntp_requests_client_v4");
	snprintf(line, sizeof(line),
		 "dpntp_requests_total{mode=\"client\",version=\"4\"} %d",
		 1000 + id);
	assert_line(text, line);
	id = dpn_stats_lookup("ntp_requests_symmetric_v3");
	snprintf(line, sizeof(line),
		 "dpntp_requests_total{mode=\"symmetric_active\",version=\"3\"} %d",
		 1000 + id);
	assert_line(text, line);
	id = dpn_stats_lookup("kod_sent");
	snprintf(line, sizeof(line), "dpntp_kod_sent_total %d", 1000 + id);
	assert_line(text, line);
	id = dpn_stats_lookup("rate_limited");
	snprintf(line, sizeof(line), "dpntp_rate_limited_requests_total %d",
		 1000 + id);
	assert_line(text, line);
	/* One family header per family, samples together. */
	assert_line(text, "# TYPE dpntp_drops_total counter");
	assert_line(text, "# TYPE dpntp_replies_total counter");

	assert_line(text, "dpntp_worker_busy_ratio{lcore=\"1\"} 0.25");
	assert_line(text, "dpntp_worker_busy_ratio{lcore=\"3\"} 0");
	assert_line(text,
		    "dpntp_worker_busy_seconds_total{lcore=\"1\"} 2.5e-08");

	assert_line(text, "dpntp_port_info{port=\"0\",name=\"0000:3b:00.0\","
		    "driver=\"net_ice\"} 1");
	assert_line(text, "dpntp_port_link_up{port=\"1\"} 0");
	assert_line(text, "dpntp_port_rx_packets_total{port=\"0\"} 500");
	assert_line(text,
		    "dpntp_port_rx_missed_packets_total{port=\"0\"} 7");
	assert_line(text, "dpntp_port_queue_rx_packets_total{port=\"0\","
		    "queue=\"1\"} 300");
	assert_line(text, "dpntp_port_queue_rx_packets_total{port=\"1\","
		    "queue=\"0\"} 0");
	assert_lines(text, "dpntp_port_queue_rx_packets_total{port=\"1\","
		     "queue=\"1\"} 0", 0);
	/* Only the port that stamps packets has a NIC clock fit. */
	assert_line(text,
		    "dpntp_port_nic_clock_offset_seconds{port=\"0\"} -2.5e-08");
	assert_true(strstr(text,
			   "dpntp_port_nic_clock_offset_seconds{port=\"1\"}")
		    == NULL);
	assert_line(text, "# TYPE dpntp_port_xstat untyped");
	assert_line(text,
		    "dpntp_port_xstat{port=\"0\",name=\"rx_q0_errors\"} 5");

	assert_line(text, "dpntp_restrict_rules 5");
	assert_line(text, "dpntp_restrict_hits_total{rule=\"restrict -4 "
		    "default kod limited\"} 10");
	assert_line(text, "dpntp_restrict_kods_total{rule=\"restrict -4 "
		    "default kod limited\"} 3");

	assert_line(text, "dpntp_clock_reference_info{reference=\"system\","
		    "refid=\"GPS\"} 1");
	assert_line(text, "dpntp_clock_synchronized 1");
	assert_line(text, "dpntp_clock_stratum 1");
	assert_line(text, "dpntp_clock_leap 0");
	assert_line(text, "dpntp_clock_offset_seconds 1.5e-06");
	assert_line(text, "dpntp_clock_jitter_seconds NaN");
	assert_line(text, "dpntp_clock_frequency_ppm -3.25");
	assert_line(text, "dpntp_clock_root_dispersion_seconds 6.1035e-05");
	assert_line(text, "dpntp_clock_precision_seconds 9.53674316e-07");
	assert_line(text, "dpntp_clock_steps_total 1");
	assert_true(strstr(text, "# EOF") == NULL);
	free(text);
}

static void
test_label_escaping(void **state)
{
	char *text;

	make_snapshot();
	text = expose(DPN_METRICS_PROMETHEUS);
	/* '"', '\' and a newline in a rule cannot break the line. */
	assert_line(text, "dpntp_restrict_drops_total{rule=\"restrict "
		    "198.18.0.66 \\\"odd\\\\name\\\"\\nx\"} 1");
	free(text);

	/*
	 * Label values are UTF-8 (Prometheus drops a scrape over one that
	 * is not): a Latin-1 byte, a surrogate and a truncated sequence
	 * become U+FFFD, good characters stay (found by
	 * tests/fuzz/fuzz_http).
	 */
	snprintf(rules[1].text, sizeof(rules[1].text),
		 "r \xe9t\xc3\xa9 \xf0\x9f\x95\x90 \xed\xa0\x80 \xc3");
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_line(text, "dpntp_restrict_drops_total{rule=\"r \xef\xbf\xbdt"
		    "\xc3\xa9 \xf0\x9f\x95\x90 \xef\xbf\xbd\xef\xbf\xbd"
		    "\xef\xbf\xbd \xef\xbf\xbd\"} 1");
	free(text);
	snprintf(rules[1].text, sizeof(rules[1].text), "%s",
		 "restrict 198.18.0.66 \"odd\\name\"\nx");
}

static void
test_openmetrics(void **state)
{
	char *text;
	size_t len;

	make_snapshot();
	text = expose(DPN_METRICS_OPENMETRICS);
	len = strlen(text);
	assert_true(len > 6);
	assert_string_equal(text + len - 6, "# EOF\n");
	assert_lines(text, "# EOF", 1);
	/* Families are named without _total / _info; samples keep them. */
	assert_line(text, "# TYPE dpntp_drops counter");
	assert_lines(text, "# TYPE dpntp_drops_total counter", 0);
	assert_line(text, "# TYPE dpntp_build info");
	assert_line(text, "dpntp_build_info{version=\"1.2.3\"} 1");
	assert_line(text, "# TYPE dpntp_port_xstat unknown");
	assert_line(text, "dpntp_port_rx_packets_total{port=\"0\"} 500");
	free(text);
}

static void
test_negotiate(void **state)
{
	assert_int_equal(dpn_metrics_negotiate(NULL), DPN_METRICS_PROMETHEUS);
	assert_int_equal(dpn_metrics_negotiate("*/*"), DPN_METRICS_PROMETHEUS);
	assert_int_equal(dpn_metrics_negotiate("text/plain;version=0.0.4"),
			 DPN_METRICS_PROMETHEUS);
	/* What Prometheus 2.42 sends. */
	assert_int_equal(dpn_metrics_negotiate(
		"application/openmetrics-text;version=1.0.0,"
		"application/openmetrics-text;version=0.0.1;q=0.75,"
		"text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
		DPN_METRICS_OPENMETRICS);
	assert_string_equal(dpn_metrics_content_type(DPN_METRICS_PROMETHEUS),
			    "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(dpn_metrics_content_type(DPN_METRICS_OPENMETRICS),
			    "application/openmetrics-text; version=1.0.0; "
			    "charset=utf-8");
}

/* Upstream sources: one series per source, labelled by its name. */
static void
test_sources(void **state)
{
	char *text;

	make_snapshot();
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_line(text, "dpntp_source_state_info{source=\"198.18.0.11\","
		    "tally=\"*\"} 1");
	assert_line(text, "dpntp_source_state_info{source=\"198.18.0.14\","
		    "tally=\"x\"} 1");
	assert_line(text, "dpntp_source_selected{source=\"198.18.0.11\"} 1");
	assert_line(text, "dpntp_source_selected{source=\"198.18.0.14\"} 0");
	assert_line(text, "dpntp_source_reach{source=\"198.18.0.11\"} 255");
	assert_line(text, "dpntp_source_poll_seconds{source=\"198.18.0.11\"} 64");
	assert_line(text, "dpntp_source_offset_seconds{source=\"198.18.0.14\"} 0.1");
	assert_line(text, "dpntp_source_requests_total{source=\"198.18.0.11\"} 12");
	assert_line(text, "dpntp_source_refused_replies_total{source=\"198.18.0.14\"} 3");
	free(text);
}

/* Starts of lines that are samples of @p family (any labels). */
static unsigned int
count_samples(const char *text, const char *name)
{
	size_t len = strlen(name);
	unsigned int n = 0;
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');

		if (strncmp(p, name, len) == 0 &&
		    (p[len] == '{' || p[len] == ' '))
			n++;
		p = nl != NULL ? nl + 1 : p + strlen(p);
	}
	return n;
}

/*
 * Every sample belongs to the family of the TYPE line before it (with
 * the _total or _info its type adds in OpenMetrics), each family is
 * declared once, HELP right before TYPE.
 */
static void
assert_well_formed(const char *text, bool om)
{
	char family[128] = "", type[16] = "", help[128] = "";
	char seen[512][128];
	unsigned int nb_seen = 0, i;
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t l = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char line[1024];

		assert_true(l < sizeof(line));
		memcpy(line, p, l);
		line[l] = '\0';
		p += l + (nl != NULL);
		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s", help), 1);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s %15s", family,
						type), 2);
			if (strcmp(help, family) != 0)
				fail_msg("TYPE %s without its HELP", family);
			for (i = 0; i < nb_seen; i++)
				if (strcmp(seen[i], family) == 0)
					fail_msg("family %s twice", family);
			assert_true(nb_seen < 512);
			strcpy(seen[nb_seen++], family);
			continue;
		}
		if (strcmp(line, "# EOF") == 0)
			continue;
		{
			char name[160];
			size_t n = strcspn(line, "{ ");

			assert_true(n < sizeof(name) && n < l);
			memcpy(name, line, n);
			name[n] = '\0';
			snprintf(line, sizeof(line), "%s%s", family,
				 !om ? "" : strcmp(type, "counter") == 0 ?
				 "_total" : strcmp(type, "info") == 0 ?
				 "_info" : "");
			if (strcmp(name, line) != 0)
				fail_msg("sample %s in family %s", name, family);
		}
	}
}

static void
test_well_formed(void **state)
{
	char *text;

	make_snapshot();
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_well_formed(text, false);
	free(text);
	text = expose(DPN_METRICS_OPENMETRICS);
	assert_well_formed(text, true);
	free(text);
}

/* Refclock lines: labelled index, refid, type (refids may repeat). */
static void
test_refclocks(void **state)
{
	char *text;

	make_snapshot();
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_line(text, "# TYPE dpntp_refclock_info gauge");
	assert_line(text, "dpntp_refclock_info{index=\"0\",refid=\"PPS\","
		    "type=\"pps\",source=\"PPS(pps0)\",target=\"/dev/pps0\"} 1");
	assert_line(text, "dpntp_refclock_info{index=\"1\",refid=\"PPS\","
		    "type=\"pps\",source=\"PPS(pps1)\","
		    "target=\"/dev/\\\"pps1\\\"\"} 1");
	assert_line(text, "dpntp_refclock_info{index=\"2\",refid=\"PTP\","
		    "type=\"ptp\",source=\"PTP(0)\","
		    "target=\"port 0 domain 24 udp4\"} 1");
	assert_line(text, "dpntp_refclock_open{index=\"1\",refid=\"PPS\","
		    "type=\"pps\"} 0");
	assert_line(text, "dpntp_refclock_up{index=\"0\",refid=\"PPS\","
		    "type=\"pps\"} 1");
	assert_line(text, "dpntp_refclock_up{index=\"1\",refid=\"PPS\","
		    "type=\"pps\"} 0");
	assert_line(text, "dpntp_refclock_selected{index=\"0\",refid=\"PPS\","
		    "type=\"pps\"} 1");
	assert_line(text, "dpntp_refclock_selected{index=\"2\",refid=\"PTP\","
		    "type=\"ptp\"} 0");
	assert_line(text, "# TYPE dpntp_refclock_readings_total counter");
	assert_line(text, "dpntp_refclock_readings_total{index=\"0\","
		    "refid=\"PPS\",type=\"pps\"} 960");
	assert_line(text, "# TYPE dpntp_refclock_rejected_total counter");
	assert_line(text, "dpntp_refclock_rejected_total{index=\"0\","
		    "refid=\"PPS\",type=\"pps\",reason=\"refused\"} 2");
	assert_line(text, "dpntp_refclock_rejected_total{index=\"0\","
		    "refid=\"PPS\",type=\"pps\",reason=\"unnumbered\"} 17");
	assert_line(text, "# TYPE dpntp_refclock_samples_total counter");
	assert_line(text, "dpntp_refclock_samples_total{index=\"2\","
		    "refid=\"PTP\",type=\"ptp\"} 30");
	assert_line(text, "# TYPE dpntp_refclock_losses_total counter");
	assert_line(text, "dpntp_refclock_losses_total{index=\"0\","
		    "refid=\"PPS\",type=\"pps\"} 1");
	assert_line(text, "# TYPE dpntp_refclock_offset_seconds gauge");
	assert_line(text, "dpntp_refclock_offset_seconds{index=\"0\","
		    "refid=\"PPS\",type=\"pps\"} -1.25e-07");
	assert_line(text, "dpntp_refclock_dispersion_seconds{index=\"0\","
		    "refid=\"PPS\",type=\"pps\"} 4e-08");
	assert_line(text, "dpntp_refclock_jitter_seconds{index=\"0\","
		    "refid=\"PPS\",type=\"pps\"} 6.5e-08");
	assert_line(text, "dpntp_refclock_last_reading_age_seconds{"
		    "index=\"2\",refid=\"PTP\",type=\"ptp\"} 0.0625");
	/* No reading yet: no age. */
	assert_int_equal(count_samples(text,
		"dpntp_refclock_last_reading_age_seconds"), 2);
	/* Three lines, one sample each (two for the reasons). */
	assert_int_equal(count_samples(text, "dpntp_refclock_samples_total"),
			 3);
	assert_int_equal(count_samples(text, "dpntp_refclock_rejected_total"),
			 6);
	free(text);
}

/* The PTP slave of the `refclock ptp` line. */
static void
test_ptp(void **state)
{
	char *text;

#define PTPL "index=\"2\",port=\"0\",domain=\"24\""
	make_snapshot();
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_line(text, "dpntp_ptp_info{" PTPL ",transport=\"udp4\","
		    "rx_stamps=\"nic\",tx_stamps=\"tsc\"} 1");
	assert_line(text, "# TYPE dpntp_ptp_state gauge");
	assert_line(text, "dpntp_ptp_state{" PTPL ",state=\"listening\"} 0");
	assert_line(text, "dpntp_ptp_state{" PTPL ",state=\"uncalibrated\"} 0");
	assert_line(text, "dpntp_ptp_state{" PTPL ",state=\"slave\"} 1");
	assert_line(text, "dpntp_ptp_offset_seconds{" PTPL "} 2.5e-07");
	assert_line(text, "dpntp_ptp_mean_path_delay_seconds{" PTPL
		    "} 1.5e-06");
	assert_line(text, "dpntp_ptp_master_info{" PTPL ",identity="
		    "\"001122.fffe.334455-1\",grandmaster="
		    "\"001122.fffe.334455\",timescale=\"ptp\"} 1");
	assert_line(text, "dpntp_ptp_master_clock_class{" PTPL "} 6");
	assert_line(text, "dpntp_ptp_master_steps_removed{" PTPL "} 1");
	assert_line(text, "dpntp_ptp_master_utc_offset_seconds{" PTPL
		    "} 37");
	assert_line(text, "# TYPE dpntp_ptp_messages_total counter");
	assert_line(text, "dpntp_ptp_messages_total{" PTPL ",direction=\"rx\","
		    "type=\"announce\"} 120");
	assert_line(text, "dpntp_ptp_messages_total{" PTPL ",direction=\"rx\","
		    "type=\"sync\"} 480");
	assert_line(text, "dpntp_ptp_messages_total{" PTPL ",direction=\"rx\","
		    "type=\"follow_up\"} 479");
	assert_line(text, "dpntp_ptp_messages_total{" PTPL ",direction=\"rx\","
		    "type=\"delay_resp\"} 240");
	assert_line(text, "dpntp_ptp_messages_total{" PTPL ",direction=\"tx\","
		    "type=\"delay_req\"} 241");
	assert_line(text, "dpntp_ptp_ignored_messages_total{" PTPL
		    ",reason=\"bad\"} 3");
	assert_line(text, "dpntp_ptp_ignored_messages_total{" PTPL
		    ",reason=\"other_domain\"} 4");
	assert_line(text, "dpntp_ptp_ignored_messages_total{" PTPL
		    ",reason=\"not_master\"} 5");
	assert_line(text, "dpntp_ptp_ignored_messages_total{" PTPL
		    ",reason=\"unmatched\"} 6");
	assert_line(text, "dpntp_ptp_delay_outliers_total{" PTPL "} 8");
	assert_line(text, "dpntp_ptp_master_changes_total{" PTPL "} 1");
	assert_line(text, "dpntp_ptp_announce_timeouts_total{" PTPL "} 9");
	assert_line(text, "dpntp_ptp_delay_resp_missing_total{" PTPL "} 10");
	assert_line(text, "dpntp_ptp_rx_stamps_total{" PTPL
		    ",source=\"nic\"} 719");
	assert_line(text, "dpntp_ptp_rx_stamps_total{" PTPL
		    ",source=\"tsc\"} 0");
	assert_line(text, "dpntp_ptp_tx_stamps_total{" PTPL "} 239");
	assert_line(text, "dpntp_ptp_tx_unstamped_total{" PTPL "} 2");
	assert_line(text, "dpntp_ptp_tx_failed_total{" PTPL "} 0");
	assert_line(text, "dpntp_ptp_igmp_reports_total{" PTPL "} 12");
	/* Only the ptp line has PTP series. */
	assert_int_equal(count_samples(text, "dpntp_ptp_offset_seconds"), 1);
	free(text);

	/* No master: no master series; an unknown state still shows. */
	refclocks[2].ptp.have_master = false;
	strcpy(refclocks[2].ptp.state, "faulty");
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_int_equal(count_samples(text, "dpntp_ptp_master_info"), 0);
	assert_int_equal(count_samples(text, "dpntp_ptp_master_clock_class"),
			 0);
	assert_line(text, "dpntp_ptp_state{" PTPL ",state=\"slave\"} 0");
	assert_line(text, "dpntp_ptp_state{" PTPL ",state=\"faulty\"} 1");
	assert_well_formed(text, false);
	free(text);

	/* OpenMetrics: info and counter families without their suffix. */
	make_snapshot();
	text = expose(DPN_METRICS_OPENMETRICS);
	assert_line(text, "# TYPE dpntp_ptp info");
	assert_line(text, "# TYPE dpntp_ptp_master info");
	assert_line(text, "# TYPE dpntp_ptp_messages counter");
	assert_line(text, "# TYPE dpntp_refclock info");
	assert_line(text, "# TYPE dpntp_refclock_samples counter");
	assert_line(text, "dpntp_ptp_messages_total{" PTPL ",direction=\"tx\","
		    "type=\"delay_req\"} 241");
	free(text);
#undef PTPL
}

/* The server's trusted keys, labelled by key ID and type; the global
 * authentication counters under their stats names. */
static void
test_auth(void **state)
{
	char *text, line[128];
	int id;

	make_snapshot();
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_line(text, "# TYPE dpntp_auth_trusted_keys gauge");
	assert_line(text, "dpntp_auth_trusted_keys 2");
	assert_line(text, "# TYPE dpntp_auth_key_requests_total counter");
	assert_line(text, "dpntp_auth_key_requests_total{key=\"1\","
		    "type=\"MD5\"} 10");
	assert_line(text, "dpntp_auth_key_good_total{key=\"1\","
		    "type=\"MD5\"} 9");
	assert_line(text, "dpntp_auth_key_bad_total{key=\"1\","
		    "type=\"MD5\"} 1");
	assert_line(text, "dpntp_auth_key_replies_total{key=\"1\","
		    "type=\"MD5\"} 8");
	assert_line(text, "dpntp_auth_key_requests_total{key=\"65535\","
		    "type=\"AES128CMAC\"} 0");
	assert_int_equal(count_samples(text, "dpntp_auth_key_bad_total"), 2);
	id = dpn_stats_lookup("ntp_auth_signed");
	assert_true(id >= 0);
	snprintf(line, sizeof(line), "dpntp_ntp_auth_signed_total %d",
		 1000 + id);
	assert_line(text, line);
	id = dpn_stats_lookup("ntp_auth_unknown_key");
	snprintf(line, sizeof(line), "dpntp_ntp_auth_unknown_key_total %d",
		 1000 + id);
	assert_line(text, line);
	id = dpn_stats_lookup("ntp_auth_bad_mac");
	snprintf(line, sizeof(line), "dpntp_ntp_auth_bad_mac_total %d",
		 1000 + id);
	assert_line(text, line);
	id = dpn_stats_lookup("ntp_auth_nak");
	snprintf(line, sizeof(line), "dpntp_ntp_auth_nak_total %d", 1000 + id);
	assert_line(text, line);
	id = dpn_stats_lookup("ntp_auth_dropped");
	snprintf(line, sizeof(line), "dpntp_ntp_auth_dropped_total %d",
		 1000 + id);
	assert_line(text, line);
	free(text);

	/* The type goes in a label, never anything of the key itself. */
	text = expose(DPN_METRICS_OPENMETRICS);
	assert_line(text, "# TYPE dpntp_auth_key_replies counter");
	assert_line(text, "dpntp_auth_key_replies_total{key=\"1\","
		    "type=\"MD5\"} 8");
	assert_well_formed(text, true);
	free(text);

	/* More keys trusted than exposed: the gauge says how many. */
	snap.nb_auth_keys_total = 70;
	snap.nb_auth_keys = 0;
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_line(text, "dpntp_auth_trusted_keys 70");
	assert_line(text, "# TYPE dpntp_auth_key_good_total counter");
	assert_int_equal(count_samples(text, "dpntp_auth_key_good_total"), 0);
	free(text);
}

/* The NTS server's gauges and counters, present (0) while NTS is off; the
 * per-packet NTS counters under their stats names. */
static void
test_nts(void **state)
{
	static const char *const names[] = {
		"dpntp_ntp_nts_replies", "ntp_nts_replies",
		"dpntp_ntp_nts_nak", "ntp_nts_nak",
		"dpntp_ntp_nts_malformed", "ntp_nts_malformed",
		"dpntp_ntp_nts_off", "ntp_nts_off",
		"dpntp_ntp_nts_no_room", "ntp_nts_no_room",
	};
	static const char *const families[] = {
		"dpntp_nts_enabled", "dpntp_nts_key_age_seconds",
		"dpntp_nts_key_rotations_total", "dpntp_nts_ke_sessions",
		"dpntp_nts_ke_handshakes_total",
		"dpntp_nts_ke_handshake_failures_total",
		"dpntp_nts_ke_served_total", "dpntp_nts_ke_bad_requests_total",
		"dpntp_nts_ke_internal_errors_total",
		"dpntp_nts_ke_timeouts_total", "dpntp_nts_ke_aborted_total",
		"dpntp_nts_ke_cookies_total",
	};
	char *text, line[128];
	unsigned int i;
	int id;

	make_snapshot();
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_line(text, "# TYPE dpntp_nts_enabled gauge");
	assert_line(text, "dpntp_nts_enabled 1");
	assert_line(text, "# TYPE dpntp_nts_key_age_seconds gauge");
	assert_line(text, "dpntp_nts_key_age_seconds 3599.5");
	assert_line(text, "# TYPE dpntp_nts_key_rotations_total counter");
	assert_line(text, "dpntp_nts_key_rotations_total 2");
	assert_line(text, "# TYPE dpntp_nts_ke_sessions gauge");
	assert_line(text, "dpntp_nts_ke_sessions 3");
	assert_line(text, "# TYPE dpntp_nts_ke_handshakes_total counter");
	assert_line(text, "dpntp_nts_ke_handshakes_total 41");
	assert_line(text, "dpntp_nts_ke_handshake_failures_total 4");
	assert_line(text, "dpntp_nts_ke_served_total 37");
	assert_line(text, "dpntp_nts_ke_bad_requests_total 5");
	assert_line(text, "dpntp_nts_ke_internal_errors_total 6");
	assert_line(text, "dpntp_nts_ke_timeouts_total 7");
	assert_line(text, "dpntp_nts_ke_aborted_total 8");
	assert_line(text, "# TYPE dpntp_nts_ke_cookies_total counter");
	assert_line(text, "dpntp_nts_ke_cookies_total 296");
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		snprintf(line, sizeof(line), "# HELP %s ", families[i]);
		assert_non_null(strstr(text, line));
		assert_int_equal(count_samples(text, families[i]), 1);
	}
	/* The per-packet counters are stats counters: exported as such. */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i += 2) {
		id = dpn_stats_lookup(names[i + 1]);
		assert_true(id >= 0);
		snprintf(line, sizeof(line), "# TYPE %s_total counter",
			 names[i]);
		assert_line(text, line);
		snprintf(line, sizeof(line), "%s_total %d", names[i],
			 1000 + id);
		assert_line(text, line);
	}
	free(text);

	text = expose(DPN_METRICS_OPENMETRICS);
	assert_line(text, "# TYPE dpntp_nts_ke_cookies counter");
	assert_line(text, "dpntp_nts_ke_cookies_total 296");
	assert_line(text, "# TYPE dpntp_nts_key_rotations counter");
	assert_line(text, "# TYPE dpntp_nts_enabled gauge");
	assert_well_formed(text, true);
	free(text);

	/* NTS off: every family there, at 0. */
	memset(&snap.nts, 0, sizeof(snap.nts));
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_line(text, "dpntp_nts_enabled 0");
	assert_line(text, "dpntp_nts_key_age_seconds 0");
	assert_line(text, "dpntp_nts_key_rotations_total 0");
	assert_line(text, "dpntp_nts_ke_sessions 0");
	assert_line(text, "dpntp_nts_ke_handshakes_total 0");
	assert_line(text, "dpntp_nts_ke_cookies_total 0");
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		assert_int_equal(count_samples(text, families[i]), 1);
	assert_well_formed(text, false);
	free(text);
}

/* Without a ptp line no dpntp_ptp_ family; without refclocks none. */
static void
test_no_ptp(void **state)
{
	char *text;

	make_snapshot();
	snap.nb_refclocks = 2;
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_null(strstr(text, "dpntp_ptp"));
	assert_int_equal(count_samples(text, "dpntp_refclock_info"), 2);
	free(text);
	snap.nb_refclocks = 0;
	snap.refclocks = NULL;
	text = expose(DPN_METRICS_OPENMETRICS);
	assert_null(strstr(text, "dpntp_ptp"));
	assert_null(strstr(text, "dpntp_refclock"));
	free(text);
}

/* The health contract a dashboard is built on: dpntp_healthy and one
 * dpntp_health_failing sample per check, always, 0 or 1. */
static void
test_health(void **state)
{
	static const char *const checks[] = { "unsynchronized", "offset",
		"root_distance", "reference_lost", "worker_stalled",
		"link_down", "drain" };
	char line[128], *text;
	unsigned int i;

	make_snapshot();
	memset(&snap.health, 0, sizeof(snap.health));	/* not evaluated */
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_line(text, "# TYPE dpntp_healthy gauge");
	assert_line(text, "dpntp_healthy 0");
	assert_line(text, "# TYPE dpntp_health_failing gauge");
	assert_int_equal(count_samples(text, "dpntp_health_failing"), 7);
	free(text);

	snap.health.valid = true;
	text = expose(DPN_METRICS_OPENMETRICS);
	assert_line(text, "dpntp_healthy 1");
	for (i = 0; i < 7; i++) {
		snprintf(line, sizeof(line),
			 "dpntp_health_failing{check=\"%s\"} 0", checks[i]);
		assert_line(text, line);
	}
	free(text);

	snap.health.failing = (1u << DPN_HEALTH_LINK_DOWN) |
		(1u << DPN_HEALTH_DRAIN);
	text = expose(DPN_METRICS_PROMETHEUS);
	assert_line(text, "dpntp_healthy 0");
	for (i = 0; i < 7; i++) {
		snprintf(line, sizeof(line), "dpntp_health_failing{check=\"%s\"} %d",
			 checks[i], i >= 5);
		assert_line(text, line);
	}
	free(text);
}

static void
test_empty_daemon(void **state)
{
	char *text;

	/* No workers, ports or rules yet: still a valid exposition. */
	memset(&snap, 0, sizeof(snap));
	snprintf(snap.clock.reference, sizeof(snap.clock.reference), "none");
	text = expose(DPN_METRICS_OPENMETRICS);
	assert_line(text, "dpntp_build_info{version=\"\"} 1");
	assert_line(text, "dpntp_restrict_rules 0");
	assert_line(text, "dpntp_auth_trusted_keys 0");
	assert_line(text, "dpntp_nts_enabled 0");
	assert_line(text, "dpntp_nts_ke_cookies_total 0");
	assert_line(text, "dpntp_clock_synchronized 0");
	assert_line(text, "# TYPE dpntp_port_xstat unknown");
	free(text);
}

static void
test_write_error(void **state)
{
	FILE *f = fopen("/dev/full", "w");

	if (f == NULL)
		skip();
	make_snapshot();
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(dpn_metrics_write(f, &snap,
					   DPN_METRICS_PROMETHEUS), -1);
	fclose(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_counter_once),
		cmocka_unit_test(test_names_and_labels),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_openmetrics),
		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_empty_daemon),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_well_formed),
		cmocka_unit_test(test_refclocks),
		cmocka_unit_test(test_ptp),
		cmocka_unit_test(test_no_ptp),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_nts),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
