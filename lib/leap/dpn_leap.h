/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_LEAP_H
#define DPN_LEAP_H

/**
 * @file
 * The IERS/NIST leap second list (`leap-seconds.list`, as Debian's tzdata
 * ships it in /usr/share/zoneinfo): parsed, its SHA-1 checked, and asked
 * when the next leap second is.
 *
 * DPDK-free. The file gives, for each change of TAI - UTC, the NTP time
 * of the first second with the new offset; `#$` is when the list was
 * updated, `#@` when it expires, `#h` the SHA-1 of the numbers (update
 * time, expiry, then every entry's time and offset, as digits without
 * spaces) in five hex words.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPN_LEAP_MAX 128

struct dpn_leap_entry {
	int64_t unix_s;		/**< first second with the new offset */
	int tai_offset;		/**< TAI - UTC from then on, seconds */
};

struct dpn_leap_table {
	struct dpn_leap_entry e[DPN_LEAP_MAX];
	unsigned int nb;
	int64_t updated_unix;	/**< `#$` */
	int64_t expires_unix;	/**< `#@` */
};

/**
 * Read and check the list at @p path. On error returns -1 with a message
 * naming the file (and the line, for a line that cannot be read) in
 * @p err, and leaves @p t untouched.
 */
int dpn_leap_load(const char *path, struct dpn_leap_table *t, char *err,
		  size_t errlen);

/** Has the list expired at @p now (Unix seconds)? */
bool dpn_leap_expired(const struct dpn_leap_table *t, int64_t now);

/** TAI - UTC at @p unix_s; the first entry's offset before it. */
int dpn_leap_tai_offset(const struct dpn_leap_table *t, int64_t unix_s);

/**
 * The next leap second after @p now: +1 when one is inserted, -1 when
 * one is deleted, 0 when the list announces none. @p when gets the
 * first second after it (midnight UTC), as the list gives it.
 */
int dpn_leap_next(const struct dpn_leap_table *t, int64_t now, int64_t *when);

/**
 * The leap indicator to serve at @p now_ns (Unix ns) for a leap second
 * of direction @p dir (+1 inserted, -1 deleted, 0 none) at @p when_ns:
 * 1 (insert) or 2 (delete) during the last day before it, as ntpd
 * announces; 0 otherwise or once @p done (the clock went through it).
 */
unsigned int dpn_leap_indicator(int dir, int64_t when_ns, bool done,
				int64_t now_ns);

/**
 * A leap second smeared over @p window_ns centred on it (Google's and
 * Meta's way): what to add to the true clock at @p true_ns to get the
 * served one. The true clock repeats (or skips) a second at @p when_ns
 * as POSIX time does, @p done says it has; the served clock instead
 * runs slower (faster) by 1 s / window over the window and never jumps.
 * @p rate_scale gets the factor on the clock's rate at that instant
 * (1 outside the window).
 */
int64_t dpn_leap_smear(int dir, int64_t when_ns, bool done, int64_t window_ns,
		       int64_t true_ns, double *rate_scale);

#endif /* DPN_LEAP_H */
