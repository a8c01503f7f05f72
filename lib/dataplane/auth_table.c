/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The server's trusted keys as the workers use them: prepared keys
 * (lib/ntpauth, read-only), per-worker per-key counters, and
 * what to do with a request that does not authenticate. Replaced as a
 * whole and published with RCU, as the restrict rules are, so that a
 * reload changes keys without a lock on the workers.
 */

#include <errno.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dpn_dataplane.h"
#include "dp_log.h"

static struct dpn_auth_table *
auth_table_create(const struct dpn_ntpauth_keys *keys,
		  const uint32_t *trusted, unsigned int nb_trusted, bool nak,
		  unsigned int nb_workers, char *err, size_t errlen)
{
	struct dpn_auth_table *t;
	unsigned int nb_keys;

	t = rte_zmalloc("dpn_auth", sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (t == NULL) {
		snprintf(err, errlen, "out of memory for the keys");
		return NULL;
	}
	t->nak = nak;
	t->nb_workers = nb_workers;
	if (nb_trusted != 0) {
		t->keys = dpn_ntpauth_server_create(keys, trusted, nb_trusted,
						    err, errlen);
		if (t->keys == NULL) {
			rte_free(t);
			return NULL;
		}
	}
	nb_keys = dpn_ntpauth_server_nb_keys(t->keys);
	t->nb_keys = nb_keys;
	/* Rows of whole cache lines: no two workers write one line. */
	t->row = RTE_ALIGN_CEIL(nb_keys * sizeof(struct dpn_auth_counters),
				RTE_CACHE_LINE_SIZE) /
		sizeof(struct dpn_auth_counters);
	t->counters = rte_zmalloc("dpn_auth_ctr", sizeof(*t->counters) *
				  (t->row * nb_workers + nb_keys + 1),
				  RTE_CACHE_LINE_SIZE);
	if (t->counters == NULL) {
		dpn_ntpauth_server_free(t->keys);
		rte_free(t);
		snprintf(err, errlen, "out of memory for the key counters");
		return NULL;
	}
	t->base = t->counters + t->row * nb_workers;
	return t;
}

static void
auth_table_free(struct dpn_auth_table *t)
{
	if (t == NULL)
		return;
	dpn_ntpauth_server_free(t->keys);
	rte_free(t->counters);
	rte_free(t);
}

void
dpn_auth_table_key_counters(const struct dpn_auth_table *t, unsigned int idx,
			    struct dpn_auth_counters *out)
{
	const struct dpn_auth_counters *b = &t->base[idx];
	unsigned int w;

	*out = *b;
	for (w = 0; w < t->nb_workers; w++) {
		const struct dpn_auth_counters *c =
			&t->counters[(size_t)w * t->row + idx];

		out->requests += __atomic_load_n(&c->requests,
						 __ATOMIC_RELAXED);
		out->good += __atomic_load_n(&c->good, __ATOMIC_RELAXED);
		out->bad += __atomic_load_n(&c->bad, __ATOMIC_RELAXED);
		out->replies += __atomic_load_n(&c->replies,
						__ATOMIC_RELAXED);
	}
}

/* A key that stays (same ID) keeps its counts across a reload. */
static void
auth_table_inherit(struct dpn_auth_table *nt, const struct dpn_auth_table *ot)
{
	unsigned int i;

	for (i = 0; i < ot->nb_keys; i++) {
		uint32_t id = dpn_ntpauth_server_key(ot->keys, i)->id;
		int j = dpn_ntpauth_server_find(nt->keys, id);

		if (j >= 0)
			dpn_auth_table_key_counters(ot, i, &nt->base[j]);
	}
}

const struct dpn_auth_table *
dpn_dataplane_auth(const struct dpn_dataplane *dp)
{
	return dp->auth;
}

int
dpn_dataplane_set_auth(struct dpn_dataplane *dp,
		       const struct dpn_ntpauth_keys *keys,
		       const uint32_t *trusted, unsigned int nb_trusted,
		       bool nak, char *err, size_t errlen)
{
	struct dpn_auth_table *nt, *ot;

	nt = auth_table_create(keys, trusted, nb_trusted, nak,
			       dp->nb_workers, err, errlen);
	if (nt == NULL)
		return -EINVAL;
	ot = dp->auth;
	__atomic_store_n(&dp->auth, nt, __ATOMIC_RELEASE);
	/* Every worker that could still read the old table is done. */
	if (ot != NULL) {
		rte_rcu_qsbr_synchronize(dp->qsbr, RTE_QSBR_THRID_INVALID);
		auth_table_inherit(nt, ot);
		auth_table_free(ot);
	}
	DP_LOG(INFO, "authentication: %u trusted keys; requests that fail get %s",
	       nt->nb_keys, nak ? "a crypto-NAK" : "no reply");
	return 0;
}

void
dpn_dataplane_auth_fini(struct dpn_dataplane *dp)
{
	auth_table_free(dp->auth);
	dp->auth = NULL;
}
