/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Collection: copy what a scrape exposes out of the running daemon.
 * Runs in the HTTP or telemetry thread. The workers are not stopped:
 * their counters are read with relaxed atomic loads (each has one
 * writer), the clock through its seqlock, the restrict and key counters
 * under the control lock (dpn_runtime_restrict_walk, dpn_runtime_auth_walk), the
 * NTS server's state with dpn_ntsserver_info() (thread-safe), and
 * ethdev statistics with the ethdev calls, which only read the driver's
 * counters.
 */

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "dpn_runtime.h"
#include "dpn_metrics.h"
#include "dpn_ntsserver.h"
#include "metrics_private.h"

RTE_LOG_REGISTER(dpn_metrics_logtype, dpntp.metrics, NOTICE);

/*
 * The daemon state, and a lock that keeps it from going away under a
 * scrape: DPDK's telemetry thread lives until rte_eal_cleanup(), after
 * the data plane is freed, and telemetry commands cannot be unregistered.
 */
static struct dpn_runtime *metrics_ctx;
static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;

int
dpn_metrics_init(struct dpn_runtime *ctx)
{
	pthread_mutex_lock(&metrics_lock);
	metrics_ctx = ctx;
	pthread_mutex_unlock(&metrics_lock);
	return dpn_metrics_telemetry_register();
}

void
dpn_metrics_fini(void)
{
	dpn_metrics_http_stop();
	pthread_mutex_lock(&metrics_lock);
	metrics_ctx = NULL;
	pthread_mutex_unlock(&metrics_lock);
}

struct dpn_runtime *
dpn_metrics_hold(void)
{
	struct dpn_runtime *ctx;

	pthread_mutex_lock(&metrics_lock);
	ctx = metrics_ctx;
	if (ctx == NULL)
		pthread_mutex_unlock(&metrics_lock);
	return ctx;
}

void
dpn_metrics_release(void)
{
	pthread_mutex_unlock(&metrics_lock);
}

void
dpn_metrics_sum_stats(const struct dpn_dataplane *dp, struct dpn_stats *out)
{
	struct dpn_stats sum;
	unsigned int i, j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < dp->nb_workers; i++) {
		dpn_stats_sum(&dp->workers[i]->stats, 1, &sum);
		for (j = 0; j < DPN_STAT_MAX; j++)
			out->c[j] += sum.c[j];
	}
	dpn_stats_sum(&dp->mgmt_stats, 1, &sum);
	for (j = 0; j < DPN_STAT_MAX; j++)
		out->c[j] += sum.c[j];
}

