/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The refclock lines at work: each is a source of the selection, fed by
 * its driver (lib/refclock: SHM, SOCK, PPS, PHC) or by the built-in PTP
 * slave (ptp.c), as chrony's refclocks are:
 *
 * - A driver's reading pairs the reference's time with the host's
 *   CLOCK_REALTIME; the host time is carried onto the server clock
 *   through a (TSC, CLOCK_REALTIME) pair read at once, which holds to
 *   tens of nanoseconds over the few milliseconds a reading waits.
 * - A pulse (PPS, or a SOCK pulse) only gives the phase of the second:
 *   the `lock` refclock's offset, or without one the served clock once
 *   synchronized, says which second it was.
 * - The readings of a poll interval (2^poll s) are filtered into one
 *   sample (median filter), which the source's clock filter, selection
 *   and the discipline take like any NTP sample.
 * - A refclock with no readings for DPN_SYNC_REFCLOCK_LOST_POLLS polls
 *   is unreachable: deselected, with one log line; holdover follows.
 *
 * Drivers never block: SHM is a memory read, SOCK a non-blocking
 * recv, PPS a fetch with a zero timeout, PHC one ioctl a second.
 */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_log.h>

#include "sync_private.h"

RTE_LOG_REGISTER(dpn_refclock_logtype, dpntp.refclock, INFO);
#define REF_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dpn_refclock_logtype, "refclock: " fmt "\n", \
		##__VA_ARGS__)

#define SEC_NS INT64_C(1000000000)
/* How often the drivers are read: a reading carries its own time, so
 * this only bounds how long it waits. PHC is read at chrony's dpoll 0. */
#define READ_INTERVAL_NS (SEC_NS / 20)
#define PHC_READ_INTERVAL_NS SEC_NS
/* A driver that cannot be opened is tried again this often. */
#define REOPEN_INTERVAL_NS (10 * SEC_NS)
/* Readings older than this (a writer that stopped, a segment left
 * valid) or from the future are refused. */
#define READING_MAX_AGE_NS (4 * SEC_NS)
#define READING_MAX_AHEAD_NS (SEC_NS / 2)
/* A pulse is numbered only when its second is clear: the estimate of
 * the true time at the edge within this of a whole second. */
#define PULSE_MAX_PHASE_NS (4 * SEC_NS / 10)
/* Default precision of a refclock without `precision` (log2 s). */
#define REF_PRECISION_DEFAULT -20

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SEC_NS + ts.tv_nsec;
}

static int64_t
poll_ns(const struct sync_refclock *r)
{
	return (int64_t)ldexp((double)SEC_NS, r->conf.poll);
}

/* "SHM(0)", "PPS(pps0)", "PTP(0)": the name ntpq -p shows. */
static void
ref_name(const struct dpn_conf_refclock *c, char *buf, size_t len)
{
	const char *type = dpn_conf_refclock_type_str(c->type);
	const char *base = strrchr(c->path, '/');
	char up[8];
	unsigned int i;

	for (i = 0; type[i] != '\0' && i < sizeof(up) - 1; i++)
		up[i] = (char)(type[i] - ('a' - 'A'));
	up[i] = '\0';
	if (c->type == DPN_CONF_REFCLOCK_SHM)
		snprintf(buf, len, "%s(%u)", up, c->unit);
	else if (c->type == DPN_CONF_REFCLOCK_PTP)
		snprintf(buf, len, "%s(%u)", up, c->port);
	else
		snprintf(buf, len, "%s(%s)", up, base != NULL ? base + 1 :
			 c->path);
}

static int
driver_open(struct sync_refclock *r)
{
	const struct dpn_conf_refclock *c = &r->conf;
	int ret;

	r->error[0] = '\0';
	switch (c->type) {
	case DPN_CONF_REFCLOCK_SHM:
		ret = dpn_refclock_shm_open(&r->drv.shm, c->unit, c->perm,
					    r->error, sizeof(r->error));
		break;
	case DPN_CONF_REFCLOCK_SOCK:
		ret = dpn_refclock_sock_open(&r->drv.sock, c->path, r->error,
					     sizeof(r->error));
		break;
	case DPN_CONF_REFCLOCK_PPS:
		ret = dpn_refclock_pps_open(&r->drv.pps, c->path,
					    c->flags & DPN_CONF_REF_CLEAR, NULL,
					    r->error, sizeof(r->error));
		break;
	case DPN_CONF_REFCLOCK_PHC:
		ret = dpn_refclock_phc_open(&r->drv.phc, c->path, NULL,
					    r->error, sizeof(r->error));
		break;
	default:
		return 0;	/* PTP: ptp.c */
	}
	r->open = ret == 0;
	return ret;
}

