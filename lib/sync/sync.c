/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The management lcore's clock work: sources, selection, discipline,
 * leap seconds, holdover, publishing. See dpn_sync.h.
 */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_mbuf_dyn.h>
#include <rte_log.h>
#include <rte_random.h>

#include "sync_private.h"

RTE_LOG_REGISTER(dpn_sync_logtype, dpntp.sync, INFO);
#define SYNC_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dpn_sync_logtype, "sync: " fmt "\n", \
		##__VA_ARGS__)

#define SEC_NS INT64_C(1000000000)
#define PUBLISH_INTERVAL_NS (SEC_NS / 10)
#define DRIFT_WRITE_INTERVAL_NS (3600 * SEC_NS)
#define LEAP_CHECK_INTERVAL_NS (86400 * SEC_NS)
#define LEAP_WARN_BEFORE_S (28 * 86400)
/* Reference and upstream samples this close to a leap are not used:
 * one side may have leapt and the other not yet. */
#define LEAP_GUARD_NS ((int64_t)2 * SEC_NS)
#define RESOLVE_RETRY_MIN_NS (2 * SEC_NS)
#define RESOLVE_RETRY_MAX_NS (300 * SEC_NS)
/* Messages a remote server can cause: at most one per this interval. */
#define LOG_INTERVAL_NS (10 * SEC_NS)
/* Frequency tolerance (RFC 5905 PHI): dispersion grows 15 ppm. */
#define PHI 15e-6

int64_t
sync_now_ns(const struct dpn_sync *sy)
{
	return dpn_clock_model_ns(&sy->disc.tracker.model, rte_rdtsc());
}

static bool
log_allowed(struct dpn_sync *sy, int64_t now)
{
	if (now < sy->log_next_ns)
		return false;
	sy->log_next_ns = now + LOG_INTERVAL_NS;
	return true;
}

void
sync_log_refused(struct dpn_sync *sy, const struct dpn_source *s,
		 enum dpn_source_verdict v)
{
	if (!log_allowed(sy, sync_now_ns(sy)))
		return;
	SYNC_LOG(NOTICE, "reply from %s refused: %s", s->conf.name,
		 dpn_source_verdict_str(v));
}

void
sync_log_auth_failed(struct dpn_sync *sy, const struct dpn_source *s,
		     uint32_t key)
{
	if (!log_allowed(sy, sync_now_ns(sy)))
		return;
	SYNC_LOG(NOTICE, "reply from %s refused: not signed with key %u (authentication failed)",
		 s->conf.name, key);
}

void
sync_log_unsent(struct dpn_sync *sy, const struct dpn_source *s,
		const char *why)
{
	if (!log_allowed(sy, sync_now_ns(sy)))
		return;
	SYNC_LOG(WARNING, "cannot poll %s: %s", s->conf.name, why);
}

static int64_t
poll_jitter(void *arg, int64_t max_ns)
{
	RTE_SET_USED(arg);
	if (max_ns <= 0)
		return 0;
	return (int64_t)(rte_rand() % (uint64_t)max_ns);
}

/*
 * Associations.
 */

static struct dpn_sync_assoc *
assoc_new(struct dpn_sync *sy, unsigned int ci, int family,
	  const uint8_t *addr, int64_t now)
{
	const struct dpn_conf_server *cs = &sy->servers[ci];
	struct dpn_source_conf c;
	struct dpn_sync_assoc *a = NULL;
	unsigned int i;

	for (i = 0; i < sy->nb_assoc; i++)
		if (!sy->assoc[i].in_use) {
			a = &sy->assoc[i];
			break;
		}
	if (a == NULL) {
		if (sy->nb_assoc == DPN_SYNC_MAX_ASSOC)
			return NULL;
		a = &sy->assoc[sy->nb_assoc++];
	}
	memset(a, 0, sizeof(*a));
	dpn_source_conf_init(&c);
	c.type = cs->pool ? DPN_SOURCE_TYPE_POOL : DPN_SOURCE_TYPE_UNICAST;
	c.family = family;
	memcpy(c.addr, addr, family == AF_INET ? 4 : 16);
	/* ntpq shows a pool's servers by address, a server as written. */
	if (cs->pool)
		inet_ntop(family, addr, c.name, sizeof(c.name));
	else
		snprintf(c.name, sizeof(c.name), "%s", cs->host);
	c.flags = ((cs->flags & DPN_CONF_SRV_IBURST) ? DPN_SOURCE_F_IBURST : 0) |
		((cs->flags & DPN_CONF_SRV_BURST) ? DPN_SOURCE_F_BURST : 0) |
		((cs->flags & DPN_CONF_SRV_PREFER) ? DPN_SOURCE_F_PREFER : 0) |
		((cs->flags & DPN_CONF_SRV_NOSELECT) ?
		 DPN_SOURCE_F_NOSELECT : 0) |
		((cs->flags & DPN_CONF_SRV_TRUE) ? DPN_SOURCE_F_TRUE : 0);
	c.minpoll = cs->minpoll;
	c.maxpoll = cs->maxpoll;
	c.version = cs->version;
	c.local_precision = sy->precision;
	if (dpn_source_init(&a->src, &c, now) != 0)
		return NULL;
	a->src.jitter_fn = poll_jitter;
	a->conf_index = ci;
	a->in_use = true;
	if (cs->key != 0) {
		const struct dpn_ntpauth_key *k =
			dpn_ntpauth_find(&sy->keys, cs->key);

		/* The parser checked it is there. */
		if (k != NULL) {
			a->key = *k;
			a->auth = true;
		}
	}
	return a;
}

