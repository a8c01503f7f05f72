/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Name resolution for server and pool lines, in a control thread: the
 * management lcore must never wait on DNS, and the daemon must start
 * (and serve, unsynchronized or from its reference) while DNS does not
 * answer. The management lcore asks again later when a name fails.
 */

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_thread.h>

#include "sync_private.h"

#define RING_SIZE 64
#define IDLE_SLEEP_US 20000

struct resolve_request {
	unsigned int conf_index;
	int family;
	char host[DPN_CONF_HOST_MAX];
};

struct dpn_sync_resolver {
	struct rte_ring *requests;	/* management -> resolver */
	struct rte_ring *results;	/* resolver -> management */
	pthread_t thread;
	volatile bool quit;
	volatile bool done;
};

static void
resolve_one(const struct resolve_request *q, struct resolve_result *r)
{
	struct addrinfo hints, *res = NULL, *ai;
	int ret;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = q->family != 0 ? q->family : AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	r->conf_index = q->conf_index;
	ret = getaddrinfo(q->host, "123", &hints, &res);
	if (ret != 0) {
		r->error = ret;
		return;
	}
	for (ai = res; ai != NULL && r->nb < RESOLVE_MAX_ADDRS;
	     ai = ai->ai_next) {
		unsigned int i;
		bool dup = false;

		memset(r->addr[r->nb], 0, 16);
		if (ai->ai_family == AF_INET)
			memcpy(r->addr[r->nb],
			       &((struct sockaddr_in *)ai->ai_addr)->sin_addr,
			       4);
		else if (ai->ai_family == AF_INET6)
			memcpy(r->addr[r->nb],
			       &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr,
			       16);
		else
			continue;
		for (i = 0; i < r->nb; i++)
			if (r->family[i] == ai->ai_family &&
			    memcmp(r->addr[i], r->addr[r->nb], 16) == 0)
				dup = true;
		if (dup)
			continue;
		r->family[r->nb++] = ai->ai_family;
	}
	freeaddrinfo(res);
	if (r->nb == 0)
		r->error = EAI_NODATA;
}

static void *
resolver_main(void *arg)
{
	struct dpn_sync_resolver *r = arg;

	while (!r->quit) {
		struct resolve_request *q;
		struct resolve_result *res;

		if (rte_ring_sc_dequeue(r->requests, (void **)&q) != 0) {
			usleep(IDLE_SLEEP_US);
			continue;
		}
		res = calloc(1, sizeof(*res));
		if (res != NULL) {
			resolve_one(q, res);
			if (rte_ring_sp_enqueue(r->results, res) != 0)
				free(res);
		}
		free(q);
	}
	r->done = true;
	return NULL;
}

struct dpn_sync_resolver *
resolver_start(char *err, size_t errlen)
{
	struct dpn_sync_resolver *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		snprintf(err, errlen, "out of memory for the resolver");
		return NULL;
	}
	r->requests = rte_ring_create("dpntp_resolve_q", RING_SIZE,
				      SOCKET_ID_ANY,
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	r->results = rte_ring_create("dpntp_resolve_r", RING_SIZE,
				     SOCKET_ID_ANY,
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r->requests == NULL || r->results == NULL ||
	    rte_ctrl_thread_create(&r->thread, "dpntp-resolve", NULL,
				   resolver_main, r) != 0) {
		snprintf(err, errlen, "cannot start the name resolver: %s",
			 rte_strerror(rte_errno));
		rte_ring_free(r->requests);
		rte_ring_free(r->results);
		free(r);
		return NULL;
	}
	return r;
}

int
resolver_request(struct dpn_sync_resolver *r, unsigned int conf_index,
		 const char *host, int family)
{
	struct resolve_request *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return -ENOMEM;
	q->conf_index = conf_index;
	q->family = family;
	snprintf(q->host, sizeof(q->host), "%s", host);
	if (rte_ring_sp_enqueue(r->requests, q) != 0) {
		free(q);
		return -ENOBUFS;
	}
	return 0;
}

int
resolver_result(struct dpn_sync_resolver *r, struct resolve_result **out)
{
	return rte_ring_sc_dequeue(r->results, (void **)out) == 0;
}

void
resolver_stop(struct dpn_sync_resolver *r)
{
	void *p;
	int i;

	if (r == NULL)
		return;
	r->quit = true;
	/* getaddrinfo() cannot be interrupted; wait a while, then leave the
	 * thread to finish on its own with its rings. */
	for (i = 0; i < 100 && !r->done; i++)
		usleep(10000);
	if (!r->done) {
		pthread_detach(r->thread);
		return;
	}
	pthread_join(r->thread, NULL);
	while (rte_ring_dequeue(r->requests, &p) == 0)
		free(p);
	while (rte_ring_dequeue(r->results, &p) == 0)
		free(p);
	rte_ring_free(r->requests);
	rte_ring_free(r->results);
	free(r);
}
