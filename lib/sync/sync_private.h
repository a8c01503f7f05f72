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
/* ntpq's refid: dotted quad for stratum 2..15, .CODE. otherwise (show.c). */
void sync_refid_str(uint32_t refid, unsigned int stratum, char *buf,
		    size_t len);
/* Answer a control request (mode 6) from the view (control.c). */
void sync_ctl_answer(void *arg, const struct dpn_ntpctl_req *req,
		     struct dpn_ntpctl_answer *a);
/* Server clock now, Unix ns (the true, unsmeared model). */
int64_t sync_now_ns(const struct dpn_sync *sy);
/* Run selection and, when the system peer has news, the discipline. */
void sync_select(struct dpn_sync *sy, int64_t now_ns);

/* A refclock line at work (refclocks.c). */
struct sync_ptp;
struct sync_refclock {
	struct dpn_conf_refclock conf;
	struct dpn_source src;
	union {
		struct dpn_refclock_shm shm;
		struct dpn_refclock_sock sock;
		struct dpn_refclock_pps pps;
		struct dpn_refclock_phc phc;
	} drv;
	struct sync_ptp *ptp;		/* type ptp (ptp.c) */
	bool open;			/* the driver works */
	char error[160];		/* why not, or its last error */
	int64_t reopen_ns;		/* CLOCK_MONOTONIC: next open try */
	int64_t next_read_ns;		/* CLOCK_MONOTONIC: next read */
	int64_t poll_end_mono;		/* CLOCK_MONOTONIC: end of the poll */
	struct dpn_refclock_filter filter;
	int leap;			/* of the last reading */
	unsigned int missed;		/* polls in a row without readings */
	bool up;
	uint64_t readings, rejected, unnumbered, samples, losses;
	int64_t offset_ns, disp_ns;	/* last filtered sample */
	int64_t last_reading_ns;	/* server time */
};

int sync_refclocks_init(struct dpn_sync *sy, const struct dpn_conf *conf,
			char *err, size_t errlen);
/* Read the drivers, run the PTP slaves, end poll intervals. */
unsigned int sync_refclocks_poll(struct dpn_sync *sy);
void sync_refclocks_fini(struct dpn_sync *sy);
/* The server clock stepped by @p d: readings waiting in the filters. */
void sync_refclocks_stepped(struct dpn_sync *sy, int64_t d);
/* Fill the view's refclock part; their sources start at @p first. */
void sync_refclocks_view(const struct dpn_sync *sy, struct dpn_sync_view *v,
			 unsigned int first_source);
/* A reading: reference minus server clock @p offset_ns at server time
 * @p at_ns (the refclock's `offset` is added here). */
void sync_refclock_offset(struct dpn_sync *sy, struct sync_refclock *r,
			  int64_t offset_ns, int64_t at_ns, int leap);

/* The built-in PTP slave of a `refclock ptp` line (ptp.c). */
int sync_ptp_init(struct dpn_sync *sy, struct sync_refclock *r, char *err,
		  size_t errlen);
unsigned int sync_ptp_poll(struct dpn_sync *sy, struct sync_refclock *r);
void sync_ptp_fini(struct dpn_sync *sy, struct sync_refclock *r);
/* The served clock stepped by @p d: move the slave's times with it. */
void sync_ptp_stepped(struct sync_refclock *r, int64_t d);
void sync_ptp_info(const struct sync_refclock *r,
		   struct dpn_sync_ptp_info *out);
/* Tests only: the IEEE 1588 registers of port @p port_id are reached
 * through @p ops (a simulated NIC) instead of rte_eth_timesync_*, from
 * the next sync_ptp_init() on; NULL goes back to rte_eth_timesync_*.
 * Only the open is affected: the ops travel in struct dpn_ptp_hwts. */
void sync_ptp_set_hwts_ops(uint16_t port_id,
			   const struct dpn_ptp_hwts_ops *ops);

/* Receive time of a frame a worker passed up, on the true clock: its NIC
 * stamp where the port's clock has a model, else the burst's TSC.
 * @p nic says which (client.c). */
int64_t sync_rx_time(const struct dpn_sync *sy, unsigned int port_index,
		     const struct rte_mbuf *m, bool *nic);

#endif /* SYNC_PRIVATE_H */