static unsigned int
assoc_count(const struct dpn_sync *sy, unsigned int ci)
{
	unsigned int i, n = 0;

	for (i = 0; i < sy->nb_assoc; i++)
		if (sy->assoc[i].in_use && sy->assoc[i].conf_index == ci)
			n++;
	return n;
}

struct dpn_sync_assoc *
sync_find_assoc(struct dpn_sync *sy, int family, const uint8_t *addr)
{
	unsigned int i;

	for (i = 0; i < sy->nb_assoc; i++) {
		struct dpn_sync_assoc *a = &sy->assoc[i];

		if (a->in_use && a->src.conf.family == family &&
		    memcmp(a->src.conf.addr, addr,
			   family == AF_INET ? 4 : 16) == 0)
			return a;
	}
	return NULL;
}

/* Addresses found for line @p r->conf_index become associations. */
static void
take_resolved(struct dpn_sync *sy, const struct resolve_result *r,
	      int64_t now)
{
	unsigned int ci = r->conf_index, i;
	const struct dpn_conf_server *cs = &sy->servers[ci];
	unsigned int want = cs->pool ? DPN_SYNC_POOL_SIZE : 1;
	char text[INET6_ADDRSTRLEN];

	sy->resolving[ci] = false;
	if (r->error != 0) {
		int64_t wait = RESOLVE_RETRY_MIN_NS << RTE_MIN(
			sy->resolve_fails[ci], 8u);

		sy->resolve_fails[ci]++;
		if (wait > RESOLVE_RETRY_MAX_NS)
			wait = RESOLVE_RETRY_MAX_NS;
		sy->resolve_due_ns[ci] = now + wait;
		SYNC_LOG(WARNING, "%s %s (line %u): cannot resolve: %s; trying again in %" PRId64 " s",
			 cs->pool ? "pool" : "server", cs->host, cs->line,
			 gai_strerror(r->error), wait / SEC_NS);
		return;
	}
	sy->resolve_fails[ci] = 0;
	for (i = 0; i < r->nb && assoc_count(sy, ci) < want; i++) {
		if (sync_find_assoc(sy, r->family[i], r->addr[i]) != NULL)
			continue;
		if (assoc_new(sy, ci, r->family[i], r->addr[i], now) == NULL) {
			SYNC_LOG(WARNING, "%s: no room for more associations (at most %d)",
				 cs->host, DPN_SYNC_MAX_ASSOC);
			break;
		}
		inet_ntop(r->family[i], r->addr[i], text, sizeof(text));
		SYNC_LOG(INFO, "%s %s: association with %s", cs->pool ?
			 "pool" : "server", cs->host, text);
	}
	/* A pool that gave fewer than we want is asked again later. */
	if (assoc_count(sy, ci) < want)
		sy->resolve_due_ns[ci] = now + RESOLVE_RETRY_MAX_NS;
}

/* Ask for names that need (re)resolving; literals resolve here. */
static unsigned int
resolve_due(struct dpn_sync *sy, int64_t now)
{
	struct resolve_result *r;
	unsigned int ci, work = 0;

	while (sy->resolver != NULL && resolver_result(sy->resolver, &r)) {
		take_resolved(sy, r, now);
		free(r);
		work++;
	}
	for (ci = 0; ci < sy->nb_servers; ci++) {
		const struct dpn_conf_server *cs = &sy->servers[ci];
		unsigned int want = cs->pool ? DPN_SYNC_POOL_SIZE : 1;
		struct resolve_result lit;

		if (sy->resolving[ci] || now < sy->resolve_due_ns[ci] ||
		    assoc_count(sy, ci) >= want)
			continue;
		sy->resolve_due_ns[ci] = INT64_MAX;
		memset(&lit, 0, sizeof(lit));
		lit.conf_index = ci;
		if ((cs->family != AF_INET6 &&
		     inet_pton(AF_INET, cs->host, lit.addr[0]) == 1 &&
		     (lit.family[0] = AF_INET)) ||
		    (cs->family != AF_INET &&
		     inet_pton(AF_INET6, cs->host, lit.addr[0]) == 1 &&
		     (lit.family[0] = AF_INET6))) {
			lit.nb = 1;
			take_resolved(sy, &lit, now);
		} else if (sy->resolver != NULL &&
			   resolver_request(sy->resolver, ci, cs->host,
					    cs->family) == 0) {
			sy->resolving[ci] = true;
		} else {
			sy->resolve_due_ns[ci] = now + RESOLVE_RETRY_MIN_NS;
		}
		work++;
	}
	return work;
}

