/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_DP_TABLES_H
#define DPN_DP_TABLES_H

/**
 * @file
 * What the workers read and the management side replaces as a whole
 * (RCU): the compiled restrict rules, the trusted keys, the NTS server
 * keys. Included by dpn_dataplane.h.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "dpn_acl.h"
#include "dpn_ntpauth.h"
#include "dpn_nts.h"
#include "dpn_ratelimit.h"

/*
 * restrict rules compiled for the workers (acl_table.c).
 */

#define DPN_ACL_NO_RULE UINT32_MAX
/** Most restrict rules a compiled table takes (24-bit entry numbers). */
#define DPN_ACL_MAX_RULES 0xfffffeu

struct dpn_dataplane;

/** What an LPM next hop points to: the rule for port 123 and for others. */
struct dpn_acl_entry {
	uint32_t flags_any;
	uint32_t flags_ntp;	/**< source port 123 (`ntpport` rules) */
	uint32_t rule_any;	/**< index in rules, or DPN_ACL_NO_RULE */
	uint32_t rule_ntp;
};

struct dpn_acl_counters {
	uint64_t hits;
	uint64_t drops;
	uint64_t kods;
};

/** An immutable compiled rule set, replaced as a whole (RCU). */
struct dpn_acl_table {
	bool empty;			/**< no rules: skip every lookup */
	bool any_limited;		/**< some rule says `limited` */
	uint32_t generation;
	struct rte_lpm *lpm;
	struct rte_lpm6 *lpm6;
	struct dpn_acl_entry *entries;
	struct dpn_acl_entry def4, def6;	/**< LPM misses */
	struct dpn_rl_params discard;
	struct dpn_acl_ruleset rules;	/**< in match order */
	unsigned int nb_workers;
	/** bytes from one worker's row of counters to the next: whole
	 * cache lines, so that no two workers write one line */
	size_t row_size;
	/** [worker][rule] counters, each worker writes its own row
	 * (dpn_acl_table_row) */
	struct dpn_acl_counters *counters;
	/** carried over from the table this one replaced */
	struct dpn_acl_counters *base;
};

/** Worker @p w's rule counters, indexed by rule: the worker writes
 * them, readers sum them over the rows (dpn_acl_table_rule_counters). */
static inline struct dpn_acl_counters *
dpn_acl_table_row(const struct dpn_acl_table *t, unsigned int w)
{
	return RTE_PTR_ADD(t->counters, (size_t)w * t->row_size);
}

struct dpn_acl_table *dpn_acl_table_create(const struct dpn_acl_ruleset *rs,
					   const struct dpn_rl_params *discard,
					   unsigned int nb_workers,
					   int socket_id, char *err,
					   size_t errlen);
void dpn_acl_table_free(struct dpn_acl_table *t);
/** Sum of a rule's counters over the workers. */
void dpn_acl_table_rule_counters(const struct dpn_acl_table *t,
				 unsigned int rule,
				 struct dpn_acl_counters *out);
/** Sum of a rule's counters over every node's table (index in the
 * rules of the first table; all nodes share one rule order). */
void dpn_dataplane_acl_counters(const struct dpn_dataplane *dp,
				unsigned int rule,
				struct dpn_acl_counters *out);
/** The first node's table (its rules and discard settings are those of
 * every node). */
const struct dpn_acl_table *dpn_dataplane_acl(const struct dpn_dataplane *dp);
/** Carry the counters of rules that stay from @p ot into @p nt. */
void dpn_acl_table_inherit(struct dpn_acl_table *nt,
			   const struct dpn_acl_table *ot);

/*
 * Server-side symmetric keys for the workers (auth_table.c).
 */

struct dpn_auth_counters {
	uint64_t requests;	/**< requests with a MAC under this key ID */
	uint64_t good;		/**< ... whose MAC verified */
	uint64_t bad;		/**< ... whose MAC did not */
	uint64_t replies;	/**< replies signed with the key */
};

/** Trusted keys as the workers see them; replaced as a whole (RCU). */
struct dpn_auth_table {
	bool nak;		/**< a failed request gets a crypto-NAK */
	struct dpn_ntpauth_server *keys;	/**< NULL: none trusted */
	unsigned int nb_keys;
	unsigned int nb_workers;
	unsigned int row;	/**< counters per worker row (cache lines) */
	/** [worker * row + key], each worker writes its own row */
	struct dpn_auth_counters *counters;
	/** [key]: carried over from the table this one replaced */
	struct dpn_auth_counters *base;
};

/**
 * Replace the server's trusted keys (those of @p keys named in
 * @p trusted) and the failure policy (@p nak: crypto-NAK, else drop):
 * build off the workers, publish, wait for every worker (RCU), carry the
 * counters of keys that stay. Not for the workers; one caller at a time.
 * @return 0, or a negative errno with a message (the old keys stay).
 */
int dpn_dataplane_set_auth(struct dpn_dataplane *dp,
			   const struct dpn_ntpauth_keys *keys,
			   const uint32_t *trusted, unsigned int nb_trusted,
			   bool nak, char *err, size_t errlen);
/** The published key table (never NULL once the data plane is up). */
const struct dpn_auth_table *dpn_dataplane_auth(const struct dpn_dataplane *dp);
/** A key's counters summed over the workers. */
void dpn_auth_table_key_counters(const struct dpn_auth_table *t,
				 unsigned int idx,
				 struct dpn_auth_counters *out);
/** Free the key table (dpn_dataplane_fini). */
void dpn_dataplane_auth_fini(struct dpn_dataplane *dp);

/*
 * NTS server keys for the workers (nts_table.c).
 */

/** The keys that open and seal cookies, as the workers see them;
 * replaced as a whole (RCU) when they rotate. */
struct dpn_nts_table {
	struct dpn_nts_keyring kr;
};

/**
 * Publish @p kr to the workers (NULL: NTS off, NTS requests dropped),
 * wait until no worker reads the old copy (RCU), free it. Not for the
 * workers; one caller at a time.
 * @return 0, or -ENOMEM (the old keys stay).
 */
int dpn_dataplane_set_nts(struct dpn_dataplane *dp,
			  const struct dpn_nts_keyring *kr);
/** Free the published keys (dpn_dataplane_fini). */
void dpn_dataplane_nts_fini(struct dpn_dataplane *dp);

#endif /* DPN_DP_TABLES_H */
