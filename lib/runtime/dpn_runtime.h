/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_RUNTIME_H
#define DPN_RUNTIME_H

/**
 * @file
 * The running daemon's state as the control socket, the metrics and
 * telemetry see it, and what changes it while it runs: a reload, and
 * `restrict add|del`. lib/ctl presents it; lib/metrics exports it.
 */

#include <stdbool.h>
#include <stdint.h>

#include "dpn_conf.h"
#include "dpn_dataplane.h"
#include "dpn_health.h"
#include "dpn_refclock.h"
#include "dpn_sync.h"

/** Longest `restrict add|del` line. */
#define DPN_RUNTIME_MAX_LINE 4096

/** What the running daemon is made of. Owned by the daemon. */
struct dpn_runtime {
	struct dpn_dataplane *dp;
	struct dpn_conf *conf;		/**< restrict/discard change on reload */
	const char *config_path;
	struct dpn_refclock_system *refclock;
	struct dpn_sync *sync;		/**< sources, selection, clock */
};

/** Bind to the daemon's state (once, before any thread uses it). */
void dpn_runtime_init(struct dpn_runtime *rt);

/** The daemon's state, NULL before dpn_runtime_init(). */
struct dpn_runtime *dpn_runtime_get(void);

/**
 * The lock that reloads and `restrict add|del` take while they replace
 * the rule and key tables: hold it to read the published tables and
 * their counters (never on a worker).
 */
void dpn_runtime_lock(void);
void dpn_runtime_unlock(void);
/** The same lock if it is free now (true: taken). */
bool dpn_runtime_trylock(void);

/**
 * Call @p fn for each restrict rule in match order, with the rule as
 * `show restrict` writes it and its counters summed over the workers,
 * holding the lock that reloads and `restrict add|del` take (so the
 * table cannot be freed meanwhile): @p fn must not block. At most @p max
 * calls. For metrics and telemetry, from any control thread.
 * @return the number of rules in use (may be more than @p max).
 */
unsigned int dpn_runtime_restrict_walk(void (*fn)(void *arg, const char *rule,
					      const struct dpn_acl_counters *c),
				   void *arg, unsigned int max);

/**
 * Call @p fn for each key the server trusts, in ascending ID order, with
 * its ID, type ("MD5", "SHA1", "AES128CMAC": a static string, good after
 * the call) and counters summed over the workers, holding the lock that
 * reloads take (so the key table cannot be freed meanwhile): @p fn must
 * not block. At most @p max calls. @p nak (if not NULL) is set to what a request that fails
 * authentication gets: true a crypto-NAK, false nothing (authfail drop).
 * No key material is handed out. For metrics and telemetry, from any
 * control thread.
 * @return the number of trusted keys (may be more than @p max).
 */
unsigned int dpn_runtime_auth_walk(void (*fn)(void *arg, uint32_t id,
					  const char *type,
					  const struct dpn_auth_counters *c),
			       void *arg, unsigned int max, bool *nak);

/**
 * Re-read the configuration file and apply its restrict, discard lines
 * to the running workers (other directives need a restart and are only
 * compared). On any error the running rules stay and @p err says why.
 * Safe from any control thread or the management lcore.
 * @return 0 or -1.
 */
int dpn_runtime_reload(char *err, size_t errlen);

/** `restrict add WORDS` / `restrict del WORDS`, WORDS as in the file. */
int dpn_runtime_restrict_change(bool add, const char *words, char *err,
			    size_t errlen);

/**
 * The health verdict: evaluate it (every DPN_HEALTH_PERIOD_NS; the drain
 * file is looked at once a second). Call from the management loop.
 * @return 1 when it evaluated, else 0.
 */
unsigned int dpn_runtime_health_poll(void);

/** The last verdict (any thread but a worker; no lock). */
void dpn_runtime_health_read(struct dpn_health_verdict *v);

#endif /* DPN_RUNTIME_H */