/*
 * A pool's server that stopped answering (or told us to go away) makes
 * room for another address of the pool, as ntpd's pool does.
 */
static void
retire_bad_pool_servers(struct dpn_sync *sy, int64_t now)
{
	unsigned int i;

	for (i = 0; i < sy->nb_assoc; i++) {
		struct dpn_sync_assoc *a = &sy->assoc[i];
		char text[INET6_ADDRSTRLEN];

		if (!a->in_use || a->src.conf.type != DPN_SOURCE_TYPE_POOL ||
		    !(a->src.demobilized ||
		      (a->src.reach == 0 && a->src.nb_sent >= 8)))
			continue;
		inet_ntop(a->src.conf.family, a->src.conf.addr, text,
			  sizeof(text));
		SYNC_LOG(NOTICE, "pool %s: dropping %s (%s), looking for another",
			 sy->servers[a->conf_index].host, text,
			 a->src.demobilized ? "kiss-o'-death" : "unreachable");
		a->in_use = false;
		if (sy->resolve_due_ns[a->conf_index] > now)
			sy->resolve_due_ns[a->conf_index] = now;
	}
}

/* Polls that are due. */
static unsigned int
poll_sources(struct dpn_sync *sy, int64_t now)
{
	unsigned int i, work = 0;

	for (i = 0; i < sy->nb_assoc; i++) {
		struct dpn_sync_assoc *a = &sy->assoc[i];

		if (a->in_use && now >= dpn_source_next_poll(&a->src))
			work += client_send(sy, a, now);
	}
	return work;
}

/*
 * Selection and discipline.
 */

static void
shift_source_times(struct dpn_source *s, int64_t d)
{
	unsigned int i;

	for (i = 0; i < DPN_SOURCE_FILTER_LEN; i++)
		if (s->filter[i].epoch_ns != 0)
			s->filter[i].epoch_ns += d;
	if (s->update_ns != 0)
		s->update_ns += d;
	if (s->last_rx_ns != 0)
		s->last_rx_ns += d;
	if (s->next_poll_ns != INT64_MAX)
		s->next_poll_ns += d;
}

/*
 * Offsets measured against our clock before it stepped by @p d, of a
 * source that did not move with it: what they would read now (as chrony
 * corrects its samples on a step), so that samples from both sides of
 * the step are never mixed in one filter.
 */
static void
shift_source_offsets(struct dpn_source *s, int64_t d)
{
	unsigned int i;

	for (i = 0; i < DPN_SOURCE_FILTER_LEN; i++)
		if (s->filter[i].epoch_ns != 0)
			s->filter[i].offset_ns -= d;
	if (s->update_ns != 0)
		s->offset_ns -= d;
}

/*
 * The host clock (`refclock system`) jumped and we followed it: its
 * samples from before the jump describe a clock that is gone. Only the
 * newest, which saw the jump, is kept, on the new scale.
 */
static void
ref_restart(struct dpn_source *s, int64_t d)
{
	unsigned int i, newest = DPN_SOURCE_FILTER_LEN;

	for (i = 0; i < DPN_SOURCE_FILTER_LEN; i++)
		if (s->filter[i].epoch_ns != 0 &&
		    (newest == DPN_SOURCE_FILTER_LEN ||
		     s->filter[i].epoch_ns > s->filter[newest].epoch_ns))
			newest = i;
	for (i = 0; i < DPN_SOURCE_FILTER_LEN; i++)
		if (i != newest)
			memset(&s->filter[i], 0, sizeof(s->filter[i]));
	if (newest != DPN_SOURCE_FILTER_LEN)
		s->filter[newest].offset_ns -= d;
	if (s->update_ns != 0)
		s->offset_ns -= d;
}

/* What made the clock step, which says which sources moved with it. */
enum step_cause {
	STEP_SERVED,	/* we stepped to a source: no source moved */
	STEP_HOST,	/* we followed the host clock, which jumped */
	STEP_LEAP,	/* a leap second: every source leaps with us */
};