static void
driver_close(struct sync_refclock *r)
{
	if (!r->open)
		return;
	switch (r->conf.type) {
	case DPN_CONF_REFCLOCK_SHM:
		dpn_refclock_shm_close(&r->drv.shm);
		break;
	case DPN_CONF_REFCLOCK_SOCK:
		dpn_refclock_sock_close(&r->drv.sock);
		break;
	case DPN_CONF_REFCLOCK_PPS:
		dpn_refclock_pps_close(&r->drv.pps);
		break;
	case DPN_CONF_REFCLOCK_PHC:
		dpn_refclock_phc_close(&r->drv.phc);
		break;
	default:
		break;
	}
	r->open = false;
}

/* One reading of the driver: 1 taken, 0 none, < 0 refused. */
static int
driver_read(struct sync_refclock *r, struct dpn_refclock_reading *rd)
{
	switch (r->conf.type) {
	case DPN_CONF_REFCLOCK_SHM:
		return dpn_refclock_shm_read(&r->drv.shm, rd);
	case DPN_CONF_REFCLOCK_SOCK:
		return dpn_refclock_sock_read(&r->drv.sock, rd);
	case DPN_CONF_REFCLOCK_PPS:
		return dpn_refclock_pps_read(&r->drv.pps, rd);
	case DPN_CONF_REFCLOCK_PHC:
		return dpn_refclock_phc_sample(&r->drv.phc, rd);
	default:
		return 0;
	}
}

static struct sync_refclock *
find_refid(struct dpn_sync *sy, const char *refid)
{
	unsigned int i;

	for (i = 0; i < sy->nb_refclocks; i++)
		if (strncmp(sy->refclocks[i].conf.refid, refid, 4) == 0)
			return &sy->refclocks[i];
	return NULL;
}

/*
 * The offset of a pulse seen at server time @p at: which second it was
 * comes from the locked refclock's last offset, or from the served clock
 * itself. @return false when that cannot be told.
 */
static bool
number_pulse(struct dpn_sync *sy, const struct sync_refclock *r, int64_t at,
	     int64_t *offset)
{
	int64_t est, second;

	if (r->conf.lock[0] != '\0') {
		struct sync_refclock *l = find_refid(sy, r->conf.lock);

		if (l == NULL || l->src.update_ns == 0 ||
		    !dpn_source_reachable(&l->src))
			return false;
		est = at + l->src.offset_ns;
	} else {
		if (!sy->synced)
			return false;
		est = at;
	}
	second = (est + (est >= 0 ? SEC_NS / 2 : -SEC_NS / 2)) / SEC_NS *
		SEC_NS;
	if (llabs(est - second) > PULSE_MAX_PHASE_NS)
		return false;
	*offset = second - at;
	return true;
}

/* The server clock at the host's CLOCK_REALTIME instant @p sys_ns. */
static int64_t
host_to_server(const struct dpn_sync *sy, int64_t sys_ns, int64_t *age)
{
	uint64_t tsc;
	int64_t real;

	dpn_refclock_system_pair(&tsc, &real);
	*age = real - sys_ns;
	return dpn_clock_model_ns(&sy->disc.tracker.model, tsc) - *age;
}

void
sync_refclock_offset(struct dpn_sync *sy, struct sync_refclock *r,
		     int64_t offset_ns, int64_t at_ns, int leap)
{
	r->readings++;
	r->last_reading_ns = at_ns;
	r->leap = leap;
	dpn_refclock_filter_add(&r->filter,
				offset_ns + (int64_t)(r->conf.offset_s * 1e9),
				at_ns);
	RTE_SET_USED(sy);
}

static void
take_reading(struct dpn_sync *sy, struct sync_refclock *r,
	     const struct dpn_refclock_reading *rd)
{
	int64_t age, at = host_to_server(sy, rd->sys_ns, &age), offset;

	if (age > READING_MAX_AGE_NS || age < -READING_MAX_AHEAD_NS) {
		r->rejected++;
		return;
	}
	if (rd->pulse) {
		if (!number_pulse(sy, r, at, &offset)) {
			r->unnumbered++;
			return;
		}
	} else {
		offset = rd->ref_ns - at;
	}
	sync_refclock_offset(sy, r, offset, at, rd->leap);
}

