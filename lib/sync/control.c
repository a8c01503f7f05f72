/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What ntpq reads (NTP mode 6): the system variables, the association
 * list, one association's variables and sysstats, from the same view
 * `show sysinfo` and `show peers` print. Runs on the management lcore,
 * the view's only writer, so it reads the view without its lock.
 *
 * Association IDs are the sources' positions in the view plus one
 * (`refclock system` first, the other refclocks, then the upstream
 * associations): stable while the configuration is, but an ID can move
 * when a pool association is replaced.
 *
 * Formats follow ntpd (NTPsec): milliseconds with six decimals, ppm,
 * timestamps as 0xSECONDS.FRACTION, reach in hex, strings quoted.
 */

#include <inttypes.h>
#include <string.h>

#include <rte_cycles.h>

#include "dpn_ntpctl.h"
#include "sync_private.h"

#define MS(ns) ((double)(ns) / 1e6)

/* An NTP timestamp as ntpd writes one. */
static void
put_ts(struct dpn_ntpctl_answer *a, const struct dpn_ntpctl_req *req,
       const char *name, uint64_t ts)
{
	dpn_ntpctl_put(a, req, name, "0x%08" PRIx32 ".%08" PRIx32,
		       (uint32_t)(ts >> 32), (uint32_t)ts);
}

/* The refid as ntpd sends it: an address, or the code without dots
 * (ntpq adds them), from the text show sysinfo or show peers prints. */
static void
put_refid(struct dpn_ntpctl_answer *a, const struct dpn_ntpctl_req *req,
	  char *buf)
{
	size_t n = strlen(buf);

	if (buf[0] == '.' && n >= 2 && buf[n - 1] == '.') {
		buf[n - 1] = '\0';
		dpn_ntpctl_put(a, req, "refid", "%s", buf + 1);
	} else {
		dpn_ntpctl_put(a, req, "refid", "%s", buf);
	}
}

static uint16_t
peer_status(const struct dpn_source *s, bool sys_peer)
{
	unsigned int bits = DPN_NTPCTL_PST_CONFIG;

	if (s->reach != 0)
		bits |= DPN_NTPCTL_PST_REACH;
	return dpn_ntpctl_peer_status(bits, sys_peer ? 6 :
		dpn_ntpctl_sel_of_tally((char)s->state), 0, 0);
}

static uint16_t
sys_status(const struct dpn_sync_view *v)
{
	unsigned int src = DPN_NTPCTL_SRC_UNSPEC;

	if (v->sel.sys_peer >= 0 &&
	    (unsigned int)v->sel.sys_peer < v->nb_sources)
		src = v->sources[v->sel.sys_peer].conf.type ==
			DPN_SOURCE_TYPE_REFCLOCK ? DPN_NTPCTL_SRC_OTHER :
			DPN_NTPCTL_SRC_NTP;
	return dpn_ntpctl_sys_status(v->leap, src, 0, 0);
}

/*
 * sysstats, from the counters of `show stats`. dpntpd never resets
 * them: the _r ("since reset") names give the same numbers, and
 * ss_reset is the uptime.
 */
