/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `ntpq -p` lines, so that the control socket shows sources the way
 * administrators already read them. The columns are ntpq's: tally,
 * remote (15), refid (15), st, t, when, poll, reach (octal), then
 * delay, offset and jitter in milliseconds; 79 characters in all.
 */

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "source_private.h"

#define HEADER "     remote           refid      st t when poll reach" \
	"   delay   offset   jitter"

int
dpn_source_format_peers_header(char *buf, size_t len)
{
	char rule[sizeof(HEADER)];

	memset(rule, '=', sizeof(rule) - 1);
	rule[sizeof(rule) - 1] = '\0';
	return snprintf(buf, len, "%s\n%s\n", HEADER, rule);
}

const char *
dpn_source_addr_str(const struct dpn_source *s, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	buf[0] = '\0';
	if ((s->conf.family == AF_INET || s->conf.family == AF_INET6) &&
	    inet_ntop(s->conf.family, s->conf.addr, buf, len) == NULL)
		buf[0] = '\0';
	return buf;
}

/* A refid of up to four characters between dots: ".GPS.", ".RATE.". */
static void
refid_text(uint32_t refid, char *buf, size_t len)
{
	char code[5];
	unsigned int i;

	for (i = 0; i < 4; i++) {
		char ch = (char)(refid >> (24 - 8 * i));

		code[i] = ch;
		if (ch == '\0')
			break;
		if (ch < 0x20 || ch > 0x7e)
			code[i] = '?';
	}
	code[i] = '\0';
	snprintf(buf, len, ".%s.", code);
}

/*
 * What the refid column shows: a kiss that stopped or slowed us (until
 * the next good reply), the reference of a refclock or of a stratum
 * 0/1/16 server as text, or the server's upstream as a dotted quad (an
 * IPv6 upstream is a hash and looks like one too, as in ntpq).
 */
void
dpn_source_format_refid(const struct dpn_source *s, char *buf, size_t len)
{
	uint32_t r = s->refid;

	if (s->kiss != 0) {
		refid_text(s->kiss, buf, len);
	} else if (s->conf.type == DPN_SOURCE_TYPE_REFCLOCK) {
		refid_text(dpn_ntp_refid_from_str(s->conf.refid), buf, len);
	} else if (s->stratum <= 1 ||
		   s->stratum >= DPN_NTP_STRATUM_UNSYNC) {
		refid_text(r, buf, len);
	} else {
		snprintf(buf, len, "%u.%u.%u.%u", r >> 24, (r >> 16) & 0xff,
			 (r >> 8) & 0xff, r & 0xff);
	}
}

static char
type_column(const struct dpn_source *s)
{
	switch (s->conf.type) {
	case DPN_SOURCE_TYPE_REFCLOCK:
		return 'l';
	case DPN_SOURCE_TYPE_POOL:
		return 'p';
	default:
		return 'u';
	}
}

/*
 * An interval in four columns as ntpq shows it: seconds up to 2048,
 * then minutes up to 300, hours up to 96, then days.
 */
static void
interval_text(int64_t sec, char *buf, size_t len)
{
	if (sec < 0) {
		snprintf(buf, len, "-");
		return;
	}
	if (sec <= 2048) {
		snprintf(buf, len, "%" PRId64, sec);
		return;
	}
	sec = (sec + 30) / 60;
	if (sec <= 300) {
		snprintf(buf, len, "%" PRId64 "m", sec);
		return;
	}
	sec = (sec + 30) / 60;
	if (sec <= 96) {
		snprintf(buf, len, "%" PRId64 "h", sec);
		return;
	}
	snprintf(buf, len, "%" PRId64 "d", (sec + 12) / 24);
}

/*
 * Milliseconds with three decimals, fewer when the number would not fit
 * its column (a 16 s dispersion is "16000.0", not a wider line).
 */
static void
ms_text(int64_t ns, int width, char *buf, size_t len)
{
	double ms = (double)ns / 1e6;
	int decimals;

	for (decimals = 3; decimals > 0; decimals--)
		if (snprintf(buf, len, "%.*f", decimals, ms) <= width)
			return;
	snprintf(buf, len, "%.0f", ms);
}

int
dpn_source_format_peer(const struct dpn_source *s, int64_t now_ns,
		       char *buf, size_t len)
{
	char remote[64], refid[32], when[24], poll[24];
	char delay[32], offset[32], jitter[32];

	if (s->conf.name[0] != '\0')
		snprintf(remote, sizeof(remote), "%s", s->conf.name);
	else
		dpn_source_addr_str(s, remote, sizeof(remote));
	dpn_source_format_refid(s, refid, sizeof(refid));
	interval_text(s->last_rx_ns == 0 ? -1 :
		      (now_ns - s->last_rx_ns) / NS_PER_S, when,
		      sizeof(when));
	/* A refclock may poll below a second: shown as 0, as ntpq would. */
	interval_text(s->poll >= 0 ? 1LL << s->poll : 0, poll, sizeof(poll));
	ms_text(s->delay_ns, 7, delay, sizeof(delay));
	ms_text(s->offset_ns, 8, offset, sizeof(offset));
	ms_text(s->jitter_ns, 8, jitter, sizeof(jitter));
	return snprintf(buf, len,
			"%c%-15.15s %-15.15s %2u %c %4s %4s %5o %7s %8s %8s\n",
			(char)s->state, remote, refid, s->stratum,
			type_column(s), when, poll, (unsigned int)s->reach,
			delay, offset, jitter);
}
