/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A source's life: configuration, replies checked and turned into
 * samples, kisses obeyed, the reach register and the poll interval.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "source_private.h"

/* Poll adaptation: score at which the interval doubles or halves. */
#define POLL_SCORE_UP 4
#define POLL_SCORE_DOWN (-4)
/* A sample is "stable" when within this many jitters of the estimate. */
#define POLL_STABLE_JITTERS 4
/* Unanswered polls after which an unreachable source is polled less. */
#define UNREACH_BACKOFF 8
/* iburst bursts only in the first polls of an unreached source. */
#define IBURST_POLLS 4

static const char *const verdict_desc[] = {
#define DPN_SOURCE_VERDICT_DESC(name, desc) desc,
	DPN_SOURCE_VERDICTS(DPN_SOURCE_VERDICT_DESC)
#undef DPN_SOURCE_VERDICT_DESC
};

const char *
dpn_source_verdict_str(enum dpn_source_verdict v)
{
	if ((unsigned int)v >= DPN_SOURCE_R_MAX)
		return "unknown";
	return verdict_desc[v];
}

void
dpn_source_conf_init(struct dpn_source_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->type = DPN_SOURCE_TYPE_UNICAST;
	c->minpoll = DPN_SOURCE_MINPOLL_DEFAULT;
	c->maxpoll = DPN_SOURCE_MAXPOLL_DEFAULT;
	c->version = DPN_NTP_VERSION_MAX;
	c->local_precision = -20;
	c->precision = -20;
}

static bool
poll_in_limits(int poll)
{
	return poll >= DPN_SOURCE_POLL_LIMIT_MIN &&
		poll <= DPN_SOURCE_POLL_LIMIT_MAX;
}

static int
conf_check(const struct dpn_source_conf *c)
{
	/* A refclock is read, not polled: chrony's poll may go below 8 s. */
	if (c->type == DPN_SOURCE_TYPE_REFCLOCK &&
	    c->minpoll >= DPN_SOURCE_REFCLOCK_POLL_MIN &&
	    c->minpoll == c->maxpoll && c->maxpoll <= DPN_SOURCE_POLL_LIMIT_MAX)
		return c->stratum < DPN_NTP_STRATUM_UNSYNC ? 0 : -EINVAL;
	if (!poll_in_limits(c->minpoll) || !poll_in_limits(c->maxpoll) ||
	    c->minpoll > c->maxpoll)
		return -EINVAL;
	if (c->version < 1 || c->version > DPN_NTP_VERSION_MAX)
		return -EINVAL;
	if (c->type == DPN_SOURCE_TYPE_REFCLOCK)
		return c->stratum < DPN_NTP_STRATUM_UNSYNC ? 0 : -EINVAL;
	if (c->family != AF_INET && c->family != AF_INET6)
		return -EINVAL;
	return 0;
}

int
dpn_source_init(struct dpn_source *s, const struct dpn_source_conf *c,
		int64_t now_ns)
{
	int rc = conf_check(c);

	if (rc < 0)
		return rc;
	memset(s, 0, sizeof(*s));
	s->conf = *c;
	s->conf.name[sizeof(s->conf.name) - 1] = '\0';
	s->conf.refid[sizeof(s->conf.refid) - 1] = '\0';
	s->leap = DPN_NTP_LEAP_ALARM;
	s->stratum = DPN_NTP_STRATUM_UNSYNC;
	s->refid = dpn_ntp_refid_from_str("INIT");
	if (c->type == DPN_SOURCE_TYPE_REFCLOCK) {
		s->stratum = c->stratum;
		s->precision = c->precision;
		s->refid = dpn_ntp_refid_from_str(c->refid);
	}
	s->poll = c->minpoll;
	s->poll_floor = c->minpoll;
	s->disp_ns = DPN_SOURCE_MAXDISP_NS;
	s->next_poll_ns = now_ns;
	s->state = DPN_SOURCE_ST_REJECT;
	return 0;
}

/*
 * Reply validation.
 */

static uint64_t
ts_of(uint64_t wire)
{
	return __builtin_bswap64(wire);
}

/*
 * a before b, on the NTP timescale: the difference wraps with the era.
 * Two instants exactly half the timescale (68 years) apart are each
 * before the other: neither order can be trusted.
 */
static bool
ts_before(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0;
}

static enum dpn_source_verdict
kiss_verdict(uint32_t code)
{
	if (code == dpn_ntp_refid_from_str("DENY"))
		return DPN_SOURCE_R_KOD_DENY;
	if (code == dpn_ntp_refid_from_str("RSTR"))
		return DPN_SOURCE_R_KOD_RSTR;
	if (code == dpn_ntp_refid_from_str("RATE"))
		return DPN_SOURCE_R_KOD_RATE;
	return DPN_SOURCE_R_KOD_OTHER;
}

