/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_NTSSERVER_H
#define DPN_NTSSERVER_H

/**
 * @file
 * The NTS server's management side: the server keys (made, or read from
 * chrony's ntskeys file so that a fleet shares them, rotated and saved),
 * published to the workers with RCU, and the NTS-KE service (lib/ntske)
 * on its own thread through the kernel's TCP stack, whose cookies are
 * sealed with the same keys.
 */

#include <stdbool.h>
#include <stdint.h>

#include "dpn_conf.h"
#include "dpn_dataplane.h"
#include "dpn_ntske.h"

/** What `show nts` and the metrics report. */
struct dpn_ntsserver_info {
	bool enabled;
	uint32_t current_id;		/**< the key sealing new cookies */
	double key_age_s;		/**< since it became current */
	uint32_t rotate_s;		/**< 0: never */
	uint64_t rotations;		/**< since start */
	unsigned int sessions;		/**< NTS-KE connections open */
	struct dpn_ntske_stats ke;
};

/**
 * Start NTS if @p conf has a certificate (nothing to do otherwise): keys
 * from @p conf->dumpdir's ntskeys or new ones (then saved there),
 * published to @p dp's workers, NTS-KE listening on ntsbind (or every
 * address) and ntsport, on a thread of its own.
 * @return 0, or -1 with a message in @p err (NTS stays off).
 */
int dpn_ntsserver_start(struct dpn_dataplane *dp,
			const struct dpn_conf_nts *conf, char *err,
			size_t errlen);

/** From the management loop: rotate the keys when due (publish, save).
 * @return 1 if it did something. */
unsigned int dpn_ntsserver_poll(void);

void dpn_ntsserver_info(struct dpn_ntsserver_info *info);

/**
 * Have the NTS-KE thread read the certificate and key files again (a
 * renewed certificate), for the connections it accepts from then on; a
 * pair that does not load is logged and the old one kept. From any
 * thread (SIGHUP); the NTS-KE thread does the work.
 */
void dpn_ntsserver_reload_cert(void);

/** Stop the NTS-KE thread, save the keys, free everything. */
void dpn_ntsserver_stop(void);

#endif /* DPN_NTSSERVER_H */
