/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Selection of the system peer (RFC 5905 11.2): which sources can be
 * trusted (intersection), which of those agree best (clustering), and
 * what they say together (combining). Run on the management side after
 * new samples; nothing here runs per packet.
 */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "source_private.h"

/* A source in the running, with what selection needs about it. */
struct cand {
	struct dpn_source *s;
	unsigned int idx;	/* in the caller's array */
	int64_t dist;		/* root distance now */
	double merit;		/* stratum first, then distance */
};

/* One end (or the middle) of a correctness interval. */
struct edge {
	int64_t at;
	int type;		/* -1 lower end, 0 midpoint, +1 upper end */
};

void
dpn_select_params_init(struct dpn_select_params *p)
{
	p->minclock = 3;
	p->minsane = 1;
	p->maxclock = 10;
	p->combine_limit = 6;
	p->maxdist_ns = DPN_SOURCE_MAXDIST_NS;
	p->mindist_ns = DPN_SOURCE_MINDIST_NS;
	p->local_refids = NULL;
	p->nb_local_refids = 0;
}

uint32_t
dpn_source_refid_of_addr(int family, const uint8_t *addr)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const uint8_t *b = addr;

	if (family == AF_INET6) {
		/* An IPv6 address does not fit: a hash of it does. */
		if (EVP_Digest(addr, 16, md, &mdlen, EVP_md5(), NULL) != 1 ||
		    mdlen < 4)
			return 0;
		b = md;
	} else if (family != AF_INET) {
		return 0;
	}
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		(uint32_t)b[2] << 8 | b[3];
}

int64_t
dpn_source_root_distance(const struct dpn_source *s, int64_t now_ns,
			 int64_t mindist_ns)
{
	int64_t delay = s->root_delay_ns + s->delay_ns;

	if (s->update_ns == 0)
		return INT64_MAX;
	if (delay < mindist_ns)
		delay = mindist_ns;
	return delay / 2 + s->root_disp_ns + s->disp_ns + s->jitter_ns +
		phi_ns(now_ns - s->update_ns);
}

/*
 * Fitness.
 */

static bool
is_loop(const struct dpn_source *s, const struct dpn_select_params *p)
{
	unsigned int i;

	/* A server that says it follows us would follow us round. */
	if (s->conf.type == DPN_SOURCE_TYPE_REFCLOCK || s->stratum <= 1)
		return false;
	for (i = 0; i < p->nb_local_refids; i++)
		if (p->local_refids[i] == s->refid)
			return true;
	return false;
}

static enum dpn_source_reject
fitness(const struct dpn_source *s, int64_t now_ns,
	const struct dpn_select_params *p)
{
	if (s->demobilized)
		return DPN_SOURCE_REJ_DEMOBILIZED;
	if (s->conf.flags & DPN_SOURCE_F_NOSELECT)
		return DPN_SOURCE_REJ_NOSELECT;
	if (!dpn_source_reachable(s))
		return DPN_SOURCE_REJ_UNREACH;
	if (s->update_ns == 0)
		return DPN_SOURCE_REJ_NODATA;
	if (s->leap == DPN_NTP_LEAP_ALARM ||
	    s->stratum >= DPN_NTP_STRATUM_UNSYNC)
		return DPN_SOURCE_REJ_UNSYNC;
	if (dpn_source_root_distance(s, now_ns, p->mindist_ns) >=
	    p->maxdist_ns)
		return DPN_SOURCE_REJ_DIST;
	if (is_loop(s, p))
		return DPN_SOURCE_REJ_LOOP;
	return DPN_SOURCE_REJ_NONE;
}

static int
cand_by_merit(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->merit != y->merit)
		return x->merit < y->merit ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/*
 * The candidates, sorted by merit (RFC 5905: stratum times maxdist plus
 * root distance). Those beyond maxclock are excess ('.').
 */
static unsigned int
candidates(struct dpn_source **srcs, unsigned int n, int64_t now_ns,
	   const struct dpn_select_params *p, struct cand *c)
{
	unsigned int i, nb = 0;

	for (i = 0; i < n; i++) {
		struct dpn_source *s = srcs[i];

		s->state = DPN_SOURCE_ST_REJECT;
		s->reject = fitness(s, now_ns, p);
		if (s->reject != DPN_SOURCE_REJ_NONE)
			continue;
		c[nb].s = s;
		c[nb].idx = i;
		c[nb].dist = dpn_source_root_distance(s, now_ns,
						      p->mindist_ns);
		c[nb].merit = (double)s->stratum * (double)p->maxdist_ns +
			(double)c[nb].dist;
		nb++;
	}
	qsort(c, nb, sizeof(c[0]), cand_by_merit);
	for (i = p->maxclock; i < nb; i++)
		c[i].s->state = DPN_SOURCE_ST_EXCESS;
	return nb < p->maxclock ? nb : p->maxclock;
}

/*
 * Intersection (RFC 5905 11.2.1, after Marzullo): the smallest interval
 * that holds the correctness intervals of a majority, allowing for as
 * few falsetickers as possible. Returns false when no majority agrees.
 */