static void
put_sysstats(const struct dpn_sync *sy, const uint64_t *c,
	     struct dpn_ntpctl_answer *a, const struct dpn_ntpctl_req *req)
{
	uint64_t up = (rte_rdtsc() - sy->start_tsc) / rte_get_tsc_hz();
	struct { const char *name; uint64_t v; } ss[] = {
		{ "ss_uptime", up },
		{ "ss_reset", up },
		{ "ss_numctlreq", c[DPN_STAT_NTP_REQUESTS_CONTROL] },
		{ "ss_received", c[DPN_STAT_RX_PACKETS] },
		{ "ss_thisver", c[DPN_STAT_NTP_REQUESTS_CLIENT_V4] +
			c[DPN_STAT_NTP_REQUESTS_SYMMETRIC_V4] },
		{ "ss_oldver", c[DPN_STAT_NTP_REQUESTS_CLIENT_V1] +
			c[DPN_STAT_NTP_REQUESTS_CLIENT_V2] +
			c[DPN_STAT_NTP_REQUESTS_CLIENT_V3] +
			c[DPN_STAT_NTP_REQUESTS_SYMMETRIC_V1] +
			c[DPN_STAT_NTP_REQUESTS_SYMMETRIC_V2] +
			c[DPN_STAT_NTP_REQUESTS_SYMMETRIC_V3] },
		{ "ss_ver1", c[DPN_STAT_NTP_REQUESTS_CLIENT_V1] +
			c[DPN_STAT_NTP_REQUESTS_SYMMETRIC_V1] },
		{ "ss_ver1client", c[DPN_STAT_NTP_REQUESTS_CLIENT_V1] },
		/* Mode 0 is not split by version: all of it. */
		{ "ss_ver1zero", c[DPN_STAT_DROP_NTP_MODE0] },
		{ "ss_ver1symm", c[DPN_STAT_NTP_REQUESTS_SYMMETRIC_V1] },
		{ "ss_badformat", c[DPN_STAT_DROP_NTP_SHORT] +
			c[DPN_STAT_DROP_NTP_VERSION] +
			c[DPN_STAT_DROP_NTP_ZERO_XMT] +
			c[DPN_STAT_DROP_UDP_LENGTH] +
			c[DPN_STAT_NTP_CTL_MALFORMED] },
		{ "ss_badauth", c[DPN_STAT_NTP_AUTH_UNKNOWN_KEY] +
			c[DPN_STAT_NTP_AUTH_BAD_MAC] +
			c[DPN_STAT_NTP_NTS_NAK] },
		{ "ss_declined", c[DPN_STAT_DROP_NTP_MODE0] +
			c[DPN_STAT_DROP_NTP_MODE2] +
			c[DPN_STAT_DROP_NTP_MODE5] +
			c[DPN_STAT_DROP_NTP_MODE7] },
		{ "ss_restricted", c[DPN_STAT_ACL_IGNORE] +
			c[DPN_STAT_ACL_NOSERVE] + c[DPN_STAT_ACL_NOQUERY] +
			c[DPN_STAT_ACL_NOPEER] + c[DPN_STAT_ACL_NOTRUST] +
			c[DPN_STAT_ACL_VERSION] },
		{ "ss_limited", c[DPN_STAT_RATE_LIMITED] },
		{ "ss_kodsent", c[DPN_STAT_KOD_SENT] },
		{ "ss_processed", c[DPN_STAT_NTP_SERVER_REPLIES] +
			c[DPN_STAT_NTP_SYMMETRIC_REPLIES] },
	};
	char name[DPN_NTPCTL_NAME_MAX];
	unsigned int i;

	for (i = 0; i < RTE_DIM(ss); i++) {
		dpn_ntpctl_put(a, req, ss[i].name, "%" PRIu64, ss[i].v);
		snprintf(name, sizeof(name), "%s_r", ss[i].name);
		dpn_ntpctl_put(a, req, name, "%" PRIu64, ss[i].v);
	}
}

static void
put_system(struct dpn_sync *sy, const struct dpn_sync_view *v,
	   struct dpn_ntpctl_answer *a, const struct dpn_ntpctl_req *req)
{
	const struct dpn_source *peer = NULL;
	char buf[64];
	static const char *const leapmode[] = {
		[DPN_SYNC_LEAP_NONE] = "none",
		[DPN_SYNC_LEAP_STEP] = "step",
		[DPN_SYNC_LEAP_SMEAR] = "smear",
	};