/* The clock stepped by @p d: keep every time we hold on its scale. */
static void
clock_stepped(struct dpn_sync *sy, int64_t d, enum step_cause cause)
{
	unsigned int i;

	for (i = 0; i < sy->nb_assoc; i++) {
		shift_source_times(&sy->assoc[i].src, d);
		if (cause != STEP_LEAP)
			shift_source_offsets(&sy->assoc[i].src, d);
	}
	shift_source_times(&sy->ref, d);
	if (cause == STEP_SERVED)
		shift_source_offsets(&sy->ref, d);
	else if (cause == STEP_HOST)
		ref_restart(&sy->ref, d);
	for (i = 0; i < sy->nb_refclocks; i++)
		shift_source_times(&sy->refclocks[i].src, d);
	sync_refclocks_stepped(sy, d);
	if (sy->last_sync_ns != 0)
		sy->last_sync_ns += d;
	if (sy->peer_update_ns != 0)
		sy->peer_update_ns += d;
	sy->served.ref_ns += d;
	sy->next_publish_ns = 0;
}

static bool
near_leap(const struct dpn_sync *sy, int64_t now)
{
	return sy->leap_dir != 0 &&
		now > sy->leap_when_ns - LEAP_GUARD_NS &&
		now < sy->leap_when_ns + LEAP_GUARD_NS;
}

static void
apply_peer(struct dpn_sync *sy, struct dpn_source *peer, int64_t now)
{
	uint64_t tsc = rte_rdtsc();
	int64_t before = dpn_clock_model_ns(&sy->disc.tracker.model, tsc);
	enum dpn_discipline_action act;
	double slew = ldexp(1.0, peer->poll) / 2;
	int64_t jump = 4 * sy->sel.jitter_ns;

	if (jump < 1000000)
		jump = 1000000;
	act = dpn_discipline_update(&sy->disc, tsc, sy->sel.offset_ns, slew,
				    jump);
	SYNC_LOG(DEBUG, "update from %s: offset %+" PRId64 " ns, jitter %" PRId64 " ns, action %d, frequency %+.3f ppm",
		 peer->conf.name, sy->sel.offset_ns, sy->sel.jitter_ns, act,
		 dpn_discipline_freq_ppm(&sy->disc));
	switch (act) {
	case DPN_DISC_STEPPED:
		SYNC_LOG(NOTICE, "clock stepped by %+.6f s (source %s)",
			 (double)sy->sel.offset_ns / 1e9, peer->conf.name);
		clock_stepped(sy, dpn_clock_model_ns(&sy->disc.tracker.model,
						     tsc) - before, STEP_SERVED);
		now = sync_now_ns(sy);
		break;
	case DPN_DISC_SPIKE_IGNORED:
		if (log_allowed(sy, now))
			SYNC_LOG(WARNING, "offset %+.6f s above the step threshold: ignored until it lasts %g s (tinker stepout)",
				 (double)sy->sel.offset_ns / 1e9,
				 sy->dconf.stepout_s);
		return;
	case DPN_DISC_PANIC_REFUSED:
		if (log_allowed(sy, now))
			SYNC_LOG(ERR, "offset %+.0f s is above the panic threshold (tinker panic %g s): not applied; start dpntpd with --allow-big-step (-g) to accept it once",
				 (double)sy->sel.offset_ns / 1e9,
				 sy->dconf.panic_s);
		return;
	default:
		break;
	}
	sy->synced = true;
	sy->last_sync_ns = now;
	sy->served = sy->sel;
	{
		double f = dpn_discipline_freq_ppm(&sy->disc);

		sy->wander_ppm = sqrt(0.75 * sy->wander_ppm * sy->wander_ppm +
				      0.25 * (f - sy->last_freq_ppm) *
				      (f - sy->last_freq_ppm));
		sy->last_freq_ppm = f;
	}
}

void
sync_select(struct dpn_sync *sy, int64_t now)
{
	struct dpn_source *srcs[DPN_SYNC_MAX_ASSOC + 1 +
				DPN_CONF_MAX_REFCLOCKS];
	unsigned int n = 0, i;
	struct dpn_source *peer;

	if (sy->rs->conf.enabled)
		srcs[n++] = &sy->ref;
	for (i = 0; i < sy->nb_refclocks; i++)
		srcs[n++] = &sy->refclocks[i].src;
	for (i = 0; i < sy->nb_assoc; i++)
		if (sy->assoc[i].in_use)
			srcs[n++] = &sy->assoc[i].src;
	if (n == 0 || dpn_source_select(srcs, n, now, &sy->selp,
					 &sy->sel) != 0) {
		sy->sel.sys_peer = -1;
		return;
	}
	if (sy->sel.sys_peer < 0)
		return;
	peer = srcs[sy->sel.sys_peer];
	/* The reference is followed sample by sample (dpn_sync_poll). */
	if (peer == &sy->ref) {
		sy->served = sy->sel;
		return;
	}
	if (peer->update_ns == 0 || peer->update_ns == sy->peer_update_ns ||
	    near_leap(sy, now))
		return;
	sy->peer_update_ns = peer->update_ns;
	apply_peer(sy, peer, now);
}

