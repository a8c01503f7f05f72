/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the neighbour table: what an operator sees in
 * `show neighbors` and what the NTP client gets from dpn_dp_neigh_resolve
 * as time passes, answers come or do not, and the table fills up.
 */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "dpn_neigh.h"

#define S DPN_NEIGH_NS_PER_S
#define T0 (1000 * S)	/* an arbitrary start: the clock is monotonic */

static struct dpn_neigh_table tbl;

static const uint8_t A4[4] = { 198, 18, 0, 2 };
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t MAC1[6] = { 0x02, 0, 0, 0, 0, 1 };
static const uint8_t MAC2[6] = { 0x02, 0, 0, 0, 0, 2 };

/* What the timers asked to send. */
static unsigned int nb_mcast, nb_ucast;

static void
count_send(const struct dpn_neigh_entry *e, enum dpn_neigh_action send,
	   void *arg)
{
	(void)e;
	(void)arg;
	if (send == DPN_NEIGH_SEND_MULTICAST)
		nb_mcast++;
	else if (send == DPN_NEIGH_SEND_UNICAST)
		nb_ucast++;
}

static int
setup(void **state)
{
	(void)state;
	dpn_neigh_table_init(&tbl);
	nb_mcast = nb_ucast = 0;
	return 0;
}

static enum dpn_neigh_state
state_of(int family, const void *addr, uint16_t vlan)
{
	struct dpn_neigh_entry *e = dpn_neigh_table_find(&tbl, family, addr,
							 vlan);

	return e == NULL ? DPN_NEIGH_FREE : e->state;
}

static int
use(const void *addr, uint64_t now, uint8_t *mac, enum dpn_neigh_action *a)
{
	return dpn_neigh_table_use(&tbl, AF_INET, addr, 0, now, mac, a);
}

/* Unknown neighbour: one broadcast now, INCOMPLETE, -EAGAIN, no second
 * probe before a second has passed. */
static void
test_resolve_starts_incomplete(void **state)
{
	enum dpn_neigh_action a;
	uint8_t mac[6];

	assert_int_equal(use(A4, T0, mac, &a), -EAGAIN);
	assert_int_equal(a, DPN_NEIGH_SEND_MULTICAST);
	assert_int_equal(state_of(AF_INET, A4, 0), DPN_NEIGH_INCOMPLETE);
	assert_int_equal(use(A4, T0 + S / 2, mac, &a), -EAGAIN);
	assert_int_equal(a, DPN_NEIGH_SEND_NONE);
	assert_int_equal(dpn_neigh_table_tick(&tbl, T0 + S / 2, count_send,
					      NULL), 0);
	assert_int_equal(nb_mcast, 0);
}

/* No answer: probes at 0, 1, 2 s, FAILED at 3 s; FAILED answers at
 * once, sends nothing for 20 s, then starts over. */
static void
test_unanswered_fails_then_retries(void **state)
{
	struct dpn_neigh_entry *e;
	enum dpn_neigh_action a;
	uint8_t mac[6];
	uint64_t t;

	use(A4, T0, mac, &a);
	for (t = T0 + 10 * 1000 * 1000; t < T0 + 4 * S; t += 10 * 1000 * 1000)
		dpn_neigh_table_tick(&tbl, t, count_send, NULL);
	assert_int_equal(nb_mcast, DPN_NEIGH_MAX_PROBES - 1);
	e = dpn_neigh_table_find(&tbl, AF_INET, A4, 0);
	assert_non_null(e);
	assert_int_equal(e->state, DPN_NEIGH_FAILED);
	assert_int_equal(e->probes, DPN_NEIGH_MAX_PROBES);
	assert_true(e->updated_ns >= T0 + 3 * S && e->updated_ns < T0 + 4 * S);

	t = e->updated_ns;
	assert_int_equal(use(A4, t + 1, mac, &a), -EHOSTUNREACH);
	assert_int_equal(a, DPN_NEIGH_SEND_NONE);
	assert_int_equal(use(A4, t + DPN_NEIGH_FAILED_NS - 1, mac, &a),
			 -EHOSTUNREACH);
	assert_int_equal(use(A4, t + DPN_NEIGH_FAILED_NS, mac, &a), -EAGAIN);
	assert_int_equal(a, DPN_NEIGH_SEND_MULTICAST);
	assert_int_equal(e->state, DPN_NEIGH_INCOMPLETE);
	assert_int_equal(e->probes, 1);
}

