/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_NEIGH_H
#define DPN_NEIGH_H

/**
 * @file
 * A neighbour table (ARP and NDP entries of one port) and its state
 * machine, a simplified version of Linux's:
 *
 *   INCOMPLETE --answer--> REACHABLE --30 s--> STALE --used--> PROBE
 *       |                      ^                  ^              |
 *       | 3 probes 1 s apart   +------answer------+--------------+
 *       v                                         |   3 probes unanswered
 *     FAILED --used after 20 s--> INCOMPLETE      v
 *                                               FAILED
 *
 * An INCOMPLETE entry has no MAC yet: it is probed with a broadcast ARP
 * request or a multicast neighbour solicitation. A STALE entry's MAC is
 * still used, but its first use starts a reconfirmation (PROBE, unicast
 * probes to the known MAC); PROBE keeps using the MAC. A FAILED entry
 * answers "unreachable" without sending anything for DPN_NEIGH_FAILED_NS,
 * then its next use starts over.
 *
 * The table has a fixed number of slots: a full table evicts its least
 * recently updated entry that is not waiting for an answer (INCOMPLETE
 * and PROBE entries are kept, so a flood of new addresses cannot cancel
 * resolutions in progress). STALE and FAILED entries unused for
 * DPN_NEIGH_GC_NS are removed.
 *
 * One writer (the management lcore); readers in other threads copy the
 * table under a sequence lock (dpn_neigh_table_read). DPDK-free: the
 * caller sends the probes and passes the time in.
 */

#include <stdbool.h>
#include <stdint.h>

#define DPN_NEIGH_TABLE_SIZE 256	/**< entries per port, both families */

#define DPN_NEIGH_NS_PER_S 1000000000ull
/** Time an answer keeps an entry REACHABLE (Linux: base_reachable_time). */
#define DPN_NEIGH_REACHABLE_NS (30 * DPN_NEIGH_NS_PER_S)
/** Time between two probes of one entry (Linux: retrans_time). */
#define DPN_NEIGH_RETRANS_NS (1 * DPN_NEIGH_NS_PER_S)
/** Unanswered probes before FAILED (Linux: mcast_solicit, ucast_solicit). */
#define DPN_NEIGH_MAX_PROBES 3
/** Time a FAILED entry answers "unreachable" before it is retried. */
#define DPN_NEIGH_FAILED_NS (20 * DPN_NEIGH_NS_PER_S)
/** STALE or FAILED entries unused this long are removed. */
#define DPN_NEIGH_GC_NS (600 * DPN_NEIGH_NS_PER_S)

enum dpn_neigh_state {
	DPN_NEIGH_FREE = 0,	/**< unused slot */
	DPN_NEIGH_INCOMPLETE,	/**< probed, no MAC yet */
	DPN_NEIGH_REACHABLE,	/**< answered less than 30 s ago */
	DPN_NEIGH_STALE,	/**< MAC known, not confirmed lately */
	DPN_NEIGH_PROBE,	/**< STALE in use, being reconfirmed */
	DPN_NEIGH_FAILED,	/**< probes unanswered */
};

/** What the caller has to send for an entry. */
enum dpn_neigh_action {
	DPN_NEIGH_SEND_NONE = 0,
	DPN_NEIGH_SEND_MULTICAST,	/**< broadcast ARP, multicast NS */
	DPN_NEIGH_SEND_UNICAST,		/**< ARP / NS to the known MAC */
};

/** How a MAC was heard (RFC 4861 7.2.5, Linux's arp_process). */
enum dpn_neigh_evidence {
	/** A request or solicitation from the address (with its MAC):
	 * creates or updates the entry, but proves nothing about the path
	 * back, so a new or changed MAC is STALE. */
	DPN_NEIGH_HEARD,
	/** An answer to us (ARP reply, solicited NA): REACHABLE. Only for
	 * an existing entry: answers nobody asked for create nothing. */
	DPN_NEIGH_ANSWERED,
	/** An unsolicited NA with the override flag: updates an existing
	 * entry's MAC (STALE if it changed). */
	DPN_NEIGH_ANNOUNCED,
};