static unsigned int
read_driver(struct dpn_sync *sy, struct sync_refclock *r, int64_t mono)
{
	struct dpn_refclock_reading rd;
	unsigned int work = 0, i;
	int ret;

	if (!r->open) {
		if (mono < r->reopen_ns)
			return 0;
		r->reopen_ns = mono + REOPEN_INTERVAL_NS;
		if (driver_open(r) != 0)
			return 1;
		REF_LOG(NOTICE, "%s (line %u): open", r->src.conf.name,
			r->conf.line);
	}
	if (mono < r->next_read_ns)
		return 0;
	r->next_read_ns = mono + (r->conf.type == DPN_CONF_REFCLOCK_PHC ?
				  PHC_READ_INTERVAL_NS : READ_INTERVAL_NS);
	/* A socket may hold several datagrams; the others give one. */
	for (i = 0; i < DPN_REFCLOCK_FILTER_MAX; i++) {
		ret = driver_read(r, &rd);
		if (ret == 0)
			break;
		work++;
		if (ret < 0) {
			r->rejected++;
			if (r->conf.type == DPN_CONF_REFCLOCK_PHC ||
			    r->conf.type == DPN_CONF_REFCLOCK_PPS)
				break;
			continue;
		}
		take_reading(sy, r, &rd);
		if (r->conf.type != DPN_CONF_REFCLOCK_SOCK)
			break;
	}
	return work;
}

/* The end of a poll interval: the filtered sample, or a missed poll. */
static void
poll_end(struct dpn_sync *sy, struct sync_refclock *r, int64_t now)
{
	int64_t offset, at, disp;

	if (dpn_refclock_filter_take(&r->filter, &offset, &at, &disp) > 0) {
		dpn_source_refclock_sample(&r->src, offset, disp, at);
		r->src.leap = r->leap;
		r->samples++;
		r->offset_ns = offset;
		r->disp_ns = disp;
		r->missed = 0;
		if (!r->up)
			REF_LOG(NOTICE, "%s: delivering (offset %+.9f s)",
				r->src.conf.name, (double)offset / 1e9);
		r->up = true;
		sync_select(sy, now);
		return;
	}
	dpn_source_refclock_missed(&r->src);
	if (++r->missed == DPN_SYNC_REFCLOCK_LOST_POLLS && r->up) {
		r->up = false;
		r->losses++;
		REF_LOG(WARNING, "%s: no readings for %u polls (%g s): deselected%s%s",
			r->src.conf.name, DPN_SYNC_REFCLOCK_LOST_POLLS,
			(double)DPN_SYNC_REFCLOCK_LOST_POLLS *
			ldexp(1.0, r->conf.poll),
			r->error[0] != '\0' ? "; last error: " : "",
			r->error);
		sync_select(sy, now);
	}
}

unsigned int
sync_refclocks_poll(struct dpn_sync *sy)
{
	int64_t mono = mono_ns(), now;
	unsigned int i, work = 0;

	for (i = 0; i < sy->nb_refclocks; i++) {
		struct sync_refclock *r = &sy->refclocks[i];

		if (r->conf.type == DPN_CONF_REFCLOCK_PTP)
			work += sync_ptp_poll(sy, r);
		else
			work += read_driver(sy, r, mono);
		if (mono >= r->poll_end_mono) {
			now = sync_now_ns(sy);
			r->poll_end_mono += poll_ns(r);
			if (r->poll_end_mono < mono)
				r->poll_end_mono = mono + poll_ns(r);
			poll_end(sy, r, now);
			work++;
		}
	}
	return work;
}

void
sync_refclocks_stepped(struct dpn_sync *sy, int64_t d)
{
	unsigned int i, j;

	for (i = 0; i < sy->nb_refclocks; i++) {
		struct sync_refclock *r = &sy->refclocks[i];

		for (j = 0; j < r->filter.n; j++) {
			r->filter.at_ns[j] += d;
			/* The reference did not move: our clock did. */
			r->filter.offset_ns[j] -= d;
		}
		if (r->last_reading_ns != 0)
			r->last_reading_ns += d;
		if (r->ptp != NULL)
			sync_ptp_stepped(r, d);
	}
}