/* A sample of `refclock system`: a source, and followed when selected. */
static void
refclock_sample(struct dpn_sync *sy, uint64_t tsc, int64_t real)
{
	int64_t model = dpn_clock_model_ns(&sy->disc.tracker.model, tsc);
	uint64_t steps = sy->disc.tracker.steps;

	if (near_leap(sy, model))
		return;
	dpn_source_refclock_sample(&sy->ref, real - model,
				   sy->rs->last_read_ns, model);
	sync_select(sy, model);
	/* The reference is srcs[0] of the selection when it is enabled. */
	if (sy->sel.sys_peer != DPN_SYNC_REFCLOCK_INDEX)
		return;
	dpn_discipline_follow(&sy->disc, tsc, real);
	if (sy->disc.tracker.steps != steps) {
		SYNC_LOG(NOTICE, "clock stepped by %+.6f s to the host clock",
			 (double)(real - model) / 1e9);
		clock_stepped(sy, real - model, STEP_HOST);
	}
	sy->synced = true;
	sy->last_sync_ns = real;
	sy->served = sy->sel;
}

/*
 * Leap seconds.
 */

static void
leap_refresh(struct dpn_sync *sy, int64_t now)
{
	int64_t when = 0, now_s = now / SEC_NS;
	int dir;

	if (!sy->leap_loaded)
		return;
	if (now >= sy->leap_check_ns) {
		sy->leap_check_ns = now + LEAP_CHECK_INTERVAL_NS;
		if (dpn_leap_expired(&sy->leap, now_s))
			SYNC_LOG(WARNING, "leap second file %s expired; get a fresh copy (IERS/NIST leap-seconds.list)",
				 sy->dconf.leapfile);
		else if (sy->leap.expires_unix - now_s < LEAP_WARN_BEFORE_S)
			SYNC_LOG(WARNING, "leap second file %s expires in %" PRId64 " days",
				 sy->dconf.leapfile,
				 (sy->leap.expires_unix - now_s) / 86400);
	}
	if (sy->leap_done && now < sy->leap_when_ns + 86400 * SEC_NS)
		return;
	dir = dpn_leap_next(&sy->leap, now_s, &when);
	if (dir != sy->leap_dir || when * SEC_NS != sy->leap_when_ns) {
		sy->leap_dir = dir;
		sy->leap_when_ns = when * SEC_NS;
		sy->leap_done = false;
		if (dir != 0)
			SYNC_LOG(NOTICE, "leap second file: a second will be %s at %" PRId64 " (Unix), %s",
				 dir > 0 ? "inserted" : "deleted", when,
				 sy->dconf.leapsmear_s ? "smeared" :
				 "stepped at 23:59:60");
	}
}

/*
 * At the leap itself, the true clock repeats (insertion) or skips
 * (deletion) a second, as POSIX time and the upstream servers do.
 */
static void
leap_step(struct dpn_sync *sy)
{
	uint64_t tsc;
	int64_t now;

	if (sy->leap_dir == 0 || sy->leap_done)
		return;
	tsc = rte_rdtsc();
	now = dpn_clock_model_ns(&sy->disc.tracker.model, tsc);
	if (now < sy->leap_when_ns)
		return;
	dpn_clock_tracker_step(&sy->disc.tracker, tsc,
			       now - sy->leap_dir * SEC_NS);
	sy->leap_done = true;
	clock_stepped(sy, -sy->leap_dir * SEC_NS, STEP_LEAP);
	SYNC_LOG(NOTICE, "leap second %s", sy->leap_dir > 0 ? "inserted" :
		 "deleted");
}

int64_t
sync_smear_of(const struct dpn_sync *sy, int64_t true_ns,
	      double *rate_scale)
{
	*rate_scale = 1.0;
	if (!sy->leap_loaded)
		return 0;
	return dpn_leap_smear(sy->leap_dir, sy->leap_when_ns, sy->leap_done,
			      (int64_t)sy->dconf.leapsmear_s * SEC_NS,
			      true_ns, rate_scale);
}

static unsigned int
served_leap(const struct dpn_sync *sy, int64_t now)
{
	/* A smeared leap second is not announced: the time never jumps. */
	if (sy->dconf.leapsmear_s != 0 && sy->leap_loaded)
		return DPN_NTP_LEAP_NONE;
	if (sy->leap_loaded)
		return dpn_leap_indicator(sy->leap_dir, sy->leap_when_ns,
					  sy->leap_done, now);
	return sy->served.leap == DPN_NTP_LEAP_ALARM ? DPN_NTP_LEAP_NONE :
		sy->served.leap;
}