/* An answer makes the MAC usable at once; 30 s later it is STALE,
 * still used, and its next use sends one unicast probe. */
static void
test_answer_reachable_then_stale(void **state)
{
	struct dpn_neigh_entry *e;
	enum dpn_neigh_action a;
	uint8_t mac[6];

	use(A4, T0, mac, &a);
	assert_true(dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, MAC1,
					  DPN_NEIGH_ANSWERED, T0 + S / 10));
	memset(mac, 0, sizeof(mac));
	assert_int_equal(use(A4, T0 + S, mac, &a), 0);
	assert_int_equal(a, DPN_NEIGH_SEND_NONE);
	assert_memory_equal(mac, MAC1, 6);
	e = dpn_neigh_table_find(&tbl, AF_INET, A4, 0);
	assert_int_equal(e->state, DPN_NEIGH_REACHABLE);
	assert_int_equal(e->probes, 0);
	assert_int_equal(e->confirmed_ns, T0 + S / 10);

	dpn_neigh_table_tick(&tbl, T0 + S / 10 + DPN_NEIGH_REACHABLE_NS - 1,
			     count_send, NULL);
	assert_int_equal(e->state, DPN_NEIGH_REACHABLE);
	dpn_neigh_table_tick(&tbl, T0 + S / 10 + DPN_NEIGH_REACHABLE_NS,
			     count_send, NULL);
	assert_int_equal(e->state, DPN_NEIGH_STALE);
	/* STALE alone sends nothing: only use does. */
	dpn_neigh_table_tick(&tbl, T0 + 60 * S, count_send, NULL);
	assert_int_equal(nb_mcast + nb_ucast, 0);

	memset(mac, 0, sizeof(mac));
	assert_int_equal(use(A4, T0 + 61 * S, mac, &a), 0);
	assert_memory_equal(mac, MAC1, 6);
	assert_int_equal(a, DPN_NEIGH_SEND_UNICAST);
	assert_int_equal(e->state, DPN_NEIGH_PROBE);
	/* Reprobing: still usable, no second probe from use. */
	assert_int_equal(use(A4, T0 + 61 * S + 1, mac, &a), 0);
	assert_int_equal(a, DPN_NEIGH_SEND_NONE);
	/* The answer to the probe. */
	dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, MAC1, DPN_NEIGH_ANSWERED,
			      T0 + 61 * S + S / 10);
	assert_int_equal(e->state, DPN_NEIGH_REACHABLE);
}

/* A STALE neighbour that stopped answering: 3 unicast probes, FAILED. */
static void
test_probe_unanswered_fails(void **state)
{
	struct dpn_neigh_entry *e;
	enum dpn_neigh_action a;
	uint8_t mac[6];
	unsigned int i;

	dpn_neigh_table_learn(&tbl, AF_INET6, A6, 0, MAC1, DPN_NEIGH_HEARD,
			      T0);
	e = dpn_neigh_table_find(&tbl, AF_INET6, A6, 0);
	assert_int_equal(e->state, DPN_NEIGH_STALE);
	assert_int_equal(dpn_neigh_table_use(&tbl, AF_INET6, A6, 0, T0 + S,
					     mac, &a), 0);
	assert_int_equal(a, DPN_NEIGH_SEND_UNICAST);
	for (i = 1; i <= 4; i++)
		dpn_neigh_table_tick(&tbl, T0 + S + i * S, count_send, NULL);
	assert_int_equal(nb_ucast, DPN_NEIGH_MAX_PROBES - 1);
	assert_int_equal(nb_mcast, 0);
	assert_int_equal(e->state, DPN_NEIGH_FAILED);
	assert_int_equal(dpn_neigh_table_use(&tbl, AF_INET6, A6, 0,
					     T0 + 6 * S, mac, &a),
			 -EHOSTUNREACH);
}

/* Requests and solicitations create entries; answers nobody asked for
 * do not; the same MAC heard again keeps REACHABLE; a new MAC is
 * taken but STALE. */
