/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The clock filter (RFC 5905 10): the last eight samples of a source;
 * the one with the smallest delay is the least disturbed by queueing,
 * so its offset is the source's estimate. Dispersion and jitter say how
 * much to trust it.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "source_private.h"

/* A stage that holds a usable sample (not empty, not a missed poll). */
static bool
stage_valid(const struct dpn_source_sample *f)
{
	return f->epoch_ns != 0 && f->disp_ns < DPN_SOURCE_MAXDISP_NS;
}

/*
 * Usable samples first, by increasing delay; on equal delay the newer
 * first (a reference clock has delay 0: its newest reading wins).
 */
static int
stage_cmp(const void *a, const void *b)
{
	const struct dpn_source_sample *x = a, *y = b;
	bool vx = stage_valid(x), vy = stage_valid(y);

	if (vx != vy)
		return vx ? -1 : 1;
	if (x->delay_ns != y->delay_ns)
		return x->delay_ns < y->delay_ns ? -1 : 1;
	if (x->epoch_ns != y->epoch_ns)
		return x->epoch_ns > y->epoch_ns ? -1 : 1;
	return 0;
}

/* The stages sorted, their dispersion aged to @p now_ns. */
static unsigned int
filter_sorted(const struct dpn_source *s, int64_t now_ns,
	      struct dpn_source_sample *f)
{
	unsigned int i, nb_valid = 0;

	for (i = 0; i < DPN_SOURCE_FILTER_LEN; i++) {
		f[i] = s->filter[i];
		if (!stage_valid(&f[i])) {
			f[i].disp_ns = DPN_SOURCE_MAXDISP_NS;
			continue;
		}
		f[i].disp_ns += phi_ns(now_ns - f[i].epoch_ns);
		/* Aged out (12 days at PHI): as good as missing. */
		if (f[i].disp_ns >= DPN_SOURCE_MAXDISP_NS) {
			f[i].disp_ns = DPN_SOURCE_MAXDISP_NS;
			continue;
		}
		nb_valid++;
	}
	qsort(f, DPN_SOURCE_FILTER_LEN, sizeof(f[0]), stage_cmp);
	return nb_valid;
}

/*
 * Filter dispersion: each stage weighs half the one before it, so a
 * filter full of good samples has a small dispersion and one full of
 * missed polls tends to MAXDISP.
 */
static int64_t
filter_disp(const struct dpn_source_sample *f)
{
	int64_t disp = 0;
	unsigned int i;

	for (i = 0; i < DPN_SOURCE_FILTER_LEN; i++)
		disp += f[i].disp_ns >> (i + 1);
	return disp;
}

/* RMS of the offsets of the other usable samples from the chosen one. */
static int64_t
filter_jitter(const struct dpn_source_sample *f, unsigned int nb_valid)
{
	double sum = 0;
	unsigned int i;

	if (nb_valid < 2)
		return 0;
	for (i = 1; i < nb_valid; i++) {
		double d = (double)(f[i].offset_ns - f[0].offset_ns);

		sum += d * d;
	}
	return (int64_t)sqrt(sum / (nb_valid - 1));
}

/*
 * A popcorn spike: a sample far from the current estimate (more than
 * three times the jitter) that arrives soon after it. Queueing spikes
 * look like that; a real change of the offset persists, and is taken
 * when the best sample is two polls newer than the estimate, or once the
 * spike has left the filter. Reference clocks have no queues.
 */
static bool
is_popcorn(const struct dpn_source *s, const struct dpn_source_sample *best)
{
	if (s->update_ns == 0 || s->conf.type == DPN_SOURCE_TYPE_REFCLOCK)
		return false;
	if (s->disp_ns >= DPN_SOURCE_MAXDIST_NS ||
	    best->disp_ns >= DPN_SOURCE_MAXDIST_NS)
		return false;
	if (abs_ns(best->offset_ns - s->offset_ns) <= 3 * s->jitter_ns)
		return false;
	return best->epoch_ns - s->update_ns < 2 * poll_interval_ns(s->poll);
}

/*
 * Without a new estimate, the dispersion and jitter still follow the
 * filter (missed polls raise them), kept relative to the estimate's
 * epoch like the rest.
 */
static void
filter_refresh(struct dpn_source *s, const struct dpn_source_sample *f,
	       unsigned int nb_valid, int64_t now_ns)
{
	int64_t floor_ns = log2_ns(s->conf.local_precision);
	int64_t disp, jitter;

	if (s->update_ns == 0)
		return;
	disp = filter_disp(f) - phi_ns(now_ns - s->update_ns);
	s->disp_ns = disp > 0 ? disp : 0;
	if (nb_valid >= 2) {
		jitter = filter_jitter(f, nb_valid);
		s->jitter_ns = jitter > floor_ns ? jitter : floor_ns;
	}
}

static enum filter_result
filter_update(struct dpn_source *s, int64_t now_ns)
{
	struct dpn_source_sample f[DPN_SOURCE_FILTER_LEN];
	unsigned int nb_valid = filter_sorted(s, now_ns, f);
	int64_t floor_ns = log2_ns(s->conf.local_precision);
	int64_t jitter;

	/* Each sample is used once, and never one older than the last. */
	if (nb_valid == 0 || f[0].epoch_ns <= s->update_ns) {
		filter_refresh(s, f, nb_valid, now_ns);
		return FILTER_UNCHANGED;
	}
	if (is_popcorn(s, &f[0])) {
		s->nb_spikes++;
		return FILTER_SPIKE;
	}
	jitter = filter_jitter(f, nb_valid);
	s->offset_ns = f[0].offset_ns;
	s->delay_ns = f[0].delay_ns;
	/* Kept as of the sample's epoch; selection ages it from there. */
	s->disp_ns = filter_disp(f) - phi_ns(now_ns - f[0].epoch_ns);
	if (s->disp_ns < 0)
		s->disp_ns = 0;
	s->jitter_ns = jitter > floor_ns ? jitter : floor_ns;
	s->update_ns = f[0].epoch_ns;
	return FILTER_UPDATED;
}

enum filter_result
filter_add(struct dpn_source *s, const struct dpn_source_sample *smp,
	   int64_t now_ns)
{
	s->filter[s->filter_next] = *smp;
	s->filter_next = (s->filter_next + 1) % DPN_SOURCE_FILTER_LEN;
	return filter_update(s, now_ns);
}

void
filter_add_missing(struct dpn_source *s, int64_t now_ns)
{
	struct dpn_source_sample miss = {
		.offset_ns = 0,
		.delay_ns = 0,
		.disp_ns = DPN_SOURCE_MAXDISP_NS,
		.epoch_ns = now_ns,
	};

	s->filter[s->filter_next] = miss;
	s->filter_next = (s->filter_next + 1) % DPN_SOURCE_FILTER_LEN;
	filter_update(s, now_ns);
}
