/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `show peers` and `show sysinfo`: what ntpq -p and ntpq -c rv print,
 * from the management lcore's copy of its state.
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "sync_private.h"

static struct dpn_sync_view *
view_copy(struct dpn_sync *sy)
{
	struct dpn_sync_view *v = malloc(sizeof(*v));

	if (v != NULL)
		dpn_sync_view_read(sy, v);
	return v;
}

void
dpn_sync_show_peers(struct dpn_sync *sy, FILE *f)
{
	struct dpn_sync_view *v = view_copy(sy);
	char line[256];
	unsigned int i;

	if (v == NULL)
		return;
	dpn_source_format_peers_header(line, sizeof(line));
	fputs(line, f);
	for (i = 0; i < v->nb_sources; i++) {
		dpn_source_format_peer(&v->sources[i], v->now_ns, line,
				       sizeof(line));
		fputs(line, f);
	}
	free(v);
}

/* ntpq's refid: dotted quad for stratum 2+, .CODE. for a reference. */
void
sync_refid_str(uint32_t refid, unsigned int stratum, char *buf, size_t len)
{
	char code[5];
	int i;

	if (stratum >= 2 && stratum < DPN_NTP_STRATUM_UNSYNC) {
		uint32_t be = htonl(refid);

		inet_ntop(AF_INET, &be, buf, len);
		return;
	}
	for (i = 0; i < 4; i++) {
		char c = (char)(refid >> (24 - 8 * i));

		code[i] = (c >= 0x20 && c < 0x7f) ? c : '\0';
	}
	code[4] = '\0';
	snprintf(buf, len, ".%s.", code);
}