/*
 * Publishing.
 */

static void
view_update(struct dpn_sync *sy, int64_t now, bool synced, bool holdover,
	    unsigned int leap, int64_t root_disp, int64_t smear)
{
	struct dpn_sync_view *v = &sy->view;
	unsigned int i, n = 0;

	rte_spinlock_lock(&sy->view_lock);
	if (sy->rs->conf.enabled)
		v->sources[n++] = sy->ref;
	sync_refclocks_view(sy, v, n);
	for (i = 0; i < sy->nb_refclocks; i++)
		v->sources[n++] = sy->refclocks[i].src;
	for (i = 0; i < sy->nb_assoc; i++)
		if (sy->assoc[i].in_use)
			v->sources[n++] = sy->assoc[i].src;
	v->nb_sources = n;
	v->sel = sy->sel;
	v->synced = synced;
	v->holdover = holdover;
	v->leap = synced ? leap : DPN_NTP_LEAP_ALARM;
	v->stratum = synced ? sy->served.stratum : DPN_NTP_STRATUM_UNSYNC;
	v->refid = synced ? sy->served.refid : dpn_ntp_refid_from_str("INIT");
	v->ref_ns = synced ? sy->last_sync_ns : 0;
	v->root_delay_ns = synced ? sy->served.root_delay_ns : 0;
	v->root_disp_ns = root_disp;
	v->precision = sy->precision;
	v->now_ns = now;
	v->offset_ns = sy->disc.last_offset_ns;
	v->freq_ppm = dpn_discipline_freq_ppm(&sy->disc);
	v->sys_jitter_ns = sy->sel.jitter_ns;
	v->clk_wander_ppm = sy->wander_ppm;
	v->disc_state = sy->disc.state;
	v->steps = sy->disc.steps;
	v->leap_mode = !sy->leap_loaded ? DPN_SYNC_LEAP_NONE :
		sy->dconf.leapsmear_s ? DPN_SYNC_LEAP_SMEAR : DPN_SYNC_LEAP_STEP;
	v->leap_next = sy->leap_done ? 0 : sy->leap_dir;
	v->leap_when_s = sy->leap_when_ns / SEC_NS;
	v->leap_expires_s = sy->leap_loaded ? sy->leap.expires_unix : 0;
	v->smear_ns = smear;
	v->tai_offset = sy->leap_loaded ?
		dpn_leap_tai_offset(&sy->leap, now / SEC_NS) : 0;
	rte_spinlock_unlock(&sy->view_lock);
}

static void
publish(struct dpn_sync *sy)
{
	struct dpn_clock_snapshot snap;
	uint64_t tsc = rte_rdtsc();
	const struct dpn_clock_model *m = &sy->disc.tracker.model;
	int64_t now = dpn_clock_model_ns(m, tsc);
	int64_t age, root_disp = 0, smear;
	bool synced = false, holdover = false;
	unsigned int leap = DPN_NTP_LEAP_ALARM;
	double scale;

	if (sy->synced) {
		age = now - sy->last_sync_ns;
		holdover = sy->sel.sys_peer < 0;
		synced = !holdover ||
			age < (int64_t)sy->dconf.holdover_s * SEC_NS;
		if (!synced && sy->synced)
			SYNC_LOG(WARNING, "no source for %u s (holdover): serving unsynchronized (leap 3, stratum 16)",
				 sy->dconf.holdover_s);
		sy->synced = synced;
		/* What we know of our error grows while nobody tells us. */
		root_disp = sy->served.root_disp_ns +
			(int64_t)(PHI * (double)(age > 0 ? age : 0));
	}
	if (synced)
		leap = served_leap(sy, now);

	dpn_clock_read(sy->dp->clock, &snap);
	smear = sync_smear_of(sy, now, &scale);
	dpn_clock_model_set(&snap.tsc, tsc, now + smear,
			    dpn_clock_model_rate(m) * scale);
	snap.synced = synced;
	if (synced)
		dpn_ntp_sysinfo_set(&snap.sysinfo, true, leap,
				    sy->served.stratum, sy->precision,
				    sy->served.root_delay_ns, root_disp,
				    sy->served.refid, sy->last_sync_ns);
	else
		dpn_ntp_sysinfo_set(&snap.sysinfo, false, DPN_NTP_LEAP_ALARM,
				    DPN_NTP_STRATUM_UNSYNC, sy->precision, 0, 0,
				    dpn_ntp_refid_from_str("INIT"), 0);
	dpn_clock_publish(sy->dp->clock, &snap);
	sy->root_disp_ns = root_disp;
	dpn_nic_clock_poll(sy->dp);
	view_update(sy, now, synced, holdover && synced, leap, root_disp,
		    smear);
}