/* RFC 5905's header tests, once the reply is known to be ours. */
static enum dpn_source_verdict
check_header(const struct dpn_ntp_hdr *pkt)
{
	uint64_t rec = ts_of(pkt->recv_ts), xmt = ts_of(pkt->xmt_ts);
	uint64_t ref = ts_of(pkt->ref_ts);
	int64_t root;

	if (dpn_ntp_leap_of(pkt) == DPN_NTP_LEAP_ALARM ||
	    pkt->stratum >= DPN_NTP_STRATUM_UNSYNC)
		return DPN_SOURCE_R_UNSYNC;
	/*
	 * Leap and stratum say whether the server is synchronized. A zero
	 * reference time is not taken as "never synchronized": ntpsec's
	 * ntpd in orphan mode serves leap 0, its orphan stratum and a zero
	 * reference time, and its own clients (ntpdig) accept that.
	 */
	if (rec == 0 || xmt == 0 || ts_before(xmt, rec) ||
	    (ref != 0 && ts_before(xmt, ref)))
		return DPN_SOURCE_R_BAD_TIMES;
	root = dpn_ntp_short_to_ns(__builtin_bswap32(pkt->root_delay)) / 2 +
		dpn_ntp_short_to_ns(__builtin_bswap32(pkt->root_disp));
	if (root >= DPN_SOURCE_MAXDISP_NS)
		return DPN_SOURCE_R_BAD_ROOT;
	return DPN_SOURCE_R_OK;
}

enum dpn_source_verdict
dpn_source_validate(const struct dpn_ntp_hdr *pkt, unsigned int len,
		    uint64_t expected_org, uint64_t accepted_org)
{
	unsigned int vn;
	uint64_t org;

	if (len < DPN_NTP_HDR_LEN)
		return DPN_SOURCE_R_SHORT;
	vn = dpn_ntp_version_of(pkt);
	if (vn == 0 || vn > DPN_NTP_VERSION_MAX)
		return DPN_SOURCE_R_BAD_VERSION;
	if (dpn_ntp_mode_of(pkt) != DPN_NTP_MODE_SERVER)
		return DPN_SOURCE_R_BAD_MODE;
	org = ts_of(pkt->orig_ts);
	if (accepted_org != 0 && org == accepted_org)
		return DPN_SOURCE_R_DUPLICATE;
	if (expected_org == 0 || org != expected_org)
		return DPN_SOURCE_R_BOGUS;
	if (pkt->stratum == 0)
		return kiss_verdict(__builtin_bswap32(pkt->refid));
	return check_header(pkt);
}

/*
 * Polling.
 */

static int
clamp_poll(const struct dpn_source *s, int poll)
{
	if (poll > s->conf.maxpoll)
		poll = s->conf.maxpoll;
	if (poll < s->poll_floor)
		poll = s->poll_floor;
	return poll;
}

static int64_t
poll_randomness(const struct dpn_source *s, int64_t interval_ns)
{
	if (s->jitter_fn == NULL)
		return 0;
	/* Up to 1/16 of the interval: enough to desynchronize sources. */
	return s->jitter_fn(s->jitter_arg, interval_ns / 16);
}

static void
schedule_next(struct dpn_source *s, int64_t now_ns)
{
	int64_t interval = poll_interval_ns(s->poll);

	if (s->demobilized) {
		s->next_poll_ns = INT64_MAX;
		return;
	}
	if (s->burst_left > 0) {
		s->next_poll_ns = now_ns + DPN_SOURCE_BURST_SPACING_NS;
		return;
	}
	s->next_poll_ns = now_ns + interval + poll_randomness(s, interval);
}

void
dpn_source_kod(struct dpn_source *s, enum dpn_source_verdict v,
	       const struct dpn_ntp_hdr *pkt, int64_t now_ns)
{
	int poll;

	switch (v) {
	case DPN_SOURCE_R_KOD_DENY:
	case DPN_SOURCE_R_KOD_RSTR:
		s->demobilized = true;
		s->burst_left = 0;
		s->next_poll_ns = INT64_MAX;
		break;
	case DPN_SOURCE_R_KOD_RATE:
		poll = s->poll + 1;
		if (pkt != NULL && pkt->poll > poll)
			poll = pkt->poll;
		if (poll > s->conf.maxpoll)
			poll = s->conf.maxpoll;
		/* The server asked: stay at least that slow from now on. */
		s->poll_floor = poll > s->poll_floor ? poll : s->poll_floor;
		s->poll = poll;
		s->burst_left = 0;
		s->stable = 0;
		schedule_next(s, now_ns);
		break;
	default:
		return;
	}
	if (pkt != NULL)
		s->kiss = __builtin_bswap32(pkt->refid);
}

