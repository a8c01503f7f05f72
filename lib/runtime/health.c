/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The health verdict of the running daemon: the management lcore
 * gathers lib/health's inputs every DPN_HEALTH_PERIOD_NS (the served
 * clock from lib/sync, each worker's poll counter, each port's link as
 * the last link poll saw it, the drain file) and publishes the verdict;
 * the control socket, /health, /metrics and telemetry read it without a
 * lock. Nothing here runs on a worker: the drain file's stat() is done
 * on the management lcore, at most once a second.
 */

#include <sys/stat.h>

#include "dpn_neigh.h"
#include "dpn_runtime.h"

#define DRAIN_CHECK_NS (1000 * 1000 * 1000ll)
/* A verdict this old means the management lcore no longer evaluates:
 * say unhealthy rather than repeat what it last saw. */
#define STALE_NS (2 * 1000 * 1000 * 1000ll)
#define SEC_NS 1e9

static struct dpn_health health;
static int64_t next_eval_ns;
static int64_t next_drain_ns;
static bool drain_seen;

static void
params_of(const struct dpn_conf *c, struct dpn_health_params *p)
{
	p->max_offset_ns = (int64_t)(c->health.maxoffset_s * SEC_NS);
	p->max_distance_ns = (int64_t)(c->health.maxdistance_s * SEC_NS);
	p->holdover_ns = (int64_t)c->disc.holdover_s * 1000000000ll;
	p->stall_ns = (int64_t)c->health.stall_ms * 1000000ll;
}

unsigned int
dpn_runtime_health_poll(void)
{
	struct dpn_runtime *rt = dpn_runtime_get();
	int64_t now = (int64_t)dpn_neigh_now_ns();
	uint64_t polls[DPN_HEALTH_MAX_WORKERS];
	bool down[DPN_HEALTH_MAX_PORTS];
	struct dpn_health_input in;
	struct dpn_sync_health sh;
	struct dpn_health_params p;
	unsigned int i;

	if (rt == NULL || now < next_eval_ns)
		return 0;
	next_eval_ns = now + DPN_HEALTH_PERIOD_NS;
	/*
	 * The thresholds as the running configuration has them: a reload
	 * changes them under the runtime lock. Never wait for it here (a
	 * reload may be reading a file): the old ones do for one turn.
	 */
	if (dpn_runtime_trylock()) {
		params_of(rt->conf, &p);
		if (now >= next_drain_ns) {
			struct stat st;

			next_drain_ns = now + DRAIN_CHECK_NS;
			drain_seen = rt->conf->health.drainfile[0] != '\0' &&
				stat(rt->conf->health.drainfile, &st) == 0;
		}
		dpn_runtime_unlock();
		if (!health.started)
			dpn_health_init(&health, &p);
		else
			dpn_health_set_params(&health, &p);
	}
	if (!health.started && health.params.stall_ns == 0)
		return 0;	/* no thresholds yet */

	dpn_sync_health_read(rt->sync, &sh);
	in = (struct dpn_health_input){
		.now_ns = now, .synced = sh.synced,
		.has_reference = sh.has_reference,
		.reference_age_ns = sh.reference_age_ns,
		.offset_ns = sh.offset_ns,
		.root_distance_ns = sh.root_distance_ns,
		.worker_polls = polls, .link_down = down, .drain = drain_seen,
	};
	for (i = 0; i < rt->dp->nb_workers && i < DPN_HEALTH_MAX_WORKERS; i++)
		polls[i] = __atomic_load_n(&rt->dp->workers[i]->polls,
					   __ATOMIC_RELAXED);
	in.nb_workers = i;
	for (i = 0; i < rt->dp->nb_ports && i < DPN_HEALTH_MAX_PORTS; i++)
		down[i] = dpn_dp_link_down(rt->dp, i);
	in.nb_ports = i;
	dpn_health_eval(&health, &in);
	return 1;
}

void
dpn_runtime_health_read(struct dpn_health_verdict *v)
{
	dpn_health_read(&health, v);
	dpn_health_age(v, (int64_t)dpn_neigh_now_ns(), STALE_NS);
}
