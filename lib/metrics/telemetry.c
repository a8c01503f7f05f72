/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands under /dpntp/, for dpdk-telemetry.py and any
 * client of the telemetry socket (/var/run/dpdk/PREFIX/dpdk_telemetry.v2).
 * They run in DPDK's telemetry thread and read what the metrics read; the
 * ethdev library's own /ethdev/ commands cover the rest of the ports.
 *
 * 22.11 telemetry has no floating-point values and 32-bit ints, so times
 * are integer nanoseconds (clamped) and the frequency is in ppb. Its
 * arrays cannot hold dicts, so lists of things are dicts keyed by index.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_telemetry.h>

#include "dpn_ntsserver.h"
#include "metrics_private.h"

static int
clamp_int(double v)
{
	if (isnan(v))
		return 0;
	if (v > INT_MAX)
		return INT_MAX;
	if (v < INT_MIN)
		return INT_MIN;
	return (int)lround(v);
}

/* /dpntp/stats: every counter of `show stats`, summed over the lcores. */
static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dpn_runtime *ctx = dpn_metrics_hold();
	struct dpn_stats sum;
	unsigned int i;

	if (ctx == NULL)
		return -ENODEV;
	dpn_metrics_sum_stats(ctx->dp, &sum);
	dpn_metrics_release();
	rte_tel_data_start_dict(d);
	for (i = 0; i < DPN_STAT_MAX; i++)
		rte_tel_data_add_dict_u64(d, dpn_stats_name(i), sum.c[i]);
	return 0;
}

/* /dpntp/ports: one dict per port in use, keyed by the port id, ethdev
 * counters included. */
static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dpn_runtime *ctx = dpn_metrics_hold();
	const struct dpn_dataplane *dp;
	unsigned int i;

	if (ctx == NULL)
		return -ENODEV;
	dp = ctx->dp;
	rte_tel_data_start_dict(d);
	for (i = 0; i < dp->nb_ports; i++) {
		const struct dpn_port *p = &dp->ports[i];
		struct rte_tel_data *pd = rte_tel_data_alloc();
		struct rte_eth_stats st;
		struct dpn_rx_stamp_info rs;
		char key[12];

		if (pd == NULL)
			break;
		if (rte_eth_stats_get(p->port_id, &st) != 0)
			memset(&st, 0, sizeof(st));
		rte_tel_data_start_dict(pd);
		rte_tel_data_add_dict_int(pd, "port", p->port_id);
		rte_tel_data_add_dict_string(pd, "name", p->name);
		rte_tel_data_add_dict_int(pd, "queues", p->nb_queues);
		dpn_rx_stamp_info_get(dp, i, &rs);
		rte_tel_data_add_dict_string(pd, "rx_timestamp",
			dpn_rx_stamp_source_name(rs.source));
		rte_tel_data_add_dict_u64(pd, "rx_stamped_nic", rs.nb_nic);
		rte_tel_data_add_dict_u64(pd, "rx_stamped_tsc", rs.nb_tsc);
		rte_tel_data_add_dict_int(pd, "rx_stamp_residual_ns",
					  (int)rs.residual_ns);
		rte_tel_data_add_dict_u64(pd, "rx_packets", st.ipackets);
		rte_tel_data_add_dict_u64(pd, "tx_packets", st.opackets);
		rte_tel_data_add_dict_u64(pd, "rx_bytes", st.ibytes);
		rte_tel_data_add_dict_u64(pd, "tx_bytes", st.obytes);
		rte_tel_data_add_dict_u64(pd, "rx_missed", st.imissed);
		rte_tel_data_add_dict_u64(pd, "rx_errors", st.ierrors);
		rte_tel_data_add_dict_u64(pd, "tx_errors", st.oerrors);
		rte_tel_data_add_dict_u64(pd, "rx_nombuf", st.rx_nombuf);
		snprintf(key, sizeof(key), "%u", p->port_id);
		if (rte_tel_data_add_dict_container(d, key, pd, 0) != 0)
			rte_tel_data_free(pd);
	}
	dpn_metrics_release();
	return 0;
}

