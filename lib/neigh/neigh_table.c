/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour table and its state machine (see dpn_neigh.h). A linear
 * search over 256 slots: the table is used by the management lcore a few
 * times per second per upstream server, never per received packet.
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "dpn_neigh.h"

static size_t
addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* The writer's side of the sequence lock (see dpn_neigh_table_read). */
static void
write_begin(struct dpn_neigh_table *t)
{
	__atomic_store_n(&t->seq, t->seq + 1, __ATOMIC_RELAXED);
	/* Readers must see the odd sequence before any new data. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void
write_end(struct dpn_neigh_table *t)
{
	__atomic_store_n(&t->seq, t->seq + 1, __ATOMIC_RELEASE);
}

void
dpn_neigh_table_init(struct dpn_neigh_table *t)
{
	memset(t, 0, sizeof(*t));
}

unsigned int
dpn_neigh_table_flush(struct dpn_neigh_table *t)
{
	unsigned int n = t->nb;

	write_begin(t);
	memset(t->e, 0, sizeof(t->e));
	t->nb = 0;
	write_end(t);
	return n;
}

struct dpn_neigh_entry *
dpn_neigh_table_find(struct dpn_neigh_table *t, int family, const void *addr,
		     uint16_t vlan)
{
	unsigned int i;

	for (i = 0; i < DPN_NEIGH_TABLE_SIZE; i++) {
		struct dpn_neigh_entry *e = &t->e[i];

		if (e->state != DPN_NEIGH_FREE && e->family == family &&
		    e->vlan == vlan &&
		    memcmp(e->addr, addr, addr_len(family)) == 0)
			return e;
	}
	return NULL;
}

static bool
pending(const struct dpn_neigh_entry *e)
{
	return e->state == DPN_NEIGH_INCOMPLETE || e->state == DPN_NEIGH_PROBE;
}

/*
 * A free slot, or the least recently updated entry that is not waiting
 * for an answer; NULL if every slot is.
 */
static struct dpn_neigh_entry *
slot_get(struct dpn_neigh_table *t)
{
	struct dpn_neigh_entry *victim = NULL;
	unsigned int i;

	for (i = 0; i < DPN_NEIGH_TABLE_SIZE; i++) {
		struct dpn_neigh_entry *e = &t->e[i];

		if (e->state == DPN_NEIGH_FREE)
			return e;
		if (!pending(e) &&
		    (victim == NULL || e->updated_ns < victim->updated_ns))
			victim = e;
	}
	if (victim != NULL)
		t->nb--;
	return victim;
}

static struct dpn_neigh_entry *
entry_new(struct dpn_neigh_table *t, int family, const void *addr,
	  uint16_t vlan)
{
	struct dpn_neigh_entry *e = slot_get(t);

	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	memcpy(e->addr, addr, addr_len(family));
	e->family = family;
	e->vlan = vlan;
	t->nb++;
	return e;
}

static void
set_state(struct dpn_neigh_entry *e, enum dpn_neigh_state s, uint64_t now)
{
	e->state = s;
	e->updated_ns = now;
	switch (s) {
	case DPN_NEIGH_REACHABLE:
		e->probes = 0;
		e->confirmed_ns = now;
		e->next_ns = now + DPN_NEIGH_REACHABLE_NS;
		break;
	case DPN_NEIGH_FAILED:
		e->next_ns = now + DPN_NEIGH_FAILED_NS;
		break;
	case DPN_NEIGH_STALE:
		e->probes = 0;
		e->next_ns = UINT64_MAX;
		break;
	default:
		/* INCOMPLETE, PROBE: the first probe goes now. */
		e->probes = 1;
		e->next_ns = now + DPN_NEIGH_RETRANS_NS;
		break;
	}
}

int
dpn_neigh_table_use(struct dpn_neigh_table *t, int family, const void *addr,
		    uint16_t vlan, uint64_t now_ns, uint8_t mac[6],
		    enum dpn_neigh_action *send)
{
	struct dpn_neigh_entry *e = dpn_neigh_table_find(t, family, addr, vlan);
	int ret = 0;

	*send = DPN_NEIGH_SEND_NONE;
	write_begin(t);
	if (e == NULL) {
		e = entry_new(t, family, addr, vlan);
		if (e == NULL) {
			ret = -ENOSPC;
			goto out;
		}
		set_state(e, DPN_NEIGH_INCOMPLETE, now_ns);
		*send = DPN_NEIGH_SEND_MULTICAST;
	}
	e->used_ns = now_ns;
	switch (e->state) {
	case DPN_NEIGH_INCOMPLETE:
		ret = -EAGAIN;
		break;
	case DPN_NEIGH_FAILED:
		if (now_ns < e->next_ns) {
			ret = -EHOSTUNREACH;
			break;
		}
		set_state(e, DPN_NEIGH_INCOMPLETE, now_ns);
		*send = DPN_NEIGH_SEND_MULTICAST;
		ret = -EAGAIN;
		break;
	case DPN_NEIGH_STALE:
		/* The MAC is still good enough to use while reconfirmed. */
		set_state(e, DPN_NEIGH_PROBE, now_ns);
		*send = DPN_NEIGH_SEND_UNICAST;
		memcpy(mac, e->mac, 6);
		break;
	default:
		memcpy(mac, e->mac, 6);
		break;
	}
out:
	write_end(t);
	return ret;
}

bool
dpn_neigh_table_learn(struct dpn_neigh_table *t, int family,
		      const void *addr, uint16_t vlan, const uint8_t mac[6],
		      enum dpn_neigh_evidence how, uint64_t now_ns)
{
	struct dpn_neigh_entry *e = dpn_neigh_table_find(t, family, addr, vlan);
	bool has_mac, same;

	if (e == NULL && how != DPN_NEIGH_HEARD)
		return false;
	write_begin(t);
	if (e == NULL) {
		e = entry_new(t, family, addr, vlan);
		if (e == NULL) {
			write_end(t);
			return false;
		}
	}
	has_mac = e->state == DPN_NEIGH_REACHABLE ||
		e->state == DPN_NEIGH_STALE || e->state == DPN_NEIGH_PROBE;
	same = has_mac && memcmp(e->mac, mac, 6) == 0;
	memcpy(e->mac, mac, 6);
	if (how == DPN_NEIGH_ANSWERED) {
		set_state(e, DPN_NEIGH_REACHABLE, now_ns);
	} else if (!same) {
		/* New or moved: usable, but not proven reachable. */
		set_state(e, DPN_NEIGH_STALE, now_ns);
		e->confirmed_ns = now_ns;
	}
	/* The same MAC heard again changes nothing (Linux neither). */
	write_end(t);
	return !same || how == DPN_NEIGH_ANSWERED;
}

/*
 * Unused since @p last for DPN_NEIGH_GC_NS at @p now. The caller's @p now
 * may be older than @p last (a resolve in the same pass took a fresher
 * time): that is "just used", not a wrapped difference.
 */
static bool
unused_long(uint64_t last, uint64_t now)
{
	return now > last && now - last >= DPN_NEIGH_GC_NS;
}

/* Would entry_tick() change @p e now? Cheap enough for every slot. */
static bool
entry_due(const struct dpn_neigh_entry *e, uint64_t now)
{
	uint64_t last = e->used_ns > e->updated_ns ? e->used_ns : e->updated_ns;

	switch (e->state) {
	case DPN_NEIGH_REACHABLE:
	case DPN_NEIGH_INCOMPLETE:
	case DPN_NEIGH_PROBE:
		return now >= e->next_ns;
	case DPN_NEIGH_STALE:
	case DPN_NEIGH_FAILED:
		return unused_long(last, now);
	default:
		return false;
	}
}

/* One entry's timers; true if the table changed. */
static bool
entry_tick(struct dpn_neigh_table *t, struct dpn_neigh_entry *e,
	   uint64_t now, dpn_neigh_send_fn send, void *arg, unsigned int *nb)
{
	uint64_t last = e->used_ns > e->updated_ns ? e->used_ns : e->updated_ns;

	switch (e->state) {
	case DPN_NEIGH_REACHABLE:
		if (now < e->next_ns)
			return false;
		set_state(e, DPN_NEIGH_STALE, now);
		return true;
	case DPN_NEIGH_INCOMPLETE:
	case DPN_NEIGH_PROBE:
		if (now < e->next_ns)
			return false;
		if (e->probes >= DPN_NEIGH_MAX_PROBES) {
			set_state(e, DPN_NEIGH_FAILED, now);
			return true;
		}
		e->probes++;
		e->next_ns = now + DPN_NEIGH_RETRANS_NS;
		send(e, e->state == DPN_NEIGH_PROBE ? DPN_NEIGH_SEND_UNICAST :
		     DPN_NEIGH_SEND_MULTICAST, arg);
		(*nb)++;
		return true;
	case DPN_NEIGH_STALE:
	case DPN_NEIGH_FAILED:
		if (!unused_long(last, now))
			return false;
		e->state = DPN_NEIGH_FREE;
		t->nb--;
		return true;
	default:
		return false;
	}
}

unsigned int
dpn_neigh_table_tick(struct dpn_neigh_table *t, uint64_t now_ns,
		     dpn_neigh_send_fn send, void *arg)
{
	unsigned int i, nb = 0;

	if (t->nb == 0)
		return 0;
	for (i = 0; i < DPN_NEIGH_TABLE_SIZE; i++) {
		struct dpn_neigh_entry *e = &t->e[i];

		/* Readers retry on every write: only write what changes. */
		if (!entry_due(e, now_ns))
			continue;
		write_begin(t);
		entry_tick(t, e, now_ns, send, arg, &nb);
		write_end(t);
	}
	return nb;
}

int
dpn_neigh_table_read(const struct dpn_neigh_table *t,
		     struct dpn_neigh_entry *out, unsigned int max)
{
	unsigned int tries, i, n;
	uint32_t s1, s2;

	/* The writer holds the lock for microseconds, rarely: retrying a
	 * few thousand times is plenty. */
	for (tries = 0; tries < 10000; tries++) {
		s1 = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		n = 0;
		for (i = 0; i < DPN_NEIGH_TABLE_SIZE && n < max; i++) {
			/* A torn copy is thrown away below. */
			if (t->e[i].state != DPN_NEIGH_FREE)
				memcpy(&out[n++], &t->e[i], sizeof(out[0]));
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return (int)n;
	}
	return -EBUSY;
}

const char *
dpn_neigh_state_name(enum dpn_neigh_state s)
{
	static const char *const names[] = {
		[DPN_NEIGH_FREE] = "NONE",
		[DPN_NEIGH_INCOMPLETE] = "INCOMPLETE",
		[DPN_NEIGH_REACHABLE] = "REACHABLE",
		[DPN_NEIGH_STALE] = "STALE",
		[DPN_NEIGH_PROBE] = "PROBE",
		[DPN_NEIGH_FAILED] = "FAILED",
	};

	return (unsigned int)s < sizeof(names) / sizeof(names[0]) ?
		names[s] : "?";
}

uint64_t
dpn_neigh_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * DPN_NEIGH_NS_PER_S + ts.tv_nsec;
}