static void
test_learning_rules(void **state)
{
	struct dpn_neigh_entry *e;

	assert_false(dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, MAC1,
					   DPN_NEIGH_ANSWERED, T0));
	assert_false(dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, MAC1,
					   DPN_NEIGH_ANNOUNCED, T0));
	assert_int_equal(tbl.nb, 0);

	assert_true(dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, MAC1,
					  DPN_NEIGH_HEARD, T0));
	e = dpn_neigh_table_find(&tbl, AF_INET, A4, 0);
	assert_int_equal(e->state, DPN_NEIGH_STALE);
	assert_memory_equal(e->mac, MAC1, 6);
	assert_int_equal(e->confirmed_ns, T0);

	dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, MAC1, DPN_NEIGH_ANSWERED,
			      T0 + S);
	assert_int_equal(e->state, DPN_NEIGH_REACHABLE);
	assert_false(dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, MAC1,
					   DPN_NEIGH_HEARD, T0 + 2 * S));
	assert_int_equal(e->state, DPN_NEIGH_REACHABLE);

	/* The neighbour moved (new NIC, failover). */
	assert_true(dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, MAC2,
					  DPN_NEIGH_ANNOUNCED, T0 + 3 * S));
	assert_int_equal(e->state, DPN_NEIGH_STALE);
	assert_memory_equal(e->mac, MAC2, 6);

	/* A FAILED neighbour heard from again is usable again. */
	e->state = DPN_NEIGH_FAILED;
	assert_true(dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, MAC2,
					  DPN_NEIGH_HEARD, T0 + 4 * S));
	assert_int_equal(e->state, DPN_NEIGH_STALE);
	assert_int_equal(tbl.nb, 1);
}

/* One address on two VLANs, and an IPv4 address that starts like an
 * IPv6 one, are different neighbours. */
static void
test_keys_vlan_and_family(void **state)
{
	uint8_t v6[16] = { 198, 18, 0, 2 };

	dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, MAC1, DPN_NEIGH_HEARD, T0);
	dpn_neigh_table_learn(&tbl, AF_INET, A4, 7, MAC2, DPN_NEIGH_HEARD, T0);
	dpn_neigh_table_learn(&tbl, AF_INET6, v6, 0, MAC2, DPN_NEIGH_HEARD,
			      T0);
	assert_int_equal(tbl.nb, 3);
	assert_memory_equal(dpn_neigh_table_find(&tbl, AF_INET, A4, 0)->mac,
			    MAC1, 6);
	assert_memory_equal(dpn_neigh_table_find(&tbl, AF_INET, A4, 7)->mac,
			    MAC2, 6);
	assert_null(dpn_neigh_table_find(&tbl, AF_INET, A4, 8));
	assert_null(dpn_neigh_table_find(&tbl, AF_INET6, A6, 0));
}

static void
addr_n(uint8_t *a, unsigned int n)
{
	a[0] = 198;
	a[1] = 19;
	a[2] = n >> 8;
	a[3] = n & 0xff;
}

/* A full table evicts the least recently updated entry that is not
 * waiting for an answer; full of pending entries, it refuses. */
static void
test_bounded_eviction(void **state)
{
	enum dpn_neigh_action a;
	uint8_t addr[4], mac[6];
	unsigned int i;

	for (i = 0; i < DPN_NEIGH_TABLE_SIZE; i++) {
		addr_n(addr, i);
		assert_true(dpn_neigh_table_learn(&tbl, AF_INET, addr, 0, MAC1,
						  DPN_NEIGH_HEARD, T0 + i));
	}
	assert_int_equal(tbl.nb, DPN_NEIGH_TABLE_SIZE);
	/* Entry 0 is the oldest; refresh it so that 1 is. */
	addr_n(addr, 0);
	dpn_neigh_table_learn(&tbl, AF_INET, addr, 0, MAC2, DPN_NEIGH_HEARD,
			      T0 + 1000);
	addr_n(addr, 1000);
	assert_int_equal(use(addr, T0 + 2000, mac, &a), -EAGAIN);
	assert_int_equal(tbl.nb, DPN_NEIGH_TABLE_SIZE);
	addr_n(addr, 1);
	assert_null(dpn_neigh_table_find(&tbl, AF_INET, addr, 0));
	addr_n(addr, 0);
	assert_non_null(dpn_neigh_table_find(&tbl, AF_INET, addr, 0));

	/* Now all pending: a flood of new addresses cannot cancel them. */
	dpn_neigh_table_init(&tbl);
	for (i = 0; i < DPN_NEIGH_TABLE_SIZE; i++) {
		addr_n(addr, i);
		assert_int_equal(use(addr, T0, mac, &a), -EAGAIN);
	}
	addr_n(addr, 5000);
	assert_int_equal(use(addr, T0, mac, &a), -ENOSPC);
	assert_int_equal(a, DPN_NEIGH_SEND_NONE);
	assert_false(dpn_neigh_table_learn(&tbl, AF_INET, addr, 0, MAC1,
					   DPN_NEIGH_HEARD, T0));
	assert_int_equal(tbl.nb, DPN_NEIGH_TABLE_SIZE);
}