	if (v->sel.sys_peer >= 0 &&
	    (unsigned int)v->sel.sys_peer < v->nb_sources)
		peer = &v->sources[v->sel.sys_peer];
	dpn_ntpctl_put(a, req, "version", "\"dpntpd %s\"", DPN_VERSION);
	dpn_ntpctl_put(a, req, "leap", "%u", v->leap);
	dpn_ntpctl_put(a, req, "stratum", "%u", v->stratum);
	dpn_ntpctl_put(a, req, "precision", "%d", v->precision);
	dpn_ntpctl_put(a, req, "rootdelay", "%.6f", MS(v->root_delay_ns));
	dpn_ntpctl_put(a, req, "rootdisp", "%.6f", MS(v->root_disp_ns));
	sync_refid_str(v->refid, v->stratum, buf, sizeof(buf));
	put_refid(a, req, buf);
	put_ts(a, req, "reftime", v->ref_ns != 0 ?
	       dpn_ntp_ts_from_unix_ns(v->ref_ns) : 0);
	put_ts(a, req, "clock", dpn_ntp_ts_from_unix_ns(sync_now_ns(sy)));
	dpn_ntpctl_put(a, req, "peer", "%d", peer != NULL ?
		       v->sel.sys_peer + 1 : 0);
	dpn_ntpctl_put(a, req, "peeradr", "\"%s\"", peer != NULL ?
		       peer->conf.name : "none");
	dpn_ntpctl_put(a, req, "tc", "%d", peer != NULL ? peer->poll :
		       DPN_SOURCE_POLL_LIMIT_MIN);
	dpn_ntpctl_put(a, req, "offset", "%.6f", MS(v->offset_ns));
	dpn_ntpctl_put(a, req, "frequency", "%.6f", v->freq_ppm);
	dpn_ntpctl_put(a, req, "sys_jitter", "%.6f", MS(v->sys_jitter_ns));
	dpn_ntpctl_put(a, req, "clk_wander", "%.6f", v->clk_wander_ppm);
	/* What `show sysinfo` adds. */
	dpn_ntpctl_put(a, req, "sync", "\"%s\"", !v->synced ? "no" :
		       v->holdover ? "holdover" : "yes");
	dpn_ntpctl_put(a, req, "steps", "%" PRIu64, v->steps);
	dpn_ntpctl_put(a, req, "leapmode", "\"%s\"", leapmode[v->leap_mode]);
	if (v->leap_mode != DPN_SYNC_LEAP_NONE) {
		dpn_ntpctl_put(a, req, "tai", "%d", v->tai_offset);
		put_ts(a, req, "leapsec", v->leap_next == 0 ? 0 :
		       dpn_ntp_ts_from_unix_ns(v->leap_when_s *
					       (int64_t)DPN_NSEC_PER_SEC));
		put_ts(a, req, "expire", dpn_ntp_ts_from_unix_ns(
			v->leap_expires_s * (int64_t)DPN_NSEC_PER_SEC));
		dpn_ntpctl_put(a, req, "smear", "%.6f", MS(v->smear_ns));
	}
	/* Asked for by name only, as ntpd's. */
	if (req->nb_names != 0) {
		struct dpn_stats t;

		dpn_dataplane_sum_stats(sy->dp, &t);
		put_sysstats(sy, t.c, a, req);
	}
}

/* The eight clock filter stages, newest first, as ntpd's lists. */
static void
put_filter(struct dpn_ntpctl_answer *a, const struct dpn_ntpctl_req *req,
	   const struct dpn_source *s, const char *name, size_t field)
{
	char list[DPN_SOURCE_FILTER_LEN * 16] = "";
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < DPN_SOURCE_FILTER_LEN; i++) {
		const struct dpn_source_sample *f = &s->filter[
			(s->filter_next + DPN_SOURCE_FILTER_LEN - 1 - i) %
			DPN_SOURCE_FILTER_LEN];
		int64_t ns;

		memcpy(&ns, (const char *)f + field, sizeof(ns));
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%.3f",
				      i ? " " : "", f->epoch_ns ? MS(ns) : 0.0);
		if (n >= sizeof(list))
			break;
	}
	dpn_ntpctl_put(a, req, name, "\"%s\"", list);
}

static void
put_peer(const struct dpn_sync_view *v, unsigned int idx,
	 struct dpn_ntpctl_answer *a, const struct dpn_ntpctl_req *req)
{
	const struct dpn_source *s = &v->sources[idx];
	char addr[64], refid[64];
	bool clock = s->conf.type == DPN_SOURCE_TYPE_REFCLOCK;

