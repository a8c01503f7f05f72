/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NTS server keys as the workers use them: a copy published with
 * RCU, replaced whole when the management side rotates or reloads them,
 * so that a worker never sees a key half written.
 */

#include <errno.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dpn_dataplane.h"
#include "dp_log.h"

static void
nts_table_free(struct dpn_nts_table *t)
{
	if (t == NULL)
		return;
	explicit_bzero(t, sizeof(*t));
	rte_free(t);
}

int
dpn_dataplane_set_nts(struct dpn_dataplane *dp,
		      const struct dpn_nts_keyring *kr)
{
	struct dpn_nts_table *nt = NULL, *ot;

	if (kr != NULL) {
		nt = rte_zmalloc("dpn_nts", sizeof(*nt), RTE_CACHE_LINE_SIZE);
		if (nt == NULL)
			return -ENOMEM;
		nt->kr = *kr;
	}
	ot = dp->nts;
	__atomic_store_n(&dp->nts, nt, __ATOMIC_RELEASE);
	if (ot != NULL) {
		/* Every worker that could still read the old keys is done. */
		rte_rcu_qsbr_synchronize(dp->qsbr, RTE_QSBR_THRID_INVALID);
		nts_table_free(ot);
	}
	return 0;
}

void
dpn_dataplane_nts_fini(struct dpn_dataplane *dp)
{
	nts_table_free(dp->nts);
	dp->nts = NULL;
}
