/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NTP timestamps, short format and the parts of the reply that are
 * prepared once per clock snapshot rather than per packet.
 */

#include <stdint.h>

#include "dpn_ntp.h"

#define ERA_SECONDS (1LL << 32)

int64_t
dpn_ntp_ts_to_unix_ns(uint64_t ntp_ts, int64_t pivot_unix_ns)
{
	int64_t sec_in_era = (int64_t)(ntp_ts >> 32);
	uint32_t frac = (uint32_t)ntp_ts;
	int64_t pivot_sec, sec, era, ns;

	/* Seconds since the start of era 0 at the pivot. */
	pivot_sec = pivot_unix_ns / (int64_t)DPN_NSEC_PER_SEC +
		(int64_t)DPN_NTP_UNIX_OFFSET;
	/*
	 * Pick the era that puts the timestamp within half an era (68
	 * years) of the pivot.
	 */
	era = (pivot_sec - sec_in_era + ERA_SECONDS / 2);
	era = era >= 0 ? era / ERA_SECONDS :
		-((-era + ERA_SECONDS - 1) / ERA_SECONDS);
	sec = era * ERA_SECONDS + sec_in_era - (int64_t)DPN_NTP_UNIX_OFFSET;
	/* Round the fraction to the nearest nanosecond. */
	ns = (int64_t)(((uint64_t)frac * DPN_NSEC_PER_SEC + (1ULL << 31)) >>
		       32);
	return sec * (int64_t)DPN_NSEC_PER_SEC + ns;
}

uint32_t
dpn_ntp_short_from_ns(int64_t ns)
{
	uint64_t v;

	if (ns <= 0)
		return 0;
	if (ns >= (int64_t)65536 * (int64_t)DPN_NSEC_PER_SEC)
		return UINT32_MAX;
	/* Round up: a root distance is a bound and must not shrink. */
	v = (((uint64_t)ns << 16) + DPN_NSEC_PER_SEC - 1) / DPN_NSEC_PER_SEC;
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int64_t
dpn_ntp_short_to_ns(uint32_t s)
{
	return (int64_t)(((uint64_t)s * DPN_NSEC_PER_SEC) >> 16);
}

uint32_t
dpn_ntp_refid_from_str(const char *s)
{
	uint32_t id = 0;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		id <<= 8;
		if (s != NULL && *s != '\0')
			id |= (uint8_t)*s++;
	}
	return id;
}

void
dpn_ntp_sysinfo_set(struct dpn_ntp_sysinfo *si, bool synced,
		    unsigned int leap, unsigned int stratum, int precision,
		    int64_t root_delay_ns, int64_t root_disp_ns,
		    uint32_t refid_host, int64_t ref_unix_ns)
{
	if (!synced || stratum == 0 || stratum >= DPN_NTP_STRATUM_UNSYNC) {
		/* Never a confident lie: say we do not know. */
		leap = DPN_NTP_LEAP_ALARM;
		stratum = DPN_NTP_STRATUM_UNSYNC;
	}
	si->leap = (uint8_t)leap;
	si->stratum = (uint8_t)stratum;
	si->precision = (int8_t)precision;
	si->root_delay = __builtin_bswap32(dpn_ntp_short_from_ns(root_delay_ns));
	si->root_disp = __builtin_bswap32(dpn_ntp_short_from_ns(root_disp_ns));
	si->refid = __builtin_bswap32(refid_host);
	si->ref_ts = ref_unix_ns == 0 ? 0 :
		__builtin_bswap64(dpn_ntp_ts_from_unix_ns(ref_unix_ns));
}

const char *
dpn_ntp_verdict_str(enum dpn_ntp_verdict v)
{
	static const char *const desc[] = {
#define DPN_NTP_VERDICT_DESC(name, d) d,
		DPN_NTP_VERDICTS(DPN_NTP_VERDICT_DESC)
#undef DPN_NTP_VERDICT_DESC
	};

	if ((unsigned int)v >= DPN_NTP_V_MAX)
		return "unknown";
	return desc[v];
}