	dpn_source_addr_str(s, addr, sizeof(addr));
	if (!clock) {
		dpn_ntpctl_put(a, req, "srcadr", "%s", addr);
		dpn_ntpctl_put(a, req, "srcport", "%u", DPN_NTP_PORT);
	}
	/* ntpq tells a refclock by the parenthesis in its srchost. */
	if (clock || strcmp(addr, s->conf.name) != 0)
		dpn_ntpctl_put(a, req, "srchost", "\"%s\"", s->conf.name);
	dpn_ntpctl_put(a, req, "leap", "%u", s->leap);
	dpn_ntpctl_put(a, req, "stratum", "%u", s->stratum);
	dpn_ntpctl_put(a, req, "precision", "%d", s->precision);
	dpn_ntpctl_put(a, req, "rootdelay", "%.6f", MS(s->root_delay_ns));
	dpn_ntpctl_put(a, req, "rootdisp", "%.6f", MS(s->root_disp_ns));
	dpn_source_format_refid(s, refid, sizeof(refid));
	put_refid(a, req, refid);
	if (s->reftime != 0)
		put_ts(a, req, "reftime", s->reftime);
	if (s->last_rx_ns != 0)
		put_ts(a, req, "rec", dpn_ntp_ts_from_unix_ns(s->last_rx_ns));
	dpn_ntpctl_put(a, req, "reach", "0x%02x", s->reach);
	dpn_ntpctl_put(a, req, "unreach", "%u", s->unreach);
	dpn_ntpctl_put(a, req, "hmode", "%d", DPN_NTP_MODE_CLIENT);
	dpn_ntpctl_put(a, req, "pmode", "%d", DPN_NTP_MODE_SERVER);
	dpn_ntpctl_put(a, req, "hpoll", "%d", s->poll);
	/* A refclock sends no poll field: its own poll, as ntpd. */
	dpn_ntpctl_put(a, req, "ppoll", "%d", s->ppoll > 0 ? s->ppoll :
		       s->poll);
	dpn_ntpctl_put(a, req, "offset", "%.6f", MS(s->offset_ns));
	dpn_ntpctl_put(a, req, "delay", "%.6f", MS(s->delay_ns));
	dpn_ntpctl_put(a, req, "dispersion", "%.6f", MS(s->disp_ns));
	dpn_ntpctl_put(a, req, "jitter", "%.6f", MS(s->jitter_ns));
	put_filter(a, req, s, "filtdelay",
		   offsetof(struct dpn_source_sample, delay_ns));
	put_filter(a, req, s, "filtoffset",
		   offsetof(struct dpn_source_sample, offset_ns));
	put_filter(a, req, s, "filtdisp",
		   offsetof(struct dpn_source_sample, disp_ns));
}

void
sync_ctl_answer(void *arg, const struct dpn_ntpctl_req *req,
		struct dpn_ntpctl_answer *a)
{
	struct dpn_sync *sy = arg;
	const struct dpn_sync_view *v = &sy->view;
	unsigned int i, idx = req->assoc - 1u;
	bool known = req->assoc != 0 && idx < v->nb_sources;

	a->status = sys_status(v);
	switch (req->opcode) {
	case DPN_NTPCTL_OP_READSTAT:
		if (req->assoc == 0) {
			for (i = 0; i < v->nb_sources; i++)
				dpn_ntpctl_put_assoc(a, (uint16_t)(i + 1),
					peer_status(&v->sources[i],
						    (int)i == v->sel.sys_peer));
		} else if (known) {
			a->status = peer_status(&v->sources[idx],
						(int)idx == v->sel.sys_peer);
		} else {
			dpn_ntpctl_answer_error(a, DPN_NTPCTL_ERR_BADASSOC);
		}
		return;
	case DPN_NTPCTL_OP_READVAR:
		if (req->assoc == 0) {
			put_system(sy, v, a, req);
		} else if (known) {
			a->status = peer_status(&v->sources[idx],
						(int)idx == v->sel.sys_peer);
			put_peer(v, idx, a, req);
		} else {
			dpn_ntpctl_answer_error(a, DPN_NTPCTL_ERR_BADASSOC);
			return;
		}
		dpn_ntpctl_answer_check_names(a, req);
		return;
	default:	/* clock variables, traps and what is unknown */
		dpn_ntpctl_answer_error(a, DPN_NTPCTL_ERR_BADOP);
		return;
	}
}