static int
edge_cmp(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	/* Touching intervals intersect: lower ends before upper ends. */
	return x->type - y->type;
}

/*
 * Scan the edges from one end until @p need intervals overlap; count the
 * midpoints passed on the way (they lie outside the intersection).
 */
static bool
scan(const struct edge *e, unsigned int nb, int dir, unsigned int need,
     int64_t *at, unsigned int *outside)
{
	int opening = dir > 0 ? -1 : 1;
	unsigned int i, k, open = 0;

	for (k = 0; k < nb; k++) {
		i = dir > 0 ? k : nb - 1 - k;
		if (e[i].type == 0) {
			(*outside)++;
		} else if (e[i].type == opening) {
			if (++open >= need) {
				*at = e[i].at;
				return true;
			}
		} else {
			open--;
		}
	}
	return false;
}

static bool
intersect(const struct cand *c, unsigned int nb, int64_t *low,
	  int64_t *high)
{
	struct edge e[3 * DPN_SOURCE_SELECT_MAX];
	unsigned int i, allow, outside;

	for (i = 0; i < nb; i++) {
		int64_t off = c[i].s->offset_ns;

		e[3 * i] = (struct edge){ off - c[i].dist, -1 };
		e[3 * i + 1] = (struct edge){ off, 0 };
		e[3 * i + 2] = (struct edge){ off + c[i].dist, +1 };
	}
	qsort(e, 3 * nb, sizeof(e[0]), edge_cmp);
	for (allow = 0; 2 * allow < nb; allow++) {
		outside = 0;
		if (!scan(e, 3 * nb, +1, nb - allow, low, &outside) ||
		    !scan(e, 3 * nb, -1, nb - allow, high, &outside))
			continue;
		/* More midpoints outside than falsetickers allowed. */
		if (outside > allow)
			continue;
		if (*low <= *high)
			return true;
	}
	return false;
}

/*
 * Keep the truechimers: those whose interval meets the intersection
 * (like ntpd; the RFC's code looks at midpoints), and those configured
 * `true`. The others are falsetickers.
 */
static unsigned int
truechimers(struct cand *c, unsigned int nb, bool found, int64_t low,
	    int64_t high)
{
	unsigned int i, kept = 0;

	for (i = 0; i < nb; i++) {
		const struct dpn_source *s = c[i].s;
		bool meets = found && s->offset_ns + c[i].dist >= low &&
			s->offset_ns - c[i].dist <= high;

		if (meets || (s->conf.flags & DPN_SOURCE_F_TRUE))
			c[kept++] = c[i];
		else
			c[i].s->state = DPN_SOURCE_ST_FALSETICKER;
	}
	return kept;
}

/*
 * Clustering (RFC 5905 11.2.2): while there are more than minclock
 * survivors, drop the one whose offset is furthest from the others
 * (largest selection jitter) unless that is already below the smallest
 * peer jitter: then dropping more would not make the rest agree better.
 * A `prefer` source is never dropped here.
 */

static double
selection_jitter(const struct cand *c, unsigned int nb, unsigned int i)
{
	double sum = 0;
	unsigned int j;

	for (j = 0; j < nb; j++) {
		double d = (double)(c[j].s->offset_ns - c[i].s->offset_ns);

		sum += d * d;
	}
	return nb > 1 ? sqrt(sum / (nb - 1)) : 0;
}

static unsigned int
cluster(struct cand *c, unsigned int nb, unsigned int minclock)
{
	while (nb > minclock && nb > 1) {
		double worst = -1, least_peer = INFINITY;
		unsigned int i, k = 0;

		for (i = 0; i < nb; i++) {
			double sj = selection_jitter(c, nb, i);

			if (sj > worst) {
				worst = sj;
				k = i;
			}
			if ((double)c[i].s->jitter_ns < least_peer)
				least_peer = (double)c[i].s->jitter_ns;
		}
		if (worst <= least_peer ||
		    (c[k].s->conf.flags & DPN_SOURCE_F_PREFER))
			break;
		c[k].s->state = DPN_SOURCE_ST_OUTLIER;
		memmove(&c[k], &c[k + 1], (nb - k - 1) * sizeof(c[0]));
		nb--;
	}
	return nb;
}

/*
 * The system peer: a surviving `prefer` source; else the current system
 * peer when it survived and is as good in stratum as the best (so that
 * the server does not hop between equals and its refid stays put); else
 * the best by merit.
 */
static unsigned int
choose_peer(const struct cand *c, unsigned int nb, int prev_idx)
{
	unsigned int i;

	for (i = 0; i < nb; i++)
		if (c[i].s->conf.flags & DPN_SOURCE_F_PREFER)
			return i;
	for (i = 0; i < nb; i++)
		if ((int)c[i].idx == prev_idx &&
		    c[i].s->stratum == c[0].s->stratum)
			return i;
	return 0;
}