struct tel_rules {
	struct rte_tel_data *d;
	unsigned int nb;
};

static void
tel_add_rule(void *arg, const char *rule, const struct dpn_acl_counters *c)
{
	struct tel_rules *tr = arg;
	struct rte_tel_data *rd = rte_tel_data_alloc();
	char key[12];

	if (rd == NULL)
		return;
	rte_tel_data_start_dict(rd);
	rte_tel_data_add_dict_string(rd, "rule", rule);
	rte_tel_data_add_dict_u64(rd, "hits", c->hits);
	rte_tel_data_add_dict_u64(rd, "drops", c->drops);
	rte_tel_data_add_dict_u64(rd, "kods", c->kods);
	snprintf(key, sizeof(key), "%u", tr->nb++);
	if (rte_tel_data_add_dict_container(tr->d, key, rd, 0) != 0)
		rte_tel_data_free(rd);
}

/* /dpntp/restrict: the rules with hits, drops and KoDs, keyed by their
 * place in match order (the first 256, a telemetry dict's limit). */
static int
tel_restrict(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct tel_rules tr = { .d = d };

	if (dpn_metrics_hold() == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	dpn_runtime_restrict_walk(tel_add_rule, &tr, RTE_TEL_MAX_DICT_ENTRIES);
	dpn_metrics_release();
	return 0;
}

struct tel_auth_keys {
	unsigned int nb;
	struct {
		uint32_t id;
		const char *type;
		struct dpn_auth_counters c;
	} k[DPN_METRICS_MAX_AUTH_KEYS];
};

static void
tel_add_auth_key(void *arg, uint32_t id, const char *type,
		 const struct dpn_auth_counters *c)
{
	struct tel_auth_keys *ta = arg;

	ta->k[ta->nb].id = id;
	ta->k[ta->nb].type = type;
	ta->k[ta->nb].c = *c;
	ta->nb++;
}

/*
 * /dpntp/auth: what `show auth` shows: the number of trusted keys, what
 * a request failing authentication gets ("nak" or "drop"), the
 * authentication counters summed over the lcores, then a dict per
 * trusted key keyed by its ID, next to them (one level of dicts, as
 * /dpntp/ports).
 */
static int
tel_auth(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dpn_runtime *ctx = dpn_metrics_hold();
	struct tel_auth_keys *ta;
	struct dpn_stats sum;
	unsigned int i, nb;
	bool nak;

	if (ctx == NULL)
		return -ENODEV;
	ta = calloc(1, sizeof(*ta));
	if (ta == NULL) {
		dpn_metrics_release();
		return -ENOMEM;
	}
	dpn_metrics_sum_stats(ctx->dp, &sum);
	nb = dpn_runtime_auth_walk(tel_add_auth_key, ta,
			       DPN_METRICS_MAX_AUTH_KEYS, &nak);
	dpn_metrics_release();
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "trusted_keys", (int)nb);
	rte_tel_data_add_dict_string(d, "authfail", nak ? "nak" : "drop");
	rte_tel_data_add_dict_u64(d, "unknown_key",
				  sum.c[DPN_STAT_NTP_AUTH_UNKNOWN_KEY]);
	rte_tel_data_add_dict_u64(d, "bad_mac",
				  sum.c[DPN_STAT_NTP_AUTH_BAD_MAC]);
	rte_tel_data_add_dict_u64(d, "naks_sent", sum.c[DPN_STAT_NTP_AUTH_NAK]);
	rte_tel_data_add_dict_u64(d, "dropped",
				  sum.c[DPN_STAT_NTP_AUTH_DROPPED]);
	rte_tel_data_add_dict_u64(d, "signed_replies",
				  sum.c[DPN_STAT_NTP_AUTH_SIGNED]);
	for (i = 0; i < ta->nb; i++) {
		struct rte_tel_data *kd = rte_tel_data_alloc();
		char key[12];

		if (kd == NULL)
			break;
		rte_tel_data_start_dict(kd);
		rte_tel_data_add_dict_int(kd, "key", (int)ta->k[i].id);
		rte_tel_data_add_dict_string(kd, "type", ta->k[i].type);
		rte_tel_data_add_dict_u64(kd, "requests", ta->k[i].c.requests);
		rte_tel_data_add_dict_u64(kd, "good", ta->k[i].c.good);
		rte_tel_data_add_dict_u64(kd, "bad", ta->k[i].c.bad);
		rte_tel_data_add_dict_u64(kd, "replies", ta->k[i].c.replies);
		snprintf(key, sizeof(key), "%u", (unsigned int)ta->k[i].id);
		if (rte_tel_data_add_dict_container(d, key, kd, 0) != 0)
			rte_tel_data_free(kd);
	}
	free(ta);
	return 0;
}