struct dpn_neigh_entry {
	uint8_t addr[16];	/**< IPv4: the first 4 bytes, network order */
	uint8_t family;		/**< AF_INET or AF_INET6 */
	uint8_t state;		/**< enum dpn_neigh_state */
	uint8_t probes;		/**< sent since the last answer */
	uint8_t mac[6];		/**< valid unless INCOMPLETE (or FAILED
				 *   without ever being answered) */
	uint16_t vlan;		/**< 0 = untagged */
	uint64_t confirmed_ns;	/**< last answer or new MAC, 0 = never */
	uint64_t updated_ns;	/**< last state change */
	uint64_t used_ns;	/**< last dpn_neigh_table_use() */
	uint64_t next_ns;	/**< next probe or state change due */
};

struct dpn_neigh_table {
	uint32_t seq;		/**< odd while the writer is changing it */
	unsigned int nb;	/**< slots in use */
	struct dpn_neigh_entry e[DPN_NEIGH_TABLE_SIZE];
};

/** Empty the table. */
void dpn_neigh_table_init(struct dpn_neigh_table *t);

/**
 * Forget every entry, readers in other threads notwithstanding (as Linux
 * flushes a device's neighbours when its link goes down: what is behind
 * the link may have changed when it comes back). @return entries dropped.
 */
unsigned int dpn_neigh_table_flush(struct dpn_neigh_table *t);

/** The entry for (@p family, @p addr, @p vlan), or NULL. */
struct dpn_neigh_entry *dpn_neigh_table_find(struct dpn_neigh_table *t,
					     int family, const void *addr,
					     uint16_t vlan);

/**
 * A packet wants to go to (@p family, @p addr, @p vlan) at @p now_ns:
 * create the entry if needed and advance its state machine.
 * @p *send says what to send now (at most one probe per
 * DPN_NEIGH_RETRANS_NS and entry).
 * @return 0 with the MAC in @p mac (REACHABLE, STALE, PROBE), -EAGAIN
 * while resolving, -EHOSTUNREACH when FAILED, -ENOSPC when every slot
 * is waiting for an answer.
 */
int dpn_neigh_table_use(struct dpn_neigh_table *t, int family,
			const void *addr, uint16_t vlan, uint64_t now_ns,
			uint8_t mac[6], enum dpn_neigh_action *send);

/**
 * Record that (@p family, @p addr, @p vlan) has MAC @p mac, as shown by
 * @p how. @return true if the table changed.
 */
bool dpn_neigh_table_learn(struct dpn_neigh_table *t, int family,
			   const void *addr, uint16_t vlan,
			   const uint8_t mac[6], enum dpn_neigh_evidence how,
			   uint64_t now_ns);

/** Called by dpn_neigh_table_tick() for each probe due. */
typedef void (*dpn_neigh_send_fn)(const struct dpn_neigh_entry *e,
				  enum dpn_neigh_action send, void *arg);

/**
 * Run the timers: REACHABLE entries go STALE, INCOMPLETE and PROBE
 * entries are probed again or FAILED, old unused entries are removed.
 * @return number of probes asked of @p send.
 */
unsigned int dpn_neigh_table_tick(struct dpn_neigh_table *t, uint64_t now_ns,
				  dpn_neigh_send_fn send, void *arg);

/**
 * Copy the entries in use into @p out (at most @p max) from another
 * thread than the writer. @return number copied, or -EBUSY if the
 * writer kept changing the table.
 */
int dpn_neigh_table_read(const struct dpn_neigh_table *t,
			 struct dpn_neigh_entry *out, unsigned int max);

/** "REACHABLE" etc., as `ip neigh` prints states. */
const char *dpn_neigh_state_name(enum dpn_neigh_state s);

/** CLOCK_MONOTONIC in nanoseconds: the time base of the table. */
uint64_t dpn_neigh_now_ns(void);

#endif /* DPN_NEIGH_H */
