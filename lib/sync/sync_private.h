/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SYNC_PRIVATE_H
#define SYNC_PRIVATE_H

/* Internal to lib/sync. */

#include <netinet/in.h>

#include "dpn_sync.h"

#define RESOLVE_MAX_ADDRS 16

/* What the resolver found for a server/pool line. */
struct resolve_result {
	unsigned int conf_index;
	int error;			/* 0, or an EAI_* code */
	unsigned int nb;
	int family[RESOLVE_MAX_ADDRS];
	uint8_t addr[RESOLVE_MAX_ADDRS][16];
};

/* Host names are resolved off the management lcore (getaddrinfo may
 * block for seconds) by a control thread; requests and results travel
 * through two single-producer single-consumer rings. */
struct dpn_sync_resolver *resolver_start(char *err, size_t errlen);
int resolver_request(struct dpn_sync_resolver *r, unsigned int conf_index,
		     const char *host, int family);
/* 1 with a result (free it), 0 when there is none. */
int resolver_result(struct dpn_sync_resolver *r,
		    struct resolve_result **out);
void resolver_stop(struct dpn_sync_resolver *r);

/* The client side (client.c). */
int client_send(struct dpn_sync *sy, struct dpn_sync_assoc *a,
		int64_t now_ns);
void client_on_reply(void *arg, unsigned int port_index,
		     struct rte_mbuf *m);

/* Say why a reply was refused (rate limited: a remote cause). */
void sync_log_refused(struct dpn_sync *sy, const struct dpn_source *s,
		      enum dpn_source_verdict v);
/* Served minus true time at @p true_ns (leap smear), rate factor. */
int64_t sync_smear_of(const struct dpn_sync *sy, int64_t true_ns,
		      double *rate_scale);
/* A reply that was not signed with the server's key (rate limited). */
void sync_log_auth_failed(struct dpn_sync *sy, const struct dpn_source *s,
			  uint32_t key);
/* Say why a poll could not be sent (rate limited). */
void sync_log_unsent(struct dpn_sync *sy, const struct dpn_source *s,
		     const char *why);
/* The association with that address, or NULL. */
struct dpn_sync_assoc *sync_find_assoc(struct dpn_sync *sy, int family,
				       const uint8_t *addr);
/* Server clock now, Unix ns (the true, unsmeared model). */
int64_t sync_now_ns(const struct dpn_sync *sy);
/* Run selection and, when the system peer has news, the discipline. */
void sync_select(struct dpn_sync *sy, int64_t now_ns);

#endif /* SYNC_PRIVATE_H */
