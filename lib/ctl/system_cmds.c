/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Commands about the process rather than the clients: which lcore does
 * what (show lcores), log levels (set log level), and the PTP
 * reference's state (show ptp).
 */

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_lcore.h>
#include <rte_log.h>

#include "dpn_ctl.h"
#include "ctl_private.h"

static const struct dpn_worker *
lcore_worker(const struct dpn_dataplane *dp, unsigned int lcore)
{
	unsigned int i;

	for (i = 0; i < dp->nb_workers; i++)
		if (dp->workers[i]->lcore_id == lcore)
			return dp->workers[i];
	return NULL;
}

double
ctl_busy_percent(const struct dpn_worker *w)
{
	uint64_t tot = __atomic_load_n(&w->total_cycles, __ATOMIC_RELAXED);
	uint64_t busy = __atomic_load_n(&w->busy_cycles, __ATOMIC_RELAXED);

	return tot ? 100.0 * (double)busy / (double)tot : 0.0;
}

static const char *
lcore_role(const struct dpn_worker *w, unsigned int lcore)
{
	if (lcore == rte_get_main_lcore())
		return "main";
	return w != NULL ? "worker" : "idle";
}

static void
lcore_json(FILE *f, unsigned int lcore, const struct dpn_worker *w)
{
	unsigned int i;

	fprintf(f, "{\"lcore\": %u, \"role\": \"%s\", \"socket\": %u, "
		"\"cpu\": %d, \"busy_percent\": ", lcore, lcore_role(w, lcore),
		rte_lcore_to_socket_id(lcore), dpn_lcore_cpu(lcore));
	if (w != NULL)
		fprintf(f, "%.1f", ctl_busy_percent(w));
	else
		fputs("null", f);
	fputs(", \"polls\": [", f);
	for (i = 0; w != NULL && i < w->nb_rxq; i++)
		fprintf(f, "%s{\"port\": %u, \"queue\": %u}", i ? ", " : "",
			w->rxq[i].port_id, w->rxq[i].queue_id);
	fputs("]}", f);
}

static void
lcore_text(FILE *f, unsigned int lcore, const struct dpn_worker *w)
{
	unsigned int i;
	char cpus[64];

	dpn_lcore_cpus_format(lcore, cpus, sizeof(cpus));
	fprintf(f, "%5u %-6s %6u %4s ", lcore, lcore_role(w, lcore),
		rte_lcore_to_socket_id(lcore), cpus);
	if (w != NULL)
		fprintf(f, "%6.1f ", ctl_busy_percent(w));
	else
		fprintf(f, "%6s ", "-");
	if (lcore == rte_get_main_lcore())
		fputs(" clock, slow path (ARP, NDP, ICMP)", f);
	for (i = 0; w != NULL && i < w->nb_rxq; i++)
		fprintf(f, " port %u queue %u%s", w->rxq[i].port_id,
			w->rxq[i].queue_id, i + 1 < w->nb_rxq ? "," : "");
	fputc('\n', f);
}

void
dpn_ctl_show_lcores(FILE *f)
{
	const struct dpn_dataplane *dp = dpn_runtime_get()->dp;
	bool json = ctl_json();
	unsigned int lcore, n = 0;

	if (json)
		fputs("{\"lcores\": [", f);
	else
		fprintf(f, "%5s %-6s %6s %4s %6s  %s\n", "lcore", "role",
			"socket", "cpu", "busy%", "polls");
	RTE_LCORE_FOREACH(lcore) {
		const struct dpn_worker *w = lcore_worker(dp, lcore);

		if (json) {
			fputs(n++ ? ", " : "", f);
			lcore_json(f, lcore, w);
		} else {
			lcore_text(f, lcore, w);
		}
	}
	if (json)
		fputs("]}\n", f);
}

void
dpn_ctl_show_ptp(FILE *f)
{
	dpn_sync_show_ptp(dpn_runtime_get()->sync, f, ctl_json());
}

void
dpn_ctl_show_refclocks(FILE *f)
{
	dpn_sync_show_refclocks(dpn_runtime_get()->sync, f, ctl_json());
}

static const char *const level_names[] = {
	[RTE_LOG_EMERG] = "emerg", [RTE_LOG_ALERT] = "alert",
	[RTE_LOG_CRIT] = "crit", [RTE_LOG_ERR] = "err",
	[RTE_LOG_WARNING] = "warning", [RTE_LOG_NOTICE] = "notice",
	[RTE_LOG_INFO] = "info", [RTE_LOG_DEBUG] = "debug",
};

static int
level_from_name(const char *name)
{
	unsigned int i;

	for (i = RTE_LOG_EMERG; i <= RTE_LOG_DEBUG; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	/* DPDK's own spelling, --log-level=...:error, and a number. */
	if (strcasecmp(name, "error") == 0)
		return RTE_LOG_ERR;
	if (name[0] >= '1' && name[0] <= '8' && name[1] == '\0')
		return name[0] - '0';
	return -1;
}

/*
 * The names of the log types that @p pattern matches, from
 * rte_log_dump() ("id N: NAME, level is LEVEL"): DPDK 22.11 has no
 * other way to list them. Returns how many match.
 */
static unsigned int
log_types_matching(const char *pattern, FILE *out)
{
	char *dump = NULL, *line, *save = NULL;
	size_t len = 0;
	unsigned int n = 0;
	FILE *f;

	f = open_memstream(&dump, &len);
	if (f == NULL)
		return 0;
	rte_log_dump(f);
	fclose(f);
	for (line = strtok_r(dump, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *name = strchr(line, ':'), *end;

		if (strncmp(line, "id ", 3) != 0 || name == NULL)
			continue;
		name += 2;
		end = strchr(name, ',');
		if (end == NULL)
			continue;
		*end = '\0';
		if (fnmatch(pattern, name, 0) != 0)
			continue;
		if (out != NULL)
			fprintf(out, "%s%s", n ? ", " : "", name);
		n++;
	}
	free(dump);
	return n;
}

int
dpn_ctl_set_log_level(FILE *f, const char *pattern, const char *level,
		      char *err, size_t errlen)
{
	int lv = level_from_name(level);

	if (pattern == NULL)
		pattern = "dpntp.*";
	if (lv < 0) {
		snprintf(err, errlen, "unknown log level '%s' (emerg, alert, "
			 "crit, err, warning, notice, info, debug)", level);
		return -1;
	}
	if (log_types_matching(pattern, NULL) == 0) {
		snprintf(err, errlen, "no log type matches '%s' (dpntp.*, "
			 "eal, pmd.net.*, ...)", pattern);
		return -1;
	}
	if (rte_log_set_level_pattern(pattern, (uint32_t)lv) != 0) {
		snprintf(err, errlen, "cannot set the level of '%s'",
			 pattern);
		return -1;
	}
	fprintf(f, "log level %s for ", level_names[lv]);
	log_types_matching(pattern, f);
	fputc('\n', f);
	return 0;
}