/*
 * /dpntp/nts: what `show nts` shows: {"enabled": 0} while NTS is off,
 * else the current key's ID (hex, never its material), its age (s), the
 * rotation period (s, 0 never) and rotations, the NTS-KE counters in a
 * "ke" dict, and the NTS packet counters summed over the lcores.
 */
static int
tel_nts(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dpn_runtime *ctx = dpn_metrics_hold();
	struct dpn_ntsserver_info in;
	struct rte_tel_data *ke;
	struct dpn_stats sum;
	char id[12];

	if (ctx == NULL)
		return -ENODEV;
	dpn_ntsserver_info(&in);
	dpn_metrics_sum_stats(ctx->dp, &sum);
	dpn_metrics_release();
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "enabled", in.enabled);
	if (!in.enabled)
		return 0;
	snprintf(id, sizeof(id), "%08" PRIX32, in.current_id);
	rte_tel_data_add_dict_string(d, "current_key", id);
	rte_tel_data_add_dict_u64(d, "key_age_s",
				  in.key_age_s > 0 ? (uint64_t)in.key_age_s : 0);
	rte_tel_data_add_dict_u64(d, "rotate_s", in.rotate_s);
	rte_tel_data_add_dict_u64(d, "rotations", in.rotations);
	ke = rte_tel_data_alloc();
	if (ke != NULL) {
		rte_tel_data_start_dict(ke);
		rte_tel_data_add_dict_u64(ke, "sessions", in.sessions);
		rte_tel_data_add_dict_u64(ke, "handshakes", in.ke.handshakes);
		rte_tel_data_add_dict_u64(ke, "handshake_failures",
					  in.ke.handshake_failures);
		rte_tel_data_add_dict_u64(ke, "served", in.ke.served);
		rte_tel_data_add_dict_u64(ke, "bad_requests",
					  in.ke.bad_requests);
		rte_tel_data_add_dict_u64(ke, "internal_errors",
					  in.ke.internal_errors);
		rte_tel_data_add_dict_u64(ke, "timeouts", in.ke.timeouts);
		rte_tel_data_add_dict_u64(ke, "aborted", in.ke.aborted);
		rte_tel_data_add_dict_u64(ke, "cookies", in.ke.cookies);
		if (rte_tel_data_add_dict_container(d, "ke", ke, 0) != 0)
			rte_tel_data_free(ke);
	}
	rte_tel_data_add_dict_u64(d, "replies",
				  sum.c[DPN_STAT_NTP_NTS_REPLIES]);
	rte_tel_data_add_dict_u64(d, "naks", sum.c[DPN_STAT_NTP_NTS_NAK]);
	rte_tel_data_add_dict_u64(d, "malformed",
				  sum.c[DPN_STAT_NTP_NTS_MALFORMED]);
	rte_tel_data_add_dict_u64(d, "off", sum.c[DPN_STAT_NTP_NTS_OFF]);
	rte_tel_data_add_dict_u64(d, "no_room",
				  sum.c[DPN_STAT_NTP_NTS_NO_ROOM]);
	return 0;
}

