/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SOURCE_PRIVATE_H
#define SOURCE_PRIVATE_H

/* Helpers shared by the files of lib/source; not installed. */

#include <math.h>
#include <stdint.h>

#include "dpn_source.h"

#define NS_PER_S 1000000000LL

/* Dispersion accumulated over @p dt_ns at PHI (15 ppm). */
static inline int64_t
phi_ns(int64_t dt_ns)
{
	if (dt_ns <= 0)
		return 0;
	return (int64_t)((__int128)dt_ns * DPN_SOURCE_PHI_PPM / 1000000);
}

/*
 * 2^precision seconds in nanoseconds (RFC 5905 LOG2D). A server's
 * precision is whatever its byte says, up to 2^127 s, which no int64
 * holds (the conversion is undefined; x86 gave INT64_MIN, a negative
 * dispersion): clamped to +-31 as chrony does (UTI_Log2ToDouble).
 */
static inline int64_t
log2_ns(int precision)
{
	if (precision > 31)
		precision = 31;
	else if (precision < -31)
		precision = -31;
	return (int64_t)ldexp((double)NS_PER_S, precision);
}

static inline int64_t
poll_interval_ns(int poll)
{
	return (int64_t)NS_PER_S << poll;
}

static inline int64_t
abs_ns(int64_t v)
{
	return v < 0 ? -v : v;
}

enum filter_result {
	FILTER_UNCHANGED,	/* nothing newer than the estimate */
	FILTER_UPDATED,		/* new offset, delay, disp., jitter */
	FILTER_SPIKE,		/* best sample was a popcorn spike */
};

/* Put a sample into the filter and compute the source's estimate. */
enum filter_result filter_add(struct dpn_source *s,
			      const struct dpn_source_sample *smp,
			      int64_t now_ns);

/* Put a missing sample (MAXDISP) into the filter. */
void filter_add_missing(struct dpn_source *s, int64_t now_ns);

#endif /* SOURCE_PRIVATE_H */