/* STALE and FAILED entries nobody used for 10 minutes go away. */
static void
test_gc(void **state)
{
	enum dpn_neigh_action a;
	uint8_t mac[6];

	dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, MAC1, DPN_NEIGH_HEARD, T0);
	dpn_neigh_table_learn(&tbl, AF_INET6, A6, 0, MAC1, DPN_NEIGH_HEARD,
			      T0);
	/* Used (and reconfirmed) later: kept longer. */
	dpn_neigh_table_use(&tbl, AF_INET6, A6, 0, T0 + 300 * S, mac, &a);
	dpn_neigh_table_learn(&tbl, AF_INET6, A6, 0, MAC1, DPN_NEIGH_ANSWERED,
			      T0 + 300 * S);
	dpn_neigh_table_tick(&tbl, T0 + DPN_NEIGH_GC_NS - 1, count_send, NULL);
	assert_int_equal(tbl.nb, 2);
	dpn_neigh_table_tick(&tbl, T0 + DPN_NEIGH_GC_NS, count_send, NULL);
	assert_int_equal(tbl.nb, 1);
	assert_null(dpn_neigh_table_find(&tbl, AF_INET, A4, 0));
	assert_int_equal(state_of(AF_INET6, A6, 0), DPN_NEIGH_STALE);
	/* Went STALE at the previous tick: 10 minutes from then. */
	dpn_neigh_table_tick(&tbl, T0 + 2 * DPN_NEIGH_GC_NS, count_send, NULL);
	assert_int_equal(tbl.nb, 0);
}

/* A link that went down: every entry forgotten, and the next use
 * resolves again from nothing (a broadcast, no stale MAC used). */
static void
test_flush(void **state)
{
	enum dpn_neigh_action a;
	uint8_t mac[6];
	uint32_t seq;

	dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, MAC1, DPN_NEIGH_HEARD, T0);
	dpn_neigh_table_learn(&tbl, AF_INET6, A6, 0, MAC1, DPN_NEIGH_HEARD,
			      T0);
	seq = tbl.seq;
	assert_int_equal(dpn_neigh_table_flush(&tbl), 2);
	assert_int_equal(tbl.nb, 0);
	/* Readers saw a write: the sequence moved by two, even again. */
	assert_int_equal(tbl.seq, seq + 2);
	assert_null(dpn_neigh_table_find(&tbl, AF_INET, A4, 0));
	assert_null(dpn_neigh_table_find(&tbl, AF_INET6, A6, 0));
	assert_int_equal(dpn_neigh_table_use(&tbl, AF_INET, A4, 0, T0 + S, mac,
					     &a), -EAGAIN);
	assert_int_equal(a, DPN_NEIGH_SEND_MULTICAST);
	assert_int_equal(dpn_neigh_table_flush(&tbl), 1);
}

/* The timers may run with a time read before a resolve of the same
 * pass: a FAILED entry just used must stay (it once vanished at once). */