int
sync_refclocks_init(struct dpn_sync *sy, const struct dpn_conf *conf,
		    char *err, size_t errlen)
{
	int64_t now = sync_now_ns(sy), mono = mono_ns();
	unsigned int i;

	sy->nb_refclocks = 0;
	if (conf->nb_refclocks == 0)
		return 0;
	sy->refclocks = calloc(conf->nb_refclocks, sizeof(*sy->refclocks));
	if (sy->refclocks == NULL) {
		snprintf(err, errlen, "refclocks: out of memory");
		return -1;
	}
	for (i = 0; i < conf->nb_refclocks; i++) {
		struct sync_refclock *r = &sy->refclocks[i];
		const struct dpn_conf_refclock *rc = &conf->refclocks[i];
		struct dpn_source_conf c;

		r->conf = *rc;
		dpn_source_conf_init(&c);
		c.type = DPN_SOURCE_TYPE_REFCLOCK;
		ref_name(rc, c.name, sizeof(c.name));
		memcpy(c.refid, rc->refid, sizeof(c.refid));
		c.precision = rc->precision != 0 ? rc->precision :
			REF_PRECISION_DEFAULT;
		c.local_precision = sy->precision;
		c.stratum = rc->stratum;
		c.minpoll = c.maxpoll = rc->poll;
		c.flags = ((rc->flags & DPN_CONF_REF_PREFER) ?
			   DPN_SOURCE_F_PREFER : 0) |
			((rc->flags & DPN_CONF_REF_NOSELECT) ?
			 DPN_SOURCE_F_NOSELECT : 0) |
			((rc->flags & DPN_CONF_REF_TRUST) ?
			 DPN_SOURCE_F_TRUE : 0);
		if (dpn_source_init(&r->src, &c, now) != 0) {
			snprintf(err, errlen, "refclock %s (line %u): bad source settings",
				 c.name, rc->line);
			return -1;
		}
		/* chrony's `delay`: the round trip selection counts. */
		r->src.root_delay_ns = (int64_t)(rc->delay_s * 1e9);
		r->poll_end_mono = mono + poll_ns(r);
		dpn_refclock_filter_reset(&r->filter);
		sy->nb_refclocks = i + 1;
		if (rc->type == DPN_CONF_REFCLOCK_PTP) {
			if (sync_ptp_init(sy, r, err, errlen) != 0)
				return -1;
			continue;
		}
		if (driver_open(r) != 0) {
			REF_LOG(ERR, "%s (line %u): %s; trying again every %d s",
				c.name, rc->line, r->error,
				(int)(REOPEN_INTERVAL_NS / SEC_NS));
			r->reopen_ns = mono + REOPEN_INTERVAL_NS;
		}
	}
	return 0;
}

void
sync_refclocks_fini(struct dpn_sync *sy)
{
	unsigned int i;

	for (i = 0; i < sy->nb_refclocks; i++) {
		if (sy->refclocks[i].conf.type == DPN_CONF_REFCLOCK_PTP)
			sync_ptp_fini(sy, &sy->refclocks[i]);
		else
			driver_close(&sy->refclocks[i]);
	}
	free(sy->refclocks);
	sy->refclocks = NULL;
	sy->nb_refclocks = 0;
}

void
sync_refclocks_view(const struct dpn_sync *sy, struct dpn_sync_view *v,
		    unsigned int first_source)
{
	unsigned int i;

	v->nb_refclocks = sy->nb_refclocks;
	for (i = 0; i < sy->nb_refclocks; i++) {
		const struct sync_refclock *r = &sy->refclocks[i];
		struct dpn_sync_refclock_info *o = &v->refclocks[i];

		o->conf = r->conf;
		o->source_index = first_source + i;
		o->open = r->open;
		memcpy(o->error, r->error, sizeof(o->error));
		o->readings = r->readings;
		o->rejected = r->rejected;
		o->unnumbered = r->unnumbered;
		o->samples = r->samples;
		o->losses = r->losses;
		o->offset_ns = r->offset_ns;
		o->disp_ns = r->disp_ns;
		o->last_reading_ns = r->last_reading_ns;
		o->up = r->up;
		if (r->conf.type == DPN_CONF_REFCLOCK_PTP)
			sync_ptp_info(r, &o->ptp);
		else
			memset(&o->ptp, 0, sizeof(o->ptp));
	}
}