/* Start of a poll (not a later packet of a burst): account for the last. */
static void
poll_start(struct dpn_source *s, int64_t now_ns)
{
	bool was_reachable = s->reach != 0;

	/*
	 * Two silent polls in a row from a reachable source: poll faster,
	 * to refill the filter or find out soon that it is gone. One lost
	 * packet is no news.
	 */
	if (was_reachable && (s->reach & 0x3) == 0 && s->poll > s->poll_floor)
		s->poll--;
	/* Three silent polls in a row: the filter learns it (RFC 5905). */
	if (s->nb_sent >= 3 && (s->reach & 0x7) == 0)
		filter_add_missing(s, now_ns);
	s->reach <<= 1;
	if (s->nb_sent > 0)
		s->unreach++;
	/* A dead server is not hammered: back off towards maxpoll. */
	if (s->reach == 0 && s->unreach >= UNREACH_BACKOFF)
		s->poll = clamp_poll(s, s->poll + 1);
	if ((s->conf.flags & DPN_SOURCE_F_IBURST) && s->reach == 0 &&
	    s->unreach < IBURST_POLLS)
		s->burst_left = DPN_SOURCE_BURST_LEN - 1;
	else if ((s->conf.flags & DPN_SOURCE_F_BURST) && s->reach != 0)
		s->burst_left = DPN_SOURCE_BURST_LEN - 1;
}

void
dpn_source_request(const struct dpn_source *s, struct dpn_ntp_hdr *pkt,
		   uint64_t xmt_ts)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->li_vn_mode = dpn_ntp_li_vn_mode(DPN_NTP_LEAP_NONE,
					     s->conf.version,
					     DPN_NTP_MODE_CLIENT);
	/* Servers compare it with their rate limits (KoD RATE). */
	pkt->poll = (int8_t)s->poll;
	pkt->xmt_ts = __builtin_bswap64(xmt_ts);
}

void
dpn_source_poll_sent(struct dpn_source *s, uint64_t xmt_ts, int64_t now_ns)
{
	if (s->demobilized)
		return;
	if (s->burst_left > 0)
		s->burst_left--;
	else
		poll_start(s, now_ns);
	s->org = xmt_ts;
	s->nb_sent++;
	schedule_next(s, now_ns);
}

int64_t
dpn_source_next_poll(const struct dpn_source *s)
{
	if (s->demobilized)
		return INT64_MAX;
	return s->next_poll_ns;
}

/*
 * Poll adaptation, per source: a stable estimate (the new one within a
 * few jitters of the old) with every poll answered scores up; a jump
 * or a popcorn spike wipes that credit and scores down twice as fast,
 * so two surprises in a row are enough; at the thresholds
 * the interval doubles or halves, within minpoll (or what a RATE kiss
 * imposed) and maxpoll.
 */
static void
poll_score(struct dpn_source *s, bool stable)
{
	if (stable) {
		if (s->reach == 0xff)
			s->stable++;
	} else {
		/* A surprise cancels the credit earned so far. */
		s->stable = (s->stable > 0 ? 0 : s->stable) - 2;
	}
	if (s->stable >= POLL_SCORE_UP) {
		s->poll = clamp_poll(s, s->poll + 1);
		s->stable = 0;
	} else if (s->stable <= POLL_SCORE_DOWN) {
		s->poll = clamp_poll(s, s->poll - 1);
		s->stable = 0;
	}
}

/*
 * Samples.
 */

/* Host-order NTP difference (32.32 seconds, era-safe) in nanoseconds. */
static __int128
ts_diff_ns(uint64_t a, uint64_t b)
{
	return ((__int128)(int64_t)(a - b) * NS_PER_S) >> 32;
}

void
dpn_source_offset_delay(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4,
			int64_t *offset_ns, int64_t *delay_ns)
{
	/* Sum the 32.32 differences first, round to ns once. */
	__int128 a = (int64_t)(t2 - t1), b = (int64_t)(t3 - t4);
	__int128 del = (__int128)(int64_t)(t4 - t1) - (int64_t)(t3 - t2);

	/* Rounded to the nearest nanosecond; the halving is in the shift. */
	*offset_ns = (int64_t)(((a + b) * NS_PER_S + (1LL << 32)) >> 33);
	*delay_ns = (int64_t)((del * NS_PER_S + (1LL << 31)) >> 32);
}