/* /dpntp/clock: the served clock, as `show sysinfo`. */
static int
tel_clock(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dpn_runtime *ctx = dpn_metrics_hold();
	struct dpn_metrics_clock c;

	if (ctx == NULL)
		return -ENODEV;
	dpn_metrics_read_clock(ctx, &c);
	dpn_metrics_release();
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "synchronized", c.synced);
	rte_tel_data_add_dict_string(d, "reference", c.reference);
	rte_tel_data_add_dict_int(d, "stratum", c.stratum);
	rte_tel_data_add_dict_int(d, "leap", c.leap);
	rte_tel_data_add_dict_string(d, "refid", c.refid);
	rte_tel_data_add_dict_int(d, "precision", c.precision);
	rte_tel_data_add_dict_int(d, "root_delay_ns",
				  clamp_int(c.root_delay_s * 1e9));
	rte_tel_data_add_dict_int(d, "root_dispersion_ns",
				  clamp_int(c.root_dispersion_s * 1e9));
	rte_tel_data_add_dict_int(d, "offset_ns", clamp_int(c.offset_s * 1e9));
	rte_tel_data_add_dict_int(d, "jitter_ns", clamp_int(c.jitter_s * 1e9));
	rte_tel_data_add_dict_int(d, "frequency_ppb",
				  clamp_int(c.frequency_ppm * 1e3));
	rte_tel_data_add_dict_u64(d, "samples", c.samples);
	rte_tel_data_add_dict_u64(d, "steps", c.steps);
	return 0;
}

/* /dpntp/health: the health verdict, and each check "ok" or "failing". */
static int
tel_health(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dpn_health_verdict v;
	unsigned int c;

	if (dpn_metrics_hold() == NULL)
		return -ENODEV;
	dpn_runtime_health_read(&v);
	dpn_metrics_release();
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "healthy", dpn_health_ok(&v));
	for (c = 0; c < DPN_HEALTH_NB_CHECKS; c++)
		rte_tel_data_add_dict_string(d, dpn_health_check_name(c),
					     (v.failing >> c) & 1 ?
					     "failing" : "ok");
	return 0;
}

/*
 * /dpntp/peers: the upstream NTP sources, a dict per source keyed by its
 * index (22.11's telemetry arrays cannot hold dicts).
 */
static int
tel_peers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dpn_metrics_snapshot s;
	unsigned int i;

	rte_tel_data_start_dict(d);
	if (dpn_metrics_collect(&s) != 0)
		return 0;
	for (i = 0; i < s.nb_sources; i++) {
		const struct dpn_metrics_source *m = &s.sources[i];
		struct rte_tel_data *p = rte_tel_data_alloc();
		char key[16];

		if (p == NULL)
			break;
		rte_tel_data_start_dict(p);
		rte_tel_data_add_dict_string(p, "remote", m->name);
		rte_tel_data_add_dict_string(p, "tally", m->tally);
		rte_tel_data_add_dict_int(p, "stratum", m->stratum);
		rte_tel_data_add_dict_int(p, "reach", m->reach);
		rte_tel_data_add_dict_int(p, "poll_s", (int)m->poll_s);
		rte_tel_data_add_dict_int(p, "offset_ns",
					  clamp_int(m->offset_s * 1e9));
		rte_tel_data_add_dict_int(p, "delay_ns",
					  clamp_int(m->delay_s * 1e9));
		rte_tel_data_add_dict_int(p, "jitter_ns",
					  clamp_int(m->jitter_s * 1e9));
		rte_tel_data_add_dict_int(p, "selected", m->selected);
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(d, key, p, 0);
	}
	dpn_metrics_snapshot_free(&s);
	return 0;
}

