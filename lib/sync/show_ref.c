/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `show refclocks` and `show ptp`: the refclock lines at work, from the
 * management lcore's copy of its state (text, or JSON for dpntpc).
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
dpn_sync_refclock_target(const struct dpn_conf_refclock *c, char *buf, size_t len)
{
	switch (c->type) {
	case DPN_CONF_REFCLOCK_SHM:
		snprintf(buf, len, "segment %u (key 0x%08x)", c->unit,
			 DPN_REFCLOCK_SHM_KEY(c->unit));
		break;
	case DPN_CONF_REFCLOCK_PTP:
		snprintf(buf, len, "port %u domain %u %s", c->port, c->domain,
			 c->transport == DPN_CONF_PTP_L2 ? "l2" : "udp4");
		break;
	default:
		snprintf(buf, len, "%s", c->path);
		break;
	}
}

/* JSON string body: the error texts are ours, but may hold a path. */
static void
json_text(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void
dpn_sync_show_refclocks(struct dpn_sync *sy, FILE *f, bool json)
{
	struct dpn_sync_view *v = view_copy(sy);
	unsigned int i;

	if (v == NULL)
		return;
	if (json)
		fputs("{\"refclocks\": [", f);
	else if (v->nb_refclocks == 0)
		fputs("no refclock lines (besides refclock system)\n", f);
	for (i = 0; i < v->nb_refclocks; i++) {
		const struct dpn_sync_refclock_info *r = &v->refclocks[i];
		const struct dpn_source *s = &v->sources[r->source_index];
		char target[DPN_CONF_PATH_MAX + 32];

		dpn_sync_refclock_target(&r->conf, target, sizeof(target));
		if (json) {
			fprintf(f, "%s{\"name\": ", i ? ", " : "");
			json_text(f, s->conf.name);
			fprintf(f, ", \"type\": \"%s\", \"target\": ",
				dpn_conf_refclock_type_str(r->conf.type));
			json_text(f, target);
			fprintf(f, ", \"refid\": \"%.4s\", \"line\": %u, \"open\": %s, \"up\": %s, \"selected\": %s, \"tally\": \"%c\", \"reach\": %u, \"poll\": %d, \"readings\": %" PRIu64 ", \"rejected\": %" PRIu64 ", \"unnumbered\": %" PRIu64 ", \"samples\": %" PRIu64 ", \"losses\": %" PRIu64 ", \"offset_ns\": %" PRId64 ", \"disp_ns\": %" PRId64 ", \"jitter_ns\": %" PRId64 ", \"error\": ",
				r->conf.refid, r->conf.line,
				r->open ? "true" : "false",
				r->up ? "true" : "false",
				s->state == DPN_SOURCE_ST_SYSPEER ? "true" :
				"false", (char)s->state, s->reach,
				r->conf.poll, r->readings, r->rejected,
				r->unnumbered, r->samples, r->losses,
				r->offset_ns, r->disp_ns, s->jitter_ns);
			json_text(f, r->error);
			fputs("}", f);
			continue;
		}
		fprintf(f, "%c%-12s %-5s %s (line %u)\n", (char)s->state,
			s->conf.name, r->conf.refid, target, r->conf.line);
		fprintf(f, "  %s, %s, reach %03o, poll %d\n",
			r->open ? "open" : "not open",
			r->up ? "delivering" : "not delivering", s->reach,
			r->conf.poll);
		fprintf(f, "  readings %" PRIu64 ", rejected %" PRIu64
			", unnumbered pulses %" PRIu64 ", samples %" PRIu64
			", lost %" PRIu64 " times\n", r->readings,
			r->rejected, r->unnumbered, r->samples, r->losses);
		fprintf(f, "  last sample: offset %+.9f s, spread %.9f s; jitter %.9f s\n",
			(double)r->offset_ns / 1e9, (double)r->disp_ns / 1e9,
			(double)s->jitter_ns / 1e9);
		if (r->error[0] != '\0')
			fprintf(f, "  error: %s\n", r->error);
	}
	if (json)
		fputs("]}\n", f);
	free(v);
}

static void
show_ptp_json(FILE *f, const struct dpn_sync_refclock_info *r,
	      const struct dpn_source *s, bool first)
{
	const struct dpn_sync_ptp_info *p = &r->ptp;
	const struct dpn_ptp_counters *c = &p->counters;
	char id[DPN_PTP_PORT_ID_STRLEN] = "";
	struct dpn_ptp_port_identity gm;

	fprintf(f, "%s{\"name\": \"%s\", \"port\": %u, \"domain\": %u, \"transport\": \"%s\", \"state\": \"%s\", \"selected\": %s, \"master\": ",
		first ? "" : ", ", s->conf.name, r->conf.port, r->conf.domain,
		r->conf.transport == DPN_CONF_PTP_L2 ? "l2" : "udp4",
		dpn_ptp_state_str(p->state),
		s->state == DPN_SOURCE_ST_SYSPEER ? "true" : "false");
	if (p->have_master) {
		const struct dpn_ptp_master *m = &p->master;

		dpn_ptp_port_identity_str(&m->port, id, sizeof(id));
		fprintf(f, "{\"port_identity\": \"%s\", ", id);
		memcpy(gm.clock_id, m->gm_id, sizeof(gm.clock_id));
		gm.port_number = 0;
		dpn_ptp_port_identity_str(&gm, id, sizeof(id));
		/* The grandmaster is a clock: no port number. */
		*strrchr(id, '-') = '\0';
		fprintf(f, "\"grandmaster\": \"%s\", \"priority1\": %u, \"clock_class\": %u, \"clock_accuracy\": %u, \"variance\": %u, \"priority2\": %u, \"steps_removed\": %u, \"timescale\": \"%s\", \"utc_offset\": %d, \"utc_offset_valid\": %s}",
			id, m->priority1, m->clock_class, m->clock_accuracy,
			m->variance, m->priority2, m->steps_removed,
			m->ptp_timescale ? "ptp" : "arb", m->utc_offset,
			m->utc_offset_valid ? "true" : "false");
	} else {
		fputs("null", f);
	}
	fprintf(f, ", \"offset_ns\": %" PRId64 ", \"mean_path_delay_ns\": %" PRId64 ", \"ieee1588\": %s, \"rx_stamps\": \"%s\", \"tx_stamps\": \"%s\", \"counters\": {\"rx_announce\": %" PRIu64 ", \"rx_sync\": %" PRIu64 ", \"rx_follow_up\": %" PRIu64 ", \"rx_delay_resp\": %" PRIu64 ", \"tx_delay_req\": %" PRIu64 ", \"rx_bad\": %" PRIu64 ", \"rx_other_domain\": %" PRIu64 ", \"rx_not_master\": %" PRIu64 ", \"rx_unmatched\": %" PRIu64 ", \"delay_outliers\": %" PRIu64 ", \"master_changes\": %" PRIu64 ", \"announce_timeouts\": %" PRIu64 ", \"delay_resp_missing\": %" PRIu64 ", \"rx_stamp_nic\": %" PRIu64 ", \"rx_stamp_tsc\": %" PRIu64 ", \"tx_stamps\": %" PRIu64 ", \"tx_unstamped\": %" PRIu64 ", \"tx_failed\": %" PRIu64 ", \"igmp_reports\": %" PRIu64 ", \"tx_stamp_nic\": %" PRIu64 ", \"hw_mismatch\": %" PRIu64 "}}",
		p->offset_ns, p->delay_ns, p->ieee1588 ? "true" : "false",
		p->rx_nic ? "nic" : "tsc", p->tx_stamp_nic > 0 ? "nic" : "tsc",
		c->rx_announce, c->rx_sync, c->rx_follow_up, c->rx_delay_resp,
		c->tx_delay_req, c->rx_bad, c->rx_other_domain,
		c->rx_not_master, c->rx_unmatched, c->delay_outliers,
		c->master_changes, c->announce_timeouts, c->delay_resp_missing,
		p->rx_stamp_nic, p->rx_stamp_tsc, p->tx_stamps,
		p->tx_unstamped, p->tx_failed, p->igmp_reports,
		p->tx_stamp_nic, p->hw_mismatch);
}

static void
show_ptp_text(FILE *f, const struct dpn_sync_refclock_info *r,
	      const struct dpn_source *s)
{
	const struct dpn_sync_ptp_info *p = &r->ptp;
	const struct dpn_ptp_counters *c = &p->counters;
	char id[DPN_PTP_PORT_ID_STRLEN] = "";

	fprintf(f, "%s: port %u, domain %u, %s, state %s%s\n", s->conf.name,
		r->conf.port, r->conf.domain,
		r->conf.transport == DPN_CONF_PTP_L2 ? "Layer 2" : "UDP/IPv4",
		dpn_ptp_state_str(p->state),
		s->state == DPN_SOURCE_ST_SYSPEER ? ", selected" : "");
	if (p->have_master) {
		const struct dpn_ptp_master *m = &p->master;

		dpn_ptp_port_identity_str(&m->port, id, sizeof(id));
		fprintf(f, "  master %s: priority1 %u, class %u, accuracy 0x%02x, variance 0x%04x, priority2 %u, steps removed %u\n",
			id, m->priority1, m->clock_class, m->clock_accuracy,
			m->variance, m->priority2, m->steps_removed);
		fprintf(f, "  timescale %s%s\n", m->ptp_timescale ?
			"PTP (TAI, UTC offset " : "ARB (taken as UTC)",
			m->ptp_timescale ? (m->utc_offset_valid ?
					    "valid)" : "not valid)") : "");
		if (m->ptp_timescale)
			fprintf(f, "  UTC offset %d s\n", m->utc_offset);
	} else {
		fputs("  no master\n", f);
	}
	fprintf(f, "  offset %+.9f s, mean path delay %.9f s\n",
		(double)p->offset_ns / 1e9, (double)p->delay_ns / 1e9);
	if (p->ieee1588)
		fprintf(f, "  stamps: IEEE 1588 registers: receive %s (%"
			PRIu64 " nic, %" PRIu64 " tsc), transmit %s (%" PRIu64
			" nic, %" PRIu64 " tsc, %" PRIu64 " missed), %" PRIu64
			" not the frame's\n",
			p->rx_nic ? "nic" : "tsc", p->rx_stamp_nic,
			p->rx_stamp_tsc, p->tx_stamp_nic > 0 ? "nic" : "tsc",
			p->tx_stamp_nic, p->tx_stamps - p->tx_stamp_nic,
			p->tx_unstamped, p->hw_mismatch);
	else
		fprintf(f, "  stamps: receive %s (%" PRIu64 " nic, %" PRIu64
			" tsc), transmit tsc around tx_burst (%" PRIu64
			", %" PRIu64 " missed)\n",
			p->rx_nic ? "nic" : "tsc", p->rx_stamp_nic,
			p->rx_stamp_tsc, p->tx_stamps, p->tx_unstamped);
	fprintf(f, "  rx announce %" PRIu64 ", sync %" PRIu64 ", follow_up %"
		PRIu64 ", delay_resp %" PRIu64 "; tx delay_req %" PRIu64
		" (%" PRIu64 " failed)\n", c->rx_announce, c->rx_sync,
		c->rx_follow_up, c->rx_delay_resp, c->tx_delay_req,
		p->tx_failed);
	fprintf(f, "  bad %" PRIu64 ", other domain %" PRIu64
		", not from master %" PRIu64 ", unmatched %" PRIu64
		", delay outliers %" PRIu64 ", master changes %" PRIu64
		", announce timeouts %" PRIu64 ", igmp reports %" PRIu64 "\n",
		c->rx_bad, c->rx_other_domain, c->rx_not_master,
		c->rx_unmatched, c->delay_outliers, c->master_changes,
		c->announce_timeouts, p->igmp_reports);
}

void
dpn_sync_show_ptp(struct dpn_sync *sy, FILE *f, bool json)
{
	struct dpn_sync_view *v = view_copy(sy);
	unsigned int i, n = 0;

	if (v == NULL)
		return;
	if (json)
		fputs("{\"ptp\": [", f);
	for (i = 0; i < v->nb_refclocks; i++) {
		const struct dpn_sync_refclock_info *r = &v->refclocks[i];

		if (r->conf.type != DPN_CONF_REFCLOCK_PTP)
			continue;
		if (json)
			show_ptp_json(f, r, &v->sources[r->source_index],
				      n == 0);
		else
			show_ptp_text(f, r, &v->sources[r->source_index]);
		n++;
	}
	if (json)
		fputs("]}\n", f);
	else if (n == 0)
		fputs("no PTP reference configured (refclock ptp port P ...)\n",
		      f);
	free(v);
}