void
dpn_sync_health_read(const struct dpn_sync *sy, struct dpn_sync_health *out)
{
	out->synced = sy->synced;
	out->has_reference = sy->sel.sys_peer >= 0;
	/* The holdover's clock: the served time since the last update. */
	out->reference_age_ns = sy->last_sync_ns == 0 ? -1 :
		dpn_clock_model_ns(&sy->disc.tracker.model, rte_rdtsc()) -
		sy->last_sync_ns;
	out->offset_ns = sy->disc.last_offset_ns;
	out->root_distance_ns = sy->synced ?
		sy->served.root_delay_ns / 2 + sy->root_disp_ns : 0;
}

/*
 * Drift file.
 */

static void
drift_load(struct dpn_sync *sy)
{
	const char *path = sy->dconf.driftfile;
	char err[256] = "";
	uint64_t hz = 0;
	double ppm;
	int ret;

	if (path[0] == '\0')
		return;
	ret = dpn_driftfile_read(path, &ppm, &hz, err, sizeof(err));
	if (ret == -ENOENT) {
		SYNC_LOG(INFO, "drift file %s does not exist yet; it will be written once the frequency is known",
			 path);
		return;
	}
	if (ret != 0) {
		SYNC_LOG(WARNING, "drift file ignored: %s", err);
		return;
	}
	ppm = dpn_driftfile_convert(ppm, hz != 0 ? hz : sy->disc.counter_hz,
				    sy->disc.counter_hz);
	if (dpn_discipline_set_freq_ppm(&sy->disc, ppm) != 0)
		SYNC_LOG(WARNING, "drift file %s: %.3f ppm is not believable; ignored",
			 path, ppm);
	else
		SYNC_LOG(INFO, "frequency %+.3f ppm from %s", ppm, path);
}

static void
drift_save(struct dpn_sync *sy)
{
	char err[300] = "";

	if (sy->dconf.driftfile[0] == '\0' || sy->disc.updates == 0)
		return;
	if (dpn_driftfile_write(sy->dconf.driftfile,
				dpn_discipline_freq_ppm(&sy->disc),
				sy->disc.counter_hz, err, sizeof(err)) == 0) {
		sy->drift_warned = false;
		return;
	}
	if (!sy->drift_warned)
		SYNC_LOG(ERR, "cannot write the drift file: %s; its directory must be writable by the user dpntpd runs as (root); serving on",
			 err);
	sy->drift_warned = true;
}

/*
 * Life.
 */

