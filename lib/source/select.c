/* SPDX-License-Identifier: BSD-3-Clause */
/* Selection of the system peer (RFC 5905 11.2). */

#include <errno.h>

#include "source_private.h"

void
dpn_select_params_init(struct dpn_select_params *p)
{
	p->minclock = 3;
	p->minsane = 1;
	p->maxclock = 10;
	p->combine_limit = 6;
	p->maxdist_ns = DPN_SOURCE_MAXDIST_NS;
	p->mindist_ns = DPN_SOURCE_MINDIST_NS;
	p->local_refids = NULL;
	p->nb_local_refids = 0;
}

int
dpn_source_select(struct dpn_source **srcs, unsigned int n, int64_t now_ns,
		  const struct dpn_select_params *p,
		  struct dpn_select_result *out)
{
	return -ENOSYS;
}
