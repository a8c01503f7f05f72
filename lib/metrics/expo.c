/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exposition: a struct dpn_metrics_snapshot as Prometheus text 0.0.4
 * or OpenMetrics 1.0.0. DPDK-free.
 *
 * Names follow the Prometheus conventions (and ntpd-rs, chrony_exporter):
 * prefix dpntp_, base units in the name (_seconds, _bytes), _total on
 * counters. The two formats differ in small ways handled here only: an
 * OpenMetrics counter family is named without _total (its samples keep
 * it), an info family without _info, "untyped" is "unknown", and the text
 * ends with "# EOF".
 */

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dpn_metrics.h"

enum expo_type {
	EXPO_COUNTER,
	EXPO_GAUGE,
	EXPO_INFO,
	EXPO_UNKNOWN,
};

struct expo {
	FILE *f;
	bool om;			/* OpenMetrics */
	const char *family;		/* current family, without suffix */
	enum expo_type type;
};

const char *
dpn_metrics_content_type(enum dpn_metrics_format fmt)
{
	return fmt == DPN_METRICS_OPENMETRICS ?
		"application/openmetrics-text; version=1.0.0; charset=utf-8" :
		"text/plain; version=0.0.4; charset=utf-8";
}

enum dpn_metrics_format
dpn_metrics_negotiate(const char *accept)
{
	/*
	 * Prometheus sends "application/openmetrics-text;version=1.0.0,
	 * ...,text/plain;version=0.0.4;q=0.5,...": it takes either and
	 * prefers OpenMetrics. Anything naming OpenMetrics gets it.
	 */
	if (accept != NULL &&
	    strstr(accept, "application/openmetrics-text") != NULL)
		return DPN_METRICS_OPENMETRICS;
	return DPN_METRICS_PROMETHEUS;
}

/* Sample name suffix the type adds to the family name. */
static const char *
sample_suffix(const struct expo *e)
{
	if (e->type == EXPO_COUNTER)
		return "_total";
	if (e->type == EXPO_INFO)
		return "_info";
	return "";
}

/* HELP text: backslash and newline escaped (and '"' in OpenMetrics). */
static void
put_help_text(const struct expo *e, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", e->f);
		else if (*s == '\n')
			fputs("\\n", e->f);
		else if (*s == '"' && e->om)
			fputs("\\\"", e->f);
		else
			fputc(*s, e->f);
	}
}

/* Start a metric family: its HELP and TYPE lines. */
static void
family(struct expo *e, const char *name, enum expo_type type,
       const char *help)
{
	static const char *const prom_types[] = {
		[EXPO_COUNTER] = "counter", [EXPO_GAUGE] = "gauge",
		[EXPO_INFO] = "gauge", [EXPO_UNKNOWN] = "untyped",
	};
	static const char *const om_types[] = {
		[EXPO_COUNTER] = "counter", [EXPO_GAUGE] = "gauge",
		[EXPO_INFO] = "info", [EXPO_UNKNOWN] = "unknown",
	};
	/* Prometheus 0.0.4 names the family as its samples. */
	const char *suffix;

	e->family = name;
	e->type = type;
	suffix = e->om ? "" : sample_suffix(e);
	fprintf(e->f, "# HELP %s%s ", name, suffix);
	put_help_text(e, help);
	fprintf(e->f, "\n# TYPE %s%s %s\n", name, suffix,
		e->om ? om_types[type] : prom_types[type]);
}

/*
 * Length of the UTF-8 sequence at @p s (1 to 4), or 0 if it is not one:
 * overlong forms, surrogates and code points past U+10FFFF are not.
 */