/*
 * Combining (RFC 5905 11.2.3): the survivors' offsets weighted by
 * 1/root distance. The system jitter adds, in quadrature, the peer's
 * jitter and the spread of the survivors around the peer.
 */
static void
combine(const struct cand *c, unsigned int nb, unsigned int peer,
	struct dpn_select_result *out)
{
	double w, sum_w = 0, sum_off = 0, sum_spread = 0, d, pj;
	unsigned int i;

	for (i = 0; i < nb; i++) {
		w = 1.0 / (double)(c[i].dist > 0 ? c[i].dist : 1);
		d = (double)(c[i].s->offset_ns - c[peer].s->offset_ns);
		sum_w += w;
		sum_off += w * (double)c[i].s->offset_ns;
		sum_spread += w * d * d;
	}
	pj = (double)c[peer].s->jitter_ns;
	out->offset_ns = (int64_t)llround(sum_off / sum_w);
	out->jitter_ns = (int64_t)llround(sqrt(pj * pj + sum_spread / sum_w));
}

/* The announced leap second: what a majority of the survivors say. */
static unsigned int
leap_vote(const struct cand *c, unsigned int nb)
{
	unsigned int i, ins = 0, del = 0;

	for (i = 0; i < nb; i++) {
		ins += c[i].s->leap == DPN_NTP_LEAP_INSERT;
		del += c[i].s->leap == DPN_NTP_LEAP_DELETE;
	}
	if (2 * ins > nb)
		return DPN_NTP_LEAP_INSERT;
	if (2 * del > nb)
		return DPN_NTP_LEAP_DELETE;
	return DPN_NTP_LEAP_NONE;
}

/* What the server says about itself once it follows @p s. */
static void
system_vars(const struct dpn_source *s, int64_t now_ns,
	    struct dpn_select_result *out)
{
	out->stratum = s->stratum + 1;
	if (s->conf.type == DPN_SOURCE_TYPE_REFCLOCK)
		out->refid = dpn_ntp_refid_from_str(s->conf.refid);
	else
		out->refid = dpn_source_refid_of_addr(s->conf.family,
						      s->conf.addr);
	out->ref_ns = s->update_ns;
	out->root_delay_ns = s->root_delay_ns + s->delay_ns;
	/* Its error, aged, plus how far we are from it and how noisy. */
	out->root_disp_ns = s->root_disp_ns + s->disp_ns +
		phi_ns(now_ns - s->update_ns) + out->jitter_ns +
		abs_ns(s->offset_ns);
}

static void
no_peer(struct dpn_select_result *out)
{
	out->sys_peer = -1;
	out->offset_ns = 0;
	out->jitter_ns = 0;
	out->leap = DPN_NTP_LEAP_ALARM;
	out->stratum = DPN_NTP_STRATUM_UNSYNC;
	out->refid = dpn_ntp_refid_from_str("INIT");
	out->ref_ns = 0;
	out->root_delay_ns = 0;
	out->root_disp_ns = 0;
}

static int
previous_peer(struct dpn_source **srcs, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (srcs[i]->state == DPN_SOURCE_ST_SYSPEER)
			return (int)i;
	return -1;
}

/* Survivors past the combine limit are kept as backups ('#'). */
static void
mark_survivors(struct cand *c, unsigned int nb, unsigned int peer,
	       unsigned int limit)
{
	unsigned int i;

	for (i = 0; i < nb; i++)
		c[i].s->state = i < limit ? DPN_SOURCE_ST_CANDIDATE :
			DPN_SOURCE_ST_BACKUP;
	c[peer].s->state = DPN_SOURCE_ST_SYSPEER;
}

int
dpn_source_select(struct dpn_source **srcs, unsigned int n, int64_t now_ns,
		  const struct dpn_select_params *p,
		  struct dpn_select_result *out)
{
	struct cand c[DPN_SOURCE_SELECT_MAX];
	unsigned int nb, peer, limit;
	int64_t low = 0, high = 0;
	int prev;
	bool found;

	if (n > DPN_SOURCE_SELECT_MAX)
		return -EINVAL;
	no_peer(out);
	prev = previous_peer(srcs, n);
	nb = candidates(srcs, n, now_ns, p, c);
	out->nb_candidates = nb;
	found = nb > 0 && intersect(c, nb, &low, &high);
	nb = truechimers(c, nb, found, low, high);
	out->nb_truechimers = nb;
	nb = cluster(c, nb, p->minclock);
	out->nb_survivors = nb;
	if (nb == 0)
		return 0;
	peer = choose_peer(c, nb, prev);
	/* The system peer is always among those combined. */
	limit = p->combine_limit > peer ? p->combine_limit : peer + 1;
	mark_survivors(c, nb, peer, limit);
	if (nb < p->minsane || nb < 1) {
		c[peer].s->state = DPN_SOURCE_ST_CANDIDATE;
		return 0;
	}
	combine(c, nb < limit ? nb : limit, peer, out);
	out->sys_peer = (int)c[peer].idx;
	out->leap = leap_vote(c, nb);
	system_vars(c[peer].s, now_ns, out);
	return 0;
}