static int
collect_xstats(struct dpn_metrics_port *mp)
{
	struct rte_eth_xstat_name *names = NULL;
	struct rte_eth_xstat *vals = NULL;
	int n, got, i, ret = 0;

	n = rte_eth_xstats_get_names(mp->port_id, NULL, 0);
	if (n <= 0)
		return 0;
	names = calloc(n, sizeof(*names));
	vals = calloc(n, sizeof(*vals));
	mp->xstats = calloc(n, sizeof(*mp->xstats));
	if (names == NULL || vals == NULL || mp->xstats == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	if (rte_eth_xstats_get_names(mp->port_id, names, n) != n)
		goto out;
	got = rte_eth_xstats_get(mp->port_id, vals, n);
	if (got <= 0 || got > n)
		goto out;
	for (i = 0; i < got; i++) {
		if (vals[i].id >= (uint64_t)n)
			continue;
		snprintf(mp->xstats[mp->nb_xstats].name,
			 sizeof(mp->xstats[0].name), "%s",
			 names[vals[i].id].name);
		mp->xstats[mp->nb_xstats++].value = vals[i].value;
	}
out:
	free(names);
	free(vals);
	return ret;
}

static int
collect_port(const struct dpn_dataplane *dp, unsigned int pi,
	     struct dpn_metrics_port *mp)
{
	const struct dpn_port *p = &dp->ports[pi];
	struct rte_eth_dev_info info;
	struct rte_eth_stats st;
	struct rte_eth_link link;
	unsigned int q;

	mp->port_id = p->port_id;
	snprintf(mp->name, sizeof(mp->name), "%s", p->name);
	memset(&info, 0, sizeof(info));
	if (rte_eth_dev_info_get(p->port_id, &info) == 0 &&
	    info.driver_name != NULL)
		snprintf(mp->driver, sizeof(mp->driver), "%s",
			 info.driver_name);
	memset(&link, 0, sizeof(link));
	rte_eth_link_get_nowait(p->port_id, &link);
	mp->link_up = link.link_status == RTE_ETH_LINK_UP;
	if (rte_eth_stats_get(p->port_id, &st) != 0)
		memset(&st, 0, sizeof(st));
	mp->rx_packets = st.ipackets;
	mp->tx_packets = st.opackets;
	mp->rx_bytes = st.ibytes;
	mp->tx_bytes = st.obytes;
	mp->rx_missed = st.imissed;
	mp->rx_errors = st.ierrors;
	mp->tx_errors = st.oerrors;
	mp->rx_nombuf = st.rx_nombuf;
	/* ethdev keeps per-queue counters for the first few queues only. */
	mp->nb_queues = RTE_MIN(p->nb_queues,
				RTE_MIN(DPN_METRICS_MAX_QUEUES,
					RTE_ETHDEV_QUEUE_STAT_CNTRS));
	for (q = 0; q < mp->nb_queues; q++) {
		mp->q_rx_packets[q] = st.q_ipackets[q];
		mp->q_tx_packets[q] = st.q_opackets[q];
		mp->q_rx_bytes[q] = st.q_ibytes[q];
		mp->q_tx_bytes[q] = st.q_obytes[q];
	}
	/*
	 * The NIC clock fit belongs to the management lcore; a scrape may
	 * read a value a sample old, never a harmful one (plain words).
	 */
	{
		struct dpn_rx_stamp_info rs;

		dpn_rx_stamp_info_get(dp, pi, &rs);
		mp->rx_stamp_source = dpn_rx_stamp_source_name(rs.source);
		mp->rx_stamped_nic = rs.nb_nic;
		mp->rx_stamped_tsc = rs.nb_tsc;
		mp->rx_stamp_residual_s = rs.residual_ns / 1e9;
	}
	if (p->nic_readable && p->nic_clock.nb_samples >= 2) {
		mp->nic_clock = true;
		mp->nic_clock_offset_s =
			(double)p->nic_clock.tracker.last_offset_ns / 1e9;
		mp->nic_clock_jitter_s = p->nic_clock.tracker.jitter_ns / 1e9;
	}
	return collect_xstats(mp);
}

void
dpn_metrics_read_clock(const struct dpn_runtime *ctx,
		       struct dpn_metrics_clock *mc)
{
	const struct dpn_refclock_system *rs = ctx->refclock;
	struct dpn_sync_view *v = malloc(sizeof(*v));
	const struct dpn_ntp_sysinfo *si;
	struct dpn_clock_snapshot s;
	uint32_t refid;
	int i;

	dpn_clock_read(ctx->dp->clock, &s);
	si = &s.sysinfo;
	memset(mc, 0, sizeof(*mc));
	mc->synced = s.synced;
	snprintf(mc->reference, sizeof(mc->reference), "none");
	refid = rte_be_to_cpu_32(si->refid);
	for (i = 0; i < 4; i++) {
		char c = (char)(refid >> (24 - 8 * i));

		mc->refid[i] = (c >= 0x20 && c < 0x7f) ? c : '\0';
	}
	mc->stratum = si->stratum;
	mc->leap = si->leap;
	mc->precision = si->precision;
	mc->root_delay_s = (double)dpn_ntp_short_to_ns(
		rte_be_to_cpu_32(si->root_delay)) / 1e9;
	mc->root_dispersion_s = (double)dpn_ntp_short_to_ns(
		rte_be_to_cpu_32(si->root_disp)) / 1e9;
	mc->samples = rs->samples;
	if (v == NULL || ctx->sync == NULL) {
		free(v);
		return;
	}
	/* The discipline is the management lcore's; read its copy. */
	dpn_sync_view_read(ctx->sync, v);
	if (v->sel.sys_peer >= 0 && (unsigned int)v->sel.sys_peer <
	    v->nb_sources)
		snprintf(mc->reference, sizeof(mc->reference), "%s",
			 v->sources[v->sel.sys_peer].conf.name);
	/* From stratum 2 the refid is the system peer's IPv4 address. */
	if (si->stratum >= 2 && si->stratum < DPN_NTP_STRATUM_UNSYNC)
		snprintf(mc->refid, sizeof(mc->refid), "%u.%u.%u.%u",
			 refid >> 24, (refid >> 16) & 0xff, (refid >> 8) & 0xff,
			 refid & 0xff);
	mc->offset_s = (double)v->offset_ns / 1e9;
	mc->jitter_s = (double)v->sys_jitter_ns / 1e9;
	mc->frequency_ppm = v->freq_ppm;
	mc->steps = v->steps;
	free(v);
}

/* The sources as `show peers` lists them. */
static int
collect_sources(const struct dpn_runtime *ctx,
		struct dpn_metrics_snapshot *s)
{
	struct dpn_sync_view *v;
	unsigned int i;

	if (ctx->sync == NULL)
		return 0;
	v = malloc(sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	dpn_sync_view_read(ctx->sync, v);
	s->sources = calloc(v->nb_sources + 1, sizeof(*s->sources));
	if (s->sources == NULL) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < v->nb_sources; i++) {
		const struct dpn_source *src = &v->sources[i];
		struct dpn_metrics_source *m = &s->sources[i];

		snprintf(m->name, sizeof(m->name), "%s", src->conf.name);
		m->tally[0] = (char)src->state;
		m->stratum = src->stratum;
		m->reach = src->reach;
		m->poll_s = ldexp(1.0, src->poll);
		m->offset_s = (double)src->offset_ns / 1e9;
		m->delay_s = (double)src->delay_ns / 1e9;
		m->jitter_s = (double)src->jitter_ns / 1e9;
		m->selected = (int)i == v->sel.sys_peer;
		m->requests = src->nb_sent;
		m->replies = src->nb_rx_ok;
		m->refused = src->nb_rx_bad;
	}
	s->nb_sources = v->nb_sources;
	free(v);
	return 0;
}

/* The PTP slave of a `refclock ptp` line, as `show ptp` shows it. */
static void
collect_ptp(const struct dpn_sync_refclock_info *r,
	    struct dpn_metrics_ptp *m)
{
	const struct dpn_sync_ptp_info *p = &r->ptp;
	const struct dpn_ptp_counters *c = &p->counters;

	m->port = r->conf.port;
	m->domain = r->conf.domain;
	snprintf(m->transport, sizeof(m->transport), "%s",
		 r->conf.transport == DPN_CONF_PTP_L2 ? "l2" : "udp4");
	snprintf(m->state, sizeof(m->state), "%s",
		 dpn_ptp_state_str(p->state));
	if (p->have_master) {
		const struct dpn_ptp_master *ms = &p->master;
		struct dpn_ptp_port_identity gm;
		char id[DPN_PTP_PORT_ID_STRLEN];
		char *dash;

		m->have_master = true;
		dpn_ptp_port_identity_str(&ms->port, id, sizeof(id));
		snprintf(m->master, sizeof(m->master), "%s", id);
		/* The grandmaster is a clock: no port number. */
		memcpy(gm.clock_id, ms->gm_id, sizeof(gm.clock_id));
		gm.port_number = 0;
		dpn_ptp_port_identity_str(&gm, id, sizeof(id));
		dash = strrchr(id, '-');
		if (dash != NULL)
			*dash = '\0';
		snprintf(m->grandmaster, sizeof(m->grandmaster), "%s", id);
		m->priority1 = ms->priority1;
		m->priority2 = ms->priority2;
		m->clock_class = ms->clock_class;
		m->clock_accuracy = ms->clock_accuracy;
		m->variance = ms->variance;
		m->steps_removed = ms->steps_removed;
		m->ptp_timescale = ms->ptp_timescale;
		m->utc_offset = ms->utc_offset;
		m->utc_offset_valid = ms->utc_offset_valid;
	}
	m->offset_s = (double)p->offset_ns / 1e9;
	m->mean_path_delay_s = (double)p->delay_ns / 1e9;
	m->rx_stamps = p->rx_nic ? "nic" : "tsc";
	m->tx_stamps = p->tx_stamp_nic > 0 ? "nic" : "tsc";
	m->rx_announce = c->rx_announce;
	m->rx_sync = c->rx_sync;
	m->rx_follow_up = c->rx_follow_up;
	m->rx_delay_resp = c->rx_delay_resp;
	m->tx_delay_req = c->tx_delay_req;
	m->rx_bad = c->rx_bad;
	m->rx_other_domain = c->rx_other_domain;
	m->rx_not_master = c->rx_not_master;
	m->rx_unmatched = c->rx_unmatched;
	m->delay_outliers = c->delay_outliers;
	m->master_changes = c->master_changes;
	m->announce_timeouts = c->announce_timeouts;
	m->delay_resp_missing = c->delay_resp_missing;
	m->rx_stamp_nic = p->rx_stamp_nic;
	m->rx_stamp_tsc = p->rx_stamp_tsc;
	m->tx_stamps_seen = p->tx_stamps;
	m->tx_unstamped = p->tx_unstamped;
	m->tx_failed = p->tx_failed;
	m->igmp_reports = p->igmp_reports;
}

int
dpn_metrics_read_refclocks(const struct dpn_runtime *ctx,
			   struct dpn_metrics_refclock **out, unsigned int *nb)
{
	struct dpn_metrics_refclock *rc;
	struct dpn_sync_view *v;
	unsigned int i;

	*out = NULL;
	*nb = 0;
	if (ctx->sync == NULL)
		return 0;
	v = malloc(sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	dpn_sync_view_read(ctx->sync, v);
	if (v->nb_refclocks == 0) {
		free(v);
		return 0;
	}
	rc = calloc(v->nb_refclocks, sizeof(*rc));
	if (rc == NULL) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < v->nb_refclocks; i++) {
		const struct dpn_sync_refclock_info *r = &v->refclocks[i];
		struct dpn_metrics_refclock *m = &rc[i];

		m->index = i;
		snprintf(m->type, sizeof(m->type), "%s",
			 dpn_conf_refclock_type_str(r->conf.type));
		snprintf(m->refid, sizeof(m->refid), "%.4s", r->conf.refid);
		dpn_sync_refclock_target(&r->conf, m->target,
					 sizeof(m->target));
		m->line = r->conf.line;
		m->poll = r->conf.poll;
		m->open = r->open;
		m->up = r->up;
		m->readings = r->readings;
		m->rejected = r->rejected;
		m->unnumbered = r->unnumbered;
		m->samples = r->samples;
		m->losses = r->losses;
		m->offset_s = (double)r->offset_ns / 1e9;
		m->dispersion_s = (double)r->disp_ns / 1e9;
		if (r->last_reading_ns != 0) {
			m->has_reading = true;
			m->last_reading_age_s =
				(double)(v->now_ns - r->last_reading_ns) / 1e9;
		}
		snprintf(m->error, sizeof(m->error), "%s", r->error);
		m->tally[0] = ' ';
		if (r->source_index < v->nb_sources) {
			const struct dpn_source *src =
				&v->sources[r->source_index];

			snprintf(m->name, sizeof(m->name), "%s",
				 src->conf.name);
			m->tally[0] = (char)src->state;
			m->reach = src->reach;
			m->jitter_s = (double)src->jitter_ns / 1e9;
			m->selected = (int)r->source_index == v->sel.sys_peer;
		}
		if (r->conf.type == DPN_CONF_REFCLOCK_PTP) {
			m->is_ptp = true;
			collect_ptp(r, &m->ptp);
		}
	}
	*out = rc;
	*nb = v->nb_refclocks;
	free(v);
	return 0;
}

static void
add_rule(void *arg, const char *rule, const struct dpn_acl_counters *c)
{
	struct dpn_metrics_snapshot *s = arg;
	struct dpn_metrics_rule *r = &s->rules[s->nb_rules++];

	snprintf(r->text, sizeof(r->text), "%s", rule);
	r->hits = c->hits;
	r->drops = c->drops;
	r->kods = c->kods;
}

static void
add_auth_key(void *arg, uint32_t id, const char *type,
	     const struct dpn_auth_counters *c)
{
	struct dpn_metrics_snapshot *s = arg;
	struct dpn_metrics_auth_key *k = &s->auth_keys[s->nb_auth_keys++];

	k->id = id;
	snprintf(k->type, sizeof(k->type), "%s", type);
	k->requests = c->requests;
	k->good = c->good;
	k->bad = c->bad;
	k->replies = c->replies;
}

void
dpn_metrics_read_nts(struct dpn_metrics_nts *n)
{
	struct dpn_ntsserver_info in;

	dpn_ntsserver_info(&in);
	memset(n, 0, sizeof(*n));
	if (!in.enabled)
		return;
	n->enabled = true;
	n->key_age_s = in.key_age_s;
	n->rotations = in.rotations;
	n->ke_sessions = in.sessions;
	n->ke_handshakes = in.ke.handshakes;
	n->ke_handshake_failures = in.ke.handshake_failures;
	n->ke_served = in.ke.served;
	n->ke_bad_requests = in.ke.bad_requests;
	n->ke_internal_errors = in.ke.internal_errors;
	n->ke_timeouts = in.ke.timeouts;
	n->ke_aborted = in.ke.aborted;
	n->ke_cookies = in.ke.cookies;
}

int
dpn_metrics_collect(struct dpn_metrics_snapshot *s)
{
	struct dpn_runtime *ctx;
	struct dpn_dataplane *dp;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	ctx = dpn_metrics_hold();
	if (ctx == NULL)
		return -ENODEV;
	dp = ctx->dp;
	s->version = DPN_VERSION;
	s->tsc_hz = (double)rte_get_tsc_hz();
	dpn_metrics_sum_stats(dp, &s->stats);

	s->workers = calloc(dp->nb_workers + 1, sizeof(*s->workers));
	s->ports = calloc(dp->nb_ports + 1, sizeof(*s->ports));
	s->rules = calloc(DPN_METRICS_MAX_RULES, sizeof(*s->rules));
	s->auth_keys = calloc(DPN_METRICS_MAX_AUTH_KEYS,
			      sizeof(*s->auth_keys));
	if (s->workers == NULL || s->ports == NULL || s->rules == NULL ||
	    s->auth_keys == NULL)
		goto nomem;
	for (i = 0; i < dp->nb_workers; i++) {
		const struct dpn_worker *w = dp->workers[i];

		s->workers[i].lcore_id = w->lcore_id;
		s->workers[i].busy_cycles =
			__atomic_load_n(&w->busy_cycles, __ATOMIC_RELAXED);
		s->workers[i].total_cycles =
			__atomic_load_n(&w->total_cycles, __ATOMIC_RELAXED);
	}
	s->nb_workers = dp->nb_workers;
	for (i = 0; i < dp->nb_ports; i++) {
		s->nb_ports = i + 1;
		if (collect_port(dp, i, &s->ports[i]) != 0)
			goto nomem;
	}
	s->nb_rules_total = dpn_runtime_restrict_walk(add_rule, s,
						  DPN_METRICS_MAX_RULES);
	s->nb_auth_keys_total = dpn_runtime_auth_walk(add_auth_key, s,
						  DPN_METRICS_MAX_AUTH_KEYS,
						  NULL);
	dpn_metrics_read_nts(&s->nts);
	dpn_metrics_read_clock(ctx, &s->clock);
	dpn_runtime_health_read(&s->health);
	if (collect_sources(ctx, s) != 0 ||
	    dpn_metrics_read_refclocks(ctx, &s->refclocks,
				       &s->nb_refclocks) != 0) {
		dpn_metrics_release();
		dpn_metrics_snapshot_free(s);
		return -ENOMEM;
	}
	dpn_metrics_release();
	return 0;
nomem:
	dpn_metrics_release();
	dpn_metrics_snapshot_free(s);
	return -ENOMEM;
}