static unsigned int
utf8_len(const unsigned char *s)
{
	unsigned int n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	/* A NUL ends the string before a continuation byte would. */
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

/*
 * A label value, escaped as both formats require. Both also require
 * UTF-8, and Prometheus drops a whole scrape over one bad label: a byte
 * that is not part of a UTF-8 character (a refclock path in Latin-1,
 * say) is written as U+FFFD.
 */
static void
put_label_value(FILE *f, const char *s)
{
	while (*s != '\0') {
		unsigned int n = utf8_len((const unsigned char *)s);

		if (n == 0) {
			fputs("\xef\xbf\xbd", f);
			s++;
		} else if (*s == '\\') {
			fputs("\\\\", f);
		} else if (*s == '"') {
			fputs("\\\"", f);
		} else if (*s == '\n') {
			fputs("\\n", f);
		} else {
			fwrite(s, 1, n, f);
		}
		s += n;
	}
}

/* Name and labels of a sample; labels are (key, value) pairs, then NULL. */
static void
put_name(const struct expo *e, va_list ap)
{
	const char *key;
	bool first = true;

	fprintf(e->f, "%s%s", e->family, sample_suffix(e));
	while ((key = va_arg(ap, const char *)) != NULL) {
		fprintf(e->f, "%s%s=\"", first ? "{" : ",", key);
		put_label_value(e->f, va_arg(ap, const char *));
		fputc('"', e->f);
		first = false;
	}
	if (!first)
		fputc('}', e->f);
}

static void sample_u64(const struct expo *e, uint64_t v, ...)
	__attribute__((sentinel));
static void sample_f64(const struct expo *e, double v, ...)
	__attribute__((sentinel));

/* One sample with an integer value; labels as in put_name. */
static void
sample_u64(const struct expo *e, uint64_t v, ...)
{
	va_list ap;

	va_start(ap, v);
	put_name(e, ap);
	va_end(ap);
	fprintf(e->f, " %" PRIu64 "\n", v);
}

/* One sample with a floating-point value. */
static void
sample_f64(const struct expo *e, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	put_name(e, ap);
	va_end(ap);
	if (isnan(v))
		fputs(" NaN\n", e->f);
	else if (isinf(v))
		fputs(v > 0 ? " +Inf\n" : " -Inf\n", e->f);
	else
		fprintf(e->f, " %.9g\n", v);
}

/*
 * The stats counters. Each one lands in a family: drop_* and acl_*
 * counters are the reasons of dpntp_drops_total, a few are grouped by a
 * label, and any other counter (one added later included) is exported
 * under its own name with its own help text.
 */
struct stat_metric {
	const char *family;
	const char *label;		/* NULL: no label */
	const char *value;
	const char *label2;		/* a second one, or NULL */
	const char *value2;
};

static const struct {
	const char *counter;
	struct stat_metric m;
} stat_map[] = {
	{ "rx_packets", { "dpntp_rx_packets", NULL, NULL } },
	{ "tx_packets", { "dpntp_tx_packets", NULL, NULL } },
	{ "tx_failed", { "dpntp_tx_failed_packets", NULL, NULL } },
	{ "ntp_requests_client_v1",
	  { "dpntp_requests", "mode", "client", "version", "1" } },
	{ "ntp_requests_client_v2",
	  { "dpntp_requests", "mode", "client", "version", "2" } },
	{ "ntp_requests_client_v3",
	  { "dpntp_requests", "mode", "client", "version", "3" } },
	{ "ntp_requests_client_v4",
	  { "dpntp_requests", "mode", "client", "version", "4" } },
	{ "ntp_requests_symmetric_v1",
	  { "dpntp_requests", "mode", "symmetric_active", "version", "1" } },
	{ "ntp_requests_symmetric_v2",
	  { "dpntp_requests", "mode", "symmetric_active", "version", "2" } },
	{ "ntp_requests_symmetric_v3",
	  { "dpntp_requests", "mode", "symmetric_active", "version", "3" } },
	{ "ntp_requests_symmetric_v4",
	  { "dpntp_requests", "mode", "symmetric_active", "version", "4" } },
	{ "ntp_server_replies", { "dpntp_replies", "mode", "server" } },
	{ "ntp_symmetric_replies",
	  { "dpntp_replies", "mode", "symmetric_passive" } },
	{ "ntp_truncated", { "dpntp_truncated_replies", NULL, NULL } },
	{ "ntp_interleaved_replies",
	  { "dpntp_interleaved_replies", NULL, NULL } },
	{ "ntp_interleaved_misses",
	  { "dpntp_interleaved_misses", NULL, NULL } },
	{ "rx_stamp_nic", { "dpntp_rx_stamps", "source", "nic" } },
	{ "rx_stamp_tsc", { "dpntp_rx_stamps", "source", "tsc" } },
	{ "slow_ring_full", { "dpntp_drops", "reason", "slow_ring_full" } },
	{ "slow_answer_ring_full",
	  { "dpntp_drops", "reason", "slow_answer_ring_full" } },
	{ "rate_limited", { "dpntp_rate_limited_requests", NULL, NULL } },
	{ "kod_sent", { "dpntp_kod_sent", NULL, NULL } },
	{ "slow_queued", { "dpntp_slow_path_packets", NULL, NULL } },
	{ "arp_replies", { "dpntp_slow_path_replies", "kind", "arp" } },
	{ "ndp_adverts", { "dpntp_slow_path_replies", "kind", "ndp" } },
	{ "icmp_echo_replies",
	  { "dpntp_slow_path_replies", "kind", "icmp_echo" } },
	{ "slow_ignored", { "dpntp_slow_path_ignored", NULL, NULL } },
};

/* Help of the families that group several counters. */
static const struct {
	const char *family;
	const char *help;
} group_help[] = {
	{ "dpntp_drops", "Packets dropped, by reason (drop_* and acl_* "
	  "counters of `show stats`, slow_ring_full and "
	  "slow_answer_ring_full)." },
	{ "dpntp_requests", "NTP requests that passed the packet checks "
	  "(before restrict and rate limiting), by mode (client 3, "
	  "symmetric_active 1) and version." },
	{ "dpntp_replies", "NTP replies sent, by reply mode: server (4) to "
	  "client requests, symmetric_passive (2) to symmetric active." },
	{ "dpntp_slow_path_replies", "ARP replies, IPv6 neighbour "
	  "advertisements and ICMP echo replies sent." },
	{ "dpntp_rx_stamps", "Requests by where their receive time (T2) "
	  "came from: nic (the port's stamp mapped onto the served clock) "
	  "or tsc (the TSC read at rx_burst)." },
};

static void
stat_metric(enum dpn_stats_id id, struct stat_metric *m, char *buf,
	    size_t len)
{
	const char *name = dpn_stats_name(id);
	size_t i;

	for (i = 0; i < sizeof(stat_map) / sizeof(stat_map[0]); i++)
		if (strcmp(stat_map[i].counter, name) == 0) {
			*m = stat_map[i].m;
			return;
		}
	if (strncmp(name, "drop_", 5) == 0) {
		*m = (struct stat_metric){ "dpntp_drops", "reason", name + 5 };
		return;
	}
	if (strncmp(name, "acl_", 4) == 0) {
		*m = (struct stat_metric){ "dpntp_drops", "reason", name };
		return;
	}
	snprintf(buf, len, "dpntp_%s", name);
	*m = (struct stat_metric){ buf, NULL, NULL };
}

static const char *
stat_family_help(const char *family, enum dpn_stats_id id)
{
	size_t i;

	for (i = 0; i < sizeof(group_help) / sizeof(group_help[0]); i++)
		if (strcmp(group_help[i].family, family) == 0)
			return group_help[i].help;
	return dpn_stats_help(id);
}

static void
write_stats(struct expo *e, const struct dpn_stats *st)
{
	bool done[DPN_STAT_MAX] = { false };
	char buf_i[DPN_METRICS_NAME_LEN], buf_j[DPN_METRICS_NAME_LEN];
	unsigned int i, j;

	/* Families in the order of their first counter; grouped samples
	 * written together, as both formats require. */
	for (i = 0; i < DPN_STAT_MAX; i++) {
		struct stat_metric mi;

		if (done[i])
			continue;
		stat_metric(i, &mi, buf_i, sizeof(buf_i));
		family(e, mi.family, EXPO_COUNTER,
		       stat_family_help(mi.family, i));
		for (j = i; j < DPN_STAT_MAX; j++) {
			struct stat_metric mj;

			if (done[j])
				continue;
			stat_metric(j, &mj, buf_j, sizeof(buf_j));
			if (strcmp(mj.family, mi.family) != 0)
				continue;
			if (mj.label2 != NULL)
				sample_u64(e, st->c[j], mj.label, mj.value,
					   mj.label2, mj.value2, NULL);
			else if (mj.label != NULL)
				sample_u64(e, st->c[j], mj.label, mj.value,
					   NULL);
			else
				sample_u64(e, st->c[j], NULL);
			done[j] = true;
		}
	}
}

static void
write_workers(struct expo *e, const struct dpn_metrics_snapshot *s)
{
	char lcore[16];
	unsigned int i;

	family(e, "dpntp_worker_busy_ratio", EXPO_GAUGE,
	       "Share of a worker lcore's cycles spent on polls that found "
	       "packets, since start.");
	for (i = 0; i < s->nb_workers; i++) {
		const struct dpn_metrics_worker *w = &s->workers[i];

		snprintf(lcore, sizeof(lcore), "%u", w->lcore_id);
		sample_f64(e, w->total_cycles == 0 ? 0.0 :
			   (double)w->busy_cycles / (double)w->total_cycles,
			   "lcore", lcore, NULL);
	}
	family(e, "dpntp_worker_busy_seconds", EXPO_COUNTER,
	       "Time a worker lcore spent on polls that found packets "
	       "(rate() of it is the busy share).");
	for (i = 0; i < s->nb_workers; i++) {
		const struct dpn_metrics_worker *w = &s->workers[i];

		snprintf(lcore, sizeof(lcore), "%u", w->lcore_id);
		sample_f64(e, s->tsc_hz > 0 ?
			   (double)w->busy_cycles / s->tsc_hz : 0.0,
			   "lcore", lcore, NULL);
	}
}

/* One per-port counter family over every port. */
static void
port_counter(struct expo *e, const struct dpn_metrics_snapshot *s,
	     const char *name, const char *help, size_t offset)
{
	char port[12];
	unsigned int i;

	family(e, name, EXPO_COUNTER, help);
	for (i = 0; i < s->nb_ports; i++) {
		const struct dpn_metrics_port *p = &s->ports[i];

		snprintf(port, sizeof(port), "%u", p->port_id);
		sample_u64(e, *(const uint64_t *)((const char *)p + offset),
			   "port", port, NULL);
	}
}

/* One per-queue counter family over every port's queues. */
static void
queue_counter(struct expo *e, const struct dpn_metrics_snapshot *s,
	      const char *name, const char *help, size_t offset)
{
	char port[12], queue[12];
	unsigned int i, q;

	family(e, name, EXPO_COUNTER, help);
	for (i = 0; i < s->nb_ports; i++) {
		const struct dpn_metrics_port *p = &s->ports[i];
		const uint64_t *v = (const uint64_t *)((const char *)p +
						       offset);

		snprintf(port, sizeof(port), "%u", p->port_id);
		for (q = 0; q < p->nb_queues; q++) {
			snprintf(queue, sizeof(queue), "%u", q);
			sample_u64(e, v[q], "port", port, "queue", queue,
				   NULL);
		}
	}
}

#define PORT_FIELD(f) offsetof(struct dpn_metrics_port, f)

static void
write_ports(struct expo *e, const struct dpn_metrics_snapshot *s)
{
	char port[12];
	unsigned int i, x;

	family(e, "dpntp_port", EXPO_INFO,
	       "DPDK ports in use: device name and driver.");
	for (i = 0; i < s->nb_ports; i++) {
		snprintf(port, sizeof(port), "%u", s->ports[i].port_id);
		sample_u64(e, 1, "port", port, "name", s->ports[i].name,
			   "driver", s->ports[i].driver, NULL);
	}
	family(e, "dpntp_port_link_up", EXPO_GAUGE,
	       "1 if the port's link is up.");
	for (i = 0; i < s->nb_ports; i++) {
		snprintf(port, sizeof(port), "%u", s->ports[i].port_id);
		sample_u64(e, s->ports[i].link_up, "port", port, NULL);
	}
	port_counter(e, s, "dpntp_port_rx_packets",
		     "Packets received by the port (ethdev ipackets).",
		     PORT_FIELD(rx_packets));
	port_counter(e, s, "dpntp_port_tx_packets",
		     "Packets sent by the port (ethdev opackets).",
		     PORT_FIELD(tx_packets));
	port_counter(e, s, "dpntp_port_rx_bytes",
		     "Bytes received by the port.", PORT_FIELD(rx_bytes));
	port_counter(e, s, "dpntp_port_tx_bytes",
		     "Bytes sent by the port.", PORT_FIELD(tx_bytes));
	port_counter(e, s, "dpntp_port_rx_missed_packets",
		     "Packets the NIC dropped because no RX descriptor was "
		     "free (ethdev imissed): the workers fell behind.",
		     PORT_FIELD(rx_missed));
	port_counter(e, s, "dpntp_port_rx_errors",
		     "Erroneous received packets (ethdev ierrors).",
		     PORT_FIELD(rx_errors));
	port_counter(e, s, "dpntp_port_tx_errors",
		     "Failed transmissions (ethdev oerrors).",
		     PORT_FIELD(tx_errors));
	port_counter(e, s, "dpntp_port_rx_nombuf",
		     "RX mbuf allocation failures (ethdev rx_nombuf).",
		     PORT_FIELD(rx_nombuf));
	queue_counter(e, s, "dpntp_port_queue_rx_packets",
		      "Packets received on one RX queue (ethdev q_ipackets).",
		      PORT_FIELD(q_rx_packets));
	queue_counter(e, s, "dpntp_port_queue_tx_packets",
		      "Packets sent on one TX queue (ethdev q_opackets).",
		      PORT_FIELD(q_tx_packets));
	queue_counter(e, s, "dpntp_port_queue_rx_bytes",
		      "Bytes received on one RX queue.",
		      PORT_FIELD(q_rx_bytes));
	queue_counter(e, s, "dpntp_port_queue_tx_bytes",
		      "Bytes sent on one TX queue.", PORT_FIELD(q_tx_bytes));

	family(e, "dpntp_port_rx_stamp_source", EXPO_GAUGE,
	       "Where the receive times (T2) of the port's requests come "
	       "from: 1 for the source in use (tsc: the TSC at rx_burst; "
	       "nic-clock: NIC stamps, NIC clock read; nic-fit: NIC stamps "
	       "fitted to the TSC).");
	for (i = 0; i < s->nb_ports; i++) {
		snprintf(port, sizeof(port), "%u", s->ports[i].port_id);
		sample_u64(e, 1, "port", port, "source",
			   s->ports[i].rx_stamp_source != NULL ?
			   s->ports[i].rx_stamp_source : "tsc", NULL);
	}
	family(e, "dpntp_port_rx_stamps", EXPO_COUNTER,
	       "Requests by where their receive time came from: nic (their "
	       "stamp, mapped) or tsc.");
	for (i = 0; i < s->nb_ports; i++) {
		snprintf(port, sizeof(port), "%u", s->ports[i].port_id);
		sample_u64(e, s->ports[i].rx_stamped_nic, "port", port,
			   "source", "nic", NULL);
		sample_u64(e, s->ports[i].rx_stamped_tsc, "port", port,
			   "source", "tsc", NULL);
	}
	family(e, "dpntp_port_rx_stamp_residual_seconds", EXPO_GAUGE,
	       "RMS residual of the map from the port's stamps to the "
	       "served clock (0 while receive times come from the TSC).");
	for (i = 0; i < s->nb_ports; i++) {
		snprintf(port, sizeof(port), "%u", s->ports[i].port_id);
		sample_f64(e, s->ports[i].rx_stamp_residual_s, "port", port,
			   NULL);
	}
	family(e, "dpntp_port_nic_clock_offset_seconds", EXPO_GAUGE,
	       "Residual of the NIC clock to UTC fit at its last sample "
	       "(ports that timestamp received packets only).");
	for (i = 0; i < s->nb_ports; i++) {
		if (!s->ports[i].nic_clock)
			continue;
		snprintf(port, sizeof(port), "%u", s->ports[i].port_id);
		sample_f64(e, s->ports[i].nic_clock_offset_s, "port", port,
			   NULL);
	}
	family(e, "dpntp_port_nic_clock_jitter_seconds", EXPO_GAUGE,
	       "RMS of recent residuals of the NIC clock to UTC fit.");
	for (i = 0; i < s->nb_ports; i++) {
		if (!s->ports[i].nic_clock)
			continue;
		snprintf(port, sizeof(port), "%u", s->ports[i].port_id);
		sample_f64(e, s->ports[i].nic_clock_jitter_s, "port", port,
			   NULL);
	}

	/* xstats carry no type; most are counters, some are not. */
	family(e, "dpntp_port_xstat", EXPO_UNKNOWN,
	       "Every ethdev extended statistic, named as the driver "
	       "names it.");
	for (i = 0; i < s->nb_ports; i++) {
		const struct dpn_metrics_port *p = &s->ports[i];

		snprintf(port, sizeof(port), "%u", p->port_id);
		for (x = 0; x < p->nb_xstats; x++)
			sample_u64(e, p->xstats[x].value, "port", port,
				   "name", p->xstats[x].name, NULL);
	}
}

static void
write_rules(struct expo *e, const struct dpn_metrics_snapshot *s)
{
	static const struct {
		const char *name;
		const char *help;
		size_t offset;
	} counters[] = {
		{ "dpntp_restrict_hits", "Requests that matched the restrict "
		  "rule (label: the rule as `show restrict` writes it).",
		  offsetof(struct dpn_metrics_rule, hits) },
		{ "dpntp_restrict_drops", "Requests the restrict rule "
		  "dropped (its flags or its rate limit).",
		  offsetof(struct dpn_metrics_rule, drops) },
		{ "dpntp_restrict_kods", "KoD RATE packets sent under the "
		  "restrict rule.", offsetof(struct dpn_metrics_rule, kods) },
	};
	unsigned int c, i;

	family(e, "dpntp_restrict_rules", EXPO_GAUGE,
	       "restrict rules in use (only the first 1000 have their own "
	       "counters here).");
	sample_u64(e, s->nb_rules_total, NULL);
	for (c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
		family(e, counters[c].name, EXPO_COUNTER, counters[c].help);
		for (i = 0; i < s->nb_rules; i++) {
			const struct dpn_metrics_rule *r = &s->rules[i];

			sample_u64(e, *(const uint64_t *)((const char *)r +
					counters[c].offset),
				   "rule", r->text, NULL);
		}
	}
}

/* The server's trusted keys, labelled by key ID and type. */
static void
write_auth(struct expo *e, const struct dpn_metrics_snapshot *s)
{
	static const struct {
		const char *name;
		const char *help;
		size_t offset;
	} counters[] = {
		{ "dpntp_auth_key_requests", "Requests with a MAC under the "
		  "trusted key's ID (labels: key ID and type).",
		  offsetof(struct dpn_metrics_auth_key, requests) },
		{ "dpntp_auth_key_good", "Requests whose MAC verified with "
		  "the trusted key.",
		  offsetof(struct dpn_metrics_auth_key, good) },
		{ "dpntp_auth_key_bad", "Requests under the trusted key's ID "
		  "whose MAC did not verify.",
		  offsetof(struct dpn_metrics_auth_key, bad) },
		{ "dpntp_auth_key_replies", "Replies signed with the trusted "
		  "key.", offsetof(struct dpn_metrics_auth_key, replies) },
	};
	char id[12];
	unsigned int c, i;

	family(e, "dpntp_auth_trusted_keys", EXPO_GAUGE,
	       "Keys the server trusts (trustedkey), each with its own "
	       "dpntp_auth_key_* counters.");
	sample_u64(e, s->nb_auth_keys_total, NULL);
	for (c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
		family(e, counters[c].name, EXPO_COUNTER, counters[c].help);
		for (i = 0; i < s->nb_auth_keys; i++) {
			const struct dpn_metrics_auth_key *k =
				&s->auth_keys[i];

			snprintf(id, sizeof(id), "%u", (unsigned int)k->id);
			sample_u64(e, *(const uint64_t *)((const char *)k +
					counters[c].offset),
				   "key", id, "type", k->type, NULL);
		}
	}
}

/* The NTS server: present (0) while NTS is off. The per-packet NTS
 * counters are stats counters (dpntp_ntp_nts_*_total). */
static void
write_nts(struct expo *e, const struct dpn_metrics_snapshot *s)
{
	const struct dpn_metrics_nts *n = &s->nts;
	const struct {
		const char *name;
		const char *help;
		uint64_t value;
	} ke[] = {
		{ "dpntp_nts_ke_handshakes", "NTS-KE TLS 1.3 handshakes "
		  "completed with ALPN ntske/1.", n->ke_handshakes },
		{ "dpntp_nts_ke_handshake_failures", "NTS-KE connections "
		  "whose handshake failed (no ALPN ntske/1, TLS below 1.3, "
		  "not TLS).", n->ke_handshake_failures },
		{ "dpntp_nts_ke_served", "NTS-KE responses sent without an "
		  "Error record.", n->ke_served },
		{ "dpntp_nts_ke_bad_requests", "NTS-KE responses with Error "
		  "0 or 1 (unrecognized critical record, bad request).",
		  n->ke_bad_requests },
		{ "dpntp_nts_ke_internal_errors", "NTS-KE responses with "
		  "Error 2 (internal server error).", n->ke_internal_errors },
		{ "dpntp_nts_ke_timeouts", "NTS-KE connections closed for "
		  "time before their response was sent.", n->ke_timeouts },
		{ "dpntp_nts_ke_aborted", "NTS-KE connections the client "
		  "closed or broke (TLS error) mid-request.", n->ke_aborted },
		{ "dpntp_nts_ke_cookies", "NTS cookies sent in NTS-KE New "
		  "Cookie records.", n->ke_cookies },
	};
	unsigned int i;

	family(e, "dpntp_nts_enabled", EXPO_GAUGE,
	       "1 while NTS (RFC 8915) is on (ntsservercert), else 0.");
	sample_u64(e, n->enabled, NULL);
	family(e, "dpntp_nts_key_age_seconds", EXPO_GAUGE,
	       "Age of the server key sealing new NTS cookies.");
	sample_f64(e, n->key_age_s, NULL);
	family(e, "dpntp_nts_key_rotations", EXPO_COUNTER,
	       "NTS server key rotations since start.");
	sample_u64(e, n->rotations, NULL);
	family(e, "dpntp_nts_ke_sessions", EXPO_GAUGE,
	       "NTS-KE connections open.");
	sample_u64(e, n->ke_sessions, NULL);
	for (i = 0; i < sizeof(ke) / sizeof(ke[0]); i++) {
		family(e, ke[i].name, EXPO_COUNTER, ke[i].help);
		sample_u64(e, ke[i].value, NULL);
	}
}

static void
write_clock(struct expo *e, const struct dpn_metrics_snapshot *s)
{
	const struct dpn_metrics_clock *c = &s->clock;

	family(e, "dpntp_clock_reference", EXPO_INFO,
	       "The reference the served clock follows and the refid "
	       "served.");
	sample_u64(e, 1, "reference", c->reference, "refid", c->refid, NULL);
	family(e, "dpntp_clock_synchronized", EXPO_GAUGE,
	       "1 while the served clock is synchronized to its reference "
	       "(else replies say leap 3, stratum 16).");
	sample_u64(e, c->synced, NULL);
	family(e, "dpntp_clock_stratum", EXPO_GAUGE,
	       "Stratum served in replies.");
	sample_u64(e, c->stratum, NULL);
	family(e, "dpntp_clock_leap", EXPO_GAUGE,
	       "Leap indicator served: 0 none, 1 insert, 2 delete, "
	       "3 unsynchronized.");
	sample_u64(e, c->leap, NULL);
	family(e, "dpntp_clock_precision_seconds", EXPO_GAUGE,
	       "Precision served (2^precision seconds).");
	sample_f64(e, ldexp(1.0, c->precision), NULL);
	family(e, "dpntp_clock_root_delay_seconds", EXPO_GAUGE,
	       "Root delay served.");
	sample_f64(e, c->root_delay_s, NULL);
	family(e, "dpntp_clock_root_dispersion_seconds", EXPO_GAUGE,
	       "Root dispersion served.");
	sample_f64(e, c->root_dispersion_s, NULL);
	family(e, "dpntp_clock_offset_seconds", EXPO_GAUGE,
	       "Reference minus served clock at the last sample (positive: "
	       "the served clock is behind).");
	sample_f64(e, c->offset_s, NULL);
	family(e, "dpntp_clock_jitter_seconds", EXPO_GAUGE,
	       "RMS of recent offsets to the reference.");
	sample_f64(e, c->jitter_s, NULL);
	family(e, "dpntp_clock_frequency_ppm", EXPO_GAUGE,
	       "Measured rate of the TSC against the reference, in ppm from "
	       "its nominal rate.");
	sample_f64(e, c->frequency_ppm, NULL);
	family(e, "dpntp_clock_reference_samples", EXPO_COUNTER,
	       "Samples taken of the reference.");
	sample_u64(e, c->samples, NULL);
	family(e, "dpntp_clock_steps", EXPO_COUNTER,
	       "Times the served clock was stepped instead of slewed.");
	sample_u64(e, c->steps, NULL);
}

/* The health verdict (GET /health): the contract a dashboard and alerts
 * rest on, so every check is always exported, 0 or 1. */
static void
write_health(struct expo *e, const struct dpn_metrics_snapshot *s)
{
	unsigned int c;

	family(e, "dpntp_healthy", EXPO_GAUGE,
	       "1 while the health verdict is healthy (GET /health answers "
	       "200), else 0.");
	sample_u64(e, dpn_health_ok(&s->health), NULL);
	family(e, "dpntp_health_failing", EXPO_GAUGE,
	       "1 while this health check fails.");
	for (c = 0; c < DPN_HEALTH_NB_CHECKS; c++)
		sample_u64(e, (s->health.failing >> c) & 1, "check",
			   dpn_health_check_name(c), NULL);
}

/* Upstream sources, labelled as `show peers` names them. */
static void
write_sources(struct expo *e, const struct dpn_metrics_snapshot *s)
{
	unsigned int i;

#define EACH_SOURCE(sample) \
	for (i = 0; i < s->nb_sources; i++) { \
		const struct dpn_metrics_source *m = &s->sources[i]; \
		sample; \
	}
	if (s->nb_sources == 0)
		return;
	family(e, "dpntp_source_state", EXPO_INFO,
	       "Each source with its ntpq tally code (* system peer, + "
	       "candidate, - outlier, x falseticker, . excess, # backup, "
	       "space rejected).");
	EACH_SOURCE(sample_u64(e, 1, "source", m->name, "tally", m->tally,
			       NULL));
	family(e, "dpntp_source_selected", EXPO_GAUGE,
	       "1 for the system peer, the source the clock follows.");
	EACH_SOURCE(sample_u64(e, m->selected, "source", m->name, NULL));
	family(e, "dpntp_source_reach", EXPO_GAUGE,
	       "Reach register: one bit per poll, 1 when answered (ntpq "
	       "shows it in octal).");
	EACH_SOURCE(sample_u64(e, m->reach, "source", m->name, NULL));
	family(e, "dpntp_source_stratum", EXPO_GAUGE,
	       "Stratum the source serves (16 until heard).");
	EACH_SOURCE(sample_u64(e, m->stratum, "source", m->name, NULL));
	family(e, "dpntp_source_poll_seconds", EXPO_GAUGE,
	       "Current poll interval.");
	EACH_SOURCE(sample_f64(e, m->poll_s, "source", m->name, NULL));
	family(e, "dpntp_source_offset_seconds", EXPO_GAUGE,
	       "Source minus served clock, from the clock filter.");
	EACH_SOURCE(sample_f64(e, m->offset_s, "source", m->name, NULL));
	family(e, "dpntp_source_delay_seconds", EXPO_GAUGE,
	       "Round-trip delay to the source, from the clock filter.");
	EACH_SOURCE(sample_f64(e, m->delay_s, "source", m->name, NULL));
	family(e, "dpntp_source_jitter_seconds", EXPO_GAUGE,
	       "RMS of the differences between the filter's offsets.");
	EACH_SOURCE(sample_f64(e, m->jitter_s, "source", m->name, NULL));
	family(e, "dpntp_source_requests", EXPO_COUNTER,
	       "Requests sent to the source.");
	EACH_SOURCE(sample_u64(e, m->requests, "source", m->name, NULL));
	family(e, "dpntp_source_replies", EXPO_COUNTER,
	       "Replies from the source accepted.");
	EACH_SOURCE(sample_u64(e, m->replies, "source", m->name, NULL));
	family(e, "dpntp_source_refused_replies", EXPO_COUNTER,
	       "Replies from the source refused (bogus, duplicate, KoD, "
	       "unsynchronized, malformed).");
	EACH_SOURCE(sample_u64(e, m->refused, "source", m->name, NULL));
#undef EACH_SOURCE
}

/*
 * The refclock lines (refclock shm|sock|pps|phc|ptp), labelled by their
 * index among the lines (refids may repeat: two `refclock pps` lines are
 * both PPS unless given a refid), refid and type.
 */
static void
write_refclocks(struct expo *e, const struct dpn_metrics_snapshot *s)
{
	char index[12];
	unsigned int i;

#define EACH_REFCLOCK(sample) \
	for (i = 0; i < s->nb_refclocks; i++) { \
		const struct dpn_metrics_refclock *r = &s->refclocks[i]; \
		snprintf(index, sizeof(index), "%u", r->index); \
		sample; \
	}
#define RC_LABELS "index", index, "refid", r->refid, "type", r->type
	if (s->nb_refclocks == 0)
		return;
	family(e, "dpntp_refclock", EXPO_INFO,
	       "Each refclock line: its source name (as dpntp_source_* "
	       "labels it) and what it reads.");
	EACH_REFCLOCK(sample_u64(e, 1, RC_LABELS, "source", r->name,
				 "target", r->target, NULL));
	family(e, "dpntp_refclock_open", EXPO_GAUGE,
	       "1 while the refclock's driver is open (device, segment or "
	       "socket; the PTP slave running).");
	EACH_REFCLOCK(sample_u64(e, r->open, RC_LABELS, NULL));
	family(e, "dpntp_refclock_up", EXPO_GAUGE,
	       "1 while the refclock's driver is open and delivering (a "
	       "filtered sample in the last 8 polls).");
	EACH_REFCLOCK(sample_u64(e, r->open && r->up, RC_LABELS, NULL));
	family(e, "dpntp_refclock_selected", EXPO_GAUGE,
	       "1 for the refclock that is the system peer.");
	EACH_REFCLOCK(sample_u64(e, r->selected, RC_LABELS, NULL));
	family(e, "dpntp_refclock_readings", EXPO_COUNTER,
	       "Driver readings taken into the refclock's filter.");
	EACH_REFCLOCK(sample_u64(e, r->readings, RC_LABELS, NULL));
	family(e, "dpntp_refclock_rejected", EXPO_COUNTER,
	       "Driver readings not taken, by reason: refused (invalid, "
	       "too old or ahead) or unnumbered (a pulse whose second "
	       "could not be told).");
	EACH_REFCLOCK(
		sample_u64(e, r->rejected, RC_LABELS, "reason", "refused",
			   NULL);
		sample_u64(e, r->unnumbered, RC_LABELS, "reason",
			   "unnumbered", NULL));
	family(e, "dpntp_refclock_samples", EXPO_COUNTER,
	       "Filtered samples the refclock gave to source selection "
	       "(one per poll interval with readings).");
	EACH_REFCLOCK(sample_u64(e, r->samples, RC_LABELS, NULL));
	family(e, "dpntp_refclock_losses", EXPO_COUNTER,
	       "Times the refclock stopped delivering (8 polls without a "
	       "reading).");
	EACH_REFCLOCK(sample_u64(e, r->losses, RC_LABELS, NULL));
	family(e, "dpntp_refclock_offset_seconds", EXPO_GAUGE,
	       "Reference minus served clock, the refclock's last filtered "
	       "sample (its offset option applied).");
	EACH_REFCLOCK(sample_f64(e, r->offset_s, RC_LABELS, NULL));
	family(e, "dpntp_refclock_dispersion_seconds", EXPO_GAUGE,
	       "Spread of the readings in the last filtered sample.");
	EACH_REFCLOCK(sample_f64(e, r->dispersion_s, RC_LABELS, NULL));
	family(e, "dpntp_refclock_jitter_seconds", EXPO_GAUGE,
	       "RMS of the differences between the refclock's recent "
	       "samples (its source's clock filter).");
	EACH_REFCLOCK(sample_f64(e, r->jitter_s, RC_LABELS, NULL));
	family(e, "dpntp_refclock_last_reading_age_seconds", EXPO_GAUGE,
	       "Time since the refclock's last reading was taken (no "
	       "sample before the first one).");
	EACH_REFCLOCK(if (r->has_reading)
			sample_f64(e, r->last_reading_age_s, RC_LABELS,
				   NULL));
#undef RC_LABELS
#undef EACH_REFCLOCK
}

/* The PTP states, each a sample of dpntp_ptp_state. */
static const char *const ptp_states[] = {
	"listening", "uncalibrated", "slave",
};

/* dpntp_ptp_state, one-hot: a sample per state (and one for a state
 * not known here, should lib/ptp get one). */
static void
ptp_state_samples(const struct expo *e, const char *state,
		  const char *index, const char *port, const char *domain)
{
	bool known = false;
	size_t k;

	for (k = 0; k < sizeof(ptp_states) / sizeof(ptp_states[0]); k++) {
		bool cur = strcmp(state, ptp_states[k]) == 0;

		known |= cur;
		sample_u64(e, cur, "index", index, "port", port, "domain",
			   domain, "state", ptp_states[k], NULL);
	}
	if (!known)
		sample_u64(e, 1, "index", index, "port", port, "domain",
			   domain, "state", state, NULL);
}

/* The PTP slaves of `refclock ptp` lines; nothing without one. */
static void
write_ptp(struct expo *e, const struct dpn_metrics_snapshot *s)
{
	char index[12], port[12], domain[12];
	unsigned int i, n = 0;

#define EACH_PTP(sample) \
	for (i = 0; i < s->nb_refclocks; i++) { \
		const struct dpn_metrics_refclock *r = &s->refclocks[i]; \
		const struct dpn_metrics_ptp *p = &r->ptp; \
		if (!r->is_ptp) \
			continue; \
		snprintf(index, sizeof(index), "%u", r->index); \
		snprintf(port, sizeof(port), "%u", p->port); \
		snprintf(domain, sizeof(domain), "%u", p->domain); \
		sample; \
	}
#define PTP_LABELS "index", index, "port", port, "domain", domain
	for (i = 0; i < s->nb_refclocks; i++)
		n += s->refclocks[i].is_ptp;
	if (n == 0)
		return;
	family(e, "dpntp_ptp", EXPO_INFO,
	       "Each PTP slave (refclock ptp): its transport and where its "
	       "times come from (rx_stamps: nic, the port's receive stamps, "
	       "or tsc, the TSC at rx_burst; tx_stamps: tsc around "
	       "tx_burst).");
	EACH_PTP(sample_u64(e, 1, PTP_LABELS, "transport", p->transport,
			    "rx_stamps", p->rx_stamps != NULL ?
			    p->rx_stamps : "tsc", "tx_stamps",
			    p->tx_stamps != NULL ? p->tx_stamps : "tsc",
			    NULL));
	family(e, "dpntp_ptp_state", EXPO_GAUGE,
	       "The PTP slave's port state: 1 for the current one "
	       "(listening: no qualified master; uncalibrated: master "
	       "chosen, measuring; slave: offsets flowing), 0 for the "
	       "others.");
	EACH_PTP(ptp_state_samples(e, p->state, index, port, domain));
	family(e, "dpntp_ptp_offset_seconds", EXPO_GAUGE,
	       "Master minus served clock at the PTP slave's last sample.");
	EACH_PTP(sample_f64(e, p->offset_s, PTP_LABELS, NULL));
	family(e, "dpntp_ptp_mean_path_delay_seconds", EXPO_GAUGE,
	       "Mean path delay to the master (filtered).");
	EACH_PTP(sample_f64(e, p->mean_path_delay_s, PTP_LABELS, NULL));
	family(e, "dpntp_ptp_master", EXPO_INFO,
	       "The master the PTP slave follows (no sample without one): "
	       "its port identity, grandmaster clock identity and timescale "
	       "(ptp: TAI; arb: taken as UTC).");
	EACH_PTP(if (p->have_master)
			sample_u64(e, 1, PTP_LABELS, "identity", p->master,
				   "grandmaster", p->grandmaster, "timescale",
				   p->ptp_timescale ? "ptp" : "arb", NULL));
	family(e, "dpntp_ptp_master_clock_class", EXPO_GAUGE,
	       "clockClass the followed master announces (6: locked to "
	       "a primary reference; 7, 52, 187: in holdover; 248: "
	       "default; 255: slave-only).");
	EACH_PTP(if (p->have_master)
			sample_u64(e, p->clock_class, PTP_LABELS, NULL));
	family(e, "dpntp_ptp_master_steps_removed", EXPO_GAUGE,
	       "stepsRemoved the followed master announces (boundary "
	       "clocks between it and the grandmaster).");
	EACH_PTP(if (p->have_master)
			sample_u64(e, p->steps_removed, PTP_LABELS, NULL));
	family(e, "dpntp_ptp_master_utc_offset_seconds", EXPO_GAUGE,
	       "TAI minus UTC as the followed master announces it "
	       "(currentUtcOffset; PTP timescale only).");
	EACH_PTP(if (p->have_master && p->ptp_timescale)
			sample_f64(e, (double)p->utc_offset, PTP_LABELS,
				   NULL));
	family(e, "dpntp_ptp_messages", EXPO_COUNTER,
	       "PTP messages received (announce, sync, follow_up, "
	       "delay_resp) and sent (delay_req).");
	EACH_PTP(
		sample_u64(e, p->rx_announce, PTP_LABELS, "direction", "rx",
			   "type", "announce", NULL);
		sample_u64(e, p->rx_sync, PTP_LABELS, "direction", "rx",
			   "type", "sync", NULL);
		sample_u64(e, p->rx_follow_up, PTP_LABELS, "direction", "rx",
			   "type", "follow_up", NULL);
		sample_u64(e, p->rx_delay_resp, PTP_LABELS, "direction",
			   "rx", "type", "delay_resp", NULL);
		sample_u64(e, p->tx_delay_req, PTP_LABELS, "direction", "tx",
			   "type", "delay_req", NULL));
	family(e, "dpntp_ptp_ignored_messages", EXPO_COUNTER,
	       "PTP messages ignored, by reason: bad (malformed), "
	       "other_domain, not_master (Sync, Follow_Up, Delay_Resp from "
	       "a port not followed), unmatched (Follow_Up or Delay_Resp "
	       "without its Sync or Delay_Req).");
	EACH_PTP(
		sample_u64(e, p->rx_bad, PTP_LABELS, "reason", "bad", NULL);
		sample_u64(e, p->rx_other_domain, PTP_LABELS, "reason",
			   "other_domain", NULL);
		sample_u64(e, p->rx_not_master, PTP_LABELS, "reason",
			   "not_master", NULL);
		sample_u64(e, p->rx_unmatched, PTP_LABELS, "reason",
			   "unmatched", NULL));
	family(e, "dpntp_ptp_delay_outliers", EXPO_COUNTER,
	       "Path delays the PTP slave's filter refused.");
	EACH_PTP(sample_u64(e, p->delay_outliers, PTP_LABELS, NULL));
	family(e, "dpntp_ptp_master_changes", EXPO_COUNTER,
	       "Times a (new) master was selected, the first one included.");
	EACH_PTP(sample_u64(e, p->master_changes, PTP_LABELS, NULL));
	family(e, "dpntp_ptp_announce_timeouts", EXPO_COUNTER,
	       "Times the followed master's Announce messages stopped.");
	EACH_PTP(sample_u64(e, p->announce_timeouts, PTP_LABELS, NULL));
	family(e, "dpntp_ptp_delay_resp_missing", EXPO_COUNTER,
	       "Delay_Req messages replaced by the next one before their "
	       "Delay_Resp came.");
	EACH_PTP(sample_u64(e, p->delay_resp_missing, PTP_LABELS, NULL));
	family(e, "dpntp_ptp_rx_stamps", EXPO_COUNTER,
	       "PTP event messages by where their receive time came from: "
	       "nic (the port's stamp) or tsc (the TSC at rx_burst).");
	EACH_PTP(
		sample_u64(e, p->rx_stamp_nic, PTP_LABELS, "source", "nic",
			   NULL);
		sample_u64(e, p->rx_stamp_tsc, PTP_LABELS, "source", "tsc",
			   NULL));
	family(e, "dpntp_ptp_tx_stamps", EXPO_COUNTER,
	       "Delay_Req transmit times taken (TSC around tx_burst).");
	EACH_PTP(sample_u64(e, p->tx_stamps_seen, PTP_LABELS, NULL));
	family(e, "dpntp_ptp_tx_unstamped", EXPO_COUNTER,
	       "Delay_Req messages sent without a transmit time.");
	EACH_PTP(sample_u64(e, p->tx_unstamped, PTP_LABELS, NULL));
	family(e, "dpntp_ptp_tx_failed", EXPO_COUNTER,
	       "Delay_Req messages that could not be sent.");
	EACH_PTP(sample_u64(e, p->tx_failed, PTP_LABELS, NULL));
	family(e, "dpntp_ptp_igmp_reports", EXPO_COUNTER,
	       "IGMPv2 membership reports sent for the PTP multicast "
	       "groups (transport udp4).");
	EACH_PTP(sample_u64(e, p->igmp_reports, PTP_LABELS, NULL));
#undef PTP_LABELS
#undef EACH_PTP
}

int
dpn_metrics_write(FILE *f, const struct dpn_metrics_snapshot *s,
		  enum dpn_metrics_format fmt)
{
	struct expo e = { .f = f, .om = fmt == DPN_METRICS_OPENMETRICS };

	family(&e, "dpntp_build", EXPO_INFO, "dpntpd's version.");
	sample_u64(&e, 1, "version", s->version != NULL ? s->version : "",
		   NULL);
	write_stats(&e, &s->stats);
	write_workers(&e, s);
	write_ports(&e, s);
	write_rules(&e, s);
	write_auth(&e, s);
	write_nts(&e, s);
	write_clock(&e, s);
	write_health(&e, s);
	write_sources(&e, s);
	write_refclocks(&e, s);
	write_ptp(&e, s);
	if (e.om)
		fputs("# EOF\n", f);
	return ferror(f) ? -1 : 0;
}

void
dpn_metrics_snapshot_free(struct dpn_metrics_snapshot *s)
{
	unsigned int i;

	for (i = 0; s->ports != NULL && i < s->nb_ports; i++)
		free(s->ports[i].xstats);
	free(s->ports);
	free(s->workers);
	free(s->rules);
	free(s->auth_keys);
	s->auth_keys = NULL;
	s->nb_auth_keys = s->nb_auth_keys_total = 0;
	free(s->sources);
	free(s->refclocks);
	s->refclocks = NULL;
	s->nb_refclocks = 0;
	s->sources = NULL;
	s->nb_sources = 0;
	s->ports = NULL;
	s->workers = NULL;
	s->rules = NULL;
	s->nb_ports = s->nb_workers = s->nb_rules = 0;
}