static void
test_gc_time_read_before_use(void **state)
{
	struct dpn_neigh_entry *e;
	enum dpn_neigh_action a;
	uint8_t mac[6];
	unsigned int i;

	use(A4, T0, mac, &a);
	for (i = 1; i <= 3; i++)
		dpn_neigh_table_tick(&tbl, T0 + i * S, count_send, NULL);
	e = dpn_neigh_table_find(&tbl, AF_INET, A4, 0);
	assert_int_equal(e->state, DPN_NEIGH_FAILED);
	assert_int_equal(use(A4, T0 + 5 * S, mac, &a), -EHOSTUNREACH);
	dpn_neigh_table_tick(&tbl, T0 + 5 * S - 1000, count_send, NULL);
	assert_int_equal(state_of(AF_INET, A4, 0), DPN_NEIGH_FAILED);
	assert_int_equal(tbl.nb, 1);
}

/* What show neighbors copies: the entries in use, within max. */
static void
test_read_copy(void **state)
{
	struct dpn_neigh_entry out[DPN_NEIGH_TABLE_SIZE];

	assert_int_equal(dpn_neigh_table_read(&tbl, out, 4), 0);
	dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, MAC1, DPN_NEIGH_HEARD, T0);
	dpn_neigh_table_learn(&tbl, AF_INET6, A6, 3, MAC2, DPN_NEIGH_HEARD,
			      T0);
	assert_int_equal(dpn_neigh_table_read(&tbl, out, 4), 2);
	assert_int_equal(out[0].family, AF_INET);
	assert_int_equal(out[1].vlan, 3);
	assert_memory_equal(out[1].mac, MAC2, 6);
	assert_int_equal(dpn_neigh_table_read(&tbl, out, 1), 1);
	assert_int_equal(tbl.seq % 2, 0);
	assert_string_equal(dpn_neigh_state_name(DPN_NEIGH_REACHABLE),
			    "REACHABLE");
	assert_string_equal(dpn_neigh_state_name(DPN_NEIGH_FAILED), "FAILED");
	assert_string_equal(dpn_neigh_state_name(99), "?");
}

/* A reader in another thread never sees a half-written entry: the
 * writer keeps every byte of an entry's MAC equal to one counter. */
static volatile int writer_stop;
static volatile unsigned int writes;

static void *
writer(void *arg)
{
	unsigned int i;
	uint8_t mac[6];

	(void)arg;
	for (i = 0; i < 100000000 &&
	     !__atomic_load_n(&writer_stop, __ATOMIC_ACQUIRE); i++) {
		/* Even first byte: unicast. */
		memset(mac, 2 * (i % 127) + 2, sizeof(mac));
		dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, mac,
				      DPN_NEIGH_ANNOUNCED, T0 + i);
		__atomic_store_n(&writes, i + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void
test_read_concurrent(void **state)
{
	static const uint8_t first[6] = { 2, 2, 2, 2, 2, 2 };
	struct dpn_neigh_entry out[4];
	unsigned int reads = 0, tries, j;
	pthread_t th;
	int n;

	dpn_neigh_table_learn(&tbl, AF_INET, A4, 0, first, DPN_NEIGH_HEARD,
			      T0);
	writer_stop = 0;
	writes = 0;
	assert_int_equal(pthread_create(&th, NULL, writer, NULL), 0);
	/* Read while it writes: wait (a bounded while) for it to start. */
	for (tries = 0; tries < 1000000 &&
	     __atomic_load_n(&writes, __ATOMIC_RELAXED) == 0; tries++)
		sched_yield();
	for (tries = 0; tries < 10000000 && reads < 20000; tries++) {
		n = dpn_neigh_table_read(&tbl, out, 4);
		if (n == -EBUSY)
			continue;
		assert_int_equal(n, 1);
		for (j = 1; j < 6; j++)
			assert_int_equal(out[0].mac[j], out[0].mac[0]);
		reads++;
	}
	__atomic_store_n(&writer_stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_int_equal(reads, 20000);
	assert_true(writes > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define TEST(f) cmocka_unit_test_setup(f, setup)
		TEST(test_resolve_starts_incomplete),
		TEST(test_unanswered_fails_then_retries),
		TEST(test_answer_reachable_then_stale),
		TEST(test_probe_unanswered_fails),
		TEST(test_learning_rules),
		TEST(test_keys_vlan_and_family),
		TEST(test_bounded_eviction),
		TEST(test_gc),
		TEST(test_flush),
		TEST(test_gc_time_read_before_use),
		TEST(test_read_copy),
		TEST(test_read_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