/* The refclock lines, held or not: 0, -ENODEV or -ENOMEM. */
static int
tel_read_refclocks(struct dpn_metrics_refclock **rc, unsigned int *nb)
{
	struct dpn_runtime *ctx = dpn_metrics_hold();
	int ret;

	*rc = NULL;
	*nb = 0;
	if (ctx == NULL)
		return -ENODEV;
	ret = dpn_metrics_read_refclocks(ctx, rc, nb);
	dpn_metrics_release();
	return ret;
}

/*
 * /dpntp/refclocks: the refclock lines as `show refclocks --json`
 * lists them, a dict per line keyed by its index among the lines.
 */
static int
tel_refclocks(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dpn_metrics_refclock *rc;
	unsigned int i, nb;
	int ret;

	ret = tel_read_refclocks(&rc, &nb);
	if (ret != 0)
		return ret;
	rte_tel_data_start_dict(d);
	for (i = 0; i < nb; i++) {
		const struct dpn_metrics_refclock *r = &rc[i];
		struct rte_tel_data *rd = rte_tel_data_alloc();
		char key[12];

		if (rd == NULL)
			break;
		rte_tel_data_start_dict(rd);
		rte_tel_data_add_dict_string(rd, "name", r->name);
		rte_tel_data_add_dict_string(rd, "type", r->type);
		rte_tel_data_add_dict_string(rd, "target", r->target);
		rte_tel_data_add_dict_string(rd, "refid", r->refid);
		rte_tel_data_add_dict_int(rd, "line", (int)r->line);
		rte_tel_data_add_dict_int(rd, "open", r->open);
		rte_tel_data_add_dict_int(rd, "up", r->open && r->up);
		rte_tel_data_add_dict_int(rd, "selected", r->selected);
		rte_tel_data_add_dict_string(rd, "tally", r->tally);
		rte_tel_data_add_dict_int(rd, "reach", (int)r->reach);
		rte_tel_data_add_dict_int(rd, "poll", r->poll);
		rte_tel_data_add_dict_u64(rd, "readings", r->readings);
		rte_tel_data_add_dict_u64(rd, "rejected", r->rejected);
		rte_tel_data_add_dict_u64(rd, "unnumbered", r->unnumbered);
		rte_tel_data_add_dict_u64(rd, "samples", r->samples);
		rte_tel_data_add_dict_u64(rd, "losses", r->losses);
		rte_tel_data_add_dict_int(rd, "offset_ns",
					  clamp_int(r->offset_s * 1e9));
		rte_tel_data_add_dict_int(rd, "disp_ns",
					  clamp_int(r->dispersion_s * 1e9));
		rte_tel_data_add_dict_int(rd, "jitter_ns",
					  clamp_int(r->jitter_s * 1e9));
		rte_tel_data_add_dict_int(rd, "last_reading_age_ms",
					  r->has_reading ?
					  clamp_int(r->last_reading_age_s *
						    1e3) : -1);
		rte_tel_data_add_dict_string(rd, "error", r->error);
		snprintf(key, sizeof(key), "%u", r->index);
		if (rte_tel_data_add_dict_container(d, key, rd, 0) != 0)
			rte_tel_data_free(rd);
	}
	free(rc);
	return 0;
}