/* "e9f0c4a1.1f2e3d4c  Fri, Nov 27 2026  4:20:00.123", as ntpq. */
static void
time_str(int64_t unix_ns, char *buf, size_t len)
{
	uint64_t ts = unix_ns != 0 ? dpn_ntp_ts_from_unix_ns(unix_ns) : 0;
	time_t t = (time_t)(unix_ns / 1000000000LL);
	struct tm tm;
	char date[64];

	if (unix_ns == 0) {
		snprintf(buf, len, "00000000.00000000");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %b %d %Y %H:%M:%S", &tm);
	snprintf(buf, len, "%08" PRIx32 ".%08" PRIx32 "  %s.%03d",
		 (uint32_t)(ts >> 32), (uint32_t)ts, date,
		 (int)((unix_ns / 1000000) % 1000));
}

static const char *
leap_mode_str(enum dpn_sync_leap_mode m)
{
	switch (m) {
	case DPN_SYNC_LEAP_STEP:
		return "step";
	case DPN_SYNC_LEAP_SMEAR:
		return "smear";
	default:
		return "none";
	}
}

void
dpn_sync_show_sysinfo(struct dpn_sync *sy, FILE *f)
{
	struct dpn_sync_view *v = view_copy(sy);
	char buf[128];
	const char *peer = "none";

	if (v == NULL)
		return;
	if (v->sel.sys_peer >= 0 &&
	    (unsigned int)v->sel.sys_peer < v->nb_sources)
		peer = v->sources[v->sel.sys_peer].conf.name;
	fprintf(f, "sync=%s\n", !v->synced ? "no" :
		v->holdover ? "holdover" : "yes");
	fprintf(f, "leap=%u%u\n", (v->leap >> 1) & 1, v->leap & 1);
	fprintf(f, "stratum=%u\n", v->stratum);
	fprintf(f, "precision=%d\n", v->precision);
	fprintf(f, "rootdelay=%.3f\n", (double)v->root_delay_ns / 1e6);
	fprintf(f, "rootdisp=%.3f\n", (double)v->root_disp_ns / 1e6);
	sync_refid_str(v->refid, v->stratum, buf, sizeof(buf));
	fprintf(f, "refid=%s\n", buf);
	time_str(v->ref_ns, buf, sizeof(buf));
	fprintf(f, "reftime=%s\n", buf);
	time_str(v->now_ns, buf, sizeof(buf));
	fprintf(f, "clock=%s\n", buf);
	fprintf(f, "peer=%s\n", peer);
	fprintf(f, "offset=%.6f\n", (double)v->offset_ns / 1e6);
	fprintf(f, "frequency=%.3f\n", v->freq_ppm);
	fprintf(f, "sys_jitter=%.6f\n", (double)v->sys_jitter_ns / 1e6);
	fprintf(f, "clk_wander=%.3f\n", v->clk_wander_ppm);
	fprintf(f, "steps=%" PRIu64 "\n", v->steps);
	fprintf(f, "leapmode=%s\n", leap_mode_str(v->leap_mode));
	if (v->leap_mode != DPN_SYNC_LEAP_NONE) {
		fprintf(f, "tai=%d\n", v->tai_offset);
		if (v->leap_next != 0)
			fprintf(f, "leapsec=%s at %" PRId64 "\n",
				v->leap_next > 0 ? "insert" : "delete",
				v->leap_when_s);
		else
			fprintf(f, "leapsec=none\n");
		fprintf(f, "expire=%" PRId64 "\n", v->leap_expires_s);
		fprintf(f, "smear=%.6f\n", (double)v->smear_ns / 1e6);
	}
	free(v);
}

/* JSON string without escapes: the values here are addresses, names
 * from the configuration (host name characters only) and numbers. */
static void
json_kv(FILE *f, bool *first, const char *k, const char *v)
{
	char *end;

	/* Numbers as numbers, the rest as strings. */
	strtod(v, &end);
	/* JSON numbers have no leading zeros ("00" is leap's bits). */
	if (*v != '\0' && *end == '\0' && strspn(v, "+-0123456789.") ==
	    strlen(v) && !(v[strspn(v, "+-")] == '0' &&
			   v[strspn(v, "+-") + 1] >= '0' &&
			   v[strspn(v, "+-") + 1] <= '9'))
		fprintf(f, "%s\"%s\": %s", *first ? "" : ", ", k,
			v[0] == '+' ? v + 1 : v);
	else
		fprintf(f, "%s\"%s\": \"%s\"", *first ? "" : ", ", k, v);
	*first = false;
}

void
dpn_sync_show_sysinfo_json(struct dpn_sync *sy, FILE *f)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	bool first = true;
	FILE *m = open_memstream(&text, &len);

	if (m == NULL)
		return;
	dpn_sync_show_sysinfo(sy, m);
	fclose(m);
	fputc('{', f);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		json_kv(f, &first, line, eq + 1);
	}
	fputs("}\n", f);
	free(text);
}

void
dpn_sync_show_peers_json(struct dpn_sync *sy, FILE *f)
{
	struct dpn_sync_view *v = view_copy(sy);
	unsigned int i;

	if (v == NULL)
		return;
	fputs("{\"peers\": [", f);
	for (i = 0; i < v->nb_sources; i++) {
		const struct dpn_source *s = &v->sources[i];
		char addr[INET6_ADDRSTRLEN];
		char refid[INET6_ADDRSTRLEN];

		dpn_source_addr_str(s, addr, sizeof(addr));
		sync_refid_str(s->refid, s->stratum, refid, sizeof(refid));
		fprintf(f, "%s{\"tally\": \"%c\", \"remote\": \"%s\", "
			"\"address\": \"%s\", \"refid\": \"%s\", "
			"\"stratum\": %u, \"poll\": %d, \"reach\": %u, "
			"\"last_rx_ns\": %" PRId64 ", \"delay_ns\": %" PRId64
			", \"offset_ns\": %" PRId64 ", \"jitter_ns\": %" PRId64
			", \"sent\": %" PRIu64 ", \"received\": %" PRIu64
			", \"refused\": %" PRIu64 "}",
			i ? ", " : "", (char)s->state, s->conf.name, addr,
			refid, s->stratum, s->poll, s->reach, s->last_rx_ns,
			s->delay_ns, s->offset_ns, s->jitter_ns, s->nb_sent,
			s->nb_rx_ok, s->nb_rx_bad);
	}
	fprintf(f, "], \"system_peer\": %d}\n", v->sel.sys_peer);
	free(v);
}