static int
take_sample(struct dpn_source *s, const struct dpn_source_sample *smp,
	    int64_t now_ns)
{
	bool had = s->update_ns != 0;
	int64_t old = s->offset_ns, old_jitter = s->jitter_ns;
	enum filter_result r;

	s->reach |= 1;
	s->unreach = 0;
	r = filter_add(s, smp, now_ns);
	if (r == FILTER_SPIKE && had)
		poll_score(s, false);
	else if (r == FILTER_UPDATED && had)
		/* Judged by the jitter known before this sample. */
		poll_score(s, abs_ns(s->offset_ns - old) <=
			   POLL_STABLE_JITTERS * old_jitter);
	return r == FILTER_UPDATED;
}

int
dpn_source_sample(struct dpn_source *s, uint64_t t1, uint64_t t2,
		  uint64_t t3, uint64_t t4, int64_t now_ns)
{
	struct dpn_source_sample smp;
	int64_t floor_ns = log2_ns(s->conf.local_precision);
	int64_t rtt = (int64_t)ts_diff_ns(t4, t1);

	if (rtt < 0)
		return -EINVAL;
	dpn_source_offset_delay(t1, t2, t3, t4, &smp.offset_ns,
				&smp.delay_ns);
	/* A delay below what our clock can resolve means nothing. */
	if (smp.delay_ns < floor_ns)
		smp.delay_ns = floor_ns;
	smp.disp_ns = log2_ns(s->precision) + floor_ns + phi_ns(rtt);
	smp.epoch_ns = now_ns;
	return take_sample(s, &smp, now_ns);
}

void
dpn_source_refclock_sample(struct dpn_source *s, int64_t offset_ns,
			   int64_t disp_ns, int64_t now_ns)
{
	struct dpn_source_sample smp = {
		.offset_ns = offset_ns,
		.delay_ns = 0,
		.disp_ns = disp_ns + log2_ns(s->conf.precision),
		.epoch_ns = now_ns,
	};

	/* Each reading is a poll answered. */
	s->reach <<= 1;
	s->leap = DPN_NTP_LEAP_NONE;
	s->last_rx_ns = now_ns;
	s->nb_rx_ok++;
	take_sample(s, &smp, now_ns);
}

void
dpn_source_refclock_missed(struct dpn_source *s)
{
	s->reach <<= 1;
}

/* The server's header fields, kept for selection and for ntpq. */
static void
take_header(struct dpn_source *s, const struct dpn_ntp_hdr *pkt)
{
	s->leap = dpn_ntp_leap_of(pkt);
	s->stratum = pkt->stratum;
	s->precision = pkt->precision;
	s->ppoll = pkt->poll;
	s->refid = __builtin_bswap32(pkt->refid);
	s->reftime = ts_of(pkt->ref_ts);
	s->root_delay_ns = dpn_ntp_short_to_ns(__builtin_bswap32(
		pkt->root_delay));
	s->root_disp_ns = dpn_ntp_short_to_ns(__builtin_bswap32(
		pkt->root_disp));
}

enum dpn_source_verdict
dpn_source_receive(struct dpn_source *s, const struct dpn_ntp_hdr *pkt,
		   unsigned int len, int64_t rx_ns)
{
	enum dpn_source_verdict v;
	int rc;

	v = dpn_source_validate(pkt, len, s->org, s->accepted_org);
	if (v == DPN_SOURCE_R_UNSYNC) {
		/* Ours but unusable: show what it says, reach stays. */
		s->accepted_org = s->org;
		take_header(s, pkt);
	}
	if (v != DPN_SOURCE_R_OK) {
		dpn_source_kod(s, v, pkt, rx_ns);
		s->nb_rx_bad++;
		return v;
	}
	/* Before the sample: its dispersion needs the server's precision. */
	take_header(s, pkt);
	rc = dpn_source_sample(s, s->org, ts_of(pkt->recv_ts),
			       ts_of(pkt->xmt_ts),
			       dpn_ntp_ts_from_unix_ns(rx_ns), rx_ns);
	if (rc < 0) {
		/* Our clock went back between t1 and t4. */
		s->nb_rx_bad++;
		return DPN_SOURCE_R_BAD_TIMES;
	}
	s->accepted_org = s->org;
	s->last_rx_ns = rx_ns;
	s->kiss = 0;
	s->nb_rx_ok++;
	return DPN_SOURCE_R_OK;
}