/* One PTP slave's dict for /dpntp/ptp. */
static void
tel_ptp_one(struct rte_tel_data *pd, const struct dpn_metrics_refclock *r)
{
	const struct dpn_metrics_ptp *p = &r->ptp;

	rte_tel_data_start_dict(pd);
	rte_tel_data_add_dict_string(pd, "name", r->name);
	rte_tel_data_add_dict_int(pd, "port", (int)p->port);
	rte_tel_data_add_dict_int(pd, "domain", (int)p->domain);
	rte_tel_data_add_dict_string(pd, "transport", p->transport);
	rte_tel_data_add_dict_string(pd, "state", p->state);
	rte_tel_data_add_dict_int(pd, "selected", r->selected);
	rte_tel_data_add_dict_int(pd, "have_master", p->have_master);
	if (p->have_master) {
		rte_tel_data_add_dict_string(pd, "master", p->master);
		rte_tel_data_add_dict_string(pd, "grandmaster",
					     p->grandmaster);
		rte_tel_data_add_dict_int(pd, "priority1", (int)p->priority1);
		rte_tel_data_add_dict_int(pd, "clock_class",
					  (int)p->clock_class);
		rte_tel_data_add_dict_int(pd, "clock_accuracy",
					  (int)p->clock_accuracy);
		rte_tel_data_add_dict_int(pd, "variance", (int)p->variance);
		rte_tel_data_add_dict_int(pd, "priority2", (int)p->priority2);
		rte_tel_data_add_dict_int(pd, "steps_removed",
					  (int)p->steps_removed);
		rte_tel_data_add_dict_string(pd, "timescale",
					     p->ptp_timescale ? "ptp" : "arb");
		rte_tel_data_add_dict_int(pd, "utc_offset", p->utc_offset);
		rte_tel_data_add_dict_int(pd, "utc_offset_valid",
					  p->utc_offset_valid);
	}
	rte_tel_data_add_dict_int(pd, "offset_ns", clamp_int(p->offset_s * 1e9));
	rte_tel_data_add_dict_int(pd, "mean_path_delay_ns",
				  clamp_int(p->mean_path_delay_s * 1e9));
	rte_tel_data_add_dict_string(pd, "rx_stamps",
				     p->rx_stamps != NULL ? p->rx_stamps : "tsc");
	rte_tel_data_add_dict_string(pd, "tx_stamps",
				     p->tx_stamps != NULL ? p->tx_stamps : "tsc");
	rte_tel_data_add_dict_u64(pd, "rx_announce", p->rx_announce);
	rte_tel_data_add_dict_u64(pd, "rx_sync", p->rx_sync);
	rte_tel_data_add_dict_u64(pd, "rx_follow_up", p->rx_follow_up);
	rte_tel_data_add_dict_u64(pd, "rx_delay_resp", p->rx_delay_resp);
	rte_tel_data_add_dict_u64(pd, "tx_delay_req", p->tx_delay_req);
	rte_tel_data_add_dict_u64(pd, "rx_bad", p->rx_bad);
	rte_tel_data_add_dict_u64(pd, "rx_other_domain", p->rx_other_domain);
	rte_tel_data_add_dict_u64(pd, "rx_not_master", p->rx_not_master);
	rte_tel_data_add_dict_u64(pd, "rx_unmatched", p->rx_unmatched);
	rte_tel_data_add_dict_u64(pd, "delay_outliers", p->delay_outliers);
	rte_tel_data_add_dict_u64(pd, "master_changes", p->master_changes);
	rte_tel_data_add_dict_u64(pd, "announce_timeouts",
				  p->announce_timeouts);
	rte_tel_data_add_dict_u64(pd, "delay_resp_missing",
				  p->delay_resp_missing);
	rte_tel_data_add_dict_u64(pd, "rx_stamp_nic", p->rx_stamp_nic);
	rte_tel_data_add_dict_u64(pd, "rx_stamp_tsc", p->rx_stamp_tsc);
	rte_tel_data_add_dict_u64(pd, "tx_stamps_taken", p->tx_stamps_seen);
	rte_tel_data_add_dict_u64(pd, "tx_unstamped", p->tx_unstamped);
	rte_tel_data_add_dict_u64(pd, "tx_failed", p->tx_failed);
	rte_tel_data_add_dict_u64(pd, "igmp_reports", p->igmp_reports);
}

/*
 * /dpntp/ptp: the PTP slaves of `refclock ptp` lines as `show ptp
 * --json`, keyed by the line's index among the refclock lines (as in
 * /dpntp/refclocks); an empty dict without one.
 */