int
dpn_sync_init(struct dpn_sync *sy, struct dpn_dataplane *dp,
	      const struct dpn_conf *conf, struct dpn_refclock_system *rs,
	      bool allow_big_step, char *err, size_t errlen)
{
	const struct dpn_conf_discipline *d = &conf->disc;
	struct dpn_discipline_params p = {
		.step_ns = (int64_t)(d->step_s * 1e9),
		.panic_ns = (int64_t)(d->panic_s * 1e9),
		.stepout_ns = (int64_t)(d->stepout_s * 1e9),
		.allow_big_step = allow_big_step,
	};
	char lerr[512];
	unsigned int i;

	memset(sy, 0, sizeof(*sy));
	sy->dp = dp;
	sy->rs = rs;
	sy->dconf = *d;
	sy->nb_servers = conf->nb_servers;
	memcpy(sy->servers, conf->servers,
	       conf->nb_servers * sizeof(conf->servers[0]));
	sy->keys = conf->keys;
	sy->precision = rs->precision;
	sy->sel.sys_peer = -1;
	rte_spinlock_init(&sy->view_lock);
	sy->rx_tsc_off = dpn_rx_tsc_dynfield_register();
	/* As the workers do (port.c): also where a PMD stamps without
	 * offering the offload (net_pcap), so that server replies' T4 and
	 * PTP event messages get the stamp the workers' T2 gets. */
	if (rte_mbuf_dyn_rx_timestamp_register(&sy->ts_off,
					       &sy->ts_flag) != 0)
		sy->ts_off = -1;
	if (sy->rx_tsc_off < 0) {
		snprintf(err, errlen, "cannot find the receive-time mbuf field");
		return -1;
	}
	dpn_discipline_init(&sy->disc, &p, rte_get_tsc_hz(), rs->seed_tsc,
			    rs->seed_ns);
	dpn_select_params_init(&sy->selp);
	sy->selp.minsane = d->minsane;
	sy->selp.minclock = d->minclock;
	sy->selp.maxdist_ns = (int64_t)(d->maxdist_s * 1e9);
	/* Start from the TSC rate the host measures. */
	if (dpn_clock_tracker_set_rate(&sy->disc.tracker,
				       dpn_refclock_system_calibrate()) != 0)
		SYNC_LOG(WARNING, "the TSC rate measured against the host clock is not believable; using DPDK's");
	else
		SYNC_LOG(INFO, "TSC: %" PRIu64 " Hz nominal, %+.3f ppm measured against the host clock",
			 sy->disc.counter_hz,
			 dpn_discipline_freq_ppm(&sy->disc));
	drift_load(sy);
	sy->last_freq_ppm = dpn_discipline_freq_ppm(&sy->disc);

	if (rs->conf.enabled) {
		struct dpn_source_conf c;

		dpn_source_conf_init(&c);
		c.type = DPN_SOURCE_TYPE_REFCLOCK;
		snprintf(c.name, sizeof(c.name), "SYSTEM(0)");
		memcpy(c.refid, rs->conf.refid, sizeof(c.refid));
		c.precision = rs->precision;
		c.local_precision = rs->precision;
		c.stratum = rs->conf.stratum - 1;
		c.minpoll = DPN_SOURCE_POLL_LIMIT_MIN;
		c.maxpoll = DPN_SOURCE_POLL_LIMIT_MIN;
		if (dpn_source_init(&sy->ref, &c, rs->seed_ns) != 0) {
			snprintf(err, errlen, "refclock system: bad source settings");
			return -1;
		}
	}
	if (d->leapfile[0] != '\0') {
		if (dpn_leap_load(d->leapfile, &sy->leap, lerr,
				  sizeof(lerr)) != 0)
			SYNC_LOG(ERR, "leapfile: %s; serving without leap second announcements",
				 lerr);
		else
			sy->leap_loaded = true;
	}
	if (conf->nb_servers > 0) {
		sy->resolver = resolver_start(err, errlen);
		if (sy->resolver == NULL)
			return -1;
	}
	dp->ntp_reply = client_on_reply;
	dp->ntp_reply_arg = sy;
	if (sync_refclocks_init(sy, conf, err, errlen) != 0) {
		/* The caller stops nothing of a failed init: no thread may
		 * outlive it. */
		dp->ntp_reply = NULL;
		resolver_stop(sy->resolver);
		sy->resolver = NULL;
		return -1;
	}
	/*
	 * A reference read directly fills its clock filter at once, so that
	 * a server with `refclock system` answers synchronized from its
	 * first packet, as it did before it had upstream sources.
	 */
	for (i = 0; rs->conf.enabled && i < DPN_SOURCE_FILTER_LEN; i++) {
		uint64_t tsc;
		int64_t real;

		rs->next_poll_ns = 0;
		if (dpn_refclock_system_sample(rs, &tsc, &real))
			refclock_sample(sy, tsc, real);
	}
	sy->drift_write_ns = rs->seed_ns + DRIFT_WRITE_INTERVAL_NS;
	publish(sy);
	return 0;
}

unsigned int
dpn_sync_poll(struct dpn_sync *sy)
{
	unsigned int work = 0;
	uint64_t tsc;
	int64_t real, now;

	leap_step(sy);
	if (dpn_discipline_tick(&sy->disc, rte_rdtsc()))
		sy->next_publish_ns = 0;
	if (dpn_refclock_system_sample(sy->rs, &tsc, &real)) {
		refclock_sample(sy, tsc, real);
		work++;
	}
	work += sync_refclocks_poll(sy);
	now = sync_now_ns(sy);
	if (sy->nb_servers > 0) {
		work += resolve_due(sy, now);
		retire_bad_pool_servers(sy, now);
		work += poll_sources(sy, now);
	}
	if (now >= sy->next_publish_ns) {
		sync_select(sy, now);
		leap_refresh(sy, now);
		publish(sy);
		sy->next_publish_ns = now + PUBLISH_INTERVAL_NS;
		work++;
	}
	if (now >= sy->drift_write_ns) {
		drift_save(sy);
		sy->drift_write_ns = now + DRIFT_WRITE_INTERVAL_NS;
	}
	return work;
}

void
dpn_sync_fini(struct dpn_sync *sy)
{
	sy->dp->ntp_reply = NULL;
	sync_refclocks_fini(sy);
	drift_save(sy);
	resolver_stop(sy->resolver);
	sy->resolver = NULL;
}

void
dpn_sync_view_read(struct dpn_sync *sy, struct dpn_sync_view *out)
{
	rte_spinlock_lock(&sy->view_lock);
	memcpy(out, &sy->view, sizeof(*out));
	rte_spinlock_unlock(&sy->view_lock);
}
