/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "dpn_stats.h"

static const char *const stat_names[] = {
#define DPN_STATS_NAME(id, name, help) #name,
	DPN_STATS_COUNTERS(DPN_STATS_NAME)
#undef DPN_STATS_NAME
};

static const char *const stat_help[] = {
#define DPN_STATS_HELP(id, name, help) help,
	DPN_STATS_COUNTERS(DPN_STATS_HELP)
#undef DPN_STATS_HELP
};

const char *
dpn_stats_name(enum dpn_stats_id id)
{
	return (unsigned int)id < DPN_STAT_MAX ? stat_names[id] : NULL;
}

const char *
dpn_stats_help(enum dpn_stats_id id)
{
	return (unsigned int)id < DPN_STAT_MAX ? stat_help[id] : NULL;
}

int
dpn_stats_lookup(const char *name)
{
	int i;

	for (i = 0; i < DPN_STAT_MAX; i++)
		if (strcmp(stat_names[i], name) == 0)
			return i;
	return -1;
}

void
dpn_stats_sum(const struct dpn_stats *blocks, unsigned int n,
	      struct dpn_stats *out)
{
	unsigned int i, j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		for (j = 0; j < DPN_STAT_MAX; j++)
			out->c[j] += __atomic_load_n(&blocks[i].c[j],
						     __ATOMIC_RELAXED);
}