static int
tel_ptp(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dpn_metrics_refclock *rc;
	unsigned int i, nb;
	int ret;

	ret = tel_read_refclocks(&rc, &nb);
	if (ret != 0)
		return ret;
	rte_tel_data_start_dict(d);
	for (i = 0; i < nb; i++) {
		struct rte_tel_data *pd;
		char key[12];

		if (!rc[i].is_ptp)
			continue;
		pd = rte_tel_data_alloc();
		if (pd == NULL)
			break;
		tel_ptp_one(pd, &rc[i]);
		snprintf(key, sizeof(key), "%u", rc[i].index);
		if (rte_tel_data_add_dict_container(d, key, pd, 0) != 0)
			rte_tel_data_free(pd);
	}
	free(rc);
	return 0;
}

static void
tel_mempool_one(struct rte_mempool *mp, void *arg)
{
	struct rte_tel_data *d = arg, *pd = rte_tel_data_alloc();

	if (pd == NULL)
		return;
	rte_tel_data_start_dict(pd);
	rte_tel_data_add_dict_u64(pd, "size", mp->size);
	/* The pool and every lcore's cache, read without stopping them:
	 * a snapshot that may be a burst off. */
	rte_tel_data_add_dict_u64(pd, "available", rte_mempool_avail_count(mp));
	rte_tel_data_add_dict_u64(pd, "in_use", rte_mempool_in_use_count(mp));
	if (rte_tel_data_add_dict_container(d, mp->name, pd, 0) != 0)
		rte_tel_data_free(pd);
}

/*
 * /dpntp/mempools: every mempool with its size and the objects in use
 * (mbufs held by the ports, the workers and the rings): what leaks show
 * in. DPDK 22.11's /mempool/info has no count.
 */
static int
tel_mempools(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_mempool_walk(tel_mempool_one, d);
	return 0;
}

int
dpn_metrics_telemetry_register(void)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/dpntp/stats", tel_stats,
		  "dpntpd's counters summed over the lcores. No parameters." },
		{ "/dpntp/ports", tel_ports,
		  "Ports in use with their ethdev counters. No parameters." },
		{ "/dpntp/restrict", tel_restrict,
		  "restrict rules in match order with hits, drops, KoDs. "
		  "No parameters." },
		{ "/dpntp/auth", tel_auth,
		  "Trusted keys (keyed by ID) with their counters, authfail "
		  "and auth counters, as show auth. No parameters." },
		{ "/dpntp/nts", tel_nts,
		  "NTS server: current key ID and age, rotations, NTS-KE "
		  "counters (dict ke) and NTS packet counters, as show nts. "
		  "No parameters." },
		{ "/dpntp/clock", tel_clock,
		  "The served clock: sync, stratum, leap, refid, offset. "
		  "No parameters." },
		{ "/dpntp/health", tel_health,
		  "The health verdict: healthy 0/1 and each check ok or "
		  "failing, as show health. No parameters." },
		{ "/dpntp/peers", tel_peers,
		  "Upstream NTP sources as show peers lists them. No parameters." },
		{ "/dpntp/refclocks", tel_refclocks,
		  "Refclock lines (shm, sock, pps, phc, ptp) as show "
		  "refclocks lists them, keyed by index. No parameters." },
		{ "/dpntp/mempools", tel_mempools,
		  "Mempools with size, available and in_use objects (mbufs). "
		  "No parameters." },
		{ "/dpntp/ptp", tel_ptp,
		  "PTP slaves of refclock ptp lines as show ptp lists them, "
		  "keyed by refclock index; {} without one. No parameters." },
	};
	unsigned int i;
	int ret;

	for (i = 0; i < RTE_DIM(cmds); i++) {
		ret = rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn,
						 cmds[i].help);
		if (ret != 0)
			return ret;
	}
	return 0;
}
